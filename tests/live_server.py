"""The real ``talentrules serve`` process, started and read as a user would: its
printed links give the port and the tokens; a small JSON client speaks its API.

Used by the browser and kill -9 tests and by benchmarks/bench_serve.py (which loads
this file by path), so the tests and the benchmark start the server the same way.
Nothing here knows how the server is built: only its command line, its printed links
and its HTTP API.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN_LINK = re.compile(r"https?://\S+\?\S*token=\S+")
READ_ONLY_WORDS = ("read-only", "read only", "observer")
START_TIMEOUT = 180.0  # seconds: a 1,000-person workbook is evaluated before the server listens


class ServerFailed(RuntimeError):
    """The server exited, or printed no links in time; the message carries its output."""


@dataclass
class LiveServer:
    """A running ``talentrules serve``: the panel's link, the observers' link, its output."""

    process: subprocess.Popen[str]
    panel_url: str
    observer_url: str
    stdout: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=200))
    stderr: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=200))
    readers: list[threading.Thread] = field(default_factory=list)

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        parts = urllib.parse.urlsplit(self.panel_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.panel_url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        port = urllib.parse.urlsplit(self.panel_url).port
        assert port is not None, self.panel_url
        return port

    @property
    def token(self) -> str:
        return token_of(self.panel_url)

    @property
    def observer_token(self) -> str:
        return token_of(self.observer_url)

    def output(self) -> str:
        """What the server printed lately, for a failing assertion's message."""
        return "stdout:\n" + "".join(self.stdout) + "\nstderr:\n" + "".join(self.stderr)

    def api(self, token: str | None = None, timeout: float = 30.0) -> Api:
        """A JSON client on this server, with the panel's token unless told another."""
        return Api(self.host, self.port, self.token if token is None else token, timeout)

    def stop(self) -> int:
        """SIGTERM, as Ctrl+C in a terminal would; SIGKILL if it does not go in 20 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close_pipes()
        return self.process.returncode

    def kill9(self) -> None:
        """``kill -9``: no handler runs, nothing is flushed or closed by the server."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for reader in self.readers:  # they end at the pipes' end, the process's exit
            reader.join(10)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


def token_of(url: str) -> str:
    tokens = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("token", [])
    assert tokens, f"no token in {url}"
    return tokens[0]


def serve_command(workbook: Path, session: Path, *extra: str) -> list[str]:
    """The command a facilitator types, through this interpreter's talentrules."""
    return [
        sys.executable,
        "-m",
        "talentrules",
        "serve",
        str(workbook),
        "--session",
        str(session),
        "--port",
        "0",
        *extra,
    ]


def start(workbook: Path, session: Path, *extra: str, timeout: float = START_TIMEOUT) -> LiveServer:
    """Start ``talentrules serve WORKBOOK --session SESSION --port 0`` and wait for its
    two links: the panel's (the first tokened link) and the observers' (the tokened
    link on a line that says read-only or observer, else the second one)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")  # the links reach the pipe at once
    process = subprocess.Popen(
        serve_command(workbook, session, *extra),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    stdout: collections.deque[str] = collections.deque(maxlen=200)
    stderr: collections.deque[str] = collections.deque(maxlen=200)
    lines: queue.Queue[str | None] = queue.Queue()
    # Both pipes are drained for the server's whole life: a full pipe (an access log
    # under load) would block the server on a write and look like slowness.
    readers = [_drain(process.stdout, stdout, lines), _drain(process.stderr, stderr, None)]
    links: list[tuple[str, str]] = []  # (line, link)
    deadline = time.monotonic() + timeout
    while len(links) < 2:
        remaining = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(remaining, 0.01)) if remaining > 0 else None
        except queue.Empty:
            line = None
        if line is None:  # the server exited, or the time is up
            _end(process, readers)
            raise ServerFailed(
                f"talentrules serve gave no panel and observer links "
                f"(exit status {process.returncode}):\nstdout:\n{''.join(stdout)}"
                f"\nstderr:\n{''.join(stderr)}"
            )
        found = TOKEN_LINK.search(line)
        if found:
            links.append((line, found.group(0).rstrip(".,;)'\"")))
    observer = [link for line, link in links if any(w in line.lower() for w in READ_ONLY_WORDS)]
    panel = [link for _, link in links if link not in observer]
    panel_url = panel[0] if panel else links[0][1]
    observer_url = observer[0] if observer else links[1][1]
    return LiveServer(process, panel_url, observer_url, stdout, stderr, readers)


@contextmanager
def running(workbook: Path, session: Path, *extra: str) -> Iterator[LiveServer]:
    server = start(workbook, session, *extra)
    try:
        yield server
    finally:
        server.stop()


def _drain(pipe: Any, keep: collections.deque[str], lines: queue.Queue[str | None] | None) -> None:
    def read() -> None:
        for line in pipe:
            keep.append(line)
            if lines is not None:
                lines.put(line)
        if lines is not None:
            lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


def _end(process: subprocess.Popen[str], readers: list[threading.Thread]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(10)
    for reader in readers:
        reader.join(10)
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


@dataclass
class Reply:
    status: int
    body: Any  # the decoded JSON, or the text when the body is not JSON
    seconds: float


class Api:
    """The server's JSON API over one kept-alive connection (one per thread)."""

    def __init__(self, host: str, port: int, token: str, timeout: float = 30.0) -> None:
        self.host, self.port, self.token, self.timeout = host, port, token, timeout
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Reply:
        sent = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        began = time.perf_counter()
        for attempt in (1, 2):  # a kept-alive connection the server closed: once more
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, self.port, self.timeout)
            try:
                self._connection.request(method, path, data, sent)
                response = self._connection.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2 or method != "GET":
                    raise
        seconds = time.perf_counter() - began
        text = raw.decode("utf-8", "replace")
        try:
            decoded: Any = json.loads(text)
        except ValueError:
            decoded = text
        return Reply(response.status, decoded, seconds)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> Reply:
        return self.request("POST", path, body)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def people(api: Api) -> list[dict[str, Any]]:
    """``GET /api/people`` as a list (a bare list, or a mapping with ``people``)."""
    reply = api.get("/api/people")
    assert reply.status == 200, (reply.status, reply.body)
    body = reply.body
    return list(body["people"] if isinstance(body, dict) else body)


def decisions(api: Api) -> list[dict[str, Any]]:
    """``GET /api/session``'s decisions (a bare list, or a mapping with ``decisions``)."""
    reply = api.get("/api/session")
    assert reply.status == 200, (reply.status, reply.body)
    body = reply.body
    return list(body["decisions"] if isinstance(body, dict) else body)


def waitlisted(person: dict[str, Any]) -> list[str]:
    """The codes this person waits for, from recommendations.json's allocation."""
    allocation = person.get("allocation") or {}
    return [code for code, seat in allocation.items() if seat.get("status") == "waitlisted"]


def first_lines(text: str, count: int = 5) -> Sequence[str]:
    return text.splitlines()[:count]
