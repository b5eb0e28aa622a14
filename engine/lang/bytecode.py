"""Compiling a checked expression tree to Python bytecode: the fast way to evaluate.

Names become look-ups in the evaluation's table of values (``_v['name']``, computed on a miss) or, for names of
an enclosing element, ``_c.lookup('name')``; record fields :func:`~.expr.field_of`, division exact
(:func:`~.expr.divide`), functions and decimal constants bound as module-level names of our own. Only trees that
passed the checker's allow-list get here, and the code runs with no builtins.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from .expr import CompiledExpr, FunctionSpec, divide, field_of

__all__ = ["to_python", "ToPython"]


class ToPython(ast.NodeTransformer):
    """Rewrites a checked tree into the body of ``lambda _c: …``: names become ``_c.lookup('name')``, record fields
    ``_get(x, 'field')``, division exact, functions and decimal constants module-level names of our own. Only
    trees that passed the allow-list get here, and the code runs with no builtins."""

    def __init__(self, functions: Mapping[str, FunctionSpec], local_names: frozenset[str] = frozenset()) -> None:
        self.functions = functions
        self.local_names = local_names
        self.env: dict[str, Any] = {"__builtins__": {}, "_get": field_of, "_div": divide}

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
        call = ast.Call(ast.Name("_get", ast.Load()), [self.visit(node.value), ast.Constant(node.attr)], [])
        return ast.copy_location(call, node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if isinstance(node.op, ast.Div):
            call = ast.Call(ast.Name("_div", ast.Load()), [self.visit(node.left), self.visit(node.right)], [])
            return ast.copy_location(call, node)
        return self.generic_visit(node)

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
    if any(name not in functions for name in expr.functions):
        return None  # unknown functions were reported; the reference evaluator will refuse them
    transformer = ToPython(functions, expr.local_names)
    body = transformer.visit(copy.deepcopy(expr.tree))
    lam = ast.Lambda(ast.arguments([], [ast.arg("_c"), ast.arg("_v")], None, [], [], None, []), body)
    tree = ast.fix_missing_locations(ast.Expression(lam))
    fn: Callable[[Any, Any], Any] = eval(compile(tree, f"<{expr.text}>", "eval"), transformer.env)  # noqa: S307
    return fn
