"""The reference evaluator: simpleeval walking a checked tree. The only module that imports simpleeval.

Slower than the bytecode and kept for that reason: the tests run every pack case both ways and require
byte-identical results, so a mistake in the bytecode compiler cannot pass unnoticed.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Mapping
from typing import Any

import simpleeval

from .expr import (
    CompiledExpr,
    EvalContext,
    FunctionSpec,
    add,
    divide,
    field_of,
    multiply,
    negate,
    plus,
    subtract,
)

__all__ = ["make_evaluator"]


def _is(a: Any, b: Any) -> bool:
    return a is b


def _is_not(a: Any, b: Any) -> bool:
    return a is not b


def _in(a: Any, b: Any) -> bool:
    return a in b


def _not_in(a: Any, b: Any) -> bool:
    return a not in b


_OPERATORS: dict[type[ast.AST], Callable[..., Any]] = {
    # the guarded operators of .expr, as in the bytecode: simpleeval's own (safe_add, safe_mult) would differ
    ast.Add: add,
    ast.Sub: subtract,
    ast.Mult: multiply,
    ast.Div: divide,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Not: lambda a: not a,
    ast.USub: negate,
    ast.UAdd: plus,
    ast.In: _in,
    ast.NotIn: _not_in,
    ast.Is: _is,
    ast.IsNot: _is_not,
}


class _Evaluator(simpleeval.SimpleEval):  # type: ignore[misc]
    """simpleeval with our operators and exact division; names and record fields come from a context.

    The trees it sees were checked by :func:`compile_expr`, so the handlers below only ever meet the allowed
    node types. simpleeval's per-node scan of every result for forbidden callables is skipped: values here are
    facts (plain data from YAML/JSON/pydantic) and the results of registered functions, never callables, and
    no node type that could reach one (attribute access on objects, subscripts, lambdas) is allowed. Scanning
    a record of fifty findings at every field access cost most of the evaluation time.
    """

    def __init__(self, ctx: EvalContext, functions: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__(operators=dict(_OPERATORS), functions=dict(functions), names={})
        self.ctx = ctx
        self.nodes[ast.List] = self._eval_list

    def run(self, expr: CompiledExpr) -> Any:
        return self._eval(expr.tree)

    def _eval(self, node: ast.AST) -> Any:
        return self.nodes[type(node)](node)

    def _eval_name(self, node: ast.Name) -> Any:
        return self.ctx.lookup(node.id)

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        base = self._eval(node.value)
        if base.__class__ is dict:
            return base.get(node.attr)
        return field_of(base, node.attr, ast.unparse(node.value))  # the bytecode's message, word for word

    def _eval_list(self, node: ast.List) -> list[Any]:
        return [self._eval(e) for e in node.elts]

    def _eval_call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)  # the checker allows calls by name only
        func = self.functions[node.func.id]
        return func(*(self._eval(a) for a in node.args))


def make_evaluator(ctx: EvalContext, functions: Mapping[str, FunctionSpec]) -> _Evaluator:
    """An evaluator bound to one evaluation; functions that need the context get it bound in."""
    bound: dict[str, Callable[..., Any]] = {}
    for name, spec in functions.items():
        if spec.needs_context:
            bound[name] = functools.partial(spec.func, ctx)
        else:
            bound[name] = spec.func
    return _Evaluator(ctx, bound)
