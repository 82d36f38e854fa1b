"""Reading the activity log into DuckDB: a connection, the checked log and the leads beside it.

:func:`connect` opens an in-memory DuckDB connection that spills to disk;
:func:`read_activities` reads an activity log (a CSV or Parquet file, a glob
or folder of them, a DuckDB file, a database or a DataFrame), checks it and
makes the view ``calibrate_activities`` (ids as the lead table's, types after
the detail rules, UTC timestamps in whole seconds); :func:`register_leads`
puts the leads beside it, as ``calibrate_leads_frame``. The features are
computed from these views by :func:`calibrate.sheet.sql.activity_sql`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from ..errors import DataError, format_examples
from ..sheet.activity import ActivitySpec
from ..sheet.criteria import WHITESPACE
from ..sheet.feature import ZONE_SUFFIX, detail_rules_sql
from .sources import as_source, check_parquet_schemas, read_arrow

__all__ = ["connect", "read_activities", "register_leads"]


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


def read_activities(con, source, spec: ActivitySpec, *, now=None, sep: str | None = None) -> dict:
    """Read and check an activity log into the DuckDB view ``calibrate_activities``.

    The view has columns ``lead_id`` (text, written as the lead table's
    ids are: see :func:`calibrate.sheet.activity.lead_id_text`), ``activity_type``
    (text, after the detail rules), ``occurred_at`` (UTC timestamp, whole seconds) and
    ``detail`` (text).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        See :func:`connect`.
    source : str, os.PathLike, Source or pandas.DataFrame
        A CSV or Parquet file, a glob or folder of them, a DuckDB file or
        database :class:`~calibrate.io.sources.Source`, or a DataFrame.
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
        the rows.
    """
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
    wanted = [spec.lead_id, spec.activity_type, spec.occurred_at]
    if spec.detail is not None:
        wanted.append(spec.detail)
    missing = [c for c in wanted if c not in types]
    if missing:
        raise DataError(
            f"activity log: column(s) {format_examples(missing)} not found "
            f"(columns: {format_examples(list(types), 8)})"
        )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW calibrate_numbered AS "
        "SELECT row_number() OVER () AS calibrate_row, * FROM calibrate_raw"
    )
    return types


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
    if isinstance(source, pd.DataFrame):
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
    """Register the leads as the DuckDB view ``calibrate_leads_frame``, to join with the log.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        See :func:`connect`.
    leads : pandas.DataFrame
        Columns ``lead_id`` (text) and ``decision_time``.
    """
    con.register("calibrate_leads_frame", leads)
