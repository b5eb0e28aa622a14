"""Fuzzing: random facts for every decision, random spreadsheet rows and random mutations of the bundled packs.

The only acceptable failures are the project's own errors with a stable code: a :class:`skillcert.SkillcertError`
through the library, exit 2 (or exit 1 with the error in its row, for batch) with ``skillcert: <code>:`` through
the command line — never another exception, a traceback or ``internal-error``.

Strategies are generated from each decision's declared inputs (:class:`skillcert.compiler.model.ValueSpec`):
*type-valid* facts (every value of its declared kind, bounds and codes included, plus values just outside) and
*messy* facts (any JSON-like value under any declared key, unknown keys, huge and odd numbers and text).

In CI each property runs a bounded number of examples (the suite stays within a minute or two). A longer run is
one command (the figures of the last one are in the README and the issue notes)::

    SKILLCERT_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_fuzz.py -p no:cacheprovider \\
        --hypothesis-show-statistics -q
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="pip install -e '.[test]' installs hypothesis")

import skillcert  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from skillcert.compiler.model import Decision, ValueSpec  # noqa: E402
from skillcert.render.text import render_text  # noqa: E402
from skillcert_testutil import POLICIES, run_cli  # noqa: E402

EXAMPLES = int(os.environ.get("SKILLCERT_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 60,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

LIBRARY = skillcert.load(POLICIES)
DECISIONS = [info.id for info in LIBRARY.decisions()]


# --------------------------------------------------------------------------------------------------
# Strategies from the declarations

ODD_TEXT = st.sampled_from([
    "", " ", "\x00", "\x1b[31m", "=HYPERLINK(\"http://x\")", "+1", "-1", "@x", "\t", "\r\n", "a[1]", "model_config",
    "２０２５-０６-３０", "８５", "是", "否", "true", "null", "None", "1e999999999", "0x10", "NaN", "-Infinity",
    "9" * 5000, "𠀀" * 50, "'; DROP TABLE x; --", "{name}", "{{", "${x}", "__class__",
])
ODD_NUMBERS = st.sampled_from([
    0, -1, 2**63, -(2**63), 10**400, Decimal("1E+999999"), Decimal("-1.0E+999999999"), Decimal("1E-999999"),
    Decimal("2.99999999999999999999999999999999"), Decimal("NaN"), Decimal("Infinity"), Decimal("-0"),
    1.5, float("nan"), float("inf"), True, False,
])
ODD_DATES = st.sampled_from([
    dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(9999, 9, 1), dt.date(1900, 2, 28), dt.date(2024, 2, 29),
    dt.date(2026, 12, 31), dt.date(2027, 1, 1), dt.date(2099, 6, 30), "2025-02-30", "2025-13-01", "2025-6-1",
    "20250601", dt.datetime(2025, 6, 1, 12, 0),
])


def _scalar_json() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30), ODD_TEXT, ODD_NUMBERS,
                     st.decimals(allow_nan=False, allow_infinity=False, places=4), st.dates(), ODD_DATES)


MESSY_VALUE = st.recursive(_scalar_json(), lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=10), ODD_TEXT), inner, max_size=4)),
    max_leaves=12)


def valid_value(spec: ValueSpec, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of the declared kind: inside the bounds mostly, at and just past them sometimes."""
    kind = spec.kind
    if kind == "bool":
        return st.booleans()
    if kind == "integer":
        lo = int(spec.min) if spec.min is not None else -5
        hi = int(spec.max) if spec.max is not None else max(lo, 0) + 60
        return st.one_of(st.integers(lo, hi), st.sampled_from([lo - 1, hi + 1, lo, hi]))
    if kind == "decimal":
        lo = Decimal(spec.min) if spec.min is not None else Decimal(-10)
        hi = Decimal(spec.max) if spec.max is not None else lo + 200
        return st.decimals(min_value=lo - 1, max_value=hi + 1, places=3, allow_nan=False, allow_infinity=False)
    if kind == "date":
        return st.one_of(st.dates(dt.date(2015, 1, 1), dt.date(2026, 12, 31)), st.dates(), ODD_DATES)
    if kind == "text":
        return st.one_of(st.text(max_size=40), ODD_TEXT)
    if kind == "enum":
        return st.one_of(st.sampled_from(sorted(spec.values)), st.sampled_from(sorted(spec.values.values())),
                         st.text(max_size=8))
    if kind == "list" and spec.items is not None:
        return st.lists(valid_value(spec.items, depth + 1), max_size=6 if depth == 0 else 3)
    if kind == "mapping" and spec.items is not None:
        keys = (st.sampled_from(sorted(spec.keys.values)) if spec.keys is not None and spec.keys.kind == "enum"
                else st.text(min_size=1, max_size=8))
        return st.dictionaries(keys, valid_value(spec.items, depth + 1), max_size=4)
    if kind == "record":
        return record(spec.fields, depth + 1)
    return MESSY_VALUE


def record(fields: Any, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    required = {n: valid_value(f, depth) for n, f in fields.items() if f.required}
    optional = {n: valid_value(f, depth) for n, f in fields.items() if not f.required}
    return st.fixed_dictionaries(required, optional=optional)


def valid_facts(decision: Decision) -> st.SearchStrategy[dict[str, Any]]:
    return record({n: i.spec for n, i in decision.inputs.items()})


def messy_facts(decision: Decision) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from(sorted(decision.inputs)), st.text(max_size=12), ODD_TEXT)
    return st.one_of(
        valid_facts(decision).flatmap(lambda base: st.dictionaries(keys, MESSY_VALUE, max_size=4).map(
            lambda extra: {**base, **extra})),
        st.dictionaries(keys, MESSY_VALUE, max_size=8),
        MESSY_VALUE,
    )


def as_of_dates(decision: Decision) -> st.SearchStrategy[dt.date]:
    end = decision.valid_until or dt.date(2026, 12, 31)
    return st.one_of(st.dates(decision.valid_from, max(end, decision.valid_from)), ODD_DATES.filter(
        lambda d: type(d) is dt.date))


# --------------------------------------------------------------------------------------------------
# Properties


def _evaluate_or_coded_error(decision_id: str, facts: Any, as_of: dt.date) -> None:
    try:
        result = LIBRARY.evaluate(decision_id, facts, as_of=as_of, allow_out_of_period=True)
    except skillcert.SkillcertError as exc:
        assert exc.code and exc.code != "internal-error", exc
        for problem in exc.problems:
            assert problem.code and len(str(problem)) < 2000, problem
        return
    render_text(result)
    render_text(result, explain=True)
    json.loads(result.to_json())


@pytest.mark.parametrize("decision_id", DECISIONS)
def test_type_valid_facts_evaluate_or_fail_with_a_code(decision_id: str) -> None:
    decision = LIBRARY.decision(decision_id)

    @FUZZ
    @given(facts=valid_facts(decision), as_of=as_of_dates(decision))
    def check(facts: dict[str, Any], as_of: dt.date) -> None:
        _evaluate_or_coded_error(decision_id, facts, as_of)

    check()


@pytest.mark.parametrize("decision_id", DECISIONS)
def test_messy_facts_fail_only_with_a_code(decision_id: str) -> None:
    decision = LIBRARY.decision(decision_id)

    @FUZZ
    @given(facts=messy_facts(decision), as_of=as_of_dates(decision))
    def check(facts: Any, as_of: dt.date) -> None:
        _evaluate_or_coded_error(decision_id, facts, as_of)

    check()


def _cli_ok(code: int, err: str, allowed: tuple[int, ...]) -> None:
    assert code in allowed, err
    assert "internal-error" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_command_line_answers_every_facts_file_with_a_result_or_a_coded_error(tmp_path: Path, fmt: str) -> None:
    decision_id = "chongqing/renewal"
    decision = LIBRARY.decision(decision_id)

    @settings(FUZZ, max_examples=max(EXAMPLES // 3, 10))
    @given(facts=st.one_of(valid_facts(decision), messy_facts(decision)), as_of=as_of_dates(decision))
    def check(facts: Any, as_of: dt.date) -> None:
        path = tmp_path / "facts.json"
        path.write_text(json.dumps(skillcert_jsonable(facts), ensure_ascii=False), encoding="utf-8")
        code, out, err = run_cli(["evaluate", decision_id, str(path), "--as-of", as_of.isoformat(),
                                  "--format", fmt, "--allow-out-of-period"])
        _cli_ok(code, err, (0, 2))
        if code == 0 and fmt == "json":
            json.loads(out)

    check()


def skillcert_jsonable(value: Any) -> Any:
    """Facts as a JSON document can carry them (dates as text, decimals as numbers where JSON allows)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value) if not value.is_finite() or value.adjusted() >= 15 else float(value)
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, dict):
        return {str(k): skillcert_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [skillcert_jsonable(v) for v in value]
    if isinstance(value, int) and abs(value) > 10**300:
        return str(value)
    return value


CELL = st.one_of(st.text(max_size=20), ODD_TEXT, st.integers().map(str),
                 st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str), st.dates().map(str))


def test_batch_writes_every_row_whatever_the_cells(tmp_path: Path) -> None:
    import csv

    header = ["编号", "institution_kind", "registry_level", "registered_on", "assessment_dates", "evaluation_on",
              "evaluation_result", "organized_cheating", "机构类型"]

    @settings(FUZZ, max_examples=max(EXAMPLES // 4, 8))
    @given(rows=st.lists(st.lists(CELL, min_size=len(header), max_size=len(header)), min_size=1, max_size=8))
    def check(rows: list[list[str]]) -> None:
        src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
        with open(src, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header[:-1])
            writer.writerows(row[:-1] for row in rows)
        dst.unlink(missing_ok=True)
        code, _, err = run_cli(["batch", "shanxi/evaluation", str(src), "-o", str(dst), "--as-of", "2023-09-20",
                                "--no-progress"])
        _cli_ok(code, err, (0, 1, 2))
        if code in (0, 1):
            with open(dst, encoding="utf-8-sig", newline="") as fh:
                written = list(csv.reader(fh))
            non_blank = [r for r in rows if any(c.strip() for c in r[:-1])]
            assert len(written) - 1 == len(non_blank)

    check()


# --------------------------------------------------------------------------------------------------
# Packs: random mutations of the bundled packs through validate

MUTATIONS: list[Callable[[str, int, str], str]] = [
    lambda text, i, s: text[:i] + text[i + 1:],                      # delete a character
    lambda text, i, s: text[:i] + s + text[i:],                      # insert a token
    lambda text, i, s: text[:i] + s + text[i + len(s):],             # overwrite with a token
    lambda text, i, s: "\n".join(ln for n, ln in enumerate(text.split("\n")) if n != i % (text.count("\n") + 1)),
    lambda text, i, s: text[:i] + text[i:].replace("\n", "\n" + text.split("\n")[i % 7], 1),   # duplicate a line
]
TOKENS = st.sampled_from([
    "：", "，", "８５", "\t", "  ", "- ", ": ", "{", "}", "[", "]", "&a", "*a", "!!python/object:os.system", "0x10",
    "1e999999", "null", "~", "'", '"', "\\", "#", "|", ">", "99999999999999999999999999999", "-", "+ x", " and ",
    " if ", "(" * 50, "not " * 30, "a" * 300,
])


@pytest.mark.parametrize("region", sorted(p.name for p in POLICIES.iterdir() if (p / "pack.yaml").is_file()))
def test_mutated_packs_give_problems_not_crashes(tmp_path: Path, region: str) -> None:
    from skillcert.compiler.pipeline import check_pack

    original = (POLICIES / region / "pack.yaml").read_text(encoding="utf-8")
    folder = tmp_path / region
    folder.mkdir()

    @settings(FUZZ, max_examples=max(EXAMPLES // 3, 10))
    @given(mutation=st.sampled_from(range(len(MUTATIONS))), where=st.integers(0, len(original) - 1), token=TOKENS,
           times=st.integers(1, 3))
    def check(mutation: int, where: int, token: str, times: int) -> None:
        text = original
        for k in range(times):
            text = MUTATIONS[(mutation + k) % len(MUTATIONS)](text, (where * (k + 1)) % max(len(text), 1), token)
        (folder / "pack.yaml").write_text(text, encoding="utf-8")
        try:
            pack, problems = check_pack(folder, display=f"{region}/pack.yaml")
        except skillcert.SkillcertError as exc:
            assert exc.code != "internal-error"
            return
        assert all(p.code for p in problems)

    check()
