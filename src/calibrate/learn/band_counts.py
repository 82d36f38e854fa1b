"""How many ranges each numeric criterion earns, chosen by cross-validation.

A constant band count is too many ranges for a weak criterion and too few for
a strong one with a curved effect. :func:`choose_range_counts` asks the data:
for every numeric criterion, with the rest of the additive sheet held as an
offset, each fold's training leads cut the criterion again into its ``k``
strongest ranges (the binner's tree, grown best first, so the cuts of ``k``
ranges are a prefix of those of more), and the held-out leads say which ``k``
predicts best: the count of least out-of-fold log loss is kept. The rest of
the sheet is the fold's own additive model, fitted on its training leads
while the penalty was chosen, so no held-out lead shapes its offset.

On the shared data sets (seeds 0-2, at most 10 ranges and 8 pair rules),
against a constant 5 ranges, and measured when the offset was still one sheet
fitted on every training lead (before each fold had its own), that count
gave the integer sheet +0.0011 AUC on online shoppers, +0.0018 on bank-full
and -0.0004 on bank-additional. The fewest ranges within one standard error
of the best, a rule that makes a finer sheet earn its rows, gave +0.0010,
-0.0007 and -0.0009.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ..sheet.criteria import coerce_column
from ._band_logistic import band_sum

__all__ = ["choose_range_counts", "fold_rows"]

#: Newton steps allowed to a criterion's band weights (the offset holds the rest).
_STEPS = 25


def choose_range_counts(binner, X, codes, y, w, fits, folds, C) -> dict[str, int]:
    """The number of ranges of every numeric criterion, by out-of-fold log loss.

    Parameters
    ----------
    binner : LeadBinner
        Fitted with the most ranges allowed (``max_bins``).
    X : pandas.DataFrame
        The training leads' columns.
    codes : ndarray of int of shape (n_leads, n_criteria)
        Their band codes.
    y, w : ndarray of shape (n_leads,)
        Outcomes (0/1) and lead weights.
    fits : list of (coef, intercept)
        Every fold's additive model on the binner's bands (band weights in
        the binner's band order), fitted on the fold's training leads.
    folds : list of (train rows, validation rows)
        The cross-validation folds, as many as ``fits``.
    C : float
        The model's inverse penalty on band weights.

    Returns
    -------
    dict
        ``{criterion: k}`` for every numeric criterion with a choice to make.

    Examples
    --------
    One clear step at 10 visits: two ranges do, ten are noise.

    >>> import pandas as pd
    >>> from sklearn.model_selection import StratifiedKFold
    >>> from calibrate.learn.binning import LeadBinner
    >>> rng = np.random.default_rng(1)
    >>> X = pd.DataFrame({"visits": rng.integers(0, 40, 6000).astype(float)})
    >>> y = (rng.random(6000) < np.where(X["visits"] >= 10, 0.3, 0.1)).astype(float)
    >>> binner = LeadBinner(max_bins=10)
    >>> codes = binner.fit_transform(X, y).to_numpy()
    >>> folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    >>> start = np.log(y.mean() / (1 - y.mean()))
    >>> fits = [(np.zeros(len(binner.get_feature_names_out())), start)] * len(folds)
    >>> choose_range_counts(binner, X, codes, y, np.ones(6000), fits, folds, C=1.0)
    {'visits': 2}
    """
    offsets = binner.band_offsets()
    most = binner.max_bins
    rows, folds = fold_rows(folds, len(y))
    y, w, codes = y[rows], w[rows], codes[rows]
    sizes = np.diff(offsets)
    etas = [band_sum(coef, codes, sizes, start=intercept) for coef, intercept in fits]
    chosen = {}
    for j, criterion in enumerate(binner.criteria_):
        if criterion.kind != "numeric" or criterion.column not in binner._split_order_:
            continue
        if len(binner._split_order_[criterion.column]) < 2:
            continue
        x = coerce_column(X[criterion.column].iloc[rows], "numeric", criterion.column)
        x = x.to_numpy(dtype=float, na_value=np.nan)
        bases, edges = [], []
        for (train, _), eta, (coef, _) in zip(folds, etas, fits, strict=True):
            bases.append(eta - coef[offsets[j] + codes[:, j]])
            edges.append(binner.split_edges(x[train], y[train], w[train]))
        losses = _held_out_losses(x, bases, y, w, edges, most, folds, C)
        valid = np.concatenate([b for _, b in folds])
        weight = w[valid] / w[valid].sum()
        # The count of least loss; of equal ones, the fewest ranges.
        chosen[criterion.name] = 2 + int(np.argmin(losses @ weight))
    return chosen


def fold_rows(folds, n: int) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """The leads the folds cover (sorted), and every fold's rows among them.

    Parameters
    ----------
    folds : list of (train rows, validation rows)
        Rows among ``n`` leads.
    n : int
        Number of leads.

    Returns
    -------
    rows : ndarray of int
    folds : list of (train rows, validation rows)
        Positions in ``rows``.

    Examples
    --------
    >>> rows, folds = fold_rows([(np.array([2, 7]), np.array([5]))], 9)
    >>> rows.tolist(), [(a.tolist(), b.tolist()) for a, b in folds]
    ([2, 5, 7], [([0, 2], [1])])
    """
    rows = np.unique(np.concatenate([np.concatenate([a, b]) for a, b in folds]))
    where = np.full(n, -1, dtype=np.intp)
    where[rows] = np.arange(len(rows))
    return rows, [(where[a], where[b]) for a, b in folds]


def _bands(x, edges, most) -> np.ndarray:
    """Band of every value under 2..``most`` ranges: shape (most - 1, n); missing is ``most``.

    Count ``k`` cuts at the first ``k - 1`` edges. A tree that made fewer
    splits gives its finest cut to the larger counts.
    """
    cuts = np.unique(np.asarray(edges, dtype=float))
    # A value's band under any count is the number of that count's edges at
    # or below it, read from the value's place among all the edges.
    place = np.searchsorted(cuts, np.nan_to_num(x), side="right")
    rank = np.searchsorted(cuts, np.asarray(edges, dtype=float))
    below = rank[None, :] < np.arange(len(cuts) + 1)[:, None]
    table = np.zeros((most - 1, len(cuts) + 1), dtype=np.intp)
    for i, k in enumerate(range(2, most + 1)):
        table[i] = below[:, : k - 1].sum(axis=1)
    return np.where(np.isnan(x)[None, :], most, table[:, place])


def _ranges(edges, most) -> tuple[list[tuple[float, float]], np.ndarray]:
    """The distinct ranges of the cuts into 2..``most`` ranges, and each count's bands among them.

    Each finer cut splits one range of the coarser one in two, so the nine
    cuts of 2..10 ranges hold at most 18 distinct ranges (the tree's nodes),
    not 54. Gives the ranges ``(lower, upper)`` and a table of shape
    (most - 1, most + 1): count ``k``'s band ``b`` is range ``table[k - 2, b]``,
    and the missing band (``most``) is the last one, ``len(ranges)``.
    """
    ranges: dict[tuple[float, float], int] = {}
    table = np.zeros((most - 1, most + 1), dtype=np.intp)
    for i, k in enumerate(range(2, most + 1)):
        bounds = [-np.inf, *np.sort(np.asarray(edges[: k - 1], dtype=float)), np.inf]
        for b in range(len(bounds) - 1):
            table[i, b] = ranges.setdefault((bounds[b], bounds[b + 1]), len(ranges))
    table[:, most] = len(ranges)
    return list(ranges), table


def _held_out_losses(x, bases, y, w, edges, most, folds, C) -> np.ndarray:
    """Held-out log loss of every validation lead for 2..``most`` ranges.

    With the fold's offset ``bases[f]`` held, every range's weight is a
    one-dimensional Newton problem on the fold's training leads in it; a
    range shared by several counts is solved once, and all folds' ranges
    step together. Shape (most - 1, n_validation), the folds' validation
    leads one after another.
    """
    groups, rows, offset, tables, first = [], [], [], [], 0
    for f, (train, _) in enumerate(folds):
        ranges, table = _ranges(edges[f], most)
        xt = x[train]
        members = [np.flatnonzero((xt >= low) & (xt < high)) for low, high in ranges]
        members.append(np.flatnonzero(np.isnan(xt)))
        for r, m in enumerate(members):
            groups.append(np.full(len(m), first + r, dtype=np.intp))
            rows.append(train[m])
            offset.append(bases[f][train[m]])
        tables.append(table + first)
        first += len(members)
    g, rows, o = np.concatenate(groups), np.concatenate(rows), np.concatenate(offset)
    wt = w[rows]
    wins = np.bincount(g, wt * y[rows], first)
    beta = np.zeros(first)
    for _ in range(_STEPS):
        p = expit(o + beta[g])
        wp = wt * p
        grad = np.bincount(g, wp, first) - wins + beta / C
        curve = np.bincount(g, wp * (1.0 - p), first) + 1.0 / C
        step = grad / curve
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    losses = []
    counts = np.arange(most - 1)[:, None]
    for f, (_, held) in enumerate(folds):
        band = _bands(x[held], edges[f], most)
        e = bases[f][held][None, :] + beta[tables[f][counts, band]]
        losses.append(np.logaddexp(0.0, e) - y[held][None, :] * e)
    return np.concatenate(losses, axis=1)
