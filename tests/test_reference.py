"""The reference evaluator: Kleene logic, hit policies, chaining, why-not, counterfactuals.

Rulebooks are written as YAML into tmp_path and loaded by the real loader, over the
real fact vocabulary; people are made with facts_from_mapping.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from talentrules.errors import RuleConflictError
from talentrules.facts import PersonFacts, facts_from_mapping
from talentrules.paths import default_rules_dir
from talentrules.reference import (
    TRACE_VERSION,
    compile_rulebook,
    evaluate,
    evaluation_from_fired,
    explain,
)
from talentrules.rulebook import Rulebook, load_rulebook


def rule(
    rule_id: str, decision: str, when: Any, then: str, priority: int | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rule_id,
        "decision": decision,
        "title": rule_id,
        "rationale": f"Test rule {rule_id}.",
        "when": when,
        "then": then,
    }
    if priority is not None:
        out["priority"] = priority
    return out


def make_rulebook(
    folder: Path, decisions: dict[str, dict[str, Any]], rules: list[dict[str, Any]]
) -> Rulebook:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("vocabulary.yaml", "parameters.yaml", "signals.yaml"):
        shutil.copy(default_rules_dir() / name, folder / name)
    for decision in decisions.values():
        decision.setdefault("meaning", "A test decision.")
    (folder / "decisions.yaml").write_text(yaml.safe_dump({"decisions": decisions}))
    (folder / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}, sort_keys=False))
    return load_rulebook(folder)


def person(rb: Rulebook, **facts: Any) -> PersonFacts:
    """A made-up person; dotted facts come in as ``**{"H-DEV.episodes": 3}``."""
    return facts_from_mapping("P1", facts, rb.vocabulary)


# --- Kleene logic --------------------------------------------------------------------

T, F, U = True, False, None
A_VALUES = {T: 4, F: 2, U: None}  # performance >= 3
B_VALUES = {T: 3, F: 1, U: None}  # potential >= 2


def kleene_and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def kleene_or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def kleene_not(a: bool | None) -> bool | None:
    return None if a is None else not a


@pytest.fixture(scope="module")
def logic(tmp_path_factory: pytest.TempPathFactory) -> Rulebook:
    a, b = "performance >= 3", "potential >= 2"
    return make_rulebook(
        tmp_path_factory.mktemp("logic"),
        {
            "d": {
                "policy": "collect",
                "outcomes": ["and", "or", "nand", "nor", "no"],
                "default": "no",
            }
        },
        [
            rule("r-and", "d", [a, b], "and"),
            rule("r-or", "d", [{"any": [a, b]}], "or"),
            rule("r-nand", "d", [{"not": [a, b]}], "nand"),
            rule("r-nor", "d", [{"not": [{"any": [a, b]}]}], "nor"),
        ],
    )


@pytest.mark.parametrize("a", [T, F, U], ids=["a=T", "a=F", "a=U"])
@pytest.mark.parametrize("b", [T, F, U], ids=["b=T", "b=F", "b=U"])
def test_kleene_truth_tables(logic: Rulebook, a: bool | None, b: bool | None) -> None:
    env = {"performance": A_VALUES[a], "potential": B_VALUES[b]}
    rules = compile_rulebook(logic).rules
    assert rules["r-and"].check(env) is kleene_and(a, b)
    assert rules["r-or"].check(env) is kleene_or(a, b)
    assert rules["r-nand"].check(env) is kleene_not(kleene_and(a, b))
    assert rules["r-nor"].check(env) is kleene_not(kleene_or(a, b))
    # A rule fires only when its whole condition is true, never when unknown.
    p = person(logic, performance=A_VALUES[a], potential=B_VALUES[b])
    fired = set(evaluate(logic, p).fired)
    assert ("r-and" in fired) is (kleene_and(a, b) is True)
    assert ("r-nor" in fired) is (kleene_not(kleene_or(a, b)) is True)


def test_unknown_is_never_false(tmp_path: Path) -> None:
    rb = make_rulebook(
        tmp_path,
        {"d": {"policy": "collect", "outcomes": ["ne", "blank", "known", "no"], "default": "no"}},
        [
            rule("r-ne", "d", ["performance != 3"], "ne"),
            rule("r-blank", "d", ["performance is unknown"], "blank"),
            rule("r-known", "d", ["performance is known"], "known"),
        ],
    )
    assert evaluate(rb, person(rb)).outcomes["d"] == ("blank",)
    assert evaluate(rb, person(rb, performance=4)).outcomes["d"] == ("ne", "known")
    assert evaluate(rb, person(rb, performance=3)).outcomes["d"] == ("known",)


def test_operators_on_facts(tmp_path: Path) -> None:
    rb = make_rulebook(
        tmp_path,
        {"d": {"policy": "collect", "outcomes": list("abcdefgh") + ["none"], "default": "none"}},
        [
            rule("a", "d", ["performance == 4"], "a"),
            rule("b", "d", ["performance < 5"], "b"),
            rule("c", "d", ["performance <= 4"], "c"),
            rule("d", "d", ["performance > 4"], "d"),
            rule("e", "d", ["readiness in (Ready now, Ready 1-2 years)"], "e"),
            rule("f", "d", ["readiness not in (Ready now, Ready 1-2 years)"], "f"),
            rule("g", "d", ["is_people_manager == true"], "g"),
            rule("h", "d", ["team.engagement >= 80.5"], "h"),
        ],
    )
    p = person(
        rb,
        performance=4,
        readiness="Ready now",
        is_people_manager=True,
        **{"team.engagement": 80.5},
    )
    assert evaluate(rb, p).outcomes["d"] == ("a", "b", "c", "e", "g", "h")
    p = person(rb, performance=5, readiness="Not ready", is_people_manager=False)
    assert evaluate(rb, p).outcomes["d"] == ("d", "f")


# --- Hit policies and chaining ---------------------------------------------------------

HEART_RULES = [
    rule("strong", "heart", ["H-DEV.episodes >= 3"], "Strong", priority=30),
    rule("emerging", "heart", ["H-DEV.episodes >= 1"], "Emerging", priority=20),
]


def test_priority_highest_wins_and_the_rest_are_overruled(tmp_path: Path) -> None:
    rb = make_rulebook(
        tmp_path,
        {
            "heart": {
                "policy": "priority",
                "outcomes": ["Strong", "Emerging", "None"],
                "default": "None",
            }
        },
        HEART_RULES,
    )
    ev = evaluate(rb, person(rb, **{"H-DEV.episodes": 4}))
    assert ev.outcomes["heart"] == ("Strong",)
    assert ev.fired == ("strong", "emerging")
    assert ev.overruled == {"heart": ("emerging",)}
    assert ev.defaulted == ()
    ev = evaluate(rb, person(rb))
    assert ev.outcomes["heart"] == ("None",)
    assert ev.defaulted == ("heart",) and ev.fired == () and ev.overruled == {}


def test_unique_two_rules_firing_is_an_error_naming_both(tmp_path: Path) -> None:
    rb = make_rulebook(
        tmp_path,
        {
            "heart": {
                "policy": "priority",
                "outcomes": ["Strong", "Emerging", "None"],
                "default": "None",
            }
        },
        HEART_RULES,
    )
    # The checker refuses overlapping unique rules; build the IR it would refuse.
    heart = dataclasses.replace(rb.decisions["heart"], policy="unique")
    unique = dataclasses.replace(rb, decisions={"heart": heart})
    assert evaluate(unique, person(unique, **{"H-DEV.episodes": 2})).outcomes == {
        "heart": ("Emerging",)
    }
    with pytest.raises(RuleConflictError, match="'strong', 'emerging'"):
        evaluate(unique, person(unique, **{"H-DEV.episodes": 3}))


def test_collect_applies_all_in_outcome_order(tmp_path: Path) -> None:
    rb = make_rulebook(
        tmp_path,
        {"inv": {"policy": "collect", "outcomes": ["A", "B", "C", "None"], "default": "None"}},
        [
            rule("c", "inv", ["performance >= 3"], "C"),
            rule("a", "inv", ["performance >= 4"], "A"),
            rule("a2", "inv", ["potential >= 2"], "A"),
        ],
    )
    ev = evaluate(rb, person(rb, performance=4, potential=3))
    assert ev.outcomes["inv"] == ("A", "C")
    assert ev.fired == ("c", "a", "a2")
    assert evaluate(rb, person(rb)).outcomes["inv"] == ("None",)


@pytest.fixture(scope="module")
def chained(tmp_path_factory: pytest.TempPathFactory) -> Rulebook:
    # Rules are written top level first, so the fired order must come from the levels.
    return make_rulebook(
        tmp_path_factory.mktemp("chain"),
        {
            "quality": {"policy": "priority", "outcomes": ["Good", "Thin"], "default": "Thin"},
            "heart": {"policy": "priority", "outcomes": ["Strong", "Weak"], "default": "Weak"},
            "track": {"policy": "priority", "outcomes": ["Lead", "Wait"], "default": "Wait"},
            "inv": {"policy": "collect", "outcomes": ["PROG", "COACH", "None"], "default": "None"},
            "extra": {"policy": "collect", "outcomes": ["X", "None"], "default": "None"},
        },
        [
            rule("extra-from-inv", "extra", ["inv in (PROG, COACH)", "inv != None"], "X"),
            rule("inv-prog", "inv", ["track == Lead"], "PROG"),
            rule("inv-coach", "inv", ["track == Lead", "C-DER.episodes >= 1"], "COACH"),
            rule("track-lead", "track", ["heart == Strong", "readiness == Ready now"], "Lead"),
            rule("heart-strong", "heart", ["quality == Good", "H-DEV.episodes >= 3"], "Strong"),
            rule("quality-good", "quality", ["evidence.observers >= 2"], "Good"),
        ],
    )


def test_chaining_four_levels_deep(chained: Rulebook) -> None:
    assert chained.levels == (("quality",), ("heart",), ("track",), ("inv",), ("extra",))
    p = person(
        chained,
        readiness="Ready now",
        **{"H-DEV.episodes": 3, "evidence.observers": 2, "C-DER.episodes": 1},
    )
    ev = evaluate(chained, p)
    assert ev.outcomes == {
        "quality": ("Good",),
        "heart": ("Strong",),
        "track": ("Lead",),
        "inv": ("PROG", "COACH"),
        "extra": ("X",),
    }
    assert ev.fired == (
        "quality-good",
        "heart-strong",
        "track-lead",
        "inv-prog",
        "inv-coach",
        "extra-from-inv",
    )
    # Break the bottom link: everything above falls to its default.
    p = person(chained, readiness="Ready now", **{"H-DEV.episodes": 3})
    ev = evaluate(chained, p)
    assert ev.outcomes["quality"] == ("Thin",) and ev.outcomes["extra"] == ("None",)
    assert ev.defaulted == ("quality", "heart", "track", "inv", "extra")


def test_evaluation_from_fired_matches_evaluate(chained: Rulebook) -> None:
    p = person(chained, readiness="Ready now", **{"H-DEV.episodes": 3, "evidence.observers": 2})
    ev = evaluate(chained, p)
    assert evaluation_from_fired(chained, "P1", reversed(ev.fired)) == ev


# --- explain: trace, why-not, counterfactuals ------------------------------------------


def test_trace_of_fired_rules_conclusions_and_facts(chained: Rulebook) -> None:
    p = person(chained, readiness="Ready now", **{"H-DEV.episodes": 3, "evidence.observers": 2})
    p = dataclasses.replace(p, cells={**p.cells, "H-DEV.episodes": ("Evidence!C2", "Evidence!C3")})
    ev = evaluate(chained, p)
    trace = explain(chained, p, ev)
    # JSON data: sequences may be tuples (shared, not copied), written as arrays.
    assert json.loads(json.dumps(trace)) == json.loads(json.dumps(trace, sort_keys=True))
    trace = json.loads(json.dumps(trace))
    assert trace["trace_version"] == TRACE_VERSION == 3
    assert trace["facts"]["H-DEV.episodes"] == 3
    assert trace["facts"]["performance"] is None
    assert trace["cells"]["H-DEV.episodes"] == ["Evidence!C2", "Evidence!C3"]
    assert [f["rule"] for f in trace["fired"]] == list(ev.fired)
    heart = trace["fired"][1]
    assert heart["level"] == 1 and heart["then"] == "Strong"
    assert heart["where"].endswith("rules.yaml:" + heart["where"].rsplit(":", 1)[1])
    leaf = heart["conditions"][1]
    # A leaf carries what this person gives it; the fact's cells are under "cells".
    assert leaf == {
        "condition": "H-DEV.episodes >= 3",
        "fact": "H-DEV.episodes",
        "negated": False,
        "actual": 3,
        "shown": "3",
        "result": True,
    }
    assert heart["conditions"][0]["actual"] == ["Good"]  # a decision's outcome
    assert heart["conditions"][0]["fact"] not in trace["cells"]
    assert {
        "decision": "heart",
        "outcome": "Strong",
        "rules": ["heart-strong"],
        "defaulted": False,
    } in trace["conclusions"]
    assert trace["decisions"]["inv"]["outcomes"] == ["PROG"]
    assert trace["decisions"]["inv"]["defaulted"] is False
    nobody = person(chained)
    trace = explain(chained, nobody, evaluate(chained, nobody))
    assert {"decision": "extra", "outcome": "None", "rules": [], "defaulted": True} in trace[
        "conclusions"
    ]
    assert trace["decisions"]["extra"]["defaulted"] is True
    assert trace["fired"] == []


def test_why_not_names_the_first_failing_condition_and_its_value(chained: Rulebook) -> None:
    p = person(chained, **{"H-DEV.episodes": 3, "evidence.observers": 2})
    trace = explain(chained, p, evaluate(chained, p))
    (why,) = trace["decisions"]["track"]["not_fired"]
    assert why["rule"] == "track-lead"
    failed = why["failed"]
    assert failed["condition"] == "readiness == Ready now"
    assert failed["actual"] is None and failed["shown"] == "unknown" and failed["result"] is None
    # Reading order: the first failing leaf, though a later one fails too.
    p = person(chained, **{"H-DEV.episodes": 1})
    trace = explain(chained, p, evaluate(chained, p))
    (why,) = trace["decisions"]["heart"]["not_fired"]
    assert why["failed"]["condition"] == "quality == Good"
    assert why["failed"]["shown"] == "Thin" and why["failed"]["result"] is False


def test_explain_takes_outcomes_from_the_evaluation(chained: Rulebook) -> None:
    p = person(chained, readiness="Ready now")
    ev = evaluate(chained, p)
    doctored = dataclasses.replace(ev, outcomes={**ev.outcomes, "heart": ("Strong",)})
    trace = explain(chained, p, doctored)
    assert trace["decisions"]["heart"]["outcomes"] == ("Strong",)
    # track-lead read heart as Strong, so now it fails on nothing but did not fire.
    (why,) = trace["decisions"]["track"]["not_fired"]
    assert why["failed"] is None


@pytest.fixture(scope="module")
def near(tmp_path_factory: pytest.TempPathFactory) -> Rulebook:
    return make_rulebook(
        tmp_path_factory.mktemp("near"),
        {
            "heart": {
                "policy": "priority",
                "outcomes": ["Strong", "Emerging", "Weak"],
                "default": "Weak",
            },
            "inv": {
                "policy": "collect",
                "outcomes": ["PROG", "COACH", "TEAM", "NEW", "NODER", "EITHER", "None"],
                "default": "None",
            },
        },
        [
            rule(
                "strong",
                "heart",
                ["H-DEV.observers >= 2", "H-DEV.episodes >= 3"],
                "Strong",
                priority=30,
            ),
            rule("emerging", "heart", ["H-DEV.episodes >= 1"], "Emerging", priority=20),
            rule("prog", "inv", ["readiness in (Ready now, Ready 1-2 years)"], "PROG"),
            rule("coach", "inv", ["performance > 2.5", "potential >= 2"], "COACH"),
            rule("team", "inv", ["team.engagement > 80"], "TEAM"),
            rule("new", "inv", ["tenure_months < 6"], "NEW"),
            rule("noder", "inv", [{"not": ["C-DER.episodes >= 1"]}], "NODER"),
            rule(
                "either",
                "inv",
                [{"any": ["nominations.personal >= 2", "performance >= 5"]}],
                "EITHER",
            ),
        ],
    )


def counterfactuals(rb: Rulebook, p: PersonFacts) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in explain(rb, p, evaluate(rb, p))["counterfactuals"]:
        out.setdefault(item["rule"], []).append(item)
    return out


def test_counterfactual_for_a_whole_number_fact(near: Rulebook) -> None:
    p = person(near, **{"H-DEV.episodes": 3, "H-DEV.observers": 1})
    (cf,) = counterfactuals(near, p)["strong"]
    assert {k: cf[k] for k in ("rule", "fact", "current", "needed")} == {
        "rule": "strong",
        "fact": "H-DEV.observers",
        "current": 1,
        "needed": 2,
    }
    assert cf["sentence"] == "heart would be Strong with H-DEV.observers >= 2 (now 1)"


def test_counterfactuals_only_where_one_change_changes_the_outcome(near: Rulebook) -> None:
    # Two conditions fail on two facts: no single change.
    p = person(near, performance=2, potential=1, **{"H-DEV.episodes": 1})
    found = counterfactuals(near, p)
    assert "coach" not in found
    # Emerging would fire, but Strong already won: nothing would change.
    p = person(near, **{"H-DEV.episodes": 3, "H-DEV.observers": 2})
    assert "emerging" not in counterfactuals(near, p)


def test_counterfactual_strict_bound_on_whole_and_fractional_facts(near: Rulebook) -> None:
    p = person(near, performance=2, potential=3, **{"team.engagement": 70})
    found = counterfactuals(near, p)
    assert found["coach"][0]["needed"] == 3  # performance is whole: > 2.5 means 3
    assert found["coach"][0]["sentence"] == "inv would include COACH with performance > 2.5 (now 2)"
    assert found["team"][0]["needed"] == 80.1  # a percentage: just above 80
    assert found["team"][0]["condition"] == "team.engagement > 80"


def test_counterfactual_for_enums_unknowns_and_negation(near: Rulebook) -> None:
    p = person(near, readiness="Not ready", **{"C-DER.episodes": 2})
    found = counterfactuals(near, p)
    assert found["prog"][0]["needed"] == "Ready now"
    assert found["prog"][0]["sentence"] == (
        "inv would include PROG with readiness in (Ready now, Ready 1-2 years) (now Not ready)"
    )
    assert found["noder"][0]["needed"] == 0
    assert found["noder"][0]["condition"] == "C-DER.episodes < 1"
    # Unknown tenure: the change is to record it.
    assert found["new"][0]["current"] is None
    assert found["new"][0]["sentence"] == (
        "inv would include NEW if tenure_months were recorded with tenure_months < 6 (now unknown)"
    )


def test_counterfactuals_under_any_offer_each_branch(near: Rulebook) -> None:
    p = person(near, performance=3, **{"nominations.personal": 1})
    found = counterfactuals(near, p)["either"]
    assert [(c["fact"], c["needed"]) for c in found] == [
        ("nominations.personal", 2),
        ("performance", 5),
    ]


def test_default_rulebook_explains_every_sample_person() -> None:
    from talentrules.facts import compute_facts, load_catalogue
    from talentrules.ingest import load_workbook
    from talentrules.paths import sample_workbook

    rb = load_rulebook(default_rules_dir())
    panel = load_workbook(sample_workbook())
    people = compute_facts(
        panel, rb.vocabulary, load_catalogue(default_rules_dir() / "catalogue.yaml")
    )
    assert people
    for p in people:
        ev = evaluate(rb, p)
        trace = explain(rb, p, ev)
        json.dumps(trace)
        assert [f["rule"] for f in trace["fired"]] == list(ev.fired)
        for cf in trace["counterfactuals"]:
            # Applying the change makes that rule fire.
            changed = dataclasses.replace(p, values={**p.values, cf["fact"]: cf["needed"]})
            env = {**changed.values, **ev.outcomes}
            assert compile_rulebook(rb).rules[cf["rule"]].check(env) is True, cf


def test_traces_do_not_depend_on_who_was_explained_before() -> None:
    # explain remembers why-not answers per rule; a fresh rulebook object starts empty.
    from talentrules.facts import compute_facts
    from talentrules.ingest import load_workbook
    from talentrules.paths import sample_workbook

    panel = load_workbook(sample_workbook())
    first = load_rulebook(default_rules_dir())
    people = compute_facts(panel, first.vocabulary)
    forward = [explain(first, p, evaluate(first, p)) for p in people]
    second = load_rulebook(default_rules_dir())
    backward = [explain(second, p, evaluate(second, p)) for p in reversed(people)]
    assert forward == list(reversed(backward))
    assert explain(first, people[0], evaluate(first, people[0])) == forward[0]


def test_why_not_under_any_and_not(near: Rulebook) -> None:
    p = person(near, performance=3, **{"C-DER.episodes": 2, "nominations.personal": 1})
    trace = explain(near, p, evaluate(near, p))
    why = {w["rule"]: w["failed"] for w in trace["decisions"]["inv"]["not_fired"]}
    # any: every branch failed; the first branch's leaf is named.
    assert why["either"]["condition"] == "nominations.personal >= 2"
    assert (why["either"]["actual"], why["either"]["result"]) == (1, False)
    # not: the leaf that held when it must not.
    assert why["noder"]["condition"] == "C-DER.episodes >= 1"
    assert (why["noder"]["result"], why["noder"]["negated"]) == (True, True)


_MEMOS = ("memo", "fired_memo", "by_results", "answers", "changes", "bases")


def _forget(rb: Rulebook) -> None:
    """Empty every memo explain keeps per rule, so the next trace is worked out afresh."""
    for cr in compile_rulebook(rb).rules.values():
        for name in _MEMOS:
            memo = getattr(cr, name)
            assert isinstance(memo, dict)
            memo.clear()


def test_remembered_traces_equal_traces_worked_out_afresh(tmp_path: Path) -> None:
    # explain shares answers between people by the values a rule reads, by the
    # leaves' truths, and by one fact's value; on varied generated people, every
    # trace must equal the one worked out with nothing remembered, in either order.
    import importlib.util

    from talentrules.facts import compute_facts, load_catalogue
    from talentrules.ingest import load_workbook

    script = Path(__file__).parents[1] / "benchmarks" / "make_workbook.py"
    spec = importlib.util.spec_from_file_location("make_workbook", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_workbook(tmp_path / "generated.xlsx", 200, seed=5)
    rb = load_rulebook(default_rules_dir())
    catalogue = load_catalogue(default_rules_dir() / "catalogue.yaml")
    people = compute_facts(load_workbook(tmp_path / "generated.xlsx"), rb.vocabulary, catalogue)
    evaluations = [evaluate(rb, p) for p in people]
    afresh = []
    for p, ev in zip(people, evaluations, strict=True):
        _forget(rb)
        afresh.append(explain(rb, p, ev))
    _forget(rb)
    forward = [explain(rb, p, ev) for p, ev in zip(people, evaluations, strict=True)]
    backward = [explain(rb, p, ev) for p, ev in zip(people[::-1], evaluations[::-1], strict=True)]
    assert sum(len(t["counterfactuals"]) for t in afresh) > len(people)  # the costly path ran
    assert forward == afresh
    assert backward[::-1] == afresh
    # Same bytes, not only equal values (1 == 1.0 == True for ==).
    assert json.dumps(forward) == json.dumps(afresh)
    # Entries are shared between people who give a rule the same values (docs/trace.md:
    # a trace is read-only), so people with equal values share one object.
    shared = {id(miss) for t in forward for d in t["decisions"].values() for miss in d["not_fired"]}
    misses = sum(len(d["not_fired"]) for t in forward for d in t["decisions"].values())
    assert len(shared) < misses / 2


def test_the_trace_text_is_the_canonical_json_of_the_trace(tmp_path: Path) -> None:
    # explain_text joins the text each shared entry keeps: its bytes must be those of
    # canonical(explain(...)) for every person, whether the entries were remembered
    # or worked out afresh, and for a person who lacks facts the rules read.
    import importlib.util

    from talentrules.facts import compute_facts, load_catalogue
    from talentrules.ingest import load_workbook
    from talentrules.jsontext import canonical
    from talentrules.reference import explain_text

    script = Path(__file__).parents[1] / "benchmarks" / "make_workbook.py"
    spec = importlib.util.spec_from_file_location("make_workbook", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_workbook(tmp_path / "generated.xlsx", 150, seed=7)
    rb = load_rulebook(default_rules_dir())
    catalogue = load_catalogue(default_rules_dir() / "catalogue.yaml")
    people = compute_facts(load_workbook(tmp_path / "generated.xlsx"), rb.vocabulary, catalogue)
    lacking = people[0]
    gone = next(name for name in lacking.values if name in compile_rulebook(rb).read_set)
    people.append(
        PersonFacts(
            "lacking",
            {k: v for k, v in lacking.values.items() if k != gone},
            dict(lacking.cells),
        )
    )
    extra = {"engine": {"name": "x", "version": "1"}, "zz": [1, 2.5, None]}
    _forget(rb)
    for rounds in range(2):  # worked out afresh, then remembered
        for p in people:
            ev = evaluate(rb, p)
            expected = canonical({**explain(rb, p, ev), **extra})
            assert explain_text(rb, p, ev, extra) == expected, (rounds, p.employee_id)
            assert explain_text(rb, p, ev) == canonical(explain(rb, p, ev))
