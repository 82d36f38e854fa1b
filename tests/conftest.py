"""Shared fixtures: generated leads and the real data sets beside the project."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import hypothesis
import matplotlib
import pytest

from calibrate.datasets import make_leads

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


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real outcome data sets; skips when it is not beside the project."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data sets not found at {SHARED_DATA}")
    return SHARED_DATA
