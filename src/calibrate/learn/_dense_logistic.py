"""Newton solver for a small dense L2-penalised logistic regression, and its log loss.

The decay search (:mod:`calibrate.learn.behaviour`) scores each candidate
kernel by the cross-validated log loss of a logistic regression on a dozen
dense columns (one a activity type, plus who the lead is as one log-odds
column). It makes some five hundred such fits, each on a few thousand leads;
with :class:`sklearn.linear_model.LogisticRegression` the checks and set-up of
every call cost more than the arithmetic. This module solves the same problem
as ``LogisticRegression(C=C, solver="newton-cholesky")``,
``C * sum_i loss_i + ||beta||^2 / 2`` with an unpenalised intercept, by plain
Newton steps on a ``(p + 1) x (p + 1)`` system, started from the last
solution when the caller has one.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.special import expit

__all__ = ["fit_dense_logistic", "log_loss_of"]


def fit_dense_logistic(
    X: np.ndarray,
    y: np.ndarray,
    C: float,
    *,
    start: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> np.ndarray:
    """Weights (intercept last) minimising ``C * log loss sum + ||beta||^2 / 2``.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Dense design, without the intercept column.
    y : ndarray of shape (n,)
        0/1 outcomes.
    C : float
        Inverse penalty strength, as scikit-learn's ``C``.
    start : ndarray of shape (p + 1,), optional
        Initial weights (a warm start); zeros by default.
    tol : float, default=1e-10
        Stop when the largest gradient entry, per lead, is below ``tol``.
    max_iter : int, default=100
        Most Newton steps.

    Returns
    -------
    ndarray of shape (p + 1,)
        The weights, the intercept last.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2))
    >>> y = (X[:, 0] + rng.normal(size=500) > 0).astype(float)
    >>> from sklearn.linear_model import LogisticRegression
    >>> ref = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10).fit(X, y)
    >>> w = fit_dense_logistic(X, y, 1.0)
    >>> bool(np.allclose(w, np.r_[ref.coef_[0], ref.intercept_], atol=1e-6))
    True
    """
    n, p = X.shape
    design = np.column_stack([X, np.ones(n)])
    penalty = np.full(p + 1, 1.0 / C)
    penalty[p] = 0.0
    w = np.zeros(p + 1) if start is None else np.asarray(start, dtype=float).copy()

    def objective(weights):
        # scikit-learn's objective divided by C: the same minimiser.
        # log(1 + e^eta) - y eta per lead: one stable transcendental a lead.
        eta = design @ weights
        loss = np.logaddexp(0.0, eta).sum() - y @ eta
        return loss + 0.5 * (penalty * weights * weights).sum()

    current = objective(w)
    for _ in range(max_iter):
        prob = expit(design @ w)
        grad = design.T @ (prob - y) + penalty * w
        if np.max(np.abs(grad)) <= tol * n:
            break
        hess = (design * (prob * (1 - prob))[:, None]).T @ design
        hess[np.diag_indices_from(hess)] += penalty
        step = linalg.solve(hess, grad, assume_a="pos", check_finite=False)
        slope = grad @ step
        if slope <= 1e-13 * max(abs(current), 1.0):
            # A full step would lower the objective by less than its rounding
            # error: no line search could see it, so take it and stop.
            w = w - step
            break
        t = 1.0
        while True:
            trial = w - t * step
            value = objective(trial)
            if value <= current - 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        w, current = trial, value
    return w


def log_loss_of(X: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
    """Summed log loss of 0/1 outcomes ``y`` under the weights (intercept last).

    Probabilities are clipped to ``[eps, 1 - eps]`` as
    :func:`sklearn.metrics.log_loss` clips them.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0]])
    >>> round(log_loss_of(X, np.array([0.0, 1.0]), np.array([0.0, 0.0])), 6)
    1.386294
    """
    prob = expit(X @ weights[:-1] + weights[-1])
    eps = np.finfo(prob.dtype).eps
    prob = np.clip(prob, eps, 1 - eps)
    return float(-(y * np.log(prob) + (1 - y) * np.log(1 - prob)).sum())
