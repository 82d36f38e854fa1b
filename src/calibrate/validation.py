"""Checks of what estimators are given, in one place for the whole library.

One table of allowed values per estimator (:func:`check_params`), so a check and its
message never drift, and the checks of the arrays handed to ``fit``
(:func:`check_frame`, :func:`check_target`, ...).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from .errors import DataError, ParameterError, format_examples

Rule = tuple[Callable[[object], bool], str]


def integer(low: int | None = None, high: int | None = None) -> Rule:
    """Rule for an int in ``[low, high]``."""

    def ok(v):
        return (
            isinstance(v, numbers.Integral)
            and not isinstance(v, bool)
            and (low is None or v >= low)
            and (high is None or v <= high)
        )

    return ok, "an int" + _bounds(low, high)


def real(low=None, high=None, *, low_open=False, high_open=False, finite=False) -> Rule:
    """Rule for a real number between ``low`` and ``high`` (and not infinite, if ``finite``)."""

    def ok(v):
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or v != v:
            return False
        if finite and v in (float("inf"), float("-inf")):
            return False
        if low is not None and (v <= low if low_open else v < low):
            return False
        return not (high is not None and (v >= high if high_open else v > high))

    return ok, "a float" + _bounds(low, high, low_open, high_open)


def one_of(*options) -> Rule:
    """Rule for one of a few fixed values."""
    return (lambda v: v in options), "one of " + ", ".join(repr(o) for o in options)


def optional(rule: Rule) -> Rule:
    """Rule that also allows None."""
    ok, what = rule
    return (lambda v: v is None or ok(v)), f"{what} or None"


def boolean() -> Rule:
    """Rule for True or False."""
    return (lambda v: v is True or v is False), "a bool"


def string() -> Rule:
    """Rule for a non-empty str."""
    return (lambda v: isinstance(v, str) and v != ""), "a non-empty str"


def instance_of(*types: type) -> Rule:
    """Rule for an instance of one of ``types`` (an estimator of a kind, say).

    Examples
    --------
    >>> ok, what = optional(instance_of(int))
    >>> ok(None), ok(3), ok("3"), what
    (True, True, False, 'an instance of int or None')
    """
    names = " or ".join(t.__name__ for t in types)
    return (lambda v: isinstance(v, types)), f"an instance of {names}"


def any_of(*rules: Rule) -> Rule:
    """Rule met when any of ``rules`` is."""
    return (
        lambda v: any(ok(v) for ok, _ in rules),
        " or ".join(what for _, what in rules),
    )


def mapping(keys: Rule | None = None, values: Rule | None = None) -> Rule:
    """Rule for a mapping, its keys and values each meeting a rule when given.

    Examples
    --------
    >>> ok, what = mapping(string(), one_of("explicit", "implicit"))
    >>> ok({"role": "explicit"}), ok({"role": "other"}), ok([]), what
    (True, False, False, "a dict of a non-empty str to one of 'explicit', 'implicit'")
    """

    def ok(v):
        return isinstance(v, Mapping) and all(
            (keys is None or keys[0](k)) and (values is None or values[0](x)) for k, x in v.items()
        )

    what = "a dict"
    if keys is not None or values is not None:
        key_what = "anything" if keys is None else keys[1]
        what += f" of {key_what} to {'anything' if values is None else values[1]}"
    return ok, what


def sequence(items: Rule) -> Rule:
    """Rule for a list or tuple (not a str) whose items meet a rule.

    Examples
    --------
    >>> ok, what = sequence(string())
    >>> ok(("a", "b")), ok("ab"), ok(["a", 1]), what
    (True, False, False, 'a list or tuple of a non-empty str')
    """
    ok_item, what = items
    return (
        lambda v: isinstance(v, list | tuple) and all(ok_item(x) for x in v),
        f"a list or tuple of {what}",
    )


def check_params(obj, table: dict[str, Rule]) -> None:
    """Raise :class:`ParameterError` for the first parameter breaking its rule.

    Examples
    --------
    >>> class Scaler:
    ...     pdo = -20
    >>> try:
    ...     check_params(Scaler(), {"pdo": real(0, low_open=True)})
    ... except ParameterError as exc:
    ...     print(exc)
    The 'pdo' parameter of Scaler must be a float > 0. Got -20 instead.
    """
    for name, (ok, what) in table.items():
        value = getattr(obj, name)
        if not ok(value):
            raise ParameterError(
                f"The {name!r} parameter of {type(obj).__name__} must be {what}. "
                f"Got {value!r} instead."
            )


def _bounds(low, high, low_open=False, high_open=False) -> str:
    if low is not None and high is not None:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        return f" in {lo}{low}, {high}{hi}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high}"
    return ""


def check_frame(X) -> pd.DataFrame:
    """``X`` must be a non-empty DataFrame of lead attributes."""
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"X must be a pandas DataFrame of lead attributes, got {type(X).__name__}")
    if len(X) == 0:
        raise DataError("X has no rows")
    return X


def check_target(y, n: int) -> np.ndarray:
    """``y`` must hold one boolean or 0/1 outcome per lead, both classes present."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise DataError(f"y must hold one outcome per lead ({n}), got shape {y.shape}")
    values = set(pd.unique(y).tolist())
    if not values <= {0, 1}:
        raise DataError(f"y must be boolean or 0/1, got values {format_examples(sorted(values))}")
    if len(values) < 2:
        raise DataError("y holds a single class: calibrate needs both won and lost leads")
    return y.astype(float)


def check_sample_weight(sample_weight, n: int) -> np.ndarray:
    """Weights default to one per lead; they must be finite and non-negative."""
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise DataError(f"sample_weight must be {n} finite non-negative numbers, not all zero")
    return w


def check_columns(X: pd.DataFrame, expected) -> None:
    """Every column seen in ``fit`` must be present; extra columns are fine."""
    missing = [c for c in expected if c not in X.columns]
    if missing:
        raise DataError(
            f"{len(missing)} criterion column(s) missing from the data: {format_examples(missing)}"
        )
