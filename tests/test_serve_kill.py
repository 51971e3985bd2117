"""kill -9 loses nothing: a decision the server answered 201 to is in the session
file when the server is started again on it, exactly once, with the seq it was given,
and the chain still verifies. The real server process on the sample workbook."""

from __future__ import annotations

import http.client
import threading
from pathlib import Path
from typing import Any

import live_server

from talentrules.session import verify_session

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_inputs" / "panel_review.xlsx"


def _heart_changes(people: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """``count`` decisions, each on another person, each giving the person a heart
    verdict some other person of the sample has (a value the rulebook produces)."""
    verdicts = sorted({p["heart"] for p in people})
    assert len(verdicts) > 1, verdicts
    made = []
    for n, person in enumerate(people[:count]):
        value = next(v for v in verdicts[n % len(verdicts) :] + verdicts if v != person["heart"])
        made.append(
            {
                "employee_id": person["employee_id"],
                "field": "heart",
                "value": value,
                "reason": f"kill test decision {n}",
                "decided_by": "K. Osei",
            }
        )
    return made


def _key(decision: dict[str, Any]) -> tuple[str, str]:
    return str(decision["decided_by"]), str(decision["reason"])


def test_kill_9_loses_no_answered_decision(tmp_path: Path) -> None:
    session = tmp_path / "panel.sqlite"
    server = live_server.start(SAMPLE, session)
    answered: list[dict[str, Any]] = []  # sent, with the seq of the 201
    unanswered: list[dict[str, Any]] = []  # in flight when the server died
    api = server.api()
    try:
        wanted = _heart_changes(live_server.people(api), 30)
        for decision in wanted[:10]:  # one after another, each answered
            reply = api.post("/api/decisions", decision)
            assert reply.status == 201, (reply.body, server.output())
            answered.append({**decision, "seq": reply.body["decision"]["seq"]})

        # Then a client keeps deciding while the server is killed under it.
        ten_more = threading.Event()

        def keep_deciding() -> None:
            with server.api() as other:
                decide_until_killed(other)

        def decide_until_killed(other: live_server.Api) -> None:
            for decision in wanted[10:]:
                try:
                    reply = other.post("/api/decisions", decision)
                except (OSError, http.client.HTTPException):  # died with this one in flight
                    unanswered.append(decision)
                    return
                if reply.status != 201:
                    unanswered.append(decision)
                    return
                answered.append({**decision, "seq": reply.body["decision"]["seq"]})
                if len(answered) >= 14:
                    ten_more.set()
            ten_more.set()

        client = threading.Thread(target=keep_deciding)
        client.start()
        assert ten_more.wait(60), server.output()
    finally:
        server.kill9()
        api.close()
    client.join(30)
    assert server.process.returncode == -9
    assert len(answered) < len(wanted), "the kill came after the last decision, not amid them"

    again = live_server.start(SAMPLE, session)
    api = again.api()
    try:
        recorded = live_server.decisions(api)
        by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in recorded:
            by_key.setdefault(_key(row), []).append(row)
        for decision in answered:
            rows = by_key.get(_key(decision), [])
            assert len(rows) == 1, (decision, rows)
            assert int(rows[0]["seq"]) == int(decision["seq"])
            assert rows[0]["value"] == decision["value"]
        # Nothing else: at most the one in flight may have been committed unanswered.
        extra = set(by_key) - {_key(d) for d in answered}
        assert extra <= {_key(d) for d in unanswered}, extra
        seqs = sorted(int(row["seq"]) for row in recorded)
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))

        # The decisions apply after the restart, and the session goes on from there.
        people = {p["employee_id"]: p for p in live_server.people(api)}
        last = {d["employee_id"]: d for d in answered}
        for employee_id, decision in last.items():
            overrides = people[employee_id].get("override") or []
            assert any(
                o.get("field") == "heart" and decision["value"] in (o.get("decision") or [])
                for o in overrides
            ), (employee_id, overrides)
        follow = {**_heart_changes(list(people.values()), 31)[30], "reason": "after the restart"}
        reply = api.post("/api/decisions", follow)
        assert reply.status == 201, reply.body
        assert int(reply.body["decision"]["seq"]) == seqs[-1] + 1
    finally:
        api.close()
        again.stop()

    # The chain holds across the kill (what audit verify checks in a session's copy).
    report = verify_session(session)
    assert report.ok and report.decisions == len(seqs) + 1, report.problems
