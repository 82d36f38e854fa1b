"""Tests for calibrate.backtest: rolling-origin periods, strategies, the recommendation."""

from __future__ import annotations

import json

import markupsafe
import pytest

import calibrate
from calibrate.backtesting import STALE_AUC, _calibration_error, _points_moved, recommend
from calibrate.datasets import make_leads
from calibrate.errors import DataError, ParameterError


@pytest.fixture(scope="module")
def history():
    return make_leads(9000, seed=2, change_at="2025-04-01")


@pytest.fixture(scope="module")
def result(history):
    return calibrate.backtest(history, outcome="converted", date="created_at", id="lead_id",
                              min_train=3000, window=9, recency_half_life=180)  # fmt: skip


def test_every_period_is_scored_by_sheets_of_the_leads_before_it(result, history):
    starts = [p["start"] for p in result.periods]
    assert starts == sorted(starts) and starts[0] == "2024-10-01"
    for period in result.periods:
        before = (history["created_at"] < period["start"]).sum()
        inside = history["created_at"].between(period["start"], period["end"] + " 23:59:59")
        assert (
            period["n"] == inside.sum()
            and period["wins"] == history.loc[inside, "converted"].sum()
        )
        strategies = period["strategies"]
        assert strategies["refit_all"]["train_leads"] == before
        assert (
            strategies["frozen"]["train_leads"]
            == result.periods[0]["strategies"]["refit_all"]["train_leads"]
        )
        for values in strategies.values():
            assert 0.5 < values["auc"] < 1 and 0 <= values["calibration_error"] < 0.2
            assert 0 < values["share_passed"] <= 1
    first = result.periods[0]["strategies"]
    assert first["frozen"] == first["refit_all"]  # the first period's refit is the frozen sheet
    # Only refitted sheets move points; the frozen one never does.
    later = result.periods[1]["strategies"]
    assert later["frozen"]["points_moved"] == 0 and later["refit_all"]["points_moved"] > 0
    # A 9-month window holds fewer leads than all the history once there is more of it.
    assert (
        result.periods[-1]["strategies"]["window"]["train_leads"]
        < result.periods[-1]["strategies"]["refit_all"]["train_leads"]
    )


def test_the_backtest_json_keeps_its_contract_and_the_page_renders(result, tmp_path):
    paths = result.save(tmp_path / "bt")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert {"periods", "recommendation"} <= set(data)
    period = data["periods"][0]
    assert {"start", "end", "n", "wins", "strategies"} <= set(period)
    assert set(period["strategies"]) == {"frozen", "refit_all", "window", "recency"}
    assert {"auc", "calibration_error", "share_passed", "share_wins_captured",
            "points_moved"} <= set(period["strategies"]["refit_all"])  # fmt: skip
    assert data["recommendation"]["cadence"] and data["recommendation"]["text"]
    page = paths["html"].read_text(encoding="utf-8")
    assert str(markupsafe.escape(data["recommendation"]["text"])) in page
    assert page.count("data:image/png;base64,") == 2


def _period(**aucs):
    return {"strategies": {name: {"auc": auc} for name, auc in aucs.items()}}


def test_the_recommendation_by_hand():
    steady = [_period(frozen=0.75, refit_all=0.755, window=0.75, recency=0.752)] * 4
    held = recommend(steady, "quarter")
    assert (
        held["stale_after"] is None
        and held["cadence"] == "no refit needed within these 4 quarters"
    )
    drifting = [
        _period(frozen=0.75, refit_all=0.75, window=0.75, recency=0.75),
        _period(frozen=0.74, refit_all=0.75, window=0.75, recency=0.75),
        _period(frozen=0.70, refit_all=0.70 + STALE_AUC, window=0.73, recency=0.74),
    ]
    stale = recommend(drifting, "month")
    assert stale["stale_after"] == 2 and stale["cadence"] == "every 2 months"
    assert stale["best_strategy"] == "recency"
    assert stale["mean_auc"]["frozen"] == pytest.approx((0.75 + 0.74 + 0.70) / 3)


def test_points_moved_and_calibration_error_by_hand():
    import dataclasses

    import numpy as np

    from calibrate.sheet.criteria import Band, Criterion

    crit = Criterion("size", "size", "numeric", "explicit", bands=(
        Band("<10", "range", upper=10.0, points=0), Band(">=10", "range", lower=10.0, points=30),
        Band("Missing", "missing", points=5)))  # fmt: skip
    manual = {"mql": 40, "policy": {"name": "manual"}}
    config = calibrate.ScoringConfig(criteria=(crit,), base_points=10, threshold=manual)
    moved = dataclasses.replace(
        config, base_points=12,
        criteria=(crit.with_points(np.array([0, 25, 5])),),
    )  # fmt: skip
    assert _points_moved(None, config) is None
    assert _points_moved(config, moved) == 5 + 2
    scores = np.array([5, 5, 50, 50])
    won = np.array([False, True, True, True])
    # Band 0: observed 0.5 vs 0.2; band 5: observed 1.0 vs 0.6 -> (2 * 0.3 + 2 * 0.4) / 4
    assert _calibration_error(scores, won, np.array([0.2, 0.2, 0.6, 0.6])) == pytest.approx(0.35)
    assert _calibration_error(scores, won, np.full(4, np.nan)) is None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"every": "week"}, ParameterError, "every must be one of month, quarter"),
        ({"window": 0}, ParameterError, "window must be a whole number of months"),
        ({"bootstrap": 10}, ParameterError, r"backtest sets \['bootstrap'\] itself"),
        ({"min_train": 10**6}, DataError, "no period to score"),
        ({"date": "when"}, DataError, "date column 'when' not found"),
    ],
)
def test_bad_arguments_are_named(history, kwargs, error, match):
    options = {"outcome": "converted", "date": "created_at", "id": "lead_id", **kwargs}
    with pytest.raises(error, match=match):
        calibrate.backtest(history.iloc[:2000], **options)
