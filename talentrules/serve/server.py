"""Starting the meeting: the state loaded, the socket bound, the links printed, then
uvicorn serving until Ctrl-C."""

from __future__ import annotations

import gc
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import uvicorn

from talentrules.errors import SessionError
from talentrules.interrupt import Interrupted, stop_signals
from talentrules.run import RunResult, evaluate_workbook
from talentrules.serve.app import create_app
from talentrules.serve.auth import Tokens
from talentrules.serve.state import PanelState
from talentrules.session import default_session_path, open_session

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Links:
    """The two links printed on start."""

    panel: str
    observer: str


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 takes a free one (the links name the real port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The protocol named, so asyncio sets TCP_NODELAY on accepted connections (it
    # checks sock.proto); without it each kept-alive answer waited ~40 ms (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise SessionError(
            f"cannot listen on {host}:{port} ({error.strerror or error}): another program "
            "may use that port; try --port 0 for a free one"
        ) from error
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def host_warning(host: str) -> str | None:
    """What to say when the server listens beyond this computer (None when it does not)."""
    if host in LOCAL_HOSTS:
        return None
    return (
        f"warning: serving on {host}, not only this computer: anyone who can reach it "
        "and holds a link sees the session (the links carry the tokens)"
    )


def links(host: str, port: int, tokens: Tokens) -> Links:
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}/"
    return Links(f"{base}?token={tokens.panel}", f"{base}?token={tokens.observer}")


def serve(
    workbook: str,
    rules_dir: Path | None = None,
    session_path: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    reuse_session: bool = False,
    allow_rejects: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> None:
    """Evaluate the workbook once, open its session, print the links and serve."""
    sock = bind(host, port)  # first: a port in use is said before a long evaluation
    try:
        result = evaluate_workbook(workbook, rules_dir, allow_rejects=allow_rejects)
        _serve(sock, result, workbook, session_path, host, reuse_session, out, err)
    finally:
        sock.close()


def _serve(
    sock: socket.socket,
    result: RunResult,
    workbook: str,
    session_path: Path | None,
    host: str,
    reuse_session: bool,
    out: TextIO,
    err: TextIO,
) -> None:
    path = session_path or default_session_path(workbook)
    session = open_session(
        path, result.panel.path.name, result.panel.sha256, result.rulebook.sha256, reuse_session
    )
    state = PanelState(result, session)
    # The evaluated run is kept for the whole meeting and never freed: out of the
    # collector's sight, a full collection no longer walks it in the middle of a decision.
    gc.collect()
    gc.freeze()
    tokens = Tokens()
    real_port = int(sock.getsockname()[1])
    warning = host_warning(host)
    if warning:
        print(warning, file=err, flush=True)
    shown = links(host, real_port, tokens)
    print(
        f"talentrules serve: {len(result.results)} people from {result.panel.path.name}; "
        f"session {path} ({session.last_seq} decisions so far)",
        file=out,
    )
    print("Open this link to run the session (the panel's link: it may decide):", file=out)
    print(shown.panel, file=out)
    print(f"Read-only link for observers (view, never decide): {shown.observer}", file=out)
    print("Stop with Ctrl-C; every decision is saved as it is taken.", file=out, flush=True)
    config = uvicorn.Config(
        create_app(state, tokens), log_level="warning", access_log=False, lifespan="off"
    )
    try:
        # uvicorn stops on SIGINT and SIGTERM, then raises the signal again once its own
        # handlers are gone: ours turn it into an exception here, so the stop is clean
        # (exit 0, the file closed) rather than Click's "Aborted!" or death by SIGTERM.
        with stop_signals():
            uvicorn.Server(config).run(sockets=[sock])
    except (KeyboardInterrupt, Interrupted):
        pass
    finally:
        session.close()
    print(f"stopped: {session.last_seq} decisions in {path}", file=out, flush=True)
