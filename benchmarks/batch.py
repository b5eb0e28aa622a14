"""Batch speed and memory: `skillcert batch chongqing/renewal` CSV → CSV, as users run it.

    python benchmarks/batch.py [--rows 10000 100000] [--workers 1 2]
    python benchmarks/batch.py --rows 10000 100000 1000000 --workers 1 2     # the full table (several minutes)

For each size a CSV of realistic institutions (dotted `findings.*` columns, seeded) is generated once, then
`python -m skillcert batch` runs in a fresh process per (size, workers); the table shows wall time, rows per second,
microseconds per row and the peak resident memory of the whole process tree (sampled from /proc every 50 ms).
Nothing is asserted: it measures.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FINDINGS = ["posts_missing", "duties_unfulfilled", "no_duty_records", "safety_notice_missing", "annual_plans_missing",
            "publicity_items_missing", "theory_room_defects", "skill_room_defects", "cameras_missing",
            "marking_batches_bad", "tally_batches_bad", "video_unclear", "batches_without_supervisor",
            "complaints_unhandled", "late_report_batches", "contributed_to_standards", "has_innovation_or_qms"]
FLAGS = {"no_duty_records", "safety_notice_missing", "video_unclear", "contributed_to_standards",
         "has_innovation_or_qms"}


def write_input(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    header = ["机构编号", "机构名称", "institution_kind", "registry_level", "registration_expires_on", "applied_on",
              "registered_occupations", "assessed_occupations"] + [f"findings.{f}" for f in FINDINGS]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(rows):
            cells = [f"CQ-{i:07d}", f"重庆某评价机构{i}", rng.choice(["social_org", "technical_school", "employer"]),
                     rng.choice(["city", "district"]), "2025-06-30", rng.choice(["2025-05-06", "2025-05-20"]),
                     '["4-01-05-01", "4-03-02-01"]', '["4-01-05-01"]']
            for f in FINDINGS:
                if f in FLAGS:
                    cells.append("true" if rng.random() < 0.08 else "")
                else:
                    cells.append(str(rng.choice([1, 1, 2])) if rng.random() < 0.15 else "")
            w.writerow(cells)


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and its descendants, from /proc (Linux)."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as fh:
                stack.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run(input_path: Path, output_path: Path, workers: int) -> tuple[float, int]:
    cmd = [sys.executable, "-m", "skillcert", "batch", "chongqing/renewal", str(input_path), "-o", str(output_path),
           "--as-of", "2025-05-25", "--workers", str(workers), "--no-progress"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kib(proc.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"batch failed ({proc.returncode}): {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(f"{'rows':>9} {'workers':>7} {'wall s':>8} {'rows/s':>9} {'µs/row':>8} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            src = Path(tmp) / f"in-{rows}.csv"
            write_input(src, rows)
            for workers in args.workers:
                elapsed, peak = run(src, Path(tmp) / "out.csv", workers)
                print(f"{rows:9,} {workers:7} {elapsed:8.1f} {rows / elapsed:9,.0f} {elapsed / rows * 1e6:8.0f} "
                      f"{peak / 1024:9.0f}", flush=True)


if __name__ == "__main__":
    main()
