"""Ingest alone (``load_workbook``: what ``validate`` runs and ``evaluate``'s first stage),
measured in one run beside its floors, each in a fresh process, rounds alternating:

- ``ingest``: this checkout's ``load_workbook``;
- ``scanner off``: the same with every sheet and the shared strings read by the exact
  reader (``xlsx.exact_rows``), as before the scanner (``ingest/sheetrows.py``);
- ``openpyxl``: openpyxl in read-only mode iterating every cell (issue 13's floor);
- with ``--against DIR``: another checkout's ``load_workbook`` (its ``talentrules``
  imported from DIR), e.g. ``--against /work/main`` for the branch against main.

    .venv/bin/python benchmarks/bench_ingest.py /tmp/scale/p10000.xlsx --repeat 3
    .venv/bin/python benchmarks/bench_ingest.py /tmp/scale/p10000.xlsx --against /work/main

Prints each one's best wall seconds (CPU seconds) and peak memory added, and the
ratios to openpyxl's. The machine may be shared: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

MODES = ("ingest", "scanner off", "openpyxl")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child(mode: str, path: str) -> dict[str, float]:
    """Measure one reading in this (fresh) process."""
    import openpyxl

    from talentrules.ingest import load as load_module
    from talentrules.ingest import load_workbook

    if mode == "scanner off":
        import zipfile
        from collections.abc import Iterator

        from talentrules.ingest import sheetrows
        from talentrules.ingest.xlsx import Book, RawCell, exact_strings

        def unusual(
            archive: zipfile.ZipFile, member: str, book: Book, max_col: int
        ) -> Iterator[tuple[int, list[RawCell | None], int]]:
            raise sheetrows.Unusual("scanner off")

        sheetrows.fast_rows = unusual
        load_module.read_strings = exact_strings
    gc.collect()
    base = _rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    if mode == "openpyxl":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    cell.value  # noqa: B018 (touch it, as ingestion does)
        book.close()
    else:
        assert not load_workbook(path).errors
    return {
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "peak_mb": _rss_mb() - base,
    }


def measure(mode: str, path: Path, against: Path | None) -> dict[str, float]:
    env = dict(os.environ)
    if against is not None:
        env["PYTHONPATH"] = str(against)
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path, nargs="?")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best of each is shown")
    parser.add_argument("--against", type=Path, help="another checkout to measure beside this one")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    if args.workbook is None:
        parser.error("the workbook to read is needed")
    runs: list[tuple[str, str, Path | None]] = [(mode, mode, None) for mode in MODES]
    if args.against is not None:
        runs.insert(1, (f"ingest of {args.against}", "ingest", args.against))
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for label, mode, against in runs:
            found = measure(mode, args.workbook, against)
            if label not in best or found["seconds"] < best[label]["seconds"]:
                best[label] = found
    load = os.getloadavg()[0]
    print(f"{args.workbook} ({args.workbook.stat().st_size / 2**20:.1f} MB), best of {args.repeat}")
    floor = best["openpyxl"]["seconds"]
    for label, _, _ in runs:
        found = best[label]
        print(
            f"  {label:>24}: {found['seconds']:6.2f} s wall ({found['cpu']:6.2f} CPU s), "
            f"peak +{found['peak_mb']:4.0f} MB, {found['seconds'] / floor:5.2f} x openpyxl"
        )
    print(f"  load average at the end: {load:.1f} (2-core machines: above 1, others are running)")


if __name__ == "__main__":
    main()
