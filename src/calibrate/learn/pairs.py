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

import numpy as np
from scipy.special import expit

from ..sheet.criteria import Criterion
from ..sheet.pairs import Condition, PairCriterion

__all__ = ["best_rule", "breaks_order", "min_rule_leads", "screen_pairs"]

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
    found = []
    for i, j in itertools.combinations(range(len(criteria)), 2):
        a, b = criteria[i], criteria[j]
        if a.column == b.column:
            continue
        best = _rule(codes[:, i], codes[:, j], a, b, resid, curve, w, min_leads)
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
    best = _best_split(a, b, *tables, min_leads=min_leads)
    if best is None:
        return None
    gain, first, second = best
    return gain, PairCriterion.of(first, second)


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
        pool_a = pool_a + [m for mb in pool_b for m in _conditional(R, H, mb)]
    if b.kind != "numeric":
        pool_b = pool_b + [m for ma in pool_a for m in _conditional(R.T, H.T, ma)]
    if not pool_a or not pool_b:
        return None
    A = _unique(pool_a).astype(float)
    B = _unique(pool_b).astype(float)

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


def _own_splits(c: Criterion, r, h) -> list[np.ndarray]:
    """A criterion's splits on its own: runs of ranges, or levels by their residual rate."""
    n = len(c.bands)
    if c.kind != "numeric":
        return _prefixes(np.argsort(r / (h + _PRIOR), kind="stable"), n)
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
    return out


def _conditional(R, H, other: np.ndarray) -> list[np.ndarray]:
    """Splits of the rows' levels ordered by how much more they win inside ``other``."""
    inside = R[:, other].sum(axis=1) / (H[:, other].sum(axis=1) + _PRIOR)
    outside = R[:, ~other].sum(axis=1) / (H[:, ~other].sum(axis=1) + _PRIOR)
    return _prefixes(np.argsort(inside - outside, kind="stable"), R.shape[0])


def _prefixes(order, n: int) -> list[np.ndarray]:
    out = []
    for cut in range(1, n):
        m = np.zeros(n, dtype=bool)
        m[order[:cut]] = True
        out.append(m)
    return out


def _unique(masks) -> np.ndarray:
    """The distinct splits, a split and its complement counted once."""
    seen, out = set(), []
    for m in masks:
        if m.all() or not m.any():
            continue
        key = m.tobytes() if not m[0] else (~m).tobytes()
        if key not in seen:
            seen.add(key)
            out.append(m)
    return np.array(out)
