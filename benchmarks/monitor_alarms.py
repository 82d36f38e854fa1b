"""Monitoring's false alarms on stable periods, and its catch of a planted change.

A sheet is fitted on 2024's generated leads. Then:

- **stable periods:** fresh leads from the same generator and dates (another
  seed each), one period at a time, with their outcomes; every ``act``
  alert on them is a false alarm, and the share of periods with one is the
  false-alarm rate (``watch`` alerts are counted too);
- **a planted change:** a history whose pattern changes on 2025-07-01 (a new
  lead source, and pricing-page visits that stop predicting wins), monitored
  month by month through 2025: the alerts of the months before the change
  and of the first month after it.

Run from the project root::

    python -m benchmarks.monitor_alarms [--periods 30] [--leads 1000]
"""

from __future__ import annotations

import argparse
from collections import Counter

import calibrate
from calibrate.datasets import make_leads


def fit_sheet(seed: int = 0):
    """The sheet: fitted on generated leads created in 2024."""
    history = make_leads(24_000, seed=seed)
    history = history[history["created_at"] < "2025-01-01"]
    return calibrate.fit(
        history, outcome="converted", id="lead_id", date="created_at", bootstrap=0
    ).config


def stable_periods(sheet, periods: int, leads: int):
    """Alerts of ``periods`` stable periods of about ``leads`` leads each."""
    rows = []
    for k in range(periods):
        fresh = make_leads(2 * leads, seed=1000 + k)
        fresh = fresh[fresh["created_at"] < "2025-01-01"]
        found = calibrate.monitor(sheet, fresh, outcome="converted")
        levels = Counter(a["level"] for a in found.alerts)
        kinds = Counter(a["kind"] for a in found.alerts if a["level"] == "act")
        rows.append({"n": len(fresh), "act": levels["act"], "watch": levels["watch"],
                     "kinds": dict(kinds)})  # fmt: skip
    return rows


def planted_change(sheet):
    """Month-by-month alerts of 2025 leads, the pattern changing on 2025-07-01."""
    history = make_leads(48_000, seed=0, change_at="2025-07-01")
    later = history[history["created_at"] >= "2025-01-01"]
    found = calibrate.monitor(sheet, later, outcome="converted", date="created_at", every="month")
    return found.periods


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", type=int, default=30, help="stable periods (30)")
    parser.add_argument("--leads", type=int, default=1000, help="leads per period (about 1,000)")
    args = parser.parse_args(argv)
    sheet = fit_sheet()
    rows = stable_periods(sheet, args.periods, args.leads)
    with_act = sum(r["act"] > 0 for r in rows)
    with_watch = sum(r["watch"] > 0 for r in rows)
    print(f"stable periods: {len(rows)} of about {args.leads:,} leads each, with outcomes")
    print(f"  periods with an act alert (false alarms): {with_act} ({with_act / len(rows):.0%})")
    print(f"  periods with a watch alert: {with_watch} ({with_watch / len(rows):.0%}); "
          f"watch alerts in all: {sum(r['watch'] for r in rows)}")  # fmt: skip
    if with_act:
        print(f"  act alerts by kind: {sum((Counter(r['kinds']) for r in rows), Counter())}")
    print()
    print("planted change on 2025-07-01 (monthly periods of 2025):")
    print("| month | leads | act | watch | act alerts |")
    print("|---|---|---|---|---|")
    for period in planted_change(sheet):
        acts = [a for a in period["alerts"] if a["level"] == "act"]
        watches = [a for a in period["alerts"] if a["level"] == "watch"]
        named = ", ".join(sorted({f"{a['kind']} ({a['criterion'] or 'sheet'})" for a in acts}))
        print(f"| {period['start'][:7]} | {period['n']:,} | {len(acts)} | {len(watches)} | "
              f"{named or '-'} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
