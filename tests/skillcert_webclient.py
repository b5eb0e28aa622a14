"""Starlette's HTTP test client for the server's tests.

Importing it skips the importing test module when the ``[server]`` extra (FastAPI, httpx) is not installed, and
leaves out Starlette's notice that a later TestClient prefers another httpx: not ours to act on.
"""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("fastapi", reason="the server's tests need its extra: pip install -e '.[server,test]'")
pytest.importorskip("httpx", reason="the server's tests need its extra: pip install -e '.[server,test]'")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

__all__ = ["TestClient"]
