"""Worker processes for ``--jobs``: fork where it is safe, spawn everywhere else.

With fork, workers inherit the run (the rulebook, the people, the compiled
templates) instead of unpickling it: the cheaper start. Windows has no fork, and
on macOS fork is unsafe with the system's frameworks (Python defaults to spawn
there); with spawn, each worker receives the run pickled once, through its pool
initializer. Results are identical either way (tests/test_processes.py).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from multiprocessing.context import BaseContext
from typing import Literal

# Set to "spawn" to run the spawn path on Linux (the tests do); "fork" where it exists.
START_METHOD_VARIABLE = "TALENTRULES_START_METHOD"

StartMethod = Literal["fork", "spawn"]


def start_method() -> StartMethod:
    """``fork`` where the system has it and it is safe (Linux and other Unixes),
    else ``spawn`` (Windows, macOS); TALENTRULES_START_METHOD overrides."""
    asked = os.environ.get(START_METHOD_VARIABLE)
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if asked == "spawn" or (asked == "fork" and not forkable):
        return "spawn"
    if asked == "fork" or (forkable and sys.platform != "darwin"):
        return "fork"
    return "spawn"


def context() -> BaseContext:
    """The multiprocessing context ``--jobs`` uses."""
    return multiprocessing.get_context(start_method())
