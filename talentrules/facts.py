"""Rows -> typed per-person facts, each with the cells it came from.

The rules read nothing but these facts: the vocabulary (``rules/vocabulary.yaml``,
read by ``talentrules.vocabulary``) names them. What the Employees and Teams rows say
is computed here in code (``COMPUTED``); every evidence, nomination and development
fact is derived as the vocabulary declares it: a measure (count, distinct, months,
percent) over a named row set (``observed``: reported by others, not stale), so which
rows count for what is data a panel can read; and a fact with a ``formula`` is
computed from the person's other facts (``performance_trend``), last. Rows are
grouped by employee first; the Demographics sheet is never read.

Values: numbers are ``int`` when whole, else ``float``; enums are their canonical
strings; booleans; dates; ``None`` is unknown. Counts of rows are 0, never unknown,
when a person has no rows. Ages and spans are whole months (see ``whole_months``)
measured against the cycle's ``as_of``, never today's clock.

Provenance (``PersonFacts.cells``): a value read from one cell carries that cell,
blank or not (``Employees!N5``); a count carries the deciding cell of every row it
counted (``H-DEV.drained`` -> the ``energy`` cells of the drained rows); a derived
value carries every cell it was computed from (``tenure_months`` -> ``hire_date`` and
the Cycle's ``as_of``; a formula's fact, the cells of the facts it reads). A fact
that came from no cell (a count of 0, a person with no Evidence) is left out of
``cells``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
from collections import ChainMap, defaultdict
from collections.abc import (
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple, cast

import yaml

from talentrules import rulefiles
from talentrules.errors import RulebookError
from talentrules.model import Panel, Row, Value
from talentrules.rulefiles import Report, RuleFiles, where
from talentrules.vocabulary import (
    UNKNOWN_WITHOUT_ROWS,
    Derivation,
    FactSpec,
    RowTest,
    formula_facts,
    reads_through,
)

CATALOGUE_FILE = "catalogue.yaml"  # the rulebook's default investment catalogue

Cells = tuple[str, ...]
# investment_code -> (track, mode), as in the Investments sheet or rules/catalogue.yaml
Catalogue = Mapping[str, tuple[str | None, str | None]]

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
TEAM = {
    "team_size": "team.size",
    "on_time_rate": "team.on_time_rate",
    "policy_incidents": "team.policy_incidents",
    "engagement": "team.engagement",
    "voluntary_attrition": "team.voluntary_attrition",
}

# Every fact this module computes in code: what the Employees and Teams rows say. All
# the others (evidence, nominations, development) are derived from rows as
# vocabulary.yaml declares them, so which rows count for what is data, or computed
# from other facts by the formula it declares.
COMPUTED: tuple[str, ...] = (
    *PERSON_NUMBERS,
    *PERSON_ENUMS,
    "is_people_manager",
    "tenure_months",
    "months_in_role",
    "has_aspiration_statement",
    "team.reported",
    *TEAM.values(),
)
# The column whose cell a count of rows carries when the fact's own tests name none.
KEY_COLUMN = {"Evidence": "signal", "Development": "investment_code", "Nominations": "reason"}


def is_whole(spec: FactSpec) -> bool:
    """True when a number fact only takes whole values (counts, months, ratings)."""
    return spec.whole


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
    try:
        return row.ref(column)
    except KeyError:  # a column the sheet does not have
        return f"{row.sheet}!row {row.number}"


def uncomputable(spec: FactSpec) -> str | None:
    """Why a declared fact would always be unknown (None when it can be computed)."""
    if spec.derivation is not None or spec.formula is not None or spec.name in COMPUTED:
        return None
    close = difflib.get_close_matches(spec.name, COMPUTED, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return (
        f"fact '{spec.name}' is not one talentrules computes from the workbook{hint} "
        "(declare how it is derived: 'rows' and 'measure', or a 'formula' over other facts; "
        "see docs/rules.md)"
    )


def check_vocabulary(vocabulary: Mapping[str, FactSpec]) -> None:
    """Refuse a vocabulary fact that cannot be computed (it would always be unknown)."""
    for spec in vocabulary.values():
        problem = uncomputable(spec)
        if problem is not None:
            place = where(spec.file, spec.line) if spec.file else "vocabulary"
            raise RulebookError(f"{place}: {problem}")


def _blank_person() -> dict[str, Value]:
    values: dict[str, Value] = dict.fromkeys(COMPUTED)
    values["team.reported"] = False
    values["has_aspiration_statement"] = False
    return values


_BLANK_PERSON = _blank_person()


def blank_value(spec: FactSpec) -> Value:
    """The fact's value for a person with no data: counts of rows are 0, the rest unknown
    (a formula's fact: see ``blank_values``, which computes it from the others)."""
    if spec.derivation is not None:
        return None if spec.derivation.measure in UNKNOWN_WITHOUT_ROWS else 0
    return _BLANK_PERSON.get(spec.name)


def blank_values(vocabulary: Mapping[str, FactSpec]) -> dict[str, Value]:
    """The value of each vocabulary fact for a person with no data at all."""
    check_vocabulary(vocabulary)
    values = {name: blank_value(spec) for name, spec in vocabulary.items()}
    values.update(follow_formulas(values, formula_facts(vocabulary), values))
    return values


def follow_formulas(
    values: Mapping[str, Value],
    formulas: Iterable[FactSpec],
    changed: Mapping[str, Value],
    given: Collection[str] = (),
) -> dict[str, Value]:
    """A person's facts computed by ``formulas`` (in the order ``formula_facts`` gives)
    that read a fact ``changed`` sets, directly or through another formula, computed
    again over ``changed`` and the person's ``values``; a fact in ``given`` keeps its
    value (it was set as given)."""
    found: dict[str, Value] = {}
    moved = set(changed)
    # Only read: each formula sees what is found so far, over the changes, over values.
    seen = ChainMap(found, cast("MutableMapping[str, Value]", changed))
    seen.maps.append(cast("MutableMapping[str, Value]", values))
    for spec in formulas:
        formula = spec.formula
        if formula is None or spec.name in given or moved.isdisjoint(formula.reads):
            continue
        found[spec.name] = formula.value(seen)
        moved.add(spec.name)
    return found


# --------------------------------------------------------------------------------------
# Rows as derivations read them: each row's values, its derived columns, and its cells
# --------------------------------------------------------------------------------------


class _Line:
    """One row as row tests read it: contract values plus derived columns, where each
    came from, and which of the plan's row tests it passes (a bit each)."""

    __slots__ = ("values", "row", "cites", "refs", "number", "passed")

    def __init__(
        self,
        row: Row,
        extra: dict[str, Value],
        cites: dict[str, str],
        values: dict[str, Value] | None = None,
    ) -> None:
        """``extra``: the derived columns' values; ``cites``: for each, the row's
        column whose cell it cites; ``values``: ``row.values()``, when the caller read
        them already (the line keeps and extends that dict)."""
        self.values: dict[str, Value] = row.values() if values is None else values
        if extra:
            self.values.update(extra)
        self.row, self.cites, self.number = row, cites, row.number
        # Each cell's ref, made when a measure first cites it (the facts over a row
        # cite its key cell many times, most of its other cells never).
        self.refs: dict[str, str] = {}
        self.passed = 0

    def ref(self, column: str) -> str:
        ref = self.refs.get(column)
        if ref is None:
            cited = self.cites.get(column)
            if cited is not None:
                ref = _ref(self.row, cited) or f"row {self.number}"
            else:
                try:
                    ref = self.row.ref(column) or f"row {self.number}"
                except KeyError:  # a column the sheet does not have
                    ref = f"row {self.number}"
            self.refs[column] = ref
        return ref


def _evidence_line(row: Row, as_of: dt.date | None) -> _Line:
    values = row.values()  # read once: the line keeps them (``Row.get`` thrice cost more)
    get = values.get
    observed = get("observed_on")
    age = (
        whole_months(observed, as_of)
        if isinstance(observed, dt.date) and as_of is not None
        else None
    )
    # An independent source: its source_id, else one per source_type.
    source_id = get("source_id")
    if isinstance(source_id, str) and source_id.strip():
        source: Value = f"id:{source_id.strip()}"
        cites = _CITES_SOURCE_ID
    else:
        source_type = get("source_type")
        source = f"type:{source_type}" if source_type is not None else None
        cites = _CITES_SOURCE_TYPE
    values["age_months"], values["source"] = age, source  # its derived columns
    return _Line(row, _NO_EXTRA, cites, values)


_NO_EXTRA: dict[str, Value] = {}  # (never changed)


# What an Evidence line's derived columns cite (shared: a line only reads its ``cites``).
_CITES_SOURCE_ID = {"age_months": "observed_on", "source": "source_id"}
_CITES_SOURCE_TYPE = {"age_months": "observed_on", "source": "source_type"}


def _development_line(row: Row, catalogue: Catalogue) -> _Line:
    # The investment's track and mode: the Investments sheet's columns, joined by code.
    code = row.get("investment_code")
    track, mode = catalogue.get(code, (None, None)) if isinstance(code, str) else (None, None)
    extra: dict[str, Value] = {"track": track, "mode": mode}
    return _Line(row, extra, dict.fromkeys(extra, "investment_code"))  # both cite the code


def _nomination_line(row: Row, employee_id: str) -> _Line:
    by_self = row.get("nominator_id") == employee_id
    return _Line(row, {"nominator_is_person": by_self}, _NOMINATION_CITES)


_NOMINATION_CITES = {"nominator_is_person": "nominator_id"}


RowCheck = Callable[[Mapping[str, object]], bool]


@dataclass(frozen=True, slots=True)
class _Group:
    """The derived facts that read exactly the same rows, and how to pick those rows."""

    sheet: str
    member: str | None  # a family's signal code: only that signal's rows
    need: int  # the bits of the row tests every row must pass
    facts: tuple[tuple[str, Measure], ...]  # each fact's name and measure
    reads: int  # the bits of every row test its facts read: ``need`` and ``matching``'s


class _Plan:
    """The derived facts of a vocabulary, grouped by the rows they read, built once per
    run; every distinct row test gets a bit, so each row is tested once per test."""

    def __init__(self, vocabulary: Mapping[str, FactSpec]) -> None:
        bits: dict[RowTest, int] = {}
        # Per sheet, per column tested: the tests on it (each reads its column alone),
        # and the bits of those a value passes, by the value (``test``).
        self.checks: dict[str, dict[str, _Column]] = {}

        def mask(sheet: str, tests: tuple[RowTest, ...]) -> int:
            found = 0
            for test in tests:
                if test not in bits:
                    bits[test] = 1 << len(bits)
                    column = self.checks.setdefault(sheet, {}).setdefault(test.column, ([], {}))
                    column[0].append((bits[test], test.passes()))
                found |= bits[test]
            return found

        grouped: dict[tuple[str, str | None, int], list[tuple[str, Measure]]] = defaultdict(list)
        reads: dict[tuple[str, str | None, int], int] = defaultdict(int)
        for spec in vocabulary.values():
            derivation = spec.derivation
            if derivation is not None:
                sheet = derivation.rows.sheet
                key = (sheet, derivation.member, mask(sheet, derivation.tests))
                matching = mask(sheet, derivation.matching)
                grouped[key].append((spec.name, _measurer(spec, derivation, matching)))
                reads[key] |= key[2] | matching
        self.groups = tuple(
            _Group(sheet, member, need, tuple(facts), reads[sheet, member, need])
            for (sheet, member, need), facts in grouped.items()
        )
        self.sheets = {group.sheet for group in self.groups}
        # ``checks`` flattened per sheet, (column, tests, bits by value), for ``test``
        self.columns = {
            sheet: tuple((column, checks, known) for column, (checks, known) in columns.items())
            for sheet, columns in self.checks.items()
        }
        # ``groups`` as plain tuples, (member, sheet, need, facts), for ``_derive``'s loop
        self.steps = tuple((g.member, g.sheet, g.need, g.facts) for g in self.groups)
        # Where each group is in ``groups``: those over every row of a sheet, by sheet,
        # and a signal family's, by its code. A person has rows of a few families only.
        self.whole: dict[str, list[int]] = defaultdict(list)
        self.families: dict[object, list[int]] = defaultdict(list)
        for at, group in enumerate(self.groups):
            if group.member is None:
                self.whole[group.sheet].append(at)
            else:
                self.families[group.member].append(at)

    def test(self, sheet: str, lines: Iterable[_Line]) -> None:
        """Mark on each line the row tests it passes (a test on a blank does not pass).
        A column's tests are run once per value it takes (a few each: a signal code, an
        energy, an age in months), their results remembered by the value."""
        columns = self.columns.get(sheet, ())
        for line in lines:
            values, passed = line.values, 0
            for column, checks, known in columns:
                value = values.get(column)
                found = known.get(value)
                if found is None:
                    found = 0
                    for bit, passes in checks:
                        if passes(values):
                            found |= bit
                    if len(known) < _VALUES_LIMIT:
                        known[value] = found
                passed |= found
            line.passed = passed


# A column's row tests (each with its bit), and the bits a value passes, by the value.
_Column = tuple[list[tuple[int, RowCheck]], dict[Value, int]]
_VALUES_LIMIT = 1024  # values remembered per column tested, per run: memory stays flat


# A fact's measure over the lines that passed its row tests, given the as_of date and
# its cells: the value and the cells it read (none when its last argument is False:
# a what-if keeps only the value). Made once per run for each fact (``_measurer``).
Measured = tuple[Value, Cells]
Measure = Callable[[list["_Line"], dt.date | None, Cells, bool], Measured]


def _measurer(spec: FactSpec, derivation: Derivation, matching: int) -> Measure:
    """The fact's measure (``Measure``), specialised once: a person's facts take some
    forty measures, and a brief's what-ifs about eighty more."""
    measure = derivation.measure
    if measure == "count":
        counted = (
            derivation.where[-1].column if derivation.where else KEY_COLUMN[derivation.rows.sheet]
        )

        def count(lines: list[_Line], as_of: dt.date | None, at: Cells, refs: bool) -> Measured:
            if not refs:
                return len(lines), ()
            # ``line.refs`` first: a line's key cell is cited by several counts. One
            # line (most signals a person) without a comprehension (a call in 3.11).
            if len(lines) == 1:
                line = lines[0]
                return 1, (line.refs.get(counted) or line.ref(counted),)
            return len(lines), tuple([ln.refs.get(counted) or ln.ref(counted) for ln in lines])

        return count
    if measure == "distinct":
        column = derivation.column or ""

        def distinct(lines: list[_Line], as_of: dt.date | None, at: Cells, refs: bool) -> Measured:
            if not refs:  # a what-if's: the value alone
                values = {line.values.get(column) for line in lines}
                return len(values) - (None in values), ()
            # The distinct values and the cells of the lines that have one, in one pass.
            seen = set()
            cited = []
            for line in lines:
                value = line.values.get(column)
                if value is not None:
                    seen.add(value)
                    cited.append(line.refs.get(column) or line.ref(column))
            return len(seen), tuple(cited)

        return distinct
    if measure == "percent":
        cited = derivation.matching[-1].column

        def percent(lines: list[_Line], as_of: dt.date | None, at: Cells, refs: bool) -> Measured:
            if not lines:
                return 0, ()
            matched = len([line for line in lines if line.passed & matching == matching])
            share = round(100.0 * matched / len(lines), 2)
            if not refs:
                return _number(share), ()
            return _number(share), tuple([ln.refs.get(cited) or ln.ref(cited) for ln in lines])

        return percent
    blank = blank_value(spec)
    spanned = measure == "months_spanned"  # else the newest row's age

    def months(lines: list[_Line], as_of: dt.date | None, at: Cells, refs: bool) -> Measured:
        # The oldest and the newest dated line; ties on the date go to the earlier row
        # (the first of those), so the cells never depend on luck.
        oldest = newest = None
        first = last = dt.date.min
        for line in lines:
            day = line.values.get("observed_on")
            if not isinstance(day, dt.date):
                continue
            if oldest is None or newest is None:
                oldest, newest, first, last = line, line, day, day
                continue
            if day < first or (day == first and line.number < oldest.number):
                oldest, first = line, day
            if day > last or (day == last and line.number < newest.number):
                newest, last = line, day
        if oldest is None or newest is None:
            return blank, ()
        if spanned:
            if not refs:
                return whole_months(first, last), ()
            cells = tuple(dict.fromkeys((oldest.ref("observed_on"), newest.ref("observed_on"))))
            return whole_months(first, last), cells
        if as_of is None:
            return None, ()
        if not refs:
            return whole_months(last, as_of), ()
        return whole_months(last, as_of), (newest.ref("observed_on"), *at)

    return months


def _derive(
    person: _Person,
    plan: _Plan,
    lines: Mapping[str, list[_Line]],
    as_of: dt.date | None,
    as_of_ref: Cells,
) -> None:
    """Every derived fact of one person, from the rows of each sheet about them (the
    lines' row tests already marked, ``_Plan.test``)."""
    by_signal: dict[object, list[_Line]] = {}
    for line in lines.get("Evidence", ()):
        by_signal.setdefault(line.values.get("signal"), []).append(line)
    # Only the groups with rows to read (the others' facts keep their blank values: 0
    # rows, or unknown), in the plan's order.
    at = [i for sheet, some in lines.items() if some for i in plan.whole.get(sheet, ())]
    at += [i for member in by_signal for i in plan.families.get(member, ())]
    at.sort()
    values, cells = person.values, person.cells
    steps = plan.steps
    for at_group in at:
        member, sheet, need, facts = steps[at_group]
        rows = by_signal[member] if member is not None else lines[sheet]
        if len(rows) == 1:  # a signal observed once (the most common): nothing to filter
            passed = rows if rows[0].passed & need == need else None
        else:  # a loop, not a comprehension: a call each in 3.11, some 27 a person
            passed = []
            for line in rows:
                if line.passed & need == need:
                    passed.append(line)
        if not passed:
            continue  # each measure of no rows is its blank value
        for name, measure in facts:
            value, read = measure(passed, as_of, as_of_ref, True)
            values[name] = value
            if read:  # only a fact that came from cells has an entry (``_Person``)
                cells[name] = read


class _Person:
    """Accumulates one person's values and cells, starting from the blank person (every
    fact at its blank value, no cells: each fact is set once, and only a fact that
    came from cells gets an entry in ``cells``)."""

    def __init__(self, blank: dict[str, Value]) -> None:
        self.values = blank.copy()
        self.cells: dict[str, Cells] = {}

    def set(self, fact: str, value: Value, cells: Cells) -> None:
        self.values[fact] = value
        if cells:
            self.cells[fact] = cells


def _employee(person: _Person, row: Row, as_of: dt.date | None, as_of_ref: Cells) -> None:
    # Each fact has its cell: set directly, in ``_Person.set``'s order (run for everyone).
    values, cells = person.values, person.cells
    given = row.values()  # every value at once: a score of them are read
    get = given.get
    # A sheet with every column read: each ref straight from the row (``_ref``, a call
    # more, cites a column the sheet lacks by the row's number)
    ref = row.ref if given.keys() >= _EMPLOYEE_COLUMNS else partial(_ref, row)
    for name in PERSON_NUMBERS:
        value = get(name)
        values[name] = value if type(value) is int else _number(value)  # most are ints
        cells[name] = (ref(name),)
    for name in PERSON_ENUMS:
        value = get(name)
        values[name] = value if isinstance(value, str) else None
        cells[name] = (ref(name),)
    manager = get("is_people_manager")
    values["is_people_manager"] = manager if isinstance(manager, bool) else None
    cells["is_people_manager"] = (ref("is_people_manager"),)
    for fact, column in (("tenure_months", "hire_date"), ("months_in_role", "date_in_role")):
        start = get(column)
        values[fact] = (
            whole_months(start, as_of) if isinstance(start, dt.date) and as_of is not None else None
        )
        cells[fact] = (ref(column), *as_of_ref)
    statement = get("aspiration_statement")
    values["has_aspiration_statement"] = isinstance(statement, str) and bool(statement.strip())
    cells["has_aspiration_statement"] = (ref("aspiration_statement"),)


# Every Employees column ``_employee`` cites.
_EMPLOYEE_COLUMNS = frozenset(
    (
        *PERSON_NUMBERS,
        *PERSON_ENUMS,
        "is_people_manager",
        "hire_date",
        "date_in_role",
        "aspiration_statement",
    )
)


def _formulas(person: _Person, formulas: Iterable[FactSpec]) -> None:
    """The facts computed from the person's other facts, each after those it reads; each
    carries the cells of the facts it read."""
    cells = person.cells
    for spec in formulas:
        formula = spec.formula
        assert formula is not None
        read = tuple(dict.fromkeys([c for name in formula.reads for c in cells.get(name, ())]))
        person.set(spec.name, formula.value(person.values), read)


def _team(person: _Person, row: Row) -> None:
    person.set("team.reported", True, (_ref(row, "manager_id"),))
    for column, fact in TEAM.items():
        person.set(fact, _number(row.get(column)), (_ref(row, column),))


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


def load_catalogue(source: Path | RuleFiles) -> dict[str, tuple[str | None, str | None]]:
    """The rulebook's default catalogue (``rules/catalogue.yaml``, a file or the one of a
    rulebook): code -> (track, mode)."""
    if isinstance(source, RuleFiles):
        label = source.label(CATALOGUE_FILE)
        report = Report()
        node = source.node(CATALOGUE_FILE, report)
        if node is None:
            problems = "; ".join(str(d) for d in report.diagnostics)
            raise RulebookError(f"{label}: cannot read the catalogue: {problems}")
        loader = yaml.SafeLoader("")
        try:
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    else:
        label = str(source)
        try:
            text = rulefiles.read_text(source, source.parent)
            rulefiles.check_shape(text)  # nesting and aliases, before PyYAML recurses
            data = yaml.safe_load(text)
        except rulefiles.FileProblem as problem:
            raise RulebookError(f"{source}:{problem.line}: {problem}") from problem
        except yaml.YAMLError as error:
            raise RulebookError(f"{source}: cannot read the catalogue: {error}") from error
    entries = data.get("investments") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RulebookError(f"{label}: no 'investments:' list")
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
    workbook's Investments sheet takes precedence for every code it lists (a code it
    does not list keeps the default's track and mode). Only the Employees, Cycle,
    Evidence, Nominations, Teams, Development and Investments sheets are read: never
    Demographics.
    """
    derivation = PanelDerivation(panel, vocabulary, catalogue)
    people = [
        derivation.person(row)
        for row in panel.rows.get("Employees", [])
        if isinstance(row.get("employee_id"), str)
    ]
    people.sort(key=lambda p: p.employee_id)
    return people


class PanelDerivation:
    """One panel's facts, derived a person at a time (``compute_facts`` for everyone)."""

    def __init__(
        self,
        panel: Panel,
        vocabulary: Mapping[str, FactSpec],
        catalogue: Catalogue | None = None,
    ) -> None:
        check_vocabulary(vocabulary)
        self.given = (panel, vocabulary, catalogue)
        self.panel = panel
        self.as_of = panel.as_of
        self.as_of_ref = _as_of_cells(panel, self.as_of)
        self.catalogue: Catalogue = {**(catalogue or {}), **catalogue_from_panel(panel)}
        self.plan = _Plan(vocabulary)
        self.formulas = formula_facts(vocabulary)
        self.blank = {**_BLANK_PERSON, **{name: blank_value(s) for name, s in vocabulary.items()}}
        self.wanted = list(vocabulary)
        self.everything = len(self.wanted) == len(self.blank) and set(self.wanted) == set(
            self.blank
        )
        self.sheets: list[str] = [
            s for s in ("Evidence", "Development", "Nominations") if s in self.plan.sheets
        ]
        # The last person's Evidence lines, tested: a brief's what-if search starts
        # from the same lines (``DerivationPlan.own_lines``), so they are made once.
        self.last_lines: tuple[str, list[_Line]] | None = None

    def __reduce__(self) -> tuple[type[PanelDerivation], tuple[object, ...]]:
        # To a spawned worker: what it was made from (its plan holds functions).
        return (PanelDerivation, self.given)

    def person(self, row: Row) -> PersonFacts:
        """The facts of the person of Employees ``row`` (its employee_id is text)."""
        employee_id = str(row.get("employee_id"))
        panel, as_of, as_of_ref = self.panel, self.as_of, self.as_of_ref
        person = _Person(self.blank)
        _employee(person, row, as_of, as_of_ref)
        team = panel.about("Teams", employee_id)
        if team:
            # Teams has one row per manager (the contract's unique key).
            _team(person, team[0])
        # A person's rows are read when their facts are derived (ingest.store keeps
        # them on disk), never grouped for everyone at once.
        lines: dict[str, list[_Line]] = {}
        for sheet in self.sheets:
            rows = panel.about(sheet, employee_id)
            if not rows:
                continue
            if sheet == "Evidence":
                lines[sheet] = [_evidence_line(r, as_of) for r in rows]
            elif sheet == "Development":
                lines[sheet] = [_development_line(r, self.catalogue) for r in rows]
            else:
                lines[sheet] = [_nomination_line(r, employee_id) for r in rows]
        if lines:
            for sheet, sheet_lines in lines.items():
                self.plan.test(sheet, sheet_lines)
            _derive(person, self.plan, lines, as_of, as_of_ref)
        _formulas(person, self.formulas)
        self.last_lines = (employee_id, lines.get("Evidence", []))
        if self.everything:
            return PersonFacts(employee_id, person.values, person.cells)
        values = {name: person.values[name] for name in self.wanted}
        cells = {name: person.cells[name] for name in self.wanted if name in person.cells}
        return PersonFacts(employee_id, values, cells)


class FactsOnDemand(Mapping[str, PersonFacts]):
    """Every evaluated person's facts by employee_id, derived when read and not kept
    (but for the last few read: a brief reads its person's several times). What a
    run keeps of everyone is far smaller than everyone's facts with their cells (about
    9 KB a person), which follow from the panel's rows whenever needed."""

    _KEEP = 4

    def __init__(self, derivation: PanelDerivation) -> None:
        self.derivation = derivation
        self.ids = sorted(derivation.panel.people("Employees"))  # duplicates: the engine refuses
        self._recent: dict[str, PersonFacts] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __contains__(self, employee_id: object) -> bool:
        at = bisect.bisect_left(self.ids, employee_id) if isinstance(employee_id, str) else -1
        return 0 <= at < len(self.ids) and self.ids[at] == employee_id

    def __getitem__(self, employee_id: str) -> PersonFacts:
        if employee_id in self._recent:
            return self._recent[employee_id]
        if employee_id not in self:
            raise KeyError(employee_id)
        (row, *_) = self.derivation.panel.about("Employees", employee_id)
        person = self.derivation.person(row)
        recent = self._recent
        if len(recent) >= self._KEEP:
            # (two of the meeting server's threads may both drop the oldest)
            recent.pop(next(iter(recent), ""), None)
        recent[employee_id] = person
        return person

    def span(self, start: int, end: int) -> list[PersonFacts]:
        """The facts of the persons ``start`` to ``end`` in employee_id order, derived now
        (not kept)."""
        panel = self.derivation.panel
        return [
            self.derivation.person(panel.about("Employees", eid)[0]) for eid in self.ids[start:end]
        ]


class DerivationPlan:
    """How a vocabulary's derived facts are computed, built once and reused (what-if
    searches derive one person's facts many times)."""

    def __init__(
        self, vocabulary: Mapping[str, FactSpec], panel: PanelDerivation | None = None
    ) -> None:
        self.vocabulary = vocabulary
        # With ``panel`` (the run's derivation of the same vocabulary): its row tests,
        # so that the lines it made for a person serve the person's what-ifs too.
        self._panel = panel if panel is not None and panel.given[1] is vocabulary else None
        self._plan = self._panel.plan if self._panel is not None else _Plan(vocabulary)
        self._evidence: dict[frozenset[str] | None, dict[object, list[_Facts]]] = {}
        # What an Evidence measure reads of a row beside its row tests' results: the
        # date, and the columns whose distinct values are counted.
        self.evidence_columns = ("observed_on", *sorted({
            spec.derivation.column
            for spec in vocabulary.values()
            if spec.derivation is not None
            and spec.derivation.rows.sheet == "Evidence"
            and spec.derivation.column
        }))  # fmt: skip
        # The Evidence columns the row tests read: what a row's test results depend on.
        self._tested = tuple(sorted({
            test.column
            for spec in vocabulary.values()
            if spec.derivation is not None and spec.derivation.rows.sheet == "Evidence"
            for test in (*spec.derivation.tests, *spec.derivation.matching)
        }))  # fmt: skip
        self._results: dict[tuple[object, ...], int] = {}
        # The facts computed by formulas, in order; and per set of facts a what-if
        # asks for, those and every fact their formulas read (``wanted``).
        self.formulas = formula_facts(vocabulary)
        self._wanted: dict[frozenset[str], tuple[frozenset[str], tuple[FactSpec, ...]]] = {}
        # Does a row test or a measure read whose row it is? Then a what-if row is
        # one person's own; else the same rows serve every person (``added_line``).
        self.reads_person = "employee_id" in (*self._tested, *self.evidence_columns)
        # What the facts over every Evidence row read of a line: their own row tests'
        # results, and of the columns above only those their measures count (not the
        # situation, in the shipped vocabulary): new observations of different signals
        # are then most often the same to them (``over_all_key``).
        self._over_all_need = 0
        for group in self._plan.groups:
            if group.sheet == "Evidence" and group.member is None:
                self._over_all_need |= group.reads  # a percent's matching tests too
        self._over_all_at = [0] + [
            at
            for at, column in enumerate(self.evidence_columns[1:], 1)
            if any(
                (spec := vocabulary[name]).derivation is not None
                and spec.derivation.column == column
                for group in self._plan.groups
                if group.sheet == "Evidence" and group.member is None
                for name, _ in group.facts
            )
        ]
        # Across people: what-if rows as lines, and a signal family's facts by what
        # its rows are to them (see Changeable._family). Bounded: memory stays flat.
        self._lines: dict[tuple[int, dt.date | None], tuple[Row, _Line, _LineKey]] = {}
        self._families: dict[tuple[object, ...], dict[str, Value]] = {}
        self._shapes: dict[tuple[int, int, dt.date | None], _Shape] = {}

    def own_lines(
        self, employee_id: str, as_of: dt.date | None, evidence: Sequence[Row]
    ) -> list[_Line] | None:
        """The lines of ``evidence`` (the person's own Evidence rows), tested, when the
        run's derivation made them last (for the facts a brief reads first); else None."""
        panel = self._panel
        if panel is None or panel.last_lines is None or panel.as_of != as_of:
            return None
        whose, lines = panel.last_lines
        if whose != employee_id:
            return None
        if len(lines) != len(evidence) or any(
            line.number != row.number for line, row in zip(lines, evidence, strict=True)
        ):
            return None
        return lines

    def wanted(
        self, only: frozenset[str] | None
    ) -> tuple[frozenset[str] | None, tuple[FactSpec, ...]]:
        """The facts a what-if asking for ``only`` (None: every fact) must derive again,
        and the formulas among them, in order: a fact read by a formula asked for is
        needed too (``performance_trend`` needs ``performance``)."""
        if only is None or not self.formulas:
            return only, self.formulas
        found = self._wanted.get(only)
        if found is None:
            needed = frozenset(reads_through(self.formulas, only))
            formulas = tuple(spec for spec in self.formulas if spec.name in needed)
            found = self._wanted[only] = (needed, formulas)
        return found

    def test_evidence(self, line: _Line) -> None:
        """Mark an Evidence line's row test results (``_Plan.test``), remembered by the
        values of the columns tested: what-if rows of many people share them."""
        key = tuple([line.values.get(column) for column in self._tested])
        passed = self._results.get(key)
        if passed is None:
            self._plan.test("Evidence", [line])
            if len(self._results) < _RESULTS_LIMIT:
                self._results[key] = line.passed
        else:
            line.passed = passed

    def added_line(self, row: Row, as_of: dt.date | None) -> tuple[_Line, _LineKey]:
        """A what-if Evidence row as a line, tested, and what it is to the measures
        (``line_key``): made once per row, whoever's what-if adds it. The row is
        kept with its line so that its id stays its own."""
        made = self._lines.get((id(row), as_of))
        if made is None:
            line = _evidence_line(row, as_of)
            self.test_evidence(line)
            if len(self._lines) >= _LINES_LIMIT:
                self._lines.clear()
            made = self._lines[(id(row), as_of)] = (row, line, self.line_key(line))
        return made[1], made[2]

    def shape(self, rows: Sequence[Row], count: int, as_of: dt.date | None) -> _Shape:
        """What the first ``count`` of ``rows`` are to the measures (``_Shape``),
        remembered by the list's identity (kept with it): a search asks the same
        shared rows of every person."""
        key = (id(rows), count, as_of)
        found = self._shapes.get(key)
        if found is None or found.rows is not rows:
            extra = [self.added_line(row, as_of) for row in rows[:count]]
            if len(self._shapes) >= _SHAPES_LIMIT:
                self._shapes.clear()
            found = self._shapes[key] = _Shape.of(self, rows, extra)
        return found

    def line_key(self, line: _Line) -> _LineKey:
        """All an Evidence measure of ``refs=False`` reads of a line: which row tests it
        passes, its date and the columns whose distinct values are counted."""
        return (line.passed, *[line.values.get(c) for c in self.evidence_columns])

    def over_all_key(self, key: _LineKey) -> _LineKey:
        """Of a line's ``line_key``, what the facts over every row read of it: which of
        their row tests it passes, its date and the columns their measures count."""
        return (cast(int, key[0]) & self._over_all_need, *[key[at + 1] for at in self._over_all_at])

    def evidence_groups(self, only: frozenset[str] | None) -> dict[object, list[_Facts]]:
        """The Evidence groups by signal family (None: the facts over every row), each
        with its facts of ``only`` (None: every fact); groups left without any are
        dropped. Worked out once per ``only``."""
        found = self._evidence.get(only)
        if found is None:
            found = {}
            for group in self._plan.groups:
                facts = tuple(f for f in group.facts if only is None or f[0] in only)
                if group.sheet == "Evidence" and facts:
                    found.setdefault(group.member, []).append((group.need, facts))
            self._evidence[only] = found
        return found


class _Shape(NamedTuple):
    """What some added Evidence rows are to the measures: the lines, the key of the
    facts over every row (each line's ``over_all_key``), and per signal family its
    lines and their ``line_key``s."""

    rows: object  # the rows, kept so that their id stays theirs (``DerivationPlan.shape``)
    lines: list[_Line]
    over_all: tuple[_LineKey, ...]
    families: tuple[tuple[object, list[_Line], tuple[_LineKey, ...]], ...]
    # (facts wanted, family) -> the family's facts with the rows added, for a person
    # with none of its rows: the same for everyone
    shared: dict[tuple[object, object], dict[str, Value]]

    @staticmethod
    def of(plan: DerivationPlan, rows: object, extra: Sequence[tuple[_Line, _LineKey]]) -> _Shape:
        families: dict[object, list[tuple[_Line, _LineKey]]] = {}
        for made in extra:
            families.setdefault(made[0].values.get("signal"), []).append(made)
        return _Shape(
            rows,
            [line for line, _ in extra],
            tuple([plan.over_all_key(key) for _, key in extra]),
            tuple(
                (member, [line for line, _ in made], tuple([key for _, key in made]))
                for member, made in families.items()
            ),
            {},
        )


_RESULTS_LIMIT = 4096  # row test results remembered per run: memory stays flat
_LINES_LIMIT = 4096  # what-if lines remembered per run
_FAMILIES_LIMIT = 1 << 13  # signal families' what-if facts remembered per run
_SHAPES_LIMIT = 1024  # what-if rows' shapes remembered per run

_LineKey = tuple[object, ...]

# The facts of one Evidence group: the row tests its rows pass, and each fact's name
# and measure.
_Facts = tuple[int, tuple[tuple[str, Measure], ...]]


def with_changes(
    values: Mapping[str, Value],
    plan: DerivationPlan,
    as_of: dt.date | None,
    evidence: Iterable[Row] = (),
    employee: Mapping[str, Value] | None = None,
) -> dict[str, Value]:
    """A person's facts as they would be with other Employees values (``employee``:
    column -> value, for the columns computed as a fact of the same name) and with
    ``evidence`` as every Evidence row about them (their rows plus any added):
    derived exactly as ``compute_facts`` derives them. Cells are not kept."""
    return Changeable(values, plan, as_of).changed(employee, evidence)


class Part(NamedTuple):
    """Some of the facts a what-if sets (``Changeable.parts``)."""

    facts: Mapping[str, Value]
    lasting: bool  # remembered: the same object, unchanged, for the same rows
    # A signal family's facts with rows added to none of the person's own: the same
    # object for every person (``Changeable.observed``).
    shared: bool = False


class Changeable:
    """One person's facts and Evidence rows, read once, for the many what-if
    derivations a brief asks of them (``changed``, ``delta``).

    With ``only``, a change derives again only those facts (the ones the rules read:
    a what-if asks for outcomes, and no rule reads the others)."""

    def __init__(
        self,
        values: Mapping[str, Value],
        plan: DerivationPlan,
        as_of: dt.date | None,
        evidence: Iterable[Row] = (),
        only: Collection[str] | None = None,
        lines: list[_Line] | None = None,
    ) -> None:
        """``lines``: the lines of ``evidence`` as ``plan`` made and tested them
        (``DerivationPlan.own_lines``), when at hand."""
        self.values, self.plan, self.as_of = values, plan, as_of
        if lines is None:
            lines = [_evidence_line(r, as_of) for r in evidence]
            plan._plan.test("Evidence", lines)
        self.lines = lines
        self.only, self.formulas = plan.wanted(None if only is None else frozenset(only))
        # The facts some formula reads (directly: follow_formulas follows the rest).
        self._formulas_read = frozenset(
            name for spec in self.formulas if spec.formula for name in spec.formula.reads
        )
        self._groups = plan.evidence_groups(self.only)
        # The signals of the person's own rows: another family's facts with rows added
        # are everyone's (``_Shape.shared``).
        self._members = {line.values.get("signal") for line in lines}
        # Per signal family (None: every row), per group: the person's own rows that
        # pass its tests, found when a change first adds rows of the family.
        self._passed: dict[object, list[list[_Line]]] = {}
        # The facts over every row, by what the added rows are to them (their row
        # tests' results and the columns measures read): observations of different
        # signals are often the same to those facts.
        self._over_all: dict[tuple[object, ...], dict[str, Value]] = {}

    def changed(
        self, employee: Mapping[str, Value] | None = None, added: Iterable[Row] = ()
    ) -> dict[str, Value]:
        """The facts with the Employees values of ``employee`` set and the Evidence
        rows ``added`` beside the person's own (``with_changes``)."""
        return {**self.values, **self.delta(employee, added)}

    def delta(
        self, employee: Mapping[str, Value] | None = None, added: Iterable[Row] = ()
    ) -> dict[str, Value]:
        """The facts ``changed`` sets (some may keep their value). Only the facts the
        added rows can move are derived again: every fact over all Evidence rows, and
        a signal family's facts for the codes added (the rest are the person's own,
        which ``compute_facts`` derived from the same rows)."""
        found: dict[str, Value] = {}
        for part in self.parts(employee, added):
            found.update(part.facts)
        return found

    def parts(
        self, employee: Mapping[str, Value] | None = None, added: Iterable[Row] = ()
    ) -> list[Part]:
        """``delta`` in parts, no two setting one fact: ``employee``, the facts over
        every Evidence row, each signal family's added to, and the formulas' facts.
        A part derived from rows is remembered (for the person or the run): it is the
        same object whenever the same rows are added (``lasting``), and its consumers
        may remember what they work out of it by its identity."""
        found: list[Part] = [Part(employee, False)] if employee else []
        extra = [self.plan.added_line(row, self.as_of) for row in added]
        if extra:
            found += self._added(_Shape.of(self.plan, added, extra))
        return self._with_formulas(found)

    def observed(self, rows: Sequence[Row], count: int) -> list[Part]:
        """``parts(None, rows[:count])``, for a list of rows that is asked again, with
        other counts and by other people (the same list: a search's shared what-if
        rows): what its rows are to the measures is worked out once per run
        (``DerivationPlan.shape``), not once per person and count."""
        return self._with_formulas(self._added(self.plan.shape(rows, count, self.as_of)))

    def observed_one(
        self, rows: Sequence[Row], count: int
    ) -> tuple[Mapping[str, Value], Mapping[str, Value], bool] | None:
        """``observed`` for rows of one signal whose facts no formula reads (a
        search's): the facts over every row, the signal family's and whether those
        are shared (``Part.shared``), without the parts; None for other rows."""
        shape = self.plan.shape(rows, count, self.as_of)
        if len(shape.families) != 1:
            return None
        ((member, lines, keys),) = shape.families
        if member is None:
            return None
        over_all = self._over_all.get(shape.over_all)
        if over_all is None:
            over_all = self._over_all[shape.over_all] = self._derive(None, shape.lines)
        shared = member not in self._members
        if not shared:
            more = self._derive(member, lines)  # as in ``_added``
        else:
            more = shape.shared.get((self.only, member))  # type: ignore[assignment]
            if more is None:
                more = shape.shared[self.only, member] = self._family(member, lines, keys)
        read = self._formulas_read
        if self.formulas and not (read.isdisjoint(over_all) and read.isdisjoint(more)):
            return None
        return over_all, more, shared

    def _added(self, shape: _Shape) -> list[Part]:
        over_all = self._over_all.get(shape.over_all)
        if over_all is None:
            over_all = self._over_all[shape.over_all] = self._derive(None, shape.lines)
        found = [Part(over_all, True)]
        for member, lines, keys in shape.families:
            if member is None:
                continue
            if member in self._members:
                # The person's own rows of the family beside the added: facts seldom
                # another's (what a measure reads of a row includes its date), so
                # derived, not remembered (at 10,000 people none was found again).
                found.append(Part(self._derive(member, lines), True))
                continue
            # None of the person's own rows is of the family: its facts with the rows
            # added are the same for everyone.
            common = shape.shared.get((self.only, member))
            if common is None:
                common = shape.shared[self.only, member] = self._family(member, lines, keys)
            found.append(Part(common, True, True))
        return found

    def _with_formulas(self, found: list[Part]) -> list[Part]:
        """``found`` and, when a formula reads a fact they set, the formulas' part."""
        if self.formulas and any(not self._formulas_read.isdisjoint(p.facts) for p in found):
            moved: dict[str, Value] = {}
            for part in found:
                moved.update(part.facts)
            found.append(Part(follow_formulas(self.values, self.formulas, moved), False))
        return found

    def _family(
        self, member: object, extra: list[_Line], keys: tuple[_LineKey, ...]
    ) -> dict[str, Value]:
        """A signal family's facts with ``extra`` (whose ``line_key``s are ``keys``)
        added, for a person with none of its rows. They follow from what the added
        rows are to the measures and the as_of date alone, so they are everyone's."""
        key = (self.only, member, self.as_of, keys)
        memo = self.plan._families
        found = memo.get(key)
        if found is None:
            found = self._derive(member, extra)
            if len(memo) >= _FAMILIES_LIMIT:
                memo.clear()
            memo[key] = found
        return found

    def _derive(self, member: object, extra: list[_Line]) -> dict[str, Value]:
        """The facts of a signal family (None: over every row) with ``extra`` added."""
        found: dict[str, Value] = {}
        groups = self._groups.get(member, ())
        if not groups:
            return found
        own = self._passed.get(member)
        if own is None:
            rows = (
                self.lines
                if member is None
                else [line for line in self.lines if line.values.get("signal") == member]
            )
            own = [[line for line in rows if line.passed & need == need] for need, _ in groups]
            self._passed[member] = own
        # The added lines that pass each group's tests: the same added lines (a
        # search's shared rows, ``DerivationPlan.shape``) for many people and groups.
        known = _ADDED.get(id(extra))
        if known is None or known[0] is not extra:
            if len(_ADDED) >= _ADDED_LIMIT:
                _ADDED.clear()
            known = _ADDED[id(extra)] = (extra, {})
        added = known[1]
        for (need, facts), passed in zip(groups, own, strict=True):
            more = added.get(need)
            if more is None:
                more = added[need] = [line for line in extra if line.passed & need == need]
            rows = passed + more
            if not rows:
                continue  # each measure of no rows is its blank value: unchanged
            for name, measure in facts:
                found[name] = measure(rows, self.as_of, (), False)[0]
        return found


# Added lines (by the list's identity, kept with it) -> by a group's tests, those that
# pass them (``Changeable._derive``): the lines' ``passed`` is set once, when made.
_ADDED: dict[int, tuple[list[_Line], dict[int, list[_Line]]]] = {}
_ADDED_LIMIT = 4096


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
    unknown), but for a formula's, computed from the facts given; ``None`` makes a
    fact unknown. ``where`` names the place in errors
    (``rules/tests/heart.yaml:12``).
    """
    values = blank_values(vocabulary)
    given: dict[str, Value] = {}
    for name, value in mapping.items():
        spec = vocabulary.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, list(vocabulary), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise RulebookError(f"{where}: unknown fact '{name}'{hint}")
        given[name] = _typed(spec, value, where)
    values.update(given)
    # A formula's fact not given follows the facts given (a trend from the ratings).
    values.update(follow_formulas(values, formula_facts(vocabulary), given, given))
    return PersonFacts(employee_id, values, {})
