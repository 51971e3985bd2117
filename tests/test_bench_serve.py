"""benchmarks/bench_serve.py cannot rot: the load benchmark, at a tiny size (20 people,
2 clients, 30 decisions: ten people decided twice, naming the decision they follow),
runs against the real server and finds nothing lost."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_load_benchmark_runs_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_serve", ROOT / "benchmarks" / "bench_serve.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_serve", bench)
    spec.loader.exec_module(bench)
    status = bench.main(
        ["--people", "20", "--clients", "2", "--decisions", "30", "--keep", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "decisions: 30 recorded of 30 sent by 2 clients" in printed
    assert "lost or duplicated: none" in printed
    for figure in ("p50", "p95", "max", "summary", "people list", "person"):
        assert f"{figure} " in printed
    assert (tmp_path / "session-20.sqlite").stat().st_size > 0
