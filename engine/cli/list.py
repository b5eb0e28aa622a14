"""``skillcert list``: the decisions that can be evaluated, with title, pack version and period of validity.

A pack that cannot be read is reported on stderr and the others are still listed (exit 2). Which years of the
official holiday arrangements are known (working days need them) is said on stderr, after the table."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..errors import SkillcertError
from .common import EXIT_ERROR, EXIT_OK, load_library, print_error, require_schemas
from .parser import add_command

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
    require_schemas()
    library = load_library(args)
    rows: list[tuple[str, ...]] = [("决定", "名称", "版本", "有效期")]
    broken = 0
    for region in library.regions():
        try:
            infos = library.decisions(region)
        except SkillcertError as exc:  # list the others; say which pack could not be read
            broken += 1
            print_error(exc, err)
            continue
        for info in infos:
            period = f"{info.valid_from} 至 {info.valid_until}" if info.valid_until else f"{info.valid_from} 起"
            rows.append((info.id, info.title, info.version, period))
    from ..lang.calendar import known_years_text
    from ..render.table import format_table

    out.write("\n".join(format_table(rows, rule=False)) + "\n")
    calendar = library.env.calendar.with_years(library.extra_years)
    # on stderr, so that scripts reading the table on stdout see the table only
    print(f"{known_years_text(calendar)};其余年份由政策包的 calendar: 或 --calendar 补充", file=err)
    return EXIT_ERROR if broken else EXIT_OK
