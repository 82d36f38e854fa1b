"""The README's HubSpot and Mautic exports, made from the bundled example as it says.

The example is fitted with the README's set-up command, exported to each
tool with ``calibrate export --leads``, and each body is validated against
its schema; the README's excerpt and its table of hold-out AUCs must be what
the exports give, so that the README cannot go stale.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from calibrate.cli import app
from calibrate.production.tools import tool_schema
from test_golden_outputs import FITS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The example fitted as the README fits it, then exported to both tools."""
    out = tmp_path_factory.mktemp("readme")
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        fit = runner.invoke(app, ["fit", *FITS["example"], "--quiet", "--out", str(out)])
        assert fit.exit_code == 0, fit.output
        results = {}
        for tool in ("hubspot", "mautic"):
            body = out / f"{tool}.json"
            result = runner.invoke(app, [
                "export", str(out / "scoring_config.json"), "--to", tool, "--out", str(body),
                "--leads", "data/example_leads.csv",
                "--activities", "data/example_activities.parquet"])  # fmt: skip
            assert result.exit_code == 0, result.output
            results[tool] = (json.loads(body.read_text()), result.stdout)
    return results


@pytest.mark.parametrize("tool", ["hubspot", "mautic"])
def test_each_export_of_the_example_matches_its_schema(exported, tool):
    body, _ = exported[tool]
    jsonschema.validate(body, tool_schema(tool))


@pytest.mark.parametrize("tool, row", [("hubspot", "as HubSpot"), ("mautic", "as Mautic")])
def test_the_readme_table_gives_the_measured_aucs(exported, tool, row):
    _, printed = exported[tool]
    config_auc, tool_auc = re.search(
        r": (0\.\d{4}) with the config, (0\.\d{4}) as", printed
    ).groups()
    assert f"| the config | {config_auc} |" in README
    line = next(x for x in README.splitlines() if x.startswith(f"| {row} computes it"))
    assert line.endswith(f"| {tool_auc} |"), line
    gaps = re.search(r"(\d+) things", printed).group(1)
    assert f"({gaps} approximations)" in line


def test_the_readme_hubspot_excerpt_is_the_example_body(exported):
    body, _ = exported["hubspot"]
    group = next(g for g in body["groupConfigs"] if g["groupName"] == "seniority")
    first = group["ruleConfigurations"][0]
    excerpt = (
        f'{{"groupName": "seniority", "groupCategory": "{group["groupCategory"]}", '
        f'"minValue": {group["minValue"]}, "maxValue": {group["maxValue"]},'
    )
    assert excerpt in README
    value = first["configuration"]["calculation"]["value"]
    assert f'"maximumValue": {first["maximumValue"]},' in README
    assert f'{{"type": "CONSTANT", "value": {value}}}' in README
