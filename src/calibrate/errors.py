"""The exception family raised by calibrate.

Every error that calibrate raises on purpose derives from :class:`CalibrateError`,
so a caller (and the command line) can catch exactly the problems that come
from the user's data or settings and report them in one line.
"""

from __future__ import annotations

__all__ = ["CalibrateError", "ConfigError", "DataError", "OutputError", "ParameterError"]


class CalibrateError(Exception):
    """Base class of every error raised on purpose by calibrate."""


class DataError(CalibrateError, ValueError):
    """The lead or activity data cannot be used as given.

    The message names the column, how many rows are affected and up to five
    example values or lead ids.
    """


class ParameterError(CalibrateError, ValueError):
    """A parameter of an estimator or function is out of its allowed range."""


class ConfigError(CalibrateError, ValueError):
    """A scoring config is malformed, inconsistent or of an unknown version."""


class OutputError(CalibrateError, OSError):
    """An output file cannot be written (a read-only or full disk, no permission).

    The message names the output folder or file and the reason; nothing was
    written.
    """


def format_examples(values, limit: int = 5) -> str:
    """Format up to ``limit`` example values for an error message.

    Examples
    --------
    >>> format_examples(["a", "b", "c"], limit=2)
    "'a', 'b', ..."
    """
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (", ..." if len(values) > limit else "")
