"""Compiling a checked expression tree to Python bytecode: the fast way to evaluate.

Names become look-ups in the evaluation's table of values (``_v['name']``, computed on a miss) or, for names of
an enclosing element, ``_c.lookup('name')``; record fields :func:`~.expr.field_of`; the arithmetic operators the
guarded functions of :mod:`.expr` that the reference evaluator uses too (numbers only where numbers are needed,
results within the limits, division exact); functions and decimal constants bound as module-level names of our own.
Only trees that passed the checker's allow-list get here, and the code runs with no builtins.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from .expr import CompiledExpr, FunctionSpec, add, divide, field_of, multiply, negate, plus, subtract

__all__ = ["to_python", "ToPython"]

_BINARY: dict[type[ast.operator], str] = {ast.Add: "_add", ast.Sub: "_sub", ast.Mult: "_mul", ast.Div: "_div"}
_UNARY: dict[type[ast.unaryop], str] = {ast.USub: "_neg", ast.UAdd: "_pos"}


class ToPython(ast.NodeTransformer):
    """Rewrites a checked tree into the body of ``lambda _c, _v: …``: names become ``_v['name']`` (or
    ``_c.lookup('name')`` for an element's), record fields ``_get(x, 'field')``, ``+ - * /`` and unary ``- +`` the
    guarded operators of :mod:`.expr`, functions and decimal constants module-level names of our own. Only trees that
    passed the allow-list get here, and the code runs with no builtins."""

    def __init__(self, functions: Mapping[str, FunctionSpec], local_names: frozenset[str] = frozenset()) -> None:
        self.functions = functions
        self.local_names = local_names
        self.env: dict[str, Any] = {"__builtins__": {}, "_get": field_of, "_add": add, "_sub": subtract,
                                    "_mul": multiply, "_div": divide, "_neg": negate, "_pos": plus}

    def _bind(self, value: Any, prefix: str) -> ast.Name:
        name = f"_{prefix}{len(self.env)}"
        self.env[name] = value
        return ast.Name(name, ast.Load())

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.local_names:  # an element of an `each` or a table row: through the context's frames
            call = ast.Call(ast.Attribute(ast.Name("_c", ast.Load()), "lookup", ast.Load()), [ast.Constant(node.id)],
                            [])
            return ast.copy_location(call, node)
        # the evaluation's table of values, which computes a name on a miss
        return ast.copy_location(ast.Subscript(ast.Name("_v", ast.Load()), ast.Constant(node.id), ast.Load()), node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        shown = ast.unparse(node.value)  # before the visit rewrites it: the record's text, for the message
        call = ast.Call(ast.Name("_get", ast.Load()),
                        [self.visit(node.value), ast.Constant(node.attr), ast.Constant(shown)], [])
        return ast.copy_location(call, node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        guard = _BINARY[type(node.op)]  # the checker allows + - * / only
        call = ast.Call(ast.Name(guard, ast.Load()), [self.visit(node.left), self.visit(node.right)], [])
        return ast.copy_location(call, node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        guard = _UNARY.get(type(node.op))
        if guard is None:  # not
            return self.generic_visit(node)
        return ast.copy_location(ast.Call(ast.Name(guard, ast.Load()), [self.visit(node.operand)], []), node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, Decimal):
            return ast.copy_location(self._bind(node.value, "k"), node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        assert isinstance(node.func, ast.Name)
        spec = self.functions[node.func.id]
        args = [self.visit(a) for a in node.args]
        if spec.needs_context:
            args.insert(0, ast.Name("_c", ast.Load()))
        return ast.copy_location(ast.Call(self._bind(spec.func, "f"), args, []), node)


def to_python(expr: CompiledExpr, functions: Mapping[str, FunctionSpec]) -> Callable[[Any, Any], Any] | None:
    """``fn(_c, _v)`` for ``expr``, or None when it calls a function that is not known.

    What comes back compiles the code on its first call and puts the compiled function in ``expr.fn``, so that later
    calls go straight to it: a pack's expressions are checked at every start (``skillcert validate`` and ``list``
    evaluate none of them, ``evaluate`` one decision's), and building the code of all of them was a tenth of a
    start-up. The trees were checked, so compiling cannot fail.
    """
    if any(name not in functions for name in expr.functions):
        return None  # unknown functions were reported; the reference evaluator will refuse them
    compiled: list[Callable[[Any, Any], Any]] = []

    def first_call(_c: Any, _v: Any) -> Any:
        if not compiled:
            compiled.append(_compile(expr, functions))
            if expr.fn is first_call:
                expr.fn = compiled[0]
        return compiled[0](_c, _v)

    return first_call


def _compile(expr: CompiledExpr, functions: Mapping[str, FunctionSpec]) -> Callable[[Any, Any], Any]:
    transformer = ToPython(functions, expr.local_names)
    body = transformer.visit(copy.deepcopy(expr.tree))
    lam = ast.Lambda(ast.arguments([], [ast.arg("_c"), ast.arg("_v")], None, [], [], None, []), body)
    tree = ast.fix_missing_locations(ast.Expression(lam))
    fn: Callable[[Any, Any], Any] = eval(compile(tree, f"<{expr.text}>", "eval"), transformer.env)  # noqa: S307
    return fn
