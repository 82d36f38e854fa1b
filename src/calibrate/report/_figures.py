"""Drawing: the report's figures as PNG bytes, in greys."""

from __future__ import annotations

import io
import textwrap

import numpy as np

from ._evidence import _Evidence

#: Greys only: the report must read the same printed in black and white.
_INK, _MID, _LIGHT, _PALE = "#111111", "#666666", "#b0b0b0", "#e4e4e4"
#: Pixels per inch of the embedded figures: sharp on paper at the page width.
_DPI = 130
#: Fewer leads than this in a score band make its win rate too noisy to quote.
_FEW_LEADS = 20


#: Characters a line of a band's words holds beside its bar.
_LABEL_WIDTH = 34


def _figures(evidence: _Evidence, top_bands: dict) -> dict[str, bytes]:
    """Every figure, drawn once: the evidence's, and the bands of the summary's ``top_bands``."""
    panels = {name: bands for name, bands in top_bands.items() if bands}
    return {
        "top_bands": _png(_plot_top_bands, panels, (8.0, 3.2), ncols=max(len(panels), 1)),
        "tradeoff": _png(_plot_tradeoff, evidence, (7.0, 4.2)),
        "gains": _png(_plot_gains, evidence, (8.0, 3.8), ncols=2),
        "calibration": _png(_plot_calibration, evidence, (7.0, 4.0)),
        "distribution": _png(_plot_distribution, evidence, (7.0, 3.8)),
    }


def _png(draw, data, size: tuple, ncols: int = 1) -> bytes:
    """One figure of ``data`` as PNG bytes: matplotlib defaults, fixed size and dpi, no metadata.

    No pyplot (no global figure state, no backend switch in a notebook), the
    default style whatever the user's matplotlibrc, and no software or date
    stamp, so the same evidence always gives the same bytes.
    """
    import matplotlib
    import matplotlib.style
    from matplotlib.figure import Figure

    rc = {
        "font.size": 9.5,
        "axes.titlesize": 10.5,
        "axes.titleweight": "bold",
        "axes.labelsize": 9.5,
        "legend.fontsize": 8.5,
        "hatch.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.style.context("default"), matplotlib.rc_context(rc):
        fig = Figure(figsize=size, dpi=_DPI, layout="constrained")
        axes = fig.subplots(1, ncols)
        draw(fig, axes, data)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def _mark_thresholds(ax, evidence: _Evidence):
    """A vertical line at every policy's threshold, labelled; the chosen one solid."""
    by_threshold: dict[int, list] = {}
    for label, threshold, chosen in evidence.policies:
        by_threshold.setdefault(threshold, []).append((label, chosen))
    if evidence.threshold not in by_threshold:
        by_threshold[evidence.threshold] = [("MQL threshold", True)]
    for threshold, named in sorted(by_threshold.items()):
        chosen = any(c for _, c in named)
        ax.axvline(
            threshold,
            color=_INK if chosen else _MID,
            ls="-" if chosen else (0, (1, 2)),
            lw=1.5 if chosen else 1.2,
            zorder=1,
        )
        ax.text(
            threshold,
            1.0,
            ", ".join(label for label, _ in named) + f" {threshold}",
            transform=ax.get_xaxis_transform(),
            rotation=90,
            va="top",
            ha="center",
            fontsize=8,
            color=_INK,
            fontweight="bold" if chosen else "normal",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5},
            zorder=4,
        )


def _plot_top_bands(fig, axes, panels: dict):
    """Horizontal bars of the bands that move a score most: fit and engagement apart.

    Points earned are grey bars, points lost white hatched ones (apart in
    black and white), each with its points at the end; the words of a band
    are wrapped beside its bar.
    """
    axes = np.atleast_1d(axes)
    titles = {"fit": "Fit: who the lead is", "engagement": "Engagement: what the lead did"}
    if not panels:
        axes[0].text(0.5, 0.5, "No band earns or costs points", ha="center", va="center")
        axes[0].set_axis_off()
        return
    every = [b["points"] for bands in panels.values() for b in bands]
    reach = max(abs(p) for p in every)
    # One scale for both panels, with room for the points at the bars' ends.
    limits = (min(0, min(every)) - (0.25 * reach if min(every) < 0 else 0), 1.2 * max(0, *every))
    for ax, (name, bands) in zip(axes, panels.items(), strict=True):
        y = np.arange(len(bands))
        points = np.array([b["points"] for b in bands])
        gain = points > 0
        ax.barh(y[gain], points[gain], height=0.7, color=_LIGHT, edgecolor=_INK, lw=0.8)
        ax.barh(
            y[~gain], points[~gain], height=0.7, color="white", edgecolor=_INK, hatch="///", lw=0.8
        )
        for yi, p in zip(y, points, strict=True):
            ax.text(
                p + (0.02 if p > 0 else -0.02) * reach,
                yi,
                f"{p:+d}",
                va="center",
                ha="left" if p > 0 else "right",
                fontsize=8,
                color=_INK,
            )
        ax.set_yticks(y, [textwrap.fill(b["label"], _LABEL_WIDTH) for b in bands], fontsize=7.5)
        ax.invert_yaxis()
        ax.set_xlim(*limits)
        ax.axvline(0, color=_INK, lw=0.9)
        ax.grid(True, axis="x", color=_PALE, lw=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel("points")
        # Right-aligned: a long title runs over the band words, not off the figure.
        ax.set_title(titles[name], loc="right", fontsize=9.5)


def _plot_tradeoff(fig, ax, evidence: _Evidence):
    curve = evidence.curve.iloc[:-1]
    t = curve["threshold"]
    every = 10
    ax.plot(
        t,
        100 * curve["share_passed"],
        color=_INK,
        ls="--",
        lw=1.8,
        marker="s",
        ms=4.5,
        mfc="white",
        markevery=every,
        label="leads passed to sales, %",
    )
    ax.plot(
        t,
        100 * curve["share_wins_captured"],
        color=_INK,
        ls="-",
        lw=2.2,
        marker="o",
        ms=4.5,
        markevery=every,
        label="wins captured, %",
    )
    # The win rate of a handful of leads is noise: drawn while enough pass.
    rate = curve["win_rate_passed"].where(curve["leads_passed"] >= _FEW_LEADS)
    ax.plot(
        t,
        100 * rate,
        color=_MID,
        ls=":",
        lw=2.2,
        marker="^",
        ms=4.5,
        markevery=every,
        label=f"win rate of MQLs, % (while {_FEW_LEADS}+ leads pass)",
    )
    if evidence.capacity is not None:
        share, label = evidence.capacity
        ax.axhline(100 * share, color=_MID, ls="-.", lw=1.4, zorder=1)
        ax.text(
            evidence.max_score - 1,
            100 * share + 1,
            label,
            ha="right",
            va="bottom",
            fontsize=8,
            color=_INK,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5},
            zorder=4,
        )
    _mark_thresholds(ax, evidence)
    chosen = curve.iloc[evidence.threshold - evidence.min_score]
    ax.set_title(
        f"At a threshold of {evidence.threshold}, sales gets "
        f"{100 * chosen['share_passed']:.0f}% of leads and "
        f"{100 * chosen['share_wins_captured']:.0f}% of wins",
        loc="left",
    )
    ax.set_xlabel("MQL threshold: leads scoring at least this go to sales")
    ax.set_ylabel("share of leads or wins, %")
    ax.set_xlim(evidence.min_score, evidence.max_score)
    ax.set_ylim(0, 102)
    ax.grid(True, color=_PALE, lw=0.6)
    ax.legend(loc="upper right", frameon=True, framealpha=1, edgecolor=_LIGHT)


def _plot_gains(fig, axes, evidence: _Evidence):
    gains, lift = axes
    curve = evidence.curve.iloc[::-1]
    gains.plot(
        100 * curve["share_passed"],
        100 * curve["share_wins_captured"],
        color=_INK,
        lw=2.2,
        label="leads ranked by score",
    )
    gains.plot([0, 100], [0, 100], color=_MID, ls="--", lw=1.3, label="random order")
    row = evidence.curve.iloc[evidence.threshold - evidence.min_score]
    x, y = 100 * row["share_passed"], 100 * row["share_wins_captured"]
    gains.plot(
        x,
        y,
        "o",
        ms=8,
        color=_INK,
        mfc="white",
        mew=2,
        label=f"MQL threshold {evidence.threshold}",
    )
    gains.annotate(
        f"{x:.0f}% of leads,\n{y:.0f}% of wins",
        (x, y),
        xytext=(10, -28),
        textcoords="offset points",
        fontsize=8,
    )
    gains.set_xlabel("leads passed to sales, % (highest scores first)")
    gains.set_ylabel("wins captured, %")
    gains.set_xlim(0, 100)
    gains.set_ylim(0, 102)
    gains.set_aspect("equal", adjustable="box")
    gains.grid(True, color=_PALE, lw=0.6)
    gains.legend(loc="lower right", frameon=True, framealpha=0.95, edgecolor=_LIGHT)
    gains.set_title("Gains: wins captured as more leads pass", loc="left", fontsize=9.5)

    deciles = evidence.deciles
    lift.bar(
        deciles["tenth"],
        deciles["lift"],
        width=0.75,
        color="white",
        edgecolor=_INK,
        hatch="///",
        lw=1.0,
    )
    lift.axhline(1.0, color=_MID, ls="--", lw=1.3, label="random order (lift 1)")
    lift.legend(loc="upper right", frameon=True, framealpha=1, edgecolor=_LIGHT)
    lift.set_xticks(
        range(1, 11), ["top\n10%", *[f"{10 * d}-\n{10 * d + 10}" for d in range(1, 10)]]
    )
    lift.tick_params(axis="x", labelsize=7.5)
    lift.set_xlabel("leads ranked by score, % (tenths)")
    lift.set_ylabel("lift: win rate vs an average lead")
    lift.grid(True, axis="y", color=_PALE, lw=0.6)
    lift.set_title("Lift of every tenth of the leads", loc="left", fontsize=9.5)
    top = deciles["lift"].iloc[0]
    fig.suptitle(
        f"The top 10% of leads by score win {top:.1f} times as often as the average lead",
        x=0.01,
        ha="left",
        fontweight="bold",
        fontsize=10.5,
    )


def _plot_calibration(fig, ax, evidence: _Evidence):
    table = evidence.bands
    mid = (table["score_min"] + table["score_max"]) / 2
    ax.bar(
        mid,
        100 * table["win_rate"].fillna(0),
        width=8,
        color=_PALE,
        edgecolor=_INK,
        hatch="..",
        lw=0.9,
        label="won, observed",
    )
    ax.plot(
        mid,
        100 * table["predicted"],
        ls="-",
        marker="D",
        ms=6,
        color=_INK,
        mfc="white",
        mew=1.6,
        lw=1.4,
        label=evidence.predicted_label,
    )
    top = float(np.nanmax(100 * np.r_[table["win_rate"].fillna(0), table["predicted"]]))
    ax.axvline(evidence.threshold, color=_INK, ls="--", lw=1.2, label="MQL threshold")
    ax.set_xticks(
        mid,
        [
            f"{a}-{b}\n({n:,})"
            for a, b, n in zip(table["score_min"], table["score_max"], table["leads"], strict=True)
        ],
    )
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel("lead score band (number of leads in it)")
    ax.set_ylabel("win rate, %")
    ax.set_xlim(evidence.min_score - 2, evidence.max_score + 2)
    ax.set_ylim(0, top * 1.15 + 1)
    ax.grid(True, axis="y", color=_PALE, lw=0.6)
    ax.legend(loc="upper left", frameon=True, framealpha=0.95, edgecolor=_LIGHT)
    enough = table[table["leads"] >= _FEW_LEADS]
    if len(enough) >= 2:
        low, high = enough.iloc[0], enough.iloc[-1]
        title = (
            f"Leads scoring {int(high.score_min)}-{int(high.score_max)} won "
            f"{100 * high.win_rate:.0f}% of the time; leads scoring "
            f"{int(low.score_min)}-{int(low.score_max)}, {100 * low.win_rate:.0f}%"
        )
    else:
        title = "Win rate by score band"
    ax.set_title(title, loc="left")


def _plot_distribution(fig, ax, evidence: _Evidence):
    edges = np.r_[np.arange(evidence.min_score, evidence.max_score, 5), evidence.max_score + 1]
    won, scores = evidence.won, evidence.scores

    def shares(mask):
        counts, _ = np.histogram(scores[mask], bins=edges)
        return 100 * counts / max(mask.sum(), 1)

    lost_h, won_h = shares(~won), shares(won)
    ax.stairs(lost_h, edges, fill=True, color=_PALE, lw=0)
    ax.stairs(lost_h, edges, color=_MID, ls="--", lw=1.8, label=f"lost leads ({(~won).sum():,})")
    ax.stairs(won_h, edges, fill=True, facecolor="none", edgecolor=_INK, hatch="///", lw=0)
    ax.stairs(won_h, edges, color=_INK, ls="-", lw=2.0, label=f"won leads ({won.sum():,})")
    ax.axvline(evidence.threshold, color=_INK, ls="-", lw=1.4)
    top = max(lost_h.max(), won_h.max())
    ax.text(
        evidence.threshold + 0.8,
        top * 1.08,
        f"MQL threshold {evidence.threshold}",
        fontsize=8,
        va="top",
        fontweight="bold",
    )
    passed = scores >= evidence.threshold
    won_share = 100 * passed[won].mean() if won.any() else 0.0
    lost_share = 100 * passed[~won].mean() if (~won).any() else 0.0
    ax.set_title(
        f"{won_share:.0f}% of won leads score {evidence.threshold} or more, "
        f"against {lost_share:.0f}% of lost leads",
        loc="left",
    )
    ax.set_xlabel("lead score (bands of 5 points)")
    ax.set_ylabel("share of the group's leads, %")
    ax.set_xlim(evidence.min_score, evidence.max_score + 1)
    ax.set_ylim(0, top * 1.12 + 0.5)
    ax.grid(True, axis="y", color=_PALE, lw=0.6)
    # Upper left: where the threshold's side lies, away from the high-scoring wins.
    ax.legend(loc="upper left", frameon=True, framealpha=1, edgecolor=_LIGHT)
