"""Tests for calibrate.report: the summary values and the standalone HTML page."""

from __future__ import annotations

import re

import numpy as np
import pytest

import calibrate
from calibrate.datasets import make_leads
from calibrate.report import _pct, build_summary, render_report

SCRIPT = "<script>alert(1)</script>"
BOLD = "<b>x</b>"
EXCLUDED_REASON = "not <known> at hand-off & later"
LEAK = "stage_after_call"


@pytest.fixture(scope="module")
def hostile_leads():
    """make_leads with markup in a category and in a column name, and a leaky column."""
    leads = make_leads(1500, seed=0)
    rng = np.random.default_rng(0)
    rows = rng.choice(len(leads), size=200, replace=False)
    leads.loc[rows, "industry"] = SCRIPT
    leads = leads.rename(columns={"email_clicks": BOLD})
    # The outcome with 3% of it flipped: known only after the fact, it ranks
    # leads far too well and must raise a leakage warning.
    leak = leads["converted"].to_numpy().copy()
    flip = rng.random(len(leads)) < 0.03
    leak[flip] = ~leak[flip]
    leads[LEAK] = leak
    return leads


@pytest.fixture(scope="module")
def calibration(hostile_leads):
    return calibrate.fit(
        hostile_leads,
        outcome="converted",
        id="lead_id",
        seed=0,
        exclude={"country": EXCLUDED_REASON},
    )


@pytest.fixture(scope="module")
def summary(calibration):
    return build_summary(calibration)


@pytest.fixture(scope="module")
def html(calibration):
    return render_report(calibration)


# --- the summary --------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "text"),
    [(0.25, "25.0%"), (1 / 3, "33.3%"), (1, "100.0%"), (None, "-"), (float("nan"), "-")],
)
def test_pct_by_hand(x, text):
    assert _pct(x) == text


def test_summary_recommendation_matches_the_calibration(calibration, summary):
    rec = summary["recommendation"]
    assert rec["threshold"] == calibration.config.mql_threshold == calibration.threshold.threshold
    assert rec["share_passed"] == _pct(calibration.threshold.share_passed)
    assert rec["share_wins_captured"] == _pct(calibration.threshold.share_wins_captured)
    assert rec["policy"] == calibration.config.threshold["policy"]
    assert rec["policy"]["win_value"] == 5000.0
    assert summary["base_points"] == calibration.config.base_points


def test_summary_sheet_lists_every_criterion_with_its_bands_and_points(calibration, summary):
    config = calibration.config
    assert [c["name"] for c in summary["sheet"]] == [c.name for c in config.criteria]
    for shown, criterion in zip(summary["sheet"], config.criteria, strict=True):
        assert shown["group"] == criterion.group
        assert shown["kind"] == criterion.kind
        assert [b["label"] for b in shown["bands"]] == [b.label for b in criterion.bands]
        assert [b["points"] for b in shown["bands"]] == [b.points for b in criterion.bands]
    leads_per_criterion = {sum(b["leads"] for b in c["bands"]) for c in summary["sheet"]}
    assert leads_per_criterion == {calibration.metrics["n_train"]}


def test_summary_keeps_hostile_text_as_plain_values(summary):
    names = [c["name"] for c in summary["sheet"]]
    assert BOLD in names
    assert LEAK in names
    industry = next(c for c in summary["sheet"] if c["name"] == "industry")
    assert SCRIPT in [b["label"] for b in industry["bands"]]


def test_summary_data_notes(calibration, summary, hostile_leads):
    data = summary["data"]
    assert data["source"] == "DataFrame"
    assert data["leads"] == "1,500"
    assert data["wins"] == f"{int(hostile_leads['converted'].sum()):,}"
    assert data["outcome"] == "converted = true"
    assert data["period"] == "not given (random hold-out)"
    assert {"column": "country", "reason": EXCLUDED_REASON} in data["excluded"]
    assert {"column": "created_at", "reason": "a date/time column; not used as a criterion"} in (
        data["excluded"]
    )
    assert len(summary["calibration"]) == len(calibration.calibration)


def test_summary_warns_about_the_leaky_column(calibration, summary):
    assert summary["warnings"] == list(calibration.warnings)
    assert len(summary["warnings"]) == 1
    assert re.match(
        rf"column '{LEAK}' alone ranks hold-out leads with AUC 0\.9", summary["warnings"][0]
    )


# --- the HTML page ------------------------------------------------------------


def test_report_shows_the_threshold_and_every_criterion(calibration, html):
    assert html.startswith("<!DOCTYPE html>")
    threshold = calibration.config.mql_threshold
    assert f"score reaches <strong>{threshold}</strong>" in html
    assert f"starts with <strong>{calibration.config.base_points}</strong> points" in html
    for criterion in calibration.config.criteria:
        name = criterion.name.replace("<", "&lt;").replace(">", "&gt;")
        assert f'<th colspan="6">{name} <span' in html


def test_report_embeds_two_png_images(html):
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 2
    assert all(len(image) > 1000 for image in images)
    assert html.count("<img") == 2


def test_report_is_standalone(html):
    assert "http://" not in html
    assert "https://" not in html
    assert "<link" not in html
    assert "<script" not in html
    assert re.search(r'src="(?!data:)', html) is None


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        (SCRIPT, "&lt;script&gt;alert(1)&lt;/script&gt;"),
        (BOLD, "&lt;b&gt;x&lt;/b&gt;"),
        (EXCLUDED_REASON, "not &lt;known&gt; at hand-off &amp; later"),
    ],
)
def test_report_escapes_text_from_the_data(html, raw, escaped):
    assert raw not in html
    assert escaped in html


def test_report_lists_excluded_columns_with_their_reasons(html):
    assert "<h3>Columns left out</h3>" in html
    assert "<tr><td>country</td><td>not &lt;known&gt; at hand-off &amp; later</td></tr>" in html
    assert (
        "<tr><td>created_at</td><td>a date/time column; not used as a criterion</td></tr>" in html
    )


def test_report_shows_the_warnings(summary, html):
    assert "<h3>Warnings</h3>" in html
    (warning,) = summary["warnings"]
    escaped = warning.replace("'", "&#39;")
    assert escaped != warning
    assert f"<li>{escaped}</li>" in html


def test_report_is_reproducible(calibration, html):
    assert render_report(calibration) == html
    assert calibration.report_html() == html
