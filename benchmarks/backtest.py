"""Backtests: bank-additional's calls period by period, and a generated history that changes.

- **bank-additional** (../shared/data): its rows are in date order, May 2008
  to November 2010, with the month but not the year; the year is derived
  from the row order (it turns when the month number falls). Quarter by
  quarter, the four strategies of :func:`calibrate.backtest` score the next
  quarter's calls (``duration`` excluded: it is known only after the call).
  Then the time-ordered split (hold-out: the latest 30% of calls): the plain
  fit against recency-weighted ones and a recent window.
- **generated**: ``make_leads(change_at="2025-07-01")``, fitted with and
  without recency weighting; the AUC on the latest 20% of leads.

Run from the project root::

    python -m benchmarks.backtest [--data ../shared/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import calibrate
from calibrate.datasets import make_leads

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
BANK = {"outcome": "y", "exclude": ["duration:known only after the call"]}


def bank_with_dates(folder: Path) -> pd.DataFrame:
    """bank-additional-full with ``call_month``: the month of the row order's year."""
    frame = pd.read_csv(folder / "bank-additional-full.csv", sep=";")
    month = frame["month"].map({m: i for i, m in enumerate(MONTHS, start=1)}).to_numpy()
    year = 2008 + np.concatenate([[0], np.cumsum(np.diff(month) < 0)])
    frame["call_month"] = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
    return frame


def _auc(frame, **options) -> float:
    result = calibrate.fit(frame, bootstrap=0, **options)
    return result.metrics["holdout_auc_points"], result


def time_ordered(frame) -> list[tuple[str, float]]:
    """Hold-out AUC of the time-ordered split, plain and recency-weighted."""
    rows = []
    auc, plain = _auc(frame, date="call_month", **BANK)
    rows.append(("plain fit (all training calls alike)", auc))
    auc, auto = _auc(frame, date="call_month", recency_half_life="auto", **BANK)
    chosen = auto.config.model["recency"]["half_life_days"]
    rows.append((f"recency weighting, auto (half-life {chosen} days)", auc))
    for days in (90, 180, 365):
        auc, _ = _auc(frame, date="call_month", recency_half_life=days, **BANK)
        rows.append((f"recency weighting, half-life {days} days", auc))
    return rows


def generated() -> list[tuple[str, float]]:
    history = make_leads(20_000, seed=0, change_at="2025-07-01")
    options = {"outcome": "converted", "id": "lead_id", "date": "created_at", "holdout": 0.2}
    rows = [("plain fit", _auc(history, **options)[0])]
    auc, auto = _auc(history, recency_half_life="auto", **options)
    chosen = auto.config.model["recency"]["half_life_days"]
    rows.append((f"recency weighting, auto (half-life {chosen} days)", auc))
    for days in (90, 180):
        rows.append((f"recency weighting, half-life {days} days",
                     _auc(history, recency_half_life=days, **options)[0]))  # fmt: skip
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("..") / "shared" / "data")
    args = parser.parse_args(argv)
    frame = bank_with_dates(args.data)
    result = calibrate.backtest(frame, date="call_month", every="quarter", window=12,
                                min_train=5000, **BANK)  # fmt: skip
    table = result.table.pivot(index="start", columns="strategy", values="auc")
    sizes = {p["start"]: (p["n"], p["wins"]) for p in result.periods}
    print("bank-additional, quarter by quarter (AUC on the next quarter's calls):")
    print("| quarter | calls | won | frozen | refit on all | window 12 months | recency |")
    print("|---|---|---|---|---|---|---|")
    for start, row in table.iterrows():
        n, wins = sizes[start]
        cells = " | ".join(
            "-" if pd.isna(row.get(s)) else f"{row[s]:.3f}"
            for s in ("frozen", "refit_all", "window", "recency")
        )
        print(f"| {start[:7]} | {n:,} | {wins:,} | {cells} |")
    print(f"recommendation: {result.recommendation['text']}")
    print()
    print("bank-additional, time-ordered split (hold-out: the latest 30% of calls):")
    for name, auc in time_ordered(frame):
        print(f"  {name}: AUC {auc:.3f}")
    print()
    print("generated history changing on 2025-07-01 (hold-out: the latest 20% of leads):")
    for name, auc in generated():
        print(f"  {name}: AUC {auc:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
