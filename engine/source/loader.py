"""Reading YAML and JSON safely, keeping where every value came from.

Packs and facts are read into plain Python values (dict, list, str, int, Decimal, bool, None, date)
together with a :class:`SourceMap` that maps each data path to its line and column, so later stages
(schema, compiler, facts validation) can point at ``file:line:col``.

Safety and exactness rules applied here, once for every caller:
- YAML aliases are refused (no "billion laughs", no shared mutable nodes);
- duplicate keys are refused (PyYAML would silently keep the last one);
- files larger than a limit are refused before parsing;
- numbers with a fraction become :class:`decimal.Decimal` from their source text, never binary floats;
- only ``true``/``false`` are booleans (YAML 1.1's ``yes``/``no``/``on``/``off`` stay strings);
- ``2024-10-15`` becomes a :class:`datetime.date`; timestamps with a time of day are refused.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ..errors import Location, SkillcertError

__all__ = ["Document", "SourceMap", "load_file", "load_text", "format_path", "display_path", "MAX_FILE_BYTES"]

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64

PathT = tuple[str | int, ...]


def format_path(path: PathT) -> str:
    """``('findings', 'posts_missing')`` → ``findings.posts_missing``; list indexes as ``[3]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class SourceMap:
    """Line and column of each value (and each mapping key) in one file."""

    file: str
    values: dict[PathT, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathT, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: PathT | list[str | int], *, key: bool = False) -> Location:
        """The location of ``path``; falls back to the nearest enclosing value that has one."""
        p = tuple(path)
        table = self.keys if key else self.values
        if p in table:
            line, col = table[p]
            return Location(self.file, line, col, format_path(p))
        while p:
            p = p[:-1]
            if p in self.values:
                line, col = self.values[p]
                return Location(self.file, line, col, format_path(tuple(path)))
        return Location(self.file, 1, 1, format_path(tuple(path)))


    def sub(self, *prefixes: PathT) -> SourceMap:
        """A map of the values under ``prefix`` with paths relative to it; later prefixes win."""
        out = SourceMap(self.file)
        for prefix in prefixes:
            n = len(prefix)
            for table, target in ((self.values, out.values), (self.keys, out.keys)):
                for path, pos in table.items():
                    if path[:n] == prefix:
                        target[path[n:]] = pos
        return out


@dataclass
class Document:
    data: Any
    source: SourceMap
    text: str


# libyaml (bundled with PyYAML's wheels) parses about ten times faster; the pure-Python parser is the fallback.
_Base: Any = getattr(yaml, "CSafeLoader", None) if getattr(yaml, "__with_libyaml__", False) else None
_Base = _Base or yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc]
    """A safe loader with YAML 1.2-style booleans. Aliases are refused while converting (see _convert)."""


# Keep only true/false (any case) as booleans; drop yes/no/on/off from YAML 1.1.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _LoadError(Exception):
    def __init__(self, code: str, message: str, mark: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.mark = mark


_DEFAULT_COLLECTION_TAGS = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    value = node.value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return value.lower() == "true"
    if tag == "tag:yaml.org,2002:int":
        text = value.replace("_", "")
        try:
            return int(text, 0) if not re.fullmatch(r"[-+]?0\d+", text) else int(text, 10)
        except ValueError as exc:
            raise _LoadError("yaml-number", f"无法识别的整数 {value!r}", node.start_mark) from exc
    if tag == "tag:yaml.org,2002:float":
        text = value.replace("_", "")
        if text.lower().lstrip("+-") in (".inf", ".nan"):
            raise _LoadError("yaml-number", f"不接受无穷大或非数值 {value!r}", node.start_mark)
        try:
            return Decimal(text)
        except InvalidOperation as exc:
            raise _LoadError("yaml-number", f"无法识别的数值 {value!r}", node.start_mark) from exc
    if tag == "tag:yaml.org,2002:timestamp":
        if _DATE_RE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError as exc:
                raise _LoadError("yaml-date", f"不存在的日期 {value!r}", node.start_mark) from exc
        raise _LoadError("yaml-date", f"只接受日期(YYYY-MM-DD),不接受带时间的 {value!r}", node.start_mark)
    if tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:binary") or not tag.startswith("tag:yaml.org"):
        if tag != "tag:yaml.org,2002:str":
            raise _LoadError("yaml-tag", f"不支持的 YAML 标签 {tag}", node.start_mark)
        return value
    raise _LoadError("yaml-tag", f"不支持的 YAML 标签 {tag}", node.start_mark)


def _convert(node: yaml.Node, path: PathT, smap: SourceMap, depth: int, seen: set[int]) -> Any:
    if depth > MAX_DEPTH:
        raise _LoadError("yaml-too-deep", f"嵌套超过 {MAX_DEPTH} 层", node.start_mark)
    # An alias (*name) hands back the very node its anchor (&name) made: seeing a node twice means an alias.
    if id(node) in seen:
        raise _LoadError("yaml-alias", "YAML 锚点与别名(&name / *name)不被接受:请直接写出内容", node.start_mark)
    seen.add(id(node))
    smap.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) and node.tag not in _DEFAULT_COLLECTION_TAGS:
        raise _LoadError("yaml-tag", f"不支持的 YAML 标签 {node.tag}", node.start_mark)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(child, path + (i,), smap, depth + 1, seen) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _LoadError("yaml-merge", "不接受 YAML 合并键(<<)", key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _LoadError("yaml-key", "键必须是简单的文字", key_node.start_mark)
            key = _scalar(key_node)
            if isinstance(key, bool) or key is None:
                key = key_node.value
            key = str(key) if not isinstance(key, dt.date) else key.isoformat()
            if key in out:
                first = smap.keys.get(path + (key,), (0, 0))[0]
                raise _LoadError("yaml-duplicate-key", f"键 {key!r} 重复(第一次出现在第 {first} 行)",
                                 key_node.start_mark)
            smap.keys[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _convert(value_node, path + (key,), smap, depth + 1, seen)
        return out
    raise _LoadError("yaml-node", "无法识别的 YAML 结构", node.start_mark)


def load_text(text: str, file: str = "<input>") -> Document:
    """Parse YAML (JSON is a subset) from text. Raises :class:`SkillcertError` with a location."""
    smap = SourceMap(file)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise SkillcertError(f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MiB 上限,拒绝读取",
                             code="input-too-large", location=Location(file))
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
        data = None if node is None else _convert(node, (), smap, 0, set())
    except _LoadError as exc:
        mark = exc.mark
        raise SkillcertError(exc.message, code=exc.code,
                             location=Location(file, mark.line + 1, mark.column + 1)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = f"YAML 语法错误:{exc.problem or exc.context}"
        raise SkillcertError(message, code="yaml-syntax", location=Location(file, line, col)) from None
    except yaml.YAMLError as exc:
        raise SkillcertError(f"YAML 读取失败:{exc}", code="yaml-syntax", location=Location(file)) from None
    return Document(data, smap, text)


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SkillcertError(f"文件不存在:{path}", code="file-not-found", location=Location(str(path))) from None
    except OSError as exc:
        raise SkillcertError(f"无法读取文件:{exc.strerror}", code="file-unreadable",
                             location=Location(str(path))) from None
    if path.is_dir():
        raise SkillcertError("这是一个目录,不是文件", code="file-unreadable", location=Location(str(path)))
    if size > MAX_FILE_BYTES:
        raise SkillcertError(f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MiB 上限,拒绝读取",
                             code="input-too-large", location=Location(str(path)))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SkillcertError(f"文件不是 UTF-8 编码(第 {exc.start} 字节处)", code="file-encoding",
                             location=Location(str(path))) from None
    except OSError as exc:
        raise SkillcertError(f"无法读取文件:{exc.strerror}", code="file-unreadable",
                             location=Location(str(path))) from None


def display_path(path: Path) -> str:
    """A path as people should see it in messages: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_file(path: str | Path, display: str | None = None) -> Document:
    """Read a YAML or JSON file. JSON files are parsed by :mod:`json` with exact decimals."""
    p = Path(path)
    text = _read(p)
    name = display or str(path)
    if p.suffix.lower() == ".json":
        return load_json_text(text, name)
    return load_text(text, name)


def load_json_text(text: str, file: str = "<input>") -> Document:
    """Parse JSON with decimals kept exact. Locations are approximate (line of the document)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise SkillcertError("输入超过大小上限,拒绝读取", code="input-too-large", location=Location(file))
    # YAML is a superset of JSON and keeps line marks, so prefer it; fall back to json for odd inputs.
    try:
        return load_text(text, file)
    except SkillcertError as yaml_error:
        try:
            data = json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise SkillcertError(f"JSON 语法错误:{exc.msg}", code="json-syntax",
                                 location=Location(file, exc.lineno, exc.colno)) from None
        except ValueError as exc:
            raise SkillcertError(str(exc), code="json-duplicate-key", location=Location(file)) from None
        if yaml_error.code != "yaml-syntax":
            raise
        return Document(data, SourceMap(file), text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"键 {k!r} 重复")
        out[k] = v
    return out


def walk(data: Any, path: PathT = ()) -> Iterator[tuple[PathT, Any]]:
    """Every (path, value) pair in a loaded document, depth first."""
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from walk(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from walk(v, path + (i,))
