"""The rulebook as a workbook: export, import, round trips, and diagnostics by cell.

Every test works on real .xlsx files written by `rules export` (and edited with
openpyxl where a panel owner would edit), read back by the same loaders that read a
rules folder, and run through the real CLI and the durable_rules engine.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from talentrules.audit import diff_rulebooks, format_diff, rule_hashes
from talentrules.cli import EXIT_OUTPUT, EXIT_RULES, cli
from talentrules.errors import RulebookError
from talentrules.paths import default_rules_dir, sample_workbook
from talentrules.rulebook import check_rulebook, load_rulebook
from talentrules.rulefiles import Cell, FolderFiles, Report, content_of, open_rules
from talentrules.rulexlsx import export_rulebook, import_rulebook, layout, open_workbook_rules

BAD_RULEBOOKS = Path(__file__).parent / "rulebooks"
BAD_CASES = sorted(p for p in BAD_RULEBOOKS.iterdir() if p.is_dir())
# What a workbook cannot hold, so these stay folder-only: a file that is not YAML at all,
# an empty file, a title that is a list, a control character (Excel refuses it).
NOT_EXPORTABLE = {
    "yaml-syntax": "YAML syntax error",
    "empty-file": "the file is empty",
    "wrong-type": "title is a list; a workbook cell holds one value",
    "control-character": "holds a control character, which no cell can hold",
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def cells(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values, row by row: what a workbook says, not how it was zipped."""
    book = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged rulebook as a workbook."""
    return export_rulebook(None, tmp_path_factory.mktemp("book") / "rulebook.xlsx")


@pytest.fixture(scope="module")
def imported(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """That workbook imported back as a rules folder."""
    out = tmp_path_factory.mktemp("back") / "rules"
    import_rulebook(exported, out)
    return out


# -- the round trip ----------------------------------------------------------------------


def test_export_then_import_says_what_the_folder_says(exported: Path, imported: Path) -> None:
    original, back = FolderFiles(default_rules_dir()), FolderFiles(imported)
    assert back.names() == original.names()
    assert [n.split("/")[-1] for n in back.test_names()] == [
        n.split("/")[-1] for n in original.test_names()
    ]
    for name in original.names():
        assert back.content_sha256(name) == original.content_sha256(name), name
    before, after = load_rulebook(None), load_rulebook(imported)
    assert rule_hashes(after) == rule_hashes(before)
    assert [r.id for r in after.rules] == [r.id for r in before.rules]
    assert after.levels == before.levels
    for name, decision in before.decisions.items():
        moved = after.decisions[name]
        assert (moved.policy, moved.outcomes, moved.default, moved.meaning, moved.role) == (
            decision.policy,
            decision.outcomes,
            decision.default,
            decision.meaning,
            decision.role,
        )
        words = {o: (t.texts, t.interest) for o, t in decision.texts.items()}
        assert {o: (t.texts, t.interest) for o, t in moved.texts.items()} == words
    assert after.parameters.keys() == before.parameters.keys()
    assert {n: p.value for n, p in after.parameters.items()} == {
        n: p.value for n, p in before.parameters.items()
    }


def test_the_workbook_has_the_hash_of_the_folder_it_imports_to(
    exported: Path, imported: Path
) -> None:
    assert load_rulebook(exported).sha256 == load_rulebook(imported).sha256
    assert load_rulebook(exported).sha256 != load_rulebook(None).sha256  # comments differ


def test_yaml_to_xlsx_to_yaml_to_xlsx_is_stable(
    exported: Path, imported: Path, tmp_path: Path
) -> None:
    again = export_rulebook(imported, tmp_path / "again.xlsx")
    assert cells(again) == cells(exported)
    back_again = tmp_path / "rules"
    import_rulebook(again, back_again)
    for path in sorted(imported.rglob("*.yaml")):
        relative = path.relative_to(imported)
        assert (back_again / relative).read_bytes() == path.read_bytes(), relative


def test_audit_diff_of_the_sample_under_the_folder_and_the_workbook_shows_no_change(
    exported: Path,
) -> None:
    diff = diff_rulebooks(sample_workbook(), default_rules_dir(), exported)
    assert diff.changed == () and diff.totals == {}
    assert diff.rules_changed == diff.rules_added == diff.rules_removed == ()
    assert diff.files_changed == ()
    assert set(diff.files_relaid) <= set(FolderFiles(default_rules_dir()).names())
    text = format_diff(diff)
    assert f"0 of {diff.people} people change" in text
    assert "the two rulebooks say the same: no file's content differs" in text


def test_the_packaged_rule_tests_pass_from_the_workbook_and_its_import(
    exported: Path, imported: Path
) -> None:
    for rules in (exported, imported):
        code, stdout, stderr = run("rules", "test", str(rules), "--coverage")
        assert code == 0, stdout + stderr
        assert "0 failed" in stdout and "every rule fired and every outcome reached" in stdout
        code, stdout, stderr = run("rules", "check", str(rules))
        assert code == 0, stdout + stderr


def test_every_command_that_takes_a_rulebook_takes_the_workbook(
    exported: Path, tmp_path: Path
) -> None:
    code, stdout, stderr = run("validate", str(sample_workbook()), "--rules", str(exported))
    assert code == 0, stdout + stderr
    out = tmp_path / "out"
    code, stdout, stderr = run(
        "evaluate", str(sample_workbook()), "--rules", str(exported), "-o", str(out)
    )
    assert code == 0, stdout + stderr
    assert f"with rulebook {exported.absolute()} @ sha256" in stdout
    code, stdout, stderr = run("explain", "00001", str(sample_workbook()), "--rules", str(exported))
    assert code == 0, stdout + stderr
    code, stdout, stderr = run(
        "audit", "verify", str(out), "--workbook", str(sample_workbook()), "--rules", str(exported)
    )
    assert code == 0, stdout + stderr
    code, stdout, stderr = run(
        "audit", "fairness", str(sample_workbook()), "--rules", str(exported)
    )
    assert code == 0, stdout + stderr


# -- the layout ----------------------------------------------------------------------------


def test_a_decision_sheet_is_a_decision_table(exported: Path) -> None:
    book = openpyxl.load_workbook(exported)
    heart = book["Heart"]
    assert (heart["A1"].value, heart["B1"].value) == ("decision", "heart")
    header = [c.value for c in heart[layout.HEADER_ROW]]
    assert header[:2] == ["id", "priority"]
    assert header[-5:] == ["then", "title", "rationale", "message", "file"]
    assert heart.freeze_panes == "C3"
    rows = {row[0].value: row for row in heart.iter_rows(min_row=3)}
    strong = {header[i]: c.value for i, c in enumerate(rows["heart-strong"]) if c.value is not None}
    assert strong["evidence_quality"] == "Sufficient"  # a value alone means equals
    assert strong["habitual"] == "in $core_signals"
    assert strong["condition"].startswith("any(habitual == H-FOL, outcome.commitment >= ")
    assert strong["then"] == "Strong" and strong["priority"] == 30
    assert strong["file"] == "20-heart.yaml"
    assert "Leadership is" not in strong["rationale"] or strong["rationale"]
    # A header comment says what each fact is; dropdowns offer outcomes and enum values.
    assert "evidence_quality: the outcome of decision 'evidence_quality'" in (
        heart.cell(layout.HEADER_ROW, header.index("evidence_quality") + 1).comment.text
    )
    formulas = {dv.formula1 for dv in heart.data_validations.dataValidation}
    lists = book[layout.LISTS]
    offered = [
        [c.value for c in lists[re.sub(r"\d", "", f.split("!")[1].split(":")[0]).strip("$")]]
        for f in formulas
    ]
    assert any(
        v[:4] == ["Strong", "Emerging", "Not evidenced", "Insufficient evidence"] for v in offered
    )
    assert lists.sheet_state == "hidden"


def test_a_family_stays_one_row(exported: Path) -> None:
    habitual = openpyxl.load_workbook(exported)["Habitual"]
    header = [c.value for c in habitual[layout.HEADER_ROW]]
    rows = [r for r in habitual.iter_rows(min_row=3, values_only=True) if r[0]]
    assert [r[0] for r in rows] == ["habitual-$code"]
    assert "for_each" in header and "$code.episodes" in header
    assert rows[0][header.index("for_each")] == "$heart_signals"
    assert rows[0][header.index("$code.episodes")] == ">= $habit_episodes"


def test_sheets_headers_frozen_and_commented(exported: Path) -> None:
    book = openpyxl.load_workbook(exported)
    assert book.sheetnames[:3] == ["README", "Parameters", "Habitual"]
    for name in ("Parameters", "Decisions", "Outcomes", "Signals", "Facts", "Tests", "Investments"):
        ws = book[name]
        assert ws.freeze_panes == "B2", name
        assert all(c.comment is not None for c in ws[1] if c.value), name
    parameters = {r[0]: r[1] for r in book["Parameters"].iter_rows(min_row=2, values_only=True)}
    assert parameters["habit_months"] == 12


# -- diagnostics name sheet and cell -------------------------------------------------------


def shape(message: str) -> str:
    """A message with its places taken out (a file:line, or a workbook: Sheet!A1)."""
    return re.sub(r"\S+(?:\.yaml|\.xlsx):\s?\S+", "PLACE", message)


@pytest.mark.parametrize("folder", BAD_CASES, ids=[p.name for p in BAD_CASES])
def test_each_bad_rulebook_as_a_workbook_names_the_cell(folder: Path, tmp_path: Path) -> None:
    if folder.name in NOT_EXPORTABLE:
        with pytest.raises(RulebookError, match=re.escape(NOT_EXPORTABLE[folder.name])):
            export_rulebook(folder, tmp_path / "x.xlsx")
        assert not (tmp_path / "x.xlsx").exists()
        return
    book = export_rulebook(folder, tmp_path / f"{folder.name}.xlsx")
    from_folder = check_rulebook(folder)
    from_book = check_rulebook(book)
    if folder.name == "missing-vocabulary":
        assert [str(d) for d in from_book] == [
            f"{book.name}: README!A1: missing: a rulebook workbook needs a Facts sheet "
            "(vocabulary.yaml)"
        ]
        return
    key = lambda d: (d.severity, d.rule_id or "", shape(d.message))  # noqa: E731
    assert sorted(map(key, from_book)) == sorted(map(key, from_folder))
    values = cells(book)
    for diagnostic in from_book:
        assert isinstance(diagnostic.line, Cell), diagnostic
        assert str(diagnostic).startswith(f"{book.name}: {diagnostic.line.ref}: ")
        sheet, ref = diagnostic.line.ref.split("!")
        cell = openpyxl.utils.cell.coordinate_from_string(ref)
        row = openpyxl.utils.cell.column_index_from_string(cell[0])
        assert values[sheet][cell[1] - 1][row - 1] not in (None, ""), diagnostic


def test_a_typo_in_an_outcome_names_its_cell_with_did_you_mean(
    exported: Path, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(exported)
    heart = book["Heart"]
    header = [c.value for c in heart[layout.HEADER_ROW]]
    row = next(r for r in heart.iter_rows(min_row=3) if r[0].value == "heart-strong")
    then = row[header.index("then")]
    then.value = "Stong"
    book.save(tmp_path / "typo.xlsx")
    code, stdout, stderr = run("rules", "check", str(tmp_path / "typo.xlsx"))
    assert code == EXIT_RULES
    assert (
        f"typo.xlsx: Heart!{then.coordinate}: rule heart-strong: then 'Stong' is not an outcome "
        "of decision 'heart' (Strong, Emerging, Not evidenced, Insufficient evidence); did you "
        "mean 'Strong'?"
    ) in stderr
    with pytest.raises(RulebookError, match=re.escape(f"Heart!{then.coordinate}")):
        import_rulebook(tmp_path / "typo.xlsx", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # --format json (issue 15) gives the cell, not the number a Cell stands for.
    code, stdout, _ = run("rules", "check", str(tmp_path / "typo.xlsx"), "--format", "json")
    (diagnostic,) = json.loads(stdout)["diagnostics"]
    assert code == EXIT_RULES and diagnostic["file"] == "typo.xlsx"
    assert (diagnostic["line"], diagnostic["cell"]) == (None, f"Heart!{then.coordinate}")
    assert diagnostic["rule"] == "heart-strong"


def test_rule_tests_of_a_workbook_report_their_cells_in_json_and_junit(
    exported: Path, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    code, stdout, _ = run("rules", "test", str(exported), "--format", "json", "--junit", str(junit))
    assert code == 0, stdout
    tests = json.loads(stdout)["tests"]
    assert tests and all(t["line"] is None and "!" in t["cell"] for t in tests)
    cases = ElementTree.parse(junit).getroot().findall("./testsuite/testcase")
    assert len(cases) == len(tests)
    for case, test in zip(cases, tests, strict=True):
        assert "line" not in case.attrib  # JUnit's line is a number
        (cell,) = case.findall("./properties/property[@name='cell']")
        assert cell.get("value") == test["cell"] and case.get("file") == "rulebook.xlsx"


def test_protected_attributes_and_proxies_are_checked_in_a_workbook(
    exported: Path, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(exported)
    track = book["Track"]
    header = [c.value for c in track[layout.HEADER_ROW]]
    column = header.index("then") + 1  # a new condition column, left of then
    track.insert_cols(column)
    track.cell(layout.HEADER_ROW, column).value = "tenure_months"
    track.cell(3, column).value = ">= 120"  # long service: a proxy of age
    track.insert_cols(column)
    track.cell(layout.HEADER_ROW, column).value = "age"
    track.cell(4, column).value = ">= 50"
    book.save(tmp_path / "proxy.xlsx")
    found = {str(d) for d in check_rulebook(tmp_path / "proxy.xlsx")}
    letter = openpyxl.utils.get_column_letter(column)
    after = openpyxl.utils.get_column_letter(column + 1)
    rule3, rule4 = track.cell(3, 1).value, track.cell(4, 1).value
    assert (
        f"proxy.xlsx: Track!{letter}4: rule {rule4}: reads a protected attribute 'age'; rules "
        "may not use it"
    ) in found
    assert any(
        d.startswith(f"proxy.xlsx: Track!{after}3: warning: rule {rule3}: 'tenure_months >= 120'")
        and "a proxy for age" in d
        for d in found
    )


# -- what the reader refuses ---------------------------------------------------------------


def test_formulas_unnamed_columns_and_unknown_sheets_rows_are_named(
    exported: Path, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(exported)
    book["Parameters"]["B3"] = "=1+1"
    outcomes = book["Outcomes"]
    outcomes.cell(2, outcomes.max_column + 2).value = "stray"
    outcomes.append(["no_such_decision", "X", "words"])
    heart = book["Heart"]
    condition = [c.value for c in heart[layout.HEADER_ROW]].index("condition") + 1
    heart.cell(3, condition).value = "any(readiness == Ready now"
    book.save(tmp_path / "bad.xlsx")
    found = [str(d) for d in check_rulebook(tmp_path / "bad.xlsx")]
    stray = openpyxl.utils.get_column_letter(outcomes.max_column)
    assert any("bad.xlsx: Parameters!B3: a formula (=1+1)" in d for d in found)
    assert f"bad.xlsx: Outcomes!{stray}1: a column with values has no header" in found
    assert any(
        d.startswith(f"bad.xlsx: Outcomes!A{outcomes.max_row}: no decision 'no_such_decision'")
        for d in found
    )
    letter = openpyxl.utils.get_column_letter(condition)
    assert any(
        d.startswith(f"bad.xlsx: Heart!{letter}3: cannot read condition 'any(readiness == Ready")
        for d in found
    )


def test_limits_of_a_rulebook_workbook(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = openpyxl.load_workbook(exported)
    book["Parameters"]["D2"] = "x" * 40
    book.save(tmp_path / "long.xlsx")
    monkeypatch.setattr(layout, "MAX_CELL_TEXT", 30)
    monkeypatch.setattr(layout, "MAX_ROWS", 10)
    found = [str(d) for d in check_rulebook(tmp_path / "long.xlsx")]
    assert "long.xlsx: Parameters!D2: holds 40 characters; the limit is 30" in found
    assert any(
        re.match(r"long\.xlsx: Facts!A1: the sheet has [\d,]+ rows; the limit for a rulebook", d)
        for d in found
    )


def test_a_workbook_that_is_not_one_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "rules.xlsx"
    fake.write_text("id,decision\n", encoding="utf-8")
    code, stdout, stderr = run("rules", "check", str(fake))
    assert code == EXIT_RULES and "Traceback" not in stderr
    assert "this is a CSV file, not an Excel workbook" in stderr
    odd = tmp_path / "rules.txt"
    odd.write_text("x", encoding="utf-8")
    with pytest.raises(RulebookError, match="not a rules folder or a rulebook workbook"):
        open_rules(odd)


# -- import ----------------------------------------------------------------------------------


def test_import_refuses_an_existing_folder_unless_forced(exported: Path, tmp_path: Path) -> None:
    out = tmp_path / "rules"
    out.mkdir()
    (out / "README.md").write_text("mine", encoding="utf-8")
    (out / "99-old.yaml").write_text("rules: []\n", encoding="utf-8")
    code, stdout, stderr = run("rules", "import", str(exported), "-o", str(out))
    assert code == EXIT_OUTPUT and "exists; add --force" in stderr
    code, stdout, stderr = run("rules", "import", str(exported), "-o", str(out), "--force")
    assert code == 0, stdout + stderr
    assert (out / "README.md").read_text(encoding="utf-8") == "mine"
    assert not (out / "99-old.yaml").exists()
    assert load_rulebook(out).sha256 == load_rulebook(exported).sha256


def test_a_workbook_is_read_once_while_unchanged(exported: Path) -> None:
    assert open_workbook_rules(exported) is open_workbook_rules(exported)


def test_export_refuses_to_overwrite_unless_forced(exported: Path, tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    shutil.copy(exported, target)
    code, stdout, stderr = run("rules", "export", "-o", str(target))
    assert code == EXIT_OUTPUT and "exists; add --force" in stderr
    code, stdout, stderr = run("rules", "export", "-o", str(target), "--force")
    assert code == 0 and f"wrote {target}" in stderr


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_workbook_saved_by_libreoffice_is_the_same_rulebook(
    exported: Path, tmp_path: Path
) -> None:
    """What a panel owner gets after opening the workbook in LibreOffice and saving it."""
    import subprocess

    out = tmp_path / "saved"
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(exported),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    saved = out / exported.name
    assert load_rulebook(saved).sha256 == load_rulebook(exported).sha256
    assert rule_hashes(load_rulebook(saved)) == rule_hashes(load_rulebook(exported))
    code, stdout, stderr = run("rules", "test", str(saved))
    assert code == 0, stdout + stderr


EVERY_CONSTRUCT = {
    "parameters.yaml": """\
parameters:
  high: {value: 4, unit: rating, meaning: A high rating.}
  cap: {value: 10.5, meaning: A fractional cap.}
""",
    "signals.yaml": """\
signals:
  S-ONE: {name: One, kind: signal, weight: core, description: First., why: It matters.}
  S-TWO: {name: Two, kind: signal, weight: supporting, description: Second., why: Less.}
  C-BAD: {name: Bad, kind: counter, description: A counter., route: coaching}
sets:
  pair: [S-ONE, S-TWO]
  cores: {kind: signal, weight: core}
""",
    "vocabulary.yaml": """\
facts:
  performance: {type: number, range: [1, 5], meaning: A rating.}
  score: {type: number, meaning: No range.}
  readiness:
    type: enum
    values: [Ready now, "Ready in 1, 2 years", Not ready]
    meaning: Readiness.
  is_people_manager: {type: boolean, meaning: Manages people.}
  note: {type: text, meaning: A note.}
  hired_on: {type: date, meaning: Hire date.}
  against_high: {type: number, range: [-2, 2], meaning: To it., formula: performance - $high + 1}
  mean: {type: number, meaning: A mean., formula: (performance + score) / 2}
  based.rules: {type: number, meaning: Influence on rules.}
families:
  signal:
    members: [$signals]
    facts:
      episodes: {type: number, range: [0, 100], meaning: "Episodes of $code ($name)."}
      twice: {type: number, meaning: "Twice $code.", formula: $code.episodes * 2}
protected: [postcode]
proxies:
  - {contains: birth, attribute: age, why: a date of birth is age}
briefs:
  trend: against_high
  signal_line:
    episodes: episodes
    self_reports: twice
    contexts: episodes
    observers: episodes
    months_spanned: twice
    newest_age: episodes
  in_role: score
  influence: based
  aspiration_statement: is_people_manager
""",
    "decisions.yaml": """\
decisions:
  verdict:
    policy: priority
    outcomes: [High, Low, "No"]
    default: "No"
    meaning: A verdict.
    texts:
      High: {meaning: High it is.}
  habits:
    policy: collect
    outcomes: [$pair, None]
    default: None
    meaning: Habits.
  tag:
    outcomes: [A, B]
    default: B
    meaning: A unique decision read by others.
""",
    "10-rules.yaml": """\
rules:
  - id: bare
    decision: verdict
    title: A bare condition
    rationale: Over $high.
    when: performance >= $high
    then: High
    priority: 9
  - id: mapping
    decision: verdict
    title: A mapping condition
    rationale: Any.
    when: {any: [performance >= 3, readiness == Ready now]}
    then: High
    priority: 8
  - id: nested
    decision: verdict
    title: "Nested \\"all\\" and not"
    rationale: Deep.
    when:
      - not: readiness == Not ready
      - not: [performance < 2, score > $cap]
      - not: [performance < 1.5]
      - any:
          - all: [performance >= 3, is_people_manager == true]
          - note is unknown
          - [score is known, score <= 3]
      - readiness in ("Ready in 1, 2 years", Ready now)
    then: Low
    priority: 7
    message: "read {{ performance }} and {{ facts.score }}"
  - id: odd-values
    decision: verdict
    title: Odd values
    rationale: Text that looks like an operator, dates, booleans.
    when:
      - note == in place
      - note != >= x
      - hired_on < 2024-01-01
      - hired_on == 2023-06-30
      - is_people_manager == false
      - score == -1.5
      - score != 007
    then: Low
    priority: 6
  - id: range
    decision: verdict
    title: A range on one fact
    rationale: Between.
    when: [performance >= 2, performance < 4, tag == A]
    then: "No"
    priority: 5
  - id: reversed
    decision: verdict
    title: The same facts in another order
    rationale: Order is part of the hash.
    when: [tag != A, performance >= 2]
    then: "No"
    priority: 4
  - for_each: $pair
    id: habit-$code
    decision: habits
    title: $name, habitually
    rationale: $why So it counts.
    when: [$code.episodes >= 3, tag == A]
    then: $code
""",
    # Two decisions in one file, in the Decisions sheet's order (a file interleaving
    # decisions comes back grouped by decision: docs/rules.md).
    "20-more.yaml": """\
rules:
  - id: more-verdict
    decision: verdict
    title: Another file, the same decision
    rationale: Files are kept.
    when: [habits == S-TWO, habits not in $cores]
    then: High
    priority: 3
  - id: tag-a
    decision: tag
    title: Tagged
    rationale: Low scores.
    when: [score < 1]
    then: A
""",
}


def rule_contents(files: FolderFiles, name: str) -> dict[str, object]:
    """Each rule of a rule file, by id, as what it says (content_of)."""
    node = files.node(name, Report())
    assert isinstance(node, yaml.MappingNode)
    (rules,) = [v for k, v in node.value if k.value == "rules"]
    found = {}
    for rule in rules.value:
        (rule_id,) = [v.value for k, v in rule.value if k.value == "id"]
        found[rule_id] = content_of(rule)
    return found


def test_every_construct_of_the_language_round_trips(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    for name, text in EVERY_CONSTRUCT.items():
        (folder / name).write_text(text, encoding="utf-8")
    assert [d for d in check_rulebook(folder) if d.severity == "error"] == []
    book = export_rulebook(folder, tmp_path / "every.xlsx")
    back = tmp_path / "back"
    import_rulebook(book, back)
    before, after = load_rulebook(folder), load_rulebook(back)
    assert rule_hashes(after) == rule_hashes(before)
    # Facts computed by a formula come back as the same formula (read from the cell).
    for name in ("against_high", "mean", "S-ONE.twice", "C-BAD.twice"):
        formula, again = before.vocabulary[name].formula, after.vocabulary[name].formula
        assert formula is not None and again is not None
        assert (again.text, again.term, again.reads, again.whole) == (
            formula.text,
            formula.term,
            formula.reads,
            formula.whole,
        )
    assert after.vocabulary["S-ONE.twice"].formula.reads == ("S-ONE.episodes",)  # type: ignore[union-attr]
    assert after.vocabulary["mean"].formula.whole is False  # type: ignore[union-attr]
    # What briefs show (vocabulary.yaml briefs) comes back from the Briefs sheet.
    assert after.briefs == before.briefs
    assert before.briefs.trend == "against_high" and before.briefs.signal_line is not None
    assert before.briefs.influence == (("Rules and monitoring", "based.rules"),)
    assert before.briefs.aspiration_statement == "is_people_manager"
    assert [(r.id, r.file.split("/")[-1]) for r in after.rules] == [
        (r.id, r.file.split("/")[-1]) for r in before.rules
    ]
    original, imported = FolderFiles(folder), FolderFiles(back)
    for name in original.names():
        if name != "10-rules.yaml":
            assert imported.content_sha256(name) == original.content_sha256(name), name
    # A list of one under not, and a list inside a list, come back as the all(...) they
    # mean: the same rule (hash above), written as its cell says it.
    assert rule_contents(imported, "10-rules.yaml") == {
        **rule_contents(original, "10-rules.yaml"),
        "nested": rule_contents(imported, "10-rules.yaml")["nested"],
    }
    sheet = openpyxl.load_workbook(book)["Verdict"]
    header = [c.value for c in sheet[layout.HEADER_ROW]]
    rows = {
        r[0].value: {header[i]: c.value for i, c in enumerate(r) if c.value is not None}
        for r in sheet.iter_rows(min_row=3)
    }
    assert rows["bare"]["when"] == "performance >= $high"
    assert rows["mapping"]["when"] == "any(performance >= 3, readiness == Ready now)"
    assert rows["odd-values"]["note"] in ("== in place", "!= >= x")
    assert "== 2023-06-30" not in rows["odd-values"].values()  # a date alone is equals
    assert rows["odd-values"]["score"] in (-1.5, "!= 007")
    assert header.count("performance") >= 2  # a range needs two cells
    again = export_rulebook(back, tmp_path / "again.xlsx")
    assert cells(again) == cells(book)
