"""Parsing raw values once, for the whole library: outcomes, lead ids, dates and column kinds.

Every parser names the column, how many rows are affected and a few example
values when it refuses a value. The same parsers read the training leads
(:mod:`calibrate.io.ingest`), the leads a config scores and the leads of a
review report.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DataError, format_examples
from ..sheet.criteria import (
    FALSE_TOKENS,
    MISSING_TOKENS,
    TRUE_TOKENS,
    WHITESPACE,
    category_codes,
    coerce_column,
    factorize,
    is_missing_token,
)

__all__ = [
    "canonical_ids",
    "canonical_text",
    "clean_ids",
    "date_format",
    "infer_kind",
    "known_label",
    "parse_dates",
    "parse_ids",
    "parse_outcome",
    "row_ids",
]

POSITIVE_LABELS = frozenset(TRUE_TOKENS | {"won", "win", "converted", "positive", "success"})


NEGATIVE_LABELS = frozenset(
    FALSE_TOKENS | {"lost", "lose", "loss", "not converted", "negative", "failure"}
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


def canonical_text(values: pd.Series) -> pd.Series:
    """Values as stripped text, booleans and whole floats written plainly."""
    return coerce_column(values, "categorical", "")


def known_label(values: pd.Series, label):
    """``label`` (a config's won label) when the values use it, else None (then inferred)."""
    if label is None:
        return None
    texts = set(canonical_text(values).dropna().unique().tolist())
    return label if label in texts else None


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


def parse_dates(
    values: pd.Series, column: str, *, why: str = "a time-ordered split needs every date"
) -> pd.Series:
    """A date column as datetimes: typed, ISO, CRM export formats or epoch times.

    ``why`` ends the error of a column with missing dates: what needs them.

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
            f"(rows {format_examples(rows.tolist())}); {why}"
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
