"""Make the helper modules beside the tests (skillcert_testutil, skillcert_testplugin) importable whatever
pytest's import mode is."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
