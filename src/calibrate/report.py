"""Report: a standalone HTML page for the marketing-and-sales review.

:func:`build_summary` gathers plain values from a :class:`~calibrate.Calibration`
(the recommendation, the points sheet, hold-out metrics, data notes);
:func:`render_report` renders them through a jinja2 template with autoescape
on, so every value from the data shows as text. Plots are drawn with
matplotlib and embedded as PNG data, so the file opens without a network.
"""

from __future__ import annotations

import base64
import io
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["build_summary", "render_report"]

_GREYS = {"ink": "#222222", "mid": "#777777", "light": "#bbbbbb"}


def build_summary(calibration) -> dict:
    """Plain values the report shows, in the order a meeting reads them.

    Parameters
    ----------
    calibration : Calibration
        The result of :func:`calibrate.fit`.

    Returns
    -------
    dict
        ``recommendation``, ``sheet`` (list of criteria with their bands),
        ``metrics``, ``calibration`` (rows), ``data`` (source, counts,
        excluded columns and why) and ``warnings``.
    """
    m = calibration.metrics
    leads = calibration.leads
    sheet = calibration.scorecard.points_
    criteria = []
    for criterion in calibration.scorecard.criteria_:
        rows = sheet[sheet["criterion"] == criterion.name]
        criteria.append(
            {
                "name": criterion.name,
                "group": criterion.group,
                "kind": criterion.kind,
                "bands": [
                    {
                        "label": r.band,
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
    y = leads.outcome.to_numpy()
    return {
        "recommendation": {
            "threshold": int(m["threshold"]),
            "share_passed": _pct(m["share_passed"]),
            "share_wins_captured": _pct(m["share_wins_captured"]),
            "win_rate_passed": _pct(m["win_rate_passed"]),
            "base_rate": _pct(m["holdout_win_rate"]),
            "policy": calibration.threshold.policy.to_dict(),
            "policy_text": calibration.threshold.policy.describe(),
            "goal_met": calibration.threshold.met,
            "mqls_per_week": None
            if calibration.threshold.mqls_per_week is None
            else f"{calibration.threshold.mqls_per_week:,.1f}",
        },
        "policies": [
            {
                "name": name.replace("_", " "),
                "threshold": c.threshold,
                "share_passed": _pct(c.share_passed),
                "share_wins_captured": _pct(c.share_wins_captured),
                "win_rate_passed": _pct(c.win_rate_passed),
                "mqls_per_week": "-" if c.mqls_per_week is None else f"{c.mqls_per_week:,.1f}",
            }
            for name, c in calibration.decision.choices.items()
        ],
        "levels": [
            {
                "name": r.level,
                "range": f"{int(r.min_score)}-{int(r.max_score)}",
                "share": _pct(r.share_of_leads),
                "win_rate": _pct(r.win_rate),
            }
            for r in calibration.decision.levels.itertuples()
        ],
        "fast_track": [
            {
                "signal": r.candidate,
                "how": f"in the {int(r.within_days)} days before the decision"
                if r.kind == "activity"
                else "lead column is true",
                "leads": f"{int(r.leads):,}",
                "win_rate": _pct(r.win_rate),
                "interval": f"{_pct(r.ci_low)} to {_pct(r.ci_high)}",
                "reference": _pct(r.reference_rate),
                "recommended": "yes" if r.recommended else "no",
            }
            for r in calibration.decision.fast_track.itertuples()
        ],
        "two_axis": _two_axis_summary(calibration.decision.two_axis),
        "base_points": int(calibration.scorecard.base_points_),
        "scale": {
            "min": int(calibration.scorecard.min_score),
            "max": int(calibration.scorecard.max_score),
        },
        "sheet": criteria,
        "metrics": [
            ("Hold-out AUC, unrounded model", f"{m['holdout_auc_model']:.3f}"),
            ("Hold-out AUC, integer points", f"{m['holdout_auc_points']:.3f}"),
            ("AUC lost to rounding", f"{m['holdout_auc_lost_to_rounding']:.4f}"),
            ("Kendall's tau, points vs model", f"{m['holdout_kendall_tau']:.3f}"),
            ("Brier score", f"{m['holdout_brier']:.4f}"),
            ("Log loss", f"{m['holdout_log_loss']:.4f}"),
            ("Training leads", f"{m['n_train']:,}"),
            ("Hold-out leads", f"{m['n_holdout']:,} ({m['split']})"),
        ],
        "calibration": [
            {
                "band": f"{int(r.score_min)}-{int(r.score_max)}",
                "leads": int(r.leads),
                "win_rate": _pct(r.win_rate),
            }
            for r in calibration.calibration.itertuples()
        ],
        "data": {
            "source": leads.source,
            "leads": f"{leads.n_leads:,}",
            "wins": f"{int(y.sum()):,}",
            "win_rate": _pct(y.mean()),
            "outcome": f"{leads.outcome.name} = {leads.positive_label}",
            "period": _period(leads),
            "excluded": [{"column": c, "reason": r} for c, r in leads.excluded.items()],
        },
        "warnings": list(calibration.warnings),
        "behaviour": _behaviour_summary(calibration),
        "comparison": _comparison_summary(calibration.comparison),
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


def render_report(calibration) -> str:
    """The review report of a calibration as one standalone HTML page."""
    import jinja2

    summary = build_summary(calibration)
    images = {
        "tradeoff": _png(_plot_tradeoff, calibration),
        "calibration": _png(_plot_calibration, calibration),
    }
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template_text = resources.files("calibrate").joinpath("templates/report.html").read_text()
    return env.from_string(template_text).render(summary=summary, images=images)


def _interval(row) -> str:
    low, high = getattr(row, "points_low", np.nan), getattr(row, "points_high", np.nan)
    if not (np.isfinite(low) and np.isfinite(high)):
        return "-"
    return f"{low:.0f} to {high:.0f}"


def _pct(x) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return f"{100 * float(x):.1f}%"


def _period(leads) -> str:
    if leads.dates is None:
        return "not given (random hold-out)"
    start, end = pd.Timestamp(leads.dates.min()), pd.Timestamp(leads.dates.max())
    return f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"


def _png(draw, calibration) -> str:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    try:
        draw(ax, calibration)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plot_tradeoff(ax, calibration):
    curve = calibration.threshold.curve
    ax.plot(
        100 * curve["share_passed"],
        100 * curve["share_wins_captured"],
        color=_GREYS["ink"],
        lw=2,
        label="calibrated points",
    )
    ax.plot([0, 100], [0, 100], ls="--", color=_GREYS["mid"], lw=1, label="random order")
    t = calibration.threshold
    ax.plot(
        100 * t.share_passed,
        100 * t.share_wins_captured,
        "o",
        ms=9,
        color=_GREYS["ink"],
        mfc="white",
        mew=2,
        label=f"MQL threshold {t.threshold}",
    )
    ax.set_xlabel("leads passed to sales, %")
    ax.set_ylabel("wins captured, %")
    ax.set_title("Threshold trade-off on hold-out leads")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.grid(True, color=_GREYS["light"], lw=0.5)
    ax.legend(loc="lower right", frameon=False)


def _plot_calibration(ax, calibration):
    table = calibration.calibration
    mid = (table["score_min"] + table["score_max"]) / 2
    ax.bar(
        mid,
        100 * table["win_rate"].fillna(0),
        width=8,
        color=_GREYS["light"],
        edgecolor=_GREYS["ink"],
        label="observed win rate",
    )
    ax.plot(
        mid,
        100 * table["win_probability"],
        "o-",
        color=_GREYS["ink"],
        label="smoothed win probability",
    )
    ax.axvline(
        calibration.threshold.threshold, color=_GREYS["mid"], ls="--", lw=1, label="MQL threshold"
    )
    ax.set_xlabel("lead score")
    ax.set_ylabel("win rate of hold-out leads, %")
    ax.set_title("What a score means")
    ax.set_xlim(-2, 102)
    ax.grid(True, axis="y", color=_GREYS["light"], lw=0.5)
    ax.legend(loc="upper left", frameon=False)
