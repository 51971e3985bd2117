"""What the pages of ``talentrules serve`` show beyond the brief and the summary: the
people list and its filters, and the decision form's fields, values and history."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from talentrules.contract import ALLOCATION_FIELD, OVERRIDE_ROLES
from talentrules.decide import STATUS_RANK
from talentrules.report import shown
from talentrules.rulebook import Rulebook
from talentrules.serve.state import ACCEPTED, FIELDS, PanelState, Snapshot, field_value
from talentrules.session import Session

# The Overrides fields (the workbook's words) of the decisions the list shows and
# filters on, found by the role each plays in the rulebook.
_FIELD_OF_ROLE = {role: name for name, role in OVERRIDE_ROLES.items()}
LISTED_ROLES = ("verdict", "development_track")
# The people list's filters: (GET parameter and row key, label).
FILTERS = (
    ("org_unit", "Org unit"),
    ("manager", "Manager"),
    *((_FIELD_OF_ROLE[role], role.replace("_", " ").capitalize()) for role in LISTED_ROLES),
    ("status", "Allocation"),
)
NO_INVESTMENT = "no investment"


def _status(statuses: list[str]) -> str:
    """One word for a person's plan: their best investment status."""
    for status in (*STATUS_RANK, "removed"):
        if status in statuses:
            return status
    return NO_INVESTMENT


def people_rows(snapshot: Snapshot, session: Session) -> list[dict[str, str]]:
    """One row per person: what the list shows and filters on, decisions applied."""
    result = snapshot.result
    counts: dict[str, int] = {}
    for decision in list(session.decisions):
        counts[decision.employee_id] = counts.get(decision.employee_id, 0) + 1
    rows = []
    for r in result.results:
        eid = r.employee_id
        employee = result.employees[eid]
        manager_id = employee.get("manager_id")
        manager = result.employees.get(str(manager_id)) if manager_id else None
        rec = result.decisions.recommendations[eid]
        rows.append(
            {
                "employee_id": eid,
                "name": shown(employee.get("full_name")),
                "href": f"/people/{quote(eid, safe='')}",
                "org_unit": shown(employee.get("org_unit")),
                "manager": shown(manager.get("full_name")) if manager else shown(manager_id),
                **{
                    _FIELD_OF_ROLE[role]: field_value(rec, result, _FIELD_OF_ROLE[role])
                    for role in LISTED_ROLES
                },
                "status": _status([e.status for e in result.plan.of(eid)]),
                "decisions": str(counts.get(eid, 0)),
            }
        )
    return rows


def people_filters(
    rows: list[dict[str, str]], chosen: dict[str, str], rulebook: Rulebook
) -> list[dict[str, Any]]:
    """Each filter with its options (the values present) and the one chosen; a
    decision's filter is labelled as the rulebook heads the decision."""
    headings = {
        _FIELD_OF_ROLE[role]: decision.heading
        for role in LISTED_ROLES
        if (decision := rulebook.role(role)) is not None
    }
    return [
        {
            "name": name,
            "field": name,
            "label": headings.get(name, label),
            "options": sorted({row[name] for row in rows}),
            "chosen": chosen.get(name, ""),
        }
        for name, label in FILTERS
    ]


def allowed_values(state: PanelState) -> list[str]:
    """Every value the decision form's fields can take, for the input's suggestions."""
    result = state.base
    values: list[str] = []
    for role in OVERRIDE_ROLES.values():
        decision = result.rulebook.role(role)
        if decision is not None:
            values += [*decision.outcomes, decision.default]
    codes = list(result.decisions.catalogue.investments)
    values += codes + ["none"]
    values += [f"{code}: allocated" for code in codes]
    return list(dict.fromkeys(v for v in values if v))


def person_extras(
    state: PanelState, snapshot: Snapshot, employee_id: str, decider: str = ""
) -> dict[str, Any]:
    """The decision form and history of one person's page (``decider``: the name this
    browser decided under last, to fill in)."""
    result = snapshot.result
    rec = result.decisions.recommendations[employee_id]
    fields = []
    for name in FIELDS:
        if name == ALLOCATION_FIELD:
            for entry in result.plan.of(employee_id):
                fields.append(
                    {
                        "name": f"{name} {entry.code}",
                        "now": entry.status,
                        "recommended": entry.recommended or "added by the panel",
                        "accept": False,
                    }
                )
            continue
        fields.append(
            {
                "name": name,
                "now": field_value(rec, result, name),
                "recommended": field_value(rec, result, name, decided=False),
                "accept": True,
            }
        )
    latest = state.session.latest_for(employee_id)
    before, after = state.neighbours(employee_id)
    return {
        "fields": fields,
        "choices": list(FIELDS),
        "allowed": allowed_values(state),
        "history": state.session.of(employee_id),
        "against_seq": latest.seq if latest else 0,
        "action": f"/people/{quote(employee_id, safe='')}",
        "prev": f"/people/{quote(before, safe='')}" if before else None,
        "next": f"/people/{quote(after, safe='')}" if after else None,
        "accepted": ACCEPTED,
        "form": {"decided_by": decider, "reason": "", "field": FIELDS[0], "value": ""},
        "stale": None,
        "error": None,
        "notice": None,
    }
