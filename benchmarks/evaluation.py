"""In-process speed: whole decisions against the CPython limit of their scorecard and against the peers, one run.

    python benchmarks/evaluation.py [--cases 5000] [--repeat 3] [--seed 7]

Part 1, chongqing/renewal on two mixes of findings, *sparse* (most items clean: 8–15 % of findings present, the
mix institutions in good standing show) and *dense* (30 % of the findings present and every finding
given explicitly, half the institutions in the rectify band: the mix of institutions under evaluation):

* **limit** — the scorecard alone written as one straight-line Python function over local variables and scaled
  integers, generated from the pack's scorecard: it reads the raw findings (an absent one takes its default),
  scores every item, the category subtotals and the total, and returns them as exact decimals — the practical
  limit of CPython for the same rules;
* **skillcert, batch path** — a whole decision (facts checking, timing rules, the scorecard, bands, deadlines on
  the holiday calendar, reasons) without the item-by-item scorecard (``detail=False``, as ``skillcert batch``);
* **skillcert, item by item** — the same with the scorecard item by item (``skillcert evaluate``, the web page);
* each of the two also with the decision's generated function turned off (**interpreter**: the rules, deadlines
  and messages walked over the compiled model, as ``SKILLCERT_DECISION_CODE=0`` runs them);
* **zen-engine** (GoRules, Rust; ``pip install -e ".[bench]"``) — the scorecard alone as the most compact JDM graph
  a competent user would write: one expression per item, absent findings defaulted inline with ``??``;
* **naive simpleeval** — the scorecard alone, every ``count``/``when`` expression parsed again on every case.

Part 2, all seven decisions: whole decisions per second over each pack's own evaluating test cases (cycled), on
the batch path and item by item — the Shanxi gap function, the Hebei tables and the Fuzhou per-occupation checks
included.

Every alternative must give the same score as skillcert on every case before anything is timed. Each figure is the
median of ``--repeat`` runs, with the spread (min–max) beside it; skillcert's ratios to the limit are the median of
ratios to the limit timed just before each run (the load of a shared machine changes between rows); compare ratios
within one run, never absolute figures across days. Nothing is asserted: the tables are the result.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import skillcert
from skillcert.compiler.model import Decision, Scorecard, ValueSpec
from skillcert.runtime import fastpath

ROOT = Path(__file__).resolve().parent.parent
DECISION = "chongqing/renewal"
AS_OF = dt.date(2025, 5, 25)
DENSE = 0.30  # share of findings present in the dense mix: about half the institutions land in the rectify band


# --------------------------------------------------------------------------------------------------
# Cases


def chongqing_cases(n: int, seed: int, decision: Decision, mix: str) -> list[dict[str, Any]]:
    """Institutions on the scorecard route; ``sparse``: a few defects, ``dense``: about a third present."""
    rng = random.Random(seed)
    fields = decision.inputs["findings"].spec.fields
    dense = mix == "dense"
    cases = []
    for _ in range(n):
        findings: dict[str, Any] = {}
        for name, spec in fields.items():
            present = rng.random() < (DENSE if dense else 0.08 if spec.kind == "bool" else 0.15)
            if spec.kind == "bool":
                if present or dense:
                    findings[name] = present
            elif spec.kind == "integer":
                top = int(spec.max) if spec.max is not None else 99
                if present:
                    findings[name] = min(rng.choice([1, 1, 1, 2, 3]), top)
                elif dense:
                    findings[name] = 0
            elif spec.kind == "enum" and (present or dense):
                findings[name] = rng.choice(list(spec.values)) if present else spec.default
        if "plans_rolled_back" in findings:
            findings["batches_conducted"] = rng.randint(5, 40)
        cases.append({
            "institution_kind": rng.choice(["social_org", "technical_school"]),
            "registry_level": rng.choice(["city", "district"]),
            "registration_expires_on": "2025-06-30",
            "applied_on": rng.choice(["2025-05-06", "2025-05-20", "2025-05-30"]),
            "registered_occupations": ["4-01-05-01", "4-03-02-01"],
            "assessed_occupations": ["4-01-05-01"],
            "findings": findings,
        })
    return cases


def pack_cases(library: Any, decision_id: str) -> list[tuple[dict[str, Any], dt.date]]:
    """The facts and as-of dates of a decision's own test cases that evaluate (not the error cases)."""
    from skillcert.analysis.tester import find_test_files, load_cases

    out = []
    region = decision_id.split("/")[0]
    for path in find_test_files(ROOT / "policies" / region):
        cases, _ = load_cases(path)
        for case in cases:
            if case.decision != decision_id or case.want_error:
                continue
            try:
                library.evaluate(decision_id, case.facts, as_of=case.as_of, allow_out_of_period=True, detail=False)
            except skillcert.SkillcertError:
                continue
            out.append((case.facts, case.as_of))
    return out


# --------------------------------------------------------------------------------------------------
# The limit: the scorecard as one straight-line function over scaled integers


class _Straight(ast.NodeTransformer):
    """``findings.x`` → a local read once at the top; a parameter → its value; everything else as written."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.fields: dict[str, str] = {}

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == "findings":
            local = self.fields.setdefault(node.attr, f"v{len(self.fields)}")
            return ast.copy_location(ast.Name(local, ast.Load()), node)
        raise ValueError(f"not in the limit's subset: {ast.unparse(node)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.params:
            value = self.params[node.id]
            if isinstance(value, Decimal):
                if value != value.to_integral_value():
                    return ast.copy_location(ast.parse(f"_D('{value}')", mode="eval").body, node)
                value = int(value)
            return ast.copy_location(ast.Constant(value), node)
        raise ValueError(f"not in the limit's subset: {node.id}")


def straight_line(card: Scorecard, params: Mapping[str, Any],
                  fields: Mapping[str, ValueSpec]) -> Callable[[dict[str, Any]], tuple[Decimal, list[Decimal]]]:
    """``f(raw findings) -> (total, [subtotal per category])`` as exact decimals, generated from the scorecard."""
    places = 0
    for leaves in card.category_leaves.values():
        for leaf in leaves:
            for amount in [leaf.max] + [ln.per if ln.per is not None else ln.points for ln in leaf.lines]:
                if amount is not None:
                    places = max(places, -int(amount.normalize().as_tuple().exponent))
    scale = 10 ** places
    gen = _Straight(params)
    body: list[str] = []
    subtotals: list[str] = []
    for c, leaves in enumerate(card.category_leaves.values()):
        items = []
        for leaf in leaves:
            i = len(body)  # a fresh local name per item
            terms = []
            for line in leaf.lines:
                if line.per is not None and line.count is not None:
                    count = ast.unparse(gen.visit(ast.parse(line.count.text, mode="eval").body))
                    term = f"({int(line.per * scale)} * ({count}) if ({count}) > 0 else 0)"
                else:
                    assert line.points is not None
                    term = str(int(line.points * scale))
                if line.when is not None:
                    cond = ast.unparse(gen.visit(ast.parse(line.when.text, mode="eval").body))
                    term = f"({term} if {cond} else 0)"
                terms.append(term)
            cap = int(leaf.max * scale)
            body.append(f"    d{i} = {' + '.join(terms) or '0'}")
            if leaf.bonus:
                body.append(f"    s{i} = d{i} if d{i} < {cap} else {cap}")
            else:
                body.append(f"    s{i} = {cap} - d{i} if d{i} < {cap} else 0")
            items.append(f"s{i}")
        body.append(f"    c{c} = {' + '.join(items) or '0'}")
        subtotals.append(f"c{c}")
    reads = [f"    {local} = f.get({name!r}, {fields[name].default!r})" for name, local in gen.fields.items()]
    exact = ", ".join(f"_D({s}) / {scale}" for s in subtotals)
    source = ("def limit(f):\n" + "\n".join(reads + body)
              + f"\n    return _D({' + '.join(subtotals)}) / {scale}, [{exact}]\n")
    namespace: dict[str, Any] = {"_D": Decimal}
    exec(compile(source, "<limit>", "exec"), namespace)  # noqa: S102 - generated from our own pack's checked trees
    limit: Callable[[dict[str, Any]], tuple[Decimal, list[Decimal]]] = namespace["limit"]
    return limit


# --------------------------------------------------------------------------------------------------
# Peers


def naive_score(card: Scorecard, facts: dict[str, Any], names: Mapping[str, Any]) -> Decimal:
    from simpleeval import SimpleEval

    s = SimpleEval(names={**names, **facts})

    def truth(text: str | None) -> bool:
        return True if text is None else bool(s.eval(text))

    total = Decimal(0)
    for leaves in card.category_leaves.values():
        for leaf in leaves:
            points = Decimal(0)
            for line in leaf.lines:
                if not truth(line.when.text if line.when else None):
                    continue
                if line.per is not None and line.count is not None:
                    count = s.eval(line.count.text) or 0
                    if count > 0:
                        points += line.per * count
                elif line.points is not None:
                    points += line.points
            total += min(leaf.max, points) if leaf.bonus else max(Decimal(0), leaf.max - points)
    return total


class _ToZen(ast.NodeVisitor):
    """Our expression syntax (the subset the scorecard uses) in the ZEN expression language; an absent finding
    takes its declared default inline (``findings.x ?? 0``), as skillcert's facts checking gives it."""

    def __init__(self, params: Mapping[str, Any], fields: Mapping[str, ValueSpec]) -> None:
        self.params = params
        self.fields = fields

    def visit(self, node: ast.AST) -> str:  # type: ignore[override]
        if isinstance(node, ast.BoolOp):
            op = " and " if isinstance(node.op, ast.And) else " or "
            return "(" + op.join(self.visit(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"(not {self.visit(node.operand)})"
        if isinstance(node, ast.Compare):
            ops = {ast.Eq: "==", ast.NotEq: "!=", ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<="}
            parts, left = [], self.visit(node.left)
            for op, right in zip(node.ops, node.comparators, strict=True):
                parts.append(f"{left} {ops[type(op)]} {self.visit(right)}")
                left = self.visit(right)
            return "(" + " and ".join(parts) + ")"
        if isinstance(node, ast.BinOp):
            ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
            return f"({self.visit(node.left)} {ops[type(node.op)]} {self.visit(node.right)})"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "findings":
            default = self.fields[node.attr].default
            literal = "true" if default is True else "false" if default is False else (
                f"'{default}'" if isinstance(default, str) else str(default))
            return f"(findings.{node.attr} ?? {literal})"
        if isinstance(node, ast.Name):
            return str(self.params[node.id])
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return "true" if node.value else "false"
            return f"'{node.value}'" if isinstance(node.value, str) else str(node.value)
        raise ValueError(f"not in the scorecard subset: {ast.dump(node)}")


def zen_graph(card: Scorecard, params: Mapping[str, Any], fields: Mapping[str, ValueSpec]) -> str:
    """The scorecard as one expression node: one expression per item, and the total."""
    to_zen = _ToZen(params, fields)
    exprs, keys = [], []
    for leaves in card.category_leaves.values():
        for leaf in leaves:
            parts = []
            for line in leaf.lines:
                cond = to_zen.visit(ast.parse(line.when.text, mode="eval").body) if line.when else "true"
                if line.per is not None and line.count is not None:
                    count = to_zen.visit(ast.parse(line.count.text, mode="eval").body)
                    parts.append(f"({cond} and {count} > 0 ? {line.per} * {count} : 0)")
                else:
                    parts.append(f"({cond} ? {line.points} : 0)")
            sum_text = " + ".join(parts) or "0"
            value = f"min([{leaf.max}, {sum_text}])" if leaf.bonus else f"max([0, {leaf.max} - ({sum_text})])"
            exprs.append({"id": f"e_{leaf.id}", "key": f"items.{leaf.id}", "value": value})
            keys.append(f"$.items.{leaf.id}")
    exprs.append({"id": "e_total", "key": "total", "value": " + ".join(keys)})
    graph = {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {"id": "score", "type": "expressionNode", "name": "延续备案评估表", "position": {"x": 1, "y": 0},
             "content": {"expressions": exprs}},
            {"id": "out", "type": "outputNode", "name": "Response", "position": {"x": 2, "y": 0}},
        ],
        "edges": [{"id": "a", "sourceId": "in", "targetId": "score", "type": "edge"},
                  {"id": "b", "sourceId": "score", "targetId": "out", "type": "edge"}],
    }
    return json.dumps(graph, ensure_ascii=False)


# --------------------------------------------------------------------------------------------------
# Timing


def timed(fn: Callable[[Any], Any], items: Sequence[Any], repeat: int) -> list[float]:
    """Microseconds per item, one figure per repetition (after a warm-up)."""
    for item in items[: min(len(items), 200)]:
        fn(item)
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            fn(item)
        out.append((time.perf_counter() - start) / len(items) * 1e6)
    return out


def beside(fn: Callable[[Any], Any], items: Sequence[Any], limit: Callable[[Any], Any], raw: Sequence[Any],
           repeat: int) -> tuple[list[float], float]:
    """Microseconds per item as :func:`timed` gives them, and the median ratio to the limit timed just before each
    repetition (on a shared machine the load changes between rows: a ratio measured side by side holds)."""
    out, ratios = [], []
    for _ in range(repeat):
        limit_us = timed(limit, raw, 1)[0]
        us = timed(fn, items, 1)[0]
        out.append(us)
        ratios.append(us / limit_us)
    return out, statistics.median(ratios)


def row(name: str, us: list[float] | tuple[list[float], float], limit_us: float | None) -> str:
    """A table row; ``us`` with its own ratio to the limit (from :func:`beside`), or divided by ``limit_us``."""
    ratio_ = None
    if isinstance(us, tuple):
        us, ratio_ = us
    med = statistics.median(us)
    spread = f"{min(us):.1f}–{max(us):.1f}"
    if ratio_ is None and limit_us:
        ratio_ = med / limit_us
    ratio = f"{ratio_:6.1f}×" if ratio_ is not None else "       "
    return f"{name:58} {med:8.1f} {spread:>13} {1e6 / med:10,.0f} {ratio}"


HEAD = f"{'what':58} {'µs/each':>8} {'spread µs':>13} {'per second':>10} {'vs limit':>7}"


def part1(library: Any, n: int, seed: int, repeat: int) -> None:
    decision = library.decision(DECISION)
    card = decision.scorecards["total"]
    params = decision.parameter_values
    fields = decision.inputs["findings"].spec.fields
    limit = straight_line(card, params, fields)
    try:
        import zen
    except ImportError:
        zen = None
    zen_decision = zen.ZenEngine().create_decision(zen_graph(card, params, fields)) if zen else None
    for mix in ("sparse", "dense"):
        cases = chongqing_cases(n, seed, decision, mix)
        checked = [library.check_facts(DECISION, c)["findings"] for c in cases]
        raw = [c["findings"] for c in cases]
        results = [library.evaluate(DECISION, c, as_of=AS_OF, detail=False) for c in cases]
        ours = [r.score for r in results]
        for f, r in zip(raw, results, strict=True):
            total, subtotals = limit(f)
            assert total == r.score and subtotals == list(r.scores.values()), "the limit disagrees with skillcert"
        naive = [naive_score(card, {"findings": f}, params) for f in checked]
        assert naive == ours, "naive simpleeval disagrees with skillcert"
        zen_input = [json.loads(json.dumps({"findings": c["findings"]})) for c in cases]
        if zen_decision is not None:
            zen_scores = [Decimal(repr(zen_decision.evaluate(i)["result"]["total"])) for i in zen_input]
            assert zen_scores == ours, "zen-engine disagrees with skillcert"
        outcomes: dict[str, int] = {}
        for r in results:
            outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        shares = "、".join(f"{k} {v * 100 // len(results)}%" for k, v in sorted(outcomes.items()))
        present = sum(1 for c in cases for v in c["findings"].values() if v not in (False, 0, None, "center"))
        print(f"\n{mix} mix: {n:,} cases, {present / n:.1f} findings present per case on average; outcomes: {shares}")
        print(HEAD)
        limit_us = statistics.median(timed(limit, raw, repeat))
        print(row("limit: straight-line scorecard, scaled integers (CPython)", [limit_us], limit_us))
        for generated in (True, False):
            fastpath.ENABLED = generated
            how = "" if generated else ", interpreter"
            print(row(f"skillcert: whole decision, batch path (detail=False){how}",
                      beside(lambda c: library.evaluate(DECISION, c, as_of=AS_OF, detail=False), cases, limit, raw,
                             repeat), limit_us))
        for generated in (True, False):
            fastpath.ENABLED = generated
            how = "" if generated else ", interpreter"
            print(row(f"skillcert: whole decision, item by item (evaluate, web){how}",
                      beside(lambda c: library.evaluate(DECISION, c, as_of=AS_OF), cases, limit, raw, repeat),
                      limit_us))
        fastpath.ENABLED = True
        if zen_decision is not None:
            from importlib.metadata import version

            print(row(f"zen-engine {version('zen-engine')}: scorecard only, compact JDM graph",
                      timed(zen_decision.evaluate, zen_input, repeat), limit_us))
        else:
            print(f"{'zen-engine: not installed (pip install -e .[bench])':58}")
        print(row("naive simpleeval: scorecard only, re-parsed every case",
                  timed(lambda f: naive_score(card, {"findings": f}, params), checked[: max(n // 5, 200)], repeat),
                  limit_us))


def part2(library: Any, n: int, repeat: int) -> None:
    print(f"\nAll decisions: whole decisions over each pack's own evaluating test cases, cycled to {n:,}")
    print(f"{'decision':24} {'cases':>5} {'batch path /s':>14} {'spread':>17} {'item by item /s':>16} "
          f"{'interpreter: batch /s':>22} {'item by item /s':>16}")
    for info in library.decisions():
        cases = pack_cases(library, info.id)
        if not cases:
            continue
        items = [cases[i % len(cases)] for i in range(n)]

        def fast(item: tuple[dict[str, Any], dt.date], d: str = info.id) -> Any:
            return library.evaluate(d, item[0], as_of=item[1], allow_out_of_period=True, detail=False)

        def full(item: tuple[dict[str, Any], dt.date], d: str = info.id) -> Any:
            return library.evaluate(d, item[0], as_of=item[1], allow_out_of_period=True)

        us = timed(fast, items, repeat)
        us_full = timed(full, items, repeat)
        fastpath.ENABLED = False
        us_off = timed(fast, items, repeat)
        us_full_off = timed(full, items, repeat)
        fastpath.ENABLED = True
        spread = f"{1e6 / max(us):,.0f}–{1e6 / min(us):,.0f}"
        print(f"{info.id:24} {len(cases):5} {1e6 / statistics.median(us):14,.0f} {spread:>17} "
              f"{1e6 / statistics.median(us_full):16,.0f} {1e6 / statistics.median(us_off):22,.0f} "
              f"{1e6 / statistics.median(us_full_off):16,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=5000, help="cases per mix and per decision")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure (median and spread shown)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; every alternative gives skillcert's score on every case")
    library = skillcert.load(ROOT / "policies")
    part1(library, args.cases, args.seed, args.repeat)
    part2(library, args.cases, args.repeat)


if __name__ == "__main__":
    main()
