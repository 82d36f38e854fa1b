"""Decay learning: how fast each family's behaviour fades, chosen by out-of-sample likelihood.

:func:`learn_kernels` compares, for every family of activity types, no decay
and half-lives from 3.5 to 448 days (refined by a golden-section search) by
the cross-validated log loss of a logistic regression on the decayed counts;
:class:`calibrate.learn.behaviour.ActivityFeaturizer` uses the kernels
chosen.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from ..io.activities import register_leads
from ..sheet.activity import half_life_grid
from ..sheet.feature import WEIGHT_SCALE, Kernel, exact_decay_is_safe
from ..sheet.sql import LogQueries
from ._dense_logistic import fit_dense_logistic, log_loss_of

__all__ = ["learn_kernels"]

#: Windows (days) tried besides decay when learning a family's kernel.
WINDOWS = (7, 30, 90)


def learn_kernels(
    con,
    leads,
    y,
    base,
    families,
    X_extra,
    *,
    random_state,
    max_learning_leads,
    decay_C,
    lookback_days,
):
    """Choose every family's kernel by cross-validated log loss.

    A kernel turns a type's activities into ``log1p(weighted count)``; a
    logistic regression on those (beside ``X_extra``) is scored by 3-fold
    log loss. Each family first tries no decay and half-lives one doubling
    apart (3.5 to 448 days); the best half-life is then refined by a
    golden-section search on the log scale between its neighbours.
    Families are improved one at a time, twice over.

    Parameters
    ----------
    con : Engine
        Holding the log (:func:`calibrate.io.activities.read_activities`); the
        leads sampled are put in it as ``calibrate_leads_frame``.
    leads : pandas.DataFrame
        Columns ``lead_id`` (text) and ``decision_time``, one row per lead.
    y : numpy.ndarray of bool
        Outcomes of the leads.
    base : ActivitySpec
        The look-back and detail rules.
    families : dict
        ``{activity type: family}``.
    X_extra : array-like, optional
        Other features of the same leads, used beside behaviour.
    random_state, max_learning_leads, decay_C, lookback_days
        As for :class:`~calibrate.learn.behaviour.ActivityFeaturizer`.

    Returns
    -------
    choice : dict
        ``{family: Kernel}``.
    rows : list of dict
        Per family: ``family``, ``kernel``, ``half_life_days``, ``log_loss``,
        ``log_loss_no_decay`` and ``improvement``.
    """
    rng = np.random.default_rng(random_state)
    n = len(leads)
    if n > max_learning_leads:
        sample = np.sort(rng.choice(n, max_learning_leads, replace=False))
    else:
        sample = np.arange(n)
    sample_leads = leads.iloc[sample].reset_index(drop=True)
    types = sorted(families)
    by_family: dict[str, list[str]] = {}
    for t in types:
        by_family.setdefault(families[t], []).append(t)
    grid = [Kernel("all")] + [Kernel("decay", float(h)) for h in half_life_grid(3.5, 448, 1)]
    ages = _age_counts(con, sample_leads, base, types)
    cache: dict = {}

    def columns(family, kernel):
        key = (family, kernel)
        if key not in cache:
            cols = []
            for t in by_family[family]:
                empty = np.zeros(0, np.int64)
                lead, age, n = ages.get(t, (empty, empty, empty))
                by_day = kernel.weights(np.arange(lookback_days + 1))
                total = _decayed(lead, age, n, by_day, len(sample))
                x = np.log1p(total / WEIGHT_SCALE)
                cols.append((x - x.mean()) / (x.std() + 1e-12))
            cache[key] = np.column_stack(cols)
        return cache[key]

    ys = y[sample].astype(int)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=random_state).split(ys, ys))
    extra = None
    if X_extra is not None:
        extra = _explicit_log_odds(X_extra[sample], ys, folds)

    ysf = ys.astype(float)
    # Every fold's last weights: the next kernel's fit starts from them.
    starts: list = [None] * len(folds)

    def loss(choice):
        blocks = [columns(f, choice[f]) for f in sorted(by_family)]
        X = np.column_stack(blocks + ([extra] if extra is not None else []))
        total = 0.0
        for i, (train, valid) in enumerate(folds):
            weights = fit_dense_logistic(X[train], ysf[train], decay_C, start=starts[i])
            starts[i] = weights
            total += log_loss_of(X[valid], ysf[valid], weights)
        return total / len(ys)

    choice, current = _coordinate_search(by_family, grid, loss, lookback_days)
    return choice, _decay_rows(by_family, choice, current, loss)


#: Rows of the statistic weighed at a time: bounds the memory of a decayed count.
_ROWS_AT_A_TIME = 1 << 20


def _decayed(lead, age, n, weight_of_day, n_leads: int) -> np.ndarray:
    """Every lead's weighted count (in thousandths): the sum of ``n * weight(age)`` of its rows.

    Weights are whole thousandths, so the sums are exact in any order; the
    rows are taken a million at a time.
    """
    total = np.zeros(n_leads)
    for start in range(0, len(lead), _ROWS_AT_A_TIME):
        part = slice(start, start + _ROWS_AT_A_TIME)
        weights = weight_of_day[age[part]] * n[part]
        total += np.bincount(lead[part], weights=weights, minlength=n_leads)
    return total


def _explicit_log_odds(design, ys, folds):
    """Who the lead is, as one cross-fitted log-odds column.

    It sharpens the comparison of kernels at a fraction of the cost.
    """
    extra = np.zeros(len(ys))
    for train, valid in folds:
        explicit = LogisticRegression(solver="newton-cholesky", max_iter=100)
        explicit.fit(design[train], ys[train])
        extra[valid] = explicit.decision_function(design[valid])
    return extra


def _coordinate_search(by_family, grid, loss, lookback_days):
    """Improve one family's kernel at a time, twice over; the kernels and their loss."""
    choice = dict.fromkeys(by_family, Kernel("all"))
    current = loss(choice)
    for _ in range(2):
        changed = False
        for family in sorted(by_family):
            best, best_loss = choice[family], current
            for kernel in grid:
                value = loss({**choice, family: kernel})
                if value < best_loss - 1e-12:
                    best, best_loss = kernel, value
            if best.kind == "decay":
                best, best_loss = _golden(
                    best, best_loss, family, choice, loss, lookback_days=lookback_days
                )
            if best != choice[family]:
                choice[family], current, changed = best, best_loss, True
        if not changed:
            break
    return choice, current


def _decay_rows(by_family, choice, current, loss) -> list[dict]:
    """Per family, the kernel chosen and the loss with it and without decay."""
    rows = []
    for family in sorted(by_family):
        without = loss({**choice, family: Kernel("all")})
        kernel = choice[family]
        rows.append(
            {
                "family": family,
                "kernel": kernel.label,
                "half_life_days": kernel.days if kernel.kind == "decay" else np.nan,
                "log_loss": current,
                "log_loss_no_decay": without,
                "improvement": without - current,
            }
        )
    return rows


def _golden(kernel, value, family, choice, loss, *, lookback_days: int, steps: int = 6):
    """Golden-section search of a half-life within a factor 2 of the grid's best."""
    # Stay within the grid's range (3.5 to 448 days).
    lo = max(np.log(kernel.days / 2), np.log(3.5))
    hi = min(np.log(kernel.days * 2), np.log(448.0))
    ratio = (np.sqrt(5) - 1) / 2
    best, best_value = kernel, value

    def at(x):
        h = round(float(np.exp(x)), 1)
        while not exact_decay_is_safe(h, lookback_days + 1):
            h = round(h + 0.1, 1)
        k = Kernel("decay", h)
        return k, loss({**choice, family: k})

    a, b = lo + (1 - ratio) * (hi - lo), lo + ratio * (hi - lo)
    (ka, fa), (kb, fb) = at(a), at(b)
    for _ in range(steps):
        for k, f in ((ka, fa), (kb, fb)):
            if f < best_value - 1e-12:
                best, best_value = k, f
        if fa <= fb:
            hi, b, kb, fb = b, a, ka, fa
            a = lo + (1 - ratio) * (hi - lo)
            ka, fa = at(a)
        else:
            lo, a, ka, fa = a, b, kb, fb
            b = lo + ratio * (hi - lo)
            kb, fb = at(b)
    for k, f in ((ka, fa), (kb, fb)):
        if f < best_value - 1e-12:
            best, best_value = k, f
    return best, best_value


def _age_counts(con, leads, base, types) -> dict:
    """``{type: (lead position, age in days, activities)}`` of the activities that count.

    The sufficient statistic of the search: a kernel weighs an activity by
    its age in whole days alone, so every decayed count is a weighted sum of
    these rows. The engine holding the log groups them (one row per lead,
    type and day) and sends them as small integers in type order; each
    type's arrays are slices of one column, so the search never reads an
    activity, and holds 12 bytes per lead, type and day however long the log.
    """
    spec = replace(base, features=())
    register_leads(con, leads)
    table = con.arrow(
        LogQueries(con.dialect, spec.lookback_days).age_counts(types),
        stage="half-life statistic",
    )
    columns = []
    for name in ("position", "type", "age", "n"):
        # One column at a time out of the table: its batches are freed as it goes.
        columns.append(table.column(name).combine_chunks().to_numpy(zero_copy_only=False))
        table = table.drop_columns([name])
    position, code, age, n = columns
    bounds = np.searchsorted(code, np.arange(len(types) + 1))
    return {
        name: (position[a:b], age[a:b], n[a:b])
        for name, a, b in zip(types, bounds[:-1], bounds[1:], strict=True)
        if b > a
    }
