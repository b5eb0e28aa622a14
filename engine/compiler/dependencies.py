"""Stage 6: no derived value, deadline, scorecard or the outcome may depend on itself, directly or not."""

from __future__ import annotations

from ..lang.expr import CompiledExpr
from .compilation import Compilation, DecisionDraft
from .model import Condition

__all__ = ["stage_dependencies"]


def stage_dependencies(c: Compilation) -> None:
    for d in c.drafts.values():
        with c.part():
            _check_dependencies(c, d)


def _check_dependencies(c: Compilation, d: DecisionDraft) -> None:
    cycle = _find_cycle(_dependency_graph(d))
    if cycle:
        first = cycle[0]
        where = (d.derived[first].location if first in d.derived
                 else d.deadlines[first].location if first in d.deadlines
                 else d.scorecards[first].location if first in d.scorecards else d.location)
        c.problems.add("cycle", "循环依赖:" + " → ".join(cycle), where, "派生值、期限或评分不能直接或间接依赖自身")


def _dependency_graph(d: DecisionDraft) -> dict[str, set[str]]:
    def names(*exprs: CompiledExpr | None) -> set[str]:
        out: set[str] = set()
        for e in exprs:
            if e is not None:
                out |= e.names
        return out

    computed = set(d.derived) | set(d.deadlines) | set(d.scorecards) | {"outcome"} | {r.collect for r in d.rules if r.collect}
    graph: dict[str, set[str]] = {}
    for n, dv in d.derived.items():
        graph[n] = names(dv.expr)
    for n, dl in d.deadlines.items():
        graph[n] = names(dl.date, dl.start, dl.amount, dl.when)
    for n, card in d.scorecards.items():
        deps = names(card.when)
        for node in card.nodes():
            for line in node.lines:
                deps |= names(line.count, line.when)
        graph[n] = deps
    out: set[str] = set()
    for rule in d.rules:
        deps = names(rule.when, rule.score, rule.over, rule.where, rule.outcome_expr, *[e for _, e in rule.let])
        if rule.require is not None:
            deps |= _condition_names(rule.require)
        if rule.collect:
            graph[rule.collect] = deps - {rule.as_name}
        out |= deps
    for cl in d.checklists.values():
        if cl.outcome:
            out |= names(cl.provided, cl.when, *[i.required_when for i in cl.items])
    graph["outcome"] = out
    return {k: {v for v in vs if v in computed} for k, vs in graph.items()}


def _condition_names(cond: Condition) -> set[str]:
    out = set(cond.check.names) if cond.check is not None else set()
    for e in (cond.over, cond.where):
        if e is not None:
            out |= e.names
    for ch in cond.children:
        out |= _condition_names(ch)
    return out


def _find_cycle(graph: dict[str, set[str]]) -> list[str]:
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in graph}
    stack: list[str] = []

    def visit(n: str) -> list[str]:
        color[n] = GREY
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if color.get(m, BLACK) == GREY:
                return stack[stack.index(m):] + [m]
            if color.get(m) == WHITE:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        color[n] = BLACK
        return []

    for n in graph:
        if color[n] == WHITE:
            found = visit(n)
            if found:
                return found
    return []
