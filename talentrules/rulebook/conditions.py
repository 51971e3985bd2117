"""One condition's text (``H-DEV.episodes >= 3``) -> a typed Compare, or the reason it
is not one."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from talentrules.errors import RulebookError
from talentrules.rulebook.limits import MAX_ALTERNATIVES
from talentrules.rulebook.model import Compare, Decision
from talentrules.rulefiles import (
    CONDITION,
    CONDITION_HELP,
    CONTROL,
    MAX_LITERAL,
    ORDERING,
    Bad,
    Literal_,
    did_you_mean,
    is_protected,
    printable,
    show,
    split_list,
    unquote,
    where,
)
from talentrules.vocabulary import FactSpec, Names, parse_literal


def parse_condition(
    text: str,
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    file: str,
    line: int,
    names: Names | None = None,
) -> Compare:
    """Parse one condition string (``H-DEV.episodes >= 3``) into a typed Compare.

    Raises RulebookError naming ``file:line`` when the text is not a condition,
    names an unknown or protected fact, or compares it with a value of the wrong type.
    ``names`` holds the rulebook's named values (``$habit_months``).
    """
    result = condition_or_reason(text, vocabulary, decisions, frozenset(), file, line, names)
    if isinstance(result, str):
        raise RulebookError(f"{where(file, line)}: {result}")
    return result


def condition_or_reason(
    text: str,
    vocabulary: Mapping[str, FactSpec],
    decisions: Mapping[str, Decision],
    proxies: frozenset[str],
    file: str,
    line: int,
    names: Names | None = None,
) -> Compare | str:
    """A typed Compare, or the reason ``text`` is not one.

    A value may be a named value: ``$habit_months`` (a parameter, for a number fact)
    or ``$core_signals`` (a set of codes, in a list: ``habitual in $core_signals``).
    """
    names = names if names is not None else Names()
    shown = printable(text.strip())
    match = CONDITION.match(text)
    if match is None:
        return f"cannot read condition '{shown}': {CONDITION_HELP}"
    fact = match["fact"]
    if "$" in fact:
        return (
            f"'{shown}': '{fact}' is not a fact; a named value ($...) goes on the right, "
            "and $code only inside a rule declared for_each signal"
        )
    if is_protected(fact, proxies):
        return f"reads a protected attribute '{fact}'; rules may not use it"
    spec = vocabulary.get(fact)
    decision = decisions.get(fact)
    if spec is None and decision is None:
        return f"unknown fact '{fact}'{did_you_mean(fact, [*vocabulary, *decisions])}"
    if match["known"]:
        if decision is not None:
            return f"'{shown}': decision '{fact}' always has an outcome, so it is never unknown"
        return Compare(fact, match["known"], None, file, line)  # type: ignore[arg-type]
    if match["sym"]:
        op = match["sym"]
        raw = match["value"]
        if not raw:
            return f"condition '{shown}' has no value: {CONDITION_HELP}"
        if raw.startswith("(") and raw.endswith(")"):
            return f"'{shown}': compare with a list using 'in (...)' or 'not in (...)'"
        if CONTROL.search(raw):
            return f"'{shown}': the value holds a control character"
        if op in ORDERING:
            kind = "decision" if decision is not None else spec.type if spec else ""
            if kind not in ("number", "date"):
                return (
                    f"'{shown}': {op} orders numbers and dates; '{fact}' is "
                    f"{'a decision' if decision is not None else f'{_article(kind)} fact'}; "
                    "use ==, != or in"
                )
        value = _literal(raw, fact, spec, decision, names)
        if isinstance(value, Bad):
            return f"'{shown}': {value.reason}"
        if isinstance(value, tuple):
            return f"'{shown}': compare with a set using 'in' or 'not in'"
        return Compare(fact, op, value, file, line)  # type: ignore[arg-type]
    op = re.sub(r"\s+", " ", match["word"])
    raw = match["list"].strip()
    items: list[str] | str
    if raw.startswith("$"):
        items = [raw]
    else:
        opener = raw[:1]
        closer = {"(": ")", "[": "]"}.get(opener)
        if closer is None or not raw.endswith(closer):
            return f"'{shown}': write the list in parentheses, e.g. {fact} {op} (A, B)"
        items = split_list(raw[1:-1])
    if isinstance(items, str):
        return f"'{shown}': {items}"
    values: list[Literal_] = []
    for item in items:
        if CONTROL.search(item):
            return f"'{shown}': the value holds a control character"
        value = _literal(item, fact, spec, decision, names)
        if isinstance(value, Bad):
            return f"'{shown}': {value.reason}"
        for one in value if isinstance(value, tuple) else (value,):
            if one not in values:
                values.append(one)
    if len(values) > MAX_ALTERNATIVES:
        return (
            f"'{fact} {op} (...)' lists {len(values)} values; the limit is {MAX_ALTERNATIVES} "
            "(durable_rules hangs on lists a few times longer): use a range (< >) or a "
            "derived fact"
        )
    return Compare(fact, op, tuple(values), file, line)  # type: ignore[arg-type]


def _literal(
    raw: str, fact: str, spec: FactSpec | None, decision: Decision | None, names: Names
) -> Literal_ | tuple[Literal_, ...] | Bad:
    """``raw`` as a value of ``fact``'s type (a named set: a tuple), or why it cannot be."""
    text, quoted = unquote(raw)
    if decision is not None:
        if not quoted and text.startswith("$"):
            codes = names.codes(text[1:])
            if codes is None:
                return Bad(names.unknown(text[1:]))
            missing = [c for c in codes if c not in decision.outcomes]
            if missing:
                return Bad(f"{text} holds {', '.join(missing)}, not outcomes of decision '{fact}'")
            return tuple(codes)
        if text in decision.outcomes:
            return text
        hint = ""
        if not quoted and text.casefold() in ("unknown", "known", "blank", "none", "null"):
            hint = f" (to test for a blank, write '{fact} is unknown')"
        return Bad(
            f"'{text}' is not an outcome of decision '{fact}' "
            f"({', '.join(decision.outcomes)}){did_you_mean(text, decision.outcomes)}{hint}"
        )
    assert spec is not None
    value = parse_literal(raw, spec.type, spec.values, fact, names)
    if spec.type != "number" or not isinstance(value, int | float) or isinstance(value, bool):
        return value
    number = value
    shown = text if not text.startswith("$") else f"{text} ({show(number)})"
    if not math.isfinite(number) or abs(number) >= MAX_LITERAL:
        return Bad(
            f"{shown} is too large a number for the engine (durable_rules passes values "
            f"through JSON; keep literals below 1e15)"
        )
    if isinstance(number, float) and number != 0 and "e" in repr(number):
        return Bad(
            f"{shown} is too small a number for the engine (durable_rules rejects numbers "
            "written with an exponent)"
        )
    if (spec.minimum is not None and number < spec.minimum) or (
        spec.maximum is not None and number > spec.maximum
    ):
        return Bad(
            f"{shown} is outside the range of '{fact}' [{show(spec.minimum)}, {show(spec.maximum)}]"
        )
    return number


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"
