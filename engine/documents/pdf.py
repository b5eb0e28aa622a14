"""PDF from a rendered ``.docx``, with LibreOffice (``soffice --headless --convert-to pdf``) where it is installed.

Each conversion runs with its own throw-away LibreOffice profile, so that conversions at the same time (batch
rows, tests) do not wait on one another's lock, and is bounded in time. Debian has no 仿宋_GB2312 nor
方正小标宋简体: LibreOffice then substitutes what fontconfig offers for Chinese (Noto Serif/Sans CJK from
``fonts-noto-cjk``); the .docx keeps the official faces for Word and WPS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import SkillcertError

__all__ = ["soffice", "to_pdf", "ABSENT_MESSAGE", "PDF_CODE"]

PDF_CODE = "pdf-failed"
ABSENT_MESSAGE = "未安装 LibreOffice(soffice),不生成 PDF;安装 libreoffice-writer 后可用 --pdf"
_TIMEOUT_S = 180


def soffice() -> str | None:
    """The LibreOffice command, or None when it is not installed (``SKILLCERT_SOFFICE`` names another)."""
    named = os.environ.get("SKILLCERT_SOFFICE")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx: Path, out_dir: Path) -> Path:
    """Convert one file; the PDF is written next to the others in ``out_dir`` under the same stem."""
    command = soffice()
    if command is None:
        raise SkillcertError(ABSENT_MESSAGE, code=PDF_CODE)
    with tempfile.TemporaryDirectory(prefix="skillcert-soffice-") as profile:
        try:
            done = subprocess.run(
                [command, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                 "--convert-to", "pdf", "--outdir", str(out_dir), str(docx)],
                capture_output=True, timeout=_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SkillcertError(f"LibreOffice 转换 {docx.name} 失败:{exc}", code=PDF_CODE) from None
    pdf = out_dir / (docx.stem + ".pdf")
    if done.returncode != 0 or not pdf.is_file():
        detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-300:]
        raise SkillcertError(f"LibreOffice 未能把 {docx.name} 转为 PDF(退出码 {done.returncode}):{detail}",
                             code=PDF_CODE)
    return pdf
