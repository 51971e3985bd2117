"""Rule files -> Rules: each rule's keys, its for_each family and its condition tree.

The YAML is composed into nodes (never constructed into Python objects), so
every scalar keeps the text the author wrote ("No" stays "No", not False) and
every node keeps its line for diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import yaml

from talentrules.rulebook.conditions import condition_or_reason
from talentrules.rulebook.limits import MAX_ALTERNATIVES, MAX_CONDITIONS_PER_RULE
from talentrules.rulebook.logic import condition_count
from talentrules.rulebook.model import AllOf, AnyOf, Decision, Expr, Not, Rule
from talentrules.rulefiles import (
    Report,
    did_you_mean,
    keys,
    kind_of,
    line_of,
    mapping,
    number_of,
    text_of,
)
from talentrules.vocabulary import FactSpec, Names, Signal, expand

_RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")

_RULE_REQUIRED = ("id", "decision", "title", "rationale", "when", "then")

_RULE_OPTIONAL = ("priority", "message", "for_each")


@dataclass
class _Context:
    """What reading one rule (or one member of a family) needs."""

    file: str
    vocabulary: Mapping[str, FactSpec]
    decisions: Mapping[str, Decision]
    proxies: frozenset[str]
    names: Names
    signals: Mapping[str, Signal]
    report: Report
    rule_id: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)  # a family member's $code, ...

    def text(self, node: yaml.Node, what: str) -> str | None:
        """A scalar's text with the family member's fields filled in."""
        text = text_of(node, self.file, what, self.report, self.rule_id or None)
        return None if text is None else expand(text, self.fields)

    def prose(self, node: yaml.Node, what: str) -> str | None:
        """A text people read: fields filled in, then every named value."""
        text = self.text(node, what)
        if text is None:
            return None
        return self.names.text(text, self.file, line_of(node), self.report, self.rule_id or None)


def _load_rules(node: yaml.Node, context: _Context) -> list[Rule]:
    file, report = context.file, context.report
    rules: list[Rule] = []
    top = mapping(node, file, "a rule file", report)
    if top is None or not keys(top, node, file, "a rule file", ("rules",), (), report):
        return rules
    items = top["rules"][1]
    if not isinstance(items, yaml.SequenceNode):
        report.error(file, line_of(items), f"rules must be a list, not {kind_of(items)}")
        return rules
    for item in items.value:
        for member in _family(item, context):
            errors = report.errors
            rule = _load_rule(item, replace(context, fields=member))
            # A rule with any error is left out of the whole-rulebook checks, which
            # would otherwise report its consequences as further errors.
            if rule is not None and report.errors == errors:
                rules.append(rule)
    return rules


def _family(node: yaml.Node, context: _Context) -> list[dict[str, str]]:
    """The members a rule is declared for: one per signal of its ``for_each`` set, each
    as the fields its texts may name ($code, $name, ...); one empty member otherwise."""
    if not isinstance(node, yaml.MappingNode):
        return [{}]
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "for_each":
            text = text_of(value, context.file, "for_each", context.report)
            if text is None:
                return []
            codes = context.names.codes(text[1:]) if text.startswith("$") else None
            if codes is None:
                context.report.error(
                    context.file,
                    line_of(value),
                    f"for_each takes a signal set, e.g. $heart_signals; "
                    f"{context.names.unknown(text.lstrip('$'))}",
                )
                return []
            return [context.signals[code].fields() for code in codes]
    return [{}]


def _load_rule(node: yaml.Node, context: _Context) -> Rule | None:
    file, report = context.file, context.report
    entries = mapping(node, file, "a rule", report)
    if entries is None:
        return None
    rule_id: str | None = None
    if "id" in entries:
        rule_id = context.text(entries["id"][1], "id")
        if rule_id is not None and not _RULE_ID.match(rule_id):
            report.error(
                file,
                line_of(entries["id"][1]),
                f"rule id '{rule_id}' may hold only letters, digits, _, - and .",
            )
            rule_id = None
    ok = keys(
        entries,
        node,
        file,
        "" if rule_id else "a rule",
        _RULE_REQUIRED,
        _RULE_OPTIONAL,
        report,
        rule_id,
    )
    if not ok or rule_id is None:
        return None
    context = replace(context, rule_id=rule_id)
    decision_name = context.text(entries["decision"][1], "decision")
    then = context.text(entries["then"][1], "then")
    title = context.prose(entries["title"][1], "title")
    rationale = context.prose(entries["rationale"][1], "rationale")
    message = None
    if "message" in entries:
        message = context.prose(entries["message"][1], "message")
    priority = 0
    if "priority" in entries:
        priority_node = entries["priority"][1]
        value = (
            number_of(str(priority_node.value))
            if isinstance(priority_node, yaml.ScalarNode)
            else None
        )
        if not isinstance(value, int):
            report.error(file, line_of(priority_node), "priority must be a whole number", rule_id)
            return None
        priority = value
    if decision_name is None or title is None or rationale is None or then is None:
        return None
    decision = context.decisions.get(decision_name)
    if decision is None:
        report.error(
            file,
            line_of(entries["decision"][1]),
            f"unknown decision '{decision_name}'{did_you_mean(decision_name, context.decisions)}",
            rule_id,
        )
        return None
    if then not in decision.outcomes:
        report.error(
            file,
            line_of(entries["then"][1]),
            f"then '{then}' is not an outcome of decision '{decision_name}' "
            f"({', '.join(decision.outcomes)}){did_you_mean(then, decision.outcomes)}",
            rule_id,
        )
        return None
    if "priority" in entries and decision.policy != "priority":
        report.warning(
            file,
            line_of(entries["priority"][1]),
            f"priority is ignored: decision '{decision_name}' has policy {decision.policy}",
            rule_id,
        )
    when = _expr(entries["when"][1], context, top=True)
    if when is None:
        return None
    size = condition_count(when)
    if size > MAX_CONDITIONS_PER_RULE:
        report.error(
            file,
            line_of(node),
            f"the condition holds {size} comparisons; the limit is {MAX_CONDITIONS_PER_RULE} "
            "per rule: split the rule",
            rule_id,
        )
        return None
    return Rule(
        rule_id, decision_name, title, rationale, when, then, priority, message, file, line_of(node)
    )


def _expr(node: yaml.Node, context: _Context, top: bool = False) -> Expr | None:
    """One condition, a list (all of them) or an ``all``/``any``/``not`` mapping."""
    file, rule_id, report = context.file, context.rule_id, context.report
    if isinstance(node, yaml.ScalarNode):
        text = expand(str(node.value), context.fields)
        result = condition_or_reason(
            text,
            context.vocabulary,
            context.decisions,
            context.proxies,
            file,
            line_of(node),
            context.names,
        )
        if isinstance(result, str):
            report.error(file, line_of(node), result, rule_id)
            return None
        return result
    if isinstance(node, yaml.SequenceNode):
        parts = _parts(node, context, "when" if top else "all")
        return None if parts is None else AllOf(parts)
    entries = mapping(node, file, "a condition", report, rule_id)
    if entries is None:
        return None
    if len(entries) != 1 or next(iter(entries)) not in ("all", "any", "not"):
        report.error(
            file,
            line_of(node),
            "a condition mapping takes exactly one key: all, any or not (this one has "
            f"{', '.join(entries) or 'none'})",
            rule_id,
        )
        return None
    key, (_, body) = next(iter(entries.items()))
    if key == "not":
        if isinstance(body, yaml.SequenceNode):
            parts = _parts(body, context, "not")
            return None if parts is None else Not(AllOf(parts))
        inner = _expr(body, context)
        return None if inner is None else Not(inner)
    if not isinstance(body, yaml.SequenceNode):
        report.error(file, line_of(body), f"{key} takes a list of conditions", rule_id)
        return None
    parts = _parts(body, context, key)
    if parts is None:
        return None
    return AllOf(parts) if key == "all" else AnyOf(parts)


def _parts(node: yaml.SequenceNode, context: _Context, what: str) -> tuple[Expr, ...] | None:
    if not node.value:
        context.report.error(
            context.file, line_of(node), f"{what} is an empty list of conditions", context.rule_id
        )
        return None
    if len(node.value) > MAX_ALTERNATIVES:
        context.report.error(
            context.file,
            line_of(node),
            f"{what} lists {len(node.value)} conditions; the limit is {MAX_ALTERNATIVES} "
            "(durable_rules hangs on lists a few times longer): split the rule",
            context.rule_id,
        )
        return None
    parts = [_expr(item, context) for item in node.value]
    if any(part is None for part in parts):
        return None
    return tuple(p for p in parts if p is not None)
