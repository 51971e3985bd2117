"""The library's main entry point: one workbook in, every stage run, one RunResult out.

``evaluate_workbook`` chains ingest -> facts -> engine -> decide -> plan and times
each stage; ``talentrules.report.write_outputs`` turns the result into files. The CLI's
``evaluate`` and ``explain`` are these two calls and nothing more.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from talentrules import decide, engine, facts, plan
from talentrules.errors import UnknownPersonError, ValidationError
from talentrules.ingest import load_workbook
from talentrules.ingest.report import ordered, problem_counts, tally
from talentrules.messages import ExceptionNotes
from talentrules.model import Panel, Problem, Row, RowAbout
from talentrules.paths import default_rules_dir
from talentrules.rulebook import Rulebook, load_rulebook
from talentrules.rulefiles import open_rules

# progress(stage, done, total): stage is "engine" or "briefs"; called as work completes.
Progress = Callable[[str, int, int], None]


@dataclass
class RunResult:
    """Everything one evaluation produced, in employee_id order, ready to report."""

    panel: Panel
    rulebook: Rulebook
    rules_dir: Path
    # by employee_id; a run's are derived when read (facts.FactsOnDemand), and what the
    # allocation and plan read of everyone is kept in each result (Result.kept)
    facts: Mapping[str, facts.PersonFacts]
    results: list[engine.Result]  # engine conclusions and traces, employee_id order
    decisions: decide.Decisions  # recommendations, allocation, catalogue, overrides
    employees: Mapping[str, Row]  # the Employees row of each evaluated person
    # The plan with the panel's decisions counted: seats, money, over-commitments,
    # fallbacks (talentrules.plan); None only for a result built without one.
    final: plan.FinalPlan | None = None
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    # For the run's manifest (talentrules.audit): when the run began (UTC, ISO) and
    # whether rejected rows were allowed, so a replay uses the same option.
    started: str = ""
    allow_rejects: bool = False
    # With a session's decisions applied (``with_session``): its copy's name in OUTDIR,
    # how many decisions it holds and the last one's hash, for the manifest and replay.
    session: dict[str, object] | None = None

    @property
    def problems(self) -> list[Problem]:
        """Every problem found: the workbook's, then the catalogue's, allocation's and
        overrides', then what the panel's decisions take past a limit (errors first)."""
        final = self.final.problems if self.final is not None else ()
        return ordered([*self.panel.problems, *self.decisions.problems, *final])

    @property
    def plan(self) -> plan.FinalPlan:
        """The plan as the panel decided it (computed now when the result has none)."""
        if self.final is None:
            self.final = plan.final_plan(
                self.decisions,
                {r.employee_id: r.evaluation for r in self.results},
                {r.employee_id: r.kept for r in self.results},
                self.panel.path.name,
            )
        return self.final

    def index(self, employee_id: str) -> int:
        """Where ``employee_id`` is in ``results``; UnknownPersonError naming a few known
        ids when nobody evaluated has it."""
        for number, result in enumerate(self.results):
            if result.employee_id == employee_id:
                return number
        known = ", ".join(r.employee_id for r in self.results[:5])
        raise UnknownPersonError(
            f"{self.panel.path.name}: no evaluated person has employee_id {employee_id!r} "
            f"(for example: {known})"
        )

    def result(self, employee_id: str) -> engine.Result:
        """One person's engine result; KeyError if they were not evaluated."""
        for result in self.results:
            if result.employee_id == employee_id:
                return result
        raise KeyError(employee_id)


def refusal(panel: Panel) -> ValidationError:
    """The error for a workbook with errors: each error as ``validate`` prints it, and
    the count as ``validate`` counts (``ingest.report.tally``)."""
    lines = [str(p) for p in ordered(panel.errors)]
    lines.append(
        f"{panel.path.name}: NOT usable ({tally(problem_counts(panel))}): fix the errors, or "
        "run with --allow-rejects to evaluate the usable rows"
    )
    return ValidationError("\n".join(lines))


def evaluate_workbook(
    path: str | Path,
    rules_dir: str | Path | None = None,
    jobs: int | None = None,
    allow_rejects: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Validate, compute facts, run the rules, allocate and apply overrides.

    Raises ValidationError listing the workbook's errors unless ``allow_rejects``;
    then rejected rows stay out and everything usable is evaluated. Warnings never
    stop a run.
    """
    timings: dict[str, float] = {}
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    folder = Path(rules_dir) if rules_dir is not None else default_rules_dir()
    # The rulebook first: its signal catalogue says which Evidence codes are valid.
    files = open_rules(folder)
    rulebook = load_rulebook(folder)
    default_catalogue = facts.load_catalogue(files) if files.has(facts.CATALOGUE_FILE) else None
    lap("rulebook")
    panel = load_workbook(path, signals=rulebook.signals, jobs=jobs)
    lap("ingest")
    if panel.errors and not allow_rejects:
        raise refusal(panel)
    employees = RowAbout(panel, "Employees")
    if not employees:
        raise ValidationError(f"{panel.path.name}: no usable Employees row to evaluate")
    # Nobody's facts are kept: they are derived in the engine's batches, and again when
    # a person's trace or brief is built; the results keep what the allocation reads.
    people = facts.FactsOnDemand(
        facts.PanelDerivation(panel, rulebook.vocabulary, default_catalogue)
    )
    lap("facts")
    total = len(people)
    results = engine.run(
        rulebook,
        people,
        jobs=jobs,
        progress=None if progress is None else lambda done: progress("engine", done, total),
        keep=decide.facts_read(rulebook),
        # The summary's exception notes need the facts: made where they are derived.
        note=ExceptionNotes(rulebook),
    )
    lap("engine")
    values = {r.employee_id: r.kept for r in results}
    decisions = decide.decide(panel, [r.evaluation for r in results], values, rulebook)
    final = plan.final_plan(
        decisions, {r.employee_id: r.evaluation for r in results}, values, panel.path.name
    )
    lap("allocation")
    return RunResult(
        panel=panel,
        rulebook=rulebook,
        rules_dir=folder,
        facts=people,
        results=results,
        decisions=decisions,
        employees=employees,
        final=final,
        timings=timings,
        started=started,
        allow_rejects=allow_rejects,
    )


def with_session(
    result: RunResult,
    session: Sequence[Row],
    info: dict[str, object] | None = None,
    read: Callable[[Row], decide.ReadOverride] | None = None,
    pristine: Mapping[str, decide.Recommendation] | None = None,
) -> RunResult:
    """``result`` with a session's decisions (``talentrules.session``, as Overrides rows)
    applied after the workbook's own overrides, and the plan counted again.

    Nothing before the overrides is re-run: the allocation does not depend on them
    (``decide``: the panel decides with the allocation in front of it). This is what
    ``talentrules serve`` runs after each decision, and ``evaluate --session`` once;
    ``info`` describes the session for the run's manifest; ``read`` stands in for
    ``decide.read_override`` (a meeting reads each row once), ``pristine`` for the
    recommendations before any override (``decide.recommend``, made once too)."""
    decisions = result.decisions
    if pristine is None:
        evaluations = [r.evaluation for r in result.results]
        pristine = decide.recommend(evaluations, decisions.allocation)
    recommendations, problems = decide.apply_overrides(
        pristine,
        result.panel,
        result.rulebook.decisions,
        decisions.catalogue,
        decisions.policy,
        session,
        read,
    )
    applied = replace(
        decisions,
        recommendations=recommendations,
        problems=decisions.catalogue.problems + decisions.allocation.problems + problems,
    )
    updated = replace(result, decisions=applied, final=None, session=info)
    updated.final = updated.plan  # counted now, once
    return updated


def apply_session(
    result: RunResult, path: str | Path, reuse: bool = False, file: str = "session.sqlite"
) -> RunResult:
    """``result`` with the decisions of the session file at ``path`` applied (refused when
    the session was recorded on another workbook or rulebook, unless ``reuse``); the
    file is only read."""
    from talentrules.session import read_session

    meta, decisions = read_session(path, result.panel.sha256, result.rulebook.sha256, reuse)
    info: dict[str, object] = {
        "file": file,
        "decisions": len(decisions),
        "last_hash": decisions[-1].hash if decisions else meta.hash,
    }
    return with_session(result, [d.as_row() for d in decisions], info)
