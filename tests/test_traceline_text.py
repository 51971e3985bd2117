"""A trace line made as text (``reference.record_text``, ``Result.record_text``, what
trace.jsonl's lines are made of) is ``canonical(record(...))`` byte for byte: for varied
persons (unknowns, dates, floats, booleans beside whole numbers, unicode, quotes and
control characters, empty cell lists), for evaluations whose parts are not what an
evaluator makes, on the packaged rulebook and on a small other one, and for the lines
of a real run."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reference import rule

from talentrules.facts import PersonFacts, facts_from_mapping
from talentrules.jsontext import canonical
from talentrules.paths import default_rules_dir
from talentrules.reference import compile_rulebook, evaluate, record, record_text
from talentrules.rulebook import Evaluation, Rulebook, load_rulebook

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
    print_blob=True,
)


def _small_rulebook(folder: Path) -> Rulebook:
    """Three decisions in three levels, every hit policy, facts of every type."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("vocabulary.yaml", "parameters.yaml", "signals.yaml"):
        shutil.copy(default_rules_dir() / name, folder / name)
    decisions = {
        "quality": {"policy": "unique", "outcomes": ["Good", "Thin"], "default": "Thin"},
        "heart": {"policy": "priority", "outcomes": ["Strong", "Weak"], "default": "Weak"},
        "inv": {"policy": "collect", "outcomes": ["PROG", "COACH", "None"], "default": "None"},
    }
    for decision in decisions.values():
        decision["meaning"] = "A test decision."
    rules = [
        ("quality-good", "quality", ["evidence.observers >= 2"], "Good", None),
        ("heart-strong", "heart", ["quality == Good", "H-DEV.episodes >= 3"], "Strong", 30),
        ("heart-weak", "heart", ["performance < 2.5"], "Weak", 10),
        ("inv-prog", "inv", ["heart == Strong", "readiness == Ready now"], "PROG", None),
        ("inv-coach", "inv", ["is_people_manager == true", "tenure_months < 6"], "COACH", None),
    ]
    (folder / "decisions.yaml").write_text(yaml.safe_dump({"decisions": decisions}))
    written = [rule(*entry) for entry in rules]
    (folder / "rules.yaml").write_text(yaml.safe_dump({"rules": written}, sort_keys=False))
    return load_rulebook(folder)


@pytest.fixture(scope="module")
def rulebooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rulebook]:
    return {
        "packaged": load_rulebook(default_rules_dir()),
        "small": _small_rulebook(tmp_path_factory.mktemp("small")),
    }


# Values of every kind a fact may hold, and some it should not (the text must still be
# canonical's): whole numbers beside the booleans and floats that equal them.
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12
) | st.sampled_from(['"', "\\", "\n\t", "\u2028", "é", "ß", "%s", "%", "💡", ""])
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, -1, 0.0, 1.0, -0.0, 1e-05, 2.5, 1e20, True, False]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    TEXT,
)
CELLS = st.lists(st.sampled_from(["Employees!A2", "Evidence!C3", "Cycle!C2"]) | TEXT, max_size=3)


@st.composite
def persons_and_evaluations(draw: st.DrawFn, rb: Rulebook) -> tuple[PersonFacts, Evaluation]:
    compiled = compile_rulebook(rb)
    names = sorted(rb.vocabulary)
    values: dict[str, Any] = {}
    for name in names:
        if draw(st.integers(0, 9)):  # now and then a fact the person lacks
            values[name] = draw(VALUES)
    cells: dict[str, Any] = {
        name: tuple(draw(CELLS))  # empty lists too
        for name in draw(st.lists(st.sampled_from(names), max_size=20, unique=True))
    }
    if not draw(st.integers(0, 9)):  # cells that are not a tuple of names
        odd = draw(st.sampled_from([None, "Employees!A2", ["Evidence!C3"], []]))
        cells[draw(st.sampled_from(names))] = odd
    fired = tuple(r.id for r in rb.rules if draw(st.booleans()))
    outcomes: dict[str, tuple[Any, ...]] = {}
    overruled: dict[str, tuple[str, ...]] = {}
    for name, decision in rb.decisions.items():
        if draw(st.integers(0, 5)):  # else the decision's default, as record takes it
            pool = st.sampled_from(decision.outcomes) | st.sampled_from([1, True, 1.0, None])
            outcomes[name] = tuple(draw(st.lists(pool, min_size=1, max_size=2)))
        mine = [rule_id for rule_id in fired if compiled.rules[rule_id].rule.decision == name]
        if mine and draw(st.booleans()):
            overruled[name] = tuple(mine[1:])
    defaulted = tuple(draw(st.lists(st.sampled_from(sorted(rb.decisions)), unique=True)))
    employee_id = draw(st.sampled_from(["E1", 'E"2', "Ñ\u20283"]) | TEXT)
    person = PersonFacts(employee_id, values, cells)
    return person, Evaluation(employee_id, outcomes, fired, overruled, defaulted)


@pytest.mark.parametrize("which", ["packaged", "small"])
@SETTINGS
@given(data=st.data())
def test_the_line_text_is_the_canonical_json_of_the_record(
    rulebooks: dict[str, Rulebook], which: str, data: st.DataObject
) -> None:
    rb = rulebooks[which]
    person, evaluation = data.draw(persons_and_evaluations(rb))
    body = record(rb, person, evaluation)
    assert record_text(rb, person, evaluation) == canonical(body)
    extra = {"engine": {"evaluator": "x"}, "chain": {"line": 1, "prev": ""}, "zz": [1, True]}
    texts = {key: canonical(value) for key, value in extra.items()}
    assert record_text(rb, person, evaluation, texts) == canonical({**body, **extra})


def test_outcomes_equal_in_python_but_not_in_json_are_never_confused(
    rulebooks: dict[str, Rulebook],
) -> None:
    # A decision's text is kept by its outcomes, fired and overruled rules: 1, 1.0 and
    # True are one dict key, three texts. An evaluator gives only outcome names; the
    # text must still be canonical's whatever it is handed, in any order.
    rb = rulebooks["small"]
    person = facts_from_mapping("P1", {"performance": 2}, rb.vocabulary)
    for outcome in ["Good", 1, 1.0, True, "Good", True, 1, 0, False, 0.0, "1", "true"]:
        evaluation = Evaluation("P1", {"quality": (outcome,)}, (), {}, ("quality",))
        body = record(rb, person, evaluation)
        assert record_text(rb, person, evaluation) == canonical(body), outcome


def test_facts_equal_in_python_but_not_in_json_each_keep_their_text(
    rulebooks: dict[str, Rulebook],
) -> None:
    rb = rulebooks["packaged"]
    name = compile_rulebook(rb).read[0]
    texts = set()
    for value in [1, True, 1.0, 0, False, 0.0, -0.0, None, "1", dt.date(2026, 1, 31)]:
        person = PersonFacts("P1", {name: value}, {name: ()})
        evaluation = evaluate(rb, facts_from_mapping("P1", {}, rb.vocabulary))
        text = record_text(rb, person, evaluation)
        assert text == canonical(record(rb, person, evaluation)), value
        texts.add(text)
    assert len(texts) == 10


def test_typed_persons_through_the_reference_evaluator(rulebooks: dict[str, Rulebook]) -> None:
    # Persons as a workbook gives them (typed by the vocabulary), evaluated: every line
    # as text equals canonical's, the second time round with every decision's text kept.
    rb = rulebooks["packaged"]
    people = []
    for n in range(40):
        facts: dict[str, Any] = {
            "performance": n % 5 + 1 if n % 7 else None,
            "potential": n % 3 + 1,
            "H-DEV.episodes": n % 4,
            "H-DEV.observers": n % 3,
            "evidence.observers": n % 5,
            "readiness": ["Ready now", "Ready 1-2 years", None][n % 3],
            "is_people_manager": bool(n % 2),
            "team.engagement": 50.5 + n,
        }
        people.append(facts_from_mapping(f"P{n:03d}é", facts, rb.vocabulary))
    for _ in range(2):
        for p in people:
            ev = evaluate(rb, p)
            assert record_text(rb, p, ev) == canonical(record(rb, p, ev)), p.employee_id


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_value_json_cannot_hold_is_refused_as_canonical_refuses_it(
    rulebooks: dict[str, Rulebook], value: float
) -> None:
    rb = rulebooks["small"]
    name = compile_rulebook(rb).read[0]
    person = PersonFacts("P1", {name: value}, {})
    evaluation = Evaluation("P1", {}, (), {}, ())
    with pytest.raises(ValueError) as expected:
        canonical(record(rb, person, evaluation))
    with pytest.raises(ValueError) as got:
        record_text(rb, person, evaluation)
    assert str(got.value) == str(expected.value)


def test_cell_names_that_need_escaping_are_escaped(rulebooks: dict[str, Rulebook]) -> None:
    rb = rulebooks["small"]
    read = compile_rulebook(rb).read
    evaluation = Evaluation("P1", {}, (), {}, ())
    refs: tuple[Any, ...]
    for refs in [
        ("A!B1", 'x"y'),
        ("x\\y",),
        ("tab\tin",),
        ("\u2028",),
        ("é", "💡"),
        (),
        ('"', '"'),
        ("",),
        ("", ""),
        (1, "A!B1"),
        (None,),
    ]:
        person = PersonFacts("P1", {}, {read[0]: refs, read[-1]: ("Cycle!C2",)})
        assert record_text(rb, person, evaluation) == canonical(record(rb, person, evaluation))
