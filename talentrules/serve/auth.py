"""Who may do what: two random tokens, the cookie a tokened link sets, and CSRF.

- The panel token may read and decide; the observer token may only read (every POST
  is 403 with a sentence). Both are printed on start, as Jupyter prints its link.
- A page visited with ``?token=`` sets an HttpOnly, SameSite=Strict cookie and is
  redirected to the same URL without the token (it leaves the address bar and the
  browser history). The API also takes ``Authorization: Bearer TOKEN``.
- CSRF: every browser form carries a per-session secret (an HMAC of the token under a
  key that never leaves the server), checked on POST. A request authenticated by its
  Authorization header is exempt (a browser never adds that header to a forged
  request); one authenticated by the cookie must send the secret, as the form field
  ``csrf`` or the header ``X-CSRF-Token``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["panel", "observer"]
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Tokens:
    """The session's two tokens, the CSRF key, and the cookie's name (one per server,
    so two sessions on one machine, on two ports, keep their own cookies)."""

    panel: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    observer: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    instance: str = field(default_factory=lambda: secrets.token_hex(4))

    @property
    def cookie(self) -> str:
        return f"talentrules_{self.instance}"

    def role(self, token: str | None) -> Role | None:
        """Whose token this is, compared in constant time; None for none or a wrong one."""
        if not token:
            return None
        given = token.encode()
        if hmac.compare_digest(given, self.panel.encode()):
            return "panel"
        if hmac.compare_digest(given, self.observer.encode()):
            return "observer"
        return None

    def csrf(self, token: str) -> str:
        """The CSRF secret of a token: forms carry it, POSTs by cookie must send it."""
        return hmac.new(self.key, token.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, token: str, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf(token), str(sent))


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.casefold() == "bearer" and value.strip() else None
