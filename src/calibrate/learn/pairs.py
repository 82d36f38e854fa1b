"""Finding pair rules: which two criteria together say more than each alone.

The additive sheet is fitted first. Every pair of its criteria is then
screened on the sheet's residuals, as FAST does (Lou, Caruana, Gehrke and
Hooker, KDD 2013, the screen behind Explainable Boosting Machines): the
leads are cut into four quadrants by one split of each criterion's bands,
and the quadrants' residual sums say how much four free constants there
would lower the loss (a Newton step's gain, ``sum R^2 / H``). The best split
of a numeric criterion is a run of its ranges (the missing band on either
side); of a categorical one, its levels ordered by how much more they win on
one side of the other split than on the other, cut once.

A pair's rule is, of the quadrants that win more than the sheet expects,
the one of fewest leads: a bonus for the most specific statement ("VP or
C-level and 500+ staff"). Beside the two criteria's own bands any quadrant
spans the same sheets, so the choice is one of reading only. :func:`screen_pairs` ranks the rules;
:class:`~calibrate.learn.model.LeadScoreModel` keeps one only when it lowers
the cross-validated log loss by a stated margin.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import expit

from ..sheet.criteria import Criterion
from ..sheet.pairs import Condition, PairCriterion
from ._band_logistic import band_sum, bordered_hessian, cross_sums

__all__ = ["best_rule", "breaks_order", "min_rule_leads", "screen_pairs", "search_pairs"]

#: Rules of the screen tried at each step, best first, for one that keeps every order.
PAIR_CANDIDATES = 3
#: Standard errors by which a pair rule's out-of-fold improvement must beat 0.
PAIR_Z = 2.0
PAIR_SEARCH_COLUMNS = [
    "step", "pair", "rule", "gain", "cv_log_loss", "log_loss_before", "z", "kept"
]  # fmt: skip

#: Most leads the pair search works on: beyond, a random sample of this many.
SEARCH_LEADS = 100_000
#: Solver tolerance of the folds' refits: the losses they are judged by need
#: not the final fit's precision (``LeadScoreModel.tol``).
JUDGE_TOL = 1e-5
#: A candidate rule is judged only when its screen gain, the in-sample loss
#: decrease of free quadrant constants, reaches this share of the margin: on
#: the shared data sets the joint refit removed at most 2.3 times that gain
#: out of fold, so a rule four times below the margin is not worth a judging.
GATE = 0.25
#: Curvature added to every cell when ordering levels by their residual rate:
#: a level of a handful of leads cannot lead the order on noise.
_PRIOR = 1.0


def min_rule_leads(n_leads: float) -> float:
    """Fewest (weighted) training leads a pair rule's cell may hold: 30, or 0.2% of them."""
    return max(30.0, 0.002 * float(n_leads))


def screen_pairs(
    codes, criteria, y, eta, sample_weight, *, min_leads: float, exclude=()
) -> list[tuple[float, PairCriterion]]:
    """Every pair of criteria's best rule, by its residual gain, best first.

    Parameters
    ----------
    codes : ndarray of int of shape (n_leads, n_criteria)
        Band codes of the training leads.
    criteria : list of Criterion
        The criteria the codes index.
    y : ndarray of shape (n_leads,)
        Won (1) or lost (0).
    eta : ndarray of shape (n_leads,)
        The current model's log-odds of each lead.
    sample_weight : ndarray of shape (n_leads,)
        Weight of each lead.
    min_leads : float
        Fewest (weighted) leads in every quadrant of a rule.
    exclude : collection of PairCriterion
        Rules already held: not proposed again.

    Returns
    -------
    list of (gain, PairCriterion)
        At most one rule per pair of criteria, the pairs with no split of
        enough leads left out.

    Examples
    --------
    Winning needs both a senior title and a large firm; each alone does little:

    >>> from calibrate.sheet.criteria import Band
    >>> rng = np.random.default_rng(0)
    >>> senior, large = rng.random(4000) < 0.5, rng.random(4000) < 0.5
    >>> y = (rng.random(4000) < np.where(senior & large, 0.5, 0.1)).astype(float)
    >>> def flag(name):
    ...     return Criterion(name, name, "boolean", "explicit", bands=(
    ...         Band("true", "levels", values=("true",)),
    ...         Band("false", "levels", values=("false",)),
    ...         Band("Other", "other"), Band("Missing", "missing")))
    >>> codes = np.column_stack([np.where(senior, 0, 1), np.where(large, 0, 1)])
    >>> gain, pair = screen_pairs(codes, [flag("senior"), flag("large")], y,
    ...                           np.full(4000, np.log(0.2 / 0.8)), np.ones(4000), min_leads=30)[0]
    >>> pair.cells[0].label
    'senior true and large true'
    """
    codes = np.asarray(codes, dtype=np.intp)
    w = np.asarray(sample_weight, dtype=float)
    p = expit(np.asarray(eta, dtype=float))
    resid, curve = w * (np.asarray(y, dtype=float) - p), w * p * (1 - p)
    held = {(pair.first.criterion.name, pair.second.criterion.name, pair.first.bands,
             pair.second.bands) for pair in exclude}  # fmt: skip
    sizes = [len(c.bands) for c in criteria]
    offsets = np.cumsum([0, *sizes])
    tables = cross_sums(codes, sizes, (resid, curve, w))
    found = []
    for i, j in itertools.combinations(range(len(criteria)), 2):
        a, b = criteria[i], criteria[j]
        if a.column == b.column:
            continue
        block = (slice(offsets[i], offsets[i + 1]), slice(offsets[j], offsets[j + 1]))
        best = _rule_of_tables(a, b, *(t[block] for t in tables), min_leads)
        if best is None:
            continue
        gain, pair = best
        key = (a.name, b.name, pair.first.bands, pair.second.bands)
        if key not in held:
            found.append(best)
    found.sort(key=lambda t: -t[0])
    return found


def best_rule(first_codes, second_codes, a, b, y, eta, sample_weight, *, min_leads: float):
    """The best rule on two given criteria, as :func:`screen_pairs` finds it, or None.

    What cross-validating a pair takes: the rule chosen again on every
    fold's training leads, so that the fold it is judged on did not pick it.

    Returns
    -------
    (gain, PairCriterion) or None
    """
    w = np.asarray(sample_weight, dtype=float)
    p = expit(np.asarray(eta, dtype=float))
    resid, curve = w * (np.asarray(y, dtype=float) - p), w * p * (1 - p)
    return _rule(np.asarray(first_codes, dtype=np.intp), np.asarray(second_codes, dtype=np.intp),
                 a, b, resid, curve, w, min_leads)  # fmt: skip


def _rule(ca, cb, a, b, resid, curve, w, min_leads):
    tables = _tables(ca, cb, len(a.bands), len(b.bands), resid, curve, w)
    return _rule_of_tables(a, b, *tables, min_leads)


def _rule_of_tables(a, b, R, H, N, min_leads):
    best = _best_split(a, b, R, H, N, min_leads=min_leads)
    if best is None:
        return None
    gain, first, second = best
    return gain, PairCriterion.of(first, second)


class PairsFound(NamedTuple):
    """What :func:`search_pairs` found: the rules kept, the model's fit with them, its log."""

    pairs: list
    fit: object
    log: pd.DataFrame


def search_pairs(model, codes, y, w, folds) -> tuple[np.ndarray, PairsFound]:
    """Add pair rules to a fitted additive model, one at a time, while one pays.

    Each step screens every pair of the model's criteria on its residuals
    (:func:`screen_pairs`); its rule is the screen's best whose weight keeps
    every monotone criterion's order in the leads it holds for. The step is
    judged by out-of-fold log loss at the model's penalty ``C_`` (the
    penalty search's ``folds``), each fold taking the whole step on its own
    training leads: it screens every pair again and refits with its own
    best rule. Choosing the pair out of hundreds on all the leads and then
    judging only that pair would let the validation leads pick it, and a
    rule of noise would pass. The rule is kept when the step removes the
    model's ``pair_margin`` of the loss, by at least :data:`PAIR_Z`
    standard errors of the lead-by-lead difference (it must beat the noise
    of the comparison, not only the margin).

    Parameters
    ----------
    model : LeadScoreModel
        Fitted without pairs: ``binner_``, ``coef_``, ``intercept_``, ``C_``
        and ``monotone_`` are read, the model itself is not changed.
    codes : ndarray of int of shape (n_leads, n_criteria)
        The training leads' band codes.
    y, w : ndarray of shape (n_leads,)
        Outcomes (0/1) and lead weights.
    folds : list of (train rows, validation rows)
        The cross-validation folds.

    Returns
    -------
    codes : ndarray
        The band codes with a column per rule kept (its cell).
    PairsFound
        The rules kept, the band fit with them (None without any) and one
        row per rule judged or refused for breaking an order
        (:data:`PAIR_SEARCH_COLUMNS`; ``cv_log_loss`` is NaN for those).
    """
    criteria = list(model.binner_.criteria_)
    position = {c.name: k for k, c in enumerate(criteria)}
    base_sizes = [len(c.bands) for c in criteria]
    sizes = list(base_sizes)
    coef, intercept = model.coef_, model.intercept_
    # Beyond SEARCH_LEADS leads the search runs on a sample of them (the
    # folds' leads among them), so that its cost stops growing with the data;
    # the rules kept are then fitted on every lead.
    every = (codes, y, w)
    rows = np.arange(len(y))
    if len(y) > SEARCH_LEADS:
        rows = np.concatenate([b for _, b in folds])
        taken = np.zeros(len(y), dtype=bool)
        taken[rows] = True
        rest = np.flatnonzero(~taken)
        rng = np.random.default_rng(model._seed())
        extra = rng.choice(rest, max(0, min(len(rest), SEARCH_LEADS - len(rows))), replace=False)
        rows = np.sort(np.concatenate([rows, extra]))
    sampled = len(rows) < len(y)
    if sampled:
        where = np.full(len(y), -1, dtype=np.intp)
        where[rows] = np.arange(len(rows))
        folds = [(where[a], where[b]) for a, b in folds]
        codes, y, w = codes[rows], y[rows], w[rows]
    share_all = float(w.sum() / every[2].sum())
    min_leads = min_rule_leads(every[2].sum()) * share_all
    valid = np.concatenate([b for _, b in folds])
    weight = w[valid] / w[valid].sum()

    def solve(trial, trial_sizes, rows, start, hessian, tol=None):
        # The model's own solver settings (tolerance, steps, seed), on these bands.
        return model._solve(trial[rows], y[rows], w[rows], model.C_, init=start,
                            hessian=hessian, sizes=trial_sizes, tol=tol)  # fmt: skip

    def with_cell(current, cell, h, hessian):
        # The design with a rule's cell, and the Hessian bordered by it.
        return np.column_stack([current, cell]), bordered_hessian(hessian, current, sizes,
                                                                  cell, 2, h)  # fmt: skip

    def out_of_fold(current, hessian, fits=None):
        # Every validation lead's log loss, the folds' validation leads in
        # turn. Without ``fits`` the fold refits of the current bands (also
        # returned). With them (those refits), the whole step on each fold:
        # the fold's training leads screen every pair on their own residuals,
        # and the fold's best rule, if any, joins its refit. The pair and rule
        # are chosen without the validation leads, so their loss is honest.
        # Every fold starts from a warm start and the data's Hessian (its
        # share), bordered by the fold's own cell.
        out, refits = [], []
        for f, (train, held) in enumerate(folds):
            share = float(w[train].sum() / w.sum())
            fold_hessian = hessian * share
            if fits is None:
                fit = solve(current, sizes, train, (coef, intercept), fold_hessian, JUDGE_TOL)
                refits.append(fit)
                trial, trial_sizes = current, sizes
            else:
                base = fits[f]
                eta_train = band_sum(base.coef, current[train], sizes, start=base.intercept)
                found = screen_pairs(current[train][:, : len(criteria)], criteria, y[train],
                                     eta_train, w[train], min_leads=min_leads * share,
                                     exclude=kept)[:1]  # fmt: skip
                if not found:
                    trial, trial_sizes, fit = current, sizes, base
                else:
                    pair = found[0][1]
                    a, b = pair.criteria
                    cell = pair.cell_of(current[:, position[a.name]], current[:, position[b.name]])
                    p_train = expit(eta_train)
                    h_fold = np.zeros(len(y))
                    h_fold[train] = w[train] * p_train * (1 - p_train)
                    trial, fold_hessian = with_cell(current, cell, h_fold, fold_hessian)
                    trial_sizes = [*sizes, 2]
                    start = (np.append(base.coef, [0.0, 0.0]), base.intercept)
                    fit = solve(trial, trial_sizes, train, start, fold_hessian, JUDGE_TOL)
            eta_held = band_sum(fit.coef, trial[held], trial_sizes, start=fit.intercept)
            out.append(np.logaddexp(0.0, eta_held) - y[held] * eta_held)
        return np.concatenate(out), refits

    def breaks(pair, trial_coef, first):
        # Whether the rule of cells ``first`` and ``first + 1`` breaks an order.
        offsets = np.cumsum([0, *base_sizes])
        step = trial_coef[first] - trial_coef[first + 1]
        for condition in (pair.first, pair.second):
            name = condition.criterion.name
            direction = model.monotone_.get(name)
            if direction is None:
                continue
            j = position[name]
            order = model.ordered_bands(name)
            weights = trial_coef[offsets[j] : offsets[j + 1]]
            if breaks_order(weights, order, direction, set(condition.bands), step):
                return True
        return False

    kept, fit_kept, log = [], None, []
    hessian = model._solution_.hessian * share_all
    before = fold_fits = None
    for step in range(1, model.max_pairs + 1):
        eta = band_sum(coef, codes, sizes, start=intercept)
        prob = expit(eta)
        h = w * prob * (1 - prob)
        found = screen_pairs(
            codes[:, : len(criteria)], criteria, y, eta, w, min_leads=min_leads, exclude=kept
        )[:PAIR_CANDIDATES]
        # The gate needs the loss before (a quick in-sample one on the first step).
        if before is None:
            current = float(w @ (np.logaddexp(0.0, eta) - y * eta)) / float(w.sum())
        else:
            current = float(weight @ before)
        bar = GATE * model.pair_margin * current
        found = [(gain, pair) for gain, pair in found if gain / (2 * w.sum()) >= bar]
        # The step's rule: the screen's best whose weight keeps every order.
        chosen = None
        for gain, pair in found:
            a, b = pair.criteria
            cell = pair.cell_of(codes[:, position[a.name]], codes[:, position[b.name]])
            trial, trial_hessian = with_cell(codes, cell, h, hessian)
            trial_sizes = [*sizes, 2]
            start = (np.append(coef, [0.0, 0.0]), intercept)
            fit = solve(trial, trial_sizes, slice(None), start, trial_hessian)
            if not breaks(pair, fit.coef, len(coef)):
                chosen = (gain, pair, trial, trial_sizes, fit)
                break
            log.append({"step": step, "pair": pair.name, "rule": pair.cells[0].label,
                        "gain": gain, "cv_log_loss": np.nan, "log_loss_before": current,
                        "z": np.nan, "kept": False})  # fmt: skip
        if chosen is None:
            break
        gain, pair, trial, trial_sizes, fit = chosen
        if before is None:
            before, fold_fits = out_of_fold(codes, hessian)
            current = float(weight @ before)
        losses, _ = out_of_fold(codes, hessian, fold_fits)
        loss = float(weight @ losses)
        z = _improvement_z(before - losses, weight)
        log.append({"step": step, "pair": pair.name, "rule": pair.cells[0].label, "gain": gain,
                    "cv_log_loss": loss, "log_loss_before": current, "z": z,
                    "kept": False})  # fmt: skip
        if current - loss < model.pair_margin * current or not z >= PAIR_Z:
            break
        log[-1]["kept"] = True
        codes, sizes = trial, trial_sizes
        coef, intercept, fit_kept, hessian = fit.coef, fit.intercept, fit, fit.hessian
        kept.append(_named_apart(pair, kept))
        log[-1]["pair"] = kept[-1].name
        # The next step is judged against the sheet with this rule, refitted on every fold.
        before, fold_fits = out_of_fold(codes, hessian)
    log = pd.DataFrame(log, columns=PAIR_SEARCH_COLUMNS)
    if not sampled:
        return codes, PairsFound(kept, fit_kept, log)
    # The rules found on the sample, fitted on every lead; a rule whose
    # weight there breaks a monotone order is dropped (the last first).
    codes, y, w = every
    while kept:
        cells = [p.cell_of(codes[:, position[p.first.criterion.name]],
                           codes[:, position[p.second.criterion.name]]) for p in kept]  # fmt: skip
        trial = np.column_stack([codes, *cells])
        trial_sizes = [*base_sizes, *[2] * len(kept)]
        fit = model._solve(trial, y, w, model.C_, init=(coef, intercept), sizes=trial_sizes)
        first = sum(base_sizes)
        broken = [k for k, p in enumerate(kept) if breaks(p, fit.coef, first + 2 * k)]
        if not broken:
            return trial, PairsFound(kept, fit, log)
        log.loc[log.index[log["kept"]][broken[-1]], "kept"] = False
        kept.pop(broken[-1])
        coef = np.delete(coef, np.r_[first + 2 * broken[-1] : first + 2 * broken[-1] + 2])
    return codes, PairsFound([], None, log)


def _named_apart(pair: PairCriterion, kept) -> PairCriterion:
    """``pair``, its name numbered when a rule on the same two criteria is already kept."""
    taken = {p.name for p in kept}
    if pair.name not in taken:
        return pair
    k = 2
    while f"{pair.name} ({k})" in taken:
        k += 1
    return replace(pair, name=f"{pair.name} ({k})")


def _improvement_z(diff, weight) -> float:
    """Weighted mean of lead-by-lead improvements over its standard error."""
    mean = float(weight @ diff)
    spread = float(weight @ (diff - mean) ** 2)
    n_eff = 1.0 / float(weight @ weight)
    se = np.sqrt(spread / n_eff)
    return mean / se if se > 0 else (np.inf if mean > 0 else 0.0)


def breaks_order(weights, order, direction: str, inside, step: float) -> bool:
    """Whether adding ``step`` to the bands ``inside`` breaks a monotone criterion's order.

    Parameters
    ----------
    weights : ndarray
        The criterion's band weights.
    order : list of int
        Its bands in their order.
    direction : {"increasing", "decreasing"}
        The order the weights must follow.
    inside : collection of int
        Bands a pair rule adds ``step`` to (for the leads it holds for).
    step : float
        The rule's weight.

    Examples
    --------
    >>> breaks_order(np.array([0.0, 1.0, 2.0]), [0, 1, 2], "increasing", {2}, -1.5)
    True
    >>> breaks_order(np.array([0.0, 1.0, 2.0]), [0, 1, 2], "increasing", {2}, 0.5)
    False
    """
    w = np.asarray(weights, dtype=float)[list(order)]
    w = w + step * np.array([k in inside for k in order], dtype=float)
    d = np.diff(w) if direction == "increasing" else -np.diff(w)
    return bool((d < -1e-9).any())


def _tables(a, b, na, nb, resid, curve, w):
    """Residual, curvature and lead sums per cell of two criteria's bands."""
    cell = a * nb + b
    size = na * nb
    return tuple(
        np.bincount(cell, weights=v, minlength=size).reshape(na, nb) for v in (resid, curve, w)
    )


def _best_split(a: Criterion, b: Criterion, R, H, N, *, min_leads: float):
    """The quadrant split of most gain with enough leads in every quadrant, or None."""
    pool_a = _own_splits(a, R.sum(axis=1), H.sum(axis=1))
    pool_b = _own_splits(b, R.sum(axis=0), H.sum(axis=0))
    # A categorical side is also ordered against every split of the other side.
    if a.kind != "numeric":
        pool_a = np.concatenate([pool_a, _conditional(R, H, pool_b)])
    if b.kind != "numeric":
        pool_b = np.concatenate([pool_b, _conditional(R.T, H.T, pool_a)])
    A, B = _unique(pool_a), _unique(pool_b)
    if not len(A) or not len(B):
        return None
    A, B = A.astype(float), B.astype(float)

    def quadrants(T):
        inside = A @ T @ B.T
        rows, cols, total = (A @ T).sum(axis=1)[:, None], (T @ B.T).sum(axis=0)[None, :], T.sum()
        return inside, rows - inside, cols - inside, total - rows - cols + inside

    r, h, n = quadrants(R), quadrants(H), quadrants(N)
    gain = sum(rq * rq / (hq + 1e-12) for rq, hq in zip(r, h, strict=True))
    smallest = np.minimum.reduce(n)
    gain = np.where(smallest >= min_leads, gain, -np.inf)
    k = int(np.argmax(gain))
    if not np.isfinite(gain.flat[k]):
        return None
    ia, ib = np.unravel_index(k, gain.shape)
    # The rule: of the quadrants winning more than the sheet expects (a bonus
    # reads better than a penalty), the one of fewest leads.
    q = min(range(4), key=lambda k: (r[k][ia, ib] <= 0, n[k][ia, ib]))
    in_a, in_b = A[ia] > 0, B[ib] > 0
    # Bands without training leads stay outside the rule: a value never seen
    # earns what its criterion gives it, not the rule's points.
    side_a = (in_a if q in (0, 1) else ~in_a) & (N.sum(axis=1) > 0)
    side_b = (in_b if q in (0, 2) else ~in_b) & (N.sum(axis=0) > 0)
    return (
        float(gain[ia, ib]),
        Condition(a, tuple(np.flatnonzero(side_a).tolist())),
        Condition(b, tuple(np.flatnonzero(side_b).tolist())),
    )


def _own_splits(c: Criterion, r, h) -> np.ndarray:
    """A criterion's splits on its own, one a row: runs of ranges, or levels by residual rate."""
    n = len(c.bands)
    if c.kind != "numeric":
        return _prefixes(np.argsort(r / (h + _PRIOR), kind="stable")[:, None])
    ranges = [i for i, band in enumerate(c.bands) if band.kind == "range"]
    missing = c.missing_index
    out = []
    for cut in range(1, len(ranges)):
        low = np.zeros(n, dtype=bool)
        low[ranges[:cut]] = True
        out.append(low)
        with_missing = low.copy()
        with_missing[missing] = True
        out.append(with_missing)
    alone = np.zeros(n, dtype=bool)
    alone[missing] = True
    out.append(alone)
    return np.array(out)


def _conditional(R, H, others: np.ndarray) -> np.ndarray:
    """Splits of the rows' levels ordered by how much more they win inside each of ``others``.

    ``others`` holds splits of the columns, one a row; for each, the levels
    are ordered by their residual rate inside it less outside it, and cut once
    at every place: one split a row, the splits of ``others[0]`` first.
    """
    inside = others.T.astype(float)
    outside = 1.0 - inside
    rate = R @ inside / (H @ inside + _PRIOR) - R @ outside / (H @ outside + _PRIOR)
    return _prefixes(np.argsort(rate, axis=0, kind="stable"))


def _prefixes(orders: np.ndarray) -> np.ndarray:
    """Every cut of every order (a column of ``orders``): its first 1 to n - 1 levels."""
    n, m = orders.shape
    if n < 2:
        return np.zeros((0, n), dtype=bool)
    ranks = np.argsort(orders, axis=0)  # each level's place in each order
    cuts = np.arange(1, n)
    # masks[j, c - 1, level]: the level is among the first c of order j.
    masks = ranks.T[:, None, :] < cuts[None, :, None]
    return masks.reshape(m * (n - 1), n)


def _unique(masks: np.ndarray) -> np.ndarray:
    """The distinct splits in first-seen order, a split and its complement counted once."""
    if not len(masks):
        return masks
    masks = masks[masks.any(axis=1) & ~masks.all(axis=1)]
    canonical = np.where(masks[:, :1], ~masks, masks)
    # One integer key a split (its bits), far faster to sort than rows.
    keys = np.packbits(canonical, axis=1)
    keys = keys.view(np.dtype((np.void, keys.shape[1]))).ravel()
    _, first = np.unique(keys, return_index=True)
    return masks[np.sort(first)]
