"""The Development and Investments sheets: what each person is doing to develop, and the
investment catalogue with the tracks it serves.

docs/workbook.md is written from these tables: rerun scripts/gen_docs.py after a change
here (tests/test_docs.py fails until you do)."""

from __future__ import annotations

from talentrules.contract.people import employee_id_column
from talentrules.contract.schema import Column, Sheet

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
        employee_id_column("Whose development this is."),
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
