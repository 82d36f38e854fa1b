"""Features: cut every lead attribute into a few readable bands.

:class:`LeadBinner` learns, from past leads, the bands a points sheet can
hold: numeric columns (company size, page views, time on site...) get a few
ranges with round edges, chosen by a shallow decision tree on the outcome;
categorical columns (role, seniority, industry, source...) keep their common
levels and group the rare ones as "Other". Every criterion has a "Missing"
band, so a missing value is never silently dropped.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from ..errors import DataError
from ..sheet.criteria import (
    Band,
    Criterion,
    category_codes,
    coerce_column,
    nice_number,
    range_label,
)
from ..validation import (
    check_columns,
    check_frame,
    check_params,
    check_sample_weight,
    check_target,
    integer,
    mapping,
    one_of,
    optional,
    real,
    sequence,
)

__all__ = ["LeadBinner"]


class LeadBinner(TransformerMixin, BaseEstimator):
    """Learn readable bands for every candidate criterion.

    Parameters
    ----------
    max_bins : int, default=5
        Most ranges a numeric criterion is cut into (the missing band aside).
    min_bin_share : float, default=0.05
        Smallest share of training leads (with a value) that a numeric range holds.
    min_level_count : int, default=30
        Categorical levels with fewer training leads are grouped as "Other".
    min_level_share : float, default=0.005
        Categorical levels with a smaller share of training leads are grouped
        as "Other".
    max_levels : int, default=25
        Most levels kept per categorical criterion, most frequent first.
    column_types : dict, optional
        ``{column: "numeric" | "categorical" | "boolean"}``. Columns not listed
        are inferred as :func:`calibrate.load_leads` does.
    groups : dict, optional
        ``{column: "explicit" | "implicit"}``; unlisted columns are explicit.
    level_order : dict, optional
        ``{column: [levels, lowest first]}``: categorical criteria whose bands
        are these levels in this order; levels not listed go to "Other".
        Whether points must follow an order is the model's ``monotone``
        (see :class:`calibrate.LeadScoreModel`), which sets this for the
        levels it orders.
    fixed : dict, optional
        ``{column: Criterion}``: criteria kept as they are, their bands not
        learned (their points are ignored). A refit that keeps a sheet's
        structure gives every column its old criterion.

    Attributes
    ----------
    criteria_ : list of Criterion
        One per input column, in input order, with its bands.
    band_stats_ : pandas.DataFrame
        Per band: criterion, group, band, n_leads, share, wins, win_rate on
        the training leads.
    feature_names_in_ : ndarray of str
        Input columns seen in :meth:`fit`.
    n_features_in_ : int
        Number of input columns.

    Examples
    --------
    >>> X = pd.DataFrame({"title": ["VP", "VP", "Staff", "Staff"] * 25,
    ...                   "clicks": [5, 3, 0, 1] * 25})
    >>> y = np.array([1, 1, 0, 0] * 25)
    >>> binner = LeadBinner(min_level_count=1).fit(X, y)
    >>> [b.label for b in binner.criteria_[1].bands]
    ['0-1', '2+', 'Missing']
    >>> binner.transform(X.head(3))
       title  clicks
    0      1       1
    1      1       1
    2      0       0
    """

    _rules = {
        "max_bins": integer(2, 50),
        "min_bin_share": real(0, 0.5, low_open=True),
        "min_level_count": integer(1),
        "min_level_share": real(0, 0.5),
        "max_levels": integer(1),
        "column_types": optional(
            mapping(values=optional(one_of("numeric", "categorical", "boolean")))
        ),
        "groups": optional(mapping(values=one_of("explicit", "implicit"))),
        "level_order": optional(mapping(values=sequence((lambda v: True, "levels")))),
        "fixed": optional(mapping(values=(lambda v: isinstance(v, Criterion), "criteria"))),
    }

    def __init__(
        self,
        *,
        max_bins=5,
        min_bin_share=0.05,
        min_level_count=30,
        min_level_share=0.005,
        max_levels=25,
        column_types=None,
        groups=None,
        level_order=None,
        fixed=None,
    ):
        self.max_bins = max_bins
        self.min_bin_share = min_bin_share
        self.min_level_count = min_level_count
        self.min_level_share = min_level_share
        self.max_levels = max_levels
        self.column_types = column_types
        self.groups = groups
        self.level_order = level_order
        self.fixed = fixed

    def fit(self, X: pd.DataFrame, y, sample_weight=None):
        """Learn the bands of every column of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            Candidate criteria, one column each.
        y : array-like of bool
            Won (True) or lost.
        sample_weight : array-like, optional
            Weight of each lead.

        Returns
        -------
        self : LeadBinner
        """
        self._fit(X, y, sample_weight)
        return self

    def _fit(self, X, y, sample_weight) -> pd.DataFrame:
        check_params(self, self._rules)
        X = check_frame(X)
        y = check_target(y, len(X))
        w = check_sample_weight(sample_weight, len(X))
        types = dict(self.column_types or {})
        groups = dict(self.groups or {})
        criteria = []
        self._label_style_, self._split_order_ = {}, {}
        for column in X.columns:
            kept = (self.fixed or {}).get(column)
            if kept is not None:
                bands = kept.with_points([0] * len(kept.bands)).bands
                criteria.append(Criterion(kept.name, str(column), kept.kind, kept.group, bands))
                continue
            kind = types.get(column) or _infer_kind(X[column], column)
            group = groups.get(column, "explicit")
            order = (self.level_order or {}).get(column)
            if kind == "numeric":
                bands = self._numeric_bands(coerce_column(X[column], kind, column), y, w)
            else:
                # Weight and count of every level, from codes into the
                # distinct texts: no per-lead text is built.
                codes, texts = category_codes(X[column], kind, column)
                present = codes >= 0
                levels = pd.DataFrame(
                    {
                        "level": texts,
                        "weight": np.bincount(codes[present], w[present], len(texts)),
                        "count": np.bincount(codes[present], minlength=len(texts)),
                    }
                )
                levels = levels[levels["level"].notna() & (levels["count"] > 0)]
                levels = levels.groupby("level", sort=True)[["weight", "count"]].sum()
                if isinstance(order, list | tuple):
                    bands = self._ordered_bands(set(levels.index), order, column)
                else:
                    bands = self._level_bands(levels["weight"], boolean=kind == "boolean")
            criteria.append(Criterion(str(column), str(column), kind, group, bands))
        self.criteria_ = criteria
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(criteria)
        codes = self.transform(X)
        self.band_stats_ = self._band_stats(codes, y, w)
        return codes

    def fit_transform(self, X: pd.DataFrame, y=None, sample_weight=None) -> pd.DataFrame:
        """Fit, and give the band codes of the training leads (as :meth:`transform`)."""
        return self._fit(X, y, sample_weight)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Band code of every lead in every criterion.

        Parameters
        ----------
        X : pandas.DataFrame
            Must hold every column seen in :meth:`fit`; extra columns are ignored.

        Returns
        -------
        pandas.DataFrame of integers
            One column per criterion; codes index ``criteria_[j].bands``
            (int16 unless a criterion has more bands than that holds).
        """
        check_is_fitted(self, "criteria_")
        X = check_frame(X)
        check_columns(X, self.feature_names_in_)
        # One integer block filled column by column: no per-column arrays for
        # pandas to consolidate (a copy of the whole matrix) afterwards.
        widest = max((len(c.bands) for c in self.criteria_), default=1)
        dtype = np.int16 if widest < 2**15 else np.int64
        codes = np.empty((len(X), len(self.criteria_)), dtype=dtype, order="F")
        for j, c in enumerate(self.criteria_):
            codes[:, j] = c.assign(X[c.column])
        return pd.DataFrame(codes, index=X.index, columns=[c.name for c in self.criteria_])

    def one_hot(self, X: pd.DataFrame) -> sp.csr_matrix:
        """Sparse 0/1 design matrix, one column per band (see :meth:`get_feature_names_out`)."""
        codes = self.transform(X).to_numpy()
        return self.codes_to_design(codes)

    def codes_to_design(self, codes: np.ndarray) -> sp.csr_matrix:
        """Sparse one-hot design from a band-code matrix as :meth:`transform` gives."""
        check_is_fitted(self, "criteria_")
        offsets = self.band_offsets()
        n, k = codes.shape
        # Every row holds one band of each criterion, in increasing column
        # order: the CSR arrays can be written down directly.
        cols = (codes + offsets[:-1][None, :]).ravel()
        indptr = np.arange(0, n * k + 1, k)
        return sp.csr_matrix((np.ones(n * k), cols, indptr), shape=(n, offsets[-1]))

    def band_offsets(self) -> np.ndarray:
        """Start of each criterion's block in the one-hot design (and the total)."""
        check_is_fitted(self, "criteria_")
        return np.cumsum([0] + [len(c.bands) for c in self.criteria_])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names ``"criterion=band"`` of the one-hot design's columns."""
        check_is_fitted(self, "criteria_")
        return np.asarray(
            [f"{c.name}={b.label}" for c in self.criteria_ for b in c.bands], dtype=object
        )

    def _numeric_bands(self, x: pd.Series, y: np.ndarray, w: np.ndarray) -> tuple[Band, ...]:
        xv = x.to_numpy(dtype=float, na_value=np.nan)
        present = ~np.isnan(xv)
        if not present.all():
            xv, y, w = xv[present], y[present], w[present]
        # The distinct values, sorted, say what the labels look like.
        codes, uniq = pd.factorize(xv, sort=True)
        integer_valued = bool(len(uniq)) and bool(np.all(np.mod(uniq, 1) == 0))
        nonnegative = bool(len(uniq)) and bool(uniq[0] >= 0)
        self._label_style_[str(x.name)] = (integer_valued, nonnegative)
        edges = self._tree_edges(xv, codes, uniq, y, w, integer_valued)
        self._split_order_[str(x.name)] = edges
        bounds = [None, *sorted(edges), None]
        bands = [
            Band(range_label(lo, hi, integer_valued, nonnegative), "range", lower=lo, upper=hi)
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        return (*bands, Band("Missing", "missing"))

    def _tree_edges(self, x, codes, uniq, y, w, integer_valued) -> list[float]:
        min_leaf = max(int(np.ceil(self.min_bin_share * len(x))), 1)
        # A rare but telling value (an unsubscribe: a few percent of leads)
        # may still earn a band of its own, "none" against "some", when
        # enough leads show it.
        nonzero = int(np.count_nonzero(x))
        if self.min_level_count <= nonzero < min_leaf and nonzero < len(x) - min_leaf:
            min_leaf = nonzero
        if len(uniq) < 2 or len(x) < 2 * min_leaf or y.all() or not y.any():
            return []
        below, above = _tree_cuts(x, codes, uniq, y, w, self.max_bins, min_leaf)
        # Each split sends a <= t left and b > t right, with a, b adjacent
        # training values; any edge in (a, b] keeps the same partition. The
        # edges stay in the order the tree split, strongest first.
        pairs = zip(below, above, strict=True)
        return list(dict.fromkeys(_round_edge(a, b, integer_valued) for a, b in pairs))

    def split_edges(self, x, y, sample_weight=None) -> list[float]:
        """The range edges a numeric column would get, the strongest split first.

        The first ``k - 1`` edges are those of ``k`` ranges: the tree grows
        best first, so a coarser cut is a prefix of a finer one.

        Parameters
        ----------
        x : array-like of float
            The column's values (NaN for missing).
        y : array-like of bool
            Won (True) or lost.
        sample_weight : array-like, optional
            Weight of each lead.

        Returns
        -------
        list of float
            At most ``max_bins - 1`` edges.

        Examples
        --------
        >>> x = np.tile([0.0, 1, 2, 3, 4, 5, 6, 7], 50)
        >>> y = np.isin(x, [2, 3, 6, 7])
        >>> LeadBinner(max_bins=3).split_edges(x, y)
        [2.0, 4.0]
        """
        check_params(self, self._rules)
        xv = np.asarray(x, dtype=float)
        y = check_target(y, len(xv))
        w = check_sample_weight(sample_weight, len(xv))
        present = ~np.isnan(xv)
        xv, y, w = xv[present], y[present], w[present]
        codes, uniq = pd.factorize(xv, sort=True)
        integer_valued = bool(len(uniq)) and bool(np.all(np.mod(uniq, 1) == 0))
        return self._tree_edges(xv, codes, uniq, y, w, integer_valued)

    def with_range_counts(self, counts: dict) -> tuple[LeadBinner, dict]:
        """A fitted copy whose numeric criteria keep only their strongest ranges.

        Parameters
        ----------
        counts : dict
            ``{criterion: k}``: that criterion keeps the ranges of its ``k - 1``
            strongest edges (its ranges of ``max_bins=k``); the others are kept.

        Returns
        -------
        binner : LeadBinner
            The copy, its band statistics those of the pooled bands.
        lookup : dict
            ``{criterion: ndarray}``: the new band of every old band, so that
            ``lookup[name][old_codes]`` are the copy's codes.

        Examples
        --------
        >>> X = pd.DataFrame({"clicks": np.tile([0.0, 1, 2, 3, 4, 5, 6, 7], 50)})
        >>> y = X["clicks"].isin([2, 3, 6, 7]).to_numpy()
        >>> binner = LeadBinner(max_bins=4).fit(X, y)
        >>> [b.label for b in binner.criteria_[0].bands]
        ['0-1', '2-3', '4-5', '6+', 'Missing']
        >>> coarse, lookup = binner.with_range_counts({"clicks": 3})
        >>> [b.label for b in coarse.criteria_[0].bands], lookup["clicks"].tolist()
        (['0-1', '2-3', '4+', 'Missing'], [0, 1, 2, 2, 3])
        """
        check_is_fitted(self, "criteria_")
        criteria, lookup = list(self.criteria_), {}
        stats = self.band_stats_.copy()
        offsets = self.band_offsets()
        rows = []
        for j, c in enumerate(self.criteria_):
            block = stats.iloc[offsets[j] : offsets[j + 1]]
            k = counts.get(c.name)
            order = self._split_order_.get(c.column)
            if k is None or order is None or k - 1 >= len(order):
                rows.append(block)
                continue
            edges = sorted(order[: k - 1])
            ranges = [b for b in c.bands if b.kind == "range"]
            # Every old range falls inside one new range: its lower edge says which.
            old_lower = np.array([-np.inf if b.lower is None else b.lower for b in ranges])
            new = np.searchsorted(np.asarray(edges, dtype=float), old_lower, side="right")
            integer_valued, nonnegative = self._label_style_[c.column]
            bounds = [None, *edges, None]
            bands = [
                Band(range_label(lo, hi, integer_valued, nonnegative), "range", lower=lo, upper=hi)
                for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
            ]
            table = np.append(new, len(bands)).astype(np.intp)
            lookup[c.name] = table
            criteria[j] = Criterion(
                c.name, c.column, c.kind, c.group, (*bands, Band("Missing", "missing"))
            )
            pooled = block.groupby(table, sort=True)[["n_leads", "share", "wins"]].sum()
            pooled.insert(0, "band", [b.label for b in criteria[j].bands])
            pooled.insert(0, "group", c.group)
            pooled.insert(0, "criterion", c.name)
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = pooled["wins"] / pooled["n_leads"]
            pooled["win_rate"] = rate.where(pooled["n_leads"] > 0)
            rows.append(pooled.reset_index(drop=True))
        result = copy.copy(self)
        result.criteria_ = criteria
        result.band_stats_ = pd.concat(rows, ignore_index=True).astype(stats.dtypes.to_dict())
        result._split_order_ = dict(self._split_order_)
        return result, lookup

    def _ordered_bands(self, seen: set, order, column) -> tuple[Band, ...]:
        unknown = [level for level in order if level not in seen]
        if unknown:
            raise DataError(
                f"column {column!r}: ordered levels {unknown} never occur in the training leads"
            )
        bands = [Band(str(level), "levels", values=(str(level),)) for level in order]
        return (*bands, Band("Other", "other"), Band("Missing", "missing"))

    def merge_bands(self, name: str, first: int) -> LeadBinner:
        """A fitted binner with band ``first`` of a criterion merged with the next one.

        Used by :class:`calibrate.LeadScoreModel` to make a criterion monotone.
        Range bands join into one range; level bands pool their values, and
        the band statistics add up. This binner is left unchanged.

        Parameters
        ----------
        name : str
            The criterion.
        first : int
            Position of the first of the two adjacent bands.

        Returns
        -------
        LeadBinner
            A fitted copy with one band fewer in ``name``.

        Examples
        --------
        >>> X = pd.DataFrame({"clicks": [0, 1, 2, 5] * 25})
        >>> binner = LeadBinner(min_bin_share=0.2).fit(X, np.array([0, 0, 1, 1] * 25))
        >>> [b.label for b in binner.merge_bands("clicks", 0).criteria_[0].bands]
        ['any value', 'Missing']
        >>> [b.label for b in binner.criteria_[0].bands]
        ['0-1', '2+', 'Missing']
        """
        check_is_fitted(self, "criteria_")
        k = next(i for i, c in enumerate(self.criteria_) if c.name == name)
        criterion = self.criteria_[k]
        a, b = criterion.bands[first], criterion.bands[first + 1]
        if a.kind != b.kind or a.kind not in ("range", "levels"):
            raise ValueError(f"cannot merge bands {a.label!r} and {b.label!r} of {name!r}")
        if a.kind == "range":
            integer, nonnegative = self._label_style_.get(name, (False, False))
            label = range_label(a.lower, b.upper, integer, nonnegative)
            merged = Band(label, "range", lower=a.lower, upper=b.upper)
        else:
            merged = Band(f"{a.label}, {b.label}", "levels", values=a.values + b.values)
        bands = criterion.bands[:first] + (merged,) + criterion.bands[first + 2 :]
        criteria = list(self.criteria_)
        criteria[k] = Criterion(
            criterion.name, criterion.column, criterion.kind, criterion.group, bands
        )
        stats = self.band_stats_
        row = self.band_offsets()[k] + first
        joined = stats.iloc[row].copy()
        other = stats.iloc[row + 1]
        joined["band"] = merged.label
        for column in ("n_leads", "share", "wins"):
            joined[column] = stats.iloc[row][column] + other[column]
        joined["win_rate"] = joined["wins"] / joined["n_leads"] if joined["n_leads"] else np.nan
        rows = [stats.iloc[:row], joined.to_frame().T, stats.iloc[row + 2 :]]
        result = copy.copy(self)
        result.criteria_ = criteria
        result.band_stats_ = pd.concat(rows, ignore_index=True).astype(stats.dtypes.to_dict())
        return result

    def _level_bands(self, weights: pd.Series, boolean: bool) -> tuple[Band, ...]:
        """Bands of the levels, given the training weight of every level seen."""
        if boolean:
            kept = [level for level in ("true", "false") if level in weights.index]
            bands = [Band("Yes" if v == "true" else "No", "levels", values=(v,)) for v in kept]
            return (*bands, Band("Missing", "missing"))
        floor = max(self.min_level_count, self.min_level_share * weights.sum())
        order = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = [level for level, count in order if count >= floor][: self.max_levels]
        bands = [Band(level, "levels", values=(level,)) for level in kept]
        return (*bands, Band("Other", "other"), Band("Missing", "missing"))

    def _band_stats(self, codes: pd.DataFrame, y: np.ndarray, w: np.ndarray) -> pd.DataFrame:
        rows = []
        total = w.sum()
        won = w * y
        for criterion in self.criteria_:
            c = codes[criterion.name].to_numpy().astype(np.intp)
            n = np.bincount(c, weights=w, minlength=len(criterion.bands))
            wins = np.bincount(c, weights=won, minlength=len(criterion.bands))
            for i, band in enumerate(criterion.bands):
                rows.append(
                    {
                        "criterion": criterion.name,
                        "group": criterion.group,
                        "band": band.label,
                        "n_leads": float(n[i]),
                        "share": float(n[i] / total),
                        "wins": float(wins[i]),
                        "win_rate": float(wins[i] / n[i]) if n[i] > 0 else np.nan,
                    }
                )
        return pd.DataFrame(rows)


def _tree_cuts(x, codes, uniq, y, w, max_leaves: int, min_leaf: int):
    """The splits of a best-first decision tree on one column, as value pairs.

    Returns ``(below, above)``: for every split, in the order the tree made
    them (the strongest first), the largest training value sent left and the
    smallest sent right.

    With equal weights the tree sees each distinct value once per outcome,
    weighted by how many leads show it: the same Gini gains, candidate
    thresholds and leaf sizes as the tree on every lead (a leaf of at least
    ``min_leaf`` leads is a leaf of at least ``min_leaf - 0.5`` leads'
    weight, the counts being whole), at the cost of the distinct values.
    ``codes`` and ``uniq`` are ``x`` factorized in sorted order.
    """
    # The tree reads its input as float32: a value past 3.4e38 would not fit,
    # and distinct values closer than float32 can tell apart would merge. It
    # sees the values' ranks instead (a split depends only on their order),
    # and every threshold is mapped back to the values either side of it.
    ranks = np.arange(len(uniq), dtype=np.float64)
    if len(uniq) < len(x) // 4 and np.all(w == w[0]):
        wins = np.bincount(codes, weights=y * w, minlength=len(uniq))
        losses = np.bincount(codes, weights=(1 - y) * w, minlength=len(uniq))
        X_fit = np.concatenate([ranks, ranks]).reshape(-1, 1)
        y_fit = np.repeat([1, 0], len(uniq))
        w_fit = np.concatenate([wins, losses])
        keep = w_fit > 0
        X_fit, y_fit, w_fit = X_fit[keep], y_fit[keep], w_fit[keep]
        leaf = {"min_weight_fraction_leaf": (min_leaf - 0.5) / len(x)}
    else:
        X_fit, y_fit, w_fit = codes.astype(np.float64).reshape(-1, 1), y, w
        leaf = {"min_samples_leaf": min_leaf}
    tree = DecisionTreeClassifier(max_leaf_nodes=max_leaves, random_state=0, **leaf)
    tree.fit(X_fit, y_fit, sample_weight=w_fit)
    # A best-first tree numbers a node's children when it splits it, so the
    # order of the left children's ids is the order of the splits.
    t = tree.tree_
    split = np.flatnonzero(t.feature >= 0)
    rank_cuts = t.threshold[split[np.argsort(t.children_left[split])]]
    # A cut between ranks r and r + 1 sends uniq[r] left and uniq[r + 1] right.
    left = np.floor(rank_cuts).astype(np.int64)
    return (uniq[left], uniq[left + 1])


def _round_edge(a: float, b: float, integer_valued: bool) -> float:
    """Roundest number in ``(a, b]``: an edge people can read."""
    if integer_valued:
        edge = float(np.floor(a) + 1)
        # Past 2**53 adding one is lost to float precision: b keeps the split.
        return edge if a < edge <= b else float(b)
    middle = (a + b) / 2
    if not np.isfinite(middle):  # a and b near the float limit
        middle = a / 2 + b / 2
    for digits in range(1, 7):
        for candidate in (nice_number(b, digits), nice_number(middle, digits)):
            if a < candidate <= b:
                return candidate
    return float(b)


def _infer_kind(values: pd.Series, column: str) -> str:
    from ..io.values import infer_kind as infer

    kind, reason, _, _ = infer(values, column, None)
    if kind is None:
        raise DataError(f"column {column!r} cannot be a criterion: it {reason}")
    return kind
