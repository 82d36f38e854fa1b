"""Tests for calibrate.monitor: stable histories stay quiet, planted changes are named."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

import calibrate
from calibrate.datasets import make_leads
from calibrate.errors import DataError, ParameterError
from calibrate.monitoring import NO_REFERENCE


@pytest.fixture(scope="module")
def history():
    return make_leads(16_000, seed=3, change_at="2025-07-01")


@pytest.fixture(scope="module")
def sheet(history):
    early = history[history["created_at"] < "2025-01-01"]
    return calibrate.fit(
        early, outcome="converted", id="lead_id", date="created_at", bootstrap=0
    ).config


@pytest.fixture(scope="module")
def found(sheet, history):
    later = history[history["created_at"] >= "2025-01-01"]
    return calibrate.monitor(sheet, later, outcome="converted", date="created_at", every="quarter")


def test_stable_leads_raise_no_act_alert(sheet):
    # Leads drawn afresh from the training period's own distribution.
    for seed in (11, 12, 13):
        fresh = make_leads(3000, seed=seed)
        fresh = fresh[fresh["created_at"] < "2025-01-01"]
        result = calibrate.monitor(sheet, fresh, outcome="converted")
        assert [a for a in result.alerts if a["level"] == "act"] == [], seed
        assert result.recalibrate is False and result.reasons == []


def test_the_first_period_after_the_change_has_act_alerts_naming_the_new_source(found):
    starts = [p["start"] for p in found.periods]
    assert starts == ["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"]
    acts = [[a for a in p["alerts"] if a["level"] == "act"] for p in found.periods]
    assert acts[0] == [] and acts[1] == []  # before the change: quiet
    named = {(a["kind"], a["criterion"]) for a in acts[2]}
    assert ("band_shift", "lead_source") in named and ("unseen_categories", "lead_source") in named
    assert any("'Partner portal'" in a["message"] for a in acts[2])
    assert found.recalibrate is True
    assert any(r.startswith("2025-10-01 to 2025-12-31: ") for r in found.reasons)


def test_monitor_json_keeps_its_contract(found, sheet, tmp_path):
    paths = found.save(tmp_path / "out")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    for key in ("alerts", "criteria", "score_psi", "recalibrate", "reasons", "auc_at_fit",
                "auc_now", "periods"):  # fmt: skip
        assert key in data, key
    for alert in data["alerts"]:
        assert set(alert) == {"level", "kind", "criterion", "message"}
        assert alert["level"] in ("watch", "act") and isinstance(alert["message"], str)
    assert [c["name"] for c in data["criteria"]] == [c.name for c in sheet.criteria]
    assert all("psi" in c for c in data["criteria"])
    assert isinstance(data["recalibrate"], bool) and data["reasons"] == found.reasons
    assert len(data["auc_now"]) == 3 and data["auc_now"][1] <= data["auc_now"][0]
    assert {"start", "end", "n", "wins", "measures", "alerts"} <= set(data["periods"][0])
    page = paths["html"].read_text(encoding="utf-8")
    assert "Recalibrate: the sheet no longer describes the leads it scores." in page
    assert page.count("data:image/png;base64,") == 4  # criteria, scores, calibration, periods


def test_the_same_input_gives_the_same_bytes(sheet, history, tmp_path):
    later = history[history["created_at"] >= "2025-06-01"]
    runs = []
    for name in ("a", "b"):
        result = calibrate.monitor(sheet, later, outcome="converted", date="created_at",
                                   every="month")  # fmt: skip
        paths = result.save(tmp_path / name)
        runs.append((paths["json"].read_bytes(), paths["html"].read_bytes()))
    assert runs[0] == runs[1]


def test_a_config_without_a_reference_says_so(sheet, history):
    bare = dataclasses.replace(sheet, reference={})
    result = calibrate.monitor(bare, history.iloc[-2000:])
    assert NO_REFERENCE in result.notes
    assert result.to_dict()["score_psi"] is None
    assert all(c["psi"] is None for c in result.to_dict()["criteria"])
    assert any("no outcomes given" in n for n in result.notes)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"every": "month"}, ParameterError, "every needs a date column"),
        ({"every": "day", "date": "created_at"}, ParameterError, "every must be one of week"),
        ({"outcome": "won"}, DataError, "outcome column 'won' not found"),
        ({"date": "when"}, DataError, "date column 'when' not found"),
    ],
)
def test_bad_arguments_are_named(sheet, history, kwargs, error, match):
    with pytest.raises(error, match=match):
        calibrate.monitor(sheet, history.iloc[:500], **kwargs)


def test_a_saved_config_path_is_read_and_named(sheet, history, tmp_path):
    path = sheet.save(tmp_path / "scoring_config.json")
    result = calibrate.monitor(path, history.iloc[:1500])
    assert result.source == str(path) and result.to_dict()["config"] == str(path)


def test_a_behaviour_sheet_is_monitored_with_its_log_and_new_activity_types_are_named():
    leads, log = make_leads(2400, seed=5, activities=True)
    sheet = calibrate.fit(leads.iloc[:1600], outcome="converted", id="lead_id",
                          decided_at="decided_at", activities=log, bootstrap=0,
                          learn_decay=False).config  # fmt: skip
    later = leads.iloc[1600:]
    ours = log[log["lead_id"].isin(later["lead_id"])]  # the log of the leads monitored
    quiet = calibrate.monitor(sheet, later, activities=ours, outcome="converted")
    assert quiet.overall["activities"]["unknown_types"] == {}
    assert [a for a in quiet.alerts if a["kind"] == "unseen_activity_types"] == []
    # A new channel appears in the log: its activities score nothing, and the monitor says so.
    chats = ours.sample(frac=0.3, random_state=0).assign(activity_type="chat_message")
    found = calibrate.monitor(
        sheet, later, activities=pd.concat([ours, chats]), outcome="converted"
    )
    named = [a for a in found.alerts if a["kind"] == "unseen_activity_types"]
    assert (
        len(named) == 1 and named[0]["level"] == "act" and "'chat_message'" in named[0]["message"]
    )
