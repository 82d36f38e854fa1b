"""Tests for calibrate.drift.measures: PSI, band shares, unseen values, effects, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrate.drift.measures import (
    SHARE_FLOOR,
    _effect_change,
    measure,
    population_stability,
)
from calibrate.production.config import ScoringConfig
from calibrate.sheet.criteria import Band, Criterion

SIZE = Criterion("size", "size", "numeric", "explicit", bands=(
    Band("<10", "range", upper=10.0, points=0),
    Band(">=10", "range", lower=10.0, points=40),
    Band("Missing", "missing", points=0)))  # fmt: skip
SOURCE = Criterion("source", "source", "categorical", "explicit", bands=(
    Band("Referral", "levels", values=("Referral",), points=30),
    Band("Other", "other", points=0),
    Band("Missing", "missing", points=0)))  # fmt: skip
REFERENCE = {
    "measured_on": "training leads",
    "n_leads": 1000,
    "criteria": [
        {
            "name": "size",
            "leads": [600, 380, 20],
            "wins": [30, 76, 1],
            "expected_wins": [30, 76, 1],
        },
        {
            "name": "source",
            "leads": [200, 800, 0],
            "wins": [60, 47, 0],
            "expected_wins": [60, 47, 0],
        },
    ],  # fmt: skip
    "score_counts": [0] * 101,
    "categories": {"source": ["Paid", "Referral", "Webinar"]},
}
REFERENCE["score_counts"][0] = 500
REFERENCE["score_counts"][40] = 500
CALIBRATION = {
    "measured_on": "hold-out leads",
    "bands": [
        {"score_min": 0, "score_max": 39, "leads": 300, "wins": 15, "win_rate": 0.05,
         "win_probability": 0.05},
        {"score_min": 40, "score_max": 100, "leads": 300, "wins": 60, "win_rate": 0.2,
         "win_probability": 0.2},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def config():
    return ScoringConfig(
        criteria=(SIZE, SOURCE), base_points=0, id_column=None,
        threshold={"mql": 40, "policy": {"name": "manual"}},
        calibration=CALIBRATION, reference=REFERENCE,
        model={"holdout": {"auc_points": 0.7, "auc_points_interval": [0.65, 0.75]}},
    )  # fmt: skip


def _scored(config, leads):
    return config.score(leads, bands=True)


def test_psi_by_hand():
    # (0.2 - 0.5) ln(0.2 / 0.5) + (0.8 - 0.5) ln(0.8 / 0.5)
    expected = -0.3 * np.log(0.4) + 0.3 * np.log(1.6)
    assert population_stability([1, 1], [1, 4]) == pytest.approx(expected)
    # An empty band counts as SHARE_FLOOR, not as an infinite shift.
    empty = population_stability([1, 0], [1, 1])
    assert np.isfinite(empty) and empty == pytest.approx(
        (0.5 - SHARE_FLOOR) * np.log(0.5 / SHARE_FLOOR) + (0.5 - 1) * np.log(0.5)
    )


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(st.integers(1, 1000), min_size=2, max_size=12), st.data())
def test_property_psi_is_zero_only_for_the_same_shares(counts, data):
    assert population_stability(counts, counts) == pytest.approx(0.0, abs=1e-12)
    assert population_stability(counts, [3 * c for c in counts]) == pytest.approx(0.0, abs=1e-12)
    other = data.draw(st.lists(st.integers(1, 1000), min_size=len(counts), max_size=len(counts)))
    psi = population_stability(counts, other)
    assert psi >= -1e-12
    assert psi == pytest.approx(population_stability(other, counts))  # symmetric


def test_band_shares_unseen_values_and_missing_by_hand(config):
    leads = pd.DataFrame({
        "size": [5, 50, 500, np.nan] * 25,
        "source": ["Referral", "Partner", "Partner", None] * 25,
    })  # fmt: skip
    found = measure(config, _scored(config, leads), leads)
    size, source = found["criteria"]
    assert [b["share_now"] for b in size["bands"]] == [0.25, 0.5, 0.25]
    assert size["psi"] == pytest.approx(population_stability([600, 380, 20], [25, 50, 25]))
    assert size["missing_now"] == 0.25 and size["missing_at_fit"] == pytest.approx(0.02)
    assert source["unseen_share"] == 0.5 and source["unseen_examples"] == ["Partner"]
    assert "unseen_share" not in size  # a numeric criterion has no categories
    assert found["n_leads"] == 100 and found["reference"] is True


def test_scores_mql_and_fast_track_by_hand(config):
    leads = pd.DataFrame({"size": [5] * 30 + [50] * 70, "source": ["Paid"] * 100})
    found = measure(config, _scored(config, leads), leads, weeks=2.0)
    assert found["score_bins"][:2] == [0, 10] and found["score_bins"][-1] == 90
    assert found["score_shares_now"][0] == 0.3 and found["score_shares_now"][4] == 0.7
    assert found["score_shares_at_fit"][0] == 0.5 and found["score_shares_at_fit"][4] == 0.5
    assert found["score_psi"] == pytest.approx(population_stability([0.5, 0.5], [0.3, 0.7]))
    assert found["score_mean_now"] == 28.0 and found["score_mean_at_fit"] == 20.0
    mql = found["mql"]
    assert (mql["mqls"], mql["share_now"], mql["share_at_fit"]) == (70, 0.7, 0.5)
    assert mql["per_week_now"] == 35.0


def test_outcomes_auc_calibration_and_threshold(config):
    rng = np.random.default_rng(0)
    leads = pd.DataFrame({"size": rng.choice([5.0, 50.0], 2000), "source": ["Paid"] * 2000})
    scored = _scored(config, leads)
    high = scored["score"].to_numpy() >= 40
    won = rng.random(2000) < np.where(high, 0.2, 0.05)
    found = measure(config, scored, leads, won=won)
    assert found["auc_at_fit"] == [0.7, 0.65, 0.75]
    auc, low, up = found["auc_now"]
    assert low < auc < up
    calibration = found["calibration"]
    assert [b["leads_now"] for b in calibration["bands"]] == [(~high).sum(), high.sum()]
    assert all(abs(b["z"]) < 3 for b in calibration["bands"])  # the same rates as at fit
    assert abs(calibration["z"]) < 3
    assert found["threshold_now"]["share_passed"] == pytest.approx(high.mean())
    assert found["wins"] == won.sum()


def test_a_band_that_stopped_winning_has_a_large_effect_change():
    # At fit the band won as its scores said; now it wins a third of that,
    # while the rest of the criterion still wins as expected.
    z = _effect_change((15, 60, 300, 225, 260, 3000), (60, 60, 300, 240, 240, 3000))
    assert z < -4
    same = _effect_change((58, 60, 300, 235, 240, 3000), (60, 60, 300, 240, 240, 3000))
    assert abs(same) < 1
    # A shift of every band alike (a calibration drift) is no effect change.
    alike = _effect_change((30, 60, 300, 120, 240, 3000), (60, 60, 300, 240, 240, 3000))
    assert abs(alike) < 1
    assert _effect_change((1, 2, 10, 50, 50, 500), (60, 60, 300, 240, 240, 3000)) is None


def test_a_config_without_a_reference_measures_what_it_can(config):
    import dataclasses

    bare = dataclasses.replace(config, reference={})
    leads = pd.DataFrame({"size": [5, 50] * 60, "source": ["Paid", "New"] * 60})
    found = measure(bare, _scored(bare, leads), leads)
    assert found["reference"] is False and found["score_psi"] is None
    assert all(c["psi"] is None and "unseen_share" not in c for c in found["criteria"])
    assert found["mql"]["share_now"] == 0.5 and "share_at_fit" not in found["mql"]
