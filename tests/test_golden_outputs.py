"""The outputs a refactor must not change, held byte for byte.

The bundled example (the README's set-up command) and the three shared data
sets are fitted as a user fits them; the SHA-256 of every
``scoring_config.json``, ``metrics.json`` and ``report.html`` must equal the
recorded one in ``tests/golden/outputs.json``. In the report the embedded PNG
figures are left out of the hash (their bytes follow the matplotlib and
FreeType builds, not calibrate); every value they draw is also in the text.

An intended change of output is its own commit that says why; it records the
new hashes with ``python tests/test_golden_outputs.py --record``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORD = Path(__file__).resolve().parent / "golden" / "outputs.json"
SHARED = ROOT.parent / "shared" / "data"

#: The fits, as a user runs them from the project root: ``calibrate fit``
#: arguments without --out.
FITS = {
    "example": [
        "data/example_leads.csv",
        "--activities", "data/example_activities.parquet",
        "--outcome", "converted", "--id", "lead_id", "--decided-at", "decided_at",
        "--activity-detail-col", "detail",
        "--detail-rule", "page_view:/pricing*=pricing_page_view",
        "--detail-rule", "page_view:/careers*=careers_page_view",
        "--combo", "whitepaper_download+case_study_view",
    ],
    "bank-additional": [
        "../shared/data/bank-additional-full.csv", "--outcome", "y",
        "--exclude", "duration:known only after the call",
    ],
    "bank-full": [
        "../shared/data/bank-full.csv", "--outcome", "y",
        "--exclude", "duration:known only after the call",
    ],
    "shoppers": ["../shared/data/online_shoppers_intention.csv", "--outcome", "Revenue"],
}  # fmt: skip
FILES = ("scoring_config.json", "metrics.json", "report.html")
_IMAGE = re.compile(rb"data:image/png;base64,[A-Za-z0-9+/=]+")


def output_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of each output file of a fit (the report without its PNG bytes)."""
    hashes = {}
    for name in FILES:
        content = (folder / name).read_bytes()
        if name.endswith(".html"):
            content = _IMAGE.sub(b"data:image/png;base64,", content)
        hashes[name] = hashlib.sha256(content).hexdigest()
    return hashes


def fit_outputs(name: str, out: Path) -> dict[str, str]:
    """Fit one of :data:`FITS` into ``out`` through the command line."""
    from typer.testing import CliRunner

    from calibrate.cli import app

    # Paths stand in the config (its source) and the report: run from the root
    # with the paths as the README gives them, so the hashes hold in any clone.
    result = CliRunner().invoke(app, ["fit", *FITS[name], "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return output_hashes(out)


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FITS))
def test_outputs_are_byte_identical_to_the_recorded_ones(name, tmp_path, at_root):
    if name != "example" and not SHARED.is_dir():
        pytest.skip(f"real data sets not found at {SHARED}")
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))[name]
    assert fit_outputs(name, tmp_path / name) == recorded


def main() -> None:
    """``--record``: fit everything and write the hashes (an intended change)."""
    import os
    import tempfile

    if sys.argv[1:] != ["--record"]:
        raise SystemExit("usage: python tests/test_golden_outputs.py --record")
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        hashes = {name: fit_outputs(name, Path(tmp) / name) for name in FITS}
    RECORD.write_text(json.dumps(hashes, indent=2) + "\n", encoding="utf-8")
    print(f"recorded {RECORD}")


if __name__ == "__main__":
    main()
