"""Pool workers and the stop signals (interrupt.quiet_worker).

A closed terminal's SIGHUP, like Ctrl-C, reaches the whole process group. An idle worker
waits for its next task holding the task queue's lock; one ended outright by the signal
kept it held, and the parent's Pool.terminate (which takes it first) hung: the SIGHUP
case of test_outdir's stopped run failed about one run in ten that way. Workers now
leave those signals to the parent. Pool.terminate's own SIGTERM must still end a worker
outright: a Python handler would miss a signal that arrives just before the worker
blocks on that lock, and the run would never end (seen once at 40,000 people)."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import textwrap

from talentrules.interrupt import quiet_worker

STOP_IDLE_WORKERS = textwrap.dedent(
    """
    import multiprocessing, os, signal, sys, threading, time
    from talentrules.interrupt import quiet_worker

    pool = multiprocessing.get_context("fork").Pool(2, quiet_worker)
    pool.map(abs, range(8))  # both workers up; now idle, one holding the queue's lock
    time.sleep(0.3)
    for worker in pool._pool:
        os.kill(worker.pid, signal.SIGHUP)
    time.sleep(0.3)
    stopping = threading.Thread(target=lambda: (pool.terminate(), pool.join()), daemon=True)
    stopping.start()
    stopping.join(20)
    print("hung" if stopping.is_alive() else "stopped", flush=True)
    for child in multiprocessing.active_children():  # hung: end the workers it made anew
        child.kill()
    os._exit(0)
    """
)


def test_a_pool_whose_idle_workers_got_a_sighup_still_terminates() -> None:
    done = subprocess.run(
        [sys.executable, "-c", STOP_IDLE_WORKERS],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.stdout.strip() == "stopped", done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr  # the workers say nothing


def _handlers(_: object) -> tuple[object, object, object]:
    return tuple(signal.getsignal(s) for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM))


def test_a_worker_leaves_the_groups_signals_to_its_parent_and_dies_of_sigterm() -> None:
    with multiprocessing.get_context("fork").Pool(1, quiet_worker) as pool:
        handlers = pool.map(_handlers, [None])[0]
    assert handlers == (signal.SIG_IGN, signal.SIG_IGN, signal.SIG_DFL)
