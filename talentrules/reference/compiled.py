"""A rulebook's conditions compiled once into Python closures (the benchmark runs them for
10,000 people), with each condition's shape kept for explaining why a rule did not fire."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from talentrules.errors import RulebookError
from talentrules.model import Value
from talentrules.reference.values import Json, candidate_values, fits_fact, tidy_number
from talentrules.rulebook import AllOf, Compare, Decision, Expr, Not, Rule, Rulebook
from talentrules.rulefiles import where as place
from talentrules.vocabulary import FactSpec

Truth = bool | None  # None: unknown
Env = dict[str, Any]  # fact -> value, decision -> tuple of outcomes
Check = Callable[[Env], Truth]


def _compare_decision(c: Compare) -> Check:
    """A condition on a decision's resolved outcome(s): never unknown.

    For every policy the outcome is a tuple (one outcome unless ``collect``), so
    ``==`` is "includes", ``!=`` "does not include", ``in`` "includes any of",
    ``not in`` "includes none of" (docs/rules.md).
    """
    name, op, value = c.fact, c.op, c.value
    if op == "known":
        return lambda env: True
    if op == "unknown":
        return lambda env: False
    if op == "==":
        return lambda env: value in env[name]
    if op == "!=":
        return lambda env: value not in env[name]
    if op in ("in", "not in") and isinstance(value, tuple):
        wanted = frozenset(value)
        if op == "in":
            return lambda env: not wanted.isdisjoint(env[name])
        return lambda env: wanted.isdisjoint(env[name])
    raise RulebookError(
        f"{place(c.file, c.line)}: '{c}': a decision can only be compared with ==, !=, in"
    )


def _compare_fact(c: Compare) -> Check:
    """A condition on a fact: unknown when the fact is unknown (except known/unknown)."""
    name, op, value = c.fact, c.op, c.value
    if op == "known":
        return lambda env: env.get(name) is not None
    if op == "unknown":
        return lambda env: env.get(name) is None
    if op in ("in", "not in"):
        if not isinstance(value, tuple):
            raise RulebookError(f"{place(c.file, c.line)}: '{c}': '{op}' needs a list of values")
        wanted = frozenset(value)
        if op == "in":

            def is_in(env: Env) -> Truth:
                v = env.get(name)
                return None if v is None else v in wanted

            return is_in

        def not_in(env: Env) -> Truth:
            v = env.get(name)
            return None if v is None else v not in wanted

        return not_in
    if op == "==":

        def eq(env: Env) -> Truth:
            v = env.get(name)
            return None if v is None else v == value

        return eq
    if op == "!=":

        def ne(env: Env) -> Truth:
            v = env.get(name)
            return None if v is None else v != value

        return ne
    if isinstance(value, tuple) or value is None:
        raise RulebookError(f"{place(c.file, c.line)}: '{c}': '{op}' needs a single value")
    bound: Any = value
    if op == "<":

        def lt(env: Env) -> Truth:
            v = env.get(name)
            return None if v is None else bool(v < bound)

        return lt
    if op == "<=":

        def le(env: Env) -> Truth:
            v = env.get(name)
            return None if v is None else bool(v <= bound)

        return le
    if op == ">":

        def gt(env: Env) -> Truth:
            v = env.get(name)
            return None if v is None else bool(v > bound)

        return gt
    if op == ">=":

        def ge(env: Env) -> Truth:
            v = env.get(name)
            return None if v is None else bool(v >= bound)

        return ge
    raise RulebookError(f"{place(c.file, c.line)}: '{c}': unknown operator '{op}'")


def _all(checks: tuple[Check, ...]) -> Check:
    """Kleene and: false if any part is false, else unknown if any is unknown."""
    if len(checks) == 1:
        return checks[0]

    def check(env: Env) -> Truth:
        unknown = False
        for part in checks:
            result = part(env)
            if result is False:
                return False
            if result is None:
                unknown = True
        return None if unknown else True

    return check


def _any(checks: tuple[Check, ...]) -> Check:
    """Kleene or: true if any part is true, else unknown if any is unknown."""
    if len(checks) == 1:
        return checks[0]

    def check(env: Env) -> Truth:
        unknown = False
        for part in checks:
            result = part(env)
            if result is True:
                return True
            if result is None:
                unknown = True
        return None if unknown else False

    return check


def _not(inner: Check) -> Check:
    def check(env: Env) -> Truth:
        result = inner(env)
        return None if result is None else not result

    return check


# The condition's shape, over leaf indices, for why-not and counterfactuals.
@dataclass(frozen=True)
class LeafShape:
    index: int


@dataclass(frozen=True)
class AllShape:
    parts: tuple[Shape, ...]


@dataclass(frozen=True)
class AnyShape:
    parts: tuple[Shape, ...]


@dataclass(frozen=True)
class NotShape:
    part: Shape


Shape = LeafShape | AllShape | AnyShape | NotShape


@dataclass(slots=True)
class WhyNot:
    """Why a rule did not fire, for one set of values read: its ``not_fired`` entry (the
    first failing leaf, None when no leaf fails) and the single changes that would make
    the rule fire. Shared by every person who gives the rule the same values, so its
    canonical JSON text is kept too, made when first asked for (``explain_text``)."""

    entry: dict[str, Json]
    changes: tuple[dict[str, Json], ...]
    entry_text: str | None = None
    changes_text: str | None = None  # each change's text, comma-joined ("" for none)
    # What a reader made of it, kept with it as the texts are (the brief's audit
    # appendix keeps its words here, with the memo they belong to: ``report.brief``).
    said: Any = None


@dataclass(slots=True)
class FiredEntry:
    """A fired rule's trace entry for one set of values read, with its canonical JSON
    text once asked for (shared like ``WhyNot``)."""

    entry: dict[str, Json]
    text: str | None = None
    said: Any = None  # what a reader made of it, kept with it (as ``WhyNot.said``)


@dataclass(frozen=True)
class CompiledRule:
    """One rule, its condition as a closure, and its leaf conditions in reading order."""

    rule: Rule
    index: int  # position in Rulebook.rules
    check: Check
    leaves: tuple[Compare, ...]
    leaf_checks: tuple[Check, ...]
    negated: tuple[bool, ...]  # per leaf: under an odd number of ``not``
    shape: Shape
    # For explain, worked out once: is the condition a plain list of leaves; each
    # leaf's fixed JSON; which leaves read a fact a counterfactual may change; and
    # per such fact the values worth trying.
    flat: bool
    templates: tuple[dict[str, Json], ...]
    changeable: tuple[bool, ...]
    changeable_any: bool  # any(changeable): else no single change makes it fire
    candidates: dict[str, tuple[Value, ...]]
    decision: Decision
    reads: Callable[[Env], object]  # env -> the values the rule reads (a memo key)
    # explain's memos (see explanation._why_not): by the values read, by the leaves' truths,
    # by those with the values an answer reads, and by the leaves' truths with one fact's
    # value; each bounded, so memory stays flat.
    memo: dict[object, WhyNot]
    fired_memo: dict[object, FiredEntry]
    by_results: dict[tuple[Truth, ...], tuple[int | None, tuple[str, ...]]]
    # by the leaves' truths, the value the failing leaf read and those of the facts
    # worth changing: what a why-not is a function of
    answers: dict[tuple[object, ...], WhyNot]
    changes: dict[tuple[object, ...], dict[str, Json] | None]
    bases: dict[tuple[int, Truth, object], dict[str, Json]]  # (leaf, truth, value) -> JSON


@dataclass(frozen=True)
class CompiledReference:
    """A rulebook ready for the reference evaluator: closures built once."""

    rulebook: Rulebook
    # by level: (decision, its rules in rulebook order)
    levels: tuple[tuple[tuple[Decision, tuple[CompiledRule, ...]], ...], ...]
    rules: dict[str, CompiledRule]
    level_of: dict[str, int]  # decision -> its level
    date_facts: tuple[str, ...]  # the facts that are dates (the trace writes them as text)
    # For explain's inner loop: per decision in level order, its level and, per rule,
    # (id, values read, memo, compiled rule), so as to look up nothing per person.
    plan: tuple[tuple[Decision, int, tuple[_Step, ...]], ...]
    # decision -> its rules a single change could make fire (``changeable_any``), in
    # rulebook order: the only ones that can be near misses or have counterfactuals
    changeable: dict[str, tuple[CompiledRule, ...]]
    read: tuple[str, ...]  # the facts (not decisions) some rule's condition reads, sorted
    reads_of: dict[str, frozenset[str]]  # decision -> the facts and decisions its rules read
    read_set: frozenset[str]  # ``read`` as a set


_Step = tuple[str, Callable[[Env], object], dict[object, WhyNot], CompiledRule]


def _compile_rule(
    rule: Rule,
    index: int,
    decisions: Mapping[str, Decision],
    vocabulary: Mapping[str, FactSpec],
) -> CompiledRule:
    leaves: list[Compare] = []
    leaf_checks: list[Check] = []
    negated: list[bool] = []

    def walk(expr: Expr, neg: bool) -> tuple[Check, Shape]:
        if isinstance(expr, Compare):
            check = _compare_decision(expr) if expr.fact in decisions else _compare_fact(expr)
            leaves.append(expr)
            leaf_checks.append(check)
            negated.append(neg)
            return check, LeafShape(len(leaves) - 1)
        if isinstance(expr, Not):
            inner, node = walk(expr.part, not neg)
            return _not(inner), NotShape(node)
        parts = [walk(part, neg) for part in expr.parts]
        checks = tuple(check for check, _ in parts)
        nodes = tuple(node for _, node in parts)
        if isinstance(expr, AllOf):
            return _all(checks), AllShape(nodes)
        return _any(checks), AnyShape(nodes)

    check, shape = walk(rule.when, False)
    flat = isinstance(shape, LeafShape) or (
        isinstance(shape, AllShape) and all(isinstance(part, LeafShape) for part in shape.parts)
    )
    templates = tuple(
        {"condition": str(leaf), "fact": leaf.fact, "negated": negated[n]}
        for n, leaf in enumerate(leaves)
    )
    changeable = tuple(leaf.fact in vocabulary and leaf.fact not in decisions for leaf in leaves)
    candidates: dict[str, tuple[Value, ...]] = {}
    for n, leaf in enumerate(leaves):
        if changeable[n] and leaf.fact not in candidates:
            on_fact = [other for other in leaves if other.fact == leaf.fact]
            spec = vocabulary[leaf.fact]
            values = [tidy_number(v) for v in candidate_values(spec, on_fact)]
            unique: dict[tuple[str, object], Value] = {}
            for value in values:
                if fits_fact(spec, value):
                    unique.setdefault((type(value).__name__, value), value)
            candidates[leaf.fact] = tuple(unique.values())
    return CompiledRule(
        rule,
        index,
        check,
        tuple(leaves),
        tuple(leaf_checks),
        tuple(negated),
        shape,
        flat,
        templates,
        changeable,
        any(changeable),
        candidates,
        decisions[rule.decision],
        _getter(tuple(dict.fromkeys(leaf.fact for leaf in leaves))),
        {},
        {},
        {},
        {},
        {},
        {},
    )


def _getter(names: tuple[str, ...]) -> Callable[[Env], object]:
    """env -> the values of ``names``, fast (raises KeyError for a name env lacks)."""
    if not names:
        return lambda env: ()
    return operator.itemgetter(*names)


_COMPILED: dict[int, tuple[Rulebook, CompiledReference]] = {}


def compile_rulebook(rulebook: Rulebook) -> CompiledReference:
    """Compile every rule's condition into closures, once per rulebook (cached)."""
    cached = _COMPILED.get(id(rulebook))
    if cached is not None and cached[0] is rulebook:
        return cached[1]
    by_decision: dict[str, list[CompiledRule]] = {name: [] for name in rulebook.decisions}
    rules: dict[str, CompiledRule] = {}
    for index, rule in enumerate(rulebook.rules):
        if rule.decision not in rulebook.decisions:
            raise RulebookError(
                f"{place(rule.file, rule.line)}: rule '{rule.id}' concludes unknown decision "
                f"'{rule.decision}'"
            )
        compiled_rule = _compile_rule(rule, index, rulebook.decisions, rulebook.vocabulary)
        by_decision[rule.decision].append(compiled_rule)
        rules[rule.id] = compiled_rule
    levels = tuple(
        tuple((rulebook.decisions[name], tuple(by_decision[name])) for name in level)
        for level in rulebook.levels
    )
    level_of = {name: n for n, level in enumerate(rulebook.levels) for name in level}
    missing = set(rulebook.decisions) - set(level_of)
    if missing:
        raise RulebookError(
            f"{rulebook.source}: decisions missing from the levels: {', '.join(sorted(missing))}"
        )
    date_facts = tuple(name for name, spec in rulebook.vocabulary.items() if spec.type == "date")
    plan = tuple(
        (
            decision,
            level_of[decision.name],
            tuple((cr.rule.id, cr.reads, cr.memo, cr) for cr in decision_rules),
        )
        for level in levels
        for decision, decision_rules in level
    )
    changeable = {
        name: tuple(cr for cr in by_decision[name] if cr.changeable_any)
        for name in rulebook.decisions
    }
    read = sorted(
        {leaf.fact for cr in rules.values() for leaf in cr.leaves} - set(rulebook.decisions)
    )
    reads_of = {
        name: frozenset(leaf.fact for cr in by_decision[name] for leaf in cr.leaves)
        for name in rulebook.decisions
    }
    compiled = CompiledReference(
        rulebook,
        levels,
        rules,
        level_of,
        date_facts,
        plan,
        changeable,
        tuple(read),
        reads_of,
        frozenset(read),
    )
    if len(_COMPILED) >= 16:  # a handful of rulebooks per process; never grow unbounded
        _COMPILED.clear()
    _COMPILED[id(rulebook)] = (rulebook, compiled)
    return compiled
