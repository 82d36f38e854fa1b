"""Degraded input, run as a user runs it: refused in one line, or fitted and named.

Each test is one of the cases of a history that is degraded but not broken
(values near the float limit, too few wins, no signal, a numeric column with
some text, CRM date formats, no id column, a leaking column). Every case
ends either in a clean refusal (one ``error:`` line naming the column, rows
and values, exit code 1, nothing written) or in a result whose warning names
the problem on the command line, in the report and in ``metrics.json``.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from calibrate.cli import app
from calibrate.datasets import make_leads

FIT = ["--outcome", "converted", "--id", "lead_id", "--bootstrap", "0"]


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def leads():
    """Two thousand generated leads (read-only: copy before changing)."""
    return make_leads(2000, seed=3)


def _fit(runner, tmp_path, frame, *args, name="leads.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["fit", str(path), *args, "--out", str(out)])
    return result, out


def _refused(result, out):
    """One error line, exit 1, no traceback, nothing written."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert not out.exists()
    return lines[0]


def _warned(result, out, pattern):
    """Exit 0, and the warning named on the CLI, in metrics.json and in the report."""
    assert result.exit_code == 0, result.output
    assert result.exception is None
    cli = [w for w in result.output.splitlines() if w.startswith("warning:")]
    assert any(re.search(pattern, w) for w in cli), result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert any(re.search(pattern, w) for w in metrics["warnings"]), metrics["warnings"]
    report = (out / "report.html").read_text()
    assert re.search(pattern, report.replace("&#39;", "'").replace("&quot;", '"'))
    return metrics


# --- 1. values near the float limit ------------------------------------------------


def test_values_past_the_float32_limit_are_fitted_and_scored(runner, tmp_path, leads):
    frame = leads.copy()
    row = np.arange(len(frame))
    huge = np.where(row % 50 == 0, 1e308, np.where(row % 50 == 1, -1e308, row % 7 * 1e39))
    frame["revenue"] = huge
    result, out = _fit(runner, tmp_path, frame, *FIT)
    assert result.exit_code == 0, result.output
    config = json.loads((out / "scoring_config.json").read_text())
    (revenue,) = [c for c in config["criteria"] if c["name"] == "revenue"]
    edges = [b["lower"] for b in revenue["bands"] if b.get("lower") is not None]
    assert edges and max(edges) > 3.4e38  # bands beyond what float32 holds
    scored = tmp_path / "scored.csv"
    done = runner.invoke(
        app,
        [
            "score",
            str(out / "scoring_config.json"),
            str(tmp_path / "leads.csv"),
            "--out",
            str(scored),
        ],
    )
    assert done.exit_code == 0, done.output
    assert pd.read_csv(scored)["score"].between(0, 100).all()


# --- 2. too few wins ----------------------------------------------------------------


@pytest.mark.parametrize(("n", "wins"), [(3000, 1), (3000, 3), (5000, 2), (5000, 5)])
def test_too_few_wins_are_refused_in_words(runner, tmp_path, n, wins):
    frame = make_leads(n, seed=4)
    frame["converted"] = False
    frame.loc[frame.index[:: n // wins][:wins], "converted"] = True
    result, out = _fit(runner, tmp_path, frame, *FIT)
    line = _refused(result, out)
    assert f"only {wins} won leads among {n:,}" in line
    assert "at least 30 to learn from and 14 in the hold-out" in line


def test_a_split_with_too_few_hold_out_wins_is_refused(runner, tmp_path):
    frame = make_leads(3000, seed=4)
    order = frame["created_at"].sort_values(kind="stable").index
    frame["converted"] = False
    frame.loc[order[:2000:40], "converted"] = True  # 50 wins among the early leads
    frame.loc[order[2500::100], "converted"] = True  # 5 among the latest 30%
    result, out = _fit(runner, tmp_path, frame, *FIT, "--date", "created_at")
    line = _refused(result, out)
    assert "50 won leads to learn from and 5 in the hold-out" in line


def test_a_thin_history_is_fitted_with_a_warning(runner, tmp_path):
    frame = make_leads(3000, seed=4)
    won = frame.index[frame["converted"]]
    frame.loc[won[120:], "converted"] = False  # 120 wins: about 36 in the hold-out
    result, out = _fit(runner, tmp_path, frame, *FIT)
    metrics = _warned(result, out, r"only \d+ won leads in the hold-out")
    assert metrics["signal"] == "usable"
    config = json.loads((out / "scoring_config.json").read_text())
    assert any("won leads in the hold-out" in w for w in config["training_data"]["warnings"])


# --- 3. no signal ---------------------------------------------------------------


def test_an_outcome_unrelated_to_anything_is_named_and_not_recommended(runner, tmp_path):
    frame = make_leads(4000, seed=5)
    frame["converted"] = np.random.default_rng(0).random(len(frame)) < 0.2
    result, out = _fit(runner, tmp_path, frame, *FIT)
    metrics = _warned(result, out, "no usable signal")
    assert "No MQL threshold recommended" in result.output
    assert "MQL threshold 0" not in result.output
    low, high = metrics["holdout_auc_points_interval"]
    assert low <= 0.5 <= high and metrics["signal"] == "none"
    config = json.loads((out / "scoring_config.json").read_text())
    assert config["threshold"]["recommended"] is False
    assert config["model"]["holdout"]["signal"] == "none"
    report = (out / "report.html").read_text()
    top = report[: report.index('id="recommendation"') + 2000]
    assert "no usable signal" in top and "Pass a lead to sales" not in report


def test_a_sheet_with_signal_is_recommended(runner, tmp_path, leads):
    result, out = _fit(runner, tmp_path, leads, *FIT)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["signal"] == "usable" and metrics["holdout_auc_points_interval"][0] > 0.5
    config = json.loads((out / "scoring_config.json").read_text())
    assert config["threshold"]["recommended"] is True
    assert "MQL threshold" in result.output


# --- 4. a numeric column with some text ------------------------------------------


def test_a_number_column_with_one_text_value_stays_numeric_and_is_named(runner, tmp_path, leads):
    frame = leads.copy()
    frame["company_size"] = frame["company_size"].astype(object)
    frame.loc[6, "company_size"] = "about fifty"
    result, out = _fit(runner, tmp_path, frame, *FIT)
    _warned(result, out, r"'company_size' is read as numbers.*row 7: 'about fifty'")
    config = json.loads((out / "scoring_config.json").read_text())
    (size,) = [c for c in config["criteria"] if c["column"] == "company_size"]
    assert size["kind"] == "numeric"


def test_a_column_half_numbers_half_text_is_refused(runner, tmp_path, leads):
    frame = leads.copy()
    frame["company_size"] = frame["company_size"].astype(object)
    frame.loc[frame.index[::3], "company_size"] = "large"
    result, out = _fit(runner, tmp_path, frame, *FIT)
    line = _refused(result, out)
    assert re.search(r"'company_size' holds numbers in 6\d% of its rows", line)
    assert "row 1: 'large'" in line and "--type company_size=categorical" in line


# --- 10. CRM-export timestamps ----------------------------------------------------


@pytest.mark.parametrize(
    "form", ["%d %b, %Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%Y-%m-%dT%H:%M:%SZ", "epoch"]
)
def test_crm_timestamps_are_dates_left_out_or_used(runner, tmp_path, leads, form):
    frame = leads.copy()
    created = pd.to_datetime(frame["created_at"])
    if form == "epoch":
        frame["created_at"] = (created - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")
    else:
        frame["created_at"] = created.dt.strftime(form)
    result, out = _fit(runner, tmp_path, frame, *FIT)
    assert result.exit_code == 0, result.output
    assert "left out 'created_at': a date/time column" in result.output
    result, out = _fit(runner, tmp_path, frame, *FIT, "--date", "created_at")
    assert result.exit_code == 0, result.output
    config = json.loads((out / "scoring_config.json").read_text())
    assert config["training_data"]["period"]["start"][:10] == str(created.min().date())


def test_an_ambiguous_day_month_order_is_refused(runner, tmp_path, leads):
    frame = leads.copy()
    frame["created_at"] = pd.to_datetime(frame["created_at"]).dt.strftime("%m/%d/%Y")
    frame["created_at"] = frame["created_at"].str.replace(
        r"/(1[3-9]|2\d|3[01])/", "/01/", regex=True
    )
    result, out = _fit(runner, tmp_path, frame, *FIT, "--date", "created_at")
    line = _refused(result, out)
    assert "date column 'created_at'" in line and "ambiguous" in line


# --- 12. a column that leaks without reaching AUC 0.9 --------------------------------


def test_a_leaking_column_under_the_absolute_alarm_is_named(runner, tmp_path, leads):
    frame = leads.copy()
    noise = np.random.default_rng(1).normal(0, 1.0, len(frame))
    frame["call_minutes"] = np.round(4 + 2.5 * frame["converted"] + 2 * noise, 1)
    result, out = _fit(runner, tmp_path, frame, *FIT)
    metrics = _warned(result, out, r"column 'call_minutes' carries most of what the sheet knows")
    assert not any("'seniority'" in w for w in metrics["warnings"])


@pytest.mark.slow
def test_the_call_duration_of_the_bank_leads_is_named(runner, tmp_path, shared_data):
    out = tmp_path / "out"
    data = shared_data / "bank-additional-full.csv"
    args = ["fit", str(data), "--outcome", "y", "--bootstrap", "0", "--out", str(out)]
    result = runner.invoke(app, args)
    _warned(result, out, r"column 'duration' carries most of what the sheet knows")
    excluded = runner.invoke(app, [*args[:-1], str(tmp_path / "ex"), "--exclude", "duration"])
    assert excluded.exit_code == 0
    assert not json.loads((tmp_path / "ex" / "metrics.json").read_text())["warnings"]


def test_scoring_with_a_no_signal_config_says_so(runner, tmp_path):
    frame = make_leads(4000, seed=5)
    frame["converted"] = np.random.default_rng(0).random(len(frame)) < 0.2
    result, out = _fit(runner, tmp_path, frame, *FIT, "--quiet")
    assert result.exit_code == 0
    assert "no usable signal" in result.output  # warnings are shown even when quiet
    scored = runner.invoke(
        app,
        ["score", str(out / "scoring_config.json"), str(tmp_path / "leads.csv"),
         "--out", str(tmp_path / "scored.csv")],
    )  # fmt: skip
    assert scored.exit_code == 0, scored.output
    assert "warning: the config's history showed no usable signal" in scored.output
