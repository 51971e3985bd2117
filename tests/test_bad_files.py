"""Files that are not usable workbooks: one clear sentence naming the file, exit 1, no
traceback; limits refused before the cells are read."""

from __future__ import annotations

import io
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
        ("MAX_CELLS", 100, "more than 100 cells"),
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
