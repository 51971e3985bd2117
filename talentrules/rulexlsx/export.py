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
from pathlib import Path

import yaml
from openpyxl import Workbook
from openpyxl.styles import Font

from talentrules.contract import INVESTMENT_TRACKS, INVESTMENTS
from talentrules.errors import OutputError
from talentrules.rulebook import CHANGES_FILE, DECISIONS_FILE, FAIRNESS_DIRECTIONS, ROLES
from talentrules.rulefiles import open_rules
from talentrules.rulexlsx import layout
from talentrules.rulexlsx.decisiontables import decision_sheets
from talentrules.rulexlsx.layout import Col, Table
from talentrules.rulexlsx.sheets import (
    TITLE_FONT,
    WRAP,
    CellValue,
    Lists,
    column_range,
    put,
    write_table,
)
from talentrules.rulexlsx.source import (
    CATALOGUE_FILE,
    Source,
    Words,
    cell_value,
    get_key,
    list_cell,
    mapping_entries,
    read_source,
    unwritable,
    words_of,
)
from talentrules.rulexlsx.testsheets import write_tests
from talentrules.vocabulary import (
    MEASURES,
    PARAMETERS_FILE,
    SIGNAL_KINDS,
    SIGNAL_WEIGHTS,
    SIGNALS_FILE,
    VOCABULARY_FILE,
)


def _keyed_rows(
    node: yaml.Node | None, label: str, what: str, table: Table, skip: Sequence[str] = ()
) -> list[list[CellValue]]:
    """A mapping of named entries (parameters, signals, ...) as rows: name, then fields."""
    rows: list[list[CellValue]] = []
    for name, _, body in mapping_entries(node, label, what):
        fields = dict((k, v) for k, _, v in mapping_entries(body, label, f"{what} '{name}'"))
        unknown = [k for k in fields if k not in table.names() and k not in skip]
        if unknown:
            raise unwritable(
                label, body, f"{what} '{name}': '{unknown[0]}' has no column in the workbook"
            )
        row: list[CellValue] = [name]
        for column in table.columns[1:]:
            node_ = fields.get(column.name)
            row.append(
                list_cell(node_, label, column.name)
                if column.lines
                else cell_value(node_, label, column.name)
            )
        rows.append(row)
    return rows


def _parameters(book: Workbook, source: Source) -> None:
    node = source.nodes.get(PARAMETERS_FILE)
    label = source.label(PARAMETERS_FILE)
    rows = _keyed_rows(get_key(node, "parameters"), label, "parameter", layout.PARAMETERS_TABLE)
    write_table(book, layout.PARAMETERS_TABLE, rows)


def _signals(book: Workbook, source: Source, lists: Lists) -> None:
    node = source.nodes.get(SIGNALS_FILE)
    label = source.label(SIGNALS_FILE)
    table = layout.SIGNALS_TABLE
    rows = _keyed_rows(get_key(node, "signals"), label, "signal", table)
    ws = write_table(book, table, rows)
    for name, values in (("kind", SIGNAL_KINDS), ("weight", SIGNAL_WEIGHTS)):
        cells = column_range(table.columns, name, 2, len(rows))
        if cells:
            lists.offer(ws, cells, values)
    set_rows: list[list[CellValue]] = []
    for name, _, body in mapping_entries(get_key(node, "sets"), label, "sets"):
        if isinstance(body, yaml.SequenceNode):
            set_rows.append([name, None, None, list_cell(body, label, "codes")])
        else:
            fields = dict((k, v) for k, _, v in mapping_entries(body, label, f"set '{name}'"))
            set_rows.append(
                [
                    name,
                    cell_value(fields.get("kind"), label, "kind"),
                    cell_value(fields.get("weight"), label, "weight"),
                    None,
                ]
            )
    ws = write_table(book, layout.SETS_TABLE, set_rows)
    for name, values in (("kind", SIGNAL_KINDS), ("weight", SIGNAL_WEIGHTS)):
        cells = column_range(layout.SETS_TABLE.columns, name, 2, len(set_rows))
        if cells:
            lists.offer(ws, cells, values)


def _interest_order(words: Words, seen: Iterable[str], facts: Iterable[str]) -> list[str]:
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


def _decisions(book: Workbook, source: Source, words: Words, lists: Lists) -> None:
    node = source.nodes.get(DECISIONS_FILE)
    label = source.label(DECISIONS_FILE)
    table = layout.DECISIONS_TABLE
    rows = _keyed_rows(
        get_key(node, "decisions"), label, "decision", table, skip=("texts", "fairness")
    )
    ws = write_table(book, table, rows)
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
        cells = column_range(table.columns, name, 2, len(rows))
        if cells:
            lists.offer(ws, cells, values)
    # Outcomes: every outcome's texts, then the outcomes without any.
    texts_rows: list[tuple[str, str, dict[str, CellValue], dict[str, CellValue]]] = []
    interest_seen: list[str] = []
    fairness: dict[tuple[str, str], CellValue] = {}
    for decision, _, body in mapping_entries(get_key(node, "decisions"), label, "decisions"):
        for outcome, _, reading in mapping_entries(
            get_key(body, "fairness"), label, f"decision '{decision}' fairness"
        ):
            fairness[(decision, outcome)] = cell_value(reading, label, f"fairness of '{outcome}'")
        written: set[str] = set()
        for outcome, _, texts in mapping_entries(
            get_key(body, "texts"), label, f"decision '{decision}' texts"
        ):
            fields = {k: v for k, _, v in mapping_entries(texts, label, f"texts of '{outcome}'")}
            unknown = [k for k in fields if k not in (*layout.OUTCOME_TEXTS, "interest")]
            if unknown:
                raise unwritable(
                    label, texts, f"texts of '{outcome}': '{unknown[0]}' has no column"
                )
            said = {k: cell_value(fields.get(k), label, k) for k in layout.OUTCOME_TEXTS}
            interest = {
                k: cell_value(v, label, f"interest '{k}'")
                for k, _, v in mapping_entries(fields.get("interest"), label, "interest")
            }
            interest_seen += list(interest)
            texts_rows.append((decision, outcome, said, interest))
            written.add(outcome)
        for outcome in words.outcomes.get(decision, []):
            if outcome not in written:
                texts_rows.append((decision, outcome, {}, {}))
                written.add(outcome)
        for outcome, _, _reading in mapping_entries(
            get_key(body, "fairness"), label, f"decision '{decision}' fairness"
        ):
            if outcome not in written:  # not an outcome: rules check names it
                texts_rows.append((decision, outcome, {}, {}))
    interest_facts = [
        str(fact.value)
        for _, _, body in mapping_entries(get_key(node, "decisions"), label, "decisions")
        if isinstance(fact := get_key(body, "interest"), yaml.ScalarNode)
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
            fairness.get((decision, outcome)),
            *(interest.get(v) for v in interest_columns),
        ]
        for decision, outcome, values, interest in texts_rows
    ]
    ws = write_table(book, layout.OUTCOMES_TABLE, out_rows, columns)
    cells = column_range(columns, "decision", 2, len(out_rows))
    if cells:
        lists.offer(ws, cells, list(words.outcomes))
    cells = column_range(columns, "fairness", 2, len(out_rows))
    if cells:
        lists.offer(ws, cells, FAIRNESS_DIRECTIONS)


def _vocabulary(book: Workbook, source: Source, lists: Lists) -> None:
    node = source.nodes.get(VOCABULARY_FILE)
    label = source.label(VOCABULARY_FILE)
    table = layout.FACTS_TABLE
    rows: list[list[CellValue]] = []
    skip = ("family", "min", "max")

    def fact_row(name: str, body: yaml.Node, family: str | None) -> list[CellValue]:
        fields = {k: v for k, _, v in mapping_entries(body, label, f"fact '{name}'")}
        unknown = [k for k in fields if k not in (*table.names(), "range") or k in skip]
        if unknown:
            raise unwritable(
                label, body, f"fact '{name}': '{unknown[0]}' has no column in the workbook"
            )
        bounds: list[CellValue] = [None, None]
        if "range" in fields:
            range_node = fields["range"]
            if not isinstance(range_node, yaml.SequenceNode) or len(range_node.value) > 2:
                raise unwritable(
                    label, range_node, f"fact '{name}': range must be [minimum, maximum]"
                )
            for i, item in enumerate(range_node.value):
                bounds[i] = cell_value(item, label, "range")
        row: list[CellValue] = []
        for column in table.columns:
            if column.name == "name":
                row.append(name)
            elif column.name == "family":
                row.append(family)
            elif column.name in ("min", "max"):
                row.append(bounds[0 if column.name == "min" else 1])
            elif column.lines:
                row.append(list_cell(fields.get(column.name), label, column.name))
            else:
                row.append(cell_value(fields.get(column.name), label, column.name))
        return row

    for name, _, body in mapping_entries(get_key(node, "facts"), label, "facts"):
        rows.append(fact_row(name, body, None))
    family_rows: list[list[CellValue]] = []
    for family, _, body in mapping_entries(get_key(node, "families"), label, "families"):
        family_rows.append([family, list_cell(get_key(body, "members"), label, "members")])
        for name, _, fact in mapping_entries(
            get_key(body, "facts"), label, f"family '{family}' facts"
        ):
            rows.append(fact_row(name, fact, family))
    ws = write_table(book, table, rows)
    row_sets = [n for n, _, _ in mapping_entries(get_key(node, "rows"), label, "rows")]
    for name, values in (
        ("type", ("number", "enum", "boolean", "date", "text")),
        ("measure", MEASURES),
        ("rows", row_sets),
        ("family", [r[0] for r in family_rows if isinstance(r[0], str)]),
    ):
        cells = column_range(table.columns, name, 2, len(rows))
        if cells:
            lists.offer(ws, cells, values)
    write_table(book, layout.FAMILIES_TABLE, family_rows)
    row_rows = _keyed_rows(get_key(node, "rows"), label, "row set", layout.ROWS_TABLE)
    ws = write_table(book, layout.ROWS_TABLE, row_rows)
    cells = column_range(layout.ROWS_TABLE.columns, "sheet", 2, len(row_rows))
    if cells:
        lists.offer(ws, cells, ("Evidence", "Development", "Nominations"))
    protected = get_key(node, "protected")
    names: list[list[CellValue]] = []
    if isinstance(protected, yaml.SequenceNode):
        names = [[cell_value(item, label, "protected")] for item in protected.value]
    elif protected is not None:
        raise unwritable(label, protected, "protected must be a list of names")
    write_table(book, layout.PROTECTED_TABLE, names)
    proxies = get_key(node, "proxies")
    proxy_rows: list[list[CellValue]] = []
    if isinstance(proxies, yaml.SequenceNode):
        for item in proxies.value:
            fields = {k: v for k, _, v in mapping_entries(item, label, "a proxy")}
            unknown = [k for k in fields if k not in layout.PROXIES_TABLE.names()]
            if unknown:
                raise unwritable(
                    label, item, f"a proxy: '{unknown[0]}' has no column in the workbook"
                )
            proxy_rows.append(
                [
                    cell_value(fields.get(c.name), label, c.name)
                    for c in layout.PROXIES_TABLE.columns
                ]
            )
    elif proxies is not None:
        raise unwritable(label, proxies, "proxies must be a list")
    write_table(book, layout.PROXIES_TABLE, proxy_rows)
    write_table(book, layout.BRIEFS_TABLE, _briefs(get_key(node, "briefs"), label))


def _briefs(node: yaml.Node | None, label: str) -> list[list[CellValue]]:
    """A row per place a brief shows a fact: ``trend``, ``signal_line.episodes``, ..."""
    rows: list[list[CellValue]] = []
    for key, _, value in mapping_entries(node, label, "briefs"):
        if isinstance(value, yaml.MappingNode):
            for column, _, fact in mapping_entries(value, label, f"briefs: {key}"):
                rows.append([f"{key}.{column}", cell_value(fact, label, f"briefs: {key}")])
        else:
            rows.append([key, cell_value(value, label, f"briefs: {key}")])
    return rows


def _changes(book: Workbook, source: Source, lists: Lists) -> None:
    """changes.yaml as the Changes sheet: a row for each explained decision, one for
    show, then one per change."""
    node = source.nodes.get(CHANGES_FILE)
    label = source.label(CHANGES_FILE)
    table = layout.CHANGES_TABLE
    rows: list[list[CellValue]] = []
    for key, _, value in mapping_entries(node, label, "changes.yaml"):
        if key == "explain":
            for role, _, toward in mapping_entries(value, label, "explain"):
                rows.append(
                    ["explain", role, list_cell(toward, label, f"explain {role}"), None, None]
                )
        elif key == "show":
            rows.append(["show", None, cell_value(value, label, "show"), None, None])
        elif key == "changes":
            if not isinstance(value, yaml.SequenceNode):
                raise unwritable(label, value, "changes must be a list")
            for item in value.value:
                fields = {k: v for k, _, v in mapping_entries(item, label, "a change")}
                kinds = [k for k in layout.CHANGE_KINDS if k in fields]
                allowed = {*layout.CHANGE_KINDS, "says", "up_to", "as", "raise"}
                unknown = [k for k in fields if k not in allowed]
                if len(kinds) != 1 or unknown:
                    what = f"'{unknown[0]}' has no column" if unknown else "one kind each"
                    raise unwritable(label, item, f"a change: {what} in the workbook")
                kind = kinds[0]
                values: CellValue = None
                if "up_to" in fields:
                    values = cell_value(fields["up_to"], label, "up_to")
                if "raise" in fields:
                    flag = fields["raise"]
                    if not isinstance(flag, yaml.ScalarNode) or flag.value.lower() != "true":
                        raise unwritable(label, flag, "raise: true is the only value a cell holds")
                    values = "raise"
                given = [
                    f"{column}: {cell_value(v, label, column)}"
                    for column, _, v in mapping_entries(fields.get("as"), label, "as")
                ]
                rows.append(
                    [
                        kind,
                        list_cell(fields[kind], label, kind),
                        values,
                        "\n".join(given) or None,
                        cell_value(fields.get("says"), label, "says"),
                    ]
                )
        else:
            raise unwritable(label, value, f"changes.yaml: '{key}' has no place in the workbook")
    ws = write_table(book, table, rows)
    cells = column_range(table.columns, "setting", 2, len(rows))
    if cells:
        lists.offer(ws, cells, layout.CHANGES_SETTINGS)


def _catalogue(book: Workbook, source: Source, words: Words, lists: Lists) -> None:
    node = source.nodes.get(CATALOGUE_FILE)
    label = source.label(CATALOGUE_FILE)
    table = layout.INVESTMENTS_TABLE
    rows: list[list[CellValue]] = []
    investments = get_key(node, "investments")
    if isinstance(investments, yaml.SequenceNode):
        for item in investments.value:
            fields = {k: v for k, _, v in mapping_entries(item, label, "an investment")}
            unknown = [k for k in fields if k not in table.names()]
            if unknown:
                raise unwritable(
                    label, item, f"an investment: '{unknown[0]}' has no column in the workbook"
                )
            rows.append([cell_value(fields.get(c.name), label, c.name) for c in table.columns])
    elif investments is not None:
        raise unwritable(label, investments, "investments must be a list")
    ws = write_table(book, table, rows)
    for name, values in (
        ("track", tuple(INVESTMENT_TRACKS)),
        ("mode", tuple(INVESTMENTS.column("mode").values)),
    ):
        cells = column_range(table.columns, name, 2, len(rows))
        if cells:
            lists.offer(ws, cells, values)
    settings: list[list[CellValue]] = []
    currency = get_key(node, "currency")
    if currency is not None:
        settings.append(["currency", None, cell_value(currency, label, "currency")])
    allocation = get_key(node, "allocation")
    for key, _, value in mapping_entries(allocation, label, "allocation"):
        if key in ("decision", "tie_break"):
            settings.append([key, None, cell_value(value, label, key)])
        elif key in ("not_investments", "codes"):
            settings.append([key, None, list_cell(value, label, key)])
        elif key == "order":
            if not isinstance(value, yaml.SequenceNode):
                raise unwritable(label, value, "allocation.order must be a list")
            for item in value.value:
                entries = mapping_entries(item, label, "an order entry")
                if len(entries) != 1:
                    raise unwritable(
                        label, item, "each order entry is one 'name: [values, best first]'"
                    )
                name, _, ranking = entries[0]
                settings.append(["order", name, list_cell(ranking, label, "order")])
        elif key == "eligible":
            for group, _, table_node in mapping_entries(value, label, "eligible"):
                setting = {"tracks": "eligible track", "codes": "eligible code"}.get(group)
                if setting is None:
                    raise unwritable(
                        label, table_node, "eligible holds 'tracks:' and 'codes:' mappings"
                    )
                for name, _, rule in mapping_entries(table_node, label, f"eligible {group}"):
                    options = rule.value if isinstance(rule, yaml.SequenceNode) else [rule]
                    for option in options:
                        lines = []
                        for fact, _, given in mapping_entries(option, label, f"eligible {name}"):
                            items = given.value if isinstance(given, yaml.SequenceNode) else [given]
                            texts = [str(cell_value(v, label, fact)) for v in items]
                            quoted = [f'"{t}"' if ("," in t or '"' in t) else t for t in texts]
                            lines.append(f"{fact}: {', '.join(quoted)}")
                        settings.append([setting, name, "\n".join(lines)])
        elif key == "fallback":
            for code, _, alternatives in mapping_entries(value, label, "fallback"):
                settings.append(["fallback", code, list_cell(alternatives, label, "fallback")])
        elif key == "advantage":
            settings.append([key, None, list_cell(value, label, key)])
        else:
            raise unwritable(label, value, f"allocation: '{key}' has no place in the workbook")
    ws = write_table(book, layout.ALLOCATION_TABLE, settings)
    cells = column_range(layout.ALLOCATION_TABLE.columns, "setting", 2, len(settings))
    if cells:
        lists.offer(ws, cells, layout.ALLOCATION_SETTINGS)


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
        put(cell, text)
        cell.font = TITLE_FONT if heading else Font()
        cell.alignment = WRAP
        row += 1
    for name, help_ in sheets:
        put(ws.cell(row, 1), name)
        put(ws.cell(row, 2), help_)
        ws.cell(row, 2).alignment = WRAP
        row += 1


def build_workbook(rules: str | Path | None) -> Workbook:
    """The rulebook at ``rules`` (a folder, or a rulebook workbook) as a new workbook."""
    files = open_rules(rules)
    source = read_source(files)
    words = words_of(source)
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    lists = Lists(book)
    taken = {t.sheet.lower() for t in layout.FIXED_TABLES} | {
        n.lower()
        for n in (layout.README, layout.TESTS, layout.LISTS, *layout.TEST_ROW_SHEETS.values())
    }
    _parameters(book, source)
    decision_sheets(book, source, words, lists, taken)
    write_tests(book, source, words, lists)
    # A rulebook without decisions.yaml or vocabulary.yaml exports without its sheet,
    # so the workbook's checker says what the folder's says: it is missing.
    if files.has(DECISIONS_FILE):
        _decisions(book, source, words, lists)
    _signals(book, source, lists)
    if files.has(VOCABULARY_FILE):
        _vocabulary(book, source, lists)
    _catalogue(book, source, words, lists)
    if files.has(CHANGES_FILE):
        _changes(book, source, lists)
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
