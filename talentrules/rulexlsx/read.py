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

import hashlib
from pathlib import Path

import yaml

from talentrules.rulefiles import Cell, Report, RuleFiles, did_you_mean, split_list
from talentrules.rulexlsx import conditions, emit, layout
from talentrules.rulexlsx.cells import (
    Found,
    Reading,
    Sheet,
    after,
    cell_lines,
    header_columns,
    key_node,
    keyed_rows,
    list_node,
    mapping,
    place_of,
    read_workbook,
    row_fields,
    scalar,
    sequence,
    text_node,
)
from talentrules.rulexlsx.layout import Table
from talentrules.rulexlsx.testsheets import read_tests

RESERVED = frozenset(
    {
        "parameters.yaml",
        "signals.yaml",
        "vocabulary.yaml",
        "decisions.yaml",
        "catalogue.yaml",
        "changes.yaml",
    }
)


def _simple_file(
    top: str, sheet: Sheet, table: Table, reading: Reading, what: str
) -> yaml.MappingNode | None:
    key = table.columns[0].name
    rows = keyed_rows(sheet, table, key, reading, what)
    entries = [
        (key_node(cell), mapping(row_fields(row, columns, table, (key,)), cell.place))
        for cell, row, columns in rows
    ]
    if not entries and not rows:
        return None
    first = rows[0][0].place if rows else sheet.header()[0].place
    return mapping([(text_node(top, first), mapping(entries, first))], first)


def _parameters(reading: Reading) -> yaml.Node | None:
    sheet = reading.sheet(layout.PARAMETERS)
    if sheet is None:
        return None
    return _simple_file("parameters", sheet, layout.PARAMETERS_TABLE, reading, "a parameter")


def _signals(reading: Reading) -> yaml.Node | None:
    signals = reading.sheet(layout.SIGNALS)
    sets = reading.sheet(layout.SETS)
    entries: list[tuple[yaml.Node, yaml.Node]] = []
    place: Cell | None = None
    if signals is not None:
        rows = keyed_rows(signals, layout.SIGNALS_TABLE, "code", reading, "a signal")
        codes = [
            (
                key_node(cell),
                mapping(row_fields(row, cols, layout.SIGNALS_TABLE, ("code",)), cell.place),
            )
            for cell, row, cols in rows
        ]
        if rows:
            place = rows[0][0].place
            entries.append((text_node("signals", place), mapping(codes, place)))
    if sets is not None:
        rows = keyed_rows(sets, layout.SETS_TABLE, "name", reading, "a set")
        found: list[tuple[yaml.Node, yaml.Node]] = []
        for cell, row, cols in rows:
            filters = row_fields(row, cols, layout.SETS_TABLE, ("name", "codes"))
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


def _vocabulary(reading: Reading, anchor: Cell) -> yaml.Node | None:
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
    for cell, row, cols in keyed_rows(facts_sheet, layout.FACTS_TABLE, "name", reading, "a fact"):
        entries = row_fields(row, cols, layout.FACTS_TABLE, ("name", "family", "min", "max"))
        bounds = [row[cols[b]] for b in ("min", "max") if b in cols and not row[cols[b]].blank]
        if bounds:
            range_node = sequence([scalar(b) for b in bounds], bounds[0].place)
            entries.insert(
                after(entries, ("type",)), (text_node("range", bounds[0].place), range_node)
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
        for cell, row, cols in keyed_rows(
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
            for cell, _, _ in keyed_rows(
                protected, layout.PROTECTED_TABLE, "name", reading, "a protected name"
            )
        ]
        if names:
            first = names[0].place
            top.append((text_node("protected", first), sequence([scalar(n) for n in names], first)))
    proxies = reading.sheet(layout.PROXIES)
    if proxies is not None:
        columns = header_columns(proxies, layout.PROXIES_TABLE, reading)
        items = [
            mapping(row_fields(row, columns, layout.PROXIES_TABLE, ()), row[0].place)
            for row in proxies.data()
        ]
        if items:
            first = place_of(items[0])
            top.append((text_node("proxies", first), sequence(items, first)))
    briefs = reading.sheet(layout.BRIEFS)
    if briefs is not None:
        shown = _briefs(briefs, reading)
        if shown is not None:
            top.append((text_node("briefs", place_of(shown)), shown))
    return mapping(top, start)


def _briefs(sheet: Sheet, reading: Reading) -> yaml.Node | None:
    """The Briefs sheet as ``briefs``: ``signal_line.episodes`` rows become the
    ``episodes`` entry of ``signal_line``, in their order."""
    table = layout.BRIEFS_TABLE
    # Each key with its value, or with the entries of its mapping, in the rows' order.
    found: list[tuple[yaml.Node, yaml.Node | Entries]] = []
    parts: dict[str, Entries] = {}
    for cell, row, cols in keyed_rows(sheet, table, "shows", reading, "a place briefs show"):
        fact = row[cols["fact"]] if "fact" in cols else Found(None, cell.place)
        value = scalar(fact if not fact.blank else Found(None, cell.place))
        key, dot, column = cell.text.strip().partition(".")
        if not dot:
            found.append((text_node(key, cell.place), value))
        elif key in parts:
            parts[key].append((text_node(column, cell.place), value))
        else:
            parts[key] = [(text_node(column, cell.place), value)]
            found.append((text_node(key, cell.place), parts[key]))
    top = [
        (key, value if isinstance(value, yaml.Node) else mapping(value, place_of(key)))
        for key, value in found
    ]
    return mapping(top, place_of(top[0][0])) if top else None


Entries = list[tuple[yaml.Node, yaml.Node]]


def _texts(reading: Reading, decisions: set[str]) -> tuple[dict[str, Entries], dict[str, Entries]]:
    """Outcomes sheet -> decision -> its ``texts`` entries, and its ``fairness``
    entries, in row order."""
    sheet = reading.sheet(layout.OUTCOMES)
    found: dict[str, Entries] = {}
    fairness: dict[str, Entries] = {}
    if sheet is None:
        return found, fairness
    columns = header_columns(sheet, layout.OUTCOMES_TABLE, reading)
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
        return found, fairness
    for row in sheet.data():
        decision, outcome = row[columns["decision"]], row[columns["outcome"]]
        reads = row[columns["fairness"]] if "fairness" in columns else None
        if reads is not None and not reads.blank:
            if decision.blank or outcome.blank:
                reading.error(reads.place, "fairness needs the decision and the outcome it is for")
            elif decision.text not in decisions:
                reading.error(
                    decision.place,
                    f"no decision '{decision.text}' on the Decisions sheet; its fairness is "
                    "not read",
                )
            else:
                fairness.setdefault(decision.text, []).append((key_node(outcome), scalar(reads)))
        entries = row_fields(row, columns, layout.OUTCOMES_TABLE, ("decision", "outcome"))
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
    return found, fairness


_DECISION_KEYS = ("role", "label", "interest", "policy", "outcomes", "default", "meaning")


def _decisions(reading: Reading, anchor: Cell) -> yaml.Node | None:
    sheet = reading.sheet(layout.DECISIONS)
    if sheet is None:
        reading.error(
            anchor, "missing: a rulebook workbook needs a Decisions sheet (decisions.yaml)"
        )
        return None
    rows = keyed_rows(sheet, layout.DECISIONS_TABLE, "name", reading, "a decision")
    texts, fairness = _texts(reading, {cell.text for cell, _, _ in rows})
    entries: list[tuple[yaml.Node, yaml.Node]] = []
    table = layout.DECISIONS_TABLE
    for cell, row, cols in rows:
        body = row_fields(row, cols, table, ("name",))
        order = {name: i for i, name in enumerate(_DECISION_KEYS)}
        body.sort(
            key=lambda e: order.get(e[0].value if isinstance(e[0], yaml.ScalarNode) else "", 99)
        )
        if cell.text in texts:
            body.append((text_node("texts", cell.place), mapping(texts.pop(cell.text), cell.place)))
        if cell.text in fairness:
            reads = fairness.pop(cell.text)
            place = place_of(reads[0][0])
            body.append((text_node("fairness", place), mapping(reads, place)))
        entries.append((key_node(cell), mapping(body, cell.place)))
    start = sheet.header()[0].place if sheet.header() else anchor
    return mapping([(text_node("decisions", start), mapping(entries, start))], start)


def _rule_file_name(found: Found, reading: Reading) -> str | None:
    name = found.text.strip()
    if "/" in name or "\\" in name or not name.endswith(".yaml") or name.startswith("."):
        reading.error(found.place, f"'{name}' is not a rules file name: write NAME.yaml")
        return None
    if name in RESERVED:
        reading.error(found.place, f"'{name}' is not a rules file: it holds the rulebook's words")
        return None
    return name


_RULE_COLUMNS = frozenset({*layout.RULE_LEAD, *layout.RULE_TAIL, layout.FILE})


def _rule_header(sheet: Sheet, reading: Reading) -> list[tuple[str, int]]:
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


def _rules_of(sheet: Sheet, reading: Reading, facts: frozenset[str]) -> list[tuple[str, yaml.Node]]:
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


def _compound(found: Found, reading: Reading) -> yaml.Node | None:
    try:
        tree = conditions.parse(found.text, layout.MAX_NESTING)
    except conditions.Unreadable as problem:
        reading.error(found.place, f"cannot read condition '{found.text}': {problem}")
        return None
    return _condition_node(tree, found.place)


def _when(
    row: list[Found], columns: list[tuple[str, int]], first: Cell, reading: Reading
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


def _eligible_rule(found: Found, reading: Reading) -> yaml.Node | None:
    """``heart: Strong, Emerging`` lines -> {heart: [Strong, Emerging]}."""
    entries: list[tuple[yaml.Node, yaml.Node]] = []
    for line in cell_lines(found):
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


def _catalogue(reading: Reading) -> yaml.Node | None:
    investments = reading.sheet(layout.INVESTMENTS_SHEET)
    allocation = reading.sheet(layout.ALLOCATION)
    top: list[tuple[yaml.Node, yaml.Node]] = []
    start: Cell | None = None
    catalogue: list[yaml.Node] = []
    if investments is not None:
        table = layout.INVESTMENTS_TABLE
        columns = header_columns(investments, table, reading)
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
                for k, v in row_fields(row, columns, table, ())
                if isinstance(k, yaml.ScalarNode) and k.value not in table.names()
            ]
            catalogue.append(mapping(entries, row[0].place))
        if catalogue:
            start = place_of(catalogue[0])
    settings: list[tuple[yaml.Node, yaml.Node]] = []
    order: list[yaml.Node] = []
    eligible: dict[str, list[tuple[Found, yaml.Node]]] = {"tracks": [], "codes": []}
    currency: tuple[yaml.Node, yaml.Node] | None = None
    fallback: list[tuple[yaml.Node, yaml.Node]] = []
    advantage: tuple[yaml.Node, yaml.Node] | None = None
    if allocation is not None:
        columns = header_columns(allocation, layout.ALLOCATION_TABLE, reading)
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
            elif key == "advantage":  # written after eligible and fallback, as rules/ has it
                advantage = (text_node(key, setting.place), list_node(values, True))
            elif key == "fallback":
                fallback.append((key_node(name), list_node(values, True)))
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
            after(settings, ("decision", "not_investments")),
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
    if fallback:
        first = place_of(fallback[0][0])
        settings.append((text_node("fallback", first), mapping(fallback, first)))
    if advantage is not None:
        settings.append(advantage)
    if settings:
        first = place_of(settings[0][0])
        top.append((text_node("allocation", first), mapping(settings, first)))
    return mapping(top, start)


def _changes(reading: Reading) -> yaml.Node | None:
    """The Changes sheet as changes.yaml: explain (a row per decision), show, changes."""
    sheet = reading.sheet(layout.CHANGES)
    if sheet is None:
        return None
    table = layout.CHANGES_TABLE
    columns = header_columns(sheet, table, reading)
    if "setting" not in columns:
        reading.error(
            sheet.header()[0].place if sheet.header() else Cell(0, f"{sheet.title}!A1"),
            "the Changes sheet needs a 'setting' column",
        )
        return None
    start: Cell | None = None
    explain: Entries = []
    top: Entries = []
    changes: list[yaml.Node] = []

    def cell(row: list[Found], name: str, at: Found) -> Found:
        return row[columns[name]] if name in columns else Found(None, at.place)

    for row in sheet.data():
        setting = row[columns["setting"]]
        key = setting.text.strip().lower()
        if setting.blank:
            continue
        start = start or setting.place
        name, values = cell(row, "name", setting), cell(row, "values", setting)
        given, says = cell(row, "as", setting), cell(row, "says", setting)
        if key not in layout.CHANGES_SETTINGS:
            reading.error(
                setting.place,
                f"unknown setting '{setting.text}' (one of {', '.join(layout.CHANGES_SETTINGS)})"
                + did_you_mean(setting.text, layout.CHANGES_SETTINGS),
            )
        elif key == "explain":
            toward = cell_lines(values)
            node: yaml.Node = (
                scalar(Found("any", values.place), True)
                if toward == ["any"]
                else list_node(values, True)
            )
            explain.append((key_node(name), node))
        elif key == "show":
            top.append((text_node("show", setting.place), scalar(values)))
        else:
            lines = cell_lines(name)
            what: yaml.Node = (
                list_node(name, True)
                if key == "record" or len(lines) != 1
                else scalar(Found(lines[0], name.place), True)
            )
            entries: Entries = [(text_node(key, setting.place), what)]
            if key == "observe" and not values.blank:
                entries.append((text_node("up_to", values.place), scalar(values)))
            if key == "fact" and not values.blank:
                if values.text.strip().lower() != "raise":
                    reading.error(
                        values.place, "fact: write raise (higher values only) or leave blank"
                    )
                entries.append(
                    (text_node("raise", values.place), scalar(Found(True, values.place)))
                )
            if not given.blank:
                pairs: Entries = []
                for line in cell_lines(given):
                    column, sep, value = line.partition(":")
                    if not sep:
                        reading.error(given.place, f"'{line}': write 'Evidence column: value'")
                        continue
                    pairs.append(
                        (
                            text_node(column.strip(), given.place),
                            scalar(Found(value.strip(), given.place)),
                        )
                    )
                entries.append((text_node("as", given.place), mapping(pairs, given.place)))
            if not says.blank:
                entries.append((text_node("says", says.place), scalar(says, True)))
            changes.append(mapping(entries, setting.place))
    if start is None:
        return None
    if explain:
        first = place_of(explain[0][0])
        top.insert(0, (text_node("explain", first), mapping(explain, first)))
    if changes:
        first = place_of(changes[0])
        top.append((text_node("changes", first), sequence(changes, first)))
    return mapping(top, start)


def _declared(reading: Reading) -> frozenset[str]:
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
        changes = _changes(reading)
        if changes is not None:
            nodes["changes.yaml"] = changes
        self._nodes = nodes
        self._tests = read_tests(reading)
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
