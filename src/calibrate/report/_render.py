"""Rendering: a report's summary and figures as one HTML page, and as PDF."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

from ..errors import CalibrateError

#: Width of the figures on a PDF page (A4 less the margins).
_PDF_FIGURE_WIDTH = "17cm"
#: Width of page 1's figures (what earns the most points, the trade-off) in
#: the PDF: narrower, so that both stand on page 1 under the recommendation.
_PDF_DECISION_WIDTH = "14cm"


def render_html(summary: dict, figures: dict, *, interactive: bool = True) -> str:
    """The page: the summary and the PNG figures through the jinja2 template, autoescaped.

    With ``interactive``, the page has the threshold slider: the curve as
    JSON in a ``<script type="application/json">`` and an inline script (no
    network). Without it (the page the PDF is rendered from) there is no
    script and no slider: the figures at the recommended threshold stand
    alone, as they also do in the browser with JavaScript off.
    """
    return render_page("report.html", figures, summary=summary, interactive=interactive)


def render_page(template: str, figures: dict, **values) -> str:
    """A page of ``templates/``: the PNG figures as ``images`` (``data:`` URIs), autoescaped.

    Every page shares the report's stylesheets (``templates/_style.html``).
    """
    images = {
        name: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        for name, png in figures.items()
    }
    page = _environment().get_template(template)
    return page.render(
        images=images,
        pdf_figure_width=_PDF_FIGURE_WIDTH,
        pdf_decision_width=_PDF_DECISION_WIDTH,
        **values,
    )


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("calibrate.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pct"] = lambda x: "-" if x is None else f"{100 * x:.1f}%"
    env.filters["num"] = lambda x, digits=2: "-" if x is None else f"{x:,.{digits}f}"
    return env


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
