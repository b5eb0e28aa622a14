"""Computed tables in the result: one row per element of a list, columns by expression, and a total row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..compiler.model import Table
from ..errors import EvaluationError
from ..lang.expr import CompiledExpr, OutOfRange, UnknownValue, check_number, describe_value, is_number
from .context import Context, list_of

__all__ = ["compute_table"]


def compute_table(ctx: Context, table: Table) -> dict[str, Any]:
    """Rows by column expressions (later columns may use earlier ones), and the total row."""
    assert table.rows is not None
    rows: list[dict[str, Any]] = []
    try:
        for element in list_of(ctx, table.rows):
            with ctx.with_frame({table.as_name: element}) as frame:
                row = {}
                for col in table.columns:
                    value = ctx.run(col.expr) if col.expr is not None else None
                    frame[col.id] = value
                    if isinstance(value, UnknownValue):  # a date known only by bounds: empty, with why
                        ctx.warnings.append(f"表格 {table.label} 的 {col.label} 无法计算:{value.error.message}")
                        value = None
                    row[col.id] = value
                rows.append(row)
        with ctx.with_frame({}) as total:
            for col in table.columns:
                if col.total == "sum":  # empty cells are skipped; a sum over no rows is 0
                    present = [r[col.id] for r in rows if r[col.id] is not None]
                    for v in present:
                        if not is_number(v):
                            raise EvaluationError(f"列 {col.label} 的合计(sum)需要数值,其中有 {describe_value(v)}",
                                                  code="expression-failed")
                    summed = check_number(sum(present, Decimal(0)))
                    total[col.id] = int(summed) if all(isinstance(v, int) for v in present) else summed
                elif isinstance(col.total, CompiledExpr):
                    value = ctx.run(col.total)
                    if isinstance(value, UnknownValue):
                        ctx.warnings.append(f"表格 {table.label} 的 {col.label} 合计无法计算:{value.error.message}")
                        value = None
                    total[col.id] = value
                else:
                    total[col.id] = None
    except OutOfRange as exc:  # the sum of the column
        raise EvaluationError(f"表格 {table.name}({table.label}):{exc.message}", code=exc.code,
                              location=table.location) from None
    except EvaluationError as exc:
        raise type(exc)(f"表格 {table.name}({table.label}):{exc.message}", code=exc.code,
                        location=table.location) from None
    return {"label": table.label, "source": table.source,
            "columns": [{"id": c.id, "label": c.label} for c in table.columns], "rows": rows, "total": dict(total)}
