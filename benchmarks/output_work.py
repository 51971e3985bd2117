"""A fixed amount of the run's output work besides the briefs, for counting its
instructions under valgrind (CPU times on a shared machine swing by a third).

    PYTHONHASHSEED=0 PYTHONPATH=TREE valgrind --tool=callgrind \\
        --callgrind-out-file=cg.MODE .venv/bin/python benchmarks/output_work.py \\
        MODE --task TASK                                           # MODE: A, then C

The workbook (``--workbook``, p1000.xlsx by default) is evaluated once and frozen as
``write_outputs`` freezes it, everyone's Employees row at hand as the run's process
has them (``publish._employees_at_hand``); mode A then does TASK once (to warm every
cache a run warms), mode C does it ``--times`` more. C minus A over ``--times`` is the
task's count for the workbook's people. Or, faster, mode C alone with ``--toggle``
(the library ``callgrind_toggle.c`` builds) under ``valgrind --instr-atstart=no``:
only the ``--times`` rounds are instrumented; their count is the dump's total.

TASK: ``summary`` (its context, summary.html and .md), ``json``
(recommendations.json), ``xlsx`` (recommendations.xlsx), ``trace`` (every person's
unchained trace.jsonl line, as the brief workers make them, after the person's facts,
which the brief derived) or ``facts`` (that derivation alone: trace minus facts is the
lines'). ``--digest`` prints the SHA-256 of what the last round wrote (of an xlsx, its
entries bar docProps/core.xml).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import hashlib
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from talentrules import record
from talentrules.report import publish
from talentrules.report.builder import ContextBuilder
from talentrules.report.data import write_recommendations
from talentrules.report.names import Namer
from talentrules.report.render import Renderer
from talentrules.report.workbook import write_xlsx
from talentrules.run import evaluate_workbook

TASKS = ("summary", "json", "xlsx", "trace", "facts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("A", "C"))
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument("--workbook", type=Path, default=Path("/tmp/scale/p1000.xlsx"))
    parser.add_argument("--rules", type=Path, help="rules folder (default: the packaged)")
    parser.add_argument("--times", type=int, default=3)
    parser.add_argument("--digest", action="store_true")
    parser.add_argument(
        "--toggle", type=Path, help="callgrind_toggle.c built: count mode C's rounds alone"
    )
    args = parser.parse_args()
    result = evaluate_workbook(args.workbook, args.rules, jobs=1)
    gc.freeze()  # as write_outputs does
    namer = Namer(result.employees)
    renderer = Renderer(None)
    folder = Path(tempfile.mkdtemp(prefix="output-work-"))
    written: list[Path] = []

    def summary() -> None:
        context = ContextBuilder(result, namer).summary(panel_edition=True)
        for name in ("summary.html", "summary.md"):
            renderer.write(f"{name}.j2", context, folder / name)
            written.append(folder / name)

    def json() -> None:
        write_recommendations(result, namer, folder / "r.json")
        written.append(folder / "r.json")

    def xlsx() -> None:
        write_xlsx(result, folder / "r.xlsx", namer)
        written.append(folder / "r.xlsx")

    def trace() -> None:
        builder = ContextBuilder(result, namer)
        total = len(result.results)
        lines = []
        with builder.reading(0, total):
            for index in range(total):
                _ = result.results[index].person  # derived, as the person's brief has them
                lines.append(record.unchained_line(result, index))
        text = "".join(record.rechain(lines))
        (folder / "trace.txt").write_text(text, encoding="utf-8")
        written.append(folder / "trace.txt")

    def facts() -> None:  # what ``trace`` spends deriving the facts (not the line's)
        builder = ContextBuilder(result, namer)
        total = len(result.results)
        with builder.reading(0, total):
            for index in range(total):
                _ = result.results[index].person

    task: Callable[[], None] = {
        "summary": summary,
        "json": json,
        "xlsx": xlsx,
        "trace": trace,
        "facts": facts,
    }[args.task]
    # As the run's process has it while it writes the summary and the results files.
    with publish._employees_at_hand(result):
        task()
        if args.mode == "C":
            toggle = ctypes.CDLL(str(args.toggle)) if args.toggle else None
            if toggle is not None:
                toggle.cg_start()
            for _ in range(args.times):
                written.clear()
                task()
            if toggle is not None:
                toggle.cg_stop()
    if args.digest:
        digest = hashlib.sha256()
        for path in written:
            if path.suffix != ".xlsx":
                digest.update(path.read_bytes())
                continue
            with zipfile.ZipFile(path) as book:  # bar core.xml: it holds the time of writing
                for name in book.namelist():
                    if name != "docProps/core.xml":
                        digest.update(book.read(name))
        print(digest.hexdigest())
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
