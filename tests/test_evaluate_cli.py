"""`talentrules evaluate` and `talentrules explain` end to end, on the sample workbooks.

Golden files: tests/golden/. After an intended change to the rules or templates,
regenerate them with ``TALENTRULES_GOLDEN=update pytest tests/test_evaluate_cli.py``
and review the diff like any other change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from talentrules.cli import EXIT_OUTPUT, cli
from talentrules.paths import sample_workbook

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_PERSON = "00004"
SECTIONS = (
    "recommendation",
    "snapshot",
    "heart",
    "influence",
    "aspiration",
    "plan",
    "risks",
    "gaps",
    "how",
    "signoff",
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("evaluate") / "out"
    code, stdout, stderr = run("evaluate", str(sample_workbook()), "-o", str(out))
    assert code == 0, stdout + stderr
    assert re.fullmatch(
        r"evaluated 45 people from panel_review\.xlsx \(0 rejected rows, \d+ warnings?\) "
        r"with rulebook /\S*rules @ sha256 [0-9a-f]{12}: wrote .*out/ "
        r"\(summary\.html, briefs/, recommendations\.xlsx, "
        r"recommendations\.json, trace\.jsonl, manifest\.json\)\n",
        stdout,
    ), stdout
    return out


def normalised(text: str) -> str:
    """Golden comparison is blind to the rulebook hash and the tool version only."""
    text = re.sub(r"[^\s(]*rules @ sha256 [0-9a-f]{12}", "rules @ RULEBOOK", text)
    return re.sub(r"talentrules \d+\.\d+\.\d+\S*", "talentrules VERSION", text)


@pytest.mark.parametrize("name", [f"briefs/{GOLDEN_PERSON}.md", "summary.md"])
def test_golden_markdown(sample_out: Path, name: str) -> None:
    actual = normalised((sample_out / name).read_text(encoding="utf-8"))
    golden = GOLDEN / Path(name).name
    if os.environ.get("TALENTRULES_GOLDEN") == "update":
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8"), (
        f"{name} differs from {golden}; if the change is intended, run "
        "TALENTRULES_GOLDEN=update pytest tests/test_evaluate_cli.py and review the diff"
    )


def test_every_brief_has_every_section_and_cites_every_cell(sample_out: Path) -> None:
    book = openpyxl.load_workbook(sample_workbook(), read_only=True)
    sheet = book["Evidence"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    owner, observation = header.index("employee_id"), header.index("observation")
    cited: dict[str, list[str]] = {}
    for number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if row[owner] is not None:
            column = openpyxl.utils.get_column_letter(observation + 1)
            cited.setdefault(str(row[owner]), []).append(f"Evidence!{column}{number}")
    book.close()
    data = json.loads((sample_out / "recommendations.json").read_text(encoding="utf-8"))
    assert len(data["people"]) == 45
    for person in data["people"]:
        html = (sample_out / person["brief"]["html"]).read_text(encoding="utf-8")
        for section in SECTIONS:
            assert f'<section id="{section}"' in html, (person["employee_id"], section)
        for cell in cited.get(person["employee_id"], []):
            assert f">{cell}<" in html, (person["employee_id"], cell)
        assert "the panel decides" in html
    summary = (sample_out / "summary.html").read_text(encoding="utf-8")
    for section in (
        "scope",
        "distributions",
        "allocation",
        "exceptions",
        "balance",
        "overrides",
        "rejected",
        "roster",
        "rules",
    ):
        assert f'<section id="{section}"' in summary, section
    assert summary.count("<svg") >= 3 and summary.count('class="grid9"') == 2
    assert "<script" not in summary and "<link" not in summary  # self-contained


def test_vendor_export_gives_the_same_recommendations(sample_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "vendor"
    code, stdout, stderr = run(
        "evaluate", str(sample_workbook("panel_review_vendor_export.xlsx")), "-o", str(out)
    )
    assert code == 0, stdout + stderr
    plain = (sample_out / "recommendations.json").read_text(encoding="utf-8")
    vendor = (out / "recommendations.json").read_text(encoding="utf-8")
    # Cell references name the tabs as each workbook calls them: the only difference.
    tabs = {"Catalogue!": "Investments!", "Panel Decisions!": "Overrides!"}
    for theirs, ours in tabs.items():
        vendor = vendor.replace(theirs, ours)
    assert json.loads(vendor) == json.loads(plain)


def test_workbook_with_errors_refused_then_allowed(tmp_path: Path) -> None:
    broken = str(sample_workbook("panel_review_broken.xlsx"))
    out = tmp_path / "out"
    code, stdout, stderr = run("evaluate", broken, "-o", str(out))
    assert code == 1 and not out.exists()
    _, validated, _ = run("validate", broken)
    listed = stderr.removeprefix("Error: ").splitlines()
    assert "NOT usable" in listed[-1] and "--allow-rejects" in listed[-1]
    assert len(listed) > 1
    for line in listed[:-1]:  # each error exactly as validate prints it
        assert line in validated.splitlines(), line
    code, stdout, stderr = run("evaluate", broken, "-o", str(out), "--allow-rejects")
    assert code == 0, stdout + stderr
    rejected = int(re.search(r"\((\d+) rejected rows", stdout).group(1))  # type: ignore[union-attr]
    assert rejected > 0
    data = json.loads((out / "recommendations.json").read_text(encoding="utf-8"))
    assert len(data["rejected"]) == rejected
    book = openpyxl.load_workbook(out / "recommendations.xlsx", read_only=True)
    rows = list(book["Rejected rows"].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[1]) for r in rows} == {(r["sheet"], r["row"]) for r in data["rejected"]}
    summary = (out / "summary.md").read_text(encoding="utf-8")
    for r in data["rejected"]:
        assert f"{r['sheet']} row {r['row']} (" in summary
    # Nobody lost from view: a rejected Employees row names the person, in the summary,
    # the JSON and the results workbook.
    duplicate = next(r for r in data["rejected"] if r["sheet"] == "Employees" and r["row"] == 45)
    assert duplicate["who"].startswith("00044 ")
    assert f"Employees row 45 ({duplicate['who']})" in summary
    assert any(r[0] == "Employees" and r[1] == 45 and r[2] == duplicate["who"] for r in rows)
    assert (
        "Employees",
        45,
        duplicate["who"],
        "Employees!A45: duplicate employee_id '00044': also in A47",
    ) in rows
    # Warnings follow the Rejected rows convention: the sheet and cell, never the
    # workbook's path; a warning about no sheet (the panel's over-budget) names the file.
    warnings = list(book["Warnings"].iter_rows(min_row=2, values_only=True))
    assert ("Lists", "sheet is hidden; check nothing in it is needed") in warnings
    assert {w[0] for w in warnings} == {"Lists", "panel_review_broken.xlsx"}
    # validate and the summary count the workbook's problems the same way.
    tally = validated.splitlines()[-1].split("(", 1)[1].rstrip(")")
    assert "rows rejected" in tally and f"{rejected} rows rejected" in tally
    assert f"The workbook, as `validate` counts it: {tally}" in summary


def test_existing_outdir_needs_force(sample_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(sample_out, out)
    code, _, stderr = run("evaluate", str(sample_workbook()), "-o", str(out))
    assert code == EXIT_OUTPUT and "already exists; use --force" in stderr
    code, stdout, stderr = run("evaluate", str(sample_workbook()), "-o", str(out), "--force")
    assert code == 0, stdout + stderr
    assert json.loads((out / "recommendations.json").read_text(encoding="utf-8"))["people"]


def test_templates_option_overrides_one_block(tmp_path: Path) -> None:
    templates = tmp_path / "mine"
    templates.mkdir()
    (templates / "brief.html.j2").write_text(
        '{% extends "default/brief.html.j2" %}'
        "{% block signoff %}<p id=custom>Signed in the HR system by {{ doc.panel|join(' and ') }}"
        "</p>{% endblock %}",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, stdout, stderr = run(
        "evaluate", str(sample_workbook()), "-o", str(out), "--templates", str(templates)
    )
    assert code == 0, stdout + stderr
    html = (out / "briefs" / f"{GOLDEN_PERSON}.html").read_text(encoding="utf-8")
    assert "<p id=custom>Signed in the HR system by A. Moreau and K. Osei" in html
    assert '<section id="heart"' in html and '<section id="signoff"' not in html
    (templates / "brief.html.j2").write_text("{{ person.nickname }}", encoding="utf-8")
    code, _, stderr = run(
        "evaluate",
        str(sample_workbook()),
        "-o",
        str(tmp_path / "o2"),
        "--templates",
        str(templates),
    )
    assert code == EXIT_OUTPUT and "nickname" in stderr and not (tmp_path / "o2").exists()


def test_explain_fits_80_columns() -> None:
    code, stdout, stderr = run("explain", GOLDEN_PERSON, str(sample_workbook()))
    assert code == 0, stdout + stderr
    assert max(len(line) for line in stdout.splitlines()) <= 80
    for heading in (
        "RECOMMENDATION",
        "SNAPSHOT",
        "HEART FOR LEADERSHIP",
        "DEVELOPMENT PLAN",
        "HOW THIS WAS DECIDED",
    ):
        assert heading in stdout
    assert "the panel decides" in stdout and "Evidence!" in stdout
    code, _, stderr = run("explain", "NOBODY", str(sample_workbook()))
    assert code == 1 and "no evaluated person has employee_id 'NOBODY'" in stderr


def test_help_has_an_example() -> None:
    for command in ("evaluate", "explain"):
        code, stdout, _ = run(command, "--help")
        assert code == 0 and "Example: talentrules " + command in stdout


def test_progress_bars_on_stderr_for_long_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from talentrules import cli as cli_module

    monkeypatch.setattr(cli_module._ProgressBars, "MINIMUM", 10)  # the sample has 45 people
    code, stdout, stderr = run("evaluate", str(sample_workbook()), "-o", str(tmp_path / "o"))
    assert code == 0, stdout + stderr
    assert "evaluating" in stderr and "writing briefs" in stderr
    assert "evaluating" not in stdout and stdout.count("\n") == 1


def test_no_names_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run("evaluate", str(sample_workbook()), "-o", str(out), "--no-names")
    assert code == 0, stdout + stderr
    html = (out / "summary.html").read_text(encoding="utf-8")
    grids = "".join(part.split("</table>")[0] for part in html.split('class="grid9"')[1:])
    assert "Henrik Larsen" not in grids and "Henrik Larsen" in html  # roster keeps names
    assert "panel edition" not in html
