"""``talentrules explain``: one person's justification as terminal text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from talentrules.errors import OutputError
from talentrules.report.builder import ContextBuilder
from talentrules.report.render import Renderer

if TYPE_CHECKING:
    from talentrules.run import RunResult


def render_brief_text(
    result: RunResult, employee_id: str, templates_dir: Path | None = None
) -> str:
    """The justification for one person as terminal text (``talentrules explain``)."""
    index = next((n for n, r in enumerate(result.results) if r.employee_id == employee_id), None)
    if index is None:
        known = ", ".join(r.employee_id for r in result.results[:5])
        raise OutputError(
            f"{result.panel.path.name}: no evaluated person has employee_id {employee_id!r} "
            f"(for example: {known})"
        )
    return Renderer(templates_dir).render("brief.txt.j2", ContextBuilder(result).brief(index))
