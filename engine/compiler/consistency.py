"""Stage 5: the checks that need the whole decision compiled — names declared once and not reserved, outcomes
declared, ranked and reachable, scorecard sums, bands without gaps or overlaps, unique ids, and input
declarations that facts could never satisfy (a default of the wrong type or outside its bounds or values,
``min`` above ``max``, ``unique_by`` naming no field), and documents naming outcomes or inputs that are not
declared or a template file that is not there — reported at their own line, not at every evaluation's facts.

Checks only: nothing here changes the decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import did_you_mean
from ..source.loader import PathT, format_path
from ..values import format_decimal, quote
from .compilation import RESERVED_NAMES, RESULT_KEYS, Compilation, DecisionDraft
from .model import Condition, Rule, Scorecard, ScoreNode, ValueSpec

__all__ = ["stage_consistency"]


def stage_consistency(c: Compilation) -> None:
    for d in c.drafts.values():
        for check in (_check_names, _check_inputs, _check_outcomes, _check_scorecards, _check_bands, _check_ids,
                      _check_documents):
            with c.part():
                check(c, d, d.raw, d.base)


def _check_names(c: Compilation, d: DecisionDraft, raw: dict[str, Any], base: PathT) -> None:
    seen: dict[str, str] = {}
    for section in ("inputs", "document_inputs", "parameters", "derived", "deadlines", "scorecards"):
        for n in raw.get(section, {}):
            if n in RESERVED_NAMES:
                c.add("reserved-name", f"'{n}' 是保留名字,不能用作{section}的名字", base + (section, n), key=True)
            if n in c.functions:
                c.add("duplicate-name", f"'{n}' 与函数同名", base + (section, n), key=True)
            if n in seen:
                c.add("duplicate-name", f"'{n}' 已在 {seen[n]} 中声明", base + (section, n), key=True)
            else:
                seen[n] = section
    for i, rule in enumerate(raw["rules"]):
        n = rule.get("collect")
        if not n:
            continue
        where = base + ("rules", i, "collect")
        if n in RESERVED_NAMES or n in c.functions:
            c.add("reserved-name", f"'{n}' 是保留名字或函数名", where)
        elif n in seen:
            c.add("duplicate-name", f"'{n}' 已在 {seen[n]} 中声明", where)
        else:
            seen[n] = "rules.collect"
    for i, n in enumerate(d.report):
        if n in RESULT_KEYS:
            c.add("reserved-name", f"report 中的 '{n}' 与结果的固定字段同名", base + ("report", i))
    cards = raw.get("scorecards", {})
    if d.primary_score is not None and d.primary_score not in cards:
        c.add("unknown-name", f"score 指向的评分表 '{d.primary_score}' 未声明", base + ("score",),
              did_you_mean(d.primary_score, cards))
    if d.summary_by is not None and d.summary_by not in d.inputs:
        c.add("unknown-name", f"summary_by 指向的输入 '{d.summary_by}' 未声明", base + ("summary_by",),
              did_you_mean(d.summary_by, d.inputs))
    declares_period = "valid_from" in raw or "valid_until" in raw
    if declares_period and d.valid_until is not None and d.valid_until < d.valid_from:
        c.add("bad-period", f"有效期截止日 {d.valid_until} 早于施行日期 {d.valid_from}", base + ("valid_until",))


def _check_outcomes(c: Compilation, d: DecisionDraft, raw: dict[str, Any], base: PathT) -> None:
    declared = d.outcomes

    def must_exist(code: str | None, path: PathT) -> None:
        if code is not None and code not in declared:
            c.add("unknown-outcome", f"结论 '{code}' 未在 outcomes 中声明", path, did_you_mean(code, declared))

    used: set[str] = set()
    for i, rule in enumerate(raw["rules"]):
        rp = base + ("rules", i)
        compiled = d.rules[i] if i < len(d.rules) else None
        if compiled is not None and compiled.outcome_codes:
            for code in compiled.outcome_codes:
                must_exist(code, rp + ("outcome",))
                used.add(code)
        elif "outcome" in rule and (compiled is None or compiled.outcome_expr is None):
            must_exist(rule["outcome"], rp + ("outcome",))
            used.add(rule["outcome"])
        for j, b in enumerate(rule.get("bands", [])):
            must_exist(b["outcome"], rp + ("bands", j, "outcome"))
            used.add(b["outcome"])
    for name, cl in raw.get("checklists", {}).items():
        if "outcome" in cl:
            must_exist(cl["outcome"], base + ("checklists", name, "outcome"))
            used.add(cl["outcome"])
    if d.default_outcome:
        must_exist(d.default_outcome, base + ("default_outcome",))
        used.add(d.default_outcome)

    ranked: set[str] = set()
    for i, entry in enumerate(raw["precedence"]):
        group = entry if isinstance(entry, list) else [entry]
        for j, code in enumerate(group):
            path = base + ("precedence", i) + ((j,) if isinstance(entry, list) else ())
            if code not in declared:
                must_exist(code, path)
                continue
            if code in ranked:
                c.add("precedence-duplicate", f"结论 '{code}' 在 precedence 中出现了不止一次", path)
                continue
            ranked.add(code)  # its rank was given when it was declared
    for code, o in declared.items():
        if code not in ranked:
            c.problems.add("precedence-missing", f"结论 '{code}' 没有列入 precedence", o.location)
        if code not in used:
            c.problems.add("unused-outcome", f"结论 '{code}' 已声明,但没有规则会得出它", o.location,
                           "删除它,或补上得出它的规则")


def _check_scorecards(c: Compilation, d: DecisionDraft, raw: dict[str, Any], base: PathT) -> None:
    for name, card in d.scorecards.items():
        p = base + ("scorecards", name)
        total = sum((n.max for n in card.categories), Decimal(0))
        if total != card.max:
            c.add("score-sum", f"评分表 '{name}' 声明满分 {format_decimal(card.max)},各类别满分之和为 {format_decimal(total)}", p + ("max",))
        for i, node in enumerate(card.categories):
            _check_score_node(c, node, p + ("categories", i))


def _check_score_node(c: Compilation, node: ScoreNode, path: PathT) -> None:
    if node.children:
        total = sum((ch.max for ch in node.children), Decimal(0))
        if total != node.max:
            c.add("score-sum", f"'{node.id}'({node.label})满分 {format_decimal(node.max)},其下各项满分之和为 {format_decimal(total)}",
                  path + ("max",))
        for i, ch in enumerate(node.children):
            _check_score_node(c, ch, path + ("items", i))
    elif not node.source:
        c.add("missing-source", f"评分项 '{node.id}'({node.label})没有出处(source)", path, "写明对应的附件和条目")
    for j, line in enumerate(node.lines):
        amount = line.points if line.points is not None else line.per
        if amount is not None and amount > node.max:
            key = "award" if node.bonus else "deduct"
            c.add("score-line", f"'{line.label}' 的分值 {format_decimal(amount)} 超过本项满分 {format_decimal(node.max)}",
                  path + (key, j))


def _check_bands(c: Compilation, d: DecisionDraft, raw: dict[str, Any], base: PathT) -> None:
    for i, rule in enumerate(d.rules):
        if rule.kind != "bands":
            continue
        rp = base + ("rules", i, "bands")
        bands = sorted(enumerate(rule.bands), key=lambda jb: (jb[1].min is not None, jb[1].min or 0))
        prev_below: Decimal | None = None
        first = True
        for j, band in bands:
            if band.min is not None and band.below is not None and band.min >= band.below:
                c.add("band-empty", f"分数段 [{format_decimal(band.min)}, {format_decimal(band.below)}) 为空", rp + (j,))
                continue
            if first:
                lowest = Decimal(0) if _scorecard_of(d, rule) is not None else None
                if band.min is not None and (lowest is None or band.min > lowest):
                    c.add("band-gap", f"低于 {format_decimal(band.min)} 的分数没有对应的分数段", rp + (j,),
                          "最低一段不写 min,表示以下全部")
                first = False
            elif prev_below is None:
                c.add("band-overlap", "上一段没有上限(below),与本段重叠", rp + (j,))
            elif band.min is None or band.min < prev_below:
                c.add("band-overlap", f"本段与上一段(低于 {format_decimal(prev_below)})重叠", rp + (j,))
            elif band.min > prev_below:
                c.add("band-gap", f"[{format_decimal(prev_below)}, {format_decimal(band.min)}) 之间的分数没有对应的分数段", rp + (j,))
            prev_below = band.below
        if bands and prev_below is not None:
            card = _scorecard_of(d, rule)
            if card is None or prev_below <= card.max:
                c.add("band-gap", f"{format_decimal(prev_below)} 及以上的分数没有对应的分数段", rp,
                      "最高一段不写 below,表示以上全部")


def _scorecard_of(d: DecisionDraft, rule: Rule) -> Scorecard | None:
    if rule.score is not None and rule.score.text in d.scorecards:
        return d.scorecards[rule.score.text]
    return None


def _check_ids(c: Compilation, d: DecisionDraft, raw: dict[str, Any], base: PathT) -> None:
    seen: dict[str, int] = {}
    for i, rule in enumerate(d.rules):
        if rule.id in seen:
            c.add("duplicate-id", f"规则 id '{rule.id}' 重复(第一次在 rules[{seen[rule.id]}])",
                  base + ("rules", i, "id"))
        else:
            seen[rule.id] = i
        if rule.require is not None:
            _check_condition_ids(c, rule.require, set())
    for name, card in d.scorecards.items():
        ids: set[str] = set()
        for node in card.nodes():
            if node.id in ids:
                c.problems.add("duplicate-id", f"评分表 '{name}' 中的 id '{node.id}' 重复", node.location)
            ids.add(node.id)
    for name, cl in d.checklists.items():
        ids = set()
        for item in cl.items:
            if item.id in ids:
                c.problems.add("duplicate-id", f"清单 '{name}' 中的 id '{item.id}' 重复", item.location)
            ids.add(item.id)


def _check_condition_ids(c: Compilation, cond: Condition, seen: set[str]) -> None:
    if cond.id:
        if cond.id in seen:
            c.problems.add("duplicate-id", f"条件 id '{cond.id}' 在同一规则中重复", cond.location)
        seen.add(cond.id)
    for ch in cond.children:
        _check_condition_ids(c, ch, seen)


_SCALARS = ("bool", "integer", "decimal", "date", "text", "enum")


def _check_inputs(c: Compilation, d: DecisionDraft, raw: dict[str, Any], base: PathT) -> None:
    for name, spec in ((n, i.spec) for n, i in d.inputs.items()):
        _check_spec(c, spec, raw["inputs"][name], base + ("inputs", name))
    for name, spec in ((n, i.spec) for n, i in d.document_inputs.items()):
        _check_spec(c, spec, raw["document_inputs"][name], base + ("document_inputs", name))


def _check_documents(c: Compilation, d: DecisionDraft, raw: dict[str, Any], base: PathT) -> None:
    """Each document's outcomes are declared, its inputs are document inputs and its template file is there.

    What the template itself says (its tags and the names they use) is checked by ``skillcert validate``
    (:mod:`skillcert.documents.checks`): the compiler does not open Word files.
    """
    titles: dict[str, str] = {}
    for doc_id, doc in d.documents.items():
        path = base + ("documents", doc_id)
        for j, code in enumerate(doc.outcomes or ()):
            if code not in d.outcomes:
                c.add("unknown-outcome", f"文书 '{doc_id}' 的结论 '{code}' 未在 outcomes 中声明",
                      path + ("outcomes", j), did_you_mean(code, d.outcomes))
        for j, name in enumerate(doc.inputs):
            if name not in d.document_inputs:
                c.add("unknown-name", f"文书 '{doc_id}' 需要的 '{name}' 未在 document_inputs 中声明",
                      path + ("inputs", j), did_you_mean(name, d.document_inputs))
        if not Path(doc.path).is_file():
            c.add("document-template-missing", f"文书 '{doc_id}'({doc.title})的模板文件 {doc.template} 不存在",
                  path + ("template",), "模板放在政策包目录的 documents/ 下,用 Word 或 WPS 编辑")
        if doc.title in titles:  # the title is the file's name: two documents of one decision may not share it
            c.add("duplicate-name", f"文书标题 '{doc.title}' 与文书 '{titles[doc.title]}' 相同", path + ("title",))
        titles.setdefault(doc.title, doc_id)


def _check_spec(c: Compilation, spec: ValueSpec, raw: dict[str, Any], path: PathT) -> None:
    """One declaration (and the ones inside it): its bounds, its list options and its default."""
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        c.add("bad-range", f"最小值 min {quote(spec.min)} 大于最大值 max {quote(spec.max)}:没有值能满足", path + ("min",))
    if spec.max_items is not None and spec.kind not in ("list", "mapping"):
        c.add("bad-spec", f"max_items 只用于列表(list)或映射(mapping),这里的类型是 {spec.kind}", path + ("max_items",))
    if spec.unique_by:
        _check_unique_by(c, spec, path)
    if spec.default is not None:
        for at, problem in _value_problems(spec, spec.default, ()):
            where = f"缺省值中 {format_path(at)} " if at else "缺省值 "
            c.add("bad-default", f"{where}{problem}", path + ("default",) + at)
    for part, sub in (("items", spec.items), ("keys", spec.keys)):
        if sub is not None and isinstance(raw.get(part), dict):
            _check_spec(c, sub, raw[part], path + (part,))
    for fname, fspec in spec.fields.items():
        fraw = raw.get("fields", {}).get(fname)
        if isinstance(fraw, dict):
            _check_spec(c, fspec, fraw, path + ("fields", fname))


def _check_unique_by(c: Compilation, spec: ValueSpec, path: PathT) -> None:
    where = path + ("unique_by",)
    items = spec.items
    if spec.kind != "list" or items is None or items.kind != "record":
        c.add("bad-spec", "unique_by 只用于记录的列表(type: list,items 的 type: record)", where)
        return
    for name in spec.unique_by:
        field = items.fields.get(name)
        if field is None:
            c.add("unknown-name", f"unique_by 指向的字段 '{name}' 未在 items 的 fields 中声明", where,
                  did_you_mean(name, items.fields))
        elif field.kind not in _SCALARS:
            c.add("bad-spec", f"unique_by 的字段 '{name}' 应是单个值(文字、数值、日期、是否或可选值),"
                  f"这里的类型是 {field.kind}", where)


def _value_problems(spec: ValueSpec, value: Any, at: PathT) -> Iterator[tuple[PathT, str]]:
    """What is wrong with a value (a default) for a declaration, and where inside the value."""
    kind = spec.kind
    shown = quote(value)
    if kind == "bool":
        if not isinstance(value, bool):
            yield at, f"应是 true 或 false,写的是 {shown}"
    elif kind in ("integer", "decimal"):
        ok = isinstance(value, int if kind == "integer" else (int, Decimal)) and not isinstance(value, bool)
        if not ok:
            yield at, f"应是{'整数' if kind == 'integer' else '数值'},写的是 {shown}"
        elif spec.min is not None and value < spec.min:
            yield at, f"{shown} 小于最小值 {quote(spec.min)}"
        elif spec.max is not None and value > spec.max:
            yield at, f"{shown} 大于最大值 {quote(spec.max)}"
    elif kind == "date":
        if not isinstance(value, dt.date):
            yield at, f"应是日期 YYYY-MM-DD,写的是 {shown}"
    elif kind == "text":
        if not isinstance(value, str):
            yield at, f"应是文字,写的是 {shown}(数字或日期作文字时请加引号)"
        elif spec.max_length is not None and len(value) > spec.max_length:
            yield at, f"超过 {spec.max_length} 个字符"
    elif kind == "enum":
        if not isinstance(value, str) or value not in spec.values:
            yield at, f"{shown} 不在可选值中({'、'.join(spec.values)})"
    elif kind == "list":
        if not isinstance(value, list):
            yield at, f"应是列表,写的是 {shown}"
            return
        if len(value) > spec.item_limit:
            yield at, f"超过 {spec.item_limit} 项"
        if spec.items is not None:
            for i, item in enumerate(value):
                yield from _value_problems(spec.items, item, at + (i,))
    elif kind == "mapping":
        if not isinstance(value, dict):
            yield at, f"应是映射(键: 值),写的是 {shown}"
            return
        for k, item in value.items():
            if spec.keys is not None and spec.keys.kind == "enum" and str(k) not in spec.keys.values:
                yield at + (k,), f"键 {quote(k)} 不在可选值中({'、'.join(spec.keys.values)})"
            if spec.items is not None:
                yield from _value_problems(spec.items, item, at + (k,))
    elif kind == "record":
        if not isinstance(value, dict):
            yield at, f"应是映射(键: 值),写的是 {shown}"
            return
        for k in value:
            if k not in spec.fields:
                yield at + (k,), f"未知的字段 {quote(k)}" + (f"({did_you_mean(k, spec.fields)})"
                                                         if did_you_mean(k, spec.fields) else "")
        for fname, fspec in spec.fields.items():
            if fname not in value:
                if fspec.required:
                    yield at, f"缺少必填字段 '{fname}'"
            elif value[fname] is not None:
                yield from _value_problems(fspec, value[fname], at + (fname,))
            elif fspec.required or fspec.default is not None:
                yield at + (fname,), "不能为空(null)"
