"""Where the packaged rules, templates and sample workbooks are.

In a wheel they live in ``talentrules/_data/`` (hatchling force-include); in a
source checkout or editable install they are the repository's top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def packaged(name: str) -> Path:
    """Return the packaged folder ``name`` (``rules``, ``templates`` or ``sample_inputs``)."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"talentrules is installed without its {name}/ folder")


def default_rules_dir() -> Path:
    return packaged("rules")


def default_templates_dir() -> Path:
    return packaged("templates")


def sample_workbook(name: str = "panel_review.xlsx") -> Path:
    return packaged("sample_inputs") / name
