"""Reading rule files: YAML composed into nodes that keep their lines, and diagnostics.

The shared layer under the rulebook's words (``talentrules.vocabulary``) and its
rules (``talentrules.rulebook``). YAML is composed, never constructed, so every
scalar keeps the text the author wrote ("No" stays "No") and every node its line: each
problem becomes a ``Diagnostic`` with file and line, and the checker reports them all.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from talentrules.contract import PROTECTED_COLUMNS, normalize

Severity = Literal["error", "warning"]
Literal_ = str | float | bool | dt.date

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
INTEGER = re.compile(r"[+-]?\d+\Z")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# ``FACT OP VALUE``, ``FACT in (A, B)``, ``FACT is known``: conditions and row tests.
CONDITION = re.compile(
    r"""\s*(?P<fact>[A-Za-z_$][A-Za-z0-9_.\-$]*)
    (?: \s*(?P<sym>==|!=|<=|>=|<|>)\s*(?P<value>.*?)
      | \s+(?P<word>not\s+in|in)(?=[\s(\[$])\s*(?P<list>.*?)
      | \s+is\s+(?P<known>known|unknown)
    )\s*\Z""",
    re.VERBOSE | re.DOTALL,
)
ORDERING = frozenset({"<", "<=", ">", ">="})
CONDITION_HELP = (
    "write FACT OP VALUE (OP one of == != < <= > >= in, not in) or FACT is known / FACT is unknown"
)
# Facts and literals go through json.dumps into durable_rules: floats from here on
# print with an exponent ("1e+16"), which its JSON parser rejects.
MAX_LITERAL = 1e15


# --------------------------------------------------------------------------------------
# Diagnostics and reading YAML nodes (shared with the rulebook's loader)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostic:
    """One finding of the checker, with the place it is about."""

    severity: Severity
    file: str
    line: int
    message: str
    rule_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: "
        if self.severity == "warning":
            where += "warning: "
        if self.rule_id is not None:
            where += f"rule {self.rule_id}: "
        return where + self.message


class Report:
    """Collects diagnostics while the loaders walk the files."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, file: str, line: int, message: str, rule_id: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("error", file, line, message, rule_id))

    def warning(self, file: str, line: int, message: str, rule_id: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("warning", file, line, message, rule_id))

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def has_errors(self) -> bool:
        return self.errors > 0


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1 if node.start_mark is not None else 1


def kind_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing"
    return f"'{node.value}'"


def compose(path: Path, file: str, report: Report) -> yaml.Node | None:
    """The file's node tree, or None (with a diagnostic) when it is not YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        report.error(file, 1, f"not UTF-8 text ({error.reason})")
        return None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        problem = error.problem or error.context or "cannot be read"
        report.error(file, line, f"YAML syntax error: {problem}")
        return None
    except yaml.YAMLError as error:
        report.error(file, 1, f"YAML syntax error: {error}")
        return None
    if node is None:
        report.error(file, 1, "the file is empty")
    return node


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


def number_of(text: str) -> int | float | None:
    if not NUMBER.match(text):
        return None
    return int(text) if INTEGER.match(text) else float(text)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def show(value: object) -> str:
    """A number as a person writes it: 24, not 24.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_protected(name: str, proxies: frozenset[str]) -> bool:
    """Is ``name`` (or any dotted part of it) a protected attribute or a declared proxy?"""
    banned = PROTECTED_COLUMNS | proxies
    return normalize(name) in banned or any(normalize(p) in banned for p in name.split("."))


def split_list(body: str) -> list[str] | str:
    """Split ``A, "B, C", D`` on commas outside quotes; a message when it cannot."""
    items: list[str] = []
    current = ""
    quote = ""
    for char in body:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "\"'" and not current.strip():
            quote = char
            current += char
        elif char == ",":
            items.append(current.strip())
            current = ""
        else:
            current += char
    if quote:
        return "a quoted value is not closed"
    items.append(current.strip())
    if any(not item for item in items):
        return "the list has an empty item"
    return items


def unquote(raw: str) -> tuple[str, bool]:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1], True
    return raw, False


def printable(text: str) -> str:
    """``text`` with control characters escaped, so a diagnostic shows them."""
    return CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True)
class Bad:
    """Why a value cannot be read (a diagnostic's message, without the place)."""

    reason: str
