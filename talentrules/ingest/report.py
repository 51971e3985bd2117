"""The validation result as plain data (``validate --format json``); no formatting here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from talentrules.model import Panel, Problem

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def ordered(problems: list[Problem]) -> list[Problem]:
    """Errors first, then warnings, then info; within each, in the order found."""
    return sorted(problems, key=lambda p: SEVERITY_ORDER[p.severity])


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def problem_counts(panel: Panel) -> dict[str, int]:
    """The problems by severity, and the rows they reject: counted once, here, so that
    ``validate``, ``evaluate`` and the panel summary say the same numbers."""
    counts = {s: sum(1 for p in panel.problems if p.severity == s) for s in SEVERITY_ORDER}
    counts["rejected_rows"] = sum(a.rejected for a in panel.accounts)
    return counts


def tally(counts: dict[str, int]) -> str:
    """'11 errors, 2 warnings, 3 notes; 13 rows rejected'."""
    words = ", ".join(
        f"{counts[key]} {word}{'' if counts[key] == 1 else 's'}"
        for key, word in (("error", "error"), ("warning", "warning"), ("info", "note"))
    )
    rows = counts.get("rejected_rows", 0)
    return f"{words}; {rows} row{'' if rows == 1 else 's'} rejected"


def validation_report(panel: Panel) -> dict[str, Any]:
    """Everything ``validate`` says about a workbook, as JSON-ready data."""
    counts = problem_counts(panel)
    return {
        "file": str(panel.path),
        "sha256": panel.sha256,
        "size": panel.size,
        "usable": counts["error"] == 0,
        "tally": tally(counts),
        "counts": counts,
        "as_of": _plain(panel.as_of),
        "as_of_is_fallback": panel.fallback_as_of is not None,
        "problems": [
            {
                "severity": p.severity,
                "file": p.file,
                "sheet": p.sheet,
                "cell": p.cell,
                "message": p.message,
                "value": _plain(p.value),
                "suggestion": p.suggestion,
                "text": str(p),
            }
            for p in ordered(panel.problems)
        ],
        "accounts": [
            {
                "sheet": a.sheet,
                "found_as": a.found_as,
                "read": a.read,
                "loaded": a.loaded,
                "rejected": a.rejected,
                "blank": a.blank,
                "ignored_columns": list(a.ignored_columns),
                "balanced": a.balanced,
            }
            for a in panel.accounts
        ],
        "ignored_sheets": list(panel.ignored_sheets),
    }
