"""Ingestion: headers, values, provenance, the row account and every validation rule,
each on a real .xlsx written with openpyxl and read back through ``load_workbook``."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from talentrules.ingest import load_workbook, validation_report
from talentrules.model import Panel, Problem

AS_OF = dt.date(2026, 10, 31)
CYCLE = [["cycle_id", "as_of", "budget"], ["2026-H2", AS_OF, 60000]]
PEOPLE = [
    ["employee_id", "full_name", "manager_id"],
    ["E1", "Ana", None],
    ["E2", "Bo", "E1"],
]

Sheets = dict[str, list[list[Any]]]


def write(
    tmp_path: Path,
    sheets: Sheets,
    edit: Callable[[openpyxl.Workbook], None] | None = None,
    name: str = "review.xlsx",
) -> Path:
    """A workbook with one tab per entry (rows as given), saved in tmp_path."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for tab, rows in sheets.items():
        ws = wb.create_sheet(tab)
        for row in rows:
            ws.append(row)
    if edit is not None:
        edit(wb)
    path = tmp_path / name
    wb.save(path)
    return path


def load(path: Path) -> Panel:
    """load_workbook, and the account must balance on every sheet of every fixture."""
    panel = load_workbook(path)
    for account in panel.accounts:
        assert account.balanced, account
    assert sum(a.rejected for a in panel.accounts) == len(panel.rejected)
    return panel


def book(tmp_path: Path, **extra: list[list[Any]]) -> Panel:
    """Cycle + Employees (overridable) + the given sheets, loaded."""
    sheets: Sheets = {"Cycle": CYCLE, "Employees": PEOPLE}
    sheets.update(extra)
    return load(write(tmp_path, sheets))


def one_value(tmp_path: Path, column: str, value: Any, fmt: str | None = None) -> Any:
    """Load an Employees sheet whose one person has ``value`` in ``column``."""

    def edit(wb: openpyxl.Workbook) -> None:
        if fmt:
            wb["Employees"]["C2"].number_format = fmt

    path = write(
        tmp_path,
        {"Cycle": CYCLE, "Employees": [["employee_id", "full_name", column], ["E1", "Ana", value]]},
        edit,
    )
    return load(path)


def value_of(panel: Panel, column: str) -> Any:
    rows = panel.rows["Employees"]
    assert len(rows) == 1, [str(p) for p in panel.errors]
    return rows[0].get(column)


def errors_at(panel: Panel, cell: str) -> list[Problem]:
    return [p for p in panel.errors if p.cell == cell]


# -- sheets and headers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["employee_id", "Employee ID", "EMPLOYEE-ID", "Person Number", "User ID", "Worker", "EmpID"],
)
def test_vendor_headers_for_employee_id(tmp_path: Path, header: str) -> None:
    panel = book(tmp_path, Employees=[[header, "Name"], ["E1", "Ana"]])
    assert panel.rows["Employees"][0].get("employee_id") == "E1"
    assert panel.rows["Employees"][0].get("full_name") == "Ana"


@pytest.mark.parametrize(
    ("header", "column", "raw", "expected"),
    [
        ("Flight Risk", "risk_of_loss", "High", "High"),
        ("Promotion Readiness", "readiness", "RN", "Ready now"),
        ("Performance Rating", "performance", "Exceeds", 4),
        ("Potential Rating", "potential", "High", 3),
    ],
)
def test_vendor_headers_and_labels(
    tmp_path: Path, header: str, column: str, raw: str, expected: Any
) -> None:
    assert value_of(one_value(tmp_path, header, raw), column) == expected


@pytest.mark.parametrize("tab", ["Employees", "employees", "PEOPLE", "Workers", "Talent"])
def test_sheet_names_and_aliases(tmp_path: Path, tab: str) -> None:
    panel = load(write(tmp_path, {"Cycle": CYCLE, tab: PEOPLE}))
    assert panel.found["Employees"] == tab
    assert [r.get("employee_id") for r in panel.rows["Employees"]] == ["E1", "E2"]


def test_header_row_is_the_first_non_empty_row(tmp_path: Path) -> None:
    rows: list[list[Any]] = [[], [], [None, "employee_id", "full_name"], [None, "E1", "Ana"]]
    panel = book(tmp_path, Employees=rows)
    assert panel.rows["Employees"][0].ref("employee_id") == "Employees!B4"
    assert panel.accounts[1].read == 1


def test_unknown_sheet_and_column_are_listed_as_ignored(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "Cycle": CYCLE,
            "Employees": [["employee_id", "full_name", "Cost Centre"], ["E1", "Ana", "CC-1"]],
            "Pivot": [["x"], [1]],
        },
    )
    panel = load(path)
    assert panel.ignored_sheets == ["Pivot"]
    assert panel.accounts[1].ignored_columns == ["Cost Centre"]
    assert "Cost Centre" not in panel.rows["Employees"][0].cells
    assert not panel.errors
    texts = [str(p) for p in panel.problems]
    assert any("Pivot: sheet is not part of the workbook contract: ignored" in t for t in texts)
    assert any("Employees!C1: column 'Cost Centre'" in t for t in texts)


def test_near_miss_column_is_a_warning_with_a_suggestion(tmp_path: Path) -> None:
    panel = book(tmp_path, Employees=[["employee_id", "full_name", "Perfromance"], ["E1", "A", 3]])
    (warning,) = [p for p in panel.warnings if p.cell == "C1"]
    assert warning.suggestion == "performance"


def test_protected_column_outside_demographics_is_ignored(tmp_path: Path) -> None:
    panel = book(tmp_path, Employees=[["employee_id", "full_name", "Gender"], ["E1", "Ana", "F"]])
    (warning,) = [p for p in panel.warnings if p.cell == "C1"]
    assert "protected characteristic" in warning.message
    assert "Gender" in panel.accounts[1].ignored_columns
    assert all(v.value != "F" for v in panel.rows["Employees"][0].cells.values())


def test_protected_columns_load_on_demographics(tmp_path: Path) -> None:
    panel = book(
        tmp_path, Demographics=[["employee_id", "Gender", "Age Group"], ["E1", "F", "35-44"]]
    )
    assert panel.rows["Demographics"][0].get("sex") == "F"
    assert panel.rows["Demographics"][0].get("age_band") == "35-44"
    assert not panel.warnings


def test_two_headers_for_one_column_is_an_error_naming_both(tmp_path: Path) -> None:
    panel = book(tmp_path, Employees=[["employee_id", "full_name", "Worker"], ["E1", "Ana", "E9"]])
    (error,) = panel.errors
    assert error.cell == "C1" and "A1" in error.message and "employee_id" in error.message
    assert panel.rows["Employees"] == [] and panel.rejected[0].reasons == (error,)


def test_two_tabs_for_one_sheet_is_an_error(tmp_path: Path) -> None:
    panel = load(write(tmp_path, {"Cycle": CYCLE, "Employees": PEOPLE, "People": PEOPLE}))
    assert any("'Employees' and 'People'" in p.message for p in panel.errors)
    assert panel.ignored_sheets == ["People"]


def test_missing_required_sheet(tmp_path: Path) -> None:
    panel = load(write(tmp_path, {"Cycle": CYCLE}))
    assert [p.message for p in panel.errors] == ["missing required sheet Employees"]
    assert panel.accounts[1].found_as is None and panel.accounts[1].read == 0


def test_missing_required_column_rejects_every_row(tmp_path: Path) -> None:
    panel = book(tmp_path, Employees=[["employee_id", "Job Title"], ["E1", "Analyst"]])
    (error,) = panel.errors
    assert "missing required column full_name" in error.message
    assert panel.rows["Employees"] == []
    assert panel.rejected[0].reasons == (error,)


# -- values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fmt", "expected"),
    [
        (42, "00000", "00042"),
        (42, '"E"0000', "E0042"),
        (42.0, None, "42"),
        (42, None, "42"),
        ("  00042 ", None, "00042"),
        ("E-7", None, "E-7"),
    ],
)
def test_employee_ids_are_text(tmp_path: Path, raw: Any, fmt: str | None, expected: str) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        if fmt:
            wb["Employees"]["A2"].number_format = fmt

    path = write(
        tmp_path, {"Cycle": CYCLE, "Employees": [["employee_id", "full_name"], [raw, "Ana"]]}, edit
    )
    assert load(path).rows["Employees"][0].get("employee_id") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (4, 4),
        (4.0, 4),
        ("4", 4),
        ("Exceeds", 4),
        ("exceeds expectations", 4),
        ("4 - Exceeds expectations", 4),
        ("Far exceeds", 5),
        ("Does not meet", 1),
    ],
)
def test_scale_numbers_and_labels(tmp_path: Path, raw: Any, expected: int) -> None:
    assert value_of(one_value(tmp_path, "performance", raw), "performance") == expected


@pytest.mark.parametrize(
    ("raw", "words", "suggestion"),
    [
        (3.5, "3.5 is not a whole number", None),
        (7, "7 is out of range", None),
        (0, "0 is out of range", None),
        ("Exceds", "'Exceds' is not a performance", "Exceeds"),
        ("4 - Far exceeds", "says both 4 and 5", None),
        (True, "is not a performance", None),
    ],
)
def test_scale_errors_name_the_cell_and_what_is_allowed(
    tmp_path: Path, raw: Any, words: str, suggestion: str | None
) -> None:
    panel = one_value(tmp_path, "performance", raw)
    (error,) = errors_at(panel, "C2")
    assert words in error.message and "1-5" in error.message
    assert error.suggestion == suggestion
    assert panel.rows["Employees"] == [] and panel.rejected[0].number == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("RN", "Ready now"),
        ("R12", "Ready 1-2 years"),
        ("Ready now", "Ready now"),
        ("Ready in 1-2 years", "Ready 1-2 years"),
        ("ready 1-2 YEARS", "Ready 1-2 years"),
    ],
)
def test_readiness_labels(tmp_path: Path, raw: str, expected: str) -> None:
    assert value_of(one_value(tmp_path, "readiness", raw), "readiness") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Y", True),
        ("N", False),
        ("Yes", True),
        ("no", False),
        ("TRUE", True),
        ("False", False),
        (1, True),
        (0, False),
        ("1", True),
        (True, True),
        (False, False),
    ],
)
def test_yes_no(tmp_path: Path, raw: Any, expected: bool) -> None:
    assert value_of(one_value(tmp_path, "is_people_manager", raw), "is_people_manager") is expected


def test_yes_no_unknown_is_an_error(tmp_path: Path) -> None:
    (error,) = errors_at(one_value(tmp_path, "is_people_manager", "maybe"), "C2")
    assert "'maybe' is not yes or no" in error.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (dt.date(2026, 3, 31), dt.date(2026, 3, 31)),
        (dt.datetime(2026, 3, 31, 14, 5), dt.date(2026, 3, 31)),
        ("2026-03-31", dt.date(2026, 3, 31)),
        ("2026-03-31T00:00:00", dt.date(2026, 3, 31)),
        ("31/03/2026", dt.date(2026, 3, 31)),
        ("03/31/2026", dt.date(2026, 3, 31)),
        ("31.03.2026", dt.date(2026, 3, 31)),
        ("31-03-2026", dt.date(2026, 3, 31)),
        ("2026/03/31", dt.date(2026, 3, 31)),
        ("31 Mar 2026", dt.date(2026, 3, 31)),
        ("31 March 2026", dt.date(2026, 3, 31)),
        ("Mar 31, 2026", dt.date(2026, 3, 31)),
        ("March 31 2026", dt.date(2026, 3, 31)),
        ("04/04/2026", dt.date(2026, 4, 4)),
        (46112, dt.date(2026, 3, 31)),  # an Excel serial in a General-formatted cell
    ],
)
def test_dates(tmp_path: Path, raw: Any, expected: dt.date) -> None:
    assert value_of(one_value(tmp_path, "hire_date", raw), "hire_date") == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("03/04/2026", "ambiguous date '03/04/2026'"),
        ("4.5.2026", "ambiguous date"),
        ("31/03/26", "four digits"),
        ("31/02/2026", "not a real date"),
        ("next Tuesday", "is not a date"),
        (2026, "the number 2026 is not a date"),
    ],
)
def test_date_errors_name_the_cell(tmp_path: Path, raw: Any, words: str) -> None:
    panel = one_value(tmp_path, "hire_date", raw)
    (error,) = errors_at(panel, "C2")
    assert words in error.message
    assert str(error).startswith(f"{tmp_path / 'review.xlsx'}: Employees!C2: ")


@pytest.mark.parametrize(
    ("raw", "fmt", "expected"),
    [
        (0.92, "0%", 92),
        (0.925, "0.0%", 92.5),
        (92, None, 92),
        ("92%", None, 92),
        ("7.5", None, 7.5),
    ],
)
def test_percent(tmp_path: Path, raw: Any, fmt: str | None, expected: float) -> None:
    assert load(engagement_book(tmp_path, raw, fmt)).rows["Teams"][0].get("engagement") == expected


def engagement_book(tmp_path: Path, raw: Any, fmt: str | None) -> Path:
    """A workbook whose one team has ``raw`` as engagement (Teams!B2), in format ``fmt``."""

    def edit(wb: openpyxl.Workbook) -> None:
        if fmt:
            wb["Teams"]["B2"].number_format = fmt

    return write(
        tmp_path,
        {"Cycle": CYCLE, "Employees": PEOPLE, "Teams": [["manager_id", "engagement"], ["E1", raw]]},
        edit,
    )


@pytest.mark.parametrize(
    ("raw", "fmt", "warned"),
    [(0.92, None, True), (0.5, "General", True), (0.92, "0%", False), (92, None, False)],
)
def test_a_fraction_in_a_plain_percent_cell_is_loaded_with_a_warning(
    tmp_path: Path, raw: Any, fmt: str | None, warned: bool
) -> None:
    # 0.92 typed into an unformatted cell reads as 0.92 %; the panel most likely meant
    # 92 %, but it may be a real 0.92 % (attrition): loaded as read, and flagged.
    path = engagement_book(tmp_path, raw, fmt)
    panel = load(path)
    assert panel.rows["Teams"][0].get("engagement") == (
        raw if fmt is None or "%" not in fmt else 92
    )
    found = [str(p) for p in panel.problems if p.severity == "warning" and p.cell == "B2"]
    if warned:
        shown = f"{raw * 100:g}"
        assert found == [
            f"{path}: Teams!B2: engagement: {raw:g} is read as {raw:g} %; if "
            f"{shown} % was meant, enter {shown} or format the cell as a percentage"
        ]
    else:
        assert found == []


def test_out_of_range_numbers(tmp_path: Path) -> None:
    panel = book(
        tmp_path,
        Teams=[["manager_id", "engagement", "team_size"], ["E1", 120, -1], ["E2", 50, 2.5]],
    )
    messages = {p.cell: p.message for p in panel.errors}
    assert "120 is out of range for engagement" in messages["B2"]
    assert "-1 is out of range for team_size" in messages["C2"]
    assert "2.5 is not a whole number" in messages["C3"]
    assert panel.rows["Teams"] == []


def test_enum_aliases_store_the_canonical_spelling(tmp_path: Path) -> None:
    panel = book(
        tmp_path,
        Evidence=[
            ["employee_id", "signal", "observed_on", "source_type", "frequency", "energy"],
            ["E1", "h-dev", AS_OF, "colleague", "Regular", "Energized"],
        ],
    )
    row = panel.rows["Evidence"][0]
    assert (row.get("signal"), row.get("source_type"), row.get("frequency")) == (
        "H-DEV",
        "Peer",
        "Habitual",
    )
    assert row.get("energy") == "Energised"


def test_unknown_enum_did_you_mean(tmp_path: Path) -> None:
    panel = book(
        tmp_path,
        Evidence=[
            ["employee_id", "signal", "observed_on", "source_type", "frequency"],
            ["E1", "H-DEV", AS_OF, "Peer", "Habitualy"],
            ["E1", "H-XYZ", AS_OF, "Peer", "Habitual"],
        ],
    )
    by_cell = {p.cell: p for p in panel.errors}
    assert str(by_cell["E2"]).endswith(
        "Evidence!E2: 'Habitualy' is not a frequency (One-off, Occasional, Habitual); "
        "did you mean 'Habitual'?"
    )
    assert by_cell["E2"].value == "Habitualy"
    assert "'H-XYZ' is not a signal" in by_cell["B3"].message
    assert len(panel.rejected) == 2


# -- provenance, blanks and the account ------------------------------------------------


def test_every_cell_keeps_its_provenance(tmp_path: Path) -> None:
    panel = book(tmp_path, Employees=[["full_name", "Worker"], ["Ana", "E1"], ["Bo", "E2"]])
    row = panel.rows["Employees"][1]
    assert row.number == 3
    assert row.cells["employee_id"].ref == "Employees!B3"
    assert row.cells["full_name"].ref == "Employees!A3"
    # A column the sheet does not have: blank, pointing at the column.
    assert row.cells["job_title"].ref == "Employees!job_title"
    assert set(row.cells) == {c.name for c in __import__("talentrules").contract.EMPLOYEES.columns}


def test_provenance_uses_the_tab_name_as_in_the_workbook(tmp_path: Path) -> None:
    panel = load(write(tmp_path, {"Review Cycle": CYCLE, "People": PEOPLE}))
    assert panel.rows["Employees"][0].ref("full_name") == "People!B2"
    assert panel.rows["Employees"][0].sheet == "Employees"
    assert panel.cycle is not None and panel.cycle.ref("as_of") == "Review Cycle!B2"


def test_blank_is_unknown_never_no_or_zero(tmp_path: Path) -> None:
    panel = book(
        tmp_path,
        Employees=[
            ["employee_id", "full_name", "is_people_manager", "direct_reports", "performance"],
            ["E1", "Ana", None, None, "  "],
        ],
    )
    row = panel.rows["Employees"][0]
    for name in ("is_people_manager", "direct_reports", "performance"):
        assert row.get(name) is None and not row.cells[name].known, name
    assert row.cells["direct_reports"].ref == "Employees!D2"


def test_row_account_blank_rows_example_rows_and_trailing_blanks(tmp_path: Path) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        wb["Employees"]["B30"].value = None  # a styled-but-empty row far below: not read
        wb["Employees"]["B30"].number_format = "0"

    rows: list[list[Any]] = [
        ["employee_id", "full_name"],
        ["e.g. E0001", "Ana Example"],
        ["E1", "Ana"],
        [],
        ["E2", None],
        [None, None],
        ["E3", "Cy"],
        [],
        [],
    ]
    panel = load(write(tmp_path, {"Cycle": CYCLE, "Employees": rows}, edit))
    account = panel.accounts[1]
    assert (account.read, account.loaded, account.rejected, account.blank) == (6, 2, 1, 3)
    assert any("worked example row" in p.message and p.severity == "info" for p in panel.problems)


def test_example_row_marked_EXAMPLE_is_skipped(tmp_path: Path) -> None:
    panel = book(tmp_path, Employees=[["employee_id", "full_name"], ["EXAMPLE: E1", "Ana"]])
    assert panel.rows["Employees"] == []
    # Skipped, not rejected: the only error is that nobody is left to evaluate.
    assert [p.message for p in panel.errors] == [
        "no usable row: nobody to evaluate (fill in one row per person under review)"
    ]
    assert panel.accounts[1].blank == 1


def test_template_round_trip_validates(tmp_path: Path) -> None:
    from talentrules.template import write_template

    panel = load(write_template(tmp_path / "t.xlsx"))
    # The worked examples are skipped; the Investments sheet holds the default catalogue
    # (real rows: the panel edits them); nobody is there to evaluate yet, which validate
    # says as evaluate would.
    assert [p.message for p in panel.errors] == [
        "no usable row: nobody to evaluate (fill in one row per person under review)"
    ]
    for account in panel.accounts:
        if account.sheet == "Investments":
            assert account.blank == 1 and account.loaded == 14
        else:
            assert account.blank == 1 and account.loaded == 0, account


# -- validation rules ------------------------------------------------------------------


def test_needed_column_blank_is_an_error(tmp_path: Path) -> None:
    panel = book(tmp_path, Employees=[["employee_id", "full_name"], ["E1", None], ["E2", "Bo"]])
    (error,) = panel.errors
    assert error.cell == "B2" and "full_name is needed" in error.message
    assert [r.get("employee_id") for r in panel.rows["Employees"]] == ["E2"]


def test_duplicate_employee_id_rejects_every_copy(tmp_path: Path) -> None:
    rows = [["employee_id", "full_name"], ["E1", "Ana"], ["E2", "Bo"], ["E1", "Ann"], ["E1", "A"]]
    panel = book(tmp_path, Employees=rows)
    messages = {p.cell: p.message for p in panel.errors}
    assert messages == {
        "A2": "duplicate employee_id 'E1': also in A4, A5",
        "A4": "duplicate employee_id 'E1': also in A2, A5",
        "A5": "duplicate employee_id 'E1': also in A2, A4",
    }
    assert [r.get("employee_id") for r in panel.rows["Employees"]] == ["E2"]


def test_duplicate_unique_keys_on_other_sheets(tmp_path: Path) -> None:
    panel = book(
        tmp_path,
        Teams=[["manager_id", "team_size"], ["E1", 3], ["E1", 4]],
        Investments=[["investment_code", "name"], ["LEAD-PROG", "a"], ["LEAD-PROG", "b"]],
    )
    assert {(p.sheet, p.cell) for p in panel.errors} == {
        ("Teams", "A2"),
        ("Teams", "A3"),
        ("Investments", "A2"),
        ("Investments", "A3"),
    }


EVIDENCE_HEAD = ["employee_id", "signal", "observed_on", "source_type"]


@pytest.mark.parametrize(
    ("tab", "rows", "cell"),
    [
        ("Employees", [["employee_id", "full_name", "manager_id"], ["E1", "A", "E404"]], "C2"),
        ("Evidence", [EVIDENCE_HEAD, ["E404", "H-DEV", AS_OF, "Peer"]], "A2"),
        (
            "Nominations",
            [["nominator_id", "nominee_id", "reason"], ["X", "E404", "Personal"]],
            "B2",
        ),
        ("Teams", [["manager_id", "team_size"], ["E404", 3]], "A2"),
        ("Development", [["employee_id", "investment_code"], ["E404", "LEAD-PROG"]], "A2"),
        (
            "Overrides",
            [
                ["employee_id", "field", "decision", "reason", "decided_by"],
                ["E404", "track", "x", "y", "z"],
            ],
            "A2",
        ),
        ("Demographics", [["employee_id", "sex"], ["E404", "F"]], "A2"),
    ],
)
def test_references_to_unknown_people(
    tmp_path: Path, tab: str, rows: list[list[Any]], cell: str
) -> None:
    sheets: Sheets = {"Cycle": CYCLE, "Employees": [["employee_id", "full_name"], ["E1", "Ana"]]}
    sheets[tab] = rows
    panel = load(write(tmp_path, sheets))
    (error,) = panel.errors
    assert (error.sheet, error.cell) == (tab, cell)
    assert "'E404' is not an employee_id in the Employees sheet" in error.message
    assert panel.rows[tab] == [] or tab == "Employees"


def test_reference_near_miss_suggests_the_zero_padded_id(tmp_path: Path) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        wb["Employees"]["A2"].number_format = "00000"

    sheets: Sheets = {
        "Cycle": CYCLE,
        "Employees": [["employee_id", "full_name"], [42, "Ana"]],
        "Evidence": [EVIDENCE_HEAD, [42, "H-DEV", AS_OF, "Peer"]],
    }
    (error,) = load(write(tmp_path, sheets, edit)).errors
    assert error.cell == "A2" and error.suggestion == "00042"


def test_nominator_may_be_a_pseudonym(tmp_path: Path) -> None:
    panel = book(
        tmp_path,
        Nominations=[["nominator_id", "nominee_id", "reason"], ["anon-7", "E1", "Personal"]],
    )
    assert not panel.errors and len(panel.rows["Nominations"]) == 1


def test_dates_after_as_of_are_errors(tmp_path: Path) -> None:
    late = AS_OF + dt.timedelta(days=1)
    panel = book(
        tmp_path,
        Employees=[
            ["employee_id", "full_name", "hire_date"],
            ["E1", "Ana", late],
            ["E2", "Bo", AS_OF],
        ],
        Evidence=[EVIDENCE_HEAD, ["E2", "H-DEV", late, "Peer"]],
    )
    assert {(p.sheet, p.cell) for p in panel.errors} == {("Employees", "C2"), ("Evidence", "C2")}
    assert "after the cycle's as_of date 2026-10-31" in panel.errors[0].message


def test_as_of_missing_falls_back_to_latest_evidence_with_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "Employees": PEOPLE,
            "Evidence": [
                EVIDENCE_HEAD,
                ["E1", "H-DEV", dt.date(2026, 5, 1), "Peer"],
                ["E2", "H-DEV", "2026-06-02", "Peer"],
            ],
        },
    )
    panel = load(path)
    assert panel.as_of == dt.date(2026, 6, 2) == panel.fallback_as_of
    (warning,) = panel.warnings
    assert "no Cycle sheet" in warning.message and "2026-06-02" in warning.message
    assert not panel.errors
    assert validation_report(panel)["as_of_is_fallback"] is True


def test_as_of_present_is_used(tmp_path: Path) -> None:
    panel = book(tmp_path)
    assert panel.as_of == AS_OF and panel.fallback_as_of is None
    assert not panel.problems


def test_cycle_has_one_row(tmp_path: Path) -> None:
    panel = book(tmp_path, Cycle=CYCLE + [["2027-H1", AS_OF, 1]])
    (error,) = panel.errors
    assert error.cell == "row 3" and "one row" in error.message
    assert panel.cycle is not None and panel.cycle.get("cycle_id") == "2026-H2"


@pytest.mark.parametrize(
    "code", ["#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]
)
def test_excel_error_cells(tmp_path: Path, code: str) -> None:
    panel = book(tmp_path, Teams=[["manager_id", "engagement"], ["E1", code]])
    (error,) = panel.errors
    assert error.cell == "B2" and f"Excel error {code}" in error.message


def _with_cached_value(path: Path, member: str, formula: str, cached: str) -> None:
    """openpyxl writes formulas without a cached value; add one as Excel would."""
    data = io.BytesIO(path.read_bytes())
    out = io.BytesIO()
    with zipfile.ZipFile(data) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == member:
                old = f"<f>{formula}</f><v />".encode()
                assert old in body, body[:500]
                body = body.replace(old, f"<f>{formula}</f><v>{cached}</v>".encode())
            dst.writestr(info, body)
    path.write_bytes(out.getvalue())


def test_formula_with_no_cached_value_is_an_error(tmp_path: Path) -> None:
    panel = book(
        tmp_path, Teams=[["manager_id", "team_size", "engagement"], ["E1", "=1+2", "=1/0"]]
    )
    cells = {p.cell: p.message for p in panel.errors}
    assert "formula with no cached value: open and save the workbook in Excel" in cells["B2"]
    assert set(cells) == {"B2", "C2"}


def test_formula_with_a_cached_value_loads_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "Cycle": CYCLE,
            "Employees": PEOPLE,
            "Teams": [["manager_id", "team_size"], ["E1", "=1+2"]],
        },
    )
    _with_cached_value(path, "xl/worksheets/sheet3.xml", "1+2", "3")
    panel = load(path)
    assert not panel.errors
    assert panel.rows["Teams"][0].get("team_size") == 3


def test_merged_cells_inside_the_data(tmp_path: Path) -> None:
    rows = [
        ["employee_id", "full_name", "job_title"],
        ["E1", "Ana", "Analyst"],
        ["E2", "Bo"],
        ["E3", "Cy", "X"],
    ]
    path = write(
        tmp_path,
        {"Cycle": CYCLE, "Employees": rows},
        lambda wb: wb["Employees"].merge_cells("C2:C3"),
    )
    panel = load(path)
    (error,) = panel.errors
    assert error.cell == "C2:C3" and "merged cells C2:C3 inside the data" in error.message
    assert str(error).endswith(
        "Employees!C2:C3: merged cells C2:C3 inside the data: unmerge them and fill every cell"
    )
    assert [r.get("employee_id") for r in panel.rows["Employees"]] == ["E3"]
    assert [r.reasons for r in panel.rejected] == [(error,), (error,)]


def test_merged_header_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {"Cycle": CYCLE, "Employees": [["employee_id", "full_name", None], ["E1", "Ana", "x"]]},
        lambda wb: wb["Employees"].merge_cells("B1:C1"),
    )
    assert any(p.cell == "B1:C1" and "header row" in p.message for p in load(path).errors)


@pytest.mark.parametrize(
    "trailer",
    [
        ["Total", None, 7],
        ["Totals:", None, 7],
        ["Notes: two people joined late", None, None],
        [None, None, 7],  # a SUM with no id
        [None, "figures from HR, March", None],  # a single note with no id
    ],
)
def test_totals_or_notes_row_below_the_data(tmp_path: Path, trailer: list[Any]) -> None:
    rows = [
        ["employee_id", "full_name", "direct_reports"],
        ["E1", "Ana", 3],
        ["E2", "Bo", 4],
        [],
        trailer,
    ]
    panel = book(tmp_path, Employees=rows)
    # Not a person, so not loaded; an error, since a row left out is a loss unless the
    # panel says so (--allow-rejects), and then it is listed with the rejected rows.
    (error,) = panel.errors
    assert error.cell == "row 5" and "a totals or notes row below the data" in error.message
    assert "--allow-rejects" in error.message and not panel.warnings
    account = panel.accounts[1]
    assert (account.read, account.loaded, account.rejected, account.blank) == (4, 2, 1, 1)
    assert panel.rejected[0].number == 5 and panel.rejected[0].reasons == (error,)


def test_a_note_like_row_inside_the_data_is_read_as_data(tmp_path: Path) -> None:
    rows = [
        ["employee_id", "full_name", "direct_reports"],
        ["E1", "Ana", 3],
        [None, None, 7],
        ["E2", "Bo", 4],
    ]
    panel = book(tmp_path, Employees=rows)
    assert [p.cell for p in panel.errors] == ["A3", "B3"]  # needed values missing


def test_merged_totals_row_below_the_data_is_one_error(tmp_path: Path) -> None:
    rows = [["employee_id", "full_name", "direct_reports"], ["E1", "Ana", 3], ["Total", None, 3]]
    path = write(
        tmp_path,
        {"Cycle": CYCLE, "Employees": rows},
        lambda wb: wb["Employees"].merge_cells("A3:B3"),
    )
    panel = load(path)
    (error,) = panel.errors
    assert "totals or notes row" in error.message and not panel.warnings


def test_hidden_sheet_is_read_with_a_warning(tmp_path: Path) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        wb["Cycle"].sheet_state = "hidden"

    panel = load(write(tmp_path, {"Cycle": CYCLE, "Employees": PEOPLE}, edit))
    (warning,) = panel.warnings
    assert warning.sheet == "Cycle" and "hidden" in warning.message
    assert panel.as_of == AS_OF


def test_values_in_a_column_without_header(tmp_path: Path) -> None:
    panel = book(tmp_path, Employees=[["employee_id", "full_name"], ["E1", "Ana", "stray"]])
    (warning,) = panel.warnings
    assert warning.cell == "column C" and "no header" in warning.message
    assert str(warning).endswith(
        "Employees column C: 1 value(s) in column C, which has no header: ignored"
    )


def test_development_end_before_start(tmp_path: Path) -> None:
    panel = book(
        tmp_path,
        Development=[
            ["employee_id", "investment_code", "started", "ended"],
            ["E1", "LEAD-PROG", dt.date(2025, 6, 1), dt.date(2025, 1, 1)],
        ],
    )
    (error,) = panel.errors
    assert error.cell == "D2" and "before started" in error.message


def test_all_problems_in_one_pass(tmp_path: Path) -> None:
    panel = book(
        tmp_path,
        Employees=[
            ["employee_id", "full_name", "performance", "readiness", "hire_date"],
            ["E1", "Ana", 9, "Soon", "03/04/2026"],
            ["E2", None, "Meets", "RN", AS_OF],
        ],
    )
    assert {p.cell for p in panel.errors} == {"C2", "D2", "E2", "B3"}
    assert [len(r.reasons) for r in panel.rejected] == [3, 1]


def test_validation_report_is_json_ready(tmp_path: Path) -> None:
    import json

    panel = book(
        tmp_path, Employees=[["employee_id", "full_name", "hire_date"], ["E1", "Ana", "03/04/2026"]]
    )
    report = json.loads(json.dumps(validation_report(panel)))
    assert report["usable"] is False and report["counts"]["error"] == 1
    assert report["as_of"] == "2026-10-31"
    assert report["problems"][0]["cell"] == "C2"
    assert report["accounts"][1] == {
        "sheet": "Employees",
        "found_as": "Employees",
        "read": 1,
        "loaded": 0,
        "rejected": 1,
        "blank": 0,
        "ignored_columns": [],
        "balanced": True,
    }


def test_sample_workbooks_load_to_the_same_facts() -> None:
    from talentrules.paths import sample_workbook

    plain = load(sample_workbook("panel_review.xlsx"))
    vendor = load(sample_workbook("panel_review_vendor_export.xlsx"))
    assert not plain.errors and not vendor.errors
    for sheet, rows in plain.rows.items():
        assert [{k: c.value for k, c in r.cells.items()} for r in rows] == [
            {k: c.value for k, c in r.cells.items()} for r in vendor.rows[sheet]
        ], sheet


# -- the streaming reader against openpyxl ---------------------------------------------

_INLINE = re.compile(rb'<c ([^>]*?)t="inlineStr"([^>]*)><is><t(?: [^>]*)?>(.*?)</t></is></c>')
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def to_shared_strings(path: Path, extra: bytes = b"") -> int:
    """Rewrite an openpyxl workbook (inline strings) the way Excel stores text: in
    xl/sharedStrings.xml. ``extra`` is appended to the table; returns its index."""
    table: list[bytes] = []

    def shared(match: re.Match[bytes]) -> bytes:
        table.append(match.group(3))
        return (
            b"<c "
            + match.group(1)
            + b't="s"'
            + match.group(2)
            + b"><v>%d</v></c>" % (len(table) - 1)
        )

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                body = _INLINE.sub(shared, body)
            elif info.filename == "[Content_Types].xml":
                body = body.replace(
                    b"</Types>",
                    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_TYPE}"/>'
                    "</Types>".encode(),
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                body = body.replace(
                    b"</Relationships>",
                    f'<Relationship Id="rIdS" Type="{SST_REL}" Target="sharedStrings.xml"/>'
                    "</Relationships>".encode(),
                )
            dst.writestr(info, body)
        items = b"".join(b"<si><t>" + t + b"</t></si>" for t in table) + extra
        dst.writestr(
            "xl/sharedStrings.xml",
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + items
            + b"</sst>",
        )
    path.write_bytes(out.getvalue())
    return len(table)


def _facts(panel: Panel) -> dict[str, list[dict[str, Any]]]:
    return {
        s: [{k: (c.value, c.ref) for k, c in r.cells.items()} for r in rows]
        for s, rows in panel.rows.items()
    }


def test_shared_strings_read_like_inline_strings(tmp_path: Path) -> None:
    from talentrules.paths import sample_workbook

    copy = tmp_path / "excel-style.xlsx"
    copy.write_bytes(sample_workbook("panel_review_broken.xlsx").read_bytes())
    assert to_shared_strings(copy) > 100
    original, shared = load(sample_workbook("panel_review_broken.xlsx")), load(copy)
    assert _facts(shared) == _facts(original)
    assert [p.message for p in shared.problems] == [p.message for p in original.problems]


def test_rich_text_shared_string_drops_phonetic_hints(tmp_path: Path) -> None:
    path = write(
        tmp_path, {"Cycle": CYCLE, "Employees": [["employee_id", "full_name"], ["E1", "x"]]}
    )
    rich = (
        b"<si><r><rPr><b/></rPr><t>Ana </t></r><r><t>Example</t></r>"
        b'<rPh sb="0" eb="1"><t>hint</t></rPh></si>'
    )
    index = to_shared_strings(path, rich)
    body = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = re.sub(rb'(<c r="B2"[^>]*><v>)\d+(</v>)', rb"\g<1>%d\g<2>" % index, data)
            dst.writestr(info, data)
    path.write_bytes(out.getvalue())
    assert openpyxl.load_workbook(path)["Employees"]["B2"].value == "Ana Example"
    assert load(path).rows["Employees"][0].get("full_name") == "Ana Example"


def test_reader_values_match_openpyxl_on_every_cell(tmp_path: Path) -> None:
    """Every stored cell of the shipped samples reads as openpyxl reads it."""
    from talentrules.ingest.files import scan_file
    from talentrules.ingest.sheetrows import read_rows
    from talentrules.ingest.xlsx import read_book
    from talentrules.paths import sample_workbook

    for name in (
        "panel_review.xlsx",
        "panel_review_vendor_export.xlsx",
        "panel_review_broken.xlsx",
    ):
        path = sample_workbook(name)
        reference = openpyxl.load_workbook(path, data_only=True)
        scan = scan_file(path, name)
        compared = 0
        with zipfile.ZipFile(path) as archive:
            book = read_book(archive, scan.strings, scan.styles, "xl/workbook.xml")
            for sheet in scan.sheets:
                ws = reference[sheet.tab]
                for number, cells in read_rows(archive, sheet.member, book, 702):
                    for index, cell in enumerate(cells, start=1):
                        if cell is None:
                            continue
                        theirs = ws.cell(row=number, column=index)
                        assert cell.value == theirs.value, (name, sheet.tab, theirs.coordinate)
                        assert cell.number_format == theirs.number_format, theirs.coordinate
                        compared += 1
        assert compared > 1000, name


def test_1904_date_system(tmp_path: Path) -> None:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    def edit(wb: openpyxl.Workbook) -> None:
        wb.epoch = CALENDAR_MAC_1904

    path = write(
        tmp_path,
        {
            "Cycle": CYCLE,
            "Employees": [
                ["employee_id", "full_name", "hire_date"],
                ["E1", "Ana", dt.date(2020, 2, 29)],
            ],
        },
        edit,
    )
    assert b'date1904="1"' in zipfile.ZipFile(path).read("xl/workbook.xml")
    panel = load(path)
    assert panel.rows["Employees"][0].get("hire_date") == dt.date(2020, 2, 29)
    assert panel.as_of == AS_OF


def test_formula_whose_cached_result_is_empty_text_is_blank_not_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "Cycle": CYCLE,
            "Employees": [["employee_id", "full_name", "job_title"], ["E1", "Ana", '=""']],
        },
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                old = b'<c r="C2"><f>""</f><v /></c>'
                assert old in body
                body = body.replace(old, b'<c r="C2" t="str"><f>""</f><v></v></c>')
            dst.writestr(info, body)
    path.write_bytes(out.getvalue())
    panel = load(path)
    assert not panel.errors
    assert panel.rows["Employees"][0].get("job_title") is None


def test_strict_open_xml_namespaces(tmp_path: Path) -> None:
    """Strict Open XML (File > Save As > Strict) names the same elements differently."""
    sheets: Sheets = {"Cycle": CYCLE, "Employees": PEOPLE}
    plain = load(write(tmp_path, sheets, name="plain.xlsx"))
    path = write(tmp_path, sheets, name="strict.xlsx")
    swaps = [
        (
            b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        ),
        (
            b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        ),
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/workbook.xml" or info.filename.startswith("xl/worksheets/"):
                for old, new in swaps:
                    body = body.replace(old, new)
            dst.writestr(info, body)
    path.write_bytes(out.getvalue())
    assert b"purl.oclc.org/ooxml/spreadsheetml" in zipfile.ZipFile(path).read("xl/workbook.xml")
    strict = load(path)
    assert not strict.problems
    assert _facts(strict) == _facts(plain)
