"""signals.yaml -> the signal catalogue and the named sets of its codes."""

from __future__ import annotations

import re
from collections.abc import Mapping

import yaml

from talentrules.rulefiles import Report, did_you_mean, keys, line_of, mapping, text_of, texts_of
from talentrules.vocabulary.model import ALL_SIGNALS, SIGNAL_FIELDS, Signal
from talentrules.vocabulary.values import IDENTIFIER

SIGNALS_FILE = "signals.yaml"

SIGNAL_KINDS = ("signal", "counter")
SIGNAL_WEIGHTS = ("core", "supporting")


_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*\Z")


_SIGNAL_REQUIRED = ("name", "kind", "description")
_SIGNAL_OPTIONAL = ("weight", "why", "route")


def load_signals(
    node: yaml.Node, file: str, report: Report
) -> tuple[dict[str, Signal], dict[str, tuple[str, ...]]]:
    signals: dict[str, Signal] = {}
    sets: dict[str, tuple[str, ...]] = {}
    top = mapping(node, file, SIGNALS_FILE, report)
    if top is None or not keys(top, node, file, SIGNALS_FILE, ("signals",), ("sets",), report):
        return signals, sets
    entries = mapping(top["signals"][1], file, "signals", report) or {}
    for code, (key, body) in entries.items():
        what = f"signal '{code}'"
        if not _CODE.match(code):
            report.error(
                file,
                line_of(key),
                f"{what}: a code starts with a letter and holds letters, digits, _ and -",
            )
            continue
        fields_ = mapping(body, file, what, report)
        if fields_ is None or not keys(
            fields_, body, file, what, _SIGNAL_REQUIRED, _SIGNAL_OPTIONAL, report
        ):
            continue
        values = {k: text_of(v, file, f"{what} {k}", report) for k, (_, v) in fields_.items()}
        if any(v is None for v in values.values()):
            continue
        kind = values["kind"] or ""
        if kind not in SIGNAL_KINDS:
            report.error(
                file,
                line_of(fields_["kind"][1]),
                f"{what}: kind '{kind}' is not one of {', '.join(SIGNAL_KINDS)}"
                + did_you_mean(kind, SIGNAL_KINDS),
            )
            continue
        weight = values.get("weight") or ""
        if kind == "signal" and not weight:
            report.error(
                file, line_of(body), f"{what}: a heart signal needs a weight (core or supporting)"
            )
            continue
        if weight and weight not in SIGNAL_WEIGHTS:
            report.error(
                file,
                line_of(fields_["weight"][1]),
                f"{what}: weight '{weight}' is not one of {', '.join(SIGNAL_WEIGHTS)}",
            )
            continue
        if kind == "counter" and not values.get("route"):
            report.error(
                file,
                line_of(body),
                f"{what}: a counter-signal needs a route (the development route it calls for)",
            )
            continue
        signals[code] = Signal(
            code,
            values["name"] or code,
            kind,
            weight or "supporting",
            values["description"] or "",
            values.get("why") or "",
            values.get("route") or "",
            file,
            line_of(key),
        )
    sets[ALL_SIGNALS] = tuple(signals)
    if "sets" in top:
        declared = mapping(top["sets"][1], file, "sets", report) or {}
        for name, (key, body) in declared.items():
            codes = _signal_set(name, key, body, signals, file, report)
            if codes is not None:
                sets[name] = codes
    return signals, sets


def _signal_set(
    name: str,
    key: yaml.Node,
    body: yaml.Node,
    signals: Mapping[str, Signal],
    file: str,
    report: Report,
) -> tuple[str, ...] | None:
    """A set of codes: a list of codes, or a filter on kind and weight ({kind: signal})."""
    what = f"set '{name}'"
    if not IDENTIFIER.match(name) or name in SIGNAL_FIELDS or name == ALL_SIGNALS:
        report.error(
            file,
            line_of(key),
            f"{what}: a name holds letters, digits and _, and is not {ALL_SIGNALS} or a "
            "signal field",
        )
        return None
    if isinstance(body, yaml.SequenceNode):
        codes = texts_of(body, file, what, report) or []
        for code, item in zip(codes, body.value, strict=False):
            if code not in signals:
                report.error(
                    file,
                    line_of(item),
                    f"{what}: '{code}' is not a signal of the catalogue"
                    + did_you_mean(code, signals),
                )
                return None
        return tuple(codes)
    filters = mapping(body, file, what, report)
    if filters is None or not keys(filters, body, file, what, (), ("kind", "weight"), report):
        return None
    allowed = {"kind": SIGNAL_KINDS, "weight": SIGNAL_WEIGHTS}
    wanted = {  # an unknown key is reported above
        k: text_of(v, file, f"{what} {k}", report) for k, (_, v) in filters.items() if k in allowed
    }
    for k, value in wanted.items():
        if value not in allowed[k]:
            report.error(
                file,
                line_of(filters[k][1]),
                f"{what}: {k} '{value}' is not one of {', '.join(allowed[k])}",
            )
            return None
    return tuple(
        code
        for code, signal in signals.items()
        if all(getattr(signal, k) == value for k, value in wanted.items())
    )
