"""Evaluation: what the hold-out leads say of a fitted sheet, and what to warn about.

:class:`HoldOut` keeps the hold-out leads' outcomes, probabilities and
scores, measured once, for the metrics, the decision and the report.
:func:`sheet_warnings` and :func:`no_signal_warning` say what a fit warns
about: no usable signal, a column that may leak the outcome, hold-out leads
beyond the training range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from ..learn.binning import LeadBinner
from ..learn.model import LeadScoreModel, auc_interval
from ..learn.points import Scorecard

__all__ = ["HoldOut", "hold_out", "no_signal_warning", "sheet_warnings", "signal_of"]


@dataclass(frozen=True)
class HoldOut:
    """The hold-out leads as the fitted sheet sees them, measured once.

    Attributes
    ----------
    X : pandas.DataFrame
        Their criteria (lead columns and behaviour features).
    y : ndarray of bool
        Their outcomes.
    proba : ndarray of float
        The unrounded model's win probability.
    scores : ndarray of int
        The integer sheet's score.
    auc_interval : tuple of float
        The integer sheet's AUC and its 95% interval (DeLong).
    """

    X: pd.DataFrame
    y: np.ndarray
    proba: np.ndarray
    scores: np.ndarray
    auc_interval: tuple

    @property
    def signal(self) -> str:
        """``"usable"`` when the AUC's interval lies above 0.5, else ``"none"``."""
        return signal_of(self.auc_interval)


def signal_of(auc_interval) -> str:
    """``"usable"`` when an AUC's interval ``(auc, low, high)`` lies above 0.5, else ``"none"``."""
    return "usable" if auc_interval[1] > 0.5 else "none"


def hold_out(card: Scorecard, X: pd.DataFrame, y: np.ndarray, rows: np.ndarray) -> HoldOut:
    """Score the hold-out rows of ``X`` with a fitted sheet."""
    X_hold, y_hold = X.iloc[rows], y[rows]
    scores = card.predict_score(X_hold)
    return HoldOut(
        X=X_hold,
        y=y_hold,
        proba=card.predict_proba(X_hold)[:, 1],
        scores=scores,
        auc_interval=auc_interval(y_hold, scores),
    )


def sheet_warnings(card, held: HoldOut, X_train, y_train, auc_model, seed) -> list[str]:
    """What the hold-out says to warn about the sheet itself.

    Criteria that alone rank hold-out leads suspiciously well, or else a
    column that carries most of what the sheet knows (both may leak the
    outcome); hold-out leads piling up at an end of the scale. A sheet with
    no usable signal is named by :func:`no_signal_warning`.
    """
    leaks = leakage_warnings(card, held.X, held.y)
    found = list(leaks)
    if not leaks:
        found += dominant_column_warnings(card, X_train, y_train, held.X, held.y, auc_model, seed)
    return found + scale_edge_warnings(card, held.scores)


#: A single criterion ranking hold-out leads this well is probably known only
#: after the outcome (leakage) and is flagged in the warnings.
LEAKAGE_AUC = 0.9

#: A share of hold-out leads at an end of the scale (and 3 times the training
#: share) past which they are flagged as beyond the training range.
EDGE_SHARE = 0.05


def no_signal_warning(auc: float, low: float, high: float) -> str:
    """The warning for a sheet whose hold-out AUC interval includes 0.5."""
    return (
        "this history shows no usable signal: the sheet ranks hold-out leads no better than "
        f"chance (AUC {auc:.3f}, 95% interval {low:.3f} to {high:.3f}); no MQL threshold is "
        "recommended, and the points are not evidence of what wins"
    )


def leakage_warnings(card: Scorecard, X: pd.DataFrame, y: np.ndarray) -> list[str]:
    """Flag criteria that alone rank hold-out leads suspiciously well."""
    breakdown = card.score_breakdown(X)
    found = []
    for criterion in card.criteria_:
        points = breakdown[criterion.name].to_numpy()
        if np.unique(points).size < 2:
            continue
        auc = float(roc_auc_score(y, points))
        if auc >= LEAKAGE_AUC:
            found.append(
                f"column {criterion.column!r} alone ranks hold-out leads with AUC {auc:.3f}: "
                "check it is known before the hand-off decision (it may leak the outcome)"
            )
    return found


#: A column is flagged as possibly leaking when the sheet refitted without it
#: ranks hold-out leads worse by this much (bank leads: 0.14 for the
#: call duration, at most 0.02 for any other column), or when it alone ranks
#: them this much better than the next best column does.
DOMINANCE_AUC = 0.1
#: Columns ranking hold-out leads worse than this alone are not refitted without.
STRONG_COLUMN_AUC = 0.7
#: Most training leads of the refit without the strongest column.
DOMINANCE_MAX_LEADS = 50_000


def dominant_column_warnings(card, X_train, y_train, X_hold, y_hold, auc_model, seed):
    """Flag a column that alone carries most of what the sheet knows.

    A column known only after the outcome (the length of the sales call)
    need not rank leads with AUC 0.9 on its own to leak: it is enough that
    it is far better than any other column, or that the sheet is much worse
    without it.
    """
    binner = card.model_.binner_
    alone = {}
    train_codes, hold_codes = binner.transform(X_train), binner.transform(X_hold)
    for criterion in binner.criteria_:
        k = len(criterion.bands)
        codes = train_codes[criterion.name].to_numpy()
        leads = np.bincount(codes, minlength=k)
        wins = np.bincount(codes, weights=y_train, minlength=k)
        rate = np.where(leads > 0, wins / np.maximum(leads, 1), y_train.mean())
        held = rate[hold_codes[criterion.name].to_numpy()]
        if np.unique(held).size > 1:
            alone[criterion] = float(roc_auc_score(y_hold, held))
    if len(alone) < 2:
        return []
    (best, best_auc), (second, second_auc) = sorted(alone.items(), key=lambda kv: -kv[1])[:2]
    check = "check it is known before the hand-off decision (it may leak the outcome)"
    if best_auc >= STRONG_COLUMN_AUC:
        without = _auc_without(card, best.column, X_train, y_train, X_hold, y_hold, seed)
        if auc_model - without >= DOMINANCE_AUC:
            return [
                f"column {best.column!r} carries most of what the sheet knows: without it the "
                f"hold-out AUC falls from {auc_model:.3f} to {without:.3f} (alone it ranks "
                f"leads with AUC {best_auc:.3f}, the next best column {second_auc:.3f}); " + check
            ]
    if best_auc - second_auc >= DOMINANCE_AUC:
        return [
            f"column {best.column!r} alone ranks hold-out leads with AUC {best_auc:.3f}, far "
            f"better than any other column (the next best, {second.column!r}: "
            f"{second_auc:.3f}); " + check
        ]
    return []


def _auc_without(card, column, X_train, y_train, X_hold, y_hold, seed) -> float:
    """Hold-out AUC of the model refitted without one column (penalty C=1)."""
    fitted = card.model_
    params = (fitted.binner if fitted.binner is not None else LeadBinner()).get_params()
    for key in ("column_types", "groups"):
        params[key] = {k: v for k, v in (params[key] or {}).items() if k != column}
    monotone = {k: v for k, v in (fitted.monotone or {}).items() if k != column}
    if len(X_train) > DOMINANCE_MAX_LEADS:
        rows = np.random.default_rng(seed).choice(len(X_train), DOMINANCE_MAX_LEADS, replace=False)
        X_train, y_train = X_train.iloc[np.sort(rows)], y_train[np.sort(rows)]
    model = LeadScoreModel(binner=LeadBinner(**params), monotone=monotone, Cs=1, random_state=seed)
    model.fit(X_train.drop(columns=[column]), y_train)
    return float(roc_auc_score(y_hold, model.predict_proba(X_hold.drop(columns=[column]))[:, 1]))


def scale_edge_warnings(card: Scorecard, scores: np.ndarray) -> list[str]:
    """Flag hold-out leads piling up at an end of the scale.

    The scale puts about 1% of training leads at each end. Many more hold-out
    leads there means they lie beyond the training range (later leads unlike
    the earlier ones), and the sheet cannot rank them among themselves.
    """
    found = []
    for edge, name in ((card.max_score, "top"), (card.min_score, "bottom")):
        held = float(np.mean(scores == edge))
        trained = float(np.mean(card.train_scores_ == edge))
        if held >= max(EDGE_SHARE, 3 * trained):
            found.append(
                f"{held:.0%} of hold-out leads score {edge}, the {name} of the scale, against "
                f"{trained:.0%} of training leads: they lie beyond the training range (the "
                "later leads differ from the earlier ones), and the sheet does not rank them "
                "among themselves"
            )
    return found
