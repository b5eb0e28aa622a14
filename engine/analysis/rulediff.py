"""The rule diff: what changed between two compiled versions of a pack, element by element, each with its clause.

Both sides are compared as the compiler built them (:mod:`skillcert.compiler.model`), never as YAML text, so what
does not change the compiled model is not a change: comments, key order, quoting, whitespace inside an expression,
``80`` against ``80.0`` where the numbers are equal. Expressions are compared by their syntax trees (numbers by
value), band bounds and scorecard points as decimals, templates by the digest of their bytes.

Each :class:`Change` has a stable English ``kind`` (for scripts), the element and the part of it that changed, a
Chinese description, the clause it rests on, and the old and new value. :class:`RuleDiff` holds the changes of one
or more pairs of packs and renders them as JSON, as Chinese lines for the terminal (grouped per decision) and as
the rows of the XLSX sheet :data:`SHEET_NAME`.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..compiler.model import (
    Band,
    Checklist,
    Condition,
    Deadline,
    Decision,
    DocumentDef,
    Pack,
    Rule,
    Scorecard,
    ScoreLine,
    ScoreNode,
    Table,
    ValueSpec,
)
from ..lang.expr import CompiledExpr
from ..values import format_decimal, jsonable

__all__ = ["Change", "PackDiff", "RuleDiff", "diff_packs", "diff_decisions", "rule_diff", "expression_key", "KIND_LABELS",
           "SHEET_NAME", "SHEET_HEADER", "SCORING_KINDS"]

SHEET_NAME = "规则变化"
SHEET_HEADER = ["决定", "类别", "代码", "对象", "部分", "说明", "依据", "原值", "新值"]

# kind → how the sheet and the terminal name it. The codes are part of the JSON output: never rename one.
KIND_LABELS: dict[str, str] = {
    "pack-added": "新增政策包", "pack-removed": "删除政策包",
    "pack-metadata-changed": "政策包信息", "pack-validity-changed": "政策包有效期", "calendar-changed": "节假日数据",
    "decision-added": "新增决定", "decision-removed": "删除决定",
    "decision-metadata-changed": "决定信息", "decision-validity-changed": "决定有效期",
    "parameter-added": "新增参数", "parameter-removed": "删除参数", "parameter-changed": "参数",
    "input-added": "新增输入", "input-removed": "删除输入", "input-changed": "输入",
    "document-input-added": "新增文书输入", "document-input-removed": "删除文书输入",
    "document-input-changed": "文书输入",
    "derived-added": "新增中间值", "derived-removed": "删除中间值", "derived-changed": "中间值",
    "scorecard-added": "新增评分表", "scorecard-removed": "删除评分表", "scorecard-changed": "评分表",
    "score-item-added": "新增评分项", "score-item-removed": "删除评分项", "score-item-changed": "评分项",
    "score-line-added": "新增扣分/加分", "score-line-removed": "删除扣分/加分", "score-line-changed": "扣分/加分",
    "deadline-added": "新增期限", "deadline-removed": "删除期限", "deadline-changed": "期限",
    "checklist-added": "新增清单", "checklist-removed": "删除清单", "checklist-changed": "清单",
    "table-added": "新增计算表", "table-removed": "删除计算表", "table-changed": "计算表",
    "rule-added": "新增规则", "rule-removed": "删除规则", "rule-changed": "规则", "rule-order-changed": "规则顺序",
    "band-changed": "分档",
    "outcome-added": "新增结论", "outcome-removed": "删除结论", "outcome-changed": "结论",
    "precedence-changed": "结论优先顺序",
    "document-added": "新增文书", "document-removed": "删除文书", "document-changed": "文书",
}

# Changes that move a score or a bound: where searching for the findings that flip an outcome makes sense.
SCORING_KINDS = frozenset({
    "parameter-changed", "parameter-added", "parameter-removed", "scorecard-added", "scorecard-removed",
    "scorecard-changed", "score-item-added", "score-item-removed", "score-item-changed", "score-line-added",
    "score-line-removed", "score-line-changed", "band-changed",
})


@dataclass(frozen=True)
class Change:
    """One change: ``scope`` is the decision (``region/name``), or the pack id for what belongs to the pack."""

    scope: str
    kind: str
    element: str          # the parameter, input path, scorecard item, rule … ("" for the decision or pack itself)
    part: str             # which of its parts changed: value, unit, when, bands … ("" when added or removed)
    description: str      # Chinese, for people
    clause: str           # the clause of the notice it rests on (the new side's, or the old one's when removed)
    old: Any = None
    new: Any = None

    def as_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "kind": self.kind, "element": self.element, "part": self.part,
                "description": self.description, "clause": self.clause,
                "old": jsonable(self.old), "new": jsonable(self.new)}

    def text(self) -> str:
        return self.description + (f"〔依据:{self.clause}〕" if self.clause else "")

    def sheet_row(self) -> list[Any]:
        return [self.scope, KIND_LABELS.get(self.kind, self.kind), self.kind, self.element, self.part,
                self.description, self.clause, _cell(self.old), _cell(self.new)]


@dataclass(frozen=True)
class PackSide:
    id: str
    title: str
    version: str
    digest: str
    decisions: tuple[str, ...]

    @classmethod
    def of(cls, pack: Pack) -> PackSide:
        return cls(pack.id, pack.title, pack.version, pack.digest,
                   tuple(d.id for d in pack.decisions.values()))

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "version": self.version, "digest": self.digest,
                "decisions": list(self.decisions)}


@dataclass(frozen=True)
class PackDiff:
    """The changes between two versions of one pack (either side None: the pack was added or removed)."""

    pack_id: str
    old: PackSide | None
    new: PackSide | None
    changes: tuple[Change, ...]
    titles: Mapping[str, str] = field(default_factory=dict)   # decision id → title (new side, else old)

    def decisions_in_common(self) -> list[str]:
        if self.old is None or self.new is None:
            return []
        return [d for d in self.new.decisions if d in self.old.decisions]


@dataclass(frozen=True)
class RuleDiff:
    """The rule diff of one or more pairs of packs."""

    packs: tuple[PackDiff, ...]

    @property
    def changes(self) -> list[Change]:
        return [c for p in self.packs for c in p.changes]

    def decisions_in_common(self) -> list[str]:
        return [d for p in self.packs for d in p.decisions_in_common()]

    def for_scope(self, scope: str) -> list[Change]:
        return [c for c in self.changes if c.scope == scope]

    def touches_scoring(self, decision_id: str) -> bool:
        """Whether a parameter, the scorecard or a band of the decision changed (where flips are searched)."""
        return any(c.kind in SCORING_KINDS for c in self.for_scope(decision_id))

    def as_json(self) -> dict[str, Any]:
        return {"packs": [{"id": p.pack_id, "old": p.old.as_json() if p.old else None,
                           "new": p.new.as_json() if p.new else None} for p in self.packs],
                "changes": [c.as_json() for c in self.changes]}

    def text_lines(self) -> list[str]:
        """Chinese lines for the terminal: per pack its versions, then the changes grouped per decision."""
        lines: list[str] = []
        for p in self.packs:
            lines.append(f"政策包 {p.pack_id}:{_side_text(p.old)} → {_side_text(p.new)}")
            scopes = list(dict.fromkeys(c.scope for c in p.changes))
            if not scopes:
                lines.append("  规则没有变化")
            for scope in scopes:
                group = [c for c in p.changes if c.scope == scope]
                title = p.titles.get(scope)
                head = f"决定 {scope}({title})" if title else (f"政策包 {scope}" if "/" not in scope else scope)
                lines.append(f"  {head}:{len(group)} 处变化")
                lines.extend(f"    · {c.text()}" for c in group)
            same = [d for d in p.decisions_in_common() if d not in scopes]
            if same and scopes:
                lines.append(f"  规则没有变化的决定:{'、'.join(same)}")
        return lines

    def sheet_rows(self) -> tuple[list[str], list[list[Any]]]:
        """The header and rows of the XLSX sheet :data:`SHEET_NAME`."""
        return list(SHEET_HEADER), [c.sheet_row() for c in self.changes]


def rule_diff(pairs: Iterable[tuple[Pack | None, Pack | None]]) -> RuleDiff:
    """The rule diff of each (old, new) pair of the same pack."""
    return RuleDiff(tuple(diff_packs(old, new) for old, new in pairs))


# ---------------------------------------------------------------------------------------------------------------
# Values as people read them, and as cells


def _show(value: Any) -> str:
    if value is None:
        return "(无)"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, (list, tuple)):
        return "、".join(_show(v) for v in value) if value else "(无)"
    if isinstance(value, Mapping):
        return "、".join(f"{k}={_show(v)}" for k, v in value.items()) if value else "(无)"
    return str(getattr(value, "isoformat", lambda: value)())


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return _show(value)


def _side_text(side: PackSide | None) -> str:
    if side is None:
        return "(无)"
    return f"{side.version}({side.digest[:15]}…)" if len(side.digest) > 15 else f"{side.version}({side.digest})"


def _same(a: Any, b: Any) -> bool:
    """Equal as the model means it: 80 and 80.0 are the same number; True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, Decimal, float)) and isinstance(b, (int, Decimal, float)):
        return Decimal(str(a)) == Decimal(str(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(type(a) is type(b) and a == b) or (a is None and b is None)


# ---------------------------------------------------------------------------------------------------------------
# Expressions: compared by syntax tree, numbers by value


def expression_key(expr: CompiledExpr | None) -> str | None:
    """What an expression means, for comparing two versions: its syntax tree with numbers by value, so that
    whitespace, quoting and ``80`` against ``80.0`` are the same expression."""
    if expr is None:
        return None
    return _tree_key(expr.tree)


_expr_key = expression_key


def _tree_key(node: Any) -> str:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return f"num({format_decimal(Decimal(str(value)))})"
        return f"const({value!r})"
    if isinstance(node, ast.AST):
        parts = [f"{name}={_tree_key(getattr(node, name, None))}" for name in node._fields]
        return f"{type(node).__name__}({','.join(parts)})"
    if isinstance(node, list):
        return "[" + ",".join(_tree_key(n) for n in node) + "]"
    return repr(node)


def _expr_text(expr: CompiledExpr | None) -> str | None:
    return None if expr is None else expr.text


# ---------------------------------------------------------------------------------------------------------------
# The walk


class _Out:
    """Collects the changes of one scope."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.items: list[Change] = []

    def add(self, kind: str, element: str, part: str, description: str, clause: str, old: Any = None,
            new: Any = None) -> None:
        self.items.append(Change(self.scope, kind, element, part, description, clause, old, new))


def _keyed(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """Keys only in old, only in new, in both (in the new side's order)."""
    return ([k for k in old if k not in new], [k for k in new if k not in old], [k for k in new if k in old])


_PACK_FIELDS = (("title", "标题"), ("jurisdiction", "辖区"), ("issuer", "发布机关"), ("version", "版本"),
                ("notes", "编制说明"))


def diff_packs(old: Pack | None, new: Pack | None) -> PackDiff:
    """Every change between two versions of one pack (None: the pack is not on that side)."""
    some = new or old
    assert some is not None, "at least one side"
    titles = {d.id: d.title for p in (old, new) if p is not None for d in p.decisions.values()}
    out = _Out(some.id)
    if old is None or new is None:
        kind = "pack-added" if old is None else "pack-removed"
        verb = "新增" if old is None else "删除"
        out.add(kind, some.id, "", f"{verb}政策包 {some.id}({some.title},版本 {some.version})", "",
                None if old is None else some.version, None if new is None else some.version)
        changes = out.items
        for d in some.decisions.values():
            sub = _Out(d.id)
            _decision_presence(sub, d, added=old is None)
            changes += sub.items
        return PackDiff(some.id, PackSide.of(old) if old else None, PackSide.of(new) if new else None,
                        tuple(changes), titles)
    for name, label in _PACK_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.add("pack-metadata-changed", "", name, f"政策包的{label}:{_short(a)} → {_short(b)}", "", a, b)
    _sources(out, old, new)
    for name, label in (("valid_from", "施行日期"), ("valid_until", "失效日期")):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.add("pack-validity-changed", "", name, f"政策包的{label}:{_show(a)} → {_show(b)}", "", a, b)
    _calendar(out, old, new)
    changes = out.items
    gone, added, common = _keyed(old.decisions, new.decisions)
    for name in gone:
        sub = _Out(old.decisions[name].id)
        _decision_presence(sub, old.decisions[name], added=False)
        changes += sub.items
    for name in added:
        sub = _Out(new.decisions[name].id)
        _decision_presence(sub, new.decisions[name], added=True)
        changes += sub.items
    for name in common:
        changes += diff_decisions(old.decisions[name], new.decisions[name])
    return PackDiff(new.id, PackSide.of(old), PackSide.of(new), tuple(changes), titles)


def _short(value: Any, limit: int = 60) -> str:
    text = " ".join(_show(value).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _sources(out: _Out, old: Pack, new: Pack) -> None:
    gone, added, common = _keyed(old.sources, new.sources)
    for key in gone:
        out.add("pack-metadata-changed", key, "source", f"删除依据文件 {key}({old.sources[key].title})", "",
                old.sources[key].title, None)
    for key in added:
        out.add("pack-metadata-changed", key, "source", f"新增依据文件 {key}({new.sources[key].title})", "",
                None, new.sources[key].title)
    for key in common:
        for name, label in (("title", "标题"), ("number", "文号"), ("date", "日期"), ("seed", "原文")):
            a, b = getattr(old.sources[key], name), getattr(new.sources[key], name)
            if a != b:
                out.add("pack-metadata-changed", key, f"source.{name}",
                        f"依据文件 {key} 的{label}:{_short(a)} → {_short(b)}", "", a, b)


def _calendar(out: _Out, old: Pack, new: Pack) -> None:
    a_years, b_years = old.calendar.known_years, new.calendar.known_years
    for year in sorted(a_years | b_years):
        a = old.calendar.year_data(year) if year in a_years else None
        b = new.calendar.year_data(year) if year in b_years else None
        a_days = None if a is None else (sorted(a.holidays), sorted(a.workdays))
        b_days = None if b is None else (sorted(b.holidays), sorted(b.workdays))
        if a_days != b_days:
            what = "新增" if a is None else "删除" if b is None else "改动"
            out.add("calendar-changed", str(year), "", f"{what} {year} 年的节假日安排", "",
                    None if a is None else len(a.holidays), None if b is None else len(b.holidays))


def _decision_presence(out: _Out, d: Decision, *, added: bool) -> None:
    verb = "新增" if added else "删除"
    out.add("decision-added" if added else "decision-removed", d.name, "",
            f"{verb}决定 {d.id}({d.title})", d.source, None if added else d.title, d.title if added else None)


def diff_decisions(old: Decision, new: Decision) -> list[Change]:
    """Every change between two versions of one decision."""
    out = _Out(new.id)
    for name, label in (("title", "标题"), ("description", "说明"), ("source", "依据"),
                        ("primary_score", "主得分"), ("summary_by", "批量汇总的分组输入"), ("default_outcome", "默认结论")):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.add("decision-metadata-changed", "", name, f"决定的{label}:{_short(a)} → {_short(b)}", new.source,
                    a, b)
    if tuple(old.report) != tuple(new.report):
        out.add("decision-metadata-changed", "", "report",
                f"报告列出的值:{_show(list(old.report))} → {_show(list(new.report))}", new.source,
                list(old.report), list(new.report))
    for name, label in (("valid_from", "施行日期"), ("valid_until", "失效日期")):
        a, b = getattr(old, name), getattr(new, name)
        if a != b and not _as_pack(old, new, name):
            out.add("decision-validity-changed", "", name, f"决定的{label}:{_show(a)} → {_show(b)}", new.source, a, b)
    _parameters(out, old, new)
    _inputs(out, old.inputs, new.inputs, "input", "输入")
    _derived(out, old, new)
    _scorecards(out, old, new)
    _deadlines(out, old, new)
    _checklists(out, old, new)
    _tables(out, old, new)
    _rules(out, old, new)
    _outcomes(out, old, new)
    _inputs(out, old.document_inputs, new.document_inputs, "document-input", "文书输入")
    _documents(out, old, new)
    return out.items


_NAME_AND_CLAUSE = (("label", "名称"), ("source", "依据"))


def _texts(out: _Out, kind: str, key: str, head: str, a: Any, b: Any, parts: tuple[tuple[str, str], ...],
           clause: str) -> None:
    """The parts of an element that are words for people (name, clause, description) where they differ."""
    for part, label in parts:
        x, y = getattr(a, part), getattr(b, part)
        if x != y:
            out.add(kind, key, part, f"{head} 的{label}:{_short(x)} → {_short(y)}", clause, x, y)


def _presence(out: _Out, kind: str, noun: str, old: Mapping[str, Any], new: Mapping[str, Any],
              label: Callable[[Any], str], detail: Callable[[Any], str]) -> list[str]:
    """Elements on one side only (``<kind>-removed``, ``<kind>-added``, each with its detail); the keys of both."""
    gone, added, common = _keyed(old, new)
    for k in gone:
        text = detail(old[k])
        out.add(f"{kind}-removed", k, "", f"删除{noun} {_named(k, label(old[k]))}(原为 {text})", old[k].source, text,
                None)
    for k in added:
        text = detail(new[k])
        out.add(f"{kind}-added", k, "", f"新增{noun} {_named(k, label(new[k]))}:{text}", new[k].source, None, text)
    return common


def _as_pack(old: Decision, new: Decision, name: str) -> bool:
    """The decision's date is its pack's on both sides: the pack's change already says it."""
    return (old.pack is not None and new.pack is not None and getattr(old, name) == getattr(old.pack, name)
            and getattr(new, name) == getattr(new.pack, name))


def _named(name: str, label: str) -> str:
    return f"{name}({label})" if label and label != name else name


def _parameters(out: _Out, old: Decision, new: Decision) -> None:
    gone, added, common = _keyed(old.parameters, new.parameters)
    for key in gone:
        p = old.parameters[key]
        out.add("parameter-removed", key, "", f"删除参数 {_named(key, p.label)}(原为 {_show(p.value)}{p.unit})",
                p.source, p.value, None)
    for key in added:
        p = new.parameters[key]
        out.add("parameter-added", key, "", f"新增参数 {_named(key, p.label)}:{_show(p.value)}{p.unit}",
                p.source, None, p.value)
    for key in common:
        a, b = old.parameters[key], new.parameters[key]
        name = _named(key, b.label)
        if not _same(a.value, b.value) or a.unit != b.unit:
            unit = f"(单位 {a.unit or '无'} → {b.unit or '无'})" if a.unit != b.unit else ""
            out.add("parameter-changed", key, "value",
                    f"参数 {name}:{_show(a.value)}{a.unit} → {_show(b.value)}{b.unit}{unit}", b.source, a.value,
                    b.value)
        _texts(out, "parameter-changed", key, f"参数 {name}", a, b, _NAME_AND_CLAUSE, b.source)


# ---- inputs


_SPEC_PARTS = (("kind", "类型"), ("required", "必填"), ("default", "缺省值"), ("min", "最小值"), ("max", "最大值"),
               ("max_length", "最大长度"), ("max_items", "最多项数"), ("unique_by", "不得重复的字段"),
               ("label", "名称"))


def _inputs(out: _Out, old: Mapping[str, Any], new: Mapping[str, Any], kind: str, noun: str) -> None:
    gone, added, common = _keyed(old, new)
    for key in gone:
        i = old[key]
        out.add(f"{kind}-removed", key, "", f"删除{noun} {_named(key, i.label)}", i.source, i.spec.kind, None)
    for key in added:
        i = new[key]
        out.add(f"{kind}-added", key, "", f"新增{noun} {_named(key, i.label)}({_spec_text(i.spec)})", i.source,
                None, i.spec.kind)
    for key in common:
        a, b = old[key], new[key]
        _spec(out, a.spec, b.spec, key, kind, noun, b.source)
        for part, label in (("description", "说明"), ("source", "依据")):
            if getattr(a, part) != getattr(b, part):
                out.add(f"{kind}-changed", key, part,
                        f"{noun} {_named(key, b.label)} 的{label}:{_short(getattr(a, part))} → "
                        f"{_short(getattr(b, part))}", b.source, getattr(a, part), getattr(b, part))


def _spec_text(spec: ValueSpec) -> str:
    text = spec.kind
    if spec.values:
        text += ":" + "、".join(spec.values)
    if not spec.required:
        text += f",缺省 {_show(spec.default)}"
    return text


def _spec(out: _Out, a: ValueSpec, b: ValueSpec, path: str, kind: str, noun: str, clause: str) -> None:
    name = _named(path, b.label)
    for part, label in _SPEC_PARTS:
        x, y = getattr(a, part), getattr(b, part)
        if not _same(x, y):
            out.add(f"{kind}-changed", path, part, f"{noun} {name} 的{label}:{_show(x)} → {_show(y)}", clause, x, y)
    if dict(a.values) != dict(b.values):
        gone = [c for c in a.values if c not in b.values]
        added = [c for c in b.values if c not in a.values]
        relabelled = [c for c in b.values if c in a.values and a.values[c] != b.values[c]]
        bits = ([f"删除 {_show(gone)}"] if gone else []) + ([f"新增 {_show(added)}"] if added else []) \
            + ([f"改名 {_show(relabelled)}"] if relabelled else [])
        out.add(f"{kind}-changed", path, "values", f"{noun} {name} 的可选值:{';'.join(bits) or '顺序'}", clause,
                dict(a.values), dict(b.values))
    for part in ("items", "keys"):
        x, y = getattr(a, part), getattr(b, part)
        if x is not None and y is not None:
            _spec(out, x, y, f"{path}[]" if part == "items" else f"{path}{{}}", kind, noun, clause)
        elif x is not None or y is not None:
            out.add(f"{kind}-changed", path, part, f"{noun} {name} 的{'列表项' if part == 'items' else '键'}改变", clause,
                    None if x is None else x.kind, None if y is None else y.kind)
    gone, added, common = _keyed(a.fields, b.fields)
    for f in gone:
        out.add(f"{kind}-removed", f"{path}.{f}", "", f"删除{noun} {_named(f'{path}.{f}', a.fields[f].label)}",
                clause, a.fields[f].kind, None)
    for f in added:
        out.add(f"{kind}-added", f"{path}.{f}", "",
                f"新增{noun} {_named(f'{path}.{f}', b.fields[f].label)}({_spec_text(b.fields[f])})", clause,
                None, b.fields[f].kind)
    for f in common:
        _spec(out, a.fields[f], b.fields[f], f"{path}.{f}", kind, noun, clause)


# ---- derived values


def _derived(out: _Out, old: Decision, new: Decision) -> None:
    common = _presence(out, "derived", "中间值", old.derived, new.derived, lambda d: d.label, lambda d: d.expr.text)
    for key in common:
        a, b = old.derived[key], new.derived[key]
        name = _named(key, b.label)
        if _expr_key(a.expr) != _expr_key(b.expr):
            out.add("derived-changed", key, "expr", f"中间值 {name} 的算法:{a.expr.text} → {b.expr.text}", b.source,
                    a.expr.text, b.expr.text)
        if dict(a.values) != dict(b.values):
            out.add("derived-changed", key, "values",
                    f"中间值 {name} 的取值:{_show(dict(a.values))} → {_show(dict(b.values))}", b.source,
                    dict(a.values), dict(b.values))
        _texts(out, "derived-changed", key, f"中间值 {name}", a, b, _NAME_AND_CLAUSE, b.source)


# ---- scorecards


def _scorecards(out: _Out, old: Decision, new: Decision) -> None:
    common = _presence(out, "scorecard", "评分表", old.scorecards, new.scorecards, lambda s: s.label,
                       lambda s: f"满分 {_show(s.max)}")
    for key in common:
        _scorecard(out, old.scorecards[key], new.scorecards[key])


def _nodes(card: Scorecard) -> dict[str, ScoreNode]:
    paths: dict[str, ScoreNode] = {}

    def walk(node: ScoreNode, prefix: str) -> None:
        path = f"{prefix}{node.id}"
        paths[path] = node
        for child in node.children:
            walk(child, f"{path}/")
    for category in card.categories:
        walk(category, f"{card.name}:")
    return paths


def _scorecard(out: _Out, a: Scorecard, b: Scorecard) -> None:
    name = _named(b.name, b.label)
    if a.max != b.max:
        out.add("scorecard-changed", b.name, "max", f"评分表 {name} 的满分:{_show(a.max)} → {_show(b.max)}",
                b.source, a.max, b.max)
    if _expr_key(a.when) != _expr_key(b.when):
        out.add("scorecard-changed", b.name, "when",
                f"评分表 {name} 的适用条件:{_expr_text(a.when) or '(总是)'} → {_expr_text(b.when) or '(总是)'}",
                b.source, _expr_text(a.when), _expr_text(b.when))
    _texts(out, "scorecard-changed", b.name, f"评分表 {name}", a, b, _NAME_AND_CLAUSE, b.source)
    old_nodes, new_nodes = _nodes(a), _nodes(b)
    gone, added, common = _keyed(old_nodes, new_nodes)
    for path in gone:
        n = old_nodes[path]
        out.add("score-item-removed", path, "", f"删除评分项 {_named(n.id, n.label)}(满分 {_show(n.max)})", n.source,
                n.max, None)
    for path in added:
        n = new_nodes[path]
        out.add("score-item-added", path, "", f"新增评分项 {_named(n.id, n.label)}(满分 {_show(n.max)})", n.source,
                None, n.max)
    for path in common:
        _score_node(out, path, old_nodes[path], new_nodes[path])


def _score_node(out: _Out, path: str, a: ScoreNode, b: ScoreNode) -> None:
    name = f"评分项 {_named(b.id, b.label)}"
    if a.max != b.max:
        out.add("score-item-changed", path, "max", f"{name} 的满分:{_show(a.max)} → {_show(b.max)}", b.source,
                a.max, b.max)
    if a.bonus != b.bonus:
        out.add("score-item-changed", path, "bonus",
                f"{name}:{'加分项' if a.bonus else '扣分项'} → {'加分项' if b.bonus else '扣分项'}", b.source,
                a.bonus, b.bonus)
    _texts(out, "score-item-changed", path, name, a, b, _NAME_AND_CLAUSE, b.source)
    verb = "加分" if b.bonus else "扣分"
    for x, y in _pair_lines(a.lines, b.lines):
        if x is None and y is not None:
            out.add("score-line-added", path, "", f"{name} 新增{verb}“{y.label}”:{_line_text(y, b.bonus)}",
                    y.source or b.source, None, _line_text(y, b.bonus))
        elif y is None and x is not None:
            out.add("score-line-removed", path, "", f"{name} 删除{verb}“{x.label}”(原为 {_line_text(x, a.bonus)})",
                    x.source or a.source, _line_text(x, a.bonus), None)
        elif x is not None and y is not None:
            _score_line(out, path, name, verb, x, y, b)


def _pair_lines(old: Sequence[ScoreLine], new: Sequence[ScoreLine]
                ) -> list[tuple[ScoreLine | None, ScoreLine | None]]:
    """Lines matched by label where a label is unique on both sides, the rest by position."""
    def unique(lines: Sequence[ScoreLine]) -> dict[str, ScoreLine]:
        labels = [line.label for line in lines]
        return {line.label: line for line in lines if labels.count(line.label) == 1}
    ua, ub = unique(old), unique(new)
    matched = {label for label in ua if label in ub}
    rest_a = [line for line in old if line.label not in matched]
    rest_b = [line for line in new if line.label not in matched]
    pairs: list[tuple[ScoreLine | None, ScoreLine | None]] = []
    rest_iter = iter(rest_a)
    for line in new:
        if line.label in matched:
            pairs.append((ua[line.label], line))
        else:
            pairs.append((next(rest_iter, None), line))
    pairs.extend((line, None) for line in rest_a[len(rest_b):])
    return pairs


def _line_text(line: ScoreLine, bonus: bool) -> str:
    verb = "加" if bonus else "扣"
    if line.per is not None:
        text = f"每项{verb} {_show(line.per)} 分(按 {_expr_text(line.count)})"
    else:
        text = f"{verb} {_show(line.points)} 分"
    if line.when is not None:
        text += f",当 {line.when.text}"
    return text


def _score_line(out: _Out, path: str, name: str, verb: str, a: ScoreLine, b: ScoreLine, node: ScoreNode) -> None:
    head = f"{name} 的{verb}“{b.label}”"
    clause = b.source or node.source
    if a.per != b.per or (a.per is None) != (b.per is None):
        out.add("score-line-changed", path, "per", f"{head}:每项 {_show(a.per)} 分 → {_show(b.per)} 分", clause,
                a.per, b.per)
    if a.points != b.points or (a.points is None) != (b.points is None):
        out.add("score-line-changed", path, "points", f"{head}:{_show(a.points)} 分 → {_show(b.points)} 分", clause,
                a.points, b.points)
    for part, label in (("count", "计数"), ("when", "条件")):
        x, y = getattr(a, part), getattr(b, part)
        if _expr_key(x) != _expr_key(y):
            out.add("score-line-changed", path, part,
                    f"{head} 的{label}:{_expr_text(x) or '(无)'} → {_expr_text(y) or '(无)'}", clause,
                    _expr_text(x), _expr_text(y))
    if a.label != b.label:
        out.add("score-line-changed", path, "label", f"{name} 的{verb}名称:{a.label} → {b.label}", clause, a.label,
                b.label)


# ---- deadlines, checklists, tables


_UNITS = {"days": "日", "working_days": "个工作日", "months": "个月", "years": "年"}


def _deadline_text(d: Deadline) -> str:
    if d.date is not None:
        return d.date.text
    return f"自 {_expr_text(d.start)} 起 {_expr_text(d.amount)} {_UNITS.get(d.unit or '', d.unit or '')}"


def _deadline_key(d: Deadline) -> tuple[Any, ...]:
    return (_expr_key(d.date), _expr_key(d.start), d.unit, _expr_key(d.amount))


def _deadlines(out: _Out, old: Decision, new: Decision) -> None:
    common = _presence(out, "deadline", "期限", old.deadlines, new.deadlines, lambda d: d.label, _deadline_text)
    for key in common:
        a, b = old.deadlines[key], new.deadlines[key]
        name = _named(key, b.label)
        if _deadline_key(a) != _deadline_key(b):
            out.add("deadline-changed", key, "rule", f"期限 {name}:{_deadline_text(a)} → {_deadline_text(b)}",
                    b.source, _deadline_text(a), _deadline_text(b))
        if _expr_key(a.when) != _expr_key(b.when):
            out.add("deadline-changed", key, "when",
                    f"期限 {name} 的适用条件:{_expr_text(a.when) or '(总是)'} → {_expr_text(b.when) or '(总是)'}",
                    b.source, _expr_text(a.when), _expr_text(b.when))
        _texts(out, "deadline-changed", key, f"期限 {name}", a, b, _NAME_AND_CLAUSE, b.source)


def _checklist_key(c: Checklist) -> tuple[Any, ...]:
    return (_expr_key(c.provided), c.outcome, _expr_key(c.when),
            tuple((i.id, i.label, _expr_key(i.required_when), i.source) for i in c.items), c.label, c.source)


def _checklists(out: _Out, old: Decision, new: Decision) -> None:
    _simple(out, old.checklists, new.checklists, "checklist", "清单", _checklist_key,
            lambda c: "、".join(i.id for i in c.items))


def _table_key(t: Table) -> tuple[Any, ...]:
    return (_expr_key(t.rows), t.as_name, t.label, t.source,
            tuple((c.id, c.label, _expr_key(c.expr),
                   c.total if isinstance(c.total, str) or c.total is None else _expr_key(c.total))
                  for c in t.columns))


def _tables(out: _Out, old: Decision, new: Decision) -> None:
    _simple(out, old.tables, new.tables, "table", "计算表", _table_key, lambda t: "、".join(c.id for c in t.columns))


def _simple(out: _Out, old: Mapping[str, Any], new: Mapping[str, Any], kind: str, noun: str,
            key: Callable[[Any], tuple[Any, ...]], summary: Callable[[Any], str]) -> None:
    """Elements compared whole (checklists, tables): added, removed, or changed with both sides summarised."""
    for k in _presence(out, kind, noun, old, new, lambda e: e.label, summary):
        if key(old[k]) != key(new[k]):
            out.add(f"{kind}-changed", k, "", f"{noun} {_named(k, new[k].label)} 改变:{summary(old[k])} → "
                    f"{summary(new[k])}", new[k].source, summary(old[k]), summary(new[k]))


# ---- rules


def _condition_text(c: Condition | None) -> str:
    if c is None:
        return "(无)"
    if c.op == "check":
        return _expr_text(c.check) or ""
    if c.op == "not":
        return f"not ({_condition_text(c.children[0])})" if c.children else "not ()"
    if c.op == "each":
        inner = _condition_text(c.children[0]) if c.children else ""
        where = f" where {c.where.text}" if c.where is not None else ""
        return f"each {c.as_name} in {_expr_text(c.over)}{where}: ({inner})"
    return f"{c.op}(" + "; ".join(_condition_text(ch) for ch in c.children) + ")"


def _condition_key(c: Condition | None) -> Any:
    if c is None:
        return None
    return (c.op, _expr_key(c.check), tuple(_condition_key(ch) for ch in c.children), _expr_key(c.over), c.as_name,
            _expr_key(c.where))


def _condition_words(c: Condition | None) -> Any:
    if c is None:
        return None
    return (c.id, c.message, c.source, c.element_name, tuple(_condition_words(ch) for ch in c.children))


def _band_text(b: Band) -> str:
    if b.min is not None and b.below is not None:
        bound = f"{_show(b.min)}≤分<{_show(b.below)}"
    elif b.min is not None:
        bound = f"分≥{_show(b.min)}"
    elif b.below is not None:
        bound = f"分<{_show(b.below)}"
    else:
        bound = "任何分"
    return f"{bound} {b.outcome}"


def _bands_text(bands: Sequence[Band]) -> str:
    return "、".join(_band_text(b) for b in bands)


def _band_key(bands: Sequence[Band]) -> tuple[Any, ...]:
    return tuple((b.min, b.below, b.outcome) for b in bands)


def _moved_bounds(a: Sequence[Band], b: Sequence[Band], old: Decision, new: Decision) -> str:
    """Which bounds moved, and the parameter that moved them where one did (80 → 85 is renew_min_score)."""
    if len(a) != len(b):
        return ""
    moved: list[str] = []
    for x, y in zip(a, b, strict=True):
        for bound_a, bound_b in ((x.min, y.min), (x.below, y.below)):
            if bound_a is not None and bound_b is not None and bound_a != bound_b:
                text = f"{_show(bound_a)} → {_show(bound_b)}"
                params = [p for p in new.parameters
                          if p in old.parameters and _same(old.parameters[p].value, bound_a)
                          and _same(new.parameters[p].value, bound_b)]
                text += f"(随参数 {'、'.join(params)})" if params else ""
                if text not in moved:
                    moved.append(text)
    return "界限 " + "、".join(moved) if moved else ""


def _rule_parts(r: Rule) -> dict[str, tuple[Any, str]]:
    """The parts of a rule whose change changes what it decides: part → (comparison key, text)."""
    return {
        "kind": (r.kind, r.kind),
        "when": (_expr_key(r.when), _expr_text(r.when) or "(总是)"),
        "outcome": ((r.outcome, _expr_key(r.outcome_expr), r.outcome_codes),
                    r.outcome or _expr_text(r.outcome_expr) or "(无)"),
        "require": (_condition_key(r.require), _condition_text(r.require)),
        "score": (_expr_key(r.score), _expr_text(r.score) or "(无)"),
        "over": ((_expr_key(r.over), r.as_name, _expr_key(r.where)),
                 f"{r.as_name} in {_expr_text(r.over)}" + (f" where {r.where.text}" if r.where else "")
                 if r.over is not None else "(无)"),
        "let": (tuple((n, _expr_key(e)) for n, e in r.let), "; ".join(f"{n} = {e.text}" for n, e in r.let) or "(无)"),
        "collect": (r.collect, r.collect or "(无)"),
    }


_RULE_PART_LABELS = {"kind": "类别", "when": "条件", "outcome": "结论", "require": "要求", "score": "分数",
                     "over": "逐项范围", "let": "逐项中间值", "collect": "收集"}


def _rules(out: _Out, old: Decision, new: Decision) -> None:
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    old_labels = {code: o.label for code, o in old.outcomes.items()}
    new_labels = {code: o.label for code, o in new.outcomes.items()}
    gone, added, common = _keyed(old_rules, new_rules)
    for key in gone:
        r = old_rules[key]
        out.add("rule-removed", key, "", f"删除规则 {key}({_rule_summary(r, old_labels)})", r.source,
                _rule_summary(r, old_labels), None)
    for key in added:
        r = new_rules[key]
        out.add("rule-added", key, "", f"新增规则 {key}:{_rule_summary(r, new_labels)}", r.source, None,
                _rule_summary(r, new_labels))
    for key in common:
        a, b = old_rules[key], new_rules[key]
        pa, pb = _rule_parts(a), _rule_parts(b)
        for part, label in _RULE_PART_LABELS.items():
            if pa[part][0] != pb[part][0]:
                out.add("rule-changed", key, part, f"规则 {key} 的{label}:{pa[part][1]} → {pb[part][1]}", b.source,
                        pa[part][1], pb[part][1])
        if _band_key(a.bands) != _band_key(b.bands):
            ta, tb = _bands_text(a.bands), _bands_text(b.bands)
            out.add("band-changed", key, "bands",
                    f"规则 {key} 的分档{_moved_bounds(a.bands, b.bands, old, new)};原:{ta};新:{tb}", b.source, ta, tb)
        words_a = (a.message, tuple(x.message for x in a.bands), _condition_words(a.require), a.element_name)
        words_b = (b.message, tuple(x.message for x in b.bands), _condition_words(b.require), b.element_name)
        if words_a != words_b:
            out.add("rule-changed", key, "message", f"规则 {key} 的说明文字改变(结论不变)", b.source,
                    a.message or None, b.message or None)
        _texts(out, "rule-changed", key, f"规则 {key}", a, b, (("source", "依据"), ("description", "说明")), b.source)
    order_a = [k for k in old_rules if k in new_rules]
    order_b = [k for k in new_rules if k in old_rules]
    if order_a != order_b:
        out.add("rule-order-changed", "", "order", f"规则顺序:{'、'.join(order_a)} → {'、'.join(order_b)}",
                new.source, order_a, order_b)


def _rule_summary(r: Rule, labels: Mapping[str, str]) -> str:
    if r.kind == "bands":
        return f"按 {_expr_text(r.score)} 分档:{_bands_text(r.bands)}"
    outcome = r.outcome or _expr_text(r.outcome_expr) or ""
    when = f"当 {r.when.text}" if r.when is not None else "总是"
    require = f",要求 {_condition_text(r.require)}" if r.require is not None else ""
    return f"{when}{require} → {_named(outcome, labels.get(outcome, ''))}"


# ---- outcomes and precedence


def _precedence(d: Decision) -> list[list[str]]:
    ranks: dict[int, list[str]] = {}
    for code, o in d.outcomes.items():
        ranks.setdefault(o.rank, []).append(code)
    return [sorted(ranks[r]) for r in sorted(ranks)]


def _precedence_text(groups: list[list[str]]) -> str:
    return " > ".join(g[0] if len(g) == 1 else "[" + "、".join(g) + "]" for g in groups)


def _outcomes(out: _Out, old: Decision, new: Decision) -> None:
    gone, added, common = _keyed(old.outcomes, new.outcomes)
    for key in gone:
        o = old.outcomes[key]
        out.add("outcome-removed", key, "", f"删除结论 {_named(key, o.label)}", o.source, o.label, None)
    for key in added:
        o = new.outcomes[key]
        out.add("outcome-added", key, "", f"新增结论 {_named(key, o.label)}", o.source, None, o.label)
    for key in common:
        a, b = old.outcomes[key], new.outcomes[key]
        _texts(out, "outcome-changed", key, f"结论 {key}", a, b,
               (("label", "名称"), ("description", "说明"), ("source", "依据")), b.source)
    pa, pb = _precedence(old), _precedence(new)
    if pa != pb:
        out.add("precedence-changed", "", "precedence",
                f"结论优先顺序:{_precedence_text(pa)} → {_precedence_text(pb)}", new.source, _precedence_text(pa),
                _precedence_text(pb))


# ---- documents


def _digest(doc: DocumentDef) -> str | None:
    try:
        return "sha256:" + hashlib.sha256(Path(doc.path).read_bytes()).hexdigest()
    except OSError:
        return None


def _documents(out: _Out, old: Decision, new: Decision) -> None:
    common = _presence(out, "document", "文书", old.documents, new.documents, lambda d: d.title, lambda d: d.template)
    for key in common:
        a, b = old.documents[key], new.documents[key]
        name = _named(key, b.title)
        parts: list[tuple[str, str, Any, Any]] = [
            ("title", "标题", a.title, b.title), ("template", "模板", a.template, b.template),
            ("outcomes", "出具的结论", _all(a.outcomes), _all(b.outcomes)),
            ("inputs", "所需文书输入", list(a.inputs), list(b.inputs)), ("scope", "出具方式", a.scope, b.scope),
            ("source", "依据", a.source, b.source), ("description", "说明", a.description, b.description)]
        for part, label, x, y in parts:
            if x != y:
                out.add("document-changed", key, part, f"文书 {name} 的{label}:{_short(x)} → {_short(y)}", b.source,
                        x, y)
        da, db = _digest(a), _digest(b)
        if da != db:
            out.add("document-changed", key, "digest",
                    f"文书 {name} 的模板内容改变:{(da or '(无法读取)')[:19]}… → {(db or '(无法读取)')[:19]}…", b.source,
                    da, db)


def _all(outcomes: tuple[str, ...] | None) -> list[str] | str:
    return "(任何结论)" if outcomes is None else list(outcomes)

