"""Synthetic B2B leads drawn from a known scoring model.

:func:`make_leads` simulates won/lost lead history whose log-odds of
conversion is an additive model with known effects, and :func:`ground_truth`
returns those effects, so tests and examples can check that a fitted points
sheet recovers the ordering of the true effects.

By default behaviour comes as counts on the lead table, and the true log-odds
of a lead is::

    intercept
    + drift * years since 2024-01-01
    + effect(seniority) + effect(role) + effect(industry)
    + effect(country) + effect(lead_source) + effect(demo_requested)
    + sum over numeric columns of slope * log1p(value)

A missing value contributes 0. ``country`` and ``time_on_site_min`` have a
true effect of 0: they are there so a fitted model can be seen to leave them
out. Behaviour counts come from a latent *interest* of each lead, but interest
does not enter the log-odds itself, so the counts genuinely carry the effect.

With ``activities=True`` behaviour comes instead as an activity log, one row
per email open, page view, download, ... as a marketing-automation system
records it, and each lead has the moment ``decided_at`` of its hand-off
decision. The true log-odds is then::

    intercept
    + drift * years since 2024-01-01
    + effect(seniority) + effect(role) + effect(industry)
    + effect(country) + effect(lead_source)
    + slope(company_size) * log1p(company_size)
    + sum over behaviour types t of beta(t) * log1p(D(t))

    D(t) = sum over the lead's activities of type t strictly before
           decided_at of 2 ** (-age / half_life(family of t)),
    age  = (decided_at - occurred_at) in days, fractional.

The behaviour types are the activity types, except that page views are split
by URL: ``/pricing*`` is ``pricing_page_view``, ``/careers*`` is
``careers_page_view`` (a job seeker, not a buyer: a negative effect), and
``page_view`` is every other page. Each type belongs to a family sharing one
half-life:

=============  ==========  ==========================================
family         half-life   behaviour types
=============  ==========  ==========================================
email          14 days     email_open, email_click
web            30 days     page_view, pricing_page_view,
                           careers_page_view
content        60 days     whitepaper_download, case_study_view,
                           webinar_attended
hand-raiser    45 days     form_fill, demo_request
opt-out        90 days     unsubscribe, email_bounce
=============  ==========  ==========================================

Activities at or after ``decided_at`` do not enter the truth, but they are
far more frequent for leads that converted (won leads keep reading emails and
visiting the site while they talk to sales), so a feature that counts them
leaks the outcome and inflates the apparent signal.

In both forms the outcome depends only on the tables returned, so the log-odds
of any lead table can be recomputed from it (see ``_log_odds`` and
``_behaviour_log_odds``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np
import pandas as pd

from .errors import DataError, ParameterError

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
_DECAYED = "slope per log1p decayed count"
_HALF_LIFE = "half_life_days"

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
    # The activity log of make_leads(activities=True) replaces demo_requested
    # and the count slopes above by these behaviour types, each adding
    # effect * log1p(decayed count before the decision) ...
    _Term("demo_request", _DECAYED, 1.50),
    _Term("form_fill", _DECAYED, 1.00),
    _Term("pricing_page_view", _DECAYED, 0.60),
    _Term("webinar_attended", _DECAYED, 0.50),
    _Term("case_study_view", _DECAYED, 0.40),
    _Term("whitepaper_download", _DECAYED, 0.30),
    _Term("email_click", _DECAYED, 0.30),
    _Term("page_view", _DECAYED, 0.15),
    _Term("email_open", _DECAYED, 0.05),
    _Term("email_bounce", _DECAYED, -0.50),
    _Term("careers_page_view", _DECAYED, -0.60),
    _Term("unsubscribe", _DECAYED, -1.00),
    # ... whose counts decay with the half-life (days, not log-odds) of their
    # family (see _FAMILY).
    _Term("email", _HALF_LIFE, 14.0),
    _Term("web", _HALF_LIFE, 30.0),
    _Term("content", _HALF_LIFE, 60.0),
    _Term("hand-raiser", _HALF_LIFE, 45.0),
    _Term("opt-out", _HALF_LIFE, 90.0),
)

# The family of each behaviour type of the activity log, in _TRUTH order.
_FAMILY = {
    "demo_request": "hand-raiser",
    "form_fill": "hand-raiser",
    "pricing_page_view": "web",
    "webinar_attended": "content",
    "case_study_view": "content",
    "whitepaper_download": "content",
    "email_click": "email",
    "page_view": "web",
    "email_open": "email",
    "email_bounce": "opt-out",
    "careers_page_view": "web",
    "unsubscribe": "opt-out",
}
_BEHAVIOUR = tuple(_FAMILY)

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
_LOG_COLUMNS = ("lead_id", "created_at", *_SAMPLED, "company_size", "decided_at", "converted")


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
        Columns ``criterion``, ``level`` and ``effect`` (log-odds, except for
        half-lives). Categorical criteria (``seniority``, ``role``,
        ``industry``, ``country``, ``lead_source``, ``demo_requested``) have
        one row per level, listed from highest to lowest effect; a missing
        value has effect 0. Numeric criteria have one row with level
        ``"slope per log1p unit"``: the value ``x`` adds ``effect * log1p(x)``,
        and a missing value adds 0. ``intercept`` is the log-odds of a lead at
        2024-01-01 whose terms are all 0, and ``created_at`` (level
        ``"slope per year"``) is the drift of the log-odds per year after that.

        The activity log of ``make_leads(activities=True)`` has its own rows.
        Each behaviour type (``demo_request``, ``form_fill``,
        ``pricing_page_view``, ``webinar_attended``, ``case_study_view``,
        ``whitepaper_download``, ``email_click``, ``page_view``,
        ``email_open``, ``email_bounce``, ``careers_page_view``,
        ``unsubscribe``) has one row with level
        ``"slope per log1p decayed count"``, and each family (``email``,
        ``web``, ``content``, ``hand-raiser``, ``opt-out``) one row with level
        ``"half_life_days"`` whose ``effect`` is its half-life in days; the
        module documentation says which types form a family. That form shares
        the intercept, drift, attribute and ``company_size`` rows, and ignores
        ``demo_requested`` and the count slopes, which belong to the default
        form only.

    See Also
    --------
    make_leads : Simulate leads from these effects.

    Examples
    --------
    >>> truth = ground_truth()
    >>> truth.loc[truth["criterion"] == "seniority", "level"].tolist()
    ['C-level', 'VP', 'Director', 'Manager', 'Staff', 'Student']
    >>> effect = truth.set_index(["criterion", "level"])["effect"]
    >>> float(effect[("demo_requested", "True")])
    1.5
    >>> float(effect[("email", "half_life_days")])
    14.0
    """
    return pd.DataFrame(
        {
            "criterion": pd.array([t.criterion for t in _TRUTH], dtype="str"),
            "level": pd.array([t.level for t in _TRUTH], dtype="str"),
            "effect": np.array([t.effect for t in _TRUTH], dtype=np.float64),
        }
    )


def make_leads(n: int = 5000, *, seed=0, activities: bool = False):
    """Simulate B2B leads with a known won/lost outcome.

    Lead attributes are drawn independently of each other with fixed
    frequencies; behaviour is driven by a latent interest of each lead and by
    its lead source; the outcome ``converted`` is drawn from the additive
    logistic model returned by :func:`ground_truth`.

    Parameters
    ----------
    n : int, default 5000
        Number of leads, at least 1.
    seed : int, default 0
        Seed passed to :func:`numpy.random.default_rng`; the same seed gives
        the same table(s).
    activities : bool, default False
        If False, return one lead table with behaviour counts. If True,
        return the lead table without behaviour, with the decision time of
        each lead, and an activity log. For a given seed, the columns the two
        forms share are the same, except ``converted``: behaviour enters the
        true model differently, so the outcome is drawn again (from the same
        random numbers, so most leads keep their outcome).

    Returns
    -------
    leads : pandas.DataFrame
        One row per lead, in order of ``created_at``, with columns:

        - ``lead_id`` (str): ``"L0000001"``, ``"L0000002"``, ...
        - ``created_at`` (datetime64[s]): from 2024-01-01 over two years.
        - ``role``, ``seniority``, ``industry``, ``country``, ``lead_source``
          (str): ``role`` is missing for about 3% of leads and ``seniority``
          for about 2%; ``industry`` has a rare level, ``"Agriculture"``
          (about 0.3%).
        - ``company_size`` (float): employees, 1 to 100,000, about 5% missing.

        With ``activities=False``, then:

        - ``email_clicks``, ``page_views``, ``pricing_page_views``,
          ``whitepaper_downloads``, ``webinars_attended`` (int64): counts,
          mostly zero or small.
        - ``time_on_site_min`` (float): minutes, one decimal.
        - ``demo_requested`` (bool): about 5% True.
        - ``converted`` (bool): the outcome, about 12% True.

        With ``activities=True``, then:

        - ``decided_at`` (datetime64[s]): the hand-off decision, 10 to 120
          days after ``created_at``.
        - ``converted`` (bool): the outcome, about 14% True.
    activities : pandas.DataFrame
        Only with ``activities=True``, returned as ``(leads, activities)``:
        one row per activity, about 25 per lead, in order of ``occurred_at``
        and then ``lead_id``, with columns:

        - ``lead_id`` (str): a lead of ``leads``.
        - ``activity_type`` (str): ``email_open``, ``email_click``,
          ``page_view``, ``whitepaper_download``, ``case_study_view``,
          ``webinar_attended``, ``form_fill``, ``demo_request``,
          ``unsubscribe`` or ``email_bounce``.
        - ``occurred_at`` (datetime64[s]): from ``created_at`` of the lead to
          60 days after its ``decided_at``.
        - ``detail`` (str): the URL of a page view (``/pricing``,
          ``/careers/jobs/123``, ``/blog/...``), the asset of a download or
          case study, the campaign of an email or webinar; missing for the
          other types.

    Raises
    ------
    DataError
        If ``n`` is not an integer of at least 1.
    ParameterError
        If ``activities`` is not a bool.

    See Also
    --------
    ground_truth : The effects behind ``converted``.

    Notes
    -----
    Every stage draws from its own random stream spawned from ``seed``, so
    the activity log does not change the lead attributes drawn for a seed.
    With ``activities=True`` a lead engages (or not) at a rate set by its
    interest and lead source, partly spread over its weeks before the
    decision and partly in a burst at a random moment of them, so the ages of
    activities at the decision vary enough for the half-lives to be
    identified. Email opens and clicks stop after an unsubscribe or a bounce.

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

    With the activity log:

    >>> leads, log = make_leads(1000, seed=0, activities=True)
    >>> leads.columns[-2:].tolist()
    ['decided_at', 'converted']
    >>> log.columns.tolist()
    ['lead_id', 'activity_type', 'occurred_at', 'detail']
    >>> bool(log["lead_id"].isin(leads["lead_id"]).all())
    True
    """
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise DataError(f"n must be a positive integer, got {n!r}")
    if not isinstance(activities, bool | np.bool_):
        raise ParameterError(
            f"The 'activities' parameter of make_leads must be True or False. "
            f"Got {activities!r} instead."
        )
    n = int(n)
    # One independent stream per stage, so that adding a stage does not change
    # what the others draw for a seed. Spawned streams are numbered, so the
    # first three are the same however many are spawned.
    streams = np.random.default_rng(seed).spawn(6)
    rng_attributes, rng_behaviour, rng_outcome, *rng_log = streams

    columns = _simulate_attributes(n, rng_attributes)
    if activities:
        return _leads_with_log(columns, rng_outcome, *rng_log)
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


def _linear_predictor(columns: dict[str, np.ndarray], *, counts: bool = True) -> np.ndarray:
    """True log-odds of conversion from internal columns (categorical codes).

    With ``counts=False``, only the terms shared with the activity-log form:
    no ``demo_requested`` and no count slopes.
    """
    years = (columns["created_at"] - _START) / np.timedelta64(1, "s") / _SECONDS_PER_YEAR
    log_odds = _effect("intercept") + _effect("created_at") * years
    for criterion in _SAMPLED:
        # Code -1 (missing) picks the appended 0.
        effects = np.array([t.effect for t in _terms(criterion)] + [0.0])
        log_odds = log_odds + effects[columns[criterion]]
    if counts:
        demo = {t.level: t.effect for t in _terms("demo_requested")}
        log_odds = log_odds + np.where(columns["demo_requested"], demo["True"], demo["False"])
    for criterion in _NUMERIC if counts else ("company_size",):
        x = np.log1p(columns[criterion].astype(np.float64))
        log_odds = log_odds + _effect(criterion) * np.nan_to_num(x, nan=0.0)
    return log_odds


def _log_odds(leads: pd.DataFrame, activities: pd.DataFrame | None = None) -> np.ndarray:
    """True log-odds of conversion of every lead of a table like make_leads'.

    Without ``activities``, ``leads`` is a table of the default form, with
    behaviour counts. With ``activities``, ``leads`` and ``activities`` are
    tables of the activity-log form, and the log-odds is the explicit part
    plus :func:`_behaviour_log_odds`.

    Unknown categorical levels count as missing (effect 0).
    """
    counts = activities is None
    columns = {"created_at": leads["created_at"].to_numpy()}
    if counts:
        columns["demo_requested"] = leads["demo_requested"].to_numpy(dtype=bool)
    for criterion in _SAMPLED:
        columns[criterion] = pd.Index(_levels(criterion)).get_indexer(leads[criterion])
    for criterion in _NUMERIC if counts else ("company_size",):
        columns[criterion] = leads[criterion].to_numpy(dtype=np.float64, na_value=np.nan)
    log_odds = _linear_predictor(columns, counts=counts)
    if counts:
        return log_odds
    return log_odds + _behaviour_log_odds(leads, activities)


def _lead_ids(n: int) -> pd.Series:
    """``"L0000001"``, ``"L0000002"``, ... for leads in positions 0 to n - 1."""
    return "L" + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(7)


def _to_frame(columns: dict[str, np.ndarray], names: tuple[str, ...] = _COLUMNS) -> pd.DataFrame:
    """The public lead table: ids added, categorical codes turned into text."""
    data = {"lead_id": _lead_ids(len(columns["created_at"]))}
    for name in names[1:]:
        values = columns[name]
        if name in _SAMPLED:
            text = np.array([*_levels(name), None], dtype=object)
            values = pd.array(text[values], dtype="str")
        data[name] = values
    return pd.DataFrame(data, columns=list(names))


# --- activity log ------------------------------------------------------------
#
# Internally an activity log is a _Log of parallel arrays, with times in whole
# seconds since _START; _log_frame turns it into the public table at the end.

_DAY = 86_400  # seconds
_DECISION_DAYS = (10, 120)  # from created_at to decided_at
_AFTER_DAYS = 60  # activity goes on this long after decided_at
_RATE_DAYS = 65  # rates of _KINDS are per this many days
_BURST_SHARE = 0.5  # share of activities in a lead's burst, the others are spread out
_BURST_WIDTH = 0.05  # standard deviation of a burst, as a share of the window
_JOB_SEEKER_SHARE = 0.04
_JOB_SEEKER_RATE = 4.0  # careers page views of a job seeker per _RATE_DAYS
_JOB_SEEKER_BUYING = 0.3  # a job seeker's other activity, relative to a buyer's
_BOUNCE_SHARE = {"Purchased list": 0.15, "Content syndication": 0.06}
_BOUNCE_SHARE_OTHERS = 0.02
_UNSUBSCRIBE_LOGIT = (-3.0, -0.7)  # before the decision: intercept, slope on interest
_UNSUBSCRIBE_AFTER = {True: 0.01, False: 0.08}  # after the decision, by outcome

_CAMPAIGNS = (
    "Monthly newsletter",
    "Product update",
    "Webinar invitation",
    "Customer stories digest",
    "Pricing promotion",
    "Re-engagement",
    "Event follow-up",
)
_SITE_PAGES = (
    "/",
    "/product",
    "/product/analytics",
    "/product/integrations",
    "/product/security",
    "/customers",
    "/blog/lead-scoring-101",
    "/blog/mql-vs-sql",
    "/blog/intent-data",
    "/blog/attribution-models",
    "/blog/b2b-benchmarks-2025",
    "/docs/getting-started",
    "/docs/api",
    "/docs/integrations/salesforce",
    "/about",
    "/contact",
)
_PRICING_PAGES = ("/pricing", "/pricing/enterprise", "/pricing/compare")
_CAREERS_PAGES = (
    "/careers",
    "/careers/jobs/101",
    "/careers/jobs/123",
    "/careers/jobs/187",
    "/careers/jobs/204",
    "/careers/jobs/256",
)
_WHITEPAPERS = (
    "The State of B2B Lead Scoring",
    "Buyer Intent Playbook",
    "Marketing Ops Benchmark Report",
    "CRM Data Quality Checklist",
)
_CASE_STUDIES = (
    "Case study: Northwind Traders",
    "Case study: Globex",
    "Case study: Initech",
    "Case study: Umbrella Health",
)
_WEBINARS = (
    "Webinar: Scoring leads with data",
    "Webinar: From MQL to revenue",
    "Webinar: Product tour",
)


class _Kind(NamedTuple):
    """One kind of simulated activity: its rates and its possible details.

    An active lead of interest ``z`` has on average
    ``rate * exp(slope * z)`` such activities per ``_RATE_DAYS`` days before
    its decision, and ``won_after`` (if it converted) or ``lost_after`` times
    that rate in the ``_AFTER_DAYS`` days after it. ``details`` are drawn
    uniformly; ``(None,)`` means no detail.
    """

    name: str
    activity_type: str
    rate: float
    slope: float
    won_after: float
    lost_after: float
    details: tuple[str | None, ...] = (None,)


# Opt-outs have rate 0 here: a lead unsubscribes or bounces at most once,
# drawn separately (see _opt_outs_before and _simulate_after).
_KINDS: tuple[_Kind, ...] = (
    _Kind("open", "email_open", 10.0, 0.3, 1.2, 0.5, _CAMPAIGNS),
    _Kind("click", "email_click", 2.5, 0.6, 2.0, 0.3, _CAMPAIGNS),
    _Kind("site", "page_view", 6.0, 0.5, 1.5, 0.2, _SITE_PAGES),
    _Kind("pricing", "page_view", 0.8, 0.9, 1.5, 0.15, _PRICING_PAGES),
    _Kind("careers", "page_view", 0.05, 0.0, 1.0, 1.0, _CAREERS_PAGES),
    _Kind("whitepaper", "whitepaper_download", 0.5, 0.5, 0.5, 0.2, _WHITEPAPERS),
    _Kind("case_study", "case_study_view", 0.4, 0.6, 1.0, 0.1, _CASE_STUDIES),
    _Kind("webinar", "webinar_attended", 0.2, 0.7, 0.5, 0.2, _WEBINARS),
    _Kind("form_fill", "form_fill", 0.3, 0.8, 0.5, 0.1),
    _Kind("demo", "demo_request", 0.08, 1.0, 0.0, 0.1),
    _Kind("unsubscribe", "unsubscribe", 0.0, 0.0, 0.0, 0.0),
    _Kind("bounce", "email_bounce", 0.0, 0.0, 0.0, 0.0),
)
_K = {kind.name: i for i, kind in enumerate(_KINDS)}
_MAIL = np.array([_K["open"], _K["click"]])
_OPT_OUT = np.array([_K["unsubscribe"], _K["bounce"]])

# Every detail of every kind in one array; a kind's details start at
# _DETAIL_START[kind] and there are _DETAIL_COUNT[kind] of them.
_DETAILS = np.array([d for kind in _KINDS for d in kind.details], dtype=object)
_DETAIL_COUNT = np.array([len(kind.details) for kind in _KINDS])
_DETAIL_START = np.cumsum(_DETAIL_COUNT) - _DETAIL_COUNT


@dataclass(frozen=True)
class _Log:
    """Activities as parallel arrays of positions (lead, kind, detail) and times."""

    lead: np.ndarray
    kind: np.ndarray
    at: np.ndarray
    detail: np.ndarray

    def __getitem__(self, keep: np.ndarray) -> _Log:
        return _Log(*(getattr(self, f.name)[keep] for f in fields(self)))

    @staticmethod
    def concat(*logs: _Log) -> _Log:
        return _Log(
            *(np.concatenate([getattr(log, f.name) for log in logs]) for f in fields(_Log))
        )


@dataclass(frozen=True)
class _Engagement:
    """What drives a lead's activity: latent interest, whether it engages at
    all, and whether it is a job seeker rather than a buyer."""

    interest: np.ndarray
    active: np.ndarray
    job_seeker: np.ndarray


def _leads_with_log(
    columns: dict[str, np.ndarray],
    rng_outcome: np.random.Generator,
    rng_decision: np.random.Generator,
    rng_before: np.random.Generator,
    rng_after: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decision times, activities before them, the outcome, activities after."""
    n = len(columns["created_at"])
    created = (columns["created_at"] - _START).astype(np.int64)
    low, high = _DECISION_DAYS
    decided = created + rng_decision.integers(low * _DAY, high * _DAY, size=n, endpoint=True)
    columns["decided_at"] = _START + decided.astype("m8[s]")

    engagement = _simulate_engagement(columns["lead_source"], rng_before)
    before = _simulate_before(engagement, columns["lead_source"], created, decided, rng_before)
    behaviour = _behaviour_of_details()[before.detail]
    age_days = (decided[before.lead] - before.at) / _DAY
    log_odds = _linear_predictor(columns, counts=False) + _decayed_log_odds(
        before.lead, behaviour, age_days, n
    )
    columns["converted"] = rng_outcome.random(n) < 1.0 / (1.0 + np.exp(-log_odds))

    after = _simulate_after(engagement, before, decided, columns["converted"], rng_after)
    return _to_frame(columns, _LOG_COLUMNS), _log_frame(_Log.concat(before, after), n)


def _simulate_engagement(source: np.ndarray, rng: np.random.Generator) -> _Engagement:
    """Standard-normal interest; engagement by lead source as in the count form."""
    n = len(source)
    levels = _levels("lead_source")
    active_share = np.array([_ACTIVE_SHARE.get(level, _ACTIVE_SHARE_OTHERS) for level in levels])
    return _Engagement(
        interest=rng.normal(size=n),
        active=rng.random(n) < active_share[source],
        job_seeker=rng.random(n) < _JOB_SEEKER_SHARE,
    )


def _mean_counts(engagement: _Engagement, multiplier: np.ndarray) -> np.ndarray:
    """Mean count per lead (rows) and kind (columns) over _RATE_DAYS days.

    ``multiplier`` scales the rates of the kinds (shape ``(n_kinds,)`` or
    ``(n, n_kinds)``); job seekers view careers pages whatever it is, and
    do everything else less than buyers.
    """
    rate = np.array([k.rate for k in _KINDS])
    slope = np.array([k.slope for k in _KINDS])
    mean = rate * multiplier * np.exp(np.outer(engagement.interest, slope))
    buyer = np.where(engagement.job_seeker, _JOB_SEEKER_BUYING, 1.0)
    mean *= (engagement.active * buyer)[:, None]
    mean[:, _K["careers"]] += _JOB_SEEKER_RATE * engagement.job_seeker
    return mean


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lead and kind positions of each activity of a count matrix."""
    n_kinds = counts.shape[1]
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    return np.divmod(cell, n_kinds)


def _pick_details(kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly drawn detail (position in _DETAILS) of each activity's kind."""
    return _DETAIL_START[kind] + (rng.random(len(kind)) * _DETAIL_COUNT[kind]).astype(np.int64)


def _simulate_before(
    engagement: _Engagement,
    source: np.ndarray,
    created: np.ndarray,
    decided: np.ndarray,
    rng: np.random.Generator,
) -> _Log:
    """Activities from created_at to strictly before decided_at.

    Counts are Poisson with means proportional to the length of the window.
    Half of the activities are spread uniformly over the window and half fall
    in a burst around a moment drawn uniformly in it, so some leads were busy
    just before the decision and others long before. Webinar leads attended a
    webinar, and content-syndication leads downloaded a whitepaper, when they
    were created.
    """
    n = len(created)
    window = decided - created
    counts = rng.poisson(_mean_counts(engagement, 1.0) * (window / (_RATE_DAYS * _DAY))[:, None])
    counts[:, _OPT_OUT] = _opt_outs_before(engagement, source, rng)
    lead, kind = _expand(counts)

    m = len(lead)
    centre = rng.random(n)[lead]
    burst = np.clip(centre + _BURST_WIDTH * rng.normal(size=m), 0.0, 1.0)
    share = np.where(rng.random(m) < _BURST_SHARE, burst, rng.random(m))
    offset = np.minimum((share * window[lead]).astype(np.int64), window[lead] - 1)
    logs = [_Log(lead, kind, created[lead] + offset, _pick_details(kind, rng))]

    levels = _levels("lead_source")
    for level, name in [("Webinar", "webinar"), ("Content syndication", "whitepaper")]:
        (origin,) = np.nonzero(source == levels.index(level))
        kind = np.full(len(origin), _K[name])
        logs.append(_Log(origin, kind, created[origin], _pick_details(kind, rng)))
    return _without_mail_after_opt_out(_Log.concat(*logs), n)


def _opt_outs_before(
    engagement: _Engagement, source: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Unsubscribe and bounce indicators (columns) before the decision.

    A lead bounces with a share set by its source and otherwise unsubscribes
    with a probability falling with interest; never both.
    """
    levels = _levels("lead_source")
    bounce_share = np.array([_BOUNCE_SHARE.get(level, _BOUNCE_SHARE_OTHERS) for level in levels])
    bounce = rng.random(len(source)) < bounce_share[source]
    intercept, slope = _UNSUBSCRIBE_LOGIT
    unsubscribe_share = 1.0 / (1.0 + np.exp(-(intercept + slope * engagement.interest)))
    unsubscribe = ~bounce & (rng.random(len(source)) < unsubscribe_share)
    return np.column_stack([unsubscribe, bounce]).astype(np.int64)


def _simulate_after(
    engagement: _Engagement,
    before: _Log,
    decided: np.ndarray,
    converted: np.ndarray,
    rng: np.random.Generator,
) -> _Log:
    """Activities in the _AFTER_DAYS days from decided_at on.

    Won leads engage (whether or not they did before) at ``won_after`` times
    their rates, lost leads at ``lost_after`` times; lost leads that had not
    opted out often unsubscribe now.
    """
    n = len(decided)
    won = np.array([k.won_after for k in _KINDS])
    lost = np.array([k.lost_after for k in _KINDS])
    multiplier = np.where(converted[:, None], won, lost)
    engaged = _Engagement(
        engagement.interest, engagement.active | converted, engagement.job_seeker
    )
    counts = rng.poisson(_mean_counts(engaged, multiplier) * (_AFTER_DAYS / _RATE_DAYS))
    opted_out = np.zeros(n, dtype=bool)
    opted_out[before.lead[np.isin(before.kind, _OPT_OUT)]] = True
    share = np.where(converted, _UNSUBSCRIBE_AFTER[True], _UNSUBSCRIBE_AFTER[False])
    counts[:, _K["unsubscribe"]] = ~opted_out & (rng.random(n) < share)
    lead, kind = _expand(counts)
    at = decided[lead] + rng.integers(0, _AFTER_DAYS * _DAY, size=len(lead), endpoint=True)
    after = _Log(lead, kind, at, _pick_details(kind, rng))
    # Opt-outs before the decision stop emails after it too.
    kept = _without_mail_after_opt_out(
        _Log.concat(before[np.isin(before.kind, _OPT_OUT)], after), n
    )
    return kept[kept.at >= decided[kept.lead]]


def _without_mail_after_opt_out(log: _Log, n: int) -> _Log:
    """Drop email opens and clicks after the lead unsubscribed or bounced."""
    stop = np.full(n, np.iinfo(np.int64).max)
    opt_out = np.isin(log.kind, _OPT_OUT)
    np.minimum.at(stop, log.lead[opt_out], log.at[opt_out])
    return log[~(np.isin(log.kind, _MAIL) & (log.at > stop[log.lead]))]


def _log_frame(log: _Log, n: int) -> pd.DataFrame:
    """The public activity table, in order of time and then lead."""
    order = np.lexsort((log.lead, log.at))
    types = pd.array([k.activity_type for k in _KINDS], dtype="str")
    return pd.DataFrame(
        {
            "lead_id": _lead_ids(n).array.take(log.lead[order]),
            "activity_type": types.take(log.kind[order]),
            "occurred_at": _START + log.at[order].astype("m8[s]"),
            "detail": pd.array(_DETAILS, dtype="str").take(log.detail[order]),
        }
    )


def _behaviour_of_details() -> np.ndarray:
    """Position in _BEHAVIOUR of the behaviour type of each entry of _DETAILS.

    The generator types its activities with the same rule as the tables.
    """
    activity_type = [k.activity_type for k in _KINDS for _ in k.details]
    return _behaviour_codes(activity_type, _DETAILS)


def _behaviour_codes(activity_type, detail) -> np.ndarray:
    """Position in _BEHAVIOUR of each activity's behaviour type, -1 if none.

    Page views of ``/pricing*`` URLs are ``pricing_page_view``, of
    ``/careers*`` URLs ``careers_page_view``, of other URLs ``page_view``.
    """
    activity_type = pd.Series(activity_type, dtype="str").reset_index(drop=True)
    detail = pd.Series(detail, dtype="str").reset_index(drop=True)
    codes = pd.Index(_BEHAVIOUR).get_indexer(activity_type)
    page = (activity_type == "page_view").to_numpy(dtype=bool, na_value=False)
    for prefix, derived in [("/pricing", "pricing_page_view"), ("/careers", "careers_page_view")]:
        match = detail.str.startswith(prefix).to_numpy(dtype=bool, na_value=False)
        codes[page & match] = _BEHAVIOUR.index(derived)
    return codes


def _decayed_log_odds(
    lead: np.ndarray, behaviour: np.ndarray, age_days: np.ndarray, n: int
) -> np.ndarray:
    """Behaviour part of the true log-odds of n leads from their activities.

    ``lead`` and ``behaviour`` are positions (of the lead, in _BEHAVIOUR),
    ``age_days`` the time from each activity to its lead's decision. Only
    activities strictly before the decision (age > 0) of a known behaviour
    type count.
    """
    n_types = len(_BEHAVIOUR)
    beta = np.array([_effect(t) for t in _BEHAVIOUR])
    half_life = np.array([_effect(_FAMILY[t]) for t in _BEHAVIOUR])
    keep = (behaviour >= 0) & (age_days > 0)
    weight = np.exp2(-age_days[keep] / half_life[behaviour[keep]])
    cell = lead[keep] * n_types + behaviour[keep]
    decayed = np.bincount(cell, weights=weight, minlength=n * n_types).reshape(n, n_types)
    return np.log1p(decayed) @ beta


def _behaviour_log_odds(leads: pd.DataFrame, activities: pd.DataFrame) -> np.ndarray:
    """Behaviour part of the true log-odds, from the two tables of make_leads.

    For each lead of ``leads`` (columns ``lead_id`` and ``decided_at``) and
    behaviour type ``t``, ``D(t)`` sums ``2 ** (-age / half_life)`` over the
    lead's activities of type ``t`` in ``activities`` (columns ``lead_id``,
    ``activity_type``, ``occurred_at``, ``detail``) that occurred strictly
    before its ``decided_at``, with ``age`` in fractional days and the
    half-life of the type's family; the result is the sum over types of
    ``beta(t) * log1p(D(t))``, in the order of ``leads``. Page views are typed
    by URL (``/pricing*``, ``/careers*``, other); activities of unknown types
    or leads are ignored. Adding the explicit terms gives the full truth:
    see ``_log_odds(leads, activities)``.
    """
    lead = pd.Index(leads["lead_id"]).get_indexer(activities["lead_id"])
    behaviour = _behaviour_codes(activities["activity_type"], activities["detail"])
    decided = leads["decided_at"].to_numpy().astype("datetime64[s]")
    occurred = activities["occurred_at"].to_numpy().astype("datetime64[s]")
    known = lead >= 0
    age_days = (decided[lead[known]] - occurred[known]) / np.timedelta64(1, "s") / _DAY
    return _decayed_log_odds(lead[known], behaviour[known], age_days, len(leads))
