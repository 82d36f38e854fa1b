"""Threshold: where to draw the MQL line, and what a score means.

:func:`calibration_table` measures, on hold-out leads, the win rate of every
score band: the honest probability behind a score. :func:`recommend_threshold`
picks the MQL threshold that a policy prefers and reports what it passes to
sales. The first policy, :class:`ExpectedValue`, passes a lead when its
expected win value is worth a sales follow-up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from .errors import ParameterError

__all__ = ["ExpectedValue", "ThresholdChoice", "calibration_table", "recommend_threshold"]


@dataclass(frozen=True)
class ExpectedValue:
    """Pass a lead to sales when ``P(win) * win_value >= cost_per_lead``.

    Parameters
    ----------
    win_value : float, default=5000
        What a won lead is worth (e.g. first-year contract value times margin).
    cost_per_lead : float, default=250
        What a sales follow-up of one lead costs (time of the rep, tools).

    Examples
    --------
    >>> ExpectedValue(win_value=5000, cost_per_lead=250).break_even
    0.05
    """

    win_value: float = 5000.0
    cost_per_lead: float = 250.0
    name = "expected_value"

    def __post_init__(self):
        for field in ("win_value", "cost_per_lead"):
            value = getattr(self, field)
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise ParameterError(
                    f"The {field!r} parameter of ExpectedValue must be a float > 0. "
                    f"Got {value!r} instead."
                )

    @property
    def break_even(self) -> float:
        """Win probability at which a follow-up pays for itself."""
        return self.cost_per_lead / self.win_value

    def to_dict(self) -> dict:
        """The policy's name and parameters, for the config."""
        return {"name": self.name, **asdict(self)}


@dataclass(frozen=True)
class ThresholdChoice:
    """A recommended MQL threshold and what it means on the hold-out leads.

    Attributes
    ----------
    threshold : int
        Leads scoring at least this are MQLs.
    policy : ExpectedValue
        The policy that chose it.
    share_passed : float
        Share of hold-out leads at or above the threshold.
    share_wins_captured : float
        Share of hold-out wins at or above the threshold.
    win_rate_passed : float
        Win rate of the hold-out leads passed (nan when none pass).
    curve : pandas.DataFrame
        For every candidate threshold 0..101: leads_passed, share_passed,
        wins_captured, share_wins_captured, win_rate_passed, expected_value.
    """

    threshold: int
    policy: ExpectedValue
    share_passed: float
    share_wins_captured: float
    win_rate_passed: float
    curve: pd.DataFrame

    def to_dict(self) -> dict:
        """Plain values for the config and metrics."""
        return {
            "mql": int(self.threshold),
            "policy": self.policy.to_dict(),
            "share_passed": _round(self.share_passed),
            "share_wins_captured": _round(self.share_wins_captured),
            "win_rate_passed": _round(self.win_rate_passed),
        }


def _round(x: float, digits: int = 6):
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def win_probability(scores, y, *, min_score=0, max_score=100) -> np.ndarray:
    """Win probability of every score from ``min_score`` to ``max_score``.

    An increasing isotonic fit of the outcome on the score, measured on the
    given (hold-out) leads.

    Examples
    --------
    >>> p = win_probability([10, 20, 80, 90], [0, 0, 1, 1], max_score=100)
    >>> float(p[10]), float(p[90])
    (0.0, 1.0)
    """
    iso = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0, y_max=1)
    iso.fit(np.asarray(scores, float), np.asarray(y, float))
    return iso.predict(np.arange(min_score, max_score + 1, dtype=float))


def threshold_curve(scores, y, *, policy: ExpectedValue, min_score=0, max_score=100):
    """What every candidate threshold passes to sales, on the given leads.

    Returns
    -------
    pandas.DataFrame
        One row per threshold from ``min_score`` to ``max_score + 1`` (nobody
        passes): leads_passed, share_passed, wins_captured,
        share_wins_captured, win_rate_passed, expected_value (per 1,000
        leads, with win probabilities from :func:`win_probability`).
    """
    scores = np.asarray(scores, dtype=np.int64)
    y = np.asarray(y, dtype=float)
    thresholds = np.arange(min_score, max_score + 2)
    width = max_score - min_score + 1
    counts = np.bincount(scores - min_score, minlength=width).astype(float)
    wins = np.bincount(scores - min_score, weights=y, minlength=width)
    p = win_probability(scores, y, min_score=min_score, max_score=max_score)
    value = counts * (p * policy.win_value - policy.cost_per_lead)
    # Cumulative from the top: leads with score >= t.
    passed = np.append(np.cumsum(counts[::-1])[::-1], 0.0)
    won = np.append(np.cumsum(wins[::-1])[::-1], 0.0)
    ev = np.append(np.cumsum(value[::-1])[::-1], 0.0)
    n, total_wins = len(scores), y.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(passed > 0, won / passed, np.nan)
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "leads_passed": passed.astype(np.int64),
            "share_passed": passed / n,
            "wins_captured": won,
            "share_wins_captured": won / total_wins if total_wins else np.zeros_like(won),
            "win_rate_passed": rate,
            "expected_value": ev * 1000.0 / n,
        }
    )


def recommend_threshold(
    scores, y, *, policy: ExpectedValue | None = None, min_score=0, max_score=100
) -> ThresholdChoice:
    """The MQL threshold a policy prefers on historical (hold-out) leads.

    The expected-value policy takes the threshold of highest total expected
    value; among equal values, the highest threshold (fewest leads for the
    same value).

    Parameters
    ----------
    scores : array-like of int
        Integer scores of past leads, ideally hold-out leads.
    y : array-like of bool
        Their outcomes.
    policy : ExpectedValue, optional
        Default ``ExpectedValue()``.
    min_score, max_score : int
        The score scale.

    Returns
    -------
    ThresholdChoice

    Examples
    --------
    Leads scoring 80+ win half the time, the others never; a follow-up costs
    a tenth of a win:

    >>> scores = [10, 20, 30, 80, 90]
    >>> won = [0, 0, 0, 1, 0]
    >>> choice = recommend_threshold(scores, won, policy=ExpectedValue(1000, 100))
    >>> choice.threshold, choice.share_passed, choice.share_wins_captured
    (80, 0.4, 1.0)
    """
    policy = ExpectedValue() if policy is None else policy
    curve = threshold_curve(scores, y, policy=policy, min_score=min_score, max_score=max_score)
    ev = curve["expected_value"].to_numpy()
    best = np.flatnonzero(np.isclose(ev, ev.max(), rtol=1e-12, atol=1e-9))
    row = curve.iloc[int(best.max())]
    threshold = int(min(row["threshold"], max_score))
    row = curve.iloc[threshold - min_score]
    return ThresholdChoice(
        threshold=threshold,
        policy=policy,
        share_passed=float(row["share_passed"]),
        share_wins_captured=float(row["share_wins_captured"]),
        win_rate_passed=float(row["win_rate_passed"]),
        curve=curve,
    )


def calibration_table(scores, y, *, width: int = 10, min_score=0, max_score=100) -> pd.DataFrame:
    """Observed win rate of every score band on the given (hold-out) leads.

    Parameters
    ----------
    scores : array-like of int
        Integer scores.
    y : array-like of bool
        Outcomes.
    width : int, default=10
        Points per band: 0-9, 10-19, ..., the last band closed at ``max_score``.

    Returns
    -------
    pandas.DataFrame
        score_min, score_max, leads, wins, win_rate (observed), and
        win_probability (isotonic fit, mean over the band's leads).

    Examples
    --------
    >>> calibration_table([5, 15, 15, 95], [0, 1, 0, 1], width=50)[["score_min", "leads", "wins"]]
       score_min  leads  wins
    0          0      3     1
    1         50      1     1
    """
    scores = np.asarray(scores, dtype=np.int64)
    y = np.asarray(y, dtype=float)
    p = win_probability(scores, y, min_score=min_score, max_score=max_score)[scores - min_score]
    starts = np.arange(min_score, max_score + 1, width)
    starts = starts[starts < max_score] if len(starts) > 1 else starts
    band = np.clip((scores - min_score) // width, 0, len(starts) - 1)
    leads = np.bincount(band, minlength=len(starts))
    wins = np.bincount(band, weights=y, minlength=len(starts))
    prob = np.bincount(band, weights=p, minlength=len(starts))
    ends = np.append(starts[1:] - 1, max_score)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "score_min": starts,
                "score_max": ends,
                "leads": leads,
                "wins": wins.astype(np.int64) if np.all(wins == wins.round()) else wins,
                "win_rate": np.where(leads > 0, wins / leads, np.nan),
                "win_probability": np.where(leads > 0, prob / leads, np.nan),
            }
        )


def expected_calibration_error(
    scores, y, *, width: int = 10, folds: int = 5, min_score=0, max_score=100, random_state=0
) -> tuple[float, np.ndarray]:
    """Calibration error of score-band win probabilities, measured out of sample.

    The probability of each score is fitted (isotonic, as in
    :func:`win_probability`) on all but one fold of the leads and read on the
    remaining fold, so no lead judges a map it helped fit. The error is the
    lead-weighted mean, over score bands of ``width`` points, of
    ``|observed win rate - mean predicted probability|``.

    Returns
    -------
    ece : float
    predicted : ndarray
        The out-of-fold probability of every lead.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = rng.integers(0, 101, 4000)
    >>> won = rng.random(4000) < s / 100
    >>> ece, _ = expected_calibration_error(s, won)
    >>> ece < 0.03
    True
    """
    from sklearn.model_selection import StratifiedKFold

    scores = np.asarray(scores, dtype=np.int64)
    y = np.asarray(y, dtype=float)
    predicted = np.empty(len(scores))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    for fit_rows, read_rows in splitter.split(scores, y.astype(int)):
        p = win_probability(
            scores[fit_rows], y[fit_rows], min_score=min_score, max_score=max_score
        )
        predicted[read_rows] = p[scores[read_rows] - min_score]
    band = np.minimum((scores - min_score) // width, (max_score - min_score) // width - 1)
    band = np.maximum(band, 0)
    n = np.bincount(band)
    observed = np.bincount(band, weights=y)
    mean_p = np.bincount(band, weights=predicted)
    present = n > 0
    ece = float(np.abs(observed[present] - mean_p[present]).sum() / len(scores))
    return ece, predicted
