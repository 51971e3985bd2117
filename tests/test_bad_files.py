"""Files that are not usable workbooks: one clear sentence naming the file, exit 1, no
traceback; limits refused before the cells are read."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from talentrules.cli import cli
from talentrules.errors import WorkbookError
from talentrules.ingest import files, load_workbook


def good(path: Path, rows: int = 3) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Employees"
    ws.append(["employee_id", "full_name"])
    for n in range(rows):
        ws.append([f"E{n}", f"Person {n}"])
    wb.save(path)
    return path


def rewrite(path: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Rewrite every member of the xlsx at ``path`` through ``change(name, body)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as src:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info.filename, change(info.filename, src.read(info)))
    path.write_bytes(out.getvalue())


def ole2(extra: bytes) -> bytes:
    """The start of an OLE2 compound file (old .xls, or an encrypted workbook)."""
    return files.OLE2_MAGIC + b"\x00" * 504 + extra + b"\x00" * 512


def _missing(tmp: Path) -> Path:
    return tmp / "nowhere.xlsx"


def _folder(tmp: Path) -> Path:
    (tmp / "folder.xlsx").mkdir()
    return tmp / "folder.xlsx"


def _empty(tmp: Path) -> Path:
    (tmp / "empty.xlsx").write_bytes(b"")
    return tmp / "empty.xlsx"


def _text(tmp: Path) -> Path:
    (tmp / "notes.xlsx").write_text("This is just a note someone renamed.\n")
    return tmp / "notes.xlsx"


def _csv(tmp: Path) -> Path:
    (tmp / "people.csv").write_text("employee_id,full_name\nE1,Ana\n")
    return tmp / "people.csv"


def _truncated(tmp: Path) -> Path:
    path = good(tmp / "cut.xlsx")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def _corrupt(tmp: Path) -> Path:
    path = good(tmp / "corrupt.xlsx", rows=200)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 20, start + 60):  # scramble the compressed sheet data
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def _central_field(tmp: Path, name: str, offset: int, value: int) -> Path:
    """A workbook whose every central-directory entry has ``value`` at ``offset``: the
    bytes zipfile reads as a version or compression method it does not know."""
    path = good(tmp / name)
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        data[at + offset : at + offset + 2] = value.to_bytes(2, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path


def _zip_version(tmp: Path) -> Path:
    return _central_field(tmp, "version.xlsx", 6, 64)  # "version needed to extract": 6.4


def _zip_method(tmp: Path) -> Path:
    return _central_field(tmp, "method.xlsx", 10, 99)  # compression method 99 (AES)


def _zip_name_not_utf8(tmp: Path) -> Path:
    """A central-directory name flagged UTF-8 (general purpose bit 11) whose first byte
    is not: zipfile raises UnicodeDecodeError on opening (found by hypothesis in
    test_properties' damaged bytes)."""
    path = good(tmp / "name.xlsx")
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    flags = int.from_bytes(data[at + 8 : at + 10], "little") | 0x800
    data[at + 8 : at + 10] = flags.to_bytes(2, "little")
    data[at + 46] = 0xFF  # the name's first byte
    path.write_bytes(bytes(data))
    return path


def _zip_member_encrypted(tmp: Path) -> Path:
    """A central-directory entry flagged encrypted (general purpose bit 0, one damaged
    byte): zipfile asks for a password with a RuntimeError on reading (found by
    hypothesis in test_properties' damaged bytes)."""
    path = good(tmp / "flagged.xlsx")
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    data[at + 8] |= 0x1
    path.write_bytes(bytes(data))
    return path


def _zip_directory_offset(tmp: Path) -> Path:
    """The end record's central-directory offset raised by one damaged byte: zipfile
    places the members before the file's start and its seek raises OSError (found by
    sweeping the zip structure's bytes)."""
    path = good(tmp / "offset.xlsx")
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x05\x06")
    data[at + 18] ^= 0x01
    path.write_bytes(bytes(data))
    return path


def _xls(tmp: Path) -> Path:
    (tmp / "old.xls").write_bytes(ole2("Workbook".encode("utf-16-le")))
    return tmp / "old.xls"


def _encrypted(tmp: Path) -> Path:
    body = (
        "EncryptionInfo".encode("utf-16-le") + b"\x00" * 8 + "EncryptedPackage".encode("utf-16-le")
    )
    (tmp / "locked.xlsx").write_bytes(ole2(body))
    return tmp / "locked.xlsx"


def _other_zip(tmp: Path) -> Path:
    with zipfile.ZipFile(tmp / "photos.xlsx", "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return tmp / "photos.xlsx"


def _binary(tmp: Path) -> Path:
    (tmp / "blob.xlsx").write_bytes(bytes(range(256)) * 8)
    return tmp / "blob.xlsx"


def _entities(tmp: Path) -> Path:
    """A billion-laughs DOCTYPE in the sheet XML: refused by defusedxml, not expanded."""
    path = good(tmp / "laughs.xlsx")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )

    def change(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        return bomb + body.replace(b"Person 0", b"&lol2;")

    rewrite(path, change)
    return path


BAD = {
    "missing path": (_missing, "no such file"),
    "directory": (_folder, "is a folder"),
    "0 bytes": (_empty, "empty (0 bytes)"),
    "plain text renamed .xlsx": (_text, "text file, not an Excel workbook"),
    "csv passed by mistake": (_csv, "CSV file, not an Excel workbook"),
    "truncated zip": (_truncated, "damaged or truncated"),
    "corrupt zip member": (_corrupt, "damaged"),
    "zip version unknown": (_zip_version, "damaged or truncated"),
    "zip compression unknown": (_zip_method, "damaged or truncated"),
    "zip member name not UTF-8": (_zip_name_not_utf8, "damaged or truncated"),
    "zip member flagged encrypted": (_zip_member_encrypted, "is marked encrypted"),
    "zip directory offset damaged": (_zip_directory_offset, "starts before the file"),
    "old binary .xls": (_xls, "old binary Excel file (.xls)"),
    "password-protected": (_encrypted, "password-protected (encrypted)"),
    "zip that is not a workbook": (_other_zip, "zip file but not an Excel workbook"),
    "binary junk": (_binary, "not an Excel workbook"),
    "XML entity expansion": (_entities, "declares a DOCTYPE or entities"),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_file_one_sentence_exit_1_no_traceback(tmp_path: Path, kind: str) -> None:
    make, words = BAD[kind]
    path = make(tmp_path)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message.count("\n") == 0, message
    assert message.startswith(f"Error: {path}: "), message
    assert words in message, message


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_file_is_a_workbook_error_from_the_library(tmp_path: Path, kind: str) -> None:
    make, words = BAD[kind]
    path = make(tmp_path)
    with pytest.raises(WorkbookError) as raised:
        load_workbook(path)
    assert str(raised.value).startswith(f"{path}: ") and words in str(raised.value)


def _limit(monkeypatch: pytest.MonkeyPatch, name: str, value: int) -> None:
    monkeypatch.setattr(files, name, value)


@pytest.mark.parametrize(
    ("limit", "value", "words"),
    [
        ("MAX_FILE_BYTES", 1000, "over the limit of 1,000 bytes"),
        ("MAX_UNCOMPRESSED_BYTES", 5000, "unpacks to"),
        ("MEMORY_PER_ROW", 10**12, "reading its 201 rows would take about"),
    ],
)
def test_size_limits_refuse_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str, value: int, words: str
) -> None:
    path = good(tmp_path / "big.xlsx", rows=200)
    _limit(monkeypatch, limit, value)
    # No part is parsed: the refusal comes from the raw bytes.
    monkeypatch.setattr("talentrules.ingest.load.read_book", pytest.fail)
    with pytest.raises(WorkbookError, match=words):
        load_workbook(path)


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    path = good(tmp_path / "bomb.xlsx")
    filler = b"<!-- " + b"0" * (8 * 1024 * 1024) + b" -->"

    def change(name: str, body: bytes) -> bytes:
        return body + filler if name == "xl/worksheets/sheet1.xml" else body

    rewrite(path, change)
    with pytest.raises(WorkbookError, match="times its stored size.*zip bomb"):
        load_workbook(path)


def test_cells_beyond_the_column_limit_are_ignored_with_a_warning(tmp_path: Path) -> None:
    path = good(tmp_path / "wide.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Employees"].cell(row=2, column=files.MAX_COLUMNS + 5, value="far away")
    wb.save(path)
    panel = load_workbook(path)
    (warning,) = [p for p in panel.warnings if "beyond column ZZ" in p.message]
    assert warning.message.startswith("1 cells beyond column ZZ")
    assert len(panel.rows["Employees"]) == 3


def test_wrong_dimension_does_not_pad_rows(tmp_path: Path) -> None:
    """A <dimension> claiming the whole grid must not make every row 16,384 cells wide."""
    path = good(tmp_path / "dim.xlsx")

    def change(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        return body.replace(b'<dimension ref="A1:B4"', b'<dimension ref="A1:XFD1048576"')

    rewrite(path, change)
    panel = load_workbook(path)
    assert panel.accounts[1].read == 3 and len(panel.rows["Employees"]) == 3


def test_good_workbook_with_another_extension_is_read(tmp_path: Path) -> None:
    path = good(tmp_path / "export.dat")
    assert len(load_workbook(path).rows["Employees"]) == 3


# -- bombs: what a hostile file exploits, each refused before it costs much --------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def raw_workbook(path: Path, sheet: bytes, strings: bytes | None = None) -> Path:
    """A minimal .xlsx from hand-written parts: one sheet 'Employees', maybe shared strings.

    ``sheet`` is the XML inside <sheetData>; ``strings`` the <si> elements.
    """
    rels = [f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>']
    if strings is not None:
        rels.append(
            f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.'
        b'openxmlformats.org/package/2006/content-types"/>',
        "xl/workbook.xml": (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            '<sheet name="Employees" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships">{"".join(rels)}</Relationships>'
        ).encode(),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_MAIN}"><sheetData>'.encode()
        + sheet
        + b"</sheetData></worksheet>",
    }
    if strings is not None:
        parts["xl/sharedStrings.xml"] = f'<sst xmlns="{_MAIN}">'.encode() + strings + b"</sst>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return path


HEADER = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>employee_id</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>full_name</t></is></c></row>'
)


def person(n: int, name: bytes | None = None) -> bytes:
    """Row n+1: employee En, named inline or by a shared string's index."""
    name_cell = (
        b'<c t="s"><v>' + name + b"</v></c>"
        if name is not None
        else b'<c t="inlineStr"><is><t>P%d</t></is></c>' % n
    )
    return b'<row r="%d"><c t="inlineStr"><is><t>E%d</t></is></c>%s</row>' % (
        n + 1,
        n,
        name_cell,
    )


def test_raw_workbook_helper_reads(tmp_path: Path) -> None:
    """The hand-made parts below are a real workbook: shared and inline strings read."""
    path = raw_workbook(
        tmp_path / "ok.xlsx", HEADER + person(1) + person(2, b"0"), b"<si><t>Ana</t></si>"
    )
    rows = load_workbook(path).rows["Employees"]
    assert [(r.get("employee_id"), r.get("full_name")) for r in rows] == [
        ("E1", "P1"),
        ("E2", "Ana"),
    ]


def test_huge_declared_dimension_costs_only_the_rows_present(tmp_path: Path) -> None:
    """A sheet declaring the whole grid and holding a row at its very end: read as it is,
    the gap counted as blank rows, nothing sized by the declaration."""
    path = good(tmp_path / "dim.xlsx")
    last = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>E9</t></is></c>' + (
        b'<c r="B1048576" t="inlineStr"><is><t>Last</t></is></c></row>'
    )

    def change(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        body = body.replace(b'<dimension ref="A1:B4"', b'<dimension ref="A1:XFD1048576"')
        return body.replace(b"</sheetData>", last + b"</sheetData>")

    rewrite(path, change)
    panel = load_workbook(path)
    account = next(a for a in panel.accounts if a.sheet == "Employees")
    assert len(panel.rows["Employees"]) == 4 and account.balanced
    assert account.read == 1048575 and account.blank == 1048571


def test_row_number_outside_excels_grid_is_refused(tmp_path: Path) -> None:
    path = raw_workbook(
        tmp_path / "far.xlsx",
        HEADER + b'<row r="99999999999"><c t="inlineStr"><is><t>E1</t></is></c></row>',
    )
    with pytest.raises(WorkbookError, match=r"row number 99,999,999,999 is outside Excel's rows"):
        load_workbook(path)


def test_a_row_with_more_elements_than_excel_allows_is_refused(tmp_path: Path) -> None:
    """200,000 cells in one row: refused while that row is built, not after."""
    path = raw_workbook(tmp_path / "wide.xlsx", HEADER + b'<row r="2">' + b"<c/>" * 200_000)
    with pytest.raises(WorkbookError, match=r"sheet 'Employees': row 2 holds more than 131,072"):
        load_workbook(path)


def test_elements_after_the_rows_are_not_read(tmp_path: Path) -> None:
    """What follows <sheetData> (here 200,000 hyperlinks) is never built into elements:
    were it read, the elements since the last row would pass the per-row limit."""
    path = good(tmp_path / "links.xlsx")
    links = b"".join(b'<hyperlink ref="A%d" display="%d"/>' % (n, n * 7) for n in range(200_000))
    links = b"<hyperlinks>" + links + b"</hyperlinks>"

    def change(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        return body.replace(b"<pageMargins", links + b"<pageMargins")

    rewrite(path, change)
    assert len(load_workbook(path).rows["Employees"]) == 3


def test_repeated_shared_string_bomb_is_refused(tmp_path: Path) -> None:
    """One 30,000-character string shown by 2,000 cells: 60 million characters for the
    briefs and the trace from a file of a few kilobytes."""
    long = b"<si><t>" + b"x" * 30_000 + b"</t></si>"
    rows = b"".join(person(n, b"0") for n in range(1, 2001))
    path = raw_workbook(tmp_path / "repeat.xlsx", HEADER + rows, long)
    with pytest.raises(WorkbookError, match=r"repeat shared strings into more than .*zip bomb"):
        load_workbook(path)


def test_honest_repeated_codes_are_within_the_text_budget(tmp_path: Path) -> None:
    """Short strings shown many times (codes, a recurring phrase) are what workbooks hold."""
    phrase = b"<si><t>The panel knows more than the workbook shows.</t></si>"
    rows = b"".join(person(n, b"0") for n in range(1, 2001))
    path = raw_workbook(tmp_path / "codes.xlsx", HEADER + rows, phrase)
    assert len(load_workbook(path).rows["Employees"]) == 2000


def test_more_shared_strings_than_cells_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strings = b"".join(b"<si><t>s%d</t></si>" % n for n in range(5000))
    path = raw_workbook(tmp_path / "strings.xlsx", HEADER + person(1), strings)
    monkeypatch.setattr("talentrules.ingest.load.read_book", pytest.fail)
    with pytest.raises(WorkbookError, match=r"5,000 shared strings for 4 cells"):
        load_workbook(path)


def test_a_shared_string_with_too_many_elements_is_refused(tmp_path: Path) -> None:
    runs = b"".join(b"<r><t>%d</t></r>" % n for n in range(140_000))
    path = raw_workbook(tmp_path / "runs.xlsx", HEADER + person(1, b"0"), b"<si>" + runs + b"</si>")
    with pytest.raises(WorkbookError, match=r"shared string 1 holds more than 131,072 elements"):
        load_workbook(path)


def test_a_run_without_tags_longer_than_any_cell_is_refused(tmp_path: Path) -> None:
    """2 MB of text in one value: never written by Excel (32,767 characters a cell);
    refused by the scan before the parser would hold it."""
    text = bytes(random.Random(0).choices(b"abcdefghijklmnopqrstuvwxyz", k=2 * 1024 * 1024))
    path = raw_workbook(
        tmp_path / "run.xlsx", HEADER + b'<row r="2"><c t="inlineStr"><is><t>' + text
    )
    with pytest.raises(WorkbookError, match=r"a run of over 1,048,576 bytes without a tag"):
        files.scan_file(path, str(path))


def test_many_near_empty_rows_are_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small file of 50,000 rows holding one short value each: each costs a typed row once
    read, so the rows present are weighed against memory before any is read."""
    rows = b"".join(b'<row r="%d"><c><v>%d</v></c></row>' % (n, n) for n in range(2, 50_002))
    path = raw_workbook(tmp_path / "rows.xlsx", HEADER + rows)
    assert path.stat().st_size < 400_000
    monkeypatch.setattr(files, "read_memory_limit", lambda: 100 * 1024 * 1024)
    monkeypatch.setattr("talentrules.ingest.load.read_book", pytest.fail)
    with pytest.raises(WorkbookError, match=r"reading its 50,001 rows would take about 0.2 GB"):
        load_workbook(path)


def test_rows_of_sheets_outside_the_contract_are_not_weighed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big tab the contract does not read (a pivot's data) costs nothing to load."""
    wb = openpyxl.Workbook()
    wb.active.title = "Employees"
    wb.active.append(["employee_id", "full_name"])
    wb.active.append(["E1", "Ana"])
    extra = wb.create_sheet("Pivot data")
    for n in range(3000):
        extra.append([n])
    wb.save(tmp_path / "pivot.xlsx")
    monkeypatch.setattr(files, "MEMORY_PER_ROW", 10_000)
    monkeypatch.setattr(files, "read_memory_limit", lambda: 1_000_000)
    assert len(load_workbook(tmp_path / "pivot.xlsx").rows["Employees"]) == 1
