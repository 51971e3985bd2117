"""docs/rules.md, "Walk-through": a panel owner's edit of the rulebook workbook, on the
real CLI: export, change a threshold, add a rule row and a test row (with openpyxl,
where the panel owner would type), check, test, review with audit diff, import."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from talentrules.cli import EXIT_RULES, cli
from talentrules.paths import default_rules_dir, sample_workbook
from talentrules.rulebook import load_rulebook
from talentrules.rulexlsx import layout

RULE = "exception-ready-but-emerging"
TEST = "rated ready, with only emerging signs, is listed for the panel"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def header(ws: openpyxl.worksheet.worksheet.Worksheet, row: int = 1) -> list[object]:
    return [c.value for c in ws[row]]


def fill(
    ws: openpyxl.worksheet.worksheet.Worksheet,
    row: int,
    values: dict[str, object],
    header_row: int = 1,
) -> None:
    names = header(ws, header_row)
    for name, value in values.items():
        ws.cell(row, names.index(name) + 1).value = value


def test_the_walkthrough(tmp_path: Path) -> None:
    book = tmp_path / "rulebook.xlsx"
    # 1. Export.
    code, stdout, stderr = run("rules", "export", str(default_rules_dir()), "-o", str(book))
    assert code == 0, stdout + stderr
    workbook = openpyxl.load_workbook(book)
    # 2. Change a threshold: habit_months 12 -> 18.
    parameters = workbook["Parameters"]
    row = next(r for r in parameters.iter_rows(min_row=2) if r[0].value == "habit_months")
    assert row[1].value == 12
    row[1].value = 18
    # 3. Add a rule row, with a new condition column left of 'then'.
    exceptions = workbook["Exceptions"]
    then = header(exceptions, layout.HEADER_ROW).index("then") + 1
    exceptions.insert_cols(then)
    exceptions.cell(layout.HEADER_ROW, then).value = "readiness"
    new = exceptions.max_row + 1
    fill(
        exceptions,
        new,
        {
            "id": RULE,
            "heart": "Emerging",
            "readiness": "in (Ready now, Ready 1-2 years)",
            "then": "Ratings and evidence disagree",
            "title": "Rated ready, with a heart only emerging",
            "rationale": "The panel rates the person ready within two years, but others see "
            "only emerging signs of a heart for leadership. The panel looks at the "
            "difference before a costly investment.",
            "file": "70-exceptions.yaml",
        },
        layout.HEADER_ROW,
    )
    # 4. Add a test row, and the test person's evidence rows.
    tests = workbook["Tests"]
    fill(
        tests,
        tests.max_row + 1,
        {
            "name": TEST,
            "readiness": "Ready now",
            "expect: heart": "Emerging",
            "expect: exceptions": "Ratings and evidence disagree",
            "fired": RULE,
            "file": "exceptions.yaml",
        },
    )
    evidence = workbook["Test evidence"]
    for signal, months, context, source, source_id in (
        ("H-AFF", 2, "Project", "Peer", "P-1"),
        ("H-AFF", 5, "Community", "Peer", "P-2"),
        ("H-CRG", 8, "Project", "Manager", "M-1"),
    ):
        fill(
            evidence,
            evidence.max_row + 1,
            {
                "test": TEST,
                "signal": signal,
                "months_ago": months,
                "context": context,
                "source_type": source,
                "source_id": source_id,
            },
        )
    workbook.save(book)
    # 5. Check and test.
    code, stdout, stderr = run("rules", "check", str(book))
    assert code == 0, stdout + stderr
    assert "112 rules in 10 decisions: no errors" in stdout
    code, stdout, stderr = run("rules", "test", str(book), "--coverage")
    assert code == 0, stdout + stderr
    assert "0 failed" in stdout and "every rule fired and every outcome reached" in stdout
    # 6. Review: who changes, and why.
    code, stdout, stderr = run(
        "audit",
        "diff",
        str(sample_workbook()),
        "--rules-a",
        str(default_rules_dir()),
        "--rules-b",
        str(book),
    )
    assert code == 0, stdout + stderr
    assert f"rules added: {RULE}" in stdout
    assert "files changed: 70-exceptions.yaml, parameters.yaml" in stdout
    assert "habitual-H-DEV" in stdout.split("rules changed: ")[1].splitlines()[0]
    code, stdout, stderr = run(
        "audit",
        "diff",
        str(sample_workbook()),
        "--rules-a",
        str(default_rules_dir()),
        "--rules-b",
        str(book),
        "--format",
        "json",
    )
    people = {p["employee_id"]: p for p in json.loads(stdout)["changed"]}
    listed = {
        eid
        for eid, p in people.items()
        for c in p["changes"]
        if c["kind"] == "exceptions"
        and "Ratings and evidence disagree" in c["b"]
        and "Ratings and evidence disagree" not in c["a"]
    }
    assert listed, "someone is newly listed for a closer look"
    for eid in listed:
        assert f"rule {RULE} (added)" in people[eid]["causes"], eid
    # 00001's habits span 15 months: no longer a habit under 18.
    assert any(c["kind"] == "habitual" for c in people["00001"]["changes"]), people["00001"]
    # 7. Keep it as YAML.
    folder = tmp_path / "rules"
    code, stdout, stderr = run("rules", "import", str(book), "-o", str(folder))
    assert code == 0, stdout + stderr
    text = (folder / "70-exceptions.yaml").read_text(encoding="utf-8")
    assert f"id: {RULE}" in text and "- readiness in (Ready now, Ready 1-2 years)" in text
    assert "value: 18" in (folder / "parameters.yaml").read_text(encoding="utf-8")
    assert load_rulebook(folder).sha256 == load_rulebook(book).sha256
    code, stdout, stderr = run("rules", "test", str(folder), "--coverage")
    assert code == 0, stdout + stderr


def test_a_fact_column_right_of_then_is_named(tmp_path: Path) -> None:
    book = tmp_path / "rulebook.xlsx"
    run("rules", "export", "-o", str(book))
    workbook = openpyxl.load_workbook(book)
    exceptions = workbook["Exceptions"]
    column = exceptions.max_column + 1
    exceptions.cell(layout.HEADER_ROW, column).value = "readiness"
    exceptions.cell(layout.HEADER_ROW + 1, column).value = "Ready now"
    workbook.save(book)
    code, stdout, stderr = run("rules", "check", str(book))
    letter = openpyxl.utils.get_column_letter(column)
    assert code == EXIT_RULES
    expected = f"rulebook.xlsx: Exceptions!{letter}2: 'readiness' is a condition column"
    assert expected in stderr
