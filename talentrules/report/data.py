"""recommendations.json: the run's results as data (schema in docs/outputs.md)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from talentrules import __version__
from talentrules.record import ROLE_FIELDS, role_fields
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
    decisions = result.decisions
    cycle = result.panel.cycle
    many = {  # a part whose decision collects outcomes is a list
        key
        for key, role in ROLE_FIELDS
        if (d := result.rulebook.role(role)) is not None and d.policy == "collect"
    }
    people = []
    for r in result.results:
        outcomes = r.evaluation.outcomes
        recommendation = decisions.recommendations.get(r.employee_id)
        allotments = recommendation.allocation if recommendation else ()
        overrides = recommendation.overrides if recommendation else ()
        parts = role_fields(result.rulebook, outcomes)
        people.append(
            {
                "employee_id": r.employee_id,
                "full_name": _plain(result.employees[r.employee_id].get("full_name")),
                **{
                    key: list(values) if key in many else ", ".join(values)
                    for key, values in parts.items()
                },
                "investments": [a.code for a in allotments],
                "allocation": {
                    a.code: {
                        "status": a.status,
                        "reason": a.reason,
                        "position": a.position,
                        "cost": a.cost,
                    }
                    for a in allotments
                },
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
        )
    allocation = decisions.allocation
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
            }
            for t in allocation.totals
        ],
        "waitlist": [
            {
                "employee_id": a.employee_id,
                "code": a.code,
                "position": a.position,
                "reason": a.reason,
            }
            for a in allocation.allotments
            if a.status == "waitlisted"
        ],
        "rejected": [
            {
                "sheet": r.sheet,
                "row": r.number,
                "reasons": [{"cell": p.cell, "message": p.message} for p in r.reasons],
            }
            for r in result.panel.rejected
        ],
    }
