"""Every row of a sheet, fast: a scanner for the XML that spreadsheet writers produce,
falling back to the exact reader (``xlsx.exact_rows``) for anything else.

Why: the exact reader builds an element per cell, value and text, about 6 us a cell;
a 10,000-person workbook has 1.4 million cells. Writers (Excel, LibreOffice,
openpyxl, Google Sheets) all write a cell the same few ways
(``<c r="B2" s="1" t="s"><v>7</v></c>``, an inline string, a formula with its cached
value), so two regular expressions matching whole rows read them at C speed, and
only the values are converted in Python, with the exact reader's own conversion.

Exact or nothing: the scanner accepts only XML it can prove well-formed and read the
way the exact reader reads it (the part before <sheetData> parsed by the standard
library's parser, attributes unique and their prefixes bound, no character outside
XML's, entities limited to the five XML defines, rows tiled by cells with nothing
between them). On anything else (another attribute order, rich text, comments, a
damaged byte, a value that is not what its type says, a limit reached) it stops, and
the exact reader reads the sheet from its start, skipping the rows already given:
so every value, every damaged-XML message and every limit is the exact reader's.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, XMLPullParser

from openpyxl.utils.cell import column_index_from_string

from talentrules.ingest.files import EXCEL_ROWS, MAX_TEXT_EXPANSION
from talentrules.ingest.xlsx import (
    _SHEET_DATA,
    _SST,
    MAX_ROW_ELEMENTS,
    Book,
    RawCell,
    ReadLimitError,
    TextBudget,
    cell_value,
    exact_rows,
    exact_strings,
    number_value,
    numeric,
)

_CHUNK = 1 << 20
_MAX_PENDING = 8 << 20  # characters of one unfinished row before the exact reader takes over
_MAX_HEAD = 1 << 20  # bytes before <sheetData>
_WS = "[ \t\n]*"
_NAME = "[A-Za-z_][A-Za-z0-9_.-]*"
_ATTR = f'[ \t\n]+(?:{_NAME}:)?{_NAME}="[^"<&]*"'
# Text: characters but markup, and XML's five entities (written out to run at C speed).
_TEXT = "[^<&]*+(?:&(?:lt|gt|amp|quot|apos);[^<&]*+)*+"
# The tokens of <sheetData>: a row's start (attributes; "/" if it is empty), a row's end,
# a cell (column letters, style, type, formula, value, inline text), else one character
# the scanner does not read. Space between elements is read between rows and cells, not
# inside a cell (no writer puts it there; the exact reader reads such a sheet).
# A cell's optional parts are possessive ("?+": a fifth fewer instructions than "?",
# whose every use saves the matcher's state to come back to) and this reads the same:
# each part can match one way only, and what follows it can never begin where it
# matched (r= s= t= <f <v <is </c all start differently), so coming back never helps.
_TOKENS = re.compile(
    f"{_WS}(?:"
    f"<row((?:{_ATTR})*+){_WS}(/?)>"
    "|(</row>)"
    f'|(<c)(?: r="([A-Z]{{1,3}})[0-9]*+")?+(?: s="([0-9]++)")?+(?: t="([A-Za-z]++)")?+'
    "(?: ?/>|>"
    f"(<f(?:{_ATTR})*+ ?(?:/>|>{_TEXT}</f>))?+"  # a formula: only whether there is one
    f"(?:<v>(?!<)({_TEXT})</v>|(<v ?/>|<v></v>))?+"  # a value, or an empty one
    f'(?:<is><t(?: xml:space="preserve")?+>(?!<)({_TEXT})</t></is>)?+'
    "</c>)"
    "|([^ \t\n]))",  # (space no token takes is skipped: space between tokens is allowed)
)
# The shared strings: plain text (no rich text, no phonetic hints), else a character the
# scanner does not read.
_STRINGS = re.compile(
    f'{_WS}(?:<si><t(?: xml:space="preserve")?+>({_TEXT})</t></si>|<si><t ?/></si>|([^ \t\n]))'
)
_SST_START = re.compile(rb"<sst[ \t\n>]")
_ROW_ATTR = re.compile(f'[ \t\n]+((?:({_NAME}):)?{_NAME})="([^"]*)"')
_JUST_R = re.compile('[ ]r="([0-9]+)"')
_F_START = re.compile(f"<f((?:{_ATTR})*)")
# Bytes of characters XML forbids (and \r, which it rewrites); "]]>" and U+FFFE/FFFF too.
_FORBIDDEN = bytes([*range(0, 9), 11, 12, *range(14, 32), 13])
_FFFX = b"\xef\xbf"  # how U+FFC0 to U+FFFF start in UTF-8
_ENTITY = re.compile("&(lt|gt|amp|quot|apos);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_ENCODING = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._-]+)")
_new = tuple.__new__  # a RawCell without the keyword-handling constructor (a third the cost)


class Unusual(Exception):
    """The scanner met something it does not read; the exact reader takes over."""


# What ``read_rows`` yields where it reaches its ``stop`` cleanly: not a row (no row is
# numbered 0), a place where another process may take over the sheet's remaining rows.
AT_STOP: tuple[int, list[RawCell | None]] = (0, [])


def read_rows(
    archive: zipfile.ZipFile,
    member: str,
    book: Book,
    max_col: int,
    budget: TextBudget | None = None,
    stop: int | None = None,
    start: tuple[int, int] | None = None,
) -> Iterator[tuple[int, list[RawCell | None]]]:
    """(row number, cells by column from A) for every row element, as ``xlsx.exact_rows``
    reads them; charges the characters shared strings show to ``budget``.

    With ``stop`` (an offset in the sheet's unpacked XML, where a row starts), yields
    ``AT_STOP`` there when every row before it was scanned and none is open, then goes
    on. With ``start`` (that offset and the number of the row starting there), reads the
    rows from there on, scanned only: ``Unusual`` if that cannot be done exactly."""
    if start is not None:
        for number, cells, shown in fast_rows(archive, member, book, max_col, start=start):
            _charge(budget, shown, number)
            yield number, cells
        return
    given = 0
    try:
        for number, cells, shown in fast_rows(archive, member, book, max_col, stop=stop):
            if number == 0:
                yield AT_STOP
                continue
            _charge(budget, shown, number)
            yield number, cells
            given += 1
        return
    except Unusual:
        pass
    for index, (number, cells, shown) in enumerate(exact_rows(archive, member, book, max_col)):
        if index >= given:
            _charge(budget, shown, number)
            yield number, cells


def _charge(budget: TextBudget | None, shown: int, number: int) -> None:
    if budget is None or not shown:
        return
    budget.left -= shown
    if budget.left < 0:
        raise ReadLimitError(
            f"by row {number:,} its cells repeat shared strings into more than "
            f"{budget.allowed:,} characters, {MAX_TEXT_EXPANSION} times the text "
            "the file holds (a zip bomb?)"
        )


def _unescape(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text) if "&" in text else text


def fast_rows(
    archive: zipfile.ZipFile,
    member: str,
    book: Book,
    max_col: int,
    stop: int | None = None,
    start: tuple[int, int] | None = None,
) -> Iterator[tuple[int, list[RawCell | None], int]]:
    """``xlsx.exact_rows``'s rows, scanned; raises ``Unusual`` (possibly after some
    rows) where the exact reader must take over. Any error reading the part (a damaged
    zip member, bytes that are not UTF-8) is unusual too: the exact reader reports it.
    ``stop`` and ``start``: as ``read_rows``'s (at ``stop``, a row numbered 0)."""
    try:
        yield from _scan(archive, member, book, max_col, stop, start)
    except Unusual:
        raise
    except Exception as error:  # whatever it is, the exact reader meets it and says so
        raise Unusual(str(error)) from error


def read_strings(archive: zipfile.ZipFile, member: str) -> list[str]:
    """The shared strings as ``xlsx.exact_strings`` reads them: scanned when they are
    plain text, else read by it (from the start: whatever it finds, it reports)."""
    try:
        return _scan_strings(archive, member)
    except Exception:  # noqa: BLE001 (unusual or damaged: the exact reader says which)
        return exact_strings(archive, member)


def _scan_strings(archive: zipfile.ZipFile, member: str) -> list[str]:
    strings: list[str] = []
    with archive.open(member) as fh:
        head = fh.read(_CHUNK)
        start = _SST_START.search(head)
        if start is None:
            raise Unusual("no <sst> start")
        at = head.index(b">", start.start()) + 1
        tags = _well_formed_head(head[:at])
        if len(tags) != 1 or tags[0] not in _SST:
            raise Unusual("<sst> is not the root")
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        data, tail, pending = head[at:], b"", ""
        while True:
            if not _plain(tail + data):
                raise Unusual("characters XML forbids or rewrites")
            tail = data[-2:]
            pending += decoder.decode(data, final=not data)
            end = pending.find("</sst>")
            cut = end if end >= 0 else _after(pending, "</si>")
            for text, other in _STRINGS.findall(pending, 0, cut):
                if other:
                    raise Unusual(f"{other!r} after shared string {len(strings)}")
                strings.append(_unescape(text))
            pending = pending[cut:]
            if end >= 0:
                if pending.rstrip(" \t\n") != "</sst>" or fh.read(1):
                    raise Unusual("something after </sst>")
                return strings
            if not data:
                raise Unusual("the part ends inside <sst>")
            if len(pending) > _MAX_PENDING:
                raise Unusual("a long shared string")
            data = fh.read(_CHUNK)


def _plain(data: bytes) -> bool:
    """No character XML forbids or rewrites, no "]]>" (``data`` overlaps the chunk
    before by two bytes, so none hides across the cut)."""
    if len(data.translate(None, _FORBIDDEN)) != len(data) or b"]]>" in data:
        return False
    return _FFFX not in data or (b"\xef\xbf\xbe" not in data and b"\xef\xbf\xbf" not in data)


def _after(text: str, tag: str) -> int:
    """Where the last ``tag`` in ``text`` ends, or 0."""
    at = text.rfind(tag)
    return at + len(tag) if at >= 0 else 0


def _scan(
    archive: zipfile.ZipFile,
    member: str,
    book: Book,
    max_col: int,
    stop: int | None = None,
    start: tuple[int, int] | None = None,
) -> Iterator[tuple[int, list[RawCell | None], int]]:
    formats, strings, epoch = book.formats, book.strings, book.epoch
    general = formats[0]
    columns: dict[str, int] = {}
    styles: dict[str, tuple[str, bool, bool]] = {}
    last = 0
    rows = 0
    cells: list[RawCell | None] = []
    in_row = False
    column = shown = number = count = 0  # count: the row's cells so far
    dates: dict[tuple[str, tuple[str, bool, bool]], tuple[object, str]] = {}
    with archive.open(member) as fh:
        head = b""
        while (at := head.find(b"<sheetData>")) < 0:
            data = fh.read(_CHUNK)
            if not data or len(head) > _MAX_HEAD:
                raise Unusual("no <sheetData> start")
            head += data
        at += len(b"<sheetData>")
        bound = _bound_prefixes(head[:at])
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        data, tail = head[at:], b""
        begins = at  # where ``data`` begins in the part
        expect = 0  # the number the first row read must have (reading from ``start``)
        if start is not None:
            begins, expect = start
            if begins < at:
                raise Unusual("a start before <sheetData>")
            data = head[begins:]
            passed = len(head)  # unpacked and passed over, a chunk at a time (flat memory)
            while passed < begins:
                data = fh.read(min(_CHUNK, begins - passed))
                if not data:
                    raise Unusual("a start after the part's end")
                passed += len(data)
                data = b""
            if not data:
                data = fh.read(_CHUNK)
        pending = ""
        ended = False
        while True:
            later = b""  # the part of ``data`` after ``stop``
            if stop is not None and begins <= stop < begins + len(data):
                data, later = data[: stop - begins], data[stop - begins :]
                stop = None
            if not _plain(tail + data):
                raise Unusual("characters XML forbids or rewrites")
            tail = data[-2:]
            pending += decoder.decode(data, final=ended)
            # Tokens are read up to the end of <sheetData>, else up to the last whole cell
            # or row (the rest waits for the next chunk).
            end = pending.find("</sheetData>")
            if end >= 0:
                cut = end
            elif later:  # read up to ``stop``: every token before it
                cut = len(pending)
            else:
                cut = max(_after(pending, "</row>"), _after(pending, "</c>"))
            if cut > 0:
                part, pending = pending[:cut], pending[cut:]
                for (
                    attributes,
                    empty,
                    row_end,
                    cell,
                    letters,
                    style,
                    kind,
                    formula,
                    text,
                    no_text,
                    inline,
                    other,
                ) in _TOKENS.findall(part):
                    if cell:
                        if not in_row:
                            raise Unusual("a cell outside a row")
                        count += 1
                        if letters:
                            at_column = columns.get(letters)
                            if at_column is None:
                                at_column = columns[letters] = column_index_from_string(letters)
                            column = at_column
                        else:
                            column += 1
                        if column > max_col:
                            continue
                        shown_as = styles.get(style)
                        if shown_as is None:
                            index = int(style) if style else 0
                            shown_as = formats[index] if index < len(formats) else general
                            styles[style] = shown_as
                        value: object
                        if kind == "inlineStr":
                            value = (inline if "&" not in inline else _unescape(inline)) or None
                            kind = "s"
                        elif text and kind == "s":
                            value = strings[int(text)]
                            shown += len(value)
                        elif text and (kind == "n" or not kind):
                            if "&" in text:
                                text = _unescape(text)
                            if shown_as[1]:  # a date: the same few thousand, again and again
                                known = dates.get((text, shown_as))
                                if known is None:
                                    known = dates[text, shown_as] = numeric(text, shown_as, epoch)
                                value, kind = known
                            else:
                                value, kind = number_value(text), "n"
                        else:
                            value, kind, chars = cell_value(
                                kind or "n",
                                _unescape(text) if text else None,
                                bool(text or no_text),
                                bool(formula),
                                _unescape(inline) if inline else None,
                                shown_as,
                                book,
                            )
                            shown += chars
                        if formula and "=" in formula:
                            _formula_attributes(formula)
                        raw = _new(RawCell, (value, kind, shown_as[0]))
                        held = len(cells)
                        if held == column - 1:
                            cells.append(raw)
                        elif held < column - 1:
                            cells.extend([None] * (column - 1 - held))
                            cells.append(raw)
                        else:  # a cell repeated out of order: the later one wins, as in Excel
                            cells[column - 1] = raw
                    elif row_end:
                        if not in_row:
                            raise Unusual("a row's end without its start")
                        if count * 5 > MAX_ROW_ELEMENTS:  # (at most 5 elements a cell)
                            raise Unusual("a row of more elements than the limit")
                        in_row = False
                        yield number, cells, shown
                    elif other:
                        raise Unusual(f"{other!r} after row {last}")
                    else:  # a row's start
                        if in_row:
                            raise Unusual("a row inside a row")
                        found = _JUST_R.fullmatch(attributes)
                        r = found.group(1) if found else _row_number(attributes, bound)
                        number = int(r) if r is not None else last + 1
                        if not 0 < number <= EXCEL_ROWS:
                            raise Unusual("a row number outside Excel's grid")
                        if number <= last:
                            raise Unusual("a row out of order")
                        if expect:
                            if number != expect or r is None:
                                raise Unusual("not the row expected at the start")
                            expect = 0
                        last = number
                        rows += 1
                        cells, column, shown, count = [], 0, 0, 0
                        if empty:
                            yield number, cells, shown
                        else:
                            in_row = True
            elif len(pending) > _MAX_PENDING:
                raise Unusual("a long row")
            if count * 5 > MAX_ROW_ELEMENTS:
                raise Unusual("a row of more elements than the limit")
            if end >= 0:
                if rows and not in_row:
                    return  # what follows </sheetData> is not the reader's business
                raise Unusual("no row, or a row not ended, in <sheetData>")
            if ended:
                raise Unusual("the part ends inside <sheetData>")
            begins += len(data)
            if later:
                if not in_row and not pending:
                    yield 0, [], 0  # at ``stop``, between rows (read_rows: AT_STOP)
                data = later
                continue
            data = fh.read(_CHUNK)
            ended = not data


def _bound_prefixes(head: bytes) -> dict[str, str]:
    """The namespace prefixes in force at <sheetData>, when the part up to it is
    well-formed, UTF-8 and <sheetData> is the worksheet's own; else ``Unusual``."""
    bound: list[dict[str, str]] = []
    tags = _well_formed_head(head, bound)
    if len(tags) != 2 or tags[-1] not in _SHEET_DATA:
        raise Unusual("<sheetData> is not the worksheet's")
    return bound[-1]


def _well_formed_head(head: bytes, bound: list[dict[str, str]] | None = None) -> list[str]:
    """The elements open at the end of ``head`` (a part's start), outermost first, when
    it is well-formed and UTF-8; ``bound`` gets the namespace prefixes in force in each."""
    declared = _ENCODING.match(head)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise Unusual("not UTF-8")
    parser: XMLPullParser[Element] = XMLPullParser(events=("start-ns", "start", "end"))
    parser.feed(head)
    events: Iterator[Any] = parser.read_events()
    stack: list[dict[str, str]] = [{"xml": "http://www.w3.org/XML/1998/namespace"}]
    declared_here: dict[str, str] = {}
    tags: list[str] = []
    for event, item in events:  # raises ParseError: the exact reader reports it
        if isinstance(item, tuple):  # start-ns: (prefix, uri)
            declared_here[item[0]] = item[1]
        elif event == "start" and isinstance(item, Element):
            stack.append({**stack[-1], **declared_here})
            declared_here = {}
            tags.append(item.tag)
        else:
            stack.pop()
            tags.pop()
    if bound is not None:
        bound.extend(stack[1:])
    return tags


def _row_number(attributes: str, bound: dict[str, str]) -> str | None:
    """A row's r, from attributes other than r alone; ``Unusual`` for attributes XML
    refuses (repeated, or with a prefix not declared) or that declare namespaces."""
    seen: set[tuple[str, str]] = set()
    r = None
    for name, prefix, value in _ROW_ATTR.findall(attributes):
        if name.startswith("xmlns") or (prefix and prefix not in bound):
            raise Unusual("a namespace declared or unbound in a row")
        key = (bound[prefix], name.partition(":")[2]) if prefix else ("", name)
        if key in seen:
            raise Unusual("a repeated attribute")
        seen.add(key)
        if name == "r":
            if not value.isdigit() or not value.isascii():
                raise Unusual("a row number that is not digits")
            r = value
    return r


def _formula_attributes(formula: str) -> None:
    """``Unusual`` unless the <f>'s attributes are unprefixed, unique and declare nothing."""
    start = _F_START.match(formula)
    names = [name for name, _, _ in _ROW_ATTR.findall(start.group(1) if start else "")]
    if len(names) != len(set(names)) or any(":" in n or n.startswith("xmlns") for n in names):
        raise Unusual("a formula's attributes")
