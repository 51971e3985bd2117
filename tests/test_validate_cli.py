"""The ``validate`` command: exit codes 0/1/2, the text and json forms, its help."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from talentrules.cli import cli
from talentrules.ingest import files
from talentrules.paths import sample_workbook


def write(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for tab, rows in sheets.items():
        ws = wb.create_sheet(tab)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


CYCLE = [["cycle_id", "as_of"], ["2026-H2", dt.date(2026, 10, 31)]]


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return write(
        tmp_path / "clean.xlsx",
        {"Cycle": CYCLE, "Employees": [["employee_id", "full_name"], ["E1", "Ana"], ["E2", "Bo"]]},
    )


@pytest.fixture
def warned(tmp_path: Path) -> Path:
    """Usable, with a warning (a hidden sheet) and a note (an unknown sheet)."""
    path = write(
        tmp_path / "warned.xlsx",
        {
            "Cycle": CYCLE,
            "Employees": [["employee_id", "full_name", "direct_reports"], ["E1", "Ana", 2]],
            "Pivot": [["x"]],
        },
    )
    book = openpyxl.load_workbook(path)
    book["Cycle"].sheet_state = "hidden"
    book.save(path)
    return path


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """Two errors (a bad value, a totals row), a warning (a hidden sheet), a note."""
    path = write(
        tmp_path / "broken.xlsx",
        {
            "Cycle": CYCLE,
            "Employees": [
                ["employee_id", "full_name", "performance"],
                ["E1", "Ana", "Exceds"],
                ["E2", "Bo", 3],
                ["Total", None, 3],
            ],
            "Pivot": [["x"]],
        },
    )
    book = openpyxl.load_workbook(path)
    book["Cycle"].sheet_state = "hidden"
    book.save(path)
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["validate", *args])


def test_clean_workbook_exits_0_with_the_account(clean: Path) -> None:
    result = run(str(clean))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "sheet",
        "found",
        "as",
        "read",
        "loaded",
        "rejected",
        "blank",
        "ignored",
        "columns",
    ]
    assert lines[2].split() == ["Employees", "Employees", "2", "2", "0", "0", "-"]
    assert lines[3].split()[:2] == ["Evidence", "(absent)"]
    assert lines[-1] == f"{clean}: usable (0 errors, 0 warnings, 0 notes; 0 rows rejected)"
    assert result.stderr == ""


def test_warnings_alone_exit_0(warned: Path) -> None:
    result = run(str(warned))
    assert result.exit_code == 0, result.output
    assert f"{warned}: Cycle: sheet is hidden; it is read all the same" in result.stdout
    assert result.stdout.splitlines()[-1].endswith(
        "usable (0 errors, 1 warning, 1 note; 0 rows rejected)"
    )


def test_errors_exit_1_errors_first_then_warnings_then_notes(broken: Path) -> None:
    result = run(str(broken))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{broken}: Employees!C2: 'Exceds' is not a performance (a whole number 1-5 "
        "(1 Does not meet; 2 Partially meets; 3 Meets; 4 Exceeds; 5 Far exceeds)); "
        "did you mean 'Exceeds'?"
    )
    assert "Employees row 4: a totals or notes row below the data" in lines[1]
    assert "Cycle: sheet is hidden" in lines[2]
    assert "Pivot: sheet is not part of the workbook contract" in lines[3]
    assert lines[4] == ""
    account = next(line for line in lines if line.startswith("Employees"))
    assert account.split() == ["Employees", "Employees", "3", "1", "2", "0", "-"]
    assert "ignored sheets: Pivot" in lines
    assert lines[-1] == (
        f"{broken}: NOT usable: fix the errors above (2 errors, 1 warning, 1 note; 2 rows rejected)"
    )
    assert "Traceback" not in result.output


def test_json_format(broken: Path) -> None:
    result = run(str(broken), "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["usable"] is False
    assert report["counts"] == {"error": 2, "warning": 1, "info": 1, "rejected_rows": 2}
    assert report["tally"] == "2 errors, 1 warning, 1 note; 2 rows rejected"
    assert [p["severity"] for p in report["problems"]] == ["error", "error", "warning", "info"]
    first = report["problems"][0]
    assert (first["sheet"], first["cell"], first["value"], first["suggestion"]) == (
        "Employees",
        "C2",
        "Exceds",
        "Exceeds",
    )
    employees = report["accounts"][1]
    assert (employees["read"], employees["loaded"], employees["rejected"], employees["blank"]) == (
        3,
        1,
        2,
        0,
    )
    assert report["ignored_sheets"] == ["Pivot"]
    assert report["as_of"] == "2026-10-31"
    assert len(report["sha256"]) == 64


def test_json_format_clean_exits_0(clean: Path) -> None:
    result = run(str(clean), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["usable"] is True


@pytest.mark.parametrize(
    "args",
    [[], ["--format", "xml", "x.xlsx"], ["--nope", "x.xlsx"], ["a.xlsx", "b.xlsx"]],
    ids=["no-workbook", "bad-format", "unknown-option", "two-workbooks"],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.stderr


def test_not_a_workbook_exits_1_with_one_sentence(tmp_path: Path) -> None:
    result = run(str(tmp_path / "missing.xlsx"))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'missing.xlsx'}: no such file\n"


def test_help_ends_with_an_example_and_states_the_limits() -> None:
    result = CliRunner().invoke(cli, ["validate", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    help_text = cli.commands["validate"].help or ""
    assert help_text.strip().splitlines()[-1].strip().startswith("Example: talentrules validate ")
    assert "Example: talentrules validate" in text
    # The documented limits are the enforced ones.
    assert f"{files.MAX_FILE_BYTES // (1024 * 1024)} MB file" in text
    assert f"{files.MAX_UNCOMPRESSED_BYTES // (1024**3)} GB unpacked" in text
    assert f"unpacking ratio {files.MAX_COMPRESSION_RATIO} per part" in text
    assert f"repeated strings showing at most {files.MAX_TEXT_EXPANSION} times" in text
    assert "half this machine's memory" in text
    assert "right of column ZZ" in text and files.MAX_COLUMNS == 702


def test_shipped_samples(tmp_path: Path) -> None:
    assert run(str(sample_workbook("panel_review.xlsx"))).exit_code == 0
    assert run(str(sample_workbook("panel_review_vendor_export.xlsx"))).exit_code == 0
    result = run(str(sample_workbook("panel_review_broken.xlsx")), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert all(a["balanced"] for a in report["accounts"])
    assert report["counts"]["error"] >= 10
