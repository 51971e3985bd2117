"""The workbook contract as data; ``docs/workbook.md`` is written from it.

One table says which sheets exist, their columns, each column's type, scale,
allowed values, vendor aliases and help text. Ingestion validates against it, the
``template`` command writes it out, the benchmark generator fills it in and
``scripts/gen_docs.py`` documents it, so the four can never disagree (rerun that
script after a change here; tests/test_docs.py fails until you do). The Evidence
``signal`` codes are the rulebook's (``with_signals``), not the contract's.

The values here are the workbook's words (a vendor's labels, the Investments sheet's
tracks, an influence base of Position or Expertise). Some read like outcomes of the
default rulebook (Expert, Leadership, Personal) because the contract and the rulebook
speak of the same things; no judgement in Python is keyed by them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

Kind = Literal["id", "text", "int", "number", "percent", "date", "bool", "scale", "enum"]


def normalize(name: object) -> str:
    """Matching key for sheet names, headers and labels.

    Case-insensitive and blind to spaces, underscores, hyphens and punctuation:
    ``Employee ID``, ``employee_id`` and ``EMPLOYEE-ID`` all give ``employeeid``.
    """
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


@dataclass(frozen=True)
class Column:
    """One column of the contract."""

    name: str
    kind: Kind
    help: str
    required: bool = False  # the column must be present in the sheet
    needed: bool = False  # every data row must have a value here
    aliases: tuple[str, ...] = ()  # vendor spellings, matched after normalize()
    # enum: canonical value -> extra labels that mean it; scale: int -> labels.
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labels: dict[int, tuple[str, ...]] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    example: object = None
    refers_to_employee: bool = False  # value must be an employee_id in Employees
    not_after_as_of: bool = False  # a date that cannot be later than the cycle's as_of

    @property
    def allowed(self) -> str:
        """What the column accepts, in words, for messages and header comments."""
        if self.kind == "enum":
            # Only the Evidence signal column can be empty: a rulebook without a signal
            # catalogue. Say so rather than print "()".
            return ", ".join(self.values) or "none: the rulebook has no signals.yaml"
        if self.kind == "scale":
            lo, hi = int(self.minimum or 0), int(self.maximum or 0)
            names = "; ".join(f"{n} {ls[0]}" for n, ls in sorted(self.labels.items()) if ls)
            return f"a whole number {lo}-{hi}" + (f" ({names})" if names else "")
        if self.kind == "bool":
            return "yes or no (Y, N, Yes, No, True, False, 1, 0)"
        if self.kind == "date":
            return "a date (an Excel date, or text such as 2026-03-31)"
        if self.kind == "percent":
            return "a percentage 0-100"
        if self.kind in ("int", "number"):
            what = "a whole number" if self.kind == "int" else "a number"
            if self.minimum is not None and self.maximum is not None:
                return f"{what} {self.minimum:g}-{self.maximum:g}"
            if self.minimum is not None:
                return f"{what} of at least {self.minimum:g}"
            return what
        if self.kind == "id":
            return "an identifier (text)"
        return "text"


@dataclass(frozen=True)
class Sheet:
    """One sheet of the contract."""

    name: str
    help: str
    columns: tuple[Column, ...]
    required: bool = False
    aliases: tuple[str, ...] = ()
    unique: str | None = None  # column whose values must be unique
    single_row: bool = False  # Cycle: one row of settings
    restricted: bool = False  # Demographics: only the fairness monitor reads it

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


LEVEL3 = {"Low": ("L", "Lo"), "Medium": ("M", "Med", "Moderate"), "High": ("H", "Hi")}

PERFORMANCE_LABELS: dict[int, tuple[str, ...]] = {
    1: ("Does not meet", "Does not meet expectations", "Unsatisfactory", "Below expectations"),
    2: ("Partially meets", "Partially meets expectations", "Needs improvement", "Inconsistent"),
    3: ("Meets", "Meets expectations", "Fully meets", "Successful", "Solid"),
    4: ("Exceeds", "Exceeds expectations", "Strong"),
    5: (
        "Far exceeds",
        "Far exceeds expectations",
        "Significantly exceeds",
        "Outstanding",
        "Exceptional",
    ),
}

EMPLOYEE_ID_ALIASES = (
    "Employee ID",
    "EmpID",
    "Emp No",
    "Employee Number",
    "Person Number",
    "Person ID",
    "User ID",
    "Worker",
    "Worker ID",
    "Staff ID",
    "Associate ID",
    "Personnel Number",
)


def _id(name: str, help: str, aliases: tuple[str, ...] = (), **kw: object) -> Column:
    return Column(name, "id", help, aliases=aliases, **kw)  # type: ignore[arg-type]


CYCLE = Sheet(
    "Cycle",
    "Settings for this review cycle: one row.",
    single_row=True,
    aliases=("Review Cycle", "Settings", "Cycle Settings"),
    columns=(
        Column(
            "cycle_id",
            "text",
            "Short identifier of the cycle.",
            example="2026-H2",
            aliases=("Cycle", "Review ID", "Cycle Code"),
        ),
        Column(
            "cycle_name",
            "text",
            "Name of the cycle as the panel knows it.",
            example="Autumn 2026 talent review",
            aliases=("Review Name", "Name"),
        ),
        Column(
            "as_of",
            "date",
            "Every 'how long ago' is measured from this date, never from today's clock.",
            example="2026-10-31",
            aliases=("As of date", "Review Date", "Effective Date", "Cutoff Date"),
        ),
        Column(
            "budget",
            "number",
            "Money available for development investments this cycle.",
            minimum=0,
            example=60000,
            aliases=("Development Budget",),
        ),
        Column("currency", "text", "Currency of budget and costs (ISO code).", example="EUR"),
        Column(
            "panel",
            "text",
            "Panel members, ';'-separated.",
            example="A. Moreau; K. Osei",
            aliases=("Panel Members", "Reviewers"),
        ),
        Column(
            "contact",
            "text",
            "Whom a person asks for an explanation or to contest a recommendation.",
            example="talent-review@example.org",
            aliases=("Contact", "Appeals Contact", "Contest Contact"),
        ),
        Column(
            "contest_by",
            "date",
            "Last day to ask for an explanation or contest a recommendation (briefs say so).",
            example="2026-11-30",
            aliases=("Contest By", "Appeal By", "Contest Deadline", "Appeals Deadline"),
        ),
        Column(
            "contest_evidence",
            "text",
            "What evidence a person should bring to contest: briefs quote it.",
            example="Observations by others, with dates and who saw them.",
            aliases=("Contest Evidence", "Evidence To Bring"),
        ),
    ),
)

EMPLOYEES = Sheet(
    "Employees",
    "One row per person under review.",
    required=True,
    unique="employee_id",
    aliases=("People", "Workers", "Employee", "Talent", "Population"),
    columns=(
        _id(
            "employee_id",
            "Unique identifier; the join key on every sheet. Text: leading zeros are kept.",
            EMPLOYEE_ID_ALIASES,
            required=True,
            needed=True,
            example="E0001",
        ),
        Column(
            "full_name",
            "text",
            "The person's name as the panel knows it.",
            required=True,
            needed=True,
            example="Ana Example",
            aliases=("Name", "Employee Name", "Worker Name", "Legal Name", "Preferred Name"),
        ),
        Column(
            "job_title",
            "text",
            "Current job title.",
            example="Senior Analyst",
            aliases=("Title", "Business Title", "Position", "Position Title", "Job"),
        ),
        Column(
            "job_family",
            "text",
            "Job family or function.",
            example="Finance",
            aliases=("Job Function", "Function", "Job Family Group"),
        ),
        Column(
            "org_unit",
            "text",
            "Team, department or organisation unit.",
            example="Finance Ops",
            aliases=(
                "Department",
                "Supervisory Organization",
                "Organization",
                "Org",
                "Team",
                "Division",
                "Business Unit",
            ),
        ),
        Column(
            "location",
            "text",
            "Work location.",
            example="Lyon",
            aliases=("Work Location", "Site", "Office"),
        ),
        Column(
            "job_level",
            "text",
            "Organisation grade (text or number).",
            example="P3",
            aliases=("Grade", "Job Grade", "Pay Grade", "Level", "Management Level"),
        ),
        _id(
            "manager_id",
            "employee_id of the person's manager; blank for the top.",
            (
                "Manager",
                "Manager ID",
                "Manager Employee ID",
                "Supervisor ID",
                "Reports To",
                "Line Manager",
                "Manager Person Number",
                "Manager User ID",
            ),
            refers_to_employee=True,
            example="E0100",
        ),
        Column(
            "hire_date",
            "date",
            "Date the person joined.",
            example="2019-04-01",
            aliases=(
                "Hire Date",
                "Start Date",
                "Original Hire Date",
                "Date of Hire",
                "Service Date",
            ),
            not_after_as_of=True,
        ),
        Column(
            "date_in_role",
            "date",
            "Date the person started the current role.",
            example="2023-01-15",
            not_after_as_of=True,
            aliases=(
                "Role Start Date",
                "Position Start Date",
                "Date in Position",
                "Job Entry Date",
                "Time in Position Start",
            ),
        ),
        Column(
            "is_people_manager",
            "bool",
            "Does the person manage people now?",
            example="N",
            aliases=("People Manager", "Is Manager", "Manager Flag", "Manages People"),
        ),
        Column(
            "direct_reports",
            "int",
            "Number of direct reports.",
            minimum=0,
            example=0,
            aliases=("Direct Reports", "Number of Direct Reports", "Span of Control"),
        ),
        Column(
            "current_track",
            "enum",
            "The career track the person is on now.",
            values={
                "People manager": ("Manager", "People management", "PM"),
                "Individual contributor": ("IC", "Individual"),
                "Expert": ("Specialist", "Technical expert"),
            },
            example="Individual contributor",
            aliases=("Track", "Career Track"),
        ),
        Column(
            "performance",
            "scale",
            "This cycle's performance rating.",
            minimum=1,
            maximum=5,
            labels=PERFORMANCE_LABELS,
            example=3,
            aliases=(
                "Performance Rating",
                "Overall Rating",
                "Rating",
                "Perf Rating",
                "Current Performance",
                "Overall Performance Rating",
            ),
        ),
        Column(
            "performance_prior_1",
            "scale",
            "Performance rating one cycle ago.",
            minimum=1,
            maximum=5,
            labels=PERFORMANCE_LABELS,
            example=3,
            aliases=(
                "Prior Performance",
                "Previous Rating",
                "Last Year Rating",
                "Performance Last Year",
                "Performance Prior Year",
            ),
        ),
        Column(
            "performance_prior_2",
            "scale",
            "Performance rating two cycles ago.",
            minimum=1,
            maximum=5,
            labels=PERFORMANCE_LABELS,
            example=3,
            aliases=("Performance 2 Years Ago", "Rating 2 Years Ago"),
        ),
        Column(
            "potential",
            "scale",
            "Potential rating.",
            minimum=1,
            maximum=3,
            labels={1: ("Low", "L", "Limited"), 2: ("Medium", "M", "Moderate"), 3: ("High", "H")},
            example=2,
            aliases=("Potential Rating", "Potential Assessment"),
        ),
        Column(
            "expertise",
            "scale",
            "Depth of craft, as rated by the panel.",
            minimum=1,
            maximum=5,
            labels={
                1: ("Novice",),
                2: ("Developing", "Advanced beginner"),
                3: ("Proficient", "Competent"),
                4: ("Advanced",),
                5: ("Expert", "Master"),
            },
            example=3,
            aliases=("Expertise Rating", "Technical Expertise", "Craft"),
        ),
        Column(
            "readiness",
            "enum",
            "Readiness for a bigger role.",
            values={
                "Ready now": ("RN", "Now", "Ready"),
                "Ready 1-2 years": (
                    "R12",
                    "R1-2",
                    "Ready in 1-2 years",
                    "1-2 years",
                    "Ready 1 to 2 years",
                ),
                "Ready 3-5 years": (
                    "R35",
                    "R3-5",
                    "Ready in 3-5 years",
                    "3-5 years",
                    "Ready 3 to 5 years",
                ),
                "Not ready": ("NR", "Not ready yet"),
                "Too new to assess": ("TNTA", "Too new", "New to role"),
            },
            example="Ready 1-2 years",
            aliases=("Promotion Readiness", "Succession Readiness", "Readiness Level"),
        ),
        Column(
            "risk_of_loss",
            "enum",
            "How likely the person is to leave.",
            values=LEVEL3,
            example="Low",
            aliases=("Flight Risk", "Retention Risk", "Attrition Risk", "Risk of Leaving"),
        ),
        Column(
            "impact_of_loss",
            "enum",
            "How much losing the person would hurt.",
            values=LEVEL3,
            example="Medium",
            aliases=("Loss Impact", "Criticality", "Impact of Leaving"),
        ),
        Column(
            "career_interest",
            "enum",
            "What the person says they want next.",
            values={
                "Lead people": ("Manage people", "People leadership", "Management"),
                "Grow as expert": ("Expert", "Specialist", "Technical"),
                "Lead without managing": ("Lead without management", "Informal leadership"),
                "Undecided": ("Unsure", "Not sure"),
                "Stay in role": ("Stay", "Current role"),
            },
            example="Undecided",
            aliases=("Career Aspiration", "Career Preference", "Career Goal"),
        ),
        Column(
            "aspiration_statement",
            "text",
            "The person's own words on why they want (or do not want) to lead.",
            example="I like helping new joiners find their feet.",
            aliases=(
                "Aspirations",
                "In Their Own Words",
                "Employee Comments",
                "Career Goals Statement",
                "Statement",
            ),
        ),
        Column(
            "policy_compliance",
            "scale",
            "Management side: knows and keeps the rules, policies and procedures.",
            minimum=1,
            maximum=5,
            example=4,
            aliases=("Compliance", "Compliance Rating", "Policy Adherence"),
        ),
    ),
)

EVIDENCE = Sheet(
    "Evidence",
    "One row per observed episode of leadership (or its absence).",
    unique="evidence_id",
    aliases=("Observations", "Leadership Evidence", "Episodes"),
    columns=(
        Column(
            "evidence_id",
            "text",
            "Unique identifier of the observation.",
            example="EV-0001",
            aliases=("Observation ID", "Episode ID", "ID"),
        ),
        _id(
            "employee_id",
            "Whom the observation is about.",
            EMPLOYEE_ID_ALIASES + ("Subject", "About", "Subject ID"),
            required=True,
            needed=True,
            refers_to_employee=True,
            example="E0001",
        ),
        Column(
            "signal",
            "enum",
            "Signal code from the rulebook's signal catalogue (rules/signals.yaml): a heart "
            "signal or a counter-signal.",
            required=True,
            needed=True,
            # The codes are the rulebook's (rules/signals.yaml), not the contract's:
            # ingest and the template fill them in (with_signals).
            values={},
            aliases=("Signal Code", "Code", "Behaviour Code", "Behavior Code"),
        ),
        Column(
            "observed_on",
            "date",
            "When it happened.",
            required=True,
            needed=True,
            example="2026-05-12",
            not_after_as_of=True,
            aliases=("Date", "Observed", "Observation Date", "Date Observed"),
        ),
        Column(
            "context",
            "enum",
            "Where it happened.",
            values={
                "Formal role": ("Formal",),
                "No formal authority": ("Informal",),
                "Project": (),
                "Crisis": (),
                "Community": (),
                "Outside work": (),
            },
            example="Project",
            aliases=("Setting", "Situation Type"),
        ),
        Column(
            "influence_base",
            "enum",
            "What the influence rested on.",
            values={
                "Position": ("Title", "Legitimate"),
                "Expertise": ("Expert",),
                "Personal": ("Referent",),
                "Rules and monitoring": ("Rules", "Monitoring", "Authority"),
            },
            example="Personal",
            aliases=("Influence", "Power Base", "Basis of Influence"),
        ),
        Column(
            "initiated_by",
            "enum",
            "Who started it.",
            values={"Self": ("Self-initiated",), "Asked": (), "Assigned": ()},
            example="Self",
            aliases=("Initiated", "Initiative"),
        ),
        Column(
            "frequency",
            "enum",
            "How often the person does this.",
            values={
                "One-off": ("Once", "Single"),
                "Occasional": ("Sometimes",),
                "Habitual": ("Regular", "Routine"),
            },
            example="Habitual",
            aliases=("How Often",),
        ),
        Column(
            "energy",
            "enum",
            "How the person felt doing it.",
            values={"Energised": ("Energized",), "Neutral": (), "Drained": (), "Unknown": ()},
            example="Energised",
            aliases=("Energy Level",),
        ),
        Column(
            "outcome_in_others",
            "enum",
            "What it produced in others.",
            values={
                "Commitment": ("Committed",),
                "Compliance": ("Complied",),
                "Resistance": (),
                "Unknown": (),
            },
            example="Commitment",
            aliases=("Outcome", "Effect on Others", "Response"),
        ),
        Column(
            "source_type",
            "enum",
            "Who reported it.",
            required=True,
            needed=True,
            values={
                "Manager": (),
                "Skip manager": ("Skip-level manager", "Skip level"),
                "Peer": ("Colleague",),
                "Direct report": ("Report", "Subordinate"),
                "Self": ("Self-report", "Self assessment"),
                "Assessment": ("Assessment centre", "Development centre"),
                "HR record": ("HR",),
            },
            example="Peer",
            aliases=("Source", "Reported By Type", "Rater Type"),
        ),
        Column(
            "source_id",
            "text",
            "Who said it (pseudonymous for upward feedback).",
            example="S-17",
            aliases=("Rater", "Rater ID", "Reported By", "Source Name"),
        ),
        Column(
            "observation",
            "text",
            "Situation, behaviour, impact.",
            example="Ran weekly pairing for two new joiners for six months.",
            aliases=("Notes", "Description", "Comment", "SBI"),
        ),
    ),
)

NOMINATIONS = Sheet(
    "Nominations",
    "Who inspires you, and why: one row per nomination.",
    aliases=("Inspiration", "Who Inspires You", "Peer Nominations"),
    columns=(
        _id(
            "nominator_id",
            "employee_id (or pseudonym) of the person nominating.",
            ("Nominator", "Nominated By", "From"),
            required=True,
            needed=True,
            example="E0002",
        ),
        _id(
            "nominee_id",
            "employee_id of the person nominated.",
            ("Nominee", "Nominated", "To", "Nominee Employee ID"),
            required=True,
            needed=True,
            refers_to_employee=True,
            example="E0001",
        ),
        Column(
            "reason",
            "enum",
            "Why they inspire: their position, their expertise or who they are.",
            required=True,
            needed=True,
            values={
                "Position": ("Role", "Title"),
                "Expertise": ("Expert",),
                "Personal": ("Person", "Who they are", "Character"),
            },
            example="Personal",
            aliases=("Why", "Inspiration Type"),
        ),
        Column(
            "comment",
            "text",
            "In the nominator's words.",
            example="Always has time.",
            aliases=("Comments", "Why In Words"),
        ),
    ),
)

TEAMS = Sheet(
    "Teams",
    "One row per people manager: the team's compliance and commitment figures.",
    unique="manager_id",
    aliases=("Team Metrics", "Team", "Managers"),
    columns=(
        _id(
            "manager_id",
            "employee_id of the team's manager.",
            ("Manager", "Manager ID", "Team Lead", "Manager Employee ID"),
            required=True,
            needed=True,
            refers_to_employee=True,
            example="E0100",
        ),
        Column(
            "team_size",
            "int",
            "People in the team.",
            minimum=0,
            example=8,
            aliases=("Headcount", "Team Headcount", "Size"),
        ),
        Column(
            "on_time_rate",
            "percent",
            "Compliance: share of commitments delivered on time, 0-100 %.",
            minimum=0,
            maximum=100,
            example=92,
            aliases=("On Time", "On Time %", "Timeliness"),
        ),
        Column(
            "policy_incidents",
            "int",
            "Compliance: policy incidents in the cycle.",
            minimum=0,
            example=1,
            aliases=("Incidents", "Policy Breaches"),
        ),
        Column(
            "engagement",
            "percent",
            "Commitment: engagement survey score, 0-100 %.",
            minimum=0,
            maximum=100,
            example=74,
            aliases=("Engagement Score", "Engagement %", "eNPS Favourable"),
        ),
        Column(
            "voluntary_attrition",
            "percent",
            "Commitment: voluntary attrition in the cycle, 0-100 %.",
            minimum=0,
            maximum=100,
            example=6,
            aliases=("Attrition", "Voluntary Turnover", "Turnover"),
        ),
    ),
)

# The Investments sheet's tracks (shared/workbook.md): the workbook's words for what an
# investment serves, not the rulebook's outcomes (a rulebook's track decision may name
# its outcomes alike, or not).
INVESTMENT_TRACKS: dict[str, tuple[str, ...]] = {
    "Leadership": (),
    "Expert": (),
    "Personal leadership": (),
    "Management skills": (),
    "Develop in role": (),
    "Diagnostic": (),
    "Retention": (),
}
# The track whose investments are leadership development money (the fairness monitor's
# "recommended for a leadership investment").
LEADERSHIP_TRACK = next(iter(INVESTMENT_TRACKS))

DEVELOPMENT = Sheet(
    "Development",
    "Development history: one row per investment a person has had or has planned.",
    aliases=("Development History", "Learning History", "Training"),
    columns=(
        _id(
            "employee_id",
            "Whose development this is.",
            EMPLOYEE_ID_ALIASES,
            required=True,
            needed=True,
            refers_to_employee=True,
            example="E0001",
        ),
        Column(
            "investment_code",
            "text",
            "Catalogue code, e.g. LEAD-PROG.",
            required=True,
            needed=True,
            example="LEAD-PROG",
            aliases=("Code", "Program Code", "Programme Code", "Course Code"),
        ),
        Column(
            "started",
            "date",
            "Start date.",
            example="2025-01-10",
            not_after_as_of=True,
            aliases=("Start", "Start Date"),
        ),
        Column(
            "ended",
            "date",
            "End date (blank while active).",
            example="2025-06-30",
            aliases=("End", "End Date", "Completed On"),
        ),
        Column(
            "status",
            "enum",
            "Where it stands.",
            values={
                "Planned": (),
                "Active": ("In progress", "Ongoing"),
                "Completed": ("Complete", "Done", "Finished"),
                "Withdrawn": ("Cancelled", "Canceled", "Dropped"),
            },
            example="Completed",
            aliases=("State",),
        ),
        Column(
            "note",
            "text",
            "Anything the panel should know.",
            example="",
            aliases=("Notes", "Comment"),
        ),
        Column(
            "owner",
            "text",
            "Who owns a planned investment (briefs show it in the development plan).",
            example="B. Chief (line manager)",
            aliases=("Owner", "Responsible", "Sponsor"),
        ),
        Column(
            "success_measure",
            "text",
            "How success of a planned investment is measured (briefs show it).",
            example="Runs the team's planning unaided by Q2.",
            aliases=("Success Measure", "Measure Of Success", "Success Criteria"),
        ),
    ),
)

INVESTMENTS = Sheet(
    "Investments",
    "The organisation's development catalogue; when absent, the rulebook's default is used.",
    unique="investment_code",
    aliases=("Catalogue", "Catalog", "Investment Catalogue", "Programmes", "Programs"),
    columns=(
        Column(
            "investment_code",
            "text",
            "Catalogue code, e.g. LEAD-PROG.",
            required=True,
            needed=True,
            example="LEAD-PROG",
            aliases=("Code",),
        ),
        Column(
            "name",
            "text",
            "What it is.",
            example="Cohort leadership programme",
            aliases=("Investment", "Title", "Description"),
        ),
        Column(
            "track",
            "enum",
            "Which track it serves.",
            values=INVESTMENT_TRACKS,
            example="Leadership",
        ),
        Column(
            "mode",
            "enum",
            "70 experience, 20 relationship, 10 course (or a mix).",
            values={
                "70": ("70 experience", "Experience"),
                "20": ("20 relationship", "Relationship"),
                "10": ("10 course", "Course"),
                "70/20": (),
                "70/10": (),
                "overlay": (),
                "-": ("n/a", "none"),
            },
            example="10",
            aliases=("702010", "70-20-10"),
        ),
        Column(
            "seats",
            "int",
            "Places available this cycle; blank means no seat limit.",
            minimum=0,
            example=6,
            aliases=("Places", "Capacity", "Seats Available"),
        ),
        Column(
            "cost_per_person",
            "number",
            "Cost of one place, in the cycle's currency.",
            minimum=0,
            example=4500,
            aliases=("Cost", "Unit Cost", "Cost Per Head"),
        ),
        Column(
            "duration_months",
            "number",
            "How long it runs.",
            minimum=0,
            example=6,
            aliases=("Duration", "Months"),
        ),
    ),
)

# The Overrides sheet's `field`: what the panel decides (shared/workbook.md). These are
# the workbook's words; each that stands for a decision names the role of the decision
# it overrides (OVERRIDE_ROLES, rulebook.ROLES), so a rulebook that renames its
# decisions keeps its overrides. Investments and allocation are decide's own.
INVESTMENT_FIELD = "investment"
ALLOCATION_FIELD = "allocation"
OVERRIDE_FIELDS = {
    "heart": ("verdict", "heart verdict"),
    "track": (),
    INVESTMENT_FIELD: ("investments",),
    "inspiration": (),
    "management": (),
    ALLOCATION_FIELD: (),
}
OVERRIDE_ROLES = {
    "heart": "verdict",
    "track": "development_track",
    "inspiration": "inspiration_profile",
    "management": "management_pattern",
}

OVERRIDES = Sheet(
    "Overrides",
    "The panel's own decisions, kept beside the recommendation, never in place of it.",
    aliases=("Panel Overrides", "Panel Decisions", "Decisions"),
    columns=(
        _id(
            "employee_id",
            "Whose recommendation the panel overrides.",
            EMPLOYEE_ID_ALIASES,
            required=True,
            needed=True,
            refers_to_employee=True,
            example="E0001",
        ),
        Column(
            "field",
            "enum",
            "What is overridden.",
            values=OVERRIDE_FIELDS,
            required=True,
            needed=True,
            example="track",
            aliases=("Overrides", "What", "Item"),
        ),
        Column(
            "decision",
            "text",
            "The panel's decision (a value that field can take).",
            required=True,
            needed=True,
            example="Expert",
            aliases=("Panel Decision", "New Value", "Value"),
        ),
        Column(
            "reason",
            "text",
            "Why the panel decided differently.",
            required=True,
            needed=True,
            example="Has asked to stay technical this year.",
            aliases=("Rationale", "Why", "Justification"),
        ),
        Column(
            "decided_by",
            "text",
            "The named panel member who decided.",
            required=True,
            needed=True,
            example="A. Moreau",
            aliases=("Decider", "By", "Approved By"),
        ),
        Column(
            "decided_on", "date", "When.", example="2026-11-05", aliases=("Date", "Decision Date")
        ),
    ),
)

DEMOGRAPHICS = Sheet(
    "Demographics",
    "Restricted: read only by the fairness monitor, never by the rules.",
    restricted=True,
    unique="employee_id",
    aliases=("EEO", "Diversity", "Protected Characteristics"),
    columns=(
        _id(
            "employee_id",
            "Whose record this is.",
            EMPLOYEE_ID_ALIASES,
            required=True,
            needed=True,
            refers_to_employee=True,
            example="E0001",
        ),
        Column("sex", "text", "As self-reported.", example="Female", aliases=("Gender",)),
        Column(
            "race_ethnicity",
            "text",
            "As self-reported.",
            example="Prefer not to say",
            aliases=("Race", "Ethnicity", "Race/Ethnicity", "Ethnic Group"),
        ),
        Column(
            "age_band",
            "text",
            "As self-reported.",
            example="35-44",
            aliases=("Age Group", "Age Range"),
        ),
    ),
)

SHEETS: tuple[Sheet, ...] = (
    CYCLE,
    EMPLOYEES,
    EVIDENCE,
    NOMINATIONS,
    TEAMS,
    DEVELOPMENT,
    INVESTMENTS,
    OVERRIDES,
    DEMOGRAPHICS,
)

# Columns no rule may read: the Demographics sheet, and these obvious proxies should
# a panel add them to another sheet (they are then ignored, with a warning).
PROTECTED_COLUMNS = frozenset(
    normalize(n)
    for n in (
        "sex",
        "gender",
        "race",
        "ethnicity",
        "race_ethnicity",
        "age",
        "age_band",
        "date_of_birth",
        "birth_date",
        "dob",
        "birth_year",
        "nationality",
        "religion",
        "disability",
        "marital_status",
        "pregnancy",
        "sexual_orientation",
        "title_prefix",
    )
)


def with_signals(sheets: tuple[Sheet, ...], codes: Iterable[str]) -> tuple[Sheet, ...]:
    """The sheets with the Evidence ``signal`` column accepting exactly ``codes``."""
    values: dict[str, tuple[str, ...]] = {code: () for code in codes}
    example = next(iter(values), None)
    updated = []
    for sheet in sheets:
        if sheet.name == EVIDENCE.name:
            columns = tuple(
                replace(c, values=values, example=example) if c.name == "signal" else c
                for c in sheet.columns
            )
            sheet = replace(sheet, columns=columns)
        updated.append(sheet)
    return tuple(updated)


def sheet_by_key() -> dict[str, Sheet]:
    """Every normalized sheet name and alias mapped to its sheet."""
    return {normalize(n): s for s in SHEETS for n in (s.name, *s.aliases)}


def column_by_key(sheet: Sheet) -> dict[str, Column]:
    """Every normalized column name and alias of ``sheet`` mapped to its column."""
    return {normalize(n): c for c in sheet.columns for n in (c.name, *c.aliases)}
