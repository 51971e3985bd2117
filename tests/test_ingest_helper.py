"""The largest sheet read by a helper process while the run's process reads the others
(ingest/helper.py, ``Helper``; issue 13): the panel is the one reading sheet after sheet
gives, every problem in its place, every row, cell ref and account; where anything
is unusual (a damaged sheet, more repeated text than allowed, the helper failing)
the workbook is read again the plain way, so every message is that reading's."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from test_bad_files import rewrite
from test_ingest import AS_OF, CYCLE, write

from talentrules import processes
from talentrules.errors import WorkbookError
from talentrules.ingest import helper as helper_module
from talentrules.ingest import load as load_module
from talentrules.ingest import load_workbook
from talentrules.ingest import sources as sources_module
from talentrules.model import PERSON_COLUMN, Panel
from talentrules.paths import sample_workbook

SAMPLES = sorted(sample_workbook().parent.glob("*.xlsx"))
AGAIN: list[str] = []  # why helpers' readings were not taken, as _read saw them


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, helper: bool) -> tuple[Panel | str, int]:
    """The panel (or the WorkbookError's message) and how many helpers answered."""
    answered = []
    result = helper_module.Helper.result

    def counted(self: Any, *args: Any) -> Any:
        answered.append(self.sheet.name)
        try:
            return result(self, *args)
        except helper_module.ReadAgain as again:
            AGAIN.append(str(again))
            raise

    monkeypatch.setattr(helper_module.Helper, "result", counted)
    monkeypatch.setattr(helper_module, "HELPER_CELLS", 1 if helper else 10**12)
    try:
        return load_workbook(path), len(answered)
    except WorkbookError as error:
        return str(error), len(answered)
    finally:
        monkeypatch.undo()


def _same(alone: Panel | str, helped: Panel | str) -> None:
    if isinstance(alone, str) or isinstance(helped, str):
        assert helped == alone
        return
    assert [str(p) for p in helped.problems] == [str(p) for p in alone.problems]
    assert helped.problems == alone.problems
    assert helped.accounts == alone.accounts and helped.rejected == alone.rejected
    assert helped.ignored_sheets == alone.ignored_sheets and helped.found == alone.found
    assert helped.fallback_as_of == alone.fallback_as_of and helped.as_of == alone.as_of
    assert helped.rows.keys() == alone.rows.keys()
    for sheet, rows in alone.rows.items():
        assert list(helped.rows[sheet]) == list(rows), sheet
        for row in rows[:3] if sheet in PERSON_COLUMN else ():
            person = row.get(PERSON_COLUMN[sheet])
            if isinstance(person, str):
                assert helped.about(sheet, person) == alone.about(sheet, person)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_the_samples_read_with_a_helper_are_read_as_alone(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone, _ = _read(path, monkeypatch, helper=False)
    helped, answered = _read(path, monkeypatch, helper=True)
    assert answered == 1  # the helper read the largest sheet
    _same(alone, helped)


def _evidence_with_problems(tmp_path: Path) -> Path:
    """Problems in the sheets before, in and after the helper's (Evidence): their order
    in the panel is the order of the sheets."""
    people = [["employee_id", "full_name", "manager_id", "performance"]]
    people += [[f"E{i}", f"P {i}", "E1" if i > 1 else None, 3] for i in range(1, 40)]
    people.append(["E40", "P 40", "E99", "lots"])  # a rating that is not one, a boss unknown
    evidence = [["employee_id", "signal", "observed_on", "source_type", "context", "notes"]]
    for i in range(1, 40):
        evidence.append([f"E{i}", "H-DEV", AS_OF, "Peer", "Project", "x" * (i % 7)])
    evidence += [
        ["E3", "NO-SUCH", AS_OF, "Peer", None, None],  # an unknown signal
        ["E77", "H-DEV", AS_OF, "Peer", None, None],  # nobody
        ["E4", "H-DEV", "not a date", "Peer", None, None],
        [None, "H-DEV", AS_OF, "Peer", None, None],
        ["E5", "H-RSP", dt.date(1890, 1, 1), "Manager", "Crisis", None],
        ["Total", None, None, None, None, 42],  # a totals row below the data
    ]
    nominations = [["nominee_id", "nominated_by", "reason"], ["E2", "E1", "ok"], ["E88", "E1", "?"]]

    def merge(wb: Any) -> None:
        wb["Evidence"].merge_cells("E5:E6")

    return write(
        tmp_path,
        {
            "Cycle": CYCLE,
            "Employees": people,
            "Evidence": evidence,
            "Nominations": nominations,
            "Extra tab": [["a"], [1]],
        },
        edit=merge,
    )


def test_problems_before_in_and_after_the_helpers_sheet_keep_their_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _evidence_with_problems(tmp_path)
    alone, _ = _read(path, monkeypatch, helper=False)
    helped, answered = _read(path, monkeypatch, helper=True)
    assert answered == 1
    assert isinstance(alone, Panel)
    sheets = [p.sheet for p in alone.problems]
    assert {"Employees", "Evidence", "Nominations"} <= set(sheets)
    assert sheets.index("Evidence") > sheets.index("Employees")
    assert sheets.index("Nominations") > sheets.index("Evidence")
    _same(alone, helped)


@pytest.mark.parametrize("damaged", ["Employees", "Evidence", "both"])
def test_a_damaged_sheet_is_told_as_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damaged: str
) -> None:
    path = _evidence_with_problems(tmp_path)
    members = {"Employees": "xl/worksheets/sheet2.xml", "Evidence": "xl/worksheets/sheet3.xml"}
    broken = set(members.values()) if damaged == "both" else {members[damaged]}

    def change(name: str, body: bytes) -> bytes:
        return body.replace(b'<row r="5"', b'<row r="5" <<') if name in broken else body

    rewrite(path, change)
    alone, _ = _read(path, monkeypatch, helper=False)
    helped, _ = _read(path, monkeypatch, helper=True)
    assert isinstance(alone, str) and "is damaged after row 4" in alone
    assert helped == alone


def _shared_strings(path: Path) -> Path:
    """The workbook with its inline strings (as openpyxl writes them) made shared strings
    (as Excel writes them): what the text budget counts."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    strings: dict[bytes, int] = {}

    def shared(found: re.Match[bytes]) -> bytes:
        index = strings.setdefault(found.group(2), len(strings))
        return b'<c r="%s" t="s"><v>%d</v></c>' % (found.group(1), index)

    inline = re.compile(rb'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>([^<]*)</t></is></c>')
    for name in parts:
        if name.startswith("xl/worksheets/"):
            parts[name] = inline.sub(shared, parts[name])
    items = b"".join(b"<si><t>%s</t></si>" % text for text in strings)
    parts["xl/sharedStrings.xml"] = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">%s</sst>' % items
    )
    relation = (
        b'<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
    )
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(b"</Relationships>", relation + b"</Relationships>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return path


def test_repeated_text_is_counted_over_every_sheet_as_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each sheet within the budget alone but not together: the helper's sheet and this
    process's sheets share one budget, as when read one after the other. Every budget
    from refusing the first sheet to accepting them all gives the plain reading's
    answer."""
    path = _shared_strings(_evidence_with_problems(tmp_path))
    answers = set()
    AGAIN.clear()
    for expansion in [0.01 * 1.5**k for k in range(16)]:
        monkeypatch.setattr(sources_module, "MAX_TEXT_EXPANSION", expansion)
        alone, _ = _read(path, monkeypatch, helper=False)
        monkeypatch.setattr(sources_module, "MAX_TEXT_EXPANSION", expansion)
        helped, _ = _read(path, monkeypatch, helper=True)
        _same(alone, helped)
        answers.add(alone if isinstance(alone, str) else "read")
    assert "the sheets show more repeated text than allowed" in AGAIN  # alone, each fits
    assert "read" in answers and any("'Evidence'" in a for a in answers)
    assert any("'Employees'" in a or "'Nominations'" in a for a in answers)


def test_a_helper_that_fails_leaves_the_reading_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _evidence_with_problems(tmp_path)
    alone, _ = _read(path, monkeypatch, helper=False)

    def fails(self: Any, path: str) -> None:
        os._exit(3)  # the helper dies without an answer

    monkeypatch.setattr(load_module.RowStore, "divert", fails)
    monkeypatch.setattr(helper_module, "HELPER_CELLS", 1)
    _same(alone, load_workbook(path))


def test_a_fork_that_fails_leaves_the_reading_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No process can be made now (EAGAIN; ENOMEM alike): no traceback, the sheet is read
    here, the plain reading, and the helper's pipe is closed."""
    path = _evidence_with_problems(tmp_path)
    before = set(os.listdir("/proc/self/fd"))
    alone, _ = _read(path, monkeypatch, helper=False)
    kept = len(set(os.listdir("/proc/self/fd")) - before)  # the panel's row file
    made: list[int] = []
    pipe = os.pipe

    def counted() -> tuple[int, int]:
        ends = pipe()
        made.extend(ends)
        return ends

    def no_fork() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "pipe", counted)
    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(helper_module, "HELPER_CELLS", 1)
    before = set(os.listdir("/proc/self/fd"))
    helped = load_workbook(path)
    opened = set(os.listdir("/proc/self/fd")) - before
    monkeypatch.undo()
    # The helper's pipe (made first), then multiprocessing's own two, which CPython 3.11
    # to 3.13 leave open when the fork fails (popen_fork.Popen._launch): not ours to close.
    assert len(made) == 6
    left = {fd for fd in made if str(fd) in opened}
    for fd in left:
        os.close(fd)
    assert left <= set(made[2:]) and len(opened) - len(left) == kept
    _same(alone, helped)


def test_no_helper_where_processes_are_spawned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(processes.START_METHOD_VARIABLE, "spawn")
    _, answered = _read(SAMPLES[0], monkeypatch, helper=True)
    assert answered == 0


def test_an_interrupt_while_the_helper_reads_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _evidence_with_problems(tmp_path)
    read_sheet = load_module.Reader._read_sheet

    def interrupted(self: Any, sheet: Any, scan: Any) -> Any:
        if sheet.name == "Nominations" and os.getpid() == parent:
            raise KeyboardInterrupt
        return read_sheet(self, sheet, scan)

    parent = os.getpid()
    monkeypatch.setattr(load_module.Reader, "_read_sheet", interrupted)
    monkeypatch.setattr(helper_module, "HELPER_CELLS", 1)
    with pytest.raises(KeyboardInterrupt):
        load_workbook(path)
    assert not multiprocessing.active_children()


_SLOW_HELPER = """
import os, sys, time
from talentrules.ingest import helper, load
helper.HELPER_CELLS = 1
parent, read_sheet = os.getpid(), load.Reader._read_sheet
def slow(self, sheet, scan):
    if os.getpid() != parent:  # the helper: says it has started, then takes its time
        open(sys.argv[2], "w").close()
        time.sleep(120)
    return read_sheet(self, sheet, scan)
load.Reader._read_sheet = slow
from talentrules.cli import cli
cli(["evaluate", sys.argv[1], "-o", sys.argv[2] + ".out"])
"""


@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGHUP, True)],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_a_run_stopped_while_its_helper_reads_ends_with_the_helper(
    tmp_path: Path, signum: int, group: bool
) -> None:
    path = _evidence_with_problems(tmp_path)
    started = tmp_path / "helper-started"
    with open(tmp_path / "stderr.txt", "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", _SLOW_HELPER, str(path), str(started)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline and process.poll() is None, "no helper"
            time.sleep(0.02)
        (os.killpg if group else os.kill)(process.pid, signum)
        code = process.wait(timeout=60)
        stderr = (tmp_path / "stderr.txt").read_text(encoding="utf-8")
        assert code == 128 + signum and "Traceback" not in stderr, stderr
        deadline = time.monotonic() + 10
        while True:  # the helper (in the run's process group) is gone too
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, "the helper outlived the run"
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize(("jobs", "helpers"), [(1, 0), (2, 1), (None, 1)])
def test_one_job_reads_in_one_process(
    monkeypatch: pytest.MonkeyPatch, jobs: int | None, helpers: int
) -> None:
    """``--jobs 1`` is one core for the whole run: no helper reads beside the run's
    process (jobs None: the CPU cores, here taken to be 2)."""
    started = []
    start = helper_module.Helper.start.__func__  # type: ignore[attr-defined]

    def counted(cls: Any, *args: Any) -> Any:
        made = start(cls, *args)
        started.append(made)
        return made

    monkeypatch.setattr(helper_module.Helper, "start", classmethod(counted))
    monkeypatch.setattr(helper_module, "HELPER_CELLS", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    alone = load_workbook(SAMPLES[0], jobs=1)
    panel = load_workbook(SAMPLES[0], jobs=jobs)
    assert sum(made is not None for made in started) == helpers
    _same(alone, panel)
