"""Tests for calibrate.learn.decay: the half-life learned for each family of activity types."""

from __future__ import annotations

import tempfile

import pandas as pd
import pytest

from calibrate.datasets import ground_truth, make_leads
from calibrate.learn.behaviour import ActivityFeaturizer

RULES = ["page_view:/pricing*=pricing_page_view", "page_view:/careers*=careers_page_view"]


@pytest.fixture(scope="module", autouse=True)
def _spill_under_tmp(tmp_path_factory):
    """DuckDB spills under ``tempfile.gettempdir()``: keep that inside pytest's folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("tmp")))
        yield


@pytest.mark.slow
def test_learned_half_life_of_hand_raisers_is_near_the_truth():
    leads, log = make_leads(20_000, seed=1, activities=True)
    frame = pd.DataFrame({"lead_id": leads["lead_id"], "decision_time": leads["decided_at"]})
    fitted = ActivityFeaturizer(detail="detail", detail_rules=RULES, random_state=0).fit(
        frame, leads["converted"].to_numpy(), log
    )
    truth = ground_truth().set_index(["criterion", "level"])["effect"]
    expected = truth[("hand-raiser", "half_life_days")]
    learned = fitted.decay_.set_index("family").loc["hand-raiser", "half_life_days"]
    assert expected == 45.0
    assert abs(learned - expected) <= 0.25 * expected
