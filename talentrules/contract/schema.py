"""How the contract describes a sheet: its columns, each column's kind, range, allowed
values and vendor aliases; and the key names, headers and labels are matched by."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "text", "int", "number", "percent", "date", "bool", "scale", "enum"]


def normalize(name: object) -> str:
    """Matching key for sheet names, headers and labels.

    Case-insensitive and blind to spaces, underscores, hyphens and punctuation:
    ``Employee ID``, ``employee_id`` and ``EMPLOYEE-ID`` all give ``employeeid``.
    """
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


@dataclass(frozen=True)
class Column:
    """One column of the contract."""

    name: str
    kind: Kind
    help: str
    required: bool = False  # the column must be present in the sheet
    needed: bool = False  # every data row must have a value here
    aliases: tuple[str, ...] = ()  # vendor spellings, matched after normalize()
    # enum: canonical value -> extra labels that mean it; scale: int -> labels.
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labels: dict[int, tuple[str, ...]] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    example: object = None
    refers_to_employee: bool = False  # value must be an employee_id in Employees
    not_after_as_of: bool = False  # a date that cannot be later than the cycle's as_of

    @property
    def allowed(self) -> str:
        """What the column accepts, in words, for messages and header comments."""
        if self.kind == "enum":
            # Only the Evidence signal column can be empty: a rulebook without a signal
            # catalogue. Say so rather than print "()".
            return ", ".join(self.values) or "none: the rulebook has no signals.yaml"
        if self.kind == "scale":
            lo, hi = int(self.minimum or 0), int(self.maximum or 0)
            names = "; ".join(f"{n} {ls[0]}" for n, ls in sorted(self.labels.items()) if ls)
            return f"a whole number {lo}-{hi}" + (f" ({names})" if names else "")
        if self.kind == "bool":
            return "yes or no (Y, N, Yes, No, True, False, 1, 0)"
        if self.kind == "date":
            return "a date (an Excel date, or text such as 2026-03-31)"
        if self.kind == "percent":
            return "a percentage 0-100"
        if self.kind in ("int", "number"):
            what = "a whole number" if self.kind == "int" else "a number"
            if self.minimum is not None and self.maximum is not None:
                return f"{what} {self.minimum:g}-{self.maximum:g}"
            if self.minimum is not None:
                return f"{what} of at least {self.minimum:g}"
            return what
        if self.kind == "id":
            return "an identifier (text)"
        return "text"


@dataclass(frozen=True)
class Sheet:
    """One sheet of the contract."""

    name: str
    help: str
    columns: tuple[Column, ...]
    required: bool = False
    aliases: tuple[str, ...] = ()
    unique: str | None = None  # column whose values must be unique
    single_row: bool = False  # Cycle: one row of settings
    restricted: bool = False  # Demographics: only the fairness monitor reads it

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def id_column(name: str, help: str, aliases: tuple[str, ...] = (), **kw: object) -> Column:
    """A column of identifiers (an employee_id, a source_id, ...)."""
    return Column(name, "id", help, aliases=aliases, **kw)  # type: ignore[arg-type]


def column_by_key(sheet: Sheet) -> dict[str, Column]:
    """Every normalized column name and alias of ``sheet`` mapped to its column."""
    return {normalize(n): c for c in sheet.columns for n in (c.name, *c.aliases)}
