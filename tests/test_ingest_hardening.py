"""Ingestion under hostile or careless input (issue 12): non-finite numbers, rows that
are not people, ids that collide after normalisation, dates before 1900, damaged cell
XML, files that are not regular files, unreadable files. Each on a real .xlsx written
with openpyxl and read through ``load_workbook`` or the CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from talentrules.cli import cli
from talentrules.contract import SHEETS, Column, Sheet
from talentrules.errors import WorkbookError
from talentrules.ingest import load_workbook
from talentrules.model import Panel

AS_OF = dt.date(2026, 10, 31)
CYCLE = [["cycle_id", "as_of", "budget"], ["2026-H2", AS_OF, 60000]]
PEOPLE = [["employee_id", "full_name"], ["E1", "Ana"], ["E2", "Bo"]]


def write(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for tab, rows in sheets.items():
        ws = wb.create_sheet(tab)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def load(path: Path) -> Panel:
    panel = load_workbook(path)
    for account in panel.accounts:
        assert account.balanced, account
    return panel


def strict_json(text: str) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity, as strict parsers do."""

    def refuse(name: str) -> Any:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


# -- non-finite numbers ------------------------------------------------------------------

NUMERIC = [
    (sheet, column)
    for sheet in SHEETS
    for column in sheet.columns
    if column.kind in ("int", "number", "percent", "scale")
]
NON_FINITE: list[object] = ["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "1e999"]


def _sheet_with(sheet: Sheet, column: Column, value: object) -> dict[str, list[list[Any]]]:
    """The workbook: Cycle, Employees, and ``sheet`` whose one row has ``value`` in
    ``column`` and valid values in the columns every row needs."""
    sheets: dict[str, list[list[Any]]] = {"Cycle": CYCLE, "Employees": PEOPLE}
    needed = [c for c in sheet.columns if c.needed and c.name != column.name]
    header = [c.name for c in needed] + [column.name]
    row: list[Any] = []
    for c in needed:
        if c.kind == "id" or c.refers_to_employee:
            row.append("E1")
        elif c.values:
            row.append(next(iter(c.values)))
        elif c.kind == "date":
            row.append(AS_OF)
        else:
            row.append(c.example if c.example is not None else "x")
    row.append(value)
    if sheet.name == "Cycle":
        sheets["Cycle"] = [header, row]
    elif sheet.name == "Employees":
        sheets["Employees"] = [header + ["full_name"], [*row, "Ana"]]
        if "full_name" in header:
            sheets["Employees"] = [header, row]
    else:
        sheets[sheet.name] = [header, row]
    return sheets


@pytest.mark.parametrize(
    ("sheet", "column"), NUMERIC, ids=[f"{s.name}.{c.name}" for s, c in NUMERIC]
)
@pytest.mark.parametrize("value", NON_FINITE, ids=str)
def test_non_finite_text_is_an_error_at_its_cell(
    tmp_path: Path, sheet: Sheet, column: Column, value: object
) -> None:
    panel = load(write(tmp_path / "nan.xlsx", _sheet_with(sheet, column, value)))
    errors = [p for p in panel.errors if p.sheet == sheet.name]
    assert errors, f"{sheet.name}.{column.name} = {value!r} passed validation"
    letter = openpyxl.utils.get_column_letter(
        [c.name for c in sheet.columns if c.needed and c.name != column.name].__len__() + 1
    )
    (error,) = [p for p in errors if p.cell == f"{letter}2"]
    assert "finite" in error.message or "not a" in error.message, error


def rewrite(path: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Rewrite every member of the xlsx at ``path`` through ``change(name, body)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as src:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info.filename, change(info.filename, src.read(info)))
    path.write_bytes(out.getvalue())


def _stored(path: Path, number: str, stored: bytes) -> None:
    """Replace the stored number ``number`` in the first sheet's XML by ``stored``."""

    def change(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        assert f"<v>{number}</v>".encode() in body
        return body.replace(f"<v>{number}</v>".encode(), b"<v>" + stored + b"</v>")

    rewrite(path, change)


@pytest.mark.parametrize("stored", [b"NaN", b"nan", b"INF", b"-inf", b"1e999", b"-1E999"])
def test_non_finite_numbers_stored_in_number_cells_are_errors_at_their_cell(
    tmp_path: Path, stored: bytes
) -> None:
    # Excel never stores these, and openpyxl writes <v/> for them; a crafted or broken
    # writer can, and 1e999 is a well-formed number that overflows to infinity.
    path = write(
        tmp_path / "nan.xlsx",
        {"Cycle": [["cycle_id", "budget"], ["C", 12345]], "Employees": PEOPLE},
    )
    _stored(path, "12345", stored)
    panel = load(path)
    (error,) = panel.errors
    assert (error.sheet, error.cell) == ("Cycle", "B2") and "finite" in error.message, error


def test_a_nan_budget_is_refused_by_evaluate_and_never_reaches_the_outputs(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "nan.xlsx",
        {"Cycle": [["cycle_id", "as_of", "budget"], ["C", AS_OF, "nan"]], "Employees": PEOPLE},
    )
    result = CliRunner().invoke(cli, ["evaluate", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "Cycle!C2: 'nan' is not a finite number" in result.stderr
    assert not (tmp_path / "out").exists()


# -- damaged cell XML names the cell -------------------------------------------------------


@pytest.mark.parametrize(
    ("find", "replace", "cell"),
    [
        (b"<v>12345</v>", b"<v>12x45</v>", "Employees!C3"),  # not a number
        (b'<c r="C3" t="n"><v>12345</v>', b'<c r="C3" t="s"><v>999</v>', "Employees!C3"),
        (b'<c r="C3" t="n"><v>12345</v>', b'<c r="C3" t="d"><v>soon</v>', "Employees!C3"),
        (b'<c r="C3" t="n">', b'<c r="C3" t="n" s="bold">', "Employees!C3"),
    ],
    ids=["number", "shared string index", "ISO date", "style"],
)
def test_damaged_cell_xml_names_the_cell(
    tmp_path: Path, find: bytes, replace: bytes, cell: str
) -> None:
    path = write(
        tmp_path / "damaged.xlsx",
        {
            "Employees": [
                ["employee_id", "full_name", "direct_reports"],
                ["E1", "Ana", 1],
                ["E2", "Bo", 12345],
            ]
        },
    )

    def change(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        assert find in body, body
        return body.replace(find, replace)

    rewrite(path, change)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    message = result.stderr.strip()
    assert message == message.splitlines()[0], message
    assert f"{path}: {cell} is damaged and cannot be read" in message, message


def test_xml_broken_mid_sheet_names_the_last_row_read(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.xlsx", {"Employees": PEOPLE})

    def change(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        return body.replace(b'<row r="3"', b'<row r="3" <<')

    rewrite(path, change)
    with pytest.raises(WorkbookError, match="sheet 'Employees' is damaged after row 2"):
        load_workbook(path)


# -- files that are not readable regular files ---------------------------------------------

CLI = [sys.executable, "-c", "from talentrules.cli import cli; cli()"]


def _without_file_permission_override() -> None:
    """In the child, before exec: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the
    capability bounding set, so even root obeys a file's permission bits after exec."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _as_unprivileged(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the real CLI where file permissions apply: as is for a normal user; for root
    (CI runs as root) with the capabilities that bypass them dropped."""
    preexec = _without_file_permission_override if os.geteuid() == 0 else None
    try:
        return subprocess.run(
            [*CLI, *args], capture_output=True, text=True, timeout=120, preexec_fn=preexec
        )
    except subprocess.SubprocessError as error:
        if "prctl" in str(error):
            pytest.skip(f"cannot drop root's file-permission override here: {error}")
        raise


@pytest.mark.parametrize(
    "command",
    [["validate"], ["evaluate", "-o", "OUT"], ["explain", "E1"]],
    ids=lambda c: c[0],
)
def test_unreadable_workbook_is_one_sentence_exit_1(command: list[str]) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        path = write(folder / "locked.xlsx", {"Cycle": CYCLE, "Employees": PEOPLE})
        path.chmod(0)
        args = [a.replace("OUT", str(folder / "out")) for a in command]
        args.insert(2 if command[0] == "explain" else 1, str(path))
        done = _as_unprivileged(args)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr == (
            f"Error: {path}: cannot be read (permission denied: ask its owner for read "
            "access, or copy it somewhere readable)\n"
        )
        assert not (folder / "out").exists()
    finally:
        shutil.rmtree(folder)


def test_permission_error_maps_to_one_sentence_in_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same mapping at the function level, wherever the OS refuses the read."""
    path = write(tmp_path / "w.xlsx", {"Cycle": CYCLE, "Employees": PEOPLE})

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(WorkbookError, match="cannot be read \\(permission denied"):
        load_workbook(path)


def test_a_fifo_as_the_workbook_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    result = CliRunner().invoke(cli, ["validate", str(fifo)])
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: {fifo}: is not a regular file (a named pipe), not an Excel workbook\n"
    )


def test_a_symlink_to_dev_zero_as_the_workbook_is_not_a_regular_file(tmp_path: Path) -> None:
    link = tmp_path / "zero.xlsx"
    link.symlink_to("/dev/zero")
    for command in (["validate", str(link)], ["evaluate", str(link), "-o", str(tmp_path / "o")]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 1
        assert "is not a regular file (a device)" in result.stderr, result.stderr
        assert "empty" not in result.stderr


# -- rows are never dropped as "totals" when they are people ------------------------------


@pytest.mark.parametrize(
    "last",
    [
        ["Total 1", "Cy", 3],
        ["NB-7", "Cy", 3],
        ["E3", "Sum Wing Lee", 3],
        ["Total", "Cy Total", 3],
        ["Notes", "Cy", 3],
    ],
    ids=["id Total 1", "id NB-7", "named Sum Wing Lee", "id Total", "id Notes"],
)
def test_a_complete_last_row_with_an_id_is_a_person(tmp_path: Path, last: list[Any]) -> None:
    rows = [["employee_id", "full_name", "direct_reports"], ["E1", "Ana", 3], ["E2", "Bo", 4], last]
    panel = load(write(tmp_path / "w.xlsx", {"Cycle": CYCLE, "Employees": rows}))
    assert not panel.errors and not panel.warnings
    assert [r.get("employee_id") for r in panel.rows["Employees"]] == ["E1", "E2", last[0]]


def test_a_person_named_sum_in_the_first_column_is_loaded(tmp_path: Path) -> None:
    rows = [["full_name", "employee_id"], ["Ana", "E1"], ["Sum Wing Lee", "E9"]]
    panel = load(write(tmp_path / "w.xlsx", {"Cycle": CYCLE, "Employees": rows}))
    assert not panel.errors
    assert [r.get("full_name") for r in panel.rows["Employees"]] == ["Ana", "Sum Wing Lee"]


def test_a_totals_row_stops_evaluate_unless_allowed_and_is_then_listed(tmp_path: Path) -> None:
    rows = [["employee_id", "full_name", "direct_reports"], ["E1", "Ana", 3], [None, None, 3]]
    path = write(tmp_path / "w.xlsx", {"Cycle": CYCLE, "Employees": rows})
    refused = CliRunner().invoke(cli, ["evaluate", str(path), "-o", str(tmp_path / "a")])
    assert refused.exit_code == 1
    assert "Employees row 3: a totals or notes row below the data (no employee_id)" in (
        refused.stderr
    )
    allowed = CliRunner().invoke(
        cli, ["evaluate", str(path), "-o", str(tmp_path / "b"), "--allow-rejects"]
    )
    assert allowed.exit_code == 0, allowed.output
    assert "(1 rejected row," in allowed.stdout
    data = strict_json((tmp_path / "b" / "recommendations.json").read_text(encoding="utf-8"))
    assert [p["employee_id"] for p in data["people"]] == ["E1"]


# -- lookalike ids and dates before 1900 ----------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (unicodedata.normalize("NFC", "Café"), unicodedata.normalize("NFD", "Café")),
        ("ab-12", "AB-12"),
        ("STRASSE", "straße"),
    ],
    ids=["NFC/NFD", "case", "case folding"],
)
def test_ids_that_collide_after_normalisation_are_warned_about(
    tmp_path: Path, first: str, second: str
) -> None:
    rows = [["employee_id", "full_name"], [first, "Ana"], [second, "Bo"]]
    panel = load(write(tmp_path / "w.xlsx", {"Cycle": CYCLE, "Employees": rows}))
    assert not panel.errors and len(panel.rows["Employees"]) == 2
    warnings = [p for p in panel.warnings if "only in Unicode form or letter case" in p.message]
    assert [w.cell for w in warnings] == ["A2", "A3"]
    assert ascii(second) in warnings[0].message and ascii(first) in warnings[1].message


def test_distinct_ids_are_not_warned_about(tmp_path: Path) -> None:
    rows = [["employee_id", "full_name"], ["Cafe", "Ana"], ["Café", "Bo"]]
    panel = load(write(tmp_path / "w.xlsx", {"Cycle": CYCLE, "Employees": rows}))
    assert not panel.warnings


@pytest.mark.parametrize("serial", [-5, -40])
def test_a_date_cell_before_1900_is_warned_about(tmp_path: Path, serial: int) -> None:
    rows = [["employee_id", "full_name", "hire_date"], ["E1", "Ana", serial]]
    path = write(tmp_path / "w.xlsx", {"Cycle": CYCLE, "Employees": rows})
    book = openpyxl.load_workbook(path)
    book["Employees"]["C2"].number_format = "yyyy-mm-dd"
    book.save(path)
    panel = load(path)
    (warning,) = [p for p in panel.warnings if "before 1900" in p.message]
    assert (warning.sheet, warning.cell) == ("Employees", "C2")
    assert warning.message.startswith("hire_date: 1899-1")


def test_a_text_date_before_1900_is_warned_about(tmp_path: Path) -> None:
    rows = [["employee_id", "full_name", "hire_date"], ["E1", "Ana", "1826-03-01"]]
    panel = load(write(tmp_path / "w.xlsx", {"Cycle": CYCLE, "Employees": rows}))
    (warning,) = panel.warnings
    assert warning.cell == "C2" and "1826-03-01 is before 1900" in warning.message
