"""recommendations.xlsx: the results workbook for the panel's spreadsheet users."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from talentrules.contract import INVESTMENT_FIELD
from talentrules.decide import Allotment
from talentrules.money import money
from talentrules.record import ROLE_FIELDS, role_fields
from talentrules.report.data import waitlist_entries
from talentrules.report.names import Namer
from talentrules.report.sheetml import Link, XlsxBook

if TYPE_CHECKING:
    from talentrules.run import RunResult


class Book(Protocol):
    """Where the sheets go: ``sheetml.XlsxBook`` (the reference writer in the tests has
    the same two calls)."""

    def sheet(self, title: str, columns: Sequence[tuple[str, int]]) -> Sheet: ...

    def save(self) -> None: ...

    def abandon(self) -> None: ...


class Sheet(Protocol):
    def add(self, values: Sequence[object]) -> None: ...

    def close(self) -> None: ...


_STATUS = {
    "allocated": "allocated",
    "waitlisted": "waitlisted",
    "refused": "not allocated",
    "unavailable": "not in the catalogue",
    "removed": "removed",
}


def write_xlsx(
    result: RunResult,
    path: Path,
    namer: Namer,
    book_of: Callable[[Path], Book] = XlsxBook,
) -> None:
    """recommendations.xlsx: Recommendations (one row per person, a link to the brief),
    Waitlist, Budget, Rejected rows and Warnings; every sheet prints on A4. Written by
    ``book_of(path)`` (``sheetml.XlsxBook``, streamed row by row)."""
    book = book_of(path)
    try:
        _write_sheets(book, result, namer)
    except BaseException:
        book.abandon()  # the file handles closed: the run's folder is discarded
        raise
    book.save()


def _write_sheets(book: Book, result: RunResult, namer: Namer) -> None:
    from talentrules.report.brief import NINE_BOX_BANDS
    from talentrules.report.words import band, shown

    main = book.sheet(
        "Recommendations",
        (
            ("employee_id", 11),
            ("full_name", 20),
            ("org_unit", 16),
            ("manager", 18),
            ("performance", 11),
            ("potential", 9),
            ("nine_box", 14),
            ("readiness", 14),
            *((key, 18) for key, _ in ROLE_FIELDS),
            ("investments", 22),
            ("plan", 40),
            ("top_reasons", 44),
            ("override", 32),
            ("brief", 18),
        ),
    )
    rules = {rule.id: rule for rule in result.rulebook.rules}
    decisions = result.decisions
    plan = result.plan
    # The top reasons: the rules that set the verdict and the track.
    reasons_from = {
        decision.name
        for role in ("verdict", "development_track")
        if (decision := result.rulebook.role(role)) is not None
    }
    # The manager column's text by manager_id: a manager's row read once, not once for
    # each of their reports (the rows are read from the run's store).
    managers: dict[str, object] = {}
    for r in result.results:
        outcomes = r.evaluation.outcomes
        row = result.employees[r.employee_id]
        recommendation = decisions.recommendations.get(r.employee_id)
        allotments = recommendation.allocation if recommendation else ()
        overrides = recommendation.overrides if recommendation else ()
        lost = {x for ids in r.evaluation.overruled.values() for x in ids}
        reasons = [
            rules[x].title
            for x in r.evaluation.fired
            if x in rules and x not in lost and rules[x].decision in reasons_from
        ]
        manager_id = row.get("manager_id")
        manager = managers.get(manager_id) if isinstance(manager_id, str) else manager_id
        if manager is None and isinstance(manager_id, str):
            boss = result.employees.get(manager_id)
            manager = managers[manager_id] = (
                f"{shown(boss.get('full_name'))} ({manager_id})" if boss else manager_id
            )
        column, potential = band(row.get("performance")), row.get("potential")
        nine = (
            f"potential {shown(potential)}, performance {NINE_BOX_BANDS[column]}"
            if column is not None and isinstance(potential, int | float)
            else "not placed"
        )
        main.add(
            [
                r.employee_id,
                row.get("full_name"),
                row.get("org_unit"),
                manager,
                row.get("performance"),
                row.get("potential"),
                nine,
                row.get("readiness"),
                *(", ".join(v) for v in role_fields(result.rulebook, outcomes).values()),
                ", ".join(a.code for a in allotments),
                "; ".join(
                    f"{e.code} {_STATUS.get(e.status, e.status)}"
                    + (" (panel)" if e.by == "panel" else "")
                    for e in plan.of(r.employee_id)
                ),
                "; ".join(reasons),
                "; ".join(
                    f"{o.field}{' ' + o.target if o.target else ''}: {', '.join(o.decision)} "
                    f"({o.decided_by}: {o.reason})"
                    for o in overrides
                    if o.applies
                ),
                Link("open the brief", namer.brief(r.employee_id, "html")),
            ]
        )
    main.close()
    wait = book.sheet(
        "Waitlist",
        (
            ("employee_id", 11),
            ("full_name", 20),
            (INVESTMENT_FIELD, 16),  # the output's stable column name (docs/outputs.md)
            ("position", 9),
            ("reason", 70),
            ("fallback", 50),
            ("brief", 16),
        ),
    )
    # Each person's first allotment of each code, found once (a scan per waitlisted
    # entry made this sheet quadratic: 10 s of CPU at 10,000 people).
    first_allotment: dict[tuple[str, str], Allotment] = {}
    for a in decisions.allocation.allotments:
        first_allotment.setdefault((a.employee_id, a.code), a)
    for eid, e in waitlist_entries(plan):
        allotment = first_allotment.get((eid, e.code))
        wait.add(
            [
                eid,
                result.employees[eid].get("full_name") if eid in result.employees else None,
                e.code,
                allotment.position if allotment else None,
                e.reason,
                f"{e.fallback}: {e.fallback_reason}" if e.fallback else e.fallback_reason,
                Link("open the brief", namer.brief(eid, "html")),
            ]
        )
    wait.close()
    budget_sheet(book, result)
    rejected = book.sheet(
        "Rejected rows",
        (("sheet", 14), ("row", 7), ("who", 26), ("reason", 100)),
    )
    for rejected_row in result.panel.rejected:
        who = rejected_row.who
        first = who.split(" ", 1)[0] if who else ""
        if who and rejected_row.sheet != "Employees" and first in result.employees:
            who = f"{first} {shown(result.employees[first].get('full_name'))}"
        for p in rejected_row.reasons:
            # The file is the run's workbook: the reason starts at the sheet and cell.
            reason = str(p).removeprefix(f"{p.file}: ")
            rejected.add([rejected_row.sheet, rejected_row.number, who, reason])
    rejected.close()
    warnings = book.sheet("Warnings", (("where", 40), ("warning", 100)))
    for p in result.problems:
        if p.severity == "warning":
            # As in Rejected rows: the sheet and cell, not the workbook's path again; a
            # warning about no sheet (the run's seats and budget) names the file alone.
            where = p.where.removeprefix(f"{p.file}: ") if p.sheet else Path(p.file).name
            warnings.add([where, p.message])
    warnings.close()


def budget_sheet(book: Book, result: RunResult) -> None:
    """Budget: seats and money per investment, the rules' allocation beside the
    panel's, and the cycle's totals (numbers, so a panel can add and check them)."""
    plan = result.plan
    totals = {t.code: t for t in result.decisions.allocation.totals}
    catalogue = result.decisions.catalogue
    sheet = book.sheet(
        "Budget",
        (
            ("code", 16),
            ("name", 30),
            ("seats", 8),
            ("recommended", 12),
            ("allocated_by_rules", 12),
            ("allocated_with_panel", 12),
            ("waitlisted_with_panel", 12),
            ("cost_per_person", 12),
            ("committed_by_rules", 14),
            ("committed_with_panel", 14),
            ("over", 24),
        ),
    )
    for load in plan.codes:
        investment = catalogue.get(load.code)
        total = totals.get(load.code)
        sheet.add(
            [
                load.code,
                investment.name if investment else None,
                load.seats,
                load.recommended,
                total.allocated if total else 0,
                load.allocated,
                load.waitlisted,
                investment.cost_per_person if investment else None,
                total.committed if total else 0.0,
                load.committed,
                f"{load.over} over its seats" if load.over else None,
            ]
        )
    budget = plan.budget
    currency = budget.currency or catalogue.currency
    sheet.add([])
    sheet.add(["budget", budget.currency, None, None, None, None, None, budget.amount])
    sheet.add(
        ["committed", None, None, None, None, None, None, None,
         result.decisions.allocation.committed, plan.committed]
    )  # fmt: skip
    if budget.amount is not None and plan.remaining is not None:
        sheet.add(
            ["remaining", None, None, None, None, None, None, None,
             result.decisions.allocation.remaining, plan.remaining,
             f"{money(-plan.remaining, currency)} over the budget"
             if plan.remaining < 0 else None]
        )  # fmt: skip
    sheet.close()
