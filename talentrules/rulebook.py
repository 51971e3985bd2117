"""The rule language: rules/*.yaml -> a checked, immutable Rulebook.

The Rulebook below is the compiled form every evaluator works from: the
pure-Python reference evaluator (reference.py) and the durable_rules engine
(engine.py). The language is documented in docs/rules.md.

Semantics in brief:
- a condition compares one fact (or a decision's outcome) with literals; a
  comparison that reads an unknown (blank) fact is unknown, never false; ``all``,
  ``any`` and ``not`` follow Kleene's three-valued logic, and a rule fires only
  when its condition is true;
- every rule concludes one outcome of one decision; decisions read other
  decisions' resolved outcomes (forward chaining), the dependency graph is
  acyclic and its levels are derived, never hand-ordered;
- each decision resolves its fired rules by its hit policy (unique, priority,
  collect) and falls to its declared default outcome when none fired.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import itertools
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from talentrules.contract import PROTECTED_COLUMNS, normalize
from talentrules.errors import RulebookError, RuleConflictError
from talentrules.paths import default_rules_dir

FactType = Literal["number", "enum", "boolean", "date", "text"]
Policy = Literal["unique", "priority", "collect"]
Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "known", "unknown"]
Literal_ = str | float | bool | dt.date


@dataclass(frozen=True)
class FactSpec:
    """One fact rules may read: its type, range or values, and meaning."""

    name: str
    type: FactType
    meaning: str
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] = ()  # enum only


@dataclass(frozen=True)
class Compare:
    """``fact op value``; for ``known``/``unknown`` the value is None."""

    fact: str  # a fact name or a decision name
    op: Op
    value: Literal_ | tuple[Literal_, ...] | None
    file: str
    line: int

    def __str__(self) -> str:
        if self.op in ("known", "unknown"):
            return f"{self.fact} is {self.op}"
        if isinstance(self.value, tuple):
            return f"{self.fact} {self.op} ({', '.join(map(str, self.value))})"
        return f"{self.fact} {self.op} {self.value}"


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    part: Expr


Expr = Compare | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Rule:
    """One rule: when ``when`` holds for a person, ``decision`` gets ``then``."""

    id: str
    decision: str
    title: str
    rationale: str  # plain language, quoted in briefs
    when: Expr
    then: str  # one outcome of the decision
    priority: int  # higher wins under the ``priority`` policy
    message: str | None  # Jinja2 text rendered with the values the rule read
    file: str
    line: int


@dataclass(frozen=True)
class Decision:
    """A question every person gets an answer to."""

    name: str
    policy: Policy
    outcomes: tuple[str, ...]
    default: str  # the outcome when no rule fires; never nothing
    meaning: str
    file: str
    line: int


@dataclass(frozen=True)
class Rulebook:
    """A checked rulebook, ready to evaluate."""

    vocabulary: dict[str, FactSpec]
    decisions: dict[str, Decision]
    rules: tuple[Rule, ...]  # in file order (files sorted by name)
    levels: tuple[tuple[str, ...], ...]  # decision names by dependency level
    source: str  # the rules folder
    sha256: str  # hash of every rule file's bytes, in order


@dataclass(frozen=True)
class Evaluation:
    """What evaluating one person gives, whichever evaluator produced it.

    The durable_rules engine and the reference evaluator must produce equal
    Evaluations for every person (a test cross-checks them).
    """

    employee_id: str
    outcomes: dict[str, tuple[str, ...]]  # decision -> outcome(s), default applied
    fired: tuple[str, ...]  # rule ids: by decision level, then rulebook order
    overruled: dict[str, tuple[str, ...]]  # decision -> fired rule ids that lost (priority)
    defaulted: tuple[str, ...]  # decisions that fell to their default


def resolve(
    decision: Decision, fired: list[Rule], employee_id: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Apply ``decision``'s hit policy to its fired rules: (outcomes, overruled rule ids).

    ``fired`` holds only rules of this decision, in rulebook order.
    """
    if not fired:
        return (decision.default,), ()
    if decision.policy == "collect":
        chosen = {rule.then for rule in fired}
        return tuple(o for o in decision.outcomes if o in chosen), ()
    if decision.policy == "priority":
        winner = max(fired, key=lambda rule: rule.priority)
        return (winner.then,), tuple(r.id for r in fired if r is not winner)
    if len(fired) > 1:
        raise RuleConflictError(
            f"{employee_id}: decision '{decision.name}' is unique, but rules "
            f"{', '.join(repr(r.id) for r in fired)} all fired"
        )
    return (fired[0].then,), ()


# --------------------------------------------------------------------------
# Loading and checking: rules/*.yaml -> Rulebook, with diagnostics.
#
# The YAML is composed into nodes (never constructed into Python objects), so
# every scalar keeps the text the author wrote ("No" stays "No", not False) and
# every node keeps its line for diagnostics.
# --------------------------------------------------------------------------

Severity = Literal["error", "warning"]

VOCABULARY_FILE = "vocabulary.yaml"
DECISIONS_FILE = "decisions.yaml"
CATALOGUE_FILE = "catalogue.yaml"  # the default investment catalogue (decide.py's)
_NOT_RULE_FILES = frozenset({VOCABULARY_FILE, DECISIONS_FILE, CATALOGUE_FILE})

# durable_rules hangs at creation or assert with 512 or more rules branching on
# one field (../shared/durable-notes.md, "Inputs that break it").
DURABLE_MAX_RULES_PER_FIELD = 511
# Facts and literals go through json.dumps into durable_rules: floats from here
# on print with an exponent ("1e+16"), which its JSON parser rejects, and
# integers lose precision as doubles soon after.
MAX_LITERAL = 1e15

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")
_CONDITION = re.compile(
    r"""\s*(?P<fact>[A-Za-z_][A-Za-z0-9_.\-]*)
    (?: \s*(?P<sym>==|!=|<=|>=|<|>)\s*(?P<value>.*?)
      | \s+(?P<word>not\s+in|in)(?=[\s(\[])\s*(?P<list>.*?)
      | \s+is\s+(?P<known>known|unknown)
    )\s*\Z""",
    re.VERBOSE | re.DOTALL,
)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
_INTEGER = re.compile(r"[+-]?\d+\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ORDERING = frozenset({"<", "<=", ">", ">="})
_CONDITION_HELP = (
    "write FACT OP VALUE (OP one of == != < <= > >= in, not in) or FACT is known / FACT is unknown"
)


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


def load_rulebook(path: str | Path | None = None) -> Rulebook:
    """Load and check the rules folder ``path`` (default: the packaged rules).

    Raises RulebookError listing every error diagnostic; warnings do not stop it.
    """
    rulebook, diagnostics, _, _ = _load(path)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors or rulebook is None:
        folder = _folder(path)
        lines = "\n".join(f"  {d}" for d in errors)
        raise RulebookError(
            f"{folder}: the rulebook has {len(errors)} error{'s' if len(errors) != 1 else ''}"
            f" (run 'talentrules rules check {folder}'):\n{lines}"
        )
    return rulebook


def check_rulebook(path: str | Path | None = None) -> list[Diagnostic]:
    """Every diagnostic for the rules folder ``path``, errors and warnings, in file order.

    Never raises for problems in the rules' content; raises RulebookError only
    when ``path`` is not a folder at all.
    """
    return _load(path)[1]


@dataclass(frozen=True)
class CheckReport:
    """What ``talentrules rules check`` shows: the diagnostics and a one-line summary."""

    diagnostics: tuple[Diagnostic, ...]
    rules: int  # rules read (those with errors in them excluded)
    decisions: int

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity == "warning" for d in self.diagnostics)

    @property
    def summary(self) -> str:
        warnings = f"{self.warnings} warning{'s' if self.warnings != 1 else ''}"
        if self.errors:
            return f"{self.errors} error{'s' if self.errors != 1 else ''}, {warnings}"
        tail = f", {warnings}" if self.warnings else ""
        return (
            f"{self.rules} rule{'s' if self.rules != 1 else ''} in {self.decisions} "
            f"decision{'s' if self.decisions != 1 else ''}: no errors{tail}"
        )


def check_report(path: str | Path | None = None) -> CheckReport:
    """Check the rules folder ``path`` and count what it holds, for the CLI."""
    _, diagnostics, rules, decisions = _load(path)
    return CheckReport(tuple(diagnostics), rules, decisions)


def parse_condition(
    text: str,
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    file: str,
    line: int,
) -> Compare:
    """Parse one condition string (``H-DEV.episodes >= 3``) into a typed Compare.

    Raises RulebookError naming ``file:line`` when the text is not a condition,
    names an unknown or protected fact, or compares it with a value of the wrong type.
    """
    result = _parse_condition(text, vocabulary, decisions, frozenset(), file, line)
    if isinstance(result, str):
        raise RulebookError(f"{file}:{line}: {result}")
    return result


def expr_facts(expr: Expr) -> list[Compare]:
    """Every comparison in ``expr``, left to right."""
    if isinstance(expr, Compare):
        return [expr]
    if isinstance(expr, Not):
        return expr_facts(expr.part)
    return [c for part in expr.parts for c in expr_facts(part)]


def rule_reads(rule: Rule) -> set[str]:
    """The facts and decisions ``rule`` reads."""
    return {c.fact for c in expr_facts(rule.when)}


def evaluate(expr: Expr, values: Mapping[str, object]) -> bool | None:
    """Three-valued (Kleene) value of ``expr``: True, False or None (unknown).

    ``values`` maps fact names to values (a missing name or None is unknown) and
    decision names to their resolved outcomes as a tuple (a decision's ``==`` means
    "includes", which is plain equality for single-outcome decisions).
    """
    if isinstance(expr, Compare):
        return _compare(expr, values.get(expr.fact))
    if isinstance(expr, Not):
        inner = evaluate(expr.part, values)
        return None if inner is None else not inner
    if isinstance(expr, AllOf):
        return _and3(evaluate(part, values) for part in expr.parts)
    return _or3(evaluate(part, values) for part in expr.parts)


def _and3(results: Iterable[bool | None]) -> bool | None:
    unknown = False
    for result in results:
        if result is False:
            return False
        if result is None:
            unknown = True
    return None if unknown else True


def _or3(results: Iterable[bool | None]) -> bool | None:
    unknown = False
    for result in results:
        if result is True:
            return True
        if result is None:
            unknown = True
    return None if unknown else False


def _compare(compare: Compare, value: object) -> bool | None:
    op = compare.op
    if op == "known":
        return value is not None
    if op == "unknown":
        return value is None
    if value is None:
        return None
    literal = compare.value
    if isinstance(value, tuple):  # a decision's outcomes
        wanted = literal if isinstance(literal, tuple) else (literal,)
        hit = any(w in value for w in wanted)
        return hit if op in ("==", "in") else not hit
    if op == "==":
        return bool(value == literal)
    if op == "!=":
        return bool(value != literal)
    if op == "in":
        return value in literal if isinstance(literal, tuple) else value == literal
    if op == "not in":
        return value not in literal if isinstance(literal, tuple) else value != literal
    ordered: Any = value
    if op == "<":
        return bool(ordered < literal)
    if op == "<=":
        return bool(ordered <= literal)
    if op == ">":
        return bool(ordered > literal)
    return bool(ordered >= literal)


# -- reading YAML nodes -------------------------------------------------------


class _Report:
    """Collects diagnostics while the loader walks the files."""

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


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1 if node.start_mark is not None else 1


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing"
    return f"'{node.value}'"


def _compose(path: Path, file: str, report: _Report) -> yaml.Node | None:
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


def _mapping(
    node: yaml.Node,
    file: str,
    what: str,
    report: _Report,
    rule_id: str | None = None,
) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
    """A mapping node's entries by key text; duplicate or non-text keys are reported."""
    if not isinstance(node, yaml.MappingNode):
        report.error(file, _line(node), f"{what} must be a mapping, not {_kind(node)}", rule_id)
        return None
    entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            report.error(file, _line(key), f"{what}: keys must be plain names", rule_id)
            continue
        if key.value in entries:
            report.error(file, _line(key), f"{what}: '{key.value}' is given twice", rule_id)
            continue
        entries[key.value] = (key, value)
    return entries


def _keys(
    entries: dict[str, tuple[yaml.Node, yaml.Node]],
    node: yaml.Node,
    file: str,
    what: str,
    required: Iterable[str],
    optional: Iterable[str],
    report: _Report,
    rule_id: str | None = None,
) -> bool:
    """Report missing and unknown keys; True when every required key is there."""
    allowed = [*required, *optional]
    prefix = f"{what}: " if what else ""
    for key, (key_node, _) in entries.items():
        if key not in allowed:
            hint = _did_you_mean(key, allowed)
            report.error(
                file,
                _line(key_node),
                f"{prefix}unknown key '{key}'{hint} (allowed: {', '.join(allowed)})",
                rule_id,
            )
    missing = [key for key in required if key not in entries]
    for key in missing:
        report.error(file, _line(node), f"{prefix}missing '{key}'", rule_id)
    return not missing


def _text(
    node: yaml.Node, file: str, what: str, report: _Report, rule_id: str | None = None
) -> str | None:
    """A non-empty scalar's text, as written."""
    if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        report.error(file, _line(node), f"{what} must be text, not {_kind(node)}", rule_id)
        return None
    text = str(node.value).strip()
    if not text:
        report.error(file, _line(node), f"{what} is empty", rule_id)
        return None
    return text


def _texts(
    node: yaml.Node, file: str, what: str, report: _Report, rule_id: str | None = None
) -> list[str] | None:
    """A list of distinct, non-empty texts without control characters."""
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        report.error(file, _line(node), f"{what} must be a non-empty list", rule_id)
        return None
    items: list[str] = []
    for item in node.value:
        text = _text(item, file, f"{what} item", report, rule_id)
        if text is None:
            continue
        if _CONTROL.search(text):
            report.error(file, _line(item), f"{what}: '{text}' holds a control character", rule_id)
        elif text in items:
            report.error(file, _line(item), f"{what}: '{text}' is listed twice", rule_id)
        else:
            items.append(text)
    return items


def _number(text: str) -> float | None:
    if not _NUMBER.match(text):
        return None
    return int(text) if _INTEGER.match(text) else float(text)


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _protected(name: str, proxies: frozenset[str]) -> bool:
    """Is ``name`` (or any dotted part of it) a protected attribute or a declared proxy?"""
    banned = PROTECTED_COLUMNS | proxies
    return normalize(name) in banned or any(normalize(p) in banned for p in name.split("."))


# -- vocabulary.yaml ----------------------------------------------------------

_FACT_KEYS_REQUIRED = ("type", "meaning")
_FACT_KEYS_OPTIONAL = ("range", "values")
_FACT_TYPES = ("number", "enum", "boolean", "date", "text")


def _load_vocabulary(
    node: yaml.Node, file: str, report: _Report
) -> tuple[dict[str, FactSpec], dict[str, int], frozenset[str]]:
    """Facts by name, their lines, and the declared proxy names (normalized)."""
    facts: dict[str, FactSpec] = {}
    lines: dict[str, int] = {}
    top = _mapping(node, file, "vocabulary.yaml", report)
    if top is None:
        return facts, lines, frozenset()
    _keys(top, node, file, "vocabulary.yaml", ("facts",), ("families", "protected"), report)
    proxies: set[str] = set()
    if "protected" in top:
        names = _texts(top["protected"][1], file, "protected", report)
        proxies = {normalize(n) for n in names or ()}
    frozen = frozenset(proxies)

    def add(name: str, spec_node: yaml.Node, name_line: int, member: str | None) -> None:
        if not _NAME.match(name):
            report.error(
                file, name_line, f"fact name '{name}' may hold only letters, digits, _, - and ."
            )
            return
        if _protected(name, frozen):
            report.error(
                file,
                name_line,
                f"fact '{name}' is a protected attribute (or a declared proxy of one); "
                "rules may not read it",
            )
            return
        if name in facts:
            report.error(file, name_line, f"fact '{name}' is declared twice")
            return
        spec = _fact_spec(name, spec_node, file, report, member)
        if spec is not None:
            facts[name] = spec
            lines[name] = name_line

    if "facts" in top:
        entries = _mapping(top["facts"][1], file, "facts", report)
        for name, (key, value) in (entries or {}).items():
            add(name, value, _line(key), None)
    if "families" in top:
        families = _mapping(top["families"][1], file, "families", report)
        for family, (_, value) in (families or {}).items():
            what = f"family '{family}'"
            body = _mapping(value, file, what, report)
            if body is None or not _keys(body, value, file, what, ("members", "facts"), (), report):
                continue
            members = _texts(body["members"][1], file, f"{what} members", report) or []
            specs = _mapping(body["facts"][1], file, f"{what} facts", report) or {}
            for member in members:
                for fact, (fact_key, spec_node) in specs.items():
                    add(f"{member}.{fact}", spec_node, _line(fact_key), member)
    return facts, lines, frozen


def _fact_spec(
    name: str, node: yaml.Node, file: str, report: _Report, member: str | None
) -> FactSpec | None:
    what = f"fact '{name}'"
    entries = _mapping(node, file, what, report)
    if entries is None:
        return None
    ok = _keys(entries, node, file, what, _FACT_KEYS_REQUIRED, _FACT_KEYS_OPTIONAL, report)
    if not ok:
        return None
    kind = _text(entries["type"][1], file, f"{what} type", report)
    meaning = _text(entries["meaning"][1], file, f"{what} meaning", report)
    if kind is None or meaning is None:
        return None
    if kind not in _FACT_TYPES:
        report.error(
            file,
            _line(entries["type"][1]),
            f"{what}: type '{kind}' is not one of {', '.join(_FACT_TYPES)}"
            + _did_you_mean(kind, _FACT_TYPES),
        )
        return None
    if member is not None:
        meaning = meaning.replace("{member}", member)
    minimum = maximum = None
    values: tuple[str, ...] = ()
    if "range" in entries:
        range_node = entries["range"][1]
        if kind != "number":
            report.error(file, _line(range_node), f"{what}: only a number fact takes a range")
            return None
        bounds = [
            _number(str(n.value)) if isinstance(n, yaml.ScalarNode) else None
            for n in (range_node.value if isinstance(range_node, yaml.SequenceNode) else [])
        ]
        if len(bounds) != 2 or bounds[0] is None or bounds[1] is None or bounds[0] > bounds[1]:
            report.error(file, _line(range_node), f"{what}: range must be [minimum, maximum]")
            return None
        minimum, maximum = bounds
    if kind == "enum":
        if "values" not in entries:
            report.error(file, _line(node), f"{what}: an enum fact needs 'values'")
            return None
        values = tuple(_texts(entries["values"][1], file, f"{what} values", report) or ())
        if not values:
            return None
    elif "values" in entries:
        report.error(file, _line(entries["values"][1]), f"{what}: only an enum fact takes values")
        return None
    return FactSpec(name, kind, meaning, minimum, maximum, values)  # type: ignore[arg-type]


# -- decisions.yaml -----------------------------------------------------------

_POLICIES = ("unique", "priority", "collect")


def _load_decisions(
    node: yaml.Node, file: str, vocabulary: Mapping[str, FactSpec], report: _Report
) -> dict[str, Decision]:
    decisions: dict[str, Decision] = {}
    top = _mapping(node, file, "decisions.yaml", report)
    if top is None or not _keys(top, node, file, "decisions.yaml", ("decisions",), (), report):
        return decisions
    entries = _mapping(top["decisions"][1], file, "decisions", report) or {}
    for name, (key, value) in entries.items():
        what = f"decision '{name}'"
        if not _NAME.match(name):
            report.error(
                file,
                _line(key),
                f"decision name '{name}' may hold only letters, digits, _, - and .",
            )
            continue
        if name in vocabulary:
            report.error(file, _line(key), f"{what} has the name of a fact; rename one of them")
            continue
        body = _mapping(value, file, what, report)
        if body is None:
            continue
        required = ("outcomes", "default", "meaning")
        if not _keys(body, value, file, what, required, ("policy",), report):
            continue
        policy = "unique"
        if "policy" in body:
            policy = _text(body["policy"][1], file, f"{what} policy", report) or "unique"
            if policy not in _POLICIES:
                report.error(
                    file,
                    _line(body["policy"][1]),
                    f"{what}: policy '{policy}' is not one of {', '.join(_POLICIES)}"
                    + _did_you_mean(policy, _POLICIES),
                )
                continue
        outcomes = _texts(body["outcomes"][1], file, f"{what} outcomes", report)
        default = _text(body["default"][1], file, f"{what} default", report)
        meaning = _text(body["meaning"][1], file, f"{what} meaning", report)
        if not outcomes or default is None or meaning is None:
            continue
        if default not in outcomes:
            report.error(
                file,
                _line(body["default"][1]),
                f"{what}: default '{default}' is not one of its outcomes "
                f"({', '.join(outcomes)}){_did_you_mean(default, outcomes)}",
            )
        decisions[name] = Decision(
            name,
            policy,  # type: ignore[arg-type]
            tuple(outcomes),
            default,
            meaning,
            file,
            _line(key),
        )
    return decisions


# -- rules --------------------------------------------------------------------

_RULE_REQUIRED = ("id", "decision", "title", "rationale", "when", "then")
_RULE_OPTIONAL = ("priority", "message")


def _load_rules(
    node: yaml.Node,
    file: str,
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    proxies: frozenset[str],
    report: _Report,
) -> list[Rule]:
    rules: list[Rule] = []
    top = _mapping(node, file, "a rule file", report)
    if top is None or not _keys(top, node, file, "a rule file", ("rules",), (), report):
        return rules
    items = top["rules"][1]
    if not isinstance(items, yaml.SequenceNode):
        report.error(file, _line(items), f"rules must be a list, not {_kind(items)}")
        return rules
    for item in items.value:
        errors = report.errors
        rule = _load_rule(item, file, vocabulary, decisions, proxies, report)
        # A rule with any error is left out of the whole-rulebook checks, which
        # would otherwise report its consequences as further errors.
        if rule is not None and report.errors == errors:
            rules.append(rule)
    return rules


def _load_rule(
    node: yaml.Node,
    file: str,
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    proxies: frozenset[str],
    report: _Report,
) -> Rule | None:
    entries = _mapping(node, file, "a rule", report)
    if entries is None:
        return None
    rule_id: str | None = None
    if "id" in entries:
        rule_id = _text(entries["id"][1], file, "id", report)
        if rule_id is not None and not _RULE_ID.match(rule_id):
            report.error(
                file,
                _line(entries["id"][1]),
                f"rule id '{rule_id}' may hold only letters, digits, _, - and .",
            )
            rule_id = None
    ok = _keys(
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
    fields = {
        key: _text(entries[key][1], file, key, report, rule_id)
        for key in ("decision", "title", "rationale", "then")
    }
    message = None
    if "message" in entries:
        message = _text(entries["message"][1], file, "message", report, rule_id)
    priority = 0
    if "priority" in entries:
        priority_node = entries["priority"][1]
        value = (
            _number(str(priority_node.value))
            if isinstance(priority_node, yaml.ScalarNode)
            else None
        )
        if not isinstance(value, int):
            report.error(file, _line(priority_node), "priority must be a whole number", rule_id)
            return None
        priority = value
    decision_name, title, rationale, then = (
        fields["decision"],
        fields["title"],
        fields["rationale"],
        fields["then"],
    )
    if decision_name is None or title is None or rationale is None or then is None:
        return None
    decision = decisions.get(decision_name)
    if decision is None:
        report.error(
            file,
            _line(entries["decision"][1]),
            f"unknown decision '{decision_name}'{_did_you_mean(decision_name, decisions)}",
            rule_id,
        )
        return None
    if then not in decision.outcomes:
        report.error(
            file,
            _line(entries["then"][1]),
            f"then '{then}' is not an outcome of decision '{decision_name}' "
            f"({', '.join(decision.outcomes)}){_did_you_mean(then, decision.outcomes)}",
            rule_id,
        )
        return None
    if "priority" in entries and decision.policy != "priority":
        report.warning(
            file,
            _line(entries["priority"][1]),
            f"priority is ignored: decision '{decision_name}' has policy {decision.policy}",
            rule_id,
        )
    context = _Context(file, rule_id, vocabulary, decisions, proxies, report)
    when = _expr(entries["when"][1], context, top=True)
    if when is None:
        return None
    return Rule(
        rule_id, decision_name, title, rationale, when, then, priority, message, file, _line(node)
    )


@dataclass
class _Context:
    """What parsing one rule's conditions needs."""

    file: str
    rule_id: str
    vocabulary: Mapping[str, FactSpec]
    decisions: Mapping[str, Decision]
    proxies: frozenset[str]
    report: _Report


def _expr(node: yaml.Node, context: _Context, top: bool = False) -> Expr | None:
    """One condition, a list (all of them) or an ``all``/``any``/``not`` mapping."""
    file, rule_id, report = context.file, context.rule_id, context.report
    if isinstance(node, yaml.ScalarNode):
        text = str(node.value)
        result = _parse_condition(
            text, context.vocabulary, context.decisions, context.proxies, file, _line(node)
        )
        if isinstance(result, str):
            report.error(file, _line(node), result, rule_id)
            return None
        return result
    if isinstance(node, yaml.SequenceNode):
        parts = _parts(node, context, "when" if top else "all")
        return None if parts is None else AllOf(parts)
    entries = _mapping(node, file, "a condition", report, rule_id)
    if entries is None:
        return None
    if len(entries) != 1 or next(iter(entries)) not in ("all", "any", "not"):
        report.error(
            file,
            _line(node),
            "a condition mapping takes exactly one key: all, any or not",
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
        report.error(file, _line(body), f"{key} takes a list of conditions", rule_id)
        return None
    parts = _parts(body, context, key)
    if parts is None:
        return None
    return AllOf(parts) if key == "all" else AnyOf(parts)


def _parts(node: yaml.SequenceNode, context: _Context, what: str) -> tuple[Expr, ...] | None:
    if not node.value:
        context.report.error(
            context.file, _line(node), f"{what} is an empty list of conditions", context.rule_id
        )
        return None
    parts = [_expr(item, context) for item in node.value]
    if any(part is None for part in parts):
        return None
    return tuple(p for p in parts if p is not None)


def _parse_condition(
    text: str,
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    proxies: frozenset[str],
    file: str,
    line: int,
) -> Compare | str:
    """A typed Compare, or the reason ``text`` is not one."""
    shown = _printable(text.strip())
    match = _CONDITION.match(text)
    if match is None:
        return f"cannot read condition '{shown}': {_CONDITION_HELP}"
    fact = match["fact"]
    if _protected(fact, proxies):
        return f"reads a protected attribute '{fact}'; rules may not use it"
    spec = vocabulary.get(fact)
    decision = decisions.get(fact)
    if spec is None and decision is None:
        return f"unknown fact '{fact}'{_did_you_mean(fact, [*vocabulary, *decisions])}"
    if match["known"]:
        if decision is not None:
            return f"'{shown}': decision '{fact}' always has an outcome, so it is never unknown"
        return Compare(fact, match["known"], None, file, line)  # type: ignore[arg-type]
    if match["sym"]:
        op = match["sym"]
        raw = match["value"]
        if not raw:
            return f"condition '{shown}' has no value: {_CONDITION_HELP}"
        if raw.startswith("(") and raw.endswith(")"):
            return f"'{shown}': compare with a list using 'in (...)' or 'not in (...)'"
        if _CONTROL.search(raw):
            return f"'{shown}': the value holds a control character"
        if op in _ORDERING:
            kind = "decision" if decision is not None else spec.type if spec else ""
            if kind not in ("number", "date"):
                return (
                    f"'{shown}': {op} orders numbers and dates; '{fact}' is "
                    f"{'a decision' if decision is not None else f'{_article(kind)} fact'}; "
                    "use ==, != or in"
                )
        value = _literal(raw, fact, spec, decision)
        if isinstance(value, _Bad):
            return f"'{shown}': {value.reason}"
        return Compare(fact, op, value, file, line)  # type: ignore[arg-type]
    op = re.sub(r"\s+", " ", match["word"])
    raw = match["list"]
    opener = raw[:1]
    closer = {"(": ")", "[": "]"}.get(opener)
    if closer is None or not raw.endswith(closer):
        return f"'{shown}': write the list in parentheses, e.g. {fact} {op} (A, B)"
    items = _split_list(raw[1:-1])
    if isinstance(items, _Bad):
        return f"'{shown}': {items.reason}"
    values: list[Literal_] = []
    for item in items:
        if _CONTROL.search(item):
            return f"'{shown}': the value holds a control character"
        value = _literal(item, fact, spec, decision)
        if isinstance(value, _Bad):
            return f"'{shown}': {value.reason}"
        if value not in values:
            values.append(value)
    return Compare(fact, op, tuple(values), file, line)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Bad:
    reason: str


def _split_list(body: str) -> list[str] | _Bad:
    """Split ``A, "B, C", D`` on commas outside quotes."""
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
        return _Bad("a quoted value is not closed")
    items.append(current.strip())
    if any(not item for item in items):
        return _Bad("the list has an empty item")
    return items


def _unquote(raw: str) -> tuple[str, bool]:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1], True
    return raw, False


def _literal(
    raw: str, fact: str, spec: FactSpec | None, decision: Decision | None
) -> Literal_ | _Bad:
    """``raw`` as a value of ``fact``'s type, or why it cannot be one."""
    text, quoted = _unquote(raw)
    hint = ""
    if not quoted and text.casefold() in ("unknown", "known", "blank", "none", "null"):
        hint = f" (to test for a blank, write '{fact} is unknown')"
    if decision is not None:
        if text in decision.outcomes:
            return text
        return _Bad(
            f"'{text}' is not an outcome of decision '{fact}' "
            f"({', '.join(decision.outcomes)}){_did_you_mean(text, decision.outcomes)}{hint}"
        )
    assert spec is not None
    if spec.type == "number":
        number = None if quoted else _number(text)
        if number is None:
            if text.casefold() in ("nan", "inf", "+inf", "-inf", "infinity", "-infinity"):
                return _Bad(f"'{text}' is not a finite number")
            return _Bad(f"'{fact}' is a number; '{text}' is text, not a number{hint}")
        if not math.isfinite(number) or abs(number) >= MAX_LITERAL:
            return _Bad(
                f"{text} is too large a number for the engine (durable_rules passes values "
                f"through JSON; keep literals below 1e15)"
            )
        if isinstance(number, float) and number != 0 and "e" in repr(number):
            return _Bad(
                f"{text} is too small a number for the engine (durable_rules rejects numbers "
                "written with an exponent)"
            )
        if (spec.minimum is not None and number < spec.minimum) or (
            spec.maximum is not None and number > spec.maximum
        ):
            return _Bad(
                f"{text} is outside the range of '{fact}' "
                f"[{_show(spec.minimum)}, {_show(spec.maximum)}]"
            )
        return number
    if spec.type == "enum":
        if text in spec.values:
            return text
        return _Bad(
            f"'{text}' is not a value of '{fact}' ({', '.join(spec.values)})"
            f"{_did_you_mean(text, spec.values)}{hint}"
        )
    if spec.type == "boolean":
        if text.casefold() in ("true", "false"):
            return text.casefold() == "true"
        return _Bad(f"'{fact}' is a boolean; compare it with true or false, not '{text}'{hint}")
    if spec.type == "date":
        if _DATE.match(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        return _Bad(f"'{fact}' is a date; write YYYY-MM-DD, not '{text}'{hint}")
    return text


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _printable(text: str) -> str:
    """``text`` with control characters escaped, so a diagnostic shows them."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- the whole folder ---------------------------------------------------------


def _folder(path: str | Path | None) -> Path:
    return Path(path) if path is not None else default_rules_dir()


def rulebook_files(path: str | Path | None = None) -> list[Path]:
    """The files a rulebook is made of and hashed over: vocabulary, decisions, rule files
    and the catalogue (every top-level ``*.yaml``), sorted by name."""
    return sorted(p for p in _folder(path).glob("*.yaml") if p.is_file())


def rulebook_sha256(path: str | Path | None = None) -> str:
    """SHA-256 over each rulebook file's name and bytes, in sorted order.

    Each file contributes ``name``, a newline, its byte length, a newline, then
    its bytes, so renaming or moving bytes between files changes the hash.
    """
    digest = hashlib.sha256()
    for file in rulebook_files(path):
        data = file.read_bytes()
        digest.update(f"{file.name}\n{len(data)}\n".encode())
        digest.update(data)
    return digest.hexdigest()


def _load(path: str | Path | None) -> tuple[Rulebook | None, list[Diagnostic], int, int]:
    """The rulebook (None when it has errors), its diagnostics, and its rule and decision counts."""
    folder = _folder(path)
    if not folder.is_dir():
        raise RulebookError(f"{folder}: no such rules folder")
    report = _Report()
    prefix = folder.resolve().name or str(folder)

    def shown(file: Path) -> str:
        return f"{prefix}/{file.name}"

    nodes: dict[str, yaml.Node | None] = {}
    for name in (VOCABULARY_FILE, DECISIONS_FILE):
        file = folder / name
        if not file.is_file():
            report.error(shown(file), 1, f"missing: a rules folder needs {name}")
            nodes[name] = None
        else:
            nodes[name] = _compose(file, shown(file), report)

    vocabulary: dict[str, FactSpec] = {}
    proxies: frozenset[str] = frozenset()
    vocabulary_node = nodes[VOCABULARY_FILE]
    if vocabulary_node is not None:
        vocabulary, _, proxies = _load_vocabulary(
            vocabulary_node, shown(folder / VOCABULARY_FILE), report
        )
    decisions: dict[str, Decision] = {}
    decisions_node = nodes[DECISIONS_FILE]
    if decisions_node is not None:
        decisions = _load_decisions(
            decisions_node, shown(folder / DECISIONS_FILE), vocabulary, report
        )
    if vocabulary_node is None or decisions_node is None:
        # Every rule would read unknown facts or decisions: report only the cause.
        return None, _sorted(report.diagnostics), 0, len(decisions)

    rules: list[Rule] = []
    rule_files = [p for p in rulebook_files(folder) if p.name not in _NOT_RULE_FILES]
    if not rule_files:
        report.error(f"{prefix}/", 1, "no rule files (*.yaml with a rules: list)")
    errors = report.errors
    for file in rule_files:
        node = _compose(file, shown(file), report)
        if node is not None:
            rules.extend(_load_rules(node, shown(file), vocabulary, decisions, proxies, report))
    # With a rule left out, "never produced" and "never concluded" would be guesses.
    complete = report.errors == errors

    rules = _check_ids(rules, report)
    if complete:
        _check_produced(rules, decisions, report)
    levels = _levels(rules, decisions, report)
    _check_never_fire(rules, vocabulary, decisions, report)
    _check_overlaps(rules, vocabulary, decisions, report)
    _check_durable(rules, decisions, report)
    if complete:
        _check_unused(rules, decisions, report)

    diagnostics = _sorted(report.diagnostics)
    if report.has_errors or levels is None:
        return None, diagnostics, len(rules), len(decisions)
    # Rulebook order: files sorted by name, then file order (rules were read that way).
    rulebook = Rulebook(
        vocabulary=vocabulary,
        decisions=decisions,
        rules=tuple(rules),
        levels=levels,
        source=str(folder),
        sha256=rulebook_sha256(folder),
    )
    return rulebook, diagnostics, len(rules), len(decisions)


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.file, d.line, d.severity, d.message))


def _check_ids(rules: list[Rule], report: _Report) -> list[Rule]:
    """Report duplicate rule ids; keep the first of each."""
    seen: dict[str, Rule] = {}
    kept: list[Rule] = []
    for rule in rules:
        first = seen.get(rule.id)
        if first is not None:
            report.error(
                rule.file,
                rule.line,
                f"duplicate rule id; first defined at {first.file}:{first.line}",
                rule.id,
            )
            continue
        seen[rule.id] = rule
        kept.append(rule)
    return kept


def _check_produced(rules: list[Rule], decisions: Mapping[str, Decision], report: _Report) -> None:
    """A condition reading an outcome that no rule concludes and that is not the default."""
    produced: dict[str, set[str]] = {name: {d.default} for name, d in decisions.items()}
    for rule in rules:
        produced[rule.decision].add(rule.then)
    for rule in rules:
        for compare in expr_facts(rule.when):
            if compare.fact not in decisions:
                continue
            wanted = compare.value if isinstance(compare.value, tuple) else (compare.value,)
            for outcome in wanted:
                if outcome not in produced[compare.fact]:
                    report.error(
                        compare.file,
                        compare.line,
                        f"'{compare}' reads outcome '{outcome}' of decision '{compare.fact}', "
                        "but no rule concludes it and it is not the default",
                        rule.id,
                    )


def _check_unused(rules: list[Rule], decisions: Mapping[str, Decision], report: _Report) -> None:
    """Warn about decisions without rules and outcomes nothing can reach."""
    by_decision: dict[str, set[str]] = {name: set() for name in decisions}
    for rule in rules:
        by_decision[rule.decision].add(rule.then)
    for name, decision in decisions.items():
        concluded = by_decision[name]
        if not concluded:
            report.warning(
                decision.file,
                decision.line,
                f"decision '{name}' has no rules: everyone gets '{decision.default}'",
            )
            continue
        for outcome in decision.outcomes:
            if outcome not in concluded and outcome != decision.default:
                report.warning(
                    decision.file,
                    decision.line,
                    f"decision '{name}': no rule concludes '{outcome}'",
                )


def _levels(
    rules: list[Rule], decisions: Mapping[str, Decision], report: _Report
) -> tuple[tuple[str, ...], ...] | None:
    """Decisions by dependency level (0 reads only facts); None when there is a cycle."""
    reads: dict[str, dict[str, Rule]] = {name: {} for name in decisions}
    for rule in rules:
        for fact in sorted(rule_reads(rule)):
            if fact in decisions:
                reads[rule.decision].setdefault(fact, rule)
    # Depth-first search; a grey node reached again closes a cycle.
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: set[frozenset[str]] = set()
    found = False

    def visit(name: str) -> None:
        nonlocal found
        state[name] = 1
        stack.append(name)
        for needed, rule in reads[name].items():
            if state.get(needed) == 1:
                path = [*stack[stack.index(needed) :], needed]
                found = True
                key = frozenset(path)
                if key not in cycles:
                    cycles.add(key)
                    compare = next(c for c in expr_facts(rule.when) if c.fact == needed)
                    report.error(
                        compare.file,
                        compare.line,
                        f"decisions depend on each other in a cycle: {' -> '.join(path)}",
                        rule.id,
                    )
            elif needed not in state:
                visit(needed)
        stack.pop()
        state[name] = 2

    for name in decisions:
        if name not in state:
            visit(name)
    if found:
        return None
    level: dict[str, int] = {}

    def depth(name: str) -> int:
        if name not in level:
            level[name] = 1 + max((depth(n) for n in reads[name]), default=-1)
        return level[name]

    for name in decisions:
        depth(name)
    count = max(level.values(), default=-1) + 1
    return tuple(tuple(n for n in decisions if level[n] == i) for i in range(count))


# -- reasoning over conditions: never-fire, overlaps, witnesses ---------------
#
# Each fact is compared only with literals, so the values that matter for it are
# the literals themselves, one value strictly between each two neighbours, one
# beyond each end (within the declared range) and unknown: every region the
# comparisons can tell apart has a representative. Searching those candidates is
# complete for real numbers, but treats a decision's outcome as free (not derived
# from the facts that decide it) and ignores that counts are whole numbers.

# Search budget per pair of rules (values tried), then random sampling (fixed seed).
_SEARCH_STEPS = 50_000
_SAMPLES = 2_000
_Value = object
_UNKNOWN_SET: frozenset[bool | None] = frozenset({True, False, None})


def _literals(compares: Iterable[Compare]) -> dict[str, list[Literal_]]:
    found: dict[str, list[Literal_]] = {}
    for compare in compares:
        values = compare.value if isinstance(compare.value, tuple) else (compare.value,)
        bucket = found.setdefault(compare.fact, [])
        bucket.extend(v for v in values if v is not None and v not in bucket)
    return found


def _between(low: float, high: float, whole: bool) -> float | None:
    if float(low).is_integer() and float(high).is_integer() and high - low >= 2:
        return int(low) + 1
    return None if whole else (low + high) / 2


def _points(
    literals: Iterable[float], low: float | None, high: float | None, whole: bool
) -> list[float]:
    """Representatives of every interval the literals cut the range into."""
    points = sorted(
        {
            p
            for p in [*literals, *(b for b in (low, high) if b is not None)]
            if (low is None or p >= low) and (high is None or p <= high)
        }
    )
    if not points:
        points = [low if low is not None else high if high is not None else 0]
    found = list(points)
    for a, b in zip(points, points[1:], strict=False):
        middle = _between(a, b, whole)
        if middle is not None:
            found.append(middle)
    if low is None:
        found.append(points[0] - 1)
    if high is None:
        found.append(points[-1] + 1)
    return sorted(set(found))


def _candidates(
    fact: str,
    literals: list[Literal_],
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
) -> list[_Value]:
    """The values of ``fact`` worth trying (see the comment above)."""
    decision = decisions.get(fact)
    if decision is not None:
        if decision.policy != "collect":
            return [(o,) for o in decision.outcomes]
        mentioned = [o for o in decision.outcomes if o in literals]
        others = [o for o in decision.outcomes if o not in mentioned]
        sets: list[_Value] = []
        if len(mentioned) <= 6:
            for size in range(1, len(mentioned) + 1):
                sets.extend(itertools.combinations(mentioned, size))
        else:
            sets.extend((o,) for o in mentioned)
            sets.append(tuple(mentioned))
        if others:
            sets.append((decision.default if decision.default in others else others[0],))
        return sets
    spec = vocabulary[fact]
    values: list[_Value]
    if spec.type == "number":
        numbers = [v for v in literals if isinstance(v, int | float) and not isinstance(v, bool)]
        values = list(_points(numbers, spec.minimum, spec.maximum, whole=False))
    elif spec.type == "date":
        days = [v.toordinal() for v in literals if isinstance(v, dt.date)]
        values = [dt.date.fromordinal(int(p)) for p in _points(days, None, None, whole=True)]
    elif spec.type == "enum":
        values = list(spec.values)
    elif spec.type == "boolean":
        values = [True, False]
    else:
        other = "(other text)"
        while other in literals:
            other += "'"
        values = [*(str(v) for v in literals), other]
    return [*values, None]


def _conjuncts(expr: Expr) -> list[Compare]:
    """The comparisons that must all hold for ``expr`` to hold (its top-level ``all``)."""
    if isinstance(expr, Compare):
        return [expr]
    if isinstance(expr, AllOf):
        return [c for part in expr.parts for c in _conjuncts(part)]
    return []


def _contradiction(
    compares: list[Compare],
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
) -> list[Compare] | None:
    """Comparisons on one fact, among ``compares``, that no value satisfies together."""
    by_fact: dict[str, list[Compare]] = {}
    for compare in compares:
        by_fact.setdefault(compare.fact, []).append(compare)
    for fact, group in by_fact.items():
        literals = _literals(group).get(fact, [])
        candidates = _candidates(fact, literals, vocabulary, decisions)
        if not any(all(_compare(c, value) is True for c in group) for value in candidates):
            return group
    return None


def _check_never_fire(
    rules: list[Rule],
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    report: _Report,
) -> None:
    for rule in rules:
        group = _contradiction(_conjuncts(rule.when), vocabulary, decisions)
        if group is None:
            continue
        shown = " and ".join(f"'{c}'" for c in group)
        why = "cannot all hold" if len(group) > 1 else "can never hold"
        spec = vocabulary.get(group[0].fact)
        ranged = spec is not None and (spec.minimum is not None or spec.maximum is not None)
        if spec is not None and ranged and len(group) == 1:
            why += f" (range [{_show(spec.minimum)}, {_show(spec.maximum)}])"
        report.error(rule.file, group[0].line, f"can never fire: {shown} {why}", rule.id)


def _possible(expr: Expr, partial: Mapping[str, _Value]) -> frozenset[bool | None]:
    """Every value ``expr`` may still take when only the facts in ``partial`` are fixed."""
    if isinstance(expr, Compare):
        if expr.fact not in partial:
            return _UNKNOWN_SET
        return frozenset({_compare(expr, partial[expr.fact])})
    if isinstance(expr, Not):
        return frozenset(None if v is None else not v for v in _possible(expr.part, partial))
    combine = _and3 if isinstance(expr, AllOf) else _or3
    result: frozenset[bool | None] = frozenset()
    for part in expr.parts:
        values = _possible(part, partial)
        if not result:
            result = values
        else:
            result = frozenset(combine((a, b)) for a in result for b in values)
    return result


def _witness(
    first: Rule,
    second: Rule,
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
) -> dict[str, _Value] | None:
    """Fact values for which both rules fire, or None if none was found."""
    merged = _conjuncts(first.when) + _conjuncts(second.when)
    if _contradiction(merged, vocabulary, decisions) is not None:
        return None  # the cheap, common case: they exclude each other on one fact
    compares = expr_facts(first.when) + expr_facts(second.when)
    literals = _literals(compares)
    candidates = {
        fact: _candidates(fact, literals[fact], vocabulary, decisions) for fact in literals
    }
    partial: dict[str, _Value] = {}
    budget = _SEARCH_STEPS

    def viable() -> bool:
        return True in _possible(first.when, partial) and True in _possible(second.when, partial)

    def search(domains: dict[str, list[_Value]]) -> bool:
        """Backtracking with forward checking; the fact with fewest viable values first."""
        nonlocal budget
        if not domains:
            return True  # every fact assigned, each assignment checked viable
        narrowed: dict[str, list[_Value]] = {}
        for fact, values in domains.items():
            kept = []
            for value in values:
                budget -= 1
                partial[fact] = value
                if viable():
                    kept.append(value)
                del partial[fact]
            if not kept or budget < 0:
                return False
            narrowed[fact] = kept
        fact = min(narrowed, key=lambda f: (len(narrowed[f]), f))
        rest = {f: values for f, values in narrowed.items() if f != fact}
        for value in narrowed[fact]:
            partial[fact] = value
            if search(rest):
                return True
            del partial[fact]
        return False

    if search(dict(candidates)):
        return _relevant(first, second, dict(partial), candidates)
    if budget >= 0:
        return None  # searched every candidate: no witness exists among them
    chooser = random.Random(0)
    for _ in range(_SAMPLES):
        sample = {fact: chooser.choice(values) for fact, values in candidates.items()}
        if evaluate(first.when, sample) is True and evaluate(second.when, sample) is True:
            return sample
    return None


def _relevant(
    first: Rule,
    second: Rule,
    witness: dict[str, _Value],
    candidates: Mapping[str, list[_Value]],
) -> dict[str, _Value]:
    """``witness`` without the facts whose value does not matter (both fire for any)."""
    kept = dict(witness)
    for fact in sorted(witness):
        trial = dict(kept)
        if all(
            evaluate(first.when, trial | {fact: value}) is True
            and evaluate(second.when, trial | {fact: value}) is True
            for value in candidates[fact]
        ):
            del kept[fact]
    return kept


def _show_witness(witness: Mapping[str, _Value]) -> str:
    def one(value: _Value) -> str:
        if value is None:
            return "unknown"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return " + ".join(str(v) for v in value)
        return _show(value)

    return "{" + ", ".join(f"{fact}: {one(v)}" for fact, v in sorted(witness.items())) + "}"


def _check_overlaps(
    rules: list[Rule],
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    report: _Report,
) -> None:
    """Two rules of a ``unique`` decision, or of one priority under ``priority``, that can
    both fire."""
    by_decision: dict[str, list[Rule]] = {}
    for rule in rules:
        by_decision.setdefault(rule.decision, []).append(rule)
    for name, members in by_decision.items():
        policy = decisions[name].policy
        if policy == "collect":
            continue
        for i, second in enumerate(members):
            for first in members[:i]:
                if policy == "priority" and first.priority != second.priority:
                    continue
                witness = _witness(first, second, vocabulary, decisions)
                if policy == "unique" and witness is not None:
                    report.error(
                        second.file,
                        second.line,
                        f"overlaps rule {first.id} in unique decision '{name}': both fire for "
                        f"{_show_witness(witness)}",
                        second.id,
                    )
                elif policy == "priority" and witness is not None:
                    report.error(
                        second.file,
                        second.line,
                        f"shares priority {second.priority} with rule {first.id} in decision "
                        f"'{name}' and both fire for {_show_witness(witness)}; give them "
                        "different priorities",
                        second.id,
                    )
                elif policy == "priority":
                    report.warning(
                        second.file,
                        second.line,
                        f"shares priority {second.priority} with rule {first.id} in decision "
                        f"'{name}'; they cannot both fire, but distinct priorities say which "
                        "should win",
                        second.id,
                    )


def _check_durable(rules: list[Rule], decisions: Mapping[str, Decision], report: _Report) -> None:
    """Constructs durable_rules hangs or fails on (../shared/durable-notes.md)."""
    readers: dict[str, list[Rule]] = {}
    for rule in rules:
        compares = expr_facts(rule.when)
        for fact in sorted({c.fact for c in compares}):
            readers.setdefault(fact, []).append(rule)
        if all(c.op == "unknown" for c in compares):
            report.warning(
                rule.file,
                rule.line,
                "the condition only tests 'is unknown', which durable_rules would match "
                "forever; the compiler adds a guard, so it is safe",
                rule.id,
            )
    for fact, group in readers.items():
        if len(group) > DURABLE_MAX_RULES_PER_FIELD:
            rule = group[DURABLE_MAX_RULES_PER_FIELD]
            report.error(
                rule.file,
                rule.line,
                f"{len(group)} rules read '{fact}'; durable_rules hangs with more than "
                f"{DURABLE_MAX_RULES_PER_FIELD} rules branching on one field",
                rule.id,
            )
