"""The session store of `talentrules serve` (talentrules.session) and a decision's
validation (talentrules.serve.state): on the shipped sample, a real SQLite file."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from talentrules.errors import SessionError
from talentrules.paths import sample_workbook
from talentrules.run import RunResult, evaluate_workbook
from talentrules.serve.state import PanelState, Refused
from talentrules.session import (
    SessionDecision,
    StaleDecision,
    default_session_path,
    open_session,
    read_session,
    verify_session,
)

A, B = "a" * 64, "b" * 64


@pytest.fixture(scope="module")
def sample() -> RunResult:
    return evaluate_workbook(sample_workbook())


@pytest.fixture
def state(sample: RunResult, tmp_path: Path) -> Iterator[PanelState]:
    """The meeting on the sample, with a new session file (closed after the test)."""
    session = open_session(
        tmp_path / "s.sqlite", sample.panel.path.name, sample.panel.sha256, sample.rulebook.sha256
    )
    yield PanelState(sample, session)
    session.close()


def decide(state: PanelState, **values: str | None) -> None:
    raw = {
        "employee_id": "00005",
        "field": "heart",
        "decision": "Emerging",
        "reason": "seen in the meeting",
        "decided_by": "A. Chair",
    }
    raw.update(values)
    state.decide(raw, None)


def test_recorded_decisions_survive_reopening_and_chain(tmp_path: Path) -> None:
    path = tmp_path / "s.session.sqlite"
    session = open_session(path, "w.xlsx", A, B)
    first = session.record("00001", "heart", "Emerging", "why", "A. Chair", 0)
    second = session.record("00002", "track", "Expert", "why not", "B. Member")
    session.close()
    again = open_session(path, "w.xlsx", A, B)
    assert [d.seq for d in again.decisions] == [1, 2]
    assert again.decisions == [first, second]
    assert first.prev == again.meta.hash and second.prev == first.hash
    assert second.against_seq is None and first.against_seq == 0
    report = verify_session(path)
    assert report.ok and report.decisions == 2 and report.last_hash == second.hash
    assert second.origin == "session decision 2 by B. Member"
    again.close()


def test_update_and_delete_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    session = open_session(path, "w.xlsx", A, B)
    session.record("00001", "heart", "Emerging", "why", "A. Chair")
    session.close()
    connection = sqlite3.connect(path)
    for statement in (
        "UPDATE decisions SET value = 'Strong' WHERE seq = 1",
        "DELETE FROM decisions WHERE seq = 1",
        "UPDATE meta SET workbook_sha256 = 'c'",
        "DELETE FROM meta",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute(statement)
    connection.close()
    assert verify_session(path).ok


def tampered(tmp_path: Path, *statements: str) -> list[str]:
    """Five decisions, then the statements run with the triggers dropped."""
    path = tmp_path / "t.sqlite"
    session = open_session(path, "w.xlsx", A, B)
    for number in range(1, 6):
        session.record(f"0000{number}", "heart", "Emerging", "why", "A. Chair")
    session.close()
    connection = sqlite3.connect(path)
    for name in ("decisions_no_update", "decisions_no_delete", "meta_no_update"):
        connection.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return verify_session(path).problems


def test_verify_names_the_changed_decision(tmp_path: Path) -> None:
    problems = tampered(tmp_path, "UPDATE decisions SET reason = 'other' WHERE seq = 3")
    assert problems[0] == (
        "t.sqlite: decision 3 (employee 00003) was changed after it was recorded (its hash "
        "does not match its content)"
    )


def test_verify_names_a_removed_decision(tmp_path: Path) -> None:
    problems = tampered(tmp_path, "DELETE FROM decisions WHERE seq = 2")
    assert problems[0].startswith("t.sqlite: decision 3 (employee 00003) is in place 2")


def test_verify_names_a_rewritten_link_and_the_meta(tmp_path: Path) -> None:
    problems = tampered(
        tmp_path,
        "UPDATE decisions SET prev = 'x' WHERE seq = 4",
        "UPDATE meta SET workbook_sha256 = 'c'",
    )
    assert problems[0] == "t.sqlite: the meta row was changed after it was written"
    assert problems[1].startswith("t.sqlite: decision 4 (employee 00004) does not hold the hash")
    assert "the append-only triggers" in problems[-1]


def test_a_broken_session_is_refused_on_opening(tmp_path: Path) -> None:
    tampered(tmp_path, "UPDATE decisions SET value = 'Strong' WHERE seq = 1")
    with pytest.raises(SessionError, match="decision 1 .* was changed"):
        open_session(tmp_path / "t.sqlite", "w.xlsx", A, B)


def test_not_a_session_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("not a database at all, just text " * 100)
    with pytest.raises(SessionError, match="notes.sqlite"):
        open_session(path, "w.xlsx", A, B)
    assert not verify_session(path).ok


def test_another_workbook_or_rulebook_is_refused_unless_reused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    open_session(path, "w.xlsx", A, B).close()
    with pytest.raises(SessionError, match="another workbook .*--reuse-session"):
        open_session(path, "w.xlsx", "c" * 64, B)
    with pytest.raises(SessionError, match="another rulebook"):
        read_session(path, A, "c" * 64)
    open_session(path, "w.xlsx", "c" * 64, "c" * 64, reuse=True).close()
    assert read_session(path, A, B)[1] == []


def test_a_later_decision_refuses_a_stale_one(tmp_path: Path) -> None:
    session = open_session(tmp_path / "s.sqlite", "w.xlsx", A, B)
    session.record("00001", "heart", "Emerging", "why", "A. Chair", 0)
    with pytest.raises(StaleDecision) as refused:
        session.record("00001", "heart", "Strong", "no", "B. Member", 0)
    assert refused.value.latest.seq == 1 and refused.value.latest.decided_by == "A. Chair"
    # Another person's decisions never make a page stale; confirming (the latest seq) works.
    session.record("00002", "heart", "Strong", "no", "B. Member", 0)
    assert session.record("00001", "heart", "Strong", "no", "B. Member", 1).seq == 3
    session.close()


def test_threads_recording_at_once_lose_and_repeat_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    session = open_session(path, "w.xlsx", A, B)

    def work(who: int) -> None:
        for n in range(25):
            session.record(f"{who:05}", "heart", "Emerging", f"reason {n}", f"member {who}")

    threads = [threading.Thread(target=work, args=(who,)) for who in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session.close()
    report = verify_session(path)
    assert report.ok and report.decisions == 200
    _, decisions = read_session(path, A, B)
    assert [d.seq for d in decisions] == list(range(1, 201))
    assert sorted((d.decided_by, d.reason) for d in decisions) == sorted(
        (f"member {w}", f"reason {n}") for w in range(8) for n in range(25)
    )


def test_default_session_path(tmp_path: Path) -> None:
    assert default_session_path(tmp_path / "panel.xlsx") == tmp_path / "panel.session.sqlite"
    (tmp_path / "csv").mkdir()
    assert default_session_path(tmp_path / "csv") == tmp_path / "csv.session.sqlite"


# --- a decision validated as an Overrides row is -----------------------------------------


@pytest.mark.parametrize(
    ("values", "status", "words"),
    [
        ({"employee_id": "99999"}, 404, "'99999' is not a person under review"),
        ({"field": "salary"}, 400, "'salary' is not a field"),
        ({"reason": "  "}, 400, "The reason is needed but is blank"),
        ({"decided_by": ""}, 400, "The decided_by is needed but is blank"),
        ({"decision": "Very strong"}, 400, "'Very strong' is not a value of heart"),
        ({"field": "investment", "decision": "LEAD-NOPE"}, 400, "not an investment in the"),
        ({"field": "allocation", "decision": "LEAD-PROG"}, 400, "is not an allocation decision"),
    ],
    ids=["person", "field", "reason", "decider", "value", "investment", "allocation"],
)
def test_refusals_name_what_is_wrong_in_one_sentence(
    state: PanelState, values: dict[str, str], status: int, words: str
) -> None:
    with pytest.raises(Refused) as refused:
        decide(state, **values)
    text = refused.value.sentence
    assert words in text and refused.value.status == status
    assert (text[0].isupper() or text[0] == "'") and text.endswith("."), text
    assert re.search(r"(?<!e\.g)\.\s+[A-Z]", text) is None, text  # one sentence
    assert state.session.decisions == []


def test_a_field_alias_is_read_as_the_sheet_reads_it(state: PanelState) -> None:
    decide(state, field="Heart verdict", decision="emerging")
    recorded = state.session.decisions[0]
    assert (recorded.field, recorded.value) == ("heart", "emerging")
    person = state.current().person("00005")
    assert person["decided"]["heart"] == "Emerging"
    assert person["override"][0]["cells"]["decision"] == "session decision 1 by A. Chair"


def test_decisions_move_the_plan_and_an_undo_is_a_new_decision(state: PanelState) -> None:
    before = state.current().totals()
    decide(state, field="investment", decision="LEAD-STRETCH; LEAD-PROG; RET")
    after = state.current().totals()
    assert after["committed"] > before["committed"]
    assert after["seats"]["RET"]["allocated"] == before["seats"]["RET"]["allocated"] + 1
    undo = state.recommended_value("00005", "investment")
    decide(state, field="investment", decision=undo, reason="back to the rules")
    assert state.current().totals()["committed"] == before["committed"]
    assert [d.seq for d in state.session.decisions] == [1, 2]


def test_the_next_writer_waits_until_the_decision_before_is_read(tmp_path: Path) -> None:
    # A decision is appended to the session's list after its commit; were that outside
    # the lock, the next writer would take the file's last seq for another program's.
    session = open_session(tmp_path / "s.sqlite", "w.xlsx", A, B)

    class SlowList(list[SessionDecision]):
        def append(self, item: SessionDecision) -> None:
            time.sleep(0.05)
            super().append(item)

    session.decisions = SlowList()
    threads = [
        threading.Thread(
            target=session.record, args=(f"0000{n}", "heart", "Emerging", "why", "A. Chair")
        )
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [d.seq for d in session.decisions] == [1, 2, 3, 4]
    session.close()
