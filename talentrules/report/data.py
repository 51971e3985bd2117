"""recommendations.json: the run's results as data (schema in docs/outputs.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talentrules import __version__, jsontext
from talentrules.decide import Allotment
from talentrules.plan import FinalPlan, PlanEntry
from talentrules.record import LIST_FIELDS, role_fields
from talentrules.report.names import Namer

if TYPE_CHECKING:
    from talentrules.run import RunResult

SCHEMA_VERSION = 1


def _plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def recommendations_json(result: RunResult, namer: Namer) -> dict[str, Any]:
    """recommendations.json as data (schema in docs/outputs.md, ``schema_version`` 1).

    Only results: no file names, paths or timestamps, so two workbooks holding the
    same data (a vendor export and the plain one) give the same JSON.
    """
    return _document(
        result, [person_json(result, namer, index) for index in range(len(result.results))]
    )


def write_recommendations(result: RunResult, namer: Namer, path: Path) -> None:
    """Write recommendations.json as ``json.dumps(recommendations_json(...), indent=2,
    ensure_ascii=False)`` writes it, byte for byte, as it is encoded: the people and the
    waitlist are made one entry at a time (``_Entries``). The whole document as objects
    and text is about 15 KB a person, and a run's memory must not grow with the people
    it writes (issue 13)."""
    total = len(result.results)
    people = _Entries(lambda: (person_json(result, namer, i) for i in range(total)), total)
    document = _document(result, people, lazy=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        # json.dump's text (indent=2), written as it comes, in a third of its time.
        jsontext.dump(document, handle)
        handle.write("\n")


class _Entries(list[Any]):
    """A JSON array made as it is written: json's encoder asks a list whether it is
    empty and iterates it, and this one makes its entries then (``count`` of them)."""

    def __init__(self, make: Callable[[], Iterator[Any]], count: int) -> None:
        super().__init__()
        self.make, self.length = make, count

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[Any]:
        return self.make()


def person_json(result: RunResult, namer: Namer, index: int) -> dict[str, Any]:
    """One entry of recommendations.json's ``people``: the index-th evaluated person."""
    decisions = result.decisions
    policy = decisions.policy
    r = result.results[index]
    outcomes = r.evaluation.outcomes
    recommendation = decisions.recommendations.get(r.employee_id)
    allotments = recommendation.allocation if recommendation else ()
    overrides = recommendation.overrides if recommendation else ()
    parts = role_fields(result.rulebook, outcomes)
    return {
        "employee_id": r.employee_id,
        "full_name": _plain(result.employees[r.employee_id].get("full_name")),
        **{
            key: list(values) if key in LIST_FIELDS else ", ".join(values)
            for key, values in parts.items()
        },
        "investments": [a.code for a in allotments],
        "allocation": {a.code: allotment_json(a, policy.tie_break) for a in allotments},
        "plan": [plan_entry_json(e) for e in result.plan.of(r.employee_id)],
        "outcomes": {name: list(values) for name, values in outcomes.items()},
        "fired": list(r.evaluation.fired),
        "overruled": {k: list(v) for k, v in r.evaluation.overruled.items() if v},
        "defaulted": list(r.evaluation.defaulted),
        "override": [o.as_dict() for o in overrides],
        "brief": {
            "html": namer.brief(r.employee_id, "html"),
            "md": namer.brief(r.employee_id, "md"),
        },
    }


def _document(result: RunResult, people: list[Any], lazy: bool = False) -> dict[str, Any]:
    """The whole document around ``people``; ``lazy``: the waitlist made as it is
    written (``_Entries``), not as a list."""
    decisions = result.decisions
    policy = decisions.policy
    cycle = result.panel.cycle
    allocation = decisions.allocation
    plan = result.plan
    loads = {load.code: load for load in plan.codes}

    def waiting() -> Iterator[dict[str, Any]]:
        return (
            {
                "employee_id": e.employee_id,
                "code": e.code,
                "position": _position(result, e.employee_id, e.code),
                "reason": e.reason,
                "by": e.by,
                "fallback": e.fallback,
                "fallback_reason": e.fallback_reason,
            }
            for e in waitlisted
        )

    waitlisted = [e for _, e in waitlist_entries(plan)]
    waitlist = _Entries(waiting, len(waitlisted)) if lazy else list(waiting())
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "talentrules", "version": __version__},
        "rulebook": {"sha256": result.rulebook.sha256},
        "cycle": {
            "cycle_id": _plain(cycle.get("cycle_id")) if cycle else None,
            "cycle_name": _plain(cycle.get("cycle_name")) if cycle else None,
            "as_of": _plain(result.panel.as_of),
        },
        "budget": {
            "amount": allocation.budget.amount,
            "currency": allocation.budget.currency,
            "committed": allocation.committed,
            "remaining": allocation.remaining,
            "committed_with_panel": plan.committed,
            "remaining_with_panel": plan.remaining,
            "over_with_panel": max(0.0, -plan.remaining) if plan.remaining is not None else 0.0,
        },
        "allocation_policy": {
            "order": [{"key": key.name, "ranking": list(key.ranking)} for key in policy.order],
            "tie_break": policy.tie_break,
            # The draw orders equal cases by this hash: reproducible, and new each cycle.
            "draw": "sha256(cycle_id + '|' + employee_id)" if policy.tie_break == "draw" else None,
            "seed": allocation.budget.cycle_id if policy.tie_break == "draw" else None,
        },
        "people": people,
        "investments": [
            {
                "code": t.code,
                "seats": t.seats,
                "allocated": t.allocated,
                "waitlisted": t.waitlisted,
                "refused": t.refused,
                "unavailable": t.unavailable,
                "committed": t.committed,
                "allocated_with_panel": loads[t.code].allocated if t.code in loads else None,
                "waitlisted_with_panel": loads[t.code].waitlisted if t.code in loads else None,
                "over_seats_with_panel": loads[t.code].over if t.code in loads else 0,
            }
            for t in allocation.totals
        ],
        # With the panel's decisions counted: what the panel acts on.
        "waitlist": waitlist,
        "unseated": [
            {
                "employee_id": eid,
                "waiting": [e.code for e in plan.of(eid) if e.status == "waitlisted"],
            }
            for eid in plan.unseated()
        ],
        "rejected": [
            {
                "sheet": r.sheet,
                "row": r.number,
                "who": r.who,
                "reasons": [{"cell": p.cell, "message": p.message} for p in r.reasons],
            }
            for r in result.panel.rejected
        ],
    }


def waitlist_entries(plan: FinalPlan) -> list[tuple[str, PlanEntry]]:
    """Everyone's waitlisted entries with their employee_id, by the plan's codes in
    order, each code's in the plan's order of people: the waitlist of
    recommendations.json, the results workbook and the summary. Gathered in one pass
    (a pass over everyone for each code before)."""
    by_code: dict[str, list[tuple[str, PlanEntry]]] = {}
    for eid, entries in plan.plans.items():
        for e in entries:
            if e.status == "waitlisted":
                by_code.setdefault(e.code, []).append((eid, e))
    return [pair for c in plan.codes for pair in by_code.get(c.code, ())]


def allotment_json(a: Allotment, tie_break: str) -> dict[str, Any]:
    """One recommended investment's allocation, with the case that ranked it and what
    decided its status (shared by recommendations.json and the trace)."""
    case = a.ranking
    return {
        "status": a.status,
        "reason": a.reason,
        "position": a.position,
        "cost": a.cost,
        "decided_by": a.decided_by,
        "ranking": {name: value for name, value in case.values} if case else {},
        "ranks": list(case.ranks) if case else [],
        "tie_break": {"method": tie_break, "value": case.tie} if case else None,
    }


def plan_entry_json(e: PlanEntry) -> dict[str, Any]:
    """One investment of the plan with the panel's decisions counted."""
    return {
        "code": e.code,
        "status": e.status,
        "by": e.by,
        "reason": e.reason,
        "cost": e.cost,
        "recommended": e.recommended,
        "cell": e.cell,
        "fallback": e.fallback,
        "fallback_reason": e.fallback_reason or None,
    }


def _position(result: RunResult, employee_id: str, code: str) -> int | None:
    recommendation = result.decisions.recommendations.get(employee_id)
    for a in recommendation.allocation if recommendation else ():
        if a.code == code:
            return a.position
    return None
