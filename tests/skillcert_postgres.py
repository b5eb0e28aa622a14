"""A throwaway PostgreSQL server for the decision-log tests: Debian's ``postgresql`` package, a cluster in a
temporary folder listening on a Unix socket only, one fresh database per test; the tests that use it are skipped,
with how to install it, where the server or the driver is missing."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["postgres_server", "new_database", "MISSING"]

MISSING = ('PostgreSQL 测试需要 Debian 的 postgresql 包和 psycopg 驱动:apt-get install postgresql;'
           'pip install "psycopg[binary]"')


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def postgres_server() -> Iterator[str | None]:
    """Yields the socket folder of a running server (None when one cannot be started here); stops it after."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        yield None
        return
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="skillcert-pg-"))
    # PostgreSQL refuses to run as root: run it as the package's own user then
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if prefix:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    try:
        subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], check=True,
                       capture_output=True, timeout=120)
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-o", f"-k {folder} -c listen_addresses=''",
                        "-l", str(folder / "log"), "-w", "start"], check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, OSError):
        shutil.rmtree(folder, ignore_errors=True)
        yield None
        return
    try:
        yield str(folder)
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True,
                       timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(socket_folder: str) -> str:
    """A new empty database on the server; its SQLAlchemy URL."""
    import psycopg

    name = f"log_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=socket_folder, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql+psycopg://postgres@/{name}?host={socket_folder}"
