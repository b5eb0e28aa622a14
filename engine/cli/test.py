"""``skillcert test [PATH ...]``: runs the packs' own test cases; lists failures, coverage and the total
(``-v`` every case)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from .common import EXIT_FINDINGS, EXIT_OK, policies_folder, require_schemas
from .parser import add_command

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = add_command(
        sub, "test", summary="运行政策包自带的测试用例,并报告覆盖情况",
        description="运行政策包自带的测试用例(<地区>/tests/*.yaml),列出失败的用例、规则和评分项的覆盖情况及"
                    "汇总(-v 逐个列出)。\n"
                    "不给 PATH 时运行 --policies 或 SKILLCERT_POLICIES 所指目录中的全部用例,都没有时运行自带"
                    "政策包的用例。",
        examples=["skillcert test",
                  "skillcert test policies/chongqing",
                  "skillcert test policies/chongqing/tests/renewal.yaml -v",
                  "skillcert test ./my-packs"],
        exit_codes=[(0, "全部通过"), (1, "有用例失败或测试文件有问题"), (2, "无法运行(路径或 Schema 不存在等)")],
        environment=["SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
                     "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DECISION_CODE",
                     "SKILLCERT_DEBUG"],
        run=run)
    p.add_argument("paths", nargs="*", metavar="PATH", help="政策包目录或测试文件(默认为政策包目录)")
    p.add_argument("-v", "--verbose", action="store_true", help="逐个列出通过的用例(默认只列失败、覆盖和汇总)")
    p.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)  # the default; kept for scripts


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..analysis.tester import run_paths

    policies = getattr(args, "policies", None)
    paths = args.paths or [policies_folder(args)]
    require_schemas(tests=True)
    report = run_paths(paths, policies=policies)
    out.write(report.render(verbose=args.verbose))
    return EXIT_OK if report.ok else EXIT_FINDINGS
