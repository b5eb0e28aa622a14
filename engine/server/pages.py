"""The web workspace: pages for staff, rendered on the server (Jinja2, autoescaped), htmx vendored under /static.

- ``GET /``: 决定 — every decision of the loaded packs, its period of validity (out-of-period ones marked);
- ``GET /decisions/{region}/{name}``: 规则 — the decision as a rule book (inputs, parameters, scorecard, bands,
  deadlines, outcomes by precedence, rules with their clauses, the pack's notes);
- ``GET|POST /decisions/{region}/{name}/evaluate``: 评估 — a form generated from the inputs; a valid case is
  evaluated, logged (source ``web``) and answered by a redirect to its log entry, the permanent link;
- ``GET /log``: 记录 — the decision log, newest first, searchable; ``GET /log/{id}``: one entry (the result page),
  ``/log/{id}.json`` its JSON, ``/log/{id}/documents/{doc}`` a document, ``POST /log/{id}/rerun`` (htmx) re-run.

Forms are protected against cross-site requests by a per-browser token kept in a SameSite=Strict cookie and
repeated in a hidden field: a POST whose field does not match its cookie is refused (403). When the server has
access tokens (``--token``, ``--tokens``), the pages ask for one too: the browser's own sign-in prompt (HTTP Basic, any user name,
the token as password) or a bearer header, and a read-only token may not evaluate; a server reachable from other machines without ``--token`` does not
serve the pages at all (the log holds the facts of every case).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import inspect
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..audit import new_event
from ..audit.rerun import logged_result
from ..audit.rerun import rerun as rerun_event
from ..audit.store import LogQuery
from ..errors import SkillcertError
from ..render.text import arrangement_text
from .batches import mount_batches
from .problems import error_of
from .settings import READ, is_loopback

if TYPE_CHECKING:
    from ..audit.store import LogStore
    from ..compiler.model import Decision, ValueSpec
    from ..library import Library

__all__ = ["mount_pages", "CSRF_COOKIE", "CSRF_FIELD"]

HERE = Path(__file__).resolve().parent
CSRF_COOKIE = "skillcert_csrf"
CSRF_FIELD = "csrf_token"
SCALARS = ("text", "integer", "decimal", "date", "enum", "bool")
UNITS = {"days": "自然日", "working_days": "工作日(不含法定节假日和周末,按调休安排)", "months": "个月", "years": "年"}
KINDS = {"bool": "是/否", "integer": "整数", "decimal": "数值", "date": "日期", "text": "文本", "enum": "选项",
         "list": "列表", "mapping": "对照表", "record": "记录"}


@dataclass
class Field:
    """One control of the evaluation form: a fact's key path as its name, and how it is entered."""

    key: str                         # facts path: "findings.posts_missing"
    label: str
    kind: str
    control: str                     # select bool date number text lines json
    required: bool
    default: Any = None
    min: Any = None
    max: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    item: ValueSpec | None = None    # lines: each line is one of these
    hint: str = ""

    @property
    def id(self) -> str:
        return "f-" + self.key.replace(".", "-")


@dataclass
class Group:
    label: str
    fields: list[Field]


def _field(key: str, spec: ValueSpec, label: str, required: bool, default: Any) -> Field:
    f = Field(key=key, label=label or key, kind=spec.kind, control="text", required=required, default=default,
              min=spec.min, max=spec.max)
    if spec.kind == "enum":
        f.control, f.options = "select", list(spec.values.items())
    elif spec.kind == "bool":
        f.control = "bool"
    elif spec.kind == "date":
        f.control = "date"
    elif spec.kind in ("integer", "decimal"):
        f.control = "number"
    elif spec.kind == "list" and spec.items is not None and spec.items.kind in SCALARS:
        f.control, f.item = "lines", spec.items
        f.hint = f"每行一项({spec.items.label or KINDS.get(spec.items.kind, '')})"
        if spec.items.kind == "enum":
            f.hint += ",可填:" + "、".join(f"{c}({lbl})" for c, lbl in spec.items.values.items())
    elif spec.kind != "text":
        f.control = "json"
        f.hint = "每行一个 JSON 对象(记录)" if spec.kind == "list" else "JSON"
    return f


def form_groups(decision: Decision) -> list[Group]:
    """The form's fields: scalar inputs together; a record input's fields grouped by the scorecard category that
    reads them (as on the scorecard), those no category reads under the record's label; then document inputs."""
    main = Group("基本情况", [])
    groups = [main]
    for name, inp in decision.inputs.items():
        spec = inp.spec
        if spec.kind != "record" or not all(f.kind in SCALARS for f in spec.fields.values()):
            main.fields.append(_field(name, spec, inp.label, inp.required, inp.default))
            continue
        by_category: dict[str, Group] = {}
        rest = Group(inp.label, [])
        for key, sub in spec.fields.items():
            f = _field(f"{name}.{key}", sub, sub.label, sub.required, sub.default)
            category = _category_reading(decision, f.key)
            if category is None:
                rest.fields.append(f)
            else:
                by_category.setdefault(category, Group(f"{inp.label}:{category}", [])).fields.append(f)
        order = [c.label for card in decision.scorecards.values() for c in card.categories]
        groups.extend(by_category[c] for c in sorted(by_category, key=order.index))
        groups.append(rest)
    if decision.document_inputs:
        docs = Group("文书所用(规则不读取)", [])
        for name, inp in decision.document_inputs.items():
            docs.fields.append(_field(name, inp.spec, inp.label, False, None))
        groups.append(docs)
    return groups


def _category_reading(decision: Decision, key: str) -> str | None:
    """The label of the first scorecard category whose deductions or awards read the fact ``key``."""
    word = re.compile(rf"(?<![\w.]){re.escape(key)}(?![\w])")
    for card in decision.scorecards.values():
        for category in card.categories:
            for node in category.walk():
                for line in node.lines:
                    if any(e is not None and word.search(e.text) for e in (line.count, line.when)):
                        return category.label
    return None


def _scalar(kind: str, text: str) -> Any:
    """The form's text as the value the facts give; text that does not convert is passed on as it is, for the
    facts check to answer with the command line's own message."""
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "decimal":
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    if kind == "bool":
        return {"true": True, "false": False}.get(text, text)
    return text


def read_form(groups: list[Group], form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The facts the form gives (empty fields left out: their defaults apply) and the fields that cannot be read."""
    facts: dict[str, Any] = {}
    bad: dict[str, str] = {}
    for group in groups:
        for f in group.fields:
            text = form.get(f.key, "").strip()
            if not text:
                continue
            value: Any
            if f.control == "lines":
                assert f.item is not None
                value = [_scalar(f.item.kind, line.strip()) for line in text.splitlines() if line.strip()]
            elif f.control == "json":
                try:
                    value = (json.loads(text, parse_float=Decimal) if f.kind != "list" else
                             [json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()])
                except json.JSONDecodeError as exc:
                    bad[f.key] = f"{f.key}({f.label}):不是有效的 JSON:{exc.msg}(第 {exc.lineno} 行)"
                    continue
            else:
                value = _scalar(f.kind, text)
            head, _, rest = f.key.partition(".")
            if rest:
                facts.setdefault(head, {})[rest] = value
            else:
                facts[head] = value
    return facts, bad


def field_of(key: str, keys: set[str]) -> str | None:
    """The form field a problem's key belongs to: itself, or the list or record holding it."""
    while key:
        if key in keys:
            return key
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
    return None


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(_display(v) for v in value) or "(空)"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str) if value else "(空)"
    return str(value)


def _form_value(value: Any) -> str:
    """A default or a stored fact as the text of its control."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "\n".join(json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, dict) else str(v)
                         for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


def _in_period(d: Decision, day: dt.date) -> bool:
    return d.valid_from <= day and (d.valid_until is None or day <= d.valid_until)


class Locked(Exception):
    """A page asked for without the server's access token (401), or on a server open to others without one (403)."""

    def __init__(self, status: int, message: str = "本服务器可被其他机器访问,但未设置访问令牌:网页工作台不开放") -> None:
        super().__init__(status)
        self.status = status
        self.message = message


def _given_token(header: str) -> str:
    """The token of an ``Authorization`` header: a bearer token, or the password of HTTP Basic."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def mount_pages(app: FastAPI, library: Library, store: LogStore) -> None:
    """Add the workspace's pages and its static files to ``app`` (whose ``state.settings`` says who may see them);
    once only: a second call leaves the app as it is."""
    if getattr(app.state, "pages", False):
        return
    app.state.pages = True
    settings = app.state.settings
    credentials = [(token.encode(), role) for token, role in settings.credentials()]
    local = is_loopback(settings.host)

    def gate(request: Request) -> None:
        if not credentials:
            if not local:
                raise Locked(403)
            return
        given, role = _given_token(request.headers.get("authorization", "")).encode(), None
        for token, its_role in credentials:  # every token compared, each in constant time
            if hmac.compare_digest(given, token):
                role = its_role
        if role is None:
            raise Locked(401)
        if role == READ and request.method not in ("GET", "HEAD"):
            raise Locked(403, "此令牌只能读取:评估与重新评估需要可评估的令牌")

    router = APIRouter(dependencies=[Depends(gate)], include_in_schema=False)

    @app.exception_handler(Locked)
    async def _locked(request: Request, exc: Locked) -> Response:
        if exc.status == 401:
            return Response("需要访问令牌:请在浏览器弹出的登录框中以令牌为密码登录(用户名任意)", status_code=401,
                            media_type="text/plain; charset=utf-8",
                            headers={"WWW-Authenticate": 'Basic realm="skillcert", charset="UTF-8"'})
        return Response(exc.message, status_code=403, media_type="text/plain; charset=utf-8")

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["show"] = _display
    env.filters["formvalue"] = _form_value
    env.globals["UNITS"] = UNITS
    env.globals["KINDS"] = KINDS
    templates = Jinja2Templates(env=env)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        response = templates.TemplateResponse(request, name, {**context, "csrf": token}, status_code=status)
        if request.cookies.get(CSRF_COOKIE) != token:
            response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    def problem(request: Request, message: str, status: int) -> Response:
        return page(request, "problem.html", {"message": message}, status)

    api_http_error = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        """An address that does not exist, or a method a page does not take: a Chinese page for a browser, the
        API's JSON error for everything else (and for any address under /api/)."""
        assert isinstance(exc, StarletteHTTPException)
        wants_page = "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/")
        if wants_page and exc.status_code in (404, 405):
            message = (f"没有这个页面:{request.url.path}" if exc.status_code == 404
                       else f"{request.url.path} 不接受 {request.method} 请求")
            return problem(request, message, exc.status_code)
        response = api_http_error(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(StarletteHTTPException, http_error)

    async def checked_form(request: Request) -> dict[str, str] | None:
        """The form's fields, or None when its token does not match the cookie's (a cross-site request)."""
        form = await request.form()
        cookie = request.cookies.get(CSRF_COOKIE, "")
        given = form.get(CSRF_FIELD, "")
        if not cookie or not isinstance(given, str) or not hmac.compare_digest(cookie.encode(), given.encode()):
            return None
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def find(region: str, name: str) -> Decision | None:
        try:
            return library.decision(f"{region}/{name}")
        except SkillcertError:
            return None

    @router.get("/", response_class=HTMLResponse)
    async def decisions_page(request: Request) -> Response:
        today = dt.date.today()
        rows, broken = [], []
        for region in library.regions():
            try:
                pack = library.pack(region)
            except SkillcertError as exc:
                broken.append((region, exc.message))
                continue
            for d in pack.decisions.values():
                sources = [pack.sources[s] for s in pack.sources]
                rows.append({"d": d, "pack": pack, "in_period": _in_period(d, today), "sources": sources})
        return page(request, "decisions.html", {"rows": rows, "broken": broken, "today": today})

    @router.get("/decisions/{region}/{name}", response_class=HTMLResponse)
    async def rule_book(request: Request, region: str, name: str) -> Response:
        d = find(region, name)
        if d is None:
            return problem(request, f"没有这个决定:{region}/{name}", 404)
        outcomes = sorted(d.outcomes.values(), key=lambda o: o.rank)
        cards = [(card, [(cat, node, depth) for cat in card.categories for node, depth in _walk(cat, 0)])
                 for card in d.scorecards.values()]
        return page(request, "rules.html", {"d": d, "pack": d.pack, "outcomes": outcomes, "cards": cards,
                                            "label_of": lambda code: d.outcomes[code].label
                                            if code in d.outcomes else code})

    def form_page(request: Request, d: Decision, values: Mapping[str, str], errors: Mapping[str, str],
                  general: list[str], status: int = 200) -> Response:
        return page(request, "evaluate.html", {"d": d, "groups": form_groups(d), "values": values,
                                               "errors": errors, "general": general}, status)

    @router.get("/decisions/{region}/{name}/evaluate", response_class=HTMLResponse)
    async def evaluate_form(request: Request, region: str, name: str) -> Response:
        d = find(region, name)
        if d is None:
            return problem(request, f"没有这个决定:{region}/{name}", 404)
        values = {f.key: _form_value(f.default) for g in form_groups(d) for f in g.fields if f.default is not None}
        return form_page(request, d, {**values, "as_of": dt.date.today().isoformat()}, {}, [])

    @router.post("/decisions/{region}/{name}/evaluate")
    async def evaluate_post(request: Request, region: str, name: str) -> Response:
        d = find(region, name)
        if d is None:
            return problem(request, f"没有这个决定:{region}/{name}", 404)
        form = await checked_form(request)
        if form is None:
            return problem(request, "表单已失效或来自其他网站(缺少防伪令牌),请刷新页面后重新提交", 403)
        groups = form_groups(d)
        facts, bad = read_form(groups, form)
        errors: dict[str, str] = dict(bad)
        general: list[str] = []
        try:
            as_of = dt.date.fromisoformat(form.get("as_of", "").strip() or dt.date.today().isoformat())
        except ValueError:
            errors["as_of"] = f"评估日应写作 YYYY-MM-DD,收到 '{form.get('as_of', '')}'"
        if errors:
            return form_page(request, d, form, errors, general, 422)
        allow = form.get("allow_out_of_period") == "true"

        def work() -> str:
            result = library.evaluate(d.id, facts, as_of=as_of, allow_out_of_period=allow)
            ids = {k: str(v) for k, v in facts.items() if k in d.document_inputs and v is not None}
            event = new_event(decision=d.id, as_of=as_of, source="web", pack_version=result.pack_version,
                              pack_digest=result.pack_digest, outcome=result.outcome, score=result.score,
                              facts=facts, result=result.to_json(), ids=ids)
            store.append([event])
            return event.id

        try:
            event_id = await run_in_threadpool(work)
        except SkillcertError as exc:
            keys = {f.key for g in groups for f in g.fields}
            body = error_of(exc, d)
            for p in body["problems"]:
                target = field_of(p["key"], keys)
                if target is None:
                    general.append(p["message"])
                else:
                    errors[target] = f"{errors[target]};{p['message']}" if target in errors else p["message"]
            if not body["problems"]:
                general.append(exc.message)
            return form_page(request, d, form, errors, general, 422)
        return RedirectResponse(f"/log/{quote(event_id)}", status_code=303)

    @router.get("/log", response_class=HTMLResponse)
    async def log_page(request: Request) -> Response:
        params = request.query_params
        errors = []
        days: dict[str, dt.date | None] = {}
        for key in ("since", "until"):
            text = params.get(key, "").strip()
            try:
                days[key] = dt.date.fromisoformat(text) if text else None
            except ValueError:
                errors.append(f"日期应写作 YYYY-MM-DD,收到 '{text}'")
                days[key] = None
        try:
            offset = max(0, int(params.get("offset", "0")))
        except ValueError:
            offset = 0
        query = LogQuery(decision=params.get("decision") or None, outcome=params.get("outcome") or None,
                         since=days["since"], until=days["until"], text=params.get("q") or None, limit=50,
                         offset=offset)
        found = await run_in_threadpool(store.search, query)
        decisions = list(dict.fromkeys(info.id for info in library.decisions()))  # once, whatever its versions
        outcomes = sorted({(code, o.label) for info in library.decisions()
                           for code, o in library.decision(f"{info.id}@{info.version}").outcomes.items()})
        return page(request, "log.html", {"page": found, "params": params, "errors": errors,
                                          "decisions": decisions, "outcomes": outcomes, "offset": offset})

    @router.get("/log/{event_id}.json")
    async def log_json(event_id: str) -> Response:
        event = await run_in_threadpool(store.get, event_id)
        if event is None:
            return Response(f"日志中没有 {event_id}", status_code=404, media_type="text/plain; charset=utf-8")
        return Response(event.result, media_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="{quote(event.id)}.json"'})

    @router.get("/log/{event_id}", response_class=HTMLResponse)
    async def log_entry(request: Request, event_id: str) -> Response:
        event = await run_in_threadpool(store.get, event_id)
        if event is None:
            return problem(request, f"日志中没有 {event_id}", 404)
        result = json.loads(event.result, parse_float=Decimal)
        d = find(*event.decision.partition("/")[::2])
        documents = [] if d is None else [doc for doc in d.documents.values()
                                          if doc.scope == "case" and doc.produced_by(event.outcome)]
        counted = {} if d is None else await run_in_threadpool(_working_day_counts, library, d, event)
        return page(request, "result.html", {"event": event, "r": result, "d": d, "documents": documents,
                                             "counted": counted,
                                             "facts_json": json.dumps(event.facts, ensure_ascii=False, indent=2,
                                                                      default=str)})

    @router.get("/log/{event_id}/documents/{doc_id}")
    async def log_document(request: Request, event_id: str, doc_id: str) -> Response:
        event = await run_in_threadpool(store.get, event_id)
        d = None if event is None else find(*event.decision.partition("/")[::2])
        if event is None or d is None:
            return problem(request, f"日志中没有 {event_id}", 404)

        def work() -> dict[str, bytes]:
            result = library.evaluate(d.id, event.facts, as_of=event.as_of, allow_out_of_period=True)
            return library.documents(result, event.facts)

        try:
            docs = await run_in_threadpool(work)
        except SkillcertError as exc:
            return problem(request, "无法生成文书:" + ";".join([exc.message, *(p.message for p in exc.problems)]), 422)
        if doc_id not in docs:
            return problem(request, f"这一结果没有文书 {doc_id}", 404)
        title = d.documents[doc_id].title if doc_id in d.documents else doc_id
        return Response(docs[doc_id], media_type="application/vnd.openxmlformats-officedocument."
                                                 "wordprocessingml.document", headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(title)}.docx"})

    @router.post("/log/{event_id}/rerun", response_class=HTMLResponse)
    async def log_rerun(request: Request, event_id: str) -> Response:
        if await checked_form(request) is None:
            return problem(request, "表单已失效或来自其他网站(缺少防伪令牌),请刷新页面后重新提交", 403)
        event = await run_in_threadpool(store.get, event_id)
        d = None if event is None else find(*event.decision.partition("/")[::2])
        if event is None or d is None:
            return problem(request, f"日志中没有 {event_id} 或其决定已不在政策包中", 404)

        def work() -> dict[str, Any]:
            try:
                r = rerun_event(library, d.id, event)
            except SkillcertError as exc:
                return {"error": exc.message, "same": False, "differences": []}
            return {"now": r.now, "differences": r.differences}

        out = await run_in_threadpool(work)
        return page(request, "rerun.html", {"out": out, "then": logged_result(event)})

    mount_batches(app, router, page, checked_form, library, store)  # 批量: /batch, its jobs and results
    app.include_router(router)


def _working_day_counts(library: Library, d: Decision, event: Any) -> dict[str, str]:
    """For each deadline of a logged result counted in working days: from when it was counted and which holidays
    and make-up working days the count went across. The log keeps the result without its trace, so the case is
    evaluated again with it — only while the pack is the one that decided (its digest), else nothing is said."""
    if not any(t.unit == "working_days" for t in d.deadlines.values()):
        return {}
    try:
        again = library.evaluate(d.id, event.facts, as_of=event.as_of, allow_out_of_period=True, explain=True)
    except SkillcertError:
        return {}
    if again.pack_digest != event.pack_digest:
        return {}
    return {step["name"]: arrangement_text(step["start"], step["days_off"], step["make_up_days"])
            for step in again.explain or () if "start" in step}


def _walk(node: Any, depth: int) -> list[tuple[Any, int]]:
    """A scorecard category's nodes below it, depth first, with their depth (for the rule book's table)."""
    out: list[tuple[Any, int]] = []
    for child in node.children:
        out.append((child, depth))
        out.extend(_walk(child, depth + 1))
    return out
