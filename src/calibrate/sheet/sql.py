"""SQL pieces shared by every engine: sqlglot syntax trees of the scoring query.

Built once here, rendered in each dialect by :mod:`calibrate.production.sql_export`
(the scoring query) and by :func:`activity_sql` (the DuckDB aggregation of the
activity log, which :mod:`calibrate.learn.behaviour` runs): the SQL twin of the
pandas evaluator of :mod:`calibrate.sheet.activity`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..errors import ParameterError
from .criteria import FALSE_TOKENS, MISSING_TOKENS, TRUE_TOKENS, WHITESPACE
from .feature import SECONDS_PER_DAY, detail_rules_sql

if TYPE_CHECKING:
    from .activity import ActivitySpec

__all__ = ["SqlBuilder", "activity_sql"]


class SqlBuilder:
    """Syntax-tree pieces of the scoring query, for one dialect.

    The SQL export (:func:`calibrate.production.sql_export.scoring_sql`) builds the whole
    scoring query from them, and the DuckDB aggregation of the activity log
    (:func:`activity_sql`) its behaviour features: one SQL for every engine.

    Parameters
    ----------
    dialect : str
        A sqlglot dialect: duckdb, postgres, spark, snowflake or bigquery.
    """

    def __init__(self, dialect: str):
        self.dialect = dialect

    # -- names and values -------------------------------------------------
    def table(self, name, what: str):
        from sqlglot import exp

        if name is None or not str(name).strip():
            raise ParameterError(f"the {what} name is empty")
        table = exp.to_table(str(name), dialect=self.dialect)
        if not isinstance(table, exp.Table) or not all(
            isinstance(p, exp.Identifier) for p in table.parts
        ):
            raise ParameterError(f"{what} {name!r} is not a table name")
        # Only the name: an alias the parser may have read ("x y") is quoted into it.
        return exp.Table(**{k: v for k, v in table.args.items() if k in ("this", "db", "catalog")})

    @staticmethod
    def column(name: str, table: str | None = None):
        from sqlglot import exp

        return exp.column(str(name), table, quoted=True)

    @staticmethod
    def text(value):
        from sqlglot import exp

        return exp.cast(value, exp.DataType.Type.TEXT)

    @staticmethod
    def double(value):
        from sqlglot import exp

        return exp.cast(value, exp.DataType.Type.DOUBLE)

    def number(self, x: float):
        """An exact double: decimal text cast to double parses the same everywhere."""
        from sqlglot import exp

        return self.double(exp.Literal.string(repr(float(x))))

    def trim(self, value):
        from sqlglot import exp

        return exp.Trim(this=value, expression=self.whitespace(), position="BOTH")

    def whitespace(self):
        """The characters of :data:`WHITESPACE`, with no raw control character in the text."""
        from sqlglot import exp

        if self.dialect not in ("duckdb", "postgres"):  # their literals escape \t, \n...
            return exp.Literal.string(WHITESPACE)
        chars = exp.Literal.string(" ")
        for char in WHITESPACE.replace(" ", ""):
            chars = exp.DPipe(
                this=chars, expression=exp.Chr(expressions=[exp.Literal.number(ord(char))])
            )
        return exp.Paren(this=chars)

    def prepare(self, value, form: str):
        """A lead column read once: ``number`` (double), ``text``, or ``lower`` (trimmed)."""
        from sqlglot import exp

        if form == "number":
            return self.double(value)
        if form == "text":
            return self.text(value)
        return exp.Lower(this=self.trim(self.text(value)))

    @staticmethod
    def in_tokens(value, tokens):
        from sqlglot import exp

        return exp.In(this=value, expressions=[exp.Literal.string(t) for t in sorted(tokens)])

    def epoch(self, value):
        """Whole seconds since 1970 (UTC) of a date or timestamp."""
        from sqlglot import exp

        if self.dialect == "bigquery":
            seconds = exp.Anonymous(this="UNIX_SECONDS", expressions=[value])
        else:
            seconds = exp.TimeToUnix(this=value)
        return exp.Floor(this=seconds)

    # -- behaviour ----------------------------------------------------------
    def decision_epoch(self, config, as_of):
        """Each lead's decision time (or the as-of time) in whole UTC seconds."""
        from sqlglot import exp

        if as_of is not None and str(as_of).strip().lower() == "now":
            return self.epoch(exp.CurrentTimestamp())
        if as_of is not None:
            try:
                moment = pd.Timestamp(as_of)
            except (ValueError, TypeError):
                raise ParameterError(f"as-of {as_of!r} is not a timestamp") from None
            if pd.isna(moment):
                raise ParameterError(f"as-of {as_of!r} is not a timestamp")
            if moment.tzinfo is not None:
                moment = moment.tz_convert("UTC").tz_localize(None)
            seconds = moment.floor("s").value // 10**9
            return exp.Literal.number(int(seconds))
        decision = config.activities.get("decision_time", {})
        column = decision.get("column")
        if not column:
            raise ParameterError(
                "the config names no decision-time column: give an as-of time (--as-of)"
            )
        offset = float(decision.get("offset_days", 0)) * SECONDS_PER_DAY
        value = self.column(column)
        if offset == int(offset):
            if offset == 0:
                return self.epoch(value)
            return exp.Sub(this=self.epoch(value), expression=exp.Literal.number(int(offset)))
        # A fractional offset: subtract before flooring, as the Python scorer does.
        seconds = self.epoch(value).this
        return exp.Floor(this=exp.Sub(this=seconds, expression=exp.Literal.number(repr(offset))))

    def activities(self, spec, table):
        """Activities of the scored leads, re-typed, with their age in whole days."""
        from sqlglot import exp

        # The log's lead ids are read as the lead table's: trimmed text.
        key = self.trim(self.text(self.column(spec.lead_id, "a")))
        kind = self.text(self.column(spec.activity_type, "a"))
        detail = (
            self.text(self.column(spec.detail, "a")) if spec.detail is not None else exp.null()
        )
        if spec.detail_rules and spec.detail is not None:
            kind = detail_rules_sql(spec.detail_rules, kind, detail, self.dialect)
        age_s = exp.Sub(
            this=exp.column("calibrate_t", "l"),
            expression=self.epoch(self.column(spec.occurred_at, "a")),
        )
        age_d = exp.Floor(
            this=exp.Div(
                this=self.double(exp.Paren(this=age_s.copy())),
                expression=self.double(exp.Literal.number(SECONDS_PER_DAY)),
            )
        )
        horizon = exp.Literal.number(spec.lookback_days * SECONDS_PER_DAY)
        return (
            exp.select(
                exp.alias_(exp.column("calibrate_key", "l"), "calibrate_key"),
                exp.alias_(kind, "calibrate_type"),
                exp.alias_(detail.copy(), "calibrate_detail"),
                exp.alias_(age_d, "calibrate_age"),
            )
            .from_(table.as_("a"))
            .join(
                exp.to_table("calibrate_leads").as_("l"),
                on=exp.EQ(this=key, expression=exp.column("calibrate_key", "l")),
            )
            .where(
                exp.and_(
                    exp.GT(this=age_s.copy(), expression=exp.Literal.number(0)),
                    exp.LTE(this=age_s.copy(), expression=horizon),
                )
            )
        )

    def aggregates(self, spec, fast_track, *, distinct_apart: bool = False):
        """Per-lead aggregates, the SQL of every feature, and the fast-track flags.

        Every feature's SQL comes from its kind (:mod:`calibrate.sheet.kinds`),
        over the columns ``calibrate_type``, ``calibrate_age`` and
        ``calibrate_detail`` of one row per activity that counts. The
        aggregates are columns ``f<i>`` of a table ``g``. A count of distinct
        values is one of them (in Spark the size of the set of values, which
        Spark aggregates without copying rows), unless ``distinct_apart``: it is then a query
        of its own (``SELECT DISTINCT`` key and value, counted per key), a
        table ``d<i>`` with columns ``calibrate_key`` and ``n``, returned in
        the fourth item as ``(name, query)`` to be joined on the key.
        """
        from sqlglot import exp

        from .kinds import DistinctCount, SqlColumns, kind_of

        columns = SqlColumns(spec.known_types)

        def g(i):
            return exp.column(f"f{i}", "g")

        aggregates, values, flags, apart = [], {}, [], []
        for i, feature in enumerate(spec.features):
            part = kind_of(feature.kind).sql(feature, columns)
            if not isinstance(part, DistinctCount):
                aggregates.append(exp.alias_(part.expression, f"f{i}"))
                values[feature.name] = part.value(g(i))
            elif distinct_apart:
                key = exp.column("calibrate_key")
                pairs = (
                    exp.select(key.copy(), exp.alias_(part.value, "v"))
                    .distinct()
                    .from_("calibrate_acts")
                    .where(
                        exp.and_(
                            part.condition,
                            exp.Not(this=exp.Is(this=part.value.copy(), expression=exp.null())),
                        )
                    )
                )
                apart.append(
                    (
                        f"d{i}",
                        exp.select(key.copy(), exp.alias_(exp.Count(this=exp.Star()), "n"))
                        .from_(pairs.subquery())
                        .group_by(key.copy()),
                    )
                )
                values[feature.name] = self.double(
                    exp.Coalesce(
                        this=exp.column("n", f"d{i}"), expressions=[exp.Literal.number(0)]
                    )
                )
            else:
                distinct = exp.Case().when(part.condition, part.value)
                count = exp.Count(this=exp.Distinct(expressions=[distinct]))
                if self.dialect == "spark":
                    # Spark turns several COUNT(DISTINCT) into one Expand that copies
                    # every activity once per distinct count (8 times the rows
                    # shuffled); a set per lead is an ordinary aggregate.
                    count = exp.ArraySize(this=exp.ArrayUniqueAgg(this=distinct))
                aggregates.append(exp.alias_(count, f"f{i}"))
                values[feature.name] = self.double(
                    exp.Coalesce(this=g(i), expressions=[exp.Literal.number(0)])
                )
        for j, feature in enumerate(fast_track):
            i = len(spec.features) + j
            recent = exp.and_(
                columns.of_types(feature.types),
                exp.LT(this=columns.age.copy(), expression=self.number(feature.kernel.days)),
            )
            aggregates.append(
                exp.alias_(
                    exp.Max(
                        this=exp.Case()
                        .when(recent, exp.Literal.number(1))
                        .else_(exp.Literal.number(0))
                    ),
                    f"f{i}",
                )
            )
            flags.append(exp.Coalesce(this=g(i), expressions=[exp.Literal.number(0)]))
        return aggregates, values, flags, apart

    # -- points ---------------------------------------------------------------
    def points(self, criterion, value, values=None):
        """Points a criterion gives, from its prepared lead column or computed feature.

        ``value`` is a double for numeric criteria, trimmed text for
        categorical ones, lower-cased trimmed text (or a computed boolean) for
        boolean ones. ``values``, one SQL expression per band, gives those
        instead of the bands' points (a reason's text, for instance).
        """
        from sqlglot import exp

        bands = criterion.bands
        given = values if values is not None else [exp.Literal.number(b.points) for b in bands]
        place = {id(b): k for k, b in enumerate(bands)}

        def of(band):
            return given[place[id(band)]].copy()

        missing = of(bands[criterion.missing_index])
        if criterion.kind == "numeric":
            ranges = [b for b in bands if b.kind == "range"]
            case = exp.Case().when(exp.Is(this=value.copy(), expression=exp.null()), missing)
            for band, above in zip(ranges[:-1], ranges[1:], strict=True):
                case = case.when(
                    exp.LT(this=value.copy(), expression=self.number(above.lower)),
                    of(band),
                )
            return case.else_(of(ranges[-1]))
        other = next((b for b in bands if b.kind == "other"), bands[criterion.missing_index])
        if isinstance(value, exp.EQ):  # a computed boolean (all_of): never missing
            yes = next((b for b in bands if "true" in b.values), other)
            no = next((b for b in bands if "false" in b.values), other)
            return exp.Case().when(value, of(yes)).else_(of(no))
        # Values stored as the config lists them match at once; only the rest
        # (padded, upper-case, missing tokens, unseen) are trimmed and lowered.
        case = exp.Case().when(exp.Is(this=value.copy(), expression=exp.null()), missing)
        trimmed = self.trim(value.copy())
        lowered = exp.Lower(this=trimmed.copy())
        if criterion.kind == "boolean":
            answers = []
            for tokens, word in ((TRUE_TOKENS, "true"), (FALSE_TOKENS, "false")):
                band = next((b for b in bands if word in b.values), other)
                answers.append((tokens, of(band)))
            for tokens, points in answers:
                case = case.when(self.in_tokens(value.copy(), tokens), points)
            case = case.when(self.in_tokens(lowered.copy(), MISSING_TOKENS), missing)
            for tokens, points in answers:
                case = case.when(self.in_tokens(lowered.copy(), tokens), points.copy())
            return case  # neither true nor false: NULL, as the Python scorer refuses it
        listed = [
            # A value the scorer could never see (a missing token, padded) is left out.
            (
                band,
                [
                    v
                    for v in band.values
                    if v.lower() not in MISSING_TOKENS and v == v.strip(WHITESPACE)
                ],
            )
            for band in bands
            if band.kind == "levels"
        ]
        for band, values in listed:
            if values:
                case = case.when(
                    exp.In(this=value.copy(), expressions=[exp.Literal.string(v) for v in values]),
                    of(band),
                )
        case = case.when(self.in_tokens(lowered, MISSING_TOKENS), missing)
        for band, values in listed:
            if values:
                case = case.when(
                    exp.In(
                        this=trimmed.copy(), expressions=[exp.Literal.string(v) for v in values]
                    ),
                    of(band),
                )
        return case.else_(of(other))


def activity_sql(
    spec: ActivitySpec,
    *,
    leads: str,
    activities: str,
    lead_id: str = "lead_id",
    decision_time: str = "decided_at",
) -> str:
    """One SQL query computing every behaviour feature of every lead.

    Parameters
    ----------
    spec : ActivitySpec
        The features.
    leads : str
        Table (or view) with one row per lead.
    activities : str
        Table or view with columns ``lead_id``, ``activity_type`` (re-typed),
        ``occurred_at`` (UTC, whole seconds) and ``detail``.
    lead_id, decision_time : str
        Columns of ``leads``: the id (text) and the decision time (UTC).

    Returns
    -------
    str
        DuckDB SQL returning ``lead_id`` and one column per feature, one row
        per lead of ``leads``; leads without activity get counts of 0.
    """
    from sqlglot import exp

    def column(name, table=None):
        return exp.column(str(name), table, quoted=True)

    leads_cte = exp.select(
        exp.alias_(exp.cast(column(lead_id), "VARCHAR"), "lead_id"),
        exp.alias_(exp.cast(column(decision_time), "TIMESTAMP"), "decision_time"),
        exp.alias_(exp.Window(this=exp.RowNumber()), "calibrate_order"),
    ).from_(exp.to_table(leads, dialect="duckdb"))
    age_s = exp.Paren(
        this=exp.Sub(
            this=exp.TimeToUnix(this=exp.column("decision_time", "l")),
            expression=exp.TimeToUnix(this=exp.column("occurred_at", "a")),
        )
    )
    age = exp.Floor(
        this=exp.Div(this=age_s.copy(), expression=exp.Literal.number(f"{SECONDS_PER_DAY}.0"))
    )
    horizon = exp.Literal.number(spec.lookback_days * SECONDS_PER_DAY)
    acts = (
        exp.select(
            exp.alias_(exp.column("lead_id", "a"), "calibrate_key"),
            exp.alias_(exp.column("activity_type", "a"), "calibrate_type"),
            exp.alias_(exp.column("detail", "a"), "calibrate_detail"),
            exp.alias_(age, "calibrate_age"),
        )
        .from_(exp.to_table(activities, dialect="duckdb").as_("a"))
        .join(
            exp.to_table("calibrate_leads").as_("l"),
            on=exp.EQ(this=exp.column("lead_id", "a"), expression=exp.column("lead_id", "l")),
        )
        .where(
            exp.and_(
                exp.GT(this=age_s.copy(), expression=exp.Literal.number(0)),
                exp.LTE(this=age_s.copy(), expression=horizon),
            )
        )
    )
    # The SQL export's aggregates, in DuckDB; each distinct count apart, from
    # its own SELECT DISTINCT (faster on large logs).
    aggregates, values, _, apart = SqlBuilder("duckdb").aggregates(spec, (), distinct_apart=True)
    key = exp.column("calibrate_key")
    by_lead = (
        exp.select(key.copy(), *(aggregates or [exp.alias_(exp.Literal.number(0), "f")]))
        .from_("calibrate_acts")
        .group_by(key.copy())
    )
    query = exp.select(
        exp.column("lead_id", "l"),
        *(exp.alias_(values[f.name], f.name, quoted=True) for f in spec.features),
    ).from_(exp.to_table("calibrate_leads").as_("l"))
    for name in ["g", *(name for name, _ in apart)]:
        query = query.join(
            exp.to_table(name),
            on=exp.EQ(
                this=exp.column("calibrate_key", name), expression=exp.column("lead_id", "l")
            ),
            join_type="left",
        )
    query = query.order_by(exp.column("calibrate_order", "l"))
    ctes = [("calibrate_leads", leads_cte), ("calibrate_acts", acts), ("g", by_lead), *apart]
    for name, cte in ctes:
        query = query.with_(name, as_=cte)
    return query.sql(dialect="duckdb")
