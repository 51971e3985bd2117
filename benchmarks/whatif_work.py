"""A fixed amount of "what would change" work alone (``brief.what_would_change``), for
counting its instructions under valgrind or timing it, and a digest of what it found.

    PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no \\
        --callgrind-out-file=cg.out .venv/bin/python benchmarks/whatif_work.py count
    then the same with ``count0`` (everything but the call itself): the difference of
    the two "summary" lines is what would change alone (the instrumentation is on only
    for the people after the warm ones)

The workbook is evaluated and the first 200 briefs built (the run's memos warmed as a
run warms them); then for the next ``--people`` people, their facts read (as a brief's
header reads them first) and ``what_would_change`` called, in spans of 250 as the
workers build them. ``time`` reports its CPU ms a person; ``digest`` a hash of every
section it returned (equal on two branches: the same output); ``profile`` cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import subprocess
import time
from pathlib import Path

from talentrules.report import brief
from talentrules.report.builder import ContextBuilder
from talentrules.run import evaluate_workbook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("count", "count0", "time", "digest", "profile"))
    parser.add_argument("--workbook", type=Path, default=Path("/tmp/scale/p1000.xlsx"))
    parser.add_argument("--people", type=int, default=800, help="people after the warm 200")
    args = parser.parse_args()
    result = evaluate_workbook(args.workbook, jobs=1)
    view = ContextBuilder(result)
    end = min(200 + args.people, len(result.results))
    with view.reading(0, 200):
        for index in range(min(200, end)):
            view.brief(index)
    digest = hashlib.sha256()
    spent = 0.0
    profile = cProfile.Profile() if args.mode == "profile" else None

    def switch(on: bool) -> None:
        if args.mode.startswith("count"):
            flag = "on" if on else "off"
            subprocess.run(
                ["callgrind_control", "-i", flag, str(os.getpid())], check=True, capture_output=True
            )

    switch(True)
    for start in range(200, end, 250):
        with view.reading(start, min(start + 250, end)):
            for index in range(start, min(start + 250, end)):
                res = result.results[index]
                employee_id = res.employee_id
                result.facts[employee_id].values  # noqa: B018 (a brief's header reads them)
                outcomes = res.evaluation.outcomes
                if args.mode == "count0":
                    continue
                if args.mode == "count":
                    brief.what_would_change(view, employee_id, outcomes, res.evaluation)
                    continue
                began = time.thread_time()
                if profile is not None:
                    profile.enable()
                found = brief.what_would_change(view, employee_id, outcomes, res.evaluation)
                if profile is not None:
                    profile.disable()
                spent += time.thread_time() - began
                digest.update(repr(found).encode())
    switch(False)
    people = max(end - 200, 1)
    if args.mode == "time":
        print(f"what would change: {1000 * spent / people:.3f} CPU ms a person ({people})")
    if args.mode == "digest":
        print(digest.hexdigest())
    if profile is not None:
        pstats.Stats(profile).sort_stats(os.environ.get("SORT", "tottime")).print_stats(30)


if __name__ == "__main__":
    main()
