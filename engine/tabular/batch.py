"""Batch evaluation, the orchestration: many rows in (CSV, XLSX, JSON Lines, YAML list), one result row out per
input row, in order — :func:`run_batch` for files (``skillcert batch``). Rows in Python go through
:meth:`skillcert.library.Library.evaluate_many`, on the same row path (:mod:`skillcert.rows`).

A run checks everything that would stop it before evaluating a row: the paths (the input a readable file of a
known format, the output's folder there, the output not a folder, and the output file writable — its temporary
file is created first), the decision and its period of validity, the summary's input, and the header (see
:func:`skillcert.rows.columns.plan_columns`: a column that could mean two inputs, the same column twice … stop the
run, exit 2). It tells the caller's ``stderr`` how the file was read (encoding, sheet, a title row skipped),
which column is which input, and warns about each column that is no input and is carried over as it is; a header
in which no column is an input stops the run.

Then it streams: rows are read (:mod:`.reading`), split into facts and carried-over columns
(:mod:`skillcert.rows.columns`), evaluated (:mod:`.evaluation`, in this process or in worker processes,
:mod:`.pool`), rendered (:mod:`skillcert.rows.cells`), written (:mod:`.writers`) and counted (:mod:`.summary`).
Memory stays constant whatever the number of rows. A row that is bad in any way gets its error in its own row and
the run goes on; the output has every row or is not written at all. SIGTERM ends a run like an interrupt (exit
status 143): no temporary file and no worker process is left behind.

The names other code imports from here (``read_rows``, ``row_facts``, ``result_row``, ``output_columns``,
``INPUT_FORMATS``, ``OUTPUT_FORMATS``, ``BatchSummary``) are re-exported from the modules that own them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import itertools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from ..compiler.model import Decision
from ..documents.inputs import column_key, document_columns
from ..errors import UsageError
from ..library import Library
from ..rows.cells import output_columns, result_row
from ..rows.columns import ColumnReport, header_matches, plan_columns, row_facts
from ..rows.evaluation import checked_decision
from ..rows.limits import HEADER_SEARCH_ROWS
from . import pool
from .evaluation import Finished, RowSeen, RowTask, chunk_finisher
from .reading import (
    INPUT_FORMATS,
    CsvBlock,
    Table,
    check_input,
    count_rows,
    csv_rows_from,
    read_rows,
    read_table,
)
from .summary import BatchSummary, new_summary, summary_input
from .writers import OUTPUT_FORMATS, RENDERING, AtomicOutput, output_format

__all__ = ["INPUT_FORMATS", "OUTPUT_FORMATS", "BatchSummary", "Terminated", "check_paths", "check_header",
           "read_rows", "row_facts", "result_row", "output_columns", "run_batch"]


class Terminated(SystemExit):
    """SIGTERM arrived during a run: raised in the run's (main) thread, so that the run cleans up as after an
    interrupt. Its exit status is 143 (128 + SIGTERM)."""


def check_paths(input_path: str | Path, output_path: str | Path) -> tuple[str, str]:
    """The formats of the input and the output, once the input is a file and the output can be put where asked
    (its folder exists, it is not a folder, it is not the input); a :class:`UsageError` naming the path otherwise."""
    src, dst = Path(input_path), Path(output_path)
    out_fmt = output_format(dst)
    in_fmt = check_input(src)
    if dst.is_dir():
        raise UsageError(f"输出文件 {dst} 是一个目录,不是文件")
    folder = dst.parent
    if not folder.is_dir():
        raise UsageError(f"输出文件所在的目录 {folder} " + ("不是目录" if folder.exists() else "不存在"))
    if src.resolve() == dst.resolve():
        raise UsageError("输出文件不能与输入文件相同")
    return in_fmt, out_fmt


def run_batch(library: Library, decision_id: str, input_path: str | Path, output_path: str | Path, *,
              as_of: dt.date | None = None, workers: int = 1, allow_out_of_period: bool = False,
              progress: bool | None = None, stderr: TextIO | None = None,
              group_by: str | None = None, on_rows: Callable[[int], None] | None = None,
              on_row: RowSeen | None = None) -> BatchSummary:
    """Evaluate every row of ``input_path`` into ``output_path`` (format by extension); see the module doc.

    ``group_by`` (an input's name or Chinese label) is the input the XLSX summary counts outcomes by, instead of
    the one the pack names (``summary_by``). ``workers`` is bounded by the usable CPU cores and by the rows (one
    worker per :data:`~.pool.CHUNK` rows); ``stderr`` is told when it is reduced. A plugin that cannot reach
    worker processes is refused whenever more than one worker is asked for.

    ``on_rows`` is told how many rows are finished so far, after each chunk of rows (a progress display of the
    caller's own). ``on_row`` is handed every row of a CSV or XLSX file, evaluated in full, in order (see
    :data:`~.evaluation.RowSeen`); it runs in this process, so it needs ``workers=1``.
    """
    src, dst = Path(input_path), Path(output_path)
    _, out_fmt = check_paths(src, dst)
    if workers < 1:
        raise UsageError("--workers 至少为 1")
    if on_row is not None and workers > 1:
        raise ValueError("on_row is called in this process: workers must be 1")
    decision = checked_decision(library, decision_id, as_of, allow_out_of_period)
    group_input = summary_input(decision, group_by)
    err = stderr or sys.stderr

    def say(text: str) -> None:
        print(text, file=err)

    asked = workers
    workers = pool.worker_count(asked)
    if workers < asked:
        say(f"--workers {asked} 多于可用的 CPU 核数 {pool.usable_cores()},改用 {workers} 个进程")
    spec = library.spec() if asked > 1 else None  # a plugin that cannot reach the workers: refused now
    if workers > 1:
        pool.prestart()

    table = read_table(src, functools.partial(header_matches, decision))
    try:
        report = plan_columns(decision, table.header, source=str(src), line=table.header_row)
        for note in table.notes:
            say(note)
        check_header(decision, src, table, report, say)
        columns = output_columns(decision, report.carried_names())
        task = RowTask(decision.id, as_of, allow_out_of_period, tuple(columns), RENDERING[out_fmt], group_input,
                       keyed=table.keyed, header=None if table.keyed else tuple(table.header))
        show = progress if progress is not None else bool(getattr(err, "isatty", lambda: False)())
        with _terminate_as_exit() as termination, _output(dst, columns) as output:
            return _run(library, decision, task, table, output, spec, workers, show, src, err, say, termination,
                        on_rows, on_row)
    except Terminated:
        say(f"已终止(SIGTERM):未写出 {dst}")
        raise
    finally:
        table.close()


def _run(library: Library, decision: Decision, task: RowTask, table: Table,
         output: AtomicOutput, spec: Any, workers: int, show: bool, src: Path, err: TextIO,
         say: Callable[[str], None], termination: _Termination, on_rows: Callable[[int], None] | None = None,
         on_row: RowSeen | None = None) -> BatchSummary:
    rows: Iterator[Any] = table.rows
    chunks: Iterator[Any] = pool.chunks(rows)
    results: Iterator[Finished]
    if spec is not None and workers > 1:
        head = list(itertools.islice(rows, workers * pool.CHUNK))
        chunks = itertools.chain(pool.chunks(head), pool.chunks(rows))
        if len(head) < workers * pool.CHUNK:
            fewer = pool.worker_count(workers, len(head))
            if fewer < workers:
                say(f"只有 {len(head)} 行(每个进程至少 {pool.CHUNK} 行),改用 " +
                    (f"{fewer} 个进程" if fewer > 1 else "本进程评估"))
            workers = fewer
        elif table.blocks is not None and task.rendering != "typed":
            # the rest of a CSV file: its bytes, parsed by the workers (XLSX rows are numbered as they are sent)
            chunks = itertools.chain(pool.chunks(head), table.blocks())
    if task.rendering == "typed":
        chunks = _numbered(chunks)
    if spec is not None and workers > 1:
        results = pool.evaluate_in_pool(spec, task, chunks, workers)
    else:
        results = map(chunk_finisher(library, task, on_row), chunks)

    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=count_rows(src), unit="行", file=err, dynamic_ncols=True, mininterval=0.5)
    summary = new_summary(decision, task.group_by)
    try:
        write, count, check = output.write, summary.count, termination.check
        while True:
            unaligned = None
            for written, marks in results:
                check()
                if written.__class__ is CsvBlock:
                    unaligned = written
                    break
                write(written)
                n = 0
                for (outcome, failed, group), alike in marks:
                    count(outcome, failed, group, alike)
                    n += alike
                if bar is not None:
                    bar.update(n)
                if on_rows is not None:
                    on_rows(summary.rows)
            if unaligned is None:
                break
            # a block not cut where a record ends (a quote inside a cell that is not quoted): the rows from its
            # start are read in order, by the same number of workers
            _close(results)
            rest = pool.chunks(csv_rows_from(unaligned, list(table.header)))
            results = pool.evaluate_in_pool(spec, task, rest, workers)
        check()
        output.commit(summary, {code: o.label for code, o in decision.outcomes.items()})
    finally:
        _close(results)  # an unfinished pool: its workers are terminated
        if bar is not None:
            bar.close()
    return summary


def _numbered(chunks: Iterator[list[Any]]) -> Iterator[tuple[int, list[Any]]]:
    """Chunks of rows with the sheet row of their first (the header is row 1)."""
    at = 2
    for chunk in chunks:
        yield at, chunk
        at += len(chunk)


def _close(results: Iterator[Finished]) -> None:
    close = getattr(results, "close", None)
    if close is not None:
        close()


def check_header(decision: Decision, src: Path, table: Table, report: ColumnReport,
                  say: Callable[[str], None]) -> None:
    """Say which column is which input and warn about the others; refuse a header with problems or no input."""
    if report.problems:
        codes = {p.code for p in report.problems}
        raise UsageError(f"输入文件 {src} 的表头有 {len(report.problems)} 处问题,未评估任何一行",
                         code=codes.pop() if len(codes) == 1 else "header-invalid", problems=report.problems)
    if not table.header:
        if not table.keyed:
            say(f"{src.name}:没有任何行")
        return
    if not report.inputs:
        examples = "、".join(f"{name}({inp.label})" for name, inp in list(decision.inputs.items())[:3])
        where = (f"前 {HEADER_SEARCH_ROWS} 个非空行都不像表头;" if not table.found
                 else "第一行的键都不是输入;" if table.keyed else f"表头(第 {table.header_row} 行)")
        raise UsageError(f"输入文件 {src} 中没有一列是决定 {decision.id} 的输入:{where}"
                         f"表头应在第一行(或前 {HEADER_SEARCH_ROWS} 行内),列名用输入的名称或中文标签,如 {examples}",
                         code="no-input-columns")
    say(f"列 → 输入({len(report.inputs)} 列):{report.matched_text()}")
    documents = document_columns(decision)
    for column in report.carried:
        renamed = f",改名为 '{column.carried_as}'(与结果列同名)" if column.carried_as != str(column.key) else ""
        hint = f";{column.hint}" if column.hint else ""
        document_input = documents.get(column_key(str(column.key)))
        if document_input is not None:   # not for the rules, but no stray column either: say what it is for
            label = decision.document_inputs[document_input].label
            say(f"列 '{column.key}' 是文书输入 {document_input}({label}):评估不用,生成文书(--documents)时使用,"
                f"原样带到输出{renamed}")
            continue
        say(f"注意:列 '{column.key}' 不是决定 {decision.id} 的输入,原样带到输出{renamed}{hint}")


@contextlib.contextmanager
def _output(dst: Path, columns: list[str]) -> Iterator[AtomicOutput]:
    """The output, its temporary file created now: a path that cannot be written is said before any row."""
    try:
        output = AtomicOutput(dst, columns)
    except OSError as exc:
        reason = _OS_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))
        raise UsageError(f"无法写入输出文件 {dst}:{reason}", code="output-unwritable") from None
    with output:
        yield output


_OS_ERRORS = {errno.ENOENT: "目录不存在", errno.EISDIR: "是一个目录", errno.ENOTDIR: "路径中有一段不是目录",
              errno.EACCES: "没有权限", errno.EPERM: "没有权限", errno.EROFS: "文件系统只读",
              errno.ENOSPC: "磁盘空间不足", errno.ENAMETOOLONG: "文件名太长"}


class _Termination:
    """SIGTERM during a run. The handler only notes it, and the run stops at its next chunk (:meth:`check`, a few
    milliseconds away): an exception raised from the handler itself could land inside a finaliser or a weakref
    callback the interpreter happens to run at that moment, where Python prints "Exception ignored" with a traceback
    and drops it — the run would then go on to the end. A second SIGTERM stops at once."""

    def __init__(self) -> None:
        self.signum = 0

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.signum:  # insisted: stop wherever the run is
            raise Terminated(128 + signum)
        self.signum = signum

    def check(self) -> None:
        if self.signum:
            signum, self.signum = self.signum, 0  # raised once: cleaning up is not interrupted again
            raise Terminated(128 + signum)


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[_Termination]:
    """For the run's duration, SIGTERM ends the run: :meth:`_Termination.check` raises :class:`Terminated` in the
    main thread, so that the output's temporary file is removed and the workers are stopped."""
    termination = _Termination()
    if threading.current_thread() is not threading.main_thread():
        yield termination
        return
    try:
        previous = signal.signal(signal.SIGTERM, termination.handler)
    except (ValueError, OSError):  # signals cannot be handled here (an embedded interpreter …)
        yield termination
        return
    try:
        yield termination
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
