"""The number of ranges per numeric criterion: calibrate.learn.band_counts and choose_bins."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from calibrate import LeadBinner, LeadScoreModel
from calibrate.learn.band_counts import choose_range_counts


def leads(n, seed):
    """A step at 10 visits, a straight line in pages, and a column of noise."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "visits": rng.integers(0, 40, n).astype(float),
            "pages": rng.integers(0, 40, n).astype(float),
            "noise": rng.normal(size=n),
        }
    )
    X.loc[rng.random(n) < 0.05, "pages"] = np.nan
    eta = -2.4 + 1.2 * (X["visits"] >= 10) + 0.06 * X["pages"].fillna(10)
    return X, rng.random(n) < 1 / (1 + np.exp(-eta.to_numpy()))


@pytest.mark.parametrize("k", [2, 3, 5, 7])
def test_fewer_ranges_are_the_strongest_of_more(k):
    X, y = leads(8000, 0)
    fine = LeadBinner(max_bins=10).fit(X, y)
    coarse, lookup = fine.with_range_counts(dict.fromkeys(X.columns, k))
    direct = LeadBinner(max_bins=k).fit(X, y)
    assert [c.bands for c in coarse.criteria_] == [c.bands for c in direct.criteria_]
    pd.testing.assert_frame_equal(coarse.band_stats_, direct.band_stats_)
    # The lookup maps the fine codes to the coarse ones.
    codes, expected = fine.transform(X), direct.transform(X)
    for name, table in lookup.items():
        np.testing.assert_array_equal(table[codes[name].to_numpy()], expected[name].to_numpy())
    # The fitted binner itself is left as it was.
    assert fine.criteria_ == LeadBinner(max_bins=10).fit(X, y).criteria_


def test_a_count_above_what_the_tree_split_keeps_the_criterion():
    X, y = leads(3000, 1)
    binner = LeadBinner(max_bins=3).fit(X, y)
    same, lookup = binner.with_range_counts({"visits": 8})
    assert lookup == {} and same.criteria_ == binner.criteria_


def cv_counts(X, y, seed=0):
    binner = LeadBinner(max_bins=10)
    codes = binner.fit_transform(X, y).to_numpy()
    folds = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(X, y))
    start = np.log(y.mean() / (1 - y.mean()))
    fits = [(np.zeros(binner.band_offsets()[-1]), start)] * len(folds)
    w = np.ones(len(y))
    return choose_range_counts(binner, X, codes, y.astype(float), w, fits, folds, C=1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_step_gets_two_ranges_and_a_slope_many(seed):
    X, y = leads(20000, seed)
    counts = cv_counts(X[["visits", "pages"]], y)
    # Alone, the visits step is two ranges; the slope in pages needs many.
    assert counts["visits"] <= 3
    assert counts["pages"] >= 6


def test_the_model_cuts_every_numeric_criterion_into_its_chosen_ranges():
    X, y = leads(20000, 3)
    Xt, yt = leads(20000, 4)
    fixed = LeadScoreModel(binner=LeadBinner(max_bins=5), random_state=0).fit(X, y)
    chosen = LeadScoreModel(binner=LeadBinner(max_bins=10), choose_bins=True, random_state=0)
    codes = chosen.fit_encode(X, y)
    assert fixed.range_counts_ == {}
    counts = chosen.range_counts_
    assert set(counts) == {"visits", "pages", "noise"}
    ranges = {c.name: sum(b.kind == "range" for b in c.bands) for c in chosen.binner_.criteria_}
    assert ranges == counts
    assert counts["visits"] <= 3 and counts["pages"] > 5 and counts["noise"] <= 3
    # The codes fitted on are those new leads are encoded with.
    np.testing.assert_array_equal(codes, chosen.encode(X))
    assert len(chosen.coef_) == chosen.band_offsets()[-1] == len(chosen.band_coef_)
    auc = {m: roc_auc_score(yt, m.decision_function(Xt)) for m in (fixed, chosen)}
    assert auc[chosen] > auc[fixed]
