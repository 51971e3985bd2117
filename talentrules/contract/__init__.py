"""The workbook contract as data; ``docs/workbook.md`` is written from it.

One table says which sheets exist, their columns, each column's type, scale,
allowed values, vendor aliases and help text. Ingestion validates against it, the
``template`` command writes it out, the benchmark generator fills it in and
``scripts/gen_docs.py`` documents it, so the four can never disagree (rerun that
script after a change here; tests/test_docs.py fails until you do). The Evidence
``signal`` codes are the rulebook's (``with_signals``), not the contract's.

The values here are the workbook's words (a vendor's labels, the Investments sheet's
tracks, an influence base of Position or Expertise). Some read like outcomes of the
default rulebook (Expert, Leadership, Personal) because the contract and the rulebook
speak of the same things; no judgement in Python is keyed by them.

How a sheet is described (Column, Sheet, normalize) is in ``schema``; the tables
themselves, a module per sheet or two (cycle, people, evidence, development,
overrides, demographics); SHEETS and the look-ups over them below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from talentrules.contract.cycle import CYCLE
from talentrules.contract.demographics import DEMOGRAPHICS, PROTECTED_COLUMNS
from talentrules.contract.development import DEVELOPMENT, INVESTMENT_TRACKS, INVESTMENTS
from talentrules.contract.evidence import EVIDENCE, NOMINATIONS
from talentrules.contract.overrides import (
    ALLOCATION_FIELD,
    INVESTMENT_FIELD,
    OVERRIDE_FIELDS,
    OVERRIDE_ROLES,
    OVERRIDES,
)
from talentrules.contract.people import EMPLOYEES, TEAMS
from talentrules.contract.schema import Column, Sheet, column_by_key, normalize

__all__ = [  # the contract as the other stages read it
    "ALLOCATION_FIELD",
    "CYCLE",
    "DEMOGRAPHICS",
    "DEVELOPMENT",
    "EMPLOYEES",
    "EVIDENCE",
    "INVESTMENTS",
    "INVESTMENT_FIELD",
    "INVESTMENT_TRACKS",
    "NOMINATIONS",
    "OVERRIDES",
    "OVERRIDE_FIELDS",
    "OVERRIDE_ROLES",
    "PROTECTED_COLUMNS",
    "SHEETS",
    "TEAMS",
    "Column",
    "Sheet",
    "column_by_key",
    "normalize",
    "sheet_by_key",
    "with_signals",
]

# Every sheet, in the order the template writes them and the docs describe them.
SHEETS: tuple[Sheet, ...] = (
    CYCLE,
    EMPLOYEES,
    EVIDENCE,
    NOMINATIONS,
    TEAMS,
    DEVELOPMENT,
    INVESTMENTS,
    OVERRIDES,
    DEMOGRAPHICS,
)


def with_signals(sheets: tuple[Sheet, ...], codes: Iterable[str]) -> tuple[Sheet, ...]:
    """The sheets with the Evidence ``signal`` column accepting exactly ``codes``."""
    values: dict[str, tuple[str, ...]] = {code: () for code in codes}
    example = next(iter(values), None)
    updated = []
    for sheet in sheets:
        if sheet.name == EVIDENCE.name:
            columns = tuple(
                replace(c, values=values, example=example) if c.name == "signal" else c
                for c in sheet.columns
            )
            sheet = replace(sheet, columns=columns)
        updated.append(sheet)
    return tuple(updated)


def sheet_by_key() -> dict[str, Sheet]:
    """Every normalized sheet name and alias mapped to its sheet."""
    return {normalize(n): s for s in SHEETS for n in (s.name, *s.aliases)}
