"""Writing documents to a folder: file names safe on Windows as well, and all of a set or nothing.

A name loses the characters Windows refuses (``<>:"/\\|?*`` and control characters) and trailing dots and spaces,
a reserved device name (``CON``, ``NUL``, ``COM1`` …) gets a ``_`` in front, the length is bounded, and names
already taken in the set get ``-2``, ``-3`` …. The files are written under temporary names in the folder itself
and renamed into place only when every one of them is written, so a failure leaves no half-written set behind.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

__all__ = ["safe_name", "write_all", "MAX_NAME_CHARS"]

MAX_NAME_CHARS = 80     # the stem; Windows allows 255 for a name, less for a whole path
_REFUSED = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(stem: str, suffix: str, taken: set[str]) -> str:
    """A file name for ``stem`` + ``suffix`` that Windows and POSIX accept and that is not yet in ``taken``."""
    text = _REFUSED.sub("_", stem).strip().rstrip(". ")[:MAX_NAME_CHARS].rstrip(". ") or "_"
    if text.split(".")[0].upper() in _RESERVED:
        text = "_" + text
    name, n = text + suffix, 1
    while name.casefold() in taken:   # Windows compares names without case
        n += 1
        name = f"{text}-{n}{suffix}"
    taken.add(name.casefold())
    return name


def write_all(folder: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write every file into ``folder`` (created if need be), or none of them."""
    folder.mkdir(parents=True, exist_ok=True)
    temporary: list[tuple[str, Path]] = []
    try:
        for name, blob in files.items():
            # os.open with 0o666 rather than mkstemp (0o600): the documents are for sharing, the umask decides
            tmp = folder / f".skillcert-{secrets.token_hex(8)}.part"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            temporary.append((name, tmp))
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
        written = []
        for name, part in temporary:
            target = folder / name
            os.replace(part, target)
            written.append(target)
        return written
    finally:
        for _, leftover in temporary:
            leftover.unlink(missing_ok=True)
