"""Stage 5: the checks that need the whole decision compiled — names declared once and not reserved, outcomes
declared, ranked and reachable, scorecard sums, bands without gaps or overlaps, unique ids.

Checks only: nothing here changes the decision.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import did_you_mean
from ..source.loader import PathT
from ..values import format_decimal
from .compilation import RESERVED_NAMES, RESULT_KEYS, Compilation, DecisionDraft
from .model import Condition, Rule, Scorecard, ScoreNode

__all__ = ["stage_consistency"]


def stage_consistency(c: Compilation) -> None:
    for d in c.drafts.values():
        for check in (_check_names, _check_outcomes, _check_scorecards, _check_bands, _check_ids):
            with c.part():
                check(c, d, d.raw, d.base)


def _check_names(c: Compilation, d: DecisionDraft, raw: dict[str, Any], base: PathT) -> None:
    seen: dict[str, str] = {}
    for section in ("inputs", "parameters", "derived", "deadlines", "scorecards"):
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
