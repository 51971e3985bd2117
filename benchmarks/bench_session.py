"""What one decision costs in ``talentrules serve`` on an N-person workbook (default
1,000): recording it (validated, committed to SQLite with synchronous FULL), then the
recount (every session decision applied again as an override and the plan counted:
``run.with_session``), the fairness monitor of the decisions, and the summary page's
context, with 0, 100 and 1,000 decisions already in the session.

    .venv/bin/python benchmarks/bench_session.py
    .venv/bin/python benchmarks/bench_session.py --people 10000 --workbook /tmp/big.xlsx

The engine runs once, before any of this (as the server does at start). Goal: the
recount and the fairness monitor well under a second for 1,000 people. Median and
worst of the repeats are printed; the machine is shared, so read the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

VALUES = ("Emerging", "Strong", "Not evidenced", "Insufficient evidence")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--workbook", type=Path, help="use (or write) this workbook")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    from talentrules.fairness import fairness
    from talentrules.run import evaluate_workbook
    from talentrules.serve.state import PanelState
    from talentrules.session import open_session

    folder = Path(tempfile.mkdtemp(prefix="bench-session-"))
    workbook = args.workbook or folder / f"people-{args.people}.xlsx"
    if not workbook.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_workbook.py"),
                "--people",
                str(args.people),
                str(workbook),
            ],
            check=True,
        )
    start = time.perf_counter()
    result = evaluate_workbook(workbook)
    print(f"evaluated {len(result.results)} people once in {time.perf_counter() - start:.1f} s")
    session = open_session(
        folder / "bench.session.sqlite",
        workbook.name,
        result.panel.sha256,
        result.rulebook.sha256,
    )
    state = PanelState(result, session)
    ids = [r.employee_id for r in result.results]
    print(
        f"{'decisions before':>16} {'record ms':>10} {'recount ms':>11} "
        f"{'fairness ms':>12} {'summary ms':>11}   (median / worst of {args.repeats})"
    )
    made = 0
    for target in (0, 100, 1000):
        while made < target:  # fill the session up to the target, not measured
            state.session.record(ids[made % len(ids)], "heart", "Emerging", "fill", "bench")
            made += 1
        state.current()
        record, recount, monitor, summary = [], [], [], []
        for n in range(args.repeats):
            raw = {
                "employee_id": ids[(made + n) % len(ids)],
                "field": "heart",
                "decision": VALUES[n % len(VALUES)],
                "reason": "benchmark",
                "decided_by": "bench",
            }
            t0 = time.perf_counter()
            values = state.validate(raw, state.session.last_seq + 1)
            state.session.record(**values)
            t1 = time.perf_counter()
            snapshot = state.current()
            t2 = time.perf_counter()
            fairness(snapshot.result, decided=True)
            t3 = time.perf_counter()
            if n < 3:  # the summary page's context is slow to build: a few suffice
                snapshot.summary  # noqa: B018 (built on first use)
                summary.append(time.perf_counter() - t3)
            record.append(t1 - t0)
            recount.append(t2 - t1)
            monitor.append(t3 - t2)
        made += args.repeats

        def ms(values: list[float]) -> str:
            return f"{statistics.median(values) * 1000:.0f}/{max(values) * 1000:.0f}"

        print(
            f"{target:>16} {ms(record):>10} {ms(recount):>11} {ms(monitor):>12} {ms(summary):>11}"
        )
    session.close()


if __name__ == "__main__":
    main()
