"""Expressions: what a checked expression is, and how it evaluates.

An expression of a pack is parsed and checked once, when the pack is compiled (:mod:`.checker`: allow-list of
syntax, declared names, known functions, inferred type). The checked tree is then evaluated in one of two ways with
the same results: Python bytecode compiled once from the tree (:mod:`.bytecode`, the default) or simpleeval walking
the tree (:mod:`.reference`, the reference evaluator the tests hold the bytecode to).

What is allowed: names, ``record.field`` on declared record fields, literals (numbers become exact
decimals, text, booleans, None, lists), ``+ - * /``, comparisons, ``and or not``, ``in``/``not in``,
``is None``/``is not None``, ``a if c else b`` and calls of registered functions by name.
Everything else — attribute access on anything but a record, subscripts, lambdas, comprehensions,
keyword arguments, ``**``, names starting with ``_`` — is refused with a message naming the construct.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from ..errors import EvaluationError
from .types import VType

__all__ = ["FunctionSpec", "CompiledExpr", "ExprProblem", "NameResolver", "EvalContext", "divide", "field_of",
           "MAX_EXPR_LENGTH", "MAX_NODES", "MAX_DEPTH", "MAX_STRING_LITERAL"]

MAX_EXPR_LENGTH = 4000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_STRING_LITERAL = 2000


@dataclass(frozen=True)
class FunctionSpec:
    """A function callable from expressions.

    ``params`` are type kinds (``date``, ``integer``, ``number``, ``text``, ``bool``, ``list``, ``any``); a
    trailing ``?`` accepts None, a final ``*`` repeats the last parameter (``('number', 'number*')``).
    ``returns`` is a type kind, or a callable computing the result type from the argument types.
    """

    name: str
    func: Callable[..., Any]
    params: tuple[str, ...]
    returns: str | Callable[[list[VType]], VType]
    doc: str = ""
    # Functions that need the evaluation context (the holiday calendar) receive it as first argument.
    needs_context: bool = False


@dataclass(frozen=True)
class ExprProblem:
    code: str
    message: str
    hint: str = ""
    offset: int = 0  # 0-based character offset inside the expression text


class NameResolver(Protocol):
    def __call__(self, name: str) -> VType | None: ...


@dataclass
class CompiledExpr:
    """A checked expression: its text, tree, inferred type and the names it reads.

    It evaluates in one of two ways, with the same results: ``fn``, Python bytecode compiled once from the
    checked tree (the default, fast), or simpleeval walking the tree (the reference, chosen by a context whose
    ``reference`` is true; tests run every pack case both ways).
    """

    text: str
    tree: ast.expr
    type: VType
    names: frozenset[str]
    functions: frozenset[str] = field(default_factory=frozenset)
    fn: Callable[[Any, Any], Any] | None = None
    local_names: frozenset[str] = field(default_factory=frozenset)

    def evaluate(self, ctx: EvalContext) -> Any:
        try:
            if self.fn is not None and not getattr(ctx, "reference", False):
                return self.fn(ctx, getattr(ctx, "values", None))
            return ctx.evaluator.run(self)
        except EvaluationError:
            raise
        except RecursionError:
            raise EvaluationError(f"表达式 `{self.text}` 嵌套过深") from None
        except (TypeError, ArithmeticError, InvalidOperation, ValueError, KeyError) as exc:
            raise EvaluationError(_runtime_message(self, exc, ctx), code="expression-failed") from None


def _runtime_message(expr: CompiledExpr, exc: Exception, ctx: EvalContext) -> str:
    nulls = sorted(n for n in expr.names if ctx.lookup_safe(n) is None)
    detail = f"{type(exc).__name__}: {exc}"
    if nulls:
        return f"表达式 `{expr.text}` 无法计算:{'、'.join(nulls)} 为空(None)。({detail})"
    return f"表达式 `{expr.text}` 无法计算:{detail}"


class EvalContext(Protocol):
    reference: bool

    @property
    def evaluator(self) -> Any: ...

    def lookup(self, name: str) -> Any: ...

    def lookup_safe(self, name: str) -> Any: ...


def divide(a: Any, b: Any) -> Decimal:
    """``/`` in expressions: exact decimal division, whatever the operands' number types."""
    return Decimal(a) / Decimal(b)


def field_of(base: Any, attr: str) -> Any:
    """``record.field`` in expressions: records are mappings; a missing record is an error, a missing field None."""
    if base is None:
        raise TypeError(f"值为空,无法取字段 {attr}")
    if not isinstance(base, dict):
        raise TypeError(f"只能对记录取字段 ({attr})")
    return base.get(attr)
