"""Where a run keeps the person-keyed sheets' rows: an SQLite file, not memory.

At 100,000 people a workbook holds about 1.2 million such rows; as ``Row`` objects,
each cell with its ref, they took about 28 KB a person, most of a run's memory. Here
a row is its values, pickled, keyed by sheet and row number and indexed by the person
it is about; its cells' refs are rebuilt from the sheet's layout (tab, column letter
or CSV header, row number) when the row is read back. The file lives in a temporary
folder of its own and is deleted when the store is closed or dropped, at the latest
when the process that made it ends (also on error); a run killed outright leaves it,
and the next run removes it (its lock is free). Forked workers open their own
connection to read it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import glob
import os
import pickle
import shutil
import sqlite3
import tempfile
import threading
import time
import unicodedata
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

from talentrules.model import PERSON_COLUMN, Cell, PersonRows, Row, Value

_BATCH = 5000  # rows written at once
_PEOPLE_A_QUERY = 500  # people whose rows one query reads (SQLite's bound: 999 values)


@dataclass(frozen=True)
class Place:
    """Where one contract column's cells are: ``prefix + row number + after``, or one
    ref for every row (a column absent from the sheet points at its name)."""

    column: str
    prefix: str
    after: str
    fixed: str | None = None


def fold(value: str) -> str:
    """The key under which spellings differing only in Unicode form or case meet."""
    if value.isascii():  # (ASCII is its own NFC, and stays ASCII casefolded)
        return value.casefold()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).casefold())


class Layout:
    """A sheet's places as a row's values are kept (``model.RowLayout``): the position
    of each column's value, and each cell's ref."""

    def __init__(self, places: tuple[Place, ...]) -> None:
        self.places = places
        self.index = {place.column: at for at, place in enumerate(places)}

    def __reduce__(self) -> tuple[type[Layout], tuple[tuple[Place, ...]]]:
        return (Layout, (self.places,))

    def ref(self, number: int, at: int) -> str:
        place = self.places[at]
        fixed = place.fixed
        return fixed if fixed is not None else place.prefix + str(number) + place.after

    def cells(self, number: int, values: Sequence[Value]) -> dict[str, Cell]:
        return cells_of(number, values, self.places)


def cells_of(number: int, values: Sequence[Value], places: tuple[Place, ...]) -> dict[str, Cell]:
    """The cells of row ``number``'s ``values`` (one a place), by column."""
    text = str(number)
    cells: dict[str, Cell] = {}
    # The cells are made with their slots set directly, a third of the cost of Cell's
    # frozen __init__.
    for place, value in zip(places, values, strict=True):
        cell = _new_cell(Cell)
        _set_value(cell, value)
        fixed = place.fixed
        _set_ref(cell, fixed if fixed is not None else place.prefix + text + place.after)
        cells[place.column] = cell
    return cells


_new_cell = Cell.__new__
_set_value: Callable[[Cell, Value], None] = vars(Cell)["value"].__set__
_set_ref: Callable[[Cell, str], None] = vars(Cell)["ref"].__set__


_SCHEMA = """
    PRAGMA journal_mode = OFF;
    PRAGMA synchronous = OFF;
    CREATE TABLE row (
        sheet TEXT NOT NULL, number INTEGER NOT NULL, person TEXT, key, fold TEXT,
        data BLOB NOT NULL, latest TEXT, PRIMARY KEY (sheet, number)
    ) WITHOUT ROWID;
"""
_PREFIX = "talentrules-rows-"
_LOCK = "lock"  # held (flock) by the process that made the folder while it lives


def _remove(
    folder: str, owner: int, lock: int, connections: list[tuple[int, sqlite3.Connection]]
) -> None:
    # Each process closes the connections it opened (Python 3.13 warns of one left to
    # the collector); one inherited through a fork is its parent's to close.
    pid = os.getpid()
    for opened_by, connection in connections:
        if opened_by == pid:
            connection.close()
    connections.clear()
    if pid == owner:  # never from a forked worker: the file is its parent's
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.close(lock)


def _sweep() -> None:
    """Remove the folders of runs that ended without removing theirs (killed with
    SIGKILL, or a machine's crash): their lock is free. They hold a panel's rows."""
    for folder in glob.glob(os.path.join(tempfile.gettempdir(), _PREFIX + "*")):
        try:
            if time.time() - os.stat(folder).st_mtime < 60:
                continue  # just made: its lock may not be taken yet
            fd = os.open(os.path.join(folder, _LOCK), os.O_RDWR)
        except OSError:
            continue  # being made, or not ours
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live run's
        finally:
            os.close(fd)  # (closing releases a lock just taken)
        shutil.rmtree(folder, ignore_errors=True)


class RowStore:
    """The rows of one reading of one workbook, on disk for the run."""

    def __init__(self) -> None:
        _sweep()
        self.folder = tempfile.mkdtemp(prefix=_PREFIX)
        self.path = os.path.join(self.folder, "rows.sqlite")
        lock = os.open(os.path.join(self.folder, _LOCK), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._connections: list[tuple[int, sqlite3.Connection]] = []
        self._finalizer = weakref.finalize(
            self, _remove, self.folder, os.getpid(), lock, self._connections
        )
        self._local = threading.local()
        self.places: dict[str, tuple[Place, ...]] = {}  # sheet -> its columns, in cell order
        self.layouts: dict[str, Layout] = {}  # sheet -> its places as rows are read back
        self._index: dict[str, dict[str, int]] = {}  # sheet -> column -> place
        self._person: dict[str, int] = {}  # sheet -> the place of its person column
        self._dated: dict[str, list[int]] = {}  # sheet -> the places of its dated columns
        self._pending: list[tuple[str, int, str | None, Value, str | None, bytes, str | None]] = []
        self._repeats: dict[str, tuple[bool, bool]] = {}  # sheet -> ``_repeated``'s answer
        self.db.executescript(_SCHEMA)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (a forked worker's threads open their own). One
        connection shared by threads is not safe: the meeting's server answers
        requests in a pool of threads, and one's query could come back empty while
        another's ran on the same connection."""
        local = self._local
        pid = os.getpid()
        if getattr(local, "pid", None) != pid or local.path != self.path:
            # check_same_thread off: the finalizer closes it, from whichever thread
            local.db = sqlite3.connect(self.path, check_same_thread=False)
            local.pid, local.path = pid, self.path
            self._connections.append((pid, local.db))
        db: sqlite3.Connection = local.db
        return db

    def __getstate__(self) -> dict[str, object]:
        # To a spawned worker: the file's name and layout; it opens its own connection
        # and never deletes the file (the finalizer stays with the process that made it).
        return {"folder": self.folder, "path": self.path, "places": self.places}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._index, self._person, self._dated, self.layouts = {}, {}, {}, {}
        for sheet, places in self.places.items():
            self.begin(sheet, places)
        self._connections = []
        # Closes this worker's connection, never removes the file.
        self._finalizer = weakref.finalize(self, _remove, self.folder, -1, -1, self._connections)
        self._local, self._pending, self._repeats = threading.local(), [], {}

    def close(self) -> None:
        """Close this process's connections and delete the file (the store is unusable
        after)."""
        self._local = threading.local()
        self._finalizer()

    # -- writing, while a sheet is read -----------------------------------------------

    def begin(self, sheet: str, places: tuple[Place, ...], dated: Sequence[str] = ()) -> None:
        """The sheet's rows come next, their values one a place; ``dated``: the columns
        whose latest date each row keeps beside its values (``values``'s ``after``)."""
        self.places[sheet] = places
        self.layouts[sheet] = Layout(places)
        self._index[sheet] = self.layouts[sheet].index
        self._person[sheet] = self._index[sheet][PERSON_COLUMN[sheet]]
        self._dated[sheet] = [self._index[sheet][column] for column in dated]

    def add(self, sheet: str, number: int, values: list[Value], unique: str | None) -> None:
        """Keep row ``number``'s ``values`` (in the order of the sheet's places);
        ``unique`` is the sheet's unique column, kept beside it for the checks of
        duplicates."""
        person = values[self._person[sheet]]
        key = values[self._index[sheet][unique]] if unique is not None else None
        latest = None
        for at in self._dated[sheet]:
            value = values[at]
            if isinstance(value, dt.date):  # (ISO dates sort as the dates do)
                text = value.isoformat()
                if latest is None or text > latest:
                    latest = text
        self._pending.append(
            (
                sheet,
                number,
                person if isinstance(person, str) else None,
                key if isinstance(key, (str, int, float)) else None,  # (a tuple: faster)
                fold(key) if isinstance(key, str) else None,
                pickle.dumps(tuple(values), protocol=5),
                latest,
            )
        )
        if len(self._pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.db.executemany("INSERT INTO row VALUES (?, ?, ?, ?, ?, ?, ?)", self._pending)
            self._pending.clear()
            self._repeats.clear()

    def divert(self, path: str) -> None:
        """In a helper process reading one sheet (``ingest.helper``): this process's rows
        go to a file of their own at ``path``, which ``merge`` brings into the store."""
        self.path, self._pending = path, []  # (``db`` opens a connection to it)
        self.db.executescript(_SCHEMA)

    def merge(self, path: str, sheet: str, places: tuple[Place, ...], dated: Sequence[str]) -> None:
        """The rows of ``sheet`` a helper wrote at ``path`` (``divert``) join the store,
        the sheet's places and dated columns as ``begin`` was given them."""
        self.flush()
        self.db.commit()  # SQLite attaches a file outside a transaction only
        self.db.execute("ATTACH DATABASE ? AS helper", (path,))
        self.db.execute("INSERT INTO row SELECT * FROM helper.row")
        self.db.commit()
        self.db.execute("DETACH DATABASE helper")
        self._repeats.clear()
        os.remove(path)
        self.begin(sheet, places, dated)

    def drop(self, sheet: str, numbers: list[int]) -> None:
        """Rejected rows leave the store."""
        self.flush()
        self.db.executemany(
            "DELETE FROM row WHERE sheet = ? AND number = ?", [(sheet, n) for n in numbers]
        )
        self._repeats.clear()

    def done(self) -> None:
        """Every sheet written: index the rows by person and commit (workers read it)."""
        self.flush()
        self.db.execute("CREATE INDEX row_person ON row (sheet, person, number)")
        self.db.commit()

    # -- reading --------------------------------------------------------------------

    def row(self, sheet: str, number: int, data: bytes) -> Row:
        """Row ``number`` of its stored ``data``, its cells made when asked for."""
        return Row.stored(sheet, number, pickle.loads(data), self.layouts[sheet])

    def rows(self, sheet: str, where: str = "", *args: object) -> Iterator[Row]:
        """The sheet's rows in sheet order (``where``: an extra SQL condition)."""
        self.flush()
        cursor = self.db.execute(
            f"SELECT number, data FROM row WHERE sheet = ? {where} ORDER BY number", (sheet, *args)
        )
        while batch := cursor.fetchmany(1000):
            for number, data in batch:
                yield self.row(sheet, number, data)

    def values(
        self, sheet: str, columns: list[str], after: dt.date | None = None
    ) -> Iterator[tuple[int, tuple[Value, ...]]]:
        """(row number, the values of ``columns``) of the sheet's rows in sheet order:
        what the checks across rows read, without building the rows. With ``after``,
        only the rows holding a date after it in a dated column (``begin``)."""
        self.flush()
        at = [self._index[sheet][column] for column in columns]
        later = "" if after is None else "AND latest > ?"
        cursor = self.db.execute(
            f"SELECT number, data FROM row WHERE sheet = ? {later} ORDER BY number",
            (sheet,) if after is None else (sheet, after.isoformat()),
        )
        loads = pickle.loads
        while batch := cursor.fetchmany(1000):
            for number, data in batch:
                values = loads(data)
                yield number, tuple([values[i] for i in at])

    def people_of(self, sheet: str) -> Iterator[tuple[int, tuple[str | None]]]:
        """(row number, (the person it is about,)) of the sheet's rows in sheet order:
        the person column's value when it is text, else None."""
        self.flush()
        cursor = self.db.execute(
            "SELECT number, person FROM row WHERE sheet = ? ORDER BY number", (sheet,)
        )
        while batch := cursor.fetchmany(1000):
            for number, person in batch:
                yield number, (person,)

    def strangers(self, sheet: str, known: str) -> Iterator[tuple[int, tuple[str]]]:
        """(row number, (the person it is about,)) of the sheet's rows about a person
        (text) whom no row of sheet ``known`` is about, in sheet order: ``people_of``
        less those rows, the comparison left to SQLite instead of a row at a time."""
        self.flush()
        cursor = self.db.execute(
            "SELECT number, person FROM row WHERE sheet = ?1 AND person IS NOT NULL"
            " AND person NOT IN (SELECT person FROM row WHERE sheet = ?2 AND person IS NOT NULL)"
            " ORDER BY number",
            (sheet, known),
        )
        while batch := cursor.fetchmany(1000):
            for number, person in batch:
                yield number, (person,)

    def about(self, sheet: str, person: str) -> list[Row]:
        """The sheet's rows about ``person``, in sheet order."""
        # Named: without statistics SQLite would walk the sheet by its primary key.
        found = self.db.execute(
            "SELECT number, data FROM row INDEXED BY row_person"
            " WHERE sheet = ? AND person = ? ORDER BY number",
            (sheet, person),
        )
        return [self.row(sheet, number, data) for number, data in found]

    def about_each(self, sheet: str, people: Collection[str]) -> dict[str, list[Row]]:
        """The sheet's rows about each of ``people`` who has any, each's in sheet order:
        one query for a span of people instead of one a person."""
        found: dict[str, list[Row]] = {}
        wanted = list(people)
        for start in range(0, len(wanted), _PEOPLE_A_QUERY):
            some = wanted[start : start + _PEOPLE_A_QUERY]
            for person, number, data in self.db.execute(
                "SELECT person, number, data FROM row INDEXED BY row_person"
                f" WHERE sheet = ? AND person IN ({','.join('?' * len(some))})"
                " ORDER BY person, number",
                (sheet, *some),
            ):
                found.setdefault(person, []).append(self.row(sheet, number, data))
        return found

    def get(self, sheet: str, number: int) -> Row:
        self.flush()
        (data,) = self.db.execute(
            "SELECT data FROM row WHERE sheet = ? AND number = ?", (sheet, number)
        ).fetchone()
        return self.row(sheet, number, data)

    def count(self, sheet: str) -> int:
        self.flush()
        (count,) = self.db.execute("SELECT COUNT(*) FROM row WHERE sheet = ?", (sheet,)).fetchone()
        return int(count)

    def _repeated(self, sheet: str) -> tuple[bool, bool]:
        """Whether a key of the sheet's rows repeats, and whether a fold has keys spelled
        more than one way (a fold follows from its key, so there are as many folds as
        keys unless one has two spellings): counted in one pass, where ``duplicates``
        and ``lookalikes`` each group the rows twice. Most sheets have neither, and then
        their queries need not run."""
        self.flush()
        known = self._repeats.get(sheet)
        if known is None:
            repeated, spelled = self.db.execute(
                "SELECT COUNT(key) > COUNT(DISTINCT key),"
                " COUNT(DISTINCT CASE WHEN fold IS NOT NULL THEN key END) > COUNT(DISTINCT fold)"
                " FROM row WHERE sheet = ? AND key IS NOT NULL",
                (sheet,),
            ).fetchone()
            known = self._repeats[sheet] = (bool(repeated), bool(spelled))
        return known

    def duplicates(self, sheet: str) -> list[list[int]]:
        """Rows sharing a unique key: each group's row numbers, groups in the order their
        first row comes."""
        if not self._repeated(sheet)[0]:
            return []
        self.flush()
        found: dict[object, list[int]] = {}
        for key, number in self.db.execute(
            """
            SELECT key, number FROM row WHERE sheet = ?1 AND key IN (
                SELECT key FROM row WHERE sheet = ?1 AND key IS NOT NULL
                GROUP BY key HAVING COUNT(*) > 1
            ) ORDER BY number
            """,
            (sheet,),
        ):
            found.setdefault(key, []).append(number)
        return list(found.values())

    def lookalikes(self, sheet: str) -> list[list[tuple[str, int]]]:
        """Keys spelled more than one way (``fold``): each group's (key, row number) in
        sheet order, groups in the order their first row comes."""
        if not self._repeated(sheet)[1]:
            return []
        self.flush()
        found: dict[str, list[tuple[str, int]]] = {}
        for folded, key, number in self.db.execute(
            """
            SELECT fold, key, number FROM row WHERE sheet = ?1 AND fold IN (
                SELECT fold FROM row WHERE sheet = ?1 AND fold IS NOT NULL
                GROUP BY fold HAVING COUNT(DISTINCT key) > 1
            ) ORDER BY number
            """,
            (sheet,),
        ):
            found.setdefault(folded, []).append((key, number))
        return list(found.values())


class StoredRows(PersonRows):
    """One sheet's loaded rows in a ``RowStore``."""

    def __init__(self, store: RowStore, sheet: str) -> None:
        self.store = store
        self.sheet = sheet
        self._count = store.count(sheet)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Row]:
        return self.store.rows(self.sheet)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        number, data = self.store.db.execute(
            "SELECT number, data FROM row WHERE sheet = ? ORDER BY number LIMIT 1 OFFSET ?",
            (self.sheet, index),
        ).fetchone()
        return self.store.row(self.sheet, number, data)

    def about(self, person: str) -> list[Row]:
        return self.store.about(self.sheet, person)

    def about_each(self, people: Collection[str]) -> dict[str, list[Row]]:
        return self.store.about_each(self.sheet, people)

    def people(self) -> list[str]:
        return [
            person
            for (person,) in self.store.db.execute(
                "SELECT person FROM row WHERE sheet = ? AND person IS NOT NULL ORDER BY number",
                (self.sheet,),
            )
        ]


class RowTable(Mapping[str, Row]):
    """A sheet of one row a person (Employees) by the person, as ``model.RowAbout`` gives
    it (the person's last row in sheet order), read in one query and kept as stored: the
    pickled values, about 0.4 KB a person, each Row made when asked. The results files
    and the summary read everyone's Employees row some seven times over: one query a
    read cost about twice the Row it returned."""

    def __init__(self, rows: StoredRows) -> None:
        self.sheet = rows.sheet
        self.layout = rows.store.layouts[rows.sheet]
        # Later rows replace earlier ones; a person keeps the place of their first row.
        self.stored: dict[str, tuple[int, bytes]] = {
            person: (number, data)
            for person, number, data in rows.store.db.execute(
                "SELECT person, number, data FROM row WHERE sheet = ? AND person IS NOT NULL"
                " ORDER BY number",
                (rows.sheet,),
            )
        }
        self.last: tuple[str, Row] | None = None  # a person's row is often read twice running

    def __getitem__(self, person: str) -> Row:
        last = self.last
        if last is not None and last[0] == person:
            return last[1]
        number, data = self.stored[person]  # KeyError for whom the sheet does not hold
        row = Row.stored(self.sheet, number, pickle.loads(data), self.layout)
        self.last = (person, row)
        return row

    def __iter__(self) -> Iterator[str]:
        return iter(self.stored)

    def __len__(self) -> int:
        return len(self.stored)
