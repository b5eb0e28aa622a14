"""skillcert.compiler.pipeline (with skillcert.source.schema): every problem code at its exact ``file:line:col``, all at once.

Each folder under tests/testdata/broken/ is tests/testdata/packs/small with exactly one mistake (the
folder name says which), so each must report exactly one line.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import skillcert
from skillcert.compiler.pipeline import STAGES, check_pack, compile_pack
from skillcert_testutil import BROKEN, MINI, ROOT, SMALL, pack_variant, problem_codes, problem_lines, run_cli

# folder → (line:col: code, a fragment of the message or hint)
BROKEN_PACKS: dict[str, tuple[str, str]] = {
    "yaml_syntax": ("15:16: yaml-syntax", "mapping values are not allowed"),
    "yaml_alias": ("23:22: yaml-alias", "&"),
    "yaml_duplicate_key": ("24:7: yaml-duplicate-key", "'applied_on'"),
    "unknown_key": ("16:5: unknown-key", "did you mean 'description'?"),
    "missing_key": ("61:16: missing-key", "'label'"),
    "bad_id": ("64:13: bad-id", "Late-Application"),
    "unknown_name": ("30:37: unknown-name", "did you mean 'registration_expires_on'?"),
    "unknown_function": ("30:28: unknown-function", "did you mean 'add_days'?"),
    "type_mismatch": ("34:15: type-mismatch", "日期 date"),
    "type_mismatch_when": ("66:15: type-mismatch", "`1`"),
    "unknown_value": ("34:23: unknown-value", "did you mean 'social_org'?"),
    "expr_syntax": ("34:15: expr-syntax", "语法错误"),
    "expr_not_allowed": ("34:15: expr-not-allowed", "__class__"),
    "duplicate_id": ("70:13: duplicate-id", "'late_application'"),
    "duplicate_name": ("26:7: duplicate-name", "'applied_on'"),
    "duplicate_name_function": ("26:7: duplicate-name", "'len'"),
    "reserved_name": ("23:7: reserved-name", "'as_of'"),
    "score_sum_group": ("45:18: score-sum", "'internal'"),
    "score_sum_card": ("39:14: score-sum", "'total'"),
    "band_gap": ("76:13: band-gap", "[7, 8)"),
    "band_overlap": ("76:13: band-overlap", "9"),
    "unknown_outcome": ("73:18: unknown-outcome", "did you mean 'renew'?"),
    "precedence_missing": ("61:7: precedence-missing", "'rectify'"),
    "unused_outcome": ("62:7: unused-outcome", "'deny'"),
    "cycle": ("28:7: cycle", "late → cutoff → late"),
    "missing_source": ("47:17: missing-source", "'posts'"),
    "pack_id": ("3:7: pack-id", "'pack_id'"),
    "bad_period": ("11:16: bad-period", "2024-08-31"),
}


def test_every_broken_pack_has_a_case() -> None:
    folders = {p.name for p in BROKEN.iterdir() if (p / "pack.yaml").is_file()}
    assert folders == set(BROKEN_PACKS) | {"three_mistakes"}


def test_the_template_of_the_broken_packs_is_clean() -> None:
    assert problem_lines(SMALL) == []


@pytest.mark.parametrize("name", sorted(BROKEN_PACKS))
def test_broken_pack_reports_its_one_problem_at_file_line_col(name: str) -> None:
    where, fragment = BROKEN_PACKS[name]
    lines = problem_lines(BROKEN / name)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{name}/pack.yaml:{where}: "), lines[0]
    assert fragment in lines[0]


def test_unknown_name_typo_is_reported_with_line_and_suggestion() -> None:
    [line] = problem_lines(BROKEN / "unknown_name")
    assert line == ("unknown_name/pack.yaml:30:37: unknown-name: 'registraton_expires_on' 未声明"
                    "(不是输入、参数、派生值、期限或评分表) (did you mean 'registration_expires_on'?)")


def test_all_problems_of_a_file_are_reported_in_one_run_sorted_by_line() -> None:
    # The three mistakes are found by different stages, in another order than their lines.
    lines = problem_lines(BROKEN / "three_mistakes")
    assert [line.split(": ")[0:2] for line in lines] == [
        ["three_mistakes/pack.yaml:23:7", "reserved-name"],
        ["three_mistakes/pack.yaml:31:37", "unknown-name"],
        ["three_mistakes/pack.yaml:73:15", "type-mismatch"],
    ]


def test_compile_pack_raises_pack_error_listing_every_problem() -> None:
    with pytest.raises(skillcert.PackError) as info:
        compile_pack(BROKEN / "three_mistakes")
    assert info.value.code == "pack-invalid"
    assert [p.code for p in info.value.problems] == ["reserved-name", "unknown-name", "type-mismatch"]
    assert "3" in info.value.message


def test_schema_problems_stop_before_the_model_is_built() -> None:
    pack, problems = check_pack(BROKEN / "unknown_key")
    assert pack is None
    assert [p.code for p in problems] == ["unknown-key"]


def test_load_problems_stop_before_the_schema() -> None:
    pack, problems = check_pack(BROKEN / "yaml_alias")
    assert pack is None and [p.code for p in problems] == ["yaml-alias"]


def test_stages_run_in_the_documented_order() -> None:
    assert [name for name, _ in STAGES] == ["load", "schema", "declarations", "expressions", "consistency",
                                            "dependencies", "scorecode", "build"]


def test_missing_pack_file_is_a_problem(tmp_path: Path) -> None:
    pack, problems = check_pack(tmp_path)
    assert pack is None
    assert [p.code for p in problems] == ["file-not-found"]


def test_pack_that_is_not_a_mapping_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text("- a\n- b\n", encoding="utf-8")
    pack, problems = check_pack(tmp_path)
    assert pack is None and [p.code for p in problems] == ["schema"]


def test_clean_pack_compiles_with_its_digest() -> None:
    pack = compile_pack(MINI)
    text = (MINI / "pack.yaml").read_text(encoding="utf-8")
    assert pack.digest == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert list(pack.decisions) == ["check"]
    d = pack.decisions["check"]
    assert d.id == "mini/check"
    assert [r.kind for r in d.rules] == ["trigger", "trigger", "conditions", "each", "trigger", "bands"]
    assert d.default_outcome == "pending"
    assert d.primary_score == "total"


def test_precedence_gives_ranks_and_groups_share_one() -> None:
    d = compile_pack(MINI).decisions["check"]
    ranks = {code: o.rank for code, o in d.outcomes.items()}
    assert ranks["refuse"] < ranks["late"] < ranks["ineligible"] < ranks["incomplete"] < ranks["overdue"]
    assert ranks["fail"] == ranks["rectify"] == ranks["pass"] < ranks["pending"]


def test_scorecard_leaves_inherit_the_source_of_their_group() -> None:
    d = compile_pack(MINI).decisions["check"]
    internal = d.scorecards["total"].categories[0]
    posts = internal.children[0].children[0]
    assert posts.id == "posts" and posts.source == "附件·内部管理"


# ---- more codes, on variants of the small pack


@pytest.mark.parametrize(
    ("replacements", "code", "fragment"),
    [
        pytest.param([("        kind: trigger\n        when: late", "        kind: triger\n        when: late")],
                     "bad-value", "trigger", id="rule-kind-typo"),
        pytest.param([("      applied_on: {type: date,", "      applied_on: {type: datum,")],
                     "bad-value", "date", id="input-type-typo"),
        pytest.param([("    title: 延续备案\n", "    title: 延续备案\n    score: totl\n")],
                     "unknown-name", "did you mean 'total'?", id="score-names-unknown-scorecard"),
        pytest.param([("        message: 逾期申请\n", "        message: 逾期 {lead_dayz} 日\n")],
                     "unknown-name", "did you mean 'lead_days'?", id="message-placeholder"),
        pytest.param([("    precedence: [late, [rectify, renew]]",
                       "    precedence: [late, [rectify, renew]]\n    report: [lates]")],
                     "unknown-name", "did you mean 'late'?", id="report-unknown-name"),
        pytest.param([("    precedence: [late, [rectify, renew]]",
                       "    precedence: [late, [rectify, renew]]\n    report: [score]")],
                     "reserved-name", "score", id="report-result-key"),
        pytest.param([("    precedence: [late, [rectify, renew]]", "    precedence: [late, late, [rectify, renew]]")],
                     "precedence-duplicate", "'late'", id="precedence-duplicate"),
        pytest.param([("    precedence: [late, [rectify, renew]]", "    precedence: [late, [rectify, renw]]")],
                     "unknown-outcome", "did you mean 'renew'?", id="precedence-unknown-outcome"),
        pytest.param([("          - {min: renew_min_score, outcome: renew}",
                       "          - {min: renew_min_scor, outcome: renew}")],
                     "band-bound", "did you mean 'renew_min_score'?", id="band-bound-unknown-parameter"),
        pytest.param([("          - {min: renew_min_score, outcome: renew}\n          - {below: renew_min_score",
                       "          - {min: 9, below: 9, outcome: renew}\n          - {min: 9, outcome: renew}\n"
                       "          - {below: renew_min_score")],
                     "band-empty", "[9, 9)", id="band-empty"),
        pytest.param([("                  - {per: 0.4, count: posts_missing, label: 缺一岗位}",
                       "                  - {per: 5, count: posts_missing, label: 缺一岗位}")],
                     "score-line", "5", id="deduction-above-item-max"),
        pytest.param([("                deduct:\n                  - {points: 1, when: late, label: 逾期}",
                       "                award:\n                  - {points: 1, when: late, label: 逾期}")],
                     "award-outside-bonus", "'safety'", id="award-outside-bonus"),
        pytest.param([("        expr: kind == 'social_org'", "        expr: kind == 'social_org' && late")],
                     "expr-syntax", "&&", id="c-style-and"),
        pytest.param([("        expr: kind == 'social_org'", "        expr: kind == None")],
                     "type-mismatch", "is None", id="compare-with-none"),
        pytest.param([("        when: scored\n        source: 附件3", "        when: posts_missing\n        source: 附件3")],
                     "type-mismatch", "when", id="scorecard-when-integer"),
        pytest.param([("                  - {per: 0.4, count: posts_missing,", "                  - {per: 0.4, count: late,")],
                     "type-mismatch", "count", id="count-is-bool"),
        pytest.param([("    parameters:\n", "    parameters:\n      Bad: {value: 1, label: 坏名字, source: §一}\n")],
                     "bad-id", "Bad", id="parameter-name-not-an-id"),
        pytest.param([("  valid_until: null", "  valid_until: 2025-13-01")],
                     "yaml-date", "2025-13-01", id="impossible-date"),
    ],
)
def test_problem_on_a_variant_of_the_small_pack(tmp_path: Path, replacements: list[tuple[str, str]], code: str,
                                                fragment: str) -> None:
    folder = pack_variant(tmp_path, SMALL, "variant", replacements)
    lines = problem_lines(folder)
    matching = [line for line in lines if f": {code}: " in line]
    assert matching, lines
    assert any(fragment in line for line in matching), matching


def test_each_element_name_may_not_shadow_a_declared_name(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, MINI, "shadow", [("        as: bank\n", "        as: kind\n")])
    assert "duplicate-name" in problem_codes(folder)


def test_checklist_outcome_requires_provided(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, MINI, "noprovided", [("        provided: materials\n", "")])
    assert problem_codes(folder) == ["schema"]


def test_pack_calendar_with_a_weekday_workday_is_a_problem(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, SMALL, "badcal", append=(
        "calendar:\n  - year: 2031\n    holidays: [2031-01-01]\n    workdays: [2031-01-06]\n"))
    assert problem_codes(folder) == ["calendar-data-invalid"]


def test_decision_period_inside_a_valid_pack_period_is_accepted(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, SMALL, "narrow", [
        ("    title: 延续备案\n", "    title: 延续备案\n    valid_from: 2025-01-01\n    valid_until: 2025-12-31\n")])
    assert problem_lines(folder) == []
    d = compile_pack(folder).decisions["renewal"]
    assert (str(d.valid_from), str(d.valid_until)) == ("2025-01-01", "2025-12-31")


def test_decision_period_that_ends_before_it_starts_is_reported_at_the_decision(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, SMALL, "backwards", [
        ("    title: 延续备案\n", "    title: 延续备案\n    valid_from: 2025-01-01\n    valid_until: 2024-12-31\n")])
    assert problem_lines(folder) == [
        "backwards/pack.yaml:17:18: bad-period: 有效期截止日 2024-12-31 早于施行日期 2025-01-01"]


# ---- schema problems name the real mistake


def test_schema_type_error_is_wrong_type(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, SMALL, "variant", [("        max: 10\n        when: scored", "        max: ten\n        when: scored")])
    assert problem_lines(folder) == ["variant/pack.yaml:39:14: wrong-type: 'max' 应为 number,实际是 'ten'"]


def test_typo_in_an_input_declaration_is_named_with_did_you_mean(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, SMALL, "variant", [
        ("posts_missing: {type: integer, label: 缺少的岗位数", "posts_missing: {type: integer, lable: 缺少的岗位数")])
    lines = problem_lines(folder)
    assert "variant/pack.yaml:23:38: unknown-key: 未知的键 'lable' (did you mean 'label'?)" in lines
    assert not any("'type'" in line for line in lines), lines  # `type` is a valid key of an input


def test_typo_in_a_nested_condition_is_reported_at_the_typo(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, MINI, "variant", [
        ("- {id: registered, check: registered_in_city,", "- {id: registered, chek: registered_in_city,")])
    lines = problem_lines(folder)
    assert any(line.startswith("variant/pack.yaml:209:32: unknown-key: 未知的键 'chek'")
               and "did you mean 'check'?" in line for line in lines), lines


def test_typo_in_a_rule_key_is_named_with_did_you_mean(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, SMALL, "variant", [("        kind: trigger\n        when: late\n",
                                                        "        kind: trigger\n        wen: late\n")])
    assert "variant/pack.yaml:66:9: unknown-key: 未知的键 'wen' (did you mean 'when'?)" in problem_lines(folder)


@pytest.mark.parametrize(
    ("template", "replacements", "fragment"),
    [
        pytest.param(MINI, [("        days: reply_days\n", "        days: reply_days\n        months: review_months\n")],
                     "days / working_days / months / years", id="deadline-with-two-units"),
        pytest.param(SMALL, [("                  - {points: 1, when: late, label: 逾期}",
                              "                  - {points: 1, label: 逾期}")],
                     "when", id="points-without-when"),
    ],
)
def test_one_of_mistake_says_what_the_valid_forms_are(tmp_path: Path, template: Path,
                                                      replacements: list[tuple[str, str]], fragment: str) -> None:
    lines = problem_lines(pack_variant(tmp_path, template, "variant", replacements))
    assert lines
    assert any(fragment in line for line in lines), lines


def test_cycle_through_the_outcome_is_reported_at_the_deadline(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, MINI, "variant", [
        ("        when: check_overdue and as_of > decision_due", "        when: check_overdue and renewed_until is not None")])
    [line] = problem_lines(folder)
    assert ": cycle: " in line and "renewed_until" in line and "outcome" in line
    assert line.startswith("variant/pack.yaml:158:7: cycle: "), line


def test_cycle_between_derived_values_is_reported_once(tmp_path: Path) -> None:
    assert problem_codes(BROKEN / "cycle") == ["cycle"]


# ---- skillcert validate


def test_validate_exits_1_and_prints_one_line_per_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(["validate", "tests/testdata/broken/three_mistakes"])
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("tests/testdata/broken/three_mistakes/pack.yaml:23:7: reserved-name: ")
    assert lines[1].startswith("tests/testdata/broken/three_mistakes/pack.yaml:31:37: unknown-name: ")
    assert lines[2].startswith("tests/testdata/broken/three_mistakes/pack.yaml:73:15: type-mismatch: ")
    assert "3" in err


def test_validate_reports_every_broken_pack_in_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli(["validate", "tests/testdata/broken"])
    assert code == 1
    expected = []
    for folder in sorted(p for p in BROKEN.iterdir() if (p / "pack.yaml").is_file()):
        expected += ["tests/testdata/broken/" + line for line in problem_lines(folder)]
    assert out.splitlines() == expected
    assert len(expected) >= len(BROKEN_PACKS)


def test_validate_exits_0_on_the_bundled_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(["validate", "policies"])
    assert (code, out) == (0, "")
    assert "Traceback" not in err


def test_validate_defaults_to_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli(["validate"])
    assert (code, out) == (0, "")


def test_validate_exits_0_on_the_test_packs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli(["validate", "tests/testdata/packs"])
    assert (code, out) == (0, "")


def test_validate_exits_2_on_a_missing_path(tmp_path: Path) -> None:
    code, out, err = run_cli(["validate", str(tmp_path / "nowhere")])
    assert code == 2
    assert out == ""
    assert "nowhere" in err and "Traceback" not in err


def test_validate_checks_example_facts(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, MINI, "mini")
    (folder / "examples").mkdir()
    (folder / "examples" / "check-bad.yaml").write_text("kind: org\nexpires_on: 2025-06-30\n"
                                                        "applied_on: 2025-05-20\naplied: 1\n", encoding="utf-8")
    (folder / "examples" / "other.yaml").write_text("kind: org\n", encoding="utf-8")
    code, out, _ = run_cli(["validate", str(folder)])
    assert code == 1
    assert "facts-invalid" in out and "did you mean 'applied_on'?" in out
    assert "example-name" in out
    assert ":4:1: facts-invalid" in out


def test_a_truncated_problem_list_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillcert import errors

    folder = pack_variant(tmp_path, SMALL, "variant", [("        kind: trigger\n        when: late\n",
                                                        "        kind: trigger\n        wen: late\n")])
    original = errors.Problems.__init__
    monkeypatch.setattr(errors.Problems, "__init__", lambda self, limit=1000: original(self, limit=0))
    codes = problem_codes(folder)
    assert codes == ["too-many-problems"]


def _reachable(value: object, seen: set[int]) -> list[object]:
    """Every object reachable from a compiled model value (dataclass fields, mappings, sequences)."""
    import dataclasses

    if id(value) in seen or isinstance(value, (str, bytes, int, float)) or value is None:
        return []
    seen.add(id(value))
    out = [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.name != "pack":
                out += _reachable(getattr(value, f.name), seen)
    elif isinstance(value, dict):
        for v in value.values():
            out += _reachable(v, seen)
    elif isinstance(value, (list, tuple)):
        for v in value:
            out += _reachable(v, seen)
    return out


@pytest.mark.parametrize("region", ["chongqing", "shanxi", "hebei", "nanning", "fuzhou"])
def test_the_compiled_model_keeps_no_yaml(region: str) -> None:
    pack = compile_pack(ROOT / "policies" / region)
    declaration_keys = {"type", "label", "expr", "source", "kind"}
    for decision in pack.decisions.values():
        raw = [v for v in _reachable(decision, set()) if isinstance(v, dict)
               and any(isinstance(v.get(k), str) for k in declaration_keys)]
        assert raw == []


def test_the_compiled_model_is_frozen() -> None:
    import dataclasses

    pack = compile_pack(MINI)
    decision = next(iter(pack.decisions.values()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.title = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.rules[0].message = "x"  # type: ignore[misc]
