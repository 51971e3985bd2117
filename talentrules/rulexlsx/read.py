"""A rulebook workbook read as the rule files it stands for: ``WorkbookFiles``.

Each sheet becomes the node tree of a YAML file (Parameters -> parameters.yaml, a
decision's sheet -> the rule files its ``file`` column names, ...), built from
cells: every node carries its cell where a composed file's node carries its line, so
the loaders check a workbook exactly as they check a folder and every diagnostic
names the sheet and cell. What cannot become a node (a formula, a column with no
header, a row of the Outcomes sheet for a decision the Decisions sheet lacks, a
sheet past the limits) is a diagnostic of its own, never skipped silently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import yaml
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from talentrules.errors import RulebookError, WorkbookError
from talentrules.ingest.files import scan_file
from talentrules.persons import PERSON_KEYS, ROW_FIELDS, TEAM, TEAM_FIELDS
from talentrules.rulefiles import (
    TESTS_FOLDER,
    Cell,
    CellMark,
    Diagnostic,
    Report,
    RuleFiles,
    split_list,
)
from talentrules.rulexlsx import conditions, emit, layout
from talentrules.rulexlsx.layout import Col, Table

RESERVED = frozenset(
    {
        "parameters.yaml",
        "signals.yaml",
        "vocabulary.yaml",
        "decisions.yaml",
        "catalogue.yaml",
    }
)
_RESOLVER = yaml.resolver.Resolver()
# Sheets of the layout, found by name; any other sheet whose A1 says "decision" holds
# a decision's rules.
_FIXED = frozenset(
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
class _Reading:
    """What reading one workbook collects: its sheets, and the problems found."""

    label: str
    sheets: dict[str, Sheet]  # lower-case title -> sheet
    decision_sheets: list[Sheet]
    problems: list[Diagnostic] = field(default_factory=list)

    def error(self, place: Cell | int, message: str, rule_id: str | None = None) -> None:
        self.problems.append(Diagnostic("error", self.label, place, message, rule_id))

    def sheet(self, name: str) -> Sheet | None:
        return self.sheets.get(name.lower())


# --------------------------------------------------------------------------------------
# Nodes from cells
# --------------------------------------------------------------------------------------


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


def lines(found: Found, as_text: bool = False, limit: int = layout.MAX_LINES) -> list[str]:
    items = [line.strip() for line in found.text.splitlines() if line.strip()]
    return items[:limit]


def list_node(found: Found, as_text: bool = False) -> yaml.SequenceNode:
    """A cell holding a list, one item per line."""
    items = [scalar(Found(line, found.place), as_text) for line in lines(found, as_text)]
    return sequence(items, found.place)


def field_node(found: Found, column: Col) -> yaml.Node:
    return list_node(found, column.text) if column.lines else scalar(found, column.text)


def fields(
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


# --------------------------------------------------------------------------------------
# Reading the workbook
# --------------------------------------------------------------------------------------


def _cell_value(cell: object, place: Cell, reading: _Reading) -> Found:
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


def _read_sheet(ws: Worksheet, index: int, reading: _Reading) -> Sheet:
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


def read_workbook(path: Path) -> _Reading:
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
    reading = _Reading(path.name, {}, [])
    for index, ws in enumerate(book.worksheets):
        sheet = _read_sheet(ws, index, reading)
        first = sheet.rows[0][0].text.strip().lower() if sheet.rows and sheet.rows[0] else ""
        if first == layout.DECISION_MARK and ws.title.lower() not in _FIXED:
            sheet.header_row = layout.HEADER_ROW
            reading.decision_sheets.append(sheet)
        else:
            reading.sheets[ws.title.lower()] = sheet
    book.close()
    return reading


# --------------------------------------------------------------------------------------
# Sheets -> files
# --------------------------------------------------------------------------------------


def _columns(sheet: Sheet, table: Table | None, reading: _Reading) -> dict[str, int]:
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


def _keyed(
    sheet: Sheet,
    table: Table,
    key: str,
    reading: _Reading,
    what: str,
    skip: Sequence[str] = (),
) -> list[tuple[Found, list[Found], dict[str, int]]]:
    """The rows of a sheet keyed by its first column: (key cell, row, columns)."""
    columns = _columns(sheet, table, reading)
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


def _simple_file(
    top: str, sheet: Sheet, table: Table, reading: _Reading, what: str
) -> yaml.MappingNode | None:
    key = table.columns[0].name
    rows = _keyed(sheet, table, key, reading, what)
    entries = [
        (key_node(cell), mapping(fields(row, columns, table, (key,)), cell.place))
        for cell, row, columns in rows
    ]
    if not entries and not rows:
        return None
    first = rows[0][0].place if rows else sheet.header()[0].place
    return mapping([(text_node(top, first), mapping(entries, first))], first)


def _parameters(reading: _Reading) -> yaml.Node | None:
    sheet = reading.sheet(layout.PARAMETERS)
    if sheet is None:
        return None
    return _simple_file("parameters", sheet, layout.PARAMETERS_TABLE, reading, "a parameter")


def _signals(reading: _Reading) -> yaml.Node | None:
    signals = reading.sheet(layout.SIGNALS)
    sets = reading.sheet(layout.SETS)
    entries: list[tuple[yaml.Node, yaml.Node]] = []
    place: Cell | None = None
    if signals is not None:
        rows = _keyed(signals, layout.SIGNALS_TABLE, "code", reading, "a signal")
        codes = [
            (
                key_node(cell),
                mapping(fields(row, cols, layout.SIGNALS_TABLE, ("code",)), cell.place),
            )
            for cell, row, cols in rows
        ]
        if rows:
            place = rows[0][0].place
            entries.append((text_node("signals", place), mapping(codes, place)))
    if sets is not None:
        rows = _keyed(sets, layout.SETS_TABLE, "name", reading, "a set")
        found: list[tuple[yaml.Node, yaml.Node]] = []
        for cell, row, cols in rows:
            filters = fields(row, cols, layout.SETS_TABLE, ("name", "codes"))
            codes_cell = row[cols["codes"]] if "codes" in cols else None
            if codes_cell is not None and not codes_cell.blank:
                if filters:
                    reading.error(
                        codes_cell.place,
                        "a set is either a list of codes or a filter (kind, weight), not both",
                    )
                    continue
                found.append((key_node(cell), list_node(codes_cell)))
            else:
                found.append((key_node(cell), mapping(filters, cell.place)))
        if rows:
            if place is None:
                place = rows[0][0].place
                entries.append((text_node("signals", place), mapping([], place)))
            entries.append((text_node("sets", rows[0][0].place), mapping(found, rows[0][0].place)))
    return mapping(entries, place) if place is not None else None


def place_of(node: yaml.Node) -> Cell:
    """The cell a node built here was read from."""
    mark = node.start_mark
    assert isinstance(mark, CellMark)
    return mark.cell


def _vocabulary(reading: _Reading, anchor: Cell) -> yaml.Node | None:
    facts_sheet = reading.sheet(layout.FACTS)
    if facts_sheet is None:
        reading.error(anchor, "missing: a rulebook workbook needs a Facts sheet (vocabulary.yaml)")
        return None
    top: list[tuple[yaml.Node, yaml.Node]] = []
    start = facts_sheet.header()[0].place if facts_sheet.header() else anchor
    rows_sheet = reading.sheet(layout.ROWS)
    if rows_sheet is not None:
        rows = _simple_file("rows", rows_sheet, layout.ROWS_TABLE, reading, "a row set")
        if rows is not None:
            top.extend(rows.value)
    facts: list[tuple[yaml.Node, yaml.Node]] = []
    families: dict[str, list[tuple[yaml.Node, yaml.Node]]] = {}
    family_cells: dict[str, Found] = {}
    for cell, row, cols in _keyed(facts_sheet, layout.FACTS_TABLE, "name", reading, "a fact"):
        entries = fields(row, cols, layout.FACTS_TABLE, ("name", "family", "min", "max"))
        bounds = [row[cols[b]] for b in ("min", "max") if b in cols and not row[cols[b]].blank]
        if bounds:
            range_node = sequence([scalar(b) for b in bounds], bounds[0].place)
            entries.insert(
                _after(entries, ("type",)), (text_node("range", bounds[0].place), range_node)
            )
        node = (key_node(cell), mapping(entries, cell.place))
        family = row[cols["family"]] if "family" in cols else None
        if family is not None and not family.blank:
            families.setdefault(family.text, []).append(node)
            family_cells.setdefault(family.text, family)
        else:
            facts.append(node)
    top.append((text_node("facts", start), mapping(facts, start)))
    families_sheet = reading.sheet(layout.FAMILIES)
    declared: list[tuple[yaml.Node, yaml.Node]] = []
    if families_sheet is not None:
        for cell, row, cols in _keyed(
            families_sheet, layout.FAMILIES_TABLE, "family", reading, "a family"
        ):
            members = row[cols["members"]] if "members" in cols else Found(None, cell.place)
            body: list[tuple[yaml.Node, yaml.Node]] = []
            if not members.blank:
                body.append((text_node("members", members.place), list_node(members)))
            family_facts = families.pop(cell.text, [])
            body.append((text_node("facts", cell.place), mapping(family_facts, cell.place)))
            declared.append((key_node(cell), mapping(body, cell.place)))
    for name in families:
        reading.error(
            family_cells[name].place,
            f"no family '{name}' on the Families sheet (which names its members)",
        )
    if declared:
        first = place_of(declared[0][0])
        top.append((text_node("families", first), mapping(declared, first)))
    protected = reading.sheet(layout.PROTECTED)
    if protected is not None:
        names = [
            cell
            for cell, _, _ in _keyed(
                protected, layout.PROTECTED_TABLE, "name", reading, "a protected name"
            )
        ]
        if names:
            first = names[0].place
            top.append((text_node("protected", first), sequence([scalar(n) for n in names], first)))
    proxies = reading.sheet(layout.PROXIES)
    if proxies is not None:
        columns = _columns(proxies, layout.PROXIES_TABLE, reading)
        items = [
            mapping(fields(row, columns, layout.PROXIES_TABLE, ()), row[0].place)
            for row in proxies.data()
        ]
        if items:
            first = place_of(items[0])
            top.append((text_node("proxies", first), sequence(items, first)))
    return mapping(top, start)


def _after(entries: list[tuple[yaml.Node, yaml.Node]], keys: Sequence[str]) -> int:
    """Where to insert an entry: after the last of ``keys`` present, else first."""
    position = 0
    for index, (key, _) in enumerate(entries):
        if isinstance(key, yaml.ScalarNode) and key.value in keys:
            position = index + 1
    return position


def _texts(reading: _Reading, decisions: set[str]) -> dict[str, list[tuple[yaml.Node, yaml.Node]]]:
    """Outcomes sheet -> decision -> its ``texts`` entries, in row order."""
    sheet = reading.sheet(layout.OUTCOMES)
    found: dict[str, list[tuple[yaml.Node, yaml.Node]]] = {}
    if sheet is None:
        return found
    columns = _columns(sheet, layout.OUTCOMES_TABLE, reading)
    interest = [(name, i) for name, i in columns.items() if name.startswith(layout.INTEREST_PREFIX)]
    known = {*layout.OUTCOMES_TABLE.names(), *(name for name, _ in interest)}
    for name, index in columns.items():
        if name not in known:
            reading.error(
                sheet.header()[index].place,
                f"unknown column '{name}' (allowed: {', '.join(layout.OUTCOMES_TABLE.names())}, "
                f"and '{layout.INTEREST_PREFIX}VALUE')",
            )
    if "decision" not in columns or "outcome" not in columns:
        reading.error(
            sheet.header()[0].place if sheet.header() else Cell(0, f"{sheet.title}!A1"),
            "the Outcomes sheet needs the columns decision and outcome",
        )
        return found
    for row in sheet.data():
        decision, outcome = row[columns["decision"]], row[columns["outcome"]]
        entries = fields(row, columns, layout.OUTCOMES_TABLE, ("decision", "outcome"))
        entries = [
            e
            for e in entries
            if isinstance(e[0], yaml.ScalarNode) and e[0].value in layout.OUTCOME_TEXTS
        ]
        sentences = [
            (text_node(name[len(layout.INTEREST_PREFIX) :].strip(), row[i].place), scalar(row[i]))
            for name, i in interest
            if not row[i].blank
        ]
        if sentences:
            first = place_of(sentences[0][0])
            entries.append((text_node("interest", first), mapping(sentences, first)))
        if not entries:
            continue  # an outcome listed without words: nothing to write
        if decision.blank or outcome.blank:
            reading.error(
                (decision if decision.blank else outcome).place,
                "outcome texts need the decision and the outcome they are for",
            )
            continue
        if decision.text not in decisions:
            reading.error(
                decision.place,
                f"no decision '{decision.text}' on the Decisions sheet; its texts are not read",
            )
            continue
        found.setdefault(decision.text, []).append(
            (key_node(outcome), mapping(entries, outcome.place))
        )
    return found


_DECISION_KEYS = ("role", "label", "interest", "policy", "outcomes", "default", "meaning")


def _decisions(reading: _Reading, anchor: Cell) -> yaml.Node | None:
    sheet = reading.sheet(layout.DECISIONS)
    if sheet is None:
        reading.error(
            anchor, "missing: a rulebook workbook needs a Decisions sheet (decisions.yaml)"
        )
        return None
    rows = _keyed(sheet, layout.DECISIONS_TABLE, "name", reading, "a decision")
    texts = _texts(reading, {cell.text for cell, _, _ in rows})
    entries: list[tuple[yaml.Node, yaml.Node]] = []
    table = layout.DECISIONS_TABLE
    for cell, row, cols in rows:
        body = fields(row, cols, table, ("name",))
        order = {name: i for i, name in enumerate(_DECISION_KEYS)}
        body.sort(
            key=lambda e: order.get(e[0].value if isinstance(e[0], yaml.ScalarNode) else "", 99)
        )
        if cell.text in texts:
            body.append((text_node("texts", cell.place), mapping(texts.pop(cell.text), cell.place)))
        entries.append((key_node(cell), mapping(body, cell.place)))
    start = sheet.header()[0].place if sheet.header() else anchor
    return mapping([(text_node("decisions", start), mapping(entries, start))], start)


# --------------------------------------------------------------------------------------
# A decision's sheet -> rules, in the files its file column names
# --------------------------------------------------------------------------------------


def _rule_file_name(found: Found, reading: _Reading) -> str | None:
    name = found.text.strip()
    if "/" in name or "\\" in name or not name.endswith(".yaml") or name.startswith("."):
        reading.error(found.place, f"'{name}' is not a rules file name: write NAME.yaml")
        return None
    if name in RESERVED:
        reading.error(found.place, f"'{name}' is not a rules file: it holds the rulebook's words")
        return None
    return name


_RULE_COLUMNS = frozenset({*layout.RULE_LEAD, *layout.RULE_TAIL, layout.FILE})


def _rule_header(sheet: Sheet, reading: _Reading) -> list[tuple[str, int]]:
    """A decision's header: (name, column) left to right. A fact's column may repeat
    (two rules naming facts in orders that cannot share one column); the rule keys
    and the file column may not."""
    found: list[tuple[str, int]] = []
    seen: set[str] = set()
    for index, cell in enumerate(sheet.header()):
        name = cell.text.strip()
        if not name:
            if any(not row[index].blank for row in sheet.data()):
                reading.error(cell.place, "a column with values has no header")
            continue
        if name.lower() in _RULE_COLUMNS:
            if name.lower() in seen:
                reading.error(cell.place, f"column '{name}' is given twice")
                continue
            seen.add(name.lower())
        found.append((name, index))
    return found


def _rules_of(
    sheet: Sheet, reading: _Reading, facts: frozenset[str]
) -> list[tuple[str, yaml.Node]]:
    """(file, rule node) for every rule row of one decision's sheet."""
    decision = sheet.rows[0][1] if len(sheet.rows[0]) > 1 else Found(None, sheet.rows[0][0].place)
    if decision.blank:
        reading.error(decision.place, "B1 names the decision of this sheet's rules")
        return []
    header = _rule_header(sheet, reading)
    lowered = {name.lower(): index for name, index in header if name.lower() in _RULE_COLUMNS}
    if "then" not in lowered:
        reading.error(sheet.header()[0].place, "a decision's sheet needs a 'then' column")
        return []
    then_at = lowered["then"]
    conditions_at = [
        (name, i)
        for name, i in header
        if name.lower() in (layout.WHEN, layout.CONDITION)
        or (name.lower() not in _RULE_COLUMNS and i < then_at)
    ]
    extra = [(n, i) for n, i in header if n.lower() not in _RULE_COLUMNS and i > then_at]
    for name, index in [*extra]:
        if name in facts or name.startswith("$code."):
            reading.error(
                sheet.header()[index].place,
                f"'{name}' is a condition column: move it left of 'then' (columns right of "
                "then are the rule's title, rationale, message and file)",
            )
            extra.remove((name, index))
    default_file = f"{decision.text}.yaml"
    if default_file in RESERVED:
        default_file = f"{decision.text}-rules.yaml"
    current: str | None = None
    found: list[tuple[str, yaml.Node]] = []
    for row in sheet.data():
        file_cell = row[lowered[layout.FILE]] if layout.FILE in lowered else None
        if file_cell is not None and not file_cell.blank:
            current = _rule_file_name(file_cell, reading) or current
        file = current or default_file
        entries: list[tuple[yaml.Node, yaml.Node]] = []
        first = row[0].place

        cells = {k: row[lowered[k]] for k in layout.RULE_HELP if k in lowered}
        filled = {k: (text_node(k, c.place), scalar(c)) for k, c in cells.items() if not c.blank}
        entries += [filled[k] for k in ("for_each", "id") if k in filled]
        entries.append((text_node("decision", decision.place), scalar(decision)))
        entries += [filled[k] for k in ("title", "rationale") if k in filled]
        when = _when(row, conditions_at, first, reading)
        if when is not None:
            entries.append((text_node("when", place_of(when)), when))
        entries += [filled[k] for k in ("then", "priority", "message") if k in filled]
        for name, index in extra:
            if not row[index].blank:
                entries.append((text_node(name, row[index].place), scalar(row[index])))
        found.append((file, mapping(entries, first)))
    return found


def _condition_node(part: conditions.Part, place: Cell) -> yaml.Node:
    """A cell's any/all/not tree as the rule files write it."""
    if isinstance(part, str):
        return text_node(part, place)
    items = [_condition_node(p, place) for p in part.parts]
    if part.name == "not" and len(items) == 1:
        body: yaml.Node = items[0]
    else:
        body = sequence(items, place)
    return mapping([(text_node(part.name, place), body)], place)


def _compound(found: Found, reading: _Reading) -> yaml.Node | None:
    try:
        tree = conditions.parse(found.text, layout.MAX_NESTING)
    except conditions.Unreadable as problem:
        reading.error(found.place, f"cannot read condition '{found.text}': {problem}")
        return None
    return _condition_node(tree, found.place)


def _when(
    row: list[Found], columns: list[tuple[str, int]], first: Cell, reading: _Reading
) -> yaml.Node | None:
    """The rule's condition: a list of the row's condition cells, left to right (or its
    ``when`` cell alone)."""
    whole = [(n, i) for n, i in columns if n.lower() == layout.WHEN and not row[i].blank]
    items: list[yaml.Node] = []
    for name, index in columns:
        cell = row[index]
        if cell.blank or name.lower() == layout.WHEN:
            continue
        if name.lower() == layout.CONDITION:
            node = _compound(cell, reading)
        else:
            node = text_node(conditions.condition_of(name, cell.text), cell.place)
        if node is not None:
            items.append(node)
    if whole:
        cell = row[whole[0][1]]
        if items:
            reading.error(
                cell.place,
                "'when' is the rule's whole condition: leave the row's other condition cells "
                "empty, or move it to a 'condition' column",
            )
            return None
        return _compound(cell, reading)
    place = place_of(items[0]) if items else first
    return sequence(items, place)


# --------------------------------------------------------------------------------------
# The catalogue and the allocation policy
# --------------------------------------------------------------------------------------


def _eligible_rule(found: Found, reading: _Reading) -> yaml.Node | None:
    """``heart: Strong, Emerging`` lines -> {heart: [Strong, Emerging]}."""
    entries: list[tuple[yaml.Node, yaml.Node]] = []
    for line in lines(found):
        name, colon, rest = line.partition(":")
        values = split_list(rest) if colon else "no ':'"
        if not colon or isinstance(values, str) or not name.strip():
            reading.error(
                found.place,
                f"'{line}': write one 'decision or fact: value, value' per line",
            )
            return None
        items = [scalar(Found(v.strip().strip("\"'"), found.place), True) for v in values]
        entries.append((text_node(name.strip(), found.place), sequence(items, found.place)))
    return mapping(entries, found.place)


def _catalogue(reading: _Reading) -> yaml.Node | None:
    investments = reading.sheet(layout.INVESTMENTS_SHEET)
    allocation = reading.sheet(layout.ALLOCATION)
    top: list[tuple[yaml.Node, yaml.Node]] = []
    start: Cell | None = None
    catalogue: list[yaml.Node] = []
    if investments is not None:
        table = layout.INVESTMENTS_TABLE
        columns = _columns(investments, table, reading)
        for row in investments.data():
            entries: list[tuple[yaml.Node, yaml.Node]] = []
            for column in table.columns:
                cell = (
                    row[columns[column.name]]
                    if column.name in columns
                    else Found(None, row[0].place)
                )
                entries.append((text_node(column.name, cell.place), scalar(cell, column.text)))
            entries += [
                (k, v)
                for k, v in fields(row, columns, table, ())
                if isinstance(k, yaml.ScalarNode) and k.value not in table.names()
            ]
            catalogue.append(mapping(entries, row[0].place))
        if catalogue:
            start = place_of(catalogue[0])
    settings: list[tuple[yaml.Node, yaml.Node]] = []
    order: list[yaml.Node] = []
    eligible: dict[str, list[tuple[Found, yaml.Node]]] = {"tracks": [], "codes": []}
    currency: tuple[yaml.Node, yaml.Node] | None = None
    if allocation is not None:
        columns = _columns(allocation, layout.ALLOCATION_TABLE, reading)
        for row in allocation.data():
            setting = row[columns["setting"]] if "setting" in columns else row[0]
            name = row[columns["name"]] if "name" in columns else Found(None, setting.place)
            values = row[columns["values"]] if "values" in columns else Found(None, setting.place)
            key = setting.text.strip().lower()
            if start is None:
                start = setting.place
            if key not in layout.ALLOCATION_SETTINGS:
                reading.error(
                    setting.place,
                    f"unknown setting '{setting.text}' "
                    f"(one of {', '.join(layout.ALLOCATION_SETTINGS)})"
                    + did_you_mean(setting.text, layout.ALLOCATION_SETTINGS),
                )
                continue
            if key == "currency":
                currency = (text_node("currency", setting.place), scalar(values, True))
            elif key in ("decision", "tie_break"):
                settings.append((text_node(key, setting.place), scalar(values, True)))
            elif key in ("not_investments", "codes"):
                settings.append((text_node(key, setting.place), list_node(values, True)))
            elif key == "order":
                ranking = list_node(values, True)
                order.append(mapping([(key_node(name), ranking)], setting.place))
            else:
                rule = _eligible_rule(values, reading)
                if rule is not None:
                    group = "tracks" if key == "eligible track" else "codes"
                    eligible[group].append((name, rule))
    if start is None:
        return None
    if currency is not None:
        top.append(currency)
    top.append((text_node("investments", start), sequence(catalogue, start)))
    if order:
        settings.insert(
            _after(settings, ("decision", "not_investments")),
            (text_node("order", place_of(order[0])), sequence(order, place_of(order[0]))),
        )
    if eligible["tracks"] or eligible["codes"]:
        groups: list[tuple[yaml.Node, yaml.Node]] = []
        for group, rules in eligible.items():
            if not rules:
                continue
            by_name: dict[str, list[tuple[Found, yaml.Node]]] = {}
            for name, rule in rules:
                by_name.setdefault(name.text, []).append((name, rule))
            table_entries = [
                (
                    key_node(found[0][0]),
                    found[0][1]
                    if len(found) == 1
                    else sequence([r for _, r in found], found[0][0].place),
                )
                for found in by_name.values()
            ]
            first = rules[0][0].place
            groups.append((text_node(group, first), mapping(table_entries, first)))
        first = place_of(groups[0][0])
        settings.append((text_node("eligible", first), mapping(groups, first)))
    if settings:
        first = place_of(settings[0][0])
        top.append((text_node("allocation", first), mapping(settings, first)))
    return mapping(top, start)


# --------------------------------------------------------------------------------------
# The rule tests
# --------------------------------------------------------------------------------------


def _fact_lines(found: Found, reading: _Reading) -> yaml.Node | None:
    entries: list[tuple[yaml.Node, yaml.Node]] = []
    for line in lines(found):
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            reading.error(found.place, f"'{line}': write one 'fact: value' per line")
            return None
        entries.append(
            (text_node(name.strip(), found.place), scalar(Found(value.strip() or "~", found.place)))
        )
    return mapping(entries, found.place)


def _outcome_node(found: Found) -> yaml.Node:
    items = lines(found)
    if len(items) == 1:
        return scalar(Found(items[0], found.place))
    return list_node(found)


def _test_rows(reading: _Reading, names: set[str]) -> dict[str, dict[str, list[yaml.Node]]]:
    """Test evidence/nominations/development sheets -> test name -> key -> row nodes."""
    found: dict[str, dict[str, list[yaml.Node]]] = {}
    for key, title in layout.TEST_ROW_SHEETS.items():
        sheet = reading.sheet(title)
        if sheet is None:
            continue
        table = Table(
            title, "", (Col(layout.TEST_ROW_NAME, ""), *(Col(f, "") for f in ROW_FIELDS[key]))
        )
        columns = _columns(sheet, table, reading)
        for name, index in columns.items():
            if name not in table.names():
                reading.error(
                    sheet.header()[index].place,
                    f"unknown column '{name}' (allowed: {', '.join(table.names())})"
                    + did_you_mean(name, table.names()),
                )
        if layout.TEST_ROW_NAME not in columns:
            reading.error(
                sheet.header()[0].place if sheet.header() else Cell(0, f"{title}!A1"),
                f"no '{layout.TEST_ROW_NAME}' column naming each row's test",
            )
            continue
        for row in sheet.data():
            test = row[columns[layout.TEST_ROW_NAME]]
            if test.text not in names:
                reading.error(
                    test.place,
                    f"no test named '{test.text}' on the Tests sheet"
                    + did_you_mean(test.text, names),
                )
                continue
            entries = [
                (text_node(n, row[i].place), scalar(row[i]))
                for n, i in sorted(columns.items(), key=lambda c: c[1])
                if n in ROW_FIELDS[key] and not row[i].blank
            ]
            found.setdefault(test.text, {}).setdefault(key, []).append(mapping(entries, test.place))
    return found


def _tests(reading: _Reading) -> dict[str, yaml.Node]:
    """Tests sheets -> test file name (``tests/heart.yaml``) -> its node tree."""
    sheet = reading.sheet(layout.TESTS)
    if sheet is None:
        return {}
    columns = _columns(sheet, None, reading)
    person_columns = (*PERSON_KEYS, *TEAM_FIELDS)
    known = {layout.TEST_NAME, layout.TEST_FACTS, *layout.TEST_LISTS, layout.FILE, *person_columns}
    for name, index in columns.items():
        if name not in known and not name.startswith((layout.EXPECT_PREFIX, layout.ABSENT_PREFIX)):
            reading.error(
                sheet.header()[index].place,
                f"unknown column '{name}' (a test's name, file, facts, fired, not_fired, "
                f"'expect: DECISION', 'absent: DECISION', or a person's column)"
                + did_you_mean(name, sorted(known)),
            )
    if layout.TEST_NAME not in columns:
        reading.error(
            sheet.header()[0].place if sheet.header() else Cell(0, "Tests!A1"), "no 'name' column"
        )
        return {}
    data = list(sheet.data())
    names = {row[columns[layout.TEST_NAME]].text for row in data}
    rows = _test_rows(reading, names)
    files: dict[str, list[yaml.Node]] = {}
    current = "tests.yaml"
    for row in data:
        test = row[columns[layout.TEST_NAME]]
        if layout.FILE in columns and not row[columns[layout.FILE]].blank:
            cell = row[columns[layout.FILE]]
            text = cell.text.strip()
            if "/" in text or "\\" in text or not text.endswith(".yaml") or text.startswith("."):
                reading.error(cell.place, f"'{text}' is not a tests file name: write NAME.yaml")
            else:
                current = text
        entries: list[tuple[yaml.Node, yaml.Node]] = []
        if not test.blank:
            entries.append((text_node("name", test.place), text_node(test.text, test.place)))
        person: list[tuple[yaml.Node, yaml.Node]] = []
        team: list[tuple[yaml.Node, yaml.Node]] = []
        for key in person_columns:
            if key in columns and not row[columns[key]].blank:
                cell = row[columns[key]]
                target = team if key in TEAM_FIELDS else person
                target.append((text_node(key, cell.place), scalar(cell)))
        if team:
            first = place_of(team[0][0])
            person.append((text_node(TEAM, first), mapping(team, first)))
        for key, items in rows.get(test.text, {}).items():
            person.append((text_node(key, place_of(items[0])), sequence(items, place_of(items[0]))))
        if person:
            first = place_of(person[0][0])
            entries.append((text_node("person", first), mapping(person, first)))
        if layout.TEST_FACTS in columns and not row[columns[layout.TEST_FACTS]].blank:
            cell = row[columns[layout.TEST_FACTS]]
            facts = _fact_lines(cell, reading)
            if facts is not None:
                entries.append((text_node("facts", cell.place), facts))
        for prefix, key in ((layout.EXPECT_PREFIX, "expect"), (layout.ABSENT_PREFIX, "absent")):
            outcomes = [
                (text_node(n[len(prefix) :].strip(), row[i].place), _outcome_node(row[i]))
                for n, i in columns.items()
                if n.startswith(prefix) and not row[i].blank
            ]
            if outcomes:
                first = place_of(outcomes[0][0])
                entries.append((text_node(key, first), mapping(outcomes, first)))
        for key in layout.TEST_LISTS:
            if key in columns and not row[columns[key]].blank:
                cell = row[columns[key]]
                entries.append((text_node(key, cell.place), list_node(cell)))
        files.setdefault(f"{TESTS_FOLDER}/{current}", []).append(mapping(entries, test.place))
    return {
        name: mapping(
            [(text_node("tests", place_of(items[0])), sequence(items, place_of(items[0])))],
            place_of(items[0]),
        )
        for name, items in files.items()
    }


# --------------------------------------------------------------------------------------
# The workbook as rule files
# --------------------------------------------------------------------------------------


def did_you_mean(name: str, choices: Sequence[str] | set[str]) -> str:
    from talentrules.rulefiles import did_you_mean as near

    return near(name, choices)


_HEADERS = {
    "parameters.yaml": "parameters: from the Parameters sheet",
}


def _declared(reading: _Reading) -> frozenset[str]:
    """The names conditions may read, as the Facts and Decisions sheets give them."""
    names: set[str] = set()
    for title in (layout.FACTS, layout.DECISIONS):
        sheet = reading.sheet(title)
        if sheet is not None and sheet.header():
            names |= {row[0].text for row in sheet.data() if not row[0].blank}
    return frozenset(names)


class WorkbookFiles(RuleFiles):
    """A rulebook workbook, read as the files ``rules import`` writes from it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        reading = read_workbook(path)
        self.problems = reading.problems
        sheets = [*reading.sheets.values(), *reading.decision_sheets]
        anchor = Cell(0, f"{sheets[0].title}!A1" if sheets else "A1")
        nodes: dict[str, yaml.Node | None] = {}
        parameters = _parameters(reading)
        if parameters is not None:
            nodes["parameters.yaml"] = parameters
        signals = _signals(reading)
        if signals is not None:
            nodes["signals.yaml"] = signals
        nodes["vocabulary.yaml"] = _vocabulary(reading, anchor)
        nodes["decisions.yaml"] = _decisions(reading, anchor)
        rule_files: dict[str, list[yaml.Node]] = {}
        declared = _declared(reading)
        for sheet in reading.decision_sheets:
            for file, rule in _rules_of(sheet, reading, declared):
                rule_files.setdefault(file, []).append(rule)
        for file, rules in rule_files.items():
            first = place_of(rules[0])
            nodes[file] = mapping([(text_node("rules", first), sequence(rules, first))], first)
        catalogue = _catalogue(reading)
        if catalogue is not None:
            nodes["catalogue.yaml"] = catalogue
        self._nodes = nodes
        self._tests = _tests(reading)
        self._texts: dict[str, bytes] = {}

    def names(self) -> list[str]:
        return sorted(self._nodes)

    def label(self, name: str) -> str:
        return self.name

    def node(self, name: str, report: Report) -> yaml.Node | None:
        return self._nodes.get(name)

    def data(self, name: str) -> bytes:
        if name not in self._texts:
            node = self._nodes.get(name)
            self._texts[name] = (
                b"" if node is None else emit.emit(emit.style(_copy(node))).encode("utf-8")
            )
        return self._texts[name]

    def test_names(self) -> list[str]:
        return sorted(self._tests)

    def test_label(self, name: str) -> str:
        return self.name

    def test_node(self, name: str) -> yaml.Node | None:
        return self._tests.get(name)

    def test_data(self, name: str) -> bytes:
        return emit.emit(emit.style(_copy(self._tests[name]))).encode("utf-8")

    def hashes(self) -> dict[str, str]:
        return {self.name: hashlib.sha256(self.path.read_bytes()).hexdigest()}


def _copy(node: yaml.Node) -> yaml.Node:
    """A node tree's copy, so that giving it a layout leaves the loaders' tree alone."""
    if isinstance(node, yaml.ScalarNode):
        return yaml.ScalarNode(node.tag, node.value, node.start_mark, node.end_mark)
    if isinstance(node, yaml.SequenceNode):
        return yaml.SequenceNode(
            node.tag, [_copy(n) for n in node.value], node.start_mark, node.end_mark
        )
    return yaml.MappingNode(
        node.tag, [(_copy(k), _copy(v)) for k, v in node.value], node.start_mark, node.end_mark
    )
