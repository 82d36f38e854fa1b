"""Tests for calibrate.learn.recency and recency-weighted fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calibrate
from calibrate.datasets import make_leads
from calibrate.errors import DataError, ParameterError
from calibrate.learn.model import LeadScoreModel
from calibrate.learn.recency import HALF_LIVES, choose_half_life, recency_weights
from calibrate.settings import ModelSettings


def test_weights_halve_every_half_life_by_hand():
    dates = pd.to_datetime(["2025-01-01", "2025-01-31", "2025-03-02", "2025-03-02"])
    np.testing.assert_allclose(recency_weights(dates, 30), [0.25, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(recency_weights(dates, None), [1.0] * 4)
    # Counted from a later moment, every lead is older; a lead after it counts 1.
    np.testing.assert_allclose(
        recency_weights(dates, 30, until="2025-04-01"), [0.125, 0.25, 0.5, 0.5]
    )
    np.testing.assert_allclose(recency_weights(dates, 30, until="2025-01-31"), [0.5, 1, 1, 1])


def test_a_missing_date_is_refused():
    with pytest.raises(DataError, match="needs every lead's date"):
        recency_weights(pd.to_datetime(["2025-01-01", None]), 30)


def _model():
    return LeadScoreModel(Cs=1, random_state=0)


def test_a_stable_history_needs_no_weighting():
    leads = make_leads(6000, seed=2)
    X = leads[["role", "seniority", "lead_source", "pricing_page_views", "demo_requested"]]
    half_life, losses = choose_half_life(_model(), X, leads["converted"], leads["created_at"])
    assert [row["half_life_days"] for row in losses] == [None, *HALF_LIVES]
    best = min(row["log_loss"] for row in losses)
    # No weighting is the best or within noise of it: short half-lives lose.
    assert losses[0]["log_loss"] <= best + 0.002
    assert losses[1]["log_loss"] > losses[0]["log_loss"]  # 30 days throws most leads away
    assert half_life in (None, *HALF_LIVES)


def test_a_history_that_changed_prefers_recent_leads():
    # The effect of the source flips a year before the end: the latest leads
    # say what holds now.
    rng = np.random.default_rng(5)
    n = 8000
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 1095, n)), "D")
    source = rng.choice(["A", "B"], n)
    late = dates >= pd.Timestamp("2025-01-01")
    effect = np.where(source == "A", 1.0, -1.0) * np.where(late, -1.0, 1.0)
    y = rng.random(n) < 1 / (1 + np.exp(-(effect - 1.0)))
    X = pd.DataFrame({"source": source})
    half_life, losses = choose_half_life(_model(), X, y, dates)
    assert half_life is not None and half_life <= 365
    assert min(r["log_loss"] for r in losses) < losses[0]["log_loss"] - 0.01


def test_a_weighted_fit_records_its_half_life_and_needs_dates():
    leads = make_leads(3000, seed=1)
    result = calibrate.fit(leads, outcome="converted", id="lead_id", date="created_at",
                           bootstrap=0, recency_half_life=120)  # fmt: skip
    assert result.config.model["recency"] == {"half_life_days": 120, "chosen_by": "given"}
    assert result.metrics["recency"]["half_life_days"] == 120
    # The reference counts leads, not weights.
    assert sum(result.config.reference["criteria"][0]["leads"]) == len(result.train_rows)
    plain = calibrate.fit(leads, outcome="converted", id="lead_id", date="created_at",
                          bootstrap=0)  # fmt: skip
    assert "recency" not in plain.config.model
    assert plain.config.criteria != result.config.criteria  # the weights moved the points
    with pytest.raises(DataError, match="recency weighting needs the leads' dates"):
        calibrate.fit(leads, outcome="converted", id="lead_id", bootstrap=0,
                      recency_half_life=120)  # fmt: skip


def test_auto_records_every_candidate():
    leads = make_leads(3000, seed=1)
    result = calibrate.fit(leads, outcome="converted", id="lead_id", date="created_at",
                           bootstrap=0, recency_half_life="auto")  # fmt: skip
    recency = result.config.model["recency"]
    assert recency["chosen_by"].startswith("time-ordered validation")
    assert [c["half_life_days"] for c in recency["candidates"]] == [None, *HALF_LIVES]
    best = min(recency["candidates"], key=lambda c: c["log_loss"])
    assert recency["half_life_days"] == best["half_life_days"]


@pytest.mark.parametrize("value", [0, -3, "soon", float("inf"), float("nan")])
def test_a_bad_half_life_is_a_parameter_error(value):
    with pytest.raises(ParameterError, match="recency_half_life must be a number of days"):
        ModelSettings(recency_half_life=value)
