import numpy as np
import pandas as pd
import pytest

import calibrate
from calibrate.datasets import make_leads
from calibrate.decide.current_sheet import CurrentSheet, Rule, compare_sheets, read_current_sheet
from calibrate.errors import DataError

YAML = """
threshold: 25
rules:
  - column: title
    in: [VP, CEO]
    points: 20
  - column: size
    at_least: 100
    points: 10
  - column: size
    missing: true
    points: -5
  - activity: webinar
    at_least: 1
    within_days: 30
    points: 15
"""

CSV = """criterion,condition,points
title,in VP|CEO,20
size,>= 100,10
size,missing,-5
activity:webinar,>= 1 within 30 days,15
threshold,,25
"""

LEADS = pd.DataFrame(
    {
        "title": ["VP", "Staff", "CEO", None],
        "size": [500.0, 50.0, np.nan, 100.0],
        "activity:webinar|30": [0, 2, 1, 0],
    }
)


@pytest.fixture(params=["yaml", "csv"])
def sheet(request, tmp_path):
    path = tmp_path / f"today.{request.param}"
    path.write_text(YAML if request.param == "yaml" else CSV)
    return read_current_sheet(path)


def test_both_formats_read_the_same_rules(sheet):
    assert sheet.threshold == 25
    assert [r.label for r in sheet.rules] == [
        "title in VP, CEO",
        "size >= 100",
        "size is missing",
        "activity:webinar >= 1 within 30 days",
    ]


def test_scores_by_hand(sheet):
    # VP, 500 employees: 20 + 10. Staff, 50, two webinars: 15. CEO, size
    # missing, one webinar: 20 - 5 + 15. No title, 100 employees: 10.
    scores, met = sheet.score(LEADS)
    assert scores.tolist() == [30, 15, 30, 10]
    assert met.sum(axis=0).tolist() == [2, 2, 1, 2]


@pytest.mark.parametrize(
    "text, message",
    [
        ("criterion,condition,points\ntitle,~ VP,20\nthreshold,,25\n", "cannot read condition"),
        ("criterion,condition,points\ntitle,= VP,20\n", "needs a 'threshold' row"),
        ("criterion,condition,points\ntitle,= VP,lots\nthreshold,,25\n", "'lots' is not a number"),
        ("name,points\nx,1\n", "needs columns criterion, condition, points"),
    ],
)
def test_bad_csv_sheets_are_explained(tmp_path, text, message):
    path = tmp_path / "today.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_current_sheet(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("rules: []\n", "needs 'threshold' and 'rules'"),
        ("threshold: 1\nrules:\n  - column: a\n    points: 1\n", "exactly one condition"),
        ("threshold: 1\nrules:\n  - column: a\n    equals: x\n", "needs points"),
        ("threshold: 1\nrules:\n  - column: a\n    between: 3\n    points: 1\n", "between takes"),
        ("threshold: 1\nrules: [\n", "not valid YAML"),
    ],
)
def test_bad_yaml_sheets_are_explained(tmp_path, text, message):
    path = tmp_path / "today.yaml"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_current_sheet(path)


def test_a_rule_names_a_column_or_an_activity():
    with pytest.raises(DataError, match="either a column or an activity"):
        Rule(points=1, condition="equals", value="x")


def test_compare_sheets_by_hand():
    sheet = CurrentSheet((Rule(points=10, condition="equals", value="A", column="c"),), 10)
    frame = pd.DataFrame({"c": ["A", "A", "B", "B"]})
    y = [1, 0, 1, 0]
    breakdown = pd.DataFrame({"c": [5, 5, 0, 0]})
    out = compare_sheets(sheet, frame, y, [90, 10, 80, 20], 50, breakdown)
    assert out["current"]["auc"] == 0.5 and out["current"]["share_passed"] == 0.5
    assert out["calibrated"]["auc"] == 1.0 and out["calibrated"]["share_wins_captured"] == 1.0
    assert out["calibrated_at_same_volume"]["share_passed"] == 0.5
    assert out["rules"] == [
        {
            "rule": "c = A",
            "leads": 2,
            "win_rate": 0.5,
            "current_points": 10,
            "calibrated_points": 5.0,
        }
    ]


def test_pipeline_compares_with_the_sheet_in_use(tmp_path):
    leads, log = make_leads(3000, seed=2, activities=True)
    path = tmp_path / "today.yaml"
    path.write_text(
        "threshold: 20\nrules:\n"
        "  - column: seniority\n    in: [VP, C-level]\n    points: 20\n"
        "  - activity: demo_request\n    at_least: 1\n    points: 30\n"
    )
    result = calibrate.fit(
        leads,
        outcome="converted",
        id="lead_id",
        activities=log,
        decided_at="decided_at",
        current_sheet=path,
        bootstrap=0,
        seed=0,
    )
    comparison = result.comparison
    assert comparison["calibrated"]["auc"] > comparison["current"]["auc"]
    assert result.metrics["current_sheet_auc"] == comparison["current"]["auc"]
    assert [r["rule"] for r in comparison["rules"]] == [
        "seniority in VP, C-level",
        "activity:demo_request >= 1",
    ]
    assert "Compared with the sheet in use today" in result.report_html()
    path.write_text(
        "threshold: 1\nrules:\n  - activity: teleport\n    at_least: 1\n    points: 1\n"
    )
    with pytest.raises(
        DataError, match=r"never seen before a training lead's decision: \['teleport'\]"
    ):
        calibrate.fit(
            leads,
            outcome="converted",
            id="lead_id",
            activities=log,
            decided_at="decided_at",
            current_sheet=path,
            bootstrap=0,
            learn_decay=False,
        )
