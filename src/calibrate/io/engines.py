"""Engines: where the activity log's SQL runs.

A fit asks few things of the activity log (which types count, the half-life
search's statistic, every lead's features: see
:class:`calibrate.sheet.sql.LogQueries`), and every answer has one row per
lead or fewer. So the log stays where it is and the queries go to it:

- :class:`DuckDBEngine`, on this machine, for files, folders, DuckDB files
  and DataFrames (out of core);
- :class:`PostgresEngine`, inside a PostgreSQL database, through the ADBC
  driver (results come back as Arrow, leads go up with binary COPY);
- :class:`SparkEngine`, inside a Spark session, for a Spark table, a path
  read by Spark or a Spark DataFrame.

Each engine holds the log as the table ``calibrate_raw`` (the log as
stored) and, once checked (:func:`calibrate.io.activities.read_activities`),
the view ``calibrate_activities``; the leads go up as
``calibrate_leads_frame``. Only per-lead rows come back, so the log's size
does not move this process's memory.

Every engine reports its long work to ``progress`` (a callable taking one
line): the stage, the rows it read and the time it took.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable

import pandas as pd

from ..errors import DataError
from .sources import Source, _first_line, _scrub, _select, connect_postgres

__all__ = [
    "DuckDBEngine",
    "Engine",
    "PostgresEngine",
    "ProgressLine",
    "SparkEngine",
    "is_spark_frame",
]


class ProgressLine(str):
    """A line of long work in an engine, told to ``progress`` as it is (not a step's name)."""


class Engine(ABC):
    """Where the log's queries run: one connection (or session) of one engine.

    Parameters
    ----------
    progress : callable, optional
        Called with one line per long query: the stage, the rows read and
        the seconds taken.

    Attributes
    ----------
    dialect : str
        The sqlglot dialect of the engine's SQL.
    name : str
        The engine's name in messages.
    log_rows : int or None
        Rows of the log, once read: the rows every query over it scans.
    """

    dialect = "duckdb"
    name = "DuckDB"

    def __init__(self, progress: Callable[[str], None] | None = None):
        self.progress = progress
        self.log_rows = None

    def query(self, sql: str, stage: str | None = None) -> pd.DataFrame:
        """The rows of a query as a DataFrame; timed and reported when ``stage`` is named."""
        return self._timed(self._query, sql, stage)

    def arrow(self, sql: str, stage: str | None = None):
        """The rows of a query as a ``pyarrow.Table`` (no pandas copy), reported as ``query``."""
        return self._timed(self._arrow, sql, stage)

    def _timed(self, run, sql, stage):
        start = time.perf_counter()
        frame = run(sql)
        if stage is not None and self.progress is not None:
            scanned = f", {self.log_rows:,} activities read" if self.log_rows else ""
            self.progress(
                ProgressLine(
                    f"{stage} in {self.name}{scanned}: {len(frame):,} rows back "
                    f"in {time.perf_counter() - start:.1f} s"
                )
            )
        return frame

    def rows(self, sql: str, stage: str | None = None) -> list[tuple]:
        """The rows of a (small) query as tuples; reported as :meth:`query` is."""
        return list(self.query(sql, stage).itertuples(index=False, name=None))

    @abstractmethod
    def put(self, frame: pd.DataFrame, name: str) -> None:
        """Make ``name`` a temporary table (or view) of ``frame`` in the engine."""

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing."""

    @abstractmethod
    def columns(self, table: str) -> dict[str, str]:
        """``{column: type}`` of a table, the types in the engine's own words, upper case."""

    @abstractmethod
    def close(self) -> None:
        """Leave the engine; temporary tables and views go with the connection."""

    def _query(self, sql: str) -> pd.DataFrame:
        return self._arrow(sql).to_pandas()

    @abstractmethod
    def _arrow(self, sql: str):
        """The rows of a query as a ``pyarrow.Table``."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DuckDBEngine(Engine):
    """An in-memory DuckDB connection on this machine (:func:`~calibrate.io.activities.connect`).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection, optional
        Used as it is (and left open); by default a new one, closed by
        :meth:`close`.
    progress : callable, optional
        As for :class:`Engine`.
    """

    dialect = "duckdb"
    name = "DuckDB"

    def __init__(self, con=None, progress=None):
        # DuckDB's work on this machine is shown by the fit's own steps.
        progress = None
        super().__init__(progress)
        from .activities import connect

        self._owned = con is None
        self.con = connect() if con is None else con

    def _query(self, sql):
        return self.con.execute(sql).df()

    def _arrow(self, sql):
        relation = self.con.sql(sql)
        # Newer DuckDB names it to_arrow_table; older ones arrow.
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
        return fetch()

    def rows(self, sql, stage=None):
        return self.con.execute(sql).fetchall()

    def put(self, frame, name):
        self.con.register(name, frame)

    def execute(self, sql):
        self.con.execute(sql)

    def columns(self, table):
        return {row[0]: row[1].upper() for row in self.con.execute(f"DESCRIBE {table}").fetchall()}

    def close(self):
        if self._owned:
            self.con.close()


#: Settings of calibrate's PostgreSQL session (``SET``, for this session only):
#:
#: - the time zone UTC, in which every timestamp is read;
#: - no JIT: PostgreSQL's JIT compiles the wide aggregates of the feature query
#:   for longer than they run;
#: - no nested-loop joins: the per-lead aggregates have no statistics, and the
#:   planner's guess of 200 rows for them makes a nested loop over every lead
#:   look cheap (18 s instead of 1.5 s for 20,000 leads);
#: - 256 MB of sort and hash memory per operation, so that sorting the log by
#:   lead stays in memory at a few million activities.
SESSION_SETTINGS = (
    "SET TimeZone = 'UTC'",
    "SET jit = off",
    "SET enable_nestloop = off",
    "SET work_mem = '256MB'",
)


class PostgresEngine(Engine):
    """One session of a PostgreSQL database, through the ADBC driver.

    The session's settings are :data:`SESSION_SETTINGS`. Temporary tables
    live as long as the session.

    Parameters
    ----------
    source : Source
        A PostgreSQL URL (its table or query is the log).
    progress : callable, optional
        As for :class:`Engine`.

    Raises
    ------
    DataError
        When the driver is missing or the connection fails (host and port
        named, never the password).
    """

    dialect = "postgres"
    name = "PostgreSQL"

    def __init__(self, source: Source, progress=None):
        super().__init__(progress)
        try:
            import adbc_driver_manager
            import adbc_driver_postgresql.dbapi  # noqa: F401 - the driver, checked here
        except ImportError:
            raise DataError(
                f"working inside {source.description} needs the ADBC PostgreSQL driver: "
                "pip install 'calibrate[db]'"
            ) from None
        self._error = adbc_driver_manager.Error
        self.source = source
        self.conn = connect_postgres(source, autocommit=True)
        try:
            for setting in SESSION_SETTINGS:
                self.execute(setting)
        except BaseException:
            self.conn.close()
            raise

    def _arrow(self, sql):
        with self.conn.cursor() as cur:
            try:
                cur.execute(sql)
                table = cur.fetch_arrow_table()
            except self._error as exc:
                raise DataError(
                    f"{self.source.description}: query failed: {_first_line(exc, self.source)}"
                ) from None
        from .sources import normalise_types

        return normalise_types(table)

    def execute(self, sql):
        with self.conn.cursor() as cur:
            try:
                cur.execute(sql)
            except self._error as exc:
                if self.source.table is not None and getattr(exc, "sqlstate", None) in (
                    "42P01",
                    "3F000",
                ):
                    raise DataError(
                        f"{_scrub(self.source.description, self.source)}: table "
                        f"{self.source.table!r} not found"
                    ) from None
                raise DataError(
                    f"{self.source.description}: query failed: {_first_line(exc, self.source)}"
                ) from None

    def put(self, frame, name):
        import pyarrow as pa

        table = pa.Table.from_pandas(frame, preserve_index=False)
        with self.conn.cursor() as cur:
            cur.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
            cur.adbc_ingest(name, table, mode="create", temporary=True)
        self.execute(f'ANALYZE pg_temp."{name}"')

    def columns(self, table):
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {table} LIMIT 0")
            schema = cur.fetch_arrow_table().schema
        return {f.name: _arrow_kind(f.type) for f in schema}

    def raw(self, log=None) -> None:
        """The log (the engine's ``source``) as the temporary view ``calibrate_raw``."""
        self.execute(
            f"CREATE OR REPLACE TEMP VIEW calibrate_raw AS {_select(self.source, 'postgres')}"
        )

    def close(self):
        self.conn.close()


class SparkEngine(Engine):
    """A Spark session: the log a Spark DataFrame, table or path, the queries Spark SQL.

    The session is the one given or the active one, else a new one
    (``master`` when given, otherwise as ``spark-submit`` or the Spark
    configuration says). Its SQL time zone is set to UTC while calibrate
    works, and restored on :meth:`close`.

    Parameters
    ----------
    session : pyspark.sql.SparkSession, optional
        The session to use.
    master : str, optional
        Master URL of a new session (``local[4]``, ``spark://host:7077``,
        ``yarn``).
    progress : callable, optional
        As for :class:`Engine`.
    """

    dialect = "spark"
    name = "Spark"

    def __init__(self, session=None, *, master: str | None = None, progress=None):
        super().__init__(progress)
        self.session = session if session is not None else spark_session(master)
        conf = self.session.conf
        self._zone = conf.get("spark.sql.session.timeZone", None)
        conf.set("spark.sql.session.timeZone", "UTC")
        self._arrow_conf = conf.get("spark.sql.execution.arrow.pyspark.enabled", None)
        conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
        self._views: list[str] = []

    def frame(self, sql: str):
        """The query as a Spark DataFrame (nothing collected)."""
        return self.session.sql(sql)

    def _query(self, sql):
        return _collect(self.session.sql(sql))

    def _arrow(self, sql):
        frame = self.session.sql(sql)
        if hasattr(frame, "toArrow"):  # pyspark 4
            return frame.toArrow()
        import pyarrow as pa

        return pa.Table.from_pandas(_collect(frame), preserve_index=False)

    def execute(self, sql):
        self.session.sql(sql).collect()

    def put(self, frame, name):
        if is_spark_frame(frame):
            frame.createOrReplaceTempView(name)
        else:
            self.session.createDataFrame(_spark_ready(frame)).createOrReplaceTempView(name)
        self._views.append(name)

    def columns(self, table):
        return {
            f.name: f.dataType.simpleString().upper()
            for f in self.session.table(table).schema.fields
        }

    def raw(self, log) -> None:
        """The log (a Spark DataFrame, ``spark:`` table or path) as the view ``calibrate_raw``."""
        self.put(spark_frame(self.session, log), "calibrate_raw")

    def close(self):
        catalog = self.session.catalog
        for name in dict.fromkeys(self._views):
            catalog.dropTempView(name)
        conf = self.session.conf
        for key, old in (
            ("spark.sql.session.timeZone", self._zone),
            ("spark.sql.execution.arrow.pyspark.enabled", self._arrow_conf),
        ):
            if old is None:
                conf.unset(key)
            else:
                conf.set(key, old)


def is_spark_frame(value) -> bool:
    """Whether ``value`` is a pyspark DataFrame (without importing pyspark)."""
    from .sources import _is_spark_frame

    return _is_spark_frame(value)


def spark_session(master: str | None = None):
    """The active Spark session, or a new one (on ``master`` when given).

    Raises
    ------
    DataError
        When pyspark is not installed.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError("working in Spark needs pyspark: pip install 'calibrate[spark]'") from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName("calibrate")
    if master is not None:
        builder = builder.master(master)
    return builder.getOrCreate()


def spark_frame(session, log):
    """A Spark DataFrame of a log: a DataFrame as it is, ``spark:TABLE`` or ``spark:PATH``.

    A path ending in ``.parquet`` (or a folder of Parquet files) is read as
    Parquet, one ending in ``.csv`` as CSV with a header; anything else is a
    table of the session's catalog.
    """
    if is_spark_frame(log):
        return log
    name = spark_name(log.location if isinstance(log, Source) else log)
    lower = name.lower().rstrip("/")
    try:
        if lower.endswith(".csv"):
            return session.read.option("header", "true").csv(name)
        if lower.endswith(".parquet") or "/" in name:
            return session.read.parquet(name)
        return session.table(name)
    except Exception as exc:  # pyspark's AnalysisException and its JVM errors
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read spark:{name}: {message}") from None


def spark_name(location) -> str:
    """The table or path of a ``spark:`` location."""
    text = str(location)
    return text[len("spark:") :] if text.startswith("spark:") else text


def is_spark_location(location) -> bool:
    """Whether ``location`` names a Spark table or path (``spark:db.table``, or its Source)."""
    if isinstance(location, Source):
        return location.kind == "spark"
    return isinstance(location, str) and location.startswith("spark:")


def read_spark(location) -> pd.DataFrame:
    """A Spark DataFrame, table or path collected whole, through Arrow (a lead table)."""
    frame = location if is_spark_frame(location) else spark_frame(spark_session(), location)
    return _collect(frame)


def _collect(frame) -> pd.DataFrame:
    """A (small) Spark result as pandas, through Arrow."""
    import warnings

    with warnings.catch_warnings():
        # pyspark 4 on pandas 3 warns that it does not fully support it.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return frame.toPandas()


def _spark_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame Spark reads as it is: timestamps in microseconds, text as objects."""
    out = frame.copy()
    for name, dtype in out.dtypes.items():
        if pd.api.types.is_datetime64_any_dtype(dtype):
            out[name] = out[name].astype("datetime64[us]")
        elif isinstance(dtype, pd.StringDtype):
            out[name] = out[name].astype(object)
    return out


def _arrow_kind(kind) -> str:
    """An Arrow type in the words the log checks use (VARCHAR, TIMESTAMP, DOUBLE...)."""
    import pyarrow as pa

    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "VARCHAR"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP WITH TIME ZONE" if kind.tz else "TIMESTAMP"
    if pa.types.is_date(kind):
        return "DATE"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "DOUBLE"
    if pa.types.is_integer(kind):
        return "BIGINT"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    return str(kind).upper()
