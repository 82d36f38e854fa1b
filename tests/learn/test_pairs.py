"""Pair rules: calibrate.sheet.pairs, calibrate.learn.pairs and LeadScoreModel(max_pairs=...)."""

import numpy as np
import pandas as pd
import pytest
from benchmarks.pairs import planted_leads as planted
from sklearn.metrics import roc_auc_score

from calibrate import LeadBinner, LeadScoreModel, Scorecard
from calibrate.learn.pairs import breaks_order, min_rule_leads, screen_pairs
from calibrate.sheet.criteria import Band, Criterion
from calibrate.sheet.pairs import OTHERWISE, RULE, Condition, PairCriterion

SENIORITY = ("Staff", "Manager", "Director", "VP", "C-level", "Intern")


def flag(name, group="explicit"):
    return Criterion(
        name,
        name,
        "boolean",
        group,
        bands=(
            Band("true", "levels", values=("true",)),
            Band("false", "levels", values=("false",)),
            Band("Other", "other"),
            Band("Missing", "missing"),
        ),
    )


SIZE = Criterion(
    "company_size",
    "company_size",
    "numeric",
    "explicit",
    bands=(
        Band("<50", "range", upper=50.0),
        Band("50 to <500", "range", lower=50.0, upper=500.0),
        Band(">=500", "range", lower=500.0),
        Band("Missing", "missing"),
    ),
)
TITLE = Criterion(
    "seniority",
    "seniority",
    "categorical",
    "explicit",
    bands=(
        Band("VP", "levels", values=("VP",)),
        Band("C-level", "levels", values=("C-level",)),
        Band("Staff", "levels", values=("Staff",)),
        Band("Other", "other"),
        Band("Missing", "missing"),
    ),
)


# --------------------------------------------------------------------------- the vocabulary


@pytest.mark.parametrize(
    ("bands", "label"),
    [
        ((2,), "company_size >= 500"),
        ((0,), "company_size < 50"),
        ((1,), "company_size 50 to <500"),
        ((1, 2), "company_size >= 50"),
        ((1, 2, 3), "company_size >= 50 or missing"),
        ((3,), "company_size missing"),
        ((0, 1, 2), "company_size known"),
    ],
)
def test_a_numeric_condition_reads_as_a_range(bands, label):
    assert Condition(SIZE, bands).label == label


def test_a_categorical_condition_names_its_levels_or_the_fewer_it_leaves_out():
    assert Condition(TITLE, (0, 1)).label == "seniority in VP|C-level"
    assert Condition(TITLE, (0, 1, 3, 4)).label == "seniority not in Staff"


@pytest.mark.parametrize("bands", [(), (0, 0), (5,), (0, 1, 2, 3)])
def test_a_condition_needs_distinct_bands_of_its_criterion_but_not_all(bands):
    with pytest.raises(ValueError, match="company_size"):
        Condition(SIZE, bands)


def test_a_pair_assigns_the_rule_cell_only_when_both_conditions_hold():
    pair = PairCriterion.of(Condition(TITLE, (0, 1)), Condition(SIZE, (2,)))
    frame = pd.DataFrame(
        {
            "seniority": ["VP", "C-level", "VP", "Staff", None, "Owner"],
            "company_size": [900, 500, 499, 900, 900, None],
        }
    )
    assert pair.assign(frame).tolist() == [RULE, RULE, OTHERWISE, OTHERWISE, OTHERWISE, OTHERWISE]
    assert pair.name == "seniority & company_size"
    assert pair.columns == ("seniority", "company_size")


def test_a_pair_of_fit_and_behaviour_is_engagement():
    webinar = Condition(flag("webinar", "implicit"), (0,))
    pair = PairCriterion.of(Condition(flag("senior"), (0,)), webinar)
    assert pair.group == "implicit"
    both = PairCriterion.of(Condition(flag("senior"), (0,)), Condition(flag("large"), (0,)))
    assert both.group == "explicit"


def test_a_pair_survives_its_plain_mapping():
    pair = PairCriterion.of(Condition(TITLE, (0, 1)), Condition(SIZE, (2, 3))).with_points([12, 0])
    again = PairCriterion.from_dict(pair.to_dict())
    assert again == pair
    assert [c.points for c in again.cells] == [12, 0]


def test_a_pair_of_one_criterion_twice_is_refused():
    with pytest.raises(ValueError, match="two criteria"):
        PairCriterion.of(Condition(SIZE, (0,)), Condition(SIZE, (2,)))


# --------------------------------------------------------------------------- the screen


def test_the_screen_finds_the_planted_rule_with_its_exact_conditions():
    rng = np.random.default_rng(1)
    n = 6000
    title = rng.integers(0, 3, n)  # VP, C-level, Staff
    size = rng.integers(0, 3, n)  # <50, 50 to <500, >=500
    rule = (title <= 1) & (size == 2)
    y = (rng.random(n) < np.where(rule, 0.45, 0.12)).astype(float)
    # An additive model's log-odds would fit the margins; a flat one is enough here.
    eta = np.full(n, np.log(y.mean() / (1 - y.mean())))
    found = screen_pairs(np.column_stack([title, size]), [TITLE, SIZE], y, eta, np.ones(n),
                         min_leads=30)  # fmt: skip
    gain, pair = found[0]
    assert pair.cells[0].label == "seniority in VP|C-level and company_size >= 500"
    assert gain > 0


def test_the_screen_orders_a_categorical_side_against_the_other_split():
    # The rule takes two of six levels, which win less than average on
    # their own (an order by the levels' own rate would not put them together).
    rng = np.random.default_rng(2)
    n = 12000
    level = rng.integers(0, 6, n)
    size = rng.integers(0, 3, n)
    own = np.array([0.3, -0.6, 0.2, -0.6, 0.1, 0.0])[level]
    eta = -1.5 + own + 1.5 * (np.isin(level, [1, 3]) & (size == 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    letters = Criterion("letter", "letter", "categorical", "explicit", bands=(
        *(Band(x, "levels", values=(x,)) for x in "ABCDEF"), Band("Other", "other"),
        Band("Missing", "missing")))  # fmt: skip
    flat = np.full(n, np.log(y.mean() / (1 - y.mean())))
    _, pair = screen_pairs(np.column_stack([level, size]), [letters, SIZE], y, flat, np.ones(n),
                           min_leads=30)[0]  # fmt: skip
    assert pair.first.bands == (1, 3)
    assert pair.second.bands == (2,)


def test_the_screen_leaves_out_rules_of_too_few_leads_and_those_already_held():
    rng = np.random.default_rng(3)
    n = 2000
    codes = np.column_stack([rng.integers(0, 2, n), rng.integers(0, 2, n)])
    y = (rng.random(n) < 0.2).astype(float)
    eta = np.zeros(n)
    assert screen_pairs(codes, [flag("a"), flag("b")], y, eta, np.ones(n), min_leads=n) == []
    (_, pair), *_ = screen_pairs(codes, [flag("a"), flag("b")], y, eta, np.ones(n), min_leads=30)
    rest = screen_pairs(codes, [flag("a"), flag("b")], y, eta, np.ones(n), min_leads=30,
                        exclude=[pair])  # fmt: skip
    assert all(p.cells[0].label != pair.cells[0].label for _, p in rest)


def test_a_rule_needs_thirty_leads_or_a_fifth_of_a_percent():
    assert min_rule_leads(1000) == 30
    assert min_rule_leads(1_000_000) == 2000


def test_breaks_order_sees_only_the_bands_the_rule_holds_for():
    weights = np.array([0.0, 0.5, 1.0, 9.0])  # the last band (missing) has no order
    assert not breaks_order(weights, [0, 1, 2], "increasing", {1, 2}, -0.4)
    assert breaks_order(weights, [0, 1, 2], "increasing", {1, 2}, -0.6)
    assert breaks_order(weights, [0, 1, 2], "decreasing", set(), 0.0)


# --------------------------------------------------------------------------- the model


def binner():
    return LeadBinner(max_bins=4)


def test_without_pairs_the_model_is_the_additive_one():
    X, y = planted(3000, 0)
    model = LeadScoreModel(binner=binner(), random_state=0).fit(X, y)
    assert model.pairs_ == [] and model.pair_search_.empty
    assert model.criteria_ == model.binner_.criteria_
    assert len(model.coef_) == model.band_offsets()[-1]


def test_the_planted_pair_is_kept_and_wins_on_new_leads():
    X, y = planted(8000, 0)
    Xt, yt = planted(8000, 1)
    plain = LeadScoreModel(binner=binner(), random_state=0).fit(X, y)
    paired = LeadScoreModel(binner=binner(), random_state=0, max_pairs=3).fit(X, y)
    first = paired.pairs_[0]
    assert {c.column for c in first.criteria} == {"seniority", "company_size"}
    label = first.cells[0].label
    assert "VP" in label and "C-level" in label and "company_size >=" in label
    kept = paired.pair_search_[paired.pair_search_["kept"]]
    assert len(kept) == len(paired.pairs_) >= 1
    assert (kept["cv_log_loss"] < kept["log_loss_before"] * (1 - paired.pair_margin)).all()
    gain = roc_auc_score(yt, paired.decision_function(Xt)) - roc_auc_score(
        yt, plain.decision_function(Xt)
    )
    assert gain > 0.003
    # The codes the model fits on are those it encodes new leads with.
    assert paired.encode(X).shape[1] == len(paired.criteria_)


def test_additive_leads_get_no_pair():
    X, y = planted(6000, 4, interaction=0.0)
    model = LeadScoreModel(binner=binner(), random_state=0, max_pairs=3).fit(X, y)
    assert model.pairs_ == []
    assert not model.pair_search_.empty and not model.pair_search_["kept"].any()


def test_beyond_the_search_sample_the_rules_are_found_there_and_fitted_on_every_lead(
    monkeypatch,
):
    from calibrate.learn import pairs

    monkeypatch.setattr(pairs, "SEARCH_LEADS", 5000)
    X, y = planted(12000, 0)
    model = LeadScoreModel(binner=binner(), random_state=0, max_pairs=2, max_cv_leads=3000)
    model.fit(X, y)
    assert any({c.column for c in p.criteria} == {"seniority", "company_size"}
               for p in model.pairs_)  # fmt: skip
    # The weights are the optimum on all 12,000 leads, not on the sample: a
    # refit on every lead from them does not move them.
    coef, intercept = model.fit_codes(model.encode(X), y)
    np.testing.assert_allclose(coef, model.coef_, atol=1e-6)
    assert intercept == pytest.approx(model.intercept_, abs=1e-6)


def test_a_candidate_whose_screen_gain_cannot_reach_the_margin_is_not_judged(monkeypatch):
    from calibrate.learn import pairs

    X, y = planted(6000, 4, interaction=0.0)
    judged = LeadScoreModel(binner=binner(), random_state=0, max_pairs=3).fit(X, y)
    assert not judged.pair_search_.empty
    # Raise the bar above every gain seen: nothing is judged, nothing kept.
    gains = judged.pair_search_["gain"] / (2 * len(y))
    ratio = float((gains / (judged.pair_margin * judged.pair_search_["log_loss_before"])).max())
    monkeypatch.setattr(pairs, "GATE", 1.2 * ratio)
    gated = LeadScoreModel(binner=binner(), random_state=0, max_pairs=3).fit(X, y)
    assert gated.pair_search_.empty and gated.pairs_ == []
    np.testing.assert_allclose(gated.coef_, judged.coef_)


def test_a_pair_that_would_break_a_monotone_order_is_not_kept():
    # Large firms win more, except for interns there, who win much less: a
    # rule "large and intern: -" would make company size fall where it holds.
    rng = np.random.default_rng(5)
    n = 10000
    X = pd.DataFrame({"seniority": rng.choice(SENIORITY, n),
                      "company_size": np.round(rng.lognormal(5, 1.5, n))})  # fmt: skip
    large = X["company_size"].to_numpy() >= 500
    intern = X["seniority"].to_numpy() == "Intern"
    eta = -2.0 + 0.4 * large - 2.5 * (large & intern)
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    free = LeadScoreModel(binner=binner(), random_state=0, max_pairs=1).fit(X, y)
    assert free.pairs_, "without the order the interns' rule is kept"
    bound = LeadScoreModel(binner=binner(), random_state=0, max_pairs=1,
                           monotone={"company_size": "increasing"}).fit(X, y)  # fmt: skip
    offsets = bound.band_offsets()
    size = next(k for k, c in enumerate(bound.binner_.criteria_) if c.name == "company_size")
    order = bound.ordered_bands("company_size")
    for k, pair in enumerate(bound.pairs_):
        block = offsets[len(bound.binner_.criteria_) + k]
        step = bound.coef_[block] - bound.coef_[block + 1]
        for condition in (pair.first, pair.second):
            if condition.criterion.name == "company_size":
                weights = bound.coef_[offsets[size] : offsets[size + 1]]
                assert not breaks_order(weights, order, "increasing", set(condition.bands), step)
    judged = bound.pair_search_
    assert judged["cv_log_loss"].isna().any(), "the rule breaking the order is judged and refused"


def test_the_points_sheet_scores_pairs_as_their_cells_say():
    X, y = planted(6000, 0)
    model = LeadScoreModel(binner=binner(), random_state=0, max_pairs=2)
    card = Scorecard(model=model, n_bootstrap=20, random_state=0).fit(X, y)
    assert card.model_.pairs_
    pairs = [c for c in card.criteria_ if isinstance(c, PairCriterion)]
    assert len(pairs) == len(card.model_.pairs_)
    # "otherwise" earns 0: the rule's points are what it adds.
    assert all(p.cells[OTHERWISE].points == 0 and p.cells[RULE].points != 0 for p in pairs)
    # The sheet's score is the base plus every criterion's points, read from
    # the criteria alone (what a scorer of the exported sheet does).
    total = np.full(len(X), card.base_points_)
    for c in card.criteria_:
        cells = c.assign(X) if isinstance(c, PairCriterion) else c.assign(X[c.column])
        total += np.array([b.points for b in c.bands])[cells]
    np.testing.assert_array_equal(np.clip(total, 0, 100), card.predict_score(X))
    rows = card.points_[card.points_["criterion"].isin([p.name for p in pairs])]
    assert len(rows) == 2 * len(pairs)
    assert rows["points_low"].notna().all() and rows["points_high"].notna().all()
    assert set(rows["band"]) >= {"otherwise"}


# --------------------------------------------------------------------------- through the fit


@pytest.fixture(scope="module")
def paired_fit():
    import calibrate

    X, y = planted(6000, 0)
    frame = X.assign(won=y, lead_id=np.arange(len(X)))
    plain = calibrate.fit(frame, outcome="won", id="lead_id", bootstrap=0, max_pairs=0)
    paired = calibrate.fit(frame, outcome="won", id="lead_id", bootstrap=0, max_pairs=2)
    return frame, plain, paired


def test_a_fit_with_pairs_exports_them_and_every_scorer_agrees(paired_fit):
    import duckdb

    from calibrate.production.rules import diff_configs, rule_sheet
    from calibrate.production.sql_export import scoring_sql

    frame, plain, paired = paired_fit
    config = paired.config
    pairs = [c for c in config.criteria if isinstance(c, PairCriterion)]
    assert pairs and config.to_dict()["schema_version"] == "1.2"
    assert plain.config.to_dict()["schema_version"] == "1.1"
    assert paired.metrics["holdout_auc_points"] > plain.metrics["holdout_auc_points"]
    # The config alone scores every lead as the fitted sheet does.
    scored = config.score(frame, breakdown=True)
    features = frame.drop(columns=["won", "lead_id"])
    np.testing.assert_array_equal(scored["score"], paired.scorecard.predict_score(features))
    # And so does the exported SQL.
    con = duckdb.connect()
    con.register("leads", frame)
    got = con.execute(scoring_sql(config, leads_table="leads")).df()
    np.testing.assert_array_equal(got["score"].to_numpy(), scored["score"].to_numpy())
    name = pairs[0].name
    np.testing.assert_array_equal(got[f"points_{name}"], scored[f"points_{name}"])
    # The rule sheet and the diff name the pair.
    sheet = rule_sheet(config)
    assert (sheet["criterion"] == name).sum() == 2
    assert name in diff_configs(plain.config, config)["added"]


def test_two_rules_on_the_same_two_criteria_get_their_own_names_everywhere():
    import duckdb

    import calibrate
    from calibrate.production.sql_export import scoring_sql

    X, y = planted(12000, 0)
    # A second effect on the same two criteria: juniors at small firms win too.
    second = (X["seniority"].isin(["Staff", "Intern"]) & (X["company_size"] < 50)).to_numpy()
    y = np.where(second, np.random.default_rng(5).random(len(y)) < 0.35, y)
    frame = X.assign(won=y, lead_id=np.arange(len(X)))
    fit = calibrate.fit(frame, outcome="won", id="lead_id", bootstrap=0, max_pairs=3)
    names = [c.name for c in fit.config.criteria if c.kind == "pair"]
    assert names[:2] == ["seniority & company_size", "seniority & company_size (2)"]
    assert list(fit.scorecard.model_.pair_search_.query("kept")["pair"])[:2] == names[:2]
    con = duckdb.connect()
    con.register("leads", frame)
    got = con.execute(scoring_sql(fit.config, leads_table="leads")).df()
    scored = fit.config.score(frame, breakdown=True)
    for name in names:
        np.testing.assert_array_equal(got[f"points_{name}"], scored[f"points_{name}"])
    np.testing.assert_array_equal(got["score"], scored["score"])


def test_cli_fit_takes_max_pairs(paired_fit, tmp_path):
    import json

    from typer.testing import CliRunner

    from calibrate.cli import app

    frame, _, paired = paired_fit
    frame.to_csv(tmp_path / "leads.csv", index=False)
    result = CliRunner().invoke(app, ["fit", str(tmp_path / "leads.csv"), "--outcome", "won",
                                      "--id", "lead_id", "--bootstrap", "0", "--max-pairs", "2",
                                      "--out", str(tmp_path / "fit"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "fit" / "scoring_config.json").read_text())
    kinds = [c.get("kind") for c in data["criteria"]]
    assert data["schema_version"] == "1.2" and "pair" in kinds
    assert (tmp_path / "fit" / "report.html").exists()


def test_a_config_with_pairs_is_monitored_and_reported_on_labelled_leads(paired_fit):
    import calibrate
    from calibrate.report import Report

    frame, _, paired = paired_fit
    name = next(c.name for c in paired.config.criteria if isinstance(c, PairCriterion))
    watched = calibrate.monitor(paired.config, frame, outcome="won")
    row = next(r for r in watched.overall["criteria"] if r["name"] == name)
    assert row["column"] == "seniority, company_size" and row["psi"] is not None
    report = Report.from_config(paired.config, frame, outcome="won")
    assert name.replace("&", "&amp;") in report.html


def test_a_refit_that_keeps_the_structure_keeps_the_pair_rules_and_moves_their_points(
    paired_fit,
):
    import calibrate

    _, _, paired = paired_fit
    # Newer leads whose pair effect is stronger: the rule stays, its points rise.
    X, y = planted(6000, 7, interaction=2.4)
    newer = X.assign(won=y, lead_id=np.arange(len(X)))
    refit = calibrate.fit(newer, outcome="won", id="lead_id", bootstrap=0,
                          keep_structure=paired.config).config  # fmt: skip
    old_pairs = [c for c in paired.config.criteria if c.kind == "pair"]
    new_pairs = [c for c in refit.criteria if c.kind == "pair"]
    assert [p.name for p in new_pairs] == [p.name for p in old_pairs]
    for before, after in zip(old_pairs, new_pairs, strict=True):
        assert [c.label for c in after.cells] == [c.label for c in before.cells]
        assert after.first.bands == before.first.bands
        assert after.second.bands == before.second.bands
    assert new_pairs[0].cells[RULE].points > old_pairs[0].cells[RULE].points
    assert calibrate.diff_configs(paired.config, refit)["added"] == []


def test_a_given_pair_whose_criterion_has_other_bands_is_named():
    from calibrate.errors import DataError

    X, y = planted(3000, 0)
    pair = PairCriterion.of(Condition(TITLE, (0, 1)), Condition(SIZE, (2,)))
    model = LeadScoreModel(binner=binner(), pairs=[pair], random_state=0)
    with pytest.raises(DataError, match=r"pair rule 'seniority & company_size' reads criterion "
                                        r"'seniority' with bands .*the binner gives"):  # fmt: skip
        model.fit(X, y)


def test_given_pairs_are_fitted_as_they_are_without_a_search():
    X, y = planted(6000, 0)
    found = LeadScoreModel(binner=binner(), random_state=0, max_pairs=1).fit(X, y)
    kept = {c.column: c for c in found.binner_.criteria_}
    given = LeadScoreModel(binner=LeadBinner(fixed=kept), pairs=found.pairs_, random_state=0)
    given.fit(X, y)
    assert given.pairs_ == found.pairs_ and given.pair_search_.empty
    np.testing.assert_allclose(given.decision_function(X), found.decision_function(X),
                               atol=1e-5)  # fmt: skip


def test_the_report_shows_each_pair_as_a_table_of_its_four_cells(paired_fit):
    from calibrate.report import Report

    frame, plain, paired = paired_fit
    report = Report.from_fit(paired)
    pair = next(c for c in paired.scorecard.criteria_ if isinstance(c, PairCriterion))
    table = next(t for t in report.summary["pairs"] if t["name"] == pair.name)
    held = paired.holdout.X
    in_rule = pair.assign(held) == RULE
    cells = [cell for row in table["rows"] for cell in row["cells"]]
    assert cells[0]["leads"] == int(in_rule.sum()) and sum(c["leads"] for c in cells) == len(held)
    assert cells[0]["points"] == pair.cells[RULE].points != 0
    assert [c["points"] for c in cells[1:]] == [0, 0, 0]
    assert table["measured_on"] == "hold-out leads"
    assert "Pair rules: two criteria together" in report.html
    assert "pairs" not in Report.from_fit(plain).summary


def test_a_sheet_with_pairs_is_compared_with_the_sheet_in_use_today(paired_fit, tmp_path):
    import calibrate

    frame, _, _ = paired_fit
    today = tmp_path / "today.yaml"
    today.write_text(
        "threshold: 20\nrules:\n  - column: seniority\n    in: [VP, C-level]\n    points: 20\n"
    )
    result = calibrate.fit(frame, outcome="won", id="lead_id", bootstrap=0, max_pairs=2,
                           current_sheet=today)  # fmt: skip
    assert any(isinstance(c, PairCriterion) for c in result.config.criteria)
    calibrated = result.comparison["calibrated"]
    assert calibrated["auc"] == pytest.approx(result.metrics["holdout_auc_points"])


def test_on_new_leads_with_a_planted_rule_the_sheet_with_pairs_beats_gradient_boosting():
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = planted(10000, 1)
    Xt, yt = planted(20000, 101)

    def sheet(max_pairs):
        model = LeadScoreModel(binner=LeadBinner(max_bins=5), random_state=0, max_pairs=max_pairs)
        return Scorecard(model=model, random_state=0).fit(X, y)

    paired, plain = sheet(3), sheet(0)

    def typed(frame):
        return frame.astype({"seniority": "category", "region": "category"})

    gbm = HistGradientBoostingClassifier(random_state=0, categorical_features="from_dtype")
    gbm.fit(typed(X), y)
    auc = {
        "paired": roc_auc_score(yt, paired.predict_score(Xt)),
        "plain": roc_auc_score(yt, plain.predict_score(Xt)),
        "gbm": roc_auc_score(yt, gbm.predict_proba(typed(Xt))[:, 1]),
    }
    assert auc["paired"] > auc["plain"] + 0.005, auc
    assert auc["paired"] > auc["gbm"], auc
    rule = paired.model_.pairs_[0].cells[RULE].label
    assert rule.startswith("seniority in ") and "company_size >= " in rule
    titles = rule.split(" and ")[0].removeprefix("seniority in ")
    assert set(titles.split("|")) == {"VP", "C-level"}
