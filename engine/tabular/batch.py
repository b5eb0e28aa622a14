"""Batch evaluation: many rows in (CSV, XLSX, JSON Lines, YAML list), one result row out per input row, in order.

Rows stream through: memory stays constant whatever the number of rows (a YAML list is the exception: YAML
is read whole). A row whose facts are bad gets its error in its own row and the run goes on. The output is
written to a temporary file beside the target and renamed at the end, so an interrupted run leaves any earlier
output intact. With ``workers > 1`` rows are evaluated by that many processes, each compiling the pack once;
results keep the input order.

Cells of spreadsheets and CSV files are text: they are converted by the type each input declares (``true`` /
``是`` for a bool, ``2025-06-30`` or a spreadsheet date for a date, JSON for a list or a record). Nested inputs
come as dotted columns (``findings.posts_missing``) or as JSON in one cell. Columns that are not inputs of the
decision (ids, names) are carried over to the output, first.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from ..compiler.model import Decision
from ..errors import SkillcertError, UsageError
from ..runtime.result import DecisionResult
from ..values import display_value, format_decimal

__all__ = ["INPUT_FORMATS", "OUTPUT_FORMATS", "BatchSummary", "read_rows", "row_facts", "result_row",
           "evaluate_many", "run_batch"]

INPUT_FORMATS = (".csv", ".xlsx", ".jsonl", ".yaml", ".yml")
OUTPUT_FORMATS = (".csv", ".xlsx", ".jsonl")
RESULT_COLUMNS = ("outcome", "outcome_label", "score")
CHUNK = 500


# --------------------------------------------------------------------------------------------------
# Reading


def _format_of(path: Path, allowed: tuple[str, ...], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise UsageError(f"{what}文件 {path} 的格式不受支持:按扩展名识别,可用 {'、'.join(allowed)}")
    return suffix


def read_rows(path: str | Path) -> tuple[list[str] | None, Iterator[dict[str, Any]]]:
    """The header (None for JSONL/YAML) and an iterator over the rows of an input file, as raw mappings."""
    p = Path(path)
    fmt = _format_of(p, INPUT_FORMATS, "输入")
    if not p.is_file():
        raise UsageError(f"输入文件不存在:{p}")
    if fmt == ".csv":
        fh = open(p, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the generator
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            fh.close()
            return [], iter(())
        names = [h.strip() for h in header]

        def csv_rows() -> Iterator[dict[str, Any]]:
            with fh:
                for values in reader:
                    if not any(v.strip() for v in values):
                        continue
                    yield dict(zip(names, values, strict=False))
        return names, csv_rows()
    if fmt == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        sheet = wb.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            wb.close()
            return [], iter(())
        header = ["" if h is None else str(h).strip() for h in first]

        def xlsx_rows() -> Iterator[dict[str, Any]]:
            try:
                for values in rows:
                    if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                        continue
                    yield {h: v for h, v in zip(header, values, strict=False) if h}
            finally:
                wb.close()
        return [h for h in header if h], xlsx_rows()
    if fmt == ".jsonl":
        def jsonl_rows() -> Iterator[dict[str, Any]]:
            with open(p, encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        value = json.loads(line, parse_float=Decimal)
                    except json.JSONDecodeError as exc:
                        yield {"__error__": f"第 {n} 行不是有效的 JSON:{exc.msg}"}
                        continue
                    yield value if isinstance(value, dict) else {"__error__": f"第 {n} 行应是一个 JSON 对象"}
        return None, jsonl_rows()
    from ..source.loader import load_file

    doc = load_file(p)
    if not isinstance(doc.data, list):
        raise UsageError(f"{p}:YAML 输入应是一个列表,每项是一个机构的事实")
    return None, iter(item if isinstance(item, dict) else {"__error__": "这一项应是一个映射"} for item in doc.data)


# --------------------------------------------------------------------------------------------------
# Rows → facts


_TRUE = {"true", "1", "是", "yes", "y", "t", "对", "有"}
_FALSE = {"false", "0", "否", "no", "n", "f", "无", "没有"}
_INT = re.compile(r"^[+-]?\d+$")


def _coerce(spec: dict[str, Any], value: Any) -> Any:
    """A spreadsheet or CSV cell converted by the declared type; anything unclear is left for validation."""
    kind = spec.get("type")
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, float):
        value = int(value) if value.is_integer() and kind == "integer" else Decimal(repr(value))
    if not isinstance(value, str):
        return value
    text = value.strip()
    if kind == "bool":
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else value
    if kind == "integer":
        return int(text) if _INT.match(text) else value
    if kind == "decimal":
        try:
            return Decimal(text)
        except InvalidOperation:
            return value
    if kind in ("list", "record", "mapping"):
        try:
            return json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError:
            return value
    if kind == "enum":
        values = spec.get("values", {})
        if text not in values:  # a Chinese label (社会培训评价组织) stands for its code
            return next((code for code, label in values.items() if label == text), text)
        return text
    return text if kind == "date" else value


def _nested_spec(decision: Decision, path: list[str]) -> dict[str, Any] | None:
    spec: dict[str, Any] | None = decision.inputs[path[0]].spec
    for part in path[1:]:
        if spec is None or spec.get("type") != "record":
            return None
        spec = spec["fields"].get(part)
    return spec


def _column_plan(decision: Decision, key: str) -> tuple[list[str], dict[str, Any] | None] | None:
    """How a column maps to the facts: its path and declared type, or None for a carried-over column (cached).

    A column is an input by its name (``findings.posts_missing``) or by its Chinese label (``机构类型``), as staff
    spreadsheets usually head their columns.
    """
    plans: dict[str, Any] = decision.__dict__.setdefault("_column_plans", {})
    if key not in plans:
        path = key.split(".")
        if path[0] not in decision.inputs:
            by_label = {i.label: name for name, i in decision.inputs.items()}
            path = [by_label[key]] if key in by_label else path
        plans[key] = (path, _nested_spec(decision, path)) if path[0] in decision.inputs else None
    plan: tuple[list[str], dict[str, Any] | None] | None = plans[key]
    return plan


def row_facts(decision: Decision, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a raw row into the decision's facts (converted, nested) and the other columns (carried over)."""
    facts: dict[str, Any] = {}
    passthrough: dict[str, Any] = {}
    plans: dict[str, Any] = decision.__dict__.get("_column_plans", {})
    for key, value in row.items():
        if key is None:
            continue
        plan = plans[key] if key in plans else _column_plan(decision, str(key))
        if plan is None:
            passthrough[str(key)] = value
            continue
        if value is None or value == "" or (value.__class__ is str and not value.strip()):
            continue  # an empty cell: the input's default applies
        path, spec = plan
        converted = _coerce(spec, value) if spec is not None else value
        if len(path) == 1:
            facts[path[0]] = converted
            continue
        node = facts
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = converted
    return facts, passthrough


# --------------------------------------------------------------------------------------------------
# Results → output rows


def result_row(decision: Decision, passthrough: dict[str, Any], result: DecisionResult | None,
               error: str | None) -> dict[str, Any]:
    """One output row: the carried-over columns, then outcome, label, score, each deadline, reasons, error."""
    row: dict[str, Any] = dict(passthrough)
    if result is not None:
        row["outcome"] = result.outcome
        row["outcome_label"] = result.outcome_label
        row["score"] = result.score
        for name in decision.deadlines:
            row[f"deadlines.{name}"] = result.deadlines.get(name)
        row["reasons"] = [{"rule": r.rule, "outcome": r.outcome, "message": r.message} for r in result.reasons]
        row["error"] = None
    else:
        row.update({"outcome": None, "outcome_label": None, "score": None})
        for name in decision.deadlines:
            row[f"deadlines.{name}"] = None
        row["reasons"] = []
        row["error"] = error
    return row


def output_columns(decision: Decision, passthrough: list[str]) -> list[str]:
    return [*passthrough, *RESULT_COLUMNS, *(f"deadlines.{n}" for n in decision.deadlines), "reasons", "error"]


def _cell(value: Any) -> Any:
    """A value for a CSV or spreadsheet cell: exact decimals as text, dates ISO, reasons one per line."""
    if value is None or value == []:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list) and value and isinstance(value[0], dict) and "message" in value[0]:
        return "\n".join(f"[{r['outcome'] or '-'}] {r['message']}({r['rule']})" for r in value)
    if isinstance(value, (list, dict)):
        from ..values import jsonable

        return json.dumps(jsonable(value), ensure_ascii=False)
    return value


# --------------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class BatchSummary:
    rows: int = 0
    errors: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    by_group: dict[str, collections.Counter[str]] = field(default_factory=dict)


def evaluate_many(library: Any, decision_id: str, rows: Iterable[dict[str, Any]], *,
                  as_of: dt.date | None = None, allow_out_of_period: bool = False) -> Iterator[dict[str, Any]]:
    """Evaluate each raw row (facts as mappings, or spreadsheet-like rows with dotted columns) in order.

    Yields one output row per input row (see :func:`result_row`); a row with bad facts carries its error.
    The pack is compiled once; the generator holds one row at a time.
    """
    decision = library.decision(decision_id)
    from ..runtime.evaluate import check_period

    check_period(decision, as_of or dt.date.today(), allow_out_of_period)  # refuse the whole batch up front
    for row in rows:
        out = _evaluate_row(library, decision, row, as_of, allow_out_of_period)
        out.pop("__group__", None)
        yield out


GROUP_INPUT = "institution_kind"  # the XLSX summary counts outcomes by this input when the decision has it


def _evaluate_row(library: Any, decision: Decision, row: dict[str, Any], as_of: dt.date | None,
                  allow: bool) -> dict[str, Any]:
    if "__error__" in row:
        return result_row(decision, {}, None, str(row["__error__"]))
    facts, passthrough = row_facts(decision, row)
    try:
        result = library.evaluate(decision.id, facts, as_of=as_of, allow_out_of_period=allow, detail=False)
        out = result_row(decision, passthrough, result, None)
    except SkillcertError as exc:
        detail = ";".join(_problem_text(p) for p in exc.problems) if exc.problems else exc.message
        out = result_row(decision, passthrough, None, f"{exc.code}: {detail}")
    if GROUP_INPUT in decision.inputs:
        out["__group__"] = facts.get(GROUP_INPUT)
    return out


def _problem_text(problem: Any) -> str:
    return f"{problem.message}" + (f"({problem.hint})" if problem.hint else "")


# ---- worker processes: each compiles the pack once


_WORKER: dict[str, Any] = {}


def _worker_init(policies: str, decision_id: str, as_of: dt.date | None, allow: bool, years: list[Any],
                 columns: list[str], out_fmt: str) -> None:
    from ..library import load

    library = load(policies, calendar_years=years)
    _WORKER.update(library=library, decision=library.decision(decision_id), as_of=as_of, allow=allow,
                   columns=columns, out_fmt=out_fmt)


def _worker_chunk(rows: list[dict[str, Any]]) -> list[_Done]:
    w = _WORKER
    return [_finish(_evaluate_row(w["library"], w["decision"], row, w["as_of"], w["allow"]), w["columns"],
                    w["out_fmt"]) for row in rows]


# A finished row: what the writer writes (CSV cells already rendered, so workers do that work), and what the
# summary counts: (written, outcome, has error, group).
_Done = tuple[Any, Any, bool, Any]


def _finish(out: dict[str, Any], columns: list[str], out_fmt: str) -> _Done:
    group = out.pop("__group__", None)
    written: Any = [_cell(out.get(c)) for c in columns] if out_fmt == ".csv" else out
    return written, out["outcome"], bool(out["error"]), group


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _parallel(library: Any, decision_id: str, rows: Iterable[dict[str, Any]], workers: int, as_of: dt.date | None,
              allow: bool, columns: list[str], out_fmt: str) -> Iterator[_Done]:
    """Chunks of rows to a process pool, at most a few chunks per worker in flight, results in input order."""
    window: collections.deque[Future[list[_Done]]] = collections.deque()
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init,
                             initargs=(str(library.directory), decision_id, as_of, allow,
                                       list(library.extra_years), columns, out_fmt)) as pool:
        for chunk in _chunks(rows, CHUNK):
            window.append(pool.submit(_worker_chunk, chunk))
            if len(window) >= 3 * workers:
                yield from window.popleft().result()
        while window:
            yield from window.popleft().result()


# --------------------------------------------------------------------------------------------------
# Writing


class _Writer:
    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns

    def write(self, row: Any) -> None:
        raise NotImplementedError

    def close(self, summary: BatchSummary, labels: dict[str, str], group_label: str) -> None:
        raise NotImplementedError


class _CsvWriter(_Writer):
    def __init__(self, path: Path, columns: list[str]) -> None:
        super().__init__(path, columns)
        # utf-8-sig: Excel opens the file with the Chinese text intact
        self.fh: TextIO = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self.writer = csv.writer(self.fh)
        self.writer.writerow(columns)

    def write(self, row: Any) -> None:
        self.writer.writerow(row)  # cells rendered by _finish (in the worker when there are several)

    def close(self, summary: BatchSummary, labels: dict[str, str], group_label: str) -> None:
        self.fh.close()


class _JsonlWriter(_Writer):
    def __init__(self, path: Path, columns: list[str]) -> None:
        super().__init__(path, columns)
        self.fh: TextIO = open(path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, row: dict[str, Any]) -> None:
        from ..values import to_json

        self.fh.write(to_json(row, indent=None) + "\n")

    def close(self, summary: BatchSummary, labels: dict[str, str], group_label: str) -> None:
        self.fh.close()


class _XlsxWriter(_Writer):
    def __init__(self, path: Path, columns: list[str]) -> None:
        super().__init__(path, columns)
        import openpyxl

        self.wb = openpyxl.Workbook(write_only=True)
        self.sheet = self.wb.create_sheet("结果")
        self.sheet.append(columns)

    def write(self, row: dict[str, Any]) -> None:
        values = []
        for c in self.columns:
            v = row.get(c)
            if isinstance(v, Decimal):
                values.append(float(v) if c == "score" and v == v.quantize(Decimal("0.0001")) else _cell(v))
            elif isinstance(v, dt.date):
                values.append(v)
            else:
                values.append(_cell(v))
        self.sheet.append(values)

    def close(self, summary: BatchSummary, labels: dict[str, str], group_label: str) -> None:
        sheet = self.wb.create_sheet("汇总")
        sheet.append(["结论", "结论名称", "机构数"])
        for code, n in sorted(summary.outcomes.items(), key=lambda kv: -kv[1]):
            sheet.append([code, labels.get(code, ""), n])
        if summary.errors:
            sheet.append(["(错误)", "事实有误,未能评估", summary.errors])
        sheet.append(["合计", "", summary.rows])
        if summary.by_group:
            groups = sorted(summary.by_group)
            codes = sorted(summary.outcomes)
            sheet.append([])
            sheet.append([group_label, *[labels.get(c, c) for c in codes], "合计"])
            for g in groups:
                counts = summary.by_group[g]
                sheet.append([g, *[counts.get(c, 0) for c in codes], sum(counts.values())])
        self.wb.save(self.path)


_WRITERS: dict[str, Callable[[Path, list[str]], _Writer]] = {
    ".csv": _CsvWriter, ".jsonl": _JsonlWriter, ".xlsx": _XlsxWriter}


def _count_rows(path: Path) -> int | None:
    """Rows to expect, for the progress bar's time left (only computed when a terminal shows it)."""
    try:
        if path.suffix.lower() in (".csv", ".jsonl"):
            with open(path, "rb") as fh:
                n = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
            return max(n - (1 if path.suffix.lower() == ".csv" else 0), 0)
        if path.suffix.lower() == ".xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True)
            n = max((wb.worksheets[0].max_row or 1) - 1, 0)
            wb.close()
            return n
    except OSError:
        return None
    return None


def run_batch(library: Any, decision_id: str, input_path: str | Path, output_path: str | Path, *,
              as_of: dt.date | None = None, workers: int = 1, allow_out_of_period: bool = False,
              progress: bool | None = None, stderr: TextIO | None = None) -> BatchSummary:
    """Evaluate every row of ``input_path`` into ``output_path`` (format by extension); see the module doc."""
    src, dst = Path(input_path), Path(output_path)
    out_fmt = _format_of(dst, OUTPUT_FORMATS, "输出")
    if src.resolve() == dst.resolve():
        raise UsageError("输出文件不能与输入文件相同")
    if workers < 1:
        raise UsageError("--workers 至少为 1")
    decision = library.decision(decision_id)
    from ..runtime.evaluate import check_period

    check_period(decision, as_of or dt.date.today(), allow_out_of_period)
    header, rows = read_rows(src)
    if header is None:  # JSONL / YAML: the carried-over columns are those of the first row
        first = next(rows, None)
        rows = iter(()) if first is None else _prepend(first, rows)
        carried = [] if first is None else [k for k in first if _column_plan(decision, str(k)) is None
                                            and k != "__error__"]
    else:
        carried = [h for h in header if _column_plan(decision, h) is None]
    columns = output_columns(decision, carried)

    err = stderr or sys.stderr
    show = progress if progress is not None else bool(getattr(err, "isatty", lambda: False)())
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=_count_rows(src), unit="行", file=err, dynamic_ncols=True, mininterval=0.5)

    results = (_parallel(library, decision_id, rows, workers, as_of, allow_out_of_period, columns, out_fmt)
               if workers > 1 else (_finish(_evaluate_row(library, decision, row, as_of, allow_out_of_period),
                                            columns, out_fmt) for row in rows))
    group_input = GROUP_INPUT if GROUP_INPUT in decision.inputs else None
    group_labels = dict(decision.inputs[group_input].type.labels) if group_input else {}
    summary = BatchSummary()
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    writer = _WRITERS[out_fmt](tmp, columns)
    try:
        for written, outcome, failed, group in results:
            writer.write(written)
            summary.rows += 1
            if failed:
                summary.errors += 1
            else:
                summary.outcomes[outcome] += 1
                if group_input:
                    key = group_labels.get(str(group), display_value(group, empty="(未填)"))
                    summary.by_group.setdefault(key, collections.Counter())[outcome] += 1
            if bar is not None:
                bar.update(1)
        labels = {code: o.label for code, o in decision.outcomes.items()}
        writer.close(summary, labels, decision.inputs[group_input].label if group_input else "")
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(Exception):  # the original error matters, not a failure to close
            writer.close(summary, {}, "")
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    return summary


def _prepend(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest
