"""What the vocabulary holds: parameters, signals, row sets, fact declarations (how an
evidence fact is derived from rows, or a fact computed by a formula from other facts of
the person), and the proxies of protected attributes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from talentrules.contract import normalize
from talentrules.rulefiles import Literal_

FactType = Literal["number", "enum", "boolean", "date", "text"]


@dataclass(frozen=True)
class Parameter:
    """One named threshold (parameters.yaml): rules, derivations and texts read it by name."""

    name: str
    value: int | float
    unit: str
    meaning: str
    file: str
    line: int


# The fields of a signal a family (a rule or fact declared once per signal) may use.
SIGNAL_FIELDS = ("code", "name", "description", "why", "route", "kind", "weight")
ALL_SIGNALS = "signals"  # the set every catalogue code belongs to


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
class Operation:
    """One step of a formula: ``left OP right`` (a minus sign alone is ``0 - right``)."""

    op: str  # + - * /
    left: Term
    right: Term


# A part of a formula: a fact's name, a number, or an operation on two parts.
Term = str | int | float | Operation


def calculate(term: Term, values: Mapping[str, object]) -> int | float | None:
    """``term`` over a person's facts, unrounded; None when a fact it reads is unknown."""
    if isinstance(term, str):
        value = values.get(term)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None  # unknown (or not a number): the formula is unknown
        return value
    if not isinstance(term, Operation):
        return term
    left = calculate(term.left, values)
    right = calculate(term.right, values) if left is not None else None
    if left is None or right is None:
        return None
    if term.op == "+":
        return left + right
    if term.op == "-":
        return left - right
    if term.op == "*":
        return left * right
    return left / right if right else None  # the divisor is a number, never 0 (checked)


@dataclass(frozen=True)
class Formula:
    """How a fact is computed from other facts of the same person (vocabulary.yaml
    ``formula``), e.g. ``performance - performance_prior_1``: number facts, numbers and
    parameters added and subtracted, multiplied or divided by numbers. Unknown when a
    fact it reads is unknown, never 0; a fraction is rounded to two decimals."""

    text: str  # as written
    term: Term
    reads: tuple[str, ...]  # the facts it reads, in the order written, each once
    line: int  # where it is written (a line, or a workbook's cell)
    whole: bool = True  # only whole values: whole facts and numbers, no division

    def value(self, values: Mapping[str, object]) -> int | float | None:
        """The formula over a person's facts (``values``: fact -> value)."""
        result = calculate(self.term, values)
        if isinstance(result, float):
            result = round(result, 2)
            if result.is_integer():
                return int(result)
        return result


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
    formula: Formula | None = None  # a fact computed from other facts of the person

    @property
    def whole(self) -> bool:
        """True when a number fact only takes whole values (counts, months, ratings)."""
        if self.derivation is not None:
            return self.derivation.measure not in FRACTIONAL_MEASURES
        if self.formula is not None:
            return self.formula.whole
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


# The columns of a brief's signal line (the template context's SignalLine), in the order
# the brief fills them. Which fact fills each is the rulebook's (vocabulary.yaml briefs).
SIGNAL_LINE_COLUMNS = (
    "episodes",
    "self_reports",
    "contexts",
    "observers",
    "months_spanned",
    "newest_age",
)


@dataclass(frozen=True)
class BriefFacts:
    """Which facts briefs show where (vocabulary.yaml ``briefs``), so that a brief reads
    no fact by a name Python knows. None where the rulebook names none: the brief then
    says so rather than show a 0 it never read."""

    trend: str | None = None  # the talent snapshot's performance trend: a fact's name
    # For each of SIGNAL_LINE_COLUMNS, the FACT of the signal family's CODE.FACT.
    signal_line: tuple[str, ...] | None = None
    tenure: str | None = None  # the person header's months since hire
    in_role: str | None = None  # and months in the current role
    # The influence section's tallies: (workbook value, the fact counting it) for each
    # value of the workbook column it counts (briefs.TALLIES) with a fact PREFIX.VALUE.
    nominations: tuple[tuple[str, str], ...] | None = None
    influence: tuple[tuple[str, str], ...] | None = None
    outcomes: tuple[tuple[str, str], ...] | None = None
    withdrawn: str | None = None  # development withdrawn from (a risk)
    aspiration_statement: str | None = None  # true when the person wrote one (a gap)
    nominated_by: str | None = None  # people who nominated the person (a gap when none)
    # The keys named no fact (rules check warns of them), and the line of ``briefs:``
    # (or where vocabulary.yaml starts): where the warning is placed.
    undeclared: tuple[str, ...] = field(default=(), compare=False)
    line: int = field(default=0, compare=False)
