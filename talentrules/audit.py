"""Audit and oversight: verify a run's record, replay it, and diff two rulebooks
(docs/audit.md).

The record itself (canonical JSON, the chained trace lines, the manifest) is written
by ``talentrules.record``, and the fairness monitor is ``talentrules.fairness``:
neither runs the engine, so writing outputs never imports it. This module does: a
replay and a diff evaluate the workbook again. Replay compares what the record
owns: the chained trace lines, which carry every person's recommendation,
allocation and overrides beside the engine's trace; ``recommendations.json`` is
checked by its SHA-256 in the manifest and cross-checked, person by person, against
the trace. The record's and the fairness monitor's names stay importable from here.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from talentrules.errors import AuditError, RulebookError, RuleConflictError, SessionError
from talentrules.fairness import (
    FairnessReport,
    GroupFigure,
    Subject,
    Table,
    category,
    fairness,
    fairness_of,
    fairness_of_outdir,
    format_fairness,
)
from talentrules.ingest import folder_sha256
from talentrules.paths import default_rules_dir
from talentrules.record import (
    CHAIN_KEY,
    GENESIS,
    LIST_FIELDS,
    MANIFEST,
    MANIFEST_VERSION,
    MAX_TRACE_BYTES,
    RECOMMENDATIONS,
    ROLE_FIELDS,
    TRACE,
    Unreadable,
    as_list,
    as_object,
    build_manifest,
    canonical,
    chain,
    hash_regular,
    plain_json,
    read_manifest,
    read_manifest_with_hash,
    read_regular,
    reason_of,
    role_fields,
    rule_hashes,
    sha256_file,
    sha256_text,
    strict_json,
    trace_lines,
    trace_record,
    write_manifest,
)
from talentrules.reference import replay
from talentrules.rulefiles import open_rules
from talentrules.run import RunResult, apply_session, evaluate_workbook
from talentrules.session import verify_session
from talentrules.trace import PersonTrace, TraceFormatError, TraceLine

__all__ = [
    "CHAIN_KEY",
    "GENESIS",
    "MANIFEST",
    "MANIFEST_VERSION",
    "RECOMMENDATIONS",
    "LIST_FIELDS",
    "ROLE_FIELDS",
    "TRACE",
    "FairnessReport",
    "GroupFigure",
    "RulebookDiff",
    "Subject",
    "Table",
    "VerifyReport",
    "build_manifest",
    "canonical",
    "category",
    "chain",
    "diff_rulebooks",
    "fairness",
    "fairness_of",
    "fairness_of_outdir",
    "format_diff",
    "format_fairness",
    "read_manifest",
    "role_fields",
    "sha256_file",
    "sha256_text",
    "trace_lines",
    "trace_record",
    "verify",
    "write_manifest",
]

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
            why = error.msg if isinstance(error, json.JSONDecodeError) else reason_of(error)
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
        try:
            view: dict[str, Any] | None = _from_trace(TraceLine.read(record))
        except TraceFormatError as error:
            view = None
            problems.append(f"{TRACE} line {number}{who}: not a trace line: {error}")
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
    except Unreadable as error:
        return [], [f"{TRACE}: {error}"]
    except UnicodeDecodeError as error:
        raise AuditError(f"{path}: cannot read: {reason_of(error)}") from error
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
        except (Unreadable, FileNotFoundError) as error:
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


def _session_file(manifest: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The session file a run applied (evaluate --session), from the manifest's options."""
    session = as_object(as_object(manifest.get("options")).get("session"))
    if not session:
        return None
    name = session.get("file")
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name[0] == ".":
        raise AuditError(f"{MANIFEST}: options.session.file is not a file name of the folder")
    return name, session


def _check_session(outdir: Path, manifest: Mapping[str, Any], report: VerifyReport) -> None:
    """A session's copy in OUTDIR: its own chain, and its end where the manifest saw it."""
    found = _session_file(manifest)
    if found is None:
        return
    name, recorded = found
    checked = verify_session(outdir / name)
    report.problems += checked.problems
    if not checked.ok:
        return
    if checked.decisions != recorded.get("decisions"):
        report.problems.append(
            f"{name}: {checked.decisions} decisions, the manifest records "
            f"{recorded.get('decisions')}"
        )
    elif checked.last_hash != recorded.get("last_hash"):
        report.problems.append(
            f"{name}: its last decision is not the one the run applied (hash "
            f"{checked.last_hash[:12]}, manifest {str(recorded.get('last_hash'))[:12]})"
        )
    else:
        report.checked.append(
            f"{name}: hash chain of {checked.decisions} session decisions intact, "
            "ending where the run applied it"
        )


# recommendations.json field -> how to read the same thing from a trace line (read as
# typed records: a line from elsewhere that lacks a key, or holds a wrong type, is named
# as not a trace line, never a traceback)
def _from_trace(line: TraceLine) -> dict[str, Any]:
    recommendation = line.recommendation
    return {
        "outcomes": {name: list(values) for name, values in recommendation.outcomes.items()},
        **{key: ", ".join(recommendation.fields.get(key, ())) for key, _ in ROLE_FIELDS},
        "investments": [a.code for a in recommendation.allocation],
        "allocation": {a.code: a.status for a in recommendation.allocation},
        "fired": list(line.fired),
        "override": [
            (o.field, o.target, list(o.decision), o.decided_by) for o in recommendation.overrides
        ],
        "plan": [list(entry) for entry in recommendation.plan],
    }


def _from_json(person: Mapping[str, Any]) -> dict[str, Any]:
    allocation = as_object(person.get("allocation"))

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
            for o in map(as_object, as_list(person.get("override")))
        ],
        "plan": [
            [e.get("code"), e.get("status"), e.get("by")]
            for e in person.get("plan", [])
            if isinstance(e, dict)
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
    except Unreadable as error:
        report.problems.append(f"{RECOMMENDATIONS}: {error}")
        return
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        report.problems.append(f"{RECOMMENDATIONS}: cannot read: {reason_of(error)}")
        return
    traced = {
        r["employee_id"]: r["view"] for r in records if r is not None and r["view"] is not None
    }
    before = len(report.problems)
    listed = set()
    for person in map(as_object, people):
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
    text = json.dumps(value, ensure_ascii=False, default=plain_json)
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
    recorded_input = as_object(manifest.get("input"))
    try:
        # A CSV folder's fingerprint, or the workbook's bytes (a FIFO would block,
        # /dev/zero never end: only a regular file is read).
        panel_sha = folder_sha256(workbook) if workbook.is_dir() else hash_regular(workbook)
    except (Unreadable, OSError) as error:
        raise AuditError(f"{workbook}: {error}") from error
    if panel_sha != recorded_input.get("sha256"):
        report.problems.append(
            f"{workbook.name}: not the workbook of this run (sha256 {panel_sha}, manifest "
            f"{recorded_input.get('sha256')}); replaying it to show what differs"
        )
    book = as_object(manifest.get("rulebook"))
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
    options = as_object(manifest.get("options"))
    result = evaluate_workbook(
        workbook, rules_dir, allow_rejects=bool(options.get("allow_rejects", False))
    )
    session = _session_file(manifest)
    if session is not None:  # the run applied a session: so does the replay (its copy)
        try:
            result = apply_session(result, report.outdir / session[0], True, session[0])
        except SessionError as error:
            report.problems.append(f"replay: {error}")
            return
    if result.rulebook.sha256 != book.get("sha256"):
        report.problems.append(
            f"{rules_dir}: not the rulebook of this run (sha256 {result.rulebook.sha256}, "
            f"manifest {book.get('sha256')})"
        )
        now, then = rule_hashes(result.rulebook), as_object(book.get("rules"))
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
    _check_derivable(result, recorded, raw, report)
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


def _check_derivable(
    result: RunResult,
    recorded: Mapping[str, dict[str, Any]],
    raw: Sequence[str],
    report: VerifyReport,
) -> None:
    """Each recorded line alone, without the workbook: its facts, under the rulebook,
    give its decisions, and the full trace (why-not, counterfactuals) is worked out
    from them (``reference.replay``), as ``explain --trace`` shows it."""
    before = len(report.problems)
    for eid, entry in recorded.items():
        line = json.loads(raw[entry["index"]])
        try:
            evaluation, _ = replay(result.rulebook, line)
        except (KeyError, TypeError, ValueError, RulebookError, RuleConflictError) as error:
            report.problems.append(
                f"replay: employee {eid}: the line's facts cannot be evaluated: {reason_of(error)}"
            )
            continue
        outcomes = {name: d.get("outcomes") for name, d in as_object(line["decisions"]).items()}
        if list(evaluation.fired) != line.get("fired") or outcomes != {
            name: list(values) for name, values in evaluation.outcomes.items()
        }:
            report.problems.append(
                f"replay: employee {eid}: the facts {TRACE} records do not give the "
                "decisions it records under this rulebook"
            )
    if len(report.problems) == before:
        report.checked.append(
            f"every line of {TRACE}: its recorded facts give its decisions; why-not and "
            "counterfactuals worked out from them"
        )


def verify(
    outdir: str | Path, workbook: str | Path | None = None, rules_dir: str | Path | None = None
) -> VerifyReport:
    """Check an output folder: the trace's hash chain, the manifest's counts and hashes,
    every file's SHA-256, recommendations.json against the trace; with ``workbook``,
    replay the run and compare every trace line (run id and timestamps aside)."""
    outdir = Path(outdir)
    manifest, manifest_sha256 = read_manifest_with_hash(outdir)
    report = VerifyReport(outdir, manifest_sha256=manifest_sha256)
    raw, shape = _read_trace(outdir / TRACE)
    report.problems += shape
    records, broken = check_chain(raw)
    report.problems += broken
    recorded = as_object(manifest.get("trace"))
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
    people = as_object(manifest.get("counts")).get("people")
    if people != len(raw):
        report.problems.append(f"{MANIFEST}: counts {people} people, {TRACE} has {len(raw)}")
    _check_files(outdir, manifest, report)
    _check_session(outdir, manifest, report)
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
    rules.update(c.rule for c in PersonTrace.read(r.trace).counterfactuals)
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
