"""Evaluation: a compiled decision + checked facts + an as-of date → a :class:`DecisionResult`. No I/O.

Names are computed on demand and remembered (derived values, deadlines, scorecards, the outcome), so
each expression runs at most once per evaluation and only if something needs it. The compiler has
already proven there are no cycles.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

from ..compiler.model import Condition, Decision, Rule, Scorecard, ScoreNode, Table
from ..errors import CalendarError, EvaluationError, OutOfPeriodError
from ..lang.calendar import HolidayCalendar
from ..lang.environment import builtin_environment
from ..lang.expr import CompiledExpr, FunctionSpec, make_evaluator
from ..lang.functions import add_days, add_months, add_years
from ..values import display_value, format_decimal
from .result import DecisionResult, ItemScore, Reason

__all__ = ["evaluate_checked", "check_period"]

_MISSING = object()
_REFERENCE = os.environ.get("SKILLCERT_REFERENCE_EVALUATOR", "") not in ("", "0")


class _Unavailable:
    """A value that could not be computed (e.g. a deadline in an unknown calendar year)."""

    def __init__(self, error: EvaluationError) -> None:
        self.error = error


class _Values(dict):  # type: ignore[type-arg]
    """Name → value for one evaluation; a miss computes the name (derived value, deadline, score, outcome).

    Compiled expressions index it directly (``_v['name']``), so a value already known costs one dict lookup.
    A value that could not be computed is never stored: every use raises its error again.
    """

    __slots__ = ("ctx", "unavailable")

    def __init__(self, ctx: Context, initial: dict[str, Any]) -> None:
        super().__init__(initial)
        self.ctx = ctx
        self.unavailable: dict[str, EvaluationError] = {}

    def __missing__(self, name: str) -> Any:
        if name in self.unavailable:
            raise self.unavailable[name]
        value = self.ctx._compute(name)
        if value.__class__ is _Unavailable:
            self.unavailable[name] = value.error
            raise value.error
        self[name] = value
        return value


class Context:
    """One evaluation: facts, memoised computed names, the calendar and the evaluator."""

    def __init__(self, decision: Decision, facts: dict[str, Any], as_of: dt.date, calendar: HolidayCalendar,
                 functions: dict[str, FunctionSpec], explain: bool, reference: bool = False,
                 detail: bool = True) -> None:
        self.decision = decision
        self.facts = facts
        self.as_of = as_of
        self.calendar = calendar
        # facts and parameters are looked up directly; derived values, deadlines and scores are added as computed
        self.values: dict[str, Any] = _Values(self, {**decision.parameter_values, **facts, "as_of": as_of})
        self.locals: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.explain = explain
        self.trace: list[dict[str, Any]] = []
        self.functions = functions
        self._evaluator: Any = None
        # The reference evaluator (simpleeval walking each tree) instead of the compiled bytecode: same results,
        # slower; SKILLCERT_REFERENCE_EVALUATOR=1 selects it, and the tests run every pack case both ways.
        self.reference = reference
        self.detail = detail
        self.in_progress: set[str] = set()
        self._outcome: tuple[str, list[Reason]] | None = None

    @property
    def evaluator(self) -> Any:
        if self._evaluator is None:
            self._evaluator = make_evaluator(self, self.functions)
        return self._evaluator

    # ---- names
    def lookup(self, name: str) -> Any:
        if self.locals:
            for frame in reversed(self.locals):
                if name in frame:
                    return frame[name]
        return self.values[name]  # computed on a miss (see _Values)

    def lookup_safe(self, name: str) -> Any:
        try:
            return self.lookup(name)
        except EvaluationError:
            return None

    def _compute(self, name: str) -> Any:
        d = self.decision
        if name in self.facts:
            return self.facts[name]
        if name in d.parameters:
            return d.parameters[name].value
        if name in self.in_progress:  # the compiler rejects cycles; this guards plugins and hand-built packs
            raise EvaluationError(f"循环依赖:{name}", code="cycle")
        self.in_progress.add(name)
        try:
            if name in d.derived:
                value = self.run(d.derived[name].expr)
                if self.explain:
                    dv = d.derived[name]
                    step = {"name": name, "label": dv.label, "expr": dv.expr.text, "value": value}
                    if isinstance(value, str) and value in dv.values:
                        step["value_label"] = dv.values[value]
                    self.trace.append(step)
                return value
            if name in d.deadlines:
                return self._deadline(name)
            if name in d.scorecards:
                return self.card_total(name)
            if name == "outcome":
                return self.outcome()[0]
            for rule in d.rules:
                if rule.collect == name:
                    return [v["value"] for v in self.verdicts(rule) if v["passed"]]
        finally:
            self.in_progress.discard(name)
        raise EvaluationError(f"未知的名字 '{name}'", code="unknown-name")

    def run(self, expr: CompiledExpr) -> Any:
        return expr.evaluate(self)

    def test(self, expr: CompiledExpr | None) -> bool:
        if expr is None:
            return True
        value = self.run(expr)
        if value is None:
            return False
        return bool(value)

    # ---- deadlines
    def _deadline(self, name: str) -> Any:
        dl = self.decision.deadlines[name]
        try:
            if not self.test(dl.when):
                return None
            amount = 0
            if dl.date is not None:
                value = self.run(dl.date)
            else:
                assert dl.start is not None
                start = self.run(dl.start)
                if start is None:
                    return None
                amount = int(self.run(dl.amount)) if dl.amount is not None else 0
                value = _shift(self, start, dl.unit, amount)
        except CalendarError as exc:
            self.warnings.append(f"期限 {dl.label}({name})无法计算:{exc.message}")
            return _Unavailable(exc)
        if self.explain:
            if dl.date is not None:
                how = dl.date.text
            else:
                assert dl.start is not None
                how = dl.start.text
                if dl.unit and dl.amount is not None:
                    how += f" {'+' if amount >= 0 else '−'} {abs(amount)} {_UNIT_TEXT[dl.unit]}"
                    if dl.amount.names:
                        how += f"(天数 ← {dl.amount.text})"
            self.trace.append({"name": name, "label": dl.label, "expr": how, "value": value})
        return value

    # ---- scorecards
    def card_total(self, name: str) -> Decimal | None:
        """A scorecard's total (None when its `when` does not hold); leaves are scored once, flat."""
        key = "#total:" + name
        if key not in self.values:
            card = self.decision.scorecards[name]
            if not self.test(card.when):
                self.values[key] = None
            else:
                self.values[key] = sum(self._leaf_scores(card).values(), Decimal(0))
        total: Decimal | None = self.values[key]
        return total

    def _leaf_scores(self, card: Scorecard) -> dict[str, Decimal]:
        """Every leaf's score: the card's compiled function when there is one, else line by line."""
        key = "#scores:" + card.name
        cached: dict[str, Decimal] | None = self.values.get(key)
        if cached is None:
            scores = None
            # with the item-by-item detail wanted, the line-by-line scoring below gives both: don't score twice
            if card.fast is not None and not self.reference and not self.detail:
                try:
                    scores = card.fast(self)
                except (EvaluationError, TypeError, AttributeError, ArithmeticError, ValueError, KeyError):
                    scores = None  # the line-by-line path below says precisely which expression failed
            if scores is not None:
                ids = [leaf.id for leaves in card.category_leaves.values() for leaf in leaves]
                cached = dict(zip(ids, scores, strict=True))
            else:
                cached = {leaf_id: score for leaf_id, (score, _) in self._leaves(card).items()}
            self.values[key] = cached
        return cached

    def _leaves(self, card: Scorecard) -> dict[str, tuple[Decimal, list[dict[str, Any]]]]:
        key = "#leaves:" + card.name
        cached = self.values.get(key)
        if cached is None:
            cached = {leaf.id: self._score_leaf(leaf) for leaves in card.category_leaves.values() for leaf in leaves}
            self.values[key] = cached
        return cached

    def _score_leaf(self, node: ScoreNode) -> tuple[Decimal, list[dict[str, Any]]]:
        lines = []
        total = Decimal(0)
        for line in node.lines:
            if line.when is not None and not self.test(line.when):
                continue
            if line.per is not None:
                assert line.count is not None
                count = self.run(line.count) or 0
                if count <= 0:
                    continue
                points = line.per * count
                lines.append({"label": line.label, "count": count, "per": line.per, "points": points})
            else:
                assert line.points is not None
                points = line.points
                lines.append({"label": line.label, "points": points})
            total += points
        if node.bonus:
            return min(node.max, total), lines
        return max(Decimal(0), node.max - total), lines  # 扣完为止: never below zero, never into another item

    def scorecard(self, name: str) -> ItemScore | None:
        """The scorecard item by item, for the result and the report (built from the scored leaves)."""
        if self.card_total(name) is None:
            return None
        card = self.decision.scorecards[name]
        leaves = self._leaves(card)

        def build(node: ScoreNode) -> ItemScore:
            if node.children:
                items = [build(ch) for ch in node.children]
                return ItemScore(node.id, node.label, node.max, sum((i.score for i in items), Decimal(0)),
                                 node.source, node.bonus, items=items)
            score, lines = leaves[node.id]
            return ItemScore(node.id, node.label, node.max, score, node.source, node.bonus, lines=lines)

        categories = [build(n) for n in card.categories]
        return ItemScore(card.name, card.label, card.max, sum((c.score for c in categories), Decimal(0)),
                         card.source, items=categories)

    def category_totals(self, name: str) -> dict[str, Decimal | None]:
        card = self.decision.scorecards[name]
        if self.card_total(name) is None:
            return {node.id: None for node in card.categories}
        scores = self._leaf_scores(card)
        return {cid: sum((scores[leaf.id] for leaf in cl), Decimal(0)) for cid, cl in card.category_leaves.items()}

    # ---- rules and the outcome
    def outcome(self) -> tuple[str, list[Reason]]:
        if self._outcome is None:
            self._outcome = _decide(self)
        return self._outcome

    def message(self, template: str) -> str:
        return _render_template(self, template)

    def verdicts(self, rule: Rule) -> list[dict[str, Any]]:
        """Every element of an `each` rule, checked once: {index, value, element, passed, failures}."""
        key = "#each:" + rule.id
        if key not in self.values:
            self.values[key] = _each_verdicts(self, rule) if self.test(rule.when) else []
        cached: list[dict[str, Any]] = self.values[key]
        return cached


_UNIT_TEXT = {"days": "个自然日", "working_days": "个工作日", "months": "个月", "years": "年"}


def _shift(ctx: Context, start: dt.date, unit: str | None, amount: int) -> dt.date:
    if unit is None:
        return start
    if unit == "days":
        return add_days(start, amount)
    if unit == "working_days":
        return ctx.calendar.add_working_days(start, amount)
    if unit == "months":
        return add_months(start, amount)
    if unit == "years":
        return add_years(start, amount)
    raise EvaluationError(f"未知的期限单位 {unit}")


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
        for item in _checklist_rows(ctx, cl.name):
            if item["required"] and item["provided"] is False:
                reasons.append(Reason(f"{cl.name}.{item['id']}", cl.outcome, f"缺少{cl.label}:{item['label']}",
                                      item["source"]))
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
    if code not in ctx.decision.outcomes:
        raise EvaluationError(f"outcome 表达式得出 {code!r},不是已声明的结论", code="unknown-outcome")
    return str(code)


def _apply(ctx: Context, rule: Rule) -> list[Reason]:
    if rule.kind == "trigger":
        return [Reason(rule.id, _outcome_of(ctx, rule), ctx.message(rule.message), rule.source)]
    if rule.kind == "bands":
        assert rule.score is not None
        score = ctx.run(rule.score)
        if score is None:
            return []
        for band in rule.bands:
            if (band.min is None or score >= band.min) and (band.below is None or score < band.below):
                text = ctx.message(band.message) if band.message else _band_text(score, band.min, band.below)
                return [Reason(rule.id, band.outcome, text, rule.source)]
        raise EvaluationError(f"分数 {format_decimal(Decimal(score))} 不在任何分数段内", code="band-uncovered")
    if rule.kind == "conditions":
        assert rule.require is not None
        failures = _failures(ctx, rule.require)
        if not failures:
            return []
        outcome = _outcome_of(ctx, rule)
        return [Reason(_part_id(rule.id, cond), outcome, msg, cond.source or rule.source)
                for cond, msg in failures]
    if rule.kind == "each":
        out = []
        for v in ctx.verdicts(rule):
            if v["passed"]:
                continue
            ctx.locals.append(v["frame"])
            try:
                outcome = _outcome_of(ctx, rule)
            finally:
                ctx.locals.pop()
            for cond, msg in v["failures"]:
                rid = f"{rule.id}[{v['index']}]" + (f".{cond.id}" if cond.id else "")
                out.append(Reason(rid, outcome, f"{v['element']}：{msg}", cond.source or rule.source,
                                  element=v["element"]))
        return out
    raise EvaluationError(f"未知的规则类型 {rule.kind}")


def _each_verdicts(ctx: Context, rule: Rule) -> list[dict[str, Any]]:
    assert rule.over is not None and rule.require is not None
    out = []
    for index, element in enumerate(ctx.run(rule.over) or []):
        frame = {rule.as_name: element}
        ctx.locals.append(frame)
        try:
            for name, expr in rule.let:
                frame[name] = ctx.run(expr)
            if rule.where is not None and not ctx.test(rule.where):
                continue
            failures = _failures(ctx, rule.require)
            out.append({"index": index, "value": element, "element": ctx.message(rule.element_name),
                        "passed": not failures, "failures": failures, "frame": dict(frame)})
        finally:
            ctx.locals.pop()
    return out


def _part_id(rule_id: str, cond: Condition) -> str:
    return f"{rule_id}.{cond.id}" if cond.id else rule_id


def _band_text(score: Any, lo: Decimal | None, hi: Decimal | None) -> str:
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
        return [] if ctx.test(cond.check) else [(cond, ctx.message(cond.message))]
    if cond.op == "all":
        out: list[tuple[Condition, str]] = []
        for ch in cond.children:
            out.extend(_failures(ctx, ch))
        if out and cond.message:
            return [(cond, ctx.message(cond.message) + ":" + ";".join(m for _, m in out))]
        return out
    if cond.op == "any":
        collected: list[tuple[Condition, str]] = []
        for ch in cond.children:
            f = _failures(ctx, ch)
            if not f:
                return []
            collected.extend(f)
        if cond.message:
            return [(cond, ctx.message(cond.message))]
        return [(cond, "以下条件均不满足:" + ";".join(m for _, m in collected))]
    if cond.op == "not":
        inner = _failures(ctx, cond.children[0])
        return [(cond, ctx.message(cond.message))] if not inner else []
    if cond.op == "each":
        assert cond.over is not None
        found: list[tuple[Condition, str]] = []
        for element in ctx.run(cond.over) or []:
            ctx.locals.append({cond.as_name: element})
            try:
                if cond.where is not None and not ctx.test(cond.where):
                    continue
                inner = _failures(ctx, cond.children[0])
                if not inner:
                    continue
                name = ctx.message(cond.element_name)
                if cond.message:
                    found.append((cond, f"{name}：{ctx.message(cond.message)}"))
                else:
                    found.extend((c, f"{name}：{m}") for c, m in inner)
            finally:
                ctx.locals.pop()
        return found
    raise EvaluationError(f"未知的条件 {cond.op}")


def _render_template(ctx: Context, template: str) -> str:
    import re

    def value_of(ref: str) -> str:
        parts = ref.split(".")
        value = ctx.lookup(parts[0])
        t = _type_of_name(ctx, parts[0])
        for p in parts[1:]:
            value = value.get(p) if isinstance(value, dict) else None
            t = t.field(p) if t is not None and t.kind == "record" else None
        return display_value(value, t, empty="(空)")

    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}", lambda m: value_of(m.group(1)),
                  template)


def _type_of_name(ctx: Context, name: str) -> Any:
    d = ctx.decision
    if name in d.inputs:
        return d.inputs[name].type
    if name in d.derived:
        return d.derived[name].expr.type
    for rule in d.rules:
        if rule.kind == "each" and name in rule.local_types:
            return rule.local_types[name]
    return None


def _checklist_rows(ctx: Context, name: str) -> list[dict[str, Any]]:
    key = "#checklist:" + name
    if key in ctx.values:
        rows: list[dict[str, Any]] = ctx.values[key]
        return rows
    cl = ctx.decision.checklists[name]
    applies = ctx.test(cl.when)
    provided = ctx.run(cl.provided) if cl.provided is not None and applies else None
    rows = []
    for item in cl.items:
        required = ctx.test(item.required_when)
        row: dict[str, Any] = {"id": item.id, "label": item.label, "required": required, "source": item.source}
        if provided is not None:
            row["provided"] = item.id in provided
        else:
            row["provided"] = None
        rows.append(row)
    ctx.values[key] = rows
    return rows


def check_period(decision: Decision, as_of: dt.date, allow: bool) -> list[str]:
    """Refuse an as-of date outside the decision's period of validity, or warn when allowed."""
    start, end = decision.valid_from, decision.valid_until
    inside = as_of >= start and (end is None or as_of <= end)
    if inside:
        return []
    period = f"{start} 至 {end}" if end else f"{start} 起"
    message = f"评估日 {as_of} 不在 {decision.id} 的有效期({period})内"
    if not allow:
        raise OutOfPeriodError(message + ";如确需按此规则评估,请加 --allow-out-of-period")
    return [message + ",按调用方要求仍然评估,结论仅供参考"]


def evaluate_checked(decision: Decision, facts: dict[str, Any], as_of: dt.date, *,
                     calendar: HolidayCalendar | None = None, allow_out_of_period: bool = False,
                     explain: bool = False, functions: dict[str, FunctionSpec] | None = None,
                     reference: bool = False, detail: bool = True) -> DecisionResult:
    """Evaluate facts that :func:`engine.facts.validate_facts` has already checked."""
    warnings = check_period(decision, as_of, allow_out_of_period)
    pack = decision.pack
    assert pack is not None
    cal = calendar or pack.calendar
    fns = functions if functions is not None else dict(builtin_environment().functions)
    ctx = Context(decision, facts, as_of, cal, fns, explain, reference=_REFERENCE or reference, detail=detail)
    ctx.warnings.extend(warnings)
    try:
        return _assemble(ctx, detail)
    except EvaluationError:
        raise
    except RecursionError:
        raise EvaluationError("计算嵌套过深", code="evaluation-error") from None


def _assemble(ctx: Context, detail: bool = True) -> DecisionResult:
    d = ctx.decision
    outcome, reasons = ctx.outcome()
    deadlines: dict[str, dt.date | None] = {}
    for name in d.deadlines:
        deadlines[name] = _safe(ctx, name)
    total = ctx.card_total(d.primary_score) if d.primary_score else None
    scores: dict[str, Decimal | None] = ctx.category_totals(d.primary_score) if d.primary_score else {}
    card_detail = None
    if detail and d.primary_score and total is not None:
        card = d.scorecards[d.primary_score]
        primary = ctx.scorecard(d.primary_score)
        assert primary is not None
        card_detail = {"id": card.name, "label": card.label, "max": card.max, "total": total,
                       "categories": primary.items}
    checklists: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    reported: dict[str, Any] = {}
    labels: dict[str, Any] = {}
    if detail:  # batch work needs outcome, score, deadlines and reasons only
        for name, cl in d.checklists.items():
            checklists[name] = {"label": cl.label, "source": cl.source, "items": _checklist_rows(ctx, name)}
        tables = {name: _table(ctx, table) for name, table in d.tables.items()}
        checks = {
            rule.id: [{"element": v["element"], "passed": v["passed"], "reasons": [m for _, m in v["failures"]]}
                      for v in ctx.verdicts(rule)]
            for rule in d.rules if rule.kind == "each" and rule.collect
        }
        for name in d.report:
            try:
                reported[name] = ctx.lookup(name)
            except EvaluationError as exc:
                ctx.warnings.append(f"{name} 无法计算:{exc.message}")
                reported[name] = None
        labels = {
            "outcome": d.outcomes[outcome].label,
            "deadlines": {n: dl.label for n, dl in d.deadlines.items()},
            "reported": {n: _label_of(d, n) for n in d.report},
            "codes": {n: _codes(d, n) for n in d.report},
        }
    explain = None
    if ctx.explain:
        for name in d.derived:
            ctx.lookup_safe(name)
        explain = sorted(ctx.trace, key=lambda t: _order_index(d, t["name"]))
    return DecisionResult(
        decision=d.id, title=d.title, pack_version=d.pack.version if d.pack else "",
        pack_digest=d.pack.digest if d.pack else "", as_of=ctx.as_of, outcome=outcome,
        outcome_label=d.outcomes[outcome].label, score=total,
        scores=scores, deadlines=deadlines, reasons=reasons, warnings=list(dict.fromkeys(ctx.warnings)),
        scorecard=card_detail, checklists=checklists, tables=tables, checks=checks, reported=reported,
        explain=explain, labels=labels,
        period=(d.valid_from, d.valid_until),
    )


def _table(ctx: Context, table: Table) -> dict[str, Any]:
    """Rows by column expressions (later columns may use earlier ones), and the total row."""
    assert table.rows is not None
    rows: list[dict[str, Any]] = []
    try:
        for element in ctx.run(table.rows) or []:
            frame: dict[str, Any] = {table.as_name: element}
            ctx.locals.append(frame)
            try:
                row = {}
                for col in table.columns:
                    value = ctx.run(col.expr) if col.expr is not None else None
                    row[col.id] = frame[col.id] = value
                rows.append(row)
            finally:
                ctx.locals.pop()
        total: dict[str, Any] = {}
        ctx.locals.append(total)
        try:
            for col in table.columns:
                if col.total == "sum":  # empty cells are skipped; a sum over no rows is 0
                    present = [r[col.id] for r in rows if r[col.id] is not None]
                    summed = sum(present, Decimal(0))
                    total[col.id] = int(summed) if all(isinstance(v, int) for v in present) else summed
                elif isinstance(col.total, CompiledExpr):
                    total[col.id] = ctx.run(col.total)
                else:
                    total[col.id] = None
        finally:
            ctx.locals.pop()
    except EvaluationError as exc:
        raise type(exc)(f"表格 {table.name}({table.label}):{exc.message}", code=exc.code,
                        location=table.location) from None
    return {"label": table.label, "source": table.source,
            "columns": [{"id": c.id, "label": c.label} for c in table.columns], "rows": rows, "total": total}


def _label_of(d: Decision, name: str) -> str:
    for table in (d.derived, d.inputs, d.parameters, d.deadlines):
        if name in table:
            return str(table[name].label)
    return name


def _codes(d: Decision, name: str) -> dict[str, str]:
    if name in d.derived:
        return dict(d.derived[name].values)
    if name in d.inputs and d.inputs[name].type.kind == "enum":
        return dict(d.inputs[name].type.labels)
    return {}


def _order_index(d: Decision, name: str) -> int:
    try:
        return d.order.index(name)
    except ValueError:
        return len(d.order)


def _safe(ctx: Context, name: str) -> Any:
    try:
        return ctx.lookup(name)
    except CalendarError:
        return None

