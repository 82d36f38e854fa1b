"""Tests for calibrate.io.tables: reading CSV and Parquet tables as they are stored."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from calibrate.errors import DataError
from calibrate.io.tables import read_table


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_read_table_sniffs_the_separator(tmp_path, sep):
    lines = [["id", "x", "name"], ["1", "2.5", "a b"], ["2", "3", "c"]]
    path = _write(tmp_path / "leads.csv", "\n".join(sep.join(r) for r in lines) + "\n")
    frame = read_table(path)
    assert frame.columns.tolist() == ["id", "x", "name"]
    assert frame.to_dict("list") == {"id": ["1", "2"], "x": ["2.5", "3"], "name": ["a b", "c"]}


def _write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_read_table_sniffs_semicolon_with_commas_in_values(tmp_path):
    path = _write(tmp_path / "eu.csv", "id;amount;city\n1;2,5;Paris, FR\n2;3,1;Lyon, FR\n")
    frame = read_table(path)
    assert frame["amount"].tolist() == ["2,5", "3,1"]
    assert frame["city"].tolist() == ["Paris, FR", "Lyon, FR"]


def test_read_table_uses_a_given_separator(tmp_path):
    path = _write(tmp_path / "leads.txt", "a;b\n1;2\n")
    assert read_table(path, sep=",").columns.tolist() == ["a;b"]
    assert read_table(path, sep=";").columns.tolist() == ["a", "b"]


def test_read_table_keeps_csv_as_text(tmp_path):
    path = _write(tmp_path / "leads.csv", "id,n,flag,empty\n007,1,true,\nNA,2.50,false,x\n")
    frame = read_table(path)
    # No type guessing and no missing-value guessing: that is load_leads' job.
    assert frame.to_dict("list") == {
        "id": ["007", "NA"],
        "n": ["1", "2.50"],
        "flag": ["true", "false"],
        "empty": ["", "x"],
    }


def test_read_table_strips_bom_and_header_spaces(tmp_path):
    path = _write(tmp_path / "leads.csv", "\ufeff a ,b \n1,2\n")
    assert read_table(path).columns.tolist() == ["a", "b"]


def test_read_table_reads_gzip_csv(tmp_path):
    path = tmp_path / "leads.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("a;b\n1;2\n3;4\n")
    assert read_table(path).to_dict("list") == {"a": ["1", "3"], "b": ["2", "4"]}


@pytest.mark.parametrize("name", ["leads.parquet", "leads.pq", "leads_without_suffix"])
def test_read_table_parquet_keeps_types(tmp_path, name):
    frame = pd.DataFrame({"x": [1.5, np.nan], "n": [3, 4], "c": ["a", None], "b": [True, False]})
    frame.to_parquet(tmp_path / name, index=False)
    back = read_table(tmp_path / name)
    assert back["x"].dtype == np.float64
    assert back["n"].dtype == np.int64
    assert back["b"].dtype == bool
    assert back["c"].tolist()[0] == "a"
    assert back["c"].isna().tolist() == [False, True]


def test_read_table_dataframe_is_a_copy():
    given = pd.DataFrame({"title": ["VP", "Analyst"], "employees": [120, 8]})
    frame = read_table(given)
    frame.loc[0, "title"] = "changed"
    assert given.loc[0, "title"] == "VP"
    pd.testing.assert_frame_equal(read_table(given), given)


def test_read_table_other_encoding(tmp_path):
    path = _write(tmp_path / "latin.csv", "name,x\nJosé,1\nZoë,2\n", encoding="cp1252")
    assert read_table(path, encoding="cp1252")["name"].tolist() == ["José", "Zoë"]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda d: d / "nope.csv", r"cannot read .*nope\.csv: no such file"),
        (lambda d: d, r"folder .* holds no Parquet or CSV files"),
        (lambda d: _write(d / "empty.csv", ""), r"empty\.csv: the file is empty"),
        (lambda d: _write(d / "head.csv", "a,b,c\n"), r"the file has a header but no lead rows"),
        (
            lambda d: (d / "x.csv").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50) and d / "x.csv",
            r"x\.csv: it looks like a binary file",
        ),
        (
            lambda d: (d / "x.dat").write_bytes(bytes(range(256)) * 4) and d / "x.dat",
            r"x\.dat: it looks like a binary file",
        ),
        (
            lambda d: _write(d / "latin.csv", "name\nJosé\n", encoding="cp1252"),
            r"latin\.csv: not utf-8-sig text at byte 8; give the file's encoding "
            r"\(e\.g\. --encoding cp1252\)",
        ),
        (
            lambda d: _write(d / "trailing.csv", "a,b\n1,2,\n3,4,\n"),
            r"some rows have more fields than the header \(separator ','\)",
        ),
        (lambda d: _write(d / "dup.csv", "a,a,b\n1,2,3\n"), r"duplicate column names: 'a'$"),
        (
            lambda d: (d / "bad.parquet").write_bytes(b"not parquet") and d / "bad.parquet",
            r"cannot read .*bad\.parquet as Parquet",
        ),
    ],
    ids=[
        "missing",
        "folder",
        "zero-bytes",
        "header-only",
        "binary-nul",
        "binary-all-bytes",
        "not-utf8",
        "ragged",
        "duplicate-columns",
        "bad-parquet",
    ],
)
def test_read_table_errors(tmp_path, make, match):
    path = make(tmp_path)
    with pytest.raises(DataError, match=match):
        read_table(path)


def test_read_table_empty_dataframe():
    with pytest.raises(DataError, match="the lead table is empty: it has no rows"):
        read_table(pd.DataFrame({"a": []}))
