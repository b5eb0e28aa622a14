"""A library of policy packs: find them in a folder, compile each on first use, evaluate decisions.

This is the one code path shared by the command line, the test runner and Python callers. Many rows at once
(files, data frames) are the business of :mod:`skillcert.tabular`, a layer above this one: the library does not
know about it.

A pack folder may hold several versions of its pack (``pack.yaml`` and ``pack-<version>.yaml`` beside it, see
:mod:`skillcert.compiler.versions`). A decision id then names all its versions, and the library picks the one in
force at the as-of date (:meth:`Library.decision`, :meth:`Library.evaluate`: every caller goes through that one
choice); ``region/decision@version`` names one version whatever the date. Two libraries share nothing: each keeps
its own compiled packs, and what is cached beside a compiled decision is keyed by the decision object itself.

A library is described picklably by a :class:`LibrarySpec` (:meth:`Library.spec`), from which another process
rebuilds the same library (:meth:`Library.from_spec`): the folder, the plugins, the extra holiday years and the
evaluator. Worker processes (``skillcert batch --workers``, Dask) use it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pickle
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pluggy

from . import plugins
from .compiler.model import Decision, Pack
from .compiler.pipeline import PACK_FILE, compile_versions
from .compiler.versions import in_order, period_text
from .documents.inputs import split_facts
from .errors import OutOfPeriodError, Problem, UsageError, did_you_mean
from .lang.calendar import HolidayCalendar, YearData
from .rows.evaluation import checked_decision, evaluate_row
from .runtime.evaluate import evaluate_checked
from .runtime.facts import validate_facts
from .runtime.result import DecisionResult
from .source.loader import SourceMap
from .source.resources import policies_dir

__all__ = ["Library", "LibrarySpec", "PluginRef", "DecisionInfo", "load"]


@dataclass(frozen=True)
class DecisionInfo:
    id: str
    title: str
    pack_title: str
    version: str
    valid_from: dt.date
    valid_until: dt.date | None
    digest: str = ""
    versions: int = 1           # how many versions of this decision the library holds (this is one of them)


@dataclass(frozen=True)
class PluginRef:
    """One plugin given to a library, described so that another process can register it again.

    A module plugin is named by its module, re-imported there; any other plugin object travels pickled.
    """

    name: str                       # how messages name the plugin
    module: str | None = None       # a module plugin: the name it is imported by
    pickled: bytes | None = None    # any other plugin: the object, pickled

    def load(self) -> Any:
        if self.module is not None:
            return importlib.import_module(self.module)
        assert self.pickled is not None
        return pickle.loads(self.pickled)  # our own bytes, made by Library.spec()


@dataclass(frozen=True)
class LibrarySpec:
    """What a library is made of, picklable and hashable: :meth:`Library.from_spec` rebuilds the same library.

    ``plugins`` are those registered on top of the built-in one and of the entry-point plugins;
    ``entry_points`` says whether entry-point plugins are looked up again (by the normal discovery).
    Packs given with :meth:`Library.add` are not part of it: they are compiled again from the folder.
    """

    directory: str
    plugins: tuple[PluginRef, ...] = ()
    entry_points: bool = True
    calendar_years: tuple[YearData, ...] = ()
    reference: bool = False


def _plugin_ref(name: str, plugin: Any) -> PluginRef:
    if isinstance(plugin, types.ModuleType):
        module_spec = plugin.__spec__
        if module_spec is None or module_spec.name == "__main__":
            raise UsageError(f"插件模块 {plugin.__name__} 无法按名称重新导入,不能交给工作进程使用;"
                             "请把它放在可导入的模块中")
        return PluginRef(module_spec.name, module=module_spec.name)
    shown = name if not name.isdigit() else f"{type(plugin).__module__}.{type(plugin).__qualname__}"
    try:
        data = pickle.dumps(plugin)
    except Exception as exc:  # PicklingError, AttributeError (a local class), TypeError (a lock, a file …)
        raise UsageError(f"插件 {shown} 无法序列化(pickle:{exc}),不能交给工作进程使用;"
                         "请改用模块插件或可序列化的对象") from None
    return PluginRef(shown, pickled=data)


class Library:
    """The packs under one folder (``policies/`` by default), compiled lazily, one region at a time."""

    def __init__(self, directory: str | Path | None = None, *, pm: pluggy.PluginManager | None = None,
                 calendar_years: Iterable[YearData] = (), reference: bool = False) -> None:
        self.directory = policies_dir(directory)
        self._default_pm = pm is None
        self.pm = pm or plugins.plugin_manager()
        self._packs: dict[str, tuple[Pack, ...]] = {}     # region → its versions, by the date each comes into force
        self._warnings: dict[str, list[Problem]] = {}
        # decision id (as asked: region/name or region/name@version) → its one version, or its versions by date
        self._chosen: dict[str, Decision | tuple[Decision, ...]] = {}
        self._extra_years = list(calendar_years)
        self.env = plugins.environment(self.pm)
        self._functions = dict(self.env.functions)
        self.reference = reference  # evaluate with simpleeval walking the trees (same results, slower)

    def spec(self) -> LibrarySpec:
        """This library described picklably, for another process to rebuild it (:meth:`from_spec`).

        A plugin object that cannot be pickled is a :class:`~skillcert.errors.UsageError` naming it.
        """
        from .plugins import builtin

        from_entry_points = {id(plugin) for plugin, _ in self.pm.list_plugin_distinfo()}
        refs = tuple(_plugin_ref(name, plugin) for name, plugin in self.pm.list_name_plugin()
                     if plugin is not None and plugin is not builtin and id(plugin) not in from_entry_points)
        return LibrarySpec(str(self.directory), refs, entry_points=self._default_pm or bool(from_entry_points),
                           calendar_years=self.extra_years, reference=self.reference)

    @classmethod
    def from_spec(cls, spec: LibrarySpec) -> Library:
        """The library ``spec`` describes (made by :meth:`spec`, possibly in another process)."""
        extra = [ref.load() for ref in spec.plugins]
        pm = (None if not extra and spec.entry_points
              else plugins.new_plugin_manager(extra, entry_points=spec.entry_points))
        return cls(spec.directory, pm=pm, calendar_years=spec.calendar_years, reference=spec.reference)

    @property
    def extra_years(self) -> tuple[YearData, ...]:
        """Holiday years given at load time (``--calendar``), on top of the packs' own."""
        return tuple(self._extra_years)

    def regions(self) -> list[str]:
        return sorted(p.parent.name for p in self.directory.glob(f"*/{PACK_FILE}") if p.is_file())

    def versions(self, region: str) -> tuple[Pack, ...]:
        """Every version of a region's pack, by the date each comes into force (one, for most packs)."""
        found = self._packs.get(region)
        if found is None:
            folder = self.directory / region
            if not (folder / PACK_FILE).is_file():
                available = self.regions()
                hint = did_you_mean(region, available)
                raise UsageError(f"没有地区 '{region}' 的政策包(可用:{'、'.join(available) or '无'})"
                                 + (f";{hint}" if hint else ""))
            found, warnings = compile_versions(folder, env=self.env, use_cache=True)
            self._packs[region] = found
            self._warnings[region] = warnings
        return found

    def version_warnings(self, region: str) -> list[Problem]:
        """What is odd about a region's versions taken together, though allowed (a gap between two versions)."""
        self.versions(region)
        return list(self._warnings.get(region, ()))

    def pack(self, region: str, version: str | None = None) -> Pack:
        """A region's pack: the given version, else the one in force today, else the newest."""
        packs = self.versions(region)
        if version is not None:
            for pack in packs:
                if pack.version == version:
                    return pack
            raise UsageError(f"政策包 {region} 没有版本 {version}(有:{_listed(packs)})")
        if len(packs) == 1:
            return packs[0]
        today = dt.date.today()
        return next((p for p in packs if p.valid_from <= today and (p.valid_until is None or today <= p.valid_until)),
                    packs[-1])

    def add(self, *packs: Pack) -> None:
        """Use already compiled packs (e.g. those ``skillcert validate`` just checked) instead of compiling: the
        versions of one region given together replace what the library held for it."""
        for region in dict.fromkeys(p.id for p in packs):
            self._packs[region] = in_order([p for p in packs if p.id == region])
            self._warnings[region] = []
            for key in [k for k in self._chosen if k.partition("/")[0] == region]:
                del self._chosen[key]

    def decision(self, decision_id: str, *, as_of: dt.date | None = None,
                 allow_out_of_period: bool = True) -> Decision:
        """The decision ``region/name``: of its versions, the one in force at ``as_of``; ``region/name@version`` is
        that version, whatever the date. A decision with one version is that version at any date.

        Without ``as_of``: the version in force today, else the newest. With ``as_of`` that no version covers: the
        latest version that came into force before it (else the first), whose evaluation then refuses or warns — or,
        with ``allow_out_of_period=False``, :class:`~skillcert.errors.OutOfPeriodError` at once, naming every
        version and its period (the check of a decision with one version is left to its evaluation, as always)."""
        found = self._chosen.get(decision_id)
        if found is None:
            found = self._find(decision_id)
        if isinstance(found, Decision):  # one version: no date to compare
            return found
        if as_of is None:
            return _in_force(found, dt.date.today()) or found[-1]
        return self._at(decision_id, found, as_of, allow_out_of_period)

    def _find(self, decision_id: str) -> Decision | tuple[Decision, ...]:
        """The versions of a decision id (one as itself, several as a tuple by date), remembered for next time."""
        ident, at, version = decision_id.partition("@")
        region, sep, name = ident.partition("/")
        if not sep or not region or not name or (at and not version):
            raise UsageError(f"决定应写作 地区/决定(或 地区/决定@版本),如 chongqing/renewal,收到 '{decision_id}'")
        packs = self.versions(region)
        if at:
            packs = (self.pack(region, version),)
        found = tuple(p.decisions[name] for p in packs if name in p.decisions)
        if not found:
            names = list(dict.fromkeys(n for p in packs for n in p.decisions))
            hint = did_you_mean(name, names)
            raise UsageError(f"政策包 {region} 中没有决定 '{name}'(可用:{'、'.join(names)})"
                             + (f";{hint}" if hint else ""))
        chosen: Decision | tuple[Decision, ...] = found[0] if len(found) == 1 else found
        self._chosen[decision_id] = chosen
        return chosen

    def _at(self, decision_id: str, versions: tuple[Decision, ...], as_of: dt.date, allow: bool) -> Decision:
        found = _in_force(versions, as_of)
        if found is not None:
            return found
        listed = ";".join(f"{_version(d)} 版 {period_text(d.valid_from, d.valid_until)}" for d in versions)
        if not allow:
            raise OutOfPeriodError(f"评估日 {as_of} 不在 {decision_id} 任何一个版本的有效期内({listed});"
                                   "如确需按某一版本评估,请加 --allow-out-of-period(用最近的版本),"
                                   f"或写明版本,如 {versions[-1].id}@{_version(versions[-1])}")
        # the latest version that came into force before the date, else the first: its evaluation warns
        return next((d for d in reversed(versions) if d.valid_from <= as_of), versions[0])

    def versioned_id(self, decision: Decision) -> str:
        """``region/name@version`` when the library holds several versions of the decision, else its id."""
        found = self._chosen.get(decision.id)
        if found is None:
            found = self._find(decision.id)
        return decision.id if isinstance(found, Decision) else f"{decision.id}@{_version(decision)}"

    def decisions(self, *regions: str) -> list[DecisionInfo]:
        """The decisions of the given regions (default: every pack in the folder), each version of a decision
        (oldest first) after the other."""
        out = []
        for region in regions or tuple(self.regions()):
            packs = self.versions(region)
            for name in dict.fromkeys(n for p in packs for n in p.decisions):
                versions = [(p, p.decisions[name]) for p in packs if name in p.decisions]
                for pack, d in versions:
                    out.append(DecisionInfo(d.id, d.title, pack.title, pack.version, d.valid_from, d.valid_until,
                                            pack.digest, len(versions)))
        return out

    def calendar_for(self, decision: Decision) -> HolidayCalendar:
        assert decision.pack is not None
        cal: HolidayCalendar = decision.pack.calendar
        return cal.with_years(self._extra_years) if self._extra_years else cal

    def check_facts(self, decision_id: str, facts: Mapping[str, Any], *,
                    source: SourceMap | None = None) -> dict[str, Any]:
        return validate_facts(self.decision(decision_id), dict(facts), source)

    def evaluate(self, decision_id: str, facts: Mapping[str, Any], *, as_of: dt.date | None = None,
                 allow_out_of_period: bool = False, explain: bool = False,
                 source: SourceMap | None = None, detail: bool = True, checked: bool = False) -> DecisionResult:
        """Check the facts against the decision's inputs, then evaluate them as of a date (default today).

        ``detail=False`` (batch work) gives outcome, score and subtotals, deadlines, reasons and warnings only: no
        item-by-item scorecard, checklists, tables, per-element checks or reported values.

        ``checked=True`` is the trusted entry of callers that checked the facts themselves with the checks
        :func:`~skillcert.runtime.facts.validate_facts` compiles (the rows of a file, each cell checked once per
        distinct text, :meth:`skillcert.rows.columns.HeaderRows.checked`): ``facts`` must then be exactly the dict
        it returns for them, and are not checked again.
        """
        day = as_of or dt.date.today()
        decision = self._chosen.get(decision_id)
        if decision.__class__ is not Decision:  # not a decision with one version, asked for before
            decision = self.decision(decision_id, as_of=day, allow_out_of_period=allow_out_of_period)
        assert decision is not None
        if checked and type(facts) is dict:
            return evaluate_checked(decision, facts, day,
                                    calendar=self.calendar_for(decision), allow_out_of_period=allow_out_of_period,
                                    explain=explain, functions=self._functions, reference=self.reference,
                                    detail=detail)
        if decision.document_inputs:  # a name or a date for the documents: not the rules' business
            facts = split_facts(decision, facts)[0]
        checked_facts = validate_facts(decision, dict(facts) if isinstance(facts, Mapping) else facts, source)
        return evaluate_checked(decision, checked_facts, day,
                                calendar=self.calendar_for(decision), allow_out_of_period=allow_out_of_period,
                                explain=explain, functions=self._functions, reference=self.reference,
                                detail=detail)

    def deciding(self, result: DecisionResult) -> Decision:
        """The version of the decision that gave ``result`` (its ``pack_version``); for a result of a version this
        library does not hold, the one in force at the result's date."""
        try:
            return self.decision(f"{result.decision}@{result.pack_version}")
        except UsageError:
            return self.decision(result.decision, as_of=result.as_of)

    def documents(self, result: DecisionResult, facts: Mapping[str, Any],
                  inputs: Mapping[str, Any] | None = None) -> dict[str, bytes]:
        """The documents ``result``'s outcome calls for, by document id, as the bytes of ``.docx`` files.

        ``facts`` are the facts evaluated; the document inputs (a name, the date signed …) are taken from them and
        from ``inputs``. One a document needs and does not have is a :class:`~skillcert.errors.FactsError` naming
        it (code ``document-input-missing``), raised before any document is rendered.
        """
        from .documents.render import render_documents

        decision = self.deciding(result)
        rule_facts, given = split_facts(decision, facts)
        return render_documents(decision, result, rule_facts, {**given, **(inputs or {})})

    def evaluate_many(self, decision_id: str, rows: Iterable[Mapping[str, Any]], *, as_of: dt.date | None = None,
                      allow_out_of_period: bool = False) -> Iterator[dict[str, Any]]:
        """Evaluate each row (facts as mappings, or spreadsheet-like rows with dotted columns and text cells).

        A generator of output rows, one per input row, in order (:func:`skillcert.rows.cells.result_row`): values as
        they are, reasons structured. Keys that are not inputs (ids, names) are carried over; a row with bad facts
        carries its ``error`` and the generator goes on. An unknown decision or an as-of date outside its period is
        refused at once, before any row. The same path as ``skillcert batch``.
        """
        decision = checked_decision(self, decision_id, as_of, allow_out_of_period)
        if as_of is None:  # one version for the whole run, even one that passes midnight
            as_of = dt.date.today()

        def results() -> Iterator[dict[str, Any]]:
            for row in rows:
                yield evaluate_row(self, decision, dict(row), as_of, allow_out_of_period)[0]
        return results()


def _in_force(versions: tuple[Decision, ...], as_of: dt.date) -> Decision | None:
    for d in versions:
        if d.valid_from <= as_of and (d.valid_until is None or as_of <= d.valid_until):
            return d
    return None


def _version(d: Decision) -> str:
    return d.pack.version if d.pack is not None else ""


def _listed(packs: tuple[Pack, ...]) -> str:
    return "、".join(f"{p.version}({period_text(p.valid_from, p.valid_until)})" for p in packs)


def load(directory: str | Path | None = None, *, pm: pluggy.PluginManager | None = None,
         calendar_years: Iterable[YearData] = ()) -> Library:
    """The packs in ``directory`` (default: the bundled ``policies/``)."""
    return Library(directory, pm=pm, calendar_years=calendar_years)
