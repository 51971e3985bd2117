"""The shortcuts of issue 13's twelfth part in a brief's context and the facts' derivation
(docs/scale.md, "Brief contexts, fewer instructions"): each gives what the
straightforward way gives, on the sample and on a generated workbook under another
rulebook (tests/test_changes_exact.py's ``_other_rulebook``)."""

from __future__ import annotations

import dataclasses

import pytest
from test_changes_exact import _make_workbook, _other_rulebook

from talentrules import facts, report
from talentrules.facts import KEY_COLUMN, PanelDerivation
from talentrules.model import Cell, Row, Value
from talentrules.paths import sample_workbook
from talentrules.report import brief
from talentrules.report.words import count, shown
from talentrules.run import RunResult, evaluate_workbook


@pytest.fixture(scope="module")
def sample() -> RunResult:
    return evaluate_workbook(sample_workbook(), jobs=1)


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    folder = tmp_path_factory.mktemp("other")
    _make_workbook()(folder / "generated.xlsx", 120, seed=37)
    return evaluate_workbook(folder / "generated.xlsx", _other_rulebook(folder), jobs=1)


def _runs(request: pytest.FixtureRequest) -> list[RunResult]:
    return [request.getfixturevalue("sample"), request.getfixturevalue("other")]


def _straightforward(derivation: facts.Derivation, lines: list[facts._Line]) -> object:
    """A count's, a distinct count's and a percent's value and cells, as they were
    worked out before their shortcuts (a line at a time, through ``_Line.ref``)."""
    if derivation.measure == "count":
        counted = derivation.where[-1].column if derivation.where else KEY_COLUMN["Evidence"]
        return len(lines), tuple(line.ref(counted) for line in lines)
    if derivation.measure == "distinct":
        column = derivation.column or ""
        known = [line for line in lines if line.values.get(column) is not None]
        return len({line.values[column] for line in known}), tuple(
            line.ref(column) for line in known
        )
    return None  # the other measures were left as they were


def test_measures_over_one_line_or_many_are_the_straightforward_ones(
    request: pytest.FixtureRequest,
) -> None:
    """A count over one line (most signals a person), a distinct count in one pass and
    the refs read from a line's own memo first: the same values and cells as a line at
    a time, for every Evidence group's lines and for each of their lines alone, asked
    twice (the second time every ref is remembered)."""
    for result in _runs(request):
        derivation = PanelDerivation(result.panel, result.rulebook.vocabulary)
        specs = result.rulebook.vocabulary
        as_of = derivation.as_of
        checked = 0
        for r in result.results[:60]:
            rows = result.panel.about("Evidence", r.employee_id)
            lines = [facts._evidence_line(row, as_of) for row in rows]
            derivation.plan.test("Evidence", lines)
            for group in derivation.plan.groups:
                if group.sheet != "Evidence":
                    continue
                mine = [
                    line
                    for line in lines
                    if line.passed & group.need == group.need
                    and (group.member is None or line.values.get("signal") == group.member)
                ]
                for some in [mine, *([line] for line in mine)]:
                    for name, measure in group.facts:
                        spec = specs[name].derivation
                        assert spec is not None
                        want = _straightforward(spec, list(some))
                        if want is None:
                            continue
                        for _ in range(2):
                            got = measure(list(some), as_of, derivation.as_of_ref, True)
                            assert got == want, (r.employee_id, name)
                            value, _cells = measure(list(some), as_of, (), False)
                            assert value == got[0]
                        checked += 1
        assert checked > 100


def test_signal_lines_leave_out_only_signals_counted_none(sample: RunResult) -> None:
    """The signal lines skip a signal whose episodes and self-reports are both blank
    or 0 before counting them: for values of every kind (0.0, False, '', 0.5, a
    number as float), the lines are those whose counts are not both 0."""
    view = report.RunView(sample)
    r = sample.results[0]
    signals = brief._signal_facts(view)
    assert signals
    odd: list[Value] = [None, 0, 0.0, False, "", 0.5, 2.0, 3, True, "x"]
    values = dict(r.person.values)
    want: list[str] = []
    for n, (code, _signal, names) in enumerate(signals):
        first, second = odd[n % len(odd)], odd[(n * 3 + 1) % len(odd)]
        values[names[0]], values[names[1]] = first, second
        if count(first) or count(second):
            want.append(code)
    section = brief.heart_section(view, r.employee_id, values, r.evaluation.outcomes, r.evaluation)
    got = [line.code for line in (*section.signals, *section.counters)]
    assert sorted(got) == sorted(want)
    assert want  # some lines shown, some left out
    assert len(want) < len(signals)


def test_evidence_items_show_each_value_as_shown_does(request: pytest.FixtureRequest) -> None:
    """An evidence item's texts skip ``shown`` for a text: each is still what ``shown``
    makes of the row's value."""
    columns = {
        "evidence_id": "evidence_id",
        "observed_on": "observed_on",
        "context": "context",
        "influence": "influence_base",
        "initiated_by": "initiated_by",
        "frequency": "frequency",
        "energy": "energy",
        "outcome": "outcome_in_others",
    }
    for result in _runs(request):
        view = report.RunView(result)
        seen = 0
        for r in result.results:
            for row in result.panel.about("Evidence", r.employee_id):
                item = dataclasses.asdict(brief.evidence_item(view, row))
                for field, column in columns.items():
                    assert item[field] == shown(row.get(column)), (field, row.number)
                seen += 1
        assert seen > 20


def test_the_track_sentence_remembered_per_view_is_each_persons(
    request: pytest.FixtureRequest,
) -> None:
    """The development track's sentence for a track and a stated interest, remembered
    per view: every brief's is the rulebook's for the person's own track and interest
    (built twice by one view, the second time read back)."""
    for result in _runs(request):
        view = report.RunView(result)
        decision = view.track
        assert decision is not None and decision.interest
        for _ in range(2):
            for n, r in enumerate(result.results):
                context = brief.build_brief(view, n)
                interest = r.person.values.get(decision.interest)
                want = decision.interest_text(
                    context.track, str(interest) if interest is not None else None
                )
                assert context.aspiration.fit.startswith(want), r.employee_id
        assert view.shared["interest texts"]


def test_risks_name_each_counter_signal_counted_as_count_does(sample: RunResult) -> None:
    """The risks skip a counter-signal whose episodes are blank or 0 before asking
    whether it is a counter-signal: for values of every kind, the counter-signals
    named are those whose episodes count more than 0."""
    view = report.RunView(sample)
    r = sample.results[0]
    odd: list[Value] = [None, 0, 0.0, False, "", 0.5, 2.0, 3, True, "x"]
    values = dict(r.person.values)
    want: list[str] = []
    for n, (code, signal, names) in enumerate(brief._signal_facts(view)):
        values[names[0]] = odd[n % len(odd)]
        if signal.counter and count(values[names[0]]):
            want.append(code)
    assert want
    said = brief.risks(view, values, r.evaluation.outcomes)
    named = [code for code, *_ in brief._signal_facts(view) if any(f"({code}:" in s for s in said)]
    assert named == want


def test_employees_facts_cite_each_cell_or_the_row_where_the_sheet_lacks_the_column(
    sample: RunResult,
) -> None:
    """An Employees row with every column read cites each cell straight from the row;
    one whose sheet lacks a column (aspiration_statement here) cites the row for that
    column, as ``_ref`` does, and each other cell as before."""
    row = sample.employees[sample.results[0].employee_id]
    whole = {column: Cell(row.get(column), row.ref(column)) for column in row.values()}
    lacking = {c: cell for c, cell in whole.items() if c != "aspiration_statement"}
    for cells, missing in ((whole, False), (lacking, True)):
        person = facts._Person({})
        made = Row("Employees", row.number, cells)
        facts._employee(person, made, None, ())
        for fact, cited in person.cells.items():
            assert cited, fact
        for column in facts._EMPLOYEE_COLUMNS:
            want = (
                f"Employees!row {row.number}"
                if missing and column == "aspiration_statement"
                else row.ref(column)
            )
            fact = {
                "hire_date": "tenure_months",
                "date_in_role": "months_in_role",
                "aspiration_statement": "has_aspiration_statement",
            }.get(column, column)
            assert person.cells[fact][0] == want, column
