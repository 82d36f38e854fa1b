"""Tests for calibrate.datasets."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from calibrate.datasets import ground_truth, make_leads
from calibrate.datasets._log import _behaviour_log_odds, _log_odds
from calibrate.errors import DataError, ParameterError

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


# --- activity log: make_leads(activities=True) ----------------------------------

# sha256 of make_leads(500, seed=0) (dtypes and pandas row hashes), computed
# before the activity log was added: the default form must never change.
DEFAULT_FORM_DIGEST = "536e717c5cf3dd08e1ba65c2807787e8765f97adb1450b1f2b33e169a2935691"

LOG_LEAD_COLUMNS = [
    "lead_id",
    "created_at",
    "role",
    "seniority",
    "industry",
    "country",
    "lead_source",
    "company_size",
    "decided_at",
    "converted",
]
SHARED_COLUMNS = LOG_LEAD_COLUMNS[:-2]
ACTIVITY_COLUMNS = ["lead_id", "activity_type", "occurred_at", "detail"]
ACTIVITY_TYPES = {
    "email_open",
    "email_click",
    "page_view",
    "whitepaper_download",
    "case_study_view",
    "webinar_attended",
    "form_fill",
    "demo_request",
    "unsubscribe",
    "email_bounce",
}
BEHAVIOUR_TYPES = ACTIVITY_TYPES | {"pricing_page_view", "careers_page_view"}
HALF_LIVES = {"email": 14.0, "web": 30.0, "content": 60.0, "hand-raiser": 45.0, "opt-out": 90.0}
DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def logged():
    return make_leads(5000, seed=0, activities=True)


@pytest.fixture(scope="module")
def many_logged():
    return make_leads(50_000, seed=1, activities=True)


def _digest(frame):
    digest = hashlib.sha256(repr([(c, str(t)) for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def _with_decision(leads, log):
    """The log with each activity's created_at, decided_at and outcome."""
    columns = ["lead_id", "created_at", "decided_at", "converted"]
    return log.merge(leads[columns], on="lead_id", how="left", validate="many_to_one")


def _behaviour_type(log):
    """Activity types, with page views split by URL as the truth does."""
    kind = log["activity_type"].copy()
    page = kind == "page_view"
    kind[page & log["detail"].str.startswith("/pricing")] = "pricing_page_view"
    kind[page & log["detail"].str.startswith("/careers")] = "careers_page_view"
    return kind


@pytest.fixture(scope="module")
def many_did(many_logged):
    """Whether each lead of many_logged did each behaviour before its decision."""
    leads, log = many_logged
    joined = _with_decision(leads, log)
    before = joined[joined["occurred_at"] < joined["decided_at"]]
    did = pd.crosstab(before["lead_id"], _behaviour_type(before)) > 0
    return did.reindex(leads["lead_id"], fill_value=False)


@pytest.fixture(scope="module")
def many_probability(many_logged):
    """True probability of conversion of each lead of many_logged."""
    return 1 / (1 + np.exp(-_log_odds(*many_logged)))


def test_default_form_unchanged():
    assert _digest(make_leads(500, seed=0)) == DEFAULT_FORM_DIGEST
    assert _digest(make_leads(500, seed=0, activities=False)) == DEFAULT_FORM_DIGEST


def test_log_form_returns_two_frames(logged):
    leads, log = logged
    assert list(leads.columns) == LOG_LEAD_COLUMNS
    assert list(log.columns) == ACTIVITY_COLUMNS
    assert len(leads) == 5000
    assert isinstance(leads.index, pd.RangeIndex)
    assert isinstance(log.index, pd.RangeIndex)


@pytest.mark.parametrize(
    ("table", "column", "dtype"),
    [
        (0, "created_at", np.dtype("datetime64[s]")),
        (0, "decided_at", np.dtype("datetime64[s]")),
        (0, "company_size", np.dtype("float64")),
        (0, "converted", np.dtype("bool")),
        (1, "occurred_at", np.dtype("datetime64[s]")),
    ],
)
def test_log_form_dtypes(logged, table, column, dtype):
    assert logged[table][column].dtype == dtype


@pytest.mark.parametrize(
    ("table", "column"),
    [*[(0, c) for c in TEXT], (1, "lead_id"), (1, "activity_type"), (1, "detail")],
)
def test_log_form_text_columns_are_strings(logged, table, column):
    assert isinstance(logged[table][column].dtype, pd.StringDtype)


def test_activity_types_as_specified(logged):
    assert set(logged[1]["activity_type"]) == ACTIVITY_TYPES


def test_every_activity_belongs_to_a_lead(logged):
    leads, log = logged
    assert log["lead_id"].isin(leads["lead_id"]).all()
    assert log[ACTIVITY_COLUMNS[:3]].notna().all().all()


def test_both_tables_sorted(logged):
    leads, log = logged
    assert leads["created_at"].is_monotonic_increasing
    step = log["occurred_at"].diff().iloc[1:]
    assert (step >= pd.Timedelta(0)).all()
    ties = (step == pd.Timedelta(0)).to_numpy()
    ids = log["lead_id"].to_numpy()
    assert (ids[1:][ties] >= ids[:-1][ties]).all()
    assert ties.any()


def test_decided_10_to_120_days_after_created(logged):
    leads, _ = logged
    days = (leads["decided_at"] - leads["created_at"]) / DAY
    assert days.between(10, 120).all()
    assert days.min() < 11
    assert days.max() > 119


def test_activities_from_created_to_60_days_after_decided(logged):
    log = _with_decision(*logged)
    assert (log["occurred_at"] >= log["created_at"]).all()
    assert (log["occurred_at"] <= log["decided_at"] + 60 * DAY).all()
    assert (log["occurred_at"] > log["decided_at"] + 50 * DAY).any()


def test_activities_per_lead(logged):
    leads, log = logged
    assert 15 <= len(log) / len(leads) <= 40
    per_lead = log["lead_id"].value_counts().reindex(leads["lead_id"], fill_value=0)
    assert (per_lead == 0).mean() > 0.05
    assert per_lead.max() > 100


def test_activity_after_decision_more_frequent_when_won(logged):
    log = _with_decision(*logged)
    leads = logged[0]
    after = log[log["occurred_at"] >= log["decided_at"]]
    assert 0.1 < len(after) / len(log) < 0.5
    per_lead = after.groupby("converted").size() / leads["converted"].value_counts()
    assert per_lead[True] > 3 * per_lead[False]


def test_activity_before_decision_spread_in_age(logged):
    log = _with_decision(*logged)
    age = (log["decided_at"] - log["occurred_at"]) / DAY
    age = age[age > 0]
    # Recent and old activity both common, so half-lives of 14 to 60 days
    # are identifiable from the ages.
    assert age.quantile(0.1) < 7
    assert age.quantile(0.5) == pytest.approx(36, abs=10)
    assert age.quantile(0.9) > 75


def test_page_view_details_are_urls(logged):
    log = logged[1]
    urls = log.loc[log["activity_type"] == "page_view", "detail"]
    assert urls.str.startswith("/").all()
    assert {"/pricing", "/pricing/enterprise", "/careers", "/product/analytics"} <= set(urls)
    assert urls.str.fullmatch(r"/careers/jobs/\d+").any()
    assert urls.str.startswith("/blog/").any()
    assert urls.str.startswith("/docs/").any()


@pytest.mark.parametrize(
    ("activity_type", "has_detail"),
    [
        ("email_open", True),
        ("email_click", True),
        ("whitepaper_download", True),
        ("case_study_view", True),
        ("webinar_attended", True),
        ("form_fill", False),
        ("demo_request", False),
        ("unsubscribe", False),
        ("email_bounce", False),
    ],
)
def test_details_by_type(logged, activity_type, has_detail):
    detail = logged[1].loc[lambda log: log["activity_type"] == activity_type, "detail"]
    assert len(detail) > 0
    assert detail.notna().all() if has_detail else detail.isna().all()


def test_no_email_engagement_after_opt_out(logged):
    log = logged[1]
    opt_out = log[log["activity_type"].isin(["unsubscribe", "email_bounce"])]
    assert opt_out["lead_id"].is_unique
    stop = log["lead_id"].map(opt_out.set_index("lead_id")["occurred_at"])
    mail = log["activity_type"].isin(["email_open", "email_click"])
    assert stop[mail].notna().any()
    assert not (mail & (log["occurred_at"] > stop)).any()


def test_webinar_leads_attended_when_created(logged):
    leads, log = logged
    webinar_leads = leads.loc[leads["lead_source"] == "Webinar", ["lead_id", "created_at"]]
    attended = log[log["activity_type"] == "webinar_attended"]
    at_creation = webinar_leads.merge(
        attended, left_on=["lead_id", "created_at"], right_on=["lead_id", "occurred_at"]
    )
    assert set(at_creation["lead_id"]) == set(webinar_leads["lead_id"])


def test_log_form_same_seed_identical():
    first = make_leads(1000, seed=7, activities=True)
    second = make_leads(1000, seed=7, activities=True)
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("column", ["decided_at", "converted"])
def test_log_form_different_seeds_differ_in_leads(column):
    a = make_leads(1000, seed=1, activities=True)[0][column]
    b = make_leads(1000, seed=2, activities=True)[0][column]
    assert not a.equals(b)


def test_log_form_different_seeds_differ_in_log():
    a = make_leads(300, seed=1, activities=True)[1]
    b = make_leads(300, seed=2, activities=True)[1]
    assert not a.equals(b)


@pytest.mark.parametrize("seed", [0, 3])
def test_explicit_columns_shared_with_default_form(seed):
    default = make_leads(2000, seed=seed)
    leads, _ = make_leads(2000, seed=seed, activities=True)
    pd.testing.assert_frame_equal(leads[SHARED_COLUMNS], default[SHARED_COLUMNS])
    # The outcome is redrawn from another truth with the same uniforms: it
    # differs, but agrees for most leads.
    same = leads["converted"] == default["converted"]
    assert 0.8 < same.mean() < 1


def test_one_lead_with_activities():
    leads, log = make_leads(1, seed=3, activities=True)
    assert leads.shape == (1, len(LOG_LEAD_COLUMNS))
    assert list(log.columns) == ACTIVITY_COLUMNS
    assert log["occurred_at"].dtype == np.dtype("datetime64[s]")
    assert set(log["lead_id"]) <= {"L0000001"}


@pytest.mark.parametrize("value", [1, "yes", None, np.array([True])])
def test_invalid_activities_raises(value):
    with pytest.raises(ParameterError, match=r"'activities' parameter of make_leads"):
        make_leads(10, activities=value)


def test_numpy_bool_activities_accepted():
    leads, _ = make_leads(10, activities=np.bool_(True))
    assert len(leads) == 10


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_log_form_positive_rate_in_range(seed):
    rate = make_leads(2000, seed=seed, activities=True)[0]["converted"].mean()
    assert 0.08 <= rate <= 0.2


def test_outcome_is_drawn_from_the_true_log_odds_with_activities(many_logged):
    leads, log = many_logged
    explicit = _log_odds(leads, log.iloc[:0])
    behaviour = _behaviour_log_odds(leads, log)
    np.testing.assert_allclose(_log_odds(leads, log), explicit + behaviour)
    # Behaviour matters: about as much spread as the explicit attributes.
    assert behaviour.std() > 0.7
    probability = 1 / (1 + np.exp(-(explicit + behaviour)))
    converted = leads["converted"].to_numpy()
    assert converted.mean() == pytest.approx(probability.mean(), abs=0.005)
    decile = pd.qcut(probability, 10, labels=False)
    observed = pd.Series(converted).groupby(decile).mean()
    expected = pd.Series(probability).groupby(decile).mean()
    assert np.abs(observed - expected).max() < 0.03


def test_activity_after_decision_leaks_the_outcome(many_logged, many_probability):
    leads, log = many_logged
    converted = leads["converted"].to_numpy()
    truth = roc_auc_score(converted, many_probability)
    # Count every activity, as a feature blind to decided_at would.
    late = leads.assign(decided_at=leads["decided_at"] + 61 * DAY)
    leaky = roc_auc_score(converted, _log_odds(late, log))
    assert leaky > truth + 0.03


def test_behaviour_log_odds_worked_by_hand(truth):
    effect = truth.set_index(["criterion", "level"])["effect"]
    beta = effect.xs("slope per log1p decayed count", level="level")
    decided = pd.Timestamp("2025-06-01")
    leads = pd.DataFrame(
        {
            "lead_id": ["L0000001", "L0000002", "L0000003"],
            "decided_at": pd.Series([decided] * 3).astype("datetime64[s]"),
        }
    )
    rows = [
        # Lead 1: one half-life old (weight 1/2) for email and web, and two
        # demo requests one and two half-lives old (weights 1/2 + 1/4).
        ("L0000001", "email_click", 14, "Product update"),
        ("L0000001", "page_view", 30, "/pricing/enterprise"),
        ("L0000001", "demo_request", 45, None),
        ("L0000001", "demo_request", 90, None),
        # At or after the decision: ignored.
        ("L0000001", "form_fill", 0, None),
        ("L0000001", "form_fill", -3, None),
        # Lead 2: an unsubscribe one half-life old, a careers page one
        # half-life old, a blog page two half-lives old; an unknown type.
        ("L0000002", "unsubscribe", 90, None),
        ("L0000002", "page_view", 30, "/careers/jobs/123"),
        ("L0000002", "page_view", 60, "/blog/mql-vs-sql"),
        ("L0000002", "sms_sent", 1, None),
        # An unknown lead: ignored. Lead 3 has no activity.
        ("L0009999", "demo_request", 1, None),
    ]
    log = pd.DataFrame(rows, columns=["lead_id", "activity_type", "days", "detail"])
    log["occurred_at"] = (decided - log.pop("days") * DAY).astype("datetime64[s]")
    expected = [
        beta["email_click"] * math.log(1.5)
        + beta["pricing_page_view"] * math.log(1.5)
        + beta["demo_request"] * math.log(1.75),
        beta["unsubscribe"] * math.log(1.5)
        + beta["careers_page_view"] * math.log(1.5)
        + beta["page_view"] * math.log(1.25),
        0.0,
    ]
    np.testing.assert_allclose(_behaviour_log_odds(leads, log), expected)


def test_ground_truth_lists_half_lives(truth):
    half_lives = truth[truth["level"] == "half_life_days"].set_index("criterion")["effect"]
    assert half_lives.to_dict() == HALF_LIVES


def test_ground_truth_behaviour_betas(truth):
    rows = truth[truth["level"] == "slope per log1p decayed count"]
    beta = rows.set_index("criterion")["effect"]
    assert set(beta.index) == BEHAVIOUR_TYPES
    assert beta.idxmax() == "demo_request"
    assert beta["pricing_page_view"] > 2 * beta["page_view"] > 0
    assert set(beta[beta < 0].index) == {"unsubscribe", "email_bounce", "careers_page_view"}


@pytest.mark.parametrize("behaviour", sorted(BEHAVIOUR_TYPES))
def test_true_log_odds_calibrated_for_each_behaviour(
    many_logged, many_did, many_probability, behaviour
):
    converted = many_logged[0]["converted"].to_numpy()
    did = many_did[behaviour].to_numpy()
    assert did.sum() > 1500
    expected = many_probability[did].mean()
    # Four standard errors of the observed rate.
    tolerance = 4 * math.sqrt(expected * (1 - expected) / did.sum())
    assert converted[did].mean() == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize("behaviour", ["unsubscribe", "email_bounce", "careers_page_view"])
def test_negative_behaviour_lowers_conversion(many_logged, many_did, behaviour):
    converted = many_logged[0]["converted"].to_numpy()
    did = many_did[behaviour].to_numpy()
    assert did.sum() > 1500
    assert converted[did].mean() < converted[~did].mean() - 0.03


@pytest.mark.parametrize("behaviour", ["demo_request", "form_fill", "pricing_page_view"])
def test_buying_signals_raise_conversion(many_logged, many_did, behaviour):
    converted = many_logged[0]["converted"].to_numpy()
    did = many_did[behaviour].to_numpy()
    assert converted[did].mean() > 1.5 * converted[~did].mean()


# --- a history whose pattern changes ---------------------------------------------------


@pytest.fixture(scope="module")
def changed():
    return make_leads(30_000, seed=4, change_at="2025-01-01")


def test_a_change_leaves_the_leads_before_it_alone(changed):
    early = changed["created_at"] < "2025-01-01"
    assert changed[early].equals(make_leads(30_000, seed=4)[early])


def test_after_the_change_pricing_visits_stop_predicting_and_a_new_source_appears(changed):
    from sklearn.linear_model import LogisticRegression

    late = (changed["created_at"] >= "2025-01-01").to_numpy()
    partner = (changed["lead_source"] == "Partner portal").to_numpy()
    assert not partner[~late].any()
    assert 0.27 < partner[late].mean() < 0.33
    # The new source wins far more often than the leads around it.
    assert (
        changed.loc[partner, "converted"].mean()
        > 1.5 * changed.loc[late & ~partner, "converted"].mean()
    )
    # The pricing page is visited as often, but visits only predict wins before the change.
    visits = changed["pricing_page_views"].to_numpy()
    assert abs(visits[late].mean() - visits[~late].mean()) < 0.1 * visits.mean()
    slopes = {}
    for name, rows in (("before", ~late), ("after", late & ~partner)):
        counts = ["pricing_page_views", "email_clicks", "page_views", "webinars_attended",
                  "whitepaper_downloads"]  # fmt: skip
        # Behaviour depends on the lead source: hold it fixed too.
        X = pd.concat(
            [
                np.log1p(changed.loc[rows, counts]),
                pd.get_dummies(changed.loc[rows, "lead_source"], dtype=float),
                changed.loc[rows, ["demo_requested"]].astype(float),
            ],
            axis=1,
        )
        model = LogisticRegression(C=100.0).fit(X, changed.loc[rows, "converted"])
        slopes[name] = model.coef_[0][0]
    assert slopes["before"] > 0.3 and abs(slopes["after"]) < 0.15


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"change_at": "2030-01-01"}, "change_at must lie within the leads' creation dates"),
        ({"change_at": "soon"}, "change_at must be a date, got 'soon'"),
        ({"change_at": "2025-01-01", "activities": True}, "works with the lead table form only"),
    ],
)
def test_a_bad_change_is_named(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        make_leads(100, seed=0, **kwargs)
