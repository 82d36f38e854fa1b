"""The real services the suite can run SQL against: PostgreSQL and local Spark.

These start a real server and a real JVM (see docs/testing.md); they skip with the
reason when the programs are missing. Run only them with
``python -m pytest tests/test_services.py``.
"""

from __future__ import annotations

import math
import os
import pwd
import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from services import find_pg_bin, postgres_missing, postgres_server

# --- find_pg_bin (no server needed) ---------------------------------------------------


def _fake_program(path: Path, executable: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755 if executable else 0o644)
    return path


def test_find_pg_bin_takes_highest_debian_version_numerically(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    for version in ("9.6", "10", "15"):
        _fake_program(lib / version / "bin" / "initdb")
    _fake_program(lib / "16" / "bin" / "initdb", executable=False)  # not runnable
    _fake_program(lib / "17" / "bin" / "pg_ctl")  # another program only

    found = find_pg_bin("initdb", path="", lib_root=lib)

    assert found == str(lib / "15" / "bin" / "initdb")
    assert find_pg_bin("pg_ctl", path="", lib_root=lib) == str(lib / "17" / "bin" / "pg_ctl")
    assert find_pg_bin("postgres", path="", lib_root=lib) is None


def test_find_pg_bin_prefers_the_search_path(tmp_path: Path) -> None:
    on_path = _fake_program(tmp_path / "bin" / "initdb")
    _fake_program(tmp_path / "lib" / "15" / "bin" / "initdb")

    found = find_pg_bin("initdb", path=str(tmp_path / "bin"), lib_root=tmp_path / "lib")

    assert found == str(on_path)


# --- PostgreSQL ------------------------------------------------------------------------


def test_postgres_answers_sql(postgres_dsn: str) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn, connect_timeout=10) as conn:
        assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
        version = int(conn.execute("SHOW server_version_num").fetchone()[0])
        host = conn.execute("SELECT host(inet_server_addr())").fetchone()[0]
    assert version >= 150000
    assert host == "127.0.0.1"  # TCP on loopback, not the Unix socket


def test_postgres_round_trips_text_float_timestamp_and_null(postgres_dsn: str) -> None:
    import psycopg

    east = timezone(timedelta(hours=5, minutes=30))
    rows = [
        (1, "plain", 1.5, datetime(2024, 3, 10, 12, 0, 0, 123456, tzinfo=UTC),
         datetime(2024, 3, 10, 12, 0)),
        (2, "ünïcödé, 'quoted', \"tab\"\there\nnewline", -0.1 + 1e-12,
         datetime(2024, 10, 27, 1, 30, tzinfo=east), datetime(1999, 12, 31, 23, 59, 59)),
        (3, None, None, None, None),
        (4, "", math.inf, datetime(1970, 1, 1, tzinfo=UTC), None),
    ]  # fmt: skip
    with psycopg.connect(postgres_dsn, connect_timeout=10) as conn:
        conn.execute(
            "CREATE TEMP TABLE leads (id int PRIMARY KEY, name text, score double precision,"
            " decided_at timestamptz, created_at timestamp)"
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO leads VALUES (%s, %s, %s, %s, %s)", rows[:2])
            with cur.copy(
                "COPY leads (id, name, score, decided_at, created_at) FROM STDIN"
            ) as copy:
                for row in rows[2:]:
                    copy.write_row(row)
        back = conn.execute("SELECT * FROM leads ORDER BY id").fetchall()
        nulls = conn.execute(
            "SELECT count(*) FILTER (WHERE name IS NULL),"
            " count(*) FILTER (WHERE decided_at IS NULL) FROM leads"
        ).fetchone()

    assert back == rows  # aware datetimes compare as instants, floats exactly
    assert back[2] == (3, None, None, None, None)
    assert nulls == (1, 1)


def test_postgres_server_is_stopped_and_removed_even_on_error() -> None:
    # The same `finally` runs on a normal exit (the session fixture's teardown).
    reason = postgres_missing()
    if reason:
        pytest.skip(reason)
    import psycopg

    class Boom(Exception):
        pass

    with pytest.raises(Boom), postgres_server() as info:
        with psycopg.connect(info.dsn, connect_timeout=10) as conn:
            datadir = conn.execute("SHOW data_directory").fetchone()[0]
        assert Path(datadir) == info.datadir
        if os.geteuid() == 0:  # PostgreSQL will not run as root: it runs as postgres
            assert info.datadir.stat().st_uid == pwd.getpwnam("postgres").pw_uid
        postmaster = int((info.datadir / "postmaster.pid").read_text().split()[0])
        raise Boom

    assert not info.root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(info.dsn, connect_timeout=3)
    with socket.socket() as sock:  # nothing listens on the port any more
        assert sock.connect_ex((info.host, info.port)) != 0
    assert not _running(postmaster)


def test_postgres_server_is_stopped_when_its_test_run_is_killed(tmp_path: Path) -> None:
    """SIGTERM to a process holding a cluster stops the cluster and removes its folder."""
    reason = postgres_missing()
    if reason:
        pytest.skip(reason)
    import signal
    import subprocess
    import sys

    script = tmp_path / "hold.py"
    script.write_text(
        "import sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from services import postgres_server\n"
        "with postgres_server() as info:\n"
        "    pid = (info.datadir / 'postmaster.pid').read_text().split()[0]\n"
        "    print(info.root, pid, flush=True)\n"
        "    time.sleep(120)\n"
    )
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            root, postmaster = child.stdout.readline().split()
            assert _running(int(postmaster))
            child.send_signal(signal.SIGTERM)
            # Interrupted, as by Ctrl-C: not killed by the signal itself.
            assert child.wait(timeout=60) not in (0, -signal.SIGTERM)
        finally:
            child.kill()
    assert not Path(root).exists()
    assert not _running(int(postmaster))


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie waiting for init to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state not in ("Z", "X")


# --- Spark -----------------------------------------------------------------------------


def test_spark_answers_sql(spark) -> None:
    rows = spark.sql("SELECT 1 + 1 AS two").collect()
    assert [row["two"] for row in rows] == [2]
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


def test_spark_round_trips_pandas_with_utc_timestamps_and_nulls(spark) -> None:
    stamps = ["2024-03-10 12:00:00.123456+00:00", None, "2024-10-27 01:30:00+05:30"]
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["plain", None, "ünïcödé"],
            "score": [1.5, None, -2.25],
            "decided_at": pd.to_datetime(stamps, utc=True, format="ISO8601"),
        }
    )

    sdf = spark.createDataFrame(frame)

    types = {field.name: field.dataType.typeName() for field in sdf.schema.fields}
    assert types == {"id": "long", "name": "string", "score": "double",
                     "decided_at": "timestamp"}  # fmt: skip
    back = (
        sdf.selectExpr(
            "*",  # Spark holds instants: shown in the session time zone, UTC
            "date_format(decided_at, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS decided_text",
        )
        .orderBy("id")
        .toPandas()  # one Spark job: each job costs seconds on a cold JVM
    )

    assert [None if pd.isna(text) else text for text in back["decided_text"]] == [
        "2024-03-10 12:00:00.123456",
        None,
        "2024-10-26 20:00:00.000000",
    ]
    assert back["id"].tolist() == [1, 2, 3]
    assert back["name"].isna().tolist() == [False, True, False]
    assert back["name"].dropna().tolist() == ["plain", "ünïcödé"]
    assert back["score"].isna().tolist() == [False, True, False]
    assert back["score"].dropna().tolist() == [1.5, -2.25]
    # toPandas gives naive wall-clock times in the session time zone (UTC).
    expected = frame["decided_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    pd.testing.assert_series_equal(
        back["decided_at"].astype("datetime64[us]"),
        expected.astype("datetime64[us]"),
        check_names=False,
    )
