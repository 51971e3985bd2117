"""What a brief's context costs, section by section, in CPU milliseconds a person
(templates and files apart: ``bench_evaluate.py`` measures the whole run).

    .venv/bin/python benchmarks/bench_briefs.py --workbook /tmp/scale/p1000.xlsx
    .venv/bin/python benchmarks/bench_briefs.py --workbook /tmp/scale/p10000.xlsx --people 3000
    .venv/bin/python benchmarks/bench_briefs.py --workbook /tmp/scale/p10000.xlsx --once

The run is evaluated once (``evaluate_workbook``), the first 200 briefs are built to
warm the per-run memos as a run would, then every brief is built three times and the
best round is kept; each section's builder is timed inside it. Also printed: the
what-if evaluations a person that "what would change" asks for. ``--once`` builds each
brief after the warm ones once, as a run does (the rounds above re-use memos warmed by
the same people, which a run never does). ``--people N`` builds
only the first N people's briefs (the whole workbook is still evaluated, and the
run-wide memos see only those N). Briefs are built in spans of 250 people, as the
run's workers build them; the trace line a run makes after each brief is timed apart,
and so are the brief's HTML and Markdown, rendered after it as the workers render them.
Times are the thread's CPU clock, as the workers keep them: the process's moves in
scheduler ticks while a rendering's CPU time limit (an ITIMER_PROF) is armed.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from talentrules import changes, record
from talentrules.paths import sample_workbook
from talentrules.reference import Reevaluation
from talentrules.report import brief
from talentrules.report.builder import ContextBuilder
from talentrules.report.render import Renderer
from talentrules.run import evaluate_workbook

SECTIONS = (
    "person_header",
    "headline",
    "snapshot",
    "heart_section",
    "influence_section",
    "aspiration",
    "plan_items",
    "plan_mix",
    "plan_defaults",
    "commitments",
    "risks",
    "gaps",
    "what_would_change",
    "contest",
    "how_decided",
    "override_items",
)

TEMPLATES = ("brief.html.j2", "brief.md.j2")


def _timed(name: str, builder: Callable[..., Any], spent: Counter[str]) -> Callable[..., Any]:
    """``builder`` with its CPU time added to ``spent[name]``."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return builder(*args, **kwargs)
        finally:
            spent[name] += time.thread_time() - start

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workbook", type=Path, default=sample_workbook())
    parser.add_argument("--people", type=int, default=0, help="only the first N briefs")
    parser.add_argument(
        "--once",
        action="store_true",
        help="each brief after the 200 warm ones built once, as a run builds it (the "
        "memos see each person once), not the best of 3 rounds over them all",
    )
    args = parser.parse_args()
    result = evaluate_workbook(args.workbook, jobs=1)
    view = ContextBuilder(result)
    renderer = Renderer()
    people = len(result.results)
    if args.people > 0:
        people = min(people, args.people)
    for start, end in _spans(0, min(people, 200)):
        with view.reading(start, end), renderer.many():
            for index in range(start, end):
                context = view.brief(index)
                for name in TEMPLATES:
                    renderer.render(name, context)
    first = min(people, 200) if args.once else 0

    whatifs = again = 0
    evaluate, observe = changes.Person.evaluate, changes.Person.observe
    outcomes = Reevaluation.outcomes

    def counted(self: changes.Person, *args: Any, **kwargs: Any) -> Any:
        nonlocal whatifs
        whatifs += 1
        return evaluate(self, *args, **kwargs)

    def observed(self: changes.Person, *args: Any, **kwargs: Any) -> Any:
        nonlocal whatifs
        whatifs += 1
        return observe(self, *args, **kwargs)

    def reevaluated(self: Reevaluation, *args: Any, **kwargs: Any) -> Any:
        nonlocal again
        again += 1
        return outcomes(self, *args, **kwargs)

    builders = {name: getattr(brief, name) for name in SECTIONS}
    rounds: list[tuple[float, Counter[str]]] = []
    tracing = 0.0  # the trace lines, made after each brief as the run's workers make them
    rendering: Counter[str] = Counter()  # each template, rendered after each brief
    for _ in range(1 if args.once else 3):
        spent: Counter[str] = Counter()
        for name, builder in builders.items():
            setattr(brief, name, _timed(name, builder, spent))
        total = 0.0
        for start, end in _spans(first, people):
            with view.reading(start, end), renderer.many():
                for index in range(start, end):
                    clock = time.thread_time()
                    context = view.brief(index)
                    built = time.thread_time()
                    total += built - clock
                    for name in TEMPLATES:
                        renderer.render(name, context)
                        rendered = time.thread_time()
                        rendering[name] += rendered - built
                        built = rendered
                    record.unchained_line(result, index)
                    tracing += time.thread_time() - built
        rounds.append((total, spent))
    for name, builder in builders.items():
        setattr(brief, name, builder)
    total, spent = min(rounds, key=lambda r: r[0])
    changes.Person.evaluate = counted  # type: ignore[method-assign]
    changes.Person.observe = observed  # type: ignore[method-assign]
    Reevaluation.outcomes = reevaluated  # type: ignore[method-assign]
    for index in range(first, people):
        res = result.results[index]
        brief.what_would_change(view, res.employee_id, res.evaluation.outcomes, res.evaluation)
    how = f"people {first + 1}-{people} once" if args.once else "best of 3 rounds"
    print(f"{args.workbook.name}: {people} of {len(result.results)} people, {how}")
    people -= first
    print(f"  brief contexts: {1000 * total / people:.2f} CPU ms a person")
    besides = total - spent["what_would_change"]
    print(f"    {'(but what_would_change)':<20} {1000 * besides / people:.3f}")
    for name, seconds in spent.most_common():
        print(f"    {name:<20} {1000 * seconds / people:.3f}")
    print(f"    {'(the rest)':<20} {1000 * (total - sum(spent.values())) / people:.3f}")
    print(f"  what-if evaluations: {whatifs / people:.1f} a person")
    print(f"    of them worked out by re-evaluating decisions: {again / people:.1f} a person")
    print(f"  trace lines: {1000 * tracing / len(rounds) / people:.3f} CPU ms a person")
    templates = sum(rendering.values()) / len(rounds) / people
    print(f"  templates: {1000 * templates:.3f} CPU ms a person")
    for name in TEMPLATES:
        print(f"    {name:<20} {1000 * rendering[name] / len(rounds) / people:.3f}")


def _spans(first: int, end: int) -> list[tuple[int, int]]:
    """The people ``first`` to ``end`` in spans of 250, as the run's workers take them
    (``report.publish``): each span's rows are read a sheet at a time."""
    return [(start, min(start + 250, end)) for start in range(first, end, 250)]


if __name__ == "__main__":
    main()
