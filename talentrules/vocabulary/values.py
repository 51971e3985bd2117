"""Values written in rule files: named values (``$habit_months``, ``$core_signals``), a
family's fields (``$code``) and literals typed by the fact or column they are compared with."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from talentrules.rulefiles import (
    DATE,
    Bad,
    Literal_,
    Report,
    did_you_mean,
    number_of,
    show,
    unquote,
)
from talentrules.vocabulary.model import FactType, Parameter

# A named value in a condition or a text: a parameter (a number) or a set of codes.
NAMED = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


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
