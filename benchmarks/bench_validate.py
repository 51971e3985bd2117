"""How long ``load_workbook`` (what ``validate`` runs) takes, and how much memory, on
generated workbooks of 1,000 and 10,000 people (about 8 evidence rows each), beside
the floor: plain openpyxl read-only iteration over every cell of the same file.

    .venv/bin/python benchmarks/bench_validate.py            # 1,000 and 10,000 people
    .venv/bin/python benchmarks/bench_validate.py --people 2000 --repeat 3

Each measurement runs in a fresh interpreter so peaks do not mix: peak memory is
the child's peak resident set (``getrusage``) minus its resident set after the
imports, i.e. what reading the workbook added.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, path: str) -> None:
    """Measure one thing in this (fresh) process and print it as JSON."""
    import openpyxl

    from talentrules.ingest import load_workbook

    base = _rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    if mode == "load":
        panel = load_workbook(path)
        detail = {
            "rows": sum(a.loaded for a in panel.accounts),
            "errors": len(panel.errors),
            "problems": len(panel.problems),
        }
    else:
        cells = 0
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            for ws in wb.worksheets:
                for row in ws.iter_rows():
                    for cell in row:
                        cell.value  # noqa: B018 (touch it, as ingestion does)
                        cells += 1
        finally:
            wb.close()
        detail = {"cells": cells}
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _rss_mb() - base, **detail}))


def measure(mode: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure; best is shown")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from make_workbook import make_workbook

    print(f"python {sys.version.split()[0]}, best of {args.repeat}; s = wall seconds (cpu)")
    header = f"{'people':>7} {'file MB':>8} {'cells':>10} {'floor s':>14} {'load s':>14}"
    print(header + f" {'x floor':>7} {'floor MB':>9} {'load MB':>8} {'rows':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for people in args.people:
            path = Path(tmp) / f"people-{people}.xlsx"
            make_workbook(path, people, seed=0)
            with zipfile.ZipFile(path) as archive:
                xml = sum(i.file_size for i in archive.infolist())
            floor = min((measure("floor", path) for _ in range(args.repeat)), key=_seconds)
            load = min((measure("load", path) for _ in range(args.repeat)), key=_seconds)
            assert load["errors"] == 0, load
            print(
                f"{people:>7,} {path.stat().st_size / 2**20:>8.1f} {int(floor['cells']):>10,} "
                f"{floor['seconds']:>6.2f} ({floor['cpu']:>5.2f}) "
                f"{load['seconds']:>6.2f} ({load['cpu']:>5.2f}) "
                f"{load['seconds'] / floor['seconds']:>7.2f} {floor['peak_mb']:>9.0f} "
                f"{load['peak_mb']:>8.0f} {int(load['rows']):>7,}"
            )
            print(f"{'':>7} (uncompressed XML {xml / 2**20:.0f} MB)")


def _seconds(result: dict[str, float]) -> float:
    return result["seconds"]


if __name__ == "__main__":
    main()
