"""What the operator of a server chooses: where it listens, the tokens, and the limits on what a request may send.

Tokens come from ``--token`` (one token that may do everything) and from a tokens file (``--tokens``), one token a
line with its role (:func:`read_tokens`): ``read`` may only read (decisions, schemas, the log), ``evaluate`` may
also evaluate and re-run. A token's text is never put into a message: a bad line is named by its number.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

__all__ = ["Settings", "is_loopback", "read_tokens", "MAX_BODY", "MAX_LINES_BODY", "MAX_UPLOAD", "ROLES", "READ",
           "EVALUATE"]

MAX_BODY = 1 << 20          # one case's facts: a megabyte is far more than any pack's inputs take
MAX_LINES_BODY = 64 << 20   # JSON Lines of many cases, read and answered line by line
MAX_UPLOAD = 50 << 20       # a workbook uploaded to the batch page (--max-upload)

READ = "read"               # GET only: decisions, schemas, the log
EVALUATE = "evaluate"       # also POST: evaluate one or many, re-run a logged decision
ROLES = {READ: "只读", EVALUATE: "评估"}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None            # when set, every /api request must carry `Authorization: Bearer <token>`
    tokens: tuple[tuple[str, str], ...] = ()   # (token, role) from a tokens file, beside `token`
    max_body: int = MAX_BODY
    max_lines_body: int = MAX_LINES_BODY
    log_batch: int = 200                # JSON Lines, batches: events written to the log together, one transaction each
    data: str | None = None             # the data folder: uploaded batches and their results (None: no batch page)
    max_upload: int = MAX_UPLOAD        # bytes of one uploaded file

    def credentials(self) -> tuple[tuple[str, str], ...]:
        """Every accepted token with its role (``--token`` may evaluate); empty: no token is asked for."""
        given = ((self.token, EVALUATE),) if self.token is not None else ()
        return given + self.tokens


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach the address (a token is then optional)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_tokens(path: str | Path) -> tuple[tuple[str, str], ...]:
    """The tokens of a tokens file: ``<role> <token>`` a line (roles ``read``, ``evaluate``); ``#`` starts a comment.

    Refused (naming the line, never the token) when a line has no role or no token, the role is unknown, a token is
    shorter than 8 characters or given twice, or the file holds no token at all.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"无法读取令牌文件 {path}:{exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"令牌文件 {path} 不是 UTF-8 文本") from None
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        where = f"令牌文件 {path} 第 {number} 行"
        if len(parts) != 2:
            raise UsageError(f"{where} 应写作“角色 令牌”(角色为 {'、'.join(ROLES)}),以空格分开")
        role, token = parts
        if role not in ROLES:
            # not echoed: with the two words swapped, the "role" would be the token
            raise UsageError(f"{where}:第一个词应是角色 read(只读)或 evaluate(评估),其后是令牌")
        if len(token) < 8:
            raise UsageError(f"{where}:令牌太短(至少 8 个字符)")
        if token in seen:
            raise UsageError(f"{where}:令牌与前面的某一行重复")
        seen.add(token)
        out.append((token, role))
    if not out:
        raise UsageError(f"令牌文件 {path} 中没有令牌(每行“角色 令牌”,如 read 和 evaluate)")
    return tuple(out)
