"""One run as the context builders read it: rows indexed once, the decisions behind
each part of a document found by their role, and the words every builder shares.

``RunView`` is built once per run (or per worker) and handed to every builder of a
brief section and of a summary section; nothing in it is per person, so a brief can
be built for any one person, in any order, from the same view.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talentrules import __version__
from talentrules.changes import load_changes
from talentrules.decide import default_catalogue
from talentrules.facts import DerivationPlan, FactsOnDemand
from talentrules.messages import ExceptionNotes, Messages
from talentrules.model import Row, RowAbout, RowsAbout, Value
from talentrules.report.contexts import DocumentInfo, PersonRef
from talentrules.report.names import Namer
from talentrules.report.words import CONFIDENTIAL, UNKNOWN, money, shown
from talentrules.rulebook import Compare, Decision, Rule, Rulebook
from talentrules.trace import Leaf
from talentrules.vocabulary import Signal

if TYPE_CHECKING:
    from talentrules.run import RunResult


def rulebook_label(rulebook: Rulebook) -> str:
    """Which rulebook ran, as documents name it: its folder's path and its hash."""
    return f"{Path(rulebook.source).absolute()} @ sha256 {rulebook.sha256[:12]}"


def outcomes_of(
    decision: Decision | None, outcomes: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    """A person's outcome(s) of ``decision`` (() when no decision plays that part)."""
    return outcomes.get(decision.name, ()) if decision is not None else ()


def one(
    decision: Decision | None, outcomes: Mapping[str, tuple[str, ...]], missing: str = UNKNOWN
) -> str:
    """A decision's outcome(s) as one text."""
    return ", ".join(outcomes_of(decision, outcomes)) or missing


def heading(decision: Decision | None, fallback: str) -> str:
    """How documents head a decision: its label, or ``fallback`` when none plays the part."""
    return decision.heading if decision is not None else fallback


def person_name(employees: Mapping[str, Row], employee_id: str) -> str:
    """A person's name as lists show it: the Employees row's full name, else the id."""
    row = employees.get(employee_id)
    return shown(row.get("full_name")) if row else employee_id


def group_rows(rows: Sequence[Row], column: str) -> dict[str, list[Row]]:
    """Rows by the text of one column (an employee id), in sheet order."""
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(str(row.get(column)), []).append(row)
    return grouped


class RunView:
    """What every context builder reads of a run, indexed once."""

    def __init__(
        self, result: RunResult, namer: Namer | None = None, shared: dict[str, Any] | None = None
    ) -> None:
        self.result = result
        # Parts built from the engine's results alone, which the panel's decisions do
        # not change: ``talentrules serve`` shares them between the views of a meeting.
        self.shared: dict[str, Any] = shared if shared is not None else {}
        self.rulebook = result.rulebook
        self.rules = {rule.id: rule for rule in result.rulebook.rules}
        self.namer = namer or Namer(result.employees)
        panel = result.panel
        # A person's rows, read when their brief is built (not held for everyone).
        self.evidence = RowsAbout(panel, "Evidence")
        self.nominations = RowsAbout(panel, "Nominations")
        self.development = RowsAbout(panel, "Development")
        self.teams = RowAbout(panel, "Teams")
        self.catalogue = result.decisions.catalogue
        # The rulebook's own catalogue: its measures of success stand in for a workbook
        # catalogue's, code by code.
        self.default_catalogue = default_catalogue(Path(result.rulebook.source))
        self.plan = result.plan  # the panel's decisions counted
        # What would change the outcome: the rulebook's changes, and the facts' derivation
        # built once for the searches (talentrules.changes).
        self.changes = load_changes(result.rulebook)
        facts = result.facts
        self.derivation = DerivationPlan(
            result.rulebook.vocabulary,
            facts.derivation if isinstance(facts, FactsOnDemand) else None,
        )
        budget = result.decisions.allocation.budget
        self.budget = budget
        self.currency = budget.currency or result.decisions.catalogue.currency or ""
        cycle = panel.cycle
        self.doc = DocumentInfo(
            title="",
            cycle_id=shown(cycle.get("cycle_id") if cycle else None),
            cycle_name=shown(cycle.get("cycle_name") if cycle else None),
            as_of=shown(panel.as_of),
            input_file=panel.path.name,
            rulebook=rulebook_label(result.rulebook),
            tool=f"talentrules {__version__}",
            confidentiality=CONFIDENTIAL,
            contact=str(cycle.get("contact"))
            if cycle and cycle.get("contact")
            else ("the panel's HR business partner"),
            panel=tuple(
                part.strip() for part in str(cycle.get("panel") or "").split(";") if part.strip()
            )
            if cycle
            else (),
            currency=self.currency,
        )
        # Words every brief uses, worked out once per run: each fact's label, and
        # (filled by the brief builders as they go) each fact in words and each rule's
        # comparisons by their text.
        self.fact_labels = {name: self.label(name) for name in result.rulebook.vocabulary}
        self.fact_words: dict[str, str] = {}
        self.comparisons: dict[str, dict[str, Compare]] = {}
        self.signal_facts: list[tuple[str, Signal, tuple[str, ...]]] | None = None
        # The audit appendix's words by rule and what they follow from: brief.how_decided.
        self.fired_words: dict[tuple[object, ...], Any] = {}
        self.near_words: dict[tuple[object, ...], Any] = {}
        self.rule_words: dict[str, Any] = {}  # by rule id: brief._rule_words
        self.managers: dict[str, str] = {}  # by manager id, as headers name them: brief._manager
        self.contest: Any = None  # how to contest, the same in every brief: brief._contest
        # by code: a plan row's name, track, mode, cost and duration (brief._investment_words)
        self.investment_words: dict[str, tuple[str, str, str, str, str]] = {}
        self._messages = Messages()
        # The decisions behind each part of a document, found by their role in rules/.
        rulebook = result.rulebook
        self.verdict = rulebook.role("verdict")
        self.habits = rulebook.role("habits")
        self.quality = rulebook.role("evidence")
        self.inspiration = rulebook.role("inspiration_profile")
        self.management = rulebook.role("management_pattern")
        self.balance = rulebook.role("team_balance")
        self.track = rulebook.role("development_track")
        self.exceptions = rulebook.role("panel_exceptions")
        self.exception_notes = ExceptionNotes(rulebook)
        self.signals = rulebook.signals
        self.investments = rulebook.role("investments")
        self.cycle = cycle

    def reading(self, start: int, end: int) -> contextlib.AbstractContextManager[None]:
        """While the briefs of the people ``start`` to ``end`` (employee_id order) are
        built: their rows are read a sheet at a time (``Panel.reading``)."""
        people = [r.employee_id for r in self.result.results[start:end]]
        return self.result.panel.reading(people)

    def label(self, name: str) -> str:
        """How documents name a decision (its label) or a fact (its name, spaced)."""
        decision = self.rulebook.decisions.get(name)
        return decision.heading if decision is not None else name.replace("_", " ")

    def investment_name(self, code: str) -> str:
        """'Stretch assignment, acting manager (LEAD-STRETCH)', or the code alone."""
        investment = self.catalogue.get(code) or self.default_catalogue.get(code)
        return f"{investment.name} ({code})" if investment and investment.name else code

    def money(self, value: float | None) -> str:
        """An amount in the run's currency."""
        return money(value, self.currency)

    def ref(self, employee_id: str, note: str = "") -> PersonRef:
        """A person named in a list, with the link to their brief."""
        name = person_name(self.result.employees, employee_id)
        return PersonRef(employee_id, name, self.namer.brief(employee_id, "html"), note)

    def message(
        self,
        rule: Rule,
        conditions: Sequence[Leaf],
        values: Mapping[str, Value] | None = None,
    ) -> str:
        """The rule's message, rendered in a sandbox with the values its conditions read
        (by their last name part: ``episodes``), and every fact of the person as ``facts``."""
        return self._messages(rule, conditions, values)

    def message_facts(self, rule: Rule) -> tuple[str, ...] | None:
        """The facts the rule's message reads besides its conditions' values (None: it
        reads more, and is rendered for each person)."""
        return self._messages.facts_read(rule)
