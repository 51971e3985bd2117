"""The command line: parse arguments, call one library function, print the result.

The only module that imports click. Every ``TalentRulesError`` becomes a message on
stderr and an exit status by its kind (``EXIT_CODES``, in one decorator,
``user_errors``); usage errors exit 2 (click). With ``--format json``, stdout holds
one JSON document whatever happens: the result, or ``{"error": {...}}`` for a
refusal or a usage error (``_Command``). Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import functools
import importlib.metadata
import itertools
import json
import os
import platform
import re
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click

from talentrules import __version__
from talentrules.errors import (
    EngineError,
    OutputError,
    RulebookError,
    RuleConflictError,
    SettingError,
    TalentRulesError,
)

if TYPE_CHECKING:  # the commands import the library when they run, for a quick --help
    from talentrules.rulebook import CheckReport
    from talentrules.run import RunResult

P = ParamSpec("P")
R = TypeVar("R")

# Exit statuses, one per kind of failure, so a script or CI can tell them apart.
EXIT_INPUT = 1  # an input refused: not a workbook, a missing file, errors, unknown id
EXIT_USAGE = 2  # click's: bad arguments or options
EXIT_RULES = 3  # the rulebook: will not load, check errors, failing rule tests
EXIT_AUDIT = 4  # audit verify: the output folder does not match its record
EXIT_OUTPUT = 5  # the outputs could not be written (OUTDIR exists, disk full, a template)
EXIT_ENGINE = 6  # durable_rules failed, or cannot be imported on this Python

# Error class -> (exit status, kind); the first class the error is an instance of
# decides, so subclasses go before their bases and TalentRulesError comes last.
EXIT_CODES: tuple[tuple[type[TalentRulesError], int, str], ...] = (
    (SettingError, EXIT_USAGE, "usage"),
    (RulebookError, EXIT_RULES, "rulebook"),
    (RuleConflictError, EXIT_RULES, "rulebook"),
    (OutputError, EXIT_OUTPUT, "output"),
    (EngineError, EXIT_ENGINE, "engine"),
    # WorkbookError, ValidationError, UnknownPersonError, AuditError and any other
    (TalentRulesError, EXIT_INPUT, "input"),
)

# What each status means, for --help, the README and docs/cli.md (scripts/gen_docs.py).
EXIT_STATUSES: tuple[tuple[int | str, str], ...] = (
    (0, "done (validate: the workbook is usable; warnings allowed)"),
    (
        EXIT_INPUT,
        "an input refused: not a workbook, a missing file, a workbook with errors, "
        "an unknown employee_id, an OUTDIR that cannot be audited",
    ),
    (
        EXIT_USAGE,
        "bad arguments or options (click's usage error; a --set value the rulebook refuses)",
    ),
    (
        EXIT_RULES,
        "a rulebook problem: it will not load, `rules check` found errors, a rule test "
        "failed or (with --coverage) left a gap",
    ),
    (EXIT_AUDIT, "`audit verify` found a mismatch: the folder differs from its record"),
    (EXIT_OUTPUT, "the outputs could not be written (OUTDIR exists, a template error, disk)"),
    (EXIT_ENGINE, "the rule engine failed (durable_rules refused a value or cannot import)"),
    (
        "128 + N",
        "evaluate stopped by signal N (Ctrl-C 130, SIGHUP 129, SIGTERM 143) before its "
        "outputs were published: nothing was written",
    ),
)
EXIT_HELP = (
    "Exit status: "
    + "; ".join(f"{status} {meaning}" for status, meaning in EXIT_STATUSES)
    + '. With --format json, stdout is JSON even on failure: {"error": {"exit_code", '
    '"kind", "type", "message"}}.'
)


def exit_status(error: TalentRulesError) -> tuple[int, str]:
    """The exit status and kind (``input``, ``rulebook``...) of a library error."""
    for kind_of, status, kind in EXIT_CODES:
        if isinstance(error, kind_of):
            return status, kind
    return EXIT_INPUT, "input"  # unreachable: TalentRulesError is last


def _echo_json(data: object) -> None:
    # allow_nan=False: NaN and Infinity are not JSON; a value like that is a bug to see.
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))


def _echo_json_error(exit_code: int, kind: str, error: BaseException, message: str) -> None:
    _echo_json(
        {
            "error": {
                "exit_code": exit_code,
                "kind": kind,
                "type": type(error).__name__,
                "message": message,
            }
        }
    )


def _wants_json() -> bool:
    context = click.get_current_context(silent=True)
    return context is not None and context.params.get("output_format") == "json"


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the library's errors into a message and an exit status by kind (EXIT_CODES),
    with the error as JSON on stdout under --format json; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except TalentRulesError as error:
            status, kind = exit_status(error)
            if _wants_json():
                _echo_json_error(status, kind, error, str(error))
            click.echo(f"Error: {error}", err=True)
            raise SystemExit(status) from error
        except click.UsageError as error:  # raised by a command itself
            if _wants_json():
                _echo_json_error(error.exit_code, "usage", error, error.format_message())
            raise

    return wrapper


def _asks_for_json(args: Sequence[str]) -> bool:
    """Whether raw arguments ask for --format json (before click has parsed them)."""
    args = list(args[: args.index("--")] if "--" in args else args)
    pairs = itertools.pairwise(args)
    return "--format=json" in args or any(a == "--format" and b == "json" for a, b in pairs)


class _Command(click.Command):
    """A command whose --format json also covers errors in its arguments (a missing
    file, a bad option): the error as JSON on stdout, then click's message and exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        json_asked = _asks_for_json(args)  # before click consumes the list
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            if json_asked:
                _echo_json_error(error.exit_code, "usage", error, error.format_message())
            raise


class _Group(click.Group):
    command_class = _Command
    group_class = type  # subgroups (rules, audit) are _Groups too


def _durable_version() -> str:
    try:
        return importlib.metadata.version("durable-rules")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _format_option(help: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help,
    )


@click.group(
    "talentrules",
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXIT_HELP,
)
@click.version_option(
    __version__,
    prog_name="talentrules",
    # The engine's build and the Python matter in a bug report as much as ours.
    message=f"%(prog)s %(version)s (durable-rules {_durable_version()}, "
    f"Python {platform.python_version()})",
)
def cli() -> None:
    """A rule-based expert system for talent review panels.

    It reads the panel's workbook, decides who has a heart for leadership and which
    development investment fits whom, and justifies every recommendation.

    Example: talentrules validate sample_inputs/panel_review.xlsx
    """


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--empty", is_flag=True, help="Headers only, without the worked example rows.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@user_errors
def template(out: Path, empty: bool, force: bool) -> None:
    """Write a blank review workbook to OUT, ready for a panel to fill in.

    Every sheet and column of the contract, a comment on each header explaining the
    column and its scale, dropdowns for coded columns, and one worked example row per
    sheet (its first cell starts with 'e.g.', so it is skipped when read). Exits 5
    when OUT exists (without --force) or cannot be written.

    Example: talentrules template review-2026.xlsx
    """
    from talentrules.template import write_template

    written = write_template(out, empty=empty, force=force)
    click.echo(f"wrote {written}", err=True)


@cli.command()
@click.argument("workbook")
@click.option(
    "--rules",
    "rules_dir",
    metavar="RULES",
    type=click.Path(exists=True, path_type=Path),
    help="Rulebook (a rules folder or a rulebook workbook) whose signal catalogue the "
    "Evidence codes must come from (default: the packaged rules).",
)
@_format_option("text: one problem per line, then the row account; json: the same as data.")
@user_errors
def validate(workbook: str, rules_dir: Path | None, output_format: str) -> None:
    """Check a review WORKBOOK (.xlsx, or a folder of CSV files) against the contract.

    Prints every problem (errors, then warnings, then notes), each naming the file,
    sheet and cell (Evidence!F14; from CSV files Evidence.csv:14:signal), then how
    many rows each sheet had: read = loaded + rejected + blank. Exits 0 when the
    workbook is usable (warnings allowed), 1 when it has errors or is not a
    workbook at all.

    Limits, against zip bombs rather than size: 512 MB file, 4 GB unpacked,
    unpacking ratio 200 per part, repeated strings showing at most 10 times the
    file's text, and the rows present fitting in half this machine's memory; cells
    right of column ZZ are ignored.

    Example: talentrules validate sample_inputs/panel_review.xlsx --format json
    """
    from talentrules.ingest import load_workbook, validation_report
    from talentrules.vocabulary import signal_catalogue

    _notice_local_rules(rules_dir)
    report = validation_report(load_workbook(workbook, signal_catalogue(rules_dir)))
    if output_format == "json":
        _echo_json({"ok": report["usable"], **report})  # "ok", as the other reports have
    else:
        click.echo("\n".join(_validation_lines(report)))
    if not report["usable"]:
        raise SystemExit(EXIT_INPUT)


def _validation_lines(report: dict[str, Any]) -> list[str]:
    """validate's text form: the problems, the row account table, the verdict."""
    lines = [p["text"] for p in report["problems"]]
    header = ("sheet", "found as", "read", "loaded", "rejected", "blank", "ignored columns")
    table = [header] + [
        (
            a["sheet"],
            a["found_as"] or "(absent)",
            *(str(a[k]) for k in ("read", "loaded", "rejected", "blank")),
            ", ".join(a["ignored_columns"]) or "-",
        )
        for a in report["accounts"]
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    if lines:
        lines.append("")
    for row in table:
        cells = [
            text.rjust(width) if 2 <= i <= 5 else text.ljust(width)
            for i, (text, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    if report["ignored_sheets"]:
        lines.append("ignored sheets: " + ", ".join(report["ignored_sheets"]))
    verdict = "usable" if report["usable"] else "NOT usable: fix the errors above"
    lines.append(f"{report['file']}: {verdict} ({report['tally']})")
    return lines


def _notice_local_rules(rules_dir: Path | None) -> None:
    """Say so on stderr when ./rules differs from the default rulebook about to be used
    (a folder named on the command line is the user's choice: nothing to say)."""
    from talentrules.paths import default_rules_dir
    from talentrules.rulebook import local_rules_notice

    if rules_dir is not None:
        return
    notice = local_rules_notice(default_rules_dir())
    if notice:
        click.echo(notice, err=True)


class _ProgressBars:
    """Progress bars on stderr, one per long stage, only for runs long enough to need one."""

    MINIMUM = 500  # people; below this a run takes a second or two

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}
        self.done: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total < self.MINIMUM:
            return
        if stage not in self.bars:
            for bar in self.bars.values():
                bar.render_finish()
            label = {"engine": "evaluating", "briefs": "writing briefs"}.get(stage, stage)
            self.bars[stage] = click.progressbar(length=total, label=label, file=sys.stderr)
            self.done[stage] = 0
        self.bars[stage].update(done - self.done[stage])
        self.done[stage] = done

    def close(self) -> None:
        for bar in self.bars.values():
            bar.render_finish()


_RULES_OPTION = click.option(
    "--rules",
    "rules_dir",
    metavar="RULES",
    type=click.Path(exists=True, path_type=Path),
    help="Rules folder, or a rulebook workbook (rules export); default: the packaged rules.",
)
# A rulebook given as an argument: a rules folder, or a rulebook workbook.
_RULES_ARGUMENT = click.argument(
    "rules_dir", required=False, type=click.Path(exists=True, path_type=Path)
)
_TEMPLATES_OPTION = click.option(
    "--templates",
    "templates_dir",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of templates used before the packaged ones; extend those as default/NAME.",
)
_JOBS_OPTION = click.option(
    "--jobs",
    metavar="N",
    type=click.IntRange(min=1),
    help="Processes to use (default: the CPU cores).",
)
_REJECTS_OPTION = click.option(
    "--allow-rejects",
    is_flag=True,
    help="Evaluate the usable rows of a workbook with errors; every rejected row is listed "
    "(a totals or notes row below the data is one: without this option it stops the run).",
)
_SESSION_REUSE = click.option(
    "--reuse-session",
    is_flag=True,
    help="Apply a session recorded on another workbook or rulebook (each decision is "
    "validated again; one that no longer fits is reported, not applied).",
)


_FORMAT_TRACE = _format_option(
    "text: the brief for a terminal (--templates applies); json: the trace line."
)


@cli.command()
@click.argument("workbook")
@click.option(
    "-o",
    "--out",
    "outdir",
    metavar="OUTDIR",
    required=True,
    type=click.Path(path_type=Path),  # a file there is refused by the run, exit 5 (OutputError)
    help="Folder to write; refused if it exists, unless --force.",
)
@_RULES_OPTION
@_TEMPLATES_OPTION
@_JOBS_OPTION
@_REJECTS_OPTION
@click.option("--force", is_flag=True, help="Replace OUTDIR if it holds an earlier output.")
@click.option(
    "--session",
    "session_path",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply the decisions of a talentrules serve session file as overrides.",
)
@_SESSION_REUSE
@click.option(
    "--no-names",
    is_flag=True,
    help="Summary without names in its grids (the general edition, for wider circulation).",
)
@_format_option("The closing summary: text for people, json for machines (on stdout).")
@user_errors
def evaluate(
    workbook: str,
    outdir: Path,
    rules_dir: Path | None,
    templates_dir: Path | None,
    jobs: int | None,
    allow_rejects: bool,
    force: bool,
    no_names: bool,
    output_format: str,
    session_path: Path | None = None,
    reuse_session: bool = False,
) -> None:
    """Evaluate a review WORKBOOK and write every recommendation, justified, to OUTDIR.

    Writes briefs/<employee_id>.html and .md (one justification brief per person),
    summary.html and summary.md (the panel summary), recommendations.xlsx,
    recommendations.json, trace.jsonl (hash-chained) and manifest.json (the run's
    record, checked by `audit verify`). WORKBOOK may be a folder of CSV files, one
    per sheet (Employees.csv, Evidence.csv, ...). A workbook with errors is refused (exit 1,
    the errors listed as validate lists them) unless --allow-rejects. Nothing is
    written unless the whole run succeeds (exit 5 when it cannot be written); --force
    replaces only an earlier output holding nothing but what its manifest lists; one
    run at a time per OUTDIR; a run stopped by Ctrl-C, SIGTERM or SIGHUP removes its
    unfinished output and says whether OUTDIR was written (exit 0 if it was, else
    128 + the signal). With --session FILE (a talentrules serve session), every output
    has its decisions applied as overrides, each naming its session decision, and
    OUTDIR also holds session.sqlite (checked by audit verify) and WORKBOOK's copy
    with the decisions in its Overrides sheet (STEM.decided.xlsx).

    Example: talentrules evaluate sample_inputs/panel_review.xlsx -o review-out
    """
    from talentrules.interrupt import Interrupted, stop_signals
    from talentrules.outdir import claim_outdir
    from talentrules.report import Hook, rulebook_label, write_outputs
    from talentrules.report.decided import session_hooks
    from talentrules.run import apply_session, evaluate_workbook

    _notice_local_rules(rules_dir)
    bars = _ProgressBars()
    published = [False]  # read if the run is stopped, wherever that happens
    try:
        # The claim locks OUTDIR and checks it before the long run, not after it.
        with stop_signals(), claim_outdir(outdir, force) as claim:
            for note in claim.notes:
                click.echo(note, err=True)
            try:
                result = evaluate_workbook(workbook, rules_dir, jobs, allow_rejects, bars)
                hooks: Sequence[Hook] = ()
                if session_path is not None:
                    result = apply_session(result, session_path, reuse_session)
                    hooks = session_hooks(session_path)
                written = write_outputs(
                    result, outdir, templates_dir, force, bars, jobs, hooks, not no_names
                )
            finally:
                published[0] = claim.published
                bars.close()
    except (KeyboardInterrupt, Interrupted) as stop:
        _stopped(stop, outdir, published[0])
    warnings = sum(1 for p in result.problems if p.severity == "warning")
    rejected = len(result.panel.rejected)
    if output_format == "json":
        _echo_json(
            {
                "ok": True,
                "workbook": str(result.panel.path),
                "outdir": str(written.outdir),
                # Which rulebook ran, as the text closing line names it (issue 10).
                "rulebook": {
                    "path": str(Path(result.rulebook.source).absolute()),
                    "sha256": result.rulebook.sha256,
                },
                "people": written.briefs,
                "rejected_rows": rejected,
                "warnings": warnings,
                # What OUTDIR holds, folders with a slash (every file: manifest.json).
                "files": sorted(p.name + "/" * p.is_dir() for p in written.outdir.iterdir()),
            }
        )
        return
    click.echo(
        f"evaluated {written.briefs} people from {result.panel.path.name} "
        f"({rejected} rejected row{'s' if rejected != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}) with rulebook "
        f"{rulebook_label(result.rulebook)}: wrote {written.outdir}/ "
        f"({', '.join(_written_files(result))})"
    )


def _written_files(result: RunResult) -> list[str]:
    """What evaluate wrote, as its closing line names it (with a session's files)."""
    files = ["summary.html", "briefs/", "recommendations.xlsx", "recommendations.json"]
    files += ["trace.jsonl", "manifest.json"]
    if result.session is not None:
        from talentrules.report.decided import decided_name

        path = result.panel.path
        count = result.session["decisions"]
        files.append(f"{result.session['file']} with {count} decision{'s' if count != 1 else ''}")
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            files.append(decided_name(path))
    return files


def _stopped(stop: BaseException, outdir: Path, published: bool) -> NoReturn:
    """Say truthfully what a stopped run left, and exit: 0 when OUTDIR was already
    published (the run's work is done), else 128 + the signal's number, as a shell
    reports a process the signal ended."""
    signum = getattr(stop, "signum", 2)  # KeyboardInterrupt: SIGINT
    how = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    if published:
        if _wants_json():  # stdout is one JSON document, whatever happens
            _echo_json({"ok": True, "outdir": str(outdir), "stopped": how})
        click.echo(
            f"stopped by {how} after {outdir}/ was written: the output is complete", err=True
        )
        raise SystemExit(0)
    message = (
        f"stopped by {how}: nothing was written to {outdir}/ (the unfinished output was removed)"
    )
    if _wants_json():
        _echo_json_error(128 + signum, "stopped", stop, message)
    click.echo(message, err=True)
    raise SystemExit(128 + signum)


@cli.command()
@click.argument("employee_id")
@click.argument("workbook")
@_RULES_OPTION
@_TEMPLATES_OPTION
@_REJECTS_OPTION
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="FACT=VALUE",
    help="What if: evaluate the person with FACT set to VALUE (checked against the "
    "rulebook's vocabulary; FACT= for unknown), or a parameter changed ('$habit_months=18'); "
    "repeatable. Shows the decisions beside the real ones and what moved.",
)
@_FORMAT_TRACE
@click.option(
    "--trace",
    "show_trace",
    is_flag=True,
    help="Also print the conditions as the rules write them, with values and cells.",
)
@user_errors
def explain(
    employee_id: str,
    workbook: str,
    rules_dir: Path | None,
    templates_dir: Path | None,
    allow_rejects: bool,
    settings: tuple[str, ...],
    output_format: str,
    show_trace: bool,
) -> None:
    """Explain one person's recommendation in the terminal, wrapped to its width.

    The same justification as the person's brief: the recommendation, the evidence
    with its cells, the rules that decided with the values they read, what would
    change the outcome and how to contest. --trace adds the full trace, worked out
    from the facts trace.jsonl records: every condition as written, the first failing
    condition of every rule that did not fire, and every single change that would
    change a decision.
    With --set, a what-if instead: the person's decisions with the changed facts
    beside the real ones, and what moved (nothing is recorded). With --format json:
    the person's trace line as trace.jsonl holds it, without the chain
    (docs/trace.md), or the what-if as data. Exits 1 when nobody evaluated has
    EMPLOYEE_ID.

    Example: talentrules explain 00004 sample_inputs/panel_review.xlsx --set readiness='Ready now'
    """
    import shutil

    from talentrules.audit import canonical, trace_record
    from talentrules.report import render_brief_text
    from talentrules.run import evaluate_workbook

    _notice_local_rules(rules_dir)
    if templates_dir is not None and output_format == "json":
        raise click.UsageError("--templates shapes the text; --format json prints the trace")
    result = evaluate_workbook(workbook, rules_dir, allow_rejects=allow_rejects)
    if settings:
        from talentrules.whatif import format_what_if, what_if

        report = what_if(employee_id, workbook, settings, rules_dir, result=result)
        if output_format == "json":
            _echo_json(report.as_json())
        else:
            click.echo(format_what_if(report), nl=False)
        return
    if output_format == "json":  # the values exactly as trace.jsonl writes them
        _echo_json(json.loads(canonical(trace_record(result, result.index(employee_id)))))
        return
    width = shutil.get_terminal_size((80, 24)).columns
    text = render_brief_text(result, employee_id, templates_dir, width=width, trace=show_trace)
    click.echo(text, nl=False)


@cli.command()
@click.argument("workbook")
@_RULES_OPTION
@click.option(
    "--session",
    "session_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The session's SQLite file (created if absent); default: beside WORKBOOK, "
    "named WORKBOOK's stem + .session.sqlite.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; another than this computer's is warned about.",
)
@click.option(
    "--port", default=8765, show_default=True, help="Port to listen on; 0 takes a free one."
)
@_SESSION_REUSE
@_REJECTS_OPTION
@user_errors
def serve(
    workbook: str,
    rules_dir: Path | None,
    session_path: Path | None,
    host: str,
    port: int,
    reuse_session: bool,
    allow_rejects: bool,
) -> None:
    """Run the panel's meeting in the browser: a live session on WORKBOOK.

    Evaluates WORKBOOK once, then serves the summary, the people list and each
    person's brief with a decision form, on this computer only unless --host. Prints
    the panel's link and a read-only link for observers, each with its token. Every
    decision is validated as an Overrides row is, committed to the session file
    (append-only, hash-chained) before the page answers, and moves seats, budget,
    waitlist and the fairness monitor at once. `evaluate WORKBOOK --session FILE`
    writes the outputs with the decisions. docs/serve.md has the API.

    Example: talentrules serve sample_inputs/panel_review.xlsx
    """
    from talentrules.serve.server import serve as run_server

    _notice_local_rules(rules_dir)
    run_server(workbook, rules_dir, session_path, host, port, reuse_session, allow_rejects)


@cli.group()
def rules() -> None:
    """Check and test the rulebook.

    Example: talentrules rules check rules/
    """


@rules.command("check")
@_RULES_ARGUMENT
@_format_option("text: each problem on stderr, a summary on stdout; json: all on stdout.")
@user_errors
def rules_check(rules_dir: Path | None, output_format: str) -> None:
    """Check a rulebook like a compiler: each problem with its file and line.

    A rulebook workbook's problems are named by sheet and cell (Heart!D7).

    Reports syntax and schema errors, unknown facts, type errors, cycles, rules
    that can never fire, overlapping rules, protected attributes and what would
    break durable_rules; then compiles the rules and loads them into durable_rules,
    which reports its own limits (all/any groups per rule, facts per level, rules
    matching together). Exits 3 when there are errors (warnings alone pass).
    RULES_DIR is a rules folder or a rulebook workbook (rules export); it defaults to
    the packaged rules.

    Example: talentrules rules check rules/
    """
    from talentrules.changes import changes_problems
    from talentrules.decide import catalogue_problems
    from talentrules.engine import compile_problems
    from talentrules.rulebook import check_report, load_rulebook

    _notice_local_rules(rules_dir)
    report = check_report(rules_dir)
    # The language is sound; then what durable_rules itself would refuse, and what a
    # run would refuse in the catalogue, the allocation policy and changes.yaml.
    refused: list[str] = []
    if not report.errors:
        rulebook = load_rulebook(rules_dir)
        refused = (
            compile_problems(rulebook) + catalogue_problems(rulebook) + changes_problems(rulebook)
        )
    errors = report.errors + len(refused)
    summary = report.summary
    if refused:
        summary = (
            f"{errors} error{'s' if errors != 1 else ''}, {report.warnings} "
            f"warning{'s' if report.warnings != 1 else ''}"
        )
    if output_format == "json":
        _echo_json(_check_json(report, refused, summary))
    else:
        for line in [*map(str, report.diagnostics), *refused]:
            click.echo(line, err=True)
        click.echo(summary)
    if errors:
        raise SystemExit(EXIT_RULES)


# A problem a run would meet, written as the checker writes a diagnostic when it has a
# place: "FILE:LINE: [rule ID: ]MESSAGE", or "WORKBOOK: Sheet!A1: ..." in a rulebook
# workbook (engine.compile_problems, decide.catalogue_problems).
_PLACED = re.compile(
    r"(?P<file>[^:\n]+)(?::(?P<line>[0-9]+)|: (?P<cell>[^:!\n]+![A-Z]{1,3}[0-9]+)): "
    r"(?:rule (?P<rule>[^\s:]+): )?(?P<message>.*)\Z",
    re.DOTALL,
)


def _check_json(report: CheckReport, refused: list[str], summary: str) -> dict[str, Any]:
    """``rules check --format json``: the checker's diagnostics, then what a run would
    refuse (durable_rules' limits, the catalogue and allocation policy, changes.yaml),
    each with its file, line (or a workbook's cell) and rule when the problem has them."""
    from talentrules.rulefiles import line_and_cell

    diagnostics = [
        {
            "checker": "language",
            "severity": d.severity,
            "file": d.file,
            "line": line_and_cell(d.line)[0],
            "cell": line_and_cell(d.line)[1],
            "rule": d.rule_id,
            "message": d.message,
            "text": str(d),
        }
        for d in report.diagnostics
    ]
    for problem in refused:  # durable_rules' limits, the catalogue, the policy
        placed = _PLACED.match(problem)
        diagnostics.append(
            {
                "checker": "run",
                "severity": "error",
                "file": placed["file"] if placed else None,
                "line": int(placed["line"]) if placed and placed["line"] else None,
                "cell": placed["cell"] if placed else None,
                "rule": placed["rule"] if placed else None,
                "message": placed["message"] if placed else problem,
                "text": problem,
            }
        )
    errors = sum(d["severity"] == "error" for d in diagnostics)
    return {
        "ok": errors == 0,
        "summary": summary,
        "counts": {
            "rules": report.rules,
            "decisions": report.decisions,
            "errors": errors,
            "warnings": report.warnings,
        },
        "diagnostics": diagnostics,
    }


@rules.command("test")
@_RULES_ARGUMENT
@click.option(
    "--coverage",
    is_flag=True,
    help="Also require every rule to fire and every decision outcome to be reached.",
)
@click.option(
    "--junit",
    "junit_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the results as JUnit XML to this file, for a CI system to show.",
)
@_format_option("text for people; json: every test with its result, and coverage.")
@user_errors
def rules_test(
    rules_dir: Path | None, coverage: bool, junit_file: Path | None, output_format: str
) -> None:
    """Run the rule tests in RULES_DIR/tests/*.yaml (a workbook's Tests sheets).

    Each test describes a made-up person (as the panel's workbook does: ratings,
    evidence rows, ...; or by their facts) and the conclusions expected (and not
    expected); it runs through the reference evaluator and the durable_rules
    engine, which must agree. Failures show the test's file and line, expected and
    actual conclusions, and the rules that fired. Exits 3 on any failure, or with
    --coverage on any rule never fired or outcome never reached. RULES_DIR defaults
    to the packaged rules.

    Example: talentrules rules test rules/ --coverage
    """
    from talentrules.ruletests import (
        format_report,
        junit_error_xml,
        junit_xml,
        report_json,
        run_folder,
        write_file,
    )

    _notice_local_rules(rules_dir)
    try:
        report = run_folder(rules_dir, coverage=coverage)
    except RulebookError as error:
        if junit_file is not None:  # the CI shows why there are no results
            write_file(junit_file, junit_error_xml(str(error)))
        raise
    if junit_file is not None:
        write_file(junit_file, junit_xml(report))
    if output_format == "json":
        _echo_json(report_json(report))
    else:
        click.echo(format_report(report))
    if not report.ok:
        raise SystemExit(EXIT_RULES)


@rules.command("export")
@_RULES_ARGUMENT
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The workbook to write (.xlsx); refused if it exists, unless --force.",
)
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@user_errors
def rules_export(rules_dir: Path | None, out: Path, force: bool) -> None:
    """Write a rulebook as a workbook a panel owner edits in Excel or LibreOffice.

    A sheet per decision as a decision table (a rule per row, a column per fact,
    the outcome, title and rationale), the Parameters, the outcomes' words, the
    signal and investment catalogues, the allocation policy and the rule tests,
    with dropdowns and a comment on every header. Every command that takes a
    rulebook takes the workbook; 'rules import' writes it back as a folder.
    RULES_DIR defaults to the packaged rules.

    Example: talentrules rules export rules/ -o rulebook.xlsx
    """
    from talentrules.rulexlsx import export_rulebook

    written = export_rulebook(rules_dir, out, force=force)
    click.echo(f"wrote {written}", err=True)


@rules.command("import")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The rules folder to write; refused if it exists, unless --force.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace the rulebook files (*.yaml, tests/*.yaml) of an existing OUT.",
)
@user_errors
def rules_import(workbook: Path, out: Path, force: bool) -> None:
    """Write a rulebook WORKBOOK (rules export) back as a rules folder of YAML files.

    The workbook is checked first: with errors of the rule language (each named by
    sheet and cell) nothing is written and the command exits 3. The files written
    say what the workbook says: the same decisions and rule hashes, so 'audit diff'
    shows no change. YAML comments do not live in a workbook (see docs/rules.md).

    Example: talentrules rules import rulebook.xlsx -o rules/ --force
    """
    from talentrules.rulexlsx import import_rulebook

    written = import_rulebook(workbook, out, force=force)
    click.echo(f"wrote {len(written)} files to {out}/", err=True)


@rules.command("book")
@_RULES_ARGUMENT
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write; refused if it exists, unless --force.",
)
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@user_errors
def rules_book(rules_dir: Path | None, out: Path, force: bool) -> None:
    """Write the rulebook as a handbook for panels and auditors (one HTML file).

    Every decision's rules in plain words ("at least 3"), with the parameter behind
    each number and each rule's rationale; the parameters, signals and which evidence
    counts; the rule tests as worked examples, run now; and their coverage.
    Self-contained (no external files), and it prints on A4. RULES_DIR (a folder or
    a rulebook workbook) defaults to the packaged rules.

    Example: talentrules rules book rules/ -o handbook.html
    """
    from talentrules.handbook import write_handbook

    written = write_handbook(rules_dir, out, force=force)
    click.echo(f"wrote {written}", err=True)


@cli.group()
def audit() -> None:
    """Audit a run: verify its record, diff two rulebooks, monitor fairness.

    Example: talentrules audit verify review-out --workbook review.xlsx
    """


@audit.command("verify")
@click.argument("outdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--workbook",
    metavar="WORKBOOK",
    type=click.Path(exists=True, path_type=Path),
    help="The run's workbook: replay the run and compare every recommendation and trace line.",
)
@click.option(
    "--rules",
    "rules_dir",
    metavar="RULES",
    type=click.Path(exists=True, path_type=Path),
    help="With --workbook: the rulebook for the replay, a folder or a workbook (default: "
    "the one the manifest records).",
)
@_format_option("text for people; json: every check and problem, and the manifest's hash.")
@user_errors
def audit_verify(
    outdir: Path, workbook: Path | None, rules_dir: Path | None, output_format: str
) -> None:
    """Check OUTDIR's record: the trace's hash chain, the manifest, every file's hash.

    An edited, reordered, truncated or appended trace line is named with its line
    number and employee. With --workbook the run is replayed with the same options;
    any difference names the person, the field and both values. Exits 4 on any
    mismatch, 1 when OUTDIR has no readable manifest. Prints the manifest's own
    SHA-256: keep it with the panel's minutes.

    Example: talentrules audit verify review-out --workbook review.xlsx
    """
    from talentrules.audit import verify

    if rules_dir is not None and workbook is None:
        raise click.UsageError("--rules is the replay's rulebook: give --workbook too")
    report = verify(outdir, workbook, rules_dir)
    if output_format == "json":
        _echo_json(
            {
                "ok": report.ok,
                "outdir": str(report.outdir),
                "replayed": workbook is not None,
                "checked": report.checked,
                "problems": report.problems,
                "manifest_sha256": report.manifest_sha256,
            }
        )
    else:
        for line in report.checked:
            click.echo(f"ok: {line}")
        for line in report.problems:
            click.echo(f"FAIL: {line}")
        click.echo(f"manifest.json sha256 {report.manifest_sha256}")
    if not report.ok:
        raise SystemExit(EXIT_AUDIT)


_AUDIT_FORMAT = _format_option("text for people, json for machines.")


@audit.command("diff")
@click.argument("workbook", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--rules-a",
    metavar="RULES",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="The rulebook in use (a rules folder or a rulebook workbook).",
)
@click.option(
    "--rules-b",
    metavar="RULES",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="The proposed rulebook (a rules folder or a rulebook workbook).",
)
@_REJECTS_OPTION
@_AUDIT_FORMAT
@user_errors
def audit_diff(
    workbook: Path, rules_a: Path, rules_b: Path, allow_rejects: bool, output_format: str
) -> None:
    """Evaluate WORKBOOK under two rulebooks: who changes, how, and which rule changes cause it.

    Reports each person whose heart verdict, track, investments, allocation or any
    other decision differs, the changed, added or removed rules that fired or came
    close for them, and totals per kind of change.

    Example: talentrules audit diff review.xlsx --rules-a rules/ --rules-b proposed/
    """
    from talentrules.audit import diff_rulebooks, format_diff

    diff = diff_rulebooks(workbook, rules_a, rules_b, allow_rejects=allow_rejects)
    if output_format == "json":
        _echo_json(diff.as_json())
    else:
        click.echo(format_diff(diff))


@audit.command("fairness")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--workbook",
    metavar="WORKBOOK",
    type=click.Path(exists=True, path_type=Path),
    help="For an OUTDIR: the run's workbook, if it is no longer where the manifest says.",
)
@click.option(
    "--rules",
    "rules_dir",
    metavar="RULES",
    type=click.Path(exists=True, path_type=Path),
    help="For a WORKBOOK: the rulebook to evaluate it with, a rules folder or a rulebook "
    "workbook (default: the packaged rules).",
)
@_AUDIT_FORMAT
@user_errors
def audit_fairness(
    source: Path, workbook: Path | None, rules_dir: Path | None, output_format: str
) -> None:
    """Selection rates and impact ratios by sex, race/ethnicity and both.

    SOURCE is a review workbook or CSV folder (evaluated now) or an evaluate OUTDIR (its
    recommendations.json, and the workbook the manifest records for Demographics).
    Only the restricted Demographics sheet is read for groups. Ratios under 0.80 are
    flagged (four-fifths rule); groups under 5 people are reported as too small.

    Example: talentrules audit fairness review-out
    """
    from talentrules.audit import fairness, fairness_of_outdir, format_fairness
    from talentrules.run import evaluate_workbook

    # Each option applies to one kind of SOURCE; given with the other, it is refused,
    # never silently ignored (an OUTDIR's run used the rules its manifest records).
    # An OUTDIR (its manifest there, whatever kind of file: a FIFO or a link is named
    # as such when read); any other folder holds CSV files.
    if os.path.lexists(source / "manifest.json"):
        if rules_dir is not None:
            raise click.UsageError("--rules is for a WORKBOOK: an OUTDIR's rules are its run's")
        report = fairness_of_outdir(source, workbook)
    else:
        if workbook is not None:
            raise click.UsageError("--workbook is for an OUTDIR: SOURCE is the workbook")
        report = fairness(evaluate_workbook(source, rules_dir))
    if output_format == "json":
        _echo_json(report.as_json() if report else None)  # null: no Demographics sheet
    else:
        click.echo(format_fairness(report))
