"""Values as people read them: blanks as 'not recorded', dates ISO, money with its
currency, months as years and months. Every context builder words values here."""

from __future__ import annotations

import datetime as dt

from talentrules.money import money as amount

UNKNOWN = "not recorded"
# What a brief shows where the rulebook names no fact (vocabulary.yaml briefs): never a
# 0 or a blank it did not read.
NOT_DECLARED = "not declared by the rulebook"


def not_declared(what: str, key: str) -> str:
    """A brief's line saying the rulebook names no fact for ``what`` (briefs: ``key``)."""
    return f"{what}: {NOT_DECLARED} (vocabulary.yaml briefs: {key})."


CONFIDENTIAL = "Confidential: talent review. For the panel and the person's HR business partner."

MODE_WORDS = {
    "70": "70 experience",
    "20": "20 relationship",
    "10": "10 course",
    "70/20": "70/20 experience and relationship",
    "70/10": "70/10 experience and course",
    "overlay": "overlay",
    "-": "not applicable",
}
STATUS_WORDS = {
    "allocated": "Allocated",
    "waitlisted": "Waitlisted",
    "refused": "Not allocated",
    "unavailable": "Not in this cycle's catalogue",
}
PERFORMANCE_WORDS = {
    1: "Does not meet",
    2: "Partially meets",
    3: "Meets",
    4: "Exceeds",
    5: "Far exceeds",
}


def shown(value: object) -> str:
    """A workbook value as a person reads it; blank is 'not recorded'."""
    if type(value) is str:  # most values: a brief shows some hundred and twenty
        return value or UNKNOWN
    if value is None or value == "":
        return UNKNOWN
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return (
            f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:,.0f}"
        )
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    return str(value)


def months(value: object) -> str:
    """Whole months as 'N years M months', or 'not recorded'."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return UNKNOWN
    years, rest = divmod(int(value), 12)
    parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
    if rest or not parts:
        parts.append(f"{rest} month{'s' if rest != 1 else ''}")
    return " ".join(parts)


def count(value: object) -> int:
    """A count fact as an int (0 for unknown)."""
    if type(value) is int:  # most counts (a brief reads some hundred and fifty)
        return value
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def band(performance: object) -> int | None:
    """9-box column: 0 for ratings 1-2, 1 for 3, 2 for 4-5."""
    if not isinstance(performance, int | float) or isinstance(performance, bool):
        return None
    return 0 if performance < 3 else 1 if performance < 4 else 2


def percent(value: object) -> str:
    """A percentage figure from the workbook, with its sign."""
    return UNKNOWN if value is None else f"{shown(value)}%"


def money(value: float | None, currency: str) -> str:
    """'EUR 1,500' (``talentrules.money``), or 'not recorded' for an unknown amount."""
    return UNKNOWN if value is None else amount(value, currency)
