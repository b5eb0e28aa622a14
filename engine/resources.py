"""Where the bundled schemas and policy packs live.

In a source checkout (and an editable install) they sit beside the ``engine`` package; the environment
variables ``SKILLCERT_SCHEMAS`` and ``SKILLCERT_POLICIES`` point elsewhere when needed.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["schemas_dir", "policies_dir", "ROOT"]

ROOT = Path(__file__).resolve().parent.parent


def schemas_dir() -> Path:
    env = os.environ.get("SKILLCERT_SCHEMAS")
    return Path(env) if env else ROOT / "schemas"


def policies_dir() -> Path:
    """The packs ``skillcert evaluate`` and ``engine.load()`` use by default."""
    env = os.environ.get("SKILLCERT_POLICIES")
    return Path(env) if env else ROOT / "policies"
