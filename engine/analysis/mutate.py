"""Mutation testing of a pack: how firmly its own test cases pin the boundaries of the rules.

Each decision is compiled once; a *mutant* is the compiled decision with one small change made to the frozen model
(:func:`dataclasses.replace` down the path to the changed part, a new :class:`~skillcert.compiler.model.Decision`
object, so that nothing keyed by the original — its generated code, its resolver — is reused or touched):

* ``param:NAME+1`` / ``param:NAME-1``: a number, a date or a count of days one unit of its own precision up or down
  (80 → 79/81, 0.4 → 0.3/0.5, 0.10 → 0.09/0.11, 2024-10-15 → 10-14/10-16), also in the score bands that name it;
* ``amount:CARD.ITEM#LINE.per+1`` …: a scorecard line's deduction or award the same way (a fixed deduction already
  equal to its item's maximum is not raised: the item's cap makes that mutant identical to the original);
* ``cmp:WHERE#N:>=→>``: the N-th comparison of an expression turned ``<``↔``<=``, ``>``↔``>=``, ``==``↔``!=``, and
  a score band's bound made strict or inclusive (``cmp:rules.ID.bands#1.min:>=→>``);
* ``drop:WHERE#N.K`` / ``drop:rules.ID.require.K``: the K-th operand of the N-th ``and``/``or`` of an expression, or
  the K-th condition of an ``all``/``any``, left out;
* ``line:CARD.ITEM#LINE``: a scorecard's deduction (or award) line left out.

The pack's cases run against every mutant in process (facts checked once, with the original decision: a mutant
never changes the inputs); a mutant is *killed* by the first case that fails on it. One no case kills is a
*survivor*, reported with its rule, its clause and — searched for here, by changing the facts of a passing case one
or two at a time near the values the mutated part compares — a *suggested case*: facts on which the original and
the mutant differ, with the original's result as what the case should expect. A mutant that cannot change any
outcome is *equivalent*: the test file of its decision explains it (``mutants: [{id, reason}]``), and an explanation
naming a mutant that no longer exists is a finding. The score of a pack is killed ÷ (mutants − explained), exact.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..compiler.model import Band, Condition, Decision, Pack, Scorecard, ScoreLine, ScoreNode
from ..compiler.scorecode import compile_scorecard, compile_totals
from ..documents.inputs import split_facts
from ..errors import Location, Problem, SkillcertError, UsageError
from ..lang.bytecode import to_python
from ..lang.expr import CompiledExpr, FunctionSpec
from ..library import Library, load
from ..runtime.evaluate import evaluate_checked
from ..runtime.facts import validate_facts
from ..runtime.result import DecisionResult
from ..source.loader import load_file
from ..source.schema import check_document
from ..values import display_value, format_decimal, jsonable
from .tester import Case, case_files_under, compare, load_cases, policies_root

__all__ = ["Mutant", "MutantResult", "Suggestion", "DecisionMutation", "PackMutation", "MutationReport",
           "generate", "build", "run_mutation", "explanations_of", "explanation_problems", "percent", "KINDS", "MUTANTS_FILE"]

KINDS = ("param", "amount", "cmp", "drop", "line")
KIND_LABELS = {"param": "参数", "amount": "扣分/加分分值", "cmp": "比较", "drop": "条件", "line": "评分行"}

# A strict score band (``score > min``) is the inclusive one moved up by this much: no score of a pack comes this
# close to a bound without reaching it (facts have at most 10 decimal places, deductions a few).
_EPSILON = Decimal("1E-20")
# evaluations the search for a suggested case may spend on one survivor (deterministic, unlike a time limit)
SEARCH_BUDGET = 4000

_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                                                 ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_SYMBOL: dict[type[ast.cmpop], str] = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
                                       ast.NotEq: "!="}

Steps = tuple[tuple[str, Any], ...]   # ("attr", field) | ("key", mapping key) | ("idx", tuple index)


@dataclass(frozen=True)
class Mutant:
    """One small change of a decision: a stable id, what it changes in Chinese, where (rule, clause)."""

    id: str
    kind: str
    decision: str
    rule: str                   # the rule or part of the decision it changes (its id, or derived:NAME …)
    clause: str                 # the clause of the notice that part cites
    change: str                 # 参数 renew_min_score 80 → 81
    make: Callable[[Decision], Decision] = field(repr=False, compare=False)
    reads: frozenset[str] = frozenset()   # names (and record.field paths) the changed part reads
    bounds: tuple[Any, ...] = ()          # values it compares against (for the search of a suggested case)


@dataclass(frozen=True)
class Suggestion:
    """Facts on which the original and the mutant differ: a case to add."""

    base_case: str
    facts: dict[str, Any]        # the changes to the base case's facts (dotted paths)
    as_of: dt.date | None
    want: dict[str, Any]         # what the original gives there
    mutant_gives: str

    def as_dict(self) -> dict[str, Any]:
        return {"base_case": self.base_case, "facts": jsonable(self.facts),
                "as_of": self.as_of.isoformat() if self.as_of else None, "want": jsonable(self.want),
                "mutant_gives": self.mutant_gives}


@dataclass
class MutantResult:
    mutant: Mutant
    status: str                          # killed | survived | explained
    killed_by: str = ""
    reason: str = ""                     # the pack's explanation (explained)
    suggestion: Suggestion | None = None

    def as_dict(self) -> dict[str, Any]:
        m = self.mutant
        out: dict[str, Any] = {"id": m.id, "kind": m.kind, "rule": m.rule, "clause": m.clause, "change": m.change,
                               "status": self.status}
        if self.killed_by:
            out["killed_by"] = self.killed_by
        if self.reason:
            out["reason"] = self.reason
        if self.status == "survived":
            out["suggested_case"] = self.suggestion.as_dict() if self.suggestion else None
        return out


@dataclass
class DecisionMutation:
    decision: str
    cases: int
    results: list[MutantResult] = field(default_factory=list)


def percent(killed: int, of: int) -> tuple[str, bool]:
    """``killed / of`` as a percentage: the exact decimal when it has one (97.5), else two places cut down (never
    shown as 100 when it is not), with False."""
    if of == 0:
        return "100", True
    f = Fraction(100 * killed, of)
    den = f.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den == 1:
        return format_decimal(Decimal(f.numerator) / Decimal(f.denominator)), True
    cents = (f.numerator * 100) // f.denominator
    return format_decimal(Decimal(cents) / 100), False


@dataclass
class PackMutation:
    pack: str
    decisions: list[DecisionMutation] = field(default_factory=list)

    def count(self, status: str | None = None) -> int:
        return sum(1 for d in self.decisions for r in d.results if status is None or r.status == status)

    @property
    def score(self) -> tuple[str, bool]:
        return percent(self.count("killed"), self.count() - self.count("explained"))

    def as_dict(self) -> dict[str, Any]:
        text, exact = self.score
        return {"pack": self.pack, "mutants": self.count(), "killed": self.count("killed"),
                "survived": self.count("survived"), "explained": self.count("explained"),
                "score": {"killed": self.count("killed"), "of": self.count() - self.count("explained"),
                          "percent": text, "exact": exact},
                "decisions": [{"decision": d.decision, "cases": d.cases, "mutants": [r.as_dict() for r in d.results]}
                              for d in self.decisions]}


@dataclass
class MutationReport:
    packs: list[PackMutation] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(p.count("survived") == 0 for p in self.packs)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "packs": [p.as_dict() for p in self.packs],
                "problems": [{"code": p.code, "message": p.message, "location": str(p.location)}
                             for p in self.problems]}

    def render(self, verbose: bool = False) -> str:
        lines: list[str] = []
        for pack in self.packs:
            text, exact = pack.score
            lines.append(f"政策包 {pack.pack}:变异 {pack.count()} 个,被用例发现 {pack.count('killed')} 个,"
                         f"存活 {pack.count('survived')} 个,已说明等价 {pack.count('explained')} 个;"
                         f"变异得分 {'' if exact else '≈'}{text}%"
                         f"({pack.count('killed')}/{pack.count() - pack.count('explained')})")
            for d in pack.decisions:
                survivors = [r for r in d.results if r.status == "survived"]
                lines.append(f"  {d.decision}:{d.cases} 个用例,{len(d.results)} 个变异,存活 {len(survivors)} 个")
                by_clause: dict[str, list[MutantResult]] = {}
                for r in survivors:
                    by_clause.setdefault(r.mutant.clause or "(未注明条款)", []).append(r)
                for clause, rs in by_clause.items():
                    lines.append(f"    条款 {clause}:")
                    for r in rs:
                        lines.extend("      " + t for t in _survivor_lines(r))
                if verbose:
                    for r in d.results:
                        if r.status == "killed":
                            lines.append(f"    发现  {r.mutant.id}  ← 用例 {r.killed_by}")
                        elif r.status == "explained":
                            lines.append(f"    等价  {r.mutant.id}:{r.reason}")
        for p in self.problems:
            lines.append(str(p))
        lines.append("")
        total = sum(p.count() for p in self.packs)
        survived = sum(p.count("survived") for p in self.packs)
        lines.append(f"共 {total} 个变异,存活 {survived} 个" + (f";{len(self.problems)} 个问题" if self.problems else "")
                     + f";用时 {self.seconds:.1f} 秒")
        return "\n".join(lines) + "\n"


def _survivor_lines(r: MutantResult) -> list[str]:
    m = r.mutant
    out = [f"存活 {m.id}", f"  规则:{m.rule};变异:{m.change}"]
    s = r.suggestion
    if s is None:
        out.append("  建议用例:在附近的事实中没有找到能区分原规则和变异的情形;若确实不可能改变任何结论,"
                   "请在政策包的 mutants.yaml 中说明理由")
        return out
    facts = ",".join(f"{k}: {_show(v)}" for k, v in s.facts.items()) or "(与该用例相同)"
    out.append(f"  建议用例:以用例 {s.base_case} 为基础,{facts}" + (f",评估日 {s.as_of}" if s.as_of else ""))
    out.append(f"    应得 {', '.join(f'{k}: {_show(v)}' for k, v in s.want.items())};变异得出 {s.mutant_gives}")
    return out


def _show(v: Any) -> str:
    if isinstance(v, (list, dict)):
        return str(jsonable(v))
    return display_value(v)


def _written(v: Any) -> str:
    """A value as a pack writes it: a decimal with its own places (0.10, not 0.1: the unit changed is 0.01)."""
    if isinstance(v, Decimal) and "E" not in str(v):
        return str(v)
    return _show(v)


# ---- generation ------------------------------------------------------------------------------------------------


def _replace(obj: Any, steps: Steps, new: Any) -> Any:
    """``obj`` with the part at ``steps`` replaced by ``new``; the containers on the way are copies."""
    if not steps:
        return new
    (kind, key), rest = steps[0], steps[1:]
    if kind == "attr":
        return dataclasses.replace(obj, **{key: _replace(getattr(obj, key), rest, new)})
    if kind == "key":
        out = dict(obj)
        out[key] = _replace(obj[key], rest, new)
        return out
    items = list(obj)
    items[key] = _replace(obj[key], rest, new)
    return tuple(items)


def _mutated(d: Decision, steps: Steps, new: Any) -> Decision:
    out: Decision = _replace(d, steps, new)
    return out


def _get(obj: Any, steps: Steps) -> Any:
    for kind, key in steps:
        obj = getattr(obj, key) if kind == "attr" else obj[key]
    return obj


def _refresh_cards(d: Decision, original: Decision, functions: Mapping[str, FunctionSpec]) -> Decision:
    """A scorecard that changed gets its leaves' index and its generated functions again (the compiler's last
    steps for a card): the original's functions score the original's lines."""
    cards = dict(d.scorecards)
    changed = False
    for name, card in d.scorecards.items():
        if card is original.scorecards.get(name):
            continue
        card = dataclasses.replace(card, category_leaves={c.id: c.leaves() for c in card.categories})
        cards[name] = dataclasses.replace(card, fast=compile_scorecard(card, functions),
                                          totals=compile_totals(card, functions))
        changed = True
    return dataclasses.replace(d, scorecards=cards) if changed else d


@dataclass(frozen=True)
class _Site:
    """An expression of the decision: where it is (steps, a readable name), the rule and clause it belongs to."""

    steps: Steps
    where: str
    expr: CompiledExpr
    rule: str
    clause: str


def _condition_sites(cond: Condition, steps: Steps, where: str, rule: str, clause: str) -> Iterator[_Site]:
    clause = cond.source or clause
    if cond.check is not None:
        yield _Site(steps + (("attr", "check"),), where + ".check", cond.check, rule, clause)
    if cond.over is not None:
        yield _Site(steps + (("attr", "over"),), where + ".each", cond.over, rule, clause)
    if cond.where is not None:
        yield _Site(steps + (("attr", "where"),), where + ".where", cond.where, rule, clause)
    for i, child in enumerate(cond.children):
        step = f".{i + 1}" if cond.op in ("all", "any") else f".{cond.op}"
        yield from _condition_sites(child, steps + (("attr", "children"), ("idx", i)), where + step, rule, clause)


def _card_nodes(card: Scorecard) -> Iterator[tuple[ScoreNode, Steps]]:
    def walk(node: ScoreNode, steps: Steps) -> Iterator[tuple[ScoreNode, Steps]]:
        yield node, steps
        for i, child in enumerate(node.children):
            yield from walk(child, steps + (("attr", "children"), ("idx", i)))

    for i, cat in enumerate(card.categories):
        yield from walk(cat, (("attr", "categories"), ("idx", i)))


def _sites(d: Decision) -> Iterator[_Site]:
    """Every expression that can change a result (tables only lay out what is computed elsewhere: left out)."""
    for name, dv in d.derived.items():
        yield _Site((("attr", "derived"), ("key", name), ("attr", "expr")), f"derived.{name}", dv.expr,
                    f"derived:{name}", dv.source)
    for name, dl in d.deadlines.items():
        for part in ("date", "start", "amount", "when"):
            e = getattr(dl, part)
            if e is not None:
                yield _Site((("attr", "deadlines"), ("key", name), ("attr", part)), f"deadlines.{name}.{part}", e,
                            f"deadline:{name}", dl.source)
    for i, rule in enumerate(d.rules):
        base: Steps = (("attr", "rules"), ("idx", i))
        for part in ("when", "score", "over", "where", "outcome_expr"):
            e = getattr(rule, part)
            if e is not None:
                yield _Site(base + (("attr", part),), f"rules.{rule.id}.{part}", e, rule.id, rule.source)
        for j, (name, e) in enumerate(rule.let):
            yield _Site(base + (("attr", "let"), ("idx", j)), f"rules.{rule.id}.let.{name}", e, rule.id, rule.source)
        if rule.require is not None:
            yield from _condition_sites(rule.require, base + (("attr", "require"),), f"rules.{rule.id}.require",
                                        rule.id, rule.source)
    for cname, card in d.scorecards.items():
        cbase: Steps = (("attr", "scorecards"), ("key", cname))
        if card.when is not None:
            yield _Site(cbase + (("attr", "when"),), f"scorecards.{cname}.when", card.when, f"scorecard:{cname}",
                        card.source)
        for node, steps in _card_nodes(card):
            for k, line in enumerate(node.lines):
                lsteps = cbase + steps + (("attr", "lines"), ("idx", k))
                for part in ("count", "when"):
                    e = getattr(line, part)
                    if e is not None:
                        yield _Site(lsteps + (("attr", part),), f"scorecards.{cname}.{node.id}#{k + 1}.{part}", e,
                                    f"scorecard:{cname}.{node.id}", line.source or node.source)
    for name, cl in d.checklists.items():
        base = (("attr", "checklists"), ("key", name))
        for part in ("provided", "when"):
            e = getattr(cl, part)
            if e is not None:
                yield _Site(base + (("attr", part),), f"checklists.{name}.{part}", e, f"checklist:{name}", cl.source)
        for k, item in enumerate(cl.items):
            if item.required_when is not None:
                yield _Site(base + (("attr", "items"), ("idx", k), ("attr", "required_when")),
                            f"checklists.{name}.{item.id}.required_when", item.required_when,
                            f"checklist:{name}", item.source or cl.source)


def _reads(tree: ast.AST) -> set[str]:
    """Names and ``record.field`` paths an expression reads."""
    out: set[str] = set()
    bases: set[int] = set()  # a record read only through its fields (findings.posts_missing): not the whole record
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            out.add(f"{node.value.id}.{node.attr}")
            bases.add(id(node.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in bases:
            out.add(node.id)
    return out


def _with_tree(expr: CompiledExpr, tree: ast.expr, functions: Mapping[str, FunctionSpec]) -> CompiledExpr:
    new = dataclasses.replace(expr, text=_unparse(tree, expr.text), tree=tree, fn=None)
    new.fn = to_python(new, functions)
    return new


def _unparse(tree: ast.expr, fallback: str) -> str:
    try:
        return ast.unparse(tree)
    except Exception:  # noqa: BLE001 - only for messages: the original text will do
        return fallback


def _constants(tree: ast.AST) -> list[Any]:
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value is not None]


def _site_mutants(d: Decision, site: _Site, functions: Mapping[str, FunctionSpec]) -> Iterator[Mutant]:
    reads = frozenset(_reads(site.expr.tree))
    bounds = tuple(_constants(site.expr.tree)) + tuple(d.parameter_values[n] for n in sorted(reads)
                                                       if n in d.parameter_values)
    compares = [n for n in ast.walk(site.expr.tree) if isinstance(n, ast.Compare)]
    position = 0
    for ci, compare_node in enumerate(compares):
        for oi, op in enumerate(compare_node.ops):
            position += 1
            if type(op) not in _FLIP:
                continue
            new_op = _FLIP[type(op)]
            a, b = _SYMBOL[type(op)], _SYMBOL[new_op]

            def make(dd: Decision, ci: int = ci, oi: int = oi, new_op: type[ast.cmpop] = new_op) -> Decision:
                tree = copy.deepcopy(site.expr.tree)
                target = [n for n in ast.walk(tree) if isinstance(n, ast.Compare)][ci]
                target.ops[oi] = new_op()
                return _mutated(dd, site.steps, _with_tree(site.expr, tree, functions))

            yield Mutant(f"cmp:{site.where}#{position}:{a}→{b}", "cmp", d.id, site.rule, site.clause,
                         f"{site.where} 中第 {position} 个比较 {a} 改为 {b}:`{site.expr.text}`", make, reads, bounds)
    boolops = [n for n in ast.walk(site.expr.tree) if isinstance(n, ast.BoolOp)]
    for bi, bool_node in enumerate(boolops):
        word = "and" if isinstance(bool_node.op, ast.And) else "or"
        for k, operand in enumerate(bool_node.values):

            def drop(dd: Decision, bi: int = bi, k: int = k) -> Decision:
                tree = copy.deepcopy(site.expr.tree)
                group = [n for n in ast.walk(tree) if isinstance(n, ast.BoolOp)][bi]
                del group.values[k]
                if len(group.values) == 1:  # `a and b` without b is a
                    tree = _substitute(tree, group, group.values[0])
                return _mutated(dd, site.steps, _with_tree(site.expr, tree, functions))

            yield Mutant(f"drop:{site.where}#{bi + 1}.{k + 1}", "drop", d.id, site.rule, site.clause,
                         f"{site.where} 的第 {bi + 1} 个 {word} 去掉第 {k + 1} 项 `{_unparse(operand, '')}`",
                         drop, reads, bounds)


def _substitute(tree: ast.expr, old: ast.AST, new: ast.expr) -> ast.expr:
    if tree is old:
        return new

    class Swap(ast.NodeTransformer):
        def visit(self, node: ast.AST) -> Any:
            return new if node is old else super().visit(node)

    out: ast.expr = Swap().visit(tree)
    return out


def _condition_drops(d: Decision, cond: Condition, steps: Steps, where: str, rule: str,
                     clause: str) -> Iterator[Mutant]:
    clause = cond.source or clause
    if cond.op in ("all", "any") and len(cond.children) > 1:
        for k, child in enumerate(cond.children):
            remaining = cond.children[:k] + cond.children[k + 1:]

            def make(dd: Decision, remaining: tuple[Condition, ...] = remaining) -> Decision:
                return _mutated(dd, steps + (("attr", "children"),), remaining)

            shown = child.message or child.id or (child.check.text if child.check is not None else child.op)
            yield Mutant(f"drop:{where}.{k + 1}", "drop", d.id, rule, child.source or clause,
                         f"{where}({cond.op})去掉第 {k + 1} 个条件:{shown}", make,
                         frozenset(n for c in _condition_exprs(child) for n in _reads(c.tree)),
                         tuple(v for c in _condition_exprs(child) for v in _constants(c.tree)))
    for i, child in enumerate(cond.children):
        step = f".{i + 1}" if cond.op in ("all", "any") else f".{cond.op}"
        yield from _condition_drops(d, child, steps + (("attr", "children"), ("idx", i)), where + step, rule, clause)


def _condition_exprs(cond: Condition) -> Iterator[CompiledExpr]:
    for e in (cond.check, cond.over, cond.where):
        if e is not None:
            yield e
    for child in cond.children:
        yield from _condition_exprs(child)


def _step(value: Any) -> Any:
    """One unit of a value's own precision: 1 for an integer, 0.1 for 0.4, 0.01 for 0.10, a day for a date."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return 1
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return Decimal(1).scaleb(exponent if isinstance(exponent, int) and exponent < 0 else 0)
    if isinstance(value, dt.date):
        return dt.timedelta(days=1)
    return None


def _band_refs(d: Decision) -> dict[str, list[tuple[int, int, str]]]:
    """Parameter name → the score band bounds that name it (rule index, band index, min|below): the compiled band
    holds the value, so a changed parameter must be carried there too. Read from the pack's YAML."""
    pack = d.pack
    out: dict[str, list[tuple[int, int, str]]] = {}
    if pack is None or not pack.directory:
        return out
    # the pack's own file (pack.yaml, or pack-<version>.yaml for another version in the folder)
    path = Path(pack.directory) / Path(pack.files[0] if pack.files else "pack.yaml").name
    if not path.is_file():
        return out
    raw = load_file(path).data.get("decisions", {}).get(d.name, {})
    for i, rule in enumerate(raw.get("rules", [])):
        for j, band in enumerate(rule.get("bands", []) if isinstance(rule, dict) else []):
            for bound in ("min", "below"):
                name = band.get(bound) if isinstance(band, dict) else None
                if isinstance(name, str) and name in d.parameters:
                    out.setdefault(name, []).append((i, j, bound))
    return out


def _param_mutants(d: Decision, sites: list[_Site]) -> Iterator[Mutant]:
    refs = _band_refs(d)
    for name, p in d.parameters.items():
        unit = _step(p.value)
        if unit is None:
            continue
        readers = sorted({s.rule for s in sites if name in s.expr.names}
                         | {d.rules[i].id for i, _, _ in refs.get(name, [])})
        reads = frozenset(n for s in sites if name in s.expr.names for n in _reads(s.expr.tree))
        for sign, new in (("+", p.value + unit), ("-", p.value - unit)):

            def make(dd: Decision, name: str = name, new: Any = new) -> Decision:
                dd = _mutated(dd, (("attr", "parameters"), ("key", name)),
                              dataclasses.replace(dd.parameters[name], value=new))
                dd = dataclasses.replace(dd, parameter_values={**dd.parameter_values, name: new})
                for i, j, bound in refs.get(name, []):
                    dd = _mutated(dd, (("attr", "rules"), ("idx", i), ("attr", "bands"), ("idx", j), ("attr", bound)),
                                  Decimal(new))
                return dd

            unit_text = f" {p.unit}" if p.unit else ""
            yield Mutant(f"param:{name}{sign}1", "param", d.id, "、".join(readers) or "(无规则引用)", p.source,
                         f"参数 {name}({p.label}){_written(p.value)}{unit_text} → {_written(new)}{unit_text}", make,
                         reads | {name}, (p.value, new))


def _band_mutants(d: Decision) -> Iterator[Mutant]:
    for i, rule in enumerate(d.rules):
        score_reads = frozenset(_reads(rule.score.tree)) if rule.score is not None else frozenset()
        for j, band in enumerate(rule.bands):
            for bound, a, b in (("min", ">=", ">"), ("below", "<", "<=")):
                value = getattr(band, bound)
                if value is None or _caught_earlier(rule.bands, j, value):
                    continue  # the first band that holds a score decides: this bound's own score never gets here

                def make(dd: Decision, i: int = i, j: int = j, bound: str = bound, value: Decimal = value) -> Decision:
                    return _mutated(dd, (("attr", "rules"), ("idx", i), ("attr", "bands"), ("idx", j),
                                         ("attr", bound)), value + _EPSILON)

                yield Mutant(f"cmp:rules.{rule.id}.bands#{j + 1}.{bound}:{a}→{b}", "cmp", d.id, rule.id, rule.source,
                             f"分数段 {j + 1}({band.outcome})的{'下限' if bound == 'min' else '上限'} "
                             f"得分 {a} {format_decimal(value)} 改为 {b} {format_decimal(value)}", make, score_reads,
                             (value,))


def _caught_earlier(bands: tuple[Band, ...], j: int, value: Decimal) -> bool:
    return any((b.min is None or value >= b.min) and (b.below is None or value < b.below) for b in bands[:j])


def _line_mutants(d: Decision) -> Iterator[Mutant]:
    for cname, card in d.scorecards.items():
        for node, steps in _card_nodes(card):
            lines_steps: Steps = (("attr", "scorecards"), ("key", cname)) + steps + (("attr", "lines"),)
            for k, line in enumerate(node.lines):
                where = f"{cname}.{node.id}#{k + 1}"
                clause = line.source or node.source
                reads = frozenset(n for e in (line.count, line.when) if e is not None for n in _reads(e.tree))
                rest = node.lines[:k] + node.lines[k + 1:]

                def drop(dd: Decision, rest: tuple[ScoreLine, ...] = rest, s: Steps = lines_steps) -> Decision:
                    return _mutated(dd, s, rest)

                what = "加分" if node.bonus else "扣分"
                yield Mutant(f"line:{where}", "line", d.id, f"scorecard:{cname}.{node.id}", clause,
                             f"评分项 {node.id}({node.label})去掉第 {k + 1} 条{what}:{line.label}", drop, reads,
                             (line.per or line.points,))
                for part in ("per", "points"):
                    value = getattr(line, part)
                    if value is None:
                        continue
                    unit = _step(value)
                    for sign, new in (("+", value + unit), ("-", value - unit)):
                        if sign == "+" and value >= node.max and (part == "points" or _whole(line.count)):
                            continue  # capped at the item's maximum: the same scores whatever the facts
                        if new <= 0:
                            continue  # a line of nothing is the line left out (line:…)

                        def change(dd: Decision, k: int = k, part: str = part, new: Decimal = new,
                                   s: Steps = lines_steps) -> Decision:
                            line_now = _get(dd, s)[k]
                            return _mutated(dd, s + (("idx", k),), dataclasses.replace(line_now, **{part: new}))

                        yield Mutant(f"amount:{where}.{part}{sign}1", "amount", d.id, f"scorecard:{cname}.{node.id}",
                                     clause, f"评分项 {node.id}({node.label})第 {k + 1} 条{what} {part} "
                                     f"{format_decimal(value)} → {format_decimal(new)}:{line.label}", change, reads,
                                     (value,))


def _whole(count: CompiledExpr | None) -> bool:
    """A count that can only be a whole number: one of it already deducts ``per``."""
    return count is not None and count.type.kind == "integer"


def generate(d: Decision, functions: Mapping[str, FunctionSpec]) -> list[Mutant]:
    """Every mutant of a decision, in a stable order (parameters, then the decision's parts in pack order)."""
    sites = list(_sites(d))
    out: list[Mutant] = list(_param_mutants(d, sites))
    out.extend(_band_mutants(d))
    for site in sites:
        out.extend(_site_mutants(d, site, functions))
    for i, rule in enumerate(d.rules):
        if rule.require is not None:
            out.extend(_condition_drops(d, rule.require, (("attr", "rules"), ("idx", i), ("attr", "require")),
                                        f"rules.{rule.id}.require", rule.id, rule.source))
    out.extend(_line_mutants(d))
    seen: set[str] = set()
    unique = []
    for m in out:
        if m.id not in seen:
            seen.add(m.id)
            unique.append(m)
    return unique


def build(d: Decision, mutant: Mutant, functions: Mapping[str, FunctionSpec]) -> Decision:
    """The mutant's decision: a new object (nothing generated for the original is reused), scorecards refreshed."""
    return _refresh_cards(mutant.make(d), d, functions)


# ---- explanations ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    id: str
    reason: str
    location: Location


MUTANTS_FILE = "mutants.yaml"
MUTANTS_SCHEMA = "pack-mutants.schema.json"


def explanations_of(pack_folder: Path) -> tuple[dict[str, list[Explanation]], list[Problem]]:
    """The equivalent mutants a pack explains (``<pack>/mutants.yaml``: decision name → ``[{id, reason}]``), and
    the file's schema problems."""
    path = pack_folder / MUTANTS_FILE
    if not path.is_file():
        return {}, []
    doc = load_file(path)
    problems = check_document(doc, MUTANTS_SCHEMA)
    if problems:
        return {}, problems
    out: dict[str, list[Explanation]] = {}
    for name, items in doc.data["mutants"].items():
        for i, raw in enumerate(items):
            out.setdefault(name, []).append(Explanation(raw["id"], raw["reason"],
                                                        doc.source.locate(("mutants", name, i))))
    return out, []


def explanation_problems(folder: Path, packs: Sequence[Pack], functions: Mapping[str, FunctionSpec]) -> list[Problem]:
    """What ``skillcert validate`` says about a pack's ``mutants.yaml``: schema problems, a decision the pack does
    not have, and a mutant that no version of its decision has any more (stale: the rule it named has changed)."""
    try:
        explained, problems = explanations_of(folder)
    except SkillcertError as exc:
        return [Problem(exc.code, exc.message, exc.location or Location(str(folder / MUTANTS_FILE)))]
    for name, items in explained.items():
        versions = [p.decisions[name] for p in packs if name in p.decisions]
        if not versions:
            problems.extend(Problem("stale-mutant", f"政策包没有决定 {name}", e.location) for e in items[:1])
            continue
        known = {m.id for d in versions for m in generate(d, functions)}
        problems.extend(Problem("stale-mutant", f"{versions[0].id} 没有变异 {e.id}(规则已改动?),请删去或更新这条说明",
                                e.location) for e in items if e.id not in known)
    return problems


# ---- running ---------------------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """A case ready to run against mutants: its facts checked once with the original decision."""

    case: Case
    facts: dict[str, Any]
    as_of: dt.date


class _Runner:
    def __init__(self, library: Library, decision: Decision) -> None:
        self.library = library
        self.decision = decision
        self.functions = library.env.functions
        self.calendar = library.calendar_for(decision)

    def evaluate(self, d: Decision, facts: dict[str, Any], as_of: dt.date, allow: bool) -> DecisionResult:
        return evaluate_checked(d, facts, as_of, calendar=self.calendar, allow_out_of_period=allow,
                                functions=self.functions, reference=self.library.reference)

    def check(self, facts: Any) -> dict[str, Any]:
        rules_facts = split_facts(self.decision, facts)[0]
        return validate_facts(self.decision, dict(rules_facts))

    def fails(self, d: Decision, p: _Prepared) -> list[str]:
        """What the case finds wrong with decision ``d`` (empty: it passes)."""
        case = p.case
        try:
            result = self.evaluate(d, p.facts, p.as_of, case.allow_out_of_period)
        except SkillcertError as exc:
            if case.want_error is not None and exc.code == case.want_error:
                return []
            return [f"错误 {exc.code}"]
        if case.want_error is not None:
            return [f"期望错误 {case.want_error}"]
        return compare(result, case.want or {})

    def outcome_key(self, d: Decision, facts: dict[str, Any], as_of: dt.date) -> tuple[Any, ...]:
        try:
            r = self.evaluate(d, facts, as_of, True)
        except SkillcertError as exc:
            return ("error", exc.code)
        return (r.outcome, r.score, tuple(sorted(r.scores.items())), tuple(sorted(r.deadlines.items())),
                tuple(sorted({x.rule for x in r.reasons})))


def _decision_cases(files: list[Path], library: Library, problems: list[Problem]) -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {}
    for f in files:
        try:
            cases, found = load_cases(f)
        except SkillcertError as exc:
            problems.append(Problem(exc.code, exc.message, exc.location or Location(str(f))))
            continue
        problems.extend(found)
        for case in cases:
            out.setdefault(case.decision, []).append(case)
    return out


def run_mutation(paths: list[str], *, policies: str | None = None, search: bool = True,
                 only: str | None = None) -> MutationReport:
    """Mutation testing of the packs under ``paths`` (pack folders, folders of packs or test files).

    ``only`` keeps the mutants whose id starts with it (one decision's, one kind's). Raises
    :class:`~skillcert.errors.UsageError` when there is nothing to run (bad path, no test file, a case that fails on
    the pack itself).
    """
    started = time.perf_counter()
    report = MutationReport()
    files = case_files_under(paths)
    by_root: dict[Path, list[Path]] = {}
    for f in files:
        root = Path(policies) if policies else policies_root(f)
        if root is None:
            raise UsageError(f"找不到测试文件 {f} 所属的政策包(上级目录中没有 pack.yaml)")
        by_root.setdefault(root, []).append(f)
    for root, root_files in by_root.items():
        library = load(root)
        cases = _decision_cases(root_files, library, report.problems)
        packs: dict[str, PackMutation] = {}
        explained: dict[str, dict[str, list[Explanation]]] = {}
        for decision_id in sorted(cases):
            # the version each case runs against (the one in force at its as-of date, or the one it names): each
            # version of a decision is mutated with its own cases
            versions: dict[int, tuple[Decision, list[Case]]] = {}
            for case in cases[decision_id]:
                try:
                    found = library.decision(case.target, as_of=case.as_of or dt.date.today())
                except SkillcertError as exc:
                    report.problems.append(Problem(exc.code, exc.message, case.location))
                    continue
                versions.setdefault(id(found), (found, []))[1].append(case)
            if not versions:
                continue
            pack_id = next(iter(versions.values()))[0].pack_id
            if pack_id not in explained:
                explained[pack_id] = _explanations(root / pack_id, library, pack_id, report.problems)
            explanations = explained[pack_id].get(decision_id.split("/", 1)[1], [])
            known: set[str] = set()
            for decision, group in versions.values():
                result = _mutate_decision(library, decision, group, explanations, report.problems, known,
                                          search=search, only=only)
                packs.setdefault(pack_id, PackMutation(pack_id)).decisions.append(result)
            if not only:
                report.problems.extend(
                    Problem("stale-mutant", f"{decision_id} 没有变异 {e.id}(规则已改动?),请删去或更新这条说明",
                            e.location) for e in explanations if e.id not in known)
        report.packs.extend(packs[k] for k in sorted(packs))
    report.seconds = time.perf_counter() - started
    return report


def _explanations(folder: Path, library: Library, pack_id: str, problems: list[Problem]) -> dict[str, list[Explanation]]:
    """A pack's explanations; a decision they name that the pack does not have is stale."""
    try:
        out, found = explanations_of(folder)
    except SkillcertError as exc:
        problems.append(Problem(exc.code, exc.message, exc.location or Location(str(folder / MUTANTS_FILE))))
        return {}
    problems.extend(found)
    names = {d.id.split("/", 1)[1] for d in library.decisions(pack_id)}
    for name, es in out.items():
        if name not in names:
            problems.extend(Problem("stale-mutant", f"政策包 {pack_id} 没有决定 {name}", e.location) for e in es[:1])
    return out


def _mutate_decision(library: Library, decision: Decision, cases: list[Case], explanations: list[Explanation],
                     problems: list[Problem], known: set[str], *, search: bool, only: str | None) -> DecisionMutation:
    runner = _Runner(library, decision)
    prepared: list[_Prepared] = []
    broken: list[str] = []
    for case in cases:
        try:
            facts = runner.check(case.facts)
        except SkillcertError as exc:
            if case.want_error != exc.code:
                broken.append(f"{case.name}:{exc.code}")
            continue  # bad facts stay bad facts whatever the rules say: no mutant can fail this case
        p = _Prepared(case, facts, case.as_of or dt.date.today())
        fails = runner.fails(decision, p)
        if fails:
            broken.append(f"{case.name}:{fails[0]}")
        prepared.append(p)
    if broken:
        raise UsageError(f"{decision.id} 的用例在原政策包上未通过,先修正用例再做变异测试:" + ";".join(broken[:5]))
    mutants = generate(decision, runner.functions)
    if only:
        mutants = [m for m in mutants if m.id.startswith(only) or f"{decision.id}:{m.id}".startswith(only)]
    reasons = {e.id: e for e in explanations}
    known.update(m.id for m in mutants)
    out = DecisionMutation(library.versioned_id(decision), len(prepared))
    order = list(range(len(prepared)))
    for m in mutants:
        mutant = build(decision, m, runner.functions)
        killer = None
        for pos, idx in enumerate(order):
            if runner.fails(mutant, prepared[idx]):
                killer = prepared[idx].case.name
                order.insert(0, order.pop(pos))  # a case that pins one boundary often pins its neighbours
                break
        if killer is not None:
            out.results.append(MutantResult(m, "killed", killed_by=killer))
            if m.id in reasons:
                e = reasons[m.id]
                problems.append(Problem("explained-but-killed", f"{decision.id} 的变异 {m.id} 被用例 {killer} 发现,"
                                                                "并非等价;请删去这条说明", e.location))
        elif m.id in reasons:
            out.results.append(MutantResult(m, "explained", reason=reasons[m.id].reason))
        else:
            suggestion = _suggest(runner, decision, mutant, m, prepared) if search else None
            out.results.append(MutantResult(m, "survived", suggestion=suggestion))
    return out


# ---- the search for a suggested case ---------------------------------------------------------------------------


def _inputs_read(d: Decision, names: frozenset[str]) -> list[str]:
    """The inputs (and record fields, as ``record.field``) that ``names`` read, through derived values, deadlines
    and scorecards; ``as_of`` last when read."""
    seen: set[str] = set()
    todo = sorted(names)  # sorted: the same search, and the same suggestion, in every run
    out: list[str] = []
    while todo:
        n = todo.pop(0)
        if n in seen:
            continue
        seen.add(n)
        head = n.split(".", 1)[0]
        if head in d.inputs:
            if "." in n or d.inputs[head].spec.kind != "record":
                out.append(n)
            else:
                out.extend(f"{head}.{f}" for f in d.inputs[head].spec.fields)
        elif head in d.derived:
            todo.extend(sorted(_reads(d.derived[head].expr.tree)))
        elif head in d.deadlines:
            dl = d.deadlines[head]
            todo.extend(r for e in (dl.date, dl.start, dl.amount, dl.when) if e is not None
                        for r in sorted(_reads(e.tree)))
        elif head in d.scorecards:
            card = d.scorecards[head]
            if card.when is not None:
                todo.extend(sorted(_reads(card.when.tree)))
            for node, _ in _card_nodes(card):
                for line in node.lines:
                    todo.extend(r for e in (line.count, line.when) if e is not None for r in sorted(_reads(e.tree)))
        elif head == "as_of":
            out.append("as_of")
    return list(dict.fromkeys(out))


def _spec_of(d: Decision, path: str) -> Any:
    head, _, rest = path.partition(".")
    spec = d.inputs[head].spec
    return spec.fields.get(rest) if rest else spec


def _candidates(spec: Any, current: Any, bounds: list[Any], dates: list[dt.date]) -> list[Any]:
    kind = spec.kind if spec is not None else "date"
    out: list[Any] = []
    if kind == "bool":
        out = [not current] if isinstance(current, bool) else [True, False]
    elif kind == "enum":
        out = [v for v in spec.values if v != current]
    elif kind in ("integer", "decimal"):
        base = [current] if isinstance(current, (int, Decimal)) and not isinstance(current, bool) else [0]
        nums = [b for b in bounds if isinstance(b, (int, Decimal)) and not isinstance(b, bool)]
        for v in base + nums:
            for delta in (-1, 0, 1):
                out.append(v + delta)
            if isinstance(v, Decimal) and v != int(v):
                unit = _step(v)
                out.extend([v - unit, v + unit])
        # small counts, and counts just around round numbers: a share like "more than 10 %" is only seen at
        # 11 of 100 (a bound one unit finer than the facts' own)
        out.extend([0, 1, 2, 3, 5, 9, 10, 11, 19, 20, 21, 99, 100, 101])
        if kind == "integer":
            out = [int(v) for v in out if v == int(v)]
        lo, hi = spec.min, spec.max
        out = [v for v in out if (lo is None or v >= lo) and (hi is None or v <= hi)]
    elif kind == "date":
        around = ([current] if isinstance(current, dt.date) else []) + dates
        for day in around:
            for delta in (-1, 0, 1):
                with contextlib.suppress(OverflowError):  # a date at the end of the calendar
                    out.append(day + dt.timedelta(days=delta))
        if not spec or not spec.required:
            out.append(None)
    elif kind in ("text",) and current is not None:
        out = []
    return [v for v in dict.fromkeys(out) if v != current or isinstance(v, bool) != isinstance(current, bool)]


def _dotted_get(facts: dict[str, Any], path: str) -> Any:
    head, _, rest = path.partition(".")
    v = facts.get(head)
    if rest:
        return v.get(rest) if isinstance(v, dict) else None
    return v


def _dotted_set(facts: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = dict(facts)
    head, _, rest = path.partition(".")
    if rest:
        inner = dict(out.get(head) or {})
        inner[rest] = value
        out[head] = inner
    else:
        out[head] = value
    return out


def _suggest(runner: _Runner, original: Decision, mutant: Decision, m: Mutant,
             prepared: list[_Prepared]) -> Suggestion | None:
    """Facts near the cases where original and mutant differ: one fact changed, then two (bounded)."""
    paths = _inputs_read(original, m.reads)
    bounds = [b for b in m.bounds if not isinstance(b, str)]
    param_dates = [v for v in original.parameter_values.values() if isinstance(v, dt.date)]
    budget = [SEARCH_BUDGET]

    def differs(facts: dict[str, Any], as_of: dt.date) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
        budget[0] -= 2
        try:
            checked = runner.check(facts)
        except SkillcertError:
            return None
        a, b = runner.outcome_key(original, checked, as_of), runner.outcome_key(mutant, checked, as_of)
        return (a, b) if a != b else None

    def found(p: _Prepared, changes: dict[str, Any], as_of: dt.date,
              keys: tuple[tuple[Any, ...], tuple[Any, ...]]) -> Suggestion:
        a, b = keys
        return Suggestion(p.case.name, changes, as_of if as_of != p.as_of else None, _want(a, b), _gives(a, b))

    for p in prepared:
        if p.case.want_error is not None:
            continue
        dates = [x for x in _all_dates(p.case.facts)] + param_dates + bounds_dates(bounds) + [p.as_of]
        options: list[tuple[str, Any]] = []
        for path in paths:
            if path == "as_of":
                options.extend(("as_of", v) for v in _candidates(None, p.as_of, bounds, dates) if v is not None)
                continue
            spec = _spec_of(original, path)
            current = _dotted_get(p.case.facts, path)
            options.extend((path, v) for v in _candidates(spec, current, bounds, dates))
        for path, value in options:
            if budget[0] <= 0:
                return None
            facts, as_of = _apply(p, {path: value})
            keys = differs(facts, as_of)
            if keys:
                return found(p, {k: v for k, v in {path: value}.items() if k != "as_of"}, as_of, keys)
        for i, (path1, v1) in enumerate(options):
            for path2, v2 in options[i + 1:]:
                if path1 == path2:
                    continue
                if budget[0] <= 0:
                    return None
                changes = {path1: v1, path2: v2}
                facts, as_of = _apply(p, changes)
                keys = differs(facts, as_of)
                if keys:
                    return found(p, {k: v for k, v in changes.items() if k != "as_of"}, as_of, keys)
    return None


def bounds_dates(bounds: list[Any]) -> list[dt.date]:
    return [b for b in bounds if isinstance(b, dt.date)]


def _apply(p: _Prepared, changes: dict[str, Any]) -> tuple[dict[str, Any], dt.date]:
    facts = p.case.facts
    as_of = p.as_of
    for path, value in changes.items():
        if path == "as_of":
            as_of = value
        else:
            facts = _dotted_set(facts, path, value)
    return facts, as_of


def _all_dates(v: Any) -> Iterator[dt.date]:
    if isinstance(v, dt.date):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from _all_dates(x)
    elif isinstance(v, list):
        for x in v:
            yield from _all_dates(x)


def _want(a: tuple[Any, ...], b: tuple[Any, ...]) -> dict[str, Any]:
    """What a case should expect where original (``a``) and mutant (``b``) differ: the parts that differ."""
    if a[0] == "error":
        return {"error": a[1]}
    if b[0] == "error":
        return {"outcome": a[0]}
    want: dict[str, Any] = {"outcome": a[0]}
    if a[1] != b[1]:
        want["score"] = a[1]
    if a[3] != b[3]:
        want["deadlines"] = {k: v for k, v in a[3] if dict(b[3]).get(k) != v}
    if a[4] != b[4] and a[0] == b[0] and a[1] == b[1]:
        want["reasons"] = list(a[4])
    if a[2] != b[2] and a[1] == b[1]:
        want["scores"] = {k: v for k, v in a[2] if dict(b[2]).get(k) != v}
    return want


def _gives(a: tuple[Any, ...], b: tuple[Any, ...]) -> str:
    if b[0] == "error":
        return f"错误 {b[1]}"
    parts = [f"outcome: {b[0]}"]
    if a[1] != b[1]:
        parts.append(f"score: {_show(b[1])}")
    if a[3] != b[3]:
        parts.extend(f"{k}: {_show(v)}" for k, v in b[3] if dict(a[3]).get(k) != v)
    return ", ".join(parts)
