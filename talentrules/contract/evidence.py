"""The Evidence and Nominations sheets: what was observed of each person, by whom and when,
and who nominated whom.

docs/workbook.md is written from these tables: rerun scripts/gen_docs.py after a change
here (tests/test_docs.py fails until you do)."""

from __future__ import annotations

from talentrules.contract.people import EMPLOYEE_ID_ALIASES, employee_id_column
from talentrules.contract.schema import Column, Sheet, id_column

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
        employee_id_column(
            "Whom the observation is about.",
            EMPLOYEE_ID_ALIASES + ("Subject", "About", "Subject ID"),
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
        id_column(
            "nominator_id",
            "employee_id (or pseudonym) of the person nominating.",
            ("Nominator", "Nominated By", "From"),
            required=True,
            needed=True,
            example="E0002",
        ),
        id_column(
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
