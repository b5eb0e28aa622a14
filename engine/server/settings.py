"""What the operator of a server chooses: where it listens, the token, and the limits on what a request may send."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

__all__ = ["Settings", "is_loopback", "MAX_BODY", "MAX_LINES_BODY"]

MAX_BODY = 1 << 20          # one case's facts: a megabyte is far more than any pack's inputs take
MAX_LINES_BODY = 64 << 20   # JSON Lines of many cases, read and answered line by line


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None            # when set, every /api request must carry `Authorization: Bearer <token>`
    max_body: int = MAX_BODY
    max_lines_body: int = MAX_LINES_BODY
    log_batch: int = 200                # JSON Lines: events written to the log together, one transaction each


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach the address (a token is then optional)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
