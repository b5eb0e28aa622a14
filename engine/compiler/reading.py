"""Stages 1 and 2: read the pack file (``pack.yaml``, or another version's ``pack-<version>.yaml``) safely with
line marks, then check its shape against the JSON Schema."""

from __future__ import annotations

from ..errors import Location, SkillcertError
from ..source.loader import load_file
from ..source.schema import PACK_SCHEMA, check_document
from .compilation import Compilation

__all__ = ["stage_load", "stage_schema"]


def stage_load(c: Compilation) -> None:
    try:
        c.doc = load_file(c.path, c.display)
    except SkillcertError as exc:
        c.problems.add(exc.code, exc.message, exc.location)
        c.stopped = True
        return
    if not isinstance(c.doc.data, dict):
        c.problems.add("schema", "政策包文件应是一个映射(键: 值)", Location(c.display, 1, 1))
        c.stopped = True


def stage_schema(c: Compilation) -> None:
    """Later stages need a valid shape; with schema problems they still run, skipping the broken parts."""
    assert c.doc is not None
    found = check_document(c.doc, PACK_SCHEMA, use_cache=c.use_cache)
    c.problems.extend(found)
    c.shape_broken = bool(found)
