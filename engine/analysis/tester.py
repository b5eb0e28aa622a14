"""Running a pack's own YAML test cases, and measuring what they cover.

A test file names one decision and lists cases (facts, as-of date, what the result must contain, or the
error code expected). :func:`run_paths` runs every file under the given paths and reports, per decision,
the rules, scorecard items and outcomes that no case exercises. pytest collects the same cases through
the project's ``conftest.py``, so ``pytest`` alone runs everything.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..compiler.model import Decision
from ..compiler.pipeline import PACK_FILE
from ..errors import Location, Problem, SkillcertError, UsageError
from ..library import Library, load
from ..runtime.result import DecisionResult, ItemScore
from ..source.loader import Document, load_file
from ..source.schema import TESTS_SCHEMA, check_document
from ..values import display_value, format_decimal, quote

__all__ = ["Case", "CaseOutcome", "PackTestReport", "load_cases", "run_case", "run_paths", "find_test_files",
           "case_files_under", "check_case_file"]


@dataclass
class Case:
    file: str
    index: int
    id: str
    note: str
    decision: str
    as_of: dt.date | None
    facts: dict[str, Any]
    want: dict[str, Any] | None
    want_error: str | None
    allow_out_of_period: bool
    location: Location
    doc: Document
    version: str | None = None      # the pack version the case names, if any

    @property
    def name(self) -> str:
        return self.id or f"case{self.index + 1}"

    @property
    def target(self) -> str:
        """The decision as the library is asked for it: a named version, else all (the one in force at as_of)."""
        return f"{self.decision}@{self.version}" if self.version and "@" not in self.decision else self.decision


@dataclass
class CaseOutcome:
    case: Case
    failures: list[str]
    result: DecisionResult | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class Coverage:
    decision: Decision
    rules_fired: set[str] = field(default_factory=set)
    items_scored: set[str] = field(default_factory=set)
    outcomes: set[str] = field(default_factory=set)
    cases: int = 0

    def add(self, result: DecisionResult) -> None:
        self.outcomes.add(result.outcome)
        for r in result.reasons:
            self.rules_fired.add(_rule_id(r.rule))
        if result.scorecard is not None:
            for cat in result.scorecard["categories"]:
                for node in cat.walk():
                    if node.lines:
                        self.items_scored.add(node.id)

    def missing(self) -> dict[str, list[str]]:
        d = self.decision
        rules = [r.id for r in d.rules]
        rules += [f"{cl.name}" for cl in d.checklists.values() if cl.outcome]
        leaves = [leaf.id for card in d.scorecards.values() for c in card.categories for leaf in c.leaves()]
        return {
            "rules": [r for r in rules if r not in self.rules_fired],
            "items": [i for i in leaves if i not in self.items_scored],
            "outcomes": [o for o in d.outcomes if o not in self.outcomes],
        }


def _rule_id(reason_rule: str) -> str:
    for sep in ("[", "."):
        reason_rule = reason_rule.split(sep, 1)[0]
    return reason_rule


@dataclass
class PackTestReport:
    outcomes: list[CaseOutcome] = field(default_factory=list)
    coverage: dict[str, Coverage] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(o.passed for o in self.outcomes)

    def render(self, verbose: bool = True) -> str:
        lines: list[str] = []
        for p in self.problems:
            lines.append(str(p))
        for o in self.outcomes:
            c = o.case
            if o.passed:
                if verbose:
                    lines.append(f"通过  {c.decision} {c.name}: {c.note}")
            else:
                lines.append(f"失败  {c.decision} {c.name}: {c.note}  ({c.location})")
                for f in o.failures:
                    lines.append(f"        {f}")
        for decision_id, cov in sorted(self.coverage.items()):
            missing = cov.missing()
            lines.append("")
            lines.append(f"覆盖 {decision_id}:{cov.cases} 个用例")
            names = {"rules": "未触发的规则", "items": "未扣分/加分的评分项", "outcomes": "未出现的结论"}
            for key, label in names.items():
                if missing[key]:
                    lines.append(f"  {label}:{'、'.join(missing[key])}")
            if not any(missing.values()):
                lines.append("  规则、评分项和结论全部覆盖")
        passed = sum(1 for o in self.outcomes if o.passed)
        failed = len(self.outcomes) - passed
        lines.append("")
        lines.append(f"{passed} passed, {failed} failed" + (f"; {len(self.problems)} 个文件问题" if self.problems else ""))
        return "\n".join(lines) + "\n"


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    return over


def _unset(facts: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Remove dotted paths (``findings.posts_missing``) from merged facts, so a case can leave a base fact out."""
    if paths:
        facts = copy.deepcopy(facts)  # nested dicts may still be shared with base.facts
    for path in paths:
        *parents, last = path.split(".")
        node: Any = facts
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return facts


def _as_of(value: Any, location: Any) -> tuple[dt.date | None, Problem | None]:
    """A case's as-of date: YAML reads ``2025-05-25`` as a date, ``"2025-05-25"`` (quoted) as text — both are the
    day; text that is no day (2025-02-30) is a problem at the case."""
    if value is None or isinstance(value, dt.date):
        return value, None
    try:
        return dt.date.fromisoformat(str(value)), None
    except ValueError:
        return None, Problem("date-invalid", f"as_of '{value}' 不是存在的日期(应写作 YYYY-MM-DD)", location)


def load_cases(path: str | Path) -> tuple[list[Case], list[Problem]]:
    """The cases of one test file, or the problems that keep it from running."""
    doc = load_file(path)
    problems = check_document(doc, TESTS_SCHEMA)
    if problems:
        return [], problems
    data = doc.data
    base = data.get("base", {})
    cases = []
    base_as_of, problem = _as_of(base.get("as_of"), doc.source.locate(("base", "as_of")))
    if problem is not None:
        return [], [problem]
    for i, raw in enumerate(data["cases"]):
        as_of, problem = (_as_of(raw["as_of"], doc.source.locate(("cases", i, "as_of"))) if "as_of" in raw
                          else (base_as_of, None))
        if problem is not None:
            problems.append(problem)
            continue
        cases.append(Case(
            file=str(path), index=i, id=raw.get("id", ""), note=raw["note"], decision=data["decision"],
            as_of=as_of,
            facts=_unset(_merge(base.get("facts", {}), raw.get("facts", {})), raw.get("unset", [])),
            want=raw.get("want"), want_error=raw.get("want_error"),
            allow_out_of_period=raw.get("allow_out_of_period", False),
            location=doc.source.locate(("cases", i)), doc=doc, version=raw.get("version"),
        ))
    ids = [c.id for c in cases if c.id]
    for c in cases:
        if c.id and ids.count(c.id) > 1:
            problems.append(Problem("duplicate-id", f"用例 id {quote(c.id)} 重复", c.location))
    return cases, problems


def run_case(case: Case, library: Library) -> CaseOutcome:
    source = case.doc.source.sub(("base", "facts"), ("cases", case.index, "facts"))
    try:
        result = library.evaluate(case.target, case.facts, as_of=case.as_of or dt.date.today(),
                                  allow_out_of_period=case.allow_out_of_period, source=source)
    except SkillcertError as exc:
        if case.want_error is not None:
            if exc.code == case.want_error:
                return CaseOutcome(case, [])
            return CaseOutcome(case, [f"期望错误 {case.want_error},实际错误 {exc.code}:{exc.message}"])
        detail = "; ".join(str(p) for p in exc.problems[:3])
        return CaseOutcome(case, [f"意外错误 {exc.code}:{exc.message}" + (f"({detail})" if detail else "")])
    if case.want_error is not None:
        return CaseOutcome(case, [f"期望错误 {case.want_error},实际得出结论 {result.outcome}"], result)
    return CaseOutcome(case, compare(result, case.want or {}), result)


def _num(v: Any) -> Decimal | None:
    return None if v is None else Decimal(v) if not isinstance(v, Decimal) else v


def compare(result: DecisionResult, want: dict[str, Any]) -> list[str]:
    """What differs between a result and a case's expectations (empty when it matches)."""
    fails: list[str] = []
    if "outcome" in want and result.outcome != want["outcome"]:
        fails.append(f"outcome:期望 {want['outcome']},实际 {result.outcome}({_reason_summary(result)})")
    if "score" in want and _num(want["score"]) != result.score:
        fails.append(f"score:期望 {quote(want['score'])},实际 {quote(result.score)}")
    for key, value in want.get("scores", {}).items():
        if key not in result.scores:
            fails.append(f"scores.{key}:结果中没有这个分项(有:{'、'.join(result.scores)})")
        elif _num(value) != result.scores[key]:
            fails.append(f"scores.{key}:期望 {quote(value)},实际 {quote(result.scores[key])}")
    if want.get("items"):
        nodes = _item_index(result)
        for key, value in want["items"].items():
            if key not in nodes:
                fails.append(f"items.{key}:评分表中没有这一项")
            elif _num(value) != nodes[key].score:
                fails.append(f"items.{key}:期望 {quote(value)},实际 {quote(nodes[key].score)}")
    for key, value in want.get("deadlines", {}).items():
        if key not in result.deadlines:
            fails.append(f"deadlines.{key}:结果中没有这个期限")
            continue
        expected = dt.date.fromisoformat(value) if isinstance(value, str) else value
        if result.deadlines[key] != expected:
            fails.append(f"deadlines.{key}:期望 {quote(expected)},实际 {quote(result.deadlines[key])}")
    fired = [r.rule for r in result.reasons]
    if "reasons" in want and sorted(set(want["reasons"])) != sorted(set(fired)):
        fails.append(f"reasons:期望 {sorted(set(want['reasons']))},实际 {sorted(set(fired))}")
    for rule in want.get("reasons_include", []):
        if rule not in fired and rule not in {_rule_id(f) for f in fired}:
            fails.append(f"reasons_include:没有 {rule}(实际 {fired})")
    for fragment in want.get("messages_include", []):
        text = display_value(fragment)  # an unquoted 2023-11-01 in YAML is a date: match it as written
        if not any(text in r.message for r in result.reasons):
            fails.append(f"messages_include:没有包含「{text}」的理由(实际 {[r.message for r in result.reasons]})")
    for fragment in want.get("warnings_include", []):
        text = display_value(fragment)
        if not any(text in w for w in result.warnings):
            fails.append(f"warnings_include:没有包含「{text}」的警告(实际 {result.warnings})")
    for name, expected in want.get("checklists", {}).items():
        rows = result.checklists.get(name, {}).get("items")
        if rows is None:
            fails.append(f"checklists.{name}:结果中没有这个清单")
            continue
        got = {"required": sorted(r["id"] for r in rows if r["required"]),
               "missing": sorted(r["id"] for r in rows if r["required"] and r["provided"] is False)}
        for key in ("required", "missing"):
            if key in expected and sorted(expected[key]) != got[key]:
                fails.append(f"checklists.{name}.{key}:期望 {sorted(expected[key])},实际 {got[key]}")
    actual = result.as_dict()
    for key, value in want.get("values", {}).items():
        if key not in actual:
            fails.append(f"values.{key}:结果中没有这个字段")
        else:
            fails.extend(f"values.{d}" for d in _differences(_canon(value), _canon(actual[key]), key))
    return fails


def _canon(v: Any) -> Any:
    """Values compared by meaning: numbers by value (100 = 100.00), dates as ISO text, scorecard nodes as dicts."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, Decimal, float)):
        return ("number", format_decimal(Decimal(repr(v)) if isinstance(v, float) else Decimal(v)))
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, ItemScore):
        return _canon(v.as_dict())
    if isinstance(v, dict):
        return {str(k): _canon(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    return v


def _differences(want: Any, got: Any, path: str, limit: int = 6) -> list[str]:
    """Where two canonical values differ, as ``path:期望 …,实际 …`` lines (the first few only)."""
    def show(v: Any) -> str:
        return str(v[1]) if isinstance(v, tuple) and v and v[0] == "number" else quote(v, limit=80)

    out: list[str] = []

    def walk(w: Any, g: Any, p: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(w, dict) and isinstance(g, dict):
            for k in list(w) + [k for k in g if k not in w]:
                if k not in g:
                    out.append(f"{p}.{k}:期望 {show(w[k])},结果中没有")
                elif k not in w:
                    out.append(f"{p}.{k}:结果中多出 {show(g[k])}")
                else:
                    walk(w[k], g[k], f"{p}.{k}")
        elif isinstance(w, list) and isinstance(g, list) and len(w) == len(g):
            for i, (a, b) in enumerate(zip(w, g, strict=True)):
                walk(a, b, f"{p}[{i}]")
        elif w != g:
            out.append(f"{p}:期望 {show(w)},实际 {show(g)}")

    walk(want, got, path)
    return out


def _reason_summary(result: DecisionResult) -> str:
    return ";".join(f"{r.rule}: {r.message}" for r in result.reasons[:3]) or "无规则触发"


def _item_index(result: DecisionResult) -> dict[str, ItemScore]:
    out: dict[str, ItemScore] = {}
    if result.scorecard is not None:
        for cat in result.scorecard["categories"]:
            for node in cat.walk():
                out[node.id] = node
    return out


def find_test_files(path: Path) -> list[Path]:
    """Test files under a path: a test file itself, a pack folder, or a folder of packs."""
    if path.is_file():
        return [path]
    if (path / PACK_FILE).is_file():
        return sorted(path.glob("tests/*.yaml")) + sorted(path.glob("tests/*.yml"))
    return sorted(path.glob("*/tests/*.yaml")) + sorted(path.glob("*/tests/*.yml"))


def policies_root(path: Path) -> Path | None:
    """The folder of packs that a test file or pack folder belongs to."""
    p = path.resolve()
    for candidate in [p] + list(p.parents):
        if (candidate / PACK_FILE).is_file():
            return candidate.parent
    return None


def check_case_file(path: Path, library: Library) -> list[Problem]:
    """Schema problems, unknown decisions and bad facts of one test file (for ``skillcert validate``)."""
    try:
        cases, problems = load_cases(path)
    except SkillcertError as exc:
        return [Problem(exc.code, exc.message, exc.location or Location(str(path)))]
    for case in cases:
        try:
            decision = library.decision(case.target, as_of=case.as_of or dt.date.today())
        except SkillcertError as exc:
            problems.append(Problem("unknown-decision", exc.message, case.doc.source.locate(("decision",))))
            break
        from ..runtime.facts import validate_facts

        problems.extend(_check_expectations(case, decision))
        if case.want_error == "facts-invalid":
            continue
        source = case.doc.source.sub(("base", "facts"), ("cases", case.index, "facts"))
        try:
            validate_facts(decision, case.facts, source)
        except SkillcertError as exc:
            problems.extend(exc.problems or [Problem(exc.code, exc.message, case.location)])
    return problems


def _check_expectations(case: Case, d: Decision) -> list[Problem]:
    """Names in ``want`` that the decision does not have (a typo there would make a case fail forever)."""
    want = case.want or {}
    base: tuple[Any, ...] = ("cases", case.index, "want")
    out: list[Problem] = []

    def unknown(key: str, name: str, known: list[str], what: str) -> None:
        from ..errors import did_you_mean

        out.append(Problem("unknown-name", f"want.{key} 中的 {quote(str(name))} 不是{what}", case.doc.source.locate(
            base + (key,)), did_you_mean(name, known)))

    if "outcome" in want and want["outcome"] not in d.outcomes:
        unknown("outcome", want["outcome"], list(d.outcomes), "已声明的结论")
    for name in want.get("deadlines", {}):
        if name not in d.deadlines:
            unknown("deadlines", name, list(d.deadlines), "已声明的期限")
    categories = [n.id for n in d.scorecards[d.primary_score].categories] if d.primary_score else []
    for name in want.get("scores", {}):
        if name not in categories:
            unknown("scores", name, categories, "主评分表的类别")
    nodes = [n.id for card in d.scorecards.values() for c in card.categories for n in _all_nodes(c)]
    for name in want.get("items", {}):
        if name not in nodes:
            unknown("items", name, nodes, "评分项")
    rule_ids = [r.id for r in d.rules] + [cl.name for cl in d.checklists.values() if cl.outcome]
    for name in want.get("checklists", {}):
        if name not in d.checklists:
            unknown("checklists", name, list(d.checklists), "已声明的清单")
            continue
        item_ids = [i.id for i in d.checklists[name].items]
        for key in ("required", "missing"):
            for item in want["checklists"][name].get(key, []):
                if item not in item_ids:
                    unknown("checklists", item, item_ids, f"清单 {name} 的条目")
    for key in ("reasons", "reasons_include"):
        for name in want.get(key, []):
            if _rule_id(name) not in rule_ids:
                unknown(key, name, rule_ids, "规则")
    return out


def _all_nodes(node: Any) -> list[Any]:
    return [node] + [n for c in node.children for n in _all_nodes(c)]


def case_files_under(paths: list[str]) -> list[Path]:
    """The test files under the given paths (:func:`find_test_files`); a path that does not exist, or no test file
    at all, is a usage error."""
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise UsageError(f"路径不存在:{raw}")
        files.extend(find_test_files(p))
    if not files:
        raise UsageError("没有找到测试文件(政策包目录下的 tests/*.yaml)")
    return files


def run_paths(paths: list[str], *, policies: str | None = None) -> PackTestReport:
    report = PackTestReport()
    libraries: dict[Path, Library] = {}
    files = case_files_under(paths)
    for f in files:
        root = Path(policies) if policies else policies_root(f)
        if root is None:
            report.problems.append(Problem("no-pack", "找不到这个测试文件所属的政策包(上级目录中没有 pack.yaml)",
                                           Location(str(f))))
            continue
        if root not in libraries:
            libraries[root] = load(root)
        library = libraries[root]
        try:
            cases, problems = load_cases(f)
        except SkillcertError as exc:
            report.problems.append(Problem(exc.code, exc.message, exc.location or Location(str(f))))
            continue
        report.problems.extend(problems)
        for case in cases:
            try:  # the version the case is run against: the one in force at its as_of, or the one it names
                decision = library.decision(case.target, as_of=case.as_of or dt.date.today())
            except SkillcertError as exc:
                report.problems.append(Problem(exc.code, str(exc), case.location))
                break
            outcome = run_case(case, library)
            report.outcomes.append(outcome)
            cov = report.coverage.setdefault(library.versioned_id(decision), Coverage(decision))
            cov.cases += 1
            if outcome.result is not None:
                cov.add(outcome.result)
    return report
