"""The recipes of rules/README.md, followed on a copy of the rulebook as a panel owner
would: edit rule files (and the workbook, where the recipe says so), then run
`rules check`, `rules test` and `evaluate` on a real workbook through the CLI, and read
the briefs.

Renames must change nothing in a brief but the renamed word: each such test compares
the brief with the one the packaged rulebook writes.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from talentrules.cli import cli
from talentrules.paths import default_rules_dir, sample_workbook


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def copy_rules(tmp_path: Path) -> Path:
    return Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))


def edit(path: Path, old: str, new: str, count: int | None = 1) -> None:
    """Replace ``old`` by ``new`` in a file (``count`` times, or at least once: None)."""
    text = path.read_text(encoding="utf-8")
    found = text.count(old)
    assert found == count if count is not None else found >= 1, (path.name, old, found)
    path.write_text(text.replace(old, new), encoding="utf-8")


def workbook(tmp_path: Path, change: Callable[[Any], None] | None = None) -> Path:
    """A copy of the sample workbook (same file name), after ``change(book)``."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    book = openpyxl.load_workbook(sample_workbook())
    if change is not None:
        change(book)
    path = folder / "panel_review.xlsx"
    book.save(path)
    return path


def check_test_evaluate(rules: Path, book: Path, out: Path) -> Path:
    """The three commands every recipe ends with; all must pass."""
    code, stdout, stderr = run("rules", "check", str(rules))
    assert code == 0, stdout + stderr
    code, stdout, stderr = run("rules", "test", str(rules), "--coverage")
    assert code == 0, stdout + stderr
    code, stdout, stderr = run("evaluate", str(book), "--rules", str(rules), "-o", str(out))
    assert code == 0, stdout + stderr
    assert f"with rulebook {rules.absolute()} @ sha256" in stdout
    return out


def brief(out: Path, employee_id: str) -> str:
    text = (out / "briefs" / f"{employee_id}.md").read_text(encoding="utf-8")
    return re.sub(r"\S*rules @ sha256 [0-9a-f]{12}", "RULEBOOK", text)


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's outputs under the packaged rulebook, to compare renames with."""
    tmp = tmp_path_factory.mktemp("packaged")
    out = tmp / "out"
    code, stdout, stderr = run("evaluate", str(workbook(tmp)), "-o", str(out))
    assert code == 0, stdout + stderr
    return out


def test_change_a_threshold_is_one_line(tmp_path: Path) -> None:
    """The issue's example: the habit span from 12 to 18 months."""
    rules = copy_rules(tmp_path)
    edit(
        rules / "parameters.yaml",
        "  habit_months:\n    value: 12\n",
        "  habit_months:\n    value: 18\n",
    )
    out = check_test_evaluate(rules, workbook(tmp_path), tmp_path / "out")
    # 00001's habits span 15 months: no longer enough, and the brief says what would be.
    text = " ".join(brief(out, "00001").split())
    assert (
        "(habitual-H-DEV), would decide Habitual: H-DEV: needs whole months from the first to "
        "the latest observation of Develops others (H-DEV): at least 18; it is 15"
    ) in text
    assert "Heart for leadership: Strong" not in text
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert '"habit_months": 18' in manifest


def test_change_how_the_trend_is_computed_is_one_line(tmp_path: Path) -> None:
    """The trend against the rating two cycles ago: a formula in vocabulary.yaml."""
    rules = copy_rules(tmp_path)
    edit(
        rules / "vocabulary.yaml",
        "    formula: performance - performance_prior_1\n",
        "    formula: performance - performance_prior_2\n",
    )
    before = check_test_evaluate(
        copy_rules(tmp_path / "before"), workbook(tmp_path), tmp_path / "a"
    )
    out = check_test_evaluate(rules, workbook(tmp_path), tmp_path / "out")
    # 00001 was rated 3, then 4 and 4: steady against last cycle, up 1 against two ago.
    assert "| Performance, last three cycles | 3, 4, 4; trend steady |" in brief(before, "00001")
    assert "| Performance, last three cycles | 3, 4, 4; trend up 1 |" in brief(out, "00001")


def test_add_a_signal_needs_no_python_and_no_copied_rule(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(
        rules / "signals.yaml",
        "\n  C-POS:\n",
        "\n  H-INC:\n"
        "    name: Includes others\n"
        "    kind: signal\n"
        "    weight: core\n"
        "    description: Brings quiet colleagues in; makes room for every voice.\n"
        "    why: >-\n"
        "      The person makes sure everyone is heard, again and again, so that people\n"
        "      commit to what they helped shape.\n"
        "\n  C-POS:\n",
    )
    (rules / "tests" / "inclusion.yaml").write_text(
        "tests:\n"
        "  - name: including others habitually is a habit\n"
        "    facts: {H-INC.episodes: $habit_episodes, H-INC.contexts: $habit_contexts,\n"
        "            H-INC.months_spanned: $habit_months, H-INC.observers: $habit_observers}\n"
        "    expect: {habitual: H-INC}\n"
        "    fired: [habitual-H-INC]\n"
        "  - name: including others can drain too\n"
        "    facts: {H-INC.episodes: $repeat_episodes, H-INC.drained_share: 100}\n"
        "    expect: {draining: H-INC}\n"
        "    fired: [draining-H-INC]\n",
        encoding="utf-8",
    )

    def record(book: Any) -> None:  # 00013 is observed including others, three times
        sheet = book["Evidence"]
        header = [c.value for c in sheet[1]]
        for n, (months, context, source) in enumerate(
            ((2, "Project", "P-101"), (8, "Community", "P-102"), (16, "Project", "M-00002"))
        ):
            row = dict.fromkeys(header)
            row |= {
                "evidence_id": f"EV-9{n}",
                "employee_id": "00013",
                "signal": "H-INC",
                "observed_on": f"2026-{10 - months % 10:02d}-01" if months < 10 else "2025-06-01",
                "context": context,
                "influence_base": "Personal",
                "energy": "Energised",
                "outcome_in_others": "Commitment",
                "source_type": "Peer",
                "source_id": source,
                "observation": "Made room for the quietest voice in the room.",
            }
            sheet.append([row[h] for h in header])

    book = workbook(tmp_path, record)
    # The packaged catalogue has no H-INC: validate names the cell; with the rules, fine.
    code, stdout, _ = run("validate", str(book))
    assert code == 1 and "Evidence!C" in stdout and "'H-INC' is not a signal" in stdout
    code, stdout, _ = run("validate", str(book), "--rules", str(rules))
    assert code == 0, stdout
    out = check_test_evaluate(rules, book, tmp_path / "out")
    text = " ".join(brief(out, "00013").split())
    assert "Heart for leadership: Strong. Seen habitually by others: Includes others." in text
    assert "| Signal | Includes others (H-INC) |" in text
    assert "**Includes others, habitually** (habitual-H-INC, " in text
    assert "Habitual: **H-INC**." in text


def test_add_an_investment(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(
        rules / "catalogue.yaml",
        "  - code: RET\n",
        "  - code: LEAD-SHADOW\n"
        "    name: Shadow a senior leader for a month\n"
        "    track: Leadership\n"
        '    mode: "20"\n'
        "    seats: null\n"
        "    cost_per_person: 300\n"
        "    duration_months: 1\n"
        "    fits: Emerging heart, open to leading people\n"
        "  - code: RET\n",
    )
    edit(rules / "catalogue.yaml", "    - LEAD-MENTOR\n", "    - LEAD-MENTOR\n    - LEAD-SHADOW\n")
    edit(
        rules / "catalogue.yaml",
        "      EXP-LEAD: {heart: [Strong, Emerging]}\n",
        "      EXP-LEAD: {heart: [Strong, Emerging]}\n"
        "      LEAD-SHADOW: {heart: [Strong, Emerging]}\n",
    )
    edit(rules / "decisions.yaml", "      - RET\n", "      - RET\n      - LEAD-SHADOW\n")
    edit(
        rules / "60-investment.yaml",
        "  # ---- Overlays: coaching ----\n",
        "  - id: invest-lead-shadow\n"
        "    decision: investment\n"
        "    title: Shadow a senior leader\n"
        "    rationale: >-\n"
        "      The heart for leadership is emerging and the person is open to leading\n"
        "      people. A month beside a senior leader shows what the habit looks like\n"
        "      day to day; it is relationship, not a course.\n"
        "    when:\n"
        "      - heart == Emerging\n"
        "      - track == Leadership\n"
        "    then: LEAD-SHADOW\n\n"
        "  # ---- Overlays: coaching ----\n",
    )
    edit(
        rules / "tests" / "investment.yaml",
        "tests:\n",
        "tests:\n"
        "  - name: an emerging heart open to leading shadows a senior leader\n"
        "    facts: {career_interest: Lead people, H-DEV.episodes: 2, H-DEV.observers: 2,\n"
        "            evidence.episodes: 3, evidence.observed: 3, evidence.heart_episodes: 3,\n"
        "            evidence.observers: 2}\n"
        "    expect: {heart: Emerging, track: Leadership, investment: LEAD-SHADOW}\n"
        "    fired: [invest-lead-shadow]\n"
        "  - name: a strong heart does not shadow\n"
        "    facts: {H-FOL.episodes: 3, H-FOL.contexts: 2, H-FOL.months_spanned: $habit_months,\n"
        "            H-FOL.observers: 2, evidence.episodes: 3, evidence.observed: 3,\n"
        "            evidence.heart_episodes: 3, evidence.observers: 2}\n"
        "    absent: {investment: [LEAD-SHADOW]}\n",
    )

    def offer(book: Any) -> None:  # the workbook's own catalogue offers it too
        sheet = book["Investments"]
        header = [c.value for c in sheet[1]]
        row = {
            "investment_code": "LEAD-SHADOW",
            "name": "Shadow a senior leader",
            "track": "Leadership",
            "mode": "20",
            "seats": 4,
            "cost_per_person": 300,
            "duration_months": 1,
        }
        sheet.append([row.get(h) for h in header])

    out = check_test_evaluate(rules, workbook(tmp_path, offer), tmp_path / "out")
    text = " ".join(brief(out, "00016").split())  # the emerging persona
    assert "| **Shadow a senior leader** (LEAD-SHADOW); 20 relationship;" in text
    assert "(invest-lead-shadow, " in text and "Investments: **LEAD-SHADOW**" in text


def test_rename_an_outcome_keeps_every_word_of_the_briefs(tmp_path: Path, packaged: Path) -> None:
    rules = copy_rules(tmp_path)
    for path in [*rules.glob("*.yaml"), *(rules / "tests").glob("*.yaml")]:
        text = path.read_text(encoding="utf-8")
        renamed = re.sub(r"\bBalanced\b", "In balance", text)
        if renamed != text:
            path.write_text(renamed, encoding="utf-8")
    out = check_test_evaluate(rules, workbook(tmp_path), tmp_path / "out")
    for employee_id in ("00001", "00044", "00004"):
        before = brief(packaged, employee_id)
        after = brief(out, employee_id)
        assert after.replace("In balance", "Balanced") == before, employee_id
    assert "**Team balance:** In balance: keep it so" in brief(out, "00001")


def test_rename_a_decision_keeps_the_brief_wording(tmp_path: Path, packaged: Path) -> None:
    rules = copy_rules(tmp_path)
    new = "verdict_of_heart"
    patterns = (
        (r"(?m)^  heart:$", f"  {new}:"),  # decisions.yaml
        (r"\bdecision: heart\b", f"decision: {new}"),  # rules
        (r"(?m)^(\s+- )heart (==|!=|in|not in) ", rf"\g<1>{new} \2 "),  # conditions
        (r"\{\{ heart \|", "{{ " + new + " |"),  # a message naming the value read
        (r"([{,]\s*)heart: ", rf"\g<1>{new}: "),  # tests' expect and absent
        (r"(?m)^(\s+- )heart: \[", rf"\g<1>{new}: ["),  # allocation order
        (r"\{heart: \[", "{" + new + ": ["),  # eligibility
        (r"(?m)^(\s+)heart: \[", rf"\g<1>{new}: ["),  # eligibility, block style
    )
    for path in [*rules.glob("*.yaml"), *(rules / "tests").glob("*.yaml")]:
        text = path.read_text(encoding="utf-8")
        for pattern, replacement in patterns:
            text = re.sub(pattern, replacement, text)
        path.write_text(text, encoding="utf-8")
    out = check_test_evaluate(rules, workbook(tmp_path), tmp_path / "out")
    for employee_id in ("00001", "00011", "00041"):
        before, after = brief(packaged, employee_id), brief(out, employee_id)
        # Everything up to "How this was produced" (which names decisions) is the same.
        cut = "## How this was produced"
        assert after.split(cut)[0] == before.split(cut)[0], employee_id
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "### Heart for leadership (45 people)" in summary
    assert "### Gather evidence first" in summary


def test_rename_a_signal_in_the_rules_and_the_workbook(tmp_path: Path, packaged: Path) -> None:
    rules = copy_rules(tmp_path)
    for path in [*rules.glob("*.yaml"), *(rules / "tests").glob("*.yaml")]:
        edit(path, "H-DEV", "H-GRO", count=None) if "H-DEV" in path.read_text() else None

    def recode(book: Any) -> None:
        sheet = book["Evidence"]
        column = [c.value for c in sheet[1]].index("signal") + 1
        for row in range(2, sheet.max_row + 1):
            if sheet.cell(row, column).value == "H-DEV":
                sheet.cell(row, column).value = "H-GRO"

    out = check_test_evaluate(rules, workbook(tmp_path, recode), tmp_path / "out")
    for employee_id in ("00001", "00004", "00043"):
        after = brief(out, employee_id).replace("H-GRO", "H-DEV")
        assert after == brief(packaged, employee_id), employee_id


def test_add_an_outcome(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(
        rules / "decisions.yaml",
        "      - High risk of loss\n      - None\n",
        "      - High risk of loss\n      - New in role\n      - None\n",
    )
    edit(
        rules / "decisions.yaml",
        "      None:\n        meaning: Nothing beyond the recommendation itself.\n",
        "      New in role:\n"
        "        meaning: In the role for less than $newcomer_months months; judge the role,"
        " not the person.\n"
        "      None:\n        meaning: Nothing beyond the recommendation itself.\n",
    )
    (rules / "75-new-in-role.yaml").write_text(
        "rules:\n"
        "  - id: exception-new-in-role\n"
        "    decision: exceptions\n"
        "    title: New in the role\n"
        "    rationale: >-\n"
        "      The person has been in the role for less than $newcomer_months months: the\n"
        "      panel sees who is still finding their feet before reading their ratings.\n"
        "    when:\n"
        "      - months_in_role < $newcomer_months\n"
        "    then: New in role\n",
        encoding="utf-8",
    )
    (rules / "tests" / "new-in-role.yaml").write_text(
        "tests:\n"
        "  - name: new in the role is listed\n"
        "    facts: {months_in_role: $newcomer_months - 1}\n"
        "    expect: {exceptions: New in role}\n",
        encoding="utf-8",
    )
    out = check_test_evaluate(rules, workbook(tmp_path), tmp_path / "out")
    summary = " ".join((out / "summary.md").read_text(encoding="utf-8").split())
    assert "### New in role (2) In the role for less than 6 months; judge the role" in summary
    assert "Elena Popescu (00015): New in the role" in summary
