"""How long facts and the reference evaluator take for N people (default 10,000).

Builds the rows in memory (8 evidence rows per person, as the issue's figure
assumes), so only the facts stage and the evaluator are timed, not Excel reading.
Prints persons per second for: compute_facts; reference evaluate; reference
explain (the full per-person trace body, each trace dropped once made).

    .venv/bin/python benchmarks/facts_speed.py [N]
    .venv/bin/python benchmarks/facts_speed.py /tmp/talentrules-bench-10000.xlsx

Given a workbook (benchmarks/make_workbook.py writes varied people, where the
synthetic rows above repeat a few patterns), the people come from it instead, read
by ingest before the clock starts; explain is then timed on varied values.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from talentrules.contract import SHEETS
from talentrules.facts import compute_facts, load_catalogue
from talentrules.ingest import load_workbook
from talentrules.model import Cell, Panel, Row
from talentrules.paths import default_rules_dir
from talentrules.reference import evaluate, explain
from talentrules.rulebook import load_rulebook

AS_OF = dt.date(2026, 10, 31)
SIGNALS = ["H-DEV", "H-AFF", "H-VIS", "C-DER", "H-FOL", "C-EXP", "H-NCA", "H-CRG"]
CONTEXTS = ["Project", "Formal role", "No formal authority"]
SOURCES = ["Peer", "Manager", "Self", "Direct report"]


def _row(sheet: str, number: int, values: dict[str, Any]) -> Row:
    """A row as ingest gives it: every contract column of the sheet, blank or not."""
    columns = [c.name for c in next(s for s in SHEETS if s.name == sheet).columns]
    cells = {
        name: Cell(values.get(name), f"{sheet}!{chr(65 + i)}{number}")
        for i, name in enumerate(columns)
    }
    return Row(sheet, number, cells)


def panel(people: int, per_person: int = 8) -> Panel:
    employees = [
        _row(
            "Employees",
            n + 2,
            {
                "employee_id": f"E{n:05d}",
                "performance": 1 + n % 5,
                "performance_prior_1": 1 + (n // 5) % 5,
                "potential": 1 + n % 3,
                "readiness": "Ready now" if n % 2 else "Not ready",
                "career_interest": "Lead people" if n % 3 else "Grow as expert",
                "is_people_manager": n % 4 == 0,
                "hire_date": dt.date(2015 + n % 10, 1 + n % 12, 1),
            },
        )
        for n in range(people)
    ]
    evidence = [
        _row(
            "Evidence",
            n * per_person + k + 2,
            {
                "employee_id": f"E{n:05d}",
                "signal": SIGNALS[(n + k) % len(SIGNALS)] if k % 2 else "H-DEV",
                "observed_on": dt.date(2024 + k % 3, 1 + (n + k) % 12, 1),
                "context": CONTEXTS[(n + k) % 3],
                "source_type": SOURCES[(n * 3 + k) % 4],
                "source_id": f"S{(n + k) % 5}" if k % 3 else None,
                "energy": "Energised" if (n + k) % 5 else "Drained",
                "outcome_in_others": "Commitment" if k % 2 else "Compliance",
            },
        )
        for n in range(people)
        for k in range(per_person)
    ]
    rows = {
        "Cycle": [_row("Cycle", 2, {"as_of": AS_OF})],
        "Employees": employees,
        "Evidence": evidence,
    }
    return Panel(Path("synthetic"), "", 0, rows, [], [], [], [], {})


def timed(label: str, people: int, work: Callable[[], object]) -> None:
    """Print persons per second, by wall clock and by this process's CPU time (the one
    to compare on a shared machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"  {label:<40} {people / wall:>9,.0f}/s wall {people / cpu:>9,.0f}/s cpu  ({wall:.2f} s)"
    )


def main() -> None:
    arg = sys.argv[1] if len(sys.argv) > 1 else "10000"
    rulebook = load_rulebook(default_rules_dir())
    if arg.endswith(".xlsx"):
        data = load_workbook(Path(arg))
        catalogue = load_catalogue(default_rules_dir() / "catalogue.yaml")
    else:
        data, catalogue = panel(int(arg)), None
    persons = compute_facts(data, rulebook.vocabulary, catalogue)
    people = len(persons)
    print(
        f"{people} people, {len(data.rows['Evidence'])} evidence rows, "
        f"{len(rulebook.rules)} rules, {len(rulebook.vocabulary)} facts"
    )
    timed("compute_facts", people, lambda: compute_facts(data, rulebook.vocabulary, catalogue))
    evaluations = [evaluate(rulebook, p) for p in persons]
    timed("reference evaluate", people, lambda: [evaluate(rulebook, p) for p in persons])

    def explain_all() -> None:
        for person, evaluation in zip(persons, evaluations, strict=True):
            explain(rulebook, person, evaluation)

    timed("reference explain (traces dropped)", people, explain_all)


if __name__ == "__main__":
    main()
