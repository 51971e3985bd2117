"""The files a rules folder is made of, and the hash that names a rulebook."""

from __future__ import annotations

from pathlib import Path

from talentrules import rulefiles
from talentrules.paths import default_rules_dir
from talentrules.rulefiles import open_rules
from talentrules.vocabulary import PARAMETERS_FILE, SIGNALS_FILE, VOCABULARY_FILE

DECISIONS_FILE = "decisions.yaml"

CATALOGUE_FILE = "catalogue.yaml"  # the default investment catalogue (decide.py's)

CHANGES_FILE = "changes.yaml"  # what a brief may name as changing the outcome (changes.py)

NOT_RULE_FILES = frozenset(
    {VOCABULARY_FILE, DECISIONS_FILE, CATALOGUE_FILE, PARAMETERS_FILE, SIGNALS_FILE, CHANGES_FILE}
)


def _folder(path: str | Path | None) -> Path:
    return Path(path) if path is not None else default_rules_dir()


def rulebook_files(path: str | Path | None = None) -> list[Path]:
    """The files a rulebook is made of and hashed over: vocabulary, decisions, rule files
    and the catalogue (every top-level ``*.yaml``), sorted by name."""
    return rulefiles.entries(_folder(path))[0]


def rulebook_sha256(path: str | Path | None = None) -> str:
    """SHA-256 over each rulebook file's name and bytes, in sorted order.

    Each file contributes ``name``, a newline, its byte length, a newline, then
    its bytes, so renaming or moving bytes between files changes the hash. A
    rulebook workbook hashes the files ``rules import`` writes from it, so it has
    the hash of the folder it imports to.
    """
    return open_rules(path).sha256()


def local_rules_notice(used: str | Path, here: str | Path = ".") -> str | None:
    """A warning when the folder ``here`` holds a ``rules/`` that differs from the
    rulebook ``used`` (say, the packaged copy after a non-editable install), so a
    panel owner who edited ./rules is never surprised; None when there is nothing to say.
    """
    local = Path(here) / "rules"
    if not (local / DECISIONS_FILE).is_file() or not Path(used).is_dir():
        return None
    if local.resolve() == Path(used).resolve():
        return None
    ours, theirs = rulebook_sha256(local), rulebook_sha256(used)
    if ours == theirs:
        return None
    return (
        f"warning: the rulebook used is {Path(used).absolute()} (sha256 {theirs[:12]}), not "
        f"./rules (sha256 {ours[:12]}), which differs from it; to use ./rules, add --rules rules"
    )
