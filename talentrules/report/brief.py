"""The brief of one person: one builder per section, each reading the run's view.

``build_brief(view, index)`` assembles a ``BriefContext`` for the index-th evaluated
person; every section's builder is a function of the view and that person's data,
so a brief can be built for one person alone (a web page, a stream of briefs).
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from talentrules import reference
from talentrules.changes import Person, nearest
from talentrules.contract import normalize
from talentrules.messages import typed
from talentrules.model import Row, RowsAbout, Value
from talentrules.report.contexts import (
    Aspiration,
    BriefContext,
    Contest,
    DecisionChanges,
    DocumentInfo,
    EvidenceItem,
    FiredRule,
    HeartSection,
    HowDecided,
    InfluenceSection,
    NearMiss,
    Nomination,
    OverrideItem,
    PersonHeader,
    PlanItem,
    SignalLine,
    Snapshot,
    TeamFigures,
)
from talentrules.report.view import RunView, heading, one, outcomes_of
from talentrules.report.words import (
    MODE_WORDS,
    NOT_DECLARED,
    PERFORMANCE_WORDS,
    STATUS_WORDS,
    UNKNOWN,
    band,
    count,
    months,
    not_declared,
    percent,
    shown,
)
from talentrules.rulebook import Compare, Evaluation, Rule, expr_facts
from talentrules.trace import Leaf
from talentrules.vocabulary import Signal

if TYPE_CHECKING:
    from talentrules.decide import Override, Recommendation
    from talentrules.engine import Result

NINE_BOX_BANDS = ("1-2", "3", "4-5")  # performance bands, the 9-box's columns left to right


def build_brief(view: RunView, index: int) -> BriefContext:
    """The brief context of the index-th evaluated person (employee_id order)."""
    result = view.result
    res = result.results[index]
    employee_id = res.employee_id
    row = result.employees[employee_id]
    values = result.facts[employee_id].values
    outcomes = res.evaluation.outcomes
    recommendation = result.decisions.recommendations.get(employee_id)

    person = person_header(view, row)
    heart, track = one(view.verdict, outcomes), one(view.track, outcomes)
    plan = plan_items(view, employee_id, person)
    evidence = heart_section(view, employee_id, values, outcomes, res.evaluation)
    return BriefContext(
        doc=_titled(view.doc, f"Justification brief: {person.full_name}"),
        person=person,
        headline=headline(view, evidence, track, plan),
        heart=heart,
        track=track,
        snapshot=snapshot(row, values, view.rulebook.briefs.trend),
        evidence=evidence,
        influence=influence_section(view, employee_id, values, outcomes),
        aspiration=aspiration(view, row, values, track),
        plan=plan,
        plan_mix=plan_mix(plan),
        plan_defaults=plan_defaults(view, employee_id, plan),
        commitments=commitments(view, employee_id),
        risks=risks(view, values, outcomes),
        gaps=gaps(view, row, values, outcomes),
        changes=what_would_change(view, employee_id, outcomes, res.evaluation),
        contest=view.contest or _contest(view),
        how=how_decided(view, res, values),
        overrides=override_items(view, recommendation),
        outcomes=tuple([(name, ", ".join(value)) for name, value in outcomes.items()]),
        files=(view.namer.brief(employee_id, "html"), view.namer.brief(employee_id, "md")),
    )


def _titled(doc: DocumentInfo, title: str) -> DocumentInfo:
    """``dataclasses.replace(doc, title=title)``, made directly (a brief's own title)."""
    return DocumentInfo(title, *[getattr(doc, name) for name in _DOC_FIELDS])


_DOC_FIELDS = tuple(f.name for f in dataclasses.fields(DocumentInfo) if f.name != "title")


def headline(
    view: RunView, evidence: HeartSection, track: str, plan: Sequence[PlanItem]
) -> tuple[str, str, str]:
    """The recommendation in three lines, in names (codes at most in brackets)."""
    habitual = ", ".join(evidence.habitual_names)
    first = (
        f"{heading(view.verdict, 'Verdict')}: {evidence.verdict}."
        + (f" Seen habitually by others: {habitual}." if habitual else "")
        + f" {heading(view.quality, 'Evidence quality')}: {evidence.evidence_quality}."
    )
    shown_plan = [p for p in plan if p.status != REMOVED]
    if shown_plan:
        items = "; ".join(
            f"{p.name} ({p.code}), {p.status.lower()}"
            + (" by the panel" if p.by == PANEL and p.status != REMOVED else "")
            for p in shown_plan
        )
        second = f"{heading(view.track, 'Recommended track')}: {track}. Plan: {items}."
    else:
        second = (
            f"{heading(view.track, 'Recommended track')}: {track}. "
            "No development investment this cycle."
        )
    return first, second, "This is a recommendation; the panel decides."


def person_header(view: RunView, row: Row) -> PersonHeader:
    """Who the brief is about."""
    get = row.values().get  # every value at once: the header shows a dozen
    manager_id = get("manager_id")
    manager = _manager(view, manager_id) if isinstance(manager_id, str) else UNKNOWN
    managing = get("is_people_manager")
    reports = get("direct_reports")
    if managing is True:
        people = "Yes" + (f", {shown(reports)} direct reports" if reports is not None else "")
    else:
        people = shown(managing)
    employee_id = str(get("employee_id"))
    values = view.result.facts[employee_id].values
    briefs = view.rulebook.briefs  # which facts the header shows (None: none named)
    return PersonHeader(
        employee_id=employee_id,
        full_name=shown(get("full_name")),
        job_title=shown(get("job_title")),
        org_unit=shown(get("org_unit")),
        job_level=shown(get("job_level")),
        location=shown(get("location")),
        manager=manager,
        tenure=NOT_DECLARED if briefs.tenure is None else months(values.get(briefs.tenure)),
        in_role=NOT_DECLARED if briefs.in_role is None else months(values.get(briefs.in_role)),
        current_track=shown(get("current_track")),
        people_manager=people,
        cell=row.ref("employee_id"),
    )


# Managers' names remembered per run (per worker), at most this many (about 100 bytes
# each): a manager's name is read for each of their reports.
MANAGERS_LIMIT = 16_384


def _manager(view: RunView, manager_id: str) -> str:
    """'Name (id)' of a person's manager, or the id alone when the Employees sheet lacks
    them. The same for each of the manager's reports, so worked out once a manager:
    reading the manager's row (outside the span being built) cost more than the rest
    of the header."""
    found = view.managers.get(manager_id)
    if found is None:
        boss = view.result.employees.get(manager_id)
        found = f"{shown(boss.get('full_name'))} ({manager_id})" if boss else manager_id
        if len(view.managers) < MANAGERS_LIMIT:
            view.managers[manager_id] = found
    return found


def snapshot(row: Row, values: Mapping[str, Value], trend_fact: str | None) -> Snapshot:
    """The talent snapshot: ratings as the panel gave them, and the trend as the fact the
    rulebook names for it says (``trend_fact``; None: it names none)."""
    get = row.values().get  # every value at once: the snapshot shows a dozen
    performance = get("performance")
    history = ", ".join(
        [shown(get(c)) for c in ("performance_prior_2", "performance_prior_1", "performance")]
    )
    trend = values.get(trend_fact) if trend_fact is not None else None
    if isinstance(trend, int | float) and not isinstance(trend, bool):
        trend_text = "steady" if trend == 0 else f"{'up' if trend > 0 else 'down'} {abs(trend):g}"
    else:
        trend_text = UNKNOWN if trend_fact is not None else NOT_DECLARED
    potential = get("potential")
    column = band(performance)
    if column is None or potential is None:
        nine = "not placed: a rating is blank"
    else:
        nine = f"potential {shown(potential)} of 3, performance band {NINE_BOX_BANDS[column]}"
    perf_text = UNKNOWN
    if isinstance(performance, int | float) and not isinstance(performance, bool):
        perf_text = f"{shown(performance)} {PERFORMANCE_WORDS.get(int(performance), '')}".strip()
    return Snapshot(
        performance=perf_text,
        history=history,
        trend=trend_text,
        potential=f"{shown(potential)} of 3" if potential is not None else UNKNOWN,
        nine_box=nine,
        readiness=shown(get("readiness")),
        expertise=shown(get("expertise")),
        policy_compliance=shown(get("policy_compliance")),
        risk_of_loss=shown(get("risk_of_loss")),
        impact_of_loss=shown(get("impact_of_loss")),
    )


def heart_section(
    view: RunView,
    employee_id: str,
    values: Mapping[str, Value],
    outcomes: Mapping[str, tuple[str, ...]],
    evaluation: Evaluation,
) -> HeartSection:
    """The verdict, the rule that set it, and every signal and observation behind it."""
    shown_habits = outcomes_of(view.habits, outcomes)
    habitual = tuple([c for c in shown_habits if c in view.signals])
    lines: list[SignalLine] = []
    get = values.get
    for code, signal, facts in _signal_facts(view):
        seen, told = get(facts[0]), get(facts[1])
        if not seen and not told:
            continue  # both blank or 0 (the most signals a person): both count 0
        episodes, self_reports = count(seen), count(told)
        if not episodes and not self_reports:
            continue
        lines.append(
            SignalLine(
                code=code,
                name=signal.name,
                meaning=signal.description,
                counter=signal.counter,
                episodes=episodes,
                contexts=count(values.get(facts[2])),
                observers=count(values.get(facts[3])),
                self_reports=self_reports,
                months_spanned=count(values.get(facts[4])),
                newest_age=shown(values.get(facts[5])),
                habitual=code in habitual,
            )
        )
    items = [evidence_item(view, r) for r in _rows(view.evidence, employee_id)]
    items.sort(key=_observed_on, reverse=True)
    # Lines and items split into the signals' and the counter-signals', in their order
    signals: list[SignalLine] = []
    counters: list[SignalLine] = []
    for line in lines:
        (counters if line.counter else signals).append(line)
    evidence: list[EvidenceItem] = []
    against: list[EvidenceItem] = []
    for item in items:
        (against if item.counter else evidence).append(item)
    decision = view.verdict
    verdict = one(decision, outcomes)
    quality = one(view.quality, outcomes)
    won: list[Rule] = []
    if decision is not None:
        rules, name = view.rules, decision.name
        lost = evaluation.overruled.get(name, ())
        won = [
            rule
            for r in evaluation.fired
            if (rule := rules.get(r)) is not None and rule.decision == name and r not in lost
        ]
    reasons = tuple([rule.rationale for rule in won]) or (
        (f"No rule decided this, so the rulebook's default applies: {verdict}.",)
    )
    return HeartSection(
        verdict=verdict,
        meaning=decision.meaning if decision else "",
        verdict_meaning=decision.text(verdict, "meaning") if decision else "",
        evidence_quality=quality,
        evidence_quality_meaning=view.quality.text(quality, "meaning") if view.quality else "",
        habitual=habitual,
        habitual_names=tuple([view.signals[c].name for c in habitual]),
        reasons=reasons,
        signals=tuple(signals),
        counters=tuple(counters),
        signal_line_declared=view.rulebook.briefs.signal_line is not None,
        evidence=tuple(evidence),
        counter_evidence=tuple(against),
    )


_observed_on = operator.attrgetter("observed_on")  # an evidence item's sort key


def _rows(about: RowsAbout, employee_id: str) -> list[Row]:
    """``about.get(employee_id, [])``, straight from the panel: the Mapping's ``get``
    raises and catches a KeyError for each person without such rows (most people
    have no Nominations), and goes through three calls more."""
    return about.panel.about(about.sheet, employee_id)


def _signal_facts(view: RunView) -> list[tuple[str, Signal, tuple[str, ...]]]:
    """Each signal with the facts of its line, one per SIGNAL_LINE_COLUMNS, as the
    rulebook names them (none when it names none; the same in every brief: made once)."""
    found = view.signal_facts
    if found is None:
        parts = view.rulebook.briefs.signal_line or ()
        found = view.signal_facts = [
            (code, signal, tuple(f"{code}.{part}" for part in parts))
            for code, signal in view.signals.items()
            if parts
        ]
    return found


def evidence_item(view: RunView, row: Row) -> EvidenceItem:
    """One Evidence row, cited by its observation cell."""
    get = row.values().get  # every value at once: a brief shows some eight rows
    code = str(get("signal"))
    signal = view.signals.get(code)
    observation = get("observation")
    cell = row.ref("observation" if observation is not None else "signal")
    source = " ".join([shown(v) for v in (get("source_type"), get("source_id")) if v is not None])
    # ``shown`` of each, but a text (most values) without the call
    evidence_id, observed_on, context, influence, initiated_by, frequency, energy, outcome = [
        v if type(v) is str and v else shown(v) for v in map(get, _EVIDENCE_SHOWN)
    ]
    return EvidenceItem(
        cell=cell,
        evidence_id=evidence_id,
        code=code,
        name=signal.name if signal else "",
        meaning=signal.description if signal else "",
        counter=signal.counter if signal else False,
        observed_on=observed_on,
        context=context,
        influence=influence,
        initiated_by=initiated_by,
        frequency=frequency,
        energy=energy,
        outcome=outcome,
        source=source or UNKNOWN,
        observation=shown(observation),
    )


# The Evidence columns an item shows as they are (``shown``), in the order above.
_EVIDENCE_SHOWN = (
    "evidence_id",
    "observed_on",
    "context",
    "influence_base",
    "initiated_by",
    "frequency",
    "energy",
    "outcome_in_others",
)


def influence_section(
    view: RunView,
    employee_id: str,
    values: Mapping[str, Value],
    outcomes: Mapping[str, tuple[str, ...]],
) -> InfluenceSection:
    """Inspiration profile, nominations, and the management side."""
    inspiration = outcomes_of(view.inspiration, outcomes)
    notes = tuple(
        note
        for kind in inspiration
        if view.inspiration is not None and (note := view.inspiration.text(kind, "meaning"))
    )
    said: dict[tuple[str, str], list[str]] = {}  # the same words, cited once
    for r in _rows(view.nominations, employee_id):
        if r.get("comment"):
            said.setdefault((shown(r.get("reason")), shown(r.get("comment"))), []).append(
                r.ref("comment")
            )
    comments = tuple(
        Nomination(reason, comment, cells[0] + (f" +{len(cells) - 1}" if len(cells) > 1 else ""))
        for (reason, comment), cells in said.items()
    )
    balance = one(view.balance, outcomes)
    briefs = view.rulebook.briefs  # the facts each tally counts (None: none named)
    teams = _rows(view.teams.rows, employee_id)
    team_row = teams[-1] if teams else None  # ``view.teams.get``
    team = None
    if team_row is not None:
        team = TeamFigures(
            size=shown(team_row.get("team_size")),
            on_time_rate=percent(team_row.get("on_time_rate")),
            policy_incidents=shown(team_row.get("policy_incidents")),
            engagement=percent(team_row.get("engagement")),
            voluntary_attrition=percent(team_row.get("voluntary_attrition")),
            cell=team_row.ref("manager_id"),
        )
    return InfluenceSection(
        inspiration=inspiration,
        inspiration_notes=notes,
        nominations=tally(briefs.nominations, values),
        nominations_declared=briefs.nominations is not None,
        nomination_comments=comments,
        influence=tally(briefs.influence, values),
        influence_declared=briefs.influence is not None,
        outcomes=tally(briefs.outcomes, values),
        outcomes_declared=briefs.outcomes is not None,
        management=one(view.management, outcomes),
        balance=balance,
        balance_advice=view.balance.text(balance, "advice") if view.balance else "",
        team=team,
    )


def tally(
    facts: Sequence[tuple[str, str]] | None, values: Mapping[str, Value]
) -> tuple[tuple[str, int], ...]:
    """(label, count) for each (workbook value, fact) the rulebook names for a tally
    (vocabulary.yaml briefs: ``influence.rules`` -> 'Rules and monitoring'); none when it
    names none."""
    return tuple([(label, count(values.get(name))) for label, name in facts or ()])


# Development-track sentences remembered per view, by (track, stated interest): the
# workbook's interests are a short list; bounded all the same (about 200 bytes each).
INTEREST_TEXTS_LIMIT = 4096


def aspiration(view: RunView, row: Row, values: Mapping[str, Value], track: str) -> Aspiration:
    """The person's own words and how the recommended track fits the recorded interest.

    The rulebook's sentence speaks of the interest recorded in the workbook; the
    person's statement, when there is one, is theirs and may say more, so the brief
    says to read it first rather than claim the two agree. Whether free words agree
    with an interest cannot be told reliably: the caveat is left out only when the
    words are the recorded interest itself ('Lead people.' for Lead people)."""
    decision = view.track
    interest = values.get(decision.interest) if decision and decision.interest else None
    statement = row.get("aspiration_statement")
    fit = ""
    if decision is not None:
        # The rulebook's sentence for the track and interest: the same for everyone
        # with both (a few dozen pairs), so worked out once a view (its rulebook's).
        said: dict[tuple[str, str | None], str] = view.shared.setdefault("interest texts", {})
        stated = str(interest) if interest is not None else None
        fit = said.get((track, stated)) or ""
        if not fit:
            fit = decision.interest_text(track, stated)
            if len(said) < INTEREST_TEXTS_LIMIT:
                said[track, stated] = fit
    if statement and fit and normalize(statement) != normalize(interest or ""):
        fit += (
            " The rules read the recorded interest only, not their own words above; where"
            " the two differ, their own words come first."
        )
    cell = row.cell("aspiration_statement")
    interest_cell = row.cell(decision.interest) if decision and decision.interest else None
    return Aspiration(
        career_interest=shown(interest),
        interest_cell=interest_cell.ref if interest_cell is not None else "",
        statement=str(statement) if statement else "",
        cell=cell.ref if cell is not None else "",
        fit=fit,
    )


PANEL, RULES = "the panel", "the rules"
REMOVED = "Removed by the panel"
PLAN_STATUS = {**STATUS_WORDS, "removed": REMOVED}
DEFAULT_START = "once the panel has signed off"
DEFAULT_MEASURE = "agreed with the person at the start"


def _development_row(developments: Sequence[Row], code: str) -> Row | None:
    """The person's planned (else active) Development row for the code, the latest, of
    the person's Development rows (read once a brief)."""
    rows = [r for r in developments if r.get("investment_code") == code]
    for status in ("Planned", "Active"):
        found = [r for r in rows if r.get("status") == status]
        if found:
            return found[-1]
    return None


def _default_owner(person: PersonHeader) -> str:
    if person.manager != UNKNOWN:
        return f"{person.manager}, line manager"
    return "the person's HR business partner"


def plan_items(view: RunView, employee_id: str, person: PersonHeader) -> tuple[PlanItem, ...]:
    """The plan with the panel's decisions counted: each investment's status, who
    decided it, and its owner, start and measure of success."""
    items = []
    entries = view.plan.of(employee_id)
    developments = _rows(view.development, employee_id) if entries else ()
    for entry in entries:
        name, track, mode, cost, duration = _investment_words(view, entry.code)
        default = view.default_catalogue.get(entry.code)
        development = _development_row(developments, entry.code)
        owner = development.get("owner") if development is not None else None
        start = development.get("started") if development is not None else None
        measure = development.get("success_measure") if development is not None else None
        if measure is None and default is not None and default.measure:
            measure = default.measure
        fallback = ""
        if entry.status == "waitlisted":
            why = entry.fallback_reason
            fallback = (
                f"Fallback: {view.investment_name(entry.fallback)}: {why}."
                if entry.fallback
                else why[:1].upper() + why[1:] + "."
            )
        recommended = (
            PLAN_STATUS.get(entry.recommended, entry.recommended)
            if entry.recommended is not None
            else "not recommended"
        )
        items.append(
            PlanItem(
                code=entry.code,
                name=name,
                track=track,
                mode=mode,
                cost=cost,
                duration=duration,
                status=PLAN_STATUS.get(entry.status, entry.status),
                # The status says "by the panel": its reason follows, with its cell.
                # A sentence of its own after the status ('Waitlisted. Seats full ...'):
                # the templates end it.
                reason=_sentence(
                    f"{entry.said.rstrip(' .')} ({entry.cell})"
                    if entry.said and entry.cell
                    else entry.reason.rstrip(" .")
                ),
                by=PANEL if entry.by == "panel" else RULES,
                recommended=recommended,
                owner=str(owner) if owner else _default_owner(person),
                start=_start(development, start),
                measure=str(measure) if measure else DEFAULT_MEASURE,
                fallback=fallback,
            )
        )
    return tuple(items)


def _investment_words(view: RunView, code: str) -> tuple[str, str, str, str, str]:
    """An investment's name, track, mode, cost and duration as a plan row shows them:
    the catalogue's, the same in every brief (worked out once a code; the codes are
    the rulebook's investments)."""
    found = view.investment_words.get(code)
    if found is None:
        investment = view.catalogue.get(code)
        if investment is None:
            found = (UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, _duration(None))
        else:
            found = (
                shown(investment.name),
                shown(investment.track),
                MODE_WORDS.get(str(investment.mode), shown(investment.mode)),
                view.money(investment.cost_per_person),
                _duration(investment.duration_months),
            )
        view.investment_words[code] = found
    return found


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _start(development: Row | None, started: Value) -> str:
    """When a plan row starts: a Development row already Active started in the past,
    so the brief says it is under way rather than give a past date as a start."""
    if started is None:
        return DEFAULT_START
    if development is not None and development.get("status") == "Active":
        return f"under way since {shown(started)}"
    return shown(started)


def _duration(months: float | None) -> str:
    if months is None:
        return UNKNOWN
    return f"{shown(months)} month{'' if months == 1 else 's'}"


def plan_defaults(view: RunView, employee_id: str, plan: Sequence[PlanItem]) -> str:
    """Say where a plan row's owner, start or measure is a stated default."""
    if not plan:
        return ""
    developments = _rows(view.development, employee_id)
    if all(_development_row(developments, p.code) for p in plan):
        return ""
    return (
        "Where the Development sheet plans none, owner, start and measure are the stated "
        f"defaults: the line manager (else the HR business partner), {DEFAULT_START}, the "
        f"measure in {view.default_catalogue.source}."
    )


def commitments(view: RunView, employee_id: str) -> tuple[str, ...]:
    """Where this person's panel decisions take seats or money past a limit."""
    found = []
    for over in view.plan.over:
        if employee_id not in over.people:
            continue
        cells = ", ".join(over.cells)
        if over.kind == "seats":
            found.append(
                f"With the panel's decisions ({cells}), {view.investment_name(over.code or '')} "
                f"has {over.taken:g} people allocated for {over.limit:g} seats ({over.where})."
            )
        else:
            found.append(
                f"With the panel's decisions ({cells}), {view.money(over.taken)} is committed "
                f"against the cycle's budget of {view.money(over.limit)} ({over.where}): "
                f"{view.money(over.taken - over.limit)} over."
            )
    return tuple(found)


def plan_mix(plan: Sequence[PlanItem]) -> str:
    """The plan's 70/20/10 mix in words."""
    counts: Counter[str] = Counter()
    for item in plan:
        if item.status == REMOVED:
            continue
        for part, word in (("70", "experience"), ("20", "relationship"), ("10", "course")):
            if item.mode.startswith(part) or f"/{part}" in item.mode.split(" ")[0]:
                counts[word] += 1
    if not counts:
        return "no 70/20/10 investment"
    return ", ".join(
        f"{counts[w]} {w}" for w in ("experience", "relationship", "course") if counts[w]
    )


def risks(
    view: RunView, values: Mapping[str, Value], outcomes: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    """The risk texts of the person's outcomes (every decision), then each
    counter-signal observed with the route the catalogue gives it."""
    found = [
        text
        for decision in view.rulebook.decisions.values()
        for outcome in outcomes.get(decision.name, ())
        if (text := decision.text(outcome, "risk"))
    ]
    for code, signal, facts in _signal_facts(view):  # facts[0]: the line's episodes
        seen = values.get(facts[0])
        if not seen or not signal.counter:  # blank or 0 (most signals a person) counts 0
            continue
        episodes = count(seen)
        if episodes:
            found.append(
                f"{signal.name} ({code}: {signal.description.rstrip('.')}) observed by "
                f"others in {episodes} episode{'s' if episodes != 1 else ''}: "
                f"{signal.route}."
            )
    withdrawn_fact = view.rulebook.briefs.withdrawn
    if withdrawn_fact is None:  # no risk is ruled out that was never read
        found.append(not_declared("Earlier withdrawals from development", "withdrawn"))
    elif withdrawn := count(values.get(withdrawn_fact)):
        found.append(
            f"Withdrew from {withdrawn} development investment"
            f"{'s' if withdrawn != 1 else ''} before."
        )
    return tuple(found)


def gaps(
    view: RunView, row: Row, values: Mapping[str, Value], outcomes: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    """The gap texts of the evidence judgement and of the verdict, then what the
    workbook leaves blank."""
    found = [
        text
        for decision in (view.quality, view.verdict)
        if decision is not None
        for outcome in outcomes.get(decision.name, ())
        if (text := decision.text(outcome, "gap"))
    ]
    given = row.values()  # one read, not a cell made for each column
    for column in ("performance", "potential", "readiness", "career_interest"):
        if column in given and given[column] is None:  # the sheet has it, blank here
            found.append(
                f"{column.replace('_', ' ').capitalize()} is not recorded ({row.ref(column)})."
            )
    briefs = view.rulebook.briefs  # a gap is never claimed, nor ruled out, unread
    if briefs.aspiration_statement is None:
        found.append(
            not_declared("Whether there is an aspiration statement", "aspiration_statement")
        )
    elif values.get(briefs.aspiration_statement) is False:
        found.append(
            "No aspiration statement: ask the person, in their own words, what they want next."
        )
    if view.result.panel.rows.get("Nominations"):
        if briefs.nominated_by is None:
            found.append(not_declared("Nominations received", "nominated_by"))
        elif not count(values.get(briefs.nominated_by)):
            found.append("No 'who inspires you' nomination received.")
    return tuple(found)


def what_would_change(
    view: RunView,
    employee_id: str,
    outcomes: Mapping[str, tuple[str, ...]],
    evaluation: Evaluation | None = None,
) -> tuple[DecisionChanges, ...]:
    """Per main decision (the verdict first), the nearest changes that would move it,
    found by evaluating the rulebook again on the person's changed data (``evaluation``:
    the person's, whose ``outcomes`` these are)."""
    result = view.result
    explained = [d.name for role in view.changes.explain if (d := view.rulebook.role(role))]
    if not explained:
        return ()
    person = Person(
        view.rulebook,
        view.derivation,
        employee_id,
        result.facts[employee_id].values,
        _rows(view.evidence, employee_id),
        result.panel.as_of,
        explained,
        evaluation,
    )
    found = nearest(person, view.changes, outcomes, view.fact_labels)
    sections = []
    for role in view.changes.explain:
        decision = view.rulebook.role(role)
        if decision is None:
            continue
        now = ", ".join(outcomes.get(decision.name, ()))
        items = found.get(decision.name, [])
        wanted = view.changes.toward.get(role)
        if items:
            note = ""
        elif wanted and now == wanted[0]:
            note = f"{now} is already the outcome the rulebook ranks first."
        else:
            note = (
                "No single change of the kinds the rulebook names (more observations by "
                "others, a stated interest, a rating) would move it; see the evidence gaps."
            )
        sections.append(
            DecisionChanges(
                decision=decision.heading,
                now=now,
                changes=tuple(f"{f.outcome}, if {f.sentence}." for f in items),
                note=note,
            )
        )
    return tuple(sections)


DEFAULT_CONTEST_EVIDENCE = (
    "observations by others that this brief does not list (what happened, when, who saw "
    "it), or a correction to a cell it cites"
)


def _contest(view: RunView) -> Contest:
    """``contest``, made once a view: it reads the cycle alone (the same for everyone)."""
    found = view.contest = contest(view)
    return found


def contest(view: RunView) -> Contest:
    """How to ask for an explanation or contest: whom, by when, with what."""
    cycle = view.cycle
    by = cycle.get("contest_by") if cycle is not None else None
    evidence = cycle.get("contest_evidence") if cycle is not None else None
    where = cycle.ref("contest_by") if cycle is not None and "contest_by" in cycle.cells else ""
    return Contest(
        contact=view.doc.contact,
        deadline=f"by {shown(by)}"
        if by is not None
        else (
            "before the panel signs off (the cycle sets no deadline"
            + (f": {where} is blank" if where else "")
            + ")"
        ),
        evidence=str(evidence) if evidence else DEFAULT_CONTEST_EVIDENCE,
        process=(
            "The panel reviews them with the rules named here; a named panel member "
            "decides, and the decision is recorded beside the recommendation."
        ),
    )


_OP_WORDS = {
    "==": "",
    "!=": "not",
    "<": "less than",
    "<=": "at most",
    ">": "more than",
    ">=": "at least",
    "in": "one of",
    "not in": "none of",
}


def _comparisons(view: RunView, rule: Rule) -> dict[str, Compare]:
    """The rule's comparisons by their text (the same in every brief: worked out once)."""
    found = view.comparisons.get(rule.id)
    if found is None:
        found = view.comparisons[rule.id] = {str(c): c for c in expr_facts(rule.when)}
    return found


def fact_words(view: RunView, name: str) -> str:
    """A fact or decision in words: a decision's label, else the fact's meaning (the
    rulebook's, without its closing full stop), else its name spaced."""
    words = view.fact_words.get(name)
    if words is None:  # the same in every brief: worked out once
        words = view.fact_words[name] = _fact_words(view, name)
    return words


def _fact_words(view: RunView, name: str) -> str:
    if name in view.rulebook.decisions:
        return view.rulebook.decisions[name].heading
    spec = view.rulebook.vocabulary.get(name)
    if spec is not None and spec.meaning:
        meaning = spec.meaning.strip().rstrip(".")
        # A closing aside ("(each source_id once; ...)") is for rule authors: dropped.
        aside = re.search(r" \(([^()]*)\)$", meaning)
        if aside and (" " in aside.group(1) or ";" in aside.group(1)):
            meaning = meaning[: aside.start()]
        return meaning
    return name.replace("_", " ")


def _value_words(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(_value_words(v) for v in value)
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def _lower(text: str) -> str:
    """A meaning inside a sentence: 'Observations ...' -> 'observations ...' (not 'H-DEV')."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _actual(leaf: Leaf) -> object:
    """What a leaf read, for words: booleans as themselves, the rest as shown."""
    return leaf.actual if isinstance(leaf.actual, bool) else leaf.shown


def _cells(cells_of: Mapping[str, Sequence[str]], fact: str) -> str:
    cells = tuple(cells_of.get(fact, ()))
    return ", ".join(cells[:3]) + (f" +{len(cells) - 3} more" if len(cells) > 3 else "")


def condition_words(
    view: RunView, rule: Rule, leaf: Leaf, cells_of: Mapping[str, Sequence[str]]
) -> str:
    """What a condition needs and what was found, in words (no operators, no fact ids),
    with the cells of the person's fact (``PersonFacts.cells``)."""
    return _needs(view, rule, leaf) + _cited(cells_of, leaf.fact)


def _cited(cells_of: Mapping[str, Sequence[str]], fact: str) -> str:
    """' (Evidence!C2, ...)' after a value: the cells of the person's fact, if any."""
    if not cells_of.get(fact):  # most facts a rule reads have none (decisions, counts of 0)
        return ""
    at = _cells(cells_of, fact)
    return f" ({at})" if at else ""


def _needs(view: RunView, rule: Rule, leaf: Leaf) -> str:
    """``condition_words`` without the cells: the same for everyone whom the
    condition's fact gives the same value."""
    compare = _comparisons(view, rule).get(leaf.condition)
    subject = _lower(fact_words(view, leaf.fact))
    shown_value = "blank" if leaf.actual is None else _value_words(_actual(leaf))
    found = f"it is {shown_value}"
    if compare is None:
        return f"{subject}: {found}"
    if compare.op in ("known", "unknown"):
        need = "recorded" if compare.op == "known" else "blank"
        if leaf.negated:
            need = "blank" if need == "recorded" else "recorded"
        return f"needs {subject} {need}; {found}"
    op: str = compare.op
    if leaf.negated:
        op = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<",
              "in": "not in", "not in": "in"}[op]  # fmt: skip
    words = _OP_WORDS[op]
    value = _value_words(compare.value)
    need = f"{words} {value}" if words else value
    return f"needs {subject}: {need}; {found}"


def _leaf(data: Mapping[str, Any]) -> Leaf:
    """A leaf of the trace as the reference builds it (well formed: ``Leaf.read``
    checks a trace read from a file)."""
    return Leaf(
        data["condition"], data["fact"], data["negated"], data["actual"], data["shown"],
        data["result"],
    )  # fmt: skip


# The audit appendix in words, remembered by rule and what they read: a fired rule's,
# the values its rule read (``reference.appendix``'s key; and those of the facts its
# message names), a near miss's, its failing condition; only the cells are the
# person's own (added per person). Bounded per run (per worker):
# WORDS_LIMIT entries in each of the two memos, about 17 and 6 MB full (measured at
# 40,000 people, where 18,000 fired and 34,000 near-miss words are distinct).
WORDS_LIMIT = 16_384


@dataclass(frozen=True, slots=True)
class _FiredWords:
    """A fired rule's entry in words, bar the person's cells."""

    decision: str
    read: tuple[tuple[str, str], ...]  # per condition: (fact in words: value, fact)
    facts: tuple[str, ...]  # the facts of ``read``, once each
    message: str | None  # None: it reads more than facts by name, rendered per person
    conditions: tuple[Leaf, ...]  # for a message rendered per person (else empty)
    # For a person none of whose facts ``read`` has cells (most read counts of 0,
    # decisions, ratings): the entry itself, the same for all of them, as it decided
    # and as overruled (None: its message is rendered per person).
    alike: tuple[FiredRule, FiredRule] | None


@dataclass(frozen=True, slots=True)
class _NearWords:
    """A near miss in words, bar the person's cells."""

    needs: str  # what the failing condition needs and what was found
    fact: str | None  # the failing condition's fact (None: no failing condition)
    alike: NearMiss  # the near miss of a person whose ``fact`` has no cells


@dataclass(frozen=True, slots=True)
class _RuleWords:
    """What the audit appendix says of a rule whatever the person (made once a run)."""

    rule: Rule
    named: tuple[str, ...] | None  # the facts its message names (``view.message_facts``)
    where: str  # its file and line


def _rule_words(view: RunView, rule_id: str) -> _RuleWords | None:
    found = view.rule_words.get(rule_id)
    if found is None:
        rule = view.rules.get(rule_id)
        if rule is None:
            return None
        found = view.rule_words[rule_id] = _RuleWords(
            rule, view.message_facts(rule), f"{rule.file}:{rule.line}"
        )
    return found


def _fired_words(
    view: RunView, said: _RuleWords, entry: Mapping[str, Any], values: Mapping[str, Value]
) -> _FiredWords:
    rule = said.rule
    conditions = tuple([_leaf(c) for c in entry["conditions"]])
    read = tuple(
        [
            (
                f"{fact_words(view, c.fact)}: "
                + ("blank" if c.actual is None else _value_words(_actual(c))),
                c.fact,
            )
            for c in conditions
        ]
    )
    decision = view.label(rule.decision)
    facts = tuple(dict.fromkeys([fact for _, fact in read]))
    if said.named is None:
        return _FiredWords(decision, read, facts, None, conditions, None)
    message = view.message(rule, conditions, values)
    plain = tuple(dict.fromkeys([text for text, _ in read]))
    decided, lost = (
        FiredRule(
            id=rule.id,
            decision=decision,
            outcome=rule.then,
            title=rule.title,
            rationale=rule.rationale,
            message=message,
            values=plain,
            where=said.where,
            overruled=overruled,
        )
        for overruled in (False, True)
    )
    return _FiredWords(decision, read, facts, message, (), (decided, lost))


_ABSENT = object()  # a fact the person's values lack


def _named(values: Mapping[str, Value], names: tuple[str, ...]) -> tuple[object, ...]:
    """The values of ``names`` with their types, for a memo key."""
    return tuple([typed(values.get(name, _ABSENT)) for name in names])


def _failed_read(rule_id: str, failed: Mapping[str, Any] | None) -> tuple[object, ...]:
    """The rule and what ``_near_words`` reads of its failing condition, as a memo key
    (the value read with its type, ``typed``, flattened into the key)."""
    if not failed:
        return (rule_id,)
    actual = failed["actual"]
    return (
        rule_id,
        failed["condition"],
        failed["fact"],
        failed["negated"],
        type(actual),
        typed(actual) if type(actual) is tuple else actual,
        failed["shown"],
    )


def _near_words(view: RunView, rule: Rule, failed: Mapping[str, Any] | None) -> _NearWords:
    decision = view.label(rule.decision)
    if not failed:
        return _NearWords("", None, NearMiss(rule.id, decision, rule.then, rule.title, ""))
    leaf = _leaf(failed)
    needs = _needs(view, rule, leaf)
    return _NearWords(needs, leaf.fact, NearMiss(rule.id, decision, rule.then, rule.title, needs))


def how_decided(view: RunView, res: Result, values: Mapping[str, Value]) -> HowDecided:
    """The audit appendix: the rules that decided (and apart, those overruled) with
    what they read in words and the cells, the defaults, and the near misses.

    Of the person's trace it reads only the fired rules and the near misses, worked
    out now from the person's facts (read once), not the whole trace; their words
    are remembered by rule and the values read (``WORDS_LIMIT``), the cells added.
    Where none of the facts an entry cites has cells for the person, the entry is the
    one remembered with its words, shared by every such person (it is immutable)."""
    evaluation, person = res.evaluation, res.person
    cells_of = person.cells
    cited: dict[str, str] = {}  # fact -> its cells in brackets, for this person
    overruled = (
        {r for ids in evaluation.overruled.values() for r in ids} if evaluation.overruled else ()
    )
    fired, near_misses = reference.appendix(res.rulebook, person, evaluation)
    decided: list[FiredRule] = []
    lost: list[FiredRule] = []
    memo, rule_words = view.fired_words, view.rule_words
    for rule_id, fired_entry, key in fired:
        said = rule_words.get(rule_id) or _rule_words(view, rule_id)
        if said is None:
            continue
        rule = said.rule
        # Words that follow from the entry alone are kept with it (it is shared by
        # everyone who gives the rule the same values), for this view's memo.
        kept = fired_entry.said
        if kept is not None and kept[0] is memo:
            words = kept[1]
        else:
            memo_key: tuple[object, ...] = (rule_id, key)
            if said.named:  # its message reads facts besides its conditions: their values too
                memo_key = (rule_id, key, _named(values, said.named))
            words = memo.get(memo_key) if key is not reference.UNSHARED else None
            if words is None:
                words = _fired_words(view, said, fired_entry.entry, values)
                if key is not reference.UNSHARED and len(memo) < WORDS_LIMIT:
                    memo[memo_key] = words
            if not said.named and key is not reference.UNSHARED:
                fired_entry.said = (memo, words)
        lose = rule_id in overruled
        if words.alike is not None and not any(map(cells_of.get, words.facts)):
            (lost if lose else decided).append(words.alike[lose])
            continue
        message = words.message
        if message is None:
            message = view.message(rule, words.conditions, values)
        said_read: list[str] = []  # each value read in words, with the fact's cells if any
        for text, fact in words.read:
            if cells_of.get(fact):
                at = cited.get(fact)
                if at is None:
                    at = cited[fact] = _cited(cells_of, fact)
                said_read.append(text + at)
            else:
                said_read.append(text)
        fired_rule = FiredRule(
            id=rule.id,
            decision=words.decision,
            outcome=rule.then,
            title=rule.title,
            rationale=rule.rationale,
            message=message,
            values=tuple(dict.fromkeys(said_read)),
            where=said.where,
            overruled=lose,
        )
        (lost if lose else decided).append(fired_rule)
    defaulted = tuple(
        [
            f"{view.label(name)}: {', '.join(evaluation.outcomes.get(name, ()))}"
            for name in evaluation.defaulted
        ]
    )
    near: list[NearMiss] = []
    near_memo = view.near_words
    for rule_id, answer in near_misses:
        # Its words read the failing condition alone (_near_words): kept with the
        # why-not (shared like it), else remembered by what they read.
        kept = answer.said
        if kept is not None and kept[0] is near_memo:
            found = kept[1]
        else:
            failed = answer.entry["failed"]
            read = _failed_read(rule_id, failed)
            found = near_memo.get(read)
            if found is None:
                rule_said = _rule_words(view, rule_id)
                if rule_said is None:
                    continue
                found = _near_words(view, rule_said.rule, failed)
                if len(near_memo) < WORDS_LIMIT:
                    near_memo[read] = found
            answer.said = (near_memo, found)
        fact = found.fact
        if fact is None or not cells_of.get(fact):
            near.append(found.alike)
            continue
        at = cited.get(fact)
        if at is None:
            at = cited[fact] = _cited(cells_of, fact)
        miss = found.alike
        near.append(NearMiss(miss.id, miss.decision, miss.outcome, miss.title, found.needs + at))
    return HowDecided(tuple(decided), tuple(lost), defaulted, tuple(near), view.doc.rulebook)


def override_items(
    view: RunView, recommendation: Recommendation | None
) -> tuple[OverrideItem, ...]:
    """The panel's overrides for this person, beside what was recommended."""
    if recommendation is None:
        return ()
    return tuple(override_item(o, view.investment_name) for o in recommendation.overrides)


def override_item(o: Override, name: Callable[[str], str] = str) -> OverrideItem:
    """One panel override as documents show it; ``name`` words a value for people (an
    investment's name with its code in brackets; other values stay as they are)."""
    field_name = o.field + (f" {name(o.target)}" if o.target else "")
    reason = o.reason + (f" (superseded by {o.superseded_by})" if o.superseded_by else "")
    return OverrideItem(
        field=field_name,
        recommended=", ".join(map(name, o.recommended)) or UNKNOWN,
        decision=", ".join(map(name, o.decision)) or UNKNOWN,
        reason=reason,
        decided_by=o.decided_by,
        decided_on=shown(o.decided_on),
        cell=o.refs.get("decision") or next(iter(o.refs.values()), ""),
    )
