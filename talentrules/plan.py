"""The plan as the panel decided it: every person's investments once the panel's
``investment`` and ``allocation`` overrides are counted, the seats and money they
take, what goes past a seat limit or the budget, and a fallback for each waitlisted
investment.

Where it sits: after ``decide`` (which allocates and records the overrides beside the
recommendation) and before ``report``, which shows the recommendation and, beside
it, this plan in every output. Pure functions over decide's data.

Choices, and why:

- The panel decides with the allocation in front of it; its decisions are counted,
  never re-allocated for anyone else. An investment the panel adds takes a seat and
  its cost (the panel chose it); one it removes gives its seat and money back; an
  ``allocation`` override sets one code's status. What goes past a code's seats or
  the budget is an over-commitment: a warning, and stated at the top of the summary
  and in the brief of each person whose decision causes it.
- A waitlisted investment gets a fallback: the first alternative the rulebook names
  for it (``catalogue.yaml`` ``allocation.fallback``) that still has a seat and the
  money after the panel's decisions, that the person may receive (the policy's
  eligibility) and that is not already in their plan; else priority next cycle.
  Fallbacks are suggestions for the panel, not allocations.
"""

from __future__ import annotations

import functools
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from talentrules.contract import ALLOCATION_FIELD, INVESTMENT_FIELD
from talentrules.decide import (
    AllocationPolicy,
    Budget,
    Catalogue,
    Decisions,
    FactsByPerson,
    Override,
    Recommendation,
    comparable_cost,
    value_of,
)
from talentrules.model import Problem
from talentrules.rulebook import Evaluation

PlanStatus = Literal["allocated", "waitlisted", "refused", "unavailable", "removed"]
NEXT_CYCLE = "priority next cycle"


@dataclass(frozen=True, slots=True)  # one or more a person, kept for the run
class PlanEntry:
    """One investment in a person's plan once the panel's decisions are counted."""

    employee_id: str
    code: str
    status: PlanStatus
    by: Literal["rules", "panel"]  # who decided this status
    reason: str  # the allocation's reason, or the panel's
    cost: float  # committed against the budget (0 unless allocated)
    recommended: str | None  # the system's status; None for an investment the panel added
    cell: str | None = None  # the override's cell, when the panel decided it
    fallback: str | None = None  # a waitlisted entry's alternative with a seat, if any
    fallback_reason: str = ""  # why that alternative, or why priority next cycle
    short: str = ""  # what decided the status, in a few words (lists, the summary)
    said: str = ""  # the panel's own reason (the override's reason cell), when it decided


@dataclass(frozen=True)
class CodeLoad:
    """One investment's seats and money after the panel's decisions."""

    code: str
    seats: int | None
    recommended: int  # people it was recommended for
    allocated: int  # allocated in the plan (rules' and panel's)
    waitlisted: int
    committed: float
    over: int  # seats taken past the limit (0: within it)
    cells: tuple[str, ...]  # the overrides that put someone into it


@dataclass(frozen=True)
class OverCommitment:
    """Seats or money the panel's decisions take past a limit."""

    kind: Literal["seats", "budget"]
    code: str | None  # for seats: the investment
    limit: float  # seats, or the budget
    taken: float  # seats taken, or money committed
    where: str  # the limit's cell (Investments!E5, Cycle!D2)
    cells: tuple[str, ...]  # the panel's overrides that add to it
    people: tuple[str, ...]  # whose plans those overrides change


@dataclass(frozen=True)
class FinalPlan:
    """Every plan, the load per investment, the money, and what goes past a limit."""

    plans: dict[str, tuple[PlanEntry, ...]]  # by employee_id
    codes: tuple[CodeLoad, ...]  # in allocation order, then codes the panel added
    budget: Budget
    recommended_committed: float  # the allocation as the rules left it
    committed: float  # with the panel's decisions
    over: tuple[OverCommitment, ...]
    problems: tuple[Problem, ...]

    @property
    def remaining(self) -> float | None:
        return None if self.budget.amount is None else self.budget.amount - self.committed

    def of(self, employee_id: str) -> tuple[PlanEntry, ...]:
        return self.plans.get(employee_id, ())

    def unseated(self) -> tuple[str, ...]:
        """People recommended an investment who hold no seat in the plan."""
        return tuple(
            eid
            for eid, entries in self.plans.items()
            if any(e.status == "waitlisted" for e in entries)
            and not any(e.status == "allocated" for e in entries)
        )


def _panel(overrides: tuple[Override, ...], field: str, target: str | None) -> Override | None:
    return next(
        (o for o in overrides if o.applies and o.field == field and o.target == target), None
    )


def _entries(rec: Recommendation, catalogue: Catalogue, budget: Budget) -> list[PlanEntry]:
    """One person's plan: the recommendation, then the panel's investment and
    allocation decisions, in that order."""
    entries = [
        PlanEntry(
            a.employee_id, a.code, a.status, "rules", a.reason, a.cost, a.status, short=a.short
        )
        for a in rec.allocation
    ]
    chosen = _panel(rec.overrides, INVESTMENT_FIELD, None)
    if chosen is not None:
        cell = chosen.refs.get("decision")
        decided = set(chosen.decision)
        kept = []
        for entry in entries:
            if entry.code in decided:
                kept.append(entry)
            else:
                kept.append(
                    replace(
                        entry,
                        status="removed",
                        by="panel",
                        cost=0.0,
                        cell=cell,
                        reason=f"removed by the panel ({cell}): {chosen.reason}",
                        short=f"removed by the panel ({cell})",
                        said=chosen.reason,
                    )
                )
        have = {e.code for e in entries}
        for code in chosen.decision:
            if code not in have:
                kept.append(_added(rec.employee_id, code, chosen, catalogue, budget))
        entries = kept
    for override in rec.overrides:
        if not override.applies or override.field != ALLOCATION_FIELD:
            continue
        panel_status = override.decision[0] if override.decision else None
        status: PlanStatus
        if panel_status == "allocated":
            status = "allocated"
        elif panel_status == "waitlisted":
            status = "waitlisted"
        elif panel_status == "refused":
            status = "refused"
        else:
            continue
        cell = override.refs.get("decision")
        existing = next((e for e in entries if e.code == override.target), None)
        cost = _cost(override.target or "", catalogue, budget) if status == "allocated" else 0.0
        reason = f"{status} by the panel ({cell}): {override.reason}"
        if existing is None:
            entries.append(
                PlanEntry(
                    rec.employee_id,
                    override.target or "",
                    status,
                    "panel",
                    reason,
                    cost,
                    None,
                    cell,
                    said=override.reason,
                )
            )
        else:
            index = entries.index(existing)
            entries[index] = replace(
                existing,
                status=status,
                by="panel",
                reason=reason,
                cost=cost,
                cell=cell,
                short=f"{status} by the panel ({cell})",
                said=override.reason,
            )
    return entries


def _cost(code: str, catalogue: Catalogue, budget: Budget) -> float:
    investment = catalogue.get(code)
    if investment is None:
        return 0.0
    return comparable_cost(investment, catalogue, budget) or 0.0


def _added(
    employee_id: str, code: str, chosen: Override, catalogue: Catalogue, budget: Budget
) -> PlanEntry:
    cell = chosen.refs.get("decision")
    if catalogue.get(code) is None:
        reason = f"chosen by the panel ({cell}) but not in this cycle's catalogue"
        return PlanEntry(employee_id, code, "unavailable", "panel", reason, 0.0, None, cell)
    reason = f"chosen by the panel ({cell}): {chosen.reason}"
    cost = _cost(code, catalogue, budget)
    return PlanEntry(
        employee_id, code, "allocated", "panel", reason, cost, None, cell, said=chosen.reason
    )


def final_plan(
    decisions: Decisions,
    evaluations: Mapping[str, Evaluation],
    persons_facts: FactsByPerson,
    file: str = "",
) -> FinalPlan:
    """The plan with the panel's decisions counted, its loads, limits and fallbacks."""
    catalogue, budget = decisions.catalogue, decisions.allocation.budget
    plans = {
        eid: _entries(rec, catalogue, budget) for eid, rec in decisions.recommendations.items()
    }
    order = [t.code for t in decisions.allocation.totals]
    order += sorted({e.code for es in plans.values() for e in es} - set(order))
    recommended: Counter[str] = Counter(a.code for a in decisions.allocation.allotments)
    loads = []
    for code in order:
        entries = [e for es in plans.values() for e in es if e.code == code]
        allocated = sum(e.status == "allocated" for e in entries)
        investment = catalogue.get(code)
        seats = investment.seats if investment else None
        loads.append(
            CodeLoad(
                code,
                seats,
                recommended[code],
                allocated,
                sum(e.status == "waitlisted" for e in entries),
                sum(e.cost for e in entries if e.status == "allocated"),
                max(0, allocated - seats) if seats is not None else 0,
                tuple(sorted({e.cell for e in entries if e.by == "panel" and e.cell})),
            )
        )
    committed = sum(e.cost for es in plans.values() for e in es if e.status == "allocated")
    over = _over(loads, plans, catalogue, budget, committed)
    plan = FinalPlan(
        {eid: tuple(es) for eid, es in plans.items()},
        tuple(loads),
        budget,
        decisions.allocation.committed,
        committed,
        over,
        tuple(_warning(file, o, budget) for o in over),
    )
    return _with_fallbacks(plan, decisions, evaluations, persons_facts)


def _over(
    loads: list[CodeLoad],
    plans: Mapping[str, list[PlanEntry]],
    catalogue: Catalogue,
    budget: Budget,
    committed: float,
) -> tuple[OverCommitment, ...]:
    found = []
    for load in loads:
        if load.over:
            investment = catalogue.get(load.code)
            people = tuple(
                eid
                for eid, es in plans.items()
                if any(e.code == load.code and e.by == "panel" and e.cell for e in es)
            )
            found.append(
                OverCommitment(
                    "seats",
                    load.code,
                    float(load.seats or 0),
                    float(load.allocated),
                    investment.where("seats") if investment else "",
                    load.cells,
                    people,
                )
            )
    if budget.amount is not None and committed > budget.amount + 1e-9:
        adding = [
            (eid, e.cell)
            for eid, es in plans.items()
            for e in es
            if e.by == "panel" and e.status == "allocated" and e.cost and e.cell
        ]
        found.append(
            OverCommitment(
                "budget",
                None,
                budget.amount,
                committed,
                budget.ref or "",
                tuple(dict.fromkeys(cell for _, cell in adding if cell)),
                tuple(dict.fromkeys(eid for eid, _ in adding)),
            )
        )
    return tuple(found)


def _warning(file: str, over: OverCommitment, budget: Budget) -> Problem:
    by = f" ({', '.join(over.cells)})" if over.cells else ""
    if over.kind == "seats":
        text = (
            f"with the panel's decisions{by}, {over.code} has {over.taken:g} people allocated "
            f"for {over.limit:g} seats ({over.where})"
        )
    else:
        text = (
            f"with the panel's decisions{by}, {budget.money(over.taken)} is committed against a "
            f"budget of {budget.money(over.limit)}: {budget.money(over.taken - over.limit)} over"
        )
    return Problem("warning", file, None, None, text)


def _with_fallbacks(
    plan: FinalPlan,
    decisions: Decisions,
    evaluations: Mapping[str, Evaluation],
    persons_facts: FactsByPerson,
) -> FinalPlan:
    """Each waitlisted entry with the first alternative that still has a seat and the
    money (seats and money after the panel's decisions), or priority next cycle."""
    policy, catalogue, budget = decisions.policy, decisions.catalogue, plan.budget
    left = {
        load.code: (None if load.seats is None else load.seats - load.allocated)
        for load in plan.codes
    }
    money = plan.remaining
    plans = {}
    for eid, entries in plan.plans.items():
        have = {e.code for e in entries if e.status != "removed"}
        updated = []
        for entry in entries:
            if entry.status == "waitlisted":
                evaluation = evaluations.get(eid)
                facts = persons_facts.get(eid, {})
                code, why = _fallback(
                    entry.code, have, policy, catalogue, budget, left, money, evaluation, facts
                )
                # interned: most waitlisted people share their fallback's reason
                entry = replace(entry, fallback=code, fallback_reason=sys.intern(why))
            updated.append(entry)
        plans[eid] = tuple(updated)
    return replace(plan, plans=plans)


def _fallback(
    code: str,
    have: set[str],
    policy: AllocationPolicy,
    catalogue: Catalogue,
    budget: Budget,
    left: Mapping[str, int | None],
    money: float | None,
    evaluation: Evaluation | None,
    facts: Mapping[str, object],
) -> tuple[str | None, str]:
    alternatives = policy.fallback.get(code, ())
    for alternative in alternatives:
        investment = catalogue.get(alternative)
        if investment is None or alternative in have:
            continue
        seats = left.get(alternative, investment.seats)
        if seats is not None and seats <= 0:
            continue
        cost = comparable_cost(investment, catalogue, budget)
        if budget.amount is not None and (cost is None or money is None or cost > money + 1e-9):
            continue
        rule = policy.eligibility(investment)
        if rule is not None and (
            evaluation is None
            or rule.failed(functools.partial(value_of, evaluation=evaluation, facts=facts))
        ):
            continue
        seat_words = (
            "no seat limit" if seats is None else f"{seats} seat{'s' if seats != 1 else ''} left"
        )
        money_words = (
            ""
            if budget.amount is None or cost is None
            else f"; {budget.money(cost)} within the money left"
        )
        return (
            alternative,
            f"{seat_words}{money_words} ({policy.source} fallback)",
        )
    if not alternatives:
        why = f"the rulebook names no alternative to this investment ({policy.source} fallback)"
    else:
        named = ", ".join(_named(a, catalogue) for a in alternatives)
        why = f"no alternative has a seat and money left for this case; tried {named}"
    return None, f"{NEXT_CYCLE}: {why}"


def _named(code: str, catalogue: Catalogue) -> str:
    """An investment for people: its name, the code in brackets ('Small leading role
    (LEAD-TASTER)'); the code alone when the catalogue has no name for it."""
    investment = catalogue.get(code)
    return f"{investment.name} ({code})" if investment is not None and investment.name else code
