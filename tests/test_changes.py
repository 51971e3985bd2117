"""What would change the outcome (talentrules/changes.py, rules/changes.yaml): the
changes are checked like the rest of the rulebook, and the search, on the sample's real
rows through the real facts and the reference evaluator, names changes a person could
make that move the verdict the way the rulebook names, heart first."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from talentrules.changes import (
    Changes,
    Person,
    _observations,
    changes_problems,
    load_changes,
    nearest,
)
from talentrules.cli import EXIT_RULES, cli
from talentrules.facts import DerivationPlan, PersonFacts
from talentrules.paths import default_rules_dir, sample_workbook
from talentrules.reference import evaluate
from talentrules.report.view import group_rows
from talentrules.rulebook import load_rulebook
from talentrules.run import RunResult, evaluate_workbook


@pytest.fixture(scope="module")
def sample() -> RunResult:
    return evaluate_workbook(sample_workbook(), jobs=1)


def found(result: RunResult, employee_id: str) -> dict[str, list[tuple[str, str]]]:
    changes = load_changes(result.rulebook)
    evidence = group_rows(result.panel.rows["Evidence"], "employee_id")
    person = Person(
        result.rulebook,
        DerivationPlan(result.rulebook.vocabulary),
        employee_id,
        result.facts[employee_id].values,
        evidence.get(employee_id, []),
        result.panel.as_of,
    )
    now = result.result(employee_id).evaluation.outcomes
    return {
        name: [(f.outcome, f.sentence) for f in items]
        for name, items in nearest(person, changes, now).items()
    }


def test_self_only_evidence_is_told_what_would_settle_the_heart(sample: RunResult) -> None:
    # Daniel Kim (00009): every observation is his own; more by others would let the
    # verdict move from Insufficient evidence to Emerging, and the brief says so first.
    changes = found(sample, "00009")
    assert list(changes) == ["heart", "track"]
    (heart,) = changes["heart"]
    assert heart[0] == "Emerging"
    assert heart[1].startswith("people other than them saw them show “Wants to lead” (H-AFF)")
    assert "3 more times" in heart[1]


def test_only_changes_toward_a_better_verdict(sample: RunResult) -> None:
    # Kenji Sato (00030): one more observation would make the evidence sufficient and the
    # verdict Not evidenced: true, but not named (changes.yaml explain: verdict toward
    # Strong, Emerging); a strong heart has nothing to move toward.
    assert all(outcome in ("Strong", "Emerging") for outcome, _ in found(sample, "00030")["heart"])
    assert found(sample, "00001")["heart"] == []


def test_a_stated_interest_moves_the_track(sample: RunResult) -> None:
    track = dict(found(sample, "00001")["track"])
    assert (
        track["Expert"] == "their stated career interest were “Grow as expert” (now “Lead people”)"
    )


def test_rules_check_reads_changes_yaml(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    assert changes_problems(load_rulebook(rules)) == []
    text = (rules / "changes.yaml").read_text(encoding="utf-8")
    text = text.replace("verdict: [Strong, Emerging]", "verdict: [Strong, Stellar]")
    text = text.replace("fact: performance", "fact: tenure_months")
    text = text.replace("{signals} {count}", "{signal} {count}")
    (rules / "changes.yaml").write_text(text, encoding="utf-8")
    problems = "\n".join(changes_problems(load_rulebook(rules)))
    assert "'Stellar' is not an outcome of heart" in problems
    assert "'tenure_months' is not an Employees fact a change can set" in problems
    assert "'{signal}' is not known here" in problems
    result = CliRunner().invoke(cli, ["rules", "check", str(rules)])
    assert result.exit_code == EXIT_RULES and "changes.yaml" in result.output


def test_a_rulebook_workbook_carries_the_changes_the_fairness_and_the_fallbacks(
    tmp_path: Path,
) -> None:
    # rules export keeps changes.yaml (the Changes sheet), each outcome's fairness (the
    # Outcomes sheet) and the allocation's fallback and advantage (the Allocation
    # sheet); read back, the workbook is the same rulebook for what briefs say.
    from dataclasses import replace

    from openpyxl import load_workbook

    from talentrules.decide import load_policy
    from talentrules.rulexlsx import export_rulebook

    book = export_rulebook(None, tmp_path / "rulebook.xlsx")
    folder, workbook = load_rulebook(None), load_rulebook(book)

    def said(changes: Changes) -> Changes:  # where each is written aside
        return replace(
            changes, source="", changes=tuple(replace(c, line=0) for c in changes.changes)
        )

    assert said(load_changes(workbook)) == said(load_changes(folder))
    assert {n: d.fairness for n, d in workbook.decisions.items()} == {
        n: d.fairness for n, d in folder.decisions.items()
    }
    a, b = load_policy(default_rules_dir()), load_policy(book)
    assert (b.fallback, b.advantage) == (a.fallback, a.advantage) != ({}, ())
    sheet = load_workbook(book)["Changes"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["setting", "name", "values", "as", "says"]
    assert rows[1][:3] == ["explain", "verdict", "Strong\nEmerging"]
    assert ["show", None, 3, None, None] in rows
    # A mistake on the sheet is named by its cell.
    sheet.cell(2, 1).value = "explian"
    sheet.parent.save(tmp_path / "broken.xlsx")
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path / "broken.xlsx")])
    assert result.exit_code == EXIT_RULES
    assert "Changes!A2" in result.output and "did you mean 'explain'" in result.output


def test_a_what_if_derives_again_only_what_the_added_rows_move(sample: RunResult) -> None:
    """Changeable derives a signal family's facts only for the codes added, and with
    ``only`` only those facts; every fact it gives equals compute_facts' over the
    workbook's rows with the added ones."""
    import dataclasses

    from talentrules.facts import Changeable, compute_facts
    from talentrules.reference import compile_rulebook

    vocabulary = sample.rulebook.vocabulary
    plan = DerivationPlan(vocabulary)
    read = compile_rulebook(sample.rulebook).read
    evidence = group_rows(sample.panel.rows["Evidence"], "employee_id")
    as_of = sample.panel.as_of
    assert as_of is not None
    codes = sorted({str(r.get("signal")) for r in sample.panel.rows["Evidence"]})
    checked = 0
    for employee_id in list(sample.facts)[:12]:
        values, rows = sample.facts[employee_id].values, evidence.get(employee_id, [])
        person = Person(sample.rulebook, plan, employee_id, values, rows, as_of)
        changeable = Changeable(values, plan, as_of, rows)
        narrow = Changeable(values, plan, as_of, rows, read)
        assert changeable.changed() == dict(values)
        for code in codes:
            added = _observations(person, code, 2, as_of, {"source_type": "Peer"})
            everyone = {  # the person alone, their rows and the added ones
                **sample.panel.rows,
                "Employees": [sample.employees[employee_id]],
                "Evidence": [*rows, *added],
            }
            panel = dataclasses.replace(sample.panel, rows=everyone)
            full = {p.employee_id: p for p in compute_facts(panel, vocabulary)}[employee_id]
            assert changeable.changed(added=added) == full.values, (employee_id, code)
            delta = narrow.delta(added=added)
            assert set(delta) <= set(read)
            assert {name: full.values[name] for name in delta} == delta, (employee_id, code)
            assert all(full.values[n] == values[n] for n in read if n not in delta)
            checked += full.values != dict(values)
    assert checked  # the added rows moved facts


def test_a_reevaluation_is_evaluate(sample: RunResult) -> None:
    """Reevaluation evaluates again only the rules that read what changed, and only the
    decisions asked for and those they read; for any set of changed facts its
    outcomes of those decisions are evaluate's."""
    import random

    from talentrules.reference import Reevaluation

    rulebook = sample.rulebook
    people = list(sample.facts.values())
    names = list(rulebook.decisions)
    draw = random.Random(13)
    moved = 0
    for _ in range(300):
        a, b = draw.sample(people, 2)
        asked = draw.sample(names, draw.randint(0, 2))
        # Half the time with the person's evaluation: the rules that hold now read
        # from it, not worked out again.
        evaluation = evaluate(rulebook, a)
        again = Reevaluation(rulebook, a, asked, evaluation if draw.random() < 0.5 else None)
        now = evaluation.outcomes
        assert set(asked) <= set(again.now)
        assert all(now[name] == outcomes for name, outcomes in again.now.items())
        changed = {n: b.values[n] for n in draw.sample(sorted(a.values), draw.randint(1, 12))}
        after = evaluate(rulebook, PersonFacts(a.employee_id, {**a.values, **changed}, {}))
        found = again.outcomes(changed)
        assert all(found[name] == after.outcomes[name] for name in asked or names), changed
        moved += any(found[name] != again.now[name] for name in asked or names)
    assert moved > 20  # many of the changes moved a decision


def _refs(line: Any) -> list[str]:
    """Where each of a line's values came from."""
    return [line.ref(column) for column in line.values]


def test_a_what_if_starts_from_the_lines_the_run_derived_only_for_that_person(
    sample: RunResult,
) -> None:
    """A brief's search takes the person's Evidence lines from the derivation of their
    facts just made, and only when they are that person's, on that as_of, of those
    rows; else it makes its own. Either way the lines are the same."""
    import datetime as dt

    from talentrules.facts import Changeable, FactsOnDemand

    facts = sample.facts
    assert isinstance(facts, FactsOnDemand)
    plan = DerivationPlan(sample.rulebook.vocabulary, facts.derivation)
    evidence = group_rows(sample.panel.rows["Evidence"], "employee_id")
    as_of = sample.panel.as_of
    assert as_of is not None
    who = [e for e in facts if len(evidence.get(e, [])) > 1][:3]
    for employee_id in who:
        rows = evidence[employee_id]
        facts.derivation.person(sample.employees[employee_id])
        lines = plan.own_lines(employee_id, as_of, rows)
        assert lines is not None and [line.number for line in lines] == [r.number for r in rows]
        made = Changeable(facts[employee_id].values, plan, as_of, rows).lines
        assert [(line.values, _refs(line), line.passed) for line in lines] == [
            (line.values, _refs(line), line.passed) for line in made
        ]
        other = next(e for e in who if e != employee_id)
        assert plan.own_lines(other, as_of, evidence[other]) is None
        assert plan.own_lines(employee_id, as_of + dt.timedelta(days=1), rows) is None
        assert plan.own_lines(employee_id, as_of, rows[:-1]) is None
        assert plan.own_lines(employee_id, as_of, rows[::-1]) is None
    # A plan of its own (another vocabulary object) never takes the run's lines.
    alone = DerivationPlan(dict(sample.rulebook.vocabulary), facts.derivation)
    assert alone.own_lines(who[-1], as_of, evidence[who[-1]]) is None
