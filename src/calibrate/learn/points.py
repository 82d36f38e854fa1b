"""Points: turn band weights into an integer points sheet on a 0-100 scale.

The model's score for a lead is a log-odds ``eta = intercept + sum of band
weights``. The sheet maps it linearly onto the score scale::

    score = offset + factor * eta

with ``factor`` and ``offset`` chosen so that the ``lower_quantile`` of
training leads scores ``min_score`` and the ``upper_quantile`` scores
``max_score``: the scores use the whole scale instead of bunching in the
middle. Within every criterion the lowest band earns 0 points and the others
earn ``factor * (weight - lowest weight)``; what is left over is the *base
points* every lead starts with (it may be negative). A lead's score is
``base + sum of its points``, clipped to the scale.

Points are integers; :class:`Scorecard` rounds them to the nearest integer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..errors import DataError
from ..sheet.pairs import OTHERWISE, PairCriterion
from ..validation import (
    check_columns,
    check_frame,
    check_params,
    check_sample_weight,
    check_target,
    instance_of,
    integer,
    one_of,
    optional,
    real,
)
from ._band_logistic import band_sum
from .model import LeadScoreModel

__all__ = ["Scorecard", "scale_weights"]

#: Most cells (leads times resamples) of the bootstrap's weights at once.
BOOTSTRAP_CELLS = 2_000_000
#: Below this many training leads a band, the bootstrap's refits are solved
#: together (measured: 2.7 times faster at 25 leads a band, 1.3 times slower
#: at 60).
TOGETHER_LEADS_PER_BAND = 40

#: Bands with fewer training leads than this are flagged on the sheet.
FEW_LEADS = 30


def scale_weights(
    coef,
    intercept,
    blocks,
    eta_train,
    *,
    min_score=0,
    max_score=100,
    lower_quantile=0.01,
    upper_quantile=0.99,
    reference=None,
):
    """Unrounded points of every band and the base points.

    Parameters
    ----------
    coef : ndarray of shape (n_bands,)
        Band weights (log-odds).
    intercept : float
        Model intercept.
    blocks : list of slice
        The bands of each criterion within ``coef``.
    eta_train : ndarray
        Log-odds of the training leads.
    min_score, max_score : int
        The score scale.
    lower_quantile, upper_quantile : float
        Training quantiles of ``eta`` mapped to ``min_score`` and ``max_score``.
    reference : sequence of int, optional
        Index (within ``coef``) of the band earning 0 points in each block;
        by default the band of lowest weight, so all points are >= 0.

    Returns
    -------
    points : ndarray of shape (n_bands,)
        Points, 0 for the reference band of every criterion.
    base : float
        Points every lead starts with.
    factor, offset : float
        ``score = offset + factor * eta``.

    Examples
    --------
    Two criteria of two bands; the training log-odds run from -2 to 2:

    >>> points, base, factor, offset = scale_weights(
    ...     np.array([0.0, 1.0, -1.0, 1.0]), 0.0, [slice(0, 2), slice(2, 4)],
    ...     np.array([-2.0, 2.0]), lower_quantile=0, upper_quantile=1)
    >>> points.tolist(), base, factor, offset
    ([0.0, 25.0, 0.0, 50.0], 25.0, 25.0, 50.0)
    """
    lo, hi = np.quantile(eta_train, [lower_quantile, upper_quantile])
    if not hi > lo:
        raise DataError(
            "the model gives (almost) every lead the same score: no criterion separates "
            "won from lost leads in this history"
        )
    factor = (max_score - min_score) / (hi - lo)
    offset = min_score - factor * lo
    if reference is None:
        anchor = np.array([coef[b].min() for b in blocks])
    else:
        anchor = np.asarray(coef)[np.asarray(reference, dtype=np.int64)]
    points = np.concatenate([factor * (coef[b] - m) for b, m in zip(blocks, anchor, strict=True)])
    base = offset + factor * (intercept + anchor.sum())
    return points, float(base), float(factor), float(offset)


class Scorecard(ClassifierMixin, BaseEstimator):
    """An integer points sheet learned from won/lost history.

    Parameters
    ----------
    model : LeadScoreModel, optional
        The band model to scale; a default :class:`LeadScoreModel` when None.
        It is cloned and fitted in :meth:`fit`.
    min_score, max_score : int, default=0, 100
        The score scale.
    lower_quantile, upper_quantile : float, default=0.01, 0.99
        Training leads at these quantiles of the model's log-odds score
        ``min_score`` and ``max_score``.
    rounding : {"rank", "nearest"}, default="rank"
        How unrounded points become integers. ``"nearest"`` rounds each
        band's points. ``"rank"`` searches for the integers that keep the
        unrounded model's ranking of training leads best (Kendall's tau): a
        scale factor within 10% of the unrounded one, then single-point
        moves, band by band (see :func:`rank_preserving_points`).
    n_bootstrap : int, default=0
        Bootstrap resamples of the training leads for an interval around
        every band's points (the model refitted on each, same bands and
        penalty, points on the same scale and reference). 0 skips it.
    random_state : int, optional
        Seed of the rank search's sample and of the bootstrap.

    Attributes
    ----------
    model_ : LeadScoreModel
        The fitted model.
    criteria_ : list of Criterion
        The criteria, their bands carrying integer points.
    points_ : pandas.DataFrame
        The points sheet: criterion, group, band, points, n_leads, share,
        wins, win_rate, coef, points_unrounded; with ``n_bootstrap``, also
        points_low and points_high (95% bootstrap interval of the unrounded
        points) and flag ("interval crosses 0", "few leads" or "").
    base_points_ : int
        Points every lead starts with.
    factor_, offset_ : float
        ``unrounded score = offset_ + factor_ * log-odds``.
    rounding_ : dict
        How the integers were found: method, scale factor applied to the
        unrounded points, and Kendall's tau with the unrounded scores on the
        training sample, for nearest rounding and for the result.
    feature_names_in_ : ndarray of str
        Input columns.

    Examples
    --------
    >>> from calibrate.datasets import make_leads
    >>> leads = make_leads(3000, seed=1)
    >>> X, y = leads[["seniority", "webinars_attended"]], leads["converted"]
    >>> card = Scorecard(model=LeadScoreModel(random_state=0)).fit(X, y)
    >>> scores = card.predict_score(X)
    >>> int(scores.min()) >= 0 and int(scores.max()) <= 100
    True
    """

    _rules = {
        "model": optional(instance_of(LeadScoreModel)),
        "min_score": integer(),
        "max_score": integer(),
        "lower_quantile": real(0, 0.5),
        "upper_quantile": real(0.5, 1),
        "rounding": one_of("rank", "nearest"),
        "n_bootstrap": integer(0),
        "random_state": optional(integer(0)),
    }

    def __init__(
        self,
        *,
        model=None,
        min_score=0,
        max_score=100,
        lower_quantile=0.01,
        upper_quantile=0.99,
        rounding="rank",
        n_bootstrap=0,
        random_state=None,
    ):
        self.model = model
        self.min_score = min_score
        self.max_score = max_score
        self.lower_quantile = lower_quantile
        self.upper_quantile = upper_quantile
        self.rounding = rounding
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y, sample_weight=None):
        """Fit the model and scale its weights into integer points.

        Parameters
        ----------
        X : pandas.DataFrame
            Candidate criteria.
        y : array-like of bool
            Won (True) or lost.
        sample_weight : array-like, optional
            Weight of each lead.

        Returns
        -------
        self : Scorecard
        """
        check_params(self, self._rules)
        if self.max_score - self.min_score < 10:
            raise DataError(
                f"the score scale {self.min_score}-{self.max_score} is too narrow; "
                "it needs at least 10 points"
            )
        X = check_frame(X)
        y = check_target(y, len(X))
        w = check_sample_weight(sample_weight, len(X))
        model = LeadScoreModel() if self.model is None else clone(self.model)
        codes = model.fit_encode(X, y, w)
        self.model_ = model
        binner = self.model_.binner_
        offsets = self.model_.band_offsets()
        blocks = [slice(a, b) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
        eta = self.model_.decision_from_codes(codes)
        points, base, self.factor_, self.offset_ = scale_weights(
            self.model_.coef_,
            self.model_.intercept_,
            blocks,
            eta,
            min_score=self.min_score,
            max_score=self.max_score,
            lower_quantile=self.lower_quantile,
            upper_quantile=self.upper_quantile,
            reference=(reference := _reference_bands(self.model_, self.model_.coef_, blocks)),
        )
        if self.rounding == "rank":
            int_points, base_points, self.rounding_ = rank_preserving_points(
                points,
                base,
                codes,
                eta,
                min_score=self.min_score,
                max_score=self.max_score,
                random_state=self.random_state,
                ordered=self._ordered_blocks(binner, offsets),
                offsets=offsets[:-1],
            )
        else:
            int_points, base_points = np.rint(points).astype(np.int64), int(np.rint(base))
            self.rounding_ = {"method": "nearest", "scale": 1.0}
        self.base_points_ = int(base_points)
        self.criteria_ = [
            c.with_points(int_points[b])
            for c, b in zip(self.model_.criteria_, blocks, strict=True)
        ]
        self._band_points_ = int_points
        self._offsets_ = offsets
        self.points_ = self.model_.band_coef_.assign(points=int_points, points_unrounded=points)[
            [
                "criterion",
                "group",
                "band",
                "points",
                "n_leads",
                "share",
                "wins",
                "win_rate",
                "coef",
                "points_unrounded",
            ]
        ]
        if self.n_bootstrap:
            low, high = self._bootstrap(codes, y, w, blocks, reference)
            flags = np.where(
                self.points_["n_leads"] < FEW_LEADS,
                "few leads",
                np.where((low < 0) & (high > 0), "interval crosses 0", ""),
            )
            self.points_ = self.points_.assign(points_low=low, points_high=high, flag=flags)
        self.feature_names_in_ = self.model_.feature_names_in_
        self.n_features_in_ = self.model_.n_features_in_
        self.classes_ = self.model_.classes_
        sizes = np.diff(offsets)
        # Every training lead's points without the base: a shifted sheet rescores them.
        self._train_points_ = band_sum(self._band_points_, codes, sizes, start=0)
        self.train_scores_ = np.clip(
            self._train_points_ + self.base_points_, self.min_score, self.max_score
        )
        return self

    def with_base_points(self, base_points: int) -> Scorecard:
        """The same fitted sheet with other base points: every score moves by the difference.

        What keeping an agreed MQL threshold takes after a refit: the points
        stay, and the base moves so that the threshold keeps its meaning.

        Parameters
        ----------
        base_points : int
            The new base points.

        Returns
        -------
        Scorecard
            A fitted copy; this sheet is unchanged.
        """
        import copy

        check_is_fitted(self, "criteria_")
        other = copy.copy(self)
        other.base_points_ = int(base_points)
        other.train_scores_ = np.clip(
            self._train_points_ + other.base_points_, self.min_score, self.max_score
        )
        return other

    def _bootstrap(self, codes, y, w, blocks, reference):
        """95% interval of every band's unrounded points over bootstrap refits."""
        model = self.model_
        codes = np.asarray(codes, dtype=np.intp)
        offsets = model.band_offsets()
        sizes = np.diff(offsets)
        rng = np.random.default_rng(self.random_state)
        n, n_bands = len(y), offsets[-1]
        draws = np.full((self.n_bootstrap, n_bands), np.nan)
        # A resample is the training leads weighted by how often each is
        # drawn; the refits start from the sheet's own solution. With few
        # leads a band, refits solved together (on the sheet's Hessian) are
        # faster than one by one (each on its own Hessian, of n_bands^2
        # entries); with many, one by one is.
        together = n < TOGETHER_LEADS_PER_BAND * n_bands
        batch = max(1, BOOTSTRAP_CELLS // max(n, 1)) if together else 1
        for first in range(0, self.n_bootstrap, batch):
            rows = range(first, min(first + batch, self.n_bootstrap))
            times = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in rows])
            times = times.astype(np.float64)
            weights = w * times if together else w * times[0]
            coef = np.atleast_2d(model.fit_codes(codes, y, weights)[0]).copy()
            for j in range(codes.shape[1]):
                # Bands no lead of a resample is drawn into have no refitted weight.
                drawn = np.stack([np.bincount(codes[:, j], t, minlength=sizes[j]) for t in times])
                coef[:, offsets[j] : offsets[j + 1]][drawn == 0] = np.nan
            for block, ref in zip(blocks, reference, strict=True):
                draws[first : rows.stop, block] = self.factor_ * (coef[:, block] - coef[:, [ref]])
        # Basic (pivotal) interval around the sheet's own unrounded points:
        # the penalty shrinks every refit again, so the spread of the refits
        # around the estimate also corrects most of the shrinkage bias.
        estimate = np.full(n_bands, np.nan)
        coef = self.model_.coef_
        for block, ref in zip(blocks, reference, strict=True):
            estimate[block] = self.factor_ * (coef[block] - coef[ref])
        seen = np.isfinite(draws).any(axis=0)
        low, high = np.full(n_bands, np.nan), np.full(n_bands, np.nan)
        q_low, q_high = np.nanpercentile(draws[:, seen], [2.5, 97.5], axis=0)
        low[seen] = 2 * estimate[seen] - q_high
        high[seen] = 2 * estimate[seen] - q_low
        return low, high

    def _ordered_blocks(self, binner, offsets) -> list:
        """Point indices of every monotone criterion's ordered bands, with the direction."""
        blocks = []
        for k, criterion in enumerate(binner.criteria_):
            direction = self.model_.monotone_.get(criterion.name)
            if direction is None:
                continue
            order = self.model_.ordered_bands(criterion.name)
            sign = 1 if direction == "increasing" else -1
            blocks.append((offsets[k] + np.asarray(order, dtype=np.int64), sign))
        return blocks

    def predict_score(self, X: pd.DataFrame) -> np.ndarray:
        """Integer score of every lead: base points plus its points, clipped to the scale.

        Parameters
        ----------
        X : pandas.DataFrame
            Lead attributes.

        Returns
        -------
        ndarray of int64
        """
        return self._scores_from_codes(self._codes(X))

    def score_breakdown(self, X: pd.DataFrame) -> pd.DataFrame:
        """Points of every lead in every criterion, one column per criterion.

        A lead's score is ``base_points_`` plus the row's sum, clipped to the
        scale (what :meth:`predict_score` gives).
        """
        codes = self._codes(X)
        return pd.DataFrame(
            {
                c.name: self._band_points_[self._offsets_[j] + codes[:, j]]
                for j, c in enumerate(self.criteria_)
            },
            index=X.index,
        )

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The unrounded model's probabilities of lost and won."""
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(X)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The unrounded model's log-odds."""
        check_is_fitted(self, "model_")
        return self.model_.decision_function(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Whether each lead is more likely won than lost, by the unrounded model."""
        return self.decision_function(X) > 0

    def _codes(self, X) -> np.ndarray:
        check_is_fitted(self, "criteria_")
        X = check_frame(X)
        check_columns(X, self.feature_names_in_)
        return self.model_.encode(X)

    def _scores_from_codes(self, codes: np.ndarray) -> np.ndarray:
        sizes = np.diff(self._offsets_)
        total = band_sum(self._band_points_, codes, sizes, start=self.base_points_)
        return np.clip(total, self.min_score, self.max_score)


def _reference_bands(model, coef, blocks) -> list[int]:
    """The band earning 0 points in every criterion.

    Fit (explicit) criteria: the band of lowest weight, so their points are
    never negative. Behaviour (implicit) criteria: "did nothing" earns 0, so
    that behaviour earns points for what it adds or costs (an unsubscribe
    earns negative points): the missing band when it holds leads (e.g. days
    since the last activity, for a lead with none), else the band holding 0,
    else the lowest weight. Pair rules: "otherwise" earns 0, so the rule's
    points are what it adds to its two criteria's.
    """
    n_leads = model.band_coef_["n_leads"].to_numpy()
    reference = []
    for criterion, block in zip(model.criteria_, blocks, strict=True):
        start = block.start
        if isinstance(criterion, PairCriterion):
            reference.append(start + OTHERWISE)
            continue
        lowest = start + int(np.argmin(coef[block]))
        chosen = lowest
        if criterion.group == "implicit":
            missing = start + criterion.missing_index
            zero = [
                start + i
                for i, band in enumerate(criterion.bands)
                if band.contains_number(0.0) or band.values == ("false",)
            ]
            if n_leads[missing] > 0:
                chosen = missing
            elif zero and n_leads[zero[0]] > 0:
                chosen = zero[0]
        reference.append(chosen)
    return reference


def _tau(a, b) -> float:
    from scipy.stats import kendalltau

    tau = float(kendalltau(a, b).statistic)
    return 0.0 if np.isnan(tau) else tau  # constant scores rank nothing


class _KendallTracker:
    """Kendall's tau-b between a fixed target and integer scores, move by move.

    The rounding search tries hundreds of moves that add one point to (or
    take one from) the leads of a single band. Recomputing tau costs
    ``O(n log n)`` a move; this keeps ``S``, the number of concordant minus
    discordant pairs, and updates it from the moved leads alone: moving a
    lead's score ``y`` up by one changes only its pairs with the unmoved
    leads scoring ``y`` or ``y + 1``, each by ``-sign(x_other - x_lead)``
    (and symmetrically for a move down). Those counts are a few binary
    searches in the leads sorted by (score, target rank).

    Parameters
    ----------
    target : ndarray of float
        The values whose order the scores should keep.
    raw : ndarray of int
        Scores before clipping to ``[low, high]``.
    low, high : int
        The scale.
    """

    def __init__(self, target, raw, low: int, high: int):
        from scipy.stats import kendalltau

        n = len(target)
        self._rank = np.unique(np.asarray(target, dtype=float), return_inverse=True)[1]
        ties = np.bincount(self._rank).astype(np.int64)
        self._pairs = n * (n - 1) // 2
        self._untied_target = self._pairs - int((ties * (ties - 1) // 2).sum())
        self._width = n + 1  # rank < width: (score, rank) packs into one key
        self._low, self._high = int(low), int(high)
        self._raw = np.asarray(raw, dtype=np.int64).copy()
        self._y = np.clip(self._raw, low, high)
        self._counts = np.bincount(self._y - low, minlength=high - low + 1).astype(np.int64)
        self._keys = np.sort(self._y * self._width + self._rank)
        self._starts = _starts(self._counts)
        # S exactly, from scipy's tau-b (an integer, recovered by rounding).
        tau = float(kendalltau(target, self._y).statistic)
        self._s = 0 if np.isnan(tau) else int(round(tau * self._denominator(self._counts)))
        self._pending = None

    @property
    def tau(self) -> float:
        """Tau-b of the current scores (0 when either side is constant)."""
        return self._tau(self._s, self._counts)

    def _denominator(self, counts) -> float:
        untied_scores = self._pairs - int((counts * (counts - 1) // 2).sum())
        return float(np.sqrt(float(self._untied_target) * float(untied_scores)))

    def _tau(self, s, counts) -> float:
        denominator = self._denominator(counts)
        return 0.0 if denominator == 0 else s / denominator

    def _net_above(self, keys, starts, queries) -> int:
        """For queries ``score * width + rank`` (sorted): the leads in ``keys``
        (sorted, ``starts`` indexing where each score begins) with that score
        ranked above, minus those ranked below, summed over the queries."""
        values = queries // self._width - self._low
        below = np.searchsorted(keys, queries, side="left") - starts[values]
        above = starts[values + 1] - np.searchsorted(keys, queries, side="right")
        return int(above.sum() - below.sum())

    def propose(self, members, step: int) -> float:
        """Tau if the raw scores of ``members`` moved by ``step`` (+1 or -1)."""
        raw = self._raw[members] + step
        new = np.clip(raw, self._low, self._high)
        moved = new != self._y[members]
        rows, old = members[moved], self._y[members][moved]
        keys = np.sort(old * self._width + self._rank[rows])
        shifted = keys + step * self._width
        # A moved lead's pairs change with the leads scoring what it scores
        # or what it moves to, unless both leads move: then only pairs one
        # score apart count, those of equal scores cancel out.
        size = len(self._counts)
        moved_counts = np.bincount(old - self._low, minlength=size)
        net = (
            self._net_above(self._keys, self._starts, keys)
            + self._net_above(self._keys, self._starts, shifted)
            - self._net_above(keys, _starts(moved_counts), shifted)
        )
        s = self._s - step * net
        counts = self._counts - moved_counts + np.bincount(old + step - self._low, minlength=size)
        self._pending = (members, raw, rows, new[moved], s, counts)
        return self._tau(s, counts)

    def accept(self) -> None:
        """Keep the last proposed move."""
        members, raw, rows, new, s, counts = self._pending
        self._raw[members] = raw
        self._y[rows] = new
        self._s, self._counts = s, counts
        self._keys = np.sort(self._y * self._width + self._rank)
        self._starts = _starts(counts)
        self._pending = None


def _starts(counts) -> np.ndarray:
    """Where each score's leads begin among leads sorted by score (and the end)."""
    return np.concatenate([[0], np.cumsum(counts)])


def rank_preserving_points(
    points,
    base,
    band_index,
    eta,
    *,
    min_score=0,
    max_score=100,
    sample=5000,
    random_state=None,
    sweeps=3,
    ordered=(),
    offsets=None,
):
    """Integer points that keep the unrounded ranking of leads best.

    Rounding each band to the nearest integer minimises the distance to the
    unrounded points, not the damage to the ranking. This search maximises
    Kendall's tau between the integer scores and the unrounded log-odds on
    (a sample of) training leads:

    1. scale all points by a factor ``s`` in [0.9, 1.1] around the middle of
       the scale, round, and keep the ``s`` of highest tau;
    2. then move single bands by one point, keeping every move that raises
       tau, for up to ``sweeps`` passes.

    Parameters
    ----------
    points : ndarray of shape (n_bands,)
        Unrounded points.
    base : float
        Unrounded base points.
    band_index : ndarray of shape (n_leads, n_criteria)
        Index (into ``points``) of every training lead's band in each criterion.
    eta : ndarray of shape (n_leads,)
        Unrounded log-odds of the training leads.
    min_score, max_score : int
        The scale; scores are clipped to it.
    sample : int
        Most leads used in the search.
    ordered : sequence of (ndarray, int)
        Point indices that must stay in order, with the direction (1 for
        increasing, -1 for decreasing): moves breaking an order are refused.
    offsets : ndarray of shape (n_criteria,), optional
        Where each criterion's bands start in ``points``. Given, ``band_index``
        holds band codes within each criterion (``offsets[j]`` is added to
        column ``j`` of the sampled leads only, sparing a copy of a million
        leads' codes).

    Returns
    -------
    int_points : ndarray of int64
    base : int
    info : dict
        ``method``, ``scale``, ``tau_nearest`` and ``tau``.

    Examples
    --------
    >>> pts = np.array([0.0, 0.5, 0.0, 0.5])
    >>> idx = np.array([[0, 2], [1, 2], [0, 3], [1, 3]])
    >>> eta = np.array([0.0, 1.0, 1.1, 2.0])
    >>> ints, b, info = rank_preserving_points(pts, 50.0, idx, eta)
    >>> info["tau"] >= info["tau_nearest"]
    True
    """
    rng = np.random.default_rng(random_state)
    n = len(eta)
    rows = np.sort(rng.choice(n, sample, replace=False)) if n > sample else np.arange(n)
    index, target = band_index[rows], eta[rows]
    if offsets is not None:
        index = index + np.asarray(offsets)[None, :]
    middle = (min_score + max_score) / 2

    def score(ints, b):
        return np.clip(b + ints[index].sum(axis=1), min_score, max_score)

    nearest = np.rint(points).astype(np.int64)
    nearest_base = int(np.rint(base))
    tau_nearest = _tau(target, score(nearest, nearest_base))
    best = (tau_nearest, 1.0, nearest, nearest_base)
    for s in np.round(np.arange(0.90, 1.1001, 0.01), 2):
        ints = np.rint(s * points).astype(np.int64)
        b = int(np.rint(s * base + (1 - s) * middle))
        tau = _tau(target, score(ints, b))
        if tau > best[0] + 1e-12 or (
            abs(tau - best[0]) <= 1e-12 and abs(s - 1) < abs(best[1] - 1)
        ):
            best = (tau, float(s), ints, b)
    tau, scale, ints, b = best
    ints = ints.copy()
    tracker = _KendallTracker(target, b + ints[index].sum(axis=1), min_score, max_score)
    # The sample leads in every band (each lead is in one band a criterion).
    flat = index.ravel(order="F")
    by_band = np.argsort(flat, kind="stable")
    members = np.split(np.tile(np.arange(len(index)), index.shape[1])[by_band],
                       np.cumsum(np.bincount(flat, minlength=len(points)))[:-1])  # fmt: skip
    used = np.unique(index)
    for _ in range(sweeps):
        improved = False
        for j in rng.permutation(used):
            if points[j] == 0 and ints[j] == 0:
                continue  # a reference band stays at 0
            for step in (1, -1):
                ints[j] += step
                in_order = all(
                    np.all(sign * np.diff(ints[idx]) >= 0) for idx, sign in ordered if j in idx
                )
                candidate = tracker.propose(members[j], step) if in_order else -np.inf
                if candidate > tau + 1e-12:
                    tracker.accept()
                    tau, improved = candidate, True
                    break
                ints[j] -= step
        if not improved:
            break
    if tau != best[0]:
        tau = _tau(target, score(ints, b))  # the tracker's, in scipy's rounding
    return (
        ints,
        b,
        {
            "method": "rank",
            "scale": scale,
            "tau_nearest": tau_nearest,
            "tau": tau,
        },
    )
