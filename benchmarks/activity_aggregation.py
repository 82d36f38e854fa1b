"""Benchmark: aggregate a large activity log into behaviour features.

Target (issue 3): 100 million activities for 1 million leads, from Parquet,
aggregated to features in at most 60 seconds on a 2-core machine, with peak
memory under 4 GB.

Usage::

    python -m benchmarks.activity_aggregation            # 100M activities, 1M leads
    python -m benchmarks.activity_aggregation --leads 100000 --per-lead 100

The log is generated to Parquet in a temporary folder (or ``--dir``) by one
process; each measured step then runs in its own process, so the peak
resident memory it reports (``ru_maxrss``) is that step's alone. Printed
figures: wall time, activities per second, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TYPES = [
    ("email_open", 0.40, "email"),
    ("email_click", 0.14, "email"),
    ("page_view", 0.26, "web"),
    ("pricing_page_view", 0.05, "web"),
    ("whitepaper_download", 0.04, "content"),
    ("case_study_view", 0.03, "content"),
    ("webinar_attended", 0.02, "content"),
    ("form_fill", 0.02, "hand-raiser"),
    ("demo_request", 0.01, "hand-raiser"),
    ("unsubscribe", 0.02, "opt-out"),
    ("email_bounce", 0.01, "opt-out"),
]
HALF_LIVES = {"email": 14.0, "web": 30.0, "content": 60.0, "hand-raiser": 45.0, "opt-out": 90.0}
START = np.datetime64("2024-01-01T00:00:00", "s")


def generate(folder: Path, n_leads: int, per_lead: int, seed: int = 0, chunk: int = 10_000_000):
    """Write leads.parquet and activities.parquet (chunked, constant memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    ids = pa.array([f"L{i:08d}" for i in range(n_leads)], type=pa.string())
    decided = START + rng.integers(30 * 86400, 700 * 86400, n_leads).astype("timedelta64[s]")
    pq.write_table(
        pa.table({"lead_id": ids, "decided_at": pa.array(decided)}), folder / "leads.parquet"
    )
    names = [t for t, _, _ in TYPES]
    probs = np.array([p for _, p, _ in TYPES])
    probs /= probs.sum()
    details = pa.array([f"/asset/{k}" for k in range(40)], type=pa.string())
    type_dict = pa.array(names, type=pa.string())
    total = n_leads * per_lead
    schema = pa.schema(
        [
            ("lead_id", pa.dictionary(pa.int32(), pa.string())),
            ("activity_type", pa.dictionary(pa.int8(), pa.string())),
            ("occurred_at", pa.timestamp("s")),
            ("detail", pa.dictionary(pa.int8(), pa.string())),
        ]
    )
    with pq.ParquetWriter(folder / "activities.parquet", schema) as writer:
        for start in range(0, total, chunk):
            m = min(chunk, total - start)
            lead = rng.integers(0, n_leads, m).astype(np.int32)
            kind = rng.choice(len(names), m, p=probs).astype(np.int8)
            # Mostly before the decision, some after (which must be left out).
            age = rng.exponential(40 * 86400, m).astype(np.int64) - 10 * 86400
            when = decided[lead] - age.astype("timedelta64[s]")
            detail = rng.integers(0, 40, m).astype(np.int8)
            batch = pa.record_batch(
                [
                    pa.DictionaryArray.from_arrays(pa.array(lead), ids),
                    pa.DictionaryArray.from_arrays(pa.array(kind), type_dict),
                    pa.array(when),
                    pa.DictionaryArray.from_arrays(pa.array(detail), details),
                ],
                schema=schema,
            )
            writer.write_batch(batch)
    return total


def aggregate(folder: Path) -> dict:
    """Read, check and aggregate the log; returns the figures."""
    import pandas as pd

    from calibrate.io.activities import connect, read_activities
    from calibrate.sheet.activity import ActivitySpec
    from calibrate.sheet.feature import ActivityFeature, Kernel
    from calibrate.sheet.sql import activity_sql

    families = {t: f for t, _, f in TYPES}
    features = [
        ActivityFeature(t, "count", (t,), kernel=Kernel("decay", HALF_LIVES[f]), family=f)
        for t, f in families.items()
    ]
    features += [
        ActivityFeature("days_since_last_activity", "recency"),
        ActivityFeature(
            "distinct_whitepaper_download", "distinct_details", ("whitepaper_download",)
        ),
        ActivityFeature(
            "active_days_30d", "active_days", ("page_view", "pricing_page_view"), window_days=30
        ),
        ActivityFeature(
            "whitepaper+case_study", "all_of", ("whitepaper_download", "case_study_view")
        ),
    ]
    spec = ActivitySpec(
        features=tuple(features), known_types=tuple(sorted(families)), detail="detail"
    )
    con = connect(memory_limit="3GB")
    t0 = time.perf_counter()
    read = read_activities(con, folder / "activities.parquet", spec)
    t1 = time.perf_counter()
    leads = con.read_parquet(str(folder / "leads.parquet"))
    leads.create_view("bench_leads")
    sql = activity_sql(
        spec, leads="bench_leads", activities="calibrate_activities", decision_time="decided_at"
    )
    frame = con.execute(sql).df()
    t2 = time.perf_counter()
    assert len(frame) == con.execute("SELECT COUNT(*) FROM bench_leads").fetchall()[0][0]
    del pd
    return {
        "activities": read["rows"],
        "leads": len(frame),
        "features": frame.shape[1] - 1,
        "check_seconds": round(t1 - t0, 2),
        "aggregate_seconds": round(t2 - t1, 2),
        "total_seconds": round(t2 - t0, 2),
        "activities_per_second_aggregate": round(read["rows"] / (t2 - t1)),
        "activities_per_second_total": round(read["rows"] / (t2 - t0)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--per-lead", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=None, help="keep the generated data here")
    parser.add_argument("--step", choices=["all", "generate", "aggregate"], default="all")
    args = parser.parse_args(argv)
    if args.step == "generate":
        args.dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        rows = generate(args.dir, args.leads, args.per_lead)
        print(json.dumps({"generated": rows, "seconds": round(time.perf_counter() - t0, 1)}))
        return
    if args.step == "aggregate":
        print(json.dumps(aggregate(args.dir)))
        return
    with tempfile.TemporaryDirectory(prefix="calibrate-bench-") as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        common = [sys.executable, "-m", "benchmarks.activity_aggregation", "--dir", str(folder)]
        sizes = ["--leads", str(args.leads), "--per-lead", str(args.per_lead)]
        if not (folder / "activities.parquet").exists():
            out = subprocess.run(
                [*common, *sizes, "--step", "generate"], check=True, capture_output=True, text=True
            )
            print("generate:", out.stdout.strip())
        out = subprocess.run(
            [*common, "--step", "aggregate"], check=True, capture_output=True, text=True
        )
        figures = json.loads(out.stdout)
        print("aggregate:", json.dumps(figures))
        print(
            f"{figures['activities']:,} activities for {figures['leads']:,} leads -> "
            f"{figures['features']} features in {figures['total_seconds']} s "
            f"(checks {figures['check_seconds']} s, "
            f"aggregation {figures['aggregate_seconds']} s); "
            f"{figures['activities_per_second_total']:,} activities/s; "
            f"peak RSS {figures['peak_rss_mb']:,} MB "
            f"(targets: <= 60 s, < 4,096 MB)"
        )


if __name__ == "__main__":
    main()
