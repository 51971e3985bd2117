"""Is this file a workbook we can read safely? Checked on the raw bytes, before openpyxl.

A panel's workbook comes from outside, so everything openpyxl would trip over
(wrong file type, damaged zip, encryption) gets one clear sentence here, and every
size is checked against a documented limit before anything is parsed.

The limits bound what a bomb exploits, not how big an honest review may be:
- unpacking: each part's declared size against its stored size (a ratio), and the
  total against a bound on reading time; Python's zipfile stops reading a member at
  its declared size and then fails the CRC check, so declared sizes really bound
  what is read;
- amplification: no DOCTYPE (so no entities), no run of text or tag longer than
  any cell can hold, no more shared strings than cells to show them;
- memory: the rows actually present (counted on the raw XML, the declared
  ``<dimension>`` is never trusted) times what a row costs once read, against the
  memory this machine has (``read_memory_limit``).
While reading, ``xlsx.exact_rows`` enforces the rest (the scanner of
``sheetrows.py`` hands it any sheet that comes near a limit): a row holds at most
Excel's 16,384 cells, row numbers stay inside Excel's grid and increase, and repeated shared
strings may not show more than ``MAX_TEXT_EXPANSION`` times the text the file holds.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from talentrules.contract import normalize, sheet_by_key
from talentrules.errors import WorkbookError

# Documented limits (also in `talentrules validate --help` and docs/scale.md). A
# 100,000-person workbook with 8 observations each (benchmarks/make_workbook.py) is
# 69 MB on disk and unpacks to 800 MB, about 10 times its size.
MAX_FILE_BYTES = 512 * 1024 * 1024  # the .xlsx itself: over 5 times a full Evidence sheet
MAX_UNCOMPRESSED_BYTES = 4 * 1024**3  # all zip members, as declared: bounds reading time
MAX_COMPRESSION_RATIO = 200  # one member's declared size / stored size; sheets are ~10
MAX_TEXT_RUN = 1024 * 1024  # bytes between two tags; a cell holds at most 32,767 characters
MAX_TEXT_EXPANSION = 10  # text the cells show / bytes of sheet and string XML
MAX_COLUMNS = 702  # column ZZ: cells further right are ignored, with a warning
EXCEL_ROWS = 1_048_576  # Excel's grid: a row number beyond it was never written by Excel
EXCEL_COLUMNS = 16_384
# What one row costs once read (a typed Cell and its reference per contract column,
# measured at about 2.4 KB for an Evidence row), and one shared string beyond its text.
MEMORY_PER_ROW = 3_000
MEMORY_PER_STRING = 80

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK"
_READ_CHUNK = 1 << 20
_ZIP_ENCRYPTED = 0x1  # general purpose flag bit 0

# Element names may carry a namespace prefix (<x:c ...>) in some writers' output.
_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_SST_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?sst[\s>]")
_STRINGS_SLACK = 1024  # strings a writer may keep although no cell uses them any more
_ROW_MARK = re.compile(rb'<row r="([0-9]{1,7})"')
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?\bref=\"([A-Z0-9:]+)\"")

# Transitional namespaces (what Excel writes by default), then Strict Open XML.
_NS_MAIN = (
    "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}",
    "{http://purl.oclc.org/ooxml/spreadsheetml/main}",
)
_NS_REL = (
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}",
)
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class RowMark(NamedTuple):
    """A row's start in a sheet's unpacked XML, one a megabyte: where a helper process
    may take over the sheet's remaining rows (``ingest.helper``)."""

    offset: int  # where ``<row r="...`` begins
    number: int  # its r
    cells: int  # cell and row elements before the megabyte it is in
    rows: int


@dataclass
class SheetScan:
    """What the raw XML of one worksheet says, learned without building any cells."""

    tab: str  # tab name as in the workbook
    member: str  # zip member holding the sheet XML
    state: str = "visible"  # visible, hidden or veryHidden
    cells: int = 0
    rows: int = 0  # row elements present, whatever <dimension> declares
    far_cells: int = 0  # cells beyond MAX_COLUMNS
    merged: list[str] = field(default_factory=list)  # A1:B2 ranges
    dimension: str | None = None
    marks: list[RowMark] = field(default_factory=list)


@dataclass
class FileScan:
    """The file's identity and its sheets, as far as the raw bytes tell."""

    sha256: str
    size: int
    sheets: list[SheetScan]  # worksheets in tab order (chart sheets left out)
    other_tabs: list[str]  # chart sheets and other tabs that hold no cells
    strings: str | None = None  # zip member of the shared strings, if any
    styles: str | None = None  # zip member of the styles, if any
    string_count: int = 0  # <si> elements in the shared strings
    xml_bytes: int = 0  # unpacked size of the sheets and shared strings


def _refuse(given: str, reason: str) -> WorkbookError:
    return WorkbookError(f"{given}: {reason}")


def why(error: BaseException) -> str:
    """A third-party exception's message as one short line, for a one-sentence error."""
    lines = str(error).strip().splitlines()
    text = lines[0].strip() if lines else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def unreadable(error: OSError) -> str:
    """Why the operating system would not let a file be read, in words."""
    if isinstance(error, PermissionError):
        return "permission denied: ask its owner for read access, or copy it somewhere readable"
    return error.strerror or why(error)


def special_kind(mode: int) -> str:
    """What a file that is not a regular file is, for a message."""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def scan_file(path: Path, given: str) -> FileScan:
    """Refuse anything that is not a safe, readable .xlsx; else describe its sheets."""
    try:
        info = path.stat()
    except FileNotFoundError as error:
        raise _refuse(given, "no such file") from error
    except OSError as error:
        raise _refuse(given, f"cannot be read ({unreadable(error)})") from error
    if stat.S_ISDIR(info.st_mode):
        raise _refuse(given, "is a folder, not an Excel workbook (.xlsx)")
    if not stat.S_ISREG(info.st_mode):
        # A FIFO would block the read and /dev/zero never ends: neither is "empty".
        raise _refuse(
            given, f"is not a regular file ({special_kind(info.st_mode)}), not an Excel workbook"
        )
    size = info.st_size
    if size == 0:
        raise _refuse(given, "the file is empty (0 bytes), not an Excel workbook (.xlsx)")
    if size > MAX_FILE_BYTES:
        raise _refuse(
            given, f"the file is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes"
        )
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            head = fh.read(_READ_CHUNK)
            data = head
            while data:
                digest.update(data)
                data = fh.read(_READ_CHUNK)
    except OSError as error:
        raise _refuse(given, f"cannot be read ({unreadable(error)})") from error
    _check_magic(head, path, given)
    try:
        with zipfile.ZipFile(path) as archive:
            scan = _scan_archive(archive, given)
    # NotImplementedError: zipfile's word for a version or compression method it does
    # not know, which is what damaged header bytes read as; UnicodeDecodeError: a
    # member's name flagged UTF-8 whose bytes are not.
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        UnicodeDecodeError,
    ) as error:
        raise _refuse(given, _damaged(why(error))) from error
    scan.sha256, scan.size = digest.hexdigest(), size
    return scan


def _damaged(reason: str) -> str:
    return f"the file is damaged or truncated (not a readable .xlsx zip: {reason})"


def _check_magic(head: bytes, path: Path, given: str) -> None:
    if head.startswith(OLE2_MAGIC):
        # Encrypted .xlsx files are OLE2 containers too; their directory names the
        # EncryptionInfo stream (UTF-16 in the directory entries).
        with path.open("rb") as fh:
            whole = fh.read()
        if "EncryptionInfo".encode("utf-16-le") in whole or b"EncryptionInfo" in whole:
            raise _refuse(
                given,
                "the workbook is password-protected (encrypted); remove the password in "
                "Excel (File > Info > Protect Workbook) and save it again",
            )
        raise _refuse(
            given, "this is an old binary Excel file (.xls); open it in Excel and save as .xlsx"
        )
    if head.startswith(ZIP_MAGIC):
        return
    sample = head[:4096]
    if b"\x00" not in sample:
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            kind = "a CSV" if b"," in sample or b";" in sample or b"\t" in sample else "a text"
            raise _refuse(
                given,
                f"this is {kind} file, not an Excel workbook; open it in Excel and save as .xlsx",
            )
    raise _refuse(given, "this is not an Excel workbook (.xlsx)")


def _scan_archive(archive: zipfile.ZipFile, given: str) -> FileScan:
    infos = archive.infolist()
    for info in infos:
        # An .xlsx is never encrypted member by member (a password-protected workbook is
        # an OLE2 file, above); the flag set is a damaged byte, and zipfile would raise
        # RuntimeError, asking for a password, when the member is read.
        if info.flag_bits & _ZIP_ENCRYPTED:
            raise _refuse(given, _damaged(f"{info.filename} is marked encrypted"))
        # A damaged directory offset puts a member before the file's start, and zipfile
        # would raise OSError (EINVAL) seeking there.
        if info.header_offset < 0:
            raise _refuse(given, _damaged(f"{info.filename} starts before the file"))
    names = {info.filename for info in infos}
    if "xl/workbook.bin" in names:
        raise _refuse(given, "this is a binary Excel workbook (.xlsb); save it as .xlsx")
    if "mimetype" in names and b"opendocument" in archive.read("mimetype")[:200]:
        raise _refuse(given, "this is an OpenDocument spreadsheet (.ods); save it as .xlsx")
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise _refuse(given, "this is a zip file but not an Excel workbook (.xlsx)")
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _refuse(
            given,
            f"the workbook unpacks to {total:,} bytes, over the limit of "
            f"{MAX_UNCOMPRESSED_BYTES:,} bytes",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _READ_CHUNK and ratio > MAX_COMPRESSION_RATIO:
            raise _refuse(
                given,
                f"{info.filename} would unpack {ratio:,.0f} times its stored size, over the "
                f"limit of {MAX_COMPRESSION_RATIO:,} (a zip bomb?)",
            )
    scan = _sheet_members(archive, names, given)
    if scan.styles:
        for chunk in _chunks(archive, scan.styles, given):
            _refuse_doctype(chunk, scan.styles, given)
    for sheet in scan.sheets:
        _scan_sheet(archive, sheet, given)
        scan.xml_bytes += archive.getinfo(sheet.member).file_size
    if scan.strings:
        _scan_strings(archive, scan, given)
    # Only the contract's sheets are read into rows; other tabs were scanned, no more.
    by_key = sheet_by_key()
    check_memory(
        given,
        sum(sheet.rows for sheet in scan.sheets if normalize(sheet.tab) in by_key),
        scan.string_count,
        archive.getinfo(scan.strings).file_size if scan.strings else 0,
    )
    return scan


def _scan_strings(archive: zipfile.ZipFile, scan: FileScan, given: str) -> None:
    """Count the shared strings: more of them than cells is not a table, it is a bomb."""
    member = str(scan.strings)
    prefix = b""
    for index, chunk in enumerate(_chunks(archive, member, given)):
        if index == 0:
            root = _SST_PREFIX.search(chunk)
            prefix = (root.group(1) or b"") if root else b""
        _refuse_doctype(chunk, member, given)
        opening = b"<" + prefix + b"si"
        scan.string_count += _elements(chunk, opening)
    scan.xml_bytes += archive.getinfo(member).file_size
    cells = sum(sheet.cells for sheet in scan.sheets)
    if scan.string_count > cells + _STRINGS_SLACK:
        raise _refuse(
            given,
            f"{member} holds {scan.string_count:,} shared strings for {cells:,} cells; a "
            "workbook never needs more strings than cells (a zip bomb?)",
        )


def read_memory_limit() -> int:
    """How much memory reading may take: half of this machine's, so evaluating fits too."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return 8 * 1024**3


def check_memory(given: str, rows: int, strings: int = 0, string_bytes: int = 0) -> None:
    """Refuse, before reading, an input whose rows would not fit in memory once read.

    The rows are those actually present, so a sheet that declares a huge range but
    holds little costs little, and a small file holding millions of near-empty rows
    (each one a typed row once read) is refused in a second rather than after minutes.
    """
    needed = rows * MEMORY_PER_ROW + strings * MEMORY_PER_STRING + 2 * string_bytes
    limit = read_memory_limit()
    if needed > limit:
        raise _refuse(
            given,
            f"reading its {rows:,} rows would take about {needed / 1e9:,.1f} GB of memory, "
            f"over the limit of {limit / 1e9:,.1f} GB (half of this machine's); split the "
            "review by org unit (see docs/scale.md)",
        )


def _refuse_doctype(chunk: bytes, member: str, given: str) -> None:
    # Entities can only be declared in a DOCTYPE; without one no XML bomb is possible,
    # which is what lets the fast C parser read the parts (see xlsx.py).
    if b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk:
        raise _refuse(
            given,
            f"{member} declares a DOCTYPE or entities, which a workbook never needs; "
            "refused for safety (open and save it in Excel)",
        )


def _xml(archive: zipfile.ZipFile, member: str, given: str) -> object:
    try:
        return fromstring(archive.read(member))
    except (ParseError, DefusedXmlException) as error:
        raise _refuse(given, f"{member} is not readable XML ({why(error)})") from error


def _sheet_members(archive: zipfile.ZipFile, names: set[str], given: str) -> FileScan:
    """Tab names, states and XML members, from xl/workbook.xml and its relationships."""
    book = _xml(archive, "xl/workbook.xml", given)
    targets: dict[str, tuple[str, str]] = {}
    if "xl/_rels/workbook.xml.rels" in names:
        rels = _xml(archive, "xl/_rels/workbook.xml.rels", given)
        for rel in rels.iter(f"{_NS_PKG}Relationship"):  # type: ignore[attr-defined]
            target = rel.get("Target", "")
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[rel.get("Id", "")] = (posixpath.normpath(member), rel.get("Type", ""))
    sheets: list[SheetScan] = []
    others: list[str] = []
    parts = {kind.rpartition("/")[2]: member for member, kind in targets.values()}
    nodes = [n for ns in _NS_MAIN for n in book.iter(f"{ns}sheet")]  # type: ignore[attr-defined]
    for node in nodes:
        tab = node.get("name", "")
        rid = next((node.get(f"{ns}id") for ns in _NS_REL if node.get(f"{ns}id")), "")
        member, kind = targets.get(rid, ("", ""))
        if member in names and kind.endswith("/worksheet"):
            sheets.append(SheetScan(tab=tab, member=member, state=node.get("state", "visible")))
        else:
            others.append(tab)
    strings, styles = parts.get("sharedStrings"), parts.get("styles")
    return FileScan(
        "",
        0,
        sheets,
        others,
        strings if strings in names else None,
        styles if styles in names else None,
    )


def _chunks(archive: zipfile.ZipFile, member: str, given: str) -> Iterator[bytes]:
    """The member's bytes in pieces cut just before a '<', so no tag spans two pieces.

    A run without '<' longer than MAX_TEXT_RUN is refused: no cell's text or tag is
    that long, and carrying it on would make the scan quadratic and the parser hold it.
    """
    carry = b""
    with archive.open(member) as fh:
        while True:
            data = fh.read(_READ_CHUNK)
            if not data:
                break
            data = carry + data
            cut = data.rfind(b"<")
            if cut <= 0:
                carry = data
                if len(carry) > MAX_TEXT_RUN:
                    raise _refuse(
                        given,
                        f"{member} holds a run of over {MAX_TEXT_RUN:,} bytes without a tag, "
                        "longer than any cell can hold (Excel: 32,767 characters)",
                    )
                continue
            carry = data[cut:]
            yield data[:cut]
    if carry:
        yield carry


def _elements(chunk: bytes, opening: bytes) -> int:
    """How many elements ``opening`` starts: "<c " or "<c>" or "<c/>" (not "<col").
    Where every ``opening`` is followed by a space, as a writer writes them, the one
    count says so (two passes over the chunk instead of three)."""
    spaced = chunk.count(opening + b" ")
    if chunk.count(opening) == spaced:
        return spaced
    return spaced + chunk.count(opening + b">") + chunk.count(opening + b"/")


def _scan_sheet(archive: zipfile.ZipFile, sheet: SheetScan, given: str) -> None:
    """Count cells and find merged ranges on the raw XML, no parsing.

    Literal byte counts and literal-prefixed regexes run at C speed (a tenth of a
    second for a 10,000-person workbook); elements may carry a namespace prefix
    (``<x:c>``), learned from the root element.
    """
    prefix = b""
    first = True
    offset = 0  # where the chunk begins in the unpacked XML
    for chunk in _chunks(archive, sheet.member, given):
        if not first and not prefix and (mark := _ROW_MARK.search(chunk)):
            sheet.marks.append(
                RowMark(offset + mark.start(), int(mark.group(1)), sheet.cells, sheet.rows)
            )
        offset += len(chunk)
        if first:
            root = _PREFIX.search(chunk)
            prefix = (root.group(1) or b"") if root else b""
            far = re.compile(b"<" + re.escape(prefix) + rb'c r="[A-Z]{3}')
            merge = re.compile(
                b"<" + re.escape(prefix) + rb'mergeCell ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"'
            )
            found = _DIMENSION.search(chunk)
            sheet.dimension = found.group(1).decode() if found else None
            first = False
        _refuse_doctype(chunk, sheet.member, given)
        # A cell is "<c " or "<c>" or "<c/>"; "<col" and "<cfRule" are not; a row is
        # "<row " or "<row>" or "<row/>", and "<rowBreaks" is not.
        opening = b"<" + prefix + b"c"
        row = b"<" + prefix + b"row"
        sheet.cells += _elements(chunk, opening)
        sheet.rows += _elements(chunk, row)
        sheet.far_cells += len(far.findall(chunk))
        sheet.merged.extend(m.decode() for m in merge.findall(chunk))
