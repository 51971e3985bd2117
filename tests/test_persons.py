"""Rule tests' persons: a person described as the panel's workbook describes people.

The facts of a test's person must be exactly the facts ingest and facts derive for the
same person written into a real review workbook; every mistake in a person is named at
its file and line (or sheet and cell).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from talentrules.errors import RulebookError
from talentrules.facts import compute_facts, load_catalogue
from talentrules.ingest import load_workbook
from talentrules.paths import default_rules_dir
from talentrules.rulebook import load_rulebook
from talentrules.rulefiles import open_rules
from talentrules.ruletests import load_rule_tests
from talentrules.template import write_template

AS_OF = dt.date(2026, 3, 31)

PERSON = """\
tests:
  - name: a person as the panel sees her
    person:
      as_of: 2026-03-31
      employee_id: E-7
      performance: Exceeds
      potential: High
      readiness: RN
      career_interest: Lead people
      is_people_manager: yes
      direct_reports: 6
      hire_date: 2019-06-15
      months_in_role: 14
      policy_compliance: 4
      risk_of_loss: Medium
      team: {team_size: 6, on_time_rate: 91, policy_incidents: 1, engagement: 64.5}
      evidence:
        - {signal: H-DEV, observed_on: 2026-02-01, context: Project, source_type: Peer,
           source_id: P-1, outcome_in_others: Commitment, energy: Energised,
           influence_base: Personal}
        - {signal: H-DEV, months_ago: 7, context: Community, source_type: Manager,
           source_id: M-1, outcome_in_others: Commitment, energy: Drained}
        - {signal: H-DEV, months_ago: 15, context: Project, source_type: Peer}
        - {signal: C-POS, months_ago: 2, source_type: Self}
        - {signal: H-CRG, months_ago: 30, context: Crisis, source_type: Peer, source_id: P-2}
      nominations:
        - {reason: Personal, nominator_id: P-1}
        - {reason: Personal, nominator_id: P-1}
        - {reason: Expertise, nominator_id: P-3}
        - {reason: Personal, nominator_id: E-7}
      development:
        - {investment_code: LEAD-PROG, status: Completed}
        - {investment_code: LEAD-TASTER, status: Active}
    expect: {heart: Strong}
"""

# The same person as review-workbook rows: (sheet, {column: value}).
ROWS = [
    ("Cycle", {"cycle_id": "C1", "as_of": AS_OF}),
    (
        "Employees",
        {
            "employee_id": "E-7",
            "full_name": "a person as the panel sees her",
            "performance": "Exceeds",
            "potential": "High",
            "readiness": "RN",
            "career_interest": "Lead people",
            "is_people_manager": "yes",
            "direct_reports": 6,
            "hire_date": dt.date(2019, 6, 15),
            "date_in_role": dt.date(2025, 1, 31),
            "policy_compliance": 4,
            "risk_of_loss": "Medium",
        },
    ),
    (
        "Teams",
        {
            "manager_id": "E-7",
            "team_size": 6,
            "on_time_rate": 91,
            "policy_incidents": 1,
            "engagement": 64.5,
        },
    ),
]
EVIDENCE = [
    ("H-DEV", dt.date(2026, 2, 1), "Project", "Peer", "P-1", "Commitment", "Energised", "Personal"),
    ("H-DEV", dt.date(2025, 8, 31), "Community", "Manager", "M-1", "Commitment", "Drained", None),
    ("H-DEV", dt.date(2024, 12, 31), "Project", "Peer", None, None, None, None),
    ("C-POS", dt.date(2026, 1, 31), None, "Self", None, None, None, None),
    ("H-CRG", dt.date(2023, 9, 30), "Crisis", "Peer", "P-2", None, None, None),
]


def _workbook(path: Path) -> Path:
    write_template(path, empty=True, force=True)
    book = openpyxl.load_workbook(path)
    for sheet, values in ROWS:
        ws = book[sheet]
        header = [c.value for c in ws[1]]
        ws.append([values.get(h) for h in header])
    ws = book["Evidence"]
    header = [c.value for c in ws[1]]
    for n, (signal, on, context, source, source_id, outcome, energy, base) in enumerate(EVIDENCE):
        row = {
            "evidence_id": f"EV-{n}",
            "employee_id": "E-7",
            "signal": signal,
            "observed_on": on,
            "context": context,
            "source_type": source,
            "source_id": source_id,
            "outcome_in_others": outcome,
            "energy": energy,
            "influence_base": base,
        }
        ws.append([row.get(h) for h in header])
    nominations = book["Nominations"]
    for nominator, reason in (
        ("P-1", "Personal"),
        ("P-1", "Personal"),
        ("P-3", "Expertise"),
        ("E-7", "Personal"),
    ):
        nominations.append([nominator, "E-7", reason])
    development = book["Development"]
    development.append(["E-7", "LEAD-PROG", None, None, "Completed"])
    development.append(["E-7", "LEAD-TASTER", None, None, "Active"])
    book.save(path)
    return path


@pytest.fixture()
def rules(tmp_path: Path) -> Path:
    folder = Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))
    for path in (folder / "tests").glob("*.yaml"):
        path.unlink()
    return folder


def test_a_person_gets_the_facts_of_the_same_person_in_a_workbook(
    rules: Path, tmp_path: Path
) -> None:
    (rules / "tests" / "p.yaml").write_text(PERSON, encoding="utf-8")
    rulebook = load_rulebook(rules)
    (test,) = load_rule_tests(rulebook, rules)
    panel = load_workbook(_workbook(tmp_path / "review.xlsx"), signals=rulebook.signals)
    assert not panel.errors, panel.errors
    catalogue = load_catalogue(open_rules(rules))
    (person,) = compute_facts(panel, rulebook.vocabulary, catalogue)
    assert test.person.values == person.values
    # Spot checks that the derivation, not a coincidence, made them equal.
    values = test.person.values
    assert values["performance"] == 4 and values["readiness"] == "Ready now"
    assert values["tenure_months"] == 81 and values["months_in_role"] == 14
    assert values["H-DEV.episodes"] == 3 and values["H-DEV.observers"] == 3
    assert values["H-DEV.months_spanned"] == 13 and values["H-DEV.drained_share"] == 33.33
    assert values["evidence.self_reports"] == 1 and values["evidence.stale_observed"] == 1
    assert values["nominations.personal"] == 1  # P-1 twice, and never themself
    assert values["development.leadership_courses_completed"] == 1
    assert values["team.engagement"] == 64.5 and values["team.reported"] is True


def test_facts_beside_a_person_replace_what_was_derived(rules: Path) -> None:
    (rules / "tests" / "p.yaml").write_text(
        PERSON.replace(
            "    expect:", "    facts: {evidence_quality: ~, H-DEV.episodes: 9}\n    expect:"
        ).replace("{heart: Strong}", "{heart: Strong}"),
        encoding="utf-8",
    )
    with pytest.raises(RulebookError, match="unknown fact 'evidence_quality'"):
        load_rule_tests(load_rulebook(rules), rules)
    (rules / "tests" / "p.yaml").write_text(
        PERSON.replace("    expect:", "    facts: {H-DEV.episodes: 9}\n    expect:"),
        encoding="utf-8",
    )
    (test,) = load_rule_tests(load_rulebook(rules), rules)
    assert test.person.values["H-DEV.episodes"] == 9
    assert test.person.values["H-DEV.observers"] == 3


@pytest.mark.parametrize(
    ("person", "message"),
    [
        ("      readiness: Ready soon\n", r"p.yaml:5: 'Ready soon' is not a readiness"),
        (
            "      readyness: Ready now\n",
            r"p.yaml:5: a person has no 'readyness'; did you mean 'readiness'",
        ),
        (
            "      evidence:\n        - {signal: H-DEV, months_ago: 2}\n",
            r"p.yaml:6: a evidence row needs source_type",
        ),
        (
            "      evidence:\n        - {signal: H-XXX, months_ago: 2, source_type: Peer}\n",
            r"p.yaml:6: 'H-XXX' is not a signal",
        ),
        (
            "      hire_date: 2020-01-01\n",
            r"p.yaml:5: a person with dates needs as_of",
        ),
        (
            "      as_of: 2026-01-01\n      tenure_months: 10\n      hire_date: 2020-01-01\n",
            r"p.yaml:6: give tenure_months or hire_date, not both",
        ),
        (
            "      evidence:\n        - {signal: H-DEV, months_ago: -1, source_type: Peer}\n",
            r"p.yaml:6: a whole number of months \(at least 0\)",
        ),
        (
            "      team: {size: 4}\n",
            r"p.yaml:5: a team has no 'size'; did you mean 'team_size'",
        ),
        ("      tenure_months: $habit_monts\n", r"p.yaml:5: unknown parameter '\$habit_monts'"),
    ],
)
def test_a_mistake_in_a_person_is_named_at_its_line(rules: Path, person: str, message: str) -> None:
    text = f"tests:\n  - name: x\n    expect: {{heart: Strong}}\n    person:\n{person}"
    (rules / "tests" / "p.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError, match=message):
        load_rule_tests(load_rulebook(rules), rules)


def test_months_ago_follows_a_parameter(rules: Path) -> None:
    text = (
        "tests:\n  - name: x\n    expect: {evidence_quality: Stale}\n    person:\n"
        "      evidence:\n"
        "        - {signal: H-DEV, months_ago: $stale_months + 1, source_type: Peer}\n"
    )
    (rules / "tests" / "p.yaml").write_text(text, encoding="utf-8")
    (test,) = load_rule_tests(load_rulebook(rules), rules)
    assert test.person.values["evidence.stale_observed"] == 1
    assert test.person.values["evidence.observed"] == 0
