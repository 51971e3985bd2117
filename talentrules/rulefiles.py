"""Reading rule files: YAML composed into nodes that keep their lines, and diagnostics.

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
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from talentrules.contract import PROTECTED_COLUMNS, normalize

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
# Diagnostics and reading YAML nodes (shared with the rulebook's loader)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostic:
    """One finding of the checker, with the place it is about."""

    severity: Severity
    file: str
    line: int
    message: str
    rule_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: "
        if self.severity == "warning":
            where += "warning: "
        if self.rule_id is not None:
            where += f"rule {self.rule_id}: "
        return where + self.message


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
    return int(node.start_mark.line) + 1 if node.start_mark is not None else 1


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
