"""The Demographics sheet, which only the fairness monitor reads, and the columns no rule
may read wherever a panel puts them.

docs/workbook.md is written from these tables: rerun scripts/gen_docs.py after a change
here (tests/test_docs.py fails until you do)."""

from __future__ import annotations

from talentrules.contract.people import employee_id_column
from talentrules.contract.schema import Column, Sheet, normalize

DEMOGRAPHICS = Sheet(
    "Demographics",
    "Restricted: read only by the fairness monitor, never by the rules.",
    restricted=True,
    unique="employee_id",
    aliases=("EEO", "Diversity", "Protected Characteristics"),
    columns=(
        employee_id_column("Whose record this is."),
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
