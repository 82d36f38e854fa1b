import numpy as np
import pandas as pd
import pytest

from calibrate import LeadBinner, LeadScoreModel, split_holdout
from calibrate.errors import DataError, ParameterError
from calibrate.learn.model import evaluate_probabilities


@pytest.fixture(scope="module")
def data(leads_5k):
    X = leads_5k[["seniority", "lead_source", "webinars_attended", "company_size"]]
    return X, leads_5k["converted"].to_numpy()


@pytest.fixture(scope="module")
def model(data):
    return LeadScoreModel(random_state=0).fit(*data)


def test_fit_learns_one_weight_per_band(model, data):
    names = model.binner_.get_feature_names_out()
    assert model.coef_.shape == (len(names),)
    assert list(model.band_coef_.columns[:3]) == ["criterion", "group", "band"]
    cv = model.cv_log_loss_
    assert model.C_ in set(cv["C"])
    # The weakest penalty whose log loss is within 0.5% of the best.
    near = cv[cv["log_loss"] <= cv["log_loss"].min() * 1.005]
    assert model.C_ == near["C"].max()
    assert model.C_ >= cv.loc[cv["log_loss"].idxmin(), "C"]


def test_probabilities_match_the_log_odds(model, data):
    X, _ = data
    eta = model.decision_function(X)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-eta)))
    np.testing.assert_array_equal(model.predict(X), eta > 0)


def test_empty_bands_get_the_criterion_average(model):
    table = model.band_coef_
    empty = table[table["n_leads"] == 0]
    assert not empty.empty  # e.g. the "Other" band of seniority
    for criterion, rows in empty.groupby("criterion"):
        seen = table[(table["criterion"] == criterion) & (table["n_leads"] > 0)]
        expected = np.average(seen["coef"], weights=seen["n_leads"])
        np.testing.assert_allclose(rows["coef"], expected)


def test_weight_two_equals_a_duplicated_row(data):
    X, y = data[0].iloc[:1500], data[1][:1500]
    w = np.ones(len(y))
    w[:200] = 2
    kw = {"Cs": 1, "binner": LeadBinner(max_bins=3)}
    weighted = LeadScoreModel(**kw).fit(X, y, sample_weight=w)
    duplicated = LeadScoreModel(**kw).fit(
        pd.concat([X, X.iloc[:200]]), np.concatenate([y, y[:200]])
    )
    np.testing.assert_allclose(weighted.coef_, duplicated.coef_, atol=1e-6)


def test_relabelled_target_changes_nothing(data):
    X, y = data[0].iloc[:1500], data[1][:1500]
    a = LeadScoreModel(Cs=3, random_state=0).fit(X, y)
    b = LeadScoreModel(Cs=3, random_state=0).fit(X, y.astype(int))
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_bad_parameter_is_named(data):
    with pytest.raises(
        ParameterError, match="'cv' parameter of LeadScoreModel must be an int >= 2"
    ):
        LeadScoreModel(cv=1).fit(*data)


def test_split_is_time_ordered_when_dates_are_given():
    y = np.array([0, 1] * 50)
    dates = pd.date_range("2024-01-01", periods=100)[::-1]  # newest first
    train, holdout = split_holdout(y, fraction=0.2, dates=dates)
    assert holdout.tolist() == list(range(20))
    assert len(train) == 80 and set(train).isdisjoint(holdout)


def test_random_split_is_stratified_and_seeded():
    y = np.array([1] * 20 + [0] * 180)
    train, holdout = split_holdout(y, fraction=0.3, random_state=1)
    assert len(holdout) == 60 and y[holdout].sum() == 6
    again = split_holdout(y, fraction=0.3, random_state=1)[1]
    other = split_holdout(y, fraction=0.3, random_state=2)[1]
    np.testing.assert_array_equal(holdout, again)
    assert not np.array_equal(holdout, other)


@pytest.mark.parametrize(
    "y, kwargs, message",
    [
        (np.array([0, 1] * 50), {"fraction": 1.5}, "between 0 and 1"),
        (np.array([0, 1, 0]), {"fraction": 0.3}, "too few"),
        (
            np.array([0] * 90 + [1] * 10),
            {"fraction": 0.1, "dates": np.arange(100)},
            "training part .* only lost",
        ),
    ],
)
def test_impossible_splits_are_explained(y, kwargs, message):
    with pytest.raises(DataError, match=message):
        split_holdout(y, **kwargs)


def test_evaluate_probabilities_by_hand():
    # Pairs (won, lost): (0.35, 0.1) right, (0.35, 0.4) wrong, (0.8, *) right: AUC 3/4.
    out = evaluate_probabilities([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert out["auc"] == 0.75
    assert out["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    assert out["win_rate"] == 0.5


# --------------------------------------------------------------------------- monotone

SENIORITY = ["Student", "Staff", "Manager", "Director", "VP", "C-level"]


@pytest.fixture(scope="module")
def monotone_model(leads_5k):
    X = leads_5k[["seniority", "company_size", "page_views", "time_on_site_min"]]
    model = LeadScoreModel(
        monotone={"seniority": SENIORITY, "company_size": "decreasing", "page_views": "auto"},
        random_state=0,
    )
    return model.fit(X, leads_5k["converted"])


def _ordered_coef(model, name):
    table = model.band_coef_[model.band_coef_["criterion"] == name]
    kinds = [b.kind for c in model.binner_.criteria_ if c.name == name for b in c.bands]
    return table["coef"].to_numpy()[[k in ("range", "levels") for k in kinds]]


def test_monotone_criteria_follow_their_order(monotone_model):
    assert monotone_model.monotone_ == {
        "seniority": "increasing",
        "company_size": "decreasing",
        "page_views": "increasing",
    }
    assert (np.diff(_ordered_coef(monotone_model, "seniority")) >= 0).all()
    assert (np.diff(_ordered_coef(monotone_model, "company_size")) <= 0).all()
    assert (np.diff(_ordered_coef(monotone_model, "page_views")) >= 0).all()


def test_ordered_levels_keep_the_declared_order(monotone_model):
    seniority = next(c for c in monotone_model.binner_.criteria_ if c.name == "seniority")
    levels = [v for b in seniority.bands if b.kind == "levels" for v in b.values]
    assert levels == SENIORITY


def test_a_forced_wrong_direction_merges_bands(monotone_model):
    # Company size helps a little in truth: forced decreasing, its bands pool.
    size = next(c for c in monotone_model.binner_.criteria_ if c.name == "company_size")
    assert len([b for b in size.bands if b.kind == "range"]) == 1
    stats = monotone_model.band_coef_
    assert stats.groupby("criterion")["n_leads"].sum().eq(5000).all()


def test_unconstrained_criteria_are_left_alone(monotone_model):
    assert "time_on_site_min" not in monotone_model.monotone_


def test_bad_monotone_rule_is_named(leads_5k):
    model = LeadScoreModel(monotone={"page_views": "upwards"}, Cs=1)
    with pytest.raises(DataError, match="monotone rule for 'page_views' must be increasing"):
        model.fit(leads_5k[["page_views"]], leads_5k["converted"])


def test_ordered_levels_must_occur(leads_5k):
    model = LeadScoreModel(monotone={"seniority": ["Staff", "Astronaut"]}, Cs=1)
    with pytest.raises(DataError, match=r"ordered levels \['Astronaut'\] never occur"):
        model.fit(leads_5k[["seniority"]], leads_5k["converted"])
    binner = LeadBinner(level_order={"seniority": ["Staff", "Astronaut"]})
    with pytest.raises(DataError, match=r"ordered levels \['Astronaut'\] never occur"):
        binner.fit(leads_5k[["seniority"]], leads_5k["converted"])


def test_penalty_path_stops_past_the_tolerance(model):
    # Evaluated from the weakest penalty down; the strong penalties it did not
    # need are NaN, and only at the strong end.
    losses = model.cv_log_loss_["log_loss"].to_numpy()
    evaluated = ~np.isnan(losses)
    assert evaluated[-1]
    assert np.all(evaluated[np.argmax(evaluated) :])
    if not evaluated.all():
        first = np.argmax(evaluated)
        assert losses[first] > np.nanmin(losses) * 1.005


def test_penalty_from_a_sample_weights_from_every_lead(data):
    X, y = data
    small = LeadScoreModel(random_state=0, max_cv_leads=800).fit(X, y)
    assert small.C_ in set(small.cv_log_loss_["C"])
    # The weights are the optimum on every lead at the chosen penalty.
    codes = small.binner_.transform(X).to_numpy()
    fit = small._solve(codes, y, np.ones(len(y)), small.C_)
    np.testing.assert_allclose(small.coef_, small._fill_empty_bands(fit.coef), atol=1e-6)
    assert small.binner_.band_stats_["n_leads"].sum() == len(X) * len(small.binner_.criteria_)


def test_fit_codes_are_the_pooled_bands_codes(leads_5k):
    # The points sheet uses the codes fit returns instead of encoding again:
    # after pooling they must be what the fitted binner gives.
    X = leads_5k[["seniority", "company_size", "page_views", "time_on_site_min"]]
    model = LeadScoreModel(
        monotone={"company_size": "decreasing", "page_views": "auto"}, random_state=0
    )
    codes = model.fit_encode(X, leads_5k["converted"])
    np.testing.assert_array_equal(codes, model.binner_.transform(X).to_numpy())


# --------------------------------------------------------------------------- code level API
def test_decision_from_codes_is_the_decision_function(model, data):
    X, _ = data
    codes = model.encode(X)
    np.testing.assert_array_equal(model.decision_from_codes(codes), model.decision_function(X))


def test_fit_codes_refits_the_weights_and_leaves_the_model_alone(model, data):
    X, y = data
    before = (model.coef_.copy(), model.intercept_)
    coef, intercept = model.fit_codes(model.encode(X), y)
    # The same leads and weights: the fitted optimum again (empty bands aside).
    seen = model.band_coef_["n_leads"].to_numpy() > 0
    np.testing.assert_allclose(coef[seen], model.coef_[seen], atol=1e-6)
    assert intercept == pytest.approx(model.intercept_, abs=1e-6)
    np.testing.assert_array_equal(model.coef_, before[0])
    assert model.intercept_ == before[1]
    doubled, _ = model.fit_codes(model.encode(X), y, np.where(y, 2.0, 1.0))
    assert not np.allclose(doubled[seen], model.coef_[seen])


def test_ordered_bands_are_the_ranges_or_levels(model):
    for criterion in model.binner_.criteria_:
        kinds = [criterion.bands[i].kind for i in model.ordered_bands(criterion.name)]
        assert set(kinds) <= ({"range"} if criterion.kind == "numeric" else {"levels"})
