"""The what-if search's shortcuts (talentrules/changes.py, facts.Changeable,
reference.Reevaluation: only the facts and rules a change moves, outcomes and family
facts remembered across people) give exactly what the straightforward search gives:
every candidate change made to the person's own rows, all their facts derived again
by compute_facts and the whole rulebook evaluated again, nothing remembered."""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talentrules import facts as facts_module
from talentrules.changes import (
    _OBSERVATION_SET,
    SETTABLE,
    Person,
    _all_values,
    _observations,
    load_changes,
    nearest,
)
from talentrules.contract import EVIDENCE
from talentrules.facts import DerivationPlan, FactsOnDemand, PanelDerivation, compute_facts
from talentrules.model import PERSON_COLUMN, Cell, Row, Value
from talentrules.paths import default_rules_dir, sample_workbook
from talentrules.reference import evaluate
from talentrules.reference import evaluation as evaluation_module
from talentrules.report.view import group_rows
from talentrules.rulebook import load_rulebook, resolve
from talentrules.run import RunResult, evaluate_workbook

ROOT = Path(__file__).resolve().parents[1]


class Plain(Person):
    """A Person whose every what-if is worked out from scratch: the person's rows
    changed, compute_facts over them, reference.evaluate of every decision."""

    result: RunResult

    def evaluate(
        self, cells: Mapping[str, Value] | None = None, extra: Sequence[Row] = ()
    ) -> Mapping[str, tuple[str, ...]]:
        panel = self.result.panel
        rows: dict[str, Sequence[Row]] = {
            sheet: list(found) for sheet, found in panel.rows.items() if sheet not in PERSON_COLUMN
        }
        for sheet in PERSON_COLUMN:
            rows[sheet] = panel.about(sheet, self.employee_id)
        (employee,) = rows["Employees"]
        if cells:
            changed = {c: Cell(v, "what-if") for c, v in cells.items()}
            employee = Row(employee.sheet, employee.number, {**employee.cells, **changed})
        rows["Employees"] = [employee]
        # The person's own new rows (a search may share rows made for another person
        # when no row test or measure reads whose they are).
        mine = Cell(self.employee_id, "what-if")
        extra = [Row(r.sheet, r.number, {**r.cells, "employee_id": mine}) for r in extra]
        rows["Evidence"] = [*rows["Evidence"], *extra]
        alone = dataclasses.replace(panel, rows=rows)
        catalogue = self.result.facts.derivation.given[2]  # type: ignore[attr-defined]
        (facts,) = compute_facts(alone, self.rulebook.vocabulary, catalogue)
        return evaluate(self.rulebook, facts).outcomes

    def observe(self, rows: Sequence[Row], count: int) -> Mapping[str, tuple[str, ...]]:
        return self.evaluate(None, rows[:count])


def _people(result: RunResult, plan: DerivationPlan, kind: type[Person]) -> list[Person]:
    explained = [
        d.name
        for role in load_changes(result.rulebook).explain
        if (d := result.rulebook.role(role))
    ]
    evidence = group_rows(result.panel.rows["Evidence"], "employee_id")
    found = []
    for employee_id in result.facts:
        # The quick search as a brief runs it: with the person's evaluation (the rules
        # that hold now) and the Evidence lines the run's derivation of their facts made.
        person = kind(
            result.rulebook,
            plan,
            employee_id,
            result.facts[employee_id].values,
            evidence.get(employee_id, []),
            result.panel.as_of,
            () if kind is Plain else explained,
            None if kind is Plain else result.result(employee_id).evaluation,
        )
        if isinstance(person, Plain):
            person.result = result
        found.append(person)
    return found


def _same_search(result: RunResult) -> int:
    """nearest with the shortcuts equals nearest from scratch for every person; the
    number of changes named."""
    changes = load_changes(result.rulebook)
    assert changes.explain and changes.changes
    labels = {name: name.replace("_", " ") for name in result.rulebook.vocabulary}
    # One a run: its memos are shared; its row tests are the run's derivation's.
    plan = DerivationPlan(result.rulebook.vocabulary, _derivation(result))
    quick = _people(result, plan, Person)
    plain = _people(result, DerivationPlan(result.rulebook.vocabulary), Plain)
    named = 0
    for fast, slow in zip(quick, plain, strict=True):
        now = result.result(fast.employee_id).evaluation.outcomes
        expected = nearest(slow, changes, now, labels)
        assert nearest(fast, changes, now, labels) == expected, fast.employee_id
        named += sum(len(items) for items in expected.values())
    return named


def _derivation(result: RunResult) -> PanelDerivation:
    assert isinstance(result.facts, FactsOnDemand)
    return result.facts.derivation


@pytest.fixture(scope="module")
def sample() -> RunResult:
    return evaluate_workbook(sample_workbook(), jobs=1)


def _make_workbook() -> Any:
    """benchmarks/make_workbook.py's ``make_workbook`` (a script, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "make_workbook", ROOT / "benchmarks" / "make_workbook.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_workbook


def test_the_search_equals_the_straightforward_one_on_the_sample(sample: RunResult) -> None:
    assert _same_search(sample) > 20


def test_the_search_equals_the_straightforward_one_on_the_vendor_export() -> None:
    result = evaluate_workbook(ROOT / "sample_inputs" / "panel_review_vendor_export.xlsx", jobs=1)
    assert _same_search(result) > 0


def test_the_search_equals_the_straightforward_one_on_a_generated_workbook(
    tmp_path: Path,
) -> None:
    _make_workbook()(tmp_path / "generated.xlsx", 120, seed=23)
    result = evaluate_workbook(tmp_path / "generated.xlsx", jobs=1)
    assert len(result.results) == 120
    assert _same_search(result) > 50


def _pairs(result: RunResult) -> list[tuple[Person, Person]]:
    """Each person of ``result`` with the search's shortcuts and from scratch."""
    plan = DerivationPlan(result.rulebook.vocabulary, _derivation(result))
    plain = _people(result, DerivationPlan(result.rulebook.vocabulary), Plain)
    return list(zip(_people(result, plan, Person), plain, strict=True))


@pytest.fixture(scope="module")
def pairs(sample: RunResult) -> list[tuple[Person, Person]]:
    return _pairs(sample)


_EVIDENCE_ENUMS = {c.name: sorted(c.values) for c in EVIDENCE.columns if c.kind == "enum"}
_AS = ("source_type", "influence_base", "initiated_by", "frequency", "energy")


_ANY = st.integers(0, 10**6)  # an index into a list not known yet, taken modulo its length


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    who=_ANY,
    cells=st.lists(st.tuples(_ANY, _ANY), max_size=3),
    observed=st.lists(
        st.tuples(_ANY, st.integers(1, 3), st.lists(st.tuples(_ANY, _ANY), max_size=5)),
        max_size=2,
    ),
)
def test_any_change_is_evaluated_as_from_scratch(
    sample: RunResult,
    pairs: list[tuple[Person, Person]],
    who: int,
    cells: list[tuple[int, int]],
    observed: list[tuple[int, int, list[tuple[int, int]]]],
) -> None:
    """Any Employees values set and any observations added (of any signal, any number,
    recorded any way), in any order of people: the explained decisions' outcomes are
    those of evaluating from scratch, however warm the memos are."""
    fast, slow = pairs[who % len(pairs)]
    vocabulary = sample.rulebook.vocabulary
    settable = [name for name in SETTABLE if name in vocabulary and _all_values(vocabulary[name])]
    changed: dict[str, Value] = {}
    for name_at, value_at in cells:
        name = settable[name_at % len(settable)]
        values = [None, *_all_values(vocabulary[name])]
        changed[name] = values[value_at % len(values)]
    as_of = sample.panel.as_of
    assert as_of is not None
    codes = sorted(sample.rulebook.signals)
    extra: list[Row] = []
    for code_at, count, recorded in observed:
        columns = [c for c in _AS if c in _EVIDENCE_ENUMS]
        row: dict[str, str] = {}
        for column_at, value_at in recorded:
            column = columns[column_at % len(columns)]
            row[column] = _EVIDENCE_ENUMS[column][value_at % len(_EVIDENCE_ENUMS[column])]
        extra += _observations(fast, codes[code_at % len(codes)], count, as_of, row)
    expected = slow.evaluate(changed, extra)
    found = fast.evaluate(changed, extra)
    explained = [
        d.name
        for role in load_changes(sample.rulebook).explain
        if (d := sample.rulebook.role(role))
    ]
    assert {n: found[n] for n in explained} == {n: expected[n] for n in explained}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_observation_searched_is_the_straightforward_search(
    sample: RunResult, pairs: list[tuple[Person, Person]], data: st.DataObject
) -> None:
    """For random people and random variants of the rulebook's changes (how many new
    observations, what each records, which signals), the search names exactly what
    the straightforward one names."""
    changes = load_changes(sample.rulebook)
    settable = {
        c.name: sorted(c.values)
        for c in EVIDENCE.columns
        if c.kind == "enum" and c.name not in _OBSERVATION_SET
    }
    variant = []
    for change in changes.changes:
        if change.kind == "observe":
            columns = data.draw(st.lists(st.sampled_from(sorted(settable)), unique=True))
            row = {name: data.draw(st.sampled_from(settable[name])) for name in columns}
            signals = data.draw(
                st.lists(st.sampled_from(sorted(sample.rulebook.signals)), min_size=1, unique=True)
            )
            up_to = data.draw(st.integers(1, 4))
            change = dataclasses.replace(change, row=row, signals=tuple(signals), up_to=up_to)
        variant.append(change)
    changed = dataclasses.replace(changes, changes=tuple(variant))
    for fast, slow in data.draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=8)):
        now = sample.result(fast.employee_id).evaluation.outcomes
        assert nearest(fast, changed, now) == nearest(slow, changed, now), fast.employee_id


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    who=_ANY,
    observed=st.lists(
        st.tuples(_ANY, st.integers(1, 4), st.lists(st.tuples(_ANY, _ANY), max_size=5)),
        min_size=1,
        max_size=3,
    ),
)
def test_signals_observed_that_add_nothing_leave_the_outcomes_of_the_rest(
    sample: RunResult,
    pairs: list[tuple[Person, Person]],
    who: int,
    observed: list[tuple[int, int, list[tuple[int, int]]]],
) -> None:
    """The search's shortcut for new observations: when the observed signals' own facts
    are shown to add nothing (``Beside.adds_nothing``) to the facts over every row
    moved, the outcomes are those of the facts over every row alone; checked against
    evaluating from scratch with every fact (each signal's too) moved."""
    fast, slow = pairs[who % len(pairs)]
    as_of = sample.panel.as_of
    assert as_of is not None
    codes = sorted(sample.rulebook.signals)
    extra: list[Row] = []
    for code_at, count, recorded in observed:
        columns = [c for c in _AS if c in _EVIDENCE_ENUMS]
        row: dict[str, str] = {}
        for column_at, value_at in recorded:
            column = columns[column_at % len(columns)]
            row[column] = _EVIDENCE_ENUMS[column][value_at % len(_EVIDENCE_ENUMS[column])]
        extra += _observations(fast, codes[code_at % len(codes)], count, as_of, row)
    parts = fast._changeable.parts(None, extra)
    assert parts[0].lasting and all(part.lasting for part in parts)
    more: dict[str, Value] = {}
    for part in parts[1:]:
        more.update(part.facts)
    beside = fast._again.beside(parts[0].facts)
    expected = slow.evaluate(None, extra)
    if beside.adds_nothing(more):
        alone = beside.outcomes()
        assert {n: alone[n] for n in fast._again.now} == {n: expected[n] for n in fast._again.now}
    # The family's facts set beside those over every row, in the Beside's own env
    # (``Beside.outcomes_with``): the outcomes of setting both in the person's.
    together = beside.outcomes_with(more)
    assert {n: together[n] for n in fast._again.now} == {n: expected[n] for n in fast._again.now}
    assert beside.env == {**fast._again.env, **parts[0].facts}  # put back as it was
    found = fast.evaluate(None, extra)
    assert {n: found[n] for n in fast._again.now} == {n: expected[n] for n in fast._again.now}


def test_the_search_equals_the_straightforward_one_with_a_formula_over_evidence(
    tmp_path: Path,
) -> None:
    """A formula over facts derived from Evidence rows, read by a rule the verdict
    depends on: new observations move it, so the shortcut for observations does not
    apply (``Changeable.parts`` gives the formula's part) and the search still names
    exactly what the straightforward one names."""
    rules = Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))
    vocabulary = rules / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    net = (
        "  evidence.net:\n    type: number\n    range: [-100000, 100000]\n"
        "    meaning: Observations by others less the person's own reports.\n"
        "    formula: evidence.observed - evidence.self_reports\n"
    )
    assert text.count("  evidence.observed:\n") == 1
    vocabulary.write_text(text.replace("  evidence.observed:\n", net + "  evidence.observed:\n"))
    evidence = rules / "15-evidence.yaml"
    text = evidence.read_text(encoding="utf-8")
    assert text.count("      - evidence.observers == 1\n") == 1
    evidence.write_text(
        text.replace(
            "      - evidence.observers == 1\n",
            "      - evidence.observers == 1\n      - evidence.net >= 1\n",
        )
    )
    result = evaluate_workbook(sample_workbook(), rules, jobs=1)
    assert _same_search(result) > 20


# --------------------------------------------------------------------------------------
# Observations asked of shared rows (``Person.observe``): a signal family's facts with
# rows added to none of the person's own are everyone's, and whether they add anything
# to the facts over every row is remembered for the run (``reference.evaluation``'s
# ``_Verdicts``) by every value that answer reads.
# --------------------------------------------------------------------------------------


def _other_rulebook(tmp_path: Path) -> Path:
    """The shipped rulebook with other thresholds (at the edges new observations
    cross: one, two or three more), a heart signal no workbook records, a rule
    that reads a signal's facts beside the facts over every row and a counter-signal's
    fact that is unknown without observations, and a percent over every row whose
    matching test no other fact over every row has (what-if rows that differ only
    there must not share those facts)."""
    rules = Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))
    parameters = rules / "parameters.yaml"
    text = parameters.read_text(encoding="utf-8")
    for name, old, new in (
        ("habit_episodes", 3, 2),
        ("habit_contexts", 2, 3),
        ("habit_months", 12, 0),
        ("habit_observers", 2, 1),
    ):
        before = f"  {name}:\n    value: {old}\n"
        assert text.count(before) == 1, name
        text = text.replace(before, f"  {name}:\n    value: {new}\n")
    parameters.write_text(text, encoding="utf-8")
    signals = rules / "signals.yaml"
    text = signals.read_text(encoding="utf-8")
    assert text.count("\n  H-SOC:\n") == 1
    signals.write_text(
        text.replace(
            "\n  H-SOC:\n",
            "\n  H-TST:\n    name: Tests the search\n    kind: signal\n    weight: core\n"
            "    description: A signal no workbook records.\n"
            "    why: Only the tests of the what-if search know it.\n  H-SOC:\n",
        ),
        encoding="utf-8",
    )
    evidence = rules / "15-evidence.yaml"
    text = evidence.read_text(encoding="utf-8")
    evidence.write_text(
        text + "\n  - id: evidence-mixed-for-the-search\n    decision: evidence_quality\n"
        "    title: A signal beside the evidence over every row\n"
        "    rationale: A test rule reading a signal's facts beside others.\n"
        "    when:\n      - H-DEV.episodes >= 1\n      - evidence.observers <= 3\n"
        "      - C-RLT.newest_age_months is unknown\n"
        "    then: Conflicting\n    priority: 47\n"
        "\n  - id: evidence-formal-for-the-search\n    decision: evidence_quality\n"
        "    title: Mostly seen in a formal role\n"
        "    rationale: A test rule reading a percent over every row.\n"
        "    when:\n      - evidence.formal_share >= 30\n      - evidence.observers >= 1\n"
        "    then: Conflicting\n    priority: 48\n",
        encoding="utf-8",
    )
    vocabulary = rules / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    anchor = "  evidence.self_reports:\n"
    assert text.count(anchor) == 1
    vocabulary.write_text(
        text.replace(
            anchor,
            "  evidence.formal_share:\n    type: number\n    range: [0, 100]\n"
            "    meaning: Share (%) of observations made in a formal role.\n"
            "    rows: observed\n    measure: percent\n    matching: [context == Formal role]\n"
            + anchor,
        ),
        encoding="utf-8",
    )
    return rules


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return evaluate_workbook(
        sample_workbook(), _other_rulebook(tmp_path_factory.mktemp("other")), jobs=1
    )


def test_the_search_equals_the_straightforward_one_with_another_rulebook(
    other: RunResult,
) -> None:
    assert "H-TST" in other.rulebook.signals
    assert _same_search(other) > 20


def test_the_search_equals_the_straightforward_one_when_its_memos_overflow(
    other: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared verdicts (``evaluation._Verdicts``) dropped every few answers: what
    is found again is what was found before."""
    monkeypatch.setattr(evaluation_module, "_VERDICTS_LIMIT", 3)
    assert _same_search(other) > 20


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_priority_decision_is_the_first_rule_that_holds_by_rank(data: st.DataObject) -> None:
    """A re-evaluation picks a ``priority`` decision's outcome as the first rule that
    holds in ``_ranked``'s order, checking no rule after it: that is ``resolve``'s
    winner for any truths, priorities equal or not (rulebook order among equals)."""
    rulebook = load_rulebook(default_rules_dir())
    decision = data.draw(
        st.sampled_from([d for d in rulebook.decisions.values() if d.policy == "priority"])
    )
    mine = [rule for rule in rulebook.rules if rule.decision == decision.name]
    rules = [
        dataclasses.replace(rule, priority=data.draw(st.integers(0, 3), label=rule.id))
        for rule in mine
    ]
    holds = data.draw(st.lists(st.booleans(), min_size=len(rules), max_size=len(rules)))
    default, ranked = evaluation_module._ranked(decision, rules)
    first = next((then for at, then in ranked if holds[at]), default)
    fired = [rule for rule, held in zip(rules, holds, strict=True) if held]
    assert first == resolve(decision, fired, "E1")[0]


def test_the_search_equals_the_straightforward_one_when_outcomes_by_truths_overflow(
    other: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision's outcomes by its rules' truths (``Reevaluation._resolve``) kept for
    only the first few patterns of the run: the rest are resolved every time, alike."""
    monkeypatch.setattr(evaluation_module, "_RESOLVED_LIMIT", 2)
    evaluation_module._NEEDED.clear()  # the memos start empty, then fill to the limit
    assert _same_search(other) > 20


def test_the_search_equals_the_straightforward_one_when_plans_and_added_lines_overflow(
    other: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's plans of a decision's rules to check (``evaluation._plan``, by the
    truths' pattern and what moved; a collecting decision's rules by what moved) and
    the added lines by a group's tests (``facts._ADDED``) kept for only a couple of
    entries: dropped and worked out again, alike."""
    monkeypatch.setattr(evaluation_module, "_PLANS_LIMIT", 2)
    monkeypatch.setattr(facts_module, "_ADDED_LIMIT", 2)
    evaluation_module._NEEDED.clear()  # the memos start empty, then fill to the limit
    assert _same_search(other) > 20


def test_the_search_is_the_same_without_the_persons_evaluation(sample: RunResult) -> None:
    """A search whose person's rules' truths are worked out from their facts (no
    evaluation given) names what one given the evaluation names, in the same run:
    both find the run's plans by the places of the rules that hold, found either way
    (``Reevaluation._plans_of``), and share them."""
    changes = load_changes(sample.rulebook)
    labels = {name: name.replace("_", " ") for name in sample.rulebook.vocabulary}
    plan = DerivationPlan(sample.rulebook.vocabulary, _derivation(sample))
    explained = [d.name for role in changes.explain if (d := sample.rulebook.role(role))]
    evidence = group_rows(sample.panel.rows["Evidence"], "employee_id")
    evaluation_module._NEEDED.clear()
    for employee_id in sample.facts:
        now = sample.result(employee_id).evaluation
        found = []
        for evaluation in (None, now, None):
            person = Person(
                sample.rulebook,
                plan,
                employee_id,
                sample.facts[employee_id].values,
                evidence.get(employee_id, []),
                sample.panel.as_of,
                explained,
                evaluation,
            )
            found.append(nearest(person, changes, now.outcomes, labels))
        assert found[0] == found[1] == found[2], employee_id


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_plan_checks_what_moved_up_to_the_first_rule_that_holds(data: st.DataObject) -> None:
    """``evaluation._plan`` for any rules (what each reads, in any rank), the person's
    truths and what moved: its outcome (the first of its checks that holds, else its
    default) is the first rule that holds by rank, a rule reading what moved as its
    check says and any other as the person's truth says."""
    names = ("a", "b", "c", "d")
    size = data.draw(st.integers(0, 8))
    reads = [
        frozenset(data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True)))
        for _ in range(size)
    ]
    truths = data.draw(st.lists(st.booleans(), min_size=size, max_size=size))
    after = data.draw(st.lists(st.booleans(), min_size=size, max_size=size))
    moved = frozenset(data.draw(st.lists(st.sampled_from(names), unique=True)))
    order = data.draw(st.permutations(range(size)))
    ranked = (("default",), tuple((at, (f"rule {at}",)) for at in order))

    class Rule:
        def __init__(self, holds: bool) -> None:
            self.holds = holds

        def check(self, env: Any) -> bool:
            return self.holds

    rules: Any = [(Rule(holds), read) for holds, read in zip(after, reads, strict=True)]
    expected = next(
        (
            then
            for at, then in ranked[1]
            if (after[at] if not moved.isdisjoint(reads[at]) else truths[at])
        ),
        ranked[0],
    )
    default, checks = evaluation_module._plan(ranked, rules, truths, moved)
    assert next((then for check, then in checks if check({}) is True), default) == expected


def test_the_search_equals_the_straightforward_one_with_another_rulebook_generated(
    tmp_path: Path,
) -> None:
    _make_workbook()(tmp_path / "generated.xlsx", 120, seed=29)
    result = evaluate_workbook(tmp_path / "generated.xlsx", _other_rulebook(tmp_path), jobs=1)
    assert _same_search(result) > 50


@pytest.fixture(scope="module")
def other_pairs(other: RunResult) -> list[tuple[Person, Person]]:
    return _pairs(other)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rulebook=st.booleans(),
    who=st.lists(_ANY, min_size=1, max_size=6),
    code_at=_ANY,
    count=st.integers(1, 4),
    recorded=st.lists(st.tuples(_ANY, _ANY), max_size=5),
)
def test_observations_of_shared_rows_are_evaluated_as_from_scratch(
    sample: RunResult,
    other: RunResult,
    pairs: list[tuple[Person, Person]],
    other_pairs: list[tuple[Person, Person]],
    rulebook: bool,
    who: list[int],
    code_at: int,
    count: int,
    recorded: list[tuple[int, int]],
) -> None:
    """Rows made once and asked of several people, with any count and recorded any
    way, of either rulebook: ``observe`` gives the outcomes of evaluating from scratch;
    its parts are ``parts``'s; and a shared family's answer remembered for the run is
    the one worked out for the person."""
    result, people = (other, other_pairs) if rulebook else (sample, pairs)
    codes = sorted(result.rulebook.signals)
    code = codes[code_at % len(codes)]
    columns = [c for c in _AS if c in _EVIDENCE_ENUMS]
    row: dict[str, str] = {}
    for column_at, value_at in recorded:
        column = columns[column_at % len(columns)]
        row[column] = _EVIDENCE_ENUMS[column][value_at % len(_EVIDENCE_ENUMS[column])]
    for at in who:
        fast, slow = people[at % len(people)]
        rows = fast.observations(code, count, row)
        parts = fast._changeable.observed(rows, count)
        assert [dict(p.facts) for p in parts] == [
            dict(p.facts) for p in fast._changeable.parts(None, rows)
        ]
        if len(parts) == 2 and parts[1].shared:
            beside = fast._again.beside(parts[0].facts)
            remembered = beside.adds_nothing(parts[1].facts, shared=True)
            assert remembered == beside.adds_nothing(parts[1].facts)
        expected = slow.evaluate(None, rows)
        found = fast.observe(rows, count)
        assert {n: found[n] for n in fast._again.now} == {n: expected[n] for n in fast._again.now}
