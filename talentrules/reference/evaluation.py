"""Evaluating one person: decisions level by level, each rule's compiled condition in
Kleene three-valued logic, each decision's hit policy (``rulebook.resolve``)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import NamedTuple

from talentrules.errors import RulebookError
from talentrules.facts import PersonFacts
from talentrules.model import Value
from talentrules.reference.compiled import (
    Check,
    CompiledReference,
    CompiledRule,
    Env,
    compile_rulebook,
)
from talentrules.rulebook import Decision, Evaluation, Rule, Rulebook, resolve


def evaluate(rulebook: Rulebook, person: PersonFacts) -> Evaluation:
    """Evaluate every decision for one person, level by level.

    Raises RuleConflictError when two rules of a ``unique`` decision fire.
    """
    compiled = compile_rulebook(rulebook)
    return _resolve(compiled, person.employee_id, dict(person.values), set())


class Reevaluation:
    """One person's evaluation, asked again and again with a few facts changed: what a
    brief's what-if search does some thirty times a person.

    Only ``decisions`` and the decisions they read are evaluated (all when none is
    named), and the person's own truth of each of their rules is worked out once (when
    first needed): a change checks again only the rules that read a fact it moved (or
    a decision that moved), and resolves only their decisions: a ``priority``
    decision's outcome is the first of its rules that holds, highest first, and the
    others' by their rules' truths, remembered for the run (``_resolve``). ``now`` and
    ``outcomes`` hold those decisions' outcomes, equal to ``evaluate``'s."""

    def __init__(
        self,
        rulebook: Rulebook,
        person: PersonFacts,
        decisions: Collection[str] = (),
        evaluation: Evaluation | None = None,
    ) -> None:
        compiled = compile_rulebook(rulebook)
        self.employee_id = person.employee_id
        self.read = compiled.read_set
        self.env: Env = dict(person.values)
        self.now: dict[str, tuple[str, ...]] = {}
        # Per decision needed, in level order: the decision, what its rules read, its
        # rules each with what it reads, and for a ``priority`` decision its rules by
        # rank (``_ranked``).
        needed = _needed(compiled, decisions)
        self.steps, self._readers, self._verdicts, self._places, self._resolved = needed[:5]
        self._by_truths, at_of = needed[5], needed[6]
        # Per step, whether each rule holds for the person as they are: worked out
        # when a change first reaches the decision (self.env is never changed after
        # this loop, so the truths are the same whenever they are worked out).
        self.truths: list[list[bool] | None] = [None] * len(self.steps)
        # Per ``priority`` step, its rules to check by what moved, for the person's
        # truths (``_plan``): the run's, found when a change first reaches it.
        self._plans: list[dict[frozenset[str], _Plan] | None] = [None] * len(self.steps)
        # The person's evaluation, when given, says both: its outcomes, and the rules
        # that held (``fired`` holds every rule whose condition is true).
        self._given = evaluation is not None
        # Per step, the places of its rules that hold (from the evaluation, when
        # given: a few rules of the whole rulebook hold for a person, so they are
        # found from those rather than from each step's rules; else when needed).
        self._held_at: list[tuple[int, ...] | None] = [None] * len(self.steps)
        if evaluation is not None:
            held_at: list[list[int]] = [[] for _ in self.steps]
            for rule_id in evaluation.fired:
                place = at_of.get(rule_id)
                if place is not None:
                    held_at[place[0]].append(place[1])
            self._held_at = [tuple(sorted(ats)) for ats in held_at]
        env, now = self.env, self.now
        if evaluation is not None:
            outcomes = evaluation.outcomes
            for step in self.steps:
                name = step[0].name
                env[name] = now[name] = outcomes[name]
        else:
            for n, step in enumerate(self.steps):
                name = step[0].name
                env[name] = now[name] = self._own_outcome(n)

    def _own_outcome(self, step: int) -> tuple[str, ...]:
        """The outcome of ``step``'s decision for the person as they are (self.env holds
        the decisions before it)."""
        return self._resolve(step, self._truths(step))

    def _truths(self, step: int) -> list[bool]:
        """Whether each rule of ``step`` holds for the person as they are."""
        found = self.truths[step]
        if found is None:
            rules = self.steps[step][2]
            held_at = self._held_at[step]
            if held_at is not None:
                found = [False] * len(rules)
                for at in held_at:
                    found[at] = True
            else:
                env = self.env
                found = [cr.check(env) is True for cr, _ in rules]
            self.truths[step] = found
        return found

    def _resolve(self, step: int, truths: list[bool]) -> tuple[str, ...]:
        """The outcome of ``step``'s decision when its rules hold as ``truths`` say:
        the hit policy's, remembered for the run by the truths (all it reads but the
        person's id, which only a conflict's message names). A decision's values read
        are often new (a count, a date), its rules' truths seldom."""
        found = self._resolved[step]
        pattern = tuple(truths)
        chosen = found.get(pattern)
        if chosen is None:
            decision, _, rules, _ = self.steps[step]
            hits = [cr.rule for (cr, _), holds in zip(rules, truths, strict=True) if holds]
            chosen = resolve(decision, hits, self.employee_id)[0]
            if len(found) < _RESOLVED_LIMIT:
                found[pattern] = chosen
        return chosen

    def beside(self, given: Mapping[str, Value]) -> Beside:
        """The change ``given``, to ask what more facts set beside it do."""
        return Beside(self, given)

    def moved(self, changed: Mapping[str, Value]) -> set[str]:
        """The facts of ``changed`` that rules read and whose value is not the person's
        (an equal value of the same type is the same to every rule)."""
        read, get = self.read, self.env.get
        return {
            name
            for name, value in changed.items()
            if name in read
            and ((old := get(name, _ABSENT)) != value or type(old) is not type(value))
        }

    def outcomes_in(self, env: Env, moved: set[str]) -> Mapping[str, tuple[str, ...]]:
        """``outcomes`` for a change already set in ``env`` (a copy of the person's
        with the change's facts set), ``moved`` those that moved (``moved``): the
        decisions that move are set in ``env`` and put back after."""
        if not moved:
            return self.now
        try:
            return self._outcomes(env, set(moved))
        finally:
            env.update(self.now)

    def outcomes(self, changed: Mapping[str, Value]) -> Mapping[str, tuple[str, ...]]:
        """The outcomes with the facts ``changed`` set (those no rule reads are ignored)."""
        env, now, get = self.env, self.now, self.env.get
        moved = self.moved(changed)
        if not moved:
            return now
        if not self._given:  # the person's truths, when worked out, read self.env
            return self._outcomes({**env, **changed}, moved)
        # The facts that moved set in the env itself and put back after: a copy costs
        # more. (The others keep a value equal to theirs, of the same type: the same
        # to every rule.)
        kept = [(name, get(name, _ABSENT)) for name in moved]
        try:
            for name in moved:
                env[name] = changed[name]
            return self._outcomes(env, moved)
        finally:
            for name, was in kept:
                if was is _ABSENT:
                    del env[name]
                else:
                    env[name] = was
            env.update(now)

    def _outcomes(self, env: Env, moved: set[str]) -> Mapping[str, tuple[str, ...]]:
        """``outcomes`` with ``env`` holding the facts changed, ``moved`` those that
        moved (each decision that moves is set in ``env`` and added to ``moved``)."""
        now = self.now
        outcomes: dict[str, tuple[str, ...]] | None = None  # a copy of now, once one moves
        for n, (decision, reads, rules, ranked) in enumerate(self.steps):
            if moved.isdisjoint(reads):
                continue
            if ranked is not None:
                # Priority: the first rule that holds, highest first, wins; of the
                # rules before the first that reads nothing moved and holds, only
                # those reading what moved are checked (``_plan``). The plan reads
                # only what moved of what the rules read: other facts moved (another
                # signal's) find the same plan.
                plans = self._plans[n]
                if plans is None:
                    plans = self._plans[n] = self._plans_of(n)
                key = reads.intersection(moved)
                plan = plans.get(key)
                if plan is None:
                    plan = plans[key] = _plan(ranked, rules, self._truths(n), key)
                chosen = plan[0]
                for check, then in plan[1]:
                    if check(env) is True:
                        chosen = then
                        break
            else:
                # The person's truths, but for the rules reading what moved: checked.
                truths = self._truths(n).copy()
                for at in self._again(n, reads.intersection(moved)):
                    truths[at] = rules[at][0].check(env) is True
                chosen = self._resolve(n, truths)
            if chosen != now[decision.name]:
                if outcomes is None:
                    outcomes = dict(now)
                env[decision.name] = outcomes[decision.name] = chosen
                moved.add(decision.name)
        return now if outcomes is None else outcomes

    def _again(self, step: int, moved: frozenset[str]) -> tuple[int, ...]:
        """The places of ``step``'s rules that read one of ``moved`` (of what they
        read), in order: worked out once a run for each."""
        places = self._places[step]
        found = places.get(moved)
        if found is None:
            rules = self.steps[step][2]
            found = tuple(
                [at for at, (_, reads) in enumerate(rules) if not moved.isdisjoint(reads)]
            )
            if len(places) >= _PLANS_LIMIT:
                places.clear()
            places[moved] = found
        return found

    def _plans_of(self, step: int) -> dict[frozenset[str], _Plan]:
        """The run's plans of ``step`` for the person's truths of its rules: every
        person with the same truths shares them (a plan reads nothing else)."""
        pattern = self._held_at[step]
        if pattern is None:
            pattern = self._held_at[step] = tuple(
                [at for at, holds in enumerate(self._truths(step)) if holds]
            )
        by_truths = self._by_truths[step]
        plans = by_truths.get(pattern)
        if plans is None:
            if len(by_truths) >= _PLANS_LIMIT:
                by_truths.clear()
            plans = by_truths[pattern] = {}
        elif len(plans) >= _PLANS_LIMIT:
            plans.clear()
        return plans


def _plan(
    ranked: _Ranked,
    rules: list[tuple[CompiledRule, frozenset[str]]],
    truths: list[bool],
    moved: frozenset[str],
) -> _Plan:
    """A ``priority`` decision's outcome when ``moved`` moved, as a plan: the rules to
    check in turn (those reading what moved, highest first, before the first rule
    that reads nothing moved and holds), each with its outcome, and the outcome when
    none holds (that rule's, else the default). Exact: a rule reading nothing moved
    keeps the person's truth, and the first rule that holds wins."""
    checks: list[tuple[Check, tuple[str, ...]]] = []
    for at, then in ranked[1]:
        rule, rule_reads = rules[at]
        if not moved.isdisjoint(rule_reads):
            checks.append((rule.check, then))
        elif truths[at]:
            return then, tuple(checks)
    return ranked[0], tuple(checks)


class Beside:
    """A change (``given``), for the question whether more facts set beside it leave
    its outcomes as they are (``adds_nothing``): asked for many, with one env."""

    def __init__(self, again: Reevaluation, given: Mapping[str, Value]) -> None:
        self.again, self.given = again, given
        self.env: Env = {**again.env, **given}
        self._outcomes: Mapping[str, tuple[str, ...]] | None = None
        self._holds: dict[int, bool] = {}  # rule index -> holds with ``given``
        self._moved: set[str] | None = None  # the facts of ``given`` that moved

    def outcomes(self) -> Mapping[str, tuple[str, ...]]:
        """The outcomes of ``given`` alone (worked out once, in the env that holds it)."""
        if self._outcomes is None:
            if self._moved is None:
                self._moved = self.again.moved(self.given)
            self._outcomes = self.again.outcomes_in(self.env, self._moved)
        return self._outcomes

    def outcomes_with(self, more: Mapping[str, Value]) -> Mapping[str, tuple[str, ...]]:
        """``again.outcomes({**given, **more})``: with only ``more`` set in the env
        that holds ``given`` already, and what moved of ``given`` found once."""
        again, env = self.again, self.env
        if not more.keys().isdisjoint(self.given):
            return again.outcomes({**self.given, **more})
        if self._moved is None:
            self._moved = again.moved(self.given)
        extra = again.moved(more)
        kept = [(name, env.get(name, _ABSENT)) for name in extra]
        try:
            for name in extra:
                env[name] = more[name]
            return again.outcomes_in(env, self._moved | extra)
        finally:
            for name, was in kept:
                if was is _ABSENT:
                    del env[name]
                else:
                    env[name] = was

    def adds_nothing(self, more: Mapping[str, Value], shared: bool = False) -> bool:
        """Do the facts ``more`` (none of them in ``given``) leave the outcomes of
        ``given`` as they are? Yes when every rule that reads one that moves keeps its
        truth: a rule reading only facts is checked with and without them; for a rule
        that also reads a decision, the leaves on the fact must keep the person's
        truths (then, level by level, every rule and decision keeps its own). No
        means only: not shown so.

        ``shared``: ``more`` is never changed, and is the same object for every person
        it is asked of (a signal family's facts with rows added to none of the
        person's own): the answer is remembered for the run by ``more`` and every
        value it reads beside (``_Verdicts``), and most people's are another's."""
        if shared:
            return self.again._verdicts.adds_nothing(self, more)
        return self._adds_nothing(more)

    def _adds_nothing(self, more: Mapping[str, Value]) -> bool:
        env, again = self.env, self.again
        read, readers, own = again.read, again._readers, again.env
        moved = [
            (name, value)
            for name, value in more.items()
            if name in read
            and ((old := own.get(name, _ABSENT)) != value or type(old) is not type(value))
        ]
        if not moved:
            return True
        checks: dict[int, Check] = {}
        for name, value in moved:
            plain, leaves = readers.get(name, ((), ()))
            if leaves:
                one, was = {name: value}, {name: own.get(name)}
                if any(leaf(one) != leaf(was) for leaf in leaves):
                    return False
            for index, check in plain:
                checks[index] = check
        if not checks:
            return True
        holds = self._holds
        for index, check in checks.items():
            if index not in holds:
                holds[index] = check(env) is True
        # The facts set in the env itself and put back after: a copy costs more.
        try:
            env.update(moved)
            return all((check(env) is True) is holds[i] for i, check in checks.items())
        finally:
            for name, _ in moved:
                if (was := own.get(name, _ABSENT)) is _ABSENT:
                    del env[name]
                else:
                    env[name] = was


class _Verdicts:
    """``Beside.adds_nothing`` for facts ``more`` shared by people (the same object for
    the same facts), remembered for the run. The answer reads ``more``, the person's own values
    of its facts that rules read (has one moved?), and the values in the change's env
    of every fact a rule reading one of them reads (does the rule keep its truth?): it
    is the same whenever those are (a rule's check reads nothing else). Bounded."""

    def __init__(self, read: frozenset[str], readers: _Readers, reads: dict[int, frozenset[str]]):
        self.read, self.readers, self.reads = read, readers, reads
        # id(more) -> what its answers read: the values of the person's own env and of
        # the change's, and its answers by those values. The entry keeps ``more``, so
        # an id found here is its own; its answers live and go with it.
        self._what: dict[int, _Facts] = {}
        self._count = 0  # answers kept over every entry: bounded, then all dropped

    def adds_nothing(self, beside: Beside, more: Mapping[str, Value]) -> bool:
        what = self._what.get(id(more))
        if what is None:
            what = self._reads(more)
        try:
            key = (what.own(beside.again.env), what.around(beside.env))
        except KeyError:  # a value the person lacks: worked out, not remembered
            return beside._adds_nothing(more)
        found = what.known.get(key)
        if found is None:
            found = what.known[key] = beside._adds_nothing(more)
            self._count += 1
            if self._count >= _VERDICTS_LIMIT:
                self._what = {}
                self._count = 0
        return found

    def _reads(self, more: Mapping[str, Value]) -> _Facts:
        """What ``adds_nothing(more)`` reads beside ``more`` itself."""
        own = sorted(name for name in more if name in self.read)
        around: set[str] = set(own)
        for name in own:
            for index, _ in self.readers.get(name, ((), ()))[0]:
                around |= self.reads[index]
        what = _Facts(more, _getter(tuple(own)), _getter(tuple(sorted(around))), {})
        if len(self._what) >= _VERDICTS_LIMIT:
            self._what = {}
            self._count = 0
        self._what[id(more)] = what
        return what


class _Facts(NamedTuple):
    """Shared facts ``more`` and what ``_Verdicts`` reads and keeps of them."""

    more: Mapping[str, Value]  # kept, so that its id stays its own
    own: _Get  # the person's own values of its facts that rules read
    around: _Get  # the change's values of every fact a rule reading one of them reads
    known: dict[tuple[object, object], bool]  # the answers, by those values


_ABSENT = object()  # a fact the person's env lacks
# Outcomes by rules' truths (``Reevaluation._resolve``), per decision: the shipped
# decisions show 9 to 92 patterns over 2,000 people; the bound only keeps memory flat
# for a rulebook whose decisions have very many rules.
_RESOLVED_LIMIT = 1 << 12
# ``adds_nothing`` answers remembered for the run (``_Verdicts``): a key holds a few
# values (a signal family's facts the rules read, and a few more).
_VERDICTS_LIMIT = 1 << 14
# Plans (``_plan``) kept per truths pattern of a step, and patterns per step: the
# shipped decisions show a few hundred at most; the bound keeps memory flat.
_PLANS_LIMIT = 1 << 10
_Get = Callable[[Env], object]
# A ``priority`` decision's outcome when none of the rules to check holds, and those
# rules' checks with each one's outcome, in turn (``_plan``).
_Plan = tuple[tuple[str, ...], tuple[tuple[Check, tuple[str, ...]], ...]]
# Per step, by the places of its rules that hold for a person, the plans by what moved.
_ByTruths = list[dict[tuple[int, ...], dict[frozenset[str], _Plan]]]
# Per step, its decision's outcome by its rules' truths (``Reevaluation._resolve``).
_Resolved = list[dict[tuple[bool, ...], tuple[str, ...]]]
# A ``priority`` decision's default outcome, and its rules' places with each one's
# outcome, highest priority first (rulebook order among equals, as ``resolve`` picks):
# the first that holds is the outcome (``_ranked``).
_Ranked = tuple[tuple[str, ...], tuple[tuple[int, tuple[str, ...]], ...]]
_Needed = list[
    tuple[Decision, frozenset[str], list[tuple[CompiledRule, frozenset[str]]], _Ranked | None]
]
# fact -> the rules reading only facts that read it (each with its index in the
# rulebook and its check), and the leaves on it of the rules that also read a decision
_Readers = dict[str, tuple[tuple[tuple[int, Check], ...], tuple[Check, ...]]]
# Per step, by what moved of what its rules read, the places of the rules that read
# one of them (``Reevaluation._again``).
_Places = list[dict[frozenset[str], tuple[int, ...]]]
_NEEDED: dict[
    tuple[int, frozenset[str]],
    tuple[
        CompiledReference,
        _Needed,
        _Readers,
        _Verdicts,
        _Places,
        _Resolved,
        _ByTruths,
        dict[str, tuple[int, int]],
    ],
] = {}


def _needed(
    compiled: CompiledReference, decisions: Collection[str]
) -> tuple[_Needed, _Readers, _Verdicts, _Places, _Resolved, _ByTruths, dict[str, tuple[int, int]]]:
    """``decisions`` and every decision they read, directly or not, in level order
    (all of them when none is named), each with what its rules read and its rules
    with what each reads; who reads each fact among those rules; the run's
    ``adds_nothing`` answers for them; and per decision, which of its rules read
    each fact or decision. Worked out once per rulebook and decisions."""
    key = (id(compiled), frozenset(decisions))
    cached = _NEEDED.get(key)
    if cached is not None and cached[0] is compiled:
        return cached[1], cached[2], cached[3], cached[4], cached[5], cached[6], cached[7]
    wanted = set(decisions or compiled.level_of)
    for level in reversed(compiled.levels):
        for decision, _ in level:
            if decision.name in wanted:
                wanted |= compiled.reads_of[decision.name] & compiled.level_of.keys()
    found = [
        (
            decision,
            compiled.reads_of[decision.name],
            [(cr, frozenset(leaf.fact for leaf in cr.leaves)) for cr in rules],
            _ranked(decision, [cr.rule for cr in rules]) if decision.policy == "priority" else None,
        )
        for level in compiled.levels
        for decision, rules in level
        if decision.name in wanted
    ]
    if len(_NEEDED) >= 16:  # a handful of rulebooks per process; never grow unbounded
        _NEEDED.clear()
    plain: dict[str, list[tuple[int, Check]]] = {}
    leaves: dict[str, list[Check]] = {}
    for _, _, rules, _ in found:
        for cr, reads in rules:
            if reads.isdisjoint(compiled.level_of):
                for fact in reads:
                    plain.setdefault(fact, []).append((cr.index, cr.check))
                continue
            for leaf, check in zip(cr.leaves, cr.leaf_checks, strict=True):
                if leaf.fact not in compiled.level_of:
                    leaves.setdefault(leaf.fact, []).append(check)
    readers = {
        fact: (tuple(plain.get(fact, ())), tuple(leaves.get(fact, ())))
        for fact in plain.keys() | leaves.keys()
    }
    by_index = {cr.index: rule_reads for _, _, rules, _ in found for cr, rule_reads in rules}
    places: _Places = [{} for _ in found]
    verdicts = _Verdicts(compiled.read_set, readers, by_index)
    resolved: _Resolved = [{} for _ in found]
    by_truths: _ByTruths = [{} for _ in found]
    # rule id -> its step and its place among the step's rules
    at_of = {
        cr.rule.id: (step, at)
        for step, (_, _, rules, _) in enumerate(found)
        for at, (cr, _) in enumerate(rules)
    }
    _NEEDED[key] = (compiled, found, readers, verdicts, places, resolved, by_truths, at_of)
    return found, readers, verdicts, places, resolved, by_truths, at_of


def _ranked(decision: Decision, rules: list[Rule]) -> _Ranked:
    """A ``priority`` decision's default outcome, and its rules' places (in ``rules``,
    the decision's in rulebook order) with each one's outcome, highest priority first
    and in rulebook order among equals: the first that holds is ``resolve``'s winner."""
    order = sorted(range(len(rules)), key=lambda at: (-rules[at].priority, at))
    return (decision.default,), tuple((at, (rules[at].then,)) for at in order)


def _getter(names: tuple[str, ...]) -> Callable[[Env], object]:
    """env -> the values of ``names`` (KeyError for a name env lacks)."""
    if not names:
        return lambda env: ()
    return operator.itemgetter(*names)


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
