"""The helper's sheet cut in two (ingest/helper.py, ``cut_at``; issue 13, tenth part): the
run's process reads the rows before a row start both sides agree on, the helper those
from it on, and the two are joined in row order. Whatever the cut, the panel is the
one reading sheet after sheet gives: every row, cell ref, problem (in its place), row
account and rejected row; where the reading at the cut is not what the helper assumes
(a row held back, a gap, no header yet, a cut inside a row), the run's process reads
the whole sheet itself, and where the helper fails the workbook is read again."""

from __future__ import annotations

import importlib.util
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_bad_files import rewrite
from test_ingest import CYCLE, write
from test_ingest_helper import _evidence_with_problems, _same, _shared_strings

from talentrules.cli import cli
from talentrules.errors import WorkbookError
from talentrules.ingest import helper as helper_module
from talentrules.ingest import load as load_module
from talentrules.ingest import load_workbook
from talentrules.ingest.files import RowMark, SheetScan, scan_file
from talentrules.model import Panel

_ROW_START = re.compile(rb'<row r="([0-9]+)"')
_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _member(path: Path, tab: str = "Evidence") -> str:
    return next(s.member for s in scan_file(path, str(path)).sheets if s.tab == tab)


def _cuts(path: Path) -> list[RowMark]:
    """A cut at every row start of the Evidence sheet that has its r first."""
    with zipfile.ZipFile(path) as archive:
        body = archive.read(_member(path))
    return [RowMark(m.start(), int(m.group(1)), 0, 0) for m in _ROW_START.finditer(body)]


class _Outcome:
    """How one reading went: the panel (or the WorkbookError's message), and whether
    the helper's rows were joined to this process's."""

    def __init__(self) -> None:
        self.joined = 0
        self.again: list[str] = []
        self.panel: Panel | str = ""


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, cut: RowMark | None) -> _Outcome:
    """Read with a helper cutting the Evidence sheet at ``cut`` (None: no helper)."""
    outcome = _Outcome()
    join, result = load_module.Reader._join, helper_module.Helper.result

    def joined(self: Any, *args: Any) -> Any:
        outcome.joined += 1
        return join(self, *args)

    def answered(self: Any, *args: Any) -> Any:
        try:
            return result(self, *args)
        except helper_module.ReadAgain as again:
            outcome.again.append(str(again))
            raise

    with monkeypatch.context() as patch:
        patch.setattr(load_module.Reader, "_join", joined)
        patch.setattr(helper_module.Helper, "result", answered)
        patch.setattr(helper_module, "HELPER_CELLS", 1 if cut is not None else 10**12)
        patch.setattr(helper_module, "cut_at", lambda scan, total: cut)
        try:
            outcome.panel = load_workbook(path)
        except WorkbookError as error:
            outcome.panel = str(error)
    return outcome


def _cell(ref: str | None, value: object) -> str:
    r = f' r="{ref}"' if ref else ""
    if isinstance(value, int | float):
        return f"<c{r}><v>{value}</v></c>"
    return f'<c{r} t="inlineStr"><is><t>{value}</t></is></c>'


# One hand-written Evidence row's kind -> its values (employee_id, evidence_id, signal,
# observed_on, context); the row's number and how it is written come separately.
_KINDS: dict[str, Callable[[int], list[object]]] = {
    "good": lambda n: [f"E{n % 5 + 1}", f"EV-{n}", "H-DEV", "2026-05-12", "Project"],
    "bad date": lambda n: [f"E{n % 5 + 1}", f"EV-{n}", "H-DEV", "someday", "Project"],
    "nobody": lambda n: ["E99", f"EV-{n}", "H-RSP", "2026-05-12", None],
    "duplicate": lambda n: ["E2", "EV-1", "H-DEV", "2026-05-12", None],
    "late": lambda n: ["E3", f"EV-{n}", "H-DEV", "2027-01-01", "Crisis"],
    "unheaded": lambda n: ["E4", f"EV-{n}", "H-DEV", "2026-05-12", None, None, 7],
    "example": lambda n: ["EXAMPLE: E1", None, "H-DEV", None, None],
    "totals": lambda n: ["Total", None, None, None, None, 42],
    "note": lambda n: ["checked by HR", None, None, None, None],
    "blank cells": lambda n: [None, None, None],
}
_HEADER = ["employee_id", "evidence_id", "signal", "observed_on", "context", "notes"]


def _row_xml(number: int, values: list[object], with_r: bool, cells_r: bool) -> str:
    if cells_r:
        cells = "".join(
            _cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values) if v is not None
        )
    else:  # without refs, a cell with no value keeps the columns in place
        cells = "".join(_cell(None, v) if v is not None else "<c/>" for v in values)
    r = f' r="{number}"' if with_r else ""
    return f"<row{r}>{cells}</row>" if cells else f"<row{r}/>"


def _hand_written(
    tmp_path: Path,
    rows: list[tuple[str, bool, bool, int]],
    merged: list[str] = (),  # type: ignore[assignment]
    shared: bool = False,
) -> Path:
    """A workbook whose Evidence sheet is written by hand: a header, then one row a
    (kind, with r, cells with r, rows left out before it) in ``rows``."""
    people = [["employee_id", "full_name"]] + [[f"E{i}", f"P {i}"] for i in range(1, 6)]
    path = write(
        tmp_path,
        {"Cycle": CYCLE, "Employees": people, "Evidence": [["x"]], "Nominations": [["a"]]},
    )
    parts = [_row_xml(1, list(_HEADER), True, True)]
    number = 1
    for kind, with_r, cells_r, gap in rows:
        number += 1 + gap
        parts.append(_row_xml(number, _KINDS[kind](number), with_r or gap > 0, cells_r))
    merges = "".join(f'<mergeCell ref="{m}"/>' for m in merged)
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet {_NS.decode()}><sheetData>'
        + "\n".join(parts)
        + "</sheetData>"
        + (f'<mergeCells count="{len(merged)}">{merges}</mergeCells>' if merged else "")
        + "</worksheet>"
    ).encode()
    member = _member(path)
    rewrite(path, lambda name, old: body if name == member else old)
    return _shared_strings(path) if shared else path


def _every_cut_as_alone(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[_Outcome]:
    alone = _read(path, monkeypatch, None)
    outcomes = []
    for cut in _cuts(path):
        outcome = _read(path, monkeypatch, cut)
        _same(alone.panel, outcome.panel)
        outcomes.append(outcome)
    return outcomes


def test_an_openpyxl_workbook_cut_at_every_row_reads_as_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Problems before, in and after the cut sheet, a merged range, a totals row below
    the data; a cut at the header leaves the sheet to this process."""
    path = _evidence_with_problems(tmp_path)
    outcomes = _every_cut_as_alone(path, monkeypatch)
    assert len(outcomes) == 46
    assert outcomes[0].joined == 0  # at the header: nothing read before it, read alone
    assert sum(o.joined for o in outcomes[1:]) >= 40  # cut nearly everywhere else
    assert not any(o.again for o in outcomes)


_MIXED = [
    ("good", True, True, 0),
    ("example", True, True, 0),
    ("good", False, True, 0),  # a row without r
    ("good", True, False, 0),  # cells without r
    ("bad date", True, True, 0),
    ("blank cells", True, True, 0),  # a row element with no value: a blank row
    ("good", True, True, 2),  # two rows with no element at all before it
    ("duplicate", True, True, 0),
    ("nobody", True, True, 0),
    ("note", True, True, 0),  # a note inside the data: held back, then read as data
    ("good", True, True, 0),
    ("unheaded", True, True, 0),
    ("late", True, True, 0),
    ("good", True, True, 0),  # merged with the next
    ("good", True, True, 0),
    ("duplicate", False, False, 0),
    ("good", True, True, 0),
    ("unheaded", True, True, 0),
    ("totals", True, True, 0),  # below the data: rejected
    ("blank cells", True, True, 1),
]


@pytest.mark.parametrize("shared", [False, True], ids=["inline strings", "shared strings"])
def test_a_hand_written_sheet_cut_at_every_row_reads_as_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: bool
) -> None:
    """Rows and cells without r, inline and shared strings, example, blank and absent
    rows, a note inside the data, duplicates and unknown people on both sides of the
    cut, values without a header, merged ranges across it, totals below the data."""
    path = _hand_written(tmp_path, _MIXED, merged=["E15:E17", "B9:B9"], shared=shared)
    outcomes = _every_cut_as_alone(path, monkeypatch)
    assert len(outcomes) == 19  # the rows written without r are never cut at
    assert sum(o.joined for o in outcomes) >= 12
    assert not any(o.again for o in outcomes)
    alone = _read(path, monkeypatch, None).panel
    assert isinstance(alone, Panel)
    said = {p.message.split(":")[0].split(" ")[0] for p in alone.problems}
    assert {"merged", "duplicate", "observed_on", "a", "worked", "2"} <= said, said


def test_cuts_no_process_could_begin_at_leave_the_sheet_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cut inside a row, at the end of the rows, with a number that is not the row's,
    or at a row without r: this process reads the whole sheet, the answer unchanged."""
    path = _hand_written(tmp_path, _MIXED[:12])
    alone = _read(path, monkeypatch, None)
    with zipfile.ZipFile(path) as archive:
        body = archive.read(_member(path))
    inside = body.index(b"<c ", body.index(b'<row r="5"'))
    unnumbered = body.index(b"<row>")
    wrong = [
        RowMark(inside, 5, 0, 0),
        RowMark(body.index(b"</sheetData>"), 14, 0, 0),
        RowMark(body.index(b'<row r="6"'), 7, 0, 0),
        RowMark(unnumbered, 4, 0, 0),
        RowMark(len(body) + 10, 99, 0, 0),
    ]
    for cut in wrong:
        outcome = _read(path, monkeypatch, cut)
        _same(alone.panel, outcome.panel)
        assert outcome.joined == 0, cut


def test_a_damaged_row_after_the_cut_is_told_as_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Damage the helper meets: the workbook is read again, the plain way."""
    path = _evidence_with_problems(tmp_path)
    member = _member(path)
    rewrite(path, lambda n, b: b.replace(b'<row r="30"', b'<row r="30" <<') if n == member else b)
    alone = _read(path, monkeypatch, None)
    assert isinstance(alone.panel, str) and "is damaged after row 29" in alone.panel
    for cut in _cuts(path)[5:8]:
        outcome = _read(path, monkeypatch, cut)
        assert outcome.panel == alone.panel
        assert outcome.again  # read again


def _renumbered(path: Path, number: int, to: int) -> Path:
    """The Evidence row ``number`` (and its cells) written as row ``to``."""
    member = _member(path)

    def change(name: str, body: bytes) -> bytes:
        if name != member:
            return body
        start = body.index(b'<row r="%d"' % number)
        end = body.index(b"</row>", start)
        row = re.sub(rb'( r="[A-Z]*)%d"' % number, rb'\g<1>%d"' % to, body[start:end])
        return body[:start] + row + body[end:]

    rewrite(path, change)
    return path


@pytest.mark.parametrize("to", [5, 7], ids=["decreasing", "repeated"])
def test_rows_out_of_order_are_told_in_one_sentence_wherever_the_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, to: int
) -> None:
    """A row numbered no higher than the one before (two rows with one number would be
    one row twice): damage, told naming file, sheet and row, the same with or without a
    helper, cut before, at or after it; through the CLI, one line, exit 1."""
    path = _renumbered(_hand_written(tmp_path, [("good", True, True, 0)] * 12), 8, to)
    told = f"{path}: sheet 'Evidence': row {to} comes after row 7 (rows out of order); "
    told += "open the file in Excel and save it again"
    assert _read(path, monkeypatch, None).panel == told
    outcomes = [_read(path, monkeypatch, cut) for cut in _cuts(path)]
    assert [o.panel for o in outcomes] == [told] * 13
    assert any(o.again for o in outcomes)  # the helper met it: read again
    with pytest.raises(WorkbookError) as raised:
        load_workbook(path, jobs=1)
    assert str(raised.value) == told
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stdout == "" and result.stderr == f"Error: {told}\n"


def test_unusual_xml_after_the_cut_is_read_again_as_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something only the exact reader reads (a comment) after the cut: the helper
    cannot read it from the cut on; the workbook is read again, the plain way."""
    path = _evidence_with_problems(tmp_path)
    member = _member(path)
    comment = b'<!-- x --><row r="30"'
    rewrite(path, lambda n, b: b.replace(b'<row r="30"', comment) if n == member else b)
    alone = _read(path, monkeypatch, None)
    assert isinstance(alone.panel, Panel)
    outcome = _read(path, monkeypatch, _cuts(path)[10])
    _same(alone.panel, outcome.panel)
    assert outcome.again == ["the helper could not read its sheet"]


def test_repeated_text_is_counted_across_the_cut_as_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text budget shared by the rows before the cut, those after and the other
    sheets: every budget gives the plain reading's answer."""
    from talentrules.ingest import sources as sources_module

    path = _shared_strings(_evidence_with_problems(tmp_path))
    cut = _cuts(path)[20]
    answers = set()
    for expansion in [0.01 * 1.5**k for k in range(16)]:
        monkeypatch.setattr(sources_module, "MAX_TEXT_EXPANSION", expansion)
        alone = _read(path, monkeypatch, None)
        _same(alone.panel, _read(path, monkeypatch, cut).panel)
        answers.add(alone.panel if isinstance(alone.panel, str) else "read")
    assert "read" in answers and any("'Evidence'" in a for a in answers)


def test_a_wrong_join_would_be_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above can fail: joins that lose a problem, tell the end of the
    sheet before the helper's rows, or forget the values without a header all differ."""
    path = _hand_written(tmp_path, _MIXED, merged=["E15:E17"])
    alone = _read(path, monkeypatch, None).panel
    cut = _cuts(path)[2]  # before a bad date: the helper's rows hold problems
    assert _read(path, monkeypatch, cut).joined == 1
    join = load_module.Reader._join

    def lose_one(self: Any, reading: Any, rest: Any) -> Any:
        rest.problems.pop(0)
        return join(self, reading, rest)

    def end_first(self: Any, reading: Any, rest: Any) -> Any:
        problems = join(self, reading, rest)
        return problems[len(rest.problems) :] + problems[: len(rest.problems)]

    def no_unheaded(self: Any, reading: Any, rest: Any) -> Any:
        rest.unheaded.clear()
        return join(self, reading, rest)

    for wrong in (lose_one, end_first, no_unheaded):
        monkeypatch.setattr(load_module.Reader, "_join", wrong)
        outcome = _read(path, monkeypatch, cut)
        assert outcome.joined == 1
        with pytest.raises(AssertionError):
            _same(alone, outcome.panel)
        monkeypatch.undo()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(sorted(_KINDS)),
            st.booleans() | st.just(True),
            st.booleans() | st.just(True),
            st.sampled_from([0, 0, 0, 1, 3]),
        ),
        min_size=1,
        max_size=25,
    ),
    at=st.floats(0, 1),
    shared=st.booleans(),
    merge=st.tuples(st.integers(2, 30), st.integers(0, 4)),
)
def test_random_sheets_cut_anywhere_read_as_alone(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    rows: list[tuple[str, bool, bool, int]],
    at: float,
    shared: bool,
    merge: tuple[int, int],
) -> None:
    tmp_path = tmp_path_factory.mktemp("split")
    first, length = merge
    path = _hand_written(tmp_path, rows, merged=[f"C{first}:C{first + length}"], shared=shared)
    cuts = _cuts(path)
    alone = _read(path, monkeypatch, None)
    outcome = _read(path, monkeypatch, cuts[min(int(at * len(cuts)), len(cuts) - 1)])
    _same(alone.panel, outcome.panel)
    assert not outcome.again
    event(f"joined: {outcome.joined}")


def test_a_generated_workbook_is_cut_where_its_scan_marks_a_row_and_reads_as_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real path, nothing replaced: ``files._scan_sheet`` marks a row start a megabyte
    (each mark is where ``<row r="N"`` begins, N rows read before it), ``cut_at`` picks
    one, and two jobs read the Evidence sheet cut there, joined once, as one job does."""
    spec = importlib.util.spec_from_file_location(
        "make_workbook", Path(__file__).resolve().parents[1] / "benchmarks" / "make_workbook.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "people.xlsx"
    module.make_workbook(path, 2000, seed=0)
    evidence = next(s for s in scan_file(path, str(path)).sheets if s.tab == "Evidence")
    assert len(evidence.marks) >= 8  # a mark a megabyte
    with zipfile.ZipFile(path) as archive:
        body = archive.read(evidence.member)
    for mark in evidence.marks:
        assert body.startswith(b'<row r="%d"' % mark.number, mark.offset), mark
        assert body.count(b"<row ", 0, mark.offset) == mark.number - 1, mark  # r: 1, 2, ...
        assert mark.rows <= mark.number - 1 and mark.cells <= body.count(b"<c ", 0, mark.offset)
    alone = load_workbook(path, jobs=1)
    cuts: list[RowMark | None] = []
    joined: list[int] = []
    again: list[str] = []
    cut_at, join, result = (
        helper_module.cut_at,
        load_module.Reader._join,
        helper_module.Helper.result,
    )

    def cut(scan: SheetScan, total: int) -> RowMark | None:
        cuts.append(cut_at(scan, total))
        return cuts[-1]

    def counted(self: Any, *args: Any) -> Any:
        joined.append(1)
        return join(self, *args)

    def answered(self: Any, *args: Any) -> Any:
        try:
            return result(self, *args)
        except helper_module.ReadAgain as error:
            again.append(str(error))
            raise

    monkeypatch.setattr(helper_module, "HELPER_CELLS", 100_000)  # the sheet: about 200,000
    monkeypatch.setattr(helper_module, "cut_at", cut)
    monkeypatch.setattr(load_module.Reader, "_join", counted)
    monkeypatch.setattr(helper_module.Helper, "result", answered)
    helped = load_workbook(path, jobs=2)
    assert len(cuts) == 1 and cuts[0] in evidence.marks[1:-1], cuts
    assert joined == [1] and not again
    _same(alone, helped)


def test_the_cut_gives_the_helper_about_half_the_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """``cut_at``: the mark leaving the helper the rows nearest its share of every sheet's
    reading; none where its sheet is not more than that, or has no mark."""
    monkeypatch.setattr(helper_module, "HELPER_SHARE", 0.5)
    marks = [RowMark(100 * k, 10 * k + 2, 1000 * k, 100 * k) for k in range(1, 10)]
    scan = SheetScan("Evidence", "x", cells=10_000, rows=1_000)
    scan.marks = marks
    whole = 10_000 + helper_module.ROW_COST * 1_000  # 16,000
    assert helper_module.cut_at(scan, 2 * whole) is None  # half of it all: read whole
    cut = helper_module.cut_at(scan, 20_000)  # the helper's share: 10,000 of the 16,000
    assert cut is not None and cut.cells == 4000  # 16,000 - (4,000 + 6 * 400) = 9,600
    scan.marks = []
    assert helper_module.cut_at(scan, 20_000) is None
