"""Exactness: the Python scorer, DuckDB, a real PostgreSQL server and Spark agree lead for lead.

100,000 generated leads with 2.3 million activities are scored four ways with
the same config, which has a criterion of every registered activity feature
kind (see :func:`sql_cases.with_kinds`) and pair rules; every lead must get
the same points for every criterion, the same score, level and MQL flag, and
the same three reason codes, word for word. The PostgreSQL
server and the Spark session are real (see docs/testing.md); the test is
skipped, with the reason, when the machine cannot run them.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from calibrate.production.sql_export import scoring_sql
from calibrate.sheet.kinds import FEATURE_KINDS
from services import load_frame
from sql_cases import assert_same_scores, messy_leads, python_scores, rich_config, with_kinds

N_LEADS = 100_000
REASONS = 3


@pytest.fixture(scope="module")
def config():
    return with_kinds(rich_config())


def test_the_config_has_every_registered_kind(config):
    assert {f.kind for f in config.activity_spec.features} == set(FEATURE_KINDS)


@pytest.fixture(scope="module")
def leads_and_log():
    return messy_leads(N_LEADS, seed=17)


@pytest.fixture(scope="module")
def expected(config, leads_and_log):
    leads, log = leads_and_log
    out = python_scores(config, leads, log, reasons=REASONS)
    assert len(out) == N_LEADS
    # Reasons are not trivial: leads differ in their first and their third.
    assert out["reason_1"].nunique() > 10 and out["reason_3"].nunique() > 10
    return out


def test_100k_leads_duckdb(config, leads_and_log, expected):
    leads, log = leads_and_log
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("leads_frame", leads)
    con.register("log_frame", log)
    con.execute("CREATE TABLE leads AS SELECT * FROM leads_frame")
    con.execute("CREATE TABLE activities AS SELECT * FROM log_frame")
    sql = scoring_sql(config, leads_table="leads", activities_table="activities", reasons=REASONS)
    assert_same_scores(expected, con.execute(sql).df(), "lead_id", "duckdb")


def test_100k_leads_postgres(config, leads_and_log, expected, postgres_dsn):
    import psycopg

    leads, log = leads_and_log
    with psycopg.connect(postgres_dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")
        # As the query's header says: JIT compiling takes minutes, running it seconds.
        assert "SET jit = off" in scoring_sql(config, dialect="postgres", leads_table="leads",
                                              activities_table="activities")  # fmt: skip
        cur.execute("SET jit = off")
        load_frame(cur, leads, "leads")
        load_frame(cur, log, "activities")
        cur.execute("ANALYZE")
        cur.execute(scoring_sql(config, dialect="postgres", leads_table="leads",
                                activities_table="activities", reasons=REASONS))  # fmt: skip
        names = [d.name for d in cur.description]
        got = pd.DataFrame(cur.fetchall(), columns=names)
        cur.execute("DROP TABLE leads, activities")
    assert_same_scores(expected, got, "lead_id", "postgres")


def test_100k_leads_spark(config, leads_and_log, expected, spark):
    leads, log = leads_and_log
    # Arrow moves the 2.3 million activities into Spark in seconds, not minutes.
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    for name, frame in (("leads", leads), ("activities", log)):
        text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
                and not pd.api.types.is_datetime64_any_dtype(frame[c])]  # fmt: skip
        frame = frame.astype(dict.fromkeys(text, object))
        df = spark.createDataFrame(frame.replace({np.nan: None}))
        df.createOrReplaceTempView(name)
    sql = scoring_sql(config, dialect="spark", leads_table="leads", activities_table="activities",
                      reasons=REASONS)  # fmt: skip
    got = spark.sql(sql).toPandas()
    assert_same_scores(expected, got, "lead_id", "spark")
