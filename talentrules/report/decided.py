"""What ``evaluate --session`` adds to OUTDIR: the session file itself (one file, its
chain checked by ``audit verify``) and a copy of the workbook with the session's
decisions written into its Overrides sheet, so the panel's workbook holds them too.

Only the decisions that apply go into the copy (the last one of each thing; the ones
before it and those that no longer fit stay in the session file): evaluated again,
the copy gives what the session gave. Each written decision cell carries a comment
naming the session decision it came from.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
from openpyxl.comments import Comment
from openpyxl.worksheet.worksheet import Worksheet

from talentrules.contract import OVERRIDES, column_by_key, normalize
from talentrules.decide import Override
from talentrules.errors import OutputError
from talentrules.session import SESSION_FILE, copy_session

if TYPE_CHECKING:
    from talentrules.report.publish import Hook
    from talentrules.run import RunResult

SESSION_PREFIX = "session decision "


def decided_name(workbook: Path) -> str:
    """The copy's name: ``panel_review.xlsx`` -> ``panel_review.decided.xlsx``."""
    return f"{workbook.stem}.decided{workbook.suffix}"


def session_overrides(result: RunResult) -> list[Override]:
    """The session's decisions that apply, in the order they were taken."""
    found = [
        o
        for o in result.decisions.overrides
        if o.applies and o.refs.get("decision", "").startswith(SESSION_PREFIX)
    ]
    return sorted(found, key=_seq)


def _seq(override: Override) -> int:
    return int(override.refs["decision"][len(SESSION_PREFIX) :].split(" ", 1)[0])


def session_hooks(session_path: Path) -> Sequence[Hook]:
    """The hooks writing the session's copy and the decided workbook into OUTDIR."""

    def copy(folder: Path, result: RunResult) -> None:
        source = sqlite3.connect(f"{session_path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            copy_session(source, folder / SESSION_FILE)
        finally:
            source.close()

    def workbook(folder: Path, result: RunResult) -> None:
        path = result.panel.path
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            write_decided_workbook(path, folder / decided_name(path), session_overrides(result))

    return (copy, workbook)


def write_decided_workbook(source: Path, target: Path, overrides: Sequence[Override]) -> None:
    """``source`` copied to ``target`` with ``overrides`` appended to its Overrides sheet
    (the sheet made, with the contract's headers, when the workbook has none)."""
    try:
        book = openpyxl.load_workbook(source, keep_vba=source.suffix.lower() == ".xlsm")
    except (OSError, ValueError, KeyError) as error:
        raise OutputError(f"{source}: cannot be copied with the decisions: {error}") from error
    sheet = _overrides_sheet(book)
    columns = _columns(sheet)
    row = sheet.max_row + 1
    for override in overrides:
        values = {
            "employee_id": override.employee_id,
            "field": override.field,
            "decision": _decision_text(override),
            "reason": override.reason,
            "decided_by": override.decided_by,
            "decided_on": override.decided_on,
        }
        for name, value in values.items():
            cell = sheet.cell(row, columns[name], value)
            if name == "decided_on":
                cell.number_format = "yyyy-mm-dd"
        note = f"{override.refs['decision']} (talentrules serve)"
        sheet.cell(row, columns["decision"]).comment = Comment(note, "talentrules")
        row += 1
    book.save(target)


def _decision_text(override: Override) -> str:
    """The decision as the sheet's cell writes it (allocation: CODE: STATUS)."""
    text = "; ".join(override.decision) or "none"
    return f"{override.target}: {text}" if override.target else text


def _overrides_sheet(book: openpyxl.Workbook) -> Worksheet:
    names = {normalize(n) for n in (OVERRIDES.name, *OVERRIDES.aliases)}
    for found in book.worksheets:
        if normalize(found.title) in names:
            return found
    made: Worksheet = book.create_sheet(OVERRIDES.name)
    made.append([column.name for column in OVERRIDES.columns])
    return made


def _columns(sheet: Worksheet) -> dict[str, int]:
    """Each Overrides column's number in the sheet's header (the first non-empty row);
    a column the header lacks is added at its end."""
    by_key = column_by_key(OVERRIDES)
    found: dict[str, int] = {}
    header = 1
    for number, row in enumerate(sheet.iter_rows(min_row=1, max_row=sheet.max_row), 1):
        if any(cell.value is not None and str(cell.value).strip() for cell in row):
            header = number
            for index, cell in enumerate(row, 1):
                column = by_key.get(normalize(cell.value)) if cell.value is not None else None
                if column is not None and column.name not in found:
                    found[column.name] = index
            break
    width = sheet.max_column
    for column in OVERRIDES.columns:
        if column.name not in found:
            width += 1
            sheet.cell(header, width, column.name)
            found[column.name] = width
    return found
