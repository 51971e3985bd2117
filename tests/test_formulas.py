"""Facts computed from other facts by a formula (vocabulary.yaml ``formula``, docs/rules.md
"Facts computed from other facts"): performance_trend is declared so, a rulebook that
redefines it changes what is evaluated, every mistake is refused when the rulebook
loads at its file and line, and every what-if computes it again from what it changes.
Each test edits a copy of the packaged rules, as a panel owner would, and runs the
real checker, the real workbook and the durable_rules engine."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from talentrules.cli import EXIT_RULES, cli
from talentrules.facts import Changeable, DerivationPlan, compute_facts, facts_from_mapping
from talentrules.handbook import build_handbook
from talentrules.model import Cell, Row
from talentrules.paths import default_rules_dir, sample_workbook
from talentrules.report import ContextBuilder
from talentrules.report.brief import snapshot
from talentrules.report.names import Namer
from talentrules.report.view import group_rows
from talentrules.rulebook import check_report, load_rulebook
from talentrules.ruletests import load_rule_tests, run_rule_tests
from talentrules.rulexlsx import export_rulebook
from talentrules.run import evaluate_workbook
from talentrules.vocabulary import read_vocabulary
from talentrules.whatif import what_if

TREND = "    formula: performance - performance_prior_1\n"
# A decision of its own that reads the trend, so a redefined trend moves an outcome.
TREND_DECISION = """
  trend_flag:
    outcomes: [Rising, Flat]
    default: Flat
    meaning: Is the person's rating rising?
"""
TREND_RULES = """rules:
  - id: rating-rising
    decision: trend_flag
    title: The rating is rising
    rationale: A rating above the one it is compared with, as vocabulary.yaml computes it.
    when: performance_trend >= 1
    then: Rising
"""


@pytest.fixture()
def rules(tmp_path: Path) -> Path:
    """A copy of the packaged rules to edit."""
    return Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))


def edit(folder: Path, name: str, old: str, new: str) -> int:
    """Replace ``old`` (once in the file) by ``new``; the line of the change."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (name, old)
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def diagnostics(folder: Path) -> list[str]:
    return [str(d) for d in check_report(folder).diagnostics]


def with_trend_rule(folder: Path) -> Path:
    edit(folder, "decisions.yaml", "decisions:\n", "decisions:" + TREND_DECISION)
    (folder / "80-trend.yaml").write_text(TREND_RULES, encoding="utf-8")
    return folder


# --- the default rulebook declares the trend as data ---------------------------------


def test_performance_trend_is_a_formula_of_the_vocabulary() -> None:
    spec = read_vocabulary().facts["performance_trend"]
    assert spec.formula is not None and spec.derivation is None
    assert spec.formula.text == "performance - performance_prior_1"
    assert spec.formula.reads == ("performance", "performance_prior_1")
    assert spec.whole and (spec.minimum, spec.maximum) == (-4, 4)
    # facts.py names neither the trend nor what it is computed from (PERSON_NUMBERS
    # lists the rating columns of the Employees sheet, read as facts of the same name).
    tree = ast.parse((Path(__file__).parents[1] / "talentrules" / "facts.py").read_text())
    names = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert "performance_trend" not in names


# --- a rulebook that redefines it: the real workbook, the real engine ----------------


def test_a_redefined_trend_changes_the_fact_and_a_rules_outcome(rules: Path) -> None:
    with_trend_rule(rules)
    before = evaluate_workbook(sample_workbook(), rules)
    edit(rules, "vocabulary.yaml", TREND, "    formula: performance - performance_prior_2\n")
    after = evaluate_workbook(sample_workbook(), rules)
    # 00001 was rated 3, 4 and 4: steady against last cycle, up 1 against two ago.
    assert before.facts["00001"].values["performance_trend"] == 0
    assert after.facts["00001"].values["performance_trend"] == 1
    row = after.employees["00001"].cells
    ratings = [row[c].ref for c in ("performance", "performance_prior_1", "performance_prior_2")]
    assert before.facts["00001"].cells["performance_trend"] == (ratings[0], ratings[1])
    assert after.facts["00001"].cells["performance_trend"] == (ratings[0], ratings[2])
    outcome = {r.employee_id: r.evaluation.outcomes["trend_flag"] for r in before.results}
    again = {r.employee_id: r.evaluation.outcomes["trend_flag"] for r in after.results}
    assert outcome["00001"] == ("Flat",) and again["00001"] == ("Rising",)
    # 00006 was rated 4, 5 and 4: down 1 against last cycle, steady against two ago.
    assert after.facts["00006"].values["performance_trend"] == 0
    moved = {e for e in outcome if outcome[e] != again[e]}
    rising = {e for e, f in after.facts.items() if (f.values["performance_trend"] or 0) >= 1}
    assert "00001" in moved and {e for e in again if again[e] == ("Rising",)} == rising
    # The brief's snapshot says the redefined trend.
    view = ContextBuilder(after, Namer(after.employees))
    assert view.brief(after.index("00001")).snapshot.trend == "up 1"


def test_a_trend_against_an_average_has_fractions(rules: Path) -> None:
    edit(
        rules,
        "vocabulary.yaml",
        TREND,
        "    formula: performance - (performance_prior_1 + performance_prior_2) / 2\n",
    )
    spec = load_rulebook(rules).vocabulary["performance_trend"]
    assert spec.formula is not None and not spec.whole
    result = evaluate_workbook(sample_workbook(), rules)
    assert result.facts["00001"].values["performance_trend"] == 0.5  # 4 - (4 + 3) / 2
    assert result.facts["00006"].values["performance_trend"] == -0.5  # 4 - (5 + 4) / 2
    given = {"performance": 4, "performance_prior_1": 3}
    person = facts_from_mapping("t", given, result.rulebook.vocabulary)
    assert person.values["performance_trend"] is None  # prior_2 unknown: unknown, never 0
    given["performance_prior_2"] = 4
    person = facts_from_mapping("t", given, result.rulebook.vocabulary)
    assert person.values["performance_trend"] == 0.5


def test_a_rulebook_without_the_trend_gives_a_brief_that_says_not_declared(
    rules: Path, tmp_path: Path
) -> None:
    """The fact gone and briefs naming none (vocabulary.yaml briefs: trend): the brief
    says so; a trend it names but cannot know is 'not recorded'."""
    edit(rules, "vocabulary.yaml", "  performance_trend:\n", "  performance_change:\n")
    edit(rules, "vocabulary.yaml", "  trend: performance_trend\n", "")
    result = evaluate_workbook(sample_workbook(), rules)
    assert "performance_trend" not in result.rulebook.vocabulary
    assert "performance_trend" not in result.facts["00001"].values
    row = result.employees["00001"]
    values = result.facts["00001"].values
    assert snapshot(row, values, None).trend == "not declared by the rulebook"
    assert snapshot(row, {}, "performance_change").trend == "not recorded"
    out = tmp_path / "out"
    code = CliRunner().invoke(
        cli, ["evaluate", str(sample_workbook()), "--rules", str(rules), "-o", str(out)]
    )
    assert code.exit_code == 0, code.output
    brief = (out / "briefs" / "00001.md").read_text(encoding="utf-8")
    assert "trend not declared by the rulebook" in brief


# --- mistakes, refused when the rulebook loads, at the formula's file and line --------

MISTAKES = [
    (
        "performance - performance_prior1",
        "formula reads unknown fact 'performance_prior1'; did you mean 'performance_prior_1'?",
    ),
    (
        "performance-performance_prior_1",
        "formula reads unknown fact 'performance-performance_prior_1' (a fact's name may "
        "hold '-': write spaces around a minus)",
    ),
    (
        "performance - readiness",
        "formula reads 'readiness', an enum fact; a formula reads number facts only",
    ),
    (
        "performance - is_people_manager",
        "formula reads 'is_people_manager', a boolean fact; a formula reads number facts only",
    ),
    (
        "performance_trend + 1",
        "its formula reads itself (performance_trend -> performance_trend)",
    ),
    (
        "performance -",
        "formula 'performance -': the formula ends where a fact, a number or '(' is expected",
    ),  # fmt: skip
    (
        "performance performance_prior_1",
        "formula 'performance performance_prior_1': expected +, -, * or / before "
        "'performance_prior_1'",
    ),
    ("(performance - 1", "formula '(performance - 1': a '(' is never closed"),
    ("performance - 1)", "formula 'performance - 1)': a ')' closes no '('"),
    (
        "performance % 2",
        "formula 'performance % 2': cannot read '%': a formula holds number facts, numbers, "
        "$parameters, + - * / and parentheses",
    ),
    (
        "performance * performance_prior_1",
        "formula 'performance * performance_prior_1': it multiplies a fact by a fact; a "
        "formula multiplies by numbers only",
    ),
    (
        "performance / performance_prior_1",
        "formula 'performance / performance_prior_1': it divides by a fact; a formula "
        "divides by numbers only",
    ),
    ("performance / (2 - 2)", "formula 'performance / (2 - 2)': it divides by 0"),
    (
        "performance - $habit_month",
        "formula 'performance - $habit_month': unknown named value '$habit_month'; did you "
        "mean 'habit_months'?",
    ),
    (
        "performance - $heart_signals",
        "formula 'performance - $heart_signals': '$heart_signals' is a set of codes, not a number",
    ),
    (
        "performance + performance_prior_1",
        "formula 'performance + performance_prior_1' goes from 2 to 10 (by the ranges of "
        "the facts it reads), beyond its range [-4, 4]",
    ),
    (
        "performance - evidence.episodes",
        "formula 'performance - evidence.episodes' goes from -99999 to 5 (by the ranges of "
        "the facts it reads), beyond its range [-4, 4]",
    ),
    ("", "fact 'performance_trend' formula must be text, not nothing"),
]


@pytest.mark.parametrize(("formula", "message"), MISTAKES, ids=[m[0] or "empty" for m in MISTAKES])
def test_a_formula_mistake_is_refused_at_its_line(rules: Path, formula: str, message: str) -> None:
    line = edit(rules, "vocabulary.yaml", TREND, f"    formula: {formula}\n")
    prefix = "" if message.startswith("fact ") else "fact 'performance_trend': "
    expected = f"rules/vocabulary.yaml:{line}: {prefix}{message}"
    assert diagnostics(rules) == [expected]
    result = CliRunner().invoke(cli, ["rules", "check", str(rules)])
    assert result.exit_code == EXIT_RULES and expected in result.stderr


def test_a_cycle_through_other_facts_is_named(rules: Path) -> None:
    line = edit(
        rules,
        "vocabulary.yaml",
        TREND,
        "    formula: performance - trend_base\n"
        "  trend_base:\n"
        "    type: number\n"
        "    meaning: What the trend is against.\n"
        "    formula: performance_trend + performance_prior_1\n",
    )
    assert diagnostics(rules) == [
        f"rules/vocabulary.yaml:{line}: fact 'performance_trend': its formula reads itself "
        "(performance_trend -> trend_base -> performance_trend)"
    ]


def test_a_formula_on_a_fact_that_is_not_a_number_is_refused(rules: Path) -> None:
    line = edit(
        rules,
        "vocabulary.yaml",
        "  performance_trend:\n    type: number\n    range: [-4, 4]\n",
        "  performance_trend:\n    type: text\n",
    )
    assert diagnostics(rules) == [
        f"rules/vocabulary.yaml:{line + 1}: fact 'performance_trend': a formula's fact is a number"
    ]


def test_a_range_the_formula_cannot_keep_for_want_of_an_inputs_range(rules: Path) -> None:
    line = edit(
        rules,
        "vocabulary.yaml",
        TREND,
        "    formula: performance - loose\n"
        "  loose:\n    type: number\n    meaning: No range.\n    rows: all\n    measure: count\n",
    )
    found = diagnostics(rules)
    assert found[0] == (
        f"rules/vocabulary.yaml:{line}: fact 'performance_trend': formula 'performance - "
        "loose' has no limit (a fact it reads has no range), beyond its range [-4, 4]"
    )


def test_a_formula_mistake_in_the_rulebook_workbook_names_its_cell(
    rules: Path, tmp_path: Path
) -> None:
    book = export_rulebook(rules, tmp_path / "rulebook.xlsx")
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["Facts"]
    header = [c.value for c in sheet[1]]
    column = header.index("formula")
    (row,) = [r for r in sheet.iter_rows(min_row=2) if r[0].value == "performance_trend"]
    assert row[column].value == "performance - performance_prior_1"
    row[column].value = "performance - readiness"
    workbook.save(book)
    assert diagnostics(book) == [
        f"rulebook.xlsx: Facts!{row[column].coordinate}: fact 'performance_trend': formula "
        "reads 'readiness', an enum fact; a formula reads number facts only"
    ]


# --- every what-if computes it again ---------------------------------------------------


def test_a_what_if_that_changes_a_rating_computes_the_trend_again() -> None:
    result = evaluate_workbook(sample_workbook())
    values = result.facts["00001"].values  # rated 4 now and 4 last cycle
    plan = DerivationPlan(result.rulebook.vocabulary)
    changeable = Changeable(values, plan, result.panel.as_of)
    assert changeable.delta({"performance": 2}) == {"performance": 2, "performance_trend": -2}
    assert changeable.delta({"performance_prior_1": None})["performance_trend"] is None
    assert changeable.delta({"potential": 1}) == {"potential": 1}  # read by no formula
    # explain --set says so.
    shown = what_if("00001", sample_workbook(), ["performance=2"], result=result)
    moved = {c.name: (c.real, c.changed, c.given) for c in shown.changes}
    assert moved["performance_trend"] == ("0", "-2", False)
    assert "performance_trend" not in {
        c.name for c in what_if("00001", sample_workbook(), ["potential=1"], result=result).changes
    }


def test_a_what_if_that_adds_evidence_computes_a_formula_over_derived_facts(
    rules: Path,
) -> None:
    """A formula over facts derived from rows, read by a rule: adding an observation
    moves it exactly as deriving everything again from the changed rows does."""
    edit(
        rules,
        "vocabulary.yaml",
        "  evidence.observed:\n",
        "  evidence.net:\n    type: number\n    range: [-100000, 100000]\n"
        "    meaning: Observations by others less the person's own reports.\n"
        "    formula: evidence.observed - evidence.self_reports\n"
        "  evidence.observed:\n",
    )
    edit(rules, "decisions.yaml", "decisions:\n", "decisions:" + TREND_DECISION)
    (rules / "80-net.yaml").write_text(
        TREND_RULES.replace("performance_trend >= 1", "evidence.net >= 3"), encoding="utf-8"
    )
    result = evaluate_workbook(sample_workbook(), rules)
    rulebook = result.rulebook
    plan = DerivationPlan(rulebook.vocabulary)
    evidence = group_rows(result.panel.rows["Evidence"], "employee_id")
    catalogue = result.facts.derivation.given[2]  # type: ignore[attr-defined]
    for employee_id in ("00001", "00004", "00019"):
        own = list(evidence.get(employee_id, ()))
        template = own[0]
        added = [
            Row(
                "Evidence",
                900 + n,
                {
                    **template.cells,
                    "source_type": Cell("Peer", "what-if"),
                    "source_id": Cell(f"X{n}", "what-if"),
                    "observed_on": Cell(result.panel.as_of - dt.timedelta(days=30), "what-if"),
                },
            )
            for n in range(2)
        ]
        # Asked for the facts the rules read only: the formula's inputs come along.
        changeable = Changeable(
            result.facts[employee_id].values, plan, result.panel.as_of, own, {"evidence.net"}
        )
        delta = changeable.delta(added=added)
        rows = {**result.panel.rows, "Evidence": [*result.panel.rows["Evidence"], *added]}
        alone = dataclasses.replace(result.panel, rows=rows)
        (again,) = [p for p in compute_facts(alone, rulebook.vocabulary, catalogue)
                    if p.employee_id == employee_id]  # fmt: skip
        assert delta["evidence.net"] == again.values["evidence.net"], employee_id
        assert delta["evidence.net"] != result.facts[employee_id].values["evidence.net"]


def test_a_rule_test_computes_a_formula_from_the_facts_it_gives(rules: Path) -> None:
    with_trend_rule(rules)
    (rules / "tests" / "trend.yaml").write_text(
        """tests:
  - name: rising from the ratings given
    facts: {performance: 4, performance_prior_1: 3}
    expect: {trend_flag: Rising}
  - name: the trend given wins over the ratings
    facts: {performance: 4, performance_prior_1: 3, performance_trend: 0}
    expect: {trend_flag: Flat}
  - name: unknown without a prior rating
    facts: {performance: 5}
    expect: {trend_flag: Flat}
""",
        encoding="utf-8",
    )
    rulebook = load_rulebook(rules)
    tests = [t for t in load_rule_tests(rulebook, rules) if "trend.yaml" in t.file]
    assert [t.person.values["performance_trend"] for t in tests] == [1, 0, None]
    assert run_rule_tests(rulebook, tests).failures == []
    result = CliRunner().invoke(cli, ["rules", "test", str(rules)])  # and the engine
    assert result.exit_code == 0, result.output


def test_a_rule_reading_a_formula_over_a_proxy_is_warned_about(rules: Path) -> None:
    edit(
        rules,
        "vocabulary.yaml",
        TREND,
        TREND + "  service_years_left:\n    type: number\n    range: [-1200, 0]\n"
        "    meaning: Months of service, negated.\n    formula: -tenure_months\n",
    )
    with_trend_rule(rules)
    line = edit(rules, "80-trend.yaml", "    when: performance_trend >= 1\n",
                "    when: service_years_left <= -120\n")  # fmt: skip
    found = diagnostics(rules)
    assert any(
        d.startswith(f"rules/80-trend.yaml:{line}: warning: ")
        and "reads service_years_left, computed by a formula from tenure_months, a proxy for age"
        in d
        for d in found
    ), found


def test_the_handbook_shows_a_formula_and_the_facts_it_reads(rules: Path) -> None:
    with_trend_rule(rules)
    facts = {name: (meaning, how) for name, meaning, how in build_handbook(rules).facts}
    assert facts["performance_trend"][1] == "performance - performance_prior_1"
    assert "performance_prior_1" in facts  # read through the formula
