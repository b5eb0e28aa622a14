"""CLI start-up: wall time of `skillcert validate policies/` and one `skillcert evaluate`, run as users run them.

    python benchmarks/cli_startup.py [--runs 15]

Each command runs in a fresh process (python -m skillcert …) --runs times after one warm-up; the table shows the
median and the fastest run. Nothing here is asserted: it measures.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "policies/chongqing/examples/renewal-social-org.yaml"
COMMANDS = {
    "validate policies/": ["validate", "policies"],
    "evaluate chongqing/renewal (text)": ["evaluate", "chongqing/renewal", EXAMPLE, "--as-of", "2025-05-25"],
    "evaluate chongqing/renewal (json)": ["evaluate", "chongqing/renewal", EXAMPLE, "--as-of", "2025-05-25",
                                          "--format", "json"],
    "list": ["list"],
}


def measure(args: list[str], runs: int) -> list[float]:
    cmd = [sys.executable, "-m", "skillcert", *args]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)  # warm-up (bytecode, disk cache)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    bare = measure(["--help"], args.runs)
    print(f"{'command':40} {'median':>9} {'fastest':>9}")
    print(f"{'python -m skillcert --help (interpreter floor)':40} {statistics.median(bare):9.3f} {min(bare):9.3f}")
    for name, argv in COMMANDS.items():
        t = measure(argv, args.runs)
        print(f"{name:40} {statistics.median(t):9.3f} {min(t):9.3f}")


if __name__ == "__main__":
    main()
