"""Newton solver for L2-penalised logistic regression on band codes.

Every criterion puts a lead in exactly one of its bands, so the design
matrix of :class:`calibrate.LeadScoreModel` is one-hot by blocks and never
has to be built. With ``codes[i, j]`` the band of lead ``i`` in criterion
``j``:

- the log-odds are ``b + sum_j beta_j[codes[:, j]]`` (one gather a criterion);
- the gradient of criterion ``j`` is ``bincount(codes[:, j], weights=r)``;
- the Hessian block of criteria ``j`` and ``l`` is one ``bincount`` of the
  pair codes ``codes[:, j] * n_l + codes[:, l]``.

That is the same problem scikit-learn's ``LogisticRegression(C=C)`` solves,
``sum_i w_i loss_i + ||beta||^2 / (2 C)`` with an unpenalised intercept,
and the same Newton method as its ``newton-cholesky`` solver, but without
the general sparse products that dominate that solver on a million leads.
Three further savings matter at that scale:

- **Grouped criteria.** Consecutive criteria are packed into one code per
  group (mixed radix, at most ``GROUP_BANDS`` joint bands), so a pass over
  the leads makes one gather or one ``bincount`` a group instead of one a
  criterion; a group's table of joint values is the outer sum of its
  criteria's weights, and its joint gradient sums back to theirs.

- **A lagged Hessian.** The Hessian is refactorised only when a Newton step
  needs a line search or barely reduces the gradient; otherwise the last
  one is reused, and a warm start (the previous penalty on a path, a
  bootstrap resample, a refit after pooling two bands) usually converges
  in two or three cheap steps.
- **A subsampled Hessian.** Beyond ``hessian_rows`` leads, the Hessian is
  computed on a fixed random subset and scaled up to the full weight. The
  gradient and the objective always use every lead, so the solution is the
  full-data optimum; only the path to it is approximate (a line search
  keeps every step a descent).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from scipy.special import expit
from threadpoolctl import ThreadpoolController

#: Leads beyond which the Hessian is estimated on a random subset of this size.
HESSIAN_ROWS = 50_000

#: Most joint bands of a group of criteria packed into one code.
GROUP_BANDS = 2048

#: The same for the Hessian, whose blocks come from two groups' joint codes.
HESSIAN_GROUP_BANDS = 100


@dataclass
class BandFit:
    """Result of :func:`fit_band_logistic`.

    Attributes
    ----------
    coef : ndarray of shape (n_columns,)
        Weight of every band, criteria one after another.
    intercept : float
    n_iter : int
        Newton steps taken.
    hessian : ndarray of shape (n_columns + 1, n_columns + 1)
        The last data Hessian (without the penalty, intercept last), for a
        warm start on the same bands.
    """

    coef: np.ndarray
    intercept: float
    n_iter: int
    hessian: np.ndarray


def fit_band_logistic(
    codes,
    sizes,
    y,
    sample_weight,
    C: float,
    *,
    init: tuple[np.ndarray, float] | None = None,
    hessian: np.ndarray | None = None,
    tol: float = 1e-8,
    max_iter: int = 100,
    hessian_rows: int = HESSIAN_ROWS,
    random_state: int = 0,
) -> BandFit:
    """Minimise ``sum_i w_i logloss_i + ||coef||^2 / (2 C)`` over band weights.

    Parameters
    ----------
    codes : ndarray of shape (n_leads, n_criteria) of int
        Band of every lead in every criterion, ``0 <= codes[:, j] < sizes[j]``.
    sizes : sequence of int
        Number of bands of every criterion.
    y : ndarray of bool
        Won or lost.
    sample_weight : ndarray of float
        Weight of each lead (0 leaves it out).
    C : float
        Inverse strength of the L2 penalty on the band weights (not on the
        intercept), as scikit-learn's ``C``.
    init : (coef, intercept), optional
        Starting point.
    hessian : ndarray, optional
        A data Hessian for these bands (a previous :class:`BandFit`'s) to
        start from instead of computing one.
    tol : float
        Convergence: the largest gradient entry, per unit of total weight.
    max_iter : int
        Most Newton steps.
    hessian_rows : int
        Above this many leads with weight, the Hessian is estimated on a
        random subset of that size (seeded by ``random_state``).

    Returns
    -------
    BandFit

    Examples
    --------
    One criterion of two bands, won 3 of 4 times in band 1 and once in 4 in
    band 0; with a negligible penalty the weights recover the log-odds:

    >>> codes = np.array([[0]] * 4 + [[1]] * 4)
    >>> y = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=bool)
    >>> fit = fit_band_logistic(codes, [2], y, np.ones(8), C=1e6)
    >>> round(float(fit.intercept + fit.coef[1]), 4), round(float(fit.intercept + fit.coef[0]), 4)
    (1.0986, -1.0986)
    """
    # The linear algebra is on small matrices, where more BLAS threads only
    # wait on each other (and on a busy machine, much longer than they work).
    with _blas().limit(limits=1, user_api="blas"):
        return _fit(
            codes,
            sizes,
            y,
            sample_weight,
            C,
            init,
            hessian,
            tol,
            max_iter,
            hessian_rows,
            random_state,
        )


def _fit(
    codes, sizes, y, sample_weight, C, init, hessian, tol, max_iter, hessian_rows, random_state
) -> BandFit:
    codes = np.asarray(codes)
    sizes = [int(s) for s in sizes]
    n, k = codes.shape
    if k != len(sizes):
        raise ValueError(f"codes has {k} criteria but sizes lists {len(sizes)}")
    offsets = np.cumsum([0, *sizes])
    p = int(offsets[-1])
    columns = [np.ascontiguousarray(codes[:, j], dtype=np.intp) for j in range(k)]
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    total = float(w.sum())
    if total <= 0:
        raise ValueError("the sample weights sum to zero")
    penalty = np.append(np.full(p, 1.0 / C), 0.0)

    rows = _hessian_rows(w, hessian_rows, random_state)
    scale = total / float(w[rows].sum()) if rows is not None else 1.0

    if init is None and rows is not None:
        # Start from the optimum on the Hessian's subset, its penalty scaled
        # to the subset's weight: close to the full optimum, and cheap.
        start = _fit(codes[rows], sizes, y[rows], w[rows], C / scale, None, None, tol,
                     max_iter, hessian_rows, random_state)  # fmt: skip
        init, hessian = (start.coef, start.intercept), start.hessian * scale
    coef = np.zeros(p) if init is None else np.array(init[0], dtype=np.float64)
    intercept = _log_odds(y, w) if init is None else float(init[1])

    groups = _Groups(columns, sizes)
    # The Hessian's own packing, on its rows: built once, when first needed.
    hessian_groups = None
    hessian_w = w if rows is None else w[rows]

    def log_odds(beta, b):
        eta = np.full(n, b)
        for table, code in zip(groups.tables(beta), groups.codes, strict=True):
            eta += table[code]
        return eta

    def objective(eta, beta):
        # log(1 + e^eta) - y * eta, the log loss of a logistic model.
        return float(w @ (np.logaddexp(0.0, eta) - y * eta)) + 0.5 * float(beta @ beta) / C

    eta = log_odds(coef, intercept)
    value = objective(eta, coef)
    g_max_last = np.inf
    refresh = hessian is None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (n_iter is returned)
        prob = expit(eta)
        resid = w * (prob - y)
        grad = np.empty(p + 1)
        grad[:p] = groups.gradient(resid)
        grad[:p] += coef / C
        grad[p] = resid.sum()
        g_max = float(np.abs(grad).max()) / total
        if g_max <= tol:
            n_iter -= 1
            break
        if refresh or g_max > 0.25 * g_max_last:
            if hessian_groups is None:
                packed = columns if rows is None else [col[rows] for col in columns]
                hessian_groups = _Groups(packed, sizes, limit=HESSIAN_GROUP_BANDS)
            prob_h = prob if rows is None else prob[rows]
            hessian = _data_hessian(hessian_groups, offsets, hessian_w * prob_h * (1 - prob_h))
            hessian *= scale
        g_max_last = g_max
        step = _solve(hessian + np.diag(penalty), grad)
        d_eta = log_odds(step[:p], step[p])
        slope = float(grad @ step)
        t = 1.0
        while True:
            beta = coef - t * step[:p]
            trial = eta - t * d_eta
            new_value = objective(trial, beta)
            if new_value <= value - 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        refresh = t < 1.0
        coef, intercept, eta = beta, intercept - t * step[p], trial
        if value - new_value <= 1e-16 * max(abs(value), 1.0):
            value = new_value
            break
        value = new_value
    return BandFit(coef=coef, intercept=float(intercept), n_iter=n_iter, hessian=hessian)


def refit_band_logistic(
    codes,
    sizes,
    y,
    weights,
    C: float,
    *,
    init: tuple[np.ndarray, float],
    hessian: np.ndarray,
    tol: float = 1e-8,
    max_iter: int = 100,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The fit of :func:`fit_band_logistic` for many weightings of the same leads at once.

    Every row of ``weights`` is one problem (a bootstrap resample: how often
    each lead is drawn), near the one solved by ``init`` with data Hessian
    ``hessian``. All problems step together, with that one Hessian factorised
    once: every pass over the leads then serves every problem, where a loop
    of :func:`fit_band_logistic` makes one pass a problem. A problem whose
    steps stop shrinking its gradient fast (the shared Hessian fits it
    badly) is finished by :func:`fit_band_logistic` on its own Hessian, so
    every problem meets the same tolerance.

    Parameters
    ----------
    codes, sizes, y, C, tol, max_iter, random_state
        As in :func:`fit_band_logistic`.
    weights : ndarray of shape (n_problems, n_leads)
        Weight of each lead in each problem.
    init : (coef, intercept)
        The starting point of every problem.
    hessian : ndarray of shape (n_columns + 1, n_columns + 1)
        The data Hessian at ``init`` (a :class:`BandFit`'s).

    Returns
    -------
    coef : ndarray of shape (n_problems, n_columns)
    intercept : ndarray of shape (n_problems,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> codes = rng.integers(0, 3, (500, 2))
    >>> y = rng.random(500) < 0.2 + 0.2 * codes[:, 0]
    >>> full = fit_band_logistic(codes, [3, 3], y, np.ones(500), C=1.0)
    >>> weights = rng.poisson(1.0, (4, 500)).astype(float)
    >>> coef, intercept = refit_band_logistic(codes, [3, 3], y, weights, C=1.0,
    ...     init=(full.coef, full.intercept), hessian=full.hessian)
    >>> one = fit_band_logistic(codes, [3, 3], y, weights[2], C=1.0)
    >>> bool(np.allclose(coef[2], one.coef, atol=1e-6)), coef.shape
    (True, (4, 6))
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    codes = np.asarray(codes)
    n = len(codes)
    # Several (n_leads, problems) arrays are alive at once: bound their size.
    chunk = max(1, BATCH_CELLS // max(n, 1))
    coef = np.empty((len(weights), int(np.sum(sizes))))
    intercept = np.empty(len(weights))
    with _blas().limit(limits=1, user_api="blas"):
        solver = _Batch(codes, sizes, y, C, init, hessian)
        for start in range(0, len(weights), chunk):
            rows = slice(start, start + chunk)
            coef[rows], intercept[rows] = solver.solve(weights[rows], tol, max_iter, random_state)
    return coef, intercept


#: Most cells (leads times problems) of an array of :func:`refit_band_logistic`.
BATCH_CELLS = 2_000_000


class _Batch:
    """Newton steps for many weightings of one band problem, with one shared Hessian."""

    def __init__(self, codes, sizes, y, C, init, hessian):
        self.codes, self.sizes = codes, [int(s) for s in sizes]
        self.columns = [
            np.ascontiguousarray(codes[:, j], dtype=np.intp) for j in range(len(sizes))
        ]
        self.groups = _Groups(self.columns, self.sizes)
        self.y = np.asarray(y, dtype=np.float64)
        self.C = C
        self.p = int(np.sum(self.sizes))
        self.start = np.append(np.asarray(init[0], dtype=np.float64), float(init[1]))
        penalty = np.append(np.full(self.p, 1.0 / C), 0.0)
        self.factor = linalg.cho_factor(hessian + np.diag(penalty), check_finite=False)
        self.penalty = penalty[:, None]
        n = len(codes)
        # Per group, the one-hot of its joint code transposed: its product with
        # an (n_leads, problems) array sums every problem's values per joint band.
        self.sums = [
            _one_hot(code, int(np.prod(shape)), n)
            for code, shape in zip(self.groups.codes, self.groups.shapes, strict=True)
        ]

    def log_odds(self, theta):
        eta = np.repeat(theta[self.p][None, :], len(self.codes), axis=0)
        for table, code in zip(
            self.groups.tables(theta[: self.p]), self.groups.codes, strict=True
        ):
            eta += table[code]
        return eta

    def gradient(self, resid, theta):
        parts = []
        for total, shape in zip(self.sums, self.groups.shapes, strict=True):
            joint = np.asarray(total @ resid).reshape(*shape, resid.shape[1])
            parts += _marginals(joint, keep_last=True)
        grad = np.concatenate([*parts, resid.sum(axis=0)[None, :]])
        return grad + self.penalty * theta

    def objective(self, w, eta, theta):
        loss = np.einsum("ij,ij->j", w, np.logaddexp(0.0, eta) - self.y[:, None] * eta)
        return loss + 0.5 * np.einsum("ij,ij->j", theta[: self.p], theta[: self.p]) / self.C

    def solve(self, weights, tol, max_iter, random_state):
        """Every problem's ``(coef, intercept)``, one problem a row of ``weights``."""
        m = len(weights)
        out = np.repeat(self.start[:, None], m, axis=1)
        # The problems still stepping, as columns: ids, weights, log-odds, weights of bands.
        ids = np.arange(m)
        w = np.ascontiguousarray(weights.T)
        totals = w.sum(axis=0)
        theta = out.copy()
        eta = self.log_odds(theta)
        value = self.objective(w, eta, theta)
        g_last = np.full(m, np.inf)
        alone = []

        def settle(finished):
            nonlocal ids, w, totals, theta, eta, value, g_last
            out[:, ids[finished]] = theta[:, finished]
            keep = ~finished
            ids, w, totals, theta = ids[keep], w[:, keep], totals[keep], theta[:, keep]
            eta, value, g_last = eta[:, keep], value[keep], g_last[keep]
            return keep

        for _ in range(max_iter):
            grad = self.gradient(w * (expit(eta) - self.y[:, None]), theta)
            g_max = np.abs(grad).max(axis=0) / totals
            done = g_max <= tol
            # A gradient that grows tenfold: the shared Hessian fits this problem
            # badly, and its own fit finishes it.
            diverging = ~done & (g_max > 10 * g_last)
            g_last = g_max
            alone += ids[diverging].tolist()
            if (finished := done | diverging).any():
                grad = grad[:, settle(finished)]
            if ids.size == 0:
                break
            step = linalg.cho_solve(self.factor, grad, check_finite=False)
            d_eta = self.log_odds(step)
            slope = np.einsum("ij,ij->j", grad, step)
            t = np.ones(ids.size)
            new_value = self.objective(w, eta - d_eta, theta - step)
            # Halve the step of every problem whose objective did not fall enough.
            short = ~(new_value <= value - 1e-4 * slope)
            while short.any():
                t[short] *= 0.5
                k = np.flatnonzero(short)
                new_value[k] = self.objective(
                    w[:, k], eta[:, k] - t[k] * d_eta[:, k], theta[:, k] - t[k] * step[:, k]
                )
                short[k] = (new_value[k] > value[k] - 1e-4 * t[k] * slope[k]) & (t[k] >= 1e-10)
            theta -= t * step
            eta -= t * d_eta
            stalled = value - new_value <= 1e-16 * np.maximum(np.abs(value), 1.0)
            value = new_value
            if stalled.any():
                settle(stalled)
            if ids.size == 0:
                break
        else:
            alone += ids.tolist()  # out of steps: finish on their own
            settle(np.ones(ids.size, dtype=bool))
        for b in alone:
            fit = _fit(self.codes, self.sizes, self.y, weights[b], self.C,
                       (out[: self.p, b], out[self.p, b]), None, tol, max_iter,
                       HESSIAN_ROWS, random_state)  # fmt: skip
            out[: self.p, b], out[self.p, b] = fit.coef, fit.intercept
        return out[: self.p].T, out[self.p]


def _one_hot(code, size: int, n: int):
    """The (size, n) sparse matrix with a 1 at (code[i], i)."""
    return sp.csr_matrix((np.ones(n), (code, np.arange(n))), shape=(size, n))


class _Groups:
    """Consecutive criteria packed into one code a group.

    A group's code is the mixed-radix number of its criteria's bands (the
    last criterion varying fastest), so ``bincount`` of the code gives the
    joint table, and its marginals give every criterion's sums.
    """

    def __init__(self, columns, sizes, limit: int = GROUP_BANDS):
        self.members, self.shapes, self.codes = [], [], []
        j = 0
        while j < len(sizes):
            shape = [sizes[j]]
            while j + len(shape) < len(sizes) and np.prod(shape) * sizes[j + len(shape)] <= limit:
                shape.append(sizes[j + len(shape)])
            code = columns[j]
            if len(shape) > 1:
                code = np.array(code, dtype=np.intp)
                for m in range(1, len(shape)):
                    code *= shape[m]
                    code += columns[j + m]
            self.members.append(tuple(range(j, j + len(shape))))
            self.shapes.append(tuple(shape))
            self.codes.append(code)
            j += len(shape)
        self._bounds = np.cumsum([0, *sizes])

    def tables(self, values):
        """Every group's joint values: the outer sum of its criteria's ``values``.

        ``values`` has one row per band; further axes (problems) are kept.
        """
        out, j = [], 0
        rest = values.shape[1:]
        for shape in self.shapes:
            table = np.zeros((*shape, *rest))
            for axis, size in enumerate(shape):
                view = [1] * len(shape)
                view[axis] = size
                part = values[self._bounds[j + axis] : self._bounds[j + axis + 1]]
                table += part.reshape(*view, *rest)
            out.append(table.reshape(-1, *rest))
            j += len(shape)
        return out

    def joints(self, weights) -> list[np.ndarray]:
        """Every group's table of ``weights`` summed over its joint bands."""
        return [
            np.bincount(code, weights, minlength=int(np.prod(shape))).reshape(shape)
            for shape, code in zip(self.shapes, self.codes, strict=True)
        ]

    def gradient(self, resid) -> np.ndarray:
        """Per band, the sum of ``resid`` over its leads."""
        return np.concatenate([m for joint in self.joints(resid) for m in _marginals(joint)])


def _marginals(table, keep_last: bool = False) -> list[np.ndarray]:
    """The sums of a joint table onto each of its axes, in axis order.

    With ``keep_last``, the last axis indexes problems and is kept in every sum.
    """
    axes = range(table.ndim - 1 if keep_last else table.ndim)
    return [table.sum(axis=tuple(a for a in axes if a != i)) for i in axes]


def band_sum(values, codes, sizes, start=0) -> np.ndarray:
    """``start`` plus, for every lead, the sum over criteria of its band's value.

    ``values`` holds one entry per band, criteria one after another (weights
    or points); ``codes`` and ``sizes`` are as in :func:`fit_band_logistic`.

    Examples
    --------
    >>> band_sum(np.array([0, 5, 1, 2, 3]), np.array([[1, 2], [0, 0]]), [2, 3], start=10)
    array([18, 11])
    """
    offsets = np.cumsum([0, *sizes])
    out = np.full(len(codes), start, dtype=np.result_type(values, start))
    for j in range(codes.shape[1]):
        out += values[offsets[j] : offsets[j + 1]][codes[:, j]]
    return out


@functools.cache
def _blas() -> ThreadpoolController:
    # Finding the loaded BLAS libraries takes milliseconds: do it once.
    return ThreadpoolController()


def _log_odds(y, w) -> float:
    rate = float(w @ y) / float(w.sum())
    rate = min(max(rate, 1e-12), 1 - 1e-12)
    return float(np.log(rate / (1 - rate)))


def _hessian_rows(w, limit: int, random_state: int):
    """Row subset on which to estimate the Hessian, or None for every row."""
    present = np.flatnonzero(w > 0)
    if len(present) <= limit:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(present, limit, replace=False))


def bordered_hessian(hessian, codes, sizes, column, size: int, h) -> np.ndarray:
    """A data Hessian with one more criterion's rows and columns, from one pass a band.

    ``hessian`` is ``X' diag(h) X`` of the criteria of ``codes`` (intercept
    last), as :class:`BandFit` holds it; the result is the same for those
    criteria and ``column`` (``size`` bands), the new block placed before the
    intercept. Only the border is computed, from ``h``; the rest is copied,
    so a Hessian of other weights (a fit's, scaled to a fold's share) stays
    that one's.

    Parameters
    ----------
    hessian : ndarray of shape (n_bands + 1, n_bands + 1)
    codes : ndarray of int of shape (n_leads, n_criteria)
    sizes : sequence of int
    column : ndarray of int of shape (n_leads,)
        The new criterion's band of every lead.
    size : int
        Its number of bands.
    h : ndarray of shape (n_leads,)
        The curvature of every lead, ``w p (1 - p)`` (0 leaves a lead out).

    Returns
    -------
    ndarray of shape (n_bands + size + 1, n_bands + size + 1)

    Examples
    --------
    >>> codes = np.array([[0], [1], [1]])
    >>> h = np.array([1.0, 2.0, 3.0])
    >>> H = cross_sums(codes, [2], [h])[0]
    >>> new = np.array([1, 0, 1])
    >>> full = cross_sums(np.column_stack([codes, new]), [2, 2], [h])[0]
    >>> bool(np.allclose(bordered_hessian(H, codes, [2], new, 2, h), full))
    True
    """
    sizes = [int(s) for s in sizes]
    p = int(np.sum(sizes))
    column = np.asarray(column, dtype=np.intp)
    h = np.asarray(h, dtype=np.float64)
    groups = _Groups([np.ascontiguousarray(codes[:, j], dtype=np.intp)
                      for j in range(len(sizes))], sizes)  # fmt: skip
    border = np.stack([groups.gradient(h * (column == k)) for k in range(size)], axis=1)
    own = np.bincount(column, h, minlength=size)
    out = np.zeros((p + size + 1, p + size + 1))
    keep = np.r_[0:p, p + size]  # the old rows, the intercept's last
    out[np.ix_(keep, keep)] = hessian
    out[:p, p : p + size] = border
    out[p : p + size, :p] = border.T
    out[p : p + size, p : p + size] = np.diag(own)
    out[p : p + size, -1] = out[-1, p : p + size] = own
    return out


def cross_sums(codes, sizes, values) -> list[np.ndarray]:
    """For every vector of ``values``, ``X' diag(v) X`` of the one-hot band design.

    Block ``(j, l)`` (rows ``offsets[j]:offsets[j + 1]``, columns likewise)
    is the table of ``v`` summed over the leads of each band of criterion
    ``j`` and each band of criterion ``l``: what a screen of every pair of
    criteria needs, from a few grouped passes over the leads rather than a
    ``bincount`` a pair. The last row and column (the intercept's) hold
    every band's sum.

    Parameters
    ----------
    codes : ndarray of int of shape (n_leads, n_criteria)
    sizes : sequence of int
    values : sequence of ndarray of shape (n_leads,)

    Returns
    -------
    list of ndarray of shape (n_bands + 1, n_bands + 1)

    Examples
    --------
    >>> codes = np.array([[0, 1], [1, 1], [1, 0]])
    >>> table = cross_sums(codes, [2, 2], [np.array([1.0, 2.0, 3.0])])[0]
    >>> table[0:2, 2:4].tolist()
    [[0.0, 1.0], [3.0, 2.0]]
    """
    codes = np.asarray(codes)
    sizes = [int(s) for s in sizes]
    columns = [np.ascontiguousarray(codes[:, j], dtype=np.intp) for j in range(len(sizes))]
    groups = _Groups(columns, sizes, limit=HESSIAN_GROUP_BANDS)
    offsets = np.cumsum([0, *sizes])
    return [_data_hessian(groups, offsets, np.asarray(v, dtype=np.float64)) for v in values]


def _data_hessian(groups: _Groups, offsets, h) -> np.ndarray:
    """``X' diag(h) X`` of the one-hot design with an intercept column (last).

    Every block is a table of summed ``h`` over two criteria's bands. With
    the criteria packed into groups (of at most ``HESSIAN_GROUP_BANDS``
    joint bands), one ``bincount`` of two groups' codes fills the blocks of
    every criterion of one against every criterion of the other: a few times
    fewer passes over the leads than a ``bincount`` per pair.
    """
    p = int(offsets[-1])
    out = np.zeros((p + 1, p + 1))

    def fill(members_a, members_b, table):
        # ``table`` has one axis per criterion of the two groups, in order.
        axes = len(members_a) + len(members_b)
        for i, j in enumerate(members_a):
            for k, m in enumerate(members_b, start=len(members_a)):
                others = tuple(a for a in range(axes) if a not in (i, k))
                block = table.sum(axis=others) if others else table
                a, b = slice(offsets[j], offsets[j + 1]), slice(offsets[m], offsets[m + 1])
                out[a, b] = block
                out[b, a] = block.T

    units = list(zip(groups.members, groups.shapes, groups.codes, groups.joints(h), strict=True))
    for u, (members, shape, code, joint) in enumerate(units):
        for j, diagonal in zip(members, _marginals(joint), strict=True):
            a = slice(offsets[j], offsets[j + 1])
            out[a, a] = np.diag(diagonal)
            out[a, p] = out[p, a] = diagonal
        for i in range(len(members) - 1):
            # Blocks within the group: criterion i against every later one.
            others = tuple(range(i))
            fill(members[i : i + 1], members[i + 1 :], joint.sum(axis=others) if others else joint)
        for members_b, shape_b, code_b, _ in units[u + 1 :]:
            size_b = int(np.prod(shape_b))
            pair = np.bincount(code * size_b + code_b, h, minlength=int(np.prod(shape)) * size_b)
            fill(members, members_b, pair.reshape(shape + shape_b))
    out[p, p] = h.sum()
    return out


def _solve(matrix, vector) -> np.ndarray:
    """``matrix^-1 vector`` for a symmetric positive (semi-)definite matrix."""
    try:
        return linalg.cho_solve(linalg.cho_factor(matrix, check_finite=False), vector)
    except linalg.LinAlgError:
        # Only the intercept is unpenalised, so this needs every weight zero
        # in some criterion; a tiny ridge keeps the step defined.
        ridge = 1e-10 * max(float(np.trace(matrix)), 1.0)
        return linalg.solve(matrix + ridge * np.eye(len(matrix)), vector, assume_a="sym")
