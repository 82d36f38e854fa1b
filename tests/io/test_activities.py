"""Tests for calibrate.io.activities: reading and checking an activity log in DuckDB.

Bad logs are refused naming the rows, by the DuckDB reader and by the pandas
reader of the standalone scorer alike.
"""

from __future__ import annotations

import pandas as pd
import pytest

from activity_logs import make_log
from calibrate.datasets import make_leads
from calibrate.errors import DataError
from calibrate.io.activities import connect, read_activities
from calibrate.io.tables import read_table
from calibrate.sheet.activity import ActivitySpec, aggregate_frame, normalise_activities
from calibrate.sheet.feature import ActivityFeature, DetailRule, Kernel

NOW = pd.Timestamp("2030-01-01")
T = pd.Timestamp("2024-06-01 12:00:00")
RULES = ["page_view:/pricing*=pricing_page_view", "page_view:/careers*=careers_page_view"]


pytestmark = pytest.mark.usefixtures("duckdb_spill_under_tmp")


# --------------------------------------------------------------------------- the reader


@pytest.fixture(scope="module")
def plain_spec():
    return ActivitySpec(
        features=(ActivityFeature("opens", "count", ("email_open",), kernel=Kernel("all")),),
        known_types=("email_open",),
    )


def _read_with_duckdb(spec, path):
    con = connect()
    try:
        read_activities(con, path, spec, now=NOW)
        return con.execute("SELECT * FROM calibrate_activities").df()
    finally:
        con.close()


def _read_with_pandas(spec, path):
    # What the standalone scorer does with a log file.
    aggregate_frame(spec, pd.Series(["L1"]), pd.Series([T]), read_table(path))


READERS = {"duckdb": _read_with_duckdb, "pandas": _read_with_pandas}
HEADER = "lead_id,activity_type,occurred_at\n"


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            HEADER + "L1,email_open,2024-01-01 10:00:00\nL1,email_open,not a date\n"
            "L2,email_open,2024-02-30 10:00:00\n",
            r"'occurred_at'.* not timestamps.*"
            r"\(row 2: 'not a date'; row 3: '2024-02-30 10:00:00'\)",
        ),
        (
            HEADER
            + "L1,email_open,2024-01-01T10:00:00+02:00\nL1,email_open,2024-01-01T11:00:00\n",
            r"column 'occurred_at' mixes timestamps with and without a time zone "
            r"\(row 1: '2024-01-01T10:00:00\+02:00'; row 2: '2024-01-01T11:00:00'\)",
        ),
        (
            HEADER
            + "L1,email_open,2024-01-01\n,email_open,2024-01-02\nL2,email_open,2024-01-03\n",
            r"activity log: column 'lead_id' is empty in 1 row\(s\) \(row 2: ",
        ),
        (
            HEADER + "L1,email_open,2024-01-01\n \t,email_open,2024-01-02\n",
            r"activity log: column 'lead_id' is empty in 1 row\(s\) \(row 2: ' \\t'\)",
        ),
        (
            HEADER + "L1,email_open,2024-01-01\nL1,,2024-01-02\nL2,,2024-01-03\n",
            r"activity log: column 'activity_type' is empty in 2 row\(s\) \(row 2: .*; row 3: ",
        ),
        (
            HEADER + "L1,email_open,2024-01-01 10:00:00 Europe/Paris\n",
            r"'occurred_at'.* not timestamps.*\(row 1: '2024-01-01 10:00:00 Europe/Paris'\)",
        ),
        (
            "lead,activity_type,when\nL1,email_open,2024-01-01\n",
            r"activity log: column\(s\) 'lead_id', 'occurred_at' not found "
            r"\(columns: 'lead', 'activity_type', 'when'\)",
        ),
    ],
    ids=[
        "unparseable",
        "mixed-zones",
        "empty-lead-id",
        "blank-lead-id",
        "empty-type",
        "named-zone",
        "missing-columns",
    ],
)
def test_bad_log_is_refused_naming_rows(plain_spec, tmp_path, reader, text, match):
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=match):
        READERS[reader](plain_spec, path)


def test_timestamps_in_the_future_are_refused(plain_spec):
    log = make_log(
        [("L1", "email_open", "2024-12-31", None), ("L1", "email_open", "2031-01-01", None)]
    )
    with pytest.raises(
        DataError,
        match=r"activity log: column 'occurred_at' has timestamps in the future "
        r"\(after 2030-01-01 00:00:00 UTC\) in 1 row\(s\) \(row 2: '2031-01-01",
    ):
        read_activities(connect(), log, plain_spec, now=NOW)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-01-01T10:00:00+02:00", "2024-01-01 08:00:00"),
        ("2024-01-01T10:00:00-05:30", "2024-01-01 15:30:00"),
        ("2024-01-01T10:00:00+0200", "2024-01-01 08:00:00"),
        ("2024-01-01T10:00:00+02", "2024-01-01 08:00:00"),
        ("2024-01-01T10:00:00Z", "2024-01-01 10:00:00"),
        ("2024-01-01 10:00:00.75", "2024-01-01 10:00:00"),
    ],
)
def test_zoned_text_timestamps_are_converted_to_utc(plain_spec, tmp_path, text, utc):
    path = tmp_path / "log.csv"
    path.write_text(f"{HEADER}L1,email_open,{text}\nL1,email_open,{text}\n", encoding="utf-8")
    duck = _read_with_duckdb(plain_spec, path)["occurred_at"]
    pandas = normalise_activities(read_table(path), plain_spec)["occurred_at"]
    assert duck.tolist() == [pd.Timestamp(utc)] * 2
    assert pandas.tolist() == [pd.Timestamp(utc)] * 2


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda folder: folder / "nowhere.csv", r"cannot read .*nowhere\.csv: no such file"),
        (
            lambda folder: _touch(folder / "empty.csv"),
            r"cannot read .*empty\.csv: the file is empty",
        ),
    ],
    ids=["missing", "empty"],
)
def test_unreadable_log_files(plain_spec, tmp_path, make, match):
    with pytest.raises(DataError, match=match):
        read_activities(connect(), make(tmp_path), plain_spec, now=NOW)


def _touch(path):
    path.write_bytes(b"")
    return path


def test_csv_parquet_and_frame_read_the_same(tmp_path):
    _, log = make_leads(60, seed=4, activities=True)
    spec = ActivitySpec(detail="detail", detail_rules=tuple(DetailRule.parse(r) for r in RULES))
    log.to_csv(tmp_path / "log.csv", index=False)
    log.to_parquet(tmp_path / "log.parquet", index=False)
    frames, counts = [], []
    for source in (log, tmp_path / "log.csv", tmp_path / "log.parquet"):
        con = connect()
        counts.append(read_activities(con, source, spec, now=NOW))
        frames.append(con.execute("SELECT * FROM calibrate_activities").df())
        con.close()
    assert counts[0] == counts[1] == counts[2]
    assert counts[0]["rows"] == len(log)
    assert counts[0]["types"]["pricing_page_view"] > 0
    for other in frames[1:]:
        pd.testing.assert_frame_equal(other, frames[0])
