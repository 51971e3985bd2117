"""Reading YAML nodes (composed, never constructed, so every scalar keeps the text the
author wrote and every node its line): a mapping's keys, a scalar's text, a list of
texts, each problem reported at its line."""

from __future__ import annotations

from collections.abc import Iterable

import yaml

from talentrules.rulefiles.diagnostics import Report, did_you_mean
from talentrules.rulefiles.places import CellMark
from talentrules.rulefiles.syntax import CONTROL


def line_of(node: yaml.Node) -> int:
    """Where a node was written: its line, or the Cell it was read from."""
    mark = node.start_mark
    if isinstance(mark, CellMark):
        return mark.cell
    return int(mark.line) + 1 if mark is not None else 1


def kind_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing"
    return f"'{node.value}'"


def mapping(
    node: yaml.Node,
    file: str,
    what: str,
    report: Report,
    rule_id: str | None = None,
) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
    """A mapping node's entries by key text; duplicate or non-text keys are reported."""
    if not isinstance(node, yaml.MappingNode):
        report.error(file, line_of(node), f"{what} must be a mapping, not {kind_of(node)}", rule_id)
        return None
    entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            report.error(file, line_of(key), f"{what}: keys must be plain names", rule_id)
            continue
        if key.value in entries:
            report.error(file, line_of(key), f"{what}: '{key.value}' is given twice", rule_id)
            continue
        entries[key.value] = (key, value)
    return entries


def keys(
    entries: dict[str, tuple[yaml.Node, yaml.Node]],
    node: yaml.Node,
    file: str,
    what: str,
    required: Iterable[str],
    optional: Iterable[str],
    report: Report,
    rule_id: str | None = None,
) -> bool:
    """Report missing and unknown keys; True when every required key is there."""
    allowed = [*required, *optional]
    prefix = f"{what}: " if what else ""
    for key, (key_node, _) in entries.items():
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            report.error(
                file,
                line_of(key_node),
                f"{prefix}unknown key '{key}'{hint} (allowed: {', '.join(allowed)})",
                rule_id,
            )
    missing = [key for key in required if key not in entries]
    for key in missing:
        report.error(file, line_of(node), f"{prefix}missing '{key}'", rule_id)
    return not missing


def text_of(
    node: yaml.Node, file: str, what: str, report: Report, rule_id: str | None = None
) -> str | None:
    """A non-empty scalar's text, as written."""
    if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        hint = ""
        if isinstance(node, yaml.MappingNode) and len(node.value) == 1:
            # YAML reads ``then: {x}`` as a mapping; a named value starts with $.
            hint = " (quote text that starts with '{' or '[')"
        report.error(
            file, line_of(node), f"{what} must be text, not {kind_of(node)}{hint}", rule_id
        )
        return None
    text = str(node.value).strip()
    if not text:
        report.error(file, line_of(node), f"{what} is empty", rule_id)
        return None
    return text


def texts_of(
    node: yaml.Node, file: str, what: str, report: Report, rule_id: str | None = None
) -> list[str] | None:
    """A list of distinct, non-empty texts without control characters."""
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        report.error(file, line_of(node), f"{what} must be a non-empty list", rule_id)
        return None
    items: list[str] = []
    for item in node.value:
        text = text_of(item, file, f"{what} item", report, rule_id)
        if text is None:
            continue
        if CONTROL.search(text):
            report.error(
                file, line_of(item), f"{what}: '{text}' holds a control character", rule_id
            )
        elif text in items:
            report.error(file, line_of(item), f"{what}: '{text}' is listed twice", rule_id)
        else:
            items.append(text)
    return items
