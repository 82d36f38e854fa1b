"""Tests for calibrate.learn.behaviour: the featurizer, and behaviour from an activity log
through the pipeline, the scorer and the command line.

The reader is tested in tests/io/test_activities.py, the DuckDB aggregation in
tests/sheet/test_sql.py and the decay learned in tests/learn/test_decay.py.
"""

from __future__ import annotations

import re
from dataclasses import replace

import jsonschema
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import calibrate
from activity_logs import by_pandas, make_log
from calibrate import ScoringConfig
from calibrate.cli import app
from calibrate.datasets import make_leads
from calibrate.errors import DataError
from calibrate.io.activities import connect
from calibrate.learn.behaviour import ActivityFeaturizer
from calibrate.production.config import config_schema
from calibrate.sheet.activity import aggregate_frame
from calibrate.sheet.feature import Kernel, exact_decay_is_safe
from calibrate.sheet.kinds import FEATURE_KINDS, OPTIONAL_KINDS, kind_of

DAY = pd.Timedelta(days=1)
SECOND = pd.Timedelta(seconds=1)
RULES = ["page_view:/pricing*=pricing_page_view", "page_view:/careers*=careers_page_view"]
COMBO = "whitepaper_download+case_study_view"


pytestmark = pytest.mark.usefixtures("duckdb_spill_under_tmp")


# --------------------------------------------------------------------------- the featurizer


@pytest.fixture(scope="module")
def small():
    leads, log = make_leads(800, seed=2, activities=True)
    frame = pd.DataFrame({"lead_id": leads["lead_id"], "decision_time": leads["decided_at"]})
    return frame, leads["converted"].to_numpy(), log


@pytest.fixture(scope="module")
def featurizer(small):
    frame, y, log = small
    return ActivityFeaturizer(
        detail="detail", detail_rules=RULES, combos=[COMBO], random_state=0
    ).fit(frame, y, log)


def test_featurizer_transform_is_leak_free(featurizer, small):
    frame, _, log = small
    rng = np.random.default_rng(0)
    chosen = frame.iloc[rng.choice(len(frame), 100, replace=False)]
    kinds = [
        ("demo_request", None),
        ("email_open", "Monthly newsletter"),
        ("page_view", "/pricing"),
        ("page_view", "/careers"),
        ("whitepaper_download", "Buyer Intent Playbook"),
        ("case_study_view", "Case study: Globex"),
    ]
    after = [
        (lead, kind, when + offset, detail)
        for lead, when in zip(chosen["lead_id"], chosen["decision_time"], strict=True)
        for offset in (pd.Timedelta(0), SECOND, 3 * DAY)
        for kind, detail in kinds
    ]
    too_old = [
        (lead, kind, when - 1095 * DAY - SECOND, detail)
        for lead, when in zip(chosen["lead_id"], chosen["decision_time"], strict=True)
        for kind, detail in kinds
    ]
    before = featurizer.transform(frame, log)
    counts_before = featurizer.timing_counts(frame)
    leaky = pd.concat([log, make_log(after), make_log(too_old)], ignore_index=True)
    pd.testing.assert_frame_equal(featurizer.transform(frame, leaky), before, check_exact=True)
    counts = featurizer.timing_counts(frame, leaky)
    assert counts["after_decision_rows"] == counts_before["after_decision_rows"] + len(after)
    assert counts["older_than_lookback_rows"] == len(too_old)
    assert counts_before["older_than_lookback_rows"] == 0


def test_featurizer_agrees_with_the_pandas_evaluator(featurizer, small):
    frame, _, log = small
    features, counts = aggregate_frame(
        featurizer.spec_, frame["lead_id"], frame["decision_time"], log
    )
    pd.testing.assert_frame_equal(featurizer.transform(frame, log), features, check_exact=True)
    counted = counts.pop("counted")
    assert counts == {"unknown_leads": 0, "unknown_lead_examples": [], "unknown_types": {}}
    # The activities that count: neither on or after the decision nor older than the look-back.
    timing = featurizer.timing_counts(frame, log)
    left_out = timing["after_decision_rows"] + timing["older_than_lookback_rows"]
    assert counted == len(log) - left_out - timing["unknown_lead_rows"]


@pytest.mark.parametrize("kind", FEATURE_KINDS)
def test_every_registered_kind_is_the_same_in_duckdb_and_pandas(featurizer, small, kind):
    """The registry's SQL of each kind, rendered for DuckDB, equals its pandas evaluation."""
    frame, _, log = small
    spec = replace(
        featurizer.spec_, features=(kind_of(kind).example(featurizer.spec_.known_types),)
    )
    by_duckdb = featurizer.evaluate(frame, spec.features)
    pd.testing.assert_frame_equal(by_duckdb, by_pandas(spec, frame, log), check_exact=True)
    assert by_duckdb.iloc[:, 0].nunique() > 1


def test_optional_kinds_are_features_only_when_asked(featurizer, small):
    frame, y, log = small
    assert OPTIONAL_KINDS == ("distinct_weeks",)
    assert not {f.kind for f in featurizer.spec_.features} & set(OPTIONAL_KINDS)
    asked = ActivityFeaturizer(
        detail="detail",
        detail_rules=RULES,
        combos=[COMBO],
        random_state=0,
        extra_features=("distinct_weeks",),
    ).fit(frame, y, log)
    weeks = asked.spec_.features[-1]
    assert asked.spec_.features[:-1] == featurizer.spec_.features
    assert (weeks.name, weeks.kind, weeks.window_days) == (
        "distinct_weeks_90d",
        "distinct_weeks",
        90,
    )
    assert "page_view" in weeks.types and "demo_request" in weeks.types
    assert "email_open" not in weeks.types
    features = asked.transform(frame)
    pd.testing.assert_frame_equal(
        features.drop(columns=weeks.name), featurizer.transform(frame), check_exact=True
    )
    expected, _ = aggregate_frame(asked.spec_, frame["lead_id"], frame["decision_time"], log)
    pd.testing.assert_frame_equal(features, expected, check_exact=True)
    assert features[weeks.name].between(0, 13).all() and features[weeks.name].max() > 3


def test_featurizer_learns_types_families_and_features(featurizer):
    spec = featurizer.spec_
    assert "pricing_page_view" in spec.known_types
    assert "careers_page_view" in spec.known_types
    assert spec.families["demo_request"] == "hand-raiser"
    assert spec.families["unsubscribe"] == "opt-out"
    by_name = {f.name: f for f in spec.features}
    assert by_name[COMBO].kind == "all_of"
    assert by_name["days_since_last_activity"].kind == "recency"
    assert by_name["active_days_30d"].types == (
        "careers_page_view",
        "page_view",
        "pricing_page_view",
    )
    kernels = {f.family: f.kernel for f in spec.features if f.kind == "count"}
    learned = featurizer.decay_.set_index("family")["kernel"].to_dict()
    assert {family: kernel.label for family, kernel in kernels.items()} == learned
    assert all(k.kind != "decay" or exact_decay_is_safe(k.days, 1096) for k in kernels.values())


def test_unknown_leads_are_counted_not_dropped_silently(featurizer, small):
    frame, _, log = small
    ghosts = make_log(
        [
            ("ghost-1", "email_open", "2024-05-01", None),
            ("ghost-1", "page_view", "2024-05-02", "/pricing"),
            ("ghost-2", "demo_request", "2024-05-03", None),
        ]
    )
    counts = featurizer.timing_counts(frame, pd.concat([log, ghosts], ignore_index=True))
    assert counts["unknown_lead_rows"] == 3
    assert counts["unknown_lead_ids"] == 2
    assert counts["unknown_lead_examples"] == ["ghost-1", "ghost-2"]


def test_another_log_read_for_one_call_leaves_the_fitted_log(featurizer, small):
    frame, _, log = small
    ghosts = make_log([("ghost-1", "email_open", "2024-05-01", None)])
    featurizer.transform(frame, pd.concat([log, ghosts], ignore_index=True))
    assert featurizer.timing_counts(frame)["unknown_lead_rows"] == 0


def test_a_fitted_featurizer_keeps_no_connection(featurizer, small):
    import duckdb

    frame, _, log = small
    held = [k for k, v in vars(featurizer).items() if isinstance(v, duckdb.DuckDBPyConnection)]
    assert held == []
    assert featurizer.activities_ is log
    # The fitted log is read again for every call, as a connection given to fit holds it.
    con = connect()
    fitted = ActivityFeaturizer(
        detail="detail", detail_rules=RULES, combos=[COMBO], learn_decay=False
    ).fit(frame, small[1], log, con=con)
    pd.testing.assert_frame_equal(
        fitted.transform(frame, con=con), fitted.transform(frame), check_exact=True
    )
    assert fitted.timing_counts(frame, con=con) == fitted.timing_counts(frame)


def test_a_fitted_featurizer_pickles_and_clones(featurizer, small):
    import copy
    import pickle

    from sklearn.base import clone

    frame, _, _ = small
    expected = featurizer.transform(frame)
    restored = pickle.loads(pickle.dumps(featurizer))
    pd.testing.assert_frame_equal(restored.transform(frame), expected, check_exact=True)
    assert restored.spec_ == featurizer.spec_
    pd.testing.assert_frame_equal(
        copy.deepcopy(featurizer).transform(frame), expected, check_exact=True
    )
    fresh = clone(featurizer)
    assert fresh.get_params() == featurizer.get_params()
    assert not hasattr(fresh, "spec_")


def _varying(features: pd.DataFrame) -> pd.DataFrame:
    """The behaviour features that are not constant (a constant is no criterion)."""
    return features.loc[:, features.nunique() > 1]


def test_the_featurizer_is_a_step_of_a_scikit_learn_pipeline(small):
    import pickle

    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    frame, y, log = small
    pipe = Pipeline(
        [
            ("behaviour", ActivityFeaturizer(learn_decay=False, random_state=0)),
            ("varying", FunctionTransformer(_varying)),
            ("model", calibrate.LeadScoreModel(Cs=1, random_state=0)),
        ]
    ).fit(frame, y, behaviour__activities=log)
    alone = ActivityFeaturizer(learn_decay=False, random_state=0).fit(frame, y, log)
    features = _varying(alone.transform(frame))
    model = calibrate.LeadScoreModel(Cs=1, random_state=0).fit(features, y)
    np.testing.assert_array_equal(pipe.predict_proba(frame), model.predict_proba(features))
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict_proba(frame), pipe.predict_proba(frame))


def test_a_log_whose_ids_meet_no_lead_is_refused(small):
    # Leading zeros on one side only: every behaviour feature would be 0.
    frame, y, log = small
    padded = log.assign(lead_id="0" + log["lead_id"].astype(str))
    with pytest.raises(DataError) as err:
        ActivityFeaturizer(learn_decay=False).fit(frame, y, padded)
    message = str(err.value)
    expected = f"none of the activity log's {len(log):,} activities belongs to any of the 800"
    assert expected in message
    ours, theirs = sorted(frame["lead_id"].astype(str))[0], sorted(padded["lead_id"])[0]
    assert f"their ids look like '{ours}'" in message and f"the log's like '{theirs}'" in message
    # One matching activity is enough to fit (the rest are counted as unknown).
    some = pd.concat([padded, log.iloc[:1]], ignore_index=True)
    assert ActivityFeaturizer(learn_decay=False).fit(frame, y, some).spec_ is not None


def test_without_learned_decay_every_kernel_is_no_decay(small):
    frame, y, log = small
    plain = ActivityFeaturizer(learn_decay=False).fit(frame, y, log)
    kernels = [f.kernel for f in plain.spec_.features if f.kind == "count"]
    assert kernels and all(k == Kernel("all") for k in kernels)
    assert {k.label for k in kernels} == {"no decay"}
    assert plain.decay_.empty


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"detail_rules": ["nonsense"]}, r"a detail rule reads \[TYPE:\]PATTERN=NEW_TYPE"),
        ({"combos": ["email_open+chat_started"]}, r"'email_open\+chat_started'.*'chat_started'"),
        ({"combos": ["email_open"]}, r"combination 'email_open' needs two or more"),
        ({"lookback_days": 0}, r"lookback_days"),
        ({"extra_features": ["count"]}, r"extra_features: 'count' are not optional feature kinds"),
    ],
)
def test_featurizer_bad_parameters(small, kwargs, match):
    frame, y, log = small
    with pytest.raises(calibrate.CalibrateError, match=match):
        ActivityFeaturizer(learn_decay=False, **kwargs).fit(frame, y, log)


# --------------------------------------------------------------------------- the pipeline


@pytest.fixture(scope="module")
def history():
    """6,000 generated leads and their log, plus 3 activities of 2 unknown leads."""
    leads, log = make_leads(6000, seed=0, activities=True)
    ghosts = make_log(
        [
            ("ghost-1", "email_open", "2024-05-01", None),
            ("ghost-1", "page_view", "2024-05-02", "/pricing"),
            ("ghost-2", "demo_request", "2024-05-03", None),
        ]
    )
    return leads, pd.concat([log, ghosts], ignore_index=True)


@pytest.fixture(scope="module")
def fitted(history):
    leads, log = history
    return calibrate.fit(
        leads,
        outcome="converted",
        id="lead_id",
        activities=log,
        decided_at="decided_at",
        activity_columns={"detail": "detail"},
        detail_rules=RULES,
        combos=[COMBO],
        seed=0,
    )


@pytest.fixture(scope="module")
def loaded(fitted, tmp_path_factory):
    path = fitted.config.save(tmp_path_factory.mktemp("config") / "scoring_config.json")
    return ScoringConfig.load(path)


def _criterion(config, name):
    return next(c for c in config.criteria if c.name == name)


def _behaviour_names(fitted):
    return [f.name for f in fitted.behaviour.featurizer.spec_.features]


def test_config_activities_validate_and_round_trip(fitted, loaded):
    body = fitted.config.to_dict()
    jsonschema.validate(body, config_schema())
    activities = body["activities"]
    assert activities["decision_time"] == {"column": "decided_at", "offset_days": 0}
    assert activities["columns"]["detail"] == "detail"
    assert {r["becomes"] for r in activities["detail_rules"]} == {
        "pricing_page_view",
        "careers_page_view",
    }
    assert {d["family"] for d in activities["decay"]} == {
        "content",
        "email",
        "hand-raiser",
        "opt-out",
        "web",
    }
    assert loaded.to_dict() == body
    assert loaded.activity_spec == fitted.behaviour.featurizer.spec_


def test_scoring_from_the_loaded_config_equals_the_scorecard(fitted, loaded, history):
    leads, log = history
    scored = loaded.score(leads, activities=log)
    X = pd.concat([fitted.leads.features, fitted.behaviour.features], axis=1)
    np.testing.assert_array_equal(scored["score"].to_numpy(), fitted.scorecard.predict_score(X))
    assert scored.attrs["warnings"] == ["3 activities belong to leads not in the scored table"]


def test_behaviour_is_implicit_and_role_explicit(fitted):
    names = _behaviour_names(fitted)
    groups = {c.name: c.group for c in fitted.config.criteria}
    assert {groups[n] for n in names} == {"implicit"}
    assert groups["role"] == groups["seniority"] == "explicit"
    sheet = fitted.points_sheet.drop_duplicates("criterion").set_index("criterion")["group"]
    assert set(sheet[names]) == {"implicit"}
    assert sheet["role"] == "explicit"


def test_did_nothing_earns_no_points_in_count_criteria(fitted):
    counts = [f.name for f in fitted.behaviour.featurizer.spec_.features if f.kind == "count"]
    assert "demo_request" in counts
    for name in counts:
        criterion = _criterion(fitted.config, name)
        band = criterion.assign(pd.Series([0.0]))[0]
        assert criterion.bands[band].points == 0, name


def test_a_demo_request_earns_points(fitted):
    criterion = _criterion(fitted.config, "demo_request")
    top = criterion.assign(pd.Series([1.0]))[0]
    assert criterion.bands[top].points > 0


def test_a_job_seeker_loses_points(fitted):
    criterion = _criterion(fitted.config, "careers_page_view")
    assert criterion.bands[criterion.assign(pd.Series([1.0]))[0]].points < 0


def test_an_unsubscribe_loses_points(fitted):
    # About 1.5% of leads unsubscribe, below the 5% share of a numeric band;
    # a rare but telling value still earns a band of its own.
    criterion = _criterion(fitted.config, "unsubscribe")
    assert criterion.bands[criterion.assign(pd.Series([1.0]))[0]].points < 0


def test_unknown_leads_are_reported_by_fit(fitted):
    assert any(
        w.startswith("3 activities belong to 2 lead ids not in the lead table (e.g. ghost-1")
        for w in fitted.warnings
    )
    assert fitted.config.training_data["activities"]["unknown_lead_rows"] == 3
    assert fitted.behaviour.counts["after_decision_rows"] > 0


# --------------------------------------------------------------------------- scoring


@pytest.fixture(scope="module")
def few(history):
    """Forty leads and their log, for scoring."""
    leads, log = history
    leads = leads.iloc[:40].reset_index(drop=True)
    return leads, log[log["lead_id"].isin(leads["lead_id"])].reset_index(drop=True)


def test_a_type_never_seen_in_training_scores_nothing_and_is_listed(loaded, few):
    leads, log = few
    new = make_log(
        [(leads["lead_id"][i], "chat_started", leads["decided_at"][i] - DAY, None) for i in (0, 1)]
    )
    plain = loaded.score(leads, activities=log)
    with_new = loaded.score(leads, activities=pd.concat([log, new], ignore_index=True))
    pd.testing.assert_frame_equal(with_new, plain)
    assert with_new.attrs["warnings"] == [
        "2 activities of types never seen in training scored no points: 'chat_started' (2)"
    ]
    assert plain.attrs["warnings"] == []


def test_a_quiet_lead_with_positive_behaviour_loses_points_over_time(loaded, few):
    leads, _ = few
    lead = leads.iloc[[0]].reset_index(drop=True)
    who, when = lead["lead_id"][0], lead["decided_at"][0]
    engaged = make_log(
        [
            (who, "demo_request", when - DAY, None),
            (who, "form_fill", when - 2 * DAY, None),
            (who, "page_view", when - 2 * DAY, "/pricing"),
            (who, "webinar_attended", when - 3 * DAY, "Webinar: Product tour"),
        ]
    )
    breakdown = loaded.score(lead, activities=engaged, as_of=when, breakdown=True)
    assert breakdown["points_demo_request"][0] > 0
    at_decision = loaded.score(lead, activities=engaged, as_of=when)["score"][0]
    by_default = loaded.score(lead, activities=engaged)["score"][0]
    a_year_on = loaded.score(lead, activities=engaged, as_of=when + 365 * DAY)["score"][0]
    assert at_decision == by_default
    assert a_year_on <= at_decision


def test_scoring_behaviour_without_a_log_fails(loaded, few):
    leads, _ = few
    with pytest.raises(DataError, match=r"this config scores behaviour from an activity log"):
        loaded.score(leads)


def test_scoring_behaviour_without_a_moment_fails(loaded, few):
    leads, log = few
    with pytest.raises(DataError, match=r"needs a moment to score as of.*'decided_at' column"):
        loaded.score(leads.drop(columns="decided_at"), activities=log)


# --------------------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def _invoke(runner, args):
    return runner.invoke(app, [str(a) for a in args])


def _fit_args(folder, *extra):
    return [
        "fit",
        folder / "L.csv",
        "--outcome",
        "converted",
        "--id",
        "lead_id",
        "--activities",
        folder / "A.parquet",
        *extra,
    ]


@pytest.fixture(scope="module")
def cli(runner, tmp_path_factory):
    """Leads and a log made, then fitted, through the command line."""
    root = tmp_path_factory.mktemp("cli")
    made = _invoke(
        runner, ["make-leads", root / "L.csv", "--n", "1500", "--activities", root / "A.parquet"]
    )
    fit = _invoke(runner, _full_fit(root / "L.csv", root / "A.parquet", root / "fit"))
    return {"root": root, "made": made, "fit": fit}


def _full_fit(leads, log, out, *extra):
    """The arguments of the fit of :func:`cli`: detail rules, a combination."""
    rules = [arg for rule in RULES for arg in ("--detail-rule", rule)]
    return [
        "fit",
        leads,
        "--outcome",
        "converted",
        "--id",
        "lead_id",
        "--activities",
        log,
        "--decided-at",
        "decided_at",
        "--activity-detail-col",
        "detail",
        *rules,
        "--combo",
        COMBO,
        "--out",
        out,
        *extra,
    ]


def _assert_one_clear_error(result, pattern):
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    assert re.search(pattern, result.stderr), result.stderr


def test_cli_make_leads_and_fit_with_activities(cli):
    assert cli["made"].exit_code == 0, cli["made"].output
    assert "activities to" in cli["made"].stdout
    assert cli["fit"].exit_code == 0, cli["fit"].output
    config = ScoringConfig.load(cli["root"] / "fit" / "scoring_config.json")
    assert "pricing_page_view" in config.activity_spec.known_types
    assert COMBO in [f.name for f in config.activity_spec.features]


def test_cli_score_as_of(runner, cli):
    root = cli["root"]
    out = root / "scored.csv"
    result = _invoke(
        runner,
        [
            "score",
            root / "fit" / "scoring_config.json",
            root / "L.csv",
            "--out",
            out,
            "--activities",
            root / "A.parquet",
            "--as-of",
            "2026-06-01",
        ],
    )
    assert result.exit_code == 0, result.output
    config = ScoringConfig.load(root / "fit" / "scoring_config.json")
    expected = config.score(root / "L.csv", activities=root / "A.parquet", as_of="2026-06-01")
    scored = pd.read_csv(out)
    np.testing.assert_array_equal(scored["score"].to_numpy(), expected["score"].to_numpy())


def test_cli_score_warns_about_unseen_types(runner, cli):
    root = cli["root"]
    log = pd.read_parquet(root / "A.parquet")
    extra = log.iloc[[0]].assign(activity_type="chat_started")
    pd.concat([log, extra], ignore_index=True).to_parquet(root / "A2.parquet", index=False)
    result = _invoke(
        runner,
        [
            "score",
            root / "fit" / "scoring_config.json",
            root / "L.csv",
            "--out",
            root / "scored2.csv",
            "--activities",
            root / "A2.parquet",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "warning: 1 activities of types never seen in training scored no points: "
        "'chat_started' (1)\n"
    )


def test_cli_decided_at_with_an_offset(runner, cli):
    root = cli["root"]
    result = _invoke(
        runner,
        _fit_args(root, "--decided-at", "decided_at - 7 days", "--no-decay", "--out", root / "o"),
    )
    assert result.exit_code == 0, result.output
    config = ScoringConfig.load(root / "o" / "scoring_config.json")
    assert config.activities["decision_time"] == {"column": "decided_at", "offset_days": 7}
    assert {f.kernel.label for f in config.activity_spec.features if f.kind == "count"} == {
        "no decay"
    }


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        ([], r"needs each lead's decision time: name it with --decided-at"),
        (
            ["--decided-at", "decided_at", "--detail-rule", "nonsense"],
            r"a detail rule reads \[TYPE:\]PATTERN=NEW_TYPE",
        ),
        (
            ["--decided-at", "decided_at", "--family", "demo_request"],
            r"--family takes TYPE=FAMILY, got 'demo_request'",
        ),
    ],
    ids=["no-decided-at", "bad-detail-rule", "bad-family"],
)
def test_cli_fit_bad_activity_options(runner, cli, tmp_path, extra, pattern):
    out = tmp_path / "out"
    result = _invoke(runner, _fit_args(cli["root"], *extra, "--out", out))
    _assert_one_clear_error(result, pattern)
    assert not out.exists()


def test_an_empty_activity_log_scores_no_behaviour(loaded, few, tmp_path):
    leads, log = few
    path = tmp_path / "empty.csv"
    log.iloc[:0].to_csv(path, index=False)
    from_empty = loaded.score(leads, activities=path, breakdown=True)
    from_frame = loaded.score(leads, activities=log.iloc[:0], breakdown=True)
    pd.testing.assert_frame_equal(from_empty, from_frame)
    spec = loaded.activity_spec
    counts = [f"points_{f.name}" for f in spec.features if f.kind == "count"]
    for column in counts:
        # Every count criterion scores its "did nothing" band.
        assert from_empty[column].nunique() == 1


# --------------------------------------------------------------------------- lead ids


def _sheet(path):
    """What a fitted config scores with: criteria and points, base, threshold, levels."""
    body = ScoringConfig.load(path).to_dict()
    return {k: body[k] for k in ("criteria", "score", "threshold", "activities")}


@pytest.fixture(scope="module")
def padded(cli):
    """The lead table and log of :func:`cli`, every id padded (differently on each side)."""
    root = cli["root"]
    lines = (root / "L.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    rows = [" " + line.replace(",", " ,", 1) for line in lines[1:]]
    (root / "P.csv").write_text(lines[0] + "".join(rows), encoding="utf-8")
    log = pd.read_parquet(root / "A.parquet")
    log.assign(lead_id="\t" + log["lead_id"] + "  ").to_parquet(root / "P.parquet", index=False)
    # Written differently: a leading zero on the log's side only.
    log.assign(lead_id="0" + log["lead_id"]).to_parquet(root / "Z.parquet", index=False)
    return root


def test_cli_fit_matches_ids_padded_on_both_sides(runner, cli, padded):
    result = _invoke(runner, _full_fit(padded / "P.csv", padded / "P.parquet", padded / "pfit"))
    assert result.exit_code == 0, result.output
    assert "not in the lead table" not in result.stderr
    got = _sheet(padded / "pfit" / "scoring_config.json")
    assert got == _sheet(cli["root"] / "fit" / "scoring_config.json")


def _score(runner, root, leads, log, out, *extra):
    config = root / "fit" / "scoring_config.json"
    return _invoke(runner, ["score", config, leads, "--activities", log, "--out", out, *extra])


def test_cli_score_matches_ids_padded_on_both_sides(runner, cli, padded):
    plain = _score(runner, padded, padded / "L.csv", padded / "A.parquet", padded / "s1.csv")
    result = _score(runner, padded, padded / "P.csv", padded / "P.parquet", padded / "s2.csv")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.split(";")[0] == plain.stdout.split(";")[0]  # as many MQLs
    first, second = pd.read_csv(padded / "s1.csv"), pd.read_csv(padded / "s2.csv")
    pd.testing.assert_frame_equal(second, first)


def test_cli_score_refuses_a_log_whose_ids_are_written_differently(runner, cli, padded):
    out = padded / "s3.csv"
    result = _score(runner, padded, padded / "L.csv", padded / "Z.parquet", out)
    _assert_one_clear_error(
        result,
        r"error: [\d,]+ of the activity log's [\d,]+ activities belong to none of the 1,500 "
        r"leads scored: their ids \('lead_id'\) look like 'L0000001', 'L0000002', 'L0000003', "
        r"the log's like '0L0000001', '0L0000002', '0L0000003'",
    )
    assert not out.exists()


def test_python_score_refuses_a_log_mostly_of_other_leads(loaded, few, history):
    leads, log = few
    _, everyone = history
    # A few of the log's activities belonging to other leads are listed, not refused.
    some = pd.concat([log, everyone[~everyone["lead_id"].isin(leads["lead_id"])].head(5)])
    assert loaded.score(leads, activities=some).attrs["warnings"] == [
        "5 activities belong to leads not in the scored table"
    ]
    with pytest.raises(DataError, match=r"belong to none of the 40 leads scored"):
        loaded.score(leads, activities=everyone)
    # An empty log is valid: those leads have not acted yet.
    assert loaded.score(leads, activities=log.iloc[:0]).attrs["warnings"] == []


def test_cli_diff_and_report_read_padded_ids_as_score_does(runner, cli, padded, tmp_path):
    import dataclasses

    config = ScoringConfig.load(padded / "fit" / "scoring_config.json")
    other = dataclasses.replace(config, base_points=config.base_points + 5)
    other.save(tmp_path / "other.json")
    old, new = padded / "fit" / "scoring_config.json", tmp_path / "other.json"

    def diff(leads, log):
        return _invoke(runner, ["diff", old, new, "--leads", leads, "--activities", log])

    plain = diff(padded / "L.csv", padded / "A.parquet")
    result = diff(padded / "P.csv", padded / "P.parquet")
    assert result.exit_code == 0, result.output
    assert result.stdout == plain.stdout
    _assert_one_clear_error(
        diff(padded / "L.csv", padded / "Z.parquet"), r"belong to none of the 1,500 leads scored"
    )

    def report(leads, log, out):
        return _invoke(runner, ["report", old, leads, "--activities", log, "--out", out])

    plain = report(padded / "L.csv", padded / "A.parquet", tmp_path / "r1")
    result = report(padded / "P.csv", padded / "P.parquet", tmp_path / "r2")
    assert result.exit_code == 0, result.output
    assert result.stderr == plain.stderr
    assert result.stdout.splitlines()[0] == plain.stdout.splitlines()[0]  # AUC, MQL share
    refused = report(padded / "L.csv", padded / "Z.parquet", tmp_path / "r3")
    _assert_one_clear_error(refused, r"belong to none of the 1,500 leads scored")
    assert not (tmp_path / "r3").exists()


# --------------------------------------------------------------------------- what fit learns from


def test_activity_after_the_decision_teaches_the_featurizer_nothing(featurizer, small):
    # New types, new details and more of the known types, all on or after the
    # decision (or older than the look-back): the same types, features,
    # families, kernels and combinations are learned.
    frame, y, log = small
    won = frame[y].reset_index(drop=True)
    extra = [
        (lead, kind, when + offset, detail)
        for lead, when in zip(won["lead_id"], won["decision_time"], strict=True)
        for offset in (pd.Timedelta(0), SECOND, 3 * DAY)
        for kind, detail in [
            ("post_sale_call", None),
            ("whitepaper_download", "Renewal guide"),
            ("page_view", "/careers/after"),
            ("support_ticket_video", "Onboarding"),
        ]
    ]
    first = zip(won["lead_id"][:3], won["decision_time"][:3], strict=True)
    extra += [(lead, "legacy_fax", when - 1200 * DAY, None) for lead, when in first]
    leaky = pd.concat([log, make_log(extra)], ignore_index=True)
    again = ActivityFeaturizer(
        detail="detail", detail_rules=RULES, combos=[COMBO], random_state=0
    ).fit(frame, y, leaky)
    assert again.spec_ == featurizer.spec_
    pd.testing.assert_frame_equal(again.decay_, featurizer.decay_)
    assert again.left_out_types_ == {
        "legacy_fax": 3,
        "post_sale_call": 3 * len(won),
        "support_ticket_video": 3 * len(won),
    }
    assert featurizer.left_out_types_ == {}
    # A combination of a type seen only after the decisions is refused.
    with pytest.raises(DataError, match=r"combination 'demo_request\+post_sale_call' needs"):
        ActivityFeaturizer(combos=["demo_request+post_sale_call"]).fit(frame, y, leaky)


def _post_sale_calls(leads: pd.DataFrame) -> pd.DataFrame:
    """Eight calls per won lead, all after its decision."""
    won = leads[leads["converted"]]
    return make_log(
        [
            (lead, "post_sale_call", pd.Timestamp(when) + (k + 1) * DAY, None)
            for lead, when in zip(won["lead_id"], won["decided_at"], strict=True)
            for k in range(8)
        ]
    )


def test_cli_types_seen_only_after_the_decision_change_no_point(runner, cli, tmp_path):
    root = cli["root"]
    leads = pd.read_csv(root / "L.csv")
    log = pd.read_parquet(root / "A.parquet")
    extra = _post_sale_calls(leads).astype({"occurred_at": log["occurred_at"].dtype})
    pd.concat([log, extra], ignore_index=True).to_parquet(tmp_path / "A.parquet", index=False)
    result = _invoke(runner, _full_fit(root / "L.csv", tmp_path / "A.parquet", tmp_path / "fit"))
    assert result.exit_code == 0, result.output
    assert _sheet(tmp_path / "fit" / "scoring_config.json") == _sheet(
        root / "fit" / "scoring_config.json"
    )
    assert (
        f"warning: no activity of type(s) 'post_sale_call' ({len(extra):,}) is before the "
        "decision time of a training lead (within the 1,095-day look-back): they are not "
        "criteria"
    ) in " ".join(result.stderr.split())
    # Nor can it be a fast-track rule.
    refused = _invoke(
        runner,
        _full_fit(root / "L.csv", tmp_path / "A.parquet", tmp_path / "ft", "--fast-track",
                  "post_sale_call"),
    )  # fmt: skip
    _assert_one_clear_error(refused, r"fast-track candidate 'post_sale_call' is neither")
    assert not (tmp_path / "ft").exists()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_cli_fit_refuses_an_empty_activity_log(runner, cli, tmp_path, suffix):
    log = pd.read_parquet(cli["root"] / "A.parquet").iloc[:0]
    path = tmp_path / f"empty{suffix}"
    if suffix == ".parquet":
        log.to_parquet(path, index=False)
    else:
        log.to_csv(path, index=False)
    out = tmp_path / "out"
    result = _invoke(runner, _full_fit(cli["root"] / "L.csv", path, out))
    _assert_one_clear_error(
        result,
        r"error: the activity log has no rows \(only the columns 'lead_id', 'activity_type', "
        r"'occurred_at', 'detail'\): there is no behaviour to learn from",
    )
    assert not out.exists()


def test_cli_fit_refuses_a_log_with_nothing_before_the_decisions(runner, cli, tmp_path):
    root = cli["root"]
    leads = pd.read_csv(root / "L.csv", parse_dates=["decided_at"])
    log = pd.read_parquet(root / "A.parquet")
    # Every activity a day after its lead's decision (e.g. a log of the wrong period).
    decided = log["lead_id"].map(leads.set_index("lead_id")["decided_at"])
    late = log.assign(occurred_at=(decided + DAY).astype(log["occurred_at"].dtype))
    late.to_parquet(tmp_path / "late.parquet", index=False)
    out = tmp_path / "out"
    result = _invoke(runner, _full_fit(root / "L.csv", tmp_path / "late.parquet", out))
    first = leads.sort_values("lead_id").iloc[0]
    _assert_one_clear_error(
        result,
        r"error: none of the [\d,]+ activities of the [\d,]+ leads fitted is before its lead's "
        r"decision time and within the 1,095-day look-back \([\d,]+ on or after it, 0 older; "
        f"e.g. lead '{first['lead_id']}' decided {first['decided_at']:%Y-%m-%d %H:%M:%S}, "
        r"activities from .*check the decision time and the log's column 'occurred_at'",
    )
    assert not out.exists()
    # At score time, leads that have not acted yet are valid: an empty log scores.
    empty = tmp_path / "empty.csv"
    log.iloc[:0].to_csv(empty, index=False)
    scored = _score(runner, root, root / "L.csv", empty, tmp_path / "s.csv", "--quiet")
    assert scored.exit_code == 0 and scored.output == ""


def test_a_given_spec_is_computed_as_it_is_and_nothing_is_learned():
    from calibrate.datasets import make_leads
    from calibrate.errors import ParameterError
    from calibrate.learn.behaviour import ActivityFeaturizer

    leads, log = make_leads(1200, seed=2, activities=True)
    frame = pd.DataFrame({"lead_id": leads["lead_id"], "decision_time": leads["decided_at"]})
    learned = ActivityFeaturizer(detail="detail", random_state=0).fit(
        frame, leads["converted"], log
    )
    given = ActivityFeaturizer(spec=learned.spec_).fit(
        frame.iloc[:300], leads["converted"][:300], log
    )
    assert given.spec_ is learned.spec_ and given.decay_.empty
    pd.testing.assert_frame_equal(given.transform(frame), learned.transform(frame))
    with pytest.raises(ParameterError, match="spec"):
        ActivityFeaturizer(spec="not a spec").fit(frame, leads["converted"], log)
