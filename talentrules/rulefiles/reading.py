"""Reading a rules-folder file safely, before anything in it is interpreted: a regular
file inside the folder, at most MAX_RULE_FILE_BYTES, UTF-8, nested at most
MAX_YAML_DEPTH levels, aliases expanding it at most MAX_ALIAS_FACTOR times
(docs/rules.md). The YAML event stream is checked first: PyYAML's parser is iterative,
its composer recursive (a condition nested 500 deep was a RecursionError)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from talentrules.rulefiles.diagnostics import Report

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
