"""Where the packaged rules, templates, sample workbooks and output schemas are.

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


SCHEMAS = ("recommendations", "trace-line", "manifest")


def schema_file(name: str) -> Path:
    """The JSON Schema (draft 2020-12) of an output: ``recommendations``, ``trace-line``
    or ``manifest`` (inside the package, so a wheel has them; docs/schemas/ has copies)."""
    if name not in SCHEMAS:
        raise ValueError(f"no schema {name!r} (there are: {', '.join(SCHEMAS)})")
    return _PACKAGE / "schemas" / f"{name}.schema.json"
