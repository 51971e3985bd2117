"""A decision's sheet: its rules as a decision table, one rule a row.

Row 1 names the decision; row 2 is the header: ``id``, ``for_each`` and ``priority``,
the condition columns (a column per fact, ``condition`` for any/all/not, ``when`` for a
rule whose condition is not a list), then ``then``, ``title``, ``rationale``,
``message`` and ``file``. The condition columns are laid out (``conditions``) so that
each row's cells, read left to right, give its rule's conditions in its file's order.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from talentrules.rulebook import CHANGES_FILE, DECISIONS_FILE
from talentrules.rulefiles import CONDITION, number_of, show
from talentrules.rulexlsx import conditions, layout
from talentrules.rulexlsx.layout import Col
from talentrules.rulexlsx.sheets import (
    SPARE_ROWS,
    TITLE_FONT,
    TOP,
    WRAP,
    CellValue,
    Lists,
    note,
    put,
    write_header,
)
from talentrules.rulexlsx.source import (
    CATALOGUE_FILE,
    Source,
    Unwritable,
    Words,
    cell_value,
    get_key,
    mapping_entries,
    unwritable,
)
from talentrules.vocabulary import PARAMETERS_FILE, SIGNALS_FILE, VOCABULARY_FILE


def _part(node: yaml.Node, label: str) -> conditions.Part:
    """A condition of a rule file as a cell's tree."""
    if isinstance(node, yaml.ScalarNode):
        return str(node.value).strip()
    if isinstance(node, yaml.SequenceNode):
        return conditions.Call("all", tuple(_part(n, label) for n in node.value))
    entries = mapping_entries(node, label, "a condition")
    if len(entries) != 1 or entries[0][0] not in ("all", "any", "not"):
        raise unwritable(label, node, "a condition mapping takes exactly one key: all, any or not")
    key, _, body = entries[0]
    if key == "not":
        if isinstance(body, yaml.SequenceNode):
            parts = tuple(_part(n, label) for n in body.value)
            if len(parts) == 1:  # not of a list of one: not(all(A)) says exactly that
                return conditions.Call("not", (conditions.Call("all", parts),))
            return conditions.Call("not", parts)
        return conditions.Call("not", (_part(body, label),))
    if not isinstance(body, yaml.SequenceNode):
        raise unwritable(label, body, f"{key} takes a list of conditions")
    return conditions.Call(key, tuple(_part(n, label) for n in body.value))


def _compound(node: yaml.Node, label: str) -> str:
    tree = _part(node, label)
    text = conditions.render(tree)
    try:
        same = conditions.meaning(conditions.parse(text)) == conditions.meaning(tree)
    except conditions.Unreadable:
        same = False
    if not same:
        raise unwritable(
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
    for key, _, value in mapping_entries(rule, label, "a rule"):
        if key == "when":
            when = value
        elif key != "decision":
            fields[key] = cell_value(value, label, key)
    items: list[tuple[str, str]] = []
    whole = None
    if isinstance(when, yaml.SequenceNode):
        for item in when.value:
            if isinstance(item, yaml.ScalarNode):
                text = str(cell_value(item, label, "a condition"))
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
    words: Words,
    lists: Lists,
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
    put(ws.cell(1, 1), layout.DECISION_MARK)
    ws.cell(1, 1).font = TITLE_FONT
    put(ws.cell(1, 2), decision)
    ws.cell(1, 2).font = TITLE_FONT
    ws.cell(1, 2).comment = note(
        "The decision this sheet's rules conclude (the Decisions sheet describes it)."
    )
    policy_words = layout.POLICY_WORDS.get(policy, policy)
    put(
        ws.cell(1, 3),
        f"{policy}: {policy_words}; when none fires: {default}. {meaning}".strip(),
    )
    write_header(ws, layout.HEADER_ROW, headers)
    names = [c.name for c in headers]
    first_condition = len(lead) + 1
    previous_file = None
    for number, row in enumerate(rows, start=layout.HEADER_ROW + 1):
        for name in (*lead, *layout.RULE_TAIL, *extra):
            if name in row.fields:
                cell = ws.cell(number, names.index(name) + 1)
                put(cell, row.fields[name])
                cell.alignment = WRAP
        if row.whole is not None:
            put(ws.cell(number, names.index(layout.WHEN) + 1), row.whole)
        for (_, text), index in zip(
            row.conditions, conditions.place(columns, [k for k, _ in row.conditions]), strict=True
        ):
            number_value = number_of(text)
            value: CellValue = (
                number_value if number_value is not None and show(number_value) == text else text
            )
            cell = ws.cell(number, first_condition + len(whole) + index)
            put(cell, value)
            cell.alignment = WRAP
        cell = ws.cell(number, len(names))
        put(cell, row.file)
        previous_file = row.file
        cell.alignment = TOP
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
            lists.offer(ws, f"{letter}{layout.HEADER_ROW + 1}:{letter}{last + SPARE_ROWS}", choices)
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
        f"{then}{layout.HEADER_ROW + 1}:{then}{last + SPARE_ROWS}",
        words.outcomes.get(decision, []),
    )


def sheet_title(name: str, taken: set[str]) -> str:
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


def decision_sheets(
    book: Workbook, source: Source, words: Words, lists: Lists, taken: set[str]
) -> None:
    by_decision: dict[str, list[_Row]] = {name: [] for name in words.outcomes}
    for file in source.files.names():
        if file in (
            *(PARAMETERS_FILE, SIGNALS_FILE, VOCABULARY_FILE),
            *(DECISIONS_FILE, CATALOGUE_FILE, CHANGES_FILE),
        ):
            continue
        label = source.label(file)
        node = source.nodes.get(file)
        rules = get_key(node, "rules")
        if not isinstance(rules, yaml.SequenceNode):
            raise Unwritable(f"{label}: a rule file holds a 'rules:' list")
        for rule in rules.value:
            decision = get_key(rule, "decision")
            if not isinstance(decision, yaml.ScalarNode):
                raise unwritable(label, rule, "a rule without a decision has no sheet to go on")
            by_decision.setdefault(str(decision.value), []).append(_rule_row(rule, label, file))
    for name, rows in by_decision.items():
        _decision_sheet(book, name, rows, words, lists, sheet_title(name, taken))
