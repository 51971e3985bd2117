"""A rulebook's files as written, for laying them out in a workbook.

The rule files are read as node trees (every ``$name`` kept, rules declared
``for_each`` signal kept as one), not as the checked rulebook, so what a panel owner
edits is what the files say, and a rulebook with mistakes exports too (the checker
then names each mistake's cell). What cannot be laid out in cells is ``Unwritable``,
naming the file and line. ``Words`` is what the rulebook declares, as far as it can
be read: the facts and outcomes that dropdowns and header comments offer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from talentrules.errors import RulebookError
from talentrules.rulebook import DECISIONS_FILE
from talentrules.rulefiles import Report, RuleFiles, line_of, number_of, show, where
from talentrules.rulexlsx.sheets import CellValue
from talentrules.vocabulary import Vocabulary, load_vocabulary

CATALOGUE_FILE = "catalogue.yaml"


class Unwritable(RulebookError):
    """Part of a rule file has no place in the workbook's cells."""


@dataclass
class Source:
    """The rulebook's files as node trees, and how to name a place in them."""

    files: RuleFiles
    nodes: dict[str, yaml.Node | None] = field(default_factory=dict)

    def label(self, name: str) -> str:
        return self.files.label(name)


def read_source(files: RuleFiles) -> Source:
    source = Source(files)
    report = Report()
    for name in files.names():
        source.nodes[name] = files.node(name, report)
    unreadable = [d for d in [*files.problems, *report.diagnostics] if d.severity == "error"]
    if unreadable:
        lines = "\n".join(f"  {d}" for d in unreadable)
        raise RulebookError(f"{files.path}: cannot be exported until these are fixed:\n{lines}")
    return source


def unwritable(label: str, node: yaml.Node, message: str) -> Unwritable:
    return Unwritable(f"{where(label, line_of(node))}: {message}")


def mapping_entries(
    node: yaml.Node | None, label: str, what: str
) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """A mapping's entries as (key, key node, value node); nothing for no node."""
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        return []
    if not isinstance(node, yaml.MappingNode):
        raise unwritable(label, node, f"{what} must be a mapping to be written to a workbook")
    found: list[tuple[str, yaml.Node, yaml.Node]] = []
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise unwritable(label, key, f"{what}: keys must be plain names")
        found.append((str(key.value), key, value))
    return found


def get_key(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.Node):
                return v
    return None


def cell_value(node: yaml.Node | None, label: str, what: str) -> CellValue:
    """A scalar as a cell: a number stays a number when it reads back the same."""
    if node is None:
        return None
    if not isinstance(node, yaml.ScalarNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
        raise unwritable(label, node, f"{what} is {kind}; a workbook cell holds one value")
    if node.tag == "tag:yaml.org,2002:null":
        return None
    text = str(node.value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        raise unwritable(label, node, f"{what} holds a control character, which no cell can hold")
    if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        number = number_of(text)
        if number is not None and show(number) == text:
            return number
    return text


def list_cell(node: yaml.Node | None, label: str, what: str) -> CellValue:
    """A list of values as one cell, an item per line."""
    if node is None:
        return None
    if isinstance(node, yaml.SequenceNode):
        items = [cell_value(item, label, f"{what} item") for item in node.value]
        return "\n".join("" if item is None else show(item) for item in items) or None
    return cell_value(node, label, what)


@dataclass
class Words:
    """What the rulebook declares, as far as it can be read (a rulebook with mistakes
    exports too): facts, their meanings and values; decisions and their outcomes."""

    vocabulary: Vocabulary | None
    outcomes: dict[str, list[str]]  # decision -> its outcomes ($sets expanded)
    policies: dict[str, tuple[str, str, str]]  # decision -> (policy, default, meaning)

    def facts(self) -> list[str]:
        return list(self.vocabulary.facts) if self.vocabulary is not None else []

    def describe(self, fact: str) -> str:
        if fact in self.outcomes:
            return f"{fact}: the outcome of decision '{fact}' ({', '.join(self.outcomes[fact])})."
        spec = self.vocabulary.facts.get(fact) if self.vocabulary is not None else None
        if spec is None:
            if fact.startswith("$code."):
                return f"{fact}: each signal's {fact[6:]} (a rule declared for_each signal)."
            return fact
        kind: str = spec.type
        if spec.type == "enum":
            kind += ": " + ", ".join(spec.values)
        elif spec.minimum is not None or spec.maximum is not None:
            kind += f" {show(spec.minimum)} to {show(spec.maximum)}"
        return f"{fact}: {spec.meaning} ({kind})."

    def choices(self, fact: str) -> list[str]:
        """What a condition cell of ``fact`` may say, for its dropdown."""
        if fact in self.outcomes:
            return self.outcomes[fact]
        spec = self.vocabulary.facts.get(fact) if self.vocabulary is not None else None
        if spec is None:
            return []
        if spec.type == "enum":
            return [*spec.values, "is unknown", "is known"]
        if spec.type == "boolean":
            return ["true", "false", "is unknown", "is known"]
        return []


def words_of(source: Source) -> Words:
    report = Report()
    vocabulary = load_vocabulary(source.files, report)
    sets = vocabulary.sets if vocabulary is not None else {}
    outcomes: dict[str, list[str]] = {}
    policies: dict[str, tuple[str, str, str]] = {}
    decisions = get_key(source.nodes.get(DECISIONS_FILE), "decisions")
    if isinstance(decisions, yaml.MappingNode):
        for key, body in decisions.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            found: list[str] = []
            items = get_key(body, "outcomes")
            for item in items.value if isinstance(items, yaml.SequenceNode) else []:
                if isinstance(item, yaml.ScalarNode):
                    text = str(item.value)
                    found += list(sets.get(text[1:], ())) if text.startswith("$") else [text]
            outcomes[str(key.value)] = found

            def text_of(name: str, body: yaml.Node = body) -> str:
                node = get_key(body, name)
                return str(node.value) if isinstance(node, yaml.ScalarNode) else ""

            policies[str(key.value)] = (
                text_of("policy") or "unique",
                text_of("default"),
                " ".join(text_of("meaning").split()),
            )
    return Words(vocabulary, outcomes, policies)
