"""Behaviour: leak-free features from an activity log, aggregated in DuckDB.

The activity log is read and checked by DuckDB (embedded, out of core), so a
log larger than memory works from CSV or Parquet. For every lead, only
activities strictly before its decision time count. :func:`activity_sql`
writes the aggregation as one SQL query; :class:`ActivityFeaturizer` learns
which activity types exist, how fast each family's behaviour fades (its
*kernel*: a half-life, a window, or no decay, chosen by out-of-sample
likelihood) and then computes the features for every lead.

The definitions of the features live in :mod:`calibrate.sheet.activity`, whose
pandas evaluator the standalone scorer uses; both must agree exactly.
"""

from __future__ import annotations

import tempfile
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from ..errors import DataError, ParameterError, format_examples
from ..io.sources import as_source, check_parquet_schemas, read_arrow
from ..sheet.activity import ActivitySpec, half_life_grid, to_utc_seconds
from ..sheet.criteria import WHITESPACE
from ..sheet.feature import (
    SECONDS_PER_DAY,
    WEIGHT_SCALE,
    ZONE_SUFFIX,
    ActivityFeature,
    DetailRule,
    Kernel,
    detail_rules_sql,
    exact_decay_is_safe,
    family_of,
)
from ..sheet.kinds import OPTIONAL_KINDS, kind_of
from ..validation import (
    any_of,
    boolean,
    check_params,
    instance_of,
    integer,
    mapping,
    optional,
    real,
    sequence,
    string,
)

__all__ = ["ActivityFeaturizer", "activity_sql", "connect", "read_activities"]

#: Windows (days) tried besides decay when learning a family's kernel.
WINDOWS = (7, 30, 90)


def connect(memory_limit: str = "3GB", threads: int | None = None):
    """An in-memory DuckDB connection that spills to a temporary folder."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = true")
    spill = Path(tempfile.gettempdir()) / "calibrate-duckdb"
    spill.mkdir(exist_ok=True)
    con.execute(f"SET temp_directory = {_lit(str(spill))}")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _ident(name: str) -> str:
    from sqlglot import exp

    return exp.to_identifier(str(name), quoted=True).sql("duckdb")


def _lit(value) -> str:
    from sqlglot import exp

    if isinstance(value, str):
        return exp.Literal.string(value).sql("duckdb")
    return exp.Literal.number(value).sql("duckdb")


def read_activities(con, source, spec: ActivitySpec, *, now=None, sep: str | None = None) -> dict:
    """Read and check an activity log into the DuckDB view ``calibrate_activities``.

    The view has columns ``lead_id`` (text, written as the lead table's
    ids are: see :func:`calibrate.sheet.activity.lead_id_text`), ``activity_type``
    (text, after the detail rules), ``occurred_at`` (UTC timestamp, whole seconds) and
    ``detail`` (text).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        See :func:`connect`.
    source : str, os.PathLike, Source or pandas.DataFrame
        A CSV or Parquet file, a glob or folder of them, a DuckDB file or
        database :class:`~calibrate.io.sources.Source`, or a DataFrame.
    spec : ActivitySpec
        Column names and detail rules.
    now : datetime, optional
        Activities later than this are refused as "in the future"; default
        the current time.

    Returns
    -------
    dict
        ``rows`` and ``types`` (``{activity type: rows}``).

    Raises
    ------
    DataError
        For a missing column, an empty lead id or timestamp, a timestamp that
        cannot be read, mixed time zones or a timestamp in the future, naming
        the rows.
    """
    _register_source(con, source, "calibrate_raw", sep=sep)
    described = con.execute("DESCRIBE calibrate_raw").fetchall()
    types = {row[0]: row[1] for row in described}
    wanted = [spec.lead_id, spec.activity_type, spec.occurred_at]
    if spec.detail is not None:
        wanted.append(spec.detail)
    missing = [c for c in wanted if c not in types]
    if missing:
        raise DataError(
            f"activity log: column(s) {format_examples(missing)} not found "
            f"(columns: {format_examples(list(types), 8)})"
        )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW calibrate_numbered AS "
        "SELECT row_number() OVER () AS calibrate_row, * FROM calibrate_raw"
    )
    lead, kind, when = _ident(spec.lead_id), _ident(spec.activity_type), _ident(spec.occurred_at)
    lead_text, kind_text = _id_text_sql(lead, types[spec.lead_id]), f"CAST({kind} AS VARCHAR)"
    timestamp = _timestamp_sql(con, when, spec.occurred_at, types[spec.occurred_at])
    now = pd.Timestamp.now(tz="UTC").tz_localize(None) if now is None else pd.Timestamp(now)
    future = f"{timestamp} > TIMESTAMP {_lit(now.strftime('%Y-%m-%d %H:%M:%S'))}"
    # One pass over the log checks it; the rows are looked up only on failure.
    checks = {
        "empty_lead": f"{lead} IS NULL OR {lead_text} = ''",
        "empty_type": f"{kind} IS NULL OR {kind_text} = ''",
        "future": future,
    }
    if types[spec.lead_id].upper() == "VARCHAR":
        # Ids are read as the lead table's: without surrounding whitespace.
        # Trimming costs seconds per hundred million rows, so only a log
        # that has a padded id is trimmed, and in it only the padded ids.
        checks["padded_lead"] = _padded_sql(lead_text)
    found = dict(
        zip(
            checks,
            con.execute(
                "SELECT "
                + ", ".join(f"COUNT(*) FILTER (WHERE {c})" for c in checks.values())
                + " FROM calibrate_raw"
            ).fetchall()[0],
            strict=True,
        )
    )
    messages = {
        "empty_lead": (f"activity log: column {spec.lead_id!r} is empty", lead),
        "empty_type": (f"activity log: column {spec.activity_type!r} is empty", kind),
        "future": (
            f"activity log: column {spec.occurred_at!r} has timestamps in the future "
            f"(after {now:%Y-%m-%d %H:%M:%S} UTC)",
            when,
        ),
    }
    for name, (message, shown) in messages.items():
        if found[name]:
            _refuse_rows(con, checks[name], message, shown)
    lead_clean = lead_text
    if found.get("padded_lead"):
        padded = _padded_sql(lead_text)
        lead_clean = f"CASE WHEN {padded} THEN {_trim(lead_text)} ELSE {lead_text} END"
        _refuse_rows(con, f"{lead_clean} = ''", messages["empty_lead"][0], lead)
    detail = (
        f"CAST({_ident(spec.detail)} AS VARCHAR)" if spec.detail is not None else "NULL::VARCHAR"
    )
    # Types and details are used as stored (trimming them would cost seconds
    # per hundred million rows).
    kind_clean = kind_text
    con.execute(
        "CREATE OR REPLACE TEMP VIEW calibrate_activities AS SELECT "
        f"{lead_clean} AS lead_id, "
        f"{_rules_sql(spec.detail_rules, kind_clean, detail)} AS activity_type, "
        f"{timestamp} AS occurred_at, {detail} AS detail FROM calibrate_raw"
    )
    counts = con.execute(
        "SELECT activity_type, COUNT(*) FROM calibrate_activities GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {"rows": int(sum(c for _, c in counts)), "types": {t: int(c) for t, c in counts}}


def _id_text_sql(column: str, duck_type: str) -> str:
    """SQL of a lead id as text; whole-number floats written as integers, as the lead table's."""
    if duck_type.upper() in ("DOUBLE", "FLOAT", "REAL"):
        return (
            f"CASE WHEN {column} = TRUNC({column}) AND ABS({column}) < 9007199254740992 "
            f"THEN CAST(CAST({column} AS BIGINT) AS VARCHAR) ELSE CAST({column} AS VARCHAR) END"
        )
    return f"CAST({column} AS VARCHAR)"


def _padded_sql(text_sql: str) -> str:
    """SQL true when the text may start or end with whitespace (a control character or space).

    Much cheaper than comparing the text with its trimmed self: it compares
    the first and the last character with ``!``, the first character after
    the space. Every character of :data:`WHITESPACE` sorts before it.
    """
    return f"({text_sql} < '!' OR {text_sql}[-1] < '!')"


def _trim(text_sql: str) -> str:
    """SQL stripping the same whitespace as :data:`calibrate.sheet.criteria.WHITESPACE`."""
    return f"TRIM({text_sql}, {_lit(WHITESPACE)})"


def _register_source(con, source, name: str, *, sep: str | None = None):
    """Make the view ``name`` over the activity log, wherever it is.

    Files and globs are scanned by DuckDB (out of core); a DuckDB file or a
    database is read to Arrow first (see :mod:`calibrate.io.sources`).
    """
    if isinstance(source, pd.DataFrame):
        con.register(f"{name}_frame", source)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_frame")
        return
    source = as_source(source)
    if source.kind in ("duckdb", "database"):
        table = read_arrow(source)
        con.register(f"{name}_frame", table)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_frame")
        return
    files = source.files()
    if source.kind == "file":
        path = files[0]
        if not path.exists():
            raise DataError(f"cannot read {path}: no such file")
        if path.is_dir() or path.stat().st_size == 0:
            raise DataError(f"cannot read {path}: the file is empty")
    parquet = source.is_parquet()
    if parquet and len(files) > 1:
        check_parquet_schemas(files, source.location)
    import duckdb

    paths = [str(p) for p in files]
    try:
        if parquet:
            relation = con.read_parquet(paths, union_by_name=len(paths) > 1)
        else:
            options = {"header": True, "all_varchar": True}
            if sep is not None:
                options["sep"] = sep
            relation = con.read_csv(paths, **options)
        relation.create_view(name, replace=True)
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise DataError(f"cannot read activity log {source.location}: {message}") from None


def _refuse_rows(con, condition: str, message: str, shown: str):
    bad = con.execute(f"SELECT COUNT(*) FROM calibrate_numbered WHERE {condition}").fetchall()[0][
        0
    ]
    if bad:
        rows = con.execute(
            f"SELECT calibrate_row, CAST({shown} AS VARCHAR) FROM calibrate_numbered "
            f"WHERE {condition} ORDER BY calibrate_row LIMIT 5"
        ).fetchall()
        examples = "; ".join(f"row {r}: {v!r}" for r, v in rows)
        raise DataError(f"{message} in {bad} row(s) ({examples})")


def _timestamp_sql(con, column: str, name: str, duck_type: str) -> str:
    """SQL of the column as a UTC timestamp in whole seconds; checks text values."""
    duck_type = duck_type.upper()
    if duck_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"date_trunc('second', timezone('UTC', {column}))"
    if duck_type.startswith("TIMESTAMP") or duck_type == "DATE":
        return f"date_trunc('second', CAST({column} AS TIMESTAMP))"
    if duck_type != "VARCHAR":
        raise DataError(f"activity log: column {name!r} holds {duck_type}, not timestamps")
    text = _trim(f"CAST({column} AS VARCHAR)")
    zone = f"regexp_matches({text}, {_lit(ZONE_SUFFIX)})"
    # A zone DuckDB reads but the pattern does not see (a name such as
    # 'Europe/Paris', which pandas refuses) would be dropped: refuse it too.
    named_zone = (
        f"(NOT {zone} AND TRY_CAST({text} AS TIMESTAMP) IS DISTINCT FROM "
        f"CAST(timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ)) AS TIMESTAMP))"
    )
    _refuse_rows(
        con,
        f"{text} <> '' AND (TRY_CAST({text} AS TIMESTAMPTZ) IS NULL OR {named_zone})",
        f"activity log: column {name!r} has values that are not timestamps",
        column,
    )
    _refuse_rows(
        con, f"{column} IS NULL OR {text} = ''", f"activity log: column {name!r} is empty", column
    )
    zoned, plain = con.execute(
        f"SELECT COUNT(*) FILTER (WHERE {zone}), COUNT(*) FILTER (WHERE NOT {zone}) "
        "FROM calibrate_numbered"
    ).fetchall()[0]
    if zoned and plain:
        first = con.execute(
            f"SELECT calibrate_row, {column} FROM calibrate_numbered WHERE {zone} "
            f"ORDER BY calibrate_row LIMIT 1"
        ).fetchall()[0]
        other = con.execute(
            f"SELECT calibrate_row, {column} FROM calibrate_numbered WHERE NOT {zone} "
            f"ORDER BY calibrate_row LIMIT 1"
        ).fetchall()[0]
        raise DataError(
            f"activity log: column {name!r} mixes timestamps with and without a time zone "
            f"(row {first[0]}: {first[1]!r}; row {other[0]}: {other[1]!r})"
        )
    if zoned:
        return f"date_trunc('second', timezone('UTC', CAST({text} AS TIMESTAMPTZ)))"
    return f"date_trunc('second', CAST({text} AS TIMESTAMP))"


def _rules_sql(rules, kind: str, detail: str) -> str:
    """DuckDB SQL of the activity type after the detail rules (see :func:`detail_rules_sql`)."""
    import sqlglot

    if not rules:
        return kind
    kind_sql, detail_sql = (sqlglot.parse_one(x, read="duckdb") for x in (kind, detail))
    return detail_rules_sql(rules, kind_sql, detail_sql, "duckdb").sql("duckdb")


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

    from ..sheet.sql import SqlBuilder

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


class ActivityFeaturizer(BaseEstimator):
    """Learn behaviour features from an activity log, without leaking the future.

    Parameters
    ----------
    lead_id, activity_type, occurred_at : str
        Column names of the activity log.
    detail : str, optional
        Column with the page URL, asset or campaign name.
    detail_rules : sequence of str or DetailRule
        Re-type activities by detail, e.g. ``"page_view:/pricing*=pricing_page_view"``.
    families : dict, optional
        ``{activity type: family}``; unlisted types get a family from their name
        (email, web, content, hand-raiser, opt-out, other).
    combos : sequence of str
        Activity types done together, e.g. ``"whitepaper_download+case_study_view"``.
    learn_decay : bool, default=True
        Choose each family's kernel (half-life, window or none) by
        out-of-sample log loss; otherwise no decay.
    lookback_days : int, default=1095
        Activities older than this at the decision time are ignored.
    max_learning_leads : int, default=50000
        Leads sampled for learning the kernels.
    random_state : int, optional
        Seed of the learning sample and split.
    extra_features : sequence of str, default=()
        Optional feature kinds to add to the default features (see
        :data:`calibrate.sheet.kinds.OPTIONAL_KINDS`): ``"distinct_weeks"``
        adds ``distinct_weeks_90d``, the number of different weeks of the
        last 90 days with web, content or hand-raiser activity ("came back
        in 3 different weeks").

    Attributes
    ----------
    spec_ : ActivitySpec
        The features, kernels and types learned.
    decay_ : pandas.DataFrame
        Per family: chosen kernel, validation log loss with it and without
        decay, and the improvement.
    activity_counts_ : dict
        ``rows`` read and ``types`` (rows per activity type).
    left_out_types_ : dict
        ``{activity type: rows}`` of the types in the log none of whose
        activities counts for a lead fitted (all on or after the decision,
        older than the look-back, or of other leads): they are no features.
    activities_ : str, os.PathLike, Source or pandas.DataFrame
        The activity log fitted, as given (not a copy): :meth:`transform`,
        :meth:`evaluate` and :meth:`timing_counts` read it again when given
        neither another log nor a connection. No DuckDB connection is kept,
        so a fitted featurizer can be pickled (with a picklable log) and
        used in a :class:`sklearn.pipeline.Pipeline`.

    Notes
    -----
    Everything learned (the types, so the features, families, combinations
    and kernels) comes from the activities that count: those of the leads
    fitted, strictly before each one's decision time and within the
    look-back. Activities after the decision change nothing.
    """

    _rules = {
        "lead_id": string(),
        "activity_type": string(),
        "occurred_at": string(),
        "detail": optional(string()),
        "detail_rules": sequence(any_of(string(), instance_of(DetailRule))),
        "families": optional(mapping(string(), string())),
        "combos": sequence(any_of(string(), sequence(string()))),
        "learn_decay": boolean(),
        "lookback_days": integer(1),
        "max_learning_leads": integer(100),
        "random_state": optional(integer(0)),
        "decay_C": real(0, low_open=True),
        "extra_features": sequence(string()),
    }

    def __init__(
        self,
        *,
        lead_id="lead_id",
        activity_type="activity_type",
        occurred_at="occurred_at",
        detail=None,
        detail_rules=(),
        families=None,
        combos=(),
        learn_decay=True,
        lookback_days=1095,
        max_learning_leads=50_000,
        decay_C=1.0,
        random_state=None,
        extra_features=(),
    ):
        self.lead_id = lead_id
        self.activity_type = activity_type
        self.occurred_at = occurred_at
        self.detail = detail
        self.detail_rules = detail_rules
        self.families = families
        self.combos = combos
        self.learn_decay = learn_decay
        self.lookback_days = lookback_days
        self.max_learning_leads = max_learning_leads
        self.decay_C = decay_C
        self.random_state = random_state
        self.extra_features = extra_features

    def fit(self, leads: pd.DataFrame, y, activities, *, X_extra=None, con=None):
        """Learn the activity types, the features and each family's kernel.

        Parameters
        ----------
        leads : pandas.DataFrame
            Columns ``lead_id`` and ``decision_time`` (one row per training lead).
        y : array-like of bool
            Outcomes of the leads.
        activities : str, os.PathLike or pandas.DataFrame
            The activity log (CSV, Parquet or DataFrame).
        X_extra : array-like, optional
            Other features of the same leads (e.g. one-hot role bands), used
            beside behaviour when comparing kernels.
        con : duckdb connection, optional
            Reused when given (see :func:`connect`): it then holds the log,
            for the same connection given to :meth:`transform`. Otherwise a
            connection is opened for the fit and closed after it.

        Returns
        -------
        self : ActivityFeaturizer
        """
        check_params(self, self._rules)
        if con is None:
            with closing(connect()) as con:
                return self.fit(leads, y, activities, X_extra=X_extra, con=con)
        extra_kinds = _extra_kinds(self.extra_features)
        rules = tuple(
            r if isinstance(r, DetailRule) else DetailRule.parse(str(r)) for r in self.detail_rules
        )
        base = ActivitySpec(
            detail_rules=rules,
            lookback_days=self.lookback_days,
            lead_id=self.lead_id,
            activity_type=self.activity_type,
            occurred_at=self.occurred_at,
            detail=self.detail,
        )
        read = read_activities(con, activities, base)
        if read["rows"] == 0:
            columns = [row[0] for row in con.execute("DESCRIBE calibrate_raw").fetchall()]
            raise DataError(
                f"the activity log has no rows (only the columns {format_examples(columns, 8)}): "
                "there is no behaviour to learn from; give the log with its activities, or fit "
                "without one"
            )
        leads = _check_leads(leads)
        _register_leads(con, leads)
        # Everything learned comes from the activities that count: of the
        # training leads, before their decision, within the look-back.
        counted = _counted_types(con, base, len(leads), read["rows"])
        types = sorted(counted)
        families = {t: (self.families or {}).get(t) or family_of(t) for t in types}
        combos = [tuple(c.split("+")) if isinstance(c, str) else tuple(c) for c in self.combos]
        for combo in combos:
            unknown = [t for t in combo if t not in families]
            if len(combo) < 2 or unknown:
                raise DataError(
                    f"combination {'+'.join(combo)!r} needs two or more activity types seen in "
                    "the log before the decisions of the leads fitted; unknown: "
                    f"{format_examples(unknown)}"
                )
        kernels = {f: Kernel("all") for f in sorted(set(families.values()))}
        decay_rows = []
        if self.learn_decay and types:
            kernels, decay_rows = self._learn_kernels(
                con, leads, np.asarray(y), base, families, X_extra
            )
        features = _default_features(types, families, kernels, combos)
        for name in extra_kinds:
            feature = kind_of(name).fit_feature(types, families)
            if feature is not None:
                features.append(feature)
        self.spec_ = replace(
            base, features=tuple(features), known_types=tuple(types), families=families
        )
        self.decay_ = pd.DataFrame(
            decay_rows,
            columns=[
                "family",
                "kernel",
                "half_life_days",
                "log_loss",
                "log_loss_no_decay",
                "improvement",
            ],
        )
        self.activity_counts_ = read
        self.left_out_types_ = {t: n for t, n in read["types"].items() if t not in counted}
        self.activities_ = activities
        return self

    @contextmanager
    def _log(self, activities=None, con=None):
        """A connection holding the activity log (``activities_`` by default).

        ``con`` as given (reading ``activities`` into it when given); else a
        new connection, closed on leaving.
        """
        check_is_fitted(self, "spec_")
        if con is not None:
            if activities is not None:
                read_activities(con, activities, self.spec_)
            yield con
            return
        with closing(connect()) as con:
            log = self.activities_ if activities is None else activities
            read_activities(con, log, self.spec_)
            yield con

    def evaluate(
        self, leads: pd.DataFrame, features, activities=None, *, con=None
    ) -> pd.DataFrame:
        """Other features of the same log (e.g. fast-track or rule counts), for these leads.

        Parameters
        ----------
        leads : pandas.DataFrame
            Columns ``lead_id`` and ``decision_time``.
        features : sequence of ActivityFeature
            Features to compute on the fitted log, with its detail rules.
        activities, con : optional
            As for :meth:`transform`.

        Returns
        -------
        pandas.DataFrame
            One column per feature, in the order of ``leads``.
        """
        check_is_fitted(self, "spec_")
        spec = replace(self.spec_, features=tuple(features))
        sql = activity_sql(
            spec,
            leads="calibrate_leads_frame",
            activities="calibrate_activities",
            decision_time="decision_time",
        )
        with self._log(activities, con) as con:
            _register_leads(con, _check_leads(leads))
            return con.execute(sql).df().drop(columns="lead_id").reset_index(drop=True)

    def timing_counts(self, leads: pd.DataFrame, activities=None, *, con=None) -> dict:
        """How the log's activities relate to these leads.

        Parameters
        ----------
        leads : pandas.DataFrame
            Columns ``lead_id`` and ``decision_time``.
        activities, con : optional
            As for :meth:`transform`.

        Returns
        -------
        dict
            ``unknown_lead_rows`` and ``unknown_lead_ids`` (activities of
            leads not among ``leads``, with up to five ``unknown_lead_examples``),
            ``after_decision_rows`` (on or after the lead's decision time, left
            out) and ``older_than_lookback_rows``.
        """
        with self._log(activities, con) as con:
            _register_leads(con, _check_leads(leads))
            return _timing_counts(con, self.spec_.lookback_days)

    def transform(self, leads: pd.DataFrame, activities=None, *, con=None) -> pd.DataFrame:
        """Behaviour features of every lead, in the order of ``leads``.

        Parameters
        ----------
        leads : pandas.DataFrame
            Columns ``lead_id`` and ``decision_time``.
        activities : optional
            The activity log; by default the one given to :meth:`fit`
            (``activities_``), read again.
        con : duckdb connection, optional
            A connection holding the log (the one given to :meth:`fit`),
            used as it is unless ``activities`` is given too: then that log
            is read into it. Without one, a connection is opened for the
            call and closed after it.

        Returns
        -------
        pandas.DataFrame
            One column per feature of ``spec_``, in the order of ``leads``.
        """
        check_is_fitted(self, "spec_")
        sql = activity_sql(
            self.spec_,
            leads="calibrate_leads_frame",
            activities="calibrate_activities",
            decision_time="decision_time",
        )
        with self._log(activities, con) as con:
            _register_leads(con, _check_leads(leads))
            frame = con.execute(sql).df()
        return frame.drop(columns="lead_id").reset_index(drop=True)

    def _learn_kernels(self, con, leads, y, base, families, X_extra):
        """Choose every family's kernel by cross-validated log loss.

        A kernel turns a type's activities into ``log1p(weighted count)``; a
        logistic regression on those (beside ``X_extra``) is scored by 3-fold
        log loss. Each family first tries no decay and half-lives one doubling
        apart (3.5 to 448 days); the best half-life is then refined by a
        golden-section search on the log scale between its neighbours.
        Families are improved one at a time, twice over.
        """
        rng = np.random.default_rng(self.random_state)
        n = len(leads)
        if n > self.max_learning_leads:
            sample = np.sort(rng.choice(n, self.max_learning_leads, replace=False))
        else:
            sample = np.arange(n)
        sample_leads = leads.iloc[sample].reset_index(drop=True)
        types = sorted(families)
        by_family: dict[str, list[str]] = {}
        for t in types:
            by_family.setdefault(families[t], []).append(t)
        grid = [Kernel("all")] + [Kernel("decay", float(h)) for h in half_life_grid(3.5, 448, 1)]
        ages = self._ages(con, sample_leads, base)
        cache: dict = {}

        def columns(family, kernel):
            key = (family, kernel)
            if key not in cache:
                cols = []
                for t in by_family[family]:
                    lead, age = ages.get(t, (np.zeros(0, np.int64), np.zeros(0)))
                    total = np.bincount(lead, weights=kernel.weights(age), minlength=len(sample))
                    x = np.log1p(total / WEIGHT_SCALE)
                    cols.append((x - x.mean()) / (x.std() + 1e-12))
                cache[key] = np.column_stack(cols)
            return cache[key]

        ys = y[sample].astype(int)
        folds = list(
            StratifiedKFold(3, shuffle=True, random_state=self.random_state).split(ys, ys)
        )
        extra = None
        if X_extra is not None:
            # Who the lead is enters as one cross-fitted log-odds column: it
            # sharpens the comparison at a fraction of the cost.
            design = X_extra[sample]
            extra = np.zeros(len(sample))
            for train, valid in folds:
                explicit = LogisticRegression(solver="newton-cholesky", max_iter=100)
                explicit.fit(design[train], ys[train])
                extra[valid] = explicit.decision_function(design[valid])

        def loss(choice):
            blocks = [columns(f, choice[f]) for f in sorted(by_family)]
            X = np.column_stack(blocks + ([extra] if extra is not None else []))
            total = 0.0
            for train, valid in folds:
                model = LogisticRegression(
                    C=self.decay_C, solver="newton-cholesky", max_iter=100, tol=1e-8
                )
                model.fit(X[train], ys[train])
                p = model.predict_proba(X[valid])[:, 1]
                total += log_loss(ys[valid], p, labels=[0, 1]) * len(valid)
            return total / len(ys)

        choice = dict.fromkeys(by_family, Kernel("all"))
        current = loss(choice)
        for _ in range(2):
            changed = False
            for family in sorted(by_family):
                best, best_loss = choice[family], current
                for kernel in grid:
                    value = loss({**choice, family: kernel})
                    if value < best_loss - 1e-12:
                        best, best_loss = kernel, value
                if best.kind == "decay":
                    best, best_loss = self._golden(best, best_loss, family, choice, loss)
                if best != choice[family]:
                    choice[family], current, changed = best, best_loss, True
            if not changed:
                break
        rows = []
        for family in sorted(by_family):
            without = loss({**choice, family: Kernel("all")})
            kernel = choice[family]
            rows.append(
                {
                    "family": family,
                    "kernel": kernel.label,
                    "half_life_days": kernel.days if kernel.kind == "decay" else np.nan,
                    "log_loss": current,
                    "log_loss_no_decay": without,
                    "improvement": without - current,
                }
            )
        return choice, rows

    def _golden(self, kernel, value, family, choice, loss, steps: int = 6):
        """Golden-section search of a half-life within a factor 2 of the grid's best."""
        # Stay within the grid's range (3.5 to 448 days).
        lo = max(np.log(kernel.days / 2), np.log(3.5))
        hi = min(np.log(kernel.days * 2), np.log(448.0))
        ratio = (np.sqrt(5) - 1) / 2
        best, best_value = kernel, value

        def at(x):
            h = round(float(np.exp(x)), 1)
            while not exact_decay_is_safe(h, self.lookback_days + 1):
                h = round(h + 0.1, 1)
            k = Kernel("decay", h)
            return k, loss({**choice, family: k})

        a, b = lo + (1 - ratio) * (hi - lo), lo + ratio * (hi - lo)
        (ka, fa), (kb, fb) = at(a), at(b)
        for _ in range(steps):
            for k, f in ((ka, fa), (kb, fb)):
                if f < best_value - 1e-12:
                    best, best_value = k, f
            if fa <= fb:
                hi, b, kb, fb = b, a, ka, fa
                a = lo + (1 - ratio) * (hi - lo)
                ka, fa = at(a)
            else:
                lo, a, ka, fa = a, b, kb, fb
                b = lo + ratio * (hi - lo)
                kb, fb = at(b)
        for k, f in ((ka, fa), (kb, fb)):
            if f < best_value - 1e-12:
                best, best_value = k, f
        return best, best_value

    def _ages(self, con, leads, base) -> dict:
        """``{type: (lead position, age in days)}`` of the activities that count."""
        spec = replace(base, features=())
        _register_leads(con, leads)
        age_s = "(EPOCH(l.decision_time) - EPOCH(a.occurred_at))"
        rows = con.execute(
            "WITH l AS (SELECT CAST(lead_id AS VARCHAR) AS lead_id, "
            "CAST(decision_time AS TIMESTAMP) AS decision_time, "
            "row_number() OVER () - 1 AS position FROM calibrate_leads_frame) "
            f"SELECT a.activity_type, l.position, FLOOR({age_s} / {SECONDS_PER_DAY}.0) AS age "
            "FROM calibrate_activities a JOIN l ON a.lead_id = l.lead_id "
            f"WHERE {age_s} > 0 AND {age_s} <= {spec.lookback_days * SECONDS_PER_DAY}"
        ).df()
        return {
            t: (g["position"].to_numpy(np.int64), g["age"].to_numpy(float))
            for t, g in rows.groupby("activity_type", sort=True)
        }


def _extra_kinds(names) -> tuple:
    """The optional feature kinds asked for, checked."""
    names = (names,) if isinstance(names, str) else tuple(names or ())
    wrong = [n for n in names if n not in OPTIONAL_KINDS]
    if wrong:
        raise ParameterError(
            f"extra_features: {format_examples(wrong)} are not optional feature kinds "
            f"(the optional kinds: {format_examples(list(OPTIONAL_KINDS))})"
        )
    return tuple(dict.fromkeys(names))


def _check_leads(leads: pd.DataFrame) -> pd.DataFrame:
    if not {"lead_id", "decision_time"} <= set(leads.columns):
        raise DataError("leads for behaviour features need columns lead_id and decision_time")
    out = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].astype("string").str.strip(WHITESPACE).astype(object),
            "decision_time": to_utc_seconds(
                leads["decision_time"].reset_index(drop=True), "decision time"
            ),
        }
    )
    return out


def _register_leads(con, leads: pd.DataFrame):
    con.register("calibrate_leads_frame", leads)


def _refuse_ids_apart(con, total: int, n_leads: int):
    """Refuse a log none of whose activities belongs to these leads.

    Every behaviour feature would then be 0: the ids are almost always
    written differently on the two sides (a prefix, leading zeros).
    """

    def examples(sql):
        return format_examples([str(r[0]) for r in con.execute(sql).fetchall()], 3)

    ours = examples("SELECT DISTINCT lead_id FROM calibrate_leads_frame ORDER BY 1 LIMIT 3")
    theirs = examples("SELECT DISTINCT lead_id FROM calibrate_activities ORDER BY 1 LIMIT 3")
    raise DataError(
        f"none of the activity log's {int(total):,} activities belongs to any of the "
        f"{n_leads:,} leads fitted: their ids look like {ours}, the log's like {theirs}. "
        "Ids are matched as text without surrounding whitespace; write them the same way on both "
        "sides"
    )


def _counted_types(con, spec: ActivitySpec, n_leads: int, total: int) -> dict:
    """``{type: activities}`` that count for these leads; refuses a log of which none does.

    An activity counts when it belongs to one of the leads, strictly before
    its decision time and within the look-back (as in :func:`activity_sql`).
    A log none of whose ``total`` activities belongs to the leads is refused
    first, naming ids of both sides.
    """
    age_s = "(EPOCH(l.decision_time) - EPOCH(a.occurred_at))"
    horizon = spec.lookback_days * SECONDS_PER_DAY
    leads = (
        "(SELECT CAST(lead_id AS VARCHAR) AS lead_id, CAST(decision_time AS TIMESTAMP) "
        "AS decision_time FROM calibrate_leads_frame) l"
    )
    rows = con.execute(
        f"SELECT a.activity_type, COUNT(*) FILTER (WHERE {age_s} > 0 AND {age_s} <= {horizon}), "
        f"COUNT(*) FILTER (WHERE {age_s} <= 0), COUNT(*) FILTER (WHERE {age_s} > {horizon}) "
        f"FROM calibrate_activities a JOIN {leads} ON a.lead_id = l.lead_id GROUP BY 1 ORDER BY 1"
    ).fetchall()
    if not rows:
        _refuse_ids_apart(con, total, n_leads)
    counted = {t: int(n) for t, n, _, _ in rows if n}
    if counted:
        return counted
    after, old = sum(r[2] for r in rows), sum(r[3] for r in rows)
    examples = con.execute(
        f"SELECT l.lead_id, l.decision_time, MIN(a.occurred_at), MAX(a.occurred_at) "
        f"FROM calibrate_activities a JOIN {leads} ON a.lead_id = l.lead_id "
        "GROUP BY 1, 2 ORDER BY 1 LIMIT 2"
    ).fetchall()
    shown = "; ".join(
        f"lead {lead!r} decided {decided:%Y-%m-%d %H:%M:%S}, activities from "
        f"{first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S}"
        for lead, decided, first, last in examples
    )
    raise DataError(
        f"none of the {after + old:,} activities of the {n_leads:,} leads fitted is before its "
        f"lead's decision time and within the {spec.lookback_days:,}-day look-back ({after:,} "
        f"on or after it, {old:,} older; e.g. {shown}): there is no behaviour to learn from; "
        f"check the decision time and the log's column {spec.occurred_at!r}"
    )


def _timing_counts(con, lookback_days: int) -> dict:
    """Activities of unknown leads, and those at or after the decision (left out)."""
    unknown, ids = con.execute(
        "SELECT COUNT(*), COUNT(DISTINCT a.lead_id) FROM calibrate_activities a "
        "ANTI JOIN calibrate_leads_frame l ON a.lead_id = CAST(l.lead_id AS VARCHAR)"
    ).fetchall()[0]
    examples = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT a.lead_id FROM calibrate_activities a ANTI JOIN "
            "calibrate_leads_frame l ON a.lead_id = CAST(l.lead_id AS VARCHAR) "
            "ORDER BY 1 LIMIT 5"
        ).fetchall()
    ]
    after, too_old = con.execute(
        "SELECT COUNT(*) FILTER (WHERE a.occurred_at >= l.decision_time), "
        f"COUNT(*) FILTER (WHERE a.occurred_at < l.decision_time - INTERVAL {int(lookback_days)} "
        "DAY) FROM calibrate_activities a JOIN calibrate_leads_frame l "
        "ON a.lead_id = CAST(l.lead_id AS VARCHAR)"
    ).fetchall()[0]
    return {
        "unknown_lead_rows": int(unknown),
        "unknown_lead_ids": int(ids),
        "unknown_lead_examples": examples,
        "after_decision_rows": int(after),
        "older_than_lookback_rows": int(too_old),
    }


def _default_features(types, families, kernels, combos) -> list[ActivityFeature]:
    features = [
        ActivityFeature(t, "count", (t,), kernel=kernels[families[t]], family=families[t])
        for t in types
    ]
    if types:
        features.append(ActivityFeature("days_since_last_activity", "recency"))
    content = [t for t in types if families[t] == "content"]
    for t in content:
        features.append(
            ActivityFeature(f"distinct_{t}", "distinct_details", (t,), family="content")
        )
    web = [t for t in types if families[t] == "web"]
    if web:
        features.append(
            ActivityFeature("active_days_30d", "active_days", tuple(web), window_days=30)
        )
    for combo in combos:
        features.append(ActivityFeature("+".join(combo), "all_of", tuple(combo)))
    return features
