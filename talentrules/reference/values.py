"""Fact values as the reference evaluator's explanations use them: the candidates worth
trying for a fact, whether one fits it, how far one is from the person's own, and how
values appear in the trace."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from talentrules.facts import is_whole
from talentrules.model import Value
from talentrules.rulebook import Compare
from talentrules.vocabulary import FactSpec

Json = Any


def as_json(value: object) -> Json:
    """A fact value or literal as JSON data: dates as YYYY-MM-DD, sequences as tuples."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return tuple(as_json(v) for v in value)
    return value


def shown_value(value: object) -> str:
    """A value as a panel reads it: unknown for blank, lists comma-separated."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return ", ".join(shown_value(v) for v in value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def candidate_values(spec: FactSpec, leaves: list[Compare]) -> list[Value]:
    """Values of one fact near the bounds of these leaves, on both sides of each."""
    out: list[Value] = []
    kind = spec.type
    whole = kind == "number" and is_whole(spec)
    for leaf in leaves:
        op, k = leaf.op, leaf.value
        if op in ("known", "unknown"):
            out.append(None)
            if kind == "enum":
                out += list(spec.values)
            elif kind == "boolean":
                out += [True, False]
            elif kind == "number":
                out.append(spec.minimum if spec.minimum is not None else 0)
            continue
        if kind == "enum":
            out += list(spec.values)
            continue
        if kind == "boolean":
            out += [True, False]
            continue
        bounds = k if isinstance(k, tuple) else (k,)
        for b in bounds:
            if kind == "date" and isinstance(b, dt.date):
                day = dt.timedelta(days=1)
                out += [b, b + day, b - day]
            elif kind == "text" and isinstance(b, str):
                out.append(b)
            elif kind == "number" and isinstance(b, int | float) and not isinstance(b, bool):
                if whole and op not in ("==", "!=", "in", "not in"):
                    out += [math.ceil(b), math.ceil(b) - 1, math.floor(b), math.floor(b) + 1]
                else:
                    step = 1 if whole else 0.1
                    out += [b, b + step, b - step]
    return out


def fits_fact(spec: FactSpec, value: Value) -> bool:
    if value is None or spec.type != "number" or isinstance(value, bool):
        return True
    if not isinstance(value, int | float):
        return False
    if is_whole(spec) and value != int(value):
        return False
    if spec.minimum is not None and value < spec.minimum:
        return False
    return spec.maximum is None or value <= spec.maximum


def distance_from(value: Value, current: Value) -> float:
    if current is None or value is None:
        return 0.0
    if isinstance(value, int | float) and isinstance(current, int | float):
        return abs(float(value) - float(current))
    if isinstance(value, dt.date) and isinstance(current, dt.date):
        return abs((value - current).days)
    return 0.0


def tidy_number(value: Value) -> Value:
    """A candidate number as the fact would hold it: int when whole, rounded otherwise."""
    if isinstance(value, float) and not isinstance(value, bool):
        value = round(value, 6)
        return int(value) if value.is_integer() else value
    return value
