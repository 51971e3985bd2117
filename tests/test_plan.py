"""The plan as the panel decided it (talentrules/plan.py), on the sample workbook and
copies of it edited with openpyxl: the panel's investment and allocation overrides
change the plan, seats, budget and waitlist; what goes past a limit is a warning; a
waitlisted investment gets a fallback with a seat, or priority next cycle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from talentrules.paths import sample_workbook
from talentrules.plan import NEXT_CYCLE
from talentrules.run import RunResult, evaluate_workbook


def edited(path: Path, edit: Callable[[Any], None]) -> Path:
    book = openpyxl.load_workbook(sample_workbook())
    edit(book)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def sample() -> RunResult:
    return evaluate_workbook(sample_workbook(), jobs=1)


def test_an_investment_override_changes_plan_seats_and_budget(sample: RunResult) -> None:
    # Overrides!C3: the panel chose EXP-LEAD for Kenji Sato (00030) instead of EXP-LADDER.
    plan = sample.plan
    entries = {e.code: e for e in plan.of("00030")}
    assert (entries["EXP-LADDER"].status, entries["EXP-LADDER"].by) == ("removed", "panel")
    assert entries["EXP-LADDER"].recommended == "waitlisted"
    assert (entries["EXP-LEAD"].status, entries["EXP-LEAD"].by) == ("allocated", "panel")
    assert entries["EXP-LEAD"].recommended is None and entries["EXP-LEAD"].cost == 1500
    assert entries["EXP-LEAD"].cell == "Overrides!C3"
    lead = next(c for c in plan.codes if c.code == "EXP-LEAD")
    assert (lead.recommended, lead.allocated, lead.cells) == (1, 2, ("Overrides!C3",))
    ladder = next(c for c in plan.codes if c.code == "EXP-LADDER")
    assert ladder.waitlisted == 2  # Kenji's entry left the waitlist
    assert (plan.recommended_committed, plan.committed) == (40000, 41500)
    (over,) = plan.over
    assert (over.kind, over.cells, over.people, over.taken - over.limit) == (
        "budget",
        ("Overrides!C3",),
        ("00030",),
        1500,
    )
    assert [str(p) for p in sample.problems if "panel's decisions" in str(p)] == [
        "panel_review.xlsx: with the panel's decisions (Overrides!C3), EUR 41,500 is committed "
        "against a budget of EUR 40,000: EUR 1,500 over"
    ]


def test_an_allocation_override_past_the_seats_is_a_warning(tmp_path: Path) -> None:
    def allocate_amara(book: Any) -> None:
        book["Overrides"].append(
            ["00001", "allocation", "LEAD-STRETCH: allocated", "Post opens in May.", "K. Osei"]
        )

    result = evaluate_workbook(edited(tmp_path / "seat.xlsx", allocate_amara), jobs=1)
    entry = next(e for e in result.plan.of("00001") if e.code == "LEAD-STRETCH")
    assert (entry.status, entry.by, entry.recommended) == ("allocated", "panel", "waitlisted")
    seats = next(o for o in result.plan.over if o.kind == "seats")
    assert (seats.code, seats.taken, seats.limit, seats.where) == (
        "LEAD-STRETCH",
        5,
        4,
        "Investments!E2",
    )
    assert "00001" not in result.plan.unseated()


def test_fallback_with_a_seat_or_priority_next_cycle(sample: RunResult, tmp_path: Path) -> None:
    # The sample's budget is spent: no alternative has the money, so priority next cycle.
    amara = next(e for e in sample.plan.of("00001") if e.code == "LEAD-STRETCH")
    assert amara.status == "waitlisted" and amara.fallback is None
    assert amara.fallback_reason.startswith(NEXT_CYCLE)
    assert "00001" in sample.plan.unseated()

    def more_money(book: Any) -> None:
        book["Cycle"]["D2"].value = 100000

    result = evaluate_workbook(edited(tmp_path / "money.xlsx", more_money), jobs=1)
    waiting = [e for es in result.plan.plans.values() for e in es if e.code == "LEAD-STRETCH"]
    offered = [e for e in waiting if e.status == "waitlisted"]
    assert offered and all(e.fallback == "LEAD-ROTATE" for e in offered)
    assert offered[0].fallback_reason.startswith("2 seats left")
