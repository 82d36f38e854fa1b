"""Tests for calibrate.cli: the ``calibrate`` command, run through typer's CliRunner."""

from __future__ import annotations

import errno
import html
import io
import json
import os
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import calibrate
from calibrate.cli import app
from calibrate.datasets import make_leads
from calibrate.production.config import ScoringConfig

N_LEADS = 1500
FIT_ARGS = ["--outcome", "converted", "--id", "lead_id", "--date", "created_at"]
METRIC_KEYS = {
    "holdout_auc_model",
    "holdout_auc_points",
    "holdout_brier",
    "n_train",
    "n_holdout",
    "threshold",
}


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def fitted(runner, tmp_path_factory):
    """Leads made and fitted through the command line, once for the module."""
    root = tmp_path_factory.mktemp("cli")
    data = root / "leads.csv"
    made = runner.invoke(app, ["make-leads", str(data), "--n", str(N_LEADS), "--seed", "0"])
    out = root / "fit"
    result = runner.invoke(app, ["fit", str(data), *FIT_ARGS, "--out", str(out)])
    return {"root": root, "data": data, "made": made, "out": out, "result": result}


@pytest.fixture(scope="module")
def python_fit(fitted):
    """The same fit through the Python API."""
    return calibrate.fit(
        fitted["data"], outcome="converted", id="lead_id", date="created_at", seed=0
    )


@pytest.fixture(scope="module")
def small_leads():
    """Three hundred leads for inputs that fail before any fitting."""
    return make_leads(300, seed=1)


def _invoke(runner, args):
    return runner.invoke(app, [str(a) for a in args])


def _assert_one_clear_error(result, pattern):
    """Exit code 1, one line on stderr matching ``pattern``, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert re.search(pattern, result.stderr), result.stderr
    assert "Traceback" not in result.output


def _leftovers(folder):
    """Temporary files a failed atomic write would leave behind."""
    return sorted(p.name for p in folder.rglob("*.tmp"))


# --------------------------------------------------------------------------- options


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"calibrate {calibrate.__version__}\n"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ([], ["fit", "score", "make-leads"]),
        (["fit"], ["--outcome", "--out", "--id", "--date", "--exclude", "--type", "--positive"]),
        (["score"], ["--out", "--sep", "--breakdown"]),
        (["make-leads"], ["--n", "--seed"]),
    ],
)
def test_help(runner, command, expected):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout
    for word in expected:
        assert word in result.stdout


def test_no_arguments_shows_help(runner):
    result = runner.invoke(app, [])
    assert result.exit_code == 2
    assert "Usage" in result.stdout


# --------------------------------------------------------------------------- make-leads


def test_make_leads_writes_the_csv(fitted):
    assert fitted["made"].exit_code == 0, fitted["made"].output
    frame = pd.read_csv(fitted["data"], dtype=str, keep_default_na=False)
    assert len(frame) == N_LEADS
    assert frame.columns[0] == "lead_id"
    assert frame["lead_id"].is_unique
    assert set(frame["converted"]) == {"true", "false"}
    assert f"wrote {N_LEADS:,} leads" in fitted["made"].stdout


def test_make_leads_is_seeded(runner, tmp_path):
    for name in ("a.csv", "b.csv"):
        assert _invoke(runner, ["make-leads", tmp_path / name, "--n", 200]).exit_code == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (
        _invoke(runner, ["make-leads", tmp_path / "c.csv", "--n", 200, "--seed", 1]).exit_code == 0
    )
    assert (tmp_path / "c.csv").read_bytes() != (tmp_path / "a.csv").read_bytes()


def test_make_leads_parquet(runner, tmp_path):
    result = _invoke(runner, ["make-leads", tmp_path / "leads.parquet", "--n", 200])
    assert result.exit_code == 0
    frame = pd.read_parquet(tmp_path / "leads.parquet")
    # Parquet may store timestamps at a finer unit; the values are the same.
    pd.testing.assert_frame_equal(frame, make_leads(200, seed=0), check_dtype=False)


def test_make_leads_into_a_folder_fails_cleanly(runner, tmp_path):
    result = _invoke(runner, ["make-leads", tmp_path, "--n", 50])
    _assert_one_clear_error(result, r"cannot write to .*: it is a folder, not a file")
    assert _leftovers(tmp_path.parent) == []


# --------------------------------------------------------------------------- fit


def test_fit_writes_config_report_and_metrics(fitted):
    result = fitted["result"]
    assert result.exit_code == 0, result.output
    out = fitted["out"]
    assert sorted(p.name for p in out.iterdir()) == [
        "metrics.json",
        "report.html",
        "scoring_config.json",
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    assert METRIC_KEYS <= set(metrics)
    assert metrics["n_train"] + metrics["n_holdout"] == N_LEADS
    assert metrics["n_holdout"] == round(0.3 * N_LEADS)
    assert isinstance(metrics["threshold"], int)
    assert 0 <= metrics["threshold"] <= 100
    assert 0.5 < metrics["holdout_auc_points"] <= 1
    assert 0.5 < metrics["holdout_auc_model"] <= 1
    assert 0 < metrics["holdout_brier"] < 0.25
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "report.pdf" not in result.stdout
    config = ScoringConfig.load(out / "scoring_config.json")
    assert config.id_column == "lead_id"
    assert config.mql_threshold == metrics["threshold"]
    assert f"MQL threshold {metrics['threshold']}" in result.stdout
    assert f"wrote {out / 'metrics.json'}" in result.stdout


def test_fit_writes_the_pdf_on_request_and_never_leaves_a_stale_one(runner, fitted, tmp_path):
    out = tmp_path / "fit"
    args = ["fit", fitted["data"], *FIT_ARGS, "--bootstrap", "0", "--out", out]
    with_pdf = _invoke(runner, [*args, "--pdf"])
    assert with_pdf.exit_code == 0, with_pdf.output
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert f"wrote {out / 'report.pdf'}" in with_pdf.stdout
    # A later run without --pdf removes the earlier PDF rather than leave it
    # beside a newer page.
    without = _invoke(runner, args)
    assert without.exit_code == 0, without.output
    assert sorted(p.name for p in out.iterdir()) == [
        "metrics.json",
        "report.html",
        "scoring_config.json",
    ]


def test_fit_config_equals_the_python_api(fitted, python_fit):
    written = (fitted["out"] / "scoring_config.json").read_text()
    assert written == python_fit.config.to_json()


# --------------------------------------------------------------------------- score


def test_score_csv(runner, fitted, python_fit, tmp_path):
    out = tmp_path / "scores.csv"
    result = _invoke(
        runner, ["score", fitted["out"] / "scoring_config.json", fitted["data"], "--out", out]
    )
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out, dtype=str, keep_default_na=False)
    leads = pd.read_csv(fitted["data"], dtype=str, keep_default_na=False)
    assert scores.columns.tolist() == ["lead_id", "score", "level", "mql"]
    assert scores["lead_id"].tolist() == leads["lead_id"].tolist()
    assert scores["score"].str.fullmatch(r"\d+").all()
    score = scores["score"].astype(int).to_numpy()
    assert score.min() >= 0 and score.max() <= 100
    assert set(scores["mql"]) <= {"true", "false"}
    expected = python_fit.scorecard.predict_score(python_fit.leads.features)
    np.testing.assert_array_equal(score, expected)
    threshold = python_fit.metrics["threshold"]
    assert scores["mql"].tolist() == ["true" if s >= threshold else "false" for s in score]
    n_mql = int((score >= threshold).sum())
    assert f"scored {N_LEADS:,} leads, {n_mql:,} MQLs (threshold {threshold})" in result.stdout


def test_score_parquet_in_and_out_agree_with_csv(runner, fitted, tmp_path):
    config = fitted["out"] / "scoring_config.json"
    parquet_in = tmp_path / "leads.parquet"
    assert _invoke(runner, ["make-leads", parquet_in, "--n", N_LEADS]).exit_code == 0
    results = [
        _invoke(runner, ["score", config, fitted["data"], "--out", tmp_path / "a.csv"]),
        _invoke(runner, ["score", config, parquet_in, "--out", tmp_path / "b.parquet"]),
    ]
    assert [r.exit_code for r in results] == [0, 0], [r.output for r in results]
    from_csv = pd.read_csv(tmp_path / "a.csv", dtype={"lead_id": str})
    from_parquet = pd.read_parquet(tmp_path / "b.parquet")
    assert from_parquet.columns.tolist() == ["lead_id", "score", "level", "mql"]
    assert from_parquet["mql"].dtype == bool
    assert from_parquet["score"].tolist() == from_csv["score"].tolist()
    assert from_parquet["mql"].tolist() == from_csv["mql"].tolist()


def test_score_breakdown_adds_up(runner, fitted, tmp_path):
    config = ScoringConfig.load(fitted["out"] / "scoring_config.json")
    out = tmp_path / "scores.csv"
    result = _invoke(
        runner,
        [
            "score",
            fitted["out"] / "scoring_config.json",
            fitted["data"],
            "--out",
            out,
            "--breakdown",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    scores = pd.read_csv(out, dtype={"lead_id": str})
    names = [f"points_{c.name}" for c in config.criteria]
    assert scores.columns.tolist() == ["lead_id", *names, "score", "level", "mql"]
    total = (config.base_points + scores[names].sum(axis=1)).clip(0, 100)
    assert total.tolist() == scores["score"].tolist()


def test_score_and_export_sql_give_the_same_reasons(runner, fitted, tmp_path):
    import duckdb

    config = fitted["out"] / "scoring_config.json"
    out = tmp_path / "scores.csv"
    result = _invoke(runner, ["score", config, fitted["data"], "--out", out, "--reasons", "2",
                              "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out, dtype={"lead_id": str}, keep_default_na=False)
    assert scores.columns.tolist()[-2:] == ["reason_1", "reason_2"]
    assert scores["reason_1"].str.fullmatch(r".+ [+-]\d+").all()
    sql = tmp_path / "score.sql"
    result = _invoke(runner, ["export-sql", config, "--leads-table", "leads", "--reasons", "2",
                              "--out", sql])  # fmt: skip
    assert result.exit_code == 0, result.output
    con = duckdb.connect()
    con.execute(f"CREATE TABLE leads AS SELECT * FROM read_csv('{fitted['data']}')")
    got = con.execute(sql.read_text()).df().fillna("")
    got["lead_id"] = got["lead_id"].astype(str)
    got = got.set_index("lead_id").loc[scores["lead_id"]]
    assert got["reason_1"].tolist() == scores["reason_1"].tolist()
    assert got["reason_2"].tolist() == scores["reason_2"].tolist()


def test_export_writes_the_tool_body_and_its_set_up_sheet(runner, fitted, tmp_path):
    import jsonschema

    from calibrate.production.tools import tool_schema

    config = fitted["out"] / "scoring_config.json"
    out = tmp_path / "tools" / "hubspot.json"
    result = _invoke(runner, ["export", config, "--to", "hubspot", "--out", out,
                              "--leads", fitted["data"]])  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    jsonschema.validate(body, tool_schema("hubspot"))
    holdout = json.loads((fitted["out"] / "metrics.json").read_text())["holdout_auc_points"]
    assert f"{holdout:.4f} with the config" in result.stdout
    setup = out.with_suffix(".md").read_text()
    assert setup.startswith("# HubSpot set-up") and "| group | rule |" in setup
    assert "give every rule its condition" in setup  # the body holds no conditions
    assert f"hold-out leads (time-ordered): AUC {holdout:.4f}" in setup
    mautic = tmp_path / "mautic.json"
    result = _invoke(runner, ["export", config, "--to", "mautic", "--out", mautic])
    assert result.exit_code == 0, result.output
    jsonschema.validate(json.loads(mautic.read_text()), tool_schema("mautic"))
    assert "costs" not in mautic.with_suffix(".md").read_text()  # no leads: nothing measured


def test_export_refuses_an_unknown_tool_and_writes_nothing(runner, fitted, tmp_path):
    config = fitted["out"] / "scoring_config.json"
    out = tmp_path / "x.json"
    result = _invoke(runner, ["export", config, "--to", "marketo", "--out", out])
    _assert_one_clear_error(result, r"tool must be one of hubspot, mautic; got 'marketo'")
    result = _invoke(runner, ["export", config, "--to", "hubspot", "--out", out,
                              "--leads", tmp_path / "missing.csv"])  # fmt: skip
    assert result.exit_code == 1 and "missing.csv" in result.stderr
    result = _invoke(runner, ["export", config, "--to", "hubspot", "--out", tmp_path / "x.md"])
    _assert_one_clear_error(result, r"overwritten by the set-up sheet: give the body a .json name")
    assert list(tmp_path.iterdir()) == []


def test_score_without_id_numbers_rows_from_one(runner, fitted, tmp_path):
    out = tmp_path / "fit"
    fit = _invoke(runner, ["fit", fitted["data"], "--outcome", "converted", "--out", out, "-q"])
    assert fit.exit_code == 0, fit.output
    assert fit.stdout == ""
    scores_path = tmp_path / "scores.csv"
    result = _invoke(
        runner, ["score", out / "scoring_config.json", fitted["data"], "--out", scores_path]
    )
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(scores_path, dtype=str)
    assert scores.columns.tolist() == ["row", "score", "level", "mql"]
    assert scores["row"].tolist() == [str(i) for i in range(1, N_LEADS + 1)]


# --------------------------------------------------------------------------- bad input: fit


def _frame_case(change):
    def make(tmp_path, frame):
        path = tmp_path / "leads.csv"
        change(frame).to_csv(path, index=False)
        return path

    return make


def _bytes_case(content: bytes):
    def make(tmp_path, frame):
        path = tmp_path / "leads.csv"
        path.write_bytes(content)
        return path

    return make


def _set(column, row, value):
    def change(frame):
        frame = frame.astype({column: object})
        frame.loc[row, column] = value
        return frame

    return change


def _unchanged(frame):
    return frame


FIT_FAILURES = {
    "missing-outcome-column": (
        _frame_case(_unchanged),
        ["--outcome", "convertd", "--id", "lead_id"],
        r"outcome column 'convertd' not found; did you mean 'converted'\?",
    ),
    "outcome-column-with-brackets": (
        _frame_case(_unchanged),
        ["--outcome", "won[flag]"],
        r"outcome column 'won\[flag\]' not found",
    ),
    "outcome-third-value": (
        _frame_case(_set("converted", 2, "maybe")),
        ["--outcome", "converted"],
        r"outcome column 'converted' must have two values .*found 3: .*"
        r"'maybe' \(first in row 3\)",
    ),
    "outcome-single-class": (
        _frame_case(lambda f: f.assign(converted=False)),
        ["--outcome", "converted"],
        r"outcome column 'converted' has a single value 'False' in all 300 rows",
    ),
    "outcome-missing-values": (
        _frame_case(_set("converted", 3, "")),
        ["--outcome", "converted"],
        r"outcome column 'converted' is missing in 1 row\(s\) \(rows 4\)",
    ),
    "duplicate-lead-ids": (
        _frame_case(_set("lead_id", 5, "L0000001")),
        ["--outcome", "converted", "--id", "lead_id"],
        r"id column 'lead_id' has 1 duplicate id\(s\) in 2 rows: 'L0000001'",
    ),
    "unparseable-date": (
        _frame_case(_set("created_at", 6, "next week")),
        ["--outcome", "converted", "--date", "created_at"],
        r"date column 'created_at': 1 value\(s\) are not dates \(row 7: 'next week'\)",
    ),
    "empty-file": (
        _bytes_case(b""),
        ["--outcome", "converted"],
        r"cannot read .*leads\.csv: the file is empty",
    ),
    "header-only": (
        _bytes_case(b"lead_id,role,converted\n"),
        ["--outcome", "converted"],
        r"the file has a header but no lead rows",
    ),
    "binary-garbage": (
        _bytes_case(bytes(range(256)) * 8),
        ["--outcome", "converted"],
        r"cannot read .*leads\.csv: it looks like a binary file",
    ),
    "not-utf8": (
        _bytes_case("role,converted\nDirecteur général,true\nVP,false\n".encode("cp1252")),
        ["--outcome", "converted"],
        r"not utf-8-sig text at byte \d+; give the file's encoding",
    ),
    "missing-path": (
        lambda tmp_path, frame: tmp_path / "nope.csv",
        ["--outcome", "converted"],
        r"cannot read .*nope\.csv: no such file",
    ),
    "bad-type-kind": (
        _frame_case(_unchanged),
        ["--outcome", "converted", "--type", "role=text"],
        r"column 'role': type must be one of numeric, categorical, boolean, got 'text'",
    ),
    "bad-type-spec": (
        _frame_case(_unchanged),
        ["--outcome", "converted", "--type", "role"],
        r"--type takes COLUMN=KIND \(e\.g\. TrafficType=categorical\), got 'role'",
    ),
    "type-of-unknown-column": (
        _frame_case(_unchanged),
        ["--outcome", "converted", "--type", "rol=categorical"],
        r"criterion column 'rol' not found; did you mean 'role'\?",
    ),
    "type-that-does-not-fit": (
        _frame_case(_unchanged),
        ["--outcome", "converted", "--type", "role=numeric"],
        r"column 'role': \d+ value\(s\) are not a number \(row 1: '",
    ),
    "excluded-column-not-found": (
        _frame_case(_unchanged),
        ["--outcome", "converted", "--exclude", "duration:after the call"],
        r"excluded column 'duration' not found",
    ),
}


@pytest.mark.parametrize("case", list(FIT_FAILURES))
def test_fit_bad_input_fails_cleanly_and_writes_nothing(runner, small_leads, tmp_path, case):
    make, args, pattern = FIT_FAILURES[case]
    data = make(tmp_path, small_leads.copy())
    out = tmp_path / "out"
    result = _invoke(runner, ["fit", data, *args, "--out", out])
    _assert_one_clear_error(result, pattern)
    assert not out.exists()
    assert _leftovers(tmp_path) == []


def test_fit_out_is_a_file(runner, fitted, tmp_path):
    out = tmp_path / "taken"
    out.write_text("keep me")
    result = _invoke(runner, ["fit", fitted["data"], *FIT_ARGS, "--out", out, "-q"])
    _assert_one_clear_error(result, r"cannot write to .*taken: it is a file, not a folder")
    assert out.read_text() == "keep me"


# --------------------------------------------------------------------------- bad input: score


def _edited_config(path, config_text):
    data = json.loads(config_text)
    data["threshold"]["mql"] = 1  # still valid for the schema, but not what was fitted
    path.write_text(json.dumps(data))


def _drop_columns(*columns):
    def make(path, leads):
        leads.drop(columns=list(columns)).to_csv(path, index=False)

    return make


def _set_value(column, row, value):
    def make(path, leads):
        _set(column, row, value)(leads).to_csv(path, index=False)

    return make


SCORE_FAILURES = {
    "config-not-json": (
        lambda path, text: path.write_text("{not json"),
        None,
        r"config .*config\.json is not valid JSON",
    ),
    "config-checksum-edited": (
        _edited_config,
        None,
        r"checksum does not match the content: the config was edited by hand or damaged",
    ),
    "config-not-a-config": (
        lambda path, text: path.write_text('{"schema_version": "1.0"}'),
        None,
        r"config does not match the schema at \(top level\)",
    ),
    "config-unknown-version": (
        lambda path, text: path.write_text('{"schema_version": "9.9"}'),
        None,
        r"unsupported schema_version '9\.9'",
    ),
    "config-missing": (
        None,
        None,
        r"cannot read config .*config\.json",
    ),
    "data-missing-column": (
        "copy",
        _drop_columns("role"),
        r"1 column\(s\) the config needs are missing from the data: 'role'",
    ),
    "data-missing-id-column": (
        "copy",
        _drop_columns("lead_id", "seniority"),
        r"2 column\(s\) the config needs are missing from the data: 'lead_id', 'seniority'",
    ),
    "data-bad-number": (
        "copy",
        _set_value("company_size", 1, "lots"),
        r"column 'company_size': 1 value\(s\) are not a number \(row 2: 'lots'\)",
    ),
    "data-duplicate-ids": (
        "copy",
        _set_value("lead_id", 9, "L0000002"),
        r"id column 'lead_id' has 1 duplicate id\(s\) in 2 rows: 'L0000002'",
    ),
    "data-binary": (
        "copy",
        lambda path, leads: path.write_bytes(b"\x00PAR" * 100),
        r"it looks like a binary file",
    ),
    "data-empty": (
        "copy",
        lambda path, leads: path.write_bytes(b""),
        r"the file is empty",
    ),
    "data-missing": (
        "copy",
        lambda path, leads: None,
        r"cannot read .*leads\.csv: no such file",
    ),
}


@pytest.mark.parametrize("case", list(SCORE_FAILURES))
def test_score_bad_input_fails_cleanly_and_writes_nothing(runner, fitted, tmp_path, case):
    make_config, make_data, pattern = SCORE_FAILURES[case]
    config_text = (fitted["out"] / "scoring_config.json").read_text()
    config = tmp_path / "config.json"
    if make_config == "copy":
        config.write_text(config_text)
    elif make_config is not None:
        make_config(config, config_text)
    data = tmp_path / "leads.csv"
    if make_data is None:
        data.write_bytes(fitted["data"].read_bytes())
    else:
        make_data(data, pd.read_csv(fitted["data"], dtype=str, keep_default_na=False))
    out = tmp_path / "scores" / "scores.csv"
    result = _invoke(runner, ["score", config, data, "--out", out])
    _assert_one_clear_error(result, pattern)
    assert not out.exists()
    assert not out.parent.exists()
    assert _leftovers(tmp_path) == []


def test_score_out_is_a_folder(runner, fitted, tmp_path):
    result = _invoke(
        runner, ["score", fitted["out"] / "scoring_config.json", fitted["data"], "--out", tmp_path]
    )
    _assert_one_clear_error(result, r"cannot write to .*: it is a folder, not a file")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- policies


@pytest.mark.parametrize(
    "options, policy",
    [
        (
            [
                "--policy",
                "sales_capacity",
                "--reps",
                "2",
                "--follow-ups-per-rep-per-day",
                "3",
                "--date",
                "created_at",
            ],
            "sales_capacity",
        ),
        (
            [
                "--policy",
                "sales_capacity",
                "--capacity-per-week",
                "50",
                "--incoming-per-week",
                "400",
            ],
            "sales_capacity",
        ),
        (["--policy", "target", "--target-recall", "0.8"], "target"),
        (["--policy", "target", "--target-precision", "0.2"], "target"),
    ],
)
def test_every_policy_is_reachable_and_recorded(runner, fitted, tmp_path, options, policy):
    out = tmp_path / "fit"
    result = _invoke(
        runner,
        [
            "fit",
            fitted["data"],
            "--outcome",
            "converted",
            "--id",
            "lead_id",
            "--out",
            out,
            "--bootstrap",
            "0",
            "--levels",
            "A=70,B=40",
            *options,
        ],
    )
    assert result.exit_code == 0, result.output
    config = ScoringConfig.load(out / "scoring_config.json")
    assert config.threshold["policy"]["name"] == policy
    assert {p["name"] for p in config.threshold["policies"]} >= {"expected_value", policy}
    assert [lv["name"] for lv in config.threshold["levels"]] == ["A", "B", "nurture"]


def test_a_policy_without_its_parameters_fails_in_one_line(runner, fitted, tmp_path):
    out = tmp_path / "fit"
    result = _invoke(
        runner,
        ["fit", fitted["data"], "--outcome", "converted", "--out", out, "--policy", "target"],
    )
    assert result.exit_code == 1
    assert "policy 'target' needs a target precision or recall" in result.stderr
    assert not out.exists()


def test_current_sheet_comparison_from_the_cli(runner, fitted, tmp_path):
    sheet = tmp_path / "today.csv"
    sheet.write_text("criterion,condition,points\nseniority,in VP|C-level,20\nthreshold,,10\n")
    out = tmp_path / "fit"
    result = _invoke(
        runner,
        [
            "fit",
            fitted["data"],
            "--outcome",
            "converted",
            "--id",
            "lead_id",
            "--out",
            out,
            "--bootstrap",
            "0",
            "--current-sheet",
            sheet,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Sheet in use today: hold-out AUC" in result.stdout
    assert "Compared with the sheet in use today" in (out / "report.html").read_text()


# --------------------------------------------------------------------------- validate, rules, diff


def test_validate_accepts_a_fitted_config_and_refuses_an_edited_one(runner, fitted, tmp_path):
    path = fitted["out"] / "scoring_config.json"
    result = _invoke(runner, ["validate", path])
    assert result.exit_code == 0 and "valid (schema 1.1" in result.stdout
    edited = tmp_path / "edited.json"
    edited.write_text(path.read_text().replace('"points": 0', '"points": 1', 1))
    _assert_one_clear_error(_invoke(runner, ["validate", edited]), "checksum does not match")


def _out_of_bounds(fitted, tmp_path, edit) -> str:
    """The fitted config edited by ``edit``, its checksum recomputed as a careful editor would."""
    from calibrate.production.config import _checksum

    data = json.loads((fitted["out"] / "scoring_config.json").read_text())
    edit(data)
    data["checksum"] = _checksum({k: v for k, v in data.items() if k != "checksum"})
    path = tmp_path / "absurd.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda d: d["criteria"][0]["bands"][0].update(points=10**30),
            r"^error: config does not match the schema at criteria/0/bands/0/points: 10{30} is "
            "greater than the maximum of 10000$",
        ),
        (
            lambda d: d["score"].update(base_points=1e30),
            r"schema at score/base_points: 1e\+30 is not of type 'integer'$",
        ),
        (
            lambda d: d["criteria"][0]["bands"][0].update(points=5000),
            r"^error: criterion '\w+', band '[^']+': points 5000 are outside -1000 to 1000, 10 "
            "times the width of the score scale 0-100$",
        ),
        (
            lambda d: d["threshold"]["levels"][0].update(min_score=1e30),
            r"schema at threshold/levels/0/min_score: 1e\+30 is not of type 'integer'$",
        ),
    ],
)
def test_validate_score_and_export_sql_refuse_absurd_numbers(
    runner, fitted, tmp_path, edit, match
):
    path = _out_of_bounds(fitted, tmp_path, edit)
    _assert_one_clear_error(_invoke(runner, ["validate", path]), match)
    scores = tmp_path / "scores.csv"
    _assert_one_clear_error(
        _invoke(runner, ["score", path, fitted["data"], "--out", scores]), match
    )
    query = tmp_path / "score.sql"
    _assert_one_clear_error(
        _invoke(runner, ["export-sql", path, "--leads-table", "leads", "--out", query]), match
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["absurd.json"]


# --------------------------------------------------------------------------- signing


@pytest.fixture(scope="module")
def signed(runner, fitted, tmp_path_factory):
    """Two fits of the same leads, seed and key, signed through the command line."""
    root = tmp_path_factory.mktemp("signed")
    env = {"CALIBRATE_KEY": "correct horse battery staple"}
    outs = [root / "a", root / "b"]
    results = [
        runner.invoke(
            app,
            [
                "fit",
                str(fitted["data"]),
                *FIT_ARGS,
                "--bootstrap",
                "0",
                "-q",
                "--out",
                str(out),
                "--sign-key-env",
                "CALIBRATE_KEY",
            ],
            env=env,
        )
        for out in outs
    ]
    return {
        "env": env,
        "outs": outs,
        "results": results,
        "config": outs[0] / "scoring_config.json",
    }


def test_fit_signs_the_config_deterministically(signed):
    assert [r.exit_code for r in signed["results"]] == [0, 0], signed["results"][0].output
    a, b = (out / "scoring_config.json" for out in signed["outs"])
    assert a.read_bytes() == b.read_bytes()
    data = json.loads(a.read_text())
    assert re.fullmatch("hmac-sha256:[0-9a-f]{64}", data["signature"])
    key = signed["env"]["CALIBRATE_KEY"].encode()
    assert ScoringConfig.load(a, key=key) == ScoringConfig.load(a)


def test_signing_leaves_the_rest_of_the_config_as_unsigned(signed, fitted):
    """A signed config is the unsigned one, byte for byte, plus its signature line."""
    unsigned = calibrate.fit(
        fitted["data"], outcome="converted", id="lead_id", date="created_at", seed=0, bootstrap=0
    ).config.to_json()
    data = json.loads(signed["config"].read_text())
    data.pop("signature")
    assert json.dumps(data, indent=2, ensure_ascii=False) + "\n" == unsigned


@pytest.mark.parametrize("command", ["validate", "score", "export-sql"])
def test_a_key_verifies_the_signature(runner, fitted, signed, tmp_path, command):
    out = tmp_path / "out.file"
    args = {
        "validate": ["validate", signed["config"]],
        "score": ["score", signed["config"], fitted["data"], "--out", out],
        "export-sql": ["export-sql", signed["config"], "--leads-table", "leads", "--out", out],
    }[command]
    key = ["--verify-key-env", "CALIBRATE_KEY"]
    result = runner.invoke(app, [str(a) for a in [*args, *key]], env=signed["env"])
    assert result.exit_code == 0, result.output
    if command == "validate":
        assert "signature verified)" in result.stdout
    else:
        assert out.exists()
    # Another key, or a config that is not signed: one line, nothing written.
    other = runner.invoke(
        app, [str(a) for a in [*args, *key]], env={"CALIBRATE_KEY": "another key"}
    )
    unsigned = [
        fitted["out"] / "scoring_config.json" if a == signed["config"] else a for a in args
    ]
    bare = runner.invoke(app, [str(a) for a in [*unsigned, *key]], env=signed["env"])
    out.unlink(missing_ok=True)
    for result, pattern in [
        (other, "^error: signature does not match: the config was not signed with this key"),
        (bare, "^error: config is not signed, but a signing key was given"),
    ]:
        _assert_one_clear_error(result, pattern)
        assert not out.exists()


@pytest.mark.parametrize("value", [None, ""])
@pytest.mark.parametrize("command", ["fit", "validate", "score", "export-sql"])
def test_a_missing_or_empty_key_variable_is_one_line(
    runner, fitted, tmp_path, monkeypatch, command, value
):
    config, out = fitted["out"] / "scoring_config.json", tmp_path / "out"
    verify = ["--verify-key-env", "NO_SUCH_KEY"]
    args = {
        "fit": ["fit", fitted["data"], *FIT_ARGS, "--out", out, "--sign-key-env", "NO_SUCH_KEY"],
        "validate": ["validate", config, *verify],
        "score": ["score", config, fitted["data"], "--out", out, *verify],
        "export-sql": ["export-sql", config, "--leads-table", "l", "--out", out, *verify],
    }[command]
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    env = {} if value is None else {"NO_SUCH_KEY": value}
    result = runner.invoke(app, [str(a) for a in args], env=env)
    state = "not set" if value is None else "empty"
    _assert_one_clear_error(
        result, f"^error: environment variable NO_SUCH_KEY is {state}; it should hold the signing"
    )
    assert not out.exists()


def test_rules_csv_and_markdown(runner, fitted, tmp_path):
    path = fitted["out"] / "scoring_config.json"
    result = _invoke(runner, ["rules", path])
    assert result.exit_code == 0
    sheet = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    config = ScoringConfig.load(path)
    assert list(sheet.columns) == ["criterion", "group", "condition", "points", "in_practice"]
    bands = sum(len(c.bands) for c in config.criteria)
    assert len(sheet) == 1 + bands + 1 + len(config.threshold["fast_track"])
    assert sheet["points"].iloc[0] == str(config.base_points)
    out = tmp_path / "rules.md"
    assert _invoke(runner, ["rules", path, "--out", out]).exit_code == 0
    assert out.read_text().startswith("| criterion | group | condition | points |")
    page = tmp_path / "rules.html"
    assert _invoke(runner, ["rules", path, "--out", page]).exit_code == 0
    html = page.read_text()
    assert html.count("<tr") == len(sheet) + 1


def test_rules_html_escapes_values(runner, tmp_path):
    from calibrate.sheet.criteria import Band, Criterion

    hostile = "<script>alert(1)</script>"
    crit = Criterion(hostile, "role", "categorical", "explicit", bands=(
        Band(hostile, "levels", values=(hostile,), points=10),
        Band("Other", "other", points=0), Band("Missing", "missing", points=0)))  # fmt: skip
    path = tmp_path / "config.json"
    ScoringConfig(
        criteria=(crit,), base_points=0, threshold={"mql": 5, "policy": {"name": "manual"}}
    ).save(path)
    page = tmp_path / "rules.html"
    assert _invoke(runner, ["rules", path, "--out", page]).exit_code == 0
    html = page.read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


HOSTILE = (
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "a|b \\| c",
    "**loud** `code` ~~gone~~ &lt;",
)


def _hostile_rules_config(tmp_path):
    from calibrate.sheet.criteria import Band, Criterion

    bands = (
        *(Band(v, "levels", values=(v,), points=i) for i, v in enumerate(HOSTILE)),
        Band("Other", "other", points=0),
        Band("Missing\r\nband", "missing", points=0),
    )
    crit = Criterion("role\nname | <b>x</b>", "role", "categorical", "explicit", bands=bands)
    path = tmp_path / "config.json"
    config = ScoringConfig(
        criteria=(crit,), base_points=0, threshold={"mql": 5, "policy": {"name": "manual"}}
    )
    config.save(path)
    return path, config


def test_rules_markdown_shows_values_as_text_one_row_per_rule(runner, tmp_path):
    from markdown_it import MarkdownIt

    from calibrate.production.rules import rule_sheet

    path, config = _hostile_rules_config(tmp_path)
    out = tmp_path / "rules.md"
    result = _invoke(runner, ["rules", path, "--out", out])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    sheet = rule_sheet(config)
    assert text.count("\n") == len(sheet) + 2  # header, rule, one line per rule
    # Rendered as a Markdown renderer does (HTML allowed): text, never markup.
    page = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text)
    for tag in ("<img", "<script", "<a ", "<b>", "<strong", "<code", "<s>", "<del"):
        assert tag not in page, tag
    rows = re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
    assert len(rows) == len(sheet) + 1
    cells = [re.findall(r"<t[dh]>(.*?)</t[dh]>", row, flags=re.S) for row in rows]
    assert {len(c) for c in cells} == {len(sheet.columns)}
    # Every cell renders as exactly the rule's text (a line break as <br>).
    as_text = [
        [html.escape(str(v), quote=False).replace('"', "&quot;") for v in row]
        for row in [sheet.columns, *sheet.itertuples(index=False)]
    ]
    assert cells == [[re.sub(r"\r\n|\n", "<br>", v) for v in row] for row in as_text]
    assert cells[2][0] == "role<br>name | &lt;b&gt;x&lt;/b&gt;"
    assert "&lt;img src=x onerror=alert(1)&gt;" in cells[2][2]


def test_rules_markdown_is_the_same_whatever_is_installed(runner, tmp_path, monkeypatch):
    """An optional Markdown package (tabulate) changes nothing: one renderer, always escaping."""
    import sys
    import types

    path, _ = _hostile_rules_config(tmp_path)
    out = tmp_path / "rules.md"
    assert _invoke(runner, ["rules", path, "--out", out]).exit_code == 0
    expected = out.read_bytes()
    fake = types.ModuleType("tabulate")
    fake.__version__ = "0.9.0"
    fake.tabulate = lambda *args, **kwargs: "<img src=x onerror=alert(1)>"
    monkeypatch.setitem(sys.modules, "tabulate", fake)
    result = _invoke(runner, ["rules", path, "--out", out])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == expected


# --------------------------------------------------------------------------- output folders


def _os_error(code):
    def fail(*args, **kwargs):
        # As the system reports it: with the name of the temporary file.
        raise OSError(code, os.strerror(code), "/out/.scoring_config.json.k2j4.tmp")

    return fail


def test_fit_on_a_full_disk_names_the_folder_and_leaves_nothing(
    runner, fitted, tmp_path, monkeypatch
):
    out = tmp_path / "new" / "fit"
    monkeypatch.setattr(os, "fsync", _os_error(errno.ENOSPC))
    result = _invoke(runner, ["fit", fitted["data"], *FIT_ARGS, "--bootstrap", 0, "--out", out])
    _assert_one_clear_error(result, f"^error: cannot write to {re.escape(str(out))}: no space ")
    assert ".tmp" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.EROFS, "read-only file system"), (errno.EACCES, "permission denied")],
)
@pytest.mark.parametrize("command", ["score", "rules", "export-sql", "make-leads"])
def test_an_unwritable_folder_is_named_in_one_line(
    runner, fitted, tmp_path, monkeypatch, command, code, reason
):
    import tempfile

    config = fitted["out"] / "scoring_config.json"
    out = tmp_path / "out" / "file.csv"
    args = {
        "score": ["score", config, fitted["data"], "--out", out],
        "rules": ["rules", config, "--out", out],
        "export-sql": ["export-sql", config, "--leads-table", "leads", "--out", out],
        "make-leads": ["make-leads", out, "--n", 100],
    }[command]
    monkeypatch.setattr(tempfile, "mkstemp", _os_error(code))
    result = _invoke(runner, args)
    _assert_one_clear_error(result, f"^error: cannot write to {re.escape(str(out.parent))}: ")
    assert result.stderr.endswith(f": {reason}\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("at", "when"), [(1, "before"), (2, "before"), (4, "after")])
def test_fit_interrupted_during_the_renames_completes_and_succeeds(
    runner, fitted, tmp_path, monkeypatch, at, when
):
    """Ctrl-C before the 1st or 2nd of the four renames, or just after the last: exit 0."""
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if (len(calls), when) == (at, "before"):
            raise KeyboardInterrupt
        real(src, dst)
        if (len(calls), when) == (at, "after"):
            raise KeyboardInterrupt

    out = tmp_path / "fit"
    monkeypatch.setattr(os, "replace", replace)
    result = _invoke(runner, ["fit", fitted["data"], *FIT_ARGS, "--bootstrap", 0, "--out", out])
    assert result.exit_code == 0, result.output
    names = ["metrics.json", "report.html", "scoring_config.json"]
    assert sorted(p.name for p in out.iterdir()) == names
    assert f"wrote {out / 'scoring_config.json'}" in result.stdout
    ScoringConfig.load(out / "scoring_config.json")


def _raise_interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_says_whether_anything_was_written(runner, fitted, tmp_path, monkeypatch):
    from calibrate import cli

    config, out = fitted["out"] / "scoring_config.json", tmp_path / "rules.csv"
    # While writing: nothing is left, and the message says so.
    monkeypatch.setattr(os, "fsync", _raise_interrupt)
    result = _invoke(runner, ["rules", config, "--out", out])
    assert (result.exit_code, result.stderr) == (130, "interrupted; nothing written\n")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    # Once written, the message does not claim otherwise.
    monkeypatch.setattr(cli._out, "print", _raise_interrupt)
    result = _invoke(runner, ["rules", config, "--out", out])
    assert (result.exit_code, result.stderr) == (130, f"interrupted after writing {out}\n")
    assert out.exists()


def test_diff_lists_changes_and_level_moves(runner, fitted, tmp_path):
    other = tmp_path / "other"
    result = _invoke(
        runner,
        [
            "fit",
            fitted["data"],
            "--outcome",
            "converted",
            "--id",
            "lead_id",
            "--out",
            other,
            "--seed",
            "5",
            "--bootstrap",
            "0",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    old, new = fitted["out"] / "scoring_config.json", other / "scoring_config.json"
    same = _invoke(runner, ["diff", old, old])
    assert same.exit_code == 0 and same.stdout.strip() == "no changes"
    moved = _invoke(runner, ["diff", old, new, "--leads", fitted["data"]])
    assert moved.exit_code == 0
    assert "~ " in moved.stdout and "leads change level" in moved.stdout
    # The leads may come from a database table as well as from a file.
    import duckdb

    db = tmp_path / "crm.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE leads AS SELECT * FROM read_csv_auto('{fitted['data']}')")
    from_db = _invoke(runner, ["diff", old, new, "--leads", db, "--table", "leads"])
    assert from_db.exit_code == 0, from_db.output
    assert from_db.stdout == moved.stdout
    no_leads = _invoke(runner, ["diff", old, new, "--table", "leads"])
    assert no_leads.exit_code == 1 and "give --leads" in no_leads.output


# --------------------------------------------------------------------------- report

HOSTILE_CATEGORY = "<script>alert(1)</script>"
HOSTILE_COLUMN = '"><img src=x onerror=alert(1)>'


def test_report_writes_html_and_pdf(runner, fitted, tmp_path):
    out = tmp_path / "review"
    config = fitted["out"] / "scoring_config.json"
    result = _invoke(runner, ["report", config, fitted["data"], "--out", out, "--pdf"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.pdf"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "the points sheet on labelled leads" in html
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF-")
    threshold = ScoringConfig.load(config).mql_threshold
    assert f"On {N_LEADS:,} leads: AUC 0." in result.stdout
    assert f"MQL threshold {threshold} passes" in result.stdout
    assert f"wrote {out / 'report.pdf'}" in result.stdout
    assert result.stderr == ""
    again = _invoke(
        runner, ["report", config, fitted["data"], "--out", tmp_path / "again", "-q", "--pdf"]
    )
    assert again.exit_code == 0 and again.stdout == ""
    for name in ("report.html", "report.pdf"):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


def test_report_compares_with_the_current_sheet(runner, fitted, tmp_path):
    sheet = tmp_path / "today.csv"
    sheet.write_text("criterion,condition,points\nseniority,in VP|C-level,20\nthreshold,,10\n")
    out = tmp_path / "review"
    result = _invoke(
        runner,
        [
            "report",
            fitted["out"] / "scoring_config.json",
            fitted["data"],
            "--outcome",
            "converted",
            "--current-sheet",
            sheet,
            "--out",
            out,
        ],
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Compared with the sheet in use today" in html
    assert "seniority in VP, C-level" in html


def _report_failures(fitted, tmp_path):
    config = fitted["out"] / "scoring_config.json"
    frame = pd.read_csv(fitted["data"], dtype=str, keep_default_na=False)
    one_class = tmp_path / "one_class.csv"
    frame.assign(converted="true").to_csv(one_class, index=False)
    no_role = tmp_path / "no_role.csv"
    frame.drop(columns="role").to_csv(no_role, index=False)
    edited = tmp_path / "edited.json"
    edited.write_text(config.read_text().replace('"points": 0', '"points": 1', 1))
    return {
        "no-such-outcome": (
            [config, fitted["data"], "--outcome", "Converted"],
            r"outcome column 'Converted' not found; did you mean 'converted'\?",
        ),
        "one-class": ([config, one_class], r"outcome column 'converted' has a single value"),
        "missing-criterion": ([config, no_role], r"missing from the data: 'role'"),
        "no-such-data": (
            [config, tmp_path / "nope.csv"],
            r"cannot read .*nope\.csv: no such file",
        ),
        "edited-config": ([edited, fitted["data"]], r"checksum does not match"),
        "bad-positive": (
            [config, fitted["data"], "--positive", "maybe"],
            r"positive value 'maybe' is not a value of outcome column 'converted'",
        ),
        "no-such-sheet": (
            [config, fitted["data"], "--current-sheet", tmp_path / "today.yaml"],
            r"cannot read current sheet .*today\.yaml: no such file",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "no-such-outcome",
        "one-class",
        "missing-criterion",
        "no-such-data",
        "edited-config",
        "bad-positive",
        "no-such-sheet",
    ],
)
def test_report_bad_input_fails_cleanly_and_writes_nothing(runner, fitted, tmp_path, case):
    args, pattern = _report_failures(fitted, tmp_path)[case]
    out = tmp_path / "review"
    result = _invoke(runner, ["report", *args, "--out", out])
    _assert_one_clear_error(result, pattern)
    assert not out.exists()
    assert _leftovers(tmp_path) == []


def test_report_out_is_a_file(runner, fitted, tmp_path):
    out = tmp_path / "taken"
    out.write_text("keep me")
    result = _invoke(
        runner, ["report", fitted["out"] / "scoring_config.json", fitted["data"], "--out", out]
    )
    _assert_one_clear_error(result, r"cannot write to .*taken: it is a file, not a folder")
    assert out.read_text() == "keep me"


def test_fit_and_report_show_markup_from_the_data_as_text(runner, tmp_path):
    from pypdf import PdfReader

    leads = make_leads(1200, seed=3)
    leads.loc[leads.index[::5], "industry"] = HOSTILE_CATEGORY
    leads = leads.rename(columns={"lead_source": HOSTILE_COLUMN})
    data = tmp_path / "leads.csv"
    leads.to_csv(data, index=False)
    fit_out, report_out = tmp_path / "fit", tmp_path / "review"
    fitted = _invoke(
        runner, ["fit", data, *FIT_ARGS, "--bootstrap", "0", "--out", fit_out, "--quiet", "--pdf"]
    )
    assert fitted.exit_code == 0, fitted.output
    reviewed = _invoke(
        runner,
        ["report", fit_out / "scoring_config.json", data, "--out", report_out, "-q", "--pdf"],
    )
    assert reviewed.exit_code == 0, reviewed.output
    for out in (fit_out, report_out):
        html = (out / "report.html").read_text(encoding="utf-8")
        for raw, shown in [
            (HOSTILE_CATEGORY, "&lt;script&gt;alert(1)&lt;/script&gt;"),
            (HOSTILE_COLUMN, "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        ]:
            assert raw not in html
            assert shown in html
        pdf = PdfReader(io.BytesIO((out / "report.pdf").read_bytes()))
        text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pdf.pages))
        assert HOSTILE_CATEGORY in text
        assert HOSTILE_COLUMN in text


def test_report_help_names_its_options(runner):
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    for word in ("--outcome", "--positive", "--activities", "--current-sheet", "--date", "--out"):
        assert word in result.stdout


def test_fit_adds_an_optional_activity_feature_on_request(runner, tmp_path):
    leads, log = make_leads(2500, seed=3, activities=True)
    leads.to_csv(tmp_path / "leads.csv", index=False)
    log.to_parquet(tmp_path / "log.parquet", index=False)
    base = ["fit", str(tmp_path / "leads.csv"), "--outcome", "converted", "--id", "lead_id",
            "--decided-at", "decided_at", "--activities", str(tmp_path / "log.parquet"),
            "--bootstrap", "0", "--no-decay", "--quiet"]  # fmt: skip
    plain = runner.invoke(app, [*base, "--out", str(tmp_path / "plain")])
    weeks = runner.invoke(
        app, [*base, "--extra-feature", "distinct_weeks", "--out", str(tmp_path / "weeks")]
    )
    assert plain.exit_code == 0 and weeks.exit_code == 0, weeks.output
    names = {
        d: {c["name"] for c in json.loads((tmp_path / d / "scoring_config.json").read_text())[
            "criteria"]}
        for d in ("plain", "weeks")
    }  # fmt: skip
    assert "distinct_weeks_90d" in names["weeks"] - names["plain"]
    sql = runner.invoke(
        app, ["export-sql", str(tmp_path / "weeks" / "scoring_config.json"),
              "--leads-table", "leads", "--activities-table", "activities"]
    )  # fmt: skip
    assert sql.exit_code == 0 and "distinct_weeks_90d" in sql.output
    wrong = runner.invoke(
        app, [*base, "--extra-feature", "weekdays", "--out", str(tmp_path / "x")]
    )
    assert wrong.exit_code == 1 and "weekdays" in wrong.output


# --- monitor ---------------------------------------------------------------------------


def test_monitor_writes_its_json_and_page_and_says_the_verdict(runner, fitted, tmp_path):
    config = fitted["out"] / "scoring_config.json"
    new = tmp_path / "new.csv"
    make_leads(2500, seed=9).to_csv(new, index=False)
    out = tmp_path / "monitor"
    args = ["monitor", config, new, "--outcome", "converted", "--date", "created_at"]
    result = _invoke(runner, [*args, "--every", "quarter", "--out", out])
    assert result.exit_code == 0, result.output
    assert (
        "2,500 leads: 0 alert(s) to act on" in result.stdout and "keep the sheet" in result.stdout
    )
    data = json.loads((out / "monitor.json").read_text(encoding="utf-8"))
    assert data["recalibrate"] is False and data["n_leads"] == 2500
    assert len(data["periods"]) == 8  # two years of leads, by quarter
    assert (out / "monitor.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_monitor_names_a_bad_period_in_one_line(runner, fitted, small_leads, tmp_path):
    data = tmp_path / "leads.csv"
    small_leads.to_csv(data, index=False)
    result = _invoke(runner, ["monitor", fitted["out"] / "scoring_config.json", data,
                              "--every", "fortnight", "--date", "created_at",
                              "--out", tmp_path / "m"])  # fmt: skip
    _assert_one_clear_error(result, r"every must be one of week, month, quarter; got 'fortnight'")
    assert not (tmp_path / "m").exists()


def test_fit_recency_half_life_is_read_and_a_bad_one_named(runner, fitted, tmp_path):
    args = ["fit", fitted["data"], *FIT_ARGS, "--bootstrap", "0", "--out", tmp_path / "w"]
    result = _invoke(runner, [*args, "--recency-half-life", "90", "--quiet"])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "w" / "scoring_config.json").read_text(encoding="utf-8"))
    assert config["model"]["recency"] == {"half_life_days": 90, "chosen_by": "given"}
    bad = _invoke(runner, [*args, "--recency-half-life", "soon"])
    _assert_one_clear_error(bad, r"--recency-half-life takes a number of days or 'auto'")


# --- backtest --------------------------------------------------------------------------


def test_backtest_writes_its_json_and_page_and_says_the_cadence(runner, tmp_path):
    data = tmp_path / "history.csv"
    make_leads(6000, seed=3).to_csv(data, index=False)
    out = tmp_path / "bt"
    args = ["backtest", data, "--outcome", "converted", "--date", "created_at", "--id", "lead_id"]
    result = _invoke(runner, [*args, "--min-train", "2500", "--recency-half-life", "180",
                              "--every", "quarter", "--out", out])  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert saved["settings"] == {"every": "quarter", "window_months": 12,
                                 "recency_half_life": 180.0, "min_train": 2500}  # fmt: skip
    assert saved["recommendation"]["text"].split(":")[0] in result.stdout.replace("\n", " ")
    assert (out / "backtest.html").exists()
    bad = _invoke(runner, [*args, "--every", "week", "--out", tmp_path / "b2"])
    _assert_one_clear_error(bad, r"every must be one of month, quarter; got 'week'")


def test_fit_keeps_a_previous_sheets_structure_and_threshold(runner, fitted, tmp_path):
    old = fitted["out"] / "scoring_config.json"
    args = ["fit", fitted["data"], *FIT_ARGS, "--bootstrap", "0", "--quiet"]
    result = _invoke(runner, [*args, "--keep-structure", old, "--keep-threshold",
                              "--out", tmp_path / "kept"])  # fmt: skip
    assert result.exit_code == 0, result.output
    before = json.loads(old.read_text(encoding="utf-8"))
    after = json.loads((tmp_path / "kept" / "scoring_config.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in after["criteria"]] == [c["name"] for c in before["criteria"]]
    assert after["threshold"]["mql"] == before["threshold"]["mql"]
    assert after["threshold"]["policy"]["name"] == "kept"
    alone = _invoke(runner, [*args, "--keep-threshold", "--out", tmp_path / "x"])
    _assert_one_clear_error(alone, r"--keep-threshold needs the previous sheet")
