"""A small streaming writer of SpreadsheetML (.xlsx) for the results workbook.

openpyxl's write-only mode makes a Cell object, a style lookup and an element tree
a cell, and a Hyperlink and a Relationship object a link, all kept until the file
is saved: 6 CPU s at 10,000 people, and the largest temporary memory of a 100,000
person run. This writer writes each row's XML as text straight into the zip entry
of its sheet, and each link's relationship into a temporary file beside it. It
writes what openpyxl wrote for the same calls (the same XML for every cell, the
same sheets, column widths, frozen header, filter, print set-up and hyperlinks),
with a fixed table of five cell styles; tests/test_sheetml.py compares the two
cell by cell as openpyxl reads them back. One difference, meant: a text equal to an
error code (``#N/A``) stays text, where openpyxl wrote an error cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tempfile
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from openpyxl.utils import get_column_letter
from openpyxl.writer.theme import theme_xml

# Text that a spreadsheet would read as a formula (or run as one, after an edit).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold (openpyxl refuses them): shown as U+FFFD.
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_TEXT = 32767  # Excel's longest cell text; openpyxl cut longer text there too

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HYPERLINK = f"{DOC_RELS}/hyperlink"

# Cell styles (cellXfs), by index: 0 none, 1 header, 2 wrapped text, 3 link, 4 wrapped
# text shown as text (quotePrefix: a value that starts like a formula).
HEADER, WRAP, LINK, AS_TEXT = 1, 2, 3, 4

_ROWS_AT_ONCE = 64  # rows gathered before they go to the sheet's zip entry


class Link:
    """A cell that links to a file beside the workbook (a brief), shown as its text."""

    def __init__(self, text: str, target: str) -> None:
        self.text, self.target = text, target


def _text(value: str) -> str:
    """XML character data, escaped as ElementTree escapes it."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    return value


def _attribute(value: str) -> str:
    """An attribute's value, escaped as ElementTree escapes it."""
    value = _text(value).replace('"', "&quot;")
    return value.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _string_cell(ref: str, style: int | None, value: str) -> str:
    """An inline string cell, as openpyxl writes it (space kept around text)."""
    styled = f' s="{style}"' if style is not None else ""
    if not value:
        return f'<c r="{ref}"{styled} t="inlineStr" />'
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and stripped != value else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>'


# _string_cell's cell of a WRAP text without space at either end, as a format.
_WRAPPED_CELL = f'<c r="%s" s="{WRAP}" t="inlineStr"><is><t>%s</t></is></c>'


def _number(value: float | int) -> str:
    """A number as openpyxl wrote it (16 significant digits; NaN and infinity empty)."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return ""
    return format(value, ".16g")


def _plain(value: dt.date | list[object] | tuple[object, ...]) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str([v.isoformat() if isinstance(v, dt.date) else v for v in value])


class XlsxSheet:
    """One sheet, written row by row: bold header, frozen, filtered, sized, printed
    landscape on A4 fitted to the page width with the header repeated; text never a
    formula. Made by ``XlsxBook.sheet``; ``close`` before the next sheet."""

    def __init__(
        self, book: XlsxBook, number: int, title: str, columns: Sequence[tuple[str, int]]
    ) -> None:
        self.book, self.number, self.title = book, number, title
        self.rows = 0
        self.columns = len(columns)
        self.letters = [get_column_letter(n) for n in range(1, len(columns) + 1)]
        self.last = get_column_letter(len(columns))
        self.links = 0
        self._pending: list[str] = []  # rows not yet written (_flush)
        # Each link's <hyperlink> and relationship wait here until the rows are written.
        self._links: IO[str] | None = None
        self._rels: IO[str] | None = None
        self.handle = book.zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True)
        cols = "".join(
            f'<col width="{width}" customWidth="1" min="{n}" max="{n}" />'
            for n, (_, width) in enumerate(columns, start=1)
        )
        self._write(
            f'<worksheet xmlns="{MAIN}"><sheetPr><outlinePr summaryBelow="1" '
            'summaryRight="1" /><pageSetUpPr fitToPage="1" /></sheetPr><sheetViews>'
            '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen" /><selection pane="bottomLeft" '
            'activeCell="A1" sqref="A1" /></sheetView></sheetViews><sheetFormatPr '
            f'baseColWidth="8" defaultRowHeight="15" /><cols>{cols}</cols><sheetData>'
        )
        self._row([_string_cell(f"{self.letters[n]}1", HEADER, name) for n, (name, _) in
                   enumerate(columns)])  # fmt: skip

    def _write(self, text: str) -> None:
        self._flush()
        self.handle.write(text.encode("utf-8"))

    def _flush(self) -> None:
        # Rows are written to the zip entry _ROWS_AT_ONCE at a time: each write there
        # is a CRC, a compression call and a file write (deflate's output is the same
        # however its input is cut, so the file is too).
        if self._pending:
            self.handle.write("".join(self._pending).encode("utf-8"))
            self._pending.clear()

    def _row(self, cells: list[str]) -> None:
        number = self.rows + 1
        self._pending.append(f'<row r="{number}">{"".join(cells)}</row>')
        if len(self._pending) >= _ROWS_AT_ONCE:
            self._flush()

    def add(self, values: Sequence[object]) -> None:
        number = str(self.rows + 2)
        letters, columns = self.letters, self.columns
        cells: list[str] = []
        for column, value in enumerate(values):
            if value is None:
                continue
            ref = (letters[column] if column < columns else get_column_letter(column + 1)) + number
            if type(value) is str:  # most cells: no test of the other types
                # A printable text holds none of ILLEGAL's characters (a C test, not the
                # expression's scan), and no space but ' ': _string_cell's cell, written
                # here when it starts and ends with neither ' ' nor a formula's start.
                if (
                    value.isprintable()
                    and value
                    and len(value) <= MAX_TEXT
                    and value[0] != " "
                    and value[-1] != " "
                    and not value.startswith(FORMULA_START)
                ):
                    cells.append(_WRAPPED_CELL % (ref, _text(value)))
                    continue
                text = ILLEGAL.sub("\ufffd", value)[:MAX_TEXT]
                style = AS_TEXT if text.startswith(FORMULA_START) else WRAP
                cells.append(_string_cell(ref, style, text))
            elif isinstance(value, str):
                text = ILLEGAL.sub("\ufffd", value)[:MAX_TEXT]
                style = AS_TEXT if text.startswith(FORMULA_START) else WRAP
                cells.append(_string_cell(ref, style, text))
            elif isinstance(value, bool):
                cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{ref}" t="n"><v>{_number(value)}</v></c>')
            elif isinstance(value, Link):
                text = value.text
                text = (text if text.isprintable() else ILLEGAL.sub("\ufffd", text))[:MAX_TEXT]
                cells.append(_string_cell(ref, LINK, text))
                self._link(ref, value.target)
            elif isinstance(value, dt.date | list | tuple):
                # Unstyled, as before: a date or a list shown as its text.
                cells.append(_string_cell(ref, None, ILLEGAL.sub("\ufffd", _plain(value))))
            else:
                cells.append(_string_cell(ref, WRAP, ILLEGAL.sub("\ufffd", str(value))))
        self.rows += 1
        self._row(cells)

    def _link(self, ref: str, target: str) -> None:
        if self._links is None or self._rels is None:
            self._links = tempfile.TemporaryFile("w+", encoding="utf-8")
            self._rels = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.links += 1
        link_id = f"rId{self.links}"
        self._links.write(f'<hyperlink xmlns:r="{DOC_RELS}" ref="{ref}" r:id="{link_id}" />')
        self._rels.write(
            f'<Relationship Type="{HYPERLINK}" Target="{_attribute(target)}" '
            f'TargetMode="External" Id="{link_id}" />'
        )

    def close(self) -> None:
        self._write(f'</sheetData><autoFilter ref="A1:{self.last}{self.rows + 1}" />')
        if self._links is not None:
            self._write("<hyperlinks>")
            self._copy(self._links, self.handle)
            self._write("</hyperlinks>")
        self._write(
            '<printOptions gridLines="1" /><pageMargins left="0.75" right="0.75" top="1" '
            'bottom="1" header="0.5" footer="0.5" /><pageSetup orientation="landscape" '
            'paperSize="9" fitToHeight="0" fitToWidth="1" /></worksheet>'
        )
        self.handle.close()
        if self._rels is not None:
            name = f"xl/worksheets/_rels/sheet{self.number}.xml.rels"
            with self.book.zip.open(name, "w", force_zip64=True) as rels:
                rels.write(f'<Relationships xmlns="{RELS}">'.encode())
                self._copy(self._rels, rels)
                rels.write(b"</Relationships>")
        for spool in (self._links, self._rels):
            if spool is not None:
                spool.close()
        self.book.closed(self)

    @staticmethod
    def _copy(spool: IO[str], into: IO[bytes]) -> None:
        spool.seek(0)
        while chunk := spool.read(1 << 20):
            into.write(chunk.encode("utf-8"))


class XlsxBook:
    """A workbook written as its sheets are filled: ``sheet`` opens the next one (the
    one before it closed), ``save`` writes the workbook's own parts and closes the
    file."""

    def __init__(self, path: Path) -> None:
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self.sheets: list[tuple[str, int, int]] = []  # title, rows, columns
        self.open: XlsxSheet | None = None

    def sheet(self, title: str, columns: Sequence[tuple[str, int]]) -> XlsxSheet:
        if self.open is not None:
            raise RuntimeError(f"sheet {self.open.title!r} is still open")
        self.open = XlsxSheet(self, len(self.sheets) + 1, title, columns)
        return self.open

    def closed(self, sheet: XlsxSheet) -> None:
        self.sheets.append((sheet.title, sheet.rows, sheet.columns))
        self.open = None

    def abandon(self) -> None:
        """Close the file after a failure, as it is (the caller discards it)."""
        if self.open is not None:
            self.open.handle.close()
            for spool in (self.open._links, self.open._rels):
                if spool is not None:
                    spool.close()
            self.open = None
        self.zip.close()

    def save(self) -> None:
        if self.open is not None:
            raise RuntimeError(f"sheet {self.open.title!r} is still open")
        with self.zip:
            self._parts()

    def _parts(self) -> None:
        count = len(self.sheets)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
        part = "application/vnd.openxmlformats"
        overrides = "".join(
            f'<Override PartName="{name}" ContentType="{kind}" />'
            for name, kind in (
                ("/xl/styles.xml", f"{part}-officedocument.spreadsheetml.styles+xml"),
                ("/xl/theme/theme1.xml", f"{part}-officedocument.theme+xml"),
                ("/docProps/core.xml", f"{part}-package.core-properties+xml"),
                ("/docProps/app.xml", f"{part}-officedocument.extended-properties+xml"),
                *((f"/xl/worksheets/sheet{n}.xml", sheet_type) for n in range(1, count + 1)),
                ("/xl/workbook.xml", f"{part}-officedocument.spreadsheetml.sheet.main+xml"),
            )
        )
        write = self.zip.writestr
        write(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="{part}-package.relationships+xml" />'
            f'<Default Extension="xml" ContentType="application/xml" />{overrides}</Types>',
        )
        write(
            "_rels/.rels",
            f'<Relationships xmlns="{RELS}"><Relationship Type="{DOC_RELS}/officeDocument" '
            'Target="xl/workbook.xml" Id="rId1" /><Relationship Type="http://schemas.'
            'openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml" Id="rId2" /><Relationship Type="'
            f'{DOC_RELS}/extended-properties" Target="docProps/app.xml" Id="rId3" />'
            "</Relationships>",
        )
        write(
            "docProps/app.xml",
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties"><Application>talentrules</Application></Properties>',
        )
        write(
            "docProps/core.xml",
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>talentrules'
            f'</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
            "</cp:coreProperties>",
        )
        write("xl/styles.xml", STYLES)
        write("xl/theme/theme1.xml", theme_xml)
        relations = "".join(
            f'<Relationship Type="{DOC_RELS}/worksheet" Target="/xl/worksheets/sheet{n}.xml" '
            f'Id="rId{n}" />'
            for n in range(1, count + 1)
        )
        write(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{RELS}">{relations}<Relationship Type="{DOC_RELS}/'
            f'styles" Target="styles.xml" Id="rId{count + 1}" /><Relationship Type="'
            f'{DOC_RELS}/theme" Target="theme/theme1.xml" Id="rId{count + 2}" />'
            "</Relationships>",
        )
        sheets, names = [], []
        for n, (title, rows, columns) in enumerate(self.sheets):
            quoted = _attribute(title)
            sheets.append(
                f'<sheet name="{quoted}" sheetId="{n + 1}" state="visible" r:id="rId{n + 1}" />'
            )
            # Excel's formula syntax quotes a sheet's name, an apostrophe in it doubled.
            ref = _text("'" + title.replace("'", "''") + "'")
            names.append(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
                f"{ref}!$A$1:${get_column_letter(columns)}${rows + 1}</definedName>"
                f'<definedName name="_xlnm.Print_Titles" localSheetId="{n}">{ref}!$1:$1'
                "</definedName>"
            )
        write(
            "xl/workbook.xml",
            f'<workbook xmlns:r="{DOC_RELS}" xmlns="{MAIN}"><workbookPr /><workbookProtection />'
            '<bookViews><workbookView visibility="visible" minimized="0" '
            'showHorizontalScroll="1" showVerticalScroll="1" showSheetTabs="1" tabRatio="600" '
            'firstSheet="0" activeTab="0" autoFilterDateGrouping="1" /></bookViews><sheets>'
            f"{''.join(sheets)}</sheets><definedNames>{''.join(names)}</definedNames>"
            '<calcPr calcId="124519" fullCalcOnLoad="1" /></workbook>',
        )


# The five cell styles above, with their fonts and fills; as openpyxl wrote them.
_XF = (
    '<xf numFmtId="0" fontId="{}" fillId="{}" borderId="0"{} pivotButton="0" '
    'quotePrefix="{}" xfId="0"'
)
_ALIGNED = ' applyAlignment="1"'
STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts count="0" /><fonts count="3"><font><name '
    'val="Calibri" /><family val="2" /><color theme="1" /><sz val="11" /><scheme val="minor" />'
    '</font><font><b val="1" /><color rgb="00FFFFFF" /></font><font><color rgb="000563C1" />'
    '<u val="single" /></font></fonts><fills count="3"><fill><patternFill /></fill><fill>'
    '<patternFill patternType="gray125" /></fill><fill><patternFill patternType="solid">'
    '<fgColor rgb="001F4E79" /></patternFill></fill></fills><borders count="1"><border><left />'
    '<right /><top /><bottom /><diagonal /></border></borders><cellStyleXfs count="1"><xf '
    'numFmtId="0" fontId="0" fillId="0" borderId="0" /></cellStyleXfs><cellXfs count="5">'
    + _XF.format(0, 0, "", 0)
    + " />"
    + _XF.format(1, 2, _ALIGNED, 0)
    + '><alignment vertical="center" wrapText="1" /></xf>'
    + _XF.format(0, 0, _ALIGNED, 0)
    + '><alignment vertical="top" wrapText="1" /></xf>'
    + _XF.format(2, 0, "", 0)
    + " />"
    + _XF.format(0, 0, _ALIGNED, 1)
    + '><alignment vertical="top" wrapText="1" /></xf></cellXfs><cellStyles count="1">'
    '<cellStyle name="Normal" xfId="0" builtinId="0" hidden="0" /></cellStyles>'
    '<tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
    'defaultPivotStyle="PivotStyleLight16" /></styleSheet>'
)
