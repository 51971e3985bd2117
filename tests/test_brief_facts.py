"""What briefs show is named by the rulebook (vocabulary.yaml ``briefs``): the talent
snapshot's trend and the facts of a signal's line, never facts Python knows by name.

Through the real path: a copy of the packaged rules whose signal family's facts and
trend are renamed (as a panel owner would), the sample workbook, the CLI, the
durable_rules engine and the packaged templates; the same rulebook as a workbook
(``rules export``); a rulebook naming a fact that does not exist (refused when it
loads, naming the file and the key, with no traceback); one that names none."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from talentrules.cli import EXIT_RULES, cli
from talentrules.paths import default_rules_dir, sample_workbook
from talentrules.report import SignalLine
from talentrules.rulebook import check_report, load_rulebook
from talentrules.rulexlsx import export_rulebook, import_rulebook
from talentrules.run import evaluate_workbook
from talentrules.vocabulary import SIGNAL_LINE_COLUMNS

# The signal family's facts and the trend, renamed in every file that names them.
RENAMED = {
    "episodes": "sightings",
    "self_reports": "own_reports",
    "contexts": "situations",
    "observers": "witnesses",
    "months_spanned": "span_months",
    "newest_age_months": "latest_age",
}
AMARA = "00001"


def rename(folder: Path) -> Path:
    """Rename the signal family's facts (H-DEV.episodes -> H-DEV.sightings, ...) and
    performance_trend (-> rating_change) wherever the rulebook names them: its rules,
    messages, rule tests, the family and ``briefs``."""
    for path in [*folder.glob("*.yaml"), *folder.glob("tests/*.yaml")]:
        text = re.sub(r"\bperformance_trend\b", "rating_change", path.read_text(encoding="utf-8"))
        for old, new in RENAMED.items():
            text = re.sub(rf"(\$code|\b[A-Z]-[A-Z]{{3}})\.{old}\b", rf"\1.{new}", text)
            if path.name == "vocabulary.yaml":
                text = re.sub(rf"(?m)^      {old}:", f"      {new}:", text)  # the family
                head, briefs = text.split("\nbriefs:\n")
                briefs = re.sub(rf"(?m)^(    \w+): {old}$", rf"\1: {new}", briefs)
                text = f"{head}\nbriefs:\n{briefs}"
            if not re.search(rf"\.{old}\b", text):  # a message's value, by its last part
                text = text.replace(f"{{{{ {old} }}}}", f"{{{{ {new} }}}}")
        path.write_text(text, encoding="utf-8")
    return folder


def copy_rules(where: Path) -> Path:
    return Path(shutil.copytree(default_rules_dir(), where / "rules"))


def evaluate(out: Path, *rules: str) -> Path:
    result = CliRunner().invoke(cli, ["evaluate", str(sample_workbook()), *rules, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def briefs(out: Path) -> dict[str, str]:
    """Every brief's text, with the rulebook's path and hash (which differ) taken out."""
    label = re.compile(r"\S+ @ sha256 [0-9a-f]{12}")
    return {
        path.name: label.sub("RULEBOOK", path.read_text(encoding="utf-8"))
        for path in sorted((out / "briefs").iterdir())
    }


def shown_facts(out: Path) -> dict[str, list[str]]:
    """What each Markdown brief shows of the facts ``briefs`` names: the snapshot's
    trend, the signal lines, the counter-signals' risks."""
    marks = ("| Performance, last three", "| Signal |", "| **Counter-signal**")
    risk = re.compile(r"- .* \([A-Z]-[A-Z]{3}: .*\) observed by others in \d+ episode")
    return {
        name: [line for line in text.splitlines() if line.startswith(marks) or risk.match(line)]
        for name, text in briefs(out).items()
        if name.endswith(".md")
    }


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return evaluate(tmp_path_factory.mktemp("shipped") / "out")


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rename(copy_rules(tmp_path_factory.mktemp("renamed")))


def test_the_columns_named_are_the_signal_lines_fields() -> None:
    fields = [f.name for f in dataclasses.fields(SignalLine)]
    assert set(SIGNAL_LINE_COLUMNS) <= set(fields)


def test_renamed_facts_are_the_rulebook_and_old_names_are_gone(renamed: Path) -> None:
    rulebook = load_rulebook(renamed)
    assert rulebook.briefs.trend == "rating_change"
    assert rulebook.briefs.signal_line == tuple(RENAMED.values())
    assert "H-DEV.episodes" not in rulebook.vocabulary
    assert "performance_trend" not in rulebook.vocabulary
    assert "H-DEV.sightings" in rulebook.vocabulary


def test_a_brief_shows_the_renamed_facts_real_values(
    renamed: Path, shipped: Path, tmp_path: Path
) -> None:
    out = evaluate(tmp_path / "out", "--rules", str(renamed))
    values = evaluate_workbook(sample_workbook(), renamed).facts[AMARA].values
    seen = [values[f"H-DEV.{RENAMED[c]}"] for c in ("episodes", "observers", "contexts")]
    assert all(isinstance(v, int) and v > 0 for v in seen)  # real counts, not a default 0
    row = (
        f"| Signal | Develops others (H-DEV) | {values['H-DEV.sightings']} | "
        f"{values['H-DEV.witnesses']} | {values['H-DEV.situations']} | "
        f"{values['H-DEV.span_months']} | {values['H-DEV.own_reports']} | Yes |"
    )
    md = (out / "briefs" / f"{AMARA}.md").read_text(encoding="utf-8")
    assert row in md
    trend = values["rating_change"]
    assert trend == 0 and "trend steady" in md
    # Every brief says what the packaged rulebook's says: the same rulebook renamed.
    shown = [line for lines in shown_facts(shipped).values() for line in lines]
    assert len(shown) > 100 and any(line.startswith("- ") for line in shown)
    assert briefs(out) == briefs(shipped)


def test_the_renamed_rulebook_as_a_workbook_gives_the_same_briefs(
    renamed: Path, shipped: Path, tmp_path: Path
) -> None:
    book = export_rulebook(renamed, tmp_path / "rulebook.xlsx")
    sheet = openpyxl.load_workbook(book)["Briefs"]
    rows = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["trend"] == "rating_change"
    assert rows["signal_line.observers"] == "witnesses"
    assert load_rulebook(book).briefs == load_rulebook(renamed).briefs
    back = tmp_path / "back"
    import_rulebook(book, back)
    assert load_rulebook(back).briefs == load_rulebook(renamed).briefs
    out = evaluate(tmp_path / "out", "--rules", str(book))
    # A workbook's rules cite their cells, not lines: what the facts show is the same.
    assert shown_facts(out) == shown_facts(shipped)


def cli_run(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as a panel owner runs it: its exit status and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "talentrules", *args], capture_output=True, text=True, check=False
    )


BAD_NAMES = [
    (
        "    observers: observers\n",
        "    observers: observer\n",
        "briefs: signal_line: observers: unknown fact 'observer' (no H-AFF.observer); "
        "did you mean 'observers'?",
    ),
    (
        "  trend: performance_trend\n",
        "  trend: performance_trnd\n",
        "briefs: trend: unknown fact 'performance_trnd'; did you mean 'performance_trend'?",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_NAMES, ids=["signal_line", "trend"])
def test_a_name_that_is_no_fact_is_refused_naming_file_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    rules = copy_rules(tmp_path)
    vocabulary = rules / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    line = text[: text.index(old)].count("\n") + 1
    vocabulary.write_text(text.replace(old, new), encoding="utf-8")
    out = tmp_path / "out"
    done = cli_run("evaluate", str(sample_workbook()), "--rules", str(rules), "-o", str(out))
    assert done.returncode == EXIT_RULES, done.stderr
    assert f"rules/vocabulary.yaml:{line}: {message}" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
    # The same rulebook as a workbook: the Briefs sheet's cell is named.
    book = export_rulebook(rules, tmp_path / "bad.xlsx")
    done = cli_run("evaluate", str(sample_workbook()), "--rules", str(book), "-o", str(out))
    assert done.returncode == EXIT_RULES, done.stderr
    assert re.search(rf"bad\.xlsx: Briefs!B\d+: {re.escape(message)}", done.stderr), done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    contexts: contexts\n",
            "",
            "briefs: signal_line: missing 'contexts'",
        ),
        (
            "  trend: performance_trend\n",
            "  trend: readiness\n",
            "briefs: trend: 'readiness' is an enum fact; a trend is a number",
        ),
        (
            "    newest_age: newest_age_months\n",
            "    newest_age: months_spanned\n    age: newest_age_months\n",
            "briefs: signal_line: unknown key 'age'",
        ),
    ],
    ids=["a-column-left-out", "not-a-number", "unknown-column"],
)
def test_what_rules_check_says_of_a_wrong_briefs(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    rules = copy_rules(tmp_path)
    vocabulary = rules / "vocabulary.yaml"
    vocabulary.write_text(
        vocabulary.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8"
    )
    found = [str(d) for d in check_report(rules).diagnostics if d.severity == "error"]
    assert len(found) == 1 and message in found[0], found


def test_a_rulebook_that_names_no_brief_facts_says_so(shipped: Path, tmp_path: Path) -> None:
    """No ``briefs``: no 0 nobody read. The snapshot's trend and the signal table say
    'not declared by the rulebook'; no signal line, no counter-signal risk is made up."""
    rules = copy_rules(tmp_path)
    vocabulary = rules / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    vocabulary.write_text(text[: text.index("\n# Which facts briefs show")] + "\n")
    assert load_rulebook(rules).briefs.signal_line is None
    out = evaluate(tmp_path / "out", "--rules", str(rules))
    md = (out / "briefs" / f"{AMARA}.md").read_text(encoding="utf-8")
    assert "trend not declared by the rulebook" in md
    assert "| | not declared by the rulebook (vocabulary.yaml briefs: signal\\_line) |" in md
    assert "\n| Signal |" not in md and "none recorded" not in md
    html = (out / "briefs" / f"{AMARA}.html").read_text(encoding="utf-8")
    assert html.count("Not declared by the rulebook (vocabulary.yaml briefs: signal_line).") == 2
    assert "None recorded." not in html.split('id="heart"')[1].split("</section>")[0]
    # The counter-signals' risks read the line's episodes: none is made up without them.
    assert "observed by others in" in briefs(shipped)["00002.md"]
    assert not any("observed by others in" in text for text in briefs(out).values())
    result = CliRunner().invoke(
        cli, ["explain", AMARA, str(sample_workbook()), "--rules", str(rules)]
    )
    assert result.exit_code == 0, result.output
    assert "Signals and counter-signals: not declared by the rulebook" in result.output
