"""Rendering: a report's summary and figures as one HTML page, and as PDF."""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from ..errors import CalibrateError

#: Width of the figures on a PDF page (A4 less the margins).
_PDF_FIGURE_WIDTH = "17cm"


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
    >>> from calibrate.report import fit_report
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
        text = (
            resources.files("calibrate.report")
            .joinpath("templates/report.html")
            .read_text("utf-8")
        )
        return env.from_string(text).render(
            summary=self.summary, images=images, pdf_figure_width=_PDF_FIGURE_WIDTH
        )

    @cached_property
    def pdf(self) -> bytes:
        """The same page as a PDF (A4), for printing and for the minutes."""
        return _html_to_pdf(self.html)

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

        out = _out_folder(out_dir)
        files = self.files(out, pdf=pdf)
        write_files(dict(files.values()))
        drop_stale_pdf(out, pdf=pdf)
        return {name: path for name, (path, _) in files.items()}

    def files(self, out: Path, *, pdf: bool = False) -> dict[str, tuple[Path, str | bytes]]:
        """``{name: (path, content)}`` of the report's files in the folder ``out``."""
        files = {"report": (out / "report.html", self.html)}
        if pdf:
            files["report_pdf"] = (out / "report.pdf", self.pdf)
        return files


def drop_stale_pdf(out: Path, *, pdf: bool) -> None:
    """Remove a ``report.pdf`` of an earlier run when this run wrote none."""
    if not pdf:
        (out / "report.pdf").unlink(missing_ok=True)


def _out_folder(out_dir) -> Path:
    out = Path(os.fspath(out_dir))
    if out.exists() and not out.is_dir():
        raise CalibrateError(f"cannot write to {out}: it is a file, not a folder")
    return out


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
