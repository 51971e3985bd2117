"""The stages before the briefs (rulebook, ingest, facts, engine, allocation), timed:
``run.evaluate_workbook`` of a workbook with no outputs written, each stage's wall
seconds and the CPU seconds of this process and of its children (the ingest's helper,
the engine's workers) over the whole call.

    .venv/bin/python benchmarks/stages_work.py /tmp/scale/p10000.xlsx --jobs 2

Fixed work, for ``valgrind --tool=callgrind --trace-children=yes`` too (instructions:
``--jobs 1`` keeps it in one process)."""

from __future__ import annotations

import argparse
import resource
import time

from talentrules.run import evaluate_workbook


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workbook")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for _ in range(args.repeat):
        own, kids = resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN
        before = [resource.getrusage(w) for w in (own, kids)]
        began = time.perf_counter()
        result = evaluate_workbook(args.workbook, jobs=args.jobs, allow_rejects=True)
        wall = time.perf_counter() - began
        after = [resource.getrusage(w) for w in (own, kids)]
        cpu = [
            (a.ru_utime + a.ru_stime) - (b.ru_utime + b.ru_stime)
            for a, b in zip(after, before, strict=True)
        ]
        stages = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
        print(
            f"{len(result.results)} people, jobs {args.jobs}: {wall:.2f} s wall "
            f"({stages}); CPU s: this process {cpu[0]:.2f}, children {cpu[1]:.2f}"
        )


if __name__ == "__main__":
    main()
