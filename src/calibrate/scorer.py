"""Scorer: score leads from a scoring config alone.

This is what production runs. It reads only the config (never the fitted
Python objects) and needs nothing beyond numpy and pandas, so it gives the
same scores wherever the config goes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError, format_examples

__all__ = ["score_leads"]


def score_leads(
    config,
    data,
    *,
    sep: str | None = None,
    encoding: str = "utf-8-sig",
    breakdown: bool = False,
) -> pd.DataFrame:
    """Score every lead of a table with a config.

    Parameters
    ----------
    config : ScoringConfig
        The config (see :meth:`calibrate.ScoringConfig.load`).
    data : str, os.PathLike or pandas.DataFrame
        Leads to score: a CSV or Parquet file, or a DataFrame. It needs every
        column the config's criteria read; other columns are ignored.
    sep : str, optional
        CSV separator; sniffed by default.
    encoding : str, default="utf-8-sig"
        Text encoding of a CSV file.
    breakdown : bool, default=False
        Also return the points of every criterion, one column each.

    Returns
    -------
    pandas.DataFrame
        One row per input row, in input order: the id (the config's id
        column, or ``row`` numbered from 1), ``score`` (int) and ``mql``
        (bool); with ``breakdown``, each criterion's points before ``score``,
        in columns ``points_<criterion name>`` (so that no criterion name can
        clash with the id, ``score`` or ``mql``).

    Raises
    ------
    DataError
        When a criterion's column is missing or holds a value of the wrong
        type (naming the column, rows and values).
    """
    from .ingest import _parse_ids, _row_ids, read_table

    frame = read_table(data, sep=sep, encoding=encoding)
    needed = [c.column for c in config.criteria]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if config.id_column is not None and config.id_column not in frame.columns:
        missing.insert(0, config.id_column)
    if missing:
        raise DataError(
            f"{len(missing)} column(s) the config needs are missing from the data: "
            f"{format_examples(missing)}"
        )
    if config.id_column is not None:
        ids = _parse_ids(frame[config.id_column], config.id_column)
    else:
        ids = _row_ids(len(frame))
    total = np.full(len(frame), config.base_points, dtype=np.int64)
    parts = {}
    for criterion in config.criteria:
        points = np.array([b.points for b in criterion.bands], dtype=np.int64)
        earned = points[criterion.assign(frame[criterion.column])]
        parts[criterion.name] = earned
        total += earned
    score = np.clip(total, config.min_score, config.max_score)
    out = pd.DataFrame({ids.name: ids.to_numpy()})
    if breakdown:
        for name, earned in parts.items():
            out[f"points_{name}"] = earned
    out["score"] = score
    out["mql"] = score >= config.mql_threshold
    return out
