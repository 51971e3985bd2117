"""A panel meeting under load: concurrent clients record decisions through
``talentrules serve``'s JSON API; none may be lost or duplicated.

    .venv/bin/python benchmarks/bench_serve.py           # 1,000 people, 10 clients, 1,000 decisions
    .venv/bin/python benchmarks/bench_serve.py --people 20 --clients 2 --decisions 20
    .venv/bin/python benchmarks/bench_serve.py --keep /tmp/bench-serve    # keep the files

A workbook of N people comes from ``benchmarks/make_workbook.py``; the real server
process is started on it with a fresh session file and ``--port 0`` (the port and
the token are read from the link it prints). Each client is a thread with its own
kept-alive HTTP connection; the people are dealt out among the clients, so no two
clients decide on the same person (two at once is a conflict the server must refuse,
not a load). Each client cycles through its people, changing a field each time
(heart, track, or an investment, values taken from what the people of this workbook
already have, never a domain word of ours); a person decided again names the
decision it follows (``against_seq``).

Then the decisions are checked three ways: ``GET /api/session``, the SQLite session
file read directly (each row holding the hash of the row before), and
``talentrules.session.verify_session``, the chain check ``audit verify`` runs on a
session's copy in an OUTDIR. Every
decision a client sent is there exactly once, with the seq its 201 answered, and
the seqs are contiguous. Printed: latency p50, p95 and max of the decision POSTs,
throughput, the server's CPU a decision, and how long the summary, the people list
and a person's page then take. Goal: p95 under 300 ms on 1,000 people (the machine is shared:
say what else ran). Exit status 1 when a decision is lost, duplicated or refused.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from types import ModuleType
from typing import Any

from talentrules.session import verify_session

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOAL_P95 = 0.300  # seconds


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:  # under pytest, tests/live_server.py is imported already
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


live_server = _load("live_server", ROOT / "tests" / "live_server.py")
make_workbook = _load("make_workbook", HERE / "make_workbook.py")


# --- what to decide -------------------------------------------------------------------


def alternatives(people: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The values each field takes somewhere in this workbook: a decision changes a
    person's value to another that the rulebook produces."""
    seen: dict[str, set[str]] = collections.defaultdict(set)
    for person in people:
        for name in ("heart", "track"):
            if isinstance(person.get(name), str) and person[name]:
                seen[name].add(person[name])
        for code in person.get("investments") or []:
            seen["investment"].add(code)
    return {name: sorted(values) for name, values in seen.items() if len(values) > 1}


def plan(
    people: list[dict[str, Any]], clients: int, decisions: int
) -> list[list[tuple[str, str, str]]]:
    """Per client, its decisions in order: (employee_id, field, value). People are dealt
    out round robin; a client goes round its own people as often as needed."""
    values = alternatives(people)
    fields = sorted(values)
    if not fields:
        raise SystemExit("the workbook gives no field two values to choose between")
    own: list[list[dict[str, Any]]] = [people[c::clients] for c in range(clients)]
    if any(not mine for mine in own):
        raise SystemExit(f"{len(people)} people cannot be shared among {clients} clients")
    work: list[list[tuple[str, str, str]]] = [[] for _ in range(clients)]
    for n in range(decisions):
        client = n % clients
        mine = own[client]
        turn = len(work[client])
        person = mine[turn % len(mine)]
        visit = turn // len(mine)  # how often this client has come round to this person
        name = fields[turn % len(fields)]
        current = person.get(name)
        if name == "investment":
            current = (person.get("investments") or [None])[0]
        choices = [v for v in values[name] if v != current]
        work[client].append((person["employee_id"], name, choices[visit % len(choices)]))
    return work


# --- the load -------------------------------------------------------------------------


class Client(threading.Thread):
    def __init__(
        self, number: int, server: Any, work: list[tuple[str, str, str]], start: threading.Event
    ) -> None:
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.server, self.work, self.go = number, server, work, start
        self.latencies: list[float] = []
        self.sent: list[dict[str, Any]] = []  # what was sent, with the seq answered
        self.refused: list[str] = []

    def run(self) -> None:
        api = self.server.api()
        last_seq: dict[str, int] = {}
        self.go.wait()
        try:
            for n, (employee_id, name, value) in enumerate(self.work):
                body: dict[str, Any] = {
                    "employee_id": employee_id,
                    "field": name,
                    "value": value,
                    "reason": f"bench client {self.number} decision {n}",
                    "decided_by": f"bench client {self.number}",
                }
                if employee_id in last_seq:
                    body["against_seq"] = last_seq[employee_id]
                try:
                    reply = api.post("/api/decisions", body)
                except OSError as error:
                    self.refused.append(f"{body['reason']}: {error}")
                    continue
                self.latencies.append(reply.seconds)
                if reply.status != 201:
                    self.refused.append(f"{body['reason']}: {reply.status} {reply.body}")
                    continue
                seq = int(reply.body["decision"]["seq"])
                last_seq[employee_id] = seq
                self.sent.append({**body, "seq": seq})
        finally:
            api.close()


def page_times(api: Any, employee_id: str) -> dict[str, tuple[float, float]]:
    """Seconds for each page with every decision applied: the first request after the
    last decision (which builds what the page shows) and the next (kept until a change)."""
    times = {}
    for name, path in (
        ("summary", "/"),
        ("people list", "/people"),
        ("person", f"/people/{employee_id}"),
    ):
        first, second = api.get(path), api.get(path)
        if first.status != 200 or second.status != 200:
            raise SystemExit(f"GET {path}: {first.status} {str(first.body)[:200]}")
        times[name] = (first.seconds, second.seconds)
    return times


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU seconds of a process so far (Linux's /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# --- the checks -----------------------------------------------------------------------


def decisions_table(path: Path) -> tuple[str, list[str]]:
    """The session file's table of decisions: the one with a seq and a reason column."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
            if "seq" in columns and "reason" in columns:
                return table, columns
    raise SystemExit(f"{path}: no table with seq and reason columns among {tables}")


def check(sent: list[dict[str, Any]], listed: list[dict[str, Any]], session: Path) -> list[str]:
    """What is wrong with the recorded decisions (nothing: an empty list)."""
    problems: list[str] = []
    ours = {(d["decided_by"], d["reason"]): d for d in sent}
    if len(ours) != len(sent):
        problems.append("the benchmark sent two decisions alike (a bug of the benchmark)")

    def compare(where: str, rows: list[dict[str, Any]]) -> None:
        found = collections.Counter((str(r["decided_by"]), str(r["reason"])) for r in rows)
        lost = [key for key in ours if found[key] == 0]
        twice = [key for key, count in found.items() if key in ours and count > 1]
        if lost:
            problems.append(f"{where}: {len(lost)} decisions lost, e.g. {lost[:3]}")
        if twice:
            problems.append(f"{where}: {len(twice)} decisions recorded twice, e.g. {twice[:3]}")
        seqs = sorted(int(r["seq"]) for r in rows)
        if seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            problems.append(f"{where}: seqs not contiguous ({seqs[:5]}...{seqs[-5:]})")
        for row in rows:
            mine = ours.get((str(row["decided_by"]), str(row["reason"])))
            if mine is not None and int(row["seq"]) != mine["seq"]:
                problems.append(
                    f"{where}: {mine['reason']} answered seq {mine['seq']}, recorded {row['seq']}"
                )
                break

    compare("GET /api/session", listed)
    table, columns = decisions_table(session)
    with closing(sqlite3.connect(f"file:{session}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(r) for r in db.execute(f'SELECT * FROM "{table}" ORDER BY seq')]
    compare(f"{session.name} ({table})", rows)
    links = sum(
        1 for before, row in zip(rows, rows[1:], strict=False) if row["prev"] != before["hash"]
    )
    if links:
        problems.append(f"{session.name}: {links} decisions do not hold the hash of the one before")
    verified = verify_session(session)  # the chain as audit verify checks a session's copy
    if not verified.ok:
        problems.append(f"verify_session({session.name}): {'; '.join(verified.problems)}")
    return problems


# --- the run --------------------------------------------------------------------------


def run(people: int, clients: int, decisions: int, folder: Path, seed: int) -> int:
    workbook = folder / f"people-{people}.xlsx"
    session = folder / f"session-{people}.sqlite"
    session.unlink(missing_ok=True)
    began = time.perf_counter()
    make_workbook.make_workbook(workbook, people, seed=seed)
    print(f"workbook: {people} people in {time.perf_counter() - began:.1f} s ({workbook})")
    began = time.perf_counter()
    server = live_server.start(workbook, session)
    try:
        print(f"server: listening after {time.perf_counter() - began:.1f} s at {server.origin}")
        api = server.api()
        everyone = live_server.people(api)
        before = len(live_server.decisions(api))
        work = plan(everyone, clients, decisions)
        go = threading.Event()
        pool = [Client(n, server, work[n], go) for n in range(clients)]
        for client in pool:
            client.start()
        load_before = os.getloadavg()[0]
        cpu_before = cpu_seconds(server.process.pid)
        began = time.perf_counter()
        go.set()
        for client in pool:
            client.join()
        wall = time.perf_counter() - began
        cpu_after = cpu_seconds(server.process.pid)
        load_after = os.getloadavg()[0]
        latencies = [s for client in pool for s in client.latencies]
        sent = [d for client in pool for d in client.sent]
        refused = [r for client in pool for r in client.refused]
        listed = live_server.decisions(api)
        pages = page_times(api, everyone[len(everyone) // 2]["employee_id"])
        api.close()
    finally:
        server.stop()
    problems = [f"{len(refused)} decisions refused, e.g. {refused[:3]}"] if refused else []
    if before:
        problems.append(f"the fresh session already held {before} decisions")
    problems += check(sent, listed, session)
    ms = [s * 1000 for s in latencies]
    print(
        f"decisions: {len(sent)} recorded of {decisions} sent by {clients} clients "
        f"in {wall:.2f} s: {len(sent) / wall:.1f} decisions/s"
    )
    if ms:
        p95 = percentile(ms, 0.95)
        print(
            f"latency of POST /api/decisions: p50 {statistics.median(ms):.1f} ms, "
            f"p95 {p95:.1f} ms, max {max(ms):.1f} ms, mean {statistics.fmean(ms):.1f} ms"
        )
        verdict = "met" if p95 < GOAL_P95 * 1000 else "MISSED"
        print(f"goal p95 under {GOAL_P95 * 1000:.0f} ms: {verdict}")
    shown = ", ".join(
        f"{name} {a * 1000:.0f} ms then {b * 1000:.0f} ms" for name, (a, b) in pages.items()
    )
    print(f"pages with the {len(listed)} decisions applied (first request, then again): {shown}")
    if cpu_before is not None and cpu_after is not None and sent:
        cpu = cpu_after - cpu_before
        print(
            f"server CPU: {cpu:.1f} s for the load, {cpu / len(sent) * 1000:.1f} ms a decision "
            f"(a figure the machine's other work does not stretch)"
        )
    print(
        f"machine: {os.cpu_count()} cores, load average {load_before:.1f} at the start, "
        f"{load_after:.1f} at the end (other work shares the cores)"
    )
    print(f"lost or duplicated: {'none' if not problems else len(problems)}")
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--decisions", type=int, default=1000, help="in total, over all clients")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write workbook and session here and keep them")
    args = parser.parse_args(argv)
    if min(args.people, args.clients, args.decisions) < 1:
        parser.error("--people, --clients and --decisions must be at least 1")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args.people, args.clients, args.decisions, args.keep, args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as folder:
        return run(args.people, args.clients, args.decisions, Path(folder), args.seed)


if __name__ == "__main__":
    sys.exit(main())
