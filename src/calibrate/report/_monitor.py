"""The monitor page: what :func:`calibrate.monitor` found, for the review meeting.

It reads the plain ``monitor.json`` content (so the page and the file can
never disagree), draws its figures in the report's greys, and renders
``templates/monitor.html`` with autoescape on.
"""

from __future__ import annotations

import numpy as np

from ..decide.threshold import wilson_interval
from ._figures import _INK, _LIGHT, _MID, _PALE, _png
from ._render import render_page

__all__ = ["monitor_page"]

#: The verdict's words, by whether to recalibrate.
_VERDICT = {
    True: "Recalibrate: the sheet no longer describes the leads it scores.",
    False: "Keep the sheet: nothing calls for a refit.",
}


def monitor_page(result: dict) -> str:
    """``monitor.html``: the verdict, the alerts, per-criterion shifts, outcomes, periods.

    Parameters
    ----------
    result : dict
        The ``monitor.json`` content (:meth:`calibrate.Monitoring.to_dict`).

    Returns
    -------
    str
    """
    return render_page(
        "monitor.html", _figures(result), r=result, verdict=_VERDICT[result["recalibrate"]]
    )


def _figures(result: dict) -> dict[str, bytes]:
    figures = {}
    if any(row.get("psi") is not None for row in result["criteria"]):
        height = 1.2 + 0.28 * len(result["criteria"])
        figures["criteria"] = _png(_plot_psi, result, (7.0, height))
    if result["overall"].get("score_shares_at_fit") is not None:
        figures["scores"] = _png(_plot_scores, result, (7.0, 3.4))
    calibration = result["overall"].get("calibration")
    if calibration and any(b["leads_now"] for b in calibration["bands"]):
        figures["calibration"] = _png(_plot_calibration, result, (7.0, 3.6))
    if len(result["periods"]) > 1:
        figures["periods"] = _png(_plot_periods, result, (7.0, 3.6))
    return figures


def _plot_psi(fig, ax, result):
    rows = sorted(
        (r for r in result["criteria"] if r.get("psi") is not None), key=lambda r: r["psi"]
    )
    y = np.arange(len(rows))
    values = [r["psi"] for r in rows]
    colors = [_INK if v >= 0.25 else _MID if v >= 0.1 else _LIGHT for v in values]
    ax.barh(y, values, color=colors, height=0.65)
    ax.set_yticks(y, [r["name"] for r in rows])
    for x, label in ((0.1, "watch 0.1"), (0.25, "act 0.25")):
        ax.axvline(x, color=_INK, ls=(0, (4, 3)) if x == 0.1 else "-", lw=1.0)
        ax.text(x, len(rows) - 0.4, f" {label}", fontsize=8, va="bottom", color=_INK)
    ax.set_xlim(0, max(0.3, max(values) * 1.1))
    ax.set_xlabel("population stability index of the criterion's band shares")
    ax.set_title("Which criteria moved")
    ax.grid(True, axis="x", color=_PALE, lw=0.6)


def _plot_scores(fig, ax, result):
    overall = result["overall"]
    bins = np.asarray(overall["score_bins"], dtype=float)
    width = np.diff(np.r_[bins, bins[-1] + 10]) if len(bins) else []
    now = 100 * np.asarray(overall["score_shares_now"], dtype=float)
    fit = 100 * np.asarray(overall["score_shares_at_fit"], dtype=float)
    ax.bar(
        bins,
        fit,
        width=width * 0.9,
        align="edge",
        color=_PALE,
        edgecolor=_MID,
        label="training leads",
    )
    ax.step(
        np.r_[bins, bins[-1] + width[-1]],
        np.r_[now, now[-1]],
        where="post",
        color=_INK,
        lw=1.8,
        label="leads now",
    )
    ax.axvline(
        result["overall"]["mql"]["threshold"], color=_INK, ls="--", lw=1.1, label="MQL threshold"
    )
    ax.set_xlabel("lead score")
    ax.set_ylabel("share of leads, %")
    ax.set_title("Scores now and at fit")
    ax.legend(loc="upper right", frameon=True, framealpha=0.95, edgecolor=_LIGHT)
    ax.grid(True, axis="y", color=_PALE, lw=0.6)


def _plot_calibration(fig, ax, result):
    bands = [b for b in result["overall"]["calibration"]["bands"] if b["leads_now"]]
    mid = np.array([(b["score_min"] + b["score_max"]) / 2 for b in bands])
    now = np.array([b["win_rate_now"] for b in bands])
    n = np.array([b["leads_now"] for b in bands])
    low, high = wilson_interval(now * n, n)
    low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
    ax.errorbar(
        mid,
        100 * now,
        yerr=100 * np.vstack([now - low, high - now]),
        fmt="o",
        color=_INK,
        mfc="white",
        ms=6,
        capsize=3,
        lw=1.2,
        label="won now (95% interval)",
    )
    fit = [b["win_rate_at_fit"] for b in bands]
    ax.plot(
        mid,
        [100 * f if f is not None else np.nan for f in fit],
        ls="-",
        marker="D",
        ms=5,
        color=_MID,
        lw=1.2,
        label="won at fit (hold-out)",
    )
    ax.set_xlabel("lead score band")
    ax.set_ylabel("win rate, %")
    ax.set_title("Does a score still mean the same win rate?")
    ax.legend(loc="upper left", frameon=True, framealpha=0.95, edgecolor=_LIGHT)
    ax.grid(True, axis="y", color=_PALE, lw=0.6)


def _plot_periods(fig, ax, result):
    periods = result["periods"]
    x = np.arange(len(periods))
    score = [p["measures"].get("score_psi") for p in periods]
    worst = [
        max(
            (r["psi"] for r in p["measures"]["criteria"] if r.get("psi") is not None), default=None
        )
        for p in periods
    ]
    ax.plot(
        x,
        [np.nan if v is None else v for v in score],
        marker="o",
        color=_INK,
        lw=1.6,
        label="score PSI",
    )
    ax.plot(
        x,
        [np.nan if v is None else v for v in worst],
        marker="s",
        color=_MID,
        lw=1.2,
        ls="--",
        label="largest criterion PSI",
    )
    for i, p in enumerate(periods):
        if any(a["level"] == "act" for a in p["alerts"]):
            ax.annotate(
                "act",
                (i, 0),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                fontweight="bold",
            )
    ax.axhline(0.1, color=_LIGHT, ls=(0, (4, 3)), lw=1.0)
    ax.axhline(0.25, color=_MID, lw=1.0)
    step = max(1, len(periods) // 8)
    ax.set_xticks(x[::step], [p["start"] for p in periods][::step], fontsize=8)
    ax.set_ylabel("PSI against training")
    ax.set_title("Shifts per period")
    ax.legend(loc="upper left", frameon=True, framealpha=0.95, edgecolor=_LIGHT)
    ax.grid(True, axis="y", color=_PALE, lw=0.6)


def _largest_psi(criteria):
    values = [r["psi"] for r in criteria if r.get("psi") is not None]
    return max(values) if values else None
