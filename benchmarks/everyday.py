"""The everyday fit, stage by stage: where an analyst's twenty fits a day spend their time.

Times each stage of a fit on the bundled example (4,000 leads, 100,594
activities) and on 100,000 generated leads with their activity log, through
the library's public estimators in the order :func:`calibrate.pipeline.fit_with`
runs them: read, behaviour, decay search, bands, model, penalty search,
rounding, bootstrap, threshold, report summary, figures, HTML and PDF. A stage
that is an option of an estimator is timed as the difference of a fit with it
and one without (the decay search: ``learn_decay``; the penalty search: the
default ``Cs`` grid of 12 penalties against one; rounding: ``rank`` against
``nearest``; the bootstrap: 100 refits against none). Then the README's set-up
command is run three times end to end and its median wall time printed.

Run from the project root::

    python -m benchmarks.everyday            # both data sets and the command
    python -m benchmarks.everyday --quick    # the example only, the command once

The machine is shared and noisy: read the stages as shares of one run, not as
absolute numbers.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_LEADS = ROOT / "data" / "example_leads.csv"
EXAMPLE_LOG = ROOT / "data" / "example_activities.parquet"
DETAIL_RULES = ("page_view:/pricing*=pricing_page_view", "page_view:/careers*=careers_page_view")
COMBOS = ("whitepaper_download+case_study_view",)
#: The README's set-up fit, without the install.
README_FIT = (
    "calibrate fit data/example_leads.csv --activities data/example_activities.parquet "
    "--outcome converted --id lead_id --decided-at decided_at --activity-detail-col detail "
    '--detail-rule "page_view:/pricing*=pricing_page_view" '
    '--detail-rule "page_view:/careers*=careers_page_view" '
    "--combo whitepaper_download+case_study_view --out {out}"
)


@contextmanager
def timed(times: dict, name: str):
    start = time.perf_counter()
    yield
    times[name] = times.get(name, 0.0) + time.perf_counter() - start


def stages(leads_path, log_path, *, seed: int = 0) -> dict[str, float]:
    """Seconds per stage of one fit of the leads at ``leads_path`` and their log."""
    import calibrate
    from calibrate.decide.threshold import calibration_table, recommend_threshold
    from calibrate.io.ingest import load_leads
    from calibrate.learn.behaviour import ActivityFeaturizer
    from calibrate.learn.binning import LeadBinner
    from calibrate.learn.model import LeadScoreModel, split_holdout
    from calibrate.learn.points import Scorecard
    from calibrate.report import build_summary, fit_report

    times: dict[str, float] = {}
    with timed(times, "read"):
        leads = load_leads(leads_path, outcome="converted", id="lead_id", decided_at="decided_at")
    y = leads.outcome.to_numpy()
    train, held = split_holdout(y, fraction=0.3, dates=leads.dates, random_state=seed)
    frame = pd.DataFrame({"lead_id": leads.ids, "decision_time": leads.decision_times})
    explicit = LeadBinner(column_types=leads.column_types, groups=leads.groups).fit(
        leads.features.iloc[train], y[train]
    )
    design = explicit.one_hot(leads.features.iloc[train])
    behaviour = {}
    for learn in (False, True):
        featurizer = ActivityFeaturizer(
            detail="detail",
            detail_rules=DETAIL_RULES,
            combos=COMBOS,
            learn_decay=learn,
            random_state=seed,
        )
        start = time.perf_counter()
        train_frame = frame.iloc[train].reset_index(drop=True)
        featurizer.fit(train_frame, y[train], log_path, X_extra=design)
        features = featurizer.transform(frame)
        behaviour[learn] = time.perf_counter() - start
    times["behaviour"] = behaviour[False]
    times["decay search"] = max(behaviour[True] - behaviour[False], 0.0)

    X = pd.concat([leads.features, features], axis=1)
    types = dict(leads.column_types)
    groups = dict(leads.groups)
    for feature in featurizer.spec_.features:
        types[feature.name] = feature.column_kind
        groups[feature.name] = "implicit"
    monotone = {c: "auto" for c, k in types.items() if k == "numeric" and groups[c] == "implicit"}
    X_train, y_train = X.iloc[train], y[train]

    def binner():
        return LeadBinner(column_types=types, groups=groups)

    with timed(times, "bands"):
        binner().fit(X_train, y_train)
    one_c = LeadScoreModel(binner=binner(), monotone=monotone, Cs=1, random_state=seed)
    grid = LeadScoreModel(binner=binner(), monotone=monotone, random_state=seed)
    start = time.perf_counter()
    one_c.fit(X_train, y_train)
    single = time.perf_counter() - start
    start = time.perf_counter()
    grid.fit(X_train, y_train)
    searched = time.perf_counter() - start
    times["model"] = max(single - times["bands"], 0.0)
    times["penalty search"] = max(searched - single, 0.0)

    def card(**params):
        model = LeadScoreModel(binner=binner(), monotone=monotone, random_state=seed)
        start = time.perf_counter()
        fitted = Scorecard(model=model, random_state=seed, **params).fit(X_train, y_train)
        return fitted, time.perf_counter() - start

    _, nearest = card(rounding="nearest", n_bootstrap=0)
    sheet, rank = card(rounding="rank", n_bootstrap=0)
    _, boot = card(rounding="rank", n_bootstrap=100)
    times["rounding"] = max(rank - nearest, 0.0)
    times["bootstrap"] = max(boot - rank, 0.0)

    held_scores = sheet.predict_score(X.iloc[held])
    with timed(times, "threshold"):
        recommend_threshold(held_scores, y[held])
        calibration_table(held_scores, y[held])

    result = calibrate.fit(
        leads_path,
        outcome="converted",
        id="lead_id",
        decided_at="decided_at",
        activities=log_path,
        activity_columns={"detail": "detail"},
        detail_rules=DETAIL_RULES,
        combos=COMBOS,
        seed=seed,
    )
    with timed(times, "report summary"):
        build_summary(result)
    start = time.perf_counter()
    report = fit_report(result)
    times["figures"] = max(time.perf_counter() - start - times["report summary"], 0.0)
    with timed(times, "report HTML"):
        report.html  # noqa: B018 - rendering is what is timed
    with timed(times, "PDF"):
        report.pdf  # noqa: B018
    return times


def readme_command(runs: int) -> list[float]:
    """Wall seconds of the README's set-up fit, ``runs`` times."""
    walls = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            command = shlex.split(README_FIT.format(out=out))
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
            walls.append(time.perf_counter() - start)
    return walls


def generated(n: int, folder: Path, seed: int = 11) -> tuple[Path, Path]:
    """``n`` generated leads and their activity log, written as Parquet."""
    from calibrate.datasets import make_leads

    leads, log = make_leads(n, seed=seed, activities=True)
    paths = folder / "leads.parquet", folder / "activities.parquet"
    leads.to_parquet(paths[0], index=False)
    log.to_parquet(paths[1], index=False)
    return paths


def _print(name: str, times: dict[str, float]) -> None:
    total = sum(times.values())
    print(f"\n{name}: {total:.2f} s over the stages")
    for stage, seconds in times.items():
        print(f"  {stage:<16} {seconds:7.2f} s  {seconds / total:6.1%}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the example only; one run")
    parser.add_argument("--n", type=int, default=100_000, help="generated leads (100,000)")
    args = parser.parse_args(argv)
    import os

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    _print("example (4,000 leads)", stages(EXAMPLE_LEADS, EXAMPLE_LOG))
    if not args.quick:
        with tempfile.TemporaryDirectory() as folder:
            leads, log = generated(args.n, Path(folder))
            _print(f"generated ({args.n:,} leads)", stages(leads, log))
    walls = readme_command(1 if args.quick else 3)
    print(
        f"\nREADME set-up fit: median {statistics.median(walls):.2f} s wall "
        f"({', '.join(f'{w:.2f}' for w in walls)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
