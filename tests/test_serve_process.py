"""`talentrules serve` as a real process on --port 0, spoken to over HTTP; kill -9
loses no committed decision; `evaluate --session` end to end and `audit verify`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from talentrules.cli import cli
from talentrules.paths import sample_workbook
from talentrules.run import evaluate_workbook
from talentrules.session import open_session, verify_session

LINK = re.compile(r"^(http://127\.0\.0\.1:(\d+)/\?token=(\S+))$")
OBSERVER = re.compile(r"^Read-only link for observers.*\?token=(\S+)$")


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    token: str
    observer: str

    def call(
        self, method: str, path: str, body: object = None, token: str | None = None
    ) -> tuple[int, dict[str, object]]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token or self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    copy = tmp_path / "panel_review.xlsx"
    shutil.copy(sample_workbook(), copy)
    return copy


@pytest.fixture
def server(workbook: Path) -> Iterator[Server]:
    process = subprocess.Popen(
        [sys.executable, "-m", "talentrules", "serve", str(workbook), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert process.stdout is not None
    panel: re.Match[str] | None = None
    observer: re.Match[str] | None = None
    for line in process.stdout:  # the links come before the server listens for long
        panel = panel or LINK.match(line.strip())
        observer = observer or OBSERVER.match(line.strip())
        if panel and observer:
            break
    assert panel and observer, process.stderr.read() if process.stderr else ""
    # The server prints nothing more (no access log): its pipes cannot fill up.
    yield Server(process, int(panel.group(2)), panel.group(3), observer.group(1))
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)  # waits, and closes the pipes


def test_the_real_server_on_a_free_port_and_kill_9(server: Server, workbook: Path) -> None:
    assert server.port != 0 and server.token != server.observer
    status, body = server.call("GET", "/api/summary")
    assert status == 200 and body["seq"] == 0
    bodies = [
        {
            "employee_id": f"{n:05}",
            "field": "heart",
            "value": "Emerging",
            "reason": f"reason {n}",
            "decided_by": "A. Chair",
        }
        for n in range(1, 11)
    ]
    answers: list[int] = []
    threads = [
        threading.Thread(
            target=lambda b=b: answers.append(server.call("POST", "/api/decisions", b)[0])
        )
        for b in bodies
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [201] * 10
    status, body = server.call("POST", "/api/decisions", bodies[0], token=server.observer)
    assert status == 403
    # kill -9 right after the answers: every answered decision is in the file.
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(30)
    path = workbook.with_name("panel_review.session.sqlite")  # the documented default
    report = verify_session(path)
    assert report.ok and report.decisions == 10, report.problems
    result = evaluate_workbook(workbook)
    session = open_session(path, workbook.name, result.panel.sha256, result.rulebook.sha256)
    assert sorted(d.reason for d in session.decisions) == sorted(b["reason"] for b in bodies)
    assert [d.seq for d in session.decisions] == list(range(1, 11))
    session.close()


def test_evaluate_with_a_session_end_to_end(workbook: Path, tmp_path: Path) -> None:
    result = evaluate_workbook(workbook)
    path = tmp_path / "meeting.sqlite"
    session = open_session(path, workbook.name, result.panel.sha256, result.rulebook.sha256)
    session.record("00005", "investment", "LEAD-STRETCH; RET", "retain her", "A. Chair")
    session.record("00005", "heart", "Emerging", "first view", "B. Member")
    session.record("00005", "heart", "Strong", "on reflection", "A. Chair")  # supersedes
    session.record("00007", "track", "Gather evidence", "too little seen", "B. Member")
    session.close()
    out = tmp_path / "out"
    runner = CliRunner()
    ran = runner.invoke(cli, ["evaluate", str(workbook), "--session", str(path), "-o", str(out)])
    assert ran.exit_code == 0, ran.output
    assert "session.sqlite with 4 decisions, panel_review.decided.xlsx" in ran.stdout
    data = json.loads((out / "recommendations.json").read_text())
    priya = next(p for p in data["people"] if p["employee_id"] == "00005")
    cells = {o["cells"]["decision"]: o["applies"] for o in priya["override"]}
    assert cells == {
        "session decision 1 by A. Chair": True,
        "session decision 2 by B. Member": False,
        "session decision 3 by A. Chair": True,
    }
    assert {e["code"]: e["status"] for e in priya["plan"]}["RET"] == "allocated"
    assert "session decision 1 by A. Chair" in (out / "briefs" / "00005.md").read_text()
    assert "session decision 4 by B. Member" in (out / "summary.md").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert "session.sqlite" in manifest["files"]
    assert manifest["options"]["session"]["decisions"] == 4
    verified = runner.invoke(cli, ["audit", "verify", str(out), "--workbook", str(workbook)])
    assert verified.exit_code == 0, verified.output
    assert "session.sqlite: hash chain of 4 session decisions intact" in verified.output
    assert "replay of panel_review.xlsx: 45 people" in verified.output

    # The workbook's copy holds the decisions that apply, and evaluates to the same plan.
    book = openpyxl.load_workbook(out / "panel_review.decided.xlsx")
    rows = [r for r in book["Overrides"].iter_rows(values_only=True) if r[0] in ("00005", "00007")]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("00005", "investment", "LEAD-STRETCH; RET"),
        ("00005", "heart", "Strong"),
        ("00007", "track", "Gather evidence"),
    ]
    again = tmp_path / "again"
    ran = runner.invoke(cli, ["evaluate", str(out / "panel_review.decided.xlsx"), "-o", str(again)])
    assert ran.exit_code == 0, ran.output
    copied = json.loads((again / "recommendations.json").read_text())

    def plans(people: list[dict[str, object]]) -> list[object]:
        return [
            [(e["code"], e["status"], e["by"], e["cost"]) for e in p["plan"]]  # type: ignore[attr-defined]
            for p in people
        ]

    assert plans(copied["people"]) == plans(data["people"])
    assert copied["budget"] == data["budget"]

    # Tampering with the session's copy in OUTDIR is found, and named.
    connection = sqlite3.connect(out / "session.sqlite")
    connection.execute("DROP TRIGGER decisions_no_update")
    connection.execute("UPDATE decisions SET reason = 'edited' WHERE seq = 2")
    connection.commit()
    connection.close()
    verified = runner.invoke(cli, ["audit", "verify", str(out)])
    assert verified.exit_code != 0
    assert "session.sqlite: decision 2 (employee 00005) was changed" in verified.output


def test_evaluate_refuses_a_session_of_another_workbook(workbook: Path, tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    open_session(path, "other.xlsx", "a" * 64, "b" * 64).close()
    ran = CliRunner().invoke(
        cli, ["evaluate", str(workbook), "--session", str(path), "-o", str(tmp_path / "o")]
    )
    assert ran.exit_code == 1
    assert "recorded on another workbook" in ran.output and "--reuse-session" in ran.output
    assert not (tmp_path / "o").exists()


def test_a_port_in_use_is_said_before_the_evaluation(workbook: Path) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = str(taken.getsockname()[1])
        ran = CliRunner().invoke(cli, ["serve", str(workbook), "--port", port])
    finally:
        taken.close()
    assert ran.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in ran.output and "--port 0" in ran.output
    assert not workbook.with_name("panel_review.session.sqlite").exists()


def test_a_workbook_with_errors_is_served_only_with_allow_rejects(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    shutil.copy(sample_workbook("panel_review_broken.xlsx"), broken)
    ran = CliRunner().invoke(cli, ["serve", str(broken), "--port", "0"])
    assert ran.exit_code == 1 and "NOT usable" in ran.output and "--allow-rejects" in ran.output
    process = subprocess.Popen(
        [sys.executable, "-m", "talentrules", "serve", str(broken), "--port", "0"]
        + ["--allow-rejects"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert process.stdout is not None
    try:
        first = process.stdout.readline()
        assert first.startswith("talentrules serve: ") and "from broken.xlsx" in first, first
        link = None
        while link is None:
            link = LINK.match(process.stdout.readline().strip())
        server = Server(process, int(link.group(2)), link.group(3), "")
        for _ in range(100):  # listening from the start; answering once uvicorn runs
            try:
                status, body = server.call("GET", "/api/summary")
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200 and body["seq"] == 0
    finally:
        process.send_signal(signal.SIGTERM)  # as a service manager stops it: cleanly
        process.communicate(timeout=30)
    assert process.returncode == 0
