"""``skillcert batch DECISION INPUT -o OUTPUT``: evaluates every row of a CSV, XLSX, JSON Lines or YAML-list file
into one output row each (see :mod:`skillcert.tabular.batch`); a row with bad facts gets its error in its row."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..errors import UsageError
from .common import EXIT_FINDINGS, EXIT_OK, convert_to_pdf, load_library, require_schemas
from .parser import add_command, date_arg, positive_int_arg

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = add_command(
        sub, "batch", summary="批量评估:CSV、XLSX、JSONL 或 YAML 列表,每行一个评估对象",
        description="逐行评估一个表格文件:每行一个评估对象,输出每行一行,顺序不变。列名可用输入的名称或中文标签;"
                    "嵌套的输入写作带点的列名(如 findings.posts_missing),或记录与字段的标签(用 . 或 · 连接),"
                    "或只写字段的标签;列表写作 JSON 单元格。CSV 可为 UTF-8 或 GBK(GB18030)编码。\n"
                    "开始前在标准错误上说明每列对应哪个输入,并提醒每个不是输入的列(原样带到输出);"
                    "表头有歧义、重复,或没有一列是输入时不评估(退出码 2)。\n"
                    "输出格式按扩展名:先是输入中不属于该决定的列(编号、名称等;与结果列同名的改名为“名称(输入)”),"
                    "然后是 outcome、outcome_label、score、deadlines.<名称>、reasons、error。某行有误时,错误写在该行的 "
                    "error 列,其余各行照常评估。以 = + - @ 开头的文字前加 ',不会在表格软件中成为公式。",
        examples=["skillcert batch shanxi/evaluation cases.xlsx -o results.xlsx --as-of 2025-05-25",
                  "skillcert batch chongqing/renewal cases.csv -o results.csv --workers 4",
                  "skillcert batch chongqing/renewal cases.jsonl -o results.xlsx --group-by registry_level",
                  "skillcert batch chongqing/renewal cases.csv -o results.csv --documents 文书/"],
        exit_codes=[(0, "每行都已评估"), (1, "有些行有错误(写在各自的行中)"),
                    (2, "无法运行(文件不存在或无法读取、格式或编码不受支持、表头有问题、评估日在有效期之外等)")],
        environment=["SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
                     "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DECISION_CODE",
                     "SKILLCERT_DEBUG"],
        run=run)
    p.add_argument("decision", metavar="DECISION", help="地区/决定,如 shanxi/evaluation")
    p.add_argument("input", metavar="INPUT", help="输入文件(.csv .xlsx .jsonl .yaml)")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="输出文件(.csv .xlsx .jsonl,按扩展名)")
    p.add_argument("--as-of", type=date_arg, metavar="DATE", help="评估日 YYYY-MM-DD(默认今天)")
    p.add_argument("--workers", type=positive_int_arg, default=1, metavar="N",
                   help="并行的进程数(默认 1;不超过 CPU 核数,每个进程至少 500 行)")
    p.add_argument("--allow-out-of-period", action="store_true", help="允许在政策包有效期之外评估")
    p.add_argument("--calendar", action="append", default=[], metavar="FILE", help="补充节假日数据的 YAML 文件")
    p.add_argument("--group-by", metavar="INPUT", default=None,
                   help="汇总表按此输入分组计数;默认用政策包为该决定指定的分组输入")
    p.add_argument("--no-progress", action="store_true", help="不显示进度条(不是终端时本来就不显示)")
    p.add_argument("--documents", metavar="DIR", default=None,
                   help="同时为每行写出结论要求的文书(.docx)到此目录,文件名为 <编号>_<文书标题>.docx;"
                        "文书输入取自与其同名或同中文名称的列")
    p.add_argument("--id-column", metavar="COLUMN", default=None,
                   help="文书文件名所用的编号列(默认:第一个既非输入、也非文书输入的列;没有时用行号)")
    p.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 把文书转为 PDF(未安装时说明一行)")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..tabular.batch import check_paths, run_batch

    check_paths(args.input, args.output)  # said before the packs are loaded (run_batch checks again)
    if args.workers > 1:
        from ..tabular.pool import prestart

        prestart()  # the workers' fork server starts while the packs load
    if (args.pdf or args.id_column is not None) and args.documents is None:
        raise UsageError("--pdf 和 --id-column 须与 --documents DIR 一起使用")
    require_schemas()
    library = load_library(args, args.calendar)
    if args.documents is not None and not library.decision(args.decision).documents:
        raise UsageError(f"{args.decision} 没有声明文书(documents),不能用 --documents")
    extra: dict[str, Any] = {}
    if args.group_by is not None:  # only when given, so that this works before run_batch takes group_by
        extra["group_by"] = args.group_by
    summary = run_batch(library, args.decision, args.input, args.output, as_of=args.as_of, workers=args.workers,
                        allow_out_of_period=args.allow_out_of_period,
                        progress=False if args.no_progress else None, stderr=err, **extra)
    counts = "、".join(f"{code} {n}" for code, n in summary.outcomes.most_common())
    print(f"{summary.rows} 行已评估,写入 {args.output};{summary.errors} 行有错误" + (f";结论:{counts}" if counts else ""),
          file=err)
    if args.documents is not None:
        from ..tabular.documents import write_row_documents

        made = write_row_documents(library, args.decision, args.input, args.documents, as_of=args.as_of,
                                   allow_out_of_period=args.allow_out_of_period, id_column=args.id_column)
        for line in made.errors:
            print(line, file=err)
        print(f"文书:{len(made.files)} 个文件写入 {args.documents};{len(made.errors)} 行未能生成文书", file=err)
        if args.pdf:
            convert_to_pdf(made.files, err)
        if made.errors:
            return EXIT_FINDINGS
    return EXIT_FINDINGS if summary.errors else EXIT_OK

