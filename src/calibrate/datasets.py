"""Synthetic B2B leads drawn from a known scoring model.

:func:`make_leads` simulates won/lost lead history whose log-odds of
conversion is an additive model with known effects, and :func:`ground_truth`
returns those effects, so tests and examples can check that a fitted points
sheet recovers the ordering of the true effects.

The true log-odds of a lead is::

    intercept
    + drift * years since 2024-01-01
    + effect(seniority) + effect(role) + effect(industry)
    + effect(country) + effect(lead_source) + effect(demo_requested)
    + sum over numeric columns of slope * log1p(value)

A missing value contributes 0. ``country`` and ``time_on_site_min`` have a
true effect of 0: they are there so a fitted model can be seen to leave them
out. Behaviour counts come from a latent *interest* of each lead, but interest
does not enter the log-odds itself, so the counts genuinely carry the effect.

The outcome depends only on the columns returned, so the log-odds of any lead
table can be recomputed from it (see ``_log_odds``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = ["make_leads", "ground_truth"]


class _Term(NamedTuple):
    """One row of the true model.

    ``share`` is the sampling frequency of a categorical level drawn
    independently of everything else (``None`` when the column is simulated
    from other quantities, or the term is a slope).
    """

    criterion: str
    level: str
    effect: float
    share: float | None = None


_INTERCEPT = "intercept"
_SLOPE = "slope per log1p unit"
_DRIFT = "slope per year"

# The single source of truth: the generator samples levels with ``share`` and
# computes the log-odds with ``effect``; ground_truth() returns this table.
# Levels of each categorical criterion are listed from highest to lowest effect.
_TRUTH: tuple[_Term, ...] = (
    _Term("intercept", "(intercept)", -3.45),
    _Term("created_at", _DRIFT, -0.15),
    _Term("seniority", "C-level", 1.50, 0.04),
    _Term("seniority", "VP", 0.90, 0.08),
    _Term("seniority", "Director", 0.45, 0.15),
    _Term("seniority", "Manager", 0.00, 0.28),
    _Term("seniority", "Staff", -0.40, 0.40),
    _Term("seniority", "Student", -1.20, 0.05),
    _Term("role", "Marketing", 0.35, 0.24),
    _Term("role", "Sales", 0.20, 0.18),
    _Term("role", "Operations", 0.05, 0.12),
    _Term("role", "Engineering", -0.10, 0.14),
    _Term("role", "IT", -0.15, 0.15),
    _Term("role", "Finance", -0.20, 0.10),
    _Term("role", "HR", -0.35, 0.07),
    _Term("industry", "Software", 0.30, 0.26),
    _Term("industry", "Agriculture", 0.20, 0.003),
    _Term("industry", "Financial services", 0.15, 0.16),
    _Term("industry", "Healthcare", 0.00, 0.14),
    _Term("industry", "Manufacturing", -0.05, 0.15),
    _Term("industry", "Retail", -0.15, 0.12),
    _Term("industry", "Education", -0.30, 0.09),
    _Term("industry", "Government", -0.40, 0.077),
    _Term("country", "United States", 0.0, 0.45),
    _Term("country", "United Kingdom", 0.0, 0.15),
    _Term("country", "Germany", 0.0, 0.12),
    _Term("country", "France", 0.0, 0.08),
    _Term("country", "Canada", 0.0, 0.07),
    _Term("country", "Australia", 0.0, 0.05),
    _Term("country", "India", 0.0, 0.05),
    _Term("country", "Netherlands", 0.0, 0.03),
    _Term("lead_source", "Referral", 1.00, 0.06),
    _Term("lead_source", "Webinar", 0.80, 0.10),
    _Term("lead_source", "Trade show", 0.30, 0.08),
    _Term("lead_source", "Organic search", 0.20, 0.28),
    _Term("lead_source", "Paid search", 0.00, 0.22),
    _Term("lead_source", "Content syndication", -0.40, 0.14),
    _Term("lead_source", "Purchased list", -1.00, 0.12),
    _Term("demo_requested", "True", 1.50),
    _Term("demo_requested", "False", 0.00),
    _Term("company_size", _SLOPE, 0.10),
    _Term("email_clicks", _SLOPE, 0.25),
    _Term("page_views", _SLOPE, 0.20),
    _Term("pricing_page_views", _SLOPE, 0.60),
    _Term("whitepaper_downloads", _SLOPE, 0.30),
    _Term("webinars_attended", _SLOPE, 0.50),
    _Term("time_on_site_min", _SLOPE, 0.00),
)

_SAMPLED = ("role", "seniority", "industry", "country", "lead_source")
_MISSING_SHARE = {"role": 0.03, "seniority": 0.02, "company_size": 0.05}

_START = np.datetime64("2024-01-01T00:00:00", "s")
_END = np.datetime64("2026-01-01T00:00:00", "s")
_SECONDS_PER_YEAR = 365.25 * 24 * 3600

_COUNTS = (
    "email_clicks",
    "page_views",
    "pricing_page_views",
    "whitepaper_downloads",
    "webinars_attended",
)
_NUMERIC = ("company_size", *_COUNTS, "time_on_site_min")
_COLUMNS = (
    "lead_id",
    "created_at",
    *_SAMPLED,
    "company_size",
    *_COUNTS,
    "time_on_site_min",
    "demo_requested",
    "converted",
)


def _terms(criterion: str) -> tuple[_Term, ...]:
    return tuple(t for t in _TRUTH if t.criterion == criterion)


def _effect(criterion: str) -> float:
    """The single effect of an intercept, drift or slope criterion."""
    (term,) = _terms(criterion)
    return term.effect


def ground_truth() -> pd.DataFrame:
    """The effects that generate :func:`make_leads`.

    Returns
    -------
    pandas.DataFrame
        Columns ``criterion``, ``level`` and ``effect`` (log-odds). Categorical
        criteria (``seniority``, ``role``, ``industry``, ``country``,
        ``lead_source``, ``demo_requested``) have one row per level, listed
        from highest to lowest effect; a missing value has effect 0.
        Numeric criteria have one row with level ``"slope per log1p unit"``:
        the value ``x`` adds ``effect * log1p(x)``, and a missing value adds 0.
        ``intercept`` is the log-odds of a lead at 2024-01-01 whose terms
        are all 0, and ``created_at`` (level ``"slope per year"``) is the
        drift of the log-odds per year after that.

    See Also
    --------
    make_leads : Simulate leads from these effects.

    Examples
    --------
    >>> truth = ground_truth()
    >>> truth.loc[truth["criterion"] == "seniority", "level"].tolist()
    ['C-level', 'VP', 'Director', 'Manager', 'Staff', 'Student']
    >>> float(truth.set_index(["criterion", "level"]).loc[("demo_requested", "True"), "effect"])
    1.5
    """
    return pd.DataFrame(
        {
            "criterion": pd.array([t.criterion for t in _TRUTH], dtype="str"),
            "level": pd.array([t.level for t in _TRUTH], dtype="str"),
            "effect": np.array([t.effect for t in _TRUTH], dtype=np.float64),
        }
    )


def make_leads(n: int = 5000, *, seed=0) -> pd.DataFrame:
    """Simulate B2B leads with a known won/lost outcome.

    Lead attributes are drawn independently of each other with fixed
    frequencies; behaviour counts are driven by a latent interest of each lead
    and by its lead source; the outcome ``converted`` is drawn from the
    additive logistic model returned by :func:`ground_truth`.

    Parameters
    ----------
    n : int, default 5000
        Number of leads, at least 1.
    seed : int, default 0
        Seed passed to :func:`numpy.random.default_rng`; the same seed gives
        the same table.

    Returns
    -------
    pandas.DataFrame
        One row per lead, in order of ``created_at``, with columns:

        - ``lead_id`` (str): ``"L0000001"``, ``"L0000002"``, ...
        - ``created_at`` (datetime64[s]): from 2024-01-01 over two years.
        - ``role``, ``seniority``, ``industry``, ``country``, ``lead_source``
          (str): ``role`` is missing for about 3% of leads and ``seniority``
          for about 2%; ``industry`` has a rare level, ``"Agriculture"``
          (about 0.3%).
        - ``company_size`` (float): employees, 1 to 100,000, about 5% missing.
        - ``email_clicks``, ``page_views``, ``pricing_page_views``,
          ``whitepaper_downloads``, ``webinars_attended`` (int64): counts,
          mostly zero or small.
        - ``time_on_site_min`` (float): minutes, one decimal.
        - ``demo_requested`` (bool): about 5% True.
        - ``converted`` (bool): the outcome, about 12% True.

    Raises
    ------
    DataError
        If ``n`` is not an integer of at least 1.

    See Also
    --------
    ground_truth : The effects behind ``converted``.

    Examples
    --------
    >>> leads = make_leads(1000, seed=0)
    >>> leads.shape
    (1000, 16)
    >>> leads["lead_id"].iloc[0]
    'L0000001'
    >>> bool(leads["created_at"].is_monotonic_increasing)
    True
    >>> bool(0.05 < leads["converted"].mean() < 0.2)
    True
    """
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise DataError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    # One independent stream per stage, so that adding a stage later (for
    # example an activity log) does not change the leads drawn for a seed.
    rng_attributes, rng_behaviour, rng_outcome = np.random.default_rng(seed).spawn(3)

    columns = _simulate_attributes(n, rng_attributes)
    behaviour = _simulate_behaviour(columns["lead_source"], rng_behaviour)
    columns.update(behaviour.observed())
    probability = 1.0 / (1.0 + np.exp(-_linear_predictor(columns)))
    columns["converted"] = rng_outcome.random(n) < probability
    return _to_frame(columns)


# Internally a lead table is a dict of numpy arrays in which every categorical
# criterion of _SAMPLED holds codes: positions in its _TRUTH levels, -1 when
# missing. _to_frame turns the codes into text only at the end.


def _levels(criterion: str) -> list[str]:
    return [t.level for t in _terms(criterion)]


def _simulate_attributes(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Creation times, categorical codes and company size."""
    span = int((_END - _START) / np.timedelta64(1, "s"))
    columns = {"created_at": _START + np.sort(rng.integers(0, span, size=n)).astype("m8[s]")}
    for criterion in _SAMPLED:
        shares = [t.share for t in _terms(criterion)]
        codes = rng.choice(len(shares), size=n, p=shares)
        if criterion in _MISSING_SHARE:
            codes[rng.random(n) < _MISSING_SHARE[criterion]] = -1
        columns[criterion] = codes
    size = np.clip(np.rint(np.exp(rng.normal(np.log(150.0), 1.9, size=n))), 1.0, 100_000.0)
    size[rng.random(n) < _MISSING_SHARE["company_size"]] = np.nan
    columns["company_size"] = size
    return columns


@dataclass(frozen=True)
class _Behaviour:
    """What each lead did, and the latent interest that drove it."""

    interest: np.ndarray
    email_clicks: np.ndarray
    page_views: np.ndarray
    pricing_page_views: np.ndarray
    whitepaper_downloads: np.ndarray
    webinars_attended: np.ndarray
    time_on_site_min: np.ndarray
    demo_requested: np.ndarray

    def observed(self) -> dict[str, np.ndarray]:
        """The columns a lead table shows: everything but the interest."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "interest"}


# Share of leads from each source that engage at all; the others do nothing.
_ACTIVE_SHARE = {"Purchased list": 0.35, "Content syndication": 0.6}
_ACTIVE_SHARE_OTHERS = 0.8


def _simulate_behaviour(source: np.ndarray, rng: np.random.Generator) -> _Behaviour:
    """Behaviour of each lead, driven by a latent standard-normal interest.

    Counts are zero-inflated Poisson: a lead is active with a probability set
    by its lead source (codes in ``source``), and an active lead's counts grow
    with its interest. Webinar leads attended at least one webinar and
    content-syndication leads downloaded at least one whitepaper.
    """
    n = len(source)
    levels = _levels("lead_source")
    interest = rng.normal(size=n)
    active_share = np.array([_ACTIVE_SHARE.get(level, _ACTIVE_SHARE_OTHERS) for level in levels])
    active = rng.random(n) < active_share[source]

    def count(log_mean: float, slope: float) -> np.ndarray:
        return np.where(active, rng.poisson(np.exp(log_mean + slope * interest)), 0)

    email_clicks = count(0.2, 0.6)
    page_views = count(1.2, 0.5)
    pricing_page_views = count(-1.6, 0.9)
    whitepaper_downloads = count(-0.9, 0.5) + (source == levels.index("Content syndication"))
    webinars_attended = count(-2.2, 0.7) + (source == levels.index("Webinar"))
    # Each page view lasts an exponential time whose mean grows with interest,
    # so the total is gamma-distributed (and 0 without a page view).
    minutes = rng.gamma(page_views.astype(np.float64), 1.2 * np.exp(0.3 * interest))
    logit_demo = -3.6 + interest + 0.8 * (pricing_page_views > 0)
    demo_requested = rng.random(n) < 1.0 / (1.0 + np.exp(-logit_demo))
    return _Behaviour(
        interest=interest,
        email_clicks=email_clicks.astype(np.int64),
        page_views=page_views.astype(np.int64),
        pricing_page_views=pricing_page_views.astype(np.int64),
        whitepaper_downloads=whitepaper_downloads.astype(np.int64),
        webinars_attended=webinars_attended.astype(np.int64),
        time_on_site_min=np.round(minutes, 1),
        demo_requested=demo_requested,
    )


def _linear_predictor(columns: dict[str, np.ndarray]) -> np.ndarray:
    """True log-odds of conversion from internal columns (categorical codes)."""
    years = (columns["created_at"] - _START) / np.timedelta64(1, "s") / _SECONDS_PER_YEAR
    log_odds = _effect("intercept") + _effect("created_at") * years
    for criterion in _SAMPLED:
        # Code -1 (missing) picks the appended 0.
        effects = np.array([t.effect for t in _terms(criterion)] + [0.0])
        log_odds = log_odds + effects[columns[criterion]]
    demo = {t.level: t.effect for t in _terms("demo_requested")}
    log_odds = log_odds + np.where(columns["demo_requested"], demo["True"], demo["False"])
    for criterion in _NUMERIC:
        x = np.log1p(columns[criterion].astype(np.float64))
        log_odds = log_odds + _effect(criterion) * np.nan_to_num(x, nan=0.0)
    return log_odds


def _log_odds(leads: pd.DataFrame) -> np.ndarray:
    """True log-odds of conversion of every lead of a table like make_leads'.

    Unknown categorical levels count as missing (effect 0).
    """
    columns = {
        "created_at": leads["created_at"].to_numpy(),
        "demo_requested": leads["demo_requested"].to_numpy(dtype=bool),
    }
    for criterion in _SAMPLED:
        columns[criterion] = pd.Index(_levels(criterion)).get_indexer(leads[criterion])
    for criterion in _NUMERIC:
        columns[criterion] = leads[criterion].to_numpy(dtype=np.float64, na_value=np.nan)
    return _linear_predictor(columns)


def _to_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The public lead table: ids added, categorical codes turned into text."""
    n = len(columns["created_at"])
    ids = "L" + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(7)
    data = {"lead_id": ids}
    for name in _COLUMNS[1:]:
        values = columns[name]
        if name in _SAMPLED:
            text = np.array([*_levels(name), None], dtype=object)
            values = pd.array(text[values], dtype="str")
        data[name] = values
    return pd.DataFrame(data, columns=list(_COLUMNS))
