"""PDF from a rendered ``.docx``, with LibreOffice (``soffice --headless --convert-to pdf``) where it is installed.

Each conversion runs with its own throw-away LibreOffice profile, so that conversions at the same time (batch
rows, tests) do not wait on one another's lock, and is bounded in time. Debian has no 仿宋_GB2312 nor
方正小标宋简体: left to itself fontconfig gives LibreOffice the first CJK face it has (Noto Sans CJK JP, whose
glyphs are the Japanese forms) and DejaVu for the digits. The conversion therefore runs with a fontconfig file of
its own (:data:`SUBSTITUTES`) that names the Simplified Chinese face of the same kind for each official one, where
the machine has it: a Song (serif) face for 仿宋, bold for 小标宋, a Hei (sans) face for 黑体, the serif's own Latin
letters for Times New Roman. The .docx keeps the official faces for Word and WPS.
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


# An official face, and the installed faces that stand in for it, best first, with the weight to draw it in.
SUBSTITUTES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "仿宋_GB2312": (("FangSong", "Noto Serif CJK SC", "Source Han Serif SC", "AR PL UMing CN"), None),
    "仿宋": (("FangSong", "Noto Serif CJK SC", "Source Han Serif SC", "AR PL UMing CN"), None),
    "方正小标宋简体": (("Noto Serif CJK SC", "Source Han Serif SC", "AR PL UMing CN"), "bold"),
    "黑体": (("SimHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei"), None),
    "楷体": (("KaiTi", "AR PL UKai CN", "Noto Serif CJK SC"), None),
    "Times New Roman": (("Liberation Serif", "Tinos", "Noto Serif CJK SC", "DejaVu Serif"), None),
}


def fontconfig_file(folder: Path) -> Path:
    """A fontconfig file that keeps the system's set-up and adds the :data:`SUBSTITUTES` (written into ``folder``)."""
    from xml.sax.saxutils import escape

    rules = []
    for face, (stand_ins, weight) in SUBSTITUTES.items():
        families = "".join(f"<string>{escape(f)}</string>" for f in stand_ins)
        weighted = f'<edit name="weight" mode="assign"><const>{weight}</const></edit>' if weight else ""
        rules.append(f'<match target="pattern"><test name="family"><string>{escape(face)}</string></test>'
                     f'<edit name="family" mode="prepend" binding="strong">{families}</edit>{weighted}</match>')
    path = folder / "fonts.conf"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n' + "\n".join(rules)
                    + "\n</fontconfig>\n", encoding="utf-8")
    return path


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
                capture_output=True, timeout=_TIMEOUT_S, check=False,
                env={**os.environ, "FONTCONFIG_FILE": str(fontconfig_file(Path(profile)))})
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SkillcertError(f"LibreOffice 转换 {docx.name} 失败:{exc}", code=PDF_CODE) from None
    pdf = out_dir / (docx.stem + ".pdf")
    if done.returncode != 0 or not pdf.is_file():
        detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-300:]
        raise SkillcertError(f"LibreOffice 未能把 {docx.name} 转为 PDF(退出码 {done.returncode}):{detail}",
                             code=PDF_CODE)
    return pdf
