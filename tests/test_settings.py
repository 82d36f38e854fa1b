"""Tests for calibrate.settings: the frozen settings a fit is made of."""

from __future__ import annotations

import dataclasses

import pytest

import calibrate
from calibrate.datasets import make_leads
from calibrate.errors import ParameterError
from calibrate.pipeline import fit_with
from calibrate.settings import ActivitySettings, LeadColumns, ModelSettings, PolicySettings


def test_settings_are_frozen_and_hold_their_own_copies():
    types = {"size": "numeric"}
    columns = LeadColumns("won", types=types, exclude="notes", implicit=["visits"])
    types["size"] = "categorical"
    assert columns.types == {"size": "numeric"}
    assert columns.exclude == ("notes",) and columns.implicit == ("visits",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        columns.outcome = "lost"


def test_a_policy_without_what_it_needs_is_refused_when_made():
    with pytest.raises(ParameterError, match="policy 'sales_capacity' needs capacity"):
        PolicySettings(policy="sales_capacity")
    with pytest.raises(ParameterError, match="policy 'magic' needs a known policy name"):
        PolicySettings(policy="magic")
    chosen = PolicySettings(policy="target", target={"recall": 0.8})
    assert list(chosen.policies()) == ["expected_value", "target"]


def test_an_unknown_activity_column_role_is_refused():
    with pytest.raises(ParameterError, match=r"unknown activity column roles: \['when'\]"):
        ActivitySettings(columns={"when": "ts"})


def test_fit_with_settings_is_fit_with_keywords():
    leads = make_leads(2500, seed=2)
    by_keywords = calibrate.fit(
        leads, outcome="converted", id="lead_id", bootstrap=0, seed=3, levels="A=60,B=30"
    )
    by_settings = fit_with(
        leads,
        LeadColumns("converted", id="lead_id"),
        policy=PolicySettings(levels="A=60,B=30"),
        model=ModelSettings(bootstrap=0, seed=3),
    )
    assert by_settings.config.to_json() == by_keywords.config.to_json()
    assert by_settings.holdout.scores.tolist() == by_keywords.holdout.scores.tolist()
