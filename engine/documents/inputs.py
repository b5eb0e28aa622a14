"""Document inputs: the facts only documents use (a name, the issuing office, a number, the date signed).

They are declared in a decision's ``document_inputs`` like its other inputs; an evaluation does not need them (and
:func:`split_facts` takes them out of the facts before the rules see them), a document that names one does.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ..compiler.model import Decision, DocumentDef, InputDef
from ..errors import FactsError, Location, Problem
from ..values import format_decimal, quote

__all__ = ["split_facts", "document_inputs", "document_columns", "column_key", "MISSING_CODE", "INVALID_CODE", "NOT_IN_DOCUMENT"]

MISSING_CODE = "document-input-missing"
INVALID_CODE = "document-input-invalid"


def split_facts(decision: Decision, facts: Any) -> tuple[Any, dict[str, Any]]:
    """The facts for the rules, and the document inputs found among them (top-level keys, as given)."""
    if not decision.document_inputs or not isinstance(facts, Mapping):
        return facts, {}
    if type(facts) is dict and decision.document_inputs.keys().isdisjoint(facts):
        return facts, {}  # the common case, on every evaluation of a decision with documents: no copies
    rules = {k: v for k, v in facts.items() if k not in decision.document_inputs}
    given = {k: v for k, v in facts.items() if k in decision.document_inputs}
    return rules, given


def column_key(text: str) -> str:
    """A column's spelling as it is matched: NFKC, case folded, without white space."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def document_columns(decision: Decision) -> dict[str, str]:
    """A column's spelling (:func:`column_key`) → the document input it gives: its name or its Chinese label."""
    out: dict[str, str] = {}
    for name, inp in decision.document_inputs.items():
        out[column_key(name)] = name
        if inp.label:
            out[column_key(inp.label)] = name
    return out


def document_inputs(decision: Decision, documents: Iterable[DocumentDef], given: Mapping[str, Any], *,
                    file: str = "") -> dict[str, Any]:
    """Every declared document input, converted (a default where one is declared and nothing was given, else
    None); a :class:`FactsError` naming each input the ``documents`` need and do not have, or that is malformed."""
    documents = list(documents)
    needed = {name: doc for doc in reversed(documents) for name in doc.inputs}
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for name, inp in decision.document_inputs.items():
        raw = given.get(name)
        if _blank(raw):
            out[name] = inp.default
            if name in needed and inp.required:
                doc = needed[name]
                problems.append(Problem(MISSING_CODE, f"生成《{doc.title}》需要 {name}({inp.label}),事实中没有"
                                        f"或为空", Location(file, path=name)))
            continue
        value, problem = _convert(inp, raw)
        if problem:
            problems.append(Problem(INVALID_CODE, f"{name}({inp.label}){problem}", Location(file, path=name)))
        out[name] = value
    if problems:
        first = problems[0]
        code = MISSING_CODE if all(p.code == MISSING_CODE for p in problems) else INVALID_CODE
        message = first.message if len(problems) == 1 else f"文书输入有 {len(problems)} 处问题"
        raise FactsError(message, code=code, problems=problems if len(problems) > 1 else [])
    return out


# What a Word document (XML 1.0) cannot hold: control characters, lone surrogates, U+FFFE and U+FFFF.
NOT_IN_DOCUMENT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _convert(inp: InputDef, raw: Any) -> tuple[Any, str]:
    kind = inp.spec.kind
    if kind == "text":
        if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
            return None, f" 应是文字,收到 {quote(raw)}"
        text = (raw if isinstance(raw, str) else format_decimal(Decimal(raw))).strip()
        if NOT_IN_DOCUMENT.search(text):
            return None, " 含有不能写入文书的字符(控制字符或不成对的代理项)"
        limit = inp.spec.max_length
        if limit is not None and len(text) > limit:
            return None, f" 超过 {limit} 个字符"
        return text, ""
    if kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date(), ""
        if isinstance(raw, dt.date):
            return raw, ""
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw.strip()), ""
            except ValueError:
                pass
        return None, f" 应是日期 YYYY-MM-DD,收到 {quote(raw)}"
    if kind == "integer":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw, ""
        if isinstance(raw, str) and raw.strip().isdigit():
            return int(raw.strip()), ""
        return None, f" 应是整数,收到 {quote(raw)}"
    # enum: the code, or its Chinese name
    values = inp.spec.values
    text = str(raw).strip()
    if text in values:
        return text, ""
    for code, label in values.items():
        if text == label:
            return code, ""
    return None, f" 应是 {'、'.join(values)} 之一,收到 {quote(raw)}"
