"""Monitoring: whether a sheet in production still describes the leads it scores.

:func:`monitor` scores leads with a config, compares them with the config's
training reference and, when their outcomes are known, with the fit's
hold-out evidence, overall and per period; it returns a :class:`Monitoring`
whose :meth:`~Monitoring.save` writes ``monitor.json`` and ``monitor.html``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .drift import THRESHOLDS, alerts, measure, verdict
from .errors import ParameterError

__all__ = ["PERIODS", "Monitoring", "monitor"]

#: ``every`` values and their pandas period codes.
PERIODS = {"week": "W", "month": "M", "quarter": "Q"}
#: The note of a config without a training reference.
NO_REFERENCE = (
    "no reference stored: this config (schema 1.0, or made by hand) keeps no record of its "
    "training leads, so band shifts, score shifts, missing values and unseen categories "
    "cannot be measured; refit it with this calibrate to store one"
)


@dataclass(frozen=True)
class Monitoring:
    """What :func:`monitor` found.

    Attributes
    ----------
    overall : dict
        The measures of all the leads together
        (:func:`calibrate.drift.measures.measure`).
    alerts : list of dict
        Their alerts, ``act`` first: ``{"level", "kind", "criterion", "message"}``.
    periods : list of dict
        Per period (with ``date`` and ``every``): ``start``, ``end``, ``n``,
        ``wins`` (with outcomes), its ``measures`` and its ``alerts``.
    recalibrate : bool
        Whether the sheet should be refitted: an ``act`` alert on all the
        leads or on the latest period.
    reasons : list of str
        Why (every such ``act`` alert).
    notes : list of str
        What could not be measured, and why.
    source : str
        The config monitored.
    """

    overall: dict
    alerts: list
    periods: list = field(default_factory=list)
    recalibrate: bool = False
    reasons: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    source: str = ""

    @property
    def criteria(self) -> pd.DataFrame:
        """Per criterion: PSI, missing share now and at fit, unseen categories."""
        columns = ["name", "psi", "missing_now", "missing_at_fit", "unseen_share"]
        rows = [{c: row.get(c) for c in columns} for row in self.overall["criteria"]]
        return pd.DataFrame(rows, columns=columns)

    def to_dict(self) -> dict:
        """The ``monitor.json`` content: plain values, floats rounded to 6 digits."""
        from .production.record import plain_json

        overall = self.overall
        out = {
            "calibrate_version": __version__,
            "config": self.source,
            "n_leads": overall["n_leads"],
            "with_outcomes": "auc_now" in overall or "calibration" in overall,
            "alerts": self.alerts,
            "recalibrate": self.recalibrate,
            "reasons": self.reasons,
            "notes": self.notes,
            "criteria": overall["criteria"],
            "score_psi": overall["score_psi"],
        }
        for key in ("auc_at_fit", "auc_now"):
            if key in overall:
                out[key] = overall[key]
        out["overall"] = {k: v for k, v in overall.items() if k != "criteria"}
        out["periods"] = self.periods
        out["thresholds"] = {k: list(v) for k, v in THRESHOLDS.items()}
        return plain_json(out)

    def to_json(self) -> str:
        """``monitor.json`` as text: the same input gives the same bytes."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def save(self, out_dir) -> dict[str, Path]:
        """Write ``monitor.json`` and ``monitor.html`` into ``out_dir`` (both or neither).

        Returns
        -------
        dict
            ``{"json": path, "html": path}``.
        """
        from .io.files import write_files
        from .report import monitor_page

        out = Path(os.fspath(out_dir))
        if out.exists() and not out.is_dir():
            from .errors import OutputError

            raise OutputError(f"cannot write to {out}: it is a file, not a folder")
        paths = {"json": out / "monitor.json", "html": out / "monitor.html"}
        write_files({paths["json"]: self.to_json(), paths["html"]: monitor_page(self.to_dict())})
        return paths


def monitor(
    config,
    data,
    *,
    activities=None,
    as_of=None,
    outcome: str | None = None,
    positive=None,
    date: str | None = None,
    every: str | None = None,
    sep: str | None = None,
    encoding: str = "utf-8-sig",
) -> Monitoring:
    """Compare the leads a config scores now with the leads it was fitted on.

    Parameters
    ----------
    config : ScoringConfig, str or os.PathLike
        The config in production (or the path of its JSON file).
    data : str, os.PathLike, Source or pandas.DataFrame
        The leads scored: this month's new leads, or recently closed ones.
    activities : optional
        Their activity log, when the config scores behaviour.
    as_of : str or datetime, optional
        Score behaviour as of this moment (see :func:`calibrate.score`).
    outcome : str, optional
        The outcome column of recently closed leads: the AUC now, the win
        rate per score band and every band's win rate are then compared
        with the fit's.
    positive : optional
        The outcome value that means won, when it is not evident.
    date : str, optional
        A date column of the leads: with ``every``, everything is measured per
        period too, and MQLs are counted per week.
    every : {"week", "month", "quarter"}, optional
        The periods.
    sep, encoding : optional
        How to read a CSV file.

    Returns
    -------
    Monitoring

    Raises
    ------
    ParameterError
        For an unknown ``every``, or ``every`` without ``date``.
    DataError
        As :func:`calibrate.score` for the leads, and for an outcome or date
        column that is missing or unreadable.

    Examples
    --------
    >>> import calibrate
    >>> from calibrate.datasets import make_leads
    >>> history = make_leads(6000, seed=0)
    >>> sheet = calibrate.fit(history.iloc[:4000], outcome="converted", id="lead_id",
    ...                       bootstrap=0).config
    >>> found = calibrate.monitor(sheet, history.iloc[4000:], outcome="converted")
    >>> found.recalibrate, [a["level"] for a in found.alerts].count("act")
    (False, 0)
    """
    from .io.ingest import require_column
    from .io.tables import read_table
    from .io.values import parse_dates, parse_outcome
    from .production.config import ScoringConfig
    from .production.scorer import score_leads

    if every is not None and every not in PERIODS:
        raise ParameterError(f"every must be one of {', '.join(PERIODS)}; got {every!r}")
    if every is not None and date is None:
        raise ParameterError("every needs a date column to cut the leads into periods (date=...)")
    source = ""
    if not isinstance(config, ScoringConfig):
        source = os.fspath(config)
        config = ScoringConfig.load(config)
    frame = read_table(data, sep=sep, encoding=encoding)
    scored = score_leads(config, frame, bands=True, activities=activities, as_of=as_of)
    won = None
    if outcome is not None:
        require_column(outcome, list(frame.columns), "outcome")
        won = parse_outcome(frame[outcome], outcome, positive)[0].to_numpy(dtype=bool)
    dates = None
    if date is not None:
        require_column(date, list(frame.columns), "date")
        dates = pd.DatetimeIndex(parse_dates(frame[date], date))
    weeks = _weeks(dates) if dates is not None else None
    overall = measure(config, scored, frame, won=won, weeks=weeks)
    found = alerts(overall)
    periods = _periods(config, scored, frame, won, dates, every) if every else []
    act, reasons = verdict(found)
    if periods:
        latest_act, latest = verdict(periods[-1]["alerts"])
        act = act or latest_act
        reasons += [f"{periods[-1]['start']} to {periods[-1]['end']}: {r}" for r in latest]
    notes = [] if config.reference else [NO_REFERENCE]
    if won is None:
        notes.append(
            "no outcomes given: the AUC, the win rate per score band and the bands' effects "
            "are measured only on closed leads (--outcome COLUMN)"
        )
    return Monitoring(
        overall=overall,
        alerts=found,
        periods=periods,
        recalibrate=act,
        reasons=reasons,
        notes=notes,
        source=source,
    )


def _weeks(dates) -> float:
    """The weeks the leads' dates span, at least one day's worth."""
    span = (dates.max() - dates.min()) / pd.Timedelta(days=7)
    return max(float(span), 1 / 7)


def _periods(config, scored, frame, won, dates, every) -> list[dict]:
    """Every period's measures and alerts, in time order."""
    keys = dates.to_period(PERIODS[every])
    rows = []
    for key in sorted(keys.unique()):
        inside = np.asarray(keys == key)
        part = scored[inside].reset_index(drop=True)
        start, end = key.start_time, key.end_time
        weeks = (end - start) / pd.Timedelta(days=7)
        measures = measure(
            config,
            part,
            frame[inside].reset_index(drop=True),
            won=None if won is None else won[inside],
            weeks=float(weeks),
        )
        row = {
            "start": start.date().isoformat(),
            "end": end.date().isoformat(),
            "n": int(inside.sum()),
            "measures": measures,
            "alerts": alerts(measures),
        }
        if won is not None:
            row["wins"] = int(won[inside].sum())
        rows.append(row)
    return rows
