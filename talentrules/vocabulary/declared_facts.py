"""vocabulary.yaml's facts: each declared fact (or family of facts, one per signal), its
derivation from row sets or its formula over other facts, the protected attributes and
their proxies."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from talentrules.contract import normalize
from talentrules.rulefiles import (
    Cell,
    Report,
    did_you_mean,
    is_protected,
    keys,
    line_of,
    mapping,
    number_of,
    text_of,
    texts_of,
)
from talentrules.vocabulary import formulas
from talentrules.vocabulary.briefs import BRIEF_KEYS, load_briefs
from talentrules.vocabulary.model import (
    MEASURES,
    BriefFacts,
    Derivation,
    FactSpec,
    Formula,
    Proxy,
    RowSet,
    RowTest,
    Signal,
)
from talentrules.vocabulary.rowsets import Column, load_rows, row_tests
from talentrules.vocabulary.values import Names, expand

VOCABULARY_FILE = "vocabulary.yaml"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


_FACT_REQUIRED = ("type", "meaning")
_FACT_OPTIONAL = ("range", "values", "rows", "where", "measure", "column", "matching", "formula")
_DERIVATION_KEYS = ("rows", "where", "measure", "column", "matching")
_FACT_TYPES: tuple[str, ...] = ("number", "enum", "boolean", "date", "text")


@dataclass
class Loading:
    """What reading vocabulary.yaml needs as it goes."""

    file: str
    report: Report
    names: Names
    signals: dict[str, Signal]
    rows: dict[str, RowSet]
    columns: dict[str, dict[str, Column]]
    proxies: frozenset[str] = frozenset()
    facts: dict[str, FactSpec] = field(default_factory=dict)
    declared: set[str] = field(default_factory=set)  # every name declared, refused or not
    briefs: BriefFacts = field(default_factory=BriefFacts)


@dataclass(frozen=True)
class _Member:
    """One member of a family: a catalogue signal (its fields), or a plain name."""

    code: str
    fields: dict[str, str]
    signal: bool  # a code of the signal catalogue: its facts may be derived from rows


def _fact_spec(name: str, node: yaml.Node, at: Loading, member: _Member | None) -> FactSpec | None:
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
    formula = None
    if "formula" in entries:
        formula = _formula(name, entries, kind, at, member)
        if formula is None:
            return None
    elif any(k in entries for k in _DERIVATION_KEYS):
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
        formula,
    )


def _formula(
    name: str,
    entries: dict[str, tuple[yaml.Node, yaml.Node]],
    kind: str,
    at: Loading,
    member: _Member | None,
) -> Formula | None:
    """A fact computed from other facts: its formula read (the facts it reads are
    looked up once every fact is declared, ``formulas.resolve``)."""
    file, report = at.file, at.report
    what = f"fact '{name}'"
    node = entries["formula"][1]
    mixed = [k for k in _DERIVATION_KEYS if k in entries]
    if mixed:
        report.error(
            file,
            line_of(entries[mixed[0]][0]),
            f"{what}: a fact is computed by a formula or derived from rows, not both "
            f"(remove '{mixed[0]}' or 'formula')",
        )
        return None
    if kind != "number":
        report.error(file, line_of(entries["type"][1]), f"{what}: a formula's fact is a number")
        return None
    text = text_of(node, file, f"{what} formula", report)
    if text is None:
        return None
    if member is not None:
        text = expand(text, member.fields)  # $code.episodes -> H-DEV.episodes
    formula = formulas.parse(text, line_of(node), at.names)
    if isinstance(formula, str):
        report.error(file, line_of(node), f"{what}: {formula}")
        return None
    return formula


def _derivation(
    name: str,
    entries: dict[str, tuple[yaml.Node, yaml.Node]],
    node: yaml.Node,
    kind: str,
    at: Loading,
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
        tests = row_tests(
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
        tests = row_tests(
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


def load_facts(node: yaml.Node, at: Loading) -> tuple[frozenset[str], tuple[Proxy, ...]]:
    """Facts and families into ``at.facts`` (and what briefs show into ``at.briefs``); the
    declared protected names and proxies."""
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
        ("families", "protected", "proxies", "rows", "briefs"),
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
        at.rows.update(load_rows(top["rows"][1], file, at.columns, at.names, report))

    def add(name: str, spec_node: yaml.Node, name_line: int, member: _Member | None) -> None:
        at.declared.add(name)
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
    formulas.resolve(at.facts, report)
    if "briefs" in top:  # names facts: read once every fact is declared
        key, value = top["briefs"]
        at.briefs = load_briefs(value, at, line_of(key))
    else:
        at.briefs = BriefFacts(undeclared=BRIEF_KEYS, line=_start(node))
    return frozenset(protected), proxies_found


def _members(node: yaml.Node, at: Loading, what: str) -> list[_Member]:
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


def _start(node: yaml.Node) -> int:
    """Where a message about the whole of vocabulary.yaml is placed: its first line, or
    in a rulebook workbook the first cell it was read from."""
    line = line_of(node)
    return line if isinstance(line, Cell) else 1
