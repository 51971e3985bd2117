"""The panel summary: one builder per section, each reading the run's view.

``build_summary(view, panel_edition)`` assembles the ``SummaryContext``; each
section's builder is a function of the view alone, so a page can show one section.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from talentrules.contract import EMPLOYEES
from talentrules.fairness import FairnessReport, fairness
from talentrules.report.brief import override_item
from talentrules.report.contexts import (
    NO_FAIRNESS,
    AllocationLine,
    BalanceLine,
    Bar,
    Distribution,
    ExceptionGroup,
    FairnessRow,
    FairnessSection,
    FairnessTable,
    Grid,
    GridCell,
    OverrideLine,
    PersonRef,
    RejectedLine,
    RuleLine,
    SheetLine,
    SummaryContext,
    WaitItem,
)
from talentrules.report.view import RunView, heading, one
from talentrules.report.words import MODE_WORDS, UNKNOWN, band, percent, shown
from talentrules.rulebook import Decision, Evaluation
from talentrules.trace import PersonTrace

EMPLOYEE_ENUMS = {
    column.name: tuple(column.values) for column in EMPLOYEES.columns if column.kind == "enum"
}


def build_summary(view: RunView, panel_edition: bool = True) -> SummaryContext:
    """The panel summary's context."""
    result = view.result
    decisions = result.decisions
    people = result.results
    nine_box, heart_grid = grids(view)
    allocation = decisions.allocation
    counts = decisions.override_counts()
    warnings = tuple(str(p) for p in result.problems if p.severity == "warning")
    return SummaryContext(
        doc=dataclasses.replace(view.doc, title=f"Panel summary: {view.doc.cycle_name}"),
        panel_edition=panel_edition,
        people=len(people),
        rejected_rows=len(result.panel.rejected),
        warnings_count=len(warnings),
        sheets=tuple(
            SheetLine(a.sheet, a.found_as or "absent", a.read, a.loaded, a.rejected, a.blank)
            for a in result.panel.accounts
        ),
        distributions=distributions(view),
        nine_box=nine_box,
        heart_grid=heart_grid,
        allocation=allocation_lines(view),
        budget=view.money(allocation.budget.amount)
        if allocation.budget.amount is not None
        else "no budget set",
        committed=view.money(allocation.committed),
        remaining=view.money(allocation.remaining)
        if allocation.remaining is not None
        else "not applicable",
        waitlist=waitlist(view),
        exceptions=exceptions(view),
        balance=balance_lines(view),
        overrides=tuple(
            OverrideLine(view.ref(o.employee_id), override_item(o)) for o in decisions.overrides
        ),
        override_directions=tuple(sorted(counts["direction"].items())),
        override_deciders=tuple(sorted(counts["decider"].items())),
        rejected=tuple(
            RejectedLine(r.sheet, r.number, tuple(str(p) for p in r.reasons))
            for r in result.panel.rejected
        ),
        warnings=warnings,
        roster=roster(view),
        rules=rule_catalogue(view),
        fairness=fairness_section(fairness(result)),
    )


def distribution(
    title: str, counts: Counter[str], order: Sequence[str], total: int
) -> Distribution:
    """A bar chart: the categories in order (zeros included), then any others."""
    labels = [*order, *sorted(k for k in counts if k not in order)]
    bars = tuple(
        Bar(label, counts[label], round(100.0 * counts[label] / total, 1) if total else 0.0)
        for label in labels
    )
    return Distribution(title, total, bars)


def distributions(view: RunView) -> tuple[Distribution, ...]:
    """Heart verdicts, tracks, readiness and inspiration, as bar charts."""
    result = view.result
    people = result.results

    def of_decision(decision: Decision | None) -> Distribution | None:
        if decision is None:
            return None
        counts: Counter[str] = Counter()
        for r in people:
            counts.update(r.evaluation.outcomes.get(decision.name, ()))
        title = decision.heading + (
            " (a person may have several)" if decision.policy == "collect" else ""
        )
        return distribution(title, counts, decision.outcomes, len(people))

    readiness: Counter[str] = Counter(
        shown(result.employees[r.employee_id].get("readiness")) for r in people
    )
    readiness_order = [*EMPLOYEE_ENUMS["readiness"], UNKNOWN]
    charts = (
        of_decision(view.verdict),
        of_decision(view.track),
        distribution("Readiness", readiness, readiness_order, len(people)),
        of_decision(view.inspiration),
    )
    return tuple(chart for chart in charts if chart is not None)


def _grid(
    title: str,
    rows: Sequence[str],
    cols: Sequence[str],
    cells: list[list[list[PersonRef]]],
    outside: int,
    axes: tuple[str, str],
) -> Grid:
    return Grid(
        title=title,
        row_axis=axes[0],
        col_axis=axes[1],
        rows=tuple(rows),
        cols=tuple(cols),
        cells=tuple(tuple(GridCell(len(c), tuple(c)) for c in line) for line in cells),
        outside=outside,
    )


def grids(view: RunView) -> tuple[Grid, Grid]:
    """The 9-box, and the heart verdict against performance."""
    result = view.result
    nine: list[list[list[PersonRef]]] = [[[] for _ in range(3)] for _ in range(3)]
    nine_outside = 0
    hearts = list(view.verdict.outcomes) if view.verdict else []
    heart_cells: list[list[list[PersonRef]]] = [[[] for _ in range(5)] for _ in hearts]
    heart_outside = 0
    for r in result.results:
        row = result.employees[r.employee_id]
        outcomes = r.evaluation.outcomes
        heart = one(view.verdict, outcomes, "")
        track = one(view.track, outcomes, "")
        ref = view.ref(r.employee_id, f"{heart}; {track}")
        performance, potential = row.get("performance"), row.get("potential")
        column = band(performance)
        if column is None or not isinstance(potential, int | float):
            nine_outside += 1
        else:
            nine[3 - int(potential)][column].append(ref)
        if (
            isinstance(performance, int | float)
            and not isinstance(performance, bool)
            and (heart in hearts)
        ):
            heart_cells[hearts.index(heart)][int(performance) - 1].append(ref)
        else:
            heart_outside += 1
    return (
        _grid(
            "9-box: performance against potential",
            ("3", "2", "1"),
            ("1-2", "3", "4-5"),
            nine,
            nine_outside,
            ("Potential", "Performance band"),
        ),
        _grid(
            f"{heading(view.verdict, 'Verdict')} against performance",
            hearts,
            ("1", "2", "3", "4", "5"),
            heart_cells,
            heart_outside,
            (heading(view.verdict, "Verdict"), "Performance rating"),
        ),
    )


def allocation_lines(view: RunView) -> tuple[AllocationLine, ...]:
    """Every investment: recommended, allocated and waitlisted against seats and money."""
    allocation = view.result.decisions.allocation
    recommended: Counter[str] = Counter(a.code for a in allocation.allotments)
    lines = []
    for total in allocation.totals:
        investment = view.catalogue.get(total.code)
        lines.append(
            AllocationLine(
                code=total.code,
                name=shown(investment.name) if investment else UNKNOWN,
                mode=MODE_WORDS.get(str(investment.mode), shown(investment.mode))
                if investment
                else UNKNOWN,
                seats="no limit" if total.seats is None else str(total.seats),
                recommended=recommended[total.code],
                allocated=total.allocated,
                waitlisted=total.waitlisted,
                cost=view.money(investment.cost_per_person) if investment else UNKNOWN,
                committed=view.money(total.committed),
            )
        )
    return tuple(lines)


def waitlist(view: RunView) -> tuple[WaitItem, ...]:
    """Everyone waitlisted, with the reason."""
    return tuple(
        WaitItem(view.ref(a.employee_id), a.code, a.reason)
        for a in view.result.decisions.allocation.allotments
        if a.status == "waitlisted"
    )


def exceptions(view: RunView) -> tuple[ExceptionGroup, ...]:
    """Whom the rulebook's exceptions ask the panel to look at, one group per outcome."""
    decision = view.exceptions
    if decision is None:
        return ()
    flagged: dict[str, list[PersonRef]] = {}
    for r in view.result.results:
        for outcome, note in person_exceptions(view, r.evaluation, r.trace).items():
            flagged.setdefault(outcome, []).append(view.ref(r.employee_id, note))
    return tuple(
        ExceptionGroup(outcome, decision.text(outcome, "meaning"), tuple(flagged.get(outcome, ())))
        for outcome in decision.outcomes
        if outcome != decision.default
    )


def person_exceptions(
    view: RunView, evaluation: Evaluation, trace_data: Mapping[str, Any]
) -> dict[str, str]:
    """The person's exception outcomes, each with the message of the rule that set it
    (its title when it has no message)."""
    decision = view.exceptions
    if decision is None:
        return {}
    wanted = [o for o in evaluation.outcomes.get(decision.name, ()) if o != decision.default]
    if not wanted:
        return {}
    trace = PersonTrace.read(trace_data)
    notes: dict[str, str] = {}
    values = view.result.facts[evaluation.employee_id].values
    for entry in trace.fired:
        rule = view.rules.get(entry.rule)
        if rule is None or rule.decision != decision.name or rule.then not in wanted:
            continue
        note = view.message(rule, entry.conditions, values) or rule.title
        notes[rule.then] = f"{notes[rule.then]}; {note}" if rule.then in notes else note
    return {outcome: notes.get(outcome, "") for outcome in wanted}


def balance_lines(view: RunView) -> tuple[BalanceLine, ...]:
    """Each people manager's management-leadership balance."""
    decision = view.balance
    if decision is None:
        return ()
    lines = []
    for r in view.result.results:
        balance = one(decision, r.evaluation.outcomes, "")
        team = view.teams.get(r.employee_id)
        if team is None and balance in (decision.default, ""):
            continue
        lines.append(
            BalanceLine(
                person=view.ref(r.employee_id),
                team_size=shown(team.get("team_size")) if team else UNKNOWN,
                on_time_rate=percent(team.get("on_time_rate")) if team else UNKNOWN,
                policy_incidents=shown(team.get("policy_incidents")) if team else UNKNOWN,
                engagement=percent(team.get("engagement")) if team else UNKNOWN,
                balance=balance,
                advice=decision.text(balance, "advice"),
            )
        )
    return tuple(lines)


def roster(view: RunView) -> tuple[PersonRef, ...]:
    """Everyone evaluated, with the heart verdict and track."""
    refs = []
    for r in view.result.results:
        outcomes = r.evaluation.outcomes
        heart = one(view.verdict, outcomes, "")
        track = one(view.track, outcomes, "")
        refs.append(view.ref(r.employee_id, f"{heart}; {track}"))
    return tuple(refs)


def rule_catalogue(view: RunView) -> tuple[RuleLine, ...]:
    """The appendix: every rule, and how many people it fired for."""
    fired: Counter[str] = Counter(rule for r in view.result.results for rule in r.evaluation.fired)
    return tuple(
        RuleLine(
            rule.id,
            rule.decision,
            rule.then,
            rule.title,
            rule.rationale,
            f"{rule.file}:{rule.line}",
            fired[rule.id],
        )
        for rule in view.rulebook.rules
    )


def fairness_section(report: FairnessReport | None) -> FairnessSection:
    """The summary's fairness block from the monitor's figures (counts only, no names)."""
    if report is None:
        return NO_FAIRNESS
    tables = tuple(
        FairnessTable(
            f"{t.measure}, by {t.by}",
            tuple(
                FairnessRow(
                    g.group,
                    g.people,
                    g.selected,
                    "-" if g.rate is None else f"{100 * g.rate:.1f}%",
                    "-" if g.impact_ratio is None else f"{g.impact_ratio:.2f}",
                    g.status,
                    g.flagged,
                )
                for g in t.groups
            ),
            t.note,
        )
        for t in report.tables
    )
    return FairnessSection(
        present=True,
        method=(
            "Selection rate = people selected / people in the group; impact ratio = the "
            f"group's rate / the highest rate among groups of {report.min_group} or more "
            f"with a known category; below {report.threshold:.2f} is flagged (four-fifths "
            "rule). The measures are the system's recommendations, before any override. "
            "Read from the restricted Demographics sheet only; no rule reads it."
        ),
        people=report.people,
        unknowns=(
            f"{report.without_record} without a Demographics row; unknown sex "
            f"{report.unknown_sex}; unknown race/ethnicity {report.unknown_race_ethnicity}"
        ),
        tables=tables,
        flagged=tuple(
            f"{t.measure}, by {t.by}: {g.group} at {g.impact_ratio:.2f}"
            for t, g in report.flagged
            if g.impact_ratio is not None
        ),
    )
