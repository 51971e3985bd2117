"""``ContextBuilder``: the run's view with the two document builders on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from talentrules.report.brief import build_brief
from talentrules.report.contexts import BriefContext, SummaryContext
from talentrules.report.names import Namer
from talentrules.report.summary import build_summary
from talentrules.report.view import RunView

if TYPE_CHECKING:
    from talentrules.run import RunResult


class ContextBuilder(RunView):
    """Turns a RunResult into template contexts; indexes the rows once per run."""

    def __reduce__(self) -> tuple[type[ContextBuilder], tuple[RunResult, Namer]]:
        # The sandbox and its compiled messages do not pickle: a spawned worker
        # builds its own from the run.
        return (ContextBuilder, (self.result, self.namer))

    def brief(self, index: int) -> BriefContext:
        """The brief context of the index-th evaluated person (employee_id order)."""
        return build_brief(self, index)

    def summary(self, panel_edition: bool = True) -> SummaryContext:
        """The panel summary's context."""
        return build_summary(self, panel_edition)
