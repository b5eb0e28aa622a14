"""A whole decision as one generated Python function: the fast path of :func:`~.evaluate.evaluate_checked`.

The interpreter (:mod:`.rules`, :mod:`.deadlines`, :mod:`.scoring`, :mod:`.messages` over a :class:`~.context.Context`)
looks every name up in a table, runs every expression through a call, and builds dicts for verdicts and frames.
Here the same decision — derived values, deadlines, scorecard totals and subtotals, rules in order with the
precedence, reasons — becomes the body of one function over local variables, generated once per decision:

* facts are read into locals once; parameters are constants; ``as_of`` is an argument;
* a derived value is computed where it is first needed, inside the expression that needs it
  (``(v if v is not _U else (v := …))``), so a value needed only under a condition is computed only under it; once
  it is known on every path to a place, later uses there are a plain local;
* a deadline, a scorecard (its statements from :func:`skillcert.compiler.scorecode.card_parts`) and the elements of
  an ``each`` rule are blocks of statements, run once before the first statement that may need them;
* messages are rendered only for reasons that are given, with constants (parameters) rendered when generated;
* a loop counts its steps against the evaluation budget.

Two functions per decision: the batch path's (the scorecard in scaled integers, as
:func:`~skillcert.compiler.scorecode.compile_totals` computes it), and the item-by-item one, which scores the primary
scorecard line by line in decimals and builds its item tree exactly as :mod:`.scoring` does, and also returns the
derived values and elements of ``each`` rules it computed: :mod:`.evaluate` lays them into a context and lets the
interpreter assemble checklists, tables, per-element checks and reported values over it.

The function gives exactly the interpreter's result or raises: **anything** unusual — an error of any kind, a
date only known by bounds, a deadline that would be left empty with a warning, a loop past its share of the budget,
a construct not generated, a cycle — raises, and the caller evaluates the facts again on the interpreter, which
gives today's result or today's error. Correctness is therefore: the function must never *return* a result the
interpreter would not give; tests run every pack case both ways and compare the JSON byte for byte.

A decision is generated on its :data:`THRESHOLD`-th evaluation in the process (a single ``skillcert evaluate`` does
not pay for it); :func:`prepare` generates it at once. ``SKILLCERT_DECISION_CODE=0`` (or :data:`ENABLED` set false)
turns the path off.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import os
import weakref
from collections.abc import Callable, Mapping
from decimal import Decimal, getcontext
from typing import Any

from ..compiler.model import Condition, Deadline, Decision, Rule, Scorecard, ScoreNode
from ..compiler.scorecode import CardNames, card_parts
from ..lang.bytecode import ToPython
from ..lang.expr import CompiledExpr, FunctionSpec, is_number
from ..lang.functions import add_days, add_months, add_years
from ..values import display_value
from . import rules
from .context import MAX_EVALUATION_STEPS
from .deadlines import _amount
from .messages import template_parts, type_of_name
from .result import ItemScore, Reason

__all__ = ["ENABLED", "THRESHOLD", "prepare", "decide", "generated_source"]

ENABLED = os.environ.get("SKILLCERT_DECISION_CODE", "") not in ("0", "false", "no", "off")
# evaluations of a decision in this process before its function is generated (the first ones use the interpreter)
THRESHOLD = 3
# a loop's share of the evaluation budget; the rest of a decision is bounded by the number of its expressions
_LOOP_BUDGET = MAX_EVALUATION_STEPS // 4
# a decision whose function would be larger than this stays on the interpreter (deep chains of conditional names)
_MAX_SOURCE = 2_000_000


class _Fallback(Exception):  # noqa: N818 - a signal: evaluate on the interpreter
    """Raised by generated code where the interpreter must decide (an error, an unknown value, a cycle, the budget)."""


class _Unset:
    """The value of a local not computed yet."""

    __slots__ = ()


_U = _Unset()


def _fb(*_: Any) -> Any:
    raise _Fallback


def _lst(value: Any) -> list[Any]:
    """:func:`.context.list_of` without the message (anything but a list or null falls back)."""
    if value.__class__ is list:
        return value
    if value is None:
        return []
    raise _Fallback


_DECIMAL_TEXT: dict[Decimal, str] = {}


def _show(value: Any, vtype: Any, empty: str) -> str:
    """:func:`skillcert.values.display_value`, with a decimal's text remembered (equal decimals are written alike:
    normalised) and a date's written at once."""
    cls = value.__class__
    if cls is Decimal:
        text = _DECIMAL_TEXT.get(value)
        if text is None:
            if len(_DECIMAL_TEXT) > 4096:
                _DECIMAL_TEXT.clear()
            text = _DECIMAL_TEXT[value] = display_value(value, vtype, empty)
        return text
    if cls is dt.date:
        iso: str = value.isoformat()
        return iso
    return display_value(value, vtype, empty)


def _dot(value: Any, parts: tuple[str, ...]) -> Any:
    for p in parts:
        value = value.get(p) if isinstance(value, dict) else None
    return value


class _CalendarOnly:
    """What a function that needs the evaluation context (a calendar function) reads of it."""

    __slots__ = ("calendar",)

    def __init__(self, calendar: Any) -> None:
        self.calendar = calendar


# (facts, as_of, calendar) -> (outcome, reasons, deadlines, total, subtotals, items, computed): in the function
# for the item-by-item result, items is the primary scorecard item by item, as scoring.item_scores gives it, and
# computed what the interpreter would compute again (see _Gen.computed); else both None
Decide = Callable[[dict[str, Any], dt.date, Any],
                  tuple[str, list[Reason], dict[str, Any], Any, dict[str, Any], Any, Any]]


class _State:
    __slots__ = ("calls", "fns")

    def __init__(self) -> None:
        self.calls = 0
        self.fns: dict[bool, Decide | None] = {}  # detail? → the function (None: not generated)


_STATES: weakref.WeakKeyDictionary[Decision, _State] = weakref.WeakKeyDictionary()
_SOURCES: weakref.WeakKeyDictionary[Decision, dict[bool, str]] = weakref.WeakKeyDictionary()
# the decision last evaluated through its function, with the function, per variant (detail?)
_LAST: dict[bool, tuple[Decision, Decide]] = {}


def decide(d: Decision, functions: Mapping[str, FunctionSpec], detail: bool = False) -> Decide | None:
    """The decision's function once it is due (counting this call), else None (evaluate on the interpreter).
    ``functions``: what the pack was compiled against (the generated code calls what its expressions' bytecode
    calls, or the decision is not generated); ``detail``: the function that also scores the primary scorecard's
    leaves line by line, for the item-by-item result."""
    last = _LAST.get(detail)
    if last is not None and last[0] is d:  # the same decision again (batch work): no weak-keyed look-up
        return last[1]
    state = _STATES.get(d)
    if state is None:
        state = _STATES[d] = _State()
    fns = state.fns
    if detail in fns:
        fn = fns[detail]
        if fn is not None:
            _LAST[detail] = (d, fn)
        return fn
    if state.calls < THRESHOLD:
        state.calls += 1
        if state.calls < THRESHOLD:
            return None
    fn = fns[detail] = _build(d, functions, detail)
    return fn


def prepare(d: Decision, functions: Mapping[str, FunctionSpec] | None = None, detail: bool = False) -> Decide | None:
    """The decision's function, generated now (None when the decision stays on the interpreter)."""
    state = _STATES.get(d)
    if state is None:
        state = _STATES[d] = _State()
    if detail not in state.fns:
        state.calls = THRESHOLD
        state.fns[detail] = _build(d, functions, detail)
        _LAST.pop(detail, None)
    return state.fns[detail]


def generated_source(d: Decision, functions: Mapping[str, FunctionSpec] | None = None,
                     detail: bool = False) -> str | None:
    """The generated function's source text (for reading and debugging), None when not generated."""
    prepare(d, functions, detail)
    return _SOURCES.get(d, {}).get(detail)


def _build(d: Decision, functions: Mapping[str, FunctionSpec] | None, detail: bool) -> Decide | None:
    pack = d.pack
    if pack is None:
        return None
    if functions is None:
        from ..lang.environment import builtin_environment

        functions = builtin_environment().functions
    try:
        gen = _Gen(d, functions, detail)
        source = gen.generate()
        if len(source) > _MAX_SOURCE:
            return None
        namespace = dict(gen.env)
        exec(compile(source, f"<decision {d.id}>", "exec"), namespace)  # noqa: S102 - our own checked trees
    except Exception:  # noqa: BLE001 - generating must never break an evaluation
        # a construct not generated (_NotGenerated), a decision too large, or anything this module did not foresee
        # (names that shadow each other, say): the decision stays on the interpreter
        return None
    _SOURCES.setdefault(d, {})[detail] = source
    fn: Decide = namespace["_decision"]
    return fn


class _NotGenerated(Exception):  # noqa: N818 - a signal: this decision stays on the interpreter
    pass


class _Expr(ToPython):
    """A checked tree as Python over the generated function's locals (see :meth:`_Gen.ref`); tracks which lazy
    values are known to be computed, following Python's order of evaluation (the right of ``and``/``or``, the
    branches of ``… if … else …`` and the later links of a chained comparison are conditional)."""

    def __init__(self, gen: _Gen) -> None:
        super().__init__(gen.functions)
        self.env = gen.env
        self.gen = gen

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(self.gen.ref(node.id, self.local_names), node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        first = self.visit(node.values[0])
        saved = set(self.gen.known)
        rest = [self.visit(v) for v in node.values[1:]]
        self.gen.known = saved
        return ast.copy_location(ast.BoolOp(node.op, [first, *rest]), node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        test = self.visit(node.test)
        saved = set(self.gen.known)
        body = self.visit(node.body)
        self.gen.known = set(saved)
        orelse = self.visit(node.orelse)
        self.gen.known = saved
        return ast.copy_location(ast.IfExp(test, body, orelse), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        left = self.visit(node.left)
        first = self.visit(node.comparators[0])
        saved = set(self.gen.known)
        rest = [self.visit(c) for c in node.comparators[1:]]
        self.gen.known = saved
        return ast.copy_location(ast.Compare(left, node.ops, [first, *rest]), node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        gen = self.gen
        base = node.value
        if (gen.fields is not None and isinstance(base, ast.Name) and base.id not in self.local_names
                and gen.kind(base.id) == "input"):  # a fact's field: one local, read where the caller says
            local = gen.fields.setdefault((base.id, node.attr), f"_fd{len(gen.fields)}")
            return ast.copy_location(ast.Name(local, ast.Load()), node)
        shown = ast.unparse(base)
        value = self.visit(base)
        if isinstance(value, ast.Name):  # a local (an element): field_of's common case written out, no call
            read = ast.Call(ast.Attribute(value, "get", ast.Load()), [ast.Constant(node.attr)], [])
            slow = ast.Call(ast.Name("_get", ast.Load()), [value, ast.Constant(node.attr), ast.Constant(shown)], [])
            is_dict = ast.Compare(ast.Attribute(value, "__class__", ast.Load()), [ast.Is()],
                                  [ast.Name("_dict", ast.Load())])
            return ast.copy_location(ast.IfExp(is_dict, read, slow), node)
        call = ast.Call(ast.Name("_get", ast.Load()), [value, ast.Constant(node.attr), ast.Constant(shown)], [])
        return ast.copy_location(call, node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        assert isinstance(node.func, ast.Name)
        spec = self.functions.get(node.func.id)
        if spec is None:  # not in the environment given: this decision stays on the interpreter
            raise _NotGenerated
        if spec.needs_context:
            self.gen.uses_context = True
        return super().visit_Call(node)


class _Gen:
    """Generates one decision's function (text), statement by statement, in the interpreter's order."""

    def __init__(self, d: Decision, functions: Mapping[str, FunctionSpec], detail: bool = False) -> None:
        self.d = d
        self.functions = functions
        self.detail = detail
        self.fields: dict[tuple[str, str], str] | None = None  # see leaf_lines
        self.env: dict[str, Any] = {
            "__builtins__": {}, "_U": _U, "_fb": _fb, "_lst": _lst, "_dot": _dot, "_Reason": Reason,
            "_show": _show, "_Dec": Decimal, "_isnum": is_number, "_date": dt.date, "_int": int,
            "_amount": _amount, "_add_days": add_days, "_add_months": add_months, "_add_years": add_years,
            "_enumerate": enumerate, "_rules": rules, "_CalendarOnly": _CalendarOnly, "_d": d,
            "_Fallback": _Fallback, "_len": len, "_list": list, "_str": str,
            "_min": min, "_max": max, "_Item": ItemScore, "_dict": dict, "_zip": zip,
        }
        self.env.update(ToPython(functions).env)  # the guarded operators and field access, as the bytecode's
        self.lines: list[str] = []
        self.size = 0
        self.expansions = 0
        self.depth = 1
        self.known: set[str] = set()        # lazy locals assigned on every path to this point
        self.frames: list[dict[str, str]] = []   # names of elements and `let`s → their locals, innermost last
        self.expanding: set[str] = set()    # lazy names being generated (a cycle falls back)
        self.lazy: set[str] = set()         # every lazy local, set to _U at the top
        self.outcome_known = False
        self.uses_context = False
        self.counter = 0
        self.collect_rule: dict[str, Rule] = {}
        for rule in d.rules:
            if rule.kind == "each" and rule.collect and rule.collect not in self.collect_rule:
                self.collect_rule[rule.collect] = rule
        self._deps: dict[str, frozenset[str]] = {}
        self.element_names = {rule.as_name for rule in d.rules} | {n for rule in d.rules for n, _ in rule.let}
        for rule in d.rules:
            if rule.require is not None:
                self.element_names |= _element_names(rule.require)

    # ---- helpers

    def emit(self, line: str) -> None:
        self.size += len(line)
        if self.size > _MAX_SOURCE:  # deep chains of conditional values, each written out where it is needed
            raise _NotGenerated
        self.lines.append("    " * self.depth + line)

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: Any) -> str:
        name = f"_q{len(self.env)}"
        self.env[name] = value
        return name

    def kind(self, name: str) -> str:
        """What a global name is, in the order the interpreter's table of values and resolver give it."""
        d = self.d
        if name == "as_of":
            return "as_of"
        if name in d.inputs:
            return "input"
        if name in d.parameter_values:
            return "parameter"
        if name in d.derived:
            return "derived"
        if name in d.deadlines:
            return "deadline"
        if name in d.scorecards:
            return "scorecard"
        if name == "outcome":
            return "outcome"
        if name in self.collect_rule:
            return "collect"
        return "unknown"

    # ---- names

    def ref(self, name: str, local_names: frozenset[str]) -> ast.expr:
        """A name in an expression: an element's (innermost frame first) when the checker says it is local, else
        a fact, a parameter, ``as_of`` or a lazy value."""
        if name in local_names:
            for frame in reversed(self.frames):
                if name in frame:
                    return ast.Name(frame[name], ast.Load())
        return self.global_ref(name)

    def global_ref(self, name: str) -> ast.expr:
        kind = self.kind(name)
        if kind == "as_of":
            return ast.Name("_as_of", ast.Load())
        if kind == "input":
            return ast.Name(f"i_{name}", ast.Load())
        if kind == "parameter":
            return ast.Name(self.const(self.d.parameter_values[name]), ast.Load())
        if kind == "derived":
            local = f"v_{name}"
            if local in self.known:
                return ast.Name(local, ast.Load())
            if name in self.expanding:
                return _call("_fb")
            self.expansions += 1
            if self.expansions > _MAX_SOURCE // 100:
                raise _NotGenerated
            self.lazy.add(local)
            dv = self.d.derived[name]
            saved_known, saved_frames = set(self.known), self.frames
            self.frames = []  # a derived value never sees an element's names
            self.expanding.add(name)
            definition = self.translate(dv.expr)
            self.expanding.discard(name)
            self.known, self.frames = saved_known, saved_frames
            self.known.add(local)
            return ast.IfExp(ast.Compare(ast.Name(local, ast.Load()), [ast.IsNot()], [ast.Name("_U", ast.Load())]),
                             ast.Name(local, ast.Load()), ast.NamedExpr(ast.Name(local, ast.Store()), definition))
        if kind in ("deadline", "collect", "scorecard"):
            local = self.hoisted_local(name)
            value: ast.expr = ast.Name(local, ast.Load())
            if local not in self.known:  # always ensured before the statement; should that ever miss, fall back
                value = ast.IfExp(ast.Compare(value, [ast.IsNot()], [ast.Name("_U", ast.Load())]), value,
                                  _call("_fb"))
            if kind == "scorecard":
                value = ast.Subscript(value, ast.Constant(0), ast.Load())
            return value
        if kind == "outcome" and self.outcome_known:
            return ast.Name("v_outcome", ast.Load())
        return _call("_fb")  # the outcome before it is decided (a cycle), or a name nothing computes

    def hoisted_local(self, name: str) -> str:
        kind = self.kind(name)
        prefix = {"deadline": "h_", "collect": "k_", "scorecard": "c_"}[kind]
        return prefix + name

    def translate(self, expr: CompiledExpr) -> ast.expr:
        if expr.fn is None:
            raise _NotGenerated  # an expression without bytecode: the reference evaluator's business
        visitor = _Expr(self)
        visitor.local_names = expr.local_names
        out: ast.expr = visitor.visit(copy.deepcopy(expr.tree))
        return out

    def text(self, expr: CompiledExpr) -> str:
        return ast.unparse(ast.fix_missing_locations(self.translate(expr)))

    def test(self, expr: CompiledExpr | None) -> str:
        """:meth:`.context.Context.test`: true holds, false and null do not, anything else falls back."""
        if expr is None:
            return "True"
        return f"((_t := {self.text(expr)}) is True or (_t is not False and _t is not None and _fb()))"

    # ---- hoisted values: what a statement may need computed first

    def deps(self, name: str) -> frozenset[str]:
        """The hoisted names (deadlines, scorecards, collected elements) a global name may need, through derived
        values, transitively."""
        if name in self._deps:
            return self._deps[name]
        self._deps[name] = frozenset()  # a cycle: the generated code falls back there
        kind = self.kind(name)
        out: set[str] = set()
        if kind == "derived":
            out |= self.expr_deps(self.d.derived[name].expr, frames=False)
        elif kind in ("deadline", "collect", "scorecard"):
            out.add(name)
        self._deps[name] = frozenset(out)
        return self._deps[name]

    def expr_deps(self, expr: CompiledExpr | None, frames: bool = True) -> set[str]:
        out: set[str] = set()
        if expr is None:
            return out
        for n in expr.names:
            if frames and n in expr.local_names and any(n in f for f in self.frames):
                continue
            out |= self.deps(n)
        return out

    def message_deps(self, template: str) -> set[str]:
        out: set[str] = set()
        for part in template_parts(template):
            if part.__class__ is tuple and not any(part[0] in f for f in self.frames):
                out |= self.deps(part[0])
        return out

    def ensure(self, names: set[str]) -> None:
        """Statements computing every hoisted name not yet known here, each guarded (it may be known on some
        paths): in a fixed order; each block ensures its own needs first."""
        for name in sorted(names):
            local = self.hoisted_local(name)
            if local in self.known:
                continue
            if name in self.expanding:
                self.emit("_fb()")
                continue
            self.lazy.add(local)
            self.emit(f"if {local} is _U:")
            self.depth += 1
            saved_known, saved_frames = set(self.known), self.frames
            self.frames = []
            self.expanding.add(name)
            kind = self.kind(name)
            if kind == "deadline":
                self.deadline(self.d.deadlines[name], local)
            elif kind == "scorecard":
                self.scorecard(self.d.scorecards[name], local)
            else:
                self.verdicts(self.collect_rule[name])
                self.emit(f"{local} = [e[1] for e in {self.verdict_local(self.collect_rule[name])} if not e[3]]")
            self.expanding.discard(name)
            self.known, self.frames = saved_known, saved_frames
            self.depth -= 1
            self.known.add(local)

    # ---- messages

    def message(self, template: str) -> str:
        """A template rendered as :func:`.messages.render_message` renders it; constants rendered now."""
        parts = template_parts(template)
        pieces: list[str] = []
        for part in parts:
            if part.__class__ is str:
                pieces.append(repr(part))
                continue
            assert isinstance(part, tuple)
            head = part[0]
            in_frame = any(head in f for f in self.frames)
            t = type_of_name(self.d, head)
            for p in part[1:]:
                t = t.field(p) if t is not None and t.kind == "record" else None
            if not in_frame and self.kind(head) == "parameter":
                value = _dot(self.d.parameter_values[head], part[1:]) if len(part) > 1 else \
                    self.d.parameter_values[head]
                pieces.append(repr(display_value(value, t, empty="(空)")))
                continue
            node = self.ref(head, frozenset([head]))
            value_text = ast.unparse(ast.fix_missing_locations(node))
            if len(part) > 1:
                value_text = f"_dot({value_text}, {part[1:]!r})"
            pieces.append(f"_show({value_text}, {self.const(t)}, '(空)')")
        if not pieces:
            return "''"
        return pieces[0] if len(pieces) == 1 else "''.join((" + ", ".join(pieces) + ",))"

    # ---- blocks

    def deadline(self, dl: Deadline, local: str) -> None:
        self.ensure(self.expr_deps(dl.when) | self.expr_deps(dl.date) | self.expr_deps(dl.start)
                    | self.expr_deps(dl.amount))
        self.emit(f"if {self.test(dl.when)}:")
        self.depth += 1
        saved = set(self.known)
        if dl.date is not None:
            self.emit(f"{local} = {self.text(dl.date)}")
            self.emit(f"if {local} is not None and {local}.__class__ is not _date: _fb()")
        else:
            assert dl.start is not None
            start = self.fresh("_s")
            self.emit(f"{start} = {self.text(dl.start)}")
            self.emit(f"if {start} is None: {local} = None")
            self.emit("else:")
            self.depth += 1
            self.emit(f"if {start}.__class__ is not _date: _fb()")
            if dl.unit is None:
                self.emit(f"{local} = {start}")
            else:
                amount = "0"
                if dl.amount is not None:
                    amount = self.fresh("_a")
                    self.emit(f"{amount} = {self.text(dl.amount)}")
                    self.emit(f"if {amount}.__class__ is not _int: {amount} = _amount({amount}, {dl.amount.text!r})")
                shift = {"days": "_add_days", "months": "_add_months", "years": "_add_years",
                         "working_days": "_cal.add_working_days_bounded"}.get(dl.unit)
                if shift is None:
                    raise _NotGenerated
                self.emit(f"{local} = {shift}({start}, {amount})")
                self.emit(f"if {local}.__class__ is not _date: _fb()")  # a date known only by bounds
            self.depth -= 1
        self.known = saved
        self.depth -= 1
        self.emit(f"else: {local} = None")

    def scorecard(self, card: Scorecard, local: str) -> None:
        if self.detail and card.name == self.d.primary_score:
            self.leaf_lines(card, local)
            return
        names = CardNames(self.functions, prefix=self.fresh("n") + "_", fields=True)
        names.env = self.env
        parts = card_parts(card, names, totals=True, prefix=self.fresh("s") + "_", inline=True)
        if parts is None:
            raise _NotGenerated
        statements, returned = parts
        if set(names.names) & self.element_names:  # the card's function reads names through the frames too
            raise _NotGenerated
        needed: set[str] = set()
        for name in names.names:
            needed |= self.deps(name)
        self.ensure(self.expr_deps(card.when) | needed)
        self.emit(f"if {self.test(card.when)}:")
        self.depth += 1
        saved = set(self.known)
        for name, n_local in names.names.items():  # every name the card reads, read once, as its function does
            self.emit(f"{n_local} = {ast.unparse(ast.fix_missing_locations(self.global_ref(name)))}")
        assert names.fields is not None
        for (base, attr), f_local in names.fields.items():  # each field the card reads, read once
            self.emit(f"{f_local} = {base}.get({attr!r})")
        for st in statements:
            self.emit(ast.unparse(ast.fix_missing_locations(st)))
        self.emit(f"{local} = {ast.unparse(ast.fix_missing_locations(returned))}")
        self.known = saved
        self.depth -= 1
        self.emit(f"else: {local} = (None, None)")

    def leaf_lines(self, card: Scorecard, local: str) -> None:
        """The card scored line by line as :func:`.scoring.score_leaves` scores it, built into the item-by-item
        tree as :func:`.scoring.item_scores` builds it (in ``lv_<card>``), its total and subtotals summed from the
        leaves as :func:`.scoring._totals` sums them."""
        exprs = [e for leaves in card.category_leaves.values() for leaf in leaves for line in leaf.lines
                 for e in (line.when, line.count) if e is not None]
        needed: set[str] = set()
        for e in exprs:
            needed |= self.expr_deps(e)
        self.ensure(self.expr_deps(card.when) | needed)
        tree = f"lv_{card.name}"
        self.lazy.add(tree)
        self.emit(f"if {self.test(card.when)}:")
        self.depth += 1
        saved = set(self.known)
        zero = self.const(Decimal(0))
        mark = len(self.lines)
        self.fields = {}  # a fact's field read once, before the lines (as often as each line would read it)
        scores: dict[str, str] = {}
        for cat_leaves in card.category_leaves.values():
            for leaf in cat_leaves:
                self.emit(f"_ln = []; _tot = {zero}")
                for line in leaf.lines:
                    depth = self.depth
                    if line.when is not None:
                        self.emit(f"if {self.test(line.when)}:")
                        self.depth += 1
                    if line.per is not None:
                        assert line.count is not None
                        per = self.const(line.per)
                        self.emit(f"_cnt = {self.text(line.count)}")
                        self.emit("if _cnt is not None:")
                        self.emit("    if _cnt.__class__ is not _int and not _isnum(_cnt): _fb()")
                        self.emit("    if _cnt > 0:")
                        self.emit(f"        _pts = {per} * _cnt")
                        self.emit(f"        _ln.append({{'label': {line.label!r}, 'count': _cnt, 'per': {per}, "
                                  f"'points': _pts}})")
                        self.emit("        _tot += _pts")
                    else:
                        assert line.points is not None
                        points = self.const(line.points)
                        self.emit(f"_ln.append({{'label': {line.label!r}, 'points': {points}}})")
                        self.emit(f"_tot += {points}")
                    self.depth = depth
                maximum = self.const(leaf.max)
                score = self.fresh("_ls")
                scores[leaf.id] = score
                exact = f"_min({maximum}, _tot)" if leaf.bonus else f"_max({zero}, {maximum} - _tot)"
                exponent = leaf.max.as_tuple().exponent
                if leaf.max > 0 and isinstance(exponent, int) and exponent <= 0:
                    # no line applied: the item's max (or nothing, for a bonus), the very decimal the sum gives
                    exact = f"({exact} if _ln else {zero if leaf.bonus else maximum})"
                self.emit(f"{score} = {exact}")
                self.emit(f"{score}_i = _Item({leaf.id!r}, {leaf.label!r}, {self.const(leaf.max)}, {score}, "
                          f"{leaf.source!r}, {leaf.bonus!r}, _ln, [])")
        # a record is a dict (checked facts): its fields by .get, as field_of reads them; anything else falls back
        reads = [f"if {self.global_text(name)}.__class__ is not _dict: _fb()" for name in
                 dict.fromkeys(name for name, _ in self.fields)]
        reads += [f"{f_local} = {self.global_text(name)}.get({attr!r})" for (name, attr), f_local in self.fields.items()]
        self.fields = None
        self.lines[mark:mark] = ["    " * self.depth + line for line in reads]

        def node(n: ScoreNode) -> str:
            """The node's item (its local), children first, score summed as item_scores sums it."""
            if not n.children:
                return f"{scores[n.id]}_i"
            items = [node(ch) for ch in n.children]
            local_ = self.fresh("_it")
            total = " + ".join([zero] + [f"{i}.score" for i in items])
            self.emit(f"{local_} = _Item({n.id!r}, {n.label!r}, {self.const(n.max)}, {total}, {n.source!r}, "
                      f"{n.bonus!r}, [], [{', '.join(items)}])")
            return local_

        categories = [node(c) for c in card.categories]
        by_id = dict(zip((c.id for c in card.categories), categories, strict=True))
        if _exact_sums(card) and list(by_id) == list(card.category_leaves):
            # the sums are exact: a category's subtotal over its leaves is its item's score (the same digits and
            # exponent, nested or flat), and the total the sum of the subtotals, the root item's score
            grand = self.fresh("_gt")
            self.emit(f"{grand} = " + " + ".join([zero] + [f"{c}.score" for c in categories]))
            subtotals = ", ".join(f"{by_id[cid]}.score" for cid in card.category_leaves)
            root_total = grand
        else:
            grand = " + ".join([zero] + [scores[leaf.id] for cl in card.category_leaves.values() for leaf in cl])
            subtotals = ", ".join(" + ".join([zero] + [scores[leaf.id] for leaf in cl])
                                  for cl in card.category_leaves.values())
            root_total = " + ".join([zero] + [f"{c}.score" for c in categories])
        self.emit(f"{tree} = _Item({card.name!r}, {card.label!r}, {self.const(card.max)}, {root_total}, "
                  f"{card.source!r}, False, [], [{', '.join(categories)}])")
        self.emit(f"{local} = ({grand}, ({subtotals},))")
        self.known = saved
        self.depth -= 1
        self.emit(f"else: {local} = (None, None)")

    def computed(self) -> str:
        """For the item-by-item result (else None): what the function computed that the interpreter would compute
        again — derived and collected values ({name: value}) and the elements of `each` rules ({rule id: …})."""
        if not self.detail:
            return "None"
        for name in self.d.report:  # computed here when they can be (anything unusual: the interpreter decides)
            if self.kind(name) == "derived":
                self.emit(self.global_text(name))
        self.emit("_cv = {}")
        for name in self.d.derived:
            if self.kind(name) == "derived" and f"v_{name}" in self.lazy:
                self.emit(f"if v_{name} is not _U: _cv[{name!r}] = v_{name}")
        for name in self.collect_rule:
            if self.kind(name) == "collect" and f"k_{name}" in self.lazy:
                self.emit(f"if k_{name} is not _U: _cv[{name!r}] = k_{name}")
        self.emit("_ev = {}")
        for rule in self.d.rules:
            local = self.verdict_local(rule)
            if local in self.lazy:
                self.emit(f"if {local} is not _U: _ev[{rule.id!r}] = {local}")
        self.emit("_cl = {}")
        for cl in self.d.checklists.values():  # as checklists.checklist_rows gives them
            self.ensure(self.expr_deps(cl.when) | self.expr_deps(cl.provided)
                        | set().union(*(self.expr_deps(item.required_when) for item in cl.items)))
            self.emit(f"_ap = {self.test(cl.when)}")
            self.emit("_pv = None")
            if cl.provided is not None:
                self.emit("if _ap:")
                self.emit(f"    _pv = {self.text(cl.provided)}")
                self.emit("    if _pv is not None and _pv.__class__ is not _list: _fb()")
            rows = ", ".join(f"{{'id': {item.id!r}, 'label': {item.label!r}, "
                             f"'required': {self.test(item.required_when)}, 'source': {item.source!r}, "
                             f"'provided': ({item.id!r} in _pv) if _pv is not None else None}}" for item in cl.items)
            self.emit(f"_cl[{cl.name!r}] = [{rows}]")
        return "(_cv, _ev, _cl)"

    def global_text(self, name: str) -> str:
        return ast.unparse(ast.fix_missing_locations(self.global_ref(name)))

    def verdict_local(self, rule: Rule) -> str:
        return f"e_{self.d.rules.index(rule)}"

    def verdicts(self, rule: Rule) -> None:
        """:func:`.rules.verdicts`: one entry per element, (index, element, name, failures, outcome code)."""
        local = self.verdict_local(rule)
        if local in self.known:
            return
        self.lazy.add(local)
        self.emit(f"if {local} is _U:")
        self.depth += 1
        saved = set(self.known)
        assert rule.over is not None and rule.require is not None
        self.ensure(self.expr_deps(rule.when) | self.expr_deps(rule.over))
        self.emit(f"{local} = []")
        self.emit(f"if {self.test(rule.when)}:")
        self.depth += 1
        index, element = self.fresh("_i"), self.fresh("_el")
        self.emit(f"for {index}, {element} in _enumerate(_lst({self.text(rule.over)})):")
        self.depth += 1
        frame = {rule.as_name: element}
        self.frames = [*self.frames, frame]
        steps = len(rule.let) + (rule.where is not None) + _steps(rule.require) + (rule.outcome_expr is not None)
        self.emit(f"_b -= {steps}")
        self.emit("if _b < 0: _fb()")
        for name, expr in rule.let:
            self.ensure(self.expr_deps(expr))
            let_local = self.fresh("_l")
            self.emit(f"{let_local} = {self.text(expr)}")
            frame[name] = let_local  # visible to the lets after it, as in the interpreter's frame
        if rule.where is not None:
            self.ensure(self.expr_deps(rule.where))
            self.emit(f"if not {self.test(rule.where)}: continue")
        failures = self.fresh("_f")
        self.emit(f"{failures} = []")
        self.failures(rule.require, failures)
        self.ensure(self.message_deps(rule.element_name))
        name = self.fresh("_n")
        heads = [p[0] for p in template_parts(rule.element_name) if p.__class__ is tuple]
        if not self.detail and all(any(h in f for f in self.frames) for h in heads):
            # only a failing element's name is shown on the batch path, and one made of the element's own values
            # cannot fail: the others' are never written
            self.emit(f"{name} = {self.message(rule.element_name)} if {failures} else None")
        else:
            self.emit(f"{name} = {self.message(rule.element_name)}")
        code = "None"
        if rule.outcome_expr is not None:  # only for failing elements, as the interpreter asks it
            code = self.fresh("_o")
            self.ensure(self.expr_deps(rule.outcome_expr))
            self.emit(f"{code} = ({self.outcome_of(rule)}) if {failures} else None")
        else:
            code = repr(rule.outcome)
        self.emit(f"{local}.append(({index}, {element}, {name}, {failures}, {code}))")
        self.frames = self.frames[:-1]
        self.depth -= 2
        self.known = saved
        self.depth -= 1
        self.known.add(local)

    def outcome_of(self, rule: Rule) -> str:
        """:func:`.rules._outcome_of`: a fixed outcome, or an expression that must give a declared one."""
        if rule.outcome_expr is None:
            return repr(rule.outcome)
        codes = self.const(frozenset(self.d.outcomes))
        value = self.fresh("_oc")
        return f"({value} if ({value} := {self.text(rule.outcome_expr)}).__class__ is _str and {value} in {codes} " \
               f"else _fb())"

    def append_under(self, test: str, target: str, c: str, template: str, wrap: str = "{}") -> None:
        """``if <test>: <target>.append((<c>, <the message, wrapped>))``, what the message needs computed under
        the test."""
        self.emit(f"if {test}:")
        self.depth += 1
        saved = set(self.known)
        self.ensure(self.message_deps(template))
        self.emit(f"{target}.append(({c}, {wrap.format(self.message(template))}))")
        self.known = saved
        self.depth -= 1

    def failures(self, cond: Condition, target: str) -> None:
        """:func:`.rules._failures` as statements: append (condition, message) to ``target``."""
        self.ensure(self.expr_deps(cond.check) | self.expr_deps(cond.over) | self.expr_deps(cond.where))
        c = self.const(cond)
        if cond.op == "check":
            assert cond.check is not None
            self.append_under(f"not {self.test(cond.check)}", target, c, cond.message)
        elif cond.op == "all":
            inner = target
            if cond.message:
                inner = self.fresh("_f")
                self.emit(f"{inner} = []")
            for ch in cond.children:
                self.failures(ch, inner)
            if cond.message:
                self.append_under(inner, target, c, cond.message, f"_rules.all_failed({{}}, {inner})")
        elif cond.op == "any":
            held, collected = self.fresh("_h"), self.fresh("_f")
            self.emit(f"{held} = False")
            self.emit(f"{collected} = []")
            saved = set(self.known)
            for i, ch in enumerate(cond.children):
                if i:
                    self.emit(f"if not {held}:")
                    self.depth += 1
                one = self.fresh("_f")
                self.emit(f"{one} = []")
                self.failures(ch, one)
                self.emit(f"if not {one}: {held} = True")
                self.emit(f"else: {collected}.extend({one})")
                if i:
                    self.depth -= 1
            self.known = saved
            if cond.message:
                self.append_under(f"not {held}", target, c, cond.message)
            else:
                self.emit(f"if not {held}: {target}.append(({c}, _rules.none_held({collected})))")
        elif cond.op == "not":
            one = self.fresh("_f")
            self.emit(f"{one} = []")
            self.failures(cond.children[0], one)
            self.append_under(f"not {one}", target, c, cond.message)
        elif cond.op == "each":
            assert cond.over is not None
            element = self.fresh("_el")
            saved = set(self.known)
            self.emit(f"for {element} in _lst({self.text(cond.over)}):")
            self.depth += 1
            self.frames = [*self.frames, {cond.as_name: element}]
            self.emit(f"_b -= {(cond.where is not None) + _steps(cond.children[0])}")
            self.emit("if _b < 0: _fb()")
            if cond.where is not None:
                self.emit(f"if not {self.test(cond.where)}: continue")
            one = self.fresh("_f")
            self.emit(f"{one} = []")
            self.failures(cond.children[0], one)
            self.emit(f"if {one}:")
            self.depth += 1
            self.ensure(self.message_deps(cond.element_name) | self.message_deps(cond.message))
            name = self.fresh("_n")
            self.emit(f"{name} = {self.message(cond.element_name)}")
            if cond.message:
                self.emit(f"{target}.append(({c}, _rules.named({name}, {self.message(cond.message)})))")
            else:
                self.emit(f"{target}.extend((c, _rules.named({name}, m)) for c, m in {one})")
            self.depth -= 2
            self.frames = self.frames[:-1]
            self.known = saved
        else:
            raise _NotGenerated

    # ---- rules and the whole function

    def rule(self, rule: Rule) -> None:
        self.ensure(self.expr_deps(rule.when))
        if rule.when is not None:
            test = self.test(rule.when)  # what it computes on every path is known after it
            self.emit(f"if {test}:")
            self.depth += 1
        saved = set(self.known)
        self.emit("pass")
        r = self.const(rule)
        if rule.kind == "trigger":
            self.ensure(self.expr_deps(rule.outcome_expr) | self.message_deps(rule.message))
            code = self.outcome_of(rule)
            self.emit(f"_r.append(_Reason({rule.id!r}, {code}, {self.message(rule.message)}, {rule.source!r}))")
        elif rule.kind == "bands":
            assert rule.score is not None
            self.ensure(self.expr_deps(rule.score))
            score = self.fresh("_sc")
            self.emit(f"{score} = {self.text(rule.score)}")
            self.emit(f"if {score} is not None:")
            self.depth += 1
            self.emit(f"if {score}.__class__ is not _Dec and not _isnum({score}): _fb()")
            inner_saved = set(self.known)
            for i, band in enumerate(rule.bands):
                tests = []
                if band.min is not None:
                    tests.append(f"{score} >= {self.const(band.min)}")
                if band.below is not None:
                    tests.append(f"{score} < {self.const(band.below)}")
                self.emit(f"{'if' if i == 0 else 'elif'} {' and '.join(tests) or 'True'}:")
                self.depth += 1
                self.known = set(inner_saved)
                if band.message:
                    self.ensure(self.message_deps(band.message))
                    text = self.message(band.message)
                else:
                    text = f"_rules.band_text({score}, {self.const(band.min)}, {self.const(band.below)})"
                self.emit(f"_r.append(_Reason({rule.id!r}, {band.outcome!r}, {text}, {rule.source!r}))")
                self.depth -= 1
            self.known = inner_saved
            self.emit("else: _fb()")  # no band holds: band-uncovered
            self.depth -= 1
        elif rule.kind == "conditions":
            assert rule.require is not None
            failures = self.fresh("_f")
            self.emit(f"{failures} = []")
            self.failures(rule.require, failures)
            self.emit(f"if {failures}:")
            self.depth += 1
            self.ensure(self.expr_deps(rule.outcome_expr))
            code = self.fresh("_o")
            self.emit(f"{code} = {self.outcome_of(rule)}")
            self.emit(f"for c, m in {failures}: _r.append(_Reason(_rules.part_id({rule.id!r}, c), {code}, m, "
                      f"c.source or {rule.source!r}))")
            self.depth -= 1
        elif rule.kind == "each":
            self.verdicts(rule)
            v = self.verdict_local(rule)
            self.emit(f"for i, e, n, f, o in {v}:")
            self.emit(f"    for c, m in f: _r.append(_rules.each_reason({r}, i, n, c, m, o))")
        else:
            raise _NotGenerated
        if rule.when is not None:
            self.depth -= 1
        self.known = saved | ({self.verdict_local(rule)} if rule.kind == "each" and rule.when is None else set())

    def checklist_reasons(self) -> None:
        for cl in self.d.checklists.values():
            if cl.outcome is None:
                continue
            cl_const = self.const(cl)
            self.ensure(self.expr_deps(cl.when) | self.expr_deps(cl.provided)
                        | set().union(*(self.expr_deps(item.required_when) for item in cl.items)))
            provided = self.fresh("_p")
            if cl.provided is not None:
                self.emit(f"{provided} = None")
                self.emit(f"if {self.test(cl.when)}:")
                self.emit(f"    {provided} = {self.text(cl.provided)}")
                self.emit(f"    if {provided} is not None and {provided}.__class__ is not _list: _fb()")
            else:
                self.emit(f"{self.test(cl.when)}")
                self.emit(f"{provided} = None")
            for item in cl.items:  # every item's condition is evaluated, as checklist_rows does
                self.emit(f"if {self.test(item.required_when)} and {provided} is not None and "
                          f"{item.id!r} not in {provided}:")
                self.emit(f"    _r.append(_rules.checklist_reason({cl_const}, {item.id!r}, {item.label!r}, "
                          f"{item.source!r}))")

    def generate(self) -> str:
        d = self.d
        budget = sum(1 for _ in _all_exprs(d))
        if budget > MAX_EVALUATION_STEPS // 4:
            raise _NotGenerated
        self.emit("_r = []")
        for rule in d.rules:
            self.rule(rule)
        self.checklist_reasons()
        rank = self.const({code: o.rank for code, o in d.outcomes.items()})
        self.emit(f"v_outcome, _r = _rules.settle(_d, _r, {rank})")
        self.outcome_known = True
        for name in d.deadlines:
            self.ensure({name})
        entries = ", ".join(f"{name!r}: {self.hoisted_local(name)}" for name in d.deadlines)
        self.emit(f"_dl = {{{entries}}}")
        if d.primary_score:
            self.ensure({d.primary_score})
            card = d.scorecards[d.primary_score]
            pair = self.hoisted_local(d.primary_score)
            empty = self.const({node.id: None for node in card.categories})
            keys = self.const(tuple(card.category_leaves))
            self.emit(f"if {pair}[0] is None: _sc = _dict({empty})")
            self.emit(f"else: _sc = _dict(_zip({keys}, {pair}[1]))")
            leaves = f"lv_{d.primary_score}" if self.detail else "None"
            if self.detail:
                self.lazy.add(leaves)
                self.emit(f"if {leaves} is _U: {leaves} = None")
            self.emit(f"return v_outcome, _r, _dl, {pair}[0], _sc, {leaves}, {self.computed()}")
        else:
            self.emit(f"return v_outcome, _r, _dl, None, {{}}, None, {self.computed()}")
        body = self.lines
        head = ["def _decision(_facts, _as_of, _cal):",
                f"    if _len(_facts) != {len(d.inputs)}: _fb()"]
        head += [f"    i_{name} = _facts[{name!r}]" for name in d.inputs]
        if self.uses_context:
            head.append("    _c = _CalendarOnly(_cal)")
        head.append(f"    _b = {_LOOP_BUDGET}")
        if self.lazy:
            head.append("    " + " = ".join(sorted(self.lazy)) + " = _U")
        return "\n".join(head + body) + "\n"


def _call(name: str) -> ast.expr:
    return ast.Call(ast.Name(name, ast.Load()), [], [])


def _steps(cond: Condition) -> int:
    """Expressions the interpreter runs for a condition tree, one element of its loops not counted."""
    n = (cond.check is not None) + (cond.over is not None)
    if cond.op == "each":
        return n
    return n + sum(_steps(ch) for ch in cond.children)


def _exact_sums(card: Scorecard) -> bool:
    """Whether every sum of the card's item scores is exact in the decimal context (no rounding): each item scores
    between 0 and its max, with no more places than its max, ``per`` or ``points``; all of them together then need
    far fewer digits than the context's precision."""
    places = 0
    top = Decimal(0)
    for leaves in card.category_leaves.values():
        for leaf in leaves:
            amounts = [leaf.max] + [a for line in leaf.lines for a in (line.per, line.points) if a is not None]
            for a in amounts:
                exponent = a.as_tuple().exponent
                if not a.is_finite() or a < 0 or not isinstance(exponent, int):
                    return False
                places = max(places, -exponent)
            top += leaf.max
    return len(str(int(top))) + places + 2 < getcontext().prec


def _element_names(cond: Condition) -> set[str]:
    out = {cond.as_name} if cond.as_name else set()
    for ch in cond.children:
        out |= _element_names(ch)
    return out


def _all_exprs(d: Decision) -> list[CompiledExpr]:
    out: list[CompiledExpr] = [dv.expr for dv in d.derived.values()]
    for dl in d.deadlines.values():
        out += [e for e in (dl.when, dl.date, dl.start, dl.amount) if e is not None]
    for card in d.scorecards.values():
        if card.when is not None:
            out.append(card.when)
        for leaves in card.category_leaves.values():
            for leaf in leaves:
                for line in leaf.lines:
                    out += [e for e in (line.when, line.count) if e is not None]
    for rule in d.rules:
        out += [e for e in (rule.when, rule.score, rule.over, rule.where, rule.outcome_expr) if e is not None]
        out += [e for _, e in rule.let]
        if rule.require is not None:
            out += _cond_exprs(rule.require)
    for cl in d.checklists.values():
        out += [e for e in (cl.when, cl.provided) if e is not None]
        out += [item.required_when for item in cl.items if item.required_when is not None]
    return out


def _cond_exprs(cond: Condition) -> list[CompiledExpr]:
    out = [e for e in (cond.check, cond.over, cond.where) if e is not None]
    for ch in cond.children:
        out += _cond_exprs(ch)
    return out
