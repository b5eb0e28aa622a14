"""skillcert.library and the public API: finding packs, compiling each once, evaluating decisions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import skillcert
from skillcert.errors import PackError, UsageError
from skillcert_testutil import AS_OF, BROKEN, MINI, PACKS, POLICIES, mini_facts, run_cli


def test_default_library_is_the_bundled_policies() -> None:
    library = skillcert.load()
    assert library.directory.resolve() == POLICIES.resolve()
    assert "chongqing" in library.regions()


def test_regions_are_the_folders_with_a_pack() -> None:
    assert skillcert.load(PACKS).regions() == ["mini", "small", "tabular"]


def test_decisions_list_title_and_period() -> None:
    infos = {i.id: i for i in skillcert.load(PACKS).decisions()}
    assert set(infos) == {"mini/check", "small/renewal", "tabular/groups", "tabular/stats"}
    mini = infos["mini/check"]
    assert (mini.title, mini.version, mini.valid_from, mini.valid_until) == (
        "测试用延续备案", "0.1.0", dt.date(2024, 9, 1), dt.date(2035, 12, 31))


def test_each_pack_is_compiled_once() -> None:
    library = skillcert.load(PACKS)
    assert library.pack("mini") is library.pack("mini")
    assert library.decision("mini/check") is library.decision("mini/check")


@pytest.mark.parametrize(
    ("decision", "fragment"),
    [("mini/chek", "did you mean 'check'?"), ("mnii/check", "did you mean 'mini'?"), ("mini", "地区/决定"),
     ("mini/", "地区/决定")],
)
def test_unknown_decision_is_a_usage_error_with_a_suggestion(decision: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        skillcert.load(PACKS).decision(decision)
    assert fragment in info.value.message


def test_missing_policies_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        skillcert.load(tmp_path / "nowhere")


def test_broken_pack_raises_pack_error_with_every_problem() -> None:
    library = skillcert.load(BROKEN)
    with pytest.raises(PackError) as info:
        library.decision("three_mistakes/renewal")
    assert len(info.value.problems) == 3


def test_evaluate_against_a_broken_pack_exits_2_listing_the_problems() -> None:
    code, out, err = run_cli(["--policies", str(BROKEN), "evaluate", "unknown_name/renewal",
                              str(MINI / "examples" / "check-org.yaml"), "--as-of", "2025-05-25"])
    assert code == 2 and out == ""
    assert "pack-invalid" in err
    assert "unknown_name/pack.yaml:30:37: unknown-name" in err
    assert "Traceback" not in err


def test_check_facts_returns_checked_facts() -> None:
    checked = skillcert.load(PACKS).check_facts("mini/check", mini_facts())
    assert checked["applied_on"] == dt.date(2025, 5, 20)


def test_evaluate_through_the_public_api() -> None:
    result = skillcert.load(PACKS).evaluate("mini/check", mini_facts(), as_of=AS_OF)
    assert isinstance(result, skillcert.DecisionResult)
    assert result.decision == "mini/check"
    assert result.pack_version == "0.1.0"


def test_public_api_names_exist() -> None:
    for name in skillcert.__all__:
        assert hasattr(skillcert, name), name
    assert callable(skillcert.load) and callable(skillcert.compile_pack) and callable(skillcert.check_pack)


def test_the_package_has_one_name_only() -> None:
    """From the repository root the folder engine/ is importable by path, but only as skillcert: no module twice."""
    import subprocess
    import sys

    from skillcert_testutil import ROOT

    proc = subprocess.run([sys.executable, "-c", "import engine"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0 and "import skillcert" in proc.stderr
