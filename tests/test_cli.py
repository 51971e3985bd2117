"""The CLI as a whole: every command has help ending with an example, the version,
``python -m talentrules``, and the clear refusal of an unverified Python."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import talentrules
from talentrules import UNVERIFIED_PYTHON_VARIABLE, __version__, errors
from talentrules.cli import (
    EXIT_AUDIT,
    EXIT_ENGINE,
    EXIT_INPUT,
    EXIT_OUTPUT,
    EXIT_RULES,
    EXIT_USAGE,
    cli,
    exit_status,
)
from talentrules.paths import sample_workbook


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


COMMANDS = _commands(cli)


def test_the_commands_issues_promise_exist() -> None:
    for path in [("validate",), ("template",), ("evaluate",), ("explain",), ("rules", "check")]:
        assert path in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_has_help_ending_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    description = result.output.split("\nOptions:")[0].strip()
    last_paragraph = description.split("\n\n")[-1].strip()
    assert last_paragraph.startswith("Example: talentrules "), (path, last_paragraph)


def test_version_has_one_source() -> None:
    # pyproject.toml reads __version__ (hatch's dynamic version); --version prints it.
    assert importlib.metadata.version("talentrules") == __version__
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    expected = f"talentrules {__version__} (durable-rules 2.0.28+talentrules.1, Python "
    assert result.output.startswith(expected)
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert "\nversion =" not in pyproject


def test_the_package_says_it_is_typed() -> None:
    # PEP 561: mypy users of the library get its hints (.ci/run checks the wheel has it).
    assert (Path(talentrules.__file__).parent / "py.typed").is_file()


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "talentrules", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "talent review panels" in done.stdout


def _import_as_python(version: tuple[int, int], **env: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.version_info = ({version[0]}, {version[1]}, 0, 'final', 0); " + (
        "import talentrules"
    )
    environ = {k: v for k, v in os.environ.items() if k != UNVERIFIED_PYTHON_VARIABLE}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ | env
    )


def test_an_unverified_python_is_refused_in_plain_words_with_a_way_on() -> None:
    done = _import_as_python((3, 14))
    assert done.returncode != 0
    assert "talentrules is verified on Python 3.11, 3.12 and 3.13, not 3.14" in done.stderr
    assert f"{UNVERIFIED_PYTHON_VARIABLE}=1" in done.stderr
    # The way on: the variable lets a newer Python import it, to be tested.
    assert _import_as_python((3, 14), **{UNVERIFIED_PYTHON_VARIABLE: "1"}).returncode == 0
    # ...but never an older one, which lacks what the code uses.
    older = _import_as_python((3, 10), **{UNVERIFIED_PYTHON_VARIABLE: "1"})
    assert "not 3.10" in older.stderr


@pytest.mark.parametrize("version", [(3, 11), (3, 12), (3, 13)], ids=str)
def test_the_verified_pythons_import(version: tuple[int, int]) -> None:
    done = _import_as_python(version)
    assert done.returncode == 0, done.stderr


def test_the_engine_is_the_vendored_patched_build() -> None:
    # Built from vendor/durable_rules on every Python, 3.13 included: the C extension
    # imports, and the installed metadata is the patched copy, not PyPI's release.
    import durable_rules_engine

    assert importlib.metadata.version("durable-rules") == "2.0.28+talentrules.1"
    assert durable_rules_engine.create_ruleset


def test_usage_errors_exit_2() -> None:
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 2


# --------------------------------------------------------------------------------------
# Exit statuses and JSON on stdout, whatever happens
# --------------------------------------------------------------------------------------

BAD_RULES = Path(__file__).parent / "rulebooks" / "cycle"  # a rulebook with an error
RULES = Path(__file__).parent.parent / "rules"  # the default rulebook, sound
# A rulebook whose words (vocabulary.yaml) will not load: validate reads its signals.
BAD_WORDS = Path(__file__).parent / "rulebooks" / "missing-vocabulary"
SAMPLE = str(sample_workbook())
BROKEN = str(sample_workbook("panel_review_broken.xlsx"))

# (id, arguments with the places below filled in ({text}, {missing}, {empty}, {full},
# {record}, {out}), status, error kind; kind None: the command's own JSON report, whose
# verdict is false)
REFUSALS: list[tuple[str, list[str], int, str | None]] = [
    ("validate-not-a-workbook", ["validate", "{text}"], EXIT_INPUT, "input"),
    ("validate-missing-file", ["validate", "{missing}"], EXIT_INPUT, "input"),
    ("validate-errors", ["validate", BROKEN], EXIT_INPUT, None),
    ("validate-bad-rules", ["validate", SAMPLE, "--rules", str(BAD_WORDS)], EXIT_RULES,
     "rulebook"),
    ("evaluate-not-a-workbook", ["evaluate", "{text}", "-o", "{out}"], EXIT_INPUT, "input"),
    ("evaluate-errors", ["evaluate", BROKEN, "-o", "{out}"], EXIT_INPUT, "input"),
    ("evaluate-bad-rules", ["evaluate", SAMPLE, "-o", "{out}", "--rules", str(BAD_RULES)],
     EXIT_RULES, "rulebook"),
    ("evaluate-outdir-exists", ["evaluate", SAMPLE, "-o", "{full}"], EXIT_OUTPUT, "output"),
    ("evaluate-no-outdir", ["evaluate", SAMPLE], EXIT_USAGE, "usage"),
    ("explain-unknown-person", ["explain", "99999", SAMPLE], EXIT_INPUT, "input"),
    ("explain-missing-file", ["explain", "00001", "{missing}"], EXIT_INPUT, "input"),
    ("rules-check-bad-rules", ["rules", "check", str(BAD_RULES)], EXIT_RULES, None),
    ("rules-check-missing-folder", ["rules", "check", "{missing}"], EXIT_USAGE, "usage"),
    ("rules-test-bad-rules", ["rules", "test", str(BAD_RULES)], EXIT_RULES, "rulebook"),
    ("audit-verify-not-an-output", ["audit", "verify", "{empty}"], EXIT_INPUT, "input"),
    ("audit-verify-rules-alone", ["audit", "verify", "{empty}", "--rules", str(BAD_RULES)],
     EXIT_USAGE, "usage"),
    ("audit-diff-not-a-workbook", ["audit", "diff", "{text}", "--rules-a", str(RULES),
     "--rules-b", str(RULES)], EXIT_INPUT, "input"),
    ("audit-diff-bad-rules", ["audit", "diff", SAMPLE, "--rules-a", str(RULES),
     "--rules-b", str(BAD_RULES)], EXIT_RULES, "rulebook"),
    ("audit-fairness-not-a-workbook", ["audit", "fairness", "{text}"], EXIT_INPUT, "input"),
    ("audit-fairness-rules-with-outdir", ["audit", "fairness", "{record}", "--rules",
     str(BAD_RULES)], EXIT_USAGE, "usage"),
    ("audit-fairness-workbook-with-workbook", ["audit", "fairness", SAMPLE, "--workbook",
     SAMPLE], EXIT_USAGE, "usage"),
]  # fmt: skip


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    # A folder in use (an empty one is a fine OUTDIR).
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("the panel's notes\n", encoding="utf-8")
    # An OUTDIR as audit tells one from a folder of CSV files: it holds a manifest.
    (tmp_path / "record").mkdir()
    (tmp_path / "record" / "manifest.json").write_text("{}", encoding="utf-8")
    return {
        "text": str(text),
        "missing": str(tmp_path / "missing.xlsx"),
        "empty": str(tmp_path / "empty"),
        "full": str(tmp_path / "full"),
        "record": str(tmp_path / "record"),
        "out": str(tmp_path / "out"),
    }


@pytest.mark.parametrize(
    ("args", "status", "kind"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_every_refusal_is_json_on_stdout_with_its_exit_status(
    args: list[str], status: int, kind: str | None, places: dict[str, str]
) -> None:
    filled = [a.format(**places) for a in args]
    result = CliRunner().invoke(cli, [*filled, "--format", "json"])
    assert result.exit_code == status, result.output
    data = json.loads(result.stdout)  # one JSON document, nothing else
    if kind is None:
        assert data["ok"] is False
    else:
        assert data["error"]["exit_code"] == status
        assert data["error"]["kind"] == kind
        assert data["error"]["message"] and data["error"]["type"]  # e.g. WorkbookError
        assert data["error"]["message"].split("\n")[0] in result.stderr  # people see it too
    assert not Path(places["out"]).exists()


@pytest.mark.parametrize(
    ("args", "status"), [(r[1], r[2]) for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_text_refusals_have_the_same_status_and_no_traceback(
    args: list[str], status: int, places: dict[str, str]
) -> None:
    result = CliRunner().invoke(cli, [a.format(**places) for a in args])
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_explain_refuses_templates_it_would_not_use(tmp_path: Path) -> None:
    args = ["explain", "00001", SAMPLE, "--templates", str(tmp_path), "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == EXIT_USAGE
    assert json.loads(result.stdout)["error"]["kind"] == "usage"
    assert "--templates shapes the text" in result.stderr


def test_json_on_stdout_through_a_real_process(tmp_path: Path) -> None:
    notes = tmp_path / "notes.xlsx"
    notes.write_text("hello", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "talentrules", "validate", str(notes), "--format=json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == EXIT_INPUT
    assert json.loads(done.stdout)["error"]["kind"] == "input"
    assert "not an Excel workbook" in done.stderr


def test_a_real_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import talentrules.ingest

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(talentrules.ingest, "load_workbook", broken)
    result = CliRunner().invoke(cli, ["validate", SAMPLE, "--format", "json"])
    assert isinstance(result.exception, ZeroDivisionError)  # not mapped to a status


def test_every_error_class_has_an_exit_status() -> None:
    kinds = {
        errors.WorkbookError: EXIT_INPUT,
        errors.ValidationError: EXIT_INPUT,
        errors.UnknownPersonError: EXIT_INPUT,
        errors.AuditError: EXIT_INPUT,
        errors.SessionError: EXIT_INPUT,
        errors.SettingError: EXIT_USAGE,
        errors.RulebookError: EXIT_RULES,
        errors.RuleConflictError: EXIT_RULES,
        errors.OutputError: EXIT_OUTPUT,
        errors.EngineError: EXIT_ENGINE,
    }
    declared = {
        c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)
    }
    assert declared - {errors.TalentRulesError} == set(kinds)  # a new class: add it here
    for kind, status in kinds.items():
        assert exit_status(kind("x"))[0] == status
    assert len({EXIT_INPUT, EXIT_USAGE, EXIT_RULES, EXIT_AUDIT, EXIT_OUTPUT, EXIT_ENGINE}) == 6


def test_exit_statuses_are_in_the_top_level_help() -> None:
    result = CliRunner().invoke(cli, ["--help"], terminal_width=200)
    help_text = " ".join(result.output.split())
    for status, words in [
        (1, "an input refused"),
        (2, "bad arguments"),
        (3, "a rulebook problem"),
        (4, "`audit verify` found a mismatch"),
        (5, "the outputs could not be written"),
        (6, "the rule engine failed"),
        ("128 + N", "evaluate stopped by signal N"),
    ]:
        assert f"{status} {words}" in help_text


def test_json_results(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(cli, ["evaluate", SAMPLE, "-o", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ok"] is True and summary["people"] == 45
    assert summary["rejected_rows"] == 0 and summary["outdir"] == str(out.absolute())
    assert {"manifest.json", "trace.jsonl", "briefs/", "summary.html"} <= set(summary["files"])
    # Which rulebook ran, as the text closing line and the manifest name it.
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert summary["rulebook"] == {
        "path": manifest["rulebook"]["path"],
        "sha256": manifest["rulebook"]["sha256"],
    }

    result = runner.invoke(cli, ["rules", "check", "--format", "json"])
    assert result.exit_code == 0, result.output
    check = json.loads(result.stdout)
    assert check["ok"] is True and check["counts"]["errors"] == 0
    assert check["summary"].endswith("no errors") or "no errors," in check["summary"]

    result = runner.invoke(cli, ["audit", "verify", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    verified = json.loads(result.stdout)
    assert verified["ok"] is True and verified["problems"] == [] and verified["checked"]
    assert len(verified["manifest_sha256"]) == 64

    result = runner.invoke(cli, ["explain", "00004", SAMPLE, "--format", "json"])
    assert result.exit_code == 0, result.output
    trace = json.loads(result.stdout)
    # The person's trace.jsonl line, but for the chain.
    line = (out / "trace.jsonl").read_text(encoding="utf-8").splitlines()[3]
    assert trace == {k: v for k, v in json.loads(line).items() if k != "chain"}


def test_rules_check_json_lists_each_diagnostic_with_its_place() -> None:
    result = CliRunner().invoke(cli, ["rules", "check", str(BAD_RULES), "--format", "json"])
    assert result.exit_code == EXIT_RULES
    data = json.loads(result.stdout)
    # The cycle, and three facts its vocabulary declares that no workbook column
    # computes (evaluate would refuse them, so rules check does too).
    # And a warning: the vocabulary names no fact for any place of a brief.
    briefs = [d for d in data["diagnostics"] if d["message"].startswith("briefs: no fact named")]
    assert [(d["severity"], d["line"]) for d in briefs] == [("warning", 1)]
    assert data["ok"] is False and data["counts"]["errors"] == 4 == len(data["diagnostics"]) - 1
    cycle, *uncomputed = [d for d in data["diagnostics"] if d not in briefs]
    assert cycle["checker"] == "language" and cycle["severity"] == "error"
    assert cycle["file"].endswith("rules.yaml") and cycle["line"] == 14
    assert cycle["rule"] == "track-from-heart" and "cycle" in cycle["message"]
    assert [(d["file"], d["line"], d["rule"]) for d in uncomputed] == [
        ("cycle/vocabulary.yaml", 4, None),
        ("cycle/vocabulary.yaml", 10, None),
        ("cycle/vocabulary.yaml", 11, None),
    ]
    assert all("is not one talentrules computes" in d["message"] for d in uncomputed)
    assert result.stderr == ""  # all of it is in the JSON
    text = CliRunner().invoke(cli, ["rules", "check", str(BAD_RULES)])
    assert [d["text"] for d in data["diagnostics"]] == text.stderr.splitlines()
