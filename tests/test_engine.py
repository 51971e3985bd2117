"""The durable_rules adapter: hit policies, chaining, unknowns and every durable quirk it owns.

Every test runs the real path: a Rulebook compiled onto a real durable_rules ruleset.
The oracle is the rule language's own three-valued evaluator (rulebook.evaluate) with
the shared hit-policy resolution.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib.util
import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from talentrules import engine as engine_module
from talentrules import reference
from talentrules.engine import DURABLE_VERSION, Engine, Result, encode_number, run
from talentrules.errors import EngineError, RulebookError, RuleConflictError
from talentrules.facts import PersonFacts, compute_facts, load_catalogue
from talentrules.ingest import load_workbook
from talentrules.model import Value
from talentrules.paths import default_rules_dir
from talentrules.rulebook import (
    AllOf,
    AnyOf,
    Compare,
    Decision,
    Evaluation,
    Expr,
    Not,
    Rule,
    Rulebook,
    evaluate,
    load_rulebook,
    parse_condition,
    resolve,
    rule_reads,
)
from talentrules.vocabulary import FactSpec

FILE = "test.yaml"


def Person(employee_id: str, values: Mapping[str, Value] | None = None) -> PersonFacts:
    """A person with the given values (None: unknown) and no provenance cells."""
    return PersonFacts(employee_id, dict(values or {}), {})


def number(name: str, lo: float | None = None, hi: float | None = None) -> FactSpec:
    return FactSpec(name, "number", f"{name}.", lo, hi)


def enum(name: str, *values: str) -> FactSpec:
    return FactSpec(name, "enum", f"{name}.", values=values)


def typed(name: str, kind: Any) -> FactSpec:
    return FactSpec(name, kind, f"{name}.")


def decision(name: str, policy: Any, outcomes: Sequence[str], default: str) -> Decision:
    return Decision(name, policy, tuple(outcomes), default, f"{name}?", FILE, 1)


Spec = tuple[str, str, Any, str, int]  # id, decision, when, then, priority


def book(
    facts: Sequence[FactSpec], decisions: Sequence[Decision], specs: Sequence[Spec]
) -> Rulebook:
    """A Rulebook built in memory: conditions as text, lists as all, ("any"|"not", ...)."""
    vocabulary = {f.name: f for f in facts}
    by_name = {d.name: d for d in decisions}

    def parse(when: Any) -> Expr:
        if isinstance(when, Compare | AllOf | AnyOf | Not):
            return when  # built directly: values the rule checker would refuse
        if isinstance(when, str):
            return parse_condition(when, vocabulary, by_name, FILE, 1)
        if isinstance(when, tuple) and when[0] == "any":
            return AnyOf(tuple(parse(w) for w in when[1]))
        if isinstance(when, tuple) and when[0] == "not":
            return Not(parse(when[1]))
        return AllOf(tuple(parse(w) for w in when))

    rules = tuple(
        Rule(rid, dec, rid, "why", parse(when), then, pri, None, FILE, n + 2)
        for n, (rid, dec, when, then, pri) in enumerate(specs)
    )
    depth: dict[str, int] = {}

    def level(name: str) -> int:
        if name not in depth:
            reads = {r for rule in rules if rule.decision == name for r in rule_reads(rule)}
            depth[name] = 1 + max((level(r) for r in reads if r in by_name), default=-1)
        return depth[name]

    levels: dict[int, list[str]] = {}
    for d in decisions:
        levels.setdefault(level(d.name), []).append(d.name)
    ordered = tuple(tuple(levels[k]) for k in sorted(levels))
    return Rulebook(vocabulary, by_name, rules, ordered, "rules", "sha")


def oracle(rulebook: Rulebook, person: PersonFacts) -> Evaluation:
    """The rule language's semantics in plain Python, for cross-checks."""
    values: dict[str, object] = dict(person.values)
    outcomes: dict[str, tuple[str, ...]] = {}
    fired: list[str] = []
    overruled: dict[str, tuple[str, ...]] = {}
    defaulted: list[str] = []
    for names in rulebook.levels:
        hits = [r for r in rulebook.rules if r.decision in names and evaluate(r.when, values)]
        for name in names:
            own = [r for r in hits if r.decision == name]
            chosen, lost = resolve(rulebook.decisions[name], own, person.employee_id)
            outcomes[name] = values[name] = chosen
            if lost:
                overruled[name] = lost
            if not own:
                defaulted.append(name)
        fired += [r.id for r in hits]
    return Evaluation(person.employee_id, outcomes, tuple(fired), overruled, tuple(defaulted))


def evaluate_all(rulebook: Rulebook, persons: Sequence[PersonFacts]) -> list[Evaluation]:
    with Engine(rulebook) as engine:
        return [engine.evaluate(p) for p in persons]


# --- hit policies and chaining --------------------------------------------------------

SCORE = number("score")
HEART = decision("heart", "priority", ["Strong", "Emerging", "None"], "None")


def test_priority_highest_wins_and_the_rest_are_overruled() -> None:
    rb = book(
        [SCORE],
        [HEART],
        [
            ("emerging", "heart", ["score >= 3"], "Emerging", 10),
            ("strong", "heart", ["score >= 7"], "Strong", 30),
        ],
    )
    high, mid, low = evaluate_all(
        rb, [Person("1", {"score": 8}), Person("2", {"score": 4}), Person("3", {"score": 1})]
    )
    assert high.outcomes == {"heart": ("Strong",)}
    assert high.fired == ("emerging", "strong")
    assert high.overruled == {"heart": ("emerging",)}
    assert mid.outcomes == {"heart": ("Emerging",)} and mid.overruled == {}
    assert low.outcomes == {"heart": ("None",)} and low.defaulted == ("heart",) and low.fired == ()


def test_collect_takes_every_outcome_in_outcome_order() -> None:
    kinds = decision("kinds", "collect", ["Position", "Expert", "Personal", "None"], "None")
    rb = book(
        [SCORE],
        [kinds],
        [
            ("personal", "kinds", ["score >= 5"], "Personal", 0),
            ("position", "kinds", ["score >= 2"], "Position", 0),
            ("personal-too", "kinds", ["score >= 9"], "Personal", 0),
        ],
    )
    both, one, none = evaluate_all(
        rb, [Person("1", {"score": 9}), Person("2", {"score": 2}), Person("3")]
    )
    assert both.outcomes == {"kinds": ("Position", "Personal")}
    assert both.fired == ("personal", "position", "personal-too")
    assert one.outcomes == {"kinds": ("Position",)}
    assert none.outcomes == {"kinds": ("None",)} and none.defaulted == ("kinds",)


def test_unique_conflict_names_both_rules_and_the_engine_carries_on() -> None:
    track = decision("track", "unique", ["Lead", "Expert", "Wait"], "Wait")
    rb = book(
        [SCORE],
        [track],
        [
            ("lead", "track", ["score >= 5"], "Lead", 0),
            ("expert", "track", ["score >= 8"], "Expert", 0),
        ],
    )
    with Engine(rb) as engine:
        assert engine.evaluate(Person("1", {"score": 6})).outcomes == {"track": ("Lead",)}
        with pytest.raises(RuleConflictError, match="'lead', 'expert'"):
            engine.evaluate(Person("2", {"score": 9}))
        assert engine.evaluate(Person("3", {"score": 6})).outcomes == {"track": ("Lead",)}


def test_forward_chaining_three_levels_deep() -> None:
    a = decision("a", "unique", ["yes", "no"], "no")
    b = decision("b", "collect", ["x", "y", "z"], "z")
    c = decision("c", "priority", ["hi", "lo"], "lo")
    d = decision("d", "unique", ["go", "stop"], "stop")
    rb = book(
        [SCORE],
        [d, c, b, a],
        [
            ("a-yes", "a", ["score >= 5"], "yes", 0),
            ("b-x", "b", ["a == yes"], "x", 0),
            ("b-y", "b", ["a == yes", "score >= 8"], "y", 0),
            ("c-hi", "c", ["b == y"], "hi", 5),
            ("c-lo", "c", [("any", ["b == x", "a != yes"])], "lo", 1),
            ("d-go", "d", ["c == hi", "b in (x, z)", "a == yes"], "go", 0),
        ],
    )
    assert rb.levels == (("a",), ("b",), ("c",), ("d",))
    persons = [
        Person("1", {"score": 9}),
        Person("2", {"score": 6}),
        Person("3", {"score": 1}),
        Person("4"),
    ]
    results = evaluate_all(rb, persons)
    assert results[0].outcomes == {"a": ("yes",), "b": ("x", "y"), "c": ("hi",), "d": ("go",)}
    assert results[0].fired == ("a-yes", "b-x", "b-y", "c-hi", "c-lo", "d-go")
    assert results[0].overruled == {"c": ("c-lo",)}
    assert results[1].outcomes == {"a": ("yes",), "b": ("x",), "c": ("lo",), "d": ("stop",)}
    assert results[2].outcomes == {"a": ("no",), "b": ("z",), "c": ("lo",), "d": ("stop",)}
    assert results == [oracle(rb, p) for p in persons]


# --- unknowns: Kleene logic, negation pushed to the leaves ---------------------------

FLAG = typed("flag", "boolean")
LEVEL = enum("level", "Low", "Medium", "High")
WHEN = typed("since", "date")
HIT = decision("hit", "collect", [f"r{i}" for i in range(40)] + ["none"], "none")


def fires(rb: Rulebook, person: PersonFacts) -> tuple[str, ...]:
    with Engine(rb) as engine:
        return engine.evaluate(person).fired


@pytest.mark.parametrize(
    "condition",
    [
        "score == 3",
        "score != 3",
        "score < 3",
        "score <= 3",
        "score > 3",
        "score >= 3",
        "score in (1, 2)",
        "score not in (1, 2)",
        "level == Low",
        "level != Low",
        "level in (Low, High)",
        "level not in (Low, High)",
        "flag == true",
        "flag != true",
        "since < 2020-01-01",
        "since >= 2020-01-01",
    ],
)
def test_no_comparison_of_an_unknown_fact_fires_nor_its_negation(condition: str) -> None:
    rb = book(
        [SCORE, LEVEL, FLAG, WHEN],
        [HIT],
        [("r0", "hit", [condition], "r0", 0), ("r1", "hit", [("not", [condition])], "r1", 0)],
    )
    assert fires(rb, Person("1")) == ()
    assert fires(rb, Person("2", {"score": None, "level": None, "flag": None, "since": None})) == ()


def test_unknown_is_a_fact_you_can_test() -> None:
    rb = book(
        [SCORE, LEVEL],
        [HIT],
        [
            ("r0", "hit", ["score is unknown"], "r0", 0),
            ("r1", "hit", [("not", ["score is known"])], "r1", 0),
            ("r2", "hit", [("any", ["score >= 5", "level == Low"])], "r2", 0),  # unknown or true
            ("r3", "hit", ["score >= 5", "level == Low"], "r3", 0),  # unknown and true
            (
                "r4",
                "hit",
                [("not", ["score >= 5", "level == High"])],
                "r4",
                0,
            ),  # not(unknown and false)
            ("r5", "hit", [("not", [("any", ["score >= 5", "level == Low"])])], "r5", 0),
        ],
    )
    assert fires(rb, Person("1", {"level": "Low"})) == ("r0", "r1", "r2", "r4")
    assert fires(rb, Person("2", {"level": "Medium"})) == ("r0", "r1", "r4")
    assert fires(rb, Person("3", {"score": 2, "level": "Medium"})) == ("r4", "r5")


def _random_expr(rng: random.Random, depth: int) -> Any:
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(
            [
                f"score {rng.choice(['==', '!=', '<', '<=', '>', '>='])} {rng.randint(0, 4)}",
                f"level {rng.choice(['==', '!='])} {rng.choice(['Low', 'High'])}",
                f"level {rng.choice(['in', 'not in'])} (Low, Medium)",
                f"flag {rng.choice(['==', '!='])} {rng.choice(['true', 'false'])}",
                f"score is {rng.choice(['known', 'unknown'])}",
                f"level is {rng.choice(['known', 'unknown'])}",
            ]
        )
    parts = [_random_expr(rng, depth - 1) for _ in range(rng.randint(1, 3))]
    kind = rng.choice(["all", "any", "not"])
    return ("any", parts) if kind == "any" else ("not", parts) if kind == "not" else parts


def test_random_conditions_match_three_valued_logic_exactly() -> None:
    """Negation pushed to the leaves is exact: 40 random rules x every small person."""
    rng = random.Random(7)
    specs = [(f"r{i}", "hit", [_random_expr(rng, 3)], f"r{i}", 0) for i in range(40)]
    rb = book([SCORE, LEVEL, FLAG], [HIT], specs)
    persons = [
        Person(f"{s}-{lv}-{fl}", {"score": s, "level": lv, "flag": fl})
        for s in (None, 0, 2, 4)
        for lv in (None, "Low", "Medium", "High")
        for fl in (None, True, False)
    ]
    assert evaluate_all(rb, persons) == [oracle(rb, p) for p in persons]


# --- value encoding and names -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-05, "1.0e-05"),
        (1.5e-07, "1.5e-07"),
        (1e20, "1.0e+20"),
        (-0.0, "0"),
        (3.0, "3"),
        (2.5, "2.5"),
        (2**60, "1.152921504606847e+18"),
        (7, "7"),
    ],
)
def test_numbers_are_written_without_a_bare_exponent(value: float, text: str) -> None:
    assert encode_number(value) == text


@pytest.mark.parametrize("value", [True, float("nan"), float("inf")])
def test_non_numbers_are_refused(value: float) -> None:
    with pytest.raises((TypeError, ValueError)):
        encode_number(value)


@pytest.mark.parametrize(
    ("literal", "value", "expected"),
    [
        (1e-05, 1e-05, True),
        (1e-05, 2e-05, False),
        (1e-05, 0, False),
        (1e20, 1e20, True),
        (1e20, 1e19, False),
        (1.5e-07, 1.5e-07, True),
        (0.0, -0.0, True),
        (-0.0, 0, True),
        (2.5, 2.5, True),
        (3.0, 3, True),
    ],
)
def test_floats_durable_cannot_parse_compare_exactly(
    literal: float, value: float, expected: bool
) -> None:
    """json.dumps writes 1e-05 and 1e+20, which durable cannot parse (error 204), in a
    fact or in a rule: the rule checker refuses such literals, the engine copes anyway."""
    amount = number("amount")
    rb = book(
        [amount],
        [HIT],
        [
            ("r0", "hit", Compare("amount", "==", literal, FILE, 1), "r0", 0),
            ("r1", "hit", Compare("amount", ">=", literal, FILE, 1), "r1", 0),
        ],
    )
    fired = fires(rb, Person("1", {"amount": value}))
    assert ("r0" in fired) is expected
    assert ("r1" in fired) is (value >= literal)


def test_dates_compare_as_days() -> None:
    rb = book(
        [WHEN],
        [HIT],
        [
            ("r0", "hit", ["since < 2020-03-01"], "r0", 0),
            ("r1", "hit", ["since == 2020-02-29"], "r1", 0),
        ],
    )
    assert fires(rb, Person("1", {"since": dt.date(2020, 2, 29)})) == ("r0", "r1")
    assert fires(rb, Person("2", {"since": dt.date(2020, 3, 1)})) == ()


def test_booleans_never_equal_numbers() -> None:
    """durable has True == 1; booleans are sent as "T"/"F" so a flag never meets a count."""
    rb = book(
        [FLAG, SCORE],
        [HIT],
        [
            ("r0", "hit", ["flag == true"], "r0", 0),
            ("r1", "hit", ["score == 1"], "r1", 0),
            ("r2", "hit", ["flag != false"], "r2", 0),
        ],
    )
    assert fires(rb, Person("1", {"flag": True, "score": 0})) == ("r0", "r2")
    assert fires(rb, Person("2", {"flag": False, "score": 1})) == ("r1",)
    with pytest.raises(EngineError, match="'score' should be a number, got True"):
        fires(rb, Person("3", {"score": True}))


def test_not_equal_on_an_unknown_fact_does_not_fire() -> None:
    rb = book([SCORE], [HIT], [("r0", "hit", ["score != 3"], "r0", 0)])
    assert fires(rb, Person("1")) == ()
    assert fires(rb, Person("2", {"score": 4})) == ("r0",)
    assert fires(rb, Person("3", {"score": 3})) == ()


@pytest.mark.parametrize("name", ["id", "sid", "l", "H-DEV.episodes", "a.b.c", "$and", "m"])
def test_fact_names_durable_reserves_or_reads_as_paths(name: str) -> None:
    rb = book(
        [number(name), SCORE],
        [HIT],
        [
            ("r0", "hit", Compare(name, ">=", 2, FILE, 1), "r0", 0),
            ("r1", "hit", Compare(name, "unknown", None, FILE, 1), "r1", 0),
        ],
    )
    assert fires(rb, Person("1", {name: 3, "score": 1})) == ("r0",)
    assert fires(rb, Person("2", {name: 1})) == ()
    assert fires(rb, Person("3", {"score": 1})) == ("r1",)


def test_strings_with_quotes_and_accents_compare_exactly() -> None:
    odd = ['He said "no"', "back\\slash", "Zoë", "it's", "tab\there"]
    rb = book(
        [enum("kind", *odd)],
        [HIT],
        [
            (f"r{i}", "hit", Compare("kind", "==", v, FILE, 1), f"r{i}", 0)
            for i, v in enumerate(odd)
        ],
    )
    for i, value in enumerate(odd):
        assert fires(rb, Person(str(i), {"kind": value})) == (f"r{i}",)


# --- durable's limits -------------------------------------------------------------------


def test_forty_rules_on_one_field() -> None:
    rb = book([SCORE], [HIT], [(f"r{i}", "hit", [f"score == {i}"], f"r{i}", 0) for i in range(40)])
    with Engine(rb) as engine:
        for i in range(40):
            assert engine.evaluate(Person(str(i), {"score": i})).fired == (f"r{i}",)


def test_three_hundred_rules_firing_at_once() -> None:
    """durable's matcher overflows its 64-entry stack (error 303) without the buckets."""
    many = decision("many", "collect", [f"r{i}" for i in range(300)], "r0")
    rb = book(
        [SCORE], [many], [(f"r{i}", "many", [f"score > {-i}"], f"r{i}", 0) for i in range(300)]
    )
    with Engine(rb) as engine:
        assert len(engine.evaluate(Person("1", {"score": 1})).fired) == 300
        assert len(engine.evaluate(Person("2", {"score": -100})).fired) == 199


def test_six_hundred_equalities_on_one_field() -> None:
    """512 equality tests of one field hang durable; bucketed they are fine."""
    many = decision("many", "collect", [f"r{i}" for i in range(600)], "r0")
    rb = book(
        [SCORE], [many], [(f"r{i}", "many", [f"score == {i}"], f"r{i}", 0) for i in range(600)]
    )
    with Engine(rb) as engine:
        assert engine.evaluate(Person("1", {"score": 599})).fired == ("r599",)


def _nested(groups: int) -> Any:
    # Each ("any", [x, "score >= n"]) adds one $or; with "level == Low" in an all, one $and.
    when: Any = "score == 1"
    for n in range(groups):
        when = ("any", [when, f"score >= {n + 2}"]) if n % 2 == 0 else [when, "level is known"]
    return when


def test_fifteen_groups_per_rule_and_a_clear_error_beyond(monkeypatch: pytest.MonkeyPatch) -> None:
    fifteen = [_nested(14), ("any", ["score >= 5", "level == High"])]  # 13 + 1 + the rule's
    ok = book([SCORE, LEVEL], [HIT], [("r0", "hit", fifteen, "r0", 0)])
    with Engine(ok) as engine:
        assert engine.evaluate(Person("1", {"score": 1, "level": "High"})).fired == ("r0",)
    sixteen = [_nested(14), ("any", ["score >= 5", "level == High"]), ("any", ["score == 1"] * 2)]
    bad = book([SCORE, LEVEL], [HIT], [("r0", "hit", sixteen, "r0", 0)])
    with pytest.raises(RulebookError, match=r"test.yaml:2: rule r0: .* 16 .* at most 15"):
        Engine(bad)
    # The limit is durable's: let sixteen through and durable refuses the ruleset.
    monkeypatch.setattr(engine_module, "MAX_GROUPS", 16)
    with pytest.raises(EngineError, match=r"rule nests more than 15 .* error code 113"):
        Engine(bad)


def test_a_wide_any_is_split_into_one_durable_rule_per_branch() -> None:
    branches = [[_nested(6), f"score != {n}"] for n in range(4)]
    rb = book([SCORE, LEVEL], [HIT], [("r0", "hit", [("any", branches)], "r0", 0)])
    with Engine(rb) as engine:
        assert len(engine.definition) == 1 + 4  # and the sentinel
        assert engine.evaluate(Person("1", {"score": 1, "level": "Low"})).fired == ("r0",)
        assert engine.evaluate(Person("2", {"score": 0, "level": "Low"})).fired == ()


# --- sessions, errors, lifecycle --------------------------------------------------------

RB_SIMPLE = book(
    [SCORE, LEVEL],
    [HEART, decision("track", "unique", ["Lead", "Wait"], "Wait")],
    [
        ("strong", "heart", ["score >= 7"], "Strong", 30),
        ("emerging", "heart", [("any", ["score >= 4", "level == High"])], "Emerging", 10),
        ("lead", "track", ["heart == Strong"], "Lead", 0),
    ],
)
PERSONS = [
    Person(f"E{i:04d}", {"score": i % 11 if i % 7 else None, "level": ["Low", "High", None][i % 3]})
    for i in range(1500)
]


def test_many_more_persons_than_live_sessions() -> None:
    """durable corrupts a ruleset past 1,024 live sessions; we keep one at a time."""
    assert evaluate_all(RB_SIMPLE, PERSONS) == [oracle(RB_SIMPLE, p) for p in PERSONS]


def test_a_person_whose_facts_match_no_rule() -> None:
    result = evaluate_all(RB_SIMPLE, [Person("nobody")])[0]
    assert result.outcomes == {"heart": ("None",), "track": ("Wait",)}
    assert result.defaulted == ("heart", "track")


def test_an_action_error_names_the_rule_and_a_later_run_is_unaffected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = evaluate_all(RB_SIMPLE, PERSONS[:50])
    original = Engine._record

    def failing(self: Engine, name: str, level: Any, hits: set[int]) -> None:
        if self.rulebook.rules[self._durable_rule[name]].id == "emerging":
            raise ValueError("boom")
        original(self, name, level, hits)

    with Engine(RB_SIMPLE) as engine:
        monkeypatch.setattr(Engine, "_record", failing)
        with pytest.raises(
            EngineError, match=r"rule emerging \(test.yaml:3\): its action failed: boom"
        ):
            engine.evaluate(Person("x", {"score": 5}))
        monkeypatch.setattr(Engine, "_record", original)
        assert [engine.evaluate(p) for p in PERSONS[:50]] == expected
    with pytest.raises(EngineError):
        run(RB_SIMPLE, [Person("x", {"score": True})], jobs=1)
    assert [r.evaluation for r in run(RB_SIMPLE, PERSONS[:50], jobs=1)] == expected


def test_two_engines_in_one_process_are_independent() -> None:
    first, second = Engine(RB_SIMPLE), Engine(RB_SIMPLE)
    assert first.name != second.name
    a = [first.evaluate(p) for p in PERSONS[:200]]
    first.close()
    b = [second.evaluate(p) for p in PERSONS[:200]]
    second.close()
    assert a == b == [oracle(RB_SIMPLE, p) for p in PERSONS[:200]]


def test_a_closed_engine_refuses_to_evaluate() -> None:
    engine = Engine(RB_SIMPLE)
    engine.close()
    assert not engine._closer.alive  # durable's ruleset was deleted
    engine.close()  # twice is fine
    with pytest.raises(EngineError, match="closed"):
        engine.evaluate(PERSONS[0])


def test_an_engine_nobody_closed_deletes_its_ruleset_when_collected() -> None:
    engine = Engine(RB_SIMPLE)
    closer = engine._closer
    del engine
    gc.collect()
    assert not closer.alive


def test_values_of_the_wrong_type_are_named() -> None:
    with Engine(RB_SIMPLE) as engine:
        with pytest.raises(EngineError, match="E1: fact 'level' should be a string, got 3"):
            engine.evaluate(Person("E1", {"level": 3}))
        with pytest.raises(EngineError, match="E2: fact 'score': .* not a finite number"):
            engine.evaluate(Person("E2", {"score": float("nan")}))


# --- runs: order, determinism, processes, tracing --------------------------------------


def _dump(results: list[Result]) -> str:
    return json.dumps([[r.employee_id, r.trace] for r in results], sort_keys=True)


def test_run_is_deterministic_under_shuffled_input() -> None:
    shuffled = list(PERSONS[:300])
    random.Random(3).shuffle(shuffled)
    first = run(RB_SIMPLE, PERSONS[:300], jobs=1)
    second = run(RB_SIMPLE, shuffled, jobs=1)
    assert [r.employee_id for r in first] == sorted(p.employee_id for p in PERSONS[:300])
    assert _dump(first) == _dump(second)
    assert [r.evaluation for r in first] == [oracle(RB_SIMPLE, p) for p in PERSONS[:300]]


def test_two_processes_give_what_one_gives() -> None:
    shuffled = list(PERSONS)
    random.Random(5).shuffle(shuffled)
    one = run(RB_SIMPLE, PERSONS, jobs=1)
    two = run(RB_SIMPLE, shuffled, jobs=2)
    assert [r.evaluation for r in one] == [r.evaluation for r in two]
    assert _dump(one) == _dump(two)


def test_tracer_and_progress() -> None:
    traces: list[dict[str, Any]] = []
    done: list[int] = []
    results = run(RB_SIMPLE, PERSONS[:20][::-1], jobs=1, tracer=traces.append, progress=done.append)
    assert traces == [r.trace for r in results]
    assert gc.isenabled()  # run() pauses the collector and restores it
    assert done == [20]  # progress is told after each batch of up to engine._BATCH
    done.clear()
    run(RB_SIMPLE, PERSONS[:300], jobs=1, progress=done.append)
    assert done == [128, 256, 300]
    assert traces[8]["engine"] == {"evaluator": "durable_rules", "durable_rules": DURABLE_VERSION}
    # The engine's own record of a person (what it asserted, what fired), per level.
    with Engine(RB_SIMPLE) as engine:
        _, engine_part = engine.explain(results[8].person)
    assert engine_part["evaluator"] == "durable_rules"
    assert engine_part["levels"][0]["asserted"] == {"score": 8}
    assert engine_part["levels"][0]["fired"] == ["strong", "emerging"]
    assert engine_part["levels"][1] == {
        "level": 1,
        "decisions": ["track"],
        "asserted": {"heart": "Strong"},
        "fired": ["lead"],
    }


def test_duplicate_employee_ids_are_refused() -> None:
    with pytest.raises(EngineError, match="two persons have employee_id 'E1'"):
        run(RB_SIMPLE, [Person("E1"), Person("E1")], jobs=1)


def test_the_engine_never_starts_a_thread() -> None:
    import threading

    before = threading.active_count()
    evaluate_all(RB_SIMPLE, PERSONS[:10])
    assert threading.active_count() == before
    assert "durable.engine" not in dir(engine_module)


def test_too_many_rules_matching_together_is_a_clear_error() -> None:
    many = decision("many", "collect", [f"r{i}" for i in range(4000)], "r0")
    rb = book(
        [SCORE], [many], [(f"r{i}", "many", [f"score > {-i}"], f"r{i}", 0) for i in range(4000)]
    )
    with pytest.raises(RulebookError, match=r"decision level 0 has 4000 rules .* \(error 303\)"):
        Engine(rb)


SESSION_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
from test_engine import HIT, SCORE, Person, book
from talentrules.engine import Engine
rb = book([SCORE], [HIT], [("r0", "hit", ["score == 3"], "r0", 0)])
for _ in range(20):
    with Engine(rb) as engine:
        assert engine.evaluate(Person("1")).fired == ()
print("ok")
"""


def test_sessions_where_nothing_fires_are_deleted_safely() -> None:
    """durable leaves a new session's action context uninitialised and delete_state frees
    it: without an action in every session this aborts ("free(): invalid pointer") once
    the state pool reuses memory. In a subprocess, so a regression cannot kill the run."""
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-c", SESSION_SCRIPT, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# --- cross-check: durable_rules against the reference evaluator on real workbooks -----

ROOT = Path(__file__).resolve().parent.parent


def _persons_from(workbook: Path) -> tuple[Rulebook, list[PersonFacts]]:
    rulebook = load_rulebook(default_rules_dir())
    catalogue = load_catalogue(default_rules_dir() / "catalogue.yaml")
    return rulebook, compute_facts(load_workbook(workbook), rulebook.vocabulary, catalogue)


def _cross_check(rulebook: Rulebook, persons: list[PersonFacts]) -> None:
    expected = [reference.evaluate(rulebook, p) for p in persons]
    assert [r.evaluation for r in run(rulebook, persons, jobs=1)] == expected
    assert sum(len(e.fired) for e in expected) > len(persons)  # the rules really fire


def test_engine_equals_reference_on_the_sample_workbook() -> None:
    rulebook, persons = _persons_from(ROOT / "sample_inputs" / "panel_review.xlsx")
    assert len(persons) >= 10
    _cross_check(rulebook, persons)


def test_engine_equals_reference_on_a_generated_workbook(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_workbook", ROOT / "benchmarks" / "make_workbook.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_workbook(tmp_path / "generated.xlsx", 150, seed=11)
    rulebook, persons = _persons_from(tmp_path / "generated.xlsx")
    assert len(persons) == 150
    _cross_check(rulebook, persons)


def test_a_rule_whose_any_matches_twice_fires_once() -> None:
    """durable fires a rule once per matching branch of an $or; the engine counts it once."""
    rb = book(
        [SCORE, LEVEL], [HIT], [("r0", "hit", [("any", ["score >= 1", "level == Low"])], "r0", 0)]
    )
    assert fires(rb, Person("1", {"score": 2, "level": "Low"})) == ("r0",)


def test_a_fact_durable_cannot_parse_is_named_and_the_engine_carries_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Error codes become words; a failed first fact leaves no session to delete."""
    expected = evaluate_all(RB_SIMPLE, PERSONS[:20])
    with Engine(RB_SIMPLE) as engine:
        original = engine._fact_text

        def bare_exponent(sid: str, level: Any, *rest: Any) -> Any:
            return f'{{"sid":"{sid}","l":{level.index},"f0":1e-05}}', None

        monkeypatch.setattr(engine, "_fact_text", bare_exponent)
        with pytest.raises(EngineError, match=r"x: .* level 0: .*bare exponent.* code 204\)"):
            engine.evaluate(Person("x", {"score": 1}))
        monkeypatch.setattr(engine, "_fact_text", original)
        assert [engine.evaluate(p) for p in PERSONS[:20]] == expected


def test_parallel_results_that_marshal_refuses_travel_by_pickle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explain(rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation) -> Any:
        return {"employee_id": person.employee_id, "when": dt.date(2026, 1, 31)}

    monkeypatch.setattr(engine_module, "reference_explain", explain)
    results = run(RB_SIMPLE, PERSONS[:200], jobs=2)
    assert [r.trace["when"] for r in results] == [dt.date(2026, 1, 31)] * 200
    assert [r.evaluation for r in results] == [oracle(RB_SIMPLE, p) for p in PERSONS[:200]]


def _both_encoders(rulebook: Rulebook, persons: Sequence[PersonFacts]) -> int:
    """Every level's fact through the fast encoders (all levels at once, or the level
    alone when a value needs the checked encoder) and the checked one: the same JSON
    and, for the trace, the same values; returns how many facts took a fast path."""
    fast = 0
    with Engine(rulebook) as engine:
        for person in persons:
            outcomes = engine.evaluate(person).outcomes
            part = engine._reads.encode(person)
            for level in engine._levels:
                text, sent = Engine._fact_text("7", level, person, outcomes)
                checked = json.loads(Engine._fact_text_checked("7", level, person, outcomes))
                assert json.loads(text) == checked, (person.employee_id, level.index, text)
                if sent is not None:
                    fast += 1
                    assert sent == tuple(checked.get(f[0]) for f in level.ordered)
                if part is not None:
                    encoded = (engine._reads, *part)
                    assert Engine._fact_text("7", level, person, outcomes, encoded) == (text, sent)
    return fast


def test_the_fast_encoder_writes_what_the_checked_one_writes() -> None:
    """The hot path formats a level's template and cuts unknown fields out of the text;
    on every kind of value, quotes and accents, unknowns anywhere, it must agree with
    the value-by-value encoder (which the other tests pin to durable's behaviour)."""
    odd = ['He said "no"', 'x,"f1":None', "back\\slash", "Zoë", "tab\there", ""]
    chosen = decision("chosen", "priority", ["A", 'B "b"'], "A")
    rb = book(
        [SCORE, number("ratio"), enum("kind", *odd), FLAG, WHEN],
        [HIT, chosen],
        [
            ("r0", "hit", ["score >= 1", "ratio < 0.5"], "r0", 0),
            ("r1", "hit", [("any", ["flag == true", "since < 2020-03-01"])], "r1", 0),
            ("r2", "hit", Compare("kind", "in", tuple(odd), FILE, 1), "r2", 0),
            ("c0", "chosen", ["hit == r0", "hit != r1"], 'B "b"', 1),
            ("c1", "chosen", ["hit == r2", "score > 2"], "A", 2),
        ],
    )
    rng = random.Random(5)
    values: dict[str, list[Value]] = {
        "score": [0, 1, 3, -7, 2**53 - 1, None],
        "ratio": [0.25, 0.0, -0.0, 1.5, 123456.789, 7, None],
        "kind": [*odd, None],
        "flag": [True, False, None],
        "since": [dt.date(2020, 2, 29), dt.date(1999, 1, 1), None],
    }
    persons = [
        Person(str(n), {name: rng.choice(options) for name, options in values.items()})
        for n in range(400)
    ]
    assert _both_encoders(rb, persons) == 400 * 2
    with Engine(rb) as engine:  # and every level of them at once
        assert all(engine._reads.encode(p) is not None for p in persons)
        assert engine._reads.encode(Person("tiny", {"ratio": 1e-05})) is None
    # Values only the checked encoder takes (it also refuses wrong types).
    slow = [Person("big", {"score": 2**60}), Person("tiny", {"ratio": 1e-05})]
    slow.append(Person("huge", {"ratio": 1e20, "since": dt.datetime(2020, 1, 1, 12)}))
    assert _both_encoders(rb, slow) == 2  # level 1 (score only) of tiny and huge
    # The default rulebook on the sample workbook: numbers, enums, outcomes, members.
    rulebook, sample = _persons_from(ROOT / "sample_inputs" / "panel_review.xlsx")
    assert _both_encoders(rulebook, sample) == len(sample) * len(rulebook.levels)
