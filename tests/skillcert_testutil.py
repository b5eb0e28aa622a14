"""Shared helpers for the engine's tests: paths to the test data, pack variants, a CLI runner and a
minimal expression context. (Plain functions, imported by the test modules; not fixtures.)"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from skillcert import plugins
from skillcert.compiler.pipeline import check_pack
from skillcert.lang.calendar import HolidayCalendar, builtin_calendar
from skillcert.lang.checker import compile_expr
from skillcert.lang.expr import CompiledExpr, ExprProblem, FunctionSpec
from skillcert.lang.reference import make_evaluator
from skillcert.lang.types import VType, type_of_value

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "tests" / "testdata"
PACKS = TESTDATA / "packs"
BROKEN = TESTDATA / "broken"
PLUGIN_PACKS = TESTDATA / "plugin_packs"
MINI = PACKS / "mini"
SMALL = PACKS / "small"
POLICIES = ROOT / "policies"
SOCIAL_ORG_EXAMPLE = POLICIES / "chongqing" / "examples" / "renewal-social-org.yaml"

AS_OF = dt.date(2025, 5, 25)
# Facts for mini/check that fire only the score band (98 points, outcome pass).
MINI_FACTS: dict[str, Any] = {
    "kind": "org",
    "expires_on": "2025-06-30",
    "applied_on": "2025-05-20",
    "person_times": 150,
}


def mini_facts(**overrides: Any) -> dict[str, Any]:
    facts = dict(MINI_FACTS)
    facts.update(overrides)
    return facts


def pack_variant(tmp_path: Path, template: Path, new_id: str, replacements: Iterable[tuple[str, str]] = (),
                 append: str = "") -> Path:
    """Copy ``template/pack.yaml`` to ``tmp_path/new_id/pack.yaml`` with its id renamed and each
    ``old → new`` text replacement applied once (each ``old`` must occur)."""
    text = (template / "pack.yaml").read_text(encoding="utf-8")
    old_id = f"  id: {template.name}\n"
    assert old_id in text
    text = text.replace(old_id, f"  id: {new_id}\n", 1)
    for old, new in replacements:
        assert old in text, f"not in {template.name}/pack.yaml: {old!r}"
        text = text.replace(old, new, 1)
    text += append
    folder = tmp_path / new_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    return folder


def pack_copy(root: Path, name: str, template: Path, *edits: tuple[str, str]) -> Path:
    """A copy of the pack folder ``template`` (tests, examples, documents) as ``root/name/<its name>``, each
    ``old → new`` text edit applied once to its pack.yaml (each ``old`` must occur); the folder of packs returned."""
    import shutil

    folder = root / name / template.name
    shutil.copytree(template, folder)
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    for before, after in edits:
        assert before in text, f"not in {template.name}/pack.yaml: {before!r}"
        text = text.replace(before, after, 1)
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    return root / name


def problem_lines(folder: Path, **kwargs: Any) -> list[str]:
    """Every problem of a pack folder as ``<folder>/pack.yaml:line:col: code: message (hint)``."""
    _, problems = check_pack(folder, display=f"{folder.name}/pack.yaml", **kwargs)
    return [str(p) for p in problems]


def problem_codes(folder: Path, pm: Any = None) -> list[str]:
    from skillcert import plugins

    env = plugins.environment(pm) if pm is not None else None
    _, problems = check_pack(folder, display=f"{folder.name}/pack.yaml", env=env)
    return [p.code for p in problems]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Run ``skillcert`` in-process: (exit code, stdout, stderr)."""
    from skillcert.cli import run

    out, err = io.StringIO(), io.StringIO()
    code = run(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# ---- expressions outside a pack


def builtin_functions() -> dict[str, FunctionSpec]:
    return plugins.functions(plugins.new_plugin_manager(entry_points=False))


class Resolver:
    """Name → type for compile_expr, from a mapping of names to types (or to sample values)."""

    def __init__(self, types: Mapping[str, VType]) -> None:
        self.types = dict(types)

    def __call__(self, name: str) -> VType | None:
        return self.types.get(name)

    def names(self) -> list[str]:
        return list(self.types)


class Ctx:
    """The smallest evaluation context an expression needs: names, a calendar and an evaluator."""

    def __init__(self, values: Mapping[str, Any], functions: Mapping[str, FunctionSpec] | None = None,
                 calendar: HolidayCalendar | None = None) -> None:
        self.values = dict(values)
        self.calendar = calendar or builtin_calendar()
        self.evaluator = make_evaluator(self, functions if functions is not None else builtin_functions())

    def lookup(self, name: str) -> Any:
        return self.values[name]

    def lookup_safe(self, name: str) -> Any:
        return self.values.get(name)


def compile_text(text: Any, types: Mapping[str, VType] | None = None,
                 functions: Mapping[str, FunctionSpec] | None = None) -> tuple[CompiledExpr | None, list[ExprProblem]]:
    problems: list[ExprProblem] = []
    compiled = compile_expr(text, Resolver(types or {}), functions if functions is not None else builtin_functions(),
                            problems)
    return compiled, problems


def evaluate_text(text: str, **values: Any) -> Any:
    """Compile ``text`` with the types of ``values`` and evaluate it; fails the test on any problem."""
    compiled, problems = compile_text(text, {k: type_of_value(v) for k, v in values.items()})
    assert not problems, problems
    assert compiled is not None
    return compiled.evaluate(Ctx(values))


def write_csv(path: Path, header: list[Any], rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    """A CSV file as a spreadsheet program writes it (for batch tests)."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Any, header: list[Any], rows: Iterable[list[Any]], sheet: str | None = None) -> Any:
    """A one-sheet workbook as a spreadsheet program writes it (for batch tests): ``path`` a file's path or a
    binary buffer; cells as given (dates stay dates, text stays text); the sheet openpyxl's default unless named."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    if sheet is not None:
        ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    """A batch's CSV output, row by row (its BOM skipped)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))
