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
def saved(tmp_path_factory) -> Path:
    """A folder with what ``Calibration.save`` writes for a real fit with hostile markup."""
    leads, log = make_leads(3000, seed=6, activities=True)
    rng = np.random.default_rng(6)
    leads.loc[rng.choice(len(leads), size=300, replace=False), "role"] = SCRIPT
    result = calibrate.fit(
        leads,
        outcome="converted",
        id="lead_id",
        decided_at="decided_at",
        activities=log,
        exclude=["created_at"],
        bootstrap=0,
        seed=6,
    )
    out = tmp_path_factory.mktemp("saved")
    result.save(out, pdf=True)
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
