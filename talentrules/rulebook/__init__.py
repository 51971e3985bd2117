"""The rule language: rules/*.yaml -> a checked, immutable Rulebook.

The Rulebook (model.py) is the compiled form every evaluator works from: the
pure-Python reference evaluator (reference/) and the durable_rules engine
(engine.py). The language is documented in docs/rules.md. This package's front
door is below (load_rulebook, check_rulebook, check_report); each of its modules
does one job of reading and checking a rules folder:
- files:      the files a rules folder is made of, and its hash;
- model:      the compiled form (conditions, rules, decisions, Rulebook);
- logic:      what a condition means (three-valued) and each hit policy;
- limits:     the sizes past which durable_rules hangs;
- conditions: one condition's text -> a typed comparison;
- decisions:  decisions.yaml -> Decisions;
- rules:      rule files -> Rules;
- checks:     whole-rulebook checks (ids, levels, unused, proxies, durable);
- overlaps:   rules that never fire, and rules that fire together.

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

from dataclasses import dataclass
from pathlib import Path

from talentrules.errors import RulebookError
from talentrules.rulebook.checks import (
    check_briefs_declared,
    check_computed,
    check_durable,
    check_ids,
    check_produced,
    check_proxies,
    check_unused,
    check_unused_names,
    decision_levels,
)
from talentrules.rulebook.conditions import parse_condition
from talentrules.rulebook.decisions import FAIRNESS_DIRECTIONS, load_decisions
from talentrules.rulebook.files import (
    CATALOGUE_FILE,
    CHANGES_FILE,
    DECISIONS_FILE,
    NOT_RULE_FILES,
    local_rules_notice,
    rulebook_files,
    rulebook_sha256,
)
from talentrules.rulebook.limits import (
    MAX_ALTERNATIVES,
    MAX_CONDITIONS_PER_RULE,
    MAX_CONDITIONS_PER_RULEBOOK,
)
from talentrules.rulebook.logic import (
    Evaluation,
    condition_count,
    evaluate,
    expr_facts,
    resolve,
    rule_reads,
)
from talentrules.rulebook.model import (
    ROLES,
    AllOf,
    AnyOf,
    Compare,
    Decision,
    Expr,
    Not,
    Policy,
    Rule,
    Rulebook,
)
from talentrules.rulebook.overlaps import check_never_fire, check_overlaps
from talentrules.rulebook.rules import _Context, _load_rules
from talentrules.rulefiles import Diagnostic, Report, RuleFiles, open_rules
from talentrules.vocabulary import VOCABULARY_FILE, Names, load_vocabulary

__all__ = [  # what the other stages use of the rule language
    "CATALOGUE_FILE",
    "CHANGES_FILE",
    "DECISIONS_FILE",
    "FAIRNESS_DIRECTIONS",
    "MAX_ALTERNATIVES",
    "MAX_CONDITIONS_PER_RULE",
    "MAX_CONDITIONS_PER_RULEBOOK",
    "ROLES",
    "AllOf",
    "AnyOf",
    "CheckReport",
    "Compare",
    "Decision",
    "Evaluation",
    "Expr",
    "Not",
    "Policy",
    "Rule",
    "Rulebook",
    "check_report",
    "check_rulebook",
    "condition_count",
    "evaluate",
    "expr_facts",
    "load_rulebook",
    "local_rules_notice",
    "parse_condition",
    "resolve",
    "rule_reads",
    "rulebook_files",
    "rulebook_sha256",
]


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
        decisions = load_decisions(decisions_node, decisions_label, vocabulary, names, report)
    if words is None or decisions_node is None:
        # Every rule would read unknown facts or decisions: report only the cause.
        return None, _sorted(report.diagnostics), 0, len(decisions)

    rules: list[Rule] = []
    rule_files = [name for name in files.names() if name not in NOT_RULE_FILES]
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

    rules = check_ids(rules, report)
    if complete:
        check_produced(rules, decisions, report)
    levels = decision_levels(rules, decisions, report)
    check_never_fire(rules, vocabulary, decisions, report)
    check_overlaps(rules, vocabulary, decisions, report)
    check_durable(rules, decisions, report)
    if computable:
        check_computed(vocabulary, report)
        check_briefs_declared(words.briefs, files.label(VOCABULARY_FILE), report)
    check_proxies(rules, words, report)
    if complete:
        check_unused(rules, decisions, report)
        check_unused_names(words, report)

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
        briefs=words.briefs,
    )
    return rulebook, diagnostics, len(rules), len(decisions)


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.file, d.line, d.severity, d.message))
