"""What a brief's context shares between people is what each person's own would be
(docs/scale.md, "Brief contexts, shared by what they follow from", issue 13's
eleventh part): the audit appendix's near-miss candidates per decision, its words
kept with the shared fired entries and why-nots, and managers' names."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from test_changes_exact import _make_workbook, _other_rulebook

from talentrules import reference, report
from talentrules.engine import Result
from talentrules.paths import sample_workbook
from talentrules.reference import explanation
from talentrules.reference.compiled import compile_rulebook
from talentrules.report import brief
from talentrules.report.contexts import HowDecided
from talentrules.report.words import shown
from talentrules.run import RunResult, evaluate_workbook
from talentrules.trace import PersonTrace


@pytest.fixture(scope="module")
def sample() -> RunResult:
    return evaluate_workbook(sample_workbook(), jobs=1)


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """A generated workbook under another rulebook (other thresholds, a signal no
    workbook records, rules reading other facts: tests/test_changes_exact.py)."""
    folder = tmp_path_factory.mktemp("other")
    _make_workbook()(folder / "generated.xlsx", 150, seed=31)
    return evaluate_workbook(folder / "generated.xlsx", _other_rulebook(folder), jobs=1)


def _runs(request: pytest.FixtureRequest) -> list[RunResult]:
    return [request.getfixturevalue("sample"), request.getfixturevalue("other")]


def test_near_miss_candidates_remembered_per_decision_are_the_full_traces(
    request: pytest.FixtureRequest,
) -> None:
    """``reference.appendix`` remembers, per decision, which rules may be near misses
    by the decision's outcomes and the rules of it that fired: everyone's near misses
    are still the rules of their full trace's counterfactuals that change an outcome,
    each with its first failing leaf."""
    for result in _runs(request):
        explanation._CANDIDATES.clear()
        found = 0
        for r in result.results:
            full = r.trace  # explain: every rule's why-not, nothing remembered by decision
            rules = dict.fromkeys(
                c.rule for c in PersonTrace.read(full).counterfactuals if c.changes_outcome
            )
            failed = {
                miss["rule"]: miss["failed"]
                for decision in full["decisions"].values()
                for miss in decision["not_fired"]
            }
            assert reference.near_misses(r.rulebook, r.person, r.evaluation) == [
                (rule, failed[rule]) for rule in rules
            ], r.employee_id
            found += len(rules)
        assert found
        memos = explanation._candidates(compile_rulebook(result.rulebook))
        remembered = sum(len(memo) for memo in memos.values())
        # Shared: fewer combinations than people and decisions.
        assert 0 < remembered < len(result.results) * len(memos)


def _how(view: report.RunView, r: Result) -> HowDecided:
    return brief.how_decided(view, r, r.person.values)


def test_audit_appendix_words_kept_with_shared_entries_are_each_persons_own(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The words of a fired rule (whose message reads only its conditions) and of a
    near miss are kept with the fired entry or why-not they follow from, which
    everyone who gives the rule the same values shares: read back for other people
    (a second pass over everyone reads them all back), they are what a view
    remembering nothing works out for each person; a message that reads other facts
    (the sample's exception-high-risk-of-loss) is never read back from the entry."""
    for result in _runs(request):
        shared = report.RunView(result)
        first = [_how(shared, r) for r in result.results]
        second = [_how(shared, r) for r in result.results]
        kept: Counter[str] = Counter()
        for r in result.results:
            fired, near = reference.appendix(r.rulebook, r.person, r.evaluation)
            kept["fired"] += sum(
                entry.said is not None and entry.said[0] is shared.fired_words
                for _, entry, _ in fired
            )
            kept["near"] += sum(
                answer.said is not None and answer.said[0] is shared.near_words
                for _, answer in near
            )
        assert kept["fired"] > len(result.results) and kept["near"] > len(result.results)
        with monkeypatch.context() as patch:
            patch.setattr(brief, "WORDS_LIMIT", 0)  # nothing remembered by values read
            fresh = [_how(report.RunView(result), r) for r in result.results]
        assert first == fresh
        assert second == fresh


def test_a_managers_name_is_worked_out_once_for_all_their_reports(sample: RunResult) -> None:
    """Each header names the person's own manager (the Employees row's name and id,
    or the id alone for a manager the sheet lacks), though the name is worked out
    once a manager."""
    view = report.RunView(sample)
    employees = sample.employees
    managers: Counter[str] = Counter()
    for index, r in enumerate(sample.results):
        manager_id = employees[r.employee_id].get("manager_id")
        header = brief.person_header(view, employees[r.employee_id])
        if not isinstance(manager_id, str):
            assert header.manager == "not recorded"
            continue
        managers[manager_id] += 1
        boss = employees.get(manager_id)
        want = f"{shown(boss.get('full_name'))} ({manager_id})" if boss else manager_id
        assert header.manager == want
        assert brief.build_brief(view, index).person.manager == want
    assert max(managers.values()) > 1  # reports share a manager
    assert set(view.managers) == set(managers)


def test_a_manager_the_employees_sheet_lacks_is_named_by_id(sample: RunResult) -> None:
    view = report.RunView(sample)
    assert "NOBODY-0" not in sample.employees
    assert brief._manager(view, "NOBODY-0") == "NOBODY-0"
    assert brief._manager(view, "NOBODY-0") == "NOBODY-0"  # remembered as it was


def test_the_contest_section_is_made_once_a_view_and_is_everyones(sample: RunResult) -> None:
    """How to contest reads the cycle alone: every brief of a view holds the one made
    for its first, equal to one made afresh (and the document's facts are the view's,
    titled for the person)."""
    view = report.RunView(sample)
    contexts = [brief.build_brief(view, n) for n in range(len(sample.results))]
    assert all(c.contest is contexts[0].contest for c in contexts)
    assert contexts[0].contest == brief.contest(report.RunView(sample))
    for c in contexts:
        assert c.doc == dataclasses.replace(
            view.doc, title=f"Justification brief: {c.person.full_name}"
        )


def test_a_plan_rows_investment_words_are_the_catalogues_for_every_code(
    sample: RunResult,
) -> None:
    """Worked out once a code, a plan row's name, track, mode, cost and duration are the
    catalogue's words for that code in every brief (and 'not recorded' for a code the
    catalogue lacks)."""
    view = report.RunView(sample)
    rows = [item for n in range(len(sample.results)) for item in brief.build_brief(view, n).plan]
    assert len({item.code for item in rows}) > 1
    for item in rows:
        investment = view.catalogue.get(item.code)
        assert investment is not None
        assert (item.name, item.track, item.cost) == (
            shown(investment.name),
            shown(investment.track),
            view.money(investment.cost_per_person),
        )
        assert item.duration == brief._duration(investment.duration_months)
    assert brief._investment_words(view, "NO-SUCH-CODE")[:4] == ("not recorded",) * 4
