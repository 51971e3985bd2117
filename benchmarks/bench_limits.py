"""Where the limits of issue 12 sit against what they fence (docs/engine.md, "Limits").

    .venv/bin/python benchmarks/bench_limits.py             # everything, about a minute
    .venv/bin/python benchmarks/bench_limits.py --people 10000

Prints, each measured in this run on this machine:
1. durable_rules' matcher: ruleset creation with N tests under one node (N up to
   511; 512 is run in a child process and reported as hanging when it is still
   running after a few seconds) against MAX_ALTERNATIVES and MAX_CHILDREN;
2. durable_rules' creation time as a rule's conditions grow (a chain of tests):
   linear, so MAX_CONDITIONS_PER_RULE bounds time, not a hang;
3. `rules check` (the language checker plus compiling into durable_rules) on the
   shipped rules plus generated rules holding 2,500 to 20,000 comparisons, against
   MAX_CONDITIONS_PER_RULEBOOK;
4. reading a rules-folder file of 256 KiB to 1 MiB (MAX_RULE_FILE_BYTES);
5. CPU seconds of the slowest rendering of each packaged template for a generated
   workbook of --people people, against TEMPLATE_SECONDS.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

DURABLE = """
import json, sys, time, durable_rules_engine as d
n = int(sys.argv[1])
tests = [{"f0": i} for i in range(n)]
rules = {"r": {"all": [{"m": {"$and": [{"l": 0}, {"$or": tests}]}}]}}
start = time.perf_counter()
handle = d.create_ruleset("x", json.dumps(rules))
try:
    d.assert_fact(handle, json.dumps({"sid": 1, "l": 0, "f0": 7}))
except Exception:
    pass
print(time.perf_counter() - start)
"""


def siblings(n: int, timeout: float = 5) -> str:
    try:
        done = subprocess.run(
            [sys.executable, "-c", DURABLE, str(n)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"still running after {timeout:g} s: hangs"
    return f"{float(done.stdout) * 1000:.1f} ms"


def chain_ms(n: int) -> float:
    import durable_rules_engine as d

    rules = {"r": {"all": [{"m": {"$and": [{"l": 0}] + [{"$neq": {"f0": i}} for i in range(n)]}}]}}
    start = time.perf_counter()
    handle = d.create_ruleset(f"chain{n}", json.dumps(rules))
    took = (time.perf_counter() - start) * 1000
    d.delete_ruleset(handle)
    return took


def generated_rules(folder: Path, comparisons: int) -> Path:
    """The shipped rules plus rules of 50 comparisons each, `comparisons` in all."""
    from talentrules.paths import default_rules_dir

    shutil.copytree(default_rules_dir(), folder)
    lines = ["rules:"]
    for n in range(comparisons // 50):
        tests = "".join(f"      - evidence.episodes != {1000 + 50 * n + k}\n" for k in range(48))
        lines.append(
            f"  - id: extra-{n}\n    decision: evidence_quality\n    title: Extra {n}\n"
            f"    rationale: Generated.\n    when:\n      - evidence.observers == {n % 50 + 2}\n"
            f"      - evidence.counter_episodes == {n}\n{tests.rstrip()}\n    then: Thin\n"
            f"    priority: {1000 + n}"
        )
    # Spread over files under the size limit.
    per_file = 300
    for part in range(0, len(lines) - 1, per_file):
        body = ["rules:", *lines[1 + part : 1 + part + per_file]]
        (folder / f"9{part // per_file:02d}-extra.yaml").write_text("\n".join(body) + "\n")
    return folder


CHECK = """
import sys, time
from talentrules import rulebook
from talentrules.engine import compile_problems
rulebook.MAX_CONDITIONS_PER_RULEBOOK = 10 ** 9  # measured beyond the limit too
start = time.process_time()
report = rulebook.check_report(sys.argv[1])
problems = compile_problems(rulebook.load_rulebook(sys.argv[1])) if not report.errors else []
print(time.process_time() - start, report.summary, *problems)
"""


def check_seconds(folder: Path) -> tuple[float, str]:
    """CPU seconds of what `rules check` does (in a child), and its verdict."""
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(folder)], capture_output=True, text=True, check=True
    )
    seconds, _, verdict = done.stdout.strip().partition(" ")
    return float(seconds), verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000, help="people for the templates")
    args = parser.parse_args()

    from talentrules import engine, rulebook, rulefiles
    from talentrules import report as report_module

    print("1. durable_rules: N tests under one node of its matcher (create, assert a fact)")
    for n in (100, 256, 511, 512):
        print(f"   N = {n:>3}: {siblings(n)}")
    print(
        f"   limits: MAX_ALTERNATIVES {rulebook.MAX_ALTERNATIVES} per list, "
        f"MAX_CHILDREN {engine.MAX_CHILDREN} per node (compiled rulebook)"
    )

    print("2. durable_rules: creation time of one rule as its chain of tests grows")
    base = None
    for n in (50, 100, 200, 400, 800, 1600):
        ms = min(chain_ms(n) for _ in range(3))
        base = base or ms / n
        print(f"   {n:>4} tests: {ms:7.2f} ms ({ms / n / base:.2f} x per test of the first)")
    print(f"   limit: MAX_CONDITIONS_PER_RULE {rulebook.MAX_CONDITIONS_PER_RULE}")

    print("3. rules check (language checks + durable_rules compile), CPU s, limit lifted")
    with tempfile.TemporaryDirectory() as tmp:
        first = None
        for total in (2_500, 5_000, 9_500, 20_000):
            folder = generated_rules(Path(tmp) / f"r{total}", total)
            seconds, last = check_seconds(folder)
            first = first or seconds / total
            print(
                f"   {total:>6} added comparisons: {seconds:5.2f} s "
                f"({seconds / total / first:.2f} x per comparison of the first): {last[:70]}"
            )
    print(f"   limit: MAX_CONDITIONS_PER_RULEBOOK {rulebook.MAX_CONDITIONS_PER_RULEBOOK:,}")

    print("4. reading one rules-folder file (checks, libyaml parse, compose)")
    with tempfile.TemporaryDirectory() as tmp:
        source = (rulebook.rulebook_files()[0]).read_text(encoding="utf-8")
        for kib in (256, 512, 1023):
            path = Path(tmp) / "big.yaml"
            text = "rules:\n"
            body = source.split("rules:\n", 1)[-1]
            while len(text) < kib * 1024 - len(body):
                text += body
            path.write_text(text, encoding="utf-8")
            start = time.perf_counter()
            rulefiles.read_yaml(path, Path(tmp))
            print(f"   {path.stat().st_size / 1024:6.0f} KiB: {time.perf_counter() - start:.2f} s")
    print(f"   limit: MAX_RULE_FILE_BYTES {rulefiles.MAX_RULE_FILE_BYTES:,}")

    print(f"5. packaged templates for {args.people:,} generated people (CPU s, slowest)")
    spec = importlib.util.spec_from_file_location("make_workbook", HERE / "make_workbook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from talentrules.run import evaluate_workbook

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "people.xlsx"
        module.make_workbook(path, args.people, seed=5)
        result = evaluate_workbook(path)
    renderer = report_module.Renderer()
    builder = report_module.ContextBuilder(result)
    slowest: dict[str, float] = {}
    for index in range(0, len(result.results), max(1, len(result.results) // 200)):
        context = builder.brief(index)
        for name in ("brief.html.j2", "brief.md.j2", "brief.txt.j2"):
            start = time.process_time()
            renderer.render(name, context)
            slowest[name] = max(slowest.get(name, 0.0), time.process_time() - start)
    summary = builder.summary()
    for name in ("summary.html.j2", "summary.md.j2"):
        start = time.process_time()
        renderer.render(name, summary)
        slowest[name] = time.process_time() - start
    limit = report_module.TEMPLATE_SECONDS
    for name, seconds in slowest.items():
        print(
            f"   {name:16} {seconds:7.3f} s  ({seconds / limit:.2%} of TEMPLATE_SECONDS {limit:g})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
