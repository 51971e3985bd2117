"""A folder of CSV files read as a workbook: one file per sheet, past Excel's row limit.

``Employees.csv``, ``Evidence.csv``, ... (a sheet's name or alias, any case, then
``.csv``), UTF-8 with or without a byte-order mark, comma-separated (a header line
using ``;`` or tabs instead, or Excel's ``sep=;`` first line, is followed). Every
value is text, parsed as a text cell of a workbook is; a blank field is unknown.

``scan_folder`` plays the part of ``files.scan_file``: it lists the files, hashes
them and weighs their lines against memory before any is parsed. ``read_rows``
yields each record's cells as ``sheetrows.read_rows`` yields a row's, with the line the
record starts on, so ``load`` validates both the same way. A file that is not UTF-8
or not well-formed CSV is refused with its file, line and column (``CsvError``).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from talentrules.contract import normalize, sheet_by_key
from talentrules.errors import WorkbookError
from talentrules.ingest.files import FileScan, SheetScan, check_memory
from talentrules.ingest.xlsx import RawCell

SUFFIX = ".csv"
MAX_LINE_BYTES = 8 * 1024 * 1024  # one physical line; a row of the contract is a few KB
MAX_FIELD_CHARS = 131_072  # the csv module's default; Excel holds 32,767 in a cell
_DELIMITERS = (",", ";", "\t")
_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_READ_CHUNK = 1 << 20

# What the csv module says, and what it means for the person who saved the file.
_CSV_ERRORS = (
    ("unexpected end of data", "a quoted value is never closed"),
    ("expected after", 'a closing quote is followed by more text (write "" for a quote)'),
    ("field larger than field limit", f"a value longer than {MAX_FIELD_CHARS:,} characters"),
    ("new-line character seen", "a lone carriage return (save with Windows or Unix line ends)"),
)


class CsvError(Exception):
    """A file that cannot be read as CSV; the message names its line and column."""


def scan_folder(folder: Path, given: str) -> FileScan:
    """The folder's CSV files as sheets (sorted by name), other entries as ignored tabs.

    The input's SHA-256 is that of ``sha256sum``'s lines for the ``.csv`` files in
    name order (``LC_ALL=C sha256sum *.csv | sha256sum`` gives it), so an auditor can
    check the run's input with standard tools; a file beside them does not change it.
    """
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as error:
        raise WorkbookError(f"{given}: the folder cannot be read ({error.strerror})") from error
    csvs = _csv_files(entries)
    if not csvs:
        raise WorkbookError(
            f"{given}: is a folder with no .csv file; give a workbook (.xlsx) or a folder "
            "of CSV files, one per sheet (Employees.csv, Evidence.csv, ...)"
        )
    listing = hashlib.sha256()
    size = rows = 0
    by_key = sheet_by_key()
    for path in csvs:
        try:
            digest, lines, length = _hash_and_count(path)
        except OSError as error:
            raise WorkbookError(
                f"{given}: {path.name} cannot be read ({error.strerror})"
            ) from error
        listing.update(f"{digest}  {path.name}\n".encode())
        size += length
        if normalize(path.stem) in by_key:
            rows += lines
    check_memory(given, rows)
    return FileScan(
        sha256=listing.hexdigest(),
        size=size,
        sheets=[SheetScan(tab=p.name, member=str(p)) for p in csvs],
        other_tabs=[p.name + ("/" if p.is_dir() else "") for p in entries if p not in csvs],
    )


def folder_sha256(folder: Path) -> str:
    """The input SHA-256 ``scan_folder`` gives ``folder`` (audit compares it with the run's)."""
    listing = hashlib.sha256()
    for path in _csv_files(sorted(folder.iterdir(), key=lambda p: p.name)):
        listing.update(f"{_hash_and_count(path)[0]}  {path.name}\n".encode())
    return listing.hexdigest()


def _csv_files(entries: list[Path]) -> list[Path]:
    return [p for p in entries if p.suffix.casefold() == SUFFIX and p.is_file()]


def _hash_and_count(path: Path) -> tuple[str, int, int]:
    """SHA-256, line count and size of a file, in one pass at C speed."""
    digest = hashlib.sha256()
    lines = size = 0
    with path.open("rb") as fh:
        while data := fh.read(_READ_CHUNK):
            digest.update(data)
            lines += data.count(b"\n")
            size += len(data)
    return digest.hexdigest(), lines + 1, size


class _Lines:
    """A file's lines decoded from UTF-8 for the csv reader, counting them and keeping
    the current record's text to place an error."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.number = 0  # lines read so far
        self.record: list[str] = []  # the lines of the record being read
        self.first = self._decode(fh.readline())
        self.delimiter, self.skip_first = _delimiter(self.first)

    def _decode(self, raw: bytes) -> str:
        self.number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise CsvError(
                f"line {self.number} is {len(raw):,} bytes long, over the limit of "
                f"{MAX_LINE_BYTES:,}"
            )
        if self.number == 1:
            if raw.startswith(_UTF16_BOMS):
                raise CsvError(
                    "is UTF-16 text (Excel's 'Unicode Text'); save it as "
                    "'CSV UTF-8 (Comma delimited)'"
                )
            raw = raw.removeprefix(_BOM)
        if b"\x00" in raw:  # csv reads it as text since Python 3.11; no text file holds one
            raise CsvError(f"line {self.number} holds a NUL byte: this is not a text file")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CsvError(
                f"line {self.number} is not UTF-8 text (byte 0x{raw[error.start]:02X} at byte "
                f"{error.start + 1} of the line); save it as 'CSV UTF-8 (Comma delimited)'"
            ) from error

    def __iter__(self) -> Iterator[str]:
        if self.first and not self.skip_first:
            self.record.append(self.first)
            yield self.first
        for raw in self.fh:
            text = self._decode(raw)
            if len(self.record) < 1000:  # enough to place an error, never the whole file
                self.record.append(text)
            yield text


def read_rows(sheet: SheetScan, max_col: int) -> Iterator[tuple[int, list[RawCell | None]]]:
    """(line the record starts on, cells by column) for every record, blank lines too.

    Fields right of ``max_col`` are dropped and counted in ``sheet.far_cells``.
    Raises ``CsvError`` naming the line and column.
    """
    with open(sheet.member, "rb") as fh:
        lines = _Lines(fh)
        reader = csv.reader(lines, delimiter=lines.delimiter, strict=True)
        consumed = 1 if lines.skip_first else 0  # lines before the next record
        header: list[str] = []
        while True:
            start, lines.record = consumed + 1, []
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                field = _field_at_fault("".join(lines.record), lines.delimiter)
                where = header[field].strip() if field < len(header) else f"column {field + 1}"
                raise CsvError(f"line {start}, {where}: {_explain(error)}") from error
            consumed = lines.number
            if not header and any(v.strip() for v in record):
                header = record
            if len(record) > max_col:
                sheet.far_cells += sum(1 for v in record[max_col:] if v.strip())
                del record[max_col:]
            yield start, [RawCell(v, "s", "General") if v else None for v in record]


def _delimiter(first: str) -> tuple[str, bool]:
    """The separator, and whether the first line was Excel's 'sep=X' hint (skipped)."""
    line = first.rstrip("\r\n")
    if line.startswith("sep=") and len(line) == 5:
        return line[4], True
    counts = {d: line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])  # ties keep the comma (first)
    return (best if counts[best] else ","), False


def _field_at_fault(text: str, delimiter: str) -> int:
    """Which field (0-based) of a record's text breaks the CSV rules, as csv reads it."""
    field, i, quoted, at_start = 0, 0, False, True
    while i < len(text):
        char = text[i]
        if quoted:
            if char == '"':
                if text[i + 1 : i + 2] == '"':
                    i += 2
                    continue
                quoted = False
                if text[i + 1 : i + 2] not in ("", delimiter, "\r", "\n"):
                    return field
        elif char == '"' and at_start:
            quoted = True
        elif char == delimiter:
            field += 1
            at_start = True
            i += 1
            continue
        at_start = False
        i += 1
    return field


def _explain(error: csv.Error) -> str:
    said = str(error)
    for marker, meaning in _CSV_ERRORS:
        if marker in said:
            return meaning
    return said
