"""Points and thresholds on the real data sets in ../shared/data.

Prints two Markdown tables (the README carries them): the integer sheet's
quality against the unrounded model, and what the recommended threshold
passes under each policy. 70/30 stratified hold-out, seed 0.

Usage::

    python -m benchmarks.real_data [--data ../shared/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import calibrate

DATASETS = {
    "bank-additional-full": (
        "bank-additional-full.csv",
        {"outcome": "y", "exclude": ["duration:known only after the call"]},
    ),
    "bank-full": (
        "bank-full.csv",
        {"outcome": "y", "exclude": ["duration:known only after the call"]},
    ),
    "online_shoppers_intention": ("online_shoppers_intention.csv", {"outcome": "Revenue"}),
}

#: Policies compared: sales can take a quarter of 1,000 weekly leads; pass 80%
#: of wins; MQLs that win at twice the base rate.
CAPACITY = {"leads_per_week": 250, "incoming_per_week": 1000}
RECALL = 0.8


def run(folder: Path) -> tuple[list[dict], list[dict]]:
    """Quality and policy rows for every data set."""
    quality, policies = [], []
    for name, (file, options) in DATASETS.items():
        base = calibrate.fit(folder / file, seed=0, bootstrap=0, **options)
        precision = round(2 * base.metrics["holdout_win_rate"], 3)
        result = calibrate.fit(
            folder / file,
            seed=0,
            bootstrap=0,
            capacity=CAPACITY,
            target={"recall": RECALL},
            **options,
        )
        m = result.metrics
        quality.append(
            {
                "data": name,
                "auc_model": m["holdout_auc_model"],
                "auc_points": m["holdout_auc_points"],
                "auc_lost": m["holdout_auc_lost_to_rounding"],
                "tau": m["holdout_kendall_tau"],
                "tau_nearest": result.scorecard.rounding_["tau_nearest"],
                "ece": m["holdout_calibration_error"],
            }
        )
        choices = dict(result.decision.choices)
        precise = calibrate.fit(
            folder / file,
            seed=0,
            bootstrap=0,
            target={"precision": precision},
            policy="target",
            **options,
        )
        choices[f"target precision {precision:.0%}"] = precise.threshold
        labels = {
            "expected_value": "expected value (win 5,000, follow-up 250)",
            "sales_capacity": "capacity 250 of 1,000 leads a week",
            "target": f"target recall {RECALL:.0%}",
        }
        for key, choice in choices.items():
            policies.append(
                {
                    "data": name,
                    "policy": labels.get(key, key),
                    "threshold": choice.threshold,
                    "passed": choice.share_passed,
                    "wins": choice.share_wins_captured,
                    "win_rate": choice.win_rate_passed,
                }
            )
    return quality, policies


def markdown(quality: list[dict], policies: list[dict]) -> str:
    """The two tables as Markdown."""
    lines = [
        "| data | AUC unrounded | AUC integer | AUC lost | Kendall's tau (nearest rounding) "
        "| ECE |",
        "|---|---|---|---|---|---|",
    ]
    for q in quality:
        lines.append(
            f"| {q['data']} | {q['auc_model']:.3f} | {q['auc_points']:.3f} | "
            f"{q['auc_lost']:+.4f} | {q['tau']:.3f} ({q['tau_nearest']:.3f}) | {q['ece']:.4f} |"
        )
    lines += [
        "",
        "| data | policy | threshold | leads passed | wins captured | win rate of MQLs |",
        "|---|---|---|---|---|---|",
    ]
    for p in policies:
        lines.append(
            f"| {p['data']} | {p['policy']} | {p['threshold']} | {p['passed']:.1%} | "
            f"{p['wins']:.1%} | {p['win_rate']:.1%} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default)
    args = parser.parse_args(argv)
    print(markdown(*run(args.data)))


if __name__ == "__main__":
    main()
