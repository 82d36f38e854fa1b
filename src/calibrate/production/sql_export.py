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
  whitespace (the characters of :data:`calibrate.sheet.criteria.WHITESPACE`);
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

from ..errors import ParameterError
from ..sheet.activity import fast_track_feature
from ..sheet.criteria import FALSE_TOKENS, TRUE_TOKENS
from ..sheet.pairs import PairCriterion
from ..sheet.sql import SqlBuilder
from .reasons import band_reasons, check_reasons

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
    reasons: int = 0,
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
    reasons : int, default=0
        Also return ``reason_1`` .. ``reason_<reasons>``: each lead's largest
        contributions in words, the same text and order as
        ``score_leads(..., reasons=N)`` (see :mod:`calibrate.production.reasons`).

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
        :meth:`~calibrate.production.config.ScoringConfig.check_bounds`).

    Examples
    --------
    >>> from calibrate.sheet.criteria import Band, Criterion
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
    config.check_bounds()
    if dialect not in DIALECTS:
        raise ParameterError(f"dialect must be one of {', '.join(DIALECTS)}; got {dialect!r}")
    id_name = id_column if id_column is not None else config.id_column
    if id_name is None:
        raise ParameterError(
            "the config has no id column, so the scores could not be joined back to the "
            "leads: name the lead id column (--id COLUMN)"
        )
    reasons = check_reasons(reasons)
    builder = SqlBuilder(dialect)
    if config.activity_spec is not None and activities_table is None:
        raise ParameterError(
            "this config scores behaviour from an activity log: give the activity table "
            "(--activities-table TABLE)"
        )
    query = _Query(config, builder, id_name, reasons)
    query.read_leads(builder.table(leads_table, "leads table"), activities_table, as_of)
    query.add_points()
    query.add_score()
    body = query.output().sql(dialect=dialect, pretty=pretty)
    header = (
        f"-- calibrate scoring query ({dialect}) for config {config.to_dict()['checksum']}, "
        f"threshold {config.mql_threshold}"
    )
    if dialect == "postgres":
        header += f"\n{POSTGRES_JIT_NOTE}"
    return f"{header}\n{body}\n"


#: The query is wide (a CASE per band of every criterion): PostgreSQL's JIT
#: spends far longer compiling it than running it, e.g. 47 s against 1.2 s
#: for 5,000 leads of the exactness test's config.
POSTGRES_JIT_NOTE = (
    "-- PostgreSQL: run it with JIT off (SET jit = off): compiling this wide query takes "
    "longer than running it"
)


#: How a criterion's column is prepared, by the criterion's kind.
_FORMS = {"numeric": "number", "categorical": "text", "boolean": "text"}


class _Query:
    """The scoring query, built as its common table expressions in order.

    ``calibrate_leads`` (the columns the sheet reads, prepared once), then
    with behaviour ``calibrate_acts`` and ``calibrate_behaviour``, then
    ``calibrate_points`` (each criterion's points and the fast-track flag),
    ``calibrate_scores`` (the score, clipped to the scale) and the output.
    """

    def __init__(self, config, builder: SqlBuilder, id_name: str, reasons: int = 0):
        self.config = config
        self.reasons = reasons
        self.builder = builder
        self.id_name = id_name
        self.rules = config.threshold.get("fast_track", [])
        self.spec = spec = config.activity_spec
        self.features = {f.name: f for f in spec.features} if spec is not None else {}
        self.ctes = []
        self.feature_sql = {}
        self.fast_flags = []
        # The lead columns the sheet reads, under internal names: numbers as
        # doubles, categories and booleans as text.
        self.prepared: dict[tuple[str, str], str] = {}
        for criterion in _read_criteria(config):
            if criterion.column not in self.features:
                key = (criterion.column, _FORMS[criterion.kind])
                self.prepared.setdefault(key, f"c{len(self.prepared)}")
        for rule in self.rules:
            if rule["kind"] == "column":
                self.prepared.setdefault((rule["column"], "lower"), f"c{len(self.prepared)}")

    def read_leads(self, leads, activities_table, as_of) -> None:
        """1. The prepared lead columns, and with behaviour the aggregated log."""
        from sqlglot import exp

        builder, spec = self.builder, self.spec
        select = [exp.alias_(builder.column(self.id_name), "calibrate_id")]
        select += [
            exp.alias_(builder.prepare(builder.column(column), form), alias)
            for (column, form), alias in self.prepared.items()
        ]
        if spec is None:
            self.ctes.append(("calibrate_leads", exp.select(*select).from_(leads)))
            self.source = exp.select().from_(exp.to_table("calibrate_leads").as_("l"))
            return
        select.append(
            exp.alias_(builder.trim(builder.text(builder.column(self.id_name))), "calibrate_key")
        )
        select.append(exp.alias_(builder.decision_epoch(self.config, as_of), "calibrate_t"))
        self.ctes.append(("calibrate_leads", exp.select(*select).from_(leads)))
        acts = builder.table(activities_table, "activities table")
        self.ctes.append(("calibrate_acts", builder.activities(spec, acts)))
        tracked = [r for r in self.rules if r["kind"] == "activity"]
        extra = [fast_track_feature(r["activity_type"], r["within_days"]) for r in tracked]
        aggregates, self.feature_sql, self.fast_flags, _ = builder.aggregates(spec, extra)
        self.ctes.append(
            (
                "calibrate_behaviour",
                exp.select(exp.column("calibrate_key"), *aggregates)
                .from_("calibrate_acts")
                .group_by(exp.column("calibrate_key")),
            )
        )
        source = exp.select().from_(exp.to_table("calibrate_leads").as_("l"))
        self.source = source.join(
            exp.to_table("calibrate_behaviour").as_("g"),
            on=exp.EQ(
                this=exp.column("calibrate_key", "l"), expression=exp.column("calibrate_key", "g")
            ),
            join_type="left",
        )

    def add_points(self) -> None:
        """2. Points of every criterion, and the fast-track flag."""
        from sqlglot import exp

        points = []
        for i, criterion in enumerate(self.config.criteria):
            if isinstance(criterion, PairCriterion):
                sql = self._pair_points(criterion)
            else:
                sql = self.builder.points(criterion, self._value(criterion))
            points.append(exp.alias_(sql, f"p{i}"))
            if self.reasons:
                points.append(exp.alias_(self._reason(criterion), f"r{i}"))
        fast = [exp.EQ(this=flag, expression=exp.Literal.number(1)) for flag in self.fast_flags]
        for rule in self.rules:
            if rule["kind"] == "column":
                value = exp.column(self.prepared[(rule["column"], "lower")], "l")
                tokens = TRUE_TOKENS if rule["equals"] == "true" else FALSE_TOKENS
                fast.append(self.builder.in_tokens(value, tokens))
        fast_sql = (
            exp.Coalesce(this=exp.or_(*fast), expressions=[exp.false()]) if fast else exp.false()
        )
        self.ctes.append(
            (
                "calibrate_points",
                self.source.select(
                    exp.column("calibrate_id", "l"),
                    *points,
                    exp.alias_(fast_sql, "calibrate_fast"),
                ),
            )
        )

    def _reason(self, criterion):
        """The reason text the lead's band of a criterion gives (NULL for 0 points)."""
        from sqlglot import exp

        texts = [
            exp.null() if t is None else exp.Literal.string(t)
            for t in band_reasons(criterion, self.spec)
        ]
        if isinstance(criterion, PairCriterion):
            return exp.Case().when(self._pair_holds(criterion), texts[0]).else_(texts[1])
        return self.builder.points(criterion, self._value(criterion), values=texts)

    def _value(self, criterion):
        """The prepared lead column, or the computed feature, a criterion reads."""
        from sqlglot import exp

        if criterion.column in self.features:
            return self.feature_sql[criterion.column].copy()
        return exp.column(self.prepared[(criterion.column, _FORMS[criterion.kind])], "l")

    def _pair_points(self, pair):
        """A pair rule's points: its rule cell's when both conditions hold, else otherwise's.

        A condition holds when its criterion's band is one it takes: the
        criterion's own band logic, each band worth 1 when taken and 0 when
        not, so that a value falls in the same band as for its criterion.
        """
        from sqlglot import exp

        rule, otherwise = pair.cells
        return (
            exp.Case()
            .when(self._pair_holds(pair), exp.Literal.number(rule.points))
            .else_(exp.Literal.number(otherwise.points))
        )

    def _pair_holds(self, pair):
        """Whether a lead meets both conditions of a pair rule."""
        from sqlglot import exp

        holds = []
        for condition in (pair.first, pair.second):
            criterion = condition.criterion
            taken = criterion.with_points(
                [int(i in condition.bands) for i in range(len(criterion.bands))]
            )
            band = self.builder.points(taken, self._value(criterion))
            holds.append(exp.EQ(this=band, expression=exp.Literal.number(1)))
        return exp.and_(*holds)

    def add_score(self) -> None:
        """3. The score, clipped to the scale."""
        from sqlglot import exp

        config = self.config
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
        self.ctes.append(
            (
                "calibrate_scores",
                exp.select(
                    "calibrate_id",
                    *(f"p{i}" for i in range(len(config.criteria))),
                    "calibrate_fast",
                    exp.alias_(clipped, "calibrate_score"),
                    *self._reason_ranks(),
                ).from_("calibrate_points"),
            )
        )

    def _reason_ranks(self) -> list:
        """Every criterion's reason text and its place among the lead's reasons (0 first).

        The place of criterion ``i`` is the number of criteria ahead of it:
        more absolute points, or as many and earlier in the config.
        """
        from sqlglot import exp

        if not self.reasons:
            return []
        n = len(self.config.criteria)
        out = [exp.column(f"r{i}") for i in range(n)]
        for i in range(n):
            mine = exp.Abs(this=exp.column(f"p{i}"))
            ahead = exp.Literal.number(0)
            for j in range(n):
                if j == i:
                    continue
                theirs = exp.Abs(this=exp.column(f"p{j}"))
                beats = exp.GT(this=theirs, expression=mine.copy())
                if j < i:
                    beats = exp.or_(beats, exp.EQ(this=theirs.copy(), expression=mine.copy()))
                one = exp.Case().when(beats, exp.Literal.number(1)).else_(exp.Literal.number(0))
                ahead = exp.Add(this=ahead, expression=one)
            out.append(exp.alias_(ahead, f"q{i}"))
        return out

    def output(self):
        """4. The output: the same columns as ``calibrate score --breakdown``."""
        from sqlglot import exp

        config = self.config
        score = exp.column("calibrate_score")
        out = [exp.alias_(exp.column("calibrate_id"), self.id_name, quoted=True)]
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
        for k in range(self.reasons):
            case = exp.Case()
            for i in range(len(config.criteria)):
                place = exp.EQ(this=exp.column(f"q{i}"), expression=exp.Literal.number(k))
                case = case.when(place, exp.column(f"r{i}"))
            out.append(exp.alias_(case, f"reason_{k + 1}", quoted=True))
        query = exp.select(*out).from_("calibrate_scores")
        for name, cte in self.ctes:
            query = query.with_(
                name, as_=cte, **_materialized(name, self.builder.dialect, self.reasons)
            )
        return query


def _read_criteria(config):
    """The criteria of one column the config reads: its own, and those of its pair rules."""
    for criterion in config.criteria:
        if isinstance(criterion, PairCriterion):
            yield from criterion.criteria
        else:
            yield criterion


def _materialized(name: str, dialect: str, reasons: int) -> dict:
    """PostgreSQL: the lead table's CTE is inlined; with reasons, the points are materialized.

    PostgreSQL materializes a CTE read twice, and has no statistics on a
    materialized CTE's columns: it then guesses 200 distinct leads, and may
    join 100,000 leads to their behaviour by a nested loop (minutes instead
    of seconds). Inlined, the lead ids' statistics reach the planner.

    A CTE read once is inlined: the reason ranks read every criterion's
    points once for every other criterion, so inlined, each criterion's
    points expression would be computed that many times a lead (quadratic in
    the criteria: minutes for 100,000 leads). Materialized, once.
    """
    if dialect != "postgres":
        return {}
    if name == "calibrate_leads":
        return {"materialized": False}
    if name == "calibrate_points" and reasons:
        return {"materialized": True}
    return {}
