"""``skillcert serve``: the HTTP API (``/api/v1``) over a library of packs and the decision log.

:mod:`.app` builds the FastAPI application (:func:`create_app`); :mod:`.settings` holds what the operator chooses
(address, token, limits); :mod:`.problems` turns engine errors into the JSON errors of the API; :mod:`.inputs`
gives a decision's inputs as JSON Schema; :mod:`.guard` is the ASGI layer that checks tokens and body sizes and
names the pack in every response. The web workspace's pages (Jinja2, vendored htmx) are to live in ``pages/``
beside them, mounted by :func:`create_app`, on the same library and log.

FastAPI, Starlette and SQLAlchemy come with the ``[server]`` extra; nothing below this layer imports them.
"""

from __future__ import annotations

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
