"""The FastAPI application: ``/api/v1`` over one library of packs and one decision log.

Routes (OpenAPI at ``/openapi.json``; no Swagger page, which would load its scripts from a CDN):

- ``GET  /api/v1/decisions``: every decision of the loaded packs, with its period of validity;
- ``GET  /api/v1/decisions/{region}/{name}``: one of them; ``…/schema``: its inputs as JSON Schema;
- ``POST /api/v1/decisions/{region}/{name}/evaluate``: ``{"facts": {…}, "as_of": "YYYY-MM-DD"}`` → exactly the
  contract's JSON result (``DecisionResult.to_json()``), logged;
- ``POST /api/v1/decisions/{region}/{name}/evaluate-many?as_of=…``: JSON Lines of facts in, JSON Lines out, streamed
  (``{"line": n, "result": {…}}`` or ``{"line": n, "error": {…}}``: a bad line is answered on its line and the
  others go on), logged in batches;
- ``GET  /api/v1/log`` (``decision``, ``outcome``, ``since``, ``until``, ``q``, ``limit``, ``offset``), newest first;
  ``GET /api/v1/log/{id}``: one event; ``POST /api/v1/log/{id}/rerun``: its facts evaluated again with the current
  pack ("does today's pack still say the same?"), not logged.

Evaluation is CPU-bound and runs in Starlette's thread pool, never on the event loop. Bodies are read as bytes and
parsed here (numbers as exact decimals) so that every malformed body is our ``body-invalid``, not a framework error.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..audit import EventV1, new_event
from ..audit.rerun import logged_result
from ..audit.rerun import rerun as rerun_event
from ..errors import SkillcertError, UsageError
from ..runtime.evaluate import check_period
from ..values import jsonable, to_json
from .guard import Guard
from .inputs import inputs_schema
from .problems import error_body, error_of, status_of
from .settings import Settings, is_loopback

if TYPE_CHECKING:
    from ..audit.store import LogStore
    from ..compiler.model import Decision
    from ..library import Library

__all__ = ["create_app", "ApiError"]

API = "/api/v1"
JSON_LINES = "application/x-ndjson"
LINES_PER_STEP = 32  # lines of an evaluate-many body evaluated per trip to the thread pool


class ApiError(Exception):
    """A refusal of the request itself (not of the facts): a code, a message, the HTTP status from the code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _json(data: Any, status: int = 200) -> Response:
    return Response(to_json(data, None), status_code=status, media_type="application/json")


def _date(text: Any, what: str, code: str = "body-invalid") -> dt.date:
    """A date of the body (``body-invalid`` when it is not one) or of the query (``request-invalid``)."""
    if not isinstance(text, str):
        raise ApiError(code, f"{what} 应是日期文本 YYYY-MM-DD,收到 {json.dumps(jsonable(text), ensure_ascii=False)}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ApiError(code, f"{what} 应写作 YYYY-MM-DD,收到 '{text}'") from None


def _parse(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError("body-invalid", f"{what}不是有效的 JSON(UTF-8):{exc}") from None
    except RecursionError:
        raise ApiError("body-invalid", f"{what}嵌套过深") from None


def create_app(library: Library, store: LogStore, settings: Settings | None = None) -> FastAPI:
    """The application serving ``library``'s decisions and logging every evaluation in ``store``.

    Bound to anything but this machine (``settings.host``), a token is required: refused otherwise.
    """
    settings = settings or Settings()
    if not settings.credentials() and not is_loopback(settings.host):
        raise UsageError(f"监听 {settings.host} 时其他机器也能访问,必须用 --token 或 --tokens 设置访问令牌"
                         "(只在本机使用时请监听 127.0.0.1)")
    if settings.token is not None and not settings.token.strip():
        raise UsageError("访问令牌不能为空")

    packs: dict[str, tuple[str, str]] = {}
    broken: dict[str, SkillcertError] = {}
    for region in library.regions():  # compile every pack now: the first request should not pay for it
        try:
            pack = library.pack(region)
            packs[region] = (pack.version, pack.digest)
        except SkillcertError as exc:
            broken[region] = exc
    all_packs = (", ".join(f"{r}={v}" for r, (v, _) in packs.items()),
                 ", ".join(f"{r}={d}" for r, (_, d) in packs.items()))

    app = FastAPI(title="skillcert", version=_version(), docs_url=None, redoc_url=None,
                  description="skillcert 的 HTTP 接口:列出决定、取输入的 JSON Schema、评估个案(单个或 JSON Lines 批量)、"
                              "查阅决定日志。出错时返回 {code, message, problems},code 与命令行相同。")
    app.state.library = library
    app.state.store = store
    app.state.settings = settings

    def decision_of(request: Request, region: str, name: str, as_of: dt.date | None = None,
                    allow: bool = True) -> Decision:
        if region in broken:
            raise broken[region]
        try:  # of the decision's versions, the one in force at as_of (a pack folder may hold several)
            decision = library.decision(f"{region}/{name}", as_of=as_of, allow_out_of_period=allow)
        except UsageError as exc:
            raise SkillcertError(exc.message, code="unknown-decision") from None
        pack = decision.pack
        request.scope["skillcert"]["pack"] = (pack.version, pack.digest) if pack is not None else packs[region]
        request.scope["skillcert"]["decision"] = decision  # errors name the inputs' labels
        return decision

    @app.exception_handler(SkillcertError)
    async def _skillcert_error(request: Request, exc: SkillcertError) -> Response:
        decision = request.scope.get("skillcert", {}).get("decision")
        return _json(error_of(exc, decision), status_of(exc.code))

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return _json(error_body(exc.code, exc.message), status_of(exc.code))

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()]
        return _json(error_body("request-invalid", "请求参数有误:" + ";".join(problems)), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "request-invalid")
        message = {404: f"没有这个地址:{request.url.path}", 405: f"{request.url.path} 不接受 {request.method} 请求"}
        return _json(error_body(code, message.get(exc.status_code, str(exc.detail))), exc.status_code)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        return _json(error_body("internal-error", f"内部错误({type(exc).__name__})。这是 skillcert 的缺陷,请报告请求内容"),
                     500)

    @app.get(f"{API}/decisions", summary="列出可评估的决定")
    async def list_decisions() -> Response:
        today = dt.date.today()
        out = []
        for region in packs:
            for pack, d in ((p, d) for p in library.versions(region) for d in p.decisions.values()):
                out.append({"id": d.id, "title": d.title, "pack_title": pack.title, "jurisdiction": pack.jurisdiction,
                            "issuer": pack.issuer, "version": pack.version, "digest": pack.digest,
                            "valid_from": d.valid_from, "valid_until": d.valid_until,
                            "in_period": d.valid_from <= today and (d.valid_until is None or today <= d.valid_until)})
        return _json({"decisions": out, "broken": [error_of(exc) | {"region": r} for r, exc in broken.items()]})

    @app.get(f"{API}/decisions/{{region}}/{{name}}", summary="一个决定")
    async def get_decision(request: Request, region: str, name: str) -> Response:
        d = decision_of(request, region, name)
        inputs = [{"name": i.name, "label": i.label, "required": i.required, "source": i.source}
                  for i in d.inputs.values()]
        return _json({"id": d.id, "title": d.title, "valid_from": d.valid_from, "valid_until": d.valid_until,
                      "inputs": inputs, "document_inputs": [{"name": n, "label": i.label}
                                                            for n, i in d.document_inputs.items()]})

    @app.get(f"{API}/decisions/{{region}}/{{name}}/schema", summary="决定的输入(JSON Schema)")
    async def get_schema(request: Request, region: str, name: str) -> Response:
        d = decision_of(request, region, name)
        return _json(await run_in_threadpool(inputs_schema, d))

    def evaluate(d: Decision, facts: Any, as_of: dt.date, allow: bool, ids: Mapping[str, str],
                 source: str, indent: int | None = 2) -> tuple[str, EventV1]:
        """The result's JSON text (``to_json()``: the contract's) and the event that logs it."""
        result = library.evaluate(d.id, facts, as_of=as_of, allow_out_of_period=allow)
        text = result.to_json(indent)
        given = {k: str(v) for k, v in facts.items() if k in d.document_inputs and v is not None}
        event = new_event(decision=d.id, as_of=as_of, source=source, pack_version=result.pack_version,
                          pack_digest=result.pack_digest, outcome=result.outcome, score=result.score,
                          facts=facts, result=text, ids={**given, **ids})
        return text, event

    def log(events: list[EventV1]) -> None:
        try:
            store.append(events)
        except Exception as exc:  # the database's own error: the caller must know the decision was not kept
            raise ApiError("log-unavailable", f"决定日志无法写入({type(exc).__name__}),结果未返回") from None

    @app.post(f"{API}/decisions/{{region}}/{{name}}/evaluate", summary="评估一个个案",
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                  "type": "object", "required": ["facts"], "additionalProperties": False, "properties": {
                      "facts": {"type": "object", "description": "事实:见 …/schema"},
                      "as_of": {"type": "string", "format": "date", "description": "评估日,默认今天"},
                      "allow_out_of_period": {"type": "boolean", "default": False},
                      "ids": {"type": "object", "additionalProperties": {"type": "string"},
                              "description": "供在日志中查找的标识(名称、编号),不参与评估"}}}}}}})
    async def evaluate_one(request: Request, region: str, name: str) -> Response:
        d = decision_of(request, region, name)
        raw = await _read(request)
        body = _parse(raw, "请求体")
        if not isinstance(body, dict):
            raise ApiError("body-invalid", '请求体应是一个对象:{"facts": {…}, "as_of": "YYYY-MM-DD"}')
        unknown = sorted(set(body) - {"facts", "as_of", "allow_out_of_period", "ids"})
        if unknown:
            raise ApiError("body-invalid", f"请求体中有未知的键:{'、'.join(unknown)}(可用:facts、as_of、"
                                           "allow_out_of_period、ids)")
        if "facts" not in body:
            raise ApiError("body-invalid", '请求体缺少 "facts"')
        facts = body["facts"]
        if not isinstance(facts, dict):
            raise ApiError("body-invalid", '"facts" 应是一个对象:键是输入名,值是输入值')
        as_of = _date(body["as_of"], "as_of") if body.get("as_of") is not None else dt.date.today()
        allow = body.get("allow_out_of_period", False)
        if not isinstance(allow, bool):
            raise ApiError("body-invalid", '"allow_out_of_period" 应是 true 或 false')
        ids = body.get("ids") or {}
        if not isinstance(ids, dict) or not all(isinstance(v, str) for v in ids.values()):
            raise ApiError("body-invalid", '"ids" 应是一个对象,值都是文本')
        d = decision_of(request, region, name, as_of)  # the version in force then

        def work() -> str:
            text, event = evaluate(d, facts, as_of, allow, ids, "api")
            log([event])
            return text
        return Response(await run_in_threadpool(work), media_type="application/json")

    @app.post(f"{API}/decisions/{{region}}/{{name}}/evaluate-many", summary="评估多个个案(JSON Lines)",
              openapi_extra={"requestBody": {"required": True, "content": {JSON_LINES: {"schema": {
                  "type": "string", "description": "每行一个 JSON 对象:一个个案的事实"}}}}})
    async def evaluate_many(request: Request, region: str, name: str, as_of: str | None = None,
                            allow_out_of_period: bool = False) -> Response:
        decision_of(request, region, name)
        day = _date(as_of, "as_of 参数", "request-invalid") if as_of is not None else dt.date.today()
        d = decision_of(request, region, name, day, allow_out_of_period)  # the version in force then
        check_period(d, day, allow_out_of_period)  # refused at once, before any line

        def one(number: int, line: bytes) -> tuple[str, EventV1 | None]:
            try:
                facts = _parse(line, f"第 {number} 行")
                if not isinstance(facts, dict):
                    raise ApiError("body-invalid", f"第 {number} 行应是一个对象:一个个案的事实")
                text, event = evaluate(d, facts, day, allow_out_of_period, {}, "api", None)
            except SkillcertError as exc:
                return _line(number, "error", to_json(error_of(exc, d), None)), None
            except ApiError as exc:
                return _line(number, "error", to_json(error_body(exc.code, exc.message), None)), None
            return _line(number, "result", text), event

        # The body is read whole (up to its limit) before answering: once a streamed response has started,
        # Starlette listens on the same channel for the client going away, and would take the body's chunks.
        body = await _read(request)

        def some(group: list[tuple[int, bytes]]) -> tuple[bytes, list[EventV1]]:
            answers, events = [], []
            for number, raw in group:
                out, event = one(number, raw)
                answers.append(out)
                if event is not None:
                    events.append(event)
            return "".join(answers).encode(), events

        async def lines() -> AsyncIterator[bytes]:
            pending: list[EventV1] = []
            numbered = [(number, raw) for number, raw in enumerate(body.split(b"\n"), 1) if raw.strip()]
            try:
                # a few lines per trip to the thread pool and per chunk of the answer: one trip per line cost
                # more than the line's evaluation
                for start in range(0, len(numbered), LINES_PER_STEP):
                    out, events = await run_in_threadpool(some, numbered[start:start + LINES_PER_STEP])
                    pending.extend(events)
                    if len(pending) >= settings.log_batch:
                        await run_in_threadpool(log, pending)
                        pending = []
                    yield out
            finally:
                if pending:  # whatever was answered is logged, even when the client went away
                    store.append(pending)

        return StreamingResponse(lines(), media_type=JSON_LINES)

    @app.get(f"{API}/log", summary="决定日志(新的在前)")
    async def read_log(decision: str | None = None, outcome: str | None = None, since: str | None = None,
                       until: str | None = None, q: str | None = None, limit: int = 50,
                       offset: int = 0) -> Response:
        from ..audit.store import LogQuery

        query = LogQuery(decision=decision, outcome=outcome,
                         since=_date(since, "since 参数", "request-invalid") if since else None,
                         until=_date(until, "until 参数", "request-invalid") if until else None, text=q, limit=limit, offset=offset)
        page = await run_in_threadpool(store.search, query)
        return _json({"total": page.total, "limit": page.limit, "offset": page.offset,
                      "entries": [e.as_json() for e in page.entries]})

    @app.get(f"{API}/log/{{event_id}}", summary="日志中的一条")
    async def read_event(event_id: str) -> Response:
        event = await run_in_threadpool(store.get, event_id)
        if event is None:
            raise ApiError("not-found", f"日志中没有 {event_id}")
        return _json(event.as_json())

    app.add_middleware(Guard, tokens=settings.credentials(), max_body=settings.max_body,
                       max_lines_body=settings.max_lines_body, all_packs=all_packs,
                       uploads={"/batch": settings.max_upload})
    @app.post(f"{API}/log/{{event_id}}/rerun", summary="用现行政策包重新评估日志中的一条(不记入日志)")
    async def rerun(request: Request, event_id: str) -> Response:
        event = await run_in_threadpool(store.get, event_id)
        if event is None:
            raise ApiError("not-found", f"日志中没有 {event_id}")
        region, _, name = event.decision.partition("/")
        d = decision_of(request, region, name)

        def work() -> dict[str, Any]:
            try:
                r = rerun_event(library, d.id, event)
            except SkillcertError as exc:
                return {"id": event.id, "same": False, "then": logged_result(event), "error": error_of(exc, d)}
            return {"id": event.id, "same": not r.differences, "differences": r.differences,
                    "pack_changed": r.pack_changed, "then": r.then, "now": r.now}
        return _json(await run_in_threadpool(work))

    from .pages import mount_pages  # the web workspace, on the same library and log

    mount_pages(app, library, store)
    return app


def _line(number: int, kind: str, payload: str) -> str:
    return f'{{"line": {number}, "{kind}": {payload}}}\n'


async def _read(request: Request) -> bytes:
    """The body, refused as soon as it passes the limit (a body sent without Content-Length is counted too)."""
    limit: int = request.scope["skillcert"]["max_body"]
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError("body-too-large", f"请求体超过上限 {limit} 字节")
        parts.append(chunk)
    return b"".join(parts)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("skillcert")
    except PackageNotFoundError:  # pragma: no cover
        return "0+unknown"
