"""Benchmark: a fit whose activity log lives in PostgreSQL or Spark, pushed down or pulled whole.

20,000 generated leads (``calibrate.datasets.make_leads``, 505,232 activities)
and their log made longer with email opens (``--sizes``, by default 5 and 50
million activities). Each log is fitted twice in each engine, every fit in a
process of its own so that its peak resident memory (``ru_maxrss``) is its
own:

- **push-down**: ``calibrate.fit(leads, activities=<the log where it is>)``:
  the log's queries run inside PostgreSQL (a table) or Spark (a DataFrame
  read from Parquet), and only per-lead rows come back;
- **pull**: the log read whole into this process as Arrow first (ADBC from
  PostgreSQL, ``DataFrame.toArrow`` from Spark) and aggregated by DuckDB,
  which is what a PostgreSQL log cost before.

Printed per fit: wall time, calibrate's own peak RSS (Spark's JVM is a
process of its own, not counted), and the time of every query in the engine
(the rest is local: reading the leads, bands, model, points, threshold).

Run from the project root::

    python -m benchmarks.pushdown                         # 5M and 50M, both engines
    python -m benchmarks.pushdown --sizes 1000000 --engines postgres

PostgreSQL is a throwaway server started as in the tests (``tests/services.py``)
unless ``--pg-url`` names one; Spark runs in local mode on 2 cores.
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

ROOT = Path(__file__).resolve().parents[1]
N_LEADS = 20_000
#: The same sheet settings in every fit; the bootstrap does not read the log.
FIT = {"outcome": "converted", "id": "lead_id", "decided_at": "decided_at", "bootstrap": 0}
#: Seconds before the decision of the extra email opens: spread over 720 days.
SPREAD = 720 * 86400


def _extra_sql(k: int, leads: str) -> str:
    """SQL of ``k`` extra email opens per lead, at ages fixed by arithmetic (no randomness)."""
    return (
        f"SELECT l.lead_id, 'email_open' AS activity_type, "
        f"l.decided_at - (1 + (g.i * 7919 + l.k * 104729) % {SPREAD}) * INTERVAL '1 second' "
        f"AS occurred_at, CAST(NULL AS VARCHAR) AS detail FROM {leads} l, "
        f"generate_series(1, {k}) AS g(i)"
    )


def _sizes_k(sizes, base: int) -> dict[int, int]:
    """``{log size: extra opens per lead}``."""
    return {n: max(0, round((n - base) / N_LEADS)) for n in sizes}


def prepare(folder: Path, sizes, pg_dsn: str | None) -> dict:
    """The leads (Parquet) and every log: Parquet files, and PostgreSQL tables when asked."""
    import duckdb

    from calibrate.datasets import make_leads

    leads, log = make_leads(N_LEADS, seed=0, activities=True)
    leads.to_parquet(folder / "leads.parquet", index=False)
    log.to_parquet(folder / "base_log.parquet", index=False)
    ks = _sizes_k(sizes, len(log))
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE leads_k AS SELECT lead_id, decided_at, row_number() OVER () AS k "
        f"FROM '{folder / 'leads.parquet'}'"
    )
    made = {}
    for n, k in ks.items():
        path = folder / f"log_{n}.parquet"
        con.execute(
            f"COPY (SELECT * FROM '{folder / 'base_log.parquet'}' UNION ALL "
            f"{_extra_sql(k, 'leads_k')}) TO '{path}' (FORMAT parquet)"
        )
        made[n] = {
            "parquet": str(path),
            "rows": con.execute(f"SELECT COUNT(*) FROM '{path}'").fetchall()[0][0],
        }
    con.close()
    if pg_dsn is not None:
        import psycopg

        sys.path.insert(0, str(ROOT / "tests"))
        from services import load_frame

        with psycopg.connect(pg_dsn, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("DROP SCHEMA IF EXISTS bench CASCADE")
            cur.execute("CREATE SCHEMA bench")
            load_frame(cur, log, "bench", "base_log")
            load_frame(
                cur, leads[["lead_id", "decided_at"]].assign(k=range(1, N_LEADS + 1)), "bench",
                "leads_k",
            )  # fmt: skip
            for n, k in ks.items():
                start = time.perf_counter()
                cur.execute(
                    f"CREATE TABLE bench.log_{n} AS SELECT * FROM bench.base_log UNION ALL "
                    + _extra_sql(k, "bench.leads_k").replace("AS VARCHAR", "AS TEXT")
                )
                cur.execute(f"ANALYZE bench.log_{n}")
                made[n]["postgres"] = f"bench.log_{n}"
                print(f"  PostgreSQL log of {n:,}: loaded in {time.perf_counter() - start:.0f} s")
    return made


def run_one(mode: str, engine: str, where: str, folder: str, pg_url: str | None) -> dict:
    """One fit, in this process: the figures as a dict."""
    import warnings

    warnings.simplefilter("ignore")
    import calibrate
    from calibrate.io.sources import Source, read_arrow

    lines: list[str] = []
    leads = str(Path(folder) / "leads.parquet")
    start = time.perf_counter()
    session = None
    if engine == "postgres":
        source = Source(pg_url, table=where)
        log = source if mode == "push" else read_arrow(source)
    else:
        from ._spark import local_session

        session = local_session()
        frame = session.read.parquet(where)
        log = frame if mode == "push" else frame.toArrow()
    pulled = time.perf_counter() - start
    result = calibrate.fit(leads, activities=log, progress=lines.append, **FIT)
    wall = time.perf_counter() - start
    engine_lines = [line for line in lines if " rows back in " in line]
    in_engine = sum(float(line.rsplit(" in ", 1)[1].rstrip(" s")) for line in engine_lines)
    if session is not None:
        session.stop()
    return {
        "wall_s": wall,
        "pull_s": pulled if mode == "pull" else 0.0,
        "engine_s": in_engine,
        "rss_mb": _peak_rss_mb(),
        "auc": result.metrics["holdout_auc_points"],
        "half_lives": result.behaviour.featurizer.decay_["kernel"].tolist(),
        "lines": engine_lines,
    }


def _peak_rss_mb() -> float:
    """This process's peak resident memory since it started (``VmHWM``), in MB.

    Not ``ru_maxrss``: Linux carries it over ``exec`` from the process that
    started this one (here the benchmark's, which generated the logs).
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000000,50000000")
    parser.add_argument("--engines", default="postgres,spark")
    parser.add_argument("--modes", default="push,pull")
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--dir", default=None)
    parser.add_argument("--run", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        mode, engine, where, folder, pg_url = args.run
        print(json.dumps(run_one(mode, engine, where, folder, None if pg_url == "-" else pg_url)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    import contextlib

    with contextlib.ExitStack() as stack:
        folder = Path(args.dir or stack.enter_context(tempfile.TemporaryDirectory()))
        pg_url, pg_dsn = args.pg_url, None
        if "postgres" in engines and pg_url is None:
            sys.path.insert(0, str(ROOT / "tests"))
            from services import postgres_server

            info = stack.enter_context(postgres_server())
            pg_url, pg_dsn = info.url, info.dsn
        elif pg_url is not None:
            pg_dsn = pg_url
        print(f"preparing {len(sizes)} logs for {N_LEADS:,} leads in {folder}")
        made = prepare(folder, sizes, pg_dsn if "postgres" in engines else None)
        rows = []
        for engine in engines:
            for n in sizes:
                where = made[n]["postgres"] if engine == "postgres" else made[n]["parquet"]
                for mode in args.modes.split(","):
                    start = time.perf_counter()
                    done = subprocess.run(
                        [sys.executable, "-m", "benchmarks.pushdown", "--run", mode, engine,
                         where, str(folder), pg_url or "-"],
                        cwd=ROOT, capture_output=True, text=True,
                    )  # fmt: skip
                    if done.returncode != 0:
                        tail = done.stderr.strip().splitlines()[-1:] or ["?"]
                        print(f"{engine} {mode} {n:,}: failed after "
                              f"{time.perf_counter() - start:.0f} s: {tail[0]}")  # fmt: skip
                        continue
                    got = json.loads(done.stdout.strip().splitlines()[-1])
                    rows.append((engine, n, mode, got))
                    print(
                        f"{engine:8} {made[n]['rows']:>11,} activities  {mode:4}  "
                        f"wall {got['wall_s']:6.1f} s  (pull {got['pull_s']:5.1f} s, "
                        f"in the engine {got['engine_s']:5.1f} s)  "
                        f"peak RSS {got['rss_mb']:6.0f} MB  AUC {got['auc']:.4f}  "
                        + ", ".join(got["half_lives"])
                    )
                    for line in got["lines"]:
                        print(f"      {line}")
        for engine in engines:
            push = {n: g["rss_mb"] for e, n, m, g in rows if e == engine and m == "push"}
            if len(push) >= 2:
                lo, hi = min(push), max(push)
                print(
                    f"{engine}: push-down peak RSS {push[hi]:.0f} MB at {hi:,} against "
                    f"{push[lo]:.0f} MB at {lo:,}: {push[hi] / push[lo]:.2f} times"
                )


if __name__ == "__main__":
    main()
