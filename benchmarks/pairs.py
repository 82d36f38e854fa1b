"""Pair rules on the shared data sets: the integer sheet's AUC with and without them.

For every shared data set (../shared/data) and the stratified 70/30 splits of
seeds 0-2 that :mod:`benchmarks.peers` uses (leaking columns dropped), the
points sheet is fitted as the peers benchmark fits calibrate's (the band
counts of ``calibrate fit``, behaviour criteria monotone), once without pair
rules and once with at most ``--max-pairs`` of them. It prints, per data set
and setting, the mean hold-out AUC of the integer score, the AUC per seed, the
pairs kept and the mean fit time, then one rule per data set with its four
cells (the README's example of a pair from real data). Last, generated leads
whose win odds jump only for a senior title at a large firm (a planted rule):
the sheet with and without pairs and gradient boosting, fitted on 10,000 leads
and judged on 20,000 new ones, seeds 0-2.

Run from the project root::

    python -m benchmarks.pairs [--data ../shared/data] [--max-pairs 8]

The fit times are those of one process on a shared machine: read them as
the ratio of the two settings.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from calibrate import LeadBinner, LeadScoreModel, Scorecard, load_leads
from calibrate.settings import ModelSettings
from calibrate.sheet.pairs import RULE, PairCriterion

from .peers import DATASETS, OUTCOME, load_real, splits


def fit_sheet(features, y, types, groups, seed: int, max_pairs: int) -> Scorecard:
    """calibrate's sheet as benchmarks.peers fits it, with at most ``max_pairs`` pair rules."""
    rules = {c: "auto" for c, k in types.items() if k == "numeric" and groups[c] == "implicit"}
    settings = ModelSettings()
    binner = LeadBinner(max_bins=settings.max_bins, column_types=types, groups=groups)
    model = LeadScoreModel(binner=binner, monotone=rules, choose_bins=settings.choose_bins,
                           max_pairs=max_pairs, random_state=seed)  # fmt: skip
    return Scorecard(model=model, random_state=seed).fit(features, y)


def run(folder: Path, name: str, max_pairs: int) -> dict:
    """Per setting: AUCs, pairs kept and fit seconds over the seeds; and one pair's cells."""
    X, y = load_real(folder, name)
    frame = X.copy()
    frame[OUTCOME] = y
    leads = load_leads(frame, outcome=OUTCOME)
    types, groups = dict(leads.column_types), dict(leads.groups)
    features = leads.features
    out, example = {}, None
    for k in (0, max_pairs):
        rows = []
        for split, (train, test) in splits(y).items():
            seed = int(split.rsplit(" ", 1)[1])
            start = time.perf_counter()
            card = fit_sheet(features.iloc[train], y[train], types, groups, seed, k)
            seconds = time.perf_counter() - start
            auc = roc_auc_score(y[test], card.predict_score(features.iloc[test]))
            pairs = [c for c in card.criteria_ if isinstance(c, PairCriterion)]
            rows.append((auc, len(pairs), seconds))
            if k and example is None and pairs:
                example = _cells(pairs[0], features.iloc[test], y[test])
        out[k] = rows
    return {"settings": out, "example": example}


def _cells(pair: PairCriterion, features, y) -> dict:
    """The rule's points and, per quadrant of its two conditions, hold-out leads and win rate."""
    first = pair.first.holds(pair.first.criterion.assign_frame(features))
    second = pair.second.holds(pair.second.criterion.assign_frame(features))
    quadrants = {}
    for a in (True, False):
        for b in (True, False):
            inside = (first == a) & (second == b)
            rate = float(y[inside].mean()) if inside.any() else 0.0
            quadrants[(a, b)] = (int(inside.sum()), rate)
    rule = pair.cells[RULE]
    return {
        "rule": rule.label,
        "points": rule.points,
        "first": pair.first.label,
        "second": pair.second.label,
        "quadrants": quadrants,
    }


def planted_leads(n: int, seed: int, *, interaction: float = 1.6):
    """Leads whose odds jump by ``interaction`` log-odds only for VP or C-level at 500+ staff.

    Returns the lead table (seniority, company_size, webinars, region) and
    the outcome; with ``interaction=0`` the leads are additive.
    """
    rng = np.random.default_rng(seed)
    titles = ["Staff", "Manager", "Director", "VP", "C-level", "Intern"]
    frame = pd.DataFrame(
        {
            "seniority": rng.choice(titles, n),
            "company_size": np.round(rng.lognormal(5, 1.5, n)),
            "webinars": rng.poisson(1.0, n).astype(float),
            "region": rng.choice(["EMEA", "NA", "APAC"], n),
        }
    )
    senior = frame["seniority"].isin(["VP", "C-level"]).to_numpy()
    large = (frame["company_size"] >= 500).to_numpy()
    eta = -2.2 + 0.3 * frame["webinars"] + 0.2 * senior + 0.2 * large
    eta = eta + interaction * (senior & large)
    return frame, rng.random(n) < 1 / (1 + np.exp(-eta))


def planted(max_pairs: int) -> list[dict]:
    """Per seed: hold-out AUC of the sheet with and without pairs and of gradient boosting."""
    rows = []
    for seed in (0, 1, 2):
        X, y = planted_leads(10_000, seed)
        Xt, yt = planted_leads(20_000, seed + 100)
        auc = {"seed": seed}
        for k in (0, max_pairs):
            model = LeadScoreModel(binner=LeadBinner(max_bins=5), random_state=0, max_pairs=k)
            card = Scorecard(model=model, random_state=0).fit(X, y)
            auc[f"sheet, {k} pairs"] = roc_auc_score(yt, card.predict_score(Xt))
            if k:
                auc["rules"] = [p.cells[RULE].label for p in card.model_.pairs_]
        typed = {"seniority": "category", "region": "category"}
        gbm = HistGradientBoostingClassifier(random_state=0, categorical_features="from_dtype")
        gbm.fit(X.astype(typed), y)
        auc["gradient boosting"] = roc_auc_score(yt, gbm.predict_proba(Xt.astype(typed))[:, 1])
        rows.append(auc)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--max-pairs", type=int, default=8)
    args = parser.parse_args(argv)
    print("| data | max pairs | integer AUC (mean of seeds 0-2) | per seed | pairs kept | fit s |")
    print("|---|---|---|---|---|---|")
    examples = {}
    for name in DATASETS:
        result = run(args.data, name, args.max_pairs)
        for k, rows in result["settings"].items():
            aucs = [r[0] for r in rows]
            print(
                f"| {name} | {k} | {np.mean(aucs):.4f} | {', '.join(f'{a:.4f}' for a in aucs)} "
                f"| {', '.join(str(r[1]) for r in rows)} | {np.mean([r[2] for r in rows]):.1f} |"
            )
        examples[name] = result["example"]
    for name, ex in examples.items():
        if ex is None:
            continue
        print(f"\n{name}: {ex['rule']}: {ex['points']:+d} points (hold-out leads, win rate)")
        for a in (True, False):
            row = [ex["quadrants"][(a, b)] for b in (True, False)]
            label = ex["first"] if a else "not that"
            cells = " | ".join(f"{n:,} leads, {rate:.1%}" for n, rate in row)
            print(f"  {label:<40} | {cells}")
        print(f"  {'':<40}   columns: {ex['second']} | not that")
    print("\nA planted rule (10,000 leads to fit, 20,000 new leads to judge):")
    for row in planted(min(args.max_pairs, 3)):
        aucs = ", ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in ("seed", "rules"))
        print(f"  seed {row['seed']}: {aucs}; rules: {'; '.join(row['rules'])}")


if __name__ == "__main__":
    main()
