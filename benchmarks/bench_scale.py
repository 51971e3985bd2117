"""Where one machine ends: ``talentrules validate`` and ``evaluate`` from 1,000 to
100,000 people, wall time, CPU and peak memory, on generated reviews.

    .venv/bin/python benchmarks/bench_scale.py                       # 1k, 10k, 40k, 100k
    .venv/bin/python benchmarks/bench_scale.py --people 1000 10000 --jobs 2
    .venv/bin/python benchmarks/bench_scale.py --people 200000 --csv --validate-only
    .venv/bin/python benchmarks/bench_scale.py --keep /tmp/scale    # keep the inputs
    .venv/bin/python benchmarks/bench_scale.py --people 40000 --panels 4

Inputs come from ``benchmarks/make_workbook.py`` (8 observations a person); with
``--csv`` a folder of CSV files instead of an .xlsx (past about 130,000 people the
only form that holds the Evidence). Each command runs through the CLI in a fresh
interpreter, so peaks do not mix: peak memory is that process's peak resident set,
and separately the largest forked worker's. Every output of ``evaluate`` is written
(briefs in HTML and Markdown, summary, results workbook, JSON, trace, manifest),
then counted and deleted. With ``--panels K`` the same number of people comes as K
panels of N/K people (each its own review: its own budget and seats, another seed),
evaluated as K separate processes, as many at once as there are cores, each
``--jobs 1``: how a whole population is split. The figures are for docs/scale.md;
the machine's other load stretches wall times, not CPU seconds.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def child(args: list[str]) -> None:
    """Run one CLI command in this fresh process and print its cost as JSON."""
    from talentrules.cli import cli

    start = time.perf_counter()
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        try:
            cli.main(args, standalone_mode=False)
            code = 0
        except SystemExit as stop:
            code = int(stop.code or 0)
    wall = time.perf_counter() - start
    own, workers = (resource.getrusage(r) for r in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(
        json.dumps(
            {
                "code": code,
                "wall": wall,
                "cpu": own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime,
                "peak_mb": own.ru_maxrss / 1024,
                "worker_peak_mb": workers.ru_maxrss / 1024,
                "said": sink.getvalue()[-400:],
            }
        )
    )


def run(args: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["code"] != 0:
        raise SystemExit(f"talentrules {' '.join(args)} failed: {figures['said']}")
    return figures


def make_input(people: int, folder: Path, as_csv: bool, seed: int = 0) -> Path:
    from make_workbook import make_workbook

    name = f"people-{people}" + (f"-seed{seed}" if seed else "")
    path = folder / (f"{name}-csv" if as_csv else f"{name}.xlsx")
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr, flush=True)
        make_workbook(path, people, seed=seed, as_csv=as_csv)
    return path


def panels(people: int, count: int, parallel: int, folder: Path, as_csv: bool) -> None:
    """``count`` panels of people/count each, ``parallel`` evaluate processes at a time."""
    size = people // count
    sources = [make_input(size, folder, as_csv, seed=seed + 1) for seed in range(count)]
    start = time.perf_counter()
    running: list[tuple[subprocess.Popen[str], Path]] = []
    figures: list[dict[str, object]] = []

    def finish(process: subprocess.Popen[str], outdir: Path) -> None:
        stdout, _ = process.communicate()
        figures.append(json.loads(stdout.strip().splitlines()[-1]))
        shutil.rmtree(outdir, ignore_errors=True)

    for n, source in enumerate(sources):
        if len(running) == parallel:
            finish(*running.pop(0))
        outdir = folder / f"out-panel-{n}"
        shutil.rmtree(outdir, ignore_errors=True)
        command = ["evaluate", str(source), "-o", str(outdir), "--jobs", "1"]
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", *command], stdout=subprocess.PIPE, text=True
        )
        running.append((process, outdir))
    for process, outdir in running:
        finish(process, outdir)
    wall = time.perf_counter() - start
    cpu = sum(float(f["cpu"]) for f in figures)  # type: ignore[arg-type]
    peak = max(float(f["peak_mb"]) for f in figures)  # type: ignore[arg-type]
    print(
        f"{people:>7,} people as {count} panels of {size:,}, {parallel} at a time, --jobs 1: "
        f"evaluate {wall:7.1f} s ({cpu:.1f}), peak {peak:,.0f} MB a process",
        flush=True,
    )


def _size(path: Path) -> tuple[float, int]:
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1000, 10000, 40000, 100000])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--csv", action="store_true", help="a folder of CSV files as input")
    parser.add_argument("--validate-only", action="store_true")
    parser.add_argument("--panels", type=int, help="split each N into this many panels")
    parser.add_argument("--keep", type=Path, help="folder for the inputs (kept, reused)")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, evaluate --jobs {args.jobs}, "
        f"{'CSV folder' if args.csv else '.xlsx'} input; wall s (CPU s over all processes), "
        "peak MB of the main process / largest worker",
        flush=True,
    )
    try:
        for people in args.people:
            if args.panels:
                panels(people, args.panels, os.cpu_count() or 1, folder, args.csv)
                continue
            source = make_input(people, folder, args.csv)
            mb, _ = _size(source)
            check = run(["validate", str(source)])
            print(
                f"{people:>7,} people, input {mb:,.0f} MB: validate {check['wall']:7.1f} s "
                f"({check['cpu']:.1f}), peak {check['peak_mb']:,.0f} MB",
                flush=True,
            )
            if args.validate_only:
                continue
            outdir = folder / f"out-{people}"
            shutil.rmtree(outdir, ignore_errors=True)
            done = run(["evaluate", str(source), "-o", str(outdir), "--jobs", str(args.jobs)])
            out_mb, out_files = _size(outdir)
            shutil.rmtree(outdir, ignore_errors=True)
            print(
                f"{'':>7} evaluate {done['wall']:7.1f} s ({done['cpu']:.1f}), peak "
                f"{done['peak_mb']:,.0f} / {done['worker_peak_mb']:,.0f} MB "
                f"({1000 * float(done['peak_mb']) / people:.0f} KB a person), "  # type: ignore[arg-type]
                f"outputs {out_mb:,.0f} MB in {out_files:,} files",
                flush=True,
            )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
