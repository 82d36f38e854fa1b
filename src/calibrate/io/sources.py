"""Sources: where a lead table or an activity log is read from.

The ingest step's "where from". A :class:`Source` describes one of

- a CSV or Parquet file (``kind="file"``);
- a glob or a folder of Parquet or CSV files (``kind="files"``), such as
  ``exports/2026-*/leads.parquet``;
- a DuckDB database file with a table or a query (``kind="duckdb"``);
- a database URL with a table or a query (``kind="database"``): PostgreSQL
  (``postgresql://user@host:5432/db``) is read through the ADBC driver, which
  streams the result to Arrow with binary COPY; any other SQLAlchemy URL
  (``sqlite:///crm.db``, ``mysql+pymysql://...``) through SQLAlchemy;
- a Spark table or path (``kind="spark"``): ``spark:db.leads``,
  ``spark:s3://bucket/leads.parquet``, read by the active Spark session
  (see :mod:`calibrate.io.engines`).

Whatever the source, the reader returns Arrow (or a DuckDB view over it):
timestamps with a time zone arrive as UTC timestamps, decimals as float64,
integers and booleans as themselves, so the same data reads the same from a
file or a database. A column whose type differs between the files of one
source is an error naming the column, the files and the types.

A URL's password is never shown: :attr:`Source.description`, ``str()`` and
``repr()`` replace it with ``***``, and so do error messages. It can also be
kept out of the URL altogether: ``password_env="VAR"`` reads it from that
environment variable, and libpq's own variables (``PGPASSWORD``, ``PGUSER``,
``PGHOST``, ``PGPASSFILE``...) work for PostgreSQL because the driver is
libpq's.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..errors import DataError, format_examples

__all__ = ["Source", "as_source", "read_arrow"]

KINDS = ("file", "files", "duckdb", "database", "spark")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<rest>.*)$", re.DOTALL)
_PASSWORD_PARAM = re.compile(r"(?i)(\bpassword=)[^&\s]*")
_GLOB_CHARS = "*?["
#: Rows fetched at a time from a database without an Arrow driver.
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class Source:
    """Where a table comes from: a file, files, a DuckDB file or a database.

    Parameters
    ----------
    location : str or os.PathLike
        A CSV or Parquet file, a glob or folder of them, a DuckDB file, or a
        database URL (``postgresql://user@host/db``, ``sqlite:///crm.db``).
    table : str, optional
        Table of a DuckDB file or database (``crm.leads`` for a schema).
    query : str, optional
        SQL query instead of a table.
    password_env : str, optional
        Environment variable holding the database password (so that the URL
        and the command line need not).

    Attributes
    ----------
    kind : str
        ``"file"``, ``"files"``, ``"duckdb"`` or ``"database"``.
    description : str
        The source as recorded in configs, reports and messages, the
        password replaced by ``***``.

    Raises
    ------
    DataError
        Both a table and a query; neither for a database or DuckDB file; a
        table or query for files; a password variable for files.

    Examples
    --------
    >>> Source("postgresql://ana:s3cret@db.internal/crm", table="leads")
    Source('postgresql://ana:***@db.internal/crm (table leads)')
    >>> Source("exports/2026-*/leads.parquet").kind
    'files'
    """

    location: str = field(repr=False)
    table: str | None = None
    query: str | None = None
    password_env: str | None = None
    kind: str = field(init=False)

    def __post_init__(self):
        if not isinstance(self.location, str | os.PathLike):
            raise DataError(f"a source is a path or a URL, got {type(self.location).__name__}")
        location = os.fspath(self.location)
        if _is_sqlite_file(location):
            # A bare SQLite file is read as its SQLAlchemy URL.
            location = f"sqlite:///{location}"
        object.__setattr__(self, "location", location)
        kind = _kind_of(location)
        object.__setattr__(self, "kind", kind)
        shown = _redact(location)
        if self.table is not None and self.query is not None:
            raise DataError(f"{shown}: give a table or a query, not both")
        for name in ("table", "query"):
            value = getattr(self, name)
            if value is not None and not str(value).strip():
                raise DataError(f"{shown}: the {name} is empty")
        if kind in ("duckdb", "database") and self.table is None and self.query is None:
            what = "a DuckDB file" if kind == "duckdb" else "a database"
            raise DataError(f"{shown} is {what}: name a table (--table) or a query (--query)")
        if kind == "spark" and (self.table is not None or self.query is not None):
            raise DataError(f"{shown}: a Spark source names its table or path after 'spark:'")
        if kind == "spark" and not location[len("spark:") :].strip():
            raise DataError("a Spark source names a table or a path after 'spark:'")
        if kind in ("file", "files") and (self.table is not None or self.query is not None):
            raise DataError(
                f"{shown} is not a database: a table or query needs a database URL or a "
                "DuckDB file"
            )
        if self.password_env is not None and kind != "database":
            raise DataError(f"{shown}: a password variable is only for a database URL")

    @property
    def description(self) -> str:
        """The source for configs, reports and messages, without its password."""
        shown = _redact(self.location)
        if self.table is not None:
            shown = f"{shown} (table {self.table})"
        elif self.query is not None:
            shown = f"{shown} (query: {' '.join(self.query.split())})"
        # The password, wherever else it was written (a query), is not shown either.
        return _scrub(shown, self) if self.kind == "database" else shown

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        return f"Source({self.description!r})"

    def files(self) -> list[Path]:
        """The files of a file or files source, sorted; checks that there are some.

        Raises
        ------
        DataError
            A glob matching nothing, a folder without CSV or Parquet files, or
            files of both formats.
        """
        if self.kind == "file":
            return [Path(self.location)]
        if self.kind != "files":
            raise DataError(f"{self.description} is not a file source")
        path = Path(self.location)
        if path.is_dir():
            found = [p for p in sorted(path.rglob("*")) if p.is_file() and _data_file(p)]
            if not found:
                raise DataError(f"folder {self.location} holds no Parquet or CSV files")
        else:
            import glob

            found = [
                Path(p) for p in sorted(glob.glob(self.location, recursive=True))
                if Path(p).is_file()
            ]  # fmt: skip
            if not found:
                raise DataError(f"{self.location} matches no files")
        parquet = [p for p in found if p.name.lower().endswith(PARQUET_SUFFIXES)]
        if parquet and len(parquet) < len(found):
            other = [str(p) for p in found if p not in parquet]
            raise DataError(
                f"{self.location} mixes Parquet and other files ({format_examples(other, 3)}): "
                "give a glob of one format"
            )
        return found

    def is_parquet(self) -> bool:
        """Whether a file or files source is Parquet (else CSV).

        The files of a glob or folder are told apart by their suffix alone.
        """
        first = self.files()[0]
        if self.kind == "files":
            return first.name.lower().endswith(PARQUET_SUFFIXES)
        return is_parquet_file(first)


def is_parquet_file(path: Path) -> bool:
    """Whether a file is Parquet: by its suffix, else by its first four bytes.

    Examples
    --------
    >>> is_parquet_file(Path("leads.parquet")), is_parquet_file(Path("leads.csv.gz"))
    (True, False)
    """
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return True
    if name.endswith(CSV_SUFFIXES):
        return False
    return _head(path, 4) == b"PAR1"


def as_source(data, *, table=None, query=None, password_env=None):
    """``data`` as a :class:`Source`; a DataFrame (or a Source) is returned as it is.

    Examples
    --------
    >>> as_source("leads.csv").kind
    'file'
    >>> as_source("sqlite:///crm.db", query="SELECT * FROM leads").description
    'sqlite:///crm.db (query: SELECT * FROM leads)'
    """
    if isinstance(data, Source):
        if table is not None or query is not None or password_env is not None:
            raise DataError(f"{data}: the table and query belong in the Source")
        return data
    if (hasattr(data, "columns") and hasattr(data, "iloc")) or _is_spark_frame(data):
        if table is not None or query is not None:
            raise DataError("a DataFrame takes no table or query")
        return data
    return Source(data, table=table, query=query, password_env=password_env)


def describe(data) -> str:
    """How a source is recorded: its redacted description, or ``"DataFrame"``."""
    if isinstance(data, Source):
        return data.description
    if hasattr(data, "columns") and hasattr(data, "iloc"):
        return "DataFrame"
    if _is_spark_frame(data):
        return "Spark DataFrame"
    return _redact(os.fspath(data))


def _is_spark_frame(value) -> bool:
    kind = type(value)
    return kind.__name__ == "DataFrame" and kind.__module__.startswith("pyspark.")


def _kind_of(location: str) -> str:
    if location.startswith("spark:"):
        return "spark"
    if _URL.match(location) and not location.lower().startswith("file://"):
        return "database"
    path = Path(location)
    if any(ch in location for ch in _GLOB_CHARS) and not path.exists():
        return "files"
    if path.is_dir():
        return "files"
    if location.lower().endswith(DUCKDB_SUFFIXES):
        return "duckdb"
    if path.is_file() and _head(path, 12)[8:12] == b"DUCK":
        return "duckdb"
    return "file"


def _is_sqlite_file(location: str) -> bool:
    """Whether ``location`` is a path to an SQLite database file (by its header)."""
    return not _URL.match(location) and _head(location, 16) == b"SQLite format 3\x00"


def _head(path, n: int) -> bytes:
    """The first ``n`` bytes of a file (empty when it cannot be read): its format."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def _data_file(path: Path) -> bool:
    return path.name.lower().endswith(PARQUET_SUFFIXES + CSV_SUFFIXES) and not (
        path.name.startswith((".", "_"))
    )


def _redact(location: str) -> str:
    """The location with any URL password replaced by ``***``.

    Examples
    --------
    >>> _redact("postgresql://ana:pa:ss@w0rd@db/crm?sslmode=require&password=x")
    'postgresql://ana:***@db/crm?sslmode=require&password=***'
    """
    match = _URL.match(location)
    if not match:
        return location
    scheme, rest = match["scheme"], match["rest"]
    rest = _PASSWORD_PARAM.sub(r"\1***", rest)
    if "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        rest = f"{user}{':***' if colon else ''}@{host}"
    return f"{scheme}://{rest}"


def _secrets(source: Source) -> list[str]:
    """Passwords that must not appear in a message: the URL's and the variable's."""
    found = []
    match = _URL.match(source.location)
    if match:
        rest = match["rest"]
        if "@" in rest:
            userinfo = rest.rpartition("@")[0]
            if ":" in userinfo:
                found.append(userinfo.partition(":")[2])
        found += [m.group(0).split("=", 1)[1] for m in _PASSWORD_PARAM.finditer(rest)]
    if source.password_env and os.environ.get(source.password_env):
        found.append(os.environ[source.password_env])
    from urllib.parse import unquote

    found += [unquote(s) for s in found] + [quote(s, safe="") for s in found]
    return sorted({s for s in found if s and s != "***"}, key=len, reverse=True)


def _scrub(text: str, source: Source) -> str:
    for secret in _secrets(source):
        text = text.replace(secret, "***")
    return text


def _first_line(exc: BaseException, source: Source) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    error = re.search(r"ERROR:\s+(.+)", text)
    if error:
        text = error.group(1)
    for prefix in ("IO: [libpq] Failed to connect: ", "[libpq] "):
        text = text.removeprefix(prefix)
    text = text.strip().splitlines()[0].strip() if text.strip() else type(exc).__name__
    return _scrub(text, source)


def _password(source: Source) -> str | None:
    if source.password_env is None:
        return None
    value = os.environ.get(source.password_env)
    if value is None:
        raise DataError(
            f"{source.description}: environment variable {source.password_env} "
            "(--password-env) is not set"
        )
    return value


# --- Reading ------------------------------------------------------------------------------


def read_arrow(source: Source):
    """Read a DuckDB-file or database source into a ``pyarrow.Table``.

    Decimals (PostgreSQL ``numeric``) arrive as float64, timestamps with a time
    zone as UTC timestamps, other types as the database gives them.

    Raises
    ------
    DataError
        One line for a missing table (named), a query error (the database's
        message), a connection that fails (host and port, no password) or a
        missing driver.
    """
    if source.kind == "duckdb":
        table = _read_duckdb(source)
    elif source.kind == "database":
        scheme = _URL.match(source.location)["scheme"].lower()
        if scheme.split("+")[0] in ("postgresql", "postgres") and _has_adbc():
            table = _read_postgres(source)
        else:
            table = _read_sqlalchemy(source)
    else:
        raise DataError(f"{source.description} is not a database or DuckDB file")
    return normalise_types(table)


def check_not_empty(table, source: Source, *, what: str = "lead") -> None:
    """Refuse a result without rows (an empty lead table is an error)."""
    if table.num_rows == 0:
        got = "the query returned" if source.query is not None else "the table has"
        raise DataError(f"{source.description}: {got} no {what} rows")


def normalise_types(table):
    """Decimals and PostgreSQL ``numeric`` as float64; every other type unchanged."""
    import pyarrow as pa

    columns, changed = [], False
    for column, f in zip(table.columns, table.schema, strict=True):
        kind = f.type
        if isinstance(kind, pa.BaseExtensionType):  # arrow.opaque numeric, money...
            column = pa.chunked_array(
                [chunk.storage for chunk in column.chunks], type=kind.storage_type
            )
            kind = kind.storage_type
            changed = True
            if (f.metadata or {}).get(b"POSTGRESQL:type") in (b"numeric", b"money"):
                column = _text_to_float(column, f.name)
        if pa.types.is_decimal(kind):
            column, changed = column.cast(pa.float64()), True
        columns.append(column)
    if not changed:
        return table
    return pa.table(columns, names=table.column_names)


def _text_to_float(column, name: str):
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.replace_substring(column, ",", "")
    text = pc.replace_substring(text, "$", "")
    try:
        return pc.cast(text, pa.float64())
    except pa.ArrowInvalid as exc:
        raise DataError(f"column {name!r}: numeric values that are not numbers ({exc})") from None


def _has_adbc() -> bool:
    import importlib.util

    return importlib.util.find_spec("adbc_driver_postgresql") is not None


def _table_sql(name: str, dialect: str) -> str:
    from sqlglot import exp

    parts = str(name).split(".")
    return ".".join(exp.to_identifier(p, quoted=True).sql(dialect) for p in parts)


def _select(source: Source, dialect: str) -> str:
    if source.table is not None:
        return f"SELECT * FROM {_table_sql(source.table, dialect)}"
    return source.query


def _read_duckdb(source: Source):
    import duckdb

    path = Path(source.location)
    if not path.exists():
        raise DataError(f"cannot read {source.location}: no such file")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise DataError(
            f"cannot open {source.location} as a DuckDB file: {_first_line(exc, source)}"
        ) from None
    try:
        con.execute("SET TimeZone = 'UTC'")
        if source.table is not None:
            schema, _, name = source.table.rpartition(".")
            known = con.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_name = ? "
                "AND (? = '' OR table_schema = ?)",
                [name, schema, schema],
            ).fetchall()
            if not known:
                raise DataError(f"{source.location}: table {source.table!r} not found")
        relation = con.sql(_select(source, "duckdb"))
        # Newer DuckDB names it to_arrow_table; older ones arrow.
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
        return fetch()
    except duckdb.Error as exc:
        raise DataError(
            f"{source.description}: query failed: {_first_line(exc, source)}"
        ) from None
    finally:
        con.close()


def _libpq_uri(source: Source) -> str:
    """The URL as libpq takes it: no SQLAlchemy driver, the password variable added."""
    match = _URL.match(source.location)
    uri = f"postgresql://{match['rest']}"
    password = _password(source)
    if password is not None:
        uri += ("&" if "?" in uri else "?") + "password=" + quote(password, safe="")
    return uri


def _where(source: Source) -> str:
    """``host:port/db`` of a URL (no user, no password), for connection errors."""
    rest = _URL.match(source.location)["rest"]
    host = rest.rpartition("@")[2] if "@" in rest else rest
    host = host.split("?")[0]
    return host or "the default server (libpq environment)"


def connect_postgres(source: Source, **options):
    """An ADBC connection to the PostgreSQL database of ``source``.

    Raises
    ------
    DataError
        When the connection fails, naming the host and port, never the password.
    """
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi as pg

    try:
        return pg.connect(_libpq_uri(source), **options)
    except adbc_driver_manager.Error as exc:
        raise DataError(
            f"cannot connect to PostgreSQL at {_scrub(_where(source), source)}: "
            f"{_first_line(exc, source)}"
        ) from None


def _read_postgres(source: Source):
    import adbc_driver_manager

    conn = connect_postgres(source)
    try:
        with conn.cursor() as cur:
            try:
                cur.execute("SET TimeZone = 'UTC'")
                cur.execute(_select(source, "postgres"))
                return cur.fetch_arrow_table()
            except adbc_driver_manager.Error as exc:
                if source.table is not None and getattr(exc, "sqlstate", None) in (
                    "42P01",
                    "3F000",
                ):
                    raise DataError(
                        f"{_scrub(source.description, source)}: table {source.table!r} not found"
                    ) from None
                raise DataError(
                    f"{source.description}: query failed: {_first_line(exc, source)}"
                ) from None
    finally:
        conn.close()


def _read_sqlalchemy(source: Source):
    try:
        import sqlalchemy as sa
    except ImportError:
        raise DataError(
            f"reading {source.description} needs SQLAlchemy: pip install 'calibrate[db]'"
        ) from None
    try:
        url = sa.engine.make_url(source.location)
        password = _password(source)
        if password is not None:
            url = url.set(password=password)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            # SQLite would create a missing file: refuse it instead, writing nothing.
            if not Path(url.database).is_file():
                raise DataError(f"cannot read {source.description}: no such file")
        engine = sa.create_engine(url)
    except ImportError as exc:
        raise DataError(
            f"cannot read {source.description}: its driver is not installed "
            f"({_first_line(exc, source)})"
        ) from None
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise DataError(f"cannot read {source.description}: {_first_line(exc, source)}") from None
    try:
        try:
            conn = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise DataError(
                f"cannot connect to {_redact(source.location)}: {_first_line(exc, source)}"
            ) from None
        with conn:
            types = None
            if source.table is not None:
                schema, _, name = source.table.rpartition(".")
                try:
                    table = sa.Table(
                        name, sa.MetaData(), schema=schema or None, autoload_with=conn
                    )
                except sa.exc.NoSuchTableError:
                    raise DataError(
                        f"{_redact(source.location)}: table {source.table!r} not found"
                    ) from None
                statement = sa.select(table)
                types = [_arrow_type(c.type) for c in table.columns]
            else:
                statement = sa.text(source.query)
            try:
                result = conn.execution_options(stream_results=True).execute(statement)
                names = list(result.keys())
                return _rows_to_arrow(result.partitions(BATCH_ROWS), names, types)
            except sa.exc.DBAPIError as exc:
                raise DataError(
                    f"{source.description}: query failed: {_first_line(exc, source)}"
                ) from None
    finally:
        engine.dispose()


def _arrow_type(kind):
    """The Arrow type of a reflected SQLAlchemy column type, or None to infer it."""
    import pyarrow as pa
    import sqlalchemy as sa

    if isinstance(kind, sa.Boolean):
        return pa.bool_()
    if isinstance(kind, sa.Integer):
        return pa.int64()
    if isinstance(kind, sa.Numeric):  # Float is a Numeric
        return pa.float64()
    if isinstance(kind, sa.DateTime):
        return pa.timestamp("us", tz="UTC" if kind.timezone else None)
    if isinstance(kind, sa.Date):
        return pa.date32()
    if isinstance(kind, sa.String):
        return pa.string()
    return None


def _rows_to_arrow(partitions, names: list[str], types):
    """Rows fetched in batches as an Arrow table, typed by the columns when known."""
    import pyarrow as pa

    tables = []
    for rows in partitions:
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        arrays = []
        for i, values in enumerate(columns):
            wanted = types[i] if types else None
            arrays.append(_array(list(values), wanted, names[i]))
        tables.append(pa.table(arrays, names=names))
    if not tables:
        empty = [
            pa.array([], type=(types[i] if types else None) or pa.null())
            for i in range(len(names))
        ]
        return pa.table(empty, names=names)
    return pa.concat_tables(tables, promote_options="permissive")


def _array(values: list, wanted, name: str):
    import decimal

    import pyarrow as pa

    if wanted is not None and pa.types.is_floating(wanted):
        values = [float(v) if isinstance(v, decimal.Decimal) else v for v in values]
    try:
        return pa.array(values, type=wanted, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        try:
            return pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise DataError(f"column {name!r} mixes types: {exc}") from None


# --- Files ---------------------------------------------------------------------------------


def check_parquet_schemas(files: list[Path], where: str) -> None:
    """Refuse Parquet files with different columns, or a column of different types.

    Raises
    ------
    DataError
        Naming the files, and the column and its types.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    seen: dict[str, tuple] = {}
    names = None
    for path in files:
        try:
            schema = pq.read_schema(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"cannot read {path} as Parquet: {exc}") from None
        if names is None:
            names = schema.names
        elif sorted(schema.names) != sorted(names):
            raise DataError(
                f"{where}: {path} has columns {format_examples(schema.names, 8)} but "
                f"{files[0]} has {format_examples(names, 8)}"
            )
        for f in schema:
            kind = _comparable(f.type)
            if f.name in seen and seen[f.name][1] != kind:
                first, was = seen[f.name]
                raise DataError(
                    f"{where}: column {f.name!r} is {was} in {first} but {kind} in {path}"
                )
            seen.setdefault(f.name, (path, kind))


def _comparable(kind) -> str:
    """A type as compared between files: string and large_string alike, units apart."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        kind = pa.string()
    if pa.types.is_timestamp(kind):
        return "timestamp with time zone" if kind.tz else "timestamp"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    return str(kind)


def from_arguments(
    data,
    *,
    table: str | None = None,
    query: str | None = None,
    activities=None,
    activities_table: str | None = None,
    activities_query: str | None = None,
    password_env: str | None = None,
):
    """The lead and activity sources named on the command line (or in a call).

    ``--activities-table`` or ``--activities-query`` without ``--activities``
    reads the activity log from the same DuckDB file or database as the
    leads. ``password_env`` applies to every database URL.

    Returns
    -------
    (Source, Source or None)

    Raises
    ------
    DataError
        As :class:`Source`; also a password variable when no source is a
        database URL.

    Examples
    --------
    >>> leads, log = from_arguments("postgresql://ana@db/crm", table="leads",
    ...                             activities_table="activities")
    >>> log.description
    'postgresql://ana@db/crm (table activities)'
    """

    def one(location, t, q):
        url = isinstance(location, str) and _URL.match(location) is not None
        return Source(location, table=t, query=q, password_env=password_env if url else None)

    leads = one(data, table, query)
    log = None
    if activities is not None:
        log = one(activities, activities_table, activities_query)
    elif activities_table is not None or activities_query is not None:
        log = one(data, activities_table, activities_query)
    if password_env is not None and "database" not in (leads.kind, getattr(log, "kind", None)):
        raise DataError("--password-env is for a database URL; no source is one")
    return leads, log
