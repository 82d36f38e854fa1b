"""The feature kinds calibrate has always had: counts, recency, details, active days, all-of."""

from __future__ import annotations

import math

import numpy as np

from ..feature import (
    WEIGHT_SCALE,
    Activities,
    ActivityFeature,
    Aggregate,
    DistinctCount,
    FeatureKind,
    Kernel,
    SqlColumns,
    register,
    sql_double,
    sql_zero_if_null,
)


def _types(feature) -> str:
    return " or ".join(feature.types)


@register
class Count(FeatureKind):
    """Weighted count of the activities of some types; the weight fades with age (the kernel).

    Weights are integer thousandths (see :meth:`calibrate.sheet.feature.Kernel.weights`)
    summed as integers, so every engine gets the same value.
    """

    name = "count"

    def check(self, feature):
        if feature.kernel is None:
            raise ValueError(f"count feature {feature.name!r} needs a kernel")

    def evaluate(self, feature, acts: Activities):
        mask = acts.of_types(feature.types)
        weights = feature.kernel.weights(acts.age[mask])
        total = np.bincount(acts.lead[mask], weights=weights, minlength=acts.n)
        return np.rint(total).astype(np.int64) / WEIGHT_SCALE

    def sql(self, feature, columns: SqlColumns):
        from sqlglot import exp

        weight = feature.kernel.sql(columns.age.copy())
        total = exp.Sum(
            this=exp.Case()
            .when(columns.of_types(feature.types), weight)
            .else_(exp.Literal.number(0))
        )

        def value(g):
            return exp.Div(
                this=sql_double(sql_zero_if_null(g)),
                expression=sql_double(exp.Literal.number(WEIGHT_SCALE)),
            )

        return Aggregate(total, value)

    def describe(self, feature):
        return f"{_types(feature)} ({feature.kernel.label})"

    def in_practice(self, feature, bound, lookback_days):
        n = max(1, math.ceil(bound - 1e-9))
        days = feature.kernel.reach_days(n, bound, lookback_days)
        return f"{n}+ {_types(feature)} in the last {days} days" if days else ""

    def example(self, types):

        return ActivityFeature("example_count", "count", (types[0],), kernel=Kernel("decay", 14.0))


@register
class Recency(FeatureKind):
    """Days since the lead's latest activity (of some types; by default of any known type)."""

    name = "recency"
    # Points fall with the days since the latest activity: a lead scored a
    # month later cannot gain for having done nothing since.
    points_order = "decreasing"

    def evaluate(self, feature, acts: Activities):
        mask = acts.known if not feature.types else acts.of_types(feature.types)
        recency = np.full(acts.n, np.nan)
        np.fmin.at(recency, acts.lead[mask], acts.age[mask].astype(np.float64))
        return recency

    def sql(self, feature, columns: SqlColumns):
        from sqlglot import exp

        types = feature.types or columns.known_types
        latest = exp.Min(this=exp.Case().when(columns.of_types(types), columns.age.copy()))
        return Aggregate(latest, sql_double)

    def describe(self, feature):
        return "days since the latest activity"

    def in_practice(self, feature, bound, lookback_days):
        return f"latest activity {math.ceil(bound)}+ days ago"

    def example(self, types):

        return ActivityFeature("example_recency", "recency")


@register
class DistinctDetails(FeatureKind):
    """Number of distinct details (assets, pages) among the activities of some types."""

    name = "distinct_details"

    def evaluate(self, feature, acts: Activities):
        return acts.distinct_count(acts.of_types(feature.types), acts.details)

    def sql(self, feature, columns: SqlColumns):
        return DistinctCount(columns.of_types(feature.types), columns.detail.copy())

    def describe(self, feature):
        return f"distinct {_types(feature)} details"

    def in_practice(self, feature, bound, lookback_days):
        return f"{math.ceil(bound)}+ different {_types(feature)}"

    def example(self, types):

        return ActivityFeature("example_distinct_details", "distinct_details", tuple(types[:2]))


@register
class ActiveDays(FeatureKind):
    """Number of distinct days (ages) with activity of some types in the last ``window_days``."""

    name = "active_days"

    def check(self, feature):
        if not feature.window_days:
            raise ValueError(f"active-days feature {feature.name!r} needs window_days")

    def evaluate(self, feature, acts: Activities):
        mask = acts.of_types(feature.types) & (acts.age < feature.window_days)
        return acts.distinct_count(mask, acts.age)

    def sql(self, feature, columns: SqlColumns):
        from sqlglot import exp

        recent = exp.and_(
            columns.of_types(feature.types),
            exp.LT(this=columns.age.copy(), expression=exp.Literal.number(feature.window_days)),
        )
        return DistinctCount(recent, columns.age.copy())

    def describe(self, feature):
        return f"days with {_types(feature)} in the last {feature.window_days} days"

    def in_practice(self, feature, bound, lookback_days):
        return f"active on {math.ceil(bound)}+ days of the last {feature.window_days}"

    def example(self, types):

        return ActivityFeature("example_active_days", "active_days", tuple(types), window_days=30)


@register
class AllOf(FeatureKind):
    """Whether the lead did every one of some types (white paper *and* case study)."""

    name = "all_of"
    column_kind = "boolean"

    def check(self, feature):
        if len(feature.types) < 2:
            raise ValueError(f"combination {feature.name!r} needs two or more activity types")

    def evaluate(self, feature, acts: Activities):
        did_all = np.ones(acts.n, dtype=bool)
        for activity_type in feature.types:
            did_all &= np.bincount(acts.lead[acts.types == activity_type], minlength=acts.n) > 0
        return did_all

    def sql(self, feature, columns: SqlColumns):
        from sqlglot import exp

        did = [
            exp.Max(
                this=exp.Case()
                .when(
                    exp.EQ(this=columns.type.copy(), expression=exp.Literal.string(t)),
                    exp.Literal.number(1),
                )
                .else_(exp.Literal.number(0))
            )
            for t in feature.types
        ]
        total = did[0]
        for more in did[1:]:
            total = exp.Mul(this=total, expression=more)

        def value(g):  # 1 when the lead did every type
            return exp.EQ(this=sql_zero_if_null(g), expression=exp.Literal.number(1))

        return Aggregate(total, value)

    def describe(self, feature):
        return "did all of: " + ", ".join(feature.types)

    def example(self, types):

        return ActivityFeature("example_all_of", "all_of", tuple(types[:2]))
