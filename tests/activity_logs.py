"""Activity logs written by hand, shared by the tests of the reader, the SQL and the featurizer."""

from __future__ import annotations

import pandas as pd

from calibrate.sheet.activity import aggregate_frame

LOG_COLUMNS = ["lead_id", "activity_type", "occurred_at", "detail"]


def make_log(rows) -> pd.DataFrame:
    """An activity log of ``(lead_id, activity_type, occurred_at, detail)`` rows."""
    log = pd.DataFrame(rows, columns=LOG_COLUMNS)
    log["occurred_at"] = pd.to_datetime(log["occurred_at"]).astype("datetime64[s]")
    return log


def by_pandas(spec, leads, log):
    """The features of ``leads`` by the pandas evaluator, the oracle of every engine."""
    features, _ = aggregate_frame(spec, leads["lead_id"], leads["decision_time"], log)
    return features
