"""``skillcert list``: the decisions that can be evaluated, with title, pack version and period of validity.

A decision whose pack folder holds several versions has one row per version (oldest first); which of them is in
force today, how to name one, and any gap between them are said on stderr, after the table.

A pack that cannot be read is reported on stderr and the others are still listed (exit 2). Which years of the
official holiday arrangements are known (working days need them) is said on stderr, after the table."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import SkillcertError
from .common import EXIT_ERROR, EXIT_OK, load_library, print_error, require_schemas
from .parser import add_command

if TYPE_CHECKING:  # the library is imported when the command runs, not for --help
    from ..library import DecisionInfo, Library

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    add_command(
        sub, "list", summary="列出可评估的决定及其有效期",
        description="列出政策包目录中可评估的决定(地区/决定)、名称、版本和有效期,以及已知哪些年份的法定节假日安排"
                    "(计算工作日所需)。",
        examples=["skillcert list", "skillcert list --policies ./my-packs",
                  "SKILLCERT_POLICIES=./my-packs skillcert list"],
        exit_codes=[(0, "成功"), (2, "政策包目录不存在,或有政策包无法读取(其余照常列出)")],
        environment=["SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
                     "SKILLCERT_DEBUG"],
        run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..compiler.versions import period_text

    require_schemas()
    library = load_library(args)
    rows: list[tuple[str, ...]] = [("决定", "名称", "版本", "有效期")]
    broken = 0
    notes: list[str] = []
    for region in library.regions():
        try:
            infos = library.decisions(region)
        except SkillcertError as exc:  # list the others; say which pack could not be read
            broken += 1
            print_error(exc, err)
            continue
        for info in infos:
            rows.append((info.id, info.title, info.version, period_text(info.valid_from, info.valid_until)))
        notes.extend(_version_notes(library, region, infos))
    from ..lang.calendar import known_years_text
    from ..render.table import format_table

    out.write("\n".join(format_table(rows, rule=False)) + "\n")
    for note in notes:  # on stderr: scripts reading the table on stdout see the table only
        print(note, file=err)
    calendar = library.env.calendar.with_years(library.extra_years)
    print(f"{known_years_text(calendar)};其余年份由政策包的 calendar: 或 --calendar 补充", file=err)
    return EXIT_ERROR if broken else EXIT_OK


def _version_notes(library: Library, region: str, infos: list[DecisionInfo]) -> list[str]:
    """For each decision with several versions: which is in force today and how to name one; then any gap."""
    notes = []
    for decision_id in dict.fromkeys(i.id for i in infos if i.versions > 1):
        versions = [i.version for i in infos if i.id == decision_id]
        day = dt.date.today()
        now = library.decision(decision_id, as_of=day)
        in_force = now.valid_from <= day and (now.valid_until is None or day <= now.valid_until)
        today = f"今日为 {now.pack.version}" if in_force and now.pack is not None else "今日没有有效的版本"
        notes.append(f"{decision_id} 有 {len(versions)} 个版本({'、'.join(versions)}),按评估日选用有效期内的版本,"
                     f"{today};指定版本写作 {decision_id}@{versions[0]}")
    notes.extend(f"警告 {w}" for w in library.version_warnings(region))
    return notes
