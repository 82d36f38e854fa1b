"""What a fit returns: the :class:`Calibration`, with its behaviour and decision parts.

:func:`calibrate.fit` (see :mod:`calibrate.pipeline`) builds these; a notebook
reads them (the points sheet, the metrics, the threshold, the hold-out scores
and evidence), and :meth:`Calibration.save` writes the config, the metrics and
the report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .decide.evaluation import HoldOut
from .decide.threshold import ThresholdChoice
from .errors import CalibrateError
from .io.files import write_files
from .io.ingest import LeadData
from .learn.points import Scorecard
from .production.config import ScoringConfig
from .production.record import metrics_json

__all__ = ["Behaviour", "Calibration", "Decision"]


@dataclass(frozen=True)
class Calibration:
    """The result of :func:`calibrate.fit`: a points sheet, its evidence and its config.

    Attributes
    ----------
    scorecard : Scorecard
        The fitted points sheet (and the unrounded model behind it).
    config : ScoringConfig
        Everything production needs, as exported to ``scoring_config.json``.
    metrics : dict
        Hold-out quality: AUC of the model and of the integer sheet, Brier
        score, log loss, Kendall's tau, counts, the threshold.
    threshold : ThresholdChoice
        The recommended MQL threshold and its trade-off curve.
    decision : Decision
        Every policy's threshold, the levels, fast-track evidence and the
        two-axis (fit and engagement) policy.
    calibration : pandas.DataFrame
        Win rate per score band on hold-out leads.
    leads : LeadData
        The checked input.
    train_rows, holdout_rows : ndarray of int
        Row positions of the training and hold-out leads.
    holdout : HoldOut
        The hold-out leads' criteria, outcomes, probabilities and scores,
        measured once (the report reads them from here).
    warnings : tuple of str
        Things worth a look.
    behaviour : Behaviour or None
        Behaviour features learned from an activity log, when one was given.
    comparison : dict or None
        The sheet in use today beside the calibrated one (see
        :func:`calibrate.decide.current_sheet.compare_sheets`), when one was given.
    """

    scorecard: Scorecard
    config: ScoringConfig
    metrics: dict
    threshold: ThresholdChoice
    decision: Decision
    calibration: pd.DataFrame
    leads: LeadData
    train_rows: np.ndarray
    holdout_rows: np.ndarray
    holdout: HoldOut
    warnings: tuple = ()
    behaviour: Behaviour | None = None
    comparison: dict | None = None

    @property
    def points_sheet(self) -> pd.DataFrame:
        """The points sheet: one row per band with its points, lead count and win rate.

        With bootstrap intervals, also points_low, points_high and flag.
        """
        sheet = self.scorecard.points_.drop(columns=["coef", "points_unrounded"])
        return sheet.reset_index(drop=True)

    @property
    def metrics_frame(self) -> pd.DataFrame:
        """The metrics as a one-column DataFrame, for display."""
        return pd.DataFrame({"value": pd.Series(self.metrics)})

    def score(self, data, **kwargs) -> pd.DataFrame:
        """Score leads with the exported config (what production will do).

        Keyword arguments (``activities``, ``as_of``, ``breakdown``...) go to
        :func:`calibrate.production.scorer.score_leads`.
        """
        return self.config.score(data, **kwargs)

    def report(self):
        """The review report, measured on the hold-out leads.

        Returns
        -------
        Report
            ``.html`` (standalone page), ``.pdf`` (the same, as PDF bytes),
            ``.summary`` and ``.save(folder)``; see :func:`calibrate.report.fit_report`.
        """
        from .report import fit_report

        return fit_report(self)

    def report_html(self) -> str:
        """The review report as standalone HTML."""
        return self.report().html

    def save(
        self, out_dir: os.PathLike | str, sign_key: bytes | str | None = None, *, pdf: bool = False
    ) -> dict[str, Path]:
        """Write the config, the metrics and the report, all or none.

        Writes ``scoring_config.json``, ``metrics.json`` and ``report.html``
        (and ``report.pdf`` with ``pdf``: the same page for printing, which
        takes longer than the rest of a fit); if any of them cannot be
        written, none is. Without ``pdf``, a ``report.pdf`` an earlier run left
        in the folder is removed. With ``sign_key`` (bytes, or text encoded
        as UTF-8), the config is signed (see
        :class:`~calibrate.production.config.ScoringConfig`); without it, it is
        the same file as ever.

        Returns
        -------
        dict
            ``{"config": path, "metrics": path, "report": path}``, and
            ``"report_pdf"`` when the PDF was written.
        """
        from .report import drop_stale_pdf

        out = Path(os.fspath(out_dir))
        if out.exists() and not out.is_dir():
            raise CalibrateError(f"cannot write to {out}: it is a file, not a folder")
        files = {
            "config": (out / "scoring_config.json", self.config.to_json(sign_key=sign_key)),
            "metrics": (out / "metrics.json", metrics_json(self.metrics)),
            **self.report().files(out, pdf=pdf),
        }
        write_files(dict(files.values()))
        drop_stale_pdf(out, pdf=pdf)
        return {name: path for name, (path, _) in files.items()}

    def _repr_html_(self) -> str:
        head = pd.DataFrame(
            {
                "hold-out AUC (model)": [self.metrics["holdout_auc_model"]],
                "hold-out AUC (points)": [self.metrics["holdout_auc_points"]],
                "MQL threshold": [self.metrics["threshold"]],
                "leads passed": [self.metrics["share_passed"]],
                "wins captured": [self.metrics["share_wins_captured"]],
            }
        )
        return (
            "<h4>calibrate: points sheet</h4>"
            + head.to_html(index=False, float_format=lambda x: f"{x:.3f}")
            + self.points_sheet.to_html(index=False, float_format=lambda x: f"{x:.3f}")
        )


@dataclass(frozen=True)
class Behaviour:
    """Behaviour features learned from an activity log.

    Attributes
    ----------
    featurizer : ActivityFeaturizer
        The fitted featurizer: ``spec_`` (features, kernels), ``decay_``
        (per family: chosen half-life and how much it helps), and
        ``activity_counts_``.
    features : pandas.DataFrame
        The behaviour features of every lead.
    counts : dict
        Activities of unknown leads, and those on or after the decision time
        (left out), see :meth:`ActivityFeaturizer.timing_counts`.
    warnings : tuple of str
        Activities of unknown leads and the like.
    """

    featurizer: object
    features: pd.DataFrame
    counts: dict
    warnings: tuple = ()


@dataclass(frozen=True)
class Decision:
    """The hand-off policy: thresholds, levels, fast-track rules, two axes.

    Attributes
    ----------
    choice : ThresholdChoice
        The chosen policy's threshold.
    choices : dict
        ``{policy name: ThresholdChoice}`` for every policy evaluated.
    levels : pandas.DataFrame
        Every level's score range, share of hold-out leads and win rate.
    fast_track : pandas.DataFrame
        Evidence for every hand-raiser signal tested (see
        :func:`calibrate.decide.threshold.fast_track_evidence`), with ``kind``
        (activity or column) and ``within_days``.
    two_axis : dict or None
        Best ``fit >= a and engagement >= b`` rule against the best single
        threshold (when the sheet has both kinds of criteria).
    volume : dict or None
        Historical leads per week.
    """

    choice: ThresholdChoice
    choices: dict
    levels: pd.DataFrame
    fast_track: pd.DataFrame
    two_axis: dict | None
    volume: dict | None
