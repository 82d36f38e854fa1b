"""Behaviour: leak-free features from an activity log, aggregated where the log lives.

The activity log is read and checked by the engine that holds it (see
:mod:`calibrate.io.activities`): DuckDB on this machine (embedded, out of
core), so a log larger than memory works from CSV or Parquet; PostgreSQL
for a table or query of a PostgreSQL database; Spark for a Spark DataFrame,
table or path. Only per-lead rows come back. For every lead, only
activities strictly before its decision time count.
:func:`calibrate.sheet.sql.activity_sql` writes the aggregation as one SQL
query, in the engine's dialect; :class:`ActivityFeaturizer` learns which activity types exist, how
fast each family's behaviour fades (its *kernel*: a half-life, a window, or no
decay, chosen by out-of-sample likelihood; see :mod:`calibrate.learn.decay`)
and then computes the features for every lead.

The definitions of the features live in :mod:`calibrate.sheet.activity`, whose
pandas evaluator the standalone scorer uses; both must agree exactly.
"""

from __future__ import annotations

from contextlib import closing, contextmanager
from dataclasses import replace

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..errors import DataError, ParameterError, format_examples
from ..io.activities import open_engine, read_activities, register_leads
from ..sheet.activity import ActivitySpec, to_utc_seconds
from ..sheet.criteria import WHITESPACE
from ..sheet.feature import ActivityFeature, DetailRule, Kernel, family_of
from ..sheet.kinds import OPTIONAL_KINDS, kind_of
from ..sheet.sql import LogQueries, activity_sql
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
from .decay import learn_kernels

__all__ = ["ActivityFeaturizer"]


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
    spec : ActivitySpec, optional
        Features to compute as they are (a previous sheet's, whose structure
        a refit keeps): nothing is learned, and the columns, detail rules and
        look-back are the spec's.

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
        "spec": optional(instance_of(ActivitySpec)),
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
        spec=None,
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
        self.spec = spec

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
        con : Engine or duckdb connection, optional
            Reused when given (see :func:`~calibrate.io.activities.open_engine`):
            it then holds the log, for the same engine given to
            :meth:`transform`. Otherwise the engine that holds ``activities``
            is opened for the fit and closed after it: PostgreSQL for a
            PostgreSQL table or query, Spark for a Spark DataFrame or a
            ``spark:`` location, DuckDB for the rest.

        Returns
        -------
        self : ActivityFeaturizer
        """
        check_params(self, self._rules)
        if con is None:
            with closing(_open(activities, self.spec or ActivitySpec(
                    occurred_at=self.occurred_at))) as con:  # fmt: skip
                return self.fit(leads, y, activities, X_extra=X_extra, con=con)
        con = _engine(con)
        if self.spec is not None:
            return self._fit_given(leads, activities, con)
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
            columns = list(con.columns("calibrate_raw"))
            raise DataError(
                f"the activity log has no rows (only the columns {format_examples(columns, 8)}): "
                "there is no behaviour to learn from; give the log with its activities, or fit "
                "without one"
            )
        leads = _check_leads(leads)
        register_leads(con, leads)
        # Everything learned comes from the activities that count: of the
        # training leads, before their decision, within the look-back.
        counted = _counted_types(con, base, len(leads), read["rows"])
        types = sorted(counted)
        families = {t: (self.families or {}).get(t) or family_of(t) for t in types}
        combos = _combos(self.combos, families)
        kernels = {f: Kernel("all") for f in sorted(set(families.values()))}
        decay_rows = []
        if self.learn_decay and types:
            kernels, decay_rows = learn_kernels(
                con,
                leads,
                np.asarray(y),
                base,
                families,
                X_extra,
                random_state=self.random_state,
                max_learning_leads=self.max_learning_leads,
                decay_C=self.decay_C,
                lookback_days=self.lookback_days,
            )
        features = _default_features(types, families, kernels, combos)
        for name in extra_kinds:
            feature = kind_of(name).fit_feature(types, families)
            if feature is not None:
                features.append(feature)
        self.spec_ = replace(
            base, features=tuple(features), known_types=tuple(types), families=families
        )
        self.decay_ = pd.DataFrame(decay_rows, columns=list(_DECAY_COLUMNS))
        self.activity_counts_ = read
        self.left_out_types_ = {t: n for t, n in read["types"].items() if t not in counted}
        self.activities_ = activities
        return self

    def _fit_given(self, leads, activities, con):
        """``fit`` with ``spec`` given: read the log, learn nothing."""
        spec = self.spec
        read = read_activities(con, activities, spec)
        leads = _check_leads(leads)
        register_leads(con, leads)
        counted = _counted_types(con, spec, len(leads), read["rows"])
        self.spec_ = spec
        self.decay_ = pd.DataFrame(columns=list(_DECAY_COLUMNS))
        self.activity_counts_ = read
        self.left_out_types_ = {
            t: n for t, n in read["types"].items() if t not in counted and t in spec.known_types
        }
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
            con = _engine(con)
            if activities is not None:
                read_activities(con, activities, self.spec_)
            yield con
            return
        log = self.activities_ if activities is None else activities
        with closing(_open(log, self.spec_)) as con:
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
        with self._log(activities, con) as con:
            register_leads(con, _check_leads(leads))
            frame = con.query(_features_sql(spec, con.dialect), stage="rule counts")
        return frame.drop(columns="lead_id").reset_index(drop=True)

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
            register_leads(con, _check_leads(leads))
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
        con : Engine or duckdb connection, optional
            An engine holding the log (the one given to :meth:`fit`),
            used as it is unless ``activities`` is given too: then that log
            is read into it. Without one, a connection is opened for the
            call and closed after it.

        Returns
        -------
        pandas.DataFrame
            One column per feature of ``spec_``, in the order of ``leads``.
        """
        check_is_fitted(self, "spec_")
        with self._log(activities, con) as con:
            register_leads(con, _check_leads(leads))
            frame = con.query(_features_sql(self.spec_, con.dialect), stage="behaviour features")
        return frame.drop(columns="lead_id").reset_index(drop=True)


def _open(activities, spec):
    """The engine holding the log (see :func:`~calibrate.io.activities.open_engine`), warned."""
    import warnings

    engine = open_engine(activities, spec)
    if engine.note:
        warnings.warn(engine.note, stacklevel=3)
    return engine


def _engine(con):
    """``con`` as an :class:`~calibrate.io.engines.Engine` (a DuckDB connection wrapped)."""
    from ..io.engines import DuckDBEngine, Engine

    return con if isinstance(con, Engine) else DuckDBEngine(con)


def _features_sql(spec, dialect: str) -> str:
    """The query of ``spec``'s features over the engine's log and leads, in lead order."""
    return activity_sql(
        spec,
        leads="calibrate_leads_frame",
        activities="calibrate_activities",
        decision_time="decision_time",
        order="calibrate_order",
        dialect=dialect,
    )


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


def _combos(combos, families) -> list[tuple]:
    """The combinations asked for, as tuples of types; each of two or more types seen."""
    combos = [tuple(c.split("+")) if isinstance(c, str) else tuple(c) for c in combos]
    for combo in combos:
        unknown = [t for t in combo if t not in families]
        if len(combo) < 2 or unknown:
            raise DataError(
                f"combination {'+'.join(combo)!r} needs two or more activity types seen in "
                "the log before the decisions of the leads fitted; unknown: "
                f"{format_examples(unknown)}"
            )
    return combos


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


def _refuse_ids_apart(con, total: int, n_leads: int, queries: LogQueries):
    """Refuse a log none of whose activities belongs to these leads.

    Every behaviour feature would then be 0: the ids are almost always
    written differently on the two sides (a prefix, leading zeros).
    """

    def examples(table):
        return format_examples([str(r[0]) for r in con.rows(queries.first_ids(table, 3))], 3)

    ours, theirs = examples("leads"), examples("log")
    raise DataError(
        f"none of the activity log's {int(total):,} activities belongs to any of the "
        f"{n_leads:,} leads fitted: their ids look like {ours}, the log's like {theirs}. "
        "Ids are matched as text without surrounding whitespace; write them the same way on both "
        "sides"
    )


#: The columns of a fitted featurizer's ``decay_``.
_DECAY_COLUMNS = (
    "family",
    "kernel",
    "half_life_days",
    "log_loss",
    "log_loss_no_decay",
    "improvement",
)


def _counted_types(con, spec: ActivitySpec, n_leads: int, total: int) -> dict:
    """``{type: activities}`` that count for these leads; refuses a log of which none does.

    An activity counts when it belongs to one of the leads, strictly before
    its decision time and within the look-back (as in
    :func:`~calibrate.sheet.sql.activity_sql`). A log none of whose
    ``total`` activities belongs to the leads is refused first, naming ids
    of both sides.
    """
    queries = LogQueries(con.dialect, spec.lookback_days)
    rows = con.rows(queries.type_counts(), stage="activity types of the leads")
    if not rows:
        _refuse_ids_apart(con, total, n_leads, queries)
    counted = {t: int(n) for t, n, _, _ in rows if n}
    if counted:
        return counted
    after, old = int(sum(r[2] for r in rows)), int(sum(r[3] for r in rows))
    shown = "; ".join(
        f"lead {lead!r} decided {pd.Timestamp(decided):%Y-%m-%d %H:%M:%S}, activities from "
        f"{pd.Timestamp(first):%Y-%m-%d %H:%M:%S} to {pd.Timestamp(last):%Y-%m-%d %H:%M:%S}"
        for lead, decided, first, last in con.rows(queries.spans(2))
    )
    raise DataError(
        f"none of the {after + old:,} activities of the {n_leads:,} leads fitted is before its "
        f"lead's decision time and within the {spec.lookback_days:,}-day look-back ({after:,} "
        f"on or after it, {old:,} older; e.g. {shown}): there is no behaviour to learn from; "
        f"check the decision time and the log's column {spec.occurred_at!r}"
    )


def _timing_counts(con, lookback_days: int) -> dict:
    """Activities of unknown leads, and those at or after the decision (left out)."""
    queries = LogQueries(con.dialect, lookback_days)
    unknown, ids, after, too_old = con.rows(queries.timing(), stage="timing counts")[0]
    examples = [r[0] for r in con.rows(queries.unknown_ids(5))] if unknown else []
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
