"""The durable_rules engine: a checked Rulebook compiled onto durable_rules, run per person.

The only module that imports durable_rules. durable_rules does the matching; this
adapter owns every quirk of it that could change a conclusion or crash a run (see
docs/engine.md and ../shared/durable-notes.md):

- the whole rulebook becomes ONE durable ruleset; each rule is one durable rule
  matching ONE fact, the person's fact for the rule's decision level (``l``), which
  holds every value the level's rules read plus the outcomes of lower levels;
- negation is pushed to the leaves, where "a missing field never matches" is
  exactly Kleene's "unknown is not true";
- values are encoded so durable's JSON parser and its cross-type comparisons
  cannot bite (numbers without bare exponents, dates as ordinals, booleans as
  "T"/"F", collect decisions as one "T"/"F" field per outcome);
- the C extension is driven directly (assert_fact, start_action_for_state,
  complete_and_start_action, delete_state): no Host, no background threads, no
  JSON state round-trips, one live session at a time, deleted after each person;
- C error codes become EngineError messages a rule author can act on.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib.metadata
import itertools
import json
import json.encoder
import marshal
import math
import os
import pickle
import re
import sys
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import is_not, itemgetter
from typing import Any, cast

from talentrules import processes
from talentrules.errors import EngineError, RulebookError
from talentrules.facts import FactsOnDemand, PersonFacts
from talentrules.interrupt import quiet_worker
from talentrules.jsontext import canonical
from talentrules.model import Value
from talentrules.reference import explain as reference_explain
from talentrules.reference import explain_text as reference_explain_text
from talentrules.reference import fired as reference_fired
from talentrules.reference import record as reference_record
from talentrules.reference import record_text as reference_record_text
from talentrules.rulebook import (
    AllOf,
    AnyOf,
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

try:
    import durable_rules_engine as _dre
except ImportError as _error:  # e.g. a build of the unpatched 2.0.28 on Python 3.13
    _dre = None
    _IMPORT_ERROR: str | None = str(_error)
else:
    _IMPORT_ERROR = None

# The vendored build says "2.0.28+talentrules.1" (vendor/durable_rules/TALENTRULES.md).
try:
    DURABLE_VERSION = importlib.metadata.version("durable-rules")
except importlib.metadata.PackageNotFoundError:  # Engine() then says what is missing
    DURABLE_VERSION = "not installed"
# Which evaluator made a trace, as the trace names it.
ENGINE_RECORD = {"evaluator": "durable_rules", "durable_rules": DURABLE_VERSION}
_ENGINE_TEXT = canonical(ENGINE_RECORD)  # its text in every trace line
_ENGINE_TEXTS = {"engine": _ENGINE_TEXT}

# What durable_rules' numeric error codes mean (src/rules/rules.h), in words a rule
# author can act on.
_ERRORS = {
    101: "out of memory",
    102: "a value has an unexpected type",
    103: "a name is too long",
    104: "a value is not allowed here",
    105: "an unexpected name",
    106: "too many rules",
    108: "too many joins in one rule",
    111: "the ruleset was already deleted (the engine is closed)",
    112: "too many rulesets in one process",
    113: "a rule nests more than 15 all/any/in groups",
    201: "a value could not be parsed",
    202: "a string could not be parsed",
    203: "a number could not be parsed",
    204: "a number could not be parsed (bare exponent such as 1e-05, or not JSON)",
    205: "a list could not be parsed",
    302: "a fact has more than 252 fields",
    303: "too many conditions matched at once (the matcher's stack holds 64)",
    309: "the session was already deleted",
    310: "no action available",
    311: "a field is missing",
    312: "an operation is not supported on these types",
}
_CODE = re.compile(r"error code: (\d+)")

# durable's limits, measured (tests/test_engine.py) or read in its C source.
MAX_GROUPS = 15  # $and/$or groups per rule: 2 entries each in a 32-entry sequence
MAX_FIELDS = 250  # per fact: 254 properties, minus sid, id (and the level l)
MAX_FANOUT = 56  # nodes pushed at once on the 64-entry alpha stack, with margin
MAX_CHILDREN = 256  # tests under one node: durable hangs at 512 (a full hash set)
MAX_LIVE_SESSIONS = 1024  # per ruleset; we keep one
SENTINEL = "s"  # the durable rule that fires for every person (see _Compiler.compile)


@dataclass(frozen=True, slots=True)  # one a person, kept for the run
class Result:
    """One person's conclusions, and the trace that justifies them on demand.

    The trace (``reference.explain``'s body: fired rules with the values they read,
    why-not, counterfactuals) is about 80 KB of objects a person and follows from the
    person's facts and the evaluation alone, so it is built when asked for and never
    kept: a run's memory then does not grow with traces (issue 13)."""

    employee_id: str
    evaluation: Evaluation
    # The person's facts, or where they are derived again when a trace is built
    # (``facts.FactsOnDemand``: a run keeps nobody's facts).
    source: PersonFacts | FactsOnDemand = field(repr=False, compare=False)
    rulebook: Rulebook = field(repr=False, compare=False)
    # The facts the stages after the engine read across people (``run(keep=...)``).
    kept: Mapping[str, Value] = field(default_factory=dict, repr=False, compare=False)
    # What ``run(note=...)`` made of the person's facts and evaluation while both were
    # at hand (None without a note): saves deriving the facts again for it.
    noted: Any = field(default=None, repr=False, compare=False)

    @property
    def person(self) -> PersonFacts:
        source = self.source
        return source if isinstance(source, PersonFacts) else source[self.employee_id]

    @property
    def trace(self) -> dict[str, Any]:
        """The full trace, built now (each call builds a new one)."""
        trace = reference_explain(self.rulebook, self.person, self.evaluation)
        trace["engine"] = dict(ENGINE_RECORD)
        return trace

    def trace_text(self) -> str:
        """The full trace as canonical JSON (``record.canonical(self.trace)``, the same
        bytes), built now from the text its shared entries keep: about 0.6 of the time."""
        return reference_explain_text(
            self.rulebook, self.person, self.evaluation, {"engine": ENGINE_RECORD}
        )

    def fired(self) -> list[dict[str, Any]]:
        """The full trace's ``fired`` alone (each fired rule's conditions with the
        values it read), built now, without the rest of the trace."""
        return reference_fired(self.rulebook, self.person, self.evaluation)

    @property
    def record(self) -> dict[str, Any]:
        """The body of the person's trace.jsonl line (``reference.record``), built now."""
        body = reference_record(self.rulebook, self.person, self.evaluation)
        body["engine"] = dict(ENGINE_RECORD)
        return body

    def record_text(self, texts: Mapping[str, str] | None = None) -> str:
        """``record.canonical(self.record)``, the same bytes, made as text (0.56 of the
        time; ``reference.record_text``), with ``texts``' keys added, each value
        canonical text already: trace.jsonl's lines are made here."""
        more = {"engine": _ENGINE_TEXT, **texts} if texts else _ENGINE_TEXTS
        return reference_record_text(self.rulebook, self.person, self.evaluation, more)


# --- value encoding ----------------------------------------------------------------


def encode_number(value: float | int) -> str:
    """JSON text for a number that durable parses back to the same value.

    durable's parser reads ``1e-05`` as ``1`` and then fails (error 204): an
    exponent is only accepted after a fraction, so one is inserted (``1.0e-05``).
    Whole numbers below 2**53 are written as integers (exact, and atoll cannot
    overflow); durable compares integers with doubles numerically.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{value!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))  # also turns -0.0 into 0
    text = repr(float(value))
    mantissa, _, exponent = text.partition("e")
    if exponent and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return text


def _to_json(value: object) -> str:
    """JSON text for the ruleset definition and facts, numbers through encode_number.

    Strings are escaped to ASCII (json.dumps): durable compares the bytes as written,
    so rule literals and fact values only need one consistent spelling.
    """
    if isinstance(value, dict):
        return "{" + ",".join(f"{_to_json(k)}:{_to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_to_json(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return encode_number(value)
    raise TypeError(f"cannot encode {value!r}")


def _fnv1a(name: str) -> int:
    """durable's property-name hash (FNV-1a, 32 bits); properties are keyed by it alone."""
    h = 0x811C9DC5
    for byte in name.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


# --- compilation ---------------------------------------------------------------------

# A field of a person's level fact: (field id, source name, kind, outcome for members).
# kind: number, date, boolean, string (enum/text facts), outcome (a decision's single
# outcome), member (one outcome of a collect decision: "T" when included).
_Field = tuple[str, str, str, str]

_TRUE: dict[str, Any] = {"$true": 1}
_FALSE: dict[str, Any] = {"$false": 1}
_NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">", "in": "not in"}
_NEGATE.update({"not in": "in", "known": "unknown", "unknown": "known"})
_DURABLE_OP = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


@dataclass
class _Level:
    index: int
    decisions: tuple[str, ...]
    decision_specs: tuple[Decision, ...] = ()
    rules: list[tuple[int, Rule]] = field(default_factory=list)  # (index in rulebook, rule)
    fields: dict[tuple[str, str], _Field] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # field id -> name, for traces

    # For the fast encoder (Engine._fact_text), fixed at compile time. The fact's
    # fields in one order: numbers, strings, booleans, dates (read from the person),
    # then outcomes and members (from lower levels' outcomes).
    read: tuple[_Field, ...] = ()  # the fields read from the person, in that order
    ordered: tuple[_Field, ...] = ()  # every field, in that order
    head: str = ""  # the fact's JSON text up to its first field, with %s for the sid
    tail: str = ""  # its outcome and member fields (a %s each) and the closing brace
    outcome_sources: tuple[str, ...] = ()
    member_sources: tuple[tuple[str, str], ...] = ()  # (decision, outcome)
    # For the trace's "asserted": the fields' names sorted, and their values picked from
    # what was sent (``ordered``) in that order.
    trace_names: tuple[str, ...] = ()
    trace_pick: _Pick | None = None
    reads: _Reads | None = None  # this level's own reads, when the person's fail

    def group_fields(self) -> None:
        def kind(name: str) -> tuple[_Field, ...]:
            return tuple(f for f in self.fields.values() if f[2] == name)

        self.read = kind("number") + kind("string") + kind("boolean") + kind("date")
        self.ordered = self.read + kind("outcome") + kind("member")
        # Field ids are f<digits> and the sid is digits: no '%' to escape.
        self.head = f'{{"sid":"%s","l":{self.index}'
        self.tail = "".join(f',"{f[0]}":%s' for f in self.ordered[len(self.read) :]) + "}"
        self.outcome_sources = tuple(f[1] for f in kind("outcome"))
        self.member_sources = tuple((f[1], f[3]) for f in kind("member"))
        position = {f[0]: i for i, f in enumerate(self.ordered)}
        by_name = sorted((name, position[fid]) for fid, name in self.names.items())
        self.trace_names = tuple(name for name, _ in by_name)
        self.trace_pick = _picker([i for _, i in by_name])
        self.reads = _Reads.of([self])


_Pick = Callable[[tuple[object, ...]], tuple[object, ...]]


def _picker(positions: Sequence[int]) -> _Pick:
    """A C-speed ``lambda t: tuple(t[i] for i in positions)`` (itemgetter returns a
    bare value for one position)."""
    if list(positions) == list(range(len(positions))):
        return lambda values: values[: len(positions)]
    if len(positions) == 1:
        only = positions[0]
        return lambda values: (values[only],)
    return itemgetter(*positions)


@dataclass(frozen=True)
class _Reads:
    """The person's part of one or more levels' facts, compiled for the fast encoder:
    each fact is read and checked once, and one template formats every level's
    fields (levels separated by NUL, which no encoded value holds)."""

    first: int  # the index of the first level
    sources: tuple[str, ...]  # the facts read: numbers, then strings, booleans, dates
    cuts: tuple[int, int, int]  # where strings, booleans, dates start in ``sources``
    template: str  # per level, ',"<field id>":%s' per field read
    arrange: _Pick  # the encoded values -> the template's arguments
    pick: tuple[_Pick, ...]  # per level: the values sent -> its read fields, in order

    @staticmethod
    def of(levels: Sequence[_Level]) -> _Reads:
        kinds = ("number", "string", "boolean", "date")
        union = {f[0]: f for level in levels for f in level.read}
        fields = sorted(union.values(), key=lambda f: kinds.index(f[2]))  # stable
        position = {f[0]: i for i, f in enumerate(fields)}
        counts = list(itertools.accumulate(sum(f[2] == k for f in fields) for k in kinds))
        return _Reads(
            first=levels[0].index if levels else 0,
            sources=tuple(f[1] for f in fields),
            cuts=(counts[0], counts[1], counts[2]),
            template="\0".join("".join(f',"{f[0]}":%s' for f in level.read) for level in levels),
            arrange=_picker([position[f[0]] for level in levels for f in level.read]),
            pick=tuple(_picker([position[f[0]] for f in level.read]) for level in levels),
        )

    def encode(self, person: PersonFacts) -> tuple[list[str], tuple[object, ...]] | None:
        """Per level, the text of the fields read (unknowns left out), and the values
        sent, in ``sources`` order (None: unknown); None when a value needs the
        checked encoder (floats durable could misread, wrong types)."""
        values = tuple(map(person.values.get, self.sources))
        strings_at, booleans_at, dates_at = self.cuts
        numbers = values[:strings_at]
        types = set(map(type, numbers))
        if not types <= _NUMBER_OR_NONE:
            return None
        if float in types and not all(map(_plain_float, numbers)):
            return None
        known = cast(tuple[float, ...], tuple(filter(None, numbers)))  # zeros are in range
        # ints beyond 2**53 lose digits as floats and overflow durable's atoll
        if known and not -(2**53) < min(known) <= max(known) < 2**53:
            return None
        texts, sent = numbers, numbers
        if dates_at > strings_at:
            strings = values[strings_at:booleans_at]
            booleans = values[booleans_at:dates_at]
            if not set(map(type, strings)) <= _STR_OR_NONE:
                return None
            if not set(map(type, booleans)) <= _BOOL_OR_NONE:
                return None
            # Strings are written as json.dumps writes them (ASCII escapes), so rule
            # literals and fact values share one spelling.
            texts += tuple(None if v is None else _QUOTE(cast(str, v)) for v in strings)
            texts += tuple(map(_BOOL_TEXT.get, booleans))
            sent += strings + tuple(map(_BOOL_RAW.get, booleans))
        dates = values[dates_at:]
        if dates:
            if not all(v is None or isinstance(v, dt.date) for v in dates):
                return None
            ordinals = tuple(None if v is None else cast(dt.date, v).toordinal() for v in dates)
            texts += ordinals
            sent += ordinals
        if None not in values:
            return (self.template % self.arrange(texts)).split("\0"), sent
        # An unknown value is an absent field: it is written as \x01 (which the
        # encoded values never hold: strings escape control characters), and each
        # \x01 is cut out of the text with its field's ',"<field id>":' before it.
        marked = tuple(map(_UNKNOWN.get, texts, texts))
        pieces = (self.template % self.arrange(marked)).split("\x01")
        text = "".join([piece[: piece.rindex(",")] for piece in pieces[:-1]]) + pieces[-1]
        return text.split("\0"), sent


# A person's facts encoded for every level at once: the reads, per level the text of
# its fields, and the values sent (see _Reads.encode).
_Encoded = tuple[_Reads, list[str], tuple[object, ...]]


class _Compiler:
    """Turns the Rulebook into durable's ruleset definition; one use per Engine."""

    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        self.level_of = {d: k for k, names in enumerate(rulebook.levels) for d in names}
        self.levels = [
            _Level(k, tuple(names), tuple(rulebook.decisions[n] for n in names))
            for k, names in enumerate(rulebook.levels)
        ]
        self.names = self._field_names()
        self.field_ids: dict[tuple[str, str], str] = {}
        self.definition: dict[str, Any] = {}
        self.durable_rule: dict[str, int] = {}  # durable rule name -> index in rulebook.rules
        self._matcher = _MatcherNode()  # durable's alpha network, rebuilt to count children

    @staticmethod
    def _field_names() -> Iterator[str]:
        # Short ids: fact names hold '.' (a durable path) and '-', and 'id'/'sid' are
        # reserved. Properties are found by a 32-bit hash with no name check, so an id
        # whose hash collides with one already used (or with l/sid/id) is skipped.
        taken = {_fnv1a("l"), _fnv1a("sid"), _fnv1a("id")}
        for n in itertools.count():
            name = f"f{n}"
            if _fnv1a(name) not in taken:
                taken.add(_fnv1a(name))
                yield name

    def compile(self) -> None:
        for index, rule in enumerate(self.rulebook.rules):
            if rule.decision not in self.level_of:
                raise RulebookError(
                    f"{place(rule.file, rule.line)}: rule {rule.id}: decision "
                    f"'{rule.decision}' is in no level of the rulebook"
                )
            self.levels[self.level_of[rule.decision]].rules.append((index, rule))
        # durable's createStateNode leaves a session's action context (two pointers)
        # uninitialised, and delete_state frees them: in a session where no action ever
        # started, that frees garbage (abort, "double free or corruption") whenever the
        # state pool's memory was used before. This rule matches every level-0 fact, so
        # every session starts (and completes) at least one action before its deletion.
        self.definition[SENTINEL] = {"all": [{"m": {"l": 0}}]}
        for level in self.levels:
            self._compile_level(level)
        self._check_matcher()

    def _check_matcher(self) -> None:
        """Refuse a definition that would fill a node of durable's matcher.

        durable keeps the tests under one node of its alpha network in a 512-slot hash
        set; when it is full, the lookups that create the ruleset and match a fact loop
        forever (rete.c findAlpha, events.c). The tree is rebuilt here as durable builds
        it (identical tests under one node are shared; an $or's branches hang under the
        node before it, and what follows hangs under a node of its own) and every node
        must stay within MAX_CHILDREN, half of what hangs.
        """
        for name, rule in self.definition.items():
            for alias in rule["all"]:
                for condition in alias.values():
                    widest = _place(self._matcher, condition)
                    if widest > MAX_CHILDREN:
                        index = self.durable_rule.get(name)
                        if index is None:  # pragma: no cover - the sentinel is one test
                            raise RulebookError(f"{self.rulebook.source}: too many tests")
                        bad = self.rulebook.rules[index]
                        raise RulebookError(
                            f"{bad.file}:{bad.line}: rule {bad.id}: with this rule, "
                            f"{widest} tests hang under one node of durable_rules' matcher; "
                            f"the limit is {MAX_CHILDREN} (durable_rules hangs at 512): "
                            "shorten its in (...) or any lists, or split the rule"
                        )

    def _compile_level(self, level: _Level) -> None:
        compiled: list[tuple[int, Rule, list[dict[str, Any]], int]] = []
        for index, rule in level.rules:
            expr = self._normal(rule.when, rule, level, negate=False)
            if expr is _FALSE:
                continue  # can never fire; the checker reports it
            alternatives = [expr]
            if _rule_groups(expr) > MAX_GROUPS and "$or" in expr:
                alternatives = expr["$or"]  # a top-level any: one durable rule per branch
            for alt in alternatives:
                if _rule_groups(alt) > MAX_GROUPS:
                    raise RulebookError(
                        f"{place(rule.file, rule.line)}: rule {rule.id}: its condition nests "
                        f"{_rule_groups(alt)} all/any/in groups; durable_rules takes at most "
                        f"{MAX_GROUPS} (error 113): flatten it or split the rule"
                    )
                compiled.append((index, rule, _conjuncts(alt), _fanout(alt)))
        level.group_fields()
        if len(level.fields) > MAX_FIELDS:
            raise RulebookError(
                f"{self.rulebook.source}: the rules of decision level {level.index} "
                f"({', '.join(level.decisions)}) read {len(level.fields)} facts and "
                f"decisions; durable_rules holds at most {MAX_FIELDS} per fact"
            )
        # durable's alpha matcher pushes every matching child of a node on a 64-entry
        # stack (error 303 when it overflows) and keeps at most 511 children per node:
        # spread the level's rules over buckets, each under an always-true test on l.
        count = len(compiled)
        widest = max((c[3] for c in compiled), default=0)

        def fanout(size: int) -> int:
            # What can be on the stack at once: every bucket node, the first tests of
            # one bucket's rules that match together, and the widest rule's branches.
            firsts = [
                {_to_json(c[2][0]): c[2][0] for c in compiled[i : i + size] if c[2]}
                for i in range(0, count, size)
            ]
            buckets = 0 if size >= count else len(firsts)
            return (
                buckets
                + widest
                + max((_fanout({"$or": list(f.values())}) for f in firsts), default=0)
            )

        # Buckets cost time (durable scans every field of the fact at every node it
        # reaches), so only a level that needs them gets them.
        size = max(count, 1)
        if count > MAX_CHILDREN or fanout(size) > MAX_FANOUT:
            size = math.ceil(math.sqrt(count))
            if fanout(size) > MAX_FANOUT:
                raise RulebookError(
                    f"{self.rulebook.source}: decision level {level.index} has {count} rules "
                    f"that can match together (or 'any' lists too wide); durable_rules' "
                    f"matcher holds {MAX_FANOUT} (error 303): split the level's decisions"
                )
        buckets = size < count
        for position, (index, _rule, conjuncts, _) in enumerate(compiled):
            guard: list[dict[str, Any]] = [{"l": level.index}]
            if buckets:
                guard.append({"$gt": {"l": -1 - position // size}})
            name = f"r{index}" if f"r{index}" not in self.definition else f"r{index}_{position}"
            self.definition[name] = {"all": [{"m": {"$and": guard + conjuncts}}]}
            self.durable_rule[name] = index

    def _field(self, level: _Level, source: str, kind: str, outcome: str = "") -> str:
        key = (source, outcome)
        if key not in self.field_ids:
            self.field_ids[key] = next(self.names)
        level.fields[key] = (self.field_ids[key], source, kind, outcome)
        level.names[self.field_ids[key]] = f"{source}[{outcome}]" if outcome else source
        return self.field_ids[key]

    def _normal(self, expr: Expr, rule: Rule, level: _Level, negate: bool) -> dict[str, Any]:
        """durable's condition for ``expr`` (or its negation), negation at the leaves.

        Exact under Kleene logic: a leaf on an unknown fact is a missing field,
        which durable never matches, and is unknown (not true) here too, as is its
        negation; De Morgan holds in Kleene logic.
        """
        if isinstance(expr, Not):
            return self._normal(expr.part, rule, level, not negate)
        if isinstance(expr, AllOf | AnyOf):
            conjunction = isinstance(expr, AllOf) != negate
            parts = [self._normal(p, rule, level, negate) for p in expr.parts]
            return _combine("$and" if conjunction else "$or", parts)
        op = _NEGATE[expr.op] if negate else expr.op
        return self._leaf(expr, op, rule, level)

    def _leaf(self, cmp: Compare, op: str, rule: Rule, level: _Level) -> dict[str, Any]:
        where = f"{place(cmp.file, cmp.line)}: rule {rule.id}: '{cmp}'"
        decision = self.rulebook.decisions.get(cmp.fact)
        if decision is not None:
            if self.level_of.get(cmp.fact, level.index) >= level.index:
                raise RulebookError(
                    f"{where}: decision '{cmp.fact}' is not resolved "
                    f"before decision '{rule.decision}'"
                )
            if op in ("known", "unknown"):
                return _TRUE if op == "known" else _FALSE  # decisions are never unknown
            values = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
            if any(v not in decision.outcomes for v in values):
                raise RulebookError(f"{where}: not an outcome of decision '{cmp.fact}'")
            if op not in ("==", "!=", "in", "not in"):
                raise RulebookError(f"{where}: decisions compare with ==, !=, in, not in")
            positive = op in ("==", "in")
            if decision.policy == "collect":
                # Membership: one "T"/"F" field per outcome, always present.
                tests: list[dict[str, Any]] = [
                    {self._field(level, cmp.fact, "member", str(v)): "T" if positive else "F"}
                    for v in values
                ]
            else:
                fid = self._field(level, cmp.fact, "outcome")
                tests = [{fid: str(v)} if positive else {"$neq": {fid: str(v)}} for v in values]
            return _combine("$or" if positive else "$and", tests)
        spec = self.rulebook.vocabulary.get(cmp.fact)
        if spec is None:
            raise RulebookError(f"{where}: unknown fact '{cmp.fact}'")
        kind = {"enum": "string", "text": "string"}.get(spec.type, spec.type)
        fid = self._field(level, cmp.fact, kind)
        if op in ("known", "unknown"):
            return {"$ex" if op == "known" else "$nex": {fid: 1}}
        values = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
        encoded = [self._literal(v, kind, where) for v in values]
        if op in ("in", "not in"):
            if op == "in":
                return _combine("$or", [{fid: v} for v in encoded])
            return _combine("$and", [{"$neq": {fid: v}} for v in encoded])
        if op not in ("==", "!=") and kind not in ("number", "date"):
            # durable compares strings byte-wise and a number with a string as text.
            raise RulebookError(f"{where}: '{op}' needs a number or a date")
        if op == "==":
            return {fid: encoded[0]}
        return {_DURABLE_OP[op]: {fid: encoded[0]}}

    @staticmethod
    def _literal(value: object, kind: str, where: str) -> object:
        if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if kind == "date" and isinstance(value, dt.date):
            return value.toordinal()
        if kind == "boolean" and isinstance(value, bool):
            return "T" if value else "F"
        if kind == "string" and isinstance(value, str):
            return value
        raise RulebookError(f"{where}: {value!r} cannot be compared with a {kind} fact")


class _MatcherNode:
    """A node of durable's alpha network: the tests under it, by their JSON text, and how
    many of them sit in its 512-slot hash set ($nex tests go to a list of their own,
    whose limit is an error, not a hang)."""

    __slots__ = ("children", "hashed")

    def __init__(self) -> None:
        self.children: dict[str, _MatcherNode] = {}
        self.hashed = 0


def _place(parent: _MatcherNode, cond: dict[str, Any]) -> int:
    """Add ``cond`` under ``parent`` as durable's createAlpha does; return the most
    hash-set children any node it touched now has."""
    return _add(parent, cond, {})


def _add(parent: _MatcherNode, cond: dict[str, Any], ends: dict[int, _MatcherNode]) -> int:
    """``ends[id(cond)]``: the node the tests after ``cond`` hang under."""
    if "$and" in cond:
        node, widest = parent, 0
        for part in cond["$and"]:
            widest = max(widest, _add(node, part, ends))
            node = ends[id(part)]
        ends[id(cond)] = node
        return widest
    if "$or" in cond:
        widest = max((_add(parent, part, ends) for part in cond["$or"]), default=0)
        ends[id(cond)] = _MatcherNode()  # a forward node of its own: nothing shared
        return widest
    key = _to_json(cond)
    child = parent.children.get(key)
    if child is None:
        child = parent.children[key] = _MatcherNode()
        if not key.startswith('{"$nex"'):
            parent.hashed += 1
    ends[id(cond)] = child
    return parent.hashed


def _combine(op: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """``$and``/``$or`` of parts, with constants folded and same-kind groups flattened."""
    absorbing, neutral = (_FALSE, _TRUE) if op == "$and" else (_TRUE, _FALSE)
    flat: list[dict[str, Any]] = []
    for part in parts:
        if part is absorbing:
            return absorbing
        if part is neutral:
            continue
        flat.extend(part[op] if op in part else [part])
    if not flat:
        return neutral
    return flat[0] if len(flat) == 1 else {op: flat}


def _groups(cond: dict[str, Any]) -> int:
    """How many $and/$or groups a condition has (durable allows 15 per rule)."""
    for op in ("$and", "$or"):
        if op in cond:
            return 1 + sum(_groups(c) for c in cond[op])
    return 0


def _rule_groups(cond: dict[str, Any]) -> int:
    """The groups of the durable rule for ``cond``: its own $and (guard and conjuncts)
    and every group inside the conjuncts."""
    return 1 + sum(_groups(c) for c in _conjuncts(cond))


def _conjuncts(cond: dict[str, Any]) -> list[dict[str, Any]]:
    if cond is _TRUE:
        return []
    return list(cond["$and"]) if "$and" in cond else [cond]


def _fanout(cond: dict[str, Any]) -> int:
    """An upper bound on the alternatives of one rule that can match at once."""
    if "$and" in cond:
        return sum(_fanout(c) for c in cond["$and"])
    if "$or" in cond:
        # Equalities on one field match at most once together.
        equal_fields = {next(iter(c)) for c in cond["$or"] if not next(iter(c)).startswith("$")}
        others = [c for c in cond["$or"] if next(iter(c)).startswith("$")]
        return len(equal_fields) + sum(max(1, _fanout(c)) for c in others)
    return 0


def _error_message(error: Exception) -> str:
    match = _CODE.search(str(error))
    if match is None:
        return str(error)
    code = int(match.group(1))
    return f"{_ERRORS.get(code, 'durable_rules failed')} (durable_rules error code {code})"


def _encode(value: Value, kind: str, source: str, employee_id: str) -> str:
    try:
        if kind == "number":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return encode_number(value)
        elif kind == "date":
            if isinstance(value, dt.date):
                return str(value.toordinal())
        elif kind == "boolean":
            if isinstance(value, bool):
                return '"T"' if value else '"F"'
        elif isinstance(value, str):
            return _to_json(value)
    except ValueError as error:
        raise EngineError(f"{employee_id}: fact '{source}': {error}") from error
    raise EngineError(f"{employee_id}: fact '{source}' should be a {kind}, got {value!r}")


_NUMBER_OR_NONE = {int, float, type(None)}
_STR_OR_NONE = {str, type(None)}
_BOOL_OR_NONE = {bool, type(None)}
# Booleans (and collect memberships) as durable sees them; get(None) stays None.
_BOOL_TEXT: dict[object, str] = {True: '"T"', False: '"F"'}
_NONES = repeat(None)  # endless, so one serves every map(is_not, values, _NONES)
_BOOL_RAW: dict[object, str] = {True: "T", False: "F"}
_UNKNOWN: Mapping[object, object] = {None: "\x01"}  # see _Reads.encode
_QUOTE = json.encoder.encode_basestring_ascii  # what json.dumps does to a str


def _plain_float(value: object) -> bool:
    """True when json.dumps writes ``value`` in a form durable reads back exactly:
    an int, or a finite float whose repr has no exponent."""
    return type(value) is not float or value == 0.0 or 1e-4 <= abs(value) < 1e16


# --- the engine ----------------------------------------------------------------------

_RULESET_NUMBERS = itertools.count(1)


class Engine:
    """One compiled durable ruleset for a Rulebook; evaluates persons one at a time.

    Use as a context manager (or call close()): closing deletes the C ruleset, which
    durable keeps for the life of the process otherwise.
    """

    def __init__(self, rulebook: Rulebook) -> None:
        if _dre is None:
            raise EngineError(
                f"durable_rules {DURABLE_VERSION} cannot be imported on this Python "
                f"({_IMPORT_ERROR}); reinstall talentrules (pip install .), which builds the "
                "patched copy in vendor/durable_rules"
            )
        self.rulebook = rulebook
        compiler = _Compiler(rulebook)
        compiler.compile()
        self._levels = compiler.levels
        self._reads = _Reads.of(self._levels)
        self._durable_rule = compiler.durable_rule
        self._rule_level = [compiler.level_of[rule.decision] for rule in rulebook.rules]
        self.definition = compiler.definition  # durable's JSON form, for docs and tests
        # Unique per Engine and process: durable keeps rulesets in one process-wide table.
        self.name = f"talentrules-{os.getpid()}-{next(_RULESET_NUMBERS)}"
        try:
            self._handle: int | None = _dre.create_ruleset(self.name, _to_json(self.definition))
        except _dre.error as error:
            raise EngineError(
                f"{rulebook.source}: durable_rules refused the compiled rulebook: "
                f"{_error_message(error)}"
            ) from error
        self._closer = weakref.finalize(self, _dre.delete_ruleset, self._handle)
        self._sids = itertools.count(1)  # sequential: one live session, deleted after use
        self._busy = False
        self._acted = False  # the current session has started an action

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the durable ruleset; the Engine cannot evaluate afterwards."""
        self._handle = None
        self._closer()

    def evaluate(self, person: PersonFacts) -> Evaluation:
        """Decide every decision for ``person``; durable_rules does the matching."""
        return self._evaluate(person, None)

    def _evaluate(self, person: PersonFacts, levels: list[dict[str, Any]] | None) -> Evaluation:
        """Evaluate; when ``levels`` is a list, append what each level asserted and fired."""
        if self._handle is None:
            raise EngineError("the engine is closed")
        if self._busy:
            # durable sessions are not re-entrant (a tracer calling back, or threads).
            raise EngineError("the engine is already evaluating a person (one at a time)")
        self._busy = True
        self._acted = False
        handle = self._handle
        sid = str(next(self._sids))
        outcomes: dict[str, tuple[str, ...]] = {}
        fired: list[str] = []
        overruled: dict[str, tuple[str, ...]] = {}
        defaulted: list[str] = []
        # The person's part of every level's fact, encoded at once; a value that
        # needs the checked encoder sends each level through its own reads instead.
        part = self._reads.encode(person)
        encoded = None if part is None else (self._reads, *part)
        try:
            rules = self.rulebook.rules
            for level in self._levels:
                hits = self._run_level(handle, sid, level, person, outcomes, levels, encoded)
                by_decision: dict[str, list[Rule]] = {}
                for i in hits:
                    by_decision.setdefault(rules[i].decision, []).append(rules[i])
                for decision in level.decision_specs:
                    own = by_decision.get(decision.name)
                    if own is None:
                        outcomes[decision.name] = (decision.default,)
                        defaulted.append(decision.name)
                        continue
                    chosen, lost = resolve(decision, own, person.employee_id)
                    outcomes[decision.name] = chosen
                    if lost:
                        overruled[decision.name] = lost
                fired.extend(rules[i].id for i in hits)
        finally:
            self._busy = False
            # Only a session that started an action can be deleted safely (see the
            # sentinel in _Compiler.compile); the sentinel makes that every session
            # that exists, unless durable failed on the very first fact, and then one
            # leaked session (and a fresh sid for the next person) beats a crash.
            if self._acted:
                _dre.delete_state(handle, sid)
        return Evaluation(
            employee_id=person.employee_id,
            outcomes=outcomes,
            fired=tuple(fired),
            overruled=overruled,
            defaulted=tuple(defaulted),
        )

    def _run_level(
        self,
        handle: int,
        sid: str,
        level: _Level,
        person: PersonFacts,
        outcomes: Mapping[str, tuple[str, ...]],
        trace: list[dict[str, Any]] | None,
        encoded: _Encoded | None,
    ) -> list[int]:
        """Assert the person's fact for ``level``; return the fired rules' indexes, sorted."""
        text, sent = self._fact_text(sid, level, person, outcomes, encoded)
        try:
            code, offset = _dre.assert_fact(handle, text)
        except _dre.error as error:
            raise EngineError(
                f"{person.employee_id}: durable_rules could not take the facts of decision "
                f"level {level.index}: {_error_message(error)}"
            ) from error
        if code == 2:
            # MessageObservedException: the same fact twice in one session; sessions are
            # deleted after every person, so durable lost track of one.
            raise EngineError(
                f"{person.employee_id}: durable_rules saw this person's level "
                f"{level.index} fact twice (a session was not deleted)"
            )
        hits: set[int] = set()
        if code == 0:  # 1 = MessageNotHandled: no rule of this level matched
            self._collect(handle, offset, level, hits)
        ordered = sorted(hits)
        if trace is not None:
            if sent is None:  # the checked encoder's text: read back what was sent
                fact = json.loads(text)
                sent = tuple(fact.get(f[0]) for f in level.ordered)
            assert level.trace_pick is not None
            values = level.trace_pick(sent)
            # name -> value, the absent (unknown) left out: built in C, once per level.
            named = zip(level.trace_names, values, strict=True)
            asserted = dict(compress(named, map(is_not, values, _NONES)))
            trace.append(
                {
                    "level": level.index,
                    "decisions": list(level.decisions),
                    "asserted": asserted,
                    "fired": [self.rulebook.rules[i].id for i in ordered],
                }
            )
        return ordered

    @staticmethod
    def _fact_text(
        sid: str,
        level: _Level,
        person: PersonFacts,
        outcomes: Mapping[str, tuple[str, ...]],
        encoded: _Encoded | None = None,
    ) -> tuple[str, tuple[object, ...] | None]:
        """The JSON text of the person's fact for ``level`` (only what its rules read),
        and the values sent, in ``level.ordered`` (None: absent), for the trace.

        The hot path of the adapter: the person's part comes from ``encoded`` (all
        levels at once, ``_Reads.encode``) or else from the level's own reads; the
        outcomes of lower levels are added here. A value the fast encoder does not
        take sends the level through ``_fact_text_checked``, value by value.
        """
        if encoded is None:
            assert level.reads is not None
            part = level.reads.encode(person)
            if part is None:
                return Engine._fact_text_checked(sid, level, person, outcomes), None
            encoded = (level.reads, *part)
        reads, bodies, values = encoded
        chosen = tuple(outcomes[source][0] for source in level.outcome_sources)
        members = tuple(outcome in outcomes[source] for source, outcome in level.member_sources)
        text = (
            level.head % sid
            + bodies[level.index - reads.first]
            + level.tail % (tuple(map(_QUOTE, chosen)) + tuple(map(_BOOL_TEXT.get, members)))
        )
        sent = reads.pick[level.index - reads.first](values) + chosen
        return text, sent + tuple(map(_BOOL_RAW.get, members))

    @staticmethod
    def _fact_text_checked(
        sid: str, level: _Level, person: PersonFacts, outcomes: Mapping[str, tuple[str, ...]]
    ) -> str:
        """``_fact_text`` value by value: numbers through encode_number, types checked."""
        values = person.values
        parts = [f'{{"sid":"{sid}","l":{level.index}']
        for fid, source, kind, outcome in level.fields.values():
            if kind == "member":
                parts.append(f',"{fid}":"T"' if outcome in outcomes[source] else f',"{fid}":"F"')
                continue
            value: Value = outcomes[source][0] if kind == "outcome" else values.get(source)
            if value is None:
                continue  # unknown: the field is absent, and absent never matches
            parts.append(f',"{fid}":{_encode(value, kind, source, person.employee_id)}')
        parts.append("}")
        return "".join(parts)

    def _collect(self, handle: int, offset: int, level: _Level, hits: set[int]) -> None:
        """The action loop: take every pending action of the session, record its rule."""
        started = _dre.start_action_for_state(handle, offset)
        self._acted = self._acted or started is not None
        messages: str | None = None if started is None else started[1]
        while messages is not None:
            # The message is {"<rule name>":{"m":{...the fact...}}}; the name is ours.
            name = messages[2 : messages.index('"', 2)]
            if name == SENTINEL:
                messages = _dre.complete_and_start_action(handle, offset)
                continue
            try:
                self._record(name, level, hits)
            except (KeyError, ValueError, TypeError, EngineError) as error:
                _dre.abandon_action(handle, offset)
                index = self._durable_rule.get(name)
                rule = self.rulebook.rules[index] if index is not None else None
                what = f"rule {rule.id} ({place(rule.file, rule.line)})" if rule else f"'{name}'"
                raise EngineError(f"{what}: its action failed: {error}") from error
            messages = _dre.complete_and_start_action(handle, offset)

    def _record(self, name: str, level: _Level, hits: set[int]) -> None:
        """What a rule's action does: note that the rule fired (once, even when durable
        fires it once per matching branch of an ``any``)."""
        index = self._durable_rule[name]
        if self._rule_level[index] != level.index:
            raise EngineError(f"fired while evaluating decision level {level.index}")
        hits.add(index)

    def explain(self, person: PersonFacts) -> tuple[Evaluation, dict[str, Any]]:
        """Evaluate and return the engine's own record: per level, what was asserted
        (fact name -> JSON text sent) and which rules fired."""
        levels: list[dict[str, Any]] = []
        evaluation = self._evaluate(person, levels)
        info = {"evaluator": "durable_rules", "durable_rules": DURABLE_VERSION, "levels": levels}
        return evaluation, info


def compile_problems(rulebook: Rulebook) -> list[str]:
    """What durable_rules would refuse in a rulebook the language checker passed: the
    limits found here (docs/engine.md: 15 all/any groups in a rule, 250 facts a level,
    the matcher's 64-entry stack), found by compiling the rulebook and loading it into
    durable_rules, then deleting it. For ``rules check``, so no run meets them first."""
    try:
        Engine(rulebook).close()
    except (RulebookError, EngineError) as error:
        return [str(error)]
    return []


# --- runs over many persons -----------------------------------------------------------

_WORKER: dict[str, Any] = {}
# ``run(note=...)``: something made of each person's facts and evaluation, kept.
Note = Callable[[PersonFacts, Evaluation], Any]

# Persons per batch in one process: how often ``progress`` is told.
_BATCH = 128


def _results(
    engine: Engine,
    persons: Sequence[PersonFacts],
    source: FactsOnDemand | None,
    keep: Sequence[str],
    note: Note | None = None,
) -> list[Result]:
    """Evaluate a batch with the engine (the traces are built later, on demand, from
    ``source`` when given, else from the facts evaluated)."""
    rulebook = engine.rulebook
    results = []
    for p in persons:
        e = engine.evaluate(p)
        shared = _shared((e.outcomes, e.fired, e.overruled, e.defaulted))  # as _unpack's
        evaluation = Evaluation(e.employee_id, *shared)
        results.append(
            Result(
                p.employee_id,
                evaluation,
                p if source is None else source,
                rulebook,
                _shared({name: p.values.get(name) for name in keep}),
                None if note is None else _shared(note(p, evaluation)),
            )
        )
    return results


def _span(
    persons: Sequence[PersonFacts] | FactsOnDemand, start: int, end: int
) -> Sequence[PersonFacts]:
    if not isinstance(persons, FactsOnDemand):
        return persons[start:end]
    # A chunk's rows read at once, one query a sheet (``Panel.reading``), instead of one
    # query a person and sheet as each is derived: the same rows, in the same order.
    with persons.derivation.panel.reading(persons.ids[start:end]):
        return persons.span(start, end)


def _work(span: tuple[int, int]) -> bytes:
    """Evaluate a chunk in a worker; the evaluations (and the facts kept) as bytes for
    the parent (marshal packs plain data in about half the time pickle takes)."""
    engine: Engine = _WORKER["engine"]
    keep: Sequence[str] = _WORKER["keep"]
    note: Note | None = _WORKER.get("note")
    rows = []
    for person in _span(_WORKER["persons"], *span):
        e = engine.evaluate(person)
        kept = tuple(person.values.get(name) for name in keep)
        noted = None if note is None else note(person, e)
        rows.append((e.employee_id, e.outcomes, e.fired, e.overruled, e.defaulted, kept, noted))
    try:
        return b"M" + marshal.dumps(rows)
    except ValueError:  # "unmarshallable object": an outcome or fact that is not plain data
        return b"P" + pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)


# Tuples and dicts already seen in this run's evaluations (``_shared``; a dict by its
# items), emptied when it ends.
_TUPLES: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_DICTS: dict[tuple[Any, ...], dict[Any, Any]] = {}


def _shared(value: Any) -> Any:
    """``value`` with its strings interned and equal tuples and dicts of them made one:
    every person's evaluation is kept for the run, and a worker's rule ids, decision
    names and outcomes arrive as new copies for each, where one of each will do (most
    people share their outcomes, a dict of some 600 bytes, with many others; nothing
    changes an evaluation once made)."""
    kind = type(value)
    if kind is str:
        return sys.intern(value)
    if kind is tuple:
        try:  # seen already (most are): the one kept, equal to what making it gives
            seen = _TUPLES.get(value)
        except TypeError:
            seen = None
        if seen is not None:
            return seen
        items = tuple(_shared(v) for v in value)
        try:
            return _TUPLES.setdefault(items, items)
        except TypeError:  # something unhashable inside: kept as it is
            return items
    if kind is list:
        return [_shared(v) for v in value]
    if kind is dict:
        try:  # as for a tuple: looked up by its items before they are made one
            kept = _DICTS.get(tuple(value.items()))
        except TypeError:
            kept = None
        if kept is not None:
            return kept
        made = {_shared(k): _shared(v) for k, v in value.items()}
        try:
            return _DICTS.setdefault(tuple(made.items()), made)
        except TypeError:  # something unhashable inside: kept as it is
            return made
    return value


def _unpack(
    chunk: bytes,
    rulebook: Rulebook,
    persons: Sequence[PersonFacts] | FactsOnDemand,
    keep: Sequence[str],
) -> list[Result]:
    """A worker's chunk as Results (``persons``: the chunk's persons, in order, or where
    they are derived again)."""
    rows = [
        (eid, *_shared(row))
        for eid, *row in (
            marshal.loads(chunk[1:]) if chunk[:1] == b"M" else pickle.loads(chunk[1:])
        )
    ]
    sources: Sequence[PersonFacts | FactsOnDemand] = (
        [persons] * len(rows) if isinstance(persons, FactsOnDemand) else persons
    )
    return [
        Result(
            eid,
            Evaluation(eid, outcomes, fired, overruled, defaulted),
            source,
            rulebook,
            _shared(dict(zip(keep, kept, strict=True))),
            noted,
        )
        for source, (eid, outcomes, fired, overruled, defaulted, kept, noted) in zip(
            sources, rows, strict=True
        )
    ]


def _spans(total: int, jobs: int) -> list[tuple[int, int]]:
    """The persons' chunks, in order: each about an eighth of what is left for ``jobs``
    workers, at most 500 and at least 25 persons, so that the last are short and the
    workers finish together."""
    spans = []
    start = 0
    while start < total:
        size = max(25, min(500, math.ceil((total - start) / (jobs * 4))))
        spans.append((start, min(start + size, total)))
        start += size
    return spans


def _start_worker(
    rulebook: Rulebook | None = None,
    persons: Sequence[PersonFacts] | FactsOnDemand | None = None,
    keep: Sequence[str] = (),
    note: Note | None = None,
) -> None:
    """A worker's engine; under spawn the run arrives here, pickled (fork inherits it)."""
    quiet_worker()  # Ctrl-C is the parent's to handle: no traceback from a worker
    if rulebook is not None and persons is not None:
        gc.disable()  # as the parent, which forked workers inherit
        _WORKER.update(rulebook=rulebook, persons=persons, keep=keep, note=note)
    _WORKER["engine"] = Engine(_WORKER["rulebook"])


def run(
    rulebook: Rulebook,
    persons: Sequence[PersonFacts] | FactsOnDemand,
    jobs: int | None = None,
    tracer: Callable[[dict[str, Any]], None] | None = None,
    progress: Callable[[int], None] | None = None,
    keep: Sequence[str] = (),
    note: Note | None = None,
) -> list[Result]:
    """Evaluate every person; results in employee_id order, each able to build its trace.

    ``jobs`` processes (default: the machine's cores), one engine each; results and
    traces are identical for any ``jobs`` and any input order. ``tracer`` gets each
    trace, in employee_id order (built for it); ``progress`` the number of persons
    done so far; ``keep`` names the facts each Result keeps (``Result.kept``); ``note`` makes
    each Result's ``noted`` from the person's facts and evaluation, where the facts are
    derived anyway (plain data: it travels back from a worker). Given
    ``FactsOnDemand``, persons are derived a batch at a time (in the workers, when
    there are several) and not kept: each Result derives its person again when asked.
    """
    if isinstance(persons, FactsOnDemand):
        ordered: Sequence[PersonFacts] | FactsOnDemand = persons
        ids = persons.ids
        source: FactsOnDemand | None = persons
    else:
        ordered = sorted(persons, key=lambda p: p.employee_id)
        ids = [p.employee_id for p in ordered]
        source = None
    for a, b in itertools.pairwise(ids):
        if a == b:
            raise EngineError(f"two persons have employee_id {a!r}")
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(ordered) // 50 or 1))
    results: list[Result] = []

    def done(batch: list[Result]) -> None:
        results.extend(batch)
        if tracer is not None:
            for result in batch:
                tracer(result.trace)
        if progress is not None:
            progress(len(results))

    # The collector's passes over the heap of persons and results free nothing (all of
    # it acyclic and kept) and would cost a good share of the run. Forked workers
    # inherit the setting.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if jobs == 1:
            with Engine(rulebook) as engine:
                for start in range(0, len(ordered), _BATCH):
                    batch = _span(ordered, start, start + _BATCH)
                    done(_results(engine, batch, source, keep, note))
            return results
        Engine(rulebook).close()  # compile errors surface here, not in a worker
        spans = _spans(len(ordered), jobs)
        # fork: workers inherit the rulebook and persons instead of unpickling them;
        # spawn (no fork, or macOS): they are pickled once per worker.
        pools = processes.context()
        _WORKER.update(rulebook=rulebook, persons=ordered, keep=keep, note=note)
        forked = pools.get_start_method() == "fork"
        initargs = () if forked else (rulebook, ordered, keep, note)
        with pools.Pool(jobs, _start_worker, initargs) as pool:
            for (start, end), chunk in zip(spans, pool.imap(_work, spans), strict=True):
                persons_of = ordered if source is not None else _span(ordered, start, end)
                done(_unpack(chunk, rulebook, persons_of, keep))
    finally:
        _WORKER.clear()
        _TUPLES.clear()
        _DICTS.clear()
        if collecting:
            gc.enable()
    return results
