"""Reasoning over conditions: rules that can never fire, and rules of one decision that
can fire together (with a witness: fact values for which both do).

Each fact is compared only with literals, so the values that matter for it are
the literals themselves, one value strictly between each two neighbours, one
beyond each end (within the declared range) and unknown: every region the
comparisons can tell apart has a representative. Searching those candidates is
complete for real numbers, but treats a decision's outcome as free (not derived
from the facts that decide it) and ignores that counts are whole numbers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterable, Mapping

from talentrules.rulebook.logic import and3, evaluate, expr_facts, holds, or3
from talentrules.rulebook.model import AllOf, Compare, Decision, Expr, Not, Rule
from talentrules.rulefiles import Literal_, Report, show
from talentrules.vocabulary import FactSpec

# Search budget per pair of rules (values tried), then random sampling (fixed seed).
_SEARCH_STEPS = 50_000

_SAMPLES = 2_000

_Value = object

_UNKNOWN_SET: frozenset[bool | None] = frozenset({True, False, None})


def _literals(compares: Iterable[Compare]) -> dict[str, list[Literal_]]:
    found: dict[str, list[Literal_]] = {}
    for compare in compares:
        values = compare.value if isinstance(compare.value, tuple) else (compare.value,)
        bucket = found.setdefault(compare.fact, [])
        bucket.extend(v for v in values if v is not None and v not in bucket)
    return found


def _between(low: float, high: float, whole: bool) -> float | None:
    if float(low).is_integer() and float(high).is_integer() and high - low >= 2:
        return int(low) + 1
    return None if whole else (low + high) / 2


def _points(
    literals: Iterable[float], low: float | None, high: float | None, whole: bool
) -> list[float]:
    """Representatives of every interval the literals cut the range into."""
    points = sorted(
        {
            p
            for p in [*literals, *(b for b in (low, high) if b is not None)]
            if (low is None or p >= low) and (high is None or p <= high)
        }
    )
    if not points:
        points = [low if low is not None else high if high is not None else 0]
    found = list(points)
    for a, b in zip(points, points[1:], strict=False):
        middle = _between(a, b, whole)
        if middle is not None:
            found.append(middle)
    if low is None:
        found.append(points[0] - 1)
    if high is None:
        found.append(points[-1] + 1)
    return sorted(set(found))


def _candidates(
    fact: str,
    literals: list[Literal_],
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
) -> list[_Value]:
    """The values of ``fact`` worth trying (see the comment above)."""
    decision = decisions.get(fact)
    if decision is not None:
        if decision.policy != "collect":
            return [(o,) for o in decision.outcomes]
        mentioned = [o for o in decision.outcomes if o in literals]
        others = [o for o in decision.outcomes if o not in mentioned]
        sets: list[_Value] = []
        if len(mentioned) <= 6:
            for size in range(1, len(mentioned) + 1):
                sets.extend(itertools.combinations(mentioned, size))
        else:
            sets.extend((o,) for o in mentioned)
            sets.append(tuple(mentioned))
        if others:
            sets.append((decision.default if decision.default in others else others[0],))
        return sets
    spec = vocabulary[fact]
    values: list[_Value]
    if spec.type == "number":
        numbers = [v for v in literals if isinstance(v, int | float) and not isinstance(v, bool)]
        values = list(_points(numbers, spec.minimum, spec.maximum, whole=False))
    elif spec.type == "date":
        days = [v.toordinal() for v in literals if isinstance(v, dt.date)]
        values = [dt.date.fromordinal(int(p)) for p in _points(days, None, None, whole=True)]
    elif spec.type == "enum":
        values = list(spec.values)
    elif spec.type == "boolean":
        values = [True, False]
    else:
        other = "(other text)"
        while other in literals:
            other += "'"
        values = [*(str(v) for v in literals), other]
    return [*values, None]


def _conjuncts(expr: Expr) -> list[Compare]:
    """The comparisons that must all hold for ``expr`` to hold (its top-level ``all``)."""
    if isinstance(expr, Compare):
        return [expr]
    if isinstance(expr, AllOf):
        return [c for part in expr.parts for c in _conjuncts(part)]
    return []


def _contradiction(
    compares: list[Compare],
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
) -> list[Compare] | None:
    """Comparisons on one fact, among ``compares``, that no value satisfies together."""
    by_fact: dict[str, list[Compare]] = {}
    for compare in compares:
        by_fact.setdefault(compare.fact, []).append(compare)
    for fact, group in by_fact.items():
        literals = _literals(group).get(fact, [])
        candidates = _candidates(fact, literals, vocabulary, decisions)
        if not any(all(holds(c, value) is True for c in group) for value in candidates):
            return group
    return None


def check_never_fire(
    rules: list[Rule],
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    report: Report,
) -> None:
    for rule in rules:
        group = _contradiction(_conjuncts(rule.when), vocabulary, decisions)
        if group is None:
            continue
        shown = " and ".join(f"'{c}'" for c in group)
        why = "cannot all hold" if len(group) > 1 else "can never hold"
        spec = vocabulary.get(group[0].fact)
        ranged = spec is not None and (spec.minimum is not None or spec.maximum is not None)
        if spec is not None and ranged and len(group) == 1:
            why += f" (range [{show(spec.minimum)}, {show(spec.maximum)}])"
        report.error(rule.file, group[0].line, f"can never fire: {shown} {why}", rule.id)


def _possible(expr: Expr, partial: Mapping[str, _Value]) -> frozenset[bool | None]:
    """Every value ``expr`` may still take when only the facts in ``partial`` are fixed."""
    if isinstance(expr, Compare):
        if expr.fact not in partial:
            return _UNKNOWN_SET
        return frozenset({holds(expr, partial[expr.fact])})
    if isinstance(expr, Not):
        return frozenset(None if v is None else not v for v in _possible(expr.part, partial))
    combine = and3 if isinstance(expr, AllOf) else or3
    result: frozenset[bool | None] = frozenset()
    for part in expr.parts:
        values = _possible(part, partial)
        if not result:
            result = values
        else:
            result = frozenset(combine((a, b)) for a in result for b in values)
    return result


def _witness(
    first: Rule,
    second: Rule,
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
) -> dict[str, _Value] | None:
    """Fact values for which both rules fire, or None if none was found."""
    merged = _conjuncts(first.when) + _conjuncts(second.when)
    if _contradiction(merged, vocabulary, decisions) is not None:
        return None  # the cheap, common case: they exclude each other on one fact
    compares = expr_facts(first.when) + expr_facts(second.when)
    literals = _literals(compares)
    candidates = {
        fact: _candidates(fact, literals[fact], vocabulary, decisions) for fact in literals
    }
    partial: dict[str, _Value] = {}
    budget = _SEARCH_STEPS

    def viable() -> bool:
        return True in _possible(first.when, partial) and True in _possible(second.when, partial)

    def search(domains: dict[str, list[_Value]]) -> bool:
        """Backtracking with forward checking; the fact with fewest viable values first."""
        nonlocal budget
        if not domains:
            return True  # every fact assigned, each assignment checked viable
        narrowed: dict[str, list[_Value]] = {}
        for fact, values in domains.items():
            kept = []
            for value in values:
                budget -= 1
                partial[fact] = value
                if viable():
                    kept.append(value)
                del partial[fact]
            if not kept or budget < 0:
                return False
            narrowed[fact] = kept
        fact = min(narrowed, key=lambda f: (len(narrowed[f]), f))
        rest = {f: values for f, values in narrowed.items() if f != fact}
        for value in narrowed[fact]:
            partial[fact] = value
            if search(rest):
                return True
            del partial[fact]
        return False

    if search(dict(candidates)):
        return _relevant(first, second, dict(partial), candidates)
    if budget >= 0:
        return None  # searched every candidate: no witness exists among them
    chooser = random.Random(0)
    for _ in range(_SAMPLES):
        sample = {fact: chooser.choice(values) for fact, values in candidates.items()}
        if evaluate(first.when, sample) is True and evaluate(second.when, sample) is True:
            return sample
    return None


def _relevant(
    first: Rule,
    second: Rule,
    witness: dict[str, _Value],
    candidates: Mapping[str, list[_Value]],
) -> dict[str, _Value]:
    """``witness`` without the facts whose value does not matter (both fire for any)."""
    kept = dict(witness)
    for fact in sorted(witness):
        trial = dict(kept)
        if all(
            evaluate(first.when, trial | {fact: value}) is True
            and evaluate(second.when, trial | {fact: value}) is True
            for value in candidates[fact]
        ):
            del kept[fact]
    return kept


def _show_witness(witness: Mapping[str, _Value]) -> str:
    def one(value: _Value) -> str:
        if value is None:
            return "unknown"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return " + ".join(str(v) for v in value)
        return show(value)

    return "{" + ", ".join(f"{fact}: {one(v)}" for fact, v in sorted(witness.items())) + "}"


def check_overlaps(
    rules: list[Rule],
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    report: Report,
) -> None:
    """Two rules of a ``unique`` decision, or of one priority under ``priority``, that can
    both fire."""
    by_decision: dict[str, list[Rule]] = {}
    for rule in rules:
        by_decision.setdefault(rule.decision, []).append(rule)
    for name, members in by_decision.items():
        policy = decisions[name].policy
        if policy == "collect":
            continue
        for i, second in enumerate(members):
            for first in members[:i]:
                if policy == "priority" and first.priority != second.priority:
                    continue
                witness = _witness(first, second, vocabulary, decisions)
                if policy == "unique" and witness is not None:
                    report.error(
                        second.file,
                        second.line,
                        f"overlaps rule {first.id} in unique decision '{name}': both fire for "
                        f"{_show_witness(witness)}",
                        second.id,
                    )
                elif policy == "priority" and witness is not None:
                    report.error(
                        second.file,
                        second.line,
                        f"shares priority {second.priority} with rule {first.id} in decision "
                        f"'{name}' and both fire for {_show_witness(witness)}; give them "
                        "different priorities",
                        second.id,
                    )
                elif policy == "priority":
                    report.warning(
                        second.file,
                        second.line,
                        f"shares priority {second.priority} with rule {first.id} in decision "
                        f"'{name}'; they cannot both fire, but distinct priorities say which "
                        "should win",
                        second.id,
                    )
