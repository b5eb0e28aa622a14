"""The workspace's batch page: a CSV or XLSX file uploaded, evaluated in the background like ``skillcert batch``,
its progress followed, its result workbook downloaded. The jobs themselves (on disk, run one at a time in a process
of their own, each row logged) are :mod:`.batch_jobs`'.

- ``GET  /batch``: 批量评估 — the form (decision, as-of date, file) and the newest jobs;
- ``POST /batch``: the upload (``multipart/form-data``), refused on the form with its reason (not a CSV or XLSX
  file, larger than ``--max-upload``, no decision, a date outside the decision's period): nothing is kept; else a
  job is queued and the browser sent to its page;
- ``GET  /batch/{job}``: the job, its state polled by htmx from ``…/status`` every second while it runs (rows done
  of the total, rows a second, time taken), then the outcome counts, the rows with errors, the download;
- ``GET  /batch/{job}/result.xlsx``: the result workbook, with its summary sheet.

The routes hang on the pages' router, so they take its token rules (a read-only token may look, not upload) and
its forms' protection against cross-site requests; everything is read from the job's folder, so a page reloaded,
or asked of a restarted server, shows the job as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..errors import OutOfPeriodError, SkillcertError
from ..rows.evaluation import checked_decision
from .batch_jobs import ACTIVE, INPUT_SUFFIXES, Job, JobRunner

if TYPE_CHECKING:
    from ..audit.store import LogStore
    from ..library import Library

__all__ = ["mount_batches", "STATUS_LABELS"]

Page = Callable[[Request, str, dict[str, Any], int], Response]
CheckedForm = Callable[[Request], Awaitable[dict[str, str] | None]]

STATUS_LABELS = {"queued": "排队等候", "running": "正在评估", "done": "已完成", "failed": "未能完成",
                 "interrupted": "已中断"}
FORM_MARGIN = 64 << 10   # the upload form around its file: fields and boundaries
DRAINED = 4              # a refused upload is read (and dropped) up to this many times the limit, so that the
                         # browser, still sending, gets the page that says why


def mount_batches(app: FastAPI, router: APIRouter, page: Page, checked_form: CheckedForm, library: Library,
                  store: LogStore) -> None:
    """Add the batch pages to the pages' ``router`` (before it is included in ``app``); jobs left by a previous
    run of the server on the same data folder are taken up (:meth:`JobRunner.recover`)."""
    settings = app.state.settings
    runner: JobRunner | None = None
    unavailable = "未设置数据目录(--data),批量评估不可用"
    if settings.data is not None:
        try:
            spec = library.spec()
        except SkillcertError as exc:
            unavailable = f"载入的插件无法在评估进程中使用,批量评估不可用:{exc.message}"
        else:
            runner = JobRunner(Path(settings.data), spec, store.url, settings.log_batch)
            runner.recover()
    app.state.batches = runner
    limit: int = settings.max_upload

    def choices() -> list[tuple[str, str]]:
        ids = dict.fromkeys(info.id for info in library.decisions())  # once, whatever its versions
        return [(decision_id, library.decision(decision_id).title) for decision_id in ids]

    def form_page(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
        jobs = runner.jobs() if runner is not None else []
        return page(request, "batch.html", {"choices": choices(), "values": values, "errors": errors, "jobs": jobs,
                                            "unavailable": None if runner else unavailable, "limit": _size(limit),
                                            "labels": STATUS_LABELS}, status)

    @router.get("/batch", response_class=HTMLResponse)
    async def batch_form(request: Request) -> Response:
        first = next((code for code, _ in choices()), "")
        return form_page(request, {"decision": first, "as_of": dt.date.today().isoformat()}, {})

    @router.post("/batch")
    async def batch_upload(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > limit + FORM_MARGIN:
            await _drain(request, DRAINED * limit)
            message = (f"文件超过上限 {_size(limit)},未保存;请拆分后分批上传" if declared.isdigit()
                       else "上传的请求须注明大小(Content-Length),未保存")
            return form_page(request, {"as_of": dt.date.today().isoformat()}, {"file": message}, 413)
        form = await checked_form(request)
        if form is None:
            return page(request, "problem.html",
                        {"message": "表单已失效或来自其他网站(缺少防伪令牌),请刷新页面后重新提交"}, 403)
        upload = (await request.form()).get("file")
        values = {"decision": form.get("decision", ""), "as_of": form.get("as_of", "").strip()}
        errors = _refusals(library, values, upload)
        if runner is None:
            errors["file"] = unavailable
        if errors or runner is None or not isinstance(upload, UploadFile):
            return form_page(request, values, errors, 422)
        name = _display_name(upload.filename or "")
        job_id = await run_in_threadpool(runner.create, name, Path(name).suffix.lower(), upload.file, limit,
                                         values["decision"], dt.date.fromisoformat(values["as_of"]))
        if job_id is None:
            return form_page(request, values, {"file": f"文件超过上限 {_size(limit)},未保存;请拆分后分批上传"},
                             413)
        return RedirectResponse(f"/batch/{job_id}", status_code=303)

    def job_of(job_id: str) -> Job | None:
        if runner is None:
            return None
        job = Job(runner.root, job_id)
        return job if job.state is not None else None

    def view(job: Job) -> dict[str, Any]:
        assert job.state is not None
        try:
            outcomes = library.decision(job.state["decision"]).outcomes
        except SkillcertError:
            outcomes = {}
        labels = {code: o.label for code, o in outcomes.items()}
        return {"job": job.state, "labels": STATUS_LABELS, "active": job.state["status"] in ACTIVE,
                "outcome_labels": labels, **_pace(job.state)}

    def job_page(request: Request, job_id: str, template: str) -> Response:
        job = job_of(job_id)
        if job is None:
            return page(request, "problem.html", {"message": f"没有这个批量评估任务:{job_id}"}, 404)
        return page(request, template, view(job), 200)

    @router.get("/batch/{job_id}", response_class=HTMLResponse)
    async def batch_job(request: Request, job_id: str) -> Response:
        return job_page(request, job_id, "batch_job.html")

    @router.get("/batch/{job_id}/status", response_class=HTMLResponse)
    async def batch_status(request: Request, job_id: str) -> Response:  # the fragment htmx polls
        return job_page(request, job_id, "batch_status.html")

    @router.get("/batch/{job_id}/result.xlsx")
    async def batch_result(request: Request, job_id: str) -> Response:
        job = job_of(job_id)
        if job is None or job.state is None or job.state["status"] != "done" or not job.result.is_file():
            return page(request, "problem.html", {"message": f"任务 {job_id} 没有可下载的结果工作簿"}, 404)
        stem = Path(job.state["name"]).stem or "batch"
        return FileResponse(job.result, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": "attachment; filename=\"result.xlsx\"; "
                                                            f"filename*=UTF-8''{quote(stem + '-评估结果.xlsx')}"})


def _refusals(library: Library, values: dict[str, str], upload: Any) -> dict[str, str]:
    """Why the form cannot start a job, by field: the decision, the as-of date and its period, the file's kind."""
    errors: dict[str, str] = {}
    try:
        as_of: dt.date | None = dt.date.fromisoformat(values["as_of"])
    except ValueError:
        errors["as_of"] = f"评估日应写作 YYYY-MM-DD,收到 '{values['as_of']}'"
        as_of = None
    try:  # as the run itself checks it: of the decision's versions, the one in force on the date
        checked_decision(library, values["decision"], as_of, False)
    except OutOfPeriodError as exc:
        if as_of is not None:
            errors["as_of"] = exc.message
    except SkillcertError:
        errors["decision"] = f"没有这个决定:{values['decision'] or '(未选择)'}"
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = "请选择要上传的文件(CSV 或 XLSX)"
    elif Path(_display_name(upload.filename)).suffix.lower() not in INPUT_SUFFIXES:
        errors["file"] = (f"只能上传 CSV(.csv)或 XLSX(.xlsx)文件,收到 '{_display_name(upload.filename)}';"
                          "旧版 .xls 请在表格软件中另存为 XLSX 或 UTF-8 CSV")
    return errors


def _display_name(filename: str) -> str:
    """The file's own name as the browser gave it, for showing only (some browsers send the whole path)."""
    return PureWindowsPath(filename).name.strip()[:200] or "upload"


def _size(size: int) -> str:
    """A limit as people read it: MiB (as --max-upload gives it), or bytes below one."""
    if size < 1 << 20:
        return f"{size} 字节"
    return f"{(Decimal(size) / (1 << 20)).quantize(Decimal('0.1'), ROUND_HALF_UP):f}".removesuffix(".0") + " MiB"


def _pace(state: dict[str, Any]) -> dict[str, Any]:
    """Seconds taken so far (or in all), rows a second, and the share done, for the status."""
    if not state.get("started"):
        return {"elapsed": None, "rate": None, "percent": None}
    start = dt.datetime.fromisoformat(state["started"])
    end = dt.datetime.fromisoformat(state["finished"]) if state.get("finished") else dt.datetime.now(dt.UTC)
    seconds = max((end - start).total_seconds(), 0.0)  # a duration shown, not a score: binary floats will do
    done, total = state.get("rows_done") or 0, state.get("rows_total")
    return {"elapsed": f"{seconds:.1f}", "rate": int(done / seconds) if seconds >= 0.05 else None,
            "percent": min(100, done * 100 // total) if total else None}


async def _drain(request: Request, most: int) -> None:
    """Read what the browser still sends (dropping it) so that it gets the answer, up to ``most`` bytes."""
    read = 0
    try:
        async for chunk in request.stream():
            read += len(chunk)
            if read > most:
                return
    except Exception:  # the client went away, or the stream was already read: nothing more to drop
        return
