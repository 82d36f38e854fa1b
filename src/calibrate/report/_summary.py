"""Summarising: every value a report shows, as plain text and numbers in a dict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..decide.evaluation import signal_of
from ..decide.policies import ExpectedValue, SalesCapacity, TargetRate
from ..decide.threshold import level_table
from ..errors import CalibrateError
from ..learn.model import COMFORTABLE_HOLDOUT_OUTCOMES, auc_interval
from ..production.rules import band_words
from ._evidence import _Evidence, _Measured, _policy_label

_POLICY_CLASSES = {
    "expected_value": ExpectedValue,
    "sales_capacity": SalesCapacity,
    "target": TargetRate,
}


def _policy_text(params: dict) -> str:
    """A recorded policy in one sentence, or nothing for one calibrate does not know."""
    cls = _POLICY_CLASSES.get(params.get("name"))
    if cls is None:
        return ""
    fields = {k: v for k, v in params.items() if k not in ("name", "capacity_per_week")}
    try:
        return cls(**fields).describe()
    except (TypeError, CalibrateError):
        return ""


#: The summary's keys, in the order a meeting reads them (the same for a fit and a config).
_KEYS = (
    "mode",
    "title",
    "judged_on",
    "recommendation",
    "top_bands",
    "policies",
    "threshold_curve",
    "levels",
    "two_axis",
    "base_points",
    "scale",
    "sheet",
    "sheet_intervals",
    "sheet_note",
    "behaviour",
    "gains",
    "calibration",
    "predicted_label",
    "distribution",
    "fast_track",
    "comparison",
    "metrics",
    "data",
    "warnings",
)
#: Keys a summary has only when its source knows them: a recalibrated sheet's
#: previous one, the cell tables of a sheet's pair rules, and what a fit's
#: pair search judged.
_OPTIONAL_KEYS = ("previous", "pairs", "pair_search")


def summarise(evidence: _Evidence, described: dict) -> dict:
    """The summary of a report: what its source says, and what is measured on its evidence.

    ``described`` is what only the source knows (:func:`_fit_summary` or
    :func:`_evaluation_summary`: the recommendation, the sheet, the data, the
    words on fast-track rules); the tables beside the figures, the two-axis
    rule, the fast-track rows and the current-sheet comparison are the same
    functions of the evidence for both.
    """
    measured = {
        **_evidence_summary(evidence),
        "two_axis": _two_axis_summary(evidence.two_axis),
        "fast_track": {**described["fast_track"], "rows": _fast_track_rows(evidence.fast_track)},
        "comparison": _comparison_summary(evidence.comparison),
        "top_bands": top_bands(described["sheet"]),
        "threshold_curve": _threshold_curve(evidence, described["levels"]),
    }
    summary = {**described, **measured}
    out = {key: summary[key] for key in _KEYS}
    out.update({key: summary[key] for key in _OPTIONAL_KEYS if summary.get(key)})
    return out


#: Bands the chart of what earns the most points shows, of each group.
TOP_BANDS = 8


def top_bands(sheet: list[dict], n: int = TOP_BANDS) -> dict:
    """The bands that move a score most, fit and engagement apart (the page-1 chart).

    Of each group, the ``n`` bands of largest absolute points among the
    bands that hold leads and earn or cost points: a band that costs 15
    points moves a score as much as one that earns 15, so penalties are
    shown when they are among the largest. Largest points first (penalties
    last); at equal points, in the order of the sheet. Each band is its
    phrase in words (an engagement band as what the lead did, see
    :func:`_band_words`) and its points.

    Parameters
    ----------
    sheet : list of dict
        The summary's ``sheet``: criteria with ``group`` and ``bands``
        (``phrase``, ``points``, ``leads``).
    n : int, default=TOP_BANDS
        Bands of each group.

    Returns
    -------
    dict
        ``{"fit": [{"label", "points"}, ...], "engagement": [...]}``.
    """
    out = {}
    for group, name in (("explicit", "fit"), ("implicit", "engagement")):
        bands = [
            {"label": b["phrase"], "points": b["points"]}
            for c in sheet
            if c["group"] == group
            for b in c["bands"]
            if b["points"] and b["leads"]
        ]
        # Stable sorts: at equal (absolute) points, the order of the sheet.
        largest = sorted(bands, key=lambda b: -abs(b["points"]))[:n]
        out[name] = sorted(largest, key=lambda b: -b["points"])
    return out


# --------------------------------------------------------------------------- fit report


def _band_words(criterion, spec) -> dict:
    """``{band label: (words, phrase)}`` of a criterion's bands.

    The words are :func:`~calibrate.production.rules.band_words`': an
    engagement band as what the lead did, a fit band its label. A pair rule's
    cells keep their labels. The phrase names the criterion when the words
    do not ("seniority: VP", "demo_request: not known"; "1+ demo_request in
    the last 112 days" and a pair's rule say it already).
    """
    out = {}
    for band in criterion.bands:
        if criterion.kind == "pair":
            words, named = band.label, band.kind == "rule"
        else:
            words = band_words(criterion, band, spec)
            named = band.kind != "missing" and words != band.label
        out[band.label] = (words, words if named else f"{criterion.name}: {words}")
    return out


def _fit_sheet(calibration) -> list[dict]:
    """The fitted sheet's criteria and bands, with intervals, counts and win rates."""
    sheet = calibration.scorecard.points_
    spec = calibration.config.activity_spec
    criteria = []
    for criterion in calibration.scorecard.criteria_:
        rows = sheet[sheet["criterion"] == criterion.name]
        words = _band_words(criterion, spec)
        criteria.append(
            {
                "name": criterion.name,
                "group": criterion.group,
                "kind": criterion.kind,
                "bands": [
                    {
                        "label": r.band,
                        "words": words[r.band][0],
                        "phrase": words[r.band][1],
                        "points": int(r.points),
                        "interval": _interval(r),
                        "flag": getattr(r, "flag", ""),
                        "leads": int(round(r.n_leads)),
                        "win_rate": _pct(r.win_rate),
                    }
                    for r in rows.itertuples()
                ],
            }
        )
    return criteria


def _pair_tables(criteria, frame: pd.DataFrame, won, measured_on: str) -> list[dict]:
    """Every pair rule as a 2 x 2 table: its points, leads and win rate per cell.

    Rows: the first condition holds or not; columns: the second. The rule
    earns its points in the cell where both hold; the table shows what the
    two criteria together say beside what each says on its own.
    """
    won = np.asarray(won, dtype=float)
    tables = []
    for pair in criteria:
        if pair.kind != "pair":
            continue
        first = pair.first.holds(pair.first.criterion.assign_frame(frame))
        second = pair.second.holds(pair.second.criterion.assign_frame(frame))
        rule, otherwise = pair.cells
        rows = []
        for a in (True, False):
            cells = []
            for b in (True, False):
                inside = (first == a) & (second == b)
                n = int(inside.sum())
                cells.append(
                    {
                        "points": int(rule.points if a and b else otherwise.points),
                        "leads": n,
                        "win_rate": _pct(won[inside].mean() if n else np.nan),
                    }
                )
            rows.append({"label": pair.first.label if a else "not that", "cells": cells})
        tables.append(
            {
                "name": pair.name,
                "group": pair.group,
                "rule": rule.label,
                "columns": [pair.second.label, "not that"],
                "rows": rows,
                "measured_on": measured_on,
            }
        )
    return tables


def _fit_summary(calibration, evidence: _Evidence) -> dict:
    """What a fit's report says beyond its evidence: its recommendation, sheet and data."""
    m = calibration.metrics
    leads = calibration.leads
    criteria = _fit_sheet(calibration)
    has_intervals = any(b["interval"] != "-" for c in criteria for b in c["bands"])
    y = leads.outcome.to_numpy()
    t = calibration.threshold
    return {
        "mode": "fit",
        "title": "Lead scoring review: calibrated points sheet",
        "judged_on": "hold-out leads",
        "recommendation": {
            "threshold": int(m["threshold"]),
            "share_passed": _pct(m["share_passed"]),
            "share_wins_captured": _pct(m["share_wins_captured"]),
            "win_rate_passed": _pct(m["win_rate_passed"]),
            "base_rate": _pct(m["holdout_win_rate"]),
            "policy": t.policy.to_dict(),
            "policy_text": t.policy.describe(),
            "goal_met": t.met,
            "mqls_per_week": None if t.mqls_per_week is None else f"{t.mqls_per_week:,.1f}",
            "at_fit": None,
            "no_signal": _no_signal(m["signal"], m["holdout_auc_points_interval"], "hold-out"),
        },
        "policies": [
            _policy_row(name, c.threshold, vars(c), c.mqls_per_week)
            for name, c in calibration.decision.choices.items()
        ],
        "levels": _levels_summary(calibration.decision.levels, evidence),
        "base_points": int(calibration.scorecard.base_points_),
        "scale": {
            "min": int(calibration.scorecard.min_score),
            "max": int(calibration.scorecard.max_score),
        },
        "sheet": criteria,
        "pairs": _pair_tables(
            calibration.scorecard.criteria_,
            calibration.holdout.X,
            calibration.holdout.y,
            "hold-out leads",
        ),
        "pair_search": calibration.scorecard.model_.describe_pairs(),
        "sheet_intervals": has_intervals,
        "sheet_note": (
            "Lead counts and win rates are those of the training leads. "
            + (
                "The interval is where the points land in 95% of bootstrap refits; a band "
                "whose interval crosses 0 or that holds few leads is flagged."
                if has_intervals
                else "No intervals: the fit ran without bootstrap refits."
            )
        ),
        "behaviour": _behaviour_summary(calibration),
        "previous": m.get("previous"),
        "fast_track": {
            "note": (
                "Tested on all leads. A signal is recommended when its leads won at least as "
                "often as leads at the MQL threshold (and at least 30 leads showed it)."
            ),
            "decision": "Fast-track",
        },
        "metrics": [
            ("Hold-out AUC, unrounded model", f"{m['holdout_auc_model']:.3f}"),
            ("Hold-out AUC, integer points", f"{m['holdout_auc_points']:.3f}"),
            ("AUC lost to rounding", f"{m['holdout_auc_lost_to_rounding']:.4f}"),
            ("Kendall's tau, points vs model", f"{m['holdout_kendall_tau']:.3f}"),
            ("Brier score", f"{m['holdout_brier']:.4f}"),
            ("Log loss", f"{m['holdout_log_loss']:.4f}"),
            ("Calibration error (score bands)", f"{m['holdout_calibration_error']:.4f}"),
            ("Training leads", f"{m['n_train']:,}"),
            ("Hold-out leads", f"{m['n_holdout']:,} ({m['split']})"),
        ],
        "data": {
            "source": leads.source,
            "leads": f"{leads.n_leads:,}",
            "wins": f"{int(y.sum()):,}",
            "win_rate": _pct(y.mean()),
            "outcome": f"{leads.outcome.name} = {leads.positive_label}",
            "period": _period(leads.dates),
            "excluded_note": "",
            "excluded": [{"column": c, "reason": r} for c, r in leads.excluded.items()],
        },
        "warnings": list(calibration.warnings),
    }


def _no_signal(signal: str, interval, leads: str) -> str | None:
    """The plain words for a sheet that ranks leads no better than chance, or None."""
    if signal == "usable":
        return None
    low, high = interval
    return (
        "This history shows no usable signal: the sheet ranks leads no better than chance "
        f"(on {leads} leads the AUC's 95% interval, {low:.3f} to {high:.3f}, includes 0.5). "
        "No MQL threshold is recommended."
    )


def _levels_summary(levels: pd.DataFrame, evidence: _Evidence) -> list[dict]:
    """Every level's scores, leads and win rate, and how many of its leads the line passes."""
    passed = evidence.curve["leads_passed"].to_numpy()
    return [
        {
            "name": r.level,
            "range": f"{int(r.min_score)}-{int(r.max_score)}",
            "min_score": int(r.min_score),
            "max_score": int(r.max_score),
            "leads": int(r.leads),
            "passed": passed_in_level(
                passed, int(r.min_score), int(r.max_score), evidence.threshold, evidence.min_score
            ),
            "share": _pct(r.share_of_leads),
            "win_rate": _pct(r.win_rate),
        }
        for r in levels.itertuples()
    ]


def passed_in_level(leads_passed, low: int, high: int, threshold: int, min_score: int) -> int:
    """Leads of a level (scores ``low`` to ``high``) at or above an MQL threshold.

    Levels start at fixed scores (the config's), so moving the line passes
    a level whole, in part or not at all. ``leads_passed`` is the curve's
    (leads scoring at least each threshold from ``min_score`` to the
    scale's maximum + 1); the page's slider counts the same way.

    Examples
    --------
    Five leads scoring 0, 1, 2, 3 and 3 on a 0-3 scale; a level of scores 1-2:

    >>> passed = [5, 4, 3, 2, 0]
    >>> [passed_in_level(passed, 1, 2, t, 0) for t in (0, 2, 3)]
    [2, 1, 0]
    """
    if threshold > high:
        return 0
    start = max(threshold, low) - min_score
    return int(leads_passed[start] - leads_passed[high + 1 - min_score])


def _threshold_curve(evidence: _Evidence, levels: list[dict]) -> dict:
    """What every threshold of the scale passes, for the page's slider: numbers only.

    The curve of the report's evidence (:func:`~calibrate.decide.threshold.threshold_curve`,
    the one the policy table and the trade-off figure read) from
    ``min_score`` to ``max_score``: leads passed, and the shares in percent
    and MQLs a week rounded to one decimal as the page writes them
    (:func:`_pct`), so that the slider shows at every threshold what the
    static tables show at theirs. A win rate of no lead passed and MQLs a
    week without a weekly volume are None. ``levels`` are the levels'
    ``[min_score, max_score]``, in the order of the levels table;
    ``leads_passed`` runs one past the scale (nobody passes), so that a
    level's count reads ``leads_passed`` on both of its ends
    (:func:`passed_in_level`).
    """
    curve = evidence.curve.iloc[:-1]  # a threshold above the scale passes nobody

    def percent(values):
        return [None if not np.isfinite(x) else round(100 * float(x), 1) for x in values]

    weekly = evidence.weekly
    return {
        "min_score": evidence.min_score,
        "max_score": evidence.max_score,
        "threshold": evidence.threshold,
        "leads_passed": [int(x) for x in evidence.curve["leads_passed"]],
        "share_passed": percent(curve["share_passed"]),
        "share_wins_captured": percent(curve["share_wins_captured"]),
        "win_rate_passed": percent(curve["win_rate_passed"]),
        "mqls_per_week": None
        if weekly is None
        else [round(float(x) * weekly, 1) for x in curve["share_passed"]],
        "levels": [[level["min_score"], level["max_score"]] for level in levels],
    }


def _fast_track_rows(evidence: pd.DataFrame) -> list[dict]:
    return [
        {
            "signal": r.candidate,
            "how": f"in the {int(r.within_days)} days before the decision"
            if r.kind == "activity"
            else "lead column is true",
            "leads": f"{int(r.leads):,}",
            "win_rate": _pct(r.win_rate),
            "interval": "-" if not r.leads else f"{_pct(r.ci_low)} to {_pct(r.ci_high)}",
            "reference": _pct(r.reference_rate),
            "recommended": "yes" if r.recommended else "no",
        }
        for r in evidence.itertuples()
    ]


def _evidence_summary(evidence: _Evidence) -> dict:
    """The tables beside the figures: the same for a fit and an evaluation."""
    won, scores, t = evidence.won, evidence.scores, evidence.threshold
    passed = scores >= t
    return {
        "gains": [
            {
                "tenth": "top 10%" if r.tenth == 1 else f"{10 * (r.tenth - 1)}-{10 * r.tenth}%",
                "scores": r.scores,
                "share_of_wins": _pct(r.share_of_wins),
                "cumulative_wins": _pct(r.cumulative_wins),
                "lift": f"{r.lift:.2f}",
            }
            for r in evidence.deciles.itertuples()
        ],
        "calibration": [
            {
                "band": f"{int(r.score_min)}-{int(r.score_max)}",
                "leads": int(r.leads),
                "win_rate": _pct(r.win_rate),
                "predicted": _pct(r.predicted),
            }
            for r in evidence.bands.itertuples()
        ],
        "predicted_label": evidence.predicted_label,
        "distribution": {
            "won_passed": _pct(passed[won].mean() if won.any() else np.nan),
            "lost_passed": _pct(passed[~won].mean() if (~won).any() else np.nan),
            "won_median": f"{np.median(scores[won]):g}" if won.any() else "-",
            "lost_median": f"{np.median(scores[~won]):g}" if (~won).any() else "-",
        },
    }


def _comparison_summary(comparison) -> dict | None:
    if comparison is None:
        return None

    def side(d):
        return {
            "auc": f"{d['auc']:.3f}" if "auc" in d else "-",
            "threshold": f"{d['threshold']:g}",
            "passed": _pct(d["share_passed"]),
            "wins": _pct(d["share_wins_captured"]),
            "win_rate": _pct(d["win_rate_passed"]),
        }

    return {
        "current": side(comparison["current"]),
        "calibrated": side(comparison["calibrated"]),
        "same_volume": side(comparison["calibrated_at_same_volume"]),
        "rules": [
            {
                "rule": r["rule"],
                "leads": f"{r['leads']:,}",
                "win_rate": _pct(r["win_rate"]),
                "current": f"{r['current_points']:g}",
                "calibrated": "-"
                if not np.isfinite(r["calibrated_points"])
                else f"{r['calibrated_points']:.0f}",
            }
            for r in comparison["rules"]
        ],
    }


def _two_axis_summary(two_axis) -> dict | None:
    if two_axis is None:
        return None
    single = two_axis["single"]
    return {
        "fit_min": two_axis["fit_min"],
        "engagement_min": two_axis["engagement_min"],
        "share_passed": _pct(two_axis["share_passed"]),
        "share_wins_captured": _pct(two_axis["share_wins_captured"]),
        "value": f"{two_axis['value_per_1000_leads']:,.0f}",
        "single_threshold": single["threshold"],
        "single_share_passed": _pct(single["share_passed"]),
        "single_share_wins_captured": _pct(single["share_wins_captured"]),
        "single_value": f"{single['value_per_1000_leads']:,.0f}",
    }


def _behaviour_summary(calibration) -> dict | None:
    behaviour = calibration.behaviour
    if behaviour is None:
        return None
    featurizer = behaviour.featurizer
    counts = behaviour.counts
    return {
        "from_fit": False,
        "activities": f"{featurizer.activity_counts_['rows']:,}",
        "after_decision": f"{counts['after_decision_rows']:,}",
        "unknown_leads": f"{counts['unknown_lead_rows']:,}",
        "features": [
            {"name": f.name, "description": f.description} for f in featurizer.spec_.features
        ],
        "decay": [
            {
                "family": row.family,
                "types": ", ".join(
                    sorted(t for t, f in featurizer.spec_.families.items() if f == row.family)
                ),
                "kernel": row.kernel,
                "improvement": f"{row.improvement:.5f}",
            }
            for row in featurizer.decay_.itertuples()
        ],
    }


def _evaluation_summary(m: _Measured, evidence: _Evidence) -> dict:
    """What a config's report says beyond its evidence: its recommendation, sheet and data."""
    config, won, scores = m.config, m.won, m.scores
    curve, weekly = evidence.curve, evidence.weekly

    def at(threshold):
        position = np.clip(threshold, config.min_score, config.max_score + 1) - config.min_score
        row = curve.iloc[int(position)]
        per_week = None if weekly is None else row["share_passed"] * weekly
        return row, per_week

    row, per_week = at(config.mql_threshold)
    policy = config.threshold.get("policy", {})
    recorded = config.threshold
    at_fit = None
    if recorded.get("share_passed") is not None:
        at_fit = {
            "share_passed": _pct(recorded["share_passed"]),
            "share_wins_captured": _pct(recorded["share_wins_captured"]),
            "win_rate_passed": _pct(recorded.get("win_rate_passed")),
        }
    policies = [_policy_row(p["name"], int(p["mql"]), *at(p["mql"])) for p in m.policies]
    levels = config.threshold.get("levels")
    metrics, warnings, no_signal = _evaluation_quality(m, evidence)
    trained = config.training_data
    return {
        "mode": "evaluation",
        "title": "Lead scoring review: the points sheet on labelled leads",
        "judged_on": "leads in this report",
        "recommendation": {
            "threshold": config.mql_threshold,
            "share_passed": _pct(row["share_passed"]),
            "share_wins_captured": _pct(row["share_wins_captured"]),
            "win_rate_passed": _pct(row["win_rate_passed"]),
            "base_rate": _pct(won.mean()),
            "policy": policy,
            "policy_text": _policy_text(policy),
            "goal_met": True,
            "mqls_per_week": None if per_week is None else f"{per_week:,.1f}",
            "volume_note": ""
            if m.volume is not None or m.weekly is None
            else " at the weekly lead volume of the fit",
            "at_fit": at_fit,
            "leads": f"{len(won):,}",
            "no_signal": no_signal,
        },
        "policies": policies,
        "levels": _levels_summary(
            level_table(scores, won, levels, max_score=config.max_score), evidence
        )
        if levels
        else [],
        "base_points": int(config.base_points),
        "scale": {"min": int(config.min_score), "max": int(config.max_score)},
        "sheet": _evaluation_sheet(m),
        "pairs": _pair_tables(m.config.criteria, m.frame, m.won, "these leads"),
        "sheet_intervals": False,
        "sheet_note": (
            "Lead counts and win rates are those of the leads in this report. The points' "
            "95% intervals come from the bootstrap refits of the fit and are not kept in the "
            "config."
        ),
        "behaviour": _evaluation_behaviour(config),
        "fast_track": {
            "note": (
                "The config's fast-track rules, measured on these leads. A rule still holds "
                "when its leads won at least as often as leads at the MQL threshold (and at "
                "least 30 leads showed it)."
            ),
            "decision": "Still holds",
        },
        "metrics": metrics,
        "data": {
            "source": m.source,
            "leads": f"{len(won):,}",
            "wins": f"{int(won.sum()):,}",
            "win_rate": _pct(won.mean()),
            "outcome": m.outcome,
            "period": _period(m.dates)
            + ("" if m.date_column is None else f" (column {m.date_column})"),
            "excluded_note": "Left out when the sheet was fitted:",
            "excluded": [
                {"column": e["column"], "reason": e["reason"]} for e in trained.get("excluded", [])
            ],
        },
        "warnings": warnings,
    }


def _policy_row(name: str, threshold: int, row, per_week) -> dict:
    return {
        "name": _policy_label(name),
        "threshold": threshold,
        "share_passed": _pct(row["share_passed"]),
        "share_wins_captured": _pct(row["share_wins_captured"]),
        "win_rate_passed": _pct(row["win_rate_passed"]),
        "mqls_per_week": "-" if per_week is None else f"{per_week:,.1f}",
    }


def _evaluation_quality(m: _Measured, evidence: _Evidence):
    """The quality rows of a config on labelled leads, its warnings, and no-signal words."""
    from sklearn.metrics import roc_auc_score

    config, won, scores = m.config, m.won, m.scores
    auc = float(roc_auc_score(won, scores)) if len(np.unique(scores)) > 1 else 0.5
    interval = auc_interval(won, scores)
    _, auc_low, auc_high = interval
    signal = signal_of(interval)
    predicted = evidence.bands["predicted"].to_numpy()
    observed = evidence.bands["win_rate"].to_numpy()
    n_band = evidence.bands["leads"].to_numpy()
    present = n_band > 0
    ece = float(np.nansum(np.abs(observed - predicted)[present] * n_band[present]) / len(won))
    holdout = config.model.get("holdout", {})
    metrics = [("AUC of the score on these leads", f"{auc:.3f}")]
    if holdout.get("auc_points") is not None:
        metrics.append(("AUC at the fit, hold-out leads", f"{holdout['auc_points']:.3f}"))
    metrics.append(("Calibration error (score bands) on these leads", f"{ece:.4f}"))
    if config.calibration.get("expected_calibration_error") is not None:
        metrics.append(
            (
                "Calibration error at the fit",
                f"{config.calibration['expected_calibration_error']:.4f}",
            )
        )
    metrics.append(("Leads scored", f"{len(won):,}"))
    warnings = list(m.scored.attrs.get("warnings", []))
    no_signal = _no_signal(signal, (auc_low, auc_high), "these")
    if no_signal:
        warnings.insert(0, no_signal)
    rare = int(min(won.sum(), len(won) - won.sum()))
    if rare < COMFORTABLE_HOLDOUT_OUTCOMES:
        name = "won" if won.sum() <= len(won) - won.sum() else "lost"
        warnings.append(
            f"only {rare} {name} leads: every rate in this report is uncertain "
            f"({COMFORTABLE_HOLDOUT_OUTCOMES} or more measure the AUC to +-0.075)"
        )
    return metrics, warnings, no_signal


def _evaluation_sheet(m: _Measured) -> list[dict]:
    criteria = []
    spec = m.config.activity_spec
    for criterion in m.config.criteria:
        words = _band_words(criterion, spec)
        band = criterion.assign_frame(m.frame)
        n = np.bincount(band, minlength=len(criterion.bands))
        wins = np.bincount(band, weights=m.won, minlength=len(criterion.bands))
        criteria.append(
            {
                "name": criterion.name,
                "group": criterion.group,
                "kind": criterion.kind,
                "bands": [
                    {
                        "label": b.label,
                        "words": words[b.label][0],
                        "phrase": words[b.label][1],
                        "points": int(b.points),
                        "interval": "-",
                        "flag": "",
                        "leads": int(n[i]),
                        "win_rate": _pct(wins[i] / n[i] if n[i] else np.nan),
                    }
                    for i, b in enumerate(criterion.bands)
                ],
            }
        )
    return criteria


def _evaluation_behaviour(config) -> dict | None:
    spec = config.activity_spec
    if spec is None:
        return None
    return {
        "from_fit": True,
        "activities": "-",
        "after_decision": "-",
        "unknown_leads": "0",
        "features": [{"name": f.name, "description": f.description} for f in spec.features],
        "decay": [
            {
                "family": d["family"],
                "types": ", ".join(
                    sorted(t for t, f in spec.families.items() if f == d["family"])
                ),
                "kernel": d["kernel"],
                "improvement": "-" if d.get("improvement") is None else f"{d['improvement']:.5f}",
            }
            for d in config.activities.get("decay", [])
        ],
    }


# --------------------------------------------------------------------------- formatting


def _interval(row) -> str:
    low, high = getattr(row, "points_low", np.nan), getattr(row, "points_high", np.nan)
    if not (np.isfinite(low) and np.isfinite(high)):
        return "-"
    return f"{low:.0f} to {high:.0f}"


def _pct(x) -> str:
    if x is None or (isinstance(x, float | np.floating) and not np.isfinite(x)):
        return "-"
    return f"{100 * float(x):.1f}%"


def _period(dates) -> str:
    if dates is None:
        return "not given (random hold-out)"
    start, end = pd.Timestamp(dates.min()), pd.Timestamp(dates.max())
    return f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
