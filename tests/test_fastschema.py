"""skillcert.source.fastschema: the quick check says "valid" only where jsonschema finds no error.

Checked against jsonschema itself: on every bundled pack and test file, on every pack and file under tests/testdata
(many of them broken on purpose), on a deterministic sample of mutations of the bundled packs (a key removed, a
value of another type, an unknown key), and keyword by keyword on small schemas.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from skillcert.errors import SkillcertError
from skillcert.source.fastschema import compile_schema
from skillcert.source.loader import load_file
from skillcert.source.schema import PACK_SCHEMA, TESTS_SCHEMA, _instance, _schema, _validator, check_document

ROOT = Path(__file__).resolve().parent.parent
PACKS = sorted((ROOT / "policies").glob("*/pack.yaml"))
CASE_FILES = sorted((ROOT / "policies").glob("*/tests/*.yaml"))
TESTDATA = sorted(p for p in (ROOT / "tests" / "testdata").rglob("*") if p.suffix in (".yaml", ".yml", ".json"))


def agrees(schema_name: str, data: Any) -> bool | None:
    """The quick answer, after asserting it agrees with jsonschema whenever it gives one."""
    instance = _instance(data)
    quick = compile_schema(_schema(schema_name))(instance)
    errors = list(_validator(schema_name).iter_errors(instance))
    if quick is True:
        assert errors == [], f"quick check passed a document jsonschema refuses: {errors[0].message}"
    elif quick is False:
        assert errors, "quick check refused a document jsonschema accepts"
    return quick


@pytest.mark.parametrize("path", PACKS + CASE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bundled_file_passes_the_quick_check(path: Path) -> None:
    schema = PACK_SCHEMA if path.name == "pack.yaml" else TESTS_SCHEMA
    assert agrees(schema, load_file(str(path)).data) is True


@pytest.mark.parametrize("path", TESTDATA, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_test_packs_get_the_answer_jsonschema_gives(path: Path) -> None:
    try:
        data = load_file(str(path)).data
    except SkillcertError:
        pytest.skip("not readable as YAML: never reaches a schema")
    for schema in (PACK_SCHEMA, TESTS_SCHEMA):
        agrees(schema, data)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


REPLACEMENTS: list[Any] = ["x", "2024-01-01", 0, 1, -1, Decimal("1.5"), True, None, [], ["x"], {}, {"x": 1},
                           dt.date(2024, 1, 1), "Bad Id"]


def _mutations(data: Any, rng: random.Random, count: int) -> list[tuple[str, Any]]:
    paths = [p for p in _paths(data) if p]
    out = []
    for _ in range(count):
        path = rng.choice(paths)
        doc = copy.deepcopy(data)
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        kind = rng.choice(["delete", "replace", "replace", "unknown-key"])
        if kind == "delete":
            del parent[last]
        elif kind == "replace":
            parent[last] = copy.deepcopy(rng.choice(REPLACEMENTS))
        elif isinstance(parent[last], dict):
            parent[last]["bogus_key"] = 1
        else:
            parent[last] = {"bogus_key": 1}
        out.append((f"{kind} {path}", doc))
    return out


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.parent.name)
def test_mutated_packs_get_the_answer_jsonschema_gives(pack: Path) -> None:
    data = load_file(str(pack)).data
    answers = []
    for what, doc in _mutations(data, random.Random(f"fastschema {pack.parent.name}"), 25):
        try:
            answers.append(agrees(PACK_SCHEMA, doc))
        except AssertionError as exc:
            raise AssertionError(f"{what}: {exc}") from None
    assert answers.count(False) > len(answers) // 2  # the sample does reach the refusals


def test_mutated_case_files_get_the_answer_jsonschema_gives() -> None:
    for path in CASE_FILES:
        data = load_file(str(path)).data
        for what, doc in _mutations(data, random.Random(f"fastschema {path}"), 8):
            try:
                agrees(TESTS_SCHEMA, doc)
            except AssertionError as exc:
                raise AssertionError(f"{path.name} {what}: {exc}") from None


# ---- keyword by keyword, against jsonschema's Draft 2020-12 validator

KEYWORD_CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "integer"}, [1, 1.0, 1.5, True, Decimal("1"), "1", None]),
    ({"type": "number"}, [1, 1.5, Decimal("1.5"), True, "1"]),
    ({"type": ["string", "null"]}, ["x", None, 0]),
    ({"const": 1}, [1, True, 1.0, Decimal("1"), "1"]),
    ({"const": False}, [False, 0, None]),
    ({"enum": ["a", 0, [1, True]]}, ["a", 0, False, [1, True], [1, 1], [True, True]]),
    ({"minimum": 0, "exclusiveMaximum": 10}, [0, -1, 10, Decimal("9.99"), "x", float("nan")]),
    ({"maximum": 5, "exclusiveMinimum": 1}, [1, 5, 6, Decimal("1.0001")]),
    ({"minLength": 2, "pattern": "^[a-z]"}, ["ab", "a", "Ab", "汉字", 12]),
    ({"minItems": 1, "items": {"type": "string"}, "uniqueItems": True}, [[], ["a"], ["a", "a"], [1], "x"]),
    ({"items": False}, [[], [1], {}]),
    ({"required": ["a"], "properties": {"a": {"type": "string"}}, "additionalProperties": False},
     [{"a": "x"}, {"a": 1}, {}, {"a": "x", "b": 1}, [], "a"]),
    ({"additionalProperties": {"type": "integer"}, "properties": {"a": {}}}, [{"a": "x", "b": 1}, {"b": "x"}]),
    ({"propertyNames": {"pattern": "^[a-z]+$"}, "minProperties": 1}, [{"ab": 1}, {"Ab": 1}, {}]),
    ({"dependentRequired": {"a": ["b"]}}, [{"a": 1}, {"a": 1, "b": 2}, {"b": 1}]),
    ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, [-1, 1, Decimal("0.5"), "x"]),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, ["x", None, 1]),
    ({"not": {"type": "string"}}, ["x", 1]),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}},
     [{"a": 1}, {"a": 1, "b": 1}, {"c": 1}, {}]),
    ({"then": {"required": ["b"]}}, [{}]),
    ({"$ref": "#/$defs/x", "$defs": {"x": {"type": "string"}}}, ["x", 1]),
    ({"allOf": [{"properties": {"a": {}}}], "properties": {"b": {}}, "unevaluatedProperties": False},
     [{"a": 1, "b": 2}, {"a": 1, "c": 3}, {}]),
    ({"allOf": [{"$ref": "#/$defs/t"}], "unevaluatedProperties": False,
      "$defs": {"t": {"if": {"properties": {"k": {"const": "list"}}, "required": ["k"]},
                      "then": {"properties": {"items": {}}}, "properties": {"k": {}}}}},
     [{"k": "list", "items": 1}, {"k": "text", "items": 1}, {"k": "text"}, {"z": 1}]),
    ({"description": "only words", "format": "date", "title": "t"}, ["not a date", 1]),
    ({"type": "decimal"}, [1]),                                   # a type jsonschema does not know
    ({"patternProperties": {"^a": {"type": "string"}}}, [{"ab": 1}]),  # a keyword the quick check does not know
    ({"$ref": "other.json#/x"}, [1]),
]


@pytest.mark.parametrize(("schema", "instances"), KEYWORD_CASES, ids=lambda v: str(v)[:60])
def test_each_keyword_answers_as_jsonschema_does(schema: dict[str, Any], instances: list[Any]) -> None:
    full = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    check = compile_schema(full)
    validator = jsonschema.Draft202012Validator(full)
    for instance in instances:
        answer = check(instance)
        if answer is None:
            continue
        try:
            expected = not list(validator.iter_errors(instance))
        except Exception:  # jsonschema cannot check it either: the quick check must not have said valid
            assert answer is not True
            continue
        assert answer is expected, instance


def test_what_the_quick_check_cannot_tell_is_left_to_jsonschema() -> None:
    assert compile_schema({"type": "decimal"})(1) is None
    assert compile_schema({"patternProperties": {"^a": {}}})({"a": 1}) is None
    assert compile_schema({"$ref": "#anchor"})(1) is None
    assert compile_schema({"uniqueItems": True})([1, 1]) is None
    assert compile_schema({"minimum": 0})(Decimal("NaN")) is None  # the comparison raises: jsonschema reports it


def test_a_pack_with_schema_errors_still_gets_jsonschemas_messages(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACKS[0].read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    problems = check_document(load_file(str(pack)), PACK_SCHEMA)
    assert problems and problems[0].code == "unknown-key" and "titel" in problems[0].message
