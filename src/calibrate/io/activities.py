"""Reading the activity log where it lives: the checked log and the leads beside it.

:func:`open_engine` chooses where the log's queries run (see
:mod:`calibrate.io.engines`): inside PostgreSQL for a PostgreSQL table or
query, inside Spark for a Spark DataFrame, table or path, and otherwise in
an in-memory DuckDB connection on this machine (:func:`connect`, which
spills to disk). :func:`read_activities` reads an activity log (a CSV or
Parquet file, a glob or folder of them, a DuckDB file, a database, a
DataFrame) there, checks it and makes the view ``calibrate_activities``
(ids as the lead table's, types after the detail rules, UTC timestamps in
whole seconds); :func:`register_leads` puts the leads beside it, as
``calibrate_leads_frame``. The features are computed from these views by
:func:`calibrate.sheet.sql.activity_sql`, in the engine's dialect.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, format_examples
from ..sheet.activity import ActivitySpec
from ..sheet.criteria import WHITESPACE
from ..sheet.feature import ZONE_SUFFIX, detail_rules_sql
from .sources import as_source, check_parquet_schemas, read_arrow

__all__ = ["connect", "open_engine", "read_activities", "register_leads"]


def connect(memory_limit: str = "3GB", threads: int | None = None):
    """An in-memory DuckDB connection that spills to a temporary folder."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = true")
    spill = Path(tempfile.gettempdir()) / "calibrate-duckdb"
    spill.mkdir(exist_ok=True)
    con.execute(f"SET temp_directory = {_lit(str(spill))}")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _ident(name: str) -> str:
    from sqlglot import exp

    return exp.to_identifier(str(name), quoted=True).sql("duckdb")


def _lit(value) -> str:
    from sqlglot import exp

    if isinstance(value, str):
        return exp.Literal.string(value).sql("duckdb")
    return exp.Literal.number(value).sql("duckdb")


def open_engine(source, spec: ActivitySpec | None = None, *, progress=None, master=None):
    """Where the queries of this activity log run: the engine that holds it.

    Parameters
    ----------
    source : str, os.PathLike, Source, pandas.DataFrame or pyspark DataFrame
        The activity log.
    spec : ActivitySpec, optional
        Its columns: a PostgreSQL log whose timestamps are stored as text is
        read whole into DuckDB instead, where they are checked row by row.
    progress : callable, optional
        Told of long queries (see :class:`~calibrate.io.engines.Engine`).
    master : str, optional
        Spark master of a new session, for a ``spark:`` log.

    Returns
    -------
    Engine
        A :class:`~calibrate.io.engines.SparkEngine` for a Spark DataFrame or
        a ``spark:`` location, a :class:`~calibrate.io.engines.PostgresEngine`
        for a PostgreSQL table or query (with the ADBC driver), else a
        :class:`~calibrate.io.engines.DuckDBEngine`. ``engine.note`` says
        why the log is read whole when it could not stay where it is, or is
        None.
    """
    from .engines import (
        DuckDBEngine,
        PostgresEngine,
        SparkEngine,
        is_spark_frame,
        is_spark_location,
    )

    if is_spark_frame(source):
        engine = SparkEngine(source.sparkSession, progress=progress)
    elif is_spark_location(source):
        engine = SparkEngine(master=master, progress=progress)
    elif _in_postgres(source):
        engine = PostgresEngine(as_source(source), progress=progress)
        when = spec.occurred_at if spec is not None else None
        if when is not None:
            try:
                engine.raw()
                kind = engine.columns("calibrate_raw").get(when, "")
            except BaseException:
                engine.close()
                raise
            if kind == "VARCHAR":
                engine.close()
                engine = DuckDBEngine(progress=progress)
                engine.note = (
                    f"the activity log's column {when!r} holds text, not timestamps: the log "
                    "was read whole from PostgreSQL to check them; store it as a timestamp "
                    "(or cast it in --activities-query) to keep the work in the database"
                )
                return engine
    else:
        engine = DuckDBEngine(progress=progress)
    engine.note = None
    return engine


def _in_postgres(source) -> bool:
    """Whether the log is a PostgreSQL table or query the ADBC driver reads."""
    from .sources import _URL, Source, _has_adbc

    if not isinstance(source, Source) or source.kind != "database":
        return False
    scheme = _URL.match(source.location)["scheme"].lower().split("+")[0]
    return scheme in ("postgresql", "postgres") and _has_adbc()


def read_activities(con, source, spec: ActivitySpec, *, now=None, sep: str | None = None) -> dict:
    """Read and check an activity log into the view ``calibrate_activities`` of an engine.

    The view has columns ``lead_id`` (text, written as the lead table's
    ids are: see :func:`calibrate.sheet.activity.lead_id_text`), ``activity_type``
    (text, after the detail rules), ``occurred_at`` (UTC timestamp, whole seconds) and
    ``detail`` (text).

    Parameters
    ----------
    con : Engine or duckdb.DuckDBPyConnection
        Where the log is read (see :func:`open_engine`); a DuckDB
        connection is :func:`connect`'s.
    source : str, os.PathLike, Source, pandas.DataFrame or pyspark DataFrame
        A CSV or Parquet file, a glob or folder of them, a DuckDB file or
        database :class:`~calibrate.io.sources.Source`, or a DataFrame. In
        PostgreSQL or Spark, the log of the engine (its table, query or
        DataFrame).
    spec : ActivitySpec
        Column names and detail rules.
    now : datetime, optional
        Activities later than this are refused as "in the future"; default
        the current time.

    Returns
    -------
    dict
        ``rows`` and ``types`` (``{activity type: rows}``).

    Raises
    ------
    DataError
        For a missing column, an empty lead id or timestamp, a timestamp that
        cannot be read, mixed time zones or a timestamp in the future, naming
        the rows (in PostgreSQL and Spark, the lead ids and values of the
        first rows refused).
    """
    from .engines import DuckDBEngine, Engine

    if isinstance(con, DuckDBEngine):
        con = con.con
    elif isinstance(con, Engine):
        return _read_in_engine(con, source, spec, now)
    types = _log_columns(con, source, spec, sep)
    lead, kind, when = _ident(spec.lead_id), _ident(spec.activity_type), _ident(spec.occurred_at)
    lead_text, kind_text = _id_text_sql(lead, types[spec.lead_id]), f"CAST({kind} AS VARCHAR)"
    timestamp = _timestamp_sql(con, when, spec.occurred_at, types[spec.occurred_at])
    now = pd.Timestamp.now(tz="UTC").tz_localize(None) if now is None else pd.Timestamp(now)
    future = f"{timestamp} > TIMESTAMP {_lit(now.strftime('%Y-%m-%d %H:%M:%S'))}"
    # One pass over the log checks it; the rows are looked up only on failure.
    checks = {
        "empty_lead": f"{lead} IS NULL OR {lead_text} = ''",
        "empty_type": f"{kind} IS NULL OR {kind_text} = ''",
        "future": future,
    }
    if types[spec.lead_id].upper() == "VARCHAR":
        # Ids are read as the lead table's: without surrounding whitespace.
        # Trimming costs seconds per hundred million rows, so only a log
        # that has a padded id is trimmed, and in it only the padded ids.
        checks["padded_lead"] = _padded_sql(lead_text)
    found = dict(
        zip(
            checks,
            con.execute(
                "SELECT "
                + ", ".join(f"COUNT(*) FILTER (WHERE {c})" for c in checks.values())
                + " FROM calibrate_raw"
            ).fetchall()[0],
            strict=True,
        )
    )
    messages = {
        "empty_lead": (f"activity log: column {spec.lead_id!r} is empty", lead),
        "empty_type": (f"activity log: column {spec.activity_type!r} is empty", kind),
        "future": (
            f"activity log: column {spec.occurred_at!r} has timestamps in the future "
            f"(after {now:%Y-%m-%d %H:%M:%S} UTC)",
            when,
        ),
    }
    for name, (message, shown) in messages.items():
        if found[name]:
            _refuse_rows(con, checks[name], message, shown)
    lead_clean = lead_text
    if found.get("padded_lead"):
        padded = _padded_sql(lead_text)
        lead_clean = f"CASE WHEN {padded} THEN {_trim(lead_text)} ELSE {lead_text} END"
        _refuse_rows(con, f"{lead_clean} = ''", messages["empty_lead"][0], lead)
    detail = (
        f"CAST({_ident(spec.detail)} AS VARCHAR)" if spec.detail is not None else "NULL::VARCHAR"
    )
    # Types and details are used as stored (trimming them would cost seconds
    # per hundred million rows).
    kind_clean = kind_text
    con.execute(
        "CREATE OR REPLACE TEMP VIEW calibrate_activities AS SELECT "
        f"{lead_clean} AS lead_id, "
        f"{_rules_sql(spec.detail_rules, kind_clean, detail)} AS activity_type, "
        f"{timestamp} AS occurred_at, {detail} AS detail FROM calibrate_raw"
    )
    counts = con.execute(
        "SELECT activity_type, COUNT(*) FROM calibrate_activities GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {"rows": int(sum(c for _, c in counts)), "types": {t: int(c) for t, c in counts}}


def _log_columns(con, source, spec: ActivitySpec, sep: str | None) -> dict:
    """``{column: DuckDB type}`` of the log, registered as the view ``calibrate_raw``.

    Also makes ``calibrate_numbered`` (the log with its row numbers, to name
    rows refused); refuses a log without the columns of ``spec``.
    """
    _register_source(con, source, "calibrate_raw", sep=sep)
    described = con.execute("DESCRIBE calibrate_raw").fetchall()
    types = {row[0]: row[1] for row in described}
    _refuse_missing_columns(types, spec)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW calibrate_numbered AS "
        "SELECT row_number() OVER () AS calibrate_row, * FROM calibrate_raw"
    )
    return types


def _refuse_missing_columns(types: dict, spec: ActivitySpec) -> None:
    """Refuse a log without the columns ``spec`` names, listing the columns it has."""
    wanted = [spec.lead_id, spec.activity_type, spec.occurred_at]
    if spec.detail is not None:
        wanted.append(spec.detail)
    missing = [c for c in wanted if c not in types]
    if missing:
        raise DataError(
            f"activity log: column(s) {format_examples(missing)} not found "
            f"(columns: {format_examples(list(types), 8)})"
        )


def _id_text_sql(column: str, duck_type: str) -> str:
    """SQL of a lead id as text; whole-number floats written as integers, as the lead table's."""
    if duck_type.upper() in ("DOUBLE", "FLOAT", "REAL"):
        return (
            f"CASE WHEN {column} = TRUNC({column}) AND ABS({column}) < 9007199254740992 "
            f"THEN CAST(CAST({column} AS BIGINT) AS VARCHAR) ELSE CAST({column} AS VARCHAR) END"
        )
    return f"CAST({column} AS VARCHAR)"


def _padded_sql(text_sql: str) -> str:
    """SQL true when the text may start or end with whitespace (a control character or space).

    Much cheaper than comparing the text with its trimmed self: it compares
    the first and the last character with ``!``, the first character after
    the space. Every character of :data:`WHITESPACE` sorts before it.
    """
    return f"({text_sql} < '!' OR {text_sql}[-1] < '!')"


def _trim(text_sql: str) -> str:
    """SQL stripping the same whitespace as :data:`calibrate.sheet.criteria.WHITESPACE`."""
    return f"TRIM({text_sql}, {_lit(WHITESPACE)})"


def _register_source(con, source, name: str, *, sep: str | None = None):
    """Make the view ``name`` over the activity log, wherever it is.

    Files and globs are scanned by DuckDB (out of core); a DuckDB file or a
    database is read to Arrow first (see :mod:`calibrate.io.sources`).
    """
    if isinstance(source, pd.DataFrame) or _is_arrow_table(source):
        con.register(f"{name}_frame", source)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_frame")
        return
    source = as_source(source)
    if source.kind in ("duckdb", "database"):
        table = read_arrow(source)
        con.register(f"{name}_frame", table)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_frame")
        return
    files = source.files()
    if source.kind == "file":
        path = files[0]
        if not path.exists():
            raise DataError(f"cannot read {path}: no such file")
        if path.is_dir() or path.stat().st_size == 0:
            raise DataError(f"cannot read {path}: the file is empty")
    parquet = source.is_parquet()
    if parquet and len(files) > 1:
        check_parquet_schemas(files, source.location)
    import duckdb

    paths = [str(p) for p in files]
    try:
        if parquet:
            relation = con.read_parquet(paths, union_by_name=len(paths) > 1)
        else:
            options = {"header": True, "all_varchar": True}
            if sep is not None:
                options["sep"] = sep
            relation = con.read_csv(paths, **options)
        relation.create_view(name, replace=True)
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise DataError(f"cannot read activity log {source.location}: {message}") from None


def _is_arrow_table(value) -> bool:
    kind = type(value)
    return kind.__name__ == "Table" and kind.__module__.startswith("pyarrow")


def _refuse_rows(con, condition: str, message: str, shown: str):
    bad = con.execute(f"SELECT COUNT(*) FROM calibrate_numbered WHERE {condition}").fetchall()[0][
        0
    ]
    if bad:
        rows = con.execute(
            f"SELECT calibrate_row, CAST({shown} AS VARCHAR) FROM calibrate_numbered "
            f"WHERE {condition} ORDER BY calibrate_row LIMIT 5"
        ).fetchall()
        examples = "; ".join(f"row {r}: {v!r}" for r, v in rows)
        raise DataError(f"{message} in {bad} row(s) ({examples})")


def _timestamp_sql(con, column: str, name: str, duck_type: str) -> str:
    """SQL of the column as a UTC timestamp in whole seconds; checks text values."""
    duck_type = duck_type.upper()
    if duck_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"date_trunc('second', timezone('UTC', {column}))"
    if duck_type.startswith("TIMESTAMP") or duck_type == "DATE":
        return f"date_trunc('second', CAST({column} AS TIMESTAMP))"
    if duck_type != "VARCHAR":
        raise DataError(f"activity log: column {name!r} holds {duck_type}, not timestamps")
    text = _trim(f"CAST({column} AS VARCHAR)")
    zone = f"regexp_matches({text}, {_lit(ZONE_SUFFIX)})"
    # A zone DuckDB reads but the pattern does not see (a name such as
    # 'Europe/Paris', which pandas refuses) would be dropped: refuse it too.
    named_zone = (
        f"(NOT {zone} AND TRY_CAST({text} AS TIMESTAMP) IS DISTINCT FROM "
        f"CAST(timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ)) AS TIMESTAMP))"
    )
    _refuse_rows(
        con,
        f"{text} <> '' AND (TRY_CAST({text} AS TIMESTAMPTZ) IS NULL OR {named_zone})",
        f"activity log: column {name!r} has values that are not timestamps",
        column,
    )
    _refuse_rows(
        con, f"{column} IS NULL OR {text} = ''", f"activity log: column {name!r} is empty", column
    )
    zoned, plain = con.execute(
        f"SELECT COUNT(*) FILTER (WHERE {zone}), COUNT(*) FILTER (WHERE NOT {zone}) "
        "FROM calibrate_numbered"
    ).fetchall()[0]
    if zoned and plain:
        first = con.execute(
            f"SELECT calibrate_row, {column} FROM calibrate_numbered WHERE {zone} "
            f"ORDER BY calibrate_row LIMIT 1"
        ).fetchall()[0]
        other = con.execute(
            f"SELECT calibrate_row, {column} FROM calibrate_numbered WHERE NOT {zone} "
            f"ORDER BY calibrate_row LIMIT 1"
        ).fetchall()[0]
        raise DataError(
            f"activity log: column {name!r} mixes timestamps with and without a time zone "
            f"(row {first[0]}: {first[1]!r}; row {other[0]}: {other[1]!r})"
        )
    if zoned:
        return f"date_trunc('second', timezone('UTC', CAST({text} AS TIMESTAMPTZ)))"
    return f"date_trunc('second', CAST({text} AS TIMESTAMP))"


def _rules_sql(rules, kind: str, detail: str) -> str:
    """DuckDB SQL of the activity type after the detail rules (see :func:`detail_rules_sql`)."""
    import sqlglot

    if not rules:
        return kind
    kind_sql, detail_sql = (sqlglot.parse_one(x, read="duckdb") for x in (kind, detail))
    return detail_rules_sql(rules, kind_sql, detail_sql, "duckdb").sql("duckdb")


def register_leads(con, leads: pd.DataFrame):
    """Put the leads beside the log as ``calibrate_leads_frame``, to join with it.

    Parameters
    ----------
    con : Engine or duckdb.DuckDBPyConnection
        See :func:`open_engine` and :func:`connect`.
    leads : pandas.DataFrame
        Columns ``lead_id`` (text) and ``decision_time``; the column
        ``calibrate_order`` (each lead's position) is added.
    """
    from .engines import Engine

    frame = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(dtype=object),
            "decision_time": leads["decision_time"].to_numpy(),
            "calibrate_order": np.arange(len(leads), dtype=np.int64),
        }
    )
    if isinstance(con, Engine):
        con.put(frame, "calibrate_leads_frame")
    else:
        con.register("calibrate_leads_frame", frame)


#: Column types a log's timestamp may have inside PostgreSQL or Spark.
_TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ",
                    "DATE")  # fmt: skip


def _read_in_engine(engine, source, spec: ActivitySpec, now) -> dict:
    """:func:`read_activities` inside PostgreSQL or Spark: checked there, nothing pulled.

    The checks are one aggregate query over the log; a failing check names
    the first rows' lead ids and values (a database table has no row
    numbers). The view ``calibrate_activities`` is the same as DuckDB's:
    ids as trimmed text (whole-number floats as integers), types after the
    detail rules, timestamps as UTC in whole seconds.
    """
    from sqlglot import exp

    from ..sheet.sql import SqlBuilder, _count_where

    engine.raw(source)
    types = engine.columns("calibrate_raw")
    _refuse_missing_columns(types, spec)
    if types[spec.occurred_at] not in _TIMESTAMP_TYPES:
        raise DataError(
            f"activity log: column {spec.occurred_at!r} holds {types[spec.occurred_at]} in "
            f"{engine.name}, not timestamps"
        )
    b = SqlBuilder(engine.dialect)
    lead, kind, when = (b.column(c) for c in (spec.lead_id, spec.activity_type, spec.occurred_at))
    lead_text = b.trim(_id_text(b, lead, types[spec.lead_id]))
    kind_text = b.text(kind)
    detail = b.text(b.column(spec.detail)) if spec.detail is not None else b.text(exp.null())
    timestamp = exp.TimestampTrunc(
        this=exp.cast(when.copy(), exp.DataType.Type.TIMESTAMP), unit=exp.var("SECOND")
    )
    now = pd.Timestamp.now(tz="UTC").tz_localize(None) if now is None else pd.Timestamp(now)
    moment = exp.cast(
        exp.Literal.string(now.strftime("%Y-%m-%d %H:%M:%S")), exp.DataType.Type.TIMESTAMP
    )
    empty = exp.Literal.string("")
    checks = {
        "empty_lead": (
            exp.or_(exp.Is(this=lead.copy(), expression=exp.null()),
                    exp.EQ(this=lead_text.copy(), expression=empty.copy())),
            f"activity log: column {spec.lead_id!r} is empty",
            lead,
        ),
        "empty_type": (
            exp.or_(exp.Is(this=kind.copy(), expression=exp.null()),
                    exp.EQ(this=kind_text.copy(), expression=empty.copy())),
            f"activity log: column {spec.activity_type!r} is empty",
            kind,
        ),
        "empty_time": (
            exp.Is(this=when.copy(), expression=exp.null()),
            f"activity log: column {spec.occurred_at!r} is empty",
            when,
        ),
        "future": (
            exp.GT(this=timestamp.copy(), expression=moment),
            f"activity log: column {spec.occurred_at!r} has timestamps in the future "
            f"(after {now:%Y-%m-%d %H:%M:%S} UTC)",
            when,
        ),
    }  # fmt: skip
    raw = exp.to_table("calibrate_raw")
    counted = exp.select(*(_count_where(c, name) for name, (c, _, _) in checks.items())).from_(
        raw.copy()
    )
    found = engine.rows(counted.sql(engine.dialect))[0]
    for n, (condition, message, shown) in zip(found, checks.values(), strict=True):
        if n:
            rows = engine.rows(
                exp.select(b.text(lead.copy()), b.text(shown.copy()))
                .from_(raw.copy())
                .where(condition.copy())
                .limit(5)
                .sql(engine.dialect)
            )
            examples = "; ".join(f"lead {r[0]!r}: {r[1]!r}" for r in rows)
            raise DataError(f"{message} in {int(n):,} row(s) (e.g. {examples})")
    if spec.detail_rules and spec.detail is not None:
        from ..sheet.feature import detail_rules_sql

        kind_text = detail_rules_sql(spec.detail_rules, kind_text, detail, engine.dialect)
    view = exp.select(
        exp.alias_(lead_text, "lead_id"),
        exp.alias_(kind_text, "activity_type"),
        exp.alias_(timestamp, "occurred_at"),
        exp.alias_(detail.copy(), "detail"),
    ).from_(raw.copy())
    if engine.dialect == "spark":
        engine.put(engine.frame(view.sql("spark")), "calibrate_activities")
    else:
        engine.execute(
            f"CREATE OR REPLACE TEMP VIEW calibrate_activities AS {view.sql(engine.dialect)}"
        )
    counts = engine.query(
        "SELECT activity_type, COUNT(*) AS n FROM calibrate_activities GROUP BY activity_type "
        "ORDER BY activity_type",
        stage="reading the log",
    )
    read = {t: int(n) for t, n in counts.itertuples(index=False, name=None)}
    engine.log_rows = int(sum(read.values()))
    return {"rows": engine.log_rows, "types": read}


def _id_text(b, column, kind: str):
    """A lead id as text; whole-number floats written as integers, as the lead table's."""
    from sqlglot import exp

    if kind not in ("DOUBLE", "FLOAT", "REAL", "DOUBLE PRECISION"):
        return b.text(column)
    whole = exp.and_(
        exp.EQ(this=column.copy(), expression=exp.Floor(this=column.copy())),
        exp.LT(this=exp.Abs(this=column.copy()), expression=exp.Literal.number(9007199254740992)),
    )
    as_int = b.text(exp.cast(column.copy(), exp.DataType.Type.BIGINT))
    return exp.Case().when(whole, as_int).else_(b.text(column.copy()))
