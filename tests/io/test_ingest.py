"""Tests for calibrate.io.ingest: reading lead tables and checking them once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.errors import DataError
from calibrate.io.ingest import LeadData, load_leads

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
