"""The run's record: the hash-chained trace and the manifest (docs/audit.md).

What ``report`` writes beside the briefs and what ``audit`` later checks: canonical
JSON and its hashes, each person's trace line (the engine's trace plus the
recommendation as decided, chained to the line before), and ``manifest.json``; and
reading them back from an output folder that may come from elsewhere (regular files
only, bounded, strict JSON). Nothing here runs the engine, so writing a run's outputs
never imports durable_rules; ``audit`` (verify, diff) and ``fairness`` read what this
module wrote.
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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talentrules import __version__, jsontext
from talentrules.errors import AuditError
from talentrules.jsontext import canonical as canonical  # re-exported: the record's JSON
from talentrules.jsontext import plain_json as plain_json
from talentrules.outdir import PARTIAL
from talentrules.paths import default_rules_dir, default_templates_dir
from talentrules.reference import TRACE_VERSION
from talentrules.rulebook import AllOf, AnyOf, Compare, Expr, Rule, Rulebook
from talentrules.rulefiles import open_rules

if TYPE_CHECKING:
    from talentrules.run import RunResult

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
TRACE = "trace.jsonl"
RECOMMENDATIONS = "recommendations.json"
# The ``prev`` of the first trace line: there is no line before it.
GENESIS = "0" * 64
CHAIN_KEY = "chain"  # {"line": n, "prev": sha256 of line n-1} in every trace line

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
    return {
        key: outcomes.get(name, ()) if name is not None else ()
        for key, name in _role_decisions(rulebook)
    }


# Each schema field with the name of the decision playing its role (None: none does),
# by rulebook: role_fields runs three times a person (recommendations.json and .xlsx,
# the trace line), and finding a role's decision looks at every decision. Keyed by
# the rulebook object, kept here so its id is not reused; a rulebook (frozen) keeps
# its decisions and their roles.
_ROLE_DECISIONS: dict[int, tuple[Rulebook, tuple[tuple[str, str | None], ...]]] = {}


def _role_decisions(rulebook: Rulebook) -> tuple[tuple[str, str | None], ...]:
    cached = _ROLE_DECISIONS.get(id(rulebook))
    if cached is not None and cached[0] is rulebook:
        return cached[1]
    names = tuple(
        (key, decision.name if (decision := rulebook.role(role)) is not None else None)
        for key, role in ROLE_FIELDS
    )
    if len(_ROLE_DECISIONS) >= 16:  # a handful of rulebooks a process
        _ROLE_DECISIONS.clear()
    _ROLE_DECISIONS[id(rulebook)] = (rulebook, names)
    return names


# --------------------------------------------------------------------------------------
# Canonical JSON and the hash chain
# --------------------------------------------------------------------------------------


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


class Unreadable(Exception):
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
    no larger than ``limit``; Unreadable otherwise. The caller closes it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Unreadable("is a link, not a regular file: not read") from error
        raise Unreadable(f"cannot be read ({error.strerror})") from error
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise Unreadable(f"is {_special(info.st_mode)}, not a regular file: not read")
    if info.st_size > limit:
        os.close(fd)
        raise Unreadable(f"is {info.st_size:,} bytes, over the limit of {limit:,}: not read")
    return fd, info.st_size


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see _open_regular)."""
    fd, _ = _open_regular(path, limit)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Unreadable(f"grew over the limit of {limit:,} bytes while read: not read")
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


def as_object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def trace_record(result: RunResult, index: int) -> dict[str, Any]:
    """One person's trace line before chaining: the engine's trace plus the
    recommendation as decided (outcomes, allocation, overrides beside them)."""
    record = result.results[index].record
    record["recommendation"] = recommendation_record(result, index)
    return record


def recommendation_record(result: RunResult, index: int) -> dict[str, Any]:
    """A trace line's ``recommendation``: the outcomes, the fields recommendations.json
    fills from them, the allocation with what decided it, the overrides, the plan."""
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
                    "decided_by": a.decided_by,
                    "ranking": dict(a.ranking.values) if a.ranking else {},
                    "ranks": list(a.ranking.ranks) if a.ranking else [],
                    "tie_break": {
                        "method": result.decisions.policy.tie_break,
                        "value": a.ranking.tie,
                    }
                    if a.ranking
                    else None,
                }
            )
        overrides = [o.as_dict() for o in recommendation.overrides]
    outcomes = r.evaluation.outcomes
    return {
        "outcomes": {name: list(values) for name, values in outcomes.items()},
        # The parts recommendations.json names by role, so verify can cross-check them.
        "fields": {
            key: list(values) for key, values in role_fields(result.rulebook, outcomes).items()
        },
        "allocation": allocation,
        "overrides": overrides,
        # The plan with the panel's decisions counted (talentrules.plan).
        "plan": [
            {
                "code": e.code,
                "status": e.status,
                "by": e.by,
                "cost": e.cost,
                "cell": e.cell,
                "fallback": e.fallback,
            }
            for e in result.plan.of(r.employee_id)
        ],
    }


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
    """trace.jsonl: one chained line per person, in employee_id order (docs/audit.md);
    the lines ``chain(trace_record(...))`` writes, made as a run makes them."""
    return rechain(unchained_line(result, i) for i in range(len(result.results)))


def unchained_line(result: RunResult, index: int) -> tuple[str, int]:
    """The index-th person's trace.jsonl line as ``chain`` writes it, but with ``prev``
    left ``GENESIS``, and where that ``prev`` starts in it: ``rechain`` puts in the
    hash of the line before. So the lines can be made out of order, in the processes
    that render the briefs, and chained in order after. The line is made as text
    (``Result.record_text``): ``canonical`` of ``trace_record`` with its chain, the
    same bytes (tests/test_traceline_text.py)."""
    line = result.results[index].record_text(
        {
            "recommendation": canonical(recommendation_record(result, index)),
            CHAIN_KEY: f'{{"line":{index + 1},"prev":"{GENESIS}"}}',
        }
    )
    # A JSON string holds no bare '"', so the chain's text is found where it is: at
    # the top level, its key sorted among the others.
    marker = f'"{CHAIN_KEY}":{{"line":{index + 1},"prev":"'
    return line, line.index(marker) + len(marker)


def rechain(lines: Iterable[tuple[str, int]], prev: str = GENESIS) -> Iterator[str]:
    """``unchained_line``'s lines, in order, each with the hash of the one before: the
    lines ``chain`` writes."""
    for text, at in lines:
        line = text[:at] + prev + text[at + len(GENESIS) :]
        prev = sha256_text(line)
        yield line


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
    # Equal evaluations share one outcomes dict (engine._shared): each counted once,
    # times the people who have it, in the order people first have it.
    shared: dict[int, tuple[Mapping[str, Sequence[str]], int]] = {}
    for r in result.results:
        held = r.evaluation.outcomes
        known = shared.get(id(held))
        shared[id(held)] = (held, known[1] + 1 if known is not None else 1)
    outcomes: dict[str, Counter[str]] = {name: Counter() for name in result.rulebook.decisions}
    for seen, people in shared.values():
        for name, values in seen.items():
            tally = outcomes.get(name)
            if tally is None:
                tally = outcomes[name] = Counter()
            for value in values:
                tally[value] += people
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


def _file_names(folder: Path) -> list[str]:
    """Every file under ``folder`` as a relative POSIX name, in the order of
    ``sorted(folder.rglob("*"))`` (part by part: "/" sorts before any character of a
    name). Names, not Path objects: a 100,000-person run writes 200,000 briefs."""
    names: list[str] = []

    def walk(top: str, prefix: str) -> None:
        # As os.walk then os.path.isfile: links to files count, links to folders are
        # not entered, a folder that cannot be read is passed over.
        try:
            entries = list(os.scandir(top))
        except OSError:
            return
        for entry in entries:
            if entry.is_dir():
                if not entry.is_symlink():
                    walk(entry.path, prefix + entry.name + "/")
            elif entry.is_file():
                names.append(prefix + entry.name)

    walk(os.fspath(folder), "")
    names.sort(key=lambda name: name.replace("/", "\0"))
    return names


def _hash_files(
    folder: Path,
    known: Mapping[str, str] | None = None,
    trace: tuple[str, int, str] | None = None,
) -> tuple[dict[str, str], int, str]:
    """Every file's SHA-256 (manifest.json aside), and the trace's line count and last
    line's SHA-256, counted while its bytes are hashed: one read of each file. A file
    in ``known`` (name -> SHA-256 of the bytes written, by whoever wrote them) is not
    read again, nor the trace when ``trace`` gives its SHA-256, line count and last
    line's hash as its writer counted them; every file present is listed either way."""
    files: dict[str, str] = {}
    known = known or {}
    lines, last = 0, GENESIS
    for name in _file_names(folder):
        base = name.rpartition("/")[2]
        if base == MANIFEST or base == PARTIAL:
            continue  # PARTIAL: the marker of a folder being built, removed on publishing
        if name != TRACE:
            files[name] = known.get(name) or sha256_file(folder / name)
            continue
        if trace is not None:
            files[name], lines, last = trace
            continue
        path = folder / name
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
    hashes: Mapping[str, str] | None = None,
    trace: tuple[str, int, str] | None = None,
) -> dict[str, Any]:
    """manifest.json as data, from the result and the files already in ``folder``
    (``hashes``: the SHA-256 of files whose writer hashed the bytes it wrote; ``trace``:
    trace.jsonl's SHA-256, lines and last line's hash, as its writer counted them)."""
    rules_dir = Path(result.rules_dir).absolute()
    packaged = rules_dir.resolve() == default_rules_dir().resolve()
    files, lines, last = _hash_files(folder, hashes, trace)
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
    hashes: Mapping[str, str] | None = None,
    trace: tuple[str, int, str] | None = None,
) -> Path:
    """Write ``folder/manifest.json``; call it last, once every other file is written."""
    data = build_manifest(
        folder,
        result,
        templates_dir=templates_dir,
        options=options,
        started=started,
        hashes=hashes,
        trace=trace,
    )
    path = folder / MANIFEST
    # json.dump's text (indent=2), written as it is encoded (jsontext): at 100,000
    # people the manifest lists 200,000 files, 25 MB of text not held at once.
    with path.open("w", encoding="utf-8") as handle:
        jsontext.dump(data, handle)
        handle.write("\n")
    return path


def read_manifest(outdir: str | Path) -> dict[str, Any]:
    """The manifest of an output folder; AuditError when it is missing or unreadable."""
    return read_manifest_with_hash(Path(outdir))[0]


def read_manifest_with_hash(outdir: Path) -> tuple[dict[str, Any], str]:
    """The manifest and the SHA-256 of its bytes (read once)."""
    path = outdir / MANIFEST
    try:
        raw = read_regular(path, MAX_MANIFEST_BYTES)
        data = strict_json(raw.decode("utf-8"))
    except FileNotFoundError as error:
        raise AuditError(f"{path}: no manifest: not a talentrules output folder") from error
    except Unreadable as error:
        raise AuditError(f"{path}: {error}") from error
    except (UnicodeDecodeError, ValueError) as error:
        raise AuditError(f"{path}: cannot read the manifest: {reason_of(error)}") from error
    if not isinstance(data, dict) or data.get("manifest_version") != MANIFEST_VERSION:
        raise AuditError(f"{path}: not a manifest this version of talentrules reads")
    return data, hashlib.sha256(raw).hexdigest()


def reason_of(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."
