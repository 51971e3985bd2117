"""The panel's session: every decision taken in ``talentrules serve``, in a SQLite file
that is append-only and hash-chained like ``trace.jsonl`` (docs/serve.md).

- One ``meta`` row binds the file to the workbook and the rulebook it was recorded
  on (their SHA-256); ``open_session`` refuses another workbook or rulebook unless
  asked to reuse the session (the decisions are then validated again when applied).
- One ``decisions`` row per decision, numbered from 1 (``seq``), with the seq of the
  person's latest decision its decider had seen (``against_seq``, for the concurrent
  edit check), and the chain: ``prev`` is the SHA-256 of the row before (the meta
  row's for decision 1), ``hash`` the SHA-256 of the row's canonical JSON with its
  ``prev`` (``record.canonical``, the trace's convention). Editing, removing or
  inserting a row breaks the chain where it happened; ``verify_session`` names it.
- Triggers refuse UPDATE and DELETE: an undo is a new decision. Each decision is
  committed (WAL, synchronous FULL) before ``record`` returns, so a server killed
  with ``kill -9`` after answering has lost nothing.

A session's decisions reach every output as the Overrides sheet's rows do
(``as_row``, ``decide.apply_overrides(session=...)``): validated by the same code,
each naming its origin, e.g. ``session decision 7 by A. Chair``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from talentrules.contract import OVERRIDES
from talentrules.errors import SessionError
from talentrules.ingest.values import typed_row
from talentrules.model import Row
from talentrules.record import GENESIS, canonical, sha256_text

FORMAT = "talentrules-session 1"
SUFFIX = ".session.sqlite"
SESSION_FILE = "session.sqlite"  # the session's copy in an output folder (evaluate --session)
_SCHEMA = """
CREATE TABLE meta (
    format TEXT NOT NULL,
    workbook TEXT NOT NULL,
    workbook_sha256 TEXT NOT NULL,
    rulebook_sha256 TEXT NOT NULL,
    created TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE decisions (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    reason TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    against_seq INTEGER,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX decisions_by_person ON decisions (employee_id, seq);
"""
_APPEND_ONLY = "the session is append-only: a decision is never changed; record a new one"
TRIGGERS = {
    f"{table}_no_{verb.lower()}": (
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END;"
    )
    for table in ("meta", "decisions")
    for verb in ("UPDATE", "DELETE")
}
_DECISION_COLUMNS = (
    "seq",
    "time",
    "employee_id",
    "field",
    "value",
    "reason",
    "decided_by",
    "against_seq",
)
_META_COLUMNS = ("format", "workbook", "workbook_sha256", "rulebook_sha256", "created")


def default_session_path(workbook: str | Path) -> Path:
    """Where a workbook's session lives unless --session says: beside it, named after it
    (``panel_review.xlsx`` -> ``panel_review.session.sqlite``; a CSV folder likewise)."""
    path = Path(workbook)
    stem = path.name if path.is_dir() else path.stem
    return path.with_name(stem + SUFFIX)


@dataclass(frozen=True)
class Meta:
    """What a session was recorded on."""

    format: str
    workbook: str  # the workbook's file name when the session began
    workbook_sha256: str
    rulebook_sha256: str
    created: str  # UTC, ISO

    def content(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in _META_COLUMNS}

    @property
    def hash(self) -> str:
        return sha256_text(canonical({**self.content(), "prev": GENESIS}))


@dataclass(frozen=True)
class SessionDecision:
    """One decision as recorded: who decided what about whom, why, and when."""

    seq: int
    time: str  # UTC, ISO, to the millisecond
    employee_id: str
    field: str  # an Overrides field: heart, track, investment, ...
    value: str  # the decision as the Overrides sheet's ``decision`` cell would hold it
    reason: str
    decided_by: str
    against_seq: int | None  # the person's latest decision the decider saw (0: none)
    prev: str = ""
    hash: str = ""

    def content(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in _DECISION_COLUMNS}

    def digest(self, prev: str) -> str:
        return sha256_text(canonical({**self.content(), "prev": prev}))

    @property
    def origin(self) -> str:
        """How outputs name it, where a sheet's override names its cell."""
        return f"session decision {self.seq} by {self.decided_by}"

    @property
    def decided_on(self) -> dt.date:
        return dt.datetime.fromisoformat(self.time).date()

    def as_row(self) -> Row:
        """The decision as a row of the Overrides sheet (``decide.apply_overrides``)."""
        row, _ = overrides_row(self.raw(), self.seq, self.origin)
        return row

    def raw(self) -> dict[str, object]:
        return {
            "employee_id": self.employee_id,
            "field": self.field,
            "decision": self.value,
            "reason": self.reason,
            "decided_by": self.decided_by,
            "decided_on": self.decided_on,
        }

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "origin": self.origin}


def overrides_row(
    raw: Mapping[str, object], number: int, ref: str
) -> tuple[Row, list[tuple[str, str]]]:
    """Values read as a row of the Overrides sheet, by ingest's own parsers."""
    return typed_row(OVERRIDES, number, raw, ref)


class StaleDecision(SessionError):
    """A newer decision for the person exists than the one the decider saw."""

    def __init__(self, latest: SessionDecision) -> None:
        super().__init__(
            f"decision {latest.seq} on {latest.employee_id} by {latest.decided_by} was "
            "recorded after the page you decided on was shown: read it and confirm yours"
        )
        self.latest = latest


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        uri = f"{path.absolute().as_uri()}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    else:
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.row_factory = sqlite3.Row
    return connection


def _unreadable(path: Path, error: sqlite3.Error) -> SessionError:
    return SessionError(f"{path}: not a talentrules session file ({error})")


def _read_meta(connection: sqlite3.Connection, path: Path) -> tuple[Meta, str]:
    try:
        rows = connection.execute(f"SELECT {', '.join(_META_COLUMNS)}, hash FROM meta").fetchall()
    except sqlite3.Error as error:
        raise _unreadable(path, error) from error
    if len(rows) != 1:
        raise SessionError(f"{path}: not a talentrules session file ({len(rows)} meta rows)")
    row = rows[0]
    meta = Meta(*(str(row[name]) for name in _META_COLUMNS))
    if meta.format != FORMAT:
        raise SessionError(f"{path}: a session of format {meta.format!r}, not {FORMAT!r}")
    return meta, str(row["hash"])


def _read_decisions(connection: sqlite3.Connection) -> Iterator[SessionDecision]:
    columns = ", ".join((*_DECISION_COLUMNS, "prev", "hash"))
    for row in connection.execute(f"SELECT {columns} FROM decisions ORDER BY seq"):
        yield SessionDecision(**{key: row[key] for key in row.keys()})


@dataclass
class Session:
    """An open session file: its meta, its decisions in order, and the writer."""

    path: Path
    meta: Meta
    decisions: list[SessionDecision]
    _connection: sqlite3.Connection
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def last_seq(self) -> int:
        return self.decisions[-1].seq if self.decisions else 0

    def latest_for(self, employee_id: str) -> SessionDecision | None:
        """The person's latest decision, if any."""
        return next((d for d in reversed(self.decisions) if d.employee_id == employee_id), None)

    def of(self, employee_id: str) -> list[SessionDecision]:
        """The person's decisions, oldest first."""
        return [d for d in self.decisions if d.employee_id == employee_id]

    def record(
        self,
        employee_id: str,
        field: str,
        value: str,
        reason: str,
        decided_by: str,
        against_seq: int | None = None,
    ) -> SessionDecision:
        """Append one decision (already validated) and commit it before returning.

        With ``against_seq`` (the person's latest decision the decider saw, 0 for
        none), a later decision for the person refuses it: StaleDecision carries that
        decision, to be shown and confirmed."""
        with self._lock:
            with self._transaction():
                row = self._connection.execute(
                    "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (int(row["seq"]) + 1, str(row["hash"])) if row else (1, self.meta.hash)
                if seq != self.last_seq + 1:
                    raise SessionError(
                        f"{self.path}: another program wrote to this session (decision {seq - 1} "
                        f"is not the last one read, {self.last_seq}): restart to read it"
                    )
                latest = self.latest_for(employee_id)
                if against_seq is not None and latest is not None and latest.seq > against_seq:
                    raise StaleDecision(latest)
                draft = SessionDecision(
                    seq, _now(), employee_id, field, value, reason, decided_by, against_seq
                )
                decision = replace(draft, prev=prev, hash=draft.digest(prev))
                names = (*_DECISION_COLUMNS, "prev", "hash")
                self._connection.execute(
                    f"INSERT INTO decisions ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})",
                    tuple(getattr(decision, name) for name in names),
                )
            # Inside the lock: the next writer must find this decision read, or it would
            # take the file's last seq for another program's.
            self.decisions.append(decision)
        return decision

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # BEGIN IMMEDIATE: the write lock first, so the last seq read is still the last
        # when the row is inserted, even with another process on the file.
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")

    def copy_to(self, target: Path) -> None:
        """A consistent one-file copy (SQLite's backup; no -wal file beside it)."""
        with self._lock:
            copy_session(self._connection, target)

    def close(self) -> None:
        self._connection.close()


def copy_session(source: sqlite3.Connection, target: Path) -> None:
    """``source`` copied to ``target`` as one file in rollback-journal mode."""
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()


def open_session(
    path: str | Path,
    workbook: str,
    workbook_sha256: str,
    rulebook_sha256: str,
    reuse: bool = False,
    create: bool = True,
) -> Session:
    """Open (or create) the session at ``path`` for this workbook and rulebook.

    A session recorded on another workbook or rulebook is refused unless ``reuse``:
    its decisions are then applied to this one, each validated again (one that no
    longer fits is reported, not applied). The file's chain is checked on opening."""
    path = Path(path)
    fresh = not path.exists()
    if fresh and not create:
        raise SessionError(f"{path}: no session file there (talentrules serve makes one)")
    if not fresh and not path.is_file():
        raise SessionError(f"{path}: is not a file: give --session a file name")
    connection: sqlite3.Connection | None = None
    try:
        connection = _connect(path)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        if fresh:
            meta = Meta(FORMAT, Path(workbook).name, workbook_sha256, rulebook_sha256, _now())
            # One transaction: a file with the tables has its meta row too.
            connection.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "\n".join(TRIGGERS.values()))
            connection.execute(
                f"INSERT INTO meta ({', '.join(_META_COLUMNS)}, prev, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*meta.content().values(), GENESIS, meta.hash),
            )
            connection.execute("COMMIT")
    except sqlite3.Error as error:
        if connection is not None:
            connection.close()
        raise SessionError(f"{path}: cannot be used as a session file ({error})") from error
    report = verify_session(path)
    if not report.ok:
        connection.close()
        raise SessionError(f"{path}: " + "; ".join(report.problems))
    try:
        meta, _ = _read_meta(connection, path)
        check_binding(path, meta, workbook_sha256, rulebook_sha256, reuse)
    except SessionError:
        connection.close()
        raise
    return Session(path, meta, list(_read_decisions(connection)), connection)


def check_binding(
    path: Path, meta: Meta, workbook_sha256: str, rulebook_sha256: str, reuse: bool
) -> None:
    """SessionError unless the session was recorded on this workbook and rulebook, or
    the user asked to reuse it."""
    if reuse:
        return
    for what, recorded, given in (
        ("workbook", meta.workbook_sha256, workbook_sha256),
        ("rulebook", meta.rulebook_sha256, rulebook_sha256),
    ):
        if recorded != given:
            raise SessionError(
                f"{path}: this session was recorded on another {what} (sha256 "
                f"{recorded[:12]}, this one {given[:12]}; the session began on "
                f"{meta.workbook}): give another --session file, or --reuse-session "
                "to apply its decisions to this one"
            )


def read_session(
    path: str | Path, workbook_sha256: str, rulebook_sha256: str, reuse: bool = False
) -> tuple[Meta, list[SessionDecision]]:
    """A session's decisions, read without writing to the file (evaluate, replay):
    refused when its chain is broken, or it was recorded on another workbook or
    rulebook unless ``reuse``."""
    path = Path(path)
    report = verify_session(path)
    if not report.ok or report.meta is None:
        raise SessionError(f"{path}: " + "; ".join(report.problems))
    check_binding(path, report.meta, workbook_sha256, rulebook_sha256, reuse)
    connection = _connect(path, readonly=True)
    try:
        return report.meta, list(_read_decisions(connection))
    except sqlite3.Error as error:
        raise _unreadable(path, error) from error
    finally:
        connection.close()


@dataclass
class SessionReport:
    """What ``verify_session`` found: every problem located; empty means intact."""

    path: Path
    decisions: int = 0
    problems: list[str] = field(default_factory=list)
    meta: Meta | None = None
    last_hash: str = ""  # the last decision's hash (the meta row's when none)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_session(path: str | Path) -> SessionReport:
    """Check a session file's chain: the meta row, then each decision's number, its
    link to the row before and its own hash; the first broken link is named first
    (by seq and person). Missing append-only triggers are a problem too."""
    path = Path(path)
    report = SessionReport(path)
    if not path.is_file():
        report.problems.append(f"{path.name}: missing or not a file")
        return report
    try:
        connection = _connect(path, readonly=True)
    except sqlite3.Error as error:
        report.problems.append(f"{path.name}: cannot be opened ({error})")
        return report
    try:
        meta, stored = _read_meta(connection, path)
        report.meta = meta
        if meta.hash != stored:
            report.problems.append(f"{path.name}: the meta row was changed after it was written")
        prev = stored
        for number, decision in enumerate(_read_decisions(connection), 1):
            report.decisions = number
            who = f"decision {decision.seq} (employee {decision.employee_id})"
            if decision.seq != number:
                report.problems.append(
                    f"{path.name}: {who} is in place {number}: decisions were removed or inserted"
                )
            elif decision.prev != prev:
                report.problems.append(
                    f"{path.name}: {who} does not hold the hash of decision {number - 1}: "
                    f"decision {number - 1} was changed, or one was removed or inserted"
                )
            elif decision.digest(decision.prev) != decision.hash:
                report.problems.append(
                    f"{path.name}: {who} was changed after it was recorded (its hash "
                    "does not match its content)"
                )
            prev = decision.hash
        report.last_hash = prev
        names = {
            str(row[0])
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        }
        missing = sorted(set(TRIGGERS) - names)
        if missing:
            report.problems.append(
                f"{path.name}: the append-only triggers {', '.join(missing)} were removed"
            )
    except SessionError as error:
        report.problems.append(str(error))
    except (sqlite3.Error, TypeError, ValueError) as error:
        report.problems.append(f"{path.name}: not a talentrules session file ({error})")
    finally:
        connection.close()
    return report
