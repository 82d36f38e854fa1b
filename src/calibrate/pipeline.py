"""Pipeline: ingest -> features -> model -> points -> threshold -> export, in one call.

:func:`fit` is what the command line's ``calibrate fit`` and a notebook call.
It returns a :class:`Calibration`: the fitted :class:`~calibrate.Scorecard`,
the hold-out metrics, the recommended threshold, the calibration table and
the exported :class:`~calibrate.ScoringConfig`, all as plain values and
DataFrames.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing, contextmanager

import numpy as np
import pandas as pd
from scipy.stats import kendalltau
from sklearn.metrics import roc_auc_score

from .decide.evaluation import hold_out, no_signal_warning, sheet_warnings
from .decide.side_rules import line_win_rate, two_axis_rule
from .decide.threshold import (
    calibration_table,
    default_levels,
    expected_calibration_error,
    fast_track_evidence,
    level_table,
    parse_levels,
    recommend_threshold,
    weekly_volume,
)
from .errors import DataError, ParameterError, format_examples
from .io.ingest import LeadData, load_leads
from .learn.binning import LeadBinner
from .learn.model import LeadScoreModel, check_evidence, evaluate_probabilities, split_holdout
from .learn.points import Scorecard
from .production.record import build_config, recency_record
from .result import Behaviour, Calibration, Decision
from .settings import ActivitySettings, LeadColumns, ModelSettings, PolicySettings, PreviousSheet

__all__ = ["fit", "fit_with"]


def fit(
    data,
    *,
    outcome: str,
    positive=None,
    id: str | None = None,
    exclude: Mapping[str, str] | Iterable[str] = (),
    date: str | None = None,
    activities=None,
    decided_at: str | None = None,
    activity_columns: Mapping[str, str] | None = None,
    detail_rules: Iterable[str] = (),
    combos: Iterable[str] = (),
    families: Mapping[str, str] | None = None,
    learn_decay: bool = True,
    extra_features: Iterable[str] = (),
    holdout: float = 0.3,
    seed: int = 0,
    types: Mapping[str, str] | None = None,
    implicit: Iterable[str] = (),
    explicit: Iterable[str] = (),
    win_value: float = 5000.0,
    cost_per_lead: float = 250.0,
    policy: str = "expected_value",
    capacity: Mapping[str, float] | None = None,
    target: Mapping[str, float] | None = None,
    levels: str | None = None,
    fast_track: Iterable[str] | None = None,
    monotone: Mapping[str, object] | None = None,
    bootstrap: int = 100,
    current_sheet=None,
    max_bins: int = 10,
    choose_bins: bool = True,
    max_pairs: int = 8,
    recency_half_life: float | str | None = None,
    keep_structure=None,
    keep_threshold: bool = False,
    sep: str | None = None,
    encoding: str = "utf-8-sig",
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """Learn a points sheet and an MQL threshold from past leads.

    Parameters
    ----------
    data : str, os.PathLike, Source or pandas.DataFrame
        Past leads, one row each, with their outcome: a CSV or Parquet file, a
        glob or folder of them, a :class:`~calibrate.io.sources.Source` (a DuckDB
        file or a database URL with its table or query), or a DataFrame.
    outcome : str
        Outcome column: boolean, 0/1 or two labels (see ``positive``).
    positive : optional
        The outcome value meaning won, when not evident.
    id : str, optional
        Lead id column (unique); row numbers when omitted.
    exclude : mapping or iterable of str
        Columns not to use, optionally with the reason: ``{"duration": "known
        only after the call"}`` or ``["duration:known only after the call"]``.
    date : str, optional
        Date ordering the leads; the hold-out is then the latest leads.
    activities : str, os.PathLike, Source or pandas.DataFrame, optional
        Activity log, one row per activity (files, a Source or a DataFrame).
        Behaviour features are learned from it; ``decided_at`` is needed.
    decided_at : str, optional
        When the hand-off decision was made for each lead: a column or
        ``"COLUMN - N days"``. Only activity strictly before it counts; it
        also orders the hold-out when ``date`` is not given.
    activity_columns : mapping, optional
        Column names of the log: ``lead_id``, ``activity_type``,
        ``occurred_at`` (defaults as named) and ``detail`` (none by default).
    detail_rules : iterable of str
        Re-type activities by detail: ``"page_view:/pricing*=pricing_page_view"``.
    combos : iterable of str
        Activity types done together that may earn points:
        ``"whitepaper_download+case_study_view"``.
    families : mapping, optional
        ``{activity type: family}``; a family shares one decay.
    learn_decay : bool, default=True
        Learn each family's half-life; otherwise behaviour never fades.
    extra_features : iterable of str
        Optional activity feature kinds besides the defaults:
        ``"distinct_weeks"`` (active in N different weeks of the last 90 days).
    holdout : float, default=0.3
        Share of leads held out for evaluation.
    seed : int, default=0
        Seed of the random split and cross-validation folds.
    types : mapping, optional
        Column kinds overriding inference: numeric, categorical, boolean.
    implicit, explicit : iterable of str
        Columns to label behaviour (implicit) or fit (explicit).
    win_value, cost_per_lead : float
        The expected-value threshold policy: pass a lead when its win
        probability times ``win_value`` covers ``cost_per_lead``.
    policy : {"expected_value", "sales_capacity", "target"}
        The policy that sets the MQL threshold. Every policy given its
        parameters is evaluated and recorded in the config.
    capacity : mapping, optional
        :class:`~calibrate.decide.threshold.SalesCapacity` parameters:
        ``leads_per_week``, or ``reps`` and ``follow_ups_per_rep_per_day``;
        optionally ``sla_hours`` and ``working_days``.
    target : mapping, optional
        :class:`~calibrate.decide.threshold.TargetRate` parameters: ``precision`` or
        ``recall``.
    levels : str, optional
        Score levels ``"A=80,B=60,C=40"``; by default hot/warm/nurture.
    fast_track : iterable of str, optional
        Hand-raiser signals to test for fast-tracking: activity types, or
        boolean lead columns. By default, activity types of the hand-raiser
        family or named like pricing/demo/contact/trial/quote, and boolean lead
        columns named so.
    monotone : mapping, optional
        ``{column: "increasing" | "decreasing" | "auto" | "none" | [levels]}``.
        Behaviour (implicit) numeric criteria are monotone by default, in the
        direction the data says ("auto"): more of a positive behaviour never
        earns fewer points. A list of levels orders a categorical criterion
        (e.g. seniority from Student to C-level) and makes it increasing.
    bootstrap : int, default=100
        Bootstrap refits for the 95% interval of every band's points; 0
        skips them.
    recency_half_life : float, "auto" or None, default=None
        Weigh training leads by their recency: half as much every this many
        days before the latest (needs ``date`` or ``decided_at``); ``"auto"``
        chooses the half-life by time-ordered validation, and the config
        records it.
    keep_structure : ScoringConfig, str or os.PathLike, optional
        A previous sheet: refit only its points, on its criteria and bands,
        so that marketing's tool needs only new point values.
    keep_threshold : bool, default=False
        With ``keep_structure``: keep its MQL threshold, the points shifted
        so that it passes the same share of leads as before.
    current_sheet : str or os.PathLike, optional
        The hand-made sheet in use today (YAML or CSV, see
        :mod:`calibrate.decide.current_sheet`), compared with the calibrated one on
        the hold-out leads. Its rules read criterion columns of the lead
        table, or activity types.
    max_bins : int, default=10
        Most ranges per numeric criterion.
    choose_bins : bool, default=True
        Choose each numeric criterion's number of ranges, up to ``max_bins``,
        by cross-validation; False cuts each into ``max_bins`` ranges as far
        as its leads allow.
    max_pairs : int, default=8
        Most pair rules ("seniority in VP|C-level and company_size >= 500"),
        each kept only when it lowers the cross-validated log loss; 0 adds none.
    sep : str, optional
        CSV separator; sniffed by default.
    encoding : str, default="utf-8-sig"
        Text encoding of a CSV file.
    progress : callable, optional
        Called with the name of every step as it starts (``"read"``,
        ``"split"``, ``"fit"``, ``"points"``, ``"threshold"``, ``"export"``).

    Returns
    -------
    Calibration

    Notes
    -----
    With an id column the leads are taken in the order of their ids, so the
    same leads give the same config whatever order their source returns
    them in (a database table has none). ``result.leads`` is in that order.
    Without one they are taken in the order of a hash of each row's values,
    with the same effect; their ids are then their row numbers in the source.

    Examples
    --------
    >>> from calibrate.datasets import make_leads
    >>> result = fit(make_leads(3000, seed=0), outcome="converted", id="lead_id",
    ...              date="created_at", seed=0)
    >>> result.metrics["holdout_auc_points"] > 0.7
    True
    >>> list(result.points_sheet.columns[:4])
    ['criterion', 'group', 'band', 'points']
    """
    return fit_with(
        data,
        LeadColumns(
            outcome,
            positive=positive,
            id=id,
            exclude=exclude,
            date=date,
            decided_at=decided_at,
            types=types,
            implicit=implicit,
            explicit=explicit,
            sep=sep,
            encoding=encoding,
        ),
        activities=activities,
        activity=ActivitySettings(
            columns=activity_columns,
            detail_rules=detail_rules,
            combos=combos,
            families=families,
            learn_decay=learn_decay,
            extra_features=extra_features,
        ),
        policy=PolicySettings(
            policy=policy,
            win_value=win_value,
            cost_per_lead=cost_per_lead,
            capacity=capacity,
            target=target,
            levels=levels,
            fast_track=fast_track,
        ),
        model=ModelSettings(
            holdout=holdout,
            seed=seed,
            monotone=monotone,
            bootstrap=bootstrap,
            max_bins=max_bins,
            choose_bins=choose_bins,
            max_pairs=max_pairs,
            recency_half_life=recency_half_life,
        ),
        current_sheet=current_sheet,
        progress=progress,
        previous=_previous(keep_structure, keep_threshold),
    )


def _previous(keep_structure, keep_threshold) -> PreviousSheet | None:
    if keep_structure is None:
        if keep_threshold:
            raise ParameterError(
                "keep_threshold needs the previous sheet: give keep_structure=OLD_CONFIG"
            )
        return None
    return PreviousSheet(keep_structure, structure=True, threshold=bool(keep_threshold))


def fit_with(
    data,
    columns: LeadColumns,
    *,
    activities=None,
    activity: ActivitySettings | None = None,
    policy: PolicySettings | None = None,
    model: ModelSettings | None = None,
    current_sheet=None,
    progress: Callable[[str], None] | None = None,
    previous: PreviousSheet | None = None,
) -> Calibration:
    """Learn a points sheet and an MQL threshold, from settings objects.

    The steps of a fit, in order: read and check the leads, split them,
    build behaviour features from the activity log, fit the scorecard,
    score the hold-out leads, decide (threshold, levels, fast-track, two
    axes), measure, and build the config. :func:`fit` takes the same
    settings as keyword arguments.

    Parameters
    ----------
    data : str, os.PathLike, Source or pandas.DataFrame
        Past leads, one row each, with their outcome.
    columns : LeadColumns
        How to read the lead table.
    activities : str, os.PathLike, Source or pandas.DataFrame, optional
        The activity log.
    activity, policy, model : optional
        :class:`ActivitySettings`, :class:`PolicySettings` and
        :class:`ModelSettings`; their defaults when None.
    current_sheet : str or os.PathLike, optional
        The sheet in use today, to compare with.
    progress : callable, optional
        Called with the name of every step as it starts.
    previous : PreviousSheet, optional
        A previous sheet whose structure (and threshold) the fit keeps.

    Returns
    -------
    Calibration

    Examples
    --------
    >>> from calibrate.datasets import make_leads
    >>> result = fit_with(make_leads(3000, seed=0), LeadColumns("converted", id="lead_id"),
    ...                   model=ModelSettings(bootstrap=0))
    >>> result.metrics["signal"]
    'usable'
    """
    activity = activity or ActivitySettings()
    policy = policy or PolicySettings()
    model = model or ModelSettings()
    step = progress or (lambda name: None)
    policies = policy.policies()
    step("read")
    leads = _in_id_order(load_leads(data, **columns.read_options()))
    step("split")
    y = leads.outcome.to_numpy()
    check_evidence(y)
    train, held = split_holdout(
        y, fraction=model.holdout, dates=leads.dates, random_state=model.seed
    )
    thin = check_evidence(y, train, held)
    # One engine holds the activity log for every step that reads it.
    with _log_connection(activities, activity, progress) as con:
        X, column_types, groups, behaviour = _featurize(
            leads, train, activities, activity, model, step, con, previous
        )
        kept, kept_pairs = _kept_structure(previous, X, behaviour)
        X = X[list(kept)] if kept else X
        model = _with_kind_orders(model, behaviour)
        step("fit")
        recency = _recency(leads, train, X.iloc[train], y[train], column_types, groups, model)
        card = _fit_scorecard(
            X.iloc[train], y[train], column_types, groups, model, recency.get("weights"),
            kept, kept_pairs,
        )  # fmt: skip
        step("points")
        holdout = hold_out(card, X, y, held)
        chosen = policy.policy
        if previous is not None and previous.threshold:
            card, policies["kept"] = _keep_threshold(previous.config, card, X, y, held)
            holdout, chosen = hold_out(card, X, y, held), "kept"
        quality = evaluate_probabilities(holdout.y, holdout.proba)
        step("threshold")
        decision, table = _decide(card, holdout, leads, behaviour, policy, policies, con, chosen)
        comparison = None
        if current_sheet is not None:
            comparison = _compare_current(
                current_sheet, leads, behaviour, held, holdout, card, decision, con
            )
    training = (X.iloc[train], y[train])
    warnings = _warnings(card, holdout, thin, leads, behaviour, training, quality, model.seed)
    metrics = _metrics(card, holdout, quality, leads, train, decision.choice, comparison, model)
    if recency:
        metrics["recency"] = recency_record(recency)
    metrics["warnings"] = list(warnings)
    step("export")
    config = build_config(
        card, leads, metrics, decision, table, train, held, model.seed, model.holdout, behaviour
    )
    if previous is not None:
        metrics["previous"] = _since_previous(previous.config, config, X, y)
    return Calibration(
        scorecard=card,
        config=config,
        metrics=metrics,
        threshold=decision.choice,
        decision=decision,
        calibration=table,
        leads=leads,
        train_rows=train,
        holdout_rows=held,
        holdout=holdout,
        warnings=tuple(warnings),
        behaviour=behaviour,
        comparison=comparison,
    )


def _warnings(card, holdout, thin, leads, behaviour, training, quality, seed) -> list[str]:
    """What the fit warns of, in order: no signal, thin evidence, the data, the sheet, the log."""
    warnings = [] if holdout.signal == "usable" else [no_signal_warning(*holdout.auc_interval)]
    warnings += thin + list(leads.warnings)
    warnings += sheet_warnings(card, holdout, *training, quality["auc"], seed)
    if behaviour is not None:
        warnings += behaviour.warnings
    return warnings


@contextmanager
def _log_connection(activities, activity: ActivitySettings, progress=None):
    """The engine that holds the activity log, closed after the fit; None without one.

    PostgreSQL for a PostgreSQL table or query, Spark for a Spark DataFrame
    or ``spark:`` location, otherwise DuckDB on this machine (see
    :func:`calibrate.io.activities.open_engine`).
    """
    if activities is None:
        yield None
        return
    from .io.activities import open_engine
    from .sheet.activity import ActivitySpec

    spec = ActivitySpec(occurred_at=activity.columns.get("occurred_at") or "occurred_at")
    with closing(open_engine(activities, spec, progress=progress)) as con:
        yield con


def _featurize(leads, train, activities, activity, model, step, con, previous=None):
    """The criteria of every lead: lead columns, and behaviour from the log."""
    X = leads.features
    column_types, groups = dict(leads.column_types), dict(leads.groups)
    behaviour = None
    if activities is not None:
        step("activities")
        behaviour = _behaviour_features(leads, train, activities, activity, model, con, previous)
        X = pd.concat([X, behaviour.features], axis=1)
        for feature in behaviour.featurizer.spec_.features:
            column_types[feature.name] = feature.column_kind
            groups[feature.name] = "implicit"
    return X, column_types, groups, behaviour


def _with_kind_orders(model: ModelSettings, behaviour) -> ModelSettings:
    """The settings with the points order of behaviour features whose kind fixes it.

    A monotone rule the user gave for a feature wins over its kind's order.
    """
    if behaviour is None:
        return model
    from dataclasses import replace

    orders = {
        f.name: f.points_order
        for f in behaviour.featurizer.spec_.features
        if f.points_order is not None
    }
    return replace(model, monotone={**orders, **model.monotone}) if orders else model


def _kept_structure(previous, X, behaviour) -> tuple[dict, list]:
    """The previous sheet's structure a refit keeps: ``{column: Criterion}`` and pair rules.

    Empty without a previous sheet whose structure is kept.
    """
    if previous is None or not previous.structure:
        return {}, []
    config = previous.config
    singles = [c for c in config.criteria if c.kind != "pair"]
    missing = [c.column for c in singles if c.column not in X.columns]
    if missing:
        raise DataError(
            f"the previous sheet's criteria read {len(missing)} column(s) these leads do not "
            f"have: {format_examples(missing)}"
        )
    pairs = [c.with_points([0] * len(c.cells)) for c in config.criteria if c.kind == "pair"]
    return {c.column: c for c in singles}, pairs


def _since_previous(old, new, X, y) -> dict:
    """What changed since the previous sheet, and why: its monitor on these leads, and the diff.

    The previous sheet scores every lead of this fit with its outcome; the
    alerts say what no longer holds (:mod:`calibrate.drift`), the diff what
    the refit moved.
    """
    from .drift import alerts, measure
    from .production.record import plain_json
    from .production.rules import diff_configs

    bare = _on_columns(old)
    found = alerts(measure(bare, bare.score(X, bands=True), X, won=y))
    return plain_json(
        {
            "checksum": old.to_dict()["checksum"],
            "alerts": found,
            "diff": diff_configs(old, new),
        }
    )


def _on_columns(config):
    """The config scoring a fit's criteria frame: behaviour as its feature columns, no log.

    Its id column and fast-track rules (which read the log) are left out;
    the points and threshold are the config's.
    """
    from dataclasses import replace

    threshold = {**config.threshold, "fast_track": []}
    return replace(config, activities={}, id_column=None, threshold=threshold)


def _keep_threshold(config, card, X, y, held):
    """The refitted sheet shifted so that the previous MQL threshold passes the same share.

    Both sheets score the hold-out leads; the new base points move by the
    difference between the previous threshold and the new score that passes
    the share of leads the previous sheet passed at it.
    """
    from .decide.policies import KeptThreshold

    X_hold = X.iloc[held]
    before = _on_columns(config).score(X_hold)["score"].to_numpy()
    share = float(np.mean(before >= config.mql_threshold))
    scores = card.predict_score(X_hold)
    candidates = np.arange(card.min_score, card.max_score + 1)
    passed = np.array([np.mean(scores >= t) for t in candidates])
    target = int(candidates[np.argmin(np.abs(passed - share))])
    shifted = card.with_base_points(card.base_points_ + config.mql_threshold - target)
    return shifted, KeptThreshold(mql=config.mql_threshold, share_passed_before=share)


def _recency(leads, train, X_train, y_train, column_types, groups, model) -> dict:
    """The training leads' recency weights, and how their half-life was chosen.

    Empty without recency weighting; else ``weights``, ``half_life_days``,
    ``chosen_by`` and, for ``"auto"``, every candidate's ``candidates`` log loss.
    """
    setting = model.recency_half_life
    if setting is None:
        return {}
    from .learn.recency import choose_half_life, recency_weights

    if leads.dates is None:
        raise DataError(
            "recency weighting needs the leads' dates: name a date column (--date or --decided-at)"
        )
    dates = leads.dates.to_numpy()[train]
    out = {"chosen_by": "given"}
    half_life = setting
    if setting == "auto":
        estimator = _lead_model(column_types, groups, model)
        half_life, out["candidates"] = choose_half_life(estimator, X_train, y_train, dates)
        out["chosen_by"] = "time-ordered validation (latest 20% of training leads)"
    out["half_life_days"] = half_life
    out["weights"] = recency_weights(dates, half_life)
    return out


def _fit_scorecard(
    X_train, y_train, column_types, groups, model: ModelSettings, weights=None, kept=None,
    kept_pairs=(),
):  # fmt: skip
    """Bands, weights and integer points on the training leads (weighted by ``weights``).

    With ``kept`` (``{column: Criterion}``), those criteria keep their bands,
    and the pair rules ``kept_pairs`` their conditions.
    """
    card = Scorecard(
        model=_lead_model(column_types, groups, model, kept, kept_pairs),
        n_bootstrap=model.bootstrap,
        random_state=model.seed,
    )
    return card.fit(X_train, y_train, sample_weight=weights)


def _lead_model(
    column_types, groups, model: ModelSettings, kept=None, kept_pairs=()
) -> LeadScoreModel:
    """The unfitted model of a fit: its bands and monotone rules.

    Behaviour (implicit) numeric criteria are monotone in the direction the
    data says, unless a rule says otherwise. Kept criteria (``{column:
    Criterion}``) keep their bands, and kept pair rules their conditions: no
    band is pooled, so no order is enforced, and no other pair is searched.
    """
    if kept:
        binner = LeadBinner(max_bins=model.max_bins, fixed=kept)
        return LeadScoreModel(
            binner=binner, pairs=list(kept_pairs) or None, random_state=model.seed
        )
    rules = {
        c: "auto"
        for c, kind in column_types.items()
        if kind == "numeric" and groups[c] == "implicit"
    }
    for column, rule in model.monotone.items():
        if column not in column_types:
            raise DataError(f"monotone rule for {column!r}: no such criterion")
        rules[column] = rule
    rules = {c: r for c, r in rules.items() if r != "none"}
    binner = LeadBinner(max_bins=model.max_bins, column_types=column_types, groups=groups)
    return LeadScoreModel(
        binner=binner,
        monotone=rules,
        choose_bins=model.choose_bins,
        max_pairs=model.max_pairs,
        random_state=model.seed,
    )


def _decide(card, holdout, leads, behaviour, settings, policies, con=None, chosen=None):
    """Every policy's threshold, the levels, fast-track rules and the two axes."""
    scores, y_hold = holdout.scores, holdout.y
    volume = weekly_volume(leads.dates)
    choices = {
        name: recommend_threshold(scores, y_hold, policy=p, volume=volume)
        for name, p in policies.items()
    }
    choice = choices[chosen or settings.policy]
    table = calibration_table(scores, y_hold)
    level_list = (
        parse_levels(settings.levels, min_score=card.min_score)
        if settings.levels
        else default_levels(scores, y_hold, choice.threshold)
    )
    levels_frame = level_table(scores, y_hold, level_list, max_score=card.max_score)
    scale = {"min_score": card.min_score, "max_score": card.max_score}
    p_line = line_win_rate(scores, y_hold, choice.threshold, **scale)
    y = leads.outcome.to_numpy()
    evidence = _fast_track_evidence(leads, behaviour, settings.fast_track, y, float(p_line), con)
    decision = Decision(
        choice=choice,
        choices=choices,
        levels=levels_frame,
        fast_track=evidence,
        two_axis=_two_axis(card, holdout.X, y_hold, policies["expected_value"]),
        volume=volume,
    )
    return decision, table


def _metrics(card, holdout, quality, leads, train, choice, comparison, model) -> dict:
    """The hold-out metrics of ``metrics.json``."""
    scores, y_hold = holdout.scores, holdout.y
    ece, _ = expected_calibration_error(scores, y_hold, random_state=model.seed)
    tau = kendalltau(holdout.proba, scores).statistic
    auc_points, auc_low, auc_high = holdout.auc_interval
    metrics = {
        "holdout_auc_model": quality["auc"],
        "holdout_auc_points": float(roc_auc_score(y_hold, scores)),
        "holdout_auc_points_interval": [auc_low, auc_high],
        "signal": holdout.signal,
        "holdout_auc_lost_to_rounding": quality["auc"] - float(roc_auc_score(y_hold, scores)),
        "holdout_kendall_tau": float(tau),
        "holdout_brier": quality["brier"],
        "holdout_calibration_error": ece,
        "holdout_log_loss": quality["log_loss"],
        "holdout_win_rate": quality["win_rate"],
        "n_train": int(len(train)),
        "n_holdout": int(len(y_hold)),
        "n_criteria": len(card.criteria_),
        "split": "time-ordered" if leads.dates is not None else "stratified",
        "threshold": choice.threshold,
        "share_passed": choice.share_passed,
        "share_wins_captured": choice.share_wins_captured,
        "win_rate_passed": choice.win_rate_passed,
        "regularisation_C": card.model_.C_,
        "pair_rules": len(card.model_.pairs_),
        "pair_rules_judged": int(card.model_.pair_search_["cv_log_loss"].notna().sum()),
    }
    if comparison is not None:
        metrics["current_sheet_auc"] = comparison["current"]["auc"]
        metrics["current_sheet_share_wins_captured"] = comparison["current"]["share_wins_captured"]
    return metrics


def _in_id_order(leads: LeadData) -> LeadData:
    """The leads sorted by id, so that the fit does not depend on the order of the rows.

    A database table has no order: the same leads read from it, from a
    Parquet export or from a CSV file give the same config. Without an id
    column the row numbers are the ids, and the leads are taken in the order
    of a hash of their values (outcome and dates included), so the split too
    depends on the rows' content, not on where they stand.
    """
    if leads.id_column is None:
        order = np.argsort(leads.content_hash(), kind="stable")
    else:
        import pyarrow as pa
        import pyarrow.compute as pc

        ids = pa.array(leads.ids.astype(str).to_numpy(dtype=object), type=pa.large_string())
        order = pc.sort_indices(ids).to_numpy()
    if (order == np.arange(len(order))).all():
        return leads
    return leads.subset(order)


def _behaviour_features(
    leads, train, activities, activity: ActivitySettings, model, con, previous=None
):
    """Learn behaviour features (and their decay) from the training leads' activity.

    With a previous sheet whose structure is kept, its features are computed as they are.
    """
    from .learn.behaviour import ActivityFeaturizer

    if leads.decision_times is None:
        raise DataError(
            "behaviour from an activity log needs each lead's decision time: name it with "
            "--decided-at COLUMN (or 'COLUMN - N days')"
        )
    frame = pd.DataFrame({"lead_id": leads.ids, "decision_time": leads.decision_times})
    # Who the lead is, as a one-hot design, sharpens the choice of decay.
    explicit = LeadBinner(
        max_bins=model.max_bins, column_types=leads.column_types, groups=leads.groups
    ).fit(leads.features.iloc[train], leads.outcome.to_numpy()[train])
    featurizer = ActivityFeaturizer(
        **activity.columns,
        detail_rules=activity.detail_rules,
        families=activity.families,
        combos=activity.combos,
        learn_decay=activity.learn_decay,
        extra_features=activity.extra_features,
        random_state=model.seed,
    )
    if previous is not None and previous.structure and previous.config.activity_spec:
        featurizer = ActivityFeaturizer(
            spec=previous.config.activity_spec, random_state=model.seed
        )
    featurizer.fit(
        frame.iloc[train].reset_index(drop=True),
        leads.outcome.to_numpy()[train],
        activities,
        X_extra=explicit.one_hot(leads.features.iloc[train]),
        con=con,
    )
    features = featurizer.transform(frame, con=con)
    clash = sorted(set(features.columns) & set(leads.features.columns))
    if clash:
        raise DataError(
            f"behaviour feature(s) {clash} have the names of lead table columns; rename or "
            "exclude those columns"
        )
    counts = featurizer.timing_counts(frame, con=con)
    warnings = [con.note] if getattr(con, "note", None) else []
    if counts["unknown_lead_rows"]:
        warnings.append(
            f"{counts['unknown_lead_rows']:,} activities belong to {counts['unknown_lead_ids']:,} "
            f"lead ids not in the lead table (e.g. {', '.join(counts['unknown_lead_examples'])}); "
            "they were not used"
        )
    left_out = featurizer.left_out_types_
    if left_out:
        listed = ", ".join(f"{t!r} ({n:,})" for t, n in left_out.items())
        warnings.append(
            f"no activity of type(s) {listed} is before the decision time of a training lead "
            f"(within the {featurizer.lookback_days:,}-day look-back): they are not criteria"
        )
    return Behaviour(
        featurizer=featurizer, features=features, counts=counts, warnings=tuple(warnings)
    )


#: Hand-raiser signals tried for fast-tracking when none are named.
HAND_RAISER = re.compile(r"pricing|demo|contact|trial|quote|sales_request|call_request", re.I)
FAST_TRACK_DAYS = 30


def _fast_track_evidence(leads, behaviour, candidates, y, reference, con=None) -> pd.DataFrame:
    """Test hand-raiser signals: leads showing them vs leads at the MQL line."""
    from .sheet.activity import fast_track_feature

    flags, kinds = {}, {}
    columns = [
        c
        for c, kind in leads.column_types.items()
        if kind == "boolean" and (candidates is None and HAND_RAISER.search(c))
    ]
    types = []
    if behaviour is not None:
        spec = behaviour.featurizer.spec_
        types = [
            t
            for t in spec.known_types
            if candidates is None
            and (spec.families.get(t) == "hand-raiser" or HAND_RAISER.search(t))
        ]
    for name in candidates or ():
        if name in leads.column_types and leads.column_types[name] == "boolean":
            columns.append(name)
        elif behaviour is not None and name in behaviour.featurizer.spec_.known_types:
            types.append(name)
        else:
            raise DataError(
                f"fast-track candidate {name!r} is neither a boolean lead column nor an "
                "activity type seen before a training lead's decision"
            )
    for column in columns:
        flags[column] = (leads.features[column] == "true").to_numpy()
        kinds[column] = "column"
    if types:
        frame = pd.DataFrame({"lead_id": leads.ids, "decision_time": leads.decision_times})
        features = {t: fast_track_feature(t, FAST_TRACK_DAYS) for t in types}
        counts = behaviour.featurizer.evaluate(frame, list(features.values()), con=con)
        for t, feature in features.items():
            flags[t] = counts[feature.name].to_numpy() > 0
            kinds[t] = "activity"
    days = {c: FAST_TRACK_DAYS if kind == "activity" else None for c, kind in kinds.items()}
    return fast_track_evidence(flags, y, reference, within_days=days)


def _compare_current(path, leads, behaviour, held, holdout, card, decision, con=None):
    """Score the hold-out leads with the sheet in use today and compare."""
    from .decide.current_sheet import compare_sheets, read_current_sheet
    from .sheet.feature import ActivityFeature, Kernel

    sheet = read_current_sheet(path)
    X_hold, y_hold, scores = holdout.X, holdout.y, holdout.scores
    frame = X_hold.reset_index(drop=True).copy()
    counted = [r for r in sheet.rules if r.activity is not None]
    if counted:
        if behaviour is None:
            raise DataError("the current sheet has activity rules: give the activity log too")
        featurizer = behaviour.featurizer
        unknown = [r.activity for r in counted if r.activity not in featurizer.spec_.known_types]
        if unknown:
            raise DataError(
                f"the current sheet counts activity types never seen before a training lead's "
                f"decision: {unknown}"
            )
        features = [
            ActivityFeature(
                f"activity:{r.activity}|{r.within_days or 0:g}",
                "count",
                (r.activity,),
                kernel=Kernel("window", float(r.within_days)) if r.within_days else Kernel("all"),
            )
            for r in counted
        ]
        ids = pd.DataFrame(
            {
                "lead_id": leads.ids.iloc[held].to_numpy(),
                "decision_time": leads.decision_times.iloc[held].to_numpy(),
            }
        )
        counts = featurizer.evaluate(ids, features, con=con)
        for feature in features:
            frame[feature.name] = counts[feature.name].to_numpy()
    breakdown = card.score_breakdown(X_hold).reset_index(drop=True)
    return compare_sheets(sheet, frame, y_hold, scores, decision.choice.threshold, breakdown)


def _two_axis(card, X, y, policy) -> dict | None:
    groups = {c.name: c.group for c in card.criteria_}
    return two_axis_rule(card.score_breakdown(X), groups, card.base_points_, y, policy=policy)
