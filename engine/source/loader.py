"""Reading YAML and JSON safely, keeping where every value came from.

Packs and facts are read into plain Python values (dict, list, str, int, Decimal, bool, None, date)
together with a :class:`SourceMap` that maps each data path to its line and column, so later stages
(schema, compiler, facts validation) can point at ``file:line:col``.

Safety and exactness rules applied here, once for every caller:
- YAML aliases are refused (no "billion laughs", no shared mutable nodes);
- duplicate keys are refused (PyYAML would silently keep the last one);
- files larger than a limit are refused before parsing;
- numbers with a fraction become :class:`decimal.Decimal` from their source text, never binary floats;
- numbers are decimal: hexadecimal, octal and binary integers (``0x1F``) are refused with their decimal value, and
  a number's text longer than :data:`~skillcert.values.MAX_NUMBER_TEXT` is refused before it is converted;
- full-width digits, commas and spaces where YAML expects the ASCII ones (``８５``, ``[a，b]``, an indentation of
  ``　``) are refused where they are written, naming the character;
- syntax errors are explained in Chinese and point at the character that caused them: a tab, a full-width colon
  ``：`` or comma ``，``, or a line indented differently from its siblings;
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
from typing import Any, BinaryIO

import yaml

from ..errors import Location, SkillcertError
from ..values import MAX_NUMBER_TEXT, quote

__all__ = ["Document", "SourceMap", "load_file", "load_text", "load_bytes", "read_limited", "format_path", "walk",
           "display_path", "MAX_FILE_BYTES"]

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
    _index: dict[tuple[bool, int, int], dict[PathT, list[tuple[PathT, tuple[int, int]]]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

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
            for is_key, target in ((False, out.values), (True, out.keys)):
                for path, pos in self._under(is_key, n).get(prefix, ()):
                    target[path[n:]] = pos
        return out

    def _under(self, is_key: bool, n: int) -> dict[PathT, list[tuple[PathT, tuple[int, int]]]]:
        """The entries of the keys' or values' table grouped by their first ``n`` parts, built once per length.

        A test file's cases each take their facts' map with :meth:`sub`: scanning the whole file's map for each of
        hundreds of cases cost a quarter of a second in ``skillcert validate``. Rebuilt when the table has grown
        (only the loader adds to a map, while it reads the file)."""
        table = self.keys if is_key else self.values
        key = (is_key, n, len(table))
        index = self._index.get(key)
        if index is None:
            index = {}
            for path, pos in table.items():
                if len(path) >= n:
                    index.setdefault(path[:n], []).append((path, pos))
            self._index[key] = index
        return index


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


_FULL_WIDTH_DIGITS = "０１２３４５６７８９"
_FULL_WIDTH_NUMBER = re.compile(r"^[-+－＋]?[0-9０-９]+(?:[.．][0-9０-９]+)?$")
_RADIX = {"0x": ("十六进制", 16), "0o": ("八进制", 8), "0b": ("二进制", 2)}
# YAML 1.2's 0o17 (YAML 1.1 reads it as text): refused like the other bases, not taken as text by surprise.
_RADIX_RE = re.compile(r"^[-+]?0[oO][0-7_]+$")


def _plain(node: yaml.ScalarNode) -> bool:
    return node.style in (None, "")


def _number_text(node: yaml.ScalarNode) -> str:
    value: str = node.value
    if len(value) > MAX_NUMBER_TEXT:
        raise _LoadError("number-too-long", f"数字太长(超过 {MAX_NUMBER_TEXT} 个字符),拒绝读取", node.start_mark)
    return value.replace("_", "")


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    value = node.value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return value.lower() == "true"
    if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and ":" in value:
        return value  # YAML 1.1's base 60 (1:30 → 90) is not a number: text, as in YAML 1.2
    if tag == "tag:yaml.org,2002:int" or (tag == "tag:yaml.org,2002:str" and _plain(node) and _RADIX_RE.match(value)):
        text = _number_text(node)
        prefix = text.lstrip("+-")[:2].lower()
        if prefix in _RADIX:
            name, base = _RADIX[prefix]
            sign = "-" if text.startswith("-") else ""
            try:
                decimal_text = sign + str(int(text.lstrip("+-")[2:], base))
            except ValueError:
                decimal_text = ""
            hint = f"请写成十进制数 {decimal_text}" if decimal_text else "请写成十进制数"
            raise _LoadError("yaml-number", f"不接受{name}整数 {quote(value)}:{hint},或加引号作为文字",
                             node.start_mark)
        try:
            return int(text, 10)
        except ValueError:
            raise _LoadError("yaml-number", f"无法识别的整数 {quote(value)}", node.start_mark) from None
    if tag == "tag:yaml.org,2002:float":
        text = _number_text(node)
        if text.lower().lstrip("+-") in (".inf", ".nan"):
            raise _LoadError("yaml-number", f"不接受无穷大或非数值 {quote(value)}", node.start_mark)
        try:
            return Decimal(text)
        except InvalidOperation:
            raise _LoadError("yaml-number", f"无法识别的数值 {quote(value)}", node.start_mark) from None
    if tag == "tag:yaml.org,2002:timestamp":
        if _DATE_RE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise _LoadError("yaml-date", f"不存在的日期 {quote(value)}", node.start_mark) from None
        raise _LoadError("yaml-date", f"只接受日期(YYYY-MM-DD),不接受带时间的 {quote(value)}", node.start_mark)
    if tag == "tag:yaml.org,2002:str":
        if _plain(node) and (_FULL_WIDTH_NUMBER.match(value) or value.startswith("\u3000")):
            _full_width(node, value)
        return value
    raise _LoadError("yaml-tag", f"不支持的 YAML 标签 {quote(tag)}", node.start_mark)


def _full_width(node: yaml.ScalarNode, value: str) -> None:
    """An unquoted value written with full-width digits or starting with a full-width space: refused there."""
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if value.startswith("\u3000"):
        raise _LoadError("yaml-full-width", f"第 {line} 行第 {col} 列是全角空格“　”:缩进和分隔只能用半角空格",
                         node.start_mark)
    if any(ch in _FULL_WIDTH_DIGITS or ch in "．－＋" for ch in value):
        ascii_text = value.translate(_TO_ASCII)
        raise _LoadError("yaml-full-width",
                         f"第 {line} 行第 {col} 列的 {quote(value)} 含全角数字或符号,请改为半角 {ascii_text}"
                         "(如果它是文字,请加引号)", node.start_mark)


_TO_ASCII = str.maketrans("０１２３４５６７８９．－＋：，", "0123456789.-+:,")


# In [a，b] the full-width comma was meant to separate; in {label: 逾期申请，按新设立受理} it is Chinese punctuation.
_ASCII_WITH_FULL_WIDTH_COMMA = re.compile(r"^[\x20-\x7e]*，[\x20-\x7e，]*$")


def _flow_comma(node: yaml.ScalarNode, lines: list[str]) -> None:
    """An unquoted item in a flow collection ([a，b], {a: 1，b: 2}) made of ASCII text and full-width commas: the
    commas were meant to separate items."""
    start, end = node.start_mark, node.end_mark
    for line_no in range(start.line, min(end.line, len(lines) - 1) + 1):
        text = lines[line_no]
        lo = start.column if line_no == start.line else 0
        hi = end.column if line_no == end.line else len(text)
        at = text.find("，", lo, hi)
        if at >= 0:
            raise _LoadError("yaml-full-width", f"第 {line_no + 1} 行第 {at + 1} 列是全角逗号“，”,请改为半角逗号 ','"
                             "(如果它是文字的一部分,请给这段文字加引号)", _Mark(line_no, at))


@dataclass
class _Mark:
    line: int
    column: int


def _convert(node: yaml.Node, path: PathT, smap: SourceMap, depth: int, seen: set[int], lines: list[str],
             flow: bool = False) -> Any:
    if depth > MAX_DEPTH:
        raise _LoadError("yaml-too-deep", f"嵌套超过 {MAX_DEPTH} 层", node.start_mark)
    # An alias (*name) hands back the very node its anchor (&name) made: seeing a node twice means an alias.
    if id(node) in seen:
        raise _LoadError("yaml-alias", "YAML 锚点与别名(&name / *name)不被接受:请直接写出内容", node.start_mark)
    seen.add(id(node))
    smap.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        if flow and _plain(node) and _ASCII_WITH_FULL_WIDTH_COMMA.match(node.value):
            _flow_comma(node, lines)
        return _scalar(node)
    if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) and node.tag not in _DEFAULT_COLLECTION_TAGS:
        raise _LoadError("yaml-tag", f"不支持的 YAML 标签 {quote(node.tag)}", node.start_mark)
    if isinstance(node, yaml.SequenceNode):
        inner = flow or bool(node.flow_style)
        return [_convert(child, path + (i,), smap, depth + 1, seen, lines, inner) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        inner = flow or bool(node.flow_style)
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _LoadError("yaml-merge", "不接受 YAML 合并键(<<)", key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _LoadError("yaml-key", "键必须是简单的文字", key_node.start_mark)
            if inner and _plain(key_node) and _ASCII_WITH_FULL_WIDTH_COMMA.match(key_node.value):
                _flow_comma(key_node, lines)
            key = _scalar(key_node)
            if isinstance(key, bool) or key is None:
                key = key_node.value
            key = str(key) if not isinstance(key, dt.date) else key.isoformat()
            if key in out:
                first = smap.keys.get(path + (key,), (0, 0))[0]
                raise _LoadError("yaml-duplicate-key", f"键 {quote(key)} 重复(第一次出现在第 {first} 行)",
                                 key_node.start_mark)
            smap.keys[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _convert(value_node, path + (key,), smap, depth + 1, seen, lines, inner)
        return out
    raise _LoadError("yaml-node", "无法识别的 YAML 结构", node.start_mark)


# What the YAML parser says, in the words of the people who write packs and facts (the parser's own words follow).
_SYNTAX_WORDS: tuple[tuple[str, str], ...] = (
    ("found a tab character", "制表符(Tab)不能用于缩进,请改为空格"),
    ("mapping values are not allowed", "这里不能出现冒号 ':'(值中含有 ': ' 的文字请加引号)"),
    ("could not find expected ':'", "找不到应有的冒号 ':'(是否漏写了冒号,或缩进与同级的键不一致?)"),
    ("did not find expected key", "缩进不对:这一行没有与同级的键对齐"),
    ("did not find expected '-' indicator", "缩进不对:这一行没有与同级的列表项 '-' 对齐"),
    ("block sequence entries are not allowed", "这里不能开始列表项 '-'(检查缩进)"),
    ("expected <block end>", "缩进不对:这一行没有与同级的内容对齐"),
    ("did not find expected ',' or ']'", "方括号 [ ] 中缺少半角逗号 ',' 或右方括号 ']'"),
    ("did not find expected ',' or '}'", "花括号 { } 中缺少半角逗号 ',' 或右花括号 '}'"),
    ("found unexpected end of stream", "文件意外结束:引号或括号没有闭合"),
    ("found unknown escape character", "双引号中有无法识别的转义字符(反斜杠 \\ 请写成 \\\\,或改用单引号)"),
    ("found character that cannot start any token", "这个字符不能出现在这里"),
    ("did not find expected node content", "这里缺少内容"),
    ("did not find expected comment or line break", "这里应换行(同一行的内容之后多了文字)"),
    ("found undefined alias", "不接受 YAML 别名(*name)"),
)
_KEY_WITH_FULL_WIDTH_COLON = re.compile(r"^\s*(?:-\s+)?[^\s'\"#:：{}\[\],][^'\"#:]*?(：)")


def _culprit(lines: list[str], line: int, col: int, problem: str) -> tuple[str, int, int] | None:
    """The character most likely behind a syntax error at ``line:col`` (1-based): a tab, a full-width colon, comma
    or space, on the error's line or the few lines above it (an error is often noticed a line or two late)."""
    names = {"\t": "制表符(Tab)", "：": "全角冒号“：”", "，": "全角逗号“，”", "\u3000": "全角空格“　”"}
    if 0 < line <= len(lines) and 0 < col <= len(lines[line - 1]) and lines[line - 1][col - 1] in names:
        return lines[line - 1][col - 1], line, col
    for n in range(min(line, len(lines)), max(line - 4, 0), -1):
        text = lines[n - 1]
        indent = len(text) - len(text.lstrip(" \t\u3000"))
        for i, ch in enumerate(text[:indent]):
            if ch in "\t\u3000":
                return ch, n, i + 1
        m = _KEY_WITH_FULL_WIDTH_COLON.match(text)
        if m:
            return "：", n, m.start(1) + 1
        if "expected ','" in problem and ("[" in text or "{" in text) and "，" in text:
            return "，", n, text.index("，") + 1
        if "\t" in text:
            return "\t", n, text.index("\t") + 1
    return None


def syntax_message(text: str, problem: str, line: int, col: int) -> tuple[str, int, int]:
    """A YAML syntax error in Chinese, and the line and column to report it at (the causing character's when
    one is found: "第 12 行第 8 列是全角冒号“：”,请改为半角冒号 ':' 并在其后加空格")."""
    words = next((zh for en, zh in _SYNTAX_WORDS if en in problem), "")
    original = f"({problem})" if problem else ""
    culprit = _culprit(text.split("\n"), line, col, problem)
    if culprit is not None:
        ch, at_line, at_col = culprit
        fix = {"\t": "YAML 只能用空格缩进,请改为空格", "：": "请改为半角冒号 ':' 并在其后加空格",
               "，": "请改为半角逗号 ','", "\u3000": "请改为半角空格"}[ch]
        name = {"\t": "制表符(Tab)", "：": "全角冒号“：”", "，": "全角逗号“，”", "\u3000": "全角空格“　”"}[ch]
        return f"YAML 语法错误:第 {at_line} 行第 {at_col} 列是{name},{fix}{original}", at_line, at_col
    lines = text.split("\n")
    if "could not find expected ':'" in problem and 0 < line <= len(lines) and len(lines[line - 1]) > 1024 \
            and ": " in lines[line - 1][1024:]:
        return (f"YAML 语法错误:第 {line} 行的键超过 1024 个字符(YAML 不接受更长的键){original}", line, 1)
    indented = _indentation(lines, line, problem)
    if indented is not None:
        explained, line, col = indented
    else:
        explained = words or "无法解析"
    where = f"第 {line} 行第 {col} 列:" if line else ""
    return f"YAML 语法错误:{where}{explained}{original}", line, col


_INDENT_PROBLEMS = ("mapping values are not allowed", "did not find expected key", "expected <block end>",
                    "did not find expected '-' indicator", "could not find expected ':'")


def _indentation(lines: list[str], line: int, problem: str) -> tuple[str, int, int] | None:
    """A line indented differently from the line before it, when that explains the error: the message and the
    line's first character."""
    if not any(p in problem for p in _INDENT_PROBLEMS) or not 0 < line <= len(lines):
        return None
    text = lines[line - 1]
    if not text.strip():
        return None
    prev = next((lines[n] for n in range(line - 2, -1, -1)
                 if lines[n].strip() and not lines[n].lstrip().startswith("#")), None)
    if prev is None:
        return None
    own, before = len(text) - len(text.lstrip(" ")), len(prev) - len(prev.lstrip(" "))
    opens = prev.rstrip().endswith(":") or prev.strip() == "-" or prev.rstrip().endswith(("|", ">", "|-", ">-"))
    if own > before and not opens:
        return (f"这一行缩进 {own} 个空格,比上一行({before} 个)多,被当成了上一行的值的续行;"
                "请与同级的键对齐", line, own + 1)
    if own < before and "mapping values" not in problem:
        return (f"这一行缩进 {own} 个空格,没有与上一行({before} 个)或更上一级的键对齐", line, own + 1)
    return None


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
        data = None if node is None else _convert(node, (), smap, 0, set(), text.split("\n"))
    except _LoadError as exc:
        mark = exc.mark
        raise SkillcertError(exc.message, code=exc.code,
                             location=Location(file, mark.line + 1, mark.column + 1)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message, line, col = syntax_message(text, str(exc.problem or exc.context), line, col)
        raise SkillcertError(message, code="yaml-syntax", location=Location(file, line, col)) from None
    except yaml.YAMLError as exc:
        raise SkillcertError(f"YAML 读取失败:{quote(str(exc), 200)}", code="yaml-syntax",
                             location=Location(file)) from None
    return Document(data, smap, text)


def _too_large(file: str) -> SkillcertError:
    return SkillcertError(f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MiB 上限,拒绝读取",
                          code="input-too-large", location=Location(file))


def read_limited(stream: BinaryIO, file: str) -> bytes:
    """At most :data:`MAX_FILE_BYTES` from a byte stream (a file, a pipe, standard input): one byte more is read
    to know it is too large, and refused then, without reading the rest."""
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(file)
    return data


def decode(data: bytes, file: str) -> str:
    """UTF-8 text (a byte-order mark is dropped), or an error naming the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkillcertError(f"不是 UTF-8 编码的文字(第 {exc.start} 字节处);请另存为 UTF-8", code="file-encoding",
                             location=Location(file)) from None


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
        raise _too_large(str(path))
    try:
        with open(path, "rb") as fh:  # a pipe or device reports no size: read it up to the limit
            data = read_limited(fh, str(path))
    except OSError as exc:
        raise SkillcertError(f"无法读取文件:{exc.strerror}", code="file-unreadable",
                             location=Location(str(path))) from None
    return decode(data, str(path))


def display_path(path: Path) -> str:
    """A path as people should see it in messages: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_file(path: str | Path, display: str | None = None) -> Document:
    """Read a YAML or JSON file. JSON files are parsed by :mod:`json` with exact decimals.

    A YAML file of :data:`CACHE_MIN_BYTES` or more (a pack, a file of test cases) is read from the parse cache when
    its exact text was read before by this very loader (see :func:`_cached`).
    """
    p = Path(path)
    text = _read(p)
    name = display or str(path)
    if p.suffix.lower() == ".json":
        return load_json_text(text, name)
    if len(text) >= CACHE_MIN_BYTES:
        return _cached(p, text, name)
    return load_text(text, name)


# ---- the parse cache: a pack is parsed at every start of every command (8 ms for the largest, 55 ms for all the
# files `validate` reads), though its text rarely changes. One entry per file (so that editing a pack does not pile
# entries up), holding the digest of what the parse depends on and the parse itself as plain JSON: data, and the
# source map's positions. A dict key starting with NUL marks a decimal or a date (YAML cannot write NUL in a plain
# key, and a document with such a key is simply not cached). Anything unexpected in an entry makes it a miss.

CACHE_MIN_BYTES = 8 * 1024
_CACHE_FORMAT = 2
_DECIMAL, _DATE = "\x00d", "\x00t"


def _digest(text: str | bytes) -> str:
    import hashlib  # deferred: only a file large enough for the cache needs it

    return hashlib.sha256(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")).hexdigest()


def _parse_key(text: str) -> str:
    """The digest of everything a parse depends on: this module's code, PyYAML's, the limits, and the text."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        code = _digest(Path(__file__).read_bytes())  # the source, or the bytecode of a source-less install
        _CODE_DIGEST = _digest(f"{code}\0{yaml.__version__} {_Base.__name__} {_CACHE_FORMAT}")
    return _digest(f"{_CODE_DIGEST} {MAX_DEPTH} {MAX_FILE_BYTES} {MAX_NUMBER_TEXT}\0{text}")


_CODE_DIGEST: str | None = None


def _cached(path: Path, text: str, name: str) -> Document:
    from . import cache  # deferred: small files never use it

    folder = cache.cache_dir("parsed")
    if folder is None:
        return load_text(text, name)
    try:
        key = _parse_key(text)
        entry = folder / (_digest(str(path.resolve())) + ".json")
    except (OSError, RuntimeError):  # this module's source cannot be read (an odd install), a link loop: no cache
        return load_text(text, name)
    found = cache.read_json(entry, 8 * MAX_FILE_BYTES)
    if isinstance(found, dict) and found.get("key") == key:
        smap = SourceMap(name)
        try:
            return Document(_decoded(found["doc"], (), smap, 0), smap, text)
        except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError):
            pass  # a corrupt entry: parsed again and written anew below
    doc = load_text(text, name)
    try:
        encoded = _encoded(doc.data, (), doc.source)
    except (KeyError, ValueError):  # a key that would read back as a decimal or a date: not cached
        return doc
    cache.write_json(entry, {"key": key, "doc": encoded})
    return doc


def _encoded(value: Any, path: PathT, smap: SourceMap) -> list[Any]:
    """``[line, col, body]`` for a value and, in a mapping's body, ``key: [line, col, value's]`` for each key: the
    data and its source map in one tree, read back in the order the loader filled the map."""
    if isinstance(value, dict):
        if any(k.startswith("\x00") for k in value):
            raise ValueError("reserved key")
        body: Any = {k: [*smap.keys[(*path, k)], _encoded(v, (*path, k), smap)] for k, v in value.items()}
    elif isinstance(value, list):
        body = [_encoded(v, (*path, i), smap) for i, v in enumerate(value)]
    elif isinstance(value, Decimal):
        body = {_DECIMAL: str(value)}
    elif isinstance(value, dt.date):
        body = {_DATE: value.isoformat()}
    elif value is None or isinstance(value, (str, int)):  # bool is an int
        body = value
    else:
        raise ValueError(f"not cached: {type(value).__name__}")
    return [*smap.values[path], body]


def _decoded(node: Any, path: PathT, smap: SourceMap, depth: int) -> Any:
    """A cached value back into ``smap`` and data, checked to be what the loader makes (anything else raises: a
    corrupt entry)."""
    line, col, body = node
    if type(line) is not int or type(col) is not int or depth > MAX_DEPTH + 1:
        raise TypeError("position")
    smap.values[path] = (line, col)
    if isinstance(body, list):
        return [_decoded(child, (*path, i), smap, depth + 1) for i, child in enumerate(body)]
    if isinstance(body, dict):
        if len(body) == 1 and _DECIMAL in body:
            number = body[_DECIMAL]
            if not isinstance(number, str) or len(number) > MAX_NUMBER_TEXT or not Decimal(number).is_finite():
                raise TypeError("decimal")
            return Decimal(number)
        if len(body) == 1 and _DATE in body:
            return dt.date.fromisoformat(body[_DATE])
        out: dict[str, Any] = {}
        for k, (key_line, key_col, child) in body.items():
            if k.startswith("\x00") or type(key_line) is not int or type(key_col) is not int:
                raise TypeError("key")
            smap.keys[(*path, k)] = (key_line, key_col)
            out[k] = _decoded(child, (*path, k), smap, depth + 1)
        return out
    if body is None or isinstance(body, (str, int)):
        return body
    raise TypeError(type(body).__name__)  # a float, which the loader never makes


def load_bytes(data: bytes, file: str = "<input>") -> Document:
    """Parse YAML or JSON from bytes (standard input): size and encoding checked first."""
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(file)
    return load_text(decode(data, file), file)


def load_json_text(text: str, file: str = "<input>") -> Document:
    """Parse JSON with decimals kept exact. Locations are approximate (line of the document)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise SkillcertError("输入超过大小上限,拒绝读取", code="input-too-large", location=Location(file))
    # YAML is a superset of JSON and keeps line marks, so prefer it; fall back to json for odd inputs.
    try:
        return load_text(text, file)
    except SkillcertError as yaml_error:
        if yaml_error.code != "yaml-syntax":
            raise  # the text parsed; what it holds was refused (a hex number, an alias …): say that, not JSON's words
        try:
            data = json.loads(text, parse_float=_json_decimal, parse_int=_json_int, parse_constant=_json_constant,
                              object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise SkillcertError(_json_message(text, exc), code="json-syntax",
                                 location=Location(file, exc.lineno, exc.colno)) from None
        except _JsonValueError as exc:
            raise SkillcertError(exc.message, code=exc.code, location=Location(file)) from None
        return Document(data, SourceMap(file), text)


_JSON_WORDS = (
    ("Expecting ',' delimiter", "缺少半角逗号 ','"),
    ("Expecting ':' delimiter", "缺少半角冒号 ':'"),
    ("Expecting value", "这里缺少值"),
    ("Expecting property name enclosed in double quotes", "键应写在半角双引号 \" \" 中"),
    ("Unterminated string", "字符串没有闭合(缺少右双引号)"),
    ("Invalid control character", "字符串中有控制字符(如 Tab 或换行),请写成 \\t、\\n"),
    ("Invalid \\escape", "无法识别的转义字符(反斜杠请写成 \\\\)"),
    ("Extra data", "JSON 结束后还有多余的内容"),
)


def _json_message(text: str, exc: json.JSONDecodeError) -> str:
    """A JSON syntax error in Chinese, naming a full-width character at its position."""
    at = text[exc.pos] if 0 <= exc.pos < len(text) else ""
    names = {"：": "全角冒号“：”,请改为半角冒号 ':'", "，": "全角逗号“，”,请改为半角逗号 ','",
             "“": "全角引号“,请改为半角双引号 '\"'", "”": "全角引号”,请改为半角双引号 '\"'",
             "\u3000": "全角空格,请改为半角空格"}
    if at in names:
        return f"JSON 语法错误:第 {exc.lineno} 行第 {exc.colno} 列是{names[at]}({exc.msg})"
    words = next((zh for en, zh in _JSON_WORDS if exc.msg.startswith(en)), "无法解析")
    return f"JSON 语法错误:第 {exc.lineno} 行第 {exc.colno} 列:{words}({exc.msg})"


class _JsonValueError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _json_number(text: str) -> str:
    if len(text) > MAX_NUMBER_TEXT:
        raise _JsonValueError("number-too-long", f"数字太长(超过 {MAX_NUMBER_TEXT} 个字符),拒绝读取")
    return text


def _json_decimal(text: str) -> Decimal:
    return Decimal(_json_number(text))


def _json_int(text: str) -> int:
    return int(_json_number(text))


def _json_constant(text: str) -> Any:
    raise _JsonValueError("json-number", f"不接受无穷大或非数值 {text}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _JsonValueError("json-duplicate-key", f"键 {quote(k)} 重复")
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
