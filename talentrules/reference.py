"""The pure-Python reference evaluator: the rulebook's meaning, stated plainly.

It evaluates a compiled Rulebook for one person exactly as docs/rules.md says:
decisions level by level, each rule's condition in Kleene three-valued logic (a
comparison that reads an unknown fact is unknown; a rule fires only when its
whole condition is true), hit policies by ``rulebook.resolve``. The durable_rules
engine must agree with it for every person (a test cross-checks them), and both
use ``explain`` for the per-person trace: every fact with its cells, the rules
that fired with the values they compared, why the others did not fire, and the
single changes that would have made them fire (docs/trace.md).

Each rule's condition is compiled once per rulebook into Python closures
(``compile_rulebook``, cached), because the benchmark runs it for 10,000 people.
``explain`` runs for every person too and costs more than evaluating: what it says
about a rule depends only on the values the rule reads, so it remembers that per
rule (bounded memos, shared JSON pieces that every trace gets fresh copies of).
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from talentrules.errors import RulebookError
from talentrules.facts import PersonFacts, is_whole
from talentrules.model import Value
from talentrules.rulebook import (
    AllOf,
    Compare,
    Decision,
    Evaluation,
    Expr,
    Not,
    Rule,
    Rulebook,
    resolve,
)
from talentrules.rulefiles import where as place
from talentrules.vocabulary import FactSpec

TRACE_VERSION = 2

Truth = bool | None  # None: unknown
Env = dict[str, Any]  # fact -> value, decision -> tuple of outcomes
Check = Callable[[Env], Truth]
Json = Any


# --- Compiling conditions into closures -------------------------------------------------


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
class _Leaf:
    index: int


@dataclass(frozen=True)
class _All:
    parts: tuple[_Node, ...]


@dataclass(frozen=True)
class _Any:
    parts: tuple[_Node, ...]


@dataclass(frozen=True)
class _Not:
    part: _Node


_Node = _Leaf | _All | _Any | _Not

# Why a rule did not fire, for one set of values read: its ``not_fired`` entry (the
# first failing leaf, None when no leaf fails) and the single changes that would make
# the rule fire. Shared by every person who gives the rule the same values.
_WhyNot = tuple[dict[str, Json], tuple[dict[str, Json], ...]]


@dataclass(frozen=True)
class CompiledRule:
    """One rule, its condition as a closure, and its leaf conditions in reading order."""

    rule: Rule
    index: int  # position in Rulebook.rules
    check: Check
    leaves: tuple[Compare, ...]
    leaf_checks: tuple[Check, ...]
    negated: tuple[bool, ...]  # per leaf: under an odd number of ``not``
    shape: _Node
    # For explain, worked out once: is the condition a plain list of leaves; each
    # leaf's fixed JSON; which leaves read a fact a counterfactual may change; and
    # per such fact the values worth trying.
    flat: bool
    templates: tuple[dict[str, Json], ...]
    changeable: tuple[bool, ...]
    candidates: dict[str, tuple[Value, ...]]
    decision: Decision
    reads: Callable[[Env], object]  # env -> the values the rule reads (a memo key)
    # explain's memos (see _why_not): by the values read, by the leaves' truths, and
    # by the leaves' truths with one fact's value; each bounded, so memory stays flat.
    memo: dict[object, _WhyNot]
    fired_memo: dict[object, dict[str, Json]]
    by_results: dict[tuple[Truth, ...], tuple[int | None, tuple[str, ...]]]
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


_Step = tuple[str, Callable[[Env], object], dict[object, _WhyNot], CompiledRule]


def _compile_rule(
    rule: Rule,
    index: int,
    decisions: Mapping[str, Decision],
    vocabulary: Mapping[str, FactSpec],
) -> CompiledRule:
    leaves: list[Compare] = []
    leaf_checks: list[Check] = []
    negated: list[bool] = []

    def walk(expr: Expr, neg: bool) -> tuple[Check, _Node]:
        if isinstance(expr, Compare):
            check = _compare_decision(expr) if expr.fact in decisions else _compare_fact(expr)
            leaves.append(expr)
            leaf_checks.append(check)
            negated.append(neg)
            return check, _Leaf(len(leaves) - 1)
        if isinstance(expr, Not):
            inner, node = walk(expr.part, not neg)
            return _not(inner), _Not(node)
        parts = [walk(part, neg) for part in expr.parts]
        checks = tuple(check for check, _ in parts)
        nodes = tuple(node for _, node in parts)
        if isinstance(expr, AllOf):
            return _all(checks), _All(nodes)
        return _any(checks), _Any(nodes)

    check, shape = walk(rule.when, False)
    flat = isinstance(shape, _Leaf) or (
        isinstance(shape, _All) and all(isinstance(part, _Leaf) for part in shape.parts)
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
            values = [_tidy(v) for v in _candidates(spec, on_fact)]
            unique: dict[tuple[str, object], Value] = {}
            for value in values:
                if _fits(spec, value):
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
        candidates,
        decisions[rule.decision],
        _getter(tuple(dict.fromkeys(leaf.fact for leaf in leaves))),
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
    compiled = CompiledReference(rulebook, levels, rules, level_of, date_facts, plan)
    if len(_COMPILED) >= 16:  # a handful of rulebooks per process; never grow unbounded
        _COMPILED.clear()
    _COMPILED[id(rulebook)] = (rulebook, compiled)
    return compiled


# --- Evaluating -------------------------------------------------------------------------


def evaluate(rulebook: Rulebook, person: PersonFacts) -> Evaluation:
    """Evaluate every decision for one person, level by level.

    Raises RuleConflictError when two rules of a ``unique`` decision fire.
    """
    compiled = compile_rulebook(rulebook)
    env: Env = dict(person.values)
    outcomes: dict[str, tuple[str, ...]] = {}
    fired: list[str] = []
    overruled: dict[str, tuple[str, ...]] = {}
    defaulted: list[str] = []
    for level in compiled.levels:
        level_fired: list[CompiledRule] = []
        for decision, rules in level:
            hits = [r for r in rules if r.check(env) is True]
            chosen, lost = resolve(decision, [r.rule for r in hits], person.employee_id)
            env[decision.name] = chosen
            outcomes[decision.name] = chosen
            if lost:
                overruled[decision.name] = lost
            if not hits:
                defaulted.append(decision.name)
            level_fired.extend(hits)
        level_fired.sort(key=lambda r: r.index)
        fired.extend(r.rule.id for r in level_fired)
    return Evaluation(person.employee_id, outcomes, tuple(fired), overruled, tuple(defaulted))


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
    outcomes: dict[str, tuple[str, ...]] = {}
    fired: list[str] = []
    overruled: dict[str, tuple[str, ...]] = {}
    defaulted: list[str] = []
    for level in compiled.levels:
        level_fired: list[CompiledRule] = []
        for decision, rules in level:
            hits = [r for r in rules if r.rule.id in held_ids]
            chosen, lost = resolve(decision, [r.rule for r in hits], employee_id)
            outcomes[decision.name] = chosen
            if lost:
                overruled[decision.name] = lost
            if not hits:
                defaulted.append(decision.name)
            level_fired.extend(hits)
        level_fired.sort(key=lambda r: r.index)
        fired.extend(r.rule.id for r in level_fired)
    return Evaluation(employee_id, outcomes, tuple(fired), overruled, tuple(defaulted))


# --- Explaining -------------------------------------------------------------------------


def _json(value: object) -> Json:
    """A fact value or literal as JSON data: dates as YYYY-MM-DD, sequences as tuples."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return tuple(_json(v) for v in value)
    return value


def _shown(value: object) -> str:
    """A value as a panel reads it: unknown for blank, lists comma-separated."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return ", ".join(_shown(v) for v in value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _value_of(node: _Node, results: Sequence[Truth]) -> Truth:
    """A condition's truth from its leaves' truths (Kleene)."""
    if isinstance(node, _Leaf):
        return results[node.index]
    if isinstance(node, _Not):
        inner = _value_of(node.part, results)
        return None if inner is None else not inner
    values = [_value_of(part, results) for part in node.parts]
    if isinstance(node, _All):
        if False in values:
            return False
        return None if None in values else True
    if True in values:
        return True
    return None if None in values else False


def _blame(node: _Node, want: bool, results: Sequence[Truth]) -> int | None:
    """The first leaf, in reading order, that keeps ``node`` from being ``want``."""
    if isinstance(node, _Leaf):
        return None if results[node.index] is want else node.index
    if isinstance(node, _Not):
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
    node: _Node, want: bool, results: Sequence[Truth], leaves: tuple[Compare, ...], fixed: set[str]
) -> set[str] | None:
    """Facts one change of which might make ``node`` ``want``; None: already is.

    An over-approximation (every candidate is then checked by evaluating the rule),
    used to skip rules that need two or more changes.
    """
    if isinstance(node, _Leaf):
        if results[node.index] is want:
            return None
        fact = leaves[node.index].fact
        return set() if fact in fixed else {fact}
    if isinstance(node, _Not):
        return _fixable(node.part, not want, results, leaves, fixed)
    subs = [_fixable(part, want, results, leaves, fixed) for part in node.parts]
    every_part = isinstance(node, _All) == want  # all-true / any-false: every part must hold
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


def _candidates(spec: FactSpec, leaves: list[Compare]) -> list[Value]:
    """Values of one fact near the bounds of these leaves, on both sides of each."""
    out: list[Value] = []
    kind = spec.type
    whole = kind == "number" and is_whole(spec)
    for leaf in leaves:
        op, k = leaf.op, leaf.value
        if op in ("known", "unknown"):
            out.append(None)
            if kind == "enum":
                out += list(spec.values)
            elif kind == "boolean":
                out += [True, False]
            elif kind == "number":
                out.append(spec.minimum if spec.minimum is not None else 0)
            continue
        if kind == "enum":
            out += list(spec.values)
            continue
        if kind == "boolean":
            out += [True, False]
            continue
        bounds = k if isinstance(k, tuple) else (k,)
        for b in bounds:
            if kind == "date" and isinstance(b, dt.date):
                day = dt.timedelta(days=1)
                out += [b, b + day, b - day]
            elif kind == "text" and isinstance(b, str):
                out.append(b)
            elif kind == "number" and isinstance(b, int | float) and not isinstance(b, bool):
                if whole and op not in ("==", "!=", "in", "not in"):
                    out += [math.ceil(b), math.ceil(b) - 1, math.floor(b), math.floor(b) + 1]
                else:
                    step = 1 if whole else 0.1
                    out += [b, b + step, b - step]
    return out


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
        return f"{op} ({_shown(leaf.value)})"
    return f"{op} {_shown(leaf.value)}"


def _fits(spec: FactSpec, value: Value) -> bool:
    if value is None or spec.type != "number" or isinstance(value, bool):
        return True
    if not isinstance(value, int | float):
        return False
    if is_whole(spec) and value != int(value):
        return False
    if spec.minimum is not None and value < spec.minimum:
        return False
    return spec.maximum is None or value <= spec.maximum


def _distance(value: Value, current: Value) -> float:
    if current is None or value is None:
        return 0.0
    if isinstance(value, int | float) and isinstance(current, int | float):
        return abs(float(value) - float(current))
    if isinstance(value, dt.date) and isinstance(current, dt.date):
        return abs((value - current).days)
    return 0.0


def _tidy(value: Value) -> Value:
    """A candidate number as the fact would hold it: int when whole, rounded otherwise."""
    if isinstance(value, float) and not isinstance(value, bool):
        value = round(value, 6)
        return int(value) if value.is_integer() else value
    return value


def _change(
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
    candidates = sorted(cr.candidates[fact], key=lambda v: _distance(v, current))
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


def _first_failing(cr: CompiledRule, results: Sequence[Truth]) -> int | None:
    """The first leaf, in reading order, that keeps the rule from firing."""
    if cr.flat:
        return next((n for n, result in enumerate(results) if result is not True), None)
    return _blame(cr.shape, True, results)


def _one_change_facts(cr: CompiledRule, results: Sequence[Truth]) -> list[str]:
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


# Per rule, so memory stays flat however many people are explained.
_MEMO_LIMIT = 1024  # by the values a rule reads
_RESULTS_LIMIT = 1024  # by its leaves' truths (tiny entries; most rules have a few dozen)
_CHANGES_LIMIT = 512  # by its leaves' truths and one fact's value
_BASES_LIMIT = 1024  # a leaf's JSON by its truth and value

# A memo key for a person who lacks a fact a rule reads: never stored.
_UNSHARED = object()


def _why_not(cr: CompiledRule, env: Env, key: object) -> _WhyNot:
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
        shape = (_first_failing(cr, results), tuple(_one_change_facts(cr, results)))
        if len(cr.by_results) < _RESULTS_LIMIT:
            cr.by_results[results] = shape
    blamed, facts = shape
    failed = None if blamed is None else _leaf(cr, blamed, results[blamed], env)
    entry: dict[str, Json] = {"rule": cr.rule.id, "then": cr.rule.then, "failed": failed}
    found = [_change(cr, f, env, results) for f in facts]
    answer = (entry, tuple(change for change in found if change is not None))
    if key is not _UNSHARED and len(cr.memo) < _MEMO_LIMIT:
        cr.memo[key] = answer
    return answer


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
        "current": _json(current),
        "needed": _json(needed),
        "condition": f"{fact} {text}",
        "changes_outcome": True,  # always, in versions 1 and 2: no other change is listed
        "sentence": f"{decision.name} {verb} {rule.then} {change} (now {_shown(current)})",
    }


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
        value, shown = _json(actual), _shown(actual)
    leaf = cr.templates[n].copy()
    leaf["actual"] = value
    leaf["shown"] = shown
    leaf["result"] = result
    if len(cr.bases) < _BASES_LIMIT:
        cr.bases[key] = leaf
    return leaf


def _fired_entry(cr: CompiledRule, env: Env, level: int) -> dict[str, Json]:
    """A fired rule's entry with every leaf and the value it read, remembered by the
    values the rule reads."""
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
