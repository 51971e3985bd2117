"""A made-up person, described as a panel's workbook describes people, and their facts.

Rule tests may describe their person the way the panel sees people (rules/tests,
``person:``; the workbook's Tests sheets): Employees values (ratings, readiness,
career interest, hire date or tenure ...), the team's figures, and rows of evidence,
nominations and development, each with the columns of the review workbook. Every
value is read by the workbook reader's own parser for its column (so "Exceeds" is a
performance of 4, as in a workbook), the rows become a one-person panel, and
``talentrules.facts`` derives every fact from it through the rulebook's row sets and
parameters, exactly as for a real workbook. Nothing here knows a fact's name: which
rows count for what is the vocabulary's.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900

from talentrules.contract import DEVELOPMENT, EMPLOYEES, EVIDENCE, NOMINATIONS, TEAMS, Column, Sheet
from talentrules.errors import RulebookError
from talentrules.facts import Catalogue, PersonFacts, compute_facts
from talentrules.ingest.values import Invalid, parser_for
from talentrules.model import Cell, Panel, Row, Value
from talentrules.vocabulary import FactSpec

PERSON_ID = "P-TEST"  # the made-up person's employee_id, unless the test gives one
DEFAULT_AS_OF = dt.date(2026, 1, 1)  # the cycle's date, when the test gives no date at all
AS_OF = "as_of"
TEAM = "team"
# Conveniences: whole months before as_of, instead of a date.
TENURE = {"tenure_months": "hire_date", "months_in_role": "date_in_role"}
MONTHS_AGO = "months_ago"  # an evidence row observed this many whole months before as_of

# The Employees columns a person may give (the id and name are the test's own).
EMPLOYEE_FIELDS: tuple[str, ...] = tuple(
    c.name for c in EMPLOYEES.columns if c.name not in ("employee_id", "full_name")
)
TEAM_FIELDS: tuple[str, ...] = tuple(c.name for c in TEAMS.columns if c.name != "manager_id")
# The rows a person may have, by the key they are written under: sheet, the column
# naming the person, and the columns the test may leave out.
ROW_SHEETS: dict[str, Sheet] = {
    "evidence": EVIDENCE,
    "nominations": NOMINATIONS,
    "development": DEVELOPMENT,
}
_PERSON_COLUMN = {
    "evidence": "employee_id",
    "nominations": "nominee_id",
    "development": "employee_id",
}
ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "evidence": (
        "signal",
        MONTHS_AGO,
        *(
            c.name
            for c in EVIDENCE.columns
            if c.name not in ("evidence_id", "employee_id", "signal")
        ),
    ),
    "nominations": tuple(c.name for c in NOMINATIONS.columns if c.name != "nominee_id"),
    "development": tuple(c.name for c in DEVELOPMENT.columns if c.name != "employee_id"),
}
PERSON_KEYS = (AS_OF, "employee_id", *EMPLOYEE_FIELDS, *TENURE, TEAM, *ROW_SHEETS)


@dataclass(frozen=True)
class Given:
    """One value a test wrote, and where (``rules/tests/heart.yaml:12``, ``Tests!D5``)."""

    value: object  # as YAML (or a cell) gave it: text, a number, true/false, a date
    where: str


@dataclass
class PersonSpec:
    """A made-up person as a test describes them."""

    values: dict[str, Given] = field(default_factory=dict)  # Employees values, as_of, ...
    team: dict[str, Given] | None = None
    rows: dict[str, list[dict[str, Given]]] = field(default_factory=dict)  # evidence, ...
    where: str = ""


def _typed(column: Column, given: Given, signals: Sequence[str]) -> Value:
    if column.name == "signal":
        column = Column(column.name, "enum", column.help, values={s: () for s in signals})
    parse = parser_for(column, CALENDAR_WINDOWS_1900)
    value = given.value
    raw = value.isoformat() if isinstance(value, dt.date) else value
    parsed = parse(raw, "General")
    if isinstance(parsed, Invalid):
        hint = f"; did you mean '{parsed.suggestion}'?" if parsed.suggestion else ""
        raise RulebookError(f"{given.where}: {parsed.message}{hint}")
    return parsed


def _months_before(as_of: dt.date, given: Given) -> dt.date:
    months = given.value
    if isinstance(months, bool) or not isinstance(months, int | float) or months < 0:
        raise RulebookError(f"{given.where}: a whole number of months (at least 0), not {months!r}")
    if not float(months).is_integer():
        raise RulebookError(f"{given.where}: a whole number of months, not {months!r}")
    total = as_of.year * 12 + (as_of.month - 1) - int(months)
    year, month = divmod(total, 12)
    day = min(as_of.day, _days_in(year, month + 1))
    return dt.date(year, month + 1, day)


def _days_in(year: int, month: int) -> int:
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day


def _dated(spec: PersonSpec) -> list[Given]:
    dates = [spec.values[k] for k in ("hire_date", "date_in_role") if k in spec.values]
    for rows in spec.rows.values():
        for row in rows:
            dates += [row[k] for k in ("observed_on", "started", "ended") if k in row]
    return dates


def _as_of(spec: PersonSpec) -> tuple[dt.date, str]:
    given = spec.values.get(AS_OF)
    if given is None:
        dated = _dated(spec)
        if dated:
            raise RulebookError(
                f"{dated[0].where}: a person with dates needs as_of (the cycle's date every "
                "'months ago' is measured from), or write months (tenure_months, "
                "months_ago) instead of dates"
            )
        return DEFAULT_AS_OF, spec.where
    column = Column(AS_OF, "date", "the cycle's as_of")
    value = _typed(column, given, ())
    assert isinstance(value, dt.date)
    return value, given.where


def _row(
    sheet: Sheet,
    number: int,
    given: Mapping[str, Given],
    extra: Mapping[str, tuple[Value, str]],
    signals: Sequence[str],
) -> Row:
    cells: dict[str, Cell] = {}
    for column in sheet.columns:
        if column.name in extra:
            value, ref = extra[column.name]
            cells[column.name] = Cell(value, ref)
        elif column.name in given:
            item = given[column.name]
            cells[column.name] = Cell(_typed(column, item, signals), item.where)
        else:
            cells[column.name] = Cell(None, f"{sheet.name}!row {number}")
    return Row(sheet.name, number, cells)


def _check_keys(given: Mapping[str, Given], allowed: Sequence[str], what: str) -> None:
    for key, item in given.items():
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise RulebookError(
                f"{item.where}: {what} has no '{key}'{hint} (it takes {', '.join(allowed)})"
            )


def person_facts(
    name: str,
    spec: PersonSpec,
    vocabulary: Mapping[str, FactSpec],
    catalogue: Catalogue | None,
    signals: Sequence[str],
) -> PersonFacts:
    """The facts of the person ``spec`` describes, derived as from a workbook."""
    _check_keys(spec.values, PERSON_KEYS, "a person")  # team and rows are in spec.team, .rows
    as_of, as_of_where = _as_of(spec)
    person_id = str(spec.values["employee_id"].value) if "employee_id" in spec.values else PERSON_ID
    employee = {k: v for k, v in spec.values.items() if k in EMPLOYEE_FIELDS}
    for months, column in TENURE.items():
        if months in spec.values:
            if column in employee:
                raise RulebookError(
                    f"{spec.values[months].where}: give {months} or {column}, not both"
                )
            employee[column] = Given(
                _months_before(as_of, spec.values[months]), spec.values[months].where
            )
    extra: dict[str, tuple[Value, str]] = {
        "employee_id": (person_id, spec.where),
        "full_name": (name, spec.where),
    }
    rows: dict[str, Sequence[Row]] = {
        "Cycle": [Row("Cycle", 2, {AS_OF: Cell(as_of, as_of_where)})],
        "Employees": [_row(EMPLOYEES, 2, employee, extra, signals)],
    }
    if spec.team is not None:
        _check_keys(spec.team, TEAM_FIELDS, "a team")
        team_extra = {"manager_id": (person_id, spec.where)}
        rows["Teams"] = [_row(TEAMS, 2, spec.team, team_extra, signals)]
    for key, sheet in ROW_SHEETS.items():
        found: list[Row] = []
        for number, given in enumerate(spec.rows.get(key, []), start=2):
            _check_keys(given, ROW_FIELDS[key], f"a {key} row")
            given = dict(given)
            if MONTHS_AGO in given:
                if "observed_on" in given:
                    raise RulebookError(
                        f"{given[MONTHS_AGO].where}: give months_ago or observed_on, not both"
                    )
                ago = given.pop(MONTHS_AGO)
                given["observed_on"] = Given(_months_before(as_of, ago), ago.where)
            row_extra: dict[str, tuple[Value, str]] = {_PERSON_COLUMN[key]: (person_id, spec.where)}
            if key == "evidence":
                row_extra["evidence_id"] = (f"EV-{number - 1}", spec.where)
            if key == "nominations" and "nominator_id" not in given:
                # Each nomination from a different colleague, unless the test says who.
                row_extra["nominator_id"] = (f"N-{number - 1}", spec.where)
            for needed in sheet.columns:
                if needed.needed and needed.name not in given and needed.name not in row_extra:
                    where = next(iter(given.values())).where if given else spec.where
                    raise RulebookError(
                        f"{where}: a {key} row needs {needed.name} ({needed.allowed})"
                    )
            found.append(_row(sheet, number, given, row_extra, signals))
        rows[sheet.name] = found
    panel = Panel(
        path=Path(name),
        sha256="",
        size=0,
        rows=rows,
        problems=[],
        accounts=[],
        rejected=[],
        ignored_sheets=[],
        found={},
    )
    (person,) = compute_facts(panel, vocabulary, catalogue)
    return person
