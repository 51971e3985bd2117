"""Write an N-person review workbook with realistic distributions, for benchmarks and
load tests.

    python benchmarks/make_workbook.py --people 10000 --seed 0 big.xlsx
    python benchmarks/make_workbook.py --people 200000 --csv big-csv/

Deterministic: the same people, seed and evidence rate give the same values (one
``random.Random(seed)``, no other source of randomness). Written in openpyxl's
write-only mode so 10,000 people (about 80,000 evidence rows) take seconds; with
``--csv``, as a folder of CSV files (one per sheet, the same values as text), which
has no row limit: past about 130,000 people the Evidence sheet outgrows Excel's.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from talentrules.contract import SHEETS
from talentrules.vocabulary import signal_catalogue

AS_OF = dt.date(2026, 10, 31)
SPAN_OF_CONTROL = 8  # ~1 in 8 people manages people

# The packaged rulebook's signal catalogue: the codes a workbook may use.
SIGNAL_CATALOGUE = signal_catalogue()
H_SIGNALS = [code for code, signal in SIGNAL_CATALOGUE.items() if not signal.counter]
C_SIGNALS = [code for code, signal in SIGNAL_CATALOGUE.items() if signal.counter]

FIRST = ["Ana", "Ben", "Chen", "Dara", "Eli", "Femi", "Gita", "Hugo", "Ines", "Jon", "Kofi"]
FIRST += ["Lena", "Mo", "Nia", "Omar", "Pia", "Quinn", "Rui", "Sara", "Tom", "Uma", "Vik"]
LAST = ["Adams", "Banda", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito"]
LAST += ["Jensen", "Khan", "Lopez", "Moreau", "Novak", "Okafor", "Park", "Rossi", "Silva"]
UNITS = ["Engineering", "Operations", "Product", "Finance", "Sales", "People", "Legal", "Data"]
LOCATIONS = ["Lyon", "Porto", "Dublin", "Berlin", "Austin", "Pune", "Toronto"]
TITLES = ["Analyst", "Engineer", "Specialist", "Consultant", "Designer", "Accountant"]

CONTEXTS = ["Formal role", "No formal authority", "Project", "Crisis", "Community", "Outside work"]
INFLUENCE = ["Position", "Expertise", "Personal", "Rules and monitoring"]
SOURCE_TYPES = ["Manager", "Skip manager", "Peer", "Direct report", "Self", "Assessment"]

CATALOGUE = [  # code, name, track, mode, seats per 1,000 people (None: no limit), cost, months
    ("LEAD-STRETCH", "Stretch assignment", "Leadership", "70", 12, 3000, 6),
    ("LEAD-ROTATE", "Cross-functional rotation", "Leadership", "70", 6, 2500, 6),
    ("LEAD-TASTER", "Small leading role", "Leadership", "70", 25, 500, 3),
    ("LEAD-PROG", "Cohort leadership programme", "Leadership", "10", 8, 6500, 9),
    ("LEAD-COACH", "Leadership coaching", "Leadership", "20", 8, 4000, 6),
    ("LEAD-MENTOR", "Mentoring by a senior leader", "Leadership", "20", 15, 800, 12),
    ("DIAG-DC", "Development centre", "Diagnostic", "-", 10, 2500, 1),
    ("EXP-LADDER", "Expert-track progression", "Expert", "70/10", 10, 3500, 12),
    ("EXP-LEAD", "Expert leadership role", "Expert", "70", 8, 1500, 12),
    ("PERS-LEAD", "Personal-leadership role", "Personal leadership", "70/20", 8, 1000, 12),
    ("MGMT-SKILLS", "Management fundamentals", "Management skills", "10", 15, 1800, 3),
    ("MGMT-ROLEFIT", "Role-fit conversation", "Management skills", "-", None, 0, 1),
    ("PERF-SUPPORT", "Develop in role", "Develop in role", "70", None, 600, 6),
    ("RET", "Retention action", "Retention", "overlay", None, 2000, 3),
]


def _pick(rng: random.Random, weighted: dict[Any, float]) -> Any:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def _days_before(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


class _Writer:
    """Records into a write-only sheet, in contract column order (dates come out as
    yyyy-mm-dd, openpyxl's default for a date), or into ``folder/NAME.csv``."""

    def __init__(self, wb: Workbook | Path, name: str) -> None:
        sheet = next(s for s in SHEETS if s.name == name)
        self.columns = [c.name for c in sheet.columns]
        self.ws: WriteOnlyWorksheet | None = None
        self.csv: Any = None
        if isinstance(wb, Path):
            self.file = (wb / f"{name}.csv").open("w", encoding="utf-8", newline="")
            self.csv = csv.writer(self.file, lineterminator="\n")
            self.csv.writerow(self.columns)
        else:
            self.ws = wb.create_sheet(name)
            self.ws.append(self.columns)

    def add(self, record: dict[str, Any]) -> None:
        values = [record.get(name) for name in self.columns]
        if self.ws is not None:
            self.ws.append(values)
        else:
            self.csv.writerow(["" if v is None else str(v) for v in values])  # dates: ISO

    def close(self) -> None:
        if self.csv is not None:
            self.file.close()


def make_workbook(
    path: str | Path,
    people: int,
    seed: int = 0,
    evidence_per_person: float = 8,
    as_csv: bool = False,
) -> None:
    """Write a workbook of ``people`` people to ``path`` (see the module docstring);
    ``as_csv``: a folder of CSV files at ``path`` instead."""
    if people < 1:
        raise ValueError("people must be at least 1")
    rng = random.Random(seed)
    wb: Workbook | Path
    if as_csv:
        wb = Path(path)
        wb.mkdir(parents=True, exist_ok=True)
    else:
        wb = Workbook(write_only=True)
    writers: list[_Writer] = []

    def _sheet(name: str) -> _Writer:
        writers.append(_Writer(wb, name))
        return writers[-1]

    ids = [f"E{n:06d}" for n in range(1, people + 1)]
    managers = max(1, people // SPAN_OF_CONTROL)
    # Managers are the first ids: manager m (m > 0) reports to manager (m - 1) // 8;
    # everyone else to one of the managers, so teams average seven or eight.
    boss: list[int | None] = [None] + [(m - 1) // SPAN_OF_CONTROL for m in range(1, managers)]
    boss += [rng.randrange(managers) for _ in range(managers, people)]
    reports = [0] * people
    for b in boss:
        if b is not None:
            reports[b] += 1

    cycle = _sheet("Cycle")
    cycle.add(
        {
            "cycle_id": f"GEN-{seed}",
            "cycle_name": f"Generated review of {people} people",
            "as_of": AS_OF,
            "budget": people * 400,
            "currency": "EUR",
            "panel": "Panel A; Panel B",
            "contact": "talent-review@example.org",
        }
    )

    employees = _sheet("Employees")
    heart: list[float] = []  # how leader-like each person is: drives their evidence
    for i, eid in enumerate(ids):
        is_manager = i < managers
        hired_days = rng.randint(30, 20 * 365) if rng.random() > 0.05 else rng.randint(10, 170)
        in_role_days = rng.randint(0, hired_days)
        new = hired_days < 183
        performance = None if new else _pick(rng, {1: 3, 2: 12, 3: 55, 4: 22, 5: 8})
        prior = (
            None
            if new or hired_days < 400
            else max(1, min(5, (performance or 3) + rng.choice((-1, 0, 0, 0, 1))))
        )
        heart.append(rng.random() ** 2)
        employees.add(
            {
                "employee_id": eid,
                "full_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "job_title": ("Manager, " if is_manager else "") + rng.choice(TITLES),
                "job_family": UNITS[i % len(UNITS)],
                "org_unit": UNITS[(boss[i] or 0) % len(UNITS)] + f" {(boss[i] or 0) + 1}",
                "location": rng.choice(LOCATIONS),
                "job_level": f"{'M' if is_manager else 'P'}{rng.randint(1, 5)}",
                "manager_id": None if boss[i] is None else ids[boss[i]],
                "hire_date": _days_before(hired_days),
                "date_in_role": _days_before(in_role_days),
                "is_people_manager": "Yes" if is_manager else "No",
                "direct_reports": reports[i],
                "current_track": "People manager"
                if is_manager
                else _pick(rng, {"Individual contributor": 85, "Expert": 15}),
                "performance": performance,
                "performance_prior_1": prior,
                "performance_prior_2": None if prior is None or rng.random() < 0.3 else prior,
                "potential": None if new else _pick(rng, {1: 30, 2: 50, 3: 20}),
                "expertise": _pick(rng, {1: 5, 2: 20, 3: 45, 4: 22, 5: 8}),
                "readiness": "Too new to assess"
                if new
                else _pick(
                    rng,
                    {
                        "Ready now": 10,
                        "Ready 1-2 years": 25,
                        "Ready 3-5 years": 30,
                        "Not ready": 35,
                    },
                ),
                "risk_of_loss": _pick(rng, {"Low": 65, "Medium": 25, "High": 10}),
                "impact_of_loss": _pick(rng, {"Low": 30, "Medium": 50, "High": 20}),
                "career_interest": _pick(
                    rng,
                    {
                        "Lead people": 30,
                        "Grow as expert": 25,
                        "Lead without managing": 12,
                        "Undecided": 20,
                        "Stay in role": 13,
                    },
                ),
                "aspiration_statement": "I want to help others grow."
                if rng.random() < 0.3
                else None,
                "policy_compliance": _pick(rng, {2: 5, 3: 25, 4: 50, 5: 20}),
            }
        )

    evidence = _sheet("Evidence")
    number = 0
    for i, eid in enumerate(ids):
        count = rng.randint(0, round(2 * evidence_per_person))
        # 2-4 sources per person: their manager, peers, reports, themself.
        pool: list[tuple[str, str | None]] = [("Manager", f"M-{boss[i] or 0}")]
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(SOURCE_TYPES[1:])
            pool.append((kind, None if kind == "Self" else f"S-{rng.randrange(people * 3)}"))
        focus = rng.sample(H_SIGNALS, 2) + rng.sample(C_SIGNALS, 1)
        for _ in range(count):
            if rng.random() < 0.7:  # heart signals outnumber counter-signals
                signal = focus[0 if rng.random() < 0.5 + heart[i] / 2 else 1]
                if rng.random() < 0.25:
                    signal = rng.choice(H_SIGNALS)
            else:
                signal = focus[2] if rng.random() < 0.6 else rng.choice(C_SIGNALS)
            positive = not SIGNAL_CATALOGUE[signal].counter
            source_type, source_id = rng.choice(pool)
            number += 1
            evidence.add(
                {
                    "evidence_id": f"EV-{number:07d}",
                    "employee_id": eid,
                    "signal": signal,
                    "observed_on": _days_before(rng.randint(0, 36 * 30)),
                    "context": rng.choice(CONTEXTS[:5]) if rng.random() < 0.97 else CONTEXTS[5],
                    "influence_base": rng.choice(INFLUENCE[:3])
                    if positive
                    else rng.choice(INFLUENCE),
                    "initiated_by": _pick(rng, {"Self": 50, "Asked": 30, "Assigned": 20}),
                    "frequency": _pick(rng, {"One-off": 25, "Occasional": 45, "Habitual": 30}),
                    "energy": _pick(
                        rng,
                        {
                            "Energised": 45 if positive else 10,
                            "Neutral": 35,
                            "Drained": 10,
                            "Unknown": 10,
                        },
                    ),
                    "outcome_in_others": _pick(
                        rng,
                        {
                            "Commitment": 55 if positive else 10,
                            "Compliance": 20,
                            "Resistance": 5 if positive else 25,
                            "Unknown": 20,
                        },
                    ),
                    "source_type": source_type,
                    "source_id": source_id,
                    "observation": SIGNAL_CATALOGUE[signal].description,
                }
            )

    nominations = _sheet("Nominations")
    cumulative = list(itertools.accumulate(h + 0.01 for h in heart))
    for _ in range(round(people * 1.5)):
        # Inspiring people attract many nominations: half are drawn by heart.
        if rng.random() < 0.5:
            nominee = rng.choices(range(people), cum_weights=cumulative)[0]
        else:
            nominee = rng.randrange(people)
        nominator = rng.randrange(people)
        if nominator == nominee:
            continue
        nominations.add(
            {
                "nominator_id": ids[nominator],
                "nominee_id": ids[nominee],
                "reason": _pick(rng, {"Position": 20, "Expertise": 40, "Personal": 40}),
                "comment": None,
            }
        )

    teams = _sheet("Teams")
    for m in range(managers):
        teams.add(
            {
                "manager_id": ids[m],
                "team_size": reports[m],
                "on_time_rate": round(rng.uniform(60, 100)),
                "policy_incidents": _pick(rng, {0: 40, 1: 25, 2: 15, 3: 10, 5: 6, 8: 4}),
                "engagement": round(rng.uniform(35, 95)),
                "voluntary_attrition": round(rng.uniform(0, 30)),
            }
        )

    development = _sheet("Development")
    codes = [c[0] for c in CATALOGUE]
    for i in range(people):
        for _ in range(rng.choices((0, 1, 2), weights=(75, 20, 5))[0]):
            status = _pick(rng, {"Completed": 60, "Active": 20, "Withdrawn": 10, "Planned": 10})
            started = None if status == "Planned" else _days_before(rng.randint(30, 5 * 365))
            ended = None
            if status in ("Completed", "Withdrawn") and started is not None:
                ended = min(AS_OF, started + dt.timedelta(days=rng.randint(20, 300)))
            development.add(
                {
                    "employee_id": ids[i],
                    "investment_code": rng.choice(codes),
                    "started": started,
                    "ended": ended,
                    "status": status,
                }
            )

    investments = _sheet("Investments")
    for code, name, track, mode, per_1000, cost, months in CATALOGUE:
        investments.add(
            {
                "investment_code": code,
                "name": name,
                "track": track,
                "mode": mode,
                "seats": None if per_1000 is None else max(1, people * per_1000 // 1000),
                "cost_per_person": cost,
                "duration_months": months,
            }
        )

    overrides = _sheet("Overrides")
    for i in sorted(rng.sample(range(people), max(1, people // 100))):
        overrides.add(
            {
                "employee_id": ids[i],
                "field": "track",
                "decision": rng.choice(("Expert", "Develop in role", "Gather evidence")),
                "reason": "The panel knows more than the workbook shows.",
                "decided_by": "Panel A",
                "decided_on": AS_OF,
            }
        )

    demographics = _sheet("Demographics")
    for eid in ids:
        demographics.add(
            {
                "employee_id": eid,
                "sex": _pick(rng, {"Female": 48, "Male": 48, "Prefer not to say": 3, None: 1}),
                "race_ethnicity": _pick(
                    rng,
                    {
                        "White": 45,
                        "Black": 15,
                        "Asian": 18,
                        "Hispanic or Latino": 14,
                        "Two or more": 4,
                        "Prefer not to say": 3,
                        None: 1,
                    },
                ),
                "age_band": _pick(
                    rng, {"18-24": 5, "25-34": 35, "35-44": 30, "45-54": 20, "55-64": 10}
                ),
            }
        )
    for writer in writers:
        writer.close()
    if isinstance(wb, Workbook):
        wb.save(Path(path))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the .xlsx file (or with --csv, folder) to write")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--evidence-per-person", type=float, default=8)
    parser.add_argument("--csv", action="store_true", help="write a folder of CSV files")
    args = parser.parse_args(argv)
    if args.people < 1:
        parser.error("--people must be at least 1")
    start = time.perf_counter()
    make_workbook(args.out, args.people, args.seed, args.evidence_per_person, args.csv)
    seconds = time.perf_counter() - start
    files = list(args.out.iterdir()) if args.csv else [args.out]
    size = sum(f.stat().st_size for f in files)
    print(
        f"wrote {args.out}: {args.people} people, {size / 1e6:.1f} MB in {seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
