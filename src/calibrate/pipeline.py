"""Pipeline: ingest -> features -> model -> points -> threshold -> export, in one call.

:func:`fit` is what the command line's ``calibrate fit`` and a notebook call.
It returns a :class:`Calibration`: the fitted :class:`~calibrate.Scorecard`,
the hold-out metrics, the recommended threshold, the calibration table and
the exported :class:`~calibrate.ScoringConfig`, all as plain values and
DataFrames.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau
from sklearn.metrics import roc_auc_score

from . import __version__
from ._files import write_files
from .export import ScoringConfig
from .features import LeadBinner
from .ingest import LeadData, load_leads
from .model import (
    LeadScoreModel,
    auc_interval,
    check_evidence,
    evaluate_probabilities,
    split_holdout,
)
from .points import Scorecard
from .threshold import (
    ExpectedValue,
    SalesCapacity,
    TargetRate,
    ThresholdChoice,
    calibration_table,
    default_levels,
    expected_calibration_error,
    fast_track_evidence,
    level_table,
    parse_levels,
    recommend_threshold,
    two_axis_policy,
    weekly_volume,
    win_probability,
)

__all__ = ["Calibration", "fit"]

#: A single criterion ranking hold-out leads this well is probably known only
#: after the outcome (leakage) and is flagged in the warnings.
LEAKAGE_AUC = 0.9

#: A share of hold-out leads at an end of the scale (and 3 times the training
#: share) past which they are flagged as beyond the training range.
EDGE_SHARE = 0.05


@dataclass(frozen=True)
class Calibration:
    """The result of :func:`fit`: a points sheet, its evidence and its config.

    Attributes
    ----------
    scorecard : Scorecard
        The fitted points sheet (and the unrounded model behind it).
    config : ScoringConfig
        Everything production needs, as exported to ``scoring_config.json``.
    metrics : dict
        Hold-out quality: AUC of the model and of the integer sheet, Brier
        score, log loss, Kendall's tau, counts, the threshold.
    threshold : ThresholdChoice
        The recommended MQL threshold and its trade-off curve.
    decision : Decision
        Every policy's threshold, the levels, fast-track evidence and the
        two-axis (fit and engagement) policy.
    calibration : pandas.DataFrame
        Win rate per score band on hold-out leads.
    leads : LeadData
        The checked input.
    train_rows, holdout_rows : ndarray of int
        Row positions of the training and hold-out leads.
    warnings : tuple of str
        Things worth a look.
    behaviour : Behaviour or None
        Behaviour features learned from an activity log, when one was given.
    comparison : dict or None
        The sheet in use today beside the calibrated one (see
        :func:`calibrate.current_sheet.compare_sheets`), when one was given.
    """

    scorecard: Scorecard
    config: ScoringConfig
    metrics: dict
    threshold: ThresholdChoice
    decision: Decision
    calibration: pd.DataFrame
    leads: LeadData
    train_rows: np.ndarray
    holdout_rows: np.ndarray
    warnings: tuple = ()
    behaviour: Behaviour | None = None
    comparison: dict | None = None

    @property
    def points_sheet(self) -> pd.DataFrame:
        """The points sheet: one row per band with its points, lead count and win rate.

        With bootstrap intervals, also points_low, points_high and flag.
        """
        sheet = self.scorecard.points_.drop(columns=["coef", "points_unrounded"])
        return sheet.reset_index(drop=True)

    @property
    def metrics_frame(self) -> pd.DataFrame:
        """The metrics as a one-column DataFrame, for display."""
        return pd.DataFrame({"value": pd.Series(self.metrics)})

    def score(self, data, **kwargs) -> pd.DataFrame:
        """Score leads with the exported config (what production will do).

        Keyword arguments (``activities``, ``as_of``, ``breakdown``...) go to
        :func:`calibrate.scorer.score_leads`.
        """
        return self.config.score(data, **kwargs)

    def report(self):
        """The review report, measured on the hold-out leads.

        Returns
        -------
        Report
            ``.html`` (standalone page), ``.pdf`` (the same, as PDF bytes),
            ``.summary`` and ``.save(folder)``; see :func:`calibrate.report.fit_report`.
        """
        from .report import fit_report

        return fit_report(self)

    def report_html(self) -> str:
        """The review report as standalone HTML."""
        return self.report().html

    def save(
        self, out_dir: os.PathLike | str, sign_key: bytes | str | None = None
    ) -> dict[str, Path]:
        """Write the config, the metrics and the report (HTML and PDF), all or none.

        Writes ``scoring_config.json``, ``metrics.json``, ``report.html`` and
        ``report.pdf``; if any of them cannot be written, none is. With
        ``sign_key`` (bytes, or text encoded as UTF-8), the config is signed
        (see :class:`~calibrate.export.ScoringConfig`); without it, it is the
        same file as ever.

        Returns
        -------
        dict
            ``{"config": path, "metrics": path, "report": path, "report_pdf": path}``.
        """
        out = Path(os.fspath(out_dir))
        if out.exists() and not out.is_dir():
            from .errors import CalibrateError

            raise CalibrateError(f"cannot write to {out}: it is a file, not a folder")
        report = self.report()
        files = {
            "config": (out / "scoring_config.json", self.config.to_json(sign_key=sign_key)),
            "metrics": (out / "metrics.json", _json(self.metrics)),
            "report": (out / "report.html", report.html),
            "report_pdf": (out / "report.pdf", report.pdf),
        }
        write_files(dict(files.values()))
        return {name: path for name, (path, _) in files.items()}

    def _repr_html_(self) -> str:
        head = pd.DataFrame(
            {
                "hold-out AUC (model)": [self.metrics["holdout_auc_model"]],
                "hold-out AUC (points)": [self.metrics["holdout_auc_points"]],
                "MQL threshold": [self.metrics["threshold"]],
                "leads passed": [self.metrics["share_passed"]],
                "wins captured": [self.metrics["share_wins_captured"]],
            }
        )
        return (
            "<h4>calibrate: points sheet</h4>"
            + head.to_html(index=False, float_format=lambda x: f"{x:.3f}")
            + self.points_sheet.to_html(index=False, float_format=lambda x: f"{x:.3f}")
        )


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
    max_bins: int = 5,
    sep: str | None = None,
    encoding: str = "utf-8-sig",
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """Learn a points sheet and an MQL threshold from past leads.

    Parameters
    ----------
    data : str, os.PathLike, Source or pandas.DataFrame
        Past leads, one row each, with their outcome: a CSV or Parquet file, a
        glob or folder of them, a :class:`~calibrate.sources.Source` (a DuckDB
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
        :class:`~calibrate.threshold.SalesCapacity` parameters:
        ``leads_per_week``, or ``reps`` and ``follow_ups_per_rep_per_day``;
        optionally ``sla_hours`` and ``working_days``.
    target : mapping, optional
        :class:`~calibrate.threshold.TargetRate` parameters: ``precision`` or
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
    current_sheet : str or os.PathLike, optional
        The hand-made sheet in use today (YAML or CSV, see
        :mod:`calibrate.current_sheet`), compared with the calibrated one on
        the hold-out leads. Its rules read criterion columns of the lead
        table, or activity types.
    max_bins : int, default=5
        Most ranges per numeric criterion.
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
    step = progress or (lambda name: None)
    policies = _policies(win_value, cost_per_lead, capacity, target, policy)
    step("read")
    leads = load_leads(
        data,
        outcome=outcome,
        positive=positive,
        id=id,
        exclude=exclude,
        date=date,
        types=types,
        implicit=implicit,
        explicit=explicit,
        decided_at=decided_at,
        sep=sep,
        encoding=encoding,
    )
    leads = _in_id_order(leads)
    step("split")
    y = leads.outcome.to_numpy()
    check_evidence(y)
    train, held = split_holdout(y, fraction=holdout, dates=leads.dates, random_state=seed)
    thin = check_evidence(y, train, held)
    X = leads.features
    column_types, groups = dict(leads.column_types), dict(leads.groups)
    behaviour = None
    if activities is not None:
        step("activities")
        behaviour = _behaviour_features(
            leads,
            train,
            activities,
            activity_columns,
            detail_rules,
            combos,
            families,
            learn_decay,
            seed,
            max_bins,
        )
        X = pd.concat([X, behaviour.features], axis=1)
        for feature in behaviour.featurizer.spec_.features:
            column_types[feature.name] = feature.column_kind
            groups[feature.name] = "implicit"
    step("fit")
    rules = {
        c: "auto"
        for c, kind in column_types.items()
        if kind == "numeric" and groups[c] == "implicit"
    }
    for column, rule in dict(monotone or {}).items():
        if column not in column_types:
            from .errors import DataError

            raise DataError(f"monotone rule for {column!r}: no such criterion")
        rules[column] = rule
    rules = {c: r for c, r in rules.items() if r != "none"}
    binner = LeadBinner(max_bins=max_bins, column_types=column_types, groups=groups)
    card = Scorecard(
        model=LeadScoreModel(binner=binner, monotone=rules, random_state=seed),
        n_bootstrap=bootstrap,
        random_state=seed,
    )
    card.fit(X.iloc[train], y[train])
    step("points")
    X_hold, y_hold = X.iloc[held], y[held]
    proba = card.predict_proba(X_hold)[:, 1]
    scores = card.predict_score(X_hold)
    quality = evaluate_probabilities(y_hold, proba)
    step("threshold")
    volume = weekly_volume(leads.dates)
    choices = {
        name: recommend_threshold(scores, y_hold, policy=p, volume=volume)
        for name, p in policies.items()
    }
    choice = choices[policy]
    table = calibration_table(scores, y_hold)
    level_list = (
        parse_levels(levels, min_score=card.min_score)
        if levels
        else default_levels(scores, y_hold, choice.threshold)
    )
    levels_frame = level_table(scores, y_hold, level_list, max_score=card.max_score)
    p_line = win_probability(scores, y_hold)[choice.threshold - card.min_score]
    evidence = _fast_track_evidence(leads, behaviour, fast_track, y, float(p_line))
    two_axis = _two_axis(card, X_hold, y_hold, policies["expected_value"])
    comparison = None
    if current_sheet is not None:
        comparison = _compare_current(
            current_sheet, leads, behaviour, held, X_hold, y_hold, card, scores, choice
        )
    ece, _ = expected_calibration_error(scores, y_hold, random_state=seed)
    tau = kendalltau(proba, scores).statistic
    auc_points, auc_low, auc_high = auc_interval(y_hold, scores)
    signal = "usable" if auc_low > 0.5 else "none"
    warnings = [] if signal == "usable" else [_no_signal_warning(auc_points, auc_low, auc_high)]
    leaks = _leakage_warnings(card, X_hold, y_hold)
    warnings += thin + list(leads.warnings) + leaks
    if not leaks:
        warnings += _dominant_column_warnings(
            card, X.iloc[train], y[train], X_hold, y_hold, quality["auc"], seed
        )
    warnings += _scale_edge_warnings(card, scores)
    if behaviour is not None:
        warnings += behaviour.warnings
    metrics = {
        "holdout_auc_model": quality["auc"],
        "holdout_auc_points": float(roc_auc_score(y_hold, scores)),
        "holdout_auc_points_interval": [auc_low, auc_high],
        "signal": signal,
        "holdout_auc_lost_to_rounding": quality["auc"] - float(roc_auc_score(y_hold, scores)),
        "holdout_kendall_tau": float(tau),
        "holdout_brier": quality["brier"],
        "holdout_calibration_error": ece,
        "holdout_log_loss": quality["log_loss"],
        "holdout_win_rate": quality["win_rate"],
        "n_train": int(len(train)),
        "n_holdout": int(len(held)),
        "n_criteria": len(card.criteria_),
        "split": "time-ordered" if leads.dates is not None else "stratified",
        "threshold": choice.threshold,
        "share_passed": choice.share_passed,
        "share_wins_captured": choice.share_wins_captured,
        "win_rate_passed": choice.win_rate_passed,
        "regularisation_C": card.model_.C_,
    }
    if comparison is not None:
        metrics["current_sheet_auc"] = comparison["current"]["auc"]
        metrics["current_sheet_share_wins_captured"] = comparison["current"]["share_wins_captured"]
    metrics["warnings"] = list(warnings)
    step("export")
    decision = Decision(
        choice=choice,
        choices=choices,
        levels=levels_frame,
        fast_track=evidence,
        two_axis=two_axis,
        volume=volume,
    )
    config = _build_config(
        card, leads, metrics, decision, table, train, held, seed, holdout, behaviour
    )
    return Calibration(
        scorecard=card,
        config=config,
        metrics=metrics,
        threshold=choice,
        decision=decision,
        calibration=table,
        leads=leads,
        train_rows=train,
        holdout_rows=held,
        warnings=tuple(warnings),
        behaviour=behaviour,
        comparison=comparison,
    )


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


def _no_signal_warning(auc: float, low: float, high: float) -> str:
    return (
        "this history shows no usable signal: the sheet ranks hold-out leads no better than "
        f"chance (AUC {auc:.3f}, 95% interval {low:.3f} to {high:.3f}); no MQL threshold is "
        "recommended, and the points are not evidence of what wins"
    )


def _leakage_warnings(card: Scorecard, X: pd.DataFrame, y: np.ndarray) -> list[str]:
    """Flag criteria that alone rank hold-out leads suspiciously well."""
    breakdown = card.score_breakdown(X)
    found = []
    for criterion in card.criteria_:
        points = breakdown[criterion.name].to_numpy()
        if np.unique(points).size < 2:
            continue
        auc = float(roc_auc_score(y, points))
        if auc >= LEAKAGE_AUC:
            found.append(
                f"column {criterion.column!r} alone ranks hold-out leads with AUC {auc:.3f}: "
                "check it is known before the hand-off decision (it may leak the outcome)"
            )
    return found


#: A column is flagged as possibly leaking when the sheet refitted without it
#: ranks hold-out leads worse by this much (bank leads: 0.14 for the
#: call duration, at most 0.02 for any other column), or when it alone ranks
#: them this much better than the next best column does.
DOMINANCE_AUC = 0.1
#: Columns ranking hold-out leads worse than this alone are not refitted without.
STRONG_COLUMN_AUC = 0.7
#: Most training leads of the refit without the strongest column.
DOMINANCE_MAX_LEADS = 50_000


def _dominant_column_warnings(card, X_train, y_train, X_hold, y_hold, auc_model, seed):
    """Flag a column that alone carries most of what the sheet knows.

    A column known only after the outcome (the length of the sales call)
    need not rank leads with AUC 0.9 on its own to leak: it is enough that
    it is far better than any other column, or that the sheet is much worse
    without it.
    """
    binner = card.model_.binner_
    alone = {}
    train_codes, hold_codes = binner.transform(X_train), binner.transform(X_hold)
    for criterion in binner.criteria_:
        k = len(criterion.bands)
        codes = train_codes[criterion.name].to_numpy()
        leads = np.bincount(codes, minlength=k)
        wins = np.bincount(codes, weights=y_train, minlength=k)
        rate = np.where(leads > 0, wins / np.maximum(leads, 1), y_train.mean())
        held = rate[hold_codes[criterion.name].to_numpy()]
        if np.unique(held).size > 1:
            alone[criterion] = float(roc_auc_score(y_hold, held))
    if len(alone) < 2:
        return []
    (best, best_auc), (second, second_auc) = sorted(alone.items(), key=lambda kv: -kv[1])[:2]
    check = "check it is known before the hand-off decision (it may leak the outcome)"
    if best_auc >= STRONG_COLUMN_AUC:
        without = _auc_without(card, best.column, X_train, y_train, X_hold, y_hold, seed)
        if auc_model - without >= DOMINANCE_AUC:
            return [
                f"column {best.column!r} carries most of what the sheet knows: without it the "
                f"hold-out AUC falls from {auc_model:.3f} to {without:.3f} (alone it ranks "
                f"leads with AUC {best_auc:.3f}, the next best column {second_auc:.3f}); "
                + check
            ]
    if best_auc - second_auc >= DOMINANCE_AUC:
        return [
            f"column {best.column!r} alone ranks hold-out leads with AUC {best_auc:.3f}, far "
            f"better than any other column (the next best, {second.column!r}: "
            f"{second_auc:.3f}); " + check
        ]
    return []


def _auc_without(card, column, X_train, y_train, X_hold, y_hold, seed) -> float:
    """Hold-out AUC of the model refitted without one column (penalty C=1)."""
    params = card.model.binner.get_params()
    for key in ("column_types", "groups"):
        params[key] = {k: v for k, v in (params[key] or {}).items() if k != column}
    monotone = {k: v for k, v in (card.model.monotone or {}).items() if k != column}
    if len(X_train) > DOMINANCE_MAX_LEADS:
        rows = np.random.default_rng(seed).choice(
            len(X_train), DOMINANCE_MAX_LEADS, replace=False
        )
        X_train, y_train = X_train.iloc[np.sort(rows)], y_train[np.sort(rows)]
    model = LeadScoreModel(
        binner=LeadBinner(**params), monotone=monotone, Cs=1, random_state=seed
    )
    model.fit(X_train.drop(columns=[column]), y_train)
    return float(roc_auc_score(y_hold, model.predict_proba(X_hold.drop(columns=[column]))[:, 1]))


def _scale_edge_warnings(card: Scorecard, scores: np.ndarray) -> list[str]:
    """Flag hold-out leads piling up at an end of the scale.

    The scale puts about 1% of training leads at each end. Many more hold-out
    leads there means they lie beyond the training range (later leads unlike
    the earlier ones), and the sheet cannot rank them among themselves.
    """
    found = []
    for edge, name in ((card.max_score, "top"), (card.min_score, "bottom")):
        held = float(np.mean(scores == edge))
        trained = float(np.mean(card.train_scores_ == edge))
        if held >= max(EDGE_SHARE, 3 * trained):
            found.append(
                f"{held:.0%} of hold-out leads score {edge}, the {name} of the scale, against "
                f"{trained:.0%} of training leads: they lie beyond the training range (the "
                "later leads differ from the earlier ones), and the sheet does not rank them "
                "among themselves"
            )
    return found


@dataclass(frozen=True)
class Behaviour:
    """Behaviour features learned from an activity log.

    Attributes
    ----------
    featurizer : ActivityFeaturizer
        The fitted featurizer: ``spec_`` (features, kernels), ``decay_``
        (per family: chosen half-life and how much it helps), and
        ``activity_counts_``.
    features : pandas.DataFrame
        The behaviour features of every lead.
    counts : dict
        Activities of unknown leads, and those on or after the decision time
        (left out), see :meth:`ActivityFeaturizer.timing_counts`.
    warnings : tuple of str
        Activities of unknown leads and the like.
    """

    featurizer: object
    features: pd.DataFrame
    counts: dict
    warnings: tuple = ()


def _behaviour_features(
    leads,
    train,
    activities,
    columns,
    detail_rules,
    combos,
    families,
    learn_decay,
    seed,
    max_bins,
) -> Behaviour:
    from .behaviour import ActivityFeaturizer, connect
    from .errors import DataError

    if leads.decision_times is None:
        raise DataError(
            "behaviour from an activity log needs each lead's decision time: name it with "
            "--decided-at COLUMN (or 'COLUMN - N days')"
        )
    columns = dict(columns or {})
    unknown = set(columns) - {"lead_id", "activity_type", "occurred_at", "detail"}
    if unknown:
        raise DataError(f"unknown activity column roles: {sorted(unknown)}")
    frame = pd.DataFrame({"lead_id": leads.ids, "decision_time": leads.decision_times})
    # Who the lead is, as a one-hot design, sharpens the choice of decay.
    explicit = LeadBinner(
        max_bins=max_bins, column_types=leads.column_types, groups=leads.groups
    ).fit(leads.features.iloc[train], leads.outcome.to_numpy()[train])
    con = connect()
    featurizer = ActivityFeaturizer(
        **columns,
        detail_rules=tuple(detail_rules),
        families=dict(families or {}),
        combos=tuple(combos),
        learn_decay=learn_decay,
        random_state=seed,
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
    warnings = []
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


@dataclass(frozen=True)
class Decision:
    """The hand-off policy: thresholds, levels, fast-track rules, two axes.

    Attributes
    ----------
    choice : ThresholdChoice
        The chosen policy's threshold.
    choices : dict
        ``{policy name: ThresholdChoice}`` for every policy evaluated.
    levels : pandas.DataFrame
        Every level's score range, share of hold-out leads and win rate.
    fast_track : pandas.DataFrame
        Evidence for every hand-raiser signal tested (see
        :func:`calibrate.threshold.fast_track_evidence`), with ``kind``
        (activity or column) and ``within_days``.
    two_axis : dict or None
        Best ``fit >= a and engagement >= b`` rule against the best single
        threshold (when the sheet has both kinds of criteria).
    volume : dict or None
        Historical leads per week.
    """

    choice: ThresholdChoice
    choices: dict
    levels: pd.DataFrame
    fast_track: pd.DataFrame
    two_axis: dict | None
    volume: dict | None


#: Hand-raiser signals tried for fast-tracking when none are named.
HAND_RAISER = re.compile(r"pricing|demo|contact|trial|quote|sales_request|call_request", re.I)
FAST_TRACK_DAYS = 30


def _policies(win_value, cost_per_lead, capacity, target, chosen) -> dict:
    from .errors import ParameterError

    policies = {"expected_value": ExpectedValue(win_value=win_value, cost_per_lead=cost_per_lead)}
    if capacity:
        policies["sales_capacity"] = SalesCapacity(**capacity)
    if target:
        policies["target"] = TargetRate(**target)
    if chosen not in policies:
        needs = {"sales_capacity": "capacity", "target": "a target precision or recall"}
        raise ParameterError(
            f"policy {chosen!r} needs {needs.get(chosen, 'a known policy name')}; "
            f"available: {', '.join(policies)}"
        )
    return policies


def _fast_track_evidence(leads, behaviour, candidates, y, reference) -> pd.DataFrame:
    """Test hand-raiser signals: leads showing them vs leads at the MQL line."""
    from ._activity import fast_track_feature

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
            from .errors import DataError

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
        counts = behaviour.featurizer.evaluate(frame, list(features.values()))
        for t, feature in features.items():
            flags[t] = counts[feature.name].to_numpy() > 0
            kinds[t] = "activity"
    evidence = fast_track_evidence(flags, y, reference)
    evidence.insert(1, "kind", [kinds[c] for c in evidence["candidate"]])
    evidence.insert(
        2,
        "within_days",
        [FAST_TRACK_DAYS if kinds[c] == "activity" else None for c in evidence["candidate"]],
    )
    return evidence


def _compare_current(path, leads, behaviour, held, X_hold, y_hold, card, scores, choice):
    """Score the hold-out leads with the sheet in use today and compare."""
    from ._activity import ActivityFeature, Kernel
    from .current_sheet import compare_sheets, read_current_sheet
    from .errors import DataError

    sheet = read_current_sheet(path)
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
        counts = featurizer.evaluate(ids, features)
        for feature in features:
            frame[feature.name] = counts[feature.name].to_numpy()
    breakdown = card.score_breakdown(X_hold).reset_index(drop=True)
    return compare_sheets(sheet, frame, y_hold, scores, choice.threshold, breakdown)


def _two_axis(card, X, y, policy) -> dict | None:
    groups = {c.name: c.group for c in card.criteria_}
    explicit = [n for n, g in groups.items() if g == "explicit"]
    implicit = [n for n, g in groups.items() if g == "implicit"]
    if not explicit or not implicit:
        return None
    points = card.score_breakdown(X)
    fit = card.base_points_ + points[explicit].sum(axis=1).to_numpy()
    engagement = points[implicit].sum(axis=1).to_numpy()
    return two_axis_policy(fit, engagement, y, policy=policy)


def _build_config(card, leads, metrics, decision, table, train, held, seed, holdout, behaviour):
    y = leads.outcome.to_numpy()
    training = {
        "source": leads.source,
        "fingerprint": leads.fingerprint(),
        "n_leads": leads.n_leads,
        "n_wins": int(y.sum()),
        "n_train": int(len(train)),
        "n_holdout": int(len(held)),
        "outcome": {"column": leads.outcome.name, "positive": leads.positive_label},
        "excluded": [{"column": c, "reason": r} for c, r in leads.excluded.items()],
        "warnings": list(metrics["warnings"]),
    }
    if leads.dates is not None:
        training["date_column"] = leads.dates.name
        training["period"] = {
            "start": pd.Timestamp(leads.dates.min()).isoformat(),
            "end": pd.Timestamp(leads.dates.max()).isoformat(),
        }
    model = {
        "type": "binned_logistic_regression",
        "regularisation_C": _r(card.model_.C_),
        "intercept": _r(card.model_.intercept_),
        "scale_factor": _r(card.factor_),
        "scale_offset": _r(card.offset_),
        "split": {"kind": metrics["split"], "holdout_fraction": holdout, "seed": seed},
        "holdout": {
            "auc_model": _r(metrics["holdout_auc_model"]),
            "auc_points": _r(metrics["holdout_auc_points"]),
            "auc_points_interval": [_r(x) for x in metrics["holdout_auc_points_interval"]],
            "signal": metrics["signal"],
            "kendall_tau": _r(metrics["holdout_kendall_tau"]),
            "brier": _r(metrics["holdout_brier"]),
            "calibration_error": _r(metrics["holdout_calibration_error"]),
            "log_loss": _r(metrics["holdout_log_loss"]),
        },
    }
    bands = [
        {
            "score_min": int(row.score_min),
            "score_max": int(row.score_max),
            "leads": int(row.leads),
            "wins": _r(row.wins),
            "win_rate": _r(row.win_rate),
            "win_probability": _r(row.win_probability),
        }
        for row in table.itertuples()
    ]
    activities = {}
    if behaviour is not None:
        featurizer = behaviour.featurizer
        activities = featurizer.spec_.to_dict()
        activities["decision_time"] = dict(leads.decision_rule)
        activities["decay"] = [
            {
                "family": row.family,
                "kernel": row.kernel,
                "half_life_days": _r(row.half_life_days),
                "log_loss": _r(row.log_loss),
                "log_loss_no_decay": _r(row.log_loss_no_decay),
                "improvement": _r(row.improvement, 8),
            }
            for row in featurizer.decay_.itertuples()
        ]
        counts = behaviour.counts
        training["activities"] = {
            "rows": featurizer.activity_counts_["rows"],
            "after_decision_rows_left_out": counts["after_decision_rows"],
            "older_than_lookback_rows": counts["older_than_lookback_rows"],
            "unknown_lead_rows": counts["unknown_lead_rows"],
        }
    threshold = _threshold_config(decision)
    threshold["recommended"] = metrics["signal"] == "usable"
    return ScoringConfig(
        criteria=tuple(card.criteria_),
        base_points=card.base_points_,
        threshold=threshold,
        min_score=card.min_score,
        max_score=card.max_score,
        id_column=leads.id_column,
        calibration={
            "measured_on": "hold-out leads",
            "method": "isotonic regression of won on score",
            "expected_calibration_error": _r(metrics["holdout_calibration_error"]),
            "bands": bands,
        },
        model=model,
        training_data=training,
        activities=activities,
    )


def _threshold_config(decision: Decision) -> dict:
    out = decision.choice.to_dict()
    out["policies"] = [
        {
            "name": name,
            **{k: v for k, v in c.to_dict().items() if k != "policy"},
            "parameters": c.policy.to_dict(),
        }
        for name, c in decision.choices.items()
    ]
    out["levels"] = [
        {
            "name": row.level,
            "min_score": int(row.min_score),
            "share_of_leads": _r(row.share_of_leads),
            "win_rate": _r(row.win_rate),
        }
        for row in decision.levels.itertuples()
    ]
    rules = []
    for row in decision.fast_track.itertuples():
        if not row.recommended:
            continue
        rule = (
            {
                "kind": "activity",
                "activity_type": row.candidate,
                "within_days": int(row.within_days),
            }
            if row.kind == "activity"
            else {"kind": "column", "column": row.candidate, "equals": "true"}
        )
        rule["evidence"] = {
            "leads": int(row.leads),
            "win_rate": _r(row.win_rate),
            "reference_rate": _r(row.reference_rate),
        }
        rules.append(rule)
    out["fast_track"] = rules
    if decision.two_axis is not None:
        out["two_axis"] = {
            k: ({kk: _r(vv) for kk, vv in v.items()} if isinstance(v, dict) else _r(v))
            for k, v in decision.two_axis.items()
        }
    if decision.volume is not None:
        out["weekly_volume"] = {k: _r(v, 2) for k, v in decision.volume.items()}
    return out


def _r(x, digits: int = 6):
    """Round a metric for the config; NaN becomes null."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return int(x) if x.is_integer() and abs(x) < 2**53 else round(x, digits)


def _json(values: dict) -> str:
    def clean_value(v):
        if isinstance(v, float):
            return _r(v, 10)
        if isinstance(v, list):
            return [clean_value(x) for x in v]
        return v

    clean = {k: clean_value(v) for k, v in values.items()}
    clean["calibrate_version"] = __version__
    return json.dumps(clean, indent=2, allow_nan=False) + "\n"
