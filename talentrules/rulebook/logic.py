"""What a compiled condition means: Kleene's three-valued logic over facts and decisions'
outcomes, and each decision's hit policy over the rules that fired."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from talentrules.errors import RuleConflictError
from talentrules.rulebook.model import AllOf, Compare, Decision, Expr, Not, Rule


@dataclass(frozen=True, slots=True)  # one a person, kept for the run
class Evaluation:
    """What evaluating one person gives, whichever evaluator produced it.

    The durable_rules engine and the reference evaluator must produce equal
    Evaluations for every person (a test cross-checks them).
    """

    employee_id: str
    outcomes: dict[str, tuple[str, ...]]  # decision -> outcome(s), default applied
    fired: tuple[str, ...]  # rule ids: by decision level, then rulebook order
    overruled: dict[str, tuple[str, ...]]  # decision -> fired rule ids that lost (priority)
    defaulted: tuple[str, ...]  # decisions that fell to their default


def resolve(
    decision: Decision, fired: list[Rule], employee_id: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Apply ``decision``'s hit policy to its fired rules: (outcomes, overruled rule ids).

    ``fired`` holds only rules of this decision, in rulebook order.
    """
    if not fired:
        return (decision.default,), ()
    if decision.policy == "collect":
        chosen = {rule.then for rule in fired}
        return tuple(o for o in decision.outcomes if o in chosen), ()
    if decision.policy == "priority":
        winner = max(fired, key=lambda rule: rule.priority)
        return (winner.then,), tuple(r.id for r in fired if r is not winner)
    if len(fired) > 1:
        raise RuleConflictError(
            f"{employee_id}: decision '{decision.name}' is unique, but rules "
            f"{', '.join(repr(r.id) for r in fired)} all fired"
        )
    return (fired[0].then,), ()


def condition_count(expr: Expr) -> int:
    """Comparisons in a condition, each value of an ``in``/``not in`` list counted: what
    the engine turns into tests of durable_rules' matcher."""
    count = 0
    for compare in expr_facts(expr):
        count += len(compare.value) if isinstance(compare.value, tuple) else 1
    return count


def expr_facts(expr: Expr) -> list[Compare]:
    """Every comparison in ``expr``, left to right."""
    if isinstance(expr, Compare):
        return [expr]
    if isinstance(expr, Not):
        return expr_facts(expr.part)
    return [c for part in expr.parts for c in expr_facts(part)]


def rule_reads(rule: Rule) -> set[str]:
    """The facts and decisions ``rule`` reads."""
    return {c.fact for c in expr_facts(rule.when)}


def evaluate(expr: Expr, values: Mapping[str, object]) -> bool | None:
    """Three-valued (Kleene) value of ``expr``: True, False or None (unknown).

    ``values`` maps fact names to values (a missing name or None is unknown) and
    decision names to their resolved outcomes as a tuple (a decision's ``==`` means
    "includes", which is plain equality for single-outcome decisions).
    """
    if isinstance(expr, Compare):
        return holds(expr, values.get(expr.fact))
    if isinstance(expr, Not):
        inner = evaluate(expr.part, values)
        return None if inner is None else not inner
    if isinstance(expr, AllOf):
        return and3(evaluate(part, values) for part in expr.parts)
    return or3(evaluate(part, values) for part in expr.parts)


def and3(results: Iterable[bool | None]) -> bool | None:
    unknown = False
    for result in results:
        if result is False:
            return False
        if result is None:
            unknown = True
    return None if unknown else True


def or3(results: Iterable[bool | None]) -> bool | None:
    unknown = False
    for result in results:
        if result is True:
            return True
        if result is None:
            unknown = True
    return None if unknown else False


def holds(compare: Compare, value: object) -> bool | None:
    op = compare.op
    if op == "known":
        return value is not None
    if op == "unknown":
        return value is None
    if value is None:
        return None
    literal = compare.value
    if isinstance(value, tuple):  # a decision's outcomes
        wanted = literal if isinstance(literal, tuple) else (literal,)
        hit = any(w in value for w in wanted)
        return hit if op in ("==", "in") else not hit
    if op == "==":
        return bool(value == literal)
    if op == "!=":
        return bool(value != literal)
    if op == "in":
        return value in literal if isinstance(literal, tuple) else value == literal
    if op == "not in":
        return value not in literal if isinstance(literal, tuple) else value != literal
    ordered: Any = value
    if op == "<":
        return bool(ordered < literal)
    if op == "<=":
        return bool(ordered <= literal)
    if op == ">":
        return bool(ordered > literal)
    return bool(ordered >= literal)
