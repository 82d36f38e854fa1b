"""Tests for calibrate.sheet.activity and .feature: features, kernels, globs, the pandas evaluator.

The DuckDB aggregation and its agreement with :func:`aggregate_frame` are
tested in ``test_sql.py``.
"""

from __future__ import annotations

import math
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from calibrate.errors import DataError
from calibrate.sheet.activity import (
    ActivitySpec,
    aggregate_frame,
    apply_detail_rules,
    half_life_grid,
    normalise_activities,
    to_utc_seconds,
)
from calibrate.sheet.feature import (
    ActivityFeature,
    DetailRule,
    Kernel,
    exact_decay_is_safe,
    family_of,
    glob_like,
    glob_regex,
)
from calibrate.sheet.kinds import FEATURE_KINDS

T = pd.Timestamp("2024-06-01 12:00:00")
DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def con():
    """One DuckDB connection for the LIKE checks (nothing is written)."""
    connection = duckdb.connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def spec():
    """One count feature per kernel kind over email opens, plus recency."""
    return ActivitySpec(
        features=(
            ActivityFeature("opens", "count", ("email_open",), kernel=Kernel("decay", 14.0)),
            ActivityFeature("recency", "recency"),
        ),
        known_types=("email_open", "page_view"),
        detail="detail",
    )


def _log(rows):
    return pd.DataFrame(rows, columns=["lead_id", "activity_type", "occurred_at", "detail"])


# --------------------------------------------------------------------------- families


@pytest.mark.parametrize(
    ("activity_type", "family"),
    [
        ("demo_request", "hand-raiser"),
        ("Contact_Form", "hand-raiser"),
        ("unsubscribe", "opt-out"),
        ("email_bounce", "opt-out"),
        ("email_open", "email"),
        ("newsletter_sent", "email"),
        ("whitepaper_download", "content"),
        ("webinar_attended", "content"),
        ("page_view", "web"),
        ("pricing_page_view", "web"),
        ("sms_reply", "other"),
    ],
)
def test_family_of(activity_type, family):
    assert family_of(activity_type) == family


# --------------------------------------------------------------------------- kernels


@pytest.mark.parametrize(
    ("kernel", "ages", "weights"),
    [
        # Exact halvings; 62.5 is an exact tie and rounds half up to 63.
        (Kernel("decay", 14.0), [0, 14, 28, 42, 56, 70], [1000, 500, 250, 125, 63, 31]),
        # 1000 * 2 ** (-1 / 13.7) = 950.66..., 1000 * 2 ** (-10 / 13.7) = 602.915...
        (Kernel("decay", 13.7), [0, 1, 10], [1000, 951, 603]),
        (Kernel("window", 30), [0, 29, 30, 400], [1000, 1000, 0, 0]),
        (Kernel("window", 2.5), [0, 2, 3], [1000, 1000, 0]),
        (Kernel("all"), [0, 30, 1095], [1000, 1000, 1000]),
    ],
)
def test_kernel_weights_by_hand(kernel, ages, weights):
    got = kernel.weights(np.array(ages))
    assert got.dtype == np.int64
    assert got.tolist() == weights


@given(
    half_life=st.floats(0.5, 500.0).map(lambda h: round(h, 1)),
    ages=st.lists(st.integers(0, 1096), min_size=1, max_size=30),
)
def test_decay_weights_are_rounded_half_up_thousandths(half_life, ages):
    assume(half_life > 0 and exact_decay_is_safe(half_life, 1096))
    expected = [math.floor(1000 * 2 ** (-a / half_life) + 0.5) for a in ages]
    assert Kernel("decay", half_life).weights(np.array(ages)).tolist() == expected


@given(half_life=st.floats(0.5, 500.0).map(lambda h: round(h, 1)))
def test_safe_half_lives_round_the_same_under_last_bit_noise(half_life):
    # What "safe" promises: another engine's POWER, off in the last bits,
    # rounds every age to the same integer weight.
    assume(half_life > 0 and exact_decay_is_safe(half_life, 1096))
    age = np.arange(1097, dtype=np.float64)
    value = 1000 * np.power(2.0, -age / half_life)
    exact = (age / half_life) == np.round(age / half_life)
    for noise in (1 - 1e-12, 1 + 1e-12):
        noisy = np.where(exact, value, value * noise)
        assert np.array_equal(np.floor(noisy + 0.5), np.floor(value + 0.5))


def test_a_half_life_on_a_rounding_tie_is_unsafe():
    # Chosen so that 1000 * 2 ** (-1 / h) is 500.5 up to the last bits.
    half_life = 1 / math.log2(1000 / 500.5)
    value = 1000 * 2 ** (-1 / half_life)
    assert math.floor(value * (1 + 1e-12) + 0.5) != math.floor(value * (1 - 1e-12) + 0.5)
    assert not exact_decay_is_safe(half_life, 1)
    assert exact_decay_is_safe(half_life, 0)
    assert exact_decay_is_safe(14.0, 1096)


@pytest.mark.parametrize(
    ("kind", "days", "match"),
    [
        ("gaussian", 14.0, r"kernel kind must be one of .*'gaussian'"),
        ("decay", None, r"a decay kernel needs days > 0, got None"),
        ("decay", 0.0, r"a decay kernel needs days > 0, got 0.0"),
        ("window", -7, r"a window kernel needs days > 0, got -7"),
    ],
)
def test_bad_kernel(kind, days, match):
    with pytest.raises(ValueError, match=match):
        Kernel(kind, days)


@pytest.mark.parametrize(
    ("kernel", "label"),
    [
        (Kernel("decay", 14.0), "half-life 14 days"),
        (Kernel("decay", 13.7), "half-life 13.7 days"),
        (Kernel("window", 30.0), "last 30 days"),
        (Kernel("all"), "no decay"),
    ],
)
def test_kernel_label_and_round_trip(kernel, label):
    assert kernel.label == label
    assert Kernel.from_dict(kernel.to_dict()) == kernel


def test_half_life_grid_doubles_every_per_doubling_steps():
    grid = half_life_grid(3.5, 448.0, per_doubling=2)
    assert grid[0] == 3.5
    assert grid[-1] == 448.0
    assert np.allclose(grid[2:] / grid[:-2], 2.0, rtol=0.02)
    assert len(grid) == 2 * 7 + 1


# --------------------------------------------------------------------------- globs


@pytest.mark.parametrize(
    ("pattern", "like"),
    [
        ("/pricing*", "/pricing%"),
        ("/p?ge", "/p_ge"),
        ("50%_off", "50\\%\\_off"),
        ("a\\b", "a\\\\b"),
        ("", ""),
    ],
)
def test_glob_like_by_hand(pattern, like):
    assert glob_like(pattern) == like


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("/pricing*", "/pricing", True),
        ("/pricing*", "/pricing/enterprise", True),
        ("/pricing*", "/Pricing", False),
        ("/p?ge", "/page", True),
        ("/p?ge", "/pge", False),
        ("[a]*", "a", False),
        ("[a]*", "[a]", True),
        ("a.c", "abc", False),
        ("*", "line\nbreak", True),
    ],
)
def test_glob_regex_by_hand(pattern, text, expected):
    assert bool(re.fullmatch(glob_regex(pattern), text)) is expected


_GLOB_CHARS = "ab*?%_\\.[]^$'é\n "


@given(
    pattern=st.text(alphabet=_GLOB_CHARS, max_size=6),
    text=st.text(alphabet=_GLOB_CHARS.replace("*", "").replace("?", ""), max_size=6),
)
def test_glob_regex_like_and_pandas_agree(con, pattern, text):
    python = re.fullmatch(glob_regex(pattern), text) is not None
    (sql,) = con.execute("SELECT ? LIKE ? ESCAPE '\\'", [text, glob_like(pattern)]).fetchone()
    rule = DetailRule(pattern, "new")
    pandas = rule.matches(pd.Series(["t"]), pd.Series([text], dtype=object))[0]
    assert sql == python
    assert bool(pandas) == python


# --------------------------------------------------------------------------- detail rules


@pytest.mark.parametrize(
    ("text", "activity_type", "pattern", "becomes"),
    [
        ("page_view:/pricing*=pricing_page_view", "page_view", "/pricing*", "pricing_page_view"),
        ("/pricing*=pricing_page_view", None, "/pricing*", "pricing_page_view"),
        ("page_view:/a=b*=odd_page", "page_view", "/a=b*", "odd_page"),
        (
            "webinar_attended:Webinar: Product*=tour",
            "webinar_attended",
            "Webinar: Product*",
            "tour",
        ),
        ("page_view:/x*= spaced ", "page_view", "/x*", "spaced"),
    ],
)
def test_detail_rule_parse(text, activity_type, pattern, becomes):
    rule = DetailRule.parse(text)
    assert (rule.activity_type, rule.pattern, rule.becomes) == (activity_type, pattern, becomes)
    assert DetailRule.from_dict(rule.to_dict()) == rule


@pytest.mark.parametrize(
    "text", ["page_view:/pricing*", "=pricing_page_view", "/pricing*=", "/x=  "]
)
def test_detail_rule_parse_errors(text):
    with pytest.raises(DataError, match=r"a detail rule reads \[TYPE:\]PATTERN=NEW_TYPE.*got "):
        DetailRule.parse(text)


def test_first_matching_rule_wins_and_type_restricts():
    rules = (
        DetailRule.parse("page_view:/pricing/enterprise*=enterprise_view"),
        DetailRule.parse("page_view:/pricing*=pricing_page_view"),
        DetailRule.parse("*careers*=careers_view"),
    )
    types = pd.Series(["page_view", "page_view", "email_click", "page_view", "page_view"])
    details = pd.Series(["/pricing/enterprise", "/pricing", "/pricing", None, "/careers/1"])
    got = apply_detail_rules(types, details, rules)
    assert got.tolist() == [
        "enterprise_view",
        "pricing_page_view",
        "email_click",
        "page_view",
        "careers_view",
    ]


# --------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2024-01-01T10:00:00+02:00"], ["2024-01-01 08:00:00"]),
        (
            ["2024-01-01T10:00:00+0200", "2024-01-01T10:00:00Z"],
            ["2024-01-01 08:00:00", "2024-01-01 10:00:00"],
        ),
        (["2024-01-01T10:00:00-05:30"], ["2024-01-01 15:30:00"]),
        (["2024-01-01T10:00:00+02"], ["2024-01-01 08:00:00"]),
        (
            ["2024-01-01 10:00:00.999", " 2024-01-01 "],
            ["2024-01-01 10:00:00", "2024-01-01 00:00:00"],
        ),
    ],
)
def test_text_timestamps_become_utc_seconds(values, expected):
    got = to_utc_seconds(pd.Series(values), "occurred_at")
    assert got.dtype == "datetime64[s]"
    assert got.tolist() == pd.to_datetime(expected).tolist()


def test_zoned_datetimes_become_utc():
    values = pd.Series(pd.to_datetime(["2024-07-01 10:00:00"]).tz_localize("Europe/Paris"))
    got = to_utc_seconds(values, "occurred_at")
    assert got.tolist() == [pd.Timestamp("2024-07-01 08:00:00")]


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (
            ["2024-01-01", "yesterday", "2024-02-30 10:00:00"],
            r"column 'occurred_at': 2 value\(s\) are not timestamps "
            r"\(row 2: 'yesterday'; row 3: '2024-02-30 10:00:00'\)",
        ),
        (
            ["2024-01-01T10:00:00+02:00", "2024-01-01T11:00:00"],
            r"column 'occurred_at' mixes timestamps with and without a time zone "
            r"\(row 1: '2024-01-01T10:00:00\+02:00'; row 2: '2024-01-01T11:00:00'\)",
        ),
        (
            ["2024-01-01T10:00:00", "2024-01-01T10:00:00+02"],
            r"column 'occurred_at' mixes timestamps with and without a time zone "
            r"\(row 2: '2024-01-01T10:00:00\+02'; row 1: '2024-01-01T10:00:00'\)",
        ),
        (
            ["2024-01-01", None, "  "],
            r"column 'occurred_at' is empty in 2 row\(s\) \(rows 2, 3\)",
        ),
    ],
)
def test_bad_timestamps_name_the_rows(values, match):
    with pytest.raises(DataError, match=match):
        to_utc_seconds(pd.Series(values, dtype=object), "occurred_at")


# --------------------------------------------------------------------------- the log


@pytest.mark.parametrize(
    ("drop", "match"),
    [
        (["occurred_at"], r"activity log: column\(s\) 'occurred_at' not found \(columns: "),
        (
            ["lead_id", "detail"],
            r"activity log: column\(s\) 'lead_id', 'detail' not found "
            r"\(columns: 'activity_type', 'occurred_at'\)",
        ),
    ],
)
def test_missing_log_columns_are_named(spec, drop, match):
    log = _log([["L1", "email_open", T - DAY, "x"]]).drop(columns=drop)
    with pytest.raises(DataError, match=match):
        normalise_activities(log, spec)


@pytest.mark.parametrize(
    ("column", "match"),
    [
        ("lead_id", r"activity log: column 'lead_id' is empty in 2 row\(s\) \(row 2: .*; row 3: "),
        (
            "activity_type",
            r"activity log: column 'activity_type' is empty in 2 row\(s\) \(row 2: .*; row 3: ",
        ),
    ],
)
def test_empty_ids_and_types_are_refused(spec, column, match):
    log = _log([["L1", "email_open", T - DAY, "x"]] * 3)
    log[column] = log[column].astype(object)
    log.loc[1, column] = None
    log.loc[2, column] = ""
    with pytest.raises(DataError, match=match):
        normalise_activities(log, spec)


def test_ids_are_read_as_the_lead_tables_types_and_details_as_stored(spec):
    # The lead table's ids are stripped: a padded id in the log is the same lead.
    log = _log([[" L1\t", " email_open ", T - DAY, " /a "], ["L1 ", "email_open", T - DAY, None]])
    got = normalise_activities(log, spec)
    assert got.iloc[0].tolist() == ["L1", " email_open ", T - DAY, " /a "]
    features, counts = aggregate_frame(spec, pd.Series(["L1"]), pd.Series([T]), log)
    assert counts["unknown_leads"] == 0
    assert features["opens"].tolist() == [0.952]


def test_whole_number_float_ids_are_written_as_integers(spec):
    # As the lead table's ids: 7.0 read from a float column is lead "7".
    log = _log([[7.0, "email_open", T - DAY, None], [8.5, "email_open", T - DAY, None]])
    log["lead_id"] = log["lead_id"].astype("float64")
    assert normalise_activities(log, spec)["lead_id"].tolist() == ["7", "8.5"]
    features, counts = aggregate_frame(spec, pd.Series(["7", "8"]), pd.Series([T, T]), log)
    assert features["opens"].tolist() == [0.952, 0.0]
    assert counts["unknown_leads"] == 1 and counts["unknown_lead_examples"] == ["8.5"]


def test_an_id_of_whitespace_only_is_empty(spec):
    log = _log([["L1", "email_open", T - DAY, None], [" \t", "email_open", T - DAY, None]])
    expected = r"column 'lead_id' is empty in 1 row\(s\) \(row 2: ' \\t'\)"
    with pytest.raises(DataError, match=expected):
        normalise_activities(log, spec)


def test_unknown_leads_and_types_are_counted_not_scored(spec):
    log = _log(
        [
            ["L1", "email_open", T - DAY, None],
            ["ghost", "email_open", T - DAY, None],
            ["ghost", "email_open", T - 2 * DAY, None],
            ["L1", "chat_started", T - DAY, None],
            ["L1", "chat_started", T + DAY, None],  # after the decision: not counted
        ]
    )
    features, counts = aggregate_frame(spec, pd.Series(["L1", "L2"]), pd.Series([T, T]), log)
    assert counts == {
        "unknown_leads": 2,
        "unknown_lead_examples": ["ghost"],
        "unknown_types": {"chat_started": 1},
        "counted": 2,  # L1's open and chat before the decision
    }
    assert features["opens"].tolist() == [0.952, 0.0]
    assert features["recency"].fillna(-1).tolist() == [1.0, -1.0]


def test_lookback_boundary_is_inclusive(spec):
    short = ActivitySpec(features=spec.features, known_types=spec.known_types, lookback_days=30)
    log = _log(
        [
            ["L1", "page_view", T - 30 * DAY, None],
            ["L2", "page_view", T - 30 * DAY - pd.Timedelta(seconds=1), None],
        ]
    )
    features, _ = aggregate_frame(short, pd.Series(["L1", "L2"]), pd.Series([T, T]), log)
    assert features["recency"].fillna(-1).tolist() == [30.0, -1.0]


# --------------------------------------------------------------------------- features and spec


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "sum"}, r"feature kind must be one of .*'sum'"),
        ({"kind": "count", "types": ("a",)}, r"count feature 'f' needs a kernel"),
        ({"kind": "active_days", "types": ("a",)}, r"active-days feature 'f' needs window_days"),
    ],
)
def test_bad_feature(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ActivityFeature("f", **kwargs)


@pytest.mark.parametrize(
    ("feature", "description", "column_kind"),
    [
        (
            ActivityFeature("a", "count", ("x", "y"), kernel=Kernel("decay", 14.0), family="e"),
            "x or y (half-life 14 days)",
            "numeric",
        ),
        (ActivityFeature("b", "recency"), "days since the latest activity", "numeric"),
        (ActivityFeature("c", "distinct_details", ("x",)), "distinct x details", "numeric"),
        (
            ActivityFeature("d", "active_days", ("x",), window_days=30),
            "days with x in the last 30 days",
            "numeric",
        ),
        (ActivityFeature("e", "all_of", ("x", "y")), "did all of: x, y", "boolean"),
    ],
)
def test_feature_words_kind_and_round_trip(feature, description, column_kind):
    assert feature.description == description
    assert feature.column_kind == column_kind
    assert ActivityFeature.from_dict(feature.to_dict()) == feature


def test_spec_round_trips_through_a_plain_dict():
    spec = ActivitySpec(
        features=(
            ActivityFeature("x", "count", ("x",), kernel=Kernel("window", 7.0)),
            ActivityFeature("x+y", "all_of", ("x", "y")),
        ),
        detail_rules=(DetailRule.parse("x:/a*=y"),),
        known_types=("x", "y"),
        lookback_days=365,
        lead_id="who",
        activity_type="what",
        occurred_at="when",
        detail="where",
        families={"y": "web", "x": "email"},
    )
    assert ActivitySpec.from_dict(spec.to_dict()) == spec
    assert list(spec.to_dict()["families"]) == ["x", "y"]


def test_a_combination_needs_two_types():
    with pytest.raises(ValueError, match="needs two or more activity types"):
        ActivityFeature("solo", "all_of", ("demo_request",))


# --------------------------------------------------------------------------- the kinds' registry


@pytest.mark.parametrize("kind", FEATURE_KINDS)
def test_every_registered_kind_is_complete(kind):
    """Each kind is one class with its check, evaluation, SQL for every dialect and words."""
    from calibrate.production.sql_export import DIALECTS
    from calibrate.sheet.kinds import KINDS, Aggregate, DistinctCount, SqlColumns

    registered = KINDS[kind]
    assert registered.name == kind and registered.column_kind in ("numeric", "boolean")
    feature = registered.example(["email_open", "page_view"])
    assert feature.kind == kind
    assert ActivityFeature.from_dict(feature.to_dict()) == feature
    assert feature.description
    part = registered.sql(feature, SqlColumns(("email_open",)))
    assert isinstance(part, (Aggregate, DistinctCount))
    for dialect in DIALECTS:
        parts = [part.expression] if isinstance(part, Aggregate) else [part.condition, part.value]
        assert all(p.sql(dialect) for p in parts)
    if registered.column_kind == "numeric":
        assert registered.in_practice(feature, 2.0, 365) != ""


def test_an_unknown_kind_or_a_missing_window_is_refused():
    with pytest.raises(ValueError, match=r"feature kind must be one of .*'distinct_weeks'.*'x'"):
        ActivityFeature("f", "x")
    with pytest.raises(ValueError, match=r"distinct-weeks feature 'w' needs window_days"):
        ActivityFeature("w", "distinct_weeks", ("page_view",))
