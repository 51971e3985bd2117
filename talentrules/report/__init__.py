"""Everything a run hands back to people: briefs, the panel summary, the results
workbook, recommendations.json, and (through ``talentrules.record``) trace.jsonl and
manifest.json.

The package's modules, one job each, data flowing down the list:

- ``words``: values as people read them; ``names``: safe brief file names;
- ``contexts``: the documented template contexts (``BriefContext``,
  ``SummaryContext`` and their parts; ``docs/outputs.md`` lists every field);
- ``view``: a run indexed once for the builders; ``brief``: one builder per brief
  section; ``summary``: one builder per summary section; ``builder``: both on one
  object;
- ``render``: the templates and the escaping each output language needs (the only
  module rendering documents with jinja2);
- ``data``: recommendations.json; ``workbook``: recommendations.xlsx;
- ``publish``: writing OUTDIR all at once; ``explain``: one brief for the terminal.
"""

from __future__ import annotations

from talentrules.errors import OutputError
from talentrules.record import trace_lines
from talentrules.report.builder import ContextBuilder
from talentrules.report.contexts import (
    CONTEXT_TYPES,
    NO_FAIRNESS,
    AllocationLine,
    Aspiration,
    BalanceLine,
    Bar,
    BriefContext,
    Contest,
    DecisionChanges,
    Distribution,
    DocumentInfo,
    EvidenceItem,
    ExceptionGroup,
    FairnessRow,
    FairnessSection,
    FairnessTable,
    FiredRule,
    Grid,
    GridCell,
    HeartSection,
    HowDecided,
    InfluenceSection,
    NearMiss,
    Nomination,
    OverrideItem,
    OverrideLine,
    PersonHeader,
    PersonRef,
    PlanItem,
    RejectedLine,
    RuleLine,
    SheetLine,
    SignalLine,
    Snapshot,
    SummaryContext,
    TeamFigures,
    UnseatedLine,
    WaitItem,
    help_texts,
)
from talentrules.report.data import SCHEMA_VERSION, recommendations_json
from talentrules.report.explain import render_brief_text
from talentrules.report.names import Namer
from talentrules.report.publish import Hook, Progress, Written, check_outdir, write_outputs
from talentrules.report.render import TEMPLATE_NAMES, Renderer, md_escape
from talentrules.report.summary import fairness_section
from talentrules.report.view import RunView, rulebook_label
from talentrules.report.words import CONFIDENTIAL, UNKNOWN, shown
from talentrules.report.workbook import write_xlsx

__all__ = [
    "CONFIDENTIAL",
    "CONTEXT_TYPES",
    "NO_FAIRNESS",
    "SCHEMA_VERSION",
    "TEMPLATE_NAMES",
    "UNKNOWN",
    "AllocationLine",
    "Aspiration",
    "BalanceLine",
    "Bar",
    "BriefContext",
    "Contest",
    "ContextBuilder",
    "DecisionChanges",
    "Distribution",
    "DocumentInfo",
    "EvidenceItem",
    "ExceptionGroup",
    "FairnessRow",
    "FairnessSection",
    "FairnessTable",
    "FiredRule",
    "Grid",
    "GridCell",
    "HeartSection",
    "Hook",
    "HowDecided",
    "InfluenceSection",
    "Namer",
    "NearMiss",
    "Nomination",
    "OutputError",
    "OverrideItem",
    "OverrideLine",
    "PersonHeader",
    "PersonRef",
    "PlanItem",
    "Progress",
    "RejectedLine",
    "Renderer",
    "RuleLine",
    "RunView",
    "SheetLine",
    "SignalLine",
    "Snapshot",
    "SummaryContext",
    "TeamFigures",
    "UnseatedLine",
    "WaitItem",
    "Written",
    "check_outdir",
    "fairness_section",
    "help_texts",
    "md_escape",
    "recommendations_json",
    "render_brief_text",
    "rulebook_label",
    "shown",
    "trace_lines",
    "write_outputs",
    "write_xlsx",
]
