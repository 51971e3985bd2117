"""The shipped sample workbooks and the N-person generator: reproducible, the vendor
export loads to the same rows as the plain workbook, the broken one shows every
planted mistake, and the generator is deterministic and of the right size."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pytest

from talentrules.contract import SHEETS
from talentrules.ingest import load_workbook

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_inputs"


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


make_samples = _module(ROOT / "scripts" / "make_samples.py")
make_workbook = _module(ROOT / "benchmarks" / "make_workbook.py")

NAMES = ("panel_review.xlsx", "panel_review_vendor_export.xlsx", "panel_review_broken.xlsx")


def test_regenerating_reproduces_the_committed_samples(tmp_path: Path) -> None:
    written = make_samples.main(tmp_path)
    assert [p.name for p in written] == list(NAMES)
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), (
            f"{name} is out of date: run python scripts/make_samples.py"
        )


def test_personas_are_the_people_in_the_sample() -> None:
    wb = openpyxl.load_workbook(SAMPLES / "panel_review.xlsx", read_only=True)
    ids = [row[0] for row in wb["Employees"].iter_rows(min_row=2, values_only=True)]
    assert len(ids) == 45
    assert sorted(make_samples.PERSONAS) == ids
    assert set(make_samples.PERSONA_IDS.values()) <= set(ids)
    teams = [row[0] for row in wb["Teams"].iter_rows(min_row=2, values_only=True)]
    assert teams == ["00001", "00002", "00003", "00004", "00044", "00045"]


def test_vendor_export_looks_like_a_vendor_export() -> None:
    """Guard the differences the equality test relies on, so it stays meaningful."""
    wb = openpyxl.load_workbook(SAMPLES / "panel_review_vendor_export.xlsx")
    assert "Employees" not in wb.sheetnames and "People" in wb.sheetnames
    people = wb["People"]
    headers = [c.value for c in people[1]]
    assert "Person Number" in headers and "Flight Risk" in headers
    first = people.cell(row=2, column=headers.index("Person Number") + 1)
    assert first.value == 1 and first.number_format == "00000"
    rating = people.cell(row=2, column=headers.index("Performance Rating") + 1)
    assert rating.value == "Exceeds"
    team = wb["Team Metrics"]
    rate = team.cell(row=2, column=3)
    assert rate.value == pytest.approx(0.94) and "%" in rate.number_format
    observed = wb["Observations"].cell(row=2, column=3).value
    assert isinstance(observed, str) and observed[4] == "-"


# -- through ingestion ----------------------------------------------------------------


def _values(panel: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        sheet: [{name: cell.value for name, cell in row.cells.items()} for row in rows]
        for sheet, rows in panel.rows.items()
    }


def test_panel_review_loads_without_errors() -> None:
    panel = load_workbook(SAMPLES / "panel_review.xlsx")
    assert panel.errors == [], [str(p) for p in panel.errors]
    assert len(panel.rows["Employees"]) == 45
    assert len(panel.rows["Evidence"]) == len(make_samples.build()["Evidence"])
    assert panel.ignored_sheets == []
    assert all(a.balanced and not a.ignored_columns for a in panel.accounts)


def test_vendor_export_loads_to_the_same_rows() -> None:
    plain = load_workbook(SAMPLES / "panel_review.xlsx")
    vendor = load_workbook(SAMPLES / "panel_review_vendor_export.xlsx")
    assert vendor.errors == [], [str(p) for p in vendor.errors]
    assert vendor.found["Employees"] == "People"
    plain_values, vendor_values = _values(plain), _values(vendor)
    for sheet in SHEETS:
        assert len(vendor_values[sheet.name]) == len(plain_values[sheet.name]), sheet.name
        for a, b in zip(plain_values[sheet.name], vendor_values[sheet.name], strict=True):
            assert a == b, sheet.name
    # and both are what the script meant to write
    data = make_samples.build()
    assert [r["employee_id"] for r in data["Employees"]] == [
        r["employee_id"] for r in plain_values["Employees"]
    ]


def _reported(panel: Any, planted: Any) -> list[str]:
    """The problems at the planted place (its cell, a range from it, its row or its
    column) whose report mentions the planted needle."""
    if planted.ref is None:
        near = [p for p in panel.problems if p.sheet == planted.tab and p.cell is None]
    else:
        letters = planted.ref.rstrip("0123456789")
        row = planted.ref[len(letters) :]
        places = {planted.ref, f"row {row}", f"column {letters}"}
        near = [
            p
            for p in panel.problems
            if p.sheet == planted.tab
            and (p.cell in places or str(p.cell).startswith(planted.ref + ":"))
        ]
    return [str(p) for p in near if planted.needle.casefold() in str(p).casefold()]


@pytest.mark.parametrize(
    "planted", make_samples.BROKEN, ids=[p.mistake for p in make_samples.BROKEN]
)
def test_broken_workbook_reports_each_planted_mistake(planted: Any) -> None:
    panel = _broken()
    assert _reported(panel, planted), f"{planted} not reported; on that sheet:\n" + "\n".join(
        str(p) for p in panel.problems if p.sheet == planted.tab
    )


_CACHE: dict[str, Any] = {}


def _broken() -> Any:
    if "broken" not in _CACHE:
        _CACHE["broken"] = load_workbook(SAMPLES / "panel_review_broken.xlsx")
    return _CACHE["broken"]


def test_broken_workbook_has_errors_and_still_accounts_for_every_row() -> None:
    panel = _broken()
    assert panel.errors
    assert all(a.balanced for a in panel.accounts)
    assert any(p.suggestion == "Habitual" for p in panel.problems)
    # Nothing but the planted mistakes (and their echoes, such as the first copy of a
    # duplicated id) is an error: the rest of the cycle is clean.
    rows = {
        (p.tab, p.ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) for p in make_samples.BROKEN if p.ref
    }
    for problem in panel.errors:
        cell = str(problem.cell).split(":")[0]
        row = cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ").removeprefix("row ")
        echo = "duplicate" in problem.message
        assert (problem.sheet, row) in rows or echo, str(problem)


# -- the generator --------------------------------------------------------------------


def _read(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def test_generator_is_deterministic_and_sized(tmp_path: Path) -> None:
    make_workbook.make_workbook(tmp_path / "a.xlsx", 120, seed=7)
    make_workbook.make_workbook(tmp_path / "b.xlsx", 120, seed=7)
    make_workbook.make_workbook(tmp_path / "c.xlsx", 120, seed=8)
    a, b, c = (_read(tmp_path / n) for n in ("a.xlsx", "b.xlsx", "c.xlsx"))
    assert a == b
    assert a != c
    assert list(a) == [s.name for s in SHEETS]
    for sheet in SHEETS:
        assert a[sheet.name][0] == tuple(c.name for c in sheet.columns)
    employees = a["Employees"][1:]
    assert len(employees) == 120
    assert len({row[0] for row in employees}) == 120
    managers = [row for row in employees if row[10] == "Yes"]
    assert len(managers) == 15  # one in eight
    assert len(a["Teams"]) - 1 == 15
    evidence = len(a["Evidence"]) - 1
    assert 6 * 120 < evidence < 10 * 120  # about eight per person
    signals = [row[2] for row in a["Evidence"][1:]]
    assert sum(s.startswith("H-") for s in signals) > 1.5 * sum(s.startswith("C-") for s in signals)
    assert 150 < len(a["Nominations"]) - 1 <= 180  # about 1.5 per person
    ids = {row[0] for row in employees}
    assert {row[7] for row in employees} - {None} <= ids  # every manager_id is a person


def test_generator_evidence_rate_and_cli(tmp_path: Path) -> None:
    target = tmp_path / "g.xlsx"
    assert (
        make_workbook.main(
            ["--people", "50", "--seed", "1", "--evidence-per-person", "2", str(target)]
        )
        == 0
    )
    evidence = len(_read(target)["Evidence"]) - 1
    assert evidence < 4 * 50


def test_generated_workbook_passes_validation(tmp_path: Path) -> None:
    make_workbook.make_workbook(tmp_path / "g.xlsx", 150, seed=3)
    panel = load_workbook(tmp_path / "g.xlsx")
    assert panel.errors == [], [str(p) for p in panel.errors[:10]]
    assert len(panel.rows["Employees"]) == 150
