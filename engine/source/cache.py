"""The user's cache folder: where it is, and reading and writing its files so that a bad one never matters.

Everything skillcert keeps there can be made again from the files it came from; a file missing, unreadable, corrupt,
written by another user or writable by others is treated as absent (and written anew), never as an error. Writes
are atomic (a temporary file in the same folder, then renamed over), so a reader never sees half a file and two
processes writing the same entry leave one whole copy. ``SKILLCERT_NO_CACHE=1`` turns the cache off;
``SKILLCERT_CACHE_DIR`` moves it (default ``$XDG_CACHE_HOME/skillcert`` or ``~/.cache/skillcert``).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "read_json", "write_json", "has_marker", "set_marker"]


def cache_dir(kind: str) -> Path | None:
    """The folder for one kind of cached thing, or None when caching is off."""
    if os.environ.get("SKILLCERT_NO_CACHE"):
        return None
    base = os.environ.get("SKILLCERT_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "skillcert" / kind


def _ours(st: os.stat_result) -> bool:
    """A file made by this user and writable by nobody else: anything else may have been put there to mislead."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # pragma: no cover - Windows: the profile folder is the user's own
        return True
    return st.st_uid == getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def read_json(path: Path, limit: int) -> Any:
    """The JSON value in ``path``, or None when it is absent, larger than ``limit`` bytes, not ours or not JSON."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > limit or not _ours(st) or not _ours(os.stat(path.parent)):
                return None
            data = fh.read(limit + 1)
        return json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON to ``path`` atomically; a folder that cannot be written only costs speed."""
    import tempfile  # deferred: only a cache miss writes

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(value, fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, ValueError, TypeError, RecursionError):
        pass


def has_marker(path: Path) -> bool:
    """Whether an empty marker file (a check passed for what its name is the digest of) is there and ours."""
    try:
        return _ours(os.stat(path)) and _ours(os.stat(path.parent))
    except OSError:
        return False


def set_marker(path: Path) -> None:
    """Leave a marker (see :func:`has_marker`); a folder that cannot be written only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
    except OSError:
        pass
