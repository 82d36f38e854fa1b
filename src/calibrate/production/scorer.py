"""Scorer: score leads from a scoring config alone.

This is what production runs. It reads only the config (never the fitted
Python objects) and needs nothing beyond numpy and pandas, so it gives the
same scores wherever the config goes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, format_examples
from ..sheet.criteria import category_codes
from .reasons import band_reasons, check_reasons, reason_order

__all__ = ["score_leads"]


def score_leads(
    config,
    data,
    *,
    sep: str | None = None,
    encoding: str = "utf-8-sig",
    breakdown: bool = False,
    bands: bool = False,
    activities=None,
    as_of=None,
    reasons: int = 0,
) -> pd.DataFrame:
    """Score every lead of a table with a config.

    Parameters
    ----------
    config : ScoringConfig
        The config (see :meth:`calibrate.ScoringConfig.load`).
    data : str, os.PathLike, Source or pandas.DataFrame
        Leads to score: a CSV or Parquet file (or a glob or folder of them), a
        DuckDB or database :class:`~calibrate.io.sources.Source`, or a DataFrame. It needs every
        column the config's criteria read; other columns are ignored.
    sep : str, optional
        CSV separator; sniffed by default.
    encoding : str, default="utf-8-sig"
        Text encoding of a CSV file.
    activities : str, os.PathLike, Source or pandas.DataFrame, optional
        The activity log, needed when the config scores behaviour.
    as_of : str or datetime, optional
        Score behaviour as of this moment (UTC unless it names a zone): only
        earlier activity counts and decay runs up to it, so a lead that goes
        quiet loses points. ``"now"`` is the current time. By default each
        lead's decision time from the config's decision column.
    breakdown : bool, default=False
        Also return the points of every criterion, one column each.
    bands : bool, default=False
        Also return the band every lead falls in, per criterion: its label,
        in columns ``band_<criterion name>`` (after any points columns); and
        per fast-track rule whether it holds for the lead, in columns
        ``fast_track_1``, ``fast_track_2``... (in the config's order).
    reasons : int, default=0
        Also return each lead's ``reasons`` largest contributions in words,
        in columns ``reason_1`` .. ``reason_<reasons>`` at the end: for
        example ``"seniority VP +22"``; missing where the lead has fewer
        criteria worth points (see :mod:`calibrate.production.reasons` for
        the order, ties included). The exported SQL gives the same text.

    Returns
    -------
    pandas.DataFrame
        One row per input row, in input order: the id (the config's id
        column, or ``row`` numbered from 1), ``score`` (int), ``level`` (when
        the config has levels) and ``mql`` (bool: the score reaches the
        threshold, or a fast-track rule holds: e.g. a demo request in the 30
        days before the decision or as-of time). With ``breakdown``, each
        criterion's points come before ``score``, in columns
        ``points_<criterion name>`` (so that no criterion name can clash with
        the id, ``score`` or ``mql``).

        ``attrs["warnings"]`` lists activity types never seen in training
        (they score no points) and activities of unknown leads;
        ``attrs["fast_track_hits"]`` holds, per fast-track rule in config
        order, how many leads it makes MQLs, and ``attrs["activity_counts"]``
        the log's ``rows``, the ``counted`` activities (before the decision
        or as-of time, within the look-back) and the ``unknown_types`` among
        them (type: activities).

    Raises
    ------
    DataError
        When a criterion's column is missing or holds a value of the wrong
        type (naming the column, rows and values), the config needs an
        activity log and none is given, or most of the log's activities belong
        to none of the leads (naming ids of both sides).
    ConfigError
        When the config's scale or points are out of bounds (see
        :meth:`~calibrate.production.config.ScoringConfig.check_bounds`): no sum of
        points overflows.
    """
    from ..io.tables import read_table

    config.check_bounds()
    reasons = check_reasons(reasons)

    frame = read_table(data, sep=sep, encoding=encoding, copy=False)
    warnings: list[str] = []
    spec = config.activity_spec
    rules = config.threshold.get("fast_track", [])
    hits, log_counts = {}, {}
    if spec is not None:
        frame, warnings, hits, log_counts = with_behaviour(
            config, spec, frame, activities, as_of, encoding, rules
        )
    elif activities is not None:
        warnings.append(
            "the config scores no behaviour (it was fitted without an activity log): "
            "the activities given were not read"
        )
    needed = [column for c in config.criteria for column in c.columns]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if config.id_column is not None and config.id_column not in frame.columns:
        missing.insert(0, config.id_column)
    if missing:
        raise DataError(
            f"{len(missing)} column(s) the config needs are missing from the data: "
            f"{format_examples(missing)}"
        )
    if config.id_column is not None:
        ids = _id_values(frame[config.id_column], config.id_column)
        out = pd.DataFrame({config.id_column: ids})
    else:
        out = pd.DataFrame({"row": _row_numbers(len(frame))})
    total = np.full(len(frame), config.base_points, dtype=np.int64)
    parts, labels, earned_by, band_by = {}, {}, [], []
    for criterion in config.criteria:
        points = np.array([b.points for b in criterion.bands], dtype=np.int64)
        # The band per distinct value (or per range), then one lookup per row;
        # a pair rule's cell from its two criteria's bands.
        band = criterion.assign_frame(frame)
        earned = points[band]
        if breakdown:
            parts[criterion.name] = earned
        if bands:
            labels[criterion.name] = _texts([b.label for b in criterion.bands], band)
        if reasons:
            earned_by.append(earned)
            band_by.append(band)
        total += earned
    score = np.clip(total, config.min_score, config.max_score)
    for name, earned in parts.items():
        out[f"points_{name}"] = earned
    for name, label in labels.items():
        out[f"band_{name}"] = label
    out["score"] = score
    levels = config.threshold.get("levels")
    if levels:
        # Levels run from the highest start down; a score takes the first it
        # reaches: the one after every start above it (the last level starts
        # at the scale's minimum, so every score reaches one).
        level = np.zeros(len(score), dtype=np.intp)
        for start in [lv["min_score"] for lv in levels]:
            level += score < start
        out["level"] = _texts([lv["name"] for lv in levels], level)
    fast_track = np.zeros(len(frame), dtype=bool)
    counts = []
    for i, rule in enumerate(rules):
        if rule["kind"] == "column":
            codes, texts = category_codes(frame[rule["column"]], "boolean", rule["column"])
            equal = np.array([t == rule["equals"] for t in texts] + [False], dtype=bool)
            hit = equal[codes]
        else:
            hit = hits[i]
        fast_track |= hit
        counts.append(int(hit.sum()))
        if bands:
            out[f"fast_track_{i + 1}"] = hit
    out["mql"] = (score >= config.mql_threshold) | fast_track
    if reasons:
        for k, column in enumerate(_reasons(config, earned_by, band_by, reasons, len(frame))):
            out[f"reason_{k + 1}"] = column
    if config.threshold.get("recommended") is False:
        warnings.insert(
            0,
            "the config's history showed no usable signal (its hold-out AUC's interval "
            "includes 0.5): these scores rank leads no better than chance",
        )
    out.attrs["warnings"] = warnings
    out.attrs["fast_track_hits"] = counts
    out.attrs["activity_counts"] = log_counts
    return out


def _reasons(config, earned_by, band_by, n_reasons: int, n_leads: int) -> list:
    """The ``reason_1`` .. ``reason_<n_reasons>`` columns (see :mod:`.reasons`)."""
    spec = config.activity_spec
    texts = [band_reasons(c, spec) for c in config.criteria]
    table = [t for block in texts for t in block] + [None]
    if not texts:
        return [_texts(table, np.zeros(n_leads, dtype=np.intp)) for _ in range(n_reasons)]
    starts = np.cumsum([0] + [len(block) for block in texts[:-1]])
    points = np.column_stack(earned_by)
    index = np.column_stack(band_by) + starts[None, :]
    order = reason_order(points)
    rows = np.arange(n_leads)
    columns = []
    for k in range(n_reasons):
        if k >= points.shape[1]:
            columns.append(_texts(table, np.full(n_leads, len(table) - 1, dtype=np.intp)))
            continue
        j = order[:, k]
        pick = np.where(points[rows, j] != 0, index[rows, j], len(table) - 1)
        columns.append(_texts(table, pick))
    return columns


def _text_dtype():
    """The dtype pandas gives a column of Python strings (``str`` from pandas 3 on)."""
    return pd.Series(np.array(["x"], dtype=object)).dtype


def _arrow_text(dtype) -> bool:
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _texts(names: list[str], index: np.ndarray):
    """``names[index]`` as a column of text, typed as pandas types Python strings."""
    dtype = _text_dtype()
    if _arrow_text(dtype):
        return pd.array(names, dtype=dtype).take(index)
    return np.array(names, dtype=object)[index]


def _id_values(values: pd.Series, column: str):
    """The lead ids as canonical text; raises on missing or repeated ids."""
    from ..io.values import canonical_ids, clean_ids

    clean = clean_ids(values)
    if clean is None:
        return canonical_ids(values, column).to_numpy()
    dtype = _text_dtype()
    if _arrow_text(dtype):
        return pd.array(clean, dtype=dtype)
    return values.to_numpy(dtype=object, copy=True)


def _row_numbers(n: int):
    """Row numbers from 1, as text."""
    dtype = _text_dtype()
    if _arrow_text(dtype):
        import pyarrow as pa

        return pd.array(pa.array(np.arange(1, n + 1)).cast(pa.large_string()), dtype=dtype)
    from ..io.values import row_ids

    return row_ids(n).to_numpy()


def with_behaviour(config, spec, frame, activities, as_of, encoding, rules):
    """The lead table with the behaviour features of ``spec``, as the scorer reads them.

    Parameters
    ----------
    config : ScoringConfig
        The config (its decision-time rule and id column).
    spec : ActivitySpec
        The behaviour features to compute (the config's, or a wider spec).
    frame : pandas.DataFrame
        The lead table.
    activities : source or None
        The activity log.
    as_of : timestamp, "now" or None
        Score behaviour as of this moment; each lead's decision time when None.
    encoding : str
        Text encoding of a CSV log.
    rules : list of dict
        The config's fast-track rules.

    Returns
    -------
    frame, warnings, hits, counts
        The lead table with one column per feature, warnings, per activity
        fast-track rule (by its position in ``rules``) the leads it makes
        MQLs, and the log's ``rows`` and ``unknown_types``.
    """
    from dataclasses import replace

    from ..io.tables import read_table
    from ..io.values import parse_dates, parse_ids
    from ..sheet.activity import aggregate_frame, fast_track_feature, utc_naive

    if activities is None:
        raise DataError(
            "this config scores behaviour from an activity log: give the log (--activities FILE)"
        )
    # No activity yet is a valid log: those leads simply earn no behaviour points.
    log = read_table(activities, encoding=encoding, allow_empty=True)
    if config.id_column is None or config.id_column not in frame.columns:
        raise DataError(
            f"scoring behaviour needs the lead id column {config.id_column!r} in the leads"
        )
    ids = parse_ids(frame[config.id_column], config.id_column)
    decision = config.activities.get("decision_time", {})
    if as_of is not None:
        moment = pd.Timestamp.now(tz="UTC") if str(as_of).lower() == "now" else pd.Timestamp(as_of)
        if moment.tzinfo is not None:
            moment = moment.tz_convert("UTC").tz_localize(None)
        times = pd.Series([moment] * len(frame))
    elif decision.get("column") and decision["column"] in frame.columns:
        # Scoring splits nothing: it needs each lead's moment, or one for all.
        why = "behaviour is scored as of each lead's decision time: give it, or --as-of DATE"
        times = utc_naive(parse_dates(frame[decision["column"]], decision["column"], why=why))
        times = times - pd.Timedelta(days=decision.get("offset_days", 0))
    else:
        raise DataError(
            "scoring behaviour needs a moment to score as of: give --as-of DATE (or 'now'), "
            f"or a {decision.get('column')!r} column in the leads"
        )
    tracked = {i: r for i, r in enumerate(rules) if r["kind"] == "activity"}
    extra = tuple(
        fast_track_feature(r["activity_type"], r["within_days"]) for r in tracked.values()
    )
    features, counts = aggregate_frame(
        replace(spec, features=spec.features + extra), ids, times, log
    )
    _check_ids_meet(config.id_column, ids, len(log), counts)
    hits = {
        i: features[feature.name].to_numpy() > 0 for i, feature in zip(tracked, extra, strict=True)
    }
    features = features.drop(columns=list(dict.fromkeys(f.name for f in extra)))
    warnings = []
    if counts["unknown_types"]:
        listed = ", ".join(f"{t!r} ({n})" for t, n in counts["unknown_types"].items())
        warnings.append(
            f"{sum(counts['unknown_types'].values())} activities of types never seen in "
            f"training scored no points: {listed}"
        )
    if counts["unknown_leads"]:
        warnings.append(
            f"{counts['unknown_leads']} activities belong to leads not in the scored table"
        )
    frame = frame.drop(columns=[c for c in features.columns if c in frame.columns])
    frame = pd.concat([frame.reset_index(drop=True), features], axis=1)
    unknown = {str(t): int(n) for t, n in counts["unknown_types"].items()}
    log_counts = {"rows": int(len(log)), "counted": counts["counted"], "unknown_types": unknown}
    return frame, warnings, hits, log_counts


def _check_ids_meet(column, ids, n_activities: int, counts: dict) -> None:
    """Refuse a log most of whose activities belong to none of the scored leads.

    The leads would then be scored without most of their behaviour: the ids
    are almost always written differently on the two sides (a prefix,
    leading zeros), or the log is not the one of these leads.
    """
    unknown = counts["unknown_leads"]
    if 2 * unknown <= n_activities:
        return
    import heapq

    ours = format_examples(heapq.nsmallest(3, pd.unique(np.asarray(ids, dtype=object))), 3)
    theirs = format_examples(counts["unknown_lead_examples"], 3)
    raise DataError(
        f"{unknown:,} of the activity log's {n_activities:,} activities belong to none of the "
        f"{len(ids):,} leads scored: their ids ({column!r}) look like {ours}, the log's like "
        f"{theirs}. Ids are matched as text without surrounding whitespace; write them the "
        "same way on both sides, and give the activities of the leads scored"
    )
