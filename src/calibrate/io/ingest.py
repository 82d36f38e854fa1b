"""Ingest: read a lead table and check it once, for the whole library.

:func:`load_leads` reads a lead table (:func:`calibrate.io.tables.read_table`)
and turns it into :class:`LeadData`: typed feature columns, a boolean outcome,
unique lead ids, optional decision dates, and the columns left out with the
reason for each. Every problem with the data is
raised here as a :class:`~calibrate.errors.DataError` that names the column,
how many rows are affected and a few example values or rows.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError, format_examples
from ..sheet.activity import utc_naive
from ..sheet.criteria import (
    COLUMN_KINDS,
)
from .sources import as_source, describe
from .tables import read_table
from .values import infer_kind, parse_dates, parse_ids, parse_outcome, row_ids

__all__ = ["LeadData", "load_leads", "require_column"]


#: Column names that suggest behaviour (implicit) rather than who the lead is.
_BEHAVIOUR_WORDS = re.compile(
    r"click|open|view|visit|download|webinar|event|session|page|activit|demo|form|email"
    r"|time_on|bounce|exit|contact|campaign|previous|pdays|poutcome|duration|attend",
    re.IGNORECASE,
)


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

    warnings = _row_number_warnings(data, id)
    y, positive_label, ids, dates, decisions = _parse_roles(
        raw, outcome, positive, id, date, decision_column, offset_days
    )

    roles = {outcome, id, date, decision_column}
    candidates = [c for c in columns if c not in roles]
    excluded, column_types, typed, found = _criteria(raw, candidates, excluded_by_user, types)
    warnings += found
    groups = _groups(column_types, implicit, explicit)
    # Column by column, not consolidated into blocks: a copy of every lead's
    # values that nothing downstream needs (copy-on-write keeps the caller's
    # arrays safe).
    features = pd.DataFrame(typed, copy=False)
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


def _row_number_warnings(data, id: str | None) -> list[str]:
    """A warning when row numbers are the ids of rows a database returns in no set order."""
    source = as_source(data)
    if id is None and (
        getattr(source, "kind", None) in ("duckdb", "database", "spark")
        or describe(source) == "Spark DataFrame"
    ):
        return [
            "no id column (--id): the leads are numbered by their row in what the database "
            "returned, and a database returns rows in no set order, so those numbers do not "
            "identify leads; the split follows each row's values, so the sheet does not "
            "depend on that order"
        ]
    return []


def _parse_roles(raw, outcome, positive, id, date, decision_column, offset_days):
    """The role columns parsed: ``(outcome, positive_label, ids, dates, decision_times)``.

    Without a date column, the decision times are the dates.
    """
    y, positive_label = (None, None)
    if outcome is not None:
        y, positive_label = parse_outcome(raw[outcome], outcome, positive)
    ids = parse_ids(raw[id], id) if id is not None else row_ids(len(raw))
    dates = parse_dates(raw[date], date) if date is not None else None
    decisions = None
    if decision_column is not None:
        decisions = parse_dates(raw[decision_column], decision_column)
        decisions = utc_naive(decisions) - pd.Timedelta(days=offset_days)
        if dates is None:
            dates = decisions
    return y, positive_label, ids, dates, decisions


def _groups(column_types: dict, implicit: set, explicit: set) -> dict[str, str]:
    """Each criterion as behaviour (implicit) or who the lead is (explicit).

    A column named in ``implicit`` or ``explicit`` is that; the others are
    guessed from their name.
    """
    return {
        c: "implicit"
        if c in implicit or (c not in explicit and _BEHAVIOUR_WORDS.search(c))
        else "explicit"
        for c in column_types
    }


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
