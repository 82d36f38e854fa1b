"""An activity feature: its kernel, its detail rules, its kind and the registry of kinds.

These are the public types every engine shares. :class:`ActivityFeature` names
a kind (``count``, ``recency``...), the activity types it counts and its
:class:`Kernel`; each kind is one :class:`FeatureKind` registered here by
:func:`register` (the built-in kinds live in :mod:`calibrate.sheet.kinds`),
with its pandas evaluation, its SQL and its words.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError

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
    #: (:class:`calibrate.learn.behaviour.ActivityFeaturizer`'s ``extra_features``).
    optional: bool = False
    #: The order a fit gives a numeric feature's points unless told otherwise:
    #: ``"increasing"``, ``"decreasing"``, or None for the direction the data
    #: leans to. A kind whose meaning fixes it says so (recency: the longer
    #: since the latest activity, the fewer points).
    points_order: str | None = None

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


KERNEL_KINDS = ("decay", "window", "all")

#: A timestamp text ending in a UTC offset (``+02``, ``+0200``, ``+02:00``) or
#: ``Z`` after its time of day. Python and DuckDB (RE2) read it the same way;
#: a date alone (``2024-01-01``) does not match.
ZONE_SUFFIX = (
    r"(?:[0-9]:[0-9][0-9](?::[0-9][0-9](?:[.,][0-9]*)?)? ?[+-][0-9][0-9](?::?[0-9][0-9])?|Z)$"
)

#: Activity families by type name, first match wins; users can override.
FAMILY_PATTERNS = (
    ("hand-raiser", r"demo|contact|form|trial|quote|meeting|call_request|sales_request"),
    ("opt-out", r"unsub|bounce|opt_?out|spam|complain"),
    ("email", r"e?mail|newsletter"),
    ("content", r"paper|ebook|case|download|asset|webinar|event|video|report|guide|podcast"),
    ("web", r"page|visit|web|site|view|click"),
)


def family_of(activity_type: str) -> str:
    """Default family of an activity type, from its name.

    Examples
    --------
    >>> [family_of(t) for t in ["demo_request", "email_click", "webinar_attended", "page_view"]]
    ['hand-raiser', 'email', 'content', 'web']
    """
    for family, pattern in FAMILY_PATTERNS:
        if re.search(pattern, activity_type, re.IGNORECASE):
            return family
    return "other"


@dataclass(frozen=True)
class Kernel:
    """How an activity's weight fades with its age.

    Examples
    --------
    >>> Kernel("decay", 14.0).weights(np.array([0, 14, 28])).tolist()
    [1000, 500, 250]
    >>> Kernel("window", 30).weights(np.array([0, 29, 30])).tolist()
    [1000, 1000, 0]
    """

    kind: str
    days: float | None = None

    def __post_init__(self):
        if self.kind not in KERNEL_KINDS:
            raise ValueError(f"kernel kind must be one of {KERNEL_KINDS}, got {self.kind!r}")
        if self.kind != "all" and not (self.days is not None and self.days > 0):
            raise ValueError(f"a {self.kind} kernel needs days > 0, got {self.days!r}")

    def weights(self, age_days: np.ndarray) -> np.ndarray:
        """Integer weight (thousandths) of activities of the given whole-day ages."""
        age = np.asarray(age_days, dtype=np.float64)
        if self.kind == "all":
            return np.full(age.shape, WEIGHT_SCALE, dtype=np.int64)
        if self.kind == "window":
            return np.where(age < self.days, WEIGHT_SCALE, 0).astype(np.int64)
        return np.floor(WEIGHT_SCALE * np.power(2.0, -age / self.days) + 0.5).astype(np.int64)

    def sql(self, age):
        """The same weight as a sqlglot expression of the age column (whole days, a double).

        Examples
        --------
        >>> from sqlglot import exp
        >>> print(Kernel("window", 30).sql(exp.column("age")).sql("duckdb"))
        CASE WHEN age < CAST('30.0' AS DOUBLE) THEN 1000 ELSE 0 END
        """
        from sqlglot import exp

        scale = exp.Literal.number(WEIGHT_SCALE)
        if self.kind == "all":
            return scale
        if self.kind == "window":
            return (
                exp.Case()
                .when(exp.LT(this=age, expression=sql_number(self.days)), scale)
                .else_(exp.Literal.number(0))
            )
        power = exp.Pow(
            this=sql_double(exp.Literal.number(2)),
            expression=exp.Div(
                this=exp.Neg(this=sql_double(age)), expression=sql_number(self.days)
            ),
        )
        return exp.Floor(
            this=exp.Add(
                this=exp.Mul(this=sql_double(scale), expression=power),
                expression=sql_number(0.5),
            )
        )

    def reach_days(self, n: int, bound: float, lookback_days: int) -> str:
        """Within how many days ``n`` activities reach ``bound``, as text; "" if they cannot.

        Examples
        --------
        >>> Kernel("decay", 30.0).reach_days(1, 0.5, 365)
        '31'
        >>> Kernel("window", 7).reach_days(2, 1.5, 365)
        '7'
        """
        if self.kind == "all":
            return str(lookback_days)
        if self.kind == "window":
            return f"{self.days:g}"
        # n activities of age `a` weigh n * w(a): the oldest age that still reaches the bound.
        ages = np.arange(lookback_days + 1)
        reach = np.flatnonzero(n * self.weights(ages) >= round(bound * 1000))
        return str(int(reach.max()) + 1) if len(reach) else ""

    @property
    def label(self) -> str:
        """Words for the sheet: ``"half-life 14 days"``, ``"last 30 days"``."""
        if self.kind == "all":
            return "no decay"
        days = f"{self.days:g}"
        return f"half-life {days} days" if self.kind == "decay" else f"last {days} days"

    def to_dict(self) -> dict:
        """Plain JSON-ready mapping."""
        out = {"kind": self.kind}
        if self.kind == "decay":
            out["half_life_days"] = self.days
        elif self.kind == "window":
            out["window_days"] = self.days
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Kernel:
        """Inverse of :meth:`to_dict`."""
        days = d.get("half_life_days", d.get("window_days"))
        return cls(d["kind"], None if days is None else float(days))


def exact_decay_is_safe(half_life: float, max_age: int) -> bool:
    """Whether ``1000 * 2 ** (-age / h)`` stays clear of rounding ties.

    Engines may differ in the last bit of ``POWER``; a value within 1e-9 of
    ``k + 0.5`` could then round differently. Exact ties (``age / h`` a whole
    number) are computed exactly everywhere and are safe.
    """
    age = np.arange(max_age + 1, dtype=np.float64)
    ratio = age / half_life
    value = WEIGHT_SCALE * np.power(2.0, -ratio)
    frac = value - np.floor(value)
    exact = ratio == np.round(ratio)
    return bool(np.all(exact | (np.abs(frac - 0.5) > 1e-9)))


def glob_regex(pattern: str) -> str:
    """Regular expression of a detail glob: ``*`` any text, ``?`` one character.

    Nothing else is special, so that SQL ``LIKE`` reads the same pattern the
    same way (see :func:`glob_like`).

    Examples
    --------
    >>> import re
    >>> bool(re.fullmatch(glob_regex("/pricing*"), "/pricing/enterprise"))
    True
    >>> bool(re.fullmatch(glob_regex("[a]*"), "a"))
    False
    """
    parts = []
    for char in pattern:
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return "(?s:" + "".join(parts) + ")"


def glob_like(pattern: str) -> str:
    """The same glob as a SQL ``LIKE`` pattern with ``\\`` as escape character.

    Examples
    --------
    >>> print(glob_like("/pricing_*"))
    /pricing\\_%
    """
    out = []
    for char in pattern:
        if char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        elif char in "%_\\":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


@dataclass(frozen=True)
class DetailRule:
    """Re-type activities whose detail matches a pattern: ``/pricing*`` -> pricing view.

    Parameters
    ----------
    pattern : str
        Glob on the detail: ``*`` any text, ``?`` one character; case matters.
    becomes : str
        The new activity type.
    activity_type : str, optional
        Only activities of this type are re-typed.

    Examples
    --------
    >>> rule = DetailRule.parse("page_view:/pricing*=pricing_page_view")
    >>> rule.activity_type, rule.pattern, rule.becomes
    ('page_view', '/pricing*', 'pricing_page_view')
    """

    pattern: str
    becomes: str
    activity_type: str | None = None

    @classmethod
    def parse(cls, text: str) -> DetailRule:
        """Read ``[TYPE:]GLOB=NEW_TYPE``."""
        head, sep, becomes = text.rpartition("=")
        if not sep or not head or not becomes.strip():
            raise DataError(
                f"a detail rule reads [TYPE:]PATTERN=NEW_TYPE (e.g. "
                f"'page_view:/pricing*=pricing_page_view'), got {text!r}"
            )
        activity_type, colon, pattern = head.partition(":")
        if not colon or pattern == "":
            activity_type, pattern = None, head
        return cls(pattern=pattern, becomes=becomes.strip(), activity_type=activity_type or None)

    def sql(self, kind, detail, dialect: str):
        """The rule's condition as a sqlglot expression of the type and detail columns."""
        from sqlglot import exp

        like = exp.Like(this=detail, expression=exp.Literal.string(glob_like(self.pattern)))
        if dialect != "bigquery":  # backslash is LIKE's escape character there
            like = exp.Escape(this=like, expression=exp.Literal.string("\\"))
        if self.activity_type is None:
            return like
        return exp.and_(exp.EQ(this=kind, expression=exp.Literal.string(self.activity_type)), like)

    def matches(self, types: pd.Series, details: pd.Series) -> np.ndarray:
        """Which activities the rule re-types."""
        hit = (
            details.astype("string")
            .str.fullmatch(glob_regex(self.pattern))
            .fillna(False)
            .to_numpy(dtype=bool)
        )
        if self.activity_type is not None:
            hit &= (types == self.activity_type).to_numpy()
        return hit

    def to_dict(self) -> dict:
        """Plain JSON-ready mapping."""
        return {
            "pattern": self.pattern,
            "becomes": self.becomes,
            "activity_type": self.activity_type,
        }

    @classmethod
    def from_dict(cls, d: dict) -> DetailRule:
        """Inverse of :meth:`to_dict`."""
        return cls(d["pattern"], d["becomes"], d.get("activity_type"))


def detail_rules_sql(rules, kind, detail, dialect: str):
    """The activity type after the detail rules (the first matching one), as sqlglot.

    Examples
    --------
    >>> from sqlglot import exp
    >>> rules = [DetailRule.parse("page_view:/pricing*=pricing")]
    >>> print(detail_rules_sql(rules, exp.column("t"), exp.column("d"), "spark").sql("spark"))
    CASE WHEN t = 'page_view' AND d LIKE '/pricing%' ESCAPE '\\\\' THEN 'pricing' ELSE t END
    """
    from sqlglot import exp

    if not rules:
        return kind
    case = exp.Case()
    for rule in rules:
        case = case.when(
            rule.sql(kind.copy(), detail.copy(), dialect), exp.Literal.string(rule.becomes)
        )
    return case.else_(kind)


@dataclass(frozen=True)
class ActivityFeature:
    """One behaviour feature computed from the log (see the module docstring)."""

    name: str
    kind: str
    types: tuple[str, ...] = ()
    kernel: Kernel | None = None
    window_days: int | None = None
    family: str | None = None

    def __post_init__(self):
        kind_of(self.kind).check(self)

    @property
    def column_kind(self) -> str:
        """How the feature reads as a criterion: numeric, or boolean (``all_of``)."""
        return kind_of(self.kind).column_kind

    @property
    def points_order(self) -> str | None:
        """The order a fit gives the feature's points by default (its kind's ``points_order``)."""
        return kind_of(self.kind).points_order

    @property
    def description(self) -> str:
        """What the feature counts, in words."""
        return kind_of(self.kind).describe(self)

    def to_dict(self) -> dict:
        """Plain JSON-ready mapping."""
        out = {"name": self.name, "kind": self.kind, "types": list(self.types)}
        if self.kernel is not None:
            out["kernel"] = self.kernel.to_dict()
        if self.window_days is not None:
            out["window_days"] = self.window_days
        if self.family is not None:
            out["family"] = self.family
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ActivityFeature:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=d["name"],
            kind=d["kind"],
            types=tuple(d.get("types", ())),
            kernel=Kernel.from_dict(d["kernel"]) if d.get("kernel") else None,
            window_days=d.get("window_days"),
            family=d.get("family"),
        )
