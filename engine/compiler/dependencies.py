"""Stage 6: no derived value, deadline, scorecard or the outcome may depend on itself, directly or not; nor through a
chain of them nested deeper than :data:`MAX_DEPENDENCY_NESTING`.

Names are computed on first use, each asking for those it needs, so a chain of names is a chain of nested calls
when a decision is evaluated — and in the reference evaluator every level of an expression's nesting is a nested
call too. A pack with thousands of derived values each built on the last would exhaust the stack there; it is
refused here instead, with the chain named. The walks of this stage are iterative.
"""

from __future__ import annotations

import ast

from ..errors import Location
from ..lang.expr import CompiledExpr
from .compilation import Compilation, DecisionDraft
from .model import Condition

__all__ = ["stage_dependencies", "MAX_DEPENDENCY_NESTING", "NAME_NESTING"]

# A chain of names, each counted as NAME_NESTING plus the nesting of its deepest expression: about half the stack
# frames evaluating it takes in the reference evaluator (two per level of an expression, some eight per name), so
# 300 stays well inside Python's 1,000 wherever the evaluation is called from. The bundled packs need at most 70
# (seven names of shallow expressions); a chain of 45 derived values `t + 1` passes, one of 60 does not.
MAX_DEPENDENCY_NESTING = 300
NAME_NESTING = 4


def stage_dependencies(c: Compilation) -> None:
    for d in c.drafts.values():
        with c.part():
            _check_dependencies(c, d)


def _check_dependencies(c: Compilation, d: DecisionDraft) -> None:
    weights: dict[str, int] = {}
    graph = _dependency_graph(d, weights)
    cycle = _find_cycle(graph)
    if cycle:
        c.problems.add("cycle", "循环依赖:" + " → ".join(cycle), _where(d, cycle[0]),
                       "派生值、期限或评分不能直接或间接依赖自身")
        return
    chain, nesting = _deepest_chain(graph, weights)
    if nesting > MAX_DEPENDENCY_NESTING:
        shown = " → ".join(chain) if len(chain) <= 8 else " → ".join(chain[:5]) + " → … → " + chain[-1]
        c.problems.add("dependency-too-deep",
                       f"依赖链过深:{len(chain)} 个名字逐层依赖,连同各自表达式的嵌套共 {nesting} 层"
                       f"(上限 {MAX_DEPENDENCY_NESTING} 层,每个名字计 {NAME_NESTING} 层加其表达式的嵌套):{shown}",
                       _where(d, next((n for n in chain if n != "outcome"), chain[0])),
                       "请合并中间步骤,或简化表达式")


def _where(d: DecisionDraft, name: str) -> Location | None:
    return (d.derived[name].location if name in d.derived
            else d.deadlines[name].location if name in d.deadlines
            else d.scorecards[name].location if name in d.scorecards else d.location)


def _dependency_graph(d: DecisionDraft, weights: dict[str, int] | None = None) -> dict[str, set[str]]:
    """Name → the computed names it needs. ``weights`` (filled when given): name → the nesting of its deepest
    expression."""
    nesting: dict[int, int] = {}

    def names(*exprs: CompiledExpr | None) -> set[str]:
        out: set[str] = set()
        for e in exprs:
            if e is not None:
                out |= e.names
                nesting[id(e)] = _nesting(e.tree)
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
    if weights is not None:
        _weigh(d, weights, nesting)
    return {k: {v for v in vs if v in computed} for k, vs in graph.items()}


def _weigh(d: DecisionDraft, weights: dict[str, int], nesting: dict[int, int]) -> None:
    def deepest(*exprs: CompiledExpr | None) -> int:
        return max((nesting.get(id(e), 0) for e in exprs if e is not None), default=0)

    for n, dv in d.derived.items():
        weights[n] = deepest(dv.expr)
    for n, dl in d.deadlines.items():
        weights[n] = deepest(dl.date, dl.start, dl.amount, dl.when)
    for n, card in d.scorecards.items():
        weights[n] = max([deepest(card.when)] + [deepest(line.count, line.when)
                                                 for node in card.nodes() for line in node.lines])
    rules = [deepest(r.when, r.score, r.over, r.where, r.outcome_expr, *[e for _, e in r.let]) for r in d.rules]
    weights["outcome"] = max(rules, default=0)
    for rule in d.rules:
        if rule.collect:
            weights[rule.collect] = deepest(rule.over, rule.where, *[e for _, e in rule.let])


def _nesting(tree: ast.AST) -> int:
    """How deeply an expression's tree is nested (iterative; the checker has already bounded it)."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                     if isinstance(child, (ast.expr, ast.keyword)))
    return deepest


def _condition_names(cond: Condition) -> set[str]:
    out = set(cond.check.names) if cond.check is not None else set()
    for e in (cond.over, cond.where):
        if e is not None:
            out |= e.names
    for ch in cond.children:
        out |= _condition_names(ch)
    return out


def _find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """The first cycle met walking the names in order (dependencies sorted), as ``[a, b, a]``; empty when none.
    Iterative: a chain of thousands of names costs a loop, not the stack."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in graph}
    for root in graph:
        if color[root] != WHITE:
            continue
        color[root] = GREY
        path = [root]
        todo = [iter(sorted(graph.get(root, ())))]
        while todo:
            for m in todo[-1]:
                if color.get(m, BLACK) == GREY:
                    return path[path.index(m):] + [m]
                if color.get(m) == WHITE:
                    color[m] = GREY
                    path.append(m)
                    todo.append(iter(sorted(graph.get(m, ()))))
                    break
            else:
                color[path.pop()] = BLACK
                todo.pop()
    return []


def _deepest_chain(graph: dict[str, set[str]], weights: dict[str, int]) -> tuple[list[str], int]:
    """The chain of names, each needing the next, with the greatest nesting (each name counted as NAME_NESTING plus
    its weight), first name first, and that nesting. The graph has no cycle; each edge is followed once."""
    total: dict[str, int] = {}
    nxt: dict[str, str | None] = {}
    for root in graph:
        if root in total:
            continue
        stack = [(root, iter(sorted(graph.get(root, ()))))]
        while stack:
            n, deps = stack[-1]
            for m in deps:
                if m in graph and m not in total:
                    stack.append((m, iter(sorted(graph.get(m, ())))))
                    break
            else:
                stack.pop()
                best = max((m for m in sorted(graph.get(n, ())) if m in total), key=lambda m: total[m], default=None)
                total[n] = NAME_NESTING + weights.get(n, 0) + (total[best] if best is not None else 0)
                nxt[n] = best
    if not total:
        return [], 0
    start: str | None = max(graph, key=lambda n: total[n])
    assert start is not None
    nesting = total[start]
    chain = []
    while start is not None:
        chain.append(start)
        start = nxt.get(start)
    return chain, nesting
