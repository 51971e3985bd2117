"""The single changes that would make a rule fire: which comparison keeps it from firing,
which facts one change of might fix it, and the nearest value of each that does."""

from __future__ import annotations

from collections.abc import Sequence

from talentrules.model import Value
from talentrules.reference.compiled import (
    AllShape,
    CompiledRule,
    Env,
    LeafShape,
    NotShape,
    Shape,
    Truth,
)
from talentrules.reference.values import Json, as_json, distance_from, shown_value
from talentrules.rulebook import Compare, Decision, Rule

# Per rule, like explanation.py's memos, so memory stays flat however many are explained.
_CHANGES_LIMIT = 512  # by its leaves' truths and one fact's value


def _value_of(node: Shape, results: Sequence[Truth]) -> Truth:
    """A condition's truth from its leaves' truths (Kleene)."""
    if isinstance(node, LeafShape):
        return results[node.index]
    if isinstance(node, NotShape):
        inner = _value_of(node.part, results)
        return None if inner is None else not inner
    values = [_value_of(part, results) for part in node.parts]
    if isinstance(node, AllShape):
        if False in values:
            return False
        return None if None in values else True
    if True in values:
        return True
    return None if None in values else False


def _blame(node: Shape, want: bool, results: Sequence[Truth]) -> int | None:
    """The first leaf, in reading order, that keeps ``node`` from being ``want``."""
    if isinstance(node, LeafShape):
        return None if results[node.index] is want else node.index
    if isinstance(node, NotShape):
        return _blame(node.part, not want, results)
    if _value_of(node, results) is want:
        return None
    # all-true and any-false need every part; any-true and all-false need one part,
    # and every part fails, so the first part's first failing leaf is to blame.
    for part in node.parts:
        found = _blame(part, want, results)
        if found is not None:
            return found
    return None


def _fixable(
    node: Shape, want: bool, results: Sequence[Truth], leaves: tuple[Compare, ...], fixed: set[str]
) -> set[str] | None:
    """Facts one change of which might make ``node`` ``want``; None: already is.

    An over-approximation (every candidate is then checked by evaluating the rule),
    used to skip rules that need two or more changes.
    """
    if isinstance(node, LeafShape):
        if results[node.index] is want:
            return None
        fact = leaves[node.index].fact
        return set() if fact in fixed else {fact}
    if isinstance(node, NotShape):
        return _fixable(node.part, not want, results, leaves, fixed)
    subs = [_fixable(part, want, results, leaves, fixed) for part in node.parts]
    every_part = isinstance(node, AllShape) == want  # all-true / any-false: every part must hold
    if every_part:
        needed = [s for s in subs if s is not None]
        if not needed:
            return None
        common = needed[0].copy()
        for s in needed[1:]:
            common &= s
        return common
    if any(s is None for s in subs):
        return None
    union: set[str] = set()
    for sub in subs:
        if sub is not None:
            union |= sub
    return union


_NEGATED: dict[str, str] = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
    "in": "not in",
    "not in": "in",
    "known": "unknown",
    "unknown": "known",
}


def _condition_text(leaf: Compare, holds: bool) -> str:
    """A leaf's condition without its fact name, or its negation when it must not hold."""
    op = leaf.op if holds else _NEGATED[leaf.op]
    if op in ("known", "unknown"):
        return f"is {op}"
    if isinstance(leaf.value, tuple):
        return f"{op} ({shown_value(leaf.value)})"
    return f"{op} {shown_value(leaf.value)}"


def nearest_change(
    cr: CompiledRule, fact: str, env: Env, results: tuple[Truth, ...]
) -> dict[str, Json] | None:
    """The nearest value of ``fact`` that makes the rule fire, as a counterfactual
    (None: no value tried does).

    The leaves on other facts keep their truths whatever this fact holds, so the
    answer depends only on ``results`` and the fact's current value, and is
    remembered by those: far fewer combinations than the values a rule reads.
    """
    current = env.get(fact)
    key = (results, fact, current)
    if key in cr.changes:
        return cr.changes[key]
    found: dict[str, Json] | None = None
    on_fact = [n for n, leaf in enumerate(cr.leaves) if leaf.fact == fact]
    candidates = sorted(cr.candidates[fact], key=lambda v: distance_from(v, current))
    for value in candidates:
        if value == current and type(value) is type(current):
            continue
        env[fact] = value
        try:
            holds = cr.check(env)
            after = {n: cr.leaf_checks[n](env) for n in on_fact} if holds is True else {}
        finally:
            env[fact] = current
        if holds is True:
            # Say which of the rule's conditions on this fact the change meets.
            texts = [
                _condition_text(cr.leaves[n], bool(after[n]))
                for n in on_fact
                if after[n] is not results[n]
            ]
            if len(texts) > 1 and "is known" in texts:
                texts.remove("is known")
            text = " and ".join(dict.fromkeys(texts))
            found = _counterfactual(cr.decision, cr.rule, fact, current, (value, text))
            break
    if len(cr.changes) < _CHANGES_LIMIT:
        cr.changes[key] = found
    return found


def first_failing(cr: CompiledRule, results: Sequence[Truth]) -> int | None:
    """The first leaf, in reading order, that keeps the rule from firing."""
    if cr.flat:
        return next((n for n, result in enumerate(results) if result is not True), None)
    return _blame(cr.shape, True, results)


def one_change_facts(cr: CompiledRule, results: Sequence[Truth]) -> list[str]:
    """Facts (in reading order) one change of which might make the rule fire."""
    if cr.flat:
        failing = [n for n, result in enumerate(results) if result is not True]
        if not failing or not cr.changeable[failing[0]]:
            return []
        fact = cr.leaves[failing[0]].fact
        return [fact] if all(cr.leaves[n].fact == fact for n in failing) else []
    fixed = {leaf.fact for n, leaf in enumerate(cr.leaves) if not cr.changeable[n]}
    found = _fixable(cr.shape, True, results, cr.leaves, fixed)
    if not found:
        return []
    first = {leaf.fact: n for n, leaf in reversed(list(enumerate(cr.leaves)))}
    return sorted(found, key=lambda f: first[f])


def _counterfactual(
    decision: Decision,
    rule: Rule,
    fact: str,
    current: Value,
    found: tuple[Value, str],
) -> dict[str, Json]:
    needed, text = found
    if current is None:
        change = f"if {fact} were recorded" + ("" if text == "is known" else f" with {fact} {text}")
    elif needed is None:
        change = f"if {fact} were unknown"
    else:
        change = f"with {fact} {text}"
    verb = "would include" if decision.policy == "collect" else "would be"
    return {
        "decision": decision.name,
        "rule": rule.id,
        "then": rule.then,
        "fact": fact,
        "current": as_json(current),
        "needed": as_json(needed),
        "condition": f"{fact} {text}",
        "changes_outcome": True,  # always, in versions 1 and 2: no other change is listed
        "sentence": f"{decision.name} {verb} {rule.then} {change} (now {shown_value(current)})",
    }
