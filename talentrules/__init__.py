"""talentrules: a rule-based expert system for talent review panels.

The pipeline runs one way: vocabulary -> ingest -> facts -> rulebook -> engine ->
decide -> report, with cli on top. Anything the CLI does, ``import talentrules`` can do too.
"""

from __future__ import annotations

import os
import sys

__version__ = "0.1.0"

# The matching engine is a C extension (durable-rules, vendor/durable_rules): each
# Python minor version it has not been built and tested on is refused in plain words,
# instead of an "undefined symbol" or a crash from deep inside.
VERIFIED_PYTHONS = ((3, 11), (3, 12), (3, 13))
UNVERIFIED_PYTHON_VARIABLE = "TALENTRULES_UNVERIFIED_PYTHON"
_running = sys.version_info[:2]
if _running not in VERIFIED_PYTHONS and not (
    _running > VERIFIED_PYTHONS[-1] and os.environ.get(UNVERIFIED_PYTHON_VARIABLE) == "1"
):
    raise ImportError(
        f"talentrules is verified on Python 3.11, 3.12 and 3.13, not "
        f"{_running[0]}.{_running[1]}: create the virtual environment with one of them "
        "(python3.13 -m venv .venv). To try a newer Python anyway, install with "
        f"pip's --ignore-requires-python, set {UNVERIFIED_PYTHON_VARIABLE}=1 and run "
        "the test suite (python -m pytest) before trusting any result."
    )
