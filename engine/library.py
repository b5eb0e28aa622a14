"""A library of policy packs: find them in a folder, compile each on first use, evaluate decisions.

This is the one code path shared by the command line, the test runner and Python callers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pluggy

from . import plugins
from .compiler.model import Decision, Pack
from .compiler.pipeline import PACK_FILE, compile_pack
from .errors import UsageError, did_you_mean
from .lang.calendar import HolidayCalendar, YearData
from .runtime.evaluate import evaluate_checked
from .runtime.facts import validate_facts
from .runtime.result import DecisionResult
from .source.loader import SourceMap, display_path
from .source.resources import policies_dir

__all__ = ["Library", "DecisionInfo", "load"]


@dataclass(frozen=True)
class DecisionInfo:
    id: str
    title: str
    pack_title: str
    version: str
    valid_from: dt.date
    valid_until: dt.date | None


class Library:
    """The packs under one folder (``policies/`` by default), compiled lazily, one region at a time."""

    def __init__(self, directory: str | Path | None = None, *, pm: pluggy.PluginManager | None = None,
                 calendar_years: Iterable[YearData] = (), reference: bool = False) -> None:
        self.directory = policies_dir(directory)
        self.pm = pm or plugins.plugin_manager()
        self._packs: dict[str, Pack] = {}
        self._extra_years = list(calendar_years)
        self.env = plugins.environment(self.pm)
        self._functions = dict(self.env.functions)
        self.reference = reference  # evaluate with simpleeval walking the trees (same results, slower)

    @property
    def extra_years(self) -> tuple[YearData, ...]:
        """Holiday years given at load time (``--calendar``), on top of the packs' own."""
        return tuple(self._extra_years)

    def regions(self) -> list[str]:
        return sorted(p.parent.name for p in self.directory.glob(f"*/{PACK_FILE}"))

    def pack(self, region: str) -> Pack:
        if region not in self._packs:
            folder = self.directory / region
            if not (folder / PACK_FILE).is_file():
                available = self.regions()
                hint = did_you_mean(region, available)
                raise UsageError(f"没有地区 '{region}' 的政策包(可用:{'、'.join(available) or '无'})"
                                 + (f";{hint}" if hint else ""))
            self._packs[region] = compile_pack(folder, env=self.env, display=display_path(folder / PACK_FILE),
                                               use_cache=True)
        return self._packs[region]

    def add(self, pack: Pack) -> None:
        """Use an already compiled pack (e.g. one ``skillcert validate`` just checked) instead of compiling."""
        self._packs[pack.id] = pack

    def decision(self, decision_id: str) -> Decision:
        region, sep, name = decision_id.partition("/")
        if not sep or not region or not name:
            raise UsageError(f"决定应写作 地区/决定,如 chongqing/renewal,收到 '{decision_id}'")
        pack = self.pack(region)
        if name not in pack.decisions:
            hint = did_you_mean(name, pack.decisions)
            raise UsageError(f"政策包 {region} 中没有决定 '{name}'(可用:{'、'.join(pack.decisions)})"
                             + (f";{hint}" if hint else ""))
        return pack.decisions[name]

    def decisions(self, *regions: str) -> list[DecisionInfo]:
        """The decisions of the given regions (default: every pack in the folder)."""
        out = []
        for region in regions or tuple(self.regions()):
            pack = self.pack(region)
            for d in pack.decisions.values():
                out.append(DecisionInfo(d.id, d.title, pack.title, pack.version, d.valid_from, d.valid_until))
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
                 source: SourceMap | None = None, detail: bool = True) -> DecisionResult:
        """Check the facts against the decision's inputs, then evaluate them as of a date (default today).

        ``detail=False`` (batch work) gives outcome, score and subtotals, deadlines, reasons and warnings only: no
        item-by-item scorecard, checklists, tables, per-element checks or reported values.
        """
        decision = self.decision(decision_id)
        checked = validate_facts(decision, dict(facts) if isinstance(facts, Mapping) else facts, source)
        return evaluate_checked(decision, checked, as_of or dt.date.today(),
                                calendar=self.calendar_for(decision), allow_out_of_period=allow_out_of_period,
                                explain=explain, functions=self._functions, reference=self.reference,
                                detail=detail)

    def evaluate_many(self, decision_id: str, rows: Iterable[Mapping[str, Any]], *, as_of: dt.date | None = None,
                      allow_out_of_period: bool = False) -> Iterator[dict[str, Any]]:
        """A generator of result rows, one per input row, in order (see :mod:`engine.batch`).

        Rows are facts as mappings, or spreadsheet-like rows with dotted columns (``findings.posts_missing``)
        and text cells; keys that are not inputs (ids, names) are carried over. A row with bad facts yields a row
        with its ``error``; the generator goes on.
        """
        from .tabular.batch import evaluate_many

        return evaluate_many(self, decision_id, (dict(r) for r in rows), as_of=as_of,
                             allow_out_of_period=allow_out_of_period)


def load(directory: str | Path | None = None, *, pm: pluggy.PluginManager | None = None,
         calendar_years: Iterable[YearData] = ()) -> Library:
    """The packs in ``directory`` (default: the bundled ``policies/``)."""
    return Library(directory, pm=pm, calendar_years=calendar_years)
