"""What would change the outcome: the changes a brief may name, read from
``rules/changes.yaml``, and the search that finds the nearest ones for a person.

The rulebook says which changes a person (or the panel) could actually make: more
observations of a heart signal by others, a different stated interest, a higher
rating, a blank filled in. For one person, each change is made to their own rows
(an Evidence row added, an Employees cell changed), the facts are derived again
exactly as for the run (``facts.compute_facts``) and the whole rulebook is evaluated
again (the reference evaluator, which agrees with durable_rules), so a change's
effect through every decision is followed. The nearest changes that move a main
decision (by role: the verdict first) are named, a sentence each.

Nothing here reads Excel or runs durable_rules: report calls it per brief.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from talentrules import facts as facts_module
from talentrules.contract import EVIDENCE
from talentrules.errors import RulebookError
from talentrules.model import Cell, Row, Value
from talentrules.reference import Reevaluation, compile_rulebook
from talentrules.reference.evaluation import Beside
from talentrules.rulebook import ROLES, Decision, Evaluation, Rulebook
from talentrules.rulefiles import Report, line_of, mapping, open_rules, text_of
from talentrules.vocabulary import FactSpec

CHANGES_FILE = "changes.yaml"
KINDS = ("observe", "fact", "record")
# Every placeholder a sentence may use, by kind.
PLACEHOLDERS = {
    "observe": ("count", "s", "signals"),
    "fact": ("value", "label", "now"),
    "record": ("value", "label"),
}
# Employees columns a change may set: the facts computed from a cell of the same name.
SETTABLE = (*facts_module.PERSON_NUMBERS, *facts_module.PERSON_ENUMS)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
MAX_LISTED = 4  # signals named in one sentence; more are counted
# The columns of a new observation the search sets itself: whose, which signal, when,
# in which situation, who saw it. The rest come from changes.yaml (`as`).
_OBSERVATION_SET = frozenset(
    {"evidence_id", "employee_id", "signal", "observed_on", "context", "source_id"}
)


@dataclass(frozen=True)
class Change:
    """One kind of change a brief may name."""

    kind: str  # observe, fact, record
    says: str  # the sentence after "if": "{count} more ..."
    signals: tuple[str, ...] = ()  # observe: the signal codes
    up_to: int = 3  # observe: at most this many new observations
    row: dict[str, str] = field(default_factory=dict)  # observe: what each one records
    facts: tuple[str, ...] = ()  # fact: one fact; record: the facts whose blank may be filled
    raise_only: bool = False  # fact: only higher values (a rating)
    line: int = 0


@dataclass(frozen=True)
class Changes:
    """rules/changes.yaml: which decisions are explained, and the changes tried."""

    explain: tuple[str, ...]  # roles, in the order briefs show them
    show: int  # changes named per decision
    changes: tuple[Change, ...]
    source: str
    # role -> the outcomes worth naming a change toward, best first (absent: any change)
    toward: dict[str, tuple[str, ...]] = field(default_factory=dict)


NONE = Changes((), 0, (), "", {})


def load_changes(rulebook: Rulebook) -> Changes:
    """The rulebook's changes.yaml (none: nothing is searched); RulebookError lists
    every problem, as ``rules check`` reports them."""
    report = Report()
    found = read_changes(rulebook, report)
    if report.has_errors:
        raise RulebookError("\n".join(str(d) for d in report.diagnostics))
    return found


def changes_problems(rulebook: Rulebook) -> list[str]:
    """What ``rules check`` reports of changes.yaml, as ``file:line: message``."""
    report = Report()
    read_changes(rulebook, report)
    return [str(d) for d in report.diagnostics]


def read_changes(rulebook: Rulebook, report: Report) -> Changes:
    files = open_rules(Path(rulebook.source))
    file = files.label(CHANGES_FILE)
    if not files.has(CHANGES_FILE):
        return NONE
    root = files.node(CHANGES_FILE, report)
    if root is None:
        return NONE
    top = mapping(root, file, CHANGES_FILE, report)
    if top is None:
        return NONE
    for key, (key_node, _) in top.items():
        if key not in ("explain", "show", "changes"):
            report.error(
                file,
                line_of(key_node),
                f"unknown key '{key}' ({CHANGES_FILE} has explain, show, changes)",
            )
    explain: list[str] = []
    toward: dict[str, tuple[str, ...]] = {}
    if "explain" in top:
        node = top["explain"][1]
        table = mapping(node, file, "explain", report) or {}
        for role, (key_node, value_node) in table.items():
            decision = rulebook.role(role)
            if role not in ROLES:
                report.error(
                    file, line_of(key_node), f"explain: '{role}' is not a role ({', '.join(ROLES)})"
                )
                continue
            if decision is None:
                report.error(file, line_of(key_node), f"explain: no decision plays role '{role}'")
                continue
            explain.append(role)
            wanted = yaml.safe_load(yaml.serialize(value_node))
            if wanted == "any":
                continue
            if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
                report.error(
                    file,
                    line_of(value_node),
                    f"explain: {role}: 'any', or the outcomes worth naming, best first",
                )
                continue
            for outcome in wanted:
                if outcome not in decision.outcomes:
                    report.error(
                        file,
                        line_of(value_node),
                        f"explain: {role}: '{outcome}' is not an outcome of "
                        f"{decision.name} ({', '.join(decision.outcomes)})",
                    )
            toward[role] = tuple(wanted)
    show = 3
    if "show" in top:
        node = top["show"][1]
        text = text_of(node, file, "show", report)
        if text is not None:
            if not text.isdigit() or int(text) < 1:
                report.error(file, line_of(node), "show must be a whole number of at least 1")
            else:
                show = int(text)
    items: list[Change] = []
    if "changes" in top:
        node = top["changes"][1]
        if not isinstance(node, yaml.SequenceNode):
            report.error(file, line_of(node), "changes must be a list")
        else:
            for item in node.value:
                change = _change(item, file, rulebook, report)
                if change is not None:
                    items.append(change)
    return Changes(tuple(explain), show, tuple(items), file, toward)


def _change(node: yaml.Node, file: str, rulebook: Rulebook, report: Report) -> Change | None:
    entries = mapping(node, file, "a change", report)
    if entries is None:
        return None
    line = line_of(node)
    kinds = [k for k in KINDS if k in entries]
    if len(kinds) != 1:
        report.error(file, line, f"a change has exactly one of {', '.join(KINDS)}")
        return None
    kind = kinds[0]
    allowed = {"observe": ("up_to", "as"), "fact": ("raise",), "record": ()}[kind]
    for key, (key_node, _) in entries.items():
        if key not in (kind, "says", *allowed):
            article = "an" if kind[0] in "aeiou" else "a"
            report.error(
                file,
                line_of(key_node),
                f"{kind} change: unknown key '{key}' "
                f"({article} {kind} change has {', '.join((kind, *allowed, 'says'))})",
            )
    says_node = entries.get("says")
    says = text_of(says_node[1], file, "says", report) if says_node else None
    if says is None:
        if says_node is None:
            report.error(file, line, f"{kind} change: missing 'says' (the sentence after 'if')")
        return None
    for name in _PLACEHOLDER.findall(says):
        if name not in PLACEHOLDERS[kind]:
            report.error(
                file,
                line_of(says_node[1]),  # type: ignore[index]
                f"says: '{{{name}}}' is not known here ({', '.join(PLACEHOLDERS[kind])})",
            )
    value_node = entries[kind][1]
    raw = yaml.safe_load(yaml.serialize(value_node))
    if kind == "observe":
        codes = _signals(raw, rulebook)
        if codes is None:
            report.error(file, line_of(value_node), "observe: give $set or a list of signal codes")
            return None
        up_to = 3
        if "up_to" in entries:
            number = yaml.safe_load(yaml.serialize(entries["up_to"][1]))
            if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 10:
                report.error(file, line_of(entries["up_to"][1]), "up_to: a whole number 1-10")
            else:
                up_to = number
        row: dict[str, str] = {}
        if "as" in entries:
            given = yaml.safe_load(yaml.serialize(entries["as"][1]))
            columns = {c.name: c for c in EVIDENCE.columns}
            if not isinstance(given, dict):
                report.error(file, line_of(entries["as"][1]), "as: Evidence column -> value")
            else:
                for column, value in given.items():
                    found = columns.get(str(column))
                    if found is None or str(column) in _OBSERVATION_SET:
                        report.error(
                            file,
                            line_of(entries["as"][1]),
                            f"as: '{column}' is not an Evidence column a change may set",
                        )
                    elif found.kind == "enum" and str(value) not in found.values:
                        report.error(
                            file,
                            line_of(entries["as"][1]),
                            f"as: {column} '{value}' is not one of {', '.join(found.values)}",
                        )
                    else:
                        row[str(column)] = str(value)
        return Change(kind, says, signals=codes, up_to=up_to, row=row, line=line)
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        report.error(file, line_of(value_node), f"{kind}: give a fact (record: a list of facts)")
        return None
    for name in names:
        spec = rulebook.vocabulary.get(name)
        if name not in SETTABLE or spec is None:
            report.error(
                file,
                line_of(value_node),
                f"{kind}: '{name}' is not an Employees fact a change can set "
                f"({', '.join(n for n in SETTABLE if n in rulebook.vocabulary)})",
            )
            return None
    if kind == "fact" and len(names) != 1:
        report.error(file, line_of(value_node), "fact: one fact per change")
        return None
    raise_only = False
    if "raise" in entries:
        flag = yaml.safe_load(yaml.serialize(entries["raise"][1]))
        if not isinstance(flag, bool):
            report.error(file, line_of(entries["raise"][1]), "raise: true or false")
        raise_only = flag is True
        if raise_only and rulebook.vocabulary[names[0]].type != "number":
            report.error(file, line_of(entries["raise"][1]), "raise: only for a number fact")
    return Change(kind, says, facts=tuple(names), raise_only=raise_only, line=line)


def _signals(raw: object, rulebook: Rulebook) -> tuple[str, ...] | None:
    if isinstance(raw, str) and raw.startswith("$"):
        return rulebook.sets.get(raw[1:]) if raw[1:] != "signals" else tuple(rulebook.signals)
    if isinstance(raw, list) and all(isinstance(c, str) and c in rulebook.signals for c in raw):
        return tuple(raw)
    return None


# --------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """One change that moves a main decision."""

    decision: str  # the decision's name
    outcome: str  # what it would be
    sentence: str  # the "if ..." part, filled in
    distance: float  # how far the change is (observations added, steps up)
    order: int  # the change's place in changes.yaml


class Person:
    """One person's facts and Evidence rows, from which a changed copy is derived and
    evaluated."""

    def __init__(
        self,
        rulebook: Rulebook,
        plan: facts_module.DerivationPlan,
        employee_id: str,
        values: Mapping[str, Value],
        evidence: Sequence[Row],
        as_of: dt.date | None,
        decisions: Collection[str] = (),
        evaluation: Evaluation | None = None,
    ) -> None:
        self.rulebook, self.plan, self.employee_id = rulebook, plan, employee_id
        self.values, self.evidence, self.as_of = values, list(evidence), as_of
        # The person's rows read once, and their outcomes worked out once: a brief
        # asks for some thirty changes, each of which moves a few facts. Only the
        # facts the rules read are derived again, and only ``decisions`` (all when
        # none is named) and what they read are evaluated again. ``evaluation`` (the
        # person's own, when at hand) saves working out again which rules hold now.
        read = compile_rulebook(rulebook).read
        lines = plan.own_lines(employee_id, as_of, self.evidence)
        self._changeable = facts_module.Changeable(values, plan, as_of, self.evidence, read, lines)
        # (Reevaluation copies the values: no copy here.)
        own = values if isinstance(values, dict) else dict(values)
        person = facts_module.PersonFacts(employee_id, own, {})
        self._again = Reevaluation(rulebook, person, decisions, evaluation)
        # id(facts over every row moved) -> (those facts, kept so that the id stays
        # theirs; what more facts beside them do)
        self._over_all: dict[int, tuple[Mapping[str, Value], Beside]] = {}
        # Per signal, the situations the person's own rows of it were seen in.
        # (Read from the rows' lines, which hold their values.)
        self.contexts_seen: dict[Value, set[Value]] = {}
        for line in self._changeable.lines:
            values = line.values
            self.contexts_seen.setdefault(values.get("signal"), set()).add(values.get("context"))

    def observations(self, code: str, count: int, row: Mapping[str, str]) -> list[Row]:
        """``_observations`` on the cycle's as_of date; the same rows for every person
        whose own rows leave the same situations fresh, when the person's id is
        read by no row test or measure."""
        assert self.as_of is not None
        contexts = _fresh(self, code, count)
        if self.plan.reads_person:
            return _new_rows(self.employee_id, code, contexts, self.as_of, row)
        key = (code, contexts, self.as_of, tuple(row.items()))
        rows = _SHARED.get(key)
        if rows is None:
            if len(_SHARED) >= _SHARED_LIMIT:
                _SHARED.clear()
            rows = _SHARED[key] = _new_rows(self.employee_id, code, contexts, self.as_of, row)
        return rows

    def evaluate(
        self, cells: Mapping[str, Value] | None = None, extra: Sequence[Row] = ()
    ) -> Mapping[str, tuple[str, ...]]:
        """The outcomes with the Employees values set and Evidence rows added (of the
        decisions asked for, and of those they read)."""
        return self._outcomes(self._changeable.parts(cells, extra))

    def observe(self, rows: Sequence[Row], count: int) -> Mapping[str, tuple[str, ...]]:
        """``evaluate(extra=rows[:count])`` for ``rows`` that ``observations`` made:
        what they are to the measures is worked out once per run
        (``Changeable.observed``)."""
        one = self._changeable.observed_one(rows, count)
        if one is None:
            return self._outcomes(self._changeable.observed(rows, count))
        # ``_outcomes`` of the two parts, without making them.
        over_all, more, shared = one
        seen = self._over_all.get(id(over_all))
        if seen is None:
            seen = self._over_all[id(over_all)] = (over_all, self._again.beside(over_all))
        if seen[1].adds_nothing(more, shared):
            return seen[1].outcomes()
        return seen[1].outcomes_with(more)

    def _outcomes(self, parts: list[facts_module.Part]) -> Mapping[str, tuple[str, ...]]:
        """The outcomes with the facts of ``parts`` set.

        New observations move the facts over every Evidence row, which are the same
        for every signal observed (``Changeable.parts``), and the observed signal's
        own facts, which most often change no rule's truth: then the outcomes are
        those of the facts over every row moved alone, worked out once a person for
        each way they move (not once for each signal and count). Whether they change
        one is remembered for the run, by all that answer reads
        (``Beside.adds_nothing``): most people's rows of a signal are the same to it."""
        # Only rows' parts (no Employees value set, no formula reading what moved): the
        # first is the facts over every row, the others signal families'.
        if len(parts) >= 2 and all(part.lasting for part in parts):
            over_all = parts[0].facts
            if len(parts) == 2:
                more, shared = parts[1].facts, parts[1].shared
            else:
                more, shared = {}, False
                for part in parts[1:]:
                    more.update(part.facts)
            seen = self._over_all.get(id(over_all))
            if seen is None:
                seen = self._over_all[id(over_all)] = (over_all, self._again.beside(over_all))
            if seen[1].adds_nothing(more, shared):
                return seen[1].outcomes()
        changed: dict[str, Value] = {}
        for part in parts:
            changed.update(part.facts)
        return self._again.outcomes(changed)


def _observations(
    person: Person, code: str, count: int, as_of: dt.date, row: Mapping[str, str]
) -> list[Row]:
    """``count`` new observations of ``code``: on the cycle's as_of date, each by
    someone new, in a context the person's rows for the code do not have yet, and
    otherwise as changes.yaml's ``as`` says (by whom, with what energy and outcome)."""
    return _new_rows(person.employee_id, code, _fresh(person, code, count), as_of, row)


def _fresh(person: Person, code: str, count: int) -> tuple[Value, ...]:
    """The situation of each of ``count`` new observations of ``code``: those the
    person's rows for the code do not have yet, in the contract's order, round again
    when there are fewer."""
    return _fresh_after(frozenset(person.contexts_seen.get(code, ())), count)


@functools.lru_cache(maxsize=1024)
def _fresh_after(seen: frozenset[Value], count: int) -> tuple[Value, ...]:
    """``_fresh`` for a person whose rows of the code were seen in ``seen``: the same
    for everyone with those (most people: none), so worked out once."""
    contexts = _CONTEXTS
    fresh = [c for c in contexts if c not in seen] or contexts
    return tuple(fresh[n % len(fresh)] for n in range(count))


def _new_rows(
    employee_id: str,
    code: str,
    contexts: tuple[Value, ...],
    as_of: dt.date,
    row: Mapping[str, str],
) -> list[Row]:
    # Every column's cell, then the ones each observation sets itself.
    same = _same_cells(tuple(row.items()))
    employee = Cell(employee_id, "what-if")
    signal, observed_on = Cell(code, "what-if"), Cell(as_of, "what-if")
    rows = []
    for n, context in enumerate(contexts):
        cells = {
            **same,
            "evidence_id": Cell(f"what-if-{code}-{n}", "what-if"),
            "employee_id": employee,
            "signal": signal,
            "observed_on": observed_on,
            "context": Cell(context, "what-if"),
            "source_id": Cell(f"what-if-observer-{n}", "what-if"),
        }
        rows.append(Row("Evidence", 0, cells))
    return rows


# What-if rows shared by every person (when no row test or measure reads whose row it
# is), by signal, situations, date and ``as``: a run adds the same few rows for
# thousands of people, and each is made and tested once.
_SHARED: dict[tuple[object, ...], list[Row]] = {}
_SHARED_LIMIT = 1024


_CONTEXTS: list[Value] = list(EVIDENCE.column("context").values)


@functools.lru_cache(maxsize=64)
def _same_cells(row: tuple[tuple[str, str], ...]) -> dict[str, Cell]:
    """The cells every new observation of a change shares (``as``; the rest blank),
    made once per change: a brief makes some thirty such rows."""
    given = dict(row)
    return {column.name: Cell(given.get(column.name), "what-if") for column in EVIDENCE.columns}


def _fill(says: str, **values: object) -> str:
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), says)


# The {value} placeholder with the quote marks around it, repeated for each value listed.
_VALUE_WORD = re.compile(r"([“‘«\"']?)\{value\}([”’»\"']?)")


def _listing(says: str, values: Sequence[Value]) -> str:
    """``says`` with ``{value}`` as one value or several: “A”, “B” or “C”."""
    found = _VALUE_WORD.search(says)
    if found is None:
        return says
    words = [f"{found.group(1)}{v}{found.group(2)}" for v in values]
    listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
    return says[: found.start()] + listed + says[found.end() :]


class _Wanted:
    """The outcomes a change of a decision is named toward, best first, and the current
    one's place among them (one not listed comes after every one): worked out once per
    search. A change is worth naming when it moves the decision to a listed outcome
    that comes before the current one (any change, for a decision that lists none)."""

    def __init__(self, wanted: tuple[str, ...], before: tuple[str, ...]) -> None:
        self.rank = {outcome: n for n, outcome in enumerate(wanted)}
        self.now = min((self.rank.get(o, len(wanted)) for o in before), default=len(wanted))

    def better(self, after: tuple[str, ...]) -> bool:
        """Is ``after`` (not the current outcome) one listed before the current one?"""
        return len(after) == 1 and self.rank.get(after[0], self.now) < self.now


def nearest(
    person: Person,
    changes: Changes,
    now: Mapping[str, tuple[str, ...]],
    labels: Mapping[str, str] | None = None,
) -> dict[str, list[Found]]:
    """For each explained decision (by name), the nearest changes that move it the way
    the rulebook names: at most ``changes.show``, nearest first, one of each kind of
    change before a second of any kind."""
    rulebook = person.rulebook
    decisions = _explained(rulebook, changes)
    found: dict[str, list[Found]] = {d.name: [] for d, _ in decisions}
    if not decisions:
        return found
    values = _employee_values(person)

    # What ``moved`` found, by the outcomes' identity (the object kept with it, so that
    # the id stays its own): many what-ifs give the same object (the person's
    # outcomes, or those of the facts over every row alone: ``Person.observe``).
    seen: dict[int, tuple[Mapping[str, tuple[str, ...]], dict[str, str], bool]] = {}

    def any_move(outcomes: Mapping[str, tuple[str, ...]]) -> bool:
        known = seen.get(id(outcomes))
        if known is None:
            moved(outcomes)
            known = seen[id(outcomes)]
        return known[2]

    # Per decision: its name, its outcome now, and the outcomes a change is named toward.
    ranked = [
        (
            d.name,
            now.get(d.name, ()),
            None if wanted is None else _Wanted(wanted, now.get(d.name, ())),
        )
        for d, wanted in decisions
    ]

    def moved(outcomes: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
        """Decision -> its new outcome, for each decision the change moves as wanted.
        A change that moves a ranked decision (the verdict) anywhere but
        up is named for no decision: more courage observed that makes the evidence
        conflict and drops the verdict is not a change a person would make to move
        their track."""
        known = seen.get(id(outcomes))
        if known is not None:
            return known[1]
        found: dict[str, str] = {}
        anywhere = False  # does it move any explained decision (as wanted or not)?
        for name, before, wanted in ranked:
            after = outcomes.get(name, ())
            if after == before:
                continue
            anywhere = True
            if wanted is not None and not wanted.better(after):
                found = {}
                break
            found[name] = ", ".join(after)
        seen[id(outcomes)] = (outcomes, found, anywhere)
        return found

    for order, change in enumerate(changes.changes):
        if change.kind == "observe":
            if person.as_of is None:
                continue  # without an as_of no observation is recent: none would count
            # (decision, outcome, count) -> the signals whose new observations do it
            groups: dict[tuple[str, str, int], list[str]] = {}
            for code in change.signals:
                # Most observations first: when even the most move nothing, fewer do not.
                # Fewer are the first of them.
                rows = person.observations(code, change.up_to, change.row)
                most = person.observe(rows, change.up_to)
                if not any_move(most):
                    continue
                open_ = {d.name for d, _ in decisions}
                for count in range(1, change.up_to + 1):
                    after = most if count == change.up_to else person.observe(rows, count)
                    for name, outcome in moved(after).items():
                        if name in open_:
                            groups.setdefault((name, outcome, count), []).append(code)
                            open_.discard(name)
                    if not open_:
                        break
            for (name, outcome, count), codes in groups.items():
                signals = [
                    f"“{rulebook.signals[c].name}” ({c})" if c in rulebook.signals else c
                    for c in codes
                ]
                if len(signals) > MAX_LISTED:  # name a few, count the rest
                    more = len(signals) - MAX_LISTED + 1
                    signals = [*signals[: MAX_LISTED - 1], f"any of {more} other heart signals"]
                listed = (
                    signals[0]
                    if len(signals) == 1
                    else f"{', '.join(signals[:-1])} or {signals[-1]}"
                )
                sentence = _fill(
                    change.says, count=count, s="" if count == 1 else "s", signals=listed
                )
                found[name].append(Found(name, outcome, sentence, float(count), order))
            continue
        for fact in change.facts:
            spec = rulebook.vocabulary[fact]
            current = values.get(fact)
            label = (labels or {}).get(fact, fact.replace("_", " "))
            if change.kind == "record":
                if current is not None:
                    continue
                candidates = _all_values(spec)
            elif change.raise_only:
                if not isinstance(current, int | float) or isinstance(current, bool):
                    continue
                top = int(spec.maximum) if spec.maximum is not None else int(current) + 3
                candidates = list(range(int(current) + 1, top + 1))
            else:
                if current is None:
                    continue
                candidates = [v for v in _all_values(spec) if v != current]
            # (decision, outcome) -> the values that move it there, nearest first: one
            # sentence lists them ("were “A”, “B” or “C”"), not one sentence each.
            moves: dict[tuple[str, str], list[tuple[Value, float]]] = {}
            for value in candidates:
                distance = 1.0
                if isinstance(value, int | float) and isinstance(current, int | float):
                    distance = abs(float(value) - float(current))
                for name, outcome in moved(person.evaluate(cells={fact: value})).items():
                    if change.raise_only and any(n == name for n, _ in moves):
                        continue  # the smallest raise that moves it is the nearest
                    moves.setdefault((name, outcome), []).append((value, distance))
            for (name, outcome), tried in moves.items():
                filled = _fill(change.says, label=label, now=current)
                sentence = _listing(filled, [v for v, _ in tried])
                distance = min(d for _, d in tried)
                found[name].append(Found(name, outcome, sentence, distance, order))
    for name, items in found.items():
        found[name] = _pick(items, changes.show)
    return found


def _explained(
    rulebook: Rulebook, changes: Changes
) -> list[tuple[Decision, tuple[str, ...] | None]]:
    """The explained decisions, each with the outcomes a change is named toward:
    worked out once for a rulebook and its changes (kept, so that their ids stay
    theirs), not once a person."""
    key = (id(rulebook), id(changes))
    found = _EXPLAINED.get(key)
    if found is None or found[0] is not rulebook or found[1] is not changes:
        decisions = [
            (d, changes.toward.get(role)) for role in changes.explain if (d := rulebook.role(role))
        ]
        if len(_EXPLAINED) >= 16:
            _EXPLAINED.clear()
        found = _EXPLAINED[key] = (rulebook, changes, decisions)
    return found[2]


_EXPLAINED: dict[
    tuple[int, int], tuple[Rulebook, Changes, list[tuple[Decision, tuple[str, ...] | None]]]
] = {}


def _pick(items: list[Found], show: int) -> list[Found]:
    """The nearest first; one of each kind of change before a second of any kind."""
    items = sorted(items, key=lambda f: (f.distance, f.order))
    unique = list({f.sentence: f for f in reversed(items)}.values())[::-1]
    first = [f for n, f in enumerate(unique) if all(g.order != f.order for g in unique[:n])]
    rest = [f for f in unique if f not in first]
    chosen = (first + rest)[:show]
    return sorted(chosen, key=lambda f: (f.distance, f.order))


def _employee_values(person: Person) -> dict[str, Value]:
    return {column: person.values.get(column) for column in SETTABLE}


def _all_values(spec: FactSpec) -> list[Value]:
    """Every value a blank could be recorded as: an enum's values, a small whole range."""
    if spec.type == "enum":
        return list(spec.values)
    low, high = spec.minimum, spec.maximum
    if spec.type == "number" and low is not None and high is not None and high - low <= 10:
        return list(range(int(low), int(high) + 1))
    return []
