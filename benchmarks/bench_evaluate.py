"""How long ``talentrules evaluate`` takes end to end, per stage, with peak memory, on
generated workbooks of 1,000 and 10,000 people (every brief in HTML and Markdown).

    .venv/bin/python benchmarks/bench_evaluate.py                 # 1,000 and 10,000
    .venv/bin/python benchmarks/bench_evaluate.py --people 2000 --jobs 2 --keep /tmp/wb

Each size runs in a fresh interpreter (``--child``) so peaks do not mix. Peak memory
is the parent's peak resident set and, separately, the largest worker's (engine
and brief workers are forked). Stages: ingest, rulebook, facts, engine, allocation
(library ``evaluate_workbook``), then briefs (contexts, rendering and file writes in
the workers), summary, files (JSON, trace, xlsx) and the final rename
(``write_outputs``), in wall seconds. "rendering" and "writing" are CPU seconds
summed over the brief workers (plus the summary, and the JSON/xlsx files), set
against the CPU of the whole run, so a machine shared with other work still gives
the split. Target: a 10,000-person run under 60 s on 2 cores, rendering at most a
third.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

STAGES = ("ingest", "rulebook", "facts", "engine", "allocation", "briefs", "summary", "files")


def child(workbook: str, outdir: str, jobs: int) -> None:
    """One measured run in this fresh process; prints the figures as JSON."""
    from talentrules.report import write_outputs
    from talentrules.run import evaluate_workbook

    start = time.perf_counter()
    result = evaluate_workbook(workbook, jobs=jobs)
    written = write_outputs(result, outdir, jobs=jobs)
    total = time.perf_counter() - start
    timings = {**result.timings, **written.timings}
    own, workers = (resource.getrusage(r) for r in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    self_mb, workers_mb = own.ru_maxrss / 1024, workers.ru_maxrss / 1024
    cpu = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
    size = sum(p.stat().st_size for p in Path(outdir).rglob("*") if p.is_file())
    print(
        json.dumps(
            {
                "people": written.briefs,
                "total": total,
                "cpu": cpu,
                "timings": timings,
                "peak_mb": self_mb,
                "worker_peak_mb": workers_mb,
                "output_mb": size / 1e6,
            }
        )
    )


def measure(people: int, jobs: int, folder: Path) -> dict[str, object]:
    from make_workbook import make_workbook

    workbook = folder / f"people-{people}.xlsx"
    if not workbook.exists():
        print(f"generating {workbook} ...", file=sys.stderr)
        make_workbook(workbook, people)
    outdir = folder / f"out-{people}"
    shutil.rmtree(outdir, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(workbook), str(outdir), "--jobs", str(jobs)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def report(figures: dict[str, object], jobs: int) -> str:
    timings = figures["timings"]
    assert isinstance(timings, dict)
    total = float(figures["total"])  # type: ignore[arg-type]
    cpu = float(figures["cpu"])  # type: ignore[arg-type]
    rendering = timings["briefs_render_cpu"] + timings["summary"]
    writing = timings["briefs_write_cpu"] + timings["trace_cpu"] + timings["files"]
    lines = [
        f"{figures['people']:,} people, jobs={jobs}: total {total:.1f} s, "
        f"peak {figures['peak_mb']:.0f} MB (largest worker {figures['worker_peak_mb']:.0f} MB), "
        f"outputs {figures['output_mb']:.0f} MB; CPU {cpu:.1f} s over all processes "
        f"(a busy machine stretches the wall times, not the CPU)",
    ]
    for stage in STAGES:
        seconds = float(timings.get(stage, 0.0))
        lines.append(f"  {stage:<11} {seconds:7.2f} s  {100 * seconds / total:5.1f} %")
    lines.append(
        f"  rendering   {rendering:7.2f} CPU s  {100 * rendering / cpu:5.1f} % of CPU  "
        "(brief contexts + templates in the workers, + summary)"
    )
    lines.append(
        f"  writing     {writing:7.2f} CPU s  {100 * writing / cpu:5.1f} % of CPU  "
        "(brief files in the workers, trace.jsonl meanwhile, JSON, xlsx)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, action="append")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="folder for workbooks and outputs (kept)")
    parser.add_argument("--child", nargs=2, metavar=("WORKBOOK", "OUTDIR"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.jobs)
        return
    sizes = args.people or [1000, 10000]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        folder = args.keep
    else:
        folder = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    try:
        for people in sizes:
            print(report(measure(people, args.jobs, folder), args.jobs), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
