"""The reading's helper: a forked process reading the largest person-keyed sheet, or
its rows from a cut on while the run's process reads those before (``load.py``), so
that both cores share the reading (issue 13, eighth and tenth parts).

The helper reads as the run's process would, into a row file of its own, and sends back
what it read, its problems and the repeated text it showed; the run's process joins it
(``load.Reader._join``). Anything unusual and the helper's answer is ``ReadAgain``: the
workbook is read again, sheet after sheet, so what a panel is told never depends on it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from talentrules import processes
from talentrules.contract import Sheet
from talentrules.ingest.drafts import Draft, ProblemLog, SheetRead, SheetReading
from talentrules.ingest.files import RowMark, SheetScan
from talentrules.ingest.sources import WorkbookSource
from talentrules.ingest.xlsx import RawCell
from talentrules.interrupt import quiet_worker
from talentrules.model import PERSON_COLUMN, Problem

if TYPE_CHECKING:
    from talentrules.ingest.load import Reader


class ReadAgain(Exception):
    """The helper's reading was not what reading one sheet after another would give
    (it failed, or the sheets together showed more repeated text than allowed)."""


# A person-keyed sheet of at least this many cells is read by a helper process while
# this one reads the others: the Evidence sheet, about half of the reading, in 2.6 of
# 4.6 CPU s at 10,000 people (the rest is the other sheets, 1 s, the scan and the
# checks across sheets, 1 s, which need every sheet read).
HELPER_CELLS = 200_000
# What reading a sheet costs, counted in cells: a row as much as this many cells more
# (measured at 10,000 people: about 1.6 us a cell and 10 us a row).
ROW_COST = 6
# The helper's part of the reading both processes share; past it, the helper's sheet
# is cut and this process reads its first rows.
HELPER_SHARE = 0.48


def cut_at(scan: SheetScan, total: int) -> RowMark | None:
    """Where in its sheet (``scan``) the helper begins, so that it reads about its share
    of all the sheets' reading (``total``); None: the whole sheet is not more."""
    whole = scan.cells + ROW_COST * scan.rows
    share = total * HELPER_SHARE
    if whole <= share or not scan.marks:
        return None
    return min(scan.marks, key=lambda m: abs(whole - m.cells - ROW_COST * m.rows - share))


@dataclass
class Rest:
    """What the helper read of its sheet from the cut on: as ``SheetReading`` holds it,
    and the problems told there, in order."""

    problems: list[Problem]
    flagged: dict[int, Draft]
    merge_problems: dict[str, Problem]
    pending: list[tuple[int, list[RawCell | None], str] | None]
    unheaded: dict[int, int]
    blank: int
    last: int
    shown: int  # characters its shared strings showed


class Helper:
    """A forked process reading one sheet, or its rows from ``cut`` on, into a row file
    of its own (``RowStore.divert``), sending back what it read, its problems and the
    repeated text it showed. Only where processes fork (they inherit the read shared
    strings and styles); the helper opens the workbook again, since a file offset is
    shared across a fork."""

    def __init__(self, sheet: Sheet, scan: SheetScan, path: str, cut: RowMark | None) -> None:
        self.sheet, self.scan, self.path, self.cut = sheet, scan, path, cut
        context = multiprocessing.get_context("fork")  # only where processes fork
        self.receive, self.send = context.Pipe(duplex=False)
        self.process = context.Process(target=self._main, daemon=True)
        self._reader: Reader | None = None

    @classmethod
    def start(cls, reader: Reader, found: dict[str, SheetScan]) -> Helper | None:
        source = reader.source
        if not isinstance(source, WorkbookSource) or processes.start_method() != "fork":
            return None
        big = [
            (found[s.name].cells, index, s)
            for index, s in enumerate(reader.sheets)
            if s.name in found and s.name in PERSON_COLUMN
        ]
        if not big:
            return None
        cells, _, sheet = max(big)
        if cells < HELPER_CELLS:
            return None
        scan = found[sheet.name]
        total = sum(s.cells + ROW_COST * s.rows for s in found.values())
        path = os.path.join(reader.store.folder, "helper.sqlite")
        cut = cut_at(scan, total)
        try:
            helper = cls(sheet, scan, path, cut)
        except OSError:  # no pipe now (too many open files): this process reads it all
            return None
        helper._reader = reader  # forked as it is now: nothing read yet
        try:
            helper.process.start()
        except OSError:  # no fork now (EAGAIN, ENOMEM): this process reads it all
            helper.receive.close()
            helper.send.close()
            return None
        finally:
            helper._reader = None
        helper.send.close()  # the helper's end: a helper that dies is then an end of file
        return helper

    def _main(self) -> None:
        """In the helper: read the sheet as the run's process would; send what it made."""
        quiet_worker()
        self.receive.close()
        reader = self._reader
        assert reader is not None and isinstance(reader.source, WorkbookSource)
        try:
            source = reader.source
            archive = zipfile.ZipFile(reader.file)
            same = os.fstat(archive.fp.fileno()), os.fstat(source.archive.fp.fileno())  # type: ignore[union-attr]
            if (same[0].st_dev, same[0].st_ino) != (same[1].st_dev, same[1].st_ino):
                raise ReadAgain("the file was replaced")
            reader.source = WorkbookSource(source.given, source.scan, archive, source.book)
            reader.problem = ProblemLog(reader.given)
            reader.problems = reader.problem.problems
            reader.store.divert(self.path)
            if self.cut is None:
                read = reader._read_sheet(self.sheet, self.scan)
                read.store = None  # the run's process's store takes the rows
                budget = reader.source.budget
                answer: object = (read, reader.problems, budget.allowed - budget.left)
            else:
                answer = self._read_rest(reader, self.cut)
            reader.store.flush()
            reader.store.db.commit()
            sent = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # the run's process reads the workbook again, alone
            sent = b""
        with contextlib.suppress(OSError):  # the run's process may have stopped
            self.send.send_bytes(sent)
        self.send.close()

    def _read_rest(self, reader: Reader, cut: RowMark) -> Rest:
        """In the helper: the sheet's header (its problems are the run's process's to
        tell), then its rows from ``cut`` on, read as they would be after the rows
        before it (the run's process checks that they were: ``Reader._read_rows``)."""
        source = reader.source
        assert isinstance(source, WorkbookSource)
        reading = SheetReading.of(self.sheet, self.scan)
        rows = source.rows(self.scan, stop=cut.offset)
        try:
            for row in rows:
                if row[0] == 0:
                    raise ReadAgain("no header before the cut")
                reader._read_rows(reading, [row])
                if reading.header_number:
                    break
        finally:
            rows.close()
        told = len(reader.problems)
        left = source.budget.left
        reading.previous, reading.last = cut.number - 1, 0
        rows = source.rows(self.scan, start=(cut.offset, cut.number))
        try:
            reader._read_rows(reading, rows)
        finally:
            rows.close()
        result = reading.result
        return Rest(
            reader.problems[told:],
            result.flagged,
            result.merge_problems,
            reading.pending,
            dict(reading.unheaded),
            result.account.blank,
            reading.last,
            left - source.budget.left,
        )

    def result(
        self, reader: Reader, before: SheetReading | None
    ) -> tuple[SheetRead, list[Problem]]:
        """The sheet as the helper read it (joined to ``before``, the rows this process
        read before the cut), its rows now in ``reader``'s store, and its problems."""
        try:
            sent = self.receive.recv_bytes()
        except EOFError as error:  # the helper died
            raise ReadAgain("the helper ended without an answer") from error
        if not sent:
            raise ReadAgain("the helper could not read its sheet")
        answer = pickle.loads(sent)
        budget = reader.source.budget  # type: ignore[union-attr]
        if before is None:
            read, problems, shown = answer
            read.sheet = self.sheet
        else:
            rest: Rest = answer
            shown = rest.shown
        if shown > budget.left:
            raise ReadAgain("the sheets show more repeated text than allowed")
        budget.left -= shown
        dated = [c.name for c in self.sheet.columns if c.not_after_as_of]  # as load.py's
        if before is None:
            reader.store.merge(self.path, self.sheet.name, read.places, dated)
            read.store = reader.store
            return read, problems
        reader.store.merge(self.path, self.sheet.name, before.result.places, dated)
        return before.result, reader._join(before, rest)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.receive.close()
