"""Property-based tests (hypothesis) over the workbook reader and the rule language
(issue 12): random workbooks and random rule files never raise anything but the
project's own errors (TalentRulesError), and each example finishes in bounded time.

Sized for CI: each test runs a fixed number of examples with a per-example deadline,
about a minute for the whole file on a busy two-core machine. Failures print the
example and a reproduction blob (``@reproduce_failure``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from talentrules.contract import SHEETS
from talentrules.engine import Engine
from talentrules.errors import TalentRulesError
from talentrules.facts import facts_from_mapping
from talentrules.ingest import load_workbook, validation_report
from talentrules.rulebook import check_rulebook, load_rulebook

FIXTURES = Path(__file__).parent / "rulebooks" / "non-finite-number"

SETTINGS = settings(
    max_examples=60,
    deadline=dt.timedelta(seconds=10),  # per example; typical examples take 20-100 ms
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # nothing written into the checkout; failures print their blob
    print_blob=True,
)


# -- random workbooks ----------------------------------------------------------------------

SHEET_NAMES = [s.name for s in SHEETS] + [a for s in SHEETS for a in s.aliases]
HEADERS = {
    s.name: [c.name for c in s.columns] + [a for c in s.columns for a in c.aliases] for s in SHEETS
}
LABELS = sorted(
    {v for s in SHEETS for c in s.columns for v in c.values}
    | {label for s in SHEETS for c in s.columns for names in c.labels.values() for label in names}
)

text = st.text(max_size=40).map(lambda t: ILLEGAL_CHARACTERS_RE.sub("", t))
tricky = st.sampled_from(
    [
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "1e999",
        "#DIV/0!",
        "#N/A",
        "Total",
        "Sum Wing Lee",
        "NB-7",
        "e.g. example",
        "Café",
        "Cafe\u0301",
        "00042",
        "2026-02-30",
        "31/12/2026",
        "03/04/2026",
        "  ",
        "=SUM(A1:A3)",
        "100%",
        "1,234.5",
        "yes",
        "Exceeds",
        "4 - Exceeds",
    ]
)
cell = st.one_of(
    st.none(),
    text,
    tricky,
    st.sampled_from(LABELS),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.booleans(),
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2200, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)
FORMATS = ["General", "0.00%", "00000", "yyyy-mm-dd", "@", "0", "#,##0.00", "d/m/yyyy"]


@st.composite
def sheets(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Up to five sheets, each with a name, a header and up to eight rows."""
    result = []
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        name = draw(st.one_of(st.sampled_from(SHEET_NAMES), text))
        contract = next((s for s in SHEETS if s.name == name), SHEETS[1])
        width = draw(st.integers(min_value=0, max_value=8))
        header = draw(
            st.lists(
                st.one_of(st.sampled_from(HEADERS[contract.name]), text, st.none()),
                min_size=width,
                max_size=width,
            )
        )
        rows = draw(
            st.lists(st.lists(cell, max_size=width + 2), max_size=8),
        )
        result.append(
            {
                "name": name,
                "blank_rows": draw(st.integers(min_value=0, max_value=2)),
                "header": header,
                "rows": rows,
                "formats": draw(st.lists(st.sampled_from(FORMATS), max_size=width + 2)),
                "hidden": draw(st.booleans()),
                "merge": draw(st.booleans()),
            }
        )
    return result


def _excel_title(name: str, used: set[str]) -> str:
    title = "".join(c for c in name if c not in "[]:*?/\\'")[:31] or "Sheet"
    while title.casefold() in used:
        title = (title[:28] + str(len(used)))[:31]
    used.add(title.casefold())
    return title


def write_workbook(path: Path, spec: list[dict[str, Any]]) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    used: set[str] = set()
    for number, sheet in enumerate(spec):
        ws = first if number == 0 else wb.create_sheet()
        ws.title = _excel_title(sheet["name"], used)
        for _ in range(sheet["blank_rows"]):
            ws.append([])
        ws.append(sheet["header"])
        for row in sheet["rows"]:
            ws.append(row)
        for column, fmt in enumerate(sheet["formats"], start=1):
            for row_number in range(1, ws.max_row + 1):
                ws.cell(row=row_number, column=column).number_format = fmt
        if sheet["merge"] and ws.max_row >= 3:
            ws.merge_cells(
                start_row=ws.max_row - 1, start_column=1, end_row=ws.max_row, end_column=2
            )
        if sheet["hidden"] and number > 0:
            ws.sheet_state = "hidden"
    wb.save(path)


def check_panel_or_error(path: Path) -> None:
    try:
        panel = load_workbook(path)
    except TalentRulesError:
        return
    for account in panel.accounts:
        assert account.balanced, account
    json.dumps(validation_report(panel), allow_nan=False)  # strict JSON, always
    for rows in panel.rows.values():
        for row in rows:
            for value in (c.value for c in row.cells.values()):
                assert not (isinstance(value, float) and not math.isfinite(value)), row


@SETTINGS
@given(spec=sheets())
def test_random_workbooks_give_a_panel_or_a_workbook_error(spec: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.xlsx"
        write_workbook(path, spec)
        check_panel_or_error(path)


def _base_workbook() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.title = "Employees"
    wb.active.append(["employee_id", "full_name", "performance", "hire_date"])
    for n in range(4):
        wb.active.append([f"E{n}", f"Person {n}", n + 1, dt.date(2020, 1, n + 1)])
    data = io.BytesIO()
    wb.save(data)
    # The same bytes on every run (no save times), so that hypothesis replays a failing
    # example from its database: zip entries' times and docProps/core.xml's fixed.
    fixed = io.BytesIO()
    with zipfile.ZipFile(data) as saved, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as out:
        for info in saved.infolist():
            body = saved.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2020-01-01T00:00:00Z", body)
            out.writestr(zipfile.ZipInfo(info.filename, (2020, 1, 1, 0, 0, 0)), body)
    return fixed.getvalue()


BASE = _base_workbook()


@SETTINGS
@given(
    member=st.sampled_from(["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/styles.xml"]),
    at=st.integers(min_value=0, max_value=4000),
    cut=st.integers(min_value=0, max_value=40),
    insert=st.binary(max_size=40) | st.sampled_from([b"<", b"&", b'"', b"<v>NaN</v>", b't="s"']),
)
def test_damaged_xml_gives_a_panel_or_a_workbook_error(
    member: str, at: int, cut: int, insert: bytes
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(BASE)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == member:
                spot = at % (len(body) + 1)
                body = body[:spot] + insert + body[spot + cut :]
            dst.writestr(info.filename, body)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.xlsx"
        path.write_bytes(out.getvalue())
        check_panel_or_error(path)


@SETTINGS
@given(at=st.integers(min_value=0, max_value=len(BASE)), junk=st.binary(min_size=1, max_size=64))
def test_damaged_bytes_give_a_panel_or_a_workbook_error(at: int, junk: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bytes.xlsx"
        path.write_bytes(BASE[:at] + junk + BASE[at + len(junk) :])
        check_panel_or_error(path)


# -- random rule files ---------------------------------------------------------------------

FACTS = ["performance", "score", "readiness", "is_people_manager", "note", "hired_on", "heart"]
LITERALS = st.one_of(
    st.sampled_from(
        [
            "1",
            "4",
            "-3",
            "2.5",
            "1e-05",
            "1e20",
            "nan",
            "inf",
            "Ready now",
            "Not ready",
            "true",
            "false",
            "2026-01-31",
            "2026-02-30",
            "Strong",
            "Weak",
            "'quoted'",
            '"x, y"',
            "unknown",
            "",
        ]
    ),
    st.integers(min_value=-(10**16), max_value=10**16).map(str),
    text,
)
OPS = ["==", "!=", "<", "<=", ">", ">=", "=", "=>", "~"]


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    fact = draw(st.one_of(st.sampled_from(FACTS), text))
    form = draw(st.integers(min_value=0, max_value=3))
    if form == 0:
        return f"{fact} {draw(st.sampled_from(OPS))} {draw(LITERALS)}"
    if form == 1:
        items = draw(st.lists(LITERALS, max_size=6))
        word = draw(st.sampled_from(["in", "not in"]))
        return f"{fact} {word} ({', '.join(items)})"
    if form == 2:
        return f"{fact} is {draw(st.sampled_from(['known', 'unknown', 'blank']))}"
    return draw(text)


conditions = st.recursive(
    st.one_of(comparisons(), st.none(), st.integers()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["all", "any", "not", "either"]),
            st.one_of(inner, st.lists(inner, max_size=4)),
            max_size=2,
        ),
    ),
    max_leaves=12,
)


@st.composite
def rule_files(draw: st.DrawFn) -> str:
    """A rule file: mostly well-formed rules with random conditions, sometimes wrong keys
    or types, sometimes raw random text."""
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(st.text(max_size=200))
    rules = []
    for n in range(draw(st.integers(min_value=0, max_value=4))):
        rule: dict[str, Any] = {
            "id": draw(st.one_of(st.just(f"r{n}"), text)),
            "decision": draw(st.sampled_from(["heart", "heart", "nope"])),
            "title": "A rule",
            "rationale": "Made up.",
            "when": draw(conditions),
            "then": draw(st.sampled_from(["Strong", "Weak", "Maybe"])),
        }
        if draw(st.booleans()):
            rule["priority"] = draw(st.one_of(st.integers(-5, 70000), text))
        if draw(st.integers(min_value=0, max_value=5)) == 0:
            rule[draw(text)] = draw(text)
        rules.append(rule)
    body: Any = {"rules": rules} if draw(st.integers(0, 9)) else rules
    return yaml.safe_dump(body, allow_unicode=True, sort_keys=False)


@SETTINGS
@given(
    files=st.lists(rule_files(), min_size=1, max_size=3),
    policy=st.sampled_from(["unique", "collect", "priority"]),
)
def test_random_rule_files_give_diagnostics_or_a_rulebook_that_runs(
    files: list[str], policy: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "rules"
        folder.mkdir()
        shutil.copy(FIXTURES / "vocabulary.yaml", folder)
        (folder / "decisions.yaml").write_text(
            "decisions:\n  heart:\n    outcomes: [Strong, Weak]\n    default: Weak\n"
            f"    policy: {policy}\n    meaning: A decision.\n",
            encoding="utf-8",
        )
        for n, body in enumerate(files):
            (folder / f"{n}0-random.yaml").write_text(body, encoding="utf-8")
        diagnostics = check_rulebook(folder)
        assert all(d.file and d.line >= 1 and d.message for d in diagnostics)
        try:
            book = load_rulebook(folder)
        except TalentRulesError:
            assert any(d.severity == "error" for d in diagnostics)
            return
        # Through the real engine: compiled into durable_rules and run on a person.
        try:
            with Engine(book) as engine:
                person = facts_from_mapping("P1", {"performance": 4, "score": 2}, book.vocabulary)
                engine.evaluate(person)
        except TalentRulesError:
            pass


@SETTINGS
@given(
    text=st.text(max_size=300), extra=st.sampled_from(["", "&a [1, *a]", "- &b x\n- *b", "{" * 40])
)
def test_random_yaml_text_is_a_diagnostic_never_a_crash(text: str, extra: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "rules"
        shutil.copytree(FIXTURES, folder)
        (folder / "rules.yaml").write_text(text + "\n" + extra, encoding="utf-8")
        diagnostics = check_rulebook(folder)
        assert all(d.line >= 1 for d in diagnostics)
