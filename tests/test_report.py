"""Report stage: template context, escaping, safe file names, writers, atomic output."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import typing
import zipfile
from pathlib import Path

import openpyxl
import pytest

from talentrules import contract, report
from talentrules.engine import Result
from talentrules.errors import OutputError
from talentrules.facts import PersonFacts
from talentrules.paths import sample_workbook
from talentrules.report import (
    Aspiration,
    Bar,
    BriefContext,
    Contest,
    DecisionChanges,
    Distribution,
    DocumentInfo,
    EvidenceItem,
    FiredRule,
    Grid,
    GridCell,
    HeartSection,
    HowDecided,
    InfluenceSection,
    Namer,
    NearMiss,
    OverrideItem,
    PersonHeader,
    PersonRef,
    PlanItem,
    Renderer,
    SignalLine,
    Snapshot,
    SummaryContext,
    brief,
    write_outputs,
)
from talentrules.report.sheetml import FORMULA_START as _FORMULA_START
from talentrules.rulebook import expr_facts
from talentrules.run import RunResult, evaluate_workbook

NASTY = "<script>alert(1)</script> {{ 7*7 }} *bold* | pipe"


def make_doc(**changes: object) -> DocumentInfo:
    base = DocumentInfo(
        title="Justification brief: Ana Example",
        cycle_id="2026-H2",
        cycle_name="Autumn 2026 talent review",
        as_of="2026-10-31",
        input_file="panel_review.xlsx",
        rulebook="rules @ 0123456789ab",
        tool="talentrules 0.1.0",
        confidentiality=report.CONFIDENTIAL,
        contact="talent-review@example.org",
        panel=("A. Moreau", "K. Osei"),
        currency="EUR",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def make_evidence(cell: str, code: str, observation: str) -> EvidenceItem:
    return EvidenceItem(
        cell=cell,
        evidence_id="EV-1",
        code=code,
        name="Develops others" if code.startswith("H-") else "Derails under stress",
        meaning="develops others",
        counter=not code.startswith("H-"),
        observed_on="2026-05-12",
        context="Project",
        influence="Personal",
        initiated_by="Self",
        frequency="Habitual",
        energy="Energised",
        outcome="Commitment",
        source="Peer S-17",
        observation=observation,
    )


def make_brief(name: str = "Ana Example", observation: str = "Ran weekly pairing.") -> BriefContext:
    signal = SignalLine(
        "H-DEV", "Develops others", "develops others", False, 4, 2, 3, 1, 14, "3", True
    )
    counter = SignalLine(
        "C-DER", "Derails under stress", "derailers under stress", True, 1, 1, 1, 0, 0, "2", False
    )
    return BriefContext(
        doc=make_doc(),
        person=PersonHeader(
            employee_id="E0001",
            full_name=name,
            job_title="Senior Analyst",
            org_unit="Finance Ops",
            job_level="P3",
            location="Lyon",
            manager="Bo Chief (E0100)",
            tenure="7 years 6 months",
            in_role="3 years 9 months",
            current_track="Individual contributor",
            people_manager="No",
            cell="Employees!A2",
        ),
        headline=(
            "Heart for leadership: Strong (habitual H-DEV).",
            "Track: Leadership. Invest in LEAD-STRETCH (allocated).",
            "This is a recommendation; the panel decides.",
        ),
        heart="Strong",
        track="Leadership",
        snapshot=Snapshot(
            "4 Exceeds",
            "3, 4, 4",
            "steady",
            "3 of 3",
            "performance 4-5, potential 3",
            "Ready 1-2 years",
            "4",
            "4",
            "Low",
            "High",
        ),
        evidence=HeartSection(
            verdict="Strong",
            meaning="Does the person lead habitually?",
            verdict_meaning="Others see the person lead habitually.",
            evidence_quality="Sufficient",
            evidence_quality_meaning="Enough observations by others.",
            habitual=("H-DEV",),
            habitual_names=("Develops others",),
            reasons=("Leadership is something a person does.",),
            signals=(signal,),
            counters=(counter,),
            signal_line_declared=True,
            evidence=(make_evidence("Evidence!M14", "H-DEV", observation),),
            counter_evidence=(make_evidence("Evidence!M15", "C-DER", "Snapped at a peer."),),
        ),
        influence=InfluenceSection(
            inspiration=("Personal",),
            inspiration_notes=("Others want to become like them.",),
            nominations=(("Position", 0), ("Expertise", 1), ("Personal", 3)),
            nominations_declared=True,
            nomination_comments=(),
            influence=(("Personal", 3),),
            influence_declared=True,
            outcomes=(("Commitment", 3),),
            outcomes_declared=True,
            management="Keeps the rules",
            balance="Not a people manager",
            balance_advice="",
            team=None,
        ),
        aspiration=Aspiration(
            "Lead people",
            "Employees!S2",
            "I like helping new joiners.",
            "Employees!T2",
            "The Leadership track matches the stated wish to lead people.",
        ),
        plan=(
            PlanItem(
                "LEAD-STRETCH",
                "Stretch assignment",
                "Leadership",
                "70 experience",
                "EUR 1,500",
                "6",
                "Allocated",
                "LEAD-STRETCH: seat 1 of 4",
                "the rules",
                "Allocated",
                "Bo Chief (E0100), line manager",
                "2027-01-04",
                "Leads the team through a full cycle.",
                "",
            ),
        ),
        plan_mix="1 experience",
        plan_defaults="",
        commitments=("With the panel's decisions, EUR 61,500 is committed: EUR 1,500 over.",),
        risks=("One derailer episode under stress (C-DER): coaching before any stretch.",),
        gaps=(),
        changes=(
            DecisionChanges(
                "Heart for leadership",
                "Strong",
                (),
                "Strong is already the outcome the rulebook ranks first.",
            ),
            DecisionChanges(
                "Recommended track",
                "Leadership",
                ("Expert, if their stated career interest were “Grow as expert”.",),
                "",
            ),
        ),
        contest=Contest(
            "talent-review@example.org",
            "by 2026-11-30",
            "observations by others",
            "A named panel member decides.",
        ),
        how=HowDecided(
            decided=(
                FiredRule(
                    "heart-strong",
                    "Heart for leadership",
                    "Strong",
                    "Habitual leadership",
                    "Leadership is done.",
                    "3 sources",
                    ("Observations of Develops others (H-DEV) by others: 4 (Evidence!C14)",),
                    "rules/20-heart.yaml:12",
                    False,
                ),
            ),
            overruled=(
                FiredRule(
                    "heart-emerging",
                    "Heart for leadership",
                    "Emerging",
                    "Signs of leadership",
                    "Early signs.",
                    "",
                    (),
                    "rules/20-heart.yaml:40",
                    True,
                ),
            ),
            defaulted=("Team balance: Not a people manager",),
            near=(
                NearMiss(
                    "track-x",
                    "Recommended track",
                    "Expert",
                    "Expert wish",
                    "needs career interest: Grow as expert; it is Lead people",
                ),
            ),
            rulebook="rules @ 0123456789ab",
        ),
        overrides=(
            OverrideItem(
                "track",
                "Leadership",
                "Expert",
                "Asked to stay technical.",
                "A. Moreau",
                "2026-11-05",
                "Overrides!C2",
            ),
        ),
        outcomes=(("heart", "Strong"), ("track", "Leadership")),
        files=("briefs/E0001.html", "briefs/E0001.md"),
    )


def make_grid(title: str, people: tuple[PersonRef, ...]) -> Grid:
    cells = tuple(
        tuple(
            GridCell(len(people) if (r, c) == (0, 2) else 0, people if (r, c) == (0, 2) else ())
            for c in range(3)
        )
        for r in range(3)
    )
    unplaced = (PersonRef("E0009", "Cy Blank", "briefs/E0009.html", "potential blank"),)
    return Grid(
        title, "Potential", "Performance", ("3", "2", "1"), ("1-2", "3", "4-5"), cells, 1, unplaced
    )


def make_summary(name: str = "Ana Example", panel_edition: bool = True) -> SummaryContext:
    ana = PersonRef("E0001", name, "briefs/E0001.html", "Strong; Leadership")
    return SummaryContext(
        doc=make_doc(title="Panel summary"),
        panel_edition=panel_edition,
        alerts=("Over budget: the panel's decisions commit EUR 61,500.",),
        people=1,
        rejected_rows=0,
        problems="0 errors, 0 warnings, 0 notes; 0 rows rejected",
        warnings_count=0,
        sheets=(report.SheetLine("Employees", "Employees", 1, 1, 0, 0),),
        distributions=(
            Distribution("Heart verdicts", 1, (Bar("Strong", 1, 100.0), Bar("Emerging", 0, 0.0))),
        ),
        nine_box=make_grid("9-box", (ana,)),
        heart_grid=make_grid("Heart against performance", (ana,)),
        allocation=(
            report.AllocationLine(
                "LEAD-STRETCH",
                "Stretch",
                "70 experience",
                "no limit",
                1,
                1,
                0,
                "",
                "EUR 1,500",
                "EUR 1,500",
                "",
            ),
        ),
        policy="Strongest case first.",
        budget="EUR 60,000",
        recommended_committed="EUR 1,500",
        committed="EUR 1,500",
        remaining="EUR 58,500",
        remaining_label="remaining",
        waitlist=(
            report.WaitItem(
                ana,
                "LEAD-PROG",
                "Cohort leadership programme (LEAD-PROG)",
                "LEAD-PROG seats full: 6 of 6",
                "priority next cycle",
            ),
        ),
        unseated=(),
        exceptions=(
            report.ExceptionGroup("Gather evidence first", "Gather evidence before investing.", ()),
            report.ExceptionGroup("High risk of loss", "At high risk of leaving.", (ana,)),
        ),
        balance=(),
        overrides=(),
        override_directions=(),
        override_deciders=(),
        rejected=(report.RejectedLine("Evidence", 9, "E0001", ("Evidence!D9: not a date",)),),
        warnings=("Employees!K3: blank",),
        roster=(ana,),
        rules=(
            report.RuleLine(
                "heart-strong",
                "heart",
                "Strong",
                "Habitual",
                "Because.",
                "rules/20-heart.yaml:4",
                1,
                0,
            ),
        ),
    )


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def test_every_context_field_has_help() -> None:
    for kind in report.CONTEXT_TYPES:
        missing = [name for name, text in report.help_texts(kind) if len(text) < 5]
        assert not missing, f"{kind.__name__}: fields without help text: {missing}"


def context_classes() -> set[type]:
    """Every dataclass a template can reach from the context types."""
    found: set[type] = set()
    pending: list[object] = list(report.CONTEXT_TYPES)
    while pending:
        kind = pending.pop()
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            if kind in found:
                continue
            found.add(kind)
            pending.extend(typing.get_type_hints(kind).values())
        pending.extend(typing.get_args(kind))
    return found


def test_docs_list_every_context_field() -> None:
    text = (Path(__file__).parent.parent / "docs" / "outputs.md").read_text(encoding="utf-8")
    sections = {part.split("`", 1)[0]: part for part in text.split("### `")[1:]}
    for kind in context_classes():
        assert kind.__name__ in sections, f"docs/outputs.md: no section for {kind.__name__}"
        for f in dataclasses.fields(kind):
            row = f"| `{f.name}` | {f.metadata['help']} |"
            assert row in sections[kind.__name__], f"docs/outputs.md: {kind.__name__}.{f.name}"


@pytest.mark.parametrize("name", ["brief.html.j2", "brief.md.j2", "brief.txt.j2"])
def test_brief_renders_every_section(renderer: Renderer, name: str) -> None:
    out = renderer.render(name, make_brief())
    for needle in (
        "Ana Example",
        "the panel decides",
        "Evidence!M14",
        "Evidence!M15",
        "C-DER",
        "LEAD-STRETCH",
        "heart-strong",
        "Expert, if their stated career interest",
        "talent-review@example.org",
        "stay technical",
        "I like helping new joiners",
    ):
        assert needle in out, f"{name}: {needle!r} missing"


def test_html_brief_sections(renderer: Renderer) -> None:
    out = renderer.render("brief.html.j2", make_brief())
    for section in (
        "recommendation",
        "overrides",
        "snapshot",
        "heart",
        "influence",
        "aspiration",
        "plan",
        "risks",
        "gaps",
        "changes",
        "contest",
        "how",
        "signoff",
    ):
        assert f'<section id="{section}"' in out
    assert "<script" not in out.replace("<style>", "")  # self-contained, no scripts
    assert "http" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", out)


@pytest.mark.parametrize("name", ["brief.html.j2", "summary.html.j2"])
def test_html_escapes_workbook_values(renderer: Renderer, name: str) -> None:
    context = make_brief(NASTY, NASTY) if "brief" in name else make_summary(NASTY)
    out = renderer.render(name, context)
    assert "<script>alert" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in out
    assert "49" not in out


@pytest.mark.parametrize("name", ["brief.md.j2", "summary.md.j2"])
def test_markdown_escapes_workbook_values(renderer: Renderer, name: str) -> None:
    context = make_brief(NASTY, NASTY) if "brief" in name else make_summary(NASTY)
    out = renderer.render(name, context)
    assert "<script>" not in out
    assert r"\<script\>alert(1)\</script\> \{\{ 7\*7 \}\} \*bold\* \| pipe" in out


def test_text_strips_control_characters(renderer: Renderer) -> None:
    out = renderer.render("brief.txt.j2", make_brief("Ana\x1b[31mRed"))
    assert "\x1b" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("- item", r"\- item"),
        ("# title", r"\# title"),
        ("1. first", r"1\. first"),
        ("a\nb", "a b"),
        ("[x](javascript:1)", r"\[x\](javascript:1)"),
        ("a & b", r"a \& b"),
    ],
)
def test_md_escape(raw: str, shown: str) -> None:
    assert report.md_escape(raw) == shown


def test_summary_panel_edition_names(renderer: Renderer) -> None:
    with_names = renderer.render("summary.html.j2", make_summary("Zed Panelname"))
    without = renderer.render("summary.html.j2", make_summary("Zed Panelname", panel_edition=False))
    grid = with_names.split('class="grid9"')[1].split("</table>")[0]
    assert "Zed Panelname" in grid
    assert "Zed Panelname" not in without.split('class="grid9"')[1].split("</table>")[0]
    assert with_names.count("<svg") == 1


def test_summary_md_renders(renderer: Renderer) -> None:
    out = renderer.render("summary.md.j2", make_summary())
    assert "| Strong | 1 | 100.0 |" in out
    assert "LEAD-PROG seats full" in out
    assert "heart-strong" in out


def test_user_template_extends_default(tmp_path: Path) -> None:
    (tmp_path / "brief.html.j2").write_text(
        '{% extends "default/brief.html.j2" %}'
        "{% block signoff %}<p>Custom sign-off for {{ person.full_name }}</p>{% endblock %}",
        encoding="utf-8",
    )
    out = Renderer(tmp_path).render("brief.html.j2", make_brief(NASTY))
    assert "Custom sign-off for &lt;script&gt;" in out
    assert '<section id="heart"' in out


def test_strict_undefined(tmp_path: Path) -> None:
    (tmp_path / "brief.md.j2").write_text("{{ person.no_such_field }}", encoding="utf-8")
    with pytest.raises(report.OutputError, match="no_such_field"):
        Renderer(tmp_path).render("brief.md.j2", make_brief())


# --------------------------------------------------------------------------------------
# The real path: a workbook written with openpyxl, ingested, evaluated, written out
# --------------------------------------------------------------------------------------

AS_OF = dt.date(2026, 10, 31)


def person(employee_id: str, name: str, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "employee_id": employee_id,
        "full_name": name,
        "job_title": "Analyst",
        "org_unit": "Finance",
        "hire_date": dt.date(2018, 1, 1),
        "date_in_role": dt.date(2022, 1, 1),
        "is_people_manager": "N",
        "current_track": "Individual contributor",
        "performance": 4,
        "potential": 3,
        "readiness": "Ready 1-2 years",
        "risk_of_loss": "Low",
        "impact_of_loss": "Medium",
        "career_interest": "Lead people",
        "aspiration_statement": "I like helping new joiners.",
        "policy_compliance": 4,
    }
    row.update(extra)
    return row


def episode(
    n: int, employee_id: str, signal: str, months_ago: int, source: str, **extra: object
) -> dict[str, object]:
    row: dict[str, object] = {
        "evidence_id": f"EV-{n}",
        "employee_id": employee_id,
        "signal": signal,
        "observed_on": AS_OF - dt.timedelta(days=30 * months_ago + 1),
        "context": "Project" if n % 2 else "No formal authority",
        "influence_base": "Personal",
        "initiated_by": "Self",
        "frequency": "Habitual",
        "energy": "Energised",
        "outcome_in_others": "Commitment",
        "source_type": "Peer",
        "source_id": source,
        "observation": f"Ran weekly pairing, episode {n}.",
    }
    row.update(extra)
    return row


def write_workbook(
    path: Path, employees: list[dict[str, object]], evidence: list[dict[str, object]]
) -> Path:
    """A contract workbook; text starting with '=' is stored as text, never a formula."""
    book = openpyxl.Workbook()
    assert book.active is not None
    book.remove(book.active)
    sheets = {
        "Cycle": [
            {
                "cycle_id": "2026-H2",
                "cycle_name": "Autumn review",
                "as_of": AS_OF,
                "budget": 60000,
                "currency": "EUR",
                "panel": "A. Moreau; K. Osei",
                "contact": "talent@example.org",
            }
        ],
        "Employees": employees,
        "Evidence": evidence,
    }
    for name, rows in sheets.items():
        sheet = next(s for s in contract.SHEETS if s.name == name)
        ws = book.create_sheet(name)
        headers = [c.name for c in sheet.columns]
        ws.append(headers)
        for n, row in enumerate(rows, start=2):
            for col, header in enumerate(headers, start=1):
                value = row.get(header)
                cell = ws.cell(row=n, column=col, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"
    book.save(path)
    return path


def evidence_for(employee_id: str, start: int) -> list[dict[str, object]]:
    return [
        episode(start + k, employee_id, "H-DEV", months, source)
        for k, (months, source) in enumerate(((2, "S-1"), (9, "S-2"), (16, "S-3")))
    ]


@pytest.fixture(scope="module")
def nasty_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """Five people whose ids and names try every trick a workbook can play."""
    folder = tmp_path_factory.mktemp("nasty")
    ids = ["E1", "e1", "../evil", "CON", "x" * 80]
    names = [NASTY, '=HYPERLINK("http://evil","x")', "@SUM(A1)", "+1-2", "-3"]
    employees = [person(i, n) for i, n in zip(ids, names, strict=True)]
    evidence = [e for k, i in enumerate(ids) for e in evidence_for(i, 10 * k)]
    evidence[0]["observation"] = NASTY
    return evaluate_workbook(write_workbook(folder / "nasty.xlsx", employees, evidence), jobs=1)


def test_namer_keeps_plain_ids_and_encodes_the_rest() -> None:
    names = Namer(
        ["E0001", "E1", "e1", "../evil", "a/b", "CON", "nul.txt", "ok.", "x" * 80, "tab\tid", "Zoë"]
    ).names
    assert names["E0001"] == "E0001"
    assert len(set(names.values())) == len(names)
    assert len({n.casefold() for n in names.values()}) == len(names)
    for employee_id, name in names.items():
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name), (employee_id, name)
        assert name.split(".")[0].upper() not in ("CON", "NUL") and not name.endswith(".")
    assert names["E1"] != "E1" and names["e1"] != "e1"  # equal but for case


def test_write_outputs_everything_inside_outdir(nasty_run: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = write_outputs(nasty_run, out, jobs=1)
    assert written.briefs == 5
    every = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert all(p == "out" or p.startswith("out/") for p in every), every
    data = json.loads((out / "recommendations.json").read_text(encoding="utf-8"))
    assert data["schema_version"] == 1
    briefs = [p["brief"]["html"] for p in data["people"]] + [
        p["brief"]["md"] for p in data["people"]
    ]
    assert len(set(briefs)) == 10
    assert sorted(f"briefs/{p.name}" for p in (out / "briefs").iterdir()) == sorted(briefs)
    for person_ in data["people"]:
        for key in (
            "employee_id",
            "heart",
            "inspiration",
            "management",
            "track",
            "investments",
            "allocation",
            "fired",
            "override",
        ):
            assert key in person_
    lines = (out / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["employee_id"] for line in lines] == sorted(
        p["employee_id"] for p in data["people"]
    )


def test_every_value_escaped_end_to_end(nasty_run: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(nasty_run, out, jobs=1)
    names = Namer(nasty_run.employees)
    html = (out / names.brief("E1", "html")).read_text(encoding="utf-8")
    md = (out / names.brief("E1", "md")).read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html
    assert "<script>" not in md and r"\<script\>alert(1)\</script\> \{\{ 7\*7 \}\}" in md
    for name in ("summary.html", "summary.md"):
        text = (out / name).read_text(encoding="utf-8")
        assert "<script>alert" not in text


def test_xlsx_never_writes_a_formula(nasty_run: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(nasty_run, out, jobs=1)
    with zipfile.ZipFile(out / "recommendations.xlsx") as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(member) and b"<f " not in archive.read(member)
    book = openpyxl.load_workbook(out / "recommendations.xlsx")
    sheet = book["Recommendations"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    names = {row[1].value: row[1] for row in sheet.iter_rows(min_row=2)}
    for risky in ('=HYPERLINK("http://evil","x")', "@SUM(A1)", "+1-2", "-3"):
        assert names[risky].data_type == "s", risky
        assert names[risky].quotePrefix, risky
    # Cells share a style once it is registered: the mark stays on the risky cells.
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            risky = isinstance(cell.value, str) and cell.value.startswith(_FORMULA_START)
            assert bool(cell.quotePrefix) == risky, cell.coordinate
    assert book.sheetnames == ["Recommendations", "Waitlist", "Budget", "Rejected rows", "Warnings"]


def test_existing_outdir_refused_unless_force(nasty_run: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(nasty_run, out, jobs=1)
    with pytest.raises(OutputError, match="already exists; use --force"):
        write_outputs(nasty_run, out, jobs=1)
    write_outputs(nasty_run, out, force=True, jobs=1)
    assert (out / "summary.html").exists()
    # --force deletes only what talentrules wrote: a file of the user's stops it.
    (out / "my_notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match=r"did not write \(my_notes.txt\)"):
        write_outputs(nasty_run, out, force=True, jobs=1)
    assert (out / "my_notes.txt").read_text(encoding="utf-8") == "mine"
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.docx").write_text("years of work", encoding="utf-8")
    with pytest.raises(OutputError, match="not an earlier talentrules output"):
        write_outputs(nasty_run, precious, force=True, jobs=1)
    assert (precious / "thesis.docx").exists()
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(OutputError, match="not a folder"):
        write_outputs(nasty_run, tmp_path / "file", force=True, jobs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "out", "precious"]


@pytest.mark.parametrize("where", ["template", "hook"])
def test_failure_half_way_leaves_nothing(nasty_run: RunResult, tmp_path: Path, where: str) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    # Fails on the third person only, after two briefs are on disk.
    (templates / "brief.md.j2").write_text(
        '{% extends "default/brief.md.j2" %}'
        '{% block header %}{{ person.no_such_field if person.employee_id == "E1" else "" }}'
        "{% endblock %}",
        encoding="utf-8",
    )

    def hook(folder: Path, result: RunResult) -> None:
        assert (folder / "summary.html").exists()
        raise OutputError("the manifest could not be written")

    out = tmp_path / "out"
    with pytest.raises(OutputError):
        if where == "template":
            write_outputs(nasty_run, out, templates_dir=templates, jobs=1)
        else:
            write_outputs(nasty_run, out, jobs=1, hooks=[hook])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["templates"]
    # The same failure over an earlier output keeps the earlier output whole.
    write_outputs(nasty_run, out, jobs=1)
    before = sorted(p.name for p in out.rglob("*"))
    with pytest.raises(OutputError):
        write_outputs(nasty_run, out, force=True, jobs=1, hooks=[hook])
    assert sorted(p.name for p in out.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "templates"]


def test_brief_cites_every_evidence_cell(nasty_run: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(nasty_run, out, jobs=1)
    names = Namer(nasty_run.employees)
    for row in nasty_run.panel.rows["Evidence"]:
        employee_id = str(row.get("employee_id"))
        html = (out / names.brief(employee_id, "html")).read_text(encoding="utf-8")
        md = (out / names.brief(employee_id, "md")).read_text(encoding="utf-8")
        assert row.ref("observation") in html and row.ref("observation") in md


def test_parallel_rendering_gives_the_same_files(tmp_path: Path) -> None:
    employees = [person(f"P{n:04d}", f"Person {n}") for n in range(220)]
    evidence = [e for n in range(0, 220, 3) for e in evidence_for(f"P{n:04d}", 10 * n)]
    run = evaluate_workbook(write_workbook(tmp_path / "many.xlsx", employees, evidence), jobs=1)
    one, two = tmp_path / "one", tmp_path / "two"
    write_outputs(run, one, jobs=1)
    write_outputs(run, two, jobs=2)
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert len(files) == 2 * 220 + 6
    for name in files:
        # zip timestamps differ; the manifest records the run's id, times and options
        if name.suffix != ".xlsx" and name.name != "manifest.json":
            assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_rule_message_rendered_in_a_sandbox(nasty_run: RunResult) -> None:
    from talentrules.trace import Leaf

    view = report.RunView(nasty_run)
    base = nasty_run.rulebook.rules[0]
    conditions = [
        Leaf("H-DEV.episodes >= 3", "H-DEV.episodes", False, 3, "3", True),
        Leaf("H-DEV.observers >= 2", "H-DEV.observers", False, 2, "2", True),
    ]
    rule = dataclasses.replace(
        base, id="msg", message="{{ episodes }} episodes from {{ facts['H-DEV.observers'] }}"
    )
    assert view.message(rule, conditions) == "3 episodes from 2"
    evil = dataclasses.replace(base, id="evil", message="{{ ''.__class__.__mro__[1] }}")
    assert "could not be rendered" in view.message(evil, conditions)
    typo = dataclasses.replace(base, id="typo", message="{{ sorces }}")
    assert "could not be rendered" in view.message(typo, conditions)


def test_a_rendered_message_is_remembered_by_all_it_reads(nasty_run: RunResult) -> None:
    """Messages remembers a rendering by the conditions' values its message uses and the
    facts it names (with their types): each of those changed gives a new rendering, a
    value it does not use does not."""
    from talentrules.messages import Messages
    from talentrules.trace import Leaf

    base = next(r for r in nasty_run.rulebook.rules if r.id == "habitual-H-DEV")
    rule = dataclasses.replace(
        base, id="msg", message="{{ episodes }} seen; {{ facts.performance }} rated"
    )

    def leaves(episodes: object, observers: object) -> list[Leaf]:
        return [
            Leaf("H-DEV.episodes >= 3", "H-DEV.episodes", False, episodes, "", True),
            Leaf("H-DEV.observers >= 2", "H-DEV.observers", False, observers, "", True),
        ]

    messages = Messages()
    first = messages(rule, leaves(3, 2), {"performance": 4})
    assert first == "3 seen; 4 rated"
    assert messages(rule, leaves(3, 9), {"performance": 4, "other": 1}) is first  # unused
    assert messages(rule, leaves(4, 2), {"performance": 4}) == "4 seen; 4 rated"
    assert messages(rule, leaves(3.0, 2), {"performance": 4}) == "3.0 seen; 4 rated"
    assert messages(rule, leaves(3, 2), {"performance": 5}) == "3 seen; 5 rated"
    assert messages(rule, leaves(3, 2), {"performance": True}) == "3 seen; True rated"
    assert "could not be rendered" in messages(rule, leaves(3, 2), {})
    other = dataclasses.replace(rule, message="{{ episodes }} again")  # same id, new words
    assert messages(other, leaves(3, 2), {"performance": 4}) == "3 again"


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("{{ episodes }} observations by {{ observers }}", ()),
        ("{% if episodes > 2 %}many{% endif %}", ()),
        ("", ()),
        ("{{ facts['H-DEV.observers'] }}", ("H-DEV.observers",)),  # a fact by name
        ("{{ facts.performance or facts['x'] }} {{ facts.performance }}", ("performance", "x")),
        ("{{ facts }}", None),  # every fact of the person
        ("{% for k in facts %}{{ k }}{% endfor %}", None),
        ("{{ facts[episodes] }}", None),  # a name worked out per person
        ("{{ facts.items() }}", None),  # a dict's method, not a fact
        ("{{ facts | length }}", None),
        ("{{ episodes }} {{ sorces }}", None),  # not a condition's: rendered to its error
        ("{{ lipsum(1) }}", None),  # a global: random words
        ("{{ [episodes, 1] | random }}", None),
        ("{{ episodes ", None),  # does not parse
    ],
)
def test_a_message_follows_from_its_conditions_and_the_facts_it_names(
    nasty_run: RunResult, message: str, named: tuple[str, ...] | None
) -> None:
    """The brief remembers a rule's message by the values its conditions read and
    those of the facts it names, only when the message reads nothing else
    (brief.how_decided)."""
    view = report.RunView(nasty_run)
    base = next(r for r in nasty_run.rulebook.rules if r.id == "habitual-H-DEV")
    assert {"episodes", "observers"} <= {c.fact.rsplit(".")[-1] for c in expr_facts(base.when)}
    rule = dataclasses.replace(base, id="msg", message=message)
    assert view.message_facts(rule) == named


def _how(view: report.RunView, r: Result) -> HowDecided:
    return brief.how_decided(view, r, r.person.values)


def test_the_audit_appendix_words_are_remembered_by_all_they_depend_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """how_decided remembers each fired rule's and near miss's words by the rule and
    the values it reads; the person's cells, and a message reading more than its
    conditions, are never taken from another person with the same values."""
    result = evaluate_workbook(sample_workbook(), jobs=1)
    shared = report.RunView(result)
    with monkeypatch.context() as patch:
        patch.setattr(brief, "WORDS_LIMIT", 0)  # nothing remembered: worked out per person
        expected = [_how(report.RunView(result), r) for r in result.results]
    assert [_how(shared, r) for r in result.results] == expected
    assert shared.fired_words and shared.near_words  # people shared words

    # The same values with other cells, and other facts than the conditions read.
    res = next(r for r in result.results if "exception-high-risk-of-loss" in r.evaluation.fired)
    first = _how(shared, res)
    assert any(n.failed for n in first.near)
    person = res.person
    cells = {
        fact: tuple(f"Elsewhere!Z{n}" for n, _ in enumerate(at))
        for fact, at in person.cells.items()
    }
    values = {**person.values, "impact_of_loss": "Low"}
    other = dataclasses.replace(res, source=PersonFacts(res.employee_id, values, cells))
    second = _how(shared, other)
    fresh = _how(report.RunView(result), other)
    assert second == fresh
    assert second != first
    said = {r.id: r for r in second.decided}
    assert "impact of loss Low" in said["exception-high-risk-of-loss"].message
    assert any("Elsewhere!Z0" in n.failed for n in second.near)
    assert any("Elsewhere!Z0" in "".join(r.values) for r in second.decided)


def test_audit_appendix_entries_without_cells_are_shared_by_people(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An appendix entry none of whose facts has cells for the person is the one
    remembered with its words, the same object for everyone (contexts are immutable);
    with cells each person gets their own, the cells added, and a rule overruled for
    one person and deciding for another is said so for each."""
    result = evaluate_workbook(sample_workbook(), jobs=1)
    shared = report.RunView(result)
    hows = [_how(shared, r) for r in result.results]
    with monkeypatch.context() as patch:
        patch.setattr(brief, "WORDS_LIMIT", 0)  # nothing remembered: worked out per person
        assert hows == [_how(report.RunView(result), r) for r in result.results]
    alike: dict[object, list[object]] = {}
    for how in hows:
        for entry in (*how.decided, *how.overruled, *how.near):
            alike.setdefault(entry, []).append(entry)
    cited = re.compile(r"\b[A-Z][A-Za-z]*![A-Z]+[0-9]+")  # a cell: Evidence!C2
    shared_entries = 0
    for entries in alike.values():
        texts = (
            entries[0].failed if isinstance(entries[0], NearMiss) else " ".join(entries[0].values)
        )
        if cited.search(texts):
            continue
        assert all(e is entries[0] for e in entries), entries[0]
        shared_entries += len(entries) > 1
    assert shared_entries  # the sample's people share some
    for how in hows:
        assert all(not r.overruled for r in how.decided)
        assert all(r.overruled for r in how.overruled)


def test_writing_outputs_and_auditing_leave_the_traces_as_they_were(tmp_path: Path) -> None:
    # Traces share their entries between people (docs/trace.md: read-only), so a
    # stage that changed one would change other people's traces: none may.
    from talentrules import audit
    from talentrules.paths import sample_workbook

    workbook = sample_workbook()
    result = evaluate_workbook(workbook, jobs=1)
    before = json.dumps([r.trace for r in result.results], sort_keys=True)
    write_outputs(result, tmp_path / "out", jobs=2)
    assert audit.verify(tmp_path / "out", workbook=workbook).ok
    assert json.dumps([r.trace for r in result.results], sort_keys=True) == before


def test_writing_outputs_never_imports_the_engine() -> None:
    # The report package and the run's record are the writing side: durable_rules
    # (and the adapter that loads it) belong to evaluating, and to audit's replay.
    import subprocess
    import sys

    code = (
        "import sys, talentrules.report, talentrules.record, talentrules.fairness\n"
        "loaded = sorted(m for m in sys.modules if m == 'talentrules.engine'"
        " or m.startswith(('durable', 'talentrules.run', 'talentrules.audit')))\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "", done.stdout


def test_recommendations_json_is_written_as_the_data_dumps(tmp_path: Path) -> None:
    """write_recommendations streams people one at a time; the file is byte for byte
    what json.dumps of recommendations_json writes (also with an allocation, panel
    overrides and rejected rows: the sample run with --allow-rejects)."""
    from talentrules.report.data import recommendations_json, write_recommendations
    from talentrules.report.names import Namer

    result = evaluate_workbook(sample_workbook(), jobs=1, allow_rejects=True)
    namer = Namer(result.employees)
    data = recommendations_json(result, namer)
    assert data["people"] and data["investments"]
    write_recommendations(result, namer, tmp_path / "r.json")
    expected = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == expected


def test_trace_lines_made_by_the_workers_chain_as_the_run_does(tmp_path: Path) -> None:
    # The brief workers make each person's trace line with "prev" left blank and the
    # parent chains them in order: the file must be the chain record.trace_lines makes,
    # also with ids that hold the chain's own text, quotes, tabs and line breaks.
    from talentrules import record

    tricky = ['T"chain":{"line":1,"prev":"', "T\tab", "T\nline", "T\\", "Tñ\u2028x"]
    ids = [*tricky, *(f"P{n:04d}" for n in range(150))]
    employees = [person(i, f"Person {n}") for n, i in enumerate(ids)]
    evidence = [e for n, i in enumerate(ids[::4]) for e in evidence_for(i, 10 * n)]
    run = evaluate_workbook(write_workbook(tmp_path / "tricky.xlsx", employees, evidence), jobs=1)
    # The lines as canonical JSON of each record (trace_lines makes them as text).
    expected = [*record.chain(record.trace_record(run, i) for i in range(len(run.results)))]
    assert [*record.trace_lines(run)] == expected
    assert {json.loads(line)["employee_id"] for line in expected} >= set(tricky)
    parts = [record.unchained_line(run, i) for i in range(len(run.results))]
    assert [*record.rechain(parts)] == expected
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        write_outputs(run, out, jobs=jobs)
        text = (out / "trace.jsonl").read_text(encoding="utf-8")
        assert text == "".join(f"{line}\n" for line in expected)
        assert not (out / ".trace-parts").exists()


def test_the_waitlist_is_every_waitlisted_entry_by_code_in_one_pass() -> None:
    # waitlist_entries (recommendations.json, the results workbook, the summary): what
    # a scan of everyone for each of the plan's codes in turn gives, in one pass.
    from talentrules.report.data import waitlist_entries

    plan = evaluate_workbook(sample_workbook(), jobs=1).plan
    scanned = [
        (eid, e)
        for code in [c.code for c in plan.codes]
        for eid, entries in plan.plans.items()
        for e in entries
        if e.code == code and e.status == "waitlisted"
    ]
    assert len({e.code for _, e in scanned}) > 2  # the order between codes is tested
    assert waitlist_entries(plan) == scanned


def test_role_fields_follow_each_rulebooks_roles() -> None:
    # role_fields keeps each rulebook's decision for each role: a rulebook whose
    # decisions play other roles (or none) gets its own, as Rulebook.outcome_of gives.
    import dataclasses

    from talentrules.record import ROLE_FIELDS, role_fields
    from talentrules.rulebook import load_rulebook

    packaged = load_rulebook()
    verdict = packaged.role("verdict")
    assert verdict is not None
    decisions = dict(packaged.decisions)
    decisions[verdict.name] = dataclasses.replace(verdict, role=None)
    other = dataclasses.replace(packaged, decisions=decisions)
    outcomes = {name: (f"{name} outcome",) for name in packaged.decisions}
    for rulebook in (packaged, other, packaged, other):
        expected = {key: rulebook.outcome_of(role, outcomes) for key, role in ROLE_FIELDS}
        assert role_fields(rulebook, outcomes) == expected
    assert role_fields(other, outcomes)["heart"] == ()
    assert role_fields(packaged, outcomes)["heart"] == (f"{verdict.name} outcome",)


def test_a_sheet_read_at_once_gives_each_persons_row_as_read_one_by_one() -> None:
    # The summary's pass over every team (balance_lines) reads the Teams sheet in one
    # query (store.RowTable): each person's row as RowAbout reads it, none for others.
    from talentrules.model import Row, RowAbout
    from talentrules.report.summary import _read_at_once
    from talentrules.report.view import RunView

    result = evaluate_workbook(sample_workbook(), jobs=1)
    view = RunView(result)
    assert isinstance(view.teams, RowAbout)
    at_once = _read_at_once(view.teams)
    assert at_once is not view.teams  # the stored sheet: one query
    people = [r.employee_id for r in result.results] + ["nobody"]
    assert sum(view.teams.get(p) is not None for p in people) > 1
    for person in people:
        one_by_one, together = view.teams.get(person), at_once.get(person)
        assert (one_by_one is None) == (together is None)
        if one_by_one is not None and together is not None:
            assert together == one_by_one and together.number == one_by_one.number
            assert together.values() == one_by_one.values()
    plain: dict[str, Row] = {}
    assert _read_at_once(plain) is plain  # a sheet not in a store: as it is
