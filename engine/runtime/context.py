"""One evaluation's state: the facts, the table of values, local names, warnings and per-evaluation memos.

Names are computed on demand and remembered: the table of values (:class:`Values`) holds the facts and
parameters from the start and asks the evaluation's resolver for anything else (a derived value, a deadline, a
score, the outcome) on first use, so each expression runs at most once and only if something needs it. The
compiler has proven there are no cycles; a guard here protects against hand-built packs and plugins.

What the names mean is not known here: the resolver (:func:`skillcert.runtime.evaluate.compute`) and the
modules for scoring, deadlines and rules do that work.

An evaluation has a budget: at most :data:`MAX_EVALUATION_STEPS` expressions evaluated and
:data:`MAX_EVALUATION_SECONDS` seconds. Every expression runs through :meth:`Context.run`, which counts it (one
subtraction and one comparison); every :data:`_SLICE` steps the clock is read. A pack that loops over a long list
inside a loop over another stops with ``evaluation-budget`` naming the expression it had reached, instead of
running for hours. The step count is the same on both evaluators and on every machine; the clock only stops what
the steps cannot see, a few very costly steps.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..compiler.model import Decision
from ..errors import EvaluationError
from ..lang.calendar import HolidayCalendar
from ..lang.expr import _FAILURES, CompiledExpr, FunctionSpec, describe_value
from ..lang.reference import make_evaluator
from .tracer import Tracer

__all__ = ["Context", "Unavailable", "Resolver", "BudgetExceeded", "list_of", "MAX_EVALUATION_STEPS", "MAX_EVALUATION_SECONDS"]

Resolver = Callable[["Context", str], Any]

# The largest bundled case evaluates 114 expressions (hebei/renewal with its tables); a million is far beyond any
# real decision and still
# stops a runaway within seconds.
MAX_EVALUATION_STEPS = 1_000_000
MAX_EVALUATION_SECONDS = 30.0
_SLICE = 1024  # steps between two readings of the clock


class BudgetExceeded(EvaluationError):
    """An evaluation ran out of steps or time (``evaluation-budget``); once raised, every further step raises too."""

    code = "evaluation-budget"


class Unavailable:
    """A value that could not be computed (e.g. a deadline in an unknown calendar year); every use raises again."""

    def __init__(self, error: EvaluationError) -> None:
        self.error = error


class Values(dict):  # type: ignore[type-arg]
    """Name → value for one evaluation; a miss computes the name through the context's resolver.

    Compiled expressions index it directly (``_v['name']``), so a value already known costs one dict lookup.
    A value that could not be computed is never stored: every use raises its error again.
    """

    __slots__ = ("ctx", "unavailable")

    def __init__(self, ctx: Context, initial: dict[str, Any]) -> None:
        super().__init__(initial)
        self.ctx = ctx
        self.unavailable: dict[str, EvaluationError] = {}

    def __missing__(self, name: str) -> Any:
        if name in self.unavailable:
            raise self.unavailable[name]
        ctx = self.ctx  # the hot path of every derived value: kept to plain local operations
        in_progress = ctx._in_progress
        if name in in_progress:  # the compiler rejects cycles; this guards plugins and hand-built packs
            raise EvaluationError(f"循环依赖:{name}", code="cycle")
        in_progress.add(name)
        try:
            value = ctx.resolver(ctx, name)
        finally:
            in_progress.discard(name)
        if value.__class__ is Unavailable:
            self.unavailable[name] = value.error
            raise value.error
        self[name] = value
        return value


class Context:
    """Facts, the table of values, frames of local names (elements of ``each``, table rows), warnings, memos."""

    def __init__(self, decision: Decision, facts: dict[str, Any], as_of: dt.date, calendar: HolidayCalendar,
                 functions: Mapping[str, FunctionSpec], resolver: Resolver, *, reference: bool = False,
                 detail: bool = True, tracer: Tracer | None = None) -> None:
        self.decision = decision
        self.facts = facts
        self.as_of = as_of
        self.calendar = calendar
        self.functions = functions
        self.resolver = resolver
        # facts and parameters are looked up directly; derived values, deadlines and scores are added as computed
        self.values: dict[str, Any] = Values(self, {**decision.parameter_values, **facts, "as_of": as_of})
        self.locals: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        # results computed once per evaluation by scoring, checklists and rules, by key
        self.memo: dict[str, Any] = {}
        self.tracer = tracer
        # The reference evaluator (simpleeval walking each tree) instead of the compiled bytecode: same results,
        # slower; the tests run every pack case both ways.
        self.reference = reference
        self.detail = detail
        self._evaluator: Any = None
        self._in_progress: set[str] = set()
        # the budget: steps left in this slice, slices used, and when the evaluation started
        self._steps = _SLICE
        self._slices = 0
        self._started = time.monotonic()
        self.exhausted: BudgetExceeded | None = None

    @property
    def evaluator(self) -> Any:
        if self._evaluator is None:
            self._evaluator = make_evaluator(self, self.functions)
        return self._evaluator

    def lookup(self, name: str) -> Any:
        if self.locals:
            for frame in reversed(self.locals):
                if name in frame:
                    return frame[name]
        return self.values[name]  # computed on a miss (see Values)

    def lookup_safe(self, name: str) -> Any:
        try:
            return self.lookup(name)
        except EvaluationError:
            return None

    def run(self, expr: CompiledExpr) -> Any:
        self._steps -= 1
        if self._steps < 0:
            self._next_slice(expr)
        fn = expr.fn
        if fn is None or self.reference:
            return expr.evaluate(self)
        # CompiledExpr.evaluate inline for the bytecode: the same errors, one call less
        try:
            return fn(self, self.values)
        except EvaluationError:
            raise
        except _FAILURES as exc:
            raise expr.failure(exc, self) from None

    def _next_slice(self, expr: CompiledExpr) -> None:
        if self.exhausted is None:
            self._slices += 1
            steps = self._slices * _SLICE
            elapsed = time.monotonic() - self._started
            if steps >= MAX_EVALUATION_STEPS:
                self.exhausted = BudgetExceeded(
                    f"计算量超出上限:已计算 {steps} 个表达式(上限 {MAX_EVALUATION_STEPS}),"
                    f"停在表达式 `{expr.text}`;请检查政策包中对长列表的嵌套遍历")
            elif elapsed > MAX_EVALUATION_SECONDS:
                self.exhausted = BudgetExceeded(
                    f"计算时间超出上限:已用 {elapsed:.1f} 秒(上限 {MAX_EVALUATION_SECONDS:g} 秒),"
                    f"停在表达式 `{expr.text}`;请检查政策包中对长列表的嵌套遍历")
            else:
                self._steps = _SLICE
                return
        self._steps = 0
        raise self.exhausted

    def test(self, expr: CompiledExpr | None) -> bool:
        """A condition: absent holds; a null value does not; anything but true, false or null is an error (a list
        or a number where the checker saw "any" must not pass for true)."""
        if expr is None:
            return True
        value = self.run(expr)
        if value is True or value is False:
            return value
        if value is None:
            return False
        raise EvaluationError(f"条件 `{expr.text}` 应得出真或假,实际得出 {describe_value(value)}",
                              code="expression-failed")

    def with_frame(self, frame: dict[str, Any]) -> _Frame:
        """``with ctx.with_frame({...}):`` names of an element or a row, visible inside the block."""
        return _Frame(self, frame)


def list_of(ctx: Context, expr: CompiledExpr) -> list[Any]:
    """The list an `each`, a table or a checklist goes through: null is empty; a text or a number (where the checker
    saw "any") is an error naming the expression, never its characters one by one."""
    value = ctx.run(expr)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise EvaluationError(f"`{expr.text}` 应得出列表,实际得出 {describe_value(value)}", code="expression-failed")


class _Frame:
    __slots__ = ("ctx", "frame")

    def __init__(self, ctx: Context, frame: dict[str, Any]) -> None:
        self.ctx = ctx
        self.frame = frame

    def __enter__(self) -> dict[str, Any]:
        self.ctx.locals.append(self.frame)
        return self.frame

    def __exit__(self, *exc: object) -> None:
        self.ctx.locals.pop()
