"""``talentrules explain``: one person's justification as terminal text, wrapped to
the terminal's width; with ``--trace``, the conditions as the rules write them
(operators, values, fact names, cells), which briefs leave to the trace."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from talentrules.report.builder import ContextBuilder
from talentrules.report.render import Renderer, strip_controls
from talentrules.trace import PersonTrace

if TYPE_CHECKING:
    from talentrules.run import RunResult

MIN_WIDTH, MAX_WIDTH = 40, 160  # narrower is unreadable; wider lines are hard to follow


def render_brief_text(
    result: RunResult,
    employee_id: str,
    templates_dir: Path | None = None,
    width: int = 80,
    trace: bool = False,
) -> str:
    """The justification for one person as terminal text (``talentrules explain``),
    wrapped to ``width`` columns; ``trace`` adds the rules' conditions as written."""
    index = result.index(employee_id)
    width = max(MIN_WIDTH, min(MAX_WIDTH, width))
    text = Renderer(templates_dir).render(
        "brief.txt.j2", ContextBuilder(result).brief(index), width=width
    )
    if trace:
        text += trace_text(result, index, width)
    return text


def trace_text(result: RunResult, index: int, width: int = 80) -> str:
    """The full trace of one person, as worked out from the facts trace.jsonl records:
    each fired rule's conditions with the values and cells they read, each near miss's
    failing condition, and every single change that would change a decision
    (docs/trace.md)."""
    res = result.results[index]
    trace = PersonTrace.read(res.trace)
    overruled = {r for ids in res.evaluation.overruled.values() for r in ids}

    def wrap(line: str, first: str, rest: str) -> list[str]:
        return textwrap.wrap(
            strip_controls(line),
            width=width,
            initial_indent=first,
            subsequent_indent=rest,
            break_on_hyphens=False,
        )

    def cells(fact: str) -> str:
        found = trace.cells_of(fact)
        return f" ({', '.join(found)})" if found else ""

    heading = "TRACE: THE CONDITIONS AS WRITTEN (from trace.jsonl's facts, docs/trace.md)"
    lines = ["", *wrap(heading, "", "")]
    for entry in trace.fired:
        state = " [overruled]" if entry.rule in overruled else ""
        lines += wrap(
            f"{entry.rule}: {entry.decision} = {entry.then}{state} ({entry.where})", "  ", "    "
        )
        for leaf in entry.conditions:
            lines += wrap(f"{leaf.condition}: {leaf.shown}{cells(leaf.fact)}", "      ", "        ")
    misses = [
        (decision.name, miss, miss.failed)
        for decision in trace.decisions.values()
        for miss in decision.not_fired
        if miss.failed is not None
    ]
    if misses:
        lines.append("  Not fired, first failing condition:")
        for name, miss, leaf in misses:
            lines += wrap(
                f"{miss.rule} ({name} = {miss.then}): {leaf.condition}, was {leaf.shown}"
                f"{cells(leaf.fact)}",
                "    ",
                "      ",
            )
    if trace.counterfactuals:
        lines.append("  Single changes that would change a decision:")
        for change in trace.counterfactuals:
            lines += wrap(change.sentence, "    ", "      ")
    return "\n".join(lines) + "\n"
