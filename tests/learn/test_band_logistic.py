"""The band-code Newton solver against scikit-learn's logistic regression."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from calibrate.learn import _band_logistic
from calibrate.learn._band_logistic import fit_band_logistic, refit_band_logistic
from calibrate.learn.binning import _tree_cuts


def _problem(n, sizes, seed):
    rng = np.random.default_rng(seed)
    codes = np.column_stack([rng.integers(0, s, n) for s in sizes])
    effects = [rng.normal(0, 0.7, s) for s in sizes]
    eta = -1.5 + sum(e[codes[:, j]] for j, e in enumerate(effects))
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    return codes, y


def _design(codes, sizes):
    offsets = np.cumsum([0, *sizes])
    n, k = codes.shape
    return sp.csr_matrix(
        (np.ones(n * k), (codes + offsets[:-1]).ravel(), np.arange(0, n * k + 1, k)),
        shape=(n, offsets[-1]),
    )


@pytest.mark.parametrize("C", [1e-3, 0.1, 10.0, 1e3])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_scikit_learn(C, weighted):
    sizes = [4, 6, 2, 5]
    codes, y = _problem(3000, sizes, seed=1)
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(y)) if weighted else np.ones(len(y))
    ref = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    ref.fit(_design(codes, sizes), y, sample_weight=w)
    fit = fit_band_logistic(codes, sizes, y, w, C, tol=1e-12)
    np.testing.assert_allclose(fit.coef, ref.coef_[0], atol=1e-6)
    assert fit.intercept == pytest.approx(ref.intercept_[0], abs=1e-6)


def test_subsampled_hessian_reaches_the_full_optimum():
    sizes = [5, 3, 7]
    codes, y = _problem(20000, sizes, seed=3)
    w = np.ones(len(y))
    exact = fit_band_logistic(codes, sizes, y, w, 1.0, tol=1e-12, hessian_rows=10**6)
    sub = fit_band_logistic(codes, sizes, y, w, 1.0, tol=1e-12, hessian_rows=500)
    np.testing.assert_allclose(sub.coef, exact.coef, atol=1e-7)
    assert sub.intercept == pytest.approx(exact.intercept, abs=1e-7)


def test_weight_two_equals_a_duplicated_row():
    sizes = [3, 4]
    codes, y = _problem(400, sizes, seed=4)
    w = np.ones(len(y))
    w[:50] = 2.0
    doubled = fit_band_logistic(codes, sizes, y, w, 0.5, tol=1e-12)
    rows = np.r_[np.arange(len(y)), np.arange(50)]
    copied = fit_band_logistic(codes[rows], sizes, y[rows], np.ones(len(rows)), 0.5, tol=1e-12)
    np.testing.assert_allclose(doubled.coef, copied.coef, atol=1e-9)


def test_warm_start_converges_in_few_steps():
    sizes = [4, 4, 4]
    codes, y = _problem(5000, sizes, seed=5)
    w = np.ones(len(y))
    cold = fit_band_logistic(codes, sizes, y, w, 1.0)
    warm = fit_band_logistic(
        codes, sizes, y, w, 1.2, init=(cold.coef, cold.intercept), hessian=cold.hessian
    )
    assert warm.n_iter < cold.n_iter
    assert warm.n_iter <= 3


def test_empty_band_gets_zero_weight():
    codes = np.array([[0, 0], [1, 1], [0, 1], [1, 0]] * 10)
    y = np.array([0, 1, 1, 0] * 10, dtype=bool)
    fit = fit_band_logistic(codes, [3, 2], y, np.ones(len(y)), 1.0)
    assert fit.coef[2] == 0.0


def test_mismatched_sizes_are_refused():
    with pytest.raises(ValueError, match="2 criteria but sizes lists 1"):
        fit_band_logistic(np.zeros((4, 2), dtype=int), [1], np.array([0, 1, 0, 1]), np.ones(4), 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tree_on_distinct_values_cuts_as_the_tree_on_every_lead(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    x = rng.poisson(3, n).astype(float) + rng.integers(0, 3, n) * 0.5
    y = rng.random(n) < 1 / (1 + np.exp(-(x - 3) / 2))
    w = np.ones(n)
    min_leaf = 250
    codes, uniq = np.unique(x, return_inverse=True)[1], np.unique(x)
    below, above = _tree_cuts(x, codes, uniq, y, w, 5, min_leaf)
    # The splits come in the order the tree made them; the partitions are sorted.
    order = np.argsort(below)
    below, above = below[order], above[order]
    tree = DecisionTreeClassifier(max_leaf_nodes=5, min_samples_leaf=min_leaf, random_state=0)
    tree.fit(x.reshape(-1, 1), y)
    expected = np.sort(tree.tree_.threshold[tree.tree_.feature >= 0])
    # The same partitions: every threshold lies between the pair of values.
    assert len(below) == len(expected) > 0
    assert np.all(below <= expected) and np.all(expected < above)
    np.testing.assert_array_equal(np.searchsorted(uniq, below) + 1, np.searchsorted(uniq, above))


def test_tree_cuts_values_past_the_float32_limit():
    # The tree reads float32; the cuts still separate values of any size.
    x = np.array([-1e308, -1e39, 0.0, 1.0, 2.0, 1e39, 1e308] * 40)
    y = np.tile([0, 0, 0, 1, 1, 1, 1], 40).astype(bool)
    codes, uniq = np.unique(x, return_inverse=True)[1], np.unique(x)
    below, above = _tree_cuts(x, codes, uniq, y, np.ones(len(x)), 5, 20)
    assert below.tolist() == [0.0] and above.tolist() == [1.0]


@pytest.mark.parametrize("limit", [1, 6, 40, 10**6])
def test_grouped_codes_give_every_criterion_its_sums(limit):
    # Packing criteria into joint codes must not change a lead's log-odds or
    # a band's gradient, whatever the groups.
    from calibrate.learn._band_logistic import _Groups, band_sum

    rng = np.random.default_rng(3)
    sizes = [3, 5, 2, 4, 6]
    codes = np.column_stack([rng.integers(0, s, 400) for s in sizes])
    values, resid = rng.normal(size=sum(sizes)), rng.normal(size=400)
    groups = _Groups([codes[:, j] for j in range(len(sizes))], sizes, limit=limit)
    assert sum(len(shape) for shape in groups.shapes) == len(sizes)
    eta = sum(t[c] for t, c in zip(groups.tables(values), groups.codes, strict=True))
    np.testing.assert_allclose(eta, band_sum(values, codes, sizes), atol=1e-12)
    expected = np.concatenate(
        [np.bincount(codes[:, j], resid, minlength=s) for j, s in enumerate(sizes)]
    )
    np.testing.assert_allclose(groups.gradient(resid), expected, atol=1e-12)


@pytest.mark.parametrize(
    "sizes", [[3, 5, 2, 4, 6], [30, 2, 3], [4], [9, 9, 2, 40, 3, 3, 7], [2, 3, 2, 4, 2, 2]]
)
def test_hessian_equals_the_dense_design_product(sizes):
    # The packed-unit Hessian must be X' diag(h) X of the one-hot design with
    # an intercept column, whichever criteria pair up.
    from calibrate.learn._band_logistic import HESSIAN_GROUP_BANDS, _data_hessian, _Groups

    rng = np.random.default_rng(7)
    codes = np.column_stack([rng.integers(0, s, 300) for s in sizes])
    h = rng.random(300)
    X = np.hstack([_design(codes, sizes).toarray(), np.ones((300, 1))])
    columns = [codes[:, j].astype(np.intp) for j in range(len(sizes))]
    offsets = np.cumsum([0, *sizes])
    np.testing.assert_allclose(
        _data_hessian(_Groups(columns, sizes, HESSIAN_GROUP_BANDS), offsets, h),
        X.T @ (h[:, None] * X),
        atol=1e-10,
    )
    rows = np.sort(rng.choice(300, 120, replace=False))
    sub = X[rows]
    np.testing.assert_allclose(
        _data_hessian(
            _Groups([c[rows] for c in columns], sizes, HESSIAN_GROUP_BANDS), offsets, h[rows]
        ),
        sub.T @ (h[rows, None] * sub),
        atol=1e-10,
    )


@pytest.mark.parametrize("sizes", [[3, 5, 2], [30, 2, 3, 4], [4], [9, 9, 2, 40, 3]])
def test_cross_sums_and_the_bordered_hessian_are_design_products(sizes):
    # Every pair screen's tables, and a Hessian grown by one criterion, must be
    # X' diag(v) X of the one-hot design; the border alone is computed.
    from calibrate.learn._band_logistic import bordered_hessian, cross_sums

    rng = np.random.default_rng(3)
    codes = np.column_stack([rng.integers(0, s, 400) for s in sizes])
    v, h = rng.normal(size=400), rng.random(400)
    X = np.hstack([_design(codes, sizes).toarray(), np.ones((400, 1))])
    sums = cross_sums(codes, sizes, [v, h])
    np.testing.assert_allclose(sums[0], X.T @ (v[:, None] * X), atol=1e-10)
    new = rng.integers(0, 3, 400)
    grown = np.column_stack([codes, new])
    Xg = np.hstack([_design(grown, [*sizes, 3]).toarray(), np.ones((400, 1))])
    np.testing.assert_allclose(
        bordered_hessian(sums[1], codes, sizes, new, 3, h), Xg.T @ (h[:, None] * Xg), atol=1e-10
    )
    # The old block is copied, not recomputed: a scaled Hessian stays scaled.
    scaled = bordered_hessian(2 * sums[1], codes, sizes, new, 3, h)
    p = sum(sizes)
    np.testing.assert_allclose(scaled[:p, :p], 2 * sums[1][:p, :p])


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_refits_together_reach_every_refit_alone(C):
    """Bootstrap-like weightings solved at once meet each one's own optimum."""
    sizes = [5, 3, 7, 2, 4]
    codes, y = _problem(2500, sizes, seed=3)
    full = fit_band_logistic(codes, sizes, y, np.ones(len(y)), C, tol=1e-12)
    rng = np.random.default_rng(4)
    weights = np.stack([np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y))
                        for _ in range(12)]).astype(float)  # fmt: skip
    weights[3] *= 0.01  # a very different scale of weights: still the same optimum
    coef, intercept = refit_band_logistic(
        codes, sizes, y, weights, C, init=(full.coef, full.intercept), hessian=full.hessian,
        tol=1e-11,
    )  # fmt: skip
    assert coef.shape == (12, sum(sizes)) and intercept.shape == (12,)
    for b in range(12):
        alone = fit_band_logistic(codes, sizes, y, weights[b], C, tol=1e-11)
        np.testing.assert_allclose(coef[b], alone.coef, atol=1e-6)
        assert intercept[b] == pytest.approx(alone.intercept, abs=1e-6)


def test_refits_in_small_batches_give_the_same_weights(monkeypatch):
    sizes = [4, 6, 3]
    codes, y = _problem(1000, sizes, seed=5)
    full = fit_band_logistic(codes, sizes, y, np.ones(len(y)), 1.0)
    weights = np.random.default_rng(6).poisson(1.0, (7, len(y))).astype(float)
    kwargs = {"init": (full.coef, full.intercept), "hessian": full.hessian}
    together = refit_band_logistic(codes, sizes, y, weights, 1.0, **kwargs)
    monkeypatch.setattr(_band_logistic, "BATCH_CELLS", 2 * len(y))  # two problems a batch
    batched = refit_band_logistic(codes, sizes, y, weights, 1.0, **kwargs)
    np.testing.assert_allclose(batched[0], together[0], atol=1e-12)
    np.testing.assert_allclose(batched[1], together[1], atol=1e-12)


def test_a_refit_the_shared_hessian_fits_badly_is_finished_alone(monkeypatch):
    """A problem the shared Hessian cannot solve in ``max_iter`` steps still converges."""
    sizes = [3, 4]
    codes, y = _problem(1500, sizes, seed=7)
    other = fit_band_logistic(codes, sizes, ~y, np.ones(len(y)), 1.0)
    calls = []
    solve_alone = _band_logistic._fit
    monkeypatch.setattr(_band_logistic, "_fit", lambda *a: calls.append(1) or solve_alone(*a))
    weights = np.ones((2, len(y)))
    coef, _ = refit_band_logistic(
        codes, sizes, y, weights, 1.0, init=(other.coef, other.intercept),
        hessian=other.hessian * 1e4,  # steps far too short to get anywhere
    )  # fmt: skip
    truth = solve_alone(codes, sizes, y, np.ones(len(y)), 1.0, None, None, 1e-8, 100, 50_000, 0)
    assert calls  # the test's premise: the shared steps did not get there
    np.testing.assert_allclose(coef[0], truth.coef, atol=1e-6)
