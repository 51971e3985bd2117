"""Where the packaged rules, templates, sample workbooks and JSON Schemas are.

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


OUTPUT_SCHEMAS = ("recommendations", "trace-line", "manifest")
# The rule files' schemas, one per kind of file of a rules folder (docs/rules.md,
# "Editing rule files with a schema"): the named files, then every other top-level
# *.yaml (a rule file) and tests/*.yaml (rule tests).
RULEBOOK_SCHEMAS = {
    "parameters.yaml": "rulebook-parameters",
    "signals.yaml": "rulebook-signals",
    "vocabulary.yaml": "rulebook-vocabulary",
    "decisions.yaml": "rulebook-decisions",
    "catalogue.yaml": "rulebook-catalogue",
    "changes.yaml": "rulebook-changes",
}
RULE_FILE_SCHEMA = "rulebook-rules"
RULE_TESTS_SCHEMA = "rulebook-tests"
SCHEMAS = (*OUTPUT_SCHEMAS, *RULEBOOK_SCHEMAS.values(), RULE_FILE_SCHEMA, RULE_TESTS_SCHEMA)


def schema_file(name: str) -> Path:
    """The JSON Schema (draft 2020-12) ``name``: an output's (``recommendations``,
    ``trace-line``, ``manifest``) or a kind of rule file's (``rulebook-decisions``, ...;
    ``rulebook_schema`` names the one for a file). Inside the package, so a wheel has
    them; docs/schemas/ has copies."""
    if name not in SCHEMAS:
        raise ValueError(f"no schema {name!r} (there are: {', '.join(SCHEMAS)})")
    return _PACKAGE / "schemas" / f"{name}.schema.json"


def rulebook_schema(name: str) -> str:
    """The schema of a rules-folder file, by its path in the folder: ``decisions.yaml``
    gives ``rulebook-decisions``, ``20-heart.yaml`` ``rulebook-rules`` (a rule file),
    ``tests/heart.yaml`` ``rulebook-tests``."""
    parts = Path(name).parts
    if len(parts) == 2 and parts[0] == "tests":
        return RULE_TESTS_SCHEMA
    return RULEBOOK_SCHEMAS.get(name, RULE_FILE_SCHEMA)
