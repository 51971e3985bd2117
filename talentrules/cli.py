"""The command line: parse arguments, call one library function, print the result.

The only module that imports click. Every ``TalentRulesError`` becomes a message
on stderr and exit status 1 (``user_errors``); usage errors exit 2 (click).
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import click

from talentrules import __version__
from talentrules.errors import TalentRulesError

P = ParamSpec("P")
R = TypeVar("R")


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the library's errors into click's: a message and exit 1, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except TalentRulesError as error:
            raise click.ClickException(str(error)) from error

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="talentrules")
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
    sheet (its first cell starts with 'e.g.', so it is skipped when read).

    Example: talentrules template review-2026.xlsx
    """
    from talentrules.template import write_template

    written = write_template(out, empty=empty, force=force)
    click.echo(f"wrote {written}", err=True)


@cli.command()
@click.argument("workbook")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one problem per line, then the row account; json: the same as data.",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(exists=True, path_type=Path),
    help="Rulebook (a rules folder or a rulebook workbook) whose signal catalogue the "
    "Evidence codes must come from (default: the packaged rules).",
)
@user_errors
def validate(workbook: str, output_format: str, rules_dir: Path | None) -> None:
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
        click.echo(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        click.echo("\n".join(_validation_lines(report)))
    if not report["usable"]:
        raise SystemExit(1)


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
    counts = report["counts"]
    tally = ", ".join(
        f"{counts[key]} {word}{'' if counts[key] == 1 else 's'}"
        for key, word in (("error", "error"), ("warning", "warning"), ("info", "note"))
    )
    verdict = "usable" if report["usable"] else "NOT usable: fix the errors above"
    lines.append(f"{report['file']}: {verdict} ({tally})")
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
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of templates used before the packaged ones; extend those as default/NAME.",
)
_JOBS_OPTION = click.option(
    "--jobs", type=click.IntRange(min=1), help="Processes to use (default: the CPU cores)."
)
_REJECTS_OPTION = click.option(
    "--allow-rejects",
    is_flag=True,
    help="Evaluate the usable rows of a workbook with errors; every rejected row is listed "
    "(a totals or notes row below the data is one: without this option it stops the run).",
)


@cli.command()
@click.argument("workbook")
@click.option(
    "-o",
    "--out",
    "outdir",
    required=True,
    type=click.Path(path_type=Path),  # a file there is refused by the run, exit 1
    help="Folder to write; refused if it exists, unless --force.",
)
@_RULES_OPTION
@_TEMPLATES_OPTION
@_JOBS_OPTION
@_REJECTS_OPTION
@click.option("--force", is_flag=True, help="Replace OUTDIR if it holds an earlier output.")
@click.option(
    "--no-names",
    is_flag=True,
    help="Summary without names in its grids (the general edition, for wider circulation).",
)
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
) -> None:
    """Evaluate a review WORKBOOK and write every recommendation, justified, to OUTDIR.

    Writes briefs/<employee_id>.html and .md (one justification brief per person),
    summary.html and summary.md (the panel summary), recommendations.xlsx,
    recommendations.json, trace.jsonl (hash-chained) and manifest.json (the run's
    record, checked by `audit verify`). WORKBOOK may be a folder of CSV files, one
    per sheet (Employees.csv, Evidence.csv, ...). A workbook with errors is refused (exit 1,
    the errors listed as validate lists them) unless --allow-rejects. Nothing is
    written unless the whole run succeeds; --force replaces only an earlier output
    holding nothing but what its manifest lists; one run at a time per OUTDIR; a run
    stopped by Ctrl-C, SIGTERM or SIGHUP removes its unfinished output and says
    whether OUTDIR was written (exit 0 if it was, else 128 + the signal).

    Example: talentrules evaluate sample_inputs/panel_review.xlsx -o review-out
    """
    from talentrules.interrupt import Interrupted, stop_signals
    from talentrules.outdir import claim_outdir
    from talentrules.report import rulebook_label, write_outputs
    from talentrules.run import evaluate_workbook

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
                written = write_outputs(
                    result, outdir, templates_dir, force, bars, jobs, names=not no_names
                )
            finally:
                published[0] = claim.published
                bars.close()
    except (KeyboardInterrupt, Interrupted) as stop:
        _stopped(stop, outdir, published[0])
    warnings = sum(1 for p in result.problems if p.severity == "warning")
    rejected = len(result.panel.rejected)
    click.echo(
        f"evaluated {written.briefs} people from {result.panel.path.name} "
        f"({rejected} rejected row{'s' if rejected != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}) with rulebook "
        f"{rulebook_label(result.rulebook)}: wrote {written.outdir}/ "
        "(summary.html, briefs/, recommendations.xlsx, recommendations.json, trace.jsonl, "
        "manifest.json)"
    )


def _stopped(stop: BaseException, outdir: Path, published: bool) -> NoReturn:
    """Say truthfully what a stopped run left, and exit: 0 when OUTDIR was already
    published (the run's work is done), else 128 + the signal's number, as a shell
    reports a process the signal ended."""
    signum = getattr(stop, "signum", 2)  # KeyboardInterrupt: SIGINT
    how = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    if published:
        click.echo(
            f"stopped by {how} after {outdir}/ was written: the output is complete", err=True
        )
        raise SystemExit(0)
    click.echo(
        f"stopped by {how}: nothing was written to {outdir}/ (the unfinished output was removed)",
        err=True,
    )
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
@user_errors
def explain(
    employee_id: str,
    workbook: str,
    rules_dir: Path | None,
    templates_dir: Path | None,
    allow_rejects: bool,
    settings: tuple[str, ...],
) -> None:
    """Explain one person's recommendation in the terminal (80 columns).

    The same justification as the person's brief: the recommendation, the evidence
    with its cells, the rules that fired with the values they used, the rules that
    came close and what would change the outcome. With --set, a what-if instead: the
    person's decisions with the changed facts beside the real ones, and what moved
    (nothing is recorded).

    Example: talentrules explain 00004 sample_inputs/panel_review.xlsx --set readiness='Ready now'
    """
    from talentrules.report import render_brief_text
    from talentrules.run import evaluate_workbook

    _notice_local_rules(rules_dir)
    result = evaluate_workbook(workbook, rules_dir, allow_rejects=allow_rejects)
    if settings:
        from talentrules.whatif import format_what_if, what_if

        report = what_if(employee_id, workbook, settings, rules_dir, result=result)
        click.echo(format_what_if(report), nl=False)
        return
    click.echo(render_brief_text(result, employee_id, templates_dir), nl=False)


@cli.group()
def rules() -> None:
    """Check and test the rulebook.

    Example: talentrules rules check rules/
    """


@rules.command("check")
@_RULES_ARGUMENT
@user_errors
def rules_check(rules_dir: Path | None) -> None:
    """Check a rulebook like a compiler: each problem with its file and line.

    A rulebook workbook's problems are named by sheet and cell (Heart!D7).

    Reports syntax and schema errors, unknown facts, type errors, cycles, rules
    that can never fire, overlapping rules, protected attributes and what would
    break durable_rules; then compiles the rules and loads them into durable_rules,
    which reports its own limits (all/any groups per rule, facts per level, rules
    matching together). Exits 1 when there are errors (warnings alone pass).
    RULES_DIR is a rules folder or a rulebook workbook (rules export); it defaults to
    the packaged rules.

    Example: talentrules rules check rules/
    """
    from talentrules.decide import catalogue_problems
    from talentrules.engine import compile_problems
    from talentrules.rulebook import check_report, load_rulebook

    _notice_local_rules(rules_dir)
    report = check_report(rules_dir)
    for diagnostic in report.diagnostics:
        click.echo(str(diagnostic), err=True)
    if report.errors:
        click.echo(report.summary)
        raise SystemExit(1)
    # The language is sound; now what durable_rules itself would refuse, and what a
    # run would refuse in the catalogue and allocation policy.
    rulebook = load_rulebook(rules_dir)
    refused = compile_problems(rulebook) + catalogue_problems(rulebook)
    for problem in refused:
        click.echo(problem, err=True)
    if refused:
        click.echo(
            f"{len(refused)} error{'s' if len(refused) != 1 else ''}, {report.warnings} "
            f"warning{'s' if report.warnings != 1 else ''}"
        )
        raise SystemExit(1)
    click.echo(report.summary)


@rules.command("test")
@_RULES_ARGUMENT
@click.option(
    "--coverage",
    is_flag=True,
    help="Also require every rule to fire and every decision outcome to be reached.",
)
@user_errors
def rules_test(rules_dir: Path | None, coverage: bool) -> None:
    """Run the rule tests in RULES_DIR/tests/*.yaml (a workbook's Tests sheets).

    Each test describes a made-up person (as the panel's workbook does: ratings,
    evidence rows, ...; or by their facts) and the conclusions expected (and not
    expected); it runs through the reference evaluator and the durable_rules
    engine, which must agree. Failures show the test's file and line, expected and
    actual conclusions, and the rules that fired. Exits 1 on any failure, or with
    --coverage on any rule never fired or outcome never reached. RULES_DIR defaults
    to the packaged rules.

    Example: talentrules rules test rules/ --coverage
    """
    from talentrules.ruletests import format_report, run_folder

    _notice_local_rules(rules_dir)
    report = run_folder(rules_dir, coverage=coverage)
    click.echo(format_report(report))
    if not report.ok:
        raise SystemExit(1)


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
    sheet and cell) nothing is written and the command exits 1. The files written say what the
    workbook says: the same decisions and rule hashes, so 'audit diff' shows no
    change. YAML comments do not live in a workbook (see docs/rules.md).

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
    type=click.Path(exists=True, path_type=Path),
    help="The run's workbook: replay the run and compare every recommendation and trace line.",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(exists=True, path_type=Path),
    help="Rulebook for the replay, a folder or a workbook (default: the one the manifest records).",
)
@user_errors
def audit_verify(outdir: Path, workbook: Path | None, rules_dir: Path | None) -> None:
    """Check OUTDIR's record: the trace's hash chain, the manifest, every file's hash.

    An edited, reordered, truncated or appended trace line is named with its line
    number and employee. With --workbook the run is replayed with the same options;
    any difference names the person, the field and both values. Exits 1 on any
    problem. Prints the manifest's own SHA-256: keep it with the panel's minutes.

    Example: talentrules audit verify review-out --workbook review.xlsx
    """
    from talentrules.audit import verify

    report = verify(outdir, workbook, rules_dir)
    for line in report.checked:
        click.echo(f"ok: {line}")
    for line in report.problems:
        click.echo(f"FAIL: {line}")
    click.echo(f"manifest.json sha256 {report.manifest_sha256}")
    if not report.ok:
        raise SystemExit(1)


_AUDIT_FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)


@audit.command("diff")
@click.argument("workbook", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--rules-a",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="The rulebook in use (a rules folder or a rulebook workbook).",
)
@click.option(
    "--rules-b",
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
        click.echo(json.dumps(diff.as_json(), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        click.echo(format_diff(diff))


@audit.command("fairness")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--workbook",
    type=click.Path(exists=True, path_type=Path),
    help="For an OUTDIR: the run's workbook, if it is no longer where the manifest says.",
)
@_RULES_OPTION
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

    # An OUTDIR (its manifest there, whatever kind of file: a FIFO or a link is named
    # as such when read); any other folder holds CSV files.
    if os.path.lexists(source / "manifest.json"):
        report = fairness_of_outdir(source, workbook)
    else:
        report = fairness(evaluate_workbook(source, rules_dir))
    if output_format == "json":
        data = report.as_json() if report else None
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        click.echo(format_fairness(report))
