"""Rule tests: made-up people and what the rulebook must conclude for them.

Tests are data files next to the rules (``rules/tests/*.yaml``, format in
docs/rules.md, "Rule tests"). Each test runs through the reference evaluator and,
when asked, the durable_rules engine too; a failure names the test, its file and
line, the expected and actual conclusions and the rules that fired. Coverage asks
that every rule fire in some test and every outcome of every decision be reached.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from talentrules.engine import Engine
from talentrules.errors import OutputError, RulebookError, RuleConflictError
from talentrules.facts import (
    CATALOGUE_FILE,
    Catalogue,
    PersonFacts,
    facts_from_mapping,
    follow_formulas,
    load_catalogue,
)
from talentrules.model import Value
from talentrules.persons import PERSON_KEYS, ROW_SHEETS, TEAM, Given, PersonSpec, person_facts
from talentrules.reference import evaluate
from talentrules.rulebook import Evaluation, Rulebook, load_rulebook
from talentrules.rulefiles import (
    RuleFiles,
    compose_tests,
    did_you_mean,
    line_and_cell,
    line_of,
    number_of,
    open_rules,
)
from talentrules.rulefiles import where as place
from talentrules.vocabulary import formula_facts

NULL_TAG = "tag:yaml.org,2002:null"
TEST_KEYS = ("name", "person", "facts", "expect", "absent", "fired", "not_fired")


@dataclass(frozen=True)
class RuleTest:
    """One rule test, read from a file."""

    name: str
    file: str
    line: int
    person: PersonFacts
    expect: dict[str, tuple[str, ...]]
    absent: dict[str, tuple[str, ...]]
    fired: tuple[str, ...]
    not_fired: tuple[str, ...]

    @property
    def where(self) -> str:
        return place(self.file, self.line)


@dataclass(frozen=True)
class RuleTestFailure:
    """What went wrong in one test: each unmet expectation, and what did happen."""

    test: RuleTest
    problems: tuple[str, ...]
    outcomes: dict[str, tuple[str, ...]]
    fired: tuple[str, ...]


@dataclass
class RuleTestReport:
    """The outcome of running a folder's rule tests."""

    tests: list[RuleTest]
    failures: list[RuleTestFailure]
    evaluators: tuple[str, ...]
    unfired_rules: list[str] = field(default_factory=list)  # coverage gaps
    unreached: list[tuple[str, str]] = field(default_factory=list)  # (decision, outcome)
    coverage: bool = False
    seconds: float = 0.0  # wall time of the whole run, for JUnit

    @property
    def ok(self) -> bool:
        gaps = self.coverage and bool(self.unfired_rules or self.unreached)
        return not self.failures and not gaps


# --- Reading test files -----------------------------------------------------------------


def _scalar_text(node: yaml.Node, where: str, what: str) -> str:
    # The raw text, not YAML's reading of it: an outcome named No stays "No".
    if not isinstance(node, yaml.ScalarNode) or node.tag == NULL_TAG:
        raise RulebookError(f"{where}: {what} must be a name, not {type(node).__name__}")
    return str(node.value)


def _names(node: yaml.Node, where: str, what: str) -> tuple[str, ...]:
    """One name or a list of names."""
    if isinstance(node, yaml.SequenceNode):
        return tuple(_scalar_text(item, where, what) for item in node.value)
    return (_scalar_text(node, where, what),)


def _outcomes(
    node: yaml.Node, rulebook: Rulebook, file: str, key: str
) -> dict[str, tuple[str, ...]]:
    where = place(file, line_of(node))
    if not isinstance(node, yaml.MappingNode):
        raise RulebookError(f"{where}: '{key}' maps decisions to outcomes")
    out: dict[str, tuple[str, ...]] = {}
    for key_node, value_node in node.value:
        at = place(file, line_of(key_node))
        name = _scalar_text(key_node, at, "a decision")
        decision = rulebook.decisions.get(name)
        if decision is None:
            raise RulebookError(
                f"{at}: unknown decision '{name}' (decisions: {', '.join(rulebook.decisions)})"
            )
        outcomes = _names(value_node, at, "an outcome")
        for outcome in outcomes:
            if outcome not in decision.outcomes:
                raise RulebookError(
                    f"{at}: '{outcome}' is not an outcome of {name} "
                    f"({', '.join(decision.outcomes)})"
                )
        if key == "expect" and decision.policy != "collect" and len(outcomes) != 1:
            raise RulebookError(
                f"{at}: {name} is a {decision.policy} decision: expect exactly one outcome"
            )
        out[name] = outcomes
    return out


# A fact's value written with a parameter, so a boundary test follows the threshold:
# ``$habit_months``, ``$habit_months - 1``, ``$team_engagement + 0.5``.
_NAMED_VALUE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*(?:([+-])\s*(\d+(?:\.\d+)?))?\s*\Z")


def _parameter_value(match: re.Match[str], rulebook: Rulebook, where: str) -> object:
    name, sign, offset = match.groups()
    parameter = rulebook.parameters.get(name)
    if parameter is None:
        raise RulebookError(
            f"{where}: unknown parameter '${name}'{did_you_mean(name, rulebook.parameters)}"
        )
    value: float = parameter.value
    if offset is not None:
        value = value + float(offset) if sign == "+" else value - float(offset)
    return int(value) if float(value).is_integer() else value


@dataclass
class _Reading:
    """What reading one test file needs: the rulebook, the file's name, a loader to
    construct YAML's values, and the rulebook's default catalogue (for a person's
    development rows), read when first needed."""

    rulebook: Rulebook
    file: str
    loader: yaml.SafeLoader
    files: RuleFiles | None = None
    _catalogue: Catalogue | None = None
    _catalogue_read: bool = False

    def at(self, node: yaml.Node) -> str:
        return place(self.file, line_of(node))

    def catalogue(self) -> Catalogue | None:
        if not self._catalogue_read:
            self._catalogue_read = True
            if self.files is not None and self.files.has(CATALOGUE_FILE):
                self._catalogue = load_catalogue(self.files)
        return self._catalogue


def _facts(node: yaml.Node, reading: _Reading, name: str) -> dict[str, Value]:
    """The ``facts:`` of a test, each typed by the vocabulary."""
    rulebook, loader = reading.rulebook, reading.loader
    where = reading.at(node)
    if not isinstance(node, yaml.MappingNode):
        raise RulebookError(f"{where}: 'facts' maps facts to values")
    given: dict[str, Value] = {}
    for key_node, value_node in node.value:
        at = reading.at(key_node)
        fact = _scalar_text(key_node, at, "a fact")
        spec = rulebook.vocabulary.get(fact)
        named = (
            _NAMED_VALUE.match(value_node.value)
            if isinstance(value_node, yaml.ScalarNode) and not value_node.style
            else None
        )
        if named is not None:
            value = _parameter_value(named, rulebook, at)
        elif (
            spec is not None
            and spec.type in ("enum", "text")
            and isinstance(value_node, yaml.ScalarNode)
            and value_node.tag != NULL_TAG
        ):
            value = value_node.value  # Low, Yes, No: the text as written
        else:
            value = loader.construct_object(value_node, deep=True)
        one = facts_from_mapping(name, {fact: value}, rulebook.vocabulary, where=at)
        given[fact] = one.values[fact]
    return given


def _given(node: yaml.Node, reading: _Reading) -> Given:
    """One value of a person, as a workbook cell would hold it: the text written (a
    parameter, ``$stale_months + 1``, stands for its number)."""
    at = reading.at(node)
    if not isinstance(node, yaml.ScalarNode):
        raise RulebookError(
            f"{at}: a value, not {'a list' if isinstance(node, yaml.SequenceNode) else 'a mapping'}"
        )
    if node.tag == NULL_TAG:
        return Given(None, at)
    named = _NAMED_VALUE.match(node.value) if not node.style else None
    if named is not None:
        return Given(_parameter_value(named, reading.rulebook, at), at)
    number = number_of(node.value) if not node.style else None
    return Given(number if number is not None else node.value, at)


def _given_mapping(node: yaml.Node, reading: _Reading, what: str) -> dict[str, Given]:
    if not isinstance(node, yaml.MappingNode):
        raise RulebookError(f"{reading.at(node)}: {what} maps columns to values")
    found: dict[str, Given] = {}
    for key_node, value_node in node.value:
        key = _scalar_text(key_node, reading.at(key_node), "a column")
        given = _given(value_node, reading)
        if given.value is not None:
            found[key] = given
    return found


def _person(node: yaml.Node, reading: _Reading, name: str) -> PersonFacts:
    """The facts of a test's ``person:``, derived as from a workbook (talentrules.persons)."""
    if not isinstance(node, yaml.MappingNode):
        raise RulebookError(
            f"{reading.at(node)}: 'person' describes the person: {', '.join(PERSON_KEYS)}"
        )
    spec = PersonSpec(where=reading.at(node))
    for key_node, value_node in node.value:
        key = _scalar_text(key_node, reading.at(key_node), "a key")
        if key == TEAM:
            spec.team = _given_mapping(value_node, reading, "team")
        elif key in ROW_SHEETS:
            if not isinstance(value_node, yaml.SequenceNode):
                raise RulebookError(f"{reading.at(value_node)}: {key} is a list of rows")
            spec.rows[key] = [
                _given_mapping(item, reading, f"a {key} row") for item in value_node.value
            ]
        else:
            given = _given(value_node, reading)
            if given.value is not None:
                spec.values[key] = Given(given.value, reading.at(key_node))
    return person_facts(
        name,
        spec,
        reading.rulebook.vocabulary,
        reading.catalogue(),
        tuple(reading.rulebook.signals),
    )


def _read_test(item: yaml.Node, reading: _Reading) -> RuleTest:
    rulebook, file = reading.rulebook, reading.file
    where = reading.at(item)
    if not isinstance(item, yaml.MappingNode):
        raise RulebookError(f"{where}: a test is a mapping with name, facts and expect")
    parts: dict[str, yaml.Node] = {}
    for key_node, value_node in item.value:
        key = _scalar_text(key_node, reading.at(key_node), "a key")
        if key not in TEST_KEYS:
            raise RulebookError(
                f"{reading.at(key_node)}: unknown key '{key}' (a test has {', '.join(TEST_KEYS)})"
            )
        parts[key] = value_node
    if "name" not in parts:
        raise RulebookError(f"{where}: the test has no name")
    name = _scalar_text(parts["name"], where, "the test's name")
    if not {"expect", "absent", "fired", "not_fired"} & parts.keys():
        raise RulebookError(f"{where}: test '{name}' expects nothing (add expect or absent)")
    if "person" in parts:
        person = _person(parts["person"], reading, name)
    else:
        person = facts_from_mapping(name, {}, rulebook.vocabulary)
    if "facts" in parts:
        # Facts given beside a person replace what was derived for them, and a
        # formula's fact not given follows them (the trend follows the ratings given).
        given = _facts(parts["facts"], reading, name)
        values = {**person.values, **given}
        followed = follow_formulas(values, formula_facts(rulebook.vocabulary), given, given)
        values.update(followed)
        cells = {k: v for k, v in person.cells.items() if k not in given and k not in followed}
        person = PersonFacts(name, values, cells)
    rule_ids = {rule.id for rule in rulebook.rules}
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("fired", "not_fired"):
        ids = _names(parts[key], where, "a rule id") if key in parts else ()
        for rule_id in ids:
            if rule_id not in rule_ids:
                raise RulebookError(f"{reading.at(parts[key])}: unknown rule '{rule_id}'")
        lists[key] = ids
    return RuleTest(
        name=name,
        file=file,
        line=line_of(item),
        person=person,
        expect=_outcomes(parts["expect"], rulebook, file, "expect") if "expect" in parts else {},
        absent=_outcomes(parts["absent"], rulebook, file, "absent") if "absent" in parts else {},
        fired=lists["fired"],
        not_fired=lists["not_fired"],
    )


def rule_tests_of(
    rulebook: Rulebook, root: yaml.Node | None, file: str, files: RuleFiles | None = None
) -> list[RuleTest]:
    """The tests of one test file's node tree; ``file`` names it in messages, ``files``
    is the rulebook (its catalogue types a person's development rows)."""
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise RulebookError(f"{place(file, line_of(root))}: expected a top-level 'tests:' list")
    items = [v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "tests"]
    if not items or not isinstance(items[0], yaml.SequenceNode):
        raise RulebookError(f"{place(file, line_of(root))}: expected a top-level 'tests:' list")
    for key, _ in root.value:  # a key beside tests: would be ignored: say so instead
        if not isinstance(key, yaml.ScalarNode) or key.value != "tests":
            name = repr(key.value) if isinstance(key, yaml.ScalarNode) else "(not a name)"
            raise RulebookError(
                f"{place(file, line_of(key))}: unknown key {name} (a rule-test file has tests)"
            )
    reading = _Reading(rulebook, file, yaml.SafeLoader(""), files)  # the loader types values
    try:
        return [_read_test(item, reading) for item in items[0].value]
    finally:
        reading.loader.dispose()


def read_rule_tests(rulebook: Rulebook, path: Path, shown: str | None = None) -> list[RuleTest]:
    """The tests of one file; ``shown`` is the file name used in messages."""
    file = shown or str(path)
    return rule_tests_of(rulebook, compose_tests(path, file), file, open_rules(rulebook.source))


def load_rule_tests(rulebook: Rulebook, rules: str | Path | RuleFiles) -> list[RuleTest]:
    """Every test of a rulebook (``tests/*.yaml`` of a folder, files sorted by name; the
    Tests sheets of a workbook); names must be unique."""
    files = rules if isinstance(rules, RuleFiles) else open_rules(rules)
    tests: list[RuleTest] = []
    seen: dict[str, RuleTest] = {}
    for name in files.test_names():
        label = files.test_label(name)
        for test in rule_tests_of(rulebook, files.test_node(name), label, files):
            if test.name in seen:
                raise RulebookError(
                    f"{test.where}: test name '{test.name}' is also used at {seen[test.name].where}"
                )
            seen[test.name] = test
            tests.append(test)
    return tests


# --- Running ----------------------------------------------------------------------------


def check_test(rulebook: Rulebook, test: RuleTest, evaluation: Evaluation) -> list[str]:
    """Every expectation of ``test`` that ``evaluation`` does not meet, in words."""
    problems: list[str] = []
    for name, wanted in test.expect.items():
        got = evaluation.outcomes.get(name, ())
        if rulebook.decisions[name].policy == "collect":
            missing = [o for o in wanted if o not in got]
            if missing:
                problems.append(
                    f"{name}: expected to include {', '.join(missing)}, got {', '.join(got)}"
                )
        elif got != wanted:
            problems.append(f"{name}: expected {wanted[0]}, got {', '.join(got)}")
    for name, unwanted in test.absent.items():
        got = evaluation.outcomes.get(name, ())
        present = [o for o in unwanted if o in got]
        if present:
            problems.append(f"{name}: expected not {', '.join(present)}, got {', '.join(got)}")
    for rule_id in test.fired:
        if rule_id not in evaluation.fired:
            problems.append(f"rule {rule_id}: expected to fire, did not")
    for rule_id in test.not_fired:
        if rule_id in evaluation.fired:
            problems.append(f"rule {rule_id}: expected not to fire, fired")
    return problems


Evaluator = Callable[[PersonFacts], Evaluation]


def run_rule_tests(
    rulebook: Rulebook,
    tests: Sequence[RuleTest],
    engine: Evaluator | None = None,
    coverage: bool = False,
) -> RuleTestReport:
    """Run each test through the reference evaluator and, if given, ``engine``.

    The engine must agree with the reference evaluator exactly; a disagreement is
    a failure of the test, shown with both results.
    """
    started = time.perf_counter()
    failures: list[RuleTestFailure] = []
    fired_anywhere: set[str] = set()
    reached: set[tuple[str, str]] = set()
    for test in tests:
        try:
            evaluation = evaluate(rulebook, test.person)
        except RuleConflictError as error:
            failures.append(RuleTestFailure(test, (str(error),), {}, ()))
            continue
        fired_anywhere.update(evaluation.fired)
        reached.update((d, o) for d, outs in evaluation.outcomes.items() for o in outs)
        problems = check_test(rulebook, test, evaluation)
        if engine is not None:
            try:
                other = engine(test.person)
            except RuleConflictError as error:
                other = None
                problems.append(f"durable_rules engine: {error}")
            if other is not None and other != evaluation:
                problems.append(_disagreement(evaluation, other))
        if problems:
            failures.append(
                RuleTestFailure(test, tuple(problems), evaluation.outcomes, evaluation.fired)
            )
    report = RuleTestReport(
        list(tests),
        failures,
        ("reference evaluator", "durable_rules engine") if engine else ("reference evaluator",),
        coverage=coverage,
    )
    if coverage:
        report.unfired_rules = [r.id for r in rulebook.rules if r.id not in fired_anywhere]
        report.unreached = [
            (name, outcome)
            for level in rulebook.levels
            for name in level
            for outcome in rulebook.decisions[name].outcomes
            if (name, outcome) not in reached
        ]
    report.seconds = time.perf_counter() - started
    return report


def _disagreement(reference: Evaluation, engine: Evaluation) -> str:
    parts = []
    for name, outs in reference.outcomes.items():
        if engine.outcomes.get(name) != outs:
            parts.append(
                f"{name} {', '.join(engine.outcomes.get(name, ()))} (reference: {', '.join(outs)})"
            )
    if engine.fired != reference.fired:
        parts.append(
            f"fired {', '.join(engine.fired) or 'none'} (reference: "
            f"{', '.join(reference.fired) or 'none'})"
        )
    if engine.overruled != reference.overruled or engine.defaulted != reference.defaulted:
        parts.append("overruled or defaulted decisions differ")
    return "durable_rules engine disagrees with the reference evaluator: " + "; ".join(parts)


def _failure_lines(failure: RuleTestFailure) -> list[str]:
    test = failure.test
    lines = [f"{test.where}: FAILED: {test.name}"]
    lines += [f"  {problem}" for problem in failure.problems]
    if failure.outcomes:
        lines.append(
            "  concluded: " + "; ".join(f"{d} {', '.join(o)}" for d, o in failure.outcomes.items())
        )
    lines.append(f"  rules fired: {', '.join(failure.fired) or 'none'}")
    return lines


def format_report(report: RuleTestReport) -> str:
    """The report as a panel owner reads it: failures first, then a summary line."""
    lines: list[str] = []
    for failure in report.failures:
        lines += _failure_lines(failure)
    lines.append(_summary(report))
    if report.coverage:
        if report.unfired_rules:
            lines.append(
                f"coverage: {len(report.unfired_rules)} rules never fired in any test: "
                + ", ".join(report.unfired_rules)
            )
        if report.unreached:
            lines.append(
                f"coverage: {len(report.unreached)} outcomes never reached in any test: "
                + "; ".join(f"{d}: {o}" for d, o in report.unreached)
            )
        if not report.unfired_rules and not report.unreached:
            lines.append("coverage: every rule fired and every outcome reached")
    return "\n".join(lines)


def _summary(report: RuleTestReport) -> str:
    passed = len(report.tests) - len(report.failures)
    return (
        f"{len(report.tests)} tests: {passed} passed, {len(report.failures)} failed "
        f"({' and '.join(report.evaluators)})"
    )


def report_json(report: RuleTestReport) -> dict[str, Any]:
    """``rules test --format json``: every test with its result, then coverage."""
    failed = {id(f.test): f for f in report.failures}
    tests = []
    for test in report.tests:
        failure = failed.get(id(test))
        tests.append(
            {
                "name": test.name,
                "file": test.file,
                "line": line_and_cell(test.line)[0],  # a test of a workbook: its cell
                "cell": line_and_cell(test.line)[1],
                "passed": failure is None,
                "problems": list(failure.problems) if failure else [],
                "concluded": (
                    {d: list(o) for d, o in failure.outcomes.items()} if failure else None
                ),
                "fired": list(failure.fired) if failure else None,
            }
        )
    return {
        "ok": report.ok,
        "summary": _summary(report),
        "evaluators": list(report.evaluators),
        "counts": {
            "tests": len(report.tests),
            "passed": len(report.tests) - len(report.failures),
            "failed": len(report.failures),
        },
        "tests": tests,
        "coverage": (
            {
                "unfired_rules": list(report.unfired_rules),
                "unreached": [{"decision": d, "outcome": o} for d, o in report.unreached],
            }
            if report.coverage
            else None
        ),
    }


def junit_xml(report: RuleTestReport, suite: str = "talentrules rules test") -> bytes:
    """The report as JUnit XML, the format CI systems (Jenkins, GitLab, GitHub actions'
    reporters) read: one testcase per rule test, its file and line, a failure element
    with every unmet expectation; with --coverage, one more testcase for coverage.
    Only the suite has a time: the tests run through both evaluators in one pass."""
    failed = {id(f.test): f for f in report.failures}
    cases: list[ET.Element] = []
    for test in report.tests:
        line, cell = line_and_cell(test.line)
        # A test of a rulebook workbook has a cell, not a line: its sheet names the class
        # and the cell is a property (JUnit's line attribute is a number).
        group = Path(test.file).stem if cell is None else cell.split("!")[0]
        case = ET.Element(
            "testcase", classname=f"rules.tests.{group}", name=test.name, file=test.file
        )
        if cell is None:
            case.set("line", str(line))
        else:
            properties = ET.SubElement(case, "properties")
            ET.SubElement(properties, "property", name="cell", value=cell)
        failure = failed.get(id(test))
        if failure is not None:
            element = ET.SubElement(
                case, "failure", message=failure.problems[0], type="RuleTestFailure"
            )
            element.text = "\n".join(_failure_lines(failure))
        cases.append(case)
    if report.coverage:
        case = ET.Element("testcase", classname="rules.tests", name="coverage")
        gaps = [f"rule never fired: {r}" for r in report.unfired_rules] + [
            f"outcome never reached: {d}: {o}" for d, o in report.unreached
        ]
        if gaps:
            element = ET.SubElement(
                case, "failure", message=f"{len(gaps)} coverage gaps", type="CoverageGap"
            )
            element.text = "\n".join(gaps)
        cases.append(case)
    return _junit_document(suite, cases, report.seconds)


def junit_error_xml(message: str, suite: str = "talentrules rules test") -> bytes:
    """JUnit XML for a run that could not start (the rulebook or a test file does not
    load): one testcase in error with the message, so the CI shows why."""
    case = ET.Element("testcase", classname="rules.tests", name="load the rulebook")
    first = (message.splitlines() or [""])[0]
    error = ET.SubElement(case, "error", message=first, type="RulebookError")
    error.text = message
    return _junit_document(suite, [case], 0.0)


def _junit_document(suite: str, cases: list[ET.Element], seconds: float) -> bytes:
    attributes = {
        "name": suite,
        "tests": str(len(cases)),
        "failures": str(sum(case.find("failure") is not None for case in cases)),
        "errors": str(sum(case.find("error") is not None for case in cases)),
        "skipped": "0",
        "time": f"{seconds:.3f}",
    }
    root = ET.Element("testsuites", attributes)
    ET.SubElement(root, "testsuite", attributes).extend(cases)
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` beside ``path`` and rename it into place: a CI system never reads
    half a report, and a failed write leaves nothing (OutputError)."""
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as error:
        raise OutputError(f"{path}: cannot write here: {error.strerror or error}") from error
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputError(f"{path}: cannot write: {error.strerror or error}") from error
        raise


def run_folder(
    folder: str | Path | None, coverage: bool = False, with_engine: bool = True
) -> RuleTestReport:
    """Load the rulebook in ``folder`` and run its tests (the ``rules test`` command)."""
    files = open_rules(folder)
    rulebook = load_rulebook(files.path)
    tests = load_rule_tests(rulebook, files)
    if not with_engine:
        return run_rule_tests(rulebook, tests, None, coverage)
    with Engine(rulebook) as engine:
        return run_rule_tests(rulebook, tests, engine.evaluate, coverage)
