"""Diagnostics: each problem in a rulebook, with its file and line, collected so the
checker reports them all together."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from talentrules.rulefiles.places import where

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding of the checker, with the place it is about."""

    severity: Severity
    file: str
    line: int  # a line of the file, or a Cell of a workbook
    message: str
    rule_id: str | None = None

    @property
    def place(self) -> str:
        """Where, as messages name it: ``FILE:LINE``, or ``WORKBOOK: Sheet!A1``."""
        return where(self.file, self.line)

    def __str__(self) -> str:
        where_ = f"{self.place}: "
        if self.severity == "warning":
            where_ += "warning: "
        if self.rule_id is not None:
            where_ += f"rule {self.rule_id}: "
        return where_ + self.message


class Report:
    """Collects diagnostics while the loaders walk the files."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, file: str, line: int, message: str, rule_id: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("error", file, line, message, rule_id))

    def warning(self, file: str, line: int, message: str, rule_id: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("warning", file, line, message, rule_id))

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def has_errors(self) -> bool:
        return self.errors > 0


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
