"""Memory flat in N (issue 13): a run holds neither the person-keyed sheets' rows (they
are in an SQLite file for the run, ``ingest.store``) nor anyone's facts (derived when
read, ``facts.FactsOnDemand``). These tests check the rows and facts read back are the
ones a reading in memory gives, down to each cell's ref, and that the file goes away."""

from __future__ import annotations

import datetime as dt
import gc
import os
import tempfile
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ingest import AS_OF, CYCLE, PEOPLE, write

from talentrules import decide, facts
from talentrules.errors import ValidationError
from talentrules.ingest import load_workbook
from talentrules.ingest.drafts import SheetRead
from talentrules.ingest.store import Place, RowStore, RowTable, StoredRows, cells_of, fold
from talentrules.model import PERSON_COLUMN, Panel, PersonRows, Row, RowAbout
from talentrules.paths import sample_workbook
from talentrules.run import evaluate_workbook

EVIDENCE = [
    ["employee_id", "signal", "observed_on", "source_type", "context"],
    ["E2", "H-DEV", AS_OF, "Peer", "Project"],
    ["E1", "H-DEV", AS_OF, "Peer", None],
    ["E2", "H-RSP", AS_OF, "Manager", "Crisis"],
]


def in_memory(panel: Panel) -> Panel:
    """The same panel with every sheet's rows read out into lists."""
    return Panel(
        panel.path,
        panel.sha256,
        panel.size,
        {sheet: list(rows) for sheet, rows in panel.rows.items()},
        panel.problems,
        panel.accounts,
        panel.rejected,
        panel.ignored_sheets,
        panel.found,
        panel.fallback_as_of,
    )


def test_person_rows_are_stored_and_read_back_with_their_cells(tmp_path: Path) -> None:
    sheets = {"Cycle": CYCLE, "Employees": PEOPLE, "Evidence": EVIDENCE}
    panel = load_workbook(write(tmp_path, sheets))
    assert not panel.errors
    for sheet in ("Employees", "Evidence"):
        assert isinstance(panel.rows[sheet], StoredRows)
    assert isinstance(panel.rows["Cycle"], list)  # a small sheet stays in memory
    evidence = panel.rows["Evidence"]
    assert len(evidence) == 3 and [r.number for r in evidence] == [2, 3, 4]
    first = evidence[0]
    assert first.get("signal") == "H-DEV" and first.get("observed_on") == AS_OF
    assert first.ref("signal") == "Evidence!B2" and first.ref("context") == "Evidence!E2"
    # A contract column absent from the sheet points at its name, as when read.
    absent = [c for c in first.cells if c not in EVIDENCE[0]]
    assert absent and first.ref(absent[0]) == f"Evidence!{absent[0]}"
    about = panel.about("Evidence", "E2")
    assert [(r.number, r.get("signal")) for r in about] == [(2, "H-DEV"), (4, "H-RSP")]
    assert about == in_memory(panel).about("Evidence", "E2")
    assert panel.about("Evidence", "nobody") == []
    assert evidence[-1].number == 4 and evidence[1:] == list(evidence)[1:]


def test_rows_read_again_are_the_stored_ones_whatever_the_reader_did() -> None:
    # Panel.about remembers the last few (sheet, person) reads (a brief asks for the
    # same person's rows some fourteen times): every read, in any order, past what it
    # remembers too, gives what the store holds, and a list a reader changed does not.
    import random

    panel = load_workbook(sample_workbook())
    memory = in_memory(panel)
    people = sorted(set(panel.people("Employees")))
    reads = [(sheet, p) for p in people for sheet in ("Employees", "Evidence", "Teams")]
    random.Random(13).shuffle(reads)
    for sheet, person in reads * 2:
        got = panel.about(sheet, person)
        assert got == memory.about(sheet, person), (sheet, person)
        got.clear()  # the caller's list is its own
        assert panel.about(sheet, person) == memory.about(sheet, person)


def test_a_stored_row_is_the_row_of_its_cells() -> None:
    """A row read back keeps its values and makes its cells only when asked for (a
    brief reads a few cells of each row): each way of reading it gives what the row of
    its cells gives, for every column and one the sheet lacks; it pickles as it was
    and is never changed."""
    import pickle

    panel = load_workbook(sample_workbook())
    for sheet in ("Employees", "Evidence", "Teams"):
        stored = panel.rows[sheet]
        assert isinstance(stored, StoredRows)
        places = stored.store.places[sheet]
        for row in list(stored)[:6]:
            values = [row.get(p.column) for p in places]
            made = Row(sheet, row.number, cells_of(row.number, values, places))
            for column in [p.column for p in places]:
                assert row.get(column) == made.get(column), (sheet, column)
                assert row.ref(column) == made.ref(column)
                assert row.cell(column) == made.cell(column) == made.cells[column]
            assert row.get("no such column") is None and row.cell("no such column") is None
            with pytest.raises(KeyError):
                row.ref("no such column")
            assert row.values() == made.values() and list(row.values()) == list(made.cells)
            again = pickle.loads(pickle.dumps(row))
            assert again == row == made and repr(again) == repr(made)
            assert row.cells == made.cells and again.get("employee_id") == made.get("employee_id")
            with pytest.raises(AttributeError):
                row.number = 0  # type: ignore[misc]
            with pytest.raises(TypeError):
                hash(row)


def test_a_span_of_people_has_its_rows_read_in_one_query_a_sheet() -> None:
    """While a span of people's briefs is built (``Panel.reading``), each sheet's rows
    about them are read in one query: every read gives what the store holds, for the
    span's people, people outside it and nobody, in any order, and a list a reader
    changed does not change what the next reader gets."""
    import random

    panel = load_workbook(sample_workbook())
    memory = in_memory(panel)
    people = sorted(set(panel.people("Employees")))
    span, outside = people[5:20], [*people[:5], *people[20:], "nobody"]
    reads = [(sheet, p) for p in [*span, *outside] for sheet in ("Employees", "Evidence", "Teams")]
    random.Random(13).shuffle(reads)
    queries: list[str] = []
    store = panel.rows["Evidence"]
    assert isinstance(store, StoredRows)
    store.store.db.set_trace_callback(queries.append)
    with panel.reading(span):
        for sheet, person in reads * 2:
            got = panel.about(sheet, person)
            assert got == memory.about(sheet, person), (sheet, person)
            got.clear()  # the caller's list is its own
            assert panel.about(sheet, person) == memory.about(sheet, person)
    store.store.db.set_trace_callback(None)
    spans = [q for q in queries if " IN (" in q]
    assert len(spans) == 3  # one a sheet, for the whole span
    assert not any(f"person = '{p}'" in q for q in queries for p in span)
    assert panel._reading is None  # after the span, one person at a time again
    assert panel.about("Evidence", span[0]) == memory.about("Evidence", span[0])


def test_the_rows_of_many_people_at_once_are_the_rows_of_each() -> None:
    """``StoredRows.about_each`` asks for at most 500 people a query (SQLite's bound on
    a statement's values): more people give the same rows, each's in sheet order."""
    panel = load_workbook(sample_workbook())
    evidence = panel.rows["Evidence"]
    assert isinstance(evidence, StoredRows)
    people = [*sorted(set(panel.people("Employees"))), *[f"X{n}" for n in range(1200)]]
    found = evidence.about_each(people)
    assert found == {p: rows for p in people if (rows := evidence.about(p))}
    assert all(
        [r.number for r in rows] == sorted(r.number for r in rows) for rows in found.values()
    )


def test_threads_reading_one_store_each_get_their_own_rows() -> None:
    """The meeting's server answers requests in a pool of threads, all reading one
    store. With one SQLite connection shared between them, a query came back empty or
    with another person's rows, or raised "bad parameter or other API misuse" (found
    by the real server's concurrent decisions test): each thread has its own."""
    panel = load_workbook(sample_workbook())
    evidence = panel.rows["Evidence"]
    assert isinstance(evidence, StoredRows)
    store = evidence.store
    people = sorted(set(panel.people("Employees")))
    want = {p: [r.number for r in store.about("Employees", p)] for p in people}
    wrong: list[object] = []

    def read(k: int) -> None:
        try:
            for i in range(600):
                person = people[(i * 7 + k) % len(people)]
                got = [r.number for r in store.about("Employees", person)]
                if got != want[person]:
                    wrong.append((person, got, want[person]))
                if i % 10 == k:  # a long query beside the others' short ones
                    list(panel.people("Evidence"))
                    store.about_each("Evidence", people[:30])
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            wrong.append(error)

    threads = [threading.Thread(target=read, args=(k,)) for k in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_rejected_rows_leave_the_store_and_the_account_balances(tmp_path: Path) -> None:
    evidence = [*EVIDENCE, ["E9", "H-DEV", AS_OF, "Peer", None]]  # E9 is nobody
    panel = load_workbook(
        write(tmp_path, {"Cycle": CYCLE, "Employees": PEOPLE, "Evidence": evidence})
    )
    (error,) = panel.errors
    assert error.cell == "A5" and "E9" in error.message
    assert [r.number for r in panel.rows["Evidence"]] == [2, 3, 4]
    account = next(a for a in panel.accounts if a.sheet == "Evidence")
    assert (account.read, account.loaded, account.rejected) == (4, 3, 1)
    assert panel.rejected[0].number == 5 and panel.rejected[0].who == "E9"


def test_csv_rows_keep_file_line_and_header(tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    for name, rows in {"Cycle": CYCLE, "Employees": PEOPLE, "Evidence": EVIDENCE}.items():
        text = "\n".join(",".join("" if v is None else str(v) for v in row) for row in rows)
        (folder / f"{name}.csv").write_text(text + "\n", encoding="utf-8")
    panel = load_workbook(folder)
    assert not panel.errors
    (row, _) = panel.about("Evidence", "E2")
    assert row.ref("signal") == "Evidence.csv:2:signal" and row.number == 2


def test_the_file_is_deleted_when_the_run_is_dropped(tmp_path: Path) -> None:
    panel = load_workbook(write(tmp_path, {"Cycle": CYCLE, "Employees": PEOPLE}))
    rows = panel.rows["Employees"]
    assert isinstance(rows, StoredRows)
    folder = rows.store.folder
    assert os.path.exists(rows.store.path)
    del panel, rows
    gc.collect()
    assert not os.path.exists(folder)


def test_the_file_is_deleted_when_a_workbook_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A temporary folder of this test's own: other runs on the machine make and
    # remove theirs in /tmp at any moment.
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    people = [*PEOPLE, ["E2", "Bo again", None]]  # a duplicate id: an error
    with pytest.raises(ValidationError):
        evaluate_workbook(write(tmp_path, {"Cycle": CYCLE, "Employees": people}))
    gc.collect()
    assert not list(private.glob("talentrules-rows-*"))


def test_a_killed_runs_folder_is_removed_by_the_next_run() -> None:
    live = RowStore()
    stale = Path(tempfile.mkdtemp(prefix="talentrules-rows-"))
    (stale / "lock").touch()  # nobody holds its lock: its run was killed
    (stale / "rows.sqlite").write_bytes(b"rows")
    old = time.time() - 3600
    for folder in (stale, Path(live.folder)):
        os.utime(folder, (old, old))
    RowStore().close()
    assert not stale.exists()
    assert os.path.exists(live.path)  # a live run's lock is held: kept
    live.close()


def test_closing_the_store_deletes_it() -> None:
    store = RowStore()
    assert os.path.isdir(store.folder)
    store.close()
    assert not os.path.exists(store.folder)


def test_a_run_keeps_nobodys_facts_and_derives_the_same_ones() -> None:
    result = evaluate_workbook(sample_workbook(), jobs=1)
    assert isinstance(result.facts, facts.FactsOnDemand)
    everyone = facts.compute_facts(
        in_memory(result.panel),
        result.rulebook.vocabulary,
        facts.load_catalogue(result.rules_dir / facts.CATALOGUE_FILE),
    )
    assert [p.employee_id for p in everyone] == [r.employee_id for r in result.results]
    kept = decide.facts_read(result.rulebook)
    assert kept  # the allocation ranks on facts (readiness, ...)
    for person, r in zip(everyone, result.results, strict=True):
        assert result.facts[person.employee_id] == person
        assert r.person == person
        assert r.kept == {name: person.values[name] for name in kept}


def test_workers_derive_the_facts_the_parent_would() -> None:
    one = evaluate_workbook(sample_workbook(), jobs=1)
    two = evaluate_workbook(sample_workbook(), jobs=2)
    assert [(r.evaluation, r.kept) for r in one.results] == [
        (r.evaluation, r.kept) for r in two.results
    ]


def test_every_person_keyed_sheet_is_stored(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(sample_workbook(), read_only=True)
    tabs = set(wb.sheetnames)
    wb.close()
    panel = load_workbook(sample_workbook())
    for sheet in PERSON_COLUMN:
        if sheet in tabs:
            assert isinstance(panel.rows[sheet], PersonRows), sheet


def test_a_row_table_gives_what_row_about_gives(tmp_path: Path) -> None:
    """store.RowTable (everyone's Employees row in one query, for the summary and the
    results files) answers as model.RowAbout: the same rows, ids, order and misses; a
    person with two rows gets the last, as RowAbout gives it."""
    panel = load_workbook(sample_workbook())
    about, table = RowAbout(panel, "Employees"), RowTable(panel.rows["Employees"])
    assert list(table) == list(about) and len(table) == len(about)
    for eid in about:
        assert table[eid] == about[eid] and table[eid] == table[eid]
        assert table.get(eid) == about.get(eid)
    for missing in ("nobody", "", 1, None):
        assert missing not in table and missing not in about
        assert table.get(missing) is None

    store = RowStore()
    places = store.places["Employees"] = panel.rows["Employees"].store.places["Employees"]
    store.begin("Employees", places)
    first = next(iter(panel.rows["Employees"]))
    values = [first.get(p.column) for p in places]
    at = [p.column for p in places].index("employee_id")
    for number, eid in ((2, "E1"), (3, "E2"), (4, "E1"), (5, None)):
        store.add("Employees", number, [*values[:at], eid, *values[at + 1 :]], None)
    store.done()
    twice = in_memory(panel)
    twice.rows["Employees"] = StoredRows(store, "Employees")
    about, table = RowAbout(twice, "Employees"), RowTable(StoredRows(store, "Employees"))
    assert list(table) == list(about) == ["E1", "E2"]
    assert table["E1"].number == about["E1"].number == 4
    assert table["E1"] == about["E1"] and table["E2"] == about["E2"]
    store.close()


def test_writing_the_outputs_leaves_the_runs_employees_as_they_were(tmp_path: Path) -> None:
    from talentrules.report import write_outputs

    result = evaluate_workbook(sample_workbook(), jobs=1)
    employees = result.employees
    write_outputs(result, tmp_path / "out", jobs=2)
    assert result.employees is employees


def test_dates_after_the_as_of_date_are_found_from_the_stored_latest_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check of dates after the cycle's as_of reads only the rows whose latest date
    in a dated column is after it (``RowStore.begin``'s ``dated``): it finds what
    reading every row finds, with one such column, with two (either or both late), with
    dates on the day, the day after, and text that is not a date."""
    late, day = dt.date(2027, 1, 1), AS_OF + dt.timedelta(days=1)
    people = [["employee_id", "full_name", "hire_date", "date_in_role"]]
    for i, (hired, in_role) in enumerate(
        [(AS_OF, AS_OF), (late, AS_OF), (AS_OF, day), (late, late), (None, day), ("x", late)]
    ):
        people.append([f"E{i + 1}", f"P {i}", hired, in_role])
    evidence = [EVIDENCE[0]] + [
        [f"E{i % 6 + 1}", "H-DEV", d, "Peer", None]
        for i, d in enumerate([AS_OF, day, dt.date(1999, 1, 1), late, None, "soon"])
    ]
    path = write(tmp_path, {"Cycle": CYCLE, "Employees": people, "Evidence": evidence})
    found = load_workbook(path)
    assert sum("after the cycle's as_of" in p.message for p in found.problems) == 8

    def every_row(self: SheetRead, columns: list[str], as_of: dt.date) -> Any:
        return self.values(columns)

    monkeypatch.setattr(SheetRead, "dated_after", every_row)
    assert load_workbook(path).problems == found.problems


def test_a_sheet_merged_from_a_helper_keeps_its_dated_columns() -> None:
    """``RowStore.merge``: the helper's rows join the store, and the sheet keeps the
    columns whose latest date its rows keep (a row added after still has it)."""
    places = (Place("employee_id", "Evidence!A", ""), Place("observed_on", "Evidence!B", ""))
    late, early = dt.date(2027, 1, 1), dt.date(2020, 1, 1)
    store, helper = RowStore(), RowStore()
    path = os.path.join(store.folder, "helper.sqlite")
    helper.divert(path)
    helper.begin("Evidence", places, ["observed_on"])
    helper.add("Evidence", 2, ["E1", late], None)
    helper.add("Evidence", 3, ["E2", early], None)
    helper.flush()
    helper.db.commit()
    helper.close()
    store.merge(path, "Evidence", places, ["observed_on"])
    store.add("Evidence", 4, ["E3", late], None)
    found = list(store.values("Evidence", ["employee_id"], after=AS_OF))
    assert found == [(2, ("E1",)), (4, ("E3",))]
    store.close()


def test_references_to_people_not_in_employees_are_found_by_sqlite_as_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """References to unknown people on a sheet whose one such column is its person
    column (Evidence's, Development's) are left to SQLite (``RowStore.strangers``): the
    same problems, in the same order, as checking every row: ids unknown, blank, a
    number, the same id with another case or leading zeros (a suggestion), an Employees
    row rejected (still known), and an Employees id given twice."""
    people = [
        ["employee_id", "full_name", "manager_id"],
        ["E1", "Ana", None],
        ["E2", "Bo", "E9"],
        ["E2", "Bo again", "E1"],
        ["007", "Bond", "e1"],
        [None, "Nobody", "E1"],
    ]
    evidence = [EVIDENCE[0]] + [
        [who, "H-DEV", AS_OF, "Peer", None]
        for who in ["E1", "E9", None, "e1", "7", 42, "E2", "E9", " ", "007", "Ana"]
    ]
    development = [["employee_id", "action", "started"], ["E8", "course", AS_OF]]
    path = write(
        tmp_path,
        {"Cycle": CYCLE, "Employees": people, "Evidence": evidence, "Development": development},
    )
    asked: list[str] = []
    strangers = RowStore.strangers

    def spy(self: RowStore, sheet: str, known: str) -> Any:
        asked.append(sheet)
        return strangers(self, sheet, known)

    monkeypatch.setattr(RowStore, "strangers", spy)
    found = load_workbook(path)
    assert asked == ["Evidence", "Development"]
    assert sum("is not an employee_id" in p.message for p in found.problems) >= 6

    def every_row(self: SheetRead, columns: list[str], people: SheetRead, column: str) -> Any:
        return self.values(columns)

    monkeypatch.setattr(SheetRead, "unknown", every_row)
    again = load_workbook(path)
    assert again.problems == found.problems
    assert again.rejected == found.rejected


@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.text())
def test_fold_of_ascii_text_is_the_unicode_fold(text: str) -> None:
    """``fold``'s shortcut for ASCII text (casefolded alone) gives what normalizing
    gives; other text is normalized."""
    expected = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    assert fold(text) == expected


_KEYS = st.one_of(
    st.none(),
    st.sampled_from(["E1", "e1", "E2", "Café", "Cafe\u0301", "CAFÉ", "1", "ß", "SS", "ss"]),
    st.integers(0, 2),
    st.sampled_from([1.0, 2.5, True]),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(_KEYS, max_size=12), _KEYS)
def test_duplicates_and_lookalikes_are_what_their_queries_find(
    keys: list[object], later: object
) -> None:
    """A sheet whose keys neither repeat nor share a fold skips the two queries
    (``RowStore._repeated``): the answer is what running them gives, for text, case and
    Unicode forms, numbers equal across types, and blanks; and again after a row is added."""
    places = (Place("employee_id", "Employees!A", ""), Place("x", "Employees!B", ""))
    store = RowStore()
    store.begin("Employees", places)

    def both() -> tuple[object, object]:
        return store.duplicates("Employees"), store.lookalikes("Employees")

    def queried() -> tuple[object, object]:
        skipping = store._repeated
        store._repeated = lambda sheet: (True, True)  # type: ignore[method-assign]
        try:
            return both()
        finally:
            store._repeated = skipping  # type: ignore[method-assign]

    try:
        for number, key in enumerate(keys, start=2):
            store.add("Employees", number, ["E", key], "x")
        assert both() == queried()
        store.add("Employees", len(keys) + 2, ["E", later], "x")
        assert both() == queried()
    finally:
        store.close()
