"""What differs between two compiled versions of a decision, as far as evaluating them goes, and the inputs the
differences read — for the impact (:mod:`.impact`: which scorecard items can score differently) and the flip
search (:mod:`.flips`: which inputs to vary, which score bounds to aim at).

Compared: parameter values; the expressions of derived values, rules, deadlines and scorecard lines (as the
rule diff compares them, :func:`.rulediff.expression_key`: by syntax tree with numbers by value, so that neither
comments, key order and quoting — which do not reach the compiled form — nor spacing or ``80`` against ``80.0``
count); the lines and maximum of each scorecard
item; the bounds of each ``bands`` rule. An expression that reads a changed parameter, or a derived value or
deadline whose expression changed, counts as changed (followed until nothing more changes). The
inputs an expression reads are its dotted names (``findings.posts_missing``), followed through derived values
and, for a name that is a scorecard, through every line of the scorecard.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..compiler.model import Decision, ScoreNode, ValueSpec
from ..lang.expr import CompiledExpr
from .rulediff import expression_key

__all__ = ["Path_", "Changes", "what_changed", "expr_paths", "input_paths", "variables", "SMALL_CHANGE_KINDS"]

Path_ = tuple[str, ...]
SMALL_CHANGE_KINDS = ("bool", "integer", "decimal", "enum", "date")


def expr_paths(tree: ast.AST) -> set[Path_]:
    """The dotted names an expression reads: ``findings.posts_missing`` → ('findings', 'posts_missing')."""
    out: set[Path_] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Attribute):
            chain: list[str] = []
            at: ast.AST = node
            while isinstance(at, ast.Attribute):
                chain.append(at.attr)
                at = at.value
            if isinstance(at, ast.Name):
                out.add((at.id, *reversed(chain)))
                return
        if isinstance(node, ast.Name):
            out.add((node.id,))
            return
        for child in ast.iter_child_nodes(node):
            visit(child)
    visit(tree)
    return out


def _exprs(decision: Decision) -> Iterator[tuple[str, CompiledExpr]]:
    """Every expression of a decision with a key naming where it stands (the same key in both versions)."""
    for name, d in decision.derived.items():
        yield f"derived:{name}", d.expr
    for rule in decision.rules:
        for part in ("when", "score", "over", "where", "outcome_expr"):
            expr = getattr(rule, part)
            if expr is not None:
                yield f"rule:{rule.id}:{part}", expr
    for name, dl in decision.deadlines.items():
        for part in ("date", "start", "amount", "when"):
            expr = getattr(dl, part)
            if expr is not None:
                yield f"deadline:{name}:{part}", expr
    for card in decision.scorecards.values():
        if card.when is not None:
            yield f"card:{card.name}:when", card.when
        for node in card.nodes():
            for i, line in enumerate(node.lines):
                for part in ("count", "when"):
                    expr = getattr(line, part)
                    if expr is not None:
                        yield f"line:{card.name}:{node.id}:{i}:{part}", expr


def _lines(node: ScoreNode) -> tuple[Any, ...]:
    return (node.max, node.bonus, tuple((ln.per, ln.points, expression_key(ln.count), expression_key(ln.when))
                                        for ln in node.lines))


def _bands(decision: Decision) -> dict[str, tuple[Any, ...]]:
    return {r.id: tuple((b.min, b.below, b.outcome) for b in r.bands) for r in decision.rules if r.kind == "bands"}


def _bound_values(bands: Iterable[tuple[Any, ...]]) -> set[Decimal]:
    return {Decimal(v) for band in bands for v in band[:2] if v is not None}


@dataclass
class Changes:
    """What differs between OLD and NEW (see the module doc)."""

    parameters: set[str] = field(default_factory=set)
    expressions: set[str] = field(default_factory=set)      # keys of changed expressions (see _exprs)
    items: set[tuple[str, str]] = field(default_factory=set)  # (scorecard, item id) whose score may differ
    paths: set[Path_] = field(default_factory=set)           # names read by what changed, before expansion
    targets: set[Decimal] = field(default_factory=set)       # score bounds a search aims at


def what_changed(old: Decision, new: Decision) -> Changes:
    out = Changes()
    out.parameters = {p for p in set(old.parameter_values) | set(new.parameter_values)
                      if old.parameter_values.get(p) != new.parameter_values.get(p)}
    old_exprs = dict(_exprs(old))
    new_exprs = list(_exprs(new))
    changed_names = set(out.parameters)
    # an expression changed (its syntax tree, numbers by value: not its spacing), or reading a name whose value changed (a parameter, or a derived value or
    # deadline whose expression changed): followed until nothing more changes
    while True:
        grown = False
        for key, expr in new_exprs:
            if key in out.expressions:
                continue
            was = old_exprs.get(key)
            if was is None or expression_key(was) != expression_key(expr) or expr.names & changed_names:
                grown = True
                out.expressions.add(key)
                out.paths |= expr_paths(expr.tree)
                if was is not None:
                    out.paths |= expr_paths(was.tree)
                kind, name = key.split(":", 2)[:2]
                if kind in ("derived", "deadline"):
                    changed_names.add(name)
        if not grown:
            break
    old_nodes = {(c.name, n.id): n for c in old.scorecards.values() for n in c.nodes()}
    card_changed = False
    for card in new.scorecards.values():
        for node in card.nodes():
            before = old_nodes.get((card.name, node.id))
            reads = {name for line in node.lines for part in (line.count, line.when) if part is not None
                     for name in part.names}
            if before is None or _lines(before) != _lines(node) or reads & changed_names:
                card_changed = True
                out.items.add((card.name, node.id))
                for n in (node, before):
                    for line in (n.lines if n is not None else ()):
                        for part in (line.count, line.when):
                            if part is not None:
                                out.paths |= expr_paths(part.tree)
    old_bands, new_bands = _bands(old), _bands(new)
    rules = {r.id: r for r in new.rules}
    for rule_id, bands in new_bands.items():
        was_bands = old_bands.get(rule_id)
        if was_bands == bands:
            continue
        kept = _bound_values(was_bands) & _bound_values(bands) if was_bands is not None else set()
        out.targets |= (_bound_values(bands) | _bound_values(was_bands or ())) - kept
        score = rules[rule_id].score
        if score is not None:
            out.paths |= expr_paths(score.tree)
    if card_changed and not out.targets:
        out.targets = _bound_values(b for bands in (*old_bands.values(), *new_bands.values()) for b in bands)
    return out


def input_paths(paths: Iterable[Path_], decision: Decision) -> tuple[set[Path_], bool]:
    """The input paths ``paths`` stand for, derived values and scorecards followed to what they read; and whether
    that is all they read (False when a name is neither an input, a parameter, a derived value nor a scorecard:
    ``as_of``, an outcome, a subtotal …)."""
    wanted: set[Path_] = set()
    seen: set[str] = set()
    closed = True
    todo = list(paths)
    while todo:
        path = todo.pop()
        name = path[0]
        if name in decision.inputs:
            wanted.add(path)
        elif name in decision.parameter_values:
            continue
        elif name in decision.derived:
            if name not in seen:
                seen.add(name)
                todo.extend(expr_paths(decision.derived[name].expr.tree))
        elif name in decision.scorecards:
            if name not in seen:
                seen.add(name)
                for node in decision.scorecards[name].nodes():
                    for line in node.lines:
                        for part in (line.count, line.when):
                            if part is not None:
                                todo.extend(expr_paths(part.tree))
        else:
            closed = False
    return wanted, closed


def variables(paths: Iterable[Path_], decision: Decision) -> list[tuple[Path_, ValueSpec, str]]:
    """The inputs (and fields of record inputs) ``paths`` read that a small change applies to, with their spec
    and label, in declared order."""
    wanted = input_paths(paths, decision)[0]
    out: list[tuple[Path_, ValueSpec, str]] = []
    for name, inp in decision.inputs.items():
        if inp.spec.kind == "record":
            for field_name, spec in inp.spec.fields.items():
                if ((name,) in wanted or (name, field_name) in wanted) and spec.kind in SMALL_CHANGE_KINDS:
                    out.append(((name, field_name), spec, spec.label or field_name))
        elif (name,) in wanted and inp.spec.kind in SMALL_CHANGE_KINDS:
            out.append(((name,), inp.spec, inp.label))
    return out


def item_paths(changes: Changes, old: Decision, new: Decision) -> list[Path_] | None:
    """The input paths the lines of the changed items read, under either version (sorted); None when they read
    more than inputs and parameters (then an item's score is not known from those inputs alone)."""
    paths: set[Path_] = set()
    for decision in (old, new):
        for card in decision.scorecards.values():
            for node in card.nodes():
                if (card.name, node.id) not in changes.items:
                    continue
                for line in node.lines:
                    for part in (line.count, line.when):
                        if part is None:
                            continue
                        found, closed = input_paths(expr_paths(part.tree), decision)
                        if not closed:
                            return None
                        paths |= found
    return sorted(paths)
