"""The summary's exception notes, made by the engine where each person's facts are at
hand (``engine.run(note=...)``, issue 13), equal those made from each person's trace
afterwards: with one job, and with two workers forked or spawned."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from talentrules.processes import START_METHOD_VARIABLE
from talentrules.report.builder import ContextBuilder
from talentrules.report.names import Namer
from talentrules.report.summary import exceptions, person_exceptions
from talentrules.run import evaluate_workbook

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150 people: enough for two engine workers (one per 50 people at least)."""
    spec = importlib.util.spec_from_file_location(
        "make_workbook", ROOT / "benchmarks" / "make_workbook.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("notes") / "generated.xlsx"
    module.make_workbook(path, 150, seed=5)
    return path


@pytest.mark.parametrize(("jobs", "method"), [(1, "fork"), (2, "fork"), (2, "spawn")])
def test_engine_notes_equal_the_traces(
    generated: Path, jobs: int, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(START_METHOD_VARIABLE, method)
    result = evaluate_workbook(generated, jobs=jobs)
    view = ContextBuilder(result, Namer(result.employees))
    flagged = 0
    for r in result.results:
        assert isinstance(r.noted, dict)
        assert r.noted == person_exceptions(view, r.evaluation, r.fired), r.employee_id
        flagged += bool(r.noted)
    assert flagged >= 10  # people the panel is asked to look at, with notes

    # The summary's groups are the same with the notes as without (made from traces).
    made = exceptions(view)
    bare = dataclasses.replace(
        result, results=[dataclasses.replace(r, noted=None) for r in result.results]
    )
    again = exceptions(ContextBuilder(bare, Namer(bare.employees)))
    assert [(g.title, g.meaning, list(g.people)) for g in made] == [
        (g.title, g.meaning, list(g.people)) for g in again
    ]
    assert any(p.note for g in made for p in g.people)


def test_the_engine_stage_never_loads_the_report_stage() -> None:
    """The notes are made in the engine's workers (talentrules.messages): evaluating a
    workbook, and unpickling the notes in a spawned worker, import nothing of
    talentrules.report, so data flows one way, engine to report."""
    code = (
        "import pickle, sys\n"
        "from talentrules.messages import ExceptionNotes\n"
        "from talentrules.run import evaluate_workbook\n"
        "from talentrules.paths import sample_workbook\n"
        "result = evaluate_workbook(sample_workbook())\n"
        "pickle.loads(pickle.dumps(ExceptionNotes(result.rulebook)))\n"
        "print(sorted(m for m in sys.modules if m.startswith('talentrules.report')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]", done.stdout
