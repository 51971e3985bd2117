"""Facts computed from other facts of the person (vocabulary.yaml ``formula``).

A formula reads like arithmetic a panel owner writes on a whiteboard::

    performance_trend:
      type: number
      range: [-4, 4]
      meaning: This cycle's rating against the last one.
      formula: performance - performance_prior_1

It adds and subtracts number facts, numbers and parameters (``$name``), and multiplies
or divides by numbers (``(performance_prior_1 + performance_prior_2) / 2``): never one
fact by another, so every formula's values have a range that follows from the ranges
of the facts it reads, and the checker can hold it to the fact's declared range.

Reading a formula has two steps. ``parse`` reads its text where the fact is declared
(syntax, parameters). ``resolve`` runs once every fact is declared (a formula may read
a fact declared after it, or a family's): each fact it reads must be a declared number
fact, no formula may read itself through others, and its values must fit the fact's
range. Every problem is reported at the formula's file and line (or sheet and cell).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence

from talentrules.rulefiles import MAX_LITERAL, Report, did_you_mean, show
from talentrules.vocabulary.model import FactSpec, Formula, Operation, Term, calculate
from talentrules.vocabulary.values import Names

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d*)?|\.\d+)
      | \$(?P<named>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<fact>[A-Za-z_][A-Za-z0-9_.\-]*)
      | (?P<op>[-+*/()])
    )""",
    re.VERBOSE,
)
_HELP = "a formula holds number facts, numbers, $parameters, + - * / and parentheses"
MAX_NESTING = 20  # parentheses and signs inside each other
MAX_PARTS = 200  # facts, numbers and signs: computed (recursively) for every person


class _Problem(Exception):
    """Why a formula's text cannot be read."""


class _Parser:
    """Recursive descent over the tokens: sums of products of signed factors."""

    def __init__(self, text: str, names: Names) -> None:
        self.names = names
        self.tokens: list[tuple[str, str]] = []  # (kind, text)
        at = 0
        while at < len(text):
            if not text[at:].strip():
                break
            match = _TOKEN.match(text, at)
            if match is None or match.end() == at:
                bad = text[at:].strip()[:1]
                raise _Problem(f"cannot read '{bad}': {_HELP}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            at = match.end()
            if len(self.tokens) > MAX_PARTS:
                raise _Problem(f"longer than {MAX_PARTS} parts (facts, numbers and signs)")
        self.at = 0
        self.depth = 0
        self.reads: list[str] = []

    def parse(self) -> Term:
        if not self.tokens:
            raise _Problem(f"the formula is empty: {_HELP}")
        term = self._sum()
        if self.at < len(self.tokens):
            kind, text = self.tokens[self.at]
            if text == ")":
                raise _Problem("a ')' closes no '('")
            raise _Problem(f"expected +, -, * or / before '{text}'")
        return term

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def _sum(self) -> Term:
        term = self._product()
        while self._peek() in ("+", "-"):
            op = self.tokens[self.at][1]
            self.at += 1
            term = _combine(op, term, self._product())
        return term

    def _product(self) -> Term:
        term = self._factor()
        while self._peek() in ("*", "/"):
            op = self.tokens[self.at][1]
            self.at += 1
            term = _combine(op, term, self._factor())
        return term

    def _factor(self) -> Term:
        if self.at >= len(self.tokens):
            raise _Problem("the formula ends where a fact, a number or '(' is expected")
        kind, text = self.tokens[self.at]
        self.at += 1
        if kind == "number":
            number = float(text)
            if number > MAX_LITERAL:
                raise _Problem(f"{text} is larger than {MAX_LITERAL:.0e}")
            return int(text) if "." not in text else number
        if kind == "named":
            parameter = self.names.number(text)
            if parameter is not None:
                return parameter.value
            if text in self.names.sets:
                raise _Problem(f"'${text}' is a set of codes, not a number")
            raise _Problem(self.names.unknown(text))
        if kind == "fact":
            if text not in self.reads:
                self.reads.append(text)
            return text
        if text in ("(", "-", "+"):
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise _Problem(f"nested more than {MAX_NESTING} deep")
            if text == "(":
                term = self._sum()
                if self._peek() != ")":
                    raise _Problem("a '(' is never closed")
                self.at += 1
            else:
                term = self._factor()
                term = term if text == "+" else _combine("-", 0, term)
            self.depth -= 1
            return term
        raise _Problem(f"expected a fact, a number or '(' where '{text}' is")


def _combine(op: str, left: Term, right: Term) -> Term:
    """``left OP right``, folded into a number when neither side reads a fact."""
    left_fixed = not isinstance(left, str | Operation)
    right_fixed = not isinstance(right, str | Operation)
    if op == "*" and not (left_fixed or right_fixed):
        raise _Problem("it multiplies a fact by a fact; a formula multiplies by numbers only")
    if op == "/":
        if not right_fixed:
            raise _Problem("it divides by a fact; a formula divides by numbers only")
        if right == 0:
            raise _Problem("it divides by 0")
    if left_fixed and right_fixed:
        value = calculate(Operation(op, left, right), {})
        assert value is not None
        return value
    return Operation(op, left, right)


def parse(text: str, line: int, names: Names) -> Formula | str:
    """The formula written ``text`` (its facts not looked up yet: ``resolve``), or why
    it cannot be read."""
    try:
        parser = _Parser(text, names)
        term = parser.parse()
    except _Problem as problem:
        return f"formula '{text.strip()}': {problem}"
    return Formula(text.strip(), term, tuple(parser.reads), line)


def _order(facts: Mapping[str, FactSpec]) -> tuple[list[str], list[list[str]]]:
    """The facts with a formula, each after the formula facts it reads; and the cycles
    (each a path that comes back to where it started)."""
    order: list[str] = []
    cycles: list[list[str]] = []
    state: dict[str, bool] = {}  # False: being visited; True: done

    def formula_reads(name: str) -> list[str]:
        spec = facts.get(name)
        formula = spec.formula if spec is not None else None
        return [] if formula is None else [r for r in formula.reads if r in facts]

    for root, spec in facts.items():
        if spec.formula is None or root in state:
            continue
        state[root] = False
        path = [root]
        stack = [iter(formula_reads(root))]
        while stack:
            for name in stack[-1]:
                if facts[name].formula is None or state.get(name) is True:
                    continue
                if name in state:  # being visited: a cycle back to it
                    cycles.append([*path[path.index(name) :], name])
                    continue
                state[name] = False
                path.append(name)
                stack.append(iter(formula_reads(name)))
                break
            else:
                stack.pop()
                done = path.pop()
                state[done] = True
                order.append(done)
    return order, cycles


def formula_facts(facts: Mapping[str, FactSpec]) -> tuple[FactSpec, ...]:
    """The facts computed by formulas, each after the formula facts it reads (so each is
    computed from values already computed)."""
    order, _ = _order(facts)
    return tuple(facts[name] for name in order)


def reads_through(formulas: Sequence[FactSpec], names: Iterable[str]) -> set[str]:
    """``names`` and every fact their formulas read, directly or through other formulas
    (``formulas``: as ``formula_facts`` gives them)."""
    found = set(names)
    for spec in reversed(formulas):
        if spec.name in found and spec.formula is not None:
            found.update(spec.formula.reads)
    return found


_Span = tuple[float, float]


def _span(term: Term, spans: Mapping[str, _Span]) -> _Span:
    """The lowest and highest values ``term`` can take (±inf: no limit)."""
    if isinstance(term, str):
        return spans[term]
    if not isinstance(term, Operation):
        return (term, term)
    (a, b), (c, d) = _span(term.left, spans), _span(term.right, spans)
    if term.op == "+":
        return (a + c, b + d)
    if term.op == "-":
        return (a - d, b - c)
    if term.op == "*":
        fixed = not isinstance(term.left, str | Operation)  # one side is a number
        low, high, k = (c, d, a) if fixed else (a, b, c)
        ends = (0.0, 0.0) if k == 0 else (low * k, high * k)
    else:
        ends = (a / c, b / c)
    return (min(ends), max(ends))


def _whole(term: Term, facts: Mapping[str, FactSpec]) -> bool:
    if isinstance(term, str):
        return facts[term].whole
    if not isinstance(term, Operation):
        return float(term).is_integer()
    return term.op != "/" and _whole(term.left, facts) and _whole(term.right, facts)


def resolve(facts: dict[str, FactSpec], report: Report) -> None:
    """Check every formula against the declared facts, once all are declared: each fact
    it reads is a declared number fact, none reads itself (through others), and its
    values fit the fact's range. Sets each formula's ``whole``."""
    bad: set[str] = set()
    for name, spec in facts.items():
        formula = spec.formula
        for read in formula.reads if formula is not None else ():
            found = facts.get(read)
            if found is None:
                parts = read.split("-")
                hint = (
                    " (a fact's name may hold '-': write spaces around a minus)"
                    if len(parts) > 1 and any(part in facts for part in parts)
                    else did_you_mean(read, facts)
                )
                problem = f"formula reads unknown fact '{read}'{hint}"
            elif found.type != "number":
                article = "an" if found.type == "enum" else "a"
                problem = (
                    f"formula reads '{read}', {article} {found.type} fact; "
                    "a formula reads number facts only"
                )
            else:
                continue
            assert formula is not None
            report.error(spec.file, formula.line, f"fact '{name}': {problem}")
            bad.add(name)
    order, cycles = _order({n: s for n, s in facts.items() if n not in bad})
    for cycle in cycles:
        formula = facts[cycle[0]].formula
        assert formula is not None
        report.error(
            facts[cycle[0]].file,
            formula.line,
            f"fact '{cycle[0]}': its formula reads itself ({' -> '.join(cycle)})",
        )
        bad.update(cycle)
    spans: dict[str, _Span] = {
        n: (s.minimum, s.maximum)
        if s.minimum is not None and s.maximum is not None
        else (-math.inf, math.inf)
        for n, s in facts.items()
    }
    for name in order:
        spec = facts[name]
        formula = spec.formula
        if name in bad or formula is None or any(r in bad for r in formula.reads):
            continue
        low, high = _span(formula.term, spans)
        low, high = round(low, 2), round(high, 2)  # as its values are rounded
        if spec.minimum is None or spec.maximum is None:
            spans[name] = (low, high)  # what a formula reading it can count on
        elif low < spec.minimum or high > spec.maximum:
            if math.isinf(low) or math.isinf(high):
                limit = (
                    "no limit"
                    if math.isinf(low) and math.isinf(high)
                    else f"no {'lower' if math.isinf(low) else 'upper'} limit"
                )
                reach = f"has {limit} (a fact it reads has no range)"
            else:
                reach = (
                    f"goes from {show(low)} to {show(high)} (by the ranges of the facts it reads)"
                )
            report.error(
                spec.file,
                formula.line,
                f"fact '{name}': formula '{formula.text}' {reach}, beyond its range "
                f"[{show(spec.minimum)}, {show(spec.maximum)}]",
            )
            bad.add(name)
            continue
        whole = _whole(formula.term, facts)
        facts[name] = dataclasses.replace(spec, formula=dataclasses.replace(formula, whole=whole))
