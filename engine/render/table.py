"""Plain-text tables for terminals: columns padded by display width (CJK characters count double)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["format_table", "display_width"]


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(grid: Sequence[Sequence[str]], *, rule: bool = True) -> list[str]:
    """Plain-text table lines, columns padded by display width (CJK characters count double); the first row
    is the header, followed by a line of dashes when ``rule``."""
    widths = [max(display_width(r[i]) for r in grid) for i in range(len(grid[0]))]
    out = []
    for n, r in enumerate(grid):
        out.append("  ".join(cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(r)).rstrip())
        if n == 0 and rule:
            out.append("  ".join("-" * w for w in widths))
    return out
