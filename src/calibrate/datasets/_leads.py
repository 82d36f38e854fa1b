"""Who a simulated lead is: its attributes, its engagement level and its log-odds of winning."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ._truth import (
    _COLUMNS,
    _END,
    _MISSING_SHARE,
    _NUMERIC,
    _SAMPLED,
    _SECONDS_PER_YEAR,
    _START,
    _effect,
    _terms,
)


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
