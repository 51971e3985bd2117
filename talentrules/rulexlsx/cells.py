"""Reading a rulebook workbook's cells safely, and building YAML nodes that carry them.

The workbook gets the safety scan a panel's workbook gets (size, zip bombs, XML
entities), then the limits of ``layout`` (sheets, rows, columns, cell sizes). Every
cell read becomes a ``Found``: its value and its ``Cell`` (``Heart!D7``); the node
builders give every YAML node the cell it came from, as its mark, so the loaders name
it wherever they would name a file's line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import yaml
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from talentrules.errors import RulebookError, WorkbookError
from talentrules.ingest.files import scan_file
from talentrules.rulefiles import Cell, CellMark, Diagnostic
from talentrules.rulexlsx import emit, layout
from talentrules.rulexlsx.layout import Col, Table

_RESOLVER = yaml.resolver.Resolver()


# Sheets of the layout, found by name; any other sheet whose A1 says "decision" holds
# a decision's rules.
FIXED_SHEETS = frozenset(
    name.lower()
    for name in (
        *(t.sheet for t in layout.FIXED_TABLES),
        layout.README,
        layout.TESTS,
        layout.LISTS,
        *layout.TEST_ROW_SHEETS.values(),
    )
)


@dataclass(frozen=True)
class Found:
    """One cell's value as read: text, a number, true/false, or nothing; and where."""

    value: str | int | float | bool | None
    place: Cell

    @property
    def blank(self) -> bool:
        return self.value is None or self.value == ""

    @property
    def text(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, float) and self.value.is_integer():
            return str(int(self.value))
        return "" if self.value is None else str(self.value)


@dataclass
class Sheet:
    """One worksheet's cells as read (values, places), with its header found."""

    title: str
    rows: list[list[Found]]  # row 1 first; every row as long as the widest
    header_row: int = 1  # 1-based

    def header(self) -> list[Found]:
        return self.rows[self.header_row - 1] if len(self.rows) >= self.header_row else []

    def data(self) -> Iterator[list[Found]]:
        """The rows below the header that hold anything."""
        for row in self.rows[self.header_row :]:
            if any(not cell.blank for cell in row):
                yield row


@dataclass
class Reading:
    """What reading one workbook collects: its sheets, and the problems found."""

    label: str
    sheets: dict[str, Sheet]  # lower-case title -> sheet
    decision_sheets: list[Sheet]
    problems: list[Diagnostic] = field(default_factory=list)

    def error(self, place: Cell | int, message: str, rule_id: str | None = None) -> None:
        self.problems.append(Diagnostic("error", self.label, place, message, rule_id))

    def sheet(self, name: str) -> Sheet | None:
        return self.sheets.get(name.lower())


def mark(place: Cell) -> CellMark:
    return CellMark(place)


def scalar(found: Found, as_text: bool = False) -> yaml.ScalarNode:
    """A cell as a YAML scalar: numbers and true/false keep their type; text is read as
    YAML reads a plain scalar (``as_text``: always text, e.g. a catalogue's "70")."""
    value = found.value
    if isinstance(value, bool):
        tag = "tag:yaml.org,2002:bool"
    elif isinstance(value, int):
        tag = "tag:yaml.org,2002:int"
    elif isinstance(value, float):
        tag = "tag:yaml.org,2002:int" if value.is_integer() else "tag:yaml.org,2002:float"
    elif value is None or value == "":
        tag = emit.NULL
    elif as_text:
        tag = emit.STR
    else:
        tag = _RESOLVER.resolve(yaml.ScalarNode, found.text, (True, False))  # type: ignore[no-untyped-call]
    where = mark(found.place)
    text = "null" if tag == emit.NULL else found.text
    return yaml.ScalarNode(tag, text, where, where)


def text_node(text: str, place: Cell) -> yaml.ScalarNode:
    where = mark(place)
    return yaml.ScalarNode(emit.STR, text, where, where)


def key_node(found: Found) -> yaml.ScalarNode:
    return text_node(found.text.strip(), found.place)


def sequence(items: Sequence[yaml.Node], place: Cell) -> yaml.SequenceNode:
    where = mark(place)
    return yaml.SequenceNode(emit.SEQ, list(items), where, where)


def mapping(entries: Sequence[tuple[yaml.Node, yaml.Node]], place: Cell) -> yaml.MappingNode:
    where = mark(place)
    return yaml.MappingNode(emit.MAP, list(entries), where, where)


def cell_lines(found: Found, as_text: bool = False, limit: int = layout.MAX_LINES) -> list[str]:
    items = [line.strip() for line in found.text.splitlines() if line.strip()]
    return items[:limit]


def list_node(found: Found, as_text: bool = False) -> yaml.SequenceNode:
    """A cell holding a list, one item per line."""
    items = [scalar(Found(line, found.place), as_text) for line in cell_lines(found, as_text)]
    return sequence(items, found.place)


def field_node(found: Found, column: Col) -> yaml.Node:
    return list_node(found, column.text) if column.lines else scalar(found, column.text)


def row_fields(
    row: list[Found], columns: dict[str, int], table: Table, skip: Sequence[str]
) -> list[tuple[yaml.Node, yaml.Node]]:
    """The row's filled cells as ``column: value`` entries, in the table's order, then
    any column the table does not know (the loader names it an unknown key)."""
    entries: list[tuple[yaml.Node, yaml.Node]] = []
    known = set(table.names())
    for name in [*table.names(), *(c for c in columns if c not in known)]:
        if name in skip or name not in columns:
            continue
        found = row[columns[name]]
        if found.blank:
            continue
        column = table.column(name) if name in known else Col(name, "")
        entries.append((text_node(name, found.place), field_node(found, column)))
    return entries


def place_of(node: yaml.Node) -> Cell:
    """The cell a node built here was read from."""
    mark = node.start_mark
    assert isinstance(mark, CellMark)
    return mark.cell


def after(entries: list[tuple[yaml.Node, yaml.Node]], keys: Sequence[str]) -> int:
    """Where to insert an entry: after the last of ``keys`` present, else first."""
    position = 0
    for index, (key, _) in enumerate(entries):
        if isinstance(key, yaml.ScalarNode) and key.value in keys:
            position = index + 1
    return position


def _cell_value(cell: object, place: Cell, reading: Reading) -> Found:
    data_type = getattr(cell, "data_type", "n")
    value = getattr(cell, "value", None)
    if data_type == "f" or (isinstance(value, str) and value.startswith("=") and data_type != "s"):
        reading.error(
            place,
            f"a formula ({value}): write the value itself; a cell that starts with '=' is a "
            "formula in Excel, so for 'equals' write the value alone (Sufficient), or type "
            "an apostrophe first ('== Sufficient)",
        )
        return Found(None, place)
    if data_type == "e":
        reading.error(place, f"an error value ({value}): write the value itself")
        return Found(None, place)
    if value is None:
        return Found(None, place)
    if isinstance(value, bool):
        return Found(value, place)
    if isinstance(value, int | float):
        return Found(int(value) if float(value).is_integer() else value, place)
    if isinstance(value, dt.datetime):
        text = value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
        return Found(text, place)
    if isinstance(value, dt.date):
        return Found(value.isoformat(), place)
    text = str(value)
    if len(text) > layout.MAX_CELL_TEXT:
        reading.error(
            place, f"holds {len(text):,} characters; the limit is {layout.MAX_CELL_TEXT:,}"
        )
        return Found(None, place)
    return Found(text.strip(), place)


def _read_sheet(ws: Worksheet, index: int, reading: Reading) -> Sheet:
    title = ws.title
    rows: list[list[Found]] = []
    height, width = ws.max_row, ws.max_column
    if height > layout.MAX_ROWS + layout.HEADER_ROW:
        reading.error(
            Cell(index * 10**10, f"{title}!A1"),
            f"the sheet has {height:,} rows; the limit for a rulebook sheet is "
            f"{layout.MAX_ROWS:,}: rows below are not read",
        )
        height = layout.MAX_ROWS + layout.HEADER_ROW
    if width > layout.MAX_COLUMNS:
        reading.error(
            Cell(index * 10**10, f"{title}!A1"),
            f"the sheet has {width:,} columns; the limit is {layout.MAX_COLUMNS}: columns "
            "further right are not read",
        )
        width = layout.MAX_COLUMNS
    merged = list(ws.merged_cells.ranges)
    for cells_range in merged:
        reading.error(
            Cell(
                index * 10**10 + cells_range.min_row * 10**4 + cells_range.min_col,
                f"{title}!{cells_range.coord}",
            ),
            f"merged cells {cells_range.coord}: unmerge them and fill every cell",
        )
    for r, row in enumerate(ws.iter_rows(min_row=1, max_row=height, max_col=width), start=1):
        found_row: list[Found] = []
        for c, cell in enumerate(row, start=1):
            place = Cell(index * 10**10 + r * 10**4 + c, f"{title}!{get_column_letter(c)}{r}")
            found_row.append(_cell_value(cell, place, reading))
        while len(found_row) < width:
            c = len(found_row) + 1
            place = Cell(index * 10**10 + r * 10**4 + c, f"{title}!{get_column_letter(c)}{r}")
            found_row.append(Found(None, place))
        rows.append(found_row)
    return Sheet(title, rows)


def read_workbook(path: Path) -> Reading:
    """Every sheet's cells, after the same safety scan a panel's workbook gets."""
    try:
        scan = scan_file(path, str(path))
    except WorkbookError as error:
        raise RulebookError(str(error)) from error
    if len(scan.sheets) > layout.MAX_SHEETS:
        raise RulebookError(
            f"{path}: {len(scan.sheets)} sheets; a rulebook workbook has at most "
            f"{layout.MAX_SHEETS}"
        )
    cells = sum(sheet.cells for sheet in scan.sheets)
    if cells > layout.MAX_CELLS:
        raise RulebookError(
            f"{path}: {cells:,} cells; a rulebook workbook has at most {layout.MAX_CELLS:,}"
        )
    try:
        book = openpyxl.load_workbook(path, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise RulebookError(f"{path}: cannot be read as a workbook ({error})") from error
    reading = Reading(path.name, {}, [])
    for index, ws in enumerate(book.worksheets):
        sheet = _read_sheet(ws, index, reading)
        first = sheet.rows[0][0].text.strip().lower() if sheet.rows and sheet.rows[0] else ""
        if first == layout.DECISION_MARK and ws.title.lower() not in FIXED_SHEETS:
            sheet.header_row = layout.HEADER_ROW
            reading.decision_sheets.append(sheet)
        else:
            reading.sheets[ws.title.lower()] = sheet
    book.close()
    return reading


def header_columns(sheet: Sheet, table: Table | None, reading: Reading) -> dict[str, int]:
    """Header name -> column index; an unnamed column holding values is a problem."""
    columns: dict[str, int] = {}
    header = sheet.header()
    for index, found in enumerate(header):
        name = found.text.strip()
        if not name:
            filled = any(not row[index].blank for row in sheet.data())
            if filled:
                reading.error(found.place, "a column with values has no header")
            continue
        if name in columns:
            reading.error(found.place, f"column '{name}' is given twice")
            continue
        columns[name] = index
    if table is not None:
        lowered = {c.lower(): c for c in table.names()}
        columns = {lowered.get(name.lower(), name): i for name, i in columns.items()}
    return columns


def keyed_rows(
    sheet: Sheet,
    table: Table,
    key: str,
    reading: Reading,
    what: str,
    skip: Sequence[str] = (),
) -> list[tuple[Found, list[Found], dict[str, int]]]:
    """The rows of a sheet keyed by its first column: (key cell, row, columns)."""
    columns = header_columns(sheet, table, reading)
    found: list[tuple[Found, list[Found], dict[str, int]]] = []
    if key not in columns:
        reading.error(
            sheet.header()[0].place if sheet.header() else Cell(0, f"{sheet.title}!A1"),
            f"no '{key}' column",
        )
        return found
    for row in sheet.data():
        cell = row[columns[key]]
        if cell.blank:
            reading.error(cell.place, f"{what} needs a {key}")
            continue
        found.append((cell, row, columns))
    return found
