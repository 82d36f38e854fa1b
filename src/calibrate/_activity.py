"""Behaviour features from an activity log: the definitions and a pandas evaluator.

An activity log has one row per activity: lead id, activity type, timestamp
and an optional detail (page URL, asset name, campaign). For every lead,
only activities strictly before its decision time ``T`` and at most
``lookback_days`` before it count. Ages are whole days,
``floor((T - occurred_at) / 86400 s)``.

Feature kinds
-------------
Each kind (``count``, ``recency``, ``distinct_details``, ``active_days``,
``all_of``...) is one class in :mod:`calibrate.activity_kinds`, with its
pandas evaluation, its SQL, its description and its rule-sheet words. A
count's weight of one activity depends on its age through the family's
*kernel* (:class:`Kernel`): ``decay`` (half-life ``h`` days):
``round_half_up(1000 * 2 ** (-age / h)) / 1000``; ``window`` (``w`` days):
1 when ``age < w``, else 0; ``all``: 1. Weights are rounded to thousandths
and summed as integers, so every engine (pandas, DuckDB, PostgreSQL, Spark)
gets the same value.

The evaluation needs only numpy and pandas: the standalone scorer uses it,
and the SQL of every engine (see :mod:`calibrate.sql_export`) must agree
with it. The SQL pieces (:meth:`Kernel.sql`, :func:`detail_rules_sql`) are
sqlglot expressions, imported only when asked for.
"""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._criteria import WHITESPACE, _float_text
from .activity_kinds import (  # FEATURE_KINDS: the registered kinds, as before
    FEATURE_KINDS,  # noqa: F401
    SECONDS_PER_DAY,
    WEIGHT_SCALE,
    Activities,
    kind_of,
    sql_double,
    sql_number,
)
from .errors import DataError

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


@dataclass(frozen=True)
class ActivitySpec:
    """Everything needed to turn an activity log into behaviour features.

    Parameters
    ----------
    features : tuple of ActivityFeature
        The features, in sheet order.
    detail_rules : tuple of DetailRule
        Applied in order; the first matching rule re-types an activity.
    known_types : tuple of str
        Activity types seen in training; others score no points and are
        counted in the scoring warnings.
    lookback_days : int
        Activities older than this (at the decision time) are ignored.
    lead_id, activity_type, occurred_at, detail : str
        Column names of the activity log.
    """

    features: tuple = ()
    detail_rules: tuple = ()
    known_types: tuple = ()
    lookback_days: int = 1095
    lead_id: str = "lead_id"
    activity_type: str = "activity_type"
    occurred_at: str = "occurred_at"
    detail: str | None = None
    families: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready mapping."""
        return {
            "columns": {
                "lead_id": self.lead_id,
                "activity_type": self.activity_type,
                "occurred_at": self.occurred_at,
                "detail": self.detail,
            },
            "lookback_days": self.lookback_days,
            "detail_rules": [r.to_dict() for r in self.detail_rules],
            "known_types": list(self.known_types),
            "families": dict(sorted(self.families.items())),
            "features": [f.to_dict() for f in self.features],
        }

    @classmethod
    def from_dict(cls, d: dict) -> ActivitySpec:
        """Inverse of :meth:`to_dict`."""
        columns = d["columns"]
        return cls(
            features=tuple(ActivityFeature.from_dict(f) for f in d["features"]),
            detail_rules=tuple(DetailRule.from_dict(r) for r in d.get("detail_rules", ())),
            known_types=tuple(d.get("known_types", ())),
            lookback_days=int(d["lookback_days"]),
            lead_id=columns["lead_id"],
            activity_type=columns["activity_type"],
            occurred_at=columns["occurred_at"],
            detail=columns.get("detail"),
            families=dict(d.get("families", {})),
        )


def normalise_activities(frame: pd.DataFrame, spec: ActivitySpec) -> pd.DataFrame:
    """Activities as ``lead_id, activity_type, occurred_at, detail``, re-typed by the rules.

    Lead ids are read as the lead table's are (see :func:`lead_id_text`);
    types and details are used as stored. Timestamps become timezone-naive
    UTC, truncated to whole seconds.
    """
    missing = [
        c
        for c in (spec.lead_id, spec.activity_type, spec.occurred_at, spec.detail)
        if c is not None and c not in frame.columns
    ]
    if missing:
        raise DataError(
            f"activity log: column(s) {', '.join(map(repr, missing))} not found "
            f"(columns: {', '.join(map(repr, frame.columns[:8]))})"
        )
    ids = lead_id_text(frame[spec.lead_id])
    _refuse_empty(frame[spec.lead_id], spec.lead_id, ids)
    _refuse_empty(frame[spec.activity_type], spec.activity_type)
    out = pd.DataFrame(
        {
            # Types as stored, as the SQL engines read them (no trimming).
            "lead_id": ids.astype(object),
            "activity_type": frame[spec.activity_type].astype("string").astype(object),
            "occurred_at": to_utc_seconds(frame[spec.occurred_at], spec.occurred_at),
            "detail": (
                frame[spec.detail].astype("string").astype(object)
                if spec.detail is not None
                else pd.Series(None, index=frame.index, dtype=object)
            ),
        }
    )
    out["activity_type"] = apply_detail_rules(
        out["activity_type"], out["detail"], spec.detail_rules
    )
    return out


def lead_id_text(values: pd.Series) -> pd.Series:
    """The activity log's lead ids as text, written as the lead table's ids are.

    The lead table's ids are read as text without surrounding ASCII
    whitespace (:data:`calibrate._criteria.WHITESPACE`), and whole numbers
    stored as floats are written as integers (``7.0`` is ``"7"``); the log's
    ids are read the same way, so that an id matches however either side
    stores it. The DuckDB reader and the SQL export do the same.

    Examples
    --------
    >>> lead_id_text(pd.Series([" L1\t", "L2"])).tolist()
    ['L1', 'L2']
    >>> lead_id_text(pd.Series([7.0, 8.5])).tolist()
    ['7', '8.5']
    """
    if pd.api.types.is_float_dtype(values.dtype):
        values = values.map(_float_text, na_action="ignore")
    return values.astype("string").str.strip(WHITESPACE)


def _refuse_empty(values: pd.Series, column: str, text: pd.Series | None = None):
    """Refuse missing or empty text, naming the rows (as the DuckDB reader does).

    ``text`` is the values as read (e.g. stripped ids), when not as stored.
    """
    text = values.astype("string") if text is None else text
    rows = np.flatnonzero((text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True))
    if len(rows):
        shown = "; ".join(
            f"row {r + 1}: {None if pd.isna(values.iloc[r]) else values.iloc[r]!r}"
            for r in rows[:5]
        )
        raise DataError(
            f"activity log: column {column!r} is empty in {len(rows)} row(s) ({shown})"
        )


def apply_detail_rules(types: pd.Series, details: pd.Series, rules) -> pd.Series:
    """Re-type activities by the first matching rule."""
    result = types.to_numpy(dtype=object, copy=True)
    done = np.zeros(len(types), dtype=bool)
    for rule in rules:
        hit = rule.matches(types, details) & ~done
        result[hit] = rule.becomes
        done |= hit
    return pd.Series(result, index=types.index, dtype=object)


def utc_naive(values: pd.Series) -> pd.Series:
    """Timezone-aware timestamps as naive UTC; naive ones as they are."""
    if getattr(values.dt, "tz", None) is not None:
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values


def fast_track_feature(activity_type: str, within_days: float) -> ActivityFeature:
    """Count of one activity type in a window: a fast-track rule, as fit and scorer read it."""
    return ActivityFeature(
        f"fast_track|{activity_type}|{within_days:g}",
        "count",
        (activity_type,),
        kernel=Kernel("window", float(within_days)),
    )


def to_utc_seconds(values: pd.Series, column: str) -> pd.Series:
    """Timestamps as timezone-naive UTC ``datetime64[s]``.

    Raises
    ------
    DataError
        Naming the rows whose text is not a timestamp, or when some values
        carry a time zone and others do not.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    else:
        text = values.astype("string").str.strip(WHITESPACE)
        has_zone = text.str.contains(ZONE_SUFFIX, regex=True).fillna(False)
        present = text.notna() & (text != "")
        if has_zone[present].any() and not has_zone[present].all():
            with_zone = np.flatnonzero((has_zone & present).to_numpy())
            without = np.flatnonzero((~has_zone & present).to_numpy())
            raise DataError(
                f"column {column!r} mixes timestamps with and without a time zone "
                f"(row {with_zone[0] + 1}: {values.iloc[with_zone[0]]!r}; "
                f"row {without[0] + 1}: {values.iloc[without[0]]!r})"
            )
        try:
            parsed = pd.to_datetime(
                text, errors="coerce", format="ISO8601", utc=bool(has_zone.any())
            )
        except ValueError as exc:  # e.g. a zone the pattern above does not see
            raise DataError(f"column {column!r}: cannot read the timestamps ({exc})") from None
        bad = (parsed.isna() & present).to_numpy()
        if bad.any():
            rows = np.flatnonzero(bad)
            shown = "; ".join(f"row {r + 1}: {values.iloc[r]!r}" for r in rows[:5])
            raise DataError(
                f"column {column!r}: {len(rows)} value(s) are not timestamps ({shown})"
            )
    parsed = utc_naive(parsed)
    missing = parsed.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)
        raise DataError(
            f"column {column!r} is empty in {len(rows)} row(s) (rows "
            f"{', '.join(str(r + 1) for r in rows[:5])}{', ...' if len(rows) > 5 else ''})"
        )
    return parsed.dt.floor("s").astype("datetime64[s]")


def aggregate_frame(
    spec: ActivitySpec, lead_ids: pd.Series, decision_times: pd.Series, activities: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    """Behaviour features of every lead, computed with pandas.

    Parameters
    ----------
    spec : ActivitySpec
        The features to compute.
    lead_ids : pandas.Series of str
        The leads, in output order.
    decision_times : pandas.Series of datetime
        Each lead's decision time (or the as-of time of scoring).
    activities : pandas.DataFrame
        The raw activity log (columns named by ``spec``).

    Returns
    -------
    features : pandas.DataFrame
        One row per lead, one column per feature.
    counts : dict
        ``unknown_leads`` (activities of leads not in ``lead_ids``),
        ``unknown_lead_examples`` (the three first of their ids in sort order) and
        ``unknown_types`` (``{type: activities}`` of types not in
        ``spec.known_types``, which score no points).
    """
    acts = normalise_activities(activities, spec)
    ids = pd.Series(lead_ids.to_numpy(dtype=object), dtype=object)
    T = to_utc_seconds(pd.Series(decision_times).reset_index(drop=True), "decision time")
    position = pd.Series(np.arange(len(ids)), index=pd.Index(ids))
    lead = acts["lead_id"].map(position)
    known = lead.notna().to_numpy()
    unknown_leads = int(len(known) - known.sum())
    unknown_ids = pd.unique(acts["lead_id"].to_numpy()[~known]) if unknown_leads else []
    examples = heapq.nsmallest(3, unknown_ids)
    acts, lead = acts[known], lead[known].to_numpy(dtype=np.int64)
    t_lead = T.to_numpy().astype("datetime64[s]").astype(np.int64)[lead]
    t_act = acts["occurred_at"].to_numpy().astype("datetime64[s]").astype(np.int64)
    age_s = t_lead - t_act
    keep = (age_s > 0) & (age_s <= spec.lookback_days * SECONDS_PER_DAY)
    acts, lead, age_d = acts[keep], lead[keep], age_s[keep] // SECONDS_PER_DAY
    types = acts["activity_type"].to_numpy(dtype=object)
    details = acts["detail"].to_numpy(dtype=object)
    type_known = np.isin(types, np.asarray(spec.known_types, dtype=object))
    unknown_types = pd.Series(types[~type_known]).value_counts().sort_index().to_dict()
    counted = Activities(lead, age_d, types, details, type_known, len(ids))
    out = {f.name: kind_of(f.kind).evaluate(f, counted) for f in spec.features}
    counts = {
        "unknown_leads": unknown_leads,
        "unknown_lead_examples": examples,
        "unknown_types": unknown_types,
    }
    return pd.DataFrame(out), counts


def half_life_grid(low: float = 3.5, high: float = 400.0, per_doubling: int = 4) -> np.ndarray:
    """Candidate half-lives, evenly spaced on a log scale.

    Examples
    --------
    >>> half_life_grid(7, 28, per_doubling=1).tolist()
    [7.0, 14.0, 28.0]
    """
    steps = int(math.floor(per_doubling * math.log2(high / low) + 1e-9))
    return np.round(low * 2.0 ** (np.arange(steps + 1) / per_doubling), 1)
