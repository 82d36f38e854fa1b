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

__all__ = ["LogQueries", "SqlBuilder", "activity_sql"]


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
    order: str | None = None,
    dialect: str = "duckdb",
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
    order : str, optional
        Column of ``leads`` giving the order of the rows returned; by default
        the order of ``leads`` as read (which only DuckDB keeps).
    dialect : str, default="duckdb"
        The engine the query runs in: duckdb, postgres or spark.

    Returns
    -------
    str
        SQL returning ``lead_id`` and one column per feature, one row per lead
        of ``leads``; leads without activity get counts of 0.
    """
    from sqlglot import exp

    log = LogQueries(
        dialect,
        spec.lookback_days,
        leads=leads,
        activities=activities,
        lead_id=lead_id,
        decision_time=decision_time,
        order=order,
    )
    # In DuckDB each distinct count is a query of its own, from its own
    # SELECT DISTINCT (faster on large logs).
    aggregates, values, _, apart = SqlBuilder(dialect).aggregates(
        spec, (), distinct_apart=dialect == "duckdb"
    )
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
    ctes = [("calibrate_leads", log.leads()), ("calibrate_acts", log.acts()), ("g", by_lead)]
    for name, cte in ctes + apart:
        query = query.with_(name, as_=cte)
    return query.sql(dialect=dialect)


class LogQueries:
    """The queries a fit asks of an activity log, in one engine's dialect.

    They read two tables of the engine: the log, already checked and
    re-typed (columns ``lead_id``, ``activity_type``, ``occurred_at`` as a UTC
    timestamp in whole seconds, and ``detail``: see
    :func:`calibrate.io.activities.read_activities`), and the leads (an id as
    text, a decision time and, optionally, an order column). Every query
    counts an activity for a lead when it is strictly before the lead's
    decision time and at most ``lookback_days`` before it, with its age in
    whole days, exactly as :func:`calibrate.sheet.activity.aggregate_frame`
    does: the same features whether DuckDB, PostgreSQL or Spark runs them.

    Parameters
    ----------
    dialect : str
        duckdb, postgres or spark.
    lookback_days : int
        Activities older than this at the decision time do not count.
    leads, activities : str
        The two tables.
    lead_id, decision_time : str
        Columns of ``leads``.
    order : str, optional
        Column of ``leads`` with each lead's position; by default its row
        number as read.
    """

    def __init__(
        self,
        dialect: str,
        lookback_days: int,
        *,
        leads: str = "calibrate_leads_frame",
        activities: str = "calibrate_activities",
        lead_id: str = "lead_id",
        decision_time: str = "decision_time",
        order: str | None = "calibrate_order",
    ):
        self.dialect = dialect
        self.lookback_days = lookback_days
        self.leads_table = leads
        self.activities_table = activities
        self.lead_id = lead_id
        self.decision_time = decision_time
        self.order = order

    def leads(self):
        """The leads: ``lead_id`` (text), ``decision_time`` and ``calibrate_order``."""
        from sqlglot import exp

        sql = SqlBuilder(self.dialect)
        position = (
            exp.Window(this=exp.RowNumber())
            if self.order is None
            else exp.column(self.order, quoted=True)
        )
        return exp.select(
            exp.alias_(sql.text(exp.column(self.lead_id, quoted=True)), "lead_id"),
            exp.alias_(
                exp.cast(exp.column(self.decision_time, quoted=True), "TIMESTAMP"),
                "decision_time",
            ),
            exp.alias_(position, "calibrate_order"),
        ).from_(exp.to_table(self.leads_table, dialect=self.dialect))

    def age_seconds(self):
        """Seconds from an activity (``a``) to its lead's decision (``l``)."""
        from sqlglot import exp

        sql = SqlBuilder(self.dialect)
        return exp.Paren(
            this=exp.Sub(
                this=sql.epoch(exp.column("decision_time", "l")),
                expression=sql.epoch(exp.column("occurred_at", "a")),
            )
        )

    def joined(self):
        """The log (``a``) joined to the leads (``l``, the CTE ``calibrate_leads``) by id."""
        from sqlglot import exp

        return (
            exp.select()
            .from_(exp.to_table(self.activities_table, dialect=self.dialect).as_("a"))
            .join(
                exp.to_table("calibrate_leads").as_("l"),
                on=exp.EQ(this=exp.column("lead_id", "a"), expression=exp.column("lead_id", "l")),
            )
        )

    def counted(self):
        """Condition: the activity counts (before the decision, within the look-back)."""
        from sqlglot import exp

        horizon = exp.Literal.number(self.lookback_days * SECONDS_PER_DAY)
        return exp.and_(
            exp.GT(this=self.age_seconds(), expression=exp.Literal.number(0)),
            exp.LTE(this=self.age_seconds(), expression=horizon),
        )

    def age_days(self):
        """Whole days from the activity to the decision."""
        from sqlglot import exp

        sql = SqlBuilder(self.dialect)
        return exp.Floor(
            this=exp.Div(
                this=sql.double(self.age_seconds()),
                expression=sql.double(exp.Literal.number(SECONDS_PER_DAY)),
            )
        )

    def acts(self):
        """Every activity that counts: ``calibrate_key``, ``_type``, ``_detail``, ``_age``."""
        from sqlglot import exp

        return (
            self.joined()
            .select(
                exp.alias_(exp.column("lead_id", "l"), "calibrate_key"),
                exp.alias_(exp.column("activity_type", "a"), "calibrate_type"),
                exp.alias_(exp.column("detail", "a"), "calibrate_detail"),
                exp.alias_(self.age_days(), "calibrate_age"),
            )
            .where(self.counted())
        )

    def _with_leads(self, query) -> str:
        return query.with_("calibrate_leads", as_=self.leads()).sql(dialect=self.dialect)

    def type_counts(self) -> str:
        """Per activity type of these leads: activities counted, on or after the decision, older.

        Rows ``(activity_type, counted, after, older)`` in type order.
        """
        from sqlglot import exp

        horizon = exp.Literal.number(self.lookback_days * SECONDS_PER_DAY)
        after = exp.LTE(this=self.age_seconds(), expression=exp.Literal.number(0))
        older = exp.GT(this=self.age_seconds(), expression=horizon)
        kind = exp.column("activity_type", "a")
        query = (
            self.joined()
            .select(
                kind.copy(),
                *(
                    _count_where(c, n)
                    for c, n in ((self.counted(), "n"), (after, "after"), (older, "older"))
                ),
            )  # fmt: skip
            .group_by(kind.copy())
            .order_by(kind.copy())
        )
        return self._with_leads(query)

    def age_counts(self, types) -> str:
        """The half-life search's statistic: activities per lead position, type and age in days.

        Rows ``(position, type, age, n)`` of the activities that count, in
        ``type`` order, all integers (12 bytes a row): ``type`` is the
        position of the activity type in ``types`` (activities of other
        types are left out). A decayed count
        of any kernel is a weighted sum of them, and there is at most one
        row per lead, type and day of the look-back, however long the log.
        """
        from sqlglot import exp

        kind = exp.column("activity_type", "a")
        code = exp.Case()
        for i, name in enumerate(types):
            code = code.when(
                exp.EQ(this=kind.copy(), expression=exp.Literal.string(name)),
                exp.Literal.number(i),
            )
        keys = [exp.column("calibrate_order", "l"), code, self.age_days()]
        wanted = exp.In(this=kind.copy(), expressions=[exp.Literal.string(t) for t in types])

        def integer(value, kind):
            return exp.cast(value, kind)

        query = (
            self.joined()
            .select(
                exp.alias_(integer(keys[0].copy(), exp.DataType.Type.INT), "position"),
                exp.alias_(integer(keys[1].copy(), exp.DataType.Type.SMALLINT), "type"),
                exp.alias_(integer(keys[2].copy(), exp.DataType.Type.SMALLINT), "age"),
                exp.alias_(integer(exp.Count(this=exp.Star()), exp.DataType.Type.INT), "n"),
            )
            .where(exp.and_(self.counted(), wanted))
            .group_by(*(k.copy() for k in keys))
            # In type order, so that each type's rows are one slice of the result.
            .order_by(exp.column("type"))
        )
        return self._with_leads(query)

    def timing(self) -> str:
        """One row: activities of unknown leads, their ids, on or after the decision, too old."""
        from sqlglot import exp

        lead = exp.column("lead_id", "l")
        unknown = exp.Is(this=lead.copy(), expression=exp.null())
        known = exp.Not(this=unknown.copy())
        horizon = exp.Literal.number(self.lookback_days * SECONDS_PER_DAY)
        after = exp.and_(
            known.copy(), exp.LTE(this=self.age_seconds(), expression=exp.Literal.number(0))
        )
        older = exp.and_(known.copy(), exp.GT(this=self.age_seconds(), expression=horizon))
        ids = exp.Count(
            this=exp.Distinct(
                expressions=[exp.Case().when(unknown.copy(), exp.column("lead_id", "a"))]
            )
        )
        query = (
            exp.select(
                _count_where(unknown, "unknown"),
                exp.alias_(ids, "unknown_ids"),
                _count_where(after, "after"),
                _count_where(older, "older"),
            )
            .from_(exp.to_table(self.activities_table, dialect=self.dialect).as_("a"))
            .join(
                exp.to_table("calibrate_leads").as_("l"),
                on=exp.EQ(this=exp.column("lead_id", "a"), expression=lead.copy()),
                join_type="left",
            )
        )
        return self._with_leads(query)

    def unknown_ids(self, limit: int) -> str:
        """The first ``limit`` ids of the log (in text order) that are not among the leads."""
        from sqlglot import exp

        query = (
            exp.select(exp.column("lead_id", "a"))
            .distinct()
            .from_(exp.to_table(self.activities_table, dialect=self.dialect).as_("a"))
            .join(
                exp.to_table("calibrate_leads").as_("l"),
                on=exp.EQ(this=exp.column("lead_id", "a"), expression=exp.column("lead_id", "l")),
                join_type="left",
            )
            .where(exp.Is(this=exp.column("lead_id", "l"), expression=exp.null()))
            .order_by(exp.column("lead_id", "a"))
            .limit(limit)
        )
        return self._with_leads(query)

    def first_ids(self, table: str, limit: int) -> str:
        """The first ``limit`` ids (in text order) of the leads or of the log."""
        from sqlglot import exp

        source = "calibrate_leads" if table == "leads" else self.activities_table
        query = (
            exp.select(exp.column("lead_id"))
            .distinct()
            .from_(exp.to_table(source, dialect=self.dialect))
            .order_by(exp.column("lead_id"))
            .limit(limit)
        )
        return self._with_leads(query)

    def spans(self, limit: int) -> str:
        """Per lead (the first ``limit`` by id): its decision time, its first and last activity."""
        from sqlglot import exp

        lead, decided = exp.column("lead_id", "l"), exp.column("decision_time", "l")
        when = exp.column("occurred_at", "a")
        query = (
            self.joined()
            .select(
                lead.copy(),
                decided.copy(),
                exp.Min(this=when.copy()),
                exp.Max(this=when.copy()),
            )
            .group_by(lead.copy(), decided.copy())
            .order_by(lead.copy())
            .limit(limit)
        )
        return self._with_leads(query)


def _count_where(condition, name: str):
    """``SUM(CASE WHEN condition THEN 1 ELSE 0 END) AS name``: a count every engine reads."""
    from sqlglot import exp

    case = exp.Case().when(condition, exp.Literal.number(1)).else_(exp.Literal.number(0))
    return exp.alias_(exp.Coalesce(this=exp.Sum(this=case), expressions=[exp.Literal.number(0)]),
                      name)  # fmt: skip
