"""The rule language: rules/*.yaml -> a checked, immutable Rulebook.

The Rulebook below is the compiled form every evaluator works from: the
pure-Python reference evaluator (reference.py) and the durable_rules engine
(engine.py). The language is documented in docs/rules.md.

Semantics in brief:
- a condition compares one fact (or a decision's outcome) with literals; a
  comparison that reads an unknown (blank) fact is unknown, never false; ``all``,
  ``any`` and ``not`` follow Kleene's three-valued logic, and a rule fires only
  when its condition is true;
- every rule concludes one outcome of one decision; decisions read other
  decisions' resolved outcomes (forward chaining), the dependency graph is
  acyclic and its levels are derived, never hand-ordered;
- each decision resolves its fired rules by its hit policy (unique, priority,
  collect) and falls to its declared default outcome when none fired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from talentrules.errors import RuleConflictError

FactType = Literal["number", "enum", "boolean", "date", "text"]
Policy = Literal["unique", "priority", "collect"]
Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "known", "unknown"]
Literal_ = str | float | bool | dt.date


@dataclass(frozen=True)
class FactSpec:
    """One fact rules may read: its type, range or values, and meaning."""

    name: str
    type: FactType
    meaning: str
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] = ()  # enum only


@dataclass(frozen=True)
class Compare:
    """``fact op value``; for ``known``/``unknown`` the value is None."""

    fact: str  # a fact name or a decision name
    op: Op
    value: Literal_ | tuple[Literal_, ...] | None
    file: str
    line: int

    def __str__(self) -> str:
        if self.op in ("known", "unknown"):
            return f"{self.fact} is {self.op}"
        if isinstance(self.value, tuple):
            return f"{self.fact} {self.op} ({', '.join(map(str, self.value))})"
        return f"{self.fact} {self.op} {self.value}"


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    part: Expr


Expr = Compare | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Rule:
    """One rule: when ``when`` holds for a person, ``decision`` gets ``then``."""

    id: str
    decision: str
    title: str
    rationale: str  # plain language, quoted in briefs
    when: Expr
    then: str  # one outcome of the decision
    priority: int  # higher wins under the ``priority`` policy
    message: str | None  # Jinja2 text rendered with the values the rule read
    file: str
    line: int


@dataclass(frozen=True)
class Decision:
    """A question every person gets an answer to."""

    name: str
    policy: Policy
    outcomes: tuple[str, ...]
    default: str  # the outcome when no rule fires; never nothing
    meaning: str
    file: str
    line: int


@dataclass(frozen=True)
class Rulebook:
    """A checked rulebook, ready to evaluate."""

    vocabulary: dict[str, FactSpec]
    decisions: dict[str, Decision]
    rules: tuple[Rule, ...]  # in file order (files sorted by name)
    levels: tuple[tuple[str, ...], ...]  # decision names by dependency level
    source: str  # the rules folder
    sha256: str  # hash of every rule file's bytes, in order


@dataclass(frozen=True)
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
