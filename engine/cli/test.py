"""``skillcert test [PATH ...]``: runs the packs' own test cases; lists failures, coverage and the total
(``-v`` every case). ``--mutate``: mutation testing of the packs' boundaries (:mod:`skillcert.analysis.mutate`)."""

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
                  "skillcert test ./my-packs",
                  "skillcert test --mutate policies/",
                  "skillcert test --mutate policies/chongqing --format json"],
        exit_codes=[(0, "全部通过(--mutate:每个变异都被用例发现或已说明等价)"),
                    (1, "有用例失败或测试文件有问题(--mutate:有存活的变异,或等价说明有问题)"),
                    (2, "无法运行(路径或 Schema 不存在,--mutate 时用例在原政策包上未通过等)")],
        environment=["SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
                     "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DECISION_CODE",
                     "SKILLCERT_DEBUG"],
        run=run)
    p.add_argument("paths", nargs="*", metavar="PATH", help="政策包目录或测试文件(默认为政策包目录)")
    p.add_argument("-v", "--verbose", action="store_true", help="逐个列出通过的用例(默认只列失败、覆盖和汇总)")
    p.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)  # the default; kept for scripts
    p.add_argument("--mutate", action="store_true",
                   help="变异测试:把参数各加减一个单位、比较符号改严或改宽、去掉 all/any 或 and/or 中的一个条件、"
                        "去掉评分表的一条扣分,逐个用用例检验;列出没有用例发现的变异(按条款,附建议用例)和每个政策包"
                        "的变异得分。等价变异在政策包的 mutants.yaml 中说明")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="--mutate 的输出格式:text(中文报告,默认)或 json")
    p.add_argument("--no-suggest", action="store_true",
                   help="--mutate 时不为存活的变异搜索建议用例(更快)")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..analysis.tester import run_paths

    policies = getattr(args, "policies", None)
    paths = args.paths or [policies_folder(args)]
    require_schemas(tests=True)
    if args.mutate:
        return _mutate(args, paths, policies, out)
    report = run_paths(paths, policies=policies)
    out.write(report.render(verbose=args.verbose))
    return EXIT_OK if report.ok else EXIT_FINDINGS


def _mutate(args: argparse.Namespace, paths: list[str], policies: str | None, out: TextIO) -> int:
    import json

    from ..analysis.mutate import run_mutation

    report = run_mutation(paths, policies=policies, search=not args.no_suggest)
    if args.format == "json":
        out.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(report.render(verbose=args.verbose))
    return EXIT_OK if report.ok else EXIT_FINDINGS
