"""A workbook as it is being read: the problems found so far, each data row with its
own, and where each contract column sits in its sheet."""

from __future__ import annotations

from dataclasses import dataclass, field

from talentrules.contract import Column, Sheet
from talentrules.ingest.values import Parser, as_text
from talentrules.model import Problem, RejectedRow, Row, Severity, SheetAccount, split_ref


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


@dataclass
class SheetRead:
    sheet: Sheet
    tab: str
    drafts: list[Draft]
    account: SheetAccount
    trailers: list[RejectedRow]
    present: set[str] = field(default_factory=set)  # contract columns found in the header
    every_row: list[Problem] = field(default_factory=list)  # header errors: every row fails
    merge_problems: dict[str, Problem] = field(default_factory=dict)


def a1(ref: str) -> str:
    """'Evidence!F14' -> 'F14', 'Evidence.csv:14:signal' -> '14:signal' (the sheet is in
    the Problem already)."""
    return split_ref(ref)[1]
