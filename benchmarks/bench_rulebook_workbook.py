"""What a rulebook workbook costs beside its rules folder: loading and checking each
(what every command taking --rules does first), exporting the folder to a workbook,
importing it back, and writing the handbook. Best of --repeat runs, each loading
anew (the workbook reader's cache is cleared), in one process so the ratios compare.

    .venv/bin/python benchmarks/bench_rulebook_workbook.py
    .venv/bin/python benchmarks/bench_rulebook_workbook.py --repeat 5
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from talentrules import rulexlsx
from talentrules.handbook import build_handbook, render_handbook
from talentrules.paths import default_rules_dir
from talentrules.rulebook import check_report, load_rulebook
from talentrules.rulexlsx import export_rulebook, import_rulebook


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        rulexlsx._OPENED.clear()  # read the workbook anew, as a new process would
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    folder = default_rules_dir()
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "rulebook.xlsx"
        export = best(repeat, lambda: export_rulebook(folder, book, force=True))
        rows = [
            ("load_rulebook, folder", best(repeat, lambda: load_rulebook(folder))),
            ("load_rulebook, workbook", best(repeat, lambda: load_rulebook(book))),
            ("rules check (language), folder", best(repeat, lambda: check_report(folder))),
            ("rules check (language), workbook", best(repeat, lambda: check_report(book))),
            ("rules export", export),
            (
                "rules import",
                best(repeat, lambda: import_rulebook(book, Path(tmp) / "back", force=True)),
            ),
            ("rules book", best(repeat, lambda: render_handbook(build_handbook(folder)))),
        ]
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:6.3f} s")
    folder_load, book_load = rows[0][1], rows[1][1]
    print(f"workbook / folder, load_rulebook: {book_load / folder_load:.2f}x")


if __name__ == "__main__":
    main()
