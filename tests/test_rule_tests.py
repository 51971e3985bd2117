"""Rule tests: the file format, the runner (reference and durable engine), coverage, CLI."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from talentrules.cli import EXIT_OUTPUT, EXIT_RULES, cli
from talentrules.errors import RulebookError
from talentrules.paths import default_rules_dir
from talentrules.reference import evaluate
from talentrules.rulebook import Evaluation, Rulebook, load_rulebook
from talentrules.ruletests import (
    format_report,
    load_rule_tests,
    read_rule_tests,
    run_folder,
    run_rule_tests,
)

DECISIONS = """\
decisions:
  heart:
    policy: priority
    outcomes: [Strong, Emerging, "No"]
    default: "No"
    meaning: Heart.
  investment:
    policy: collect
    outcomes: [PROG, COACH, None]
    default: None
    meaning: Investments.
"""

RULES = """\
rules:
  - id: heart-strong
    decision: heart
    title: Strong
    rationale: Habitual.
    when:
      - H-DEV.episodes >= 3
    then: Strong
    priority: 30
  - id: heart-emerging
    decision: heart
    title: Emerging
    rationale: Some.
    when:
      - H-DEV.episodes >= 1
    then: Emerging
    priority: 20
  - id: invest-prog
    decision: investment
    title: Programme
    rationale: Strong and ready.
    when:
      - heart == Strong
      - readiness in (Ready now, Ready 1-2 years)
    then: PROG
  - id: invest-coach
    decision: investment
    title: Coach
    rationale: Derailers.
    when:
      - heart in (Strong, Emerging)
      - C-DER.episodes >= 1
    then: COACH
"""

PASSING = """\
tests:
  - name: strong and ready
    facts: {H-DEV.episodes: 4, readiness: Ready now}
    expect: {heart: Strong, investment: PROG}
    absent: {investment: [COACH, None]}
    fired: [heart-strong, heart-emerging]

  - name: emerging with derailers
    facts:
      H-DEV.episodes: 1
      C-DER.episodes: 2
    expect: {heart: Emerging, investment: [COACH]}
    not_fired: [heart-strong]
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    (rules / "tests").mkdir(parents=True)
    for name in ("vocabulary.yaml", "parameters.yaml", "signals.yaml"):
        shutil.copy(default_rules_dir() / name, rules / name)
    (rules / "decisions.yaml").write_text(DECISIONS)
    (rules / "rules.yaml").write_text(RULES)
    (rules / "tests" / "a.yaml").write_text(PASSING)
    return rules


def test_tests_are_read_with_their_lines_and_typed_facts(folder: Path) -> None:
    rb = load_rulebook(folder)
    tests = load_rule_tests(rb, folder)
    assert [(t.name, t.line) for t in tests] == [
        ("strong and ready", 2),
        ("emerging with derailers", 8),
    ]
    assert tests[0].where == f"{folder / 'tests' / 'a.yaml'}:2"
    assert tests[0].person.values["H-DEV.episodes"] == 4
    assert tests[0].person.values["readiness"] == "Ready now"
    assert tests[0].person.values["C-DER.episodes"] == 0  # counts default to 0
    assert tests[0].person.values["performance"] is None  # the rest to unknown
    assert tests[0].expect == {"heart": ("Strong",), "investment": ("PROG",)}
    assert tests[0].absent == {"investment": ("COACH", "None")}
    assert tests[1].not_fired == ("heart-strong",)


def test_passing_tests_through_both_evaluators(folder: Path) -> None:
    report = run_folder(folder)
    assert report.ok, format_report(report)
    assert report.evaluators == ("reference evaluator", "durable_rules engine")
    assert format_report(report).endswith(
        "2 tests: 2 passed, 0 failed (reference evaluator and durable_rules engine)"
    )


def test_a_failing_test_names_file_line_expected_actual_and_fired(folder: Path) -> None:
    (folder / "tests" / "b.yaml").write_text(
        "# a wrong expectation\n"
        "tests:\n"
        "  - name: wrong verdict\n"
        "    facts: {H-DEV.episodes: 2}\n"
        "    expect: {heart: Strong}\n"
        "    absent: {investment: None}\n"
        "    fired: [invest-coach]\n"
    )
    report = run_folder(folder)
    assert not report.ok
    (failure,) = report.failures
    assert failure.test.name == "wrong verdict"
    text = format_report(report)
    assert f"{folder / 'tests' / 'b.yaml'}:3: FAILED: wrong verdict" in text
    assert "heart: expected Strong, got Emerging" in text
    assert "investment: expected not None, got None" in text
    assert "rule invest-coach: expected to fire, did not" in text
    assert "rules fired: heart-emerging" in text
    assert "3 tests: 2 passed, 1 failed" in text


def test_the_engine_must_agree_with_the_reference(folder: Path) -> None:
    rb = load_rulebook(folder)
    tests = load_rule_tests(rb, folder)

    def wrong_engine(person: object) -> Evaluation:
        right = evaluate(rb, person)  # type: ignore[arg-type]
        return Evaluation(right.employee_id, {**right.outcomes, "heart": ("No",)}, (), {}, ())

    report = run_rule_tests(rb, tests, wrong_engine)
    assert len(report.failures) == 2
    assert "durable_rules engine disagrees" in report.failures[0].problems[0]
    assert "heart No (reference: Strong)" in report.failures[0].problems[0]


def test_coverage_lists_rules_never_fired_and_outcomes_never_reached(folder: Path) -> None:
    report = run_folder(folder, coverage=True, with_engine=False)
    assert not report.ok
    assert report.unfired_rules == []
    assert report.unreached == [("heart", "No"), ("investment", "None")]
    (folder / "tests" / "c.yaml").write_text(
        "tests:\n  - name: nobody\n    expect: {heart: 'No', investment: None}\n"
    )
    report = run_folder(folder, coverage=True, with_engine=False)
    assert report.ok, format_report(report)
    assert "coverage: every rule fired and every outcome reached" in format_report(report)
    # Without coverage, gaps alone do not fail.
    (folder / "tests" / "c.yaml").unlink()
    (folder / "tests" / "a.yaml").write_text(PASSING.split("\n  - name: emerging")[0] + "\n")
    report = run_folder(folder, coverage=False, with_engine=False)
    assert report.ok
    report = run_folder(folder, coverage=True, with_engine=False)
    assert report.unfired_rules == ["invest-coach"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "tests:\n  - name: x\n    facts: {H-DEV.episode: 1}\n    expect: {heart: Strong}\n",
            r"b.yaml:3: unknown fact 'H-DEV.episode'; did you mean 'H-DEV.episodes'",
        ),
        (
            "tests:\n  - name: x\n    facts: {readiness: Soon}\n    expect: {heart: Strong}\n",
            r"b.yaml:3: readiness is one of",
        ),
        ("tests:\n  - name: x\n    expect: {hart: Strong}\n", r"b.yaml:3: unknown decision 'hart'"),
        (
            "tests:\n  - name: x\n    expect: {heart: Great}\n",
            r"b.yaml:3: 'Great' is not an outcome of heart",
        ),
        (
            "tests:\n  - name: x\n    expect: {heart: [Strong, Emerging]}\n",
            r"b.yaml:3: heart is a priority decision: expect exactly one outcome",
        ),
        ("tests:\n  - name: x\n    fired: [nope]\n", r"b.yaml:3: unknown rule 'nope'"),
        (
            "tests:\n  - name: x\n    expected: {heart: Strong}\n",
            r"b.yaml:3: unknown key 'expected'",
        ),
        ("tests:\n  - name: x\n    facts: {}\n", r"b.yaml:2: test 'x' expects nothing"),
        ("tests:\n  - facts: {}\n", r"b.yaml:2: the test has no name"),
        ("tests: [\n", r"b.yaml: not valid YAML"),
        ("rules: []\n", r"b.yaml:1: expected a top-level 'tests:' list"),
        (
            "tests:\n  - name: strong and ready\n    expect: {heart: Strong}\n",
            r"b.yaml:2: test name 'strong and ready' is also used at .*a.yaml:2",
        ),
    ],
    ids=[
        "unknown-fact",
        "bad-enum",
        "unknown-decision",
        "unknown-outcome",
        "two-outcomes",
        "unknown-rule",
        "unknown-key",
        "expects-nothing",
        "no-name",
        "bad-yaml",
        "no-tests",
        "duplicate-name",
    ],
)
def test_bad_test_files_are_refused_with_file_and_line(
    folder: Path, text: str, message: str
) -> None:
    (folder / "tests" / "b.yaml").write_text(text)
    with pytest.raises(RulebookError, match=message):
        load_rule_tests(load_rulebook(folder), folder)


def test_outcome_names_are_read_as_written(folder: Path) -> None:
    # YAML would read a bare No as false; an outcome named No must stay "No".
    path = folder / "tests" / "b.yaml"
    path.write_text("tests:\n  - name: x\n    expect: {heart: No}\n")
    rb: Rulebook = load_rulebook(folder)
    (test,) = read_rule_tests(rb, path)
    assert test.expect == {"heart": ("No",)}


def test_cli_rules_test(folder: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["rules", "test", str(folder)])
    assert result.exit_code == 0, result.output
    assert "2 tests: 2 passed, 0 failed" in result.output
    result = runner.invoke(cli, ["rules", "test", str(folder), "--coverage"])
    assert result.exit_code == EXIT_RULES, result.output
    assert "coverage: 2 outcomes never reached in any test: heart: No; investment: None" in (
        result.output
    )
    (folder / "tests" / "b.yaml").write_text("tests:\n  - name: x\n    expect: {hart: No}\n")
    result = runner.invoke(cli, ["rules", "test", str(folder)])
    assert result.exit_code == EXIT_RULES
    assert "unknown decision 'hart'" in result.output


def test_the_default_rulebook_passes_its_own_tests() -> None:
    report = run_folder(default_rules_dir(), with_engine=False)
    assert report.tests, "the default rulebook has rule tests"
    assert report.ok, format_report(report)


FAILING = """\
tests:
  - name: strong but expected emerging
    facts: {H-DEV.episodes: 4, readiness: Ready now}
    expect: {heart: Emerging}
"""


def test_json_report_lists_every_test_with_its_result(folder: Path) -> None:
    (folder / "tests" / "b.yaml").write_text(FAILING)
    result = CliRunner().invoke(cli, ["rules", "test", str(folder), "--format", "json"])
    assert result.exit_code == EXIT_RULES, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["counts"] == {"tests": 3, "passed": 2, "failed": 1}
    assert data["evaluators"] == ["reference evaluator", "durable_rules engine"]
    failed = [t for t in data["tests"] if not t["passed"]]
    assert [(t["name"], Path(t["file"]).name, t["line"]) for t in failed] == [
        ("strong but expected emerging", "b.yaml", 2)
    ]
    assert failed[0]["problems"] == ["heart: expected Emerging, got Strong"]
    assert failed[0]["concluded"]["heart"] == ["Strong"]
    assert "heart-strong" in failed[0]["fired"]
    assert data["coverage"] is None


def test_junit_xml_is_what_a_ci_system_reads(folder: Path, tmp_path: Path) -> None:
    (folder / "tests" / "b.yaml").write_text(FAILING)
    junit = tmp_path / "reports" / "rules.xml"
    junit.parent.mkdir()
    result = CliRunner().invoke(
        cli, ["rules", "test", str(folder), "--coverage", "--junit", str(junit)]
    )
    assert result.exit_code == EXIT_RULES, result.output
    assert "FAILED: strong but expected emerging" in result.stdout  # text as before
    # The shape Jenkins' and GitLab's JUnit readers take (pytest --junitxml writes the
    # same): testsuites > testsuite(tests, failures, errors, skipped, time) > testcase.
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "strong and ready",
        "emerging with derailers",
        "strong but expected emerging",
        "coverage",
    ]
    assert suite.get("tests") == "4" and suite.get("failures") == "2"
    assert suite.get("errors") == "0" and suite.get("skipped") == "0"
    assert float(suite.get("time", "x")) >= 0
    failed = cases[2]
    assert failed.get("classname") == "rules.tests.b"
    assert Path(failed.get("file", "")).name == "b.yaml" and failed.get("line") == "2"
    failure = failed.find("failure")
    assert failure is not None
    assert failure.get("message") == "heart: expected Emerging, got Strong"
    assert "rules fired: heart-strong" in (failure.text or "")
    assert cases[0].find("failure") is None
    gaps = cases[3].find("failure")
    assert gaps is not None and "outcome never reached: heart: No" in (gaps.text or "")
    assert [p.name for p in junit.parent.iterdir()] == ["rules.xml"]  # no temporary left


def test_junit_xml_shows_a_rulebook_that_will_not_load(folder: Path, tmp_path: Path) -> None:
    (folder / "tests" / "b.yaml").write_text("tests:\n  - name: x\n    expect: {hart: No}\n")
    junit = tmp_path / "rules.xml"
    result = CliRunner().invoke(cli, ["rules", "test", str(folder), "--junit", str(junit)])
    assert result.exit_code == EXIT_RULES
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1" and suite.get("tests") == "1"
    error = suite.find("testcase/error")
    assert error is not None and "unknown decision 'hart'" in (error.get("message") or "")


def test_junit_into_a_missing_folder_is_an_output_error(folder: Path, tmp_path: Path) -> None:
    junit = tmp_path / "no" / "such" / "rules.xml"
    result = CliRunner().invoke(cli, ["rules", "test", str(folder), "--junit", str(junit)])
    assert result.exit_code == EXIT_OUTPUT, result.output
    assert "cannot write here" in result.stderr and not junit.parent.exists()
