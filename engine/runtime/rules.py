"""Rules and the outcome: which rules fire on these facts, their reasons, and the outcome by precedence.

Rule kinds: ``trigger`` (a condition gives an outcome), ``bands`` (a score falls in a band), ``conditions`` (every
failing part of a condition tree is a reason) and ``each`` (every element of a list is checked; each failing
element is a reason, and the passing ones can be collected under a name). Checklists with an outcome add a reason
per missing required item. Reasons are ordered by the outcomes' precedence (declaration order within a rank);
the outcome is the strongest one, and two different outcomes of the same rank firing together is a pack error
(``outcome-conflict``), never a silent pick.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..compiler.model import Checklist, Condition, Decision, Rule
from ..errors import EvaluationError
from ..lang.expr import describe_value, is_number
from ..values import format_decimal, quote
from .checklists import checklist_rows
from .context import Context, list_of
from .messages import render_message
from .result import Reason

__all__ = ["outcome", "verdicts", "collected", "settle", "part_id", "band_text", "each_reason", "checklist_reason",
           "all_failed", "none_held", "named"]


def outcome(ctx: Context) -> tuple[str, list[Reason]]:
    """The outcome code and every reason, strongest first (computed once per evaluation)."""
    cached: tuple[str, list[Reason]] | None = ctx.memo.get("outcome")
    if cached is None:
        cached = ctx.memo["outcome"] = _decide(ctx)
    return cached


def verdicts(ctx: Context, rule: Rule) -> list[dict[str, Any]]:
    """Every element of an `each` rule, checked once: {index, value, element, passed, failures, frame}."""
    key = "each:" + rule.id
    if key not in ctx.memo:
        ctx.memo[key] = _each_verdicts(ctx, rule) if ctx.test(rule.when) else []
    cached: list[dict[str, Any]] = ctx.memo[key]
    return cached


def collected(ctx: Context, rule: Rule) -> list[Any]:
    """The elements of an `each` rule that pass (the rule's ``collect`` name)."""
    return [v["value"] for v in verdicts(ctx, rule) if v["passed"]]


def _decide(ctx: Context) -> tuple[str, list[Reason]]:
    d = ctx.decision
    reasons: list[Reason] = []
    for rule in d.rules:
        try:
            if not ctx.test(rule.when):
                continue
            reasons.extend(_apply(ctx, rule))
        except EvaluationError as exc:
            raise type(exc)(f"规则 {rule.id}({rule.source}):{exc.message}", code=exc.code,
                            location=rule.location) from None
    for cl in d.checklists.values():
        if cl.outcome is None:
            continue
        for item in checklist_rows(ctx, cl.name):
            if item["required"] and item["provided"] is False:
                reasons.append(checklist_reason(cl, item["id"], item["label"], item["source"]))
    return settle(d, reasons)


def checklist_reason(cl: Checklist, item_id: str, label: str, source: str) -> Reason:
    """The reason for a required item of a checklist with an outcome that was not provided."""
    return Reason(f"{cl.name}.{item_id}", cl.outcome, f"缺少{cl.label}:{label}", source)


def settle(d: Decision, reasons: list[Reason], rank: dict[str, int] | None = None) -> tuple[str, list[Reason]]:
    """Every reason given: ordered by the outcomes' precedence (in place), and the outcome they decide. ``rank``:
    each outcome's rank, when the caller has it already."""
    if len(reasons) == 1 and reasons[0].outcome in d.outcomes:  # one reason: nothing to order, no conflict
        return str(reasons[0].outcome), reasons
    if rank is None:
        rank = {code: o.rank for code, o in d.outcomes.items()}
    reasons.sort(key=lambda r: rank.get(r.outcome or "", 10**6))  # stable: declaration order within a rank
    if not any(r.outcome for r in reasons):  # none, or only findings that decide nothing (each rules without outcome)
        if d.default_outcome is None:
            raise EvaluationError(f"{d.id}:没有任何规则得出结论,且政策包未设 default_outcome", code="no-outcome")
        return d.default_outcome, reasons
    best = rank[reasons[0].outcome or ""]
    top = {r.outcome for r in reasons if r.outcome and rank.get(r.outcome) == best}
    if len(top) > 1:
        raise EvaluationError(
            "同一优先级的结论同时成立:" + "、".join(sorted(str(t) for t in top))
            + "(政策包的规则应互斥)", code="outcome-conflict")
    return str(reasons[0].outcome), reasons


def _outcome_of(ctx: Context, rule: Rule) -> str | None:
    if rule.outcome_expr is None:
        return rule.outcome
    code = ctx.run(rule.outcome_expr)
    if not isinstance(code, str) or code not in ctx.decision.outcomes:
        raise EvaluationError(f"outcome 表达式得出 {quote(code)},不是已声明的结论", code="unknown-outcome")
    return code


def _apply(ctx: Context, rule: Rule) -> list[Reason]:
    if rule.kind == "trigger":
        return [Reason(rule.id, _outcome_of(ctx, rule), render_message(ctx, rule.message), rule.source)]
    if rule.kind == "bands":
        assert rule.score is not None
        score = ctx.run(rule.score)
        if score is None:
            return []
        if score.__class__ is not Decimal and not is_number(score):
            raise EvaluationError(f"分数 `{rule.score.text}` 应得出数值,实际得出 {describe_value(score)}",
                                  code="expression-failed")
        for band in rule.bands:
            if (band.min is None or score >= band.min) and (band.below is None or score < band.below):
                text = render_message(ctx, band.message) if band.message else band_text(score, band.min, band.below)
                return [Reason(rule.id, band.outcome, text, rule.source)]
        raise EvaluationError(f"分数 {format_decimal(Decimal(score))} 不在任何分数段内", code="band-uncovered")
    if rule.kind == "conditions":
        assert rule.require is not None
        failures = _failures(ctx, rule.require)
        if not failures:
            return []
        code = _outcome_of(ctx, rule)
        return [Reason(part_id(rule.id, cond), code, msg, cond.source or rule.source) for cond, msg in failures]
    if rule.kind == "each":
        out = []
        for v in verdicts(ctx, rule):
            if v["passed"]:
                continue
            with ctx.with_frame(v["frame"]):
                code = _outcome_of(ctx, rule)
            for cond, msg in v["failures"]:
                out.append(each_reason(rule, v["index"], v["element"], cond, msg, code))
        return out
    raise EvaluationError(f"未知的规则类型 {rule.kind}")


def _each_verdicts(ctx: Context, rule: Rule) -> list[dict[str, Any]]:
    assert rule.over is not None and rule.require is not None
    out = []
    for index, element in enumerate(list_of(ctx, rule.over)):
        with ctx.with_frame({rule.as_name: element}) as frame:
            for name, expr in rule.let:
                frame[name] = ctx.run(expr)
            if rule.where is not None and not ctx.test(rule.where):
                continue
            failures = _failures(ctx, rule.require)
            out.append({"index": index, "value": element, "element": render_message(ctx, rule.element_name),
                        "passed": not failures, "failures": failures, "frame": dict(frame)})
    return out


def each_reason(rule: Rule, index: int, element: str, cond: Condition, msg: str, code: str | None) -> Reason:
    """The reason for one failing part of one element of an `each` rule."""
    rid = f"{rule.id}[{index}]" + (f".{cond.id}" if cond.id else "")
    return Reason(rid, code, named(element, msg), cond.source or rule.source, element=element)


def part_id(rule_id: str, cond: Condition) -> str:
    return f"{rule_id}.{cond.id}" if cond.id else rule_id


def named(name: str, msg: str) -> str:
    """A message about one element of a list, with the element's name before it."""
    return f"{name}：{msg}"


def all_failed(message: str, failures: list[tuple[Condition, str]]) -> str:
    """An `all` with its own message: that message, then every failing part's."""
    return message + ":" + ";".join(m for _, m in failures)


def none_held(failures: list[tuple[Condition, str]]) -> str:
    """An `any` without its own message: every alternative's failure."""
    return "以下条件均不满足:" + ";".join(m for _, m in failures)


def band_text(score: Any, lo: Decimal | None, hi: Decimal | None) -> str:
    s = format_decimal(Decimal(score))
    if lo is not None and hi is not None:
        return f"得分 {s},在 {format_decimal(lo)} 分(含)至 {format_decimal(hi)} 分(不含)之间"
    if lo is not None:
        return f"得分 {s},不低于 {format_decimal(lo)} 分"
    if hi is not None:
        return f"得分 {s},低于 {format_decimal(hi)} 分"
    return f"得分 {s}"


def _failures(ctx: Context, cond: Condition) -> list[tuple[Condition, str]]:
    """The failing parts of a condition tree (empty when it holds)."""
    if cond.op == "check":
        assert cond.check is not None
        return [] if ctx.test(cond.check) else [(cond, render_message(ctx, cond.message))]
    if cond.op == "all":
        out: list[tuple[Condition, str]] = []
        for ch in cond.children:
            out.extend(_failures(ctx, ch))
        if out and cond.message:
            return [(cond, all_failed(render_message(ctx, cond.message), out))]
        return out
    if cond.op == "any":
        collected_: list[tuple[Condition, str]] = []
        for ch in cond.children:
            f = _failures(ctx, ch)
            if not f:
                return []
            collected_.extend(f)
        if cond.message:
            return [(cond, render_message(ctx, cond.message))]
        return [(cond, none_held(collected_))]
    if cond.op == "not":
        inner = _failures(ctx, cond.children[0])
        return [(cond, render_message(ctx, cond.message))] if not inner else []
    if cond.op == "each":
        assert cond.over is not None
        found: list[tuple[Condition, str]] = []
        for element in list_of(ctx, cond.over):
            with ctx.with_frame({cond.as_name: element}):
                if cond.where is not None and not ctx.test(cond.where):
                    continue
                inner = _failures(ctx, cond.children[0])
                if not inner:
                    continue
                name = render_message(ctx, cond.element_name)
                if cond.message:
                    found.append((cond, named(name, render_message(ctx, cond.message))))
                else:
                    found.extend((c, named(name, m)) for c, m in inner)
        return found
    raise EvaluationError(f"未知的条件 {cond.op}")
