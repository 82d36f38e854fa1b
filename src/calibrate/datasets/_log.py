"""The simulated activity log: emails, pages, content, webinars, forms and demos over time."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._leads import (
    _ACTIVE_SHARE,
    _ACTIVE_SHARE_OTHERS,
    _lead_ids,
    _levels,
    _linear_predictor,
    _to_frame,
)
from ._truth import _BEHAVIOUR, _FAMILY, _LOG_COLUMNS, _NUMERIC, _SAMPLED, _START, _effect

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
