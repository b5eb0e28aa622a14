"""Stage 3: the declarations — pack metadata, the pack's holiday years, and each decision's inputs with their
types, parameters, outcomes with their rank in the precedence, default outcome, primary score and report names,
and the documents it produces with their document inputs.

Nothing here is an expression: those are the next stage's. Problems found while declaring (a pack id that is
not its folder's name, a period that ends before it starts, bad calendar data) are reported here.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from typing import Any

from ..errors import SkillcertError
from ..lang.calendar import year_data_from_mapping
from ..lang.types import VType
from ..source.loader import PathT, walk
from ..values import number_problem, quote
from .compilation import PACK_FILE, Compilation, DecisionDraft, version_file
from .model import DocumentDef, InputDef, Outcome, Parameter, SourceDoc, ValueSpec

__all__ = ["stage_declarations", "value_spec", "vtype_of"]


def value_spec(raw: dict[str, Any]) -> ValueSpec:
    """How facts must give a value, from its declaration (an input, or a field, item or key of one)."""
    unique_by = raw.get("unique_by", ())
    return ValueSpec(
        kind=raw["type"], label=raw.get("label", ""), required="default" not in raw, default=raw.get("default"),
        min=raw.get("min"), max=raw.get("max"), max_length=raw.get("max_length"), values=dict(raw.get("values", {})),
        items=value_spec(raw["items"]) if "items" in raw else None,
        keys=value_spec(raw["keys"]) if "keys" in raw else None,
        fields={name: value_spec(f) for name, f in raw.get("fields", {}).items()},
        max_items=raw.get("max_items"),
        unique_by=(unique_by,) if isinstance(unique_by, str) else tuple(unique_by),
    )


def vtype_of(spec: ValueSpec) -> VType:
    """The value type (for expressions) of a declared value."""
    nullable = not spec.required and spec.default is None
    if spec.kind == "enum":
        return VType("enum", tuple(spec.values), tuple(spec.values.items()), nullable=nullable)
    if spec.kind in ("list", "mapping"):
        if spec.items is None:  # only in a pack whose shape is broken (the schema said so): skipped
            raise ValueError(f"{spec.kind} without items")
        return VType(spec.kind, item=vtype_of(spec.items), nullable=nullable)
    if spec.kind == "record":
        fields = tuple((name, vtype_of(f)) for name, f in spec.fields.items())
        labels = tuple((name, f.label or name) for name, f in spec.fields.items())
        return VType("record", fields=fields, field_labels=labels, nullable=nullable)
    return VType(spec.kind, nullable=nullable)


_FULL_WIDTH_NUMBER = re.compile(r"^[-+－＋]?[0-9０-９]+(?:[.．][0-9０-９]+)?$")
_TO_ASCII = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")


def stage_declarations(c: Compilation) -> None:
    assert c.doc is not None
    data = c.doc.data
    _numbers(c)
    meta = data["pack"]
    folder = c.directory.name
    if meta["id"] != folder:
        c.add("pack-id", f"政策包 id '{meta['id']}' 应与目录名 '{folder}' 相同", ("pack", "id"))
    sources = {
        sid: SourceDoc(sid, s["title"], s.get("number", ""), str(s.get("date", "")), s.get("seed", ""))
        for sid, s in meta["sources"].items()
    }
    c.pack_fields = dict(
        id=meta["id"], title=meta["title"], jurisdiction=meta["jurisdiction"], issuer=meta["issuer"],
        version=meta["version"], sources=sources, valid_from=meta["valid_from"],
        valid_until=meta.get("valid_until"), notes=meta.get("notes", ""), files=(c.display,),
        reading_marks=tuple(meta.get("reading_marks", ())),
        digest="sha256:" + hashlib.sha256(c.doc.text.encode("utf-8")).hexdigest(), directory=str(c.directory),
    )
    if c.file is not None and c.file.name != version_file(meta["version"]) and c.file.name != PACK_FILE:
        # another version's file says its version in its name, so that a folder listing shows them all
        c.add("version-file", f"文件 {c.file.name} 中的版本是 {meta['version']},与文件名不符", ("pack", "version"),
              f"其他版本的文件应命名为 pack-<版本>.yaml,这个文件应改名为 {version_file(meta['version'])}")
    valid_until = meta.get("valid_until")
    if valid_until is not None and valid_until < meta["valid_from"]:
        c.add("bad-period", f"有效期截止日 {valid_until} 早于施行日期 {meta['valid_from']}", ("pack", "valid_until"))
    _calendar(c, data.get("calendar", []))
    for name, d in data["decisions"].items():
        with c.part():
            c.drafts[name] = _decision(c, name, d)


def _numbers(c: Compilation) -> None:
    """Every number in the pack within the input limits (exact, and cheap to compute with), at its line."""
    assert c.doc is not None
    for path, value in walk(c.doc.data):
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            problem = number_problem(value)
            if problem:
                c.add("bad-number", f"数值 {quote(value)} {problem}", path)


def _calendar(c: Compilation, years: list[dict[str, Any]]) -> None:
    extra = []
    for i, y in enumerate(years):
        where = c.loc(("calendar", i))
        try:
            extra.append(year_data_from_mapping(y, str(where)))
        except SkillcertError as exc:
            c.problems.add("calendar-data-invalid", exc.message, where)
    base = c.env.calendar
    c.calendar = base.with_years(extra) if extra else base


def _decision(c: Compilation, name: str, d: dict[str, Any]) -> DecisionDraft:
    base: PathT = ("decisions", name)
    inputs = _inputs(c, d["inputs"], base + ("inputs",))
    parameters = {
        pname: Parameter(pname, p["label"], p["value"], p.get("unit", ""), p["source"],
                         c.loc(base + ("parameters", pname), key=True))
        for pname, p in d.get("parameters", {}).items()
    }
    for pname, p in d.get("parameters", {}).items():
        value = p.get("value")
        if isinstance(value, str) and _FULL_WIDTH_NUMBER.match(value.strip()) and not value.strip().isascii():
            c.add("full-width-digit", f"参数 '{pname}' 的值 {quote(value)} 含全角数字,请改为半角 "
                  f"{value.strip().translate(_TO_ASCII)}(写成数字,不加引号)", base + ("parameters", pname, "value"))
    ranks = _ranks(d.get("precedence", []))
    outcomes = {
        code: Outcome(code, o["label"], o.get("description", ""), o.get("source", ""), ranks.get(code, -1),
                      c.loc(base + ("outcomes", code), key=True))
        for code, o in d["outcomes"].items()
    }
    primary = d.get("score")
    scorecards = d.get("scorecards", {})
    if primary is None and len(scorecards) == 1:  # a decision with one scorecard scores by it
        primary = next(iter(scorecards))
    return DecisionDraft(
        name=name, raw=d, base=base, title=d["title"], description=d.get("description", ""),
        source=d.get("source", ""), valid_from=d.get("valid_from", c.pack_fields["valid_from"]),
        valid_until=d.get("valid_until", c.pack_fields["valid_until"]), inputs=inputs, parameters=parameters,
        outcomes=outcomes, default_outcome=d.get("default_outcome"), primary_score=primary,
        summary_by=d.get("summary_by"), report=list(d.get("report", [])), location=c.loc(base, key=True),
        document_inputs=_inputs(c, d.get("document_inputs", {}), base + ("document_inputs",)),
        documents=_documents(c, d.get("documents", {}), base + ("documents",)),
    )


def _inputs(c: Compilation, raw_inputs: dict[str, Any], base: PathT) -> dict[str, InputDef]:
    inputs = {}
    for iname, raw in raw_inputs.items():
        spec = value_spec(raw)
        inputs[iname] = InputDef(
            name=iname, label=spec.label, type=vtype_of(spec), spec=spec, required=spec.required,
            default=spec.default, source=raw.get("source", ""), description=raw.get("description", ""),
            location=c.loc(base + (iname,), key=True),
        )
    return inputs


def _documents(c: Compilation, raw_documents: dict[str, Any], base: PathT) -> dict[str, DocumentDef]:
    """The documents a decision produces; whether their templates exist and what they name is checked later."""
    out = {}
    for doc_id, raw in raw_documents.items():
        outcomes = raw["outcomes"]
        out[doc_id] = DocumentDef(
            id=doc_id, title=raw["title"], template=raw["template"], path=str(c.directory / raw["template"]),
            outcomes=None if outcomes == "always" else tuple(outcomes), source=raw["source"],
            inputs=tuple(raw.get("inputs", ())), description=raw.get("description", ""),
            location=c.loc(base + (doc_id,), key=True), scope=raw.get("scope", "case"),
        )
    return out


def _ranks(precedence: list[Any]) -> dict[str, int]:
    """Rank of each outcome code: its position in ``precedence`` (codes in one inner list share a rank)."""
    ranks: dict[str, int] = {}
    for rank, entry in enumerate(precedence):
        for code in entry if isinstance(entry, list) else [entry]:
            if isinstance(code, str):
                ranks.setdefault(code, rank)
    return ranks
