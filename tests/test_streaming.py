"""Outputs written as they are made, and the summary's lists of people held as ids:
a 100,000-person run must not hold a document, or a PersonRef a person, at once
(issue 13: memory flat in the number of people). The bytes stay those of the whole
text rendered or dumped at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from talentrules import engine, report
from talentrules.paths import sample_workbook
from talentrules.report import summary, view
from talentrules.report.contexts import PersonRef
from talentrules.report.data import _Entries
from talentrules.report.summary import People
from talentrules.run import RunResult, evaluate_workbook


@pytest.fixture(scope="module")
def sample_run() -> RunResult:
    return evaluate_workbook(sample_workbook(), allow_rejects=True)


@pytest.mark.parametrize("panel_edition", [True, False])
def test_the_summary_written_piece_by_piece_is_the_text_rendered_at_once(
    sample_run: RunResult, tmp_path: Path, panel_edition: bool
) -> None:
    renderer = report.Renderer()
    context = report.ContextBuilder(sample_run).summary(panel_edition=panel_edition)
    for name in ("summary.html.j2", "summary.md.j2"):
        whole = renderer.render(name, context)
        renderer.write(name, context, tmp_path / name)
        assert (tmp_path / name).read_bytes() == whole.encode("utf-8")
        assert len(context.roster) == len(sample_run.results) > 0


def test_the_summary_holds_no_person_ref_for_everyone(
    sample_run: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The roster, the grids and the exception groups name people by id and note; a
    # PersonRef is made as a template reads it. Only the lines that are about one
    # person each (waitlist, unseated, balance, overrides) make theirs.
    made: list[PersonRef] = []

    def counted(*args: str) -> PersonRef:
        made.append(PersonRef(*args))
        return made[-1]

    monkeypatch.setattr(summary, "PersonRef", counted)
    monkeypatch.setattr(view, "PersonRef", counted)
    context = report.ContextBuilder(sample_run).summary()
    lines = (*context.waitlist, *context.unseated, *context.balance, *context.overrides)
    # (and a few for the alerts' words): not one for each person of the roster
    assert {id(line.person) for line in lines} <= set(map(id, made))
    assert len(made) < len(lines) + len(sample_run.results)
    assert isinstance(context.roster, People) and len(context.roster) == len(sample_run.results)
    placed = sum(c.count for row in context.nine_box.cells for c in row)
    assert placed + context.nine_box.outside == len(sample_run.results)
    assert all(isinstance(c.people, People) for row in context.nine_box.cells for c in row)
    made.clear()
    assert list(context.roster) == made and len(made) == len(sample_run.results)


def test_people_reads_as_the_person_refs_it_stands_for(sample_run: RunResult) -> None:
    builder = report.ContextBuilder(sample_run)
    roster = builder.summary().roster
    assert isinstance(roster, People)
    refs = tuple(roster)
    first = sample_run.results[0].employee_id
    assert refs[0] == roster[0] and refs[0].employee_id == first
    assert refs[0].brief == builder.namer.brief(first, "html")
    assert refs[0].name == builder.ref(first).name
    assert roster[1:3] == refs[1:3] and roster[-1] == refs[-1]
    assert roster == refs and roster != refs[1:] and len(roster) == len(refs)
    assert list(reversed(roster)) == list(reversed(refs))


@pytest.mark.parametrize("entries", [[], [{"a": 1, "b": [1, 2]}, {"c": None}]])
def test_json_entries_made_as_written_encode_as_the_list(
    entries: list[object], tmp_path: Path
) -> None:
    made = _Entries(lambda: iter(entries), len(entries))
    with (tmp_path / "x.json").open("w", encoding="utf-8") as handle:
        json.dump({"people": made, "after": 1}, handle, indent=2, ensure_ascii=False)
    expected = json.dumps({"people": entries, "after": 1}, indent=2, ensure_ascii=False)
    assert (tmp_path / "x.json").read_text(encoding="utf-8") == expected


def test_equal_evaluations_share_their_parts() -> None:
    # A worker's results arrive as new copies for each person; equal outcome dicts
    # (most people share theirs with many others) are kept once, in their order.
    try:
        a = engine._shared({"verdict": ("strong",), "track": ("lead",)})
        b = engine._shared({"verdict": ("strong",), "track": ("lead",)})
        c = engine._shared({"track": ("lead",), "verdict": ("strong",)})
        d = engine._shared({"verdict": ["not", "hashable"]})
    finally:
        engine._TUPLES.clear()
        engine._DICTS.clear()
    assert a is b and a == c and a is not c and list(c) == ["track", "verdict"]
    assert d == {"verdict": ["not", "hashable"]}


def test_the_manifest_lists_files_in_the_order_of_sorted_paths(tmp_path: Path) -> None:
    # The manifest's files were listed as sorted(folder.rglob("*")); they are listed as
    # names now (200,000 Path objects at 100,000 people), in the same order.
    from talentrules.record import _file_names

    for name in ("a", "a-b", "a.b", "briefs/x.md", "briefs/x-y.md", "briefs.x", "b/c/d", "b-c"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    expected = [
        p.relative_to(tmp_path).as_posix() for p in sorted(tmp_path.rglob("*")) if p.is_file()
    ]
    assert _file_names(tmp_path) == expected and "briefs/x.md" in expected
