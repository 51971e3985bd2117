"""What the brief templates cost: HTML and Markdown of every person's brief rendered from
contexts built beforehand, in CPU milliseconds a person (contexts and files apart:
``bench_briefs.py`` measures the contexts, ``bench_evaluate.py`` the whole run).

    .venv/bin/python benchmarks/bench_templates.py --workbook /tmp/scale/p1000.xlsx
    .venv/bin/python benchmarks/bench_templates.py --workbook /tmp/scale/p1000.xlsx \\
        --against /tmp/main-checkout --repeat 3 --rules /tmp/rules-copy

Each measurement runs in a fresh interpreter: the run is evaluated, the first
``--people`` brief contexts are built, rendered once to warm up (compiling the
templates), then rendered ``--rounds`` times; the best round is kept. With
``--fresh`` each round renders other people, each once, as a run's workers meet them
(texts seen for the first time, escaped for the first time). CPU is the thread's,
inside ``Renderer.many`` as the workers render. With
``--against DIR`` another checkout (its ``talentrules`` and templates, imported from
DIR) is measured too, alternating with this one ``--repeat`` times, so that both meet
the same load; the rendered bytes of the two are compared (give both the same
``--rules`` folder: a brief names the rulebook's path).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def child(
    workbook: Path, rules: Path | None, people: int, rounds: int, fresh: bool
) -> dict[str, Any]:
    """One measurement in this process."""
    from talentrules.report.builder import ContextBuilder
    from talentrules.report.render import Renderer
    from talentrules.run import evaluate_workbook

    result = evaluate_workbook(workbook, rules, jobs=1)
    builder = ContextBuilder(result)
    count = min(people, len(result.results) // (rounds + 1 if fresh else 1))
    spans = [range(count)] * rounds
    if fresh:  # each round its own people, after the warm-up's
        spans = [range(count * (n + 1), count * (n + 2)) for n in range(rounds)]
    contexts = {index: builder.brief(index) for span in [range(count), *spans] for index in span}
    renderer = Renderer()
    digest = hashlib.sha256()
    best = {"brief.html.j2": float("inf"), "brief.md.j2": float("inf")}
    with renderer.many():  # as the workers render
        for index in range(count):
            for name in best:
                digest.update(renderer.render(name, contexts[index]).encode("utf-8"))
        for span in spans:
            for name in best:
                start = time.thread_time()
                for index in span:
                    renderer.render(name, contexts[index])
                best[name] = min(best[name], time.thread_time() - start)
        for span in spans if fresh else ():  # what the rounds rendered, compared too
            for index in span:
                for name in best:
                    digest.update(renderer.render(name, contexts[index]).encode("utf-8"))
    return {
        "people": count,
        "html_ms": 1000 * best["brief.html.j2"] / count,
        "md_ms": 1000 * best["brief.md.j2"] / count,
        "sha256": digest.hexdigest(),
    }


def measure(args: argparse.Namespace, against: Path | None) -> dict[str, Any]:
    env = dict(os.environ)
    if against is not None:
        env["PYTHONPATH"] = str(against)
    command = [sys.executable, __file__, "--child", "--workbook", str(args.workbook)]
    command += ["--people", str(args.people), "--rounds", str(args.rounds)]
    if args.fresh:
        command.append("--fresh")
    if args.rules is not None:
        command += ["--rules", str(args.rules)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    found: dict[str, Any] = json.loads(out.stdout)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workbook", type=Path, required=True)
    parser.add_argument("--rules", type=Path, help="rules folder (default: the packaged)")
    parser.add_argument("--people", type=int, default=1000, help="briefs rendered (first N)")
    parser.add_argument("--rounds", type=int, default=5, help="renderings; the best is kept")
    parser.add_argument("--against", type=Path, help="another checkout to measure beside this")
    parser.add_argument("--repeat", type=int, default=1, help="alternations with --against")
    parser.add_argument(
        "--fresh", action="store_true", help="each round other people, rendered once (as a run)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        found = child(args.workbook, args.rules, args.people, args.rounds, args.fresh)
        print(json.dumps(found))
        return
    runs: list[tuple[str, Path | None]] = [("this checkout", None)]
    if args.against is not None:
        runs.insert(0, (str(args.against), args.against))
    best: dict[str, dict[str, Any]] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(args.repeat):
        for label, against in runs:
            found = measure(args, against)
            total = found["html_ms"] + found["md_ms"]
            print(f"  {label}: {total:.3f} ms", file=sys.stderr)
            if label not in best or total < best[label]["html_ms"] + best[label]["md_ms"]:
                best[label] = found
    loads.append(os.getloadavg()[0])
    people = next(iter(best.values()))["people"]
    print(f"{args.workbook.name}: {people} briefs, best of {args.rounds} rounds x {args.repeat}")
    for label, _ in runs:
        found = best[label]
        total = found["html_ms"] + found["md_ms"]
        print(
            f"  {label}: templates {total:.3f} CPU ms a person "
            f"(HTML {found['html_ms']:.3f}, Markdown {found['md_ms']:.3f}); "
            f"output sha256 {found['sha256'][:16]}"
        )
    if len(runs) == 2:
        first, second = (best[label] for label, _ in runs)
        ratio = (first["html_ms"] + first["md_ms"]) / (second["html_ms"] + second["md_ms"])
        same = "identical" if first["sha256"] == second["sha256"] else "DIFFERENT"
        print(f"  ratio {runs[0][0]} / this checkout: {ratio:.2f}; outputs {same}")
    print(f"  load average: {loads[0]:.1f} at the start, {loads[1]:.1f} at the end (2 cores)")


if __name__ == "__main__":
    main()
