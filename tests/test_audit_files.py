"""`audit verify` and `audit fairness` on a folder from elsewhere (issue 12): only regular
files of bounded size are read; links, FIFOs and devices are refused by name; JSON is
strict and its nesting bounded; nothing hangs, nothing is a traceback.

The dangerous cases run the real CLI in a subprocess with a timeout, so that a
regression fails instead of hanging the suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from talentrules.cli import EXIT_AUDIT, cli
from talentrules.paths import sample_workbook
from talentrules.record import MAX_JSON_DEPTH, json_depth_within, strict_json

CLI = [sys.executable, "-c", "from talentrules.cli import cli; cli()"]


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("audit-files") / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(sample_workbook()), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def out(original: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(original, copy)
    return copy


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, "audit", *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def replace(path: Path, kind: str) -> None:
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:  # a link to a copy of itself: still not a file the run wrote
        path.symlink_to(path.parent / "elsewhere")


KINDS = {
    "fifo": "is a named pipe, not a regular file: not read",
    "dev-zero": "is a link, not a regular file: not read",
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("name", ["trace.jsonl", "recommendations.json", "briefs/00004.md"])
def test_verify_names_a_special_file_and_reads_on(out: Path, name: str, kind: str) -> None:
    replace(out / name, kind)
    done = audit("verify", str(out))
    assert done.returncode == EXIT_AUDIT
    assert f"FAIL: {name}: {KINDS[kind]}" in done.stdout, done.stdout
    assert "manifest.json sha256" in done.stdout


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("command", ["verify", "fairness"])
def test_a_special_manifest_is_one_sentence(out: Path, kind: str, command: str) -> None:
    replace(out / "manifest.json", kind)
    done = audit(command, str(out))
    assert done.returncode == 1
    assert done.stderr == f"Error: {out / 'manifest.json'}: {KINDS[kind]}\n"


@pytest.mark.parametrize("kind", list(KINDS))
def test_fairness_refuses_a_special_recommendations_json(out: Path, kind: str) -> None:
    replace(out / "recommendations.json", kind)
    done = audit("fairness", str(out))
    assert done.returncode == 1
    assert done.stderr == f"Error: {out / 'recommendations.json'}: {KINDS[kind]}\n"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("command", ["verify", "fairness"])
def test_a_deeply_nested_manifest_is_refused(out: Path, command: str) -> None:
    (out / "manifest.json").write_text(
        '{"manifest_version": 1, "deep": ' + nested(100_000) + "}", encoding="utf-8"
    )
    done = audit(command, str(out))
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: {out / 'manifest.json'}: cannot read the manifest: nested deeper than "
        f"{MAX_JSON_DEPTH} levels\n"
    )


def test_a_deeply_nested_trace_line_is_named(out: Path) -> None:
    trace = out / "trace.jsonl"
    lines = trace.read_text(encoding="utf-8").splitlines()
    lines[2] = '{"deep": ' + nested(100_000) + "}"
    trace.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = audit("verify", str(out))
    assert done.returncode == EXIT_AUDIT
    assert f"FAIL: trace.jsonl line 3: not JSON (nested deeper than {MAX_JSON_DEPTH} levels)" in (
        done.stdout
    )


def test_a_deeply_nested_recommendations_json_is_named(out: Path) -> None:
    (out / "recommendations.json").write_text('{"people": ' + nested(5_000) + "}")
    done = audit("verify", str(out))
    assert done.returncode == EXIT_AUDIT
    assert (
        f"FAIL: recommendations.json: cannot read: nested deeper than {MAX_JSON_DEPTH} levels"
        in done.stdout
    )


def test_nan_in_a_trace_line_is_not_strict_json(out: Path) -> None:
    trace = out / "trace.jsonl"
    lines = trace.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace('"chain":', '"budget":NaN,"chain":', 1)
    trace.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = audit("verify", str(out))
    assert done.returncode == EXIT_AUDIT
    assert "FAIL: trace.jsonl line 1: not JSON (NaN is not JSON): edited" in done.stdout


def test_trace_values_of_the_wrong_type_are_differences_not_tracebacks(out: Path) -> None:
    trace = out / "trace.jsonl"
    lines = trace.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["recommendation"] = ["not", "a", "mapping"]
    record["fired"] = {"rule": 3}
    lines[0] = json.dumps(record)
    trace.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = json.loads((out / "recommendations.json").read_text(encoding="utf-8"))
    data["people"][1]["allocation"] = ["x"]
    data["people"][2]["override"] = "nobody"
    (out / "recommendations.json").write_text(json.dumps(data), encoding="utf-8")
    done = audit("verify", str(out))
    assert done.returncode == EXIT_AUDIT and "FAIL: recommendations.json: employee" in done.stdout


def test_the_depth_check_counts_brackets_outside_strings_only() -> None:
    assert json_depth_within('{"a": "' + "[" * 1000 + '"}')
    assert json_depth_within(nested(MAX_JSON_DEPTH))
    assert not json_depth_within(nested(MAX_JSON_DEPTH + 1))
    assert not json_depth_within('{"a": [{"b": ' + nested(MAX_JSON_DEPTH) + "}]}")
    assert strict_json('{"a": "\\"[[["}') == {"a": '"[[['}
    with pytest.raises(ValueError, match="Infinity is not JSON"):
        strict_json('{"a": -Infinity}')


def test_a_clean_copy_still_verifies(out: Path) -> None:
    done = audit("verify", str(out), "--workbook", str(sample_workbook()))
    assert done.returncode == 0, done.stdout + done.stderr


def test_verify_refuses_a_fifo_as_the_workbook_to_replay(out: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "review.xlsx"
    os.mkfifo(fifo)
    done = audit("verify", str(out), "--workbook", str(fifo))
    assert done.returncode == 1
    assert done.stderr == (f"Error: {fifo}: is a named pipe, not a regular file: not read\n")
