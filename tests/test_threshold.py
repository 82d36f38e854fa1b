import numpy as np
import pytest

from calibrate import ExpectedValue, calibration_table, recommend_threshold
from calibrate.errors import ParameterError
from calibrate.threshold import threshold_curve, win_probability


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
