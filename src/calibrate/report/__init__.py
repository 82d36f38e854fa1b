"""Report: one standalone page, HTML and PDF, for the marketing-and-sales review.

The report leads with the decision. Page 1: the recommendation in one
paragraph, what earns the most points (the bands that move a score most, fit
and engagement apart, in words) and the threshold trade-off, followed by the
policies, a threshold slider (in the HTML) and the levels. Then lift and
gains, what a score means (calibration), the scores of won and lost leads,
fast-track evidence, the sheet in use today, quality figures and the data
behind it all; the full points sheet is the appendix, at the end. Engagement
bands read as what the lead did (:func:`~calibrate.production.rules.band_words`).

Two sources give the same report, through the two constructors of one
:class:`Report` (as scikit-learn's displays have ``from_estimator`` and
``from_predictions``):

- :meth:`Report.from_fit` (or :func:`fit_report`) reads a
  :class:`~calibrate.Calibration` (what ``calibrate fit`` writes): every
  figure is measured on the hold-out leads;
- :meth:`Report.from_config` (or :func:`evaluation_report`) reads a scoring
  config and labelled leads (what ``calibrate report`` writes): the config
  scores the leads, as production would, and every figure is measured on them.
  What only a fit knows (bootstrap intervals, how decay was learned) is shown
  as recorded in the config, or left out.

Both measure the same evidence (the scores, the outcomes, the sheet's
threshold and bands), build a plain summary dict from it and draw the PNG
figures from it; the :class:`Report` renders them through a jinja2 template
with autoescape on, so every value from the data (column names, categories)
shows as text. The figures are drawn with matplotlib in greys, line styles and
hatching (readable when printed in black and white) and embedded as ``data:``
URIs, so the page opens without a network. The slider is an inline script
over the threshold curve embedded as JSON (numbers only): it moves the MQL
line and shows what it passes; with JavaScript off the page shows the
recommended threshold's figures. The PDF, on request (``save(out,
pdf=True)``, ``--pdf``), is the same HTML without the slider and its script,
rendered by xhtml2pdf, page 1 the decision and the appendix on pages of its
own. The same input gives byte-identical HTML and PDF.

:func:`monitor_page` and :func:`backtest_page` render what
:func:`calibrate.monitor` and :func:`calibrate.backtest` found, in the same
look, from the plain ``monitor.json`` and ``backtest.json`` content.
"""

from __future__ import annotations

from ._backtest import backtest_page
from ._monitor import monitor_page
from ._render import drop_stale_pdf
from ._report import Report, build_summary, evaluation_report, fit_report, render_report

__all__ = [
    "Report",
    "backtest_page",
    "build_summary",
    "drop_stale_pdf",
    "evaluation_report",
    "fit_report",
    "monitor_page",
    "render_report",
]
