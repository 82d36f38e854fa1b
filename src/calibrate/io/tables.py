"""Reading a lead table as it is stored: CSV (separator sniffed) or Parquet, a file or many.

:func:`read_table` reads any :class:`~calibrate.io.sources.Source` (a file, a
glob, a folder, a DuckDB file or a database) into a DataFrame, with the values
as stored; :func:`calibrate.io.ingest.load_leads` then checks and types them.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd

from ..errors import DataError, format_examples
from .sources import (
    _is_spark_frame,
    as_source,
    check_not_empty,
    check_parquet_schemas,
    describe,
    is_parquet_file,
    read_arrow,
)

__all__ = ["read_table"]


def read_table(
    source,
    *,
    sep: str | None = None,
    encoding: str = "utf-8-sig",
    allow_empty: bool = False,
    copy: bool = True,
) -> pd.DataFrame:
    """Read a lead table as stored: from CSV or Parquet files, DuckDB or a database.

    Parameters
    ----------
    source : str, os.PathLike, Source, pandas.DataFrame or pyspark DataFrame
        A CSV file (plain or compressed) or a Parquet file; a glob or folder
        of them; a :class:`~calibrate.io.sources.Source` naming a DuckDB file
        or database with its table or query; a Spark table or path
        (``spark:db.leads``) or a Spark DataFrame, collected through Arrow. A
        DataFrame is returned as a copy.
    sep : str, optional
        CSV separator. By default it is sniffed from the first lines among
        comma, semicolon, tab and pipe.
    encoding : str, default "utf-8-sig"
        Text encoding of a CSV file.
    allow_empty : bool, default False
        Accept a table with a header but no rows (an activity log of leads
        that have not acted yet).
    copy : bool, default True
        Copy a DataFrame source; False returns it as it is, for callers that
        only read it.

    Returns
    -------
    pandas.DataFrame
        CSV columns are text (types are inferred later, in one place, by
        :func:`load_leads`); Parquet and database columns keep their types
        (see :mod:`calibrate.io.sources`).

    Raises
    ------
    DataError
        The file is missing, unreadable, not CSV/Parquet, or has no rows; a
        glob matches nothing; files disagree on a column's type; a table is
        missing, a query fails or the database cannot be reached.
    """
    if isinstance(source, pd.DataFrame):
        if len(source) == 0 and not allow_empty:
            raise DataError("the lead table is empty: it has no rows")
        _check_unique_columns([str(c) for c in source.columns], "the DataFrame")
        return source.copy() if copy else source
    source = as_source(source)
    if _is_spark_frame(source) or source.kind == "spark":
        from .engines import read_spark

        frame = read_spark(source)
        if len(frame) == 0 and not allow_empty:
            raise DataError(f"{describe(source)}: the table has no lead rows")
        _check_unique_columns([str(c) for c in frame.columns], describe(source))
        return frame
    if source.kind == "file":
        frame = _read_file(Path(source.location), sep=sep, encoding=encoding)
    elif source.kind == "files":
        frame = _read_files(source, sep=sep, encoding=encoding)
    else:
        table = read_arrow(source)
        _check_unique_columns(table.column_names, source.description)
        frame = _arrow_to_pandas(table)
    if len(frame) == 0 and not allow_empty:
        if source.kind in ("duckdb", "database"):
            check_not_empty(table, source)
        raise DataError(
            f"cannot read {source.description}: the file has a header but no lead rows"
        )
    _check_unique_columns([str(c) for c in frame.columns], source.description)
    return frame


def _read_file(path: Path, *, sep: str | None, encoding: str) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"cannot read {path}: no such file")
    if path.is_dir():
        raise DataError(f"cannot read {path}: it is a folder, not a CSV or Parquet file")
    if path.stat().st_size == 0:
        raise DataError(f"cannot read {path}: the file is empty")
    if is_parquet_file(path):
        return _read_parquet(path)
    return _read_csv(path, sep=sep, encoding=encoding)


def _read_files(source, *, sep: str | None, encoding: str) -> pd.DataFrame:
    """The files of a glob or folder, one after the other (sorted by path)."""
    files = source.files()
    if source.is_parquet():
        import pyarrow as pa
        import pyarrow.parquet as pq

        check_parquet_schemas(files, source.location)
        try:
            tables = [pq.read_table(path) for path in files]
            table = pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
            raise DataError(f"cannot read {source.location} as Parquet: {exc}") from None
        return _arrow_to_pandas(table)
    frames = []
    for path in files:
        if path.stat().st_size == 0:
            raise DataError(f"cannot read {path}: the file is empty")
        frame = _read_csv(path, sep=sep, encoding=encoding)
        if frames and list(frame.columns) != list(frames[0].columns):
            raise DataError(
                f"{source.location}: {path} has columns {format_examples(frame.columns, 8)} "
                f"but {files[0]} has {format_examples(frames[0].columns, 8)}"
            )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _arrow_to_pandas(table) -> pd.DataFrame:
    """An Arrow table as pandas reads a Parquet file of the same types."""
    return table.to_pandas()


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"cannot read {path} as Parquet: {exc}") from None
    return _arrow_to_pandas(table)


def _read_csv(path: Path, *, sep: str | None, encoding: str) -> pd.DataFrame:
    try:
        if sep is None:
            sep = _sniff_separator(path, encoding)
        with warnings.catch_warnings():
            # A row with more fields than the header must not shift columns
            # into the index (pandas' default) or silently lose values.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding=encoding,
                skipinitialspace=False,
                index_col=False,
            )
    except pd.errors.ParserWarning:
        raise DataError(
            f"cannot read {path} as CSV: some rows have more fields than the header "
            f"(separator {sep!r}); check the separator and trailing separators"
        ) from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"cannot read {path}: not {encoding} text at byte {exc.start}; "
            "give the file's encoding (e.g. --encoding cp1252)"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {path} as CSV: {message}") from None
    # pandas renames a repeated header "x" to "x.1"; read the header as it is.
    header = pd.read_csv(
        path, sep=sep, header=None, nrows=1, dtype=str, encoding=encoding, index_col=False
    )
    names = [str(c).strip() for c in header.iloc[0].tolist()] if len(header) else []
    if len(names) == frame.shape[1]:
        _check_unique_columns(names, path)
        frame.columns = names
    else:
        frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _check_unique_columns(names, where) -> None:
    seen, repeated = set(), []
    for name in names:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise DataError(f"{where}: duplicate column names: {format_examples(repeated)}")


def _sniff_separator(path: Path, encoding: str) -> str:
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    binary = DataError(f"cannot read {path}: it looks like a binary file, not CSV or Parquet")
    try:
        with opener(path, "rt", encoding=encoding, newline="") as fh:
            sample = fh.read(65536)
    except UnicodeDecodeError:
        with opener(path, "rb") as fh:
            if b"\x00" in fh.read(65536):
                raise binary from None
        raise
    if "\x00" in sample:
        raise binary
    lines = sample.splitlines()
    if len(sample) == 65536 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    try:
        return csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","
