"""Exactness: the Python scorer, DuckDB, a real PostgreSQL server and Spark agree lead for lead.

100,000 generated leads with 2.3 million activities are scored four ways with
the same config; every lead must get the same points for every criterion, the
same score, level and MQL flag. The PostgreSQL server and the Spark session
are real (see docs/testing.md); the test is skipped, with the reason, when the
machine cannot run them.
"""

from __future__ import annotations

import io

import duckdb
import numpy as np
import pandas as pd
import pytest

from calibrate.sql_export import scoring_sql
from sql_cases import assert_same_scores, messy_leads, python_scores, rich_config

N_LEADS = 100_000


@pytest.fixture(scope="module")
def config():
    return rich_config()


@pytest.fixture(scope="module")
def leads_and_log():
    return messy_leads(N_LEADS, seed=17)


@pytest.fixture(scope="module")
def expected(config, leads_and_log):
    leads, log = leads_and_log
    out = python_scores(config, leads, log)
    assert len(out) == N_LEADS
    return out


def test_100k_leads_duckdb(config, leads_and_log, expected):
    leads, log = leads_and_log
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("leads_frame", leads)
    con.register("log_frame", log)
    con.execute("CREATE TABLE leads AS SELECT * FROM leads_frame")
    con.execute("CREATE TABLE activities AS SELECT * FROM log_frame")
    sql = scoring_sql(config, leads_table="leads", activities_table="activities")
    assert_same_scores(expected, con.execute(sql).df(), "lead_id", "duckdb")


def _pg_type(dtype) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_float_dtype(dtype):
        return "DOUBLE PRECISION"
    if pd.api.types.is_integer_dtype(dtype):
        return "BIGINT"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "TIMESTAMP"
    return "TEXT"


def _pg_load(cur, name: str, frame: pd.DataFrame):
    from psycopg import sql

    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_pg_type(t)))
        for c, t in frame.dtypes.items()
    )
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(name), columns))
    # NULL is written \N; an empty string stays an empty string.
    text = frame.to_csv(index=False, header=False, na_rep="\\N", lineterminator="\n")
    copy = sql.SQL("COPY {} FROM STDIN (FORMAT csv, NULL '\\N')").format(sql.Identifier(name))
    with cur.copy(copy) as pipe:
        stream = io.BytesIO(text.encode("utf-8"))
        while chunk := stream.read(1 << 20):
            pipe.write(chunk)


def test_100k_leads_postgres(config, leads_and_log, expected, postgres_dsn):
    import psycopg

    leads, log = leads_and_log
    with psycopg.connect(postgres_dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")
        _pg_load(cur, "leads", leads)
        _pg_load(cur, "activities", log)
        cur.execute("ANALYZE")
        cur.execute(scoring_sql(config, dialect="postgres", leads_table="leads",
                                activities_table="activities"))  # fmt: skip
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
    sql = scoring_sql(config, dialect="spark", leads_table="leads", activities_table="activities")
    got = spark.sql(sql).toPandas()
    assert_same_scores(expected, got, "lead_id", "spark")
