"""The report: one core (:class:`Report`) with two constructors, from a fit and from a config."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import _render
from ._evidence import _evaluation_evidence, _Evidence, _fit_evidence, _measure_config
from ._figures import _figures
from ._summary import _evaluation_summary, _fit_summary, summarise


@dataclass(frozen=True)
class Report:
    """A review report: plain summary values and figures, as HTML and PDF.

    Build one with :meth:`from_fit` (a fit, measured on its hold-out leads) or
    :meth:`from_config` (a config, measured on labelled leads): both measure the
    same evidence (scores, outcomes, the sheet's threshold and bands) and draw
    the same figures from it, through one core.

    Parameters
    ----------
    summary : dict
        Every value the page shows, as text and numbers, in the order a
        meeting reads them (see :func:`build_summary`).
    figures : dict
        ``{name: PNG bytes}``: ``top_bands`` (what earns the most points),
        ``tradeoff``, ``gains``, ``calibration`` and ``distribution``.

    Examples
    --------
    >>> import calibrate
    >>> from calibrate.datasets import make_leads
    >>> result = calibrate.fit(make_leads(1000, seed=0), outcome="converted", bootstrap=0)
    >>> from calibrate.report import Report
    >>> report = Report.from_fit(result)
    >>> report.html.startswith("<!DOCTYPE html>"), report.pdf.startswith(b"%PDF")
    (True, True)
    >>> sorted(report.figures)
    ['calibration', 'distribution', 'gains', 'top_bands', 'tradeoff']
    """

    summary: dict
    figures: dict

    @cached_property
    def html(self) -> str:
        """The report as one standalone HTML page (figures embedded)."""
        return _render.render_html(self.summary, self.figures)

    @cached_property
    def pdf_html(self) -> str:
        """The page the PDF is rendered from: the HTML without the slider and its script."""
        return _render.render_html(self.summary, self.figures, interactive=False)

    @cached_property
    def pdf(self) -> bytes:
        """The same page as a PDF (A4), for printing and for the minutes.

        Rendered from :attr:`pdf_html`: the recommended threshold's figures
        as static text, no slider.
        """
        return _render._html_to_pdf(self.pdf_html)

    def save(self, out_dir: os.PathLike | str, *, pdf: bool = False) -> dict[str, Path]:
        """Write ``report.html`` (and, with ``pdf``, ``report.pdf``) into a folder, all or none.

        The HTML holds everything, figures included; the PDF is the same page
        for printing, made only on request because it takes longer than the
        rest of a fit. Without ``pdf``, a ``report.pdf`` an earlier run left
        in the folder is removed, so it never sits beside a newer page.

        Parameters
        ----------
        out_dir : str or os.PathLike
            The folder (created if missing).
        pdf : bool, default=False
            Also write ``report.pdf``.

        Returns
        -------
        dict
            ``{"report": path of the HTML}``, and ``"report_pdf"``: the PDF's
            path when it was written.

        Raises
        ------
        CalibrateError
            When ``out_dir`` is a file.
        """
        from ..io.files import write_files

        out = _render._out_folder(out_dir)
        files = self.files(out, pdf=pdf)
        write_files(dict(files.values()))
        _render.drop_stale_pdf(out, pdf=pdf)
        return {name: path for name, (path, _) in files.items()}

    def files(self, out: Path, *, pdf: bool = False) -> dict[str, tuple[Path, str | bytes]]:
        """``{name: (path, content)}`` of the report's files in the folder ``out``."""
        files = {"report": (out / "report.html", self.html)}
        if pdf:
            files["report_pdf"] = (out / "report.pdf", self.pdf)
        return files

    @classmethod
    def from_fit(cls, calibration) -> Report:
        """The review report of a fit, measured on its hold-out leads.

        The hold-out scores and outcomes, the fitted sheet's threshold and
        policies, the model's predicted win rate per score band and what the
        fit measured beside them (fast-track evidence, the two-axis rule, the
        sheet in use today) go through the same core as :meth:`from_config`.

        Parameters
        ----------
        calibration : Calibration
            The result of :func:`calibrate.fit`.

        Returns
        -------
        Report
            ``.html``, ``.pdf``, ``.summary`` and ``.save(folder)``.

        See Also
        --------
        from_config : The same report of a config, measured on labelled leads.
        fit_report : The same, as a function (what ``Calibration.report`` calls).

        Examples
        --------
        >>> import calibrate
        >>> from calibrate.datasets import make_leads
        >>> result = calibrate.fit(make_leads(1000, seed=0), outcome="converted", bootstrap=0)
        >>> summary = Report.from_fit(result).summary
        >>> summary["mode"], summary["judged_on"]
        ('fit', 'hold-out leads')
        """
        evidence = _fit_evidence(calibration)
        return cls._from_evidence(evidence, _fit_summary(calibration, evidence))

    @classmethod
    def from_config(
        cls,
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
            :class:`~calibrate.io.sources.Source`, or a DataFrame) with every column
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
            :mod:`calibrate.decide.current_sheet`), to compare on the same leads.
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

        See Also
        --------
        from_fit : The same report of a fit, measured on its hold-out leads.
        evaluation_report : The same, as a function (what ``calibrate report`` calls).

        Examples
        --------
        >>> import calibrate
        >>> from calibrate.datasets import make_leads
        >>> fitted = calibrate.fit(make_leads(1500, seed=0), outcome="converted", id="lead_id",
        ...                        bootstrap=0)
        >>> report = Report.from_config(fitted.config, make_leads(800, seed=1))
        >>> report.summary["recommendation"]["threshold"] == fitted.config.mql_threshold
        True
        >>> report.summary["data"]["leads"]
        '800'
        """
        measured = _measure_config(
            config,
            data,
            outcome=outcome,
            positive=positive,
            activities=activities,
            current_sheet=current_sheet,
            date=date,
            sep=sep,
            encoding=encoding,
            progress=progress,
        )
        evidence = _evaluation_evidence(measured)
        return cls._from_evidence(evidence, _evaluation_summary(measured, evidence))

    @classmethod
    def _from_evidence(cls, evidence: _Evidence, described: dict) -> Report:
        """The core both constructors end in, from scores, outcomes and the sheet.

        ``evidence`` holds the leads' scores and outcomes, the sheet's
        threshold, scale, policies and score bands, and the extras (fast-track
        evidence, two-axis rule, current-sheet comparison); ``described`` is
        what only the source says (recommendation, sheet, data). The summary
        and every figure are measured on the evidence in the same way for a
        fit and for a config.
        """
        summary = summarise(evidence, described)
        return cls(summary=summary, figures=_figures(evidence, summary["top_bands"]))


def fit_report(calibration) -> Report:
    """The review report of a fit, measured on its hold-out leads.

    Same as :meth:`Report.from_fit`.

    Parameters
    ----------
    calibration : Calibration
        The result of :func:`calibrate.fit`.

    Returns
    -------
    Report
        ``.html``, ``.pdf`` and ``.save(folder)``.
    """
    return Report.from_fit(calibration)


def build_summary(calibration) -> dict:
    """Plain values the report of a fit shows, in the order a meeting reads them.

    Parameters
    ----------
    calibration : Calibration
        The result of :func:`calibrate.fit`.

    Returns
    -------
    dict
        ``recommendation``, ``top_bands`` (what earns the most points),
        ``policies``, ``threshold_curve`` (for the slider), ``levels``, ``two_axis``,
        ``sheet`` (list of criteria with their bands), ``behaviour``,
        ``gains``, ``calibration`` (rows), ``distribution``, ``fast_track``,
        ``comparison``, ``metrics``, ``data`` (source, counts, excluded
        columns and why) and ``warnings``; ``mode`` is ``"fit"``.
    """
    evidence = _fit_evidence(calibration)
    return summarise(evidence, _fit_summary(calibration, evidence))


def render_report(calibration) -> str:
    """The review report of a fit as one standalone HTML page.

    Same as ``fit_report(calibration).html``.
    """
    return fit_report(calibration).html


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

    Same as :meth:`Report.from_config`, which documents the parameters.
    """
    return Report.from_config(
        config,
        data,
        outcome=outcome,
        positive=positive,
        activities=activities,
        current_sheet=current_sheet,
        date=date,
        sep=sep,
        encoding=encoding,
        progress=progress,
    )
