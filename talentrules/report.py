"""Everything a run hands back to people: briefs, the panel summary, the results
workbook, recommendations.json and trace.jsonl.

The only module that imports jinja2. Templates see one documented dataclass per
document kind (``BriefContext``, ``SummaryContext``): every field carries help text
in its metadata, ``docs/outputs.md`` lists them, and a test keeps the two in step.
Workbook values reach the templates as plain data and are escaped on the way out:
HTML by Jinja's autoescape, Markdown by ``md_escape`` (applied to every ``{{ }}``),
terminal text by stripping control characters.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from talentrules.errors import OutputError
from talentrules.paths import default_templates_dir

SCHEMA_VERSION = 1
UNKNOWN = "not recorded"
CONFIDENTIAL = "Confidential: talent review. For the panel and the person's HR business partner."


def described(help: str) -> Any:
    """A dataclass field whose help text documents the template context."""
    return field(metadata={"help": help})


# --------------------------------------------------------------------------------------
# Template context: shared parts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentInfo:
    """What every document says about the run that produced it."""

    title: str = described("Document title, e.g. 'Justification brief: Ana Example'.")
    cycle_id: str = described("The cycle's identifier (Cycle!cycle_id), or 'not recorded'.")
    cycle_name: str = described("The cycle's name as the panel knows it, or 'not recorded'.")
    as_of: str = described("The cycle's as_of date (ISO), from which every age is measured.")
    input_file: str = described("File name of the workbook the run read.")
    rulebook: str = described("Rulebook folder name and the first 12 hex digits of its SHA-256.")
    tool: str = described("'talentrules' and its version.")
    confidentiality: str = described("The confidentiality line printed at the top of the document.")
    contact: str = described("Whom to ask for an explanation or to contest (Cycle!contact).")
    panel: tuple[str, ...] = described("Panel members from Cycle!panel, in the order given.")
    currency: str = described("Currency of budget and costs (Cycle!currency or the catalogue's).")


@dataclass(frozen=True)
class PersonRef:
    """A person named in a list: id, name, and where their brief is."""

    employee_id: str = described("The person's employee_id, as in the workbook.")
    name: str = described("The person's full name.")
    brief: str = described("Relative path of the person's HTML brief (briefs/<file>.html).")
    note: str = described("Why the person is in this list (e.g. the verdict or the risk).")


# --------------------------------------------------------------------------------------
# Brief
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonHeader:
    """Who the brief is about (Employees sheet)."""

    employee_id: str = described("employee_id, as in the workbook.")
    full_name: str = described("Full name.")
    job_title: str = described("Job title, or 'not recorded'.")
    org_unit: str = described("Team or organisation unit, or 'not recorded'.")
    job_level: str = described("Grade, or 'not recorded'.")
    location: str = described("Work location, or 'not recorded'.")
    manager: str = described("Manager's name and id, or 'not recorded'.")
    tenure: str = described("Time since hire in years and months, or 'not recorded'.")
    in_role: str = described("Time in the current role in years and months, or 'not recorded'.")
    current_track: str = described("The career track the person is on now.")
    people_manager: str = described("'Yes, N direct reports', 'No' or 'not recorded'.")
    cell: str = described("Provenance of the person's row, e.g. 'Employees!A7'.")


@dataclass(frozen=True)
class Snapshot:
    """The talent snapshot: ratings as the panel gave them, never a label."""

    performance: str = described("This cycle's rating with its scale label, e.g. '4 Exceeds'.")
    history: str = described("Ratings two cycles ago, one cycle ago and now, e.g. '3, 4, 4'.")
    trend: str = described("'up 1', 'down 2', 'steady' or 'not recorded'.")
    potential: str = described("Potential, e.g. '3 of 3', or 'not recorded'.")
    nine_box: str = described("The person's 9-box cell in words: performance band and potential.")
    readiness: str = described("Readiness for a bigger role, or 'not recorded'.")
    expertise: str = described("Expertise rating 1-5, or 'not recorded'.")
    policy_compliance: str = described("Policy compliance rating 1-5, or 'not recorded'.")
    risk_of_loss: str = described("Risk of loss (Low, Medium, High), or 'not recorded'.")
    impact_of_loss: str = described("Impact of loss (Low, Medium, High), or 'not recorded'.")


@dataclass(frozen=True)
class SignalLine:
    """One signal code the person has evidence for, summarised."""

    code: str = described("Signal code, e.g. 'H-DEV' or 'C-DER'.")
    meaning: str = described("What the code means (contract.SIGNALS).")
    counter: bool = described("True for a counter-signal (C-*).")
    episodes: int = described("Evidence rows with this code.")
    contexts: int = described("Distinct contexts they were seen in.")
    sources: int = described("Distinct independent sources.")
    non_self_sources: int = described("Distinct sources other than the person.")
    months_spanned: int = described("Months between the oldest and newest episode.")
    newest_age: str = described("Age of the newest episode in months at as_of, or 'not recorded'.")
    habitual: bool = described("True when the rulebook's `habitual` decision lists this code.")


@dataclass(frozen=True)
class EvidenceItem:
    """One observation from the Evidence sheet, cited by its cell."""

    cell: str = described("Where the observation is, e.g. 'Evidence!M14' (its observation cell).")
    evidence_id: str = described("evidence_id, or 'not recorded'.")
    code: str = described("Signal code.")
    meaning: str = described("What the signal code means.")
    observed_on: str = described("Date observed (ISO).")
    context: str = described("Where it happened, or 'not recorded'.")
    influence: str = described("What the influence rested on, or 'not recorded'.")
    initiated_by: str = described("Who started it, or 'not recorded'.")
    frequency: str = described("One-off, Occasional or Habitual, or 'not recorded'.")
    energy: str = described("How the person felt doing it, or 'not recorded'.")
    outcome: str = described("What it produced in others, or 'not recorded'.")
    source: str = described("Who reported it: source type and source id.")
    observation: str = described("The observation in the reporter's words, or 'not recorded'.")


@dataclass(frozen=True)
class HeartSection:
    """The heart verdict and the evidence behind it."""

    verdict: str = described("Strong, Emerging, Not evidenced or Insufficient evidence.")
    meaning: str = described("What the heart decision asks (decisions.yaml).")
    evidence_quality: str = described("The rulebook's judgement of the evidence, if it makes one.")
    habitual: tuple[str, ...] = described("Heart signal codes the person shows habitually.")
    reasons: tuple[str, ...] = described(
        "Rationale of the rule that set the verdict (or the default)."
    )
    signals: tuple[SignalLine, ...] = described("Heart signals (H-*) with evidence, by code.")
    counters: tuple[SignalLine, ...] = described("Counter-signals (C-*) with evidence, by code.")
    evidence: tuple[EvidenceItem, ...] = described("Every H-* observation, newest first.")
    counter_evidence: tuple[EvidenceItem, ...] = described("Every C-* observation, newest first.")


@dataclass(frozen=True)
class Nomination:
    """One 'who inspires you' nomination the person received."""

    reason: str = described("Position, Expertise or Personal.")
    comment: str = described("The nominator's words, or 'not recorded'.")
    cell: str = described("Where the nomination is, e.g. 'Nominations!C5'.")


@dataclass(frozen=True)
class TeamFigures:
    """The person's team figures from the Teams sheet."""

    size: str = described("People in the team.")
    on_time_rate: str = described("Share of commitments delivered on time, in %.")
    policy_incidents: str = described("Policy incidents in the cycle.")
    engagement: str = described("Engagement score, in %.")
    voluntary_attrition: str = described("Voluntary attrition, in %.")
    cell: str = described("Where the row is, e.g. 'Teams!A4'.")


@dataclass(frozen=True)
class InfluenceSection:
    """Inspiration profile (the seed's three kinds) and the management pattern."""

    inspiration: tuple[str, ...] = described("Position, Expert, Personal, or 'None evidenced'.")
    inspiration_notes: tuple[str, ...] = described("What each kind shown means, from the seed.")
    nominations: tuple[tuple[str, int], ...] = described(
        "(reason, distinct nominators) per reason."
    )
    nomination_comments: tuple[Nomination, ...] = described("Nominations with a comment, by cell.")
    influence: tuple[tuple[str, int], ...] = described(
        "(influence base, episodes) across evidence."
    )
    outcomes: tuple[tuple[str, int], ...] = described(
        "(outcome in others, episodes) across evidence."
    )
    management: str = described("The management pattern (decision `management`).")
    balance: str = described("The team's management-leadership balance (decision `balance`).")
    balance_advice: str = described("What the seed advises for that balance; empty if none.")
    team: TeamFigures | None = described("Team figures, or None when the person has no Teams row.")


@dataclass(frozen=True)
class Aspiration:
    """The person's own words and how the recommendation fits them."""

    career_interest: str = described("What the person says they want next, or 'not recorded'.")
    statement: str = described("The aspiration statement verbatim, or '' when blank.")
    cell: str = described("Where the statement is, e.g. 'Employees!T7'.")
    fit: str = described("One sentence: how the recommended track fits the stated interest.")


@dataclass(frozen=True)
class PlanItem:
    """One recommended investment, with its allocation status."""

    code: str = described("Catalogue code, e.g. 'LEAD-STRETCH'.")
    name: str = described("What the investment is.")
    track: str = described("Which track it serves.")
    mode: str = described("70/20/10 mode in words, e.g. '70 experience'.")
    cost: str = described("Cost per person with currency, or 'not recorded'.")
    duration: str = described("Duration in months, or 'not recorded'.")
    status: str = described("'Allocated', 'Waitlisted' or 'Not allocated' (overlays need no seat).")
    reason: str = described("Why: the allocation's reason, e.g. the seat or budget that ran out.")


@dataclass(frozen=True)
class FiredRule:
    """A rule that fired for the person, with the values it used."""

    id: str = described("Rule id.")
    decision: str = described("The decision it concludes.")
    outcome: str = described("The outcome it concludes.")
    title: str = described("The rule's title.")
    rationale: str = described("The rule's rationale, in plain language.")
    message: str = described("The rule's message rendered with the values it used, or ''.")
    values: tuple[str, ...] = described("'fact = value (cell)' for each value the conditions read.")
    overruled: bool = described("True when a higher-priority rule of the same decision won.")


@dataclass(frozen=True)
class NearMiss:
    """A rule that came close: what failed, and what would change the outcome."""

    id: str = described("Rule id.")
    decision: str = described("The decision it would conclude.")
    outcome: str = described("The outcome it would conclude.")
    title: str = described("The rule's title.")
    failed: str = described("The first failing condition and the value that failed it.")
    change: str = described("The single change that would make it fire, as a sentence, or ''.")


@dataclass(frozen=True)
class HowDecided:
    """How the recommendation was produced, and how to contest it."""

    fired: tuple[FiredRule, ...] = described("Rules that fired, in firing order.")
    defaulted: tuple[str, ...] = described("'decision: outcome' for decisions no rule decided.")
    near: tuple[NearMiss, ...] = described("Rules that came close (failed on one condition).")
    changes: tuple[str, ...] = described("What would change the outcome, as sentences.")
    contest: str = described("How to ask for an explanation or contest the recommendation.")


@dataclass(frozen=True)
class OverrideItem:
    """A panel decision, kept beside the recommendation, never in place of it."""

    field: str = described("What was overridden (heart, track, investment, ...).")
    recommended: str = described("What the rules recommended for that field.")
    decision: str = described("What the panel decided.")
    reason: str = described("Why the panel decided differently.")
    decided_by: str = described("The named panel member who decided.")
    decided_on: str = described("When (ISO date), or 'not recorded'.")
    cell: str = described("Where the override is, e.g. 'Overrides!C3'.")


@dataclass(frozen=True)
class BriefContext:
    """Everything a justification brief template (brief.*.j2) can use."""

    doc: DocumentInfo = described("The run: cycle, as_of, versions, confidentiality, contact.")
    person: PersonHeader = described("Who the brief is about.")
    headline: tuple[str, ...] = described(
        "The recommendation in three lines, the last one "
        "'This is a recommendation; the panel decides.'"
    )
    heart: str = described("The heart verdict (repeated here for templates' convenience).")
    track: str = described("The recommended track.")
    snapshot: Snapshot = described("Talent snapshot: ratings, 9-box, readiness, risk of loss.")
    evidence: HeartSection = described("Heart verdict with signal and counter-signal evidence.")
    influence: InfluenceSection = described("Inspiration profile and management pattern.")
    aspiration: Aspiration = described("The person's own words and how the recommendation fits.")
    plan: tuple[PlanItem, ...] = described("Development plan: recommended investments.")
    plan_mix: str = described("The plan's 70/20/10 mix in words, e.g. '2 experience, 1 course'.")
    risks: tuple[str, ...] = described("Risks the panel should weigh, as sentences.")
    gaps: tuple[str, ...] = described("Evidence gaps: what is missing or weak, as sentences.")
    how: HowDecided = described("How this was produced: rules, values, near misses, contest.")
    overrides: tuple[OverrideItem, ...] = described("Panel overrides for this person.")
    outcomes: tuple[tuple[str, str], ...] = described("(decision, outcome(s)) for every decision.")
    files: tuple[str, str] = described("Relative paths of this brief in HTML and Markdown.")


# --------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One bar of a distribution chart."""

    label: str = described("The category.")
    count: int = described("People in it.")
    percent: float = described("Share of the chart's total, 0-100, one decimal.")


@dataclass(frozen=True)
class Distribution:
    """A small bar chart with the numbers beside it."""

    title: str = described("Chart title.")
    total: int = described("People counted.")
    bars: tuple[Bar, ...] = described("Bars in the decision's outcome order, zeros included.")


@dataclass(frozen=True)
class GridCell:
    """One cell of a grid: a count and the people in it."""

    count: int = described("People in the cell.")
    people: tuple[PersonRef, ...] = described("The people (names shown in the panel edition only).")


@dataclass(frozen=True)
class Grid:
    """A grid of counts such as the 9-box (rows top to bottom, columns left to right)."""

    title: str = described("Grid title.")
    row_axis: str = described("What the rows measure.")
    col_axis: str = described("What the columns measure.")
    rows: tuple[str, ...] = described("Row labels, top row first.")
    cols: tuple[str, ...] = described("Column labels, left first.")
    cells: tuple[tuple[GridCell, ...], ...] = described("cells[row][col].")
    outside: int = described("People not placed because a rating is blank.")


@dataclass(frozen=True)
class SheetLine:
    """The row account of one sheet."""

    sheet: str = described("Contract sheet name.")
    found_as: str = described("Tab name in the workbook, or 'absent'.")
    read: int = described("Data rows read.")
    loaded: int = described("Rows loaded.")
    rejected: int = described("Rows rejected.")
    blank: int = described("Blank rows skipped.")


@dataclass(frozen=True)
class AllocationLine:
    """One investment: recommendations against seats and money."""

    code: str = described("Catalogue code.")
    name: str = described("What it is.")
    mode: str = described("70/20/10 mode in words.")
    seats: str = described("Seats available, or 'no limit'.")
    recommended: int = described("People it was recommended for.")
    allocated: int = described("People allocated a seat.")
    waitlisted: int = described("People waitlisted.")
    cost: str = described("Cost per person, or 'not recorded'.")
    committed: str = described("Money committed to the allocated seats.")


@dataclass(frozen=True)
class WaitItem:
    """A person waitlisted for an investment, and why."""

    person: PersonRef = described("The person waitlisted.")
    code: str = described("Investment code.")
    reason: str = described("Why they are waitlisted.")


@dataclass(frozen=True)
class BalanceLine:
    """One people manager's management-leadership balance."""

    person: PersonRef = described("The manager.")
    team_size: str = described("People in the team.")
    on_time_rate: str = described("On-time rate, %.")
    policy_incidents: str = described("Policy incidents.")
    engagement: str = described("Engagement, %.")
    balance: str = described("Balanced, Management-heavy, Rules unclear, Intervene, ...")
    advice: str = described("What the seed advises for that balance.")


@dataclass(frozen=True)
class OverrideLine:
    """A panel override, for the summary's list."""

    person: PersonRef = described("Whose recommendation.")
    item: OverrideItem = described("The override beside the recommendation.")


@dataclass(frozen=True)
class RejectedLine:
    """An input row that could not be used, with every reason."""

    sheet: str = described("Contract sheet name.")
    row: int = described("Excel row number.")
    reasons: tuple[str, ...] = described("Every reason, each naming its cell.")


@dataclass(frozen=True)
class RuleLine:
    """One rule of the rulebook, for the appendix."""

    id: str = described("Rule id.")
    decision: str = described("Decision it concludes.")
    outcome: str = described("Outcome it concludes.")
    title: str = described("Title.")
    rationale: str = described("Rationale.")
    where: str = described("file:line of the rule.")
    fired: int = described("People it fired for in this run.")


@dataclass(frozen=True)
class SummaryContext:
    """Everything a panel summary template (summary.*.j2) can use."""

    doc: DocumentInfo = described("The run: cycle, as_of, versions, confidentiality, contact.")
    panel_edition: bool = described("True: names appear in the grids (the panel's own copy).")
    people: int = described("People evaluated.")
    rejected_rows: int = described("Input rows rejected (only with --allow-rejects).")
    warnings_count: int = described("Validation warnings.")
    sheets: tuple[SheetLine, ...] = described("Row account per contract sheet.")
    distributions: tuple[Distribution, ...] = described(
        "Heart verdicts, tracks, readiness, inspiration: charts with numbers."
    )
    nine_box: Grid = described("Performance band (columns) against potential (rows), 3 x 3.")
    heart_grid: Grid = described("Heart verdict (rows) against performance rating (columns).")
    allocation: tuple[AllocationLine, ...] = described(
        "Every investment recommended or in the catalogue: seats and money."
    )
    budget: str = described("The cycle's budget, or 'no budget set'.")
    committed: str = described("Money committed to allocated investments.")
    remaining: str = described("Budget left, or 'not applicable'.")
    waitlist: tuple[WaitItem, ...] = described("Everyone waitlisted, with the reason.")
    insufficient: tuple[PersonRef, ...] = described(
        "People whose heart verdict is Insufficient evidence: gather evidence first."
    )
    conflicts: tuple[PersonRef, ...] = described(
        "Rating-evidence conflicts: high performance or "
        "potential without leadership evidence, or the "
        "reverse."
    )
    high_risk: tuple[PersonRef, ...] = described("People with high risk of loss.")
    balance: tuple[BalanceLine, ...] = described(
        "Management-leadership balance per people manager."
    )
    overrides: tuple[OverrideLine, ...] = described(
        "Every panel override, beside the recommendation."
    )
    rejected: tuple[RejectedLine, ...] = described("Every rejected input row with its reasons.")
    warnings: tuple[str, ...] = described("Every validation warning, naming its cell.")
    roster: tuple[PersonRef, ...] = described(
        "Everyone evaluated, with a link to their brief; the note holds heart verdict and track."
    )
    rules: tuple[RuleLine, ...] = described("The rule catalogue (appendix), in rulebook order.")


CONTEXT_TYPES: tuple[type, ...] = (BriefContext, SummaryContext)


# --------------------------------------------------------------------------------------
# Escaping and formatting
# --------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&$])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)](\s|$)))")


class MdText(Markup):
    """Text already escaped for Markdown; autoescape passes it through unchanged."""

    __slots__ = ()


def md_escape(value: object) -> str:
    """Make ``value`` show literally in Markdown (and the HTML Markdown becomes).

    Line breaks become spaces (values sit inline and in table cells); Markdown and
    HTML specials get a backslash; a leading list or heading marker is neutralised.
    """
    text = re.sub(r"\s+", " ", _CONTROL.sub(" ", str(value)))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    match = _MD_LINE_START.match(text)
    if match:
        text = f"{match.group(1)}\\{text[match.end(1) :]}"
        if match.group(2)[:1].isdigit():  # "1. item": escape the dot, not the digit
            digits = match.group(2)
            text = f"{match.group(1)}{digits}\\{text[len(match.group(1)) + 1 + len(digits) :]}"
    return text


def _md_finalize(value: object) -> object:
    # Runs before autoescape on every {{ }}: workbook text is Markdown-escaped and
    # marked safe so that markupsafe does not HTML-escape it a second time.
    if hasattr(value, "__html__"):
        return value
    return MdText(md_escape(value))


def _text_finalize(value: object) -> object:
    # Terminal output: a control character in a workbook cell must not drive the terminal.
    return _CONTROL.sub("?", str(value))


def _wrap(text: str, width: int = 80, indent: str = "", first: str | None = None) -> str:
    """Jinja filter for the terminal template: wrap to ``width`` columns."""
    import textwrap

    return textwrap.fill(
        " ".join(str(text).split()),
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )


def _md_cell(value: object) -> str:
    """Jinja filter: like the default escaping, for values built from several parts."""
    return MdText(md_escape(value))


def _html_id(value: object) -> str:
    """Jinja filter: a value usable as an HTML id/anchor."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", str(value))


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------

TEMPLATE_NAMES = ("brief.html.j2", "brief.md.j2", "summary.html.j2", "summary.md.j2")


class Renderer:
    """Compiled templates: the user's --templates folder first, then the packaged ones.

    The packaged templates are also reachable as ``default/NAME`` so that a user's
    template can ``{% extends "default/brief.html.j2" %}`` and override one block.
    One Environment per output language: HTML (autoescaped), Markdown (escaped by
    ``md_escape``) and terminal text (control characters stripped).
    """

    def __init__(self, templates_dir: Path | None = None) -> None:
        packaged = default_templates_dir()
        loaders: list[jinja2.BaseLoader] = []
        if templates_dir is not None:
            if not templates_dir.is_dir():
                raise OutputError(f"{templates_dir}: templates folder not found")
            loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
        loaders.append(jinja2.FileSystemLoader(str(packaged)))
        loader = jinja2.ChoiceLoader(
            [
                *loaders,
                jinja2.PrefixLoader({"default": jinja2.FileSystemLoader(str(packaged))}),
            ]
        )
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
            "auto_reload": False,
        }
        self.html = jinja2.Environment(autoescape=True, **common)
        self.markdown = jinja2.Environment(autoescape=True, finalize=_md_finalize, **common)
        self.text = jinja2.Environment(autoescape=False, finalize=_text_finalize, **common)
        for env in (self.html, self.markdown, self.text):
            env.filters["wrap"] = _wrap
            env.filters["anchor"] = _html_id
        self.markdown.filters["md"] = _md_cell
        self._cache: dict[str, jinja2.Template] = {}

    def template(self, name: str) -> jinja2.Template:
        """The compiled template ``name``; the language follows its extension."""
        if name not in self._cache:
            env = self.html if ".html" in name else self.markdown if ".md" in name else self.text
            try:
                self._cache[name] = env.get_template(name)
            except jinja2.TemplateSyntaxError as error:
                raise OutputError(
                    f"{error.filename or name}, line {error.lineno}: {error.message}"
                ) from error
            except jinja2.TemplateNotFound as error:
                raise OutputError(f"template {error.name} not found") from error
        return self._cache[name]

    def render(self, name: str, context: BriefContext | SummaryContext) -> str:
        """Render ``name`` with the context's fields as top-level variables."""
        variables = {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}
        try:
            return self.template(name).render(variables)
        except jinja2.UndefinedError as error:
            raise OutputError(f"{name}: {error.message}") from error


def help_texts(kind: type) -> Iterator[tuple[str, str]]:
    """Every (dotted field path, help text) of a context dataclass, depth first."""
    import typing

    hints = typing.get_type_hints(kind)
    for f in dataclasses.fields(kind):
        yield f.name, str(f.metadata.get("help", ""))
        pending, nested = [hints[f.name]], []
        while pending:  # unwrap tuple[...] and X | None down to dataclasses
            kind_ = pending.pop()
            if dataclasses.is_dataclass(kind_) and isinstance(kind_, type):
                nested.append(kind_)
            pending.extend(typing.get_args(kind_))
        for inner in nested:
            for name, text in help_texts(inner):
                yield f"{f.name}.{name}", text
