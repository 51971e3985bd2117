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

Prints each one's best wall seconds (CPU seconds of the reading process, and of its
helper process, ``ingest/load.py``) and peak memory added, and the ratios to
openpyxl's (``--only-ingest``: the ingest alone, no floors). The machine may be
shared: compare the ratios of one run.
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
from typing import Any

MODES = ("ingest", "scanner off", "openpyxl")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _children_cpu() -> float:
    """CPU s of the ended child processes waited for: the reading's helper (load.py)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _beside(load_module: Any) -> dict[str, float]:
    """Filled in as the reading goes: the CPU s this process spent reading sheets while
    its helper read (``beside``), and the wall s it then waited for the helper and
    joined its rows (``joined``)."""
    found: dict[str, float] = {}
    try:  # this branch's names, else those of the checkouts before the tenth part
        from talentrules.ingest.helper import Helper as helper
        from talentrules.ingest.load import Reader as reader
    except ImportError:
        reader = getattr(load_module, "_Reader", None)
        helper = getattr(load_module, "_Helper", None)
    if reader is None or helper is None:
        return found
    read_sheets, result = reader._read_sheets, helper.result

    def sheets(*args: Any) -> Any:
        cpu = time.process_time()
        try:
            return read_sheets(*args)
        finally:
            found["beside"] = time.process_time() - cpu - found.get("joined_cpu", 0.0)

    def joined(*args: Any) -> Any:
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return result(*args)
        finally:
            found["joined_cpu"] = time.process_time() - cpu
            found["joined"] = time.perf_counter() - wall

    reader._read_sheets, helper.result = sheets, joined
    return found


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
            archive: zipfile.ZipFile, member: str, book: Book, max_col: int, *args: object
        ) -> Iterator[tuple[int, list[RawCell | None], int]]:
            raise sheetrows.Unusual("scanner off")

        sheetrows.fast_rows = unusual  # type: ignore[assignment]
        load_module.read_strings = exact_strings
        # The exact reader reads a sheet from its start only: no sheet is cut in two.
        from talentrules.ingest import helper as helper_module

        helper_module.HELPER_SHARE = 1.0
    beside = _beside(load_module)
    gc.collect()
    base = _rss_mb()
    start, cpu, helper = time.perf_counter(), time.process_time(), _children_cpu()
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
        "helper_cpu": _children_cpu() - helper,
        **beside,
        "peak_mb": _rss_mb() - base,
        "process_peak_mb": _rss_mb(),
        "helper_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
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
    parser.add_argument(
        "--only-ingest",
        action="store_true",
        help="measure the ingest (and --against's) alone, not the floors",
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    if args.workbook is None:
        parser.error("the workbook to read is needed")
    modes = ("ingest",) if args.only_ingest else MODES
    runs: list[tuple[str, str, Path | None]] = [(mode, mode, None) for mode in modes]
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
    floor = best["openpyxl"]["seconds"] if "openpyxl" in best else None
    for label, _, _ in runs:
        found = best[label]
        ratio = f", {found['seconds'] / floor:5.2f} x openpyxl" if floor else ""
        print(
            f"  {label:>24}: {found['seconds']:6.2f} s wall ({found['cpu']:6.2f} CPU s, "
            f"its helper {found.get('helper_cpu', 0.0):5.2f}), "
            f"peak +{found['peak_mb']:4.0f} MB{ratio}"
        )
        if found.get("helper_cpu") and "beside" in found:
            # What the wall time would be on an idle 2-core machine: what this process
            # does alone (before, after), then the longer of its reading beside the
            # helper and the helper's.
            alone = found["cpu"] - found["beside"]
            idle = alone + max(found["beside"], found["helper_cpu"])
            print(
                f"  {'':>24}  CPU s beside the helper {found['beside']:5.2f} "
                f"(the helper {found['helper_cpu']:5.2f}), alone {alone:5.2f}; "
                f"waited and joined {found['joined']:5.2f} s wall; "
                f"so {idle:5.2f} s wall on an idle 2-core machine; peak "
                f"{found['process_peak_mb']:.0f} MB, the helper's {found['helper_peak_mb']:.0f} MB"
            )
    print(f"  load average at the end: {load:.1f} (2-core machines: above 1, others are running)")


if __name__ == "__main__":
    main()
