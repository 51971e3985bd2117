"""Report stage: template context, escaping, safe file names, writers, atomic output."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import pytest

from talentrules import report
from talentrules.report import (
    Aspiration,
    Bar,
    BriefContext,
    Distribution,
    DocumentInfo,
    EvidenceItem,
    FiredRule,
    Grid,
    GridCell,
    HeartSection,
    HowDecided,
    InfluenceSection,
    NearMiss,
    OverrideItem,
    PersonHeader,
    PersonRef,
    PlanItem,
    Renderer,
    SignalLine,
    Snapshot,
    SummaryContext,
)

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
        meaning="develops others",
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
    signal = SignalLine("H-DEV", "develops others", False, 4, 2, 3, 2, 14, "3", True)
    counter = SignalLine("C-DER", "derailers under stress", True, 1, 1, 1, 1, 0, "2", False)
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
            evidence_quality="Sufficient",
            habitual=("H-DEV",),
            reasons=("Leadership is something a person does.",),
            signals=(signal,),
            counters=(counter,),
            evidence=(make_evidence("Evidence!M14", "H-DEV", observation),),
            counter_evidence=(make_evidence("Evidence!M15", "C-DER", "Snapped at a peer."),),
        ),
        influence=InfluenceSection(
            inspiration=("Personal",),
            inspiration_notes=("Others want to become like them.",),
            nominations=(("Position", 0), ("Expertise", 1), ("Personal", 3)),
            nomination_comments=(),
            influence=(("Personal", 3),),
            outcomes=(("Commitment", 3),),
            management="Keeps the rules",
            balance="Not a people manager",
            balance_advice="",
            team=None,
        ),
        aspiration=Aspiration(
            "Lead people",
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
                "",
            ),
        ),
        plan_mix="1 experience",
        risks=("One derailer episode under stress (C-DER): coaching before any stretch.",),
        gaps=(),
        how=HowDecided(
            fired=(
                FiredRule(
                    "heart-strong",
                    "heart",
                    "Strong",
                    "Habitual leadership",
                    "Leadership is done.",
                    "3 sources",
                    ("H-DEV.episodes = 4 (Evidence!C14)",),
                    False,
                ),
            ),
            defaulted=("balance: Not a people manager",),
            near=(
                NearMiss(
                    "track-x",
                    "track",
                    "Expert",
                    "Expert wish",
                    "career_interest == Grow as expert (was Lead people)",
                    "",
                ),
            ),
            changes=("Would be Expert if career_interest were Grow as expert.",),
            contest="Write to talent-review@example.org.",
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
    return Grid(title, "Potential", "Performance", ("3", "2", "1"), ("1-2", "3", "4-5"), cells, 1)


def make_summary(name: str = "Ana Example", panel_edition: bool = True) -> SummaryContext:
    ana = PersonRef("E0001", name, "briefs/E0001.html", "Strong; Leadership")
    return SummaryContext(
        doc=make_doc(title="Panel summary"),
        panel_edition=panel_edition,
        people=1,
        rejected_rows=0,
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
                "EUR 1,500",
                "EUR 1,500",
            ),
        ),
        budget="EUR 60,000",
        committed="EUR 1,500",
        remaining="EUR 58,500",
        waitlist=(report.WaitItem(ana, "LEAD-PROG", "LEAD-PROG seats full: 6 of 6"),),
        insufficient=(),
        conflicts=(),
        high_risk=(ana,),
        balance=(),
        overrides=(),
        rejected=(report.RejectedLine("Evidence", 9, ("Evidence!D9: not a date",)),),
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
        "Would be Expert",
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
