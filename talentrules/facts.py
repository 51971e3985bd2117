"""Rows -> typed per-person facts, each with the cells it came from.

The rules read nothing but these facts: the vocabulary (``rules/vocabulary.yaml``)
names them, this module computes them from the ingested rows, in one pass per
sheet (rows are grouped by employee first). The Demographics sheet is never read.

Values: numbers are ``int`` when whole, else ``float``; enums are their canonical
strings; booleans; dates; ``None`` is unknown. Counts of rows are 0, never unknown,
when a person has no rows. Ages and spans are whole months (see ``whole_months``)
measured against the cycle's ``as_of``, never today's clock.

Provenance (``PersonFacts.cells``): a value read from one cell carries that cell,
blank or not (``Employees!N5``); a count carries the deciding cell of every row it
counted (``H-DEV.drained`` -> the ``energy`` cells of the drained rows); a derived
value carries every cell it was computed from (``tenure_months`` -> ``hire_date`` and
the Cycle's ``as_of``). A fact that came from no cell (a count of 0, a person with no
Evidence) is left out of ``cells``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from talentrules.contract import SIGNALS
from talentrules.errors import RulebookError
from talentrules.model import Cell, Panel, Row, Value
from talentrules.rulebook import FactSpec

Cells = tuple[str, ...]
# investment_code -> (track, mode), as in the Investments sheet or rules/catalogue.yaml
Catalogue = Mapping[str, tuple[str | None, str | None]]

STALE_MONTHS = 24  # evidence older than this is stale (shared/domain.md)
LEADERSHIP_COURSE_MODES = frozenset({"10"})
LEADERSHIP_EXPERIENCE_MODES = frozenset({"70", "70/20", "70/10"})
# A completed LEAD-PROG counts as a leadership course even when no catalogue lists it:
# it is the one code every panel uses for "the leadership programme".
FLAGSHIP_COURSE = "LEAD-PROG"

PERSON_NUMBERS = (
    "performance",
    "performance_prior_1",
    "performance_prior_2",
    "potential",
    "expertise",
    "policy_compliance",
    "direct_reports",
)
PERSON_ENUMS = (
    "readiness",
    "risk_of_loss",
    "impact_of_loss",
    "career_interest",
    "current_track",
)
SIGNAL_FACTS = (
    "episodes",
    "contexts",
    "sources",
    "non_self_sources",
    "months_spanned",
    "newest_age_months",
    "drained",
    "energised",
    "commitment",
    "self_initiated",
    "no_authority",
    "habitual_reports",
)
INFLUENCE = {
    "Position": "influence.position",
    "Expertise": "influence.expertise",
    "Personal": "influence.personal",
    "Rules and monitoring": "influence.rules",
}
OUTCOME = {
    "Commitment": "outcome.commitment",
    "Compliance": "outcome.compliance",
    "Resistance": "outcome.resistance",
}
NOMINATION = {
    "Position": "nominations.position",
    "Expertise": "nominations.expertise",
    "Personal": "nominations.personal",
}
TEAM = {
    "team_size": "team.size",
    "on_time_rate": "team.on_time_rate",
    "policy_incidents": "team.policy_incidents",
    "engagement": "team.engagement",
    "voluntary_attrition": "team.voluntary_attrition",
}
EVIDENCE_FACTS = (
    "evidence.episodes",
    "evidence.heart_episodes",
    "evidence.counter_episodes",
    "evidence.sources",
    "evidence.non_self_sources",
    "evidence.self_only",
    "evidence.newest_age_months",
    "evidence.fresh_heart_episodes",
    "evidence.stale_heart_episodes",
)
DEVELOPMENT_FACTS = (
    "development.leadership_courses_completed",
    "development.leadership_experience_completed",
    "development.active",
    "development.withdrawn",
)

# Every fact this module can compute, in a stable order (the vocabulary's order).
COMPUTED: tuple[str, ...] = (
    *PERSON_NUMBERS[:3],
    "performance_trend",
    *PERSON_NUMBERS[3:],
    *PERSON_ENUMS,
    "is_people_manager",
    "tenure_months",
    "months_in_role",
    "has_aspiration_statement",
    *EVIDENCE_FACTS,
    *INFLUENCE.values(),
    *OUTCOME.values(),
    *NOMINATION.values(),
    "nominations.total",
    "team.reported",
    *TEAM.values(),
    *DEVELOPMENT_FACTS,
    *(f"{code}.{fact}" for code in SIGNALS for fact in SIGNAL_FACTS),
)
# Number facts that may hold fractions (percentages); every other number is whole,
# which counterfactuals respect ("one more source", never "0.5 more").
FRACTIONAL = frozenset({"team.on_time_rate", "team.engagement", "team.voluntary_attrition"})


def is_whole(fact: str) -> bool:
    """True when a number fact only takes whole values (counts, months, ratings)."""
    return fact not in FRACTIONAL


@dataclass(frozen=True)
class PersonFacts:
    """Every vocabulary fact of one person, and the cells each came from."""

    employee_id: str
    values: dict[str, Value]  # fact -> value; None is unknown
    cells: dict[str, Cells]  # fact -> the cells it was computed from; none: left out


def whole_months(start: dt.date, end: dt.date) -> int:
    """Completed months from ``start`` to ``end`` (0 if ``end`` is not later).

    2025-01-15 -> 2026-01-14 is 11 months; -> 2026-01-15 is 12.
    """
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def _number(value: Value) -> int | float | None:
    """A number as int when whole, else float; anything else is unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _ref(row: Row, column: str) -> str:
    cell = row.cells.get(column)
    return cell.ref if cell is not None else f"{row.sheet}!row {row.number}"


def _group(rows: Iterable[Row], column: str) -> dict[str, list[Row]]:
    """Rows by the employee they are about, each group in sheet order."""
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        key = row.get(column)
        if isinstance(key, str):
            groups[key].append(row)
    for group in groups.values():
        group.sort(key=lambda r: r.number)
    return groups


def check_vocabulary(vocabulary: Mapping[str, FactSpec]) -> None:
    """Refuse a vocabulary fact this module cannot compute (it would always be unknown)."""
    known = set(COMPUTED)
    for name in vocabulary:
        if name not in known:
            close = difflib.get_close_matches(name, COMPUTED, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise RulebookError(
                f"vocabulary: fact '{name}' is not one talentrules computes from the workbook{hint}"
            )


def _blank() -> dict[str, Value]:
    """The facts of a person with no data: counts 0, everything else unknown."""
    values: dict[str, Value] = dict.fromkeys(COMPUTED)
    for code in SIGNALS:
        for fact in SIGNAL_FACTS:
            if fact != "newest_age_months":
                values[f"{code}.{fact}"] = 0
    for name in (
        *EVIDENCE_FACTS,
        *INFLUENCE.values(),
        *OUTCOME.values(),
        *NOMINATION.values(),
        "nominations.total",
        *DEVELOPMENT_FACTS,
    ):
        values[name] = 0
    values["evidence.self_only"] = None
    values["evidence.newest_age_months"] = None
    values["team.reported"] = False
    values["has_aspiration_statement"] = False
    return values


_BLANK_VALUES = _blank()


def blank_values(vocabulary: Mapping[str, FactSpec]) -> dict[str, Value]:
    """The value of each vocabulary fact for a person with no data at all."""
    check_vocabulary(vocabulary)
    return {name: _BLANK_VALUES[name] for name in vocabulary}


_EVIDENCE_COLUMNS = frozenset(
    (
        "signal",
        "observed_on",
        "context",
        "influence_base",
        "initiated_by",
        "frequency",
        "energy",
        "outcome_in_others",
        "source_type",
        "source_id",
    )
)


class _Episode:
    """One Evidence row, unpacked once: its values, and the row for its cells."""

    __slots__ = (
        "row",
        "cells",
        "signal",
        "observed_on",
        "context",
        "influence",
        "initiated_by",
        "frequency",
        "energy",
        "outcome",
        "self_reported",
        "source",
        "source_column",
    )

    def __init__(self, row: Row) -> None:
        cells = row.cells
        if not _EVIDENCE_COLUMNS <= cells.keys():
            # Ingest gives every contract column; anything else gets a cell per column,
            # so the counting below can index cells directly.
            cells = {
                column: cells.get(column) or Cell(None, f"{row.sheet}!row {row.number}")
                for column in _EVIDENCE_COLUMNS
            }
        self.cells = cells
        self.row = row
        self.signal = cells["signal"].value
        observed = cells["observed_on"].value
        self.observed_on = observed if isinstance(observed, dt.date) else None
        self.context = cells["context"].value
        self.influence = cells["influence_base"].value
        self.initiated_by = cells["initiated_by"].value
        self.frequency = cells["frequency"].value
        self.energy = cells["energy"].value
        self.outcome = cells["outcome_in_others"].value
        source_type = cells["source_type"].value
        self.self_reported = source_type == "Self"
        # An independent source: its source_id, else one per source_type.
        source_id = cells["source_id"].value
        self.source: tuple[str, object] | None
        if isinstance(source_id, str) and source_id.strip():
            self.source, self.source_column = ("id", source_id.strip()), "source_id"
        else:
            self.source = ("type", source_type) if source_type is not None else None
            self.source_column = "source_type"

    def ref(self, column: str) -> str:
        return self.cells[column].ref


class _Person:
    """Accumulates one person's values and cells, starting from the blank person (every
    fact at its blank value, no cells: each fact is set once, and only a fact that
    came from cells gets an entry in ``cells``)."""

    def __init__(self) -> None:
        self.values = _BLANK_VALUES.copy()
        self.cells: dict[str, Cells] = {}

    def set(self, fact: str, value: Value, cells: Cells) -> None:
        self.values[fact] = value
        if cells:
            self.cells[fact] = cells

    def count(self, fact: str, rows: list[Row], column: str) -> None:
        """A count of rows, carrying each row's ``column`` cell."""
        self.values[fact] = len(rows)
        if rows:
            self.cells[fact] = tuple(_ref(r, column) for r in rows)

    def episodes(self, fact: str, episodes: list[_Episode], column: str) -> None:
        """A count of evidence rows, carrying each row's ``column`` cell."""
        self.values[fact] = len(episodes)
        if episodes:
            self.cells[fact] = tuple([e.cells[column].ref for e in episodes])

    def sources(self, prefix: str, episodes: list[_Episode]) -> None:
        """``{prefix}.sources`` and ``{prefix}.non_self_sources``."""
        every: set[tuple[str, object]] = set()
        others: set[tuple[str, object]] = set()
        refs: list[str] = []
        other_refs: list[str] = []
        for e in episodes:
            if e.source is None:
                continue
            ref = e.ref(e.source_column)
            every.add(e.source)
            refs.append(ref)
            if not e.self_reported:
                others.add(e.source)
                other_refs.append(ref)
        self.set(f"{prefix}.sources", len(every), tuple(refs))
        self.set(f"{prefix}.non_self_sources", len(others), tuple(other_refs))


def _employee(person: _Person, row: Row, as_of: dt.date | None, as_of_ref: Cells) -> None:
    for name in PERSON_NUMBERS:
        person.set(name, _number(row.get(name)), (_ref(row, name),))
    for name in PERSON_ENUMS:
        value = row.get(name)
        person.set(name, value if isinstance(value, str) else None, (_ref(row, name),))
    manager = row.get("is_people_manager")
    person.set(
        "is_people_manager",
        manager if isinstance(manager, bool) else None,
        (_ref(row, "is_people_manager"),),
    )
    current, prior = person.values["performance"], person.values["performance_prior_1"]
    trend = current - prior if isinstance(current, int) and isinstance(prior, int) else None
    person.set(
        "performance_trend",
        trend,
        (_ref(row, "performance"), _ref(row, "performance_prior_1")),
    )
    for fact, column in (("tenure_months", "hire_date"), ("months_in_role", "date_in_role")):
        start = row.get(column)
        months = (
            whole_months(start, as_of) if isinstance(start, dt.date) and as_of is not None else None
        )
        person.set(fact, months, (_ref(row, column), *as_of_ref))
    statement = row.get("aspiration_statement")
    person.set(
        "has_aspiration_statement",
        isinstance(statement, str) and bool(statement.strip()),
        (_ref(row, "aspiration_statement"),),
    )


# CODE.fact names, built once: this runs for every signal of every person.
_SIGNAL_NAMES = {code: {fact: f"{code}.{fact}" for fact in SIGNAL_FACTS} for code in SIGNALS}
_SIGNAL_COUNTS = (
    ("drained", "energy", "Drained"),
    ("energised", "energy", "Energised"),
    ("commitment", "outcome_in_others", "Commitment"),
    ("self_initiated", "initiated_by", "Self"),
    ("no_authority", "context", "No formal authority"),
    ("habitual_reports", "frequency", "Habitual"),
)


def _signal(
    person: _Person,
    code: str,
    episodes: list[_Episode],
    as_of: dt.date | None,
    as_of_ref: Cells,
) -> None:
    """Every CODE.* fact, in one pass over the signal's rows (this runs for every
    signal of every person, so it is written for speed)."""
    names = _SIGNAL_NAMES[code]
    values, cells = person.values, person.cells
    contexts: set[object] = set()
    every: set[object] = set()
    others: set[object] = set()
    signal_refs: list[str] = []
    context_refs: list[str] = []
    source_refs: list[str] = []
    other_refs: list[str] = []
    counted: tuple[list[str], ...] = ([], [], [], [], [], [])
    drained, energised, commitment, self_initiated, no_authority, habitual = counted
    oldest = newest = episodes[0]
    first: dt.date | None = None
    last: dt.date | None = None
    for e in episodes:
        c = e.cells
        signal_refs.append(c["signal"].ref)
        if e.context is not None:
            contexts.add(e.context)
            context_refs.append(c["context"].ref)
            if e.context == "No formal authority":
                no_authority.append(c["context"].ref)
        if e.source is not None:
            ref = c[e.source_column].ref
            every.add(e.source)
            source_refs.append(ref)
            if not e.self_reported:
                others.add(e.source)
                other_refs.append(ref)
        observed = e.observed_on
        if observed is not None:
            # Ties on the date go to the earlier row, so the cells never depend on luck.
            if first is None or observed < first:
                first, oldest = observed, e
            if last is None or observed > last:
                last, newest = observed, e
        if e.energy == "Drained":
            drained.append(c["energy"].ref)
        elif e.energy == "Energised":
            energised.append(c["energy"].ref)
        if e.outcome == "Commitment":
            commitment.append(c["outcome_in_others"].ref)
        if e.initiated_by == "Self":
            self_initiated.append(c["initiated_by"].ref)
        if e.frequency == "Habitual":
            habitual.append(c["frequency"].ref)
    values[names["episodes"]] = len(episodes)
    cells[names["episodes"]] = tuple(signal_refs)
    values[names["contexts"]] = len(contexts)
    if context_refs:
        cells[names["contexts"]] = tuple(context_refs)
    values[names["sources"]] = len(every)
    if source_refs:
        cells[names["sources"]] = tuple(source_refs)
    values[names["non_self_sources"]] = len(others)
    if other_refs:
        cells[names["non_self_sources"]] = tuple(other_refs)
    if first is not None and last is not None:
        values[names["months_spanned"]] = whole_months(first, last)
        cells[names["months_spanned"]] = tuple(
            dict.fromkeys((oldest.ref("observed_on"), newest.ref("observed_on")))
        )
        if as_of is not None:
            values[names["newest_age_months"]] = whole_months(last, as_of)
            cells[names["newest_age_months"]] = (newest.ref("observed_on"), *as_of_ref)
    for (fact, _, _), refs in zip(_SIGNAL_COUNTS, counted, strict=True):
        values[names[fact]] = len(refs)
        if refs:
            cells[names[fact]] = tuple(refs)


def _evidence(person: _Person, rows: list[Row], as_of: dt.date | None, as_of_ref: Cells) -> None:
    episodes = [_Episode(row) for row in rows]
    by_signal: dict[str, list[_Episode]] = defaultdict(list)
    for e in episodes:
        if isinstance(e.signal, str):
            by_signal[e.signal].append(e)
    for code, group in by_signal.items():
        if code in SIGNALS:
            _signal(person, code, group, as_of, as_of_ref)
    heart = [e for code, group in by_signal.items() if code.startswith("H-") for e in group]
    heart.sort(key=lambda e: e.row.number)
    person.episodes("evidence.episodes", episodes, "signal")
    person.episodes("evidence.heart_episodes", heart, "signal")
    person.episodes(
        "evidence.counter_episodes",
        [e for e in episodes if isinstance(e.signal, str) and e.signal.startswith("C-")],
        "signal",
    )
    person.sources("evidence", episodes)
    person.set(
        "evidence.self_only",
        all(e.self_reported for e in episodes),
        tuple(e.ref("source_type") for e in episodes),
    )
    dated = [e for e in episodes if e.observed_on is not None]
    if as_of is not None:
        if dated:
            newest = max(dated, key=lambda e: (e.observed_on, -e.row.number))
            assert newest.observed_on is not None
            person.set(
                "evidence.newest_age_months",
                whole_months(newest.observed_on, as_of),
                (newest.ref("observed_on"), *as_of_ref),
            )
        fresh: list[_Episode] = []
        stale: list[_Episode] = []
        for e in heart:
            if e.observed_on is not None:
                old = whole_months(e.observed_on, as_of) > STALE_MONTHS
                (stale if old else fresh).append(e)
        person.episodes("evidence.fresh_heart_episodes", fresh, "observed_on")
        person.episodes("evidence.stale_heart_episodes", stale, "observed_on")
    else:
        for fact in ("evidence.fresh_heart_episodes", "evidence.stale_heart_episodes"):
            person.set(fact, None, ())
    influence: dict[object, list[_Episode]] = {wanted: [] for wanted in INFLUENCE}
    outcome: dict[object, list[_Episode]] = {wanted: [] for wanted in OUTCOME}
    for e in episodes:
        if e.influence in influence:
            influence[e.influence].append(e)
        if e.outcome in outcome:
            outcome[e.outcome].append(e)
    for wanted, fact in INFLUENCE.items():
        person.episodes(fact, influence[wanted], "influence_base")
    for wanted, fact in OUTCOME.items():
        person.episodes(fact, outcome[wanted], "outcome_in_others")


def _nominations(person: _Person, employee_id: str, rows: list[Row]) -> None:
    # Naming oneself as an inspiration says nothing about inspiring others.
    rows = [r for r in rows if r.get("nominator_id") != employee_id]
    for reason, fact in NOMINATION.items():
        counted = [r for r in rows if r.get("reason") == reason]
        person.set(
            fact,
            len({r.get("nominator_id") for r in counted}),
            tuple(_ref(r, "reason") for r in counted),
        )
    person.set(
        "nominations.total",
        len({r.get("nominator_id") for r in rows}),
        tuple(_ref(r, "nominator_id") for r in rows),
    )


def _team(person: _Person, row: Row) -> None:
    person.set("team.reported", True, (_ref(row, "manager_id"),))
    for column, fact in TEAM.items():
        person.set(fact, _number(row.get(column)), (_ref(row, column),))


def _development(person: _Person, rows: list[Row], catalogue: Catalogue) -> None:
    courses: list[Row] = []
    experience: list[Row] = []
    for row in rows:
        if row.get("status") != "Completed":
            continue
        code = row.get("investment_code")
        entry = catalogue.get(code) if isinstance(code, str) else None
        if entry is None:
            if code == FLAGSHIP_COURSE:
                courses.append(row)
            continue
        track, mode = entry
        if track == "Leadership" and mode in LEADERSHIP_COURSE_MODES:
            courses.append(row)
        elif track == "Leadership" and mode in LEADERSHIP_EXPERIENCE_MODES:
            experience.append(row)
    person.count("development.leadership_courses_completed", courses, "investment_code")
    person.count("development.leadership_experience_completed", experience, "investment_code")
    person.count("development.active", [r for r in rows if r.get("status") == "Active"], "status")
    person.count(
        "development.withdrawn", [r for r in rows if r.get("status") == "Withdrawn"], "status"
    )


def catalogue_from_panel(panel: Panel) -> dict[str, tuple[str | None, str | None]]:
    """The workbook's own catalogue (Investments sheet): code -> (track, mode)."""
    catalogue: dict[str, tuple[str | None, str | None]] = {}
    for row in panel.rows.get("Investments", []):
        code, track, mode = row.get("investment_code"), row.get("track"), row.get("mode")
        if isinstance(code, str):
            catalogue[code] = (
                track if isinstance(track, str) else None,
                mode if isinstance(mode, str) else None,
            )
    return catalogue


def load_catalogue(path: Path) -> dict[str, tuple[str | None, str | None]]:
    """The rulebook's default catalogue (``rules/catalogue.yaml``): code -> (track, mode)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulebookError(f"{path}: cannot read the catalogue: {error}") from error
    entries = data.get("investments") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RulebookError(f"{path}: no 'investments:' list")
    catalogue: dict[str, tuple[str | None, str | None]] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("code"), str):
            track, mode = entry.get("track"), entry.get("mode")
            catalogue[entry["code"]] = (
                track if isinstance(track, str) else None,
                str(mode) if mode is not None else None,
            )
    return catalogue


def _as_of_cells(panel: Panel, as_of: dt.date | None) -> Cells:
    """Where ``as_of`` came from: the Cycle's cell, else the Evidence date ingest fell back to."""
    cycle = panel.cycle
    if cycle is not None and isinstance(cycle.get("as_of"), dt.date):
        return (_ref(cycle, "as_of"),)
    if as_of is None:
        return ()
    latest = [r for r in panel.rows.get("Evidence", []) if r.get("observed_on") == as_of]
    return (_ref(min(latest, key=lambda r: r.number), "observed_on"),) if latest else ()


def compute_facts(
    panel: Panel,
    vocabulary: Mapping[str, FactSpec],
    catalogue: Catalogue | None = None,
) -> list[PersonFacts]:
    """Every person's vocabulary facts, sorted by employee_id.

    ``catalogue`` (code -> (track, mode)) is the rulebook's default catalogue; the
    workbook's Investments sheet replaces it when that sheet has rows. Only the
    Employees, Cycle, Evidence, Nominations, Teams, Development and Investments
    sheets are read: never Demographics.
    """
    check_vocabulary(vocabulary)
    as_of = panel.as_of
    as_of_ref = _as_of_cells(panel, as_of)
    workbook_catalogue = catalogue_from_panel(panel)
    used_catalogue: Catalogue = workbook_catalogue or catalogue or {}
    evidence = _group(panel.rows.get("Evidence", []), "employee_id")
    nominations = _group(panel.rows.get("Nominations", []), "nominee_id")
    teams = _group(panel.rows.get("Teams", []), "manager_id")
    development = _group(panel.rows.get("Development", []), "employee_id")
    wanted = list(vocabulary)
    everything = len(wanted) == len(COMPUTED) and set(wanted) == set(COMPUTED)

    people: list[PersonFacts] = []
    for row in panel.rows.get("Employees", []):
        employee_id = row.get("employee_id")
        if not isinstance(employee_id, str):
            continue
        person = _Person()
        _employee(person, row, as_of, as_of_ref)
        if employee_id in evidence:
            _evidence(person, evidence[employee_id], as_of, as_of_ref)
        if employee_id in nominations:
            _nominations(person, employee_id, nominations[employee_id])
        if employee_id in teams:
            # Teams has one row per manager (the contract's unique key).
            _team(person, teams[employee_id][0])
        if employee_id in development:
            _development(person, development[employee_id], used_catalogue)
        if everything:
            values, cells = person.values, person.cells
        else:
            values = {name: person.values[name] for name in wanted}
            cells = {name: person.cells[name] for name in wanted if name in person.cells}
        people.append(PersonFacts(employee_id, values, cells))
    people.sort(key=lambda p: p.employee_id)
    return people


def _typed(spec: FactSpec, value: object, where: str) -> Value:
    """Check a rule test's value against the fact's declared type."""
    if value is None:
        return None
    if spec.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RulebookError(f"{where}: {spec.name} is a number, not {value!r}")
        if (spec.minimum is not None and value < spec.minimum) or (
            spec.maximum is not None and value > spec.maximum
        ):
            raise RulebookError(
                f"{where}: {spec.name} = {value} is outside {spec.minimum:g}..{spec.maximum:g}"
                if spec.minimum is not None and spec.maximum is not None
                else f"{where}: {spec.name} = {value} is out of range"
            )
        return _number(value)
    if spec.type == "enum":
        if value not in spec.values:
            raise RulebookError(
                f"{where}: {spec.name} is one of {', '.join(spec.values)}, not {value!r}"
            )
        return str(value)
    if spec.type == "boolean":
        if not isinstance(value, bool):
            raise RulebookError(f"{where}: {spec.name} is true or false, not {value!r}")
        return value
    if spec.type == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as error:
            raise RulebookError(
                f"{where}: {spec.name} is a date (YYYY-MM-DD), not {value!r}"
            ) from error
    return str(value)


def facts_from_mapping(
    employee_id: str,
    mapping: Mapping[str, object],
    vocabulary: Mapping[str, FactSpec],
    where: str = "facts",
) -> PersonFacts:
    """A made-up person for a rule test: the given facts over a person with no data.

    Facts not given take their value for a person with no data (counts 0, the rest
    unknown); ``None`` makes a fact unknown. ``where`` names the place in errors
    (``rules/tests/heart.yaml:12``).
    """
    values = blank_values(vocabulary)
    for name, value in mapping.items():
        spec = vocabulary.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, list(vocabulary), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise RulebookError(f"{where}: unknown fact '{name}'{hint}")
        values[name] = _typed(spec, value, where)
    return PersonFacts(employee_id, values, {})
