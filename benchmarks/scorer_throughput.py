"""Benchmark: Python-scorer throughput on a 20-criterion points sheet.

Target (issue): the standalone scorer scores at least 1 million leads per
second for a 20-criterion sheet on this machine (2 cores).

Usage::

    python -m benchmarks.scorer_throughput                # 1,000,000 leads
    python -m benchmarks.scorer_throughput --leads 100000 --repeats 5

The sheet is built programmatically: 8 numeric criteria with 4-6 range bands,
10 categorical criteria with 3-12 levels plus "other" and "missing", and 2
boolean criteria. The leads are synthetic (seeded), typed as read from
Parquet: numbers float64 (with gaps) or int64, categories text with some
missing values, booleans bool; a few values are padded, written as a missing
token or never seen in training. Printed figures: leads per second scoring a
DataFrame in memory (best and median of the runs), the same with the text
columns as object dtype, leads per second from a Parquet file including the
read, and the process' peak resident memory (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate import ScoringConfig, score_leads
from calibrate.sheet.criteria import Band, Criterion

TARGET = 1_000_000
N_NUMERIC, N_CATEGORICAL, N_BOOLEAN = 8, 10, 2


def build_config(seed: int = 0) -> ScoringConfig:
    """A 20-criterion config with integer points (8 numeric, 10 categorical, 2 boolean)."""
    rng = np.random.default_rng(seed)
    criteria = []
    for k in range(N_NUMERIC):
        n_bands = 4 + k % 3  # 4, 5 or 6 range bands
        scale = 10.0 ** (k % 4)
        edges = np.cumsum(rng.integers(1, 10, n_bands - 1)) * scale
        bounds = list(zip([None, *edges.tolist()], [*edges.tolist(), None], strict=True))
        bands = [
            Band(f"band {i}", "range", lower=lo, upper=hi, points=int(rng.integers(-4, 9)))
            for i, (lo, hi) in enumerate(bounds)
        ]
        bands.append(Band("Missing", "missing", points=int(rng.integers(-5, 3))))
        criteria.append(Criterion(f"num_{k}", f"num_{k}", "numeric", "explicit", tuple(bands)))
    for k in range(N_CATEGORICAL):
        levels = [f"cat{k}_level_{j}" for j in range(3 + k)]  # 3 to 12 levels
        # Group the levels into bands of one or two, as a fitted sheet does.
        bands, j = [], 0
        while j < len(levels):
            width = 1 + (j % 3 == 1)
            group = tuple(levels[j : j + width])
            bands.append(Band(group[0], "levels", values=group, points=int(rng.integers(-4, 9))))
            j += width
        bands.append(Band("Other", "other", points=int(rng.integers(-3, 4))))
        bands.append(Band("Missing", "missing", points=int(rng.integers(-5, 1))))
        group = "explicit" if k < 7 else "implicit"
        criteria.append(Criterion(f"cat_{k}", f"cat_{k}", "categorical", group, tuple(bands)))
    for k in range(N_BOOLEAN):
        bands = (
            Band("Yes", "levels", values=("true",), points=int(rng.integers(5, 11))),
            Band("No", "levels", values=("false",), points=0),
            Band("Missing", "missing", points=0),
        )
        criteria.append(Criterion(f"flag_{k}", f"flag_{k}", "boolean", "implicit", bands))
    threshold = {
        "mql": 50,
        "policy": {"name": "manual"},
        "levels": [
            {"name": "hot", "min_score": 65},
            {"name": "warm", "min_score": 50},
            {"name": "cold", "min_score": 0},
        ],
        "fast_track": [{"kind": "column", "column": "flag_0", "equals": "true"}],
    }
    return ScoringConfig(
        criteria=tuple(criteria),
        base_points=10,
        threshold=threshold,
        id_column="lead_id",
    )


def make_frame(config: ScoringConfig, n: int, seed: int = 0) -> pd.DataFrame:
    """Synthetic leads for ``config``, typed as read from Parquet."""
    rng = np.random.default_rng(seed)
    columns: dict = {"lead_id": np.array([f"L{i:09d}" for i in range(n)], dtype=object)}
    for criterion in config.criteria:
        name = criterion.column
        if criterion.kind == "numeric":
            top = max(b.lower for b in criterion.bands if b.lower is not None)
            x = np.round(rng.exponential(top / 2, n))
            if name.endswith(("0", "4")):  # whole numbers without gaps: int64
                columns[name] = x.astype(np.int64)
            else:
                x[rng.random(n) < 0.05] = np.nan
                columns[name] = x
        elif criterion.kind == "categorical":
            listed = [v for b in criterion.bands for v in b.values]
            # Listed levels, one never seen in training, a padded one, a missing token.
            pool = np.array([*listed, "never seen", f" {listed[0]} ", "n/a"], dtype=object)
            weights = np.r_[np.full(len(listed), 1.0), 0.3, 0.05, 0.05]
            text = pool[rng.choice(len(pool), n, p=weights / weights.sum())]
            text[rng.random(n) < 0.05] = None
            columns[name] = text
        else:
            columns[name] = rng.random(n) < 0.1
    return pd.DataFrame(columns)


def as_object_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text column as object dtype (None for missing)."""
    out = {}
    for name, values in frame.items():
        if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
            values = pd.Series(
                values.to_numpy(dtype=object, na_value=None), index=values.index, dtype=object
            )
        out[name] = values
    return pd.DataFrame(out)


def _timed(config, data, repeats):
    seconds, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = score_leads(config, data)
        seconds.append(time.perf_counter() - t0)
    return seconds, out


def run(
    n_leads: int = 1_000_000, *, repeats: int = 3, seed: int = 0, folder: Path | None = None
) -> tuple[dict, pd.DataFrame]:
    """Measure; returns the figures and the scores of the in-memory runs."""
    config = build_config(seed)
    with tempfile.TemporaryDirectory(prefix="calibrate-bench-") as tmp:
        path = Path(folder or tmp) / "leads.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        make_frame(config, n_leads, seed).to_parquet(path, index=False)
        # The in-memory frame is typed exactly as pandas reads the file.
        frame = pd.read_parquet(path)
        memory, out = _timed(config, frame, repeats)
        objects, out_objects = _timed(config, as_object_text(frame), repeats)
        parquet, out_parquet = _timed(config, path, repeats)
    pd.testing.assert_frame_equal(out_objects, out)
    pd.testing.assert_frame_equal(out_parquet, out)
    figures = {
        "leads": n_leads,
        "criteria": len(config.criteria),
        "repeats": repeats,
        "text_dtype": str(frame["cat_0"].dtype),
        "seconds_best": round(min(memory), 4),
        "leads_per_second_best": round(n_leads / min(memory)),
        "leads_per_second_median": round(n_leads / statistics.median(memory)),
        "object_text_leads_per_second_best": round(n_leads / min(objects)),
        "parquet_leads_per_second_best": round(n_leads / min(parquet)),
        "parquet_leads_per_second_median": round(n_leads / statistics.median(parquet)),
        "mql_share": round(float(out["mql"].mean()), 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    figures["target_met"] = figures["leads_per_second_best"] >= TARGET
    return figures, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, default=None, help="keep the Parquet file here")
    args = parser.parse_args(argv)
    figures, _ = run(args.leads, repeats=args.repeats, seed=args.seed, folder=args.dir)
    print(json.dumps(figures))
    print(
        f"{figures['leads']:,} leads, {figures['criteria']} criteria: "
        f"{figures['leads_per_second_best']:,} leads/s in memory "
        f"(best of {figures['repeats']}; median {figures['leads_per_second_median']:,}; "
        f"text as {figures['text_dtype']}), "
        f"{figures['object_text_leads_per_second_best']:,} leads/s with object text, "
        f"{figures['parquet_leads_per_second_best']:,} leads/s from Parquet incl. reading; "
        f"peak RSS {figures['peak_rss_mb']:,} MB. "
        f"Target {TARGET:,} leads/s: {'met' if figures['target_met'] else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
