"""A fixed amount of brief work, for counting its instructions under valgrind, which a
shared machine's load does not change (CPU times on it swing by a third between runs).

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=cg.A \\
        .venv/bin/python benchmarks/brief_work.py A
    (then B, C and D; the differences of the counts' "summary" lines are the parts)

The workbook is evaluated and the first 200 briefs built and rendered (the per-run
memos warmed as a run warms them); that is all of mode A. Then the next ``--people``
briefs are built (B), built and rendered in HTML and Markdown (C), or built without
"what would change" (D), in spans of 250 as the workers build them. B - A is the
contexts, C - B the templates, B - D "what would change".
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from talentrules.report import brief
from talentrules.report.builder import ContextBuilder
from talentrules.report.render import Renderer
from talentrules.run import evaluate_workbook

TEMPLATES = ("brief.html.j2", "brief.md.j2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("A", "B", "C", "D"))
    parser.add_argument("--workbook", type=Path, default=Path("/tmp/scale/p1000.xlsx"))
    parser.add_argument("--people", type=int, default=800, help="briefs after the warm 200")
    args = parser.parse_args()
    result = evaluate_workbook(args.workbook, jobs=1)
    view = ContextBuilder(result)
    renderer = Renderer()
    end = min(200 + args.people, len(result.results))
    with view.reading(0, 200), renderer.many():
        for index in range(min(200, end)):
            context = view.brief(index)
            for name in TEMPLATES:
                renderer.render(name, context)
    if args.mode == "A":
        return
    if args.mode == "D":

        def nothing(*args: Any, **kwargs: Any) -> tuple[()]:
            return ()

        brief.what_would_change = nothing
    for start in range(200, end, 250):
        with view.reading(start, min(start + 250, end)), renderer.many():
            for index in range(start, min(start + 250, end)):
                context = view.brief(index)
                if args.mode == "C":
                    for name in TEMPLATES:
                        renderer.render(name, context)


if __name__ == "__main__":
    main()
