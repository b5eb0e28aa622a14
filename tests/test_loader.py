"""skillcert.source.loader: safe YAML/JSON reading with line marks, exact decimals and YAML 1.2 booleans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from skillcert.errors import SkillcertError
from skillcert.source.loader import MAX_FILE_BYTES, format_path, load_file, load_text

# ---- refused constructs


@pytest.mark.parametrize(
    ("text", "code", "line", "col"),
    [
        pytest.param("a: &x 1\nb: *x\n", "yaml-alias", 1, 4, id="anchor"),
        pytest.param("a: 1\nb: 2\na: 3\n", "yaml-duplicate-key", 3, 1, id="duplicate-key"),
        pytest.param("a: {b: 1}\n<<: {c: 2}\n", "yaml-merge", 2, 1, id="merge-key"),
        pytest.param("a: .inf\n", "yaml-number", 1, 4, id="infinity"),
        pytest.param("a: .nan\n", "yaml-number", 1, 4, id="nan"),
        pytest.param("a: 2024-02-30\n", "yaml-date", 1, 4, id="impossible-date"),
        pytest.param("a: 2024-10-15 10:00:00\n", "yaml-date", 1, 4, id="timestamp"),
        pytest.param("a: !!binary aGVsbG8=\n", "yaml-tag", 1, 4, id="binary"),
        pytest.param("a: !!python/name:os.system\n", "yaml-tag", 1, 4, id="python-name"),
        pytest.param("a: !custom 1\n", "yaml-tag", 1, 4, id="custom-tag"),
        pytest.param("? [a, b]\n: 1\n", "yaml-key", 1, 3, id="complex-key"),
        pytest.param("a: b: c\n", "yaml-syntax", 1, 5, id="syntax"),
    ],
)
def test_unsafe_or_ambiguous_yaml_is_refused_with_its_position(text: str, code: str, line: int, col: int) -> None:
    with pytest.raises(SkillcertError) as info:
        load_text(text, "f.yaml")
    assert info.value.code == code
    assert info.value.location is not None
    assert (info.value.location.file, info.value.location.line, info.value.location.col) == ("f.yaml", line, col)


def test_yaml_alias_is_refused() -> None:
    text = "base: &base {max: 4}\nitem: *base\n"
    with pytest.raises(SkillcertError) as info:
        load_text(text, "pack.yaml")
    assert info.value.code == "yaml-alias"
    assert str(info.value).startswith("pack.yaml:1:7: ")


def test_billion_laughs_is_refused_before_expanding() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    with pytest.raises(SkillcertError) as info:
        load_text("\n".join(lines) + "\n")
    assert info.value.code == "yaml-alias"


def test_duplicate_key_message_names_the_first_line() -> None:
    with pytest.raises(SkillcertError) as info:
        load_text("x: 1\ny:\n  z: 1\nx: 2\n", "f.yaml")
    assert info.value.code == "yaml-duplicate-key"
    assert "'x'" in info.value.message and "1" in info.value.message
    assert info.value.location is not None and info.value.location.line == 4


def test_python_tag_on_a_collection_is_refused() -> None:
    # The scalar path refuses unknown tags; a tag on a sequence or mapping must not be silently dropped.
    with pytest.raises(SkillcertError) as info:
        load_text("a: !!python/object/apply:os.system [echo hi]\n", "f.yaml")
    assert info.value.code == "yaml-tag"


def test_too_deep_nesting_is_refused() -> None:
    with pytest.raises(SkillcertError) as info:
        load_text("a: " + "[" * 70 + "]" * 70 + "\n")
    assert info.value.code == "yaml-too-deep"


# ---- values


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("true", True), ("True", True), ("FALSE", False), ("false", False),
        ("no", "no"), ("yes", "yes"), ("on", "on"), ("off", "off"), ("y", "y"), ("n", "n"),
        ("null", None), ("~", None), ("", None),
        ("0.1", Decimal("0.1")), ("94.60", Decimal("94.60")), ("-0.25", Decimal("-0.25")), ("2.5e+1", Decimal("25")),
        ("7", 7), ("1_000", 1000), ("010", 10), ("1:30", "1:30"),
        ("2024-10-15", dt.date(2024, 10, 15)),
        ("'2024-10-15'", "2024-10-15"), ("'0.1'", "0.1"),
        ("重庆市", "重庆市"),
    ],
)
def test_scalars_load_as_exact_plain_values(scalar: str, value: object) -> None:
    data = load_text(f"v: {scalar}\n").data
    assert data["v"] == value
    assert type(data["v"]) is type(value)


def test_decimal_keeps_its_source_text_not_a_binary_float() -> None:
    data = load_text("a: 0.1\nb: 0.2\nc: 0.3\n").data
    assert data["a"] + data["b"] == data["c"]
    assert not isinstance(data["a"], float)


def test_keys_are_text_even_when_they_look_like_other_types() -> None:
    data = load_text("1: a\n2024-01-01: b\ntrue: c\nnull: d\n").data
    assert list(data) == ["1", "2024-01-01", "true", "null"]


def test_empty_document_is_none() -> None:
    assert load_text("").data is None
    assert load_text("# only a comment\n").data is None


# ---- source map


def test_source_map_keeps_line_and_column_of_values_and_keys() -> None:
    doc = load_text("a:\n  b: 1\n  c: [x, y]\n", "f.yaml")
    assert doc.source.values[("a", "b")] == (2, 6)
    assert doc.source.keys[("a", "b")] == (2, 3)
    assert doc.source.values[("a", "c", 1)] == (3, 10)
    assert str(doc.source.locate(("a", "c", 1))) == "f.yaml:3:10"
    assert str(doc.source.locate(("a", "c"), key=True)) == "f.yaml:3:3"


def test_locate_falls_back_to_the_nearest_enclosing_value() -> None:
    doc = load_text("a:\n  b: 1\n", "f.yaml")
    loc = doc.source.locate(("a", "missing", 0))
    assert (loc.line, loc.col) == (2, 3)
    assert loc.path == "a.missing[0]"


def test_sub_map_is_relative_to_its_prefix_and_later_prefixes_win() -> None:
    doc = load_text("base:\n  x: 1\n  y: 2\ncase:\n  y: 3\n", "f.yaml")
    sub = doc.source.sub(("base",), ("case",))
    assert sub.values[("x",)] == (2, 6)
    assert sub.values[("y",)] == (5, 6)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("findings", "posts_missing"), "findings.posts_missing"),
        (("banks", 3, "level"), "banks[3].level"),
        ((0, "a"), "[0].a"),
        ((), ""),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


# ---- files


def test_oversized_text_is_refused() -> None:
    with pytest.raises(SkillcertError) as info:
        load_text("a: " + "x" * MAX_FILE_BYTES + "\n", "big.yaml")
    assert info.value.code == "input-too-large"


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.write(b"a: 1\n")
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(SkillcertError) as info:
        load_file(big)
    assert info.value.code == "input-too-large"


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SkillcertError) as info:
        load_file(tmp_path / "nope.yaml")
    assert info.value.code == "file-not-found"


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(SkillcertError) as info:
        load_file(tmp_path)
    assert info.value.code == "file-unreadable"


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    f = tmp_path / "gbk.yaml"
    f.write_bytes("机构: 重庆".encode("gbk"))
    with pytest.raises(SkillcertError) as info:
        load_file(f)
    assert info.value.code == "file-encoding"


def test_json_file_keeps_decimals_exact(tmp_path: Path) -> None:
    f = tmp_path / "facts.json"
    f.write_text('{"score": 94.60, "when": "2024-10-15", "n": 3}', encoding="utf-8")
    doc = load_file(f)
    assert doc.data == {"score": Decimal("94.60"), "when": "2024-10-15", "n": 3}
    assert isinstance(doc.data["score"], Decimal)


def test_json_duplicate_key_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "facts.json"
    f.write_text('{"a": 1, "a": 2}', encoding="utf-8")
    with pytest.raises(SkillcertError) as info:
        load_file(f)
    assert info.value.code in ("yaml-duplicate-key", "json-duplicate-key")


def test_display_name_is_used_in_locations(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_text("a: 1\na: 2\n", encoding="utf-8")
    with pytest.raises(SkillcertError) as info:
        load_file(f, display="shown/x.yaml")
    assert str(info.value).startswith("shown/x.yaml:2:1: ")
