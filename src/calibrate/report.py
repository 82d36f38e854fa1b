"""Report: one standalone page, HTML and PDF, for the marketing-and-sales review.

The report reads top to bottom in the order a meeting does: the
recommendation in one paragraph, the points sheet (fit and engagement apart),
the threshold trade-off, lift and gains, what a score means (calibration),
the scores of won and lost leads, fast-track evidence, the sheet in use
today, quality figures and the data behind it all.

Two sources give the same report:

- :func:`fit_report` reads a :class:`~calibrate.Calibration` (what
  ``calibrate fit`` writes): every figure is measured on the hold-out leads;
- :func:`evaluation_report` reads a scoring config and labelled leads (what
  ``calibrate report`` writes): the config scores the leads, as production
  would, and every figure is measured on them. What only a fit knows
  (bootstrap intervals, how decay was learned) is shown as recorded in the
  config, or left out.

Both build a plain summary dict and PNG figures, and return a :class:`Report`
that renders them through a jinja2 template with autoescape on, so every
value from the data (column names, categories) shows as text. The figures
are drawn with matplotlib in greys, line styles and hatching (readable when
printed in black and white) and embedded as ``data:`` URIs, so the page
opens without a network. The PDF is the same HTML rendered by xhtml2pdf.
The same input gives byte-identical HTML and PDF.
"""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass, replace
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CalibrateError, DataError
from .model import COMFORTABLE_HOLDOUT_OUTCOMES, auc_interval
from .sources import describe
from .threshold import (
    ExpectedValue,
    SalesCapacity,
    TargetRate,
    calibration_table,
    fast_track_evidence,
    level_table,
    threshold_curve,
    weekly_volume,
    win_probability,
)

__all__ = ["Report", "build_summary", "evaluation_report", "fit_report", "render_report"]

#: Greys only: the report must read the same printed in black and white.
_INK, _MID, _LIGHT, _PALE = "#111111", "#666666", "#b0b0b0", "#e4e4e4"
#: Pixels per inch of the embedded figures: sharp on paper at the page width.
_DPI = 130
#: Width of the figures on a PDF page (A4 less the margins).
_PDF_FIGURE_WIDTH = "17cm"
_POLICY_CLASSES = {
    "expected_value": ExpectedValue,
    "sales_capacity": SalesCapacity,
    "target": TargetRate,
}
#: Fewer leads than this in a score band make its win rate too noisy to quote.
_FEW_LEADS = 20


@dataclass(frozen=True)
class Report:
    """A review report: plain summary values and figures, as HTML and PDF.

    Build one with :func:`fit_report` or :func:`evaluation_report`.

    Parameters
    ----------
    summary : dict
        Every value the page shows, as text and numbers, in the order a
        meeting reads them (see :func:`build_summary`).
    figures : dict
        ``{name: PNG bytes}``: ``tradeoff``, ``gains``, ``calibration`` and
        ``distribution``.

    Examples
    --------
    >>> import calibrate
    >>> from calibrate.datasets import make_leads
    >>> result = calibrate.fit(make_leads(1000, seed=0), outcome="converted", bootstrap=0)
    >>> report = fit_report(result)
    >>> report.html.startswith("<!DOCTYPE html>"), report.pdf.startswith(b"%PDF")
    (True, True)
    >>> sorted(report.figures)
    ['calibration', 'distribution', 'gains', 'tradeoff']
    """

    summary: dict
    figures: dict

    @cached_property
    def html(self) -> str:
        """The report as one standalone HTML page (figures embedded)."""
        import jinja2

        images = {
            name: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            for name, png in self.figures.items()
        }
        env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
        text = resources.files("calibrate").joinpath("templates/report.html").read_text("utf-8")
        return env.from_string(text).render(
            summary=self.summary, images=images, pdf_figure_width=_PDF_FIGURE_WIDTH
        )

    @cached_property
    def pdf(self) -> bytes:
        """The same page as a PDF (A4), for printing and for the minutes."""
        return _html_to_pdf(self.html)

    def save(self, out_dir: os.PathLike | str) -> dict[str, Path]:
        """Write ``report.html`` and ``report.pdf`` into a folder, both or neither.

        Returns
        -------
        dict
            ``{"report": path of the HTML, "report_pdf": path of the PDF}``.

        Raises
        ------
        CalibrateError
            When ``out_dir`` is a file.
        """
        out = _out_folder(out_dir)
        files = {"report": out / "report.html", "report_pdf": out / "report.pdf"}
        contents = {files["report"]: self.html, files["report_pdf"]: self.pdf}
        from ._files import write_files

        write_files(contents)
        return files


def _out_folder(out_dir) -> Path:
    out = Path(os.fspath(out_dir))
    if out.exists() and not out.is_dir():
        raise CalibrateError(f"cannot write to {out}: it is a file, not a folder")
    return out


# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class _Evidence:
    """What the figures and the shared tables are measured on.

    ``scores`` and ``won`` are the leads judged (hold-out leads of a fit, or
    the labelled leads a config is evaluated on); ``bands`` is the
    calibration table (score_min, score_max, leads, wins, win_rate,
    predicted); ``policies`` is ``((label, threshold, chosen), ...)`` and
    ``capacity`` ``(share of leads sales can take, label)`` or None.
    """

    scores: np.ndarray
    won: np.ndarray
    threshold: int
    min_score: int
    max_score: int
    policies: tuple
    capacity: tuple | None
    bands: pd.DataFrame
    predicted_label: str

    @cached_property
    def curve(self) -> pd.DataFrame:
        return threshold_curve(
            self.scores, self.won, min_score=self.min_score, max_score=self.max_score
        )

    @cached_property
    def deciles(self) -> pd.DataFrame:
        """Wins and lift of every tenth of the leads, highest scores first.

        Leads tied on a score share its wins evenly (the gains curve is
        linear between scores), so the table does not depend on row order.
        """
        curve = self.curve.iloc[::-1]  # from nobody passed to everybody
        x, first = np.unique(curve["share_passed"].to_numpy(), return_index=True)
        y = curve["share_wins_captured"].to_numpy()[first]
        cuts = np.linspace(0, 1, 11)
        captured = np.interp(cuts, x, y)
        ranked = np.sort(self.scores)[::-1]
        n = len(ranked)
        rows = []
        for d in range(10):
            # Integer ranks (no float rounding): the tenth's first and last lead.
            top = ranked[min(d * n // 10, n - 1)]
            low = ranked[max(-(-(d + 1) * n // 10) - 1, 0)]
            share = captured[d + 1] - captured[d]
            rows.append(
                {
                    "tenth": d + 1,
                    "scores": f"{low}-{top}" if low != top else f"{top}",
                    "share_of_wins": share,
                    "lift": share / 0.1,
                    "cumulative_wins": captured[d + 1],
                }
            )
        return pd.DataFrame(rows)


def _bands_with_prediction(scores, won, predicted_per_lead, min_score, max_score):
    """The calibration table of 10-point score bands, with the mean predicted win rate."""
    table = calibration_table(scores, won, min_score=min_score, max_score=max_score)
    # The bands as calibration_table cuts them (the last one closed at max_score).
    band = np.clip((np.asarray(scores) - min_score) // 10, 0, len(table) - 1)
    total = np.bincount(band, weights=predicted_per_lead, minlength=len(table))
    with np.errstate(invalid="ignore", divide="ignore"):
        table["predicted"] = np.where(table["leads"] > 0, total / table["leads"], np.nan)
    return table


def _capacity_line(params: dict, volume: dict | None) -> tuple | None:
    """Share of leads a sales-capacity policy lets through, and its label."""
    capacity = params.get("capacity_per_week")
    if capacity is None:
        return None
    if volume is None and params.get("incoming_per_week"):
        volume = {"mean": params["incoming_per_week"], "p90": params["incoming_per_week"]}
    if volume is None or not volume.get("mean"):
        return None
    weekly = volume["p90"] if params.get("sla_hours") else volume["mean"]
    share = min(float(capacity) / float(weekly), 1.0)
    week = "busy week" if params.get("sla_hours") else "week"
    return share, f"sales capacity: {capacity:,.0f} leads a {week} ({share:.0%} of leads)"


def _policy_label(name: str) -> str:
    return name.replace("_", " ")


def _policy_text(params: dict) -> str:
    """A recorded policy in one sentence, or nothing for one calibrate does not know."""
    cls = _POLICY_CLASSES.get(params.get("name"))
    if cls is None:
        return ""
    fields = {k: v for k, v in params.items() if k not in ("name", "capacity_per_week")}
    try:
        return cls(**fields).describe()
    except (TypeError, CalibrateError):
        return ""


# --------------------------------------------------------------------------- fit report


def fit_report(calibration) -> Report:
    """The review report of a fit, measured on its hold-out leads.

    Parameters
    ----------
    calibration : Calibration
        The result of :func:`calibrate.fit`.

    Returns
    -------
    Report
        ``.html``, ``.pdf`` and ``.save(folder)``.
    """
    evidence = _fit_evidence(calibration)
    return Report(summary=_fit_summary(calibration, evidence), figures=_figures(evidence))


def build_summary(calibration) -> dict:
    """Plain values the report of a fit shows, in the order a meeting reads them.

    Parameters
    ----------
    calibration : Calibration
        The result of :func:`calibrate.fit`.

    Returns
    -------
    dict
        ``recommendation``, ``policies``, ``levels``, ``two_axis``,
        ``sheet`` (list of criteria with their bands), ``behaviour``,
        ``gains``, ``calibration`` (rows), ``distribution``, ``fast_track``,
        ``comparison``, ``metrics``, ``data`` (source, counts, excluded
        columns and why) and ``warnings``; ``mode`` is ``"fit"``.
    """
    return _fit_summary(calibration, _fit_evidence(calibration))


def render_report(calibration) -> str:
    """The review report of a fit as one standalone HTML page.

    Same as ``fit_report(calibration).html``.
    """
    return fit_report(calibration).html


def _fit_evidence(calibration) -> _Evidence:
    card = calibration.scorecard
    held = calibration.holdout
    won = held.y.astype(bool)
    scores = np.asarray(held.scores, dtype=np.int64)
    proba = held.proba
    chosen = calibration.config.threshold["policy"]["name"]
    policies = tuple(
        (_policy_label(name), int(c.threshold), name == chosen)
        for name, c in calibration.decision.choices.items()
    )
    capacity = None
    if "sales_capacity" in calibration.decision.choices:
        policy = calibration.decision.choices["sales_capacity"].policy
        capacity = _capacity_line(policy.to_dict(), calibration.decision.volume)
    return _Evidence(
        scores=scores,
        won=won,
        threshold=int(calibration.threshold.threshold),
        min_score=int(card.min_score),
        max_score=int(card.max_score),
        policies=policies,
        capacity=capacity,
        bands=_bands_with_prediction(scores, won, proba, card.min_score, card.max_score),
        predicted_label="predicted by the model",
    )


def _fit_summary(calibration, evidence: _Evidence) -> dict:
    m = calibration.metrics
    leads = calibration.leads
    sheet = calibration.scorecard.points_
    criteria = []
    for criterion in calibration.scorecard.criteria_:
        rows = sheet[sheet["criterion"] == criterion.name]
        criteria.append(
            {
                "name": criterion.name,
                "group": criterion.group,
                "kind": criterion.kind,
                "bands": [
                    {
                        "label": r.band,
                        "points": int(r.points),
                        "interval": _interval(r),
                        "flag": getattr(r, "flag", ""),
                        "leads": int(round(r.n_leads)),
                        "win_rate": _pct(r.win_rate),
                    }
                    for r in rows.itertuples()
                ],
            }
        )
    has_intervals = any(b["interval"] != "-" for c in criteria for b in c["bands"])
    y = leads.outcome.to_numpy()
    t = calibration.threshold
    return {
        "mode": "fit",
        "title": "Lead scoring review: calibrated points sheet",
        "judged_on": "hold-out leads",
        "recommendation": {
            "threshold": int(m["threshold"]),
            "share_passed": _pct(m["share_passed"]),
            "share_wins_captured": _pct(m["share_wins_captured"]),
            "win_rate_passed": _pct(m["win_rate_passed"]),
            "base_rate": _pct(m["holdout_win_rate"]),
            "policy": t.policy.to_dict(),
            "policy_text": t.policy.describe(),
            "goal_met": t.met,
            "mqls_per_week": None if t.mqls_per_week is None else f"{t.mqls_per_week:,.1f}",
            "at_fit": None,
            "no_signal": _no_signal(m["signal"], m["holdout_auc_points_interval"], "hold-out"),
        },
        "policies": [
            {
                "name": _policy_label(name),
                "threshold": c.threshold,
                "share_passed": _pct(c.share_passed),
                "share_wins_captured": _pct(c.share_wins_captured),
                "win_rate_passed": _pct(c.win_rate_passed),
                "mqls_per_week": "-" if c.mqls_per_week is None else f"{c.mqls_per_week:,.1f}",
            }
            for name, c in calibration.decision.choices.items()
        ],
        "levels": _levels_summary(calibration.decision.levels),
        "two_axis": _two_axis_summary(calibration.decision.two_axis),
        "base_points": int(calibration.scorecard.base_points_),
        "scale": {
            "min": int(calibration.scorecard.min_score),
            "max": int(calibration.scorecard.max_score),
        },
        "sheet": criteria,
        "sheet_intervals": has_intervals,
        "sheet_note": (
            "Lead counts and win rates are those of the training leads. "
            + (
                "The interval is where the points land in 95% of bootstrap refits; a band "
                "whose interval crosses 0 or that holds few leads is flagged."
                if has_intervals
                else "No intervals: the fit ran without bootstrap refits."
            )
        ),
        "behaviour": _behaviour_summary(calibration),
        **_evidence_summary(evidence),
        "fast_track": {
            "note": (
                "Tested on all leads. A signal is recommended when its leads won at least as "
                "often as leads at the MQL threshold (and at least 30 leads showed it)."
            ),
            "decision": "Fast-track",
            "rows": _fast_track_rows(calibration.decision.fast_track),
        },
        "comparison": _comparison_summary(calibration.comparison),
        "metrics": [
            ("Hold-out AUC, unrounded model", f"{m['holdout_auc_model']:.3f}"),
            ("Hold-out AUC, integer points", f"{m['holdout_auc_points']:.3f}"),
            ("AUC lost to rounding", f"{m['holdout_auc_lost_to_rounding']:.4f}"),
            ("Kendall's tau, points vs model", f"{m['holdout_kendall_tau']:.3f}"),
            ("Brier score", f"{m['holdout_brier']:.4f}"),
            ("Log loss", f"{m['holdout_log_loss']:.4f}"),
            ("Calibration error (score bands)", f"{m['holdout_calibration_error']:.4f}"),
            ("Training leads", f"{m['n_train']:,}"),
            ("Hold-out leads", f"{m['n_holdout']:,} ({m['split']})"),
        ],
        "data": {
            "source": leads.source,
            "leads": f"{leads.n_leads:,}",
            "wins": f"{int(y.sum()):,}",
            "win_rate": _pct(y.mean()),
            "outcome": f"{leads.outcome.name} = {leads.positive_label}",
            "period": _period(leads.dates),
            "excluded_note": "",
            "excluded": [{"column": c, "reason": r} for c, r in leads.excluded.items()],
        },
        "warnings": list(calibration.warnings),
    }


def _no_signal(signal: str, interval, leads: str) -> str | None:
    """The plain words for a sheet that ranks leads no better than chance, or None."""
    if signal == "usable":
        return None
    low, high = interval
    return (
        "This history shows no usable signal: the sheet ranks leads no better than chance "
        f"(on {leads} leads the AUC's 95% interval, {low:.3f} to {high:.3f}, includes 0.5). "
        "No MQL threshold is recommended."
    )


def _levels_summary(levels: pd.DataFrame) -> list[dict]:
    return [
        {
            "name": r.level,
            "range": f"{int(r.min_score)}-{int(r.max_score)}",
            "share": _pct(r.share_of_leads),
            "win_rate": _pct(r.win_rate),
        }
        for r in levels.itertuples()
    ]


def _fast_track_rows(evidence: pd.DataFrame) -> list[dict]:
    return [
        {
            "signal": r.candidate,
            "how": f"in the {int(r.within_days)} days before the decision"
            if r.kind == "activity"
            else "lead column is true",
            "leads": f"{int(r.leads):,}",
            "win_rate": _pct(r.win_rate),
            "interval": "-" if not r.leads else f"{_pct(r.ci_low)} to {_pct(r.ci_high)}",
            "reference": _pct(r.reference_rate),
            "recommended": "yes" if r.recommended else "no",
        }
        for r in evidence.itertuples()
    ]


def _evidence_summary(evidence: _Evidence) -> dict:
    """The tables beside the figures: the same for a fit and an evaluation."""
    won, scores, t = evidence.won, evidence.scores, evidence.threshold
    passed = scores >= t
    return {
        "gains": [
            {
                "tenth": "top 10%" if r.tenth == 1 else f"{10 * (r.tenth - 1)}-{10 * r.tenth}%",
                "scores": r.scores,
                "share_of_wins": _pct(r.share_of_wins),
                "cumulative_wins": _pct(r.cumulative_wins),
                "lift": f"{r.lift:.2f}",
            }
            for r in evidence.deciles.itertuples()
        ],
        "calibration": [
            {
                "band": f"{int(r.score_min)}-{int(r.score_max)}",
                "leads": int(r.leads),
                "win_rate": _pct(r.win_rate),
                "predicted": _pct(r.predicted),
            }
            for r in evidence.bands.itertuples()
        ],
        "predicted_label": evidence.predicted_label,
        "distribution": {
            "won_passed": _pct(passed[won].mean() if won.any() else np.nan),
            "lost_passed": _pct(passed[~won].mean() if (~won).any() else np.nan),
            "won_median": f"{np.median(scores[won]):g}" if won.any() else "-",
            "lost_median": f"{np.median(scores[~won]):g}" if (~won).any() else "-",
        },
    }


def _comparison_summary(comparison) -> dict | None:
    if comparison is None:
        return None

    def side(d):
        return {
            "auc": f"{d['auc']:.3f}" if "auc" in d else "-",
            "threshold": f"{d['threshold']:g}",
            "passed": _pct(d["share_passed"]),
            "wins": _pct(d["share_wins_captured"]),
            "win_rate": _pct(d["win_rate_passed"]),
        }

    return {
        "current": side(comparison["current"]),
        "calibrated": side(comparison["calibrated"]),
        "same_volume": side(comparison["calibrated_at_same_volume"]),
        "rules": [
            {
                "rule": r["rule"],
                "leads": f"{r['leads']:,}",
                "win_rate": _pct(r["win_rate"]),
                "current": f"{r['current_points']:g}",
                "calibrated": "-"
                if not np.isfinite(r["calibrated_points"])
                else f"{r['calibrated_points']:.0f}",
            }
            for r in comparison["rules"]
        ],
    }


def _two_axis_summary(two_axis) -> dict | None:
    if two_axis is None:
        return None
    single = two_axis["single"]
    return {
        "fit_min": two_axis["fit_min"],
        "engagement_min": two_axis["engagement_min"],
        "share_passed": _pct(two_axis["share_passed"]),
        "share_wins_captured": _pct(two_axis["share_wins_captured"]),
        "value": f"{two_axis['value_per_1000_leads']:,.0f}",
        "single_threshold": single["threshold"],
        "single_share_passed": _pct(single["share_passed"]),
        "single_share_wins_captured": _pct(single["share_wins_captured"]),
        "single_value": f"{single['value_per_1000_leads']:,.0f}",
    }


def _behaviour_summary(calibration) -> dict | None:
    behaviour = calibration.behaviour
    if behaviour is None:
        return None
    featurizer = behaviour.featurizer
    counts = behaviour.counts
    return {
        "from_fit": False,
        "activities": f"{featurizer.activity_counts_['rows']:,}",
        "after_decision": f"{counts['after_decision_rows']:,}",
        "unknown_leads": f"{counts['unknown_lead_rows']:,}",
        "features": [
            {"name": f.name, "description": f.description} for f in featurizer.spec_.features
        ],
        "decay": [
            {
                "family": row.family,
                "types": ", ".join(
                    sorted(t for t, f in featurizer.spec_.families.items() if f == row.family)
                ),
                "kernel": row.kernel,
                "improvement": f"{row.improvement:.5f}",
            }
            for row in featurizer.decay_.itertuples()
        ],
    }


# --------------------------------------------------------------------------- evaluation report


def evaluation_report(
    config,
    data,
    *,
    outcome: str | None = None,
    positive=None,
    activities=None,
    current_sheet=None,
    date: str | None = None,
    sep: str | None = None,
    encoding: str = "utf-8-sig",
    progress=None,
) -> Report:
    """The review report of a scoring config, measured on labelled leads.

    The config scores the leads exactly as production would
    (:func:`calibrate.score_leads`); the report then shows what its threshold
    passes, how wins spread over the scores, whether the config's win
    probabilities per score band still hold, what each fast-track rule
    catches and, given the sheet in use today, how the two compare. Bootstrap
    intervals and decay learning need a fit: the report shows the decay the
    config records and leaves the intervals out.

    Parameters
    ----------
    config : ScoringConfig, str or os.PathLike
        The config, or the path of its JSON file.
    data : str, os.PathLike, Source or pandas.DataFrame
        Labelled leads (CSV or Parquet files, a DuckDB or database
        :class:`~calibrate.sources.Source`, or a DataFrame) with every column
        the config reads and the outcome.
    outcome : str, optional
        Outcome column; by default the one the config was fitted on.
    positive : optional
        The outcome value meaning won; by default the config's when the
        outcome column is the config's, else inferred (true, won, yes, 1...).
    activities : str, os.PathLike, Source or pandas.DataFrame, optional
        The activity log, needed when the config scores behaviour. Activity is
        counted before each lead's decision time (the config's decision
        column), as at the fit.
    current_sheet : str or os.PathLike, optional
        The hand-made sheet in use today (YAML or CSV, see
        :mod:`calibrate.current_sheet`), to compare on the same leads.
    date : str, optional
        Date column giving the period and the leads per week (expected MQLs
        a week). By default the config's date column or decision column, when
        the leads have it.
    sep : str, optional
        CSV separator; sniffed by default.
    encoding : str, default="utf-8-sig"
        Text encoding of CSV files.
    progress : callable, optional
        Called with the name of every step as it starts (``"read"``,
        ``"score"``, ``"measure"``).

    Returns
    -------
    Report
        ``.html``, ``.pdf``, ``.summary`` and ``.save(folder)``.

    Raises
    ------
    DataError
        A column is missing, the outcome is not two values (one meaning
        won), the config needs an activity log, or the current sheet reads
        what the leads do not have; the message names the column and values.

    Examples
    --------
    >>> import calibrate
    >>> from calibrate.datasets import make_leads
    >>> fitted = calibrate.fit(make_leads(1500, seed=0), outcome="converted", id="lead_id",
    ...                        bootstrap=0)
    >>> report = evaluation_report(fitted.config, make_leads(800, seed=1))
    >>> report.summary["recommendation"]["threshold"] == fitted.config.mql_threshold
    True
    >>> report.summary["data"]["leads"]
    '800'
    """
    from .export import ScoringConfig
    from .ingest import _parse_outcome, _require_column, read_table
    from .scorer import score_leads

    step = progress or (lambda name: None)
    if not isinstance(config, ScoringConfig):
        config = ScoringConfig.load(config)
    step("read")
    frame = read_table(data, sep=sep, encoding=encoding)
    trained = config.training_data.get("outcome", {})
    if outcome is None:
        outcome = trained.get("column")
        if outcome is None:
            raise DataError("the config does not record its outcome column: name it (--outcome)")
    columns = [str(c) for c in frame.columns]
    _require_column(outcome, columns, "outcome")
    if positive is None and outcome == trained.get("column"):
        positive = _known_label(frame[outcome], trained.get("positive"))
    won, label = _parse_outcome(frame[outcome], outcome, positive)
    won = won.to_numpy().astype(bool)
    log = None
    if activities is not None:
        log = read_table(activities, encoding=encoding, allow_empty=True)
    sheet = None
    if current_sheet is not None:
        from .current_sheet import read_current_sheet

        sheet = read_current_sheet(current_sheet)
    step("score")
    decision = config.activities.get("decision_time", {}) if config.activities else {}
    if config.activities and log is not None and decision.get("column") not in frame.columns:
        raise DataError(
            f"the config counts activity before each lead's decision time: the leads need its "
            f"column {decision.get('column')!r}"
        )
    scored = score_leads(config, frame, breakdown=True, activities=log)
    scores = scored["score"].to_numpy().astype(np.int64)
    step("measure")
    featured = _with_activity_counts(config, frame, log, sheet, encoding)
    dates, date_column = _evaluation_dates(config, frame, date)
    measured = _Measured(
        config=config,
        frame=featured,
        scored=scored,
        scores=scores,
        won=won,
        outcome=f"{outcome} = {label}",
        source=describe(data),
        dates=dates,
        volume=weekly_volume(dates) if dates is not None else None,
        sheet=sheet,
        date_column=date_column,
    )
    evidence = _evaluation_evidence(measured)
    return Report(summary=_evaluation_summary(measured, evidence), figures=_figures(evidence))


def _known_label(values: pd.Series, label):
    """The config's won label when the leads use it, else None (then inferred)."""
    if label is None:
        return None
    from .ingest import _canonical_text

    texts = set(_canonical_text(values).dropna().unique().tolist())
    return label if label in texts else None


def _evaluation_dates(config, frame, date):
    """Dates of the leads (period, leads a week), and the column they come from."""
    from .ingest import _parse_dates, _require_column

    if date is not None:
        _require_column(date, [str(c) for c in frame.columns], "date")
        return _parse_dates(frame[date], date), date
    decision = (config.activities or {}).get("decision_time", {}).get("column")
    for column in (config.training_data.get("date_column"), decision):
        if column is not None and column in frame.columns:
            return _parse_dates(frame[column], column), column
    return None, None


def _with_activity_counts(config, frame, log, sheet, encoding) -> pd.DataFrame:
    """The leads with their behaviour features and the activity counts rules read.

    Fast-track rules and the current sheet's activity rules are counted as
    the scorer counts them (same window, before the same decision time).
    """
    from ._activity import ActivityFeature, Kernel, fast_track_feature
    from .current_sheet import _count_column

    spec = config.activity_spec
    sheet_rules = [r for r in (sheet.rules if sheet else ()) if r.activity is not None]
    if spec is None:
        if sheet_rules:
            raise DataError(
                "the current sheet has activity rules, but this config scores no behaviour: "
                "compare it with `calibrate fit --current-sheet` instead"
            )
        return frame
    from .scorer import _with_behaviour

    extra = {}
    for rule in config.threshold.get("fast_track", []):
        if rule["kind"] == "activity":
            feature = fast_track_feature(rule["activity_type"], rule["within_days"])
            extra[feature.name] = feature
    for rule in sheet_rules:
        name = _count_column(rule)
        kernel = Kernel("window", float(rule.within_days)) if rule.within_days else Kernel("all")
        extra[name] = ActivityFeature(name, "count", (rule.activity,), kernel=kernel)
    wider = replace(spec, features=spec.features + tuple(extra.values()))
    featured, _, _ = _with_behaviour(config, wider, frame, log, None, encoding, [])
    return featured


@dataclass(frozen=True)
class _Measured:
    """Labelled leads scored by a config: what an evaluation report is built from."""

    config: object
    frame: pd.DataFrame
    scored: pd.DataFrame
    scores: np.ndarray
    won: np.ndarray
    outcome: str
    source: str
    dates: pd.Series | None
    volume: dict | None
    sheet: object
    date_column: str | None

    @property
    def policies(self) -> list[dict]:
        """``[{"name", "mql", "parameters"}]``: every policy the config records."""
        threshold = self.config.threshold
        listed = threshold.get("policies")
        if listed:
            return listed
        policy = threshold.get("policy", {})
        return [
            {"name": policy.get("name", "manual"), "mql": threshold["mql"], "parameters": policy}
        ]

    @property
    def weekly(self) -> dict | None:
        """Leads per week: measured on the leads, else as recorded at the fit."""
        return self.volume or self.config.threshold.get("weekly_volume")

    def breakdown(self) -> pd.DataFrame:
        """Each lead's points per criterion, columns named by criterion."""
        names = {f"points_{c.name}": c.name for c in self.config.criteria}
        return self.scored[list(names)].rename(columns=names).reset_index(drop=True)


def _evaluation_evidence(m: _Measured) -> _Evidence:
    config = m.config
    bands = config.calibration.get("bands", [])
    predicted = np.full(len(m.scores), np.nan)
    for band in bands:
        inside = (m.scores >= band["score_min"]) & (m.scores <= band["score_max"])
        if band.get("win_probability") is not None:
            predicted[inside] = band["win_probability"]
    chosen = config.threshold.get("policy", {}).get("name")
    policies = tuple(
        (_policy_label(p["name"]), int(p["mql"]), p["name"] == chosen) for p in m.policies
    )
    capacity = None
    for p in m.policies:
        if p["name"] == "sales_capacity":
            capacity = _capacity_line(p.get("parameters", {}), m.weekly)
    return _Evidence(
        scores=m.scores,
        won=m.won,
        threshold=config.mql_threshold,
        min_score=int(config.min_score),
        max_score=int(config.max_score),
        policies=policies,
        capacity=capacity,
        bands=_bands_with_prediction(
            m.scores, m.won, predicted, config.min_score, config.max_score
        ),
        predicted_label="predicted at the fit (config)",
    )


def _evaluation_summary(m: _Measured, evidence: _Evidence) -> dict:
    config, won, scores = m.config, m.won, m.scores
    curve = evidence.curve
    weekly = m.weekly

    def at(threshold):
        position = np.clip(threshold, config.min_score, config.max_score + 1) - config.min_score
        row = curve.iloc[int(position)]
        per_week = None if weekly is None else row["share_passed"] * weekly["mean"]
        return row, per_week

    row, per_week = at(config.mql_threshold)
    policy = config.threshold.get("policy", {})
    recorded = config.threshold
    at_fit = None
    if recorded.get("share_passed") is not None:
        at_fit = {
            "share_passed": _pct(recorded["share_passed"]),
            "share_wins_captured": _pct(recorded["share_wins_captured"]),
            "win_rate_passed": _pct(recorded.get("win_rate_passed")),
        }
    policies = []
    for p in m.policies:
        prow, pweek = at(p["mql"])
        policies.append(
            {
                "name": _policy_label(p["name"]),
                "threshold": int(p["mql"]),
                "share_passed": _pct(prow["share_passed"]),
                "share_wins_captured": _pct(prow["share_wins_captured"]),
                "win_rate_passed": _pct(prow["win_rate_passed"]),
                "mqls_per_week": "-" if pweek is None else f"{pweek:,.1f}",
            }
        )
    levels = config.threshold.get("levels")
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(won, scores)) if len(np.unique(scores)) > 1 else 0.5
    _, auc_low, auc_high = auc_interval(won, scores)
    signal = "usable" if auc_low > 0.5 else "none"
    predicted = evidence.bands["predicted"].to_numpy()
    observed = evidence.bands["win_rate"].to_numpy()
    n_band = evidence.bands["leads"].to_numpy()
    present = n_band > 0
    ece = float(np.nansum(np.abs(observed - predicted)[present] * n_band[present]) / len(won))
    holdout = config.model.get("holdout", {})
    metrics = [("AUC of the score on these leads", f"{auc:.3f}")]
    if holdout.get("auc_points") is not None:
        metrics.append(("AUC at the fit, hold-out leads", f"{holdout['auc_points']:.3f}"))
    metrics.append(("Calibration error (score bands) on these leads", f"{ece:.4f}"))
    if config.calibration.get("expected_calibration_error") is not None:
        metrics.append(
            (
                "Calibration error at the fit",
                f"{config.calibration['expected_calibration_error']:.4f}",
            )
        )
    metrics.append(("Leads scored", f"{len(won):,}"))
    trained = config.training_data
    warnings = list(m.scored.attrs.get("warnings", []))
    no_signal = _no_signal(signal, (auc_low, auc_high), "these")
    if no_signal:
        warnings.insert(0, no_signal)
    rare = int(min(won.sum(), len(won) - won.sum()))
    if rare < COMFORTABLE_HOLDOUT_OUTCOMES:
        name = "won" if won.sum() <= len(won) - won.sum() else "lost"
        warnings.append(
            f"only {rare} {name} leads: every rate in this report is uncertain "
            f"({COMFORTABLE_HOLDOUT_OUTCOMES} or more measure the AUC to +-0.075)"
        )
    comparison = None
    if m.sheet is not None:
        from .current_sheet import compare_sheets

        comparison = compare_sheets(
            m.sheet, m.frame, won, scores, config.mql_threshold, m.breakdown()
        )
    return {
        "mode": "evaluation",
        "title": "Lead scoring review: the points sheet on labelled leads",
        "judged_on": "leads in this report",
        "recommendation": {
            "threshold": config.mql_threshold,
            "share_passed": _pct(row["share_passed"]),
            "share_wins_captured": _pct(row["share_wins_captured"]),
            "win_rate_passed": _pct(row["win_rate_passed"]),
            "base_rate": _pct(won.mean()),
            "policy": policy,
            "policy_text": _policy_text(policy),
            "goal_met": True,
            "mqls_per_week": None if per_week is None else f"{per_week:,.1f}",
            "volume_note": ""
            if m.volume is not None or weekly is None
            else " at the weekly lead volume of the fit",
            "at_fit": at_fit,
            "leads": f"{len(won):,}",
            "no_signal": no_signal,
        },
        "policies": policies,
        "levels": _levels_summary(level_table(scores, won, levels, max_score=config.max_score))
        if levels
        else [],
        "two_axis": _evaluation_two_axis(m),
        "base_points": int(config.base_points),
        "scale": {"min": int(config.min_score), "max": int(config.max_score)},
        "sheet": _evaluation_sheet(m),
        "sheet_intervals": False,
        "sheet_note": (
            "Lead counts and win rates are those of the leads in this report. The points' "
            "95% intervals come from the bootstrap refits of the fit and are not kept in the "
            "config."
        ),
        "behaviour": _evaluation_behaviour(config),
        **_evidence_summary(evidence),
        "fast_track": _evaluation_fast_track(m, evidence),
        "comparison": _comparison_summary(comparison),
        "metrics": metrics,
        "data": {
            "source": m.source,
            "leads": f"{len(won):,}",
            "wins": f"{int(won.sum()):,}",
            "win_rate": _pct(won.mean()),
            "outcome": m.outcome,
            "period": _period(m.dates)
            + ("" if m.date_column is None else f" (column {m.date_column})"),
            "excluded_note": "Left out when the sheet was fitted:",
            "excluded": [
                {"column": e["column"], "reason": e["reason"]} for e in trained.get("excluded", [])
            ],
        },
        "warnings": warnings,
    }


def _evaluation_sheet(m: _Measured) -> list[dict]:
    criteria = []
    for criterion in m.config.criteria:
        table, index = criterion.band_lookup(m.frame[criterion.column])
        band = table[index]
        n = np.bincount(band, minlength=len(criterion.bands))
        wins = np.bincount(band, weights=m.won, minlength=len(criterion.bands))
        criteria.append(
            {
                "name": criterion.name,
                "group": criterion.group,
                "kind": criterion.kind,
                "bands": [
                    {
                        "label": b.label,
                        "points": int(b.points),
                        "interval": "-",
                        "flag": "",
                        "leads": int(n[i]),
                        "win_rate": _pct(wins[i] / n[i] if n[i] else np.nan),
                    }
                    for i, b in enumerate(criterion.bands)
                ],
            }
        )
    return criteria


def _evaluation_fast_track(m: _Measured, evidence: _Evidence) -> dict:
    from ._activity import fast_track_feature
    from ._criteria import category_codes

    flags, kinds = {}, {}
    for rule in m.config.threshold.get("fast_track", []):
        if rule["kind"] == "activity":
            feature = fast_track_feature(rule["activity_type"], rule["within_days"])
            name = rule["activity_type"]
            flags[name] = m.frame[feature.name].to_numpy() > 0
            kinds[name] = int(rule["within_days"])
        else:
            name = rule["column"]
            codes, texts = category_codes(m.frame[name], "boolean", name)
            hits = np.array([t == rule["equals"] for t in texts] + [False], dtype=bool)
            flags[name] = hits[codes]
            kinds[name] = None
    p = win_probability(
        m.scores, m.won, min_score=m.config.min_score, max_score=m.config.max_score
    )
    reference = float(p[m.config.mql_threshold - m.config.min_score])
    table = fast_track_evidence(flags, m.won, reference)
    table.insert(1, "kind", ["activity" if kinds[c] else "column" for c in table["candidate"]])
    table.insert(2, "within_days", [kinds[c] for c in table["candidate"]])
    return {
        "note": (
            "The config's fast-track rules, measured on these leads. A rule still holds when "
            "its leads won at least as often as leads at the MQL threshold (and at least 30 "
            "leads showed it)."
        ),
        "decision": "Still holds",
        "rows": _fast_track_rows(table),
    }


def _evaluation_two_axis(m: _Measured) -> dict | None:
    rule = m.config.threshold.get("two_axis")
    if not rule:
        return None
    groups = {c.name: c.group for c in m.config.criteria}
    points = m.breakdown()
    fit = m.config.base_points + points[[n for n, g in groups.items() if g == "explicit"]].sum(
        axis=1
    )
    engagement = points[[n for n, g in groups.items() if g == "implicit"]].sum(axis=1)
    both = (fit.to_numpy() >= rule["fit_min"]) & (engagement.to_numpy() >= rule["engagement_min"])
    single_threshold = rule.get("single", {}).get("threshold", m.config.mql_threshold)
    single = m.scores >= single_threshold
    policy = next(
        (p.get("parameters", {}) for p in m.policies if p["name"] == "expected_value"), {}
    )
    win_value = policy.get("win_value", ExpectedValue().win_value)
    cost = policy.get("cost_per_lead", ExpectedValue().cost_per_lead)

    def outcome(passed):
        wins = m.won[passed].sum()
        total = m.won.sum()
        value = (wins * win_value - passed.sum() * cost) * 1000 / len(m.won)
        return _pct(passed.mean()), _pct(wins / total if total else np.nan), f"{value:,.0f}"

    a, b = outcome(both), outcome(single)
    return {
        "fit_min": rule["fit_min"],
        "engagement_min": rule["engagement_min"],
        "share_passed": a[0],
        "share_wins_captured": a[1],
        "value": a[2],
        "single_threshold": single_threshold,
        "single_share_passed": b[0],
        "single_share_wins_captured": b[1],
        "single_value": b[2],
    }


def _evaluation_behaviour(config) -> dict | None:
    spec = config.activity_spec
    if spec is None:
        return None
    return {
        "from_fit": True,
        "activities": "-",
        "after_decision": "-",
        "unknown_leads": "0",
        "features": [{"name": f.name, "description": f.description} for f in spec.features],
        "decay": [
            {
                "family": d["family"],
                "types": ", ".join(
                    sorted(t for t, f in spec.families.items() if f == d["family"])
                ),
                "kernel": d["kernel"],
                "improvement": "-" if d.get("improvement") is None else f"{d['improvement']:.5f}",
            }
            for d in config.activities.get("decay", [])
        ],
    }


# --------------------------------------------------------------------------- formatting


def _interval(row) -> str:
    low, high = getattr(row, "points_low", np.nan), getattr(row, "points_high", np.nan)
    if not (np.isfinite(low) and np.isfinite(high)):
        return "-"
    return f"{low:.0f} to {high:.0f}"


def _pct(x) -> str:
    if x is None or (isinstance(x, float | np.floating) and not np.isfinite(x)):
        return "-"
    return f"{100 * float(x):.1f}%"


def _period(dates) -> str:
    if dates is None:
        return "not given (random hold-out)"
    start, end = pd.Timestamp(dates.min()), pd.Timestamp(dates.max())
    return f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"


# --------------------------------------------------------------------------- figures


def _figures(evidence: _Evidence) -> dict[str, bytes]:
    return {
        "tradeoff": _png(_plot_tradeoff, evidence, (7.0, 4.2)),
        "gains": _png(_plot_gains, evidence, (8.0, 3.8), ncols=2),
        "calibration": _png(_plot_calibration, evidence, (7.0, 4.0)),
        "distribution": _png(_plot_distribution, evidence, (7.0, 3.8)),
    }


def _png(draw, evidence: _Evidence, size: tuple, ncols: int = 1) -> bytes:
    """One figure as PNG bytes: matplotlib defaults, fixed size and dpi, no metadata.

    No pyplot (no global figure state, no backend switch in a notebook), the
    default style whatever the user's matplotlibrc, and no software or date
    stamp, so the same evidence always gives the same bytes.
    """
    import matplotlib
    import matplotlib.style
    from matplotlib.figure import Figure

    rc = {
        "font.size": 9.5,
        "axes.titlesize": 10.5,
        "axes.titleweight": "bold",
        "axes.labelsize": 9.5,
        "legend.fontsize": 8.5,
        "hatch.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.style.context("default"), matplotlib.rc_context(rc):
        fig = Figure(figsize=size, dpi=_DPI, layout="constrained")
        axes = fig.subplots(1, ncols)
        draw(fig, axes, evidence)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def _mark_thresholds(ax, evidence: _Evidence):
    """A vertical line at every policy's threshold, labelled; the chosen one solid."""
    by_threshold: dict[int, list] = {}
    for label, threshold, chosen in evidence.policies:
        by_threshold.setdefault(threshold, []).append((label, chosen))
    if evidence.threshold not in by_threshold:
        by_threshold[evidence.threshold] = [("MQL threshold", True)]
    for threshold, named in sorted(by_threshold.items()):
        chosen = any(c for _, c in named)
        ax.axvline(
            threshold,
            color=_INK if chosen else _MID,
            ls="-" if chosen else (0, (1, 2)),
            lw=1.5 if chosen else 1.2,
            zorder=1,
        )
        ax.text(
            threshold,
            1.0,
            ", ".join(label for label, _ in named) + f" {threshold}",
            transform=ax.get_xaxis_transform(),
            rotation=90,
            va="top",
            ha="center",
            fontsize=8,
            color=_INK,
            fontweight="bold" if chosen else "normal",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5},
            zorder=4,
        )


def _plot_tradeoff(fig, ax, evidence: _Evidence):
    curve = evidence.curve.iloc[:-1]
    t = curve["threshold"]
    every = 10
    ax.plot(
        t,
        100 * curve["share_passed"],
        color=_INK,
        ls="--",
        lw=1.8,
        marker="s",
        ms=4.5,
        mfc="white",
        markevery=every,
        label="leads passed to sales, %",
    )
    ax.plot(
        t,
        100 * curve["share_wins_captured"],
        color=_INK,
        ls="-",
        lw=2.2,
        marker="o",
        ms=4.5,
        markevery=every,
        label="wins captured, %",
    )
    # The win rate of a handful of leads is noise: drawn while enough pass.
    rate = curve["win_rate_passed"].where(curve["leads_passed"] >= _FEW_LEADS)
    ax.plot(
        t,
        100 * rate,
        color=_MID,
        ls=":",
        lw=2.2,
        marker="^",
        ms=4.5,
        markevery=every,
        label=f"win rate of MQLs, % (while {_FEW_LEADS}+ leads pass)",
    )
    if evidence.capacity is not None:
        share, label = evidence.capacity
        ax.axhline(100 * share, color=_MID, ls="-.", lw=1.4, zorder=1)
        ax.text(
            evidence.max_score - 1,
            100 * share + 1,
            label,
            ha="right",
            va="bottom",
            fontsize=8,
            color=_INK,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5},
            zorder=4,
        )
    _mark_thresholds(ax, evidence)
    chosen = curve.iloc[evidence.threshold - evidence.min_score]
    ax.set_title(
        f"At a threshold of {evidence.threshold}, sales gets "
        f"{100 * chosen['share_passed']:.0f}% of leads and "
        f"{100 * chosen['share_wins_captured']:.0f}% of wins",
        loc="left",
    )
    ax.set_xlabel("MQL threshold: leads scoring at least this go to sales")
    ax.set_ylabel("share of leads or wins, %")
    ax.set_xlim(evidence.min_score, evidence.max_score)
    ax.set_ylim(0, 102)
    ax.grid(True, color=_PALE, lw=0.6)
    ax.legend(loc="upper right", frameon=True, framealpha=1, edgecolor=_LIGHT)


def _plot_gains(fig, axes, evidence: _Evidence):
    gains, lift = axes
    curve = evidence.curve.iloc[::-1]
    gains.plot(
        100 * curve["share_passed"],
        100 * curve["share_wins_captured"],
        color=_INK,
        lw=2.2,
        label="leads ranked by score",
    )
    gains.plot([0, 100], [0, 100], color=_MID, ls="--", lw=1.3, label="random order")
    row = evidence.curve.iloc[evidence.threshold - evidence.min_score]
    x, y = 100 * row["share_passed"], 100 * row["share_wins_captured"]
    gains.plot(
        x,
        y,
        "o",
        ms=8,
        color=_INK,
        mfc="white",
        mew=2,
        label=f"MQL threshold {evidence.threshold}",
    )
    gains.annotate(
        f"{x:.0f}% of leads,\n{y:.0f}% of wins",
        (x, y),
        xytext=(10, -28),
        textcoords="offset points",
        fontsize=8,
    )
    gains.set_xlabel("leads passed to sales, % (highest scores first)")
    gains.set_ylabel("wins captured, %")
    gains.set_xlim(0, 100)
    gains.set_ylim(0, 102)
    gains.set_aspect("equal", adjustable="box")
    gains.grid(True, color=_PALE, lw=0.6)
    gains.legend(loc="lower right", frameon=True, framealpha=0.95, edgecolor=_LIGHT)
    gains.set_title("Gains: wins captured as more leads pass", loc="left", fontsize=9.5)

    deciles = evidence.deciles
    lift.bar(
        deciles["tenth"],
        deciles["lift"],
        width=0.75,
        color="white",
        edgecolor=_INK,
        hatch="///",
        lw=1.0,
    )
    lift.axhline(1.0, color=_MID, ls="--", lw=1.3, label="random order (lift 1)")
    lift.legend(loc="upper right", frameon=True, framealpha=1, edgecolor=_LIGHT)
    lift.set_xticks(
        range(1, 11), ["top\n10%", *[f"{10 * d}-\n{10 * d + 10}" for d in range(1, 10)]]
    )
    lift.tick_params(axis="x", labelsize=7.5)
    lift.set_xlabel("leads ranked by score, % (tenths)")
    lift.set_ylabel("lift: win rate vs an average lead")
    lift.grid(True, axis="y", color=_PALE, lw=0.6)
    lift.set_title("Lift of every tenth of the leads", loc="left", fontsize=9.5)
    top = deciles["lift"].iloc[0]
    fig.suptitle(
        f"The top 10% of leads by score win {top:.1f} times as often as the average lead",
        x=0.01,
        ha="left",
        fontweight="bold",
        fontsize=10.5,
    )


def _plot_calibration(fig, ax, evidence: _Evidence):
    table = evidence.bands
    mid = (table["score_min"] + table["score_max"]) / 2
    ax.bar(
        mid,
        100 * table["win_rate"].fillna(0),
        width=8,
        color=_PALE,
        edgecolor=_INK,
        hatch="..",
        lw=0.9,
        label="won, observed",
    )
    ax.plot(
        mid,
        100 * table["predicted"],
        ls="-",
        marker="D",
        ms=6,
        color=_INK,
        mfc="white",
        mew=1.6,
        lw=1.4,
        label=evidence.predicted_label,
    )
    top = float(np.nanmax(100 * np.r_[table["win_rate"].fillna(0), table["predicted"]]))
    ax.axvline(evidence.threshold, color=_INK, ls="--", lw=1.2, label="MQL threshold")
    ax.set_xticks(
        mid,
        [
            f"{a}-{b}\n({n:,})"
            for a, b, n in zip(table["score_min"], table["score_max"], table["leads"], strict=True)
        ],
    )
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel("lead score band (number of leads in it)")
    ax.set_ylabel("win rate, %")
    ax.set_xlim(evidence.min_score - 2, evidence.max_score + 2)
    ax.set_ylim(0, top * 1.15 + 1)
    ax.grid(True, axis="y", color=_PALE, lw=0.6)
    ax.legend(loc="upper left", frameon=True, framealpha=0.95, edgecolor=_LIGHT)
    enough = table[table["leads"] >= _FEW_LEADS]
    if len(enough) >= 2:
        low, high = enough.iloc[0], enough.iloc[-1]
        title = (
            f"Leads scoring {int(high.score_min)}-{int(high.score_max)} won "
            f"{100 * high.win_rate:.0f}% of the time; leads scoring "
            f"{int(low.score_min)}-{int(low.score_max)}, {100 * low.win_rate:.0f}%"
        )
    else:
        title = "Win rate by score band"
    ax.set_title(title, loc="left")


def _plot_distribution(fig, ax, evidence: _Evidence):
    edges = np.r_[np.arange(evidence.min_score, evidence.max_score, 5), evidence.max_score + 1]
    won, scores = evidence.won, evidence.scores

    def shares(mask):
        counts, _ = np.histogram(scores[mask], bins=edges)
        return 100 * counts / max(mask.sum(), 1)

    lost_h, won_h = shares(~won), shares(won)
    ax.stairs(lost_h, edges, fill=True, color=_PALE, lw=0)
    ax.stairs(lost_h, edges, color=_MID, ls="--", lw=1.8, label=f"lost leads ({(~won).sum():,})")
    ax.stairs(won_h, edges, fill=True, facecolor="none", edgecolor=_INK, hatch="///", lw=0)
    ax.stairs(won_h, edges, color=_INK, ls="-", lw=2.0, label=f"won leads ({won.sum():,})")
    ax.axvline(evidence.threshold, color=_INK, ls="-", lw=1.4)
    top = max(lost_h.max(), won_h.max())
    ax.text(
        evidence.threshold + 0.8,
        top * 1.08,
        f"MQL threshold {evidence.threshold}",
        fontsize=8,
        va="top",
        fontweight="bold",
    )
    passed = scores >= evidence.threshold
    won_share = 100 * passed[won].mean() if won.any() else 0.0
    lost_share = 100 * passed[~won].mean() if (~won).any() else 0.0
    ax.set_title(
        f"{won_share:.0f}% of won leads score {evidence.threshold} or more, "
        f"against {lost_share:.0f}% of lost leads",
        loc="left",
    )
    ax.set_xlabel("lead score (bands of 5 points)")
    ax.set_ylabel("share of the group's leads, %")
    ax.set_xlim(evidence.min_score, evidence.max_score + 1)
    ax.set_ylim(0, top * 1.12 + 0.5)
    ax.grid(True, axis="y", color=_PALE, lw=0.6)
    # Upper left: where the threshold's side lies, away from the high-scoring wins.
    ax.legend(loc="upper left", frameon=True, framealpha=1, edgecolor=_LIGHT)


# --------------------------------------------------------------------------- PDF


def _html_to_pdf(html: str) -> bytes:
    """The report page as PDF bytes, rendered by xhtml2pdf.

    Nothing is fetched (no network, no local file: the figures are inline),
    and ReportLab's invariant mode leaves out the creation date and the
    random document id, so the same HTML gives the same bytes.
    """
    from reportlab import rl_config
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    policy = ResourceAccessPolicy(allow_remote=False, base_dir=None)
    buf = io.BytesIO()
    invariant = rl_config.invariant
    rl_config.invariant = 1
    try:
        # capacity=-1: keep the source in memory (no temporary file to leak).
        status = pisa.CreatePDF(
            html, dest=buf, encoding="utf-8", capacity=-1, resource_policy=policy
        )
    finally:
        rl_config.invariant = invariant
    if status.err:
        raise CalibrateError(f"the report could not be rendered as PDF ({status.err} errors)")
    return buf.getvalue()
