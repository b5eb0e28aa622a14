"""Where a document came from: its verification code, the facts and result embedded in it, and what differs now.

The code is derived from what decided the document — the decision, the pack's digest, the facts (with the document
inputs), the as-of date and the engine version — and from the result they gave: ``sha256`` over their canonical
JSON, the first 60 bits in base32, written ``XXXX-XXXX-XXXX``. It stands in the footer and in the document's
properties; the canonical JSON itself is embedded in the custom properties (``docProps/custom.xml``), cut into
pieces of at most :data:`CHUNK` characters because Word keeps no longer text in a property.

:func:`check_document` reads a file back and says whether it still holds together (code, footer and data agree,
and the body's text is the one rendered: a digest of it is kept in the properties too) and, given a fresh evaluation
of the embedded facts, what differs: outcome, findings (reasons, deductions), deadlines. The code proves that the parts of a file agree with each other, not who made it: anyone with skillcert
can make a document with a valid code for facts of their choosing (a secret key would be needed for that).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from ..errors import SkillcertError
from ..runtime.result import DecisionResult
from ..values import format_decimal, jsonable, to_json

__all__ = ["payload", "code_of", "canonical", "embed", "read_document", "Embedded", "Check", "check_document",
           "result_summary", "body_digest", "batch_payload", "UNREADABLE", "CODE_PATTERN", "FORMAT"]

FORMAT = 1
CHUNK = 240
UNREADABLE = "document-unreadable"
CODE_PATTERN = re.compile(r"\b[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}\b")
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"   # the custom properties' format id (OOXML, MS-OLEPS)
_NS = {"cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
       "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"}
_PREFIX = "skillcert."
_MAX_DOCUMENT = 50 * 1024 * 1024        # a .docx read back: larger than any notice
_MAX_PART = 4 * 1024 * 1024             # one part of it (the properties, the footers)


def result_summary(result: DecisionResult) -> dict[str, Any]:
    """What a document must agree with: outcome, score and subtotals, deadlines, reasons, each item's deduction."""
    deductions: dict[str, Any] = {}
    awards: dict[str, Any] = {}
    if result.scorecard:
        for cat in result.scorecard["categories"]:
            for node in cat.walk():
                if node.items:
                    continue
                if cat.bonus or node.bonus:
                    if node.score:
                        awards[node.id] = node.score
                elif node.max != node.score:
                    deductions[node.id] = node.max - node.score
    return {
        "outcome": result.outcome, "outcome_label": result.outcome_label, "score": result.score,
        "scores": dict(result.scores), "deadlines": dict(result.deadlines),
        "reasons": [{"rule": r.rule, "outcome": r.outcome, "message": r.message, "source": r.source}
                    for r in result.reasons],
        "deductions": deductions, "awards": awards,
    }


def payload(result: DecisionResult, document: str, facts: Mapping[str, Any], inputs: Mapping[str, Any],
            engine_version: str) -> dict[str, Any]:
    """Everything the code is derived from, as embedded in the document."""
    return {
        "format": FORMAT, "decision": result.decision, "document": document, "pack_version": result.pack_version,
        "pack_digest": result.pack_digest, "as_of": result.as_of, "engine_version": engine_version,
        "facts": dict(facts), "inputs": dict(inputs), "result": result_summary(result),
    }


def batch_payload(first: DecisionResult, document: str, rows: list[dict[str, Any]], inputs: Mapping[str, Any],
                  engine_version: str) -> dict[str, Any]:
    """What a document of a whole batch is derived from: each row's id, facts, document inputs and result."""
    return {
        "format": FORMAT, "decision": first.decision, "document": document, "pack_version": first.pack_version,
        "pack_digest": first.pack_digest, "as_of": first.as_of, "engine_version": engine_version,
        "inputs": dict(inputs), "rows": rows,
    }


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_sorted(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float):  # never from the engine's loaders; exact text rather than a binary float
        return Decimal(repr(value))
    return value


def canonical(value: Any) -> str:
    """One JSON text for one value: keys sorted, no spaces, exact decimals, ISO dates (stable across a round trip)."""
    return to_json(_sorted(value), indent=None)


# Characters XML 1.0 cannot hold (JSON escapes the C0 controls itself, not these): in the embedded JSON they are
# written as \uXXXX escapes, which decode to the same text.
_NOT_XML = re.compile("[\x7f\ud800-\udfff\ufffe\uffff]")


def _xml_safe_json(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def code_of(data: Mapping[str, Any]) -> str:
    # surrogatepass: a lone surrogate in the facts (JSON allows one) hashes rather than failing
    digest = hashlib.sha256(canonical(data).encode("utf-8", "surrogatepass")).digest()
    text = base64.b32encode(digest).decode("ascii")[:12]
    return f"{text[:4]}-{text[4:8]}-{text[8:12]}"


def _custom_xml(properties: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f'<property fmtid="{_FMTID}" pid="{pid}" name="{escape(name, {chr(34): "&quot;"})}">'
        f"<vt:lpwstr>{escape(value)}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(properties, start=2))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Properties xmlns="{_NS["cp"]}" xmlns:vt="{_NS["vt"]}">{items}</Properties>').encode()


def embed(document: Any, data: Mapping[str, Any], code: str, title: str) -> None:
    """Put the code and the data in ``document``'s properties (core: title, identifier; custom: code, data)."""
    from docx.opc.constants import CONTENT_TYPE as CT
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    text = _xml_safe_json(canonical(data))
    chunks = [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)]
    body = body_digest(_text(document.element.xml.encode("utf-8")))
    properties = [(f"{_PREFIX}code", code), (f"{_PREFIX}body", body), (f"{_PREFIX}decision", str(data["decision"])),
                  (f"{_PREFIX}document", str(data["document"])),
                  (f"{_PREFIX}pack", f"{data['pack_version']} {data['pack_digest']}"),
                  (f"{_PREFIX}chunks", str(len(chunks)))]
    properties += [(f"{_PREFIX}data.{i:03d}", chunk) for i, chunk in enumerate(chunks)]
    blob = _custom_xml(properties)
    package = document.part.package
    try:
        part = package.part_related_by(RT.CUSTOM_PROPERTIES)
        part._blob = blob   # python-docx keeps an unknown part's bytes here; a template may carry its own
    except KeyError:
        part = Part(PackURI("/docProps/custom.xml"), CT.OFC_CUSTOM_PROPERTIES, blob, package)
        package.relate_to(part, RT.CUSTOM_PROPERTIES)
    core = document.core_properties
    core.title = title
    core.identifier = code
    core.subject = f"{data['decision']} {data['pack_version']}"
    core.keywords = f"验证码 {code}"
    core.comments = f"skillcert {data['engine_version']} 生成;skillcert verify 可核对"
    when = dt.datetime.combine(data["as_of"], dt.time()) if isinstance(data["as_of"], dt.date) else None
    if when is not None:  # the same document for the same case, as far as its properties go
        core.created = core.modified = when
        core.last_modified_by = core.author = "skillcert"


@dataclass
class Embedded:
    """What a document file says about itself."""

    code: str                          # the code in its properties
    data: dict[str, Any]               # the embedded data (decision, facts, inputs, result …)
    footer_codes: list[str]            # the codes its footers show
    text: str                          # the body's text (paragraphs and table cells)
    body: str = ""                     # the digest of the body's text when it was made (empty: not recorded)


def body_digest(text: str) -> str:
    """A digest of the body's text as rendered, so that a changed word of the notice shows (not part of the code:
    the code is in the footer, which the body's text does not include)."""
    return hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _unreadable(message: str) -> SkillcertError:
    return SkillcertError(message, code=UNREADABLE)


def read_document(blob: bytes) -> Embedded:
    """The code, data and footer text of a ``.docx`` made by skillcert; ``document-unreadable`` if it is not one."""
    if len(blob) > _MAX_DOCUMENT:
        raise _unreadable(f"文件超过 {_MAX_DOCUMENT // (1024 * 1024)} MiB,不是 skillcert 生成的文书")
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            names = set(z.namelist())
            if "word/document.xml" not in names:
                raise _unreadable("不是 Word 文档(.docx):缺少 word/document.xml")
            if "docProps/custom.xml" not in names:
                raise _unreadable("文档没有 skillcert 写入的属性(docProps/custom.xml),不是 skillcert 生成的文书,"
                                  "或属性已被删除")
            custom = _read_part(z, "docProps/custom.xml")
            footers = [_read_part(z, n) for n in sorted(names) if re.fullmatch(r"word/footer\d*\.xml", n)]
            body = _read_part(z, "word/document.xml")
    except zipfile.BadZipFile:
        raise _unreadable("不是 Word 文档(.docx):无法作为 zip 打开") from None
    props = _properties(custom)
    code = props.get(f"{_PREFIX}code", "")
    try:
        count = int(props.get(f"{_PREFIX}chunks", ""))
    except ValueError:
        raise _unreadable("文档属性中没有 skillcert 的数据(skillcert.chunks)") from None
    pieces = [props.get(f"{_PREFIX}data.{i:03d}") for i in range(count)]
    if not code or any(p is None for p in pieces):
        raise _unreadable("文档属性中的 skillcert 数据不完整(验证码或数据缺失)")
    try:
        data = json.loads("".join(p for p in pieces if p is not None), parse_float=Decimal)
    except ValueError:
        raise _unreadable("文档属性中的 skillcert 数据不是有效的 JSON(已被改动)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _unreadable("文档属性中的 skillcert 数据格式不认识")
    footer_text = " ".join(_text(x) for x in footers)
    return Embedded(code, data, CODE_PATTERN.findall(footer_text), _text(body), props.get(f"{_PREFIX}body", ""))


def _read_part(z: zipfile.ZipFile, name: str) -> bytes:
    info = z.getinfo(name)
    if info.file_size > _MAX_PART:
        raise _unreadable(f"文档中的 {name} 过大")
    return z.read(name)


def _properties(xml: bytes) -> dict[str, str]:
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        raise _unreadable("文档属性(docProps/custom.xml)无法解析") from None
    out = {}
    for prop in root.findall("cp:property", _NS):
        name = prop.get("name", "")
        value = prop.find("vt:lpwstr", _NS)
        if name.startswith(_PREFIX) and value is not None:
            out[name] = value.text or ""
    return out


def _text(xml: bytes) -> str:
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        raise _unreadable("文档内容无法解析") from None
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    return "\n".join("".join(t.text or "" for t in p.iter(f"{w}t")) for p in root.iter(f"{w}p"))


@dataclass
class Check:
    """The answer of ``skillcert verify``: ``match``, ``differs`` or ``tampered``, and lines saying why."""

    status: str
    lines: list[str] = field(default_factory=list)


def check_document(embedded: Embedded, evaluate: Callable[[str, dict[str, Any], dt.date], DecisionResult],
                   ) -> Check:
    """Does the file hold together, and does a fresh evaluation of its facts give what it says?

    ``evaluate(decision, facts, as_of)`` evaluates with the packs at hand (the library's, in the command).
    """
    data = embedded.data
    lines: list[str] = []
    if code_of(data) != embedded.code:
        return Check("tampered", [f"文书属性中的数据与验证码 {embedded.code} 不符:内嵌的事实或结果已被改动"])
    if not embedded.footer_codes:
        return Check("tampered", [f"页脚中没有验证码(属性中为 {embedded.code}):页脚已被改动"])
    wrong = sorted({c for c in embedded.footer_codes if c != embedded.code})
    if wrong:
        return Check("tampered", [f"页脚中的验证码 {'、'.join(wrong)} 与文书属性中的 {embedded.code} 不符:"
                                  "验证码已被改动"])
    if embedded.body and body_digest(embedded.text) != embedded.body:
        return Check("tampered", ["文书正文的文字与生成时不同:正文已被改动(问题、分数、日期或措辞);"
                                  "请用 skillcert 重新生成,不要在 Word 中修改"])
    decision = str(data.get("decision", ""))
    as_of = dt.date.fromisoformat(str(data.get("as_of")))
    batch = isinstance(data.get("rows"), list)
    entries = data["rows"] if batch else [data]
    differences: list[str] = []
    current: tuple[str, str] | None = None
    for n, entry in enumerate(entries, 1):
        result = evaluate(decision, dict(entry.get("facts") or {}), as_of)
        current = (result.pack_version, result.pack_digest)
        now = json.loads(canonical(result_summary(result)), parse_float=Decimal)
        row = f"第 {n} 行({entry.get('id')}):" if batch else ""
        differences += [row + d for d in _differences(entry.get("result") or {}, now)]
    origin = (f"文书由 {decision} 政策包 {data.get('pack_version')} 版({data.get('pack_digest')})、"
              f"skillcert {data.get('engine_version')} 于评估日 {as_of.isoformat()} 生成"
              + (f",汇总 {len(entries)} 行" if batch else ""))
    if current is not None and current[1] != data.get("pack_digest"):
        origin += f";现有政策包为 {current[0]} 版({current[1]})"
    lines.append(origin)
    if not differences:
        lines.append(f"验证码 {embedded.code} 有效;用现有政策包重新评估,结论、问题和期限与文书一致")
        return Check("match", lines)
    lines.append("用现有政策包重新评估,与文书不一致:")
    lines += [f"  · {d}" for d in differences]
    return Check("differs", lines)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "无"
    if isinstance(value, Decimal):
        return format_decimal(value)
    return str(jsonable(value))


def _differences(was: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    out = []
    if was.get("outcome") != now.get("outcome"):
        out.append(f"结论:文书为 {was.get('outcome')}({was.get('outcome_label')}),"
                   f"现在为 {now.get('outcome')}({now.get('outcome_label')})")
    if was.get("score") != now.get("score"):
        out.append(f"得分:文书为 {_shown(was.get('score'))},现在为 {_shown(now.get('score'))}")
    for key, label in (("scores", "小计"), ("deadlines", "期限"), ("deductions", "扣分"), ("awards", "加分")):
        before, after = was.get(key) or {}, now.get(key) or {}
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                out.append(f"{label} {name}:文书为 {_shown(before.get(name))},现在为 {_shown(after.get(name))}")
    before_r = [canonical(r) for r in was.get("reasons") or []]
    after_r = [canonical(r) for r in now.get("reasons") or []]
    for r in was.get("reasons") or []:
        if canonical(r) not in after_r:
            out.append(f"文书列出、现在不再成立的问题:{r.get('message')}〔{r.get('source')}〕")
    for r in now.get("reasons") or []:
        if canonical(r) not in before_r:
            out.append(f"现在成立、文书未列出的问题:{r.get('message')}〔{r.get('source')}〕")
    return out
