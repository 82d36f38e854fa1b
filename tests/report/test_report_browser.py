"""The saved report in a real browser (headless Chromium) and its PDF rendered by poppler.

A real fit on generated leads with an activity log, with markup in a category, is saved
with ``Calibration.save``; the page is opened from disk in a Chromium with no network
(tests/browser.py). See docs/testing.md.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import calibrate
from browser import WINDOW_SIZE, pdf_pages
from calibrate.datasets import make_leads
from calibrate.report._summary import _pct

SCRIPT = "<script>alert(1)</script>"
MIN_IMAGES = 3
"""Fewest charts the report has (trade-off, gains, calibration, score distribution)."""
MIN_PDF_PAGES = 2
PROJECT = Path(__file__).resolve().parents[2]
KEEP_SCREENSHOT = os.environ.get("CALIBRATE_KEEP_SCREENSHOT", "") not in ("", "0")
KEPT_SCREENSHOT = PROJECT / "reports" / "browser" / "report.png"

# Every URL a page element refers to (attributes that load or link something, inline
# styles, style sheets), and every resource the page fetched, as [where, url, absolute].
_REFERENCES_JS = r"""
const attrs = ["src", "href", "xlink:href", "srcset", "poster", "data", "action",
               "formaction", "background", "cite", "longdesc", "manifest", "ping"];
const found = [];
const add = (where, url) => {
  url = url.trim();
  if (!url || url.startsWith("#")) return;
  let abs;
  try { abs = new URL(url, document.baseURI).href; } catch (e) { abs = url; }
  found.push([where, url, abs]);
};
const cssUrls = (where, text) => {
  for (const m of text.matchAll(/url\(\s*(['"]?)(.*?)\1\s*\)/g)) add(where, m[2]);
  for (const m of text.matchAll(/@import\s+(['"])(.*?)\1/g)) add(where, m[2]);
};
for (const el of document.querySelectorAll("*")) {
  const tag = el.tagName.toLowerCase();
  for (const a of el.attributes) {
    if (a.name === "style") { cssUrls(tag + "[style]", a.value); continue; }
    if (!attrs.includes(a.name)) continue;
    if (a.name === "srcset") {
      for (const part of a.value.split(",")) add(tag + "[srcset]", part.trim().split(/\s+/)[0]);
    } else {
      add(tag + "[" + a.name + "]", a.value);
    }
  }
}
for (const sheet of document.styleSheets) {
  if (sheet.href) add("stylesheet", sheet.href);
  let rules = [];
  try { rules = sheet.cssRules; } catch (e) {}  // another file's sheet: its href counts
  for (const rule of rules) cssUrls("css", rule.cssText);
}
for (const entry of performance.getEntriesByType("resource")) add("fetched", entry.name);
return found;
"""

_IMAGES_JS = """
return Array.from(document.images, img => ({
  src: img.getAttribute("src").slice(0, 40),
  complete: img.complete,
  width: img.naturalWidth,
  height: img.naturalHeight,
}));
"""


@dataclass(frozen=True)
class Opened:
    """The report as the browser loaded it."""

    url: str
    console: list[dict]
    alert: str | None


@pytest.fixture(scope="module")
def fitted():
    """A real fit with an activity log and dates, with hostile markup in a category."""
    leads, log = make_leads(3000, seed=6, activities=True)
    rng = np.random.default_rng(6)
    leads.loc[rng.choice(len(leads), size=300, replace=False), "role"] = SCRIPT
    return calibrate.fit(
        leads,
        outcome="converted",
        id="lead_id",
        decided_at="decided_at",
        activities=log,
        exclude=["created_at"],
        bootstrap=0,
        seed=6,
    )


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory) -> Path:
    """A folder with what ``Calibration.save`` writes for the fit."""
    out = tmp_path_factory.mktemp("saved")
    fitted.save(out, pdf=True)
    return out


@pytest.fixture(scope="module")
def opened(browser, saved) -> Opened:
    """Open report.html from disk; keep the console output and any alert left open."""
    from selenium.common.exceptions import NoAlertPresentException

    browser.get_log("browser")  # drop what earlier pages logged
    url = (saved / "report.html").as_uri()
    browser.get(url)
    try:
        alert = browser.switch_to.alert
        text = alert.text
        alert.dismiss()
    except NoAlertPresentException:
        text = None
    return Opened(url=url, console=browser.get_log("browser"), alert=text)


def test_report_opens_without_errors_or_alerts(browser, opened):
    assert opened.alert is None, f"the page ran a script: alert({opened.alert!r})"
    assert browser.current_url == opened.url
    assert browser.title == "Lead scoring review: calibrated points sheet", browser.title
    severe = [e for e in opened.console if e["level"] == "SEVERE"]
    assert severe == [], f"console errors: {severe}"
    text = browser.execute_script("return document.body.innerText")
    assert SCRIPT in text  # shown as text, not run
    injected = "return Array.from(document.scripts).some(s => s.text.includes('alert(1)'))"
    assert browser.execute_script(injected) is False


def test_every_image_loads_and_nothing_comes_from_outside(browser, opened):
    images = browser.execute_script(_IMAGES_JS)
    assert len(images) >= MIN_IMAGES, images
    broken = [img for img in images if not (img["complete"] and img["width"] > 0)]
    assert broken == [], f"images that did not load: {broken}"
    assert all(img["src"].startswith("data:image/png;base64,") for img in images), images
    page = opened.url.split("#")[0]
    outside = [
        (where, url)
        for where, url, absolute in browser.execute_script(_REFERENCES_JS)
        if absolute.split(":", 1)[0] in ("http", "https", "file")
        and absolute.split("#")[0] != page
    ]
    assert outside == [], f"the report is not standalone: {outside}"


def test_screenshot_is_a_real_picture_of_the_page(browser, opened, tmp_path):
    width, height = browser.execute_script(
        "const e = document.documentElement;"
        "return [Math.max(e.scrollWidth, window.innerWidth),"
        " Math.max(e.scrollHeight, window.innerHeight)];"
    )
    assert width == WINDOW_SIZE[0]
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    path = tmp_path / "report.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size == (width, height)
        pixels = np.asarray(img.convert("L"), dtype=float)
    assert height >= browser.execute_script("return window.innerHeight")
    assert pixels.std() > 0, "the screenshot is blank"
    # Mostly white page with dark text: a fair share of pixels is neither.
    assert (pixels < 128).mean() > 0.005, "hardly any text or drawing in the screenshot"
    if KEEP_SCREENSHOT:
        KEPT_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, KEPT_SCREENSHOT)


def test_pdf_renders_to_pages(saved, pdftoppm, tmp_path):
    pdf = saved / "report.pdf"
    assert pdf.is_file(), f"Calibration.save wrote no report.pdf: {sorted(os.listdir(saved))}"
    pages = pdf_pages(pdf, tmp_path / "pages")
    assert len(pages) >= MIN_PDF_PAGES, pages
    for page in pages:
        with Image.open(page) as img:
            assert img.format == "PNG"
            pixels = np.asarray(img.convert("L"), dtype=float)
        assert pixels.std() > 0, f"{page.name} is blank"


# --- the threshold slider -----------------------------------------------------------

#: The readout the slider updates: element id -> what it shows.
READOUT = (
    "mql-at-threshold",
    "mql-at-note",
    "mql-at-share-passed",
    "mql-at-leads-passed",
    "mql-at-wins",
    "mql-at-per-week",
    "mql-at-win-rate",
)

_READ_JS = """
const ids = arguments[0];
const out = {};
for (const id of ids) out[id] = document.getElementById(id).textContent;
return out;
"""

_SET_JS = """
const slider = document.getElementById("mql-slider");
slider.value = String(arguments[0]);
slider.dispatchEvent(new Event("input", {bubbles: true}));
return slider.value;
"""


def _expected(result, threshold: int) -> dict:
    """What the page must show at a threshold, computed here from the fit itself.

    The shares, counts and MQLs a week are the fit's threshold curve (what the
    policy table reads); the level counts are counted afresh on the hold-out scores.
    """
    curve = result.threshold.curve.set_index("threshold")
    row = curve.loc[threshold]
    chosen = result.threshold.threshold
    scores = np.asarray(result.holdout.scores)
    shown = {
        "mql-at-threshold": str(threshold),
        "mql-at-note": "(recommended)" if threshold == chosen else f"(recommended: {chosen})",
        "mql-at-share-passed": _pct(row["share_passed"]),
        "mql-at-leads-passed": f"{int(row['leads_passed']):,}",
        "mql-at-wins": _pct(row["share_wins_captured"]),
        "mql-at-per-week": f"{row['mqls_per_week']:,.1f}",
        "mql-at-win-rate": _pct(row["win_rate_passed"]),
    }
    levels = result.decision.levels
    for k, (low, high) in enumerate(zip(levels["min_score"], levels["max_score"], strict=True)):
        inside = (scores >= low) & (scores <= high) & (scores >= threshold)
        shown[f"level-passed-{k}"] = f"{int(inside.sum()):,}"
    return shown


def _ids(result) -> list[str]:
    """The readout's ids, and those of the levels table's counts."""
    return [*READOUT, *(f"level-passed-{k}" for k in range(len(result.decision.levels)))]


def _readout(browser, result) -> dict:
    return browser.execute_script(_READ_JS, _ids(result))


@pytest.fixture
def slider(browser, saved, fitted):
    """The report freshly opened, JavaScript on: its slider, where the fit put it."""
    from selenium.webdriver.common.by import By

    browser.get((saved / "report.html").as_uri())
    return browser.find_element(By.ID, "mql-slider")


def test_slider_starts_at_the_recommended_threshold(browser, fitted, slider):
    threshold = fitted.threshold.threshold
    assert slider.is_displayed()
    assert slider.get_attribute("type") == "range"
    assert int(slider.get_attribute("value")) == threshold
    scale = fitted.scorecard
    assert int(slider.get_attribute("min")) == scale.min_score
    assert int(slider.get_attribute("max")) == scale.max_score
    assert _readout(browser, fitted) == _expected(fitted, threshold)
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], f"console errors: {severe}"


def test_slider_moved_shows_the_fit_curve_at_every_threshold(browser, fitted, slider):
    scale = fitted.scorecard
    chosen = fitted.threshold.threshold
    low, high = int(scale.min_score), int(scale.max_score)
    for threshold in sorted({low, low + 1, chosen - 1, chosen + 1, 50, high - 1, high, chosen}):
        assert browser.execute_script(_SET_JS, threshold) == str(threshold)
        assert _readout(browser, fitted) == _expected(fitted, threshold), threshold
    # At the top of the scale hardly anyone passes: the win rate of nobody is "-".
    browser.execute_script(_SET_JS, high)
    if fitted.threshold.curve.set_index("threshold").loc[high, "leads_passed"] == 0:
        assert _readout(browser, fitted)["mql-at-win-rate"] == "-"


def test_slider_follows_the_arrow_keys(browser, fitted, slider):
    from selenium.webdriver.common.keys import Keys

    threshold = fitted.threshold.threshold
    slider.send_keys(Keys.ARROW_RIGHT)
    assert int(slider.get_attribute("value")) == threshold + 1
    assert _readout(browser, fitted) == _expected(fitted, threshold + 1)
    slider.send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    assert int(slider.get_attribute("value")) == threshold - 1
    assert _readout(browser, fitted) == _expected(fitted, threshold - 1)


def test_without_javascript_the_page_shows_the_recommended_threshold(browser, fitted, saved):
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get((saved / "report.html").as_uri())
        control = browser.find_element(By.ID, "mql-control")
        assert not control.is_displayed()  # no dead slider without its script
        texts = {name: browser.find_element(By.ID, name).text for name in _ids(fitted)}
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    assert texts == _expected(fitted, fitted.threshold.threshold)
