"""Real services for tests: a throwaway PostgreSQL cluster and a local Spark session.

Nothing here is mocked. :func:`postgres_server` runs ``initdb`` and ``pg_ctl`` from the
machine's PostgreSQL server package on a free loopback port, and :func:`spark_session`
starts pyspark in local mode on the machine's Java. ``scripts/test.sh`` installs both
when they are missing; ``tests/conftest.py`` wraps them in session-scoped fixtures that
skip, with the reason, when they are still missing. See ``docs/testing.md``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "load_frame",
    "PostgresInfo",
    "ServiceUnavailable",
    "find_java",
    "find_pg_bin",
    "free_port",
    "postgres_missing",
    "postgres_server",
    "spark_missing",
    "spark_session",
]

PG_LIB_ROOT = Path("/usr/lib/postgresql")
"""Where Debian's ``postgresql-NN`` packages put their server binaries (``NN/bin``)."""

PG_OS_USER = "postgres"
"""The system user that runs the server when the tests run as root."""

# Seconds allowed for initdb, for the server to accept connections, and to stop.
_PG_TIMEOUT = 60


class ServiceUnavailable(RuntimeError):
    """A service the tests need could not be started (the message says why)."""


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key of ``/usr/lib/postgresql/<version>/bin``: numeric, so 15 beats 9.6."""
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))


def find_pg_bin(
    name: str, *, path: str | None = None, lib_root: str | os.PathLike[str] = PG_LIB_ROOT
) -> str | None:
    """Find a PostgreSQL server program such as ``initdb`` or ``pg_ctl``.

    Parameters
    ----------
    name : str
        Program name, e.g. ``"initdb"`` or ``"pg_ctl"``.
    path : str, optional
        Search path in ``PATH`` syntax; the process's ``PATH`` when omitted.
    lib_root : path-like, optional
        Folder holding one ``<version>/bin`` per installed major version
        (Debian's layout, which does not put the server programs on ``PATH``).

    Returns
    -------
    str or None
        The program on the search path if there is one, else the one of the highest
        version under ``lib_root``, else None.

    Examples
    --------
    >>> find_pg_bin("no-such-program-here", path="", lib_root="/nonexistent") is None
    True
    """
    found = shutil.which(name, path=path)
    if found:
        return found
    candidates = [
        p for p in Path(lib_root).glob(f"*/bin/{name}") if p.is_file() and os.access(p, os.X_OK)
    ]
    if not candidates:
        return None
    return str(max(candidates, key=_version_key))


def find_java() -> str | None:
    """Path of the ``java`` pyspark will launch (``$JAVA_HOME/bin/java``, else ``PATH``)."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home, "bin", "java")
        return str(java) if os.access(java, os.X_OK) else None
    return shutil.which("java")


def postgres_missing() -> str | None:
    """Why :func:`postgres_server` cannot run here, or None when it can.

    Returns
    -------
    str or None
        A sentence naming what is missing (server programs or psycopg), for a skip.
    """
    missing = [name for name in ("initdb", "pg_ctl") if find_pg_bin(name) is None]
    if missing:
        return (
            f"PostgreSQL server programs not found ({', '.join(missing)}) on PATH or under "
            f"{PG_LIB_ROOT}/*/bin; `bash scripts/test.sh` installs Debian's `postgresql`"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        return f"psycopg is not importable ({exc}); install the project's `test` extra"
    return None


def spark_missing() -> str | None:
    """Why :func:`spark_session` cannot run here, or None when it can.

    Returns
    -------
    str or None
        A sentence naming what is missing (pyspark or Java), for a skip.
    """
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        return f"pyspark is not importable ({exc}); install the project's `test` extra"
    if find_java() is None:
        where = (
            f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java"
            if os.environ.get("JAVA_HOME")
            else "no `java` on PATH"
        )
        return (
            f"Java not found ({where}); "
            "`bash scripts/test.sh` installs Debian's `default-jre-headless`"
        )
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now (the OS picks it).

    Examples
    --------
    >>> 1024 <= free_port() <= 65535
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class PostgresInfo:
    """Where a running throwaway PostgreSQL server listens.

    Attributes
    ----------
    host, port, user, dbname :
        Connection parameters (trust authentication: no password).
    root : Path
        Temporary folder holding the cluster (``data/``), its socket folder
        (``socket/``) and the server log (``server.log``); deleted at exit.
    """

    host: str
    port: int
    user: str
    dbname: str
    root: Path

    @property
    def dsn(self) -> str:
        """libpq key/value connection string, e.g. for ``psycopg.connect``."""
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}"

    @property
    def url(self) -> str:
        """The same as a ``postgresql://`` URL (for SQLAlchemy-style clients)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"

    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        """The server's log file."""
        return self.root / "server.log"

    def __str__(self) -> str:
        return self.dsn


def _ensure_os_user(name: str) -> pwd.struct_passwd:
    """The system user ``name``, created (no home folder) when it does not exist."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        raise ServiceUnavailable(
            f"running as root and there is no {name!r} user to run PostgreSQL as "
            "(and no `useradd` to create one)"
        )
    subprocess.run(
        [useradd, "--system", "--no-create-home", name],
        check=True,
        capture_output=True,
        text=True,
    )
    return pwd.getpwnam(name)


def _runner(user: pwd.struct_passwd | None) -> tuple[list[str], dict[str, Any]]:
    """Command prefix and ``subprocess`` keyword arguments to run as ``user``."""
    if user is None:
        return [], {}
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user.pw_name, "--"], {}
    # No util-linux runuser: let subprocess drop privileges itself.
    return [], {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def postgres_server(*, user: str = "postgres", dbname: str = "postgres") -> Iterator[PostgresInfo]:
    """Run a throwaway PostgreSQL cluster on a free loopback port.

    ``initdb`` makes a new cluster in a fresh temporary folder (trust authentication,
    UTF-8, C locale, no fsync), ``pg_ctl`` starts it listening on ``127.0.0.1`` only and
    on a Unix socket inside that folder, and at exit, normal or not, the server is stopped
    (``pg_ctl stop -m fast``) and the folder deleted.

    PostgreSQL refuses to run as root. When the tests are root, the programs run as the
    ``postgres`` system user (created if missing) through ``runuser``, and the folder,
    under ``/tmp``, is given to that user.

    Parameters
    ----------
    user : str, optional
        Name of the database superuser ``initdb`` creates.
    dbname : str, optional
        Database to connect to (``postgres`` always exists).

    Yields
    ------
    PostgresInfo
        Host, port, user and database; ``str()`` of it and ``.dsn`` give a libpq DSN.

    Raises
    ------
    ServiceUnavailable
        The server programs are missing, or the cluster could not be made or started
        (the message carries the tail of ``initdb``'s output or of the server log).
    """
    initdb, pg_ctl = find_pg_bin("initdb"), find_pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise ServiceUnavailable(postgres_missing() or "PostgreSQL server programs not found")

    as_root = os.geteuid() == 0
    os_user = _ensure_os_user(PG_OS_USER) if as_root else None
    # As root the folder must be reachable by the postgres user: /tmp is world-traversable,
    # a TMPDIR under /root may not be.
    parent = "/tmp" if as_root and os.path.isdir("/tmp") else None
    root = Path(tempfile.mkdtemp(prefix="calibrate-pg-", dir=parent))
    datadir, sockdir, logfile = root / "data", root / "socket", root / "server.log"
    prefix, run_kwargs = _runner(os_user)
    started = False

    def run(args: list[str], what: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                prefix + args,
                cwd=root,  # the server user may not be able to enter the caller's folder
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_PG_TIMEOUT + 30,
                check=True,
                **run_kwargs,
            )
        except subprocess.CalledProcessError as exc:
            raise ServiceUnavailable(
                f"{what} failed (exit {exc.returncode}): {shlex.join(exc.cmd)}\n"
                f"{exc.stdout}{exc.stderr}\n--- server log tail ---\n{_tail(logfile)}"
            ) from exc

    try:
        sockdir.mkdir()
        if os_user is not None:
            root.chmod(0o755)
            for path in (root, sockdir):
                os.chown(path, os_user.pw_uid, os_user.pw_gid)
        run(
            [
                initdb,
                "-D", str(datadir),
                "-A", "trust",
                "-U", user,
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            "initdb",
        )  # fmt: skip
        # The port is free when picked but could be taken before the server binds it:
        # try a few ports before giving up.
        for attempt in range(3):
            port = free_port()
            options = (
                f"-p {port} -k {shlex.quote(str(sockdir))} "
                "-c listen_addresses=127.0.0.1 -c fsync=off"
            )
            try:
                run(
                    [
                        pg_ctl,
                        "start",
                        "-D", str(datadir),
                        "-l", str(logfile),
                        "-o", options,
                        "-w",
                        "-t", str(_PG_TIMEOUT),
                    ],
                    "pg_ctl start",
                )  # fmt: skip
            except ServiceUnavailable:
                if attempt < 2 and "already in use" in _tail(logfile, 5):
                    continue
                raise
            started = True
            break
        with _exit_on_sigterm():
            yield PostgresInfo(host="127.0.0.1", port=port, user=user, dbname=dbname, root=root)
    finally:
        try:
            if started or (datadir / "postmaster.pid").exists():
                _stop(prefix, run_kwargs, pg_ctl, datadir, root)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _stop(
    prefix: list[str], run_kwargs: dict[str, Any], pg_ctl: str, datadir: Path, cwd: Path
) -> None:
    """``pg_ctl stop -m fast``; ``-m immediate`` if that does not stop it in time."""
    for mode in ("fast", "immediate"):
        result = subprocess.run(
            [*prefix, pg_ctl, "stop", "-D", str(datadir), "-m", mode, "-w",
             "-t", str(_PG_TIMEOUT)],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_PG_TIMEOUT + 30,
            check=False,
            **run_kwargs,
        )  # fmt: skip
        if result.returncode == 0 or not (datadir / "postmaster.pid").exists():
            return
        time.sleep(0.5)


@contextlib.contextmanager
def _exit_on_sigterm() -> Iterator[None]:
    """SIGTERM (a killed test run) interrupts as Ctrl-C does, through ``finally`` blocks.

    Python's default for SIGTERM ends the process at once: a cluster would keep
    running after its test run was killed. As a KeyboardInterrupt, pytest stops the
    session and runs its teardown, which stops the server. Only the main thread can
    handle signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@contextlib.contextmanager
def spark_session(app_name: str = "calibrate-tests") -> Iterator[Any]:
    """Run a local pyspark session on two cores, stopped at exit.

    Settings: master ``local[2]``, session time zone UTC (also the JVM's default time
    zone), the JVM's quick-start JIT (``-XX:TieredStopAtLevel=1``: faster start, slower
    long runs; do not benchmark with it), no web UI or console progress bar, 4 shuffle
    partitions, 1 GiB driver memory, Arrow for pandas conversions, driver bound to
    ``127.0.0.1``, Python workers on this interpreter, and Spark's log level ERROR.

    Parameters
    ----------
    app_name : str, optional
        Spark application name.

    Yields
    ------
    pyspark.sql.SparkSession

    Raises
    ------
    ServiceUnavailable
        pyspark is not importable or Java is missing.

    Notes
    -----
    pyspark 4.x warns (``FutureWarning``) that it does not fully support pandas 3 and
    triggers pandas' ``Pandas4Warning`` deprecations; ``tests/conftest.py`` ignores
    exactly those for tests that use the ``spark`` fixture. The JVM is started once per
    process: after ``stop()`` a new session reuses the gateway.
    """
    reason = spark_missing()
    if reason:
        raise ServiceUnavailable(reason)
    from pyspark.sql import SparkSession

    # UTC as the JVM's default time zone too; C1-only JIT: the JVM spends most of a short
    # test session compiling, and this about halves start-up and first-query time.
    java_options = "-Duser.timezone=UTC -XX:TieredStopAtLevel=1"
    builder = (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", java_options)
        .config("spark.executor.extraJavaOptions", java_options)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
    )
    # SPARK_LOCAL_IP keeps the JVM from resolving the host name to a non-loopback
    # address (and warning about it); it is read when the JVM starts.
    with _environ(SPARK_LOCAL_IP="127.0.0.1"):
        session = builder.getOrCreate()
    try:
        session.sparkContext.setLogLevel("ERROR")
        yield session
    finally:
        session.stop()


def _pg_type(dtype) -> str:
    """The PostgreSQL column type for a pandas dtype."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_float_dtype(dtype):
        return "DOUBLE PRECISION"
    if pd.api.types.is_integer_dtype(dtype):
        return "BIGINT"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "TIMESTAMPTZ"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "TIMESTAMP"
    return "TEXT"


def load_frame(cursor, frame, *name: str) -> None:
    """Create table ``name`` (``"table"`` or ``"schema", "table"``) and COPY ``frame`` in.

    Columns are typed from the frame's dtypes; missing values are written as
    ``\\N``, so an empty string stays an empty string.
    """
    import io

    from psycopg import sql

    table = sql.Identifier(*name)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_pg_type(t)))
        for c, t in frame.dtypes.items()
    )
    cursor.execute(sql.SQL("CREATE TABLE {} ({})").format(table, columns))
    text = frame.to_csv(index=False, header=False, na_rep="\\N", lineterminator="\n")
    copy = sql.SQL("COPY {} FROM STDIN (FORMAT csv, NULL '\\N')").format(table)
    with cursor.copy(copy) as pipe:
        stream = io.BytesIO(text.encode("utf-8"))
        while chunk := stream.read(1 << 20):
            pipe.write(chunk)
