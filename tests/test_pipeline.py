import json

import numpy as np
import pandas as pd
import pytest

import calibrate
from calibrate import ScoringConfig
from calibrate.datasets import ground_truth, make_leads


@pytest.fixture(scope="module")
def generated():
    return make_leads(8000, seed=3)


@pytest.fixture(scope="module")
def result(generated):
    return calibrate.fit(generated, outcome="converted", id="lead_id", date="created_at", seed=0)


def _points(result, criterion):
    sheet = result.points_sheet
    rows = sheet[(sheet["criterion"] == criterion) & (sheet["n_leads"] > 0)]
    return rows.set_index("band")["points"]


def test_fit_recovers_the_ground_truth_order_of_seniority(result):
    truth = ground_truth().query("criterion == 'seniority'").sort_values("effect")
    points = _points(result, "seniority")
    fitted = points[truth["level"]].to_numpy()
    assert (np.diff(fitted) > 0).all(), points


def test_fit_recovers_the_extremes_of_lead_source(result):
    points = _points(result, "lead_source")
    assert points.idxmin() == "Purchased list"
    assert set(points.nlargest(2).index) == {"Referral", "Webinar"}


def test_behaviour_earns_points(result):
    for criterion in ["pricing_page_views", "webinars_attended", "demo_requested"]:
        points = _points(result, criterion).drop("Missing", errors="ignore")
        top = points.iloc[0] if criterion == "demo_requested" else points.iloc[-1]
        assert top > points.min(), criterion


def test_behaviour_and_role_are_labelled_apart(result):
    groups = result.points_sheet.groupby("criterion")["group"].first()
    assert groups["seniority"] == "explicit" and groups["industry"] == "explicit"
    assert groups["webinars_attended"] == "implicit" and groups["email_clicks"] == "implicit"


def test_metrics_hold_what_the_cli_promises(result):
    m = result.metrics
    for key in [
        "holdout_auc_model",
        "holdout_auc_points",
        "holdout_brier",
        "n_train",
        "n_holdout",
        "threshold",
    ]:
        assert key in m
    assert m["n_train"] + m["n_holdout"] == 8000
    assert m["split"] == "time-ordered"
    assert m["holdout_auc_points"] > 0.72
    assert abs(m["holdout_auc_model"] - m["holdout_auc_points"]) <= 0.002
    assert m["holdout_kendall_tau"] >= 0.97


def test_holdout_is_the_latest_leads(result, generated):
    dates = generated["created_at"]
    assert dates.iloc[result.train_rows].max() <= dates.iloc[result.holdout_rows].min()


def test_config_scores_exactly_like_the_fitted_objects(result, generated, tmp_path):
    path = tmp_path / "leads.csv"
    generated.to_csv(path, index=False)
    config = ScoringConfig.load(result.save(tmp_path / "out")["config"])
    scored = config.score(path)
    np.testing.assert_array_equal(scored["score"], result.scorecard.predict_score(generated))
    assert scored["lead_id"].tolist() == generated["lead_id"].tolist()
    # An MQL reaches the threshold, or is fast-tracked by a hand-raiser rule
    # (here the lead table's demo_requested column).
    rules = result.config.threshold["fast_track"]
    assert rules == [
        {
            "kind": "column",
            "column": "demo_requested",
            "equals": "true",
            "evidence": rules[0]["evidence"],
        }
    ]
    fast = generated["demo_requested"].to_numpy()
    expected = (scored["score"] >= result.metrics["threshold"]).to_numpy() | fast
    np.testing.assert_array_equal(scored["mql"], expected)
    assert (scored["mql"] & (scored["score"] < result.metrics["threshold"])).any()


def test_same_input_and_seed_give_byte_identical_config(generated, tmp_path):
    data = generated.head(3000)
    a = calibrate.fit(data, outcome="converted", id="lead_id", seed=5).config.to_json()
    b = calibrate.fit(data, outcome="converted", id="lead_id", seed=5).config.to_json()
    assert a == b
    c = calibrate.fit(data, outcome="converted", id="lead_id", seed=6).config.to_json()
    assert c != a


def test_save_writes_the_three_outputs(result, tmp_path):
    paths = result.save(tmp_path / "build")
    assert sorted(p.name for p in (tmp_path / "build").iterdir()) == [
        "metrics.json",
        "report.html",
        "scoring_config.json",
    ]
    assert "report_pdf" not in paths
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["threshold"] == result.config.mql_threshold
    assert "<html" in paths["report"].read_text()


def test_save_into_a_file_path_writes_nothing(result, tmp_path):
    blocker = tmp_path / "build"
    blocker.write_text("not a folder")
    with pytest.raises(calibrate.CalibrateError, match="it is a file"):
        result.save(blocker)
    assert blocker.read_text() == "not a folder"


def test_a_leaking_column_is_flagged(generated):
    data = generated.head(3000).copy()
    rng = np.random.default_rng(0)
    data["call_outcome_code"] = np.where(data["converted"], "A", "B")
    flip = rng.random(len(data)) < 0.02
    data.loc[flip, "call_outcome_code"] = "C"
    result = calibrate.fit(data, outcome="converted", id="lead_id", seed=0)
    assert any("call_outcome_code" in w and "leak" in w for w in result.warnings)


def test_excluded_columns_are_recorded_with_their_reason(generated):
    result = calibrate.fit(
        generated.head(2000),
        outcome="converted",
        id="lead_id",
        exclude={"time_on_site_min": "tracked only after the sales call"},
        seed=0,
    )
    assert "time_on_site_min" not in set(result.points_sheet["criterion"])
    excluded = result.config.to_dict()["training_data"]["excluded"]
    assert {
        "column": "time_on_site_min",
        "reason": "tracked only after the sales call",
    } in excluded


def test_notebook_view_shows_the_sheet(result):
    html = result._repr_html_()
    assert "seniority" in html and "hold-out AUC" in html
    assert isinstance(result.metrics_frame, pd.DataFrame)


@pytest.mark.slow
def test_bank_marketing_integer_sheet_auc(shared_data):
    result = calibrate.fit(
        shared_data / "bank-additional-full.csv",
        outcome="y",
        exclude=["duration:length of the call, known only after it (leaks the outcome)"],
        holdout=0.3,
        seed=0,
        bootstrap=0,
    )
    assert result.metrics["split"] == "stratified"
    assert result.metrics["holdout_auc_points"] >= 0.78
    assert "duration" in result.leads.excluded


@pytest.mark.slow
def test_online_shoppers_integer_sheet_auc(shared_data):
    result = calibrate.fit(
        shared_data / "online_shoppers_intention.csv",
        outcome="Revenue",
        holdout=0.3,
        seed=0,
        bootstrap=0,
    )
    assert result.metrics["holdout_auc_points"] >= 0.88


def test_behaviour_points_are_monotone_by_default(result):
    monotone = result.scorecard.model_.monotone_
    for criterion in result.scorecard.criteria_:
        if criterion.group != "implicit" or criterion.kind != "numeric":
            continue
        points = [b.points for b in criterion.bands if b.kind == "range"]
        sign = 1 if monotone[criterion.name] == "increasing" else -1
        assert (sign * np.diff(points) >= 0).all(), (criterion.name, points)


def test_declared_order_and_monotone_none(generated):
    order = ["Student", "Staff", "Manager", "Director", "VP", "C-level"]
    result = calibrate.fit(
        generated.head(4000),
        outcome="converted",
        id="lead_id",
        seed=0,
        monotone={"seniority": order, "page_views": "none"},
    )
    monotone = result.scorecard.model_.monotone_
    assert monotone["seniority"] == "increasing" and "page_views" not in monotone
    with pytest.raises(calibrate.DataError, match="monotone rule for 'nope': no such criterion"):
        calibrate.fit(generated.head(500), outcome="converted", monotone={"nope": "auto"})


def test_hold_out_leads_beyond_the_training_range_are_flagged():
    # The latest leads all look like the best of the earlier ones: their
    # scores pile up at 100, where the sheet cannot rank them.
    leads = make_leads(4000, seed=0)
    late = leads["created_at"] >= leads["created_at"].quantile(0.7)
    for column, value in [("seniority", "C-level"), ("demo_requested", True),
                          ("pricing_page_views", 12), ("webinars_attended", 4)]:  # fmt: skip
        leads.loc[late, column] = value
    result = calibrate.fit(
        leads, outcome="converted", id="lead_id", date="created_at", seed=0, bootstrap=0
    )
    flagged = [w for w in result.warnings if "the top of the scale" in w]
    assert len(flagged) == 1 and flagged[0].endswith("among themselves")
    held = result.leads.features.iloc[result.holdout_rows]
    share = float(np.mean(result.scorecard.predict_score(held) == 100))
    assert flagged[0].startswith(f"{share:.0%} of hold-out leads score 100")
    steady = calibrate.fit(
        make_leads(4000, seed=0), outcome="converted", id="lead_id", date="created_at",
        seed=0, bootstrap=0,
    )  # fmt: skip
    assert not [w for w in steady.warnings if "of the scale" in w]


def test_recency_points_fall_with_the_days_since_unless_a_rule_says_otherwise():
    leads, log = make_leads(2000, seed=4, activities=True)
    options = {"outcome": "converted", "id": "lead_id", "activities": log,
               "decided_at": "decided_at", "bootstrap": 0, "max_pairs": 0}  # fmt: skip
    fit = calibrate.fit(leads, **options)
    recency = [f.name for f in fit.config.activity_spec.features if f.kind == "recency"]
    assert recency
    for name in recency:
        assert fit.scorecard.model_.monotone_[name] == "decreasing"
        criterion = next(c for c in fit.config.criteria if c.name == name)
        points = [b.points for b in criterion.bands if b.kind == "range"]
        assert (np.diff(points) <= 0).all(), (name, points)
    free = calibrate.fit(leads, monotone=dict.fromkeys(recency, "none"), **options)
    assert not set(recency) & set(free.scorecard.model_.monotone_)
