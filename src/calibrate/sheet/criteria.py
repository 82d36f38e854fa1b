"""Criteria and bands: the vocabulary shared by features, points, export and scoring.

A *criterion* is one column of lead data turned into a few *bands*; a lead falls
in exactly one band of every criterion. Bands are plain values so that the
fitted Python objects and a scorer reading only the exported config assign
every lead to the same band with the same code.

This module needs only numpy and pandas, so the standalone scorer can use it.

Band kinds
----------
``range``
    Numeric values ``lower <= x < upper``; ``None`` stands for an open end.
``levels``
    Categorical values equal to one of ``values`` (compared as text).
``other``
    Categorical values not listed in any ``levels`` band, including levels
    never seen in training.
``missing``
    The value is missing. Every criterion has a missing band, so missing is
    never silently dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import DataError

COLUMN_KINDS = ("numeric", "categorical", "boolean")
GROUPS = ("explicit", "implicit")
BAND_KINDS = ("range", "levels", "other", "missing")

#: Characters stripped from both ends of text values (ids, categories, types):
#: ASCII whitespace only, which SQL engines can strip the same way.
WHITESPACE = " \t\n\r\f\v"

#: Text tokens read as a missing value in text sources (CSV), besides "".
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a", "-"})
TRUE_TOKENS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_TOKENS = frozenset({"false", "f", "no", "n", "0"})


@dataclass(frozen=True)
class Band:
    """One band of a criterion.

    Parameters
    ----------
    label : str
        What people read: ``"3 to <10"``, ``"VP"``, ``"Other"``, ``"Missing"``.
    kind : {"range", "levels", "other", "missing"}
        How values are matched; see the module docstring.
    lower, upper : float or None
        Bounds of a ``range`` band, ``lower <= x < upper``.
    values : tuple of str
        Category texts of a ``levels`` band.
    points : int or None
        Points the band earns, once a points sheet is fitted.

    Examples
    --------
    >>> Band("3 to <10", "range", lower=3.0, upper=10.0).contains_number(5)
    True
    """

    label: str
    kind: str
    lower: float | None = None
    upper: float | None = None
    values: tuple[str, ...] = ()
    points: int | None = None

    def __post_init__(self):
        if self.kind not in BAND_KINDS:
            raise ValueError(f"band kind must be one of {BAND_KINDS}, got {self.kind!r}")
        if self.kind == "range" and self.lower is not None and self.upper is not None:
            if not self.lower < self.upper:
                raise ValueError(
                    f"band {self.label!r}: lower bound {self.lower} is not below {self.upper}"
                )

    def contains_number(self, x: float) -> bool:
        """Whether a non-missing number falls in this ``range`` band."""
        return (
            self.kind == "range"
            and (self.lower is None or x >= self.lower)
            and (self.upper is None or x < self.upper)
        )

    def to_dict(self) -> dict:
        """Plain JSON-ready mapping; only the fields this kind uses."""
        out: dict = {"label": self.label, "kind": self.kind}
        if self.kind == "range":
            out["lower"] = self.lower
            out["upper"] = self.upper
        elif self.kind == "levels":
            out["values"] = list(self.values)
        if self.points is not None:
            out["points"] = self.points
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Band:
        """Inverse of :meth:`to_dict`."""
        return cls(
            label=d["label"],
            kind=d["kind"],
            lower=_opt_float(d.get("lower")),
            upper=_opt_float(d.get("upper")),
            values=tuple(d.get("values", ())),
            points=d.get("points"),
        )


@dataclass(frozen=True)
class Criterion:
    """A lead attribute cut into bands.

    Parameters
    ----------
    name : str
        Name shown on the points sheet (the column name by default).
    column : str
        Column of the lead table it reads.
    kind : {"numeric", "categorical", "boolean"}
        How the column's values are read.
    group : {"explicit", "implicit"}
        ``explicit``: who the lead is (role, firmographics).
        ``implicit``: what the lead did (behaviour).
    bands : tuple of Band
        Numeric criteria: ``range`` bands in increasing order, then ``missing``.
        Categorical and boolean: ``levels`` bands, then ``other``, then ``missing``.

    Examples
    --------
    >>> c = Criterion("size", "size", "numeric", "explicit", bands=(
    ...     Band("<10", "range", upper=10.0), Band(">=10", "range", lower=10.0),
    ...     Band("Missing", "missing")))
    >>> c.assign(pd.Series([3, 10, None, 250])).tolist()
    [0, 1, 2, 1]
    """

    name: str
    column: str
    kind: str
    group: str
    bands: tuple[Band, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"criterion kind must be one of {COLUMN_KINDS}, got {self.kind!r}")
        if self.group not in GROUPS:
            raise ValueError(f"criterion group must be one of {GROUPS}, got {self.group!r}")

    @property
    def missing_index(self) -> int:
        """Position of the missing band."""
        return next(i for i, b in enumerate(self.bands) if b.kind == "missing")

    def coerce(self, values: pd.Series) -> pd.Series:
        """Read raw column values as this criterion's kind (see :func:`coerce_column`)."""
        return coerce_column(values, self.kind, self.column)

    def assign(self, values: pd.Series) -> np.ndarray:
        """Band code (position in :attr:`bands`) of every value.

        Parameters
        ----------
        values : pandas.Series
            Raw column values; they are coerced to the criterion's kind first.

        Returns
        -------
        numpy.ndarray of int64
        """
        table, index = self.band_lookup(values)
        return table[index]

    def band_lookup(self, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Band codes as a small table and a per-row index into it.

        The band code of row ``i`` is ``table[index[i]]`` (as :meth:`assign`
        gives), so a scorer can turn the table into points once and look up
        every row in a single step. ``index`` may be -1, which picks the last
        entry of ``table``: the missing band.

        Returns
        -------
        table : numpy.ndarray of int64
        index : numpy.ndarray of integers

        Examples
        --------
        >>> c = Criterion("title", "title", "categorical", "explicit", bands=(
        ...     Band("VP", "levels", values=("VP",)), Band("Other", "other"),
        ...     Band("Missing", "missing")))
        >>> table, index = c.band_lookup(pd.Series(["CEO", " VP", None, "CEO"]))
        >>> table.tolist(), index.tolist()
        ([1, 0, 2], [0, 1, -1, 0])
        """
        if self.kind == "numeric":
            return self._range_lookup(self.coerce(values).to_numpy(np.float64, na_value=np.nan))
        codes, texts = category_codes(values, self.kind, self.column)
        lookup: dict[str, int] = {}
        other = self.missing_index
        for i, band in enumerate(self.bands):
            if band.kind == "levels":
                lookup.update(dict.fromkeys(band.values, i))
            elif band.kind == "other":
                other = i
        missing = self.missing_index
        table = [missing if t is None else lookup.get(t, other) for t in texts]
        return np.array([*table, missing], dtype=np.int64), codes

    def _range_lookup(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ranges = [i for i, b in enumerate(self.bands) if b.kind == "range"]
        table = np.array([*ranges, self.missing_index], dtype=np.int64)
        # Range bands are contiguous and increasing: a value's band is the
        # number of inner edges at or below it.
        edges = np.array([self.bands[i].lower for i in ranges[1:]], dtype=np.float64)
        if len(edges) < 100 and bool(np.all(edges[1:] > edges[:-1])):
            # A few comparisons beat a binary search per value; NaN compares
            # below every edge, and then jumps to the missing slot.
            index = np.isnan(x).astype(np.int8) * np.int8(len(ranges))
            for edge in edges:
                index += x >= edge
            return table, index
        index = np.searchsorted(edges, x, side="right")
        index[np.isnan(x)] = len(ranges)
        return table, index

    @property
    def columns(self) -> tuple[str]:
        """The lead columns the criterion reads: its one column."""
        return (self.column,)

    def assign_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Band code of every lead of ``frame`` (:meth:`assign` of its column)."""
        return self.assign(frame[self.column])

    def with_points(self, points) -> Criterion:
        """Copy whose bands carry ``points`` (one integer per band)."""
        bands = tuple(replace(b, points=int(p)) for b, p in zip(self.bands, points, strict=True))
        return replace(self, bands=bands)

    def to_dict(self) -> dict:
        """Plain JSON-ready mapping."""
        return {
            "name": self.name,
            "column": self.column,
            "kind": self.kind,
            "group": self.group,
            "bands": [b.to_dict() for b in self.bands],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Criterion:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=d["name"],
            column=d["column"],
            kind=d["kind"],
            group=d["group"],
            bands=tuple(Band.from_dict(b) for b in d["bands"]),
        )


def _opt_float(x) -> float | None:
    return None if x is None else float(x)


def is_missing_token(values: pd.Series) -> pd.Series:
    """True where a text value is empty or a common missing-value token."""
    split = factorize(values)
    if split is None:
        return _is_missing_token(values)
    codes, uniques = split
    missing = np.append(_is_missing_token(uniques).to_numpy(dtype=bool), True)[codes]
    return pd.Series(missing, index=values.index, name=values.name)


def _is_missing_token(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip(WHITESPACE).str.lower()
    return values.isna() | text.isin(MISSING_TOKENS).fillna(True)


def coerce_column(values: pd.Series, kind: str, column: str) -> pd.Series:
    """Read raw values as ``kind``, the single parser of lead values.

    Parameters
    ----------
    values : pandas.Series
        Raw values, as text (from CSV) or typed (from Parquet or a database).
    kind : {"numeric", "categorical", "boolean"}
        ``numeric`` gives float64 with NaN for missing; ``categorical`` and
        ``boolean`` give text (object dtype) with None for missing, booleans as
        ``"true"``/``"false"``.
    column : str
        Column name, used in error messages.

    Raises
    ------
    DataError
        When a value cannot be read as ``kind``; the message names the column,
        the number of bad rows and up to five examples with their row numbers.

    Examples
    --------
    >>> coerce_column(pd.Series(["1", " 2.5", "", "NA"]), "numeric", "x").tolist()
    [1.0, 2.5, nan, nan]
    >>> coerce_column(pd.Series(["Yes", "no", None]), "boolean", "b").tolist()
    ['true', 'false', None]
    """
    if kind not in COLUMN_KINDS:
        raise ValueError(f"kind must be one of {COLUMN_KINDS}, got {kind!r}")
    if kind == "numeric":
        if _is_typed_number(values.dtype):
            return _checked(_to_numeric, values, column)
        split = factorize(values)
        if split is None:
            return _checked(_to_numeric, values, column)
        codes, uniques = split
        numbers = _checked(_to_numeric, uniques, column, values, codes).to_numpy()
        out = np.append(numbers, np.nan)[codes]
        return pd.Series(out, index=values.index, name=values.name, dtype=np.float64)
    codes, texts = category_codes(values, kind, column)
    out = np.append(texts, None)[codes]
    return pd.Series(out, index=values.index, dtype=object)


def category_codes(
    values: pd.Series, kind: str, column: str, *, split=None
) -> tuple[np.ndarray, np.ndarray]:
    """Categorical or boolean values as codes into their distinct texts.

    The value of row ``i`` read as ``kind`` (see :func:`coerce_column`) is
    ``texts[codes[i]]``, or missing where the code is -1. Only the distinct
    raw values are parsed, so a column of a million rows and a dozen
    categories costs little more than one pass to encode it.

    Parameters
    ----------
    values : pandas.Series
        Raw column values.
    kind : {"categorical", "boolean"}
    column : str
        Column name, used in error messages.
    split : tuple, optional
        ``values`` already factorized (codes and distinct values), to reuse.

    Returns
    -------
    codes : numpy.ndarray of integers
    texts : numpy.ndarray of object (str or None)

    Raises
    ------
    DataError
        As :func:`coerce_column`.

    Examples
    --------
    >>> codes, texts = category_codes(pd.Series(["a", " a", None, "NA", "b"]), "categorical", "c")
    >>> [None if c < 0 else texts[c] for c in codes]
    ['a', 'a', None, None, 'b']
    """
    parse = _to_boolean_text if kind == "boolean" else _to_category_text
    if isinstance(values.dtype, np.dtype) and values.dtype == np.bool_:
        # No missing values possible: False is code 0, True code 1.
        return values.to_numpy().view(np.int8), np.array(["false", "true"], dtype=object)
    if split is None:
        split = factorize(values)
    if split is None:
        text = _checked(parse, values, column).to_numpy()
        codes, texts = pd.factorize(text)
        return codes, texts.astype(object)
    codes, uniques = split
    texts = _checked(parse, uniques, column, values, codes).to_numpy()
    return codes, texts


#: Columns longer than this are first probed on their first rows: a column of
#: (nearly) distinct values, such as ids, is parsed directly, not encoded first.
_PROBE = 8192


def factorize(values: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """Codes (-1 for missing) and distinct values of a column, when worth it.

    None when equal values could read differently (e.g. ``1`` and ``True`` in
    an object column are one value to a hash table but two texts), when the
    dtype is not one the parsers read value by value, or when the column
    holds mostly distinct values.
    """
    dtype = values.dtype
    is_object = isinstance(dtype, np.dtype) and dtype.kind == "O"
    if is_object or isinstance(dtype, pd.CategoricalDtype | pd.StringDtype):
        pass
    elif not (_is_typed_number(dtype) and getattr(dtype, "kind", None) in ("i", "u", "f", "b")):
        return None
    data = values.to_numpy() if isinstance(dtype, np.dtype) else values.array
    try:
        if len(data) > 2 * _PROBE and len(pd.unique(data[:_PROBE])) > _PROBE // 2:
            return None
        codes, uniques = pd.factorize(data)
    except TypeError:  # unhashable values (lists, arrays): parsed one by one
        return None
    if is_object and not all(isinstance(u, str) for u in uniques):
        return None
    return codes, pd.Series(uniques, dtype=uniques.dtype)


def _is_typed_number(dtype) -> bool:
    return pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)


def _checked(parse, values: pd.Series, column: str, rows=None, codes=None) -> pd.Series:
    """``parse(values)``, raising on bad values.

    With ``rows`` and ``codes``, ``values`` are the distinct values of
    ``rows`` (``rows[i]`` is ``values[codes[i]]``) and the error names rows.
    """
    out, bad, expected = parse(values)
    if bad is not None and bad.any():
        if rows is not None:
            bad = np.append(bad, False)[codes]
            values = rows
        _raise_bad_values(values, bad, column, expected)
    return out


def _to_numeric(values: pd.Series):
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64"), None, ""
    if pd.api.types.is_numeric_dtype(values.dtype):
        out = values.astype("float64")
        return out, np.isinf(out.to_numpy()), "a finite number"
    missing = _is_missing_token(values).to_numpy()
    text = values.astype("string").str.strip(WHITESPACE)
    out = pd.to_numeric(text.where(~missing), errors="coerce").astype("float64")
    bad = out.isna().to_numpy() & ~missing | np.isinf(out.to_numpy())
    return out, bad, "a number"


def _to_boolean_text(values: pd.Series):
    if pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any():
        out = pd.Series(
            np.where(values.to_numpy(dtype=bool), "true", "false"),
            index=values.index,
            dtype=object,
        )
        return out, None, ""
    missing = _is_missing_token(values).to_numpy()
    if pd.api.types.is_float_dtype(values.dtype):
        # 1.0 read from Parquet (an integer column with gaps) is "1" read from CSV.
        text = values.map(float_text, na_action="ignore").astype("string")
    else:
        text = values.astype("string").str.strip(WHITESPACE).str.lower()
    is_true = text.isin(TRUE_TOKENS).fillna(False).to_numpy()
    is_false = text.isin(FALSE_TOKENS).fillna(False).to_numpy()
    bad = ~(missing | is_true | is_false)
    out = np.full(len(values), None, dtype=object)
    out[is_true & ~missing] = "true"
    out[is_false & ~missing] = "false"
    return pd.Series(out, index=values.index, dtype=object), bad, "true or false"


def _to_category_text(values: pd.Series):
    if pd.api.types.is_bool_dtype(values.dtype):
        return _to_boolean_text(values)
    missing = _is_missing_token(values).to_numpy()
    if pd.api.types.is_float_dtype(values.dtype):
        # 3.0 read from Parquet and "3" read from CSV are the same category.
        text = values.map(float_text, na_action="ignore")
    else:
        text = values.astype("string").str.strip(WHITESPACE)
    out = text.astype(object).to_numpy(copy=True)
    out[missing] = None
    return pd.Series(out, index=values.index, dtype=object), None, ""


def float_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 2**53 else repr(float(x))


def _raise_bad_values(values: pd.Series, bad: np.ndarray, column: str, expected: str):
    rows = np.flatnonzero(bad)
    examples = [f"row {r + 1}: {values.iloc[r]!r}" for r in rows[:5]]
    more = ", ..." if len(rows) > 5 else ""
    raise DataError(
        f"column {column!r}: {len(rows)} value(s) are not {expected} ({'; '.join(examples)}{more})"
    )


def nice_number(x: float, digits: int = 2) -> float:
    """Round ``x`` to ``digits`` significant digits, for readable band edges.

    Examples
    --------
    >>> nice_number(4857.31), nice_number(0.03127), nice_number(-36.44)
    (4900.0, 0.031, -36.0)
    """
    if x == 0 or not math.isfinite(x):
        return float(x)
    magnitude = math.floor(math.log10(abs(x)))
    return float(round(x, digits - 1 - magnitude))


def format_number(x: float) -> str:
    """Shortest readable text for a band edge.

    Examples
    --------
    >>> format_number(3.0), format_number(0.25), format_number(12000.0)
    ('3', '0.25', '12,000')
    >>> format_number(4e39)
    '4e+39'
    """
    if abs(x) >= 1e15:  # past what digits say readably (and exactly)
        return f"{x:.6g}"
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.6g}"


def range_label(
    lower: float | None, upper: float | None, integer: bool, nonnegative: bool = False
) -> str:
    """Label of a ``range`` band.

    Integer-valued columns get closed labels (``"3-5"``, ``"6+"``), starting
    from 0 when the column holds no negative values; others get half-open
    labels (``"1.5 to <4"``).

    Examples
    --------
    >>> range_label(None, 3.0, True, nonnegative=True), range_label(3.0, 6.0, True)
    ('0-2', '3-5')
    >>> range_label(6.0, None, True), range_label(None, 3.0, True)
    ('6+', '<=2')
    >>> range_label(1.5, 4.0, False), range_label(None, 1.5, False)
    ('1.5 to <4', '<1.5')
    """
    if lower is None and upper is None:
        return "any value"
    if integer:
        if upper is None:
            return f"{format_number(lower)}+"
        hi = upper - 1
        lo = 0.0 if lower is None and nonnegative and hi >= 0 else lower
        if lo is None:
            return f"<={format_number(hi)}"
        return format_number(lo) if lo == hi else f"{format_number(lo)}-{format_number(hi)}"
    if lower is None:
        return f"<{format_number(upper)}"
    if upper is None:
        return f">={format_number(lower)}"
    return f"{format_number(lower)} to <{format_number(upper)}"
