"""skillcert.cli: the ``skillcert`` command line, called in-process through ``run(argv, stdout, stderr)``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from skillcert.cli import run
from skillcert.source.loader import MAX_FILE_BYTES
from skillcert_testutil import MINI, PACKS, ROOT, SOCIAL_ORG_EXAMPLE, run_cli

EXAMPLE = str(SOCIAL_ORG_EXAMPLE)
EVALUATE = ["evaluate", "chongqing/renewal"]
GOOD_FACTS = SOCIAL_ORG_EXAMPLE.read_text(encoding="utf-8")


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def assert_clean_error(code: int, out: str, err: str) -> None:
    assert code == 2
    assert out == ""
    assert err.startswith("skillcert: ")
    assert "Traceback" not in err


# ---- evaluate


def test_evaluate_example_as_json() -> None:
    code, out, err = run_cli([*EVALUATE, EXAMPLE, "--as-of", "2025-05-25", "--format", "json"])
    assert code == 0, err
    assert '"score": 94.6,' in out  # an exact JSON number token, not a string or 94.59999…
    data = json.loads(out, parse_float=Decimal)
    assert data["decision"] == "chongqing/renewal"
    assert data["outcome"] == "renew"
    assert data["score"] == Decimal("94.6")
    assert data["deadlines"]["decision_due"] == "2025-06-18"
    assert data["deadlines"]["apply_by"] == "2025-05-31"
    assert data["pack_digest"].startswith("sha256:")
    assert data["as_of"] == "2025-05-25"
    assert [r["rule"] for r in data["reasons"]] == ["score_band"]
    assert data["renewed_occupations"] == ["4-01-05-01", "4-03-02-01"]


def test_evaluate_example_as_text_is_the_default() -> None:
    code, out, err = run_cli([*EVALUATE, EXAMPLE, "--as-of", "2025-05-25"])
    assert code == 0, err
    assert "予以延续备案" in out
    assert "94.6" in out
    assert "2025-06-18" in out


def test_evaluate_json_is_identical_on_every_run() -> None:
    argv = [*EVALUATE, EXAMPLE, "--as-of", "2025-05-25", "--format", "json"]
    assert run_cli(argv)[1] == run_cli(argv)[1]


def test_bad_facts_exit_2_naming_key_and_chinese_label(tmp_path: Path) -> None:
    facts = write(tmp_path, "bad.yaml", GOOD_FACTS.replace("registration_expires_on: 2025-06-30",
                                                           "registration_expires_on: 明年六月"))
    code, out, err = run_cli([*EVALUATE, facts, "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert "facts-invalid" in err
    assert "registration_expires_on(备案有效期届满日)" in err
    assert "bad.yaml:9:" in err


def test_unknown_fact_exit_2_with_a_did_you_mean(tmp_path: Path) -> None:
    facts = write(tmp_path, "typo.yaml", GOOD_FACTS.replace("applied_on:", "aplied_on:"))
    code, out, err = run_cli([*EVALUATE, facts, "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert "did you mean 'applied_on'?" in err
    assert "applied_on(收到申报材料日期)" in err


def test_facts_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(GOOD_FACTS))
    code, out, err = run_cli([*EVALUATE, "-", "--as-of", "2025-05-25", "--format", "json"])
    assert code == 0, err
    assert json.loads(out)["outcome"] == "renew"


def test_bad_facts_from_stdin_are_located_in_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("institution_kind: socal_org\n"))
    code, out, err = run_cli([*EVALUATE, "-", "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert "<stdin>:1:" in err
    assert "institution_kind(机构类型)" in err


def test_json_facts_file(tmp_path: Path) -> None:
    facts = {"institution_kind": "social_org", "registry_level": "city", "registration_expires_on": "2025-06-30",
             "applied_on": "2025-05-20", "registered_occupations": ["4-01-05-01"],
             "findings": {"posts_missing": 2}}
    path = write(tmp_path, "facts.json", json.dumps(facts))
    code, out, err = run_cli([*EVALUATE, path, "--as-of", "2025-05-25", "--format", "json"])
    assert code == 0, err
    assert '"score": 95.2,' in out


def test_unknown_decision_exit_2_with_a_did_you_mean() -> None:
    code, out, err = run_cli(["evaluate", "chongqing/renewl", EXAMPLE, "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert "did you mean 'renewal'?" in err


def test_unknown_region_exit_2_with_a_did_you_mean() -> None:
    code, out, err = run_cli(["evaluate", "chongqng/renewal", EXAMPLE, "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert "did you mean 'chongqing'?" in err


@pytest.mark.parametrize("decision", ["chongqing", "/renewal", "chongqing/"])
def test_malformed_decision_id_exit_2(decision: str) -> None:
    assert_clean_error(*run_cli(["evaluate", decision, EXAMPLE, "--as-of", "2025-05-25"]))


def test_as_of_outside_the_period_exit_2_naming_the_period() -> None:
    code, out, err = run_cli([*EVALUATE, EXAMPLE, "--as-of", "2024-08-01"])
    assert_clean_error(code, out, err)
    assert "out-of-period" in err
    assert "2024-09-01" in err
    assert "--allow-out-of-period" in err


def test_allow_out_of_period_exit_0_with_a_warning() -> None:
    code, out, err = run_cli([*EVALUATE, EXAMPLE, "--as-of", "2024-08-01", "--allow-out-of-period",
                              "--format", "json"])
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    assert any("2024-08-01" in w for w in warnings)


@pytest.mark.parametrize("as_of", ["2025-13-01", "25-05-2025", "today"])
def test_malformed_as_of_exit_2(as_of: str) -> None:
    assert_clean_error(*run_cli([*EVALUATE, EXAMPLE, "--as-of", as_of]))


def test_unknown_format_exit_2_listing_the_formats() -> None:
    code, out, err = run_cli([*EVALUATE, EXAMPLE, "--as-of", "2025-05-25", "--format", "xml"])
    assert_clean_error(code, out, err)
    assert "json" in err and "text" in err


def test_facts_file_with_an_alias_exit_2(tmp_path: Path) -> None:
    facts = write(tmp_path, "alias.yaml", GOOD_FACTS.replace(
        'registered_occupations: ["4-01-05-01", "4-03-02-01", "4-03-02-02"]',
        'registered_occupations: &occ ["4-01-05-01", "4-03-02-01"]').replace(
        'assessed_occupations: ["4-01-05-01", "4-03-02-01"]', "assessed_occupations: *occ"))
    code, out, err = run_cli([*EVALUATE, facts, "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert "yaml-alias" in err
    assert "alias.yaml:" in err


def test_oversized_facts_file_exit_2_input_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(GOOD_FACTS + "# " + "x" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    code, out, err = run_cli([*EVALUATE, str(path), "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert "input-too-large" in err


def test_nonexistent_facts_file_exit_2(tmp_path: Path) -> None:
    code, out, err = run_cli([*EVALUATE, str(tmp_path / "missing.yaml"), "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert "missing.yaml" in err


def test_facts_that_are_not_a_mapping_exit_2(tmp_path: Path) -> None:
    facts = write(tmp_path, "list.yaml", "- institution_kind\n- social_org\n")
    code, out, err = run_cli([*EVALUATE, facts, "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert "facts-invalid" in err


def test_policies_option_points_at_another_folder() -> None:
    facts = str(MINI / "examples" / "check-org.yaml")
    code, out, err = run_cli(["--policies", str(PACKS), "evaluate", "mini/check", facts, "--as-of", "2025-05-25",
                              "--format", "json"])
    assert code == 0, err
    assert json.loads(out)["decision"] == "mini/check"


def test_calendar_file_adds_an_unknown_year(tmp_path: Path) -> None:
    facts = write(tmp_path, "facts.yaml", "kind: org\nexpires_on: 2031-06-30\napplied_on: 2031-05-20\n"
                                          "person_times: 150\n")
    argv = ["--policies", str(PACKS), "evaluate", "mini/check", facts, "--as-of", "2031-05-25", "--format", "json"]
    code, out, err = run_cli(argv)
    assert code == 0, err
    data = json.loads(out)
    assert data["deadlines"]["decision_due"] is None
    assert any("2031" in w for w in data["warnings"])
    calendar = write(tmp_path, "2031.yaml", "year: 2031\nholidays: [2031-01-01, 2031-06-02]\nworkdays: []\n")
    code, out, err = run_cli([*argv, "--calendar", calendar])
    assert code == 0, err
    data = json.loads(out)
    assert data["deadlines"]["decision_due"] == "2031-06-18"
    assert data["warnings"] == []


def test_evaluation_error_exit_2_with_its_code(tmp_path: Path) -> None:
    facts = write(tmp_path, "facts.yaml", "kind: org\nexpires_on: 2031-06-30\napplied_on: 2031-05-20\n"
                                          "person_times: 150\ncheck_overdue: true\n")
    code, out, err = run_cli(["--policies", str(PACKS), "evaluate", "mini/check", facts, "--as-of", "2031-05-25"])
    assert_clean_error(code, out, err)
    assert "calendar-year-unknown" in err


def binary_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin's binary output format, ``bin``: the outcome as bytes."""
    from skillcert import plugins
    from skillcert.render.formats import OutputFormat

    real = plugins.output_formats

    def with_binary(pm: object) -> dict[str, OutputFormat]:
        formats = dict(real(pm))
        formats["bin"] = OutputFormat("bin", "bytes", lambda result, explain: result.outcome.encode() + b"\x00",
                                      "application/octet-stream", ".bin", binary=True)
        return formats

    monkeypatch.setattr(plugins, "output_formats", with_binary)


def test_a_binary_format_writes_bytes_to_a_redirected_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    binary_format(monkeypatch)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    err = io.StringIO()
    code = run([*EVALUATE, EXAMPLE, "--as-of", "2025-05-25", "--format", "bin"], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert raw.getvalue() == b"renew\x00"


def test_a_binary_format_is_refused_on_a_text_only_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    binary_format(monkeypatch)
    code, out, err = run_cli([*EVALUATE, EXAMPLE, "--as-of", "2025-05-25", "--format", "bin"])
    assert_clean_error(code, out, err)
    assert "result.bin" in err


# ---- list, test, functions, usage


def test_list_shows_the_bundled_decisions() -> None:
    code, out, err = run_cli(["list"])
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("chongqing/renewal"))
    assert "职业技能等级认定机构延续备案" in row
    assert "2024-09-01" in row


def test_test_command_passes_on_the_bundled_pack() -> None:
    code, out, err = run_cli(["test", str(ROOT / "policies" / "chongqing")])
    assert code == 0, out + err
    assert "0 failed" in out


def test_functions_command_lists_the_builtins() -> None:
    code, out, _ = run_cli(["functions"])
    assert code == 0
    names = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {"add_days", "add_working_days", "round_half_up", "coalesce"} <= names


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["evaluate"], ["evaluate", "chongqing/renewal"]])
def test_usage_errors_exit_2_without_traceback(argv: list[str]) -> None:
    code, out, err = run_cli(argv)
    assert code == 2
    assert "Traceback" not in err


def test_help_exits_0() -> None:
    code, out, _ = run_cli(["--help"])
    assert code == 0
    assert "evaluate" in out


# ---- which packs: --policies before or after the command, SKILLCERT_POLICIES, folders that are missing

MINI_FACTS = str(MINI / "examples" / "check-org.yaml")
MINI_CASES = "kind,expires_on,applied_on,person_times\norg,2025-06-30,2025-05-20,150\n"


def commands_on_the_test_packs(tmp_path: Path) -> dict[str, list[str]]:
    """Each command, as it runs on tests/testdata/packs (paths absolute, so the cwd does not matter)."""
    cases = write(tmp_path, "cases.csv", MINI_CASES)
    return {
        "list": ["list"],
        "validate": ["validate"],
        "test": ["test"],
        "evaluate": ["evaluate", "mini/check", MINI_FACTS, "--as-of", "2025-05-25", "--format", "json"],
        "batch": ["batch", "mini/check", cases, "-o", str(tmp_path / "out.jsonl"), "--as-of", "2025-05-25",
                  "--no-progress"],
        "functions": ["functions"],
    }


def run_and_read(argv: list[str], tmp_path: Path) -> tuple[int, str, str]:
    """``run_cli``, with batch's output file as its stdout."""
    code, out, err = run_cli(argv)
    output = tmp_path / "out.jsonl"
    if output.exists():
        out += output.read_text(encoding="utf-8")
        output.unlink()
    return code, out, err


@pytest.mark.parametrize("command", ["list", "validate", "test", "evaluate", "batch", "functions"])
def test_policies_before_and_after_the_command_give_the_same_output(command: str, tmp_path: Path) -> None:
    argv = commands_on_the_test_packs(tmp_path)[command]
    before = run_and_read(["--policies", str(PACKS), *argv], tmp_path)
    after = run_and_read([*argv, "--policies", str(PACKS)], tmp_path)
    assert before[0] == 0, before[2]
    assert before == after


@pytest.mark.parametrize("command", ["list", "validate", "test", "evaluate", "batch"])
def test_skillcert_policies_is_honoured_by_every_command(command: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    argv = commands_on_the_test_packs(tmp_path)[command]
    given = run_and_read(["--policies", str(PACKS), *argv], tmp_path)
    monkeypatch.setenv("SKILLCERT_POLICIES", str(PACKS))
    assert run_and_read(argv, tmp_path) == given
    assert given[0] == 0, given[2]


def test_the_policies_folder_is_what_validate_test_and_list_see(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLCERT_POLICIES", str(PACKS))
    listed = {line.split()[0] for line in run_cli(["list"])[1].splitlines()[1:]}
    assert "mini/check" in listed and "chongqing/renewal" not in listed
    code, out, err = run_cli(["test"])
    assert code == 0, out + err
    assert "mini/check" in out and "chongqing" not in out
    code, out, err = run_cli(["validate"])
    assert code == 0, out + err
    bundled = run_cli(["validate", str(ROOT / "policies")])[2]
    assert err != bundled  # a different number of files: the test packs, not the bundled ones


def test_policies_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SKILLCERT_POLICIES", str(tmp_path / "nope"))
    code, out, err = run_cli(["list", "--policies", str(PACKS)])
    assert code == 0, err
    assert "mini/check" in out


@pytest.mark.parametrize("command", ["list", "validate", "test", "evaluate", "batch", "functions"])
@pytest.mark.parametrize("where", ["before", "after", "environment"])
def test_a_missing_policies_folder_is_a_usage_error_naming_it(command: str, where: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    argv = commands_on_the_test_packs(tmp_path)[command]
    missing = str(tmp_path / "no-such-packs")
    if where == "before":
        argv = ["--policies", missing, *argv]
    elif where == "after":
        argv = [*argv, "--policies", missing]
    else:
        monkeypatch.setenv("SKILLCERT_POLICIES", missing)
    code, out, err = run_cli(argv)
    assert_clean_error(code, out, err)
    assert err.startswith("skillcert: usage-error: ")
    assert missing in err
    assert ("SKILLCERT_POLICIES" if where == "environment" else "--policies") in err


@pytest.mark.parametrize("command", ["validate", "test"])
def test_a_missing_path_is_a_usage_error_naming_it(command: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    code, out, err = run_cli([command, missing])
    assert_clean_error(code, out, err)
    assert err.startswith("skillcert: usage-error: ")
    assert missing in err


@pytest.mark.parametrize("command", ["list", "validate", "test", "evaluate", "batch"])
@pytest.mark.parametrize("schemas", ["missing-folder", "empty-folder", "schema-is-a-folder"])
def test_a_missing_or_unreadable_schema_is_a_usage_error_naming_it(command: str, schemas: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "schemas"
    named = folder
    if schemas != "missing-folder":
        folder.mkdir()
    if schemas == "schema-is-a-folder":
        for name in ("policy-pack.schema.json", "pack-tests.schema.json"):
            (folder / name).mkdir()
    if schemas != "missing-folder":
        named = folder / "policy-pack.schema.json"
    monkeypatch.setenv("SKILLCERT_SCHEMAS", str(folder))
    monkeypatch.setenv("SKILLCERT_NO_CACHE", "1")
    code, out, err = run_cli(commands_on_the_test_packs(tmp_path)[command] + ["--policies", str(PACKS)])
    assert_clean_error(code, out, err)
    assert err.startswith("skillcert: usage-error: ")
    assert str(named) in err
    assert "SKILLCERT_SCHEMAS" in err or "JSON Schema" in err


def test_a_facts_file_that_cannot_be_read_exit_2_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "facts.yaml"  # tests run as root, so chmod 000 would not stop a read: a folder does
    folder.mkdir()
    code, out, err = run_cli([*EVALUATE, str(folder), "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert str(folder) in err
    assert "internal-error" not in err


def test_a_calendar_file_that_cannot_be_read_exit_2_naming_it(tmp_path: Path) -> None:
    for calendar in (tmp_path / "missing.yaml", tmp_path):
        code, out, err = run_cli([*EVALUATE, EXAMPLE, "--as-of", "2025-05-25", "--calendar", str(calendar)])
        assert_clean_error(code, out, err)
        assert str(calendar) in err


@pytest.mark.parametrize(("source", "target", "named"), [
    ("folder", "out.csv", "in.csv"),
    ("cases.csv", "folder", "out.csv"),
    ("cases.csv", "no-such-folder/out.csv", "no-such-folder"),
    ("cases.csv", "cases.csv/out.csv", "cases.csv"),
])
def test_batch_files_that_cannot_be_read_or_written_are_usage_errors_naming_them(
        source: str, target: str, named: str, tmp_path: Path) -> None:
    write(tmp_path, "cases.csv", MINI_CASES)
    (tmp_path / "in.csv").mkdir()
    (tmp_path / "out.csv").mkdir()
    paths = {"folder": "in.csv" if source == "folder" else "out.csv"}
    src = tmp_path / paths.get(source, source)
    dst = tmp_path / paths.get(target, target)
    code, out, err = run_cli(["--policies", str(PACKS), "batch", "mini/check", str(src), "-o", str(dst),
                              "--as-of", "2025-05-25"])
    assert_clean_error(code, out, err)
    assert err.startswith("skillcert: usage-error: ")
    assert str(tmp_path / named) in err


def test_a_file_system_error_while_running_is_a_usage_error_naming_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import skillcert.tabular.batch

    target = str(tmp_path / "out.csv")

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", target)

    monkeypatch.setattr(skillcert.tabular.batch, "run_batch", refused)
    code, out, err = run_cli(["--policies", str(PACKS), "batch", "mini/check", write(tmp_path, "in.csv", MINI_CASES),
                              "-o", target])
    assert_clean_error(code, out, err)
    assert err == f"skillcert: usage-error: 无法读写 {target}:没有权限\n"


def test_batch_group_by_is_passed_to_run_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import skillcert.tabular.batch

    seen: list[dict[str, object]] = []

    def recording(*args: object, **kwargs: object) -> skillcert.tabular.batch.BatchSummary:
        seen.append(kwargs)
        return skillcert.tabular.batch.BatchSummary()

    monkeypatch.setattr(skillcert.tabular.batch, "run_batch", recording)
    argv = ["--policies", str(PACKS), "batch", "mini/check", write(tmp_path, "in.csv", MINI_CASES),
            "-o", str(tmp_path / "out.csv")]
    assert run_cli([*argv, "--group-by", "kind"])[0] == 0
    assert run_cli(argv)[0] == 0
    assert seen[0]["group_by"] == "kind"
    assert seen[1].get("group_by") is None


# ---- one real process


def test_module_entry_point_reports_bad_facts_without_traceback(tmp_path: Path) -> None:
    facts = write(tmp_path, "bad.yaml", GOOD_FACTS.replace("applied_on: 2025-05-20\n", ""))
    proc = subprocess.run([sys.executable, "-m", "skillcert", "evaluate", "chongqing/renewal", facts,
                           "--as-of", "2025-05-25"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert "applied_on(收到申报材料日期)" in proc.stderr


def test_list_says_which_holiday_years_are_known() -> None:
    code, out, err = run_cli(["list"])
    assert code == 0 and "法定节假日安排已知年份:2004–" in err and "法定节假日" not in out
