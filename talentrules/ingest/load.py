"""Read a panel's workbook into a ``Panel``: every value typed, with its cell.

How it reads, and why: ``files.scan_file`` first checks the raw bytes (type,
limits, no DOCTYPE) and, with regexes over each sheet's XML, learns its cell
count and merged ranges (known before the rows, so a row inside a merged range
is caught as it is read). Then ``sheetrows.read_rows`` streams each sheet's cells,
one row at a time: scanned with regular expressions where the XML is what writers
write, else with the standard library's C XML parser (``xlsx.exact_rows``); several
times faster than openpyxl's read-only mode, in flat memory, and one pass gives both
a formula's cached value and whether it has one.

Validation never stops at the first problem: each becomes a ``Problem``; a row
with an error is rejected (with all its reasons), a row with warnings is loaded.

The reader below matches tabs and headers and types every cell; where its rows come
from is ``sources.py``, the rows it is building ``drafts.py``, what is not a person's
row ``trailers.py``, and the checks that need every sheet read ``across.py``.

A large workbook's largest person-keyed sheet (Evidence) is read by a forked helper
process (``helper.py``) while this one reads the others; where that sheet is more than
the helper's share of the reading (``helper.HELPER_SHARE``, just under half), this
process reads its first rows and the helper the rest, from a cut both agree on, and the
two are joined in row order (``Reader._join``). The same reading, its problems put back
in sheet order; anything unusual and the workbook is read again, one sheet after
another, so that what a panel is told never depends on the helper.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import gc
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from openpyxl.utils.cell import range_boundaries

from talentrules.contract import (
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
from talentrules.ingest.across import AcrossSheets
from talentrules.ingest.csvdir import scan_folder
from talentrules.ingest.drafts import ProblemLog, SheetRead, SheetReading, Slot
from talentrules.ingest.files import RowMark, SheetScan, scan_file, unreadable, why
from talentrules.ingest.helper import Helper, ReadAgain, Rest
from talentrules.ingest.sheetrows import read_strings
from talentrules.ingest.sources import READ_ERRORS, FolderSource, Source, WorkbookSource
from talentrules.ingest.store import Place, RowStore, StoredRows
from talentrules.ingest.trailers import first_value, has_value, key_slots, not_a_person
from talentrules.ingest.values import (
    EXCEL_ERRORS,
    Invalid,
    as_text,
    is_example,
    parser_and_memo,
)
from talentrules.ingest.xlsx import RawCell, ReadLimitError, read_book
from talentrules.model import (
    PERSON_COLUMN,
    Cell,
    Panel,
    Problem,
    RejectedRow,
    Row,
    SheetAccount,
    Value,
)
from talentrules.vocabulary import signal_catalogue

_EMPTY = RawCell(None, "n", "General")  # stands in for a cell the row does not have
_UNSEEN = Invalid("not parsed yet")  # a text not in a slot's memo (never a parsed value)


def _who(row: Row) -> str:
    """Whose a rejected row is, from what it holds: on Employees the id and the name,
    elsewhere the person it is about (employee_id, nominee_id or manager_id)."""

    def text(column: str) -> str:
        value = row.get(column)
        return "" if value is None or isinstance(value, bool) else str(value).strip()

    if row.sheet == "Employees":
        return " ".join(t for t in (text("employee_id"), text("full_name")) if t)
    return next((t for c in ("employee_id", "nominee_id", "manager_id") if (t := text(c))), "")


def load_workbook(
    path: str | Path, signals: Iterable[str] | None = None, jobs: int | None = None
) -> Panel:
    """Read and validate the workbook at ``path``, or a folder of CSV files (csvdir.py).

    ``signals`` are the codes the Evidence sheet's ``signal`` column accepts: the
    rulebook's signal catalogue (default: the packaged rulebook's). ``jobs``: the
    processes the reading may use (default: the CPU cores); with one, no helper
    process reads beside this one (``--jobs 1`` is one core, ingest included). Raises
    ``WorkbookError`` (one sentence naming the file) when the file is not a workbook
    that can be read at all; every other problem is in ``Panel.problems``.
    """
    codes = tuple(signals) if signals is not None else tuple(signal_catalogue())
    sheets = with_signals(SHEETS, codes)
    given = str(path)
    file = Path(path)
    with _collector_paused():
        if file.is_dir():
            return Reader(given, file, FolderSource(given, scan_folder(file, given)), sheets).run()
        scan = scan_file(file, given)
        try:
            archive = zipfile.ZipFile(file)
        except OSError as error:  # replaced or made unreadable since it was scanned
            raise WorkbookError(f"{given}: cannot be read ({unreadable(error)})") from error
        with archive:
            try:
                book = read_book(
                    archive, scan.strings, scan.styles, "xl/workbook.xml", read_strings
                )
            except READ_ERRORS as error:
                raise WorkbookError(
                    f"{given}: the workbook is damaged and cannot be read ({why(error)})"
                ) from error
            except ReadLimitError as error:
                raise WorkbookError(f"{given}: {scan.strings}: {error}") from error
            reader = Reader(given, file, WorkbookSource(given, scan, archive, book), sheets)
            try:
                return reader.run(helper=(jobs or os.cpu_count() or 1) > 1)
            except ReadAgain:
                # Anything unusual while a helper read a sheet: read it all again, one
                # sheet after another, so that every message is the plain reading's.
                reader.store.close()
                source = WorkbookSource(given, scan, archive, book)
                return Reader(given, file, source, sheets).run()


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


class Reader:
    """One reading of one workbook; ``run`` returns the Panel."""

    def __init__(self, given: str, file: Path, source: Source, sheets: tuple[Sheet, ...]) -> None:
        self.given = given
        self.sheets = sheets  # the contract's, with the rulebook's signal codes
        self.file = file
        self.source = source
        self.scan = source.scan
        self.problem = ProblemLog(given)
        self.problems = self.problem.problems
        # The person-keyed sheets' rows go to disk as they are read (store.py).
        self.store = RowStore()

    # -- the whole workbook -------------------------------------------------------------

    def run(self, helper: bool = False) -> Panel:
        """Read and check every sheet; with ``helper``, the largest sheet may be read by
        a helper process meanwhile (``ReadAgain`` if anything about it was unusual)."""
        found, ignored = self._match_tabs()
        reads = self._read_sheets(found, Helper.start(self, found) if helper else None)
        across = AcrossSheets(self.problem, self.source)
        fallback = across.as_of(reads)
        across.check(reads, check_dates=fallback is None)
        rows: dict[str, Sequence[Row]] = {}
        accounts: list[SheetAccount] = []
        rejected: list[RejectedRow] = []
        for sheet in self.sheets:
            read = reads.get(sheet.name)
            if read is None:
                rows[sheet.name] = []
                accounts.append(SheetAccount(sheet.name, None))
                continue
            drafts = read.failed()
            failed = [
                RejectedRow(
                    sheet.name,
                    d.row.number,
                    tuple(p for p in d.problems if p.severity == "error"),
                    _who(d.row),
                )
                for d in drafts
            ]
            if read.store is not None:
                read.store.drop(sheet.name, [d.row.number for d in drafts])
                rows[sheet.name] = StoredRows(read.store, sheet.name)
            else:
                rows[sheet.name] = [d.row for d in read.drafts if not d.failed]
            read.account.loaded = len(rows[sheet.name])
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
        self.store.done()
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

    def _read_sheets(
        self, found: dict[str, SheetScan], helper: Helper | None
    ) -> dict[str, SheetRead]:
        """Every contract sheet found, read in contract order (a missing required one is
        an error); the helper's sheet, if any, is read by the helper meanwhile (from its
        cut on, if it has one: this process reads the rows before), and its problems take
        their place among the others as if this process had read it."""
        reads: dict[str, SheetRead] = {}
        at = 0  # where the helper's sheet's problems go
        before: SheetReading | None = None  # the helper's sheet read up to its cut
        try:
            for sheet in self.sheets:
                scan = found.get(sheet.name)
                if scan is None:
                    if sheet.required:
                        self.problem("error", self.source.missing(sheet))
                    continue
                if helper is not None and sheet is helper.sheet:
                    if helper.cut is not None:
                        before, paused = self._read_to_cut(sheet, scan, helper.cut)
                        if not paused:  # read to its end here: the helper is not needed
                            helper.stop()
                            helper = None
                            reads[sheet.name] = self._end_sheet(before)
                            continue
                    at = len(self.problems)
                    continue
                reads[sheet.name] = self._read_sheet(sheet, scan)
            if helper is None:
                return reads
            read, problems = helper.result(self, before)
        except Exception as error:
            if helper is None:
                raise
            raise ReadAgain from error  # e.g. a damaged sheet: which one is told first?
        finally:
            if helper is not None:
                helper.stop()
        self.problems[at:at] = problems
        reads[helper.sheet.name] = read
        return {s.name: reads[s.name] for s in self.sheets if s.name in reads}

    def _read_to_cut(
        self, sheet: Sheet, scan: SheetScan, cut: RowMark
    ) -> tuple[SheetReading, bool]:
        """The sheet's rows before ``cut``, where the helper takes over (True); else (the
        reading is not there as the helper begins it) every row (False)."""
        reading = SheetReading.of(sheet, scan)
        rows = self.source.rows(scan, stop=cut.offset)
        try:
            return reading, self._read_rows(reading, rows, cut.number)
        finally:
            rows.close()

    def _join(self, reading: SheetReading, rest: Rest) -> list[Problem]:
        """The rows the helper read from the cut on (``rest``) joined to those read here
        before it, the sheet ended: its problems from the cut on, in the order reading
        it whole would tell them (a merged range across the cut is told once)."""
        result = reading.result
        told = {id(p) for m, p in rest.merge_problems.items() if m in result.merge_problems}
        for merged, problem in rest.merge_problems.items():
            result.merge_problems.setdefault(merged, problem)
        result.flagged.update(rest.flagged)
        result.account.blank += rest.blank
        for index, count in rest.unheaded.items():
            reading.unheaded[index] += count
        reading.pending.extend(rest.pending)  # (none was held back before the cut)
        reading.last = rest.last or reading.last
        end = len(self.problems)
        self._end_sheet(reading)
        problems = [p for p in rest.problems if id(p) not in told] + self.problems[end:]
        del self.problems[end:]
        return problems

    # -- one sheet ----------------------------------------------------------------------

    def _read_sheet(self, sheet: Sheet, scan: SheetScan) -> SheetRead:
        reading = SheetReading.of(sheet, scan)
        self._read_rows(reading, self.source.rows(scan))
        return self._end_sheet(reading)

    def _read_rows(
        self,
        reading: SheetReading,
        values: Iterable[tuple[int, int, list[RawCell | None]]],
        cut: int = 0,
    ) -> bool:
        """Read ``values`` into ``reading``, to their end (False), or (True) up to where
        they reach the cut (position 0), if there the reading is as the next process
        would begin it: the header read, no row held back, and the row before numbered
        ``cut - 1``, so the rows from the cut on read the same in either process."""
        result, scan = reading.result, reading.scan
        sheet, tab, account = result.sheet, result.tab, result.account
        header_number, header_position = reading.header_number, reading.header_position
        slots, blanks, width = reading.slots, reading.blanks, reading.width
        merges, keys, needed = reading.merges, reading.keys, reading.needed
        unheaded, pending = reading.unheaded, reading.pending
        last, previous = reading.last, reading.previous
        paused = False
        for position, number, cells in values:
            if position == 0:  # the cut
                if header_number and not pending and previous == cut - 1:
                    paused = True
                    break
                continue
            gap, previous = position - previous - 1, position
            if header_number == 0:
                if first_value(cells) is None:
                    continue
                header_number, header_position, last = number, position, position
                slots, blanks, width = self._header(result, number, cells)
                # A row's values: the absent columns' (blank), then the slots', in order.
                result.places = (
                    *(Place(name, "", "", cell.ref) for name, cell in blanks.items()),
                    *(Place(s.column.name, s.prefix, s.after) for s in slots),
                )
                if sheet.name in PERSON_COLUMN:
                    result.store = self.store
                    dated = [c.name for c in sheet.columns if c.not_after_as_of]
                    self.store.begin(sheet.name, result.places, dated)
                result.present = {s.column.name for s in slots}
                keys = key_slots(sheet, slots)
                needed = [s for s in slots if s.column.needed]
                merges = self._merges(scan, number, width, tab)
                continue
            if gap > 0:  # rows with no cell elements at all are blank rows too
                pending.extend([None] * gap)
            first = first_value(cells)
            if first is None:
                pending.append(None)
                continue
            last = position
            text = as_text(first)
            if is_example(text):
                self._flush(pending, result, slots, blanks, merges, unheaded, width, account)
                account.blank += 1
                self.problem(
                    "info",
                    f"worked example row (first cell {text[:30]!r}): skipped, counted as blank",
                    tab,
                    f"{self.source.row_word} {number}",
                )
                continue
            if why := not_a_person(text, cells, keys, needed):
                pending.append((number, cells, why))
                continue
            self._flush(pending, result, slots, blanks, merges, unheaded, width, account)
            self._parse(number, cells, result, slots, blanks, merges, unheaded, width)
        reading.header_number, reading.header_position = header_number, header_position
        reading.slots, reading.blanks, reading.width = slots, blanks, width
        reading.merges, reading.keys, reading.needed = merges, keys, needed
        reading.last, reading.previous = last, previous
        return paused

    def _end_sheet(self, reading: SheetReading) -> SheetRead:
        """What is known once every row is read: rows held back below the data, columns
        without a header, the account."""
        result, scan, pending = reading.result, reading.scan, reading.pending
        sheet, tab, account = result.sheet, result.tab, result.account
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
                value=first_value(item[1]),
            )
            result.trailers.append(RejectedRow(sheet.name, number, (reason,)))
        pending.clear()
        if reading.header_number == 0:
            self.problem("warning" if not sheet.required else "error", "sheet is empty", tab)
            if sheet.required:
                for column in sheet.columns:
                    if column.required:
                        self.problem("error", f"missing required column {column.name}", tab)
        for index, count in sorted(reading.unheaded.items()):
            place = self.source.column_name(index)
            self.problem(
                "warning", f"{count} value(s) in {place}, which has no header: ignored", tab, place
            )
        if scan.far_cells:
            self.problem("warning", self.source.far(scan.far_cells), tab)
        account.read = reading.last - reading.header_position if reading.header_number else 0
        return result

    def _header(
        self, result: SheetRead, number: int, cells: list[RawCell | None]
    ) -> tuple[list[Slot], dict[str, Cell], int]:
        """Map header cells to contract columns; report unknown, duplicate and missing ones."""
        sheet, tab, account = result.sheet, result.tab, result.account
        by_key = column_by_key(sheet)
        taken: dict[str, str] = {}  # contract column -> header cell
        slots: list[Slot] = []
        width = 0
        for index, cell in enumerate(cells):
            if cell is None or not has_value(cell.value):
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
            parse, memo = parser_and_memo(column, self.source.epoch)
            slots.append(
                Slot(
                    column,
                    index,
                    letter,
                    after,
                    f"{tab}{self.source.sep}{letter}",
                    parse,
                    column.kind in ("id", "percent"),
                    memo,
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
        result: SheetRead,
        slots: list[Slot],
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
        result: SheetRead,
        slots: list[Slot],
        blanks: dict[str, Cell],
        merges: dict[int, str],
        unheaded: dict[int, int],
        width: int,
    ) -> None:
        """One data row -> its typed values, one a contract column (``result.places``),
        and its problems, each naming the cell."""
        tab = result.tab
        problem = self.problem
        problems = list(result.every_row)
        values: list[Value] = [None] * len(blanks)
        size = len(cells)
        row_number = str(number)
        for slot in slots:
            column = slot.column
            cell = (cells[slot.index] if slot.index < size else None) or _EMPTY
            raw = cell.value
            if raw is None or (type(raw) is str and not raw.strip()):
                values.append(None)
                if cell.data_type == "f":
                    problems.append(
                        problem(
                            "error",
                            f"{column.name}: formula with no cached value: open and save "
                            "the workbook in Excel",
                            tab,
                            slot.letter + row_number + slot.after,
                        )
                    )
                elif column.needed:
                    problems.append(
                        problem(
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
                values.append(None)
                problems.append(
                    problem(
                        "error",
                        f"{column.name}: Excel error {as_text(raw)} in the cell; fix the formula "
                        "or enter the value",
                        tab,
                        slot.letter + row_number + slot.after,
                        value=raw,
                    )
                )
                continue
            memo = slot.memo
            if memo is None or type(raw) is not str:
                value = slot.parse(raw, cell.number_format if slot.wants_format else "")
            else:  # a coded column: its texts repeat (the parser would look it up the same)
                value = memo.get(raw, _UNSEEN)
                if value is _UNSEEN:
                    value = slot.parse(raw, cell.number_format if slot.wants_format else "")
            if isinstance(value, Invalid):
                values.append(None)
                problems.append(
                    problem(
                        "error",
                        value.message,
                        tab,
                        slot.letter + row_number + slot.after,
                        value=raw,
                        suggestion=value.suggestion,
                    )
                )
                continue
            values.append(value)
            if value is None:
                if column.needed:
                    problems.append(
                        problem(
                            "error",
                            f"{column.name} is needed on every row but is blank",
                            tab,
                            slot.letter + row_number + slot.after,
                        )
                    )
                continue
            if type(value) is str or type(value) is int or type(value) is bool:
                continue  # the common case: none of the checks below concern it
            if isinstance(value, dt.date) and value.year < 1900:
                # A date cell holding 0 or a negative number reads as 1899 or earlier.
                problems.append(
                    problem(
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
                    problems.append(
                        problem(
                            "warning",
                            f"{column.name}: {raw:g} is read as {raw:g} %; if {shown} % was "
                            f"meant, enter {shown} or format the cell as a percentage",
                            tab,
                            slot.letter + row_number + slot.after,
                            value=raw,
                        )
                    )
        if size > width:
            for index in range(width, size):
                extra = cells[index]
                if extra is not None and has_value(extra.value):
                    unheaded[index] += 1
        merged = merges.get(number)
        if merged is not None:
            # One Problem per range, reported once, carried by every row it covers.
            if merged not in result.merge_problems:
                result.merge_problems[merged] = problem(
                    "error",
                    f"merged cells {merged} inside the data: unmerge them and fill every cell",
                    tab,
                    merged,
                )
            problems.append(result.merge_problems[merged])
        result.add(number, values, problems)


def _near_name(name: str, keys: dict[str, Sheet] | dict[str, Column]) -> str | None:
    """The contract name closest to an unknown sheet or column name, if one is close."""
    best = difflib.get_close_matches(normalize(name), list(keys), n=1, cutoff=0.8)
    if not best:
        return None
    return keys[best[0]].name


def _tidy_percent(value: float) -> str:
    """A percentage as a panel would type it: 92, 92.5 (never 92.00000000000001)."""
    return f"{round(value, 6):g}"
