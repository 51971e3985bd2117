"""The per-person trace (docs/trace.md): every fact with its cells, the rules that fired
with the values they compared, why the others did not fire and what would have made
them fire. What it says about a rule depends only on the values the rule reads, so it
is remembered per rule (bounded memos, shared JSON pieces every trace copies)."""

from __future__ import annotations

import datetime as dt

from talentrules.facts import PersonFacts
from talentrules.reference.compiled import CompiledRule, Env, Truth, WhyNot, compile_rulebook
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

# A memo key for a person who lacks a fact a rule reads: never stored.
_UNSHARED = object()
_NOT_GIVEN = object()  # _fired_entry: the caller did not look the key up


def _why_not(cr: CompiledRule, env: Env, key: object) -> WhyNot:
    """Why ``cr`` did not fire: its ``not_fired`` entry, with the first failing leaf,
    and the single changes that would make it fire.

    All of it depends only on the values the rule reads (``key``), so the answer is
    remembered by them; ``explain`` looks there first. Worked out, the blamed leaf
    and the facts worth changing depend only on the leaves' truths, and each change
    on those and one value: remembered too.
    """
    results = tuple([check(env) for check in cr.leaf_checks])
    shape = cr.by_results.get(results)
    if shape is None:
        shape = (first_failing(cr, results), tuple(one_change_facts(cr, results)))
        if len(cr.by_results) < _RESULTS_LIMIT:
            cr.by_results[results] = shape
    blamed, facts = shape
    failed = None if blamed is None else _leaf(cr, blamed, results[blamed], env)
    entry: dict[str, Json] = {"rule": cr.rule.id, "then": cr.rule.then, "failed": failed}
    found = [nearest_change(cr, f, env, results) for f in facts]
    answer = (entry, tuple(change for change in found if change is not None))
    if key is not _UNSHARED and len(cr.memo) < _MEMO_LIMIT:
        cr.memo[key] = answer
    return answer


def _changes_outcome(
    decision: Decision, fired: list[Rule], top: int | None, rule: Rule, now: tuple[str, ...]
) -> bool:
    """Would ``rule`` firing as well change the decision's outcome? (``resolve``, unrolled:
    this runs for every rule that did not fire, for every person.)"""
    if decision.policy == "collect":
        return rule.then not in now
    if not fired:
        return rule.then != decision.default
    if decision.policy == "unique":
        return False  # a second rule of a unique decision is a conflict, not an outcome
    return top is not None and rule.priority > top and rule.then != now[0]


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


def _fired_entry(
    cr: CompiledRule, env: Env, level: int, key: object = _NOT_GIVEN
) -> dict[str, Json]:
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
        found = {
            "rule": rule.id,
            "decision": rule.decision,
            "then": rule.then,
            "level": level,
            "where": f"{place(rule.file, rule.line)}",
            "conditions": [_leaf(cr, n, check(env), env) for n, check in enumerate(cr.leaf_checks)],
        }
        if key is not _UNSHARED and len(cr.fired_memo) < _MEMO_LIMIT:
            cr.fired_memo[key] = found
    return found


def explain(rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation) -> dict[str, Json]:
    """The per-person trace body (docs/trace.md, ``trace_version`` 2), as JSON data.

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

    fired_json: list[Json] = []
    fired_by_decision: dict[str, list[Rule]] = {name: [] for name in rulebook.decisions}
    for rule_id in evaluation.fired:
        cr = compiled.rules[rule_id]
        fired_by_decision[cr.rule.decision].append(cr.rule)
        fired_json.append(_fired_entry(cr, env, level_of[cr.rule.decision]))

    conclusions: list[dict[str, Json]] = []
    decisions_json: dict[str, Json] = {}
    counterfactuals: list[Json] = []
    defaulted = set(evaluation.defaulted)
    for decision, level, steps in compiled.plan:
        name = decision.name
        outcomes = evaluation.outcomes.get(name, (decision.default,))
        lost = evaluation.overruled.get(name, ())
        fired_here = fired_by_decision[name]
        won = [r for r in fired_here if r.id not in lost]
        for outcome in outcomes:
            conclusions.append(
                {
                    "decision": name,
                    "outcome": outcome,
                    "rules": [r.id for r in won if r.then == outcome],
                    "defaulted": name in defaulted,
                }
            )
        not_fired: list[Json] = []
        top = max([r.priority for r in fired_here]) if fired_here else None
        for rule_id, reads, memo, cr in steps:
            if rule_id in fired_ids:
                continue
            # The memo's lookup inline: this runs for nearly every rule and person.
            try:
                found = memo.get(key := reads(env))
            except KeyError:  # a fact the person lacks: nothing to share, work it out
                found, key = None, _UNSHARED
            entry, changes = found or _why_not(cr, env, key)
            not_fired.append(entry)
            if changes and _changes_outcome(decision, fired_here, top, cr.rule, outcomes):
                counterfactuals += changes
        decisions_json[name] = {
            "policy": decision.policy,
            "level": level,
            "outcomes": outcomes,
            "defaulted": name in defaulted,
            "fired": [r.id for r in fired_here],
            "overruled": lost,
            "not_fired": not_fired,
        }
    return {
        "trace_version": TRACE_VERSION,
        "employee_id": person.employee_id,
        "facts": trace_facts(rulebook, person),
        "cells": person.cells,  # shared: the trace is read-only
        "fired": fired_json,
        "conclusions": conclusions,
        "decisions": decisions_json,
        "counterfactuals": counterfactuals,
    }


def fired(rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation) -> list[Json]:
    """``explain``'s ``fired`` alone: each fired rule with its conditions and the values
    they read (for a reader that needs no why-not or counterfactuals)."""
    compiled = compile_rulebook(rulebook)
    env: Env = dict(person.values)
    env.update(evaluation.outcomes)
    entries = []
    for rule_id in evaluation.fired:
        cr = compiled.rules[rule_id]
        entries.append(_fired_entry(cr, env, compiled.level_of[cr.rule.decision]))
    return entries


def near_misses(
    rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation
) -> list[tuple[str, Json]]:
    """What a brief reads of ``explain``'s why-not: each rule that did not fire but
    would, and change its decision's outcome, with one fact changed (the rules of
    ``counterfactuals``, in their order, once each), with its ``not_fired`` entry's
    first failing leaf. The same memos as ``explain``; nothing else is built."""
    return [(rule_id, failed) for rule_id, failed, _ in appendix(rulebook, person, evaluation)[1]]


# ``appendix``'s key for an entry worked out for a person who lacks a fact it reads.
UNSHARED = _UNSHARED


def appendix(
    rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation
) -> tuple[list[tuple[str, dict[str, Json], object]], list[tuple[str, Json, object]]]:
    """``fired`` and ``near_misses`` of one person in one pass, each entry with the values
    of the person its rule reads (``UNSHARED``: the person lacks one): what the entry
    says is a function of those, so a reader may remember what it makes of an entry
    by them (the brief's audit appendix does, in words)."""
    compiled = compile_rulebook(rulebook)
    env: Env = dict(person.values)
    env.update(evaluation.outcomes)
    level_of, rules = compiled.level_of, compiled.rules
    fired_ids = set(evaluation.fired)
    fired_by_decision: dict[str, list[Rule]] = {name: [] for name in rulebook.decisions}
    fired: list[tuple[str, dict[str, Json], object]] = []
    for rule_id in evaluation.fired:
        cr = rules[rule_id]
        fired_by_decision[cr.rule.decision].append(cr.rule)
        try:
            key = cr.reads(env)
        except KeyError:
            key = _UNSHARED
        fired.append((rule_id, _fired_entry(cr, env, level_of[cr.rule.decision], key), key))
    near: list[tuple[str, Json, object]] = []
    for decision, _, steps in compiled.plan:
        outcomes = evaluation.outcomes.get(decision.name, (decision.default,))
        fired_here = fired_by_decision[decision.name]
        top = max([r.priority for r in fired_here]) if fired_here else None
        for rule_id, reads, memo, cr in steps:
            # Whether it could change the outcome first: that is cheaper than its why-not
            # (a quarter of the rules fail it); a rule without a fact to change never can.
            if (
                rule_id in fired_ids
                or not cr.changeable_any
                or not _changes_outcome(decision, fired_here, top, cr.rule, outcomes)
            ):
                continue
            try:
                answer = memo.get(key := reads(env))
            except KeyError:  # a fact the person lacks: nothing to share, work it out
                answer, key = None, _UNSHARED
            entry, changes = answer or _why_not(cr, env, key)
            if changes:
                near.append((rule_id, entry["failed"], key))
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
