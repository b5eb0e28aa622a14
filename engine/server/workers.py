"""Several server processes (``skillcert serve --workers N``): what each worker builds its application from.

uvicorn starts N > 1 workers from an import string, so each worker calls :func:`worker_app`, which reads what the
starting process decided (packs folder, log URL, settings with the tokens) from the environment variable
:data:`WORKER_ENV`, set by :func:`run_workers` just before uvicorn starts them (inherited, never printed). The
starting process has already checked everything and created the log; a worker only opens it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import os
import socket
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from .settings import Settings

__all__ = ["WORKER_ENV", "run_workers", "worker_app"]

WORKER_ENV = "SKILLCERT_SERVE_WORKER"


class TcpConfig(uvicorn.Config):
    """uvicorn's configuration, but the shared listening socket says it is TCP.

    uvicorn makes it as ``socket.socket(family)`` (protocol 0), and asyncio sets TCP_NODELAY on accepted connections
    only when the protocol says TCP: every answer (headers and body written apart) then waited about 40 ms for the
    client's delayed ACK — 44 ms for a GET that takes 1 ms with one worker.
    """

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


def run_workers(workers: int, policies: str | None, url: str, settings: Settings) -> None:
    """``uvicorn.run(…, workers=N)`` as uvicorn does it, on :class:`TcpConfig`; returns when stopped."""
    given = dataclasses.asdict(settings)
    given["tokens"] = [list(t) for t in settings.tokens]
    os.environ[WORKER_ENV] = json.dumps({"policies": None if policies is None else str(Path(policies).resolve()),
                                         "url": url, "settings": given})
    config = TcpConfig(f"{__name__}:worker_app", factory=True, workers=workers, host=settings.host,
                       port=settings.port, log_level="warning")
    sock = config.bind_socket()
    extra: dict[str, Any] = {}
    if "target" in inspect.signature(Multiprocess).parameters:  # older uvicorn: given each worker's server run
        extra["target"] = uvicorn.Server(config).run
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: uvicorn has stopped the workers
        Multiprocess(config, sockets=[sock], **extra).run()


def worker_app() -> Any:
    """One worker's application, from what :func:`run_workers` put in :data:`WORKER_ENV`."""
    from ..audit.store import LogStore
    from ..library import load
    from .app import create_app

    given = json.loads(os.environ[WORKER_ENV])
    settings = given["settings"]
    settings["tokens"] = tuple((token, role) for token, role in settings["tokens"])
    return create_app(load(given["policies"]), LogStore(given["url"]), Settings(**settings))
