"""recommendations.xlsx: the results workbook for the panel's spreadsheet users."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talentrules.contract import INVESTMENT_FIELD
from talentrules.record import ROLE_FIELDS, role_fields
from talentrules.report.names import Namer

if TYPE_CHECKING:
    from talentrules.run import RunResult


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell_text(value: dt.date | list[object] | tuple[object, ...]) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str([v.isoformat() if isinstance(v, dt.date) else v for v in value])


class _Sheet:
    """One write-only sheet: bold header, frozen, filtered, sized; text never a formula."""

    def __init__(self, book: Any, title: str, columns: Sequence[tuple[str, int]]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        self._cell = WriteOnlyCell
        self.ws = book.create_sheet(title)
        self.rows = 0
        self.width = len(columns)
        for n, (_, width) in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(n)].width = width
        self.ws.freeze_panes = "A2"
        header = []
        for name, _ in columns:
            cell = WriteOnlyCell(self.ws, value=name)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="1F4E79")
            cell.alignment = Alignment(vertical="center")
            header.append(cell)
        self.ws.append(header)
        self.last = get_column_letter(len(columns))

    def add(self, values: Sequence[object]) -> None:
        row: list[object] = []
        for value in values:
            if isinstance(value, str):
                value = _XLSX_ILLEGAL.sub("\ufffd", value)
                if value.startswith(_FORMULA_START):
                    # Text from a workbook must never become a formula: store it as a
                    # string and mark it so Excel shows it as text (quotePrefix).
                    cell = self._cell(self.ws, value=value)
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    value = cell
            elif isinstance(value, dt.date | list | tuple):
                value = _cell_text(value)
            row.append(value)
        self.ws.append(row)
        self.rows += 1

    def close(self) -> None:
        self.ws.auto_filter.ref = f"A1:{self.last}{self.rows + 1}"


def write_xlsx(result: RunResult, path: Path, namer: Namer) -> None:
    """recommendations.xlsx: Recommendations, Waitlist, Rejected rows, Warnings."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    main = _Sheet(
        book,
        "Recommendations",
        (
            ("employee_id", 14),
            ("full_name", 24),
            *((key, 24) for key, _ in ROLE_FIELDS),
            ("investments", 28),
            ("allocation", 48),
            ("top_reasons", 60),
            ("override", 40),
            ("brief", 28),
        ),
    )
    rules = {rule.id: rule for rule in result.rulebook.rules}
    decisions = result.decisions
    # The top reasons: the rules that set the verdict and the track.
    reasons_from = {
        decision.name
        for role in ("verdict", "development_track")
        if (decision := result.rulebook.role(role)) is not None
    }
    for r in result.results:
        outcomes = r.evaluation.outcomes
        recommendation = decisions.recommendations.get(r.employee_id)
        allotments = recommendation.allocation if recommendation else ()
        overrides = recommendation.overrides if recommendation else ()
        lost = {x for ids in r.evaluation.overruled.values() for x in ids}
        reasons = [
            rules[x].title
            for x in r.evaluation.fired
            if x in rules and x not in lost and rules[x].decision in reasons_from
        ]
        main.add(
            [
                r.employee_id,
                result.employees[r.employee_id].get("full_name"),
                *(", ".join(v) for v in role_fields(result.rulebook, outcomes).values()),
                ", ".join(a.code for a in allotments),
                "; ".join(f"{a.code} {a.status}" for a in allotments),
                "; ".join(reasons),
                "; ".join(
                    f"{o.field}{' ' + o.target if o.target else ''}: {', '.join(o.decision)} "
                    f"({o.decided_by}: {o.reason})"
                    for o in overrides
                    if o.applies
                ),
                namer.brief(r.employee_id, "html"),
            ]
        )
    main.close()
    wait = _Sheet(
        book,
        "Waitlist",
        (
            ("employee_id", 14),
            ("full_name", 24),
            (INVESTMENT_FIELD, 16),  # the output's stable column name (docs/outputs.md)
            ("position", 10),
            ("reason", 80),
        ),
    )
    for a in decisions.allocation.allotments:
        if a.status == "waitlisted":
            wait.add(
                [
                    a.employee_id,
                    result.employees[a.employee_id].get("full_name")
                    if a.employee_id in result.employees
                    else None,
                    a.code,
                    a.position,
                    a.reason,
                ]
            )
    wait.close()
    rejected = _Sheet(book, "Rejected rows", (("sheet", 16), ("row", 8), ("reason", 100)))
    for row in result.panel.rejected:
        for p in row.reasons:
            rejected.add([row.sheet, row.number, str(p)])
    rejected.close()
    warnings = _Sheet(book, "Warnings", (("where", 40), ("warning", 100)))
    for p in result.problems:
        if p.severity == "warning":
            warnings.add([p.where, p.message])
    warnings.close()
    book.save(path)
