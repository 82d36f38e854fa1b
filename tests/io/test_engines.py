"""Tests for calibrate.io.engines: the activity log's work where the log lives.

A fit whose log is a PostgreSQL table runs its log queries inside PostgreSQL;
one whose log is a Spark DataFrame (or a ``spark:`` path) inside Spark. Both
must give the config of the same fit on files, byte for byte (apart from the
source it names). The services are real: a throwaway PostgreSQL server and a
local Spark session (tests/services.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import calibrate
from calibrate.cli import app
from calibrate.errors import DataError
from calibrate.io.activities import open_engine, read_activities, register_leads
from calibrate.io.engines import DuckDBEngine, PostgresEngine
from calibrate.io.sources import Source
from calibrate.sheet.activity import ActivitySpec
from calibrate.sheet.sql import LogQueries
from services import load_frame

ROOT = Path(__file__).resolve().parents[2]
LEADS = ROOT / "data" / "example_leads.csv"
LOG = ROOT / "data" / "example_activities.parquet"
#: The README's fit without the bootstrap refits (they do not touch the log).
FIT = {
    "outcome": "converted",
    "id": "lead_id",
    "decided_at": "decided_at",
    "activity_columns": {"detail": "detail"},
    "detail_rules": [
        "page_view:/pricing*=pricing_page_view",
        "page_view:/careers*=careers_page_view",
    ],
    "combos": ["whitepaper_download+case_study_view"],
    "bootstrap": 0,
}


def _without_source(config) -> dict:
    """The config as JSON, without what names the lead table's source (and the checksum)."""
    record = json.loads(config.to_json())
    record["training_data"].pop("source")
    record.pop("checksum")
    return record


@pytest.fixture(scope="module")
def local_fit():
    return calibrate.fit(LEADS, activities=LOG, **FIT)


# --- the queries themselves, in DuckDB ---------------------------------------------


def test_age_counts_are_the_counted_activities_grouped_by_lead_type_and_day():
    log = pd.DataFrame(
        {
            "lead_id": ["a", "a", "a", "a", "b", "b", "c"],
            "activity_type": ["web", "web", "web", "email", "web", "web", "web"],
            "occurred_at": pd.to_datetime(
                [
                    "2026-01-10 08:00:00",  # a: 4 days and 22 hours before: day 4
                    "2026-01-10 20:00:00",  # a: day 4 again
                    "2026-01-15 06:00:00",  # a: after the decision, left out
                    "2026-01-01 00:00:00",  # a: email, day 14
                    "2023-01-01 00:00:00",  # b: older than the 30-day look-back, left out
                    "2026-01-14 23:59:59",  # b: one second before: day 0
                    "2026-01-01 00:00:00",  # c: not a lead
                ]
            ),
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": ["b", "a"],
            "decision_time": pd.to_datetime(["2026-01-15 00:00:00", "2026-01-15 06:00:00"]).astype(
                "datetime64[s]"
            ),
        }
    )
    spec = ActivitySpec(lookback_days=30)
    with DuckDBEngine() as engine:
        read_activities(engine, log, spec)
        register_leads(engine, leads)
        rows = engine.query(LogQueries("duckdb", 30).age_counts(["email", "web"]))
        only_web = engine.query(LogQueries("duckdb", 30).age_counts(["web"]))
    got = sorted(tuple(int(v) for v in row) for row in rows.itertuples(index=False, name=None))
    # Positions are the leads' rows (b is 0, a is 1); types their place in the list given.
    assert got == [(0, 1, 0, 1), (1, 0, 14, 1), (1, 1, 4, 2)]
    assert sorted(only_web["n"].tolist()) == [1, 2]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_log_queries_are_written_in_the_engines_dialect(dialect):
    queries = LogQueries(dialect, 90)
    sql = queries.age_counts(["email_open", "webinar"])
    epoch = {"duckdb": "EPOCH(", "postgres": "DATE_PART('epoch'", "spark": "UNIX_TIMESTAMP("}
    assert epoch[dialect] in sql
    assert "7776000" in sql  # the 90-day look-back, in seconds
    assert "GROUP BY" in sql


# --- PostgreSQL ------------------------------------------------------------------------


def _url(info) -> str:
    return f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"


@pytest.fixture(scope="module")
def pg_log(postgres_server_info):
    """The example log in PostgreSQL: as it is, with text timestamps, and with an empty type."""
    import psycopg

    log = pd.read_parquet(LOG)
    text = log.assign(occurred_at=log["occurred_at"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    broken = log.copy()
    broken.loc[[5, 9], "activity_type"] = ""
    with psycopg.connect(postgres_server_info.dsn, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute("DROP SCHEMA IF EXISTS pushdown CASCADE")
            cur.execute("CREATE SCHEMA pushdown")
            load_frame(cur, log, "pushdown", "activities")
            load_frame(cur, text, "pushdown", "text_activities")
            load_frame(cur, broken, "pushdown", "broken_activities")
        yield _url(postgres_server_info), broken.loc[[5, 9], "lead_id"].tolist()
        with conn.cursor() as cur:
            cur.execute("DROP SCHEMA pushdown CASCADE")


def test_a_fit_inside_postgresql_equals_the_fit_on_files(pg_log, local_fit):
    url, _ = pg_log
    lines = []
    pushed = calibrate.fit(
        LEADS, activities=Source(url, table="pushdown.activities"), progress=lines.append, **FIT
    )
    assert pushed.config.to_json() == local_fit.config.to_json()
    pd.testing.assert_frame_equal(pushed.behaviour.features, local_fit.behaviour.features)
    # The work ran in PostgreSQL, and what came back is per lead, not per activity.
    engine_lines = [line for line in lines if " in PostgreSQL" in line]
    assert any(line.startswith("half-life statistic") for line in engine_lines), lines
    assert any(line.startswith("behaviour features") for line in engine_lines), lines
    for line in engine_lines:
        back = int(re.search(r"([\d,]+) rows back", line)[1].replace(",", ""))
        assert back < 100_594 / 2, line


def test_postgresql_engine_returns_per_lead_rows(pg_log):
    url, _ = pg_log
    spec = ActivitySpec(detail="detail")
    leads = pd.read_csv(LEADS)
    frame = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].astype(str),
            "decision_time": pd.to_datetime(leads["decided_at"]).astype("datetime64[s]"),
        }
    )
    with open_engine(Source(url, table="pushdown.activities"), spec) as engine:
        assert isinstance(engine, PostgresEngine)
        read = read_activities(engine, None, spec)
        register_leads(engine, frame)
        types = sorted(read["types"])
        stats = engine.query(LogQueries("postgres", 1095).age_counts(types))
    assert read["rows"] == 100_594
    assert len(stats) < read["rows"]
    assert stats["n"].sum() <= read["rows"]
    assert stats["position"].between(0, len(frame) - 1).all()
    assert stats["type"].between(0, len(types) - 1).all()


def test_a_bad_log_in_postgresql_is_refused_naming_its_leads(pg_log):
    url, leads = pg_log
    with pytest.raises(DataError) as caught:
        calibrate.fit(LEADS, activities=Source(url, table="pushdown.broken_activities"), **FIT)
    message = str(caught.value)
    assert "column 'activity_type' is empty in 2 row(s)" in message
    assert all(repr(lead) in message for lead in leads), message


def test_a_missing_log_table_in_postgresql_is_one_clear_error(pg_log):
    url, _ = pg_log
    with pytest.raises(DataError, match="not found"):
        calibrate.fit(LEADS, activities=Source(url, table="pushdown.no_such_log"), **FIT)


def test_text_timestamps_in_postgresql_are_read_whole_and_said(pg_log, local_fit):
    url, _ = pg_log
    fallback = calibrate.fit(
        LEADS, activities=Source(url, table="pushdown.text_activities"), **FIT
    )
    assert any("holds text, not timestamps" in w for w in fallback.warnings), fallback.warnings
    assert "holds text" in " ".join(fallback.metrics["warnings"])
    pd.testing.assert_frame_equal(fallback.behaviour.features, local_fit.behaviour.features)


# --- Spark -----------------------------------------------------------------------------


def test_a_fit_on_spark_dataframes_equals_the_fit_on_files(spark, local_fit):
    leads = spark.read.option("header", "true").csv(str(LEADS))
    log = spark.read.parquet(str(LOG))
    lines = []
    pushed = calibrate.fit(leads, activities=log, progress=lines.append, **FIT)
    assert _without_source(pushed.config) == _without_source(local_fit.config)
    assert pushed.config.training_data["source"] == "Spark DataFrame"
    assert any(line.startswith("behaviour features in Spark") for line in lines), lines
    # calibrate leaves no view of its own behind in the session.
    assert not [t.name for t in spark.catalog.listTables() if t.name.startswith("calibrate_")]


def test_spark_score_is_the_python_scorer_and_stays_in_spark(spark, local_fit):
    import calibrate.spark

    leads = spark.read.option("header", "true").csv(str(LEADS))
    log = spark.read.parquet(str(LOG))
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        scored = calibrate.spark.score(leads, local_fit.config, activities=log, reasons=2)
        assert type(scored).__module__.startswith("pyspark.")  # a DataFrame, not collected
        assert spark.conf.get("spark.sql.session.timeZone") == "America/New_York"
        got = scored.toPandas()
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    expected = calibrate.score_leads(
        local_fit.config,
        pd.read_csv(LEADS, dtype=str, keep_default_na=False),
        activities=pd.read_parquet(LOG),
        reasons=2,
    )
    got = got.sort_values("lead_id").reset_index(drop=True)
    expected = expected.sort_values("lead_id").reset_index(drop=True)
    assert got["score"].astype(int).tolist() == expected["score"].astype(int).tolist()
    for column in ("reason_1", "reason_2"):
        assert got[column].fillna("").tolist() == expected[column].fillna("").tolist()


def test_spark_score_refuses_a_pandas_frame():
    import calibrate.spark

    with pytest.raises(calibrate.ParameterError, match="Spark DataFrame"):
        calibrate.spark.score(pd.read_csv(LEADS), "no-config.json")


def test_cli_fits_from_spark_paths(spark, local_fit, tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "fit", f"spark:{LEADS}",
            "--activities", f"spark:{LOG}",
            "--outcome", "converted", "--id", "lead_id", "--decided-at", "decided_at",
            "--activity-detail-col", "detail",
            "--detail-rule", "page_view:/pricing*=pricing_page_view",
            "--detail-rule", "page_view:/careers*=careers_page_view",
            "--combo", "whitepaper_download+case_study_view",
            "--bootstrap", "0", "--out", str(tmp_path),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "in Spark" in result.stderr
    config = calibrate.ScoringConfig.load(tmp_path / "scoring_config.json")
    assert _without_source(config) == _without_source(local_fit.config)
    assert config.training_data["source"] == f"spark:{LEADS}"


# --- Spark sources ---------------------------------------------------------------------


def test_a_spark_source_names_its_table_after_the_prefix():
    assert Source("spark:crm.leads").kind == "spark"
    with pytest.raises(DataError, match="after 'spark:'"):
        Source("spark:crm.leads", table="other")
    with pytest.raises(DataError, match="after 'spark:'"):
        Source("spark:  ")


def test_spark_master_without_a_spark_source_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(
        app,
        ["fit", str(LEADS), "--outcome", "converted", "--spark-master", "local[1]",
         "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: --spark-master is for spark: sources; no source is one"
    assert not any(tmp_path.iterdir())
