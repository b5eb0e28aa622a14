"""skillcert.cli speaks Chinese: every command's help (with examples, exit codes and environment variables),
argparse's own texts and usage errors; ``--version``; and argparse is left as it was for other code."""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import subprocess
import sys
import threading
import unicodedata
from pathlib import Path

import pytest
from skillcert.cli.parser import chinese_argparse
from skillcert_testutil import ROOT, run_cli

COMMANDS = ["validate", "evaluate", "test", "batch", "list", "functions", "verify", "diff", "serve"]
# (" error:" is argparse's "prog: error: …"; our own prefix is "skillcert: usage-error: …".)
ENGLISH = ["usage:", "positional arguments", "options:", "optional arguments", "show this help message",
           "show program's version", "the following arguments are required", "unrecognized arguments",
           "invalid choice", "expected one argument", "expected at", " error:", "invalid int value", "subcommands",
           "ambiguous option", "not allowed with argument", "ignored explicit argument"]
CJK = re.compile(r"[\u4e00-\u9fff]")

# What each command reads (the engine's own variables), as its help must say.
ENVIRONMENT = {
    "validate": {"SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_DEBUG"},
    "evaluate": {"SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
                 "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DECISION_CODE", "SKILLCERT_DEBUG"},
    "test": {"SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
             "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DECISION_CODE", "SKILLCERT_DEBUG"},
    "batch": {"SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
              "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DECISION_CODE", "SKILLCERT_DEBUG"},
    "list": {"SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
             "SKILLCERT_DEBUG"},
    "functions": {"SKILLCERT_POLICIES", "SKILLCERT_DEBUG"},
    "verify": {"SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
               "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DECISION_CODE", "SKILLCERT_DEBUG"},
    "diff": {"SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR", "SKILLCERT_REFERENCE_EVALUATOR",
             "SKILLCERT_DECISION_CODE", "SKILLCERT_DEBUG"},
    "serve": {"SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
              "SKILLCERT_DEBUG"},
}
# The exit codes CONTRACT.md gives each command (and 2 wherever a command can fail to run).
EXIT_CODES = {"validate": {0, 1, 2}, "evaluate": {0, 2}, "test": {0, 1, 2}, "batch": {0, 1, 2}, "list": {0, 2},
              "functions": {0, 2}, "verify": {0, 1, 2}, "diff": {0, 1, 2}, "serve": {0, 2}}


def help_text(command: str | None) -> str:
    code, out, err = run_cli([command, "--help"] if command else ["--help"])
    assert code == 0, err
    assert err == ""
    return out


def section(text: str, title: str) -> list[str]:
    """The lines of one help section (``title:`` up to the next blank line)."""
    lines = text.splitlines()
    start = lines.index(f"{title}:") + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_of_every_command_is_in_chinese(command: str | None) -> None:
    text = help_text(command)
    for word in ENGLISH:
        assert word not in text.lower(), f"{word!r} in the help of {command or 'skillcert'}:\n{text}"
    assert text.startswith("用法: skillcert")
    for title in ("示例", "退出码", "环境变量", "选项"):
        assert f"\n{title}:\n" in text, f"no {title} in the help of {command}"
    assert re.search(r"-h, --help +显示此帮助信息并退出", text)


def test_help_of_every_command_names_the_environment_variables_it_reads() -> None:
    for command, expected in ENVIRONMENT.items():
        named = {line.split()[0] for line in section(help_text(command), "环境变量") if line.startswith("  S")}
        assert named == expected, command
    top = {line.split()[0] for line in section(help_text(None), "环境变量") if line.startswith("  S")}
    assert top == set().union(*ENVIRONMENT.values())


def test_help_of_every_command_states_its_exit_codes() -> None:
    for command, expected in EXIT_CODES.items():
        codes = {int(line.split()[0]) for line in section(help_text(command), "退出码") if line[2:3].isdigit()}
        assert codes == expected, command
    assert {0, 1, 2} <= {int(line.split()[0]) for line in section(help_text(None), "退出码")}


def test_help_examples_use_bundled_decisions_and_files_that_exist() -> None:
    decisions = {line.split()[0] for line in run_cli(["list"])[1].splitlines()[1:]}
    for command in [None, *COMMANDS]:
        examples = "\n".join(section(help_text(command), "示例"))
        assert "skillcert" in examples
        for path in re.findall(r"policies/[\w/.-]+\.ya?ml|policies/\w+(?=\s|$)", examples):
            assert (ROOT / path).exists(), f"{path} in the examples of {command}"
        for decision in re.findall(r"skillcert (?:evaluate|batch) (\S+)", examples):
            assert decision in decisions, f"{decision} in the examples of {command}"


def test_the_bundled_evaluate_example_in_the_help_runs() -> None:
    lines = section(help_text("evaluate"), "示例")
    first = (lines[0].rstrip("\\") + lines[1]).split()
    assert first[:2] == ["skillcert", "evaluate"]
    code, out, err = run_cli([first[1], first[2], str(ROOT / first[3]), *first[4:]])
    assert code == 0, err
    assert "94.6" in out


def test_help_lists_every_command_with_a_summary() -> None:
    lines = section(help_text(None), "命令")
    listed = {line.split()[0]: line for line in lines if line.startswith("    ")}
    assert set(listed) == set(COMMANDS)
    assert all(CJK.search(line) for line in listed.values())


def test_batch_help_describes_group_by() -> None:
    text = help_text("batch")
    assert "--group-by INPUT" in text
    assert "汇总表按此输入分组计数;默认用政策包为该决定指定的分组输入" in "".join(text.split())


DOMAIN_WORDS = re.compile(r"institution|机构|occupation|职业|技能|备案|认定|鉴定", re.IGNORECASE)


def test_cli_text_has_no_domain_words() -> None:
    for path in sorted((ROOT / "engine" / "cli").glob("*.py")):
        assert not DOMAIN_WORDS.search(path.read_text(encoding="utf-8")), path.name
    for command in [None, *COMMANDS]:
        assert not DOMAIN_WORDS.search(help_text(command)), command


@pytest.mark.parametrize(("argv", "fragment"), [
    ([], "缺少必需的参数:COMMAND"),
    (["frobnicate"], "无效的选择:'frobnicate'"),
    (["evaluate"], "缺少必需的参数:DECISION, FACTS"),
    (["evaluate", "chongqing/renewal"], "缺少必需的参数:FACTS"),
    (["batch", "chongqing/renewal", "in.csv"], "缺少必需的参数:-o/--output"),
    (["list", "--frob"], "无法识别的参数:--frob"),
    (["list", "extra"], "无法识别的参数:extra"),
    (["evaluate", "chongqing/renewal", "f.yaml", "--as-of"], "参数 --as-of:需要一个值"),
    (["--policies"], "参数 --policies:需要一个值"),
    (["evaluate", "chongqing/renewal", "f.yaml", "--as-of", "tomorrow"], "日期应写作 YYYY-MM-DD"),
    (["batch", "chongqing/renewal", "in.csv", "-o", "out.csv", "--workers", "many"], "应是正整数"),
    (["batch", "chongqing/renewal", "in.csv", "-o", "out.csv", "--workers", "0"], "至少为 1"),
    (["validate", "--strict"], "无法识别的参数:--strict"),
])
def test_usage_errors_are_chinese_and_exit_2(argv: list[str], fragment: str) -> None:
    code, out, err = run_cli(argv)
    assert code == 2
    assert out == ""
    assert err.startswith("skillcert: usage-error: skillcert")
    assert fragment in err, err
    for word in ENGLISH:
        assert word not in err.lower(), err
    assert "Traceback" not in err


def test_an_ambiguous_option_is_a_chinese_usage_error() -> None:
    code, _, err = run_cli(["evaluate", "chongqing/renewal", "f.yaml", "--a", "x"])  # --as-of or --allow-…
    assert code == 2
    assert "有歧义的选项:--a" in err, err


def test_version_is_the_installed_package_version() -> None:
    code, out, err = run_cli(["--version"])
    assert code == 0, err
    assert out == f"skillcert {importlib.metadata.version('skillcert')}\n"
    assert err == ""


def test_help_and_version_do_not_import_the_heavy_modules() -> None:
    script = ("import io, sys\nfrom skillcert.cli import run\n"
              "for argv in (['--help'], ['--version'], *[[c, '--help'] for c in sys.argv[1:]]):\n"
              "    assert run(argv, io.StringIO(), io.StringIO()) == 0\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('pydantic', 'jsonschema', 'yaml', 'openpyxl', 'simpleeval', 'pluggy')))\n")
    proc = subprocess.run([sys.executable, "-c", script, *COMMANDS], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_argparse_is_left_as_it_was_for_other_code() -> None:
    before = (argparse._, argparse.ngettext)  # type: ignore[attr-defined]
    run_cli(["--help"])
    run_cli(["evaluate"])
    assert (argparse._, argparse.ngettext) == before  # type: ignore[attr-defined]
    parser = argparse.ArgumentParser(prog="other")
    parser.add_argument("x")
    assert "usage: other" in parser.format_help()
    assert "positional arguments" in parser.format_help()


def test_another_thread_sees_argparse_in_english_while_ours_runs() -> None:
    seen: list[str] = []

    def other() -> None:
        seen.append(argparse.ArgumentParser(prog="other").format_help())

    with chinese_argparse():
        assert argparse.ArgumentParser(prog="ours").format_help().startswith("用法: ours")
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen[0].startswith("usage: other")


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_lines_fit_a_narrow_terminal_counting_chinese_characters_double(
        command: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    for line in help_text(command).splitlines():
        width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
        assert width <= 60, line


def test_module_entry_point_prints_chinese_help(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "skillcert", "list", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("用法: skillcert list")
