"""The trace line (docs/trace.md, ``trace_version`` 3): what trace.jsonl keeps of a
person's trace, and the full trace worked out again from a line alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from talentrules.facts import PersonFacts
from talentrules.model import Value
from talentrules.reference.compiled import compile_rulebook
from talentrules.reference.evaluation import evaluate
from talentrules.reference.explanation import TRACE_VERSION, explain
from talentrules.reference.values import Json
from talentrules.rulebook import Evaluation, Rulebook


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
