"""Distinct weeks: "came back in 3 different weeks of the last 90 days".

Weeks are counted back from the decision (or as-of) time: an activity of
age ``a`` whole days is in week ``floor(a / 7)`` (week 0 is the 7 days just
before the decision). Only ages below ``window_days`` count, so a 90-day
window holds weeks 0 to 12, the last of them 6 days long. Pandas and every
SQL engine compute the week from the same whole-day age, exactly.

The kind is optional: a fit adds ``distinct_weeks_90d`` (activities of the
web, content and hand-raiser families: coming back to the site) only when
asked, with ``ActivityFeaturizer(extra_features=("distinct_weeks",))``.

Examples
--------
>>> import numpy as np
>>> from calibrate.sheet.feature import ActivityFeature
>>> from calibrate.sheet.kinds import Activities, kind_of
>>> age = np.array([0, 6, 7, 13, 14, 89, 90])
>>> acts = Activities(np.zeros(7, dtype=np.int64), age, np.array(["page_view"] * 7, dtype=object),
...                   np.full(7, None, dtype=object), np.ones(7, dtype=bool), 1)
>>> weeks = ActivityFeature("weeks", "distinct_weeks", window_days=90)
>>> kind_of("distinct_weeks").evaluate(weeks, acts).tolist()  # weeks 0, 1, 2 and 12
[4.0]
>>> kind_of("distinct_weeks").in_practice(weeks, 3.0, 1095)
'active in 3+ different weeks in the last 90 days'
"""

from __future__ import annotations

import math

from ..feature import (
    Activities,
    ActivityFeature,
    DistinctCount,
    FeatureKind,
    SqlColumns,
    register,
    sql_double,
)

#: Days in a week.
WEEK_DAYS = 7
#: The window of the feature a fit adds, and the families whose activities it counts.
FIT_WINDOW_DAYS = 90
FIT_FAMILIES = ("web", "content", "hand-raiser")


@register
class DistinctWeeks(FeatureKind):
    """Number of distinct weeks with activity of some types in the last ``window_days`` days.

    Without types, activities of every known type count (as for recency).
    """

    name = "distinct_weeks"
    optional = True

    def check(self, feature):
        if not feature.window_days:
            raise ValueError(f"distinct-weeks feature {feature.name!r} needs window_days")

    def _mask(self, feature, acts: Activities):
        of_types = acts.of_types(feature.types) if feature.types else acts.known
        return of_types & (acts.age < feature.window_days)

    def evaluate(self, feature, acts: Activities):
        return acts.distinct_count(self._mask(feature, acts), acts.age // WEEK_DAYS)

    def sql(self, feature, columns: SqlColumns):
        from sqlglot import exp

        recent = exp.and_(
            columns.of_types(feature.types or columns.known_types),
            exp.LT(this=columns.age.copy(), expression=exp.Literal.number(feature.window_days)),
        )
        week = exp.Floor(
            this=exp.Div(
                this=sql_double(columns.age.copy()),
                expression=sql_double(exp.Literal.number(WEEK_DAYS)),
            )
        )
        return DistinctCount(recent, week)

    def describe(self, feature):
        what = " or ".join(feature.types) if feature.types else "activity"
        return f"weeks with {what} in the last {feature.window_days} days"

    def in_practice(self, feature, bound, lookback_days):
        return (
            f"active in {math.ceil(bound)}+ different weeks in the last {feature.window_days} days"
        )

    def fit_feature(self, types, families):

        chosen = tuple(t for t in types if families[t] in FIT_FAMILIES)
        if not chosen:
            return None
        return ActivityFeature(
            f"distinct_weeks_{FIT_WINDOW_DAYS}d",
            "distinct_weeks",
            chosen,
            window_days=FIT_WINDOW_DAYS,
        )

    def example(self, types):

        return ActivityFeature("example_distinct_weeks", "distinct_weeks", window_days=90)
