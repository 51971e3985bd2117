"""The typed trace records (talentrules/trace.py): every trace of a real run reads,
and a trace missing what a reader needs is refused with the place named."""

from __future__ import annotations

import copy
import json

import pytest

from talentrules.paths import sample_workbook
from talentrules.record import trace_record
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
