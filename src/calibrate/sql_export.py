"""SQL export: the scoring config as one SQL query, for warehouses and Spark.

:func:`scoring_sql` turns a :class:`~calibrate.ScoringConfig` into a single
``SELECT`` that returns, per lead, the id, every criterion's points
(``points_<criterion>``), ``score``, ``level`` (when the config has levels)
and ``mql``: the same columns and values as ``calibrate score --breakdown``.
The query is built as a sqlglot syntax tree and rendered for the dialect, so
every name and value taken from the data (column names, category levels,
activity types, detail patterns, level names) is a quoted identifier or a
string literal: a value holding quotes, semicolons or comment markers stays
a value.

How each step matches the Python scorer (:func:`calibrate.score_leads`):

- **Category and boolean values** are compared as text after stripping ASCII
  whitespace (the characters of :data:`calibrate._criteria.WHITESPACE`);
  empty text and the usual missing-value tokens (``NA``, ``null``, ``-``...)
  are missing. A boolean value that is none of the true/false tokens makes
  the lead's score NULL (the Python scorer refuses it).
- **Numbers** are cast to double precision and compared with band edges
  written as exact decimal text, so an edge is the same double everywhere.
- **Lead ids** of the lead table and of the activity log are matched as
  text stripped of the same whitespace (ids stored as integers or text; the
  Python scorer also writes whole-number floats as integers, which a query
  cannot know to do).
- **Activity** counts only strictly before each lead's decision time (or the
  as-of time) and at most the config's look-back before it. Ages are whole
  days of whole-second differences; decayed weights are
  ``FLOOR(1000 * 2^(-age / h) + 0.5)`` summed as integers and divided by
  1000, as the pandas evaluator does.
- **Timestamps** are read as the engine stores them: a timestamp with a time
  zone is an instant; one without a zone is read as UTC (in Spark, set
  ``spark.sql.session.timeZone`` to ``UTC``).

The query needs typed warehouse columns: numbers as numeric types, dates and
timestamps as date or timestamp types (BigQuery: ``TIMESTAMP``), categories
as text or integers.
"""

from __future__ import annotations

import pandas as pd

from ._activity import SECONDS_PER_DAY, detail_rules_sql, fast_track_feature
from ._criteria import FALSE_TOKENS, MISSING_TOKENS, TRUE_TOKENS, WHITESPACE
from .errors import ParameterError

__all__ = ["DIALECTS", "scoring_sql"]

#: Dialects the export is rendered and documented for.
DIALECTS = ("duckdb", "postgres", "spark", "snowflake", "bigquery")


def scoring_sql(
    config,
    *,
    dialect: str = "duckdb",
    leads_table: str,
    activities_table: str | None = None,
    as_of=None,
    id_column: str | None = None,
    pretty: bool = True,
) -> str:
    """One SQL query scoring every lead of a table as the config does.

    Parameters
    ----------
    config : ScoringConfig
        The scoring config.
    dialect : {"duckdb", "postgres", "spark", "snowflake", "bigquery"}
        SQL dialect to write.
    leads_table : str
        The lead table, written as in the dialect (``analytics.leads``,
        ``"My Leads"``); it needs the config's id column and every column its
        criteria read.
    activities_table : str, optional
        The activity log table, with the columns the config names; needed
        when the config scores behaviour.
    as_of : str or datetime, optional
        Score behaviour as of this moment (UTC unless it names a zone), as
        ``calibrate score --as-of`` does; ``"now"`` is the engine's current
        time when the query runs. By default each lead's decision time from
        the config's decision column.
    id_column : str, optional
        The lead id column, for a config that has none.
    pretty : bool, default=True
        Indent the query over several lines.

    Returns
    -------
    str
        The query, preceded by a comment naming the config's checksum.

    Raises
    ------
    ParameterError
        For an unknown dialect, an empty table name, a config without an id
        column (and no ``id_column``), a behaviour config without
        ``activities_table``, or an as-of time that is not a timestamp.
    ConfigError
        When the config's scale or points are out of bounds (see
        :meth:`~calibrate.export.ScoringConfig.check_bounds`).

    Examples
    --------
    >>> from calibrate._criteria import Band, Criterion
    >>> from calibrate import ScoringConfig
    >>> title = Criterion("title", "title", "categorical", "explicit", bands=(
    ...     Band("VP", "levels", values=("VP",), points=30),
    ...     Band("Other", "other", points=0), Band("Missing", "missing", points=0)))
    >>> config = ScoringConfig(criteria=(title,), base_points=10, id_column="id",
    ...     threshold={"mql": 40, "policy": {"name": "manual"}})
    >>> sql = scoring_sql(config, leads_table="leads", pretty=False)
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE leads AS SELECT * FROM (VALUES (1, 'VP'), (2, ' CEO'))"
    ...                 " AS t(id, title)")
    >>> con.execute(sql.split(chr(10), 1)[1] + " ORDER BY 1").fetchall()
    [(1, 30, 40, True), (2, 0, 10, False)]
    """
    from sqlglot import exp

    config.check_bounds()
    if dialect not in DIALECTS:
        raise ParameterError(f"dialect must be one of {', '.join(DIALECTS)}; got {dialect!r}")
    id_name = id_column if id_column is not None else config.id_column
    if id_name is None:
        raise ParameterError(
            "the config has no id column, so the scores could not be joined back to the "
            "leads: name the lead id column (--id COLUMN)"
        )
    builder = _Builder(dialect)
    spec = config.activity_spec
    if spec is not None and activities_table is None:
        raise ParameterError(
            "this config scores behaviour from an activity log: give the activity table "
            "(--activities-table TABLE)"
        )
    leads = builder.table(leads_table, "leads table")
    rules = config.threshold.get("fast_track", [])
    features = {f.name: f for f in spec.features} if spec is not None else {}

    # 1. The lead columns the sheet reads, prepared once under internal names:
    #    numbers as doubles, categories and booleans as text.
    prepared: dict[tuple[str, str], str] = {}
    forms = {"numeric": "number", "categorical": "text", "boolean": "text"}
    for criterion in config.criteria:
        if criterion.column not in features:
            key = (criterion.column, forms[criterion.kind])
            prepared.setdefault(key, f"c{len(prepared)}")
    for rule in rules:
        if rule["kind"] == "column":
            prepared.setdefault((rule["column"], "lower"), f"c{len(prepared)}")
    select = [exp.alias_(builder.column(id_name), "calibrate_id")]
    select += [
        exp.alias_(builder.prepare(builder.column(column), form), alias)
        for (column, form), alias in prepared.items()
    ]
    ctes = []
    feature_sql = {}
    fast_flags = []
    if spec is not None:
        select.append(
            exp.alias_(builder.trim(builder.text(builder.column(id_name))), "calibrate_key")
        )
        select.append(exp.alias_(builder.decision_epoch(config, as_of), "calibrate_t"))
        ctes.append(("calibrate_leads", exp.select(*select).from_(leads)))
        acts = builder.table(activities_table, "activities table")
        ctes.append(("calibrate_acts", builder.activities(spec, acts)))
        tracked = [r for r in rules if r["kind"] == "activity"]
        extra = [fast_track_feature(r["activity_type"], r["within_days"]) for r in tracked]
        aggregates, feature_sql, fast_flags, _ = builder.aggregates(spec, extra)
        ctes.append(
            (
                "calibrate_behaviour",
                exp.select(exp.column("calibrate_key"), *aggregates)
                .from_("calibrate_acts")
                .group_by(exp.column("calibrate_key")),
            )
        )
        source = exp.select().from_(exp.to_table("calibrate_leads").as_("l"))
        source = source.join(
            exp.to_table("calibrate_behaviour").as_("g"),
            on=exp.EQ(
                this=exp.column("calibrate_key", "l"), expression=exp.column("calibrate_key", "g")
            ),
            join_type="left",
        )
    else:
        ctes.append(("calibrate_leads", exp.select(*select).from_(leads)))
        source = exp.select().from_(exp.to_table("calibrate_leads").as_("l"))

    # 2. Points of every criterion, and the fast-track flag.
    points = []
    for i, criterion in enumerate(config.criteria):
        if criterion.column in features:
            value = feature_sql[criterion.column]
        else:
            value = exp.column(prepared[(criterion.column, forms[criterion.kind])], "l")
        points.append(exp.alias_(builder.points(criterion, value), f"p{i}"))
    fast = [exp.EQ(this=flag, expression=exp.Literal.number(1)) for flag in fast_flags]
    for rule in rules:
        if rule["kind"] == "column":
            value = exp.column(prepared[(rule["column"], "lower")], "l")
            tokens = TRUE_TOKENS if rule["equals"] == "true" else FALSE_TOKENS
            fast.append(builder.in_tokens(value, tokens))
    fast_sql = (
        exp.Coalesce(this=exp.or_(*fast), expressions=[exp.false()]) if fast else exp.false()
    )
    ctes.append(
        (
            "calibrate_points",
            source.select(
                exp.column("calibrate_id", "l"), *points, exp.alias_(fast_sql, "calibrate_fast")
            ),
        )
    )

    # 3. The score, clipped to the scale.
    total = exp.Literal.number(config.base_points)
    for i in range(len(config.criteria)):
        total = exp.Add(this=total, expression=exp.column(f"p{i}"))
    low, high = exp.Literal.number(config.min_score), exp.Literal.number(config.max_score)
    clipped = (
        exp.Case()
        .when(exp.LT(this=total, expression=low), low)
        .when(exp.GT(this=total.copy(), expression=high), high)
        .else_(total.copy())
    )
    ctes.append(
        (
            "calibrate_scores",
            exp.select(
                "calibrate_id",
                *(f"p{i}" for i in range(len(config.criteria))),
                "calibrate_fast",
                exp.alias_(clipped, "calibrate_score"),
            ).from_("calibrate_points"),
        )
    )

    # 4. The output: the same columns as `calibrate score --breakdown`.
    score = exp.column("calibrate_score")
    out = [exp.alias_(exp.column("calibrate_id"), id_name, quoted=True)]
    out += [
        exp.alias_(exp.column(f"p{i}"), f"points_{c.name}", quoted=True)
        for i, c in enumerate(config.criteria)
    ]
    out.append(exp.alias_(score.copy(), "score", quoted=True))
    levels = config.threshold.get("levels")
    if levels:
        case = exp.Case()
        for level in levels:
            case = case.when(
                exp.GTE(this=score.copy(), expression=exp.Literal.number(level["min_score"])),
                exp.Literal.string(level["name"]),
            )
        out.append(exp.alias_(case, "level", quoted=True))
    mql = exp.or_(
        exp.GTE(this=score.copy(), expression=exp.Literal.number(config.mql_threshold)),
        exp.column("calibrate_fast"),
    )
    out.append(exp.alias_(mql, "mql", quoted=True))
    query = exp.select(*out).from_("calibrate_scores")
    for name, cte in ctes:
        query = query.with_(name, as_=cte, **_inlined(name, dialect))
    body = query.sql(dialect=dialect, pretty=pretty)
    header = (
        f"-- calibrate scoring query ({dialect}) for config {config.to_dict()['checksum']}, "
        f"threshold {config.mql_threshold}"
    )
    return f"{header}\n{body}\n"


class _Builder:
    """Syntax-tree pieces of the scoring query, for one dialect."""

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

        Every feature's SQL comes from its kind (:mod:`calibrate.activity_kinds`),
        over the columns ``calibrate_type``, ``calibrate_age`` and
        ``calibrate_detail`` of one row per activity that counts. The
        aggregates are columns ``f<i>`` of a table ``g``. A count of distinct
        values is one of them, unless ``distinct_apart``: it is then a query
        of its own (``SELECT DISTINCT`` key and value, counted per key), a
        table ``d<i>`` with columns ``calibrate_key`` and ``n``, returned in
        the fourth item as ``(name, query)`` to be joined on the key.
        """
        from sqlglot import exp

        from .activity_kinds import DistinctCount, SqlColumns, kind_of

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
                aggregates.append(
                    exp.alias_(exp.Count(this=exp.Distinct(expressions=[distinct])), f"f{i}")
                )
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
    def points(self, criterion, value):
        """Points a criterion gives, from its prepared lead column or computed feature.

        ``value`` is a double for numeric criteria, trimmed text for
        categorical ones, lower-cased trimmed text (or a computed boolean) for
        boolean ones.
        """
        from sqlglot import exp

        bands = criterion.bands
        missing = exp.Literal.number(bands[criterion.missing_index].points)
        if criterion.kind == "numeric":
            ranges = [b for b in bands if b.kind == "range"]
            case = exp.Case().when(exp.Is(this=value.copy(), expression=exp.null()), missing)
            for band, above in zip(ranges[:-1], ranges[1:], strict=True):
                case = case.when(
                    exp.LT(this=value.copy(), expression=self.number(above.lower)),
                    exp.Literal.number(band.points),
                )
            return case.else_(exp.Literal.number(ranges[-1].points))
        other = next((b for b in bands if b.kind == "other"), bands[criterion.missing_index])
        if isinstance(value, exp.EQ):  # a computed boolean (all_of): never missing
            yes = next((b for b in bands if "true" in b.values), other)
            no = next((b for b in bands if "false" in b.values), other)
            return (
                exp.Case()
                .when(value, exp.Literal.number(yes.points))
                .else_(exp.Literal.number(no.points))
            )
        # Values stored as the config lists them match at once; only the rest
        # (padded, upper-case, missing tokens, unseen) are trimmed and lowered.
        case = exp.Case().when(exp.Is(this=value.copy(), expression=exp.null()), missing)
        trimmed = self.trim(value.copy())
        lowered = exp.Lower(this=trimmed.copy())
        if criterion.kind == "boolean":
            answers = []
            for tokens, word in ((TRUE_TOKENS, "true"), (FALSE_TOKENS, "false")):
                band = next((b for b in bands if word in b.values), other)
                answers.append((tokens, exp.Literal.number(band.points)))
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
                    exp.Literal.number(band.points),
                )
        case = case.when(self.in_tokens(lowered, MISSING_TOKENS), missing)
        for band, values in listed:
            if values:
                case = case.when(
                    exp.In(
                        this=trimmed.copy(), expressions=[exp.Literal.string(v) for v in values]
                    ),
                    exp.Literal.number(band.points),
                )
        return case.else_(exp.Literal.number(other.points))


def _inlined(name: str, dialect: str) -> dict:
    """PostgreSQL: the lead table's CTE is inlined, not materialized.

    PostgreSQL materializes a CTE read twice, and has no statistics on a
    materialized CTE's columns: it then guesses 200 distinct leads, and may
    join 100,000 leads to their behaviour by a nested loop (minutes instead
    of seconds). Inlined, the lead ids' statistics reach the planner.
    """
    return {"materialized": False} if dialect == "postgres" and name == "calibrate_leads" else {}

