"""Batch speed and memory: `skillcert batch chongqing/renewal` as users run it, CSV or XLSX in and out.

    python benchmarks/batch.py [--rows 10000 100000] [--workers 1 2] [--mix dense|sparse] [--format csv|xlsx]
    python benchmarks/batch.py --rows 10000 100000 1000000 --workers 1 2 --repeat 3     # the full table

For each size an input file of institutions is generated once (seeded), then `python -m skillcert batch` runs in a
fresh process per (size, workers) and repetition; the table shows the median wall time with its spread, rows per
second, microseconds per row, the peak resident memory of the whole process tree and the CPU time of the whole
tree per row (both sampled from /proc every 50 ms: the CPU figure holds on a machine other work shares, the wall
time does not). Nothing is asserted: it measures.

Mixes: *dense* (the default: every finding of the scorecard in its own dotted column `findings.*`, every cell
filled — counts as numbers, flags as true/false — about 30 % of the findings present, so about half the rows land
in the rectify band; lists as JSON cells), or *sparse* (17 finding columns, most cells empty, a third of the rows
employers that skip the scorecard), the cheaper input the first benchmarks used.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DENSE = 0.30

SPARSE_FINDINGS = ["posts_missing", "duties_unfulfilled", "no_duty_records", "safety_notice_missing",
                   "annual_plans_missing", "publicity_items_missing", "theory_room_defects", "skill_room_defects",
                   "cameras_missing", "marking_batches_bad", "tally_batches_bad", "video_unclear",
                   "batches_without_supervisor", "complaints_unhandled", "late_report_batches",
                   "contributed_to_standards", "has_innovation_or_qms"]
SPARSE_FLAGS = {"no_duty_records", "safety_notice_missing", "video_unclear", "contributed_to_standards",
                "has_innovation_or_qms"}


def _finding_fields() -> dict[str, Any]:
    """The findings the chongqing pack declares (kind, max, codes), read from the pack itself."""
    import skillcert

    decision = skillcert.load(ROOT / "policies").decision("chongqing/renewal")
    return dict(decision.inputs["findings"].spec.fields)


def rows_of(n: int, mix: str, seed: int = 7) -> tuple[list[str], Any]:
    rng = random.Random(seed)
    fields = _finding_fields() if mix == "dense" else {}
    names = list(fields) if mix == "dense" else SPARSE_FINDINGS
    header = ["机构编号", "机构名称", "institution_kind", "registry_level", "registration_expires_on", "applied_on",
              "registered_occupations", "assessed_occupations"] + [f"findings.{f}" for f in names]

    def gen() -> Any:
        for i in range(n):
            kinds = ["social_org", "technical_school"] if mix == "dense" else ["social_org", "technical_school",
                                                                                "employer"]
            cells: list[Any] = [f"CQ-{i:07d}", f"重庆某评价机构{i}", rng.choice(kinds), rng.choice(["city", "district"]),
                                "2025-06-30", rng.choice(["2025-05-06", "2025-05-20"]), '["4-01-05-01", "4-03-02-01"]',
                                '["4-01-05-01"]']
            for f in names:
                if mix == "dense":
                    spec = fields[f]
                    present = rng.random() < DENSE
                    if spec.kind == "bool":
                        cells.append("true" if present else "false")
                    elif spec.kind == "integer":
                        top = int(spec.max) if spec.max is not None else 99
                        cells.append(str(min(rng.choice([1, 1, 1, 2, 3]), top)) if present else "0")
                    elif spec.kind == "enum":
                        cells.append(rng.choice(list(spec.values)) if present else str(spec.default or ""))
                    else:
                        cells.append("")
                elif f in SPARSE_FLAGS:
                    cells.append("true" if rng.random() < 0.08 else "")
                else:
                    cells.append(str(rng.choice([1, 1, 2])) if rng.random() < 0.15 else "")
            yield cells
    return header, gen()


def write_input(path: Path, rows: int, mix: str = "dense", seed: int = 7) -> None:
    header, cells = rows_of(rows, mix, seed)
    if path.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        sheet = wb.create_sheet("机构")
        sheet.append(header)
        for row in cells:
            sheet.append(row)
        wb.save(path)
        return
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(cells)


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree_rss_kib(pid: int, cpu: dict[int, float] | None = None) -> int:
    """Resident memory of a process and its descendants, from /proc (Linux); ``cpu`` gets each one's CPU seconds
    so far (user and system), so that the CPU a run took is known on a machine other work shares."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            if cpu is not None:
                with open(f"/proc/{p}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                cpu[p] = (int(fields[11]) + int(fields[12])) / _TICK
            with open(f"/proc/{p}/task/{p}/children") as fh:
                stack.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run(input_path: Path, output_path: Path, workers: int) -> tuple[float, int, float]:
    cmd = [sys.executable, "-m", "skillcert", "batch", "chongqing/renewal", str(input_path), "-o", str(output_path),
           "--as-of", "2025-05-25", "--workers", str(workers), "--no-progress"]
    return measured(cmd)[:3]


def measured(cmd: list[str]) -> tuple[float, int, float, str]:
    """Run ``cmd`` in a fresh process: wall seconds, peak memory of its process tree (KiB), CPU seconds of the
    tree, and what it printed (exit status 0 or 1; anything else stops the benchmark)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    cpu: dict[int, float] = {}
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kib(proc.pid, cpu))
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    out = proc.stdout.read().decode() if proc.stdout else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[2:4])} failed ({proc.returncode}): "
                         f"{proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, peak, sum(cpu.values()), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--mix", choices=["dense", "sparse"], default="dense")
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv", help="input and output format")
    parser.add_argument("--repeat", type=int, default=1, help="runs per (rows, workers): median and spread shown")
    parser.add_argument("--inputs", type=Path, default=None,
                        help="folder where the generated input files are kept and reused (default: a temporary one)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; {args.mix} mix, {args.format.upper()} in and out")
    print(f"{'rows':>9} {'workers':>7} {'wall s':>8} {'spread s':>11} {'rows/s':>9} {'µs/row':>8} {'peak MiB':>9} "
          f"{'CPU µs/row':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            folder = args.inputs or Path(tmp)
            src = folder / f"in-{args.mix}-{rows}.{args.format}"
            if not src.exists():  # (the same seed gives the same file)
                write_input(src, rows, args.mix)
            for workers in args.workers:
                runs = [run(src, Path(tmp) / f"out.{args.format}", workers) for _ in range(args.repeat)]
                walls = [w for w, _, _ in runs]
                wall = statistics.median(walls)
                peak = max(p for _, p, _ in runs)
                cpu = statistics.median(c for _, _, c in runs)
                print(f"{rows:9,} {workers:7} {wall:8.1f} {f'{min(walls):.1f}–{max(walls):.1f}':>11} "
                      f"{rows / wall:9,.0f} {wall / rows * 1e6:8.0f} {peak / 1024:9.0f} {cpu / rows * 1e6:11.0f}",
                      flush=True)


if __name__ == "__main__":
    main()
