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
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import os
import re
import stat
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from talentrules.contract import PROTECTED_COLUMNS, normalize
from talentrules.errors import RulebookError
from talentrules.paths import default_rules_dir

Severity = Literal["error", "warning"]
Literal_ = str | float | bool | dt.date

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
INTEGER = re.compile(r"[+-]?\d+\Z")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# ``FACT OP VALUE``, ``FACT in (A, B)``, ``FACT is known``: conditions and row tests.
CONDITION = re.compile(
    r"""\s*(?P<fact>[A-Za-z_$][A-Za-z0-9_.\-$]*)
    (?: \s*(?P<sym>==|!=|<=|>=|<|>)\s*(?P<value>.*?)
      | \s+(?P<word>not\s+in|in)(?=[\s(\[$])\s*(?P<list>.*?)
      | \s+is\s+(?P<known>known|unknown)
    )\s*\Z""",
    re.VERBOSE | re.DOTALL,
)
ORDERING = frozenset({"<", "<=", ">", ">="})
CONDITION_HELP = (
    "write FACT OP VALUE (OP one of == != < <= > >= in, not in) or FACT is known / FACT is unknown"
)
# Facts and literals go through json.dumps into durable_rules: floats from here on
# print with an exponent ("1e+16"), which its JSON parser rejects.
MAX_LITERAL = 1e15


# --------------------------------------------------------------------------------------
# Places: a line of a file, or a cell of a workbook
# --------------------------------------------------------------------------------------


class Cell(int):
    """The place of a value read from a rulebook workbook: ``Heart!D7``.

    It stands where a line number stands (``Rule.line``, ``Diagnostic.line``): an int
    (the cell's order in the workbook: sheet, row, column) so that sorting by line
    and every ``file``/``line`` pair work unchanged, printed as the cell.
    """

    ref: str

    def __new__(cls, order: int, ref: str) -> Cell:
        cell = super().__new__(cls, order)
        cell.ref = ref
        return cell

    def __str__(self) -> str:
        return self.ref

    def __repr__(self) -> str:
        return f"Cell({int(self)}, {self.ref!r})"

    def __reduce__(self) -> tuple[type[Cell], tuple[int, str]]:
        return (Cell, (int(self), self.ref))


class CellMark(yaml.Mark):
    """A YAML node's mark for a value read from a workbook cell."""

    def __init__(self, cell: Cell) -> None:
        super().__init__(cell.ref, 0, int(cell), 0, None, 0)
        self.cell = cell


def where(file: str, line: int) -> str:
    """A place as messages name it: ``rules/20-heart.yaml:14``, ``rulebook.xlsx: Heart!D7``."""
    return f"{file}: {line}" if isinstance(line, Cell) else f"{file}:{line}"


def line_and_cell(line: int | None) -> tuple[int | None, str | None]:
    """A place as JSON gives it: (the line, None) in a file, (None, "Heart!D7") in a
    workbook, whose Cell would otherwise print as its order number."""
    if isinstance(line, Cell):
        return None, line.ref
    return line, None


# --------------------------------------------------------------------------------------
# Diagnostics and reading YAML nodes (shared with the rulebook's loader)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostic:
    """One finding of the checker, with the place it is about."""

    severity: Severity
    file: str
    line: int  # a line of the file, or a Cell of a workbook
    message: str
    rule_id: str | None = None

    @property
    def place(self) -> str:
        """Where, as messages name it: ``FILE:LINE``, or ``WORKBOOK: Sheet!A1``."""
        return where(self.file, self.line)

    def __str__(self) -> str:
        where_ = f"{self.place}: "
        if self.severity == "warning":
            where_ += "warning: "
        if self.rule_id is not None:
            where_ += f"rule {self.rule_id}: "
        return where_ + self.message


class Report:
    """Collects diagnostics while the loaders walk the files."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, file: str, line: int, message: str, rule_id: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("error", file, line, message, rule_id))

    def warning(self, file: str, line: int, message: str, rule_id: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("warning", file, line, message, rule_id))

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def has_errors(self) -> bool:
        return self.errors > 0


def line_of(node: yaml.Node) -> int:
    """Where a node was written: its line, or the Cell it was read from."""
    mark = node.start_mark
    if isinstance(mark, CellMark):
        return mark.cell
    return int(mark.line) + 1 if mark is not None else 1


def kind_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing"
    return f"'{node.value}'"


def compose(path: Path, file: str, report: Report) -> yaml.Node | None:
    """The file's node tree, or None (with a diagnostic) when it cannot be read safely
    (a regular file in its folder, size, UTF-8, nesting, aliases) or is not YAML."""
    try:
        node = read_yaml(path, path.parent)
    except FileProblem as refused:
        report.error(file, refused.line, refused.message)
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        problem = error.problem or error.context or "cannot be read"
        report.error(file, line, f"YAML syntax error: {problem}")
        return None
    except yaml.YAMLError as error:
        report.error(file, 1, f"YAML syntax error: {error}")
        return None
    if node is None:
        report.error(file, 1, "the file is empty")
    return node


def mapping(
    node: yaml.Node,
    file: str,
    what: str,
    report: Report,
    rule_id: str | None = None,
) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
    """A mapping node's entries by key text; duplicate or non-text keys are reported."""
    if not isinstance(node, yaml.MappingNode):
        report.error(file, line_of(node), f"{what} must be a mapping, not {kind_of(node)}", rule_id)
        return None
    entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            report.error(file, line_of(key), f"{what}: keys must be plain names", rule_id)
            continue
        if key.value in entries:
            report.error(file, line_of(key), f"{what}: '{key.value}' is given twice", rule_id)
            continue
        entries[key.value] = (key, value)
    return entries


def keys(
    entries: dict[str, tuple[yaml.Node, yaml.Node]],
    node: yaml.Node,
    file: str,
    what: str,
    required: Iterable[str],
    optional: Iterable[str],
    report: Report,
    rule_id: str | None = None,
) -> bool:
    """Report missing and unknown keys; True when every required key is there."""
    allowed = [*required, *optional]
    prefix = f"{what}: " if what else ""
    for key, (key_node, _) in entries.items():
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            report.error(
                file,
                line_of(key_node),
                f"{prefix}unknown key '{key}'{hint} (allowed: {', '.join(allowed)})",
                rule_id,
            )
    missing = [key for key in required if key not in entries]
    for key in missing:
        report.error(file, line_of(node), f"{prefix}missing '{key}'", rule_id)
    return not missing


def text_of(
    node: yaml.Node, file: str, what: str, report: Report, rule_id: str | None = None
) -> str | None:
    """A non-empty scalar's text, as written."""
    if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        hint = ""
        if isinstance(node, yaml.MappingNode) and len(node.value) == 1:
            # YAML reads ``then: {x}`` as a mapping; a named value starts with $.
            hint = " (quote text that starts with '{' or '[')"
        report.error(
            file, line_of(node), f"{what} must be text, not {kind_of(node)}{hint}", rule_id
        )
        return None
    text = str(node.value).strip()
    if not text:
        report.error(file, line_of(node), f"{what} is empty", rule_id)
        return None
    return text


def texts_of(
    node: yaml.Node, file: str, what: str, report: Report, rule_id: str | None = None
) -> list[str] | None:
    """A list of distinct, non-empty texts without control characters."""
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        report.error(file, line_of(node), f"{what} must be a non-empty list", rule_id)
        return None
    items: list[str] = []
    for item in node.value:
        text = text_of(item, file, f"{what} item", report, rule_id)
        if text is None:
            continue
        if CONTROL.search(text):
            report.error(
                file, line_of(item), f"{what}: '{text}' holds a control character", rule_id
            )
        elif text in items:
            report.error(file, line_of(item), f"{what}: '{text}' is listed twice", rule_id)
        else:
            items.append(text)
    return items


def number_of(text: str) -> int | float | None:
    if not NUMBER.match(text):
        return None
    return int(text) if INTEGER.match(text) else float(text)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def show(value: object) -> str:
    """A number as a person writes it: 24, not 24.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_protected(name: str, proxies: frozenset[str]) -> bool:
    """Is ``name`` (or any dotted part of it) a protected attribute or a declared proxy?"""
    banned = PROTECTED_COLUMNS | proxies
    return normalize(name) in banned or any(normalize(p) in banned for p in name.split("."))


def split_list(body: str) -> list[str] | str:
    """Split ``A, "B, C", D`` on commas outside quotes; a message when it cannot."""
    items: list[str] = []
    current = ""
    quote = ""
    for char in body:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "\"'" and not current.strip():
            quote = char
            current += char
        elif char == ",":
            items.append(current.strip())
            current = ""
        else:
            current += char
    if quote:
        return "a quoted value is not closed"
    items.append(current.strip())
    if any(not item for item in items):
        return "the list has an empty item"
    return items


def unquote(raw: str) -> tuple[str, bool]:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1], True
    return raw, False


def printable(text: str) -> str:
    """``text`` with control characters escaped, so a diagnostic shows them."""
    return CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True)
class Bad:
    """Why a value cannot be read (a diagnostic's message, without the place)."""

    reason: str


# --------------------------------------------------------------------------------------
# Reading a rules-folder file safely: before anything is interpreted
# --------------------------------------------------------------------------------------

MAX_RULE_FILE_BYTES = 1024 * 1024  # the largest shipped file is 16 KB
MAX_YAML_DEPTH = 32  # mappings and lists inside each other; the shipped files use 8
MAX_ALIAS_FACTOR = 4  # nodes after alias expansion / nodes written ...
ALIAS_ALLOWANCE = 10_000  # ... refused only beyond this many nodes too

# libyaml's loader when PyYAML has it (its wheels do): the same resolver and marks,
# about 20 times faster to parse than the pure-Python one.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FileProblem(Exception):
    """Why a rules-folder file cannot be read: a line (1 when the whole file) and a reason."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def entries(folder: Path, pattern: str = "*.yaml") -> tuple[list[Path], list[tuple[Path, str]]]:
    """The folder's entries matching ``pattern``, in name order: the readable regular
    files, and the others with why they are not read (a folder named ``99-x.yaml``, a
    link to /dev/zero or out of the folder): never skipped silently."""
    files: list[Path] = []
    refused: list[tuple[Path, str]] = []
    for path in sorted(folder.glob(pattern)):
        try:
            check_file(path, folder)
        except FileProblem as problem:
            refused.append((path, problem.message))
        else:
            files.append(path)
    return files, refused


def check_file(path: Path, folder: Path) -> int:
    """Refuse anything but a regular file inside ``folder`` within the size limit; its size."""
    try:
        info = os.stat(path)
        outside = path.is_symlink() and folder.resolve() not in path.resolve().parents
    except FileNotFoundError as error:
        raise FileProblem(1, "is a link to nothing (its target is missing)") from error
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
        why = getattr(error, "strerror", None) or error
        raise FileProblem(1, f"cannot be read ({why})") from error
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(1, f"is {_kind(info.st_mode)}, not a rule file: not read")
    if outside:
        # Not even quoted: a file out of the rules folder is not ours to read.
        raise FileProblem(1, "is a link to a file outside the rules folder: not read")
    if info.st_size > MAX_RULE_FILE_BYTES:
        raise FileProblem(
            1,
            f"is {info.st_size:,} bytes, over the limit of {MAX_RULE_FILE_BYTES:,} bytes for "
            "a rules-folder file: split it",
        )
    return info.st_size


def read_text(path: Path, folder: Path) -> str:
    """The file's text, after ``check_file``; at most the size limit is ever read."""
    check_file(path, folder)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_RULE_FILE_BYTES + 1)
    except OSError as error:
        raise FileProblem(1, f"cannot be read ({error.strerror})") from error
    if len(data) > MAX_RULE_FILE_BYTES:  # grew since it was checked
        raise FileProblem(1, f"is over the limit of {MAX_RULE_FILE_BYTES:,} bytes: split it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FileProblem(line, f"not UTF-8 text ({error.reason})") from error


def _line(event: yaml.Event) -> int:
    return int(event.start_mark.line) + 1 if event.start_mark is not None else 1


def check_shape(text: str, loader: type[yaml.SafeLoader] = _LOADER) -> None:
    """Refuse YAML nested too deep or expanded too far by aliases, from its event stream
    (nothing is composed, nothing expanded)."""
    depth = 0
    written = 0  # nodes as written
    expanded = 0  # nodes after every alias is replaced by what it names
    open_sizes: list[tuple[str | None, int]] = []  # (anchor, expanded size so far)
    sizes: dict[str, int] = {}  # anchor -> expanded size of its node
    crossings: list[tuple[int, int]] = []  # (line, expanded so far) at each alias

    def add(size: int) -> None:
        if open_sizes:
            anchor, so_far = open_sizes[-1]
            open_sizes[-1] = (anchor, so_far + size)

    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise FileProblem(
                    _line(event),
                    f"nested more than {MAX_YAML_DEPTH} levels deep (the limit for a "
                    "rules-folder file): flatten the conditions",
                )
            written += 1
            expanded += 1
            open_sizes.append((event.anchor, 1))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, size = open_sizes.pop()
            if anchor is not None:
                sizes[anchor] = size
            add(size)
        elif isinstance(event, yaml.ScalarEvent):
            written += 1
            expanded += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
            add(1)
        elif isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor or "", 1)
            expanded += size
            add(size)
            crossings.append((_line(event), expanded))
    limit = max(MAX_ALIAS_FACTOR * written, ALIAS_ALLOWANCE)
    for line, so_far in crossings:
        if so_far > limit:
            raise FileProblem(
                line,
                f"aliases expand the file to more than {MAX_ALIAS_FACTOR} times the "
                f"{written:,} nodes written ({expanded:,} nodes): refused (a YAML alias bomb?)",
            )


def compose_text(text: str) -> yaml.Node | None:
    """The text's node tree (None for an empty file), after ``check_shape``."""
    try:
        check_shape(text)
        return yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        if _LOADER is yaml.SafeLoader:
            raise
        # libyaml words syntax errors its own way: give the pure-Python parser's
        # message (the one documented and tested) for the same text.
        check_shape(text, yaml.SafeLoader)
        return yaml.compose(text, Loader=yaml.SafeLoader)


def read_yaml(path: Path, folder: Path) -> yaml.Node | None:
    """``read_text`` and ``compose_text``: every check of the safe reading, one call.

    Raises FileProblem for the checks, yaml.YAMLError for YAML syntax."""
    return compose_text(read_text(path, folder))


# --------------------------------------------------------------------------------------
# The files of a rulebook: a rules folder, or a workbook that stands for one
# --------------------------------------------------------------------------------------

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
