"""The rulebook's words: named parameters, the signal catalogue, row sets and derived
facts, outcome texts and roles, and what `talentrules rules check` refuses or warns about
with them. Each test edits a copy of the packaged rules in tmp_path, as a panel owner
would, and checks through the real checker and CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from talentrules.cli import EXIT_RULES, cli
from talentrules.paths import default_rules_dir
from talentrules.rulebook import check_report, load_rulebook
from talentrules.vocabulary import read_vocabulary


@pytest.fixture()
def rules(tmp_path: Path) -> Path:
    """A copy of the packaged rules to edit."""
    return Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))


def edit(folder: Path, name: str, old: str, new: str, count: int = 1) -> int:
    """Replace ``old`` by ``new`` in one rule file; the line of the first change."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == count, (name, old, text.count(old))
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def diagnostics(folder: Path) -> list[str]:
    return [str(d) for d in check_report(folder).diagnostics]


def check(folder: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["rules", "check", str(folder)])
    return result.exit_code, result.stdout, result.stderr


# --- parameters ---------------------------------------------------------------------


def test_parameters_are_read_by_rules_facts_and_texts() -> None:
    rulebook = load_rulebook()
    assert rulebook.parameters["habit_months"].value == 12
    rule = next(r for r in rulebook.rules if r.id == "habitual-H-DEV")
    assert "over at least 12 months" in rule.rationale and "$" not in rule.rationale
    assert "12" in str(rule.when)  # the condition holds the value
    observed = rulebook.rows["observed"]
    assert [t.text for t in observed.where] == ["source_type != Self", "age_months <= 24"]
    assert "24 whole months" in observed.meaning


def test_an_unknown_parameter_is_an_error_at_its_line_with_did_you_mean(rules: Path) -> None:
    line = edit(
        rules,
        "10-habitual.yaml",
        "$code.months_spanned >= $habit_months",
        "$code.months_spanned >= $habit_month",
    )
    found = diagnostics(rules)
    assert any(
        d.startswith(f"rules/10-habitual.yaml:{line}: rule habitual-H-DEV: ")
        and "unknown named value '$habit_month'; did you mean 'habit_months'?" in d
        for d in found
    ), found
    code, stdout, _ = check(rules)
    assert code == EXIT_RULES and "error" in stdout


def test_an_unknown_parameter_in_a_text_is_an_error_too(rules: Path) -> None:
    line = edit(
        rules, "20-heart.yaml", "joined less than $newcomer_months months", "joined $newbie"
    )
    assert any(
        d.startswith("rules/20-heart.yaml:") and "unknown named value '$newbie'" in d
        for d in diagnostics(rules)
    ), line


def test_an_unused_parameter_is_a_warning(rules: Path) -> None:
    (rules / "parameters.yaml").write_text(
        (rules / "parameters.yaml").read_text(encoding="utf-8")
        + "  spare_threshold:\n    value: 7\n    meaning: Read by nothing.\n",
        encoding="utf-8",
    )
    found = diagnostics(rules)
    assert any(
        "warning: parameter 'spare_threshold' is not used by any rule, fact or text" in d
        for d in found
    ), found
    code, _, stderr = check(rules)
    assert code == 0 and "spare_threshold" in stderr


def test_a_parameter_must_be_a_number(rules: Path) -> None:
    edit(rules, "parameters.yaml", "    value: 24\n", "    value: two years\n")
    assert any(
        "parameter 'stale_months': value must be a number, not 'two years'" in d
        for d in diagnostics(rules)
    )


# --- the signal catalogue and derived facts ----------------------------------------------


def test_every_catalogue_signal_gets_its_facts_and_its_habit_rule() -> None:
    vocabulary = read_vocabulary()
    rulebook = load_rulebook()
    for code, signal in vocabulary.signals.items():
        assert f"{code}.episodes" in vocabulary.facts
        assert vocabulary.facts[f"{code}.observers"].derivation is not None
        rule_ids = {r.id for r in rulebook.rules}
        assert (f"habitual-{code}" in rule_ids) == (signal.kind == "signal")
    assert vocabulary.sets["core_signals"] == (
        "H-AFF",
        "H-NCA",
        "H-DEV",
        "H-CRG",
        "H-RSP",
        "H-VIS",
        "H-FOL",
    )


def test_a_rule_reading_a_signal_the_catalogue_lacks_is_refused(rules: Path) -> None:
    line = edit(
        rules, "15-evidence.yaml", "      - H-AFF.episodes >= $repeat_episodes\n",
        "      - H-ZZZ.episodes >= $repeat_episodes\n",
    )  # fmt: skip
    found = diagnostics(rules)
    assert any(
        d.startswith(f"rules/15-evidence.yaml:{line}: ") and "unknown fact 'H-ZZZ.episodes'" in d
        for d in found
    ), found


def test_a_declared_fact_nothing_computes_is_refused_with_its_line(rules: Path) -> None:
    line = edit(
        rules,
        "vocabulary.yaml",
        "  performance_trend:\n",
        "  years_to_go:\n    type: number\n    meaning: Nothing computes this.\n"
        "  performance_trend:\n",
    )
    found = diagnostics(rules)
    assert (
        f"rules/vocabulary.yaml:{line + 1}: fact 'years_to_go' is not one talentrules computes "
        "from the workbook (declare how it is derived: 'rows' and 'measure', or a 'formula' "
        "over other facts; see docs/rules.md)"
    ) in found
    code, stdout, stderr = check(rules)
    assert code == EXIT_RULES and "years_to_go" in stderr


def test_a_derived_fact_names_a_known_row_set_column_and_measure(rules: Path) -> None:
    edit(rules, "vocabulary.yaml", "    where: [influence_base == Position]\n",
         "    where: [influence == Position]\n")  # fmt: skip
    edit(rules, "vocabulary.yaml", "    rows: stale_by_others\n", "    rows: stale_by_other\n")
    found = diagnostics(rules)
    assert any("Evidence rows have no column 'influence'" in d for d in found), found
    assert any(
        "unknown row set 'stale_by_other'; did you mean 'stale_by_others'?" in d for d in found
    )


# --- outcome texts and roles ---------------------------------------------------------


def test_every_outcome_of_every_decision_has_its_texts() -> None:
    """The default rulebook carries the words briefs use for every outcome."""
    rulebook = load_rulebook()
    for decision in rulebook.decisions.values():
        for outcome in decision.outcomes:
            if outcome in rulebook.signals:
                continue  # a signal code: the catalogue names and describes it
            if decision.role == "investments" and outcome != decision.default:
                continue  # a catalogue code: catalogue.yaml names it
            assert decision.text(outcome, "meaning"), (decision.name, outcome)


def test_an_outcome_without_the_text_its_role_needs_is_refused(rules: Path) -> None:
    edit(
        rules,
        "decisions.yaml",
        "          keep it so: recognise it, and keep the rules articulated clearly as the team\n"
        "          grows\n",
        "",
    )
    edit(rules, "decisions.yaml", "      Balanced:\n        meaning: Compliance and commitment "
         "are both high.\n        advice: >-\n", "      Balanced:\n        meaning: Compliance "
         "and commitment are both high.\n")  # fmt: skip
    found = diagnostics(rules)
    assert any(
        "decision 'balance' plays role team_balance: outcome 'Balanced' needs advice" in d
        for d in found
    ), found


def test_the_track_needs_a_true_interest_sentence_for_every_interest(rules: Path) -> None:
    edit(rules, "decisions.yaml", "          otherwise: >-\n            The stated interest is "
         "$interest; the Expert track", "          Stay in role: >-\n            The stated "
         "interest is $interest; the Expert track")  # fmt: skip
    found = diagnostics(rules)
    assert any(
        d.startswith("rules/decisions.yaml:")
        and "texts of 'Expert': no interest sentence for Lead people, Lead without managing "
        "(give one each, or 'otherwise')"
        in d
        for d in found
    ), found


def test_a_role_is_played_by_one_decision_only(rules: Path) -> None:
    edit(rules, "decisions.yaml", "    role: team_balance\n", "    role: management_pattern\n")
    assert any(
        "decision 'management' already plays role 'management_pattern'" in d
        for d in diagnostics(rules)
    )


# --- protected attributes and their proxies ------------------------------------------


def test_long_tenure_warns_as_a_proxy_for_age_and_newcomers_stay_allowed(rules: Path) -> None:
    assert not [d for d in diagnostics(rules) if "proxy" in d]  # tenure < 6: newcomers
    line = edit(
        rules, "50-track.yaml", "          - tenure_months < $newcomer_months\n",
        "          - tenure_months >= 300\n",
    )  # fmt: skip
    found = diagnostics(rules)
    assert any(
        d.startswith(f"rules/50-track.yaml:{line}: warning: rule track-new-joiner: ")
        and "reads tenure_months, a proxy for age" in d
        for d in found
    ), found
    code, _, stderr = check(rules)
    assert code == 0 and "a proxy for age" in stderr  # a warning: it passes, and says so


def test_anything_derived_from_a_date_of_birth_is_refused(rules: Path) -> None:
    edit(
        rules,
        "vocabulary.yaml",
        "  performance_trend:\n",
        "  birth_year:\n    type: number\n    meaning: A proxy.\n  performance_trend:\n",
    )
    assert any("fact 'birth_year' is a protected attribute" in d for d in diagnostics(rules))


# --- investments the catalogue does not describe --------------------------------------


def test_an_investment_code_missing_from_the_catalogue_is_refused(rules: Path) -> None:
    edit(rules, "decisions.yaml", "      - RET\n", "      - RET\n      - LEAD-SABBATICAL\n")
    edit(rules, "60-investment.yaml", "    then: RET\n", "    then: LEAD-SABBATICAL\n", count=2)
    code, stdout, stderr = check(rules)
    assert code == EXIT_RULES, stdout + stderr
    assert "investment 'LEAD-SABBATICAL' (an outcome of decision 'investment') has no entry" in (
        stderr
    )
    assert "rules/decisions.yaml:" in stderr


def test_rules_check_json_gives_a_run_problem_its_file_and_line(rules: Path) -> None:
    line = edit(rules, "decisions.yaml", "      - RET\n", "      - RET\n      - LEAD-SABBATICAL\n")
    edit(rules, "60-investment.yaml", "    then: RET\n", "    then: LEAD-SABBATICAL\n", count=2)
    result = CliRunner().invoke(cli, ["rules", "check", str(rules), "--format", "json"])
    assert result.exit_code == EXIT_RULES, result.output
    data = json.loads(result.stdout)
    (problem,) = [d for d in data["diagnostics"] if d["checker"] == "run"]
    decision = load_rulebook(rules).decisions["investment"]
    assert (problem["file"], problem["line"], problem["rule"]) == (
        "rules/decisions.yaml",
        decision.line,
        None,
    )
    assert problem["message"].startswith("investment 'LEAD-SABBATICAL' (an outcome of decision")
    assert problem["text"] == f"rules/decisions.yaml:{decision.line}: {problem['message']}"
    assert decision.line < line  # the decision's own line, above the outcome added
