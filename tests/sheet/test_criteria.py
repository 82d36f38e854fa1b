"""Tests for calibrate.sheet.criteria: reading raw values and cutting them into bands."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from calibrate.errors import DataError
from calibrate.sheet.criteria import (
    MISSING_TOKENS,
    WHITESPACE,
    Band,
    Criterion,
    coerce_column,
    format_number,
    is_missing_token,
    nice_number,
    range_label,
)

#: Deterministic property tests that leave no example database behind.
PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
FINITE = st.floats(allow_nan=False, allow_infinity=False)


@pytest.fixture(scope="module", autouse=True)
def hypothesis_home(tmp_path_factory):
    """Keep Hypothesis' caches under a temporary folder, not in the working directory."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture(scope="module")
def size():
    """Numeric criterion: <10, 10 to <100, >=100, Missing."""
    return Criterion(
        "company size",
        "size",
        "numeric",
        "explicit",
        bands=(
            Band("<10", "range", upper=10.0),
            Band("10 to <100", "range", lower=10.0, upper=100.0),
            Band(">=100", "range", lower=100.0),
            Band("Missing", "missing"),
        ),
    )


@pytest.fixture(scope="module")
def title():
    """Categorical criterion: VP, C-suite (CEO or Founder), Other, Missing."""
    return Criterion(
        "title",
        "title",
        "categorical",
        "explicit",
        bands=(
            Band("VP", "levels", values=("VP",)),
            Band("C-suite", "levels", values=("CEO", "Founder")),
            Band("Other", "other"),
            Band("Missing", "missing"),
        ),
    )


@pytest.fixture(scope="module")
def demo():
    """Boolean criterion: true, false, Other, Missing."""
    return Criterion(
        "demo requested",
        "demo",
        "boolean",
        "implicit",
        bands=(
            Band("yes", "levels", values=("true",)),
            Band("no", "levels", values=("false",)),
            Band("Other", "other"),
            Band("Missing", "missing"),
        ),
    )


def _numeric_criterion(edges):
    bounds = list(zip([None, *edges], [*edges, None], strict=True))
    bands = tuple(
        Band(f"band {i}", "range", lower=lo, upper=hi) for i, (lo, hi) in enumerate(bounds)
    )
    return Criterion("x", "x", "numeric", "explicit", bands=(*bands, Band("Missing", "missing")))


# --------------------------------------------------------------------------- coerce_column


@pytest.mark.parametrize(
    ("text", "typed", "kind", "expected"),
    [
        (["3", "2.5", ""], [3.0, 2.5, np.nan], "categorical", ["3", "2.5", None]),
        (
            ["3", "-7", "NA"],
            pd.array([3, -7, None], dtype="Int64"),
            "categorical",
            ["3", "-7", None],
        ),
        (["0", "12"], np.array([0, 12], dtype=np.int64), "categorical", ["0", "12"]),
        (["true", "false"], [True, False], "categorical", ["true", "false"]),
        (
            ["True", "FALSE", ""],
            pd.array([True, False, None], dtype="boolean"),
            "boolean",
            ["true", "false", None],
        ),
        (["yes", "no"], [True, False], "boolean", ["true", "false"]),
        (["1", "0", ""], [1.0, 0.0, np.nan], "boolean", ["true", "false", None]),
        (["1", "0"], np.array([1, 0], dtype=np.int64), "boolean", ["true", "false"]),
        (["3", " 2.5 ", "null"], [3.0, 2.5, np.nan], "numeric", [3.0, 2.5, np.nan]),
        (["4", ""], pd.array([4, None], dtype="Int64"), "numeric", [4.0, np.nan]),
        (["1", "0"], [True, False], "numeric", [1.0, 0.0]),
    ],
)
def test_coerce_text_and_typed_values_agree(text, typed, kind, expected):
    from_csv = coerce_column(pd.Series(text, dtype=object), kind, "c")
    from_parquet = coerce_column(pd.Series(typed), kind, "c")
    if kind == "numeric":
        assert from_csv.dtype == from_parquet.dtype == np.float64
        np.testing.assert_array_equal(from_csv.to_numpy(), np.asarray(expected, dtype=float))
        np.testing.assert_array_equal(from_parquet.to_numpy(), np.asarray(expected, dtype=float))
    else:
        assert from_csv.dtype == from_parquet.dtype == object
        assert from_csv.tolist() == from_parquet.tolist() == expected


@pytest.mark.parametrize("kind", ["numeric", "categorical", "boolean"])
@pytest.mark.parametrize(
    "token", ["", "   ", "NA", "na", "N/A", "NaN", "null", "NULL", "None", "#N/A", "-"]
)
def test_missing_tokens_become_missing(kind, token):
    out = coerce_column(pd.Series([token, None], dtype=object), kind, "c")
    assert out.isna().all()
    assert is_missing_token(pd.Series([token])).tolist() == [True]


def test_missing_tokens_match_the_documented_list():
    assert {"", "na", "null", "nan", "none"} <= MISSING_TOKENS


def test_coerce_keeps_the_index():
    values = pd.Series(["1", "x"], index=[10, 20])
    assert coerce_column(values, "categorical", "c").index.tolist() == [10, 20]
    assert coerce_column(values.iloc[:1], "numeric", "c").index.tolist() == [10]


@pytest.mark.parametrize(
    ("values", "kind", "match"),
    [
        (
            ["1", "a", "2", "b"],
            "numeric",
            r"column 'size': 2 value\(s\) are not a number "
            r"\(row 2: 'a'; row 4: 'b'\)",
        ),
        (["1", "1,000"], "numeric", r"column 'size': 1 value\(s\) .* \(row 2: '1,000'\)"),
        (
            ["inf", "2"],
            "numeric",
            r"column 'size': 1 value\(s\) are not a number \(row 1: 'inf'\)",
        ),
        (["1e400"], "numeric", r"row 1: '1e400'"),
        (
            ["yes", "maybe", "no"],
            "boolean",
            r"column 'size': 1 value\(s\) are not true or false \(row 2: 'maybe'\)",
        ),
        (np.array([1.0, 2.0, np.nan]), "boolean", r"1 value\(s\) are not true or false \(row 2:"),
        (np.array([1.0, np.inf]), "numeric", r"1 value\(s\) are not a finite number \(row 2:"),
    ],
)
def test_coerce_rejects_bad_values_naming_column_count_and_rows(values, kind, match):
    with pytest.raises(DataError, match=match):
        coerce_column(pd.Series(values), kind, "size")


def test_coerce_shows_at_most_five_examples():
    values = pd.Series(["1", "a", "b", "c", "d", "e", "f", "g"])
    with pytest.raises(DataError, match=r"7 value\(s\) .*row 2: 'a'.*row 6: 'e', \.\.\.\)$"):
        coerce_column(values, "numeric", "x")


def test_coerce_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match=r"kind must be one of .*got 'text'"):
        coerce_column(pd.Series(["a"]), "text", "x")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([" VP ", "vp", "C-level"], ["VP", "vp", "C-level"]),
        ([1e20, -0.0, 0.5], ["1e+20", "0", "0.5"]),
        (["01", "1"], ["01", "1"]),
    ],
)
def test_categorical_text_is_stripped_not_normalised(values, expected):
    assert coerce_column(pd.Series(values), "categorical", "c").tolist() == expected


# --------------------------------------------------------------------------- assign


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (-5, 0),
        (0, 0),
        (9.999, 0),
        (10, 1),  # lower bound is inclusive
        (99.99, 1),
        (100, 2),  # upper bound of the band below is exclusive
        (1e12, 2),
        (None, 3),
    ],
)
def test_assign_range_boundaries(size, value, code):
    assert size.assign(pd.Series([value], dtype=object)).tolist() == [code]


def test_assign_range_from_text(size):
    text = pd.Series(["9", "10", " 100 ", "", "NA", "55.5"])
    codes = size.assign(text)
    assert codes.dtype == np.int64
    assert codes.tolist() == [0, 1, 2, 3, 3, 1]


def test_assign_range_rejects_text_that_is_not_a_number(size):
    with pytest.raises(DataError, match=r"column 'size': 1 value\(s\) .*\(row 2: 'big'\)"):
        size.assign(pd.Series(["3", "big"]))


def test_assign_levels_other_and_missing(title):
    values = pd.Series(["VP", "CEO", "Founder", "Intern", None, "", " VP ", "vp", "NA"])
    # "vp" is another category: levels are compared as exact text.
    assert title.assign(values).tolist() == [0, 1, 1, 2, 3, 3, 0, 2, 3]


def test_assign_categorical_reads_parquet_floats_as_text():
    crit = Criterion(
        "traffic",
        "traffic",
        "categorical",
        "explicit",
        bands=(
            Band("3", "levels", values=("3",)),
            Band("2.5", "levels", values=("2.5",)),
            Band("Other", "other"),
            Band("Missing", "missing"),
        ),
    )
    typed = crit.assign(pd.Series([3.0, 2.5, 7.0, np.nan]))
    text = crit.assign(pd.Series(["3", "2.5", "7", ""]))
    assert typed.tolist() == text.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "values",
    [
        [True, False, None],
        ["yes", "N", ""],
        ["TRUE", "0", "null"],
        [1.0, 0.0, np.nan],
    ],
)
def test_assign_boolean(demo, values):
    assert demo.assign(pd.Series(values)).tolist() == [0, 1, 3]


def test_assign_without_other_band_sends_unseen_to_missing():
    crit = Criterion(
        "t",
        "t",
        "categorical",
        "explicit",
        bands=(Band("A", "levels", values=("a",)), Band("Missing", "missing")),
    )
    assert crit.assign(pd.Series(["a", "b", None])).tolist() == [0, 1, 1]


def test_assign_empty_and_all_missing(size, title):
    assert size.assign(pd.Series([], dtype=float)).tolist() == []
    assert size.assign(pd.Series([np.nan, np.nan])).tolist() == [3, 3]
    assert title.assign(pd.Series([None, None], dtype=object)).tolist() == [3, 3]


def test_missing_index(size, title):
    assert size.missing_index == 3
    assert title.missing_index == 3


@pytest.mark.parametrize(
    ("x", "inside"),
    [(2.999, False), (3.0, True), (9.999, True), (10.0, False)],
)
def test_band_contains_number_half_open(x, inside):
    assert Band("3 to <10", "range", lower=3.0, upper=10.0).contains_number(x) is inside


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Band("x", "bucket"), r"band kind must be one of .*got 'bucket'"),
        (lambda: Band("5 to <5", "range", lower=5.0, upper=5.0), r"lower bound 5.0 is not below"),
        (lambda: Criterion("c", "c", "text", "explicit"), r"criterion kind .*got 'text'"),
        (lambda: Criterion("c", "c", "numeric", "fit"), r"criterion group .*got 'fit'"),
    ],
)
def test_invalid_bands_and_criteria(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_criterion_dict_round_trip_keeps_assignment(title, size):
    for crit in (title.with_points([30, 20, 0, -5]), size.with_points([0, 5, 10, 0])):
        again = Criterion.from_dict(crit.to_dict())
        assert again == crit
    assert [b.points for b in title.with_points([30, 20, 0, -5]).bands] == [30, 20, 0, -5]


def test_with_points_needs_one_value_per_band(title):
    with pytest.raises(ValueError, match="zip"):
        title.with_points([1, 2])


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("x", "digits", "expected"),
    [
        (4857.31, 2, 4900.0),
        (0.03127, 2, 0.031),
        (-36.44, 2, -36.0),
        (999.9, 2, 1000.0),
        (12345.0, 3, 12300.0),
        (7.0, 2, 7.0),
        (0.0, 2, 0.0),
    ],
)
def test_nice_number(x, digits, expected):
    assert nice_number(x, digits) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("x", [math.inf, -math.inf])
def test_nice_number_leaves_infinity(x):
    assert nice_number(x) == x


@pytest.mark.parametrize(
    ("x", "expected"), [(3.0, "3"), (0.25, "0.25"), (12000.0, "12,000"), (-1.5, "-1.5")]
)
def test_format_number(x, expected):
    assert format_number(x) == expected


@pytest.mark.parametrize(
    ("lower", "upper", "integer", "nonnegative", "expected"),
    [
        (None, 3.0, True, True, "0-2"),
        (None, 3.0, True, False, "<=2"),
        (None, 1.0, True, True, "0"),
        (None, 0.0, True, True, "<=-1"),
        (3.0, 6.0, True, False, "3-5"),
        (3.0, 4.0, True, False, "3"),
        (6.0, None, True, False, "6+"),
        (1000.0, 5000.0, True, False, "1,000-4,999"),
        (1.5, 4.0, False, False, "1.5 to <4"),
        (None, 1.5, False, False, "<1.5"),
        (1.5, None, False, False, ">=1.5"),
        (None, None, True, False, "any value"),
        (None, None, False, False, "any value"),
    ],
)
def test_range_label(lower, upper, integer, nonnegative, expected):
    assert range_label(lower, upper, integer, nonnegative=nonnegative) == expected


# --------------------------------------------------------------------------- properties


@PROPERTY
@given(
    edges=st.lists(FINITE, min_size=1, max_size=6, unique=True).map(sorted),
    data=st.data(),
)
def test_property_assign_puts_every_value_in_the_band_containing_it(edges, data):
    values = data.draw(st.lists(st.one_of(FINITE, st.sampled_from(edges)), max_size=30))
    crit = _numeric_criterion(edges)
    codes = crit.assign(pd.Series(values, dtype=float))
    bounds = [(b.lower, b.upper) for b in crit.bands if b.kind == "range"]
    for x, code in zip(values, codes, strict=True):
        holding = [
            i
            for i, (lo, hi) in enumerate(bounds)
            if (lo is None or lo <= x) and (hi is None or x < hi)
        ]
        assert holding == [code]


@PROPERTY
@given(values=st.lists(FINITE, max_size=30))
def test_property_numeric_text_round_trips(values):
    text = pd.Series([repr(x) for x in values], dtype=object)
    out = coerce_column(text, "numeric", "x")
    assert out.dtype == np.float64
    assert out.tolist() == values
    assert [math.copysign(1, x) for x in out] == [math.copysign(1, x) for x in values]


@PROPERTY
@given(value=st.text())
def test_property_category_text_is_itself_stripped(value):
    # Only ASCII whitespace is stripped: SQL engines strip exactly the same.
    assume(value.strip(WHITESPACE).lower() not in MISSING_TOKENS)
    assert coerce_column(pd.Series([value], dtype=object), "categorical", "c").tolist() == [
        value.strip(WHITESPACE)
    ]


@PROPERTY
@given(seen=st.lists(st.text(min_size=1), min_size=1, max_size=5, unique=True), value=st.text())
def test_property_unseen_categories_go_to_other(seen, value):
    seen = [s.strip(WHITESPACE) for s in seen if s.strip(WHITESPACE).lower() not in MISSING_TOKENS]
    assume(seen and len(set(seen)) == len(seen))
    assume(value.strip(WHITESPACE).lower() not in MISSING_TOKENS)
    bands = tuple(Band(s, "levels", values=(s,)) for s in seen)
    crit = Criterion(
        "c",
        "c",
        "categorical",
        "explicit",
        bands=(*bands, Band("Other", "other"), Band("Missing", "missing")),
    )
    code = crit.assign(pd.Series([value], dtype=object))[0]
    stripped = value.strip(WHITESPACE)
    expected = seen.index(stripped) if stripped in seen else len(seen)
    assert code == expected
