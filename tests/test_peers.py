"""The peers benchmark harness runs end to end on a tiny generated data set."""

import json

import numpy as np
import pytest
from benchmarks import peers


def test_minmax_points_by_hand():
    # Two criteria; training contributions span [0, 1] and [-1, 1]: factor 100 / 3.
    points = peers.minmax_points(np.array([[0.0, -1.0], [1.0, 1.0]]))
    # (0.5 - 0) * 33.3 -> 17, (1 - -1) * 33.3 -> 67: 84; the lowest bands earn 0.
    assert points(np.array([[0.0, -1.0], [1.0, 1.0], [0.5, 1.0]])).tolist() == [0, 100, 84]


def test_splits_are_stratified_and_time_ordered():
    y = np.array([True] * 30 + [False] * 70)
    parts = peers.splits(y, seeds=(0, 1), ordered=True)
    assert list(parts) == ["stratified seed 0", "stratified seed 1", "time-ordered"]
    for train, test in parts.values():
        assert len(test) == 30 and len(np.intersect1d(train, test)) == 0
    assert y[parts["stratified seed 0"][1]].sum() == 9
    assert parts["time-ordered"][1].tolist() == list(range(70, 100))


def test_harness_on_tiny_generated_leads(tmp_path):
    out = tmp_path / "results"
    peers.main(
        [
            "--datasets", "generated:2000", "--tools", "calibrate,sklearn,hgb",
            "--seeds", "0", "--time-limit", "60", "--out", str(out), "--quiet",
        ]
    )  # fmt: skip
    payload = json.loads((out / "peers.json").read_text())
    text = (out / "peers.md").read_text()
    runs = {r["tool"]: r for r in payload["runs"]}
    assert set(runs) == {"calibrate", "sklearn", "hgb"}
    for tool in ("calibrate", "sklearn", "hgb"):
        r = runs[tool]
        assert r["status"] == "ok", r
        assert 0.5 < r["auc_proba"] < 1
        assert r["fit_seconds"] > 0 and r["score_seconds"] > 0 and r["peak_rss_mb"] > 0
        assert 0 <= r["ece"] < 0.2
        assert r["n_train"] == 1400 and r["n_test"] == 600
    for tool in ("calibrate", "sklearn"):
        r = runs[tool]
        assert 0.5 < r["auc_score"] < 1 and -1 <= r["tau"] <= 1
        assert r["auc_lost"] == pytest.approx(r["auc_proba"] - r["auc_score"])
    assert "auc_score" not in runs["hgb"]
    assert "calibrate (integer sheet; unrounded model)" in text
    assert "| generated:2000 | stratified | scikit-learn" in text


def test_a_slow_tool_is_reported_as_timed_out(tmp_path):
    out = tmp_path / "results"
    peers.main(
        [
            "--datasets", "generated:300", "--tools", "sleep", "--seeds", "0",
            "--time-limit", "2", "--out", str(out), "--quiet",
        ]
    )  # fmt: skip
    payload = json.loads((out / "peers.json").read_text())
    assert [r["status"] for r in payload["runs"]] == ["timed out"]
    assert payload["runs"][0]["time_limit_seconds"] == 2
    assert "| generated:300 | stratified | sleep | timed out |" in (out / "peers.md").read_text()


def test_a_peer_that_is_not_installed_is_recorded(tmp_path, monkeypatch):
    monkeypatch.setitem(peers.TOOLS, "nothere", ("no such tool", True, "no_such_module_x"))
    out = tmp_path / "results"
    peers.main(
        [
            "--datasets", "generated:300", "--tools", "nothere", "--seeds", "0",
            "--out", str(out), "--quiet",
        ]
    )  # fmt: skip
    payload = json.loads((out / "peers.json").read_text())
    assert payload["runs"] == [] and "not installed" in payload["skipped"]["nothere"]
    assert "Not run: no such tool" in (out / "peers.md").read_text()


def test_scaling_table_and_plot(tmp_path):
    out = tmp_path / "results"
    peers.main(
        [
            "--scaling", "--sizes", "1500", "--tools", "calibrate", "--out", str(out),
            "--quiet",
        ]
    )  # fmt: skip
    payload = json.loads((out / "scaling.json").read_text())
    (row,) = payload["rows"]
    assert row["n"] == 1500 and row["status"] == "ok" and row["criteria"] == 20
    assert row["fit_seconds"] > 0 and row["peak_rss_mb"] > 0
    assert (out / "scaling.png").stat().st_size > 0
    assert "| 1,500 | calibrate" in (out / "scaling.md").read_text()
