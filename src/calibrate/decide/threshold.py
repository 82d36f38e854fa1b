"""Threshold: where to draw the MQL line, and what a score means.

:func:`calibration_table` measures, on hold-out leads, the win rate of every
score band: the honest probability behind a score. :func:`recommend_threshold`
picks the MQL threshold that a policy (:mod:`calibrate.decide.policies`)
prefers and reports what it passes to sales.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from ..errors import ParameterError
from .policies import ExpectedValue, KeptThreshold, SalesCapacity, TargetRate

__all__ = [
    "ExpectedValue",
    "KeptThreshold",
    "SalesCapacity",
    "TargetRate",
    "ThresholdChoice",
    "calibration_table",
    "expected_calibration_error",
    "recommend_threshold",
    "weekly_volume",
    "wilson_interval",
]


def weekly_volume(dates) -> dict | None:
    """Historical leads per week: the mean and 90th percentile over full weeks.

    Examples
    --------
    >>> d = pd.Series(pd.date_range("2024-01-01", periods=70, freq="D"))
    >>> weekly_volume(d)
    {'mean': 7.0, 'p90': 7.0, 'weeks': 8}
    """
    if dates is None:
        return None
    stamps = pd.Series(pd.to_datetime(pd.Series(dates))).dropna()
    if getattr(stamps.dt, "tz", None) is not None:  # weeks of UTC, like decision times
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    if stamps.empty:
        return None
    weeks = stamps.dt.to_period("W").value_counts().sort_index()
    if len(weeks) > 2:
        weeks = weeks.iloc[1:-1]  # the first and last weeks may be partial
    return {
        "mean": float(weeks.mean()),
        "p90": float(np.percentile(weeks.to_numpy(), 90)),
        "weeks": int(len(weeks)),
    }


@dataclass(frozen=True)
class ThresholdChoice:
    """A recommended MQL threshold and what it means on the hold-out leads.

    Attributes
    ----------
    threshold : int
        Leads scoring at least this are MQLs.
    policy : ExpectedValue, SalesCapacity or TargetRate
        The policy that chose it.
    share_passed : float
        Share of hold-out leads at or above the threshold.
    share_wins_captured : float
        Share of hold-out wins at or above the threshold.
    win_rate_passed : float
        Win rate of the hold-out leads passed (nan when none pass).
    curve : pandas.DataFrame
        For every candidate threshold 0..101: leads_passed, share_passed,
        wins_captured, share_wins_captured, win_rate_passed, expected_value
        and, when the weekly volume is known, mqls_per_week.
    mqls_per_week : float or None
        Expected MQLs per week at the threshold (average week).
    met : bool
        Whether the policy's goal is met (a capacity or target may be out of
        reach: then the closest threshold is given).
    """

    threshold: int
    policy: object
    share_passed: float
    share_wins_captured: float
    win_rate_passed: float
    curve: pd.DataFrame
    mqls_per_week: float | None = None
    met: bool = True

    def to_dict(self) -> dict:
        """Plain values for the config and metrics."""
        return {
            "mql": int(self.threshold),
            "policy": self.policy.to_dict(),
            "share_passed": _round(self.share_passed),
            "share_wins_captured": _round(self.share_wins_captured),
            "win_rate_passed": _round(self.win_rate_passed),
            "mqls_per_week": _round(self.mqls_per_week, 2),
            "goal_met": bool(self.met),
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


def threshold_curve(
    scores, y, *, policy=None, volume: dict | None = None, min_score=0, max_score=100
):
    """What every candidate threshold passes to sales, on the given leads.

    Returns
    -------
    pandas.DataFrame
        One row per threshold from ``min_score`` to ``max_score + 1`` (nobody
        passes): leads_passed, share_passed, wins_captured,
        share_wins_captured, win_rate_passed, expected_value (per 1,000
        leads, with win probabilities from :func:`win_probability`, for
        ``policy`` if it is an :class:`ExpectedValue`, else the default one)
        and, with ``volume``, mqls_per_week.
    """
    value_policy = policy if isinstance(policy, ExpectedValue) else ExpectedValue()
    scores = np.asarray(scores, dtype=np.int64)
    y = np.asarray(y, dtype=float)
    thresholds = np.arange(min_score, max_score + 2)
    width = max_score - min_score + 1
    counts = np.bincount(scores - min_score, minlength=width).astype(float)
    wins = np.bincount(scores - min_score, weights=y, minlength=width)
    p = win_probability(scores, y, min_score=min_score, max_score=max_score)
    value = counts * (p * value_policy.win_value - value_policy.cost_per_lead)
    # Cumulative from the top: leads with score >= t.
    passed = np.append(np.cumsum(counts[::-1])[::-1], 0.0)
    won = np.append(np.cumsum(wins[::-1])[::-1], 0.0)
    ev = np.append(np.cumsum(value[::-1])[::-1], 0.0)
    n, total_wins = len(scores), y.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(passed > 0, won / passed, np.nan)
    curve = pd.DataFrame(
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
    if volume is not None:
        curve["mqls_per_week"] = curve["share_passed"] * volume["mean"]
    return curve


def recommend_threshold(
    scores, y, *, policy=None, volume: dict | None = None, min_score=0, max_score=100
) -> ThresholdChoice:
    """The MQL threshold a policy prefers on historical (hold-out) leads.

    - :class:`ExpectedValue`: the threshold of highest total expected value;
      among equal values, the highest (fewest leads for the same value).
    - :class:`SalesCapacity`: the lowest threshold whose expected MQLs per
      week fit the capacity (needs ``volume``).
    - :class:`TargetRate`: the lowest threshold meeting the precision, or the
      highest meeting the recall.

    Parameters
    ----------
    scores : array-like of int
        Integer scores of past leads, ideally hold-out leads.
    y : array-like of bool
        Their outcomes.
    policy : ExpectedValue, SalesCapacity or TargetRate, optional
        Default ``ExpectedValue()``.
    volume : dict, optional
        Historical leads per week, as :func:`weekly_volume` gives.
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
    curve = threshold_curve(
        scores, y, policy=policy, volume=volume, min_score=min_score, max_score=max_score
    )
    candidates = curve.iloc[:-1]  # a threshold above the scale passes nobody
    met = True
    if isinstance(policy, ExpectedValue):
        ev = curve["expected_value"].to_numpy()
        best = np.flatnonzero(np.isclose(ev, ev.max(), rtol=1e-12, atol=1e-9))
        threshold = int(min(curve["threshold"].iloc[int(best.max())], max_score))
    elif isinstance(policy, SalesCapacity):
        if volume is None and policy.incoming_per_week is not None:
            weekly_in = float(policy.incoming_per_week)
            volume = {"mean": weekly_in, "p90": weekly_in, "weeks": None}
            curve["mqls_per_week"] = curve["share_passed"] * weekly_in
        if volume is None:
            raise ParameterError(
                "the sales-capacity policy needs the lead volume per week: name a date "
                "column (--date or --decided-at) or give --incoming-per-week"
            )
        weekly = volume["p90"] if policy.sla_hours is not None else volume["mean"]
        within = candidates["share_passed"] * weekly <= policy.capacity_per_week + 1e-9
        met = bool(within.any())
        threshold = int(candidates["threshold"][within].min()) if met else max_score
    elif isinstance(policy, KeptThreshold):
        threshold, met = int(policy.mql), True
    elif isinstance(policy, TargetRate):
        if policy.precision is not None:
            ok = candidates["win_rate_passed"] >= policy.precision - 1e-12
            met = bool(ok.any())
            threshold = int(candidates["threshold"][ok].min()) if met else max_score
        else:
            ok = candidates["share_wins_captured"] >= policy.recall - 1e-12
            met = bool(ok.any())
            threshold = int(candidates["threshold"][ok].max()) if met else min_score
    else:
        raise ParameterError(f"unknown threshold policy {policy!r}")
    # Thresholds between two observed scores pass the same leads: name the
    # observed score, so the line sits where the evidence is.
    observed = np.asarray(scores)[np.asarray(scores) >= threshold]
    if len(observed) and not isinstance(policy, KeptThreshold):
        threshold = int(observed.min())
    row = curve.iloc[threshold - min_score]
    return ThresholdChoice(
        threshold=threshold,
        policy=policy,
        share_passed=float(row["share_passed"]),
        share_wins_captured=float(row["share_wins_captured"]),
        win_rate_passed=float(row["win_rate_passed"]),
        curve=curve,
        mqls_per_week=float(row["mqls_per_week"]) if volume is not None else None,
        met=met,
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


def parse_levels(text: str, *, min_score: int = 0) -> list[dict]:
    """Read levels written ``"A=80,B=60,C=40"``: each starts at its score.

    Below the lowest a ``nurture`` level is added when needed, so every score
    has a level.

    Examples
    --------
    >>> [(level["name"], level["min_score"]) for level in parse_levels("hot=80, warm=55")]
    [('hot', 80), ('warm', 55), ('nurture', 0)]
    """
    levels = []
    for part in str(text).split(","):
        name, sep, start = part.strip().rpartition("=")
        try:
            value = int(start)
        except ValueError:
            value = None
        if not sep or not name.strip() or value is None:
            raise ParameterError(
                f"levels read NAME=SCORE,NAME=SCORE (e.g. A=80,B=60); got {text!r}"
            )
        levels.append({"name": name.strip(), "min_score": value})
    return _complete_levels(levels, min_score)


def _complete_levels(levels: list[dict], min_score: int) -> list[dict]:
    levels = sorted(levels, key=lambda level: -level["min_score"])
    names = [level["name"] for level in levels]
    if len(set(names)) != len(names):
        raise ParameterError(f"level names must be unique, got {names}")
    if len({level["min_score"] for level in levels}) != len(levels):
        raise ParameterError("two levels start at the same score")
    if levels[-1]["min_score"] > min_score:
        levels.append({"name": "nurture", "min_score": min_score})
    return levels


def default_levels(scores, y, mql: int, *, min_score: int = 0, max_score: int = 100) -> list[dict]:
    """Hot, warm and nurture: hot where leads win twice as often as at the MQL line.

    ``warm`` starts at the MQL threshold; ``hot`` at the lowest score whose
    smoothed win probability is at least twice that at the threshold (left
    out when no score gets there); ``nurture`` below the threshold.
    """
    p = win_probability(scores, y, min_score=min_score, max_score=max_score)
    levels = [{"name": "warm", "min_score": int(mql)}]
    at_line = p[int(mql) - min_score]
    above = np.flatnonzero((p >= 2 * at_line) & (np.arange(len(p)) + min_score > mql))
    if at_line > 0 and len(above):
        levels.insert(0, {"name": "hot", "min_score": int(above[0] + min_score)})
    if mql > min_score:
        levels.append({"name": "nurture", "min_score": min_score})
    return levels


def level_table(scores, y, levels: list[dict], *, max_score: int = 100) -> pd.DataFrame:
    """Share of leads and win rate of every level, on the given leads.

    Examples
    --------
    >>> level_table([10, 60, 90, 95], [0, 0, 1, 1], [{"name": "A", "min_score": 80},
    ...     {"name": "B", "min_score": 0}])[["level", "leads", "win_rate"]]
      level  leads  win_rate
    0     A      2       1.0
    1     B      2       0.0
    """
    scores = np.asarray(scores)
    y = np.asarray(y, dtype=float)
    rows, upper = [], max_score
    for level in levels:
        inside = (scores >= level["min_score"]) & (scores <= upper)
        n = int(inside.sum())
        rows.append(
            {
                "level": level["name"],
                "min_score": level["min_score"],
                "max_score": upper,
                "leads": n,
                "share_of_leads": n / len(scores) if len(scores) else np.nan,
                "win_rate": float(y[inside].mean()) if n else np.nan,
            }
        )
        upper = level["min_score"] - 1
    return pd.DataFrame(rows)


def fast_track_evidence(
    flags: dict, y, reference_rate: float, *, min_leads: int = 30, within_days=None
):
    """Which hand-raiser signals win at least as often as leads at the MQL line.

    The one measure of fast-track rules: for the candidates a fit tests, and
    for the rules a config holds, measured again on labelled leads.

    Parameters
    ----------
    flags : dict
        ``{candidate: boolean array}``: which leads showed the signal (e.g.
        requested a demo in the 30 days before the decision).
    y : array-like of bool
        Outcomes of the same leads.
    reference_rate : float
        Win probability of leads at the MQL threshold.
    min_leads : int
        Fewer leads than this are too little evidence to recommend.
    within_days : dict, optional
        ``{candidate: days or None}``: the window of an activity signal, None
        for a boolean lead column. Given, the table says each candidate's
        ``kind`` (activity or column) and ``within_days``.

    Returns
    -------
    pandas.DataFrame
        candidate, (kind, within_days,) leads, wins, win_rate, ci_low, ci_high
        (95% Wilson interval), reference_rate, recommended.

    Examples
    --------
    >>> fast_track_evidence({"demo": np.array([1, 1, 1, 0] * 20, bool)},
    ...                     np.array([1, 1, 0, 0] * 20), 0.3)[["leads", "win_rate", "recommended"]]
       leads  win_rate  recommended
    0     60  0.666667         True
    """
    y = np.asarray(y, dtype=float)
    rows = []
    for name, flag in flags.items():
        flag = np.asarray(flag, dtype=bool)
        n, wins = int(flag.sum()), float(y[flag].sum())
        rate = wins / n if n else np.nan
        low, high = (float(x) for x in wilson_interval(wins, n))
        rows.append(
            {
                "candidate": name,
                "leads": n,
                "wins": wins,
                "win_rate": rate,
                "ci_low": low,
                "ci_high": high,
                "reference_rate": float(reference_rate),
                "recommended": bool(n >= min_leads and rate >= reference_rate),
            }
        )
    columns = [
        "candidate",
        "leads",
        "wins",
        "win_rate",
        "ci_low",
        "ci_high",
        "reference_rate",
        "recommended",
    ]
    table = pd.DataFrame(rows, columns=columns)
    if within_days is not None:
        days = [within_days[c] for c in table["candidate"]]
        table.insert(1, "kind", ["column" if d is None else "activity" for d in days])
        table.insert(2, "within_days", days)
    return table


def wilson_interval(wins, n, z: float = 1.96):
    """The Wilson score interval of ``wins`` out of ``n`` leads (arrays or numbers).

    NaN where ``n`` is 0.

    Examples
    --------
    >>> low, high = wilson_interval(5, 20)
    >>> round(float(low), 3), round(float(high), 3)
    (0.112, 0.469)
    """
    wins, n = np.asarray(wins, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = wins / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def sub_scores(breakdown: pd.DataFrame, groups: dict, base_points: int):
    """A lead's fit and engagement sub-scores, from its points per criterion.

    Parameters
    ----------
    breakdown : pandas.DataFrame
        Points per criterion, one column per criterion name.
    groups : dict
        ``{criterion name: "explicit" | "implicit"}``.
    base_points : int
        The points every lead starts with: they count as fit.

    Returns
    -------
    fit, engagement : ndarray of int
        Base plus explicit points, and the sum of implicit points.

    Examples
    --------
    >>> points = pd.DataFrame({"title": [10, 0], "webinars": [5, 8]})
    >>> sub_scores(points, {"title": "explicit", "webinars": "implicit"}, 20)
    (array([30, 20]), array([5, 8]))
    """
    explicit = [n for n, g in groups.items() if g == "explicit"]
    implicit = [n for n, g in groups.items() if g == "implicit"]
    fit = base_points + breakdown[explicit].sum(axis=1).to_numpy()
    return fit, breakdown[implicit].sum(axis=1).to_numpy()


def rule_outcome(passed, y, policy: ExpectedValue) -> dict:
    """What a rule that passes ``passed`` gives on leads with outcomes ``y``.

    The one measurement of a two-axis rule (or of a single threshold), for the
    fit that chooses it and for the report that checks a config's rule on
    other leads.

    Returns
    -------
    dict
        share_passed, share_wins_captured, win_rate_passed and
        value_per_1000_leads (observed wins x win value - leads passed x cost
        per lead, per 1,000 leads).

    Examples
    --------
    >>> out = rule_outcome(np.array([True, True, False, False]), np.array([1, 0, 1, 0]),
    ...                    ExpectedValue(win_value=1000, cost_per_lead=100))
    >>> out["share_passed"], out["share_wins_captured"], out["value_per_1000_leads"]
    (0.5, 0.5, 200000.0)
    """
    passed = np.asarray(passed, dtype=bool)
    y = np.asarray(y, dtype=float)
    n, total = len(y), y.sum()
    k = passed.sum()
    wins = y[passed].sum()
    return {
        "share_passed": float(k / n),
        "share_wins_captured": float(wins / total) if total else np.nan,
        "win_rate_passed": float(wins / k) if k else np.nan,
        "value_per_1000_leads": float(
            (wins * policy.win_value - k * policy.cost_per_lead) * 1000 / n
        ),
    }


def two_axis_policy(fit, engagement, y, *, policy: ExpectedValue, steps: int = 21) -> dict:
    """Best rule ``fit >= a and engagement >= b`` against the best single threshold.

    Both are judged by the expected-value ``policy`` on the given leads
    (observed wins x win value - leads passed x cost per lead). ``fit`` and
    ``engagement`` are the sub-scores: base plus explicit points, and the
    sum of implicit points.

    Returns
    -------
    dict
        fit_min, engagement_min, share_passed, share_wins_captured,
        win_rate_passed, value_per_1000_leads; and the same for the best
        single threshold on ``fit + engagement`` under ``single``.
    """
    fit = np.asarray(fit, dtype=float)
    engagement = np.asarray(engagement, dtype=float)
    y = np.asarray(y, dtype=float)

    def summary(passed):
        return rule_outcome(passed, y, policy)

    quantiles = np.linspace(0, 1, steps)
    grid_fit = np.unique(np.quantile(fit, quantiles, method="inverted_cdf"))
    grid_eng = np.unique(np.quantile(engagement, quantiles, method="inverted_cdf"))
    best = None
    for a in grid_fit:
        for b in grid_eng:
            result = summary((fit >= a) & (engagement >= b))
            if best is None or result["value_per_1000_leads"] > best[2]["value_per_1000_leads"]:
                best = (a, b, result)
    total_score = fit + engagement
    single = None
    for t in np.unique(total_score):
        result = summary(total_score >= t)
        if single is None or result["value_per_1000_leads"] > single[1]["value_per_1000_leads"]:
            single = (t, result)
    return {
        "fit_min": int(best[0]),
        "engagement_min": int(best[1]),
        **best[2],
        "single": {"threshold": int(single[0]), **single[1]},
    }
