"""Brief file names: one per employee_id, safe on every file system, never outside OUTDIR."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable


class Namer:
    """Safe, unique file names for employee ids: never a path outside OUTDIR.

    A plain id (letters, digits, ``.``, ``_``, ``-``; not a Windows reserved name; not
    clashing case-insensitively with another id) is its own name; anything else is a
    readable slug plus 10 hex digits of its SHA-256, so two ids never share a file.
    """

    _PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
    _RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?")

    def __init__(self, employee_ids: Iterable[str]) -> None:
        ids = sorted(set(employee_ids))
        folded = Counter(i.casefold() for i in ids)
        self.names: dict[str, str] = {}
        for employee_id in ids:
            plain = (
                self._PLAIN.fullmatch(employee_id) is not None
                and not self._RESERVED.fullmatch(employee_id)
                and not employee_id.endswith(".")
                and folded[employee_id.casefold()] == 1
            )
            self.names[employee_id] = employee_id if plain else self._encoded(employee_id)

    @staticmethod
    def _encoded(employee_id: str) -> str:
        digest = hashlib.sha256(employee_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        ascii_ = unicodedata.normalize("NFKD", employee_id).encode("ascii", "ignore").decode()
        slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_).strip("-")[:40] or "id"
        return f"{slug}-{digest}"

    def brief(self, employee_id: str, extension: str) -> str:
        """Relative path of a person's brief, e.g. ``briefs/E0001.html``."""
        return f"briefs/{self.names[employee_id]}.{extension}"
