"""Tests for calibrate.production.scorer: scoring leads from the exported config alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import calibrate
from calibrate.datasets import make_leads
from calibrate.errors import ConfigError, DataError
from calibrate.production.config import ScoringConfig
from calibrate.production.scorer import score_leads
from calibrate.sheet.criteria import Band, Criterion

# The tiny case, worked out by hand. Base 10, MQL at 40, scale 0-100.
#
#   size  : <10 -> 5 | 10 to <100 -> 20 | >=100 -> 60 | missing -> -5
#   title : VP or Vice President -> 50 | anything else -> 10 | missing -> -40
#
#   lead  size    title            size  title  10 + sum  score  MQL
#   A     9.999   VP                 5     50      65       65   yes
#   B     100     Vice President    60     50     120      100   yes  (clipped)
#   C     missing missing           -5    -40     -35        0   no   (clipped)
#   D     10      CEO (unseen)      20     10      40       40   yes  (at the threshold)
SIZE = Criterion(
    "size",
    "company_size",
    "numeric",
    "explicit",
    bands=(
        Band("<10", "range", upper=10.0, points=5),
        Band("10 to <100", "range", lower=10.0, upper=100.0, points=20),
        Band(">=100", "range", lower=100.0, points=60),
        Band("Missing", "missing", points=-5),
    ),
)
TITLE = Criterion(
    "title",
    "job_title",
    "categorical",
    "explicit",
    bands=(
        Band("VP", "levels", values=("VP", "Vice President"), points=50),
        Band("Other", "other", points=10),
        Band("Missing", "missing", points=-40),
    ),
)
THRESHOLD = {"mql": 40, "policy": {"name": "manual"}}
LEADS = pd.DataFrame(
    {
        "lead_id": ["A", "B", "C", "D"],
        "company_size": [9.999, 100.0, np.nan, 10.0],
        "job_title": ["VP", "Vice President", None, "CEO"],
        "notes": ["ignored", "extra", "column", "here"],
    }
)
SIZE_POINTS = [5, 60, -5, 20]
TITLE_POINTS = [50, 50, -40, 10]
UNCLIPPED = [65, 120, -35, 40]
SCORES = [65, 100, 0, 40]
MQL = [True, True, False, True]


@pytest.fixture(scope="module")
def config():
    return ScoringConfig(
        criteria=(SIZE, TITLE), base_points=10, threshold=THRESHOLD, id_column="lead_id"
    )


@pytest.fixture(scope="module")
def config_without_id(config):
    return dataclasses.replace(config, id_column=None)


def test_tiny_case_by_hand(config):
    out = score_leads(config, LEADS)
    assert list(out.columns) == ["lead_id", "score", "mql"]
    assert out["lead_id"].tolist() == ["A", "B", "C", "D"]
    assert out["score"].tolist() == SCORES
    assert out["mql"].tolist() == MQL
    assert out["score"].dtype == np.int64
    assert out["mql"].dtype == bool


def test_an_activity_log_for_a_config_without_behaviour_is_named_not_read(config):
    log = pd.DataFrame(
        {"lead_id": ["A"], "activity_type": ["demo"], "occurred_at": ["2026-01-01"]}
    )
    out = score_leads(config, LEADS, activities=log)
    assert out["score"].tolist() == SCORES
    assert any("the activities given were not read" in w for w in out.attrs["warnings"])
    assert not any("not read" in w for w in score_leads(config, LEADS).attrs["warnings"])


def test_a_lead_without_its_decision_time_is_named_with_what_to_give():
    from calibrate.sheet.activity import ActivitySpec
    from calibrate.sheet.feature import ActivityFeature, Kernel

    demo = Criterion("demo", "demo", "numeric", "implicit", bands=(
        Band("<1", "range", upper=1.0, points=0), Band(">=1", "range", lower=1.0, points=10),
        Band("Missing", "missing", points=0)))  # fmt: skip
    spec = ActivitySpec(
        features=(ActivityFeature("demo", "count", ("demo",), kernel=Kernel("all")),),
        known_types=("demo",),
    )
    config = ScoringConfig(
        criteria=(demo,), base_points=0, threshold=THRESHOLD, id_column="lead_id",
        activities={**spec.to_dict(), "decision_time": {"column": "decided_at"}},
    )  # fmt: skip
    leads = pd.DataFrame({"lead_id": ["A", "B"], "decided_at": ["2026-01-05", None]})
    log = pd.DataFrame({"lead_id": ["A"], "activity_type": ["demo"],
                        "occurred_at": ["2026-01-01"]})  # fmt: skip
    with pytest.raises(DataError, match=r"'decided_at' is empty in 1 row\(s\) \(rows 2\); "
                       r"behaviour is scored as of each lead's decision time: give it, or "
                       r"--as-of DATE"):  # fmt: skip
        score_leads(config, leads, activities=log)
    # As of one moment for all, B (no demo) scores too.
    scored = score_leads(config, leads, activities=log, as_of="2026-01-05")
    assert scored["score"].tolist() == [10, 0]


def test_breakdown_by_hand_sums_with_base_to_the_unclipped_score(config):
    out = config.score(LEADS, breakdown=True)
    assert list(out.columns) == ["lead_id", "points_size", "points_title", "score", "mql"]
    assert out["points_size"].tolist() == SIZE_POINTS
    assert out["points_title"].tolist() == TITLE_POINTS
    unclipped = config.base_points + out["points_size"] + out["points_title"]
    assert unclipped.tolist() == UNCLIPPED
    assert out["score"].tolist() == np.clip(unclipped, 0, 100).tolist()


def test_bands_by_hand_name_every_leads_band_after_the_points(config):
    out = config.score(LEADS, breakdown=True, bands=True)
    assert list(out.columns) == [
        "lead_id", "points_size", "points_title", "band_size", "band_title", "score", "mql",
    ]  # fmt: skip
    assert out["band_size"].tolist() == ["<10", ">=100", "Missing", "10 to <100"]
    assert out["band_title"].tolist() == ["VP", "VP", "Missing", "Other"]
    assert out.attrs["fast_track_hits"] == []


def test_fast_track_hits_count_every_rule_in_config_order(config):
    rules = [
        {"kind": "column", "column": "contact_me", "equals": "true"},
        {"kind": "column", "column": "vip", "equals": "true"},
    ]
    fast = dataclasses.replace(config, threshold={**THRESHOLD, "fast_track": rules})
    leads = LEADS.assign(contact_me=["yes", "no", "1", None], vip=["no"] * 4)
    out = fast.score(leads)
    assert out.attrs["fast_track_hits"] == [2, 0]
    assert out["mql"].tolist() == [True, True, True, True]  # C (score 0) by contact_me


@pytest.mark.parametrize(
    ("size", "band_points"),
    [
        (-1e9, 5),
        (9.999999, 5),
        (10.0, 20),
        (10, 20),
        (99.99, 20),
        (100.0, 60),
        (1e12, 60),
        ("10", 20),
        (" 100 ", 60),
        ("NA", -5),
        ("", -5),
    ],
)
def test_range_bands_are_lower_inclusive_upper_exclusive(config, size, band_points):
    leads = pd.DataFrame({"lead_id": ["x"], "company_size": [size], "job_title": ["VP"]})
    out = config.score(leads, breakdown=True)
    assert out["points_size"].tolist() == [band_points]
    assert out["score"].tolist() == [min(10 + band_points + 50, 100)]


@pytest.mark.parametrize(
    ("title", "band_points"),
    [
        ("VP", 50),
        (" Vice President ", 50),
        ("vp", 10),  # categories are compared as text, case included
        ("Never seen in training", 10),
        ("<script>alert(1)</script>", 10),
        (None, -40),
        ("n/a", -40),
    ],
)
def test_levels_other_and_missing(config, title, band_points):
    leads = pd.DataFrame({"lead_id": ["x"], "company_size": [50.0], "job_title": [title]})
    out = config.score(leads, breakdown=True)
    assert out["points_title"].tolist() == [band_points]


def test_ids_are_row_numbers_without_an_id_column(config_without_id):
    out = config_without_id.score(LEADS.drop(columns="lead_id"))
    assert list(out.columns) == ["row", "score", "mql"]
    assert out["row"].tolist() == ["1", "2", "3", "4"]
    assert out["score"].tolist() == SCORES


def test_output_keeps_input_order_whatever_the_index(config):
    shuffled = LEADS.iloc[[3, 1, 0, 2]].set_index(pd.Index([7, 5, 9, 1]))
    out = config.score(shuffled)
    assert out["lead_id"].tolist() == ["D", "B", "A", "C"]
    assert out["score"].tolist() == [40, 100, 65, 0]
    assert out.index.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("drop", "match"),
    [
        (
            ["company_size"],
            r"1 column\(s\) the config needs are missing from the data: "
            r"'company_size'",
        ),
        (["job_title"], r"missing from the data: 'job_title'"),
        (["lead_id"], r"missing from the data: 'lead_id'"),
        (["lead_id", "job_title"], r"2 column\(s\) .*: 'lead_id', 'job_title'"),
    ],
)
def test_missing_column_is_named(config, drop, match):
    with pytest.raises(DataError, match=match):
        config.score(LEADS.drop(columns=drop))


def test_bad_numeric_value_names_column_and_row(config):
    leads = LEADS.astype({"company_size": object})
    leads.loc[2, "company_size"] = "lots"
    with pytest.raises(DataError, match=r"column 'company_size': 1 value\(s\) .*row 3: 'lots'"):
        config.score(leads)


def test_infinite_value_is_rejected(config):
    leads = LEADS.assign(company_size=[1.0, np.inf, 2.0, 3.0])
    with pytest.raises(
        DataError,
        match=r"column 'company_size': 1 value\(s\) are not a finite number \(row 2: .*inf",
    ):
        config.score(leads)


def test_duplicate_ids_are_rejected(config):
    leads = LEADS.assign(lead_id=["A", "B", "A", "D"])
    with pytest.raises(DataError, match=r"id column 'lead_id' has 1 duplicate id\(s\).*'A'"):
        config.score(leads)


def test_csv_and_parquet_give_the_same_scores_as_the_dataframe(config, tmp_path):
    expected = config.score(LEADS, breakdown=True)
    LEADS.to_csv(tmp_path / "leads.csv", index=False)
    LEADS.to_csv(tmp_path / "leads_semicolon.csv", index=False, sep=";")
    LEADS.to_parquet(tmp_path / "leads.parquet", index=False)
    for name in ["leads.csv", "leads_semicolon.csv", "leads.parquet"]:
        out = score_leads(config, tmp_path / name, breakdown=True)
        pd.testing.assert_frame_equal(out, expected)
        assert out["score"].tolist() == SCORES
    out = score_leads(config, str(tmp_path / "leads.csv"), sep=",")
    assert out["score"].tolist() == SCORES


def test_missing_file_is_a_data_error(config, tmp_path):
    with pytest.raises(DataError, match="no such file"):
        config.score(tmp_path / "nope.csv")


# --- exactness: the exported config scores like the fitted sheet ------------


@pytest.fixture(scope="module")
def leads_3k():
    return make_leads(3000, seed=1)


@pytest.fixture(scope="module")
def calibration(leads_3k):
    return calibrate.fit(leads_3k, outcome="converted", id="lead_id", seed=1)


@pytest.fixture(scope="module")
def exported(calibration, tmp_path_factory):
    path = calibration.config.save(tmp_path_factory.mktemp("config") / "scoring_config.json")
    return ScoringConfig.load(path)


@pytest.mark.parametrize("source", ["dataframe", "csv", "parquet"])
def test_exported_config_scores_every_lead_like_the_scorecard(
    calibration, exported, leads_3k, tmp_path, source
):
    if source == "csv":
        data = tmp_path / "leads.csv"
        leads_3k.to_csv(data, index=False)
    elif source == "parquet":
        data = tmp_path / "leads.parquet"
        leads_3k.to_parquet(data, index=False)
    else:
        data = leads_3k
    expected = calibration.scorecard.predict_score(leads_3k)
    out = exported.score(data)
    assert out["lead_id"].tolist() == leads_3k["lead_id"].tolist()
    np.testing.assert_array_equal(out["score"].to_numpy(), expected)
    # MQL: the threshold, or a fast-track rule on a boolean lead column.
    fast = np.zeros(len(leads_3k), dtype=bool)
    for rule in exported.threshold["fast_track"]:
        assert rule["kind"] == "column"
        fast |= leads_3k[rule["column"]].astype(str).str.lower().eq(rule["equals"]).to_numpy()
    np.testing.assert_array_equal(
        out["mql"].to_numpy(), (expected >= exported.mql_threshold) | fast
    )
    # The data must exercise the sheet: many scores, both decisions.
    assert len(np.unique(expected)) > 20
    assert 0 < out["mql"].mean() < 1


def test_exported_breakdown_matches_the_scorecard(calibration, exported, leads_3k):
    expected = calibration.scorecard.score_breakdown(leads_3k)
    out = exported.score(leads_3k, breakdown=True)
    names = [c.name for c in exported.criteria]
    columns = [f"points_{name}" for name in names]
    np.testing.assert_array_equal(out[columns].to_numpy(), expected[names].to_numpy())
    unclipped = exported.base_points + out[columns].sum(axis=1)
    np.testing.assert_array_equal(
        np.clip(unclipped, exported.min_score, exported.max_score), out["score"]
    )


DEMO = Criterion(
    "demo",
    "demo_requested",
    "boolean",
    "implicit",
    bands=(
        Band("Yes", "levels", values=("true",), points=30),
        Band("No", "levels", values=("false",), points=0),
        Band("Missing", "missing", points=5),
    ),
)


@pytest.mark.parametrize(
    ("values", "points"),
    [
        ([True, False, True], [30, 0, 30]),
        ([True, None, False], [30, 5, 0]),
        (["yes", "No", ""], [30, 0, 5]),
        (["1", "0", "TRUE"], [30, 0, 30]),
    ],
)
@pytest.mark.parametrize("source", ["dataframe", "csv", "parquet"])
def test_boolean_criterion_from_every_source(tmp_path, values, points, source):
    config = ScoringConfig(criteria=(DEMO,), base_points=0, threshold=THRESHOLD)
    data = pd.DataFrame({"demo_requested": values})
    if source == "csv":
        data.to_csv(tmp_path / "leads.csv", index=False)
        data = tmp_path / "leads.csv"
    elif source == "parquet":
        data.to_parquet(tmp_path / "leads.parquet", index=False)
        data = tmp_path / "leads.parquet"
    out = config.score(data, breakdown=True)
    assert out["points_demo"].tolist() == points
    assert out["score"].tolist() == points


def test_bad_boolean_value_names_column_and_row():
    config = ScoringConfig(criteria=(DEMO,), base_points=0, threshold=THRESHOLD)
    data = pd.DataFrame({"demo_requested": ["yes", "no", "maybe"]})
    with pytest.raises(DataError, match=r"column 'demo_requested'.*true or false.*row 3: 'maybe'"):
        config.score(data)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("base_points", 10**30, "base points 10{30} are outside -1000 to 1000"),
        ("base_points", 1e30, r"base points must be an integer, got 1e\+30"),
        ("max_score", 10**6, "score max 1000000 is outside the supported scale"),
    ],
)
def test_scorer_refuses_a_config_out_of_bounds(config, field, value, match):
    """Scoring checks the bounds itself, so no sum of points can overflow its integers."""
    bent = dataclasses.replace(config)
    object.__setattr__(bent, field, value)  # past the checks a config runs when made
    with pytest.raises(ConfigError, match=match):
        score_leads(bent, LEADS)


def test_reasons_by_hand(config):
    # A: size +5, title +50; B: +60, +50; C: -5, -40; D: +20, +10.
    out = score_leads(config, LEADS, reasons=3)
    assert out.columns.tolist()[-3:] == ["reason_1", "reason_2", "reason_3"]
    assert out["reason_1"].tolist() == [
        "title VP +50", "size 100 or more +60", "title not known -40",
        "size 10 to under 100 +20",
    ]  # fmt: skip
    assert out["reason_2"].tolist() == [
        "size under 10 +5", "title VP +50", "size not known -5", "title Other +10",
    ]  # fmt: skip
    # Two criteria: the third reason is missing for every lead.
    assert out["reason_3"].isna().all()


def test_reasons_break_ties_by_config_order_and_skip_zero_points(config):
    tied = dataclasses.replace(
        config,
        criteria=(
            SIZE.with_points([0, 0, 50, 0]),
            TITLE.with_points([50, 0, 0]),
        ),
    )
    out = score_leads(tied, LEADS, reasons=2)
    # B: both +50, size comes first in the config; A: only the title earns points.
    assert out["reason_1"].tolist()[:2] == ["title VP +50", "size 100 or more +50"]
    assert out["reason_2"].isna().tolist() == [True, False, True, True]
    assert out.loc[1, "reason_2"] == "title VP +50"


@pytest.mark.parametrize("bad", [-1, 2.0, True, "2"])
def test_reasons_must_be_a_whole_number(config, bad):
    from calibrate.errors import ParameterError

    with pytest.raises(ParameterError, match="reasons must be a whole number"):
        score_leads(config, LEADS, reasons=bad)
