"""skillcert validate remembers templates that passed (skillcert.analysis.validation): a pass is remembered for the
exact pack text, templates, engine and libraries; a changed template is checked again; a problem is never
remembered; a marker others could have written is not trusted."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from skillcert.analysis import validation
from skillcert.cli import run

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the nanning pack (with its Word template), and a cache of its own."""
    monkeypatch.setenv("SKILLCERT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SKILLCERT_NO_CACHE", raising=False)
    folder = tmp_path / "packs" / "nanning"
    shutil.copytree(ROOT / "policies" / "nanning", folder)
    return folder


def validate(folder: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["validate", str(folder)], out, err)
    return code, out.getvalue() + err.getvalue()


def checks_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each time the template checks actually run."""
    from skillcert.documents import checks

    ran: list[str] = []
    real = checks.check_templates

    def recording(pack: object) -> object:
        ran.append("checked")
        return real(pack)  # type: ignore[arg-type]
    monkeypatch.setattr(checks, "check_templates", recording)
    return ran


def markers(folder: Path) -> list[Path]:
    return sorted((folder.parent.parent / "cache" / "skillcert" / "templates-ok").glob("*"))


def test_templates_that_passed_are_not_checked_again(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = checks_run(monkeypatch)
    assert validate(pack)[0] == 0
    assert validate(pack)[0] == 0
    assert ran == ["checked"] and len(markers(pack)) == 1


def test_a_changed_template_is_checked_again_and_its_problem_reported_every_time(
        pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = checks_run(monkeypatch)
    assert validate(pack)[0] == 0
    (pack / "documents" / "rectification-order.docx").write_bytes(b"not a Word file")
    for _ in range(2):
        code, shown = validate(pack)
        assert code == 1 and "document-template-invalid" in shown
    assert ran == ["checked"] * 3


def test_a_changed_pack_text_is_checked_again(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = checks_run(monkeypatch)
    assert validate(pack)[0] == 0
    (pack / "pack.yaml").write_text((pack / "pack.yaml").read_text(encoding="utf-8") + "# edited\n",
                                    encoding="utf-8")
    assert validate(pack)[0] == 0
    assert ran == ["checked", "checked"]


def test_a_marker_others_can_write_or_no_cache_means_checking(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = checks_run(monkeypatch)
    assert validate(pack)[0] == 0
    [marker] = markers(pack)
    os.chmod(marker, 0o666)
    assert validate(pack)[0] == 0
    monkeypatch.setenv("SKILLCERT_NO_CACHE", "1")
    assert validate(pack)[0] == 0
    assert ran == ["checked"] * 3


def test_the_digest_covers_the_engine_and_the_installed_libraries(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates = [pack / "documents" / "rectification-order.docx"]
    first = validation._templates_digest(pack / "pack.yaml", templates)
    validation._installation_digest.cache_clear()
    monkeypatch.setattr("sys.path", [*__import__("sys").path, str(pack)])  # another folder on the path
    assert validation._templates_digest(pack / "pack.yaml", templates) != first
    validation._installation_digest.cache_clear()
