import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from calibrate import LeadBinner
from calibrate.errors import DataError, ParameterError

RNG = np.random.default_rng(0)
N = 2000
X = pd.DataFrame(
    {
        "clicks": RNG.poisson(2.0, N).astype(float),
        "size": np.exp(RNG.normal(5, 2, N)).round(1),
        "title": RNG.choice(["VP", "Director", "Manager", "Staff"], N, p=[0.1, 0.2, 0.3, 0.4]),
    }
)
X.loc[RNG.choice(N, 100, replace=False), "size"] = np.nan
X.loc[:4, "title"] = "Astronaut"  # a rare level, five leads
Y = (RNG.random(N) < 0.05 + 0.05 * X["clicks"].clip(0, 6) / 6 * 4).astype(int)
TYPES = {"clicks": "numeric", "size": "numeric", "title": "categorical"}


@pytest.fixture(scope="module")
def binner():
    return LeadBinner(column_types=TYPES).fit(X, Y)


def test_hand_worked_bands():
    # Clicks 0-1 never win, 4-5 always do: one split, between 1 and 4.
    X_small = pd.DataFrame({"clicks": [0, 1, 0, 1, 4, 5, 4, 5] * 10})
    y_small = [0, 0, 0, 0, 1, 1, 1, 1] * 10
    binner = LeadBinner(min_bin_share=0.1).fit(X_small, y_small)
    bands = binner.criteria_[0].bands
    assert [b.label for b in bands] == ["0-1", "2+", "Missing"]
    assert bands[1].lower == 2.0
    assert binner.transform(pd.DataFrame({"clicks": [1, 2, np.nan, 100]}))["clicks"].tolist() == [
        0,
        1,
        2,
        1,
    ]


def test_every_criterion_has_a_missing_band(binner):
    for criterion in binner.criteria_:
        assert [b.kind for b in criterion.bands].count("missing") == 1


def test_numeric_edges_keep_the_tree_partition_and_respect_max_bins(binner):
    size = binner.criteria_[1]
    ranges = [b for b in size.bands if b.kind == "range"]
    assert 2 <= len(ranges) <= 5
    assert ranges[0].lower is None and ranges[-1].upper is None
    for left, right in zip(ranges, ranges[1:], strict=False):
        assert left.upper == right.lower


def test_rare_levels_are_grouped_as_other(binner):
    title = binner.criteria_[2]
    labels = [b.label for b in title.bands]
    assert "Astronaut" not in labels
    assert labels[-2:] == ["Other", "Missing"]
    codes = binner.transform(
        pd.DataFrame({"clicks": [1.0], "size": [10.0], "title": ["Astronaut"]})
    )
    assert codes["title"].iloc[0] == labels.index("Other")


def test_unseen_level_goes_to_other(binner):
    codes = binner.transform(X.head(1).assign(title="Chief Dreamer"))
    assert binner.criteria_[2].bands[codes["title"].iloc[0]].kind == "other"


def test_band_stats_count_every_lead_once(binner):
    stats = binner.band_stats_
    per_criterion = stats.groupby("criterion", sort=False)["n_leads"].sum()
    assert (per_criterion == N).all()
    assert stats["wins"].sum() == pytest.approx(Y.sum() * 3)


def test_one_hot_has_one_band_per_criterion(binner):
    design = binner.one_hot(X)
    assert design.shape == (N, len(binner.get_feature_names_out()))
    np.testing.assert_array_equal(np.asarray(design.sum(axis=1)).ravel(), 3)


def test_weight_two_equals_a_duplicated_row():
    Xs, ys = X.iloc[:600], Y[:600]
    w = np.ones(600)
    w[:50] = 2
    weighted = LeadBinner(column_types=TYPES).fit(Xs, ys, sample_weight=w)
    duplicated = LeadBinner(column_types=TYPES).fit(
        pd.concat([Xs, Xs.iloc[:50]]), np.concatenate([ys, ys[:50]])
    )
    assert weighted.criteria_ == duplicated.criteria_
    pd.testing.assert_frame_equal(weighted.band_stats_, duplicated.band_stats_)


def test_types_are_inferred_when_not_given():
    binner = LeadBinner().fit(X, Y)
    assert [c.kind for c in binner.criteria_] == ["numeric", "numeric", "categorical"]


def test_booleans_get_yes_and_no_bands():
    Xb = pd.DataFrame({"demo": [True, False] * 50})
    binner = LeadBinner().fit(Xb, [1, 0] * 50)
    assert [b.label for b in binner.criteria_[0].bands] == ["Yes", "No", "Missing"]


def test_get_params_and_clone_round_trip():
    binner = LeadBinner(max_bins=3, column_types=TYPES)
    assert clone(binner).get_params() == binner.get_params()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"max_bins": 1}, r"'max_bins' parameter of LeadBinner must be an int in \[2, 50\]"),
        ({"min_bin_share": 0}, r"'min_bin_share' parameter .* Got 0 instead"),
        ({"min_level_count": 0}, "'min_level_count'"),
        ({"column_types": ["x"]}, "'column_types' parameter of LeadBinner must be a dict"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ParameterError, match=message):
        LeadBinner(**params).fit(X, Y)


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError, match="not fitted"):
        LeadBinner().transform(X)


def test_transform_names_missing_columns(binner):
    with pytest.raises(DataError, match=r"1 criterion column\(s\) missing from the data: 'size'"):
        binner.transform(X.drop(columns="size"))


@pytest.mark.parametrize(
    "y, message",
    [
        (np.zeros(N), "single class"),
        (np.full(N, 2), "boolean or 0/1"),
        (np.zeros(N - 1), "one outcome per lead"),
    ],
)
def test_bad_targets_are_refused(y, message):
    with pytest.raises(DataError, match=message):
        LeadBinner().fit(X, y)


def test_merge_bands_joins_ranges_and_pools_levels(binner):
    fitted = clone(binner).fit(X, Y)
    before = [b.label for b in fitted.criteria_[0].bands]
    stats_before = fitted.band_stats_.copy()
    merged = fitted.merge_bands("clicks", 0)
    # A new binner: the one merged from is left as it was.
    assert merged is not fitted
    assert [b.label for b in fitted.criteria_[0].bands] == before
    pd.testing.assert_frame_equal(fitted.band_stats_, stats_before)
    clicks = merged.criteria_[0]
    assert len(clicks.bands) == len(before) - 1
    assert (
        clicks.bands[0].lower is None
        and clicks.bands[0].upper == binner.criteria_[0].bands[1].upper
    )
    merged = merged.merge_bands("title", 0)
    title = merged.criteria_[2]
    assert (
        title.bands[0].values
        == binner.criteria_[2].bands[0].values + binner.criteria_[2].bands[1].values
    )
    stats = merged.band_stats_.groupby("criterion", sort=False)["n_leads"].sum()
    assert (stats == N).all()
    codes = merged.transform(X)
    assert codes["clicks"].max() == len(clicks.bands) - 2  # ranges only, missing unused


def test_monotone_is_the_models_not_the_binners():
    # The order points follow is the model's parameter (LeadScoreModel(monotone=...)).
    with pytest.raises(TypeError, match="monotone"):
        LeadBinner(monotone={"clicks": "increasing"})
    with pytest.raises(ValueError, match="Invalid parameter 'monotone' for estimator LeadBinner"):
        LeadBinner().set_params(monotone={"clicks": "increasing"})
