"""Tests for calibrate.sheet.sql.activity_sql: the DuckDB aggregation of an activity log.

The pandas evaluator :func:`calibrate.sheet.activity.aggregate_frame` (what the
standalone scorer runs) is the reference the DuckDB query must equal exactly:
a case worked by hand, activity at or after the decision and older than the
look-back, and a property test over generated logs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activity_logs import by_pandas, make_log
from calibrate.io.activities import connect, read_activities
from calibrate.sheet.activity import ActivitySpec
from calibrate.sheet.feature import ActivityFeature, DetailRule, Kernel, exact_decay_is_safe
from calibrate.sheet.kinds import FEATURE_KINDS, kind_of
from calibrate.sheet.sql import activity_sql

NOW = pd.Timestamp("2030-01-01")
T = pd.Timestamp("2024-06-01 12:00:00")
DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)
SECOND = pd.Timedelta(seconds=1)


pytestmark = pytest.mark.usefixtures("duckdb_spill_under_tmp")


def _by_duckdb(spec, leads, log):
    con = connect()
    try:
        read_activities(con, log, spec, now=NOW)
        con.register("leads_in", leads)
        sql = activity_sql(
            spec,
            leads="leads_in",
            activities="calibrate_activities",
            decision_time="decision_time",
        )
        return con.execute(sql).df().drop(columns="lead_id")
    finally:
        con.close()


ENGINES = {"pandas": by_pandas, "duckdb": _by_duckdb}


@pytest.fixture(scope="module", params=sorted(ENGINES))
def engine(request):
    return ENGINES[request.param]


# --------------------------------------------------------------------------- a case by hand


@pytest.fixture(scope="module")
def hand_spec():
    return ActivitySpec(
        features=(
            ActivityFeature("opens_decay", "count", ("email_open",), kernel=Kernel("decay", 14.0)),
            ActivityFeature("opens_window", "count", ("email_open",), kernel=Kernel("window", 15)),
            ActivityFeature("opens_all", "count", ("email_open",), kernel=Kernel("all")),
            ActivityFeature("days_since", "recency"),
            ActivityFeature("papers", "distinct_details", ("whitepaper_download",)),
            ActivityFeature("site_days", "active_days", ("page_view",), window_days=30),
            ActivityFeature("paper+case", "all_of", ("whitepaper_download", "case_study_view")),
        ),
        known_types=("case_study_view", "email_open", "page_view", "whitepaper_download"),
        detail="detail",
    )


@pytest.fixture(scope="module")
def hand_leads():
    """A decides at T, B half a day later, C never did anything."""
    return pd.DataFrame(
        {"lead_id": ["A", "B", "C"], "decision_time": [T, T + 12 * HOUR, T]},
    )


@pytest.fixture(scope="module")
def hand_log():
    tb = T + 12 * HOUR
    return make_log(
        [
            ("A", "email_open", T - HOUR, "Newsletter"),  # age 0: weight 1
            ("A", "email_open", T - 14 * DAY, "Newsletter"),  # age 14: 1/2
            ("A", "email_open", T - 28 * DAY - 23 * HOUR, "Promo"),  # age 28: 1/4
            ("A", "email_open", T, "Promo"),  # at the decision: left out
            ("A", "page_view", T - DAY, "/pricing"),  # day 1
            ("A", "page_view", T - DAY - 5 * HOUR, "/"),  # day 1 again
            ("A", "page_view", T - 3 * DAY, "/"),  # day 3
            ("A", "page_view", T - 30 * DAY, "/"),  # day 30: outside the last 30 days
            ("A", "whitepaper_download", T - 5 * DAY, "WP1"),
            ("A", "whitepaper_download", T - 6 * DAY, "WP1"),  # same paper
            ("A", "whitepaper_download", T - 40 * DAY, "WP2"),
            ("A", "case_study_view", T - 2 * DAY, "CS1"),
            ("B", "whitepaper_download", tb - 10 * DAY - HOUR, "WP1"),  # age 10
            ("B", "case_study_view", tb + SECOND, "CS1"),  # after the decision: left out
        ]
    )


@pytest.fixture(scope="module")
def hand_expected():
    return pd.DataFrame(
        {
            "opens_decay": [1 + 0.5 + 0.25, 0.0, 0.0],
            "opens_window": [2.0, 0.0, 0.0],  # ages 0 and 14 are within 15 days
            "opens_all": [3.0, 0.0, 0.0],
            "days_since": [0.0, 10.0, np.nan],
            "papers": [2.0, 1.0, 0.0],
            "site_days": [2.0, 0.0, 0.0],
            "paper+case": [True, False, False],
        }
    )


def test_hand_worked_case(engine, hand_spec, hand_leads, hand_log, hand_expected):
    got = engine(hand_spec, hand_leads, hand_log)
    pd.testing.assert_frame_equal(got, hand_expected, check_exact=True)


# --------------------------------------------------------------------------- leak-free


@pytest.mark.parametrize(
    "offset",
    [pd.Timedelta(0), SECOND, DAY - SECOND, 3 * DAY, 400 * DAY],
    ids=["at-decision", "1s-after", "almost-1d-after", "3d-after", "400d-after"],
)
def test_activity_at_or_after_the_decision_changes_nothing(
    engine, hand_spec, hand_leads, hand_log, hand_expected, offset
):
    extra = [
        (lead, kind, when + offset, detail)
        for lead, when in zip(hand_leads["lead_id"], hand_leads["decision_time"], strict=True)
        for kind, detail in [
            ("email_open", "Promo"),
            ("page_view", "/"),
            ("whitepaper_download", "WP9"),
            ("case_study_view", "CS9"),
        ]
    ]
    log = pd.concat([hand_log, make_log(extra)], ignore_index=True)
    pd.testing.assert_frame_equal(engine(hand_spec, hand_leads, log), hand_expected)


@pytest.mark.parametrize("before", [1095 * DAY + SECOND, 1096 * DAY, 3000 * DAY])
def test_activity_older_than_the_lookback_changes_nothing(
    engine, hand_spec, hand_leads, hand_log, hand_expected, before
):
    extra = [
        (lead, kind, when - before, "WP9")
        for lead, when in zip(hand_leads["lead_id"], hand_leads["decision_time"], strict=True)
        for kind in ["email_open", "page_view", "whitepaper_download", "case_study_view"]
    ]
    log = pd.concat([hand_log, make_log(extra)], ignore_index=True)
    pd.testing.assert_frame_equal(engine(hand_spec, hand_leads, log), hand_expected)


def test_activity_exactly_at_the_lookback_counts(engine, hand_spec, hand_leads, hand_log):
    log = pd.concat([hand_log, make_log([("C", "email_open", T - 1095 * DAY, None)])])
    got = engine(hand_spec, hand_leads, log.reset_index(drop=True))
    assert got["opens_all"].tolist() == [3.0, 0.0, 1.0]
    assert got["days_since"].iloc[2] == 1095.0


@pytest.mark.parametrize(
    "stored",
    [[" A", "A\t", "B "], [1.0, 1.0, 2.0]],
    ids=["padded", "whole-floats"],
)
def test_log_ids_are_read_as_the_lead_tables(engine, stored):
    # The lead table's ids are stripped text, whole floats written as integers.
    spec = ActivitySpec(
        features=(ActivityFeature("opens", "count", ("email_open",), kernel=Kernel("all")),),
        known_types=("email_open",),
    )
    log = make_log([(i, "email_open", T - DAY, None) for i in stored])
    leads = pd.DataFrame({"lead_id": ["A", "B"] if isinstance(stored[0], str) else ["1", "2"]})
    leads["decision_time"] = T
    assert engine(spec, leads, log)["opens"].tolist() == [2.0, 1.0]


# --------------------------------------------------------------------------- DuckDB == pandas

_LEAD_IDS = ["L1", "L2", "O'Brien", "x;y", "é"]
_LOG_IDS = [*_LEAD_IDS, " L1", "L1\t", "ghost"]
_TYPES = ["email_open", "page_view", "it's", "a;b", "ünï", 'q"t', " page_view"]
_BECOMES = ["pricing_page_view", "it's", "odd;type"]
_DETAILS = [None, "", "/pricing", "/pricing/x", "50%_off", "50%", "a\\b", "a_b", "/careers", "é"]
_PATTERNS = ["/pricing*", "50%*", "a\\*", "a_b", "?", "*_*", "é", "a?b", "*", "50\\%"]
_HALF_LIVES = [14.0, 13.7, 1.0, 3.5, 45.0, 0.7, 400.0]
_NAMES = ["f", 'q"uote', "semi;colon", "ünï", "it's", "sp ace"]


@st.composite
def _cases(draw):
    ids = draw(st.lists(st.sampled_from(_LEAD_IDS), min_size=1, max_size=4, unique=True))
    base = pd.Timestamp("2024-03-10")
    decisions = [
        base
        + pd.Timedelta(days=draw(st.integers(-3, 3)))
        + pd.Timedelta(seconds=draw(st.sampled_from([0, 1, 43_200, 86_399])))
        for _ in ids
    ]
    lookback = draw(st.integers(1, 40))
    # Whole days before the decision where kernels, windows and the lookback
    # change their mind, give or take a second; and anywhere at all.
    edges = st.sampled_from([0, 1, 2, 4, 7, 15, 30, lookback, lookback + 1])
    offsets = st.one_of(
        st.tuples(edges, st.sampled_from([0, -1, 1])).map(lambda e: -e[0] * 86_400 + e[1]),
        st.integers(-(lookback + 2) * 86_400, 86_400),
    )
    rows = []
    for _ in range(draw(st.integers(1, 25))):
        i = draw(st.integers(0, len(ids) - 1))
        lead = draw(st.just(ids[i]) | st.sampled_from(_LOG_IDS))
        when = decisions[i] + pd.Timedelta(seconds=draw(offsets))
        kind = draw(st.sampled_from(_TYPES[:2]) | st.sampled_from(_TYPES))
        rows.append((lead, kind, when, draw(st.sampled_from(_DETAILS))))
    log = make_log(rows)
    written = draw(st.sampled_from(["datetime", "text", "text+02:00"]))
    if written == "text":
        log["occurred_at"] = log["occurred_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    elif written == "text+02:00":
        shifted = log["occurred_at"] + 2 * HOUR
        log["occurred_at"] = shifted.dt.strftime("%Y-%m-%dT%H:%M:%S") + "+02:00"
    pool = _TYPES + _BECOMES
    type_sets = st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True).map(tuple)
    # Every kind of feature over the common types, with windows on the edges
    # the activities sit on, then a few more features of any kind.
    common = st.lists(st.sampled_from(pool), max_size=2, unique=True).map(
        lambda more: tuple(dict.fromkeys(["email_open", "page_view", *more]))
    )
    windows = st.sampled_from([1, 2, 4, 7, 15, 30]) | st.integers(1, 40)
    kernels = st.one_of(
        st.sampled_from(_HALF_LIVES).map(lambda h: Kernel("decay", h)),
        st.one_of(windows, st.just(2.5)).map(lambda w: Kernel("window", float(w))),
        st.just(Kernel("all")),
    )

    def kinds(types):
        return st.one_of(
            st.tuples(
                st.just("count"), st.fixed_dictionaries({"types": types, "kernel": kernels})
            ),
            st.tuples(st.just("recency"), st.fixed_dictionaries({"types": st.just(()) | types})),
            st.tuples(st.just("distinct_details"), st.fixed_dictionaries({"types": types})),
            st.tuples(
                st.just("active_days"),
                st.fixed_dictionaries({"types": types, "window_days": windows}),
            ),
            # A combination names two or more types.
            st.tuples(st.just("all_of"), st.fixed_dictionaries({"types": common})),
        )

    backbone = [
        ("count", {"types": draw(common), "kernel": Kernel("window", float(draw(windows)))}),
        (
            "count",
            {"types": draw(common), "kernel": Kernel("decay", draw(st.sampled_from(_HALF_LIVES)))},
        ),
        ("count", {"types": draw(common), "kernel": Kernel("all")}),
        ("recency", {"types": draw(st.just(()) | common)}),
        ("distinct_details", {"types": draw(common)}),
        ("active_days", {"types": draw(common), "window_days": draw(windows)}),
        ("all_of", {"types": draw(common)}),
        ("distinct_weeks", {"types": draw(st.just(()) | common), "window_days": draw(windows)}),
    ]
    drawn = backbone + draw(st.lists(kinds(type_sets), max_size=3))
    # And every registered kind's example, so that a new kind is tested here too.
    features = tuple(
        ActivityFeature(f"{draw(st.sampled_from(_NAMES))}{i}", kind, **kwargs)
        for i, (kind, kwargs) in enumerate(drawn)
    ) + tuple(kind_of(k).example(draw(common)) for k in FEATURE_KINDS)
    rules = draw(
        st.lists(
            st.builds(
                DetailRule,
                pattern=st.sampled_from(_PATTERNS) | st.text("ab*?%_\\", max_size=4),
                becomes=st.sampled_from(_BECOMES),
                activity_type=st.none() | st.sampled_from(_TYPES),
            ),
            max_size=3,
        )
    )
    spec = ActivitySpec(
        features=features,
        detail_rules=tuple(rules),
        known_types=tuple(draw(st.lists(st.sampled_from(pool), unique=True))),
        lookback_days=lookback,
        detail=draw(st.sampled_from(["detail", None])),
    )
    leads = pd.DataFrame({"lead_id": ids, "decision_time": decisions})
    leads["decision_time"] = leads["decision_time"].astype("datetime64[s]")
    return spec, leads, log


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=_cases())
def test_duckdb_equals_pandas_exactly(case):
    spec, leads, log = case
    pd.testing.assert_frame_equal(
        _by_duckdb(spec, leads, log), by_pandas(spec, leads, log), check_exact=True
    )


def test_half_lives_of_the_property_test_are_safe():
    assert all(exact_decay_is_safe(h, 41) for h in _HALF_LIVES)
    assert all(exact_decay_is_safe(h, 1096) for h in (14.0, 13.7))
