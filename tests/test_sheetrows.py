"""The sheet scanner (ingest/sheetrows.py) reads every row exactly as the exact reader
(xlsx.exact_rows) does, and hands anything unusual to it: same rows, same values and
types, same errors, on the shipped samples, generated workbooks and hand-written XML."""

from __future__ import annotations

import importlib.util
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talentrules.ingest.files import scan_file
from talentrules.ingest.sheetrows import Unusual, fast_rows, read_rows
from talentrules.ingest.xlsx import Book, RawCell, TextBudget, exact_rows, read_book
from talentrules.paths import sample_workbook

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
_SHEET = "xl/worksheets/sheet1.xml"
# Style 0 General, 1 a date, 2 a percentage, 3 an id shown with leading zeros.
_STYLES = (
    f'<styleSheet xmlns="{_MAIN}"><numFmts count="2"><numFmt numFmtId="164" formatCode="0.0%"/>'
    '<numFmt numFmtId="165" formatCode="00000"/></numFmts><cellXfs count="4">'
    '<xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/>'
    "</cellXfs></styleSheet>"
).encode()
_STRINGS = ["Ana", "R&D", "  padded  ", "Zoë 🙂", "EX-1"]
_HEAD = f'<worksheet xmlns="{_MAIN}" xmlns:x14ac="{_X14AC}"><dimension ref="A1:C3"/><sheetData>'


def _xlsx(sheet_data: bytes, head: str = _HEAD, tail: bytes = b"</sheetData></worksheet>") -> bytes:
    strings = "".join(f"<si><t>{s.replace('&', '&amp;')}</t></si>" for s in _STRINGS)
    parts = {
        "[Content_Types].xml": b"<Types/>",
        "xl/workbook.xml": f'<workbook xmlns="{_MAIN}"><workbookPr/></workbook>'.encode(),
        "xl/styles.xml": _STYLES,
        "xl/sharedStrings.xml": f'<sst xmlns="{_MAIN}">{strings}</sst>'.encode(),
        _SHEET: head.encode() + sheet_data + tail,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


def _book(archive: zipfile.ZipFile) -> Book:
    return read_book(archive, "xl/sharedStrings.xml", "xl/styles.xml", "xl/workbook.xml")


Rows = list[tuple[int, list[tuple[object, str, str, type] | None]]]


def _typed(rows: Iterator[tuple[int, list[RawCell | None]]]) -> Rows:
    """Rows with each value's type beside it (1 == 1.0 == True, and they must not meet)."""
    return [
        (
            n,
            [
                None if c is None else (c.value, c.data_type, c.number_format, type(c.value))
                for c in cells
            ],
        )
        for n, cells in rows
    ]


def _outcome(read: Iterator[tuple[int, list[RawCell | None]]]) -> tuple[Rows, str | None]:
    """The rows read, and the error that stopped the reading (type and message)."""
    rows: Rows = []
    try:
        for number, cells in read:
            rows.extend(_typed(iter([(number, cells)])))
    except Exception as error:  # noqa: BLE001 (whatever it is, both readers must agree)
        return rows, f"{type(error).__name__}: {error}"
    return rows, None


def _exact(
    archive: zipfile.ZipFile, member: str, book: Book
) -> Iterator[tuple[int, list[RawCell | None]]]:
    for number, cells, _ in exact_rows(archive, member, book, 702):
        yield number, cells


def _both(body: bytes) -> tuple[tuple[Rows, str | None], tuple[Rows, str | None], bool]:
    """(read_rows's outcome, the exact reader's, whether the scanner read it all)."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        book = _book(archive)
        ours = _outcome(read_rows(archive, _SHEET, book, 702))
        exact = _outcome(_exact(archive, _SHEET, book))
        try:
            for _ in fast_rows(archive, _SHEET, book, 702):
                pass
            scanned = True
        except Unusual:
            scanned = False
    return ours, exact, scanned


def test_the_shipped_samples_and_a_generated_workbook_are_scanned_exactly(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_workbook", Path(__file__).resolve().parent.parent / "benchmarks" / "make_workbook.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = tmp_path / "p50.xlsx"
    module.make_workbook(generated, 50, seed=3)
    paths = [
        sample_workbook(n)
        for n in (
            "panel_review.xlsx",
            "panel_review_vendor_export.xlsx",
            "panel_review_broken.xlsx",
        )
    ]
    for path in [*paths, generated]:
        scan = scan_file(path, str(path))
        with zipfile.ZipFile(path) as archive:
            book = read_book(archive, scan.strings, scan.styles, "xl/workbook.xml")
            for sheet in scan.sheets:
                scanned = [(n, c) for n, c, _ in fast_rows(archive, sheet.member, book, 702)]
                exact = [(n, c) for n, c, _ in exact_rows(archive, sheet.member, book, 702)]
                assert _typed(iter(scanned)) == _typed(iter(exact)), (path.name, sheet.tab)
                assert len(scanned) > 0


# What Excel, LibreOffice and openpyxl write: each read by the scanner, as the exact reader does.
WRITTEN = {
    "inline strings": b'<row r="1"><c r="A1" t="inlineStr"><is><t>E1</t></is></c></row>',
    "preserved space": b'<row r="1"><c r="A1" t="inlineStr">'
    b'<is><t xml:space="preserve"> a </t></is></c></row>',
    "shared strings": b'<row r="1" spans="1:3" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c>'
    b'<c r="B1" s="0" t="s"><v>1</v></c><c r="C1" t="s"><v>3</v></c></row>',
    "entities": b'<row r="2"><c r="A2" t="inlineStr">'
    b"<is><t>R&amp;D &lt;x&gt; &quot;q&quot; &apos;</t></is></c>"
    b'<c r="B2" t="str"><f>A2&amp;""</f><v>R&amp;D</v></c></row>',
    "dates and percentages": b'<row r="3"><c r="A3" s="1"><v>46172</v></c>'
    b'<c r="B3" s="2"><v>0.925</v></c>'
    b'<c r="C3" s="3"><v>42</v></c><c r="D3" s="1" t="n"><v>46172.5</v></c></row>',
    "numbers": b'<row r="1"><c r="A1"><v>3</v></c><c r="B1"><v>2.50</v></c><c r="C1"><v>1E3</v></c>'
    b'<c r="D1"><v>-0</v></c><c r="E1" t="n"><v>12345678901234567890</v></c></row>',
    "empty cells and gaps": b'<row r="1"><c r="A1" s="1"/><c r="C1" s="2" /><c r="F1"><v>1</v></c>'
    b"</row>"
    b'<row r="5"/><row r="6" spans="1:3" x14ac:dyDescent="0.25"/>',
    "no r attributes": b'<row><c t="inlineStr"><is><t>a</t></is></c><c><v>2</v></c></row>'
    b'<row><c/><c t="s"><v>4</v></c></row><row r="9"><c r="C9"><v>1</v></c><c><v>2</v></c></row>',
    "formulas": b'<row r="1"><c r="A1"><f>SUM(B1:C1)</f><v>3</v></c><c r="B1"><f>1/0</f><v/></c>'
    b'<c r="C1"><f t="shared" ref="C1:C9" si="0">D1</f><v>4</v></c>'
    b'<c r="D1"><f t="shared" si="0"/></c>'
    b'<c r="E1" t="str"><f>""</f><v></v></c><c r="F1" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>',
    "booleans errors iso dates": b'<row r="1"><c r="A1" t="b"><v>1</v></c>'
    b'<c r="B1" t="b"><v>0</v></c>'
    b'<c r="C1" t="e"><v>#N/A</v></c><c r="D1" t="d"><v>2026-03-31T00:00:00Z</v></c></row>',
    "out of order and far right": b'<row r="1"><c r="C1"><v>3</v></c><c r="A1"><v>1</v></c>'
    b'<c r="C1"><v>4</v></c><c r="AAA1"><v>9</v></c></row>',
    "inlineStr without text": b'<row r="1"><c r="A1" t="inlineStr"></c>'
    b'<c r="B1" t="inlineStr"/></row>',
    "space between rows and cells": b'\n  <row r="1">\n    <c r="A1"><v>1</v></c>\n  </row>\n',
    "unicode": '<row r="1"><c r="A1" t="inlineStr"><is><t>Zoë 🙂 ﬁ</t></is></c></row>'.encode(),
}


@pytest.mark.parametrize("sheet", WRITTEN.values(), ids=WRITTEN.keys())
def test_what_writers_write_is_scanned_as_the_exact_reader_reads_it(sheet: bytes) -> None:
    ours, exact, scanned = _both(_xlsx(sheet))
    assert ours == exact
    assert exact[1] is None and exact[0], exact
    assert scanned


# Unusual but well-formed: the exact reader takes over (from the sheet's start) and the
# rows are the same.
UNUSUAL = {
    "rich text inline": b'<row r="1"><c r="A1" t="inlineStr">'
    b"<is><r><t>a</t></r><r><t>b</t></r></is></c></row>",
    "attributes in another order": b'<row r="1"><c t="inlineStr" r="A1"><is><t>a</t></is></c>'
    b"</row>",
    "another attribute": b'<row r="1"><c r="A1" cm="1"><v>1</v></c></row>',
    "a comment": b'<row r="1"><!-- note --><c r="A1"><v>1</v></c></row>',
    "space inside a cell": b'<row r="1"><c r="A1">\n<v>1</v>\n</c></row>',
    "a character reference": b'<row r="1"><c r="A1" t="inlineStr"><is><t>&#233;</t></is></c></row>',
    "a carriage return": b'<row r="1"><c r="A1" t="inlineStr"><is><t>a\r\nb</t></is></c></row>',
    "CDATA": b'<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[a<b]]></t></is></c></row>',
    "a prefixed row": b'<row r="1" x14ac:dyDescent="0.25" xmlns:y="urn:y" y:z="1">'
    b'<c r="A1"><v>1</v></c></row>',
    "text between cells": b'<row r="1">x<c r="A1"><v>1</v></c></row>',
    "row number not digits": b'<row r=" 7"><c r="A7"><v>1</v></c></row>',
    "lower-case reference": b'<row r="1"><c r="b1"><v>1</v></c></row>',
}


@pytest.mark.parametrize("sheet", UNUSUAL.values(), ids=UNUSUAL.keys())
def test_unusual_xml_is_read_by_the_exact_reader(sheet: bytes) -> None:
    first = b'<row r="1"><c r="A1" t="inlineStr"><is><t>first</t></is></c></row>'
    body = first + sheet.replace(b'r="1"', b'r="2"').replace(b'r="A1"', b'r="A2"')
    ours, exact, scanned = _both(_xlsx(body))
    assert ours == exact
    assert exact[1] is None, exact
    assert not scanned


@pytest.mark.parametrize("sheet_data", [b"", b" "], ids=["empty", "space"])
def test_a_sheet_without_rows_is_read_by_the_exact_reader(sheet_data: bytes) -> None:
    ours, exact, scanned = _both(_xlsx(sheet_data))
    assert ours == exact == ([], None) and not scanned


def test_the_exact_reader_takes_over_where_the_scanner_stops() -> None:
    """Rows before the unusual one are given once, never twice, and in order."""

    def rows(numbers: range) -> bytes:
        row = b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>E%d</t></is></c></row>'
        return b"".join(row % (n, n, n) for n in numbers)

    rich = b'<row r="3001"><c r="A3001" t="inlineStr"><is><r><t>x</t></r></is></c></row>'
    ours, exact, scanned = _both(_xlsx(rows(range(1, 3001)) + rich + rows(range(3002, 6001))))
    assert ours == exact and not scanned
    assert [n for n, _ in ours[0]] == [*range(1, 6001)]


# Damaged, or past a limit: the same error, word for word, as the exact reader's.
DAMAGED = {
    "unclosed cell": b'<row r="1"><c r="A1"><v>1</v></row>',
    "bad entity": b'<row r="1"><c r="A1" t="inlineStr"><is><t>a &bogus; b</t></is></c></row>',
    "bare ampersand": b'<row r="1"><c r="A1" t="inlineStr"><is><t>a & b</t></is></c></row>',
    "control character": b'<row r="1"><c r="A1" t="inlineStr"><is><t>a\x01b</t></is></c></row>',
    "]]> in text": b'<row r="1"><c r="A1" t="inlineStr"><is><t>a]]>b</t></is></c></row>',
    "not UTF-8": b'<row r="1"><c r="A1" t="inlineStr"><is><t>caf\xe9</t></is></c></row>',
    "unbound prefix": b'<row r="1" q:x="1"><c r="A1"><v>1</v></c></row>',
    "repeated attribute": b'<row r="1" spans="1:1" spans="1:2"><c r="A1"><v>1</v></c></row>',
    "repeated formula attribute": b'<row r="1"><c r="A1"><f t="shared" t="x">A</f><v>1</v></c>'
    b"</row>",
    "shared string out of range": b'<row r="1"><c r="A1" t="s"><v>99</v></c></row>',
    "not a number": b'<row r="1"><c r="A1"><v>12x</v></c></row>',
    "not an ISO date": b'<row r="1"><c r="A1" t="d"><v>soon</v></c></row>',
    "row outside the grid": b'<row r="99999999"><c r="A1"><v>1</v></c></row>',
    "row number zero": b'<row r="0"><c r="A1"><v>1</v></c></row>',
    "rows out of order": b'<row r="3"/><row r="1"><c r="A1"><v>1</v></c></row>',
    "a row repeated": b'<row r="1"/><row r="1"><c r="A1"><v>1</v></c></row>',
    "column past ZZZ": b'<row r="1"><c r="AAAA1"><v>1</v></c></row>',
    "no end of sheetData": b'<row r="1"><c r="A1"><v>1</v></c></row><row r="2">',
}


@pytest.mark.parametrize("sheet", DAMAGED.values(), ids=DAMAGED.keys())
def test_damaged_xml_gives_the_exact_readers_error(sheet: bytes) -> None:
    first = b'<row r="1"><c r="A1" t="inlineStr"><is><t>first</t></is></c></row>'
    body = first + sheet.replace(b'r="1"', b'r="2"').replace(b'r="A1"', b'r="A2"')
    ours, exact, _ = _both(_xlsx(body))
    assert ours == exact
    assert exact[1] is not None, exact


def test_a_damaged_head_gives_the_exact_readers_error() -> None:
    head = _HEAD.replace("<dimension", "<dimension <")
    ours, exact, scanned = _both(_xlsx(b'<row r="1"><c r="A1"><v>1</v></c></row>', head=head))
    assert ours == exact and exact[1] is not None and not scanned


def test_the_text_budget_is_charged_once_per_row_read() -> None:
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="s"><v>3</v></c></row>' % (n, n) for n in range(1, 101)
    )
    with zipfile.ZipFile(io.BytesIO(_xlsx(rows))) as archive:
        book = _book(archive)
        budget = TextBudget(10_000)
        assert len(list(read_rows(archive, _SHEET, book, 702, budget))) == 100
        assert budget.left == 10_000 - 100 * len(_STRINGS[3])
        budget = TextBudget(50)
        with pytest.raises(Exception, match="by row 11 its cells repeat shared strings"):
            list(read_rows(archive, _SHEET, book, 702, budget))


# Random sheets from the pieces writers use, then maybe one byte changed: both readers agree.
_CELLS = st.sampled_from(
    [
        b'<c r="A{n}" t="inlineStr"><is><t>E{n}</t></is></c>',
        b'<c r="B{n}" t="s"><v>{n}</v></c>',
        b'<c r="C{n}" s="1"><v>4617{n}</v></c>',
        b'<c r="D{n}" s="2" t="n"><v>0.{n}</v></c>',
        b'<c r="E{n}" s="3"/>',
        b"<c><v>{n}</v></c>",
        b'<c r="F{n}" t="str"><f>X</f><v>a&amp;b</v></c>',
        b'<c r="G{n}"><f>1/0</f><v /></c>',
        b'<c r="H{n}" t="b"><v>1</v></c>',
        b'<c r="I{n}" t="e"><v>#REF!</v></c>',
        b'<c r="J{n}" t="inlineStr"><is><r><t>rich</t></r></is></c>',
    ]
)
_ROWS = st.lists(st.lists(_CELLS, max_size=6), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=_ROWS,
    at=st.integers(min_value=0, max_value=3000),
    junk=st.sampled_from([b"", b"<", b"&", b'"', b"/", b"\x00", b"\xff", b"x", b" "]),
)
def test_random_sheets_read_alike(rows: list[list[bytes]], at: int, junk: bytes) -> None:
    body = b"".join(
        b'<row r="%d">' % n + b"".join(c.replace(b"{n}", b"%d" % n) for c in cells) + b"</row>"
        for n, cells in enumerate(rows, start=1)
    )
    spot = at % (len(body) + 1)
    body = body[:spot] + junk + body[spot:]
    ours, exact, _ = _both(_xlsx(body))
    assert ours == exact


# Shared strings: scanned when plain, else (rich text, phonetic hints, damage) read by the
# exact reader; the same strings, or the same error, either way.
STRINGS = {
    "plain": (b"<si><t>Ana</t></si><si><t>R&amp;D</t></si><si><t></t></si><si><t/></si>", True),
    "preserved space": (b'<si><t xml:space="preserve"> a </t></si>\n<si><t>b</t></si>\n', True),
    "unicode": ("<si><t>Zoë 🙂</t></si>".encode(), True),
    "rich text": (b"<si><r><rPr><b/></rPr><t>Ana </t></r><r><t>B</t></r></si>", False),
    "phonetic hints": (b'<si><t>A</t><rPh sb="0" eb="1"><t>hint</t></rPh></si>', False),
    "character reference": (b"<si><t>caf&#233;</t></si>", False),
    "damaged": (b"<si><t>Ana</t></si><si><t>B</si>", False),
    "bare ampersand": (b"<si><t>R&D</t></si>", False),
    "not UTF-8": (b"<si><t>caf\xe9</t></si>", False),
}


@pytest.mark.parametrize(("table", "scanned"), STRINGS.values(), ids=STRINGS.keys())
def test_shared_strings_read_as_the_exact_reader_reads_them(table: bytes, scanned: bool) -> None:
    from talentrules.ingest.sheetrows import _scan_strings, read_strings
    from talentrules.ingest.xlsx import exact_strings

    body = io.BytesIO()
    with zipfile.ZipFile(body, "w") as archive:
        archive.writestr(
            "s.xml", f'<?xml version="1.0"?>\n<sst xmlns="{_MAIN}">'.encode() + table + b"</sst>"
        )
    with zipfile.ZipFile(body) as archive:

        def outcome(read: Callable[[zipfile.ZipFile, str], list[str]]) -> object:
            try:
                return read(archive, "s.xml")
            except Exception as error:  # noqa: BLE001
                return f"{type(error).__name__}: {error}"

        assert outcome(read_strings) == outcome(exact_strings)
        try:
            _scan_strings(archive, "s.xml")
            assert scanned
        except Exception:  # noqa: BLE001
            assert not scanned


def test_a_whole_workbook_with_shared_strings_loads_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample workbook rewritten as Excel stores text reads to the same rows whether
    its strings are scanned or read by the exact reader."""
    import test_ingest

    from talentrules.ingest import load as load_module
    from talentrules.ingest import load_workbook
    from talentrules.ingest.xlsx import exact_strings

    path = tmp_path / "shared.xlsx"
    path.write_bytes(sample_workbook("panel_review_broken.xlsx").read_bytes())
    assert test_ingest.to_shared_strings(path) > 100

    def rows() -> list[object]:
        panel = load_workbook(path)
        return [(p.severity, p.sheet, p.cell, p.message) for p in panel.problems] + [
            (r.number, r.cells) for sheet in panel.rows.values() for r in sheet
        ]

    scanned = rows()
    monkeypatch.setattr(load_module, "read_strings", exact_strings)
    exact = rows()
    assert scanned == exact and len(scanned) > 100


# Pieces a sheet's XML is made of, and near misses of them: the scanner's tokens with
# their optional parts possessive ("?+") must match exactly what they match without.
_PIECES = [
    '<row r="2">',
    "<row>",
    "<row/>",
    '<row r="3" spans="1:2">',
    "</row>",
    "<c",
    "<c>",
    '<c r="B2"',
    '<c r="AB12"',
    ' r="C',
    ' r="B2"',
    ' s="1"',
    ' s="x"',
    ' t="s"',
    ' t="inlineStr"',
    ' t="n"',
    ' t="e"',
    ' t="str"',
    "/>",
    " />",
    ">",
    "<f>",
    "<f/>",
    "<f>SUM(A1)</f>",
    '<f t="shared" si="0"/>',
    '<f t="shared"/>',
    "<v>",
    "<v>7</v>",
    "<v>1.5</v>",
    "<v/>",
    "<v />",
    "<v></v>",
    "</v>",
    "<is>",
    "<is><t>",
    "<t>",
    '<t xml:space="preserve">',
    "x",
    "a&amp;b",
    "&lt;",
    "&",
    "</t>",
    "</is>",
    "</t></is>",
    "</c>",
    " ",
    "\n",
    "<",
    '"',
    "=",
]


def _maybe(*choices: str) -> st.SearchStrategy[str]:
    return st.sampled_from(["", *choices])


# A cell as writers write it, each part present or not, or a near miss in its place.
_CELLS = st.builds(
    lambda *parts: "".join(parts),
    st.just("<c"),
    _maybe(' r="B2"', ' r="AB12"', ' r="C"', ' r="b2"', ' r="ABCD1"', ' r=""', " r="),
    _maybe(' s="1"', ' s=""', ' s="x"'),
    _maybe(' t="s"', ' t="inlineStr"', ' t="n"', ' t="e"', ' t=""'),
    st.sampled_from(["/>", " />", ">", ">", ">", "", " "]),
    _maybe("<f>A1</f>", "<f/>", '<f t="shared" si="0"/>', "<f", "<f>&amp;</f>"),
    _maybe("<v>7</v>", "<v/>", "<v />", "<v></v>", "<v><", "<v>a&lt;b</v>", "<v>&x;</v>"),
    _maybe(
        "<is><t>x</t></is>",
        '<is><t xml:space="preserve"> x </t></is>',
        "<is><t></t></is>",
        "<is><t/></is>",
        "<is><t>x</t>",
    ),
    _maybe("</c>", "</c>", "</c>", "</v>", "</c"),
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_CELLS, st.sampled_from(_PIECES)), max_size=20))
def test_possessive_tokens_read_what_plain_ones_read(pieces: list[str]) -> None:
    from talentrules.ingest import sheetrows

    possessive = sheetrows._TOKENS
    plain = re.compile(possessive.pattern.replace(")?+", ")?"))
    assert plain.pattern != possessive.pattern
    text = "".join(pieces)
    assert possessive.findall(text) == plain.findall(text)
    strings = sheetrows._STRINGS
    plain_strings = re.compile(strings.pattern.replace(")?+", ")?"))
    assert strings.findall(text) == plain_strings.findall(text)
