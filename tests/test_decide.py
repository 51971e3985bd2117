"""Allocation within seats and budget, and overrides beside recommendations (decide.py).

Evaluations are built directly (the rules are tested elsewhere); panels are built as
ingestion returns them, sheet rows with cell references, so every reason and problem
can be checked down to the cell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import pytest

from talentrules.decide import (
    Allocation,
    AllocationPolicy,
    Budget,
    Catalogue,
    Investment,
    Recommendation,
    allocate,
    apply_overrides,
    budget_from_panel,
    check_policy,
    decide,
    load_catalogue,
    load_policy,
    recommend,
)
from talentrules.errors import RulebookError
from talentrules.model import Cell, Panel, Row, Value
from talentrules.paths import default_rules_dir
from talentrules.plan import final_plan
from talentrules.rulebook import Decision, Evaluation, Policy, Rulebook
from talentrules.vocabulary import FactSpec

COLUMNS = {
    "Cycle": ["cycle_id", "as_of", "budget", "currency"],
    "Investments": [
        "investment_code",
        "name",
        "track",
        "mode",
        "seats",
        "cost_per_person",
        "duration_months",
    ],
    "Overrides": ["employee_id", "field", "decision", "reason", "decided_by", "decided_on"],
}
LETTERS = "ABCDEFG"

DECISIONS = {
    name: Decision(name, cast(Policy, policy), outcomes, default, "", "decisions.yaml", 1, role)
    for name, policy, outcomes, default, role in (
        ("heart", "priority", ("Strong", "Emerging", "Not evidenced", "Insufficient evidence"),
         "Insufficient evidence", "verdict"),
        ("track", "priority", ("Leadership", "Expert", "Personal leadership",
                               "Management skills", "Develop in role", "Gather evidence"),
         "Develop in role", "development_track"),
        ("inspiration", "collect", ("Position", "Expert", "Personal", "None evidenced"),
         "None evidenced", "inspiration_profile"),
        ("management", "priority", ("Compliance and commitment", "Compliance gaps",
                                    "Not assessed"), "Not assessed", "management_pattern"),
        ("balance", "priority", ("Balanced", "Management-heavy", "Intervene",
                                 "Not a people manager"), "Not a people manager", "team_balance"),
        ("investment", "collect", ("LEAD-PROG", "LEAD-TASTER", "RET", "None"), "None",
         "investments"),
    )
}  # fmt: skip
VOCABULARY = {
    "readiness": FactSpec(
        "readiness",
        "enum",
        "",
        values=(
            "Ready now",
            "Ready 1-2 years",
            "Ready 3-5 years",
            "Not ready",
            "Too new to assess",
        ),
    ),
    "risk_of_loss": FactSpec("risk_of_loss", "enum", "", values=("Low", "Medium", "High")),
    "performance": FactSpec("performance", "number", "", 1, 5),
}


def rulebook(rules_dir: Path | None = None) -> Rulebook:
    """A rulebook with the decisions overrides are checked against, and no rules."""
    folder = rules_dir or default_rules_dir()
    return Rulebook(VOCABULARY, DECISIONS, (), (), str(folder), "")


def rows(sheet: str, *data: tuple[Value, ...]) -> list[Row]:
    """Sheet rows as ingestion gives them: header on row 1, data from row 2."""
    columns = COLUMNS[sheet]
    return [
        Row(
            sheet,
            number,
            {
                column: Cell(value, f"{sheet}!{LETTERS[i]}{number}")
                for i, (column, value) in enumerate(zip(columns, values, strict=True))
            },
        )
        for number, values in enumerate(data, start=2)
    ]


def panel(
    budget: float | None = None,
    currency: str | None = "EUR",
    investments: list[Row] | None = None,
    overrides: list[Row] | None = None,
    cycle_id: str = "2026-H2",
) -> Panel:
    sheets = {
        "Cycle": rows("Cycle", (cycle_id, dt.date(2026, 10, 31), budget, currency)),
        "Investments": investments or [],
        "Overrides": overrides or [],
    }
    return Panel(
        path=Path("review.xlsx"),
        sha256="",
        size=0,
        rows=sheets,
        problems=[],
        accounts=[],
        rejected=[],
        ignored_sheets=[],
        found={name: name for name, found in sheets.items() if found},
    )


def person(employee_id: str, heart: str = "Strong", *codes: str) -> Evaluation:
    return Evaluation(
        employee_id,
        {
            "heart": (heart,),
            "track": ("Leadership",),
            "inspiration": ("Personal",),
            "management": ("Not assessed",),
            "investment": codes or ("None",),
        },
        (),
        {},
        (),
    )


def catalogue(*entries: tuple[str, str, int | None, float | None]) -> Catalogue:
    """A workbook catalogue: (code, track, seats, cost)."""
    sheet = rows(
        "Investments",
        *(
            (code, code.title(), track, "70", seats, cost, 6)
            for code, track, seats, cost in entries
        ),
    )
    return load_catalogue(panel(investments=sheet))


@pytest.fixture(scope="module")
def policy() -> AllocationPolicy:
    return load_policy(None)


def by_person(allocation: Allocation, code: str) -> dict[str, tuple[str, str, int | None]]:
    return {
        a.employee_id: (a.status, a.reason, a.position)
        for a in allocation.allotments
        if a.code == code
    }


EUR = Budget(None, "EUR", cycle_id="2026-H2")
READY = {
    "E1": {"readiness": "Ready 3-5 years", "risk_of_loss": "Low"},
    "E2": {"readiness": "Ready now", "risk_of_loss": "High"},
    "E3": {"readiness": "Ready 1-2 years", "risk_of_loss": "Low"},
    "E4": {"readiness": "Ready now", "risk_of_loss": "Low"},
}


# --- the catalogue ---------------------------------------------------------------------


def test_default_catalogue_has_every_domain_code_with_line_provenance() -> None:
    found = load_catalogue(panel())
    assert found.origin == "rules"
    assert list(found.investments) == [
        "LEAD-STRETCH", "LEAD-ROTATE", "LEAD-TASTER", "LEAD-PROG", "LEAD-COACH",
        "LEAD-MENTOR", "DIAG-DC", "EXP-LADDER", "EXP-LEAD", "PERS-LEAD", "MGMT-SKILLS",
        "MGMT-ROLEFIT", "PERF-SUPPORT", "RET",
    ]  # fmt: skip
    lines = (default_rules_dir() / "catalogue.yaml").read_text().splitlines()
    for investment in found.investments.values():
        label, line = investment.source.rsplit(":", 1)
        assert label == "rules/catalogue.yaml"
        assert lines[int(line) - 1].strip() == f"- code: {investment.code}"
        # The default has no seat limits: seats are the organisation's own fact.
        assert investment.seats is None
        assert investment.cost_per_person is not None


def test_workbook_catalogue_replaces_the_default_and_keeps_cells() -> None:
    found = catalogue(("LEAD-PROG", "Leadership", 6, 4500), ("RET", "Retention", None, None))
    assert found.origin == "workbook"
    assert list(found.investments) == ["LEAD-PROG", "RET"]
    prog, ret = found.investments["LEAD-PROG"], found.investments["RET"]
    assert (prog.seats, prog.cost_per_person, prog.source) == (6, 4500.0, "Investments!A2")
    assert prog.where("seats") == "Investments!E2"
    assert (ret.seats, ret.cost_per_person) == (None, None)


def test_an_investments_sheet_with_no_usable_rows_falls_back_with_a_warning() -> None:
    empty = panel()
    empty.found["Investments"] = "Catalogue"
    found = load_catalogue(empty)
    assert found.origin == "rules"
    assert [str(p) for p in found.problems] == [
        "review.xlsx: Catalogue: the Investments sheet has no usable rows; the default "
        "catalogue rules/catalogue.yaml is used instead"
    ]


def test_budget_comes_from_the_cycle_sheet() -> None:
    assert budget_from_panel(panel(60000, "EUR")) == Budget(60000.0, "EUR", "Cycle!C2", "2026-H2")
    assert budget_from_panel(panel(None)).amount is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("investments: {}\n", "'investments' must be a list"),
        ("investments:\n  - name: x\n", "catalogue.yaml:2: an investment needs a code"),
        (
            "investments:\n  - code: A\n  - code: A\n",
            "catalogue.yaml:3: code A is already at rules/catalogue.yaml:2",
        ),
        ("investments:\n  - code: A\n    seats: -1\n", "seats must be a number of at least 0"),
        ("investments:\n  - code: A\n    track: Sales\n", "track 'Sales' is not one of"),
        ("investments:\n  - code: A\n    colour: red\n", "unknown key(s) colour"),
    ],
)
def test_a_broken_default_catalogue_is_refused_with_its_line(
    tmp_path: Path, text: str, message: str
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "catalogue.yaml").write_text(text)
    with pytest.raises(RulebookError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_catalogue(panel(), rules)


@pytest.mark.parametrize(
    ("allocation", "message"),
    [
        ("  decision: investment\n", "allocation.order must list at least one criterion"),
        ("  decision: investment\n  order: [heart]\n", "catalogue.yaml:4: each order entry"),
        (
            "  decision: investment\n  order: [{heart: [Strong]}]\n  tie_break: age\n",
            "tie_break must be draw or employee_id",
        ),
        (
            "  decision: investment\n  order: [{heart: [Strong]}]\n  eligible:\n"
            "    tracks:\n      Sales: {heart: [Strong]}\n",
            "catalogue.yaml:7: 'Sales' is not a catalogue track",
        ),
        ("  decision: investment\n  budget: 5\n", "catalogue.yaml:4: unknown allocation key"),
    ],
)
def test_a_broken_allocation_policy_is_refused_with_its_line(
    tmp_path: Path, allocation: str, message: str
) -> None:
    (tmp_path / "catalogue.yaml").write_text("investments: []\nallocation:\n" + allocation)
    with pytest.raises(RulebookError, match=message):
        load_policy(tmp_path)


def test_a_rules_folder_without_a_catalogue_uses_the_packaged_one(tmp_path: Path) -> None:
    assert load_policy(tmp_path) == load_policy(None)


# --- allocation ------------------------------------------------------------------------


def test_seats_exhausted_go_to_the_strongest_cases(policy: AllocationPolicy) -> None:
    cat = catalogue(("LEAD-PROG", "Leadership", 2, 0))
    people = [person(e, "Strong", "LEAD-PROG") for e in ("E1", "E2", "E3", "E4")]
    result = by_person(allocate(people, READY, cat, EUR, policy), "LEAD-PROG")
    # Readiness first (E2 and E4 are ready now), then risk of loss (E4 Low before E2 High).
    assert result["E4"][0::2] == ("allocated", 1)
    assert result["E2"][0::2] == ("allocated", 2)
    # The reason names what decided: the last seat's case ranked higher on readiness.
    assert result["E3"] == (
        "waitlisted",
        "seats full (2 of 2, Investments!E2): the last seat went to a case ranked "
        "higher on readiness (Ready now against Ready 1-2 years); this case is 3rd of 4 in "
        "the queue",
        3,
    )
    assert result["E1"][0::2] == ("waitlisted", 4)
    assert result["E2"][1] == (
        "seat 2 of 2; EUR 0 committed; 2nd in the queue "
        "(heart Strong, readiness Ready now, risk of loss High)"
    )


def test_a_draw_between_equal_cases_is_named_with_its_seed(policy: AllocationPolicy) -> None:
    cat = catalogue(("LEAD-PROG", "Leadership", 1, 0))
    people = [person(e, "Strong", "LEAD-PROG") for e in ("E1", "E2", "E3")]
    equal = {e: {"readiness": "Ready now", "risk_of_loss": "Low"} for e in ("E1", "E2", "E3")}
    allocation = allocate(people, equal, cat, EUR, policy)
    draws = {e: hashlib.sha256(f"2026-H2|{e}".encode()).hexdigest() for e in equal}
    order = sorted(equal, key=lambda e: draws[e])
    result = {a.employee_id: a for a in allocation.allotments}
    winner = result[order[0]]
    assert winner.status == "allocated" and winner.decided_by == "draw"
    assert "equal on every ranking key with 2 waitlisted cases" in winner.reason
    assert winner.ranking is not None and winner.ranking.tie == draws[order[0]]
    for place, loser in enumerate(order[1:], start=2):
        allotment = result[loser]
        assert allotment.status == "waitlisted" and allotment.decided_by == "draw"
        assert "the last seat went to a case equal on every ranking key (heart Strong, " in (
            allotment.reason
        )
        assert "the cycle's draw (SHA-256 of cycle_id and employee_id, seed '2026-H2'" in (
            allotment.reason
        )
        ordinal = ["", "", "2nd", "3rd"][place]
        assert allotment.short == f"seats full; an equal case won the draw ({ordinal} of 3)"
        assert f"placed this case {ordinal} of 3" in allotment.reason
        assert "stronger" not in allotment.reason


def test_budget_exhausted_before_seats(policy: AllocationPolicy) -> None:
    cat = catalogue(("LEAD-PROG", "Leadership", 6, 4500))
    people = [person(e, "Strong", "LEAD-PROG") for e in ("E1", "E2", "E3", "E4")]
    budget = Budget(10000, "EUR", "Cycle!C2", "2026-H2")
    allocation = allocate(people, READY, cat, budget, policy)
    result = by_person(allocation, "LEAD-PROG")
    assert [result[e][0] for e in ("E4", "E2", "E3", "E1")] == [
        "allocated",
        "allocated",
        "waitlisted",
        "waitlisted",
    ]
    assert result["E3"][1] == (
        "budget exhausted: EUR 9,000 of EUR 10,000 already committed, too little left for its "
        "EUR 4,500, when it came up in the policy's order of investments "
        "(rules/catalogue.yaml); 3rd of 4 in its queue"
    )
    assert (allocation.committed, allocation.remaining) == (9000.0, 1000.0)
    (total,) = allocation.totals
    assert (total.seats, total.allocated, total.waitlisted, total.committed) == (6, 2, 2, 9000.0)
    assert sum(a.cost for a in allocation.allotments) == 9000.0


def test_a_cheaper_code_still_fits_after_a_dearer_one_runs_out(policy: AllocationPolicy) -> None:
    cat = catalogue(("LEAD-PROG", "Leadership", None, 4000), ("RET", "Retention", None, 500))
    people = [person(e, "Strong", "LEAD-PROG", "RET") for e in ("E1", "E2")]
    allocation = allocate(people, READY, cat, Budget(5000, "EUR"), policy)
    # RET comes first in the declared code order; then one LEAD-PROG fits in 4,000.
    assert [(a.code, a.employee_id, a.status) for a in allocation.allotments] == [
        ("RET", "E2", "allocated"),
        ("RET", "E1", "allocated"),
        ("LEAD-PROG", "E2", "allocated"),
        ("LEAD-PROG", "E1", "waitlisted"),
    ]


def test_ties_are_broken_by_the_declared_key(policy: AllocationPolicy) -> None:
    cat = catalogue(("LEAD-PROG", "Leadership", 2, 0))
    ids = ["E07", "E03", "E11", "E05", "E01"]
    people = [person(e, "Strong", "LEAD-PROG") for e in ids]
    same = {e: {"readiness": "Ready now", "risk_of_loss": "Low"} for e in ids}

    by_id = allocate(people, same, cat, EUR, replace(policy, tie_break="employee_id"))
    assert [a.employee_id for a in by_id.allotments] == sorted(ids)
    assert [a.status for a in by_id.allotments][:3] == ["allocated", "allocated", "waitlisted"]

    # The default draw: SHA-256 of "cycle_id|employee_id", so it is reproducible, yet
    # does not favour the lowest (usually longest-serving) ids cycle after cycle.
    assert policy.tie_break == "draw"

    def draw(cycle: str) -> list[str]:
        return sorted(ids, key=lambda e: hashlib.sha256(f"{cycle}|{e}".encode()).hexdigest())

    drawn = allocate(people, same, cat, EUR, policy)
    assert [a.employee_id for a in drawn.allotments] == draw("2026-H2")
    assert allocate(people, same, cat, EUR, policy) == drawn
    other = allocate(people, same, cat, replace(EUR, cycle_id="2027-H1"), policy)
    assert [a.employee_id for a in other.allotments] == draw("2027-H1") != draw("2026-H2")


def test_an_investment_with_no_seats_listed_has_no_seat_limit(policy: AllocationPolicy) -> None:
    cat = catalogue(("LEAD-MENTOR", "Leadership", None, 500))
    ids = [f"E{n:02}" for n in range(1, 31)]
    people = [person(e, "Strong", "LEAD-MENTOR") for e in ids]
    unlimited = allocate(people, {}, cat, EUR, policy)
    assert {a.status for a in unlimited.allotments} == {"allocated"}
    assert unlimited.allotments[0].reason == "no seat limit; EUR 500 committed"
    # ... but it is still bound by the budget.
    bound = allocate(people, {}, cat, Budget(2000, "EUR"), policy)
    assert [a.status for a in bound.allotments].count("allocated") == 4


def test_no_seat_for_a_case_the_policy_does_not_justify_even_with_seats_left(
    policy: AllocationPolicy,
) -> None:
    cat = catalogue(("LEAD-PROG", "Leadership", 10, 0), ("LEAD-TASTER", "Leadership", 10, 0))
    people = [
        person("E1", "Emerging", "LEAD-PROG", "LEAD-TASTER"),
        person("E2", "Not evidenced", "LEAD-PROG"),
        person("E3", "Strong", "LEAD-PROG"),
    ]
    allocation = allocate(people, {}, cat, EUR, policy, "review.xlsx")
    prog = by_person(allocation, "LEAD-PROG")
    assert prog["E3"][0] == "allocated"
    assert prog["E1"][0::2] == ("refused", None)
    assert prog["E1"][1].startswith("invest wisely: LEAD-PROG is only for heart Strong (rules/")
    assert prog["E1"][1].endswith("this case has heart Emerging")
    assert prog["E2"][0] == "refused"
    # The taster is the wise route for an emerging heart, so it is allocated.
    assert by_person(allocation, "LEAD-TASTER")["E1"][0] == "allocated"
    (warning,) = allocation.problems
    assert warning.severity == "warning"
    assert "LEAD-PROG was recommended for E1, E2 although the allocation policy" in str(warning)
    prog_total = allocation.totals[[t.code for t in allocation.totals].index("LEAD-PROG")]
    assert (prog_total.allocated, prog_total.refused) == (1, 2)


def test_the_result_does_not_depend_on_input_order(policy: AllocationPolicy) -> None:
    cat = catalogue(
        ("LEAD-PROG", "Leadership", 3, 1000),
        ("LEAD-COACH", "Leadership", 2, 700),
        ("RET", "Retention", None, 0),
    )
    hearts = ["Strong", "Emerging", "Strong", "Insufficient evidence", "Strong", "Strong"]
    readiness = ["Ready now", "Not ready", "Ready 1-2 years", None, "Ready now", None]
    people = [
        person(f"E{n}", heart, "LEAD-PROG", "LEAD-COACH", "RET") for n, heart in enumerate(hearts)
    ]
    facts = {f"E{n}": {"readiness": r, "risk_of_loss": None} for n, r in enumerate(readiness)}
    budget = Budget(4000, "EUR", cycle_id="c")
    expected = allocate(people, facts, cat, budget, policy)
    shuffled = random.Random(4)
    for _ in range(10):
        order = people[:]
        shuffled.shuffle(order)
        assert allocate(order, dict(reversed(facts.items())), cat, budget, policy) == expected


def test_unknown_cost_is_never_committed_against_a_budget(policy: AllocationPolicy) -> None:
    cat = catalogue(("LEAD-ROTATE", "Leadership", None, None))
    people = [person("E1", "Strong", "LEAD-ROTATE")]
    budgeted = allocate(people, {}, cat, Budget(60000, "EUR"), policy, "review.xlsx")
    (allotment,) = budgeted.allotments
    assert allotment.status == "waitlisted"
    assert "no known cost in EUR (Investments!F2)" in allotment.reason
    assert "LEAD-ROTATE has no cost per person" in str(budgeted.problems[0])
    # Without a budget there is nothing to commit against: seats alone decide.
    (free,) = allocate(people, {}, cat, EUR, policy).allotments
    assert (free.status, free.cost) == ("allocated", 0.0)
    assert free.reason == ("no seat limit; cost unknown (Investments!F2), no budget to commit to")


def test_default_costs_in_another_currency_are_not_compared(policy: AllocationPolicy) -> None:
    default = load_catalogue(panel())
    people = [person("E1", "Strong", "LEAD-PROG", "RET")]
    usd = allocate(people, {}, default, Budget(60000, "USD"), policy)
    assert [(a.code, a.status) for a in usd.allotments] == [
        ("RET", "waitlisted"),
        ("LEAD-PROG", "waitlisted"),
    ]
    eur = allocate(people, {}, default, Budget(60000, "EUR"), policy, "review.xlsx")
    assert [a.status for a in eur.allotments] == ["allocated", "allocated"]
    assert eur.committed == 4500
    assert "are indicative" in str(eur.problems[-1])


def test_a_code_missing_from_the_catalogue_is_unavailable(policy: AllocationPolicy) -> None:
    cat = catalogue(("LEAD-PROG", "Leadership", None, 0))
    allocation = allocate([person("E1", "Strong", "EXP-LEAD")], {}, cat, EUR, policy)
    (allotment,) = allocation.allotments
    assert (allotment.status, allotment.reason) == (
        "unavailable",
        "EXP-LEAD is not in this cycle's catalogue (Investments sheet)",
    )
    assert "EXP-LEAD is recommended for 1 people but is not in the catalogue" in str(
        allocation.problems[0]
    )


def test_nothing_recommended_allocates_nothing(policy: AllocationPolicy) -> None:
    allocation = allocate([person("E1")], {}, load_catalogue(panel()), EUR, policy)
    assert (allocation.allotments, allocation.totals, allocation.problems) == ((), (), ())


def test_an_unknown_value_never_helps_a_case(policy: AllocationPolicy) -> None:
    cat = catalogue(("LEAD-PROG", "Leadership", 1, 0))
    people = [person(e, "Strong", "LEAD-PROG") for e in ("E1", "E2", "E3")]
    facts = {
        "E1": {"readiness": None, "risk_of_loss": "Low"},  # blank: unknown
        "E2": {"readiness": "Too new to assess", "risk_of_loss": "High"},  # listed last
        "E3": {"readiness": "Ready in a while", "risk_of_loss": "Low"},  # not listed
    }
    order = [a.employee_id for a in allocate(people, facts, cat, EUR, policy).allotments]
    assert order[0] == "E2"
    assert set(order[1:]) == {"E1", "E3"}


def test_each_allotment_shows_the_case_that_ranked_it(policy: AllocationPolicy) -> None:
    cat = catalogue(("LEAD-PROG", "Leadership", None, 0))
    allocation = allocate([person("E4", "Strong", "LEAD-PROG")], READY, cat, EUR, policy)
    assert allocation.allotments[0].case == (
        "heart Strong",
        "readiness Ready now",
        "risk_of_loss Low",
    )


# --- overrides -------------------------------------------------------------------------


def overrides(*data: tuple[Value, ...]) -> list[Row]:
    return rows("Overrides", *data)


def recommended(
    policy: AllocationPolicy, seats: int = 1
) -> tuple[dict[str, Recommendation], Catalogue, Allocation]:
    cat = catalogue(
        ("LEAD-PROG", "Leadership", seats, 4500),
        ("RET", "Retention", None, 0),
        ("LEAD-TASTER", "Leadership", None, 0),
    )
    people = [
        person("E1", "Strong", "LEAD-PROG"),
        person("E2", "Strong", "LEAD-PROG", "RET"),
        person("E3", "Emerging", "LEAD-TASTER"),
    ]
    facts = {"E1": {"readiness": "Ready now"}, "E2": {"readiness": "Not ready"}}
    allocation = allocate(people, facts, cat, Budget(60000, "EUR"), policy)
    return recommend(people, allocation), cat, allocation


def test_valid_overrides_are_recorded_beside_the_recommendation(
    policy: AllocationPolicy,
) -> None:
    recs, cat, _ = recommended(policy)
    day = dt.date(2026, 11, 5)
    sheet = panel(
        60000,
        overrides=overrides(
            ("E3", "heart", "strong", "Led the merger team.", "A. Moreau", day),
            ("E2", "track", "Expert", "Asked to stay technical.", "K. Osei", day),
            (
                "E2",
                "investment",
                "RET; LEAD-PROG; lead-taster",
                "Wants the ladder.",
                "K. Osei",
                day,
            ),
            ("E1", "inspiration", "Expert, Personal", "Nominated twice.", "A. Moreau", day),
            ("E1", "heart", "Strong", "Agrees.", "A. Moreau", None),
            ("E3", "investment", "none", "Not this cycle.", "A. Moreau", day),
        ),
    )
    updated, problems = apply_overrides(recs, sheet, DECISIONS, cat, policy)
    assert problems == ()
    e3 = updated["E3"]
    # Beside, never instead: the evaluated outcome is untouched.
    assert e3.outcomes["heart"] == ("Emerging",) == recs["E3"].outcomes["heart"]
    assert e3.decided("heart") == ("Strong",)
    heart = e3.overrides[0]
    assert (heart.recommended, heart.decision, heart.direction) == (
        ("Emerging",),
        ("Strong",),
        "upgrade",
    )
    assert (heart.reason, heart.decided_by, heart.decided_on) == (
        "Led the merger team.",
        "A. Moreau",
        day,
    )
    assert heart.refs["decision"] == "Overrides!C2"
    assert [(o.field, o.direction) for o in updated["E2"].overrides] == [
        ("track", "change"),
        ("investment", "add"),
    ]
    assert updated["E2"].decided("investment") == ("RET", "LEAD-PROG", "LEAD-TASTER")
    assert [(o.field, o.decision, o.direction) for o in updated["E1"].overrides] == [
        ("heart", ("Strong",), "confirm"),
        ("inspiration", ("Expert", "Personal"), "add"),
    ]
    assert [(o.decision, o.direction) for o in e3.overrides[1:]] == [((), "remove")]
    assert recs["E3"].overrides == ()  # the input is not mutated


@pytest.mark.parametrize(
    ("row", "where", "message"),
    [
        (("E1", "heart", "Brilliant", "r", "A"), "Overrides!C2", "'Brilliant' is not a value of"),
        (("E1", "track", "Sales", "r", "A"), "Overrides!C2", "not a value of track"),
        (("E1", "investment", "LEAD-PROG; MBA", "r", "A"), "Overrides!C2", "'MBA' is not an"),
        (("E1", "allocation", "LEAD-PROG", "r", "A"), "Overrides!C2", "not an allocation decision"),
        (("E1", "allocation", "MBA: allocated", "r", "A"), "Overrides!C2", "not an allocation"),
        (("E1", "heart", "Strong", None, "A"), "Overrides!D2", "an override needs a reason"),
        (("E1", "heart", "Strong", "r", " "), "Overrides!E2", "needs the named panel member"),
        (("E9", "heart", "Strong", "r", "A"), "Overrides!A2", "'E9' is not a person under review"),
        (("E1", "salary", "High", "r", "A"), "Overrides!B2", "'salary' cannot be overridden"),
        (("E1", "heart", None, "r", "A"), "Overrides!C2", "needs the panel's decision"),
    ],
)  # fmt: skip
def test_invalid_overrides_are_problems_naming_the_cell_and_not_applied(
    policy: AllocationPolicy, row: tuple[Value, ...], where: str, message: str
) -> None:
    recs, cat, _ = recommended(policy)
    updated, problems = apply_overrides(
        recs, panel(overrides=overrides((*row, None))), DECISIONS, cat, policy
    )
    (problem,) = problems
    assert problem.severity == "error"
    assert str(problem).startswith(f"review.xlsx: {where}: override not applied: ")
    assert message in problem.message
    assert updated == recs


def test_an_allocation_override_does_not_rerun_allocation(policy: AllocationPolicy) -> None:
    recs, cat, allocation = recommended(policy, seats=1)
    assert [(a.employee_id, a.status) for a in allocation.allotments if a.code == "LEAD-PROG"] == [
        ("E1", "allocated"),
        ("E2", "waitlisted"),
    ]
    sheet = panel(
        60000,
        overrides=overrides(
            ("E2", "allocation", "lead-prog: Allocated", "Role opens in May.", "K. Osei", None),
            ("E3", "allocation", "RET allocated", "Flight risk reported since.", "K. Osei", None),
        ),
    )  # fmt: skip
    updated, problems = apply_overrides(recs, sheet, DECISIONS, cat, policy)
    e2 = updated["E2"].overrides[0]
    assert (e2.target, e2.recommended, e2.decision, e2.direction) == (
        "LEAD-PROG",
        ("waitlisted",),
        ("allocated",),
        "upgrade",
    )
    e3 = updated["E3"].overrides[0]
    assert (e3.recommended, e3.direction) == (("not recommended",), "upgrade")
    # E1 keeps the seat: the panel decides with the allocation in front of it.
    assert updated["E1"] == recs["E1"]
    assert updated["E1"].decided("allocation", "LEAD-PROG") == ("allocated",)
    assert problems == ()  # what goes past a seat limit is talentrules.plan's to say


def test_a_later_override_supersedes_an_earlier_one(policy: AllocationPolicy) -> None:
    recs, cat, _ = recommended(policy)
    sheet = panel(
        overrides=overrides(
            ("E1", "track", "Expert", "First view.", "A. Moreau", dt.date(2026, 11, 6)),
            ("E1", "track", "Personal leadership", "Second view.", "K. Osei", dt.date(2026, 11, 5)),
        )
    )  # fmt: skip
    updated, problems = apply_overrides(recs, sheet, DECISIONS, cat, policy)
    assert updated["E1"].decided("track") == ("Expert",)
    older, newer = updated["E1"].overrides
    assert (older.decision, older.superseded_by, newer.superseded_by) == (
        ("Personal leadership",),
        "Overrides!C2",
        None,
    )
    assert [str(p) for p in problems] == [
        "review.xlsx: Overrides!C3: superseded by the later override at Overrides!C2"
    ]


def test_disagreeing_overrides_on_the_same_day_apply_neither(policy: AllocationPolicy) -> None:
    recs, cat, _ = recommended(policy)
    sheet = panel(
        overrides=overrides(
            ("E1", "track", "Expert", "One view.", "A. Moreau", None),
            ("E1", "track", "Personal leadership", "Another.", "K. Osei", None),
        )
    )
    updated, problems = apply_overrides(recs, sheet, DECISIONS, cat, policy)
    assert updated["E1"].overrides == ()
    assert [p.cell for p in problems] == ["C2", "C3"]
    assert all("disagree" in p.message and p.severity == "error" for p in problems)


# --- all together ----------------------------------------------------------------------


def test_decide_runs_catalogue_allocation_and_overrides() -> None:
    sheet = panel(
        5000,
        investments=rows("Investments", ("LEAD-PROG", "Programme", "Leadership", "10", 1, 4500, 6)),
        overrides=overrides(
            ("E2", "allocation", "LEAD-PROG: allocated", "Role opens in May.", "K. Osei", None),
            ("E1", "heart", "Emerging", "Evidence is older than it looks.", "A. Moreau", None),
        ),
    )
    people = [person("E2", "Strong", "LEAD-PROG"), person("E1", "Strong", "LEAD-PROG")]
    facts = {"E1": {"readiness": "Ready now"}, "E2": {"readiness": "Ready 3-5 years"}}
    result = decide(sheet, people, facts, rulebook())
    assert result.catalogue.origin == "workbook"
    assert list(result.recommendations) == ["E1", "E2"]
    assert [(a.employee_id, a.status) for a in result.allocation.allotments] == [
        ("E1", "allocated"),
        ("E2", "waitlisted"),
    ]
    assert (
        result.recommendations["E2"]
        .allocation[0]
        .reason.startswith(
            "seats full (1 of 1, Investments!E2): the last seat went to a case ranked "
            "higher on readiness (Ready now against Ready 3-5 years)"
        )
    )
    final = final_plan(result, {p.employee_id: p for p in people}, facts, "review.xlsx")
    load = next(c for c in final.codes if c.code == "LEAD-PROG")
    assert (load.allocated, load.over, final.committed) == (2, 1, 9000.0)
    assert result.override_counts() == {
        "direction": {"allocation upgrade": 1, "heart downgrade": 1},
        "decider": {"K. Osei": 1, "A. Moreau": 1},
    }
    assert result.problems == ()
    assert [p.message for p in final.problems] == [
        "with the panel's decisions (Overrides!C2), LEAD-PROG has 2 people allocated for 1 "
        "seats (Investments!E2)",
        "with the panel's decisions (Overrides!C2), EUR 9,000 is committed against a budget of "
        "EUR 5,000: EUR 4,000 over",
    ]


def test_default_investments_are_the_rulebooks_investment_outcomes() -> None:
    """Every code the default rulebook can recommend is in the default catalogue."""
    decisions = default_rules_dir() / "decisions.yaml"
    import yaml

    outcomes = yaml.safe_load(decisions.read_text())["decisions"]["investment"]["outcomes"]
    policy = load_policy(None)
    codes = [o for o in outcomes if o not in policy.not_investments]
    assert codes == list(load_catalogue(panel()).investments)
    assert set(policy.codes) == set(codes)


def test_investment_dataclass_where_falls_back_to_source() -> None:
    entry = Investment("X", None, None, None, None, None, None, "rules/catalogue.yaml:3")
    assert entry.where("seats") == "rules/catalogue.yaml:3"


# --- the real path: a workbook on disk, ingestion, facts, the durable_rules engine -----


def test_a_workbook_on_disk_feeds_catalogue_budget_and_overrides(tmp_path: Path) -> None:
    """Vendor spellings as a panel writes them: ingestion canonicalises, decide uses them."""
    from openpyxl import Workbook

    from talentrules.ingest import load_workbook

    book = Workbook()
    book.active.title = "Employees"  # type: ignore[union-attr]
    book["Employees"].append(["Employee ID", "Name"])
    for employee_id in ("E1", "E2", "E3"):
        book["Employees"].append([employee_id, f"Person {employee_id}"])
    book.create_sheet("Review Cycle").append(
        ["Cycle", "As of date", "Development Budget", "Currency"]
    )
    book["Review Cycle"].append(["2026-H2", dt.date(2026, 10, 31), 9000, "EUR"])
    catalogue_sheet = book.create_sheet("Catalogue")
    catalogue_sheet.append(["Code", "Investment", "Track", "70-20-10", "Places", "Cost", "Months"])
    catalogue_sheet.append(["LEAD-PROG", "Programme", "Leadership", "Course", 2, 4500, 9])
    catalogue_sheet.append(["RET", "Stay interview", "Retention", "overlay", None, 0, 1])
    overrides_sheet = book.create_sheet("Panel Decisions")
    overrides_sheet.append(["Employee ID", "Field", "Panel Decision", "Rationale", "Decider"])
    overrides_sheet.append(["E3", "Verdict", "Strong", "Seen leading the rollout.", "A. Moreau"])
    overrides_sheet.append(
        ["E1", "allocation", "LEAD-PROG: waitlisted", "Moves abroad.", "K. Osei"]
    )
    overrides_sheet.append(["E2", "track", "Astronaut", "Wants to fly.", "K. Osei"])
    path = tmp_path / "review.xlsx"
    book.save(path)

    loaded = load_workbook(path)
    assert loaded.errors == []
    people = [
        person("E1", "Strong", "LEAD-PROG", "RET"),
        person("E2", "Strong", "LEAD-PROG"),
        person("E3", "Emerging", "LEAD-PROG"),
    ]
    facts = {"E1": {"readiness": "Ready now"}, "E2": {"readiness": "Ready 1-2 years"}}
    result = decide(loaded, people, facts, rulebook())

    assert result.catalogue.origin == "workbook"
    assert result.catalogue.investments["LEAD-PROG"].source == "Catalogue!A2"
    assert result.allocation.budget == Budget(9000.0, "EUR", "Review Cycle!C2", "2026-H2")
    assert [(a.code, a.employee_id, a.status) for a in result.allocation.allotments] == [
        ("RET", "E1", "allocated"),
        ("LEAD-PROG", "E1", "allocated"),
        ("LEAD-PROG", "E2", "allocated"),
        ("LEAD-PROG", "E3", "refused"),
    ]
    e3 = result.recommendations["E3"]
    assert (e3.outcomes["heart"], e3.decided("heart")) == (("Emerging",), ("Strong",))
    assert e3.overrides[0].refs["decision"] == "Panel Decisions!C2"
    assert result.recommendations["E1"].overrides[0].direction == "downgrade"
    assert result.recommendations["E2"].overrides == ()
    errors = [str(p) for p in result.problems if p.severity == "error"]
    assert errors == [
        "review.xlsx: Panel Decisions!C4: override not applied: 'Astronaut' is not a value "
        "of track (Leadership, Expert, Personal leadership, Management skills, Develop in "
        "role, Gather evidence)"
    ]


@dataclass
class Sample:
    panel: Panel
    evaluations: list[Evaluation]
    facts: dict[str, dict[str, Value]]
    rulebook: Rulebook


@pytest.fixture(scope="module")
def sample() -> Sample:
    """The sample workbook through ingestion, facts and the durable_rules engine."""
    from talentrules import engine
    from talentrules.facts import compute_facts
    from talentrules.facts import load_catalogue as fact_catalogue
    from talentrules.ingest import load_workbook
    from talentrules.paths import sample_workbook
    from talentrules.rulebook import load_rulebook

    panel_ = load_workbook(sample_workbook())
    rulebook = load_rulebook()
    facts = compute_facts(
        panel_, rulebook.vocabulary, fact_catalogue(default_rules_dir() / "catalogue.yaml")
    )
    evaluations = [r.evaluation for r in engine.run(rulebook, facts, jobs=1)]
    return Sample(panel_, evaluations, {f.employee_id: f.values for f in facts}, rulebook)


def test_the_sample_panel_is_allocated_within_seats_and_budget(sample: Sample) -> None:
    result = decide(sample.panel, sample.evaluations, sample.facts, sample.rulebook)
    allocation = result.allocation
    assert allocation.budget.amount is not None
    assert 0 < allocation.committed <= allocation.budget.amount
    assert allocation.committed == sum(a.cost for a in allocation.allotments)
    for total in allocation.totals:
        assert total.seats is None or total.allocated <= total.seats, total
    # The default rulebook never recommends what the allocation policy would refuse:
    # its investment rules and the eligibility table say the same thing.
    assert [a for a in allocation.allotments if a.status in ("refused", "unavailable")] == []
    assert [p for p in result.problems if p.severity == "error"] == []
    # Scarcity is real in the sample: someone is waitlisted, each with the reason.
    waitlisted = [a for a in allocation.allotments if a.status == "waitlisted"]
    assert waitlisted
    assert all("seats full" in a.reason or "budget exhausted" in a.reason for a in waitlisted)
    # Everyone recommended an investment has one allotment per recommended code.
    for employee_id, rec in result.recommendations.items():
        codes = result.policy.recommended(rec.outcomes)
        assert sorted(a.code for a in rec.allocation) == sorted(codes), employee_id


def test_the_sample_overrides_sit_beside_the_engine_recommendation(sample: Sample) -> None:
    result = decide(sample.panel, sample.evaluations, sample.facts, sample.rulebook)
    by_id = {e.employee_id: e for e in sample.evaluations}
    assert len(result.overrides) == len(sample.panel.rows["Overrides"]) > 0
    for override in result.overrides:
        rec = result.recommendations[override.employee_id]
        # The evaluated outcome is exactly the engine's; the panel's sits beside it.
        assert rec.outcomes == by_id[override.employee_id].outcomes
        assert rec.recommended(override.field, override.target) == override.recommended
        assert rec.decided(override.field, override.target) == override.decision
        assert override.reason and override.decided_by
        assert override.refs["decision"].startswith("Overrides!C")


def test_the_policy_is_checked_against_the_rulebook(tmp_path: Path) -> None:
    """A misspelt value would silently rank everyone last: it is refused instead."""
    text = (default_rules_dir() / "catalogue.yaml").read_text()
    assert check_policy(load_policy(None), rulebook()) == []
    (tmp_path / "catalogue.yaml").write_text(
        text.replace("- risk_of_loss: [Low, Medium, High]", "- risk_of_loss: [Low, Meduim, High]")
        .replace("EXP-LEAD: {heart: [Strong, Emerging]}", "EXP-LEAD: {hearts: [Strong]}")
        .replace("- {balance: [Management-heavy, Intervene]}", "- {balance: [Managementheavy]}")
        .replace("not_investments: [None]", "not_investments: [Nothing]")
    )
    lines = text.splitlines()
    risk = lines.index("    - risk_of_loss: [Low, Medium, High]") + 1
    coach = lines.index("      LEAD-COACH:") + 1
    lead = lines.index("      EXP-LEAD: {heart: [Strong, Emerging]}") + 1
    assert check_policy(load_policy(tmp_path), rulebook()) == [
        "tmp_path/catalogue.yaml: 'Nothing' is not a value of investment "
        "(LEAD-PROG, LEAD-TASTER, RET, None)".replace("tmp_path", tmp_path.name),
        f"{tmp_path.name}/catalogue.yaml:{risk}: 'Meduim' is not a value of risk_of_loss "
        "(Low, Medium, High)",
        f"{tmp_path.name}/catalogue.yaml:{coach}: 'Managementheavy' is not a value of balance "
        "(Balanced, Management-heavy, Intervene, Not a people manager)",
        f"{tmp_path.name}/catalogue.yaml:{lead}: 'hearts' is not a decision or an enum fact "
        "of the rulebook",
    ]
    with pytest.raises(RulebookError, match="'Meduim' is not a value of risk_of_loss"):
        decide(panel(), [], {}, rulebook(tmp_path))


def test_a_blank_track_in_the_workbook_takes_the_default_track(
    policy: AllocationPolicy,
) -> None:
    sheet = rows(
        "Investments",
        ("LEAD-PROG", "Programme", None, "10", None, 0, 6),
        ("OWN-THING", "Our own", None, "70", None, 0, 6),
    )
    found = load_catalogue(panel(investments=sheet))
    prog = found.investments["LEAD-PROG"]
    assert prog.track == "Leadership"
    assert prog.where("track").startswith("rules/catalogue.yaml:")
    assert [str(p) for p in found.problems] == [
        "review.xlsx: Investments!C2: LEAD-PROG has no track; the default catalogue's "
        f"'Leadership' ({prog.where('track')}) is used, so the allocation policy applies to it",
        "review.xlsx: Investments!C3: OWN-THING has no track, so no track's allocation "
        "policy applies to it",
    ]
    # ... so an Emerging heart still gets no programme seat.
    allocation = allocate([person("E1", "Emerging", "LEAD-PROG")], {}, found, EUR, policy)
    assert allocation.allotments[0].status == "refused"


def test_an_eligibility_list_qualifies_a_case_when_any_of_its_options_holds() -> None:
    """LEAD-COACH: a heart for leadership, or a team whose balance needs leadership."""
    coach = load_policy(None).by_code["LEAD-COACH"]
    assert len(coach.options) == 2

    def case(heart: str, balance: str) -> Callable[[str], tuple[str, ...]]:
        return lambda name: {"heart": (heart,), "balance": (balance,)}.get(name, ())

    assert coach.failed(case("Emerging", "Not a people manager")) == []
    assert coach.failed(case("Not evidenced", "Intervene")) == []
    assert coach.failed(case("Not evidenced", "Balanced")) == [
        "heart Not evidenced",
        "balance Balanced",
    ]
    assert "(or)" in coach.describe()
