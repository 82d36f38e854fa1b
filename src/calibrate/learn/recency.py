"""Recency weighting: recent leads count more, at a half-life learned from the data.

A lead ``age`` days older than the latest training lead weighs
``2 ** (-age / half_life)``. :func:`choose_half_life` picks the half-life by
time-ordered validation: fitted on the earlier training leads with each
candidate, the model that best predicts the latest ones (by log loss) wins,
no weighting being one of the candidates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..errors import DataError

__all__ = ["HALF_LIVES", "choose_half_life", "recency_weights"]

#: Half-lives (days) tried by :func:`choose_half_life`, besides no weighting.
HALF_LIVES = (30, 60, 90, 180, 365, 730)
#: Share of the training leads, the latest, that :func:`choose_half_life` predicts.
VALIDATION_SHARE = 0.2


def recency_weights(dates, half_life: float | None, *, until=None) -> np.ndarray:
    """``2 ** (-age / half_life)`` per lead, its age in days before ``until``.

    Parameters
    ----------
    dates : array-like of datetime
        Each lead's date.
    half_life : float or None
        Days after which a lead counts half; None weighs every lead 1.
    until : datetime, optional
        The moment ages are counted from; the latest date by default.

    Returns
    -------
    ndarray of float

    Examples
    --------
    >>> recency_weights(pd.to_datetime(["2025-01-01", "2025-03-02", "2025-05-01"]), 60)
    array([0.25, 0.5 , 1.  ])
    """
    dates = pd.DatetimeIndex(pd.to_datetime(dates))
    if half_life is None:
        return np.ones(len(dates))
    if dates.hasnans:
        raise DataError("recency weighting needs every lead's date; some are missing")
    until = dates.max() if until is None else pd.Timestamp(until)
    age = np.asarray((until - dates) / pd.Timedelta(days=1), dtype=float)
    return np.exp2(-np.maximum(age, 0.0) / float(half_life))


def choose_half_life(model, X: pd.DataFrame, y, dates, candidates=HALF_LIVES):
    """The half-life whose model best predicts the latest training leads.

    Parameters
    ----------
    model : LeadScoreModel
        The model to refit with each candidate's weights (cloned).
    X : pandas.DataFrame
        The training leads' criteria.
    y : array-like of bool
        Their outcomes.
    dates : array-like of datetime
        Their dates.
    candidates : sequence of float
        Half-lives to try, in days; no weighting is always tried.

    Returns
    -------
    half_life : float or None
        The winner (None: no weighting).
    losses : list of dict
        ``{"half_life_days", "log_loss"}`` per candidate, no weighting first.
    """
    dates = pd.DatetimeIndex(pd.to_datetime(dates))
    y = np.asarray(y, dtype=bool)
    order = np.argsort(dates.asi8, kind="stable")
    cut = int(round(len(order) * (1 - VALIDATION_SHARE)))
    early, late = np.sort(order[:cut]), np.sort(order[cut:])
    if len(late) == 0 or y[late].all() or not y[late].any() or len(np.unique(y[early])) < 2:
        raise DataError(
            "choosing a recency half-life needs won and lost leads among both the earlier "
            "and the latest training leads"
        )
    until = dates[early].max()
    losses = []
    for half_life in (None, *candidates):
        weights = recency_weights(dates[early], half_life, until=until)
        fitted = clone(model).fit(X.iloc[early], y[early], sample_weight=weights)
        p = np.clip(fitted.predict_proba(X.iloc[late])[:, 1], 1e-12, 1 - 1e-12)
        loss = float(-np.mean(np.where(y[late], np.log(p), np.log(1 - p))))
        losses.append({"half_life_days": half_life, "log_loss": loss})
    best = min(losses, key=lambda row: row["log_loss"])
    return best["half_life_days"], losses
