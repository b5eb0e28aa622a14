"""Batch jobs of the web workspace, kept on disk: one folder per job under ``<data>/batches/<job id>/`` holding the
uploaded file (``input.csv`` or ``input.xlsx``: the name the user gave is only shown, never a path), the result
workbook (``result.xlsx``) and the job's state (``state.json``, small, replaced atomically).

A job is run by :func:`skillcert.tabular.batch.run_batch` — the conversions, the checks and the workbook with its
summary sheet of ``skillcert batch`` — in a process of its own, one job at a time (:class:`JobRunner`: a queue and
one thread that waits on the process), so that the evaluation never holds the server's interpreter: pages and API
calls of other users are answered while a large file runs. The job's process writes its progress into the state,
and logs each evaluated row (source ``batch``, ids from the row's carried-over columns and the job) in the decision
log, :attr:`~skillcert.server.settings.Settings.log_batch` events a transaction; a row with an error is not a
decision and is not logged (the first :data:`ERRORS_SHOWN` are kept in the state for the page).

The process that runs a job holds an exclusive lock on the job's ``lock`` file (where the system has ``fcntl``):
a server that starts and finds a job "running" whose lock it can take knows that no process is running it — the
job was interrupted by a stop of the server — and says so in its state; a job still "queued" is queued again.
Several server processes (``--workers``) may queue the same job: only the one whose process takes the lock runs it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import multiprocessing
import os
import queue
import secrets
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..library import LibrarySpec
    from ..runtime.result import DecisionResult

__all__ = ["JobRunner", "Job", "ERRORS_SHOWN", "INPUT_SUFFIXES", "RESULT", "new_job_id", "is_job_id",
           "read_state", "write_state"]

STATE = "state.json"
RESULT = "result.xlsx"
INPUT_SUFFIXES = (".csv", ".xlsx")   # what the upload may be (the result is always a workbook)
ERRORS_SHOWN = 100                   # rows with errors kept in the state for the page (the workbook has all)
PROGRESS_SECONDS = 0.5               # the state is rewritten at most this often while rows are evaluated
ACTIVE = ("queued", "running")
STALE_UPLOAD_SECONDS = 3600          # an upload's staging folder older than this was left by a stopped server


def new_job_id() -> str:
    return secrets.token_hex(8)


def is_job_id(text: str) -> bool:
    return len(text) == 16 and all(c in "0123456789abcdef" for c in text)


def now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def read_state(folder: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((folder / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state


def write_state(folder: Path, state: Mapping[str, Any]) -> None:
    """The state replaced whole: a reader sees the old one or the new one, never half of either."""
    temporary = folder / f".{STATE}.{os.getpid()}.{threading.get_ident()}"
    temporary.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, folder / STATE)


@contextlib.contextmanager
def job_lock(folder: Path) -> Iterator[bool]:
    """Whether this process holds the job's lock (taken without waiting) for the block; always True where the
    system has no ``fcntl`` (one server process is then assumed)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux
        yield True
        return
    with open(folder / "lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Job:
    """One job's folder and its state as last read (``None``: no such job)."""

    def __init__(self, root: Path, job_id: str) -> None:
        self.id = job_id
        self.folder = root / job_id
        self.state = read_state(self.folder) if is_job_id(job_id) else None

    @property
    def result(self) -> Path:
        return self.folder / RESULT


class JobRunner:
    """The jobs of one data folder: created from uploads, queued, run one at a time in a process of their own."""

    def __init__(self, data: Path, spec: LibrarySpec, log_url: str, log_batch: int) -> None:
        self.root = data / "batches"
        self.spec = spec
        self.log_url = log_url
        self.log_batch = log_batch
        self.queue: queue.Queue[str] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def recover(self) -> None:
        """At start: a job left running by a stopped server is marked interrupted; one still queued runs again.
        Folders left by an upload that did not finish (an hour ago: another server process may be filling one
        now) are removed."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.name.startswith(".upload-"):
                with contextlib.suppress(OSError):
                    if time.time() - folder.stat().st_mtime > STALE_UPLOAD_SECONDS:
                        shutil.rmtree(folder, ignore_errors=True)
                continue
            state = read_state(folder)
            if state is None or state.get("status") not in ACTIVE:
                continue
            if state["status"] == "queued":
                self.submit(folder.name)
                continue
            with job_lock(folder) as free:
                state = read_state(folder)
                if free and state is not None and state.get("status") == "running":
                    write_state(folder, {**state, "status": "interrupted", "finished": now_text(),
                                         "message": interrupted(state, exact=False)})

    def create(self, name: str, suffix: str, upload: Any, limit: int, decision: str, as_of: dt.date) -> str | None:
        """A new job from an upload (a binary file object), queued; None when the file is larger than ``limit``
        bytes (nothing is kept). The job's folder appears whole: it is filled under another name first."""
        self.root.mkdir(parents=True, exist_ok=True)
        job_id = new_job_id()
        staging = self.root / f".upload-{job_id}"
        staging.mkdir()
        try:
            size = 0
            with open(staging / f"input{suffix}", "wb") as out:
                while chunk := upload.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        shutil.rmtree(staging)
                        return None
                    out.write(chunk)
            write_state(staging, {"id": job_id, "decision": decision, "as_of": as_of.isoformat(), "name": name,
                                  "suffix": suffix, "size": size, "status": "queued", "created": now_text(),
                                  "started": None, "finished": None, "rows_total": None, "rows_done": 0,
                                  "outcomes": {}, "errors": 0, "logged": 0, "error_rows": [], "notes": [],
                                  "message": None})
            os.replace(staging, self.root / job_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.submit(job_id)
        return job_id

    def jobs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest jobs' states, newest first."""
        if not self.root.is_dir():
            return []
        states = [s for f in self.root.iterdir() if is_job_id(f.name) and (s := read_state(f)) is not None]
        return sorted(states, key=lambda s: s.get("created") or "", reverse=True)[:limit]

    def submit(self, job_id: str) -> None:
        self.queue.put(job_id)
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._serve, name="skillcert-batches", daemon=True)
                self.thread.start()

    def _serve(self) -> None:
        from ..tabular.pool import START_METHOD

        context: Any = multiprocessing.get_context(START_METHOD)  # typed as BaseContext, which names no Process
        while True:
            job_id = self.queue.get()
            folder = self.root / job_id
            try:
                process = context.Process(target=run_job, name=f"skillcert-batch-{job_id}", daemon=True,
                                          args=(self.spec, self.log_url, str(folder), self.log_batch))
                process.start()
                process.join()
                failure = f"评估进程意外退出(退出码 {process.exitcode}),未写出结果" if process.exitcode else ""
            except Exception as exc:  # the process could not start: this job fails, the next ones are tried
                failure = f"无法启动评估进程({type(exc).__name__}),未写出结果"
            if failure:
                with job_lock(folder) as free:
                    state = read_state(folder)
                    if free and state is not None and state.get("status") in ACTIVE:
                        write_state(folder, {**state, "status": "failed", "finished": now_text(),
                                             "message": failure})


def interrupted(state: Mapping[str, Any], exact: bool = True) -> str:
    """What the page says of a job the server's stop cut short; ``exact``: said by the job's own process (else the
    count is the one last written with the progress, and more may have been logged since)."""
    logged = f"{state.get('logged', 0)} 行" if exact else f"至少 {state.get('logged', 0)} 行"
    return (f"服务器在评估过程中停止,本任务未完成,未写出结果工作簿;此前评估的行已记入决定日志({logged},"
            f"可按任务编号 {state.get('id', '')} 查找)。如需结果,请重新上传")


def run_job(spec: LibrarySpec, log_url: str, folder_text: str, log_batch: int) -> None:
    """The job in ``folder_text``, run in this (its own) process, once: nothing when another process holds it or
    it is no longer queued."""
    folder = Path(folder_text)
    with job_lock(folder) as mine:
        state = read_state(folder)
        if not mine or state is None or state.get("status") != "queued":
            return
        state.update(status="running", started=now_text(), pid=os.getpid())
        write_state(folder, state)
        _run(folder, state, spec, log_url, log_batch)


def _run(folder: Path, state: dict[str, Any], spec: LibrarySpec, log_url: str, log_batch: int) -> None:
    import sqlalchemy as sa

    from ..audit import new_event
    from ..audit.store import LogStore
    from ..errors import SkillcertError
    from ..library import Library
    from ..tabular.batch import run_batch
    from ..tabular.reading import count_rows

    source = folder / f"input{state['suffix']}"
    state["rows_total"] = count_rows(source)
    job_id, as_of = state["id"], dt.date.fromisoformat(state["as_of"])
    notes = io.StringIO()
    pending: list[Any] = []
    seen = {"rows": 0, "at": time.monotonic()}

    def flush() -> None:
        if pending:
            store.append(pending)
            state["logged"] += len(pending)
            pending.clear()

    def on_row(carried: Mapping[str, Any], facts: Mapping[str, Any] | None, result: DecisionResult | None,
               error: str | None) -> None:
        seen["rows"] += 1
        ids = {str(k): str(v) for k, v in carried.items() if v is not None and str(v).strip()}
        if result is None or facts is None:
            if len(state["error_rows"]) < ERRORS_SHOWN:
                state["error_rows"].append({"row": seen["rows"] + 1, "ids": ids, "message": error})
            return
        pending.append(new_event(decision=state["decision"], as_of=as_of, source="batch",
                                 pack_version=result.pack_version, pack_digest=result.pack_digest,
                                 outcome=result.outcome, score=result.score, facts=facts,
                                 result=result.to_json(None),  # no caller reads it as sent: compact, 3× faster
                                 ids={**ids, "batch_job": job_id}))
        if len(pending) >= log_batch:
            flush()

    def on_rows(done: int) -> None:
        state["rows_done"] = done
        if time.monotonic() - seen["at"] >= PROGRESS_SECONDS:
            seen["at"] = time.monotonic()
            write_state(folder, state)

    store = LogStore(log_url)
    try:
        library = Library.from_spec(spec)
        state["started"] = now_text()  # rows a second count from here, not from the packs' loading
        summary = run_batch(library, state["decision"], source, folder / RESULT, as_of=as_of, progress=False,
                            stderr=notes, on_rows=on_rows, on_row=on_row)
        flush()
        state.update(status="done", rows_done=summary.rows, rows_total=summary.rows, errors=summary.errors,
                     outcomes=dict(summary.outcomes.most_common()))
    except SkillcertError as exc:
        flush()
        lines = [f"{exc.code}: {exc.message}", *(str(p) for p in exc.problems)]
        state.update(status="failed", message="\n".join(_shown(line, source, state["name"]) for line in lines))
    except (KeyboardInterrupt, SystemExit):  # the server is stopping (SIGINT, SIGTERM): nothing was written
        state.update(status="interrupted", message=interrupted(state))
        raise
    except sa.exc.SQLAlchemyError as exc:  # the log's database refused: the job stops rather than go on unlogged
        state.update(status="failed", message=f"决定日志无法写入({type(exc).__name__}),任务停止,未写出结果;"
                                              f"已评估的 {state['logged']} 行已记入决定日志")
    except Exception as exc:  # the job fails, the server goes on; said without a traceback
        with contextlib.suppress(Exception):
            flush()
        state.update(status="failed", message=f"内部错误({type(exc).__name__}),未写出结果。这是 skillcert 的缺陷,请报告")
    finally:
        store.close()
        state["notes"] = [_shown(line, source, state["name"]) for line in notes.getvalue().splitlines()]
        state["finished"] = now_text()
        write_state(folder, state)


def _shown(text: str, source: Path, name: str) -> str:
    """A message of the run as the user knows the file: by the name they gave, not where the server keeps it."""
    return text.replace(str(source), name).replace(source.name, name)
