"""The JSON Schemas in schemas/ are valid draft 2020-12 schemas (checked here once, not at every start)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

SCHEMAS = sorted((Path(__file__).resolve().parent.parent / "schemas").glob("*.schema.json"))


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_is_valid_against_the_2020_12_metaschema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_pack_file_names_its_schema_on_the_first_line() -> None:
    root = Path(__file__).resolve().parent.parent / "policies"
    for pack in root.glob("*/pack.yaml"):
        assert pack.read_text(encoding="utf-8").startswith(
            "# yaml-language-server: $schema=../../schemas/policy-pack.schema.json"), pack
    for tests in root.glob("*/tests/*.yaml"):
        assert tests.read_text(encoding="utf-8").startswith(
            "# yaml-language-server: $schema=../../../schemas/pack-tests.schema.json"), tests
