"""The rule language's text: conditions (``FACT OP VALUE``, ``FACT in (A, B)``, ``FACT is
known``), literals, lists and quoting, and the names rules may never read; shared by
the rulebook's conditions and the vocabulary's row tests."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from talentrules.contract import PROTECTED_COLUMNS, normalize

Literal_ = str | float | bool | dt.date

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
INTEGER = re.compile(r"[+-]?\d+\Z")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# ``FACT OP VALUE``, ``FACT in (A, B)``, ``FACT is known``: conditions and row tests.
CONDITION = re.compile(
    r"""\s*(?P<fact>[A-Za-z_$][A-Za-z0-9_.\-$]*)
    (?: \s*(?P<sym>==|!=|<=|>=|<|>)\s*(?P<value>.*?)
      | \s+(?P<word>not\s+in|in)(?=[\s(\[$])\s*(?P<list>.*?)
      | \s+is\s+(?P<known>known|unknown)
    )\s*\Z""",
    re.VERBOSE | re.DOTALL,
)
ORDERING = frozenset({"<", "<=", ">", ">="})
CONDITION_HELP = (
    "write FACT OP VALUE (OP one of == != < <= > >= in, not in) or FACT is known / FACT is unknown"
)
# Facts and literals go through json.dumps into durable_rules: floats from here on
# print with an exponent ("1e+16"), which its JSON parser rejects.
MAX_LITERAL = 1e15


def number_of(text: str) -> int | float | None:
    if not NUMBER.match(text):
        return None
    return int(text) if INTEGER.match(text) else float(text)


def show(value: object) -> str:
    """A number as a person writes it: 24, not 24.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_protected(name: str, proxies: frozenset[str]) -> bool:
    """Is ``name`` (or any dotted part of it) a protected attribute or a declared proxy?"""
    banned = PROTECTED_COLUMNS | proxies
    return normalize(name) in banned or any(normalize(p) in banned for p in name.split("."))


def split_list(body: str) -> list[str] | str:
    """Split ``A, "B, C", D`` on commas outside quotes; a message when it cannot."""
    items: list[str] = []
    current = ""
    quote = ""
    for char in body:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "\"'" and not current.strip():
            quote = char
            current += char
        elif char == ",":
            items.append(current.strip())
            current = ""
        else:
            current += char
    if quote:
        return "a quoted value is not closed"
    items.append(current.strip())
    if any(not item for item in items):
        return "the list has an empty item"
    return items


def unquote(raw: str) -> tuple[str, bool]:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1], True
    return raw, False


def printable(text: str) -> str:
    """``text`` with control characters escaped, so a diagnostic shows them."""
    return CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True)
class Bad:
    """Why a value cannot be read (a diagnostic's message, without the place)."""

    reason: str
