"""What ingestion hands to every later stage: typed cells with provenance, rows,
problems and the row account. Plain data, no Excel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from abc import abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Value = str | int | float | bool | dt.date | None
Severity = Literal["error", "warning", "info"]

_CSV_REF = re.compile(r"(?i)(.+?\.csv):(.*)")


def split_ref(ref: str) -> tuple[str, str]:
    """A cell's ref -> (sheet as found, cell): 'Evidence!F14' -> ('Evidence', 'F14'), and
    from a CSV folder 'Evidence.csv:14:signal' -> ('Evidence.csv', '14:signal')."""
    found = _CSV_REF.fullmatch(ref)
    if found:
        return found.group(1), found.group(2)
    sheet, _, cell = ref.rpartition("!")
    return sheet, cell


@dataclass(frozen=True, slots=True)  # slots: a 10,000-person workbook has ~1.3M cells
class Cell:
    """One typed value and where it came from (``Evidence!F14``, ``Evidence.csv:14:signal``)."""

    value: Value  # None means blank: unknown, never "no" or 0
    ref: str  # Sheet!A1 as the panel sees the sheet name; File.csv:line:header from CSV

    @property
    def known(self) -> bool:
        return self.value is not None


class RowLayout(Protocol):
    """How a stored sheet's row values become its cells (``ingest.store``): the
    position of each column's value, and each cell's ref."""

    @property
    def index(self) -> Mapping[str, int]:
        """Contract column -> the position of its value in a row's values, in order."""

    def cells(self, number: int, values: Sequence[Value]) -> dict[str, Cell]: ...

    def ref(self, number: int, at: int) -> str: ...


class Row:
    """One data row of a contract sheet, keyed by contract column name.

    A row read back from where ingestion keeps it (``Row.stored``) holds its values
    and its sheet's layout, and makes its cells only when they are asked for: a brief
    reads some fourteen rows, most of them a few cells at a time, and making every
    cell of each cost more than reading the rows. Never changed once made."""

    __slots__ = ("sheet", "number", "_cells", "_values", "_layout")

    sheet: str  # contract sheet name (``Evidence``), whatever the tab was called
    number: int  # Excel row number; in a CSV file, the line the record starts on
    # Every contract column of the sheet; blank -> Cell(None, ref). A stored row's
    # are _UNMADE until asked for; until then its values and layout stand for them.
    _cells: dict[str, Cell]
    _values: Sequence[Value]  # a stored row's values, in its layout's order
    _layout: RowLayout | None

    def __init__(self, sheet: str, number: int, cells: dict[str, Cell]) -> None:
        _set_sheet(self, sheet)
        _set_number(self, number)
        _set_cells(self, cells)
        _set_values(self, ())
        _set_layout(self, None)

    @classmethod
    def stored(cls, sheet: str, number: int, values: Sequence[Value], layout: RowLayout) -> Row:
        """Row ``number`` of ``values`` (one a column of ``layout``), its cells made
        when asked for."""
        row = _new_row(cls)
        _set_sheet(row, sheet)
        _set_number(row, number)
        _set_cells(row, _UNMADE)
        _set_values(row, values)
        _set_layout(row, layout)
        return row

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Row is never changed (tried to set {name})")

    @property
    def cells(self) -> dict[str, Cell]:
        cells = self._cells
        if cells is _UNMADE and self._layout is not None:
            cells = self._layout.cells(self.number, self._values)
            _set_cells(self, cells)
        return cells

    def get(self, column: str) -> Value:
        layout = self._layout
        if layout is None:
            cell = self._cells.get(column)
            return None if cell is None else cell.value
        at = layout.index.get(column)
        return None if at is None else self._values[at]

    def ref(self, column: str) -> str:
        """The column's cell ref (KeyError for a column the sheet does not have)."""
        layout = self._layout
        if layout is None:
            return self._cells[column].ref
        return layout.ref(self.number, layout.index[column])

    def cell(self, column: str) -> Cell | None:
        """The column's cell (None for a column the sheet does not have)."""
        layout = self._layout
        if layout is None or self._cells is not _UNMADE:
            return self._cells.get(column)
        at = layout.index.get(column)
        return None if at is None else Cell(self._values[at], layout.ref(self.number, at))

    def values(self) -> dict[str, Value]:
        """Column -> value, for every column of the sheet, in cell order."""
        layout = self._layout
        if layout is None:
            return {column: cell.value for column, cell in self._cells.items()}
        return dict(zip(layout.index, self._values, strict=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return NotImplemented
        return (self.sheet, self.number, self.cells) == (other.sheet, other.number, other.cells)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Row(sheet={self.sheet!r}, number={self.number!r}, cells={self.cells!r})"

    def __reduce__(self) -> tuple[Callable[..., Row], tuple[object, ...]]:
        # A stored row pickles as stored (its layout with it), any other with its cells.
        if self._layout is not None:
            return Row.stored, (self.sheet, self.number, self._values, self._layout)
        return Row, (self.sheet, self.number, self.cells)


_UNMADE: dict[str, Cell] = {}  # a stored row's cells before they are asked for (never filled)
_new_row = object.__new__
# The slots are set directly (``__setattr__`` refuses): made some fourteen times a brief.
_set_sheet: Callable[[Row, str], None] = vars(Row)["sheet"].__set__
_set_number: Callable[[Row, int], None] = vars(Row)["number"].__set__
_set_cells: Callable[[Row, dict[str, Cell]], None] = vars(Row)["_cells"].__set__
_set_values: Callable[[Row, Sequence[Value]], None] = vars(Row)["_values"].__set__
_set_layout: Callable[[Row, RowLayout | None], None] = vars(Row)["_layout"].__set__


# The column naming whose row a person-keyed sheet's row is: a person's rows are found
# by it (``Panel.about``), and ingestion keeps these sheets out of memory.
PERSON_COLUMN = {
    "Employees": "employee_id",
    "Evidence": "employee_id",
    "Nominations": "nominee_id",
    "Teams": "manager_id",
    "Development": "employee_id",
    "Demographics": "employee_id",
}


# Panel.about: whether a type of rows is PersonRows (a few types in a process).
_STORED: dict[type, bool] = {}


class PersonRows(Sequence[Row]):
    """A person-keyed sheet's loaded rows kept outside memory (``ingest.store``): read
    in sheet order when iterated, or one person's at a time (``about``)."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @abstractmethod
    def about(self, person: str) -> list[Row]:
        """The rows about ``person`` (by ``PERSON_COLUMN``), in sheet order."""

    def about_each(self, people: Collection[str]) -> dict[str, list[Row]]:
        """The rows about each of ``people`` who has any, each's in sheet order."""
        return {person: rows for person in people if (rows := self.about(person))}

    @abstractmethod
    def people(self) -> list[str]:
        """Whose rows there are (``PERSON_COLUMN``'s text values), in sheet order."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, named down to the cell."""

    severity: Severity
    file: str  # file name as given
    sheet: str | None  # tab name as found in the workbook, or the CSV file's name
    cell: str | None  # A1 reference, a row ("row 14") or column ("column F"); CSV: 14:signal
    message: str  # what is wrong and what is allowed
    value: Value | str = None  # the value found, if any
    suggestion: str | None = None  # "did you mean" for near misses

    @property
    def where(self) -> str:
        place = self.file
        if self.sheet is not None:
            place += f": {self.sheet}"
            if self.cell is not None:
                # "F14" or "A5:B6" -> Sheet!F14; "row 14" / "column F" -> Sheet row 14;
                # from a CSV file "14:signal" -> Evidence.csv:14:signal
                if self.cell[:1].isupper():
                    place += f"!{self.cell}"
                else:
                    place += f"{':' if self.cell[:1].isdigit() else ' '}{self.cell}"
        return place

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        if self.suggestion:
            text += f"; did you mean '{self.suggestion}'?"
        return text


@dataclass
class SheetAccount:
    """Nothing is lost silently: read == loaded + rejected + blank, per sheet."""

    sheet: str  # contract name
    found_as: str | None  # tab name in the workbook, None when the sheet is absent
    read: int = 0  # data rows below the header, up to the last non-empty row
    loaded: int = 0
    rejected: int = 0
    blank: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.read == self.loaded + self.rejected + self.blank


@dataclass(frozen=True)
class RejectedRow:
    """A row that could not be used, with every reason."""

    sheet: str
    number: int
    reasons: tuple[Problem, ...]
    # Whose row it is, as read (even when unusable): "00044 Rosa Delgado" for an
    # Employees row, the employee_id for a row about a person, '' when neither reads.
    who: str = ""


_RECENT = 16  # (sheet, person) reads Panel.about remembers: a person's sheets, twice over


@dataclass
class Panel:
    """Everything read from one workbook: the only input later stages need."""

    path: Path
    sha256: str
    size: int
    # contract sheet name -> loaded rows (absent sheet: []); person-keyed sheets read
    # from a file are PersonRows, kept on disk for the run
    rows: dict[str, Sequence[Row]]
    problems: list[Problem]
    accounts: list[SheetAccount]
    rejected: list[RejectedRow]
    ignored_sheets: list[str]
    found: dict[str, str]  # contract sheet name -> tab name, for sheets present
    # When the Cycle sheet gives no usable as_of: the latest Evidence.observed_on
    # (never today's clock); ingestion says so in a warning.
    fallback_as_of: dt.date | None = None
    _grouped: dict[str, dict[str, list[Row]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # The last few persons' rows read from disk: a brief, its facts and its trace line
    # read the same person's rows some fourteen times (cleared when full: flat).
    _recent: dict[tuple[str, str], tuple[Row, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # While a span of people's documents is made (``reading``): those people, and each
    # person-keyed sheet's rows about them, read when the sheet is first asked for.
    _reading: tuple[frozenset[str], dict[str, dict[str, list[Row]]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @contextlib.contextmanager
    def reading(self, people: Iterable[str]) -> Iterator[None]:
        """While the documents of ``people`` are made (a span of at most a few hundred:
        their rows are held meanwhile): each person-keyed sheet's rows about them are
        read at once when first asked for, not one query a person and sheet."""
        before = self._reading
        self._reading = (frozenset(people), {})
        try:
            yield
        finally:
            self._reading = before

    def about(self, sheet: str, person: str) -> list[Row]:
        """The loaded rows of ``sheet`` about ``person`` (an employee_id), in sheet order."""
        rows: Any = self.rows.get(sheet, [])  # (PersonRows when ``stored``)
        kind = type(rows)  # isinstance of an ABC is a Python call: by type, once
        stored = _STORED.get(kind)
        if stored is None:
            stored = _STORED[kind] = isinstance(rows, PersonRows)
        if stored:
            reading = self._reading
            if reading is not None and person in reading[0]:
                held = reading[1].get(sheet)
                if held is None:
                    held = reading[1][sheet] = rows.about_each(reading[0])
                return list(held.get(person, ()))
            found = self._recent.get((sheet, person))
            if found is None:
                if len(self._recent) >= _RECENT:
                    self._recent.clear()
                found = self._recent[sheet, person] = tuple(rows.about(person))
            return list(found)
        if sheet not in self._grouped:  # rows in memory (made in code): grouped once
            column = PERSON_COLUMN[sheet]
            grouped: dict[str, list[Row]] = {}
            for row in sorted(rows, key=lambda r: r.number):
                key = row.get(column)
                if isinstance(key, str):
                    grouped.setdefault(key, []).append(row)
            self._grouped[sheet] = grouped
        return list(self._grouped[sheet].get(person, ()))

    def people(self, sheet: str) -> list[str]:
        """Whose rows ``sheet`` holds (by ``PERSON_COLUMN``), in sheet order, repeated
        for each row."""
        rows = self.rows.get(sheet, [])
        if isinstance(rows, PersonRows):
            return rows.people()
        column = PERSON_COLUMN[sheet]
        return [key for r in rows if isinstance(key := r.get(column), str)]

    @property
    def cycle(self) -> Row | None:
        rows = self.rows.get("Cycle", [])
        return rows[0] if rows else None

    @property
    def as_of(self) -> dt.date | None:
        value = self.cycle.get("as_of") if self.cycle else None
        return value if isinstance(value, dt.date) else self.fallback_as_of


class RowsAbout(Mapping[str, list[Row]]):
    """A person-keyed sheet's rows by the person they are about, read when asked (the
    rows stay where ingestion keeps them)."""

    def __init__(self, panel: Panel, sheet: str) -> None:
        self.panel, self.sheet = panel, sheet

    def __getitem__(self, person: str) -> list[Row]:
        rows = self.panel.about(self.sheet, person) if isinstance(person, str) else []
        if not rows:
            raise KeyError(person)
        return rows

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(self.panel.people(self.sheet)))

    def __len__(self) -> int:
        return len(set(self.panel.people(self.sheet)))


class RowAbout(Mapping[str, Row]):
    """A sheet with one row a person (Employees, Teams) by the person, read when asked."""

    def __init__(self, panel: Panel, sheet: str) -> None:
        self.rows = RowsAbout(panel, sheet)

    def __getitem__(self, person: str) -> Row:
        return self.rows[person][-1]

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)
