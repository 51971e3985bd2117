"""The rulebook's words: rules/*.yaml -> the facts, named values and signals rules read.

The stage before ``facts`` and ``rulebook``, and the one module both read the
vocabulary from (``facts`` computes what it declares, ``rulebook`` checks rules
against it), so data flows one way. It reads:

- ``parameters.yaml``: every threshold, once, with its unit and meaning. Rules,
  fact derivations and texts name a parameter as ``$habit_months``;
- ``signals.yaml``: the signal catalogue (code, plain name, description, heart
  signal or counter-signal, core or supporting, the counter-signal's route) and
  named sets of codes (``$core_signals``);
- ``vocabulary.yaml``: every fact rules may read; the row sets that say which
  rows count for what (``observed``: reported by others, not stale), and for each
  evidence fact the rows and the measure it is derived from; the protected
  attributes rules may never read, and the proxies of them the checker warns about.

The YAML is composed into nodes (never constructed), so every scalar keeps the text
written and every node its line: each problem becomes a ``Diagnostic`` with file and
line, and the rulebook's checker reports them all together.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from talentrules.contract import (
    DEVELOPMENT,
    EVIDENCE,
    INVESTMENT_TRACKS,
    INVESTMENTS,
    NOMINATIONS,
    Sheet,
    normalize,
)
from talentrules.errors import RulebookError
from talentrules.rulefiles import (
    CONDITION,
    CONDITION_HELP,
    DATE,
    MAX_LITERAL,
    ORDERING,
    Bad,
    Literal_,
    Report,
    RuleFiles,
    did_you_mean,
    is_protected,
    keys,
    line_of,
    mapping,
    number_of,
    open_rules,
    printable,
    show,
    split_list,
    text_of,
    texts_of,
    unquote,
)

FactType = Literal["number", "enum", "boolean", "date", "text"]

VOCABULARY_FILE = "vocabulary.yaml"
PARAMETERS_FILE = "parameters.yaml"
SIGNALS_FILE = "signals.yaml"

# A named value in a condition or a text: a parameter (a number) or a set of codes.
NAMED = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# The fields of a signal a family (a rule or fact declared once per signal) may use.
SIGNAL_FIELDS = ("code", "name", "description", "why", "route", "kind", "weight")
SIGNAL_KINDS = ("signal", "counter")
SIGNAL_WEIGHTS = ("core", "supporting")
ALL_SIGNALS = "signals"  # the set every catalogue code belongs to

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*\Z")


# --------------------------------------------------------------------------------------
# What the vocabulary holds
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One named threshold (parameters.yaml): rules, derivations and texts read it by name."""

    name: str
    value: int | float
    unit: str
    meaning: str
    file: str
    line: int


@dataclass(frozen=True)
class Signal:
    """One code of the signal catalogue (signals.yaml)."""

    code: str
    name: str  # the plain name briefs use, e.g. "Develops others"
    kind: str  # signal (a heart signal) or counter (a counter-signal)
    weight: str  # core (shows a heart on its own) or supporting
    description: str
    why: str  # why it matters, in a sentence or two (rule families quote it)
    route: str  # for a counter-signal: the development route it calls for
    file: str
    line: int

    @property
    def counter(self) -> bool:
        return self.kind == "counter"

    def fields(self) -> dict[str, str]:
        """What a family may write as ``$code``, ``$name``, ..."""
        return {f: str(getattr(self, f)) for f in SIGNAL_FIELDS}


@dataclass(frozen=True)
class RowTest:
    """One test a row must pass to belong to a row set: ``source_type != Self``."""

    column: str
    op: str  # == != < <= > >= in, not in, known, unknown
    value: Literal_ | tuple[Literal_, ...] | None
    text: str  # as written, with named values resolved

    def passes(self) -> Callable[[Mapping[str, object]], bool]:
        """A function telling whether a row passes this test (unknown does not pass),
        specialised once, as facts runs it for every row of every person."""
        column, op, literal = self.column, self.op, self.value
        if op == "known":
            return lambda row: row.get(column) is not None
        if op == "unknown":
            return lambda row: row.get(column) is None
        if op == "==":
            return lambda row: (v := row.get(column)) is not None and v == literal
        if op == "!=":
            return lambda row: (v := row.get(column)) is not None and v != literal
        if op in ("in", "not in"):
            wanted = frozenset(literal if isinstance(literal, tuple) else (literal,))
            if op == "in":
                return lambda row: (v := row.get(column)) is not None and v in wanted
            return lambda row: (v := row.get(column)) is not None and v not in wanted
        return lambda row: self.check(row) is True

    def check(self, row: Mapping[str, object]) -> bool | None:
        """True, False or None (unknown: the column is blank)."""
        value = row.get(self.column)
        if self.op == "known":
            return value is not None
        if self.op == "unknown":
            return value is None
        if value is None:
            return None
        literal = self.value
        if self.op == "in":
            return value in literal if isinstance(literal, tuple) else value == literal
        if self.op == "not in":
            return value not in literal if isinstance(literal, tuple) else value != literal
        if self.op == "==":
            return bool(value == literal)
        if self.op == "!=":
            return bool(value != literal)
        try:
            if self.op == "<":
                return bool(value < literal)  # type: ignore[operator]
            if self.op == "<=":
                return bool(value <= literal)  # type: ignore[operator]
            if self.op == ">":
                return bool(value > literal)  # type: ignore[operator]
            return bool(value >= literal)  # type: ignore[operator]
        except TypeError:
            return None


@dataclass(frozen=True)
class RowSet:
    """A named set of rows of one sheet: which rows count for what (vocabulary.yaml)."""

    name: str
    sheet: str
    where: tuple[RowTest, ...]
    meaning: str
    file: str
    line: int


Measure = Literal["count", "distinct", "months_spanned", "newest_age_months", "percent"]
MEASURES: tuple[str, ...] = ("count", "distinct", "months_spanned", "newest_age_months", "percent")
# Measures of rows that have no value when there are no rows (the others are 0: a
# percent of no rows is 0, so "drained in most episodes" is false without episodes).
UNKNOWN_WITHOUT_ROWS = frozenset({"newest_age_months"})
# Measures whose value may be a fraction; every other number fact is whole.
FRACTIONAL_MEASURES = frozenset({"percent"})


@dataclass(frozen=True)
class Derivation:
    """How an evidence fact is computed: a measure over a row set, narrowed by ``where``
    and, for a signal's family fact, to that signal's rows."""

    rows: RowSet
    where: tuple[RowTest, ...]  # the fact's own tests, beside the row set's
    measure: str  # one of MEASURES
    column: str | None  # distinct: the column whose distinct values are counted
    matching: tuple[RowTest, ...]  # percent: the share of the rows that pass these
    member: str | None  # a family fact: only rows whose signal is this code

    @property
    def tests(self) -> tuple[RowTest, ...]:
        return self.rows.where + self.where

    def describe(self) -> str:
        """In words, for docs and the checker: ``count of observed rows where ...``."""
        what = {
            "count": "number of",
            "distinct": f"distinct {self.column} of",
            "months_spanned": "months from oldest to newest of",
            "newest_age_months": "months since the newest of",
            "percent": "percent, of",
        }[self.measure]
        text = f"{what} the {self.rows.name} rows"
        if self.member:
            text += f" with signal {self.member}"
        if self.where:
            text += " where " + " and ".join(t.text for t in self.where)
        if self.matching:
            text += ", that have " + " and ".join(t.text for t in self.matching)
        return text


@dataclass(frozen=True)
class FactSpec:
    """One fact rules may read: its type, range or values, and meaning."""

    name: str
    type: FactType
    meaning: str
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] = ()  # enum only
    derivation: Derivation | None = None  # evidence facts: declared, not coded
    file: str = ""
    line: int = 0

    @property
    def whole(self) -> bool:
        """True when a number fact only takes whole values (counts, months, ratings)."""
        if self.derivation is not None:
            return self.derivation.measure not in FRACTIONAL_MEASURES
        return self.name not in FRACTIONAL_FACTS


# Python-computed number facts that may hold fractions (percentages); the others are
# whole, which counterfactuals respect ("one more observer", never "0.5 more").
FRACTIONAL_FACTS = frozenset({"team.on_time_rate", "team.engagement", "team.voluntary_attrition"})


@dataclass(frozen=True)
class Proxy:
    """A fact (or names containing a word) that can stand in for a protected attribute."""

    attribute: str  # what it stands for: age, sex, ...
    why: str
    fact: str | None  # an exact fact name, or
    contains: str | None  # any fact whose name contains this word
    newcomers_below: float | None  # fact < N (N at most this) only recognises newcomers
    file: str
    line: int

    def matches(self, fact: str) -> bool:
        if self.fact is not None:
            return fact == self.fact
        return self.contains is not None and normalize(self.contains) in normalize(fact)


@dataclass
class Names:
    """The rulebook's named values: parameters (numbers) and signal sets (codes).

    ``used`` collects every name read anywhere, so the checker can report the ones
    nothing reads.
    """

    parameters: dict[str, Parameter] = field(default_factory=dict)
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def known(self) -> list[str]:
        return [*self.parameters, *self.sets]

    def unknown(self, name: str) -> str:
        return f"unknown named value '${name}'{did_you_mean(name, self.known())}"

    def number(self, name: str) -> Parameter | None:
        parameter = self.parameters.get(name)
        if parameter is not None:
            self.used.add(name)
        return parameter

    def codes(self, name: str) -> tuple[str, ...] | None:
        codes = self.sets.get(name)
        if codes is not None:
            self.used.add(name)
        return codes

    def interpolate(self, text: str, keep: Iterable[str] = ()) -> tuple[str, list[str]]:
        """``text`` with every ``$name`` replaced by its value; the unknown names.

        Parameters print as numbers (24), sets as their codes joined by ", ".
        Names in ``keep`` stay as written (filled in later, e.g. ``$interest``).
        """
        kept = set(keep)
        unknown: list[str] = []

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in kept:
                return match.group(0)
            parameter = self.number(name)
            if parameter is not None:
                return show(parameter.value)
            codes = self.codes(name)
            if codes is not None:
                return ", ".join(codes)
            unknown.append(name)
            return match.group(0)

        return NAMED.sub(value, text), unknown

    def text(
        self,
        text: str,
        file: str,
        line: int,
        report: Report,
        rule_id: str | None = None,
        keep: Iterable[str] = (),
    ) -> str:
        """``interpolate``, reporting each unknown name at ``file:line``."""
        result, unknown = self.interpolate(text, keep)
        for name in dict.fromkeys(unknown):
            report.error(file, line, self.unknown(name), rule_id)
        return result


def expand(text: str, fields: Mapping[str, str]) -> str:
    """A family's text for one signal: ``$code``, ``$name``, ... replaced by its fields."""
    return NAMED.sub(lambda m: fields.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True)
class Vocabulary:
    """Everything rules/ declares that is not a rule or a decision."""

    facts: dict[str, FactSpec]
    names: Names
    signals: dict[str, Signal]
    rows: dict[str, RowSet]
    protected: frozenset[str]  # declared names (normalized) rules may never read
    proxies: tuple[Proxy, ...]

    @property
    def parameters(self) -> dict[str, Parameter]:
        return self.names.parameters

    @property
    def sets(self) -> dict[str, tuple[str, ...]]:
        return self.names.sets


# --------------------------------------------------------------------------------------
# parameters.yaml
# --------------------------------------------------------------------------------------

_PARAMETER_KEYS = ("value", "meaning")
_PARAMETER_OPTIONAL = ("unit",)


def _load_parameters(node: yaml.Node, file: str, report: Report) -> dict[str, Parameter]:
    found: dict[str, Parameter] = {}
    top = mapping(node, file, PARAMETERS_FILE, report)
    if top is None or not keys(top, node, file, PARAMETERS_FILE, ("parameters",), (), report):
        return found
    entries = mapping(top["parameters"][1], file, "parameters", report) or {}
    for name, (key, body) in entries.items():
        what = f"parameter '{name}'"
        if not _IDENTIFIER.match(name):
            report.error(
                file, line_of(key), f"{what}: a name holds only letters, digits and _ (no . or -)"
            )
            continue
        if name in SIGNAL_FIELDS or name == ALL_SIGNALS:
            report.error(
                file,
                line_of(key),
                f"{what}: '${name}' already means a signal's field or set; choose another name",
            )
            continue
        fields_ = mapping(body, file, what, report)
        if fields_ is None or not keys(
            fields_, body, file, what, _PARAMETER_KEYS, _PARAMETER_OPTIONAL, report
        ):
            continue
        raw = text_of(fields_["value"][1], file, f"{what} value", report)
        meaning = text_of(fields_["meaning"][1], file, f"{what} meaning", report)
        unit = ""
        if "unit" in fields_:
            unit = text_of(fields_["unit"][1], file, f"{what} unit", report) or ""
        if raw is None or meaning is None:
            continue
        value = number_of(raw)
        if value is None or not math.isfinite(value) or abs(value) >= MAX_LITERAL:
            report.error(
                file, line_of(fields_["value"][1]), f"{what}: value must be a number, not '{raw}'"
            )
            continue
        if isinstance(value, float) and value != 0 and "e" in repr(value):
            report.error(
                file,
                line_of(fields_["value"][1]),
                f"{what}: {raw} is too small a number for the engine",
            )
            continue
        found[name] = Parameter(name, value, unit, meaning, file, line_of(key))
    return found


# --------------------------------------------------------------------------------------
# signals.yaml
# --------------------------------------------------------------------------------------

_SIGNAL_REQUIRED = ("name", "kind", "description")
_SIGNAL_OPTIONAL = ("weight", "why", "route")


def _load_signals(
    node: yaml.Node, file: str, report: Report
) -> tuple[dict[str, Signal], dict[str, tuple[str, ...]]]:
    signals: dict[str, Signal] = {}
    sets: dict[str, tuple[str, ...]] = {}
    top = mapping(node, file, SIGNALS_FILE, report)
    if top is None or not keys(top, node, file, SIGNALS_FILE, ("signals",), ("sets",), report):
        return signals, sets
    entries = mapping(top["signals"][1], file, "signals", report) or {}
    for code, (key, body) in entries.items():
        what = f"signal '{code}'"
        if not _CODE.match(code):
            report.error(
                file,
                line_of(key),
                f"{what}: a code starts with a letter and holds letters, digits, _ and -",
            )
            continue
        fields_ = mapping(body, file, what, report)
        if fields_ is None or not keys(
            fields_, body, file, what, _SIGNAL_REQUIRED, _SIGNAL_OPTIONAL, report
        ):
            continue
        values = {k: text_of(v, file, f"{what} {k}", report) for k, (_, v) in fields_.items()}
        if any(v is None for v in values.values()):
            continue
        kind = values["kind"] or ""
        if kind not in SIGNAL_KINDS:
            report.error(
                file,
                line_of(fields_["kind"][1]),
                f"{what}: kind '{kind}' is not one of {', '.join(SIGNAL_KINDS)}"
                + did_you_mean(kind, SIGNAL_KINDS),
            )
            continue
        weight = values.get("weight") or ""
        if kind == "signal" and not weight:
            report.error(
                file, line_of(body), f"{what}: a heart signal needs a weight (core or supporting)"
            )
            continue
        if weight and weight not in SIGNAL_WEIGHTS:
            report.error(
                file,
                line_of(fields_["weight"][1]),
                f"{what}: weight '{weight}' is not one of {', '.join(SIGNAL_WEIGHTS)}",
            )
            continue
        if kind == "counter" and not values.get("route"):
            report.error(
                file,
                line_of(body),
                f"{what}: a counter-signal needs a route (the development route it calls for)",
            )
            continue
        signals[code] = Signal(
            code,
            values["name"] or code,
            kind,
            weight or "supporting",
            values["description"] or "",
            values.get("why") or "",
            values.get("route") or "",
            file,
            line_of(key),
        )
    sets[ALL_SIGNALS] = tuple(signals)
    if "sets" in top:
        declared = mapping(top["sets"][1], file, "sets", report) or {}
        for name, (key, body) in declared.items():
            codes = _signal_set(name, key, body, signals, file, report)
            if codes is not None:
                sets[name] = codes
    return signals, sets


def _signal_set(
    name: str,
    key: yaml.Node,
    body: yaml.Node,
    signals: Mapping[str, Signal],
    file: str,
    report: Report,
) -> tuple[str, ...] | None:
    """A set of codes: a list of codes, or a filter on kind and weight ({kind: signal})."""
    what = f"set '{name}'"
    if not _IDENTIFIER.match(name) or name in SIGNAL_FIELDS or name == ALL_SIGNALS:
        report.error(
            file,
            line_of(key),
            f"{what}: a name holds letters, digits and _, and is not {ALL_SIGNALS} or a "
            "signal field",
        )
        return None
    if isinstance(body, yaml.SequenceNode):
        codes = texts_of(body, file, what, report) or []
        for code, item in zip(codes, body.value, strict=False):
            if code not in signals:
                report.error(
                    file,
                    line_of(item),
                    f"{what}: '{code}' is not a signal of the catalogue"
                    + did_you_mean(code, signals),
                )
                return None
        return tuple(codes)
    filters = mapping(body, file, what, report)
    if filters is None or not keys(filters, body, file, what, (), ("kind", "weight"), report):
        return None
    allowed = {"kind": SIGNAL_KINDS, "weight": SIGNAL_WEIGHTS}
    wanted = {  # an unknown key is reported above
        k: text_of(v, file, f"{what} {k}", report) for k, (_, v) in filters.items() if k in allowed
    }
    for k, value in wanted.items():
        if value not in allowed[k]:
            report.error(
                file,
                line_of(filters[k][1]),
                f"{what}: {k} '{value}' is not one of {', '.join(allowed[k])}",
            )
            return None
    return tuple(
        code
        for code, signal in signals.items()
        if all(getattr(signal, k) == value for k, value in wanted.items())
    )


# --------------------------------------------------------------------------------------
# Row sets: the columns a row test may read, per sheet
# --------------------------------------------------------------------------------------


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


def parse_literal(
    raw: str, spec_type: FactType, values: tuple[str, ...], what: str, names: Names
) -> Literal_ | tuple[Literal_, ...] | Bad:
    """One value for a column or fact of ``spec_type``, or why it cannot be one.

    ``$name`` is a parameter (for numbers) or a set of codes (for enums): a set gives
    a tuple of values, only allowed where a list is.
    """
    text, quoted = unquote(raw)
    if not quoted and text.startswith("$"):
        name = text[1:]
        parameter = names.number(name)
        if parameter is not None:
            if spec_type != "number":
                return Bad(f"'{text}' is a number; '{what}' is not a number")
            return parameter.value
        codes = names.codes(name)
        if codes is not None:
            if spec_type != "enum":
                return Bad(f"'{text}' is a set of codes; '{what}' is not compared with codes")
            missing = [c for c in codes if c not in values]
            if missing:
                return Bad(f"'{text}' holds {', '.join(missing)}, which '{what}' cannot be")
            return tuple(codes)
        return Bad(names.unknown(name))
    hint = ""
    if not quoted and text.casefold() in ("unknown", "known", "blank", "none", "null"):
        hint = f" (to test for a blank, write '{what} is unknown')"
    if spec_type == "number":
        number = None if quoted else number_of(text)
        if number is None:
            if text.casefold() in ("nan", "inf", "+inf", "-inf", "infinity", "-infinity"):
                return Bad(f"'{text}' is not a finite number")
            return Bad(f"'{what}' is a number; '{text}' is text, not a number{hint}")
        return number
    if spec_type == "enum":
        if text in values:
            return text
        return Bad(
            f"'{text}' is not a value of '{what}' ({', '.join(values)})"
            f"{did_you_mean(text, values)}{hint}"
        )
    if spec_type == "boolean":
        if text.casefold() in ("true", "false"):
            return text.casefold() == "true"
        return Bad(f"'{what}' is a boolean; compare it with true or false, not '{text}'{hint}")
    if spec_type == "date":
        if DATE.match(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        return Bad(f"'{what}' is a date; write YYYY-MM-DD, not '{text}'{hint}")
    return text


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


def _row_tests(
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


def _load_rows(
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
        if not _IDENTIFIER.match(name):
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
            tests = _row_tests(
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


# --------------------------------------------------------------------------------------
# vocabulary.yaml: facts, families, row sets, derivations, protected names, proxies
# --------------------------------------------------------------------------------------

_FACT_REQUIRED = ("type", "meaning")
_FACT_OPTIONAL = ("range", "values", "rows", "where", "measure", "column", "matching")
_DERIVATION_KEYS = ("rows", "where", "measure", "column", "matching")
_FACT_TYPES: tuple[str, ...] = ("number", "enum", "boolean", "date", "text")


@dataclass
class _Loading:
    """What reading vocabulary.yaml needs as it goes."""

    file: str
    report: Report
    names: Names
    signals: dict[str, Signal]
    rows: dict[str, RowSet]
    columns: dict[str, dict[str, Column]]
    proxies: frozenset[str] = frozenset()
    facts: dict[str, FactSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class _Member:
    """One member of a family: a catalogue signal (its fields), or a plain name."""

    code: str
    fields: dict[str, str]
    signal: bool  # a code of the signal catalogue: its facts may be derived from rows


def _fact_spec(name: str, node: yaml.Node, at: _Loading, member: _Member | None) -> FactSpec | None:
    file, report = at.file, at.report
    what = f"fact '{name}'"
    entries = mapping(node, file, what, report)
    if entries is None:
        return None
    if not keys(entries, node, file, what, _FACT_REQUIRED, _FACT_OPTIONAL, report):
        return None
    kind = text_of(entries["type"][1], file, f"{what} type", report)
    meaning = text_of(entries["meaning"][1], file, f"{what} meaning", report)
    if kind is None or meaning is None:
        return None
    if kind not in _FACT_TYPES:
        report.error(
            file,
            line_of(entries["type"][1]),
            f"{what}: type '{kind}' is not one of {', '.join(_FACT_TYPES)}"
            + did_you_mean(kind, _FACT_TYPES),
        )
        return None
    if member is not None:
        meaning = expand(meaning.replace("{member}", member.code), member.fields)
    meaning = at.names.text(meaning, file, line_of(entries["meaning"][1]), report)
    minimum = maximum = None
    values: tuple[str, ...] = ()
    if "range" in entries:
        range_node = entries["range"][1]
        if kind != "number":
            report.error(file, line_of(range_node), f"{what}: only a number fact takes a range")
            return None
        bounds = [
            number_of(str(n.value)) if isinstance(n, yaml.ScalarNode) else None
            for n in (range_node.value if isinstance(range_node, yaml.SequenceNode) else [])
        ]
        if len(bounds) != 2 or bounds[0] is None or bounds[1] is None or bounds[0] > bounds[1]:
            report.error(file, line_of(range_node), f"{what}: range must be [minimum, maximum]")
            return None
        minimum, maximum = bounds
    if kind == "enum":
        if "values" not in entries:
            report.error(file, line_of(node), f"{what}: an enum fact needs 'values'")
            return None
        values = tuple(texts_of(entries["values"][1], file, f"{what} values", report) or ())
        if not values:
            return None
    elif "values" in entries:
        report.error(file, line_of(entries["values"][1]), f"{what}: only an enum fact takes values")
        return None
    derivation = None
    if any(k in entries for k in _DERIVATION_KEYS):
        derivation = _derivation(name, entries, node, kind, at, member)
        if derivation is None:
            return None
    return FactSpec(
        name,
        kind,  # type: ignore[arg-type]
        meaning,
        minimum,
        maximum,
        values,
        derivation,
        file,
        line_of(node),
    )


def _derivation(
    name: str,
    entries: dict[str, tuple[yaml.Node, yaml.Node]],
    node: yaml.Node,
    kind: str,
    at: _Loading,
    member: _Member | None,
) -> Derivation | None:
    file, report = at.file, at.report
    what = f"fact '{name}'"
    for needed in ("rows", "measure"):
        if needed not in entries:
            report.error(
                file,
                line_of(node),
                f"{what}: a derived fact needs 'rows' and 'measure' (one of {', '.join(MEASURES)})",
            )
            return None
    rows_name = text_of(entries["rows"][1], file, f"{what} rows", report)
    measure = text_of(entries["measure"][1], file, f"{what} measure", report)
    if rows_name is None or measure is None:
        return None
    rows = at.rows.get(rows_name)
    if rows is None:
        report.error(
            file,
            line_of(entries["rows"][1]),
            f"{what}: unknown row set '{rows_name}'{did_you_mean(rows_name, at.rows)}",
        )
        return None
    if measure not in MEASURES:
        report.error(
            file,
            line_of(entries["measure"][1]),
            f"{what}: measure '{measure}' is not one of {', '.join(MEASURES)}"
            + did_you_mean(measure, MEASURES),
        )
        return None
    if kind != "number":
        report.error(file, line_of(entries["type"][1]), f"{what}: a derived fact is a number")
        return None
    if member is not None and not member.signal:
        report.error(
            file,
            line_of(node),
            f"{what}: a family fact derived from rows needs members from the signal "
            f"catalogue (signals.yaml); '{member.code}' is not one"
            + did_you_mean(member.code, at.signals),
        )
        return None
    if member is not None and rows.sheet != "Evidence":
        report.error(
            file,
            line_of(entries["rows"][1]),
            f"{what}: a signal's fact reads Evidence rows; row set '{rows_name}' is {rows.sheet}",
        )
        return None
    if measure in ("months_spanned", "newest_age_months") and rows.sheet != "Evidence":
        report.error(
            file,
            line_of(entries["measure"][1]),
            f"{what}: {measure} reads observed_on, so it needs Evidence rows",
        )
        return None
    columns = at.columns[rows.sheet]
    where: tuple[RowTest, ...] = ()
    if "where" in entries:
        tests = _row_tests(
            entries["where"][1], columns, at.names, rows.sheet, file, f"{what} where", report
        )
        if tests is None:
            return None
        where = tests
    column = None
    if measure == "distinct":
        if "column" not in entries:
            report.error(file, line_of(node), f"{what}: measure distinct needs a 'column'")
            return None
        column = text_of(entries["column"][1], file, f"{what} column", report)
        if column is None or column not in columns:
            report.error(
                file,
                line_of(entries["column"][1]),
                f"{what}: {rows.sheet} rows have no column '{column}'"
                + did_you_mean(str(column), columns),
            )
            return None
    elif "column" in entries:
        report.error(
            file, line_of(entries["column"][1]), f"{what}: only measure distinct takes a column"
        )
        return None
    matching: tuple[RowTest, ...] = ()
    if measure == "percent":
        if "matching" not in entries:
            report.error(
                file, line_of(node), f"{what}: measure percent needs 'matching' (the share's rows)"
            )
            return None
        tests = _row_tests(
            entries["matching"][1], columns, at.names, rows.sheet, file, f"{what} matching", report
        )
        if tests is None:
            return None
        matching = tests
    elif "matching" in entries:
        report.error(
            file, line_of(entries["matching"][1]), f"{what}: only measure percent takes 'matching'"
        )
        return None
    return Derivation(
        rows, where, measure, column, matching, member.code if member is not None else None
    )


def _load_proxies(node: yaml.Node, file: str, report: Report) -> tuple[Proxy, ...]:
    if not isinstance(node, yaml.SequenceNode):
        report.error(file, line_of(node), "proxies must be a list")
        return ()
    found: list[Proxy] = []
    for item in node.value:
        entries = mapping(item, file, "a proxy", report)
        if entries is None or not keys(
            entries,
            item,
            file,
            "a proxy",
            ("attribute", "why"),
            ("fact", "contains", "newcomers_below"),
            report,
        ):
            continue
        values = {k: text_of(v, file, f"proxy {k}", report) for k, (_, v) in entries.items()}
        if any(v is None for v in values.values()):
            continue
        if ("fact" in values) == ("contains" in values):
            report.error(file, line_of(item), "a proxy names either a 'fact' or what it 'contains'")
            continue
        below = None
        if "newcomers_below" in values:
            below = number_of(values["newcomers_below"] or "")
            if below is None:
                report.error(
                    file,
                    line_of(entries["newcomers_below"][1]),
                    "newcomers_below must be a number",
                )
                continue
        found.append(
            Proxy(
                values["attribute"] or "",
                values["why"] or "",
                values.get("fact"),
                values.get("contains"),
                below,
                file,
                line_of(item),
            )
        )
    return tuple(found)


def _load_facts(node: yaml.Node, at: _Loading) -> tuple[frozenset[str], tuple[Proxy, ...]]:
    """Facts and families into ``at.facts``; the declared protected names and proxies."""
    file, report = at.file, at.report
    top = mapping(node, file, VOCABULARY_FILE, report)
    if top is None:
        return frozenset(), ()
    keys(
        top,
        node,
        file,
        VOCABULARY_FILE,
        ("facts",),
        ("families", "protected", "proxies", "rows"),
        report,
    )
    proxies_found: tuple[Proxy, ...] = ()
    protected: set[str] = set()
    if "protected" in top:
        names_ = texts_of(top["protected"][1], file, "protected", report)
        protected = {normalize(n) for n in names_ or ()}
    at.proxies = frozenset(protected)
    if "proxies" in top:
        proxies_found = _load_proxies(top["proxies"][1], file, report)
    if "rows" in top:
        at.rows.update(_load_rows(top["rows"][1], file, at.columns, at.names, report))

    def add(name: str, spec_node: yaml.Node, name_line: int, member: _Member | None) -> None:
        if not _NAME.match(name):
            report.error(
                file, name_line, f"fact name '{name}' may hold only letters, digits, _, - and ."
            )
            return
        if is_protected(name, at.proxies):
            report.error(
                file,
                name_line,
                f"fact '{name}' is a protected attribute (or a declared proxy of one); "
                "rules may not read it",
            )
            return
        if name in at.facts:
            report.error(file, name_line, f"fact '{name}' is declared twice")
            return
        spec = _fact_spec(name, spec_node, at, member)
        if spec is not None:
            at.facts[name] = spec

    if "facts" in top:
        entries = mapping(top["facts"][1], file, "facts", report)
        for name, (key, value) in (entries or {}).items():
            add(name, value, line_of(key), None)
    if "families" in top:
        families = mapping(top["families"][1], file, "families", report)
        for family, (_, value) in (families or {}).items():
            what = f"family '{family}'"
            body = mapping(value, file, what, report)
            if body is None or not keys(body, value, file, what, ("members", "facts"), (), report):
                continue
            members = _members(body["members"][1], at, what)
            specs = mapping(body["facts"][1], file, f"{what} facts", report) or {}
            for member in members:
                for fact, (fact_key, spec_node) in specs.items():
                    add(f"{member.code}.{fact}", spec_node, line_of(fact_key), member)
    return frozenset(protected), proxies_found


def _members(node: yaml.Node, at: _Loading, what: str) -> list[_Member]:
    """A family's members: names, signal codes or ``$sets`` of the catalogue's codes."""
    items = texts_of(node, at.file, f"{what} members", at.report) or []
    members: list[_Member] = []
    for item in items:
        codes: tuple[str, ...] = (item,)
        if item.startswith("$"):
            found = at.names.codes(item[1:])
            if found is None:
                at.report.error(at.file, line_of(node), f"{what}: {at.names.unknown(item[1:])}")
                continue
            codes = found
        for code in codes:
            signal = at.signals.get(code)
            member = (
                _Member(code, signal.fields(), True)
                if signal is not None
                else _Member(code, {"code": code, "name": code}, False)
            )
            if member not in members:
                members.append(member)
    return members


def load_vocabulary(files: RuleFiles, report: Report) -> Vocabulary | None:
    """Read parameters.yaml, signals.yaml and vocabulary.yaml of a rulebook.

    Problems go to ``report``, each at its file and line (or sheet and cell). None
    when vocabulary.yaml is missing or not YAML (then nothing else can be checked).
    parameters.yaml and signals.yaml are optional: a rulebook without them has no
    named thresholds and no signal facts.
    """
    names = Names()
    signals: dict[str, Signal] = {}
    if files.has(PARAMETERS_FILE):
        label = files.label(PARAMETERS_FILE)
        node = files.node(PARAMETERS_FILE, report)
        if node is not None:
            names.parameters.update(_load_parameters(node, label, report))
    if files.has(SIGNALS_FILE):
        label = files.label(SIGNALS_FILE)
        node = files.node(SIGNALS_FILE, report)
        if node is not None:
            signals, sets = _load_signals(node, label, report)
            names.sets.update(sets)
    else:
        names.sets[ALL_SIGNALS] = ()
    for signal in signals.values():
        # Texts of the catalogue may name parameters ($stale_months) too.
        interpolated = {
            k: names.text(getattr(signal, k), signal.file, signal.line, report)
            for k in ("description", "why", "route")
        }
        signals[signal.code] = Signal(
            signal.code,
            signal.name,
            signal.kind,
            signal.weight,
            interpolated["description"],
            interpolated["why"],
            interpolated["route"],
            signal.file,
            signal.line,
        )
    label = files.label(VOCABULARY_FILE)
    if not files.has(VOCABULARY_FILE):
        report.error(label, 1, f"missing: a rules folder needs {VOCABULARY_FILE}")
        return None
    node = files.node(VOCABULARY_FILE, report)
    if node is None:
        return None
    at = _Loading(label, report, names, signals, {}, row_columns(signals))
    protected, proxies = _load_facts(node, at)
    return Vocabulary(at.facts, names, signals, at.rows, protected, proxies)


def read_vocabulary(folder: str | Path | None = None) -> Vocabulary:
    """The vocabulary of a rulebook (a rules folder or a rulebook workbook; default: the
    packaged rules), checked.

    Raises RulebookError listing every error; for callers that need the words
    without the rules (ingest's signal codes, the workbook template).
    """
    files = open_rules(folder)
    report = Report()
    report.diagnostics.extend(files.problems)
    vocabulary = load_vocabulary(files, report)
    errors = [d for d in report.diagnostics if d.severity == "error"]
    if errors or vocabulary is None:
        lines = "\n".join(f"  {d}" for d in errors)
        raise RulebookError(
            f"{files.path}: the rulebook's vocabulary has errors (run 'talentrules rules check "
            f"{files.path}'):\n{lines}"
        )
    return vocabulary


def signal_catalogue(folder: str | Path | None = None) -> dict[str, Signal]:
    """The signal catalogue of a rules folder (default: the packaged rules)."""
    return read_vocabulary(folder).signals
