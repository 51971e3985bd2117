"""A workbook as it is being read: the problems found so far, each data row with its
own, and where each contract column sits in its sheet."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from talentrules.contract import Column, Sheet
from talentrules.ingest.files import SheetScan
from talentrules.ingest.store import Place, RowStore, cells_of, fold
from talentrules.ingest.values import Parsed, Parser, as_text
from talentrules.ingest.xlsx import RawCell
from talentrules.model import (
    PERSON_COLUMN,
    Cell,
    Problem,
    RejectedRow,
    Row,
    Severity,
    SheetAccount,
    Value,
    split_ref,
)


class ProblemLog:
    """Every problem one reading finds, in the order found; calling it records one."""

    def __init__(self, given: str) -> None:
        self.given = given  # the file as the user named it
        self.problems: list[Problem] = []

    def __call__(
        self,
        severity: Severity,
        message: str,
        sheet: str | None = None,
        cell: str | None = None,
        value: object = None,
        suggestion: str | None = None,
    ) -> Problem:
        shown = None if value is None else as_text(value)
        found = Problem(severity, self.given, sheet, cell, message, shown, suggestion)
        self.problems.append(found)
        return found


@dataclass
class Draft:
    """A data row and the problems found in it so far (error => rejected at the end)."""

    row: Row
    problems: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


@dataclass
class Slot:
    """A contract column found in the sheet: where it is and how to read it."""

    column: Column
    index: int  # 0-based position in the row
    letter: str  # a cell's name is letter + row number + after: F14, or 14:signal in a CSV
    after: str
    prefix: str  # a cell's ref is prefix + row number + after: Evidence!F14, Evidence.csv:14:signal
    parse: Parser
    wants_format: bool  # id and percent read the cell's number format
    # A coded column's texts already parsed, with their values (values.parser_and_memo)
    memo: dict[str, Parsed] | None = None


@dataclass
class SheetRead:
    """One sheet as read. A person-keyed sheet's rows go to ``store`` as they are read;
    only those with a problem stay in memory (``flagged``), so the checks across rows
    walk the store (``values``) rather than a list."""

    sheet: Sheet
    tab: str
    drafts: list[Draft]  # the rows, when not in a store
    account: SheetAccount
    trailers: list[RejectedRow]
    present: set[str] = field(default_factory=set)  # contract columns found in the header
    every_row: list[Problem] = field(default_factory=list)  # header errors: every row fails
    merge_problems: dict[str, Problem] = field(default_factory=dict)
    store: RowStore | None = None
    flagged: dict[int, Draft] = field(default_factory=dict)  # row number -> a draft with problems
    places: tuple[Place, ...] = ()  # where each contract column's cells are, in value order

    def add(self, number: int, values: list[Value], problems: list[Problem]) -> None:
        """A data row read: its values in the order of ``places``, and its problems so
        far. Only a row with problems is made a ``Row`` here; the store keeps values."""
        if self.store is not None:
            self.store.add(self.sheet.name, number, values, self.sheet.unique)
            if not problems:
                return
        row = Row(self.sheet.name, number, cells_of(number, values, self.places))
        draft = Draft(row, problems)
        if self.store is None:
            self.drafts.append(draft)
        else:
            self.flagged[number] = draft

    def values(self, columns: list[str]) -> Iterator[tuple[int, tuple[Value, ...]]]:
        """(row number, the values of ``columns``) of every data row read, in sheet order;
        a check that finds a problem adds it to ``draft(number)``."""
        if self.store is None:
            for draft in self.drafts:
                yield draft.row.number, tuple(draft.row.get(c) for c in columns)
            return
        person = PERSON_COLUMN[self.sheet.name]
        if columns == [person] and self.sheet.column(person).kind == "id":
            # An id is text or blank: the store holds it as the row's person, so no row
            # need be unpickled to read it.
            yield from self.store.people_of(self.sheet.name)
            return
        yield from self.store.values(self.sheet.name, columns)

    def unknown(
        self, columns: list[str], people: SheetRead, column: str
    ) -> Iterator[tuple[int, tuple[Value, ...]]]:
        """``values`` of ``columns`` (those referring to a person), less rows whose one
        value is blank or a value of ``people``'s ``column`` where SQLite can leave them
        out (``RowStore.strangers``): that column and the sheet's one column both their
        sheets' person columns, read as ids, and both sheets in the same store. The
        caller still checks every value it is given."""
        person = PERSON_COLUMN.get(self.sheet.name)
        if (
            self.store is None
            or self.store is not people.store
            or person is None
            or columns != [person]
            or self.sheet.column(person).kind != "id"
            or PERSON_COLUMN.get(people.sheet.name) != column
            or people.sheet.column(column).kind != "id"
        ):
            yield from self.values(columns)
            return
        yield from self.store.strangers(self.sheet.name, people.sheet.name)

    def dated_after(
        self, columns: list[str], as_of: dt.date
    ) -> Iterator[tuple[int, tuple[Value, ...]]]:
        """``values`` of ``columns`` (the sheet's ``not_after_as_of`` columns), of the rows
        holding a date after ``as_of`` in one of them at least: in a store, it kept each
        row's latest such date (``RowStore.begin``), so only those rows are read."""
        if self.store is None:
            yield from self.values(columns)
            return
        yield from self.store.values(self.sheet.name, columns, after=as_of)

    def draft(self, number: int) -> Draft:
        """The draft of row ``number`` (kept: the caller is adding a problem to it)."""
        if self.store is None:
            return next(d for d in self.drafts if d.row.number == number)
        if number not in self.flagged:
            self.flagged[number] = Draft(self.store.get(self.sheet.name, number))
        return self.flagged[number]

    def duplicates(self) -> list[list[int]]:
        """Rows sharing a value of the sheet's unique column: each group's row numbers in
        sheet order, groups in the order their first row comes."""
        name = self.sheet.unique
        if name is None:
            return []
        if self.store is not None:
            return self.store.duplicates(self.sheet.name)
        groups: dict[object, list[int]] = {}
        for draft in self.drafts:
            value = draft.row.get(name)
            if value is not None:
                groups.setdefault(value, []).append(draft.row.number)
        return [numbers for numbers in groups.values() if len(numbers) > 1]

    def lookalikes(self) -> list[list[tuple[str, int]]]:
        """Values of the unique column spelled more than one way (``store.fold``): each
        group's (value, row number) in sheet order, groups in first-row order."""
        name = self.sheet.unique
        if name is None:
            return []
        if self.store is not None:
            return self.store.lookalikes(self.sheet.name)
        groups: dict[str, list[tuple[str, int]]] = {}
        for draft in self.drafts:
            value = draft.row.get(name)
            if isinstance(value, str):
                groups.setdefault(fold(value), []).append((value, draft.row.number))
        return [g for g in groups.values() if len({value for value, _ in g}) > 1]

    def failed(self) -> list[Draft]:
        """The rows rejected, in sheet order."""
        if self.store is None:
            return [d for d in self.drafts if d.failed]
        return [self.flagged[n] for n in sorted(self.flagged) if self.flagged[n].failed]


@dataclass
class SheetReading:
    """One sheet being read, between two rows: what reading the next row needs."""

    scan: SheetScan
    result: SheetRead
    header_number: int = 0
    header_position: int = 0
    last: int = 0  # the position of the last non-empty row
    previous: int = 0  # the position of the row read last
    slots: list[Slot] = field(default_factory=list)
    blanks: dict[str, Cell] = field(default_factory=dict)
    width: int = 0
    merges: dict[int, str] = field(default_factory=dict)
    keys: list[Slot] = field(default_factory=list)
    needed: list[Slot] = field(default_factory=list)
    # column index -> values without a header
    unheaded: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    # rows held back (blank, or perhaps totals rows below the data) until a row of data
    pending: list[tuple[int, list[RawCell | None], str] | None] = field(default_factory=list)

    @classmethod
    def of(cls, sheet: Sheet, scan: SheetScan) -> SheetReading:
        return cls(scan, SheetRead(sheet, scan.tab, [], SheetAccount(sheet.name, scan.tab), []))


def a1(ref: str) -> str:
    """'Evidence!F14' -> 'F14', 'Evidence.csv:14:signal' -> '14:signal' (the sheet is in
    the Problem already)."""
    return split_ref(ref)[1]
