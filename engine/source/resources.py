"""Where the bundled policy packs, schemas and docs are, and which folder of packs a command uses.

They are package data of ``skillcert`` (``skillcert.policies``, ``skillcert.schemas``, ``skillcert.docs``), found
with :mod:`importlib.resources` the same way in a wheel, an editable install and a source checkout installed with
``pip install -e``: the build configuration maps the repository's ``policies/``, ``schemas/`` and ``docs/`` folders
to those names.

The folder of packs a command uses is, in order: ``--policies DIR`` (or a ``directory`` argument), the
``SKILLCERT_POLICIES`` environment variable, then the bundled packs. ``SKILLCERT_SCHEMAS`` points at other schemas
(for schema development). A folder that does not exist is a :class:`~skillcert.errors.UsageError` naming it.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from ..errors import UsageError

__all__ = ["bundled_policies_dir", "policies_dir", "schemas_dir", "POLICIES_ENV", "SCHEMAS_ENV"]

POLICIES_ENV = "SKILLCERT_POLICIES"
SCHEMAS_ENV = "SKILLCERT_SCHEMAS"


def _package_dir(package: str) -> Path:
    try:
        module = importlib.import_module(package)
    except ModuleNotFoundError:
        module = None
    file = getattr(module, "__file__", None)
    if file is not None and Path(file).parent.is_dir():
        # the common case (a wheel or an editable install on the file system): the folder of the package's
        # __init__.py, as importlib.resources would give it, without importing that (and the zipfile and tempfile
        # it brings: about 3 ms of every start)
        return Path(file).parent
    # anything else (a zip, a namespace package): importlib.resources decides, and the error says why not
    from importlib import resources

    try:
        found = resources.files(package)
    except ModuleNotFoundError:
        raise UsageError(f"找不到 skillcert 自带的数据 {package}:安装不完整,请重新安装 skillcert") from None
    if not isinstance(found, Path):  # e.g. a zipped install: the packs must be real files to be read with marks
        raise UsageError(f"skillcert 自带的数据 {package} 不在文件系统上({found}),请以普通方式(非 zip)安装")
    return found


def bundled_policies_dir() -> Path:
    """The policy packs shipped with skillcert."""
    return _package_dir("skillcert.policies")


def policies_dir(given: str | os.PathLike[str] | None = None) -> Path:
    """The folder of packs to use: ``given``, else ``$SKILLCERT_POLICIES``, else the bundled packs."""
    if given is not None and str(given) != "":
        return _existing(Path(given), "--policies")
    env = os.environ.get(POLICIES_ENV)
    if env:
        return _existing(Path(env), POLICIES_ENV)
    return bundled_policies_dir()


def schemas_dir() -> Path:
    """The JSON Schemas of packs and test files: ``$SKILLCERT_SCHEMAS``, else the bundled ones."""
    env = os.environ.get(SCHEMAS_ENV)
    if env:
        return _existing(Path(env), SCHEMAS_ENV)
    return _package_dir("skillcert.schemas")


def _existing(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise UsageError(f"找不到政策包目录 {path}({what} 所指)" if what != SCHEMAS_ENV
                         else f"找不到 JSON Schema 目录 {path}({what} 所指)")
    return path
