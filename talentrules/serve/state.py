"""The meeting's state: the workbook evaluated once, the session's decisions applied.

The engine runs once, at start. A decision is validated as an Overrides row is
(``session.overrides_row``, ``decide.read_override``), recorded (committed before the
answer), and then ``run.with_session`` applies every session decision again and
counts the plan: allocation is not re-run for anyone else (``decide``), so this takes
milliseconds, not the engine's seconds. Decisions recorded while a recount runs are
counted by the next one, taken once for all of them. The fairness monitor of the
decisions, the summary and the briefs are built when a page first asks after a
change, then kept until the next decision.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote

from talentrules.contract import (
    ALLOCATION_FIELD,
    INVESTMENT_FIELD,
    OVERRIDE_FIELDS,
    OVERRIDE_ROLES,
)
from talentrules.decide import ReadOverride, Recommendation, read_override, recommend
from talentrules.fairness import fairness
from talentrules.model import Row
from talentrules.report import ContextBuilder, Namer, fairness_section
from talentrules.report.contexts import SummaryContext
from talentrules.report.data import person_json
from talentrules.run import RunResult, with_session
from talentrules.session import Session, SessionDecision, overrides_row

# The fields a decision may change, in the order the person page lists them.
FIELDS = tuple(OVERRIDE_FIELDS)
ACCEPTED = "Accepted as recommended."


class PageNamer(Namer):
    """Names link to the person's page of the session, not to a brief file."""

    def brief(self, employee_id: str, extension: str) -> str:
        return f"/people/{quote(employee_id, safe='')}"


class Refused(Exception):
    """A decision not recorded, with one sentence naming what is wrong."""

    def __init__(self, sentence: str, status: int = 400) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.status = status


def sentence(messages: list[str]) -> str:
    """Messages as one sentence: capitalised, joined by semicolons, one full stop."""
    text = "; ".join(m.strip().rstrip(".") for m in messages if m.strip())
    return (text[:1].upper() + text[1:] + ".") if text else "The decision was refused."


@dataclass
class Snapshot:
    """The run with every session decision up to ``seq`` applied."""

    seq: int
    result: RunResult
    namer: PageNamer
    seconds: float  # how long applying the decisions and counting the plan took
    shared: dict[str, Any] = field(default_factory=dict)  # RunView.shared of the meeting
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def builder(self) -> ContextBuilder:
        return ContextBuilder(self.result, self.namer, self.shared)

    @cached_property
    def summary(self) -> SummaryContext:
        """The summary, its fairness monitor measuring the panel's decisions."""
        with self._lock:
            context = self.builder.summary()
            monitor = fairness_section(fairness(self.result, decided=True), decided=True)
            return dataclasses.replace(context, fairness=monitor)

    def person(self, employee_id: str) -> dict[str, Any]:
        """The person as recommendations.json has them, with their decided values."""
        index = self.result.index(employee_id)
        data = person_json(self.result, self.namer, index)
        recommendation = self.result.decisions.recommendations[employee_id]
        data["decided"] = decided_values(recommendation, self.result)
        return data

    def totals(self) -> dict[str, Any]:
        """Seats, money and waitlist with the decisions counted."""
        plan = self.result.plan
        waitlist = sum(1 for es in plan.plans.values() for e in es if e.status == "waitlisted")
        return {
            "seq": self.seq,
            "budget": plan.budget.amount,
            "currency": plan.budget.currency,
            "committed": plan.committed,
            "remaining": plan.remaining,
            "seats": {
                c.code: {
                    "seats": c.seats,
                    "allocated": c.allocated,
                    "waitlisted": c.waitlisted,
                    "over": c.over,
                }
                for c in plan.codes
            },
            "waitlist": waitlist,
            "unseated": len(plan.unseated()),
            "over": [
                {"kind": o.kind, "code": o.code, "limit": o.limit, "taken": o.taken}
                for o in plan.over
            ],
        }


def decided_values(recommendation: Recommendation, result: RunResult) -> dict[str, str]:
    """Each field's value as decided (the panel's where it overrode, else the rules'),
    as the decision form takes it; allocation: each investment's status in the plan."""
    values: dict[str, str] = {}
    for name in FIELDS:
        if name == ALLOCATION_FIELD:
            for entry in result.plan.of(recommendation.employee_id):
                values[f"{name} {entry.code}"] = entry.status
        else:
            values[name] = field_value(recommendation, result, name)
    return values


def field_value(
    rec: Recommendation,
    result: RunResult,
    field_name: str,
    target: str | None = None,
    decided: bool = True,
) -> str:
    """One field's value as the form takes it (values joined by '; '; no investment is
    'none'): the panel's applied override when ``decided`` and there is one, else the
    rules' recommendation."""
    role = OVERRIDE_ROLES.get(field_name)
    decision = result.rulebook.role(role) if role else None
    override = next(
        (
            o
            for o in rec.overrides
            if decided and o.applies and o.field == field_name and o.target == target
        ),
        None,
    )
    if override is not None:
        values = override.decision
    else:
        values = rec.recommended(field_name, target, decision.name if decision else None)
    return "; ".join(values) or ("none" if field_name == INVESTMENT_FIELD else "")


class PanelState:
    """The base run, the session, and the latest snapshot; safe across threads."""

    def __init__(self, result: RunResult, session: Session) -> None:
        self.base = result
        self.session = session
        self.namer = PageNamer(result.employees)
        # The recommendations before any override: what a decision is validated against.
        self.pristine: Mapping[str, Recommendation] = recommend(
            [r.evaluation for r in result.results], result.decisions.allocation
        )
        self._count_lock = threading.Lock()
        self._rows: list[Row] = []  # the session's decisions as Overrides rows, read once
        # Each row (the sheet's and the session's) checked once against the pristine
        # recommendations, which do not change during the meeting: by the row's id.
        self._read: dict[int, ReadOverride] = {}
        self._shared: dict[str, Any] = {}  # what every snapshot's view shares (RunView)
        self._snapshot = self._count()

    def _read_once(self, row: Row) -> ReadOverride:
        answer = self._read.get(id(row))
        if answer is None:
            base = self.base.decisions
            answer = read_override(
                row, self.pristine, self.base.rulebook.decisions, base.catalogue, base.policy
            )
            self._read[id(row)] = answer
        return answer

    def _count(self) -> Snapshot:
        decisions = list(self.session.decisions)
        start = time.perf_counter()
        self._rows += [d.as_row() for d in decisions[len(self._rows) :]]
        result = with_session(
            self.base, self._rows[: len(decisions)], read=self._read_once, pristine=self.pristine
        )
        seconds = time.perf_counter() - start
        seq = decisions[-1].seq if decisions else 0
        return Snapshot(seq, result, self.namer, seconds, shared=self._shared)

    def current(self) -> Snapshot:
        """The snapshot with every recorded decision applied (counted now if needed)."""
        with self._count_lock:
            if self._snapshot.seq != self.session.last_seq:
                self._snapshot = self._count()
            return self._snapshot

    def recommended_value(self, employee_id: str, field_name: str) -> str:
        """What the rules recommend for a field, as the form takes it (for 'accept')."""
        rec = self.pristine.get(employee_id)
        if rec is None:
            raise Refused(f"'{employee_id}' is not a person under review.", 404)
        return field_value(rec, self.base, field_name, decided=False)

    def validate(self, raw: Mapping[str, object], seq: int) -> dict[str, str]:
        """The decision's values as recorded (canonical field), or Refused: read as a row
        of the Overrides sheet and checked as one."""
        row, wrong = overrides_row(raw, seq, f"decision {seq}")
        if wrong:
            raise Refused(sentence([message for _, message in wrong]))
        decisions = self.base.rulebook.decisions
        catalogue, policy = self.base.decisions.catalogue, self.base.decisions.policy
        read = read_override(row, self.pristine, decisions, catalogue, policy)
        if isinstance(read, list):
            status = 404 if any("not a person under review" in m for _, m in read) else 400
            raise Refused(sentence([message for _, message in read]), status)
        return {
            "employee_id": read.employee_id,
            "field": read.field,
            "value": str(row.get("decision")),
            "reason": read.reason,
            "decided_by": read.decided_by,
        }

    def decide(
        self, raw: Mapping[str, object], against_seq: int | None
    ) -> tuple[SessionDecision, Snapshot]:
        """Validate, record (committed), and count: the decision and the new snapshot.
        StaleDecision when the person has a decision later than ``against_seq``."""
        values = self.validate(raw, self.session.last_seq + 1)
        decision = self.session.record(against_seq=against_seq, **values)
        return decision, self.current()

    def neighbours(self, employee_id: str) -> tuple[str | None, str | None]:
        """The people before and after ``employee_id`` (employee_id order)."""
        ids = [r.employee_id for r in self.base.results]
        at = ids.index(employee_id)
        return (ids[at - 1] if at > 0 else None, ids[at + 1] if at + 1 < len(ids) else None)


__all__ = [
    "ACCEPTED",
    "FIELDS",
    "PageNamer",
    "PanelState",
    "Refused",
    "Snapshot",
    "decided_values",
    "field_value",
    "sentence",
]
