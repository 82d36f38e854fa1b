"""Shared fixtures: generated leads and the real data sets beside the project."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import hypothesis
import matplotlib
import pytest

from calibrate.datasets import make_leads
from services import (
    PostgresInfo,
    postgres_missing,
    postgres_server,
    spark_missing,
    spark_session,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

matplotlib.use("Agg")

# Tests write only under temporary folders: keep Hypothesis's example
# database out of the working tree, and reproducible runs in CI.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="calibrate-hypothesis-")
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
hypothesis.configuration.set_hypothesis_home_dir(_HYPOTHESIS_HOME)
hypothesis.settings.register_profile("calibrate", database=None, derandomize=True)
hypothesis.settings.load_profile("calibrate")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def leads_5k():
    """5,000 generated leads with known effects (read-only: copy before changing)."""
    return make_leads(5000, seed=0)


@pytest.fixture(scope="module")
def duckdb_spill_under_tmp(tmp_path_factory):
    """DuckDB spills under ``tempfile.gettempdir()``: keep that inside pytest's folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("tmp")))
        yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real outcome data sets; skips when it is not beside the project."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data sets not found at {SHARED_DATA}")
    return SHARED_DATA


# --- Real services: PostgreSQL and Spark (tests/services.py, docs/testing.md) ---------

# Set CALIBRATE_REQUIRE_SERVICES=1 to turn the skips below into errors, so that a run that
# is meant to exercise the services cannot pass without them.
_REQUIRE_SERVICES = os.environ.get("CALIBRATE_REQUIRE_SERVICES", "") not in ("", "0")

# pyspark 4.x on pandas 3: pyspark warns that pandas 3 is not fully supported and calls
# pandas APIs pandas 3 deprecates. Ignored only for tests that use the `spark` fixture.
_SPARK_WARNING_FILTERS = (
    "ignore:PySpark does not yet fully support pandas:FutureWarning:pyspark",
    "ignore:The copy keyword is deprecated:DeprecationWarning:pyspark",
)


def _skip_or_fail(reason: str) -> None:
    if _REQUIRE_SERVICES:
        pytest.fail(f"CALIBRATE_REQUIRE_SERVICES is set but: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            for spec in _SPARK_WARNING_FILTERS:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(scope="session")
def postgres_server_info() -> Iterator[PostgresInfo]:
    """A throwaway PostgreSQL server on 127.0.0.1 for the whole session.

    Skips when the server programs or psycopg are missing; fails when they are there
    but the server does not start.
    """
    reason = postgres_missing()
    if reason:
        _skip_or_fail(reason)
    with postgres_server() as info:
        yield info


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server_info: PostgresInfo) -> str:
    """libpq DSN (``host=127.0.0.1 port=... user=postgres dbname=postgres``) of that server.

    Tests share the server: create what you need under unique names, or in a
    transaction you roll back.
    """
    return postgres_server_info.dsn


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """A local SparkSession (``local[2]``, UTC) for the whole session.

    Skips when pyspark or Java is missing.
    """
    reason = spark_missing()
    if reason:
        _skip_or_fail(reason)
    with spark_session() as session:
        yield session


# --- A real browser: headless Chromium, and pdftoppm (tests/browser.py, docs/testing.md) ---


@pytest.fixture(scope="session")
def browser():
    """A headless, offline Chromium (selenium WebDriver) for the whole session.

    Skips when Chromium, chromedriver, pdftoppm or selenium is missing (fails instead
    under CALIBRATE_REQUIRE_SERVICES); errors when they are there but do not start.
    """
    from browser import browser_missing, chromium

    reason = browser_missing()
    if reason:
        _skip_or_fail(reason)
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="session")
def pdftoppm() -> str:
    """Path of poppler's ``pdftoppm``; skips (or fails) like ``browser`` when missing."""
    from browser import find_pdftoppm

    path = find_pdftoppm()
    if path is None:
        _skip_or_fail(
            "pdftoppm not found on PATH; `bash scripts/test.sh` installs Debian's `poppler-utils`"
        )
    return path
