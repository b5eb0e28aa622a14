"""In-process speed of chongqing/renewal, side by side with two alternatives on the same scorecard.

    python benchmarks/evaluation.py [--cases 20000] [--seed 7]

1. skillcert: whole decisions per second (facts validation, timing rules, the 100-point scorecard, bands,
   deadlines on the holiday calendar, reasons), one core, without the item-by-item scorecard detail
   (``detail=False``, as in batch work) and with it (as ``skillcert evaluate`` reports).
2. The same scorecard the naive way: simpleeval parsing every `count`/`when` expression again on every case.
3. The same scorecard as a GoRules JDM graph in zen-engine (Rust; ``pip install zen-engine``), one expression per
   scorecard item, generated from the pack so that the rules are the same.

All three must give the same score on every case (checked before timing). Nothing is asserted about speed:
the table is the result. Needs zen-engine for column 3 (skipped with a note when it is not installed).
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import platform
import random
import time
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


import skillcert  # noqa: E402
from skillcert.compiler.model import Decision, Scorecard, ValueSpec  # noqa: E402

DECISION = "chongqing/renewal"
AS_OF = dt.date(2025, 5, 25)


def realistic_cases(n: int, seed: int, decision: Decision) -> list[dict[str, Any]]:
    """Institutions on the scorecard route with a realistic spread of findings: most items clean, a few defects."""
    rng = random.Random(seed)
    fields = decision.inputs["findings"].spec.fields
    cases = []
    for _ in range(n):
        findings: dict[str, Any] = {}
        for name, spec in fields.items():
            if spec.kind == "bool":
                if rng.random() < 0.08:
                    findings[name] = True
            elif spec.kind == "integer":
                if rng.random() < 0.15:
                    findings[name] = min(rng.choice([1, 1, 1, 2, 3]), spec.max if spec.max is not None else 99)
            elif spec.kind == "enum" and rng.random() < 0.1:
                findings[name] = rng.choice(list(spec.values))
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


# ---- the naive way: simpleeval re-parsing every expression on every case


def naive_score(card: Scorecard, facts: dict[str, Any], names: dict[str, Any]) -> Decimal:
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


# ---- zen-engine: the same scorecard as a JDM graph


class _ToZen(ast.NodeVisitor):
    """Our expression syntax (the subset the scorecard uses) in the ZEN expression language."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

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
        if isinstance(node, ast.Attribute):
            return f"{self.visit(node.value)}.{node.attr}"
        if isinstance(node, ast.Name):
            return str(self.params[node.id]) if node.id in self.params else node.id
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return "true" if node.value else "false"
            return f"'{node.value}'" if isinstance(node.value, str) else str(node.value)
        raise ValueError(f"not in the scorecard subset: {ast.dump(node)}")


def zen_graph(card: Scorecard, params: dict[str, Any], fields: Mapping[str, ValueSpec]) -> str:
    to_zen = _ToZen(params)
    defaults = []
    for name, spec in fields.items():
        default = spec.default
        literal = "true" if default is True else "false" if default is False else (
            f"'{default}'" if isinstance(default, str) else str(default))
        # an absent finding takes the input's default, as skillcert's facts validation does
        defaults.append({"id": f"d_{name}", "key": f"f.{name}",
                         "value": f"findings.{name} == null ? {literal} : findings.{name}"})
    exprs = []
    keys = []

    def rewrite(text: str) -> str:
        return to_zen.visit(ast.parse(text, mode="eval").body).replace("findings.", "$.f.")

    for leaves in card.category_leaves.values():
        for leaf in leaves:
            parts = []
            for line in leaf.lines:
                cond = rewrite(line.when.text) if line.when else "true"
                if line.per is not None and line.count is not None:
                    count = rewrite(line.count.text)
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
             "content": {"expressions": defaults + exprs}},
            {"id": "out", "type": "outputNode", "name": "Response", "position": {"x": 2, "y": 0}},
        ],
        "edges": [{"id": "a", "sourceId": "in", "targetId": "score", "type": "edge"},
                  {"id": "b", "sourceId": "score", "targetId": "out", "type": "edge"}],
    }
    return json.dumps(graph, ensure_ascii=False)


def per_second(fn: Any, cases: list[Any]) -> float:
    fn(cases[0])
    start = time.perf_counter()
    for c in cases:
        fn(c)
    return len(cases) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    library = skillcert.load(ROOT / "policies")
    decision = library.decision(DECISION)
    card = decision.scorecards["total"]
    params = decision.parameter_values
    cases = realistic_cases(args.cases, args.seed, decision)
    checked = [library.check_facts(DECISION, c) for c in cases]

    # same scores from all three, before any timing
    ours = [library.evaluate(DECISION, c, as_of=AS_OF, detail=False).score for c in cases]
    naive = [naive_score(card, {"findings": f["findings"]}, params) for f in checked]
    assert ours == naive, "naive simpleeval disagrees with skillcert"
    try:
        import zen
    except ImportError:
        zen = None
    zen_rate = None
    if zen is not None:
        decision_zen = zen.ZenEngine().create_decision(zen_graph(card, params, decision.inputs["findings"].spec.fields))
        zen_input = [json.loads(json.dumps({"findings": c["findings"]})) for c in cases]
        zen_scores = [Decimal(repr(decision_zen.evaluate(i)["result"]["total"])) for i in zen_input]
        assert zen_scores == ours, "zen-engine disagrees with skillcert"
        zen_rate = per_second(decision_zen.evaluate, zen_input)

    full = per_second(lambda c: library.evaluate(DECISION, c, as_of=AS_OF), cases)
    batchlike = per_second(lambda c: library.evaluate(DECISION, c, as_of=AS_OF, detail=False), cases)
    naive_rate = per_second(lambda f: naive_score(card, {"findings": f["findings"]}, params), checked)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; {args.cases} cases, seed {args.seed}; "
          f"scores agree on every case{'' if zen else ' (zen-engine not installed)'}")
    print(f"{'what':62} {'per second':>12} {'vs ours':>8}")
    rows = [
        ("skillcert: whole decision, detail=False (batch path)", batchlike),
        ("skillcert: whole decision, with the item-by-item scorecard", full),
        ("scorecard only, naive simpleeval (re-parse every expression)", naive_rate),
    ]
    if zen_rate is not None:
        rows.append(("scorecard only, zen-engine JDM graph", zen_rate))
    for name, rate in rows:
        print(f"{name:62} {rate:12,.0f} {rate / batchlike:7.2f}x")


if __name__ == "__main__":
    main()
