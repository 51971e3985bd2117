"""The panel summary: one builder per section, each reading the run's view.

``build_summary(view, panel_edition)`` assembles the ``SummaryContext``; each
section's builder is a function of the view alone, so a page can show one section.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import chain
from typing import Any, overload

from talentrules.contract import EMPLOYEES
from talentrules.decide import tie_break_words
from talentrules.fairness import FairnessReport, Table, fairness
from talentrules.ingest.report import problem_counts, tally
from talentrules.ingest.store import RowTable, StoredRows
from talentrules.model import Problem, Row, RowAbout
from talentrules.plan import NEXT_CYCLE
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
    UnseatedLine,
    WaitItem,
)
from talentrules.report.data import waitlist_entries
from talentrules.report.names import Namer
from talentrules.report.view import RunView, heading, one, person_name
from talentrules.report.words import MODE_WORDS, UNKNOWN, band, percent, shown
from talentrules.rulebook import Decision, Evaluation

EMPLOYEE_ENUMS = {
    column.name: tuple(column.values) for column in EMPLOYEES.columns if column.kind == "enum"
}


class Names:
    """Each person's name as the summary shows it, read from the Employees rows once
    (they are on disk, ``ingest.store``), and equal texts (notes, investments' names,
    fallbacks) made one string."""

    def __init__(self, employees: Mapping[str, Row], namer: Namer) -> None:
        self.employees, self.namer = employees, namer
        self.names: dict[str, str] = {}
        self.texts: dict[str, str] = {}

    def name(self, employee_id: str) -> str:
        name = self.names.get(employee_id)
        if name is None:
            name = self.names[employee_id] = person_name(self.employees, employee_id)
        return name

    def text(self, text: str) -> str:
        return self.texts.setdefault(text, text)

    def ref(self, employee_id: str, note: str) -> PersonRef:
        """As ``RunView.ref`` makes it."""
        return PersonRef(
            employee_id, self.names[employee_id], self.namer.brief(employee_id, "html"), note
        )


class People(Sequence[PersonRef]):
    """People named in one of the summary's lists, held as ids and notes and made
    ``PersonRef`` as a template reads them. The roster and the grids name everyone:
    a PersonRef each, with a name, brief path and note of its own, was about 250 bytes
    a person a list, and a 100,000-person run must stay within its memory (issue 13)."""

    def __init__(self, names: Names) -> None:
        self._names = names
        self._ids: list[str] = []
        self._notes: list[str] = []

    def add(self, employee_id: str, note: str = "") -> None:
        self._names.name(employee_id)
        self._ids.append(employee_id)
        self._notes.append(self._names.text(note))

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> PersonRef: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[PersonRef, ...]: ...

    def __getitem__(self, index: int | slice) -> PersonRef | tuple[PersonRef, ...]:
        if isinstance(index, slice):
            pairs = zip(self._ids[index], self._notes[index], strict=True)
            return tuple(self._names.ref(e, n) for e, n in pairs)
        return self._names.ref(self._ids[index], self._notes[index])

    def __iter__(self) -> Iterator[PersonRef]:
        ref = self._names.ref
        for employee_id, note in zip(self._ids, self._notes, strict=True):
            yield ref(employee_id, note)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to a tuple, so not hashable

    def __repr__(self) -> str:
        return f"People({len(self)} people)"


def _ref(view: RunView, employee_id: str, note: str = "") -> PersonRef:
    """``view.ref``, its name and note shared with the summary's other lists."""
    names = names_of(view)
    names.name(employee_id)
    return names.ref(employee_id, names.text(note))


def names_of(view: RunView) -> Names:
    """The run's ``Names``, made once (``view.shared``: a meeting's views share them)."""
    found: Names | None = view.shared.get("names")
    if found is None or found.namer is not view.namer:
        found = view.shared["names"] = Names(view.result.employees, view.namer)
    return found


def build_summary(view: RunView, panel_edition: bool = True) -> SummaryContext:
    """The panel summary's context."""
    result = view.result
    decisions = result.decisions
    plan = view.plan
    nine_box, heart_grid = grids(view)
    counts = decisions.override_counts()
    warnings = tuple(local(p) for p in result.problems if p.severity == "warning")
    budget = plan.budget
    return SummaryContext(
        doc=dataclasses.replace(view.doc, title=f"Panel summary: {view.doc.cycle_name}"),
        panel_edition=panel_edition,
        alerts=alerts(view),
        people=len(result.results),
        rejected_rows=len(result.panel.rejected),
        problems=tally(problem_counts(result.panel)),
        warnings_count=len(warnings),
        sheets=tuple(
            SheetLine(a.sheet, a.found_as or "absent", a.read, a.loaded, a.rejected, a.blank)
            for a in result.panel.accounts
        ),
        distributions=distributions(view),
        nine_box=nine_box,
        heart_grid=heart_grid,
        allocation=allocation_lines(view),
        policy=policy_words(view),
        budget=view.money(budget.amount) if budget.amount is not None else "no budget set",
        recommended_committed=view.money(plan.recommended_committed),
        committed=view.money(plan.committed),
        remaining=("not applicable" if plan.remaining is None else view.money(abs(plan.remaining))),
        remaining_label=(
            "over the budget" if plan.remaining is not None and plan.remaining < 0 else "remaining"
        ),
        waitlist=waitlist(view),
        unseated=unseated(view),
        exceptions=exceptions(view),
        balance=balance_lines(view),
        overrides=tuple(
            OverrideLine(_ref(view, o.employee_id), override_item(o, view.investment_name))
            for o in decisions.overrides
        ),
        override_directions=tuple(sorted(counts["direction"].items())),
        override_deciders=tuple(sorted(counts["decider"].items())),
        rejected=rejected_lines(view),
        warnings=warnings,
        roster=roster(view),
        rules=rule_catalogue(view),
        fairness=fairness_section(fairness(result)),
    )


def alerts(view: RunView) -> tuple[str, ...]:
    """What the panel must see first: over-commitments, rejected rows, no seat."""
    found = []
    for over in view.plan.over:
        who = ", ".join(view.ref(e).name for e in over.people)
        cells = ", ".join(over.cells)
        because = f" (the panel's decisions at {cells}: {who})" if cells else ""
        if over.kind == "budget":
            found.append(
                f"Over budget: the panel's decisions commit {view.money(over.taken)} against "
                f"a budget of {view.money(over.limit)} ({over.where}), "
                f"{view.money(over.taken - over.limit)} over{because}."
            )
        else:
            found.append(
                f"Over seats: {view.investment_name(over.code or '')} has {over.taken:g} people "
                f"allocated for {over.limit:g} seats ({over.where}){because}."
            )
    rejected = len(view.result.panel.rejected)
    if rejected:
        found.append(
            f"{rejected} input row{'s were' if rejected != 1 else ' was'} rejected; the "
            "people and reasons are listed under 'Rejected rows and warnings'."
        )
    unseated = view.plan.unseated()
    if unseated:
        found.append(
            f"{len(unseated)} {'people' if len(unseated) != 1 else 'person'} recommended an "
            "investment hold no seat; each is listed with a fallback under 'Recommended, "
            "without a seat'."
        )
    return tuple(found)


def policy_words(view: RunView) -> str:
    """How scarce seats are shared, in words, with the tie-break's seed."""
    policy = view.result.decisions.policy
    keys = "; then ".join(
        f"{view.label(key.name)} ({', '.join(key.ranking)})" for key in policy.order
    )
    return (
        f"Investments are allocated one at a time in the policy's order ({policy.source} "
        f"codes); within one, the strongest case first: {keys}. Equal cases are ordered by "
        f"{tie_break_words(policy, view.budget)}. The panel's decisions are then counted, "
        "not re-allocated."
    )


def allocation_lines(view: RunView) -> tuple[AllocationLine, ...]:
    """Every investment: recommended, allocated and waitlisted against seats and money,
    with the panel's decisions counted."""
    plan = view.plan
    rules_allocated = {t.code: t.allocated for t in view.result.decisions.allocation.totals}
    lines = []
    for load in plan.codes:
        investment = view.catalogue.get(load.code)
        change = load.allocated - rules_allocated.get(load.code, 0)
        panel = ""
        if load.cells:
            panel = (
                f"{change:+d} allocated by the panel ({', '.join(load.cells)})"
                if change
                else f"changed by the panel ({', '.join(load.cells)})"
            )
        lines.append(
            AllocationLine(
                code=load.code,
                name=shown(investment.name) if investment else UNKNOWN,
                mode=MODE_WORDS.get(str(investment.mode), shown(investment.mode))
                if investment
                else UNKNOWN,
                seats="no limit" if load.seats is None else str(load.seats),
                recommended=load.recommended,
                allocated=load.allocated,
                waitlisted=load.waitlisted,
                panel=panel,
                cost=view.money(investment.cost_per_person) if investment else UNKNOWN,
                committed=view.money(load.committed),
                over=f"{load.over} over its seats" if load.over else "",
            )
        )
    return tuple(lines)


def _fallback_words(view: RunView, code: str | None, why: str) -> str:
    """The fallback in a few words: the alternative offered, or priority next cycle (the
    brief gives the whole reason)."""
    if code:
        return f"{view.investment_name(code)} ({why.split(' (')[0]})"
    return NEXT_CYCLE


def waitlist(view: RunView) -> tuple[WaitItem, ...]:
    """Everyone waitlisted with the panel's decisions counted: what decided it, and the
    fallback."""
    items = []
    text = names_of(view).text
    for eid, entry in waitlist_entries(view.plan):
        items.append(
            WaitItem(
                _ref(view, eid),
                entry.code,
                text(view.investment_name(entry.code)),
                entry.short or entry.reason,
                text(_fallback_words(view, entry.fallback, entry.fallback_reason)),
            )
        )
    return tuple(items)


def unseated(view: RunView) -> tuple[UnseatedLine, ...]:
    """People recommended an investment who hold no seat, each with a fallback."""
    lines = []
    # Indexed once: RunResult.result scans the results (quadratic at 10,000 people).
    evaluations = {r.employee_id: r.evaluation for r in view.result.results}
    for eid in view.plan.unseated():
        entries = [e for e in view.plan.of(eid) if e.status == "waitlisted"]
        outcomes = evaluations[eid].outcomes
        note = f"{one(view.verdict, outcomes, '')}; {one(view.track, outcomes, '')}"
        offered = next((e for e in entries if e.fallback), None)
        fallback = (
            _fallback_words(view, offered.fallback, offered.fallback_reason)
            if offered is not None
            else NEXT_CYCLE
        )
        lines.append(
            UnseatedLine(
                _ref(view, eid, note),
                tuple(names_of(view).text(view.investment_name(e.code)) for e in entries),
                fallback,
            )
        )
    return tuple(lines)


def local(problem: Problem) -> str:
    """A problem without the file's name (the summary names the workbook once)."""
    text = str(problem)
    prefix = f"{problem.file}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def rejected_lines(view: RunView) -> tuple[RejectedLine, ...]:
    """Every rejected row, whose it is (named when the person is known), and why."""
    employees = view.result.employees
    lines = []
    for r in view.result.panel.rejected:
        who = r.who
        first = who.split(" ", 1)[0] if who else ""
        if who and r.sheet != "Employees" and first in employees:
            who = f"{first} {shown(employees[first].get('full_name'))}"
        lines.append(RejectedLine(r.sheet, r.number, who, tuple(local(p) for p in r.reasons)))
    return tuple(lines)


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
        name = decision.name
        # One count over everyone's outcomes (Counter.update a person is a Python call).
        counts: Counter[str] = Counter(
            chain.from_iterable(r.evaluation.outcomes.get(name, ()) for r in people)
        )
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
    cells: list[list[People]],
    unplaced: People,
    axes: tuple[str, str],
) -> Grid:
    return Grid(
        title=title,
        row_axis=axes[0],
        col_axis=axes[1],
        rows=tuple(rows),
        cols=tuple(cols),
        cells=tuple(tuple(GridCell(len(c), c) for c in line) for line in cells),
        outside=len(unplaced),
        unplaced=tuple(unplaced),
    )


def _blank(row: Row, columns: Sequence[str]) -> str:
    blank = [c.replace("_", " ") for c in columns if row.get(c) is None]
    cells = [row.ref(c) for c in columns if row.get(c) is None and c in row.cells]
    return f"{' and '.join(blank)} blank" + (f" ({', '.join(cells)})" if cells else "")


def grids(view: RunView) -> tuple[Grid, Grid]:
    """The 9-box (potential up, performance right), and the verdict against performance;
    who is not placed is named, with the blank rating."""
    result = view.result
    names = names_of(view)
    nine = [[People(names) for _ in range(3)] for _ in range(3)]
    nine_out = People(names)
    hearts = list(view.verdict.outcomes) if view.verdict else []
    heart_cells = [[People(names) for _ in range(5)] for _ in hearts]
    heart_out = People(names)
    for r in result.results:
        eid = r.employee_id
        row = result.employees[eid]
        outcomes = r.evaluation.outcomes
        heart = one(view.verdict, outcomes, "")
        track = one(view.track, outcomes, "")
        note = f"{heart}; {track}"
        performance, potential = row.get("performance"), row.get("potential")
        column = band(performance)
        if column is None or not isinstance(potential, int | float):
            nine_out.add(eid, _blank(row, ("performance", "potential")))
        else:
            nine[3 - int(potential)][column].add(eid, note)
        if (
            isinstance(performance, int | float)
            and not isinstance(performance, bool)
            and heart in hearts
        ):
            heart_cells[hearts.index(heart)][int(performance) - 1].add(eid, note)
        else:
            heart_out.add(eid, _blank(row, ("performance",)))
    return (
        _grid(
            "9-box: potential against performance",
            ("3 high", "2 medium", "1 low"),
            ("1-2", "3", "4-5"),
            nine,
            nine_out,
            ("Potential (high at the top)", "Performance band (high to the right)"),
        ),
        _grid(
            f"{heading(view.verdict, 'Verdict')} against performance",
            hearts,
            ("1", "2", "3", "4", "5"),
            heart_cells,
            heart_out,
            (heading(view.verdict, "Verdict"), "Performance rating (high to the right)"),
        ),
    )


def exceptions(view: RunView) -> tuple[ExceptionGroup, ...]:
    """Whom the rulebook's exceptions ask the panel to look at, one group per outcome
    (from the engine's results only: kept in ``view.shared``)."""
    found: tuple[ExceptionGroup, ...] | None = view.shared.get("exceptions")
    if found is None:
        found = view.shared["exceptions"] = _exceptions(view)
    return found


def _exceptions(view: RunView) -> tuple[ExceptionGroup, ...]:
    decision = view.exceptions
    if decision is None:
        return ()
    names = names_of(view)
    flagged = {outcome: People(names) for outcome in decision.outcomes}
    for r in view.result.results:
        # Made by the engine where the person's facts were at hand (run.py), or now.
        noted = r.noted if isinstance(r.noted, dict) else None
        if noted is None:
            noted = person_exceptions(view, r.evaluation, r.fired)
        for outcome, note in noted.items():
            flagged.setdefault(outcome, People(names)).add(r.employee_id, note)
    return tuple(
        ExceptionGroup(outcome, decision.text(outcome, "meaning"), flagged[outcome])
        for outcome in decision.outcomes
        if outcome != decision.default
    )


def person_exceptions(
    view: RunView, evaluation: Evaluation, fired: Callable[[], Sequence[Mapping[str, Any]]]
) -> dict[str, str]:
    """The person's exception outcomes, each with the message of the rule that set it
    (its title when it has no message); ``fired`` gives the trace's fired rules (built
    only for a person with an exception)."""
    return view.exception_notes.notes(
        evaluation, fired, lambda: view.result.facts[evaluation.employee_id].values
    )


def _read_at_once(rows: Mapping[str, Row]) -> Mapping[str, Row]:
    """A sheet of one row a person (``model.RowAbout``), for a pass over everyone: read
    in one query where the run's store holds it (``store.RowTable``, the same rows),
    not one query a person (some 80 % of balance_lines' time)."""
    about = rows.rows if isinstance(rows, RowAbout) else None
    stored = about.panel.rows.get(about.sheet) if about is not None else None
    return RowTable(stored) if isinstance(stored, StoredRows) else rows


def balance_lines(view: RunView) -> tuple[BalanceLine, ...]:
    """Each people manager's management-leadership balance."""
    decision = view.balance
    if decision is None:
        return ()
    lines = []
    teams = _read_at_once(view.teams)
    for r in view.result.results:
        balance = one(decision, r.evaluation.outcomes, "")
        team = teams.get(r.employee_id)
        if team is None and balance in (decision.default, ""):
            continue
        lines.append(
            BalanceLine(
                person=_ref(view, r.employee_id),
                team_size=shown(team.get("team_size")) if team else UNKNOWN,
                on_time_rate=percent(team.get("on_time_rate")) if team else UNKNOWN,
                policy_incidents=shown(team.get("policy_incidents")) if team else UNKNOWN,
                engagement=percent(team.get("engagement")) if team else UNKNOWN,
                balance=balance,
                advice=decision.text(balance, "advice"),
            )
        )
    return tuple(lines)


def roster(view: RunView) -> People:
    """Everyone evaluated, with the heart verdict and track."""
    refs = People(names_of(view))
    for r in view.result.results:
        outcomes = r.evaluation.outcomes
        heart = one(view.verdict, outcomes, "")
        track = one(view.track, outcomes, "")
        refs.add(r.employee_id, f"{heart}; {track}")
    return refs


def rule_catalogue(view: RunView) -> tuple[RuleLine, ...]:
    """The appendix: every rule, and for how many people it decided, or held but was
    overruled (the two never add up to one count: an overruled rule decided nothing)."""
    decided: Counter[str] = Counter()
    overruled: Counter[str] = Counter()
    for r in view.result.results:
        lost = {x for ids in r.evaluation.overruled.values() for x in ids}
        for rule in r.evaluation.fired:
            (overruled if rule in lost else decided)[rule] += 1
    return tuple(
        RuleLine(
            rule.id,
            view.label(rule.decision),
            rule.then,
            rule.title,
            rule.rationale,
            f"{rule.file}:{rule.line}",
            decided[rule.id],
            overruled[rule.id],
        )
        for rule in view.rulebook.rules
    )


def _rows(table: Table, advantage: bool) -> list[FairnessRow]:
    """The groups rated, then those not rated counted in one row per kind."""
    rows = [
        FairnessRow(
            table.by,
            g.group,
            g.people,
            g.selected,
            "-" if g.rate is None else f"{100 * g.rate:.1f}%",
            "-" if g.impact_ratio is None else f"{g.impact_ratio:.2f}",
            g.status,
            g.flagged and advantage,
        )
        for g in table.groups
        if g.status in ("reference", "compared")
    ]
    for status, words in (("too small", "too small to rate"), ("unknown", "unknown")):
        groups = [g for g in table.groups if g.status == status]
        if groups:
            rows.append(
                FairnessRow(
                    table.by,
                    f"{len(groups)} group{'s' if len(groups) != 1 else ''} {words}",
                    sum(g.people for g in groups),
                    sum(g.selected for g in groups),
                    "-",
                    "-",
                    status,
                    False,
                )
            )
    return rows


def fairness_section(report: FairnessReport | None, decided: bool = False) -> FairnessSection:
    """The summary's fairness block: one table per outcome (every grouping in it), flags
    only where the outcome confers an advantage (counts only, no names); ``decided``:
    the report measured the panel's decisions (``fairness.fairness(decided=True)``)."""
    if report is None:
        return NO_FAIRNESS
    tables = []
    flagged = []
    for measure in report.measures:
        advantage = measure in report.advantages
        parts = [t for t in report.tables if t.measure == measure]
        rows = [row for t in parts for row in _rows(t, advantage)]
        notes = list(dict.fromkeys(f"by {t.by}: {t.note}" for t in parts if t.note))
        tables.append(
            FairnessTable(
                measure,
                advantage,
                tuple(rows),
                sum(r.flagged for r in rows),
                "; ".join(notes),
            )
        )
        flagged += [f"{measure}: {r.group} (by {r.by}) at {r.ratio}" for r in rows if r.flagged]
    return FairnessSection(
        present=True,
        method=(
            "Selection rate = people given the outcome / people in the group; impact ratio = "
            f"the group's rate / the highest rate among groups of {report.min_group} or more "
            f"with a known category. A ratio below {report.threshold:.2f} is flagged "
            "(four-fifths rule) only for an outcome the rulebook declares an advantage "
            "(decisions.yaml and catalogue.yaml fairness); other outcomes show their rates. "
            + (
                "The measures are the panel's decisions as recorded so far (its overrides "
                "and the plan with them counted). "
                if decided
                else "The measures are the system's recommendations and allocation, before "
                "any override. "
            )
            + "Read from the restricted Demographics sheet only; no rule reads it."
        ),
        people=report.people,
        unknowns=(
            f"{report.without_record} without a Demographics row; unknown sex "
            f"{report.unknown_sex}; unknown race/ethnicity {report.unknown_race_ethnicity}"
        ),
        tables=tuple(tables),
        flagged=tuple(flagged),
    )
