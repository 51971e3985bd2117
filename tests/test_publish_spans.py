"""How write_outputs hands the briefs to its workers and chains trace.jsonl as their
spans come in (report/publish.py): every person once, in order, and the trace and its
manifest figures the same whatever order the spans finish in."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from talentrules import record
from talentrules.errors import OutputError
from talentrules.report.publish import (
    _SPAN,
    _SPAN_END,
    TRACE_PARTS,
    _spans,
    _trace_part,
    _TraceChain,
    _write_new,
)


@pytest.mark.parametrize("jobs", [1, 2, 3, 8])
@pytest.mark.parametrize("total", [0, 1, 9, 100, 101, 999, 1000, 10000, 12345])
def test_spans_cover_everyone_once_in_order_and_shrink_towards_the_end(
    total: int, jobs: int
) -> None:
    spans = _spans(total, jobs)
    assert [i for start, end in spans for i in range(start, end)] == list(range(total))
    sizes = [end - start for start, end in spans]
    assert sizes == sorted(sizes, reverse=True)
    assert all(_SPAN_END <= size <= _SPAN for size in sizes[:-1])
    if total >= 10000:
        assert sizes[0] == _SPAN and sizes[-1] <= _SPAN_END


def _parts(folder: Path, spans: list[tuple[int, int]]) -> list[str]:
    """Each span's unchained lines in its part file, as _render_span leaves them; the
    lines, in order."""
    lines = []
    for start, end in spans:
        texts = []
        for index in range(start, end):
            line = f'{{"prev": "{record.GENESIS}", "n": {index}, "text": "é\\t\\n"}}'
            lines.append(line)
            texts.append(f"{line.index(record.GENESIS)}\t{line}\n")
        _trace_part(folder, start).write_text("".join(texts), encoding="utf-8", newline="\n")
    return lines


@pytest.mark.parametrize("seed", range(5))
def test_the_trace_chained_as_spans_come_in_is_the_chain_whatever_their_order(
    tmp_path: Path, seed: int
) -> None:
    spans = _spans(1234, 2)
    with _TraceChain(tmp_path) as chain:
        lines = _parts(tmp_path, spans)
        arrived = random.Random(seed).sample(spans, len(spans))
        for start, end in arrived:
            chain.add(start, end - start)
            chain.chain()
        figures = chain.finish(1234)
    expected = "".join(
        line + "\n" for line in record.rechain((t, t.index(record.GENESIS)) for t in lines)
    )
    assert (tmp_path / record.TRACE).read_text(encoding="utf-8") == expected
    assert not (tmp_path / TRACE_PARTS).exists()
    # What the manifest records of the trace: as read back from the file.
    files, count, last = record._hash_files(tmp_path)
    assert figures == (files[record.TRACE], count, last)


def test_a_span_lost_is_never_a_short_trace(tmp_path: Path) -> None:
    spans = _spans(500, 2)
    with _TraceChain(tmp_path) as chain:
        _parts(tmp_path, spans)
        for start, end in spans[:3] + spans[4:]:
            chain.add(start, end - start)
            chain.chain()
        with pytest.raises(OutputError, match="lines made for 500 people"):
            chain.finish(500)


def test_a_brief_file_is_written_as_path_write_bytes_writes_it(tmp_path: Path) -> None:
    # The workers write each brief through a plain descriptor: the same bytes, the same
    # permissions under the umask, and a file already there is replaced, not appended to.
    data = "brief “quoted” · text\n".encode() * 5000
    ours, theirs = tmp_path / "ours.html", tmp_path / "theirs.html"
    old = os.umask(0o027)
    try:
        _write_new(ours, b"an older and longer text" * 10_000)
        _write_new(ours, data)
        theirs.write_bytes(data)
    finally:
        os.umask(old)
    assert ours.read_bytes() == data
    assert ours.stat().st_mode == theirs.stat().st_mode
    assert oct(ours.stat().st_mode & 0o777) == "0o640"
