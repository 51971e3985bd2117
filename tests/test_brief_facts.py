"""What briefs show is named by the rulebook (vocabulary.yaml ``briefs``): the header's
tenure and time in role, the talent snapshot's trend, the facts of a signal's line, the
influence section's counts, the risks and gaps read from facts; never facts Python knows
by name.

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

# The signal family's facts, the trend and the facts below, renamed in every file that
# names them.
RENAMED = {
    "episodes": "sightings",
    "self_reports": "own_reports",
    "contexts": "situations",
    "observers": "witnesses",
    "months_spanned": "span_months",
    "newest_age_months": "latest_age",
}
# Facts named PREFIX.VALUE (the influence section's counts) and the others briefs read.
RENAMED_FACTS = {
    r"nominations\.(position|expertise|personal|total)": r"inspired_by.\1",
    r"influence\.(position|expertise|personal|rules)": r"leverage.\1",
    r"outcome\.(commitment|compliance|resistance)": r"response.\1",
    r"development\.withdrawn": "development.dropped",
}
RENAMED_PREFIXES = {"nominations": "inspired_by", "influence": "leverage", "outcomes": "response"}
# tenure_months and months_in_role are computed from the Employees sheet by those names
# (facts.COMPUTED): briefs show facts computed from them by a formula instead.
MONTHS = """\
  months_employed:
    type: number
    range: [0, 1200]
    meaning: Whole months since hire.
    formula: tenure_months
  months_in_post:
    type: number
    range: [0, 1200]
    meaning: Whole months in the current role.
    formula: months_in_role
"""
AMARA = "00001"


def rename(folder: Path) -> Path:
    """Rename the signal family's facts (H-DEV.episodes -> H-DEV.sightings, ...),
    performance_trend (-> rating_change), the facts the influence section counts
    (influence.rules -> leverage.rules, ...) and development.withdrawn wherever the
    rulebook names them: its rules, messages, rule tests, the family and ``briefs``; the
    header's months come from formula facts of other names."""
    for path in [*folder.glob("*.yaml"), *folder.glob("tests/*.yaml")]:
        text = re.sub(r"\bperformance_trend\b", "rating_change", path.read_text(encoding="utf-8"))
        for old, new in RENAMED_FACTS.items():
            text = re.sub(rf"\b{old}\b", new, text)
        if path.name == "vocabulary.yaml":
            head, briefs = text.split("\nbriefs:\n")
            for key, prefix in RENAMED_PREFIXES.items():
                briefs = re.sub(rf"(?m)^  {key}: \S+$", f"  {key}: {prefix}", briefs)
            briefs = briefs.replace("  tenure: tenure_months\n", "  tenure: months_employed\n")
            briefs = briefs.replace("  in_role: months_in_role\n", "  in_role: months_in_post\n")
            head = head.replace("\nfamilies:\n", f"\n{MONTHS}\nfamilies:\n")
            text = f"{head}\nbriefs:\n{briefs}"
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
    """What each Markdown brief shows of the facts ``briefs`` names: tenure, the
    snapshot's trend, the signal lines, the influence section's counts, the
    counter-signals' and withdrawals' risks, the aspiration and nomination gaps."""
    marks = (
        "Tenure ",
        "| Performance, last three",
        "| Signal |",
        "| **Counter-signal**",
        "Nominated by colleagues for:",
        "- Withdrew from",
        "- No aspiration statement",
        "- No 'who inspires you'",
    )
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
    briefs = rulebook.briefs
    assert (briefs.tenure, briefs.in_role) == ("months_employed", "months_in_post")
    assert briefs.influence == (
        ("Position", "leverage.position"),
        ("Expertise", "leverage.expertise"),
        ("Personal", "leverage.personal"),
        ("Rules and monitoring", "leverage.rules"),
    )
    assert briefs.nominations is not None and briefs.outcomes is not None
    assert [fact for _, fact in briefs.nominations] == [
        "inspired_by.position",
        "inspired_by.expertise",
        "inspired_by.personal",
    ]  # inspired_by.total counts no one reason
    assert [fact for _, fact in briefs.outcomes][0] == "response.commitment"
    assert (briefs.withdrawn, briefs.nominated_by) == ("development.dropped", "inspired_by.total")
    for old in (
        "influence.rules",
        "nominations.total",
        "outcome.commitment",
        "development.withdrawn",
    ):
        assert old not in rulebook.vocabulary


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
    # The header's months and the influence section's counts, read from the new names.
    tenure, in_role = values["months_employed"], values["months_in_post"]
    assert isinstance(tenure, int) and isinstance(in_role, int) and tenure > in_role > 0
    assert f"Tenure {tenure // 12} years {tenure % 12} months; in role {in_role // 12} years" in md
    assert (
        f"Nominated by colleagues for: Position {values['inspired_by.position']}, "
        f"Expertise {values['inspired_by.expertise']}, Personal {values['inspired_by.personal']}. "
        f"Influence rested on: Position 0, Expertise 0, Personal {values['leverage.personal']}, "
        f"Rules and monitoring 0. Others' response: Commitment {values['response.commitment']}, "
    ) in md
    assert values["leverage.personal"] and values["inspired_by.personal"]
    # Every brief says what the packaged rulebook's says: the same rulebook renamed.
    shown = [line for lines in shown_facts(shipped).values() for line in lines]
    assert len(shown) > 100 and any(line.startswith("- ") for line in shown)
    # ... with the risks and gaps the renamed facts give (not none for want of them).
    texts = "".join(briefs(shipped).values())
    for said in ("Withdrew from", "No aspiration statement", "No 'who inspires you' nomination"):
        assert said in texts
    assert "not declared" not in texts
    assert briefs(out) == briefs(shipped)


def test_the_renamed_rulebook_as_a_workbook_gives_the_same_briefs(
    renamed: Path, shipped: Path, tmp_path: Path
) -> None:
    book = export_rulebook(renamed, tmp_path / "rulebook.xlsx")
    sheet = openpyxl.load_workbook(book)["Briefs"]
    rows = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["trend"] == "rating_change"
    assert rows["signal_line.observers"] == "witnesses"
    assert (rows["influence"], rows["nominated_by"]) == ("leverage", "inspired_by.total")
    assert (rows["tenure"], rows["aspiration_statement"]) == (
        "months_employed",
        "has_aspiration_statement",
    )
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
    (
        "  influence: influence\n",
        "  influence: influense\n",
        "briefs: influence: no fact 'influense.VALUE' for a value of Evidence influence_base "
        "(Position, Expertise, Personal, Rules and monitoring); did you mean 'influence'?",
    ),
    (
        "  withdrawn: development.withdrawn\n",
        "  withdrawn: development.withdrawm\n",
        "briefs: withdrawn: unknown fact 'development.withdrawm'; "
        "did you mean 'development.withdrawn'?",
    ),
    (
        "  tenure: tenure_months\n",
        "  tenure: tenure_month\n",
        "briefs: tenure: unknown fact 'tenure_month'; did you mean 'tenure_months'?",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    BAD_NAMES,
    ids=["signal_line", "trend", "influence", "withdrawn", "tenure"],
)
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
        (
            "  aspiration_statement: has_aspiration_statement\n",
            "  aspiration_statement: tenure_months\n",
            "briefs: aspiration_statement: 'tenure_months' is a number fact; whether there is "
            "a statement is a boolean",
        ),
        (
            "  in_role: months_in_role\n",
            "  in_role: readiness\n",
            "briefs: in_role: 'readiness' is an enum fact; time in role is a number",
        ),
        (
            "  outcomes: outcome\n",
            "  outcomes: outcome.commitment\n",
            "briefs: outcomes: no fact 'outcome.commitment.VALUE' for a value of Evidence "
            "outcome_in_others (Commitment, Compliance, Resistance, Unknown); "
            "did you mean 'outcome'?",
        ),
        (
            "  nominated_by: nominations.total\n",
            "  nominated_by: nominations.total\n  nominees: nominations.total\n",
            "briefs: unknown key 'nominees'",
        ),
    ],
    ids=[
        "a-column-left-out",
        "not-a-number",
        "unknown-column",
        "not-a-boolean",
        "an-enum",
        "a-fact-for-a-prefix",
        "unknown-key",
    ],
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
    """No ``briefs``: no 0 nobody read. The header's months, the snapshot's trend, the
    signal table and the influence section's counts say 'not declared by the rulebook';
    no signal line, no counter-signal risk is made up; the risks and gaps read from facts
    say they were not declared rather than that there are none."""
    rules = copy_rules(tmp_path)
    vocabulary = rules / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    vocabulary.write_text(text[: text.index("\n# Which facts briefs show")] + "\n")
    assert load_rulebook(rules).briefs.signal_line is None
    out = evaluate(tmp_path / "out", "--rules", str(rules))
    md = (out / "briefs" / f"{AMARA}.md").read_text(encoding="utf-8")
    assert "trend not declared by the rulebook" in md
    assert "Tenure not declared by the rulebook; in role not declared by the rulebook;" in md
    assert (
        "Nominated by colleagues for: not declared by the rulebook (vocabulary.yaml briefs: "
        "nominations). Influence rested on: not declared by the rulebook (vocabulary.yaml "
        "briefs: influence). Others' response: not declared by the rulebook (vocabulary.yaml "
        "briefs: outcomes)."
    ) in md
    not_read = [
        "- Earlier withdrawals from development: not declared by the rulebook "
        "(vocabulary.yaml briefs: withdrawn).",
        "- Whether there is an aspiration statement: not declared by the rulebook "
        "(vocabulary.yaml briefs: aspiration\\_statement).",
        "- Nominations received: not declared by the rulebook (vocabulary.yaml briefs: "
        "nominated\\_by).",
    ]
    written = briefs(out)
    for name, text in written.items():
        if name.endswith(".md"):
            assert all(line in text.splitlines() for line in not_read), name
            assert "None identified" not in text and "None: the evidence" not in text
    for said in ("Withdrew from", "No aspiration statement:", "No 'who inspires you'", "Tenure 1"):
        assert said in "".join(briefs(shipped).values())
        assert said not in "".join(written.values())
    assert "| | not declared by the rulebook (vocabulary.yaml briefs: signal\\_line) |" in md
    assert "\n| Signal |" not in md and "none recorded" not in md
    html = (out / "briefs" / f"{AMARA}.html").read_text(encoding="utf-8")
    assert html.count("Not declared by the rulebook (vocabulary.yaml briefs: signal_line).") == 2
    for key in ("nominations", "influence", "outcomes", "withdrawn", "nominated_by"):
        assert f"not declared by the rulebook (vocabulary.yaml briefs: {key})" in html, key
    assert "not declared by the rulebook &middot; not declared by the rulebook" in html
    assert "None recorded." not in html.split('id="heart"')[1].split("</section>")[0]
    # The counter-signals' risks read the line's episodes: none is made up without them.
    assert "observed by others in" in briefs(shipped)["00002.md"]
    assert not any("observed by others in" in text for text in briefs(out).values())
    result = CliRunner().invoke(
        cli, ["explain", AMARA, str(sample_workbook()), "--rules", str(rules)]
    )
    assert result.exit_code == 0, result.output
    assert "Signals and counter-signals: not declared by the rulebook" in result.output
    assert "Earlier withdrawals from development: not declared by the rulebook" in result.output


def test_a_tally_of_a_fact_that_is_no_number_is_refused(tmp_path: Path) -> None:
    """A prefix's fact for a column's value (outcome.commit: Commitment) must count."""
    rules = copy_rules(tmp_path)
    vocabulary = rules / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    odd = "  outcome.commit:\n    type: boolean\n    meaning: Others committed at all.\n"
    vocabulary.write_text(text.replace("\nfamilies:\n", f"\n{odd}\nfamilies:\n"))
    found = [str(d) for d in check_report(rules).diagnostics if d.severity == "error"]
    message = "briefs: outcomes: 'outcome.commit' is a boolean fact; a tally's count is a number"
    assert any(message in line for line in found), found


def test_rules_check_warns_of_every_place_left_undeclared(tmp_path: Path) -> None:
    """A place a brief shows 'not declared by the rulebook' is the panel owner's choice:
    ``rules check`` names each one (a warning: it still passes), once, at the section;
    a rulebook declaring every place gets no such warning."""
    rules = copy_rules(tmp_path)
    vocabulary = rules / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    assert not [d for d in check_report(rules).diagnostics if "briefs:" in d.message]
    left_out = text.replace("  trend: performance_trend\n", "").replace(
        "  nominated_by: nominations.total\n", ""
    )
    vocabulary.write_text(left_out, encoding="utf-8")
    found = [d for d in check_report(rules).diagnostics if "briefs:" in d.message]
    line = left_out[: left_out.index("\nbriefs:\n")].count("\n") + 2
    assert [(d.severity, d.line) for d in found] == [("warning", line)]
    assert found[0].message.startswith("briefs: no fact named for trend, nominated_by: ")
    vocabulary.write_text(text[: text.index("\n# Which facts briefs show")] + "\n")
    done = cli_run("rules", "check", str(rules))
    assert done.returncode == 0, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "rules/vocabulary.yaml:1: warning: briefs: no fact named for trend, tenure, " in said
    assert "signal_line: briefs show 'not declared by the rulebook' there" in said
    # A rulebook workbook names the sheet and cell: Briefs when the sheet is there.
    vocabulary.write_text(left_out, encoding="utf-8")
    done = cli_run("rules", "check", str(export_rulebook(rules, tmp_path / "some.xlsx")))
    assert "some.xlsx: Briefs!A2: warning: briefs: no fact named for trend" in done.stderr
    vocabulary.write_text(text[: text.index("\n# Which facts briefs show")] + "\n")
    done = cli_run("rules", "check", str(export_rulebook(rules, tmp_path / "none.xlsx")))
    assert "none.xlsx: Facts!A1: warning: briefs: no fact named for trend" in done.stderr


def test_the_handbook_shows_which_fact_each_place_of_a_brief_shows(
    renamed: Path, tmp_path: Path
) -> None:
    """``rules book`` has a "What briefs show" table: every place, with the facts the
    rulebook names for it (its own names), or that it names none."""
    from talentrules.handbook import build_handbook, render_handbook
    from talentrules.vocabulary.briefs import BRIEF_KEYS, PLACES

    assert set(PLACES) == set(BRIEF_KEYS)
    places = {key: shown for key, _, shown in build_handbook(renamed).briefs}
    assert list(places) == list(PLACES)
    assert places["trend"] == "rating_change"
    assert places["tenure"] == "months_employed"
    assert places["signal_line"].startswith(f"episodes: SIGNAL.{RENAMED['episodes']}; ")
    assert "Rules and monitoring: leverage.rules" in places["influence"]
    assert places["nominated_by"] == "inspired_by.total"
    html = render_handbook(build_handbook(renamed))
    section = html.split('<h2 id="briefs">')[1].split("<h2 ")[0]
    assert "<td>rating_change</td>" in section and "performance_trend" not in section
    rules = copy_rules(tmp_path)
    vocabulary = rules / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    vocabulary.write_text(text[: text.index("\n# Which facts briefs show")] + "\n")
    shown = {shown for _, _, shown in build_handbook(rules).briefs}
    assert shown == {"not declared: the brief says so"}
