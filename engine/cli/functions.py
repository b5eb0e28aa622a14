"""``skillcert functions``: the functions pack expressions can call (built in and from plugins), one a line."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from .common import EXIT_OK, policies_folder
from .parser import add_command

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    add_command(
        sub, "functions", summary="列出表达式中可用的函数",
        description="列出政策包表达式中可以调用的函数(自带的和插件提供的),每行一个:名称和说明。",
        examples=["skillcert functions", "skillcert functions | grep working"],
        exit_codes=[(0, "成功"), (2, "无法运行(如 --policies 所指目录不存在)")],
        environment=["SKILLCERT_POLICIES", "SKILLCERT_DEBUG"],
        run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .. import plugins

    policies_folder(args)  # the functions do not depend on the packs, but a wrong folder is still reported
    for name, spec in sorted(plugins.functions(plugins.plugin_manager()).items()):
        print(f"{name:22} {spec.doc}", file=out)
    return EXIT_OK
