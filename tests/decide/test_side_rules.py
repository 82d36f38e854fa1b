"""The rules beside the MQL line: one measurement for a fit and for a config."""

import numpy as np
import pandas as pd

from calibrate import ExpectedValue
from calibrate.decide.side_rules import line_win_rate, two_axis_rule
from calibrate.decide.threshold import win_probability

GROUPS = {"title": "explicit", "webinars": "implicit"}


def _leads():
    points = pd.DataFrame(
        {"title": [0, 0, 10, 10, 20, 20, 0, 20], "webinars": [0, 10, 0, 10, 0, 10, 20, 5]}
    )
    return points, np.array([0, 0, 0, 1, 0, 1, 0, 1])


def test_line_win_rate_reads_the_win_probability_at_the_threshold():
    rng = np.random.default_rng(0)
    scores = rng.integers(20, 81, 500)
    y = rng.random(500) < scores / 100
    p = win_probability(scores, y, min_score=20, max_score=80)
    assert line_win_rate(scores, y, 55, min_score=20, max_score=80) == float(p[35])
    # The same value on any scale that holds the threshold.
    assert line_win_rate(scores, y, 55) == float(p[35])


def test_a_chosen_rule_measured_again_gives_what_was_chosen():
    points, y = _leads()
    policy = ExpectedValue(100, 30)
    chosen = two_axis_rule(points, GROUPS, 0, y, policy=policy)
    assert (chosen["fit_min"], chosen["engagement_min"]) == (10, 5)
    again = two_axis_rule(
        points, GROUPS, 0, y, policy=policy, rule=chosen, scores=points.sum(axis=1).to_numpy()
    )
    assert again == chosen


def test_no_rule_is_chosen_without_both_kinds_of_criteria():
    points, y = _leads()
    only_fit = {"title": "explicit", "webinars": "explicit"}
    assert two_axis_rule(points, only_fit, 0, y, policy=ExpectedValue(100, 30)) is None
