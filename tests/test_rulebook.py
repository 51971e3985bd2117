"""The rule language: parsing, loading, the checker's diagnostics and ``rules check``."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from talentrules.cli import EXIT_RULES, cli
from talentrules.errors import RulebookError
from talentrules.rulebook import (
    AllOf,
    AnyOf,
    Compare,
    Decision,
    Not,
    check_rulebook,
    evaluate,
    expr_facts,
    load_rulebook,
    parse_condition,
    rule_reads,
)
from talentrules.vocabulary import FactSpec

BAD_RULEBOOKS = Path(__file__).parent / "rulebooks"
BAD_CASES = sorted(p for p in BAD_RULEBOOKS.iterdir() if p.is_dir())

VOCABULARY = """\
facts:
  performance: {type: number, range: [1, 5], meaning: This cycle's rating.}
  score: {type: number, meaning: A number with no declared range.}
  readiness:
    type: enum
    values: [Ready now, "Ready in (1-2) years", Not ready]
    meaning: Readiness for a bigger role.
  is_people_manager: {type: boolean, meaning: Manages people.}
  hired_on: {type: date, meaning: Hire date.}
  note: {type: text, meaning: A note.}
families:
  signal:
    members: [H-DEV, C-DER]
    facts:
      episodes: {type: number, range: [0, 10000], meaning: "Episodes of {member}."}
"""

# The same words, each one a run can compute from a workbook (what ``rules check``
# asks beyond the language): H-DEV and C-DER come from a signal catalogue, and their
# episodes are derived from Evidence rows.
COMPUTABLE_VOCABULARY = """\
rows:
  all: {meaning: Every Evidence row.}
facts:
  performance: {type: number, range: [1, 5], meaning: This cycle's rating.}
  direct_reports: {type: number, meaning: A number with no declared range.}
  readiness:
    type: enum
    values: [Ready now, "Ready in (1-2) years", Not ready]
    meaning: Readiness for a bigger role.
  is_people_manager: {type: boolean, meaning: Manages people.}
families:
  signal:
    members: [$signals]
    facts:
      episodes: {type: number, range: [0, 10000], meaning: "Episodes of $code.", rows: all,
                 measure: count}
"""
SIGNALS = """\
signals:
  H-DEV: {name: Develops others, kind: signal, weight: core, description: Develops others.}
  C-DER: {name: Derails, kind: counter, description: Derails., route: coaching first}
"""

CATALOGUE = """\
currency: EUR
investments:
  - {code: LEAD-STRETCH, name: Stretch, track: Leadership, mode: "70", cost_per_person: 1}
  - {code: DIAG-DC, name: Centre, track: Diagnostic, mode: "-", cost_per_person: 1}
allocation:
  decision: investment
  not_investments: [None]
  order:
    - heart: [Strong, Emerging, Insufficient evidence]
"""

DECISIONS = """\
decisions:
  heart:
    policy: priority
    outcomes: [Strong, Emerging, Insufficient evidence]
    default: Insufficient evidence
    meaning: Heart for leadership.
  track:
    outcomes: [Leadership, Gather evidence]
    default: Gather evidence
    meaning: Which track.
  investment:
    policy: collect
    outcomes: [LEAD-STRETCH, DIAG-DC, None]
    default: None
    meaning: Development investments.
"""

# Three levels of chaining (heart -> track -> investment), the deepest decision's
# rules in the file that sorts first, so levels cannot come from file order.
RULES = {
    "10-investment.yaml": """\
rules:
  - id: invest-stretch
    decision: investment
    title: Stretch for leaders
    rationale: Experience first.
    when: track == Leadership
    then: LEAD-STRETCH
  - id: invest-centre
    decision: investment
    title: Gather evidence
    rationale: Look before spending.
    when:
      - track == Gather evidence
      - heart != Insufficient evidence
    then: DIAG-DC
""",
    "20-heart.yaml": """\
rules:
  - id: heart-strong
    decision: heart
    title: Habitual development of others
    rationale: Seen by others, often.
    when:
      - H-DEV.episodes >= 3
      - not:
          - C-DER.episodes >= 1
      - any:
          - readiness in (Ready now, "Ready in (1-2) years")
          - is_people_manager == true
    then: Strong
    priority: 30
  - id: heart-emerging
    decision: heart
    title: Some development of others
    rationale: Seen, not yet habitual.
    when: H-DEV.episodes >= 1
    then: Emerging
    priority: 20
""",
    "30-track.yaml": """\
rules:
  - id: track-leadership
    decision: track
    title: Strong heart, performing
    rationale: Heart plus performance.
    when:
      - heart == Strong
      - performance >= 3
    then: Leadership
""",
}


def write_rulebook(folder: Path, extra: dict[str, str] | None = None) -> Path:
    """A valid three-decision rulebook in ``folder``; ``extra`` adds or replaces files."""
    return write_files(
        folder,
        {"vocabulary.yaml": VOCABULARY, "decisions.yaml": DECISIONS, **RULES, **(extra or {})},
    )


def write_files(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def write_bare(folder: Path, decisions: str, rules: str) -> Path:
    """The test vocabulary, ``decisions`` and one rule file."""
    return write_files(
        folder, {"vocabulary.yaml": VOCABULARY, "decisions.yaml": decisions, "rules.yaml": rules}
    )


# -- the bad rulebooks: one folder per diagnostic ------------------------------


@pytest.mark.parametrize("folder", BAD_CASES, ids=[p.name for p in BAD_CASES])
def test_each_bad_rulebook_gives_exactly_its_diagnostic(folder: Path) -> None:
    expected = (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert [str(d) for d in check_rulebook(folder)] == expected


def test_every_bad_rulebook_but_the_warnings_fails_to_load() -> None:
    for folder in BAD_CASES:
        diagnostics = check_rulebook(folder)
        if any(d.severity == "error" for d in diagnostics):
            with pytest.raises(RulebookError):
                load_rulebook(folder)
        else:
            assert load_rulebook(folder).rules, folder.name


# -- parsing one condition ------------------------------------------------------

SPECS = {
    "performance": FactSpec("performance", "number", "rating", 1, 5),
    "score": FactSpec("score", "number", "score"),
    "readiness": FactSpec(
        "readiness", "enum", "r", values=("Ready now", "Ready in (1-2) years", "Not ready")
    ),
    "is_people_manager": FactSpec("is_people_manager", "boolean", "m"),
    "hired_on": FactSpec("hired_on", "date", "d"),
    "note": FactSpec("note", "text", "n"),
    "H-DEV.episodes": FactSpec("H-DEV.episodes", "number", "e", 0, 10000),
}
DECISION_SPECS = {
    "heart": Decision(
        "heart", "priority", ("Strong", "Not evidenced"), "Not evidenced", "h", "d", 1
    )
}


def parse(text: str) -> Compare:
    return parse_condition(text, SPECS, DECISION_SPECS, "rules/x.yaml", 7)


@pytest.mark.parametrize(
    ("text", "fact", "op", "value"),
    [
        ("performance == 3", "performance", "==", 3),
        ("performance != 3.5", "performance", "!=", 3.5),
        ("performance<2", "performance", "<", 2),
        ("performance <= 2", "performance", "<=", 2),
        ("score > -1.5", "score", ">", -1.5),
        ("H-DEV.episodes >= 3", "H-DEV.episodes", ">=", 3),
        ("readiness == Ready now", "readiness", "==", "Ready now"),
        ("readiness in (Ready now, Not ready)", "readiness", "in", ("Ready now", "Not ready")),
        ('readiness in ("Ready in (1-2) years")', "readiness", "in", ("Ready in (1-2) years",)),
        ("readiness not in [Not ready]", "readiness", "not in", ("Not ready",)),
        ("readiness  not   in (Not ready)", "readiness", "not in", ("Not ready",)),
        ("score in (1, 2.5, 1)", "score", "in", (1, 2.5)),
        ("is_people_manager == TRUE", "is_people_manager", "==", True),
        ("is_people_manager != false", "is_people_manager", "!=", False),
        ("hired_on < 2020-01-31", "hired_on", "<", dt.date(2020, 1, 31)),
        ("note == 'a, b'", "note", "==", "a, b"),
        ("note != x", "note", "!=", "x"),
        ("performance is known", "performance", "known", None),
        ("performance is unknown", "performance", "unknown", None),
        ("heart == Not evidenced", "heart", "==", "Not evidenced"),
        ("heart in (Strong, Not evidenced)", "heart", "in", ("Strong", "Not evidenced")),
    ],
)
def test_parse_condition_forms(text: str, fact: str, op: str, value: object) -> None:
    compare = parse(text)
    assert (compare.fact, compare.op, compare.value) == (fact, op, value)
    assert type(compare.value) is type(value)
    assert (compare.file, compare.line) == ("rules/x.yaml", 7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("performance >= 3 and more", "'3 and more' is text, not a number"),
        ("performance ~ 3", "cannot read condition"),
        ("performance >=", "has no value"),
        ("readiness in Ready now", "write the list in parentheses"),
        ("readiness == (Ready now, Not ready)", "using 'in (...)'"),
        ("readiness in (Ready now,)", "the list has an empty item"),
        ("readiness in ('Ready now)", "a quoted value is not closed"),
        ("readiness == ready now", "did you mean 'Ready now'?"),
        ("performance == unknown", "write 'performance is unknown'"),
        ("tenure > 3", "unknown fact 'tenure'"),
        ("heart is known", "never unknown"),
        ("heart > Strong", "'heart' is a decision"),
        ("race == x", "reads a protected attribute 'race'"),
        ("person.date_of_birth < 2000-01-01", "reads a protected attribute"),
        ("score > 0.00001", "too small a number"),
        ("score > nan", "not a finite number"),
        ("hired_on > 2020-02-30", "write YYYY-MM-DD"),
    ],
)
def test_parse_condition_errors_name_the_place(text: str, message: str) -> None:
    with pytest.raises(RulebookError) as error:
        parse(text)
    assert str(error.value).startswith("rules/x.yaml:7: ")
    assert message in str(error.value)


# -- three-valued evaluation ----------------------------------------------------


def test_evaluate_is_three_valued() -> None:
    high = parse("performance >= 4")
    blank = parse("performance is unknown")
    manager = parse("is_people_manager == true")
    assert evaluate(high, {"performance": 5}) is True
    assert evaluate(high, {"performance": 2}) is False
    assert evaluate(high, {}) is None
    assert evaluate(parse("performance != 3"), {"performance": None}) is None
    assert evaluate(blank, {}) is True
    assert evaluate(Not(high), {}) is None
    assert evaluate(AllOf((high, manager)), {"is_people_manager": False}) is False
    assert evaluate(AllOf((high, manager)), {"is_people_manager": True}) is None
    assert evaluate(AnyOf((high, manager)), {"is_people_manager": True}) is True
    assert evaluate(AnyOf((high, manager)), {"is_people_manager": False}) is None


def test_evaluate_reads_decisions_as_sets_of_outcomes() -> None:
    assert evaluate(parse("heart == Strong"), {"heart": ("Strong",)}) is True
    assert evaluate(parse("heart != Strong"), {"heart": ("Strong",)}) is False
    collect = {"heart": ("Strong", "Not evidenced")}
    assert evaluate(parse("heart == Not evidenced"), collect) is True
    assert evaluate(parse("heart not in (Strong)"), collect) is False
    assert evaluate(parse("heart in (Strong)"), {"heart": ("Not evidenced",)}) is False


# -- loading a good rulebook ----------------------------------------------------


def test_load_three_levels_of_chaining(tmp_path: Path) -> None:
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules"))
    assert rulebook.levels == (("heart",), ("track",), ("investment",))
    assert [r.id for r in rulebook.rules] == [
        "invest-stretch",
        "invest-centre",
        "heart-strong",
        "heart-emerging",
        "track-leadership",
    ]
    rules = {r.id: r for r in rulebook.rules}
    assert rule_reads(rules["invest-centre"]) == {"track", "heart"}
    assert rule_reads(rules["track-leadership"]) == {"heart", "performance"}
    strong = rules["heart-strong"]
    assert (strong.file, strong.line, strong.priority, strong.then) == (
        "rules/20-heart.yaml",
        2,
        30,
        "Strong",
    )
    assert isinstance(strong.when, AllOf)
    first, negated, either = strong.when.parts
    assert first == Compare("H-DEV.episodes", ">=", 3, "rules/20-heart.yaml", 7)
    assert isinstance(negated, Not) and isinstance(negated.part, AllOf)
    assert isinstance(either, AnyOf)
    assert [c.line for c in expr_facts(strong.when)] == [7, 9, 11, 12]
    assert rulebook.vocabulary["C-DER.episodes"].meaning == "Episodes of C-DER."
    assert rulebook.vocabulary["readiness"].values[1] == "Ready in (1-2) years"
    assert rulebook.decisions["investment"].policy == "collect"
    assert rulebook.decisions["track"].policy == "unique"
    assert rules["heart-emerging"].when == Compare(
        "H-DEV.episodes", ">=", 1, "rules/20-heart.yaml", 19
    )


def test_chained_rules_evaluate_level_by_level(tmp_path: Path) -> None:
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules"))
    person: dict[str, object] = {
        "H-DEV.episodes": 4,
        "C-DER.episodes": 0,
        "readiness": "Not ready",
        "is_people_manager": True,
        "performance": 4,
    }
    for level in rulebook.levels:
        for name in level:
            fired = [
                r.then for r in rulebook.rules if r.decision == name and evaluate(r.when, person)
            ]
            person[name] = tuple(fired[:1]) or (rulebook.decisions[name].default,)
    assert person["heart"] == ("Strong",)
    assert person["track"] == ("Leadership",)
    assert person["investment"] == ("LEAD-STRETCH",)


def test_loader_ignores_tests_readme_and_catalogue(tmp_path: Path) -> None:
    folder = write_rulebook(tmp_path / "rules", {"catalogue.yaml": "investments: [not, rules]\n"})
    (folder / "tests").mkdir()
    (folder / "tests" / "heart.yaml").write_text("tests: {not: [a, rule]}\n")
    (folder / "README.md").write_text("# Rules\n")
    assert check_rulebook(folder) == []


def test_sha256_covers_rule_files_and_catalogue_only(tmp_path: Path) -> None:
    folder = write_rulebook(tmp_path / "rules", {"catalogue.yaml": "investments: []\n"})
    (folder / "tests").mkdir()
    first = load_rulebook(folder).sha256
    (folder / "tests" / "t.yaml").write_text("tests: []\n")
    (folder / "README.md").write_text("changed\n")
    assert load_rulebook(folder).sha256 == first
    (folder / "catalogue.yaml").write_text("investments: [changed]\n")
    second = load_rulebook(folder).sha256
    assert second != first
    text = (folder / "30-track.yaml").read_text() + "# a comment changes the bytes\n"
    (folder / "30-track.yaml").write_text(text)
    assert load_rulebook(folder).sha256 not in (first, second)


def test_load_lists_every_error(tmp_path: Path) -> None:
    bad = (
        RULES["30-track.yaml"]
        .replace("track-leadership", "two-errors")
        .replace("performance >= 3", "performence >= 3")
        .replace("heart == Strong", "heart == Strongest")
    )
    folder = write_rulebook(tmp_path / "rules", {"40-bad.yaml": bad})
    with pytest.raises(RulebookError) as error:
        load_rulebook(folder)
    message = str(error.value)
    assert "the rulebook has 2 errors" in message
    assert "rules/40-bad.yaml:7: rule two-errors: 'heart == Strongest'" in message
    assert "rules/40-bad.yaml:8: rule two-errors: unknown fact 'performence'" in message


def test_warnings_do_not_stop_loading(tmp_path: Path) -> None:
    decisions = DECISIONS.replace(
        "[Leadership, Gather evidence]", "[Leadership, Expert, Gather evidence]"
    )
    folder = write_rulebook(tmp_path / "rules", {"decisions.yaml": decisions})
    assert [str(d) for d in check_rulebook(folder)] == [
        "rules/decisions.yaml:7: warning: decision 'track': no rule concludes 'Expert'"
    ]
    assert load_rulebook(folder).decisions["track"].outcomes[1] == "Expert"


# -- overlaps and witnesses -----------------------------------------------------

OVERLAP_DECISIONS = """\
decisions:
  track:
    outcomes: [A, B]
    default: B
    meaning: Which track.
"""


def two_rules(first: str, second: str) -> str:
    def rule(rule_id: str, when: str) -> str:
        body = textwrap.indent(when, "      ")
        return (
            f"  - id: {rule_id}\n    decision: track\n    title: t\n    rationale: r\n"
            f"    when:\n{body}\n    then: A\n"
        )

    return "rules:\n" + rule("first", first) + rule("second", second)


@pytest.mark.parametrize(
    ("first", "second", "witness"),
    [
        ("- score > 10\n- score < 12", "- score >= 11", "{score: 11}"),
        ("- score > 10\n- score < 11", "- score > 10.5", "{score: 10.75}"),
        (
            "- any:\n    - performance < 3\n    - readiness == Ready now",
            "- performance >= 3\n- is_people_manager == true",
            "{is_people_manager: true, performance: 3, readiness: Ready now}",
        ),
        ("- not:\n    - score > 1", "- score is known", "{score: 0}"),
        ("- hired_on < 2020-01-03", "- hired_on > 2020-01-01", "{hired_on: 2020-01-02}"),
        ("- note != x", "- note == y", "{note: y}"),
    ],
)
def test_overlap_witness(tmp_path: Path, first: str, second: str, witness: str) -> None:
    folder = write_bare(tmp_path / "rules", OVERLAP_DECISIONS, two_rules(first, second))
    diagnostics = [(d.severity, d.rule_id, d.message) for d in check_rulebook(folder)]
    message = f"overlaps rule first in unique decision 'track': both fire for {witness}"
    assert diagnostics == [("error", "second", message)]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("- score > 10\n- score < 11", "- score >= 11"),
        (
            "- any:\n    - score < 3\n    - readiness == Ready now",
            "- score >= 3\n- readiness == Not ready",
        ),
        ("- score is unknown\n- performance >= 3", "- score is known"),
        ("- not:\n    - score > 1", "- score > 1"),
        (
            "- any:\n    - hired_on < 2020-01-02\n    - hired_on > 2020-01-05",
            "- hired_on >= 2020-01-02\n- hired_on <= 2020-01-05",
        ),
    ],
)
def test_no_overlap_when_exclusive(tmp_path: Path, first: str, second: str) -> None:
    folder = write_bare(tmp_path / "rules", OVERLAP_DECISIONS, two_rules(first, second))
    assert check_rulebook(folder) == []


# -- durable_rules limits ---------------------------------------------------------


@pytest.mark.parametrize(("count", "errors"), [(511, 0), (512, 1)])
def test_rules_branching_on_one_field(tmp_path: Path, count: int, errors: int) -> None:
    decisions = "decisions:\n  tag:\n    policy: collect\n    outcomes: [x, none]\n"
    decisions += "    default: none\n    meaning: A tag.\n"
    rules = "rules:\n" + "".join(
        f"  - {{id: r{i}, decision: tag, title: t, rationale: r, when: score == {i}, then: x}}\n"
        for i in range(count)
    )
    folder = write_bare(tmp_path / "rules", decisions, rules)
    found = [d for d in check_rulebook(folder) if d.severity == "error"]
    assert len(found) == errors
    if errors:
        assert str(found[0]).startswith("rules/rules.yaml:513: rule r511: 512 rules read 'score'")


# -- the packaged rules -----------------------------------------------------------


def test_packaged_rules_have_no_errors() -> None:
    errors = [str(d) for d in check_rulebook() if d.severity == "error"]
    assert errors == []


# -- talentrules rules check --------------------------------------------------------


def test_cli_check_passes_a_good_rulebook(tmp_path: Path) -> None:
    folder = write_rulebook(
        tmp_path / "rules",
        {
            "vocabulary.yaml": COMPUTABLE_VOCABULARY,
            "signals.yaml": SIGNALS,
            # A run allocates with the folder's catalogue (the packaged one when it has
            # none, whose policy names decisions this rulebook lacks): rules check too.
            "catalogue.yaml": CATALOGUE,
        },
    )
    result = CliRunner().invoke(cli, ["rules", "check", str(folder)])
    assert result.exit_code == 0, result.output
    # Its vocabulary names no fact for any place of a brief: a warning, once.
    assert result.stdout == "5 rules in 3 decisions: no errors, 1 warning\n"
    assert "vocabulary.yaml:1: warning: briefs: no fact named for trend, " in result.stderr


def test_cli_check_fails_with_errors() -> None:
    result = CliRunner().invoke(cli, ["rules", "check", str(BAD_RULEBOOKS / "unknown-fact")])
    assert result.exit_code == EXIT_RULES, result.output
    assert "unknown fact 'performence'; did you mean 'performance'?" in result.output
    assert result.output.endswith("1 error, 1 warning\n")  # briefs: no fact named


def test_cli_check_names_the_packaged_catalogue_a_folder_falls_back_to(
    tmp_path: Path,
) -> None:
    folder = Path(shutil.copytree(BAD_RULEBOOKS / "only-unknown", tmp_path / "rules"))
    (folder / "catalogue.yaml").unlink()
    result = CliRunner().invoke(cli, ["rules", "check", str(folder)])
    assert result.exit_code == EXIT_RULES, result.output
    assert f"{folder}: has no catalogue.yaml, so a run allocates with the packaged" in (
        result.output
    )


def test_cli_check_passes_with_only_warnings() -> None:
    result = CliRunner().invoke(cli, ["rules", "check", str(BAD_RULEBOOKS / "only-unknown")])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("2 rules in 1 decision: no errors, 2 warnings\n")


def test_cli_check_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path / "nowhere")])
    assert result.exit_code == 2, result.output


def test_cli_check_help_ends_with_an_example() -> None:
    result = CliRunner().invoke(cli, ["rules", "check", "--help"])
    assert result.exit_code == 0, result.output
    assert "Example: talentrules rules check rules/" in result.output


def test_cli_check_defaults_to_the_packaged_rules() -> None:
    result = CliRunner().invoke(cli, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert ": no errors" in result.output


def test_scalars_keep_the_text_written(tmp_path: Path) -> None:
    decisions = "decisions:\n  answer:\n    outcomes: [Yes, No, Off]\n    default: No\n"
    decisions += "    meaning: YAML 1.1 would read Yes/No as booleans.\n"
    rules = "rules:\n  - {id: r, decision: answer, title: t, rationale: r, "
    rules += "when: is_people_manager == true, then: Yes}\n"
    rulebook = load_rulebook(write_bare(tmp_path / "rules", decisions, rules))
    assert rulebook.decisions["answer"].outcomes == ("Yes", "No", "Off")
    assert rulebook.decisions["answer"].default == "No"
    assert rulebook.rules[0].then == "Yes"


def test_cli_check_reports_what_durable_rules_would_refuse(tmp_path: Path) -> None:
    # Sound in the rule language, but 16 all/any groups in one rule: durable_rules
    # takes 15 (error 113), and the check says so before any run meets it.
    groups = "\n".join(
        f"              - any: [direct_reports > {n}, performance >= {n % 5 + 1}]"
        for n in range(16)
    )
    rules = f"""rules:
  - id: fine
    decision: heart
    title: A rule with nothing wrong
    rationale: Present so the decision concludes each outcome.
    when: performance >= 4
    then: Strong
  - id: nested
    decision: heart
    title: Too many groups
    rationale: It shows one diagnostic.
    when:
      - any:
          - all:
{groups}
          - direct_reports > 1000
    then: Strong
"""
    decisions = """decisions:
  heart:
    policy: collect
    outcomes: [Strong, Weak]
    default: Weak
    meaning: Does the person have a heart for leadership?
"""
    folder = write_files(
        tmp_path / "rules",
        {
            "vocabulary.yaml": COMPUTABLE_VOCABULARY,
            "decisions.yaml": decisions,
            "rules.yaml": rules,
            "catalogue.yaml": (BAD_RULEBOOKS / "only-unknown" / "catalogue.yaml").read_text(),
        },
    )
    result = CliRunner().invoke(cli, ["rules", "check", str(folder)])
    assert result.exit_code == EXIT_RULES, result.output
    assert "rules.yaml:8: rule nested: its condition nests" in result.output
    assert "durable_rules takes at most 15 (error 113)" in result.output
    assert result.output.endswith("1 error, 1 warning\n")  # briefs: no fact named


def test_a_local_rules_folder_that_differs_from_the_one_used_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a non-editable install the packaged rules are the default: a panel owner who
    edited ./rules is told, with how to use it."""
    from talentrules.paths import default_rules_dir
    from talentrules.rulebook import local_rules_notice

    monkeypatch.chdir(tmp_path)
    assert local_rules_notice(default_rules_dir()) is None  # no ./rules here
    local = Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))
    assert local_rules_notice(default_rules_dir()) is None  # the same rulebook
    assert local_rules_notice(local) is None  # the one used
    parameters = local / "parameters.yaml"
    parameters.write_text(parameters.read_text().replace("    value: 12\n", "    value: 18\n", 1))
    notice = local_rules_notice(default_rules_dir())
    assert notice is not None and "add --rules rules" in notice
    assert str(default_rules_dir()) in notice
    result = CliRunner().invoke(cli, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert "not ./rules" in result.stderr and "add --rules rules" in result.stderr
    assert "not ./rules" not in result.stdout
    result = CliRunner().invoke(cli, ["rules", "check", "rules"])  # checks ./rules itself
    assert "not ./rules" not in result.stderr
