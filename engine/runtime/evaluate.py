"""Evaluation: a compiled decision + checked facts + an as-of date → a :class:`DecisionResult`. No I/O.

:func:`evaluate_checked` refuses a date outside the decision's period of validity (or warns when allowed), makes
the evaluation's :class:`~.context.Context` with :func:`compute` as its resolver, decides the outcome and
assembles the result: outcome and reasons (:mod:`.rules`), deadlines (:mod:`.deadlines`), scores
(:mod:`.scoring`) and, unless only the summary is wanted (batch work), the item-by-item scorecard, checklists,
tables, per-element checks, reported values and the labels the text report needs.

A decision evaluated often takes its generated function instead (:mod:`.fastpath`: the whole decision as one
Python function, same results); whatever that function does not decide plainly comes back here, to the
interpreter, which evaluates from the start.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import weakref
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ..compiler.model import Decision, Rule
from ..errors import CalendarError, EvaluationError, OutOfPeriodError
from ..lang.calendar import HolidayCalendar
from ..lang.environment import builtin_environment
from ..lang.expr import DateOutOfRange, FunctionSpec, UnknownValue
from . import fastpath, rules, scoring
from .checklists import checklist_rows
from .context import BudgetExceeded, Context
from .deadlines import compute_deadline
from .result import DecisionResult
from .tables import compute_table
from .tracer import Tracer

__all__ = ["evaluate_checked", "check_period", "compute"]

_REFERENCE = os.environ.get("SKILLCERT_REFERENCE_EVALUATOR", "") not in ("", "0")


def compute(ctx: Context, name: str) -> Any:
    """The resolver of an evaluation: what a name that is not a fact or parameter means, computed on first use."""
    return _resolver_for(ctx.decision)(ctx, name)


_Computer = Callable[[Context, str], Any]
_RESOLVERS: weakref.WeakKeyDictionary[Decision, _Computer] = weakref.WeakKeyDictionary()


def _resolver_for(d: Decision) -> _Computer:
    """The decision's resolver: one table name → what computes it, built once per decision (beside it, not on the
    frozen model). A derived value first, then a deadline, a scorecard, the outcome, a rule's collected elements
    (the first rule collecting the name), as :func:`compute` always looked them up."""
    resolver = _RESOLVERS.get(d)
    if resolver is None:
        table: dict[str, _Computer] = {}
        for rule in reversed(d.rules):  # the first rule collecting a name wins
            if rule.collect:
                table[rule.collect] = functools.partial(_collected, rule)
        table["outcome"] = _outcome
        for name in d.scorecards:
            table[name] = scoring.card_total
        for name in d.deadlines:
            table[name] = compute_deadline
        for name in d.derived:
            table[name] = _derived
        get = table.get

        def resolver(ctx: Context, name: str) -> Any:
            computer = get(name)
            if computer is None:
                raise EvaluationError(f"未知的名字 '{name}'", code="unknown-name")
            return computer(ctx, name)

        _RESOLVERS[d] = resolver
    return resolver


def _derived(ctx: Context, name: str) -> Any:
    dv = ctx.decision.derived[name]
    value = ctx.run(dv.expr)
    if ctx.tracer is not None:
        label = dv.values.get(value) if isinstance(value, str) else None
        ctx.tracer.record(name, dv.label, dv.expr.text, _shown(value), label)
    return value


def _outcome(ctx: Context, name: str) -> Any:
    return rules.outcome(ctx)[0]


def _collected(rule: Rule, ctx: Context, name: str) -> Any:
    return rules.collected(ctx, rule)


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
                     explain: bool = False, functions: Mapping[str, FunctionSpec] | None = None,
                     reference: bool = False, detail: bool = True) -> DecisionResult:
    """Evaluate facts that :func:`skillcert.runtime.facts.validate_facts` has already checked."""
    warnings = check_period(decision, as_of, allow_out_of_period)
    pack = decision.pack
    assert pack is not None
    if not explain and fastpath.ENABLED and not (_REFERENCE or reference):
        result = _generated(decision, facts, as_of, calendar or pack.calendar, warnings,
                            functions if functions is not None else builtin_environment().functions, detail)
        if result is not None:
            return result
    ctx = Context(decision, facts, as_of, calendar or pack.calendar,
                  functions if functions is not None else builtin_environment().functions, _resolver_for(decision),
                  reference=_REFERENCE or reference, detail=detail, tracer=Tracer() if explain else None)
    ctx.warnings.extend(warnings)
    try:
        result = _assemble(ctx, detail)
    except EvaluationError as exc:
        if ctx.exhausted is not None and exc.code != BudgetExceeded.code:  # the budget, not an error it caused
            raise ctx.exhausted from None
        raise
    except RecursionError:
        raise EvaluationError("计算嵌套过深", code="evaluation-error") from None
    if ctx.exhausted is not None:  # ran out where an error is only a warning (a reported value): still a runaway
        raise ctx.exhausted
    return result


def _generated(decision: Decision, facts: dict[str, Any], as_of: dt.date, calendar: HolidayCalendar,
               warnings: list[str], functions: Mapping[str, FunctionSpec], detail: bool) -> DecisionResult | None:
    """The result from the decision's generated function (:mod:`.fastpath`), or None: not generated yet, or
    something unusual that the interpreter must decide (then it evaluates from the start: today's result or error).

    With the item-by-item detail, the function gives the outcome, reasons, deadlines and the primary scorecard
    item by item, and the interpreter assembles the rest (checklists, tables, per-element checks, reported values) over
    a context that already holds them."""
    fn = fastpath.decide(decision, functions, detail)
    if fn is None:
        return None
    try:
        code, reasons, deadlines, total, scores, items, computed = fn(facts, as_of, calendar)
    except Exception:  # noqa: BLE001 - anything unusual: the interpreter gives today's result or error
        return None
    if not detail:
        pack = decision.pack
        assert pack is not None
        # positional (half the cost of keywords on the batch path): the order _RESULT_FIELDS checks
        return DecisionResult(decision.id, decision.title, pack.version, pack.digest, as_of, code,
                              decision.outcomes[code].label, total, scores, deadlines, reasons,
                              list(dict.fromkeys(warnings)), None, {}, {}, {}, {}, None, {},
                              (decision.valid_from, decision.valid_until))
    ctx = Context(decision, facts, as_of, calendar, functions, _resolver_for(decision), detail=True)
    ctx.warnings.extend(warnings)
    ctx.memo["outcome"] = (code, reasons)
    ctx.values.update(deadlines)  # every deadline known (the function gives dates or nothing, never a warning)
    values, elements, checklists = computed
    ctx.values.update(values)
    for rule_id, found in elements.items():  # as rules.verdicts gives them (the frames only served the outcome)
        ctx.memo["each:" + rule_id] = [{"index": i, "value": v, "element": name, "passed": not failures,
                                        "failures": failures} for i, v, name, failures, _ in found]
    for name, rows in checklists.items():
        ctx.memo["checklist:" + name] = rows
    primary = decision.primary_score
    if primary:
        ctx.memo["total:" + primary] = total
        if total is not None:
            ctx.memo["totals:" + primary] = (total, dict(scores))
            ctx.memo["items:" + primary] = items
    try:
        result = _assemble(ctx, detail)
    except Exception:  # noqa: BLE001 - the interpreter from the start says exactly what failed, and where
        return None
    return None if ctx.exhausted is not None else result


_RESULT_FIELDS = ("decision", "title", "pack_version", "pack_digest", "as_of", "outcome", "outcome_label", "score",
                  "scores", "deadlines", "reasons", "warnings", "scorecard", "checklists", "tables", "checks",
                  "reported", "explain", "labels", "period")
# the batch path builds results positionally: a field added or moved must be added here, and there
assert tuple(f.name for f in dataclasses.fields(DecisionResult)) == _RESULT_FIELDS, "DecisionResult's fields moved"


def _assemble(ctx: Context, detail: bool = True) -> DecisionResult:
    d = ctx.decision
    code, reasons = rules.outcome(ctx)
    deadlines: dict[str, dt.date | None] = {name: _safe(ctx, name) for name in d.deadlines}
    total = scoring.card_total(ctx, d.primary_score) if d.primary_score else None
    scores: dict[str, Decimal | None] = scoring.category_totals(ctx, d.primary_score) if d.primary_score else {}
    card_detail = None
    if detail and d.primary_score and total is not None:
        card = d.scorecards[d.primary_score]
        primary = scoring.item_scores(ctx, d.primary_score)
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
            checklists[name] = {"label": cl.label, "source": cl.source, "items": checklist_rows(ctx, name)}
        tables = {name: compute_table(ctx, table) for name, table in d.tables.items()}
        checks = {
            rule.id: [{"element": v["element"], "passed": v["passed"], "reasons": [m for _, m in v["failures"]]}
                      for v in rules.verdicts(ctx, rule)]
            for rule in d.rules if rule.kind == "each" and rule.collect
        }
        for name in d.report:
            try:
                reported[name] = known(ctx.lookup(name))
            except EvaluationError as exc:
                ctx.warnings.append(f"{name} 无法计算:{exc.message}")
                reported[name] = None
        labels = {
            "outcome": d.outcomes[code].label,
            "deadlines": {n: dl.label for n, dl in d.deadlines.items()},
            "reported": {n: _label_of(d, n) for n in d.report},
            "codes": {n: _codes(d, n) for n in d.report},
        }
    explain = None
    if ctx.tracer is not None:
        for name in d.derived:
            ctx.lookup_safe(name)
        explain = ctx.tracer.ordered(d.order)
    return DecisionResult(
        decision=d.id, title=d.title, pack_version=d.pack.version if d.pack else "",
        pack_digest=d.pack.digest if d.pack else "", as_of=ctx.as_of, outcome=code,
        outcome_label=d.outcomes[code].label, score=total,
        scores=scores, deadlines=deadlines, reasons=reasons, warnings=list(dict.fromkeys(ctx.warnings)),
        scorecard=card_detail, checklists=checklists, tables=tables, checks=checks, reported=reported,
        explain=explain, labels=labels,
        period=(d.valid_from, d.valid_until),
    )


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


def _safe(ctx: Context, name: str) -> Any:
    """A deadline for the result: null when it is not known (its warning was given when it was computed)."""
    try:
        value = ctx.lookup(name)
    except (CalendarError, DateOutOfRange):
        return None
    if value.__class__ is dt.date or value is None:
        return value
    return None if isinstance(value, UnknownValue) else value


_PLAIN = frozenset({str, int, bool, Decimal, dt.date, type(None)})


def _shown(value: Any) -> Any:
    """A value for the calculation trace: null when it holds a date known only by bounds."""
    try:
        return known(value)
    except EvaluationError:
        return None


def known(value: Any) -> Any:
    """A value for the result: an unknown one (a date only known by bounds) raises its error, a list or record
    holding one too; everything else as it is. Cheap for plain values."""
    if value.__class__ in _PLAIN:
        return value
    if isinstance(value, UnknownValue):
        raise value.error
    if isinstance(value, list):
        for v in value:
            known(v)
    elif isinstance(value, dict):
        for v in value.values():
            known(v)
    return value
