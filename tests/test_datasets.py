"""Tests for calibrate.datasets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from calibrate.datasets import _log_odds, ground_truth, make_leads
from calibrate.errors import DataError

COLUMNS = [
    "lead_id",
    "created_at",
    "role",
    "seniority",
    "industry",
    "country",
    "lead_source",
    "company_size",
    "email_clicks",
    "page_views",
    "pricing_page_views",
    "whitepaper_downloads",
    "webinars_attended",
    "time_on_site_min",
    "demo_requested",
    "converted",
]
TEXT = ["lead_id", "role", "seniority", "industry", "country", "lead_source"]
COUNTS = [
    "email_clicks",
    "page_views",
    "pricing_page_views",
    "whitepaper_downloads",
    "webinars_attended",
]
SENIORITY = ["C-level", "VP", "Director", "Manager", "Staff", "Student"]
ROLES = {"Marketing", "Sales", "IT", "Finance", "Operations", "HR", "Engineering"}
SOURCES = {
    "Organic search",
    "Paid search",
    "Webinar",
    "Referral",
    "Trade show",
    "Purchased list",
    "Content syndication",
}


@pytest.fixture(scope="module")
def leads():
    return make_leads(5000, seed=0)


@pytest.fixture(scope="module")
def many_leads():
    return make_leads(50_000, seed=1)


@pytest.fixture(scope="module")
def truth():
    return ground_truth()


def _effects(truth, criterion):
    rows = truth[truth["criterion"] == criterion]
    return pd.Series(rows["effect"].to_numpy(), index=rows["level"].to_numpy())


# --- shape and types ---------------------------------------------------------


def test_columns_in_order(leads):
    assert list(leads.columns) == COLUMNS
    assert len(leads) == 5000
    assert isinstance(leads.index, pd.RangeIndex)


@pytest.mark.parametrize("column", TEXT)
def test_text_columns_are_strings(leads, column):
    assert isinstance(leads[column].dtype, pd.StringDtype)


@pytest.mark.parametrize(
    ("column", "dtype"),
    [
        ("created_at", np.dtype("datetime64[s]")),
        ("company_size", np.dtype("float64")),
        ("time_on_site_min", np.dtype("float64")),
        ("demo_requested", np.dtype("bool")),
        ("converted", np.dtype("bool")),
        *[(c, np.dtype("int64")) for c in COUNTS],
    ],
)
def test_column_dtypes(leads, column, dtype):
    assert leads[column].dtype == dtype


def test_one_lead():
    one = make_leads(1, seed=3)
    assert one.shape == (1, len(COLUMNS))
    assert one["lead_id"].tolist() == ["L0000001"]


# --- reproducibility ---------------------------------------------------------


def test_same_seed_gives_identical_frame():
    pd.testing.assert_frame_equal(make_leads(2000, seed=7), make_leads(2000, seed=7))


@pytest.mark.parametrize("column", [c for c in COLUMNS if c != "lead_id"])
def test_different_seeds_differ(column):
    a = make_leads(2000, seed=1)[column]
    b = make_leads(2000, seed=2)[column]
    assert not a.equals(b)


# --- ids, dates, levels ------------------------------------------------------


def test_lead_ids_unique_and_zero_padded(leads):
    ids = leads["lead_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"L\d{7}").all()
    assert ids.iloc[[0, -1]].tolist() == ["L0000001", "L0005000"]


def test_created_at_sorted_over_two_years(leads):
    created = leads["created_at"]
    assert created.is_monotonic_increasing
    assert created.min() >= pd.Timestamp("2024-01-01")
    assert created.max() < pd.Timestamp("2026-01-01")
    assert created.min() < pd.Timestamp("2024-01-08")
    assert created.max() > pd.Timestamp("2025-12-24")
    per_year = created.dt.year.value_counts(normalize=True)
    assert per_year[2024] == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize(
    ("column", "levels"),
    [("role", ROLES), ("seniority", set(SENIORITY)), ("lead_source", SOURCES)],
)
def test_levels_as_specified(leads, column, levels):
    assert set(leads[column].dropna()) == levels


@pytest.mark.parametrize("column", ["role", "seniority", "industry", "country", "lead_source"])
def test_levels_match_ground_truth(leads, truth, column):
    assert set(leads[column].dropna()) == set(_effects(truth, column).index)


def test_industry_has_a_rare_level(leads):
    share = leads["industry"].value_counts(normalize=True)
    assert 7 <= len(share) <= 9
    assert 0 < share["Agriculture"] < 0.005
    assert share.drop("Agriculture").min() > 0.03


def test_country_is_skewed(leads):
    share = leads["country"].value_counts(normalize=True)
    assert share.index[0] == "United States"
    assert share.iloc[0] > 0.35
    assert share.iloc[-1] < 0.05


def test_seniority_frequencies(leads):
    share = leads["seniority"].value_counts(normalize=True)
    assert set(share.index[:2]) == {"Staff", "Manager"}
    assert share["C-level"] == pytest.approx(0.04, abs=0.015)
    assert share["Student"] == pytest.approx(0.05, abs=0.015)


# --- missing values and distributions ---------------------------------------


@pytest.mark.parametrize(
    ("column", "share"),
    [("role", 0.03), ("seniority", 0.02), ("company_size", 0.05)],
)
def test_missing_shares(leads, column, share):
    assert leads[column].isna().mean() == pytest.approx(share, abs=0.01)


def test_other_columns_complete(leads):
    complete = [c for c in COLUMNS if c not in {"role", "seniority", "company_size"}]
    assert leads[complete].notna().all().all()


def test_company_size_range(leads):
    size = leads["company_size"].dropna()
    assert size.between(1, 100_000).all()
    assert (size == size.round()).all()
    assert size.min() < 10
    assert size.max() > 10_000


@pytest.mark.parametrize("column", COUNTS)
def test_counts_are_zero_inflated(leads, column):
    counts = leads[column]
    assert (counts >= 0).all()
    assert (counts == 0).mean() > 0.3
    assert counts.max() >= 3


def test_most_leads_download_at_most_two_whitepapers(leads):
    assert (leads["whitepaper_downloads"] <= 2).mean() > 0.9


def test_time_on_site(leads):
    minutes = leads["time_on_site_min"]
    assert (minutes >= 0).all()
    assert (minutes == minutes.round(1)).all()
    assert (minutes[leads["page_views"] == 0] == 0).all()


def test_behaviour_shares_a_latent_interest(leads):
    corr = leads[COUNTS].corr(method="spearman")
    assert (corr.to_numpy()[np.triu_indices(len(COUNTS), 1)] > 0.05).all()


def test_behaviour_follows_lead_source(leads):
    source = leads["lead_source"]
    assert (leads.loc[source == "Webinar", "webinars_attended"] >= 1).all()
    assert (leads.loc[source == "Content syndication", "whitepaper_downloads"] >= 1).all()
    idle = (leads[COUNTS] == 0).all(axis=1).groupby(source).mean()
    assert idle.idxmax() == "Purchased list"


def test_demo_share(leads):
    assert leads["demo_requested"].mean() == pytest.approx(0.05, abs=0.015)


# --- outcome -------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_positive_rate_in_range(seed):
    rate = make_leads(2000, seed=seed)["converted"].mean()
    assert 0.08 <= rate <= 0.18


def test_seniority_conversion_follows_truth(many_leads, truth):
    rates = many_leads.groupby("seniority")["converted"].mean()
    order = _effects(truth, "seniority").index
    assert (np.diff(rates.reindex(order).to_numpy()) < 0).all()


def test_lead_source_extremes_follow_truth(many_leads):
    rates = many_leads.groupby("lead_source")["converted"].mean()
    assert rates.idxmin() == "Purchased list"
    assert set(rates.nlargest(2).index) == {"Referral", "Webinar"}


def test_conversion_declines_slowly_over_time(many_leads):
    by_year = many_leads.groupby(many_leads["created_at"].dt.year)["converted"].mean()
    # The truth drifts by -0.15 logit a year: about 0.015 between the years,
    # against a standard error of 0.003 for the difference.
    assert 0.006 < by_year[2024] - by_year[2025] < 0.03


def test_outcome_is_drawn_from_the_true_log_odds(many_leads):
    probability = 1 / (1 + np.exp(-_log_odds(many_leads)))
    converted = many_leads["converted"].to_numpy()
    assert converted.mean() == pytest.approx(probability.mean(), abs=0.005)
    decile = pd.qcut(probability, 10, labels=False)
    observed = pd.Series(converted).groupby(decile).mean()
    expected = pd.Series(probability).groupby(decile).mean()
    assert np.abs(observed - expected).max() < 0.03


def test_log_odds_worked_by_hand(truth):
    effect = truth.set_index(["criterion", "level"])["effect"]
    lead = pd.DataFrame(
        {
            "created_at": pd.to_datetime(["2024-01-01", "2025-01-01"]).astype("datetime64[s]"),
            "role": ["Marketing", None],
            "seniority": ["VP", "Student"],
            "industry": ["Software", "Agriculture"],
            "country": ["Germany", "India"],
            "lead_source": ["Referral", "Purchased list"],
            "company_size": [99.0, np.nan],
            "email_clicks": [0, 3],
            "page_views": [1, 0],
            "pricing_page_views": [0, 0],
            "whitepaper_downloads": [0, 0],
            "webinars_attended": [0, 0],
            "time_on_site_min": [2.5, 0.0],
            "demo_requested": [True, False],
        }
    )
    slope = "slope per log1p unit"
    first = (
        effect[("intercept", "(intercept)")]
        + effect[("role", "Marketing")]
        + effect[("seniority", "VP")]
        + effect[("industry", "Software")]
        + effect[("lead_source", "Referral")]
        + effect[("demo_requested", "True")]
        + effect[("company_size", slope)] * math.log(100)
        + effect[("page_views", slope)] * math.log(2)
    )
    # 2024 is a leap year: 366 days of drift at 365.25 days a year; role missing.
    second = (
        effect[("intercept", "(intercept)")]
        + effect[("created_at", "slope per year")] * 366 / 365.25
        + effect[("seniority", "Student")]
        + effect[("industry", "Agriculture")]
        + effect[("lead_source", "Purchased list")]
        + effect[("email_clicks", slope)] * math.log(4)
    )
    np.testing.assert_allclose(_log_odds(lead), [first, second])


# --- ground truth --------------------------------------------------------------


def test_ground_truth_frame(truth):
    assert list(truth.columns) == ["criterion", "level", "effect"]
    assert truth["effect"].dtype == np.float64
    assert not truth.duplicated(["criterion", "level"]).any()
    criteria = set(truth["criterion"])
    assert {"seniority", "role", "industry", "lead_source", "demo_requested"} <= criteria
    assert set(COUNTS) | {"company_size"} <= criteria


def test_ground_truth_is_a_copy():
    first = ground_truth()
    first.loc[0, "effect"] = 99.0
    assert ground_truth().loc[0, "effect"] != 99.0


def test_ground_truth_seniority_strictly_ordered(truth):
    seniority = _effects(truth, "seniority")
    assert seniority.index.tolist() == SENIORITY
    assert (np.diff(seniority.to_numpy()) < 0).all()
    assert seniority["Student"] < -0.5


def test_ground_truth_lead_source_extremes(truth):
    source = _effects(truth, "lead_source")
    assert set(source.index) == SOURCES
    assert source.idxmin() == "Purchased list"
    assert set(source.nlargest(2).index) == {"Referral", "Webinar"}


def test_ground_truth_drift_is_mild(truth):
    (drift,) = _effects(truth, "created_at")
    assert -0.3 < drift < 0


def test_ground_truth_demo_and_slopes(truth):
    demo = _effects(truth, "demo_requested")
    assert demo["True"] > demo["False"] + 1
    for column in [*COUNTS, "company_size"]:
        (slope,) = _effects(truth, column)
        assert slope > 0


# --- argument checks -----------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "shown"),
    [(0, "0"), (-3, "-3"), (2.5, "2.5"), (100.0, "100.0"), ("100", "'100'"), (True, "True")],
)
def test_invalid_n_raises(n, shown):
    with pytest.raises(DataError, match=rf"n must be a positive integer, got {shown}$"):
        make_leads(n)


def test_numpy_integer_n_accepted():
    assert len(make_leads(np.int64(10))) == 10
