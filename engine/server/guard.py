"""The ASGI layer in front of the API: the bearer tokens and their roles, the size of request bodies, the pack headers.

Every accepted token is compared with the given one in constant time (no early exit on the first match either), so
the time of a refusal says nothing about any token. A ``read`` token may only use GET (and HEAD): decisions,
schemas, the log; evaluating and re-running (POST) need an ``evaluate`` token (403 ``forbidden`` otherwise). No
token's text is ever written to a message or a log.

It is plain ASGI (not Starlette's BaseHTTPMiddleware) so that streamed responses pass through untouched. A
handler names the pack it answered from in ``scope["skillcert"]["pack"]``; a response about no one decision
names every loaded pack (``region=version, …``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any

from .problems import error_body, status_of
from .settings import READ

__all__ = ["Guard", "VERSION_HEADER", "DIGEST_HEADER"]

VERSION_HEADER = "X-Skillcert-Pack-Version"
DIGEST_HEADER = "X-Skillcert-Pack-Digest"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Guard:
    def __init__(self, app: ASGIApp, *, tokens: Sequence[tuple[str, str]], max_body: int, max_lines_body: int,
                 all_packs: tuple[str, str], uploads: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.tokens = [(token.encode(), role) for token, role in tokens]
        self.max_body = max_body
        self.max_lines_body = max_lines_body
        self.all_packs = all_packs
        # path → the limit of a file uploaded by a form, whose page refuses a larger one itself, in its own words
        self.uploads = dict(uploads or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder: dict[str, Any] = {}
        scope["skillcert"] = holder
        path: str = scope.get("path", "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.tokens and path.startswith("/api/"):
            role = self._role(headers)
            if role is None:
                await self._refuse(send, "unauthorized", "需要令牌:请在请求头中加 Authorization: Bearer <令牌>",
                                   {"www-authenticate": "Bearer"})
                return
            if role == READ and scope.get("method", "GET") not in ("GET", "HEAD"):
                await self._refuse(send, "forbidden", "此令牌只能读取(决定、输入说明、决定日志);评估与重新评估需要"
                                                      "评估令牌", status=403)
                return
        limit = self.uploads.get(path) or (self.max_lines_body if path.endswith("/evaluate-many") else self.max_body)
        holder["max_body"] = limit
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit and path not in self.uploads:
            await self._refuse(send, "body-too-large", f"请求体 {declared} 字节,超过上限 {limit} 字节")
            return

        async def named_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                version, digest = holder.get("pack", self.all_packs)
                extra = [(VERSION_HEADER.lower().encode(), version.encode("latin-1", "replace")),
                         (DIGEST_HEADER.lower().encode(), digest.encode("latin-1", "replace"))]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, named_send)

    def _role(self, headers: dict[str, str]) -> str | None:
        """The role of the request's bearer token, or None: every token is compared, each in constant time."""
        scheme, _, text = headers.get("authorization", "").partition(" ")
        given = text.strip().encode("latin-1")
        found = None
        for token, role in self.tokens:
            if hmac.compare_digest(given, token) and found is None:
                found = role
        return found if scheme.lower() == "bearer" else None

    async def _refuse(self, send: Send, code: str, message: str, extra: dict[str, str] | None = None,
                      status: int | None = None) -> None:
        body = json.dumps(error_body(code, message), ensure_ascii=False).encode()
        version, digest = self.all_packs
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (VERSION_HEADER.lower().encode(), version.encode()), (DIGEST_HEADER.lower().encode(),
                                                                          digest.encode())]
        headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
        await send({"type": "http.response.start", "status": status or status_of(code), "headers": headers})
        await send({"type": "http.response.body", "body": body})
