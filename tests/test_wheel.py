"""skillcert as users get it: the wheel and the sdist built from the repository, and the wheel installed into a
fresh virtual environment, run from a folder that is not the repository.

Slow (marked ``slow``; CI runs it): it builds with ``python -m build`` (the sdist, then the wheel from the sdist)
and installs with pip, whose dependencies come from the package index (pip's cache makes repeats fast). When the
index cannot be reached the tests are skipped, saying so; any other failure fails them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
REGIONS = sorted(p.parent.name for p in (ROOT / "policies").glob("*/pack.yaml"))
BUNDLED_DECISIONS = {"chongqing/renewal", "shanxi/evaluation", "hebei/renewal", "nanning/filing",
                     "nanning/supervision", "fuzhou/application", "fuzhou/operations"}
TIMEOUT = 600  # seconds for one build or install; a safety net, not the expected time (~10 s with pip's cache)

# What pip and build print when the package index cannot be reached (as opposed to a real packaging error).
UNREACHABLE = re.compile(r"Failed to establish a new connection|Temporary failure in name resolution|"
                         r"Name or service not known|Network is unreachable|NewConnectionError|ConnectTimeoutError|"
                         r"Max retries exceeded|Read timed out|ProxyError|Connection refused|Connection reset|"
                         r"No route to host|SSLError|Could not fetch URL")
# Left out of the copy the packages are built from: the repository's own environments, caches and build output.
NOT_COPIED_AT_ROOT = {".git", ".venv", "build", "dist", "out", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


@dataclass
class Installed:
    wheel: Path
    sdist: Path
    python: Path
    skillcert: Path
    cwd: Path
    env: dict[str, str]

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(a) for a in args], cwd=self.cwd, env=self.env, capture_output=True, text=True,
                              timeout=TIMEOUT)

    def cli(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return self.run(self.skillcert, *args)


def _clean_env(cache: Path) -> dict[str, str]:
    """This process's environment without what would point the new installation back at the repository."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SKILLCERT_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["SKILLCERT_CACHE_DIR"] = str(cache)
    return env


def _checked(proc: subprocess.CompletedProcess[str], what: str) -> None:
    """Skip when the package index could not be reached, fail on any other error."""
    if proc.returncode == 0:
        return
    output = proc.stdout + proc.stderr
    if UNREACHABLE.search(output):
        pytest.skip(f"{what}: the package index cannot be reached, so the wheel cannot be checked here:\n"
                    + output[-2000:])
    pytest.fail(f"{what} failed (exit {proc.returncode}):\n{output[-6000:]}")


def _ignore(folder: str, names: list[str]) -> set[str]:
    skip = {n for n in names if n == "__pycache__" or n.endswith((".egg-info", ".pyc"))}
    if Path(folder) == ROOT:
        skip |= NOT_COPIED_AT_ROOT & set(names)
    return skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("wheel")
    env = _clean_env(work / "cache")
    if subprocess.run([sys.executable, "-m", "build", "--version"], capture_output=True).returncode != 0:
        pytest.fail("python -m build is not installed: pip install -e '.[test]'")
    # Build from a copy, so that nothing is written into the repository (egg-info, build/).
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_ignore)
    dist = work / "dist"
    _checked(subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], env=env,
                            capture_output=True, text=True, timeout=TIMEOUT), "python -m build")
    wheel = dist / f"skillcert-{VERSION}-py3-none-any.whl"
    sdist = dist / f"skillcert-{VERSION}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in dist.iterdir())

    venv = work / "venv"
    _checked(subprocess.run([sys.executable, "-m", "venv", str(venv)], env=env, capture_output=True, text=True,
                            timeout=TIMEOUT), "python -m venv")
    python = venv / "bin" / "python"
    _checked(subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", str(wheel)],
                            env=env, capture_output=True, text=True, timeout=TIMEOUT), "pip install (the wheel)")
    cwd = work / "elsewhere"
    cwd.mkdir()
    yield Installed(wheel, sdist, python, venv / "bin" / "skillcert", cwd, env)


# ---- what the packages hold


def _repository_files(folder: str, suffixes: tuple[str, ...]) -> set[str]:
    base = ROOT / folder
    return {p.relative_to(base).as_posix() for p in base.rglob("*")
            if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.parts}


def test_wheel_holds_the_packs_schemas_docs_and_license_and_no_engine_folder(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    dist_info = f"skillcert-{VERSION}.dist-info"
    assert {n.split("/")[0] for n in names} == {"skillcert", dist_info}  # no engine/, policies/ … at the top
    for region in REGIONS:
        assert f"skillcert/policies/{region}/pack.yaml" in names
        assert any(re.fullmatch(rf"skillcert/policies/{region}/tests/[^/]+\.yaml", n) for n in names), region
        assert any(re.fullmatch(rf"skillcert/policies/{region}/examples/[^/]+\.yaml", n) for n in names), region
    packs = _repository_files("policies", (".yaml", ".yml", ".json", ".docx"))
    assert {f"skillcert/policies/{f}" for f in packs} <= names  # every file of every pack
    # the documents' Word templates (issue 13) ship with their packs
    assert "skillcert/policies/chongqing/documents/rectification-notice.docx" in names
    assert any(re.fullmatch(r"skillcert/policies/[a-z]+/documents/[^/]+\.docx", n) for n in names)
    schemas = _repository_files("schemas", (".json",))
    assert schemas and {f"skillcert/schemas/{f}" for f in schemas} <= names
    assert "skillcert/docs/pack-format.md" in names
    assert "skillcert/py.typed" in names
    assert "skillcert/cli/__init__.py" in names
    assert any(re.fullmatch(rf"{re.escape(dist_info)}/(licenses/)?LICENSE", n) for n in names)
    entry_points = zipfile.ZipFile(installed.wheel).read(f"{dist_info}/entry_points.txt").decode()
    assert re.search(r"^skillcert = skillcert\.cli:main$", entry_points, re.MULTILINE)


def test_sdist_holds_the_sources_packs_schemas_docs_license_and_tests(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("pyproject.toml", "LICENSE", "README.md", "conftest.py", "engine/__init__.py",
                   "engine/cli/__init__.py", "docs/pack-format.md", "tests/test_cli.py", "tests/skillcert_testutil.py"):
        assert needed in names, needed
    assert {f"policies/{f}" for f in _repository_files("policies", (".yaml", ".yml", ".json", ".docx"))} <= names
    assert {f"schemas/{f}" for f in _repository_files("schemas", (".json",))} <= names
    assert any(n.startswith("tests/testdata/packs/") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


# ---- the installed command, from a folder that is not the repository


def test_installed_skillcert_reports_the_version_of_pyproject(installed: Installed) -> None:
    proc = installed.cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"skillcert {VERSION}\n"


def test_installed_skillcert_lists_the_bundled_decisions(installed: Installed) -> None:
    proc = installed.cli("list")
    assert proc.returncode == 0, proc.stderr
    assert {line.split()[0] for line in proc.stdout.splitlines()[1:]} == BUNDLED_DECISIONS


def test_installed_skillcert_evaluates_the_bundled_example(installed: Installed) -> None:
    proc = installed.run(installed.python, "-c",
                         "import pathlib, skillcert.policies; print(pathlib.Path(skillcert.policies.__file__).parent)")
    assert proc.returncode == 0, proc.stderr
    packs = Path(proc.stdout.strip())
    assert packs.is_relative_to(installed.python.parent.parent)  # inside the new environment, not the repository
    example = packs / "chongqing" / "examples" / "renewal-social-org.yaml"
    proc = installed.cli("evaluate", "chongqing/renewal", example, "--as-of", "2025-05-25", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout, parse_float=Decimal)
    assert (result["outcome"], result["score"]) == ("renew", Decimal("94.6"))


def test_installed_skillcert_validates_and_tests_the_bundled_packs(installed: Installed) -> None:
    proc = installed.cli("validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "全部通过" in proc.stderr
    proc = installed.cli("test")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_installed_skillcert_checks_a_copy_of_a_bundled_pack(installed: Installed) -> None:
    proc = installed.run(installed.python, "-c",
                         "import pathlib, skillcert.policies; print(pathlib.Path(skillcert.policies.__file__).parent)")
    region = "chongqing"
    target = installed.cwd / "my-packs" / region
    shutil.rmtree(target.parent, ignore_errors=True)
    shutil.copytree(Path(proc.stdout.strip()) / region, target)
    for command in ("validate", "test"):
        proc = installed.cli(command, "./my-packs")
        assert proc.returncode == 0, f"{command}: {proc.stdout}{proc.stderr}"
    proc = installed.cli("--policies", "./my-packs", "list")
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()[1:]] == ["chongqing/renewal"]
    assert installed.cli("list", "--policies", "./my-packs").stdout == proc.stdout


def test_installed_library_loads_the_bundled_packs_and_engine_is_not_a_module(installed: Installed) -> None:
    proc = installed.run(installed.python, "-c", "import skillcert; print(len(skillcert.load().decisions()))")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(len(BUNDLED_DECISIONS))
    proc = installed.run(installed.python, "-c", "import engine")
    assert proc.returncode != 0
    assert "ModuleNotFoundError" in proc.stderr
    proc = installed.run(installed.python, "-m", "skillcert", "--version")
    assert proc.stdout == f"skillcert {VERSION}\n"


# ---- when the index cannot be reached: skipped, saying so; any other failure fails


def test_an_unreachable_index_skips_and_any_other_failure_fails() -> None:
    def proc(stderr: str) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(["pip"], 1, "", stderr)

    refused = ("WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError(…: Failed to "
               "establish a new connection: [Errno 111] Connection refused')': /simple/pyyaml/\n"
               "ERROR: No matching distribution found for pyyaml")
    with pytest.raises(pytest.skip.Exception, match="package index cannot be reached"):
        _checked(proc(refused), "pip install")
    with pytest.raises(pytest.fail.Exception, match="pip install failed"):
        _checked(proc("ERROR: No matching distribution found for pyyaml<0"), "pip install")
    _checked(subprocess.CompletedProcess(["pip"], 0, "", ""), "pip install")
