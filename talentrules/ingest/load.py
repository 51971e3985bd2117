"""Read a panel's workbook into a ``Panel``: every value typed, with its cell.

How it reads, and why: ``files.scan_file`` first checks the raw bytes (type,
limits, no DOCTYPE) and, with regexes over each sheet's XML, learns its cell
count and merged ranges (known before the rows, so a row inside a merged range
is caught as it is read). Then ``xlsx.read_rows`` streams each sheet's cells with
the standard library's C XML parser, one row at a time: several times faster
than openpyxl's read-only mode (see xlsx.py), in flat memory, and one pass gives
both a formula's cached value and whether it has one.

Validation never stops at the first problem: each becomes a ``Problem``; a row
with an error is rejected (with all its reasons), a row with warnings is loaded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import gc
import re
import unicodedata
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900

from talentrules.contract import (
    EMPLOYEES,
    EVIDENCE,
    PROTECTED_COLUMNS,
    SHEETS,
    Column,
    Sheet,
    column_by_key,
    normalize,
    sheet_by_key,
    with_signals,
)
from talentrules.errors import WorkbookError
from talentrules.ingest.csvdir import SUFFIX as CSV_SUFFIX
from talentrules.ingest.csvdir import CsvError, scan_folder
from talentrules.ingest.csvdir import read_rows as read_csv_rows
from talentrules.ingest.files import (
    MAX_COLUMNS,
    MAX_TEXT_EXPANSION,
    FileScan,
    SheetScan,
    scan_file,
    unreadable,
    why,
)
from talentrules.ingest.values import (
    EXCEL_ERRORS,
    Invalid,
    Parser,
    as_text,
    is_example,
    parser_for,
)
from talentrules.ingest.xlsx import (
    Book,
    DamagedCell,
    RawCell,
    ReadLimitError,
    TextBudget,
    read_book,
    read_rows,
)
from talentrules.model import (
    Cell,
    Panel,
    Problem,
    RejectedRow,
    Row,
    Severity,
    SheetAccount,
    Value,
    split_ref,
)
from talentrules.vocabulary import signal_catalogue

# What a damaged part raises while it is streamed; caught only around the reading.
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,  # zipfile: a version or compression method it does not know
    KeyError,
    IndexError,
    ValueError,
    ParseError,
)

# First cell of a totals or notes row below the data.
_TRAILER = re.compile(
    r"(?i)\s*(?:(?:grand\s*|sub\s*)?totals?|sum|average|count|notes?|n\.?b\.?)\b\s*:?"
)


_EMPTY = RawCell(None, "n", "General")  # stands in for a cell the row does not have


@dataclass
class _Draft:
    """A data row and the problems found in it so far (error => rejected at the end)."""

    row: Row
    problems: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


@dataclass
class _Slot:
    """A contract column found in the sheet: where it is and how to read it."""

    column: Column
    index: int  # 0-based position in the row
    letter: str  # a cell's name is letter + row number + after: F14, or 14:signal in a CSV
    after: str
    prefix: str  # a cell's ref is prefix + row number + after: Evidence!F14, Evidence.csv:14:signal
    parse: Parser
    wants_format: bool  # id and percent read the cell's number format


@dataclass
class _SheetRead:
    sheet: Sheet
    tab: str
    drafts: list[_Draft]
    account: SheetAccount
    trailers: list[RejectedRow]
    present: set[str] = field(default_factory=set)  # contract columns found in the header
    every_row: list[Problem] = field(default_factory=list)  # header errors: every row fails
    merge_problems: dict[str, Problem] = field(default_factory=dict)


def _who(row: Row) -> str:
    """Whose a rejected row is, from what it holds: on Employees the id and the name,
    elsewhere the person it is about (employee_id, nominee_id or manager_id)."""

    def text(column: str) -> str:
        value = row.get(column)
        return "" if value is None or isinstance(value, bool) else str(value).strip()

    if row.sheet == "Employees":
        return " ".join(t for t in (text("employee_id"), text("full_name")) if t)
    return next((t for c in ("employee_id", "nominee_id", "manager_id") if (t := text(c))), "")


def load_workbook(path: str | Path, signals: Iterable[str] | None = None) -> Panel:
    """Read and validate the workbook at ``path``, or a folder of CSV files (csvdir.py).

    ``signals`` are the codes the Evidence sheet's ``signal`` column accepts: the
    rulebook's signal catalogue (default: the packaged rulebook's). Raises
    ``WorkbookError`` (one sentence naming the file) when the file is not a workbook
    that can be read at all; every other problem is in ``Panel.problems``.
    """
    codes = tuple(signals) if signals is not None else tuple(signal_catalogue())
    sheets = with_signals(SHEETS, codes)
    given = str(path)
    file = Path(path)
    with _collector_paused():
        if file.is_dir():
            return _Reader(given, file, _Folder(given, scan_folder(file, given)), sheets).run()
        scan = scan_file(file, given)
        try:
            archive = zipfile.ZipFile(file)
        except OSError as error:  # replaced or made unreadable since it was scanned
            raise WorkbookError(f"{given}: cannot be read ({unreadable(error)})") from error
        with archive:
            try:
                book = read_book(archive, scan.strings, scan.styles, "xl/workbook.xml")
            except _READ_ERRORS as error:
                raise WorkbookError(
                    f"{given}: the workbook is damaged and cannot be read ({why(error)})"
                ) from error
            except ReadLimitError as error:
                raise WorkbookError(f"{given}: {scan.strings}: {error}") from error
            return _Reader(given, file, _Workbook(given, scan, archive, book), sheets).run()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while reading: a 10,000-person workbook makes millions of
    objects and no reference cycles, and the collector's full passes over them took
    a quarter of the reading time (10.5 s -> 7.7 s CPU, measured in one run)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Workbook:
    """An .xlsx as the reader sees it: rows of a sheet, and how its places are named."""

    kind = "sheet"
    sep = "!"  # Evidence!F14
    row_word = "row"
    other_tab = "chart sheet or other non-table tab: ignored"

    def __init__(self, given: str, scan: FileScan, archive: zipfile.ZipFile, book: Book) -> None:
        self.given = given
        self.scan = scan
        self.archive = archive
        self.book = book
        self.epoch = book.epoch
        self.budget = TextBudget(MAX_TEXT_EXPANSION * scan.xml_bytes)

    def key(self, tab: str) -> str:
        return normalize(tab)

    def column(self, index: int, title: str) -> tuple[str, str]:
        """What goes before and after the row number in a cell's name: ("F", "")."""
        return get_column_letter(index + 1), ""

    def column_name(self, index: int) -> str:
        return f"column {get_column_letter(index + 1)}"

    def missing(self, sheet: Sheet) -> str:
        return f"missing required sheet {sheet.name}"

    def mention(self, cell: str) -> str:
        """Another cell of the same sheet, in a message: A42."""
        return cell

    def far(self, count: int) -> str:
        return f"{count:,} cells beyond column {get_column_letter(MAX_COLUMNS)} are ignored"

    def rows(self, scan: SheetScan) -> Iterator[tuple[int, int, list[RawCell | None]]]:
        """(position, row number, cells); a position missing from the sequence is a blank row.

        Only the reading is guarded: value checks return Invalid instead of raising, so
        a bug elsewhere keeps its traceback rather than passing for a damaged file.
        """
        iterator = read_rows(self.archive, scan.member, self.book, MAX_COLUMNS, self.budget)
        tab, last = scan.tab, 0
        while True:
            try:
                number, cells = next(iterator)
            except StopIteration:
                return
            except DamagedCell as error:
                where = error.where
                # A cell as every other message names it (Sheet!B7); else the sheet first.
                where = f"{tab}!{where}" if where[:1].isupper() else f"sheet {tab!r}: {where}"
                raise WorkbookError(
                    f"{self.given}: {where} is damaged and cannot be read ({why(error.error)})"
                ) from error
            except _READ_ERRORS as error:
                after = f" after row {last}" if last else ""
                raise WorkbookError(
                    f"{self.given}: sheet {tab!r} is damaged{after} and cannot be read "
                    f"({why(error)})"
                ) from error
            except ReadLimitError as error:
                raise WorkbookError(f"{self.given}: sheet {tab!r}: {error}") from error
            last = number
            yield number, number, cells


class _Folder:
    """A folder of CSV files as the reader sees it: Evidence.csv:14:signal is line 14's
    signal field of Evidence.csv (the column named by its header, as written)."""

    kind = "file"
    sep = ":"
    row_word = "line"
    other_tab = "not a .csv file: ignored"
    epoch = CALENDAR_WINDOWS_1900  # never used: CSV values are text, never serial dates

    def __init__(self, given: str, scan: FileScan) -> None:
        self.given = given
        self.scan = scan

    def key(self, tab: str) -> str:
        return normalize(tab[: -len(CSV_SUFFIX)])

    def column(self, index: int, title: str) -> tuple[str, str]:
        return "", f":{title.strip()}"

    def column_name(self, index: int) -> str:
        return f"column {index + 1}"

    def missing(self, sheet: Sheet) -> str:
        return f"missing {sheet.name}.csv (the {sheet.name} sheet is required)"

    def mention(self, cell: str) -> str:
        """Another record of the same file, in a message: '42:employee_id' -> line 42."""
        return f"line {cell.partition(':')[0]}"

    def far(self, count: int) -> str:
        return f"{count:,} values beyond column {MAX_COLUMNS} are ignored"

    def rows(self, scan: SheetScan) -> Iterator[tuple[int, int, list[RawCell | None]]]:
        """(record's position, line it starts on, cells): blank lines come as records,
        and a record may span lines (a quoted value with line breaks)."""
        try:
            for position, (line, cells) in enumerate(read_csv_rows(scan, MAX_COLUMNS), 1):
                yield position, line, cells
        except CsvError as error:
            raise WorkbookError(f"{self.given}: {scan.tab}: {error}") from error
        except OSError as error:  # removed or locked since the scan
            raise WorkbookError(
                f"{self.given}: {scan.tab} cannot be read ({error.strerror})"
            ) from error


_Source = _Workbook | _Folder


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


class _Reader:
    """One reading of one workbook; ``run`` returns the Panel."""

    def __init__(self, given: str, file: Path, source: _Source, sheets: tuple[Sheet, ...]) -> None:
        self.given = given
        self.sheets = sheets  # the contract's, with the rulebook's signal codes
        self.file = file
        self.source = source
        self.scan = source.scan
        self.problems: list[Problem] = []

    def problem(
        self,
        severity: Severity,
        message: str,
        sheet: str | None = None,
        cell: str | None = None,
        value: object = None,
        suggestion: str | None = None,
    ) -> Problem:
        shown = None if value is None else as_text(value)
        found = Problem(severity, self.given, sheet, cell, message, shown, suggestion)
        self.problems.append(found)
        return found

    # -- the whole workbook -------------------------------------------------------------

    def run(self) -> Panel:
        found, ignored = self._match_tabs()
        reads: dict[str, _SheetRead] = {}
        for sheet in self.sheets:
            scan = found.get(sheet.name)
            if scan is None:
                if sheet.required:
                    self.problem("error", self.source.missing(sheet))
                continue
            reads[sheet.name] = self._read_sheet(sheet, scan)
        fallback = self._as_of(reads)
        self._check_across(reads, check_dates=fallback is None)
        rows: dict[str, list[Row]] = {}
        accounts: list[SheetAccount] = []
        rejected: list[RejectedRow] = []
        for sheet in self.sheets:
            read = reads.get(sheet.name)
            if read is None:
                rows[sheet.name] = []
                accounts.append(SheetAccount(sheet.name, None))
                continue
            loaded = [d.row for d in read.drafts if not d.failed]
            failed = [
                RejectedRow(
                    sheet.name,
                    d.row.number,
                    tuple(p for p in d.problems if p.severity == "error"),
                    _who(d.row),
                )
                for d in read.drafts
                if d.failed
            ]
            rows[sheet.name] = loaded
            read.account.loaded = len(loaded)
            read.account.rejected = len(failed) + len(read.trailers)
            accounts.append(read.account)
            rejected.extend(sorted(failed + read.trailers, key=lambda r: r.number))
        employees = next((s for s in self.sheets if s.required), None)
        tab = reads[employees.name].tab if employees and employees.name in reads else None
        if (
            employees is not None
            and tab is not None
            and not rows[employees.name]
            and not any(p.severity == "error" and p.sheet == tab for p in self.problems)
        ):
            # Nobody to evaluate: the workbook is not usable, whatever else it holds, so
            # validate says so as evaluate would (a blank template is not a review).
            self.problem(
                "error",
                "no usable row: nobody to evaluate (fill in one row per person under review)",
                tab,
            )
        panel = Panel(
            path=self.file,
            sha256=self.scan.sha256,
            size=self.scan.size,
            rows=rows,
            problems=self.problems,
            accounts=accounts,
            rejected=rejected,
            ignored_sheets=ignored,
            found={name: scan.tab for name, scan in found.items()},
        )
        panel.fallback_as_of = fallback
        return panel

    def _match_tabs(self) -> tuple[dict[str, SheetScan], list[str]]:
        """Contract sheet -> its tab; unknown tabs are listed as ignored, never dropped."""
        by_key = sheet_by_key()
        found: dict[str, SheetScan] = {}
        ignored: list[str] = []
        kind = self.source.kind
        for scan in self.scan.sheets:
            key = self.source.key(scan.tab)
            sheet = by_key.get(key)
            if scan.state != "visible":
                what = "it is read all the same" if sheet else "check nothing in it is needed"
                self.problem("warning", f"sheet is hidden; {what}", scan.tab)
            if sheet is None:
                ignored.append(scan.tab)
                near = _near_name(key, by_key)
                self.problem(
                    "warning" if near else "info",
                    f"{kind} is not part of the workbook contract: ignored",
                    scan.tab,
                    suggestion=near,
                )
                continue
            if sheet.name in found:
                ignored.append(scan.tab)
                self.problem(
                    "error",
                    f"{kind}s {found[sheet.name].tab!r} and {scan.tab!r} both mean the "
                    f"{sheet.name} sheet; only the first is read",
                    scan.tab,
                )
                continue
            found[sheet.name] = scan
        for tab in self.scan.other_tabs:
            ignored.append(tab)
            self.problem("info", self.source.other_tab, tab)
        return found, ignored

    # -- one sheet ----------------------------------------------------------------------

    def _read_sheet(self, sheet: Sheet, scan: SheetScan) -> _SheetRead:
        tab = scan.tab
        account = SheetAccount(sheet.name, tab)
        values = self.source.rows(scan)
        result = _SheetRead(sheet, tab, [], account, [])

        header_number = 0
        slots: list[_Slot] = []
        blanks: dict[str, Cell] = {}
        unheaded: dict[int, int] = defaultdict(int)  # column index -> values without a header
        width = 0
        merges: dict[int, str] = {}
        pending: list[tuple[int, list[RawCell | None], str] | None] = []
        keys: list[_Slot] = []
        needed: list[_Slot] = []
        header_position = last = 0  # positions of the header and the last non-empty row
        examples = 0
        previous = 0
        for position, number, cells in values:
            gap, previous = position - previous - 1, position
            if header_number == 0:
                if _first_value(cells) is None:
                    continue
                header_number, header_position, last = number, position, position
                slots, blanks, width = self._header(result, number, cells)
                result.present = {s.column.name for s in slots}
                keys = _key_slots(sheet, slots)
                needed = [s for s in slots if s.column.needed]
                merges = self._merges(scan, number, width, tab)
                continue
            if gap > 0:  # rows with no cell elements at all are blank rows too
                pending.extend([None] * gap)
            first = _first_value(cells)
            if first is None:
                pending.append(None)
                continue
            last = position
            text = as_text(first)
            if is_example(text):
                examples += 1
                self._flush(pending, result, slots, blanks, merges, unheaded, width, account)
                account.blank += 1
                self.problem(
                    "info",
                    f"worked example row (first cell {text[:30]!r}): skipped, counted as blank",
                    tab,
                    f"{self.source.row_word} {number}",
                )
                continue
            if why := _not_a_person(text, cells, keys, needed):
                pending.append((number, cells, why))
                continue
            self._flush(pending, result, slots, blanks, merges, unheaded, width, account)
            self._parse(number, cells, result, slots, blanks, merges, unheaded, width)

        # What is still pending lies below the data: totals or notes rows, and blanks.
        while pending and pending[-1] is None:
            pending.pop()
        for item in pending:
            if item is None:
                account.blank += 1
                continue
            number = item[0]
            # An error, not a warning: a row left out is a loss unless the panel says
            # so (--allow-rejects), and then it is listed with the rejected rows.
            reason = self.problem(
                "error",
                f"a totals or notes row below the data ({item[2]}): not loaded; delete "
                "it, or run with --allow-rejects to leave it out",
                tab,
                f"{self.source.row_word} {number}",
                value=_first_value(item[1]),
            )
            result.trailers.append(RejectedRow(sheet.name, number, (reason,)))
        if header_number == 0:
            self.problem("warning" if not sheet.required else "error", "sheet is empty", tab)
            if sheet.required:
                for column in sheet.columns:
                    if column.required:
                        self.problem("error", f"missing required column {column.name}", tab)
        for index, count in sorted(unheaded.items()):
            place = self.source.column_name(index)
            self.problem(
                "warning", f"{count} value(s) in {place}, which has no header: ignored", tab, place
            )
        if scan.far_cells:
            self.problem("warning", self.source.far(scan.far_cells), tab)
        account.read = last - header_position if header_number else 0
        return result

    def _header(
        self, result: _SheetRead, number: int, cells: list[RawCell | None]
    ) -> tuple[list[_Slot], dict[str, Cell], int]:
        """Map header cells to contract columns; report unknown, duplicate and missing ones."""
        sheet, tab, account = result.sheet, result.tab, result.account
        by_key = column_by_key(sheet)
        taken: dict[str, str] = {}  # contract column -> header cell
        slots: list[_Slot] = []
        width = 0
        for index, cell in enumerate(cells):
            if cell is None or not _present(cell.value):
                continue
            width = index + 1
            title = as_text(cell.value)
            letter, after = self.source.column(index, title)
            ref = f"{letter}{number}{after}"
            key = normalize(title)
            column = by_key.get(key)
            if not sheet.restricted and key in PROTECTED_COLUMNS:
                account.ignored_columns.append(title)
                self.problem(
                    "warning",
                    f"column {title!r} is a protected characteristic: ignored (only the "
                    "Demographics sheet may hold it, and no rule reads it)",
                    tab,
                    ref,
                )
                continue
            if column is None:
                account.ignored_columns.append(title)
                near = _near_name(title, by_key)
                self.problem(
                    "warning" if near else "info",
                    f"column {title!r} is not part of the {sheet.name} sheet: ignored",
                    tab,
                    ref,
                    suggestion=near,
                )
                continue
            if column.name in taken:
                # Which of the two holds the real value? Neither can be trusted.
                account.ignored_columns.append(title)
                result.every_row.append(
                    self.problem(
                        "error",
                        f"columns {taken[column.name]} and {ref} ({title!r}) both mean "
                        f"{column.name}: rename or remove one; every row is rejected until then",
                        tab,
                        ref,
                    )
                )
                continue
            taken[column.name] = ref
            slots.append(
                _Slot(
                    column,
                    index,
                    letter,
                    after,
                    f"{tab}{self.source.sep}{letter}",
                    parser_for(column, self.source.epoch),
                    column.kind in ("id", "percent"),
                )
            )
        for column in sheet.columns:
            if column.required and column.name not in taken:
                result.every_row.append(
                    self.problem(
                        "error",
                        f"missing required column {column.name} (the header row is "
                        f"{self.source.row_word} {number}, the first non-empty row)",
                        tab,
                        f"{self.source.row_word} {number}",
                    )
                )
        # An absent column still gets a Cell in every row: blank, pointing at the column.
        blanks = {
            c.name: Cell(None, f"{tab}{self.source.sep}{c.name}")
            for c in sheet.columns
            if c.name not in taken
        }
        return slots, blanks, width

    def _merges(self, scan: SheetScan, header: int, width: int, tab: str) -> dict[int, str]:
        """Row number -> the merged range covering it (header-row merges: reported now)."""
        covered: dict[int, str] = {}
        for merged in scan.merged:
            min_col, min_row, max_col, max_row = range_boundaries(merged)
            if max_row is None or min_row is None or max_row < header:
                continue
            if (min_col or 1) > width:
                continue
            if min_row <= header:
                self.problem(
                    "error",
                    f"merged cells {merged} in the header row: unmerge them so each column "
                    "has its own header",
                    tab,
                    merged,
                )
                continue
            for number in range(min_row, max_row + 1):
                covered.setdefault(number, merged)
        return covered

    def _flush(
        self,
        pending: list[tuple[int, list[RawCell | None], str] | None],
        result: _SheetRead,
        slots: list[_Slot],
        blanks: dict[str, Cell],
        merges: dict[int, str],
        unheaded: dict[int, int],
        width: int,
        account: SheetAccount,
    ) -> None:
        """Rows held back as possible totals rows turned out to be inside the data."""
        for item in pending:
            if item is None:
                account.blank += 1
            else:
                self._parse(item[0], item[1], result, slots, blanks, merges, unheaded, width)
        pending.clear()

    def _parse(
        self,
        number: int,
        cells: list[RawCell | None],
        result: _SheetRead,
        slots: list[_Slot],
        blanks: dict[str, Cell],
        merges: dict[int, str],
        unheaded: dict[int, int],
        width: int,
    ) -> None:
        """One data row -> a draft Row with a typed Cell for every contract column."""
        tab = result.tab
        typed: dict[str, Cell] = dict(blanks)
        draft = _Draft(Row(result.sheet.name, number, typed), list(result.every_row))
        size = len(cells)
        row_number = str(number)
        for slot in slots:
            column = slot.column
            ref = slot.prefix + row_number + slot.after
            cell = (cells[slot.index] if slot.index < size else None) or _EMPTY
            raw = cell.value
            if raw is None or (type(raw) is str and not raw.strip()):
                typed[column.name] = Cell(None, ref)
                if cell.data_type == "f":
                    draft.problems.append(
                        self.problem(
                            "error",
                            f"{column.name}: formula with no cached value: open and save "
                            "the workbook in Excel",
                            tab,
                            slot.letter + row_number + slot.after,
                        )
                    )
                    continue
                if column.needed:
                    draft.problems.append(
                        self.problem(
                            "error",
                            f"{column.name} is needed on every row but is blank",
                            tab,
                            slot.letter + row_number + slot.after,
                        )
                    )
                continue
            if cell.data_type == "e" or (
                type(raw) is str and raw[:1] == "#" and raw.strip() in EXCEL_ERRORS
            ):
                typed[column.name] = Cell(None, ref)
                draft.problems.append(
                    self.problem(
                        "error",
                        f"{column.name}: Excel error {as_text(raw)} in the cell; fix the formula "
                        "or enter the value",
                        tab,
                        slot.letter + row_number + slot.after,
                        value=raw,
                    )
                )
                continue
            value = slot.parse(raw, cell.number_format if slot.wants_format else "")
            if isinstance(value, Invalid):
                typed[column.name] = Cell(None, ref)
                draft.problems.append(
                    self.problem(
                        "error",
                        value.message,
                        tab,
                        slot.letter + row_number + slot.after,
                        value=raw,
                        suggestion=value.suggestion,
                    )
                )
                continue
            typed[column.name] = Cell(value, ref)
            if isinstance(value, dt.date) and value.year < 1900:
                # A date cell holding 0 or a negative number reads as 1899 or earlier.
                draft.problems.append(
                    self.problem(
                        "warning",
                        f"{column.name}: {value.isoformat()} is before 1900; check the cell "
                        "(a date cell holding 0 or a negative number shows as 1899)",
                        tab,
                        slot.letter + str(number),
                        value=raw,
                    )
                )
            if column.kind == "percent" and isinstance(value, float) and 0 < value < 1:
                if type(raw) is float and "%" not in cell.number_format:
                    # A fraction typed into a plain cell: 0.92 reads as 0.92 %, and was
                    # most likely meant as 92 % (a cell formatted as % would say so).
                    shown = _tidy_percent(raw * 100)
                    draft.problems.append(
                        self.problem(
                            "warning",
                            f"{column.name}: {raw:g} is read as {raw:g} %; if {shown} % was "
                            f"meant, enter {shown} or format the cell as a percentage",
                            tab,
                            slot.letter + row_number + slot.after,
                            value=raw,
                        )
                    )
            if value is None and column.needed:
                draft.problems.append(
                    self.problem(
                        "error",
                        f"{column.name} is needed on every row but is blank",
                        tab,
                        slot.letter + row_number + slot.after,
                    )
                )
        if size > width:
            for index in range(width, size):
                extra = cells[index]
                if extra is not None and _present(extra.value):
                    unheaded[index] += 1
        merged = merges.get(number)
        if merged is not None:
            # One Problem per range, reported once, carried by every row it covers.
            if merged not in result.merge_problems:
                result.merge_problems[merged] = self.problem(
                    "error",
                    f"merged cells {merged} inside the data: unmerge them and fill every cell",
                    tab,
                    merged,
                )
            draft.problems.append(result.merge_problems[merged])
        result.drafts.append(draft)

    # -- across sheets ------------------------------------------------------------------

    def _as_of(self, reads: dict[str, _SheetRead]) -> dt.date | None:
        """The fallback as-of date when the Cycle sheet gives none (else None)."""
        cycle = reads.get("Cycle")
        if cycle is not None and cycle.drafts:
            first = cycle.drafts[0]
            if not first.failed and isinstance(first.row.get("as_of"), dt.date):
                return None
        evidence = reads.get(EVIDENCE.name)
        dates = [
            value
            for d in (evidence.drafts if evidence else [])
            if isinstance(value := d.row.get("observed_on"), dt.date)
        ]
        where = "no Cycle sheet" if cycle is None else "no usable as_of date in the Cycle sheet"
        if not dates:
            self.problem(
                "warning",
                f"{where} and no evidence dates: how long ago evidence was observed "
                "cannot be measured",
            )
            return None
        latest = max(dates)
        self.problem(
            "warning",
            f"{where}: using the latest Evidence observed_on date, {latest.isoformat()}, "
            "as the as-of date",
        )
        return latest

    def _check_across(self, reads: dict[str, _SheetRead], check_dates: bool) -> None:
        cycle = reads.get("Cycle")
        if cycle is not None:
            for extra in cycle.drafts[1:]:
                extra.problems.append(
                    self.problem(
                        "error",
                        "the Cycle sheet has one row of settings; this extra row is not used",
                        cycle.tab,
                        f"{self.source.row_word} {extra.row.number}",
                    )
                )
        as_of = None
        if check_dates and cycle is not None and cycle.drafts:
            value = cycle.drafts[0].row.get("as_of")
            as_of = value if isinstance(value, dt.date) else None
        for read in reads.values():
            if as_of is not None:
                self._dates_after(read, as_of)
            if read.sheet.unique:
                self._duplicates(read, read.sheet.unique)
                self._lookalikes(read, read.sheet.unique)
        self._development_dates(reads.get("Development"))
        self._references(reads)

    def _dates_after(self, read: _SheetRead, as_of: dt.date) -> None:
        columns = [c.name for c in read.sheet.columns if c.not_after_as_of]
        for draft in read.drafts:
            for name in columns:
                value = draft.row.get(name)
                if isinstance(value, dt.date) and value > as_of:
                    draft.problems.append(
                        self.problem(
                            "error",
                            f"{name} {value.isoformat()} is after the cycle's as_of date "
                            f"{as_of.isoformat()}",
                            read.tab,
                            _a1(draft.row.ref(name)),
                            value=value,
                        )
                    )

    def _development_dates(self, read: _SheetRead | None) -> None:
        if read is None:
            return
        for draft in read.drafts:
            started, ended = draft.row.get("started"), draft.row.get("ended")
            if isinstance(started, dt.date) and isinstance(ended, dt.date) and ended < started:
                draft.problems.append(
                    self.problem(
                        "error",
                        f"ended {ended.isoformat()} is before started {started.isoformat()}",
                        read.tab,
                        _a1(draft.row.ref("ended")),
                        value=ended,
                    )
                )

    def _lookalikes(self, read: _SheetRead, name: str) -> None:
        """Warn about keys that differ only in Unicode form (NFC/NFD) or letter case.

        They are read as two people (or two observations), as written; a panel typing
        'Café' on one machine and 'Café' (decomposed) on another means one.
        """
        groups: dict[str, dict[str, list[_Draft]]] = defaultdict(lambda: defaultdict(list))
        for draft in read.drafts:
            value = draft.row.get(name)
            if isinstance(value, str):
                key = unicodedata.normalize("NFC", value).casefold()
                groups[unicodedata.normalize("NFC", key)][value].append(draft)
        for spellings in groups.values():
            if len(spellings) < 2:
                continue
            for value, drafts in spellings.items():
                others = [
                    f"{ascii(v)} in {_a1(d[0].row.ref(name))}"
                    for v, d in spellings.items()
                    if v != value
                ]
                for draft in drafts:
                    self.problem(
                        "warning",
                        f"{name} {ascii(value)} differs from {', '.join(others)} only in "
                        "Unicode form or letter case: they are read as different; make them "
                        "identical if they mean the same",
                        read.tab,
                        _a1(draft.row.ref(name)),
                        value=value,
                    )

    def _duplicates(self, read: _SheetRead, name: str) -> None:
        """Every row sharing a unique key is rejected, each naming the others' cells."""
        groups: dict[Value, list[_Draft]] = defaultdict(list)
        for draft in read.drafts:
            value = draft.row.get(name)
            if value is not None:
                groups[value].append(draft)
        for value, drafts in groups.items():
            if len(drafts) < 2:
                continue
            refs = [_a1(d.row.ref(name)) for d in drafts]
            for draft, ref in zip(drafts, refs, strict=True):
                others = ", ".join(self.source.mention(r) for r in refs if r != ref)
                draft.problems.append(
                    self.problem(
                        "error",
                        f"duplicate {name} {as_text(value)!r}: also in {others}",
                        read.tab,
                        ref,
                        value=value,
                    )
                )

    def _references(self, reads: dict[str, _SheetRead]) -> None:
        """Rows naming a person who is not in Employees are rejected.

        A person whose Employees row was rejected still counts as known: that row's
        own error says what is wrong, and repeating it on every row about them
        would bury it. nominator_id is not checked: nominations may be collected
        under pseudonyms.
        """
        people = reads.get(EMPLOYEES.name)
        if people is None or "employee_id" not in people.present:
            return  # the missing sheet or column is the error; every reference would fail
        known = {d.row.get("employee_id") for d in people.drafts} - {None}
        loose = {normalize(str(k)).lstrip("0"): str(k) for k in known}
        for read in reads.values():
            columns = [c.name for c in read.sheet.columns if c.refers_to_employee]
            for draft in read.drafts:
                for name in columns:
                    value = draft.row.get(name)
                    if value is None or value in known:
                        continue
                    draft.problems.append(
                        self.problem(
                            "error",
                            f"{name} {as_text(value)!r} is not an employee_id in the "
                            f"{EMPLOYEES.name} sheet",
                            read.tab,
                            _a1(draft.row.ref(name)),
                            value=value,
                            suggestion=loose.get(normalize(str(value)).lstrip("0")),
                        )
                    )
        nominations = reads.get("Nominations")
        for draft in nominations.drafts if nominations else []:
            who = draft.row.get("nominator_id")
            if who is not None and who == draft.row.get("nominee_id"):
                draft.problems.append(
                    self.problem(
                        "warning",
                        "a self-nomination says nothing about inspiring others",
                        nominations.tab if nominations else None,
                        _a1(draft.row.ref("nominee_id")),
                        value=who,
                    )
                )


def _a1(ref: str) -> str:
    """'Evidence!F14' -> 'F14', 'Evidence.csv:14:signal' -> '14:signal' (the sheet is in
    the Problem already)."""
    return split_ref(ref)[1]


def _first_value(cells: list[RawCell | None]) -> object:
    """The first non-empty value of a row (a formula counts), or None for a blank row."""
    for cell in cells:
        if cell is not None and (_present(cell.value) or cell.data_type == "f"):
            return "(a formula)" if cell.value is None else cell.value
    return None


def _near_name(name: str, keys: dict[str, Sheet] | dict[str, Column]) -> str | None:
    """The contract name closest to an unknown sheet or column name, if one is close."""
    best = difflib.get_close_matches(normalize(name), list(keys), n=1, cutoff=0.8)
    if not best:
        return None
    return keys[best[0]].name


def _key_slots(sheet: Sheet, slots: list[_Slot]) -> list[_Slot]:
    """The columns that say whose row it is: needed ids (or the first needed column)."""
    needed = [s for s in slots if s.column.needed]
    return [s for s in needed if s.column.kind == "id"] or needed[:1]


def _filled(cells: list[RawCell | None], slot: _Slot) -> bool:
    cell = cells[slot.index] if slot.index < len(cells) else None
    return cell is not None and _present(cell.value)


def _not_a_person(
    text: str, cells: list[RawCell | None], keys: list[_Slot], needed: list[_Slot]
) -> str | None:
    """Why this row is recognisably not a person's (or an observation's), or None.

    A row with its id and every value a row needs is data, whatever its first cell
    says (an id 'Total 1' or 'NB-7', a person named 'Sum Wing Lee'), unless it is a
    totals label followed by numbers only. Otherwise: no id and a totals/notes label,
    a single value or only numbers (a SUM row, a note); or a totals label where the
    id goes, without the values a row needs.
    """
    labelled = _TRAILER.match(text) is not None
    present = [c.value for c in cells if c is not None and _present(c.value)]
    if keys and not any(_filled(cells, slot) for slot in keys):
        if labelled or len(present) == 1 or not any(isinstance(v, str) for v in present):
            return f"no {keys[0].column.name}"
        return None
    if not labelled:
        return None
    if sum(isinstance(v, str) for v in present) == 1:  # the label, then numbers
        return f"the label {text[:30]!r} and numbers only"
    missing = [slot.column.name for slot in needed if not _filled(cells, slot)]
    return f"the label {text[:30]!r} without {', '.join(missing)}" if missing else None


def _tidy_percent(value: float) -> str:
    """A percentage as a panel would type it: 92, 92.5 (never 92.00000000000001)."""
    return f"{round(value, 6):g}"
