"""skillcert.plugins and skillcert.plugins.hookspecs: extra functions, calendar years and output formats from plugins,
registered directly or discovered through the ``skillcert`` entry-point group; built-ins use the same hooks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pluggy
import pytest
import skillcert
import skillcert_testplugin
from skillcert import plugins
from skillcert.lang.calendar import YearData
from skillcert.lang.expr import FunctionSpec
from skillcert.plugins import hookspecs
from skillcert.render.formats import OutputFormat
from skillcert_testutil import MINI, PACKS, PLUGIN_PACKS, mini_facts, problem_codes, run_cli

D = dt.date
HOOKS = {"skillcert_expr_functions", "skillcert_calendar_years", "skillcert_output_formats"}


@pytest.fixture()
def pm() -> pluggy.PluginManager:
    return plugins.new_plugin_manager(extra=[skillcert_testplugin], entry_points=False)


def test_hookspecs_declare_the_three_hooks() -> None:
    declared = {name for name in dir(hookspecs) if name.startswith("skillcert_")}
    assert declared == HOOKS


def test_builtins_are_registered_through_the_same_hooks() -> None:
    pm = plugins.new_plugin_manager(entry_points=False)
    builtin = pm.get_plugin("skillcert.builtin")
    assert builtin is not None
    assert {caller.name for caller in pm.get_hookcallers(builtin) or []} == HOOKS
    assert "add_working_days" in plugins.functions(pm)
    assert set(plugins.output_formats(pm)) == {"text", "json"}
    assert 2024 in plugins.calendar(pm).known_years


def test_test_plugin_implements_every_hook(pm: pluggy.PluginManager) -> None:
    assert {caller.name for caller in pm.get_hookcallers(skillcert_testplugin) or []} == HOOKS


def test_plugin_function_is_available_to_packs(pm: pluggy.PluginManager) -> None:
    folder = PLUGIN_PACKS / "plugged"
    assert problem_codes(folder, pm=plugins.new_plugin_manager(entry_points=False)) == ["unknown-function"]
    assert problem_codes(folder, pm=pm) == []
    library = skillcert.load(PLUGIN_PACKS, pm=pm)
    result = library.evaluate("plugged/renewal", {"applied_on": "2031-05-20", "defects": 3}, as_of=D(2031, 5, 25))
    assert result.reported == {"weighted_defects": 6}
    assert result.outcome == "deny"
    assert result.reasons[0].message == "加权不符合项 6 项,超过 4 项"


def test_plugin_calendar_year_makes_a_working_day_deadline_computable(pm: pluggy.PluginManager) -> None:
    assert 2031 in plugins.calendar(pm).known_years
    library = skillcert.load(PLUGIN_PACKS, pm=pm)
    result = library.evaluate("plugged/renewal", {"applied_on": "2031-05-20"}, as_of=D(2031, 5, 25))
    # 2031-05-20 is a Tuesday: 20 working days are four weeks, one more for the plugin's holiday (05-30).
    assert result.deadlines["decision_due"] == D(2031, 6, 18)
    assert result.warnings == []
    assert result.outcome == "renew"


def test_plugin_calendar_year_is_used_by_other_packs_too(pm: pluggy.PluginManager) -> None:
    result = skillcert.load(PACKS, pm=pm).evaluate(
        "mini/check", mini_facts(expires_on="2031-06-30", applied_on="2031-05-20", check_overdue=True),
        as_of=D(2031, 5, 25))
    assert result.deadlines["decision_due"] == D(2031, 6, 18)
    assert result.outcome == "pass"


def test_plugin_output_format(pm: pluggy.PluginManager) -> None:
    formats = plugins.output_formats(pm)
    assert set(formats) == {"text", "json", "oneline"}
    result = skillcert.load(PACKS, pm=pm).evaluate("mini/check", mini_facts(), as_of=D(2025, 5, 25))
    assert formats["oneline"].render(result, False) == "mini/check pass 98\n"


def test_plugin_output_format_on_the_command_line(pm: pluggy.PluginManager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugins, "plugin_manager", lambda: pm)
    code, out, err = run_cli(["--policies", str(PACKS), "evaluate", "mini/check", str(MINI / "examples" / "check-org.yaml"),
                              "--as-of", "2025-05-25", "--format", "oneline"])
    assert code == 0, err
    assert out == "mini/check pass 98.7\n"


def test_later_plugin_overrides_a_builtin_of_the_same_name() -> None:
    class Override:
        @plugins.hookimpl
        def skillcert_expr_functions(self) -> list[FunctionSpec]:
            return [FunctionSpec("add_days", lambda d, n: d, ("date", "integer"), "date", "ignores n")]

        @plugins.hookimpl
        def skillcert_output_formats(self) -> list[OutputFormat]:
            return [OutputFormat("json", "plain", lambda result, explain: "{}\n")]

        @plugins.hookimpl
        def skillcert_calendar_years(self) -> list[YearData]:
            return [YearData(2024, frozenset({D(2024, 1, 1)}), frozenset(), "override")]

    pm = plugins.new_plugin_manager(extra=[Override()], entry_points=False)
    assert plugins.functions(pm)["add_days"].doc == "ignores n"
    assert plugins.output_formats(pm)["json"].description == "plain"
    calendar = plugins.calendar(pm)
    assert calendar.year_data(2024).source == "override"
    assert calendar.is_working_day(D(2024, 10, 1))  # the override knows no National Day
    assert 2025 in calendar.known_years


def test_plugin_managers_are_independent(pm: pluggy.PluginManager) -> None:
    assert "double" in plugins.functions(pm)
    assert "double" not in plugins.functions(plugins.new_plugin_manager(entry_points=False))


def test_new_plugin_manager_loads_the_skillcert_entry_point_group(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    groups: list[Any] = []

    def record(self: pluggy.PluginManager, group: str, name: str | None = None) -> int:
        groups.append(group)
        return 0

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", record)
    _fake_dist(tmp_path, "skillcert_testplugin-1.0.dist-info", "[skillcert]\ntestplugin = skillcert_testplugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.new_plugin_manager(entry_points=True)
    plugins.new_plugin_manager(entry_points=False)
    assert groups == ["skillcert"]
    assert plugins.ENTRY_POINT_GROUP == "skillcert"


def _fake_dist(folder: Path, name: str, entry_points: str | bytes | None) -> Path:
    """A fake installed distribution's metadata folder, with ``entry_points.txt`` as given (None: no such file)."""
    dist = folder / name
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.split('-')[0]}\nVersion: 1.0\n",
                                   encoding="utf-8")
    if isinstance(entry_points, str):
        (dist / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    elif isinstance(entry_points, bytes):
        (dist / "entry_points.txt").write_bytes(entry_points)
    return dist


# entry_points.txt texts, and whether importlib.metadata sees a `skillcert` group in them
ENTRY_POINT_TEXTS = [
    ("[skillcert]\ntestplugin = skillcert_testplugin\n", True),
    ("  [skillcert]  \r\ntestplugin = skillcert_testplugin\r\n", True),
    ("[console_scripts]\nskillcert = skillcert.cli:main\n", False),
    ("[pytest11]\nskillcert = skillcert_testplugin\n# [skillcert]\n", False),
    ("[[skillcert]]\nx = skillcert_testplugin\n", True),
    ("[skillcert.extra]\nx = skillcert_testplugin\n", False),
    ("[Skillcert]\nx = skillcert_testplugin\n", False),
    ("", False),
    (None, False),
]


@pytest.mark.parametrize(("text", "declared"), ENTRY_POINT_TEXTS)
@pytest.mark.parametrize("kind", ["dist-info", "egg-info", "egg"])
def test_the_quick_entry_point_look_agrees_with_importlib_metadata(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None, declared: bool, kind: str) -> None:
    """The start-up skips pluggy's scan of every distribution's metadata unless one declares the group: the quick
    look must never miss a declaration importlib.metadata (and so pluggy) would find."""
    import importlib.metadata

    if kind == "egg":  # a legacy egg folder on sys.path, its metadata in EGG-INFO
        root = tmp_path / "plugin-1.0-py3.11.egg"
        _fake_dist(root, "EGG-INFO", text)
    else:
        root = tmp_path
        _fake_dist(root, f"plugin-1.0.{kind}", text)
    monkeypatch.setattr("sys.path", [str(root)])
    found = any(ep.group == "skillcert" for dist in importlib.metadata.distributions() for ep in dist.entry_points)
    assert found is declared
    assert plugins._entry_points_declared("skillcert") is declared


def test_an_unreadable_or_undecodable_entry_points_file_leaves_the_decision_to_pluggy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dist(tmp_path, "odd-1.0.dist-info", b"[skillcert]\nx = \xff\n")
    monkeypatch.setattr("sys.path", [str(tmp_path)])
    assert plugins._entry_points_declared("skillcert") is True


def test_a_zip_on_the_path_or_another_distribution_finder_leaves_the_decision_to_pluggy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import zipfile

    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x-1.0.dist-info/entry_points.txt", "[pytest11]\nx = y\n")
    monkeypatch.setattr("sys.path", [str(archive)])
    assert plugins._entry_points_declared("skillcert") is True
    monkeypatch.setattr("sys.path", [str(tmp_path / "missing"), "some.path_hook"])
    assert plugins._entry_points_declared("skillcert") is False

    class Finder:
        @staticmethod
        def find_distributions(context: Any = None) -> list[Any]:
            return []

    monkeypatch.setattr("sys.meta_path", [*sys.meta_path, Finder])
    assert plugins._entry_points_declared("skillcert") is True


def test_the_importlib_metadata_backport_finder_looks_where_the_quick_look_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Libraries that import the backport put its finder on sys.meta_path (and take the standard one's place)."""
    import sys

    backport = pytest.importorskip("importlib_metadata")
    monkeypatch.setattr("sys.meta_path", [*sys.meta_path, backport.MetadataPathFinder()])
    _fake_dist(tmp_path, "plugin-1.0.dist-info", "[pytest11]\nx = y\n")
    monkeypatch.setattr("sys.path", [str(tmp_path)])
    assert plugins._entry_points_declared("skillcert") is False
    _fake_dist(tmp_path, "other-1.0.dist-info", "[skillcert]\nx = y\n")
    assert plugins._entry_points_declared("skillcert") is True


def test_an_entry_point_plugin_is_listed_with_its_distribution(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """What pluggy's loader records (the library's spec tells entry-point plugins from given ones by it)."""
    _fake_dist(tmp_path, "skillcert_testplugin-1.0.dist-info", "[skillcert]\ntestplugin = skillcert_testplugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = plugins.new_plugin_manager(entry_points=True)
    assert [plugin for plugin, _ in pm.list_plugin_distinfo()] == [skillcert_testplugin]


def test_plugin_is_discovered_from_an_installed_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fake installed package whose metadata declares `[skillcert] testplugin = skillcert_testplugin`.
    dist = tmp_path / "skillcert_testplugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: skillcert-testplugin\nVersion: 1.0\n",
                                   encoding="utf-8")
    (dist / "entry_points.txt").write_text("[skillcert]\ntestplugin = skillcert_testplugin\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = plugins.new_plugin_manager(entry_points=True)
    assert pm.get_plugin("testplugin") is skillcert_testplugin
    assert "double" in plugins.functions(pm)
    assert "oneline" in plugins.output_formats(pm)
    assert 2031 in plugins.calendar(pm).known_years


def test_entry_points_of_other_groups_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "other-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: other\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[pytest11]\ntestplugin = skillcert_testplugin\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = plugins.new_plugin_manager(entry_points=True)
    assert pm.get_plugin("testplugin") is None
    assert "double" not in plugins.functions(pm)


def test_functions_command_lists_plugin_functions(pm: pluggy.PluginManager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugins, "plugin_manager", lambda: pm)
    code, out, _ = run_cli(["functions"])
    assert code == 0
    assert any(line.startswith("double ") for line in out.splitlines())


def test_plugin_json_output_is_still_the_contract(pm: pluggy.PluginManager) -> None:
    result = skillcert.load(PACKS, pm=pm).evaluate("mini/check", mini_facts(), as_of=D(2025, 5, 25))
    assert json.loads(plugins.output_formats(pm)["json"].render(result, False))["score"] == 98


def test_a_plugin_needs_only_the_public_api() -> None:
    """The test plugin is written as a third party would: it imports nothing but ``skillcert``'s public names."""
    import ast

    tree = ast.parse(Path(skillcert_testplugin.__file__).read_text(encoding="utf-8"))
    imported = [(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names if node.module and node.module.startswith("skillcert")]
    assert imported and all(module == "skillcert" and name in skillcert.__all__ for module, name in imported)


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    assert skillcert.__version__ == version("skillcert")
