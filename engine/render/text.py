"""The Chinese text report of a decision result (``skillcert evaluate``'s default output).

Outcome and the reasons that decided it, other findings, the scorecard (the items that lost or earned points, or
every item with ``--explain``), deadlines, checklists, per-element verdicts, tables, reported values, warnings and,
with ``--explain``, how each derived value and deadline was computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..runtime.result import DecisionResult, ItemScore
from ..values import display_value
from .table import format_table

__all__ = ["render_text", "arrangement_text", "day_runs"]


def render_text(result: DecisionResult, explain: bool = False) -> str:
    lines: list[str] = []
    add = lines.append
    add(f"{result.title}（{result.decision}）")
    period = ""
    if result.period:
        start, end = result.period
        period = f"   有效期 {start} 至 {end}" if end else f"   自 {start} 起施行"
    add(f"评估日 {result.as_of}   政策包版本 {result.pack_version}{period}")
    add("")
    add(f"结论：{result.outcome_label}〔{result.outcome}〕")
    if result.score is not None and result.scorecard is not None:
        add(f"得分：{display_value(result.score)} / {display_value(result.scorecard['max'])}")
    add("")

    deciding = result.deciding_reasons
    others = [r for r in result.reasons if r.outcome != result.outcome]
    if deciding:
        add("依据：")
        for r in deciding:
            add(f"  · {r.message}〔{r.source}；{r.rule}〕")
    else:
        add("依据：没有规则作出结论，按政策包的默认结论处理。")
    if others:
        add("")
        add("其他发现（被优先级更高的结论覆盖，或不影响结论）：")
        for r in others:
            tag = f"[{r.outcome}] " if r.outcome else ""
            add(f"  · {tag}{r.message}〔{r.source}；{r.rule}〕")

    if result.scorecard is not None:
        add("")
        card = result.scorecard
        scope = "" if explain else "；只列出扣分和加分的项目，--explain 显示全部"
        add(f"评分明细（{card['label']}，满分 {display_value(card['max'])}{scope}）：")
        for cat in card["categories"]:
            if explain:
                _score_lines(cat, 1, lines)
            else:
                _score_summary(cat, lines)
        add(f"  合计 {display_value(card['total'])} 分")

    if result.deadlines:
        add("")
        add("期限：")
        labels = result.labels.get("deadlines", {})
        for name, value in result.deadlines.items():
            add(f"  · {labels.get(name, name)}：{display_value(value)}〔{name}〕")

    for cl in result.checklists.values():
        add("")
        add(f"{cl['label']}〔{cl['source']}〕：")
        for item in cl["items"]:
            if item["provided"] is None:
                mark = "需要" if item["required"] else "不需要"
            elif item["required"]:
                mark = "已交" if item["provided"] else "缺少"
            else:
                mark = "不需要"
            add(f"  [{mark}] {item['label']}")

    for rule_id, verdicts in result.checks.items():
        add("")
        add(f"逐项结论（{rule_id}）：")
        for v in verdicts:
            if v["passed"]:
                add(f"  [通过] {v['element']}")
            else:
                add(f"  [不通过] {v['element']}：" + "；".join(v["reasons"]))
        if not verdicts:
            add("  (无)")

    for table in result.tables.values():
        add("")
        add(f"{table['label']}〔{table['source']}〕：")
        lines.extend("  " + line for line in _table_lines(table))

    if result.reported:
        add("")
        add("其他事项：")
        for name, value in result.reported.items():
            label = result.labels.get("reported", {}).get(name, name)
            add(f"  · {label}：{_display_reported(result, name, value)}")

    if result.warnings:
        add("")
        add("警告：")
        for w in result.warnings:
            add(f"  ! {w}")

    if explain and result.explain:
        add("")
        add("计算过程：")
        for step in result.explain:
            shown = display_value(step["value"]) + (f"({step['value_label']})" if "value_label" in step else "")
            add(f"  {step['label']}〔{step['name']}〕= {shown}    ← {step['expr']}")
            if "start" in step:
                add(f"    {arrangement_text(step['start'], step['days_off'], step['make_up_days'])}")

    add("")
    add(f"政策包摘要 {result.pack_digest}")
    return "\n".join(lines) + "\n"


def _display_reported(result: DecisionResult, name: str, value: Any) -> str:
    codes = result.labels.get("codes", {}).get(name, {})
    if isinstance(value, str) and value in codes:
        return f"{codes[value]}"
    if isinstance(value, list) and codes:
        return "、".join(str(codes.get(v, v)) for v in value) if value else "(无)"
    return display_value(value)


def _table_lines(table: dict[str, Any]) -> list[str]:
    columns = table["columns"]

    def cells(row: dict[str, Any]) -> list[str]:
        return [display_value(row[c["id"]]) if row[c["id"]] is not None else "" for c in columns]

    grid = [[c["label"] for c in columns]] + [cells(row) for row in table["rows"]]
    if any(v is not None for v in table["total"].values()):
        grid.append(cells(table["total"]))
    out = format_table(grid)
    if not table["rows"]:
        out.append("(无数据)")
    return out


def _score_summary(category: ItemScore, lines: list[str]) -> None:
    """A category's subtotal, then only the items that lost (or, for bonus items, earned) points."""
    lines.append(f"  {category.label}  {display_value(category.score)} / {display_value(category.max)}")

    def visit(node: ItemScore, trail: list[str]) -> None:
        if node.items:
            for child in node.items:
                visit(child, trail + [node.label])
            return
        if not node.lines:
            return
        path = " › ".join(trail[1:] + [node.label])
        lines.append(f"    {path}  {display_value(node.score)} / {display_value(node.max)}")
        lines.extend(_line_texts(node, "        "))

    visit(category, [])


def _line_texts(item: ItemScore, pad: str) -> list[str]:
    """A leaf's deductions or awards, one per line, and a note when deductions exceed the item (扣完为止)."""
    sign = "+" if item.bonus else "−"
    out = []
    for line in item.lines:
        count = f" × {display_value(line['count'])}" if "count" in line else ""
        out.append(f"{pad}{sign}{display_value(line['points'])}  {line['label']}{count}")
    if not item.bonus and item.lines:
        deducted = sum((ln["points"] for ln in item.lines), Decimal(0))
        if deducted > item.max:
            out.append(f"{pad}（扣分 {display_value(deducted)} 超过本项满分 {display_value(item.max)}，扣完为止）")
    return out


def _score_lines(item: ItemScore, depth: int, lines: list[str]) -> None:
    """The whole scorecard, every item (for --explain)."""
    pad = "  " * depth
    head = f"{pad}{item.label}  {display_value(item.score)} / {display_value(item.max)}"
    if item.bonus and not item.items:
        head += f"  ({'+' + display_value(item.score) if item.score else '未得分'})"
    lines.append(head)
    lines.extend(_line_texts(item, pad + "    "))
    for child in item.items:
        _score_lines(child, depth + 1, lines)


def day_runs(days: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as runs of consecutive days (first, last)."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def arrangement_text(start: dt.date, days_off: Sequence[dt.date], make_up: Sequence[dt.date]) -> str:
    """How a working-day count went across the official arrangement, in Chinese: its start, the statutory days off
    (as runs: 2025-10-01 至 10-08) and the make-up working days counted."""
    def run_text(first: dt.date, last: dt.date) -> str:
        if first == last:
            return first.isoformat()
        tail = last.strftime("%m-%d") if last.year == first.year else last.isoformat()
        return f"{first.isoformat()} 至 {tail}({(last - first).days + 1} 天)"
    text = f"自 {start.isoformat()} 起计(当日不计)"
    if days_off:
        text += ";跨越法定节假日(不计入):" + "、".join(run_text(a, b) for a, b in day_runs(days_off))
    else:
        text += ";其间没有法定节假日"
    if make_up:
        text += ";调休上班日(计入):" + "、".join(d.isoformat() for d in make_up)
    return text
