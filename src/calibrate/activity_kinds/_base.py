"""The base of the activity feature kinds, their registry and the SQL pieces they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SECONDS_PER_DAY = 86_400
WEIGHT_SCALE = 1000

#: ``{kind name: FeatureKind}``, in the order the kinds were registered.
KINDS: dict = {}


def register(cls):
    """Class decorator: register one instance of a :class:`FeatureKind` under its ``name``."""
    if not cls.name or cls.name in KINDS:
        raise ValueError(f"feature kind {cls.name!r} is empty or already registered")
    KINDS[cls.name] = cls()
    return cls


def kind_of(name: str) -> FeatureKind:
    """The registered kind of this name.

    Raises
    ------
    ValueError
        For a kind that is not registered.
    """
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise ValueError(f"feature kind must be one of {tuple(KINDS)}, got {name!r}") from None


@dataclass(frozen=True)
class Activities:
    """The activities that count, as arrays: what a kind's pandas evaluation reads.

    Attributes
    ----------
    lead : numpy.ndarray of int
        Position of each activity's lead among the ``n`` leads.
    age : numpy.ndarray of int
        Age of each activity in whole days at its lead's decision time.
    types, details : numpy.ndarray of object
        Activity type (after the detail rules) and detail (or None).
    known : numpy.ndarray of bool
        Whether the type is one of the spec's known types.
    n : int
        Number of leads.
    """

    lead: np.ndarray
    age: np.ndarray
    types: np.ndarray
    details: np.ndarray
    known: np.ndarray
    n: int

    def of_types(self, types) -> np.ndarray:
        """Which activities are of one of these types."""
        return np.isin(self.types, np.asarray(tuple(types), dtype=object))

    def distinct_count(self, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Per lead, how many distinct non-missing ``values`` the ``mask``'s activities have."""
        import pandas as pd

        pairs = pd.DataFrame({"lead": self.lead[mask], "value": values[mask]}).dropna()
        pairs = pairs.drop_duplicates()
        return np.bincount(pairs["lead"], minlength=self.n).astype(np.float64)


@dataclass(frozen=True)
class Aggregate:
    """A feature as one aggregate over a lead's activities.

    ``value`` turns the aggregate's column (NULL for a lead without
    activities) into the feature's value.
    """

    expression: object
    value: Callable


@dataclass(frozen=True)
class DistinctCount:
    """A feature counting the distinct non-NULL ``value`` of the activities meeting ``condition``.

    The SQL builder writes it as ``COUNT(DISTINCT CASE WHEN ... END)`` or, on
    DuckDB, as a ``SELECT DISTINCT`` of its own; a lead without any is 0.
    """

    condition: object
    value: object


class SqlColumns:
    """The columns of the activities that count, as the SQL builder names them.

    ``type``, ``age`` (whole days, a double) and ``detail`` are columns of
    one row per activity; ``known_types`` are the spec's known types.
    """

    def __init__(self, known_types=()):
        from sqlglot import exp

        self.type = exp.column("calibrate_type")
        self.age = exp.column("calibrate_age")
        self.detail = exp.column("calibrate_detail")
        self.known_types = tuple(known_types)

    def of_types(self, types):
        """True for activities of one of these types (false for none)."""
        from sqlglot import exp

        if not types:
            return exp.false()
        return exp.In(this=self.type.copy(), expressions=[exp.Literal.string(t) for t in types])


def sql_double(value):
    """``CAST(value AS DOUBLE)``."""
    from sqlglot import exp

    return exp.cast(value, exp.DataType.Type.DOUBLE)


def sql_number(x: float):
    """An exact double: decimal text cast to double parses the same on every engine."""
    from sqlglot import exp

    return sql_double(exp.Literal.string(repr(float(x))))


def sql_zero_if_null(value):
    """``COALESCE(value, 0)``."""
    from sqlglot import exp

    return exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])


class FeatureKind(ABC):
    """One kind of behaviour feature: its check, pandas evaluation, SQL and words.

    A subclass sets ``name`` (and ``column_kind`` when the feature is not a
    number) and is registered with :func:`register`; the pandas evaluator,
    the SQL of every engine, the sheet and the rule sheet then know it.
    ``evaluate`` and ``sql`` must agree exactly on every engine: the
    exactness tests run every registered kind (its :meth:`example`) on
    pandas, DuckDB, PostgreSQL and Spark.
    """

    name: str = ""
    #: How the feature reads as a criterion: ``"numeric"`` or ``"boolean"``.
    column_kind: str = "numeric"
    #: Whether a fit makes a feature of this kind only when asked
    #: (:class:`calibrate.behaviour.ActivityFeaturizer`'s ``extra_features``).
    optional: bool = False

    def check(self, feature) -> None:  # noqa: B027 - most kinds need nothing more
        """Raise ValueError when the feature lacks what the kind needs (nothing by default)."""

    @abstractmethod
    def evaluate(self, feature, acts: Activities) -> np.ndarray:
        """The feature of every lead (length ``acts.n``), computed with numpy."""

    @abstractmethod
    def sql(self, feature, columns: SqlColumns):
        """The feature as an :class:`Aggregate` or a :class:`DistinctCount` (sqlglot)."""

    @abstractmethod
    def describe(self, feature) -> str:
        """What the feature counts, in words (the sheet's description)."""

    def in_practice(self, feature, bound: float, lookback_days: int) -> str:
        """What it takes to reach ``bound``, in activity-filter words; "" when it cannot say."""
        return ""

    def fit_feature(self, types, families):
        """The feature a fit adds when asked for the kind (an optional kind); None when none fits.

        ``types`` are the activity types that count, ``families`` maps each to its family.
        """
        return None

    @abstractmethod
    def example(self, types):
        """A feature of this kind on some of these activity types, for the exactness tests."""
