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

Limits, so that no expression of a semi-trusted pack runs away in time or memory. When a pack is compiled: the
text (:data:`MAX_EXPR_LENGTH`), the nodes (:data:`MAX_NODES`), the nesting (:data:`MAX_DEPTH`, measured before any
recursive processing) and text literals (:data:`MAX_STRING_LITERAL`). When it is evaluated, the operators are
guarded, identically in both evaluators (:func:`add`, :func:`subtract`, :func:`multiply`, :func:`divide`,
:func:`negate`): they take numbers (``+`` also text to text and list to list), never a text or a list where a
number is needed, and a result longer than :data:`MAX_TEXT_LENGTH` characters or :data:`MAX_LIST_LENGTH` items,
an integer of more than :data:`MAX_COMPUTED_DIGITS` digits or a decimal beyond 10^±:data:`MAX_DECIMAL_EXPONENT`
stops the evaluation with ``value-too-large`` naming the expression. A chain of derived values that doubles a text
forty times, or squares a parameter again and again, stops at the limit instead of filling the memory.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from ..errors import EvaluationError
from .types import VType

__all__ = ["FunctionSpec", "CompiledExpr", "ExprProblem", "NameResolver", "EvalContext", "OutOfRange",
           "DateOutOfRange", "UnknownValue", "add", "subtract", "multiply", "divide", "negate", "plus", "field_of", "is_number",
           "check_number", "check_length", "describe_value",
           "MAX_EXPR_LENGTH", "MAX_NODES", "MAX_DEPTH", "MAX_STRING_LITERAL", "MAX_TEXT_LENGTH", "MAX_LIST_LENGTH",
           "MAX_COMPUTED_DIGITS", "MAX_DECIMAL_EXPONENT"]

# ---- limits of an expression, checked when a pack is compiled
MAX_EXPR_LENGTH = 4000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_STRING_LITERAL = 2000

# ---- limits of a value computed by an operator, checked when an expression is evaluated
# A text or a list computed by `+`: far beyond any notice, form or list of findings (a long document is some
# 50,000 characters), small enough that a copy costs a millisecond and forty derived values stay within memory.
MAX_TEXT_LENGTH = 200_000
MAX_LIST_LENGTH = 200_000
# An integer computed by an operator: inputs have at most 15 digits (skillcert.values); 100 digits hold any product
# of a few of them and cost nothing to compare, while squaring a parameter forty times would need billions.
MAX_COMPUTED_DIGITS = 100
# A decimal computed by an operator lies within 10^±100 (or is 0): beyond it, it is a runaway, not an amount, and
# writing it out would take as many characters as its exponent.
MAX_DECIMAL_EXPONENT = 100

_INT_BOUND = 10**MAX_COMPUTED_DIGITS


class OutOfRange(Exception):  # noqa: N818 - a signal, turned into an EvaluationError by CompiledExpr.evaluate
    """A guarded operator or a function met a value beyond the limits (``value-too-large``) or a date that cannot be
    represented (``date-out-of-range``). It does not know the expression: :meth:`CompiledExpr.evaluate` names it
    (and a deadline, computed outside any expression, names itself)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UnknownValue:
    """A value that exists but cannot be known (a working-day deadline in a year whose holidays are not known).

    Its class decides which comparisons it can still answer; every other use raises ``error``: the guarded operators
    and the functions do so when they meet one (through :func:`describe_value`), never a TypeError about its class.
    """

    __slots__ = ("error",)

    def __init__(self, error: EvaluationError) -> None:
        self.error = error


class DateOutOfRange(EvaluationError):
    """A date that cannot be represented (before year 1 or after 9999): a deadline that needs one is left empty
    with a warning, a rule that needs it fails with this code."""

    code = "date-out-of-range"


@dataclass(frozen=True)
class FunctionSpec:
    """A function callable from expressions.

    ``params`` are type kinds (``date``, ``integer``, ``number``, ``text``, ``bool``, ``list``, ``record``,
    ``any``), a list with its items' kind (``list[record]``, ``list[date]``, ``list[text]``, ``list[number]``) or
    alternatives (``text|list``); a trailing ``?`` accepts None, a final ``*`` repeats the last parameter
    (``('number', 'number*')``). ``returns`` is a type kind, or a callable computing the result type from the
    argument types. ``same_type``: every argument must be of one type (``coalesce``, ``min``), so that a text and a
    number mixed are reported when the pack is compiled instead of typing the result as "any".
    """

    name: str
    func: Callable[..., Any]
    params: tuple[str, ...]
    returns: str | Callable[[list[VType]], VType]
    doc: str = ""
    # Functions that need the evaluation context (the holiday calendar) receive it as first argument.
    needs_context: bool = False
    same_type: bool = False


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
        """The value; any failure is an :class:`EvaluationError` naming this expression, never a bare Python error:
        ``value-too-large`` / ``date-out-of-range`` for a value beyond the limits, ``expression-failed`` for the
        rest (a missing value, a text where a number is needed, an element that is not a record …)."""
        try:
            if self.fn is not None and not getattr(ctx, "reference", False):
                return self.fn(ctx, getattr(ctx, "values", None))
            return ctx.evaluator.run(self)
        except EvaluationError:
            raise
        except _FAILURES as exc:
            raise self.failure(exc, ctx) from None

    def failure(self, exc: BaseException, ctx: EvalContext) -> EvaluationError:
        """The error to raise for a Python error ``exc`` raised by this expression's code (one of
        :data:`_FAILURES`, not an :class:`EvaluationError`): what :meth:`evaluate` raises. Callers that run ``fn``
        themselves (the evaluation's hot loop) raise this from None."""
        if isinstance(exc, OutOfRange):
            cls = DateOutOfRange if exc.code == DateOutOfRange.code else EvaluationError
            return cls(f"表达式 `{self.text}` 无法计算:{exc.message}", code=exc.code)
        if isinstance(exc, RecursionError):
            return EvaluationError(f"表达式 `{self.text}` 嵌套过深", code="expression-failed")
        assert isinstance(exc, Exception)
        return EvaluationError(_runtime_message(self, exc, ctx), code="expression-failed")


# what an expression's code may raise that becomes an EvaluationError naming the expression (see evaluate)
_FAILURES: tuple[type[BaseException], ...] = (OutOfRange, RecursionError, TypeError, ArithmeticError, InvalidOperation,
                                              ValueError, LookupError, AttributeError)


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


# ---- the guarded operators, shared by the bytecode (lang.bytecode), the reference (lang.reference) and the
# scorecard functions (compiler.scorecode): one definition, so both evaluators give the same result or the same error


def is_number(x: Any) -> bool:
    """An integer or a decimal; not a truth value (``True * 3`` is not a number of anything)."""
    return isinstance(x, (int, Decimal)) and x.__class__ is not bool


def describe_value(x: Any) -> str:
    """What kind of value this is, for messages: 文字 text, 列表 list … An unknown value raises its error instead:
    whatever was about to be refused, the reason is that the value is not known."""
    if isinstance(x, UnknownValue):
        raise x.error
    if x is None:
        return "空值 None"
    if isinstance(x, bool):
        return "布尔值 bool"
    if isinstance(x, int):
        return "整数 integer"
    if isinstance(x, Decimal):
        return "数值 decimal"
    if isinstance(x, str):
        return "文字 text"
    if isinstance(x, list):
        return "列表 list"
    if isinstance(x, dict):
        return "记录 record"
    if isinstance(x, dt.date):
        return "日期 date"
    return type(x).__name__


def _mismatch(op: str, a: Any, b: Any) -> TypeError:
    return TypeError(f"不能对 {describe_value(a)} 和 {describe_value(b)} 做 {op} 运算(需要数值)"
                     if op != "+" else f"不能对 {describe_value(a)} 和 {describe_value(b)} 做 + 运算")


def check_number(x: Any) -> Any:
    """``x`` when within the limits of a computed number; else ``value-too-large``. Other values pass."""
    if x.__class__ is int:
        if -_INT_BOUND < x < _INT_BOUND:
            return x
        raise OutOfRange("value-too-large", f"计算结果超过 {MAX_COMPUTED_DIGITS} 位整数")
    if isinstance(x, Decimal):
        if x.is_finite() and (-MAX_DECIMAL_EXPONENT <= x.adjusted() <= MAX_DECIMAL_EXPONENT or not x):
            return x
        raise OutOfRange("value-too-large", f"计算结果的数量级超出 10 的 ±{MAX_DECIMAL_EXPONENT} 次方")
    if isinstance(x, int) and not isinstance(x, bool):
        return check_number(int(x))
    return x


def check_length(x: Any) -> Any:
    """``x`` when a text or a list within the limits of a computed one; else ``value-too-large``."""
    if isinstance(x, str):
        if len(x) > MAX_TEXT_LENGTH:
            raise OutOfRange("value-too-large", f"计算出的文字超过 {MAX_TEXT_LENGTH} 个字符")
    elif isinstance(x, list) and len(x) > MAX_LIST_LENGTH:
        raise OutOfRange("value-too-large", f"计算出的列表超过 {MAX_LIST_LENGTH} 项")
    return x


def _numbers(a: Any, b: Any) -> bool:
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is Decimal) and (cb is int or cb is Decimal):
        return True
    return is_number(a) and is_number(b)


def _limited(r: Any) -> Any:
    """``check_number`` for the result of an operator on two numbers, the common cases first."""
    if r.__class__ is int:
        if -_INT_BOUND < r < _INT_BOUND:
            return r
    elif r.__class__ is Decimal and r.is_finite() and (-MAX_DECIMAL_EXPONENT <= r.adjusted() <= MAX_DECIMAL_EXPONENT
                                                       or not r):
        return r
    return check_number(r)


def add(a: Any, b: Any) -> Any:
    """``+``: numbers; text to text; list to list. Anything else (a text and a number, a date) is refused."""
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is Decimal) and (cb is int or cb is Decimal):
        return _limited(a + b)
    if (ca is str and cb is str) or (ca is list and cb is list):
        if len(a) + len(b) <= (MAX_TEXT_LENGTH if ca is str else MAX_LIST_LENGTH):
            return a + b
    elif is_number(a) and is_number(b):
        return _limited(a + b)
    if isinstance(a, str) and isinstance(b, str):
        if len(a) + len(b) > MAX_TEXT_LENGTH:
            raise OutOfRange("value-too-large", f"相加得到的文字将有 {len(a) + len(b)} 个字符,超过 "
                                                f"{MAX_TEXT_LENGTH} 个")
        return a + b
    if isinstance(a, list) and isinstance(b, list):
        if len(a) + len(b) > MAX_LIST_LENGTH:
            raise OutOfRange("value-too-large", f"相加得到的列表将有 {len(a) + len(b)} 项,超过 {MAX_LIST_LENGTH} 项")
        return a + b
    raise _mismatch("+", a, b)


def subtract(a: Any, b: Any) -> Any:
    """``-``: numbers only (for dates: days_between, add_days)."""
    if _numbers(a, b):
        return _limited(a - b)
    raise _mismatch("-", a, b)


def multiply(a: Any, b: Any) -> Any:
    """``*``: numbers only — never a text or a list repeated."""
    if _numbers(a, b):
        r = a * b
        if r.__class__ is Decimal and r.is_finite() and -MAX_DECIMAL_EXPONENT <= r.adjusted() <= MAX_DECIMAL_EXPONENT:
            return r  # the common case, an amount times a rate: checked here, without another call
        return _limited(r)
    raise _mismatch("*", a, b)


def divide(a: Any, b: Any) -> Decimal:
    """``/``: exact decimal division of numbers, whatever their number types."""
    if not _numbers(a, b):
        raise _mismatch("/", a, b)
    if not b:
        raise ZeroDivisionError("除数为 0")
    result: Decimal = _limited(Decimal(a) / Decimal(b))
    return result


def negate(a: Any) -> Any:
    """Unary ``-``: numbers only."""
    if a.__class__ is int or a.__class__ is Decimal or is_number(a):
        return -a
    raise TypeError(f"不能对 {describe_value(a)} 取负号(需要数值)")


def plus(a: Any) -> Any:
    """Unary ``+``: numbers only."""
    if a.__class__ is int or a.__class__ is Decimal or is_number(a):
        return +a
    raise TypeError(f"不能对 {describe_value(a)} 取正号(需要数值)")


def field_of(base: Any, attr: str, shown: str = "") -> Any:
    """``record.field`` in expressions: records are mappings; a missing record is an error, a missing field None.
    ``shown`` is the text of the record's expression, for the message (the same in both evaluators)."""
    if base.__class__ is dict:
        return base.get(attr)
    if base is None:
        raise TypeError(f"'{shown}' 为空,无法取字段 {attr}" if shown else f"值为空,无法取字段 {attr}")
    if not isinstance(base, dict):
        raise TypeError(f"只能对记录取字段 ({attr}),`{shown}` 是 {describe_value(base)}" if shown
                        else f"只能对记录取字段 ({attr})")
    return base.get(attr)
