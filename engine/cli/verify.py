"""``skillcert verify FILE.docx``: does a document made by ``skillcert evaluate --documents`` still hold?

Reads the code, facts and result embedded in the file, checks that they agree with each other and with the footer,
evaluates the facts again with the packs at hand and says, in Chinese, whether outcome, findings and deadlines are
the same, or which pack version made the document and what differs now (:mod:`skillcert.documents.verification`).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any, TextIO

from ..errors import SkillcertError, UsageError
from .common import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, load_library, os_error_text, require_schemas
from .parser import add_command

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = add_command(
        sub, "verify", summary="核对文书:验证码、内嵌的事实和结论是否仍然成立",
        description="读取 skillcert 生成的文书(.docx)中的验证码和内嵌的事实与结果,核对它们与页脚是否一致,"
                    "再用现有的政策包重新评估:结论、问题和期限相同则通过;不同则说明文书由哪个版本的政策包生成、"
                    "现在有何不同。内嵌数据或验证码被改动的文书判为不一致。",
        examples=["skillcert verify 文书/整改通知书.docx"],
        exit_codes=[(0, "文书与重新评估的结果一致"), (1, "不一致,或文书已被改动"),
                    (2, "无法读取(不是 skillcert 生成的文书、文件不存在等)")],
        environment=["SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
                     "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DECISION_CODE",
                     "SKILLCERT_DEBUG"],
        run=run)
    p.add_argument("file", metavar="FILE", help="skillcert 生成的文书(.docx)")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..documents.verification import check_document, read_document

    path = Path(args.file)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"无法读取 {args.file}:{os_error_text(exc)}") from None
    embedded = read_document(blob)
    require_schemas()
    library = load_library(args)

    def evaluate(decision: str, facts: dict[str, Any], as_of: dt.date) -> Any:
        return library.evaluate(decision, facts, as_of=as_of, allow_out_of_period=True)

    try:
        check = check_document(embedded, evaluate)
    except SkillcertError as exc:
        if exc.code in ("usage-error", "pack-invalid"):
            raise
        print(f"{args.file}:不一致:用现有政策包无法重新评估内嵌的事实({exc.code}: {exc.message})", file=out)
        return EXIT_FINDINGS
    verdict = {"match": "一致", "differs": "不一致", "tampered": "已被改动"}[check.status]
    print(f"{args.file}:{verdict}(验证码 {embedded.code})", file=out)
    for line in check.lines:
        print(line, file=out)
    return EXIT_OK if check.status == "match" else EXIT_FINDINGS if check.status in ("differs", "tampered") \
        else EXIT_ERROR
