"""Tests for calibrate.production.rules: the rule sheet, its text formats and config diffs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from calibrate.errors import ParameterError
from calibrate.production.config import ScoringConfig
from calibrate.production.reasons import band_reasons
from calibrate.production.rules import (
    band_words,
    diff_configs,
    pair_words,
    render_rules,
    rule_sheet,
)
from calibrate.sheet.activity import ActivitySpec
from calibrate.sheet.criteria import Band, Criterion
from calibrate.sheet.feature import ActivityFeature, Kernel

MANUAL = {"policy": {"name": "manual"}}


def _config(criteria, mql=40, base_points=10, **threshold):
    return ScoringConfig(
        criteria=tuple(criteria),
        base_points=base_points,
        threshold={"mql": mql, **MANUAL, **threshold},
        id_column="lead_id",
    )


SIZE = Criterion("size", "company_size", "numeric", "explicit", bands=(
    Band("<10", "range", upper=10.0, points=5),
    Band("10 to <1,000", "range", lower=10.0, upper=1000.0, points=20),
    Band(">=1,000", "range", lower=1000.0, points=60),
    Band("Missing", "missing", points=-5)))  # fmt: skip
TITLE = Criterion("title", "title", "categorical", "explicit", bands=(
    Band("VP", "levels", values=("VP", "Vice President"), points=50),
    Band("CEO", "levels", values=("CEO",), points=30),
    Band("Other", "other", points=10),
    Band("Missing", "missing", points=-40)))  # fmt: skip
OPTED_IN = Criterion("opted_in", "opted_in", "boolean", "explicit", bands=(
    Band("yes", "levels", values=("true",), points=8),
    Band("no", "levels", values=("false",), points=0),
    Band("Missing", "missing", points=0)))  # fmt: skip


# --- the rule sheet ----------------------------------------------------------------


def test_rule_sheet_states_every_band_kind_in_words():
    sheet = rule_sheet(_config([SIZE, TITLE, OPTED_IN], mql=45))
    assert list(sheet.columns) == ["criterion", "group", "condition", "points", "in_practice"]
    assert sheet["condition"].tolist() == [
        "starting points",
        "company_size < 10",
        "company_size >= 10 and company_size < 1000",  # no thousands separator to type
        "company_size >= 1000",
        "company_size is empty",
        "title is one of 'VP', 'Vice President'",
        "title = 'CEO'",
        "title is any other value (not 'VP', 'Vice President', 'CEO')",
        "title is empty",
        "opted_in is true",
        "opted_in is false",
        "opted_in is empty",
        "score >= 45 (score kept in 0-100)",
    ]
    assert sheet["points"].tolist() == [
        "10", "5", "20", "60", "-5", "50", "30", "10", "-40", "8", "0", "0", "threshold",
    ]  # fmt: skip
    assert set(sheet["group"].iloc[1:-1]) == {"fit"}
    assert set(sheet["in_practice"]) == {""}  # no activity features, nothing to translate


def test_rule_sheet_lists_fast_track_rules_after_the_threshold():
    fast = [
        {"kind": "activity", "activity_type": "demo_request", "within_days": 14},
        {"kind": "field", "column": "contact_me", "equals": "yes"},
    ]
    web = Criterion("web", "web", "numeric", "implicit", bands=(
        Band("<1", "range", upper=1.0, points=0),
        Band(">=1", "range", lower=1.0, points=10),
        Band("Missing", "missing", points=0)))  # fmt: skip
    feature = ActivityFeature("web", "count", ("demo_request",), kernel=Kernel("window", 30.0))
    sheet = rule_sheet(_activity_config(feature, web, fast_track=fast, mql=40))
    tail = sheet.iloc[-3:][["criterion", "condition", "points"]].values.tolist()
    assert tail == [
        ["(MQL)", "score >= 40 (score kept in 0-100)", "threshold"],
        ["(fast-track)", "demo_request in the last 14 days", "MQL"],
        ["(fast-track)", "contact_me is yes", "MQL"],
    ]


def _activity_config(feature, crit, mql=10, **threshold):
    spec = ActivitySpec(features=(feature,), known_types=feature.types)
    return ScoringConfig(
        criteria=(crit,), base_points=0, id_column="id",
        threshold={"mql": mql, **MANUAL, **threshold},
        activities={**spec.to_dict(), "decision_time": {"column": "at", "offset_days": 0}},
    )  # fmt: skip


@pytest.mark.parametrize("bound", [0.3, 0.5, 1.0, 1.7, 2.4])
def test_rule_sheet_in_practice_is_exact_for_decayed_counts(bound):
    """n activities inside the stated window reach the band; one day older they do not."""
    kernel = Kernel("decay", 21.0)
    crit = Criterion("web", "web", "numeric", "implicit", bands=(
        Band("low", "range", upper=bound, points=0),
        Band("high", "range", lower=bound, points=10),
        Band("Missing", "missing", points=0)))  # fmt: skip
    feature = ActivityFeature("web", "count", ("page_view",), kernel=kernel)
    text = rule_sheet(_activity_config(feature, crit))["in_practice"].iloc[2]
    n, days = map(int, re.fullmatch(r"(\d+)\+ page_view in the last (\d+) days", text).groups())
    weight = kernel.weights(np.array([days - 1, days]))
    assert n * weight[0] / 1000 >= bound > n * weight[1] / 1000
    assert (n - 1) * 1.0 < bound or n == 1


def test_rule_sheet_of_distinct_weeks():
    """The new kind on the sheet and the rule sheet: weeks of the last 90 days, in words."""
    crit = Criterion("weeks", "weeks", "numeric", "implicit", bands=(
        Band("0-2", "range", upper=3.0, points=0),
        Band("3+", "range", lower=3.0, points=12),
        Band("Missing", "missing", points=0)))  # fmt: skip
    feature = ActivityFeature("weeks", "distinct_weeks", ("page_view",), window_days=90)
    config = _activity_config(feature, crit)
    sheet = rule_sheet(config)
    assert sheet["group"].iloc[1] == "engagement"
    assert sheet["condition"].iloc[2] == "weeks [weeks with page_view in the last 90 days] >= 3"
    assert sheet["in_practice"].tolist()[1:3] == [
        "not (active in 3+ different weeks in the last 90 days)",
        "active in 3+ different weeks in the last 90 days",
    ]
    assert ScoringConfig.from_dict(config.to_dict()).activity_spec.features == (feature,)


# --- bands in words ------------------------------------------------------------------


def _words(feature, bounds, kind="numeric"):
    """Every band's words for a criterion on ``feature`` cut at ``bounds``, Missing last."""
    edges = [None, *bounds, None]
    bands = [Band(f"b{i}", "range", lower=lo, upper=hi, points=i)
             for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True))]  # fmt: skip
    crit = Criterion(feature.name, feature.name, kind, "implicit",
                     bands=(*bands, Band("Missing", "missing", points=3)))  # fmt: skip
    spec = _activity_config(feature, crit).activity_spec
    return [band_words(crit, b, spec) for b in crit.bands], band_reasons(crit, spec)


def test_band_words_of_an_undecayed_count_give_both_ends_of_a_middle_band():
    feature = ActivityFeature("clicks", "count", ("email_click",), kernel=Kernel("all"))
    words, reasons = _words(feature, [2.0, 8.0])
    assert words == [
        "fewer than 2 email_click in the last 1095 days",
        "2 to 7 email_click in the last 1095 days",
        "8+ email_click in the last 1095 days",
        "not known",
    ]
    # 0 points gives no reason; the missing band names its criterion.
    assert reasons == [None, f"{words[1]} +1", f"{words[2]} +2", "clicks not known +3"]


def test_band_words_of_a_decayed_count_name_the_window_each_end_needs():
    """Half-life 30 days: one demo request reaches 0.5 within 31 days, two reach 1.2 in 23.

    More older requests reach a band too, so its lower end reads "as much as";
    its upper end ("fewer than") holds for every lead below it.
    """
    feature = ActivityFeature("demo", "count", ("demo_request",), kernel=Kernel("decay", 30.0))
    words, _ = _words(feature, [0.5, 1.2])
    assert words[:3] == [
        "no demo_request in the last 31 days",
        "as much demo_request as 1 in the last 31 days, fewer than 2 in the last 23 days",
        "as much demo_request as 2 in the last 23 days",
    ]
    # Both ends one request, in two windows: the upper end says "none".
    assert _words(feature, [0.5, 0.9])[0][1] == (
        "as much demo_request as 1 in the last 31 days, none in the last 5 days"
    )


def test_band_words_of_active_days_recency_and_a_combination():
    active = ActivityFeature("active", "active_days", ("page_view",), window_days=30)
    assert _words(active, [1.0, 2.0, 7.0])[0][:4] == [
        "active on no days of the last 30",
        "active on 1 day of the last 30",
        "active on 2 to 6 days of the last 30",
        "active on 7+ days of the last 30",
    ]
    recency = ActivityFeature("recency", "recency")
    assert _words(recency, [5.0, 10.0])[0][:3] == [
        "latest activity in the last 5 days",
        "latest activity 5 to 9 days ago",
        "latest activity 10+ days ago",
    ]
    both = ActivityFeature("both", "all_of", ("whitepaper", "case_study"))
    crit = Criterion("both", "both", "boolean", "implicit", bands=(
        Band("True", "levels", values=("true",), points=6),
        Band("False", "levels", values=("false",), points=0),
        Band("Missing", "missing", points=0)))  # fmt: skip
    spec = _activity_config(both, crit).activity_spec
    assert [band_words(crit, b, spec) for b in crit.bands] == [
        "did all of: whitepaper, case_study",
        "not (did all of: whitepaper, case_study)",
        "not known",
    ]


def test_a_pair_on_activity_reads_in_band_words_and_its_reasons_too():
    from calibrate.sheet.pairs import Cell, Condition, PairCriterion

    feature = ActivityFeature("demo", "count", ("demo_request",), kernel=Kernel("decay", 30.0))
    demo = Criterion("demo", "demo", "numeric", "implicit", bands=(
        Band("<0.5", "range", upper=0.5, points=0), Band(">=0.5", "range", lower=0.5, points=9),
        Band("Missing", "missing", points=0)))  # fmt: skip
    cells = (Cell("rule", "rule", points=7), Cell("otherwise", "otherwise", points=0))
    pair = PairCriterion(
        "demo & title", Condition(demo, (1, 2)), Condition(TITLE, (0, 1)), "implicit", cells
    )
    spec = _activity_config(feature, demo).activity_spec
    words = (
        "(as much demo_request as 1 in the last 31 days or demo not known)"
        " and (title in VP or CEO)"
    )
    assert pair_words(pair, spec) == words
    assert band_reasons(pair, spec) == [f"{words} +7", None]


def test_band_words_keep_the_label_of_a_fit_band_and_without_a_spec():
    assert [band_words(SIZE, b) for b in SIZE.bands] == [b.label for b in SIZE.bands]
    assert band_reasons(TITLE)[:2] == ["title VP +50", "title CEO +30"]


# --- text formats ------------------------------------------------------------------


def test_render_rules_csv_reads_back_as_the_sheet():
    import io

    import pandas as pd

    sheet = rule_sheet(_config([SIZE, TITLE]))
    text = render_rules(sheet, "csv")
    assert "\r" not in text
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(back, sheet)


def test_render_rules_html_escapes_values():
    crit = Criterion("<script>", "t", "categorical", "explicit", bands=(
        Band("a&b", "levels", values=("a&b",), points=1),
        Band("Other", "other", points=0),
        Band("Missing", "missing", points=0)))  # fmt: skip
    page = render_rules(rule_sheet(_config([crit])), "html")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "t = 'a&amp;b'" in page


def test_render_rules_refuses_an_unknown_format():
    with pytest.raises(
        ParameterError, match="rules format must be csv, markdown or html; got 'pdf'"
    ):
        render_rules(rule_sheet(_config([SIZE])), "pdf")


# --- diffs -------------------------------------------------------------------------


def test_diff_of_a_config_with_itself_is_empty():
    config = _config([SIZE, TITLE])
    assert diff_configs(config, config) == {"added": [], "removed": [], "changed": {}}


def test_diff_names_added_removed_and_changed_bands_and_the_threshold():
    wider = Criterion("size", "company_size", "numeric", "explicit", bands=(
        Band("<10", "range", upper=10.0, points=5),
        Band(">=10", "range", lower=10.0, points=25),
        Band("Missing", "missing", points=-5)))  # fmt: skip
    old = _config([SIZE, TITLE], mql=40, base_points=10)
    new = _config([wider, OPTED_IN], mql=50, base_points=12)
    diff = diff_configs(old, new)
    assert diff["added"] == ["opted_in"] and diff["removed"] == ["title"]
    assert diff["changed"] == {
        "size": [("10 to <1,000", 20, None), (">=1,000", 60, None), (">=10", None, 25)]
    }
    assert diff["base_points"] == (10, 12) and diff["threshold"] == (40, 50)
    assert "levels" not in diff


def test_diff_says_an_engagement_band_in_words():
    feature = ActivityFeature("demo", "count", ("demo_request",), kernel=Kernel("decay", 30.0))

    def demo(points):
        return Criterion("demo", "demo", "numeric", "implicit", bands=(
            Band("<0.5", "range", upper=0.5, points=0),
            Band(">=0.5", "range", lower=0.5, points=points),
            Band("Missing", "missing", points=0)))  # fmt: skip

    old, new = (_activity_config(feature, demo(p)) for p in (10, 16))
    assert diff_configs(old, new)["changed"] == {
        "demo": [("as much demo_request as 1 in the last 31 days", 10, 16)]
    }


def test_diff_names_moved_levels():
    levels = [
        {"name": "hot", "min_score": 60},
        {"name": "warm", "min_score": 40},
        {"name": "cold", "min_score": 0},
    ]
    moved = [{"name": "hot", "min_score": 65}, *levels[1:]]
    diff = diff_configs(_config([SIZE], levels=levels), _config([SIZE], levels=moved))
    assert diff["levels"] == (
        [("hot", 60), ("warm", 40), ("cold", 0)],
        [("hot", 65), ("warm", 40), ("cold", 0)],
    )
