"""vocabulary.yaml's ``briefs``: which facts a brief shows where, checked against the
facts declared (every signal code must have the signal line's facts, all numbers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from talentrules.rulefiles import did_you_mean, keys, line_of, mapping, text_of
from talentrules.vocabulary.model import SIGNAL_LINE_COLUMNS, BriefFacts

if TYPE_CHECKING:
    from talentrules.vocabulary.declared_facts import Loading

BRIEF_KEYS = ("trend", "signal_line")


def load_briefs(node: yaml.Node, at: Loading) -> BriefFacts:
    """The ``briefs`` mapping; each name that is no number fact is reported at its line."""
    file, report = at.file, at.report
    entries = mapping(node, file, "briefs", report)
    if entries is None:
        return BriefFacts()
    keys(entries, node, file, "briefs", (), BRIEF_KEYS, report)
    trend = None
    if "trend" in entries:
        trend = _trend(entries["trend"][1], at)
    signal_line = None
    if "signal_line" in entries:
        signal_line = _signal_line(entries["signal_line"][1], at)
    return BriefFacts(trend, signal_line)


def _trend(node: yaml.Node, at: Loading) -> str | None:
    what = "briefs: trend"
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
    if spec.type != "number":
        at.report.error(
            at.file, line_of(node), f"{what}: '{name}' is {_a(spec.type)} fact; a trend is a number"
        )
        return None
    return name


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
    for code in codes:
        spec = at.facts[f"{code}.{name}"]
        if spec.type != "number":
            at.report.error(
                at.file,
                line_of(node),
                f"{what}: '{code}.{name}' is {_a(spec.type)} fact; a signal line shows numbers",
            )
            return None
    return name


def _a(kind: str) -> str:
    return f"{'an' if kind == 'enum' else 'a'} {kind}"
