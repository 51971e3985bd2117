"""Checks over the whole rulebook once every rule is read: duplicate ids, outcomes read
but never produced, decision levels and cycles, unused names, proxies of protected
attributes, computable facts and durable_rules' limits."""

from __future__ import annotations

from collections.abc import Mapping

from talentrules import facts
from talentrules.rulebook.limits import DURABLE_MAX_RULES_PER_FIELD
from talentrules.rulebook.logic import expr_facts, rule_reads
from talentrules.rulebook.model import Decision, Rule
from talentrules.rulefiles import Report, show, where
from talentrules.vocabulary import (
    BriefFacts,
    FactSpec,
    Vocabulary,
    formula_facts,
    reads_through,
)


def check_computed(vocabulary: Mapping[str, FactSpec], report: Report) -> None:
    """A declared fact that is neither derived from rows nor one talentrules computes
    would always be unknown: evaluate would refuse it, so the checker does."""
    for spec in vocabulary.values():
        problem = facts.uncomputable(spec)
        if problem is not None:
            report.error(spec.file, spec.line, problem)


def check_proxies(rules: list[Rule], words: Vocabulary, report: Report) -> None:
    """Warn, naming the attribute, where a rule reads a known proxy of a protected one
    (vocabulary.yaml ``proxies``), or a fact a formula computes from one; a proxy used
    only to recognise newcomers is allowed."""
    formulas = formula_facts(words.facts)
    for rule in rules:
        for compare in expr_facts(rule.when):
            for proxy in words.proxies:
                through = sorted(
                    f
                    for f in reads_through(formulas, (compare.fact,)) - {compare.fact}
                    if proxy.matches(f)
                )
                if through and not proxy.matches(compare.fact):
                    report.warning(
                        compare.file,
                        compare.line,
                        f"'{compare}' reads {compare.fact}, computed by a formula from "
                        f"{', '.join(through)}, a proxy for {proxy.attribute} ({proxy.why}; "
                        f"{where(proxy.file, proxy.line)})",
                        rule.id,
                    )
                    continue
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


def check_unused_names(words: Vocabulary, report: Report) -> None:
    """Warn about parameters and signal sets nothing reads (a threshold that changes
    nothing is a trap for whoever edits it)."""
    for name, parameter in words.parameters.items():
        if name not in words.names.used:
            report.warning(
                parameter.file,
                parameter.line,
                f"parameter '{name}' is not used by any rule, fact or text",
            )


def check_briefs_declared(briefs: BriefFacts, file: str, report: Report) -> None:
    """Warn, once, of every place of a brief the rulebook names no fact for: each says
    "not declared by the rulebook" in every brief, which a panel owner should choose,
    not find in the briefs."""
    if briefs.undeclared:
        report.warning(
            file,
            briefs.line,
            f"briefs: no fact named for {', '.join(briefs.undeclared)}: briefs show "
            "'not declared by the rulebook' there (docs/rules.md, \"What briefs show\")",
        )


def check_ids(rules: list[Rule], report: Report) -> list[Rule]:
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


def check_produced(rules: list[Rule], decisions: Mapping[str, Decision], report: Report) -> None:
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


def check_unused(rules: list[Rule], decisions: Mapping[str, Decision], report: Report) -> None:
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


def decision_levels(
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


def check_durable(rules: list[Rule], decisions: Mapping[str, Decision], report: Report) -> None:
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
