"""Measuring: what a report shows, from scores, outcomes and the sheet."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from ..decide.policies import ExpectedValue, SalesCapacity
from ..decide.side_rules import line_win_rate, two_axis_rule
from ..decide.threshold import (
    calibration_table,
    fast_track_evidence,
    threshold_curve,
    weekly_volume,
)
from ..errors import DataError
from ..io.sources import describe


@dataclass(frozen=True)
class _Evidence:
    """What a report is measured on: scores, outcomes and the sheet, and the extras.

    ``scores`` and ``won`` are the leads judged (hold-out leads of a fit, or
    the labelled leads a config is evaluated on); the sheet is its
    ``threshold``, scale (``min_score``, ``max_score``) and ``policies``
    (``((label, threshold, chosen), ...)``), with ``capacity`` ``(share of
    leads sales can take, label)`` or None; ``bands`` is the calibration
    table (score_min, score_max, leads, wins, win_rate, predicted). The
    extras, each None when there is none: ``fast_track`` (the table of
    :func:`~calibrate.decide.threshold.fast_track_evidence`), ``two_axis``
    (:func:`~calibrate.decide.side_rules.two_axis_rule`) and ``comparison``
    (:func:`~calibrate.decide.current_sheet.compare_sheets`). ``weekly`` is
    the leads a week (mean) that MQLs a week are counted from, or None when
    unknown.
    """

    scores: np.ndarray
    won: np.ndarray
    threshold: int
    min_score: int
    max_score: int
    policies: tuple
    capacity: tuple | None
    bands: pd.DataFrame
    predicted_label: str
    fast_track: pd.DataFrame | None = None
    two_axis: dict | None = None
    comparison: dict | None = None
    weekly: float | None = None

    @cached_property
    def curve(self) -> pd.DataFrame:
        return threshold_curve(
            self.scores, self.won, min_score=self.min_score, max_score=self.max_score
        )

    @cached_property
    def deciles(self) -> pd.DataFrame:
        """Wins and lift of every tenth of the leads, highest scores first.

        Leads tied on a score share its wins evenly (the gains curve is
        linear between scores), so the table does not depend on row order.
        """
        curve = self.curve.iloc[::-1]  # from nobody passed to everybody
        x, first = np.unique(curve["share_passed"].to_numpy(), return_index=True)
        y = curve["share_wins_captured"].to_numpy()[first]
        cuts = np.linspace(0, 1, 11)
        captured = np.interp(cuts, x, y)
        ranked = np.sort(self.scores)[::-1]
        n = len(ranked)
        rows = []
        for d in range(10):
            # Integer ranks (no float rounding): the tenth's first and last lead.
            top = ranked[min(d * n // 10, n - 1)]
            low = ranked[max(-(-(d + 1) * n // 10) - 1, 0)]
            share = captured[d + 1] - captured[d]
            rows.append(
                {
                    "tenth": d + 1,
                    "scores": f"{low}-{top}" if low != top else f"{top}",
                    "share_of_wins": share,
                    "lift": share / 0.1,
                    "cumulative_wins": captured[d + 1],
                }
            )
        return pd.DataFrame(rows)


def _bands_with_prediction(scores, won, predicted_per_lead, min_score, max_score):
    """The calibration table of 10-point score bands, with the mean predicted win rate."""
    table = calibration_table(scores, won, min_score=min_score, max_score=max_score)
    # The bands as calibration_table cuts them (the last one closed at max_score).
    band = np.clip((np.asarray(scores) - min_score) // 10, 0, len(table) - 1)
    total = np.bincount(band, weights=predicted_per_lead, minlength=len(table))
    with np.errstate(invalid="ignore", divide="ignore"):
        table["predicted"] = np.where(table["leads"] > 0, total / table["leads"], np.nan)
    return table


def _fit_evidence(calibration) -> _Evidence:
    card = calibration.scorecard
    held = calibration.holdout
    won = held.y.astype(bool)
    scores = np.asarray(held.scores, dtype=np.int64)
    proba = held.proba
    chosen = calibration.config.threshold["policy"]["name"]
    policies = tuple(
        (_policy_label(name), int(c.threshold), name == chosen)
        for name, c in calibration.decision.choices.items()
    )
    capacity = None
    if "sales_capacity" in calibration.decision.choices:
        policy = calibration.decision.choices["sales_capacity"].policy
        capacity = _capacity_line(policy.to_dict(), calibration.decision.volume)
    return _Evidence(
        scores=scores,
        won=won,
        threshold=int(calibration.threshold.threshold),
        min_score=int(card.min_score),
        max_score=int(card.max_score),
        policies=policies,
        capacity=capacity,
        bands=_bands_with_prediction(scores, won, proba, card.min_score, card.max_score),
        predicted_label="predicted by the model",
        fast_track=calibration.decision.fast_track,
        two_axis=calibration.decision.two_axis,
        comparison=calibration.comparison,
        weekly=_fit_weekly(calibration),
    )


def _fit_weekly(calibration) -> float | None:
    """Leads a week as the fit counted MQLs a week: from the dates, else the capacity's volume.

    The chosen threshold's MQLs a week come from the weekly volume of the
    leads' dates or, without dates, from the incoming volume a sales-capacity
    policy was given (:func:`~calibrate.decide.threshold.recommend_threshold`).
    """
    volume = calibration.decision.volume
    if volume is not None:
        return float(volume["mean"])
    policy = calibration.threshold.policy
    if isinstance(policy, SalesCapacity) and policy.incoming_per_week is not None:
        return float(policy.incoming_per_week)
    return None


def _evaluation_dates(config, frame, date):
    """Dates of the leads (period, leads a week), and the column they come from."""
    from ..io.ingest import require_column
    from ..io.values import parse_dates

    if date is not None:
        require_column(date, [str(c) for c in frame.columns], "date")
        return parse_dates(frame[date], date), date
    decision = (config.activities or {}).get("decision_time", {}).get("column")
    for column in (config.training_data.get("date_column"), decision):
        if column is not None and column in frame.columns:
            return parse_dates(frame[column], column), column
    return None, None


def _with_activity_counts(config, frame, log, sheet, encoding) -> pd.DataFrame:
    """The leads with their behaviour features and the activity counts rules read.

    Fast-track rules and the current sheet's activity rules are counted as
    the scorer counts them (same window, before the same decision time).
    """
    from ..decide.current_sheet import count_column
    from ..sheet.activity import fast_track_feature
    from ..sheet.feature import ActivityFeature, Kernel

    spec = config.activity_spec
    sheet_rules = [r for r in (sheet.rules if sheet else ()) if r.activity is not None]
    if spec is None:
        if sheet_rules:
            raise DataError(
                "the current sheet has activity rules, but this config scores no behaviour: "
                "compare it with `calibrate fit --current-sheet` instead"
            )
        return frame
    from ..production.scorer import with_behaviour

    extra = {}
    for rule in config.threshold.get("fast_track", []):
        if rule["kind"] == "activity":
            feature = fast_track_feature(rule["activity_type"], rule["within_days"])
            extra[feature.name] = feature
    for rule in sheet_rules:
        name = count_column(rule)
        kernel = Kernel("window", float(rule.within_days)) if rule.within_days else Kernel("all")
        extra[name] = ActivityFeature(name, "count", (rule.activity,), kernel=kernel)
    wider = replace(spec, features=spec.features + tuple(extra.values()))
    featured, _, _, _ = with_behaviour(config, wider, frame, log, None, encoding, [])
    return featured


@dataclass(frozen=True)
class _Measured:
    """Labelled leads scored by a config: what an evaluation report is built from."""

    config: object
    frame: pd.DataFrame
    scored: pd.DataFrame
    scores: np.ndarray
    won: np.ndarray
    outcome: str
    source: str
    dates: pd.Series | None
    volume: dict | None
    sheet: object
    date_column: str | None

    @property
    def policies(self) -> list[dict]:
        """``[{"name", "mql", "parameters"}]``: every policy the config records."""
        threshold = self.config.threshold
        listed = threshold.get("policies")
        if listed:
            return listed
        policy = threshold.get("policy", {})
        return [
            {"name": policy.get("name", "manual"), "mql": threshold["mql"], "parameters": policy}
        ]

    @property
    def weekly(self) -> dict | None:
        """Leads per week: measured on the leads, else as recorded at the fit."""
        return self.volume or self.config.threshold.get("weekly_volume")

    def breakdown(self) -> pd.DataFrame:
        """Each lead's points per criterion, columns named by criterion."""
        names = {f"points_{c.name}": c.name for c in self.config.criteria}
        return self.scored[list(names)].rename(columns=names).reset_index(drop=True)


def _measure_config(
    config,
    data,
    *,
    outcome,
    positive,
    activities,
    current_sheet,
    date,
    sep,
    encoding,
    progress,
) -> _Measured:
    """Read the labelled leads (and activity, current sheet), score them by the config.

    The steps of :meth:`Report.from_config` up to the measuring, which
    documents the parameters.
    """
    from ..io.ingest import require_column
    from ..io.tables import read_table
    from ..io.values import known_label, parse_outcome
    from ..production.config import ScoringConfig
    from ..production.scorer import score_leads

    step = progress or (lambda name: None)
    if not isinstance(config, ScoringConfig):
        config = ScoringConfig.load(config)
    step("read")
    frame = read_table(data, sep=sep, encoding=encoding)
    trained = config.training_data.get("outcome", {})
    if outcome is None:
        outcome = trained.get("column")
        if outcome is None:
            raise DataError("the config does not record its outcome column: name it (--outcome)")
    columns = [str(c) for c in frame.columns]
    require_column(outcome, columns, "outcome")
    if positive is None and outcome == trained.get("column"):
        positive = known_label(frame[outcome], trained.get("positive"))
    won, label = parse_outcome(frame[outcome], outcome, positive)
    won = won.to_numpy().astype(bool)
    log = None
    if activities is not None:
        log = read_table(activities, encoding=encoding, allow_empty=True)
    sheet = None
    if current_sheet is not None:
        from ..decide.current_sheet import read_current_sheet

        sheet = read_current_sheet(current_sheet)
    step("score")
    decision = config.activities.get("decision_time", {}) if config.activities else {}
    if config.activities and log is not None and decision.get("column") not in frame.columns:
        raise DataError(
            f"the config counts activity before each lead's decision time: the leads need its "
            f"column {decision.get('column')!r}"
        )
    scored = score_leads(config, frame, breakdown=True, activities=log)
    scores = scored["score"].to_numpy().astype(np.int64)
    step("measure")
    featured = _with_activity_counts(config, frame, log, sheet, encoding)
    dates, date_column = _evaluation_dates(config, frame, date)
    return _Measured(
        config=config,
        frame=featured,
        scored=scored,
        scores=scores,
        won=won,
        outcome=f"{outcome} = {label}",
        source=describe(data),
        dates=dates,
        volume=weekly_volume(dates) if dates is not None else None,
        sheet=sheet,
        date_column=date_column,
    )


def _evaluation_evidence(m: _Measured) -> _Evidence:
    config = m.config
    bands = config.calibration.get("bands", [])
    predicted = np.full(len(m.scores), np.nan)
    for band in bands:
        inside = (m.scores >= band["score_min"]) & (m.scores <= band["score_max"])
        if band.get("win_probability") is not None:
            predicted[inside] = band["win_probability"]
    chosen = config.threshold.get("policy", {}).get("name")
    policies = tuple(
        (_policy_label(p["name"]), int(p["mql"]), p["name"] == chosen) for p in m.policies
    )
    capacity = None
    for p in m.policies:
        if p["name"] == "sales_capacity":
            capacity = _capacity_line(p.get("parameters", {}), m.weekly)
    return _Evidence(
        scores=m.scores,
        won=m.won,
        threshold=config.mql_threshold,
        min_score=int(config.min_score),
        max_score=int(config.max_score),
        policies=policies,
        capacity=capacity,
        bands=_bands_with_prediction(
            m.scores, m.won, predicted, config.min_score, config.max_score
        ),
        predicted_label="predicted at the fit (config)",
        fast_track=_config_fast_track(m),
        two_axis=_config_two_axis(m),
        comparison=_config_comparison(m),
        weekly=None if m.weekly is None else float(m.weekly["mean"]),
    )


def _config_fast_track(m: _Measured) -> pd.DataFrame:
    """The config's fast-track rules on the leads, against leads at its MQL line."""
    from ..sheet.activity import fast_track_feature
    from ..sheet.criteria import category_codes

    flags, kinds = {}, {}
    for rule in m.config.threshold.get("fast_track", []):
        if rule["kind"] == "activity":
            feature = fast_track_feature(rule["activity_type"], rule["within_days"])
            name = rule["activity_type"]
            flags[name] = m.frame[feature.name].to_numpy() > 0
            kinds[name] = int(rule["within_days"])
        else:
            name = rule["column"]
            codes, texts = category_codes(m.frame[name], "boolean", name)
            hits = np.array([t == rule["equals"] for t in texts] + [False], dtype=bool)
            flags[name] = hits[codes]
            kinds[name] = None
    config = m.config
    reference = line_win_rate(
        m.scores,
        m.won,
        config.mql_threshold,
        min_score=config.min_score,
        max_score=config.max_score,
    )
    return fast_track_evidence(flags, m.won, reference, within_days=kinds)


def _config_two_axis(m: _Measured) -> dict | None:
    """The config's two-axis rule (and its single threshold) measured on the leads."""
    rule = m.config.threshold.get("two_axis")
    if not rule:
        return None
    groups = {c.name: c.group for c in m.config.criteria}
    single_threshold = rule.get("single", {}).get("threshold", m.config.mql_threshold)
    policy = next(
        (p.get("parameters", {}) for p in m.policies if p["name"] == "expected_value"), {}
    )
    ev = ExpectedValue(
        win_value=policy.get("win_value", ExpectedValue().win_value),
        cost_per_lead=policy.get("cost_per_lead", ExpectedValue().cost_per_lead),
    )
    return two_axis_rule(
        m.breakdown(),
        groups,
        m.config.base_points,
        m.won,
        policy=ev,
        rule={**rule, "single": {"threshold": single_threshold}},
        scores=m.scores,
    )


def _config_comparison(m: _Measured) -> dict | None:
    """The sheet in use today against the config, on the same leads, or None."""
    if m.sheet is None:
        return None
    from ..decide.current_sheet import compare_sheets

    return compare_sheets(m.sheet, m.frame, m.won, m.scores, m.config.mql_threshold, m.breakdown())


def _capacity_line(params: dict, volume: dict | None) -> tuple | None:
    """Share of leads a sales-capacity policy lets through, and its label."""
    capacity = params.get("capacity_per_week")
    if capacity is None:
        return None
    if volume is None and params.get("incoming_per_week"):
        volume = {"mean": params["incoming_per_week"], "p90": params["incoming_per_week"]}
    if volume is None or not volume.get("mean"):
        return None
    weekly = volume["p90"] if params.get("sla_hours") else volume["mean"]
    share = min(float(capacity) / float(weekly), 1.0)
    week = "busy week" if params.get("sla_hours") else "week"
    return share, f"sales capacity: {capacity:,.0f} leads a {week} ({share:.0%} of leads)"


def _policy_label(name: str) -> str:
    return name.replace("_", " ")
