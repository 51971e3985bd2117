"""decisions.yaml -> Decisions: outcomes, default, hit policy, role, texts, fairness."""

from __future__ import annotations

import re
from collections.abc import Mapping

import yaml

from talentrules.rulebook.model import (
    INTEREST_PLACEHOLDER,
    OTHERWISE,
    ROLES,
    TEXT_KEYS,
    UNKNOWN_INTEREST,
    Decision,
    OutcomeTexts,
)
from talentrules.rulefiles import Report, did_you_mean, keys, line_of, mapping, text_of, texts_of
from talentrules.vocabulary import FactSpec, Names

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")

_POLICIES = ("unique", "priority", "collect")


def load_decisions(
    node: yaml.Node, file: str, vocabulary: Mapping[str, FactSpec], names: Names, report: Report
) -> dict[str, Decision]:
    decisions: dict[str, Decision] = {}
    top = mapping(node, file, "decisions.yaml", report)
    if top is None or not keys(top, node, file, "decisions.yaml", ("decisions",), (), report):
        return decisions
    entries = mapping(top["decisions"][1], file, "decisions", report) or {}
    roles: dict[str, str] = {}
    for name, (key, value) in entries.items():
        what = f"decision '{name}'"
        if not _NAME.match(name):
            report.error(
                file,
                line_of(key),
                f"decision name '{name}' may hold only letters, digits, _, - and .",
            )
            continue
        if name in vocabulary:
            report.error(file, line_of(key), f"{what} has the name of a fact; rename one of them")
            continue
        body = mapping(value, file, what, report)
        if body is None:
            continue
        required = ("outcomes", "default", "meaning")
        optional = ("policy", "role", "label", "texts", "interest", "fairness")
        if not keys(body, value, file, what, required, optional, report):
            continue
        policy = "unique"
        if "policy" in body:
            policy = text_of(body["policy"][1], file, f"{what} policy", report) or "unique"
            if policy not in _POLICIES:
                report.error(
                    file,
                    line_of(body["policy"][1]),
                    f"{what}: policy '{policy}' is not one of {', '.join(_POLICIES)}"
                    + did_you_mean(policy, _POLICIES),
                )
                continue
        outcomes = _outcomes(body["outcomes"][1], file, what, names, report)
        default = text_of(body["default"][1], file, f"{what} default", report)
        meaning = text_of(body["meaning"][1], file, f"{what} meaning", report)
        if not outcomes or default is None or meaning is None:
            continue
        meaning = names.text(meaning, file, line_of(body["meaning"][1]), report)
        if default not in outcomes:
            report.error(
                file,
                line_of(body["default"][1]),
                f"{what}: default '{default}' is not one of its outcomes "
                f"({', '.join(outcomes)}){did_you_mean(default, outcomes)}",
            )
        role = None
        if "role" in body:
            role = text_of(body["role"][1], file, f"{what} role", report)
            if role is not None and role not in ROLES:
                report.error(
                    file,
                    line_of(body["role"][1]),
                    f"{what}: role '{role}' is not one of {', '.join(ROLES)}"
                    + did_you_mean(role, ROLES),
                )
                role = None
            elif role is not None and role in roles:
                report.error(
                    file,
                    line_of(body["role"][1]),
                    f"{what}: decision '{roles[role]}' already plays role '{role}'",
                )
                role = None
            elif role is not None:
                roles[role] = name
        label = ""
        if "label" in body:
            label = text_of(body["label"][1], file, f"{what} label", report) or ""
        interest = None
        if "interest" in body:
            interest = _interest_fact(body["interest"][1], file, what, vocabulary, report)
        texts: dict[str, OutcomeTexts] = {}
        if "texts" in body:
            texts = _outcome_texts(body["texts"][1], file, what, outcomes, interest, names, report)
        fairness: dict[str, str] = {}
        if "fairness" in body:
            fairness = _fairness(body["fairness"][1], file, what, outcomes, report)
        decision = Decision(
            name,
            policy,  # type: ignore[arg-type]
            tuple(outcomes),
            default,
            meaning,
            file,
            line_of(key),
            role,
            label,
            texts,
            interest,
            fairness,
        )
        _check_texts(decision, vocabulary, report)
        decisions[name] = decision
    return decisions


def _outcomes(
    node: yaml.Node, file: str, what: str, names: Names, report: Report
) -> list[str] | None:
    """A decision's outcomes; ``$set`` stands for every code of a signal set."""
    items = texts_of(node, file, f"{what} outcomes", report)
    if items is None:
        return None
    outcomes: list[str] = []
    for item, item_node in zip(items, node.value, strict=False):
        if item.startswith("$"):
            codes = names.codes(item[1:])
            if codes is None:
                report.error(
                    file, line_of(item_node), f"{what} outcomes: {names.unknown(item[1:])}"
                )
                return None
            found = list(codes)
        else:
            found = [item]
        for outcome in found:
            if outcome in outcomes:
                report.error(
                    file, line_of(item_node), f"{what} outcomes: '{outcome}' is listed twice"
                )
                return None
            outcomes.append(outcome)
    return outcomes


FAIRNESS_DIRECTIONS = ("advantage", "neutral")


def _fairness(
    node: yaml.Node, file: str, what: str, outcomes: list[str], report: Report
) -> dict[str, str]:
    """``fairness:`` outcome -> advantage | neutral, for every outcome of the decision."""
    found: dict[str, str] = {}
    entries = mapping(node, file, f"{what} fairness", report) or {}
    for outcome, (key, value) in entries.items():
        direction = text_of(value, file, f"{what} fairness of '{outcome}'", report)
        if outcome not in outcomes:
            _not_an_outcome(outcome, outcomes, file, key, f"{what} fairness", report)
        elif direction is not None and direction not in FAIRNESS_DIRECTIONS:
            report.error(
                file,
                line_of(value),
                f"{what} fairness of '{outcome}': '{direction}' is not one of "
                f"{', '.join(FAIRNESS_DIRECTIONS)}",
            )
        elif direction is not None:
            found[outcome] = direction
    missing = [o for o in outcomes if o not in entries]
    if entries and missing:
        report.error(
            file,
            line_of(node),
            f"{what} fairness: give every outcome a direction (advantage or neutral); "
            f"missing {', '.join(missing)}",
        )
    return found


def _not_an_outcome(
    outcome: str, outcomes: list[str], file: str, key: yaml.Node, where: str, report: Report
) -> None:
    report.error(
        file,
        line_of(key),
        f"{where}: '{outcome}' is not one of its outcomes ({', '.join(outcomes)})"
        + did_you_mean(outcome, outcomes),
    )


def _interest_fact(
    node: yaml.Node, file: str, what: str, vocabulary: Mapping[str, FactSpec], report: Report
) -> str | None:
    name = text_of(node, file, f"{what} interest", report)
    if name is None:
        return None
    spec = vocabulary.get(name)
    if spec is None or spec.type != "enum":
        report.error(
            file,
            line_of(node),
            f"{what}: interest names the enum fact holding the stated interest; "
            f"'{name}' is not one{did_you_mean(name, vocabulary)}",
        )
        return None
    return name


def _outcome_texts(
    node: yaml.Node,
    file: str,
    what: str,
    outcomes: list[str],
    interest: str | None,
    names: Names,
    report: Report,
) -> dict[str, OutcomeTexts]:
    """``texts:`` outcome -> {meaning, advice, gap, risk, interest: {value: sentence}}."""
    found: dict[str, OutcomeTexts] = {}
    entries = mapping(node, file, f"{what} texts", report) or {}
    for outcome, (key, body) in entries.items():
        if outcome not in outcomes:
            _not_an_outcome(outcome, outcomes, file, key, f"{what} texts", report)
            continue
        place = f"{what} texts of '{outcome}'"
        fields_ = mapping(body, file, place, report)
        if fields_ is None:
            continue
        allowed = (*TEXT_KEYS, "interest") if interest is not None else TEXT_KEYS
        keys(fields_, body, file, place, (), allowed, report)
        texts: dict[str, str] = {}
        for text_key in TEXT_KEYS:
            if text_key in fields_:
                value_node = fields_[text_key][1]
                text = text_of(value_node, file, f"{place} {text_key}", report)
                if text is not None:
                    texts[text_key] = names.text(text, file, line_of(value_node), report)
        sentences: dict[str, str] = {}
        if interest is not None and "interest" in fields_:
            table = mapping(fields_["interest"][1], file, f"{place} interest", report) or {}
            for value, (_, sentence_node) in table.items():
                text = text_of(sentence_node, file, f"{place} interest '{value}'", report)
                if text is not None:
                    sentences[value] = names.text(
                        text,
                        file,
                        line_of(sentence_node),
                        report,
                        keep=(INTEREST_PLACEHOLDER,),
                    )
        found[outcome] = OutcomeTexts(texts, sentences, line_of(key))
    return found


def _check_texts(decision: Decision, vocabulary: Mapping[str, FactSpec], report: Report) -> None:
    """Every outcome of a decision with a role has the texts the role needs."""
    what = f"decision '{decision.name}'"
    if decision.role is None:
        return
    needed = ROLES[decision.role]
    for outcome in decision.outcomes:
        texts = decision.texts.get(outcome)
        missing = [k for k in needed if texts is None or not texts.get(k)]
        if missing:
            report.error(
                decision.file,
                texts.line if texts is not None and texts.line else decision.line,
                f"{what} plays role {decision.role}: outcome '{outcome}' needs "
                f"{' and '.join(missing)} under texts (briefs show it)",
            )
    if decision.role != "development_track":
        return
    if decision.interest is None:
        report.error(
            decision.file,
            decision.line,
            f"{what} plays role development_track: give 'interest: FACT' (the enum fact "
            "holding the person's stated interest) and an interest sentence per outcome",
        )
        return
    spec = vocabulary[decision.interest]
    allowed = (*spec.values, UNKNOWN_INTEREST, OTHERWISE)
    for outcome in decision.outcomes:
        texts = decision.texts.get(outcome)
        table = texts.interest if texts is not None else {}
        line = texts.line if texts is not None and texts.line else decision.line
        for value in table:
            if value not in allowed:
                report.error(
                    decision.file,
                    line,
                    f"{what} texts of '{outcome}': interest '{value}' is not a value of "
                    f"{decision.interest} ({', '.join(allowed)}){did_you_mean(value, allowed)}",
                )
        if OTHERWISE in table:
            continue
        uncovered = [v for v in (*spec.values, UNKNOWN_INTEREST) if v not in table]
        if uncovered:
            report.error(
                decision.file,
                line,
                f"{what} texts of '{outcome}': no interest sentence for "
                f"{', '.join(uncovered)} (give one each, or '{OTHERWISE}')",
            )
