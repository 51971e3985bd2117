"""Audit and oversight: the run manifest, the tamper-evident trace, replay, rulebook
diff and the fairness monitor (docs/audit.md).

Where it sits: after ``run`` and before ``report``. Everything here is computed from
a ``RunResult`` or from files already written, so ``report`` imports this module to
write ``trace.jsonl`` (``trace_lines``: each line chained to the one before) and
``manifest.json`` (``write_manifest``) and to put the fairness monitor in the panel
summary; nothing here imports ``report``. Replay therefore compares what the audit
owns: the chained trace lines, which carry every person's recommendation, allocation
and overrides beside the engine's trace; ``recommendations.json`` is checked by its
SHA-256 in the manifest and cross-checked, person by person, against the trace.

Only the fairness monitor reads the Demographics sheet; no rule ever sees it.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import stat
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from talentrules import __version__, decide
from talentrules.contract import LEADERSHIP_TRACK
from talentrules.errors import AuditError
from talentrules.ingest import folder_sha256, load_workbook
from talentrules.model import Panel, Value
from talentrules.outdir import PARTIAL
from talentrules.paths import default_rules_dir, default_templates_dir
from talentrules.reference import TRACE_VERSION
from talentrules.rulebook import (
    AllOf,
    AnyOf,
    Compare,
    Expr,
    Rule,
    Rulebook,
    load_rulebook,
)
from talentrules.rulefiles import open_rules
from talentrules.run import RunResult, evaluate_workbook

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
TRACE = "trace.jsonl"
RECOMMENDATIONS = "recommendations.json"
# The ``prev`` of the first trace line: there is no line before it.
GENESIS = "0" * 64
CHAIN_KEY = "chain"  # {"line": n, "prev": sha256 of line n-1} in every trace line
MIN_GROUP = 5  # fairness: smaller groups are reported as too small, never as ratios
FOUR_FIFTHS = 0.80  # fairness: impact ratios below this are flagged
THRESHOLD = Fraction(4, 5)
# Category values that say "not known" (compared case-insensitively); blank too.
UNKNOWN_CATEGORIES = frozenset(
    {"unknown", "prefer not to say", "not disclosed", "declined", "not stated", "n/a"}
)
UNKNOWN = "Unknown"
# recommendations.json's fields for the parts a decision plays (schema v1,
# docs/outputs.md), and the role whose decision fills each. The keys are the output
# schema's stable field names, never looked up in rules/: a decision renamed in rules/
# still fills its field through its role (rulebook.ROLES).
ROLE_FIELDS: tuple[tuple[str, str], ...] = (
    ("heart", "verdict"),
    ("inspiration", "inspiration_profile"),
    ("management", "management_pattern"),
    ("balance", "team_balance"),
    ("track", "development_track"),
)
# Their JSON types (schema v1): the inspiration profile is a list, every other field
# one string (the outcomes joined with ", "), whatever the hit policy of the decision
# that fills it, so talentrules/schemas/ hold for any rulebook.
LIST_FIELDS = frozenset({"inspiration"})


def role_fields(
    rulebook: Rulebook, outcomes: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """Each schema field's outcome(s) for one person (() when no decision plays the role)."""
    return {key: rulebook.outcome_of(role, outcomes) for key, role in ROLE_FIELDS}


# --------------------------------------------------------------------------------------
# Canonical JSON and the hash chain
# --------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"not JSON data: {type(value).__name__}")


def canonical(data: object) -> str:
    """The one text of a JSON value that hashes are taken over: keys sorted, no
    spaces, UTF-8 characters as themselves (``ensure_ascii=False``), dates ISO."""
    return json.dumps(
        data,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=_plain,
        allow_nan=False,  # strict JSON: NaN and Infinity are not JSON, parsers refuse them
    )


def sha256_text(text: str) -> str:
    """SHA-256 of a text's UTF-8 bytes, as hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------
# Reading an output folder from elsewhere: regular files only, bounded, strict JSON
# --------------------------------------------------------------------------------------

# A folder handed to an auditor may hold anything under the expected names: a FIFO
# (the read would block), a link to /dev/zero (it never ends), JSON nested a million
# deep (the parser recurses). Only regular files are read, each up to a bound, and
# JSON is strict (no NaN) and nested at most MAX_JSON_DEPTH (the run writes 7).
MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # about 2.5 MB for 10,000 people
MAX_TRACE_BYTES = 4 * 1024 * 1024 * 1024  # about 250 MB for 10,000 people
MAX_FILE_BYTES = 4 * 1024 * 1024 * 1024  # any other file the manifest lists
MAX_JSON_DEPTH = 64
_JSON_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_JSON_INNERMOST = re.compile(r"\[\]|\{\}")


class _Unreadable(Exception):
    """A file of the output folder that is not read, and why (one phrase)."""


def _special(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _open_regular(path: Path, limit: int) -> tuple[int, int]:
    """An open descriptor and the size of a regular file (never a link, FIFO or device)
    no larger than ``limit``; _Unreadable otherwise. The caller closes it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _Unreadable("is a link, not a regular file: not read") from error
        raise _Unreadable(f"cannot be read ({error.strerror})") from error
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise _Unreadable(f"is {_special(info.st_mode)}, not a regular file: not read")
    if info.st_size > limit:
        os.close(fd)
        raise _Unreadable(f"is {info.st_size:,} bytes, over the limit of {limit:,}: not read")
    return fd, info.st_size


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see _open_regular)."""
    fd, _ = _open_regular(path, limit)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _Unreadable(f"grew over the limit of {limit:,} bytes while read: not read")
    return data


def hash_regular(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """SHA-256 of a regular file (see _open_regular), read in blocks."""
    fd, _ = _open_regular(path, limit)
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_depth_within(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Is ``text`` nested at most ``limit`` deep? Checked before parsing (json.loads
    recurses), at C speed: strings out, brackets only, innermost pairs peeled off."""
    brackets = _JSON_NOT_BRACKETS.sub("", _JSON_STRINGS.sub("", text))
    for _ in range(limit):
        if not brackets:
            return True
        brackets, count = _JSON_INNERMOST.subn("", brackets)
        if not count:
            return True  # unbalanced: not JSON, which json.loads will say
    return not brackets


def strict_json(text: str) -> Any:
    """json.loads for files from elsewhere: no NaN/Infinity, nesting bounded.
    ValueError (json.JSONDecodeError is one) when the text is not such JSON."""
    if not json_depth_within(text):
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    return json.loads(text, parse_constant=_not_json)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def trace_record(result: RunResult, index: int) -> dict[str, Any]:
    """One person's trace line before chaining: the engine's trace plus the
    recommendation as decided (outcomes, allocation, overrides beside them)."""
    r = result.results[index]
    recommendation = result.decisions.recommendations.get(r.employee_id)
    catalogue = result.decisions.catalogue
    allocation = []
    overrides = []
    if recommendation is not None:
        for a in recommendation.allocation:
            investment = catalogue.get(a.code)
            allocation.append(
                {
                    "code": a.code,
                    "track": investment.track if investment else None,
                    "status": a.status,
                    "reason": a.reason,
                    "position": a.position,
                    "cost": a.cost,
                }
            )
        overrides = [o.as_dict() for o in recommendation.overrides]
    record = dict(r.trace)
    outcomes = r.evaluation.outcomes
    record["recommendation"] = {
        "outcomes": {name: list(values) for name, values in outcomes.items()},
        # The parts recommendations.json names by role, so verify can cross-check them.
        "fields": {
            key: list(values) for key, values in role_fields(result.rulebook, outcomes).items()
        },
        "allocation": allocation,
        "overrides": overrides,
    }
    return record


def chain(records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """Canonical JSON lines, each carrying its line number and the SHA-256 of the line
    before it (``GENESIS`` for the first): editing, moving, removing or adding a line
    breaks the chain where it happened."""
    prev = GENESIS
    for number, record in enumerate(records, 1):
        line = canonical({**record, CHAIN_KEY: {"line": number, "prev": prev}})
        prev = sha256_text(line)
        yield line


def trace_lines(result: RunResult) -> Iterator[str]:
    """trace.jsonl: one chained line per person, in employee_id order (docs/audit.md)."""
    return chain(trace_record(result, i) for i in range(len(result.results)))


# --------------------------------------------------------------------------------------
# The manifest
# --------------------------------------------------------------------------------------


def expr_text(expr: Expr) -> str:
    """A condition as one line of text: ``all(a, any(b, c), not(d))``."""
    if isinstance(expr, Compare):
        return str(expr)
    if isinstance(expr, AllOf):
        return "all(" + ", ".join(expr_text(p) for p in expr.parts) + ")"
    if isinstance(expr, AnyOf):
        return "any(" + ", ".join(expr_text(p) for p in expr.parts) + ")"
    return "not(" + expr_text(expr.part) + ")"


def rule_sha256(rule: Rule) -> str:
    """A rule's own hash over what it means, not where it sits: id, decision, when (as
    text), then, priority, rationale and message. Moving a rule changes nothing."""
    return sha256_text(
        canonical(
            {
                "id": rule.id,
                "decision": rule.decision,
                "when": expr_text(rule.when),
                "then": rule.then,
                "priority": rule.priority,
                "rationale": rule.rationale,
                "message": rule.message,
            }
        )
    )


def rule_hashes(rulebook: Rulebook) -> dict[str, str]:
    """Rule id -> its hash, in rulebook order."""
    return {rule.id: rule_sha256(rule) for rule in rulebook.rules}


def _tree_sha256(folders: Sequence[tuple[str, Path]]) -> str:
    """SHA-256 over every file of the folders: label/relative name, length, bytes."""
    digest = hashlib.sha256()
    for label, folder in folders:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = file.read_bytes()
            name = f"{label}/{file.relative_to(folder).as_posix()}"
            digest.update(f"{name}\n{len(data)}\n".encode())
            digest.update(data)
    return digest.hexdigest()


def templates_sha256(templates_dir: str | Path | None = None) -> str:
    """Hash of the templates a run used: the user's folder (if any), then the packaged."""
    folders = [("default", default_templates_dir())]
    if templates_dir is not None:
        folders.insert(0, ("user", Path(templates_dir)))
    return _tree_sha256(folders)


def versions() -> dict[str, str]:
    """talentrules, durable_rules and Python versions, as the manifest records them."""
    return {
        "talentrules": __version__,
        "durable_rules": importlib.metadata.version("durable-rules"),
        "python": platform.python_version(),
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run_counts(result: RunResult) -> dict[str, Any]:
    """People, rows per sheet (read/loaded/rejected/blank), outcomes, allocation, overrides."""
    outcomes: dict[str, Counter[str]] = {name: Counter() for name in result.rulebook.decisions}
    for r in result.results:
        for name, values in r.evaluation.outcomes.items():
            outcomes.setdefault(name, Counter()).update(values)
    statuses: Counter[str] = Counter(a.status for a in result.decisions.allocation.allotments)
    counts = result.decisions.override_counts()
    return {
        "people": len(result.results),
        "sheets": {
            a.sheet: {"read": a.read, "loaded": a.loaded, "rejected": a.rejected, "blank": a.blank}
            for a in result.panel.accounts
        },
        "problems": dict(Counter(p.severity for p in result.problems)),
        "outcomes": {name: dict(sorted(c.items())) for name, c in outcomes.items()},
        "allocation": dict(sorted(statuses.items())),
        "overrides": {
            "total": len(result.decisions.overrides),
            "by_direction": dict(sorted(counts["direction"].items())),
            "by_decider": dict(sorted(counts["decider"].items())),
        },
    }


def _hash_files(folder: Path) -> tuple[dict[str, str], int, str]:
    """Every file's SHA-256 (manifest.json aside), and the trace's line count and last
    line's SHA-256, counted while its bytes are hashed: one read of each file."""
    files: dict[str, str] = {}
    lines, last = 0, GENESIS
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == MANIFEST or path.name == PARTIAL:
            continue  # PARTIAL: the marker of a folder being built, removed on publishing
        name = path.relative_to(folder).as_posix()
        if name != TRACE:
            files[name] = sha256_file(path)
            continue
        digest = hashlib.sha256()
        tail = b""  # the bytes after the last newline read so far
        line = b""  # the last complete line
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                newlines = block.count(b"\n")
                if newlines:
                    lines += newlines
                    head, _, rest = block.rpartition(b"\n")
                    line = (tail + head).rpartition(b"\n")[2]
                    tail = rest
                else:
                    tail += block
        files[name] = digest.hexdigest()
        if lines:
            last = hashlib.sha256(line).hexdigest()
    return files, lines, last


def build_manifest(
    folder: Path,
    result: RunResult,
    *,
    templates_dir: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    started: str | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """manifest.json as data, from the result and the files already in ``folder``."""
    rules_dir = Path(result.rules_dir).absolute()
    packaged = rules_dir.resolve() == default_rules_dir().resolve()
    files, lines, last = _hash_files(folder)
    panel = result.panel
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id or uuid.uuid4().hex,
        "started": started or _now(),
        "finished": _now(),
        "input": {
            "file": panel.path.name,
            "path": str(Path(panel.path).absolute()),
            "sha256": panel.sha256,
            "size": panel.size,
        },
        "rulebook": {
            "path": str(rules_dir),
            "packaged": packaged,
            "sha256": result.rulebook.sha256,
            "files": open_rules(rules_dir).hashes(),
            "rules": rule_hashes(result.rulebook),
            # The thresholds the run used (rules/parameters.yaml), by name.
            "parameters": {n: p.value for n, p in result.rulebook.parameters.items()},
        },
        "templates": {
            "path": str(Path(templates_dir).absolute()) if templates_dir is not None else None,
            "sha256": templates_sha256(templates_dir),
        },
        "versions": versions(),
        "as_of": panel.as_of.isoformat() if panel.as_of else None,
        "options": dict(options or {}),
        "counts": run_counts(result),
        "trace": {
            "file": TRACE,
            "trace_version": TRACE_VERSION,
            "lines": lines,
            "genesis": GENESIS,
            "last_sha256": last,
        },
        "files": files,
    }


def write_manifest(
    folder: Path,
    result: RunResult,
    *,
    templates_dir: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    started: str | None = None,
) -> Path:
    """Write ``folder/manifest.json``; call it last, once every other file is written."""
    data = build_manifest(
        folder, result, templates_dir=templates_dir, options=options, started=started
    )
    path = folder / MANIFEST
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# verify: the chain, the manifest, the files, and replay
# --------------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    """What ``audit verify`` found: every problem, located; empty means all checks held."""

    outdir: Path
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # what held, in words
    manifest_sha256: str | None = None  # record it elsewhere to detect a rewritten manifest

    @property
    def ok(self) -> bool:
        return not self.problems


def read_manifest(outdir: str | Path) -> dict[str, Any]:
    """The manifest of an output folder; AuditError when it is missing or unreadable."""
    return _read_manifest(Path(outdir))[0]


def _read_manifest(outdir: Path) -> tuple[dict[str, Any], str]:
    """The manifest and the SHA-256 of its bytes (read once)."""
    path = outdir / MANIFEST
    try:
        raw = read_regular(path, MAX_MANIFEST_BYTES)
        data = strict_json(raw.decode("utf-8"))
    except FileNotFoundError as error:
        raise AuditError(f"{path}: no manifest: not a talentrules output folder") from error
    except _Unreadable as error:
        raise AuditError(f"{path}: {error}") from error
    except (UnicodeDecodeError, ValueError) as error:
        raise AuditError(f"{path}: cannot read the manifest: {_why(error)}") from error
    if not isinstance(data, dict) or data.get("manifest_version") != MANIFEST_VERSION:
        raise AuditError(f"{path}: not a manifest this version of talentrules reads")
    return data, hashlib.sha256(raw).hexdigest()


def _why(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _who(record: object) -> str:
    if isinstance(record, dict) and isinstance(record.get("employee_id"), str):
        return f" (employee {record['employee_id']})"
    return ""


def check_chain(raw_lines: Sequence[str]) -> tuple[list[dict[str, Any] | None], list[str]]:
    """Parse trace lines and check each one's place and its link to the line before.

    Returns one entry per line (None where a line is not a chained JSON object) and
    the problems, each naming the line and the employee. An entry keeps only what
    later checks need (``employee_id``, ``index``, ``link``, ``view``: the
    recommendation as ``_from_trace`` reads it), so a 10,000-person trace is never
    held as parsed objects. An edited line shows as a broken link on the line after
    it; a moved, removed or inserted line as a wrong line number.
    """
    parsed: list[dict[str, Any] | None] = []
    problems: list[str] = []
    prev_hash = GENESIS
    for number, line in enumerate(raw_lines, 1):
        try:
            record = strict_json(line)
        except ValueError as error:
            why = error.msg if isinstance(error, json.JSONDecodeError) else _why(error)
            parsed.append(None)
            problems.append(f"{TRACE} line {number}: not JSON ({why}): edited")
            prev_hash = sha256_text(line)
            continue
        if not isinstance(record, dict) or not isinstance(record.get(CHAIN_KEY), dict):
            parsed.append(None)
            problems.append(f"{TRACE} line {number}: no chain link: edited or inserted")
            prev_hash = sha256_text(line)
            continue
        link = record[CHAIN_KEY]
        who = _who(record)
        view = _from_trace(record)
        parsed.append(
            {
                "employee_id": record.get("employee_id"),
                "index": number - 1,
                "link": link,
                "view": view,
            }
        )
        if link.get("line") != number:
            problems.append(
                f"{TRACE} line {number}{who}: it was written as line {link.get('line')}: "
                "lines were reordered, removed or inserted"
            )
        elif link.get("prev") != prev_hash:
            before = parsed[number - 2] if number > 1 else None
            problems.append(
                f"{TRACE} line {number - 1}{_who(before)}: changed after it was written "
                f"(line {number}{who} holds the hash of a different line {number - 1})"
            )
        prev_hash = sha256_text(line)
    return parsed, problems


def _read_trace(path: Path) -> tuple[list[str], list[str]]:
    """The trace's lines (without newlines) and problems with the file's shape."""
    try:
        text = read_regular(path, MAX_TRACE_BYTES).decode("utf-8")
    except FileNotFoundError:
        return [], [f"{TRACE}: missing"]
    except _Unreadable as error:
        return [], [f"{TRACE}: {error}"]
    except UnicodeDecodeError as error:
        raise AuditError(f"{path}: cannot read: {_why(error)}") from error
    problems = []
    if text and not text.endswith("\n"):
        problems.append(f"{TRACE}: the last line has no newline: truncated or edited")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines, problems


def _check_files(outdir: Path, manifest: Mapping[str, Any], report: VerifyReport) -> None:
    recorded = manifest.get("files")
    if not isinstance(recorded, dict):
        report.problems.append(f"{MANIFEST}: no 'files' list")
        return
    present: dict[str, Path] = {}
    for root, dirs, names in os.walk(outdir):  # links to folders are not followed
        here = Path(root)
        for name in sorted(names + [d for d in dirs if (here / d).is_symlink()]):
            entry = here / name
            relative = entry.relative_to(outdir).as_posix()
            if relative != MANIFEST:
                present[relative] = entry
    for name, digest in recorded.items():
        path = present.get(name)
        if path is None:
            report.problems.append(f"{name}: listed in the manifest, missing from the folder")
            continue
        try:
            found = hash_regular(path)
        except (_Unreadable, FileNotFoundError) as error:
            report.problems.append(f"{name}: {error}")
            continue
        if found != digest:
            report.problems.append(
                f"{name}: changed since the run (sha256 {found}, manifest {digest})"
            )
    for name in present:
        if name not in recorded:
            report.problems.append(f"{name}: not written by the run (not in the manifest)")
    if not any(p.startswith(f"{n}:") for p in report.problems for n in recorded):
        report.checked.append(f"{len(recorded)} files match their SHA-256 in the manifest")


# recommendations.json field -> how to read the same thing from a trace record
# (Read defensively: a trace or recommendations.json from elsewhere may hold any JSON;
# a wrong type reads as absent and then shows as a difference, never as a traceback.)
def _from_trace(record: Mapping[str, Any]) -> dict[str, Any]:
    recommendation = _dict(record.get("recommendation"))
    fields = _dict(recommendation.get("fields"))
    allocation = [_dict(a) for a in _list(recommendation.get("allocation"))]
    return {
        "outcomes": _dict(recommendation.get("outcomes")),
        **{key: ", ".join(str(v) for v in _list(fields.get(key))) for key, _ in ROLE_FIELDS},
        "investments": [a.get("code") for a in allocation],
        "allocation": {str(a.get("code")): a.get("status") for a in allocation},
        "fired": [_dict(f).get("rule") for f in _list(record.get("fired"))],
        "override": [
            (o.get("field"), o.get("target"), o.get("decision"), o.get("decided_by"))
            for o in map(_dict, _list(recommendation.get("overrides")))
        ],
    }


def _from_json(person: Mapping[str, Any]) -> dict[str, Any]:
    allocation = _dict(person.get("allocation"))

    def joined(value: object) -> object:
        return ", ".join(map(str, value)) if isinstance(value, list) else value

    return {
        "outcomes": person.get("outcomes"),
        **{key: joined(person.get(key)) for key, _ in ROLE_FIELDS},
        "investments": person.get("investments"),
        "allocation": {
            code: (v.get("status") if isinstance(v, dict) else v) for code, v in allocation.items()
        },
        "fired": person.get("fired"),
        "override": [
            (o.get("field"), o.get("target"), o.get("decision"), o.get("decided_by"))
            for o in map(_dict, _list(person.get("override")))
        ],
    }


def _check_recommendations(
    outdir: Path, records: Sequence[dict[str, Any] | None], report: VerifyReport
) -> None:
    """Cross-check recommendations.json against the trace, person by person."""
    path = outdir / RECOMMENDATIONS
    try:
        data = strict_json(read_regular(path, MAX_TRACE_BYTES).decode("utf-8"))
        people = data["people"]
        if not isinstance(people, list):
            raise TypeError("'people' is not a list")
    except FileNotFoundError:
        report.problems.append(f"{RECOMMENDATIONS}: missing")
        return
    except _Unreadable as error:
        report.problems.append(f"{RECOMMENDATIONS}: {error}")
        return
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        report.problems.append(f"{RECOMMENDATIONS}: cannot read: {_why(error)}")
        return
    traced = {r["employee_id"]: r["view"] for r in records if r is not None}
    before = len(report.problems)
    listed = set()
    for person in map(_dict, people):
        eid = person.get("employee_id")
        listed.add(eid)
        expected = traced.get(eid)
        if expected is None:
            report.problems.append(f"{RECOMMENDATIONS}: employee {eid}: not in {TRACE}")
            continue
        found = _from_json(person)
        for key, value in expected.items():
            if found[key] != value:
                report.problems.append(
                    f"{RECOMMENDATIONS}: employee {eid}: {key}: {_shown(found[key])} "
                    f"where {TRACE} has {_shown(value)}"
                )
    for eid in traced:
        if eid not in listed:
            report.problems.append(f"{RECOMMENDATIONS}: employee {eid}: missing (in {TRACE})")
    if len(report.problems) == before:
        report.checked.append(f"{RECOMMENDATIONS} agrees with {TRACE} for {len(people)} people")


def _shown(value: object, width: int = 160) -> str:
    """A JSON value for a message, cut at ``width`` characters."""
    text = json.dumps(value, ensure_ascii=False, default=_plain)
    return text if len(text) <= width else text[: width - 3] + "..."


def differences(a: object, b: object, path: str = "", limit: int = 10) -> list[str]:
    """Where two JSON values differ, as ``path: a -> b`` lines (at most ``limit``)."""
    found: list[str] = []

    def walk(x: object, y: object, where: str) -> None:
        if len(found) >= limit or x == y:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y), key=str):
                sub = f"{where}.{key}" if where else str(key)
                if key not in x:
                    found.append(f"{sub}: absent -> {_shown(y[key])}")
                elif key not in y:
                    found.append(f"{sub}: {_shown(x[key])} -> absent")
                else:
                    walk(x[key], y[key], sub)
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for n, (xi, yi) in enumerate(zip(x, y, strict=True)):
                walk(xi, yi, f"{where}[{n}]")
        else:
            found.append(f"{where or 'line'}: {_shown(x)} -> {_shown(y)}")

    walk(a, b, path)
    return found


def _replay(
    manifest: Mapping[str, Any],
    records: Sequence[dict[str, Any] | None],
    raw: Sequence[str],
    workbook: Path,
    rules_dir: Path | None,
    report: VerifyReport,
) -> None:
    """Evaluate the workbook again with the run's options and compare every trace line."""
    recorded_input = _dict(manifest.get("input"))
    try:
        # A CSV folder's fingerprint, or the workbook's bytes (a FIFO would block,
        # /dev/zero never end: only a regular file is read).
        panel_sha = folder_sha256(workbook) if workbook.is_dir() else hash_regular(workbook)
    except (_Unreadable, OSError) as error:
        raise AuditError(f"{workbook}: {error}") from error
    if panel_sha != recorded_input.get("sha256"):
        report.problems.append(
            f"{workbook.name}: not the workbook of this run (sha256 {panel_sha}, manifest "
            f"{recorded_input.get('sha256')}); replaying it to show what differs"
        )
    book = _dict(manifest.get("rulebook"))
    if rules_dir is None:
        if book.get("packaged"):
            rules_dir = default_rules_dir()
        elif isinstance(book.get("path"), str) and Path(book["path"]).exists():
            rules_dir = Path(book["path"])
        else:
            raise AuditError(
                f"{MANIFEST}: the run used the rules in {book.get('path')}, which are not "
                "there any more; give them with --rules"
            )
    options = _dict(manifest.get("options"))
    result = evaluate_workbook(
        workbook, rules_dir, allow_rejects=bool(options.get("allow_rejects", False))
    )
    if result.rulebook.sha256 != book.get("sha256"):
        report.problems.append(
            f"{rules_dir}: not the rulebook of this run (sha256 {result.rulebook.sha256}, "
            f"manifest {book.get('sha256')})"
        )
        now, then = rule_hashes(result.rulebook), _dict(book.get("rules"))
        for rule_id in [*then, *(r for r in now if r not in then)]:
            if rule_id not in now:
                report.problems.append(f"rule {rule_id}: in the run's rulebook, not in {rules_dir}")
            elif rule_id not in then:
                report.problems.append(f"rule {rule_id}: in {rules_dir}, not in the run's rulebook")
            elif now[rule_id] != then[rule_id]:
                report.problems.append(f"rule {rule_id}: changed since the run")
    recorded = {r["employee_id"]: r for r in records if r is not None}
    replayed = set()
    before = len(report.problems)
    for index in range(len(result.results)):
        new = trace_record(result, index)
        eid = new["employee_id"]
        replayed.add(eid)
        entry = recorded.get(eid)
        if entry is None:
            continue
        line = raw[entry["index"]]
        # Equal content gives equal text once the recorded chain link is put back;
        # only lines that differ are parsed and compared field by field.
        if canonical({**new, CHAIN_KEY: entry["link"]}) == line:
            continue
        old, new = json.loads(line), json.loads(canonical(new))  # tuples, dates -> JSON
        # The recommendation first: it is what the panel acts on; then the facts read,
        # then the rest of the trace.
        found = differences(old.get("recommendation"), new.get("recommendation"), "recommendation")
        found += differences(old.get("facts"), new.get("facts"), "facts")
        skip = (CHAIN_KEY, "recommendation", "facts")
        rest = [k for k in sorted(set(old) | set(new)) if k not in skip]
        found += differences(
            {k: old[k] for k in rest if k in old}, {k: new[k] for k in rest if k in new}
        )
        for text in found:
            report.problems.append(f"replay: employee {eid}: {text} (recorded -> replayed)")
    for eid in recorded:
        if eid not in replayed:
            report.problems.append(f"replay: employee {eid}: in {TRACE}, not evaluated now")
    for eid in replayed:
        if eid not in recorded:
            report.problems.append(f"replay: employee {eid}: evaluated now, not in {TRACE}")
    if len(report.problems) == before:
        report.checked.append(
            f"replay of {workbook.name}: {len(replayed)} people, every recommendation "
            "and trace line identical"
        )


def verify(
    outdir: str | Path, workbook: str | Path | None = None, rules_dir: str | Path | None = None
) -> VerifyReport:
    """Check an output folder: the trace's hash chain, the manifest's counts and hashes,
    every file's SHA-256, recommendations.json against the trace; with ``workbook``,
    replay the run and compare every trace line (run id and timestamps aside)."""
    outdir = Path(outdir)
    manifest, manifest_sha256 = _read_manifest(outdir)
    report = VerifyReport(outdir, manifest_sha256=manifest_sha256)
    raw, shape = _read_trace(outdir / TRACE)
    report.problems += shape
    records, broken = check_chain(raw)
    report.problems += broken
    recorded = _dict(manifest.get("trace"))
    count, last = recorded.get("lines"), recorded.get("last_sha256")
    if len(raw) != count:
        if isinstance(count, int) and len(raw) < count:
            report.problems.append(
                f"{TRACE}: {len(raw)} lines, the manifest records {count}: "
                f"truncated after line {len(raw)}{_who(records[-1] if records else None)}"
            )
        else:
            extra = records[count] if isinstance(count, int) and count < len(records) else None
            report.problems.append(
                f"{TRACE}: {len(raw)} lines, the manifest records {count}: lines appended "
                f"from line {count + 1 if isinstance(count, int) else '?'}{_who(extra)}"
            )
    elif raw and sha256_text(raw[-1]) != last:
        report.problems.append(
            f"{TRACE} line {len(raw)}{_who(records[-1])}: changed after it was written "
            "(its hash is not the manifest's last_sha256)"
        )
    if not shape and not broken and len(raw) == count and (not raw or sha256_text(raw[-1]) == last):
        report.checked.append(f"{TRACE}: hash chain of {len(raw)} lines intact")
    people = _dict(manifest.get("counts")).get("people")
    if people != len(raw):
        report.problems.append(f"{MANIFEST}: counts {people} people, {TRACE} has {len(raw)}")
    _check_files(outdir, manifest, report)
    _check_recommendations(outdir, records, report)
    if workbook is not None:
        _replay(
            manifest,
            records,
            raw,
            Path(workbook),
            Path(rules_dir) if rules_dir is not None else None,
            report,
        )
    return report


# --------------------------------------------------------------------------------------
# diff: the same people under two rulebooks
# --------------------------------------------------------------------------------------

# After the decisions that play these roles, the kinds of change a diff counts first.
DIFF_ROLES = ("verdict", "development_track")
DIFF_KINDS = ("investments", "allocation")


@dataclass(frozen=True)
class Change:
    """One person's recommendation under rulebook A and under rulebook B."""

    employee_id: str
    kind: str  # heart, track, investments, allocation, or another decision's name
    a: str
    b: str


@dataclass(frozen=True)
class PersonDiff:
    employee_id: str
    name: str
    changes: tuple[Change, ...]
    causes: tuple[str, ...]  # "rule heart-strong (changed)", "file catalogue.yaml (changed)"


@dataclass(frozen=True)
class RulebookDiff:
    """What changes for whom between two rulebooks, and which rule changes cause it."""

    workbook: str
    a: dict[str, Any]  # path, sha256, rules
    b: dict[str, Any]
    rules_changed: tuple[str, ...]
    rules_added: tuple[str, ...]
    rules_removed: tuple[str, ...]
    files_changed: tuple[str, ...]  # rulebook files whose content differs (or only one has)
    people: int
    changed: tuple[PersonDiff, ...]
    totals: dict[str, int]
    # Files that say the same in other words: comments, layout, quoting, key order.
    files_relaid: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _summary_of(result: RunResult, eid: str) -> dict[str, str]:
    outcomes = result.result(eid).evaluation.outcomes
    recommendation = result.decisions.recommendations.get(eid)
    allotments = recommendation.allocation if recommendation else ()
    investments = result.decisions.policy.decision  # shown as allotments, below
    view = {name: ", ".join(values) for name, values in outcomes.items() if name != investments}
    view["investments"] = ", ".join(a.code for a in allotments) or "none"
    view["allocation"] = ", ".join(f"{a.code} {a.status}" for a in allotments) or "none"
    return view


def _touched(result: RunResult, eid: str) -> set[str]:
    """Rules that fired or came close (one change away) for the person."""
    r = result.result(eid)
    rules = set(r.evaluation.fired)
    rules.update(c["rule"] for c in r.trace.get("counterfactuals", []) if "rule" in c)
    return rules


def diff_rulebooks(
    workbook: str | Path,
    rules_a: str | Path,
    rules_b: str | Path,
    allow_rejects: bool = False,
    jobs: int | None = None,
) -> RulebookDiff:
    """Evaluate the workbook under both rulebooks; who changes, how, and because of which
    rule changes (those that fired or came close for the person under either book)."""
    first = evaluate_workbook(workbook, rules_a, jobs=jobs, allow_rejects=allow_rejects)
    second = evaluate_workbook(workbook, rules_b, jobs=jobs, allow_rejects=allow_rejects)
    hashes_a, hashes_b = rule_hashes(first.rulebook), rule_hashes(second.rulebook)
    changed_rules = tuple(r for r in hashes_a if r in hashes_b and hashes_a[r] != hashes_b[r])
    added = tuple(r for r in hashes_b if r not in hashes_a)
    removed = tuple(r for r in hashes_a if r not in hashes_b)
    # Files compared by what they say: a comment, a folded line or a rulebook workbook
    # standing for the folder it was exported from is no change (files_relaid).
    book_a, book_b = open_rules(rules_a), open_rules(rules_b)
    names = sorted(set(book_a.names()) | set(book_b.names()))
    files_changed = tuple(n for n in names if book_a.content_sha256(n) != book_b.content_sha256(n))
    files_relaid = tuple(
        n for n in names if n not in files_changed and book_a.data(n) != book_b.data(n)
    )
    rule_files = {rule.file.rsplit("/", 1)[-1] for rule in (*first.rulebook.rules,)}
    rule_files |= {rule.file.rsplit("/", 1)[-1] for rule in second.rulebook.rules}
    other_files = [n for n in files_changed if n not in rule_files]
    label = {r: "changed" for r in changed_rules} | {r: "added" for r in added}
    label |= {r: "removed" for r in removed}
    totals: Counter[str] = Counter()
    people = []
    first_kinds = [
        decision.name for role in DIFF_ROLES if (decision := first.rulebook.role(role)) is not None
    ] + list(DIFF_KINDS)
    for r in first.results:
        eid = r.employee_id
        try:
            view_b = _summary_of(second, eid)
        except KeyError:
            continue
        view_a = _summary_of(first, eid)
        others = sorted(k for k in set(view_a) | set(view_b) if k not in first_kinds)
        order = [*first_kinds, *others]
        changes = tuple(
            Change(eid, kind, view_a.get(kind, "none"), view_b.get(kind, "none"))
            for kind in order
            if view_a.get(kind, "none") != view_b.get(kind, "none")
        )
        if not changes:
            continue
        totals.update(c.kind for c in changes)
        touched = _touched(first, eid) | _touched(second, eid)
        causes = [f"rule {rid} ({label[rid]})" for rid in label if rid in touched]
        causes += [f"file {name} (changed)" for name in other_files]
        name = first.employees[eid].get("full_name")
        people.append(PersonDiff(eid, str(name) if name else "", changes, tuple(causes)))

    def book(result: RunResult, path: str | Path) -> dict[str, Any]:
        return {
            "path": str(path),
            "sha256": result.rulebook.sha256,
            "rules": len(result.rulebook.rules),
        }

    return RulebookDiff(
        workbook=str(workbook),
        a=book(first, rules_a),
        b=book(second, rules_b),
        rules_changed=changed_rules,
        rules_added=added,
        rules_removed=removed,
        files_changed=files_changed,
        people=len(first.results),
        files_relaid=files_relaid,
        changed=tuple(people),
        totals=dict(sorted(totals.items())),
    )


def format_diff(diff: RulebookDiff) -> str:
    """The diff as text for a reviewer."""
    a, b = diff.a, diff.b
    lines = [
        f"rulebook A: {a['path']} @ {a['sha256'][:12]} ({a['rules']} rules)",
        f"rulebook B: {b['path']} @ {b['sha256'][:12]} ({b['rules']} rules)",
    ]
    for what, ids in (
        ("changed", diff.rules_changed),
        ("added", diff.rules_added),
        ("removed", diff.rules_removed),
    ):
        if ids:
            lines.append(f"rules {what}: {', '.join(ids)}")
    if diff.files_changed:
        lines.append(f"files changed: {', '.join(diff.files_changed)}")
    if diff.files_relaid:
        lines.append(
            "files that say the same in other words (comments, layout): "
            + ", ".join(diff.files_relaid)
        )
    if a["sha256"] == b["sha256"]:
        lines.append("the two rulebooks are identical")
    elif not diff.files_changed:
        lines.append("the two rulebooks say the same: no file's content differs")
    lines.append(f"{len(diff.changed)} of {diff.people} people change")
    for person in diff.changed:
        lines.append(f"  {person.employee_id} {person.name}".rstrip())
        for change in person.changes:
            lines.append(f"    {change.kind}: {change.a} -> {change.b}")
        causes = ", ".join(person.causes) or "no changed rule fired or came close"
        lines.append(f"    because: {causes}")
    if diff.totals:
        lines.append("totals: " + ", ".join(f"{k} {n}" for k, n in diff.totals.items()))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# fairness: selection rates and impact ratios from the Demographics sheet only
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """One evaluated person as the fairness monitor sees them."""

    employee_id: str
    sex: str  # as recorded, or UNKNOWN
    race_ethnicity: str  # as recorded, or UNKNOWN
    selected: frozenset[str]  # the measures the person was selected for


@dataclass(frozen=True)
class GroupFigure:
    """One group's selection under one measure."""

    group: str
    people: int
    selected: int
    rate: float | None  # None: too small or unknown category
    impact_ratio: float | None  # rate / highest rate among compared groups
    flagged: bool  # impact ratio below FOUR_FIFTHS
    status: str  # "compared", "reference" (highest rate), "too small", "unknown"


@dataclass(frozen=True)
class Table:
    """One measure by one grouping: every group, compared or not."""

    measure: str
    by: str  # "sex", "race/ethnicity", "sex x race/ethnicity"
    groups: tuple[GroupFigure, ...]
    note: str  # e.g. "no one selected: no ratios"


@dataclass(frozen=True)
class FairnessReport:
    """The fairness monitor: selection rates and impact ratios, four-fifths flags."""

    people: int
    without_record: int  # evaluated people with no Demographics row (counted as unknown)
    unknown_sex: int
    unknown_race_ethnicity: int
    min_group: int
    threshold: float
    measures: tuple[str, ...]
    tables: tuple[Table, ...]

    @property
    def flagged(self) -> tuple[tuple[Table, GroupFigure], ...]:
        return tuple((t, g) for t in self.tables for g in t.groups if g.flagged)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def category(value: Value) -> str:
    """A Demographics value as a group name; blank and 'prefer not to say' are unknown."""
    if value is None:
        return UNKNOWN
    text = " ".join(str(value).split())
    return UNKNOWN if not text or text.casefold() in UNKNOWN_CATEGORIES else text


LEADERSHIP_MEASURE = "recommended for a leadership investment"
ALLOCATED_MEASURE = "allocated any investment"


def track_measure(track: str) -> str:
    return f"track {track}"


def _table(subjects: Sequence[Subject], measure: str, by: str, key: Any, min_group: int) -> Table:
    members: dict[str, list[Subject]] = {}
    for s in subjects:
        members.setdefault(key(s), []).append(s)
    # Fractions: a ratio of exactly 4/5 is not flagged, whatever floats would say.
    rates: dict[str, Fraction] = {}
    for group, people in members.items():
        if UNKNOWN not in group and len(people) >= min_group:
            rates[group] = Fraction(sum(measure in s.selected for s in people), len(people))
    top = max(rates.values(), default=Fraction(0))
    figures = []
    for group in sorted(members, key=lambda g: (UNKNOWN in g, g)):
        people = members[group]
        chosen = sum(measure in s.selected for s in people)
        if UNKNOWN in group:
            figures.append(GroupFigure(group, len(people), chosen, None, None, False, "unknown"))
        elif group not in rates:
            figures.append(GroupFigure(group, len(people), chosen, None, None, False, "too small"))
        else:
            rate = rates[group]
            ratio = rate / top if top > 0 else None
            flagged = ratio is not None and ratio < THRESHOLD
            status = "reference" if top > 0 and rate == top else "compared"
            figures.append(
                GroupFigure(
                    group,
                    len(people),
                    chosen,
                    round(float(rate), 4),
                    None if ratio is None else round(float(ratio), 4),
                    flagged,
                    status,
                )
            )
    if len(rates) < 2:
        note = f"fewer than two groups of {min_group} or more with a known category: no ratios"
    elif top == 0:
        note = "no one in a compared group was selected: no ratios"
    else:
        note = ""
    return Table(measure, by, tuple(figures), note)


def fairness_of(
    subjects: Sequence[Subject],
    measures: Sequence[str],
    min_group: int = MIN_GROUP,
    without_record: int = 0,
) -> FairnessReport:
    """Selection rates and impact ratios for each measure by sex, by race/ethnicity and
    by both; groups under ``min_group`` and unknown categories are counted, not rated."""
    tables = []
    for measure in measures:
        tables.append(_table(subjects, measure, "sex", lambda s: s.sex, min_group))
        tables.append(
            _table(subjects, measure, "race/ethnicity", lambda s: s.race_ethnicity, min_group)
        )
        tables.append(
            _table(
                subjects,
                measure,
                "sex x race/ethnicity",
                lambda s: f"{s.sex} / {s.race_ethnicity}",
                min_group,
            )
        )
    return FairnessReport(
        people=len(subjects),
        without_record=without_record,
        unknown_sex=sum(s.sex == UNKNOWN for s in subjects),
        unknown_race_ethnicity=sum(s.race_ethnicity == UNKNOWN for s in subjects),
        min_group=min_group,
        threshold=FOUR_FIFTHS,
        measures=tuple(measures),
        tables=tuple(tables),
    )


def _demographics(panel: Panel) -> dict[str, tuple[str, str]]:
    return {
        str(row.get("employee_id")): (category(row.get("sex")), category(row.get("race_ethnicity")))
        for row in panel.rows.get("Demographics", [])
        if row.get("employee_id") is not None
    }


def has_demographics(panel: Panel) -> bool:
    return "Demographics" in panel.found


@dataclass(frozen=True)
class Selection:
    """What one person was recommended and allocated, for the fairness measures."""

    employee_id: str
    tracks: tuple[str, ...]
    investments: tuple[tuple[str, str | None, str], ...]  # (code, catalogue track, status)


def _subjects(
    panel: Panel, selections: Sequence[Selection], tracks: Sequence[str]
) -> tuple[list[Subject], int]:
    demographics = _demographics(panel)
    subjects = []
    missing = 0
    for s in selections:
        if s.employee_id not in demographics:
            missing += 1
        sex, race = demographics.get(s.employee_id, (UNKNOWN, UNKNOWN))
        chosen = {track_measure(t) for t in s.tracks if t in tracks}
        if any(track == LEADERSHIP_TRACK for _, track, _ in s.investments):
            chosen.add(LEADERSHIP_MEASURE)
        if any(status == "allocated" for _, _, status in s.investments):
            chosen.add(ALLOCATED_MEASURE)
        subjects.append(Subject(s.employee_id, sex, race, frozenset(chosen)))
    return subjects, missing


def _measures(tracks: Sequence[str]) -> list[str]:
    return [LEADERSHIP_MEASURE, *(track_measure(t) for t in tracks), ALLOCATED_MEASURE]


def fairness(result: RunResult, min_group: int = MIN_GROUP) -> FairnessReport | None:
    """The fairness monitor of a run; None when the workbook has no Demographics sheet.

    Measures are the system's recommendations (before any panel override)."""
    if not has_demographics(result.panel):
        return None
    catalogue = result.decisions.catalogue
    selections = []
    for r in result.results:
        recommendation = result.decisions.recommendations.get(r.employee_id)
        allotments = recommendation.allocation if recommendation else ()
        selections.append(
            Selection(
                r.employee_id,
                result.rulebook.outcome_of("development_track", r.evaluation.outcomes),
                tuple(
                    (a.code, (inv.track if (inv := catalogue.get(a.code)) else None), a.status)
                    for a in allotments
                ),
            )
        )
    track_decision = result.rulebook.role("development_track")
    tracks = track_decision.outcomes if track_decision else ()
    subjects, missing = _subjects(result.panel, selections, tracks)
    return fairness_of(subjects, _measures(tracks), min_group, missing)


def fairness_of_outdir(
    outdir: str | Path, workbook: str | Path | None = None, min_group: int = MIN_GROUP
) -> FairnessReport | None:
    """The fairness monitor from an output folder: recommendations.json for who was
    selected, the workbook (the manifest's, or ``workbook``) for Demographics only."""
    outdir = Path(outdir)
    manifest = read_manifest(outdir)
    recorded = _dict(manifest.get("input"))
    if workbook is None and not isinstance(recorded.get("path"), str):
        raise AuditError(
            f"{outdir / MANIFEST}: records no workbook path; give the workbook with --workbook"
        )
    path = Path(workbook) if workbook is not None else Path(recorded["path"])
    if not path.exists():  # a workbook or a folder of CSV files
        raise AuditError(
            f"{outdir / MANIFEST}: the run's workbook {path} is not there; give it with --workbook"
        )
    panel = load_workbook(path)
    if panel.sha256 != recorded.get("sha256"):
        raise AuditError(f"{path}: not the workbook of the run in {outdir} (SHA-256 differs)")
    if not has_demographics(panel):
        return None
    rules = _dict(manifest.get("rulebook"))
    if not rules.get("packaged") and not isinstance(rules.get("path"), str):
        raise AuditError(f"{outdir / MANIFEST}: records no rules folder")
    rules_dir = default_rules_dir() if rules.get("packaged") else Path(rules["path"])
    rulebook = load_rulebook(rules_dir)
    track_decision = rulebook.role("development_track")
    track_name = track_decision.name if track_decision else ""
    catalogue = decide.load_catalogue(panel, rules_dir)
    where = outdir / RECOMMENDATIONS
    try:
        people = strict_json(read_regular(where, MAX_TRACE_BYTES).decode("utf-8"))["people"]
        if not isinstance(people, list):
            raise TypeError("'people' is not a list")
    except FileNotFoundError as error:
        raise AuditError(f"{where}: missing") from error
    except _Unreadable as error:
        raise AuditError(f"{where}: {error}") from error
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise AuditError(f"{where}: cannot read: {_why(error)}") from error
    selections = []
    for person in map(_dict, people):
        allocation = _dict(person.get("allocation"))
        selections.append(
            Selection(
                str(person.get("employee_id")),
                tuple(str(t) for t in _list(_dict(person.get("outcomes")).get(track_name))),
                tuple(
                    (
                        str(code),
                        (inv.track if (inv := catalogue.get(str(code))) else None),
                        str(_dict(allocation.get(str(code))).get("status")),
                    )
                    for code in _list(person.get("investments"))
                ),
            )
        )
    tracks = track_decision.outcomes if track_decision else ()
    subjects, missing = _subjects(panel, selections, tracks)
    return fairness_of(subjects, _measures(tracks), min_group, missing)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def format_fairness(report: FairnessReport | None) -> str:
    """The fairness monitor as text (80 columns)."""
    if report is None:
        return "no Demographics sheet: the fairness monitor has nothing to measure"
    lines = [
        f"Fairness monitor: {report.people} people "
        f"({report.without_record} without a Demographics row, counted as unknown; "
        f"unknown sex {report.unknown_sex}, unknown race/ethnicity "
        f"{report.unknown_race_ethnicity}).",
        f"Impact ratio = group selection rate / highest group rate; below "
        f"{report.threshold:.2f} flagged (four-fifths rule). Groups under "
        f"{report.min_group} people are too small to rate; unknown categories are "
        "counted, not rated.",
    ]
    for table in report.tables:
        lines.append("")
        lines.append(f"{table.measure}, by {table.by}")
        width = max([len(g.group) for g in table.groups] + [5])
        lines.append(f"  {'group':<{width}}  people  selected    rate  ratio")
        for g in table.groups:
            if g.status in ("unknown", "too small"):
                tail = g.status
            else:
                ratio = "-" if g.impact_ratio is None else f"{g.impact_ratio:.2f}"
                tail = f"{_percent(g.rate):>6}  {ratio:>5}" + ("  FLAG" if g.flagged else "")
            lines.append(f"  {g.group:<{width}}  {g.people:>6}  {g.selected:>8}  {tail}")
        if table.note:
            lines.append(f"  ({table.note})")
    flagged = report.flagged
    lines.append("")
    lines.append(
        f"{len(flagged)} impact ratio{'s' if len(flagged) != 1 else ''} below "
        f"{report.threshold:.2f}"
        + (
            ": " + "; ".join(f"{t.measure} by {t.by}: {g.group}" for t, g in flagged)
            if flagged
            else ""
        )
    )
    return "\n".join(lines)
