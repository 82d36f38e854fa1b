"""The backtest page: how each refit strategy did, period by period."""

from __future__ import annotations

import numpy as np

from ._figures import _INK, _LIGHT, _MID, _PALE, _png
from ._render import render_page

__all__ = ["backtest_page"]

#: How each strategy is drawn and named, in order.
_STYLE = {
    "frozen": ("the first sheet, frozen", _INK, (0, (1, 2)), "o"),
    "refit_all": ("refit on all history", _INK, "-", "s"),
    "window": ("refit on a recent window", _MID, "--", "^"),
    "recency": ("refit, recent leads weigh more", _MID, "-", "D"),
}


def backtest_page(result: dict) -> str:
    """``backtest.html`` from the ``backtest.json`` content."""
    figures = {
        "auc": _png(_plot, (result, "auc", "AUC on the period's leads"), (7.0, 3.6)),
        "calibration": _png(
            _plot, (result, "calibration_error", "calibration error (win rate)"), (7.0, 3.2)
        ),
    }
    names = {k: v[0] for k, v in _STYLE.items()}
    return render_page("backtest.html", figures, r=result, names=names)


def _plot(fig, ax, what):
    result, key, label = what
    periods = result["periods"]
    x = np.arange(len(periods))
    for name, (text, color, style, marker) in _STYLE.items():
        values = [p["strategies"].get(name, {}).get(key) for p in periods]
        ax.plot(x, [np.nan if v is None else v for v in values], ls=style, marker=marker,
                color=color, mfc="white", ms=5, lw=1.4, label=text)  # fmt: skip
    step = max(1, len(periods) // 8)
    ax.set_xticks(x[::step], [p["start"] for p in periods][::step], fontsize=8)
    ax.set_ylabel(label)
    ax.grid(True, axis="y", color=_PALE, lw=0.6)
    ax.legend(loc="best", frameon=True, framealpha=0.95, edgecolor=_LIGHT, fontsize=7.5)
