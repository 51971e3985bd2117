"""A rulebook -> a workbook a panel owner reads and edits (``talentrules rules export``).

The rule files are read as written (node trees, every ``$name`` kept, rules declared
``for_each`` signal kept as one row), not as the checked rulebook, so what a panel
owner edits is what the files say, and a rulebook with mistakes exports too (the
checker then names each mistake's cell). Only what cannot be laid out in cells
(a title that is a list, a condition no cell form can hold) is refused, naming the
file and line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from talentrules.contract import EMPLOYEES, INVESTMENT_TRACKS, INVESTMENTS, TEAMS
from talentrules.errors import OutputError, RulebookError
from talentrules.persons import (
    PERSON_KEYS,
    ROW_FIELDS,
    ROW_SHEETS,
    TEAM,
    TEAM_FIELDS,
)
from talentrules.rulebook import DECISIONS_FILE, ROLES
from talentrules.rulefiles import (
    CONDITION,
    Report,
    RuleFiles,
    line_of,
    number_of,
    open_rules,
    show,
    where,
)
from talentrules.rulexlsx import conditions, layout
from talentrules.rulexlsx.layout import Col, Table
from talentrules.vocabulary import (
    MEASURES,
    PARAMETERS_FILE,
    SIGNAL_KINDS,
    SIGNAL_WEIGHTS,
    SIGNALS_FILE,
    VOCABULARY_FILE,
    Vocabulary,
    load_vocabulary,
)

CATALOGUE_FILE = "catalogue.yaml"
CellValue = str | int | float | None
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_TITLE_FONT = Font(bold=True, size=13)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_SPARE_ROWS = 200  # rows below the last one that still offer the dropdowns


class Unwritable(RulebookError):
    """Part of a rule file has no place in the workbook's cells."""


# --------------------------------------------------------------------------------------
# Reading the files as written
# --------------------------------------------------------------------------------------


@dataclass
class _Source:
    """The rulebook's files as node trees, and how to name a place in them."""

    files: RuleFiles
    nodes: dict[str, yaml.Node | None] = field(default_factory=dict)

    def label(self, name: str) -> str:
        return self.files.label(name)


def _read(files: RuleFiles) -> _Source:
    source = _Source(files)
    report = Report()
    for name in files.names():
        source.nodes[name] = files.node(name, report)
    unreadable = [d for d in report.diagnostics if d.severity == "error"]
    if unreadable:
        lines = "\n".join(f"  {d}" for d in unreadable)
        raise RulebookError(f"{files.path}: cannot be exported until these are fixed:\n{lines}")
    return source


def _fail(label: str, node: yaml.Node, message: str) -> Unwritable:
    return Unwritable(f"{where(label, line_of(node))}: {message}")


def _entries(
    node: yaml.Node | None, label: str, what: str
) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """A mapping's entries as (key, key node, value node); nothing for no node."""
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        return []
    if not isinstance(node, yaml.MappingNode):
        raise _fail(label, node, f"{what} must be a mapping to be written to a workbook")
    found: list[tuple[str, yaml.Node, yaml.Node]] = []
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _fail(label, key, f"{what}: keys must be plain names")
        found.append((str(key.value), key, value))
    return found


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.Node):
                return v
    return None


def _value(node: yaml.Node | None, label: str, what: str) -> CellValue:
    """A scalar as a cell: a number stays a number when it reads back the same."""
    if node is None:
        return None
    if not isinstance(node, yaml.ScalarNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
        raise _fail(label, node, f"{what} is {kind}; a workbook cell holds one value")
    if node.tag == "tag:yaml.org,2002:null":
        return None
    text = str(node.value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        raise _fail(label, node, f"{what} holds a control character, which no cell can hold")
    if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        number = number_of(text)
        if number is not None and show(number) == text:
            return number
    return text


def _lines(node: yaml.Node | None, label: str, what: str) -> CellValue:
    """A list of values as one cell, an item per line."""
    if node is None:
        return None
    if isinstance(node, yaml.SequenceNode):
        items = [_value(item, label, f"{what} item") for item in node.value]
        return "\n".join("" if item is None else show(item) for item in items) or None
    return _value(node, label, what)


# --------------------------------------------------------------------------------------
# Writing sheets
# --------------------------------------------------------------------------------------


class _Lists:
    """The hidden Lists sheet: every dropdown's values, one column each."""

    def __init__(self, book: Workbook) -> None:
        self.sheet = book.create_sheet(layout.LISTS)
        self.columns: dict[tuple[str, ...], str] = {}

    def formula(self, values: Sequence[str]) -> str | None:
        values = tuple(dict.fromkeys(v for v in values if v))
        if not values:
            return None
        if values not in self.columns:
            column = get_column_letter(len(self.columns) + 1)
            for row, value in enumerate(values, start=1):
                _put(self.sheet.cell(row, len(self.columns) + 1), value)
            self.columns[values] = f"{layout.LISTS}!${column}$1:${column}${len(values)}"
        return self.columns[values]

    def offer(self, ws: Worksheet, cells: str, values: Sequence[str]) -> None:
        """A dropdown of ``values`` on ``cells``; other entries stay allowed (the checker
        says what is wrong, with the cell)."""
        formula = self.formula(values)
        if formula is None:
            return
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.showErrorMessage = False
        validation.add(cells)
        ws.add_data_validation(validation)


def _put(cell: object, value: CellValue) -> None:
    """Write a value; text stays text even when it starts with '=' (no formula)."""
    cell.value = value  # type: ignore[attr-defined]
    if isinstance(value, str):
        cell.data_type = "s"  # type: ignore[attr-defined]


def _note(text: str) -> Comment:
    comment = Comment(text, "talentrules")
    comment.width = 320
    comment.height = max(80, 18 * (len(text) // 45 + 2))
    return comment


def _header(ws: Worksheet, row: int, columns: Sequence[Col]) -> None:
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row, index)
        _put(cell, column.name)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = _TOP
        if column.help:
            cell.comment = _note(column.help)
        ws.column_dimensions[get_column_letter(index)].width = column.width


def _rows(
    ws: Worksheet, first: int, columns: Sequence[Col], rows: Iterable[Sequence[CellValue]]
) -> int:
    """Write the rows from row ``first``; the next free row."""
    row_number = first
    for values in rows:
        for index, (column, value) in enumerate(zip(columns, values, strict=False), start=1):
            cell = ws.cell(row_number, index)
            _put(cell, value)
            cell.alignment = _WRAP if column.wrap or column.lines else _TOP
        row_number += 1
    return row_number


def _table(
    book: Workbook,
    table: Table,
    rows: Sequence[Sequence[CellValue]],
    columns: Sequence[Col] | None = None,
) -> Worksheet:
    ws: Worksheet = book.create_sheet(table.sheet)
    columns = list(columns or table.columns)
    _header(ws, 1, columns)
    end = _rows(ws, 2, columns, rows)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(end - 1, 1)}"
    return ws


def _column_range(columns: Sequence[Col], name: str, first: int, count: int) -> str | None:
    names = [c.name for c in columns]
    if name not in names:
        return None
    letter = get_column_letter(names.index(name) + 1)
    return f"{letter}{first}:{letter}{first + count + _SPARE_ROWS}"


# --------------------------------------------------------------------------------------
# The rulebook's words: what dropdowns and header comments offer
# --------------------------------------------------------------------------------------


@dataclass
class _Words:
    """What the rulebook declares, as far as it can be read (a rulebook with mistakes
    exports too): facts, their meanings and values; decisions and their outcomes."""

    vocabulary: Vocabulary | None
    outcomes: dict[str, list[str]]  # decision -> its outcomes ($sets expanded)
    policies: dict[str, tuple[str, str, str]]  # decision -> (policy, default, meaning)

    def facts(self) -> list[str]:
        return list(self.vocabulary.facts) if self.vocabulary is not None else []

    def describe(self, fact: str) -> str:
        if fact in self.outcomes:
            return f"{fact}: the outcome of decision '{fact}' ({', '.join(self.outcomes[fact])})."
        spec = self.vocabulary.facts.get(fact) if self.vocabulary is not None else None
        if spec is None:
            if fact.startswith("$code."):
                return f"{fact}: each signal's {fact[6:]} (a rule declared for_each signal)."
            return fact
        kind: str = spec.type
        if spec.type == "enum":
            kind += ": " + ", ".join(spec.values)
        elif spec.minimum is not None or spec.maximum is not None:
            kind += f" {show(spec.minimum)} to {show(spec.maximum)}"
        return f"{fact}: {spec.meaning} ({kind})."

    def choices(self, fact: str) -> list[str]:
        """What a condition cell of ``fact`` may say, for its dropdown."""
        if fact in self.outcomes:
            return self.outcomes[fact]
        spec = self.vocabulary.facts.get(fact) if self.vocabulary is not None else None
        if spec is None:
            return []
        if spec.type == "enum":
            return [*spec.values, "is unknown", "is known"]
        if spec.type == "boolean":
            return ["true", "false", "is unknown", "is known"]
        return []


def _words(source: _Source) -> _Words:
    report = Report()
    vocabulary = load_vocabulary(source.files, report)
    sets = vocabulary.sets if vocabulary is not None else {}
    outcomes: dict[str, list[str]] = {}
    policies: dict[str, tuple[str, str, str]] = {}
    decisions = _get(source.nodes.get(DECISIONS_FILE), "decisions")
    if isinstance(decisions, yaml.MappingNode):
        for key, body in decisions.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            found: list[str] = []
            items = _get(body, "outcomes")
            for item in items.value if isinstance(items, yaml.SequenceNode) else []:
                if isinstance(item, yaml.ScalarNode):
                    text = str(item.value)
                    found += list(sets.get(text[1:], ())) if text.startswith("$") else [text]
            outcomes[str(key.value)] = found

            def text_of(name: str, body: yaml.Node = body) -> str:
                node = _get(body, name)
                return str(node.value) if isinstance(node, yaml.ScalarNode) else ""

            policies[str(key.value)] = (
                text_of("policy") or "unique",
                text_of("default"),
                " ".join(text_of("meaning").split()),
            )
    return _Words(vocabulary, outcomes, policies)


# --------------------------------------------------------------------------------------
# The sheets
# --------------------------------------------------------------------------------------


def _keyed_rows(
    node: yaml.Node | None, label: str, what: str, table: Table, skip: Sequence[str] = ()
) -> list[list[CellValue]]:
    """A mapping of named entries (parameters, signals, ...) as rows: name, then fields."""
    rows: list[list[CellValue]] = []
    for name, _, body in _entries(node, label, what):
        fields = dict((k, v) for k, _, v in _entries(body, label, f"{what} '{name}'"))
        unknown = [k for k in fields if k not in table.names() and k not in skip]
        if unknown:
            raise _fail(
                label, body, f"{what} '{name}': '{unknown[0]}' has no column in the workbook"
            )
        row: list[CellValue] = [name]
        for column in table.columns[1:]:
            node_ = fields.get(column.name)
            row.append(
                _lines(node_, label, column.name)
                if column.lines
                else _value(node_, label, column.name)
            )
        rows.append(row)
    return rows


def _parameters(book: Workbook, source: _Source) -> None:
    node = source.nodes.get(PARAMETERS_FILE)
    label = source.label(PARAMETERS_FILE)
    rows = _keyed_rows(_get(node, "parameters"), label, "parameter", layout.PARAMETERS_TABLE)
    _table(book, layout.PARAMETERS_TABLE, rows)


def _signals(book: Workbook, source: _Source, lists: _Lists) -> None:
    node = source.nodes.get(SIGNALS_FILE)
    label = source.label(SIGNALS_FILE)
    table = layout.SIGNALS_TABLE
    rows = _keyed_rows(_get(node, "signals"), label, "signal", table)
    ws = _table(book, table, rows)
    for name, values in (("kind", SIGNAL_KINDS), ("weight", SIGNAL_WEIGHTS)):
        cells = _column_range(table.columns, name, 2, len(rows))
        if cells:
            lists.offer(ws, cells, values)
    set_rows: list[list[CellValue]] = []
    for name, _, body in _entries(_get(node, "sets"), label, "sets"):
        if isinstance(body, yaml.SequenceNode):
            set_rows.append([name, None, None, _lines(body, label, "codes")])
        else:
            fields = dict((k, v) for k, _, v in _entries(body, label, f"set '{name}'"))
            set_rows.append(
                [
                    name,
                    _value(fields.get("kind"), label, "kind"),
                    _value(fields.get("weight"), label, "weight"),
                    None,
                ]
            )
    ws = _table(book, layout.SETS_TABLE, set_rows)
    for name, values in (("kind", SIGNAL_KINDS), ("weight", SIGNAL_WEIGHTS)):
        cells = _column_range(layout.SETS_TABLE.columns, name, 2, len(set_rows))
        if cells:
            lists.offer(ws, cells, values)


def _interest_order(words: _Words, seen: Iterable[str], facts: Iterable[str]) -> list[str]:
    """Interest columns: the values of the decisions' interest fact, unknown, otherwise,
    then any other written."""
    seen = list(dict.fromkeys(seen))
    values: list[str] = []
    for fact in facts:
        spec = words.vocabulary.facts.get(fact) if words.vocabulary is not None else None
        if spec is not None:
            values += [v for v in spec.values if v not in values]
    preferred = [*values, "unknown", "otherwise"]
    return [v for v in preferred if v in seen] + [v for v in seen if v not in preferred]


def _decisions(book: Workbook, source: _Source, words: _Words, lists: _Lists) -> None:
    node = source.nodes.get(DECISIONS_FILE)
    label = source.label(DECISIONS_FILE)
    table = layout.DECISIONS_TABLE
    rows = _keyed_rows(_get(node, "decisions"), label, "decision", table, skip=("texts",))
    ws = _table(book, table, rows)
    for name, values in (
        ("policy", ("unique", "priority", "collect")),
        ("role", tuple(ROLES)),
        (
            "interest",
            tuple(
                s.name
                for s in (words.vocabulary.facts.values() if words.vocabulary else ())
                if s.type == "enum"
            ),
        ),
    ):
        cells = _column_range(table.columns, name, 2, len(rows))
        if cells:
            lists.offer(ws, cells, values)
    # Outcomes: every outcome's texts, then the outcomes without any.
    texts_rows: list[tuple[str, str, dict[str, CellValue], dict[str, CellValue]]] = []
    interest_seen: list[str] = []
    for decision, _, body in _entries(_get(node, "decisions"), label, "decisions"):
        written: set[str] = set()
        for outcome, _, texts in _entries(
            _get(body, "texts"), label, f"decision '{decision}' texts"
        ):
            fields = {k: v for k, _, v in _entries(texts, label, f"texts of '{outcome}'")}
            unknown = [k for k in fields if k not in (*layout.OUTCOME_TEXTS, "interest")]
            if unknown:
                raise _fail(label, texts, f"texts of '{outcome}': '{unknown[0]}' has no column")
            said = {k: _value(fields.get(k), label, k) for k in layout.OUTCOME_TEXTS}
            interest = {
                k: _value(v, label, f"interest '{k}'")
                for k, _, v in _entries(fields.get("interest"), label, "interest")
            }
            interest_seen += list(interest)
            texts_rows.append((decision, outcome, said, interest))
            written.add(outcome)
        for outcome in words.outcomes.get(decision, []):
            if outcome not in written:
                texts_rows.append((decision, outcome, {}, {}))
    interest_facts = [
        str(fact.value)
        for _, _, body in _entries(_get(node, "decisions"), label, "decisions")
        if isinstance(fact := _get(body, "interest"), yaml.ScalarNode)
    ]
    interest_columns = _interest_order(words, interest_seen, interest_facts)
    columns = [
        *layout.OUTCOMES_TABLE.columns,
        *(
            Col(
                f"{layout.INTEREST_PREFIX}{value}",
                f"The track's sentence when the stated interest is {value}.",
                40,
                wrap=True,
            )
            for value in interest_columns
        ),
    ]
    out_rows = [
        [
            decision,
            outcome,
            *(values.get(k) for k in layout.OUTCOME_TEXTS),
            *(interest.get(v) for v in interest_columns),
        ]
        for decision, outcome, values, interest in texts_rows
    ]
    ws = _table(book, layout.OUTCOMES_TABLE, out_rows, columns)
    cells = _column_range(columns, "decision", 2, len(out_rows))
    if cells:
        lists.offer(ws, cells, list(words.outcomes))


def _vocabulary(book: Workbook, source: _Source, lists: _Lists) -> None:
    node = source.nodes.get(VOCABULARY_FILE)
    label = source.label(VOCABULARY_FILE)
    table = layout.FACTS_TABLE
    rows: list[list[CellValue]] = []
    skip = ("family", "min", "max")

    def fact_row(name: str, body: yaml.Node, family: str | None) -> list[CellValue]:
        fields = {k: v for k, _, v in _entries(body, label, f"fact '{name}'")}
        unknown = [k for k in fields if k not in (*table.names(), "range") or k in skip]
        if unknown:
            raise _fail(label, body, f"fact '{name}': '{unknown[0]}' has no column in the workbook")
        bounds: list[CellValue] = [None, None]
        if "range" in fields:
            range_node = fields["range"]
            if not isinstance(range_node, yaml.SequenceNode) or len(range_node.value) > 2:
                raise _fail(label, range_node, f"fact '{name}': range must be [minimum, maximum]")
            for i, item in enumerate(range_node.value):
                bounds[i] = _value(item, label, "range")
        row: list[CellValue] = []
        for column in table.columns:
            if column.name == "name":
                row.append(name)
            elif column.name == "family":
                row.append(family)
            elif column.name in ("min", "max"):
                row.append(bounds[0 if column.name == "min" else 1])
            elif column.lines:
                row.append(_lines(fields.get(column.name), label, column.name))
            else:
                row.append(_value(fields.get(column.name), label, column.name))
        return row

    for name, _, body in _entries(_get(node, "facts"), label, "facts"):
        rows.append(fact_row(name, body, None))
    family_rows: list[list[CellValue]] = []
    for family, _, body in _entries(_get(node, "families"), label, "families"):
        family_rows.append([family, _lines(_get(body, "members"), label, "members")])
        for name, _, fact in _entries(_get(body, "facts"), label, f"family '{family}' facts"):
            rows.append(fact_row(name, fact, family))
    ws = _table(book, table, rows)
    row_sets = [n for n, _, _ in _entries(_get(node, "rows"), label, "rows")]
    for name, values in (
        ("type", ("number", "enum", "boolean", "date", "text")),
        ("measure", MEASURES),
        ("rows", row_sets),
        ("family", [r[0] for r in family_rows if isinstance(r[0], str)]),
    ):
        cells = _column_range(table.columns, name, 2, len(rows))
        if cells:
            lists.offer(ws, cells, values)
    _table(book, layout.FAMILIES_TABLE, family_rows)
    row_rows = _keyed_rows(_get(node, "rows"), label, "row set", layout.ROWS_TABLE)
    ws = _table(book, layout.ROWS_TABLE, row_rows)
    cells = _column_range(layout.ROWS_TABLE.columns, "sheet", 2, len(row_rows))
    if cells:
        lists.offer(ws, cells, ("Evidence", "Development", "Nominations"))
    protected = _get(node, "protected")
    names: list[list[CellValue]] = []
    if isinstance(protected, yaml.SequenceNode):
        names = [[_value(item, label, "protected")] for item in protected.value]
    elif protected is not None:
        raise _fail(label, protected, "protected must be a list of names")
    _table(book, layout.PROTECTED_TABLE, names)
    proxies = _get(node, "proxies")
    proxy_rows: list[list[CellValue]] = []
    if isinstance(proxies, yaml.SequenceNode):
        for item in proxies.value:
            fields = {k: v for k, _, v in _entries(item, label, "a proxy")}
            unknown = [k for k in fields if k not in layout.PROXIES_TABLE.names()]
            if unknown:
                raise _fail(label, item, f"a proxy: '{unknown[0]}' has no column in the workbook")
            proxy_rows.append(
                [_value(fields.get(c.name), label, c.name) for c in layout.PROXIES_TABLE.columns]
            )
    elif proxies is not None:
        raise _fail(label, proxies, "proxies must be a list")
    _table(book, layout.PROXIES_TABLE, proxy_rows)


# --------------------------------------------------------------------------------------
# A decision's sheet
# --------------------------------------------------------------------------------------


def _part(node: yaml.Node, label: str) -> conditions.Part:
    """A condition of a rule file as a cell's tree."""
    if isinstance(node, yaml.ScalarNode):
        return str(node.value).strip()
    if isinstance(node, yaml.SequenceNode):
        return conditions.Call("all", tuple(_part(n, label) for n in node.value))
    entries = _entries(node, label, "a condition")
    if len(entries) != 1 or entries[0][0] not in ("all", "any", "not"):
        raise _fail(label, node, "a condition mapping takes exactly one key: all, any or not")
    key, _, body = entries[0]
    if key == "not":
        if isinstance(body, yaml.SequenceNode):
            parts = tuple(_part(n, label) for n in body.value)
            if len(parts) == 1:  # not of a list of one: not(all(A)) says exactly that
                return conditions.Call("not", (conditions.Call("all", parts),))
            return conditions.Call("not", parts)
        return conditions.Call("not", (_part(body, label),))
    if not isinstance(body, yaml.SequenceNode):
        raise _fail(label, body, f"{key} takes a list of conditions")
    return conditions.Call(key, tuple(_part(n, label) for n in body.value))


def _compound(node: yaml.Node, label: str) -> str:
    tree = _part(node, label)
    text = conditions.render(tree)
    try:
        same = conditions.meaning(conditions.parse(text)) == conditions.meaning(tree)
    except conditions.Unreadable:
        same = False
    if not same:
        raise _fail(
            label,
            node,
            f"'{text}' cannot be written in one cell: quote a value that holds a comma or "
            'a parenthesis ("a, b")',
        )
    return text


@dataclass
class _Row:
    """One rule as a row: its fields, and its conditions as (column key, cell text)."""

    fields: dict[str, CellValue]
    conditions: list[tuple[str, str]]
    whole: str | None  # the rule's whole condition, when it is not a list
    file: str


_RULE_FIELDS = (
    "id",
    "for_each",
    "priority",
    "then",
    "title",
    "rationale",
    "message",
    "decision",
    "when",
)


def _rule_row(rule: yaml.Node, label: str, file: str) -> _Row:
    fields: dict[str, CellValue] = {}
    when: yaml.Node | None = None
    for key, _, value in _entries(rule, label, "a rule"):
        if key == "when":
            when = value
        elif key != "decision":
            fields[key] = _value(value, label, key)
    items: list[tuple[str, str]] = []
    whole = None
    if isinstance(when, yaml.SequenceNode):
        for item in when.value:
            if isinstance(item, yaml.ScalarNode):
                text = str(_value(item, label, "a condition"))
                split = conditions.cell_of(text)
                if split is not None and conditions.condition_of(*split) and CONDITION.match(text):
                    items.append(split)
                else:
                    items.append((layout.CONDITION, text.strip()))
            else:
                items.append((layout.CONDITION, _compound(item, label)))
    elif when is not None:
        whole = _compound(when, label)
    return _Row(fields, items, whole, file)


def _decision_sheet(
    book: Workbook,
    decision: str,
    rows: list[_Row],
    words: _Words,
    lists: _Lists,
    title: str,
) -> None:
    ws = book.create_sheet(title)
    columns = conditions.table_columns([[key for key, _ in row.conditions] for row in rows])
    policy, default, meaning = words.policies.get(decision, ("unique", "", ""))
    lead = ["id"]
    if any("for_each" in r.fields for r in rows):
        lead.append("for_each")
    if policy == "priority" or any("priority" in r.fields for r in rows):
        lead.append("priority")
    whole = [layout.WHEN] if any(r.whole is not None for r in rows) else []
    extra = list(dict.fromkeys(k for r in rows for k in r.fields if k not in _RULE_FIELDS))
    headers: list[Col] = [
        *(Col(name, layout.RULE_HELP[name], layout.RULE_WIDTHS.get(name, 14)) for name in lead),
        *(Col(name, layout.RULE_HELP[name], 40, wrap=True) for name in whole),
        *(
            Col(
                key,
                layout.RULE_HELP[layout.CONDITION]
                if key == layout.CONDITION
                else f"{words.describe(key)}\n\n{layout.CONDITION_CELL_HELP}",
                40 if key == layout.CONDITION else max(12, min(24, len(key) + 2)),
                wrap=key == layout.CONDITION,
            )
            for key in columns
        ),
        *(
            Col(
                name,
                layout.RULE_HELP[name],
                layout.RULE_WIDTHS.get(name, 14),
                wrap=name in ("rationale", "message", "title"),
            )
            for name in layout.RULE_TAIL
        ),
        *(Col(name, f"'{name}' is not a rule key; 'rules check' says so.", 14) for name in extra),
        Col(layout.FILE, layout.RULE_HELP[layout.FILE], layout.RULE_WIDTHS[layout.FILE]),
    ]
    _put(ws.cell(1, 1), layout.DECISION_MARK)
    ws.cell(1, 1).font = _TITLE_FONT
    _put(ws.cell(1, 2), decision)
    ws.cell(1, 2).font = _TITLE_FONT
    ws.cell(1, 2).comment = _note(
        "The decision this sheet's rules conclude (the Decisions sheet describes it)."
    )
    policy_words = layout.POLICY_WORDS.get(policy, policy)
    _put(
        ws.cell(1, 3),
        f"{policy}: {policy_words}; when none fires: {default}. {meaning}".strip(),
    )
    _header(ws, layout.HEADER_ROW, headers)
    names = [c.name for c in headers]
    first_condition = len(lead) + 1
    previous_file = None
    for number, row in enumerate(rows, start=layout.HEADER_ROW + 1):
        for name in (*lead, *layout.RULE_TAIL, *extra):
            if name in row.fields:
                cell = ws.cell(number, names.index(name) + 1)
                _put(cell, row.fields[name])
                cell.alignment = _WRAP
        if row.whole is not None:
            _put(ws.cell(number, names.index(layout.WHEN) + 1), row.whole)
        for (_, text), index in zip(
            row.conditions, conditions.place(columns, [k for k, _ in row.conditions]), strict=True
        ):
            number_value = number_of(text)
            value: CellValue = (
                number_value if number_value is not None and show(number_value) == text else text
            )
            cell = ws.cell(number, first_condition + len(whole) + index)
            _put(cell, value)
            cell.alignment = _WRAP
        cell = ws.cell(number, len(names))
        _put(cell, row.file)
        previous_file = row.file
        cell.alignment = _TOP
    del previous_file
    last = layout.HEADER_ROW + len(rows)
    ws.freeze_panes = ws.cell(layout.HEADER_ROW + 1, len(lead) + 1).coordinate
    ws.auto_filter.ref = (
        f"A{layout.HEADER_ROW}:{get_column_letter(len(names))}{max(last, layout.HEADER_ROW)}"
    )
    for offset, key in enumerate(columns):
        choices = words.choices(key)
        letter = get_column_letter(first_condition + len(whole) + offset)
        if choices:
            lists.offer(
                ws, f"{letter}{layout.HEADER_ROW + 1}:{letter}{last + _SPARE_ROWS}", choices
            )
    first_letter = get_column_letter(first_condition)
    then_letter = get_column_letter(names.index("then"))
    lists.offer(
        ws,
        f"{first_letter}{layout.HEADER_ROW}:{then_letter}{layout.HEADER_ROW}",
        [layout.CONDITION, *words.facts(), *words.outcomes],
    )
    then = get_column_letter(names.index("then") + 1)
    lists.offer(
        ws,
        f"{then}{layout.HEADER_ROW + 1}:{then}{last + _SPARE_ROWS}",
        words.outcomes.get(decision, []),
    )


def _sheet_title(name: str, taken: set[str]) -> str:
    """A tab title for a decision: its name, capitalised, within Excel's 31 characters,
    unlike any other tab."""
    base = "".join(c if c not in "[]:*?/\\" else "_" for c in name)
    base = (base[:1].upper() + base[1:])[:31] or "Decision"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _decision_sheets(
    book: Workbook, source: _Source, words: _Words, lists: _Lists, taken: set[str]
) -> None:
    by_decision: dict[str, list[_Row]] = {name: [] for name in words.outcomes}
    for file in source.files.names():
        if file in (PARAMETERS_FILE, SIGNALS_FILE, VOCABULARY_FILE, DECISIONS_FILE, CATALOGUE_FILE):
            continue
        label = source.label(file)
        node = source.nodes.get(file)
        rules = _get(node, "rules")
        if not isinstance(rules, yaml.SequenceNode):
            raise Unwritable(f"{label}: a rule file holds a 'rules:' list")
        for rule in rules.value:
            decision = _get(rule, "decision")
            if not isinstance(decision, yaml.ScalarNode):
                raise _fail(label, rule, "a rule without a decision has no sheet to go on")
            by_decision.setdefault(str(decision.value), []).append(_rule_row(rule, label, file))
    for name, rows in by_decision.items():
        _decision_sheet(book, name, rows, words, lists, _sheet_title(name, taken))


# --------------------------------------------------------------------------------------
# Catalogue and allocation
# --------------------------------------------------------------------------------------


def _catalogue(book: Workbook, source: _Source, words: _Words, lists: _Lists) -> None:
    node = source.nodes.get(CATALOGUE_FILE)
    label = source.label(CATALOGUE_FILE)
    table = layout.INVESTMENTS_TABLE
    rows: list[list[CellValue]] = []
    investments = _get(node, "investments")
    if isinstance(investments, yaml.SequenceNode):
        for item in investments.value:
            fields = {k: v for k, _, v in _entries(item, label, "an investment")}
            unknown = [k for k in fields if k not in table.names()]
            if unknown:
                raise _fail(
                    label, item, f"an investment: '{unknown[0]}' has no column in the workbook"
                )
            rows.append([_value(fields.get(c.name), label, c.name) for c in table.columns])
    elif investments is not None:
        raise _fail(label, investments, "investments must be a list")
    ws = _table(book, table, rows)
    for name, values in (
        ("track", tuple(INVESTMENT_TRACKS)),
        ("mode", tuple(INVESTMENTS.column("mode").values)),
    ):
        cells = _column_range(table.columns, name, 2, len(rows))
        if cells:
            lists.offer(ws, cells, values)
    settings: list[list[CellValue]] = []
    currency = _get(node, "currency")
    if currency is not None:
        settings.append(["currency", None, _value(currency, label, "currency")])
    allocation = _get(node, "allocation")
    for key, _, value in _entries(allocation, label, "allocation"):
        if key in ("decision", "tie_break"):
            settings.append([key, None, _value(value, label, key)])
        elif key in ("not_investments", "codes"):
            settings.append([key, None, _lines(value, label, key)])
        elif key == "order":
            if not isinstance(value, yaml.SequenceNode):
                raise _fail(label, value, "allocation.order must be a list")
            for item in value.value:
                entries = _entries(item, label, "an order entry")
                if len(entries) != 1:
                    raise _fail(label, item, "each order entry is one 'name: [values, best first]'")
                name, _, ranking = entries[0]
                settings.append(["order", name, _lines(ranking, label, "order")])
        elif key == "eligible":
            for group, _, table_node in _entries(value, label, "eligible"):
                setting = {"tracks": "eligible track", "codes": "eligible code"}.get(group)
                if setting is None:
                    raise _fail(label, table_node, "eligible holds 'tracks:' and 'codes:' mappings")
                for name, _, rule in _entries(table_node, label, f"eligible {group}"):
                    options = rule.value if isinstance(rule, yaml.SequenceNode) else [rule]
                    for option in options:
                        lines = []
                        for fact, _, given in _entries(option, label, f"eligible {name}"):
                            items = given.value if isinstance(given, yaml.SequenceNode) else [given]
                            texts = [str(_value(v, label, fact)) for v in items]
                            quoted = [f'"{t}"' if ("," in t or '"' in t) else t for t in texts]
                            lines.append(f"{fact}: {', '.join(quoted)}")
                        settings.append([setting, name, "\n".join(lines)])
        else:
            raise _fail(label, value, f"allocation: '{key}' has no place in the workbook")
    ws = _table(book, layout.ALLOCATION_TABLE, settings)
    cells = _column_range(layout.ALLOCATION_TABLE.columns, "setting", 2, len(settings))
    if cells:
        lists.offer(ws, cells, layout.ALLOCATION_SETTINGS)


# --------------------------------------------------------------------------------------
# Rule tests
# --------------------------------------------------------------------------------------


@dataclass
class _Test:
    values: dict[str, CellValue]  # column -> cell
    rows: dict[str, list[dict[str, CellValue]]]  # evidence/nominations/development rows
    file: str


def _test(item: yaml.Node, label: str, file: str) -> _Test:
    values: dict[str, CellValue] = {}
    rows: dict[str, list[dict[str, CellValue]]] = {}
    for key, _, value in _entries(item, label, "a test"):
        if key == "name":
            values[layout.TEST_NAME] = _value(value, label, "name")
        elif key == "facts":
            lines = []
            for fact, _, given in _entries(value, label, "facts"):
                shown = _value(given, label, fact)
                lines.append(f"{fact}: {'~' if shown is None else show(shown)}")
            values[layout.TEST_FACTS] = "\n".join(lines)
        elif key in ("expect", "absent"):
            prefix = layout.EXPECT_PREFIX if key == "expect" else layout.ABSENT_PREFIX
            for decision, _, outcomes in _entries(value, label, key):
                values[prefix + decision] = _lines(outcomes, label, decision)
        elif key in layout.TEST_LISTS:
            values[key] = _lines(value, label, key)
        elif key == "person":
            for field_, _, given in _entries(value, label, "person"):
                if field_ == TEAM:
                    for name, _, figure in _entries(given, label, "team"):
                        values[name] = _value(figure, label, name)
                elif field_ in ROW_SHEETS:
                    if not isinstance(given, yaml.SequenceNode):
                        raise _fail(label, given, f"{field_} is a list of rows")
                    rows[field_] = [
                        {
                            k: _value(v, label, k)
                            for k, _, v in _entries(r, label, f"a {field_} row")
                        }
                        for r in given.value
                    ]
                else:
                    values[field_] = _value(given, label, field_)
        else:
            raise _fail(label, value, f"a test's '{key}' has no place in the workbook")
    return _Test(values, rows, file)


def _tests(book: Workbook, source: _Source, words: _Words, lists: _Lists) -> None:
    files = source.files
    found: list[_Test] = []
    for name in files.test_names():
        label = files.test_label(name)
        root = files.test_node(name)
        items = _get(root, "tests")
        if root is None:
            continue
        if not isinstance(items, yaml.SequenceNode):
            raise _fail(label, root, "a tests file holds a 'tests:' list")
        file = name.split("/", 1)[-1]
        found += [_test(item, label, file) for item in items.value]
    used = {k for t in found for k in t.values}
    person = [
        k
        for k in (*PERSON_KEYS, *TEAM_FIELDS)
        if k not in (TEAM, *ROW_SHEETS) and (k in used or k in layout.TEST_CORE_PERSON)
    ]
    decisions = list(words.outcomes)
    expect = [layout.EXPECT_PREFIX + d for d in decisions]
    expect += [k for k in sorted(used) if k.startswith(layout.EXPECT_PREFIX) and k not in expect]
    absent = [
        k
        for k in sorted(
            used,
            key=lambda k: (
                decisions.index(k[len(layout.ABSENT_PREFIX) :])
                if k[len(layout.ABSENT_PREFIX) :] in decisions
                else 999,
                k,
            ),
        )
        if k.startswith(layout.ABSENT_PREFIX)
    ]
    contract = {**{c.name: c for c in EMPLOYEES.columns}, **{c.name: c for c in TEAMS.columns}}

    def person_help(name: str) -> str:
        if name in layout.TEST_HELP:
            return layout.TEST_HELP[name]
        column = contract.get(name)
        return f"{column.help} ({column.allowed})" if column is not None else name

    columns = [
        Col(layout.TEST_NAME, layout.TEST_HELP["name"], 44, wrap=True),
        *(Col(name, person_help(name), max(10, min(18, len(name) + 2))) for name in person),
        Col(layout.TEST_FACTS, layout.TEST_HELP["facts"], 40, lines=True),
        *(
            Col(
                name,
                f"What decision '{name.partition(': ')[2]}' must conclude (a collect "
                f"decision: each outcome listed must be among them). {layout.LIST_HELP}",
                18,
                lines=True,
            )
            for name in expect
        ),
        *(
            Col(
                name,
                f"Outcomes decision '{name.partition(': ')[2]}' must not reach. "
                + layout.LIST_HELP,
                18,
                lines=True,
            )
            for name in absent
        ),
        *(Col(name, layout.TEST_HELP[name], 26, lines=True) for name in layout.TEST_LISTS),
        Col(layout.FILE, layout.TEST_HELP["file"], 16),
    ]
    table = Table(layout.TESTS, "", tuple(columns))
    ws = _table(
        book,
        table,
        [
            [t.values.get(c.name) if c.name != layout.FILE else t.file for c in columns]
            for t in found
        ],
    )
    ws.freeze_panes = "B2"
    for column in columns:
        values: list[str] = []
        if column.name.startswith(layout.EXPECT_PREFIX):
            values = words.outcomes.get(column.name[len(layout.EXPECT_PREFIX) :], [])
        elif column.name.startswith(layout.ABSENT_PREFIX):
            values = words.outcomes.get(column.name[len(layout.ABSENT_PREFIX) :], [])
        elif column.name in contract and contract[column.name].kind == "enum":
            values = list(contract[column.name].values)
        elif column.name in contract and contract[column.name].kind == "bool":
            values = ["yes", "no"]
        cells = _column_range(columns, column.name, 2, len(found))
        if values and cells:
            lists.offer(ws, cells, values)
    names = [str(t.values.get(layout.TEST_NAME) or "") for t in found]
    for key, title in layout.TEST_ROW_SHEETS.items():
        sheet = ROW_SHEETS[key]
        fields = ROW_FIELDS[key]
        by_name = {c.name: c for c in sheet.columns}
        row_columns = [
            Col(layout.TEST_ROW_NAME, "The test (Tests sheet) this row belongs to.", 36, wrap=True),
            *(
                Col(
                    f,
                    layout.TEST_HELP.get(f) or f"{by_name[f].help} ({by_name[f].allowed})",
                    max(10, min(20, len(f) + 2)),
                    wrap=f in ("observation", "comment", "note"),
                )
                for f in fields
            ),
        ]
        part_rows = [
            [t.values.get(layout.TEST_NAME), *(r.get(f) for f in fields)]
            for t in found
            for r in t.rows.get(key, [])
        ]
        ws = _table(book, Table(title, "", tuple(row_columns)), part_rows)
        lists.offer(ws, f"A2:A{len(part_rows) + 1 + _SPARE_ROWS}", names)
        for f in fields:
            contract_column = by_name.get(f)
            cells = _column_range(row_columns, f, 2, len(part_rows))
            if contract_column is None or cells is None:
                continue
            if f == "signal" and words.vocabulary is not None:
                lists.offer(ws, cells, list(words.vocabulary.signals))
            elif contract_column.kind == "enum":
                lists.offer(ws, cells, list(contract_column.values))


# --------------------------------------------------------------------------------------
# README and the whole workbook
# --------------------------------------------------------------------------------------

README_LINES = (
    ("The rulebook", True),
    (
        "This workbook is a talentrules rulebook: every threshold, rule, outcome's words, "
        "signal, fact and rule test, laid out for editing. Every command that takes a "
        "rulebook (--rules, rules check, rules test, rules book) takes this file, and "
        "'talentrules rules import' writes it back as a rules folder.",
        False,
    ),
    ("How to read a decision's sheet", True),
    (
        "One rule per row. Each condition column names a fact (its header comment says "
        "what the fact is); a cell under it compares that fact: '>= 3', '< $habit_months', "
        "'!= Sufficient', 'in (Ready now, Ready 1-2 years)', 'is unknown', or a value alone "
        "for equals. Every filled condition cell of a row must hold for the rule to fire; "
        "a blank cell means the rule does not look at that fact. A 'condition' column holds "
        "anything else: any(A, B), all(A, B), not(A). 'then' is the outcome the rule "
        "concludes, 'priority' decides between rules of a priority decision, 'rationale' is "
        "what briefs quote. $name is a parameter (Parameters sheet) or a set of signals.",
        False,
    ),
    ("Checking your change", True),
    (
        "talentrules rules check rulebook.xlsx (every problem with its sheet and cell); "
        "talentrules rules test rulebook.xlsx --coverage (the Tests sheets); talentrules "
        "audit diff review.xlsx --rules-a rules/ --rules-b rulebook.xlsx (who changes, and why).",
        False,
    ),
    ("The sheets", True),
)


def _readme(book: Workbook, sheets: Sequence[tuple[str, str]]) -> None:
    ws = book.create_sheet(layout.README, 0)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100
    row = 1
    for text, heading in README_LINES:
        cell = ws.cell(row, 1 if heading else 2)
        _put(cell, text)
        cell.font = _TITLE_FONT if heading else Font()
        cell.alignment = _WRAP
        row += 1
    for name, help_ in sheets:
        _put(ws.cell(row, 1), name)
        _put(ws.cell(row, 2), help_)
        ws.cell(row, 2).alignment = _WRAP
        row += 1


def build_workbook(rules: str | Path | None) -> Workbook:
    """The rulebook at ``rules`` (a folder, or a rulebook workbook) as a new workbook."""
    files = open_rules(rules)
    source = _read(files)
    words = _words(source)
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    lists = _Lists(book)
    taken = {t.sheet.lower() for t in layout.FIXED_TABLES} | {
        n.lower()
        for n in (layout.README, layout.TESTS, layout.LISTS, *layout.TEST_ROW_SHEETS.values())
    }
    _parameters(book, source)
    _decision_sheets(book, source, words, lists, taken)
    _tests(book, source, words, lists)
    # A rulebook without decisions.yaml or vocabulary.yaml exports without its sheet,
    # so the workbook's checker says what the folder's says: it is missing.
    if files.has(DECISIONS_FILE):
        _decisions(book, source, words, lists)
    _signals(book, source, lists)
    if files.has(VOCABULARY_FILE):
        _vocabulary(book, source, lists)
    _catalogue(book, source, words, lists)
    book.move_sheet(lists.sheet, offset=len(book.sheetnames))
    lists.sheet.sheet_state = "hidden"
    descriptions = {t.sheet: t.help for t in layout.FIXED_TABLES}
    descriptions[layout.TESTS] = (
        "Rule tests: one made-up person per row (their ratings, interest, team figures) "
        "and what the rulebook must conclude for them; their evidence, nominations and "
        "development rows are on the three sheets after it."
    )
    shown = []
    for ws in book.worksheets:
        if ws.title == layout.LISTS:
            continue
        if ws.cell(1, 1).value == layout.DECISION_MARK:
            shown.append(
                (ws.title, f"The rules of decision '{ws.cell(1, 2).value}': a decision table.")
            )
        else:
            shown.append((ws.title, descriptions.get(ws.title, "")))
    _readme(book, shown)
    return book


def export_rulebook(rules: str | Path | None, out: str | Path, force: bool = False) -> Path:
    """Write the rulebook at ``rules`` to the workbook ``out`` (refused if it exists,
    unless ``force``); nothing is written unless the whole workbook is."""
    target = Path(out)
    if target.suffix.lower() != ".xlsx":
        raise OutputError(f"{target}: a rulebook workbook is an .xlsx file")
    if target.exists() and not force:
        raise OutputError(f"{target}: exists; add --force to replace it")
    book = build_workbook(rules)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Saved beside the target and renamed into place: a failure leaves no half a workbook.
    partial = target.with_name(f".{target.name}.partial")
    try:
        book.save(partial)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise OutputError(f"{target}: cannot be written ({error.strerror})") from error
    return target
