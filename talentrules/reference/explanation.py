"""The per-person trace (docs/trace.md): every fact with its cells, the rules that fired
with the values they compared, why the others did not fire and what would have made
them fire. What it says about a rule depends only on the values the rule reads, so it
is remembered per rule (bounded memos, shared JSON pieces every trace copies)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring  # json's own, as canonical uses it

from talentrules.facts import PersonFacts
from talentrules.jsontext import canonical, strings_text
from talentrules.reference.compiled import (
    CompiledReference,
    CompiledRule,
    Env,
    FiredEntry,
    Truth,
    WhyNot,
    compile_rulebook,
)
from talentrules.reference.counterfactuals import first_failing, nearest_change, one_change_facts
from talentrules.reference.values import Json, as_json, shown_value
from talentrules.rulebook import Decision, Evaluation, Rule, Rulebook
from talentrules.rulefiles import where as place

# 3: trace.jsonl lines hold what a replay needs (facts the rules read, their cells,
# each decision's fired and overruled rules), not why-not and counterfactuals, which
# follow from those and the rulebook (``explain``; traceline.py; docs/trace.md).
TRACE_VERSION = 3

# Per rule, so memory stays flat however many people are explained.
_MEMO_LIMIT = 1024  # by the values a rule reads
_RESULTS_LIMIT = 1024  # by its leaves' truths (tiny entries; most rules have a few dozen)
_BASES_LIMIT = 1024  # a leaf's JSON by its truth and value
_ANSWERS_LIMIT = 1024  # a why-not by the truths and the values it reads

# A memo key for a person who lacks a fact a rule reads: never stored.
_UNSHARED = object()
_NOT_GIVEN = object()  # _fired_entry: the caller did not look the key up


def _why_not(cr: CompiledRule, env: Env, key: object) -> WhyNot:
    """Why ``cr`` did not fire: its ``not_fired`` entry, with the first failing leaf,
    and the single changes that would make it fire.

    All of it depends only on the values the rule reads (``key``), so the answer is
    remembered by them; ``explain`` looks there first. Worked out, the blamed leaf
    and the facts worth changing depend only on the leaves' truths, the entry on
    those and the value the blamed leaf read, and each change on the truths and one
    value: the answer is also remembered by those (far fewer than the values a rule
    reads), and each change too.
    """
    results = tuple([check(env) for check in cr.leaf_checks])
    shape = cr.by_results.get(results)
    if shape is None:
        shape = (first_failing(cr, results), tuple(one_change_facts(cr, results)))
        if len(cr.by_results) < _RESULTS_LIMIT:
            cr.by_results[results] = shape
    blamed, facts = shape
    # env.get: an absent fact reads as unknown everywhere below (leaves, changes).
    read = None if blamed is None else env.get(cr.leaves[blamed].fact)
    said = (results, read, tuple([env.get(f) for f in facts]))
    answer = cr.answers.get(said)
    if answer is None:
        failed = None if blamed is None else _leaf(cr, blamed, results[blamed], env)
        entry: dict[str, Json] = {"rule": cr.rule.id, "then": cr.rule.then, "failed": failed}
        found = [nearest_change(cr, f, env, results) for f in facts]
        answer = WhyNot(entry, tuple(change for change in found if change is not None))
        if len(cr.answers) < _ANSWERS_LIMIT:
            cr.answers[said] = answer
    if key is not _UNSHARED and len(cr.memo) < _MEMO_LIMIT:
        cr.memo[key] = answer
    return answer


def _changers(
    decision: Decision, fired: list[Rule], now: tuple[str, ...], rules: tuple[CompiledRule, ...]
) -> list[CompiledRule]:
    """Those of ``rules`` (which did not fire) whose firing as well would change the
    decision's outcome ``now`` (``resolve``, unrolled: this runs for every decision of
    every person)."""
    if decision.policy == "collect":
        return [cr for cr in rules if cr.rule.then not in now]
    if not fired:
        default = decision.default
        return [cr for cr in rules if cr.rule.then != default]
    if decision.policy == "unique":
        return []  # a second rule of a unique decision is a conflict, not an outcome
    top, first = max([r.priority for r in fired]), now[0]
    return [cr for cr in rules if cr.rule.priority > top and cr.rule.then != first]


def _leaf(cr: CompiledRule, n: int, result: Truth, env: Env) -> dict[str, Json]:
    """Leaf ``n`` as trace JSON with the value it read: one shared dict per value."""
    actual = env.get(cr.leaves[n].fact)
    key = (n, result, actual)
    leaf = cr.bases.get(key)
    if leaf is not None:
        return leaf
    kind = type(actual)
    if actual is None:
        value, shown = None, "unknown"
    elif kind is int or kind is str:
        value, shown = actual, str(actual)
    elif kind is tuple:
        value, shown = actual, ", ".join(actual) or "none"
    else:
        value, shown = as_json(actual), shown_value(actual)
    leaf = cr.templates[n].copy()
    leaf["actual"] = value
    leaf["shown"] = shown
    leaf["result"] = result
    if len(cr.bases) < _BASES_LIMIT:
        cr.bases[key] = leaf
    return leaf


def _fired_entry(cr: CompiledRule, env: Env, level: int, key: object = _NOT_GIVEN) -> FiredEntry:
    """A fired rule's entry with every leaf and the value it read, remembered by the
    values the rule reads (``key``, when the caller has them)."""
    if key is _NOT_GIVEN:
        try:
            key = cr.reads(env)
        except KeyError:  # a fact the person lacks: nothing to share, work it out
            key = _UNSHARED
    found = cr.fired_memo.get(key) if key is not _UNSHARED else None
    if found is None:
        rule = cr.rule
        found = FiredEntry(
            {
                "rule": rule.id,
                "decision": rule.decision,
                "then": rule.then,
                "level": level,
                "where": f"{place(rule.file, rule.line)}",
                "conditions": [
                    _leaf(cr, n, check(env), env) for n, check in enumerate(cr.leaf_checks)
                ],
            }
        )
        if key is not _UNSHARED and len(cr.fired_memo) < _MEMO_LIMIT:
            cr.fired_memo[key] = found
    return found


# Per decision, in level order: the decision, its level, its outcomes, the rules of it
# that fired, why each of the others did not, and those of them whose single changes
# would change its outcome (the trace's counterfactuals).
_Explained = list[tuple[Decision, int, tuple[str, ...], list[Rule], list[WhyNot], list[WhyNot]]]


def _explained(
    rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation
) -> tuple[list[FiredEntry], _Explained]:
    """What ``explain`` and ``explain_text`` say, as the shared answers of the memos.

    Decisions' outcomes are taken from ``evaluation`` (whichever evaluator made it),
    never recomputed; the rules' leaf conditions are read against those outcomes.
    It runs for every person, so a rule's entries, which depend only on the values
    it reads, are remembered per rule and shared by every person who gives it the
    same values: a trace is read-only.
    """
    compiled = compile_rulebook(rulebook)
    env: Env = dict(person.values)
    env.update(evaluation.outcomes)
    fired_ids = set(evaluation.fired)
    level_of = compiled.level_of

    fired: list[FiredEntry] = []
    fired_by_decision: dict[str, list[Rule]] = {name: [] for name in rulebook.decisions}
    for rule_id in evaluation.fired:
        cr = compiled.rules[rule_id]
        fired_by_decision[cr.rule.decision].append(cr.rule)
        fired.append(_fired_entry(cr, env, level_of[cr.rule.decision]))

    explained: _Explained = []
    changeable = compiled.changeable
    for decision, level, steps in compiled.plan:
        outcomes = evaluation.outcomes.get(decision.name, (decision.default,))
        fired_here = fired_by_decision[decision.name]
        changers = {
            cr.rule.id
            for cr in _changers(decision, fired_here, outcomes, changeable[decision.name])
        }
        not_fired: list[WhyNot] = []
        changing: list[WhyNot] = []
        for rule_id, reads, memo, cr in steps:
            if rule_id in fired_ids:
                continue
            # The memo's lookup inline: this runs for nearly every rule and person.
            try:
                found = memo.get(key := reads(env))
            except KeyError:  # a fact the person lacks: nothing to share, work it out
                found, key = None, _UNSHARED
            answer = found or _why_not(cr, env, key)
            not_fired.append(answer)
            if answer.changes and rule_id in changers:
                changing.append(answer)
        explained.append((decision, level, outcomes, fired_here, not_fired, changing))
    return fired, explained


def _conclusions(
    decision: Decision, outcomes: tuple[str, ...], won: list[Rule], defaulted: bool
) -> list[dict[str, Json]]:
    return [
        {
            "decision": decision.name,
            "outcome": outcome,
            "rules": [r.id for r in won if r.then == outcome],
            "defaulted": defaulted,
        }
        for outcome in outcomes
    ]


def explain(rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation) -> dict[str, Json]:
    """The per-person trace body (docs/trace.md, ``trace_version`` 2), as JSON data.

    Its entries are shared with every person who gives a rule the same values (see
    ``_explained``): a trace is read-only.
    """
    fired, explained = _explained(rulebook, person, evaluation)
    conclusions: list[dict[str, Json]] = []
    decisions_json: dict[str, Json] = {}
    counterfactuals: list[Json] = []
    defaulted = set(evaluation.defaulted)
    for decision, level, outcomes, fired_here, not_fired, changing in explained:
        name = decision.name
        lost = evaluation.overruled.get(name, ())
        won = [r for r in fired_here if r.id not in lost]
        conclusions += _conclusions(decision, outcomes, won, name in defaulted)
        decisions_json[name] = {
            "policy": decision.policy,
            "level": level,
            "outcomes": outcomes,
            "defaulted": name in defaulted,
            "fired": [r.id for r in fired_here],
            "overruled": lost,
            "not_fired": [answer.entry for answer in not_fired],
        }
        for answer in changing:
            counterfactuals += answer.changes
    return {
        "trace_version": TRACE_VERSION,
        "employee_id": person.employee_id,
        "facts": trace_facts(rulebook, person),
        "cells": person.cells,  # shared: the trace is read-only
        "fired": [entry.entry for entry in fired],
        "conclusions": conclusions,
        "decisions": decisions_json,
        "counterfactuals": counterfactuals,
    }


def explain_text(
    rulebook: Rulebook,
    person: PersonFacts,
    evaluation: Evaluation,
    extra: Mapping[str, Json] | None = None,
) -> str:
    """``canonical({**explain(...), **extra})``: the same bytes, in a fraction of the
    time. Most of a trace is entries shared between people (``_explained``), and each
    keeps its canonical text once made: a trace's text is theirs joined, with only
    what is the person's own (facts, cells, outcomes) encoded anew."""
    fired, explained = _explained(rulebook, person, evaluation)
    conclusions: list[dict[str, Json]] = []
    decisions: list[tuple[str, str]] = []
    counterfactuals: list[str] = []
    defaulted = set(evaluation.defaulted)
    for decision, level, outcomes, fired_here, not_fired, changing in explained:
        name = decision.name
        lost = evaluation.overruled.get(name, ())
        won = [r for r in fired_here if r.id not in lost]
        conclusions += _conclusions(decision, outcomes, won, name in defaulted)
        missed = ",".join([a.entry_text or _entry_text(a) for a in not_fired])
        # explain's decision object, its keys in canonical (sorted) order.
        decisions.append(
            (
                name,
                f'{{"defaulted":{"true" if name in defaulted else "false"}'
                f',"fired":{strings_text([r.id for r in fired_here])}'
                f',"level":{int.__repr__(level)}'
                f',"not_fired":[{missed}]'
                f',"outcomes":{strings_text(outcomes)}'
                f',"overruled":{strings_text(lost)}'
                f',"policy":{encode_basestring(decision.policy)}}}',
            )
        )
        for answer in changing:
            counterfactuals.append(
                answer.changes_text if answer.changes_text is not None else _changes_text(answer)
            )
    parts = {
        "trace_version": canonical(TRACE_VERSION),
        "employee_id": canonical(person.employee_id),
        "facts": canonical(trace_facts(rulebook, person)),
        "cells": canonical(person.cells),
        "fired": "[" + ",".join([f.text or _fired_text(f) for f in fired]) + "]",
        "conclusions": canonical(conclusions),
        "decisions": "{"
        + ",".join([encode_basestring(name) + ":" + text for name, text in sorted(decisions)])
        + "}",
        "counterfactuals": "[" + ",".join(counterfactuals) + "]",
    }
    for key, value in (extra or {}).items():
        parts[key] = canonical(value)
    return "{" + ",".join([encode_basestring(k) + ":" + v for k, v in sorted(parts.items())]) + "}"


def _entry_text(answer: WhyNot) -> str:
    answer.entry_text = text = canonical(answer.entry)
    return text


def _changes_text(answer: WhyNot) -> str:
    answer.changes_text = text = ",".join([canonical(change) for change in answer.changes])
    return text


def _fired_text(fired: FiredEntry) -> str:
    fired.text = text = canonical(fired.entry)
    return text


def fired(rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation) -> list[Json]:
    """``explain``'s ``fired`` alone: each fired rule with its conditions and the values
    they read (for a reader that needs no why-not or counterfactuals)."""
    compiled = compile_rulebook(rulebook)
    env: Env = dict(person.values)
    env.update(evaluation.outcomes)
    entries = []
    for rule_id in evaluation.fired:
        cr = compiled.rules[rule_id]
        entries.append(_fired_entry(cr, env, compiled.level_of[cr.rule.decision]).entry)
    return entries


def near_misses(
    rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation
) -> list[tuple[str, Json]]:
    """What a brief reads of ``explain``'s why-not: each rule that did not fire but
    would, and change its decision's outcome, with one fact changed (the rules of
    ``counterfactuals``, in their order, once each), with its ``not_fired`` entry's
    first failing leaf. The same memos as ``explain``; nothing else is built."""
    return [
        (rule_id, answer.entry["failed"])
        for rule_id, answer in appendix(rulebook, person, evaluation)[1]
    ]


# ``appendix``'s key for an entry worked out for a person who lacks a fact it reads.
UNSHARED = _UNSHARED

# appendix: per decision, the rules that may be near misses (``_changers``, less those
# that fired), by what they follow from: the decision's outcomes and the rules of it
# that fired. A few hundred combinations in a run; bounded per decision all the same.
_CANDIDATES_LIMIT = 1024
# A candidate: its id, what it reads, its why-not memo, the rule (``compiled._Step``).
_Candidate = tuple[str, Callable[[Env], object], dict[object, WhyNot], CompiledRule]
_Candidates = dict[object, tuple[_Candidate, ...]]
_CANDIDATES: dict[int, tuple[CompiledReference, dict[str, _Candidates]]] = {}


def _candidates(compiled: CompiledReference) -> dict[str, _Candidates]:
    """The compiled rulebook's memo of ``appendix``'s candidates, per decision."""
    found = _CANDIDATES.get(id(compiled))
    if found is None or found[0] is not compiled:
        if len(_CANDIDATES) >= 16:  # like compile_rulebook's cache: a few rulebooks
            _CANDIDATES.clear()
        found = _CANDIDATES[id(compiled)] = (compiled, {name: {} for name in compiled.changeable})
    return found[1]


def appendix(
    rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation
) -> tuple[list[tuple[str, FiredEntry, object]], list[tuple[str, WhyNot]]]:
    """``fired`` and ``near_misses`` of one person in one pass: each fired rule's entry
    with the values of the person its rule reads (``UNSHARED``: the person lacks
    one), and each near miss's why-not. What an entry or a why-not says is a function
    of those values, and both are shared by every person who gives the rule the same
    (``WhyNot``, ``FiredEntry``): a reader may remember what it makes of them (the
    brief's audit appendix does, in words)."""
    compiled = compile_rulebook(rulebook)
    env: Env = dict(person.values)
    env.update(evaluation.outcomes)
    level_of, rules = compiled.level_of, compiled.rules
    fired_by_decision: dict[str, list[str]] = {name: [] for name in rulebook.decisions}
    fired: list[tuple[str, FiredEntry, object]] = []
    for rule_id in evaluation.fired:
        cr = rules[rule_id]
        fired_by_decision[cr.rule.decision].append(rule_id)
        try:
            key = cr.reads(env)
        except KeyError:
            key = _UNSHARED
        entry = cr.fired_memo.get(key) if key is not _UNSHARED else None  # _fired_entry's, inline
        if entry is None:
            entry = _fired_entry(cr, env, level_of[cr.rule.decision], key)
        fired.append((rule_id, entry, key))
    near: list[tuple[str, WhyNot]] = []
    memos = _candidates(compiled)
    for decision, _, _ in compiled.plan:
        name = decision.name
        outcomes = evaluation.outcomes.get(name, (decision.default,))
        fired_here = fired_by_decision[name]
        # Whether a rule could change the outcome first: that is cheaper than its
        # why-not (a quarter of the rules fail it); it depends only on these.
        said: object = (outcomes, tuple(fired_here))
        memo = memos[name]
        try:
            steps = memo.get(said)
        except TypeError:  # unhashable outcomes (a list where a tuple belongs)
            steps, said = None, None
        if steps is None:
            won = [rules[rule_id].rule for rule_id in fired_here]
            steps = tuple(
                (cr.rule.id, cr.reads, cr.memo, cr)
                for cr in _changers(decision, won, outcomes, compiled.changeable[name])
                if cr.rule.id not in fired_here
            )
            if said is not None and len(memo) < _CANDIDATES_LIMIT:
                memo[said] = steps
        for rule_id, reads, why_not, cr in steps:
            try:
                found = why_not.get(key := reads(env))
            except KeyError:  # a fact the person lacks: nothing to share, work it out
                found, key = None, _UNSHARED
            answer = found or _why_not(cr, env, key)
            if answer.changes:
                near.append((rule_id, answer))
    return fired, near


def trace_facts(rulebook: Rulebook, person: PersonFacts) -> dict[str, Json]:
    """The trace's ``facts``: every value of the person, dates as YYYY-MM-DD."""
    # Only date facts hold dates (facts.py types every value by the vocabulary), so
    # only those are looked at: a scan of every value cost a seventh of explain.
    facts: dict[str, Json] = dict(person.values)
    for name in compile_rulebook(rulebook).date_facts:
        value = facts.get(name)
        if isinstance(value, dt.date):
            facts[name] = value.isoformat()
    return facts
