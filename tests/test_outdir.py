"""OUTDIR (issue 12): --force deletes only what talentrules wrote; stopped runs leave
nothing behind and say so truthfully; killed runs' leftovers are cleared by the next
run; one run at a time per OUTDIR; every JSON output is strict JSON.

Signals are sent to real subprocesses running the real CLI; everything else runs the
CLI in-process on the shipped sample workbook or a generated one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from talentrules.cli import EXIT_OUTPUT, cli
from talentrules.paths import sample_workbook

ROOT = Path(__file__).resolve().parents[1]
CLI = [
    sys.executable,
    "-c",
    "import faulthandler, signal; faulthandler.register(signal.SIGUSR1, all_threads=True); "
    "from talentrules.cli import cli; cli()",
]


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def strict_json(text: str) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity, as strict parsers do."""

    def refuse(name: str) -> Any:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("outdir") / "out"
    result = run("evaluate", str(sample_workbook()), "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def beside(folder: Path) -> list[str]:
    """Everything in the folder that holds OUTDIR, hidden entries included."""
    return sorted(p.name for p in folder.parent.iterdir())


# -- strict JSON ---------------------------------------------------------------------------


def test_every_json_output_is_strict_json(sample_out: Path, tmp_path: Path) -> None:
    for name in ("recommendations.json", "manifest.json"):
        strict_json((sample_out / name).read_text(encoding="utf-8"))
    lines = (sample_out / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    people = strict_json((sample_out / "recommendations.json").read_text(encoding="utf-8"))
    assert len(lines) == len(people["people"]) > 0
    for line in lines:
        strict_json(line)
    validate = run("validate", str(sample_workbook()), "--format", "json")
    strict_json(validate.stdout)
    fairness = run("audit", "fairness", str(sample_out), "--format", "json")
    strict_json(fairness.stdout)


def test_the_json_writers_refuse_non_finite_numbers() -> None:
    from talentrules.audit import canonical

    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        canonical({"budget": float("nan")})


# -- --force deletes only what talentrules wrote ---------------------------------------------


@pytest.fixture
def earlier(sample_out: Path, tmp_path: Path) -> Path:
    """A copy of an earlier output, to be replaced."""
    out = tmp_path / "out"
    shutil.copytree(sample_out, out)
    return out


def evaluate(out: Path, *extra: str) -> Result:
    return run("evaluate", str(sample_workbook()), "-o", str(out), *extra)


def test_force_replaces_an_earlier_output_left_as_written(earlier: Path) -> None:
    first = (earlier / "manifest.json").read_text(encoding="utf-8")
    result = evaluate(earlier, "--force")
    assert result.exit_code == 0, result.output
    assert (earlier / "manifest.json").read_text(encoding="utf-8") != first
    assert beside(earlier) == ["out"]


def test_force_refuses_an_output_holding_a_file_of_the_users(earlier: Path) -> None:
    (earlier / "my_notes.txt").write_text("panel notes", encoding="utf-8")
    (earlier / "briefs" / "extra.md").write_text("mine", encoding="utf-8")
    (earlier / "drafts").mkdir()
    result = evaluate(earlier, "--force")
    assert result.exit_code == EXIT_OUTPUT
    assert result.stderr == (
        f"Error: {earlier}: not replaced: it holds files talentrules did not write "
        "(briefs/extra.md, drafts/, my_notes.txt); move them elsewhere, or choose another "
        "OUTDIR\n"
    )
    assert (earlier / "my_notes.txt").read_text(encoding="utf-8") == "panel notes"
    assert (earlier / "briefs" / "extra.md").exists() and (earlier / "drafts").is_dir()


def test_force_refuses_an_output_whose_files_were_changed(earlier: Path) -> None:
    (earlier / "summary.md").write_text("the panel's edits", encoding="utf-8")
    result = evaluate(earlier, "--force")
    assert result.exit_code == EXIT_OUTPUT
    assert "files changed since talentrules wrote them (summary.md)" in result.stderr
    assert (earlier / "summary.md").read_text(encoding="utf-8") == "the panel's edits"


@pytest.mark.parametrize(
    "contents",
    [
        {"recommendations.json": "{}", "thesis.docx": "years of work"},
        {"manifest.json": '{"name": "my-npm-package", "files": {}}', "index.js": ""},
        {"manifest.json": '{"manifest_version": 1, "files": {"a": NaN}}', "a": ""},
    ],
    ids=["a recommendations.json beside a thesis", "another tool's manifest", "not JSON"],
)
def test_a_folder_talentrules_did_not_write_is_never_replaced(
    tmp_path: Path, contents: dict[str, str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name, text in contents.items():
        (out / name).write_text(text, encoding="utf-8")
    result = evaluate(out, "--force")
    assert result.exit_code == EXIT_OUTPUT
    assert "it is not empty and holds no manifest.json of talentrules" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(contents)


def test_a_refused_run_leaves_no_new_folders(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "workbook.xlsx"
    result = run("evaluate", str(missing), "-o", str(tmp_path / "a" / "b" / "out"))
    assert result.exit_code == 1 and "no such file" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert evaluate(tmp_path / "a" / "b" / "out").exit_code == 0
    assert (tmp_path / "a" / "b" / "out" / "manifest.json").is_file()


def test_an_empty_folder_is_used_as_it_is(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert evaluate(out).exit_code == 0
    assert (out / "manifest.json").is_file()


def test_a_symlink_to_a_folder_is_a_folder(earlier: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(earlier, target_is_directory=True)
    result = evaluate(link, "--force")
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and (link / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "out"]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda t: (t / "out").write_text("x"), "exists and is not a folder"),
        (lambda t: (t / "file").write_text("x"), "cannot create its folder"),
        (lambda t: (t / "out").symlink_to(t / "nowhere"), "exists and is not a folder"),
    ],
    ids=["a file", "under a file", "a dangling link"],
)
def test_o_problems_exit_5_saying_what_is_wrong(tmp_path: Path, make: Any, words: str) -> None:
    make(tmp_path)
    out = tmp_path / "file" / "out" if words == "cannot create its folder" else tmp_path / "out"
    result = evaluate(out, "--force")
    assert result.exit_code == EXIT_OUTPUT, result.output
    assert result.stderr.startswith(f"Error: {out}: ") and words in result.stderr
    assert result.stderr.count("\n") == 1 and "Usage:" not in result.stderr


# -- stopped and killed runs ---------------------------------------------------------------


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated workbook and templates that make each brief take a few milliseconds,
    so that a run spends a few seconds with its temporary folder in place."""
    folder = tmp_path_factory.mktemp("slow")
    spec = importlib.util.spec_from_file_location(
        "make_workbook", ROOT / "benchmarks" / "make_workbook.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_workbook(folder / "people.xlsx", 600, seed=3)
    templates = folder / "templates"
    templates.mkdir()
    (templates / "brief.md.j2").write_text(
        '{% extends "default/brief.md.j2" %}{% block header %}{{ super() }}'
        "{% for i in range(30000) %}{% endfor %}{% endblock %}",
        encoding="utf-8",
    )
    return folder / "people.xlsx", templates


def start(args: list[str], stderr: Path) -> subprocess.Popen[bytes]:
    with open(stderr, "wb") as err:
        return subprocess.Popen(
            [*CLI, *args], stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )


def wait_for(condition: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def temporary(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.*"))


@pytest.fixture
def stopping(tmp_path: Path, slow: tuple[Path, Path]) -> Iterator[Any]:
    """Start a run into tmp_path/out with 2 jobs; wait until its temporary folder is
    being filled; hand back (process, out, stderr file)."""
    workbook, templates = slow
    out = tmp_path / "out"
    err = tmp_path / "stderr.txt"
    args = ["evaluate", str(workbook), "-o", str(out), "--templates", str(templates)]
    process = start([*args, "--jobs", "2"], err)
    try:

        def briefs_on_disk() -> bool:
            return any(any((t / "briefs").glob("*.md")) for t in out.parent.glob(".out.*.tmp"))

        wait_for(briefs_on_disk, "the temporary folder to fill")
        yield process, out, err
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize(
    ("signum", "how", "group"),
    [
        (signal.SIGINT, "Ctrl-C", True),  # the terminal sends it to the whole group
        (signal.SIGTERM, "SIGTERM", False),
        (signal.SIGHUP, "SIGHUP", True),
    ],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_a_stopped_run_removes_its_temporary_folder_and_says_so(
    stopping: Any, signum: int, how: str, group: bool
) -> None:
    process, out, err = stopping
    assert temporary(out)
    if group:
        os.killpg(process.pid, signum)
    else:
        os.kill(process.pid, signum)
    assert process.wait(timeout=60) == 128 + signum
    stderr = err.read_text(encoding="utf-8")
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    assert stderr.rstrip().endswith(
        f"stopped by {how}: nothing was written to {out}/ (the unfinished output was removed)"
    ), stderr
    assert beside(out) == ["stderr.txt"]


def test_a_stopped_run_under_format_json_says_so_in_json(
    tmp_path: Path, slow: tuple[Path, Path]
) -> None:
    # --format json (issue 15): stdout is one JSON document whatever happens, a stop too.
    workbook, templates = slow
    out, err, stdout = tmp_path / "out", tmp_path / "stderr.txt", tmp_path / "stdout.txt"
    args = ["evaluate", str(workbook), "-o", str(out), "--templates", str(templates)]
    with open(stdout, "wb") as sink, open(err, "wb") as errors:
        process = subprocess.Popen(
            [*CLI, *args, "--format", "json"],
            stdout=sink,
            stderr=errors,
            start_new_session=True,
        )
    try:
        wait_for(lambda: bool(temporary(out)), "the temporary folder")
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    error = json.loads(stdout.read_text(encoding="utf-8"))["error"]
    assert error["exit_code"] == 128 + signal.SIGTERM and error["kind"] == "stopped"
    assert error["message"] == (
        f"stopped by SIGTERM: nothing was written to {out}/ (the unfinished output was removed)"
    )
    assert err.read_text(encoding="utf-8").rstrip().endswith(error["message"])
    assert not out.exists()


def test_ctrl_c_in_the_engine_stage_gives_no_worker_traceback(
    tmp_path: Path, slow: tuple[Path, Path]
) -> None:
    workbook, _ = slow
    out = tmp_path / "out"
    err = tmp_path / "stderr.txt"
    process = start(["evaluate", str(workbook), "-o", str(out), "--jobs", "2"], err)
    try:
        wait_for(lambda: "evaluating" in err.read_text(encoding="utf-8"), "the engine stage")
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGUSR1)
            time.sleep(2)
            raise AssertionError(err.read_text(encoding="utf-8")) from None
        assert process.returncode == 130
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    stderr = err.read_text(encoding="utf-8")
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "BrokenPipeError" not in stderr
    assert f"stopped by Ctrl-C: nothing was written to {out}/" in stderr
    assert beside(out) == ["stderr.txt"]


def gone(group: int) -> bool:
    """No process of the group is left (the workers die a moment after the parent)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_killed_runs_leftovers_are_removed_by_the_next_run(stopping: Any) -> None:
    process, out, _ = stopping
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    wait_for(lambda: gone(process.pid), "the workers to end")
    left = [p for p in temporary(out) if p.name != ".out.lock"]  # a lock none holds
    assert [p.suffix for p in left] == [".tmp"], left
    left = left[0]
    assert (left / "briefs").is_dir()
    result = evaluate(out)
    assert result.exit_code == 0, result.output
    assert f"removed {left.name}, the unfinished output of an interrupted run\n" in result.stderr
    assert beside(out) == ["out", "stderr.txt"]


SWAP_KILLED = """
import os, signal, sys
real = os.replace
def replace(source, target):
    real(source, target)
    if str(target).endswith(".old/out"):  # the old output is aside, the new not yet in
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from talentrules.cli import EXIT_OUTPUT, cli
cli(sys.argv[1:])
"""


def test_a_run_killed_mid_swap_has_its_old_output_put_back(earlier: Path) -> None:
    before = (earlier / "manifest.json").read_text(encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SWAP_KILLED,
            "evaluate",
            str(sample_workbook()),
            "-o",
            str(earlier),
            "--force",
        ],
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL
    assert not earlier.exists()
    left = {p.suffix: p for p in temporary(earlier) if p.name != ".out.lock"}
    assert sorted(left) == [".old", ".tmp"], left  # the new output was not yet moved in
    aside = left[".old"]
    assert (aside / "out" / "manifest.json").is_file()
    # The next run puts it back, then refuses to replace it without --force.
    refused = evaluate(earlier)
    assert refused.exit_code == EXIT_OUTPUT
    assert "put back out/, left aside by an interrupted run" in refused.stderr
    assert "already exists; use --force" in refused.stderr
    assert (earlier / "manifest.json").read_text(encoding="utf-8") == before
    assert beside(earlier) == ["out"]


def test_a_second_run_into_the_same_outdir_is_refused(stopping: Any) -> None:
    process, out, err = stopping
    result = evaluate(out, "--force")
    assert result.exit_code == EXIT_OUTPUT
    assert result.stderr == (
        f"Error: {out}: another talentrules run is writing it (process {process.pid}); "
        "wait for it to finish, or choose another OUTDIR\n"
    )
    assert process.wait(timeout=120) == 0, err.read_text(encoding="utf-8")
    assert (out / "manifest.json").is_file() and beside(out) == ["out", "stderr.txt"]


def test_ctrl_c_after_publishing_says_the_output_is_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupt arrives while the old output is being removed: the new one is in."""
    from talentrules import outdir

    out = tmp_path / "out"
    assert evaluate(out).exit_code == 0
    real = outdir._remove_output

    def interrupted(folder: Path) -> list[str]:
        real(folder)
        raise KeyboardInterrupt

    monkeypatch.setattr(outdir, "_remove_output", interrupted)
    result = evaluate(out, "--force")
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith(
        f"stopped by Ctrl-C after {out}/ was written: the output is complete\n"
    )
    assert (out / "manifest.json").is_file()
    # The old output's folder was being removed: the next run finishes the job.
    monkeypatch.undo()
    (aside,) = [p for p in beside(out) if p != "out"]
    again = evaluate(out, "--force")
    assert again.exit_code == 0, again.output
    assert f"removed {aside}, an earlier output an interrupted run left" in again.stderr
    assert beside(out) == ["out"]
