"""Tests for calibrate.report: the summary values, the standalone HTML page and its PDF."""

from __future__ import annotations

import base64
import io
import json
import logging
import re

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

import calibrate
from calibrate.datasets import make_leads
from calibrate.decide.threshold import threshold_curve
from calibrate.errors import CalibrateError, DataError
from calibrate.production.config import ScoringConfig
from calibrate.production.rules import band_words
from calibrate.report import Report, build_summary, evaluation_report, fit_report, render_report
from calibrate.report._evidence import _capacity_line, _Evidence
from calibrate.report._summary import TOP_BANDS, _pct, passed_in_level, top_bands
from calibrate.sheet.criteria import Band, Criterion

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
BOLD = "<b>x</b>"
EXCLUDED_REASON = "not <known> at hand-off & later"
LEAK = "stage_after_call"
#: Sections of the page, in the order a meeting reads them.
SECTIONS = [
    "recommendation",
    "top-bands",
    "tradeoff",
    "gains",
    "calibration",
    "distribution",
    "fast-track",
    "current-sheet",
    "metrics",
    "data",
    "points-sheet",
]
#: What page 1 of the PDF holds: the decision, and no points table.
PAGE_ONE = ["Recommendation", "What earns the most points", "Threshold trade-off"]
FIGURES = ["top_bands", "tradeoff", "gains", "calibration", "distribution"]
_CURVE_JSON = re.compile(
    r'<script type="application/json" id="threshold-curve">(.*?)</script>', re.DOTALL
)


def _hostile(leads: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Markup in two categories and in three column names."""
    leads = leads.copy()
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(leads), size=400, replace=False)
    leads.loc[rows[:200], "industry"] = SCRIPT
    leads.loc[rows[200:], "industry"] = IMG
    return leads.rename(columns={"email_clicks": BOLD, "role": SCRIPT, "lead_source": IMG})


def _escaped(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def hostile_leads():
    """make_leads with markup in categories and column names, and a leaky column."""
    leads = _hostile(make_leads(1500, seed=0), seed=0)
    rng = np.random.default_rng(0)
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
        capacity={"leads_per_week": 40, "incoming_per_week": 100},
    )


@pytest.fixture(scope="module")
def report(calibration):
    return fit_report(calibration)


@pytest.fixture(scope="module")
def summary(calibration):
    return build_summary(calibration)


@pytest.fixture(scope="module")
def html(report):
    return report.html


@pytest.fixture(scope="module")
def new_leads(hostile_leads):
    """Other leads, with the same markup, to evaluate the fitted config on."""
    leads = _hostile(make_leads(900, seed=1), seed=1)
    leads[LEAK] = leads["converted"]
    return leads


@pytest.fixture(scope="module")
def evaluation(calibration, new_leads):
    return evaluation_report(calibration.config, new_leads)


@pytest.fixture(scope="module")
def with_activities():
    """A fit with an activity log (behaviour criteria, fast-track rules) and new leads."""
    leads, log = make_leads(1500, seed=0, activities=True)
    result = calibrate.fit(
        leads,
        outcome="converted",
        id="lead_id",
        activities=log,
        decided_at="decided_at",
        bootstrap=0,
        seed=0,
    )
    new, new_log = make_leads(800, seed=2, activities=True)
    return {"result": result, "leads": new, "log": new_log}


@pytest.fixture(scope="module", params=["fit", "evaluation"])
def either(request, report, evaluation):
    """The report of a fit, and the report of a config on labelled leads."""
    return report if request.param == "fit" else evaluation


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
    assert rec["win_rate_passed"] == _pct(calibration.threshold.win_rate_passed)
    # No dates, so no weekly volume for the expected-value policy; the capacity
    # policy has the incoming volume it was given.
    assert rec["mqls_per_week"] is None
    capacity = calibration.decision.choices["sales_capacity"]
    assert summary["policies"][1]["mqls_per_week"] == f"{capacity.mqls_per_week:,.1f}"
    assert rec["policy"] == calibration.config.threshold["policy"]
    assert rec["policy"]["win_value"] == 5000.0
    assert summary["base_points"] == calibration.config.base_points
    assert [p["name"] for p in summary["policies"]] == ["expected value", "sales capacity"]


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
    assert summary["sheet_intervals"]
    assert all(
        re.fullmatch(r"-?\d+ to -?\d+", b["interval"])
        for c in summary["sheet"]
        for b in c["bands"]
        if b["leads"] > 0
    )


def test_summary_keeps_hostile_text_as_plain_values(summary):
    names = [c["name"] for c in summary["sheet"]]
    assert {BOLD, SCRIPT, IMG, LEAK} <= set(names)
    industry = next(c for c in summary["sheet"] if c["name"] == "industry")
    assert {SCRIPT, IMG} <= {b["label"] for b in industry["bands"]}


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


def test_summary_calibration_rows_are_the_holdout_table(calibration, summary):
    table = calibration.calibration
    assert [r["band"] for r in summary["calibration"]] == [
        f"{a}-{b}" for a, b in zip(table["score_min"], table["score_max"], strict=True)
    ]
    assert [r["leads"] for r in summary["calibration"]] == table["leads"].tolist()
    assert [r["win_rate"] for r in summary["calibration"]] == [_pct(x) for x in table["win_rate"]]


def test_summary_warns_about_the_leaky_column(calibration, summary):
    assert summary["warnings"] == list(calibration.warnings)
    leaks = [w for w in summary["warnings"] if LEAK in w]
    assert len(leaks) == 1
    assert re.match(rf"column '{LEAK}' alone ranks hold-out leads with AUC 0\.9", leaks[0])


def test_gains_table_ends_with_every_win(summary):
    gains = summary["gains"]
    assert len(gains) == 10
    assert gains[0]["tenth"] == "top 10%"
    assert gains[-1]["cumulative_wins"] == "100.0%"
    shares = [float(g["share_of_wins"].rstrip("%")) for g in gains]
    assert sum(shares) == pytest.approx(100, abs=0.06)
    # The top tenth of a useful score wins more often than the average lead.
    assert float(gains[0]["lift"]) > 1.5


# --- evidence worked out by hand -----------------------------------------------


def _evidence(scores, won, threshold=50) -> _Evidence:
    scores, won = np.asarray(scores), np.asarray(won, dtype=bool)
    return _Evidence(
        scores=scores,
        won=won,
        threshold=threshold,
        min_score=0,
        max_score=100,
        policies=(("expected value", threshold, True),),
        capacity=None,
        bands=pd.DataFrame(),
        predicted_label="predicted",
    )


def test_deciles_by_hand():
    # Ten leads scoring 100, 90, ..., 10; the two highest are won: each top
    # tenth holds half the wins (lift 5), the others none.
    deciles = _evidence(np.arange(100, 0, -10), [1, 1] + [0] * 8).deciles
    assert deciles["share_of_wins"].tolist() == pytest.approx([0.5, 0.5] + [0.0] * 8)
    assert deciles["lift"].tolist() == pytest.approx([5.0, 5.0] + [0.0] * 8)
    assert deciles["scores"].tolist()[:3] == ["100", "90", "80"]
    assert deciles["cumulative_wins"].iloc[-1] == pytest.approx(1.0)


def test_deciles_share_the_wins_of_tied_scores_evenly():
    # Every lead scores 40: no order to exploit, every tenth is average.
    deciles = _evidence([40] * 20, [1, 0, 0, 0] * 5).deciles
    assert deciles["lift"].tolist() == pytest.approx([1.0] * 10)
    assert set(deciles["scores"]) == {"40"}


@pytest.mark.parametrize(
    ("params", "volume", "share"),
    [
        ({"capacity_per_week": 250.0}, {"mean": 1000.0, "p90": 1250.0}, 0.25),
        ({"capacity_per_week": 250.0, "sla_hours": 24}, {"mean": 1000.0, "p90": 1250.0}, 0.2),
        ({"capacity_per_week": 50.0, "incoming_per_week": 200.0}, None, 0.25),
        ({"capacity_per_week": 500.0}, {"mean": 100.0, "p90": 120.0}, 1.0),
    ],
)
def test_capacity_line_by_hand(params, volume, share):
    got, label = _capacity_line(params, volume)
    assert got == pytest.approx(share)
    assert label.startswith(f"sales capacity: {params['capacity_per_week']:,.0f} leads a")


def test_no_capacity_line_without_a_weekly_volume():
    assert _capacity_line({"capacity_per_week": 250.0}, None) is None
    assert _capacity_line({"win_value": 5000.0}, {"mean": 10, "p90": 10}) is None


# --- the HTML page ------------------------------------------------------------


def test_report_shows_the_threshold_and_every_criterion(calibration, html):
    assert html.startswith("<!DOCTYPE html>")
    threshold = calibration.config.mql_threshold
    assert f"score reaches <strong>{threshold}</strong>" in html
    assert f"starts with <strong>{calibration.config.base_points}</strong> points" in html
    for criterion in calibration.config.criteria:
        assert f'<th colspan="6">{_escaped(criterion.name)}</th>' in html


def test_sections_come_in_meeting_order(either):
    html = either.html
    positions = [html.find(f'<section id="{name}">') for name in SECTIONS]
    assert -1 not in positions
    assert positions == sorted(positions)
    # The decision first; the full points sheet is the appendix, at the end.
    assert '<h2 class="new-page">Appendix: the full points sheet</h2>' in html
    assert html.find("Fit: who the lead is") < html.find("Engagement: what the lead did")
    assert html.find('<section id="data">') < html.find("Fit: who the lead is")
    # In the PDF, the rest of the evidence and the appendix begin new pages.
    assert '<section id="gains">\n<h2 class="new-page">' in html


def test_the_recommendation_is_one_paragraph_with_the_key_figures(either):
    html = either.html
    rec = either.summary["recommendation"]
    start = html.find('<section id="recommendation">')
    section = html[start : html.find("</section>", start)]
    assert section.count("<p") == 1
    for value in (rec["share_passed"], rec["share_wins_captured"], rec["win_rate_passed"]):
        assert f"<strong>{value}</strong>" in section
    assert f"<strong>{rec['threshold']}</strong>" in section
    assert "MQLs a week" in section


def test_fit_and_engagement_criteria_are_apart(with_activities):
    result = with_activities["result"]
    html = result.report_html()
    fit_table = html[html.find("Fit: who the lead is") : html.find("Engagement: what the lead")]
    engagement = html[html.find("Engagement: what the lead") : html.find("How engagement")]
    for criterion in result.config.criteria:
        cell = f'<th colspan="5">{_escaped(criterion.name)}</th>'
        assert (cell in fit_table) == (criterion.group == "explicit"), criterion.name
        assert (cell in engagement) == (criterion.group == "implicit"), criterion.name


def test_report_embeds_every_figure_as_png_data(either):
    html = either.html
    images = re.findall(
        r'<img class="figure(?: decision)?" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html
    )
    assert len(images) == len(FIGURES) == html.count("<img")
    assert sorted(either.figures) == sorted(FIGURES)
    for image in images:
        png = base64.b64decode(image)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(png) > 10_000
        # No software or time stamp: the bytes depend on the evidence alone.
        assert b"Software" not in png
        assert b"tIME" not in png


def test_report_is_standalone(either):
    html = either.html
    # Base64 may spell anything ('//' included): look at the page without its images.
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:", html)
    for scheme in ("http:", "https:", "file:", "ftp:", "//"):
        assert scheme not in text, scheme
    assert "<link" not in html
    # Two inline scripts (the slider's curve as JSON, and its code), nothing loaded.
    assert re.findall(r"<script[^>]*>", html) == [
        '<script type="application/json" id="threshold-curve">',
        "<script>",
    ]
    assert "<script" not in either.pdf_html
    assert "url(" not in html
    assert re.search(r'src="(?!data:image/png;base64,)', html) is None


@pytest.mark.parametrize(
    "raw",
    [SCRIPT, IMG, BOLD, EXCLUDED_REASON],
)
def test_report_escapes_text_from_the_data(either, raw):
    html = either.html
    assert raw not in html
    assert _escaped(raw) in html


def test_report_lists_excluded_columns_with_their_reasons(html):
    assert "<h3>Columns left out</h3>" in html
    assert "<tr><td>country</td><td>not &lt;known&gt; at hand-off &amp; later</td></tr>" in html
    assert (
        "<tr><td>created_at</td><td>a date/time column; not used as a criterion</td></tr>" in html
    )


def test_report_shows_the_warnings(summary, html):
    assert "<h3>Warnings</h3>" in html
    (warning,) = [w for w in summary["warnings"] if "'" in w]
    escaped = warning.replace("'", "&#39;")
    assert escaped != warning
    assert f"<li>{escaped}</li>" in html


def test_report_marks_every_policy_and_the_capacity(summary, html):
    assert "<td>sales capacity</td>" in html
    assert "<td>expected value</td>" in html
    assert summary["policies"][1]["mqls_per_week"] != "-"


def test_report_is_reproducible(calibration, report, html):
    again = fit_report(calibration)
    assert again.figures == report.figures
    assert again.html == html
    assert render_report(calibration) == html
    assert calibration.report_html() == html


# --- the PDF ------------------------------------------------------------------


def test_pdf_has_pages_the_threshold_and_every_criterion(calibration, report):
    pdf = report.pdf
    assert pdf.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 1
    text = _pdf_text(pdf)
    assert f"score reaches {calibration.config.mql_threshold}." in text
    for criterion in calibration.config.criteria:
        assert criterion.name in text, criterion.name


@pytest.mark.parametrize("raw", [SCRIPT, IMG])
def test_pdf_shows_markup_from_the_data_as_text(either, raw):
    assert raw in _pdf_text(either.pdf)


def test_pdf_renders_without_warnings(calibration, caplog):
    with caplog.at_level(logging.WARNING):
        fit_report(calibration).pdf  # noqa: B018 - rendering is the test
    assert [r for r in caplog.records if r.name.startswith("xhtml2pdf")] == []


def test_save_writes_identical_files_twice(calibration, tmp_path):
    first = calibration.save(tmp_path / "a", pdf=True)
    second = calibration.save(tmp_path / "b", pdf=True)
    assert sorted(first) == ["config", "metrics", "report", "report_pdf"]
    for name in first:
        assert first[name].read_bytes() == second[name].read_bytes(), name
    assert first["report_pdf"].name == "report.pdf"


def test_save_writes_nothing_when_the_pdf_fails(calibration, tmp_path, monkeypatch):
    def broken(html):
        raise CalibrateError("the report could not be rendered as PDF (1 errors)")

    monkeypatch.setattr("calibrate.report._render._html_to_pdf", broken)
    with pytest.raises(CalibrateError, match="could not be rendered as PDF"):
        calibration.save(tmp_path / "out", pdf=True)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_report_save_writes_both_files_or_refuses_a_file(report, tmp_path):
    paths = report.save(tmp_path / "r", pdf=True)
    assert paths["report"].read_text(encoding="utf-8") == report.html
    assert paths["report_pdf"].read_bytes() == report.pdf
    # Without pdf, only the page; the PDF of the earlier save is removed.
    assert report.save(tmp_path / "r") == {"report": paths["report"]}
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["report.html"]
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    with pytest.raises(CalibrateError, match="it is a file, not a folder"):
        report.save(blocker)
    assert blocker.read_text() == "not a folder"


# --- a config evaluated on labelled leads --------------------------------------


def test_evaluation_on_the_holdout_leads_repeats_the_fit(calibration, hostile_leads, summary):
    held = hostile_leads.iloc[calibration.holdout_rows]
    again = evaluation_report(calibration.config, held).summary
    for key in ("threshold", "share_passed", "share_wins_captured", "win_rate_passed"):
        assert again["recommendation"][key] == summary["recommendation"][key], key
    assert (
        again["recommendation"]["at_fit"]["share_passed"]
        == summary["recommendation"]["share_passed"]
    )
    assert [(r["band"], r["leads"], r["win_rate"]) for r in again["calibration"]] == [
        (r["band"], r["leads"], r["win_rate"]) for r in summary["calibration"]
    ]
    assert again["gains"] == summary["gains"]
    assert again["distribution"] == summary["distribution"]


def test_evaluation_measures_the_config_on_the_new_leads(calibration, evaluation, new_leads):
    config, summary = calibration.config, evaluation.summary
    scores = calibrate.score_leads(config, new_leads)["score"].to_numpy()
    won = new_leads["converted"].to_numpy()
    passed = scores >= config.mql_threshold
    rec = summary["recommendation"]
    assert rec["threshold"] == config.mql_threshold
    assert rec["share_passed"] == _pct(passed.mean())
    assert rec["share_wins_captured"] == _pct(won[passed].sum() / won.sum())
    assert rec["win_rate_passed"] == _pct(won[passed].mean())
    assert summary["mode"] == "evaluation"
    assert summary["data"]["leads"] == "900"
    assert summary["data"]["outcome"] == "converted = true"
    assert not summary["sheet_intervals"]
    for shown in summary["sheet"]:
        assert sum(b["leads"] for b in shown["bands"]) == len(new_leads), shown["name"]
    assert summary["fast_track"]["rows"] == [] or summary["fast_track"]["decision"] == (
        "Still holds"
    )


def test_evaluation_by_hand(tmp_path):
    # Four VPs score 10 + 30 = 40 (MQLs), two of them won; six others score 10,
    # one of them won.
    title = Criterion(
        "title",
        "title",
        "categorical",
        "explicit",
        bands=(
            Band("VP", "levels", values=("VP",), points=30),
            Band("Other", "other", points=0),
            Band("Missing", "missing", points=0),
        ),
    )
    config = ScoringConfig(
        criteria=(title,), base_points=10, threshold={"mql": 40, "policy": {"name": "manual"}}
    )
    leads = pd.DataFrame(
        {
            "title": ["VP"] * 4 + ["CEO"] * 6,
            "won": ["yes", "yes", "no", "no", "yes"] + ["no"] * 5,
        }
    )
    with pytest.raises(DataError, match="does not record its outcome column"):
        evaluation_report(config, leads)
    steps = []
    report = evaluation_report(config, leads, outcome="won", progress=steps.append)
    assert steps == ["read", "score", "measure"]
    rec = report.summary["recommendation"]
    assert (rec["share_passed"], rec["share_wins_captured"], rec["win_rate_passed"]) == (
        "40.0%",
        "66.7%",
        "50.0%",
    )
    assert rec["base_rate"] == "30.0%"
    assert rec["mqls_per_week"] is None
    (sheet,) = report.summary["sheet"]
    assert [(b["label"], b["leads"], b["win_rate"]) for b in sheet["bands"]] == [
        ("VP", 4, "50.0%"),
        ("Other", 6, "16.7%"),
        ("Missing", 0, "-"),
    ]
    assert report.summary["data"]["outcome"] == "won = yes"
    assert "MQLs a week unknown" in report.html
    assert len(PdfReader(io.BytesIO(report.pdf)).pages) >= 1


def test_evaluation_with_activities_counts_fast_track_rules(with_activities):
    result, leads, log = (with_activities[k] for k in ("result", "leads", "log"))
    rules = result.config.threshold["fast_track"]
    assert rules, "the simulated hand-raisers earn fast-track rules"
    report = evaluation_report(result.config, leads, activities=log)
    summary = report.summary
    assert [r["signal"] for r in summary["fast_track"]["rows"]] == [
        r["activity_type"] for r in rules
    ]
    assert summary["behaviour"]["from_fit"]
    assert [d["family"] for d in summary["behaviour"]["decay"]] == [
        d["family"] for d in result.config.activities["decay"]
    ]
    # The leads have decision dates: the period and MQLs a week come from them.
    assert summary["data"]["period"] != "not given (random hold-out)"
    assert summary["recommendation"]["mqls_per_week"] is not None
    for shown in summary["sheet"]:
        assert sum(b["leads"] for b in shown["bands"]) == len(leads), shown["name"]
    assert "How engagement is counted" in report.html


def test_evaluation_compares_with_the_sheet_in_use_today(with_activities, tmp_path):
    result, leads, log = (with_activities[k] for k in ("result", "leads", "log"))
    sheet = tmp_path / "today.yaml"
    sheet.write_text(
        "threshold: 20\nrules:\n"
        "  - column: seniority\n    in: [VP, C-level]\n    points: 20\n"
        "  - activity: demo_request\n    at_least: 1\n    within_days: 30\n    points: 20\n"
    )
    report = evaluation_report(result.config, leads, activities=log, current_sheet=sheet)
    comparison = report.summary["comparison"]
    assert [r["rule"] for r in comparison["rules"]] == [
        "seniority in VP, C-level",
        "activity:demo_request >= 1 within 30 days",
    ]
    assert comparison["calibrated"]["threshold"] == f"{result.config.mql_threshold:g}"
    assert "Compared with the sheet in use today" in report.html


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (lambda f: f.drop(columns="converted"), {}, r"outcome column 'converted' not found"),
        (lambda f: f.assign(converted=True), {}, r"has a single value"),
        (lambda f: f.drop(columns="seniority"), {}, r"column\(s\) the config needs are missing"),
        (lambda f: f, {"date": "nope"}, r"date column 'nope' not found"),
        (lambda f: f, {"positive": "maybe"}, r"positive value 'maybe' is not a value"),
    ],
)
def test_evaluation_errors_name_the_column(calibration, new_leads, change, kwargs, match):
    with pytest.raises(DataError, match=match):
        evaluation_report(calibration.config, change(new_leads), **kwargs)


def test_evaluation_of_a_behaviour_config_needs_the_log(with_activities):
    result, leads = with_activities["result"], with_activities["leads"]
    with pytest.raises(DataError, match="give the log"):
        evaluation_report(result.config, leads)
    with pytest.raises(DataError, match="the leads need its column 'decided_at'"):
        evaluation_report(
            result.config, leads.drop(columns="decided_at"), activities=with_activities["log"]
        )


def test_report_object_is_plain_data(report):
    assert isinstance(report, Report)
    assert set(report.summary) >= {"recommendation", "sheet", "gains", "calibration", "data"}


def test_both_constructors_give_the_same_report_on_the_same_leads():
    """A config scored on its fit's hold-out leads shows what the fit's report shows."""
    leads = make_leads(2000, seed=4)
    fitted = calibrate.fit(leads, outcome="converted", id="lead_id", seed=0, bootstrap=0)
    held = leads.set_index("lead_id").loc[fitted.leads.ids.iloc[fitted.holdout_rows]]
    from_fit = Report.from_fit(fitted)
    from_config = Report.from_config(fitted.config, held.reset_index())
    assert isinstance(from_fit, Report) and isinstance(from_config, Report)
    # The same keys, in the same order: both are built by the one core; only
    # a fit knows what its pair search judged.
    assert [k for k in from_fit.summary if k != "pair_search"] == list(from_config.summary)
    assert (from_fit.summary["mode"], from_config.summary["mode"]) == ("fit", "evaluation")
    # The same scores and outcomes: the same gains, score bands and threshold. Only
    # the prediction differs: the model's probability against the config's band rates.
    for key in ("gains", "distribution"):
        assert from_fit.summary[key] == from_config.summary[key], key

    def observed(summary):
        keys = ("band", "leads", "win_rate")
        return [{k: row[k] for k in keys} for row in summary["calibration"]]

    assert observed(from_fit.summary) == observed(from_config.summary)
    # The same hold-out AUC of the integer score.
    fit_metrics, config_metrics = (
        dict(from_fit.summary["metrics"]),
        dict(from_config.summary["metrics"]),
    )
    assert (
        fit_metrics["Hold-out AUC, integer points"]
        == config_metrics["AUC of the score on these leads"]
        == config_metrics["AUC at the fit, hold-out leads"]
    )
    assert (
        from_fit.summary["recommendation"]["threshold"]
        == from_config.summary["recommendation"]["threshold"]
    )
    assert sorted(from_fit.figures) == sorted(from_config.figures)
    assert fit_report(fitted).summary == from_fit.summary
    # The config's two-axis rule, measured again on the same leads, gives what
    # the fit measured when it chose the rule (one measurement: rule_outcome).
    assert fitted.config.threshold.get("two_axis")
    assert from_fit.summary["two_axis"] is not None
    assert from_config.summary["two_axis"] == from_fit.summary["two_axis"]


def test_both_constructors_agree_on_a_fit_with_behaviour(with_activities):
    """With behaviour criteria and fast-track rules too: the config scored on the
    hold-out leads of its fit gives the fit's score bands, AUC and two-axis rule."""
    result = with_activities["result"]
    leads, log = make_leads(1500, seed=0, activities=True)  # the fit's leads
    held = leads.set_index("lead_id").loc[result.leads.ids.iloc[result.holdout_rows]]
    from_fit = Report.from_fit(result)
    held_log = log[log["lead_id"].isin(held.index)]
    from_config = Report.from_config(result.config, held.reset_index(), activities=held_log)
    fit, config = from_fit.summary, from_config.summary
    assert [k for k in fit if k != "pair_search"] == list(config)
    for key in ("gains", "distribution", "two_axis"):
        assert fit[key] == config[key], key
    keys = ("band", "leads", "win_rate")
    assert [{k: r[k] for k in keys} for r in fit["calibration"]] == [
        {k: r[k] for k in keys} for r in config["calibration"]
    ]
    assert (
        dict(fit["metrics"])["Hold-out AUC, integer points"]
        == dict(config["metrics"])["AUC of the score on these leads"]
    )
    # The config's fast-track rules are the signals the fit recommended, in
    # rows of the same columns (the fit tests them on all leads, the config's
    # report on these).
    recommended = [r["signal"] for r in fit["fast_track"]["rows"] if r["recommended"] == "yes"]
    assert recommended
    assert [r["signal"] for r in config["fast_track"]["rows"]] == recommended
    assert {tuple(r) for r in config["fast_track"]["rows"]} == {
        tuple(fit["fast_track"]["rows"][0])
    }


# --- page 1: what earns the most points, in words ------------------------------


def _band(phrase, points, leads=10):
    return {"phrase": phrase, "points": points, "leads": leads}


def test_top_bands_by_hand():
    sheet = [
        {
            "group": "explicit",
            "bands": [_band("seniority: VP", 20), _band("seniority: Staff", 0), _band("a", 5)],
        },
        {
            "group": "implicit",
            "bands": [
                _band("1+ demo_request in the last 30 days", 15),
                _band("1+ unsubscribe in the last 90 days", -18),
                _band("demo_request: not known", 30, leads=0),  # no lead holds it
                _band("b", 4),
                _band("c", -4),
                _band("d", 4),
            ],
        },
    ]
    top = top_bands(sheet, n=4)
    assert top["fit"] == [
        {"label": "seniority: VP", "points": 20},
        {"label": "a", "points": 5},
    ]
    # The four largest by absolute points (a penalty among them), largest points
    # first; of b, c and d (all 4 points apart) the first two in sheet order.
    assert [b["label"] for b in top["engagement"]] == [
        "1+ demo_request in the last 30 days",
        "b",
        "c",
        "1+ unsubscribe in the last 90 days",
    ]
    assert top_bands([], n=4) == {"fit": [], "engagement": []}


def test_top_bands_are_the_largest_bands_of_the_sheet_in_words(with_activities):
    result = with_activities["result"]
    summary = result.report().summary
    spec = result.config.activity_spec
    top = summary["top_bands"]
    assert 0 < len(top["fit"]) <= TOP_BANDS and 0 < len(top["engagement"]) <= TOP_BANDS
    for name, group in (("fit", "explicit"), ("engagement", "implicit")):
        held = [
            (b["points"], b["phrase"])
            for c in summary["sheet"]
            if c["group"] == group
            for b in c["bands"]
            if b["points"] and b["leads"]
        ]
        shown = [b["points"] for b in top[name]]
        assert shown == sorted(shown, reverse=True)
        # No band left out moves a score more than one shown.
        smallest = min(abs(p) for p in shown)
        assert sum(abs(p) > smallest for p, _ in held) < len(shown)
        assert {(b["points"], b["label"]) for b in top[name]} <= set(held)
    # Engagement bands read as what the lead did, as band_words says them.
    words = {
        band_words(c, b, spec)
        for c in result.config.criteria
        if c.group == "implicit"
        for b in c.bands
    }
    assert all(b["label"] in words for b in top["engagement"]), top["engagement"]
    assert not any(re.search(r"[<>]=?\d", b["label"]) for b in top["engagement"])


def test_the_sheet_tables_say_engagement_bands_in_words(with_activities):
    result = with_activities["result"]
    report = result.report()
    spec = result.config.activity_spec
    shown = {c["name"]: c for c in report.summary["sheet"]}
    for criterion in result.config.criteria:
        rows = shown[criterion.name]["bands"]
        assert [b["label"] for b in rows] == [b.label for b in criterion.bands]
        said = [band_words(criterion, b, spec) for b in criterion.bands]
        assert [b["words"] for b in rows] == said
        if criterion.group == "explicit":
            assert [b["words"] for b in rows] == [b.label for b in criterion.bands]
    appendix = report.html[report.html.find('<section id="points-sheet"') :]
    demo = next(c for c in result.config.criteria if c.name == "demo_request")
    for band in demo.bands:
        assert f"<tr><td>{_escaped(band_words(demo, band, spec))}</td>" in appendix
        if band.label.startswith(("<", ">")):
            assert f"<tr><td>{_escaped(band.label)}</td>" not in appendix


def test_page_one_of_the_pdf_is_the_decision(either):
    pages = [
        re.sub(r"\s+", " ", page.extract_text())
        for page in PdfReader(io.BytesIO(either.pdf)).pages
    ]
    first = pages[0]
    for heading in PAGE_ONE:
        assert heading in first, heading
    assert "Appendix" not in first and "Criterion / band" not in first
    # The recommended threshold, said in words where the slider is on the page.
    threshold = either.summary["recommendation"]["threshold"]
    assert f"MQL threshold {threshold} (recommended)" in " ".join(pages)
    (appendix,) = [i for i, page in enumerate(pages) if "Appendix: the full points sheet" in page]
    assert appendix > 1
    assert "Data" in " ".join(pages[:appendix])


def test_the_pdf_page_has_no_script_and_no_slider(either):
    assert "<script" not in either.pdf_html
    assert 'type="range"' not in either.pdf_html
    assert 'type="range"' in either.html
    # Besides the slider and its script, the two pages say the same.
    assert "MQL threshold" in either.pdf_html
    assert either.pdf_html.count("<section") == either.html.count("<section")


# --- the slider's curve ----------------------------------------------------------


def _embedded_curve(html: str) -> dict:
    (text,) = _CURVE_JSON.findall(html)
    return json.loads(text)


def _numbers_only(value) -> bool:
    if isinstance(value, dict):
        return all(_numbers_only(v) for v in value.values())
    if isinstance(value, list):
        return all(_numbers_only(v) for v in value)
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def test_the_embedded_curve_is_the_summary_and_numbers_only(either):
    embedded = _embedded_curve(either.html)
    assert embedded == either.summary["threshold_curve"]
    assert _numbers_only(embedded)
    # Hostile categories and column names never reach the script.
    (text,) = _CURVE_JSON.findall(either.html)
    assert re.fullmatch(r'[\[\]{}":,.\-0-9a-z_ ]*', text), text[:200]


def test_the_embedded_curve_is_the_fit_threshold_curve(calibration, report):
    """At every score, the shares the slider shows are the fit's curve, as the page writes them."""
    embedded = _embedded_curve(report.html)
    curve = calibration.threshold.curve
    scale = calibration.scorecard
    thresholds = range(int(scale.min_score), int(scale.max_score) + 1)
    assert (embedded["min_score"], embedded["max_score"]) == (thresholds[0], thresholds[-1])
    assert embedded["threshold"] == calibration.threshold.threshold
    assert embedded["leads_passed"] == curve["leads_passed"].tolist()
    for key in ("share_passed", "share_wins_captured", "win_rate_passed"):
        written = ["-" if x is None else f"{x:.1f}%" for x in embedded[key]]
        assert written == [_pct(curve[key].iloc[t - thresholds[0]]) for t in thresholds], key
    # No dates: MQLs a week unknown, as in the recommendation.
    assert embedded["mqls_per_week"] is None
    assert "unknown: the leads have no dates" in report.html
    # The static policy table says at each policy's threshold what the curve says.
    for row in report.summary["policies"]:
        i = row["threshold"] - thresholds[0]
        assert row["share_passed"] == f"{embedded['share_passed'][i]:.1f}%"
        assert row["share_wins_captured"] == f"{embedded['share_wins_captured'][i]:.1f}%"


def test_the_embedded_curve_of_a_config_is_its_curve_on_the_leads(with_activities):
    result, leads, log = (with_activities[k] for k in ("result", "leads", "log"))
    report = evaluation_report(result.config, leads, activities=log)
    embedded = _embedded_curve(report.html)
    config = result.config
    scores = calibrate.score_leads(config, leads, activities=log)["score"].to_numpy()
    won = leads["converted"].to_numpy().astype(bool)
    weekly = report.summary["recommendation"]["mqls_per_week"]
    assert weekly is not None and embedded["mqls_per_week"] is not None
    for t in (config.min_score, config.mql_threshold, 55, config.max_score):
        i = t - config.min_score
        passed = scores >= t
        assert embedded["leads_passed"][i] == passed.sum()
        assert f"{embedded['share_passed'][i]:.1f}%" == _pct(passed.mean())
        assert f"{embedded['share_wins_captured'][i]:.1f}%" == _pct(won[passed].sum() / won.sum())
        rate = embedded["win_rate_passed"][i]
        assert ("-" if rate is None else f"{rate:.1f}%") == _pct(
            won[passed].mean() if passed.any() else None
        )
    i = config.mql_threshold - config.min_score
    assert f"{embedded['mqls_per_week'][i]:,.1f}" == weekly
    levels = report.summary["levels"]
    assert embedded["levels"] == [[lv["min_score"], lv["max_score"]] for lv in levels]


@pytest.mark.parametrize("threshold", [0, 1, 30, 31, 62, 63, 99, 100])
def test_passed_in_level_counts_the_leads_of_a_level_at_or_above_the_line(threshold):
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 101, size=500)
    passed = threshold_curve(scores, rng.random(500) < 0.2)["leads_passed"].to_numpy()
    for low, high in ((63, 100), (31, 62), (0, 30)):
        inside = (scores >= low) & (scores <= high) & (scores >= threshold)
        assert passed_in_level(passed, low, high, threshold, 0) == inside.sum()


def test_the_levels_table_counts_the_leads_the_line_passes(calibration, summary):
    scores = calibration.holdout.scores
    t = calibration.threshold.threshold
    for level in summary["levels"]:
        inside = (scores >= level["min_score"]) & (scores <= level["max_score"])
        assert level["leads"] == inside.sum()
        assert level["passed"] == (inside & (scores >= t)).sum()
