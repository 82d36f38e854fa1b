"""Recalibration that keeps what the meeting agreed: the structure, and the MQL threshold."""

from __future__ import annotations

import numpy as np
import pytest

import calibrate
from calibrate.datasets import make_leads
from calibrate.decide.policies import KeptThreshold
from calibrate.decide.threshold import recommend_threshold
from calibrate.errors import DataError, ParameterError
from calibrate.learn.binning import LeadBinner


@pytest.fixture(scope="module")
def history():
    return make_leads(10_000, seed=4, change_at="2025-01-01")


@pytest.fixture(scope="module")
def old(history):
    early = history[history["created_at"] < "2024-10-01"]
    return calibrate.fit(early, outcome="converted", id="lead_id", date="created_at",
                         bootstrap=0).config  # fmt: skip


@pytest.fixture(scope="module")
def refit(history, old):
    return calibrate.fit(history, outcome="converted", id="lead_id", date="created_at",
                         bootstrap=0, keep_structure=old, keep_threshold=True)  # fmt: skip


def test_the_refit_keeps_every_criterion_and_band_and_moves_only_points(old, refit):
    new = refit.config
    assert [(c.name, c.columns if c.kind == "pair" else c.column, c.kind, c.group)
            for c in new.criteria] == [
        (c.name, c.columns if c.kind == "pair" else c.column, c.kind, c.group)
        for c in old.criteria
    ]  # fmt: skip
    for before, after in zip(old.criteria, new.criteria, strict=True):
        assert [b.label for b in after.bands] == [b.label for b in before.bands]
        if after.kind == "pair":
            assert (after.first, after.second) == (before.first, before.second)
            continue
        assert [(b.kind, b.lower, b.upper, b.values) for b in after.bands] == [
            (b.kind, b.lower, b.upper, b.values) for b in before.bands
        ]
    diff = calibrate.diff_configs(old, new)
    assert diff["added"] == [] and diff["removed"] == [] and diff["changed"]
    # The new lead source falls in 'Other' and wins: its points rise.
    points = {b.label: b.points for c in new.criteria if c.name == "lead_source" for b in c.bands}
    old_points = {
        b.label: b.points for c in old.criteria if c.name == "lead_source" for b in c.bands
    }
    assert points["Other"] > old_points["Other"]


def test_the_agreed_threshold_keeps_its_volume(old, refit):
    new = refit.config
    assert new.mql_threshold == old.mql_threshold
    policy = new.threshold["policy"]
    assert policy["name"] == "kept" and policy["meaning"] == "the same share of leads"
    passed_now = float(np.mean(refit.holdout.scores >= new.mql_threshold))
    assert passed_now == pytest.approx(policy["share_passed_before"], abs=0.03)
    assert refit.metrics["threshold"] == old.mql_threshold


def test_keeping_the_threshold_needs_the_previous_sheet(history):
    with pytest.raises(ParameterError, match="keep_threshold needs the previous sheet"):
        calibrate.fit(history, outcome="converted", id="lead_id", keep_threshold=True)


def test_a_previous_sheet_reading_missing_columns_is_named(history, old):
    with pytest.raises(DataError, match=r"1 column\(s\) these leads do not have: 'role'"):
        calibrate.fit(history.drop(columns=["role"]), outcome="converted", id="lead_id",
                      bootstrap=0, keep_structure=old)  # fmt: skip


def test_a_sheet_with_behaviour_keeps_its_features_and_bands():
    leads, log = make_leads(2500, seed=0, activities=True)
    options = {"outcome": "converted", "id": "lead_id", "decided_at": "decided_at",
               "activities": log, "bootstrap": 0}  # fmt: skip
    old = calibrate.fit(leads.iloc[:1600], **options).config
    refit = calibrate.fit(leads, keep_structure=old, keep_threshold=True, **options).config
    # The same features (kernels, half-lives and all) and bands: only points move.
    assert refit.activity_spec.features == old.activity_spec.features
    assert refit.activities["decision_time"] == old.activities["decision_time"]
    assert [[b.label for b in c.bands] for c in refit.criteria] == [
        [b.label for b in c.bands] for c in old.criteria
    ]
    assert refit.mql_threshold == old.mql_threshold
    diff = calibrate.diff_configs(old, refit)
    assert diff["added"] == diff["removed"] == [] and diff["changed"]
    # Nothing was learned of the log: no decay search ran.
    assert refit.activities["decay"] == []


def test_a_fixed_binner_keeps_the_given_bands_with_no_points(old, history):
    kept = {c.column: c for c in old.criteria if c.kind != "pair"}
    X = history[list(kept)]
    binner = LeadBinner(fixed=kept).fit(X, history["converted"])
    assert [c.name for c in binner.criteria_] == [c.name for c in kept.values()]
    assert all(b.points == 0 for c in binner.criteria_ for b in c.bands)
    codes = binner.transform(X)
    # The bands are the config's: the scorer puts every lead in the same band.
    scored = old.score(history.assign(lead_id=history["lead_id"]), bands=True)
    for criterion in kept.values():
        labels = np.array([b.label for b in criterion.bands])
        assert (labels[codes[criterion.name].to_numpy()] == scored[f"band_{criterion.name}"]).all()


def test_a_kept_threshold_is_the_threshold_whatever_the_scores():
    scores = np.array([10, 20, 30, 40, 50, 60])
    won = np.array([0, 0, 1, 0, 1, 1], dtype=bool)
    choice = recommend_threshold(
        scores, won, policy=KeptThreshold(mql=35, share_passed_before=0.5)
    )
    assert choice.threshold == 35 and choice.met
    assert choice.share_passed == pytest.approx(0.5)


def test_the_recalibrated_report_says_what_changed_and_why(old, refit, tmp_path):
    previous = refit.metrics["previous"]
    assert previous["checksum"] == old.to_dict()["checksum"]
    # Scored with the previous sheet, the new history shows the new lead source.
    assert any(a["criterion"] == "lead_source" and a["level"] == "act" for a in previous["alerts"])
    assert previous["diff"]["changed"] and "threshold" not in previous["diff"]
    paths = refit.save(tmp_path / "recal")
    page = paths["report"].read_text(encoding="utf-8")
    assert "Since the previous sheet" in page and "the MQL threshold is kept" in page
    assert "Partner portal" in page


def test_a_plain_fit_report_has_no_previous_section(history, tmp_path):
    plain = calibrate.fit(history.iloc[:3000], outcome="converted", id="lead_id", bootstrap=0)
    page = plain.save(tmp_path / "plain")["report"].read_text(encoding="utf-8")
    assert "Since the previous sheet" not in page and "previous" not in plain.metrics
