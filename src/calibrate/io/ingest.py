"""Ingest: read a lead table and check it once, for the whole library.

:func:`read_table` reads CSV (separator sniffed) or Parquet as it is stored;
:func:`load_leads` turns that table into :class:`LeadData`: typed feature
columns, a boolean outcome, unique lead ids, optional decision dates, and the
columns left out with the reason for each. Every problem with the data is
raised here as a :class:`~calibrate.errors.DataError` that names the column,
how many rows are affected and a few example values or rows.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, format_examples
from ..sheet.activity import utc_naive
from ..sheet.criteria import (
    COLUMN_KINDS,
    FALSE_TOKENS,
    MISSING_TOKENS,
    TRUE_TOKENS,
    WHITESPACE,
    category_codes,
    coerce_column,
    factorize,
    is_missing_token,
)
from .sources import as_source, check_not_empty, check_parquet_schemas, describe, read_arrow

__all__ = ["LeadData", "load_leads", "read_table"]

POSITIVE_LABELS = frozenset(TRUE_TOKENS | {"won", "win", "converted", "positive", "success"})
NEGATIVE_LABELS = frozenset(
    FALSE_TOKENS | {"lost", "lose", "loss", "not converted", "negative", "failure"}
)

#: Column names that suggest behaviour (implicit) rather than who the lead is.
_BEHAVIOUR_WORDS = re.compile(
    r"click|open|view|visit|download|webinar|event|session|page|activit|demo|form|email"
    r"|time_on|bounce|exit|contact|campaign|previous|pdays|poutcome|duration|attend",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")

#: Date and time formats of CRM and marketing-automation exports besides ISO
#: 8601 ("15 Apr, 2021 00:03:00" is Zoho's), tried in turn on a column's texts.
_NAMED_MONTH_FORMATS = tuple(
    f"{date}{time}"
    for date in ("%d %b, %Y", "%d %b %Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y", "%d-%b-%Y")
    for time in (" %H:%M:%S", " %H:%M", " %I:%M %p", " %I:%M:%S %p", "")
)
#: Numeric dates, written day first or month first ("04/15/2021 11:03 PM").
_NUMERIC_DATE_FORMATS = tuple(
    (f"%m{sep}%d{sep}{year}{time}", f"%d{sep}%m{sep}{year}{time}")
    for sep in ("/", ".", "-")
    for year in ("%Y", "%y")
    for time in (" %I:%M %p", " %I:%M:%S %p", " %H:%M:%S", " %H:%M", "")
)
#: What a date text looks like, to try the formats only on such columns.
_DATE_LIKE = re.compile(
    r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|^\d{1,2}[ -][A-Za-z]{3,9}\.?,?[ -]\d{4}\b"
    r"|^[A-Za-z]{3,9}\.? \d{1,2}, ?\d{4}\b"
)
#: Column names of times: a number there in the epoch range is a timestamp.
_TIME_NAME = re.compile(
    r"(^|_)(at|time|timestamp|ts|date|datetime|epoch)($|_)|_at$|^(created|updated|modified)"
    r"|timestamp|date",
    re.IGNORECASE,
)
#: Epoch seconds of 1990-01-01 and 2100-01-01: timestamps of lead histories.
_EPOCH_RANGE = (631_152_000, 4_102_444_800)

#: A text column whose present values are numbers in at least this share of
#: rows is numeric, the other values counted as missing (and named in a
#: warning); between the two shares it is refused as ambiguous.
MOSTLY_NUMERIC = 0.9
PARTLY_NUMERIC = 0.5
_CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".gz", ".bz2", ".zip", ".xz"}
_PARQUET_SUFFIXES = {".parquet", ".pq", ".parq"}


@dataclass(frozen=True)
class LeadData:
    """A checked lead table, split into the parts the pipeline needs.

    Attributes
    ----------
    features : pandas.DataFrame
        Candidate criteria, one column per attribute, read as their kind:
        numeric as float64 (NaN for missing), categorical and boolean as
        text (None for missing; booleans as "true"/"false").
    column_types : dict
        ``{column: "numeric" | "categorical" | "boolean"}`` for every feature.
    groups : dict
        ``{column: "explicit" | "implicit"}`` for every feature.
    outcome : pandas.Series of bool or None
        True for won leads; None when the table is to be scored.
    ids : pandas.Series of str
        Lead ids, unique; row numbers from 1 when no id column is named.
    dates : pandas.Series of datetime64 or None
        Dates ordering the hold-out (the decision times when no date is named).
    decision_times : pandas.Series of datetime64 or None
        When the hand-off decision was made for each lead (UTC): only
        activity before it counts.
    decision_rule : dict or None
        ``{"column": ..., "offset_days": ...}``: how decision times are read.
    excluded : dict
        ``{column: reason}`` for every column not used as a criterion.
    source : str
        Where the data came from, for the report.
    positive_label : str or None
        The outcome value read as won.
    id_column : str or None
        The id column, or None when ids are row numbers.
    warnings : tuple of str
        Things worth a look that did not stop the run.
    """

    features: pd.DataFrame
    column_types: dict
    groups: dict
    outcome: pd.Series | None
    ids: pd.Series
    dates: pd.Series | None = None
    decision_times: pd.Series | None = None
    decision_rule: dict | None = None
    excluded: dict = field(default_factory=dict)
    source: str = "DataFrame"
    positive_label: str | None = None
    id_column: str | None = None
    warnings: tuple = ()

    @property
    def n_leads(self) -> int:
        """Number of leads (rows)."""
        return len(self.ids)

    def subset(self, rows: np.ndarray) -> LeadData:
        """The same data restricted to the given row positions."""
        take = np.asarray(rows)
        return LeadData(
            features=self.features.iloc[take].reset_index(drop=True),
            column_types=self.column_types,
            groups=self.groups,
            outcome=None
            if self.outcome is None
            else self.outcome.iloc[take].reset_index(drop=True),
            ids=self.ids.iloc[take].reset_index(drop=True),
            dates=None if self.dates is None else self.dates.iloc[take].reset_index(drop=True),
            decision_times=None
            if self.decision_times is None
            else self.decision_times.iloc[take].reset_index(drop=True),
            decision_rule=self.decision_rule,
            excluded=self.excluded,
            source=self.source,
            positive_label=self.positive_label,
            id_column=self.id_column,
            warnings=self.warnings,
        )

    def content_hash(self) -> np.ndarray:
        """A 64-bit hash of every lead's values: criteria, outcome and dates.

        Two leads with the same values have the same hash, wherever they
        stand in the table and whatever their row number; it orders leads
        that have no id (see :func:`calibrate.fit`).
        """
        parts = [self.features[c] for c in sorted(self.features.columns)]
        for extra in (self.outcome, self.dates, self.decision_times):
            if extra is not None:
                parts.append(extra.reset_index(drop=True))
        combined = np.zeros(self.n_leads, dtype=np.uint64)
        for part in parts:
            hashed = pd.util.hash_pandas_object(part.reset_index(drop=True), index=False)
            # Mix column by column, so that equal values in two columns do
            # not cancel (a plain XOR would).
            combined = combined * np.uint64(0x100000001B3) ^ hashed.to_numpy()
        return combined

    def fingerprint(self) -> str:
        """SHA-256 of the data as calibrate reads it (values, types, outcome, ids).

        The same leads give the same fingerprint whatever file format or
        column order they came in. Row numbers (no id column) are not part
        of it.
        """
        digest = hashlib.sha256()
        for column in sorted(self.features.columns):
            digest.update(f"{column}\x1f{self.column_types[column]}\x1e".encode())
            digest.update(_hash_values(self.features[column]))
        if self.id_column is not None:
            digest.update(b"ids\x1e" + _hash_values(self.ids))
        if self.outcome is not None:
            digest.update(b"outcome\x1e" + _hash_values(self.outcome.astype("int8")))
        return "sha256:" + digest.hexdigest()


def _hash_values(values: pd.Series) -> bytes:
    hashed = pd.util.hash_pandas_object(values.reset_index(drop=True), index=False)
    return hashed.to_numpy().tobytes()


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
    source : str, os.PathLike, Source or pandas.DataFrame
        A CSV file (plain or compressed) or a Parquet file; a glob or folder
        of them; or a :class:`~calibrate.io.sources.Source` naming a DuckDB file
        or database with its table or query. A DataFrame is returned as a
        copy.
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
    if _is_parquet(path):
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


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        return True
    if path.suffix.lower() in _CSV_SUFFIXES:
        return False
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"


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


def load_leads(
    data,
    *,
    outcome: str | None = None,
    positive=None,
    id: str | None = None,
    exclude: Mapping[str, str] | Iterable[str] = (),
    date: str | None = None,
    decided_at: str | None = None,
    types: Mapping[str, str] | None = None,
    implicit: Iterable[str] = (),
    explicit: Iterable[str] = (),
    sep: str | None = None,
    encoding: str = "utf-8-sig",
) -> LeadData:
    """Read and check a lead table.

    Parameters
    ----------
    data : str, os.PathLike, Source or pandas.DataFrame
        The lead table, one row per lead: a file, a glob or folder of files,
        or a DuckDB or database :class:`~calibrate.io.sources.Source` (see
        :func:`read_table`).
    outcome : str, optional
        Column saying whether the lead was won. It may be boolean, 0/1, or
        two labels; omit it for a table to be scored.
    positive : str, int or bool, optional
        The outcome value that means won, when it is not evident
        (true/1/yes/won are recognised).
    id : str, optional
        Lead id column; ids must be unique. Without it, row numbers (from 1)
        are the ids.
    exclude : mapping or iterable of str
        Columns not to use as criteria: ``{"duration": "known only after the
        call"}`` or ``["duration"]``. A string ``"col:reason"`` also works.
    date : str, optional
        Date column for a time-ordered hold-out. Not a criterion.
    decided_at : str, optional
        When the hand-off decision was made for each lead: a column, or a
        rule ``"COLUMN - N days"`` (e.g. ``"closed_at - 30 days"``). Only
        activity before it counts. It also orders the hold-out when ``date``
        is not given. Not a criterion.
    types : mapping, optional
        Override the inferred kind of a column: ``{"TrafficType":
        "categorical"}``. Kinds: numeric, categorical, boolean.
    implicit, explicit : iterable of str
        Columns to label as behaviour (implicit) or as who the lead is
        (explicit), overriding the guess from the column name.
    sep, encoding : str, optional
        Passed to :func:`read_table`.

    Returns
    -------
    LeadData

    Raises
    ------
    DataError
        For a missing column, an outcome that is not two-valued, a single
        class, missing or duplicate ids, unparseable dates, or an unreadable
        source.

    Examples
    --------
    >>> df = pd.DataFrame({"id": ["a", "b", "c", "d"], "title": ["VP", "VP", "CEO", None],
    ...                    "clicks": [1, 0, 3, 2], "won": ["yes", "no", "no", "yes"]})
    >>> leads = load_leads(df, outcome="won", id="id")
    >>> leads.outcome.tolist(), leads.column_types
    ([True, False, False, True], {'title': 'categorical', 'clicks': 'numeric'})
    """
    # Columns are read, never changed in place: no copy of a DataFrame is needed.
    raw = read_table(data, sep=sep, encoding=encoding, copy=False)
    source = describe(data)
    columns = list(raw.columns)
    # A single column name is one column, not an iterable of characters.
    exclude, implicit, explicit = (
        [x] if isinstance(x, str) else x for x in (exclude, implicit, explicit)
    )
    excluded_by_user = _parse_exclusions(exclude, columns)
    types = dict(types or {})
    implicit, explicit = set(implicit), set(explicit)
    decision_column, offset_days = _parse_decision_rule(decided_at, columns)
    named = {"outcome": outcome, "id": id, "date": date, "decided-at": decision_column}
    _check_named_columns(columns, named, types, implicit, explicit)

    n = len(raw)
    warnings: list[str] = []
    if id is None and getattr(as_source(data), "kind", None) in ("duckdb", "database"):
        warnings.append(
            "no id column (--id): the leads are numbered by their row in what the database "
            "returned, and a database returns rows in no set order, so those numbers do not "
            "identify leads; the split follows each row's values, so the sheet does not "
            "depend on that order"
        )
    y, positive_label = (None, None)
    if outcome is not None:
        y, positive_label = parse_outcome(raw[outcome], outcome, positive)
    ids = parse_ids(raw[id], id) if id is not None else row_ids(n)
    dates = parse_dates(raw[date], date) if date is not None else None
    decisions = None
    if decision_column is not None:
        decisions = parse_dates(raw[decision_column], decision_column)
        decisions = utc_naive(decisions) - pd.Timedelta(days=offset_days)
        if dates is None:
            dates = decisions

    roles = {outcome, id, date, decision_column}
    candidates = [c for c in columns if c not in roles]
    excluded, column_types, typed, found = _criteria(raw, candidates, excluded_by_user, types)
    warnings += found
    groups = {
        c: "implicit"
        if c in implicit or (c not in explicit and _BEHAVIOUR_WORDS.search(c))
        else "explicit"
        for c in column_types
    }
    features = pd.DataFrame(typed)
    if not column_types:
        raise DataError(
            "no column is left to use as a criterion"
            + (f" (left out: {format_examples(excluded)})" if excluded else "")
        )
    return LeadData(
        features=features,
        column_types=column_types,
        groups=groups,
        outcome=y,
        ids=ids,
        dates=dates,
        decision_times=decisions,
        decision_rule=None
        if decided_at is None
        else {"column": decision_column, "offset_days": offset_days},
        excluded=excluded,
        source=source,
        positive_label=positive_label,
        id_column=id,
        warnings=tuple(warnings),
    )


def _criteria(raw: pd.DataFrame, candidates: list, excluded_by_user: dict, types: dict):
    """Every candidate column read as its kind, or left out with the reason.

    Returns ``(excluded, column_types, typed, warnings)``.
    """
    excluded: dict[str, str] = {}
    column_types: dict[str, str] = {}
    typed: dict[str, np.ndarray] = {}
    warnings: list[str] = []
    for column in candidates:
        if column in excluded_by_user:
            excluded[column] = excluded_by_user[column]
            continue
        kind, reason, values, warning = infer_kind(raw[column], column, types.get(column))
        if warning is not None:
            warnings.append(warning)
        if reason is not None:
            excluded[column] = reason
        else:
            column_types[column] = kind
            typed[column] = values.array
    return excluded, column_types, typed, warnings


def _check_named_columns(columns, named: dict, types: dict, implicit, explicit) -> None:
    """Every column a role or an option names exists; every kind is known."""
    for role, column in named.items():
        if column is not None:
            require_column(column, columns, role)
    for column in [*types, *implicit, *explicit]:
        require_column(column, columns, "criterion")
    for column, kind in types.items():
        if kind not in COLUMN_KINDS:
            raise DataError(
                f"column {column!r}: type must be one of {', '.join(COLUMN_KINDS)}, got {kind!r}"
            )


def require_column(column: str, columns: list, role: str):
    """Refuse a column name that is not among ``columns``, suggesting the likeliest one.

    Raises
    ------
    DataError
        Naming the ``role`` (outcome, id, date...), the column and the columns
        there are.
    """
    if column in columns:
        return
    names = [str(c) for c in columns]
    # A difference in case only ('Converted' for 'converted') is the likeliest slip.
    close = [c for c in names if c.lower() == str(column).lower()]
    close = close or difflib.get_close_matches(str(column), names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise DataError(
        f"{role} column {column!r} not found{hint} (columns: {format_examples(columns, 8)})"
    )


def _parse_exclusions(exclude, columns: list) -> dict[str, str]:
    if isinstance(exclude, Mapping):
        items = [(str(k), str(v) if v else "excluded by the user") for k, v in exclude.items()]
    else:
        items = []
        for spec in exclude:
            spec = str(spec)
            if spec in columns or ":" not in spec:
                items.append((spec, "excluded by the user"))
            else:
                column, reason = spec.split(":", 1)
                items.append((column.strip(), reason.strip() or "excluded by the user"))
    for column, _ in items:
        require_column(column, columns, "excluded")
    return dict(items)


def canonical_text(values: pd.Series) -> pd.Series:
    """Values as stripped text, booleans and whole floats written plainly."""
    return coerce_column(values, "categorical", "")


def parse_outcome(values: pd.Series, column: str, positive) -> tuple[pd.Series, str]:
    """The outcome as booleans (True for won), and the label read as won.

    Raises
    ------
    DataError
        For missing outcomes, a single value, more than two values, or two
        labels neither of which evidently means won (``positive`` names it).
    """
    text = canonical_text(values)
    missing = text.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing) + 1
        raise DataError(
            f"outcome column {column!r} is missing in {len(rows)} row(s) "
            f"(rows {format_examples(rows.tolist())}); every past lead needs won or lost"
        )
    counts = text.value_counts(sort=False)
    labels = sorted(counts.index, key=str)
    if len(labels) == 1:
        raise DataError(
            f"outcome column {column!r} has a single value {labels[0]!r} in all {len(text)} "
            "rows: calibrate needs both won and lost leads"
        )
    if len(labels) > 2:
        first_row = {label: int(np.argmax((text == label).to_numpy())) + 1 for label in labels}
        shown = ", ".join(f"{label!r} (first in row {first_row[label]})" for label in labels[:5])
        raise DataError(
            f"outcome column {column!r} must have two values (won and lost); "
            f"found {len(labels)}: {shown}{', ...' if len(labels) > 5 else ''}"
        )
    if positive is not None:
        wanted = canonical_text(pd.Series([positive])).iloc[0]
        matches = [label for label in labels if label == wanted]
        if not matches:
            matches = [label for label in labels if label.lower() == str(wanted).lower()]
        if not matches:
            raise DataError(
                f"positive value {positive!r} is not a value of outcome column {column!r} "
                f"(values: {format_examples(labels)})"
            )
        label = matches[0]
    else:
        lower = {label: label.lower() for label in labels}
        pos = [label for label in labels if lower[label] in POSITIVE_LABELS]
        neg = [label for label in labels if lower[label] in NEGATIVE_LABELS]
        if len(pos) != 1 or len(neg) != 1 or pos == neg:
            raise DataError(
                f"outcome column {column!r} has values {format_examples(labels)}: "
                "say which one means won (--positive VALUE)"
            )
        label = pos[0]
    return pd.Series(text.to_numpy() == label, name=column), label


def parse_ids(values: pd.Series, column: str) -> pd.Series:
    """Lead ids as stripped text, the one reading of ids in fit, score and report.

    Raises
    ------
    DataError
        For missing or repeated ids, naming rows and ids.
    """
    if clean_ids(values) is not None:
        return pd.Series(values.to_numpy(dtype=object, copy=True), name=column, dtype=object)
    return canonical_ids(values, column)


def canonical_ids(values: pd.Series, column: str) -> pd.Series:
    """The ids as stripped text (object dtype); raises on missing or repeated ids."""
    text = canonical_text(values)
    missing = text.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing) + 1
        raise DataError(
            f"id column {column!r} is empty in {len(rows)} row(s) "
            f"(rows {format_examples(rows.tolist())})"
        )
    dup = text.duplicated(keep=False).to_numpy()
    if dup.any():
        dup_ids = pd.unique(text[dup])
        raise DataError(
            f"id column {column!r} has {len(dup_ids)} duplicate id(s) in {int(dup.sum())} rows: "
            f"{format_examples(dup_ids.tolist())}; one row per lead is expected"
        )
    return pd.Series(text.to_numpy(), name=column, dtype=object)


def clean_ids(values: pd.Series):
    """The ids as an Arrow string array when they are already canonical; else None.

    Canonical: text, none missing or a missing token, none with whitespace
    to strip, no two alike; :func:`parse_ids` would return them unchanged.
    A cheap check for the usual case, with Arrow's compute kernels (what it
    cannot prove clean, the full parser reads and reports).
    """
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        import pyarrow as pa

        arr = pa.array(values.array)
    elif values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) == "string":
        try:
            import pyarrow as pa

            arr = pa.array(values.to_numpy(), type=pa.large_string())
        except (ImportError, ValueError, TypeError, OverflowError):
            return None
    else:
        return None
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    if arr.null_count or len(arr) == 0:
        return None
    if not pc.all(pc.equal(pc.utf8_trim(arr, WHITESPACE), arr)).as_py():
        return None  # padded
    lengths = pc.binary_length(arr)
    if pc.any(pc.equal(lengths, 0)).as_py():
        return None  # an empty id
    # Missing tokens are at most 4 characters long ("#n/a", "none", "null").
    short = arr.filter(pc.less_equal(lengths, 4))
    tokens = pa.array(sorted(MISSING_TOKENS), type=arr.type)
    if len(short) and pc.any(pc.is_in(pc.utf8_lower(short), value_set=tokens)).as_py():
        return None
    if len(pc.unique(arr)) < len(arr):
        return None  # repeated ids: the full parser names them
    return arr


def row_ids(n: int) -> pd.Series:
    """Row numbers ``"1"`` to ``str(n)``: the ids of leads without an id column."""
    import pyarrow as pa

    # Arrow turns a million integers into text several times faster than str().
    text = pa.array(np.arange(1, n + 1, dtype=np.int64)).cast(pa.string())
    return pd.Series(text.to_numpy(zero_copy_only=False), name="row", dtype=object)


_DECISION_RULE = re.compile(r"^(?P<column>.+?)\s*-\s*(?P<days>\d+(?:\.\d+)?)\s*days?$")


def _parse_decision_rule(rule: str | None, columns: list) -> tuple[str | None, float]:
    """``"closed_at - 30 days"`` -> ``("closed_at", 30.0)``; a column name -> offset 0."""
    if rule is None or rule in columns:
        return rule, 0.0
    match = _DECISION_RULE.match(str(rule).strip())
    if match and match["column"] in columns:
        return match["column"], float(match["days"])
    require_column(str(rule), columns, "decided-at")
    return rule, 0.0


def parse_dates(values: pd.Series, column: str) -> pd.Series:
    """A date column as datetimes: typed, ISO, CRM export formats or epoch times.

    Raises
    ------
    DataError
        For values that are not dates (naming rows and values), an
        ambiguous day/month order, or missing dates.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    elif pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    ):
        parsed = _epoch_dates(values.astype("float64"), column)
    else:
        missing = is_missing_token(values).to_numpy()
        text = values.astype("string").str.strip(WHITESPACE).where(~missing)
        distinct = pd.Series(text.dropna().unique(), dtype=object)
        if len(distinct) and distinct.str.fullmatch(r"-?\d+(\.\d*)?").all():
            parsed = _epoch_dates(pd.to_numeric(text).astype("float64"), column)
        else:
            form = date_format(distinct, column, strict=True)
            if form is None or form == "ISO8601":
                parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=False)
            else:
                parsed = pd.to_datetime(text, errors="coerce", format=form)
        bad = parsed.isna().to_numpy() & ~missing
        if bad.any():
            rows = np.flatnonzero(bad)
            examples = "; ".join(f"row {r + 1}: {values.iloc[r]!r}" for r in rows[:5])
            raise DataError(
                f"date column {column!r}: {len(rows)} value(s) are not dates ({examples})"
            )
    missing = parsed.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing) + 1
        raise DataError(
            f"date column {column!r} is empty in {len(rows)} row(s) "
            f"(rows {format_examples(rows.tolist())}); a time-ordered split needs every date"
        )
    return pd.Series(parsed.to_numpy(), name=column)


def date_format(texts: pd.Series, column: str = "", *, strict: bool = False) -> str | None:
    """The format of a column of date texts, or None when they are not dates.

    Recognises ISO 8601 (``2021-04-15T23:03:00Z``) and the formats CRM and
    marketing-automation tools export: a named month (``15 Apr, 2021
    00:03:00``, ``Apr 15, 2021``) or numbers with slashes, dots or dashes
    (``04/15/2021 11:03 PM``), day or month first.

    Parameters
    ----------
    texts : pandas.Series of str
        The column's distinct present values, stripped.
    column : str, default=""
        The column's name, for the error message.
    strict : bool, default=False
        Raise when the day/month order is ambiguous (every value reads both
        ways, differently): the column is to be read as dates. Otherwise
        such a column is still recognised as dates (to be left out).

    Returns
    -------
    str or None
        ``"ISO8601"``, a :func:`~datetime.datetime.strptime` format, or None.

    Raises
    ------
    DataError
        With ``strict``, when day and month could be either way round.

    Examples
    --------
    >>> date_format(pd.Series(["15 Apr, 2021 00:03:00", "2 May, 2021 13:30:00"]))
    '%d %b, %Y %H:%M:%S'
    >>> date_format(pd.Series(["04/15/2021 11:03 PM", "04/02/2021 09:00 AM"]))
    '%m/%d/%Y %I:%M %p'
    >>> date_format(pd.Series(["Manager", "VP"])) is None
    True
    """
    if texts.empty:
        return None
    texts = texts.astype(object)
    if texts.str.match(_ISO_DATE).all():
        return "ISO8601"
    if not texts.str.match(_DATE_LIKE).all():
        return None
    for form in _NAMED_MONTH_FORMATS:
        if _all_parse(texts, form):
            return form
    for month_first, day_first in _NUMERIC_DATE_FORMATS:
        by_month, by_day = _all_parse(texts, month_first), _all_parse(texts, day_first)
        if by_month and by_day:
            a = pd.to_datetime(texts, format=month_first)
            b = pd.to_datetime(texts, format=day_first)
            differ = texts[(a != b).to_numpy()]
            if strict and len(differ):
                raise DataError(
                    f"date column {column!r}: every date reads both day first and month "
                    f"first (e.g. {format_examples(differ.tolist(), 3)}): the order is "
                    "ambiguous; write the dates as YYYY-MM-DD"
                )
            return month_first
        if by_month:
            return month_first
        if by_day:
            return day_first
    return None


def _all_parse(texts: pd.Series, form: str) -> bool:
    # A few values first: most formats fail on the first one.
    for part in (texts.iloc[:20], texts):
        if pd.to_datetime(part, format=form, errors="coerce").isna().any():
            return False
    return True


def _epoch_unit(numbers: np.ndarray) -> str | None:
    """``"s"`` or ``"ms"`` when every number is an epoch time of 1990-2100."""
    present = numbers[~np.isnan(numbers)]
    if present.size == 0:
        return None
    low, high = float(present.min()), float(present.max())
    for unit, scale in (("s", 1), ("ms", 1000)):
        if _EPOCH_RANGE[0] * scale <= low and high <= _EPOCH_RANGE[1] * scale:
            return unit
    return None


def _epoch_dates(numbers: pd.Series, column: str) -> pd.Series:
    unit = _epoch_unit(numbers.to_numpy(dtype=float, na_value=np.nan))
    if unit is None:
        present = numbers.dropna()
        raise DataError(
            f"date column {column!r} holds numbers that are not epoch seconds or "
            f"milliseconds of 1990-2100 (from {present.min():g} to {present.max():g})"
        )
    return pd.to_datetime(numbers, unit=unit)


def infer_kind(values: pd.Series, column: str, override: str | None):
    """Kind of a candidate criterion, or the reason it is left out.

    Returns ``(kind, reason, typed, warning)``: ``typed`` is the column read
    as ``kind`` (see :func:`coerce_column`), None when it is left out;
    ``warning`` names values read as missing, or is None.
    """
    if override is not None:
        if override == "numeric":
            return override, None, coerce_column(values, override, column), None
        return override, None, _as_category(values, override, column), None
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return None, _DATE_REASON, None, None
    split, typed, warning = None, None, None
    if pd.api.types.is_bool_dtype(values.dtype):
        kind = "boolean"
    elif pd.api.types.is_numeric_dtype(values.dtype):
        kind = "numeric"
    else:
        # Judge the distinct values only: a million rows of a dozen titles
        # are a dozen texts to look at.
        split = factorize(values)
        distinct = values if split is None else split[1]
        present = distinct[~is_missing_token(distinct)].astype("string").str.strip(WHITESPACE)
        if present.empty:
            return None, "has no values", None, None
        lowered = set(present.str.lower().unique())
        numbers = pd.to_numeric(present, errors="coerce")
        if lowered <= (TRUE_TOKENS | FALSE_TOKENS) and not lowered <= {"0", "1"}:
            kind = "boolean"
        elif numbers.notna().all():
            kind = "numeric"
        elif date_format(present.astype(object).reset_index(drop=True)) is not None:
            return None, _DATE_REASON, None, None
        else:
            kind = "categorical"
            if numbers.notna().any():
                mostly = _mostly_numeric(values, column, split)
                if mostly is not None:
                    kind, (typed, warning) = "numeric", mostly
    if kind == "numeric":
        if typed is None:
            typed = coerce_column(values, kind, column)
        if _TIME_NAME.search(str(column)):
            unit = _epoch_unit(typed.to_numpy(dtype=float, na_value=np.nan))
            if unit is not None:
                seconds = "seconds" if unit == "s" else "milliseconds"
                return None, f"a date/time column (epoch {seconds}); {_NOT_USED}", None, None
    else:
        typed = _as_category(values, kind, column, split=split)
    n_present = int(typed.notna().sum())
    if n_present == 0:
        return None, "has no values", None, None
    if kind == "numeric":
        # Only "a single value" matters for a number: the range says it.
        n_distinct = 1 if typed.min() == typed.max() else 2
    else:
        n_distinct = int(np.count_nonzero(np.bincount(typed.cat.codes.to_numpy() + 1)[1:]))
    if n_distinct == 1:
        return None, f"has a single value ({typed.dropna().iloc[0]!r})", None, None
    if kind == "categorical" and n_distinct > 50 and n_distinct > 0.5 * n_present:
        return (
            None,
            f"looks like an identifier or free text ({n_distinct:,} distinct values)",
            None,
            None,
        )
    return kind, None, typed, warning


_NOT_USED = "not used as a criterion"
_DATE_REASON = f"a date/time column; {_NOT_USED}"


def _mostly_numeric(values: pd.Series, column: str, split):
    """A text column read as numbers when most of its rows are, or None.

    Returns ``(numbers, warning)``: float64 with NaN where a value is not a
    number, and a warning naming those rows and values. None when fewer than
    :data:`PARTLY_NUMERIC` of the present rows are numbers (categories).

    Raises
    ------
    DataError
        Between :data:`PARTLY_NUMERIC` and :data:`MOSTLY_NUMERIC`: neither
        reading is safe to guess.
    """
    if split is None:
        codes, distinct = np.arange(len(values)), values.reset_index(drop=True)
    else:
        codes, distinct = split
    missing = is_missing_token(distinct).to_numpy()
    text = distinct.astype("string").str.strip(WHITESPACE).where(~missing)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    numbers[np.isinf(numbers)] = np.nan
    bad = np.isnan(numbers) & ~missing
    counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
    share = 1 - counts[bad].sum() / counts[~missing].sum()
    if share < PARTLY_NUMERIC:
        return None
    rows = np.flatnonzero(np.append(bad, False)[codes])
    examples = "; ".join(f"row {r + 1}: {values.iloc[r]!r}" for r in rows[:5])
    examples += ", ..." if len(rows) > 5 else ""
    if share < MOSTLY_NUMERIC:
        raise DataError(
            f"column {column!r} holds numbers in {share:.0%} of its rows but not in "
            f"{len(rows):,} ({examples}): correct those values, or read the column as "
            f"categories with --type {column}=categorical"
        )
    typed = pd.Series(np.append(numbers, np.nan)[codes], index=values.index, name=values.name)
    warning = (
        f"column {column!r} is read as numbers, and {len(rows):,} value(s) that are not "
        f"numbers count as missing ({examples}); --type {column}=categorical reads it as "
        "categories"
    )
    return typed, warning


def _as_category(values: pd.Series, kind: str, column: str, split=None) -> pd.Series:
    """A categorical or boolean column read as its texts (see :func:`coerce_column`).

    A pandas categorical of the texts: the same values as ``coerce_column``
    gives, held as codes, so that every later step encodes it at once.
    """
    codes, texts = category_codes(values, kind, column, split=split)
    text_codes, categories = pd.factorize(pd.Series(texts, dtype=object))
    full = np.append(text_codes, -1)[codes]
    return pd.Series(pd.Categorical.from_codes(full, categories=categories), name=values.name)
