"""Stopping a run cleanly: SIGINT, SIGTERM and SIGHUP as exceptions in the parent, quiet
workers, and a few system calls that a signal must not split.

A run stopped by Ctrl-C (SIGINT), a scheduler (SIGTERM) or a closed terminal (SIGHUP)
unwinds like any error, so every ``finally`` runs (the temporary output folder is
removed); worker processes leave the stopping to their parent and print nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """The run was stopped by a signal (SIGTERM, SIGHUP); SIGINT stays KeyboardInterrupt.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it
    and every ``finally`` on the way out (removing the temporary folder) runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_OWNER = [0]  # the process that installed the handlers (forked workers inherit them)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    if os.getpid() != _OWNER[0]:
        # A worker forked before it could reset its handlers (a pool refilling itself
        # while the run stops): end quietly, as the default action would.
        os._exit(128 + signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, SIGTERM and SIGHUP raise Interrupted while inside;
    the previous handlers come back afterwards. Main thread only (a no-op elsewhere)."""
    _OWNER[0] = os.getpid()
    try:
        previous = {s: signal.signal(s, _raise_interrupted) for s in STOP_SIGNALS}
    except ValueError:  # not the main thread: signals cannot be handled here
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def quiet_worker() -> None:
    """Pool workers: Ctrl-C (SIGINT) and a closed terminal (SIGHUP) reach the whole
    process group, but only the parent should act on them: it stops the workers by
    Pool.terminate's SIGTERM, which ends them outright. A worker ended outright by a
    signal of its own could be waiting for its next task holding the pool's task queue
    lock, which would then stay held, and the parent's Pool.terminate (which takes it
    first) would hang: so the group's signals are ignored here. (A handler raising an
    exception instead is no cure: a signal arriving just before the worker blocks on
    that lock is never acted on, and the worker never ends.) Either way, no worker
    prints a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """Hold the stop signals back for a few system calls that must not be split."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
