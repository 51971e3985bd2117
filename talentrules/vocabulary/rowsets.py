"""Row sets (vocabulary.yaml ``rows``): which workbook rows count for what, as row tests
over the columns of each sheet."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import yaml

from talentrules.contract import (
    DEVELOPMENT,
    EVIDENCE,
    INVESTMENT_TRACKS,
    INVESTMENTS,
    NOMINATIONS,
    Sheet,
)
from talentrules.rulefiles import (
    CONDITION,
    CONDITION_HELP,
    ORDERING,
    Bad,
    Literal_,
    Report,
    did_you_mean,
    keys,
    line_of,
    mapping,
    printable,
    show,
    split_list,
    text_of,
)
from talentrules.vocabulary.model import FactType, RowSet, RowTest
from talentrules.vocabulary.values import IDENTIFIER, Names, parse_literal


@dataclass(frozen=True)
class Column:
    """A column (or a derived one) a row test reads, and how its values are typed."""

    name: str
    type: FactType
    values: tuple[str, ...] = ()  # enum only
    meaning: str = ""


def _contract_columns(sheet: Sheet, codes: Iterable[str]) -> dict[str, Column]:
    kinds: dict[str, FactType] = {
        "enum": "enum",
        "date": "date",
        "bool": "boolean",
        "int": "number",
        "number": "number",
        "percent": "number",
        "scale": "number",
    }
    columns: dict[str, Column] = {}
    for column in sheet.columns:
        kind = kinds.get(column.kind, "text")
        values = tuple(column.values) if kind == "enum" else ()
        if column.name == "signal":  # the codes are the catalogue's, not the contract's
            kind, values = "enum", tuple(codes)
        columns[column.name] = Column(column.name, kind, values, column.help)
    return columns


def row_columns(codes: Iterable[str]) -> dict[str, dict[str, Column]]:
    """Sheet -> the columns row tests may read: the contract's, and derived ones."""
    codes = tuple(codes)
    evidence = _contract_columns(EVIDENCE, codes)
    evidence["age_months"] = Column(
        "age_months", "number", (), "whole months from observed_on to the cycle's as_of"
    )
    evidence["source"] = Column(
        "source", "text", (), "the independent source: source_id, else source_type"
    )
    development = _contract_columns(DEVELOPMENT, codes)
    development["track"] = Column(
        "track",
        "enum",
        tuple(INVESTMENT_TRACKS),
        "the investment's track, from the workbook's catalogue else the rulebook's",
    )
    development["mode"] = Column(
        "mode",
        "enum",
        tuple(INVESTMENTS.column("mode").values),
        "the investment's 70/20/10 mode, from the workbook's catalogue else the rulebook's",
    )
    nominations = _contract_columns(NOMINATIONS, codes)
    nominations["nominator_is_person"] = Column(
        "nominator_is_person", "boolean", (), "true when the person nominated themself"
    )
    return {"Evidence": evidence, "Development": development, "Nominations": nominations}


def _row_test(text: str, columns: Mapping[str, Column], names: Names, sheet: str) -> RowTest | str:
    """A row test (``source_type != Self``), or why ``text`` is not one."""
    shown = printable(text.strip())
    match = CONDITION.match(text)
    if match is None:
        return f"cannot read row test '{shown}': {CONDITION_HELP}"
    name = match["fact"]
    column = columns.get(name)
    if column is None:
        return f"{sheet} rows have no column '{name}'{did_you_mean(name, columns)}"
    if match["known"]:
        return RowTest(name, match["known"], None, shown)
    if match["sym"]:
        op, raw = match["sym"], match["value"]
        if not raw:
            return f"row test '{shown}' has no value: {CONDITION_HELP}"
        if op in ORDERING and column.type not in ("number", "date"):
            return f"'{shown}': {op} orders numbers and dates; '{name}' is {column.type}"
        value = parse_literal(raw, column.type, column.values, name, names)
        if isinstance(value, Bad):
            return f"'{shown}': {value.reason}"
        if isinstance(value, tuple):
            return f"'{shown}': compare with a set using 'in' or 'not in'"
        resolved = f"{name} {op} {show(value)}"
        return RowTest(name, op, value, resolved)
    op = re.sub(r"\s+", " ", match["word"])
    raw = match["list"].strip()
    items: list[str] | str
    if raw.startswith("$"):
        items = [raw]
    elif raw[:1] in "([" and raw[-1:] in ")]":
        items = split_list(raw[1:-1])
    else:
        return f"'{shown}': write the list in parentheses, e.g. {name} {op} (A, B)"
    if isinstance(items, str):
        return f"'{shown}': {items}"
    values: list[Literal_] = []
    for item in items:
        value = parse_literal(item, column.type, column.values, name, names)
        if isinstance(value, Bad):
            return f"'{shown}': {value.reason}"
        for one in value if isinstance(value, tuple) else (value,):
            if one not in values:
                values.append(one)
    resolved = f"{name} {op} ({', '.join(map(show, values))})"
    return RowTest(name, op, tuple(values), resolved)


def row_tests(
    node: yaml.Node,
    columns: Mapping[str, Column],
    names: Names,
    sheet: str,
    file: str,
    what: str,
    report: Report,
) -> tuple[RowTest, ...] | None:
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if isinstance(node, yaml.SequenceNode) and not node.value:
        report.error(file, line_of(node), f"{what} is an empty list of tests")
        return None
    tests: list[RowTest] = []
    for item in items:
        text = text_of(item, file, what, report)
        if text is None:
            return None
        test = _row_test(text, columns, names, sheet)
        if isinstance(test, str):
            report.error(file, line_of(item), f"{what}: {test}")
            return None
        tests.append(test)
    return tuple(tests)


_ROWSET_OPTIONAL = ("sheet", "where")


def load_rows(
    node: yaml.Node,
    file: str,
    columns: Mapping[str, Mapping[str, Column]],
    names: Names,
    report: Report,
) -> dict[str, RowSet]:
    found: dict[str, RowSet] = {}
    entries = mapping(node, file, "rows", report) or {}
    for name, (key, body) in entries.items():
        what = f"row set '{name}'"
        if not IDENTIFIER.match(name):
            report.error(file, line_of(key), f"{what}: a name holds letters, digits and _")
            continue
        fields_ = mapping(body, file, what, report)
        if fields_ is None or not keys(
            fields_, body, file, what, ("meaning",), _ROWSET_OPTIONAL, report
        ):
            continue
        sheet = "Evidence"
        if "sheet" in fields_:
            sheet = text_of(fields_["sheet"][1], file, f"{what} sheet", report) or sheet
            if sheet not in columns:
                report.error(
                    file,
                    line_of(fields_["sheet"][1]),
                    f"{what}: sheet '{sheet}' is not one of {', '.join(columns)}"
                    + did_you_mean(sheet, columns),
                )
                continue
        where: tuple[RowTest, ...] = ()
        if "where" in fields_:
            tests = row_tests(
                fields_["where"][1], columns[sheet], names, sheet, file, f"{what} where", report
            )
            if tests is None:
                continue
            where = tests
        meaning = text_of(fields_["meaning"][1], file, f"{what} meaning", report)
        if meaning is None:
            continue
        meaning = names.text(meaning, file, line_of(fields_["meaning"][1]), report)
        found[name] = RowSet(name, sheet, where, meaning, file, line_of(key))
    return found
