"""A document: the pack's Word template rendered for one result and its document inputs, as the bytes of a .docx.

Templates are data that staff edit in Word or WPS, so their tags run in Jinja2's sandbox
(:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`: no attributes of Python objects, no changing values) with
XML autoescaping (a name with ``&`` or ``<`` stays text); a name the context does not have is an error that names it
rather than a blank. After rendering, every run gets an east-Asian face (:mod:`.layout`) and the verification code
and data go into the properties (:mod:`.verification`).
"""

from __future__ import annotations

import importlib.metadata
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..compiler.model import Decision, DocumentDef
from ..errors import Location, SkillcertError
from ..runtime.result import DecisionResult
from .context import build_batch_context, build_context
from .inputs import document_inputs
from .layout import ensure_east_asian_fonts
from .verification import batch_payload, code_of, embed, payload, result_summary

__all__ = ["render_document", "render_documents", "render_batch_document", "BatchEntry", "documents_for",
           "template_environment", "engine_version", "RENDER_CODE"]

RENDER_CODE = "document-render"


def engine_version() -> str:
    try:
        return importlib.metadata.version("skillcert")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def template_environment() -> Any:
    """The Jinja2 environment templates run in: sandboxed, autoescaped for XML, strict about unknown names."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined,
                                         finalize=lambda v: "" if v is None else v)


def documents_for(decision: Decision, result: DecisionResult) -> list[DocumentDef]:
    """The documents the result's outcome calls for, in the pack's order."""
    return [d for d in decision.documents.values() if d.scope == "case" and d.produced_by(result.outcome)]


def render_documents(decision: Decision, result: DecisionResult, facts: Mapping[str, Any],
                     given_inputs: Mapping[str, Any], *, documents: Iterable[DocumentDef] | None = None,
                     file: str = "") -> dict[str, bytes]:
    """Each document the outcome calls for (or those given), by id. Every document input they need is checked
    first, so that a missing one fails before anything is rendered."""
    chosen = list(documents) if documents is not None else documents_for(decision, result)
    inputs = document_inputs(decision, chosen, given_inputs, file=file)
    return {doc.id: render_document(decision, doc, result, facts, inputs) for doc in chosen}


def render_document(decision: Decision, doc: DocumentDef, result: DecisionResult, facts: Mapping[str, Any],
                    inputs: Mapping[str, Any]) -> bytes:
    """One document for ``result``; ``inputs`` are already checked (:func:`~.inputs.document_inputs`)."""
    from ..runtime.facts import validate_facts

    version = engine_version()
    data = payload(result, doc.id, facts, {k: v for k, v in inputs.items() if v is not None}, version)
    checked = validate_facts(decision, dict(facts))  # every input, defaults included, as the rules saw them
    return _render(doc, data, lambda code: build_context(decision, result, checked, inputs, code=code,
                                                         engine_version=version, document_title=doc.title))


@dataclass(frozen=True)
class BatchEntry:
    """One row of a batch, for a document of the whole batch: its id, result, facts and document inputs."""

    ident: str
    result: DecisionResult
    facts: Mapping[str, Any]
    inputs: Mapping[str, Any]


def render_batch_document(decision: Decision, doc: DocumentDef, entries: Sequence[BatchEntry], *,
                          file: str = "") -> bytes:
    """A document of a whole batch (``scope: batch``, such as a summary table) from the rows whose outcome calls
    for it; the document inputs it needs come from the first row that gives them."""
    from ..runtime.facts import validate_facts

    rows = [e for e in entries if doc.produced_by(e.result.outcome)]
    given: dict[str, Any] = {}
    for e in entries:
        for name, value in e.inputs.items():
            if value not in (None, "") and name not in given:
                given[name] = value
    inputs = document_inputs(decision, [doc], given, file=file)
    version = engine_version()
    first = rows[0].result if rows else entries[0].result
    data = batch_payload(first, doc.id, [
        {"id": e.ident, "facts": dict(e.facts), "inputs": {k: v for k, v in e.inputs.items() if v is not None},
         "result": result_summary(e.result)} for e in rows],
        {k: v for k, v in inputs.items() if v is not None}, version)
    checked = [validate_facts(decision, dict(e.facts)) for e in rows]
    return _render(doc, data, lambda code: build_batch_context(
        decision, [(e.ident, e.result, c, e.inputs) for e, c in zip(rows, checked, strict=True)], inputs,
        code=code, engine_version=version, document_title=doc.title, as_of=first.as_of))


def _render(doc: DocumentDef, data: dict[str, Any], make_context: Callable[[str], dict[str, Any]]) -> bytes:
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError

    code = code_of(data)
    context = make_context(code)
    where = Location(doc.path)
    try:
        template = DocxTemplate(doc.path)
        template.render(context, jinja_env=template_environment())
    except TemplateError as exc:
        raise SkillcertError(f"文书《{doc.title}》的模板 {doc.template} 无法生成:{exc}", code=RENDER_CODE,
                             location=where) from None
    except Exception as exc:  # not there, not a Word file, broken XML: the template is the pack's, not ours
        raise SkillcertError(f"文书《{doc.title}》的模板 {doc.template} 无法打开:{exc}", code=RENDER_CODE,
                             location=where) from None
    document = template.docx
    ensure_east_asian_fonts(document)
    embed(document, data, code, doc.title)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
