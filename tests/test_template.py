"""The ``template`` command: every contract sheet, header, comment and dropdown, and
a template filled in by hand must load without errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from talentrules.cli import EXIT_OUTPUT, cli
from talentrules.contract import SHEETS, with_signals
from talentrules.decide import default_catalogue
from talentrules.errors import OutputError
from talentrules.ingest import load_workbook
from talentrules.template import EXAMPLE_PREFIX, choices, write_template
from talentrules.vocabulary import signal_catalogue


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_template(tmp_path_factory.mktemp("tpl") / "template.xlsx")


def test_every_sheet_and_header_in_contract_order(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames == [s.name for s in SHEETS]
    for sheet in SHEETS:
        ws = wb[sheet.name]
        headers = [c.value for c in ws[1]]
        assert headers == [c.name for c in sheet.columns], sheet.name
        assert ws.freeze_panes == "A2", sheet.name


def test_every_header_has_a_comment_with_help_and_scale(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    # The template is written for the packaged rulebook's signal catalogue.
    for sheet in with_signals(SHEETS, signal_catalogue()):
        ws = wb[sheet.name]
        for index, column in enumerate(sheet.columns, start=1):
            comment = ws.cell(row=1, column=index).comment
            assert comment is not None, f"{sheet.name}.{column.name}"
            assert column.help in comment.text
            assert column.allowed in comment.text
    assert "RESTRICTED" in wb["Demographics"]["A1"].comment.text
    assert "RESTRICTED" not in wb["Employees"]["A1"].comment.text
    assert "worked example" in wb["Employees"]["A1"].comment.text


def _validations(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, str]:
    """Column letter -> the list formula of the dropdown covering it from row 2."""
    found: dict[str, str] = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list"
        assert dv.allow_blank
        for cell_range in dv.sqref.ranges:
            assert cell_range.min_row == 2 and cell_range.max_row == 1_048_576
            found[openpyxl.utils.get_column_letter(cell_range.min_col)] = dv.formula1
    return found


def test_dropdown_for_every_enum_scale_and_bool(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    checked = 0
    # The signal column lists the packaged rulebook's catalogue (rules/signals.yaml).
    for sheet in with_signals(SHEETS, signal_catalogue()):
        found = _validations(wb[sheet.name])
        for index, column in enumerate(sheet.columns, start=1):
            letter = openpyxl.utils.get_column_letter(index)
            if column.kind in ("enum", "scale", "bool"):
                assert found.get(letter) == '"' + ",".join(choices(column)) + '"', column.name
                checked += 1
            else:
                assert letter not in found, f"{sheet.name}.{column.name} has a dropdown"
    assert checked >= 20
    evidence = with_signals(SHEETS, signal_catalogue())[2].column("signal")
    assert "H-DEV" in choices(evidence) and "C-DER" in choices(evidence)
    performance = SHEETS[1].column("performance")
    assert choices(performance) == ("1", "2", "3", "4", "5")


def test_example_rows_are_marked(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    catalogue = len(default_catalogue().investments)  # the Investments sheet's own rows
    for sheet in SHEETS:
        ws = wb[sheet.name]
        assert ws.max_row == 2 + (catalogue if sheet.name == "Investments" else 0), sheet.name
        first = ws["A2"].value
        assert isinstance(first, str) and first.startswith(EXAMPLE_PREFIX), sheet.name
    assert isinstance(wb["Cycle"]["C2"].value, dt.datetime)  # as_of: a real date


def test_empty_has_headers_only(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_template(tmp_path / "empty.xlsx", empty=True))
    catalogue = len(default_catalogue().investments)
    for sheet in SHEETS:
        ws = wb[sheet.name]
        assert ws.max_row == 1 + (catalogue if sheet.name == "Investments" else 0), sheet.name
        assert "worked example" not in ws["A1"].comment.text


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "t.xlsx"
    target.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="already exists"):
        write_template(target)
    assert target.read_bytes() == b"keep me"
    write_template(target, force=True)
    assert openpyxl.load_workbook(target).sheetnames[0] == "Cycle"


def test_refuses_other_formats(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="must be an .xlsx file"):
        write_template(tmp_path / "review.csv")
    assert not (tmp_path / "review.csv").exists()


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("talentrules.template.os.replace", refuse)
    with pytest.raises(OutputError, match="No space left on device"):
        write_template(tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["template", str(tmp_path / "no" / "such" / "t.xlsx")])
    assert result.exit_code == EXIT_OUTPUT
    assert "cannot write the template" in result.output
    assert not (tmp_path / "no").exists()


def test_cli_template(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "review.xlsx"
    result = runner.invoke(cli, ["template", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file()
    result = runner.invoke(cli, ["template", str(target)])
    assert result.exit_code == EXIT_OUTPUT
    assert "already exists" in result.output and "--force" in result.output
    result = runner.invoke(cli, ["template", "--empty", "--force", str(target)])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(target)["Employees"].max_row == 1
    result = runner.invoke(cli, ["template", str(tmp_path / "no-such-dir" / "x.xlsx")])
    assert result.exit_code == EXIT_OUTPUT
    assert "cannot write" in result.output
    result = runner.invoke(cli, ["template"])
    assert result.exit_code == 2


def test_cli_template_help_has_example() -> None:
    result = CliRunner().invoke(cli, ["template", "--help"])
    assert result.exit_code == 0, result.output
    assert "Example: talentrules template" in result.output


# -- round trip through ingestion ----------------------------------------------------


def _fill(path: Path) -> None:
    """Type a few real rows under the headers, as a panel member would."""
    wb = openpyxl.load_workbook(path)
    by_sheet: dict[str, list[dict[str, object]]] = {
        "Cycle": [
            {
                "cycle_id": "2026-H2",
                "cycle_name": "Autumn review",
                "as_of": dt.date(2026, 10, 31),
                "budget": 20000,
                "currency": "EUR",
                "panel": "A. Moreau; K. Osei",
                "contact": "talent@example.org",
            }
        ],
        "Employees": [
            {
                "employee_id": "00001",
                "full_name": "Mia Manager",
                "is_people_manager": "Yes",
                "direct_reports": 1,
                "current_track": "People manager",
                "performance": 4,
                "potential": 3,
                "readiness": "Ready now",
                "risk_of_loss": "Low",
                "impact_of_loss": "High",
                "career_interest": "Lead people",
                "hire_date": dt.date(2018, 5, 1),
            },
            {
                "employee_id": "00002",
                "full_name": "Ivo Individual",
                "manager_id": "00001",
                "is_people_manager": "No",
                "direct_reports": 0,
                "current_track": "Individual contributor",
                "performance": "Exceeds",
                "potential": 2,
                "expertise": 4,
                "readiness": "Ready 1-2 years",
                "career_interest": "Lead without managing",
            },
        ],
        "Evidence": [
            {
                "evidence_id": "EV-1",
                "employee_id": "00002",
                "signal": "H-DEV",
                "observed_on": dt.date(2026, 3, 2),
                "context": "No formal authority",
                "influence_base": "Personal",
                "initiated_by": "Self",
                "frequency": "Habitual",
                "energy": "Energised",
                "outcome_in_others": "Commitment",
                "source_type": "Peer",
                "source_id": "P-1",
                "observation": "Mentors two new joiners.",
            }
        ],
        "Nominations": [{"nominator_id": "00001", "nominee_id": "00002", "reason": "Personal"}],
        "Teams": [
            {
                "manager_id": "00001",
                "team_size": 2,
                "on_time_rate": 93,
                "policy_incidents": 0,
                "engagement": 81,
                "voluntary_attrition": 0,
            }
        ],
        "Development": [
            {
                "employee_id": "00002",
                "investment_code": "LEAD-TASTER",
                "started": dt.date(2026, 1, 10),
                "status": "Active",
            }
        ],
        "Investments": [
            {
                "investment_code": "LEAD-TASTER",
                "name": "Small leading role",
                "track": "Leadership",
                "mode": "70",
                "seats": 4,
                "cost_per_person": 500,
                "duration_months": 3,
            }
        ],
        "Overrides": [
            {
                "employee_id": "00002",
                "field": "track",
                "decision": "Personal leadership",
                "reason": "Asked to stay an individual contributor.",
                "decided_by": "A. Moreau",
                "decided_on": dt.date(2026, 10, 30),
            }
        ],
        "Demographics": [{"employee_id": "00001", "sex": "Female", "age_band": "35-44"}],
    }
    for sheet in SHEETS:
        ws = wb[sheet.name]
        names = [c.name for c in sheet.columns]
        for record in by_sheet[sheet.name]:
            assert set(record) <= set(names)
            catalogued = [
                row for row in ws.iter_rows(min_row=2) if row[0].value == record.get(names[0])
            ]
            if sheet.name == "Investments" and catalogued:  # the catalogue row, edited
                for cell, name in zip(catalogued[0], names, strict=False):
                    cell.value = record.get(name)
            else:
                ws.append([record.get(n) for n in names])
    wb.save(path)


@pytest.mark.parametrize("empty", [False, True], ids=["with-examples", "empty"])
def test_filled_template_passes_validation(tmp_path: Path, empty: bool) -> None:
    path = write_template(tmp_path / "filled.xlsx", empty=empty)
    _fill(path)
    panel = load_workbook(path)
    assert panel.errors == [], [str(p) for p in panel.errors]
    assert [r.get("employee_id") for r in panel.rows["Employees"]] == ["00001", "00002"]
    assert panel.rows["Employees"][1].get("performance") == 4
    assert len(panel.rows["Evidence"]) == 1
    assert panel.as_of == dt.date(2026, 10, 31)
    for account in panel.accounts:
        assert account.balanced, account
        assert account.ignored_columns == [], account
    assert panel.ignored_sheets == []
    # The example row of each sheet is skipped, never loaded as data.
    for sheet in SHEETS:
        first = sheet.columns[0].name
        assert not any(str(r.get(first)).startswith("e.g.") for r in panel.rows[sheet.name])


def test_the_blank_template_is_refused_by_validate_as_by_evaluate(tmp_path: Path) -> None:
    """validate and evaluate agree on the blank template: not usable, nobody to evaluate;
    its Investments sheet carries the rulebook's default catalogue."""
    path = write_template(tmp_path / "blank.xlsx", empty=True)
    runner = CliRunner()
    validated = runner.invoke(cli, ["validate", str(path)])
    assert validated.exit_code == 1
    assert "NOT usable" in validated.output.splitlines()[-1]
    assert "Employees: no usable row: nobody to evaluate" in validated.output
    evaluated = runner.invoke(cli, ["evaluate", str(path), "-o", str(tmp_path / "out")])
    assert evaluated.exit_code == 1 and "nobody to evaluate" in evaluated.output
    book = openpyxl.load_workbook(path)
    codes = [row[0] for row in book["Investments"].iter_rows(min_row=2, values_only=True)]
    assert codes == list(default_catalogue().investments)


def test_blank_template_refused_alike_by_validate_and_evaluate(tmp_path: Path) -> None:
    # Issue 11: the blank template passed `validate` as usable and was refused by
    # `evaluate`. Through the real commands: both refuse it, with the same reason and
    # the same count, and its Investments sheet carries the default catalogue.
    runner = CliRunner()
    blank = tmp_path / "blank.xlsx"
    assert runner.invoke(cli, ["template", str(blank)]).exit_code == 0
    validated = runner.invoke(cli, ["validate", str(blank)])
    evaluated = runner.invoke(cli, ["evaluate", str(blank), "-o", str(tmp_path / "out")])
    assert validated.exit_code == evaluated.exit_code == 1
    reason = "Employees: no usable row: nobody to evaluate"
    assert reason in validated.output and reason in evaluated.output
    tally = "(1 error, 1 warning, 9 notes; 0 rows rejected)"
    assert f"NOT usable: fix the errors above {tally}" in validated.output
    assert f"NOT usable {tally}" in evaluated.output
    assert not (tmp_path / "out").exists()
    codes = [
        r[0]
        for r in openpyxl.load_workbook(blank)["Investments"].iter_rows(min_row=3, values_only=True)
    ]
    assert codes == list(default_catalogue().investments)
