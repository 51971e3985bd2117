"""explain --set: a person's decisions with facts or parameters changed, beside the real."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from talentrules.cli import cli
from talentrules.errors import SettingError
from talentrules.paths import default_rules_dir, sample_workbook
from talentrules.rulexlsx import export_rulebook
from talentrules.run import RunResult, evaluate_workbook
from talentrules.whatif import what_if


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def sample() -> RunResult:
    return evaluate_workbook(sample_workbook())


def test_a_parameter_what_if_is_what_a_run_with_that_parameter_decides(
    sample: RunResult, tmp_path: Path
) -> None:
    report = what_if("00001", sample_workbook(), ["$habit_months=18"], result=sample)
    rules = Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))
    text = (rules / "parameters.yaml").read_text(encoding="utf-8")
    (rules / "parameters.yaml").write_text(
        text.replace("  habit_months:\n    value: 12\n", "  habit_months:\n    value: 18\n"),
        encoding="utf-8",
    )
    rerun = evaluate_workbook(sample_workbook(), rules).result("00001").evaluation
    assert {m.decision: m.changed for m in report.decisions} == rerun.outcomes
    assert report.changes[0].name == "$habit_months" and report.changes[0].real == "12"
    moved = {m.decision for m in report.decisions if m.moved}
    assert {"habitual", "heart"} <= moved
    assert "heart-strong" in report.no_longer_fire


def test_a_stale_months_what_if_derives_the_evidence_facts_again(sample: RunResult) -> None:
    report = what_if("00001", sample_workbook(), ["$stale_months=3"], result=sample)
    derived = {c.name: c for c in report.changes if not c.given}
    assert "evidence.observed" in derived and "evidence.stale_observed" in derived
    assert int(derived["evidence.observed"].changed) < int(derived["evidence.observed"].real)


def test_explain_set_shows_changed_facts_beside_the_real_and_what_moved() -> None:
    code, stdout, stderr = run(
        "explain",
        "00001",
        str(sample_workbook()),
        "--set",
        "readiness=Not ready",
        "--set",
        "$habit_months=18",
    )
    assert code == 0, stdout + stderr
    lines = stdout.splitlines()
    assert lines[0] == "What if, for 00001 Amara Okafor (panel_review.xlsx),"
    assert any(line.split() == ["$habit_months", "12", "18"] for line in lines)
    assert any(line.split()[:1] == ["readiness"] and line.endswith("Not ready") for line in lines)
    heart = next(line for line in lines if line.startswith("  Heart for leadership"))
    assert heart.split()[3:] == ["Strong", "Emerging", "<-", "moved"]
    assert "decisions moved." in stdout and "A what-if records nothing" in stdout
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)


def test_a_change_that_moves_nothing_says_so(sample: RunResult) -> None:
    report = what_if("00001", sample_workbook(), ["current_track=Expert"], result=sample)
    assert not any(m.moved for m in report.decisions)
    code, stdout, stderr = run(
        "explain", "00001", str(sample_workbook()), "--set", "current_track=Expert"
    )
    assert "No decision moved." in stdout


def test_unknown_is_written_empty(sample: RunResult) -> None:
    report = what_if("00001", sample_workbook(), ["potential="], result=sample)
    assert [(c.name, c.changed) for c in report.changes] == [("potential", "unknown")]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "readyness=Ready now",
            "no fact 'readyness' in the rulebook's vocabulary; did you mean 'readiness'",
        ),
        ("heart=Strong", "'heart' is a decision, decided by its rules"),
        ("performance=7", "outside the range of 'performance' \\[1, 5\\]"),
        ("performance=high", "'performance' is a number; 'high' is text"),
        (
            "readiness=Ready soon",
            "'Ready soon' is not a value of 'readiness'.*did you mean 'Ready now'",
        ),
        ("is_people_manager=maybe", "'is_people_manager' is a boolean"),
        ("H-DEV.episodes=2.5", "'H-DEV.episodes' is a whole number"),
        (
            "$habit_mnths=3",
            "no parameter 'habit_mnths' in the rulebook; did you mean '\\$habit_months'",
        ),
        ("$habit_months=soon", "a parameter's value is a number"),
        ("readiness", "write FACT=VALUE"),
    ],
)
def test_a_setting_is_checked_against_the_rulebook(
    sample: RunResult, setting: str, message: str
) -> None:
    with pytest.raises(SettingError, match=message):
        what_if("00001", sample_workbook(), [setting], result=sample)


def test_a_bad_setting_is_a_usage_error_not_a_rulebook_problem() -> None:
    code, stdout, stderr = run(
        "explain", "00001", str(sample_workbook()), "--set", "readiness=Ready soon"
    )
    assert code == 2 and "--set readiness=Ready soon: 'Ready soon' is not a value" in stderr
    assert "Traceback" not in stderr
    code, stdout, stderr = run(
        "explain", "00001", str(sample_workbook()), "--set", "nosuch=1", "--format", "json"
    )
    error = json.loads(stdout)["error"]
    assert code == 2 and error["exit_code"] == 2 and error["kind"] == "usage"


def test_setting_twice_and_unknown_people_are_refused(sample: RunResult) -> None:
    with pytest.raises(SettingError, match="given twice"):
        what_if("00001", sample_workbook(), ["potential=1", "potential=2"], result=sample)
    code, stdout, stderr = run("explain", "99999", str(sample_workbook()), "--set", "potential=1")
    assert code == 1 and "no evaluated person has employee_id '99999'" in stderr


def test_explain_set_with_format_json_prints_the_what_if_as_data(sample: RunResult) -> None:
    args = ["explain", "00001", str(sample_workbook()), "--set", "$habit_months=18"]
    code, stdout, stderr = run(*args, "--format", "json")
    assert code == 0, stderr
    expected = what_if("00001", sample_workbook(), ["$habit_months=18"], result=sample)
    assert json.loads(stdout) == json.loads(json.dumps(expected.as_json()))
    assert any(d["moved"] for d in json.loads(stdout)["decisions"])
    # A refusal is JSON too (issue 15): a setting the rulebook does not know.
    code, stdout, _ = run(*args[:-1], "nonsense=1", "--format", "json")
    error = json.loads(stdout)["error"]
    assert code != 0 and error["exit_code"] == code and "nonsense" in error["message"]


def test_what_if_with_a_rulebook_workbook(tmp_path: Path) -> None:
    book = export_rulebook(None, tmp_path / "rulebook.xlsx")
    code, stdout, stderr = run(
        "explain",
        "00001",
        str(sample_workbook()),
        "--rules",
        str(book),
        "--set",
        "$habit_months=18",
    )
    assert code == 0, stdout + stderr
    assert "Heart for leadership" in stdout and "<- moved" in stdout
