"""Where the reader's rows come from: an .xlsx (sheets, cells named Evidence!F14) or a
folder of CSV files (files, records named Evidence.csv:14:signal). Each source reads
its rows and names its places; the reader (load.py) validates them alike."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Generator
from xml.etree.ElementTree import ParseError

from openpyxl.utils.cell import get_column_letter
from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900

from talentrules.contract import Sheet, normalize
from talentrules.errors import WorkbookError
from talentrules.ingest.csvdir import SUFFIX as CSV_SUFFIX
from talentrules.ingest.csvdir import CsvError
from talentrules.ingest.csvdir import read_rows as read_csv_rows
from talentrules.ingest.files import MAX_COLUMNS, MAX_TEXT_EXPANSION, FileScan, SheetScan, why
from talentrules.ingest.sheetrows import read_rows
from talentrules.ingest.xlsx import (
    Book,
    DamagedCell,
    RawCell,
    ReadLimitError,
    RowOrderError,
    TextBudget,
)

# What a damaged part raises while it is streamed; caught only around the reading.
READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,  # zipfile: a version or compression method it does not know
    KeyError,
    IndexError,
    ValueError,
    ParseError,
)


class WorkbookSource:
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

    def rows(
        self, scan: SheetScan, stop: int | None = None, start: tuple[int, int] | None = None
    ) -> Generator[tuple[int, int, list[RawCell | None]], None, None]:
        """(position, row number, cells); a position missing from the sequence is a blank row.
        ``stop`` and ``start``: as ``sheetrows.read_rows``'s (at ``stop``, position 0).

        Only the reading is guarded: value checks return Invalid instead of raising, so
        a bug elsewhere keeps its traceback rather than passing for a damaged file.
        """
        iterator = read_rows(
            self.archive, scan.member, self.book, MAX_COLUMNS, self.budget, stop, start
        )
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
            except READ_ERRORS as error:
                after = f" after row {last}" if last else ""
                raise WorkbookError(
                    f"{self.given}: sheet {tab!r} is damaged{after} and cannot be read "
                    f"({why(error)})"
                ) from error
            except ReadLimitError as error:
                raise WorkbookError(f"{self.given}: sheet {tab!r}: {error}") from error
            except RowOrderError as error:
                raise WorkbookError(
                    f"{self.given}: sheet {tab!r}: {error}; open the file in Excel and save "
                    "it again"
                ) from error
            if number:
                last = number
            yield number, number, cells


class FolderSource:
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

    def rows(
        self, scan: SheetScan, stop: int | None = None, start: tuple[int, int] | None = None
    ) -> Generator[tuple[int, int, list[RawCell | None]], None, None]:
        """(record's position, line it starts on, cells): blank lines come as records,
        and a record may span lines (a quoted value with line breaks). A file is read
        whole by one process: ``stop`` and ``start`` are never given."""
        try:
            for position, (line, cells) in enumerate(read_csv_rows(scan, MAX_COLUMNS), 1):
                yield position, line, cells
        except CsvError as error:
            raise WorkbookError(f"{self.given}: {scan.tab}: {error}") from error
        except OSError as error:  # removed or locked since the scan
            raise WorkbookError(
                f"{self.given}: {scan.tab} cannot be read ({error.strerror})"
            ) from error


Source = WorkbookSource | FolderSource
