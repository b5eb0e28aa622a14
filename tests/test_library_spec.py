"""A library described picklably (LibrarySpec) is rebuilt the same in another process: folder, plugins, extra
holiday years, evaluator. `skillcert batch --workers N` uses it, so a library with plugins gives the same output
with several workers as with one."""

from __future__ import annotations

import csv
import datetime as dt
import io
import pickle
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import skillcert
import skillcert_testplugin
from skillcert import plugins
from skillcert.lang.calendar import YearData
from skillcert.library import Library
from skillcert.tabular import run_batch
from skillcert_testutil import PACKS, PLUGIN_PACKS

AS_OF = dt.date(2031, 5, 25)


def plugged_library() -> Library:
    return skillcert.load(PLUGIN_PACKS, pm=plugins.new_plugin_manager(extra=[skillcert_testplugin],
                                                                       entry_points=False))


class ObjectPlugin:
    """A plugin that is an object, not a module: it travels pickled."""

    def __init__(self, factor: int) -> None:
        self.factor = factor

    @plugins.hookimpl
    def skillcert_expr_functions(self) -> list[Any]:
        from skillcert.lang.expr import FunctionSpec

        factor = self.factor
        return [FunctionSpec("double", _Times(factor), ("integer",), "integer", "double(n):测试")]


class _Times:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    def __call__(self, n: int) -> int:
        return n * self.factor


def test_a_spec_is_picklable_hashable_and_rebuilds_the_same_library() -> None:
    year = YearData(2032, frozenset({dt.date(2032, 1, 1)}), frozenset(), "test")
    library = Library(PLUGIN_PACKS, pm=plugins.new_plugin_manager(extra=[skillcert_testplugin], entry_points=False),
                      calendar_years=[year], reference=True)
    spec = library.spec()
    assert spec.directory == str(PLUGIN_PACKS)
    assert [(p.name, p.module) for p in spec.plugins] == [("skillcert_testplugin", "skillcert_testplugin")]
    assert spec.entry_points is False and spec.calendar_years == (year,) and spec.reference is True
    again = pickle.loads(pickle.dumps(spec))
    assert again == spec and hash(again) == hash(spec)
    rebuilt = Library.from_spec(again)
    assert rebuilt.spec() == spec and rebuilt.reference and rebuilt.extra_years == (year,)
    result = rebuilt.evaluate("plugged/renewal", {"applied_on": "2031-05-20", "defects": 3}, as_of=AS_OF)
    assert result.outcome == "deny"  # double(3) = 6 > 4: the plugin's function is there


def test_the_default_library_lists_no_plugin_and_finds_entry_points_again() -> None:
    spec = skillcert.load(PACKS).spec()
    assert spec.plugins == () and spec.entry_points is True  # the built-in plugin is not listed
    assert Library.from_spec(spec).pm is plugins.plugin_manager()


def test_an_object_plugin_travels_pickled() -> None:
    # the object's `double` (times 3), registered last, replaces the module plugin's; the module gives the year 2031
    pm = plugins.new_plugin_manager(extra=[skillcert_testplugin, ObjectPlugin(3)], entry_points=False)
    spec = skillcert.load(PLUGIN_PACKS, pm=pm).spec()
    module_ref, object_ref = spec.plugins
    assert module_ref.module == "skillcert_testplugin"
    assert object_ref.module is None and object_ref.pickled and "ObjectPlugin" in object_ref.name
    rebuilt = Library.from_spec(pickle.loads(pickle.dumps(spec)))
    result = rebuilt.evaluate("plugged/renewal", {"applied_on": "2031-05-20", "defects": 3}, as_of=AS_OF)
    assert result.reported == {"weighted_defects": 9}


def test_a_plugin_that_cannot_be_pickled_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    class LocalPlugin:  # a local class cannot be pickled
        @plugins.hookimpl
        def skillcert_expr_functions(self) -> list[Any]:
            return ObjectPlugin(2).skillcert_expr_functions()

    library = skillcert.load(PLUGIN_PACKS, pm=plugins.new_plugin_manager(extra=[LocalPlugin()], entry_points=False))
    with pytest.raises(skillcert.UsageError, match="LocalPlugin"):
        library.spec()
    src = write_rows(tmp_path / "in.csv", 3)
    with pytest.raises(skillcert.UsageError, match="插件 .*LocalPlugin.* 无法序列化"):
        run_batch(library, "plugged/renewal", src, tmp_path / "out.csv", as_of=AS_OF, workers=2, progress=False)
    assert not (tmp_path / "out.csv").exists()
    # one worker needs no travel
    run_batch(library, "plugged/renewal", src, tmp_path / "out.csv", as_of=AS_OF, workers=1, progress=False)


def write_rows(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "applied_on", "defects"])
        w.writerows([f"P-{i:04d}", "2031-05-20", str(i % 5)] for i in range(n))
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".xlsx"])
def test_a_library_with_a_plugin_gives_the_same_output_with_two_workers(tmp_path: Path, suffix: str) -> None:
    src = write_rows(tmp_path / "in.csv", 1200)  # more than two chunks
    library = plugged_library()
    outputs = []
    for workers in (1, 2):
        dst = tmp_path / f"out-{workers}{suffix}"
        summary = run_batch(library, "plugged/renewal", src, dst, as_of=AS_OF, workers=workers, progress=False,
                            stderr=io.StringIO())
        assert summary.rows == 1200 and summary.errors == 0
        assert summary.outcomes == {"renew": 720, "deny": 480}
        if suffix == ".xlsx":
            wb = openpyxl.load_workbook(dst)
            outputs.append([list(ws.iter_rows(values_only=True)) for ws in wb.worksheets])
        else:
            outputs.append(dst.read_bytes())
    assert outputs[0] == outputs[1]
