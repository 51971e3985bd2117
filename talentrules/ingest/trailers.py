"""Telling a person's row from what sits below the data: a totals or notes row, a
single note, a SUM row (rejected as "not a person", never read as one)."""

from __future__ import annotations

import re

from talentrules.contract import Sheet
from talentrules.ingest.drafts import Slot
from talentrules.ingest.xlsx import RawCell

# First cell of a totals or notes row below the data.
_TRAILER = re.compile(
    r"(?i)\s*(?:(?:grand\s*|sub\s*)?totals?|sum|average|count|notes?|n\.?b\.?)\b\s*:?"
)


def has_value(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def first_value(cells: list[RawCell | None]) -> object:
    """The first non-empty value of a row (a formula counts), or None for a blank row."""
    for cell in cells:
        if cell is not None and (has_value(cell.value) or cell.data_type == "f"):
            return "(a formula)" if cell.value is None else cell.value
    return None


def key_slots(sheet: Sheet, slots: list[Slot]) -> list[Slot]:
    """The columns that say whose row it is: needed ids (or the first needed column)."""
    needed = [s for s in slots if s.column.needed]
    return [s for s in needed if s.column.kind == "id"] or needed[:1]


def _filled(cells: list[RawCell | None], slot: Slot) -> bool:
    cell = cells[slot.index] if slot.index < len(cells) else None
    return cell is not None and has_value(cell.value)


def _any_filled(cells: list[RawCell | None], slots: list[Slot]) -> bool:
    """``any(_filled(cells, slot) for slot in slots)``, in one call (every row asks)."""
    size = len(cells)
    for slot in slots:
        at = slot.index
        if at < size:
            cell = cells[at]
            if cell is not None:
                value = cell.value
                if value is not None and not (isinstance(value, str) and not value.strip()):
                    return True
    return False


def not_a_person(
    text: str, cells: list[RawCell | None], keys: list[Slot], needed: list[Slot]
) -> str | None:
    """Why this row is recognisably not a person's (or an observation's), or None.

    A row with its id and every value a row needs is data, whatever its first cell
    says (an id 'Total 1' or 'NB-7', a person named 'Sum Wing Lee'), unless it is a
    totals label followed by numbers only. Otherwise: no id and a totals/notes label,
    a single value or only numbers (a SUM row, a note); or a totals label where the
    id goes, without the values a row needs.
    """
    keyed = not keys or _any_filled(cells, keys)
    labelled = _TRAILER.match(text) is not None
    if keyed and not labelled:
        return None  # a person's row, as nearly every row is: no need to look further
    present = [c.value for c in cells if c is not None and has_value(c.value)]
    if not keyed:
        if labelled or len(present) == 1 or not any(isinstance(v, str) for v in present):
            return f"no {keys[0].column.name}"
        return None
    if sum(isinstance(v, str) for v in present) == 1:  # the label, then numbers
        return f"the label {text[:30]!r} and numbers only"
    missing = [slot.column.name for slot in needed if not _filled(cells, slot)]
    return f"the label {text[:30]!r} without {', '.join(missing)}" if missing else None
