"""The blank workbook a panel fills in: every contract sheet, explained in place.

Written from ``contract.SHEETS`` so the template can never disagree with what
ingestion accepts: each header carries a comment with the column's meaning and
scale, enumerated columns get a dropdown, and each sheet gets one worked example
row that ingestion skips (its first cell starts with ``e.g.``).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from talentrules.contract import INVESTMENTS, SHEETS, Column, Sheet, with_signals
from talentrules.decide import default_catalogue
from talentrules.errors import OutputError
from talentrules.vocabulary import signal_catalogue

# Agreed with ingestion: a row whose first cell's text starts with this (or with
# "EXAMPLE") is a worked example and is skipped like a blank row.
EXAMPLE_PREFIX = "e.g. "

# Canonical yes/no pair offered in dropdowns; ingestion also reads Y/N/True/False/1/0.
BOOL_CHOICES = ("Yes", "No")

# Excel refuses a list validation whose inline formula is longer than this.
_MAX_LIST_FORMULA = 255
_LAST_ROW = 1_048_576

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_REQUIRED_FILL = PatternFill("solid", fgColor="833C0B")
_EXAMPLE_FONT = Font(italic=True, color="808080")


def choices(column: Column) -> tuple[str, ...]:
    """The dropdown values for ``column``, or () when it takes free values."""
    if column.kind == "enum":
        return tuple(column.values)
    if column.kind == "scale":
        return tuple(str(n) for n in range(int(column.minimum or 1), int(column.maximum or 1) + 1))
    if column.kind == "bool":
        return BOOL_CHOICES
    return ()


def header_comment(sheet: Sheet, column: Column, *, first: bool, empty: bool) -> str:
    """The note on a header cell: what the column means and what it accepts."""
    need = "required column, a value in every row" if column.needed else None
    if need is None and column.required:
        need = "required column"
    lines = [column.name + (f" ({need})" if need else " (optional)"), column.help]
    lines.append(f"Allowed: {column.allowed}.")
    if column.kind == "scale" and column.labels:
        labels = "; ".join(f"{n} = {', '.join(ls)}" for n, ls in sorted(column.labels.items()))
        lines.append(f"Labels also read: {labels}.")
    if column.kind == "enum" and any(column.values.values()):
        alts = "; ".join(f"{v}: {', '.join(ls)}" for v, ls in column.values.items() if ls)
        lines.append(f"Also read: {alts}.")
    if column.refers_to_employee:
        lines.append("Must be an employee_id on the Employees sheet.")
    if column.not_after_as_of:
        lines.append("Cannot be later than the Cycle sheet's as_of date.")
    lines.append("Blank means unknown, never 'no' or zero.")
    if column.aliases:
        lines.append(f"Header also read as: {', '.join(column.aliases)}.")
    if sheet.restricted:
        lines.append(
            "RESTRICTED: read only by the fairness monitor, never by the rules; "
            "limit who can see this sheet."
        )
    if first:
        lines.append(f"Sheet {sheet.name}: {sheet.help}")
        if sheet.unique == column.name:
            lines.append("Each value may appear only once on this sheet.")
        if not empty:
            lines.append(
                f"Row 2 is a worked example: its first cell starts with '{EXAMPLE_PREFIX.strip()}' "
                "(or 'EXAMPLE'), so talentrules skips it. Keep it, or delete the row."
            )
    return "\n".join(lines)


def _example_value(column: Column, first: bool) -> str | int | float | dt.date | None:
    value = column.example
    if first:
        return f"{EXAMPLE_PREFIX}{value}"
    if column.kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if column.kind == "bool" and isinstance(value, str):
        return BOOL_CHOICES[0] if value.upper().startswith("Y") else BOOL_CHOICES[1]
    if value == "" or not isinstance(value, str | int | float):
        return None
    return value


def _write_sheet(ws: Worksheet, sheet: Sheet, *, empty: bool) -> None:
    for index, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index, value=column.name)
        cell.font = _HEADER_FONT
        cell.fill = _REQUIRED_FILL if column.needed else _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        text = header_comment(sheet, column, first=index == 1, empty=empty)
        comment = Comment(text, "talentrules")
        comment.width = 360
        comment.height = 40 + 16 * (text.count("\n") + len(text) // 60)
        cell.comment = comment
        example = "" if column.example is None else str(column.example)
        width = max(len(column.name), len(example) + (len(EXAMPLE_PREFIX) if index == 1 else 0))
        ws.column_dimensions[letter].width = min(max(width + 3, 12), 48)
        if column.kind == "date":
            ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width, 13)

        values = choices(column)
        if values:
            formula = '"' + ",".join(values) + '"'
            if len(formula) > _MAX_LIST_FORMULA or any("," in v or '"' in v for v in values):
                raise OutputError(f"{sheet.name}.{column.name}: choices do not fit a dropdown")
            validation = DataValidation(
                type="list",
                formula1=formula,
                allow_blank=True,
                # Warning, not stop: vendor labels such as 'Exceeds' are valid too.
                errorStyle="warning",
                showErrorMessage=True,
                # Excel's limits: titles 32 characters, messages 255 (error 225).
                errorTitle=column.name[:32],
                error=f"Expected {column.allowed}."[:225],
                showInputMessage=True,
                promptTitle=column.name[:32],
                prompt=column.help[:255],
            )
            validation.add(f"{letter}2:{letter}{_LAST_ROW}")
            ws.add_data_validation(validation)

    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 20
    if empty:
        return
    for index, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(row=2, column=index, value=_example_value(column, index == 1))
        cell.font = _EXAMPLE_FONT
        if column.kind == "date":
            cell.number_format = "yyyy-mm-dd"


def _write_catalogue(ws: Worksheet, sheet: Sheet, rules_dir: str | Path | None) -> None:
    """The rulebook's default catalogue as the Investments sheet's rows, so a panel edits
    its own seats and costs instead of typing the codes (a blank sheet would fall back
    to the same catalogue, unseen)."""
    catalogue = default_catalogue(Path(rules_dir) if rules_dir is not None else None)
    key = sheet.columns[0].name  # investment_code; the other columns are Investment's fields
    for investment in catalogue.investments.values():
        ws.append(
            [
                investment.code if column.name == key else getattr(investment, column.name, None)
                for column in sheet.columns
            ]
        )
    note = ws.cell(row=1, column=1).comment
    if note is not None:
        currency = catalogue.currency or "the catalogue's currency"
        note.text += (
            f"\nThe rows below are the rulebook's default catalogue ({catalogue.source}): "
            f"costs are indicative, in {currency}, and no seat is limited. Set your own "
            "seats and costs, delete what you do not offer, add what you do."
        )


def build_template(empty: bool = False, rules_dir: str | Path | None = None) -> Workbook:
    """The template as an openpyxl workbook (for callers that add rows before saving).

    The Evidence ``signal`` dropdown lists the signal catalogue of ``rules_dir``
    (default: the packaged rulebook's); the Investments sheet holds its default
    catalogue, with or without ``empty`` (it is the panel's data to edit, not an example).
    """
    workbook = Workbook()
    default = workbook.active
    for sheet in with_signals(SHEETS, signal_catalogue(rules_dir)):
        ws = workbook.create_sheet(sheet.name)
        _write_sheet(ws, sheet, empty=empty)
        if sheet.name == INVESTMENTS.name:
            _write_catalogue(ws, sheet, rules_dir)
    if default is not None:
        workbook.remove(default)
    return workbook


def write_template(
    path: str | Path,
    empty: bool = False,
    force: bool = False,
    rules_dir: str | Path | None = None,
) -> Path:
    """Write the blank workbook to ``path``; refuse to overwrite unless ``force``.

    With ``empty`` the sheets have headers only, no worked example rows.
    """
    target = Path(path)
    if target.exists() and not force:
        raise OutputError(f"{target}: already exists; use --force to overwrite it")
    if target.suffix.lower() != ".xlsx":
        raise OutputError(f"{target}: a template must be an .xlsx file")
    workbook = build_template(empty=empty, rules_dir=rules_dir)
    # Saved beside the target and renamed into place: a failure leaves no half-written file.
    partial = target.with_name(f".{target.name}.partial")
    try:
        workbook.save(partial)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise OutputError(f"{target}: cannot write the template ({error.strerror})") from error
    return target
