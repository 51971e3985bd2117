"""recommendations.xlsx's streaming writer (talentrules.report.sheetml) against the
openpyxl writer it replaced (tests/xlsx_reference.py): the same workbook as openpyxl
reads it back, cell by cell (value, type, font, fill, alignment, quote prefix, number
format, hyperlink) and sheet by sheet (widths, frozen header, filter, print set-up)."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from xlsx_reference import OpenpyxlBook

from talentrules.paths import sample_workbook
from talentrules.report import sheetml
from talentrules.report.names import Namer
from talentrules.report.sheetml import Link, XlsxBook
from talentrules.report.workbook import write_xlsx
from talentrules.run import evaluate_workbook

COLUMNS = (("text", 30), ("number", 10), ("other", 12), ("brief", 18))
LONG = "long text, " * 4000  # 44,000 characters: cut at Excel's 32,767 by both
AWKWARD: list[Sequence[object]] = [
    ["plain", 1, 2.5, Link("open the brief", "briefs/E1.html")],
    ["=SUM(A1:A2)", -3, 1e20, Link("open the brief", 'briefs/a&b <c> "d".html')],
    ['=HYPERLINK("http://evil","x")', 0.1 + 0.2, True, None],
    ["+1-2", "-3", "@SUM(A1)", "\tTab first"],
    ["\rcarriage", "bell\x07 and nul\x00 and esc\x1b", "line\nbreak", "x\x0bv\x0cf"],
    [LONG, "Zoë Ørsted", "名前 テスト", "emoji 👩‍💼 مرحبا"],
    ["  padded  ", "   ", "", "a & b < c > d \"q\" 'a'"],
    [dt.date(2026, 10, 31), [dt.date(2026, 1, 2), "x"], ("a", 1), dt.datetime(2026, 1, 2, 3, 4)],
    [None, None, None, None],
    [],
    ["=", "-", 123456789012345678, float("nan")],
    ["last", None, False, Link("open the brief", "briefs/Z%C3%B6e.html")],
    ["wider", "than", "the", "header", "by one"],
]


def _font(cell: Any) -> tuple[object, ...]:
    font = cell.font
    return (font.b, font.u, font.color.rgb if font.color is not None else None)


def _cells(path: Path) -> dict[str, Any]:
    """What openpyxl reads back of every sheet and cell that matters to a reader."""
    book = openpyxl.load_workbook(path)
    seen: dict[str, Any] = {"sheets": book.sheetnames}
    for ws in book.worksheets:
        seen[ws.title] = {
            "size": (ws.max_row, ws.max_column),
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "frozen": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "titles": ws.print_title_rows,
            "page": (
                ws.page_setup.orientation,
                ws.page_setup.paperSize,
                ws.page_setup.fitToWidth,
                ws.page_setup.fitToHeight,
                ws.sheet_properties.pageSetUpPr.fitToPage,
                ws.print_options.gridLines,
            ),
            "cells": [
                (
                    cell.coordinate,
                    cell.value,
                    cell.data_type,
                    _font(cell),
                    (cell.fill.fill_type, cell.fill.fgColor.rgb),
                    (cell.alignment.vertical, cell.alignment.wrap_text),
                    cell.quotePrefix,
                    cell.number_format,
                    cell.hyperlink.target if cell.hyperlink else None,
                )
                for row in ws.iter_rows()
                for cell in row
            ],
        }
    return seen


def _write(book: Any, rows: Sequence[Sequence[object]]) -> None:
    sheet = book.sheet("Awkward", COLUMNS)
    for row in rows:
        sheet.add(row)
    sheet.close()
    empty = book.sheet("Empty's sheet", (("where", 40), ("warning", 100)))
    empty.close()
    book.save()


def test_awkward_values_read_back_as_the_openpyxl_writer_wrote_them(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    _write(XlsxBook(ours), AWKWARD)
    _write(OpenpyxlBook(theirs), AWKWARD)
    expected = _cells(theirs)
    assert _cells(ours) == expected
    # The cases the comparison is about are in it: read back from our file.
    book = openpyxl.load_workbook(ours)
    ws = book["Awkward"]
    assert ws["A3"].value == "=SUM(A1:A2)" and ws["A3"].data_type == "s"
    assert ws["A3"].quotePrefix and not ws["A2"].quotePrefix
    assert ws["B6"].value == "bell\ufffd and nul\ufffd and esc\ufffd"
    assert ws["A7"].value == LONG[:32767]
    assert ws["D7"].value == "emoji 👩‍💼 مرحبا"
    assert ws["A8"].value == "  padded  "
    assert ws["D3"].hyperlink.target == 'briefs/a&b <c> "d".html'
    assert ws["C4"].value is True and ws["B4"].value == pytest.approx(0.3)
    assert ws["A9"].value == "2026-10-31" and ws["D9"].value == "2026-01-02T03:04:00"
    assert ws.auto_filter.ref == f"A1:D{len(AWKWARD) + 1}"
    assert ws[f"E{len(AWKWARD) + 1}"].value == "by one"


def test_a_formula_looking_text_is_text_in_the_file(tmp_path: Path) -> None:
    """No cell of ours is a formula, whatever its text: checked in the sheet's XML."""
    path = tmp_path / "ours.xlsx"
    _write(XlsxBook(path), AWKWARD)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in xml and "<f " not in xml
    assert '<c r="A3" s="4" t="inlineStr"><is><t>=SUM(A1:A2)</t></is></c>' in xml


def test_an_error_code_text_stays_text(tmp_path: Path) -> None:
    """A deliberate difference: openpyxl wrote a text equal to an error code (#N/A) as
    an error cell; it is the workbook's text, and now stays text."""
    path = tmp_path / "ours.xlsx"
    _write(XlsxBook(path), [["#N/A", "#DIV/0!", None, None]])
    ws = openpyxl.load_workbook(path)["Awkward"]
    assert (ws["A2"].value, ws["A2"].data_type) == ("#N/A", "s")


@pytest.mark.parametrize(
    ("workbook", "allow_rejects"),
    [("panel_review.xlsx", False), ("panel_review_broken.xlsx", True)],
)
def test_results_workbook_equals_the_openpyxl_writers(
    tmp_path: Path, workbook: str, allow_rejects: bool
) -> None:
    """The real results workbook of a sample (the broken one: rejected rows, warnings),
    both writers, compared cell by cell as openpyxl reads them."""
    result = evaluate_workbook(sample_workbook(workbook), jobs=1, allow_rejects=allow_rejects)
    namer = Namer(result.employees)
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    write_xlsx(result, ours, namer)
    write_xlsx(result, theirs, namer, OpenpyxlBook)
    expected = _cells(theirs)
    assert _cells(ours) == expected
    assert sum(len(expected[s]["cells"]) for s in expected["sheets"]) > 500
    if allow_rejects:
        assert expected["Rejected rows"]["size"][0] > 1 and expected["Warnings"]["size"][0] > 1
    links = [c for c in expected["Recommendations"]["cells"] if c[8] is not None]
    assert len(links) == len(result.results)


def test_a_sheet_left_open_is_refused(tmp_path: Path) -> None:
    book = XlsxBook(tmp_path / "x.xlsx")
    book.sheet("One", COLUMNS)
    with pytest.raises(RuntimeError, match="still open"):
        book.sheet("Two", COLUMNS)
    book.abandon()


TEXTS = [
    "plain",
    "a & b < c > d \"q\" 'a'",
    " lead",
    "trail ",
    "   ",
    "",
    "=SUM(A1)",
    "-3",
    "line\nbreak",
    "\ttab",
    "nul\x00",
    "Zoë\u00a0Ørsted",  # a no-break space: not printable, so the long way
    "\u3000wide space",
    "名前",
    LONG,
    "x" * 32767,
]


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_a_text_cell_is_the_one_string_cell_writes(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shortcut for a plain text in XlsxSheet.add writes what _string_cell writes
    # for the text after ILLEGAL's replacement, cut at MAX_TEXT, with its style.
    cleaned = sheetml.ILLEGAL.sub("\ufffd", text)[: sheetml.MAX_TEXT]
    style = sheetml.AS_TEXT if cleaned.startswith(sheetml.FORMULA_START) else sheetml.WRAP
    expected = sheetml._string_cell("A2", style, cleaned)
    rows: list[str] = []
    book = XlsxBook(tmp_path / "t.xlsx")
    sheet = book.sheet("T", (("text", 10),))
    monkeypatch.setattr(sheet, "_row", rows.append)
    sheet.add([text])
    book.abandon()
    assert rows == [[expected]]


def test_rows_written_in_batches_are_the_sheet_written_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rows go to the zip entry _ROWS_AT_ONCE at a time: the same entry, compressed the
    # same, as one write a row.
    rows = [AWKWARD[n % len(AWKWARD)] for n in range(3 * sheetml._ROWS_AT_ONCE + 5)]
    _write(XlsxBook(tmp_path / "batched.xlsx"), rows)
    monkeypatch.setattr(sheetml, "_ROWS_AT_ONCE", 1)
    _write(XlsxBook(tmp_path / "single.xlsx"), rows)
    entries = []
    for path in (tmp_path / "batched.xlsx", tmp_path / "single.xlsx"):
        with zipfile.ZipFile(path) as book:
            entries.append(
                [
                    (book.read(name), book.getinfo(name).compress_size, book.getinfo(name).CRC)
                    for name in ("xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels")
                ]
            )
    assert entries[0] == entries[1]


def test_the_manager_column_names_each_persons_manager(tmp_path: Path) -> None:
    # The manager's text is made once a manager (write_xlsx keeps it by manager_id):
    # each row still names that person's manager from the Employees rows.
    from talentrules.report.words import shown

    result = evaluate_workbook(sample_workbook(), jobs=1)
    path = tmp_path / "r.xlsx"
    write_xlsx(result, path, Namer(result.employees))
    sheet = openpyxl.load_workbook(path)["Recommendations"]
    managers = []
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    for row, r in zip(rows, result.results, strict=True):
        assert row[0] == r.employee_id
        manager_id = result.employees[r.employee_id].get("manager_id")
        boss = result.employees.get(manager_id) if isinstance(manager_id, str) else None
        expected = f"{shown(boss.get('full_name'))} ({manager_id})" if boss else manager_id
        assert row[3] == expected
        managers.append(manager_id)
    assert len(managers) > len(set(managers)) > 1  # managers with several reports
