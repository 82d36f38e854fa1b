"""Tests for calibrate.learn._dense_logistic: the decay search's small logistic solver."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from calibrate.learn._dense_logistic import fit_dense_logistic, log_loss_of


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_optimum_as_scikit_learn(C, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(800, 6)) * rng.uniform(0.1, 3, size=6)
    y = (X @ rng.normal(size=6) + rng.logistic(size=800) > 1.0).astype(float)
    ref = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=500).fit(X, y)
    w = fit_dense_logistic(X, y, C)
    np.testing.assert_allclose(w[:-1], ref.coef_[0], atol=1e-6)
    assert w[-1] == pytest.approx(ref.intercept_[0], abs=1e-6)
    p = ref.predict_proba(X)[:, 1]
    assert log_loss_of(X, y, w) == pytest.approx(log_loss(y, p) * len(y), rel=1e-9)


def test_a_warm_start_reaches_the_same_weights():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 4))
    y = (X[:, 0] - X[:, 1] + rng.logistic(size=500) > 0).astype(float)
    cold = fit_dense_logistic(X, y, 1.0)
    warm = fit_dense_logistic(X, y, 1.0, start=cold + 0.3)
    np.testing.assert_allclose(warm, cold, atol=1e-9)


def test_separable_data_stays_finite_under_the_penalty():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    w = fit_dense_logistic(X, y, 10.0)
    assert np.isfinite(w).all() and w[0] > 0
    assert np.isfinite(log_loss_of(X, y, w))


def test_a_start_at_the_optimum_stops_in_a_few_objective_evaluations(monkeypatch):
    # Near the optimum a full step lowers the objective by less than its
    # rounding error; the solver must take it and stop, not halve it some
    # thirty times to nothing before giving up.
    from calibrate.learn import _dense_logistic

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2700, 12))
    y = (X[:, 0] + rng.normal(size=2700) > 0).astype(float)
    best = fit_dense_logistic(X, y, 1.0)
    evaluations = []

    class Counting:
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def logaddexp(*args, **kwargs):
            evaluations.append(1)
            return np.logaddexp(*args, **kwargs)

    monkeypatch.setattr(_dense_logistic, "np", Counting())
    starts = [best + 0.01 * rng.normal(size=13) for _ in range(30)]
    for start in starts:
        np.testing.assert_allclose(fit_dense_logistic(X, y, 1.0, start=start), best, atol=1e-7)
    assert len(evaluations) <= 5 * len(starts)
