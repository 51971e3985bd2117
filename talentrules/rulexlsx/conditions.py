"""Conditions in cells, both ways.

A decision's sheet gives each fact a column; a cell under it holds one comparison of
that fact, the fact left out: ``>= 3``, ``!= Sufficient``, ``in (Ready now, Not
ready)``, ``is unknown``, or a value alone for equals. A ``condition`` (or ``when``)
cell holds anything else, written as in the rule files with ``any(...)``,
``all(...)`` and ``not(...)`` around conditions that name their facts. The columns
of a sheet are laid out so that reading a row's cells left to right gives each
rule's conditions in the order its file lists them (the order is part of a rule's
hash).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from talentrules.rulefiles import CONDITION

# What a fact's cell starts with when it says more than "equals": the operators of
# the language (docs/rules.md, "Rules").
_OPERATOR = re.compile(r"(==|!=|<=|>=|<|>)|(?:not\s+in|in)(?=[\s(\[$])|is\s+(?:known|unknown)\s*\Z")
_CALL = re.compile(r"\s*(any|all|not)\s*\(")


def cell_of(condition: str) -> tuple[str, str] | None:
    """``H-DEV.episodes >= 3`` as (fact, cell): (``H-DEV.episodes``, ``>= 3``); an
    equality as the value alone when it reads back the same. None when ``condition``
    is not one fact compared with a value."""
    match = CONDITION.match(condition)
    if match is None:
        return None
    fact = match["fact"]
    if match["known"]:
        return fact, f"is {match['known']}"
    if match["sym"]:
        value = match["value"].strip()
        if match["sym"] == "==" and value and not _OPERATOR.match(value) and value[0] != "=":
            return fact, value
        return fact, f"{match['sym']} {value}"
    op = re.sub(r"\s+", " ", match["word"])
    return fact, f"{op} {match['list'].strip()}"


def condition_of(fact: str, cell: str) -> str:
    """The condition a fact's cell stands for: ``>= 3`` -> ``FACT >= 3``, a value alone
    -> ``FACT == value``."""
    text = cell.strip()
    if _OPERATOR.match(text):
        return f"{fact} {text}"
    return f"{fact} == {text}"


# --------------------------------------------------------------------------------------
# any(...), all(...), not(...) in one cell
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """``any(A, B)``: a combination of conditions."""

    name: str  # any, all or not
    parts: tuple[Part, ...]


Part = str | Call


class Unreadable(Exception):
    """Why a cell's text is not a condition in the cell form."""


def parse(text: str, max_depth: int = 32) -> Part:
    """A condition cell's text as a tree: plain conditions, and calls of any/all/not."""
    position = 0

    def spaces() -> None:
        nonlocal position
        while position < len(text) and text[position].isspace():
            position += 1

    def atom() -> str:
        nonlocal position
        start, depth, quote = position, 0, ""
        while position < len(text):
            char = text[position]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "\"'" and text[start:position].rstrip()[-1:] in (
                "",
                "=",
                "(",
                ",",
                "[",
                "<",
                ">",
            ):
                quote = char
            elif char in "([":
                depth += 1
            elif char in ")]":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            position += 1
        if quote:
            raise Unreadable(f"a quoted value is not closed in '{text[start:].strip()}'")
        found = text[start:position].strip()
        if not found:
            raise Unreadable(f"a condition is missing at character {start + 1}")
        return found

    def expression(depth: int) -> Part:
        nonlocal position
        if depth > max_depth:
            raise Unreadable(f"any/all/not are nested more than {max_depth} deep")
        match = _CALL.match(text, position)
        if match is None:
            return atom()
        position = match.end()
        parts: list[Part] = []
        spaces()
        if position < len(text) and text[position] == ")":
            position += 1
            return Call(match[1], ())
        while True:
            parts.append(expression(depth + 1))
            spaces()
            if position >= len(text):
                raise Unreadable(f"{match[1]}( is not closed with )")
            if text[position] == ",":
                position += 1
                continue
            if text[position] == ")":
                position += 1
                return Call(match[1], tuple(parts))
            raise Unreadable(f"expected ',' or ')' at character {position + 1}")

    tree = expression(0)
    spaces()
    if position < len(text):
        raise Unreadable(
            f"unexpected '{text[position:].strip()}' after the condition; join "
            "conditions with any(...) or all(...), or give each its own cell"
        )
    return tree


def render(part: Part) -> str:
    """A tree as a cell's text (``parse`` reads it back)."""
    if isinstance(part, str):
        return part
    return f"{part.name}(" + ", ".join(render(p) for p in part.parts) + ")"


def meaning(part: Part) -> object:
    """What a tree says, for comparing the forms that say the same: ``not(A, B)`` is
    ``not(all(A, B))``."""
    if isinstance(part, str):
        return part.strip()
    if part.name == "not" and len(part.parts) != 1:
        return ("not", ("all", tuple(meaning(p) for p in part.parts)))
    if part.name == "not":
        return ("not", meaning(part.parts[0]))
    return (part.name, tuple(meaning(p) for p in part.parts))


# --------------------------------------------------------------------------------------
# Columns: every rule's conditions in its own order, read left to right
# --------------------------------------------------------------------------------------


def merge_columns(columns: list[str], keys: list[str]) -> list[str]:
    """The shortest columns (by longest common subsequence) in which both ``columns``
    and ``keys`` appear in order: a fact's column repeats only when two rules name
    facts in orders that cannot share one."""
    n, m = len(columns), len(keys)
    common = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if columns[i] == keys[j]:
                common[i][j] = common[i + 1][j + 1] + 1
            else:
                common[i][j] = max(common[i + 1][j], common[i][j + 1])
    merged: list[str] = []
    i = j = 0
    while i < n or j < m:
        if i < n and j < m and columns[i] == keys[j]:
            merged.append(columns[i])
            i, j = i + 1, j + 1
        elif j >= m or (i < n and common[i + 1][j] >= common[i][j + 1]):
            merged.append(columns[i])
            i += 1
        else:
            merged.append(keys[j])
            j += 1
    return merged


def table_columns(rules: Sequence[list[str]], tries: int = 200) -> list[str]:
    """Columns in which every rule's condition keys appear in its own order, as few as a
    few merge orders find (the fewest is a hard problem; a fixed seed keeps the layout
    the same every time)."""

    def merged(order: Sequence[list[str]]) -> list[str]:
        columns: list[str] = []
        for keys in order:
            columns = merge_columns(columns, keys)
        return columns

    best = merged(rules)
    chooser = random.Random(0)
    orders = [sorted(rules, key=len, reverse=True)]
    for _ in range(tries):
        order = list(rules)
        chooser.shuffle(order)
        orders.append(order)
    for order in orders:
        found = merged(order)
        if len(found) < len(best):
            best = found
    return best


def place(columns: list[str], keys: list[str]) -> list[int]:
    """The column of each key, left to right (``keys`` is a subsequence of ``columns``)."""
    found: list[int] = []
    start = 0
    for key in keys:
        index = columns.index(key, start)
        found.append(index)
        start = index + 1
    return found
