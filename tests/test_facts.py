"""Facts: a small real workbook in tmp_path, read by ingest, turned into facts."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from talentrules.errors import RulebookError
from talentrules.facts import (
    COMPUTED,
    PersonFacts,
    blank_values,
    compute_facts,
    facts_from_mapping,
    load_catalogue,
    uncomputable,
    whole_months,
)
from talentrules.ingest import load_workbook
from talentrules.model import Cell, Panel, Row
from talentrules.paths import default_rules_dir
from talentrules.rulebook import load_rulebook
from talentrules.vocabulary import FactSpec

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def vocabulary() -> dict[str, FactSpec]:
    return load_rulebook(default_rules_dir()).vocabulary


def write_book(path: Path, sheets: dict[str, list[dict[str, Any]]]) -> Path:
    """A workbook with one sheet per entry, headers from the first row's keys."""
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        header = list(dict.fromkeys(k for row in rows for k in row))
        sheet.append(header)
        for row in rows:
            sheet.append([row.get(k) for k in header])
    book.save(path)
    return path


def ev(n: int, who: str, signal: str, day: str, **kw: Any) -> dict[str, Any]:
    return {
        "evidence_id": f"EV-{n:03d}",
        "employee_id": who,
        "signal": signal,
        "observed_on": dt.date.fromisoformat(day),
        "source_type": kw.pop("source_type", "Peer"),
        **kw,
    }


EMPLOYEES = [
    {
        "employee_id": "E1",
        "full_name": "Ana Example",
        "hire_date": dt.date(2016, 6, 1),
        "date_in_role": dt.date(2023, 11, 1),
        "is_people_manager": "Y",
        "direct_reports": 6,
        "current_track": "People manager",
        "performance": 4,
        "performance_prior_1": 3,
        "performance_prior_2": 3,
        "potential": 3,
        "expertise": 4,
        "readiness": "Ready now",
        "risk_of_loss": "Low",
        "impact_of_loss": "High",
        "career_interest": "Lead people",
        "aspiration_statement": "I like growing people.",
        "policy_compliance": 4,
    },
    {"employee_id": "E2", "full_name": "Ben Blank"},
    {"employee_id": "E3", "full_name": "Cy Self", "performance": 2},
]

EVIDENCE = [
    # E1: H-DEV from three sources over 15 months, one Self, one Drained.
    ev(
        1,
        "E1",
        "H-DEV",
        "2025-06-10",
        context="Project",
        source_id="S-1",
        energy="Energised",
        outcome_in_others="Commitment",
        initiated_by="Self",
        frequency="Habitual",
        influence_base="Personal",
    ),
    ev(
        2,
        "E1",
        "H-DEV",
        "2026-09-20",
        context="No formal authority",
        source_id="S-2",
        energy="Drained",
        outcome_in_others="Compliance",
        influence_base="Expertise",
    ),
    ev(
        3,
        "E1",
        "H-DEV",
        "2026-01-05",
        context="Project",
        source_type="Self",
        source_id="E1",
        frequency="Habitual",
        influence_base="Personal",
    ),
    ev(
        4,
        "E1",
        "H-DEV",
        "2025-12-01",
        context="Project",
        source_type="Manager",
        outcome_in_others="Resistance",
        influence_base="Rules and monitoring",
    ),
    # E1: an old heart episode and a counter-signal without source_id.
    ev(
        5,
        "E1",
        "H-VIS",
        "2023-10-30",
        context="Crisis",
        source_type="Manager",
        influence_base="Position",
    ),
    ev(6, "E1", "C-DER", "2026-10-01", source_type="Direct report"),
    # E3: self-reported only.
    ev(7, "E3", "H-AFF", "2026-03-01", source_type="Self"),
    ev(8, "E3", "H-AFF", "2026-04-01", source_type="Self"),
]

BOOK: dict[str, list[dict[str, Any]]] = {
    "Cycle": [{"cycle_id": "2026-H2", "as_of": AS_OF, "budget": 10000}],
    "Employees": EMPLOYEES,
    "Evidence": EVIDENCE,
    "Nominations": [
        {"nominator_id": "E2", "nominee_id": "E1", "reason": "Personal"},
        {"nominator_id": "E2", "nominee_id": "E1", "reason": "Personal"},  # same person twice
        {"nominator_id": "E3", "nominee_id": "E1", "reason": "Personal"},
        {"nominator_id": "E3", "nominee_id": "E1", "reason": "Position"},
        {"nominator_id": "E1", "nominee_id": "E1", "reason": "Expertise"},  # self: not counted
    ],
    "Teams": [
        {
            "manager_id": "E1",
            "team_size": 6,
            "on_time_rate": 92.5,
            "policy_incidents": 1,
            "engagement": 74,
            "voluntary_attrition": None,
        }
    ],
    "Development": [
        {"employee_id": "E1", "investment_code": "LEAD-PROG", "status": "Completed"},
        {"employee_id": "E1", "investment_code": "LEAD-STRETCH", "status": "Completed"},
        {"employee_id": "E1", "investment_code": "LEAD-COACH", "status": "Active"},
        {"employee_id": "E1", "investment_code": "EXP-LADDER", "status": "Withdrawn"},
        {"employee_id": "E3", "investment_code": "LEAD-PROG", "status": "Planned"},
    ],
    "Investments": [
        {"investment_code": "LEAD-PROG", "track": "Leadership", "mode": "10"},
        {"investment_code": "LEAD-STRETCH", "track": "Leadership", "mode": "70"},
        {"investment_code": "LEAD-COACH", "track": "Leadership", "mode": "20"},
        {"investment_code": "EXP-LADDER", "track": "Expert", "mode": "70/10"},
    ],
    "Demographics": [
        {"employee_id": "E1", "sex": "Female", "race_ethnicity": "X", "age_band": "35-44"},
        {"employee_id": "E2", "sex": "Male", "race_ethnicity": "Y", "age_band": "25-34"},
    ],
}


def facts_of(path: Path, vocabulary: dict[str, FactSpec]) -> dict[str, PersonFacts]:
    panel = load_workbook(path)
    assert not panel.errors, [str(p) for p in panel.errors]
    return {p.employee_id: p for p in compute_facts(panel, vocabulary)}


@pytest.fixture(scope="module")
def people(
    tmp_path_factory: pytest.TempPathFactory, vocabulary: dict[str, FactSpec]
) -> dict[str, PersonFacts]:
    path = write_book(tmp_path_factory.mktemp("facts") / "review.xlsx", BOOK)
    return facts_of(path, vocabulary)


def test_every_vocabulary_fact_is_computed_in_code_derived_from_rows_or_a_formula(
    vocabulary: dict[str, FactSpec],
) -> None:
    assert all(uncomputable(spec) is None for spec in vocabulary.values())
    coded = [
        name
        for name, spec in vocabulary.items()
        if spec.derivation is None and spec.formula is None
    ]
    assert set(coded) == set(COMPUTED)  # what the Employees and Teams rows say
    # Declared as data, not coded: the trend is a formula of vocabulary.yaml.
    assert [name for name, spec in vocabulary.items() if spec.formula] == ["performance_trend"]
    assert "performance_trend" not in COMPUTED
    derived = [spec for spec in vocabulary.values() if spec.derivation is not None]
    # 23 evidence, nomination and development facts, 13 per catalogue signal.
    assert len(derived) == 23 + 17 * 13


def test_every_person_gets_every_fact_sorted_by_id(
    people: dict[str, PersonFacts], vocabulary: dict[str, FactSpec]
) -> None:
    assert list(people) == ["E1", "E2", "E3"]
    for person in people.values():
        assert set(person.values) == set(vocabulary) >= set(person.cells)
        # Only facts that came from cells have an entry, and never an empty one.
        assert all(person.cells.values())


def test_person_facts(people: dict[str, PersonFacts]) -> None:
    values, cells = people["E1"].values, people["E1"].cells
    assert values["performance"] == 4 and isinstance(values["performance"], int)
    assert values["performance_prior_1"] == 3
    assert values["performance_prior_2"] == 3
    assert values["performance_trend"] == 1
    assert values["potential"] == 3
    assert values["expertise"] == 4
    assert values["policy_compliance"] == 4
    assert values["readiness"] == "Ready now"
    assert values["risk_of_loss"] == "Low"
    assert values["impact_of_loss"] == "High"
    assert values["career_interest"] == "Lead people"
    assert values["current_track"] == "People manager"
    assert values["is_people_manager"] is True
    assert values["direct_reports"] == 6
    assert values["tenure_months"] == 124  # 2016-06-01 .. 2026-10-31
    assert values["months_in_role"] == 35  # 2023-11-01 .. 2026-10-31: 35 whole months
    assert values["has_aspiration_statement"] is True
    assert cells["performance"] == ("Employees!H2",)
    assert cells["performance_trend"] == ("Employees!H2", "Employees!I2")
    assert cells["tenure_months"] == ("Employees!C2", "Cycle!B2")


def test_blank_cells_are_unknown_never_zero(people: dict[str, PersonFacts]) -> None:
    values = people["E2"].values
    for name in ("performance", "potential", "readiness", "is_people_manager", "tenure_months"):
        assert values[name] is None, name
    assert values["performance_trend"] is None
    assert people["E3"].values["performance_trend"] is None  # prior blank
    assert values["has_aspiration_statement"] is False
    assert values["team.reported"] is False
    assert values["team.size"] is None
    assert values["evidence.episodes"] == 0
    assert values["evidence.self_reports"] == 0
    assert values["evidence.newest_age_months"] is None
    assert values["H-DEV.episodes"] == 0
    assert values["H-DEV.newest_age_months"] is None
    assert values["nominations.total"] == 0
    assert values["development.active"] == 0
    # Provenance of a blank is still its cell.
    assert people["E2"].cells["performance"] == ("Employees!H3",)
    assert "H-DEV.episodes" not in people["E2"].cells  # a count of 0 came from no cell


def test_signal_facts(people: dict[str, PersonFacts]) -> None:
    values, cells = people["E1"].values, people["E1"].cells
    # Rows 1, 2 and 4 are observed: by others, within 24 months. Row 3 is the person's
    # own report: it counts toward no episode, observer or commitment.
    assert values["H-DEV.episodes"] == 3
    assert values["H-DEV.self_reports"] == 1
    assert values["H-DEV.contexts"] == 2  # Project, No formal authority
    assert values["H-DEV.observers"] == 3  # S-1, S-2 and one Manager without an id
    assert values["H-DEV.months_spanned"] == 15  # 2025-06-10 .. 2026-09-20
    assert values["H-DEV.newest_age_months"] == 1  # 2026-09-20 .. 2026-10-31
    assert values["H-DEV.drained"] == 1
    assert values["H-DEV.drained_share"] == 33.33
    assert values["H-DEV.energised"] == 1
    assert values["H-DEV.commitment"] == 1
    assert values["H-DEV.self_initiated"] == 1
    assert values["H-DEV.no_authority"] == 1
    assert values["H-DEV.habitual_reports"] == 1  # row 3 said so too, but it is the person's
    # H-VIS's one row is 36 months old: stale, so it counts toward nothing current.
    assert values["H-VIS.episodes"] == 0 and values["H-VIS.months_spanned"] == 0
    assert values["H-VIS.newest_age_months"] is None
    assert values["C-DER.episodes"] == 1 and values["C-DER.observers"] == 1
    assert cells["H-DEV.episodes"] == ("Evidence!C2", "Evidence!C3", "Evidence!C5")
    assert cells["H-DEV.self_reports"] == ("Evidence!C4",)
    assert cells["H-DEV.drained"] == ("Evidence!H3",)
    assert cells["H-DEV.drained_share"] == ("Evidence!H2", "Evidence!H3", "Evidence!H5")
    assert cells["H-DEV.months_spanned"] == ("Evidence!D2", "Evidence!D3")
    assert cells["H-DEV.newest_age_months"] == ("Evidence!D3", "Cycle!B2")


def test_evidence_influence_and_outcome_facts(people: dict[str, PersonFacts]) -> None:
    values = people["E1"].values
    assert values["evidence.episodes"] == 6
    assert values["evidence.observed"] == 4  # rows 1, 2, 4, 6
    assert values["evidence.heart_episodes"] == 3
    assert values["evidence.counter_episodes"] == 1
    # S-1, S-2, Manager (no id), Direct report (no id); never the person
    assert values["evidence.observers"] == 4
    assert values["evidence.self_reports"] == 1
    assert values["evidence.stale_observed"] == 1  # 2023-10-30 is 36 months old
    assert values["evidence.newest_age_months"] == 0  # 2026-10-01
    # Influence and outcomes in others: observed rows only (not the stale Position row,
    # not the person's own Personal row).
    assert values["influence.position"] == 0
    assert values["influence.expertise"] == 1
    assert values["influence.personal"] == 1
    assert values["influence.rules"] == 1
    assert values["outcome.commitment"] == 1
    assert values["outcome.compliance"] == 1
    assert values["outcome.resistance"] == 1
    e3 = people["E3"].values
    assert e3["evidence.self_reports"] == 2 and e3["evidence.observed"] == 0
    assert e3["evidence.observers"] == 0
    assert e3["H-AFF.episodes"] == 0 and e3["H-AFF.self_reports"] == 2


def test_nomination_team_and_development_facts(people: dict[str, PersonFacts]) -> None:
    values, cells = people["E1"].values, people["E1"].cells
    assert values["nominations.personal"] == 2  # E2 twice counts once
    assert values["nominations.position"] == 1
    assert values["nominations.expertise"] == 0  # self-nomination
    assert values["nominations.total"] == 2
    assert values["team.reported"] is True
    assert values["team.size"] == 6
    assert values["team.on_time_rate"] == 92.5
    assert values["team.policy_incidents"] == 1
    assert values["team.engagement"] == 74 and isinstance(values["team.engagement"], int)
    assert values["team.voluntary_attrition"] is None
    assert cells["team.on_time_rate"] == ("Teams!C2",)
    assert values["development.leadership_courses_completed"] == 1
    assert values["development.leadership_experience_completed"] == 1
    assert values["development.active"] == 1
    assert values["development.withdrawn"] == 1
    assert people["E3"].values["development.leadership_courses_completed"] == 0  # Planned


def test_catalogue_falls_back_to_the_rulebook_and_lead_prog(
    tmp_path: Path, vocabulary: dict[str, FactSpec]
) -> None:
    book = {k: v for k, v in BOOK.items() if k != "Investments"}
    panel = load_workbook(write_book(tmp_path / "no-catalogue.xlsx", book))
    bare = {p.employee_id: p for p in compute_facts(panel, vocabulary)}["E1"].values
    # No catalogue at all: no code has a track or mode, so nothing counts.
    assert bare["development.leadership_courses_completed"] == 0
    assert bare["development.leadership_experience_completed"] == 0
    catalogue = load_catalogue(default_rules_dir() / "catalogue.yaml")
    assert catalogue["LEAD-STRETCH"] == ("Leadership", "70")
    full = {p.employee_id: p for p in compute_facts(panel, vocabulary, catalogue)}["E1"].values
    assert full["development.leadership_courses_completed"] == 1  # LEAD-PROG: mode 10
    assert full["development.leadership_experience_completed"] == 1
    # A workbook catalogue without LEAD-PROG: the code keeps the rulebook's track and
    # mode, so a completed programme still counts as a leadership course.
    partial = dict(BOOK)
    partial["Investments"] = [r for r in BOOK["Investments"] if r["investment_code"] != "LEAD-PROG"]
    panel = load_workbook(write_book(tmp_path / "partial.xlsx", partial))
    mixed = {p.employee_id: p for p in compute_facts(panel, vocabulary, catalogue)}["E1"].values
    assert mixed["development.leadership_courses_completed"] == 1


def test_demographics_are_never_read(tmp_path: Path, vocabulary: dict[str, FactSpec]) -> None:
    with_demo = facts_of(write_book(tmp_path / "with.xlsx", BOOK), vocabulary)
    without = {k: v for k, v in BOOK.items() if k != "Demographics"}
    assert facts_of(write_book(tmp_path / "without.xlsx", without), vocabulary) == with_demo
    changed = dict(BOOK)
    changed["Demographics"] = [
        {"employee_id": "E1", "sex": "Male", "race_ethnicity": "Z", "age_band": "55-64"}
    ]
    assert facts_of(write_book(tmp_path / "changed.xlsx", changed), vocabulary) == with_demo


def test_row_order_does_not_change_values(tmp_path: Path, vocabulary: dict[str, FactSpec]) -> None:
    original = facts_of(write_book(tmp_path / "a.xlsx", BOOK), vocabulary)
    shuffled = dict(BOOK)
    rng = random.Random(7)
    for name in ("Employees", "Evidence", "Nominations", "Development"):
        rows = list(BOOK[name])
        rng.shuffle(rows)
        shuffled[name] = rows
    again = facts_of(write_book(tmp_path / "b.xlsx", shuffled), vocabulary)
    assert list(again) == list(original)
    for employee_id, person in original.items():
        assert again[employee_id].values == person.values
        # The same cells, wherever the rows went.
        assert again[employee_id].cells.keys() == person.cells.keys()
        for fact, cells in person.cells.items():
            assert len(again[employee_id].cells[fact]) == len(cells), fact


def test_only_vocabulary_facts_are_produced(
    tmp_path: Path, vocabulary: dict[str, FactSpec]
) -> None:
    small = {name: vocabulary[name] for name in ("performance", "H-DEV.episodes")}
    panel = load_workbook(write_book(tmp_path / "r.xlsx", BOOK))
    person = compute_facts(panel, small)[0]
    assert person.values == {"performance": 4, "H-DEV.episodes": 3}
    assert set(person.cells) <= set(small)


def test_a_vocabulary_fact_that_cannot_be_computed_is_refused(tmp_path: Path) -> None:
    spec = FactSpec("performence", "number", "typo", file="rules/vocabulary.yaml", line=9)
    panel = load_workbook(write_book(tmp_path / "r.xlsx", BOOK))
    with pytest.raises(
        RulebookError, match="rules/vocabulary.yaml:9: .*did you mean 'performance'"
    ):
        compute_facts(panel, {spec.name: spec})


def test_without_a_cycle_ages_use_the_fallback_as_of(
    tmp_path: Path, vocabulary: dict[str, FactSpec]
) -> None:
    book = {k: v for k, v in BOOK.items() if k != "Cycle"}
    panel = load_workbook(write_book(tmp_path / "r.xlsx", book))
    assert panel.as_of == dt.date(2026, 10, 1)  # ingest: the latest observed_on
    person = {p.employee_id: p for p in compute_facts(panel, vocabulary)}["E1"]
    assert person.values["H-DEV.newest_age_months"] == 0
    assert person.cells["H-DEV.newest_age_months"] == ("Evidence!D3", "Evidence!D7")
    assert person.values["H-DEV.months_spanned"] == 15


def test_without_any_as_of_ages_are_unknown(vocabulary: dict[str, FactSpec]) -> None:
    panel = _synthetic_panel(2, 3)
    panel.rows["Cycle"] = []
    assert panel.as_of is None
    values = compute_facts(panel, vocabulary)[0].values
    assert values["tenure_months"] is None
    assert values["H-DEV.newest_age_months"] is None
    # With no as-of date no row can be shown to be current: none counts as observed.
    assert values["evidence.observed"] == 0 and values["H-DEV.episodes"] == 0
    assert values["evidence.episodes"] == 3


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2025-01-15", "2026-01-14", 11),
        ("2025-01-15", "2026-01-15", 12),
        ("2025-01-31", "2025-02-28", 0),
        ("2026-05-01", "2026-04-01", 0),
    ],
)
def test_whole_months(start: str, end: str, months: int) -> None:
    assert whole_months(dt.date.fromisoformat(start), dt.date.fromisoformat(end)) == months


def test_facts_from_mapping_defaults_and_types(vocabulary: dict[str, FactSpec]) -> None:
    person = facts_from_mapping(
        "T", {"performance": 4.0, "readiness": "Ready now", "potential": None}, vocabulary
    )
    assert person.values["performance"] == 4 and isinstance(person.values["performance"], int)
    assert person.values["readiness"] == "Ready now"
    assert person.values["potential"] is None
    assert person.values["H-DEV.episodes"] == 0
    assert person.values["team.reported"] is False
    assert person.values == {**blank_values(vocabulary), **person.values}
    for bad, message in (
        ({"performanse": 3}, "did you mean 'performance'"),
        ({"performance": 7}, "outside"),
        ({"performance": "high"}, "is a number"),
        ({"readiness": "Soon"}, "is one of"),
        ({"team.reported": "yes"}, "true or false"),
    ):
        with pytest.raises(RulebookError, match=message):
            facts_from_mapping("T", bad, vocabulary, where="t.yaml:3")


def _synthetic_panel(people: int, per_person: int) -> Panel:
    """A Panel built directly (no Excel): the facts stage alone, at scale."""
    signals = ["H-DEV", "H-AFF", "H-VIS", "C-DER", "H-FOL", "C-EXP", "H-NCA", "H-CRG"]

    def row(sheet: str, number: int, values: dict[str, Any]) -> Row:
        return Row(
            sheet,
            number,
            {
                k: Cell(v, f"{sheet}!{chr(65 + i)}{number}")
                for i, (k, v) in enumerate(values.items())
            },
        )

    employees = [
        row("Employees", n + 2, {"employee_id": f"E{n:05d}", "performance": 3, "hire_date": AS_OF})
        for n in range(people)
    ]
    evidence = [
        row(
            "Evidence",
            n * per_person + k + 2,
            {
                "employee_id": f"E{n:05d}",
                "signal": signals[k % len(signals)],
                "observed_on": dt.date(2025, 1 + k % 12, 1),
                "context": "Project",
                "source_type": "Peer",
                "source_id": f"S{k % 3}",
                "energy": "Energised",
            },
        )
        for n in range(people)
        for k in range(per_person)
    ]
    cycle = [row("Cycle", 2, {"as_of": AS_OF})]
    return Panel(
        Path("synthetic"),
        "",
        0,
        {"Cycle": cycle, "Employees": employees, "Evidence": evidence},
        [],
        [],
        [],
        [],
        {},
    )


def test_facts_from_a_panel_built_in_memory(vocabulary: dict[str, FactSpec]) -> None:
    # The benchmark's shape (benchmarks/facts_speed.py times it at 10,000 people).
    people = compute_facts(_synthetic_panel(300, 8), vocabulary)
    assert [p.employee_id for p in people] == sorted(p.employee_id for p in people)
    values = people[0].values
    assert values["evidence.episodes"] == 8
    assert values["H-DEV.episodes"] == 1 and values["H-DEV.observers"] == 1
    assert values["evidence.observers"] == 3
    assert values["tenure_months"] == 0


def test_row_tests_remembered_by_value_give_what_running_them_gives(
    vocabulary: dict[str, FactSpec],
) -> None:
    """A row's test results are remembered per column by the column's value, across
    people (``_Plan.test``): the key must hold all a result depends on. Rows whose
    values are shuffled between columns, sheets and people, blanks, equal values of
    other types, get the bits every test run on them gives."""
    from talentrules import facts

    plan = facts._Plan(vocabulary)
    tested = {sheet: list(columns) for sheet, columns in plan.checks.items()}
    every = {
        sheet: [check for checks, _ in columns.values() for check in checks]
        for sheet, columns in plan.checks.items()
    }
    pool: list[Any] = [None, "", 0, 1, 1.0, True, False, 2, 25, 24.5, AS_OF, "Self", "x"]
    for spec in vocabulary.values():
        for test in (*spec.derivation.tests, *spec.derivation.matching) if spec.derivation else ():
            pool.extend(test.value if isinstance(test.value, tuple) else [test.value])
    shuffle = random.Random(13)
    for _ in range(3000):
        sheet = shuffle.choice(sorted(tested))
        values: dict[str, Any] = {c: shuffle.choice(pool) for c in tested[sheet]}
        cells = {c: Cell(v, f"{sheet}!A1") for c, v in values.items()}
        line = facts._Line(Row(sheet, 2, cells), {}, {})
        plan.test(sheet, [line])
        expected = 0
        for bit, passes in every[sheet]:
            if passes(line.values):
                expected |= bit
        assert line.passed == expected, (sheet, values)
