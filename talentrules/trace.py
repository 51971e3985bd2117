"""The per-person trace as typed records, for the stages that read it.

``reference.explain`` builds a trace as JSON data (docs/trace.md): plain dicts and
lists, shared between people to keep a run cheap. ``talentrules.record`` adds the
recommendation and the chain link when it writes ``trace.jsonl``. Report and audit
read either form through these records instead of ``dict.get`` with defaults, so a
key the code expects and the trace lacks is a ``TraceFormatError`` naming it, never a
silent empty value. Reading builds new objects: the trace itself is never changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Json = Any  # a JSON value: str, int, float, bool, None, list, dict


class TraceFormatError(ValueError):
    """A trace (or trace line) lacks a key, or holds a value of the wrong kind."""


def _get(data: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise TraceFormatError(f"{where}: expected an object, found {type(data).__name__}")
    if key not in data:
        raise TraceFormatError(f"{where}: no '{key}'")
    return data[key]


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _get(data, key, where)
    if not isinstance(value, str):
        raise TraceFormatError(f"{where}.{key}: expected text, found {value!r}")
    return value


def _texts(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = _get(data, key, where)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TraceFormatError(f"{where}.{key}: expected a list of texts")
    return tuple(value)


def _items(data: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = _get(data, key, where)
    if not isinstance(value, list | tuple):
        raise TraceFormatError(f"{where}.{key}: expected a list")
    return value


def _number(data: Mapping[str, Any], key: str, where: str) -> float:
    value = _get(data, key, where)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TraceFormatError(f"{where}.{key}: expected a number, found {value!r}")
    return float(value)


def _mapping(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = _get(data, key, where)
    if not isinstance(value, Mapping):
        raise TraceFormatError(f"{where}.{key}: expected an object")
    return value


@dataclass(frozen=True)
class Leaf:
    """One leaf condition of a rule, with the value it read (docs/trace.md)."""

    condition: str  # as written: "H-DEV.observers >= 2"
    fact: str  # the fact or decision it reads
    negated: bool  # under an odd number of `not`s
    actual: Json  # the value read (None: unknown); a decision's outcomes as a list
    shown: str  # the value as a panel reads it
    result: bool | None  # True, False, or None (unknown)

    @classmethod
    def read(cls, data: Mapping[str, Any], where: str) -> Leaf:
        result = _get(data, "result", where)
        if result is not None and not isinstance(result, bool):
            raise TraceFormatError(f"{where}.result: expected true, false or null")
        return cls(
            condition=_text(data, "condition", where),
            fact=_text(data, "fact", where),
            negated=bool(_get(data, "negated", where)),
            actual=_get(data, "actual", where),
            shown=_text(data, "shown", where),
            result=result,
        )


@dataclass(frozen=True)
class Fired:
    """A rule whose condition held (overruled ones included), in firing order."""

    rule: str
    decision: str
    then: str
    level: int
    where: str  # rules/20-heart.yaml:12
    conditions: tuple[Leaf, ...]

    @classmethod
    def read(cls, data: Mapping[str, Any], where: str) -> Fired:
        rule = _text(data, "rule", where)
        at = f"{where}[{rule}]"
        return cls(
            rule=rule,
            decision=_text(data, "decision", at),
            then=_text(data, "then", at),
            level=int(_get(data, "level", at)),
            where=_text(data, "where", at),
            conditions=tuple(
                Leaf.read(c, f"{at}.conditions") for c in _items(data, "conditions", at)
            ),
        )


@dataclass(frozen=True)
class NotFired:
    """A rule that did not fire, and the first leaf that kept it from firing."""

    rule: str
    then: str
    failed: Leaf | None  # None only when every leaf holds (see docs/trace.md)

    @classmethod
    def read(cls, data: Mapping[str, Any], where: str) -> NotFired:
        rule = _text(data, "rule", where)
        failed = _get(data, "failed", where)
        return cls(
            rule=rule,
            then=_text(data, "then", where),
            failed=None if failed is None else Leaf.read(failed, f"{where}[{rule}].failed"),
        )


@dataclass(frozen=True)
class DecisionTrace:
    """One decision for one person: its outcomes, who fired, who lost, who did not."""

    name: str
    policy: str
    level: int
    outcomes: tuple[str, ...]
    defaulted: bool
    fired: tuple[str, ...]
    overruled: tuple[str, ...]
    not_fired: tuple[NotFired, ...]

    @classmethod
    def read(cls, name: str, data: Mapping[str, Any], where: str) -> DecisionTrace:
        at = f"{where}.{name}"
        return cls(
            name=name,
            policy=_text(data, "policy", at),
            level=int(_get(data, "level", at)),
            outcomes=_texts(data, "outcomes", at),
            defaulted=bool(_get(data, "defaulted", at)),
            fired=_texts(data, "fired", at),
            overruled=_texts(data, "overruled", at),
            not_fired=tuple(
                NotFired.read(n, f"{at}.not_fired") for n in _items(data, "not_fired", at)
            ),
        )


@dataclass(frozen=True)
class Counterfactual:
    """One change to one fact that would make a rule fire and change its decision."""

    decision: str
    rule: str
    then: str
    fact: str
    current: Json
    needed: Json
    condition: str
    changes_outcome: bool
    sentence: str

    @classmethod
    def read(cls, data: Mapping[str, Any], where: str) -> Counterfactual:
        return cls(
            decision=_text(data, "decision", where),
            rule=_text(data, "rule", where),
            then=_text(data, "then", where),
            fact=_text(data, "fact", where),
            current=_get(data, "current", where),
            needed=_get(data, "needed", where),
            condition=_text(data, "condition", where),
            changes_outcome=bool(_get(data, "changes_outcome", where)),
            sentence=_text(data, "sentence", where),
        )


@dataclass(frozen=True)
class PersonTrace:
    """The trace of one person, as ``reference.explain`` builds it (trace_version 2)."""

    trace_version: int
    employee_id: str
    facts: Mapping[str, Json]
    cells: Mapping[str, Sequence[str]]
    fired: tuple[Fired, ...]
    decisions: dict[str, DecisionTrace]
    counterfactuals: tuple[Counterfactual, ...]

    @classmethod
    def read(cls, data: Mapping[str, Any], where: str = "trace") -> PersonTrace:
        """The typed view of a trace; TraceFormatError names the first missing key."""
        cells = _mapping(data, "cells", where)
        decisions = _mapping(data, "decisions", where)
        return cls(
            trace_version=int(_get(data, "trace_version", where)),
            employee_id=_text(data, "employee_id", where),
            facts=_mapping(data, "facts", where),
            cells=cells,
            fired=tuple(Fired.read(f, f"{where}.fired") for f in _items(data, "fired", where)),
            decisions={
                name: DecisionTrace.read(name, body, f"{where}.decisions")
                for name, body in decisions.items()
            },
            counterfactuals=tuple(
                Counterfactual.read(c, f"{where}.counterfactuals")
                for c in _items(data, "counterfactuals", where)
            ),
        )

    def cells_of(self, fact: str) -> tuple[str, ...]:
        """The cells a fact came from (none for a decision, or a count of 0)."""
        return tuple(self.cells.get(fact, ()))

    def failed(self, rule: str) -> Leaf | None:
        """The first failing leaf of a rule that did not fire (None if it fired)."""
        for decision in self.decisions.values():
            for miss in decision.not_fired:
                if miss.rule == rule:
                    return miss.failed
        return None


@dataclass(frozen=True)
class AllocationRecord:
    """One recommended investment as the trace line records it."""

    code: str
    status: str
    reason: str
    position: int | None
    cost: float

    @classmethod
    def read(cls, data: Mapping[str, Any], where: str) -> AllocationRecord:
        position = _get(data, "position", where)
        return cls(
            code=_text(data, "code", where),
            status=_text(data, "status", where),
            reason=_text(data, "reason", where),
            position=position if isinstance(position, int) else None,
            cost=_number(data, "cost", where),
        )


@dataclass(frozen=True)
class OverrideRecord:
    """A panel override as the trace line records it (the fields verify compares)."""

    field: str
    target: str | None
    decision: tuple[str, ...]
    decided_by: str

    @classmethod
    def read(cls, data: Mapping[str, Any], where: str) -> OverrideRecord:
        target = _get(data, "target", where)
        return cls(
            field=_text(data, "field", where),
            target=target if isinstance(target, str) else None,
            decision=_texts(data, "decision", where),
            decided_by=_text(data, "decided_by", where),
        )


@dataclass(frozen=True)
class RecommendationRecord:
    """The recommendation a trace line carries beside the engine's trace."""

    outcomes: dict[str, tuple[str, ...]]
    fields: dict[str, tuple[str, ...]]
    allocation: tuple[AllocationRecord, ...]
    overrides: tuple[OverrideRecord, ...]
    # (code, status, by) with the panel's decisions counted; () in a line without one
    plan: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def read(cls, data: Mapping[str, Any], where: str) -> RecommendationRecord:
        outcomes = _mapping(data, "outcomes", where)
        fields = _mapping(data, "fields", where)
        return cls(
            outcomes={name: _texts(outcomes, name, f"{where}.outcomes") for name in outcomes},
            fields={name: _texts(fields, name, f"{where}.fields") for name in fields},
            allocation=tuple(
                AllocationRecord.read(a, f"{where}.allocation")
                for a in _items(data, "allocation", where)
            ),
            overrides=tuple(
                OverrideRecord.read(o, f"{where}.overrides")
                for o in _items(data, "overrides", where)
            ),
            plan=tuple(
                (
                    _text(e, "code", f"{where}.plan"),
                    _text(e, "status", f"{where}.plan"),
                    _text(e, "by", f"{where}.plan"),
                )
                for e in (_items(data, "plan", where) if "plan" in data else ())
            ),
        )


@dataclass(frozen=True)
class TraceLine:
    """One line of trace.jsonl: the fired rules and the recommendation (what verify
    compares); the rest of the line is compared as JSON, on replay."""

    employee_id: str
    fired: tuple[str, ...]
    recommendation: RecommendationRecord

    @classmethod
    def read(cls, data: Mapping[str, Any], where: str = "line") -> TraceLine:
        return cls(
            employee_id=_text(data, "employee_id", where),
            fired=_texts(data, "fired", where),
            recommendation=RecommendationRecord.read(
                _mapping(data, "recommendation", where), f"{where}.recommendation"
            ),
        )
