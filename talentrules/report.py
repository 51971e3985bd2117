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

import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import json
import os
import re
import signal as os_signal  # 'signal' is a domain word here (Evidence signals)
import stat
import threading
import time
import traceback
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

from talentrules import __version__, audit, processes
from talentrules.contract import EMPLOYEES, EVIDENCE, INVESTMENT_FIELD, NOMINATIONS, normalize
from talentrules.errors import OutputError
from talentrules.interrupt import quiet_worker
from talentrules.model import Row, Value
from talentrules.outdir import claim_outdir, discard, publish, workspace
from talentrules.paths import default_templates_dir
from talentrules.rulebook import Decision, Evaluation, Rule, Rulebook

if TYPE_CHECKING:
    from talentrules.decide import Override, Recommendation
    from talentrules.run import RunResult

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
    rulebook: str = described(
        "Rulebook folder (its path) and the first 12 hex digits of its SHA-256."
    )
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
    name: str = described("The signal's plain name from the catalogue, e.g. 'Develops others'.")
    meaning: str = described("What the signal means (the catalogue's description).")
    counter: bool = described("True for a counter-signal (the catalogue's kind counter).")
    episodes: int = described("Observed rows: reported by others, not stale (the rulebook's).")
    contexts: int = described("Distinct contexts they were observed in.")
    observers: int = described("Distinct independent observers other than the person.")
    self_reports: int = described("Rows the person reported about themself (never counted).")
    months_spanned: int = described("Months between the oldest and newest observed episode.")
    newest_age: str = described("Age of the newest observed episode in months, or 'not recorded'.")
    habitual: bool = described("True when the decision playing role habits lists this code.")


@dataclass(frozen=True)
class EvidenceItem:
    """One observation from the Evidence sheet, cited by its cell."""

    cell: str = described("Where the observation is, e.g. 'Evidence!M14' (its observation cell).")
    evidence_id: str = described("evidence_id, or 'not recorded'.")
    code: str = described("Signal code.")
    name: str = described("The signal's plain name from the catalogue ('' for an unknown code).")
    meaning: str = described("What the signal means (the catalogue's description).")
    counter: bool = described("True for a counter-signal.")
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

    verdict: str = described("The verdict: the outcome of the decision playing role verdict.")
    meaning: str = described("What the verdict decision asks (decisions.yaml).")
    verdict_meaning: str = described("What this verdict means (its outcome text), or ''.")
    evidence_quality: str = described("The rulebook's judgement of the evidence, if it makes one.")
    habitual: tuple[str, ...] = described("Heart signal codes the person shows habitually.")
    habitual_names: tuple[str, ...] = described("Their plain names, in the same order.")
    reasons: tuple[str, ...] = described(
        "Rationale of the rule that set the verdict (or the default)."
    )
    signals: tuple[SignalLine, ...] = described("Heart signals with evidence, catalogue order.")
    counters: tuple[SignalLine, ...] = described("Counter-signals with evidence, catalogue order.")
    evidence: tuple[EvidenceItem, ...] = described("Every heart-signal row, newest first.")
    counter_evidence: tuple[EvidenceItem, ...] = described(
        "Every counter-signal row, newest first."
    )


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
    inspiration_notes: tuple[str, ...] = described("What each kind shown means (outcome texts).")
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
    management: str = described("The management pattern (role management_pattern).")
    balance: str = described("The team's management-leadership balance (role team_balance).")
    balance_advice: str = described("What the rulebook advises for that balance; empty if none.")
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
    balance: str = described("The team's balance (the outcome of role team_balance).")
    advice: str = described("What the rulebook advises for that balance.")


@dataclass(frozen=True)
class ExceptionGroup:
    """One outcome of the decision playing role panel_exceptions, and who has it."""

    title: str = described("The outcome, e.g. 'Ratings and evidence disagree'.")
    meaning: str = described("What it means and asks of the panel (its outcome text).")
    people: tuple[PersonRef, ...] = described("Who has it; each note is the rule's message.")


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
class FairnessRow:
    """One group's selection under one measure (talentrules.audit)."""

    group: str = described("The group: a sex, a race/ethnicity, or 'sex / race/ethnicity'.")
    people: int = described("People evaluated in the group.")
    selected: int = described("Of them, selected under the measure.")
    rate: str = described("Selection rate in %, or '-' for a group too small or unknown.")
    ratio: str = described("Impact ratio (rate / highest rate) to 2 decimals, or '-'.")
    status: str = described("'reference' (highest rate), 'compared', 'too small' or 'unknown'.")
    flagged: bool = described("True when the impact ratio is below 0.80 (four-fifths rule).")


@dataclass(frozen=True)
class FairnessTable:
    """One measure by one grouping."""

    title: str = described("Measure and grouping, e.g. 'recommended for a leadership ...'.")
    rows: tuple[FairnessRow, ...] = described("Every group, compared or not.")
    note: str = described("Why there are no ratios, when there are none; else empty.")


@dataclass(frozen=True)
class FairnessSection:
    """The fairness monitor, from the restricted Demographics sheet only."""

    present: bool = described("False when the workbook has no Demographics sheet.")
    method: str = described("How rates and ratios are computed, and the minimum group size.")
    people: int = described("People evaluated.")
    unknowns: str = described("Counts of people without a record or with unknown categories.")
    tables: tuple[FairnessTable, ...] = described("Every measure by sex, race/ethnicity, both.")
    flagged: tuple[str, ...] = described("Every impact ratio below 0.80, as sentences.")


NO_FAIRNESS = FairnessSection(False, "", 0, "", (), ())


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
    exceptions: tuple[ExceptionGroup, ...] = described(
        "Whom the rulebook's exceptions (role panel_exceptions) ask the panel to look at, "
        "one group per outcome in the decision's order, empty groups included."
    )
    balance: tuple[BalanceLine, ...] = described(
        "Management-leadership balance per people manager."
    )
    overrides: tuple[OverrideLine, ...] = described(
        "Every panel override, beside the recommendation."
    )
    override_directions: tuple[tuple[str, int], ...] = described(
        "Applied overrides counted by 'field direction' (e.g. 'heart upgrade')."
    )
    override_deciders: tuple[tuple[str, int], ...] = described(
        "Applied overrides counted by the panel member who decided."
    )
    rejected: tuple[RejectedLine, ...] = described("Every rejected input row with its reasons.")
    warnings: tuple[str, ...] = described("Every validation warning, naming its cell.")
    roster: tuple[PersonRef, ...] = described(
        "Everyone evaluated, with a link to their brief; the note holds heart verdict and track."
    )
    rules: tuple[RuleLine, ...] = described("The rule catalogue (appendix), in rulebook order.")
    fairness: FairnessSection = field(
        default=NO_FAIRNESS,
        metadata={"help": "The fairness monitor (only when the workbook has Demographics)."},
    )


CONTEXT_TYPES: tuple[type, ...] = (BriefContext, SummaryContext)


# --------------------------------------------------------------------------------------
# Escaping and formatting
# --------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&$])")
_MD_PLAIN = re.compile(r"(?![-+=>\s]|\d+[.)](\s|$))[^\\`*_{}\[\]<>#|~&$\x00-\x1f\x7f-\x9f]*")
_MD_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)](\s|$)))")


def md_escape(value: object) -> str:
    """Make ``value`` show literally in Markdown (and the HTML Markdown becomes).

    Line breaks become spaces (values sit inline and in table cells); Markdown and
    HTML specials get a backslash; a leading list or heading marker is neutralised.
    """
    text = str(value)
    if _MD_PLAIN.fullmatch(text):  # the common case: nothing to escape
        return text
    text = re.sub(r"\s+", " ", _CONTROL.sub(" ", text))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    match = _MD_LINE_START.match(text)
    if match:
        text = f"{match.group(1)}\\{text[match.end(1) :]}"
        if match.group(2)[:1].isdigit():  # "1. item": escape the dot, not the digit
            digits = match.group(2)
            text = f"{match.group(1)}{digits}\\{text[len(match.group(1)) + 1 + len(digits) :]}"
    return text


@functools.lru_cache(maxsize=1 << 16)
def _md_cached(text: str) -> str:
    return md_escape(text)


def _md_finalize(value: object) -> object:
    # Runs on every {{ }} of a Markdown template: workbook text comes out escaped.
    # Text marked safe (|safe, Markup) passes unchanged; workbook values repeat a lot
    # (contexts, sources, outcomes), hence the cache.
    if hasattr(value, "__html__"):
        return value.__html__()
    if type(value) is int:
        return value
    return _md_cached(value if type(value) is str else str(value))


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


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------

TEMPLATE_NAMES = ("brief.html.j2", "brief.md.j2", "summary.html.j2", "summary.md.j2")
# CPU seconds one rendering of one template may take (docs/outputs.md): the packaged
# ones take milliseconds for a brief and about a second for a 10,000-person summary.
TEMPLATE_SECONDS = 20.0
MAX_TEMPLATE_BYTES = 1024 * 1024


class _TemplateTimeout(Exception):
    """A template rendering ran past TEMPLATE_SECONDS."""


_DEADLINE = threading.local()  # this thread's deadline (thread CPU clock), while rendering


def _time_up() -> NoReturn:
    """Raise the timeout once. In the main thread both the timer and the clock checks
    run, and Jinja spends a while rewriting the first one's traceback: the other must
    not fire inside that rewrite, where no template line is left to name."""
    _DEADLINE.at = None
    if threading.current_thread() is threading.main_thread():
        os_signal.setitimer(os_signal.ITIMER_PROF, 0)
    raise _TemplateTimeout


def _past_deadline() -> None:
    deadline = getattr(_DEADLINE, "at", None)
    if deadline is not None and time.thread_time() > deadline:
        _time_up()


def _on_timer(signum: int, frame: FrameType | None) -> None:
    _time_up()


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Stop a rendering after ``seconds`` of CPU. In the main thread (the CLI, each
    worker process) a CPU-time timer interrupts anything, even a loop that calls
    nothing; in other threads the sandbox checks the clock at every call a template
    makes (loops, macros, filters' methods)."""
    _DEADLINE.at = time.thread_time() + seconds
    timer = threading.current_thread() is threading.main_thread()
    if timer:
        previous = os_signal.signal(os_signal.SIGPROF, _on_timer)
        os_signal.setitimer(os_signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        if timer:
            os_signal.setitimer(os_signal.ITIMER_PROF, 0)
            os_signal.signal(os_signal.SIGPROF, previous)
        _DEADLINE.at = None


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox (no access to Python internals, no changing the data
    handed in), with the deadline checked at every call a template makes."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._safe: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Every attribute a template reads goes through here; Jinja's verdict depends
        # only on the object's type and the name (underscores, internals of functions,
        # frames and the like, methods that change lists and dicts), so it is kept.
        key = (type(obj), attr)
        safe = self._safe.get(key)
        if safe is None:
            safe = self._safe[key] = super().is_safe_attribute(obj, attr, value)
        return safe

    def call(
        __self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any
    ) -> Any:
        _past_deadline()
        return super().call(__context, __obj, *args, **kwargs)


class _FolderLoader(jinja2.BaseLoader):
    """Templates from one folder: regular files inside it only (a link out of it is
    refused unread), at most MAX_TEMPLATE_BYTES, UTF-8 (a bad byte named by line)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.real = folder.resolve()

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self.folder.joinpath(*split_template_path(template))
        try:
            info = path.stat()
            real = path.resolve()
        except FileNotFoundError:
            raise jinja2.TemplateNotFound(template) from None
        except (OSError, RuntimeError) as error:
            raise OutputError(f"{path}: cannot be read ({error})") from error
        if self.real not in real.parents:
            raise OutputError(f"{path}: is a link to a file outside the templates folder: not read")
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{path}: is not a regular file: not read as a template")
        if info.st_size > MAX_TEMPLATE_BYTES:
            raise OutputError(
                f"{path}: is {info.st_size:,} bytes, over the limit of {MAX_TEMPLATE_BYTES:,} "
                "for a template"
            )
        data = path.read_bytes()[: MAX_TEMPLATE_BYTES + 1]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise OutputError(f"{path}, line {line}: not UTF-8 text ({error.reason})") from error
        return text, str(path), lambda: True


def _template_line(error: BaseException, folder: Path) -> tuple[str, int] | None:
    """The innermost line of a template in ``folder`` on the error's traceback (Jinja
    rewrites tracebacks so that template lines show as frames of the template file)."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.endswith(".j2") and Path(frame.filename).parent.is_relative_to(folder):
            found = (frame.filename, frame.lineno or 0)
    return found


class Renderer:
    """Compiled templates: the user's --templates folder first, then the packaged ones.

    The packaged templates are also reachable as ``default/NAME`` so that a user's
    template can ``{% extends "default/brief.html.j2" %}`` and override one block.
    One Environment per output language: HTML (autoescaped), Markdown (escaped by
    ``md_escape``) and terminal text (control characters stripped). All three are
    Jinja's immutable sandbox: a template from --templates cannot reach Python
    (``cycler.__init__.__globals__``), change the data, read outside its folder or run
    longer than TEMPLATE_SECONDS; when it fails, the error names its file and line.
    """

    def __init__(self, templates_dir: Path | None = None) -> None:
        packaged = default_templates_dir()
        loaders: list[jinja2.BaseLoader] = []
        self.user: Path | None = None
        if templates_dir is not None:
            if not templates_dir.is_dir():
                raise OutputError(f"{templates_dir}: templates folder not found")
            self.user = templates_dir.resolve()
            loaders.append(_FolderLoader(templates_dir))
        loaders.append(_FolderLoader(packaged))
        loader = jinja2.ChoiceLoader(
            [*loaders, jinja2.PrefixLoader({"default": _FolderLoader(packaged)})]
        )
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
            "auto_reload": False,
        }
        self.html = _Sandbox(autoescape=True, **common)
        # Markdown: no HTML autoescape; finalize escapes each value once, for Markdown.
        self.markdown = _Sandbox(autoescape=False, finalize=_md_finalize, **common)
        self.text = _Sandbox(autoescape=False, finalize=_text_finalize, **common)
        for env in (self.html, self.markdown, self.text):
            env.filters["wrap"] = _wrap
        self._cache: dict[str, jinja2.Template] = {}
        self.templates_dir = templates_dir

    def __reduce__(self) -> tuple[type[Renderer], tuple[Path | None]]:
        # Compiled templates do not pickle: a spawned --jobs worker compiles its own.
        return (Renderer, (self.templates_dir,))

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
            except OutputError:
                raise
            except Exception as error:
                # Jinja folds constants while compiling and lets some errors through
                # ({{ (10 ** 10000) | string }}): a user template's, named by its file.
                source = self._source(env, name)
                if self.user is None or source is None or not source.is_relative_to(self.user):
                    raise
                raise OutputError(
                    f"{source}: cannot be compiled ({type(error).__name__}: {_first_line(error)})"
                ) from error
        return self._cache[name]

    @staticmethod
    def _source(env: jinja2.Environment, name: str) -> Path | None:
        try:
            filename = env.loader.get_source(env, name)[1] if env.loader else None
        except (jinja2.TemplateNotFound, OutputError):
            return None
        return Path(filename).resolve() if filename else None

    def render(self, name: str, context: BriefContext | SummaryContext) -> str:
        """Render ``name`` with the context's fields as top-level variables."""
        variables = {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}
        template = self.template(name)
        try:
            with _time_limit(TEMPLATE_SECONDS):
                return template.render(variables)
        except OutputError:  # a template file that cannot be read (an include)
            raise
        except _TemplateTimeout as error:
            where = self._where(error, name)
            raise OutputError(
                f"{where}: still rendering after {TEMPLATE_SECONDS:g} s of CPU, the limit "
                "per template (a loop that does not end?)"
            ) from error
        except jinja2.TemplateNotFound as error:  # an include or import
            where = self._where(error, name)
            raise OutputError(f"{where}: template {error.name} not found") from error
        except jinja2.TemplateError as error:  # undefined names, unsafe access...
            raise OutputError(f"{self._where(error, name)}: {error.message}") from error
        except Exception as error:
            # A template from --templates is code the panel wrote; whatever it raises
            # ({{ 1 // 0 }}, a macro calling itself) is its error, named by its line.
            # A packaged template failing is a bug of ours: it keeps its traceback.
            line = _template_line(error, self.user) if self.user else None
            if line is None:
                raise
            raise OutputError(
                f"{line[0]}, line {line[1]}: {type(error).__name__}: {_first_line(error)}"
            ) from error

    def _where(self, error: BaseException, name: str) -> str:
        for folder in (self.user, default_templates_dir().resolve()):
            line = _template_line(error, folder) if folder else None
            if line is not None:
                return f"{line[0]}, line {line[1]}"
        return name


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "(no message)"


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


# --------------------------------------------------------------------------------------
# Building the contexts from a run
# --------------------------------------------------------------------------------------

MODE_WORDS = {
    "70": "70 experience",
    "20": "20 relationship",
    "10": "10 course",
    "70/20": "70/20 experience and relationship",
    "70/10": "70/10 experience and course",
    "overlay": "overlay",
    "-": "not applicable",
}
STATUS_WORDS = {
    "allocated": "Allocated",
    "waitlisted": "Waitlisted",
    "refused": "Not allocated",
    "unavailable": "Not in this cycle's catalogue",
}
PERFORMANCE_WORDS = {
    1: "Does not meet",
    2: "Partially meets",
    3: "Meets",
    4: "Exceeds",
    5: "Far exceeds",
}


def shown(value: object) -> str:
    """A workbook value as a person reads it; blank is 'not recorded'."""
    if value is None or value == "":
        return UNKNOWN
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return (
            f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:,.0f}"
        )
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    return str(value)


def _months(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return UNKNOWN
    years, months = divmod(int(value), 12)
    parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
    if months or not parts:
        parts.append(f"{months} month{'s' if months != 1 else ''}")
    return " ".join(parts)


def _count(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _band(performance: object) -> int | None:
    """9-box column: 0 for ratings 1-2, 1 for 3, 2 for 4-5."""
    if not isinstance(performance, int | float) or isinstance(performance, bool):
        return None
    return 0 if performance < 3 else 1 if performance < 4 else 2


class Namer:
    """Safe, unique file names for employee ids: never a path outside OUTDIR.

    A plain id (letters, digits, ``.``, ``_``, ``-``; not a Windows reserved name; not
    clashing case-insensitively with another id) is its own name; anything else is a
    readable slug plus 10 hex digits of its SHA-256, so two ids never share a file.
    """

    _PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
    _RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?")

    def __init__(self, employee_ids: Iterable[str]) -> None:
        ids = sorted(set(employee_ids))
        folded = Counter(i.casefold() for i in ids)
        self.names: dict[str, str] = {}
        for employee_id in ids:
            plain = (
                self._PLAIN.fullmatch(employee_id) is not None
                and not self._RESERVED.fullmatch(employee_id)
                and not employee_id.endswith(".")
                and folded[employee_id.casefold()] == 1
            )
            self.names[employee_id] = employee_id if plain else self._encoded(employee_id)

    @staticmethod
    def _encoded(employee_id: str) -> str:
        digest = hashlib.sha256(employee_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        ascii_ = unicodedata.normalize("NFKD", employee_id).encode("ascii", "ignore").decode()
        slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_).strip("-")[:40] or "id"
        return f"{slug}-{digest}"

    def brief(self, employee_id: str, extension: str) -> str:
        """Relative path of a person's brief, e.g. ``briefs/E0001.html``."""
        return f"briefs/{self.names[employee_id]}.{extension}"


class ContextBuilder:
    """Turns a RunResult into template contexts; indexes the rows once per run."""

    def __init__(self, result: RunResult, namer: Namer | None = None) -> None:
        self.result = result
        self.rulebook = result.rulebook
        self.rules = {rule.id: rule for rule in result.rulebook.rules}
        self.namer = namer or Namer(result.employees)
        panel = result.panel
        self.evidence = self._group(panel.rows.get("Evidence", []), "employee_id")
        self.nominations = self._group(panel.rows.get("Nominations", []), "nominee_id")
        self.teams = {str(row.get("manager_id")): row for row in panel.rows.get("Teams", [])}
        self.catalogue = result.decisions.catalogue
        budget = result.decisions.allocation.budget
        self.budget = budget
        self.currency = budget.currency or result.decisions.catalogue.currency or ""
        cycle = panel.cycle
        self.doc = DocumentInfo(
            title="",
            cycle_id=shown(cycle.get("cycle_id") if cycle else None),
            cycle_name=shown(cycle.get("cycle_name") if cycle else None),
            as_of=shown(panel.as_of),
            input_file=panel.path.name,
            rulebook=rulebook_label(result.rulebook),
            tool=f"talentrules {__version__}",
            confidentiality=CONFIDENTIAL,
            contact=str(cycle.get("contact"))
            if cycle and cycle.get("contact")
            else ("the panel's HR business partner"),
            panel=tuple(
                part.strip() for part in str(cycle.get("panel") or "").split(";") if part.strip()
            )
            if cycle
            else (),
            currency=self.currency,
        )
        self._messages: dict[str, jinja2.Template] = {}
        self._sandbox = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
        # The decisions behind each part of a brief, found by their role in rules/.
        rulebook = result.rulebook
        self.verdict = rulebook.role("verdict")
        self.habits = rulebook.role("habits")
        self.quality = rulebook.role("evidence")
        self.inspiration = rulebook.role("inspiration_profile")
        self.management = rulebook.role("management_pattern")
        self.balance = rulebook.role("team_balance")
        self.track = rulebook.role("development_track")
        self.exceptions = rulebook.role("panel_exceptions")
        self.signals = rulebook.signals

    def __reduce__(self) -> tuple[type[ContextBuilder], tuple[RunResult, Namer]]:
        # The sandbox and its compiled messages do not pickle: a spawned worker
        # builds its own from the run.
        return (ContextBuilder, (self.result, self.namer))

    @staticmethod
    def _group(rows: Sequence[Row], column: str) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = {}
        for row in rows:
            grouped.setdefault(str(row.get(column)), []).append(row)
        return grouped

    def money(self, value: float | None) -> str:
        if value is None:
            return UNKNOWN
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        return f"{self.currency} {text}".strip()

    def ref(self, employee_id: str, note: str = "") -> PersonRef:
        row = self.result.employees.get(employee_id)
        name = shown(row.get("full_name")) if row else employee_id
        return PersonRef(employee_id, name, self.namer.brief(employee_id, "html"), note)

    # --- brief ---------------------------------------------------------------------

    def brief(self, index: int) -> BriefContext:
        """The brief context of the index-th evaluated person (employee_id order)."""
        res = self.result.results[index]
        employee_id = res.employee_id
        row = self.result.employees[employee_id]
        values = self.result.facts[employee_id].values
        outcomes = res.evaluation.outcomes
        trace = res.trace
        recommendation = self.result.decisions.recommendations.get(employee_id)

        person = self._person(row)
        heart, track = _one(self.verdict, outcomes), _one(self.track, outcomes)
        plan = self._plan(recommendation)
        evidence = self._heart(employee_id, values, outcomes, res.evaluation)
        habitual = ", ".join(evidence.habitual_names)
        headline = (
            f"{_heading(self.verdict, 'Verdict')}: {heart}"
            + (f", habitual: {habitual}." if habitual else ".")
            + f" {_heading(self.quality, 'Evidence quality')}: {evidence.evidence_quality}.",
            f"{_heading(self.track, 'Recommended track')}: {track}. "
            + (
                "Invest in " + ", ".join(f"{p.code} ({p.status.lower()})" for p in plan) + "."
                if plan
                else "No development investment this cycle."
            ),
            "This is a recommendation; the panel decides.",
        )
        return BriefContext(
            doc=dataclasses.replace(self.doc, title=f"Justification brief: {person.full_name}"),
            person=person,
            headline=headline,
            heart=heart,
            track=track,
            snapshot=self._snapshot(row, values),
            evidence=evidence,
            influence=self._influence(employee_id, values, outcomes),
            aspiration=self._aspiration(row, values, track),
            plan=plan,
            plan_mix=self._mix(plan),
            risks=self._risks(values, outcomes),
            gaps=self._gaps(row, values, outcomes),
            how=self._how(trace, res.evaluation, values),
            overrides=self._overrides(recommendation),
            outcomes=tuple((name, ", ".join(value)) for name, value in outcomes.items()),
            files=(self.namer.brief(employee_id, "html"), self.namer.brief(employee_id, "md")),
        )

    def _person(self, row: Row) -> PersonHeader:
        manager_id = row.get("manager_id")
        manager = UNKNOWN
        if isinstance(manager_id, str):
            boss = self.result.employees.get(manager_id)
            manager = f"{shown(boss.get('full_name'))} ({manager_id})" if boss else manager_id
        managing = row.get("is_people_manager")
        reports = row.get("direct_reports")
        if managing is True:
            people = "Yes" + (f", {shown(reports)} direct reports" if reports is not None else "")
        else:
            people = shown(managing)
        return PersonHeader(
            employee_id=str(row.get("employee_id")),
            full_name=shown(row.get("full_name")),
            job_title=shown(row.get("job_title")),
            org_unit=shown(row.get("org_unit")),
            job_level=shown(row.get("job_level")),
            location=shown(row.get("location")),
            manager=manager,
            tenure=_months(
                self.result.facts[str(row.get("employee_id"))].values.get("tenure_months")
            ),
            in_role=_months(
                self.result.facts[str(row.get("employee_id"))].values.get("months_in_role")
            ),
            current_track=shown(row.get("current_track")),
            people_manager=people,
            cell=row.ref("employee_id"),
        )

    def _snapshot(self, row: Row, values: Mapping[str, Value]) -> Snapshot:
        performance = row.get("performance")
        history = ", ".join(
            shown(row.get(c)) for c in ("performance_prior_2", "performance_prior_1", "performance")
        )
        trend = values.get("performance_trend")
        if isinstance(trend, int | float) and not isinstance(trend, bool):
            trend_text = (
                "steady" if trend == 0 else f"{'up' if trend > 0 else 'down'} {abs(trend):g}"
            )
        else:
            trend_text = UNKNOWN
        potential = row.get("potential")
        band = _band(performance)
        if band is None or potential is None:
            nine = "not placed: a rating is blank"
        else:
            nine = (
                f"performance band {('1-2', '3', '4-5')[band]}, potential {shown(potential)} of 3"
            )
        perf_text = UNKNOWN
        if isinstance(performance, int | float) and not isinstance(performance, bool):
            perf_text = (
                f"{shown(performance)} {PERFORMANCE_WORDS.get(int(performance), '')}".strip()
            )
        return Snapshot(
            performance=perf_text,
            history=history,
            trend=trend_text,
            potential=f"{shown(potential)} of 3" if potential is not None else UNKNOWN,
            nine_box=nine,
            readiness=shown(row.get("readiness")),
            expertise=shown(row.get("expertise")),
            policy_compliance=shown(row.get("policy_compliance")),
            risk_of_loss=shown(row.get("risk_of_loss")),
            impact_of_loss=shown(row.get("impact_of_loss")),
        )

    def _heart(
        self,
        employee_id: str,
        values: Mapping[str, Value],
        outcomes: Mapping[str, tuple[str, ...]],
        evaluation: Evaluation,
    ) -> HeartSection:
        shown_habits = _outcomes_of(self.habits, outcomes)
        habitual = tuple(c for c in shown_habits if c in self.signals)
        lines: list[SignalLine] = []
        for code, signal in self.signals.items():
            episodes = _count(values.get(f"{code}.episodes"))
            self_reports = _count(values.get(f"{code}.self_reports"))
            if not episodes and not self_reports:
                continue
            lines.append(
                SignalLine(
                    code=code,
                    name=signal.name,
                    meaning=signal.description,
                    counter=signal.counter,
                    episodes=episodes,
                    contexts=_count(values.get(f"{code}.contexts")),
                    observers=_count(values.get(f"{code}.observers")),
                    self_reports=self_reports,
                    months_spanned=_count(values.get(f"{code}.months_spanned")),
                    newest_age=shown(values.get(f"{code}.newest_age_months")),
                    habitual=code in habitual,
                )
            )
        items = [self._evidence_item(r) for r in self.evidence.get(employee_id, [])]
        items.sort(key=lambda e: e.observed_on, reverse=True)
        decision = self.verdict
        verdict = _one(decision, outcomes)
        won = [
            self.rules[r]
            for r in evaluation.fired
            if decision is not None
            and r in self.rules
            and self.rules[r].decision == decision.name
            and r not in evaluation.overruled.get(decision.name, ())
        ]
        reasons = tuple(rule.rationale for rule in won) or (
            (f"No rule decided the verdict, so the rulebook's default applies: {verdict}.",)
        )
        return HeartSection(
            verdict=verdict,
            meaning=decision.meaning if decision else "",
            verdict_meaning=decision.text(verdict, "meaning") if decision else "",
            evidence_quality=_one(self.quality, outcomes),
            habitual=habitual,
            habitual_names=tuple(self.signals[c].name for c in habitual),
            reasons=reasons,
            signals=tuple(s for s in lines if not s.counter),
            counters=tuple(s for s in lines if s.counter),
            evidence=tuple(e for e in items if not e.counter),
            counter_evidence=tuple(e for e in items if e.counter),
        )

    def _evidence_item(self, row: Row) -> EvidenceItem:
        code = str(row.get("signal"))
        signal = self.signals.get(code)
        observation = row.cells.get("observation")
        cell = (
            observation.ref if observation is not None and observation.known else row.ref("signal")
        )
        source = " ".join(
            shown(v) for v in (row.get("source_type"), row.get("source_id")) if v is not None
        )
        return EvidenceItem(
            cell=cell,
            evidence_id=shown(row.get("evidence_id")),
            code=code,
            name=signal.name if signal else "",
            meaning=signal.description if signal else "",
            counter=signal.counter if signal else False,
            observed_on=shown(row.get("observed_on")),
            context=shown(row.get("context")),
            influence=shown(row.get("influence_base")),
            initiated_by=shown(row.get("initiated_by")),
            frequency=shown(row.get("frequency")),
            energy=shown(row.get("energy")),
            outcome=shown(row.get("outcome_in_others")),
            source=source or UNKNOWN,
            observation=shown(row.get("observation")),
        )

    def _influence(
        self, employee_id: str, values: Mapping[str, Value], outcomes: Mapping[str, tuple[str, ...]]
    ) -> InfluenceSection:
        inspiration = _outcomes_of(self.inspiration, outcomes)
        notes = tuple(
            note
            for kind in inspiration
            if self.inspiration is not None and (note := self.inspiration.text(kind, "meaning"))
        )
        comments = tuple(
            Nomination(shown(r.get("reason")), shown(r.get("comment")), r.ref("comment"))
            for r in self.nominations.get(employee_id, [])
            if r.get("comment")
        )
        balance = _one(self.balance, outcomes)
        team_row = self.teams.get(employee_id)
        team = None
        if team_row is not None:
            team = TeamFigures(
                size=shown(team_row.get("team_size")),
                on_time_rate=_percent(team_row.get("on_time_rate")),
                policy_incidents=shown(team_row.get("policy_incidents")),
                engagement=_percent(team_row.get("engagement")),
                voluntary_attrition=_percent(team_row.get("voluntary_attrition")),
                cell=team_row.ref("manager_id"),
            )
        return InfluenceSection(
            inspiration=inspiration,
            inspiration_notes=notes,
            nominations=self._tally("nominations", NOMINATION_REASONS, values),
            nomination_comments=comments,
            influence=self._tally("influence", INFLUENCE_BASES, values),
            outcomes=self._tally("outcome", OUTCOMES_IN_OTHERS, values),
            management=_one(self.management, outcomes),
            balance=balance,
            balance_advice=self.balance.text(balance, "advice") if self.balance else "",
            team=team,
        )

    def _tally(
        self, prefix: str, labels: Sequence[str], values: Mapping[str, Value]
    ) -> tuple[tuple[str, int], ...]:
        """(label, count) for each vocabulary fact ``prefix.NAME``, labelled by the workbook
        value NAME stands for (``influence.rules`` -> 'Rules and monitoring')."""
        found = []
        for name in self.rulebook.vocabulary:
            head, _, key = name.partition(".")
            if head != prefix or not key:
                continue
            label = next((v for v in labels if normalize(v).startswith(normalize(key))), None)
            if label is not None:
                found.append((label, _count(values.get(name))))
        return tuple(found)

    def _aspiration(self, row: Row, values: Mapping[str, Value], track: str) -> Aspiration:
        decision = self.track
        interest = values.get(decision.interest) if decision and decision.interest else None
        statement = row.get("aspiration_statement")
        fit = ""
        if decision is not None:
            fit = decision.interest_text(track, str(interest) if interest is not None else None)
        cell = row.cells.get("aspiration_statement")
        return Aspiration(
            career_interest=shown(interest),
            statement=str(statement) if statement else "",
            cell=cell.ref if cell is not None else "",
            fit=fit,
        )

    def _plan(self, recommendation: Recommendation | None) -> tuple[PlanItem, ...]:
        if recommendation is None:
            return ()
        items = []
        for allotment in recommendation.allocation:
            investment = self.catalogue.get(allotment.code)
            status = STATUS_WORDS.get(allotment.status, allotment.status)
            if investment is None:
                items.append(
                    PlanItem(
                        allotment.code,
                        UNKNOWN,
                        UNKNOWN,
                        UNKNOWN,
                        UNKNOWN,
                        UNKNOWN,
                        status,
                        allotment.reason,
                    )
                )
                continue
            items.append(
                PlanItem(
                    code=allotment.code,
                    name=shown(investment.name),
                    track=shown(investment.track),
                    mode=MODE_WORDS.get(str(investment.mode), shown(investment.mode)),
                    cost=self.money(investment.cost_per_person),
                    duration=shown(investment.duration_months),
                    status=status,
                    reason=allotment.reason,
                )
            )
        return tuple(items)

    @staticmethod
    def _mix(plan: Sequence[PlanItem]) -> str:
        counts: Counter[str] = Counter()
        for item in plan:
            for part, word in (("70", "experience"), ("20", "relationship"), ("10", "course")):
                if item.mode.startswith(part) or f"/{part}" in item.mode.split(" ")[0]:
                    counts[word] += 1
        if not counts:
            return "no 70/20/10 investment"
        return ", ".join(
            f"{counts[w]} {w}" for w in ("experience", "relationship", "course") if counts[w]
        )

    def _risks(
        self, values: Mapping[str, Value], outcomes: Mapping[str, tuple[str, ...]]
    ) -> tuple[str, ...]:
        """The risk texts of the person's outcomes (every decision), then each
        counter-signal observed with the route the catalogue gives it."""
        risks = [
            text
            for decision in self.rulebook.decisions.values()
            for outcome in outcomes.get(decision.name, ())
            if (text := decision.text(outcome, "risk"))
        ]
        for code, signal in self.signals.items():
            if not signal.counter:
                continue
            episodes = _count(values.get(f"{code}.episodes"))
            if episodes:
                risks.append(
                    f"{signal.name} ({code}: {signal.description.rstrip('.')}) observed by "
                    f"others in {episodes} episode{'s' if episodes != 1 else ''}: "
                    f"{signal.route}."
                )
        withdrawn = _count(values.get("development.withdrawn"))
        if withdrawn:
            risks.append(
                f"Withdrew from {withdrawn} development investment"
                f"{'s' if withdrawn != 1 else ''} before."
            )
        return tuple(risks)

    def _gaps(
        self, row: Row, values: Mapping[str, Value], outcomes: Mapping[str, tuple[str, ...]]
    ) -> tuple[str, ...]:
        """The gap texts of the evidence judgement and of the verdict, then what the
        workbook leaves blank."""
        gaps = [
            text
            for decision in (self.quality, self.verdict)
            if decision is not None
            for outcome in outcomes.get(decision.name, ())
            if (text := decision.text(outcome, "gap"))
        ]
        for column in ("performance", "potential", "readiness", "career_interest"):
            cell = row.cells.get(column)
            if cell is not None and not cell.known:
                gaps.append(
                    f"{column.replace('_', ' ').capitalize()} is not recorded ({cell.ref})."
                )
        if values.get("has_aspiration_statement") is False:
            gaps.append(
                "No aspiration statement: ask the person, in their own words, what they want next."
            )
        if self.result.panel.rows.get("Nominations") and not _count(
            values.get("nominations.total")
        ):
            gaps.append("No 'who inspires you' nomination received.")
        return tuple(gaps)

    def _message(
        self,
        rule: Rule,
        conditions: Sequence[Mapping[str, Any]],
        values: Mapping[str, Value] | None = None,
    ) -> str:
        """The rule's message, rendered with the values its conditions read (by their
        last name part: ``episodes``), and every fact of the person as ``facts``."""
        if not rule.message:
            return ""
        variables: dict[str, Any] = {}
        for c in conditions:
            fact = str(c.get("fact"))
            variables.setdefault(fact.rsplit(".", 1)[-1].replace("-", "_"), c.get("actual"))
        variables["facts"] = {
            **(values or {}),
            **{str(c.get("fact")): c.get("actual") for c in conditions},
        }
        try:
            if rule.id not in self._messages:
                self._messages[rule.id] = self._sandbox.from_string(rule.message)
            return self._messages[rule.id].render(variables)
        except jinja2.TemplateError as error:
            return f"(message of rule {rule.id} could not be rendered: {error})"

    def _how(
        self, trace: Mapping[str, Any], evaluation: Evaluation, values: Mapping[str, Value]
    ) -> HowDecided:
        overruled = {r for ids in evaluation.overruled.values() for r in ids}
        fired = []
        cells_of: Mapping[str, Sequence[str]] = trace.get("cells", {})
        for entry in trace.get("fired", []):
            rule = self.rules.get(str(entry.get("rule")))
            if rule is None:
                continue
            conditions = entry.get("conditions", [])
            used = []
            for c in conditions:
                cells = list(cells_of.get(str(c.get("fact")), ()))
                where = ", ".join(cells[:3]) + (
                    f" +{len(cells) - 3} more" if len(cells) > 3 else ""
                )
                used.append(
                    f"{c.get('fact')} = {c.get('shown')}" + (f" ({where})" if where else "")
                )
            fired.append(
                FiredRule(
                    id=rule.id,
                    decision=rule.decision,
                    outcome=rule.then,
                    title=rule.title,
                    rationale=rule.rationale,
                    message=self._message(rule, conditions, values),
                    values=tuple(dict.fromkeys(used)),
                    overruled=rule.id in overruled,
                )
            )
        defaulted = tuple(
            f"{name}: {', '.join(evaluation.outcomes.get(name, ()))}"
            for name in evaluation.defaulted
        )
        failed_by_rule: dict[str, str] = {}
        for decision in trace.get("decisions", {}).values():
            for miss in decision.get("not_fired", []):
                failed = miss.get("failed")
                if failed:
                    at = ", ".join(list(cells_of.get(str(failed.get("fact")), ()))[:3])
                    failed_by_rule[str(miss.get("rule"))] = (
                        f"{failed.get('condition')} (was {failed.get('shown')}"
                        + (f", {at}" if at else "")
                        + ")"
                    )
        near = []
        changes = []
        seen: set[str] = set()
        counterfactuals = sorted(
            trace.get("counterfactuals", []), key=lambda c: not c.get("changes_outcome")
        )
        for cf in counterfactuals:
            rule = self.rules.get(str(cf.get("rule")))
            if rule is None or rule.id in seen:
                continue
            seen.add(rule.id)
            sentence = str(cf.get("sentence", ""))
            near.append(
                NearMiss(
                    rule.id,
                    rule.decision,
                    rule.then,
                    rule.title,
                    failed_by_rule.get(rule.id, str(cf.get("condition", ""))),
                    sentence,
                )
            )
            if cf.get("changes_outcome"):
                changes.append(sentence[:1].upper() + sentence[1:] + ".")
        contest = (
            f"ask {self.doc.contact} for an explanation of this recommendation or to contest "
            "it; the panel reviews the evidence and the rules named here, and a named panel "
            "member decides."
        )
        return HowDecided(tuple(fired), defaulted, tuple(near), tuple(changes), contest)

    def _overrides(self, recommendation: Recommendation | None) -> tuple[OverrideItem, ...]:
        if recommendation is None:
            return ()
        return tuple(self._override(o) for o in recommendation.overrides)

    @staticmethod
    def _override(o: Override) -> OverrideItem:
        field_name = o.field + (f" {o.target}" if o.target else "")
        reason = o.reason + (f" (superseded by {o.superseded_by})" if o.superseded_by else "")
        return OverrideItem(
            field=field_name,
            recommended=", ".join(o.recommended) or UNKNOWN,
            decision=", ".join(o.decision) or UNKNOWN,
            reason=reason,
            decided_by=o.decided_by,
            decided_on=shown(o.decided_on),
            cell=o.refs.get("decision") or next(iter(o.refs.values()), ""),
        )

    # --- summary -------------------------------------------------------------------

    def summary(self, panel_edition: bool = True) -> SummaryContext:
        """The panel summary's context."""
        result = self.result
        decisions = result.decisions
        people = result.results
        outcome_of = {r.employee_id: r.evaluation.outcomes for r in people}

        def distribution(decision: Decision | None) -> Distribution | None:
            if decision is None:
                return None
            counts: Counter[str] = Counter()
            for outcomes in outcome_of.values():
                counts.update(outcomes.get(decision.name, ()))
            title = decision.heading + (
                " (a person may have several)" if decision.policy == "collect" else ""
            )
            return self._distribution(title, counts, decision.outcomes, len(people))

        readiness: Counter[str] = Counter(
            shown(result.employees[r.employee_id].get("readiness")) for r in people
        )
        readiness_order = [*EMPLOYEE_ENUMS["readiness"], UNKNOWN]
        charts = (
            distribution(self.verdict),
            distribution(self.track),
            self._distribution("Readiness", readiness, readiness_order, len(people)),
            distribution(self.inspiration),
        )
        distributions = tuple(chart for chart in charts if chart is not None)
        nine: list[list[list[PersonRef]]] = [[[] for _ in range(3)] for _ in range(3)]
        nine_outside = 0
        hearts = list(self.verdict.outcomes) if self.verdict else []
        heart_cells: list[list[list[PersonRef]]] = [[[] for _ in range(5)] for _ in hearts]
        heart_outside = 0
        flagged: dict[str, list[PersonRef]] = {}
        balance_lines = []
        roster = []
        for r in people:
            row = result.employees[r.employee_id]
            outcomes = r.evaluation.outcomes
            heart = _one(self.verdict, outcomes, "")
            track = _one(self.track, outcomes, "")
            ref = self.ref(r.employee_id, f"{heart}; {track}")
            roster.append(ref)
            performance, potential = row.get("performance"), row.get("potential")
            band = _band(performance)
            if band is None or not isinstance(potential, int | float):
                nine_outside += 1
            else:
                nine[3 - int(potential)][band].append(ref)
            if (
                isinstance(performance, int | float)
                and not isinstance(performance, bool)
                and heart in hearts
            ):
                heart_cells[hearts.index(heart)][int(performance) - 1].append(ref)
            else:
                heart_outside += 1
            for outcome, note in self._exceptions(r.evaluation, r.trace).items():
                flagged.setdefault(outcome, []).append(self.ref(r.employee_id, note))
            balance = _one(self.balance, outcomes, "")
            team = self.teams.get(r.employee_id)
            default = self.balance.default if self.balance else ""
            if self.balance is not None and (team is not None or balance not in (default, "")):
                balance_lines.append(
                    BalanceLine(
                        person=self.ref(r.employee_id),
                        team_size=shown(team.get("team_size")) if team else UNKNOWN,
                        on_time_rate=_percent(team.get("on_time_rate")) if team else UNKNOWN,
                        policy_incidents=shown(team.get("policy_incidents")) if team else UNKNOWN,
                        engagement=_percent(team.get("engagement")) if team else UNKNOWN,
                        balance=balance,
                        advice=self.balance.text(balance, "advice"),
                    )
                )
        exceptions = (
            tuple(
                ExceptionGroup(
                    outcome,
                    self.exceptions.text(outcome, "meaning"),
                    tuple(flagged.get(outcome, ())),
                )
                for outcome in (self.exceptions.outcomes if self.exceptions else ())
                if outcome != self.exceptions.default
            )
            if self.exceptions
            else ()
        )

        def grid(
            title: str,
            rows: Sequence[str],
            cols: Sequence[str],
            cells: list[list[list[PersonRef]]],
            outside: int,
            axes: tuple[str, str],
        ) -> Grid:
            return Grid(
                title=title,
                row_axis=axes[0],
                col_axis=axes[1],
                rows=tuple(rows),
                cols=tuple(cols),
                cells=tuple(tuple(GridCell(len(c), tuple(c)) for c in line) for line in cells),
                outside=outside,
            )

        allocation = decisions.allocation
        recommended: Counter[str] = Counter(a.code for a in allocation.allotments)
        lines = []
        for total in allocation.totals:
            investment = self.catalogue.get(total.code)
            lines.append(
                AllocationLine(
                    code=total.code,
                    name=shown(investment.name) if investment else UNKNOWN,
                    mode=MODE_WORDS.get(str(investment.mode), shown(investment.mode))
                    if investment
                    else UNKNOWN,
                    seats="no limit" if total.seats is None else str(total.seats),
                    recommended=recommended[total.code],
                    allocated=total.allocated,
                    waitlisted=total.waitlisted,
                    cost=self.money(investment.cost_per_person) if investment else UNKNOWN,
                    committed=self.money(total.committed),
                )
            )
        waitlist = tuple(
            WaitItem(self.ref(a.employee_id), a.code, a.reason)
            for a in allocation.allotments
            if a.status == "waitlisted"
        )
        remaining = allocation.remaining
        overrides = tuple(
            OverrideLine(self.ref(o.employee_id), self._override(o)) for o in decisions.overrides
        )
        counts = decisions.override_counts()
        problems = result.problems
        warnings = tuple(str(p) for p in problems if p.severity == "warning")
        fired: Counter[str] = Counter(rule for r in people for rule in r.evaluation.fired)
        return SummaryContext(
            doc=dataclasses.replace(self.doc, title=f"Panel summary: {self.doc.cycle_name}"),
            panel_edition=panel_edition,
            people=len(people),
            rejected_rows=len(result.panel.rejected),
            warnings_count=len(warnings),
            sheets=tuple(
                SheetLine(a.sheet, a.found_as or "absent", a.read, a.loaded, a.rejected, a.blank)
                for a in result.panel.accounts
            ),
            distributions=distributions,
            nine_box=grid(
                "9-box: performance against potential",
                ("3", "2", "1"),
                ("1-2", "3", "4-5"),
                nine,
                nine_outside,
                ("Potential", "Performance band"),
            ),
            heart_grid=grid(
                f"{_heading(self.verdict, 'Verdict')} against performance",
                hearts,
                ("1", "2", "3", "4", "5"),
                heart_cells,
                heart_outside,
                (_heading(self.verdict, "Verdict"), "Performance rating"),
            ),
            allocation=tuple(lines),
            budget=self.money(allocation.budget.amount)
            if allocation.budget.amount is not None
            else "no budget set",
            committed=self.money(allocation.committed),
            remaining=self.money(remaining) if remaining is not None else "not applicable",
            waitlist=waitlist,
            exceptions=exceptions,
            balance=tuple(balance_lines),
            overrides=overrides,
            override_directions=tuple(sorted(counts["direction"].items())),
            override_deciders=tuple(sorted(counts["decider"].items())),
            rejected=tuple(
                RejectedLine(r.sheet, r.number, tuple(str(p) for p in r.reasons))
                for r in result.panel.rejected
            ),
            warnings=warnings,
            roster=tuple(roster),
            rules=tuple(
                RuleLine(
                    rule.id,
                    rule.decision,
                    rule.then,
                    rule.title,
                    rule.rationale,
                    f"{rule.file}:{rule.line}",
                    fired[rule.id],
                )
                for rule in self.rulebook.rules
            ),
            fairness=fairness_section(audit.fairness(result)),
        )

    def _exceptions(self, evaluation: Evaluation, trace: Mapping[str, Any]) -> dict[str, str]:
        """The person's exception outcomes, each with the message of the rule that set it
        (its title when it has no message)."""
        decision = self.exceptions
        if decision is None:
            return {}
        wanted = [o for o in evaluation.outcomes.get(decision.name, ()) if o != decision.default]
        notes: dict[str, str] = {}
        values = self.result.facts[evaluation.employee_id].values
        for entry in trace.get("fired", []):
            rule = self.rules.get(str(entry.get("rule")))
            if rule is None or rule.decision != decision.name or rule.then not in wanted:
                continue
            note = self._message(rule, entry.get("conditions", []), values) or rule.title
            notes[rule.then] = f"{notes[rule.then]}; {note}" if rule.then in notes else note
        return {outcome: notes.get(outcome, "") for outcome in wanted}

    @staticmethod
    def _distribution(
        title: str, counts: Counter[str], order: Sequence[str], total: int
    ) -> Distribution:
        labels = [*order, *sorted(k for k in counts if k not in order)]
        bars = tuple(
            Bar(label, counts[label], round(100.0 * counts[label] / total, 1) if total else 0.0)
            for label in labels
        )
        return Distribution(title, total, bars)


def _outcomes_of(
    decision: Decision | None, outcomes: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    """A person's outcome(s) of ``decision`` (() when no decision plays that part)."""
    return outcomes.get(decision.name, ()) if decision is not None else ()


def _one(
    decision: Decision | None, outcomes: Mapping[str, tuple[str, ...]], missing: str = UNKNOWN
) -> str:
    """A decision's outcome(s) as one text."""
    return ", ".join(_outcomes_of(decision, outcomes)) or missing


def _heading(decision: Decision | None, fallback: str) -> str:
    return decision.heading if decision is not None else fallback


def rulebook_label(rulebook: Rulebook) -> str:
    """Which rulebook ran, as documents name it: its folder's path and its hash."""
    return f"{Path(rulebook.source).absolute()} @ sha256 {rulebook.sha256[:12]}"


# The workbook's own values that the brief's tallies label facts with (influence.rules
# -> "Rules and monitoring"): the contract's enums, not the rulebook's words.
NOMINATION_REASONS = tuple(NOMINATIONS.column("reason").values)
INFLUENCE_BASES = tuple(EVIDENCE.column("influence_base").values)
OUTCOMES_IN_OTHERS = tuple(EVIDENCE.column("outcome_in_others").values)


def _percent(value: object) -> str:
    return UNKNOWN if value is None else f"{shown(value)}%"


def fairness_section(report: audit.FairnessReport | None) -> FairnessSection:
    """The summary's fairness block from the audit's figures (counts only, no names)."""
    if report is None:
        return NO_FAIRNESS
    tables = tuple(
        FairnessTable(
            f"{t.measure}, by {t.by}",
            tuple(
                FairnessRow(
                    g.group,
                    g.people,
                    g.selected,
                    "-" if g.rate is None else f"{100 * g.rate:.1f}%",
                    "-" if g.impact_ratio is None else f"{g.impact_ratio:.2f}",
                    g.status,
                    g.flagged,
                )
                for g in t.groups
            ),
            t.note,
        )
        for t in report.tables
    )
    return FairnessSection(
        present=True,
        method=(
            "Selection rate = people selected / people in the group; impact ratio = the "
            f"group's rate / the highest rate among groups of {report.min_group} or more "
            f"with a known category; below {report.threshold:.2f} is flagged (four-fifths "
            "rule). The measures are the system's recommendations, before any override. "
            "Read from the restricted Demographics sheet only; no rule reads it."
        ),
        people=report.people,
        unknowns=(
            f"{report.without_record} without a Demographics row; unknown sex "
            f"{report.unknown_sex}; unknown race/ethnicity {report.unknown_race_ethnicity}"
        ),
        tables=tables,
        flagged=tuple(
            f"{t.measure}, by {t.by}: {g.group} at {g.impact_ratio:.2f}"
            for t, g in report.flagged
            if g.impact_ratio is not None
        ),
    )


EMPLOYEE_ENUMS = {
    column.name: tuple(column.values) for column in EMPLOYEES.columns if column.kind == "enum"
}


# --------------------------------------------------------------------------------------
# recommendations.json, trace.jsonl, recommendations.xlsx
# --------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def recommendations_json(result: RunResult, namer: Namer) -> dict[str, Any]:
    """recommendations.json as data (schema in docs/outputs.md, ``schema_version`` 1).

    Only results: no file names, paths or timestamps, so two workbooks holding the
    same data (a vendor export and the plain one) give the same JSON.
    """
    decisions = result.decisions
    cycle = result.panel.cycle
    people = []
    for r in result.results:
        outcomes = r.evaluation.outcomes
        recommendation = decisions.recommendations.get(r.employee_id)
        allotments = recommendation.allocation if recommendation else ()
        overrides = recommendation.overrides if recommendation else ()
        parts = audit.role_fields(result.rulebook, outcomes)
        people.append(
            {
                "employee_id": r.employee_id,
                "full_name": _plain(result.employees[r.employee_id].get("full_name")),
                **{
                    key: list(values) if key in audit.LIST_FIELDS else ", ".join(values)
                    for key, values in parts.items()
                },
                "investments": [a.code for a in allotments],
                "allocation": {
                    a.code: {
                        "status": a.status,
                        "reason": a.reason,
                        "position": a.position,
                        "cost": a.cost,
                    }
                    for a in allotments
                },
                "outcomes": {name: list(values) for name, values in outcomes.items()},
                "fired": list(r.evaluation.fired),
                "overruled": {k: list(v) for k, v in r.evaluation.overruled.items() if v},
                "defaulted": list(r.evaluation.defaulted),
                "override": [o.as_dict() for o in overrides],
                "brief": {
                    "html": namer.brief(r.employee_id, "html"),
                    "md": namer.brief(r.employee_id, "md"),
                },
            }
        )
    allocation = decisions.allocation
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "talentrules", "version": __version__},
        "rulebook": {"sha256": result.rulebook.sha256},
        "cycle": {
            "cycle_id": _plain(cycle.get("cycle_id")) if cycle else None,
            "cycle_name": _plain(cycle.get("cycle_name")) if cycle else None,
            "as_of": _plain(result.panel.as_of),
        },
        "budget": {
            "amount": allocation.budget.amount,
            "currency": allocation.budget.currency,
            "committed": allocation.committed,
            "remaining": allocation.remaining,
        },
        "people": people,
        "investments": [
            {
                "code": t.code,
                "seats": t.seats,
                "allocated": t.allocated,
                "waitlisted": t.waitlisted,
                "refused": t.refused,
                "unavailable": t.unavailable,
                "committed": t.committed,
            }
            for t in allocation.totals
        ],
        "waitlist": [
            {
                "employee_id": a.employee_id,
                "code": a.code,
                "position": a.position,
                "reason": a.reason,
            }
            for a in allocation.allotments
            if a.status == "waitlisted"
        ],
        "rejected": [
            {
                "sheet": r.sheet,
                "row": r.number,
                "reasons": [{"cell": p.cell, "message": p.message} for p in r.reasons],
            }
            for r in result.panel.rejected
        ],
    }


def trace_lines(result: RunResult) -> Iterator[str]:
    """trace.jsonl: one canonical JSON line per person (employee_id order), each with
    the person's recommendation and overrides and chained to the line before it
    (``talentrules.audit.trace_lines``, docs/audit.md)."""
    return audit.trace_lines(result)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class _Sheet:
    """One write-only sheet: bold header, frozen, filtered, sized; text never a formula."""

    def __init__(self, book: Any, title: str, columns: Sequence[tuple[str, int]]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        self._cell = WriteOnlyCell
        self.ws = book.create_sheet(title)
        self.rows = 0
        self.width = len(columns)
        for n, (_, width) in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(n)].width = width
        self.ws.freeze_panes = "A2"
        header = []
        for name, _ in columns:
            cell = WriteOnlyCell(self.ws, value=name)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="1F4E79")
            cell.alignment = Alignment(vertical="center")
            header.append(cell)
        self.ws.append(header)
        self.last = get_column_letter(len(columns))

    def add(self, values: Sequence[object]) -> None:
        row: list[object] = []
        for value in values:
            if isinstance(value, str):
                value = _XLSX_ILLEGAL.sub("\ufffd", value)
                if value.startswith(_FORMULA_START):
                    # Text from a workbook must never become a formula: store it as a
                    # string and mark it so Excel shows it as text (quotePrefix).
                    cell = self._cell(self.ws, value=value)
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    value = cell
            elif isinstance(value, dt.date | list | tuple):
                value = str(_plain(value))
            row.append(value)
        self.ws.append(row)
        self.rows += 1

    def close(self) -> None:
        self.ws.auto_filter.ref = f"A1:{self.last}{self.rows + 1}"


def write_xlsx(result: RunResult, path: Path, namer: Namer) -> None:
    """recommendations.xlsx: Recommendations, Waitlist, Rejected rows, Warnings."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    main = _Sheet(
        book,
        "Recommendations",
        (
            ("employee_id", 14),
            ("full_name", 24),
            *((key, 24) for key, _ in audit.ROLE_FIELDS),
            ("investments", 28),
            ("allocation", 48),
            ("top_reasons", 60),
            ("override", 40),
            ("brief", 28),
        ),
    )
    rules = {rule.id: rule for rule in result.rulebook.rules}
    decisions = result.decisions
    # The top reasons: the rules that set the verdict and the track.
    reasons_from = {
        decision.name
        for role in ("verdict", "development_track")
        if (decision := result.rulebook.role(role)) is not None
    }
    for r in result.results:
        outcomes = r.evaluation.outcomes
        recommendation = decisions.recommendations.get(r.employee_id)
        allotments = recommendation.allocation if recommendation else ()
        overrides = recommendation.overrides if recommendation else ()
        lost = {x for ids in r.evaluation.overruled.values() for x in ids}
        reasons = [
            rules[x].title
            for x in r.evaluation.fired
            if x in rules and x not in lost and rules[x].decision in reasons_from
        ]
        main.add(
            [
                r.employee_id,
                result.employees[r.employee_id].get("full_name"),
                *(", ".join(v) for v in audit.role_fields(result.rulebook, outcomes).values()),
                ", ".join(a.code for a in allotments),
                "; ".join(f"{a.code} {a.status}" for a in allotments),
                "; ".join(reasons),
                "; ".join(
                    f"{o.field}{' ' + o.target if o.target else ''}: {', '.join(o.decision)} "
                    f"({o.decided_by}: {o.reason})"
                    for o in overrides
                    if o.applies
                ),
                namer.brief(r.employee_id, "html"),
            ]
        )
    main.close()
    wait = _Sheet(
        book,
        "Waitlist",
        (
            ("employee_id", 14),
            ("full_name", 24),
            (INVESTMENT_FIELD, 16),  # the output's stable column name (docs/outputs.md)
            ("position", 10),
            ("reason", 80),
        ),
    )
    for a in decisions.allocation.allotments:
        if a.status == "waitlisted":
            wait.add(
                [
                    a.employee_id,
                    result.employees[a.employee_id].get("full_name")
                    if a.employee_id in result.employees
                    else None,
                    a.code,
                    a.position,
                    a.reason,
                ]
            )
    wait.close()
    rejected = _Sheet(book, "Rejected rows", (("sheet", 16), ("row", 8), ("reason", 100)))
    for row in result.panel.rejected:
        for p in row.reasons:
            rejected.add([row.sheet, row.number, str(p)])
    rejected.close()
    warnings = _Sheet(book, "Warnings", (("where", 40), ("warning", 100)))
    for p in result.problems:
        if p.severity == "warning":
            warnings.add([p.where, p.message])
    warnings.close()
    book.save(path)


# --------------------------------------------------------------------------------------
# Writing OUTDIR, atomically
# --------------------------------------------------------------------------------------

Progress = Callable[[str, int, int], None]
# A hook writes extra files into the run's folder before it is published; it gets the
# temporary folder and the result. manifest.json is written after the hooks, so it
# lists and hashes their files too.
Hook = Callable[[Path, "RunResult"], None]
RECOMMENDATIONS = "recommendations.json"


@dataclass(frozen=True)
class Written:
    """What write_outputs produced."""

    outdir: Path
    briefs: int  # people with a brief (each in HTML and Markdown)
    # "briefs" (with trace.jsonl), "summary", "files" -> wall seconds;
    # "briefs_render_cpu", "briefs_write_cpu" -> CPU seconds summed over the workers;
    # "trace_cpu" -> CPU seconds writing trace.jsonl.
    timings: dict[str, float]
    # What was done beside OUTDIR: leftovers of interrupted runs removed or restored.
    notes: tuple[str, ...] = ()


_RENDER: dict[str, Any] = {}  # per worker process: builder, renderer, folder


def _start_renderer(state: dict[str, Any]) -> None:
    """A spawned worker's builder, renderer and folder (forked ones inherit them)."""
    quiet_worker()  # Ctrl-C is the parent's to handle: no traceback from a worker
    _RENDER.update(state)


def _render_span(span: tuple[int, int]) -> tuple[int, float, float]:
    """Build, render and write the briefs of people ``span``: (count, render s, write s),
    in CPU seconds so that a busy machine does not distort the split."""
    builder: ContextBuilder = _RENDER["builder"]
    renderer: Renderer = _RENDER["renderer"]
    folder: Path = _RENDER["folder"]
    rendering = writing = 0.0
    for index in range(*span):
        start = time.process_time()
        context = builder.brief(index)
        html = renderer.render("brief.html.j2", context)
        md = renderer.render("brief.md.j2", context)
        middle = time.process_time()
        (folder / context.files[0]).write_text(html, encoding="utf-8")
        (folder / context.files[1]).write_text(md, encoding="utf-8")
        rendering += middle - start
        writing += time.process_time() - middle
    return span[1] - span[0], rendering, writing


def check_outdir(outdir: str | Path, force: bool = False) -> None:
    """Refuse an OUTDIR that write_outputs would refuse, before any work is done.

    Inside ``outdir.claim_outdir`` (as ``evaluate`` runs) this is the claim's own check;
    alone it takes the lock for the check only."""
    with claim_outdir(outdir, force):
        pass


def write_outputs(
    result: RunResult,
    outdir: str | Path,
    templates_dir: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    jobs: int | None = None,
    hooks: Sequence[Hook] = (),
    names: bool = True,
) -> Written:
    """Write briefs, summary, recommendations.xlsx/.json and trace.jsonl into ``outdir``.

    Everything is built in a temporary folder beside ``outdir`` and renamed into
    place at the end: a failure half-way leaves no partial ``outdir``. An existing
    ``outdir`` is refused unless ``force`` (and then only an earlier output folder is
    replaced). Briefs render in ``jobs`` processes (default: the machine's cores).
    ``names=False`` writes the summary's general edition: counts without names.
    """
    shown = Path(outdir).absolute()
    with claim_outdir(outdir, force) as claim:
        folder = workspace(claim)
        try:
            timings = _write_all(result, folder, templates_dir, force, progress, jobs, hooks, names)
            publish(folder, claim)
        except OSError as error:
            discard(folder)
            raise OutputError(f"{shown}: could not write the outputs: {error}") from error
        except BaseException:  # also Ctrl-C, SIGTERM: no half-written folder stays
            discard(folder)
            raise
    return Written(shown, len(result.results), timings, tuple(claim.notes))


def _write_all(
    result: RunResult,
    folder: Path,
    templates_dir: str | Path | None,
    force: bool,
    progress: Progress | None,
    jobs: int | None,
    hooks: Sequence[Hook],
    names: bool,
) -> dict[str, float]:
    """Every output file into ``folder``; returns the stage timings."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    renderer = Renderer(Path(templates_dir) if templates_dir is not None else None)
    for name in TEMPLATE_NAMES:
        renderer.template(name)  # template errors surface before any work
    namer = Namer(result.employees)
    builder = ContextBuilder(result, namer)
    (folder / "briefs").mkdir()
    total = len(result.results)
    rendering, writing, tracing = _render_briefs(builder, renderer, folder, total, jobs, progress)
    timings["briefs"] = time.perf_counter() - clock
    timings["briefs_render_cpu"] = rendering
    timings["briefs_write_cpu"] = writing
    timings["trace_cpu"] = tracing
    clock = time.perf_counter()
    summary = builder.summary(panel_edition=names)
    for name in ("summary.html", "summary.md"):
        text = renderer.render(f"{name}.j2", summary)
        (folder / name).write_text(text, encoding="utf-8")
    timings["summary"] = time.perf_counter() - clock
    clock = time.perf_counter()
    data = recommendations_json(result, namer)
    (folder / RECOMMENDATIONS).write_text(
        json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    write_xlsx(result, folder / "recommendations.xlsx", namer)
    for hook in hooks:
        hook(folder, result)
    # Last: the manifest hashes every file written above (and marks the folder as ours).
    audit.write_manifest(
        folder,
        result,
        templates_dir=templates_dir,
        options={
            "allow_rejects": result.allow_rejects,
            "names": names,
            "jobs": jobs,
            "force": force,
        },
        started=result.started or None,
    )
    timings["files"] = time.perf_counter() - clock
    return timings


def _render_briefs(
    builder: ContextBuilder,
    renderer: Renderer,
    folder: Path,
    total: int,
    jobs: int | None,
    progress: Progress | None,
) -> tuple[float, float, float]:
    """Every brief in both formats, and trace.jsonl; returns the CPU seconds spent
    rendering and writing briefs (summed over the workers) and writing the trace."""
    jobs = max(1, min(jobs or os.cpu_count() or 1, total // 100 or 1))
    size = max(1, min(250, -(-total // (jobs * 4))))
    spans = [(i, min(i + size, total)) for i in range(0, total, size)]
    _RENDER.update(builder=builder, renderer=renderer, folder=folder)
    done, rendering, writing, tracing = 0, 0.0, 0.0, 0.0
    try:
        if jobs == 1:
            batches: Iterable[tuple[int, float, float]] = map(_render_span, spans)
        else:
            # fork: workers inherit the run and the compiled templates instead of
            # unpickling them; results come back as small tuples. gc.freeze keeps the
            # workers' collector off the inherited objects, which would otherwise
            # copy every page of the parent's heap into each worker. spawn (no fork,
            # or macOS): each worker gets them pickled once, by its initializer.
            pools = processes.context()
            if pools.get_start_method() == "fork":
                gc.freeze()
                pool = pools.Pool(jobs, quiet_worker)
            else:
                pool = pools.Pool(jobs, _start_renderer, (dict(_RENDER),))
            batches = pool.imap_unordered(_render_span, spans)
        try:
            if jobs > 1:  # the parent would only wait: it writes the trace meanwhile
                tracing = _write_trace(builder.result, folder)
            for count, render_s, write_s in batches:
                done += count
                rendering += render_s
                writing += write_s
                if progress is not None:
                    progress("briefs", done, total)
            if jobs == 1:
                tracing = _write_trace(builder.result, folder)
        finally:
            if jobs > 1:
                pool.terminate()
                pool.join()
                gc.unfreeze()  # a no-op when nothing was frozen
    finally:
        _RENDER.clear()
    return rendering, writing, tracing


def _write_trace(result: RunResult, folder: Path) -> float:
    """Write trace.jsonl; returns the CPU seconds it took."""
    start = time.process_time()
    with open(folder / "trace.jsonl", "w", encoding="utf-8", newline="\n") as handle:
        for line in trace_lines(result):
            handle.write(line)
            handle.write("\n")
    return time.process_time() - start


def render_brief_text(
    result: RunResult, employee_id: str, templates_dir: Path | None = None
) -> str:
    """The justification for one person as terminal text (``talentrules explain``)."""
    index = result.index(employee_id)
    return Renderer(templates_dir).render("brief.txt.j2", ContextBuilder(result).brief(index))
