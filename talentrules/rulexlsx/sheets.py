"""Writing a rulebook workbook's sheets: headers with comments, rows, dropdowns.

Text is always written as text (a cell starting with '=' is not a formula); every
dropdown suggests values from the hidden Lists sheet without refusing others: the
checker, not Excel, says what is wrong, naming the cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from talentrules.rulexlsx import layout
from talentrules.rulexlsx.layout import Col, Table

CellValue = str | int | float | None


HEADER_FONT = Font(bold=True)


HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


TITLE_FONT = Font(bold=True, size=13)


WRAP = Alignment(wrap_text=True, vertical="top")


TOP = Alignment(vertical="top")


SPARE_ROWS = 200  # rows below the last one that still offer the dropdowns


class Lists:
    """The hidden Lists sheet: every dropdown's values, one column each."""

    def __init__(self, book: Workbook) -> None:
        self.sheet = book.create_sheet(layout.LISTS)
        self.columns: dict[tuple[str, ...], str] = {}

    def formula(self, values: Sequence[str]) -> str | None:
        values = tuple(dict.fromkeys(v for v in values if v))
        if not values:
            return None
        if values not in self.columns:
            column = get_column_letter(len(self.columns) + 1)
            for row, value in enumerate(values, start=1):
                put(self.sheet.cell(row, len(self.columns) + 1), value)
            self.columns[values] = f"{layout.LISTS}!${column}$1:${column}${len(values)}"
        return self.columns[values]

    def offer(self, ws: Worksheet, cells: str, values: Sequence[str]) -> None:
        """A dropdown of ``values`` on ``cells``; other entries stay allowed (the checker
        says what is wrong, with the cell)."""
        formula = self.formula(values)
        if formula is None:
            return
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.showErrorMessage = False
        validation.add(cells)
        ws.add_data_validation(validation)


def put(cell: object, value: CellValue) -> None:
    """Write a value; text stays text even when it starts with '=' (no formula)."""
    cell.value = value  # type: ignore[attr-defined]
    if isinstance(value, str):
        cell.data_type = "s"  # type: ignore[attr-defined]


def note(text: str) -> Comment:
    comment = Comment(text, "talentrules")
    comment.width = 320
    comment.height = max(80, 18 * (len(text) // 45 + 2))
    return comment


def write_header(ws: Worksheet, row: int, columns: Sequence[Col]) -> None:
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row, index)
        put(cell, column.name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = TOP
        if column.help:
            cell.comment = note(column.help)
        ws.column_dimensions[get_column_letter(index)].width = column.width


def write_rows(
    ws: Worksheet, first: int, columns: Sequence[Col], rows: Iterable[Sequence[CellValue]]
) -> int:
    """Write the rows from row ``first``; the next free row."""
    row_number = first
    for values in rows:
        for index, (column, value) in enumerate(zip(columns, values, strict=False), start=1):
            cell = ws.cell(row_number, index)
            put(cell, value)
            cell.alignment = WRAP if column.wrap or column.lines else TOP
        row_number += 1
    return row_number


def write_table(
    book: Workbook,
    table: Table,
    rows: Sequence[Sequence[CellValue]],
    columns: Sequence[Col] | None = None,
) -> Worksheet:
    ws: Worksheet = book.create_sheet(table.sheet)
    columns = list(columns or table.columns)
    write_header(ws, 1, columns)
    end = write_rows(ws, 2, columns, rows)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(end - 1, 1)}"
    return ws


def column_range(columns: Sequence[Col], name: str, first: int, count: int) -> str | None:
    names = [c.name for c in columns]
    if name not in names:
        return None
    letter = get_column_letter(names.index(name) + 1)
    return f"{letter}{first}:{letter}{first + count + SPARE_ROWS}"
