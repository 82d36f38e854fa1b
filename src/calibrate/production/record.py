"""What a fit records: its scoring config and its ``metrics.json``.

Plain values only: every number is rounded once, here, so that the same data
and seed give byte-identical files.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from .. import __version__
from .config import ScoringConfig

__all__ = ["build_config", "metrics_json", "plain_json", "rounded", "threshold_config"]


def build_config(card, leads, metrics, decision, table, train, held, seed, holdout, behaviour):
    """The :class:`~calibrate.ScoringConfig` of a fit: the sheet and its evidence."""
    y = leads.outcome.to_numpy()
    training = {
        "source": leads.source,
        "fingerprint": leads.fingerprint(),
        "n_leads": leads.n_leads,
        "n_wins": int(y.sum()),
        "n_train": int(len(train)),
        "n_holdout": int(len(held)),
        "outcome": {"column": leads.outcome.name, "positive": leads.positive_label},
        "excluded": [{"column": c, "reason": r} for c, r in leads.excluded.items()],
        "warnings": list(metrics["warnings"]),
    }
    if leads.dates is not None:
        training["date_column"] = leads.dates.name
        training["period"] = {
            "start": pd.Timestamp(leads.dates.min()).isoformat(),
            "end": pd.Timestamp(leads.dates.max()).isoformat(),
        }
    model = {
        "type": "binned_logistic_regression",
        "regularisation_C": rounded(card.model_.C_),
        "intercept": rounded(card.model_.intercept_),
        "scale_factor": rounded(card.factor_),
        "scale_offset": rounded(card.offset_),
        "split": {"kind": metrics["split"], "holdout_fraction": holdout, "seed": seed},
        "holdout": {
            "auc_model": rounded(metrics["holdout_auc_model"]),
            "auc_points": rounded(metrics["holdout_auc_points"]),
            "auc_points_interval": [rounded(x) for x in metrics["holdout_auc_points_interval"]],
            "signal": metrics["signal"],
            "kendall_tau": rounded(metrics["holdout_kendall_tau"]),
            "brier": rounded(metrics["holdout_brier"]),
            "calibration_error": rounded(metrics["holdout_calibration_error"]),
            "log_loss": rounded(metrics["holdout_log_loss"]),
        },
    }
    if "recency" in metrics:
        model["recency"] = dict(metrics["recency"])
    bands = [
        {
            "score_min": int(row.score_min),
            "score_max": int(row.score_max),
            "leads": int(row.leads),
            "wins": rounded(row.wins),
            "win_rate": rounded(row.win_rate),
            "win_probability": rounded(row.win_probability),
        }
        for row in table.itertuples()
    ]
    activities = {}
    if behaviour is not None:
        featurizer = behaviour.featurizer
        activities = featurizer.spec_.to_dict()
        activities["decision_time"] = dict(leads.decision_rule)
        activities["decay"] = [
            {
                "family": row.family,
                "kernel": row.kernel,
                "half_life_days": rounded(row.half_life_days),
                "log_loss": rounded(row.log_loss),
                "log_loss_no_decay": rounded(row.log_loss_no_decay),
                "improvement": rounded(row.improvement, 8),
            }
            for row in featurizer.decay_.itertuples()
        ]
        counts = behaviour.counts
        training["activities"] = {
            "rows": featurizer.activity_counts_["rows"],
            "after_decision_rows_left_out": counts["after_decision_rows"],
            "older_than_lookback_rows": counts["older_than_lookback_rows"],
            "unknown_lead_rows": counts["unknown_lead_rows"],
        }
    threshold = threshold_config(decision)
    threshold["recommended"] = metrics["signal"] == "usable"
    return ScoringConfig(
        criteria=tuple(card.criteria_),
        base_points=card.base_points_,
        threshold=threshold,
        min_score=card.min_score,
        max_score=card.max_score,
        id_column=leads.id_column,
        calibration={
            "measured_on": "hold-out leads",
            "method": "isotonic regression of won on score",
            "expected_calibration_error": rounded(metrics["holdout_calibration_error"]),
            "bands": bands,
        },
        model=model,
        training_data=training,
        activities=activities,
        reference=training_reference(
            card, _training_design(leads, behaviour, train), y[train], bands
        ),
    )


def _training_design(leads, behaviour, train) -> pd.DataFrame:
    """The training leads' criteria: lead columns and behaviour features."""
    X = leads.features
    if behaviour is not None:
        X = pd.concat([X, behaviour.features], axis=1)
    return X.iloc[train]


def recency_record(recency: dict) -> dict:
    """The config's ``model.recency``: the half-life used, how it was chosen, the candidates."""
    out = {"half_life_days": rounded(recency["half_life_days"]), "chosen_by": recency["chosen_by"]}
    if "candidates" in recency:
        out["candidates"] = [
            {"half_life_days": rounded(c["half_life_days"]), "log_loss": rounded(c["log_loss"])}
            for c in recency["candidates"]
        ]
    return out


def threshold_config(decision) -> dict:
    """The config's ``threshold`` section from a fit's decision."""
    out = decision.choice.to_dict()
    out["policies"] = [
        {
            "name": name,
            **{k: v for k, v in c.to_dict().items() if k != "policy"},
            "parameters": c.policy.to_dict(),
        }
        for name, c in decision.choices.items()
    ]
    out["levels"] = [
        {
            "name": row.level,
            "min_score": int(row.min_score),
            "share_of_leads": rounded(row.share_of_leads),
            "win_rate": rounded(row.win_rate),
        }
        for row in decision.levels.itertuples()
    ]
    rules = []
    for row in decision.fast_track.itertuples():
        if not row.recommended:
            continue
        rule = (
            {
                "kind": "activity",
                "activity_type": row.candidate,
                "within_days": int(row.within_days),
            }
            if row.kind == "activity"
            else {"kind": "column", "column": row.candidate, "equals": "true"}
        )
        rule["evidence"] = {
            "leads": int(row.leads),
            "win_rate": rounded(row.win_rate),
            "reference_rate": rounded(row.reference_rate),
        }
        rules.append(rule)
    out["fast_track"] = rules
    if decision.two_axis is not None:
        out["two_axis"] = {
            k: ({kk: rounded(vv) for kk, vv in v.items()} if isinstance(v, dict) else rounded(v))
            for k, v in decision.two_axis.items()
        }
    if decision.volume is not None:
        out["weekly_volume"] = {k: rounded(v, 2) for k, v in decision.volume.items()}
    return out


def rounded(x, digits: int = 6):
    """Round a metric for the config; NaN becomes null."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return int(x) if x.is_integer() and abs(x) < 2**53 else round(x, digits)


def plain_json(value):
    """``value`` JSON-ready: numpy numbers as Python ones, floats rounded, NaN as None."""
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return rounded(value)
    return value


def metrics_json(values: dict) -> str:
    """``metrics.json``: the metrics rounded, with calibrate's version."""

    def clean_value(v):
        if isinstance(v, float):
            return rounded(v, 10)
        if isinstance(v, list):
            return [clean_value(x) for x in v]
        return v

    clean = {k: clean_value(v) for k, v in values.items()}
    clean["calibrate_version"] = __version__
    return json.dumps(clean, indent=2, allow_nan=False) + "\n"


#: Categorical columns with more distinct training values than this keep no list of them.
MAX_REFERENCE_CATEGORIES = 1000


def training_reference(card, X_train, y_train, bands) -> dict:
    """The config's ``reference``: how the training leads fell into bands and scores.

    Monitoring compares new leads with it: band shares (population stability
    per criterion); wins and the wins the calibration ``bands`` expect (a
    band whose leads now win more or less than their scores say: a changed
    effect); the score distribution; and the categories seen.
    """
    from ..sheet.criteria import category_codes
    from .reference import band_win_probability

    expected = np.nan_to_num(band_win_probability(bands, card.train_scores_))
    won = np.asarray(y_train, dtype=float)
    codes = card.model_.encode(X_train)
    criteria = []
    for j, criterion in enumerate(card.criteria_):
        # Leads as counted, not as weighted (a recency-weighted fit weighs them).
        k = len(criterion.bands)
        criteria.append(
            {
                "name": criterion.name,
                "leads": [int(n) for n in np.bincount(codes[:, j], minlength=k)],
                "wins": [rounded(w) for w in np.bincount(codes[:, j], weights=won, minlength=k)],
                "expected_wins": [
                    rounded(e) for e in np.bincount(codes[:, j], weights=expected, minlength=k)
                ],
            }
        )
    low, high = card.min_score, card.max_score
    counts = np.bincount(np.asarray(card.train_scores_) - low, minlength=high - low + 1)
    categories = {}
    for criterion in card.criteria_:
        if criterion.kind != "categorical" or criterion.column not in X_train.columns:
            continue
        _, texts = category_codes(X_train[criterion.column], "categorical", criterion.column)
        seen = sorted({str(t) for t in texts if t is not None})
        if len(seen) <= MAX_REFERENCE_CATEGORIES:
            categories[criterion.column] = seen
    return {
        "measured_on": "training leads",
        "n_leads": int(len(X_train)),
        "criteria": criteria,
        "score_counts": [int(c) for c in counts],
        "categories": categories,
    }
