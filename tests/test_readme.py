"""The README's examples keep working: its Python block runs, and its quick-start evaluation says what it claims."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path

from skillcert.cli import run

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_a_two_command_quick_start() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", section, re.S)
    assert len(commands) == 2 and all("\n" not in c for c in commands), commands
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci, "CI must run the README's test command verbatim"


def test_readme_quick_start_evaluation_gives_what_the_readme_says() -> None:
    section = README.split("## Quick start", 1)[1]
    first = re.findall(r"```sh\n(.+?)\n```", section, re.S)[0]
    argv = first.split(".venv/bin/skillcert ", 1)[1].split()
    out, err = io.StringIO(), io.StringIO()
    assert run(["--policies", str(ROOT / "policies"), *argv, "--format", "json"], out, err) == 0, err.getvalue()
    text = out.getvalue()
    assert '"outcome": "renew"' in text and '"score": 94.6' in text and '"decision_due": "2025-06-18"' in text


def test_readme_python_example_runs_and_prints_what_its_comment_says() -> None:
    block = re.search(r"```python\n(.+?)\n```", README.split("## Library", 1)[1], re.S)
    assert block is not None
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        exec(compile(block.group(1), "README.md", "exec"), {})  # noqa: S102 - our own documentation
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "renew 94.6 2025-06-18"
    assert any("institution_kind(机构类型)" in line for line in lines)


def test_every_bundled_example_command_in_the_readme_runs() -> None:
    section = README.split("### Bundled examples", 1)[1].split("\n## ", 1)[0]
    commands = [line.split("skillcert ", 1)[1].split() for line in section.splitlines()
                if line.startswith("skillcert evaluate")]
    assert len(commands) >= 8
    for argv in commands:
        argv = [str(ROOT / a) if a.startswith("policies/") else a for a in argv]
        out, err = io.StringIO(), io.StringIO()
        assert run(["--policies", str(ROOT / "policies"), *argv], out, err) == 0, (argv, err.getvalue())
        assert "结论：" in out.getvalue()
