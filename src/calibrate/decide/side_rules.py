"""Rules beside the MQL line, measured one way for a fit and for a config.

A fit tests fast-track signals and chooses a two-axis rule on its leads; the
report of a config measures the config's fast-track rules and two-axis rule
again on labelled leads. Both call the functions here, so the two reports
measure the same thing: :func:`line_win_rate` is the win probability a
fast-track signal must beat (the table itself is
:func:`~calibrate.decide.threshold.fast_track_evidence`), and
:func:`two_axis_rule` chooses a two-axis rule or measures a given one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .policies import ExpectedValue
from .threshold import rule_outcome, sub_scores, two_axis_policy, win_probability

__all__ = ["line_win_rate", "two_axis_rule"]


def line_win_rate(scores, y, threshold: int, *, min_score: int = 0, max_score: int = 100) -> float:
    """Win probability of leads at the MQL threshold: what a fast-track signal must beat.

    Read off :func:`~calibrate.decide.threshold.win_probability` (an
    increasing isotonic fit of the outcome on the score) at ``threshold``.

    Parameters
    ----------
    scores : array-like of int
        The leads' scores.
    y : array-like of bool
        Their outcomes.
    threshold : int
        The MQL threshold, from ``min_score`` to ``max_score``.
    min_score, max_score : int, default=0, 100
        The score scale.

    Returns
    -------
    float

    Examples
    --------
    >>> line_win_rate([10, 20, 80, 90], [0, 0, 1, 1], 80)
    1.0
    """
    p = win_probability(scores, y, min_score=min_score, max_score=max_score)
    return float(p[threshold - min_score])


def two_axis_rule(
    breakdown: pd.DataFrame,
    groups: dict,
    base_points: int,
    y,
    *,
    policy: ExpectedValue,
    rule: dict | None = None,
    scores=None,
) -> dict | None:
    """A two-axis rule ``fit >= a and engagement >= b`` against a single threshold, on leads.

    Without ``rule``, the best rule and the best single threshold are chosen
    on these leads (:func:`~calibrate.decide.threshold.two_axis_policy`, what
    a fit does); with ``rule`` (a config's), that rule and its single
    threshold are measured on them. Both are judged by the expected-value
    ``policy`` (:func:`~calibrate.decide.threshold.rule_outcome`).

    Parameters
    ----------
    breakdown : pandas.DataFrame
        Points per criterion, one column per criterion name.
    groups : dict
        ``{criterion name: "explicit" | "implicit"}``.
    base_points : int
        The points every lead starts with (they count as fit).
    y : array-like of bool
        The leads' outcomes.
    policy : ExpectedValue
        What a win is worth and a sales follow-up costs.
    rule : dict, optional
        ``{"fit_min", "engagement_min", "single": {"threshold"}}``, the rule to
        measure. Without it the rule is chosen, and there is none (None) unless
        the sheet has both explicit and implicit criteria.
    scores : array-like of int, optional
        The leads' scores, which ``rule``'s single threshold is measured on
        (needed with ``rule``); a chosen single threshold is measured on the
        sum of the sub-scores.

    Returns
    -------
    dict or None
        fit_min, engagement_min, share_passed, share_wins_captured,
        win_rate_passed, value_per_1000_leads; and the same for the single
        threshold under ``single``.

    Examples
    --------
    >>> points = pd.DataFrame({"title": [10, 0, 10, 0], "webinars": [5, 8, 0, 0]})
    >>> out = two_axis_rule(points, {"title": "explicit", "webinars": "implicit"}, 20,
    ...                     [1, 0, 1, 0], policy=ExpectedValue(win_value=1000, cost_per_lead=100),
    ...                     rule={"fit_min": 30, "engagement_min": 5, "single": {"threshold": 30}},
    ...                     scores=[35, 28, 30, 20])
    >>> out["share_passed"], out["single"]["share_passed"]
    (0.25, 0.5)
    """
    if rule is None and set(groups.values()) != {"explicit", "implicit"}:
        return None
    fit, engagement = sub_scores(breakdown, groups, base_points)
    if rule is None:
        return two_axis_policy(fit, engagement, y, policy=policy)
    both = (fit >= rule["fit_min"]) & (engagement >= rule["engagement_min"])
    single_threshold = rule["single"]["threshold"]
    single = np.asarray(scores) >= single_threshold
    return {
        "fit_min": rule["fit_min"],
        "engagement_min": rule["engagement_min"],
        **rule_outcome(both, y, policy),
        "single": {"threshold": single_threshold, **rule_outcome(single, y, policy)},
    }
