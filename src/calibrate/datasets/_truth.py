"""The known scoring model the simulated leads are drawn from: effects, half-lives, columns."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


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
