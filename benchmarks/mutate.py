"""Mutation testing speed: `skillcert test --mutate policies/` (all seven decisions) as users run it.

    python benchmarks/mutate.py [--repeat 3] [--no-suggest]

Each repetition runs `python -m skillcert test --mutate policies/` in a fresh process (start-up, compiling the packs
once, every mutant against the cases in process) and prints the wall time of each run and the median, with the
number of mutants. Nothing is asserted: it measures (the machine is shared; compare runs made side by side).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-suggest", action="store_true", help="skip the search for suggested cases")
    args = parser.parse_args()
    argv = [sys.executable, "-m", "skillcert", "test", "--mutate", str(ROOT / "policies"), "--format", "json"]
    if args.no_suggest:
        argv.append("--no-suggest")
    times = []
    mutants = 0
    for i in range(args.repeat):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode == 2:
            sys.exit(done.stderr)
        mutants = sum(p["mutants"] for p in json.loads(done.stdout)["packs"])
        print(f"run {i + 1}: {times[-1]:.2f} s (exit {done.returncode})")
    print(f"skillcert test --mutate policies/: {mutants} mutants, median {statistics.median(times):.2f} s "
          f"over {len(times)} runs (min {min(times):.2f}, max {max(times):.2f})")


if __name__ == "__main__":
    main()
