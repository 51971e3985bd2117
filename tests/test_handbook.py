"""rules book: the rulebook as a self-contained, printable handbook in plain words."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from talentrules.cli import EXIT_OUTPUT, cli
from talentrules.handbook import build_handbook, render_handbook
from talentrules.paths import default_rules_dir
from talentrules.rulebook import load_rulebook
from talentrules.ruletests import load_rule_tests
from talentrules.rulexlsx import export_rulebook


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def handbook(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("book") / "handbook.html"
    code, stdout, stderr = run("rules", "book", "-o", str(out))
    assert code == 0, stdout + stderr
    return out.read_text(encoding="utf-8")


def conditions(page: str) -> list[str]:
    """The text of every rule's condition list."""
    blocks = re.findall(r'<td class="when">(.*?)</td>', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", " ", b)) for b in blocks]


def test_the_handbook_is_self_contained_and_prints_on_a4(handbook: str) -> None:
    assert "<script" not in handbook and "<link" not in handbook
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", handbook)
    assert re.search(r"@page\s*{\s*size:\s*A4", handbook)
    assert "@media print" in handbook and "<style>" in handbook


def test_every_decision_and_rule_in_plain_words_with_its_rationale(handbook: str) -> None:
    rulebook = load_rulebook(None)
    for decision in rulebook.decisions.values():
        assert f'id="decision-{decision.name}"' in handbook
        assert decision.meaning in html.unescape(handbook)
    plain = html.unescape(handbook)
    for rule in rulebook.rules:
        if not rule.id.startswith(("habitual-", "draining-")):  # families: one view each
            assert rule.id in plain and " ".join(rule.rationale.split()) in plain, rule.id
    assert "habitual-SIGNAL" in plain and "Declared once for each of H-AFF, H-NCA" in plain
    lines = conditions(handbook)
    assert len(lines) == 95  # 111 rules, the two families shown once each
    for text in lines:
        assert not re.search(r"(>=|<=|!=|==|(?<![-\w])[<>](?![-\w]))", text), text
    joined = " ".join(" ".join(t.split()) for t in lines)
    assert "SIGNAL.months_spanned is at least 12 (habit_months)" in joined
    assert "tenure_months is below 6 (newcomer_months)" in joined
    assert "evidence_quality is not Sufficient" in joined
    assert "habitual includes any of core_signals (H-AFF," in joined
    assert "any of these holds:" in joined


def test_parameters_signals_rows_and_facts_are_listed(handbook: str) -> None:
    rulebook = load_rulebook(None)
    plain = html.unescape(handbook)
    for name, parameter in rulebook.parameters.items():
        assert f"<b>{name}</b>" in plain
        assert " ".join(parameter.meaning.split()) in " ".join(plain.split())
    for code, signal in rulebook.signals.items():
        assert f"<b>{code}</b></td><td>{signal.name}</td>" in plain
    for name in rulebook.rows:
        assert f"<b>{name}</b>" in plain


def test_the_tests_are_worked_examples_and_coverage_is_shown(handbook: str) -> None:
    rulebook = load_rulebook(None)
    tests = load_rule_tests(rulebook, default_rules_dir())
    plain = html.unescape(handbook)
    assert plain.count('class="example"') == len(tests)
    assert plain.count('class="pass">passes') == len(tests)
    for test in tests:
        assert html.unescape(html.escape(test.name)) in plain
    # A persona's evidence rows are a table, as the panel recorded them.
    assert "persona: Ana mentors people" in plain
    assert "<th>signal</th><th>months_ago</th>" in plain
    assert f"{len(rulebook.rules)} of {len(rulebook.rules)}" in plain
    assert "0 failing" in plain


def test_a_failing_test_and_an_unfired_rule_are_shown(tmp_path: Path) -> None:
    rules = Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))
    heart = rules / "tests" / "heart.yaml"
    text = heart.read_text(encoding="utf-8")
    first = text.index("expect: {heart: Strong")
    heart.write_text(text[:first] + text[first:].replace("Strong", "Emerging", 1), encoding="utf-8")
    for path in (rules / "tests").glob("*.yaml"):
        if path.name not in ("heart.yaml",):
            path.unlink()
    context = build_handbook(rules)
    page = html.unescape(render_handbook(context))
    assert context.coverage.failed == 1
    assert 'class="fail">fails' in page and "heart: expected Emerging, got Strong" in page
    assert "fired in no rule test" in page and "never: " in page


def test_the_handbook_of_a_workbook_shows_its_cells(tmp_path: Path) -> None:
    book = export_rulebook(None, tmp_path / "rulebook.xlsx")
    context = build_handbook(book)
    heart = next(d for d in context.decisions if d.name == "heart")
    assert heart.rules[0].where.startswith("rulebook.xlsx: Heart!A")
    assert context.coverage.failed == 0
    assert len(context.tests) == len(build_handbook(None).tests)


def test_rules_book_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "handbook.html"
    out.write_text("mine", encoding="utf-8")
    code, stdout, stderr = run("rules", "book", "-o", str(out))
    assert code == EXIT_OUTPUT and "exists; add --force" in stderr
    assert out.read_text(encoding="utf-8") == "mine"
