"""CLI start-up: wall time of `skillcert validate policies/` and one `skillcert evaluate`, run as users run them.

    python benchmarks/cli_startup.py [--runs 15]

Each command runs in a fresh process (python -m skillcert …) --runs times after one warm-up; the table shows the
median wall time and the median CPU time (user + system: what the process itself spent, much less disturbed than the
wall time by other work on a shared machine), in three conditions side by side:

- ``bytecode``: the modules' bytecode cached as an installed package has it (pip writes the .pyc files at install
  time; an editable install writes them on first import). The benchmark writes them to a private folder
  (``PYTHONPYCACHEPREFIX``), so it neither depends on nor touches the work tree's ``__pycache__``.
- ``no cache``: the same with ``SKILLCERT_NO_CACHE=1``: nothing skillcert caches itself (the parse of the packs,
  the packs' schema check) is used — a first run after a pack changed.
- ``source``: ``PYTHONDONTWRITEBYTECODE=1``, so every engine module without a .pyc in the work tree is compiled from
  source at every start — what a checkout run with that variable set (as some sandboxes and CI images do) sees, and
  the condition of the start-up figures measured before this column existed.

The warm-up run also leaves what skillcert itself caches under ``$SKILLCERT_CACHE_DIR`` (a private folder here), which
the ``bytecode`` and ``source`` runs use. Nothing here is asserted: it measures.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "policies/chongqing/examples/renewal-social-org.yaml"
COMMANDS = {
    "python -m skillcert --help (floor)": ["--help"],
    "validate policies/": ["validate", "policies"],
    "evaluate chongqing/renewal (text)": ["evaluate", "chongqing/renewal", EXAMPLE, "--as-of", "2025-05-25"],
    "evaluate chongqing/renewal (json)": ["evaluate", "chongqing/renewal", EXAMPLE, "--as-of", "2025-05-25",
                                          "--format", "json"],
    "list": ["list"],
}


def measure(args: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall times and CPU times (user + system of the child) of ``runs`` runs after a warm-up."""
    cmd = [sys.executable, "-m", "skillcert", *args]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env=env)  # warm-up (bytecode, disk cache)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    with tempfile.TemporaryDirectory(prefix="skillcert-startup-") as tmp:
        base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
        base["SKILLCERT_CACHE_DIR"] = str(Path(tmp) / "cache")
        bytecode = {**base, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc")}
        conditions = {
            "bytecode": bytecode,
            "no cache": {**bytecode, "SKILLCERT_NO_CACHE": "1"},
            # the interpreter's and site-packages' own .pyc files are used; the engine's are never written
            "source": {**base, "PYTHONDONTWRITEBYTECODE": "1"},
        }
        print(f"{'':40} " + " ".join(f"{name:>21}" for name in conditions))
        print(f"{'command (seconds, median)':40} " + " ".join(f"{'wall':>10} {'cpu':>10}" for _ in conditions))
        for name, argv in COMMANDS.items():
            cells = []
            for env in conditions.values():
                walls, cpus = measure(argv, args.runs, env)
                cells.append(f"{statistics.median(walls):10.3f} {statistics.median(cpus):10.3f}")
            print(f"{name:40} {' '.join(cells)}", flush=True)


if __name__ == "__main__":
    main()
