"""``skillcert validate [PATH ...]``: checks packs, their test cases and examples against the schemas and the
semantic checks; one line per problem (``file:line:col: code: message``) on stdout, the count on stderr."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..errors import Problem
from .common import EXIT_FINDINGS, EXIT_OK, policies_folder, require_schemas
from .parser import add_command

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = add_command(
        sub, "validate", summary="检查政策包、测试用例和示例",
        description="检查政策包(pack.yaml)、它们的测试用例和示例:先按 JSON Schema,再做语义检查(名称、类型、"
                    "表达式、规则和期限)。每个问题一行,写作 文件:行:列: 代码: 说明。\n"
                    "不给 PATH 时检查 --policies 或 SKILLCERT_POLICIES 所指的目录,都没有时检查自带的政策包。",
        examples=["skillcert validate",
                  "skillcert validate policies/chongqing",
                  "skillcert validate policies/chongqing/tests/renewal.yaml",
                  "skillcert validate ./my-packs"],
        exit_codes=[(0, "没有问题"), (1, "发现问题(逐条列出)"), (2, "无法运行(路径或 Schema 不存在等)")],
        environment=["SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_DEBUG"],
        run=run)
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="政策包目录、包含多个政策包的目录、pack.yaml 或测试文件(默认为政策包目录)")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..analysis.validation import validate_paths

    paths = args.paths or [policies_folder(args)]
    require_schemas(tests=True)
    warnings: list[Problem] = []
    problems, checked = validate_paths(paths, warnings)
    for p in problems:
        print(p, file=out)
    for w in warnings:  # allowed, but worth a look (a gap between two versions): not counted as a problem
        print(f"警告 {w}", file=err)
    n = len(problems)
    if n:
        print(f"{n} 个问题({checked} 个文件)", file=err)
        return EXIT_FINDINGS
    print(f"全部通过:{checked} 个文件", file=err)
    return EXIT_OK
