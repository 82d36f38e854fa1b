"""Tests for calibrate.io.values: outcomes, lead ids, dates and column kinds.

The values are parsed as load_leads parses them, from a lead table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.errors import DataError
from calibrate.io.ingest import load_leads


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


# --------------------------------------------------------------------------- outcomes


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


# --------------------------------------------------------------------------- ids


def test_row_numbers_are_ids_without_an_id_column(tiny):
    leads = load_leads(tiny.drop(columns="id"), outcome="won")
    assert leads.ids.tolist() == ["1", "2", "3", "4"]
    assert leads.ids.name == "row"
    assert leads.id_column is None


def test_numeric_ids_are_text(tiny):
    leads = load_leads(tiny.assign(id=[10.0, 11.0, 12.0, 13.0]), outcome="won", id="id")
    assert leads.ids.tolist() == ["10", "11", "12", "13"]


# --------------------------------------------------------------------------- dates


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


# --------------------------------------------------------------------------- column kinds


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
