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

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError
from ._leads import _linear_predictor, _simulate_attributes, _simulate_behaviour, _to_frame
from ._log import _leads_with_log
from ._truth import _END, _START, _TRUTH, _effect, _terms

__all__ = ["make_leads", "ground_truth"]


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


def make_leads(n: int = 5000, *, seed=0, activities: bool = False, change_at=None):
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
    change_at : str or datetime, optional
        A date within the two years of ``created_at`` from which the pattern
        changes (lead table form only): for leads created on or after it,
        pricing-page visits stop predicting wins (``pricing_page_views`` has
        no effect, though the page is visited as often as before), and a new lead
        source, ``"Partner portal"``, brings about 30% of the leads with a
        strong positive effect (+1.2 on the log-odds). Leads before it are
        the same as without a change.

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
        If ``activities`` is not a bool, or ``change_at`` is not a date
        within the leads' two years or is given with ``activities=True``.

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

    A history whose pattern changes in 2025:

    >>> changed = make_leads(4000, seed=0, change_at="2025-01-01")
    >>> late = changed["created_at"] >= "2025-01-01"
    >>> bool((changed.loc[late, "lead_source"] == "Partner portal").mean() > 0.2)
    True
    >>> changed[~late].equals(make_leads(4000, seed=0)[~late])
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
    change = _change_moment(change_at, activities)
    # One independent stream per stage, so that adding a stage does not change
    # what the others draw for a seed. Spawned streams are numbered, so the
    # first three are the same however many are spawned.
    streams = np.random.default_rng(seed).spawn(7)
    rng_attributes, rng_behaviour, rng_outcome, *rng_log, rng_change = streams

    columns = _simulate_attributes(n, rng_attributes)
    if activities:
        return _leads_with_log(columns, rng_outcome, *rng_log)
    behaviour = _simulate_behaviour(columns["lead_source"], rng_behaviour)
    columns.update(behaviour.observed())
    log_odds = _linear_predictor(columns)
    partner = np.zeros(n, dtype=bool)
    if change is not None:
        log_odds, partner = _changed(columns, log_odds, change, rng_change)
    probability = 1.0 / (1.0 + np.exp(-log_odds))
    columns["converted"] = rng_outcome.random(n) < probability
    frame = _to_frame(columns)
    if partner.any():
        frame.loc[partner, "lead_source"] = PARTNER_SOURCE
    return frame


#: The lead source that appears at ``make_leads(change_at=...)``, and its effect.
PARTNER_SOURCE, PARTNER_EFFECT, PARTNER_SHARE = "Partner portal", 1.2, 0.3


def _change_moment(change_at, activities):
    """``change_at`` as a datetime64 within the leads' span, or None."""
    if change_at is None:
        return None
    if activities:
        raise ParameterError("make_leads(change_at=...) works with the lead table form only")
    try:
        moment = np.datetime64(pd.Timestamp(change_at).tz_localize(None), "s")
    except (TypeError, ValueError):
        raise ParameterError(f"change_at must be a date, got {change_at!r}") from None
    if not _START < moment < _END:
        raise ParameterError(
            f"change_at must lie within the leads' creation dates ({_START} to {_END}), "
            f"got {change_at!r}"
        )
    return moment


def _changed(columns, log_odds, moment, rng):
    """The log-odds after the change, and the leads the new source brings."""
    after = columns["created_at"] >= moment
    visits = np.log1p(columns["pricing_page_views"].astype(np.float64))
    log_odds = log_odds - np.where(after, _effect("pricing_page_views") * visits, 0.0)
    partner = after & (rng.random(len(after)) < PARTNER_SHARE)
    sources = np.array([t.effect for t in _terms("lead_source")] + [0.0])
    own = sources[columns["lead_source"]]
    return log_odds + np.where(partner, PARTNER_EFFECT - own, 0.0), partner


# Internally a lead table is a dict of numpy arrays in which every categorical
# criterion of _SAMPLED holds codes: positions in its _TRUTH levels, -1 when
# missing. _to_frame turns the codes into text only at the end.


# --- activity log ------------------------------------------------------------
#
# Internally an activity log is a _Log of parallel arrays, with times in whole
# seconds since _START; _log_frame turns it into the public table at the end.
