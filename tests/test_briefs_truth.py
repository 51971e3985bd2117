"""Issue 11 on the shipped sample, through the real path (the sample workbook, ingest,
durable_rules, allocation, the panel's overrides, the templates): every sentence true,
the panel's decisions in every output, plain words for people, nobody lost from view,
the results workbook, the 9-box, contest and plan rows, accessibility."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from talentrules.cli import cli
from talentrules.paths import sample_workbook

AMARA, KENJI, DANIEL, HENRIK, CARLOS, ELENA = "00001", "00030", "00009", "00004", "00024", "00015"
SAMUEL, MATEO = "00022", "00032"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("truth") / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(sample_workbook()), "-o", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def md(out: Path, employee_id: str) -> str:
    return " ".join((out / "briefs" / f"{employee_id}.md").read_text(encoding="utf-8").split())


def manager_part(out: Path, employee_id: str) -> str:
    text = (out / "briefs" / f"{employee_id}.md").read_text(encoding="utf-8")
    return text.split("## Audit appendix")[0]


# --- every sentence true --------------------------------------------------------------


def test_a_draw_is_named_as_a_draw_with_its_seed(out: Path) -> None:
    data = json.loads((out / "recommendations.json").read_text(encoding="utf-8"))
    people = {p["employee_id"]: p for p in data["people"]}
    carlos = people[CARLOS]["allocation"]["LEAD-STRETCH"]
    amara = people[AMARA]["allocation"]["LEAD-STRETCH"]
    assert carlos["status"] == "allocated" and carlos["decided_by"] == "draw"
    assert amara["status"] == "waitlisted" and amara["decided_by"] == "draw"
    # The ranking keys and values, and the draw's value, are in the JSON and the trace.
    assert (
        amara["ranking"]
        == carlos["ranking"]
        == {
            "heart": "Strong",
            "readiness": "Ready 1-2 years",
            "risk_of_loss": "Low",
        }
    )
    assert amara["tie_break"]["method"] == "draw" and len(amara["tie_break"]["value"]) == 64
    assert data["allocation_policy"]["seed"] == "2026-H2"
    line = next(
        json.loads(x)
        for x in (out / "trace.jsonl").read_text(encoding="utf-8").splitlines()
        if f'"employee_id":"{AMARA}"' in x
    )
    (traced,) = line["recommendation"]["allocation"]
    assert traced["ranking"] == amara["ranking"] and traced["decided_by"] == "draw"
    text = md(out, AMARA)
    assert "equal on every ranking key" in text and "the cycle's draw" in text
    assert "seed '2026-H2'" in text
    for person in data["people"]:
        for allotment in person["allocation"].values():
            assert "stronger cases" not in allotment["reason"]


def test_overruled_rules_are_apart_and_counted_apart(out: Path) -> None:
    text = (out / "briefs" / f"{AMARA}.md").read_text(encoding="utf-8")
    decided, overruled = text.split("### Rules that decided")[1].split(
        "### Rules that held but were overruled"
    )
    assert "(heart-strong," in decided and "heart-emerging-habit" not in decided
    assert "(heart-emerging-habit," in overruled.split("### Rules that came close")[0]
    # The manager part gives the reason of the deciding rule only.
    assert "commitment not yet shown" not in manager_part(out, AMARA)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    row = next(line for line in summary.splitlines() if "(heart-emerging-habit)" in line)
    decided_n, overruled_n = (int(n) for n in row.split("|")[3:5])
    assert overruled_n >= 1 and decided_n == 0


def test_no_interest_sentence_the_data_does_not_support(out: Path) -> None:
    henrik = md(out, HENRIK)
    assert "Career interest recorded: Stay in role (Employees!V5)" in henrik
    assert "I would rather go back to analysis work." in henrik
    # The rules read the recorded interest, not the statement: the brief says so.
    assert (
        "The rules read the recorded interest only, not their own words above; where the "
        "two differ, their own words come first." in henrik
    )
    for brief in (out / "briefs").glob("*.md"):
        text = " ".join(brief.read_text(encoding="utf-8").split())
        assert "stated wish not to manage" not in text
        interest = re.search(r"Career interest recorded: ([^.(]+)", text)
        assert interest is not None
        if "matches the stated interest" in text:
            stated = re.search(r"matches the stated interest \(([^)]+)\)", text)
            assert stated is not None and stated.group(1) == interest.group(1).strip(), brief


# --- the panel's decisions flow through --------------------------------------------------


def test_an_investment_override_reaches_every_output(out: Path) -> None:
    kenji = md(out, KENJI)
    assert "Plan: Expert leadership role (EXP-LEAD), allocated by the panel." in kenji
    assert "EUR 41,500 is committed against the cycle's budget of EUR 40,000" in kenji
    assert (
        "**Allocated** by the panel (the rules: not recommended): Has agreed to lead the data "
        "guild; the role serves him better than the ladder this year (Overrides!C3)." in kenji
    )
    assert "**Removed by the panel** (the rules: waitlisted): Has agreed" in kenji
    summary = (out / "summary.md").read_text(encoding="utf-8")
    top = summary.split("## Scope")[0]
    assert "Over budget: the panel's decisions commit EUR 41,500" in top
    assert "Kenji Sato" in top and "Overrides!C3" in top
    waitlist = summary.split("### Waitlist")[1].split("## ")[0]
    assert "Kenji Sato" not in waitlist  # EXP-LADDER removed by the panel
    data = json.loads((out / "recommendations.json").read_text(encoding="utf-8"))
    assert data["budget"]["committed_with_panel"] == 41500
    assert data["budget"]["over_with_panel"] == 1500
    kenji_json = next(p for p in data["people"] if p["employee_id"] == KENJI)
    assert [(e["code"], e["status"], e["by"]) for e in kenji_json["plan"]] == [
        ("EXP-LADDER", "removed", "panel"),
        ("EXP-LEAD", "allocated", "panel"),
    ]
    assert not any(w["employee_id"] == KENJI for w in data["waitlist"])
    book = openpyxl.load_workbook(out / "recommendations.xlsx")
    budget = {row[0].value: row for row in book["Budget"].iter_rows(min_row=2)}
    assert budget["EXP-LEAD"][5].value == 2 and budget["EXP-LEAD"][4].value == 1
    assert budget["committed"][9].value == 41500


def test_an_allocation_override_past_the_seats_is_said_at_the_top(
    tmp_path: Path,
) -> None:
    # The panel gives Amara Okafor the LEAD-STRETCH seat she was waitlisted for: five
    # people for four seats, said at the top of the summary and in her brief, with
    # the investment named for people.
    book = openpyxl.load_workbook(sample_workbook())
    book["Overrides"].append(
        ["00001", "allocation", "LEAD-STRETCH: allocated", "Post opens in May.", "K. Osei"]
    )
    book.save(tmp_path / "seat.xlsx")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "seat.xlsx"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    top = (out / "summary.md").read_text(encoding="utf-8").split("## Scope")[0]
    assert (
        "Over seats: Stretch assignment, acting manager (LEAD-STRETCH) has 5 people "
        "allocated for 4 seats (Investments!E2)" in top
    )
    assert "Amara Okafor" in top and "Overrides!C4" in top
    amara = manager_part(out, AMARA)
    assert (
        "With the panel's decisions (Overrides!C4), Stretch assignment, acting manager "
        "(LEAD-STRETCH) has 5 people allocated for 4 seats (Investments!E2)." in amara
    )
    assert "| allocation Stretch assignment, acting manager (LEAD-STRETCH) | waitlisted |" in amara
    for found in CODE.finditer(amara):
        assert amara[found.start() - 1] == "(", amara[found.start() - 80 : found.end() + 20]


# --- plain words for people --------------------------------------------------------------


# Rule syntax and fact ids: operators, 'H-DEV.episodes', 'evidence.observed' (not the
# rule files' names, 'rules/15-evidence.yaml', which cite where a rule is).
SYNTAX = re.compile(
    r"==|>=|<=|!=|\b[A-Z]-[A-Z]{3}\.[a-z_]+\b|\b(evidence|team|nominations)\.(?!yaml\b)[a-z_]+\b"
)


def test_briefs_and_summary_speak_plain_words(out: Path) -> None:
    for brief in (out / "briefs").glob("*.md"):
        text = brief.read_text(encoding="utf-8")
        assert not SYNTAX.search(text), (brief.name, SYNTAX.search(text))
        part = text.split("## Audit appendix")[0]
        assert "guiding essay" not in text and "the seed" not in part.casefold()
        headline = part.split("## Recommendation")[1].split("##")[0]
        # Codes only in brackets after a name: 'Stretch assignment ... (LEAD-STRETCH)'.
        for code in re.findall(r"\b[A-Z]+-[A-Z]+\b", headline):
            assert f"({code})" in headline, (brief.name, code)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert not SYNTAX.search(summary)
    assert "What the seed" not in summary


# A code where people read: 'LEAD-STRETCH', 'H-DEV', 'C-AFF' (a dash, capitals).
CODE = re.compile(r"\b[A-Z]{1,5}-[A-Z]{3,8}\b")


def test_codes_only_in_brackets_after_a_name(out: Path) -> None:
    # Everywhere a manager or an HR business partner reads (the brief before its audit
    # appendix, the summary before its rule catalogue), a code follows a name in
    # brackets: 'Mentoring by a senior leader (LEAD-MENTOR)', never 'when LEAD-MENTOR
    # (800) came up' or 'recommended EXP-LADDER'.
    parts = [manager_part(out, p.stem) for p in (out / "briefs").glob("*.md")]
    summary = (out / "summary.md").read_text(encoding="utf-8")
    parts.append(summary.split("## Appendix")[0])
    for part in parts:
        for found in CODE.finditer(part):
            assert part[found.start() - 1] == "(", part[found.start() - 80 : found.end() + 20]
    kenji = md(out, KENJI)
    assert (
        "| investment | Expert-track progression (EXP-LADDER) | **Expert leadership role "
        "(EXP-LEAD)** |" in kenji
    )


def test_what_would_change_is_heart_first_in_sentences(out: Path) -> None:
    part = manager_part(out, DANIEL)
    changes = part.split("## What would change the outcome")[1].split("## ")[0]
    lines = [line for line in changes.splitlines() if line.strip()]
    assert lines[0].startswith("**Heart for leadership, now Insufficient evidence.**")
    assert lines[1].startswith("- Emerging, if people other than them saw them show")
    bullets = [line for line in lines if line.startswith("- ")]
    assert 1 <= len(bullets) <= 6  # a few, a sentence each (3 per decision at most)


def test_no_change_named_that_drops_the_verdict(out: Path) -> None:
    # More courage observed for Samuel Osei would make his evidence conflict (he is
    # also seen avoiding hard calls) and drop a Strong verdict: true, but not a change a
    # person would make to move their track, so it is not named.
    samuel = manager_part(out, SAMUEL).split("## What would change the outcome")[1]
    assert "Shows courage" not in samuel and "- Gather evidence, if" not in samuel
    # The new observations the search assumed are said in full: energised, committed.
    henrik = md(out, HENRIK)
    assert (
        "- Strong, if people other than them saw them show “Develops others” (H-DEV) or "
        "“Takes responsibility” (H-RSP) 3 more times, each time someone new, in another "
        "kind of situation, energised by it, with others committing." in henrik
    )


# --- nobody lost from view ----------------------------------------------------------------


def test_people_without_a_seat_are_listed_with_a_fallback(out: Path) -> None:
    summary = (out / "summary.md").read_text(encoding="utf-8")
    unseated = summary.split("### Recommended, without a seat")[1].split("###")[0]
    data = json.loads((out / "recommendations.json").read_text(encoding="utf-8"))
    assert len(data["unseated"]) >= 4
    for entry in data["unseated"]:
        assert f"({entry['employee_id']};" in unseated
    assert "Fallback: priority next cycle" in unseated
    assert "Fallback:" in md(out, AMARA) or "Priority next cycle" in md(out, AMARA)


# --- the results workbook ------------------------------------------------------------------


def test_results_workbook_columns_links_budget_and_print(out: Path) -> None:
    book = openpyxl.load_workbook(out / "recommendations.xlsx")
    assert book.sheetnames == ["Recommendations", "Waitlist", "Budget", "Rejected rows", "Warnings"]
    sheet = book["Recommendations"]
    header = [c.value for c in sheet[1]]
    for column in ("performance", "potential", "nine_box", "readiness", "org_unit", "manager"):
        assert column in header, column
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == AMARA)
    link = row[header.index("brief")]
    assert link.hyperlink is not None and link.hyperlink.target == "briefs/00001.html"
    assert row[header.index("nine_box")].value == "potential 2, performance 4-5"
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title


# --- 9-box, contest, plan rows ----------------------------------------------------------------


def test_nine_box_axes_and_unplaced_people_named(out: Path) -> None:
    html = (out / "summary.html").read_text(encoding="utf-8")
    grid = html.split('class="grid9"')[1].split("</table>")[0]
    assert "Potential (high at the top)" in grid and "&darr;" not in grid
    rows = re.findall(r'<th class="rowhead" scope="row">([^<]+)</th>', grid)
    assert rows == ["3 high", "2 medium", "1 low"]
    assert 'Not placed (1): <a href="briefs/00015.html">Elena Popescu</a>' in html
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "Not placed (1): Elena Popescu (00015): performance and potential blank" in summary


def test_contest_has_a_deadline_and_what_to_bring(out: Path) -> None:
    for brief in (out / "briefs").glob("*.md"):
        text = " ".join(brief.read_text(encoding="utf-8").split())
        assert "Ask talent-review@example.org by 2026-11-30." in text, brief.name
        assert "Bring observations by others that the brief does not list" in text


def test_plan_rows_have_owner_start_and_measure(out: Path) -> None:
    kenji = md(out, KENJI)
    # From the Development sheet (the panel's own planned row) ...
    assert "Lucía Fernández (line manager); once the panel has signed off" in kenji
    assert "Two product teams adopt the data guild's standards within the year." in kenji
    # The reason after a status is a sentence of its own, in every format.
    html = (out / "briefs" / f"{MATEO}.html").read_text(encoding="utf-8")
    assert '<b>Waitlisted</b>.\n<span class="small">Seats full (4 of 4, Investments!E2)' in html
    assert '<span class="small">Budget exhausted: EUR 40,000 of EUR 40,000' in html
    # An Active Development row started in the past: under way, not a start to come.
    assert "| L. Fontaine (sponsor); under way since 2026-01-12 |" in md(out, MATEO)
    assert "the person's HR business partner; under way since 2026-05-04" in md(out, HENRIK)
    # ... else the stated defaults, said once.
    amara = md(out, AMARA)
    assert "owner, start and measure are the stated defaults" in amara


# --- terminal and accessibility -----------------------------------------------------------------


@pytest.mark.parametrize("columns", ["60", "120"])
def test_explain_wraps_to_the_terminal(columns: str) -> None:
    result = CliRunner().invoke(
        cli, ["explain", DANIEL, str(sample_workbook()), "--trace"], env={"COLUMNS": columns}
    )
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= int(columns)
    assert "evidence_quality == Sufficient" in result.stdout  # --trace: the syntax lives here


def test_charts_have_text_alternatives(out: Path) -> None:
    html = (out / "summary.html").read_text(encoding="utf-8")
    figures = html.split("<figure>")[1:]
    assert figures
    for figure in figures:
        assert 'aria-hidden="true"' in figure.split("</svg>")[0]
        listed = figure.split('<ul class="sr-only">')[1].split("</ul>")[0]
        bars = re.findall(r"<text [^>]*>(\d+) \(", figure)
        assert [int(n) for n in re.findall(r": (\d+) \(", listed)] == [int(b) for b in bars]


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_meet_wcag_aa() -> None:
    css = (Path(__file__).parent.parent / "templates" / "_style.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6})", css))
    # Every text colour on every background it is used on (zero counts included).
    for fg in ("ink", "muted", "accent", "signal", "counter", "zero", "alert"):
        for bg in ("paper", "tint"):
            assert contrast(colours[fg], colours[bg]) >= 4.5, (fg, bg)
    assert contrast(colours["alert"], colours["alert-tint"]) >= 4.5
    assert contrast("#ffffff", colours["accent"]) >= 4.5  # the verdict chip


# --- the final review of issue 11 ---------------------------------------------------------

# An amount written after its number ('3,000 EUR'): money reads 'EUR 3,000' everywhere.
AMOUNT_THEN_CURRENCY = re.compile(r"\d [A-Z]{3}\b")


def _texts(out: Path) -> dict[str, str]:
    """Every text a person reads: summary, briefs, the results workbook's cells, and the
    allocation reasons in recommendations.json and trace.jsonl."""
    texts = {"summary.md": (out / "summary.md").read_text(encoding="utf-8")}
    for brief in (out / "briefs").glob("*.md"):
        texts[brief.name] = brief.read_text(encoding="utf-8")
    book = openpyxl.load_workbook(out / "recommendations.xlsx", read_only=True)
    for sheet in book:
        for row in sheet.iter_rows(values_only=True):
            texts[sheet.title] = texts.get(sheet.title, "") + " | ".join(map(str, row)) + "\n"
    texts["recommendations.json"] = (out / "recommendations.json").read_text(encoding="utf-8")
    texts["trace.jsonl"] = (out / "trace.jsonl").read_text(encoding="utf-8")
    return texts


def test_money_reads_one_way_everywhere(out: Path) -> None:
    texts = _texts(out)
    for name, text in texts.items():
        assert not AMOUNT_THEN_CURRENCY.search(text), (name, AMOUNT_THEN_CURRENCY.search(text))
    warned = "EUR 41,500 is committed against a budget of EUR 40,000: EUR 1,500 over"
    assert warned in texts["Warnings"]
    assert "EUR 1,500 over the budget" in texts["Budget"]
    assert "Seat 1 of 4; EUR 3,000 committed" in texts["summary.md"] + "".join(
        t for n, t in texts.items() if n.endswith(".md")
    )
    assert "budget exhausted: EUR 40,000 of EUR 40,000 already committed" in texts["trace.jsonl"]
    explained = CliRunner().invoke(cli, ["explain", KENJI, str(sample_workbook())])
    assert explained.exit_code == 0, explained.output
    flat = " ".join(explained.stdout.split())
    assert "EUR 41,500 is committed" in flat and not AMOUNT_THEN_CURRENCY.search(flat)


def test_risk_of_loss_section_shows_the_risk_and_the_impact(out: Path) -> None:
    summary = (out / "summary.md").read_text(encoding="utf-8")
    section = summary.split("### High risk of loss")[1].split("## ")[0]
    assert "- Chen Wei (00012): risk of loss High; impact of loss High" in section
    assert "- Ravi Shankar (00034): risk of loss High; impact of loss Medium" in section


def test_changes_differing_only_in_a_value_are_one_sentence(out: Path) -> None:
    kenji = manager_part(out, KENJI).split("## What would change the outcome")[1]
    interest = [x for x in kenji.splitlines() if "their stated career interest were" in x]
    assert (
        "- Gather evidence, if their stated career interest were “Lead people”, “Lead "
        "without managing” or “Undecided” (now “Grow as expert”)." in interest
    )
    assert sum("Gather evidence, if" in x for x in interest) == 1


@pytest.fixture(scope="module")
def chf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The sample with its Cycle sheet's currency CHF, and Grace O'Neill's own words (00017,
    recorded interest Lead without managing) just that interest: 'Lead without managing.'"""
    folder = tmp_path_factory.mktemp("chf")
    book = openpyxl.load_workbook(sample_workbook())
    cycle = book["Cycle"]
    header = [c.value for c in cycle[1]]
    cycle.cell(row=2, column=header.index("currency") + 1, value="CHF")
    employees = book["Employees"]
    columns = [c.value for c in employees[1]]
    for row in employees.iter_rows(min_row=2):
        if row[0].value == "00017":
            row[columns.index("aspiration_statement")].value = "Lead without managing."
    book.save(folder / "chf.xlsx")
    out = folder / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(folder / "chf.xlsx"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return _texts(out)


def test_the_currency_is_the_cycle_sheets(chf: dict[str, str]) -> None:
    for name, text in chf.items():
        assert "EUR" not in text and not AMOUNT_THEN_CURRENCY.search(text), name
    assert "CHF 1,500 over" in chf["Warnings"] and "CHF 40,000" in chf["summary.md"]


def test_interest_caveat_only_where_own_words_may_say_more(chf: dict[str, str]) -> None:
    # The caveat that the rules read the recorded interest, not the person's words, is
    # left out only when the words are that interest itself: whether free words agree
    # with it cannot be told reliably, so every other statement keeps it.
    caveat = "The rules read the recorded interest only, not their own words above"
    own = " ".join(chf["00017.md"].split())
    assert "Lead without managing." in own and caveat not in own
    assert caveat in " ".join(chf[f"{HENRIK}.md"].split())  # own words that say more
