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
    import re

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
        app, ["score", str(out / "scoring_config.json"), str(tmp_path / "leads.csv"),
              "--out", str(scored)]
    )
    assert done.exit_code == 0, done.output
    assert pd.read_csv(scored)["score"].between(0, 100).all()
