"""Reason codes: the largest contributions to a lead's score, in words.

A sales rep asks "why is this lead hot?". A lead's reasons are the criteria
that earn or cost it points, largest first, each as one phrase: the
criterion, the lead's band and its points (``"seniority VP +22"``); an
engagement band as what the lead did (``"3 to 7 careers_page_view in the
last 30 days -6"``); a pair rule as its rule, a condition on activity in the
same words (``"(seniority in VP or C-level) and company_size >= 500 +12"``).

The order is stated and deterministic, and the same in the Python scorer and
the exported SQL: larger absolute points first; at equal absolute points,
the criterion that comes first in the config. A criterion worth 0 points to a
lead is never one of its reasons; a lead with fewer criteria that move its
score than reasons asked has missing reasons after its last.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .rules import band_words, pair_words

__all__ = ["band_reasons", "check_reasons", "reason_order"]


def check_reasons(reasons) -> int:
    """The number of reasons asked, checked: a whole number of 0 or more.

    Raises
    ------
    ParameterError
        For anything else (a negative number, a float, a bool, text).
    """
    if isinstance(reasons, bool) or not isinstance(reasons, int | np.integer) or reasons < 0:
        raise ParameterError(f"reasons must be a whole number of 0 or more; got {reasons!r}")
    return int(reasons)


def band_reasons(criterion, spec=None) -> list[str | None]:
    """The reason every band of a criterion gives, or None for a band worth 0 points.

    A fit band reads as the criterion and its band ("seniority VP +22",
    "company_size 500 or more +12", "seniority not known -3"); an
    engagement band as what the lead did, in the words of
    :func:`~calibrate.production.rules.band_words` ("as much demo_request as
    1 in the last 112 days +15").

    Parameters
    ----------
    criterion : Criterion or PairCriterion
        A criterion of a scoring config (its bands carry points).
    spec : ActivitySpec or None, default=None
        The config's activity features (``config.activity_spec``), for the
        words of engagement bands.

    Returns
    -------
    list
        One entry per band, in band order.

    Examples
    --------
    >>> from calibrate.sheet.criteria import Band, Criterion
    >>> title = Criterion("seniority", "seniority", "categorical", "explicit", bands=(
    ...     Band("VP", "levels", values=("VP",), points=22), Band("Other", "other", points=0),
    ...     Band("Missing", "missing", points=-3)))
    >>> band_reasons(title)
    ['seniority VP +22', None, 'seniority not known -3']
    """
    if criterion.kind == "pair":
        rule = pair_words(criterion, spec)
        texts = [rule, f"not ({rule})"]
        return [_phrase(t, c.points) for t, c in zip(texts, criterion.cells, strict=True)]
    texts = []
    for band in criterion.bands:
        words = band_words(criterion, band, spec)
        if band.kind != "missing" and words != band.label:  # the words name what was done
            texts.append(_phrase(words, band.points))
            continue
        if band.kind == "missing":
            words = "not known"
        elif band.kind == "range":
            words = _range_words(band)
        texts.append(_phrase(f"{criterion.name} {words}", band.points))
    return texts


def _range_words(band) -> str:
    """A numeric range as a rep reads it: "under 10", "10 to under 500", "500 or more"."""
    from ..sheet.criteria import format_number

    if band.lower is None and band.upper is None:
        return "any value"
    if band.lower is None:
        return f"under {format_number(band.upper)}"
    if band.upper is None:
        return f"{format_number(band.lower)} or more"
    return f"{format_number(band.lower)} to under {format_number(band.upper)}"


def _phrase(text: str, points: int) -> str | None:
    return None if points == 0 else f"{text} {int(points):+d}"


def reason_order(points: np.ndarray) -> np.ndarray:
    """Every lead's criteria in reason order: larger absolute points first, then config order.

    Parameters
    ----------
    points : ndarray of int of shape (n_leads, n_criteria)
        Every lead's points from every criterion, criteria in config order.

    Returns
    -------
    ndarray of shape (n_leads, n_criteria)
        Criterion positions, the first reason first.

    Examples
    --------
    >>> reason_order(np.array([[5, -8, 0, 8]])).tolist()
    [[1, 3, 0, 2]]
    """
    # A stable sort keeps the config order among equal absolute points.
    return np.argsort(-np.abs(points), axis=1, kind="stable")
