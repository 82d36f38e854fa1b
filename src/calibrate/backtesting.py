"""Backtesting: how fast a sheet goes stale, and how often to refit it.

:func:`backtest` replays a history period by period (rolling origin): for
every period, sheets fitted on the leads before it score its leads, as
they would have in production. Four strategies are compared:

- ``frozen``: the first sheet, never refitted;
- ``refit_all``: refitted on all the history before the period;
- ``window``: refitted on the last ``window`` months of it (left out of a
  period whose window holds fewer than ``min_train`` leads);
- ``recency``: refitted on all of it, recent leads weighing more
  (``recency_half_life``).

Every sheet is fitted as :func:`calibrate.fit` fits one (its own hold-out
and threshold), with ``bootstrap=0``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .errors import DataError, ParameterError

__all__ = ["STALE_AUC", "STRATEGIES", "Backtest", "backtest"]

#: The strategies compared, in order.
STRATEGIES = ("frozen", "refit_all", "window", "recency")
#: A frozen sheet is stale once a refit ranks a period's leads this much better (AUC).
STALE_AUC = 0.02
#: ``every`` values and their pandas period codes.
EVERY = {"month": "M", "quarter": "Q"}


@dataclass(frozen=True)
class Backtest:
    """What :func:`backtest` measured.

    Attributes
    ----------
    periods : list of dict
        Per period scored: ``start``, ``end``, ``n``, ``wins`` and
        ``strategies``: ``{name: {auc, calibration_error, share_passed,
        share_wins_captured, points_moved, train_leads}}``.
    recommendation : dict
        ``stale_after`` (periods until a refit ranks leads ``STALE_AUC``
        better than the frozen sheet, or None), ``best_strategy``,
        ``cadence`` and ``text``.
    settings : dict
        ``every``, ``window_months``, ``recency_half_life`` and ``min_train``.
    """

    periods: list
    recommendation: dict
    settings: dict = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """One row per period and strategy."""
        rows = [
            {"start": p["start"], "strategy": name, **values}
            for p in self.periods
            for name, values in p["strategies"].items()
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """The ``backtest.json`` content, floats rounded to 6 digits."""
        from .production.record import plain_json

        return plain_json(
            {
                "calibrate_version": __version__,
                "settings": self.settings,
                "periods": self.periods,
                "recommendation": self.recommendation,
            }
        )

    def save(self, out_dir) -> dict[str, Path]:
        """Write ``backtest.json`` and ``backtest.html`` into ``out_dir`` (both or neither)."""
        from .errors import OutputError
        from .io.files import write_files
        from .report import backtest_page

        out = Path(os.fspath(out_dir))
        if out.exists() and not out.is_dir():
            raise OutputError(f"cannot write to {out}: it is a file, not a folder")
        data = self.to_dict()
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        paths = {"json": out / "backtest.json", "html": out / "backtest.html"}
        write_files({paths["json"]: text, paths["html"]: backtest_page(data)})
        return paths


def backtest(
    data,
    *,
    outcome: str,
    date: str,
    every: str = "quarter",
    window: int = 12,
    recency_half_life: float | str = "auto",
    min_train: int = 1000,
    progress=None,
    **fit_options,
) -> Backtest:
    """Replay a history: every period scored by sheets fitted on the leads before it.

    Parameters
    ----------
    data : str, os.PathLike, Source or pandas.DataFrame
        The history: one row per lead with its outcome and ``date``.
    outcome : str
        The outcome column.
    date : str
        The date column that orders the leads and cuts the periods.
    every : {"month", "quarter"}, default="quarter"
        The periods.
    window : int, default=12
        Months of history the ``window`` strategy refits on.
    recency_half_life : float or "auto", default="auto"
        The ``recency`` strategy's half-life in days (see :func:`calibrate.fit`).
    min_train : int, default=1000
        Leads of history needed before a period is scored (the first scored
        period's history fits the frozen sheet).
    progress : callable, optional
        Called with a line on every period as it starts.
    **fit_options
        Passed to :func:`calibrate.fit` (``id``, ``exclude``, ``types``,
        ``positive``, ``seed``, ``max_bins``...).

    Returns
    -------
    Backtest

    Raises
    ------
    ParameterError
        For an unknown ``every``, a ``window`` below 1, or fit options the
        backtest sets itself.
    DataError
        For a missing date or outcome column, or a history too short to
        score a period after ``min_train`` leads.

    Examples
    --------
    >>> import calibrate
    >>> from calibrate.datasets import make_leads
    >>> result = calibrate.backtest(make_leads(6000, seed=0), outcome="converted",
    ...                             date="created_at", id="lead_id", min_train=2500,
    ...                             recency_half_life=180)
    >>> [p["start"] for p in result.periods][:2]
    ['2025-01-01', '2025-04-01']
    >>> sorted(result.periods[0]["strategies"])
    ['frozen', 'recency', 'refit_all', 'window']
    """
    import calibrate

    from .io.ingest import require_column
    from .io.tables import read_table
    from .io.values import parse_dates, parse_outcome

    if every not in EVERY:
        raise ParameterError(f"every must be one of {', '.join(EVERY)}; got {every!r}")
    if not isinstance(window, int | np.integer) or window < 1:
        raise ParameterError(
            f"window must be a whole number of months, at least 1; got {window!r}"
        )
    taken = {"date", "outcome", "bootstrap", "recency_half_life"} & set(fit_options)
    if taken:
        raise ParameterError(f"backtest sets {sorted(taken)} itself; leave them out")
    frame = read_table(
        data, sep=fit_options.get("sep"), encoding=fit_options.get("encoding", "utf-8-sig")
    )
    for column, role in ((date, "date"), (outcome, "outcome")):
        require_column(column, list(frame.columns), role)
    dates = pd.DatetimeIndex(parse_dates(frame[date], date))
    won = parse_outcome(frame[outcome], outcome, fit_options.get("positive"))[0].to_numpy(bool)
    keys = dates.to_period(EVERY[every])
    fit_options = {k: v for k, v in fit_options.items() if k not in ("sep", "encoding")}

    def fit(rows, half_life=None):
        return calibrate.fit(
            frame.iloc[rows].reset_index(drop=True), outcome=outcome, date=date, bootstrap=0,
            recency_half_life=half_life, **fit_options,
        ).config  # fmt: skip

    periods, frozen, previous = [], None, {}
    step = progress or (lambda line: None)
    for key in sorted(keys.unique()):
        start = key.start_time
        before = np.flatnonzero(dates < start)
        inside = np.flatnonzero(np.asarray(keys == key))
        if len(before) < min_train or len(np.unique(won[before])) < 2 or not len(inside):
            continue
        step(f"{start.date()}: {len(inside):,} leads, {len(before):,} before")
        recent = before[dates[before] >= start - pd.DateOffset(months=window)]
        sheets = {
            "refit_all": (fit(before), len(before)),
            "window": (fit(recent), len(recent)) if len(recent) >= min_train else None,
            "recency": (fit(before, recency_half_life), len(before)),
        }
        frozen = frozen or sheets["refit_all"]
        part = frame.iloc[inside].reset_index(drop=True)
        measured = _measure({"frozen": frozen, **sheets}, part, won[inside], previous)
        periods.append(
            {
                "start": start.date().isoformat(),
                "end": key.end_time.date().isoformat(),
                "n": int(len(inside)),
                "wins": int(won[inside].sum()),
                "strategies": measured,
            }
        )
    if not periods:
        raise DataError(
            f"no period to score: a period needs {min_train:,} leads of history before it "
            "(min_train), with won and lost leads among them"
        )
    settings = {
        "every": every,
        "window_months": int(window),
        "recency_half_life": recency_half_life,
        "min_train": int(min_train),
    }
    return Backtest(periods=periods, recommendation=recommend(periods, every), settings=settings)


def _measure(sheets, leads, won, previous) -> dict:
    """Every strategy's measures on a period's leads; ``previous`` keeps each one's last sheet."""
    measured = {}
    for name in STRATEGIES:
        if sheets.get(name) is None:
            continue
        config, n_train = sheets[name]
        measured[name] = {
            **_score_period(config, leads, won),
            "points_moved": _points_moved(previous.get(name), config),
            "train_leads": n_train,
        }
        previous[name] = config
    return measured


def _score_period(config, leads, won) -> dict:
    """A sheet's AUC, calibration error and threshold catch on one period's leads."""
    from .learn.model import auc_interval
    from .production.reference import band_win_probability

    scored = config.score(leads)
    scores, mql = scored["score"].to_numpy(), scored["mql"].to_numpy()
    auc = auc_interval(won, scores)[0] if 0 < won.sum() < len(won) else None
    predicted = band_win_probability(config.calibration.get("bands", []), scores)
    return {
        "auc": auc,
        "calibration_error": _calibration_error(scores, won, predicted),
        "share_passed": float(mql.mean()) if len(mql) else None,
        "share_wins_captured": float((mql & won).sum() / won.sum()) if won.any() else None,
    }


def _calibration_error(scores, won, predicted, width: int = 10) -> float | None:
    """Lead-weighted mean over score bands of |observed win rate - the sheet's win probability|."""
    known = np.isfinite(predicted)
    if not known.any():
        return None
    band = scores[known] // width
    total = 0.0
    for b in np.unique(band):
        rows = band == b
        total += rows.sum() * abs(won[known][rows].mean() - predicted[known][rows].mean())
    return float(total / known.sum())


def _points_moved(before, after) -> int | None:
    """Points that changed between a strategy's last sheet and this one (bands by label)."""
    if before is None:
        return None
    old = {(c.name, b.label): b.points for c in before.criteria for b in c.bands}
    new = {(c.name, b.label): b.points for c in after.criteria for b in c.bands}
    moved = sum(abs(new.get(k, 0) - old.get(k, 0)) for k in old.keys() | new.keys())
    return int(moved + abs(after.base_points - before.base_points))


def recommend(periods, every: str) -> dict:
    """How fast the frozen sheet goes stale, the best strategy, and a refit cadence."""
    refits = [s for s in STRATEGIES if s != "frozen"]
    stale_after = None
    for k, period in enumerate(periods):
        values = period["strategies"]
        frozen = values["frozen"]["auc"]
        best = max((values[s]["auc"] for s in refits if s in values and values[s]["auc"]),
                   default=None)  # fmt: skip
        if frozen is not None and best is not None and best - frozen >= STALE_AUC:
            stale_after = k
            break
    means = {
        s: float(np.mean([p["strategies"][s]["auc"] for p in periods
                          if s in p["strategies"] and p["strategies"][s]["auc"] is not None]))
        for s in STRATEGIES
        if any(s in p["strategies"] and p["strategies"][s]["auc"] is not None for p in periods)
    }  # fmt: skip
    best_strategy = max(means, key=lambda s: (round(means[s], 4), s == "refit_all"))
    if stale_after is None:
        cadence = f"no refit needed within these {len(periods)} {every}s"
        text = (
            f"The first sheet held up: no refit ranked a {every}'s leads {STALE_AUC} AUC better "
            f"over {len(periods)} {every}s. Refit when calibrate monitor says so."
        )
    else:
        cadence = f"every {every}" if stale_after <= 1 else f"every {stale_after} {every}s"
        text = (
            f"The first sheet was stale after {stale_after} {every}(s): a refit then ranked "
            f"leads at least {STALE_AUC} AUC better. Refit {cadence}; the best strategy over the "
            f"history was {best_strategy} (mean AUC {means[best_strategy]:.3f})."
        )
    return {
        "stale_after": stale_after,
        "best_strategy": best_strategy,
        "mean_auc": means,
        "cadence": cadence,
        "text": text,
    }
