import numpy as np
import pandas as pd
import pytest

from calibrate import ExpectedValue, calibration_table, recommend_threshold
from calibrate.decide.policies import SalesCapacity, TargetRate
from calibrate.decide.threshold import (
    default_levels,
    fast_track_evidence,
    level_table,
    parse_levels,
    threshold_curve,
    two_axis_policy,
    weekly_volume,
    win_probability,
)
from calibrate.errors import ParameterError


def test_recommend_threshold_by_hand():
    # Hold-out: scores 10, 20, 30 lost; 80 won, 90 lost. Isotonic win
    # probability: 0 below 80, 0.5 at 80 and 90. Break-even 0.1, so passing
    # the two leads at 80+ is worth 2 * (0.5 * 1000 - 100) = 800.
    choice = recommend_threshold(
        [10, 20, 30, 80, 90], [0, 0, 0, 1, 0], policy=ExpectedValue(1000, 100)
    )
    assert choice.threshold == 80
    assert (choice.share_passed, choice.share_wins_captured) == (0.4, 1.0)
    assert choice.win_rate_passed == 0.5
    ev = choice.curve.set_index("threshold")["expected_value"]
    assert ev[80] == pytest.approx(800 * 1000 / 5)
    assert ev[0] == pytest.approx((800 - 300) * 1000 / 5)


def test_nobody_worth_a_follow_up_sets_the_top_threshold():
    choice = recommend_threshold([10, 50, 90], [0, 0, 1], policy=ExpectedValue(100, 99))
    assert choice.threshold == 90  # only the 90 (p=1) covers its cost
    choice = recommend_threshold([10, 50, 90], [1, 0, 0], policy=ExpectedValue(100, 99))
    assert choice.threshold == 100 and choice.share_passed == 0.0


def test_curve_is_cumulative_from_the_top():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 101, 500)
    y = rng.random(500) < scores / 150
    curve = threshold_curve(scores, y, policy=ExpectedValue())
    assert curve["leads_passed"].iloc[0] == 500 and curve["leads_passed"].iloc[-1] == 0
    assert (np.diff(curve["leads_passed"]) <= 0).all()
    assert (np.diff(curve["share_wins_captured"]) <= 0).all()
    assert len(curve) == 102


def test_win_probability_is_monotone():
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 101, 1000)
    p = win_probability(scores, rng.random(1000) < scores / 120)
    assert p.shape == (101,) and (np.diff(p) >= 0).all()


def test_calibration_table_counts_every_lead():
    rng = np.random.default_rng(2)
    scores = rng.integers(0, 101, 700)
    y = rng.random(700) < 0.2
    table = calibration_table(scores, y)
    assert table["leads"].sum() == 700 and table["wins"].sum() == y.sum()
    assert table["score_min"].tolist() == list(range(0, 100, 10))
    assert table["score_max"].iloc[-1] == 100
    assert table.loc[9, "leads"] == (scores >= 90).sum()


@pytest.mark.parametrize("kwargs", [{"win_value": 0}, {"cost_per_lead": -5}, {"win_value": "a"}])
def test_expected_value_checks_its_parameters(kwargs):
    with pytest.raises(ParameterError, match="parameter of ExpectedValue must be a float > 0"):
        ExpectedValue(**kwargs)


def test_policy_is_recorded_with_its_parameters():
    choice = recommend_threshold([1, 99], [0, 1], policy=ExpectedValue(2000, 100))
    assert choice.to_dict()["policy"] == {
        "name": "expected_value",
        "win_value": 2000,
        "cost_per_lead": 100,
    }


# --------------------------------------------------------------------------- policies

SCORES = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90, 95])
WON = np.array([0, 0, 0, 0, 1, 0, 1, 1, 0, 1])


def test_capacity_picks_the_lowest_threshold_within_capacity():
    # 100 leads a week; 3 of 10 hold-out leads scoring >= 80 is 30 MQLs a week.
    volume = {"mean": 100.0, "p90": 150.0, "weeks": 20}
    choice = recommend_threshold(
        SCORES, WON, policy=SalesCapacity(leads_per_week=30), volume=volume
    )
    assert choice.threshold == 80 and choice.mqls_per_week == pytest.approx(30.0)
    # With an SLA the busiest weeks count: 150 x share <= 30 -> only 2 leads (90+).
    busy = recommend_threshold(
        SCORES, WON, policy=SalesCapacity(leads_per_week=30, sla_hours=24), volume=volume
    )
    assert busy.threshold == 90


def test_capacity_from_the_team():
    policy = SalesCapacity(reps=3, follow_ups_per_rep_per_day=4, working_days=5)
    assert policy.capacity_per_week == 60
    assert policy.to_dict()["capacity_per_week"] == 60


def test_capacity_needs_the_weekly_volume():
    with pytest.raises(ParameterError, match="needs the lead volume per week"):
        recommend_threshold(SCORES, WON, policy=SalesCapacity(leads_per_week=10))


def test_capacity_with_a_stated_incoming_volume():
    # 100 new leads a week and room for 30: the three leads scoring 80+.
    policy = SalesCapacity(leads_per_week=30, incoming_per_week=100)
    choice = recommend_threshold(SCORES, WON, policy=policy)
    assert choice.threshold == 80 and choice.mqls_per_week == pytest.approx(30.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "either leads_per_week, or reps and follow_ups_per_rep_per_day"),
        ({"leads_per_week": 5, "reps": 2, "follow_ups_per_rep_per_day": 3}, "not both"),
        ({"leads_per_week": -1}, "'leads_per_week' parameter of SalesCapacity must be"),
    ],
)
def test_capacity_checks_its_parameters(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        SalesCapacity(**kwargs)


def test_precision_target_takes_the_lowest_threshold_meeting_it():
    # Win rate of leads >= t: t=50 -> 4/6, t=60 -> 3/5, t=70 -> 3/4.
    choice = recommend_threshold(SCORES, WON, policy=TargetRate(precision=0.65))
    assert choice.threshold == 50  # 41..50 pass the same six leads: the observed score
    assert choice.win_rate_passed == pytest.approx(4 / 6)


def test_recall_target_takes_the_highest_threshold_meeting_it():
    choice = recommend_threshold(SCORES, WON, policy=TargetRate(recall=0.75))
    assert choice.share_wins_captured >= 0.75
    assert choice.threshold == 70


def test_unreachable_target_is_flagged():
    lost_at_top = np.array([0, 0, 0, 0, 1, 0, 1, 1, 0, 0])  # at best 1 in 2
    choice = recommend_threshold(SCORES, lost_at_top, policy=TargetRate(precision=0.99))
    assert not choice.met and choice.to_dict()["goal_met"] is False


def test_target_needs_exactly_one_goal():
    with pytest.raises(ParameterError, match="exactly one of precision and recall"):
        TargetRate(precision=0.3, recall=0.5)


def test_weekly_volume_skips_partial_weeks():
    dates = pd.Series(pd.date_range("2024-01-03", periods=30, freq="D"))
    volume = weekly_volume(dates)
    assert volume["mean"] == 7.0 and volume["weeks"] == 3


# --------------------------------------------------------------------------- levels


def test_parse_levels_adds_nurture_and_sorts():
    levels = parse_levels("B=50, A=80")
    assert [(lv["name"], lv["min_score"]) for lv in levels] == [
        ("A", 80),
        ("B", 50),
        ("nurture", 0),
    ]


@pytest.mark.parametrize("text", ["A80", "A=x", "A=80,A=60", "A=50,B=50"])
def test_bad_levels_are_refused(text):
    with pytest.raises(ParameterError, match="level"):
        parse_levels(text)


def test_default_levels_put_hot_where_leads_win_twice_as_often():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 101, 3000)
    y = rng.random(3000) < scores / 100
    levels = default_levels(scores, y, 30)
    names = [lv["name"] for lv in levels]
    assert names == ["hot", "warm", "nurture"]
    p = win_probability(scores, y)
    assert p[levels[0]["min_score"]] >= 2 * p[30]
    assert p[levels[0]["min_score"] - 1] < 2 * p[30]


def test_level_table_by_hand():
    table = level_table(SCORES, WON, parse_levels("A=80,B=50"))
    assert table["leads"].tolist() == [3, 3, 4]
    assert table["win_rate"].tolist() == pytest.approx([2 / 3, 2 / 3, 0.0])


# --------------------------------------------------------------------------- fast-track


def test_fast_track_needs_enough_leads_and_a_higher_win_rate():
    y = np.array([1, 0] * 50)
    flags = {
        "demo": np.array([True, False] * 50),  # 50 leads, all won
        "rare": np.array([True] + [False] * 99),  # 1 lead, won
        "noise": np.array([True, True] * 50),  # everyone: 50%
    }
    evidence = fast_track_evidence(flags, y, reference_rate=0.6).set_index("candidate")
    assert evidence.loc["demo", "recommended"]
    assert not evidence.loc["rare", "recommended"]  # too few leads
    assert not evidence.loc["noise", "recommended"]  # wins less than at the threshold
    assert evidence.loc["demo", "ci_low"] > 0.9


def test_two_axis_by_hand():
    # Leads win only with fit >= 10 and engagement >= 5; the rule finds that.
    fit = np.array([0, 0, 10, 10, 20, 20, 0, 20])
    engagement = np.array([0, 10, 0, 10, 0, 10, 20, 5])
    y = np.array([0, 0, 0, 1, 0, 1, 0, 1])
    out = two_axis_policy(fit, engagement, y, policy=ExpectedValue(100, 30))
    assert (out["fit_min"], out["engagement_min"]) == (10, 5)
    assert out["share_wins_captured"] == 1.0 and out["share_passed"] == 3 / 8
    assert out["value_per_1000_leads"] >= out["single"]["value_per_1000_leads"]
