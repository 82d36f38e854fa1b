"""Model: a regularised logistic regression on the criteria's bands.

:class:`LeadScoreModel` learns one weight (log-odds) per band of every
criterion, with the strength of the L2 penalty chosen by cross-validated log
loss. :func:`split_holdout` keeps a hold-out for honest evaluation: the
latest leads when a date is known, a stratified random share otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils.validation import check_is_fitted

from ._check_input import check_frame, check_sample_weight, check_target
from ._params import check_params, integer, optional
from .errors import DataError
from .features import LeadBinner

__all__ = ["LeadScoreModel", "evaluate_probabilities", "split_holdout"]

#: Relative log-loss slack when choosing the penalty (see LeadScoreModel.fit): a
#: weaker penalty shrinks small bands less, which the sheet's points and their
#: bootstrap intervals need, at a log-loss cost within this share.
CV_TOLERANCE = 5e-3


class LeadScoreModel(ClassifierMixin, BaseEstimator):
    """Regularised logistic regression on banded lead attributes.

    Parameters
    ----------
    binner : LeadBinner, optional
        How attributes are cut into bands; a default :class:`LeadBinner`
        when None. It is cloned and fitted on the training leads.
    Cs : int, default=12
        Number of penalty strengths tried, log-spaced between 1e-3 and 1e2;
        1 means C=1 without cross-validation.
    cv : int, default=5
        Folds of the stratified cross-validation that picks the penalty.
    max_iter : int, default=1000
        Iteration limit of the solver.
    random_state : int, optional
        Seed of the fold shuffling.

    Attributes
    ----------
    binner_ : LeadBinner
        The fitted binner.
    coef_ : ndarray of shape (n_bands,)
        Log-odds weight of every band, in ``binner_.get_feature_names_out()``
        order. Bands without training leads get their criterion's average
        weight, so an unseen category scores as an average lead.
    intercept_ : float
        Log-odds of a lead with zero weight in every criterion.
    C_ : float
        Inverse penalty strength: the largest C (weakest penalty) whose
        cross-validated log loss is within 0.5% of the best.
    cv_log_loss_ : pandas.DataFrame
        Mean cross-validated log loss for every C tried.
    band_coef_ : pandas.DataFrame
        One row per band: criterion, group, band, coef and training counts.
    monotone_ : dict
        ``{criterion: "increasing" | "decreasing"}``: the order each
        monotone criterion's weights follow (the binner's ``monotone``
        settings, with "auto" resolved from the data). Adjacent bands that
        broke the order were merged and the model refitted.
    classes_ : ndarray
        ``[False, True]``.
    feature_names_in_ : ndarray of str
        Input columns.

    Examples
    --------
    >>> from calibrate.datasets import make_leads
    >>> leads = make_leads(2000, seed=0)
    >>> X, y = leads[["seniority", "webinars_attended"]], leads["converted"]
    >>> model = LeadScoreModel(random_state=0).fit(X, y)
    >>> model.predict_proba(X.head(2)).shape
    (2, 2)
    """

    _rules = {
        "Cs": integer(1),
        "cv": integer(2),
        "max_iter": integer(1),
        "random_state": optional(integer(0)),
    }

    def __init__(self, *, binner=None, Cs=12, cv=5, max_iter=1000, random_state=None):
        self.binner = binner
        self.Cs = Cs
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y, sample_weight=None):
        """Learn the bands and their weights.

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
        self : LeadScoreModel
        """
        check_params(self, self._rules)
        X = check_frame(X)
        y = check_target(y, len(X))
        w = check_sample_weight(sample_weight, len(y))
        binner = LeadBinner() if self.binner is None else clone(self.binner)
        self.binner_ = binner.fit(X, y, sample_weight=w)
        design = self.binner_.one_hot(X)
        # Bands without training leads are all-zero columns: leave them out of
        # the solver (they would only make its Hessian singular).
        used = np.flatnonzero(self.binner_.band_stats_["n_leads"].to_numpy() > 0)
        design = design[:, used]
        grid = np.logspace(-3, 2, self.Cs) if self.Cs > 1 else np.array([1.0])
        self.cv_log_loss_ = self._cross_validate(design, y, w, grid)
        losses = self.cv_log_loss_["log_loss"].to_numpy()
        if len(grid) == 1:
            self.C_ = float(grid[0])
        else:
            # The weakest penalty within 0.5% of the best log loss: the CV
            # curve is flat near its minimum, and a weaker penalty shrinks
            # small bands less, so their points (and intervals) are honest.
            near = np.flatnonzero(losses <= losses.min() * (1 + CV_TOLERANCE))
            self.C_ = float(grid[near.max()])
        self._fit_final(X, y, w)
        self.monotone_ = self._resolve_directions()
        # Pool adjacent bands that break a required order, one pair at a
        # time (the worst first), refitting after each, until none does.
        for _ in range(sum(len(c.bands) for c in self.binner_.criteria_)):
            worst = self._worst_violation()
            if worst is None:
                break
            self.binner_.merge_bands(*worst)
            self._fit_final(X, y, w)
        self.classes_ = np.array([False, True])
        self.feature_names_in_ = self.binner_.feature_names_in_
        self.n_features_in_ = self.binner_.n_features_in_
        self.band_coef_ = self.binner_.band_stats_.assign(coef=self.coef_)
        return self

    def _fit_final(self, X, y, w) -> None:
        design = self.binner_.one_hot(X)
        used = np.flatnonzero(self.binner_.band_stats_["n_leads"].to_numpy() > 0)
        final = self._logistic(self.C_).fit(design[:, used], y, sample_weight=w)
        coef = np.zeros(len(self.binner_.band_stats_))
        coef[used] = final.coef_[0]
        self.intercept_ = float(final.intercept_[0])
        self.coef_ = self._fill_empty_bands(coef)

    def _ordered(self, criterion):
        """Positions (in the criterion) of the bands that carry an order."""
        kinds = {"range"} if criterion.kind == "numeric" else {"levels"}
        return [i for i, b in enumerate(criterion.bands) if b.kind in kinds]

    def _resolve_directions(self) -> dict:
        """``{criterion: "increasing" | "decreasing"}`` for every monotone criterion."""
        wanted = dict(self.binner_.monotone or {})
        offsets = self.binner_.band_offsets()
        n_leads = self.binner_.band_stats_["n_leads"].to_numpy()
        directions = {}
        for k, criterion in enumerate(self.binner_.criteria_):
            rule = wanted.get(criterion.column)
            if rule is None:
                continue
            if isinstance(rule, list | tuple):
                rule = "increasing"
            if rule == "auto":
                order = [offsets[k] + i for i in self._ordered(criterion)]
                weights = n_leads[order]
                if len(order) < 2 or weights.sum() == 0:
                    continue
                x = np.arange(len(order), dtype=float)
                slope = np.cov(x, self.coef_[order], aweights=weights + 1e-12)[0, 1]
                rule = "increasing" if slope >= 0 else "decreasing"
            if rule not in ("increasing", "decreasing"):
                raise DataError(
                    f"monotone rule for {criterion.column!r} must be increasing, decreasing, "
                    f"auto or a list of levels; got {rule!r}"
                )
            directions[criterion.name] = rule
        return directions

    def _worst_violation(self):
        offsets = self.binner_.band_offsets()
        worst, size = None, 1e-9
        for k, criterion in enumerate(self.binner_.criteria_):
            direction = self.monotone_.get(criterion.name)
            if direction is None:
                continue
            order = self._ordered(criterion)
            coef = self.coef_[[offsets[k] + i for i in order]]
            step = np.diff(coef) if direction == "increasing" else -np.diff(coef)
            for j, drop in enumerate(-step):
                if drop > size:
                    worst, size = (criterion.name, order[j]), drop
        return worst

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds of winning for every lead."""
        check_is_fitted(self, "coef_")
        return self.binner_.one_hot(check_frame(X)) @ self.coef_ + self.intercept_

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of lost and won, shape (n_leads, 2)."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Whether each lead is more likely won than lost."""
        return self.decision_function(X) > 0

    def _logistic(self, C: float, warm_start: bool = False) -> LogisticRegression:
        # Newton-Cholesky converges in a handful of steps on one-hot designs,
        # whose columns are few next to the rows.
        return LogisticRegression(
            C=C,
            solver="newton-cholesky",
            max_iter=self.max_iter,
            tol=1e-8,
            warm_start=warm_start,
        )

    def _cross_validate(self, design, y, w, grid) -> pd.DataFrame:
        if len(grid) == 1:
            return pd.DataFrame({"C": grid, "log_loss": [np.nan]})
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        losses = np.zeros((self.cv, len(grid)))
        for k, (train, test) in enumerate(folds.split(design, y)):
            # Walk from the strongest penalty to the weakest, each fit
            # starting from the previous solution.
            path = self._logistic(grid[0], warm_start=True)
            for j, C in enumerate(grid):
                path.set_params(C=C).fit(design[train], y[train], sample_weight=w[train])
                p = path.predict_proba(design[test])[:, 1]
                losses[k, j] = log_loss(y[test], p, sample_weight=w[test], labels=[0, 1])
        return pd.DataFrame({"C": grid, "log_loss": losses.mean(axis=0)})

    def _fill_empty_bands(self, coef: np.ndarray) -> np.ndarray:
        stats = self.binner_.band_stats_
        n = stats["n_leads"].to_numpy()
        offsets = self.binner_.band_offsets()
        for start, stop in zip(offsets[:-1], offsets[1:], strict=True):
            block, counts = coef[start:stop], n[start:stop]
            if counts.sum() > 0 and (counts == 0).any():
                block[counts == 0] = np.average(block, weights=counts)
        return coef


def split_holdout(
    y, *, fraction: float = 0.3, dates=None, random_state: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the training and hold-out leads.

    Parameters
    ----------
    y : array-like of bool
        Outcomes, used to stratify a random split.
    fraction : float, default=0.3
        Share of leads held out, in (0, 1).
    dates : array-like of datetime, optional
        When given, the hold-out is the latest ``fraction`` of leads (ties
        broken by row order), so the model is judged on leads it could not
        have seen. Otherwise the split is random and stratified.
    random_state : int, optional
        Seed of the random split.

    Returns
    -------
    train, holdout : ndarray of int
        Sorted row positions.

    Raises
    ------
    DataError
        When either part would hold a single class.

    Examples
    --------
    >>> y = np.array([0, 1] * 10)
    >>> train, holdout = split_holdout(y, fraction=0.25, dates=np.arange(20))
    >>> holdout.tolist()
    [15, 16, 17, 18, 19]
    """
    y = np.asarray(y).astype(bool)
    if not 0 < fraction < 1:
        raise DataError(f"the hold-out fraction must be between 0 and 1, got {fraction}")
    n = len(y)
    n_holdout = int(round(fraction * n))
    if n_holdout < 2 or n - n_holdout < 2:
        raise DataError(f"{n} leads are too few to hold out {fraction:.0%} of them")
    positions = np.arange(n)
    if dates is not None:
        order = np.argsort(pd.Series(dates).to_numpy(), kind="stable")
        train, holdout = np.sort(order[: n - n_holdout]), np.sort(order[n - n_holdout :])
        how = "latest"
    else:
        try:
            train, holdout = train_test_split(
                positions, test_size=n_holdout, stratify=y, random_state=random_state
            )
        except ValueError as exc:
            raise DataError(f"cannot split the leads into training and hold-out: {exc}") from None
        train, holdout = np.sort(train), np.sort(holdout)
        how = "random"
    for name, part in (("training", train), (f"hold-out ({how} leads)", holdout)):
        if len(np.unique(y[part])) < 2:
            raise DataError(
                f"the {name} part of the split holds only {'won' if y[part][0] else 'lost'} "
                "leads; use more data or another --holdout fraction"
            )
    return train, holdout


def evaluate_probabilities(y, p) -> dict:
    """Hold-out quality of predicted win probabilities.

    Returns
    -------
    dict
        ``auc``, ``log_loss``, ``brier`` and ``win_rate`` (base rate).

    Examples
    --------
    >>> evaluate_probabilities([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])["auc"]
    0.75
    """
    y = np.asarray(y).astype(int)
    p = np.clip(np.asarray(p, float), 1e-15, 1 - 1e-15)
    return {
        "auc": float(roc_auc_score(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "win_rate": float(y.mean()),
    }
