"""``skillcert evaluate DECISION FACTS``: one decision on the facts of one case, as a Chinese report or JSON.

The output formats come from the plugins (``text`` and ``json`` built in); ``--explain`` shows how each derived
value and deadline was computed; ``--calendar`` adds holiday years; ``--documents DIR`` writes the documents the
outcome calls for (``--pdf``: and their PDF).
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..errors import UsageError
from .common import EXIT_OK, load_library, read_facts_document, require_schemas, write_documents
from .parser import add_command, date_arg

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = add_command(
        sub, "evaluate", summary="对一个个案的事实作出决定",
        description="按政策包对一个评估对象的事实作出决定:结论、得分、期限和依据。\n"
                    "DECISION 写作 地区/决定(skillcert list 列出可用的决定);FACTS 是 YAML 或 JSON 文件,"
                    "- 表示从标准输入读取。事实有误时,消息写明字段(键名和中文名)或文件位置。",
        examples=["skillcert evaluate chongqing/renewal \\\n"
                  "  policies/chongqing/examples/renewal-social-org.yaml --as-of 2025-05-25",
                  "skillcert evaluate chongqing/renewal facts.yaml --format json",
                  "skillcert evaluate shanxi/evaluation \\\n"
                  "  policies/shanxi/examples/evaluation-social-org.yaml --explain",
                  "cat facts.json | skillcert evaluate fuzhou/application -",
                  "skillcert evaluate chongqing/renewal \\\n"
                  "  整改案例.yaml --as-of 2025-06-10 --documents 文书/"],
        exit_codes=[(0, "已作出决定(无论结论如何)"),
                    (2, "输入有误或被拒绝(如评估日在政策包有效期之外)、无法运行")],
        environment=["SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
                     "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DECISION_CODE",
                     "SKILLCERT_DEBUG"],
        run=run)
    p.add_argument("decision", metavar="DECISION", help="地区/决定,如 chongqing/renewal")
    p.add_argument("facts", metavar="FACTS", help="事实文件(YAML 或 JSON),- 表示标准输入")
    p.add_argument("--as-of", type=date_arg, metavar="DATE", help="评估日 YYYY-MM-DD(默认今天)")
    p.add_argument("--format", default="text", metavar="FORMAT", help="输出格式:text(中文报告,默认)、json")
    p.add_argument("--explain", action="store_true", help="列出每个派生值和期限的计算过程")
    p.add_argument("--allow-out-of-period", action="store_true", help="允许在政策包有效期之外评估(结果带警告)")
    p.add_argument("--calendar", action="append", default=[], metavar="FILE",
                   help="补充节假日数据的 YAML 文件(可多次给出)")
    p.add_argument("--documents", metavar="DIR", default=None,
                   help="把结论要求出具的文书(Word .docx,如整改通知书)写入此目录;文书输入(名称、发文机关、"
                        "落款日期等)写在事实文件中,缺少时不写任何文件(退出码 2)")
    p.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 把文书转为 PDF(未安装时说明一行)")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .. import plugins

    formats = plugins.output_formats(plugins.plugin_manager())
    if args.format not in formats:
        raise UsageError(f"未知的输出格式 '{args.format}'(可用:{'、'.join(formats)})")
    if args.pdf and args.documents is None:
        raise UsageError("--pdf 须与 --documents DIR 一起使用")
    doc = read_facts_document(args.facts)
    require_schemas()
    library = load_library(args, args.calendar)
    result = library.evaluate(args.decision, doc.data, as_of=args.as_of,
                              allow_out_of_period=args.allow_out_of_period, explain=args.explain,
                              source=doc.source)
    fmt = formats[args.format]
    if args.documents is not None:  # rendered (or refused) before anything is printed or written
        write_documents(library, result, doc.data, args.documents, pdf=args.pdf, err=err, source=args.facts)
    if not fmt.binary:
        out.write(fmt.to_text(result, args.explain))
        return EXIT_OK
    # a binary format (a document from a plugin): raw bytes to a file or a pipe, never to a terminal
    binary = getattr(out, "buffer", None)
    if binary is None or out.isatty():
        raise UsageError(f"输出格式 '{fmt.name}' 是二进制的,请把标准输出重定向到文件(如 > result{fmt.suffix})")
    out.flush()
    binary.write(fmt.to_bytes(result, args.explain))
    binary.flush()
    return EXIT_OK
