"""Checks across rows and sheets, once every sheet is read: the Cycle sheet's single row
and the fallback as-of date, dates after it, duplicate and look-alike keys, and
references to people who are not in Employees."""

from __future__ import annotations

import datetime as dt

from talentrules.contract import EMPLOYEES, EVIDENCE, normalize
from talentrules.ingest.drafts import ProblemLog, SheetRead, a1
from talentrules.ingest.sources import Source
from talentrules.ingest.values import as_text


class AcrossSheets:
    """The checks that need more than one row: the Cycle's single row and as-of date,
    dates after it, duplicate and look-alike keys, references to people not in Employees."""

    def __init__(self, problem: ProblemLog, source: Source) -> None:
        self.problem = problem
        self.source = source

    def as_of(self, reads: dict[str, SheetRead]) -> dt.date | None:
        """The fallback as-of date when the Cycle sheet gives none (else None)."""
        cycle = reads.get("Cycle")
        if cycle is not None and cycle.drafts:
            first = cycle.drafts[0]
            if not first.failed and isinstance(first.row.get("as_of"), dt.date):
                return None
        evidence = reads.get(EVIDENCE.name)
        dates = [
            value
            for _, (value,) in (evidence.values(["observed_on"]) if evidence else [])
            if isinstance(value, dt.date)
        ]
        where = "no Cycle sheet" if cycle is None else "no usable as_of date in the Cycle sheet"
        if not dates:
            self.problem(
                "warning",
                f"{where} and no evidence dates: how long ago evidence was observed "
                "cannot be measured",
            )
            return None
        latest = max(dates)
        self.problem(
            "warning",
            f"{where}: using the latest Evidence observed_on date, {latest.isoformat()}, "
            "as the as-of date",
        )
        return latest

    def check(self, reads: dict[str, SheetRead], check_dates: bool) -> None:
        cycle = reads.get("Cycle")
        if cycle is not None:
            for extra in cycle.drafts[1:]:
                extra.problems.append(
                    self.problem(
                        "error",
                        "the Cycle sheet has one row of settings; this extra row is not used",
                        cycle.tab,
                        f"{self.source.row_word} {extra.row.number}",
                    )
                )
        as_of = None
        if check_dates and cycle is not None and cycle.drafts:
            value = cycle.drafts[0].row.get("as_of")
            as_of = value if isinstance(value, dt.date) else None
        for read in reads.values():
            if as_of is not None:
                self._dates_after(read, as_of)
            if read.sheet.unique:
                self._duplicates(read, read.sheet.unique)
                self._lookalikes(read, read.sheet.unique)
        self._development_dates(reads.get("Development"))
        self._references(reads)

    def _dates_after(self, read: SheetRead, as_of: dt.date) -> None:
        columns = [c.name for c in read.sheet.columns if c.not_after_as_of]
        if not columns:
            return
        for number, values in read.dated_after(columns, as_of):
            for name, value in zip(columns, values, strict=True):
                if isinstance(value, dt.date) and value > as_of:
                    draft = read.draft(number)
                    draft.problems.append(
                        self.problem(
                            "error",
                            f"{name} {value.isoformat()} is after the cycle's as_of date "
                            f"{as_of.isoformat()}",
                            read.tab,
                            a1(draft.row.ref(name)),
                            value=value,
                        )
                    )

    def _development_dates(self, read: SheetRead | None) -> None:
        if read is None:
            return
        for number, (started, ended) in read.values(["started", "ended"]):
            if isinstance(started, dt.date) and isinstance(ended, dt.date) and ended < started:
                draft = read.draft(number)
                draft.problems.append(
                    self.problem(
                        "error",
                        f"ended {ended.isoformat()} is before started {started.isoformat()}",
                        read.tab,
                        a1(draft.row.ref("ended")),
                        value=ended,
                    )
                )

    def _lookalikes(self, read: SheetRead, name: str) -> None:
        """Warn about keys that differ only in Unicode form (NFC/NFD) or letter case.

        They are read as two people (or two observations), as written; a panel typing
        'Café' on one machine and 'Café' (decomposed) on another means one.
        """
        for group in read.lookalikes():
            spellings: dict[str, list[int]] = {}
            for value, number in group:
                spellings.setdefault(value, []).append(number)
            first = {
                value: a1(read.draft(numbers[0]).row.ref(name))
                for value, numbers in spellings.items()
            }
            for value, numbers in spellings.items():
                others = [f"{ascii(v)} in {ref}" for v, ref in first.items() if v != value]
                for number in numbers:
                    self.problem(
                        "warning",
                        f"{name} {ascii(value)} differs from {', '.join(others)} only in "
                        "Unicode form or letter case: they are read as different; make them "
                        "identical if they mean the same",
                        read.tab,
                        a1(read.draft(number).row.ref(name)),
                        value=value,
                    )

    def _duplicates(self, read: SheetRead, name: str) -> None:
        """Every row sharing a unique key is rejected, each naming the others' cells."""
        for numbers in read.duplicates():
            drafts = [read.draft(number) for number in numbers]
            refs = [a1(d.row.ref(name)) for d in drafts]
            value = drafts[0].row.get(name)
            for draft, ref in zip(drafts, refs, strict=True):
                others = ", ".join(self.source.mention(r) for r in refs if r != ref)
                draft.problems.append(
                    self.problem(
                        "error",
                        f"duplicate {name} {as_text(value)!r}: also in {others}",
                        read.tab,
                        ref,
                        value=value,
                    )
                )

    def _references(self, reads: dict[str, SheetRead]) -> None:
        """Rows naming a person who is not in Employees are rejected.

        A person whose Employees row was rejected still counts as known: that row's
        own error says what is wrong, and repeating it on every row about them
        would bury it. nominator_id is not checked: nominations may be collected
        under pseudonyms.
        """
        people = reads.get(EMPLOYEES.name)
        if people is None or "employee_id" not in people.present:
            return  # the missing sheet or column is the error; every reference would fail
        known = {value for _, (value,) in people.values(["employee_id"])} - {None}
        loose = {normalize(str(k)).lstrip("0"): str(k) for k in known}
        for read in reads.values():
            columns = [c.name for c in read.sheet.columns if c.refers_to_employee]
            if not columns:
                continue
            for number, values in read.unknown(columns, people, "employee_id"):
                for name, value in zip(columns, values, strict=True):
                    if value is None or value in known:
                        continue
                    draft = read.draft(number)
                    draft.problems.append(
                        self.problem(
                            "error",
                            f"{name} {as_text(value)!r} is not an employee_id in the "
                            f"{EMPLOYEES.name} sheet",
                            read.tab,
                            a1(draft.row.ref(name)),
                            value=value,
                            suggestion=loose.get(normalize(str(value)).lstrip("0")),
                        )
                    )
        nominations = reads.get("Nominations")
        if nominations is None:
            return
        for number, (who, nominee) in nominations.values(["nominator_id", "nominee_id"]):
            if who is not None and who == nominee:
                draft = nominations.draft(number)
                draft.problems.append(
                    self.problem(
                        "warning",
                        "a self-nomination says nothing about inspiring others",
                        nominations.tab,
                        a1(draft.row.ref("nominee_id")),
                        value=who,
                    )
                )
