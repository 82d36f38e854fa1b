"""Tests for calibrate.drift.alerts: levels on the stated thresholds, words, verdict."""

from __future__ import annotations

import copy

import pytest

from calibrate.drift.alerts import MIN_LEADS, THRESHOLDS, alerts, verdict

QUIET = {
    "n_leads": 1000,
    "criteria": [
        {
            "name": "source", "column": "source", "group": "explicit", "psi": 0.01,
            "missing_now": 0.02, "missing_at_fit": 0.02, "unseen_share": 0.0,
            "unseen_examples": [],
            "bands": [
                {"label": "Referral", "leads_now": 200, "share_now": 0.2, "share_at_fit": 0.2,
                 "win_rate_at_fit": 0.3, "win_rate_now": 0.3, "expected_win_rate_now": 0.3,
                 "effect_z": 0.4},
                {"label": "Other", "leads_now": 800, "share_now": 0.8, "share_at_fit": 0.8,
                 "win_rate_at_fit": 0.1, "win_rate_now": 0.1, "expected_win_rate_now": 0.1,
                 "effect_z": -0.4},
            ],
        }
    ],
    "score_psi": 0.02, "score_mean_now": 40.0, "score_mean_at_fit": 41.0,
    "mql": {"threshold": 50, "mqls": 300, "share_now": 0.3, "share_at_fit": 0.3,
            "capacity_per_week": None, "per_week_assumed": None, "per_week_now": None},
    "fast_track": [{"rule": "demo is true", "hits_now": 50, "hit_rate_now": 0.05,
                    "hit_rate_at_fit": 0.05, "leads_at_fit": 5000}],
    "activities": {"rows": 10000, "unknown_types": {}},
    "auc_now": [0.74, 0.71, 0.77], "auc_at_fit": [0.75, 0.72, 0.78],
    "calibration": {"bands": [{"score_min": 0, "score_max": 49, "leads_now": 700,
                               "win_rate_now": 0.1, "win_rate_at_fit": 0.1, "z": 0.2}],
                    "wins_expected": 130.0, "wins_observed": 131.0, "z": 0.1},
}  # fmt: skip


def _with(**changes):
    measures = copy.deepcopy(QUIET)
    for path, value in changes.items():
        target = measures
        *keys, last = path.split("__")
        for key in keys:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
    return measures


def test_quiet_measures_raise_nothing():
    assert alerts(QUIET) == []
    assert verdict([]) == (False, [])


@pytest.mark.parametrize(
    ("changes", "kind", "level", "words"),
    [
        ({"criteria__0__psi": 0.12}, "band_shift", "watch", "PSI 0.12"),
        ({"criteria__0__psi": 0.3}, "band_shift", "act", "source: its leads fall"),
        ({"criteria__0__missing_now": 0.15}, "missing", "watch", "source is empty for 15.0%"),
        ({"criteria__0__missing_now": 0.6}, "missing", "act", "a form or a sync"),
        (
            {"criteria__0__unseen_share": 0.25, "criteria__0__unseen_examples": ["Partner"]},
            "unseen_categories", "act", "25.0% of leads have a source never seen in training",
        ),
        ({"criteria__0__bands__0__effect_z": -3.2}, "effect_change", "watch", "win less often"),
        ({"criteria__0__bands__0__effect_z": 4.5}, "effect_change", "act", "win more often"),
        ({"score_psi": 0.4}, "score_shift", "act", "mean score 40.0 against 41.0"),
        ({"mql__share_now": 0.5}, "mql_volume", "act", "50.0% of leads reach the MQL"),
        (
            {"mql__capacity_per_week": 20.0, "mql__per_week_now": 26.0},
            "mql_volume", "watch", "26.0 MQLs a week against the sales capacity of 20",
        ),
        ({"fast_track__0__hit_rate_now": 0.15}, "fast_track", "watch", "makes 15.0%"),
        (
            {"activities__unknown_types": {"chat": 3000}},
            "unseen_activity_types", "act", "'chat' (3,000)",
        ),
        ({"auc_now": [0.70, 0.67, 0.74]}, "auc_drop", "watch", "AUC 0.700"),
        ({"auc_now": [0.65, 0.62, 0.70]}, "auc_drop", "act", "(0.720 to 0.780)"),
        ({"calibration__z": -4.5}, "calibration", "act", "131 wins against 130 expected"),
        ({"calibration__bands__0__z": 3.5}, "calibration", "watch", "scores 0-49 win 10.0%"),
    ],
)  # fmt: skip
def test_every_alert_at_its_level_with_its_evidence(changes, kind, level, words):
    found = alerts(_with(**changes))
    assert [(a["kind"], a["level"]) for a in found] == [(kind, level)]
    assert words in found[0]["message"]
    recalibrate, reasons = verdict(found)
    assert recalibrate == (level == "act") and reasons == (
        [found[0]["message"]] if level == "act" else []
    )


def test_shares_of_too_few_leads_raise_nothing():
    few = _with(n_leads=MIN_LEADS - 1, criteria__0__psi=0.9, score_psi=0.9, mql__share_now=0.9)
    assert alerts(few) == []


def test_a_share_change_within_its_noise_raises_nothing():
    # 33% against 30% of 1,000 leads is 2 standard errors: not a volume change.
    assert alerts(_with(mql__share_now=0.33)) == []


def test_act_alerts_come_first():
    found = alerts(_with(criteria__0__psi=0.12, score_psi=0.4))
    assert [a["level"] for a in found] == ["act", "watch"]


def test_the_thresholds_are_the_stated_ones():
    assert THRESHOLDS["band_shift"] == THRESHOLDS["score_shift"] == (0.10, 0.25)
