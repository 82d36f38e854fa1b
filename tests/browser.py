"""A real headless Chromium, and poppler's ``pdftoppm``, for checking the report.

Nothing here is mocked: :func:`chromium` drives the machine's Chromium through its
``chromedriver`` (Debian's ``chromium`` and ``chromium-driver``), and :func:`pdf_pages`
renders a PDF to PNG pages with ``pdftoppm`` (Debian's ``poppler-utils``).
``scripts/test.sh`` installs them when they are missing; ``tests/conftest.py`` wraps them
in fixtures that skip, with the reason, when they are still missing. See
``docs/testing.md``.

The browser has no network: it is started with a proxy that nothing listens on, so any
``http(s)`` request a page makes fails (and shows as a console error or a broken image).
Selenium Manager is never run, so nothing is downloaded: the driver and browser paths
are given explicitly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

__all__ = [
    "WINDOW_SIZE",
    "browser_missing",
    "chromium",
    "find_chromedriver",
    "find_chromium",
    "find_pdftoppm",
    "pdf_pages",
]

WINDOW_SIZE = (1280, 2000)
"""Width and height, in CSS pixels, of the headless browser's window."""

DEAD_PROXY = "127.0.0.1:9"
"""A proxy nothing answers on (port 9, "discard"): every http(s) request fails."""

_CHROMIUM_NAMES = ("chromium", "chromium-browser")
_INSTALL_HINT = "`bash scripts/test.sh` installs Debian's `chromium chromium-driver poppler-utils`"
# Seconds allowed for pdftoppm, for a page to load, and for a script to run.
_PDFTOPPM_TIMEOUT = 60
_PAGE_TIMEOUT = 30


def find_chromium() -> str | None:
    """Path of the Chromium browser on ``PATH`` (``chromium`` or ``chromium-browser``)."""
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def find_chromedriver() -> str | None:
    """Path of ``chromedriver`` on ``PATH``."""
    return shutil.which("chromedriver")


def find_pdftoppm() -> str | None:
    """Path of poppler's ``pdftoppm`` on ``PATH``."""
    return shutil.which("pdftoppm")


def browser_missing() -> str | None:
    """Why the browser checks cannot run here, or None when they can.

    Returns
    -------
    str or None
        A sentence naming what is missing (Chromium, chromedriver, pdftoppm or
        selenium), for a skip.
    """
    missing = [
        name
        for name, path in (
            ("chromium", find_chromium()),
            ("chromedriver", find_chromedriver()),
            ("pdftoppm", find_pdftoppm()),
        )
        if path is None
    ]
    if missing:
        return f"not found on PATH: {', '.join(missing)}; {_INSTALL_HINT}"
    try:
        import selenium  # noqa: F401
    except ImportError as exc:
        return f"selenium is not importable ({exc}); install the project's `test` extra"
    return None


def chromium_arguments(profile_dir: str | os.PathLike[str]) -> list[str]:
    """Command-line switches of the headless, offline Chromium :func:`chromium` starts.

    Examples
    --------
    >>> args = chromium_arguments("/tmp/profile")
    >>> "--headless=new" in args and "--window-size=1280,2000" in args
    True
    """
    width, height = WINDOW_SIZE
    args = [
        "--headless=new",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={os.fspath(profile_dir)}",
        # No network: http(s) goes to a proxy that is not there, loopback included.
        f"--proxy-server={DEAD_PROXY}",
        "--proxy-bypass-list=<-loopback>",
        # No background traffic, pop-ups or first-run work.
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-sync",
        "--metrics-recording-only",
        "--mute-audio",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium refuses to start its sandbox as root.
        args.append("--no-sandbox")
    return args


@contextlib.contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless Chromium driven through Selenium, quit (and its profile deleted) at exit.

    The window is :data:`WINDOW_SIZE`; the browser's console is logged (read it with
    ``driver.get_log("browser")``); the network is cut off (see :data:`DEAD_PROXY`).

    Raises
    ------
    RuntimeError
        When Chromium or chromedriver is not found (check :func:`browser_missing`).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = find_chromium(), find_chromedriver()
    if browser is None or driver_path is None:
        raise RuntimeError(browser_missing() or "Chromium or chromedriver not found")
    # Belt and braces: the explicit driver path already keeps Selenium Manager from
    # running (and downloading anything); this keeps it offline if it ever does.
    os.environ.setdefault("SE_OFFLINE", "true")

    profile = tempfile.mkdtemp(prefix="calibrate-chromium-")
    try:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for arg in chromium_arguments(profile):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # Leave a JavaScript alert open (not dismissed) so a test can find it.
        options.unhandled_prompt_behavior = "ignore"
        service = Service(executable_path=driver_path, log_output=subprocess.DEVNULL)
        driver = webdriver.Chrome(options=options, service=service)
        try:
            driver.set_page_load_timeout(_PAGE_TIMEOUT)
            driver.set_script_timeout(_PAGE_TIMEOUT)
            yield driver
        finally:
            driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def pdf_pages(
    path: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, dpi: int = 50
) -> list[Path]:
    """Render every page of a PDF to a PNG with ``pdftoppm -r <dpi> -png``.

    Parameters
    ----------
    path : path-like
        The PDF.
    out_dir : path-like
        Folder for the pages (created if needed), named ``page-1.png``, ``page-2.png``...
        (``pdftoppm`` zero-pads the number when there are 10 pages or more).

    Returns
    -------
    list of Path
        The page images, in page order.

    Raises
    ------
    RuntimeError
        When ``pdftoppm`` is missing or fails (the message has its error output).
    """
    pdftoppm = find_pdftoppm()
    if pdftoppm is None:
        raise RuntimeError(f"pdftoppm not found on PATH; {_INSTALL_HINT}")
    out = Path(os.fspath(out_dir))
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("page-*.png"):
        old.unlink()
    proc = subprocess.run(
        [pdftoppm, "-r", str(dpi), "-png", os.fspath(path), os.fspath(out / "page")],
        capture_output=True,
        text=True,
        timeout=_PDFTOPPM_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-10:])
        raise RuntimeError(f"pdftoppm failed on {path} (exit {proc.returncode}):\n{tail}")
    return sorted(out.glob("page-*.png"), key=lambda p: int(p.stem.rpartition("-")[2]))
