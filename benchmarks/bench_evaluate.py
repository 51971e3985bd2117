"""How long ``talentrules evaluate`` takes end to end, per stage, with peak memory, on
generated workbooks, beside the floors issue 13 measures it against.

    .venv/bin/python benchmarks/bench_evaluate.py                      # 1,000 and 10,000
    .venv/bin/python benchmarks/bench_evaluate.py --people 10000 --keep /tmp/wb
    .venv/bin/python benchmarks/bench_evaluate.py --workbook /tmp/scale/p40000.xlsx --jobs 2
    .venv/bin/python benchmarks/bench_evaluate.py --workbook /tmp/scale/p10000.xlsx --rounds 3

For each workbook, each in a fresh interpreter (``--child``) so that peaks do not mix:

- **floors**: openpyxl in read-only mode iterating every cell of every sheet (and
  python-calamine reading every sheet, when it is installed);
- **evaluate** with ``--jobs 1`` and with ``--jobs N`` (default: the machine's cores),
  every output written (briefs in HTML and Markdown, summary, recommendations.xlsx and
  .json, trace.jsonl, manifest): wall seconds per stage (rulebook, ingest, facts,
  engine, allocation from ``evaluate_workbook``; briefs and their trace lines, with the
  summary and results files the run's process writes meanwhile and trace.jsonl chained
  after, and manifest from ``write_outputs``), CPU seconds of the briefs' parts and of
  what the run's process writes, CPU over all processes, the peak
  resident set of the run's process and of its largest worker
  (``resource.getrusage``), the output's size and the trace's bytes a person;
- with ``--rounds R``, openpyxl's floor and evaluate ``--jobs N`` again, alternately,
  R times in all: each pair's ratio is printed, and their median is the ratio below
  (the host's speed drifts by a tenth within an hour; a pair shares the drift);
- **ratios**, all from this one run: evaluate (jobs N) against openpyxl's read-only
  iteration (issue 13: at most 1.0), ``--jobs 1`` against ``--jobs N`` (at least
  1.6 on an idle 2-core machine).

The machine's other load stretches wall times: the load average is printed before
and after, and the ratios compare runs made minutes apart.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

STAGES = ("rulebook", "ingest", "facts", "engine", "allocation", "briefs", "manifest")


def _usage() -> tuple[float, float, float]:
    """(CPU s over this process and its children, own peak MB, largest child's peak MB)."""
    own, workers = (resource.getrusage(r) for r in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    cpu = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
    return cpu, own.ru_maxrss / 1024, workers.ru_maxrss / 1024


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def child_evaluate(workbook: str, outdir: str, jobs: int) -> dict[str, object]:
    """One measured run in this fresh process."""
    from talentrules import run
    from talentrules.report import write_outputs
    from talentrules.run import evaluate_workbook

    # The ingest's CPU s in this process and in its helper (ingest/load.py; a child
    # process's CPU is counted once it has been waited for, which the ingest does).
    ingest: dict[str, float] = {}
    load_workbook = vars(run)["load_workbook"]

    def measured(*args: Any, **kwargs: Any) -> Any:
        cpu, helper = time.process_time(), _children_cpu()
        try:
            return load_workbook(*args, **kwargs)
        finally:
            ingest["ingest_cpu"] = time.process_time() - cpu
            ingest["ingest_helper_cpu"] = _children_cpu() - helper

    vars(run)["load_workbook"] = measured  # what evaluate_workbook calls
    start = time.perf_counter()
    result = evaluate_workbook(workbook, jobs=jobs)
    written = write_outputs(result, outdir, jobs=jobs)
    total = time.perf_counter() - start
    cpu, peak, worker_peak = _usage()
    size = sum(p.stat().st_size for p in Path(outdir).rglob("*") if p.is_file())
    trace = (Path(outdir) / "trace.jsonl").stat().st_size
    return {
        "people": written.briefs,
        "total": total,
        "cpu": cpu,
        "timings": {**result.timings, **written.timings, **ingest},
        "peak_mb": peak,
        "worker_peak_mb": worker_peak,
        "output_mb": size / 1e6,
        "trace_kb_person": trace / 1000 / max(1, written.briefs),
    }


def child_openpyxl(workbook: str) -> dict[str, object]:
    """openpyxl, read-only: every cell of every sheet, values only."""
    import openpyxl

    start = time.perf_counter()
    book = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
    cells = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells += len(row)
    book.close()
    cpu, peak, _ = _usage()
    return {"total": time.perf_counter() - start, "cpu": cpu, "peak_mb": peak, "cells": cells}


def child_calamine(workbook: str) -> dict[str, object] | None:
    """python-calamine (Rust), when installed: every sheet as Python values."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return None
    start = time.perf_counter()
    book = CalamineWorkbook.from_path(workbook)
    cells = sum(
        len(row) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python()
    )
    cpu, peak, _ = _usage()
    return {"total": time.perf_counter() - start, "cpu": cpu, "peak_mb": peak, "cells": cells}


def _run_child(*args: str) -> dict[str, object] | None:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, object] | None = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _load() -> str:
    return (
        " ".join(Path("/proc/loadavg").read_text().split()[:3])
        if Path("/proc/loadavg").exists()
        else "?"
    )


def _stages(figures: dict[str, object], label: str) -> list[str]:
    timings = figures["timings"]
    assert isinstance(timings, dict)
    total = float(figures["total"])  # type: ignore[arg-type]
    worker_mb = float(figures["worker_peak_mb"])  # type: ignore[arg-type]
    workers = f"largest worker {worker_mb:.0f} MB" if worker_mb else "no other process"
    lines = [
        f"  evaluate {label}: {total:.1f} s wall, {float(figures['cpu']):.1f} CPU s "  # type: ignore[arg-type]
        f"over all processes; peak {float(figures['peak_mb']):.0f} MB "  # type: ignore[arg-type]
        f"({workers}); outputs "
        f"{float(figures['output_mb']):.0f} MB, trace "  # type: ignore[arg-type]
        f"{float(figures['trace_kb_person']):.1f} KB a person"  # type: ignore[arg-type]
    ]
    for stage in STAGES:
        seconds = float(timings.get(stage, 0.0))
        lines.append(f"    {stage:<11} {seconds:7.2f} s  {100 * seconds / total:5.1f} %")
    if "ingest_cpu" in timings:
        lines.append(
            f"    (in ingest, CPU s: the run's process {timings['ingest_cpu']:.2f}, "
            f"its helper {timings['ingest_helper_cpu']:.2f})"
        )
    lines.append(
        f"    (in briefs, CPU s: contexts {timings['briefs_context_cpu']:.2f}, templates "
        f"{timings['briefs_render_cpu']:.2f}, brief files {timings['briefs_write_cpu']:.2f} "
        f"(kernel {timings.get('briefs_write_kernel_cpu', 0.0):.2f}), "
        f"trace lines {timings.get('briefs_trace_cpu', 0.0):.2f}; "
        f"this process {'meanwhile' if label != '--jobs 1' else 'after them'}: "
        f"summary {timings['summary_cpu']:.2f}, "
        f"recommendations .json and .xlsx {timings['files_cpu']:.2f}; "
        f"then trace.jsonl chained {timings['trace_cpu']:.2f})"
    )
    return lines


# When this benchmark last removed its outputs, and how many files: on ext4 without a
# journal (these machines) creating a file skips each inode freed in the last one to six
# minutes nearby, so an invocation made right after another pays for the other's
# clean-up in its brief files (docs/scale.md, "Brief files at two jobs").
_REMOVED = Path(tempfile.gettempdir()) / "talentrules-bench-evaluate.removed"
_RECENT_S = 360  # the longest such a freed inode is skipped (ext4: 60 s, 360 s while dirty)


def _remove(outdir: Path) -> None:
    files = sum(1 for path in outdir.rglob("*") if path.is_file()) if outdir.exists() else 0
    shutil.rmtree(outdir, ignore_errors=True)
    if files:
        _REMOVED.write_text(f"{time.time()} {files}\n")


def _recent_removal() -> list[str]:
    """A note when this benchmark removed its outputs minutes ago (another invocation)."""
    try:
        at, files = _REMOVED.read_text().split()
        ago = time.time() - float(at)
    except (OSError, ValueError):
        return []
    if not 0 <= ago < _RECENT_S:
        return []
    return [
        f"  note: this benchmark removed {int(files):,} files {ago:.0f} s ago; for up to "
        f"{_RECENT_S} s after, creating files here may cost more (brief files, kernel)"
    ]


def _floor_line(floor: dict[str, object], round_: str) -> str:
    return (
        f"  floor{round_}: openpyxl read-only, every cell ({floor['cells']:,}): "
        f"{float(floor['total']):.1f} s wall, {float(floor['cpu']):.1f} CPU s, "  # type: ignore[arg-type]
        f"peak {float(floor['peak_mb']):.0f} MB"  # type: ignore[arg-type]
    )


def report(workbook: Path, jobs: int, outdir: Path, rounds: int = 1) -> str:
    """Floors, ``--jobs 1`` and ``--jobs N``; with ``rounds`` above 1, openpyxl's floor
    and ``--jobs N`` again, alternately, each pair a ratio of its own: the host's speed
    drifts by a tenth within the hour, and a pair minutes apart shares the drift."""
    lines = [f"{workbook.name}: load average {_load()}", *_recent_removal()]
    floor = _run_child("openpyxl", str(workbook))
    assert floor is not None
    numbered = " (round 1)" if rounds > 1 else ""
    lines.append(_floor_line(floor, numbered))
    calamine = _run_child("calamine", str(workbook))
    if calamine is not None:
        lines.append(
            f"  floor: python-calamine, every sheet: {calamine['total']:.1f} s wall, "
            f"{calamine['cpu']:.1f} CPU s, peak {calamine['peak_mb']:.0f} MB"
        )
    else:
        lines.append("  floor: python-calamine not installed (pip install python-calamine)")
    runs = {}
    # Each run writes a folder of its own, all removed at the end: on ext4 without a
    # journal (these machines) the kernel skips, at every file it creates, each inode
    # freed in the last one to six minutes, so a run right after 20,000 files were
    # removed pays seconds of CPU for the removal (docs/scale.md, ninth part).
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    for n in sorted({1, jobs}):
        figures = _run_child("evaluate", str(workbook), str(outdir / f"jobs{n}"), str(n))
        assert figures is not None
        runs[n] = figures
        lines += _stages(figures, f"--jobs {n}")
    wall = float(runs[jobs]["total"])  # type: ignore[arg-type]
    ratios = [wall / float(floor["total"])]  # type: ignore[arg-type]
    for round_ in range(2, rounds + 1):
        floor_again = _run_child("openpyxl", str(workbook))
        assert floor_again is not None
        lines.append(_floor_line(floor_again, f" (round {round_})"))
        folder = outdir / f"jobs{jobs}-round{round_}"
        figures = _run_child("evaluate", str(workbook), str(folder), str(jobs))
        assert figures is not None
        lines += _stages(figures, f"--jobs {jobs} (round {round_})")
        ratios.append(float(figures["total"]) / float(floor_again["total"]))  # type: ignore[arg-type]
    _remove(outdir)
    if rounds > 1:
        lines.append(
            f"  ratio: evaluate --jobs {jobs} / openpyxl read-only, each round = "
            + ", ".join(f"{r:.2f}" for r in ratios)
        )
    lines.append(
        f"  ratio: evaluate --jobs {jobs} / openpyxl read-only = "
        f"{statistics.median(ratios):.2f}{' (the median)' if rounds > 1 else ''} "
        "(target at most 1.0)"
    )
    if jobs > 1:
        one = float(runs[1]["total"])  # type: ignore[arg-type]
        lines.append(f"  ratio: --jobs 1 / --jobs {jobs} = {one / wall:.2f} (target at least 1.6)")
    lines.append(f"  load average after: {_load()}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, action="append")
    parser.add_argument("--workbook", type=Path, action="append", help="an existing workbook")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="folder for generated workbooks (kept)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="openpyxl's floor and evaluate --jobs N this many times, alternately",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "evaluate":
            print(json.dumps(child_evaluate(rest[0], rest[1], int(rest[2]))))
        elif kind == "openpyxl":
            print(json.dumps(child_openpyxl(rest[0])))
        else:
            print(json.dumps(child_calamine(rest[0])))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        workbooks = list(args.workbook or [])
        if not workbooks or args.people:
            from make_workbook import make_workbook

            for people in args.people or [1000, 10000]:
                path = folder / f"people-{people}.xlsx"
                if not path.exists():
                    print(f"generating {path} ...", file=sys.stderr)
                    make_workbook(path, people)
                workbooks.append(path)
        for workbook in workbooks:
            print(report(workbook, args.jobs, folder / "out", args.rounds), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
