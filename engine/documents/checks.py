"""``skillcert validate``'s checks of a pack's document templates: each opens as a Word file, its tags parse, every
name it uses is one the decision's result or document inputs give (one level into ``deadlines``, ``facts``,
``scores``, ``reported``, ``tables`` and ``checklists`` too), the outcomes it compares ``outcome`` with are declared,
the document inputs it uses are listed in the document's ``inputs`` (or have a default), and a footer shows the
verification code.

A Word file has no lines to point at: a problem names the template file and quotes the paragraph it is in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..compiler.model import Decision, DocumentDef, Pack
from ..errors import Location, Problem, did_you_mean
from ..source.loader import display_path
from .context import BATCH_CONTEXT_NAMES, CONTEXT_NAMES
from .render import template_environment

__all__ = ["check_templates", "check_template"]

_HEADER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
_FOOTER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
_QUOTE = 40


def check_templates(pack: Pack) -> list[Problem]:
    """Every document template of every decision of ``pack`` (a missing file is the compiler's problem)."""
    problems: list[Problem] = []
    for decision in pack.decisions.values():
        for doc in decision.documents.values():
            if Path(doc.path).is_file():
                problems.extend(check_template(decision, doc))
    return problems


def _parts(path: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(part kind, docxtpl-patched XML) of the body, headers and footers; and the text of every paragraph."""
    from docx import Document
    from docx.oxml import parse_xml
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(path)
    document = Document(path)
    parts = [("body", tpl.patch_xml(tpl.xml_to_string(document.element.body)))]
    for rel in document.part.rels.values():
        if rel.reltype in (_HEADER, _FOOTER) and rel.target_part.blob:
            kind = "footer" if rel.reltype == _FOOTER else "header"
            parts.append((kind, tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))))
    texts = [p.text for p in document.paragraphs]
    texts += [p.text for t in document.tables for row in t.rows for cell in row.cells for p in cell.paragraphs]
    return parts, texts


def check_template(decision: Decision, doc: DocumentDef) -> list[Problem]:
    from jinja2 import TemplateSyntaxError, meta, nodes

    where = Location(display_path(Path(doc.path)))
    try:
        parts, texts = _parts(doc.path)
    except Exception as exc:  # not a Word file, broken XML: whatever python-docx or docxtpl say
        return [Problem("document-template-invalid", f"文书《{doc.title}》的模板无法作为 Word 文档打开:{exc}", where,
                        "用 Word 或 WPS 另存为 .docx")]
    env = template_environment()
    problems: list[Problem] = []

    def add(code: str, message: str, name: str = "", hint: str = "") -> None:
        shown = next((t.strip() for t in texts if name and name in t), "")
        if shown:
            message += f"(所在段落:“{shown[:_QUOTE]}{'…' if len(shown) > _QUOTE else ''}”)"
        problems.append(Problem(code, f"文书《{doc.title}》:{message}", where, hint))

    if doc.scope == "batch":
        known = set(BATCH_CONTEXT_NAMES) | set(decision.document_inputs)
        keys: dict[str, list[str]] = {}
    else:
        known = set(CONTEXT_NAMES) | set(decision.report) | set(decision.document_inputs)
        keys = _keys(decision)
    has_code = False
    for kind, xml in parts:
        try:
            tree = env.parse(xml)
        except TemplateSyntaxError as exc:
            add("document-template-syntax", f"模板标签有语法错误:{exc.message}", hint="检查 {{ }} 与 {% %} 是否成对")
            continue
        used = meta.find_undeclared_variables(tree)
        if kind == "footer" and "verification_code" in used:
            has_code = True
        for name in sorted(used - known):
            add("document-unknown-name", f"'{name}' 不是结果或文书输入中的名字", name, did_you_mean(name, known))
        for name in sorted(used & set(decision.document_inputs)):
            inp = decision.document_inputs[name]
            if name not in doc.inputs and inp.required:
                add("document-input-unlisted", f"模板使用了文书输入 {name}({inp.label}),但本文书的 inputs 没有列出它,"
                    "生成时不会要求填写", name, "把它加入该文书的 inputs,或给它 default")
        for owner, key in _lookups(tree, nodes):
            if owner in keys and key not in keys[owner]:
                add("document-unknown-name", f"'{owner}.{key}' 不存在({owner} 中有:{'、'.join(keys[owner]) or '无'})",
                    key, did_you_mean(key, keys[owner]))
        for code in _outcomes_named(tree, nodes):
            if code not in decision.outcomes:
                add("unknown-outcome", f"模板比较的结论 '{code}' 未在 outcomes 中声明", code,
                    did_you_mean(code, decision.outcomes))
    if not has_code:
        add("document-no-code", "页脚中没有验证码 {{ verification_code }}", hint="在页脚写入 验证码：{{ verification_code }}")
    return problems


def _keys(decision: Decision) -> dict[str, list[str]]:
    card = decision.scorecards.get(decision.primary_score) if decision.primary_score else None
    return {
        "deadlines": list(decision.deadlines), "facts": list(decision.inputs), "reported": list(decision.report),
        "tables": list(decision.tables), "checklists": list(decision.checklists),
        "scores": [c.id for c in card.categories] if card is not None else [],
    }


def _lookups(tree: Any, nodes: Any) -> Iterator[tuple[str, str]]:
    """``owner.key`` and ``owner['key']`` for a top-level name ``owner``."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if not isinstance(target, nodes.Name):
            continue
        if isinstance(node, nodes.Getattr):
            yield target.name, node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            yield target.name, node.arg.value


def _outcomes_named(tree: Any, nodes: Any) -> Iterator[str]:
    """The codes a template compares ``outcome`` with (``==``, ``!=``, ``in``, ``not in``)."""
    for cmp in tree.find_all(nodes.Compare):
        sides = [cmp.expr] + [op.expr for op in cmp.ops]
        if not any(isinstance(s, nodes.Name) and s.name == "outcome" for s in sides):
            continue
        for side in sides:
            if isinstance(side, nodes.Const) and isinstance(side.value, str):
                yield side.value
            elif isinstance(side, (nodes.List, nodes.Tuple)):
                yield from (i.value for i in side.items if isinstance(i, nodes.Const) and isinstance(i.value, str))
