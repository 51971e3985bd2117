"""The brief of one person: one builder per section, each reading the run's view.

``build_brief(view, index)`` assembles a ``BriefContext`` for the index-th evaluated
person; every section's builder is a function of the view and that person's data,
so a brief can be built for one person alone (a web page, a stream of briefs).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from talentrules.contract import EVIDENCE, NOMINATIONS, normalize
from talentrules.model import Row, Value
from talentrules.report.contexts import (
    Aspiration,
    BriefContext,
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
    PERFORMANCE_WORDS,
    STATUS_WORDS,
    UNKNOWN,
    band,
    count,
    months,
    percent,
    shown,
)
from talentrules.rulebook import Evaluation
from talentrules.trace import PersonTrace

if TYPE_CHECKING:
    from talentrules.decide import Override, Recommendation

# The workbook's own values that the brief's tallies label facts with (influence.rules
# -> "Rules and monitoring"): the contract's enums, not the rulebook's words.
NOMINATION_REASONS = tuple(NOMINATIONS.column("reason").values)
INFLUENCE_BASES = tuple(EVIDENCE.column("influence_base").values)
OUTCOMES_IN_OTHERS = tuple(EVIDENCE.column("outcome_in_others").values)


def build_brief(view: RunView, index: int) -> BriefContext:
    """The brief context of the index-th evaluated person (employee_id order)."""
    result = view.result
    res = result.results[index]
    employee_id = res.employee_id
    row = result.employees[employee_id]
    values = result.facts[employee_id].values
    outcomes = res.evaluation.outcomes
    trace = PersonTrace.read(res.trace)
    recommendation = result.decisions.recommendations.get(employee_id)

    person = person_header(view, row)
    heart, track = one(view.verdict, outcomes), one(view.track, outcomes)
    plan = plan_items(view, recommendation)
    evidence = heart_section(view, employee_id, values, outcomes, res.evaluation)
    habitual = ", ".join(evidence.habitual_names)
    headline = (
        f"{heading(view.verdict, 'Verdict')}: {heart}"
        + (f", habitual: {habitual}." if habitual else ".")
        + f" {heading(view.quality, 'Evidence quality')}: {evidence.evidence_quality}.",
        f"{heading(view.track, 'Recommended track')}: {track}. "
        + (
            "Invest in " + ", ".join(f"{p.code} ({p.status.lower()})" for p in plan) + "."
            if plan
            else "No development investment this cycle."
        ),
        "This is a recommendation; the panel decides.",
    )
    return BriefContext(
        doc=dataclasses.replace(view.doc, title=f"Justification brief: {person.full_name}"),
        person=person,
        headline=headline,
        heart=heart,
        track=track,
        snapshot=snapshot(row, values),
        evidence=evidence,
        influence=influence_section(view, employee_id, values, outcomes),
        aspiration=aspiration(view, row, values, track),
        plan=plan,
        plan_mix=plan_mix(plan),
        risks=risks(view, values, outcomes),
        gaps=gaps(view, row, values, outcomes),
        how=how_decided(view, trace, res.evaluation, values),
        overrides=override_items(recommendation),
        outcomes=tuple((name, ", ".join(value)) for name, value in outcomes.items()),
        files=(view.namer.brief(employee_id, "html"), view.namer.brief(employee_id, "md")),
    )


def person_header(view: RunView, row: Row) -> PersonHeader:
    """Who the brief is about."""
    manager_id = row.get("manager_id")
    manager = UNKNOWN
    if isinstance(manager_id, str):
        boss = view.result.employees.get(manager_id)
        manager = f"{shown(boss.get('full_name'))} ({manager_id})" if boss else manager_id
    managing = row.get("is_people_manager")
    reports = row.get("direct_reports")
    if managing is True:
        people = "Yes" + (f", {shown(reports)} direct reports" if reports is not None else "")
    else:
        people = shown(managing)
    values = view.result.facts[str(row.get("employee_id"))].values
    return PersonHeader(
        employee_id=str(row.get("employee_id")),
        full_name=shown(row.get("full_name")),
        job_title=shown(row.get("job_title")),
        org_unit=shown(row.get("org_unit")),
        job_level=shown(row.get("job_level")),
        location=shown(row.get("location")),
        manager=manager,
        tenure=months(values.get("tenure_months")),
        in_role=months(values.get("months_in_role")),
        current_track=shown(row.get("current_track")),
        people_manager=people,
        cell=row.ref("employee_id"),
    )


def snapshot(row: Row, values: Mapping[str, Value]) -> Snapshot:
    """The talent snapshot: ratings as the panel gave them."""
    performance = row.get("performance")
    history = ", ".join(
        shown(row.get(c)) for c in ("performance_prior_2", "performance_prior_1", "performance")
    )
    trend = values.get("performance_trend")
    if isinstance(trend, int | float) and not isinstance(trend, bool):
        trend_text = "steady" if trend == 0 else f"{'up' if trend > 0 else 'down'} {abs(trend):g}"
    else:
        trend_text = UNKNOWN
    potential = row.get("potential")
    column = band(performance)
    if column is None or potential is None:
        nine = "not placed: a rating is blank"
    else:
        nine = f"performance band {('1-2', '3', '4-5')[column]}, potential {shown(potential)} of 3"
    perf_text = UNKNOWN
    if isinstance(performance, int | float) and not isinstance(performance, bool):
        perf_text = f"{shown(performance)} {PERFORMANCE_WORDS.get(int(performance), '')}".strip()
    return Snapshot(
        performance=perf_text,
        history=history,
        trend=trend_text,
        potential=f"{shown(potential)} of 3" if potential is not None else UNKNOWN,
        nine_box=nine,
        readiness=shown(row.get("readiness")),
        expertise=shown(row.get("expertise")),
        policy_compliance=shown(row.get("policy_compliance")),
        risk_of_loss=shown(row.get("risk_of_loss")),
        impact_of_loss=shown(row.get("impact_of_loss")),
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
    habitual = tuple(c for c in shown_habits if c in view.signals)
    lines: list[SignalLine] = []
    for code, signal in view.signals.items():
        episodes = count(values.get(f"{code}.episodes"))
        self_reports = count(values.get(f"{code}.self_reports"))
        if not episodes and not self_reports:
            continue
        lines.append(
            SignalLine(
                code=code,
                name=signal.name,
                meaning=signal.description,
                counter=signal.counter,
                episodes=episodes,
                contexts=count(values.get(f"{code}.contexts")),
                observers=count(values.get(f"{code}.observers")),
                self_reports=self_reports,
                months_spanned=count(values.get(f"{code}.months_spanned")),
                newest_age=shown(values.get(f"{code}.newest_age_months")),
                habitual=code in habitual,
            )
        )
    items = [evidence_item(view, r) for r in view.evidence.get(employee_id, [])]
    items.sort(key=lambda e: e.observed_on, reverse=True)
    decision = view.verdict
    verdict = one(decision, outcomes)
    won = [
        view.rules[r]
        for r in evaluation.fired
        if decision is not None
        and r in view.rules
        and view.rules[r].decision == decision.name
        and r not in evaluation.overruled.get(decision.name, ())
    ]
    reasons = tuple(rule.rationale for rule in won) or (
        (f"No rule decided the verdict, so the rulebook's default applies: {verdict}.",)
    )
    return HeartSection(
        verdict=verdict,
        meaning=decision.meaning if decision else "",
        verdict_meaning=decision.text(verdict, "meaning") if decision else "",
        evidence_quality=one(view.quality, outcomes),
        habitual=habitual,
        habitual_names=tuple(view.signals[c].name for c in habitual),
        reasons=reasons,
        signals=tuple(s for s in lines if not s.counter),
        counters=tuple(s for s in lines if s.counter),
        evidence=tuple(e for e in items if not e.counter),
        counter_evidence=tuple(e for e in items if e.counter),
    )


def evidence_item(view: RunView, row: Row) -> EvidenceItem:
    """One Evidence row, cited by its observation cell."""
    code = str(row.get("signal"))
    signal = view.signals.get(code)
    observation = row.cells.get("observation")
    cell = observation.ref if observation is not None and observation.known else row.ref("signal")
    source = " ".join(
        shown(v) for v in (row.get("source_type"), row.get("source_id")) if v is not None
    )
    return EvidenceItem(
        cell=cell,
        evidence_id=shown(row.get("evidence_id")),
        code=code,
        name=signal.name if signal else "",
        meaning=signal.description if signal else "",
        counter=signal.counter if signal else False,
        observed_on=shown(row.get("observed_on")),
        context=shown(row.get("context")),
        influence=shown(row.get("influence_base")),
        initiated_by=shown(row.get("initiated_by")),
        frequency=shown(row.get("frequency")),
        energy=shown(row.get("energy")),
        outcome=shown(row.get("outcome_in_others")),
        source=source or UNKNOWN,
        observation=shown(row.get("observation")),
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
    comments = tuple(
        Nomination(shown(r.get("reason")), shown(r.get("comment")), r.ref("comment"))
        for r in view.nominations.get(employee_id, [])
        if r.get("comment")
    )
    balance = one(view.balance, outcomes)
    team_row = view.teams.get(employee_id)
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
        nominations=tally(view, "nominations", NOMINATION_REASONS, values),
        nomination_comments=comments,
        influence=tally(view, "influence", INFLUENCE_BASES, values),
        outcomes=tally(view, "outcome", OUTCOMES_IN_OTHERS, values),
        management=one(view.management, outcomes),
        balance=balance,
        balance_advice=view.balance.text(balance, "advice") if view.balance else "",
        team=team,
    )


def tally(
    view: RunView, prefix: str, labels: Sequence[str], values: Mapping[str, Value]
) -> tuple[tuple[str, int], ...]:
    """(label, count) for each vocabulary fact ``prefix.NAME``, labelled by the workbook
    value NAME stands for (``influence.rules`` -> 'Rules and monitoring')."""
    found = []
    for name in view.rulebook.vocabulary:
        head, _, key = name.partition(".")
        if head != prefix or not key:
            continue
        label = next((v for v in labels if normalize(v).startswith(normalize(key))), None)
        if label is not None:
            found.append((label, count(values.get(name))))
    return tuple(found)


def aspiration(view: RunView, row: Row, values: Mapping[str, Value], track: str) -> Aspiration:
    """The person's own words and how the recommended track fits the stated interest."""
    decision = view.track
    interest = values.get(decision.interest) if decision and decision.interest else None
    statement = row.get("aspiration_statement")
    fit = ""
    if decision is not None:
        fit = decision.interest_text(track, str(interest) if interest is not None else None)
    cell = row.cells.get("aspiration_statement")
    return Aspiration(
        career_interest=shown(interest),
        statement=str(statement) if statement else "",
        cell=cell.ref if cell is not None else "",
        fit=fit,
    )


def plan_items(view: RunView, recommendation: Recommendation | None) -> tuple[PlanItem, ...]:
    """Each recommended investment with what became of it."""
    if recommendation is None:
        return ()
    items = []
    for allotment in recommendation.allocation:
        investment = view.catalogue.get(allotment.code)
        status = STATUS_WORDS.get(allotment.status, allotment.status)
        if investment is None:
            items.append(
                PlanItem(
                    allotment.code,
                    UNKNOWN,
                    UNKNOWN,
                    UNKNOWN,
                    UNKNOWN,
                    UNKNOWN,
                    status,
                    allotment.reason,
                )
            )
            continue
        items.append(
            PlanItem(
                code=allotment.code,
                name=shown(investment.name),
                track=shown(investment.track),
                mode=MODE_WORDS.get(str(investment.mode), shown(investment.mode)),
                cost=view.money(investment.cost_per_person),
                duration=shown(investment.duration_months),
                status=status,
                reason=allotment.reason,
            )
        )
    return tuple(items)


def plan_mix(plan: Sequence[PlanItem]) -> str:
    """The plan's 70/20/10 mix in words."""
    counts: Counter[str] = Counter()
    for item in plan:
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
    for code, signal in view.signals.items():
        if not signal.counter:
            continue
        episodes = count(values.get(f"{code}.episodes"))
        if episodes:
            found.append(
                f"{signal.name} ({code}: {signal.description.rstrip('.')}) observed by "
                f"others in {episodes} episode{'s' if episodes != 1 else ''}: "
                f"{signal.route}."
            )
    withdrawn = count(values.get("development.withdrawn"))
    if withdrawn:
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
    for column in ("performance", "potential", "readiness", "career_interest"):
        cell = row.cells.get(column)
        if cell is not None and not cell.known:
            found.append(f"{column.replace('_', ' ').capitalize()} is not recorded ({cell.ref}).")
    if values.get("has_aspiration_statement") is False:
        found.append(
            "No aspiration statement: ask the person, in their own words, what they want next."
        )
    if view.result.panel.rows.get("Nominations") and not count(values.get("nominations.total")):
        found.append("No 'who inspires you' nomination received.")
    return tuple(found)


def how_decided(
    view: RunView, trace: PersonTrace, evaluation: Evaluation, values: Mapping[str, Value]
) -> HowDecided:
    """The rules that fired with the values they read, those that came close, and how
    to contest."""
    overruled = {r for ids in evaluation.overruled.values() for r in ids}
    fired = []
    for entry in trace.fired:
        rule = view.rules.get(entry.rule)
        if rule is None:
            continue
        used = []
        for c in entry.conditions:
            cells = trace.cells_of(c.fact)
            where = ", ".join(cells[:3]) + (f" +{len(cells) - 3} more" if len(cells) > 3 else "")
            used.append(f"{c.fact} = {c.shown}" + (f" ({where})" if where else ""))
        fired.append(
            FiredRule(
                id=rule.id,
                decision=rule.decision,
                outcome=rule.then,
                title=rule.title,
                rationale=rule.rationale,
                message=view.message(rule, entry.conditions, values),
                values=tuple(dict.fromkeys(used)),
                overruled=rule.id in overruled,
            )
        )
    defaulted = tuple(
        f"{name}: {', '.join(evaluation.outcomes.get(name, ()))}" for name in evaluation.defaulted
    )
    failed_by_rule: dict[str, str] = {}
    for decision in trace.decisions.values():
        for miss in decision.not_fired:
            failed = miss.failed
            if failed:
                at = ", ".join(trace.cells_of(failed.fact)[:3])
                failed_by_rule[miss.rule] = (
                    f"{failed.condition} (was {failed.shown}" + (f", {at}" if at else "") + ")"
                )
    near = []
    changes = []
    seen: set[str] = set()
    counterfactuals = sorted(trace.counterfactuals, key=lambda c: not c.changes_outcome)
    for cf in counterfactuals:
        rule = view.rules.get(cf.rule)
        if rule is None or rule.id in seen:
            continue
        seen.add(rule.id)
        sentence = cf.sentence
        near.append(
            NearMiss(
                rule.id,
                rule.decision,
                rule.then,
                rule.title,
                failed_by_rule.get(rule.id, cf.condition),
                sentence,
            )
        )
        if cf.changes_outcome:
            changes.append(sentence[:1].upper() + sentence[1:] + ".")
    contest = (
        f"ask {view.doc.contact} for an explanation of this recommendation or to contest "
        "it; the panel reviews the evidence and the rules named here, and a named panel "
        "member decides."
    )
    return HowDecided(tuple(fired), defaulted, tuple(near), tuple(changes), contest)


def override_items(recommendation: Recommendation | None) -> tuple[OverrideItem, ...]:
    """The panel's overrides for this person, beside what was recommended."""
    if recommendation is None:
        return ()
    return tuple(override_item(o) for o in recommendation.overrides)


def override_item(o: Override) -> OverrideItem:
    """One panel override as documents show it."""
    field_name = o.field + (f" {o.target}" if o.target else "")
    reason = o.reason + (f" (superseded by {o.superseded_by})" if o.superseded_by else "")
    return OverrideItem(
        field=field_name,
        recommended=", ".join(o.recommended) or UNKNOWN,
        decision=", ".join(o.decision) or UNKNOWN,
        reason=reason,
        decided_by=o.decided_by,
        decided_on=shown(o.decided_on),
        cell=o.refs.get("decision") or next(iter(o.refs.values()), ""),
    )
