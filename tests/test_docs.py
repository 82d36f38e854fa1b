"""The published docs keep up with the code: the schema file and the field reference."""

from __future__ import annotations

import json
from pathlib import Path

from calibrate.production.config import config_schema
from calibrate.production.sql_export import DIALECTS
from calibrate.sheet.feature import KERNEL_KINDS
from calibrate.sheet.kinds import FEATURE_KINDS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_published_schema_is_the_packaged_one():
    published = json.loads((DOCS / "scoring_config.schema.json").read_text(encoding="utf-8"))
    assert published == config_schema()


def test_config_reference_names_every_section_and_kind():
    text = (DOCS / "scoring-config.md").read_text(encoding="utf-8")
    schema = config_schema()
    for name in schema["properties"]:
        assert f"`{name}" in text, name
    for name in schema["properties"]["activities"]["properties"]:
        assert f"`{name}`" in text, name
    for kind in (*FEATURE_KINDS, *KERNEL_KINDS):
        assert f"`{kind}`" in text, kind


def test_production_guide_names_every_dialect():
    text = (DOCS / "production.md").read_text(encoding="utf-8")
    for dialect in DIALECTS:
        assert f"`{dialect}`" in text, dialect
