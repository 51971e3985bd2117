"""vocabulary.yaml's ``briefs``: which facts a brief shows where, checked against the
facts declared (every signal code must have the signal line's facts, all numbers; a
tally's prefix must name a number fact for some value of the column it counts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from talentrules.contract import EVIDENCE, NOMINATIONS, Sheet, normalize
from talentrules.rulefiles import did_you_mean, keys, line_of, mapping, text_of
from talentrules.vocabulary.model import SIGNAL_LINE_COLUMNS, BriefFacts, FactType

if TYPE_CHECKING:
    from talentrules.vocabulary.declared_facts import Loading

# The keys naming one fact: the type it must have, and what the brief shows it as.
FACTS: dict[str, tuple[FactType, str]] = {
    "trend": ("number", "a trend"),
    "tenure": ("number", "tenure"),
    "in_role": ("number", "time in role"),
    "withdrawn": ("number", "a count of withdrawals"),
    "aspiration_statement": ("boolean", "whether there is a statement"),
    "nominated_by": ("number", "a count of nominators"),
}
# The keys naming a prefix: facts PREFIX.VALUE, each counting the rows with one value of
# a workbook column (influence.rules: influence_base Rules and monitoring), which labels
# it in the brief.
TALLIES: dict[str, tuple[Sheet, str]] = {
    "nominations": (NOMINATIONS, "reason"),
    "influence": (EVIDENCE, "influence_base"),
    "outcomes": (EVIDENCE, "outcome_in_others"),
}
BRIEF_KEYS = (*FACTS, *TALLIES, "signal_line")
# Where a brief shows each key's fact, in words (the handbook lists them; docs/rules.md,
# "What briefs show", has the whole table).
PLACES: dict[str, str] = {
    "tenure": "the person header's time since hire",
    "in_role": "the person header's time in the current role",
    "trend": "the talent snapshot's trend beside the last three ratings",
    "signal_line": "each signal's line in the heart section's table",
    "nominations": "the influence section's nominations, counted by reason",
    "influence": "the influence section's evidence, counted by what influence rested on",
    "outcomes": "the management pattern's evidence, counted by others' response",
    "withdrawn": "a risk: development withdrawn from before",
    "aspiration_statement": "a gap: no aspiration statement",
    "nominated_by": "a gap: no nomination received",
}


def load_briefs(node: yaml.Node, at: Loading, line: int) -> BriefFacts:
    """The ``briefs`` mapping (its key at ``line``); each name that is no fact of the type
    its place shows is reported at its line."""
    file, report = at.file, at.report
    entries = mapping(node, file, "briefs", report)
    if entries is None:
        return BriefFacts()
    keys(entries, node, file, "briefs", (), BRIEF_KEYS, report)

    def fact(key: str) -> str | None:
        return _fact(key, entries[key][1], at) if key in entries else None

    def tally(key: str) -> tuple[tuple[str, str], ...] | None:
        return _tally(key, entries[key][1], at) if key in entries else None

    return BriefFacts(
        undeclared=tuple(key for key in BRIEF_KEYS if key not in entries),
        line=line,
        trend=fact("trend"),
        signal_line=_signal_line(entries["signal_line"][1], at)
        if "signal_line" in entries
        else None,
        tenure=fact("tenure"),
        in_role=fact("in_role"),
        nominations=tally("nominations"),
        influence=tally("influence"),
        outcomes=tally("outcomes"),
        withdrawn=fact("withdrawn"),
        aspiration_statement=fact("aspiration_statement"),
        nominated_by=fact("nominated_by"),
    )


def _fact(key: str, node: yaml.Node, at: Loading) -> str | None:
    what = f"briefs: {key}"
    name = text_of(node, at.file, what, at.report)
    if name is None:
        return None
    spec = at.facts.get(name)
    if spec is None and name in at.declared:
        return None  # declared with a mistake, reported at its declaration
    if spec is None:
        at.report.error(
            at.file, line_of(node), f"{what}: unknown fact '{name}'{did_you_mean(name, at.facts)}"
        )
        return None
    kind, shown_as = FACTS[key]
    if spec.type != kind:
        at.report.error(
            at.file,
            line_of(node),
            f"{what}: '{name}' is {_a(spec.type)} fact; {shown_as} is {_a(kind)}",
        )
        return None
    return name


def _tally(key: str, node: yaml.Node, at: Loading) -> tuple[tuple[str, str], ...] | None:
    """(value, fact) for each value of the tally's column with a fact PREFIX.KEY whose KEY
    is the value or its start (influence.rules: Rules and monitoring), in the facts'
    order; a prefix that names none is unknown."""
    what = f"briefs: {key}"
    prefix = text_of(node, at.file, what, at.report)
    if prefix is None:
        return None
    sheet, column = TALLIES[key]
    values = tuple(sheet.column(column).values)
    found: list[tuple[str, str]] = []
    for name in at.facts:
        head, _, part = name.partition(".")
        if head != prefix or not part:
            continue
        value = next((v for v in values if normalize(v).startswith(normalize(part))), None)
        if value is not None:
            found.append((value, name))
    if not found:
        if any(name.partition(".")[0] == prefix for name in at.declared):
            return None  # declared with a mistake, reported at its declaration
        heads = {name.partition(".")[0] for name in at.facts if "." in name}
        head = prefix.partition(".")[0]  # a fact's whole name (outcome.commitment): its head
        at.report.error(
            at.file,
            line_of(node),
            f"{what}: no fact '{prefix}.VALUE' for a value of {sheet.name} {column} "
            f"({', '.join(values)}){did_you_mean(head if head in heads else prefix, heads)}",
        )
        return None
    if not _numbers([name for _, name in found], "a tally's count is a number", what, node, at):
        return None
    return tuple(found)


def _signal_line(node: yaml.Node, at: Loading) -> tuple[str, ...] | None:
    """The fact of every column, or None: a line with a column no fact fills would show
    a 0 nobody read, so every column is named or the whole line is left out."""
    file, report = at.file, at.report
    what = "briefs: signal_line"
    entries = mapping(node, file, what, report)
    if entries is None:
        return None
    if not keys(entries, node, file, what, SIGNAL_LINE_COLUMNS, (), report):
        return None
    found = [_signal_fact(column, entries[column][1], at) for column in SIGNAL_LINE_COLUMNS]
    names = [name for name in found if name is not None]
    return tuple(names) if len(names) == len(found) else None


def _signal_fact(column: str, node: yaml.Node, at: Loading) -> str | None:
    """A signal family's fact (episodes for H-DEV.episodes, ...), declared for every
    code of the signal catalogue as a number."""
    what = f"briefs: signal_line: {column}"
    name = text_of(node, at.file, what, at.report)
    if name is None:
        return None
    codes = list(at.signals)
    if not codes:
        at.report.error(
            at.file,
            line_of(node),
            f"{what}: no signal catalogue (signals.yaml) whose codes have a fact '{name}'",
        )
        return None
    missing = [code for code in codes if f"{code}.{name}" not in at.facts]
    if any(f"{code}.{name}" in at.declared for code in missing):
        return None  # declared with a mistake, reported at its declaration
    if missing:
        # What every code has, for "did you mean": the signal family's facts.
        common = {
            fact.partition(".")[2]
            for fact in at.facts
            if fact.startswith(f"{codes[0]}.")
            and all(f"{code}.{fact.partition('.')[2]}" in at.facts for code in codes)
        }
        if len(missing) == len(codes):
            problem = f"unknown fact '{name}' (no {codes[0]}.{name}){did_you_mean(name, common)}"
        else:
            absent = ", ".join(f"{code}.{name}" for code in missing)
            problem = f"fact '{name}' is not declared for every signal: no {absent}"
        at.report.error(at.file, line_of(node), f"{what}: {problem}")
        return None
    facts = [f"{code}.{name}" for code in codes]
    if not _numbers(facts, "a signal line shows numbers", what, node, at):
        return None
    return name


def _numbers(names: list[str], why: str, what: str, node: yaml.Node, at: Loading) -> bool:
    """Whether every fact of ``names`` is a number; the first that is not is reported."""
    for name in names:
        kind = at.facts[name].type
        if kind != "number":
            at.report.error(at.file, line_of(node), f"{what}: '{name}' is {_a(kind)} fact; {why}")
            return False
    return True


def _a(kind: str) -> str:
    return f"{'an' if kind == 'enum' else 'a'} {kind}"
