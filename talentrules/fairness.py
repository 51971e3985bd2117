"""The fairness monitor: selection rates and impact ratios from the Demographics sheet
only (docs/audit.md). No rule ever sees that sheet; this module reads it to measure
the run's recommendations, for the panel summary and ``audit fairness``.

It runs no engine: a run's result, or an output folder's recommendations.json with
the workbook (for Demographics only), is all it reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talentrules import decide
from talentrules.contract import OVERRIDE_ROLES
from talentrules.errors import AuditError
from talentrules.ingest import load_workbook
from talentrules.model import Panel, Value
from talentrules.paths import default_rules_dir
from talentrules.record import (
    MANIFEST,
    MAX_TRACE_BYTES,
    RECOMMENDATIONS,
    Unreadable,
    as_list,
    as_object,
    read_manifest,
    read_regular,
    reason_of,
    strict_json,
)
from talentrules.rulebook import Rulebook, load_rulebook

if TYPE_CHECKING:
    from talentrules.run import RunResult

MIN_GROUP = 5  # fairness: smaller groups are reported as too small, never as ratios
FOUR_FIFTHS = 0.80  # fairness: impact ratios below this are flagged
THRESHOLD = Fraction(4, 5)
# Category values that say "not known" (compared case-insensitively); blank too.
UNKNOWN_CATEGORIES = frozenset(
    {"unknown", "prefer not to say", "not disclosed", "declined", "not stated", "n/a"}
)
UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)  # one a person
class Subject:
    """One evaluated person as the fairness monitor sees them."""

    employee_id: str
    sex: str  # as recorded, or UNKNOWN
    race_ethnicity: str  # as recorded, or UNKNOWN
    selected: frozenset[str]  # the measures the person was selected for


@dataclass(frozen=True)
class GroupFigure:
    """One group's selection under one measure."""

    group: str
    people: int
    selected: int
    rate: float | None  # None: too small or unknown category
    impact_ratio: float | None  # rate / highest rate among compared groups
    flagged: bool  # impact ratio below FOUR_FIFTHS
    status: str  # "compared", "reference" (highest rate), "too small", "unknown"


@dataclass(frozen=True)
class Table:
    """One measure by one grouping: every group, compared or not."""

    measure: str
    by: str  # "sex", "race/ethnicity", "sex x race/ethnicity"
    groups: tuple[GroupFigure, ...]
    note: str  # e.g. "no one selected: no ratios"


@dataclass(frozen=True)
class FairnessReport:
    """The fairness monitor: selection rates and impact ratios, four-fifths flags."""

    people: int
    without_record: int  # evaluated people with no Demographics row (counted as unknown)
    unknown_sex: int
    unknown_race_ethnicity: int
    min_group: int
    threshold: float
    measures: tuple[str, ...]
    tables: tuple[Table, ...]
    advantages: tuple[str, ...] = ()  # the measures whose low ratios are flagged

    @property
    def flagged(self) -> tuple[tuple[Table, GroupFigure], ...]:
        return tuple((t, g) for t in self.tables for g in t.groups if g.flagged)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def category(value: Value) -> str:
    """A Demographics value as a group name; blank and 'prefer not to say' are unknown."""
    if value is None:
        return UNKNOWN
    text = " ".join(str(value).split())
    return UNKNOWN if not text or text.casefold() in UNKNOWN_CATEGORIES else text


@dataclass(frozen=True)
class Measure:
    """One outcome the monitor measures, and whether it confers an advantage."""

    name: str  # "Heart for leadership: Strong"
    advantage: bool  # only then is a low impact ratio flagged


def allocated_measure(tracks: Sequence[str]) -> str:
    return f"Allocated a seat in a development investment ({' or '.join(tracks)} track)"


def measures_of(rulebook: Rulebook, advantage_tracks: Sequence[str]) -> list[Measure]:
    """Each outcome of each decision that declares ``fairness`` (decisions.yaml), in
    decision order, then the allocation of an investment on a track that confers an
    advantage (catalogue.yaml ``allocation.advantage``), if the policy names any."""
    found = [
        Measure(f"{decision.heading}: {outcome}", decision.fairness.get(outcome) == "advantage")
        for decision in rulebook.decisions.values()
        if decision.fairness
        for outcome in decision.outcomes
    ]
    if advantage_tracks:
        found.append(Measure(allocated_measure(advantage_tracks), True))
    return found


def _table(
    subjects: Sequence[Subject],
    measure: str,
    by: str,
    key: Any,
    min_group: int,
    advantage: bool = True,
) -> Table:
    members: dict[str, list[Subject]] = {}
    for s in subjects:
        members.setdefault(key(s), []).append(s)
    # Fractions: a ratio of exactly 4/5 is not flagged, whatever floats would say.
    rates: dict[str, Fraction] = {}
    for group, people in members.items():
        if UNKNOWN not in group and len(people) >= min_group:
            rates[group] = Fraction(sum(measure in s.selected for s in people), len(people))
    top = max(rates.values(), default=Fraction(0))
    figures = []
    for group in sorted(members, key=lambda g: (UNKNOWN in g, g)):
        people = members[group]
        chosen = sum(measure in s.selected for s in people)
        if UNKNOWN in group:
            figures.append(GroupFigure(group, len(people), chosen, None, None, False, "unknown"))
        elif group not in rates:
            figures.append(GroupFigure(group, len(people), chosen, None, None, False, "too small"))
        else:
            rate = rates[group]
            ratio = rate / top if top > 0 else None
            # Only an outcome that confers an advantage is flagged: a lower rate of
            # "develop in role" withholds nothing.
            flagged = advantage and ratio is not None and ratio < THRESHOLD
            status = "reference" if top > 0 and rate == top else "compared"
            figures.append(
                GroupFigure(
                    group,
                    len(people),
                    chosen,
                    round(float(rate), 4),
                    None if ratio is None else round(float(ratio), 4),
                    flagged,
                    status,
                )
            )
    if len(rates) < 2:
        note = f"fewer than two groups of {min_group} or more with a known category: no ratios"
    elif top == 0:
        note = "no one in a compared group was selected: no ratios"
    else:
        note = ""
    return Table(measure, by, tuple(figures), note)


def fairness_of(
    subjects: Sequence[Subject],
    measures: Sequence[str | Measure],
    min_group: int = MIN_GROUP,
    without_record: int = 0,
) -> FairnessReport:
    """Selection rates and impact ratios for each measure by sex, by race/ethnicity and
    by both; groups under ``min_group`` and unknown categories are counted, not rated.
    A measure given by name confers an advantage (its low ratios are flagged)."""
    kinds = [m if isinstance(m, Measure) else Measure(m, True) for m in measures]
    tables = []
    for measure in kinds:
        name, advantage = measure.name, measure.advantage
        tables.append(_table(subjects, name, "sex", lambda s: s.sex, min_group, advantage))
        tables.append(
            _table(
                subjects,
                name,
                "race/ethnicity",
                lambda s: s.race_ethnicity,
                min_group,
                advantage,
            )
        )
        tables.append(
            _table(
                subjects,
                name,
                "sex x race/ethnicity",
                lambda s: f"{s.sex} / {s.race_ethnicity}",
                min_group,
                advantage,
            )
        )
    return FairnessReport(
        people=len(subjects),
        without_record=without_record,
        unknown_sex=sum(s.sex == UNKNOWN for s in subjects),
        unknown_race_ethnicity=sum(s.race_ethnicity == UNKNOWN for s in subjects),
        min_group=min_group,
        threshold=FOUR_FIFTHS,
        measures=tuple(m.name for m in kinds),
        tables=tuple(tables),
        advantages=tuple(m.name for m in kinds if m.advantage),
    )


def _demographics(panel: Panel) -> dict[str, tuple[str, str]]:
    # Equal pairs made one: a whole company's people fall into a few dozen groups.
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    return {
        str(row.get("employee_id")): pairs.setdefault(pair, pair)
        for row in panel.rows.get("Demographics", [])
        if row.get("employee_id") is not None
        for pair in [(category(row.get("sex")), category(row.get("race_ethnicity")))]
    }


def has_demographics(panel: Panel) -> bool:
    return "Demographics" in panel.found


@dataclass(frozen=True)
class Selection:
    """What one person was recommended and allocated, for the fairness measures."""

    employee_id: str
    outcomes: Mapping[str, Sequence[str]]  # decision -> its outcome(s)
    investments: tuple[tuple[str, str | None, str], ...]  # (code, catalogue track, status)


def _subjects(
    panel: Panel,
    selections: Iterable[Selection],
    rulebook: Rulebook,
    advantage_tracks: Sequence[str],
) -> tuple[list[Subject], int]:
    demographics = _demographics(panel)
    subjects = []
    kinds: dict[frozenset[str], frozenset[str]] = {}  # equal selections made one
    missing = 0
    monitored = [d for d in rulebook.decisions.values() if d.fairness]
    for s in selections:
        if s.employee_id not in demographics:
            missing += 1
        sex, race = demographics.get(s.employee_id, (UNKNOWN, UNKNOWN))
        chosen = {
            f"{d.heading}: {outcome}" for d in monitored for outcome in s.outcomes.get(d.name, ())
        }
        if advantage_tracks and any(
            status == "allocated" and track in advantage_tracks
            for _, track, status in s.investments
        ):
            chosen.add(allocated_measure(advantage_tracks))
        selected = frozenset(chosen)
        subjects.append(Subject(s.employee_id, sex, race, kinds.setdefault(selected, selected)))
    return subjects, missing


def fairness(
    result: RunResult, min_group: int = MIN_GROUP, decided: bool = False
) -> FairnessReport | None:
    """The fairness monitor of a run; None when the workbook has no Demographics sheet.

    Measures are the system's recommendations and allocation, before any override; with
    ``decided``, the panel's decisions instead (its overrides of a decision that plays a
    role, and the plan with its decisions counted), as ``talentrules serve`` shows them
    while the panel decides."""
    if not has_demographics(result.panel):
        return None
    catalogue = result.decisions.catalogue

    def selections() -> Iterator[Selection]:  # one at a time: made for everyone
        for r in result.results:
            recommendation = result.decisions.recommendations.get(r.employee_id)
            if decided and recommendation is not None:
                outcomes = _decided_outcomes(result.rulebook, r.evaluation.outcomes, recommendation)
                statuses = [(e.code, e.status) for e in result.plan.of(r.employee_id)]
            else:
                outcomes = r.evaluation.outcomes
                allotments = recommendation.allocation if recommendation else ()
                statuses = [(a.code, a.status) for a in allotments]
            yield Selection(
                r.employee_id,
                outcomes,
                tuple(
                    (code, (inv.track if (inv := catalogue.get(code)) else None), status)
                    for code, status in statuses
                ),
            )

    tracks = result.decisions.policy.advantage
    subjects, missing = _subjects(result.panel, selections(), result.rulebook, tracks)
    return fairness_of(subjects, measures_of(result.rulebook, tracks), min_group, missing)


def _decided_outcomes(
    rulebook: Rulebook,
    outcomes: Mapping[str, tuple[str, ...]],
    recommendation: decide.Recommendation,
) -> dict[str, tuple[str, ...]]:
    """A person's outcomes with the panel's applied overrides of role-playing decisions."""
    decided = dict(outcomes)
    for override in recommendation.overrides:
        role = OVERRIDE_ROLES.get(override.field)
        decision = rulebook.role(role) if role and override.applies else None
        if decision is not None:
            decided[decision.name] = override.decision
    return decided


def fairness_of_outdir(
    outdir: str | Path, workbook: str | Path | None = None, min_group: int = MIN_GROUP
) -> FairnessReport | None:
    """The fairness monitor from an output folder: recommendations.json for who was
    selected, the workbook (the manifest's, or ``workbook``) for Demographics only."""
    outdir = Path(outdir)
    manifest = read_manifest(outdir)
    recorded = as_object(manifest.get("input"))
    if workbook is None and not isinstance(recorded.get("path"), str):
        raise AuditError(
            f"{outdir / MANIFEST}: records no workbook path; give the workbook with --workbook"
        )
    path = Path(workbook) if workbook is not None else Path(recorded["path"])
    if not path.exists():  # a workbook or a folder of CSV files
        raise AuditError(
            f"{outdir / MANIFEST}: the run's workbook {path} is not there; give it with --workbook"
        )
    panel = load_workbook(path)
    if panel.sha256 != recorded.get("sha256"):
        raise AuditError(f"{path}: not the workbook of the run in {outdir} (SHA-256 differs)")
    if not has_demographics(panel):
        return None
    rules = as_object(manifest.get("rulebook"))
    if not rules.get("packaged") and not isinstance(rules.get("path"), str):
        raise AuditError(f"{outdir / MANIFEST}: records no rules folder")
    rules_dir = default_rules_dir() if rules.get("packaged") else Path(rules["path"])
    rulebook = load_rulebook(rules_dir)
    catalogue = decide.load_catalogue(panel, rules_dir)
    where = outdir / RECOMMENDATIONS
    tracks = decide.load_policy(rules_dir).advantage
    try:
        people = strict_json(read_regular(where, MAX_TRACE_BYTES).decode("utf-8"))["people"]
        if not isinstance(people, list):
            raise TypeError("'people' is not a list")
    except FileNotFoundError as error:
        raise AuditError(f"{where}: missing") from error
    except Unreadable as error:
        raise AuditError(f"{where}: {error}") from error
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise AuditError(f"{where}: cannot read: {reason_of(error)}") from error
    selections = []
    for person in map(as_object, people):
        allocation = as_object(person.get("allocation"))
        selections.append(
            Selection(
                str(person.get("employee_id")),
                {
                    str(k): tuple(str(t) for t in as_list(v))
                    for k, v in as_object(person.get("outcomes")).items()
                },
                tuple(
                    (
                        str(code),
                        (inv.track if (inv := catalogue.get(str(code))) else None),
                        str(as_object(allocation.get(str(code))).get("status")),
                    )
                    for code in as_list(person.get("investments"))
                ),
            )
        )
    subjects, missing = _subjects(panel, selections, rulebook, tracks)
    return fairness_of(subjects, measures_of(rulebook, tracks), min_group, missing)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def format_fairness(report: FairnessReport | None) -> str:
    """The fairness monitor as text (80 columns)."""
    if report is None:
        return "no Demographics sheet: the fairness monitor has nothing to measure"
    lines = [
        f"Fairness monitor: {report.people} people "
        f"({report.without_record} without a Demographics row, counted as unknown; "
        f"unknown sex {report.unknown_sex}, unknown race/ethnicity "
        f"{report.unknown_race_ethnicity}).",
        f"Impact ratio = group selection rate / highest group rate; below "
        f"{report.threshold:.2f} flagged (four-fifths rule). Groups under "
        f"{report.min_group} people are too small to rate; unknown categories are "
        "counted, not rated.",
    ]
    for table in report.tables:
        lines.append("")
        advantage = table.measure in report.advantages or not report.advantages
        lines.append(
            f"{table.measure}, by {table.by}"
            + ("" if advantage else " (no advantage: not flagged)")
        )
        width = max([len(g.group) for g in table.groups] + [5])
        lines.append(f"  {'group':<{width}}  people  selected    rate  ratio")
        for g in table.groups:
            if g.status in ("unknown", "too small"):
                tail = g.status
            else:
                ratio = "-" if g.impact_ratio is None else f"{g.impact_ratio:.2f}"
                tail = f"{_percent(g.rate):>6}  {ratio:>5}" + ("  FLAG" if g.flagged else "")
            lines.append(f"  {g.group:<{width}}  {g.people:>6}  {g.selected:>8}  {tail}")
        if table.note:
            lines.append(f"  ({table.note})")
    flagged = report.flagged
    lines.append("")
    lines.append(
        f"{len(flagged)} impact ratio{'s' if len(flagged) != 1 else ''} below "
        f"{report.threshold:.2f}"
        + (
            ": " + "; ".join(f"{t.measure} by {t.by}: {g.group}" for t, g in flagged)
            if flagged
            else ""
        )
    )
    return "\n".join(lines)
