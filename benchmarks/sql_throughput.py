"""Benchmark: the exported scoring query in DuckDB.

Two measurements, each checked against the Python scorer:

- **Lead table only**: the 20-criterion sheet of
  :mod:`benchmarks.scorer_throughput` over 10 million leads (issue 5: report
  DuckDB SQL throughput on 10 million leads). The leads are generated in
  chunks into an on-disk DuckDB database; the timed step is ``CREATE TABLE
  scored AS <query>``.
- **With behaviour**: a sheet of decayed counts, recency and active days per
  activity type over 1 million leads and 25 million activities (the log of
  :mod:`benchmarks.activity_aggregation`), read from Parquet.

Usage::

    python -m benchmarks.sql_throughput                     # 10M leads; 1M leads, 25M activities
    python -m benchmarks.sql_throughput --leads 1000000 --behaviour-leads 100000

Printed figures: seconds and leads per second for each, the number of leads
checked against the Python scorer (all must agree), and the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import activity_aggregation, scorer_throughput
from calibrate import ScoringConfig, score_leads
from calibrate.production.sql_export import scoring_sql
from calibrate.sheet.activity import ActivitySpec
from calibrate.sheet.criteria import Band, Criterion
from calibrate.sheet.feature import ActivityFeature, Kernel

CHUNK = 1_000_000


def _connect(path: Path):
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    return con


def _compare(expected: pd.DataFrame, got: pd.DataFrame, id_column: str) -> int:
    """Number of leads compared; raises when any differs."""
    got = got.set_index(got[id_column].astype(str)).drop(columns=id_column)
    expected = expected.set_index(expected[id_column].astype(str)).drop(columns=id_column)
    got = got.loc[expected.index, expected.columns]
    for column in expected.columns:
        a, b = expected[column].astype(str).to_numpy(), got[column].astype(str).to_numpy()
        if (a != b).any():
            raise AssertionError(f"column {column!r} differs for {(a != b).sum()} leads")
    return len(expected)


def lead_table(n_leads: int, folder: Path, seed: int = 0) -> dict:
    """Score ``n_leads`` leads of the 20-criterion sheet in DuckDB."""
    config = scorer_throughput.build_config(seed)
    con = _connect(folder / "leads.duckdb")
    first = None
    for start in range(0, n_leads, CHUNK):
        frame = scorer_throughput.make_frame(config, min(CHUNK, n_leads - start), seed + start)
        frame["lead_id"] = [f"L{start + i:09d}" for i in range(len(frame))]
        con.register("chunk", frame)
        if start == 0:
            con.execute("CREATE TABLE leads AS SELECT * FROM chunk")
            first = frame.head(200_000)
        else:
            con.execute("INSERT INTO leads SELECT * FROM chunk")
        con.unregister("chunk")
    sql = scoring_sql(config, leads_table="leads")
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE scored AS {sql.split(chr(10), 1)[1]}")
    seconds = time.perf_counter() - t0
    rows = con.execute("SELECT COUNT(*) FROM scored").fetchall()[0][0]
    got = con.execute(f"SELECT * FROM scored WHERE lead_id < 'L{len(first):09d}'").df()
    checked = _compare(score_leads(config, first, breakdown=True), got, "lead_id")
    con.close()
    return {
        "leads": int(rows),
        "criteria": len(config.criteria),
        "seconds": round(seconds, 2),
        "leads_per_second": round(rows / seconds),
        "checked_against_python": checked,
    }


def behaviour_config() -> ScoringConfig:
    """Decayed counts per activity type, recency and active days, with points."""
    families = {t: f for t, _, f in activity_aggregation.TYPES}
    features = [
        ActivityFeature(
            t, "count", (t,), Kernel("decay", activity_aggregation.HALF_LIVES[f]), family=f
        )
        for t, f in families.items()
    ]
    features.append(ActivityFeature("days_since_last_activity", "recency"))
    features.append(
        ActivityFeature("active_days_30d", "active_days", ("page_view",), window_days=30)
    )
    spec = ActivitySpec(
        features=tuple(features), known_types=tuple(sorted(families)), lookback_days=365,
        detail="detail", families=families,
    )  # fmt: skip
    activities = spec.to_dict()
    activities["decision_time"] = {"column": "decided_at", "offset_days": 0.0}
    rng = np.random.default_rng(3)
    criteria = []
    for feature in features:
        edges = [0.5, 2.0, 6.0] if feature.kind != "recency" else [7.0, 30.0, 90.0]
        cuts = [None, *edges, None]
        bands = [
            Band(f"b{i}", "range", lower=lo, upper=hi, points=int(rng.integers(-5, 15)))
            for i, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:], strict=True))
        ]
        bands.append(Band("Missing", "missing", points=0))
        criteria.append(Criterion(feature.name, feature.name, "numeric", "implicit", tuple(bands)))
    threshold = {
        "mql": 40,
        "policy": {"name": "manual"},
        "levels": [{"name": "hot", "min_score": 60}, {"name": "cold", "min_score": 0}],
        "fast_track": [{"kind": "activity", "activity_type": "demo_request", "within_days": 30}],
    }
    return ScoringConfig(criteria=tuple(criteria), base_points=20, threshold=threshold,
                         id_column="lead_id", activities=activities)  # fmt: skip


def behaviour(n_leads: int, per_lead: int, folder: Path, seed: int = 0) -> dict:
    """Score ``n_leads`` leads with their activity log in DuckDB."""
    activity_aggregation.generate(folder, n_leads, per_lead, seed=seed)
    config = behaviour_config()
    con = _connect(folder / "behaviour.duckdb")
    con.execute(f"CREATE VIEW leads AS SELECT * FROM read_parquet('{folder / 'leads.parquet'}')")
    con.execute(
        f"CREATE VIEW activities AS SELECT * FROM read_parquet('{folder / 'activities.parquet'}')"
    )
    n_activities = con.execute("SELECT COUNT(*) FROM activities").fetchall()[0][0]
    sql = scoring_sql(config, leads_table="leads", activities_table="activities")
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE scored AS {sql.split(chr(10), 1)[1]}")
    seconds = time.perf_counter() - t0
    # Check a sample of leads against the Python scorer.
    sample = con.execute("SELECT * FROM leads ORDER BY lead_id LIMIT 5000").df()
    log = con.execute(
        "SELECT * FROM activities WHERE lead_id IN (SELECT lead_id FROM leads "
        "ORDER BY lead_id LIMIT 5000)"
    ).df()
    expected = score_leads(config, sample, activities=log, breakdown=True)
    got = con.execute(
        "SELECT * FROM scored WHERE lead_id IN (SELECT lead_id FROM leads "
        "ORDER BY lead_id LIMIT 5000)"
    ).df()
    checked = _compare(expected, got, "lead_id")
    con.close()
    return {
        "leads": n_leads,
        "activities": int(n_activities),
        "seconds": round(seconds, 2),
        "leads_per_second": round(n_leads / seconds),
        "activities_per_second": round(n_activities / seconds),
        "checked_against_python": checked,
    }


def run(n_leads: int, n_behaviour: int, per_lead: int, folder: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="calibrate-sql-bench-") as tmp:
        root = Path(folder or tmp)
        (root / "table").mkdir(parents=True, exist_ok=True)
        (root / "behaviour").mkdir(parents=True, exist_ok=True)
        return {
            "cores": os.cpu_count(),
            "lead_table": lead_table(n_leads, root / "table"),
            "behaviour": behaviour(n_behaviour, per_lead, root / "behaviour"),
        }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000_000)
    parser.add_argument("--behaviour-leads", type=int, default=1_000_000)
    parser.add_argument("--per-lead", type=int, default=25)
    parser.add_argument("--dir", type=Path, default=None, help="keep the databases here")
    args = parser.parse_args(argv)
    figures = run(args.leads, args.behaviour_leads, args.per_lead, args.dir)
    print(json.dumps(figures))
    table, acts = figures["lead_table"], figures["behaviour"]
    print(
        f"DuckDB ({figures['cores']} cores): {table['leads']:,} leads x {table['criteria']} "
        f"criteria in {table['seconds']} s = {table['leads_per_second']:,} leads/s; "
        f"with behaviour: {acts['leads']:,} leads and {acts['activities']:,} activities in "
        f"{acts['seconds']} s = {acts['leads_per_second']:,} leads/s. Checked against the "
        f"Python scorer: {table['checked_against_python']:,} + "
        f"{acts['checked_against_python']:,} leads, all equal."
    )


if __name__ == "__main__":
    main()
