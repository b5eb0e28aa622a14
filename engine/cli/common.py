"""What the commands share: exit codes, how an error is printed, loading the packs and checking the schemas.

Heavy modules are imported inside the functions, never at module level.
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import SkillcertError, UsageError

if TYPE_CHECKING:
    from ..library import Library
    from ..source.loader import Document

__all__ = ["EXIT_OK", "EXIT_FINDINGS", "EXIT_ERROR", "print_error", "os_error_text", "load_library",
           "write_documents", "convert_to_pdf", "policies_folder", "require_schemas", "read_facts_document"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def print_error(exc: SkillcertError, err: TextIO) -> None:
    head = f"{exc.location}: " if exc.location else ""
    print(f"skillcert: {head}{exc.code}: {exc.message}", file=err)
    for p in exc.problems:
        print(f"  {p}", file=err)


_OS_ERRORS = {
    errno.ENOENT: "不存在",
    errno.EISDIR: "是一个目录,不是文件",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EROFS: "文件系统只读",
    errno.ENOSPC: "磁盘空间不足",
    errno.ENAMETOOLONG: "文件名太长",
}


def os_error_text(exc: OSError) -> str:
    """What went wrong with a file, in Chinese where we know the error (the system's words otherwise)."""
    if exc.errno in _OS_ERRORS:
        return _OS_ERRORS[exc.errno]
    return exc.strerror or str(exc)


def require_schemas(*, tests: bool = False) -> None:
    """The schemas the command needs can be read, or a usage error naming the one that cannot (before any pack is
    read, so that the error is said once, not once per file)."""
    from ..source.resources import schemas_dir
    from ..source.schema import PACK_SCHEMA, TESTS_SCHEMA

    folder = schemas_dir()
    for name in (PACK_SCHEMA, TESTS_SCHEMA) if tests else (PACK_SCHEMA,):
        path = folder / name
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise UsageError(f"无法读取 JSON Schema {path}:{os_error_text(exc)}") from None


def load_library(args: argparse.Namespace, calendar_files: list[str] | None = None) -> Library:
    """The packs of ``--policies`` (or ``$SKILLCERT_POLICIES``, or the bundled ones), with extra holiday years."""
    from ..library import load

    years = []
    if calendar_files:
        from ..lang.calendar import year_data_from_mapping
        from ..source.loader import load_file

        for f in calendar_files:
            doc = load_file(f)
            entries = doc.data if isinstance(doc.data, list) else [doc.data]
            for i, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise UsageError(f"{f}: 每一年的节假日数据应是一个映射")
                years.append(year_data_from_mapping(entry, str(doc.source.locate((i,) if isinstance(doc.data, list)
                                                                                   else ()))))
    return load(getattr(args, "policies", None), calendar_years=years)


def policies_folder(args: argparse.Namespace) -> str:
    """The folder of packs as a path string (``validate`` and ``test`` without a PATH check all of it)."""
    from ..source.resources import policies_dir

    return str(policies_dir(getattr(args, "policies", None)))


def read_facts_document(name: str) -> Document:
    """A facts file (YAML or JSON), or standard input for ``-``: read only up to the size limit (one byte more
    says it is too large), and refused with a clear error when it is not UTF-8."""
    from ..source.loader import MAX_FILE_BYTES, load_bytes, load_file, load_text

    if name != "-":
        return load_file(name)
    binary = getattr(sys.stdin, "buffer", None)
    if binary is not None:
        from ..source.loader import read_limited

        return load_bytes(read_limited(binary, "<stdin>"), "<stdin>")
    text = sys.stdin.read(MAX_FILE_BYTES + 1)  # a text stream (tests, embedding): characters, at most one too many
    return load_text(text, "<stdin>")


def write_documents(library: Library, result: Any, facts: Any, folder: str, *, pdf: bool, err: TextIO,
                    source: str = "", prefix: str = "") -> list[Path]:
    """The documents ``result`` calls for, written into ``folder`` as ``<prefix><title>.docx`` (all or none), and
    their PDF with ``pdf``; one line each on ``err``. A missing document input stops before any file is written."""
    from ..documents.files import safe_name, write_all

    decision = library.deciding(result)  # the version that decided: its documents
    blobs = library.documents(result, facts if isinstance(facts, dict) else {})
    if not blobs:
        print(f"结论 {result.outcome}({result.outcome_label})不出具文书", file=err)
        return []
    taken: set[str] = set()
    named = {safe_name(prefix + decision.documents[doc_id].title, ".docx", taken): blob
             for doc_id, blob in blobs.items()}
    written = write_all(Path(folder), named)
    for path in written:
        print(f"已写入 {path}", file=err)
    if pdf:
        convert_to_pdf(written, err)
    return written


def convert_to_pdf(files: list[Path], err: TextIO) -> None:
    """Each file's PDF next to it (LibreOffice), or one line saying LibreOffice is not installed."""
    from ..documents.pdf import ABSENT_MESSAGE, soffice, to_pdf

    if soffice() is None:
        print(ABSENT_MESSAGE, file=err)
        return
    for path in files:
        print(f"已写入 {to_pdf(path, path.parent)}", file=err)
