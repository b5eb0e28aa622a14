"""Several versions of one pack in one folder: which files they are, and whether their periods fit together.

A pack folder holds ``pack.yaml`` and may hold other versions of the same pack beside it, each a whole pack in a
file named after the version it declares (``pack-1.1.0.yaml``, :data:`~.compilation.VERSION_FILES`). Each file is
compiled on its own; this module then checks them together: no two files declare the same version, and the
versions of one decision have periods of validity that do not overlap, so that at any date at most one version is
in force (an error at the newer version's decision, with the date the older one should end). A gap between two
versions is only a warning: a date in it has no version, and evaluating at it is refused as out of period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from ..errors import Location, Problem
from .compilation import PACK_FILE, VERSION_FILES
from .model import Decision, Pack

__all__ = ["pack_files", "check_versions", "in_order", "period_text", "version_key"]


def pack_files(directory: Path) -> list[Path]:
    """The pack files of a folder: ``pack.yaml`` first, then the other versions' files by name."""
    main = directory / PACK_FILE
    others = sorted(p for p in directory.glob(VERSION_FILES) if p.is_file())
    return ([main] if main.is_file() else []) + others


def version_key(version: str) -> tuple[int, ...]:
    """A semantic version as numbers, for ordering (1.10.0 after 1.9.0); the schema makes every version three."""
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def in_order(packs: Sequence[Pack]) -> tuple[Pack, ...]:
    """Versions by the date each comes into force, then by version number."""
    return tuple(sorted(packs, key=lambda p: (p.valid_from, version_key(p.version))))


def period_text(start: dt.date, end: dt.date | None) -> str:
    """A period of validity as the messages write it: ``2024-01-01 至 2024-12-31``, ``2025-01-01 起``."""
    return f"{start} 至 {end}" if end else f"{start} 起"


def check_versions(packs: Sequence[Pack]) -> tuple[list[Problem], list[Problem]]:
    """The problems (errors) and warnings of a folder's versions taken together."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    seen: dict[str, Pack] = {}
    for pack in packs:
        first = seen.setdefault(pack.version, pack)
        if first is not pack:
            problems.append(Problem("duplicate-version", f"{_file(pack)} 与 {_file(first)} 都声明版本 {pack.version}",
                                    Location(_file(pack)), "每个版本一个文件;请修改其中一个的 version 或删去重复的文件"))
    names = dict.fromkeys(name for pack in packs for name in pack.decisions)
    for name in names:
        versions = sorted((p.decisions[name] for p in packs if name in p.decisions), key=lambda d: d.valid_from)
        for i, older in enumerate(versions):
            for newer in versions[i + 1:]:
                if older.valid_until is None or older.valid_until >= newer.valid_from:
                    problems.append(_overlap(older, newer))
        for older, newer in zip(versions, versions[1:], strict=False):
            if older.valid_until is not None and older.valid_until + dt.timedelta(days=1) < newer.valid_from:
                days = (newer.valid_from - older.valid_until).days - 1
                warnings.append(Problem(
                    "version-gap",
                    f"{older.id} 的 {_version(older)} 版有效期至 {older.valid_until},{_version(newer)} 版自 "
                    f"{newer.valid_from} 起施行,其间 {days} 天没有适用的版本",
                    newer.location, "这期间的评估日将被拒绝(out-of-period);如属疏漏,请调整有效期使两者相接"))
    return problems, warnings


def _overlap(older: Decision, newer: Decision) -> Problem:
    day_before = newer.valid_from - dt.timedelta(days=1)
    return Problem(
        "version-overlap",
        f"{newer.id} 的 {_version(newer)} 版({period_text(newer.valid_from, newer.valid_until)})与 "
        f"{_version(older)} 版({period_text(older.valid_from, older.valid_until)},{older.location.file})"
        "的有效期重叠:同一日期只能有一个版本有效",
        newer.location,
        f"请把 {older.location.file} 中的 valid_until 设为 {day_before}(新版本施行前一日),或推后新版本的 valid_from")


def _version(d: Decision) -> str:
    return d.pack.version if d.pack is not None else "?"


def _file(pack: Pack) -> str:
    return pack.files[0] if pack.files else pack.directory
