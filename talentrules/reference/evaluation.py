"""Evaluating one person: decisions level by level, each rule's compiled condition in
Kleene three-valued logic, each decision's hit policy (``rulebook.resolve``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from talentrules.errors import RulebookError
from talentrules.facts import PersonFacts
from talentrules.reference.compiled import CompiledReference, CompiledRule, Env, compile_rulebook
from talentrules.rulebook import Evaluation, Rulebook, resolve


def evaluate(rulebook: Rulebook, person: PersonFacts) -> Evaluation:
    """Evaluate every decision for one person, level by level.

    Raises RuleConflictError when two rules of a ``unique`` decision fire.
    """
    compiled = compile_rulebook(rulebook)
    return _resolve(compiled, person.employee_id, dict(person.values), set())


def outcomes_after(
    rulebook: Rulebook,
    person: PersonFacts,
    before: Mapping[str, tuple[str, ...]],
    changed: Iterable[str],
) -> dict[str, tuple[str, ...]]:
    """``evaluate(rulebook, person).outcomes`` for a person whose facts differ only in
    ``changed`` from those that gave the outcomes ``before``: a decision whose rules
    read nothing that changed (no changed fact, no decision whose outcome moved) keeps
    its outcome, the rest are evaluated as ``evaluate`` does. What-if searches ask
    this some thirty times a person, each changing a few facts."""
    compiled = compile_rulebook(rulebook)
    env: Env = dict(person.values)
    moved = set(changed)
    outcomes: dict[str, tuple[str, ...]] = {}
    for level in compiled.levels:
        for decision, rules in level:
            name = decision.name
            if moved.isdisjoint(compiled.reads_of[name]):
                chosen = before[name]
            else:
                hits = [r.rule for r in rules if r.check(env) is True]
                chosen = resolve(decision, hits, person.employee_id)[0]
                if chosen != before[name]:
                    moved.add(name)
            env[name] = chosen
            outcomes[name] = chosen
    return outcomes


def evaluate_many(rulebook: Rulebook, people: Iterable[PersonFacts]) -> list[Evaluation]:
    """``evaluate`` for each person, in the order given."""
    return [evaluate(rulebook, person) for person in people]


def evaluation_from_fired(rulebook: Rulebook, employee_id: str, held: Iterable[str]) -> Evaluation:
    """Assemble an Evaluation from the ids of the rules whose conditions held.

    The same resolution and ordering as ``evaluate``, for an engine that found the
    matching rules by other means, so that both give equal Evaluations.
    """
    compiled = compile_rulebook(rulebook)
    held_ids = set(held)
    unknown = held_ids - set(compiled.rules)
    if unknown:
        raise RulebookError(f"{rulebook.source}: no such rules: {', '.join(sorted(unknown))}")
    return _resolve(compiled, employee_id, None, held_ids)


def _resolve(
    compiled: CompiledReference, employee_id: str, env: Env | None, held: set[str]
) -> Evaluation:
    """Each decision's outcome, level by level, from the rules that hold: those whose
    condition is true in ``env`` (which then gets each outcome, for the next levels),
    else those named in ``held``. One loop, so both ways give equal Evaluations."""
    outcomes: dict[str, tuple[str, ...]] = {}
    fired: list[str] = []
    overruled: dict[str, tuple[str, ...]] = {}
    defaulted: list[str] = []
    for level in compiled.levels:
        level_fired: list[CompiledRule] = []
        for decision, rules in level:
            if env is not None:
                hits = [r for r in rules if r.check(env) is True]
            else:
                hits = [r for r in rules if r.rule.id in held]
            chosen, lost = resolve(decision, [r.rule for r in hits], employee_id)
            if env is not None:
                env[decision.name] = chosen
            outcomes[decision.name] = chosen
            if lost:
                overruled[decision.name] = lost
            if not hits:
                defaulted.append(decision.name)
            level_fired.extend(hits)
        level_fired.sort(key=lambda r: r.index)
        fired.extend(r.rule.id for r in level_fired)
    return Evaluation(employee_id, outcomes, tuple(fired), overruled, tuple(defaulted))
