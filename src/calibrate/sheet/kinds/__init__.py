"""Activity feature kinds: one class per kind, in a registry.

Each kind (:class:`FeatureKind`) holds, in one place, everything calibrate
knows about it: what a feature of the kind needs (``check``), its pandas
evaluation (``evaluate``, the oracle the standalone scorer uses), its SQL as
a dialect-neutral sqlglot expression (``sql``, rendered for DuckDB when
fitting and for every warehouse by the SQL export), its description on the
sheet (``describe``) and its words on the rule sheet (``in_practice``).

A new kind is one class in one module, decorated with :func:`register` and
imported here; the exactness tests then run it on every engine.

Examples
--------
>>> FEATURE_KINDS
('count', 'recency', 'distinct_details', 'active_days', 'all_of', 'distinct_weeks')
>>> kind_of("all_of").column_kind
'boolean'
>>> OPTIONAL_KINDS
('distinct_weeks',)
"""

from __future__ import annotations

from ..feature import (
    KINDS,
    SECONDS_PER_DAY,
    WEIGHT_SCALE,
    Activities,
    Aggregate,
    DistinctCount,
    FeatureKind,
    SqlColumns,
    kind_of,
    register,
    sql_double,
    sql_number,
    sql_zero_if_null,
)
from . import builtin, distinct_weeks  # noqa: F401  (registers the kinds)

#: Names of the registered kinds.
FEATURE_KINDS = tuple(KINDS)
#: Kinds a fit makes a feature of only when asked (``extra_features``).
OPTIONAL_KINDS = tuple(name for name, kind in KINDS.items() if kind.optional)

__all__ = [
    "FEATURE_KINDS",
    "KINDS",
    "OPTIONAL_KINDS",
    "SECONDS_PER_DAY",
    "WEIGHT_SCALE",
    "Activities",
    "Aggregate",
    "DistinctCount",
    "FeatureKind",
    "SqlColumns",
    "kind_of",
    "register",
    "sql_double",
    "sql_number",
    "sql_zero_if_null",
]
