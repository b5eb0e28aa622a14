"""Output formats: a name and a renderer from a decision result to text or to bytes.

Text formats (the Chinese report, JSON) return ``str``; a format for documents (a Word file, a PDF) returns
``bytes`` and says so with ``binary=True``. :meth:`OutputFormat.to_bytes` gives bytes either way (text as UTF-8),
so a caller that writes a file or an HTTP response treats every format alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..runtime.result import DecisionResult

__all__ = ["OutputFormat"]


@dataclass(frozen=True)
class OutputFormat:
    name: str
    description: str
    render: Callable[[DecisionResult, bool], str | bytes]   # (result, explain) -> text, or bytes when binary
    media_type: str = "text/plain; charset=utf-8"
    suffix: str = ".txt"
    binary: bool = False

    def to_bytes(self, result: DecisionResult, explain: bool = False) -> bytes:
        out = self.render(result, explain)
        return out.encode("utf-8") if isinstance(out, str) else bytes(out)

    def to_text(self, result: DecisionResult, explain: bool = False) -> str:
        """The rendering as text; a binary format has none (write :meth:`to_bytes` to a file instead)."""
        out = self.render(result, explain)
        if isinstance(out, str):
            return out
        raise TypeError(f"output format {self.name!r} is binary")
