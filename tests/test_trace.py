"""The typed trace records (talentrules/trace.py): every trace of a real run reads,
and a trace missing what a reader needs is refused with the place named."""

from __future__ import annotations

import copy
import json

import pytest

from talentrules.paths import sample_workbook
from talentrules.record import trace_record
from talentrules.reference import near_misses, replay
from talentrules.rulebook import expr_facts
from talentrules.run import RunResult, evaluate_workbook
from talentrules.trace import PersonTrace, TraceFormatError, TraceLine


@pytest.fixture(scope="module")
def result() -> RunResult:
    return evaluate_workbook(sample_workbook(), jobs=1)


def test_every_trace_of_the_sample_reads(result: RunResult) -> None:
    for r in result.results:
        trace = PersonTrace.read(r.trace)
        assert trace.employee_id == r.employee_id
        assert [f.rule for f in trace.fired] == list(r.evaluation.fired)
        for decision, outcomes in r.evaluation.outcomes.items():
            assert trace.decisions[decision].outcomes == outcomes
        for entry in trace.fired:
            assert entry.conditions and all(leaf.fact for leaf in entry.conditions)


def test_a_trace_line_reads_back_from_json(result: RunResult) -> None:
    data = json.loads(json.dumps(trace_record(result, 0), default=list))
    line = TraceLine.read(data)
    assert line.employee_id == result.results[0].employee_id
    assert line.fired == result.results[0].evaluation.fired
    assert line.recommendation.outcomes == result.results[0].evaluation.outcomes


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("decisions", "heart", "overruled"), "trace.decisions.heart: no 'overruled'"),
        (("fired", 0, "where"), "no 'where'"),
        (("cells",), "trace: no 'cells'"),
    ],
)
def test_a_missing_key_is_named(result: RunResult, path: tuple[object, ...], message: str) -> None:
    data = copy.deepcopy(result.results[0].trace)  # traces are shared: never edit one
    node = data
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    del node[path[-1]]  # type: ignore[arg-type]
    with pytest.raises(TraceFormatError, match=message.replace("'", ".")):
        PersonTrace.read(data)


def _json(data: object) -> object:
    return json.loads(json.dumps(data, default=list))


def test_a_trace_line_replays_to_the_full_trace_without_the_workbook(result: RunResult) -> None:
    """trace.jsonl keeps the facts the rules read, not the why-not and counterfactuals:
    worked out again from a line alone, they are what the run's full trace holds."""
    for index, r in enumerate(result.results):
        line = _json(trace_record(result, index))
        assert isinstance(line, dict)
        evaluation, full = replay(result.rulebook, line)
        assert evaluation == r.evaluation
        kept = _json(r.trace)
        assert isinstance(kept, dict)
        for key in ("fired", "conclusions", "decisions", "counterfactuals"):
            assert _json(full[key]) == kept[key], (r.employee_id, key)
        assert line["facts"] == {k: kept["facts"][k] for k in line["facts"]}


def test_a_trace_line_holds_only_what_the_rules_read(result: RunResult) -> None:
    read = {leaf.fact for rule in result.rulebook.rules for leaf in expr_facts(rule.when)} - set(
        result.rulebook.decisions
    )
    line = trace_record(result, 0)
    assert set(line["facts"]) == read
    assert set(line["cells"]) <= read
    assert {"counterfactuals", "conclusions"}.isdisjoint(line)
    assert all("not_fired" not in d for d in line["decisions"].values())
    assert line["fired"] == result.results[0].evaluation.fired


def test_the_fired_rules_alone_are_the_full_traces(result: RunResult) -> None:
    for r in result.results:
        assert r.fired() == r.trace["fired"]


def test_the_near_misses_alone_are_the_full_traces(result: RunResult) -> None:
    """What a brief reads of why-not: the rules of the counterfactuals that change an
    outcome, in order, once each, with the first failing leaf the full trace gives."""
    found = 0
    for r in result.results:
        full = r.trace
        trace = PersonTrace.read(full)
        rules = dict.fromkeys(c.rule for c in trace.counterfactuals if c.changes_outcome)
        failed = {
            miss["rule"]: miss["failed"]
            for decision in full["decisions"].values()
            for miss in decision["not_fired"]
        }
        assert near_misses(r.rulebook, r.person, r.evaluation) == [
            (rule, failed[rule]) for rule in rules
        ]
        found += len(rules)
    assert found  # the sample has near misses
