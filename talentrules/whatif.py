"""What if: one person's decisions with some facts (or parameters) changed.

``talentrules explain EMPLOYEE_ID WORKBOOK --set FACT=VALUE`` evaluates the person as
the workbook has them, then again with the changes, through the durable_rules engine
both times, and shows the changed facts beside the real ones and which decisions
moved. A fact is set as given: the facts derived from the same rows are not derived
again (set those too), but a fact computed by a formula from it follows it
(``performance`` moves ``performance_trend``) unless it is set too. A parameter
(``--set '$habit_months=18'``) is changed in the rulebook for this evaluation only:
every rule and every fact derivation that reads it follows, so the facts it changes
are derived again from the workbook's rows. Nothing is written and nothing is
recorded: a what-if is a question, not a run.
"""

from __future__ import annotations

import difflib
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from talentrules import facts as facts_module
from talentrules.engine import Engine
from talentrules.errors import SettingError
from talentrules.facts import CATALOGUE_FILE, PersonFacts
from talentrules.model import Value
from talentrules.rulebook import Evaluation, Rulebook, load_rulebook
from talentrules.rulefiles import (
    MAX_LITERAL,
    Bad,
    Report,
    RuleFiles,
    number_of,
    open_rules,
    show,
)
from talentrules.run import RunResult, evaluate_workbook
from talentrules.vocabulary import PARAMETERS_FILE, Names, formula_facts, parse_literal

UNKNOWN = ("", "~", "unknown")  # what --set FACT= or FACT=~ means: a blank cell


@dataclass(frozen=True)
class Change:
    """One fact or parameter: its real value and its value in the what-if."""

    name: str  # a fact, or $parameter
    real: str
    changed: str
    given: bool  # set on the command line (else derived anew from a parameter)


@dataclass(frozen=True)
class Moved:
    """One decision: its real outcome(s) and its outcome(s) in the what-if."""

    decision: str
    heading: str
    real: tuple[str, ...]
    changed: tuple[str, ...]

    @property
    def moved(self) -> bool:
        return self.real != self.changed


@dataclass(frozen=True)
class WhatIf:
    """A person's decisions, real and with the changes."""

    employee_id: str
    name: str
    workbook: str
    rulebook: str
    changes: tuple[Change, ...]
    decisions: tuple[Moved, ...]
    now_fire: tuple[str, ...]
    no_longer_fire: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        return {
            "employee_id": self.employee_id,
            "workbook": self.workbook,
            "rulebook": self.rulebook,
            "changes": [vars(c) for c in self.changes],
            "decisions": [
                {
                    "decision": d.decision,
                    "real": list(d.real),
                    "what_if": list(d.changed),
                    "moved": d.moved,
                }
                for d in self.decisions
            ],
            "now_fire": list(self.now_fire),
            "no_longer_fire": list(self.no_longer_fire),
        }


# --------------------------------------------------------------------------------------
# Reading --set
# --------------------------------------------------------------------------------------


def split_settings(settings: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """``FACT=VALUE`` and ``$PARAMETER=NUMBER`` texts -> (facts, parameters)."""
    found: dict[str, str] = {}
    named: dict[str, str] = {}
    for setting in settings:
        name, equals, value = setting.partition("=")
        name = name.strip()
        if not equals or not name:
            raise SettingError(
                f"--set {setting!r}: write FACT=VALUE (performance=4) or $PARAMETER=NUMBER "
                "('$habit_months=18')"
            )
        target = named if name.startswith("$") else found
        key = name.lstrip("$")
        if key in target:
            raise SettingError(f"--set {name}: given twice")
        target[key] = value.strip()
    return found, named


def _fact_value(rulebook: Rulebook, fact: str, text: str) -> Value:
    """``text`` as a value of ``fact``, checked against the vocabulary."""
    spec = rulebook.vocabulary.get(fact)
    if spec is None:
        if fact in rulebook.decisions:
            raise SettingError(
                f"--set {fact}: '{fact}' is a decision, decided by its rules; set the facts "
                "they read instead"
            )
        close = difflib.get_close_matches(fact, list(rulebook.vocabulary), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise SettingError(f"--set {fact}: no fact '{fact}' in the rulebook's vocabulary{hint}")
    if text.strip().casefold() in UNKNOWN:
        return None
    names = Names(dict(rulebook.parameters), dict(rulebook.sets))
    value = parse_literal(text, spec.type, spec.values, fact, names)
    if isinstance(value, Bad):
        raise SettingError(f"--set {fact}={text}: {value.reason}")
    if isinstance(value, tuple):
        raise SettingError(f"--set {fact}={text}: one value, not a set")
    if spec.type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        low, high = spec.minimum, spec.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise SettingError(
                f"--set {fact}={text}: outside the range of '{fact}' [{show(low)}, {show(high)}]"
            )
        if spec.whole and not float(value).is_integer():
            raise SettingError(f"--set {fact}={text}: '{fact}' is a whole number")
    return value


# --------------------------------------------------------------------------------------
# A rulebook with parameters changed
# --------------------------------------------------------------------------------------


class _Parameters(RuleFiles):
    """A rulebook's files, with some parameters' values replaced (for one what-if)."""

    def __init__(self, files: RuleFiles, values: Mapping[str, int | float]) -> None:
        self.files = files
        self.path = files.path
        self.name = files.name
        self.problems = list(files.problems)
        self.values = values

    def names(self) -> list[str]:
        return self.files.names()

    def label(self, name: str) -> str:
        return self.files.label(name)

    def node(self, name: str, report: Report) -> yaml.Node | None:
        node = self.files.node(name, report)
        if name != PARAMETERS_FILE or not isinstance(node, yaml.MappingNode):
            return node
        return _replaced(node, self.values)

    def data(self, name: str) -> bytes:
        if name == PARAMETERS_FILE:
            node = self.node(name, Report())
            return yaml.serialize(node).encode("utf-8") if node is not None else b""
        return self.files.data(name)

    def test_names(self) -> list[str]:
        return self.files.test_names()

    def test_label(self, name: str) -> str:
        return self.files.test_label(name)

    def test_node(self, name: str) -> yaml.Node | None:
        return self.files.test_node(name)

    def hashes(self) -> dict[str, str]:
        return self.files.hashes()


def _replaced(node: yaml.MappingNode, values: Mapping[str, int | float]) -> yaml.MappingNode:
    """A copy of parameters.yaml's tree with ``values`` for the named parameters."""

    def entry(key: yaml.Node, body: yaml.Node) -> tuple[yaml.Node, yaml.Node]:
        if not isinstance(body, yaml.MappingNode) or str(key.value) not in values:
            return key, body
        value = show(values[str(key.value)])
        fields = [
            (k, yaml.ScalarNode(_number_tag(value), value, v.start_mark, v.end_mark))
            if isinstance(k, yaml.ScalarNode) and k.value == "value"
            else (k, v)
            for k, v in body.value
        ]
        return key, yaml.MappingNode(body.tag, fields, body.start_mark, body.end_mark)

    top = []
    for key, section in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "parameters":
            if isinstance(section, yaml.MappingNode):
                entries = [entry(k, v) for k, v in section.value]
                section = yaml.MappingNode(
                    section.tag, entries, section.start_mark, section.end_mark
                )
        top.append((key, section))
    return yaml.MappingNode(node.tag, top, node.start_mark, node.end_mark)


def _number_tag(text: str) -> str:
    return "tag:yaml.org,2002:int" if "." not in text else "tag:yaml.org,2002:float"


def _parameter_values(rulebook: Rulebook, given: Mapping[str, str]) -> dict[str, int | float]:
    found: dict[str, int | float] = {}
    for name, text in given.items():
        if name not in rulebook.parameters:
            close = difflib.get_close_matches(name, list(rulebook.parameters), n=1)
            hint = f"; did you mean '${close[0]}'?" if close else ""
            raise SettingError(f"--set ${name}: no parameter '{name}' in the rulebook{hint}")
        value = number_of(text)
        if value is None or not math.isfinite(value) or abs(value) >= MAX_LITERAL:
            raise SettingError(f"--set ${name}={text}: a parameter's value is a number")
        found[name] = value
    return found


# --------------------------------------------------------------------------------------
# The what-if
# --------------------------------------------------------------------------------------


def _shown(value: Value | tuple[str, ...]) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return show(value)


def _evaluate(rulebook: Rulebook, person: PersonFacts) -> Evaluation:
    with Engine(rulebook) as engine:
        return engine.evaluate(person)


def what_if(
    employee_id: str,
    workbook: str | Path,
    settings: Sequence[str],
    rules_dir: str | Path | None = None,
    allow_rejects: bool = False,
    result: RunResult | None = None,
) -> WhatIf:
    """The person's decisions as the workbook has them and with ``settings`` applied."""
    fact_texts, parameter_texts = split_settings(settings)
    real = result or evaluate_workbook(workbook, rules_dir, allow_rejects=allow_rejects)
    real.index(employee_id)  # an unknown person is an input error (UnknownPersonError)
    person = real.facts[employee_id]
    rulebook = real.rulebook
    before = real.result(employee_id).evaluation
    changes: list[Change] = []
    values: dict[str, Value] = dict(person.values)
    notes: list[str] = []
    if parameter_texts:
        parameters = _parameter_values(rulebook, parameter_texts)
        files = _Parameters(open_rules(real.rules_dir), parameters)
        rulebook = load_rulebook(files)
        catalogue = facts_module.load_catalogue(files) if files.has(CATALOGUE_FILE) else None
        # Only this person's facts under the changed parameters, not everyone's.
        derivation = facts_module.PanelDerivation(real.panel, rulebook.vocabulary, catalogue)
        derived = derivation.person(real.employees[employee_id])
        for name, number in parameters.items():
            old = real.rulebook.parameters[name].value
            changes.append(Change(f"${name}", _shown(old), _shown(number), True))
        for fact, anew in derived.values.items():
            if fact not in fact_texts and person.values.get(fact) != anew:
                changes.append(Change(fact, _shown(person.values.get(fact)), _shown(anew), False))
        values = dict(derived.values)
    given: dict[str, Value] = {}
    for fact, text in fact_texts.items():
        given[fact] = _fact_value(rulebook, fact, text)
    for fact, set_to in given.items():
        changes.append(Change(fact, _shown(person.values.get(fact)), _shown(set_to), True))
        values[fact] = set_to
    # A fact computed by a formula from a fact set follows it (unless set too).
    followed = facts_module.follow_formulas(
        values, formula_facts(rulebook.vocabulary), given, given
    )
    for fact, anew in followed.items():
        if values.get(fact) != anew:
            changes.append(Change(fact, _shown(values.get(fact)), _shown(anew), False))
        values[fact] = anew
    if any(rulebook.vocabulary[f].derivation is not None for f in given):
        notes.append(
            "Facts are set as given: the facts derived from the same rows are not derived "
            "again (set them too)."
        )
    after = _evaluate(rulebook, PersonFacts(employee_id, values, {}))
    decisions = tuple(
        Moved(
            name,
            rulebook.decisions[name].heading,
            before.outcomes.get(name, ()),
            after.outcomes.get(name, ()),
        )
        for level in rulebook.levels
        for name in level
    )
    employee = real.employees.get(employee_id)
    full_name = str(employee.get("full_name") or "") if employee is not None else ""
    notes.append(
        "Investments are the recommendation before seats and budget: allocation weighs the "
        "whole panel, so a what-if does not allocate."
    )
    return WhatIf(
        employee_id=employee_id,
        name=full_name,
        workbook=real.panel.path.name,
        rulebook=f"{Path(rulebook.source).absolute()} @ sha256 {real.rulebook.sha256[:12]}",
        changes=tuple(changes),
        decisions=decisions,
        now_fire=tuple(r for r in after.fired if r not in before.fired),
        no_longer_fire=tuple(r for r in before.fired if r not in after.fired),
        notes=tuple(notes),
    )


def format_what_if(report: WhatIf, width: int = 80) -> str:
    """The what-if as terminal text: changes, then every decision, what moved marked."""
    lines = [
        f"What if, for {report.employee_id} {report.name}".rstrip() + f" ({report.workbook}),",
        f"with rulebook {report.rulebook}:",
        "",
    ]

    def table(header: tuple[str, str, str], rows: list[tuple[str, str, str, str]]) -> None:
        first = max(len(header[0]), *(len(r[0]) for r in rows))
        second = max(len(header[1]), *(len(r[1]) for r in rows))
        lines.append(f"  {header[0]:<{first}}  {header[1]:<{second}}  {header[2]}")
        for name, real, changed, mark in rows:
            lines.append(f"  {name:<{first}}  {real:<{second}}  {changed}{mark}".rstrip())
        lines.append("")

    table(
        ("changed", "real", "what if"),
        [
            (c.name, c.real, c.changed, "" if c.given else "  (derived anew)")
            for c in report.changes
        ],
    )
    table(
        ("decision", "real", "what if"),
        [
            (d.heading, _shown(d.real), _shown(d.changed), "  <- moved" if d.moved else "")
            for d in report.decisions
        ],
    )
    moved = sum(d.moved for d in report.decisions)
    lines.append(
        f"{moved} of {len(report.decisions)} decisions moved." if moved else "No decision moved."
    )
    said = []
    if report.now_fire:
        said.append(f"Rules that now fire: {', '.join(report.now_fire)}.")
    if report.no_longer_fire:
        said.append(f"Rules that no longer fire: {', '.join(report.no_longer_fire)}.")
    said += [*report.notes, "A what-if records nothing; the panel decides."]
    lines += [textwrap.fill(text, width, subsequent_indent="  ") for text in said]
    return "\n".join(lines) + "\n"
