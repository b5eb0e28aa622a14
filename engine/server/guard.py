"""The ASGI layer in front of the API: the bearer token, the size of request bodies, and the pack headers.

It is plain ASGI (not Starlette's BaseHTTPMiddleware) so that streamed responses pass through untouched. A
handler names the pack it answered from in ``scope["skillcert"]["pack"]``; a response about no one decision
names every loaded pack (``region=version, …``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .problems import error_body, status_of

__all__ = ["Guard", "VERSION_HEADER", "DIGEST_HEADER"]

VERSION_HEADER = "X-Skillcert-Pack-Version"
DIGEST_HEADER = "X-Skillcert-Pack-Digest"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Guard:
    def __init__(self, app: ASGIApp, *, token: str | None, max_body: int, max_lines_body: int,
                 all_packs: tuple[str, str]) -> None:
        self.app = app
        self.token = token
        self.max_body = max_body
        self.max_lines_body = max_lines_body
        self.all_packs = all_packs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder: dict[str, Any] = {}
        scope["skillcert"] = holder
        path: str = scope.get("path", "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.token is not None and path.startswith("/api/") and not self._authorized(headers):
            await self._refuse(send, "unauthorized", "需要令牌:请在请求头中加 Authorization: Bearer <令牌>",
                               {"www-authenticate": "Bearer"})
            return
        limit = self.max_lines_body if path.endswith("/evaluate-many") else self.max_body
        holder["max_body"] = limit
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
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

    def _authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        assert self.token is not None
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode())

    async def _refuse(self, send: Send, code: str, message: str, extra: dict[str, str] | None = None) -> None:
        body = json.dumps(error_body(code, message), ensure_ascii=False).encode()
        version, digest = self.all_packs
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (VERSION_HEADER.lower().encode(), version.encode()), (DIGEST_HEADER.lower().encode(),
                                                                          digest.encode())]
        headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
        await send({"type": "http.response.start", "status": status_of(code), "headers": headers})
        await send({"type": "http.response.body", "body": body})
