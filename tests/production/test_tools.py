"""Tests for calibrate.production.tools: HubSpot and Mautic bodies, their gaps and their cost."""

from __future__ import annotations

import copy
import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

import calibrate
from calibrate.datasets import make_leads
from calibrate.errors import ParameterError
from calibrate.production.config import ScoringConfig
from calibrate.production.tools import (
    export_config,
    mautic_action,
    measure_export,
    tool_schema,
    tool_sheet,
)
from calibrate.sheet.activity import ActivitySpec
from calibrate.sheet.criteria import Band, Criterion
from calibrate.sheet.feature import ActivityFeature, DetailRule, Kernel
from calibrate.sheet.pairs import Cell, Condition, PairCriterion

MANUAL = {"policy": {"name": "manual"}}

SIZE = Criterion("size", "company_size", "numeric", "explicit", bands=(
    Band("<10", "range", upper=10.0, points=0),
    Band("10 to <500", "range", lower=10.0, upper=500.0, points=8),
    Band(">=500", "range", lower=500.0, points=20),
    Band("Missing", "missing", points=3)))  # fmt: skip
TITLE = Criterion("title", "title", "categorical", "explicit", bands=(
    Band("VP", "levels", values=("VP", "Vice President"), points=25),
    Band("CEO", "levels", values=("CEO",), points=30),
    Band("Other", "other", points=5),
    Band("Missing", "missing", points=0)))  # fmt: skip
DEMO = Criterion("demo", "demo", "numeric", "implicit", bands=(
    Band("<0.5", "range", upper=0.5, points=2),
    Band("0.5 to <1.2", "range", lower=0.5, upper=1.2, points=17),
    Band(">=1.2", "range", lower=1.2, points=24),
    Band("Missing", "missing", points=0)))  # fmt: skip


def _config(criteria, features=(), base_points=-10, mql=40, **extra):
    activities = {}
    if features:
        spec = ActivitySpec(
            features=tuple(features),
            known_types=("demo_request", "page_view", "pricing_page_view", "unsubscribe"),
            detail_rules=(DetailRule("/pricing*", "pricing_page_view", "page_view"),),
        )
        activities = {**spec.to_dict(), "decision_time": {"column": "decided_at"}}
    return ScoringConfig(
        criteria=tuple(criteria),
        base_points=base_points,
        threshold={"mql": mql, **MANUAL, **extra},
        id_column="lead_id",
        activities=activities,
    )


def _tool_scores(sheet, frame) -> np.ndarray:
    """Every lead's points from the tool's property rules alone, as the tool adds them."""
    total = np.zeros(len(frame), dtype=np.int64)
    for rule in sheet.rules:
        assert rule.kind == "property"
        codes = rule.criterion.assign(frame[rule.column])
        total += np.where(codes == rule.criterion.bands.index(rule.band), rule.points, 0)
    return total


LEADS = pd.DataFrame({
    "lead_id": [f"L{i}" for i in range(8)],
    "company_size": [3, 10, 499, 500, 9000, None, 42, 7],
    "title": ["VP", "Vice President", "CEO", "Intern", None, "CEO", "Analyst", "VP"],
})  # fmt: skip


# --- fit criteria: exact in both tools ---------------------------------------------


@pytest.mark.parametrize("tool", ["hubspot", "mautic"])
def test_fit_criteria_are_exact_and_the_starting_points_fold_into_the_first(tool):
    config = _config([SIZE, TITLE])
    sheet = tool_sheet(config, tool)
    assert sheet.exact and sheet.gaps == ()
    # The tool has no starting points: the first criterion's every band carries them.
    assert [r.points for r in sheet.rules if r.group == "size"] == [-10, -2, 10, -7]
    assert [r.points for r in sheet.rules if r.group == "title"] == [25, 30, 5, 0]
    assert (sheet.folded, sheet.folded_into) == (-10, "size")
    assert "the -10 points every lead gets" in export_config(config, tool).setup()
    expected = config.score(LEADS)["score"].to_numpy()
    assert np.array_equal(np.clip(_tool_scores(sheet, LEADS), 0, 100), expected)
    assert np.array_equal(sheet.config.score(LEADS)["score"].to_numpy(), expected)


def test_hubspot_body_has_one_group_per_criterion_and_matches_the_schema():
    export = export_config(_config([SIZE, TITLE]), "hubspot", name="Calibrated")
    body = export.body
    jsonschema.validate(body, tool_schema("hubspot"))
    assert body["name"] == "Calibrated" and body["objectTypeId"] == "0-1"
    assert body["maxScore"] == 100 and body["allowedGroupTypes"] == ["FIT"]
    size, title = body["groupConfigs"]
    assert (size["groupName"], size["groupCategory"]) == ("size", "FIT")
    values = [r["configuration"]["calculation"]["value"] for r in size["ruleConfigurations"]]
    assert values == [-10, -2, 10, -7]
    # One band of a property applies: the group adds its least to its most band.
    assert (size["minValue"], size["maxValue"]) == (-10, 10)
    # A rule worth 0 points is left out.
    assert [r["configuration"]["calculation"]["value"] for r in title["ruleConfigurations"]] == [
        25, 30, 5,
    ]  # fmt: skip
    assert json.loads(export.json) == body


@pytest.mark.parametrize(
    "tool, break_it",
    [
        ("hubspot", lambda b: b["groupConfigs"][0].update(groupname="typo")),
        (
            "hubspot",
            lambda b: b["groupConfigs"][0]["ruleConfigurations"][0]["configuration"][
                "calculation"
            ].update(type="MULTIPLIER"),
        ),  # fmt: skip
        ("hubspot", lambda b: b.pop("maxScore")),
        ("hubspot", lambda b: b["groupConfigs"][0].update(groupCategory="fit")),
        ("mautic", lambda b: b["pointTriggers"][0].update(color="#e76f51")),
        ("mautic", lambda b: b["segments"][0]["filters"][0].update(operator="between")),
        ("mautic", lambda b: b["campaignActions"][0]["properties"].update(points=1.5)),
    ],
)
def test_the_schemas_refuse_what_the_tools_documentation_does_not_allow(tool, break_it):
    body = copy.deepcopy(export_config(_config([SIZE, TITLE]), tool).body)
    jsonschema.validate(body, tool_schema(tool))
    break_it(body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, tool_schema(tool))


def test_mautic_fit_bands_are_segments_with_a_points_campaign_action():
    body = export_config(_config([SIZE, TITLE], mql=35), "mautic").body
    jsonschema.validate(body, tool_schema("mautic"))
    assert body["pointActions"] == []
    by_name = {s["name"].split(": ", 1)[1]: s for s in body["segments"]}
    middle = by_name["company_size >= 10 and company_size < 500"]["filters"]
    assert [(f["operator"], f["properties"]["filter"]) for f in middle] == [
        ("gte", 10.0),
        ("lt", 500.0),
    ]
    other = by_name["title is any other value (not 'VP', 'Vice President', 'CEO')"]["filters"]
    assert other[0]["operator"] == "!in"
    assert other[0]["properties"]["filter"] == ["VP", "Vice President", "CEO"]
    assert by_name["company_size is empty"]["filters"][0]["operator"] == "empty"
    points = {a["segment"]: a["properties"]["points"] for a in body["campaignActions"]}
    assert [points[s["alias"]] for s in body["segments"]] == [-10, -2, 10, -7, 25, 30, 5]
    (trigger,) = body["pointTriggers"]
    assert trigger["points"] == 35 and trigger["events"][0]["properties"] == {"add_tags": ["MQL"]}


def test_a_pair_of_fit_conditions_is_an_and_rule_with_its_otherwise_folded():
    tall = Condition(SIZE, (2,))
    senior = Condition(TITLE, (0, 1))
    pair = PairCriterion("size x title", tall, senior, group="explicit", cells=(
        Cell("size >= 500 and title in VP|CEO", "rule", points=9),
        Cell("otherwise", "otherwise", points=-1)))  # fmt: skip
    config = _config([SIZE, TITLE, pair])
    sheet = tool_sheet(config, "hubspot")
    assert sheet.exact
    (rule,) = [r for r in sheet.rules if r.kind == "and"]
    assert rule.points == 10  # the rule's 9 over otherwise's -1
    assert np.array_equal(
        sheet.config.score(LEADS)["score"].to_numpy(), config.score(LEADS)["score"].to_numpy()
    )
    segment = export_config(config, "mautic").body["segments"][-1]
    # (size >= 500) and (title VP or title CEO): two AND groups joined by OR.
    assert [(f["glue"], f["field"], f["operator"]) for f in segment["filters"]] == [
        ("and", "company_size", "gte"), ("and", "title", "in"),
        ("or", "company_size", "gte"), ("and", "title", "="),
    ]  # fmt: skip


# --- what the lead did ----------------------------------------------------------------


def _demo_config(kernel):
    feature = ActivityFeature("demo", "count", ("demo_request",), kernel=kernel)
    return _config([SIZE, DEMO], features=[feature])


def _log(ages):
    """One lead per entry: demo requests that many days before its decision."""
    decided = pd.Timestamp("2026-01-01")
    leads = pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(len(ages))],
        "company_size": 100, "decided_at": decided})  # fmt: skip
    rows = [(f"L{i}", "demo_request", decided - pd.Timedelta(days=a))
            for i, lead in enumerate(ages) for a in lead]  # fmt: skip
    log = pd.DataFrame(rows, columns=["lead_id", "activity_type", "occurred_at"])
    return leads, log


def test_hubspot_turns_a_decayed_count_into_window_rules_and_says_so():
    config = _demo_config(Kernel("decay", 30.0))
    sheet = tool_sheet(config, "hubspot")
    events = [r for r in sheet.rules if r.kind == "event"]
    # One cumulative rule per band edge, each worth the step from the band below.
    assert [(r.condition, r.points) for r in events] == [
        ("1+ demo_request in the last 31 days", 15),
        ("2+ demo_request in the last 23 days", 7),
    ]
    assert not any(r.exact for r in events)
    assert [g.cannot for g in sheet.gaps] == ["points that fade with half-life 30 days"]
    assert "Leave HubSpot's decay off" in export_config(config, "hubspot").setup()
    # The lowest band's 2 points go to every lead: starting points into size's bands.
    assert [r.points for r in sheet.rules if r.group == "size"] == [-8, 0, 12, -5]
    leads, log = _log([[], [20], [40], [5, 10], [5, 40]])
    scores = sheet.config.score(leads, activities=log)["score"].tolist()
    base = -10 + 8 + 2  # starting points, size 10 to <500, the lowest demo band
    assert scores == [base, base + 15, base, base + 22, base + 15]


def test_a_windowed_count_is_exact_in_hubspot():
    sheet = tool_sheet(_demo_config(Kernel("window", 30.0)), "hubspot")
    assert sheet.exact
    assert [r.condition for r in sheet.rules if r.kind == "event"] == [
        "1+ demo_request in the last 30 days",
        "2+ demo_request in the last 30 days",
    ]
    leads, log = _log([[], [29], [30], [1, 2, 3]])
    config = _demo_config(Kernel("window", 30.0))
    assert sheet.config.score(leads, activities=log)["score"].tolist() == (
        config.score(leads, activities=log)["score"].tolist()
    )


def test_mautic_keeps_the_first_activity_ever_and_lists_the_rest():
    sheet = tool_sheet(_demo_config(Kernel("decay", 30.0)), "mautic")
    (event,) = [r for r in sheet.rules if r.kind == "event"]
    assert (event.condition, event.points) == ("1+ demo_request ever", 15)
    assert [g.instead for g in sheet.gaps] == [
        "every activity ever",
        "left out: Mautic adds points once, at the first",
    ]
    body = export_config(_demo_config(Kernel("decay", 30.0)), "mautic").body
    (action,) = body["pointActions"]
    assert (action["type"], action["delta"], action["repeatable"]) == ("form.submit", 15, False)
    # Which forms count is the user's to pick: named, left empty.
    assert action["properties"] == {"forms": []}
    assert action["name"] == "calibrate: demo: 1+ demo_request ever"


def test_mautic_action_types_come_from_detail_rules_and_names():
    spec = ActivitySpec(detail_rules=(DetailRule("/pricing*", "pricing_page_view", "page_view"),))
    assert mautic_action("pricing_page_view", spec) == {
        "type": "url.hit", "properties": {"page_url": "*/pricing*"}}  # fmt: skip
    assert mautic_action("whitepaper_download")["type"] == "asset.download"
    assert mautic_action("email_open")["type"] == "email.open"
    assert mautic_action("email_click") is None and mautic_action("webinar_attended") is None


def test_unknown_tool_is_refused():
    with pytest.raises(ParameterError, match="hubspot, mautic"):
        tool_sheet(_config([SIZE]), "marketo")


# --- the cost, measured on the fit's hold-out -----------------------------------------


@pytest.fixture(scope="module")
def fitted():
    leads, log = make_leads(3000, seed=4, activities=True)
    result = calibrate.fit(
        leads, outcome="converted", id="lead_id", decided_at="decided_at", activities=log,
        exclude=["created_at"], bootstrap=0, seed=4, max_pairs=0,
    )  # fmt: skip
    return result.config, leads, log


@pytest.mark.parametrize("tool", ["hubspot", "mautic"])
def test_measure_on_the_fits_leads_reproduces_its_hold_out_auc(fitted, tool):
    config, leads, log = fitted
    export = export_config(config, tool)
    jsonschema.validate(export.body, tool_schema(tool))
    measured = measure_export(export, config, leads, activities=log)
    assert measured["leads"] == config.training_data["n_holdout"]
    assert measured["measured_on"].startswith("the fit's")
    assert measured["auc_config"] == pytest.approx(config.model["holdout"]["auc_points"], abs=1e-6)
    # Approximations cost something, and the sheet still ranks leads.
    assert 0.6 < measured["auc_tool"] < measured["auc_config"]
    assert f"{measured['auc_tool']:.4f}" in export.setup(measured)


def test_measure_on_other_leads_counts_every_lead(fitted):
    config, leads, log = fitted
    export = export_config(config, "hubspot")
    measured = measure_export(export, config, leads.iloc[:2000], activities=log)
    assert measured == {**measured, "leads": 2000, "measured_on": "these 2,000 leads"}
