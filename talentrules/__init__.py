"""talentrules: a rule-based expert system for talent review panels.

The pipeline runs one way: vocabulary -> ingest -> facts -> rulebook -> engine ->
decide -> report, with cli on top. Anything the CLI does, ``import talentrules`` can do too.
"""

from __future__ import annotations

import sys

__version__ = "0.1.0"

# durable-rules 2.0.28 (the matching engine) builds on Python 3.13 but fails to
# import there; say so plainly instead of an "undefined symbol" from deep inside.
SUPPORTED_PYTHONS = ((3, 11), (3, 12))
if sys.version_info[:2] not in SUPPORTED_PYTHONS:
    raise ImportError(
        f"talentrules needs Python 3.11 or 3.12 (durable-rules 2.0.28 does not import on "
        f"{sys.version_info[0]}.{sys.version_info[1]}); "
        "create the virtual environment with python3.11 or python3.12"
    )
