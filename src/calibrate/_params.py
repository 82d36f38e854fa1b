"""One table of allowed values per estimator, so a check and its message never drift."""

from __future__ import annotations

import numbers
from collections.abc import Callable

from .errors import ParameterError

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


def real(low=None, high=None, *, low_open=False, high_open=False) -> Rule:
    """Rule for a real number between ``low`` and ``high``."""

    def ok(v):
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or v != v:
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
