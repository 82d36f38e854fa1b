"""Model: a regularised logistic regression on the criteria's bands.

:class:`LeadScoreModel` learns one weight (log-odds) per band of every
criterion, with the strength of the L2 penalty chosen by cross-validated log
loss. :func:`split_holdout` keeps a hold-out for honest evaluation: the
latest leads when a date is known, a stratified random share otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils.validation import check_is_fitted

from ..errors import DataError
from ..sheet.pairs import PairCriterion
from ..validation import (
    boolean,
    check_frame,
    check_params,
    check_sample_weight,
    check_target,
    instance_of,
    integer,
    mapping,
    optional,
    real,
    sequence,
)
from ._band_logistic import band_sum, fit_band_logistic, refit_band_logistic
from .band_counts import choose_range_counts, fold_rows
from .binning import LeadBinner
from .pairs import PAIR_SEARCH_COLUMNS, PAIR_Z, search_pairs

__all__ = [
    "LeadScoreModel",
    "auc_interval",
    "check_evidence",
    "evaluate_probabilities",
    "outcomes_needed",
    "split_holdout",
]

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
    monotone : dict, optional
        ``{column: "increasing" | "decreasing" | "auto" | [levels in order]}``:
        criteria whose weights (so points) must follow the order of their
        bands. "auto" takes the direction the unconstrained weights lean to.
        A list orders a categorical criterion's levels, lowest first (the
        binner's ``level_order``), and makes it increasing; levels not listed
        go to "Other".
    Cs : int, default=12
        Number of penalty strengths tried, log-spaced between 1e-3 and 1e2;
        1 means C=1 without cross-validation.
    cv : int, default=5
        Folds of the stratified cross-validation that picks the penalty.
    max_cv_leads : int, default=20000
        Most training leads used to pick the penalty (a stratified sample
        beyond that). The penalty is a prior on the band weights, so it
        carries over to the full data, where it matters even less; the
        weights themselves are always fitted on every training lead.
    choose_bins : bool, default=False
        Choose every numeric criterion's number of ranges, from 2 to the
        binner's ``max_bins``, by cross-validation
        (:func:`calibrate.learn.band_counts.choose_range_counts`). False
        keeps the binner's.
    max_iter : int, default=100
        Newton steps allowed to the solver.
    tol : float, default=1e-8
        Convergence of the solver: its largest gradient entry per unit of
        total lead weight.
    max_pairs : int, default=0
        Most pair rules ("seniority in VP|C-level and company_size >= 500")
        added to the additive sheet; 0 adds none. Pairs are screened on the
        additive model's residuals (:func:`calibrate.learn.pairs.search_pairs`)
        and added one at a time, each the candidate of lowest
        cross-validated log loss, while one lowers it by ``pair_margin`` and
        by two standard errors of the lead-by-lead difference.
    pair_margin : float, default=0.002
        Share of the cross-validated log loss a pair rule must remove to be kept.
    pairs : list of PairCriterion, optional
        Pair rules fitted as they are instead of searched for (a refit that
        keeps a sheet's structure gives its old ones); ``max_pairs`` is then
        not read. Each rule's two criteria must come out of the binner with
        the bands the rule names (the binner's ``fixed``).
    random_state : int, optional
        Seed of the fold shuffling.

    Attributes
    ----------
    binner_ : LeadBinner
        The fitted binner.
    criteria_ : list of Criterion and PairCriterion
        The binner's criteria, then the pair rules kept.
    pairs_ : list of PairCriterion
        The pair rules kept, in the order they were added.
    pair_search_ : pandas.DataFrame
        Every pair rule judged or refused: step, pair, rule, gain (of the
        residual screen), cv_log_loss (out of fold, each fold adding its own
        best rule; NaN for a rule refused because it breaks a monotone
        order), the log loss before it, z (the improvement over its
        standard error) and kept.
    coef_ : ndarray of shape (n_bands,)
        Log-odds weight of every band, in ``binner_.get_feature_names_out()``
        order, then the cells of every pair rule. Bands without training
        leads get their criterion's average weight, so an unseen category
        scores as an average lead.
    intercept_ : float
        Log-odds of a lead with zero weight in every criterion.
    C_ : float
        Inverse penalty strength: the largest C (weakest penalty) whose
        cross-validated log loss is within 0.5% of the best.
    range_counts_ : dict
        ``{criterion: ranges}`` of every numeric criterion whose number of
        ranges was chosen (``choose_bins``); empty otherwise.
    cv_log_loss_ : pandas.DataFrame
        Mean cross-validated log loss for every C; NaN for the strong
        penalties the path did not need to reach (see ``_cross_validate``).
    band_coef_ : pandas.DataFrame
        One row per band: criterion, group, band, coef and training counts.
    monotone_ : dict
        ``{criterion: "increasing" | "decreasing"}``: the order each
        monotone criterion's weights follow (the ``monotone`` parameter,
        with "auto" resolved from the data). Adjacent bands that
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
        "binner": optional(instance_of(LeadBinner)),
        "monotone": optional(mapping()),
        "Cs": integer(1),
        "cv": integer(2),
        "max_cv_leads": integer(100),
        "choose_bins": boolean(),
        "max_iter": integer(1),
        "tol": real(0, 1, low_open=True),
        "max_pairs": integer(0),
        "pair_margin": real(0, 1),
        "pairs": optional(sequence(instance_of(PairCriterion))),
        "random_state": optional(integer(0)),
    }

    def __init__(
        self,
        *,
        binner=None,
        monotone=None,
        Cs=12,
        cv=5,
        max_cv_leads=20_000,
        choose_bins=False,
        max_iter=100,
        tol=1e-8,
        max_pairs=0,
        pair_margin=0.002,
        pairs=None,
        random_state=None,
    ):
        self.binner = binner
        self.monotone = monotone
        self.Cs = Cs
        self.cv = cv
        self.max_cv_leads = max_cv_leads
        self.choose_bins = choose_bins
        self.max_iter = max_iter
        self.tol = tol
        self.max_pairs = max_pairs
        self.pair_margin = pair_margin
        self.pairs = pairs
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
        self.fit_encode(X, y, sample_weight)
        return self

    def fit_encode(self, X: pd.DataFrame, y, sample_weight=None) -> np.ndarray:
        """:meth:`fit`, and give the training leads' band codes (after pooling).

        The codes equal ``encode(X)``; a caller that needs them (the points
        sheet) is spared encoding a million leads twice.

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
        codes : ndarray of int of shape (n_leads, n_criteria)
            Band of every training lead in every criterion, indexing
            ``binner_.criteria_[j].bands``.

        Examples
        --------
        >>> from calibrate.datasets import make_leads
        >>> leads = make_leads(2000, seed=0)
        >>> X, y = leads[["seniority", "webinars_attended"]], leads["converted"]
        >>> model = LeadScoreModel(Cs=1)
        >>> codes = model.fit_encode(X, y)
        >>> bool((codes == model.encode(X)).all())
        True
        """
        check_params(self, self._rules)
        X = check_frame(X)
        y = check_target(y, len(X))
        w = check_sample_weight(sample_weight, len(y))
        binner = LeadBinner() if self.binner is None else clone(self.binner)
        orders = {c: r for c, r in (self.monotone or {}).items() if isinstance(r, list | tuple)}
        if orders:
            binner.set_params(level_order={**(binner.level_order or {}), **orders})
        codes = np.array(binner.fit_transform(X, y, sample_weight=w).to_numpy(), dtype=np.intp)
        self.binner_ = binner
        self.pairs_ = []
        fold_fits = self._choose_penalty(codes, y, w)
        self.range_counts_ = {}
        if self.choose_bins:
            codes = self._choose_range_counts(X, codes, y, w, fold_fits)
        self._fit_codes(codes, y, w)
        self.monotone_ = self._resolve_directions()
        # Pool adjacent bands that break a required order, the worst pair of
        # every such criterion at a time, refitting after each round, until
        # none does.
        for _ in range(sum(len(c.bands) for c in self.binner_.criteria_)):
            worst = self._worst_violations()
            if not worst:
                break
            coef = self.coef_
            for name, first in worst:
                coef = self._merge(codes, coef, name, first)
            self._fit_codes(codes, y, w, init=(coef, self.intercept_))
        self.criteria_ = list(self.binner_.criteria_)
        self.pair_search_ = pd.DataFrame(columns=PAIR_SEARCH_COLUMNS)
        if self.pairs:
            codes = self._with_given_pairs(codes, y, w)
        elif self.max_pairs:
            codes, found = search_pairs(self, codes, y, w, self._folds(y))
            self.pair_search_ = found.log
            if found.pairs:
                self.pairs_ = list(found.pairs)
                self.criteria_ += found.pairs
                fit = found.fit
                self.coef_, self.intercept_, self._solution_ = fit.coef, fit.intercept, fit
        self.classes_ = np.array([False, True])
        self.feature_names_in_ = self.binner_.feature_names_in_
        self.n_features_in_ = self.binner_.n_features_in_
        self.band_coef_ = pd.concat(
            [self.binner_.band_stats_, _pair_stats(self.pairs_, codes, y, w)], ignore_index=True
        ).assign(coef=self.coef_)
        return codes

    def _choose_penalty(self, codes, y, w) -> list[tuple[np.ndarray, float]]:
        """Set ``C_`` and ``cv_log_loss_`` by cross-validation on the current bands.

        Gives every fold's fit at ``C_`` (``(coef, intercept)``, fitted on the
        fold's training leads).
        """
        grid = np.logspace(-3, 2, self.Cs) if self.Cs > 1 else np.array([1.0])
        self.cv_log_loss_, fits = self._cross_validate(codes, y, w, grid)
        losses = self.cv_log_loss_["log_loss"].to_numpy()
        if len(grid) == 1:
            self.C_ = float(grid[0])
            return self._fold_fits(codes, y, w, self.C_)
        # The weakest penalty within 0.5% of the best log loss: the CV
        # curve is flat near its minimum, and a weaker penalty shrinks
        # small bands less, so their points (and intervals) are honest.
        near = np.flatnonzero(losses <= np.nanmin(losses) * (1 + CV_TOLERANCE))
        self.C_ = float(grid[near.max()])
        return fits[near.max()]

    def _choose_range_counts(self, X, codes, y, w, fold_fits) -> np.ndarray:
        """Cut every numeric criterion into its cross-validated number of ranges.

        Sets ``range_counts_`` and, with fewer ranges anywhere, ``binner_``;
        gives the new codes. ``fold_fits`` are the folds' additive models on
        the finest bands, each fitted on its fold's training leads.
        """
        counts = choose_range_counts(
            self.binner_, X, codes, y, w, fold_fits, self._folds(y), self.C_
        )
        binner, lookup = self.binner_.with_range_counts(counts)
        self.range_counts_ = {
            c.name: sum(b.kind == "range" for b in c.bands)
            for c in binner.criteria_
            if c.name in counts
        }
        if not lookup:
            return codes
        position = {c.name: k for k, c in enumerate(self.binner_.criteria_)}
        for name, table in lookup.items():
            codes[:, position[name]] = table[codes[:, position[name]]]
        # The penalty chosen on the finer bands is kept: chosen again on the
        # counts of the shared data sets it gave the same or a lower AUC, and
        # it cost a third of the choice's time.
        self.binner_ = binner
        return codes

    def _with_given_pairs(self, codes, y, w) -> np.ndarray:
        """Fit the ``pairs`` given on top of the bands: the codes with their cells."""
        by_name = {c.name: c for c in self.binner_.criteria_}
        for pair in self.pairs:
            for condition in (pair.first, pair.second):
                own = by_name.get(condition.criterion.name)
                if own is None or _band_texts(own) != _band_texts(condition.criterion):
                    raise DataError(
                        f"pair rule {pair.name!r} reads criterion "
                        f"{condition.criterion.name!r} with bands "
                        f"{_band_texts(condition.criterion)}, but the binner gives "
                        + ("no such criterion" if own is None else f"{_band_texts(own)}")
                        + ": fix its bands (the binner's `fixed`)"
                    )
        codes = self._with_pairs(codes, self.pairs)
        self.pairs_ = list(self.pairs)
        self.criteria_ += self.pairs_
        start = (np.append(self.coef_, np.zeros(2 * len(self.pairs_))), self.intercept_)
        self._fit_codes(codes, y, w, init=start)
        return codes

    def describe_pairs(self) -> str | None:
        """The pair search in one sentence: how many rules it judged and kept; None without one.

        Examples
        --------
        >>> from calibrate.datasets import make_leads
        >>> leads = make_leads(2000, seed=0)
        >>> X, y = leads[["seniority", "webinars_attended"]], leads["converted"]
        >>> print(LeadScoreModel(max_pairs=2, random_state=0).fit(X, y).describe_pairs())
        ... # doctest: +NORMALIZE_WHITESPACE
        Pair rules: none kept; the one judged did not lower the cross-validated log loss by 0.2%
        and by 2 standard errors.
        """
        check_is_fitted(self, "coef_")
        kept, judged = len(self.pairs_), int(self.pair_search_["cv_log_loss"].notna().sum())
        if self.pairs:
            return f"Pair rules: {kept} kept from the previous sheet, their points refitted."
        if not self.max_pairs:
            return None
        if not judged:
            return "Pair rules: none kept; no pair of criteria came near the margin in the screen."
        bar = (
            f"the cross-validated log loss by {self.pair_margin:.1%} and by "
            f"{PAIR_Z:g} standard errors"
        )
        if not kept:
            which = "the one judged did not" if judged == 1 else f"of {judged} judged, none"
            return f"Pair rules: none kept; {which} lower{'' if judged == 1 else 'ed'} {bar}."
        most = " (the most allowed)" if kept == self.max_pairs else ""
        return f"Pair rules: {kept} kept{most} of {judged} judged, each lowering {bar}."

    def _sizes(self) -> list[int]:
        pairs = [len(p.cells) for p in self.pairs_]
        return [len(c.bands) for c in self.binner_.criteria_] + pairs

    def band_offsets(self) -> np.ndarray:
        """Start of each criterion's block in ``coef_`` (pair rules last), and the total."""
        check_is_fitted(self, "coef_")
        return np.cumsum([0, *self._sizes()])

    def encode(self, X: pd.DataFrame) -> np.ndarray:
        """Band code of every lead in every criterion, then its cell of every pair rule."""
        check_is_fitted(self, "coef_")
        codes = self.binner_.transform(check_frame(X)).to_numpy()
        return self._with_pairs(codes, self.pairs_)

    def _with_pairs(self, codes, pairs) -> np.ndarray:
        """The criteria's band codes with a column for each pair rule's cell."""
        if not pairs:
            return codes
        position = {c.name: k for k, c in enumerate(self.binner_.criteria_)}
        cells = [
            pair.cell_of(codes[:, position[a.name]], codes[:, position[b.name]])
            for pair in pairs
            for a, b in [pair.criteria]
        ]
        return np.column_stack([codes, *cells]).astype(codes.dtype, copy=False)

    def fit_codes(self, codes, y, sample_weight=None) -> tuple[np.ndarray, float]:
        """Band weights refitted on other leads, or other weights, of the fitted bands.

        The bands and the penalty ``C_`` stay those of the fit; the solver
        starts from the fitted weights. The model itself is unchanged: this
        is a refit for resampling (the points sheet's bootstrap).

        Parameters
        ----------
        codes : ndarray of int of shape (n_leads, n_criteria)
            Band codes, as :meth:`encode` gives.
        y : array-like of bool
            Won (True) or lost.
        sample_weight : array-like of shape (n_leads,) or (n_refits, n_leads), optional
            Weight of each lead (e.g. how often a bootstrap draws it). A 2-D
            array asks for one refit per row; they are solved together, every
            pass over the leads serving all of them.

        Returns
        -------
        coef : ndarray of shape (n_bands,) or (n_refits, n_bands)
            Weight of every band, in ``coef_`` order; bands without leads of
            positive weight keep the penalty's 0 (their criterion's average
            is not filled in).
        intercept : float or ndarray of shape (n_refits,)

        Examples
        --------
        >>> from calibrate.datasets import make_leads
        >>> leads = make_leads(2000, seed=0)
        >>> X, y = leads[["seniority", "webinars_attended"]], leads["converted"]
        >>> model = LeadScoreModel(Cs=1).fit(X, y)
        >>> codes = model.encode(X)
        >>> coef, intercept = model.fit_codes(codes, y, np.full(len(y), 2.0))
        >>> coef.shape == model.coef_.shape, bool(np.isclose(intercept, model.intercept_))
        (True, False)

        Two refits at once, the second the same as the one above:

        >>> coefs, intercepts = model.fit_codes(codes, y, np.stack([np.ones(len(y)),
        ...                                                         np.full(len(y), 2.0)]))
        >>> coefs.shape == (2, *model.coef_.shape), bool(np.allclose(coefs[1], coef, atol=1e-6))
        (True, True)
        """
        check_is_fitted(self, "coef_")
        codes = np.asarray(codes, dtype=np.intp)
        y = check_target(y, len(codes))
        init = (self.coef_, self.intercept_)
        hessian = self._solution_.hessian
        if np.ndim(sample_weight) == 2:
            weights = np.stack([check_sample_weight(w, len(y)) for w in sample_weight])
            return refit_band_logistic(
                codes, self._sizes(), y, weights, self.C_, init=init, hessian=hessian,
                tol=self.tol, max_iter=self.max_iter, random_state=self._seed(),
            )  # fmt: skip
        w = check_sample_weight(sample_weight, len(y))
        fit = self._solve(codes, y, w, self.C_, init=init, hessian=hessian)
        return fit.coef, fit.intercept

    def decision_from_codes(self, codes) -> np.ndarray:
        """Log-odds of winning of leads given by their band codes.

        Parameters
        ----------
        codes : ndarray of int of shape (n_leads, n_criteria)
            Band codes, as :meth:`encode` gives.

        Returns
        -------
        ndarray of shape (n_leads,)
            What :meth:`decision_function` gives for the same leads.

        Examples
        --------
        >>> from calibrate.datasets import make_leads
        >>> leads = make_leads(2000, seed=0)
        >>> X, y = leads[["seniority", "webinars_attended"]], leads["converted"]
        >>> model = LeadScoreModel(Cs=1).fit(X, y)
        >>> eta = model.decision_from_codes(model.encode(X.head(3)))
        >>> bool(np.allclose(eta, model.decision_function(X.head(3))))
        True
        """
        check_is_fitted(self, "coef_")
        return band_sum(self.coef_, np.asarray(codes), self._sizes(), start=self.intercept_)

    def ordered_bands(self, name: str) -> list[int]:
        """Positions, within criterion ``name``, of the bands that carry an order.

        The ranges of a numeric criterion, the levels of a categorical one:
        what a monotone criterion's weights follow (see ``monotone_``).
        """
        check_is_fitted(self, "coef_")
        return self._ordered(next(c for c in self.binner_.criteria_ if c.name == name))

    def _fit_codes(self, codes, y, w, *, init=None) -> None:
        """Fit the weights of the current bands at ``C_`` (sets coef_, intercept_)."""
        fit = self._solve(codes, y, w, self.C_, init=init)
        self.intercept_ = fit.intercept
        self.coef_ = self._fill_empty_bands(fit.coef)
        self._solution_ = fit

    def _solve(self, codes, y, w, C, *, init=None, hessian=None, sizes=None, tol=None):
        return fit_band_logistic(
            codes,
            self._sizes() if sizes is None else sizes,
            y,
            w,
            C,
            init=init,
            hessian=hessian,
            tol=self.tol if tol is None else tol,
            max_iter=self.max_iter,
            random_state=self._seed(),
        )

    def _seed(self) -> int:
        return 0 if self.random_state is None else self.random_state

    def _merge(self, codes, coef, name: str, first: int) -> np.ndarray:
        """Merge band ``first`` of criterion ``name`` with the next, in place in ``codes``.

        Returns the weights with the two bands' replaced by their lead-weighted
        average, a warm start for the refit.
        """
        k = next(i for i, c in enumerate(self.binner_.criteria_) if c.name == name)
        start = self.binner_.band_offsets()[k]
        n_leads = self.binner_.band_stats_["n_leads"].to_numpy()[start + first : start + first + 2]
        pair = coef[start + first : start + first + 2]
        pooled = np.average(pair, weights=n_leads) if n_leads.sum() > 0 else pair.mean()
        self.binner_ = self.binner_.merge_bands(name, first)
        column = codes[:, k]
        column[column > first] -= 1
        return np.concatenate([coef[: start + first], [pooled], coef[start + first + 2 :]])

    def _ordered(self, criterion):
        """Positions (in the criterion) of the bands that carry an order."""
        kinds = {"range"} if criterion.kind == "numeric" else {"levels"}
        return [i for i, b in enumerate(criterion.bands) if b.kind in kinds]

    def _resolve_directions(self) -> dict:
        """``{criterion: "increasing" | "decreasing"}`` for every monotone criterion."""
        wanted = dict(self.monotone or {})
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

    def _worst_violations(self) -> list[tuple[str, int]]:
        """The worst order-breaking ``(criterion, first band)`` of each monotone criterion."""
        offsets = self.binner_.band_offsets()
        found = []
        for k, criterion in enumerate(self.binner_.criteria_):
            direction = self.monotone_.get(criterion.name)
            if direction is None:
                continue
            order = self._ordered(criterion)
            coef = self.coef_[[offsets[k] + i for i in order]]
            step = np.diff(coef) if direction == "increasing" else -np.diff(coef)
            if len(step) and step.min() < -1e-9:
                found.append((criterion.name, order[int(np.argmin(step))]))
        return found

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds of winning for every lead."""
        check_is_fitted(self, "coef_")
        return self.decision_from_codes(self.encode(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of lost and won, shape (n_leads, 2)."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Whether each lead is more likely won than lost."""
        return self.decision_function(X) > 0

    def _cross_validate(self, codes, y, w, grid) -> tuple[pd.DataFrame, dict]:
        """Mean log loss of every penalty over stratified folds of (a sample of) the leads.

        The path runs from the weakest penalty to the strongest, every fold
        warm-started from its previous solution, and stops once the mean loss
        has risen past the tolerance above the best: on the usual U-shaped
        curve no stronger penalty can then be chosen. Penalties not reached
        have a NaN loss. Also gives, for every penalty reached (by its index
        in ``grid``), the folds' fits ``[(coef, intercept), ...]``.
        """
        if len(grid) == 1:
            return pd.DataFrame({"C": grid, "log_loss": [np.nan]}), {}
        folds = self._folds(y)
        # The folds' leads gathered once: a million leads' codes are sliced
        # a fold at a time below, per penalty.
        codes, y, w, folds = _within_folds(codes, y, w, folds)
        starts = [(None, None)] * len(folds)
        losses = np.full(len(grid), np.nan)
        fits = {}
        for j in range(len(grid) - 1, -1, -1):
            losses[j] = self._cv_loss(codes, y, w, self._sizes(), grid[j], folds, starts)
            fits[j] = [start for start, _ in starts]
            if losses[j] > np.nanmin(losses) * (1 + CV_TOLERANCE):
                break
        return pd.DataFrame({"C": grid, "log_loss": losses}), fits

    def _fold_fits(self, codes, y, w, C) -> list[tuple[np.ndarray, float]]:
        """Every fold's fit at ``C`` on its training leads: ``[(coef, intercept), ...]``."""
        fits = []
        codes, y, w, folds = _within_folds(codes, y, w, self._folds(y))
        for a, _ in folds:
            fit = self._solve(codes[a], y[a], w[a], C)
            fits.append((fit.coef, fit.intercept))
        return fits

    def _folds(self, y) -> list[tuple[np.ndarray, np.ndarray]]:
        """Rows of every fold's training and validation leads, within (a sample of) the leads.

        Beyond ``max_cv_leads`` the folds cover a stratified sample: the same
        share of won and of lost leads.
        """
        rows = np.arange(len(y))
        if len(rows) > self.max_cv_leads:
            rng = np.random.default_rng(self.random_state)
            share = self.max_cv_leads / len(rows)
            rows = np.sort(
                np.concatenate(
                    [
                        rng.choice(part, int(round(share * len(part))), replace=False)
                        for part in (np.flatnonzero(y), np.flatnonzero(y == 0))
                    ]
                )
            )
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        return [(rows[a], rows[b]) for a, b in folds.split(rows, y[rows])]

    def _cv_loss(self, codes, y, w, sizes, C, folds, starts=None) -> float:
        """Mean held-out log loss of the folds at penalty ``C``.

        ``starts`` (one ``((coef, intercept), hessian)`` a fold, updated in
        place) warm-starts every fold from its last solution; a fold without
        one starts from the previous fold's, which shares most of its leads.
        """
        total = 0.0
        for f, (a, b) in enumerate(folds):
            init, hessian = (None, None)
            if starts is not None:
                init, hessian = starts[f] if starts[f][0] is not None else starts[f - 1]
            fit = self._solve(codes[a], y[a], w[a], C, init=init, hessian=hessian, sizes=sizes)
            if starts is not None:
                starts[f] = ((fit.coef, fit.intercept), fit.hessian)
            eta = band_sum(fit.coef, codes[b], sizes, start=fit.intercept)
            # The weighted log loss of the held-out fold.
            total += float(w[b] @ (np.logaddexp(0.0, eta) - y[b] * eta)) / float(w[b].sum())
        return total / len(folds)

    def _fill_empty_bands(self, coef: np.ndarray) -> np.ndarray:
        stats = self.binner_.band_stats_
        n = stats["n_leads"].to_numpy()
        offsets = self.binner_.band_offsets()
        for start, stop in zip(offsets[:-1], offsets[1:], strict=True):
            block, counts = coef[start:stop], n[start:stop]
            if counts.sum() > 0 and (counts == 0).any():
                block[counts == 0] = np.average(block, weights=counts)
        return coef


def _within_folds(codes, y, w, folds):
    """The leads of the folds only, and the folds' rows among them."""
    rows, local = fold_rows(folds, len(y))
    if len(rows) == len(y):
        return codes, y, w, folds
    return codes[rows], y[rows], w[rows], local


def _band_texts(criterion) -> list[str]:
    """A criterion's bands as what they say, points aside."""
    return [f"{b.kind}:{b.label}" for b in criterion.bands]


def _pair_stats(pairs, codes, y, w) -> pd.DataFrame:
    """Leads and wins of every pair rule's cells, as the binner's band statistics."""
    rows = []
    total, won = w.sum(), w * y
    first = codes.shape[1] - len(pairs)
    for k, pair in enumerate(pairs):
        cell = codes[:, first + k]
        n = np.bincount(cell, weights=w, minlength=len(pair.cells))
        wins = np.bincount(cell, weights=won, minlength=len(pair.cells))
        for i, c in enumerate(pair.cells):
            rows.append({"criterion": pair.name, "group": pair.group, "band": c.label,
                         "n_leads": float(n[i]), "share": float(n[i] / total),
                         "wins": float(wins[i]),
                         "win_rate": float(wins[i] / n[i]) if n[i] > 0 else np.nan})  # fmt: skip
    return pd.DataFrame(rows, columns=["criterion", "group", "band", "n_leads", "share", "wins",
                                       "win_rate"])  # fmt: skip


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


def auc_interval(y, scores, *, level: float = 0.95) -> tuple[float, float, float]:
    """The AUC of scores and its confidence interval (DeLong's variance).

    Parameters
    ----------
    y : array-like of bool
        Outcomes (True for won).
    scores : array-like of float
        Scores, higher meaning likelier to win; ties count half.
    level : float, default=0.95
        Coverage of the interval.

    Returns
    -------
    auc, low, high : float
        The interval is clipped to [0, 1]; it is (auc, auc) when either
        class holds a single lead.

    References
    ----------
    E. R. DeLong, D. M. DeLong and D. L. Clarke-Pearson (1988), "Comparing the
    areas under two or more correlated receiver operating characteristic
    curves: a nonparametric approach", Biometrics 44:837-845.

    Examples
    --------
    >>> auc, low, high = auc_interval([0, 0, 1, 1, 0, 1], [1, 2, 3, 4, 5, 6])
    >>> round(auc, 3), low < auc < high
    (0.778, True)
    """
    y = np.asarray(y).astype(bool)
    scores = np.asarray(scores, dtype=float)
    won, lost = scores[y], scores[~y]
    m, n = len(won), len(lost)
    if m == 0 or n == 0:
        raise DataError("an AUC needs both won and lost leads")
    # Placement values from mid-ranks: the share of the other class each
    # lead outranks, ties counting half.
    all_ranks = rankdata(np.concatenate([won, lost]))
    won_ranks, lost_ranks = all_ranks[:m], all_ranks[m:]
    v_won = (won_ranks - rankdata(won)) / n
    v_lost = 1 - (lost_ranks - rankdata(lost)) / m
    auc = float(v_won.mean())
    if m < 2 or n < 2:
        return auc, auc, auc
    se = math.sqrt(v_won.var(ddof=1) / m + v_lost.var(ddof=1) / n)
    z = float(norm.ppf(0.5 + level / 2))
    return auc, max(0.0, auc - z * se), min(1.0, auc + z * se)


def outcomes_needed(half_width: float, *, auc: float = 0.75, level: float = 0.95) -> int:
    """Hold-out leads of the rarer outcome for an AUC interval of +-``half_width``.

    Hanley and McNeil's variance of an AUC, with many more leads of the
    common outcome than of the rare one, is ``(Q2 - auc**2) / m`` for ``m``
    leads of the rare outcome, with ``Q2 = 2 auc**2 / (1 + auc)``.

    Examples
    --------
    >>> outcomes_needed(0.15), outcomes_needed(0.075)
    (14, 55)
    """
    return math.ceil((_half_width(1, auc=auc, level=level) / half_width) ** 2)


def _half_width(m: int, *, auc: float = 0.75, level: float = 0.95) -> float:
    """Half the width of an AUC's interval with ``m`` leads of the rare outcome."""
    q2 = 2 * auc**2 / (1 + auc)
    return float(norm.ppf(0.5 + level / 2)) * math.sqrt((q2 - auc**2) / m)


#: A sheet of typical quality (hold-out AUC 0.75) is told from a weak one
#: (0.6) when its 95% interval is at most +-0.15 wide: 14 hold-out wins.
MIN_HOLDOUT_OUTCOMES = outcomes_needed(0.15)
#: +-0.075 measures the sheet well enough to compare it with another: 55.
COMFORTABLE_HOLDOUT_OUTCOMES = outcomes_needed(0.075)
#: Ten leads of the rarer outcome per weight, for a sheet of three criteria
#: (the usual rule for logistic regression): fewer cannot be learned from.
MIN_TRAINING_OUTCOMES = 30


def check_evidence(y, train=None, holdout=None) -> list[str]:
    """Refuse a history with too few wins (or losses); name a thin one.

    Parameters
    ----------
    y : array-like of bool
        Every lead's outcome.
    train, holdout : array-like of int, optional
        Row positions of the split; without them only the whole history is
        judged (before splitting it).

    Returns
    -------
    list of str
        Warnings: the hold-out holds fewer than
        :data:`COMFORTABLE_HOLDOUT_OUTCOMES` leads of the rarer outcome, so
        its AUC and win rates are uncertain.

    Raises
    ------
    DataError
        Fewer than :data:`MIN_TRAINING_OUTCOMES` training leads or
        :data:`MIN_HOLDOUT_OUTCOMES` hold-out leads of the rarer outcome.

    Examples
    --------
    >>> check_evidence(np.r_[np.ones(3), np.zeros(2997)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    calibrate.errors.DataError: only 3 won leads among 3,000: a sheet needs at least 30 to ...
    """
    y = np.asarray(y).astype(bool)
    rare = bool(y.mean() <= 0.5)  # the outcome that is rarer: usually won
    name = "won" if rare else "lost"
    total = int(np.sum(y == rare))
    needs = (
        f"a sheet needs at least {MIN_TRAINING_OUTCOMES} to learn from and "
        f"{MIN_HOLDOUT_OUTCOMES} in the hold-out to measure it"
    )
    if total < MIN_TRAINING_OUTCOMES + MIN_HOLDOUT_OUTCOMES:
        raise DataError(f"only {total:,} {name} leads among {len(y):,}: {needs}")
    if train is None or holdout is None:
        return []
    n_train, n_held = (int(np.sum(y[np.asarray(part)] == rare)) for part in (train, holdout))
    if n_train < MIN_TRAINING_OUTCOMES or n_held < MIN_HOLDOUT_OUTCOMES:
        raise DataError(
            f"the split leaves {n_train:,} {name} leads to learn from and {n_held:,} in the "
            f"hold-out: {needs}; change --holdout, or use a longer history"
        )
    if n_held < COMFORTABLE_HOLDOUT_OUTCOMES:
        return [
            f"only {n_held:,} {name} leads in the hold-out: the hold-out AUC and every win "
            "rate measured on it are uncertain (a 95% interval of about "
            f"+-{_half_width(n_held):.2f} around a typical AUC); "
            f"{COMFORTABLE_HOLDOUT_OUTCOMES} or more measure it to +-0.075"
        ]
    return []
