"""Tests for calibrate.decide.evaluation: the hold-out measured once, and the sheet's warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.decide.evaluation import (
    EDGE_SHARE,
    dominant_column_warnings,
    hold_out,
    leakage_warnings,
    no_signal_warning,
    scale_edge_warnings,
    sheet_warnings,
    signal_of,
)
from calibrate.learn.model import LeadScoreModel
from calibrate.learn.points import Scorecard


def _leads(n=3000, seed=0, leak=0.0, dominant=0.0):
    """Two honest columns, plus a column that leaks (``leak``) or dominates (``dominant``)."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(4, 1, n)
    role = rng.choice(["VP", "Manager", "Analyst"], n)
    strong = rng.normal(size=n)
    logit = -1 + 0.5 * np.log(size) / 2 + (role == "VP") * 0.8 + dominant * strong
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    X = pd.DataFrame({"size": size, "role": role, "signal": strong})
    if leak:
        X["call_minutes"] = np.where(y, rng.normal(12, 2, n), rng.normal(3, 2, n))
    return X, y


def _fit(X, y, rows):
    card = Scorecard(model=LeadScoreModel(Cs=3, random_state=0)).fit(X.iloc[rows], y[rows])
    return card


@pytest.fixture(scope="module")
def honest():
    X, y = _leads()
    train, held = np.arange(2000), np.arange(2000, 3000)
    return X, y, train, held, _fit(X, y, train)


def test_hold_out_scores_the_named_rows_once(honest):
    X, y, _, rows, card = honest
    held = hold_out(card, X, y, rows)
    pd.testing.assert_frame_equal(held.X, X.iloc[rows])
    np.testing.assert_array_equal(held.y, y[rows])
    np.testing.assert_array_equal(held.scores, card.predict_score(X.iloc[rows]))
    np.testing.assert_allclose(held.proba, card.predict_proba(X.iloc[rows])[:, 1])
    auc, low, high = held.auc_interval
    assert 0.5 < low < auc < high < 1
    assert held.signal == "usable"


@pytest.mark.parametrize(
    ("interval", "signal"),
    [((0.7, 0.65, 0.75), "usable"), ((0.55, 0.5, 0.6), "none"), ((0.52, 0.45, 0.6), "none")],
)
def test_signal_is_usable_only_when_the_interval_lies_above_one_half(interval, signal):
    assert signal_of(interval) == signal


def test_no_signal_warning_quotes_the_interval():
    text = no_signal_warning(0.5123, 0.4711, 0.5534)
    assert "no usable signal" in text
    assert "AUC 0.512, 95% interval 0.471 to 0.553" in text


def test_an_honest_sheet_gets_no_warning(honest):
    X, y, train, rows, card = honest
    held = hold_out(card, X, y, rows)
    auc_model = held.auc_interval[0]
    assert sheet_warnings(card, held, X.iloc[train], y[train], auc_model, seed=0) == []


def test_a_column_that_separates_the_outcomes_is_named_as_a_leak():
    X, y = _leads(leak=1.0)
    train, rows = np.arange(2000), np.arange(2000, 3000)
    card = _fit(X, y, train)
    found = leakage_warnings(card, X.iloc[rows], y[rows])
    assert len(found) == 1
    assert found[0].startswith("column 'call_minutes' alone ranks hold-out leads with AUC 0.9")
    held = hold_out(card, X, y, rows)
    # A leak found this way is not named a second time as a dominant column.
    assert sheet_warnings(card, held, X.iloc[train], y[train], held.auc_interval[0], 0) == found


def test_a_column_that_carries_the_sheet_is_named_as_dominant():
    X, y = _leads(dominant=1.6)
    train, rows = np.arange(2000), np.arange(2000, 3000)
    card = _fit(X, y, train)
    assert leakage_warnings(card, X.iloc[rows], y[rows]) == []
    auc_model = hold_out(card, X, y, rows).auc_interval[0]
    found = dominant_column_warnings(
        card, X.iloc[train], y[train], X.iloc[rows], y[rows], auc_model, seed=0
    )
    assert len(found) == 1 and found[0].startswith("column 'signal' ")
    assert "may leak the outcome" in found[0]


def test_hold_out_leads_at_the_top_of_the_scale_are_named(honest):
    X, y, train, rows, card = honest
    best = X.iloc[train][card.train_scores_ == card.max_score]
    assert len(best) > 0  # the scale puts about 1% of training leads at each end
    shifted = pd.concat([X.iloc[rows[:900]], best.sample(100, replace=True, random_state=0)])
    scores = card.predict_score(shifted)
    assert np.mean(scores == card.max_score) >= EDGE_SHARE
    found = scale_edge_warnings(card, scores)
    assert len(found) == 1
    assert f"of hold-out leads score {card.max_score}, the top of the scale" in found[0]
    assert scale_edge_warnings(card, card.predict_score(X.iloc[rows])) == []
