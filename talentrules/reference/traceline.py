"""The trace line (docs/trace.md, ``trace_version`` 3): what trace.jsonl keeps of a
person's trace, and the full trace worked out again from a line alone."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from json.encoder import encode_basestring  # json's own, as canonical uses it
from operator import is_not

from talentrules.facts import PersonFacts
from talentrules.jsontext import canonical, strings_text
from talentrules.model import Value
from talentrules.reference.compiled import CompiledReference, compile_rulebook
from talentrules.reference.evaluation import evaluate
from talentrules.reference.explanation import TRACE_VERSION, explain
from talentrules.reference.values import Json
from talentrules.rulebook import Decision, Evaluation, Rulebook

# A decision's text in a line, by (outcomes, its rules that fired, overruled, defaulted):
# per decision, bounded (a few hundred combinations at 10,000 people).
_DECISION_TEXTS_LIMIT = 1024


def record(rulebook: Rulebook, person: PersonFacts, evaluation: Evaluation) -> dict[str, Json]:
    """A trace.jsonl line's body (``trace_version`` 3): what a replay needs and an
    auditor reads, without what follows from it. Every fact a rule reads with its value
    and cells; per decision its level, policy, outcomes, the rules that fired and which
    of them were overruled. The fired rules' conditions, the why-not and the
    counterfactuals are ``explain``'s, worked out again from these facts and the
    rulebook (``replay``): about a sixth of the size."""
    compiled = compile_rulebook(rulebook)
    values, cells = person.values, person.cells
    facts: dict[str, Json] = {}
    for name in compiled.read:
        value = values.get(name)
        facts[name] = value.isoformat() if isinstance(value, dt.date) else value
    fired: dict[str, list[str]] = {name: [] for name in rulebook.decisions}
    for rule_id in evaluation.fired:
        fired[compiled.rules[rule_id].rule.decision].append(rule_id)
    defaulted = set(evaluation.defaulted)
    return {
        "trace_version": TRACE_VERSION,
        "employee_id": person.employee_id,
        "facts": facts,
        "cells": {name: cells[name] for name in compiled.read if name in cells},
        "fired": evaluation.fired,  # by level, then rulebook order
        "decisions": {
            decision.name: {
                "policy": decision.policy,
                "level": level,
                "outcomes": evaluation.outcomes.get(decision.name, (decision.default,)),
                "defaulted": decision.name in defaulted,
                "fired": fired[decision.name],
                "overruled": evaluation.overruled.get(decision.name, ()),
            }
            for decision, level, _ in compiled.plan
        },
    }


def record_text(
    rulebook: Rulebook,
    person: PersonFacts,
    evaluation: Evaluation,
    texts: Mapping[str, str] | None = None,
) -> str:
    """``canonical({**record(...), **extra})``, where ``texts`` holds each extra key's
    value as canonical text already: the same bytes, in a little over half the time
    (trace.jsonl's lines are made here). A decision's part of a line is the same for
    everyone with the same outcomes, fired and overruled rules, so its text is kept
    (``_LineText``); the facts object is one format string with a place per fact, its
    names written once; only the person's values and cells are encoded anew."""
    line = _line_text(compile_rulebook(rulebook))
    # The values in the facts' (sorted) order; most are ints, whose text is what "%s"
    # writes: the others (found at C speed) are made text first.
    values = list(map(person.values.get, line.facts))
    for n in compress(line.places, map(is_not, map(type, values), repeat(int))):
        values[n] = _value_text(values[n])
    fired: dict[str, list[str]] = {name: [] for name in line.decision_names}
    decision_of = line.decision_of
    for rule_id in evaluation.fired:
        fired[decision_of[rule_id]].append(rule_id)
    outcomes_of, overruled = evaluation.outcomes, evaluation.overruled
    defaulted = set(evaluation.defaulted)
    decisions = []
    for name, head, decision, level, memo in line.decisions:
        outcomes = outcomes_of.get(name, (decision.default,))
        here = fired[name]
        lost = overruled.get(name, ())
        key: object = (outcomes, tuple(here), lost, name in defaulted)
        try:
            text = memo.get(key)
        except TypeError:  # unhashable: a list where a tuple belongs
            key, text = None, None
        if text is None:
            keep, text = _decision_text(decision, level, outcomes, here, lost, name in defaulted)
            if keep and key is not None and len(memo) < _DECISION_TEXTS_LIMIT:
                memo[key] = text
        decisions.append(head + text)
    employee_id = person.employee_id
    parts = {
        "trace_version": line.version,
        "employee_id": encode_basestring(employee_id)
        if type(employee_id) is str
        else canonical(employee_id),
        "facts": line.facts_format % tuple(values),
        "cells": _cells_text(line, person.cells),
        "fired": strings_text(evaluation.fired),
        "decisions": "{" + ",".join(decisions) + "}",
    }
    if texts:
        parts.update(texts)
    return "{" + ",".join([encode_basestring(k) + ":" + v for k, v in sorted(parts.items())]) + "}"


def _cells_text(line: _LineText, cells: Mapping[str, Sequence[str]]) -> str:
    """``canonical`` of the cells of the facts rules read. A cell's name rarely needs
    escaping, so they are joined as they are and the whole checked once: no backslash,
    nothing unprintable, and only the quotes the joining put in; else canonical's."""
    out = []
    count = 0
    get = cells.get
    for head, empty, name in line.cell_heads:
        refs = get(name, _ABSENT)
        if type(refs) is tuple:
            if not refs:
                out.append(empty)
                continue
            try:
                out.append(head + '","'.join(refs) + '"]')
            except TypeError:  # not all names of cells: as canonical writes them
                count = -1
                break
            count += len(refs)
        elif refs is not _ABSENT:  # not a tuple of cells: as canonical writes it
            count = -1
            break
    text = "{" + ",".join(out) + "}"
    # Each tuple of k cells put in 2k + 2 quotes: a quote more is one in a cell's name.
    if count >= 0 and "\\" not in text and text.isprintable():
        if text.count('"') == 2 * (count + len(out)):
            return text
    read = line.read
    return canonical({name: refs for name, refs in cells.items() if name in read})


_ABSENT = object()


@dataclass(frozen=True, slots=True)
class _LineText:
    """What every trace line of a rulebook shares, worked out once (``record_text``)."""

    facts: tuple[str, ...]  # the facts some rule reads, sorted (the line's key order)
    places: range  # their positions
    facts_format: str  # '{"a":%s,"b":%s}': the facts object, a place per value
    read: frozenset[str]
    # per fact, sorted: the start of its cells' entry ('"a":["'), its entry when it has
    # none ('"a":[]'), its name
    cell_heads: tuple[tuple[str, str, str], ...]
    decision_of: dict[str, str]  # rule id -> its decision
    decision_names: tuple[str, ...]
    # per decision, sorted by name: its key's text ('"heart":'), the decision, its level
    # and its texts by (outcomes, fired, overruled, defaulted)
    decisions: tuple[tuple[str, str, Decision, int, dict[object, str]], ...]
    version: str  # trace_version's text


_LINE_TEXTS: dict[int, tuple[CompiledReference, _LineText]] = {}


def _line_text(compiled: CompiledReference) -> _LineText:
    rulebook = compiled.rulebook
    cached = _LINE_TEXTS.get(id(compiled))
    if cached is not None and cached[0] is compiled:
        return cached[1]
    facts = compiled.read
    line = _LineText(
        facts,
        range(len(facts)),
        "{" + ",".join(encode_basestring(name).replace("%", "%%") + ":%s" for name in facts) + "}",
        compiled.read_set,
        tuple((f'{encode_basestring(n)}:["', f"{encode_basestring(n)}:[]", n) for n in facts),
        {rule_id: cr.rule.decision for rule_id, cr in compiled.rules.items()},
        tuple(rulebook.decisions),
        tuple(
            sorted(
                (decision.name, encode_basestring(decision.name) + ":", decision, level, {})
                for decision, level, _ in compiled.plan
            )
        ),
        canonical(TRACE_VERSION),
    )
    if len(_LINE_TEXTS) >= 16:  # as compile_rulebook's cache: a handful of rulebooks
        _LINE_TEXTS.clear()
    _LINE_TEXTS[id(compiled)] = (compiled, line)
    return line


def _value_text(value: object) -> str:
    """A fact's value as canonical writes it (a date as its ISO text, as ``record``)."""
    if type(value) is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    return canonical(value)  # dates, subclasses, and json's own errors


def _decision_text(
    decision: Decision,
    level: int,
    outcomes: Sequence[str],
    fired: Sequence[str],
    overruled: Sequence[str],
    defaulted: bool,
) -> tuple[bool, str]:
    """A decision's object in a line, keys sorted, and whether it may be kept: only
    when every item is text (a key that holds 1 also finds True, whose text differs)."""
    try:
        return True, (
            f'{{"defaulted":{"true" if defaulted else "false"}'
            f',"fired":{strings_text(fired, strict=True)}'
            f',"level":{int.__repr__(level)}'
            f',"outcomes":{strings_text(outcomes, strict=True)}'
            f',"overruled":{strings_text(overruled, strict=True)}'
            f',"policy":{encode_basestring(decision.policy)}}}'
        )
    except TypeError:
        return False, canonical(
            {
                "policy": decision.policy,
                "level": level,
                "outcomes": outcomes,
                "defaulted": defaulted,
                "fired": fired,
                "overruled": overruled,
            }
        )


def replay(rulebook: Rulebook, line: Mapping[str, Json]) -> tuple[Evaluation, dict[str, Json]]:
    """A trace.jsonl line worked out again under ``rulebook``, without the workbook:
    the evaluation of the facts it records, and the full trace (``explain``: each fired
    rule's conditions with the values read, why-not, counterfactuals). The evaluation
    equals the line's when the rulebook is the run's and the line is untouched."""
    compiled = compile_rulebook(rulebook)
    dates = set(compiled.date_facts)
    values: dict[str, Value] = {}
    for name, value in dict(line["facts"]).items():
        values[name] = dt.date.fromisoformat(value) if name in dates and value else value
    cells = {name: tuple(refs) for name, refs in dict(line.get("cells", {})).items()}
    person = PersonFacts(str(line["employee_id"]), values, cells)
    evaluation = evaluate(rulebook, person)
    return evaluation, explain(rulebook, person, evaluation)
