"""What the run's own process spends CPU on while the brief workers render (issue 13):
the summary (its exception groups apart), recommendations.json and
recommendations.xlsx, each made from one evaluated workbook, best of ``--rounds``.

    .venv/bin/python benchmarks/bench_parent.py --workbook /tmp/scale/p10000.xlsx

With ``--jobs 2`` on a 2-core machine the run's process shares the cores with two
brief workers, so every CPU second here is about half a second of the run's wall
time. ``--openpyxl`` also times the results workbook written by openpyxl's
write-only mode (the writer ``report/sheetml.py`` replaced, kept in
tests/xlsx_reference.py).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workbook", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--openpyxl", action="store_true")
    args = parser.parse_args()

    from talentrules.report import summary
    from talentrules.report.builder import ContextBuilder
    from talentrules.report.data import write_recommendations
    from talentrules.report.names import Namer
    from talentrules.report.render import Renderer
    from talentrules.report.workbook import write_xlsx
    from talentrules.run import evaluate_workbook

    start = time.perf_counter()
    result = evaluate_workbook(args.workbook, jobs=args.jobs)
    stages = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
    print(f"{args.workbook.name}: {len(result.results)} people evaluated in "
          f"{time.perf_counter() - start:.1f} s wall ({stages})")  # fmt: skip
    gc.freeze()  # as write_outputs does
    namer = Namer(result.employees)
    renderer = Renderer(None)
    folder = Path(tempfile.mkdtemp(prefix="bench-parent-"))

    def whole_summary() -> None:
        context = ContextBuilder(result, namer).summary(panel_edition=True)
        for name in ("summary.html", "summary.md"):
            renderer.write(f"{name}.j2", context, folder / name)

    tasks: dict[str, Callable[[], object]] = {
        "summary, all of it": whole_summary,
        "  of which exception groups": lambda: summary._exceptions(ContextBuilder(result, namer)),
        "recommendations.json": lambda: write_recommendations(result, namer, folder / "r.json"),
        "recommendations.xlsx": lambda: write_xlsx(result, folder / "r.xlsx", namer),
    }
    if args.openpyxl:
        sys.path.insert(0, str(ROOT / "tests"))
        from xlsx_reference import OpenpyxlBook

        tasks["recommendations.xlsx by openpyxl"] = lambda: write_xlsx(
            result, folder / "o.xlsx", namer, OpenpyxlBook
        )
    for name, task in tasks.items():
        best = float("inf")
        for _ in range(args.rounds):
            cpu = time.process_time()
            task()
            best = min(best, time.process_time() - cpu)
        print(f"  {name:<36} {best:6.2f} CPU s")
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
