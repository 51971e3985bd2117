"""The rule tests' sheets, both ways: Tests (one test a row) and the test person's rows.

A test's row holds its person's Employees values and team figures (a column each), the
facts given (one ``fact: value`` a line), what each decision must and must not conclude
(``expect: DECISION``, ``absent: DECISION``) and the rules that must or must not fire;
the person's evidence, nominations and development rows are on the Test evidence,
Test nominations and Test development sheets, each row naming its test.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from openpyxl import Workbook

from talentrules.contract import EMPLOYEES, TEAMS
from talentrules.persons import PERSON_KEYS, ROW_FIELDS, ROW_SHEETS, TEAM, TEAM_FIELDS
from talentrules.rulefiles import TESTS_FOLDER, Cell, did_you_mean, show
from talentrules.rulexlsx import layout
from talentrules.rulexlsx.cells import (
    Found,
    Reading,
    cell_lines,
    header_columns,
    list_node,
    mapping,
    place_of,
    scalar,
    sequence,
    text_node,
)
from talentrules.rulexlsx.layout import Col, Table
from talentrules.rulexlsx.sheets import SPARE_ROWS, CellValue, Lists, column_range, write_table
from talentrules.rulexlsx.source import (
    Source,
    Words,
    cell_value,
    get_key,
    list_cell,
    mapping_entries,
    unwritable,
)


def _fact_lines(found: Found, reading: Reading) -> yaml.Node | None:
    entries: list[tuple[yaml.Node, yaml.Node]] = []
    for line in cell_lines(found):
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            reading.error(found.place, f"'{line}': write one 'fact: value' per line")
            return None
        entries.append(
            (text_node(name.strip(), found.place), scalar(Found(value.strip() or "~", found.place)))
        )
    return mapping(entries, found.place)


def _outcome_node(found: Found) -> yaml.Node:
    items = cell_lines(found)
    if len(items) == 1:
        return scalar(Found(items[0], found.place))
    return list_node(found)


def _test_rows(reading: Reading, names: set[str]) -> dict[str, dict[str, list[yaml.Node]]]:
    """Test evidence/nominations/development sheets -> test name -> key -> row nodes."""
    found: dict[str, dict[str, list[yaml.Node]]] = {}
    for key, title in layout.TEST_ROW_SHEETS.items():
        sheet = reading.sheet(title)
        if sheet is None:
            continue
        table = Table(
            title, "", (Col(layout.TEST_ROW_NAME, ""), *(Col(f, "") for f in ROW_FIELDS[key]))
        )
        columns = header_columns(sheet, table, reading)
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


def read_tests(reading: Reading) -> dict[str, yaml.Node]:
    """Tests sheets -> test file name (``tests/heart.yaml``) -> its node tree."""
    sheet = reading.sheet(layout.TESTS)
    if sheet is None:
        return {}
    columns = header_columns(sheet, None, reading)
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


@dataclass
class _Test:
    values: dict[str, CellValue]  # column -> cell
    rows: dict[str, list[dict[str, CellValue]]]  # evidence/nominations/development rows
    file: str


def _test(item: yaml.Node, label: str, file: str) -> _Test:
    values: dict[str, CellValue] = {}
    rows: dict[str, list[dict[str, CellValue]]] = {}
    for key, _, value in mapping_entries(item, label, "a test"):
        if key == "name":
            values[layout.TEST_NAME] = cell_value(value, label, "name")
        elif key == "facts":
            lines = []
            for fact, _, given in mapping_entries(value, label, "facts"):
                shown = cell_value(given, label, fact)
                lines.append(f"{fact}: {'~' if shown is None else show(shown)}")
            values[layout.TEST_FACTS] = "\n".join(lines)
        elif key in ("expect", "absent"):
            prefix = layout.EXPECT_PREFIX if key == "expect" else layout.ABSENT_PREFIX
            for decision, _, outcomes in mapping_entries(value, label, key):
                values[prefix + decision] = list_cell(outcomes, label, decision)
        elif key in layout.TEST_LISTS:
            values[key] = list_cell(value, label, key)
        elif key == "person":
            for field_, _, given in mapping_entries(value, label, "person"):
                if field_ == TEAM:
                    for name, _, figure in mapping_entries(given, label, "team"):
                        values[name] = cell_value(figure, label, name)
                elif field_ in ROW_SHEETS:
                    if not isinstance(given, yaml.SequenceNode):
                        raise unwritable(label, given, f"{field_} is a list of rows")
                    rows[field_] = [
                        {
                            k: cell_value(v, label, k)
                            for k, _, v in mapping_entries(r, label, f"a {field_} row")
                        }
                        for r in given.value
                    ]
                else:
                    values[field_] = cell_value(given, label, field_)
        else:
            raise unwritable(label, value, f"a test's '{key}' has no place in the workbook")
    return _Test(values, rows, file)


def write_tests(book: Workbook, source: Source, words: Words, lists: Lists) -> None:
    files = source.files
    found: list[_Test] = []
    for name in files.test_names():
        label = files.test_label(name)
        root = files.test_node(name)
        items = get_key(root, "tests")
        if root is None:
            continue
        if not isinstance(items, yaml.SequenceNode):
            raise unwritable(label, root, "a tests file holds a 'tests:' list")
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
    ws = write_table(
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
        cells = column_range(columns, column.name, 2, len(found))
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
        ws = write_table(book, Table(title, "", tuple(row_columns)), part_rows)
        lists.offer(ws, f"A2:A{len(part_rows) + 1 + SPARE_ROWS}", names)
        for f in fields:
            contract_column = by_name.get(f)
            cells = column_range(row_columns, f, 2, len(part_rows))
            if contract_column is None or cells is None:
                continue
            if f == "signal" and words.vocabulary is not None:
                lists.offer(ws, cells, list(words.vocabulary.signals))
            elif contract_column.kind == "enum":
                lists.offer(ws, cells, list(contract_column.values))
