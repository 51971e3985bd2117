"""One cell's raw value -> the contract column's typed value, or why not.

Each column gets a parser built once per sheet (its labels and aliases already
normalized), so the per-cell work is a dictionary lookup or two. A parser returns
the typed value or an ``Invalid`` saying what is wrong and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel

from talentrules.contract import Column, Sheet, normalize
from talentrules.model import Cell, Row, Value

EXCEL_ERRORS = frozenset(
    {"#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}
)

# A number in a date column is taken as an Excel serial date only in this range
# (1950-01-01 .. 2199-12-31): a year (2026) or a rating (4) is not a date.
_SERIAL_MIN, _SERIAL_MAX = 18264, 109938

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_YMD = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_XYZ = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})")
_D_MON_Y = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s-]+([A-Za-z]+)\.?,?[\s-]+(\d{2}|\d{4})")
_MON_D_Y = re.compile(r"([A-Za-z]+)\.?[\s-]+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{2}|\d{4})")
_INT_TEXT = re.compile(r"[+-]?\d+(?:\.0*)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SCALE_PREFIX = re.compile(r"(\d+)\s*[-–—:.)]\s*(\S.*)")
_ZERO_FORMAT = re.compile(r'((?:"[^"]*"|\\.)*)(0+)((?:"[^"]*"|\\.)*)')
_LITERAL = re.compile(r'"([^"]*)"|\\(.)')
_EXAMPLE_OR_NOTE = re.compile(r"(?i)(example\b|e\.g\.)")

_TRUE = frozenset({"y", "yes", "true", "1"})
_FALSE = frozenset({"n", "no", "false", "0"})


@dataclass(frozen=True)
class Invalid:
    """Why a cell's value cannot be used: a message and maybe a near miss."""

    message: str
    suggestion: str | None = None


Parsed = Value | Invalid
Parser = Callable[[object, str], Parsed]  # (raw value, number format) -> typed value


def as_text(raw: object) -> str:
    """A cell value as the text a person sees: whole floats without '.0', dates as ISO."""
    if type(raw) is str:
        return raw.strip()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat(" ")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw).strip()


def is_example(text: str) -> bool:
    """A worked example row (template convention): first cell starts 'EXAMPLE' or 'e.g.'."""
    return _EXAMPLE_OR_NOTE.match(text) is not None


def _whole(raw: float) -> int | None:
    return int(raw) if raw.is_integer() else None


def _tidy(number: float) -> int | float:
    """92.00000000000001 (0.92 * 100) -> 92; whole floats become ints."""
    number = round(number, 9)
    return int(number) if number.is_integer() else number


def _not_finite(column: Column, raw: object) -> Invalid:
    # nan and inf compare false with every bound, so a range check alone lets them
    # through (a nan budget would switch the budget off).
    return Invalid(f"{as_text(raw)!r} is not a finite number ({column.allowed})")


def _range_check(column: Column, number: float) -> Invalid | None:
    lo, hi = column.minimum, column.maximum
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        return Invalid(f"{number:g} is out of range for {column.name} ({column.allowed})")
    return None


def _near(key: str, choices: dict[str, str]) -> str | None:
    """The canonical spelling closest to ``key`` (a normalized text), if any is close."""
    best = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.75)
    return choices[best[0]] if best else None


def _id_text(raw: object, number_format: str) -> Parsed:
    if isinstance(raw, bool):
        return Invalid(f"{raw} is not an identifier")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            return Invalid(f"{as_text(raw)!r} is not an identifier")
        whole = raw if isinstance(raw, int) else _whole(raw)
        if whole is None:
            return Invalid(f"{raw:g} is not an identifier (it has decimals)")
        # Excel keeps 00042 as the number 42 shown with the format 00000.
        found = _ZERO_FORMAT.fullmatch(number_format.split(";")[0])
        if found and whole >= 0:
            prefix = _LITERAL.sub(lambda m: m.group(1) or m.group(2) or "", found.group(1))
            suffix = _LITERAL.sub(lambda m: m.group(1) or m.group(2) or "", found.group(3))
            return prefix + str(whole).zfill(len(found.group(2))) + suffix
        return str(whole)
    if isinstance(raw, dt.date):
        return Invalid(f"the date {as_text(raw)} is not an identifier")
    return as_text(raw) or None


def _text(raw: object, number_format: str) -> Parsed:
    return as_text(raw) or None


def _number(column: Column, whole_only: bool) -> Parser:
    what = "a whole number" if whole_only else "a number"

    def parse(raw: object, number_format: str) -> Parsed:
        number: float
        if isinstance(raw, bool) or isinstance(raw, dt.date):
            return Invalid(f"{as_text(raw)!r} is not {what} ({column.allowed})")
        if isinstance(raw, int | float):
            number = raw
        else:
            text = as_text(raw)
            if _THOUSANDS.fullmatch(text):
                text = text.replace(",", "")
            try:
                number = float(text)
            except ValueError:
                return Invalid(f"{text!r} is not {what} ({column.allowed})")
        if not math.isfinite(number):
            return _not_finite(column, raw)
        if whole_only and not float(number).is_integer():
            return Invalid(f"{number:g} is not a whole number ({column.allowed})")
        return _range_check(column, number) or _tidy(float(number))

    return parse


def _percent(column: Column) -> Parser:
    def parse(raw: object, number_format: str) -> Parsed:
        number: float
        if isinstance(raw, bool) or isinstance(raw, dt.date):
            return Invalid(f"{as_text(raw)!r} is not a percentage ({column.allowed})")
        if isinstance(raw, int | float):
            # A cell formatted as % holds 0.92 for 92 %; otherwise the number is 0-100.
            number = raw * 100 if "%" in number_format else raw
        else:
            text = as_text(raw).rstrip("%").strip()
            try:
                number = float(text)
            except ValueError:
                return Invalid(f"{as_text(raw)!r} is not a percentage ({column.allowed})")
        if not math.isfinite(number):
            return _not_finite(column, raw)
        number = _tidy(float(number))
        return _range_check(column, number) or number

    return parse


def _date(epoch: dt.datetime) -> Parser:
    def parse(raw: object, number_format: str) -> Parsed:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, bool) or isinstance(raw, dt.time | dt.timedelta):
            return Invalid(f"{as_text(raw)!r} is not a date")
        if isinstance(raw, int | float):
            if _SERIAL_MIN <= raw <= _SERIAL_MAX:
                return _as_date(from_excel(raw, epoch))
            return Invalid(f"the number {raw:g} is not a date (use 2026-03-31 or an Excel date)")
        return parse_text_date(as_text(raw))

    return parse


def _as_date(value: object) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value  # type: ignore[return-value]


def _real(text: str, year: int, month: int, day: int) -> Parsed:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return Invalid(f"{text!r} is not a real date")


def parse_text_date(text: str) -> Parsed:
    """ISO, year-first, day-first and month-first text; refused when it is ambiguous."""
    if found := _ISO.fullmatch(text) or _YMD.fullmatch(text):
        return _real(text, int(found.group(1)), int(found.group(2)), int(found.group(3)))
    two_digit = Invalid(f"{text!r}: write the year with four digits (2026-03-31)")
    if found := _XYZ.fullmatch(text):
        first, second, year = int(found.group(1)), int(found.group(3)), found.group(4)
        if len(year) == 2:
            return two_digit
        if first > 12 and second <= 12:
            return _real(text, int(year), second, first)
        if second > 12 and first <= 12:
            return _real(text, int(year), first, second)
        if first == second:
            return _real(text, int(year), first, first)
        if first <= 12 and second <= 12:
            return Invalid(
                f"ambiguous date {text!r}: day {first} of month {second}, or month {first} "
                f"day {second}? Write it as {year}-MM-DD"
            )
        return Invalid(f"{text!r} is not a real date")
    for pattern, day_at, month_at in ((_D_MON_Y, 1, 2), (_MON_D_Y, 2, 1)):
        if found := pattern.fullmatch(text):
            month = _MONTHS.get(found.group(month_at).casefold())
            if month is None:
                break
            if len(found.group(3)) == 2:
                return two_digit
            return _real(text, int(found.group(3)), month, int(found.group(day_at)))
    return Invalid(f"{text!r} is not a date (use 2026-03-31 or an Excel date)")


def _bool(raw: object, number_format: str) -> Parsed:
    if isinstance(raw, bool):
        return raw
    key = normalize(as_text(raw))
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    return Invalid(f"{as_text(raw)!r} is not yes or no (Y, N, Yes, No, True, False, 1, 0)")


def _scale(column: Column) -> Parser:
    labels = {normalize(label): n for n, names in column.labels.items() for label in names}
    shown = {key: column.labels[n][0] for key, n in labels.items()}
    lo, hi = int(column.minimum or 0), int(column.maximum or 0)

    def check(number: int | float) -> Parsed:
        if not math.isfinite(number):
            return _not_finite(column, number)
        if not float(number).is_integer():
            return Invalid(f"{number:g} is not a whole number ({column.allowed})")
        if not lo <= number <= hi:
            return Invalid(f"{number:g} is out of range for {column.name} ({column.allowed})")
        return int(number)

    def parse(raw: object, number_format: str) -> Parsed:
        if isinstance(raw, bool) or isinstance(raw, dt.date):
            return Invalid(f"{as_text(raw)!r} is not a {column.name} ({column.allowed})")
        if isinstance(raw, int | float):
            return check(raw)
        text = as_text(raw)
        if _INT_TEXT.fullmatch(text):
            return check(float(text))
        key = normalize(text)
        if key in labels:
            return labels[key]
        # Vendor exports often say "4 - Exceeds expectations".
        if found := _SCALE_PREFIX.fullmatch(text):
            number = int(found.group(1))
            said = labels.get(normalize(found.group(2)))
            if said is not None and said != number:
                return Invalid(f"{text!r} says both {number} and {said} ({column.allowed})")
            return check(number)
        return Invalid(f"{text!r} is not a {column.name} ({column.allowed})", _near(key, shown))

    return parse


def _enum(column: Column) -> Parser:
    choices = {normalize(c): c for c in column.values}
    choices.update(
        {normalize(a): canonical for canonical, aliases in column.values.items() for a in aliases}
    )

    def parse(raw: object, number_format: str) -> Parsed:
        text = as_text(raw)
        key = normalize(text)
        if key in choices:
            return choices[key]
        return Invalid(f"{text!r} is not a {column.name} ({column.allowed})", _near(key, choices))

    return parse


def _remembered(parse: Parser, seen: dict[str, Parsed]) -> Parser:
    """Coded columns repeat a few texts thousands of times: parse each text once
    (``seen``: each text's value, read directly by the workbook's reader)."""

    def parse_text(raw: object, number_format: str) -> Parsed:
        if type(raw) is not str:
            return parse(raw, number_format)
        if raw in seen:
            return seen[raw]
        found = parse(raw, number_format)
        if len(seen) < 10_000:
            seen[raw] = found
        return found

    return parse_text


def parser_for(column: Column, epoch: dt.datetime) -> Parser:
    """The parser of ``column``'s kind, with its tables prepared."""
    return parser_and_memo(column, epoch)[0]


def parser_and_memo(column: Column, epoch: dt.datetime) -> tuple[Parser, dict[str, Parsed] | None]:
    """``parser_for``'s parser, and for a coded column the texts it has parsed with
    their values (the parser adds to it): a text found there is what the parser gives
    it, whatever the number format, without calling it."""
    parse = _parser(column, epoch)
    if column.kind not in ("enum", "scale", "bool", "date"):
        return parse, None
    seen: dict[str, Parsed] = {}
    return _remembered(parse, seen), seen


def _parser(column: Column, epoch: dt.datetime) -> Parser:
    kind = column.kind
    if kind == "id":
        return _id_text
    if kind == "text":
        return _text
    if kind == "int":
        return _number(column, whole_only=True)
    if kind == "number":
        return _number(column, whole_only=False)
    if kind == "percent":
        return _percent(column)
    if kind == "date":
        return _date(epoch)
    if kind == "bool":
        return _bool
    if kind == "scale":
        return _scale(column)
    return _enum(column)


def typed_row(
    sheet: Sheet, number: int, raw: Mapping[str, object], ref: str
) -> tuple[Row, list[tuple[str, str]]]:
    """Values from outside a workbook (a decision taken in ``talentrules serve``) read
    as one row of ``sheet``: the same parsers, aliases and needed columns as a cell of
    the sheet, every cell's ref ``ref``. Returns the row and (column, what is wrong)."""
    cells: dict[str, Cell] = {}
    wrong: list[tuple[str, str]] = []
    for column in sheet.columns:
        value = raw.get(column.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            cells[column.name] = Cell(None, ref)
            if column.needed:
                wrong.append((column.name, f"the {column.name} is needed but is blank"))
            continue
        parsed = parser_for(column, CALENDAR_WINDOWS_1900)(value, "")
        if isinstance(parsed, Invalid):
            cells[column.name] = Cell(None, ref)
            near = f"; did you mean '{parsed.suggestion}'?" if parsed.suggestion else ""
            wrong.append((column.name, parsed.message + near))
            continue
        cells[column.name] = Cell(parsed, ref)
    return Row(sheet.name, number, cells), wrong
