"""Audit and oversight (talentrules/audit.py): the hash-chained trace and manifest,
`audit verify` (tampering, replay), `audit diff`, the fairness monitor, Demographics
isolation and overrides side by side with the recommendation.

Runs go through the real path: the sample workbook (or a copy edited with openpyxl
in tmp_path), ingestion, durable_rules, allocation and the writers.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from talentrules import audit, fairness, record
from talentrules.cli import EXIT_AUDIT, EXIT_INPUT, cli
from talentrules.fairness import Subject, fairness_of
from talentrules.paths import default_rules_dir, sample_workbook
from talentrules.record import GENESIS, canonical, sha256_text
from talentrules.run import evaluate_workbook


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def edited_workbook(path: Path, edit: Callable[[Any], None] | None = None) -> Path:
    """A copy of the sample workbook saved by openpyxl, after ``edit(workbook)``."""
    book = openpyxl.load_workbook(sample_workbook())
    if edit is not None:
        edit(book)
    book.save(path)
    return path


def column(sheet: Any, name: str) -> int:
    header = [c.value for c in sheet[1]]
    return header.index(name) + 1


def row_of(sheet: Any, employee_id: str) -> int:
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, 1).value == employee_id:
            return row
    raise AssertionError(f"{employee_id} not in {sheet.title}")


def set_cell(sheet_name: str, employee_id: str, name: str, value: object) -> Callable[[Any], None]:
    def edit(book: Any) -> None:
        sheet = book[sheet_name]
        sheet.cell(row_of(sheet, employee_id), column(sheet, name)).value = value

    return edit


def evaluate(workbook: Path, out: Path, *extra: str) -> Path:
    code, output = run("evaluate", str(workbook), "-o", str(out), *extra)
    assert code == 0, output
    return out


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return evaluate(sample_workbook(), tmp_path_factory.mktemp("audit") / "out")


@pytest.fixture()
def outdir(sample_out: Path, tmp_path: Path) -> Path:
    """A private copy of the sample run's folder, to tamper with."""
    return Path(shutil.copytree(sample_out, tmp_path / "out"))


def trace_of(folder: Path) -> list[str]:
    return (folder / "trace.jsonl").read_text(encoding="utf-8").splitlines()


def write_trace(folder: Path, lines: list[str]) -> None:
    (folder / "trace.jsonl").write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")


def verify(folder: Path, *extra: str) -> tuple[int, str]:
    return run("audit", "verify", str(folder), *extra)


# --------------------------------------------------------------------------------------
# The record: chain and manifest
# --------------------------------------------------------------------------------------


def test_trace_lines_are_canonical_and_chained(sample_out: Path) -> None:
    lines = trace_of(sample_out)
    assert len(lines) == 45
    prev = GENESIS
    for number, line in enumerate(lines, 1):
        record = json.loads(line)
        assert canonical(record) == line  # sorted keys, no spaces, UTF-8 as itself
        assert record["chain"] == {"line": number, "prev": prev}
        prev = sha256_text(line)
    manifest = json.loads((sample_out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["trace"]["lines"] == 45
    assert manifest["trace"]["last_sha256"] == prev
    assert manifest["trace"]["genesis"] == "0" * 64


def test_manifest_fields(sample_out: Path) -> None:
    manifest = json.loads((sample_out / "manifest.json").read_text(encoding="utf-8"))
    workbook = sample_workbook()
    assert manifest["input"]["sha256"] == record.sha256_file(workbook)
    assert manifest["input"]["size"] == workbook.stat().st_size
    assert manifest["input"]["file"] == "panel_review.xlsx"
    run_result = evaluate_workbook(workbook)
    assert manifest["rulebook"]["sha256"] == run_result.rulebook.sha256
    assert manifest["rulebook"]["packaged"] is True
    assert list(manifest["rulebook"]["rules"]) == [r.id for r in run_result.rulebook.rules]
    assert manifest["rulebook"]["rules"] == record.rule_hashes(run_result.rulebook)
    assert len(set(manifest["rulebook"]["rules"].values())) == len(run_result.rulebook.rules)
    assert manifest["templates"]["sha256"] == record.templates_sha256()
    assert set(manifest["versions"]) == {"talentrules", "durable_rules", "python"}
    # The vendored, patched build (vendor/durable_rules), not a stock 2.0.28.
    assert manifest["versions"]["durable_rules"] == "2.0.28+talentrules.1"
    assert manifest["as_of"] == "2026-10-31"
    assert manifest["options"]["allow_rejects"] is False
    assert manifest["started"] <= manifest["finished"]
    counts = manifest["counts"]
    assert counts["people"] == 45
    assert manifest["rulebook"]["parameters"]["habit_months"] == 12
    assert manifest["rulebook"]["parameters"]["stale_months"] == 24
    assert counts["sheets"]["Employees"] == {"read": 45, "loaded": 45, "rejected": 0, "blank": 0}
    assert sum(counts["outcomes"]["heart"].values()) == 45
    assert counts["overrides"]["by_decider"] == {"A. Moreau": 1, "K. Osei": 1}
    files = manifest["files"]
    assert "manifest.json" not in files
    assert len(files) == 2 * 45 + 5
    assert files["recommendations.json"] == record.sha256_file(sample_out / "recommendations.json")


def test_rule_hash_ignores_position_not_content() -> None:
    rulebook = evaluate_workbook(sample_workbook()).rulebook
    rule = rulebook.rules[0]
    import dataclasses

    moved = dataclasses.replace(rule, file="elsewhere.yaml", line=999)
    assert record.rule_sha256(moved) == record.rule_sha256(rule)
    changed = dataclasses.replace(rule, priority=rule.priority + 1)
    assert record.rule_sha256(changed) != record.rule_sha256(rule)


def test_verify_a_clean_run_with_replay(outdir: Path) -> None:
    code, output = verify(outdir, "--workbook", str(sample_workbook()))
    assert code == 0, output
    assert "hash chain of 45 lines intact" in output
    assert "every recommendation and trace line identical" in output
    assert "its recorded facts give its decisions; why-not and counterfactuals" in output
    assert "FAIL" not in output


def test_replay_checks_each_lines_decisions_against_its_own_facts() -> None:
    """Without the workbook's rows: a line whose recorded facts do not give its
    recorded decisions is named (trace_version 3 keeps the facts the rules read)."""
    result = evaluate_workbook(sample_workbook(), jobs=1)
    raw = [canonical(record.trace_record(result, i)) for i in range(len(result.results))]
    recorded = {r.employee_id: {"index": i} for i, r in enumerate(result.results)}
    report = audit.VerifyReport(Path("out"))
    audit._check_derivable(result, recorded, raw, report)
    assert report.problems == [] and len(report.checked) == 1
    line = json.loads(raw[3])
    fired = [rule.id for rule in result.rulebook.rules if rule.id in line["fired"]]
    line["facts"] = {name: None for name in line["facts"]}  # nothing known
    raw[3] = canonical(line)
    report = audit.VerifyReport(Path("out"))
    audit._check_derivable(result, recorded, raw, report)
    assert fired and report.problems == [
        f"replay: employee {line['employee_id']}: the facts trace.jsonl records do not give "
        "the decisions it records under this rulebook"
    ]


def edit_line(lines: list[str]) -> list[str]:
    record = json.loads(lines[4])
    record["recommendation"]["outcomes"]["heart"] = ["Strong"]
    record["facts"]["performance"] = 5
    lines[4] = canonical(record)
    return lines


def swap_lines(lines: list[str]) -> list[str]:
    lines[2], lines[3] = lines[3], lines[2]
    return lines


def append_forged(lines: list[str]) -> list[str]:
    """A forger extends the chain correctly: only the manifest can tell."""
    record = json.loads(lines[-1])
    record["employee_id"] = "99999"
    record["chain"] = {"line": len(lines) + 1, "prev": sha256_text(lines[-1])}
    return [*lines, canonical(record)]


def edit_last(lines: list[str]) -> list[str]:
    lines[-1] = lines[-1].replace('"trace_version":3', '"trace_version":4')
    return lines


TAMPERING = {
    "edit": (edit_line, "trace.jsonl line 5 (employee 00005): changed after it was written"),
    "reorder": (swap_lines, "trace.jsonl line 3 (employee 00004): it was written as line 4"),
    "truncate": (lambda lines: lines[:-1], "truncated after line 44 (employee 00044)"),
    "remove": (lambda lines: lines[:9] + lines[10:], "line 10 (employee 00011): it was written"),
    "append": (append_forged, "lines appended from line 46 (employee 99999)"),
    "edit-last": (edit_last, "trace.jsonl line 45 (employee 00045): changed after it was"),
}


@pytest.mark.parametrize("kind", TAMPERING, ids=list(TAMPERING))
def test_verify_detects_and_locates_trace_tampering(outdir: Path, kind: str) -> None:
    change, expected = TAMPERING[kind]
    write_trace(outdir, change(trace_of(outdir)))
    code, output = verify(outdir)
    assert code == EXIT_AUDIT, output
    assert expected in output, output
    assert "trace.jsonl: changed since the run" in output  # its file hash too


def test_verify_detects_an_edited_manifest(outdir: Path) -> None:
    path = outdir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["trace"]["last_sha256"] = "f" * 64
    manifest["files"]["summary.md"] = "0" * 64
    manifest["counts"]["people"] = 46
    path.write_text(json.dumps(manifest), encoding="utf-8")
    code, output = verify(outdir)
    assert code == EXIT_AUDIT
    assert "trace.jsonl line 45 (employee 00045): changed after it was written" in output
    assert "summary.md: changed since the run" in output
    assert "manifest.json: counts 46 people, trace.jsonl has 45" in output


def test_verify_names_the_person_when_recommendations_json_is_edited(outdir: Path) -> None:
    path = outdir / "recommendations.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    person = next(p for p in data["people"] if p["employee_id"] == "00007")
    person["heart"] = "Strong"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    code, output = verify(outdir)
    assert code == EXIT_AUDIT
    assert (
        'recommendations.json: employee 00007: heart: "Strong" where trace.jsonl has '
        '"Not evidenced"' in output
    )
    assert "recommendations.json: changed since the run" in output


def test_verify_covers_overrides(outdir: Path) -> None:
    path = outdir / "recommendations.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    person = next(p for p in data["people"] if p["employee_id"] == "00010")
    person["override"][0]["decided_by"] = "Someone Else"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    code, output = verify(outdir)
    assert code == EXIT_AUDIT
    assert "recommendations.json: employee 00010: override:" in output
    assert "Someone Else" in output and "K. Osei" in output


def test_verify_detects_added_and_removed_files(outdir: Path) -> None:
    (outdir / "briefs" / "00001.md").unlink()
    (outdir / "extra.txt").write_text("x", encoding="utf-8")
    code, output = verify(outdir)
    assert code == EXIT_AUDIT
    assert "briefs/00001.md: listed in the manifest, missing from the folder" in output
    assert "extra.txt: not written by the run" in output


def test_verify_refuses_a_folder_without_manifest(tmp_path: Path) -> None:
    code, output = verify(tmp_path)
    assert code == EXIT_INPUT  # nothing to audit: refused, not a mismatch
    assert "no manifest" in output


# --------------------------------------------------------------------------------------
# Replay
# --------------------------------------------------------------------------------------


def test_replay_detects_a_changed_workbook_cell(outdir: Path, tmp_path: Path) -> None:
    # One of 00007's three observers becomes the person: two observations by others
    # are too few to judge.
    changed = edited_workbook(
        tmp_path / "changed.xlsx", set_cell("Evidence", "EV-0049", "source_type", "Self")
    )
    code, output = verify(outdir, "--workbook", str(changed))
    assert code == EXIT_AUDIT
    assert "changed.xlsx: not the workbook of this run" in output
    assert (
        'replay: employee 00007: recommendation.outcomes.heart[0]: "Not evidenced" -> '
        '"Insufficient evidence" (recorded -> replayed)' in output
    ), output
    assert "facts.C-POS.episodes: 3 -> 2" in output
    replayed = [
        line.split(": ", 3) for line in output.splitlines() if line.startswith("FAIL: replay")
    ]
    assert {who for _, _, who, _ in replayed} >= {"employee 00007"}
    # Anyone else only moved in a queue 00007 now stands in (a taster to gather evidence).
    for _, _, who, what in replayed:
        assert who == "employee 00007" or what.startswith("recommendation.allocation["), what


def changed_rules(tmp_path: Path) -> Path:
    """The packaged rules with one rule's threshold moved: evidence-sufficient now asks
    for more observations than a habit needs (> instead of >=)."""
    rules = Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))
    evidence = rules / "15-evidence.yaml"
    text = evidence.read_text(encoding="utf-8")
    old = "      - evidence.observed >= $habit_episodes\n"
    assert text.count(old) == 1
    evidence.write_text(text.replace(old, old.replace(">=", ">")), encoding="utf-8")
    return rules


def test_replay_detects_a_changed_rule(outdir: Path, tmp_path: Path) -> None:
    rules = changed_rules(tmp_path)
    code, output = verify(outdir, "--workbook", str(sample_workbook()), "--rules", str(rules))
    assert code == EXIT_AUDIT
    assert "not the rulebook of this run" in output
    assert "rule evidence-sufficient: changed since the run" in output
    assert "FAIL: rule " in output and output.count("FAIL: rule ") == 1
    for employee in ("00007", "00008"):
        assert (
            f'replay: employee {employee}: recommendation.outcomes.heart[0]: "Not evidenced" '
            '-> "Insufficient evidence"' in output
        ), output


def test_replay_uses_the_recorded_rules_folder(tmp_path: Path) -> None:
    rules = changed_rules(tmp_path)
    out = evaluate(sample_workbook(), tmp_path / "out", "--rules", str(rules))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rulebook"]["packaged"] is False
    assert manifest["rulebook"]["path"] == str(rules.absolute())
    code, output = verify(out, "--workbook", str(sample_workbook()))
    assert code == 0, output
    shutil.rmtree(rules)
    code, output = verify(out, "--workbook", str(sample_workbook()))
    assert code == 1 and "give them with --rules" in output


# --------------------------------------------------------------------------------------
# diff
# --------------------------------------------------------------------------------------


def test_diff_moves_exactly_the_expected_people(tmp_path: Path) -> None:
    rules = changed_rules(tmp_path)
    before = evaluate_workbook(sample_workbook())
    # Hand-derived from rulebook A's facts: Sufficient evidence with exactly as many
    # observations as a habit needs is now Thin, so the verdict falls to Insufficient
    # evidence (the evidence rules outrank every verdict but the newcomer's).
    expected = set()
    for r in before.results:
        values = before.facts[r.employee_id].values
        if values["evidence.observed"] == before.rulebook.parameters[
            "habit_episodes"
        ].value and r.evaluation.outcomes["evidence_quality"] == ("Sufficient",):
            expected.add(r.employee_id)
    assert expected == {"00007", "00008", "00036"}
    diff = audit.diff_rulebooks(sample_workbook(), default_rules_dir(), rules)
    assert diff.rules_changed == ("evidence-sufficient",)
    assert diff.rules_added == () and diff.rules_removed == ()
    assert diff.files_changed == ("15-evidence.yaml",)
    hearts = {p.employee_id for p in diff.changed if any(c.kind == "heart" for c in p.changes)}
    assert hearts == expected
    for person in diff.changed:
        kinds = {c.kind for c in person.changes}
        assert person.employee_id in expected or kinds <= {"allocation", "investments"}
        if person.employee_id in expected:
            assert person.causes == ("rule evidence-sufficient (changed)",)
    assert diff.totals["heart"] == 3


def test_diff_cli_text_and_json(tmp_path: Path) -> None:
    rules = changed_rules(tmp_path)
    args = ["audit", "diff", str(sample_workbook()), "--rules-a", str(default_rules_dir())]
    code, text = run(*args, "--rules-b", str(rules))
    assert code == 0, text
    assert "rules changed: evidence-sufficient" in text
    assert "heart: Not evidenced -> Insufficient evidence" in text
    assert "because: rule evidence-sufficient (changed)" in text
    assert "totals: " in text and "heart 3" in text
    code, out = run(*args, "--rules-b", str(rules), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["rules_changed"] == ["evidence-sufficient"]
    assert {p["employee_id"] for p in data["changed"]} >= {"00007", "00008"}


def test_diff_of_a_rulebook_with_itself_is_empty() -> None:
    diff = audit.diff_rulebooks(sample_workbook(), default_rules_dir(), default_rules_dir())
    assert diff.changed == () and diff.totals == {} and diff.files_changed == ()
    assert "the two rulebooks are identical" in audit.format_diff(diff)


# --------------------------------------------------------------------------------------
# Fairness
# --------------------------------------------------------------------------------------

L, A = "Heart for leadership: Strong", "allocated a development investment"


def people(sex: str, race: str, count: int, selected: int, prefix: str) -> list[Subject]:
    return [
        Subject(f"{prefix}{n}", sex, race, frozenset({L} if n < selected else set()))
        for n in range(count)
    ]


def test_fairness_against_a_hand_computed_example() -> None:
    subjects = [
        *people("Female", "Asian", 6, 2, "fa"),  # 2/6
        *people("Female", "White", 4, 2, "fw"),  # 2/4
        *people("Male", "Asian", 5, 4, "ma"),  # 4/5
        *people("Male", "White", 5, 2, "mw"),  # 2/5
        *people("Nonbinary", "White", 2, 1, "nw"),  # 1/2: a group of 2
        *people(fairness.UNKNOWN, "Asian", 3, 3, "ua"),  # unknown sex
    ]
    report = fairness_of(subjects, [L, A], min_group=5, without_record=1)
    assert report.people == 25 and report.unknown_sex == 3 and report.without_record == 1
    tables = {(t.measure, t.by): {g.group: g for g in t.groups} for t in report.tables}

    by_sex = tables[(L, "sex")]
    # Female 4/10 = 0.40; Male 6/10 = 0.60 (highest); ratio 0.40/0.60 = 0.6667: flagged
    assert (by_sex["Female"].people, by_sex["Female"].selected) == (10, 4)
    assert by_sex["Female"].rate == 0.4 and by_sex["Female"].impact_ratio == 0.6667
    assert by_sex["Female"].flagged and by_sex["Female"].status == "compared"
    assert by_sex["Male"].rate == 0.6 and by_sex["Male"].impact_ratio == 1.0
    assert by_sex["Male"].status == "reference" and not by_sex["Male"].flagged
    assert by_sex["Nonbinary"].status == "too small" and by_sex["Nonbinary"].rate is None
    assert (by_sex["Nonbinary"].people, by_sex["Nonbinary"].selected) == (2, 1)
    assert by_sex[fairness.UNKNOWN].status == "unknown" and by_sex[fairness.UNKNOWN].people == 3
    assert by_sex[fairness.UNKNOWN].selected == 3 and by_sex[fairness.UNKNOWN].impact_ratio is None

    by_race = tables[(L, "race/ethnicity")]
    # Asian 9/14 = 0.6429 (highest, the unknown-sex people count here);
    # White 5/11 = 0.4545; ratio 0.4545/0.6429 = 0.7071: flagged
    assert by_race["Asian"].rate == 0.6429 and by_race["Asian"].status == "reference"
    assert by_race["White"].rate == 0.4545 and by_race["White"].impact_ratio == 0.7071
    assert by_race["White"].flagged

    both = tables[(L, "sex x race/ethnicity")]
    # Female/Asian 2/6 = 0.3333 and Male/White 2/5 = 0.40 against Male/Asian 4/5 = 0.80;
    # Female/White (4) and Nonbinary/White (2) too small; Unknown/Asian unknown.
    assert both["Male / Asian"].status == "reference"
    assert both["Female / Asian"].impact_ratio == 0.4167 and both["Female / Asian"].flagged
    assert both["Male / White"].impact_ratio == 0.5 and both["Male / White"].flagged
    assert both["Female / White"].status == "too small"
    assert both["Nonbinary / White"].status == "too small"
    assert both[f"{fairness.UNKNOWN} / Asian"].status == "unknown"

    # nobody allocated: rates of 0 and no ratios, said in a note
    allocated = {g.group: g for g in next(t for t in report.tables if t.measure == A).groups}
    assert allocated["Female"].rate == 0.0 and allocated["Female"].impact_ratio is None
    assert not any(g.flagged for g in allocated.values())
    assert "no ratios" in next(t for t in report.tables if t.measure == A).note
    flagged = {(t.by, g.group) for t, g in report.flagged}
    assert flagged == {
        ("sex", "Female"),
        ("race/ethnicity", "White"),
        ("sex x race/ethnicity", "Female / Asian"),
        ("sex x race/ethnicity", "Male / White"),
    }


def test_four_fifths_exactly_is_not_flagged() -> None:
    subjects = [*people("F", "X", 10, 4, "f"), *people("M", "X", 10, 5, "m")]
    table = fairness_of(subjects, [L]).tables[0]
    female = next(g for g in table.groups if g.group == "F")
    assert female.impact_ratio == 0.8 and not female.flagged


@pytest.mark.parametrize(
    ("value", "group"),
    [(None, "Unknown"), ("  ", "Unknown"), ("Prefer not to say", "Unknown"),
     ("unknown", "Unknown"), (" Female ", "Female"), ("Two  or more", "Two or more")],
)  # fmt: skip
def test_categories(value: str | None, group: str) -> None:
    assert fairness.category(value) == group


def test_fairness_of_the_sample_from_workbook_and_outdir_agree(sample_out: Path) -> None:
    code, from_book = run("audit", "fairness", str(sample_workbook()), "--format", "json")
    assert code == 0, from_book
    code, from_out = run("audit", "fairness", str(sample_out), "--format", "json")
    assert code == 0, from_out
    assert json.loads(from_book) == json.loads(from_out)
    data = json.loads(from_book)
    assert data["people"] == 45 and data["min_group"] == 5
    measures = data["measures"]
    # One measure per outcome of each decision declaring `fairness` (decisions.yaml), then
    # the allocation on the tracks catalogue.yaml declares an advantage.
    assert measures[:4] == [
        "Heart for leadership: Strong",
        "Heart for leadership: Emerging",
        "Heart for leadership: Not evidenced",
        "Heart for leadership: Insufficient evidence",
    ]
    assert "Recommended track: Leadership" in measures
    tracks = ["Leadership", "Expert", "Personal leadership"]
    assert measures[-1] == fairness.allocated_measure(tracks)
    assert data["advantages"] == [
        "Heart for leadership: Strong",
        "Recommended track: Leadership",
        "Recommended track: Expert",
        "Recommended track: Personal leadership",
        measures[-1],
    ]
    # Hand check of one figure against recommendations.json and the Demographics sheet
    recs = json.loads((sample_out / "recommendations.json").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(sample_workbook(), read_only=True)
    sexes = {r[0]: r[1] for r in book["Demographics"].iter_rows(min_row=2, values_only=True)}
    catalogue = {r[0]: r[2] for r in book["Investments"].iter_rows(min_row=2, values_only=True)}
    women = [p for p in recs["people"] if sexes.get(p["employee_id"]) == "Female"]
    allocated = [
        p
        for p in women
        if any(
            a["status"] == "allocated" and catalogue.get(code) in tracks
            for code, a in p["allocation"].items()
        )
    ]
    table = next(t for t in data["tables"] if t["measure"] == measures[-1] and t["by"] == "sex")
    female = next(g for g in table["groups"] if g["group"] == "Female")
    assert (female["people"], female["selected"]) == (len(women), len(allocated))
    code, text = run("audit", "fairness", str(sample_out))
    assert "four-fifths" in text and "Female" in text
    assert "Recommended track: Develop in role, by sex (no advantage: not flagged)" in text


def test_flags_only_on_outcomes_that_confer_an_advantage() -> None:
    # The same selection rates under an advantage outcome and a neutral one: only the
    # advantage one is flagged.
    subjects = [
        Subject(f"f{n}", "Female", "X", frozenset({"good", "plain"} if n < 2 else set()))
        for n in range(10)
    ] + [
        Subject(f"m{n}", "Male", "X", frozenset({"good", "plain"} if n < 5 else set()))
        for n in range(10)
    ]
    report = fairness_of(
        subjects,
        [fairness.Measure("good", True), fairness.Measure("plain", False)],
    )
    flagged = {t.measure for t, _ in report.flagged}
    assert flagged == {"good"}
    assert report.advantages == ("good",)
    plain = next(t for t in report.tables if t.measure == "plain" and t.by == "sex")
    female = next(g for g in plain.groups if g.group == "Female")
    assert female.impact_ratio == 0.4 and not female.flagged


def test_fairness_in_the_panel_summary(sample_out: Path) -> None:
    summary = (sample_out / "summary.md").read_text(encoding="utf-8")
    assert "## Fairness monitor" in summary
    # One table per outcome, every grouping in it; neutral outcomes say so.
    assert summary.count("### Heart for leadership: Strong\n") == 1
    assert "### Recommended track: Develop in role (no advantage: rates shown, not flagged)" in (
        summary
    )
    assert "| sex x race/ethnicity |" in summary and "too small to rate" in summary
    fairness_part = summary.split("## Fairness monitor")[1].split("\n## ")[0]
    for table in fairness_part.split("\n### ")[1:]:
        if "(no advantage" in table.splitlines()[0]:
            assert "below 0.80" not in table, table.splitlines()[0]
    html = (sample_out / "summary.html").read_text(encoding="utf-8")
    assert '<section id="fairness"' in html


# --------------------------------------------------------------------------------------
# Demographics isolation
# --------------------------------------------------------------------------------------


def _drop_demographics(book: Any) -> None:
    book.remove(book["Demographics"])


def _change_demographics(book: Any) -> None:
    sheet = book["Demographics"]
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, 2).value = "Male" if sheet.cell(row, 2).value == "Female" else "Female"
        sheet.cell(row, 3).value = "Prefer not to say"


def test_demographics_change_no_recommendation(tmp_path: Path) -> None:
    outs = {}
    for name, edit in (
        ("plain", None),
        ("without", _drop_demographics),
        ("changed", _change_demographics),
    ):
        book = edited_workbook(tmp_path / f"{name}.xlsx", edit)
        outs[name] = evaluate(book, tmp_path / name, "--allow-rejects")
    base = outs["plain"]
    for name in ("without", "changed"):
        other = outs[name]
        assert (other / "recommendations.json").read_bytes() == (
            base / "recommendations.json"
        ).read_bytes(), name
        assert trace_of(other) == trace_of(base), name
        manifests = [json.loads((o / "manifest.json").read_text()) for o in (base, other)]
        assert manifests[0]["input"]["sha256"] != manifests[1]["input"]["sha256"]
        assert manifests[0]["trace"] == manifests[1]["trace"]
    assert "Fairness monitor" not in (outs["without"] / "summary.md").read_text(encoding="utf-8")
    code, text = run("audit", "fairness", str(outs["without"]))
    assert code == 0 and "no Demographics sheet" in text


def test_no_rule_reads_demographics() -> None:
    result = evaluate_workbook(sample_workbook())
    cells = {
        ref
        for r in result.results
        for refs in r.trace["cells"].values()
        for ref in refs
        if isinstance(ref, str)
    }
    assert cells and not any(ref.startswith("Demographics!") for ref in cells)


# --------------------------------------------------------------------------------------
# Human oversight: overrides validated, beside the recommendation everywhere
# --------------------------------------------------------------------------------------


def _bad_overrides(book: Any) -> None:
    sheet = book["Overrides"]
    rows = [
        ("00001", "heart", "Emerging", "", "A. Moreau"),  # no reason
        ("00002", "heart", "Emerging", "Seen at the offsite.", ""),  # no decider
        ("00003", "heart", "Stellar", "Seen at the offsite.", "A. Moreau"),  # not a value
        ("00004", "shoe size", "42", "Because.", "A. Moreau"),  # not a field
        ("99999", "heart", "Strong", "Because.", "A. Moreau"),  # not a person
    ]
    for n, values in enumerate(rows, sheet.max_row + 1):
        for c, value in enumerate(values, 1):
            sheet.cell(n, c).value = value


def test_override_validation(tmp_path: Path) -> None:
    """Reason and decider required, a real field, a real person (ingestion), a real
    value of the field (decide); an invalid override is never applied."""
    book = edited_workbook(tmp_path / "bad.xlsx", _bad_overrides)
    code, output = run("evaluate", str(book), "-o", str(tmp_path / "refused"))
    assert code == 1 and not (tmp_path / "refused").exists()
    result = evaluate_workbook(book, allow_rejects=True)
    errors = "\n".join(str(p) for p in result.problems if p.severity == "error")
    assert "Overrides!D4: reason is needed on every row but is blank" in errors, errors
    assert "Overrides!E5: decided_by is needed on every row but is blank" in errors
    assert "Overrides!B7: 'shoe size' is not a field" in errors
    assert "Overrides!A8: employee_id '99999' is not an employee_id" in errors
    assert "Overrides!C6: override not applied: 'Stellar' is not a value of heart" in errors
    assert {r.number for r in result.panel.rejected if r.sheet == "Overrides"} == {4, 5, 7, 8}
    applied = {(o.employee_id, o.field) for o in result.decisions.overrides}
    assert applied == {("00010", "heart"), ("00030", "investment")}


def test_overrides_beside_the_recommendation_everywhere(sample_out: Path) -> None:
    record = next(json.loads(x) for x in trace_of(sample_out) if '"employee_id":"00010"' in x)
    override = record["recommendation"]["overrides"][0]
    assert override["field"] == "heart" and override["decision"] == ["Emerging"]
    assert override["recommended"] == record["recommendation"]["outcomes"]["heart"]
    assert override["decided_by"] == "K. Osei" and override["direction"] == "upgrade"
    recs = json.loads((sample_out / "recommendations.json").read_text(encoding="utf-8"))
    person = next(p for p in recs["people"] if p["employee_id"] == "00010")
    assert person["heart"] == "Insufficient evidence"  # the recommendation stays
    assert person["override"][0]["decision"] == ["Emerging"]
    brief = (sample_out / "briefs" / "00010.md").read_text(encoding="utf-8")
    assert "Emerging" in brief and "K. Osei" in brief
    summary = (sample_out / "summary.md").read_text(encoding="utf-8")
    assert "By direction: heart upgrade 1" in summary
    assert "By decider: A. Moreau 1; K. Osei 1" in summary
    book = openpyxl.load_workbook(sample_out / "recommendations.xlsx", read_only=True)
    rows = [[str(c) for c in r] for r in book.worksheets[0].iter_rows(values_only=True)]
    row = next(r for r in rows if r[0] == "00010")
    assert any("Emerging" in c and "K. Osei" in c for c in row), row


def test_every_brief_says_how_to_contest(sample_out: Path, tmp_path: Path) -> None:
    for brief in (sample_out / "briefs").glob("*.md"):
        assert "talent-review@example.org" in brief.read_text(encoding="utf-8"), brief
    blank = edited_workbook(
        tmp_path / "blank.xlsx", lambda book: setattr(book["Cycle"]["G2"], "value", None)
    )
    out = evaluate(blank, tmp_path / "out")
    text = (out / "briefs" / "00001.md").read_text(encoding="utf-8")
    assert "the panel's HR business partner" in text and "contest" in text
