"""The results workbook's former writer, openpyxl's write-only mode, kept as the
reference that ``talentrules.report.sheetml`` is compared with cell by cell
(tests/test_sheetml.py): same interface as ``sheetml.XlsxBook``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

from talentrules.report.sheetml import FORMULA_START, ILLEGAL, Link


def _cell_text(value: dt.date | list[object] | tuple[object, ...]) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str([v.isoformat() if isinstance(v, dt.date) else v for v in value])


class OpenpyxlBook:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.book = Workbook(write_only=True)

    def sheet(self, title: str, columns: Sequence[tuple[str, int]]) -> OpenpyxlSheet:
        return OpenpyxlSheet(self.book, title, columns)

    def save(self) -> None:
        self.book.save(self.path)

    def abandon(self) -> None:
        pass


class OpenpyxlSheet:
    def __init__(self, book: Any, title: str, columns: Sequence[tuple[str, int]]) -> None:
        self._link_font = Font(color="0563C1", underline="single")
        self._wrap = Alignment(vertical="top", wrap_text=True)
        self._styles: dict[str, Any] = {}
        self.ws = book.create_sheet(title)
        self.rows = 0
        for n, (_, width) in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(n)].width = width
        self.ws.freeze_panes = "A2"
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = 9
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.print_title_rows = "1:1"
        self.ws.print_options.gridLines = True
        header = []
        for name, _ in columns:
            cell = WriteOnlyCell(self.ws, value=name)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="1F4E79")
            cell.alignment = Alignment(vertical="center", wrap_text=True)
            header.append(cell)
        self.ws.append(header)
        self.last = get_column_letter(len(columns))

    def _styled(self, value: str, kind: str, style: object) -> Any:
        known = self._styles.get(kind)
        if known is not None:
            return Cell(self.ws, row=1, column=1, value=value, style_array=known)
        cell: Any = Cell(self.ws, row=1, column=1, value=value)
        setattr(cell, kind, style)
        self._styles[kind] = StyleArray(cell._style)
        return cell

    def add(self, values: Sequence[object]) -> None:
        row: list[object] = []
        for value in values:
            if isinstance(value, Link):
                text = ILLEGAL.sub("\ufffd", value.text)
                cell = self._styled(text, "font", self._link_font)
                cell.hyperlink = value.target
                row.append(cell)
                continue
            if isinstance(value, str):
                value = ILLEGAL.sub("\ufffd", value)
                cell = self._styled(value, "alignment", self._wrap)
                if value.startswith(FORMULA_START):
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
