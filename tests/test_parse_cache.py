"""The parse cache of large YAML files (skillcert.source.loader, skillcert.source.cache): the same document as a
fresh parse, a changed text parsed again, and an entry that is corrupt, foreign or unreadable ignored and written
anew — never an error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from skillcert.errors import SkillcertError
from skillcert.source import loader
from skillcert.source.loader import CACHE_MIN_BYTES, Document, load_file, load_text

ROOT = Path(__file__).resolve().parent.parent
LARGE = sorted(p for p in (ROOT / "policies").rglob("*.yaml") if p.stat().st_size >= CACHE_MIN_BYTES)


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SKILLCERT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SKILLCERT_NO_CACHE", raising=False)
    return tmp_path / "cache" / "skillcert" / "parsed"


def same(a: Document, b: Document) -> None:
    assert a.data == b.data and a.text == b.text and a.source.file == b.source.file
    assert repr(a.data) == repr(b.data)  # the same types too (Decimal('1.50') stays so, dates stay dates)
    assert list(a.source.values.items()) == list(b.source.values.items())
    assert list(a.source.keys.items()) == list(b.source.keys.items())


def parse_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on a parse fails loudly: a load that succeeds came from the cache."""
    def refuse(text: str, file: str = "<input>") -> Document:
        raise AssertionError("parsed again")
    monkeypatch.setattr(loader, "load_text", refuse)


@pytest.mark.parametrize("path", LARGE, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_cached_file_reads_back_as_the_parse_gave_it(cache: Path, monkeypatch: pytest.MonkeyPatch,
                                                        path: Path) -> None:
    fresh = load_text(path.read_text(encoding="utf-8"), str(path))
    same(load_file(path), fresh)  # parsed, and written to the cache
    assert len(list(cache.glob("*.json"))) == 1
    parse_refused(monkeypatch)
    same(load_file(path), fresh)


def test_the_bundled_packs_are_large_enough_to_be_cached() -> None:
    assert {p.name for p in LARGE} >= {"pack.yaml"}


def big_pack(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text((ROOT / "policies" / "chongqing" / "pack.yaml").read_text(encoding="utf-8") + extra,
                    encoding="utf-8")
    return path


def test_a_changed_text_is_parsed_again_and_its_entry_replaced(cache: Path, tmp_path: Path) -> None:
    path = big_pack(tmp_path)
    load_file(path)
    path.write_text(path.read_text(encoding="utf-8") + "extra_key_for_test: 1.50\n", encoding="utf-8")
    doc = load_file(path)
    assert str(doc.data["extra_key_for_test"]) == "1.50"
    assert len(list(cache.glob("*.json"))) == 1  # one entry per file, not one per version
    same(load_file(path), load_text(path.read_text(encoding="utf-8"), str(path)))


def dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


CORRUPTIONS = {
    "not json": lambda entry: "{not json",
    "empty": lambda entry: "",
    "truncated": lambda entry: dump(entry)[:100],
    "a list": lambda entry: "[]",
    "no doc": lambda entry: dump({"key": entry["key"]}),
    "a float": lambda entry: dump(entry).replace('"1.5"', "1.5", 1),
    "a bad decimal": lambda entry: dump(entry).replace('{"\\u0000d":"', '{"\\u0000d":"NaN', 1),
    "a bad date": lambda entry: dump(entry).replace('{"\\u0000t":"', '{"\\u0000t":"x', 1),
    "a bad position": lambda entry: dump({**entry, "doc": ["1", 1, entry["doc"][2]]}),
    "a short node": lambda entry: dump({**entry, "doc": [1, 1]}),
    "a reserved key": lambda entry: dump({**entry, "doc": [1, 1, {"\x00x": [1, 1, [1, 1, 2]]}]}),
    "deep": lambda entry: dump({**entry, "doc": json.loads("[1, 1, " * 100 + "1" + "]" * 100)}),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_entry_is_ignored_and_written_anew(cache: Path, tmp_path: Path, corrupt: object) -> None:
    path = big_pack(tmp_path, "when: 2024-10-15\namount: 1.5\n")
    fresh = load_file(path)
    [entry] = cache.glob("*.json")
    good = json.loads(entry.read_text(encoding="utf-8"))
    spoiled = corrupt(good)  # type: ignore[operator]
    assert spoiled != dump(good)
    entry.write_text(spoiled, encoding="utf-8")
    same(load_file(path), fresh)
    assert json.loads(entry.read_text(encoding="utf-8")) == good


def test_an_entry_others_can_write_is_not_trusted(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = big_pack(tmp_path)
    fresh = load_file(path)
    [entry] = cache.glob("*.json")
    planted = json.loads(entry.read_text(encoding="utf-8"))
    first = next(iter(planted["doc"][2]))
    planted["doc"][2][first][2] = [1, 1, "planted"]
    entry.write_text(json.dumps(planted), encoding="utf-8")
    os.chmod(entry, 0o666)
    same(load_file(path), fresh)


def test_errors_are_never_cached(cache: Path, tmp_path: Path) -> None:
    path = big_pack(tmp_path, "key: [a, b\n")
    for _ in range(2):
        with pytest.raises(SkillcertError) as found:
            load_file(path)
        assert found.value.code == "yaml-syntax"
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_no_cache_when_turned_off_or_for_small_files(cache: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    small = tmp_path / "facts.yaml"
    small.write_text("a: 1\n", encoding="utf-8")
    load_file(small)
    monkeypatch.setenv("SKILLCERT_NO_CACHE", "1")
    load_file(big_pack(tmp_path))
    assert not cache.exists()


def test_an_unwritable_cache_folder_only_costs_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("SKILLCERT_CACHE_DIR", str(blocker))
    monkeypatch.delenv("SKILLCERT_NO_CACHE", raising=False)
    path = big_pack(tmp_path)
    same(load_file(path), load_text(path.read_text(encoding="utf-8"), str(path)))


def test_a_key_that_would_read_back_as_a_decimal_is_not_cached(cache: Path, tmp_path: Path) -> None:
    path = big_pack(tmp_path, 'odd: {"\\0d": "1"}\n')
    doc = load_file(path)
    assert doc.data["odd"] == {"\x00d": "1"}
    assert not list(cache.glob("*.json"))
    assert load_file(path).data["odd"] == {"\x00d": "1"}
