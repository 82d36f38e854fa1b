"""Benchmark: a fit on 20 million leads read from Spark (or from Parquet files).

The lead table is generated in parts (``make_leads(1_000_000, seed=i)``, ids
made unique per part) as a folder of Parquet files. One fit then reads it
through a local Spark session (``spark:`` the folder; the rows are collected
through Arrow) and, for reference, one reads the same files directly. Each
fit runs in a process of its own; printed: wall time, the time of each step
of the fit, and the process's peak RSS (``VmHWM``; Spark's JVM not counted).

The penalty search cross-validates a stratified sample of the leads
(``LeadScoreModel.max_cv_leads``); the final weights are fitted on every
training lead.

Run from the project root::

    python -m benchmarks.large_leads                      # 20 million leads
    python -m benchmarks.large_leads --leads 2000000 --sources files
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PART = 1_000_000


def generate(folder: Path, n_leads: int) -> None:
    """``n_leads`` generated leads as Parquet parts of a million leads each."""
    from calibrate.datasets import make_leads

    for i, start in enumerate(range(0, n_leads, PART)):
        part = make_leads(min(PART, n_leads - start), seed=i)
        part["lead_id"] = f"P{i:03d}-" + part["lead_id"]
        part.to_parquet(folder / f"part-{i:03d}.parquet", index=False)


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_one(source: str, folder: str) -> dict:
    """One fit of the folder's leads, read from ``source`` (spark or files)."""
    import warnings

    warnings.simplefilter("ignore")
    import calibrate

    steps: list[tuple[str, float]] = []
    start = time.perf_counter()
    data = folder
    session = None
    if source == "spark":
        from ._spark import local_session

        # Collecting 20 million rows: more than the default 1 GB of results.
        session = local_session(**{"spark.driver.maxResultSize": "0"})
        data = f"spark:{folder}"
    result = calibrate.fit(
        data,
        outcome="converted",
        id="lead_id",
        bootstrap=0,
        progress=lambda name: steps.append((name, time.perf_counter())),
    )
    wall = time.perf_counter() - start
    if session is not None:
        session.stop()
    marks = [("start", start), *steps, ("end", start + wall)]
    timing = {name: round(marks[i + 1][1] - at, 2) for i, (name, at) in enumerate(marks[:-1])}
    model = result.scorecard.model_
    return {
        "wall_s": wall,
        "rss_mb": _peak_rss_mb(),
        "steps_s": timing,
        "n_train": int(len(result.train_rows)),
        "cv_leads": int(min(model.max_cv_leads, len(result.train_rows))),
        "auc": result.metrics["holdout_auc_points"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000_000)
    parser.add_argument("--sources", default="spark,files")
    parser.add_argument("--dir", default=None)
    parser.add_argument("--run", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        print(json.dumps(run_one(*args.run)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        generate(folder, args.leads)
        print(f"{args.leads:,} leads generated in {time.perf_counter() - start:.0f} s")
        for source in args.sources.split(","):
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.large_leads", "--run", source, str(folder)],
                cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode != 0:
                tail = (done.stderr.strip().splitlines() or ["?"])[-1]
                print(f"{source}: failed: {tail}")
                continue
            got = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{source:6} {args.leads:,} leads: wall {got['wall_s']:.1f} s, peak RSS "
                f"{got['rss_mb']:,.0f} MB, {got['n_train']:,} training leads, penalty "
                f"search on {got['cv_leads']:,}, hold-out AUC {got['auc']:.4f}"
            )
            print("       steps (s): " + ", ".join(f"{k} {v}" for k, v in got["steps_s"].items()))


if __name__ == "__main__":
    main()
