"""Start-up: the commands import only what their work needs (issue 12: ``evaluate`` < 0.2 s, ``validate`` < 0.5 s).

Each command runs in a fresh interpreter, which then lists the modules it imported. Heavy modules are imported where
they are needed — pydantic for facts the compiled checker declines, jsonschema for a document the quick schema check
does not pass, openpyxl for spreadsheets, python-docx and jinja2 for Word templates not seen passing before — so a
plain ``evaluate`` of valid facts and a ``validate`` of clean packs import none of them. (Nothing here is timed: benchmarks/cli_startup.py measures.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "policies/chongqing/examples/renewal-social-org.yaml"
EVALUATE = ["evaluate", "chongqing/renewal", EXAMPLE, "--as-of", "2025-05-25"]

# jsonschema: ~40 ms to import; pydantic: ~80 ms; openpyxl: ~100 ms; email and importlib.metadata: pulled in by
# entry-point discovery through pluggy (~30 ms with the scan)
HEAVY = ("jsonschema", "pydantic", "openpyxl", "email", "importlib.metadata", "importlib_metadata")

_PROBE = """
import io, json, sys
from skillcert.cli import run
out, err = io.StringIO(), io.StringIO()
code = run(json.loads(sys.argv[1]), out, err)
print(json.dumps({"code": code, "err": err.getvalue(), "modules": sorted(sys.modules)}))
"""


def imported_by(argv: list[str], cache: Path) -> list[str]:
    env = {**os.environ, "SKILLCERT_CACHE_DIR": str(cache)}
    env.pop("SKILLCERT_NO_CACHE", None)
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(argv)], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["code"] == 0, report["err"]
    modules: list[str] = report["modules"]
    return modules


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_evaluate_with_valid_facts_imports_no_heavy_module(tmp_path: Path, fmt: str) -> None:
    # the first run checks the pack against its schema, the second finds it checked before: neither imports them
    for _ in range(2):
        assert heavy(imported_by([*EVALUATE, "--format", fmt], tmp_path)) == []


def test_validate_of_clean_packs_imports_neither_jsonschema_nor_pydantic(tmp_path: Path) -> None:
    modules = imported_by(["validate", "policies"], tmp_path)
    assert [m for m in heavy(modules) if m.split(".")[0] in ("jsonschema", "pydantic", "openpyxl")] == []
    # once their templates passed, the Word libraries are not needed either
    modules = imported_by(["validate", "policies"], tmp_path)
    assert [m for m in modules if m.split(".")[0] in ("jsonschema", "pydantic", "openpyxl", "docx", "docxtpl",
                                                       "jinja2", "lxml")] == []


def test_a_pack_with_a_schema_error_still_brings_in_jsonschema_for_its_messages(tmp_path: Path) -> None:
    folder = tmp_path / "packs" / "chongqing"
    folder.mkdir(parents=True)
    text = (ROOT / "policies" / "chongqing" / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(text.replace("title:", "titel:", 1), encoding="utf-8")
    env = {**os.environ, "SKILLCERT_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "skillcert", "validate", str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "unknown-key" in done.stdout + done.stderr and "titel" in done.stdout + done.stderr
