"""Tests for calibrate.io.ingest: reading lead tables and checking them once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.errors import DataError
from calibrate.io.ingest import LeadData, load_leads


@pytest.fixture(scope="module")
def tiny():
    """Four leads worked out by hand in test_tiny_case_by_hand."""
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "title": ["VP", "VP", "CEO", None],
            "clicks": [1, 0, 3, 2],
            "vip": ["yes", "no", "no", "no"],
            "plan": ["free", "free", "free", "free"],
            "won": ["yes", "no", "no", "yes"],
        }
    )


@pytest.fixture(scope="module")
def leads_frame():
    """Sixty leads with a seeded mix of column kinds."""
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:03d}" for i in range(n)],
            "created": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "role": rng.choice(["Sales", "IT", "HR"], n),
            "company_size": rng.integers(1, 5000, n).astype(str),
            "email_clicks": rng.poisson(2, n).astype(str),
            "outcome": np.where(np.arange(n) % 3 == 0, "won", "lost"),
        }
    )


# --------------------------------------------------------------------------- load_leads


def test_tiny_case_by_hand(tiny):
    leads = load_leads(tiny, outcome="won", id="id")
    # id and won are roles; plan never changes; the rest are criteria.
    assert leads.column_types == {"title": "categorical", "clicks": "numeric", "vip": "boolean"}
    assert leads.groups == {"title": "explicit", "clicks": "implicit", "vip": "explicit"}
    assert leads.excluded == {"plan": "has a single value ('free')"}
    assert leads.features["title"].tolist()[:3] == ["VP", "VP", "CEO"]
    assert leads.features["title"].isna().tolist() == [False, False, False, True]
    assert leads.features["clicks"].tolist() == [1.0, 0.0, 3.0, 2.0]
    assert leads.features["vip"].tolist() == ["true", "false", "false", "false"]
    assert leads.outcome.tolist() == [True, False, False, True]
    assert leads.outcome.name == "won"
    assert leads.ids.tolist() == ["a", "b", "c", "d"]
    assert leads.positive_label == "yes"
    assert leads.id_column == "id"
    assert leads.dates is None
    assert leads.source == "DataFrame"
    assert leads.n_leads == 4
    assert leads.warnings == ()


def test_tiny_case_from_csv_and_parquet_is_the_same(tmp_path, tiny):
    tiny.to_csv(tmp_path / "tiny.csv", index=False)
    tiny.to_parquet(tmp_path / "tiny.parquet", index=False)
    expected = load_leads(tiny, outcome="won", id="id")
    for name in ("tiny.csv", "tiny.parquet"):
        leads = load_leads(tmp_path / name, outcome="won", id="id")
        pd.testing.assert_frame_equal(leads.features, expected.features)
        assert leads.column_types == expected.column_types
        assert leads.outcome.tolist() == expected.outcome.tolist()
        assert leads.ids.tolist() == expected.ids.tolist()
        assert leads.source == str(tmp_path / name)


@pytest.mark.parametrize(
    ("values", "label"),
    [
        ([True, False, False, True], "true"),
        ([1, 0, 0, 1], "1"),
        ([1.0, 0.0, 0.0, 1.0], "1"),
        (["1", "0", "0", "1"], "1"),
        (["yes", "no", "no", "yes"], "yes"),
        (["Y", "N", "N", "Y"], "Y"),
        (["won", "lost", "lost", "won"], "won"),
        (["Won", "Lost", "Lost", "Won"], "Won"),
        (["converted", "not converted", "not converted", "converted"], "converted"),
        (["TRUE", " false", "false ", "TRUE"], "TRUE"),
    ],
)
def test_outcome_forms(tiny, values, label):
    leads = load_leads(tiny.assign(won=values), outcome="won", id="id")
    assert leads.outcome.dtype == bool
    assert leads.outcome.tolist() == [True, False, False, True]
    assert leads.positive_label == label


@pytest.mark.parametrize(
    ("values", "positive", "expected"),
    [
        (["closed", "open", "open", "closed"], "closed", [True, False, False, True]),
        (["closed", "open", "open", "closed"], "open", [False, True, True, False]),
        (["closed", "open", "open", "closed"], "CLOSED", [True, False, False, True]),
        ([1, 0, 0, 1], 0, [False, True, True, False]),
        ([1, 0, 0, 1], "1", [True, False, False, True]),
        ([True, False, False, True], True, [True, False, False, True]),
        ([True, False, False, True], False, [False, True, True, False]),
        (["A", "B", "B", "A"], "B", [False, True, True, False]),
    ],
)
def test_outcome_with_positive(tiny, values, positive, expected):
    leads = load_leads(tiny.assign(won=values), outcome="won", id="id", positive=positive)
    assert leads.outcome.tolist() == expected


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (
            {},
            {"outcome": "wonn"},
            r"outcome column 'wonn' not found; did you mean 'won'\? \(columns: 'id', 'title'",
        ),
        (
            {"won": ["yes", "no", "maybe", "no"]},
            {"outcome": "won"},
            r"outcome column 'won' must have two values \(won and lost\); found 3: "
            r"'maybe' \(first in row 3\), 'no' \(first in row 2\), 'yes' \(first in row 1\)",
        ),
        (
            {"won": ["no", "no", "no", "no"]},
            {"outcome": "won"},
            r"outcome column 'won' has a single value 'no' in all 4 rows",
        ),
        (
            {"won": ["yes", "", "NA", "no"]},
            {"outcome": "won"},
            r"outcome column 'won' is missing in 2 row\(s\) \(rows 2, 3\)",
        ),
        (
            {"won": ["yes", "no", "no", "yes"]},
            {"outcome": "won", "positive": "won"},
            r"positive value 'won' is not a value of outcome column 'won' "
            r"\(values: 'no', 'yes'\)",
        ),
        (
            {"won": ["closed", "open", "open", "closed"]},
            {"outcome": "won"},
            r"outcome column 'won' has values 'closed', 'open': say which one means won "
            r"\(--positive VALUE\)",
        ),
        (
            {"won": ["yes", "true", "true", "yes"]},
            {"outcome": "won"},
            r"has values 'true', 'yes': say which one means won",
        ),
        (
            {"id": ["a", "b", "a", "b"]},
            {"outcome": "won", "id": "id"},
            r"id column 'id' has 2 duplicate id\(s\) in 4 rows: 'a', 'b'",
        ),
        (
            {"id": ["a", "", None, "d"]},
            {"outcome": "won", "id": "id"},
            r"id column 'id' is empty in 2 row\(s\) \(rows 2, 3\)",
        ),
        ({}, {"outcome": "won", "id": "ID"}, r"id column 'ID' not found; did you mean 'id'\?"),
        (
            {},
            {"outcome": "won", "exclude": ["nope"]},
            r"excluded column 'nope' not found",
        ),
        (
            {},
            {"outcome": "won", "exclude": {"titel": "typo"}},
            r"excluded column 'titel' not found; did you mean 'title'\?",
        ),
        (
            {},
            {"outcome": "won", "types": {"code": "categorical"}},
            r"criterion column 'code' not found",
        ),
        (
            {},
            {"outcome": "won", "types": {"clicks": "text"}},
            r"column 'clicks': type must be one of numeric, categorical, boolean, got 'text'",
        ),
        (
            {},
            {"outcome": "won", "types": {"title": "numeric"}},
            r"column 'title': 3 value\(s\) are not a number \(row 1: 'VP'; row 2: 'VP'; "
            r"row 3: 'CEO'\)",
        ),
        ({}, {"outcome": "won", "implicit": ["nope"]}, r"criterion column 'nope' not found"),
        ({}, {"outcome": "won", "date": "when"}, r"date column 'when' not found"),
        (
            {"when": ["2024-01-02", "2024-02-30", "2024-01-03", "soon"]},
            {"outcome": "won", "date": "when"},
            r"date column 'when': 2 value\(s\) are not dates "
            r"\(row 2: '2024-02-30'; row 4: 'soon'\)",
        ),
        (
            {"when": ["2024-01-02", "", "2024-01-03", "2024-01-04"]},
            {"outcome": "won", "date": "when"},
            r"date column 'when' is empty in 1 row\(s\) \(rows 2\)",
        ),
        (
            {},
            {"outcome": "won", "id": "id", "exclude": ["title", "clicks", "vip"]},
            r"no column is left to use as a criterion \(left out: 'title', 'clicks', 'vip'",
        ),
    ],
    ids=[
        "outcome-not-found",
        "outcome-three-values",
        "single-class",
        "outcome-missing",
        "unknown-positive",
        "unclear-labels",
        "two-positive-labels",
        "duplicate-ids",
        "empty-ids",
        "id-not-found",
        "excluded-not-found",
        "excluded-dict-not-found",
        "type-column-not-found",
        "bad-type-kind",
        "type-does-not-fit",
        "implicit-not-found",
        "date-not-found",
        "unparseable-dates",
        "missing-date",
        "nothing-left",
    ],
)
def test_load_leads_errors(tiny, change, kwargs, match):
    with pytest.raises(DataError, match=match):
        load_leads(tiny.assign(**change), **kwargs)


def test_load_leads_error_from_a_file_names_the_row(tmp_path, tiny):
    path = tmp_path / "leads.csv"
    tiny.assign(won=["yes", "no", "no", "later"]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"'later' \(first in row 4\)"):
        load_leads(path, outcome="won")


@pytest.mark.parametrize(
    ("exclude", "expected"),
    [
        (["clicks"], {"clicks": "excluded by the user"}),
        ("clicks", {"clicks": "excluded by the user"}),
        (["clicks:known only after the call"], {"clicks": "known only after the call"}),
        (["clicks : leaks ", "vip"], {"clicks": "leaks", "vip": "excluded by the user"}),
        (["clicks:"], {"clicks": "excluded by the user"}),
        ({"clicks": "known only after the call"}, {"clicks": "known only after the call"}),
        ({"clicks": ""}, {"clicks": "excluded by the user"}),
    ],
)
def test_exclude_forms(tiny, exclude, expected):
    leads = load_leads(tiny, outcome="won", id="id", exclude=exclude)
    for column, reason in expected.items():
        assert leads.excluded[column] == reason
        assert column not in leads.features
        assert column not in leads.column_types
    assert "title" in leads.features


def test_exclude_a_column_whose_name_has_a_colon(tiny):
    frame = tiny.rename(columns={"clicks": "clicks:30d"})
    leads = load_leads(frame, outcome="won", exclude=["clicks:30d"])
    assert leads.excluded["clicks:30d"] == "excluded by the user"


@pytest.mark.parametrize(
    ("types", "expected_kind", "expected_values"),
    [
        ({"code": "categorical"}, "categorical", ["01", "02", "10", "02"]),
        ({}, "numeric", [1.0, 2.0, 10.0, 2.0]),
        ({"code": "numeric"}, "numeric", [1.0, 2.0, 10.0, 2.0]),
    ],
)
def test_type_overrides(tiny, types, expected_kind, expected_values):
    frame = tiny.assign(code=["01", "02", "10", "02"])
    leads = load_leads(frame, outcome="won", id="id", types=types)
    assert leads.column_types["code"] == expected_kind
    assert leads.features["code"].tolist() == expected_values


def test_type_override_to_boolean_of_a_parquet_int_column_with_gaps(tmp_path, tiny):
    # An integer 0/1 column with a gap is stored as float by pandas.
    tiny.assign(flag=[1.0, 0.0, np.nan, 1.0]).to_parquet(tmp_path / "t.parquet", index=False)
    leads = load_leads(tmp_path / "t.parquet", outcome="won", types={"flag": "boolean"})
    assert leads.features["flag"].tolist()[:2] == ["true", "false"]
    assert leads.features["flag"].isna().tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    ("column", "values", "kind"),
    [
        ("flag", ["yes", "no", "", "yes"], "boolean"),
        ("flag", [True, False, True, True], "boolean"),
        ("flag", ["1", "0", "0", "1"], "numeric"),
        ("flag", [1, 0, 0, 1], "numeric"),
        ("score", ["1.5", "2", "NA", "-3"], "numeric"),
        ("score", ["1.5", "x", "y", "z"], "categorical"),
    ],
)
def test_kind_inference(tiny, column, values, kind):
    leads = load_leads(tiny.assign(**{column: values}), outcome="won", id="id")
    assert leads.column_types[column] == kind


def test_a_mostly_numeric_column_is_numeric_and_names_the_rest():
    # One row in twenty is text: the numbers are kept, the text is missing and named.
    values = [str(v) for v in range(19)] + ["about fifty"]
    frame = pd.DataFrame({"id": range(20), "employees": values, "won": ["yes", "no"] * 10})
    leads = load_leads(frame, outcome="won", id="id")
    assert leads.column_types["employees"] == "numeric"
    assert leads.features["employees"].isna().tolist() == [False] * 19 + [True]
    (warning,) = leads.warnings
    assert "'employees'" in warning and "row 20: 'about fifty'" in warning
    assert "--type employees=categorical" in warning


def test_a_partly_numeric_column_is_refused_with_rows_and_values():
    values = ["12", "40", "about fifty", "7", "many", "3", "n/k"]
    frame = pd.DataFrame({"id": range(7), "employees": values, "won": ["yes", "no"] * 3 + ["no"]})
    with pytest.raises(DataError) as caught:
        load_leads(frame, outcome="won", id="id")
    message = str(caught.value)
    assert "'employees'" in message and "57%" in message
    assert "row 3: 'about fifty'" in message and "row 7: 'n/k'" in message


@pytest.mark.parametrize(
    ("values", "form"),
    [
        (["15 Apr, 2021 00:03:00", "2 May, 2021 13:30:00", "30 Dec, 2020 23:59:59"], "Zoho"),
        (["04/15/2021 11:03 PM", "04/02/2021 09:00 AM", "12/30/2020 12:00 PM"], "US"),
        (["2021-04-15T23:03:00Z", "2021-04-02T09:00:00Z", "2020-12-30T12:00:00Z"], "ISO"),
        (["15.04.2021", "02.04.2021", "30.12.2020"], "day first"),
        (["Apr 15, 2021", "Apr 2, 2021", "Dec 30, 2020"], "named month first"),
    ],
)
def test_crm_export_dates_are_left_out_as_dates_and_read_as_dates(values, form):
    frame = pd.DataFrame(
        {"id": range(6), "created": values * 2, "size": range(6), "won": ["yes", "no"] * 3}
    )
    leads = load_leads(frame, outcome="won", id="id")
    assert leads.excluded["created"] == "a date/time column; not used as a criterion"
    dated = load_leads(frame, outcome="won", id="id", date="created")
    assert dated.dates.dt.year.tolist() == [2021, 2021, 2020] * 2
    assert dated.dates.dt.day.tolist() == [15, 2, 30] * 2


def test_epoch_times_in_a_time_column_are_dates():
    seconds = [1618527780, 1618527790, 1609372800, 1618000000]
    frame = pd.DataFrame(
        {
            "id": range(4),
            "created_at": seconds,
            "updated_ms": [s * 1000 for s in seconds],
            "visits": [1618527780, 2, 3, 4],  # not named like a time: a number
            "won": ["yes", "no"] * 2,
        }
    )
    leads = load_leads(frame, outcome="won", id="id", date="created_at")
    assert leads.excluded["updated_ms"].startswith("a date/time column (epoch milliseconds)")
    assert leads.column_types["visits"] == "numeric"
    assert leads.dates.iloc[0] == pd.Timestamp("2021-04-15 23:03:00")
    text = frame.astype(str)
    assert load_leads(text, outcome="won", id="id", date="created_at").dates.equals(leads.dates)


def test_an_ambiguous_day_month_order_is_refused_naming_the_column():
    frame = pd.DataFrame(
        {
            "id": range(4),
            "closed": ["04/05/2021", "03/02/2021"] * 2,
            "size": range(4),
            "won": ["yes", "no"] * 2,
        }
    )
    assert "closed" in load_leads(frame, outcome="won", id="id").excluded
    with pytest.raises(DataError, match="date column 'closed'.*ambiguous"):
        load_leads(frame, outcome="won", id="id", date="closed")
    # A day past 12 settles the order.
    settled = frame.assign(closed=["04/05/2021", "25/02/2021"] * 2)
    dated = load_leads(settled, outcome="won", id="id", date="closed")
    assert dated.dates.dt.month.tolist() == [5, 2] * 2


def test_automatic_exclusions_with_reasons(leads_frame):
    n = len(leads_frame)
    frame = leads_frame.assign(
        plan=["free"] * n,
        email=[f"user{i}@example.com" for i in range(n)],
        notes=[""] * (n - 1) + ["NA"],
        signup=pd.date_range("2023-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
        first_seen=pd.date_range("2023-01-01", periods=n, freq="D"),
    )
    leads = load_leads(frame, outcome="outcome", id="lead_id", date="created")
    assert leads.excluded == {
        "plan": "has a single value ('free')",
        "email": f"looks like an identifier or free text ({n} distinct values)",
        "notes": "has no values",
        "signup": "a date/time column; not used as a criterion",
        "first_seen": "a date/time column; not used as a criterion",
    }
    assert set(leads.column_types) == {"role", "company_size", "email_clicks"}


def test_many_repeated_categories_are_not_an_identifier(leads_frame):
    leads = load_leads(leads_frame, outcome="outcome", id="lead_id")
    assert leads.column_types["role"] == "categorical"
    assert "role" not in leads.excluded
    # Without date=, the date column is left out as a date, not used.
    assert leads.excluded == {"created": "a date/time column; not used as a criterion"}


@pytest.mark.parametrize(
    ("column", "group"),
    [
        ("email_clicks", "implicit"),
        ("page_views", "implicit"),
        ("webinars_attended", "implicit"),
        ("Demo_Requested", "implicit"),
        ("time_on_site_min", "implicit"),
        ("company_size", "explicit"),
        ("role", "explicit"),
        ("industry", "explicit"),
    ],
)
def test_group_inference_from_the_name(tiny, column, group):
    frame = tiny[["won"]].assign(**{column: ["a", "b", "a", "c"]})
    assert load_leads(frame, outcome="won").groups == {column: group}


def test_group_overrides(tiny):
    leads = load_leads(tiny, outcome="won", id="id", implicit=["title"], explicit=["clicks"])
    assert leads.groups == {"title": "implicit", "clicks": "explicit", "vip": "explicit"}
    single = load_leads(tiny, outcome="won", id="id", implicit="title")
    assert single.groups["title"] == "implicit"


def test_dates_are_parsed(tiny):
    frame = tiny.assign(when=["2024-01-02", "2024-03-01 10:30", " 2024-01-03 ", "2023-12-31"])
    leads = load_leads(frame, outcome="won", id="id", date="when")
    assert pd.api.types.is_datetime64_any_dtype(leads.dates.dtype)
    assert leads.dates.name == "when"
    assert leads.dates.tolist() == [
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-03-01 10:30"),
        pd.Timestamp("2024-01-03"),
        pd.Timestamp("2023-12-31"),
    ]
    assert "when" not in leads.features
    assert "when" not in leads.excluded


def test_dates_from_parquet_timestamps(tmp_path, tiny):
    when = pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-04", "2024-01-03"])
    tiny.assign(when=when).to_parquet(tmp_path / "t.parquet", index=False)
    leads = load_leads(tmp_path / "t.parquet", outcome="won", date="when")
    assert leads.dates.tolist() == list(when)


def test_row_numbers_are_ids_without_an_id_column(tiny):
    leads = load_leads(tiny.drop(columns="id"), outcome="won")
    assert leads.ids.tolist() == ["1", "2", "3", "4"]
    assert leads.ids.name == "row"
    assert leads.id_column is None


def test_numeric_ids_are_text(tiny):
    leads = load_leads(tiny.assign(id=[10.0, 11.0, 12.0, 13.0]), outcome="won", id="id")
    assert leads.ids.tolist() == ["10", "11", "12", "13"]


def test_no_outcome_for_leads_to_score(tiny):
    leads = load_leads(tiny.drop(columns="won"), id="id")
    assert leads.outcome is None
    assert leads.positive_label is None
    assert leads.fingerprint().startswith("sha256:")


# --------------------------------------------------------------------------- fingerprint, subset


@pytest.fixture(scope="module")
def fingerprint(tiny):
    return load_leads(tiny, outcome="won", id="id").fingerprint()


@pytest.mark.parametrize("form", ["csv", "semicolon-csv", "parquet", "dataframe", "reordered"])
def test_fingerprint_is_the_same_whatever_the_format(tmp_path, tiny, fingerprint, form):
    if form == "csv":
        source = tmp_path / "t.csv"
        tiny.to_csv(source, index=False)
    elif form == "semicolon-csv":
        source = tmp_path / "t.csv"
        tiny.to_csv(source, index=False, sep=";")
    elif form == "parquet":
        source = tmp_path / "t.parquet"
        tiny.to_parquet(source, index=False)
    elif form == "dataframe":
        source = tiny.copy()
    else:
        source = tiny[tiny.columns[::-1]]
    assert load_leads(source, outcome="won", id="id").fingerprint() == fingerprint


@pytest.mark.parametrize(
    ("change", "kwargs"),
    [
        ({"won": ["yes", "no", "yes", "yes"]}, {}),
        ({"clicks": [1, 0, 3, 4]}, {}),
        ({"id": ["a", "b", "c", "e"]}, {}),
        ({}, {"types": {"clicks": "categorical"}}),
        ({}, {"exclude": ["vip"]}),
    ],
    ids=["one-outcome-flipped", "one-value", "one-id", "a-type", "a-column"],
)
def test_fingerprint_changes_with_the_data(tiny, fingerprint, change, kwargs):
    leads = load_leads(tiny.assign(**change), outcome="won", id="id", **kwargs)
    assert leads.fingerprint() != fingerprint


def test_subset(tiny):
    frame = tiny.assign(when=["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    leads = load_leads(frame, outcome="won", id="id", date="when")
    part = leads.subset(np.array([2, 0]))
    assert isinstance(part, LeadData)
    assert part.n_leads == 2
    assert part.ids.tolist() == ["c", "a"]
    assert part.outcome.tolist() == [False, True]
    assert part.features["clicks"].tolist() == [3.0, 1.0]
    assert part.features.index.tolist() == [0, 1]
    assert part.dates.tolist() == [pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-01")]
    assert part.column_types == leads.column_types
    assert part.excluded == leads.excluded
    assert part.positive_label == leads.positive_label
    assert part.fingerprint() != leads.fingerprint()
    assert leads.subset(np.arange(4)).fingerprint() == leads.fingerprint()


def test_subset_without_outcome(tiny):
    leads = load_leads(tiny.drop(columns="won"), id="id")
    part = leads.subset(np.array([3]))
    assert part.outcome is None
    assert part.ids.tolist() == ["d"]
