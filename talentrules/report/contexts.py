"""The template contexts: one documented dataclass per document kind, and its parts.

Templates see ``BriefContext`` (brief.*.j2) and ``SummaryContext`` (summary.*.j2).
Every field carries help text in its metadata; ``docs/outputs.md`` lists them, and a
test keeps the two in step. Values are strings ready to print (a blank cell shows as
'not recorded'); escaping happens when a template renders them (``render``).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


def described(help: str) -> Any:
    """A dataclass field whose help text documents the template context."""
    return field(metadata={"help": help})


# --------------------------------------------------------------------------------------
# Template context: shared parts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person named in a list: id, name, and where their brief is."""

    employee_id: str = described("The person's employee_id, as in the workbook.")
    name: str = described("The person's full name.")
    brief: str = described("Relative path of the person's HTML brief (briefs/<file>.html).")
    note: str = described("Why the person is in this list (e.g. the verdict or the risk).")


# --------------------------------------------------------------------------------------
# Brief
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonHeader:
    """Who the brief is about (Employees sheet)."""

    employee_id: str = described("employee_id, as in the workbook.")
    full_name: str = described("Full name.")
    job_title: str = described("Job title, or 'not recorded'.")
    org_unit: str = described("Team or organisation unit, or 'not recorded'.")
    job_level: str = described("Grade, or 'not recorded'.")
    location: str = described("Work location, or 'not recorded'.")
    manager: str = described("Manager's name and id, or 'not recorded'.")
    tenure: str = described(
        "Time since hire in years and months, or 'not recorded', from the fact the rulebook "
        "names (vocabulary.yaml briefs: tenure), or 'not declared by the rulebook'."
    )
    in_role: str = described(
        "Time in the current role in years and months, or 'not recorded', from the fact the "
        "rulebook names (vocabulary.yaml briefs: in_role), or 'not declared by the rulebook'."
    )
    current_track: str = described("The career track the person is on now.")
    people_manager: str = described("'Yes, N direct reports', 'No' or 'not recorded'.")
    cell: str = described("Provenance of the person's row, e.g. 'Employees!A7'.")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The talent snapshot: ratings as the panel gave them, never a label."""

    performance: str = described("This cycle's rating with its scale label, e.g. '4 Exceeds'.")
    history: str = described("Ratings two cycles ago, one cycle ago and now, e.g. '3, 4, 4'.")
    trend: str = described(
        "The fact the rulebook names as the trend (vocabulary.yaml briefs: trend): 'up 1', "
        "'down 2', 'steady', 'not recorded', or 'not declared by the rulebook'."
    )
    potential: str = described("Potential, e.g. '3 of 3', or 'not recorded'.")
    nine_box: str = described("The person's 9-box cell in words: performance band and potential.")
    readiness: str = described("Readiness for a bigger role, or 'not recorded'.")
    expertise: str = described("Expertise rating 1-5, or 'not recorded'.")
    policy_compliance: str = described("Policy compliance rating 1-5, or 'not recorded'.")
    risk_of_loss: str = described("Risk of loss (Low, Medium, High), or 'not recorded'.")
    impact_of_loss: str = described("Impact of loss (Low, Medium, High), or 'not recorded'.")


@dataclass(frozen=True, slots=True)
class SignalLine:
    """One signal code the person has evidence for, summarised: each count is the fact
    the rulebook names for its column (vocabulary.yaml briefs: signal_line)."""

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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class HeartSection:
    """The heart verdict and the evidence behind it."""

    verdict: str = described("The verdict: the outcome of the decision playing role verdict.")
    meaning: str = described("What the verdict decision asks (decisions.yaml).")
    verdict_meaning: str = described("What this verdict means (its outcome text), or ''.")
    evidence_quality: str = described("The rulebook's judgement of the evidence, if it makes one.")
    evidence_quality_meaning: str = described(
        "What that judgement means (its outcome text), or ''."
    )
    habitual: tuple[str, ...] = described("Heart signal codes the person shows habitually.")
    habitual_names: tuple[str, ...] = described("Their plain names, in the same order.")
    reasons: tuple[str, ...] = described(
        "Rationale of the rule(s) that set the verdict (never an overruled one), or why the "
        "default applies."
    )
    signals: tuple[SignalLine, ...] = described("Heart signals with evidence, catalogue order.")
    counters: tuple[SignalLine, ...] = described("Counter-signals with evidence, catalogue order.")
    signal_line_declared: bool = described(
        "False when the rulebook names no facts for a signal's line (vocabulary.yaml "
        "briefs: signal_line): signals and counters are then empty because nothing was read."
    )
    evidence: tuple[EvidenceItem, ...] = described("Every heart-signal row, newest first.")
    counter_evidence: tuple[EvidenceItem, ...] = described(
        "Every counter-signal row, newest first."
    )


@dataclass(frozen=True, slots=True)
class Nomination:
    """One 'who inspires you' nomination the person received."""

    reason: str = described("Position, Expertise or Personal.")
    comment: str = described("The nominator's words, or 'not recorded'.")
    cell: str = described("Where the nomination is, e.g. 'Nominations!C5'.")


@dataclass(frozen=True, slots=True)
class TeamFigures:
    """The person's team figures from the Teams sheet."""

    size: str = described("People in the team.")
    on_time_rate: str = described("Share of commitments delivered on time, in %.")
    policy_incidents: str = described("Policy incidents in the cycle.")
    engagement: str = described("Engagement score, in %.")
    voluntary_attrition: str = described("Voluntary attrition, in %.")
    cell: str = described("Where the row is, e.g. 'Teams!A4'.")


@dataclass(frozen=True, slots=True)
class InfluenceSection:
    """Inspiration profile (the three kinds of leadership) and the management pattern."""

    inspiration: tuple[str, ...] = described("Position, Expert, Personal, or 'None evidenced'.")
    inspiration_notes: tuple[str, ...] = described("What each kind shown means (outcome texts).")
    nominations: tuple[tuple[str, int], ...] = described(
        "(reason, distinct nominators) per reason the rulebook names a fact for "
        "(vocabulary.yaml briefs: nominations)."
    )
    nominations_declared: bool = described(
        "False when the rulebook names no facts for nominations: they are then empty "
        "because nothing was read."
    )
    nomination_comments: tuple[Nomination, ...] = described(
        "Nominations with a comment; the same words from several nominators once, with the "
        "first cell and how many more."
    )
    influence: tuple[tuple[str, int], ...] = described(
        "(influence base, episodes) across evidence, per base the rulebook names a fact for "
        "(vocabulary.yaml briefs: influence)."
    )
    influence_declared: bool = described(
        "False when the rulebook names no facts for influence: it is then empty."
    )
    outcomes: tuple[tuple[str, int], ...] = described(
        "(outcome in others, episodes) across evidence, per outcome the rulebook names a "
        "fact for (vocabulary.yaml briefs: outcomes)."
    )
    outcomes_declared: bool = described(
        "False when the rulebook names no facts for outcomes: they are then empty."
    )
    management: str = described("The management pattern (role management_pattern).")
    balance: str = described("The team's management-leadership balance (role team_balance).")
    balance_advice: str = described("What the rulebook advises for that balance; empty if none.")
    team: TeamFigures | None = described("Team figures, or None when the person has no Teams row.")


@dataclass(frozen=True, slots=True)
class Aspiration:
    """The person's own words and how the recommendation fits them."""

    career_interest: str = described(
        "The career interest recorded in the workbook, or 'not recorded'."
    )
    interest_cell: str = described("Where the recorded interest is, e.g. 'Employees!V7', or ''.")
    statement: str = described("The aspiration statement verbatim, or '' when blank.")
    cell: str = described("Where the statement is, e.g. 'Employees!T7'.")
    fit: str = described(
        "How the recommended track fits the recorded interest (the rulebook's sentence), and, "
        "when the person wrote a statement, that their own words come first."
    )


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One investment of the plan: what the rules recommended and what became of it,
    with the panel's decision counted."""

    code: str = described("Catalogue code, e.g. 'LEAD-STRETCH'.")
    name: str = described("What the investment is.")
    track: str = described("Which track it serves.")
    mode: str = described("70/20/10 mode in words, e.g. '70 experience'.")
    cost: str = described("Cost per person with currency, or 'not recorded'.")
    duration: str = described("How long it runs, e.g. '6 months', or 'not recorded'.")
    status: str = described(
        "'Allocated', 'Waitlisted', 'Not allocated', 'Removed by the panel' or 'Not in this "
        "cycle's catalogue', with the panel's decisions counted."
    )
    reason: str = described(
        "Why: what decided the status (the seat, a stronger case, the draw, "
        "the budget; for the panel's decision, its reason and cell); no closing full stop."
    )
    by: str = described("Who decided the status: 'the rules' or 'the panel'.")
    recommended: str = described(
        "What the rules recommended for it ('Waitlisted', ...), or 'not recommended' for an "
        "investment the panel added."
    )
    owner: str = described("Who owns it: the Development sheet's owner, else the stated default.")
    start: str = described("When it starts: the Development sheet's row, else the stated default.")
    measure: str = described(
        "How success is measured: the Development sheet's, else the catalogue's, else the "
        "stated default."
    )
    fallback: str = described(
        "For a waitlisted investment: the alternative with a seat, or 'priority next cycle', "
        "with why; else ''."
    )


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule that fired for the person, with the values it read, in plain words."""

    id: str = described("Rule id (for auditors: the trace and `explain --trace` use it).")
    decision: str = described("The decision it concludes, by its label.")
    outcome: str = described("The outcome it concludes.")
    title: str = described("The rule's title.")
    rationale: str = described("The rule's rationale, in plain language.")
    message: str = described("The rule's message rendered with the values it used, or ''.")
    values: tuple[str, ...] = described(
        "What it read, in words, each with its cells: 'Observations of Develops others by "
        "others: 3 (Evidence!C2, ...)'."
    )
    where: str = described("The rule's file and line, e.g. 'rules/20-heart.yaml:12'.")
    overruled: bool = described("True when a higher-priority rule of the same decision won.")


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A rule that came close: what it needed, in words, and what the value was."""

    id: str = described("Rule id.")
    decision: str = described("The decision it would conclude, by its label.")
    outcome: str = described("The outcome it would conclude.")
    title: str = described("The rule's title.")
    failed: str = described(
        "What it needed and what was found, in words: 'needs observers other than the person "
        "of Develops others at least 2; it is 1 (Evidence!L2)'."
    )


@dataclass(frozen=True, slots=True)
class DecisionChanges:
    """What would change one main decision (the verdict first): the nearest changes a
    person or the panel could make, a sentence each."""

    decision: str = described("The decision, by its label, e.g. 'Heart for leadership'.")
    now: str = described("Its outcome now.")
    changes: tuple[str, ...] = described(
        "The few nearest changes, each one sentence: 'Emerging, if people other than them ...'."
    )
    note: str = described("When none is named, why (e.g. the outcome is already the best).")


@dataclass(frozen=True, slots=True)
class HowDecided:
    """The audit appendix: how the recommendation was produced, rule by rule."""

    decided: tuple[FiredRule, ...] = described("Rules that decided an outcome, in firing order.")
    overruled: tuple[FiredRule, ...] = described(
        "Rules whose conditions held but that a higher-priority rule overruled: shown apart, "
        "they decided nothing."
    )
    defaulted: tuple[str, ...] = described(
        "'Decision: outcome' for decisions no rule decided (the default applies)."
    )
    near: tuple[NearMiss, ...] = described(
        "Rules that came close, one change away from firing and changing their decision."
    )
    rulebook: str = described("Which rulebook ran (path and hash).")


@dataclass(frozen=True, slots=True)
class Contest:
    """How to ask for an explanation or contest the recommendation."""

    contact: str = described("Whom to ask (Cycle!contact), else the panel's HR business partner.")
    deadline: str = described(
        "'by DATE' (Cycle!contest_by), or 'before the panel signs off' (the stated default) "
        "when the cycle sets none."
    )
    evidence: str = described(
        "What evidence to bring (Cycle!contest_evidence), or the stated default."
    )
    process: str = described("What happens then, in a sentence.")


@dataclass(frozen=True, slots=True)
class OverrideItem:
    """A panel decision, kept beside the recommendation, never in place of it."""

    field: str = described("What was overridden (heart, track, investment, ...).")
    recommended: str = described("What the rules recommended for that field.")
    decision: str = described("What the panel decided.")
    reason: str = described("Why the panel decided differently.")
    decided_by: str = described("The named panel member who decided.")
    decided_on: str = described("When (ISO date), or 'not recorded'.")
    cell: str = described("Where the override is, e.g. 'Overrides!C3'.")


@dataclass(frozen=True, slots=True)
class BriefContext:
    """Everything a justification brief template (brief.*.j2) can use. The manager-facing
    part comes first; the audit appendix (``how``, the evidence rows) follows it."""

    doc: DocumentInfo = described("The run: cycle, as_of, versions, confidentiality, contact.")
    person: PersonHeader = described("Who the brief is about.")
    headline: tuple[str, ...] = described(
        "The recommendation in three lines, in plain words (names, codes at most in "
        "brackets), the last one 'This is a recommendation; the panel decides.'"
    )
    heart: str = described("The heart verdict (repeated here for templates' convenience).")
    track: str = described("The recommended track.")
    snapshot: Snapshot = described("Talent snapshot: ratings, 9-box, readiness, risk of loss.")
    evidence: HeartSection = described("Heart verdict with signal and counter-signal evidence.")
    influence: InfluenceSection = described("Inspiration profile and management pattern.")
    aspiration: Aspiration = described("The person's own words and how the recommendation fits.")
    plan: tuple[PlanItem, ...] = described(
        "Development plan: each investment recommended or decided by the panel, its status "
        "with the panel's decisions counted, owner, start and measure of success."
    )
    plan_mix: str = described("The plan's 70/20/10 mix in words, e.g. '2 experience, 1 course'.")
    plan_defaults: str = described(
        "The stated defaults for a plan row's owner, start and measure, when the Development "
        "sheet gives none; '' when every row has its own."
    )
    commitments: tuple[str, ...] = described(
        "Where this person's panel decisions take an investment past its seats or the cycle "
        "past its budget, as sentences."
    )
    risks: tuple[str, ...] = described("Risks the panel should weigh, as sentences.")
    gaps: tuple[str, ...] = described("Evidence gaps: what is missing or weak, as sentences.")
    changes: tuple[DecisionChanges, ...] = described(
        "What would change the outcome: per main decision, verdict first, the nearest changes."
    )
    contest: Contest = described("How to ask for an explanation or contest, by when, with what.")
    how: HowDecided = described(
        "The audit appendix: the rules that decided, those overruled, defaults, near misses."
    )
    overrides: tuple[OverrideItem, ...] = described("Panel overrides for this person.")
    outcomes: tuple[tuple[str, str], ...] = described("(decision, outcome(s)) for every decision.")
    files: tuple[str, str] = described("Relative paths of this brief in HTML and Markdown.")


# --------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a distribution chart."""

    label: str = described("The category.")
    count: int = described("People in it.")
    percent: float = described("Share of the chart's total, 0-100, one decimal.")


@dataclass(frozen=True, slots=True)
class Distribution:
    """A small bar chart with the numbers beside it."""

    title: str = described("Chart title.")
    total: int = described("People counted.")
    bars: tuple[Bar, ...] = described("Bars in the decision's outcome order, zeros included.")


@dataclass(frozen=True, slots=True)
class GridCell:
    """One cell of a grid: a count and the people in it."""

    count: int = described("People in the cell.")
    people: Sequence[PersonRef] = described("The people (names shown in the panel edition only).")


@dataclass(frozen=True, slots=True)
class Grid:
    """A grid of counts such as the 9-box (rows top to bottom, columns left to right)."""

    title: str = described("Grid title.")
    row_axis: str = described("What the rows measure.")
    col_axis: str = described("What the columns measure.")
    rows: tuple[str, ...] = described("Row labels, top row first.")
    cols: tuple[str, ...] = described("Column labels, left first.")
    cells: tuple[tuple[GridCell, ...], ...] = described("cells[row][col].")
    outside: int = described("People not placed because a rating is blank.")
    unplaced: Sequence[PersonRef] = described(
        "Who is not placed, each note saying which rating is blank."
    )


@dataclass(frozen=True, slots=True)
class SheetLine:
    """The row account of one sheet."""

    sheet: str = described("Contract sheet name.")
    found_as: str = described("Tab name in the workbook, or 'absent'.")
    read: int = described("Data rows read.")
    loaded: int = described("Rows loaded.")
    rejected: int = described("Rows rejected.")
    blank: int = described("Blank rows skipped.")


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """One investment: recommendations against seats and money, with the panel's
    decisions counted."""

    code: str = described("Catalogue code.")
    name: str = described("What it is.")
    mode: str = described("70/20/10 mode in words.")
    seats: str = described("Seats available, or 'no limit'.")
    recommended: int = described("People the rules recommended it for.")
    allocated: int = described("People allocated a seat, the panel's decisions counted.")
    waitlisted: int = described("People waitlisted, the panel's decisions counted.")
    panel: str = described(
        "What the panel's decisions changed here ('+1 by the panel (Overrides!C3)'), or ''."
    )
    cost: str = described("Cost per person, or 'not recorded'.")
    committed: str = described("Money committed to the allocated seats.")
    over: str = described("How far past its seats the panel's decisions take it, or ''.")


@dataclass(frozen=True, slots=True)
class WaitItem:
    """A person waitlisted for an investment, why, and the fallback."""

    person: PersonRef = described("The person waitlisted.")
    code: str = described("Investment code.")
    name: str = described("What the investment is.")
    reason: str = described(
        "What decided it, in a few words ('seats full; an equal case won the draw (6th of "
        "9)'); the brief and the results workbook give the whole reason."
    )
    fallback: str = described(
        "The alternative with a seat (and its seats left), or 'priority next cycle'; the "
        "brief gives the whole reason."
    )


@dataclass(frozen=True, slots=True)
class UnseatedLine:
    """Someone recommended an investment who holds no seat in the plan."""

    person: PersonRef = described("The person; the note holds the heart verdict and track.")
    waiting: tuple[str, ...] = described("The investments they wait for, by name and code.")
    fallback: str = described("The alternative offered, or 'priority next cycle'.")


@dataclass(frozen=True, slots=True)
class BalanceLine:
    """One people manager's management-leadership balance."""

    person: PersonRef = described("The manager.")
    team_size: str = described("People in the team.")
    on_time_rate: str = described("On-time rate, %.")
    policy_incidents: str = described("Policy incidents.")
    engagement: str = described("Engagement, %.")
    balance: str = described("The team's balance (the outcome of role team_balance).")
    advice: str = described("What the rulebook advises for that balance.")


@dataclass(frozen=True, slots=True)
class ExceptionGroup:
    """One outcome of the decision playing role panel_exceptions, and who has it."""

    title: str = described("The outcome, e.g. 'Ratings and evidence disagree'.")
    meaning: str = described("What it means and asks of the panel (its outcome text).")
    people: Sequence[PersonRef] = described("Who has it; each note is the rule's message.")


@dataclass(frozen=True, slots=True)
class OverrideLine:
    """A panel override, for the summary's list."""

    person: PersonRef = described("Whose recommendation.")
    item: OverrideItem = described("The override beside the recommendation.")


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """An input row that could not be used, with every reason."""

    sheet: str = described("Contract sheet name.")
    row: int = described("Excel row number.")
    who: str = described(
        "Whose row it is: the employee id and name as read, or '' when the row names no one."
    )
    reasons: tuple[str, ...] = described(
        "Every reason, each naming its sheet and cell (the workbook is named once, above)."
    )


@dataclass(frozen=True, slots=True)
class RuleLine:
    """One rule of the rulebook, for the appendix."""

    id: str = described("Rule id.")
    decision: str = described("Decision it concludes.")
    outcome: str = described("Outcome it concludes.")
    title: str = described("Title.")
    rationale: str = described("Rationale.")
    where: str = described("file:line of the rule.")
    decided: int = described("People for whom it decided an outcome in this run.")
    overruled: int = described("People for whom it held but a higher-priority rule won.")


@dataclass(frozen=True, slots=True)
class FairnessRow:
    """One group's selection under one outcome (talentrules.fairness)."""

    by: str = described("The grouping: 'sex', 'race/ethnicity' or 'sex x race/ethnicity'.")
    group: str = described(
        "The group, or for groups not rated a count ('3 groups too small to rate')."
    )
    people: int = described("People evaluated in the group(s).")
    selected: int = described("Of them, given the outcome.")
    rate: str = described("Selection rate in %, or '-' for groups not rated.")
    ratio: str = described("Impact ratio (rate / highest rate) to 2 decimals, or '-'.")
    status: str = described("'reference' (highest rate), 'compared', 'too small' or 'unknown'.")
    flagged: bool = described(
        "True when the impact ratio is below 0.80 and the outcome confers an advantage."
    )


@dataclass(frozen=True, slots=True)
class FairnessTable:
    """One outcome, every grouping in one table."""

    title: str = described("The outcome, e.g. 'Heart for leadership: Strong'.")
    advantage: bool = described(
        "True when the rulebook declares the outcome an advantage: only then are low "
        "ratios flagged."
    )
    rows: tuple[FairnessRow, ...] = described("Every group rated, then those not rated, counted.")
    flags: int = described("Impact ratios flagged in this table.")
    note: str = described("Why there are no ratios, when there are none; else empty.")


@dataclass(frozen=True, slots=True)
class FairnessSection:
    """The fairness monitor, from the restricted Demographics sheet only."""

    present: bool = described("False when the workbook has no Demographics sheet.")
    method: str = described("How rates and ratios are computed, and the minimum group size.")
    people: int = described("People evaluated.")
    unknowns: str = described("Counts of people without a record or with unknown categories.")
    tables: tuple[FairnessTable, ...] = described("One table per outcome monitored.")
    flagged: tuple[str, ...] = described(
        "Every flagged impact ratio (advantage outcomes only), as sentences."
    )


NO_FAIRNESS = FairnessSection(False, "", 0, "", (), ())


@dataclass(frozen=True, slots=True)
class SummaryContext:
    """Everything a panel summary template (summary.*.j2) can use."""

    doc: DocumentInfo = described("The run: cycle, as_of, versions, confidentiality, contact.")
    panel_edition: bool = described("True: names appear in the grids (the panel's own copy).")
    alerts: tuple[str, ...] = described(
        "What the panel must see first, as sentences: seats or budget the panel's decisions "
        "over-commit, rejected rows, people without a seat."
    )
    people: int = described("People evaluated.")
    rejected_rows: int = described("Input rows rejected (only with --allow-rejects).")
    problems: str = described(
        "The workbook's problems counted as `validate` counts them: errors, warnings, notes, "
        "rows rejected."
    )
    warnings_count: int = described("Warnings: the workbook's, the allocation's and the plan's.")
    sheets: tuple[SheetLine, ...] = described("Row account per contract sheet.")
    distributions: tuple[Distribution, ...] = described(
        "Heart verdicts, tracks, readiness, inspiration: charts with numbers."
    )
    nine_box: Grid = described(
        "Potential (rows, high at the top) against performance band (columns, high to the "
        "right), 3 x 3."
    )
    heart_grid: Grid = described("Heart verdict (rows) against performance rating (columns).")
    allocation: tuple[AllocationLine, ...] = described(
        "Every investment recommended or decided: seats and money, the panel's decisions counted."
    )
    policy: str = described(
        "How scarce seats are shared: the ranking keys in order and the tie-break with its seed."
    )
    budget: str = described("The cycle's budget, or 'no budget set'.")
    recommended_committed: str = described("Money the rules' allocation commits.")
    committed: str = described("Money committed with the panel's decisions.")
    remaining: str = described(
        "Budget left with the panel's decisions, or how far over it they go (see "
        "remaining_label), or 'not applicable'."
    )
    remaining_label: str = described(
        "'remaining', or 'over the budget' when the panel's decisions spend more than it."
    )
    waitlist: tuple[WaitItem, ...] = described(
        "Everyone waitlisted (the panel's decisions counted), with what decided it and a fallback."
    )
    unseated: tuple[UnseatedLine, ...] = described(
        "People recommended an investment who hold no seat, each with a fallback."
    )
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
    rejected: tuple[RejectedLine, ...] = described(
        "Every rejected input row with whose it is and its reasons."
    )
    warnings: tuple[str, ...] = described(
        "Every warning, naming its sheet and cell (the workbook is named once, above)."
    )
    roster: Sequence[PersonRef] = described(
        "Everyone evaluated, with a link to their brief; the note holds heart verdict and track."
    )
    rules: tuple[RuleLine, ...] = described("The rule catalogue (appendix), in rulebook order.")
    fairness: FairnessSection = field(
        default=NO_FAIRNESS,
        metadata={"help": "The fairness monitor (only when the workbook has Demographics)."},
    )


CONTEXT_TYPES: tuple[type, ...] = (BriefContext, SummaryContext)


def _quick_init(kind: type) -> None:
    """Give a frozen slotted dataclass an ``__init__`` that sets each field through its
    slot's descriptor instead of ``object.__setattr__`` (which dataclasses writes for a
    frozen class, and which costs a lookup and a call a field): the same parameters,
    defaults and result, the class still frozen, in about 60 % of the time. A brief
    makes some sixty of these records (a NearMiss per near miss, an EvidenceItem per
    row...), each of five to twenty fields."""
    fields = dataclasses.fields(kind)
    if any(
        not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING for f in fields
    ) or hasattr(kind, "__post_init__"):
        return  # what dataclasses wrote stays
    scope: dict[str, Any] = {}
    params, body = [], []
    for n, f in enumerate(fields):
        scope[f"_set{n}"] = vars(kind)[f.name].__set__
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            scope[f"_default{n}"] = f.default
            params.append(f"{f.name}=_default{n}")
        body.append(f"    _set{n}(self, {f.name})\n")
    exec(f"def __init__(self, {', '.join(params)}):\n{''.join(body)}", scope)  # noqa: S102
    init = scope["__init__"]
    init.__qualname__ = f"{kind.__qualname__}.__init__"
    init.__module__ = kind.__module__
    kind.__init__ = init  # type: ignore[misc]


for _kind in list(globals().values()):
    if isinstance(_kind, type) and dataclasses.is_dataclass(_kind):
        _quick_init(_kind)


def help_texts(kind: type) -> Iterator[tuple[str, str]]:
    """Every (dotted field path, help text) of a context dataclass, depth first."""
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
