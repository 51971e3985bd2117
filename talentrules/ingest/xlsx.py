"""A small streaming reader for the cells of an .xlsx sheet: values, number formats,
formulas, nothing else. It is the exact reader, for any well-formed sheet;
``sheetrows.py`` scans the XML that writers write faster, with this module's value
conversion (``cell_value``), and hands this reader anything else.

Why not openpyxl's read-only mode: with defusedxml installed (it must be, for
safety) openpyxl parses every XML part through a pure-Python parser, and on
opening it parses each sheet once more just to find its size when the file has
no ``<dimension>`` (files written in write-only mode have none). Measured on a
1,000-person workbook that is about 7 s, against under 1 s for the C parser of
the standard library. The C parser is safe here because ``files.scan_file``
refuses any part that declares a DOCTYPE, so no entity can be defined (no
billion-laughs, no quadratic blowup, no external entities), and every part's
size is already bounded. What only the reading can see is bounded here
(``ReadLimitError``): the elements held at once (one row, at most Excel's 16,384
cells), row numbers inside Excel's grid and increasing, and the text repeated shared strings
show (``TextBudget``). Values follow openpyxl's own rules (shared strings,
inline strings, booleans, errors, ISO dates, dates by number format with the
workbook's 1900 or 1904 epoch), and its helpers are used for the formats.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple
from xml.etree.ElementTree import Element, iterparse

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import (
    CALENDAR_MAC_1904,
    CALENDAR_WINDOWS_1900,
    from_excel,
)

from talentrules.ingest.files import EXCEL_COLUMNS, EXCEL_ROWS

_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # Strict Open XML
)
_DIGITS = "0123456789"


def _tags(local: str) -> frozenset[str]:
    return frozenset(f"{{{ns}}}{local}" for ns in _NAMESPACES)


_ROW, _C, _V, _F, _IS, _T, _R, _SI, _SHEET_DATA, _SST = (
    _tags(n) for n in ("row", "c", "v", "f", "is", "t", "r", "si", "sheetData", "sst")
)
# Elements one row (or one shared string) may hold while it is built: Excel's 16,384
# cells, each a <c> with a value, a formula and some room for rich text.
MAX_ROW_ELEMENTS = EXCEL_COLUMNS * 8


class ReadLimitError(Exception):
    """The part goes past a limit only reading can check; the message says which."""


class RowOrderError(Exception):
    """A row numbered no higher than the row before it: Excel writes rows in order, once
    each, and a row read twice would be two rows with one number."""

    def __init__(self, number: int, last: int) -> None:
        super().__init__(f"row {number} comes after row {last} (rows out of order)")


class TextBudget:
    """How much text repeated shared strings may still show, over all sheets.

    A shared string is stored once and shown by every cell that points at it: a
    long string pointed at by a million cells is a bomb for the trace and the
    briefs, which repeat it per person. Honest workbooks show a few short codes
    many times; their cells show well under the bytes of XML that hold them.
    """

    def __init__(self, characters: int) -> None:
        self.left = characters
        self.allowed = characters


_NUM_FMT, _CELL_XFS, _XF, _WORKBOOK_PR = (
    _tags(n) for n in ("numFmt", "cellXfs", "xf", "workbookPr")
)


class RawCell(NamedTuple):
    """One cell as stored: its value (a cached one for formulas) and how it is shown.
    (A tuple: made for every cell read, at half a frozen dataclass's cost.)"""

    value: object
    data_type: str  # n, s, b, e, d; "f" for a formula with no cached value
    number_format: str


@dataclass(frozen=True)
class Book:
    """What every sheet needs to turn stored cells into values."""

    strings: list[str]
    formats: list[tuple[str, bool, bool]]  # style id -> (format code, is date, is duration)
    epoch: dt.datetime


def _text(node: Element) -> str:
    """The text of an <si> or <is>: plain <t>, or rich-text runs; phonetic hints left out."""
    parts: list[str] = []
    for child in node:
        if child.tag in _T:
            parts.append(child.text or "")
        elif child.tag in _R:
            parts.extend(t.text or "" for t in child if t.tag in _T)
    return "".join(parts)


def exact_strings(archive: zipfile.ZipFile, member: str) -> list[str]:
    """The shared strings, in order (``sheetrows.read_strings`` scans the common case)."""
    strings: list[str] = []
    with archive.open(member) as fh:
        held = 0
        for _, node in iterparse(fh):
            if node.tag in _SI:
                strings.append(_text(node))
                node.clear()
                held = 0
            else:
                held += 1
                if held > MAX_ROW_ELEMENTS:
                    raise ReadLimitError(
                        f"shared string {len(strings) + 1:,} holds more than "
                        f"{MAX_ROW_ELEMENTS:,} elements, more than any cell's text"
                    )
    return strings


def read_book(
    archive: zipfile.ZipFile,
    strings_member: str | None,
    styles_member: str | None,
    workbook_member: str,
    read_strings: Callable[[zipfile.ZipFile, str], list[str]] = exact_strings,
) -> Book:
    """Shared strings (read by ``read_strings``), number formats by style, and the date
    epoch."""
    strings = read_strings(archive, strings_member) if strings_member else []
    formats: list[tuple[str, bool, bool]] = []
    if styles_member:
        custom: dict[int, str] = {}
        with archive.open(styles_member) as fh:
            in_xfs = False
            for event, node in iterparse(fh, events=("start", "end")):
                if node.tag in _NUM_FMT and event == "end":
                    custom[int(node.get("numFmtId", "0"))] = node.get("formatCode", "General")
                elif node.tag in _CELL_XFS:
                    in_xfs = event == "start"
                elif node.tag in _XF and event == "end" and in_xfs:
                    number = int(node.get("numFmtId", "0"))
                    code = custom.get(number) or BUILTIN_FORMATS.get(number, "General")
                    formats.append((code, is_date_format(code), is_timedelta_format(code)))
    epoch = CALENDAR_WINDOWS_1900
    with archive.open(workbook_member) as fh:
        for _, node in iterparse(fh):
            if node.tag in _WORKBOOK_PR:
                if node.get("date1904", "0").lower() in ("1", "true"):
                    epoch = CALENDAR_MAC_1904
                break
    return Book(strings, formats or [("General", False, False)], epoch)


def number_value(text: str) -> int | float:
    if "." in text or "E" in text or "e" in text:
        return float(text)
    try:
        return int(text)
    except ValueError:
        return float(text)  # NaN, INF: read, so that validation names the cell


class DamagedCell(ValueError):
    """A cell (or row element) whose stored XML cannot be read; ``where`` names it."""

    def __init__(self, where: str, error: Exception) -> None:
        super().__init__(f"{where}: {error}")
        self.where = where
        self.error = error


def cell_value(
    kind: str,
    text: str | None,
    stored: bool,
    formula: bool,
    inline: str | None,
    shown_as: tuple[str, bool, bool],
    book: Book,
) -> tuple[object, str, int]:
    """A stored cell -> (value, data type, characters shown from shared strings).

    ``text`` is the <v>'s text (``stored``: there was a <v>), ``inline`` the text of an
    <is>. Raises ValueError, IndexError, KeyError or OverflowError for a value that
    cannot be what its type says; the caller names the cell.
    """
    if kind == "inlineStr":
        return inline, "s", 0
    if text is None:
        if formula and not (stored and kind == "str"):  # str: "" was the result
            return None, "f", 0  # Excel saves the value with the formula; this never was
        return None, kind, 0
    if kind == "s":
        shared = book.strings[int(text)]
        return shared, "s", len(shared)
    if kind == "str":
        return text, "s", 0
    if kind == "b":
        return text.strip() in ("1", "true"), "b", 0
    if kind == "e":
        return text, "e", 0
    if kind == "d":
        return dt.datetime.fromisoformat(text.rstrip("Z")), "d", 0
    value, number_kind = numeric(text, shown_as, book.epoch)
    return value, number_kind, 0


def numeric(text: str, shown_as: tuple[str, bool, bool], epoch: dt.datetime) -> tuple[object, str]:
    """A number cell's value: a date or duration when its format says so."""
    number = number_value(text)
    if not shown_as[1]:
        return number, "n"
    try:
        return from_excel(number, epoch, timedelta=shown_as[2]), "d"
    except (OverflowError, ValueError):
        return "#VALUE!", "e"


def exact_rows(
    archive: zipfile.ZipFile, member: str, book: Book, max_col: int
) -> Iterator[tuple[int, list[RawCell | None], int]]:
    """(row number, cells by column from A, characters shown from shared strings) for
    every row element, in order: the reader for any well-formed sheet (``sheetrows``
    scans the common case faster and falls back to this).

    Cells right of ``max_col`` are skipped (the scan counted them); a row holds
    ``None`` where it has no cell. Reading stops at the end of <sheetData>: what
    follows (merged ranges, hyperlinks, ...) is the scan's business, and would
    otherwise pile up in memory. Raises ``ReadLimitError`` past a limit, ``RowOrderError``
    where a row's number is not above the one before.
    """
    formats = book.formats
    general = formats[0]
    row_tags, cell_tags, value_tags, formula_tags, inline_tags = _ROW, _C, _V, _F, _IS
    # Cell references' letters -> column, and style ids -> format, as met: a sheet
    # repeats a few of each a hundred thousand times.
    columns: dict[str, int] = {}
    styles: dict[str | None, tuple[str, bool, bool]] = {}
    last = 0
    held = 0  # elements built since the last row ended
    after_row = False
    with archive.open(member) as fh:
        for _, node in iterparse(fh):
            if node.tag not in row_tags:
                if after_row:  # the first element to end after a row: its sibling or parent
                    after_row = False
                    if node.tag in _SHEET_DATA:
                        return
                held += 1
                if held > MAX_ROW_ELEMENTS:
                    raise ReadLimitError(
                        f"row {last + 1:,} holds more than {MAX_ROW_ELEMENTS:,} elements; a "
                        "row has at most 16,384 cells"
                    )
                continue
            held, after_row = 0, True
            r = node.get("r")
            try:
                number = int(r) if r else last + 1
            except ValueError as error:
                raise DamagedCell(f"the row numbered {r!r} after row {last}", error) from error
            if not 0 < number <= EXCEL_ROWS:
                raise ReadLimitError(
                    f"row number {number:,} is outside Excel's rows (1 to {EXCEL_ROWS:,})"
                )
            if number <= last:
                raise RowOrderError(number, last)
            last = number
            cells: list[RawCell | None] = []
            column = 0
            shown = 0
            for c in node:
                if c.tag not in cell_tags:
                    continue
                ref = c.get("r")
                if ref:
                    letters = ref.rstrip(_DIGITS)
                    found = columns.get(letters)
                    if found is None:
                        try:
                            found = columns[letters] = column_index_from_string(letters)
                        except ValueError as error:
                            where = f"the cell reference {ref!r} in row {number}"
                            raise DamagedCell(where, error) from error
                    column = found
                else:
                    column += 1
                if column > max_col:
                    continue
                try:
                    style = c.get("s")
                    shown_as = styles.get(style)
                    if shown_as is None:
                        index = 0 if style is None else int(style)
                        shown_as = formats[index] if index < len(formats) else general
                        styles[style] = shown_as
                    text: str | None = None
                    formula = stored = False
                    inline: str | None = None
                    for part in c:
                        if part.tag in value_tags:
                            text, stored = part.text, True
                        elif part.tag in formula_tags:
                            formula = True
                        elif part.tag in inline_tags:
                            inline = _text(part)
                    value, kind, chars = cell_value(
                        c.get("t", "n"), text, stored, formula, inline, shown_as, book
                    )
                    shown += chars
                except (ValueError, IndexError, KeyError, OverflowError) as error:
                    # A stored value that cannot be what its type says (a shared string
                    # index out of range, a date that is not ISO, a style that is not a
                    # number): name the cell, not just the sheet.
                    raise DamagedCell(f"{get_column_letter(column)}{number}", error) from error
                if len(cells) < column - 1:
                    cells.extend([None] * (column - 1 - len(cells)))
                if len(cells) == column - 1:
                    cells.append(RawCell(value, kind, shown_as[0]))
                else:  # a cell repeated out of order: the later one wins, as in Excel
                    cells[column - 1] = RawCell(value, kind, shown_as[0])
            yield number, cells, shown
            node.clear()  # keep memory flat: an emptied row element is all that stays
