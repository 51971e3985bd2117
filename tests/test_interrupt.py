"""Workers stopped by a signal to the whole process group (a closed terminal's SIGHUP, a
scheduler's SIGTERM) must leave the parent able to stop the pool: an idle worker waits
for its next task holding the task queue's lock, and one killed outright keeps it held,
so Pool.terminate (which takes it first) used to hang; the SIGHUP case of
test_outdir's stopped run failed about one run in ten that way."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

STOP_IDLE_WORKERS = textwrap.dedent(
    """
    import multiprocessing, os, signal, sys, threading, time
    from talentrules.interrupt import quiet_worker

    pool = multiprocessing.get_context("fork").Pool(2, quiet_worker)
    pool.map(abs, range(8))  # both workers up; now idle, one holding the queue's lock
    time.sleep(0.3)
    for worker in pool._pool:
        os.kill(worker.pid, int(sys.argv[1]))
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


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_pool_whose_idle_workers_got_a_stop_signal_still_terminates(signum: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", STOP_IDLE_WORKERS, str(int(signum))],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.stdout.strip() == "stopped", done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr  # the workers end quietly
