"""The Cycle sheet: one row of settings for the review cycle (its as-of date, budget,
currency).

docs/workbook.md is written from these tables: rerun scripts/gen_docs.py after a change
here (tests/test_docs.py fails until you do)."""

from __future__ import annotations

from talentrules.contract.schema import Column, Sheet

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
