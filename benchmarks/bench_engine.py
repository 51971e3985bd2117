"""Persons per second through the rules, four ways, on one generated workbook:

  (a) talentrules.engine.run, durable_rules, and each person's full trace (why-not,
      counterfactuals: reference.explain, as briefs build it), one process
  (b) the same with every core (processes, one engine each)
  (c) the pure-Python reference evaluator (reference.evaluate), one process
  (d) the same compiled ruleset and facts through durable's stock Host API, one
      session at a time, stock actions (host.assert_fact, host.delete_state)

and, beside them, the engine without the reference's why-not/counterfactual body
(a0) and the reference with it (c1), so each pair compares like with like. Then the
engine's peak memory (with the full trace, each dropped) for 1,000 and for every person,
each in a fresh forked process.

    .venv/bin/python benchmarks/bench_engine.py                   # 10,000 people
    .venv/bin/python benchmarks/bench_engine.py --people 2000 --workbook /tmp/w.xlsx

The workbook comes from benchmarks/make_workbook.py (kept at --workbook, reused when
it is there); facts from talentrules.facts, rules from the packaged rulebook.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from talentrules import engine, reference  # noqa: E402
from talentrules.facts import PersonFacts, compute_facts, load_catalogue  # noqa: E402
from talentrules.ingest import load_workbook  # noqa: E402
from talentrules.paths import default_rules_dir  # noqa: E402
from talentrules.rulebook import Evaluation, Rulebook, load_rulebook, resolve  # noqa: E402


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def timed(label: str, persons: int, work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Run ``work``; print persons per second by wall clock and by this process's CPU.

    The CPU figure is the one to compare across single-process rows: on a shared
    machine the wall clock also counts time spent waiting for a core.
    """
    gc.collect()  # no measurement pays for the garbage of the one before
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"  {label:<56} {persons / seconds:>8,.0f}/s wall {persons / cpu_seconds:>8,.0f}/s cpu"
        f"  ({seconds:6.2f} s)",
        flush=True,
    )
    return persons / seconds, persons / cpu_seconds, result


# --- (d): the stock Host API ---------------------------------------------------------


def stock_host(rulebook: Rulebook, persons: Sequence[PersonFacts]) -> list[Evaluation]:
    """The same ruleset through durable's Host: the documented way, one session at a time.

    The Host's two timer threads are switched off (``_run``): they race with
    delete_state and segfault (../shared/durable-notes.md); they do no work here.
    """
    from durable.engine import Host, MessageNotHandledException

    class QuietHost(Host):  # type: ignore[misc]
        def _run(self) -> None:
            pass

    with engine.Engine(rulebook) as compiled:  # only for its definition and levels
        levels = compiled._levels
        names = dict(compiled._durable_rule)
        definition = compiled.definition
    fired: set[int] = set()

    def action_for(name: str) -> Callable[[Any], None]:
        index = names.get(name)

        def action(c: Any) -> None:
            if index is not None:
                fired.add(index)

        return action

    ruleset = {name: dict(rule, run=action_for(name)) for name, rule in definition.items()}
    host = QuietHost()
    host.set_rulesets({"stock": ruleset})
    results = []
    for number, person in enumerate(persons, 1):
        sid = str(number)
        outcomes: dict[str, tuple[str, ...]] = {}
        all_fired: list[str] = []
        overruled: dict[str, tuple[str, ...]] = {}
        defaulted: list[str] = []
        for level in levels:
            fired.clear()
            fact: dict[str, object] = {"sid": sid, "l": level.index}
            for fid, source, kind, outcome in level.fields.values():
                if kind == "member":
                    fact[fid] = "T" if outcome in outcomes[source] else "F"
                    continue
                value = outcomes[source][0] if kind == "outcome" else person.values.get(source)
                if value is None:
                    continue
                if isinstance(value, bool):
                    value = "T" if value else "F"
                elif isinstance(value, dt.date):
                    value = value.toordinal()
                fact[fid] = value
            try:
                host.assert_fact("stock", fact)
            except MessageNotHandledException:
                pass
            hits = sorted(fired)
            for name in level.decisions:
                own = [rulebook.rules[i] for i in hits if rulebook.rules[i].decision == name]
                chosen, lost = resolve(rulebook.decisions[name], own, person.employee_id)
                outcomes[name] = chosen
                if lost:
                    overruled[name] = lost
                if not own:
                    defaulted.append(name)
            all_fired += [rulebook.rules[i].id for i in hits]
        host.delete_state("stock", sid)
        results.append(
            Evaluation(person.employee_id, outcomes, tuple(all_fired), overruled, tuple(defaulted))
        )
    return results


# --- peak memory -----------------------------------------------------------------------


def _memory_child(rulebook: Rulebook, persons: Sequence[PersonFacts], count: int, out: Any) -> None:
    # Reset this process's peak resident set (Linux >= 4.0): a fork starts with its parent's.
    Path("/proc/self/clear_refs").write_text("5")
    base = _status_kb("VmRSS")
    with engine.Engine(rulebook) as compiled:
        for person in persons[:count]:
            # (a)'s work per person: the engine and the full trace, then dropped. What
            # stays is the trace's memos (bounded per rule: reference/explanation.py).
            evaluation, _ = compiled.explain(person)
            reference.explain(rulebook, person, evaluation)
    out.send((base, _status_kb("VmHWM")))


def peak_memory(rulebook: Rulebook, persons: Sequence[PersonFacts], count: int) -> tuple[int, int]:
    """(resident KB before, peak KB after) evaluating ``count`` persons in a fresh fork."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_memory_child, args=(rulebook, persons, count, send))
    process.start()
    base, peak = receive.recv()
    process.join()
    return base, peak


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--workbook", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    path = args.workbook or Path(f"/tmp/talentrules-bench-{args.people}.xlsx")
    if not path.exists():
        import make_workbook

        make_workbook.make_workbook(path, args.people, seed=1)
    start = time.perf_counter()
    rulebook = load_rulebook(default_rules_dir())
    catalogue = load_catalogue(default_rules_dir() / "catalogue.yaml")
    persons = compute_facts(load_workbook(path), rulebook.vocabulary, catalogue)
    n = len(persons)
    print(
        f"{path.name}: {n:,} persons, {len(rulebook.rules)} rules in "
        f"{len(rulebook.levels)} decision levels, {len(rulebook.vocabulary)} facts "
        f"(read in {time.perf_counter() - start:.1f} s); {os.cpu_count()} cores",
        flush=True,
    )

    def fresh() -> Rulebook:
        """The rulebook loaded anew, its reference closures compiled (outside the
        timing) but explain's memos empty: reference.explain remembers answers per
        rule and rulebook, so a row after another would otherwise start warm."""
        loaded = load_rulebook(default_rules_dir())
        reference.compile_rulebook(loaded)
        return loaded

    def engine_only(rb: Rulebook) -> list[Evaluation]:
        with engine.Engine(rb) as compiled:
            return [compiled.explain(p)[0] for p in persons]

    def reference_with_explain(rb: Rulebook) -> list[Evaluation]:
        out = []
        for p in persons:
            evaluation = reference.evaluate(rb, p)
            reference.explain(rb, p, evaluation)
            out.append(evaluation)
        return out

    def full_run(rb: Rulebook, jobs: int) -> list[Evaluation]:
        # engine.run keeps no traces (Result.trace builds one when asked): each is
        # built here and dropped, in this process (with jobs > 1 the briefs' workers
        # build them in a run; here the parent does, so (b) is the engine's share).
        results = engine.run(rb, persons, jobs=jobs)
        for r in results:
            reference.explain(rb, r.person, r.evaluation)
        return [r.evaluation for r in results]

    rb = fresh()
    a_wall, a, run_one = timed("(a) engine.run, full trace, 1 process", n, lambda: full_run(rb, 1))
    rb = fresh()
    b, _, run_all = timed(
        f"(b) engine.run, full trace, {args.jobs} processes (wall clock only)",
        n,
        lambda: full_run(rb, args.jobs),
    )
    rb = fresh()
    _, c, ref = timed(
        "(c) reference.evaluate, 1 process",
        n,
        lambda: [reference.evaluate(rb, p) for p in persons],
    )
    rb = fresh()
    _, d, stock = timed("(d) durable stock Host API, 1 process", n, lambda: stock_host(rb, persons))
    rb = fresh()
    _, a0, own = timed(
        "(a0) Engine.explain: engine + its own trace, no why-not", n, lambda: engine_only(rb)
    )
    rb = fresh()
    _, c1, ref_explained = timed(
        "(c1) reference.evaluate + reference.explain", n, lambda: reference_with_explain(rb)
    )

    same = run_one == run_all == ref == stock == own == ref_explained
    print(f"  every evaluator gave identical Evaluations for every person: {same}")
    print(f"  (a) / (c)  = 1 : {c / a:.1f}   (target: within 10)")
    print(f"  (a0) / (c) = 1 : {c / a0:.1f}   (the engine's own work against plain Python)")
    print(f"  (a) / (c1) = 1 : {c1 / a:.2f}   (both with the reference's why-not trace)")
    print(f"  (a) / (d)  = {a / d:.1f} : 1   (target: at least 4)")
    print(f"  (a0) / (d) = {a0 / d:.1f} : 1")
    print(f"  (b) / (a)  = {b / a_wall:.1f} : 1   (wall clock)")
    print("  ratios of single-process rows use CPU time")
    for count in sorted({min(1000, n), n}):
        base, peak = peak_memory(rulebook, persons, count)
        print(
            f"  peak memory, engine + full trace over {count:>6,} persons: {peak / 1024:6.1f} MB "
            f"(resident before: {base / 1024:.1f} MB, growth {(peak - base) / 1024:.1f} MB)"
        )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
