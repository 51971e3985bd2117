"""The Overrides sheet: what the panel decided differently from the recommendation, and
why.

docs/workbook.md is written from these tables: rerun scripts/gen_docs.py after a change
here (tests/test_docs.py fails until you do)."""

from __future__ import annotations

from talentrules.contract.people import employee_id_column
from talentrules.contract.schema import Column, Sheet

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
        employee_id_column("Whose recommendation the panel overrides."),
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
