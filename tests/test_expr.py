"""skillcert.lang.expr: the allow-list, name and type checks, exact arithmetic, and that nothing escapes."""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import skillcert
from skillcert.errors import EvaluationError, did_you_mean
from skillcert.lang.expr import MAX_DEPTH, MAX_EXPR_LENGTH, MAX_NODES
from skillcert.lang.types import DATE, INTEGER, TEXT, VType
from skillcert_testutil import (
    AS_OF,
    MINI,
    PACKS,
    Ctx,
    compile_text,
    evaluate_text,
    mini_facts,
    pack_variant,
    problem_codes,
)

LIST = VType("list", item=INTEGER)
FINDINGS = VType("record", fields=(("posts_missing", INTEGER), ("no_records", VType("bool"))))
KIND = VType("enum", ("school", "org"), (("school", "技工院校"), ("org", "社会培训评价组织")))
TYPES: dict[str, VType] = {"x": INTEGER, "a": LIST, "s": TEXT, "d": DATE, "findings": FINDINGS, "kind": KIND}


def codes(text: Any, types: dict[str, VType] | None = None) -> list[str]:
    _, problems = compile_text(text, TYPES if types is None else types)
    return [p.code for p in problems]


# ---- escape attempts: refused when the pack is compiled


ESCAPES = [
    ("__import__('os')", "expr-not-allowed"),
    ("__import__('os').system('touch /tmp/skillcert-pwned')", "expr-not-allowed"),
    ("().__class__.__bases__", "expr-not-allowed"),
    ("findings.__class__", "expr-not-allowed"),
    ("findings.__class__.__mro__[1].__subclasses__()", "expr-not-allowed"),
    ("x.__dict__", "expr-not-allowed"),
    ("(lambda: 1)()", "expr-not-allowed"),
    ("[c for c in ()]", "expr-not-allowed"),
    ("(c for c in a)", "expr-not-allowed"),
    ("{c for c in a}", "expr-not-allowed"),
    ("open('/etc/passwd')", "unknown-function"),
    ("getattr(a, 'b')", "unknown-function"),
    ("eval('1')", "unknown-function"),
    ("exec('1')", "unknown-function"),
    ("type(1)", "unknown-function"),
    ("a[0]", "expr-not-allowed"),
    ("s[::-1]", "expr-not-allowed"),
    ("{'a': 1}", "expr-not-allowed"),
    ("{1, 2}", "expr-not-allowed"),
    ("(1, 2)", "expr-not-allowed"),
    ("f'{x}'", "expr-not-allowed"),
    ("2 ** 1000000", "expr-not-allowed"),
    ("9 ** 9 ** 9", "expr-not-allowed"),
    ("x // 2", "expr-not-allowed"),
    ("x % 2", "expr-not-allowed"),
    ("x << 64", "expr-not-allowed"),
    ("~x", "expr-not-allowed"),
    ("(a := 1)", "expr-not-allowed"),
    ("a := 1", "expr-syntax"),
    ("max(a, key=len)", "expr-not-allowed"),
    ("len(x=a)", "expr-not-allowed"),
    ("len(*a)", "expr-not-allowed"),
    ("s.upper()", "expr-not-allowed"),
    ("d.year", "expr-not-allowed"),
    ("'abc'.__len__()", "expr-not-allowed"),
    ("_secret", "expr-not-allowed"),
    ("_f(1)", "expr-not-allowed"),
    ("len", "expr-not-allowed"),
    ("x is 1", "expr-not-allowed"),
    ("1j", "expr-not-allowed"),
    ("...", "expr-not-allowed"),
    ("b'x'", "expr-not-allowed"),
    ("await x", "expr-not-allowed"),
]


@pytest.mark.parametrize(("text", "code"), ESCAPES, ids=[t for t, _ in ESCAPES])
def test_escape_attempt_is_refused_at_compile_time(text: str, code: str) -> None:
    compiled, problems = compile_text(text, TYPES)
    assert [p.code for p in problems] == [code]
    if code != "unknown-function":
        assert compiled is None  # nothing left that could run


@pytest.mark.parametrize(
    "template",
    [
        "open('{marker}', 'w')",
        "exec(\"open('{marker}', 'w')\")",
        "eval(\"open('{marker}', 'w')\")",
        "getattr(open('{marker}', 'w'), 'close')()",
        "type(open('{marker}', 'w'))",
    ],
)
def test_unknown_function_never_runs_even_if_evaluated(template: str, tmp_path: Path) -> None:
    marker = tmp_path / "created"
    compiled, problems = compile_text(template.format(marker=marker), TYPES)
    assert problems and {p.code for p in problems} <= {"unknown-function", "expr-not-allowed"}
    if compiled is not None:
        with pytest.raises(EvaluationError):
            compiled.evaluate(Ctx({}))
    assert not marker.exists()


def test_escape_in_a_pack_stops_compilation_and_never_executes(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = pack_variant(tmp_path, MINI, "escape", [
        ("expr: applied_on > apply_by", f"expr: \"__import__('os').system('touch {marker}') == 0\""),
    ])
    assert "expr-not-allowed" in problem_codes(folder)
    with pytest.raises(skillcert.PackError) as info:
        skillcert.compile_pack(folder)
    assert any(p.code == "expr-not-allowed" for p in info.value.problems)
    assert not marker.exists()


def test_expression_longer_than_the_limit_is_refused() -> None:
    at_limit = "x" + " " * (MAX_EXPR_LENGTH - 6) + " == 1"
    assert len(at_limit) == MAX_EXPR_LENGTH
    assert codes(at_limit) == []
    over = at_limit + " "
    assert codes(over) == ["expr-too-large"]
    assert codes("x" + " + x" * MAX_EXPR_LENGTH) == ["expr-too-large"]


def test_deep_nesting_is_refused() -> None:
    assert codes("-" * (MAX_DEPTH // 2) + "x") == []
    assert codes("-" * (MAX_DEPTH + 5) + "x") == ["expr-too-large"]
    assert codes("not " * (MAX_DEPTH + 5) + "true") == ["expr-too-large"]
    nested = "x"
    for _ in range(MAX_DEPTH + 5):
        nested = f"max({nested}, 1)"
    assert codes(nested) == ["expr-too-large"]


def test_too_many_nodes_are_refused() -> None:
    text = " + ".join(["x"] * (MAX_NODES + 10))
    assert len(text) < MAX_EXPR_LENGTH
    assert codes(text) == ["expr-too-large"]


def test_long_string_literal_is_refused() -> None:
    assert codes("s == '" + "a" * 5000 + "'") == ["expr-too-large"]


# ---- literals and exact arithmetic


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.1 + 0.2 == 0.3", True),
        ("0.1 + 0.2", Decimal("0.3")),
        ("7 / 2", Decimal("3.5")),
        ("1 / 4 == 0.25", True),
        ("2 * 0.4", Decimal("0.8")),
        ("100 - 0.4 * 50", Decimal("80")),
        ("100 - 0.6 * 3 - 0.25 - 14", Decimal("83.95")),
        ("3 - 5", -2),
        ("-(2)", -2),
        ("true", True),
        ("false", False),
        ("True and not False", True),
        ("true and not false", True),
        ("null is None", True),
        ("None is not null", False),
        ("'a' + 'b'", "ab"),
        ("'重' in '重庆'", True),
        ("'c' not in ['a', 'b']", True),
        ("[1, 2] + [3]", [1, 2, 3]),
        ("'yes' if 1 < 2 else 'no'", "yes"),
        ("1 < 2 < 3", True),
        ("2 >= 2 and 2 <= 2 and 2 != 3", True),
    ],
)
def test_literals_and_operators(text: str, value: object) -> None:
    result = evaluate_text(text)
    assert result == value
    assert type(result) is type(value)


def test_division_is_exact_decimal_even_for_integers() -> None:
    result = evaluate_text("x / 4", x=10)
    assert result == Decimal("2.5") and isinstance(result, Decimal)
    compiled, _ = compile_text("x / 4", {"x": INTEGER})
    assert compiled is not None and compiled.type.kind == "decimal"


def test_decimal_literal_is_never_a_binary_float() -> None:
    compiled, problems = compile_text("0.1", {})
    assert not problems and compiled is not None
    constants = [n.value for n in ast.walk(compiled.tree) if isinstance(n, ast.Constant)]
    assert constants == [Decimal("0.1")]


def test_and_or_short_circuit_on_none() -> None:
    nullable = {"x": INTEGER.with_nullable()}
    guarded, problems = compile_text("x is not None and x > 1", nullable)
    assert not problems and guarded is not None
    assert guarded.evaluate(Ctx({"x": None})) is False
    either, _ = compile_text("x is None or x > 1", nullable)
    assert either is not None and either.evaluate(Ctx({"x": None})) is True


def test_record_fields_are_read() -> None:
    compiled, problems = compile_text("findings.posts_missing * 0.4", TYPES)
    assert not problems and compiled is not None
    assert compiled.evaluate(Ctx({"findings": {"posts_missing": 3}})) == Decimal("1.2")
    assert compiled.names == frozenset({"findings"})


def test_functions_are_called_with_the_evaluation_context() -> None:
    result = evaluate_text("add_working_days(d, 20)", d=dt.date(2024, 9, 27))
    assert result == dt.date(2024, 10, 30)


def test_runtime_error_names_the_empty_value() -> None:
    compiled, problems = compile_text("x + 1", {"x": INTEGER.with_nullable()})
    assert not problems and compiled is not None
    with pytest.raises(EvaluationError) as info:
        compiled.evaluate(Ctx({"x": None}))
    assert info.value.code == "expression-failed"
    assert "x" in info.value.message and "None" in info.value.message


# ---- names and types


def test_unknown_name_suggests_the_closest_declared_name() -> None:
    types = {"registration_expires_on": DATE, "applied_on": DATE}
    _, problems = compile_text("applied_on > registraton_expires_on", types)
    assert [(p.code, p.hint, p.offset) for p in problems] == [
        ("unknown-name", "did you mean 'registration_expires_on'?", 13)]


def test_unknown_record_field_suggests_the_closest_field() -> None:
    _, problems = compile_text("findings.post_missing > 0", TYPES)
    assert [(p.code, p.hint) for p in problems] == [("unknown-name", "did you mean 'posts_missing'?")]


def test_unknown_function_suggests_the_closest_function() -> None:
    _, problems = compile_text("add_dayz(d, 1)", TYPES)
    assert [(p.code, p.hint) for p in problems] == [("unknown-function", "did you mean 'add_days'?")]


def test_enum_literal_not_among_the_values_is_reported() -> None:
    _, problems = compile_text("kind == 'socal_org' or kind in ['school', 'orgg']", TYPES)
    assert [(p.code, p.hint) for p in problems] == [
        ("unknown-value", ""), ("unknown-value", "did you mean 'org'?")]
    assert "'socal_org'" in problems[0].message


@pytest.mark.parametrize(
    "text",
    [
        "d > 80",
        "d + 1",
        "s - 1",
        "x == 'a'",
        "x == None",
        "-s",
        "findings > 1",
        "x and true",
        "not x",
        "1 if x else 2",
        "add_days(d, 'a')",
        "add_days(x, 1)",
        "x in 5",
    ],
)
def test_type_mismatch_is_reported(text: str) -> None:
    assert "type-mismatch" in codes(text)


def test_wrong_number_of_arguments_is_reported() -> None:
    assert codes("add_days(d)") == ["wrong-arguments"]
    assert codes("add_days(d, 1, 2)") == ["wrong-arguments"]
    assert codes("max(x)") == []
    assert codes("max(x, 1, 2, 3)") == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("d", "date"),
        ("x + 1", "integer"),
        ("x + 0.5", "decimal"),
        ("x > 1", "bool"),
        ("add_days(d, 1)", "date"),
        ("'a' if x > 1 else 'b'", "text"),
        ("a", "list"),
        ("findings", "record"),
        ("kind", "enum"),
        ("earliest([d, d])", "date"),
    ],
)
def test_type_is_inferred(text: str, kind: str) -> None:
    compiled, problems = compile_text(text, TYPES)
    assert not problems and compiled is not None
    assert compiled.type.kind == kind


@pytest.mark.parametrize(
    ("source", "code"),
    [("", "expr-syntax"), ("   ", "expr-syntax"), (["x"], "expr-syntax"), ("x >", "expr-syntax"),
     ("x > 1 && x < 3", "expr-syntax"), ("x > 1 || x < 3", "expr-syntax")],
)
def test_malformed_expression_is_an_expr_syntax_problem(source: Any, code: str) -> None:
    assert codes(source) == [code]


def test_c_style_operator_hint_says_use_and_or() -> None:
    _, problems = compile_text("x > 1 && x < 3", TYPES)
    assert problems[0].hint == "请用 and / or"
    assert problems[0].offset == 6


def test_yaml_scalars_compile_as_expressions() -> None:
    yes, _ = compile_text(True, {})
    five, _ = compile_text(5, {})
    half, _ = compile_text(Decimal("0.5"), {})
    assert yes is not None and yes.type.kind == "bool"
    assert five is not None and five.type.kind == "integer"
    assert half is not None and half.type.kind == "decimal"


@pytest.mark.parametrize(
    ("name", "candidates", "hint"),
    [
        ("registraton_expires_on", ["registration_expires_on", "applied_on"], "did you mean 'registration_expires_on'?"),
        ("zzz", ["registration_expires_on"], ""),
        ("lable", ["label", "source"], "did you mean 'label'?"),
    ],
)
def test_did_you_mean(name: str, candidates: list[str], hint: str) -> None:
    assert did_you_mean(name, candidates) == hint


# ---- parse once


def test_evaluation_never_parses_again(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled, problems = compile_text("x / 4 + 0.1 > 2 and s in ['a', 'b']", TYPES)
    assert not problems and compiled is not None
    library = skillcert.load(PACKS)
    library.decision("mini/check")  # compile the pack before parsing is forbidden

    def no_parse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("ast.parse called during evaluation")

    monkeypatch.setattr(ast, "parse", no_parse)
    assert compiled.evaluate(Ctx({"x": 10, "s": "a"})) is True
    result = library.evaluate("mini/check", mini_facts(findings={"defects": 45}), as_of=AS_OF)
    assert result.outcome == "pass" and result.score == 80
