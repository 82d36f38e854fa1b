"""The parameter contract: every estimator and policy checks every parameter."""

import inspect
import re

import pytest

from calibrate import LeadBinner, LeadScoreModel, Scorecard
from calibrate.decide.policies import ExpectedValue, SalesCapacity, TargetRate
from calibrate.errors import ParameterError
from calibrate.learn.behaviour import ActivityFeaturizer

ESTIMATORS = [LeadBinner, LeadScoreModel, Scorecard, ActivityFeaturizer]
POLICIES = [ExpectedValue, SalesCapacity, TargetRate]

#: A wrong value of the right kind where one exists; anything else gets an object().
WRONG = {
    "max_bins": 1,
    "min_bin_share": 0.0,
    "min_level_count": 0,
    "min_level_share": 0.7,
    "max_levels": 2.5,
    "column_types": {"role": "text"},
    "groups": {"role": "other"},
    "level_order": {"seniority": "Staff"},
    "binner": "x",
    "Cs": 0,
    "cv": 1,
    "max_cv_leads": 10,
    "max_iter": 0,
    "tol": 0.0,
    "random_state": -1,
    "monotone": ["page_views"],
    "model": "x",
    "min_score": 0.5,
    "max_score": "100",
    "lower_quantile": 0.6,
    "upper_quantile": 0.4,
    "rounding": "up",
    "n_bootstrap": -1,
    "lead_id": "",
    "activity_type": 3,
    "occurred_at": None,
    "detail": 3,
    "detail_rules": "page_view:/pricing*=pricing_page_view",
    "families": {"email_open": 3},
    "combos": [("a", 1)],
    "learn_decay": "yes",
    "lookback_days": 0,
    "max_learning_leads": 99,
    "decay_C": 0,
    "win_value": float("inf"),
    "cost_per_lead": -250,
    "leads_per_week": 0,
    "reps": True,
    "follow_ups_per_rep_per_day": "20",
    "sla_hours": -1,
    "working_days": 8,
    "incoming_per_week": float("nan"),
    "precision": 1.5,
    "recall": 0,
}

#: Valid policies to start from (their parameters depend on each other).
POLICY_BASE = {
    ExpectedValue: {},
    SalesCapacity: {"leads_per_week": 100},
    TargetRate: {"precision": 0.2},
}


def _parameters(cls):
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]


@pytest.mark.parametrize("cls", ESTIMATORS + POLICIES, ids=lambda c: c.__name__)
def test_the_constraint_table_covers_exactly_the_constructor(cls):
    assert sorted(cls._rules) == sorted(_parameters(cls))


def _cases(classes):
    return [
        pytest.param(cls, name, id=f"{cls.__name__}-{name}")
        for cls in classes
        for name in _parameters(cls)
    ]


def _message(cls, name, value):
    return (
        re.escape(f"The {name!r} parameter of {cls.__name__} must be ")
        + ".*"
        + re.escape(f". Got {value!r} instead.")
    )


@pytest.mark.parametrize(("cls", "name"), _cases(ESTIMATORS))
@pytest.mark.parametrize("specific", [True, False], ids=["wrong", "object"])
def test_a_wrong_parameter_of_an_estimator_is_named_when_fitting(cls, name, specific):
    value = WRONG.get(name, object()) if specific else object()
    estimator = cls(**{name: value})
    with pytest.raises(ParameterError, match=_message(cls, name, value)):
        estimator.fit(None, None, *([None] if cls is ActivityFeaturizer else []))


@pytest.mark.parametrize(("cls", "name"), _cases(POLICIES))
@pytest.mark.parametrize("specific", [True, False], ids=["wrong", "object"])
def test_a_wrong_parameter_of_a_policy_is_named_when_made(cls, name, specific):
    value = WRONG.get(name, object()) if specific else object()
    with pytest.raises(ParameterError, match=_message(cls, name, value)):
        cls(**{**POLICY_BASE[cls], name: value})


def test_a_model_that_is_not_a_model_is_calibrates_error():
    with pytest.raises(
        ParameterError,
        match=r"The 'model' parameter of Scorecard must be an instance of LeadScoreModel or "
        r"None. Got 'x' instead.",
    ):
        Scorecard(model="x").fit(None, None)


def test_the_default_estimators_and_policies_pass_their_tables():
    from calibrate.validation import check_params

    for cls in ESTIMATORS:
        check_params(cls(), cls._rules)
    for cls, base in POLICY_BASE.items():
        cls(**base)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_the_constructor_only_stores_its_parameters(cls):
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
    defaults.pop("self")
    assert vars(cls()) == defaults


@pytest.fixture(scope="module")
def history():
    from calibrate.datasets import make_leads

    leads, log = make_leads(1500, seed=3, activities=True)
    frame = leads[["lead_id"]].assign(decision_time=leads["decided_at"])
    return leads[["seniority", "company_size"]], leads["converted"].to_numpy(), frame, log


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_fit_returns_the_estimator_and_learns_only_trailing_underscore_attributes(cls, history):
    X, y, frame, log = history
    if cls is ActivityFeaturizer:
        estimator = cls(learn_decay=False)
        fitted = estimator.fit(frame, y, log)
    else:
        estimator = cls()
        fitted = estimator.fit(X, y)
    assert fitted is estimator
    params = set(estimator.get_params(deep=False))
    learned = set(vars(estimator)) - params
    assert learned and all(name.endswith("_") for name in learned), sorted(learned)
