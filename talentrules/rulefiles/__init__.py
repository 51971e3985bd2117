"""Reading rule files: YAML composed into nodes that keep their places, and diagnostics.

The shared layer under the rulebook's words (``talentrules.vocabulary``) and its
rules (``talentrules.rulebook``). YAML is composed, never constructed, so every
scalar keeps the text the author wrote ("No" stays "No") and every node its line: each
problem becomes a ``Diagnostic`` with file and line, and the checker reports them all.

Rule files come from panel owners and, in audits, from elsewhere, so before any of a
file is interpreted it must be a regular file inside the rules folder (a link out of
it is refused without reading it, so nothing outside is ever quoted back), at most
``MAX_RULE_FILE_BYTES`` long, UTF-8, and YAML nested at most ``MAX_YAML_DEPTH`` levels
whose aliases expand it at most ``MAX_ALIAS_FACTOR`` times (billion-laughs anchors are
refused, never walked). The YAML event stream is checked first: PyYAML's parser is
iterative, its composer recursive (a condition nested 500 deep was a RecursionError).
Every refusal names the file and line and states the limit (docs/rules.md).

A rulebook is read through ``RuleFiles``: a rules folder (``FolderFiles``), or a
workbook that stands for one (``talentrules.rulexlsx``), whose node trees are built
from cells. A node built from a cell carries the cell as its line (``Cell``: an int
that prints as ``Heart!D7``), so every loader and every check names the cell of a
workbook exactly as it names the line of a file, through one code path.

``RuleFiles``, ``FolderFiles`` and ``open_rules`` are below; the rest by job: syntax
(conditions, literals, lists), places (lines and cells), diagnostics (Diagnostic,
Report), nodes (reading YAML nodes at their lines) and reading (a file, safely).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from pathlib import Path

import yaml

from talentrules.errors import RulebookError
from talentrules.paths import default_rules_dir
from talentrules.rulefiles.diagnostics import Diagnostic, Report, Severity, did_you_mean
from talentrules.rulefiles.nodes import keys, kind_of, line_of, mapping, text_of, texts_of
from talentrules.rulefiles.places import Cell, CellMark, line_and_cell, where
from talentrules.rulefiles.reading import (
    MAX_RULE_FILE_BYTES,
    MAX_YAML_DEPTH,
    FileProblem,
    check_shape,
    compose,
    compose_text,
    entries,
    read_text,
    read_yaml,
)
from talentrules.rulefiles.syntax import (
    CONDITION,
    CONDITION_HELP,
    CONTROL,
    DATE,
    MAX_LITERAL,
    ORDERING,
    Bad,
    Literal_,
    is_protected,
    number_of,
    printable,
    show,
    split_list,
    unquote,
)

__all__ = [  # what the rulebook's loaders and the other stages read rule files with
    "CONDITION",
    "CONDITION_HELP",
    "CONTROL",
    "DATE",
    "MAX_LITERAL",
    "MAX_RULE_FILE_BYTES",
    "MAX_YAML_DEPTH",
    "ORDERING",
    "TESTS_FOLDER",
    "Bad",
    "Cell",
    "CellMark",
    "Diagnostic",
    "FileProblem",
    "FolderFiles",
    "Literal_",
    "Report",
    "RuleFiles",
    "Severity",
    "check_shape",
    "compose",
    "compose_tests",
    "compose_text",
    "content_of",
    "did_you_mean",
    "entries",
    "is_protected",
    "keys",
    "kind_of",
    "line_and_cell",
    "line_of",
    "mapping",
    "number_of",
    "open_rules",
    "printable",
    "read_text",
    "read_yaml",
    "show",
    "split_list",
    "text_of",
    "texts_of",
    "unquote",
    "where",
]

TESTS_FOLDER = "tests"

# Keys of the language's own mappings (a rule, a decision, a fact, ...): the order they
# are written in means nothing, unlike the order of parameters, facts, decisions or
# signals, which orders what the rulebook shows (and a collect decision's outcomes).
FIELD_KEYS = frozenset(
    {
        *("id", "decision", "title", "rationale", "when", "then", "priority", "message"),
        *("for_each", "policy", "outcomes", "default", "meaning", "role", "label", "texts"),
        *("interest", "advice", "gap", "risk", "value", "unit", "name", "kind", "weight"),
        *("description", "why", "route", "type", "range", "values", "rows", "where"),
        *("measure", "column", "matching", "sheet", "fact", "contains", "attribute"),
        *("newcomers_below", "members", "facts", "code", "track", "mode", "seats"),
        *("cost_per_person", "duration_months", "fits", "not_investments", "order"),
        *("tie_break", "codes", "eligible", "parameters", "signals", "sets", "families"),
        *("protected", "proxies", "decisions", "rules", "currency", "investments"),
        *("allocation", "tests", "expect", "absent", "fired", "not_fired", "person"),
        *("fairness", "fallback", "advantage", "explain", "show", "changes", "observe"),
        *("up_to", "as", "says", "raise", "record"),
    }
)


def content_of(node: yaml.Node) -> object:
    """What a node tree says, as plain data: the text of every value (the language
    reads values as written: quoted "No" and plain No say the same; a blank stays
    apart), in order, except that the keys of the language's own mappings
    (``FIELD_KEYS``) are sorted."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:null":  # ~, null and nothing say the same
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [content_of(item) for item in node.value]
    entries = [[content_of(k), content_of(v)] for k, v in node.value]
    if all(isinstance(k, yaml.ScalarNode) and k.value in FIELD_KEYS for k, _ in node.value):
        entries.sort(key=lambda entry: json.dumps(entry[0]))
    return {"mapping": entries}


class RuleFiles(ABC):
    """The files a rulebook is made of, read as YAML node trees, wherever they are kept.

    ``FolderFiles`` reads a rules folder; ``talentrules.rulexlsx.WorkbookFiles`` reads a
    rulebook workbook, whose node trees carry cells where files carry lines.
    """

    path: Path  # what the user named: a folder or a workbook
    name: str  # how places name it: the folder's own name, or the workbook's file name
    problems: list[Diagnostic]  # found reading the container itself (a workbook's layout)

    @abstractmethod
    def names(self) -> list[str]:
        """The top-level files (``vocabulary.yaml``, ``20-heart.yaml``, ...), sorted."""

    @abstractmethod
    def label(self, name: str) -> str:
        """How diagnostics name the top-level file ``name``."""

    @abstractmethod
    def node(self, name: str, report: Report) -> yaml.Node | None:
        """The file's node tree; None, with a diagnostic, when it cannot be read."""

    @abstractmethod
    def data(self, name: str) -> bytes:
        """The file's bytes, as the rulebook's hash reads them."""

    @abstractmethod
    def test_names(self) -> list[str]:
        """The rule-test files (``tests/heart.yaml``), sorted."""

    @abstractmethod
    def test_label(self, name: str) -> str:
        """How messages name the rule-test file ``name``."""

    @abstractmethod
    def test_node(self, name: str) -> yaml.Node | None:
        """A rule-test file's node tree (None when empty); RulebookError when unreadable."""

    @abstractmethod
    def hashes(self) -> dict[str, str]:
        """Every file read and its SHA-256, as a run's manifest records them."""

    def has(self, name: str) -> bool:
        """The file is there and readable."""
        return name in self.names()

    def present(self, name: str) -> bool:
        """The file is there, readable or not (one that is not is among ``problems``)."""
        return self.has(name)

    def sha256(self) -> str:
        """SHA-256 over each top-level file's name, length and bytes, in name order."""
        digest = hashlib.sha256()
        for name in self.names():
            data = self.data(name)
            digest.update(f"{name}\n{len(data)}\n".encode())
            digest.update(data)
        return digest.hexdigest()

    def content_sha256(self, name: str) -> str | None:
        """A hash of what the file says (``content_of``): comments, layout, quoting and the
        order of a rule's keys do not change it. None when the file cannot be read."""
        node = self.node(name, Report()) if self.has(name) else None
        if node is None:
            return None
        text = json.dumps(content_of(node), ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FolderFiles(RuleFiles):
    """A rules folder: ``*.yaml`` beside each other, rule tests in ``tests/``.

    Only regular files inside the folder are read (``entries``); every other entry
    named ``*.yaml`` (a folder, a device, a link out of the folder) is a problem at
    its name, never skipped silently.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder
        self.name = folder.resolve().name or str(folder)
        readable, refused = entries(folder)
        self._names = [p.name for p in readable]
        self.problems = [Diagnostic("error", self.label(p.name), 1, why) for p, why in refused]

    def names(self) -> list[str]:
        return list(self._names)

    def present(self, name: str) -> bool:
        path = self.path / name
        return path.exists() or path.is_symlink()

    def label(self, name: str) -> str:
        return f"{self.name}/{name}"

    def node(self, name: str, report: Report) -> yaml.Node | None:
        return compose(self.path / name, self.label(name), report)

    def data(self, name: str) -> bytes:
        return (self.path / name).read_bytes()

    def test_names(self) -> list[str]:
        readable, refused = entries(self.path / TESTS_FOLDER)
        for path, why in refused:  # never skipped silently
            raise RulebookError(f"{path}: {why}")
        return [f"{TESTS_FOLDER}/{p.name}" for p in readable]

    def test_label(self, name: str) -> str:
        return str(self.path / name)

    def test_node(self, name: str) -> yaml.Node | None:
        return compose_tests(self.path / name, self.test_label(name))

    def hashes(self) -> dict[str, str]:
        return {name: hashlib.sha256(self.data(name)).hexdigest() for name in self.names()}


def compose_tests(path: Path, label: str) -> yaml.Node | None:
    """A rule-test file's node tree (None when empty), read safely (``read_yaml``);
    RulebookError naming ``label`` and the line."""
    try:
        return read_yaml(path, path.parent)
    except FileProblem as problem:
        raise RulebookError(f"{label}:{problem.line}: {problem}") from problem
    except yaml.YAMLError as error:
        raise RulebookError(f"{label}: not valid YAML: {error}") from error


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def open_rules(path: str | Path | RuleFiles | None = None) -> RuleFiles:
    """The rulebook at ``path`` (default: the packaged rules): a rules folder, or a
    rulebook workbook (``talentrules rules export`` writes one) standing for it."""
    if isinstance(path, RuleFiles):
        return path
    where_ = Path(path) if path is not None else default_rules_dir()
    if where_.is_dir():
        return FolderFiles(where_)
    if where_.suffix.lower() in WORKBOOK_SUFFIXES and where_.is_file():
        # Imported here: the workbook reader builds on this module.
        from talentrules.rulexlsx import open_workbook_rules

        return open_workbook_rules(where_)
    if where_.exists():
        raise RulebookError(
            f"{where_}: not a rules folder or a rulebook workbook (.xlsx, see "
            "'talentrules rules export')"
        )
    raise RulebookError(f"{where_}: no such rules folder")
