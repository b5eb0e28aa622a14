"""Stage 7: each scorecard compiled into one Python function, the fast path for totals.

Scoring calls every line's `count` and `when` of every item — a hundred small expressions for a 100-point
scorecard. Compiled one by one they still pay a call and a name lookup each; here the checked trees of a whole
scorecard become the body of one function that reads each name once and returns every leaf's score, in order.
Only trees that passed the expression allow-list get here (see :mod:`skillcert.lang.checker`), and the function runs with
no builtins. The arithmetic is the guarded operators of :mod:`skillcert.lang.expr`, as everywhere; a count that is
not a number, or a `when` typed "any" that is not true, false or null, raises like the line-by-line path. If it
raises (a missing value, an unknown calendar year, a value too large), the evaluator falls back to the line-by-line
path, which reports the precise expression.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ..lang.bytecode import ToPython
from ..lang.expr import FunctionSpec, is_number
from .compilation import Compilation
from .model import Scorecard

__all__ = ["compile_scorecard", "compile_totals", "card_parts", "CardNames", "stage_scorecode"]


def _deduct(per: Decimal, count: Any) -> Any:
    """A per-count line: ``per × count`` for a positive count; a count that is not a number raises (the line-by-line
    path then names the line)."""
    if count.__class__ is int:  # the common case: a number of findings, mostly 0
        return per * count if count > 0 else 0
    if count is None:
        return 0
    if not is_number(count):
        raise TypeError("count")
    return per * count if count > 0 else 0


def _truth(value: Any) -> bool:
    """A `when` the checker could only type as "any": true, false or null, as :meth:`Context.test` wants."""
    if value is True or value is False:
        return value
    if value is None:
        return False
    raise TypeError("when")


class CardNames(ToPython):
    """Names become function locals (``prefix`` and a number), each read once at the top: ``names`` says which."""

    def __init__(self, functions: Mapping[str, FunctionSpec], prefix: str = "n_", *, fields: bool = False) -> None:
        super().__init__(functions)
        self.names: dict[str, str] = {}
        self.prefix = prefix
        # with ``fields``, a name's field (``findings.posts_missing``) is a local too, read once after the names:
        # (name's local, field) → its local
        self.fields: dict[tuple[str, str], str] | None = {} if fields else None

    def visit_Name(self, node: ast.Name) -> ast.AST:
        local = self.names.setdefault(node.id, f"{self.prefix}{len(self.names)}")
        return ast.copy_location(ast.Name(local, ast.Load()), node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        # records are dicts here (checked facts); anything else raises and the line-by-line path reports it
        base = self.visit(node.value)
        if self.fields is not None and isinstance(base, ast.Name):
            local = self.fields.setdefault((base.id, node.attr), f"{self.prefix}f{len(self.fields)}")
            return ast.copy_location(ast.Name(local, ast.Load()), node)
        call = ast.Call(ast.Attribute(base, "get", ast.Load()), [ast.Constant(node.attr)], [])
        return ast.copy_location(call, node)


def compile_scorecard(card: Scorecard, functions: Mapping[str, FunctionSpec]) -> Callable[[Any], tuple[Any, ...]] | None:
    """``f(ctx) -> (leaf score, …)`` in the order of ``card.category_leaves``; None if any line can't be compiled."""
    fn: Callable[[Any], tuple[Any, ...]] | None = _generate(card, functions, totals=False)
    return fn


def compile_totals(card: Scorecard, functions: Mapping[str, FunctionSpec]) -> Callable[[Any], Any] | None:
    """``f(ctx) -> (total, (category subtotal, …))``, categories in the order of ``card.category_leaves``: the batch
    path's whole scorecard in one call. When every ``per``, ``points`` and ``max`` is a non-negative decimal with at
    most :data:`_MAX_PLACES` places and every count is typed integer, it computes in scaled integers and makes the
    decimals once at the end (equal values; output is normalised, see :func:`skillcert.values.format_decimal`); a
    count that is not an integer at run time raises, and the line-by-line path then decides. None if any line can't
    be compiled."""
    fn: Callable[[Any], Any] | None = _generate(card, functions, totals=True)
    return fn


_MAX_PLACES = 6


def _places(card: Scorecard) -> int | None:
    """Decimal places to scale by, or None when the card is not for scaled integers."""
    places = 0
    for leaves in card.category_leaves.values():
        for leaf in leaves:
            amounts = [leaf.max]
            for line in leaf.lines:
                if line.per is not None:
                    if line.count is None or line.count.type.kind != "integer":
                        return None
                    amounts.append(line.per)
                elif line.points is not None:
                    amounts.append(line.points)
            for a in amounts:
                if not a.is_finite() or a < 0:
                    return None
                exponent = a.as_tuple().exponent
                assert isinstance(exponent, int)
                places = max(places, -exponent)
    return places if places <= _MAX_PLACES else None


def _ideduct(per: int, count: Any) -> int:
    """:func:`_deduct` in scaled integers: an integer count only (anything else raises; the line-by-line path
    then scores the card)."""
    if count.__class__ is int:
        return per * count if count > 0 else 0
    if count is None:
        return 0
    raise TypeError("count")


def card_parts(card: Scorecard, gen: CardNames, *, totals: bool, prefix: str = "s_",
               inline: bool = False) -> _Parts | None:
    """The body of a card's function, for :func:`_generate` and for a whole decision's function
    (:mod:`skillcert.runtime.fastpath`): the statements (names read through ``gen``: its ``names`` then say which
    locals to assign first), and what to return: every leaf's score, or (total, subtotals) — as decimals, made once
    from scaled integers when :func:`_places` allows. None if any line can't be compiled.

    ``inline`` (totals in scaled integers only; for a function that defines ``_fb``, which raises, and ``_int``):
    the floors, caps and per-count lines written out as conditional expressions instead of calls, anything that
    would not pass calling ``_fb()``; the decimals from a table of those already made."""
    gen.env["_deduct"] = _deduct
    gen.env["_ideduct"] = _ideduct
    gen.env["_truth"] = _truth
    gen.env["_max"] = max
    gen.env["_min"] = min
    places = _places(card) if totals else None

    def amount(value: Decimal) -> ast.expr:
        if places is None:
            return gen._bind(value, "k")
        return ast.Constant(int(value.scaleb(places)))

    zero: ast.expr = gen._bind(Decimal(0), "k") if places is None else ast.Constant(0)
    deduct = "_deduct" if places is None else "_ideduct"
    inline = inline and places is not None
    temps = 0

    def temp() -> str:
        nonlocal temps
        temps += 1
        return f"{prefix}t{temps}"

    def per_count(per: ast.expr, count: ast.expr) -> ast.expr:
        """_ideduct(per, count) written out: an integer count, positive ones deduct; null none; else _fb()."""
        n = temp()
        is_int = ast.Compare(ast.Attribute(ast.Name(n, ast.Load()), "__class__", ast.Load()), [ast.Is()],
                             [ast.Name("_int", ast.Load())])
        positive = ast.BoolOp(ast.And(), [
            ast.Compare(ast.Attribute(ast.NamedExpr(ast.Name(n, ast.Store()), count), "__class__", ast.Load()),
                        [ast.Is()], [ast.Name("_int", ast.Load())]),
            ast.Compare(ast.Name(n, ast.Load()), [ast.Gt()], [ast.Constant(0)])])
        zero_or_fail = ast.IfExp(
            ast.BoolOp(ast.Or(), [is_int, ast.Compare(ast.Name(n, ast.Load()), [ast.Is()], [ast.Constant(None)])]),
            ast.Constant(0), ast.Call(ast.Name("_fb", ast.Load()), [], []))
        return ast.IfExp(positive, ast.BinOp(per, ast.Mult(), ast.Name(n, ast.Load())), zero_or_fail)

    def clamp(maximum: ast.expr, total: ast.expr, bonus: bool) -> ast.expr:
        """min(max, total) for a bonus, else max(0, max − total), written out."""
        t = temp()
        under = ast.Compare(ast.NamedExpr(ast.Name(t, ast.Store()), total), [ast.Lt()], [maximum])
        if bonus:
            return ast.IfExp(under, ast.Name(t, ast.Load()), maximum)
        return ast.IfExp(under, ast.BinOp(maximum, ast.Sub(), ast.Name(t, ast.Load())), ast.Constant(0))
    statements: list[ast.stmt] = []
    leaves: list[ast.expr] = []
    subtotals: list[ast.expr] = []
    for cat_leaves in card.category_leaves.values():
        cat_scores: list[ast.expr] = []
        for leaf in cat_leaves:
            terms: list[ast.expr] = []
            for line in leaf.lines:
                if line.per is not None:
                    if line.count is None or line.count.fn is None:
                        return None
                    count = gen.visit(copy.deepcopy(line.count.tree))
                    term: ast.expr = (per_count(amount(line.per), count) if inline else
                                      ast.Call(ast.Name(deduct, ast.Load()), [amount(line.per), count], []))
                else:
                    if line.points is None:
                        return None
                    term = amount(line.points)
                if line.when is not None:
                    if line.when.fn is None:
                        return None
                    test = gen.visit(copy.deepcopy(line.when.tree))
                    if line.when.type.kind != "bool":  # typed "any": checked as the line-by-line path checks it
                        test = ast.Call(ast.Name("_truth", ast.Load()), [test], [])
                    term = ast.IfExp(test, term, ast.Constant(0))
                terms.append(term)
            total: ast.expr = zero
            for term_ in terms:
                total = term_ if inline and total is zero else ast.BinOp(total, ast.Add(), term_)
            maximum = amount(leaf.max)
            if inline:
                score: ast.expr = clamp(maximum, total, leaf.bonus)
            elif leaf.bonus:
                score = ast.Call(ast.Name("_min", ast.Load()), [maximum, total], [])
            else:  # 扣完为止: never below zero
                score = ast.Call(ast.Name("_max", ast.Load()), [zero, ast.BinOp(maximum, ast.Sub(), total)], [])
            if not totals:
                leaves.append(score)
                continue
            local = f"{prefix}{len(statements)}"
            statements.append(ast.Assign([ast.Name(local, ast.Store())], score))
            cat_scores.append(ast.Name(local, ast.Load()))
        if totals:
            subtotal: ast.expr = zero
            for sc in cat_scores:
                subtotal = ast.BinOp(subtotal, ast.Add(), sc)
            local = f"{prefix}{len(statements)}"
            statements.append(ast.Assign([ast.Name(local, ast.Store())], subtotal))
            subtotals.append(ast.Name(local, ast.Load()))
    if not totals:
        return statements, ast.Tuple(leaves, ast.Load())
    grand: ast.expr = zero
    for sub in subtotals:
        grand = ast.BinOp(grand, ast.Add(), sub)
    result: list[ast.expr] = [grand, ast.Tuple(subtotals, ast.Load())]
    if inline:  # _dec[n]: the decimal of a scaled integer, remembered
        assert places is not None
        table = gen._bind(_Decimals(-places), "dec")
        result = [ast.Subscript(table, grand, ast.Load()),
                  ast.Tuple([ast.Subscript(table, s, ast.Load()) for s in subtotals], ast.Load())]
    elif places is not None:  # the decimals, made once: Decimal(n).scaleb(-places)
        gen.env["_dec"] = Decimal
        gen.env["_places"] = -places

        def dec(e: ast.expr) -> ast.expr:
            return ast.Call(ast.Attribute(ast.Call(ast.Name("_dec", ast.Load()), [e], []), "scaleb", ast.Load()),
                            [ast.Name("_places", ast.Load())], [])
        result = [dec(grand), ast.Tuple([dec(s) for s in subtotals], ast.Load())]
    return statements, ast.Tuple(result, ast.Load())


_Parts = tuple[list[ast.stmt], ast.expr]


class _Decimals(dict):  # type: ignore[type-arg]
    """Scaled integer → ``Decimal(n).scaleb(places)``, made on first use: totals and subtotals take few values
    (between 0 and the card's maximum)."""

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places

    def __missing__(self, n: int) -> Decimal:
        value = self[n] = Decimal(n).scaleb(self.places)
        return value


def _generate(card: Scorecard, functions: Mapping[str, FunctionSpec], *, totals: bool) -> Callable[[Any], Any] | None:
    gen = CardNames(functions)
    parts = card_parts(card, gen, totals=totals)
    if parts is None:
        return None
    statements, returned = parts
    body: list[ast.stmt] = [
        ast.Assign([ast.Name(local, ast.Store())],
                   ast.Call(ast.Attribute(ast.Name("_c", ast.Load()), "lookup", ast.Load()), [ast.Constant(name)], []))
        for name, local in gen.names.items()
    ]
    body.extend(statements)
    body.append(ast.Return(returned))
    func = ast.FunctionDef("_scorecard", ast.arguments([], [ast.arg("_c")], None, [], [], None, []), body, [], None)
    module = ast.fix_missing_locations(ast.Module([func], []))
    namespace = dict(gen.env)
    exec(compile(module, f"<scorecard {card.name}>", "exec"), namespace)  # noqa: S102 - our own checked trees
    fn: Callable[[Any], Any] = namespace["_scorecard"]
    return fn


def stage_scorecode(c: Compilation) -> None:
    """Only for a pack without problems: every line of every card then checked and typed."""
    if c.problems:
        return
    for d in c.drafts.values():
        for name, card in d.scorecards.items():
            d.scorecards[name] = replace(card, fast=compile_scorecard(card, c.functions),
                                          totals=compile_totals(card, c.functions))
