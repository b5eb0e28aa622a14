"""Outcome impact speed and memory beside `skillcert batch`, on the same file in the same run.

    python benchmarks/impact.py [--rows 100000 1000000] [--workers 1 2] [--repeat 1]

A copy of the Chongqing pack is changed as issue 15 describes (band 80 → 85, the missing-post deduction
0.4 → 0.5). For each size a dense input file is generated once (benchmarks/batch.py's generator, seeded); then, in
a fresh process each, `python -m skillcert batch` evaluates it with the NEW pack (CSV out), and the impact
(`skillcert.analysis.impact.measure_impact` over the file plus the packs' own cases, then `write_impact_xlsx`:
every changed row in the detail sheet) compares OLD and NEW on it. The table shows wall time (median of the
repeats), the impact's time as a multiple of the batch's, the peak resident memory of the whole process tree and
the CPU time of the tree per row. Nothing is asserted: it measures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch import measured, write_input  # noqa: E402 - the batch benchmark's input and measures

ROOT = Path(__file__).resolve().parent.parent
EDITS = [("renew_min_score: {value: 80,", "renew_min_score: {value: 85,"),
         ("- {per: 0.4, count: findings.posts_missing,", "- {per: 0.5, count: findings.posts_missing,")]
AS_OF = "2025-05-25"


def packs(root: Path) -> tuple[Path, Path]:
    """OLD (the bundled Chongqing pack) and NEW (changed), each in a folder of its own."""
    folders = []
    for name, edits in (("old", []), ("new", EDITS)):
        folder = root / name / "chongqing"
        shutil.copytree(ROOT / "policies" / "chongqing", folder)
        text = (folder / "pack.yaml").read_text(encoding="utf-8")
        for before, after in edits:
            assert before in text, before
            text = text.replace(before, after, 1)
        (folder / "pack.yaml").write_text(text, encoding="utf-8")
        folders.append(root / name)
    return folders[0], folders[1]


def child(old: str, new: str, cases: str, output: str, workers: int) -> None:
    """The impact run itself (in its own process): measure, write the workbook, print the counts."""
    import skillcert
    from skillcert.analysis.impact import measure_impact, write_impact_xlsx

    report = measure_impact(skillcert.load(old), skillcert.load(new), "chongqing/renewal", case_files=[Path(cases)],
                            as_of=dt.date.fromisoformat(AS_OF), workers=workers)
    write_impact_xlsx(Path(output), report.sheets())
    print(report.total, report.changed, report.differing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        old, new, cases, output, workers = args.child
        child(old, new, cases, output, int(workers))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; dense mix, CSV in; batch writes CSV, impact XLSX")
    print(f"{'rows':>9} {'workers':>7} {'batch s':>8} {'impact s':>9} {'ratio':>6} {'batch MiB':>9} "
          f"{'impact MiB':>10} {'batch CPU µs/row':>16} {'impact CPU µs/row':>17} {'changed':>9} {'differ':>9}")
    with tempfile.TemporaryDirectory(prefix="skillcert-impact-bench-") as tmp:
        root = Path(tmp)
        old, new = packs(root)
        for n in args.rows:
            cases = root / f"cases-{n}.csv"
            write_input(cases, n)
            for workers in args.workers:
                runs = []
                for _ in range(args.repeat):
                    batch = measured([sys.executable, "-m", "skillcert", "--policies", str(new), "batch",
                                      "chongqing/renewal", str(cases), "-o", str(root / "out.csv"), "--as-of", AS_OF,
                                      "--workers", str(workers), "--no-progress"])
                    impact = measured([sys.executable, __file__, "--child", str(old), str(new), str(cases),
                                       str(root / "impact.xlsx"), str(workers)])
                    runs.append((batch, impact))
                b = statistics.median(r[0][0] for r in runs)
                i = statistics.median(r[1][0] for r in runs)
                total, changed, differing = runs[-1][1][3].split()
                print(f"{n:>9,} {workers:>7} {b:>8.1f} {i:>9.1f} {i / b:>5.2f}× "
                      f"{max(r[0][1] for r in runs) / 1024:>9.0f} {max(r[1][1] for r in runs) / 1024:>10.0f} "
                      f"{statistics.median(r[0][2] for r in runs) / n * 1e6:>16.0f} "
                      f"{statistics.median(r[1][2] for r in runs) / n * 1e6:>17.0f} {int(changed):>9,} "
                      f"{int(differing):>9,}", flush=True)


if __name__ == "__main__":
    main()
