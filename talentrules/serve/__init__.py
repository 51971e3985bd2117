"""``talentrules serve``: the panel's meeting in the browser (docs/serve.md).

One module per job: ``state`` (the run evaluated once, the session's decisions
applied, counted again after each decision), ``auth`` (tokens, cookie, CSRF),
``pages`` (what the list and the person page show beyond the brief and summary),
``app`` (the routes: pages and JSON API), ``server`` (binding, the printed links,
uvicorn). Decisions are kept by ``talentrules.session``.
"""

from __future__ import annotations

from talentrules.serve.app import create_app
from talentrules.serve.auth import Tokens
from talentrules.serve.state import PanelState

__all__ = ["PanelState", "Tokens", "create_app"]
