"""Tests for calibrate.io.sources: files, globs, folders, DuckDB files and databases.

The PostgreSQL server is real (``postgres_server_info``, tests/services.py): the
generated leads and activities are loaded into it and fitting from it must give
the same config as fitting from the same data in files.
"""

from __future__ import annotations

import json
import re
import sqlite3
import string

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from typer.testing import CliRunner

import calibrate
from calibrate.cli import app
from calibrate.datasets import make_leads
from calibrate.errors import DataError
from calibrate.io.activities import connect, read_activities
from calibrate.io.sources import Source, as_source, from_arguments, read_arrow
from calibrate.io.tables import read_table
from calibrate.sheet.activity import ActivitySpec
from services import free_port, load_frame

N_LEADS = 2000
SECRET = "Zq7-s3cr3t-pw"
FIT_OPTIONS = [
    "--outcome",
    "converted",
    "--id",
    "lead_id",
    "--decided-at",
    "decided_at",
    "--bootstrap",
    "0",
    "--activity-detail-col",
    "detail",
    "--detail-rule",
    "page_view:/pricing*=pricing_page_view",
    "--quiet",
]


# --------------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def generated():
    """Generated leads and activities, timestamps made UTC-aware (as a CRM stores them)."""
    leads, log = make_leads(N_LEADS, seed=3, activities=True)
    for frame, columns in ((leads, ["created_at", "decided_at"]), (log, ["occurred_at"])):
        for column in columns:
            frame[column] = frame[column].dt.tz_localize("UTC").astype("datetime64[us, UTC]")
    return leads, log


@pytest.fixture(scope="module")
def files(generated, tmp_path_factory):
    """The same data as Parquet, CSV, a folder of Parquet parts and a DuckDB file."""
    leads, log = generated
    root = tmp_path_factory.mktemp("sources")
    leads.to_parquet(root / "leads.parquet", index=False)
    log.to_parquet(root / "activities.parquet", index=False)
    # Booleans as calibrate writes them (pandas would write True/False).
    leads.assign(converted=leads["converted"].map({True: "true", False: "false"})).to_csv(
        root / "leads.csv", index=False
    )
    for i, part in enumerate(np.array_split(np.arange(len(leads)), 3)):
        folder = root / "exports" / f"2026-0{i + 1}"
        folder.mkdir(parents=True)
        leads.iloc[part].to_parquet(folder / "leads.parquet", index=False)
        logs = root / "activity_exports" / f"2026-0{i + 1}"
        logs.mkdir(parents=True)
        log.iloc[np.array_split(np.arange(len(log)), 3)[i]].to_parquet(
            logs / "part-0.parquet", index=False
        )
    con = duckdb.connect(str(root / "crm.duckdb"))
    con.register("leads_frame", leads)
    con.register("log_frame", log)
    con.execute("CREATE TABLE leads AS SELECT * FROM leads_frame")
    con.execute("CREATE TABLE activities AS SELECT * FROM log_frame")
    con.close()
    return root


@pytest.fixture(scope="module")
def pg(generated, postgres_server_info):
    """The generated leads and activities in tables of the suite's PostgreSQL server."""
    import psycopg

    leads, log = generated
    with psycopg.connect(postgres_server_info.dsn, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute("DROP SCHEMA IF EXISTS crm CASCADE")
            cur.execute("CREATE SCHEMA crm")
            load_frame(cur, leads, "crm", "leads")
            load_frame(cur, log, "crm", "activities")
            cur.execute("CREATE TABLE crm.empty_leads (LIKE crm.leads)")
        yield postgres_server_info
        with conn.cursor() as cur:
            cur.execute("DROP SCHEMA crm CASCADE")


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def _invoke(runner, args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def _assert_one_clear_error(result, pattern):
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert re.search(pattern, result.stderr), result.stderr


# --------------------------------------------------------------------------- the parser


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("leads.csv", "file"),
        ("leads.parquet", "file"),
        ("exports/2026-*/leads.parquet", "files"),
        ("exports/**/*.csv", "files"),
        ("crm.duckdb", "duckdb"),
        ("postgresql://ana@localhost/crm", "database"),
        ("postgresql+psycopg://ana:pw@db:5433/crm?sslmode=require", "database"),
        ("sqlite:///crm.db", "database"),
    ],
)
def test_source_kinds(location, kind):
    table = "leads" if kind in ("duckdb", "database") else None
    assert Source(location, table=table).kind == kind


def test_folder_and_duckdb_magic(tmp_path):
    assert Source(tmp_path).kind == "files"
    duckdb.connect(str(tmp_path / "crm.db")).close()  # a DuckDB file without its suffix
    assert Source(tmp_path / "crm.db", table="leads").kind == "duckdb"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"location": "db.duckdb"}, r"db\.duckdb is a DuckDB file: name a table \(--table\)"),
        ({"location": "postgresql://a@h/d"}, r"is a database: name a table"),
        (
            {"location": "postgresql://a@h/d", "table": "t", "query": "SELECT 1"},
            r"give a table or a query, not both",
        ),
        ({"location": "leads.csv", "table": "t"}, r"leads\.csv is not a database"),
        ({"location": "leads.csv", "password_env": "X"}, r"only for a database URL"),
        ({"location": "postgresql://a@h/d", "query": "  "}, r"the query is empty"),
    ],
)
def test_source_refuses(kwargs, match):
    with pytest.raises(DataError, match=match):
        Source(**kwargs)


def test_from_arguments_reads_activities_from_the_leads_database():
    leads, log = from_arguments(
        "postgresql://ana@db/crm", table="leads", activities_query="SELECT * FROM acts"
    )
    assert (leads.kind, leads.table) == ("database", "leads")
    assert log.description == "postgresql://ana@db/crm (query: SELECT * FROM acts)"
    leads, log = from_arguments("leads.csv", activities="postgresql://ana@db/crm",
                                activities_table="a", password_env="PW")  # fmt: skip
    assert (leads.password_env, log.password_env) == (None, "PW")
    with pytest.raises(DataError, match="is not a database"):
        from_arguments("leads.csv", activities_table="activities")
    with pytest.raises(DataError, match="--password-env is for a database URL"):
        from_arguments("leads.csv", password_env="PW")
    assert from_arguments("leads.csv") == (Source("leads.csv"), None)


def test_as_source_passes_frames_and_sources():
    frame = pd.DataFrame({"a": [1]})
    assert as_source(frame) is frame
    source = Source("x.csv")
    assert as_source(source) is source
    with pytest.raises(DataError, match="belong in the Source"):
        as_source(source, table="t")


_NAME = st.text(string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=12)


@given(
    scheme=st.sampled_from(["postgresql", "postgresql+psycopg", "mysql+pymysql", "postgres"]),
    user=_NAME,
    password=st.text(
        st.characters(codec="utf-8", exclude_characters="\n\r\x00"), min_size=4, max_size=20
    ),
    host=_NAME,
    port=st.none() | st.integers(1, 65535),
    db=_NAME,
    table=st.none() | _NAME,
)
def test_description_never_shows_the_password(scheme, user, password, host, port, db, table):
    netloc = host + (f":{port}" if port else "")
    plain = f"{scheme}://{user}@{netloc}/{db}"
    assume(password not in plain + " (table query:" + str(table) and "***" not in password)
    source = Source(
        f"{scheme}://{user}:{password}@{netloc}/{db}",
        table=table,
        query=None if table else "SELECT 1",
    )
    assert source.kind == "database"
    for shown in (source.description, str(source), repr(source)):
        assert password not in shown
    assert source.description.startswith(f"{scheme}://{user}:***@{netloc}/{db}")
    assert Source(plain, table="t").description == f"{plain} (table t)"


@given(
    table=st.none() | _NAME,
    query=st.none() | st.just("SELECT 1"),
    activities_table=st.none() | _NAME,
    activities_query=st.none() | st.just("SELECT 2"),
    separate_log=st.booleans(),
)
def test_from_arguments_accepts_exactly_one_table_or_query(
    table, query, activities_table, activities_query, separate_log
):
    data = "postgresql://ana@db/crm"
    log_location = "other.duckdb" if separate_log else None
    leads_ok = (table is None) != (query is None)
    log_given = activities_table is not None or activities_query is not None
    log_ok = (activities_table is None) != (activities_query is None)
    try:
        leads, log = from_arguments(
            data,
            table=table,
            query=query,
            activities=log_location,
            activities_table=activities_table,
            activities_query=activities_query,
        )
    except DataError:
        assert not leads_ok or (log_given or separate_log) and not log_ok
        return
    assert leads_ok and (leads.table, leads.query) == (table, query)
    if not (log_given or separate_log):
        assert log is None
        return
    assert log_ok
    assert log.location == (log_location or data)
    assert (log.table, log.query) == (activities_table, activities_query)


# --------------------------------------------------------------------------- files


def test_glob_and_folder_read_like_the_file(files):
    whole = read_table(files / "leads.parquet")
    by_glob = read_table(files / "exports" / "2026-*" / "leads.parquet")
    pd.testing.assert_frame_equal(by_glob, whole)
    assert str(by_glob["decided_at"].dtype) == "datetime64[us, UTC]"
    by_folder = read_table(files / "activity_exports")
    pd.testing.assert_frame_equal(by_folder, read_table(files / "activities.parquet"))


def test_files_with_other_columns_refused(tmp_path):
    pq.write_table(pa.table({"id": ["a"], "size": [10.0]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"id": ["b"]}), tmp_path / "b.parquet")
    with pytest.raises(DataError, match=r"b\.parquet has columns 'id' but .*a\.parquet has"):
        read_table(tmp_path)


def test_csv_glob(tmp_path):
    pd.DataFrame({"id": ["a", "b"], "x": ["1", "2"]}).to_csv(tmp_path / "p1.csv", index=False)
    pd.DataFrame({"id": ["c"], "x": ["3"]}).to_csv(tmp_path / "p2.csv", index=False)
    frame = read_table(tmp_path / "p*.csv")
    assert frame.to_dict("list") == {"id": ["a", "b", "c"], "x": ["1", "2", "3"]}
    pd.DataFrame({"id": ["d"], "y": ["4"]}).to_csv(tmp_path / "p3.csv", index=False)
    with pytest.raises(DataError, match=r"p3\.csv has columns 'id', 'y' but .*p1\.csv has"):
        read_table(tmp_path / "p*.csv")


def test_glob_refuses_a_column_whose_type_differs(tmp_path):
    pq.write_table(pa.table({"id": ["a"], "size": [10.0]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"id": ["b"], "size": ["large"]}), tmp_path / "b.parquet")
    pattern = r"column 'size' is number in .*a\.parquet but string in .*b\.parquet"
    with pytest.raises(DataError, match=pattern):
        read_table(tmp_path / "*.parquet")
    con = connect()
    spec = ActivitySpec()
    with pytest.raises(DataError, match=pattern):
        read_activities(con, str(tmp_path / "*.parquet"), spec)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda d: str(d / "nothing-*.parquet"), r"nothing-\*\.parquet matches no files"),
        (lambda d: d, r"holds no Parquet or CSV files"),
    ],
)
def test_empty_globs_and_folders(tmp_path, make, match):
    with pytest.raises(DataError, match=match):
        read_table(make(tmp_path))


def test_mixed_formats_refused(tmp_path):
    pq.write_table(pa.table({"id": ["a"]}), tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text("id\nb\n")
    with pytest.raises(DataError, match="mixes Parquet and other files"):
        read_table(tmp_path)


# --------------------------------------------------------------------------- DuckDB, SQLite


def test_duckdb_file(files, generated):
    whole = read_table(files / "leads.parquet")
    got = read_table(Source(files / "crm.duckdb", table="leads"))
    pd.testing.assert_frame_equal(got, whole)
    some = read_table(Source(files / "crm.duckdb", query="SELECT lead_id FROM leads LIMIT 3"))
    assert some["lead_id"].tolist() == whole["lead_id"].head(3).tolist()
    with pytest.raises(DataError, match=r"crm\.duckdb: table 'nope' not found"):
        read_table(Source(files / "crm.duckdb", table="nope"))
    with pytest.raises(DataError, match=r"query failed: Parser Error: syntax error"):
        read_table(Source(files / "crm.duckdb", query="SELEC 1"))
    with pytest.raises(DataError, match=r"the query returned no lead rows"):
        read_table(Source(files / "crm.duckdb", query="SELECT * FROM leads WHERE false"))


@pytest.fixture
def sqlite_file(tmp_path):
    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE leads (lead_id TEXT, size FLOAT, n INTEGER, vip BOOLEAN, "
            "price NUMERIC(10, 2), decided_at DATETIME)"
        )
        con.executemany(
            "INSERT INTO leads VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("a", 1.5, 3, 1, "9.95", "2026-01-02 03:04:05.000000"),
                ("b", None, None, 0, None, None),
            ],
        )
    return path


def test_sqlite_url_keeps_types(sqlite_file):
    frame = read_table(Source(f"sqlite:///{sqlite_file}", table="leads"))
    expected = pd.DataFrame(
        {
            "lead_id": ["a", "b"],
            "size": [1.5, np.nan],
            "n": [3.0, np.nan],
            "vip": [True, False],
            "price": [9.95, np.nan],
            "decided_at": pd.to_datetime(["2026-01-02 03:04:05", None]).astype("datetime64[us]"),
        }
    )
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    assert frame["vip"].dtype == bool
    assert frame["decided_at"].dtype == "datetime64[us]"
    query = read_table(Source(f"sqlite:///{sqlite_file}", query="SELECT lead_id, n FROM leads"))
    assert query["lead_id"].tolist() == ["a", "b"]
    with pytest.raises(DataError, match=r"table 'nope' not found"):
        read_table(Source(f"sqlite:///{sqlite_file}", table="nope"))
    with pytest.raises(DataError, match=r"query failed: no such table: nope"):
        read_table(Source(f"sqlite:///{sqlite_file}", query="SELECT * FROM nope"))
    missing = sqlite_file.with_name("missing.sqlite")
    with pytest.raises(DataError, match=r"missing\.sqlite \(table leads\): no such file"):
        read_table(Source(f"sqlite:///{missing}", table="leads"))
    assert not missing.exists()


# --------------------------------------------------------------------------- PostgreSQL


def _url(info, password: str | None = None) -> str:
    auth = info.user + (f":{password}" if password else "")
    return f"postgresql://{auth}@{info.host}:{info.port}/{info.dbname}"


def test_postgres_types_arrive_as_from_parquet(pg, files):
    from_pg = read_table(Source(_url(pg), table="crm.leads"))
    from_parquet = read_table(files / "leads.parquet")
    # A table has no row order: PostgreSQL may store a row out of insertion order.
    from_pg = from_pg.sort_values("lead_id", ignore_index=True)
    pd.testing.assert_frame_equal(from_pg, from_parquet)
    assert str(from_pg["decided_at"].dtype) == "datetime64[us, UTC]"


def test_postgres_numeric_bool_and_timestamptz(postgres_server_info):
    table = read_arrow(
        Source(
            _url(postgres_server_info),
            query="SELECT 1::int4 AS i, 2::int8 AS j, 9.95::numeric(10,2) AS price, "
            "true AS vip, 'x'::text AS s, '2026-01-02 03:04:05+02'::timestamptz AS at_zoned",
        )
    )
    assert [str(t) for t in table.schema.types] == [
        "int32",
        "int64",
        "double",
        "bool",
        "string",
        "timestamp[us, tz=UTC]",
    ]
    row = table.to_pylist()[0]
    assert row["price"] == 9.95
    assert row["at_zoned"] == pd.Timestamp("2026-01-02 01:04:05", tz="UTC")


def _config_text(folder) -> str:
    return (folder / "scoring_config.json").read_text()


def _without_source(text: str) -> dict:
    config = json.loads(text)
    config["training_data"].pop("source")
    config.pop("checksum", None)
    return config


def test_fit_from_postgres_matches_fit_from_files(runner, pg, files, tmp_path):
    url = _url(pg)
    from_db = _invoke(
        runner,
        ["fit", url, "--table", "crm.leads", "--activities-table", "crm.activities",
         *FIT_OPTIONS, "--out", tmp_path / "db"],
    )  # fmt: skip
    assert from_db.exit_code == 0, from_db.output
    from_files = _invoke(
        runner,
        ["fit", files / "leads.parquet", "--activities", files / "activities.parquet",
         *FIT_OPTIONS, "--out", tmp_path / "files"],
    )  # fmt: skip
    assert from_files.exit_code == 0, from_files.output
    db_text, file_text = _config_text(tmp_path / "db"), _config_text(tmp_path / "files")
    assert _without_source(db_text) == _without_source(file_text)
    # Byte for byte, apart from the source line and the checksum over the content.
    differ = [
        (a, b) for a, b in zip(db_text.splitlines(), file_text.splitlines(), strict=True) if a != b
    ]
    assert len(differ) <= 2, differ
    assert all(re.match(r'\s*"(source|checksum)":', a) for a, _ in differ), differ
    db_source = json.loads(db_text)["training_data"]["source"]
    assert db_source == f"{url} (table crm.leads)"
    # The same from a CSV file, the glob of the nightly exports and the DuckDB file.
    for name, source in {
        "csv": [files / "leads.csv", "--activities", files / "activities.parquet"],
        "glob": [files / "exports/*/leads.parquet", "--activities",
                 files / "activity_exports"],
        "duckdb": [files / "crm.duckdb", "--table", "leads", "--activities-table", "activities"],
    }.items():  # fmt: skip
        got = _invoke(runner, ["fit", *source, *FIT_OPTIONS, "--out", tmp_path / name])
        assert got.exit_code == 0, (name, got.output)
        assert _without_source(_config_text(tmp_path / name)) == _without_source(file_text), name


def test_score_and_report_from_postgres(runner, pg, files, tmp_path):
    fitted = _invoke(
        runner,
        ["fit", files / "leads.parquet", "--activities", files / "activities.parquet",
         *FIT_OPTIONS, "--out", tmp_path / "fit"],
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    config = tmp_path / "fit" / "scoring_config.json"
    url = _url(pg)
    db = ["--query", "SELECT * FROM crm.leads ORDER BY lead_id", "--activities-table",
          "crm.activities"]  # fmt: skip
    scored = _invoke(runner, ["score", config, url, *db, "--out", tmp_path / "db.csv", "-q"])
    assert scored.exit_code == 0, scored.output
    expected = _invoke(
        runner,
        ["score", config, files / "leads.parquet", "--activities", files / "activities.parquet",
         "--out", tmp_path / "files.csv", "-q"],
    )  # fmt: skip
    assert expected.exit_code == 0, expected.output
    assert (tmp_path / "db.csv").read_bytes() == (tmp_path / "files.csv").read_bytes()
    reported = _invoke(runner, ["report", config, url, *db, "--out", tmp_path / "report", "-q"])
    assert reported.exit_code == 0, reported.output
    summary = calibrate.evaluation_report(
        config,
        Source(url, table="crm.leads"),
        activities=Source(url, table="crm.activities"),
    ).summary
    assert summary["data"]["source"] == f"{url} (table crm.leads)"


def test_python_api_takes_sources(pg, files):
    url = _url(pg)
    result = calibrate.fit(
        Source(url, table="crm.leads"),
        outcome="converted",
        id="lead_id",
        decided_at="decided_at",
        activities=Source(url, query="SELECT * FROM crm.activities"),
        bootstrap=0,
    )
    assert result.leads.source == f"{url} (table crm.leads)"
    scored = calibrate.score_leads(
        result.config, Source(url, table="crm.leads"), activities=files / "activities.parquet"
    )
    assert len(scored) == N_LEADS


def test_password_never_lands_in_outputs(runner, pg, tmp_path, monkeypatch):
    # The suite's server trusts loopback connections: any password is accepted.
    url = _url(pg, SECRET)
    out = tmp_path / "fit"
    result = _invoke(
        runner,
        ["fit", url, "--table", "crm.leads", "--activities-table", "crm.activities",
         *FIT_OPTIONS[:-1], "--out", out],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert SECRET not in result.stdout + result.stderr
    written = sorted(out.iterdir())
    assert {p.name for p in written} >= {"scoring_config.json", "metrics.json", "report.html"}
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path.name
    assert json.loads(_config_text(out))["training_data"]["source"].startswith(
        f"postgresql://{pg.user}:***@"
    )
    # Refused connections and failing queries do not show it either.
    for args in (
        [f"postgresql://{pg.user}:{SECRET}@127.0.0.1:{free_port()}/x", "--table", "leads"],
        [url, "--query", f"SELECT '{SECRET}' FROM nowhere"],
    ):
        failed = _invoke(runner, ["fit", *args, *FIT_OPTIONS, "--out", tmp_path / "no"])
        assert failed.exit_code == 1
        assert SECRET not in failed.output
        assert not (tmp_path / "no").exists()
    # From an environment variable: never on the command line.
    monkeypatch.setenv("CRM_PASSWORD", SECRET)
    via_env = _invoke(
        runner,
        ["fit", _url(pg), "--table", "crm.leads", "--password-env", "CRM_PASSWORD",
         *FIT_OPTIONS, "--out", tmp_path / "env"],
    )  # fmt: skip
    assert via_env.exit_code == 0, via_env.output
    assert SECRET not in _config_text(tmp_path / "env")
    missing = _invoke(
        runner,
        ["fit", _url(pg), "--table", "crm.leads", "--password-env", "NO_SUCH_VARIABLE_X",
         *FIT_OPTIONS, "--out", tmp_path / "no"],
    )  # fmt: skip
    _assert_one_clear_error(missing, r"environment variable NO_SUCH_VARIABLE_X .* is not set")


def test_libpq_environment(runner, pg, tmp_path):
    env = {"PGHOST": pg.host, "PGPORT": str(pg.port), "PGUSER": pg.user, "PGPASSWORD": SECRET}
    result = _invoke(
        runner,
        ["fit", f"postgresql:///{pg.dbname}", "--table", "crm.leads", *FIT_OPTIONS,
         "--out", tmp_path / "env"],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    source = json.loads(_config_text(tmp_path / "env"))["training_data"]["source"]
    assert source == f"postgresql:///{pg.dbname} (table crm.leads)"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (lambda u, f: [u, "--table", "crm.nope"], r"table 'crm\.nope' not found"),
        (
            lambda u, f: [u, "--query", "SELECT * FROM crm.leads WHERE nope"],
            r'query failed: column "nope" does not exist',
        ),
        (
            lambda u, f: [re.sub(r":\d+/", f":{free_port()}/", u), "--table", "leads"],
            r"cannot connect to PostgreSQL at 127\.0\.0\.1:\d+/\w+: .*Connection refused",
        ),
        (lambda u, f: [u, "--table", "crm.empty_leads"], r"the table has no lead rows"),
        (lambda u, f: [f / "crm.duckdb"], r"is a DuckDB file: name a table \(--table\)"),
        (
            lambda u, f: [u, "--table", "crm.leads", "--query", "SELECT 1"],
            r"give a table or a query, not both",
        ),
        (lambda u, f: [f / "none-*.parquet"], r"none-\*\.parquet matches no files"),
        (
            lambda u, f: [u, "--table", "crm.leads", "--activities-table", "crm.nope"],
            r"table 'crm\.nope' not found",
        ),
    ],
    ids=[
        "missing-table",
        "query-error",
        "connection-refused",
        "empty-result",
        "duckdb-without-table",
        "table-and-query",
        "glob-matching-nothing",
        "missing-activities-table",
    ],
)
def test_bad_sources(runner, pg, files, tmp_path, args, match):
    out = tmp_path / "out"
    result = _invoke(runner, ["fit", *args(_url(pg), files), *FIT_OPTIONS, "--out", out])
    _assert_one_clear_error(result, match)
    assert not out.exists()


def test_bad_source_leaves_existing_output_untouched(runner, pg, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "scoring_config.json").write_text("old")
    result = _invoke(runner, ["fit", _url(pg), "--table", "crm.nope", *FIT_OPTIONS, "--out", out])
    _assert_one_clear_error(result, "not found")
    assert [p.name for p in out.iterdir()] == ["scoring_config.json"]
    assert (out / "scoring_config.json").read_text() == "old"


def test_score_bad_source(runner, files, tmp_path):
    out = tmp_path / "scored.csv"
    config = tmp_path / "c.json"
    config.write_text("{}")
    result = _invoke(runner, ["score", config, files / "crm.duckdb", "--out", out])
    _assert_one_clear_error(result, "name a table")
    assert not out.exists()


def test_a_bare_sqlite_path_is_read_as_its_url(sqlite_file):
    # The file's header, not its name, says SQLite: a path works like the URL.
    renamed = sqlite_file.with_name("crm.db")
    sqlite_file.rename(renamed)
    source = Source(renamed, table="leads")
    assert source.kind == "database"
    assert source.description == f"sqlite:///{renamed} (table leads)"
    assert read_table(source)["lead_id"].tolist() == ["a", "b"]
    with pytest.raises(DataError, match="is a database: name a table"):
        Source(str(renamed))


def test_fit_without_an_id_gives_the_same_sheet_whatever_the_row_order(
    runner, generated, pg, files, tmp_path
):
    # A table has no row order: without --id the split must follow the rows' content.
    import psycopg

    leads, _ = generated
    shuffled = leads.sample(frac=1, random_state=7).reset_index(drop=True)
    with psycopg.connect(pg.dsn, autocommit=True) as conn, conn.cursor() as cur:
        load_frame(cur, shuffled, "crm", "leads_shuffled")
    options = ["--outcome", "converted", "--bootstrap", "0"]
    from_db = _invoke(
        runner, ["fit", _url(pg), "--table", "crm.leads_shuffled", *options, "--out",
                 tmp_path / "db"]
    )  # fmt: skip
    assert from_db.exit_code == 0, from_db.output
    assert "no id column (--id)" in from_db.stderr
    assert "a database returns rows in no set order" in from_db.stderr
    from_csv = _invoke(runner, ["fit", files / "leads.csv", *options, "--out", tmp_path / "csv"])
    assert from_csv.exit_code == 0, from_csv.output
    db, csv = (json.loads(_config_text(tmp_path / d)) for d in ("db", "csv"))
    assert db["criteria"] == csv["criteria"]
    assert db["threshold"]["mql"] == csv["threshold"]["mql"]
    assert db["score"] == csv["score"]
    assert db["training_data"]["fingerprint"] == csv["training_data"]["fingerprint"]
