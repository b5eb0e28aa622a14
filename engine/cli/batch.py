"""``skillcert batch DECISION INPUT -o OUTPUT``: evaluates every row of a CSV, XLSX, JSON Lines or YAML-list file
into one output row each (see :mod:`skillcert.tabular.batch`); a row with bad facts gets its error in its row."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from ..errors import UsageError
from .common import EXIT_FINDINGS, EXIT_OK, load_library, require_schemas
from .parser import add_command, date_arg, positive_int_arg

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = add_command(
        sub, "batch", summary="批量评估:CSV、XLSX、JSONL 或 YAML 列表,每行一个评估对象",
        description="逐行评估一个表格文件:每行一个评估对象,输出每行一行,顺序不变。嵌套的输入写作带点的列名"
                    "(如 findings.posts_missing),列表写作 JSON 单元格。\n"
                    "输出格式按扩展名:先是输入中不属于该决定的列(编号、名称等),然后是 outcome、outcome_label、"
                    "score、deadlines.<名称>、reasons、error。某行事实有误时,错误写在该行的 error 列,其余各行"
                    "照常评估。",
        examples=["skillcert batch shanxi/evaluation cases.xlsx -o results.xlsx --as-of 2025-05-25",
                  "skillcert batch chongqing/renewal cases.csv -o results.csv --workers 4",
                  "skillcert batch chongqing/renewal cases.jsonl -o results.xlsx --group-by registry_level"],
        exit_codes=[(0, "每行都已评估"), (1, "有些行有错误(写在各自的行中)"),
                    (2, "无法运行(文件不存在、格式不受支持、评估日在有效期之外等)")],
        environment=["SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
                     "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DEBUG"],
        run=run)
    p.add_argument("decision", metavar="DECISION", help="地区/决定,如 shanxi/evaluation")
    p.add_argument("input", metavar="INPUT", help="输入文件(.csv .xlsx .jsonl .yaml)")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="输出文件(.csv .xlsx .jsonl,按扩展名)")
    p.add_argument("--as-of", type=date_arg, metavar="DATE", help="评估日 YYYY-MM-DD(默认今天)")
    p.add_argument("--workers", type=positive_int_arg, default=1, metavar="N", help="并行的进程数(默认 1)")
    p.add_argument("--allow-out-of-period", action="store_true", help="允许在政策包有效期之外评估")
    p.add_argument("--calendar", action="append", default=[], metavar="FILE", help="补充节假日数据的 YAML 文件")
    p.add_argument("--group-by", metavar="INPUT", default=None,
                   help="汇总表按此输入分组计数;默认用政策包为该决定指定的分组输入")
    p.add_argument("--no-progress", action="store_true", help="不显示进度条(不是终端时本来就不显示)")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..tabular.batch import run_batch

    _check_paths(args.input, args.output)
    require_schemas()
    library = load_library(args, args.calendar)
    extra: dict[str, Any] = {}
    if args.group_by is not None:  # only when given, so that this works before run_batch takes group_by
        extra["group_by"] = args.group_by
    summary = run_batch(library, args.decision, args.input, args.output, as_of=args.as_of, workers=args.workers,
                        allow_out_of_period=args.allow_out_of_period,
                        progress=False if args.no_progress else None, stderr=err, **extra)
    counts = "、".join(f"{code} {n}" for code, n in summary.outcomes.most_common())
    print(f"{summary.rows} 行已评估,写入 {args.output};{summary.errors} 行有错误" + (f";结论:{counts}" if counts else ""),
          file=err)
    return EXIT_FINDINGS if summary.errors else EXIT_OK


def _check_paths(input_path: str, output_path: str) -> None:
    """The input is a file and the output can be written where asked: said before any row is read."""
    src, dst = Path(input_path), Path(output_path)
    if src.is_dir():
        raise UsageError(f"输入文件 {src} 是一个目录,不是文件")
    if dst.is_dir():
        raise UsageError(f"输出文件 {dst} 是一个目录,不是文件")
    folder = dst.parent
    if not folder.is_dir():
        raise UsageError(f"输出文件所在的目录 {folder} " + ("不是目录" if folder.exists() else "不存在"))
