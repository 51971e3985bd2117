"""--jobs on a system without fork: workers are spawned, and the outputs are the
same, byte for byte, as with fork and with one process. Forced on Linux with
TALENTRULES_START_METHOD=spawn."""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import subprocess
import sys
from multiprocessing.context import BaseContext
from pathlib import Path

import pytest

from talentrules import processes
from talentrules.report import write_outputs
from talentrules.run import evaluate_workbook

ROOT = Path(__file__).resolve().parent.parent
COMPARED = ("recommendations.json", "trace.jsonl", "summary.md", "summary.html")


@pytest.mark.parametrize(
    ("platform", "methods", "asked", "expected"),
    [
        ("linux", ["fork", "spawn", "forkserver"], None, "fork"),
        ("win32", ["spawn"], None, "spawn"),
        ("darwin", ["fork", "spawn", "forkserver"], None, "spawn"),
        ("linux", ["fork", "spawn"], "spawn", "spawn"),
        ("darwin", ["fork", "spawn"], "fork", "fork"),
        ("win32", ["spawn"], "fork", "spawn"),  # cannot fork where there is none
    ],
)
def test_the_start_method(
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    methods: list[str],
    asked: str | None,
    expected: str,
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: methods)
    if asked is None:
        monkeypatch.delenv(processes.START_METHOD_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(processes.START_METHOD_VARIABLE, asked)
    assert processes.start_method() == expected


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 250 people: enough for two engine workers (50 each) and two brief writers (100).
    spec = importlib.util.spec_from_file_location(
        "make_workbook", ROOT / "benchmarks" / "make_workbook.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path: Path = tmp_path_factory.mktemp("jobs") / "people.xlsx"
    module.make_workbook(path, 250, seed=7)
    return path


@pytest.fixture(scope="module")
def one_process(workbook: Path) -> Path:
    out = workbook.parent / "one"
    write_outputs(evaluate_workbook(workbook, jobs=1), out, jobs=1)
    return out


def _same(a: Path, b: Path) -> None:
    for name in COMPARED:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    briefs = sorted(p.name for p in (a / "briefs").iterdir())
    assert briefs == sorted(p.name for p in (b / "briefs").iterdir())
    for name in briefs:
        assert (a / "briefs" / name).read_bytes() == (b / "briefs" / name).read_bytes(), name


def test_spawned_workers_give_the_same_outputs(
    workbook: Path, one_process: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(processes.START_METHOD_VARIABLE, "spawn")
    used: list[str] = []
    context = processes.context

    def spy() -> BaseContext:
        pools = context()
        used.append(pools.get_start_method())
        return pools

    monkeypatch.setattr(processes, "context", spy)
    out = workbook.parent / "spawned"
    write_outputs(evaluate_workbook(workbook, jobs=2), out, jobs=2)
    assert used == ["spawn", "spawn"]  # the engine's pool, then the briefs'
    _same(one_process, out)


def test_the_cli_spawns_from_python_dash_m(workbook: Path, one_process: Path) -> None:
    # A spawned worker imports python -m's module (talentrules/__main__.py) as
    # __mp_main__: it must not run the command again.
    out = workbook.parent / "cli-spawned"
    done = subprocess.run(
        [sys.executable, "-m", "talentrules", "evaluate", str(workbook), "-o", str(out)]
        + ["--jobs", "2"],
        capture_output=True,
        text=True,
        env={**os.environ, processes.START_METHOD_VARIABLE: "spawn"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("evaluated 250 people") == 1
    _same(one_process, out)
