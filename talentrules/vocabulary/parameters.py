"""parameters.yaml -> the named thresholds: every number a rule, fact or text names, once."""

from __future__ import annotations

import math

import yaml

from talentrules.rulefiles import MAX_LITERAL, Report, keys, line_of, mapping, number_of, text_of
from talentrules.vocabulary.model import ALL_SIGNALS, SIGNAL_FIELDS, Parameter
from talentrules.vocabulary.values import IDENTIFIER

PARAMETERS_FILE = "parameters.yaml"

_PARAMETER_KEYS = ("value", "meaning")
_PARAMETER_OPTIONAL = ("unit",)


def load_parameters(node: yaml.Node, file: str, report: Report) -> dict[str, Parameter]:
    found: dict[str, Parameter] = {}
    top = mapping(node, file, PARAMETERS_FILE, report)
    if top is None or not keys(top, node, file, PARAMETERS_FILE, ("parameters",), (), report):
        return found
    entries = mapping(top["parameters"][1], file, "parameters", report) or {}
    for name, (key, body) in entries.items():
        what = f"parameter '{name}'"
        if not IDENTIFIER.match(name):
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
