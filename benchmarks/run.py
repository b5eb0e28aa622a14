"""Every benchmark, one command: CLI start-up, in-process decisions against the CPython limit and the peers (all seven
decisions), batch CSV → CSV on the dense mix, and XLSX in and out.

    python benchmarks/run.py            # quick: batch at 10k and 100k rows (a few minutes)
    python benchmarks/run.py --full     # also 1,000,000 rows with 1 and 2 workers, three repeats each (longer)

Needs `pip install -e ".[bench]"` for the zen-engine column. Prints the tables the README copies.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="include the 1,000,000-row batch runs")
    args = parser.parse_args()
    rows = ["10000", "100000"] + (["1000000"] if args.full else [])
    steps = [
        ("CLI start-up", [sys.executable, str(HERE / "cli_startup.py"), "--runs", "15"]),
        ("In-process decisions", [sys.executable, str(HERE / "evaluation.py"), "--repeat", "3"]),
        ("Batch CSV → CSV (dense mix)", [sys.executable, str(HERE / "batch.py"), "--rows", *rows, "--workers", "1", "2",
                                         "--repeat", "3" if args.full else "1"]),
        ("Batch XLSX → XLSX (dense mix)", [sys.executable, str(HERE / "batch.py"), "--rows", "20000", "--workers", "1",
                                           "2", "--format", "xlsx"]),
    ]
    for title, cmd in steps:
        print(f"\n## {title}\n", flush=True)
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
