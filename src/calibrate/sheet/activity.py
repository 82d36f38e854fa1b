"""Behaviour features from an activity log: the definitions and a pandas evaluator.

An activity log has one row per activity: lead id, activity type, timestamp
and an optional detail (page URL, asset name, campaign). For every lead,
only activities strictly before its decision time ``T`` and at most
``lookback_days`` before it count. Ages are whole days,
``floor((T - occurred_at) / 86400 s)``.

Feature kinds
-------------
Each kind (``count``, ``recency``, ``distinct_details``, ``active_days``,
``all_of``...) is one class in :mod:`calibrate.sheet.kinds`, with its
pandas evaluation, its SQL, its description and its rule-sheet words. A
count's weight of one activity depends on its age through the family's
*kernel* (:class:`Kernel`): ``decay`` (half-life ``h`` days):
``round_half_up(1000 * 2 ** (-age / h)) / 1000``; ``window`` (``w`` days):
1 when ``age < w``, else 0; ``all``: 1. Weights are rounded to thousandths
and summed as integers, so every engine (pandas, DuckDB, PostgreSQL, Spark)
gets the same value.

The evaluation needs only numpy and pandas: the standalone scorer uses it,
and the SQL of every engine (see :mod:`calibrate.production.sql_export`) must agree
with it. The SQL pieces (:meth:`Kernel.sql`, :func:`detail_rules_sql`) are
sqlglot expressions, imported only when asked for.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError
from .criteria import WHITESPACE, float_text
from .feature import (
    SECONDS_PER_DAY,
    ZONE_SUFFIX,
    Activities,
    ActivityFeature,
    DetailRule,
    Kernel,
    kind_of,
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
    whitespace (:data:`calibrate.sheet.criteria.WHITESPACE`), and whole numbers
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
        values = values.map(float_text, na_action="ignore")
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
        ``spec.known_types``, which score no points) and ``counted`` (the
        activities of these leads before their decision, within the look-back).
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
        "counted": int(len(types)),
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
