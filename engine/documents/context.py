"""The names a template sees: the decision result's, formatted as officials write them.

Dates as 2025年6月18日, scores as exact decimals (``format_decimal``: 94.6, 80, never 94.59999), codes with their
Chinese labels next to them, lists joined with 、. The names are the result's (``outcome``, ``outcome_label``,
``score``, ``subtotals``, ``scorecard_items``, ``deductions``, ``reasons``, ``problems``, ``deadlines``, ``tables``,
the decision's reported values) plus the facts (``facts.<input>``), the document inputs and ``verification_code``.
:data:`CONTEXT_NAMES` lists the fixed ones, for ``skillcert validate``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..compiler.model import Decision
from ..runtime.result import DecisionResult, ItemScore
from ..values import format_decimal
from .inputs import NOT_IN_DOCUMENT

__all__ = ["build_context", "build_batch_context", "official", "official_date", "without_marks", "CONTEXT_NAMES",
           "BATCH_CONTEXT_NAMES", "DICT_NAMES"]

# Every name a template may use besides the decision's reported values and document inputs.
CONTEXT_NAMES = frozenset({
    "decision", "decision_title", "pack_version", "pack_digest", "engine_version", "as_of", "as_of_iso",
    "outcome", "outcome_label", "score", "score_max", "scorecard_label", "subtotals", "scores", "scorecard_items",
    "deductions", "reasons", "problems", "deadlines", "deadline_list", "reported", "tables", "checklists", "facts",
    "warnings", "verification_code", "document_title",
})
# The names whose keys are known from the decision (checked one level down by skillcert validate).
DICT_NAMES = ("deadlines", "scores", "facts", "reported", "tables", "checklists")

_INDEX = re.compile(r"\[\d+\]$")


def official_date(value: dt.date | None) -> str:
    """2025年6月18日 (no leading zeros), as official documents write dates; empty for none."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def official(value: Any, labels: Mapping[str, str] | None = None) -> Any:
    """A value as a document shows it: dates in Chinese, exact decimals, 是/否, codes by their label, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return official_date(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return labels.get(value, value) if labels else value
    if isinstance(value, (list, tuple)):
        return "、".join(str(official(v, labels)) for v in value)
    if isinstance(value, Mapping):
        return {str(k): official(v) for k, v in value.items()}
    return str(value)


def build_context(decision: Decision, result: DecisionResult, facts: Mapping[str, Any], inputs: Mapping[str, Any],
                  *, code: str, engine_version: str, document_title: str = "") -> dict[str, Any]:
    """Everything a template of ``decision`` may name, for this result, facts and document inputs."""
    card = result.scorecard
    items = _scorecard_items(card["categories"]) if card else []
    deductions = _deductions(card["categories"]) if card else []
    reasons = [_reason(decision, r) for r in result.reasons]
    problems = [{"text": d["text"], "item": d["item"], "clause": d["clause"]} for d in deductions]
    problems += [{"text": r["message"], "item": r["item"], "clause": r["clause"]} for r in reasons
                 if not r["band"]]
    for n, p in enumerate(problems, 1):
        p["number"] = n
    reported = {name: official(value, _derived_labels(decision, name)) for name, value in result.reported.items()}
    context: dict[str, Any] = {
        **{k: v for k, v in reported.items() if k not in CONTEXT_NAMES},
        "decision": result.decision, "decision_title": result.title, "pack_version": result.pack_version,
        "pack_digest": result.pack_digest, "engine_version": engine_version,
        "as_of": official_date(result.as_of), "as_of_iso": result.as_of.isoformat(),
        "outcome": result.outcome, "outcome_label": result.outcome_label,
        "score": official(result.score), "score_max": official(card["max"]) if card else "",
        "scorecard_label": card["label"] if card else "",
        "subtotals": [{"id": c.id, "label": c.label, "max": official(c.max), "score": official(c.score)}
                      for c in (card["categories"] if card else [])],
        "scores": {k: official(v) for k, v in result.scores.items()},
        "scorecard_items": items, "deductions": deductions, "reasons": reasons, "problems": problems,
        "deadlines": {k: official_date(v) for k, v in result.deadlines.items()},
        "deadline_list": [{"name": k, "label": decision.deadlines[k].label if k in decision.deadlines else k,
                           "date": official_date(v)} for k, v in result.deadlines.items() if v is not None],
        "reported": reported,
        "tables": {name: _table(t) for name, t in result.tables.items()},
        "checklists": {name: {"label": c.get("label", ""), "items": [
            {"id": i["id"], "label": i["label"], "required": official(i.get("required")),
             "provided": official(i.get("provided"))} for i in c.get("items", [])]}
            for name, c in result.checklists.items()},
        "facts": {name: official(value, _input_labels(decision, name)) for name, value in facts.items()},
        "warnings": list(result.warnings),
        "verification_code": code, "document_title": document_title,
    }
    for name, value in inputs.items():
        labels = dict(decision.document_inputs[name].spec.values) if name in decision.document_inputs else None
        context[name] = official(value, labels)
    printable: dict[str, Any] = _printable(context, _marks(decision), _given(decision))
    return printable


def without_marks(text: str, marks: tuple[str, ...]) -> str:
    """``text`` with every parenthetical aside (``(…)`` or ``（…）``) that holds one of ``marks`` left out.

    A pack marks its own readings in its messages and clauses (``reading_marks``); the staff report keeps them,
    an official document does not. The aside is the innermost pair of brackets around the mark, so
    ``第二十七条(七)(MARK)`` keeps ``第二十七条(七)`` and ``(见第二十七条(七)，MARK)`` goes whole; a mark outside
    any brackets is left out by itself.
    """
    for mark in marks:
        while (at := text.find(mark)) >= 0:
            start, end = _enclosing(text, at, at + len(mark))
            text = (text[:start].rstrip() if start < at else text[:start]) + text[end:]
    return text


_OPEN, _CLOSE = "(（", ")）"


def _enclosing(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the brackets around ``text[start:end]`` (balanced, either width), else the span itself."""
    depth, i = 0, start - 1
    while i >= 0:
        if text[i] in _CLOSE:
            depth += 1
        elif text[i] in _OPEN:
            if depth == 0:
                break
            depth -= 1
        i -= 1
    depth, j = 0, end
    while j < len(text):
        if text[j] in _OPEN:
            depth += 1
        elif text[j] in _CLOSE:
            if depth == 0:
                break
            depth -= 1
        j += 1
    if i < 0 or j >= len(text):
        return start, end
    return i, j + 1


def _marks(decision: Decision) -> tuple[str, ...]:
    return decision.pack.reading_marks if decision.pack is not None else ()


def _given(decision: Decision) -> frozenset[str]:
    """The names whose values the caller gave (facts, document inputs): shown as given."""
    return frozenset({"facts", *decision.document_inputs})


_FULL_WIDTH = str.maketrans("()", "（）")


def _printable(value: Any, marks: tuple[str, ...] | None = (), given: frozenset[str] = frozenset()) -> Any:
    """A value as a document can hold it. The pack's text (``marks`` not None) as official documents write it:
    without its reading marks (:func:`without_marks`) and with full-width brackets, as Chinese text has them.
    What the caller gave (``given``: facts, document inputs) is shown as given. Facts may carry what a Word
    document cannot hold (a pasted cell): the document shows U+FFFD in its place instead of failing to render."""
    if isinstance(value, str):
        if marks is not None:
            value = (without_marks(value, marks) if marks else value).translate(_FULL_WIDTH)
        return NOT_IN_DOCUMENT.sub("\ufffd", value)
    if isinstance(value, dict):
        return {k: _printable(v, None if k in given else marks, given) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v, marks, given) for v in value]
    return value


# The names a template of a whole batch (``scope: batch``) may use besides the document inputs.
BATCH_CONTEXT_NAMES = frozenset({
    "decision", "decision_title", "pack_version", "pack_digest", "engine_version", "as_of", "as_of_iso", "rows",
    "groups", "group_label", "counts", "by_outcome", "total", "verification_code", "document_title",
})


def build_batch_context(decision: Decision, rows: list[tuple[str, DecisionResult, Mapping[str, Any], Mapping[str, Any]]],
                        inputs: Mapping[str, Any], *, code: str, engine_version: str, document_title: str,
                        as_of: dt.date) -> dict[str, Any]:
    """The names of a batch document: ``rows`` (each with its number, id, outcome and label, score, reasons and
    clauses, deadlines, facts, reported values and document inputs), ``groups`` by the decision's ``summary_by``
    input (label, rows, total, counts per outcome as a list and ``by_outcome`` by code), ``counts``, ``by_outcome``
    and ``total`` over all rows."""
    by = decision.summary_by
    entries = []
    for n, (ident, result, facts, row_inputs) in enumerate(rows, 1):
        entry: dict[str, Any] = {
            **{k: official(v, _derived_labels(decision, k)) for k, v in result.reported.items()},
            **{k: official(v) for k, v in row_inputs.items()},
            "number": n, "id": ident, "outcome": result.outcome, "outcome_label": result.outcome_label,
            "score": official(result.score),
            "reasons": "；".join(r.message for r in result.reasons),
            "clauses": "、".join(dict.fromkeys(r.source for r in result.reasons if r.source)),
            "deadlines": {k: official_date(v) for k, v in result.deadlines.items()},
            "facts": {k: official(v, _input_labels(decision, k)) for k, v in facts.items()},
            "group": official(facts.get(by), _input_labels(decision, by)) if by else "",
        }
        entries.append(entry)
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        groups.setdefault(entry["group"], []).append(entry)
    context: dict[str, Any] = {
        "decision": decision.id, "decision_title": decision.title, "engine_version": engine_version,
        "pack_version": decision.pack.version if decision.pack else "",
        "pack_digest": decision.pack.digest if decision.pack else "",
        "as_of": official_date(as_of), "as_of_iso": as_of.isoformat(), "rows": entries,
        "groups": [{"label": label, "rows": members, "total": len(members), "counts": _counts(decision, members),
                    "by_outcome": _by_outcome(decision, members)} for label, members in groups.items()],
        "group_label": decision.inputs[by].label if by and by in decision.inputs else "",
        "counts": _counts(decision, entries), "by_outcome": _by_outcome(decision, entries), "total": len(entries),
        "verification_code": code, "document_title": document_title,
    }
    for name, value in inputs.items():
        context[name] = official(value)
    printable: dict[str, Any] = _printable(context, _marks(decision), _given(decision))
    return printable


def _counts(decision: Decision, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """How many rows have each outcome, in the order the decision declares its outcomes (none left out)."""
    return [{"outcome": code, "label": o.label, "count": sum(1 for e in entries if e["outcome"] == code)}
            for code, o in decision.outcomes.items()]


def _by_outcome(decision: Decision, entries: list[dict[str, Any]]) -> dict[str, int]:
    return {c["outcome"]: c["count"] for c in _counts(decision, entries)}


def _derived_labels(decision: Decision, name: str) -> Mapping[str, str] | None:
    derived = decision.derived.get(name)
    return derived.values if derived is not None and derived.values else None


def _input_labels(decision: Decision, name: str) -> Mapping[str, str] | None:
    inp = decision.inputs.get(name)
    return inp.spec.values if inp is not None and inp.spec.values else None


def _scorecard_items(categories: list[ItemScore]) -> list[dict[str, Any]]:
    """Every category and item, depth first, each with its maximum, deduction (or award) and score."""
    rows: list[dict[str, Any]] = []

    def walk(node: ItemScore, level: int, category: str, bonus: bool) -> None:
        bonus = bonus or node.bonus
        rows.append({
            "id": node.id, "label": node.label, "level": level, "category": category, "bonus": bonus,
            "leaf": not node.items, "max": official(node.max), "score": official(node.score),
            "deduction": "" if bonus else official(node.max - node.score),
            "award": official(node.score) if bonus else "", "clause": node.source,
        })
        for child in node.items:
            walk(child, level + 1, category, bonus)

    for cat in categories:
        walk(cat, 0, cat.label, False)
    return rows


def _deductions(categories: list[ItemScore]) -> list[dict[str, Any]]:
    """Each deduction made, item by item: what was found, how many, the points taken and the clause."""
    out: list[dict[str, Any]] = []
    for cat in categories:
        if cat.bonus:
            continue
        for node in cat.walk():
            for line in node.lines if not node.items and not node.bonus else ():
                points = Decimal(line.get("points", 0) or 0)
                if points <= 0:
                    continue
                count = line.get("count")
                what = str(line.get("label", ""))
                counted = f"（共{official(count)}处）" if count is not None and count != 1 else ""
                text = f"{node.label}：{what}{counted}，扣{official(points)}分"
                out.append({"item": node.label, "category": cat.label, "label": what, "count": official(count),
                            "points": official(points), "clause": node.source, "text": text})
    return out


def _reason(decision: Decision, reason: Any) -> dict[str, Any]:
    rule_id = _INDEX.sub("", reason.rule)
    rule = next((r for r in decision.rules if r.id == rule_id), None)
    item = reason.element or (rule.description if rule is not None else "") or ""
    return {"rule": reason.rule, "outcome": reason.outcome or "", "message": reason.message, "clause": reason.source,
            "item": item, "band": rule is not None and rule.kind == "bands"}


def _table(table: Mapping[str, Any]) -> dict[str, Any]:
    columns = [{"id": c["id"], "label": c["label"]} for c in table.get("columns", [])]
    rows = [{c["id"]: official(row.get(c["id"])) for c in columns} for row in table.get("rows", [])]
    total = table.get("total")
    return {"label": table.get("label", ""), "clause": table.get("source", ""), "columns": columns, "rows": rows,
            "total": {c["id"]: official(total.get(c["id"])) for c in columns} if total else {}}
