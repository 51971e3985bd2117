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
import itertools
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from talentrules import facts, rulefiles
from talentrules.errors import RulebookError, RuleConflictError
from talentrules.paths import default_rules_dir
from talentrules.rulefiles import (
    CONDITION,
    CONDITION_HELP,
    CONTROL,
    MAX_LITERAL,
    ORDERING,
    Bad,
    Diagnostic,
    Literal_,
    Report,
    RuleFiles,
    Severity,
    did_you_mean,
    is_protected,
    keys,
    kind_of,
    line_of,
    mapping,
    number_of,
    open_rules,
    printable,
    show,
    split_list,
    text_of,
    texts_of,
    unquote,
    where,
)
from talentrules.vocabulary import (
    PARAMETERS_FILE,
    SIGNALS_FILE,
    VOCABULARY_FILE,
    FactSpec,
    FactType,
    Names,
    Parameter,
    RowSet,
    Signal,
    Vocabulary,
    expand,
    load_vocabulary,
    parse_literal,
)

Policy = Literal["unique", "priority", "collect"]
Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "known", "unknown"]

__all__ = [  # re-exported: the rule language's words, as before they moved to vocabulary
    "Diagnostic",
    "FactSpec",
    "FactType",
    "Literal_",
    "Severity",
]


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
class OutcomeTexts:
    """What briefs and the summary say about one outcome (decisions.yaml ``texts``)."""

    texts: dict[str, str]  # meaning, advice, gap, risk: each a sentence or two
    interest: dict[str, str] = field(default_factory=dict)  # interest value -> sentence
    line: int = 0  # where the outcome's texts start in decisions.yaml

    def get(self, key: str) -> str:
        return self.texts.get(key, "")


# The parts a decision may play in briefs and the summary (decisions.yaml ``role``),
# and the texts every outcome of a decision in that part needs. Python finds the
# decision behind each part through these roles, never through a decision's name.
ROLES: dict[str, tuple[str, ...]] = {
    "verdict": ("meaning",),  # the headline verdict (the heart for leadership)
    "habits": (),  # signal codes shown habitually (its outcomes are catalogue codes)
    "evidence": ("meaning",),  # whether the evidence is enough to judge, and why not
    "inspiration_profile": ("meaning",),  # how others are inspired by the person
    "management_pattern": ("meaning",),  # the compliance side
    "team_balance": ("meaning", "advice"),  # a people manager's team, and what to do
    "development_track": ("meaning",),  # the track, and how it fits the stated interest
    "investments": (),  # catalogue codes (the catalogue describes them)
    "panel_exceptions": ("meaning",),  # the people the summary asks the panel to look at
}
TEXT_KEYS = ("meaning", "advice", "gap", "risk")
# The interest sentences of the development track may name the person's stated
# interest, filled in when the brief is written.
INTEREST_PLACEHOLDER = "interest"
OTHERWISE = "otherwise"
UNKNOWN_INTEREST = "unknown"


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
    role: str | None = None  # the part it plays in briefs and the summary (ROLES)
    label: str = ""  # how briefs head it ("Heart for leadership"); default: the name
    texts: dict[str, OutcomeTexts] = field(default_factory=dict)  # outcome -> texts
    interest: str | None = None  # development_track: the fact holding the stated interest
    # The fairness monitor: outcome -> "advantage" (rates compared, low ratios flagged)
    # or "neutral" (rates shown, never flagged); empty: the decision is not monitored.
    fairness: dict[str, str] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def text(self, outcome: str, key: str) -> str:
        """One text of one outcome ('' when the rulebook gives none)."""
        texts = self.texts.get(outcome)
        return texts.get(key) if texts is not None else ""

    def interest_text(self, outcome: str, interest: str | None) -> str:
        """The development track's sentence for a stated interest (None: not recorded)."""
        texts = self.texts.get(outcome)
        if texts is None:
            return ""
        key = UNKNOWN_INTEREST if interest is None else interest
        sentence = texts.interest.get(key) or texts.interest.get(OTHERWISE, "")
        return sentence.replace(f"${INTEREST_PLACEHOLDER}", interest or "")


@dataclass(frozen=True)
class Rulebook:
    """A checked rulebook, ready to evaluate."""

    vocabulary: dict[str, FactSpec]
    decisions: dict[str, Decision]
    rules: tuple[Rule, ...]  # in file order (files sorted by name)
    levels: tuple[tuple[str, ...], ...]  # decision names by dependency level
    source: str  # the rules folder
    sha256: str  # hash of every rule file's bytes, in order
    parameters: dict[str, Parameter] = field(default_factory=dict)
    signals: dict[str, Signal] = field(default_factory=dict)  # the signal catalogue
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)  # named sets of codes
    rows: dict[str, RowSet] = field(default_factory=dict)  # which rows count for what

    def role(self, role: str) -> Decision | None:
        """The decision that plays ``role`` (ROLES), or None when none does."""
        for decision in self.decisions.values():
            if decision.role == role:
                return decision
        return None

    def outcome_of(self, role: str, outcomes: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
        """A person's outcome(s) of the decision playing ``role`` (() when none does)."""
        decision = self.role(role)
        return outcomes.get(decision.name, ()) if decision is not None else ()


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

DECISIONS_FILE = "decisions.yaml"
CATALOGUE_FILE = "catalogue.yaml"  # the default investment catalogue (decide.py's)
CHANGES_FILE = "changes.yaml"  # what a brief may name as changing the outcome (changes.py)
_NOT_RULE_FILES = frozenset(
    {VOCABULARY_FILE, DECISIONS_FILE, CATALOGUE_FILE, PARAMETERS_FILE, SIGNALS_FILE, CHANGES_FILE}
)

# durable_rules hangs at creation or assert with 512 or more rules branching on
# one field (../shared/durable-notes.md, "Inputs that break it").
DURABLE_MAX_RULES_PER_FIELD = 511
# The size of conditions, so that no rulebook reaches a size durable_rules hangs on
# (512 tests under one node of its matcher; engine.py checks the compiled form
# exactly) or the checker crawls on; docs/engine.md measures each.
MAX_ALTERNATIVES = 100  # values in one in (...) list; conditions in one all/any/not list
MAX_CONDITIONS_PER_RULE = 200  # comparisons in one rule, each value of a list counted
MAX_CONDITIONS_PER_RULEBOOK = 10_000  # the shipped rulebook has 426

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")


def load_rulebook(path: str | Path | RuleFiles | None = None) -> Rulebook:
    """Load and check the rulebook ``path`` (a rules folder or a rulebook workbook;
    default: the packaged rules).

    Raises RulebookError listing every error diagnostic; warnings do not stop it.
    """
    rulebook, diagnostics, _, _ = _load(path)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors or rulebook is None:
        folder = open_rules(path).path
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
    """Check the rules folder ``path`` and count what it holds, for the CLI.

    Beyond the language (``check_rulebook``), every declared fact must be one a run can
    compute from a workbook: evaluate would refuse the rulebook otherwise.
    """
    _, diagnostics, rules, decisions = _load(path, computable=True)
    return CheckReport(tuple(diagnostics), rules, decisions)


def parse_condition(
    text: str,
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    file: str,
    line: int,
    names: Names | None = None,
) -> Compare:
    """Parse one condition string (``H-DEV.episodes >= 3``) into a typed Compare.

    Raises RulebookError naming ``file:line`` when the text is not a condition,
    names an unknown or protected fact, or compares it with a value of the wrong type.
    ``names`` holds the rulebook's named values (``$habit_months``).
    """
    result = _parse_condition(text, vocabulary, decisions, frozenset(), file, line, names)
    if isinstance(result, str):
        raise RulebookError(f"{where(file, line)}: {result}")
    return result


def condition_count(expr: Expr) -> int:
    """Comparisons in a condition, each value of an ``in``/``not in`` list counted: what
    the engine turns into tests of durable_rules' matcher."""
    count = 0
    for compare in expr_facts(expr):
        count += len(compare.value) if isinstance(compare.value, tuple) else 1
    return count


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


# -- decisions.yaml -----------------------------------------------------------

_POLICIES = ("unique", "priority", "collect")


def _load_decisions(
    node: yaml.Node, file: str, vocabulary: Mapping[str, FactSpec], names: Names, report: Report
) -> dict[str, Decision]:
    decisions: dict[str, Decision] = {}
    top = mapping(node, file, "decisions.yaml", report)
    if top is None or not keys(top, node, file, "decisions.yaml", ("decisions",), (), report):
        return decisions
    entries = mapping(top["decisions"][1], file, "decisions", report) or {}
    roles: dict[str, str] = {}
    for name, (key, value) in entries.items():
        what = f"decision '{name}'"
        if not _NAME.match(name):
            report.error(
                file,
                line_of(key),
                f"decision name '{name}' may hold only letters, digits, _, - and .",
            )
            continue
        if name in vocabulary:
            report.error(file, line_of(key), f"{what} has the name of a fact; rename one of them")
            continue
        body = mapping(value, file, what, report)
        if body is None:
            continue
        required = ("outcomes", "default", "meaning")
        optional = ("policy", "role", "label", "texts", "interest", "fairness")
        if not keys(body, value, file, what, required, optional, report):
            continue
        policy = "unique"
        if "policy" in body:
            policy = text_of(body["policy"][1], file, f"{what} policy", report) or "unique"
            if policy not in _POLICIES:
                report.error(
                    file,
                    line_of(body["policy"][1]),
                    f"{what}: policy '{policy}' is not one of {', '.join(_POLICIES)}"
                    + did_you_mean(policy, _POLICIES),
                )
                continue
        outcomes = _outcomes(body["outcomes"][1], file, what, names, report)
        default = text_of(body["default"][1], file, f"{what} default", report)
        meaning = text_of(body["meaning"][1], file, f"{what} meaning", report)
        if not outcomes or default is None or meaning is None:
            continue
        meaning = names.text(meaning, file, line_of(body["meaning"][1]), report)
        if default not in outcomes:
            report.error(
                file,
                line_of(body["default"][1]),
                f"{what}: default '{default}' is not one of its outcomes "
                f"({', '.join(outcomes)}){did_you_mean(default, outcomes)}",
            )
        role = None
        if "role" in body:
            role = text_of(body["role"][1], file, f"{what} role", report)
            if role is not None and role not in ROLES:
                report.error(
                    file,
                    line_of(body["role"][1]),
                    f"{what}: role '{role}' is not one of {', '.join(ROLES)}"
                    + did_you_mean(role, ROLES),
                )
                role = None
            elif role is not None and role in roles:
                report.error(
                    file,
                    line_of(body["role"][1]),
                    f"{what}: decision '{roles[role]}' already plays role '{role}'",
                )
                role = None
            elif role is not None:
                roles[role] = name
        label = ""
        if "label" in body:
            label = text_of(body["label"][1], file, f"{what} label", report) or ""
        interest = None
        if "interest" in body:
            interest = _interest_fact(body["interest"][1], file, what, vocabulary, report)
        texts: dict[str, OutcomeTexts] = {}
        if "texts" in body:
            texts = _outcome_texts(body["texts"][1], file, what, outcomes, interest, names, report)
        fairness: dict[str, str] = {}
        if "fairness" in body:
            fairness = _fairness(body["fairness"][1], file, what, outcomes, report)
        decision = Decision(
            name,
            policy,  # type: ignore[arg-type]
            tuple(outcomes),
            default,
            meaning,
            file,
            line_of(key),
            role,
            label,
            texts,
            interest,
            fairness,
        )
        _check_texts(decision, vocabulary, report)
        decisions[name] = decision
    return decisions


def _outcomes(
    node: yaml.Node, file: str, what: str, names: Names, report: Report
) -> list[str] | None:
    """A decision's outcomes; ``$set`` stands for every code of a signal set."""
    items = texts_of(node, file, f"{what} outcomes", report)
    if items is None:
        return None
    outcomes: list[str] = []
    for item, item_node in zip(items, node.value, strict=False):
        if item.startswith("$"):
            codes = names.codes(item[1:])
            if codes is None:
                report.error(
                    file, line_of(item_node), f"{what} outcomes: {names.unknown(item[1:])}"
                )
                return None
            found = list(codes)
        else:
            found = [item]
        for outcome in found:
            if outcome in outcomes:
                report.error(
                    file, line_of(item_node), f"{what} outcomes: '{outcome}' is listed twice"
                )
                return None
            outcomes.append(outcome)
    return outcomes


FAIRNESS_DIRECTIONS = ("advantage", "neutral")


def _fairness(
    node: yaml.Node, file: str, what: str, outcomes: list[str], report: Report
) -> dict[str, str]:
    """``fairness:`` outcome -> advantage | neutral, for every outcome of the decision."""
    found: dict[str, str] = {}
    entries = mapping(node, file, f"{what} fairness", report) or {}
    for outcome, (key, value) in entries.items():
        direction = text_of(value, file, f"{what} fairness of '{outcome}'", report)
        if outcome not in outcomes:
            report.error(
                file,
                line_of(key),
                f"{what} fairness: '{outcome}' is not one of its outcomes ({', '.join(outcomes)})"
                + did_you_mean(outcome, outcomes),
            )
        elif direction is not None and direction not in FAIRNESS_DIRECTIONS:
            report.error(
                file,
                line_of(value),
                f"{what} fairness of '{outcome}': '{direction}' is not one of "
                f"{', '.join(FAIRNESS_DIRECTIONS)}",
            )
        elif direction is not None:
            found[outcome] = direction
    missing = [o for o in outcomes if o not in entries]
    if entries and missing:
        report.error(
            file,
            line_of(node),
            f"{what} fairness: give every outcome a direction (advantage or neutral); "
            f"missing {', '.join(missing)}",
        )
    return found


def _interest_fact(
    node: yaml.Node, file: str, what: str, vocabulary: Mapping[str, FactSpec], report: Report
) -> str | None:
    name = text_of(node, file, f"{what} interest", report)
    if name is None:
        return None
    spec = vocabulary.get(name)
    if spec is None or spec.type != "enum":
        report.error(
            file,
            line_of(node),
            f"{what}: interest names the enum fact holding the stated interest; "
            f"'{name}' is not one{did_you_mean(name, vocabulary)}",
        )
        return None
    return name


def _outcome_texts(
    node: yaml.Node,
    file: str,
    what: str,
    outcomes: list[str],
    interest: str | None,
    names: Names,
    report: Report,
) -> dict[str, OutcomeTexts]:
    """``texts:`` outcome -> {meaning, advice, gap, risk, interest: {value: sentence}}."""
    found: dict[str, OutcomeTexts] = {}
    entries = mapping(node, file, f"{what} texts", report) or {}
    for outcome, (key, body) in entries.items():
        if outcome not in outcomes:
            report.error(
                file,
                line_of(key),
                f"{what} texts: '{outcome}' is not one of its outcomes ({', '.join(outcomes)})"
                + did_you_mean(outcome, outcomes),
            )
            continue
        place = f"{what} texts of '{outcome}'"
        fields_ = mapping(body, file, place, report)
        if fields_ is None:
            continue
        allowed = (*TEXT_KEYS, "interest") if interest is not None else TEXT_KEYS
        keys(fields_, body, file, place, (), allowed, report)
        texts: dict[str, str] = {}
        for text_key in TEXT_KEYS:
            if text_key in fields_:
                value_node = fields_[text_key][1]
                text = text_of(value_node, file, f"{place} {text_key}", report)
                if text is not None:
                    texts[text_key] = names.text(text, file, line_of(value_node), report)
        sentences: dict[str, str] = {}
        if interest is not None and "interest" in fields_:
            table = mapping(fields_["interest"][1], file, f"{place} interest", report) or {}
            for value, (_, sentence_node) in table.items():
                text = text_of(sentence_node, file, f"{place} interest '{value}'", report)
                if text is not None:
                    sentences[value] = names.text(
                        text,
                        file,
                        line_of(sentence_node),
                        report,
                        keep=(INTEREST_PLACEHOLDER,),
                    )
        found[outcome] = OutcomeTexts(texts, sentences, line_of(key))
    return found


def _check_texts(decision: Decision, vocabulary: Mapping[str, FactSpec], report: Report) -> None:
    """Every outcome of a decision with a role has the texts the role needs."""
    what = f"decision '{decision.name}'"
    if decision.role is None:
        return
    needed = ROLES[decision.role]
    for outcome in decision.outcomes:
        texts = decision.texts.get(outcome)
        missing = [k for k in needed if texts is None or not texts.get(k)]
        if missing:
            report.error(
                decision.file,
                texts.line if texts is not None and texts.line else decision.line,
                f"{what} plays role {decision.role}: outcome '{outcome}' needs "
                f"{' and '.join(missing)} under texts (briefs show it)",
            )
    if decision.role != "development_track":
        return
    if decision.interest is None:
        report.error(
            decision.file,
            decision.line,
            f"{what} plays role development_track: give 'interest: FACT' (the enum fact "
            "holding the person's stated interest) and an interest sentence per outcome",
        )
        return
    spec = vocabulary[decision.interest]
    allowed = (*spec.values, UNKNOWN_INTEREST, OTHERWISE)
    for outcome in decision.outcomes:
        texts = decision.texts.get(outcome)
        table = texts.interest if texts is not None else {}
        line = texts.line if texts is not None and texts.line else decision.line
        for value in table:
            if value not in allowed:
                report.error(
                    decision.file,
                    line,
                    f"{what} texts of '{outcome}': interest '{value}' is not a value of "
                    f"{decision.interest} ({', '.join(allowed)}){did_you_mean(value, allowed)}",
                )
        if OTHERWISE in table:
            continue
        uncovered = [v for v in (*spec.values, UNKNOWN_INTEREST) if v not in table]
        if uncovered:
            report.error(
                decision.file,
                line,
                f"{what} texts of '{outcome}': no interest sentence for "
                f"{', '.join(uncovered)} (give one each, or '{OTHERWISE}')",
            )


# -- rules --------------------------------------------------------------------

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
        result = _parse_condition(
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


def _parse_condition(
    text: str,
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    proxies: frozenset[str],
    file: str,
    line: int,
    names: Names | None = None,
) -> Compare | str:
    """A typed Compare, or the reason ``text`` is not one.

    A value may be a named value: ``$habit_months`` (a parameter, for a number fact)
    or ``$core_signals`` (a set of codes, in a list: ``habitual in $core_signals``).
    """
    names = names if names is not None else Names()
    shown = printable(text.strip())
    match = CONDITION.match(text)
    if match is None:
        return f"cannot read condition '{shown}': {CONDITION_HELP}"
    fact = match["fact"]
    if "$" in fact:
        return (
            f"'{shown}': '{fact}' is not a fact; a named value ($...) goes on the right, "
            "and $code only inside a rule declared for_each signal"
        )
    if is_protected(fact, proxies):
        return f"reads a protected attribute '{fact}'; rules may not use it"
    spec = vocabulary.get(fact)
    decision = decisions.get(fact)
    if spec is None and decision is None:
        return f"unknown fact '{fact}'{did_you_mean(fact, [*vocabulary, *decisions])}"
    if match["known"]:
        if decision is not None:
            return f"'{shown}': decision '{fact}' always has an outcome, so it is never unknown"
        return Compare(fact, match["known"], None, file, line)  # type: ignore[arg-type]
    if match["sym"]:
        op = match["sym"]
        raw = match["value"]
        if not raw:
            return f"condition '{shown}' has no value: {CONDITION_HELP}"
        if raw.startswith("(") and raw.endswith(")"):
            return f"'{shown}': compare with a list using 'in (...)' or 'not in (...)'"
        if CONTROL.search(raw):
            return f"'{shown}': the value holds a control character"
        if op in ORDERING:
            kind = "decision" if decision is not None else spec.type if spec else ""
            if kind not in ("number", "date"):
                return (
                    f"'{shown}': {op} orders numbers and dates; '{fact}' is "
                    f"{'a decision' if decision is not None else f'{_article(kind)} fact'}; "
                    "use ==, != or in"
                )
        value = _literal(raw, fact, spec, decision, names)
        if isinstance(value, Bad):
            return f"'{shown}': {value.reason}"
        if isinstance(value, tuple):
            return f"'{shown}': compare with a set using 'in' or 'not in'"
        return Compare(fact, op, value, file, line)  # type: ignore[arg-type]
    op = re.sub(r"\s+", " ", match["word"])
    raw = match["list"].strip()
    items: list[str] | str
    if raw.startswith("$"):
        items = [raw]
    else:
        opener = raw[:1]
        closer = {"(": ")", "[": "]"}.get(opener)
        if closer is None or not raw.endswith(closer):
            return f"'{shown}': write the list in parentheses, e.g. {fact} {op} (A, B)"
        items = split_list(raw[1:-1])
    if isinstance(items, str):
        return f"'{shown}': {items}"
    values: list[Literal_] = []
    for item in items:
        if CONTROL.search(item):
            return f"'{shown}': the value holds a control character"
        value = _literal(item, fact, spec, decision, names)
        if isinstance(value, Bad):
            return f"'{shown}': {value.reason}"
        for one in value if isinstance(value, tuple) else (value,):
            if one not in values:
                values.append(one)
    if len(values) > MAX_ALTERNATIVES:
        return (
            f"'{fact} {op} (...)' lists {len(values)} values; the limit is {MAX_ALTERNATIVES} "
            "(durable_rules hangs on lists a few times longer): use a range (< >) or a "
            "derived fact"
        )
    return Compare(fact, op, tuple(values), file, line)  # type: ignore[arg-type]


def _literal(
    raw: str, fact: str, spec: FactSpec | None, decision: Decision | None, names: Names
) -> Literal_ | tuple[Literal_, ...] | Bad:
    """``raw`` as a value of ``fact``'s type (a named set: a tuple), or why it cannot be."""
    text, quoted = unquote(raw)
    if decision is not None:
        if not quoted and text.startswith("$"):
            codes = names.codes(text[1:])
            if codes is None:
                return Bad(names.unknown(text[1:]))
            missing = [c for c in codes if c not in decision.outcomes]
            if missing:
                return Bad(f"{text} holds {', '.join(missing)}, not outcomes of decision '{fact}'")
            return tuple(codes)
        if text in decision.outcomes:
            return text
        hint = ""
        if not quoted and text.casefold() in ("unknown", "known", "blank", "none", "null"):
            hint = f" (to test for a blank, write '{fact} is unknown')"
        return Bad(
            f"'{text}' is not an outcome of decision '{fact}' "
            f"({', '.join(decision.outcomes)}){did_you_mean(text, decision.outcomes)}{hint}"
        )
    assert spec is not None
    value = parse_literal(raw, spec.type, spec.values, fact, names)
    if spec.type != "number" or not isinstance(value, int | float) or isinstance(value, bool):
        return value
    number = value
    shown = text if not text.startswith("$") else f"{text} ({show(number)})"
    if not math.isfinite(number) or abs(number) >= MAX_LITERAL:
        return Bad(
            f"{shown} is too large a number for the engine (durable_rules passes values "
            f"through JSON; keep literals below 1e15)"
        )
    if isinstance(number, float) and number != 0 and "e" in repr(number):
        return Bad(
            f"{shown} is too small a number for the engine (durable_rules rejects numbers "
            "written with an exponent)"
        )
    if (spec.minimum is not None and number < spec.minimum) or (
        spec.maximum is not None and number > spec.maximum
    ):
        return Bad(
            f"{shown} is outside the range of '{fact}' [{show(spec.minimum)}, {show(spec.maximum)}]"
        )
    return number


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


# -- the whole folder ---------------------------------------------------------


def _folder(path: str | Path | None) -> Path:
    return Path(path) if path is not None else default_rules_dir()


def rulebook_files(path: str | Path | None = None) -> list[Path]:
    """The files a rulebook is made of and hashed over: vocabulary, decisions, rule files
    and the catalogue (every top-level ``*.yaml``), sorted by name."""
    return rulefiles.entries(_folder(path))[0]


def rulebook_sha256(path: str | Path | None = None) -> str:
    """SHA-256 over each rulebook file's name and bytes, in sorted order.

    Each file contributes ``name``, a newline, its byte length, a newline, then
    its bytes, so renaming or moving bytes between files changes the hash. A
    rulebook workbook hashes the files ``rules import`` writes from it, so it has
    the hash of the folder it imports to.
    """
    return open_rules(path).sha256()


def local_rules_notice(used: str | Path, here: str | Path = ".") -> str | None:
    """A warning when the folder ``here`` holds a ``rules/`` that differs from the
    rulebook ``used`` (say, the packaged copy after a non-editable install), so a
    panel owner who edited ./rules is never surprised; None when there is nothing to say.
    """
    local = Path(here) / "rules"
    if not (local / DECISIONS_FILE).is_file() or not Path(used).is_dir():
        return None
    if local.resolve() == Path(used).resolve():
        return None
    ours, theirs = rulebook_sha256(local), rulebook_sha256(used)
    if ours == theirs:
        return None
    return (
        f"warning: the rulebook used is {Path(used).absolute()} (sha256 {theirs[:12]}), not "
        f"./rules (sha256 {ours[:12]}), which differs from it; to use ./rules, add --rules rules"
    )


def _load(
    path: str | Path | RuleFiles | None, computable: bool = False
) -> tuple[Rulebook | None, list[Diagnostic], int, int]:
    """The rulebook (None when it has errors), its diagnostics, and its rule and decision
    counts; with ``computable``, also every declared fact nothing computes."""
    files = open_rules(path)
    report = Report()
    report.diagnostics.extend(files.problems)

    words = load_vocabulary(files, report)
    decisions_label = files.label(DECISIONS_FILE)
    decisions_node = None
    if not files.present(DECISIONS_FILE):
        report.error(decisions_label, 1, f"missing: a rules folder needs {DECISIONS_FILE}")
    elif files.has(DECISIONS_FILE):  # else it is among files.problems: not a readable file
        decisions_node = files.node(DECISIONS_FILE, report)
    names = words.names if words is not None else Names()
    vocabulary = words.facts if words is not None else {}
    decisions: dict[str, Decision] = {}
    if decisions_node is not None:
        decisions = _load_decisions(decisions_node, decisions_label, vocabulary, names, report)
    if words is None or decisions_node is None:
        # Every rule would read unknown facts or decisions: report only the cause.
        return None, _sorted(report.diagnostics), 0, len(decisions)

    rules: list[Rule] = []
    rule_files = [name for name in files.names() if name not in _NOT_RULE_FILES]
    if not rule_files and not files.problems:
        report.error(f"{files.name}/", 1, "no rule files (*.yaml with a rules: list)")
    errors = report.errors
    for name in rule_files:
        node = files.node(name, report)
        if node is not None:
            context = _Context(
                files.label(name),
                vocabulary,
                decisions,
                words.protected,
                names,
                words.signals,
                report,
            )
            rules.extend(_load_rules(node, context))
    total = 0
    for rule in rules:
        total += condition_count(rule.when)
        if total > MAX_CONDITIONS_PER_RULEBOOK:
            report.error(
                rule.file,
                rule.line,
                f"with this rule the rulebook holds more than {MAX_CONDITIONS_PER_RULEBOOK:,} "
                "comparisons (the limit): merge or remove rules",
                rule.id,
            )
            break
    # With a rule left out, "never produced" and "never concluded" would be guesses.
    complete = report.errors == errors

    rules = _check_ids(rules, report)
    if complete:
        _check_produced(rules, decisions, report)
    levels = _levels(rules, decisions, report)
    _check_never_fire(rules, vocabulary, decisions, report)
    _check_overlaps(rules, vocabulary, decisions, report)
    _check_durable(rules, decisions, report)
    if computable:
        _check_computed(vocabulary, report)
    _check_proxies(rules, words, report)
    if complete:
        _check_unused(rules, decisions, report)
        _check_unused_names(words, report)

    diagnostics = _sorted(report.diagnostics)
    if report.has_errors or levels is None:
        return None, diagnostics, len(rules), len(decisions)
    # Rulebook order: files sorted by name, then file order (rules were read that way).
    rulebook = Rulebook(
        vocabulary=vocabulary,
        decisions=decisions,
        rules=tuple(rules),
        levels=levels,
        source=str(files.path),
        sha256=files.sha256(),
        parameters=dict(words.parameters),
        signals=dict(words.signals),
        sets=dict(words.sets),
        rows=dict(words.rows),
    )
    return rulebook, diagnostics, len(rules), len(decisions)


def _check_computed(vocabulary: Mapping[str, FactSpec], report: Report) -> None:
    """A declared fact that is neither derived from rows nor one talentrules computes
    would always be unknown: evaluate would refuse it, so the checker does."""
    for spec in vocabulary.values():
        problem = facts.uncomputable(spec)
        if problem is not None:
            report.error(spec.file, spec.line, problem)


def _check_proxies(rules: list[Rule], words: Vocabulary, report: Report) -> None:
    """Warn, naming the attribute, where a rule reads a known proxy of a protected one
    (vocabulary.yaml ``proxies``); a proxy used only to recognise newcomers is allowed."""
    for rule in rules:
        for compare in expr_facts(rule.when):
            for proxy in words.proxies:
                if not proxy.matches(compare.fact):
                    continue
                value = compare.value
                if (
                    proxy.newcomers_below is not None
                    and compare.op in ("<", "<=")
                    and isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and value <= proxy.newcomers_below
                ):
                    continue  # only recognises newcomers
                allowed = (
                    f"; only '{compare.fact} < N' with N at most "
                    f"{show(proxy.newcomers_below)} (recognising newcomers) is allowed"
                    if proxy.newcomers_below is not None
                    else ""
                )
                report.warning(
                    compare.file,
                    compare.line,
                    f"'{compare}' reads {compare.fact}, a proxy for {proxy.attribute} "
                    f"({proxy.why}; {where(proxy.file, proxy.line)}){allowed}",
                    rule.id,
                )


def _check_unused_names(words: Vocabulary, report: Report) -> None:
    """Warn about parameters and signal sets nothing reads (a threshold that changes
    nothing is a trap for whoever edits it)."""
    for name, parameter in words.parameters.items():
        if name not in words.names.used:
            report.warning(
                parameter.file,
                parameter.line,
                f"parameter '{name}' is not used by any rule, fact or text",
            )


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.file, d.line, d.severity, d.message))


def _check_ids(rules: list[Rule], report: Report) -> list[Rule]:
    """Report duplicate rule ids; keep the first of each."""
    seen: dict[str, Rule] = {}
    kept: list[Rule] = []
    for rule in rules:
        first = seen.get(rule.id)
        if first is not None:
            report.error(
                rule.file,
                rule.line,
                f"duplicate rule id; first defined at {where(first.file, first.line)}",
                rule.id,
            )
            continue
        seen[rule.id] = rule
        kept.append(rule)
    return kept


def _check_produced(rules: list[Rule], decisions: Mapping[str, Decision], report: Report) -> None:
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


def _check_unused(rules: list[Rule], decisions: Mapping[str, Decision], report: Report) -> None:
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
    rules: list[Rule], decisions: Mapping[str, Decision], report: Report
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
    report: Report,
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
            why += f" (range [{show(spec.minimum)}, {show(spec.maximum)}])"
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
        return show(value)

    return "{" + ", ".join(f"{fact}: {one(v)}" for fact, v in sorted(witness.items())) + "}"


def _check_overlaps(
    rules: list[Rule],
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    report: Report,
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


def _check_durable(rules: list[Rule], decisions: Mapping[str, Decision], report: Report) -> None:
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
