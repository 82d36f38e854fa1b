"""SQL export: the query gives the Python scorer's output, in DuckDB, for any names and values."""

from __future__ import annotations

import dataclasses
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import calibrate
from calibrate.cli import app
from calibrate.errors import ConfigError, ParameterError
from calibrate.production.sql_export import DIALECTS, scoring_sql
from calibrate.sheet.activity import ActivitySpec
from calibrate.sheet.criteria import MISSING_TOKENS, WHITESPACE, Band, Criterion
from calibrate.sheet.feature import ActivityFeature, DetailRule, Kernel
from calibrate.sheet.kinds import FEATURE_KINDS
from sql_cases import assert_same_scores, messy_leads, python_scores, rich_config, with_kinds


@pytest.fixture(scope="module")
def config():
    return rich_config()


@pytest.fixture(scope="module")
def scored(config):
    leads, log = messy_leads(20_000, seed=5)
    return leads, log


def duck(leads: pd.DataFrame, log: pd.DataFrame | None = None, *, leads_table="leads"):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("leads_frame", leads)
    ident = sqlglot.exp.to_identifier(leads_table, quoted=True).sql("duckdb")
    con.execute(f"CREATE TABLE {ident} AS SELECT * FROM leads_frame")
    if log is not None:
        con.register("log_frame", log)
        con.execute("CREATE TABLE acts AS SELECT * FROM log_frame")
    return con


def test_duckdb_scores_every_lead_as_the_python_scorer(config, scored):
    leads, log = scored
    expected = python_scores(config, leads, log)
    sql = scoring_sql(config, leads_table="leads", activities_table="acts")
    got = duck(leads, log).execute(sql).df()
    assert_same_scores(expected, got, "lead_id", "duckdb")
    # The case is not trivial: every criterion's points vary, and fast-track matters.
    for column in expected.columns:
        if column.startswith("points_"):
            assert expected[column].nunique() > 1, column
    assert (expected["mql"] & (expected["score"] < config.mql_threshold)).any()


@pytest.mark.parametrize("kind", FEATURE_KINDS)
def test_every_registered_kind_scores_as_the_python_scorer(config, scored, kind):
    """Each kind's SQL (from the registry) gives the pandas evaluation's points, in DuckDB."""
    config = with_kinds(config, [kind])
    leads, log = scored
    expected = python_scores(config, leads, log)
    sql = scoring_sql(config, leads_table="leads", activities_table="acts")
    assert_same_scores(expected, duck(leads, log).execute(sql).df(), "lead_id", "duckdb")
    assert expected[f"points_example_{kind}"].nunique() > 1


@pytest.mark.parametrize("as_of", ["2025-03-01T12:00:00+02:00", "2024-06-30"])
def test_duckdb_as_of_a_date_matches(config, scored, as_of):
    leads, log = scored
    expected = python_scores(config, leads, log, as_of=as_of)
    sql = scoring_sql(config, leads_table="leads", activities_table="acts", as_of=as_of)
    got = duck(leads, log).execute(sql).df()
    assert_same_scores(expected, got, "lead_id", "duckdb")
    default = python_scores(config, leads, log)
    assert not expected["score"].equals(default["score"])


def test_as_of_now_reads_the_clock_when_the_query_runs(config, scored):
    leads, log = scored
    leads, log = leads.head(3000), log[log["lead_id"].isin(leads["lead_id"].head(3000))]
    sql = scoring_sql(config, leads_table="leads", activities_table="acts", as_of="now")
    assert "CURRENT_TIMESTAMP" in sql.upper()
    before = pd.Timestamp.now(tz="UTC").floor("s")
    got = duck(leads, log).execute(sql).df()
    after = pd.Timestamp.now(tz="UTC").ceil("s")
    first = python_scores(config, leads, log, as_of=before)
    last = python_scores(config, leads, log, as_of=after)
    if first.equals(last):  # no activity changed its age in between (nearly always)
        assert_same_scores(first, got, "lead_id", "duckdb")


def test_padded_log_ids_are_the_same_leads(config, scored):
    # The lead table's ids are read stripped: the log's are matched the same way.
    leads, log = scored
    expected = python_scores(config, leads, log.assign(lead_id=log["lead_id"].str.strip()))
    padded = log.assign(lead_id=" " + log["lead_id"] + "\t")
    sql = scoring_sql(config, leads_table="leads", activities_table="acts")
    assert_same_scores(expected, duck(leads, padded).execute(sql).df(), "lead_id", "duckdb")


def test_lead_table_only_config_and_a_config_without_id(leads_5k):
    result = calibrate.fit(leads_5k, outcome="converted", bootstrap=0, exclude=["lead_id"])
    config = result.config
    assert config.id_column is None and config.activity_spec is None
    with pytest.raises(ParameterError, match="no id column"):
        scoring_sql(config, leads_table="leads")
    sql = scoring_sql(config, leads_table="leads", id_column="lead_id")
    got = duck(leads_5k).execute(sql).df()
    expected = calibrate.score_leads(config, leads_5k, breakdown=True)
    expected.insert(0, "lead_id", leads_5k["lead_id"].to_numpy())
    assert_same_scores(expected.drop(columns="row"), got, "lead_id", "duckdb")


def test_duckdb_reasons_match_the_python_scorer_word_for_word(config, scored):
    leads, log = scored
    expected = python_scores(config, leads, log, reasons=4)
    sql = scoring_sql(config, leads_table="leads", activities_table="acts", reasons=4)
    assert_same_scores(expected, duck(leads, log).execute(sql).df(), "lead_id", "duckdb")
    # Pair rules are among the reasons, and the sheet's ties are broken the same way.
    reasons = expected[[f"reason_{k}" for k in range(1, 5)]].stack()
    assert reasons.str.contains(" and ").any()
    points = expected[[c for c in expected.columns if c.startswith("points_")]].abs()
    top_two = np.sort(points.to_numpy(), axis=1)[:, -2:]
    assert (top_two[:, 0] == top_two[:, 1]).sum() > 20


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_renders_the_reasons(config, dialect):
    sql = scoring_sql(config, dialect=dialect, leads_table="crm.leads",
                      activities_table="crm.activities", reasons=2)  # fmt: skip
    (statement,) = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    names = [c.alias_or_name for c in statement.selects]
    assert names[-3:] == ["mql", "reason_1", "reason_2"]


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_reasons_must_be_a_whole_number(config, bad):
    with pytest.raises(ParameterError, match="reasons must be a whole number"):
        scoring_sql(config, leads_table="leads", activities_table="acts", reasons=bad)


def test_query_is_deterministic_and_names_the_config(config):
    first = scoring_sql(config, leads_table="leads", activities_table="acts")
    assert first == scoring_sql(config, leads_table="leads", activities_table="acts")
    assert config.to_dict()["checksum"] in first.splitlines()[0]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_renders_one_statement(config, dialect):
    sql = scoring_sql(
        config, dialect=dialect, leads_table="crm.leads", activities_table="crm.activities"
    )
    statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    assert len(statements) == 1
    assert isinstance(statements[0], sqlglot.exp.Select)
    names = {c.alias_or_name for c in statements[0].selects}
    assert {"lead_id", "score", "level", "mql"} <= names
    assert {f"points_{c.name}" for c in config.criteria} <= names
    epoch = {
        "duckdb": "EPOCH(",
        "postgres": "DATE_PART('epoch'",
        "spark": "UNIX_TIMESTAMP(",
        "snowflake": "epoch_second",
        "bigquery": "UNIX_SECONDS(",
    }[dialect]
    assert epoch in sql
    if dialect == "bigquery":
        assert "ESCAPE" not in sql  # backslash is BigQuery's LIKE escape already
    else:
        assert "ESCAPE" in sql


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dialect": "oracle"}, "dialect must be one of"),
        ({"activities_table": None}, "activity table"),
        ({"leads_table": "  "}, "leads table name is empty"),
        ({"as_of": "not a date"}, "not a timestamp"),
    ],
)
def test_bad_parameters_are_named(config, kwargs, match):
    args = {"leads_table": "leads", "activities_table": "acts", **kwargs}
    with pytest.raises(ParameterError, match=match):
        scoring_sql(config, **args)


def test_hostile_table_names_stay_names(config, scored):
    leads, log = scored
    name = 'x"; DROP TABLE sentinel; --'
    con = duck(leads.head(500), log, leads_table=name)
    con.execute("CREATE TABLE sentinel AS SELECT 1 AS x")
    quoted = sqlglot.exp.to_identifier(name, quoted=True).sql("duckdb")
    got = con.execute(scoring_sql(config, leads_table=quoted, activities_table="acts")).df()
    assert len(got) == 500
    assert con.execute("SELECT COUNT(*) FROM sentinel").fetchall() == [(1,)]
    # Unparseable text is taken as one quoted name, never as SQL.
    sql = scoring_sql(config, leads_table="leads; DROP TABLE sentinel", activities_table="acts")
    assert '"leads; DROP TABLE sentinel"' in sql


def test_cli_writes_the_query(config, scored, tmp_path):
    path = tmp_path / "config.json"
    config.save(path)
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["export-sql", str(path), "--leads-table", "leads", "--activities-table", "acts"],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == scoring_sql(config, leads_table="leads", activities_table="acts")
    out = tmp_path / "score.sql"
    result = runner.invoke(
        app,
        [
            "export-sql", str(path), "--dialect", "postgres", "--leads-table", "leads",
            "--activities-table", "acts", "--as-of", "2025-01-01", "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_bytes().decode() == scoring_sql(
        config,
        dialect="postgres",
        leads_table="leads",
        activities_table="acts",
        as_of="2025-01-01",
    )


def test_cli_errors_name_the_problem_and_write_nothing(config, tmp_path):
    path = tmp_path / "config.json"
    config.save(path)
    out = tmp_path / "score.sql"
    result = CliRunner().invoke(
        app, ["export-sql", str(path), "--leads-table", "leads", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "activity table" in result.output
    assert not out.exists()


def test_a_config_out_of_bounds_gets_no_query(config):
    """The export checks the bounds itself: no literal too large for the engine's integers."""
    bent = dataclasses.replace(config)
    band = dataclasses.replace(bent.criteria[0].bands[0], points=10**30)
    criterion = dataclasses.replace(bent.criteria[0], bands=(band, *bent.criteria[0].bands[1:]))
    object.__setattr__(bent, "criteria", (criterion, *bent.criteria[1:]))  # past the checks
    with pytest.raises(ConfigError, match=r"points 10{30} are outside -1000 to 1000"):
        scoring_sql(bent, leads_table="leads", activities_table="acts")


# -- hostile names and values -------------------------------------------------------------

PIECES = ["'", '"', "`", ";", "--", "/*", "*/", "\\", "%", "_", "*", "?", "\n", "\t", " ", "é",
          "🙂", "DROP TABLE sentinel", "x", "Y", "0"]  # fmt: skip
hostile = st.one_of(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=6),
)


def _value(text: str) -> bool:
    """A category value as the config stores it: stripped, not a missing token."""
    return text == text.strip(WHITESPACE) and text.lower() not in MISSING_TOKENS


@st.composite
def hostile_cases(draw):
    names = draw(
        st.lists(
            hostile.filter(lambda s: s.strip()),
            min_size=14,
            max_size=14,
            unique_by=lambda s: s.lower(),
        )  # fmt: skip
    )
    reserved = {"score", "level", "mql"}
    if any(n.lower() in reserved or n.lower().startswith("points_") for n in names):
        names = [f"n{i}{n}" for i, n in enumerate(names)]
    lead_id, cat_col, num_col, a_lead, a_type, a_time, a_detail = names[:7]
    crit_cat, crit_num, f_count, f_distinct, f_days, f_recency, f_both = names[7:14]
    # Band values as a fitted config stores them (stripped, not missing), mostly; a hand-made
    # config may list padded values or missing tokens, which no lead can match.
    value = st.one_of(hostile.filter(_value), hostile.filter(_value), hostile)
    values = draw(st.lists(value, min_size=3, max_size=3, unique=True))
    types = draw(st.lists(hostile, min_size=3, max_size=3, unique=True))
    pattern = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=3).map("".join))
    edges = sorted(
        set(draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=3)))
    )
    levels = draw(st.lists(hostile, min_size=2, max_size=2, unique=True))
    return {
        "names": names, "lead_id": lead_id, "cat_col": cat_col, "num_col": num_col,
        "activity": (a_lead, a_type, a_time, a_detail),
        "criteria": (crit_cat, crit_num), "features": (f_count, f_distinct, f_days, f_recency,
                                                        f_both),
        "values": values, "types": types, "pattern": pattern, "edges": edges, "levels": levels,
        "seed": draw(st.integers(0, 2**16)),
    }  # fmt: skip


def _numeric(name, column, edges, points):
    cuts = [None, *edges, None]
    bands = tuple(
        Band(f"b{i}", "range", lower=lo, upper=hi, points=points[i])
        for i, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:], strict=True))
    )
    return Criterion(name, column, "numeric", "implicit" if name != column else "explicit",
                     bands=(*bands, Band("Missing", "missing", points=points[-1])))  # fmt: skip


def _hostile_config(case):
    rng = np.random.default_rng(case["seed"])
    a_lead, a_type, a_time, a_detail = case["activity"]
    types = case["types"]
    f_count, f_distinct, f_days, f_recency, f_both = case["features"]
    becomes = types[2]
    spec = ActivitySpec(
        features=(
            ActivityFeature(f_count, "count", (types[0], becomes), kernel=Kernel("decay", 7.0)),
            ActivityFeature(f_distinct, "distinct_details", (types[1],)),
            ActivityFeature(f_days, "active_days", (types[0], types[1]), window_days=30),
            ActivityFeature(f_recency, "recency"),
            ActivityFeature(f_both, "all_of", (types[0], types[1])),
        ),
        detail_rules=(DetailRule(case["pattern"], becomes, types[1]),),
        known_types=tuple(sorted(types)),
        lookback_days=400,
        lead_id=a_lead,
        activity_type=a_type,
        occurred_at=a_time,
        detail=a_detail,
    )
    activities = spec.to_dict()
    activities["decision_time"] = {"column": None, "offset_days": 0.0}

    def pts(k):
        return [int(p) for p in rng.integers(-15, 30, size=k)]

    values = case["values"]
    cat = Criterion(case["criteria"][0], case["cat_col"], "categorical", "explicit", bands=(
        Band("a", "levels", values=(values[0], values[1]), points=pts(1)[0]),
        Band("b", "levels", values=(values[2],), points=pts(1)[0]),
        Band("Other", "other", points=pts(1)[0]), Band("Missing", "missing", points=pts(1)[0]),
    ))  # fmt: skip
    edges = case["edges"]
    criteria = [
        cat,
        _numeric(case["criteria"][1], case["num_col"], edges, pts(len(edges) + 2)),
        _numeric(f_count, f_count, [0.5, 1.7], pts(4)),
        _numeric(f_distinct, f_distinct, [1.0], pts(3)),
        _numeric(f_days, f_days, [1.0, 3.0], pts(4)),
        _numeric(f_recency, f_recency, [7.0, 60.0], pts(4)),
        Criterion(f_both, f_both, "boolean", "implicit", bands=(
            Band("yes", "levels", values=("true",), points=pts(1)[0]),
            Band("no", "levels", values=("false",), points=0),
            Band("Missing", "missing", points=0))),
    ]  # fmt: skip
    threshold = {
        "mql": 40,
        "policy": {"name": "manual"},
        "levels": [
            {"name": case["levels"][0], "min_score": 50},
            {"name": case["levels"][1], "min_score": 0},
        ],
        "fast_track": [{"kind": "activity", "activity_type": types[1], "within_days": 14}],
    }
    return calibrate.ScoringConfig(
        criteria=tuple(criteria), base_points=30, threshold=threshold,
        id_column=case["lead_id"], activities=activities,
    )  # fmt: skip


def _hostile_data(case, n=60):
    rng = np.random.default_rng(case["seed"])
    # Ids as stored (the Python scorer writes them stripped; the query returns them as stored).
    ids = [f"{case['names'][0][:3].strip(WHITESPACE)}'{i};" for i in range(n)]
    values = case["values"]
    pool = [*values, f" {values[0]}\t", "NULL", None, *case["types"], "'; DROP TABLE sentinel;--"]
    numbers = np.array([*case["edges"], np.nan, -2e6, 2e6, 0.0])
    leads = pd.DataFrame(
        {
            case["lead_id"]: ids,
            case["cat_col"]: pd.Series([pool[i] for i in rng.integers(0, len(pool), n)],
                                       dtype=object),
            case["num_col"]: numbers[rng.integers(0, len(numbers), n)],
        }
    )  # fmt: skip
    a_lead, a_type, a_time, a_detail = case["activity"]
    m = 400
    types = [*case["types"], "unknown 'type"]
    details = [case["pattern"].replace("*", "zz").replace("?", "q"), case["pattern"], "x", None,
               "ab", "%_\\"]  # fmt: skip
    log = pd.DataFrame(
        {
            a_lead: [ids[i] for i in rng.integers(0, n, m)],
            a_type: [types[i] for i in rng.integers(0, len(types), m)],
            a_time: pd.Timestamp("2025-01-01")
            - pd.to_timedelta(rng.integers(-86400 * 3, 86400 * 500, m), unit="s"),
            a_detail: pd.Series([details[i] for i in rng.integers(0, len(details), m)],
                                dtype=object),
        }
    )  # fmt: skip
    return leads, log


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=hostile_cases())
def test_hostile_names_and_values_run_safely_and_score_alike(case):
    config = _hostile_config(case)
    leads, log = _hostile_data(case)
    as_of = "2025-01-01 00:00:00"
    expected = calibrate.score_leads(config, leads, activities=log, as_of=as_of, breakdown=True)
    sql = scoring_sql(config, leads_table="leads", activities_table="acts", as_of=as_of)
    assert len([s for s in sqlglot.parse(sql, read="duckdb") if s is not None]) == 1
    con = duck(leads, log)
    con.execute("CREATE TABLE sentinel AS SELECT 1 AS x")
    tables_before = con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    got = con.execute(sql).df()
    assert_same_scores(expected, got, case["lead_id"], "duckdb")
    assert con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall() == (
        tables_before
    )
    assert con.execute("SELECT COUNT(*) FROM sentinel").fetchall() == [(1,)]


def test_a_hostile_example_by_hand():
    """One fixed hostile case, so a failure shows without a search."""
    case = {
        "names": ['id"; --', "role'", "size;", "lead`", "type/*", "at*/", "det\\", "crit%",
                  "num_", 'count"', "dist\n", "days", "rec", "both"],
        "values": ["VP'; DROP TABLE sentinel; --", 'A "quoted" value', "50%_off\\"],
        "types": ["demo';", 'form"', "page\\view"],
        "pattern": "/pri%_*",
        "edges": [0.1, 10.0],
        "levels": ["hot'", "cold\""],
        "seed": 3,
    }  # fmt: skip
    n = case["names"]
    case.update(lead_id=n[0], cat_col=n[1], num_col=n[2], activity=tuple(n[3:7]),
                criteria=tuple(n[7:9]), features=tuple(n[9:14]))  # fmt: skip
    test_hostile_names_and_values_run_safely_and_score_alike.hypothesis.inner_test(case)
    assert re.search(
        r"'VP''; DROP TABLE sentinel; --'",
        scoring_sql(
            _hostile_config(case), leads_table="l", activities_table="a", as_of="2025-01-01"
        ),
    )
