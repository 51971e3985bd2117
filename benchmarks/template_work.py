"""A fixed amount of template work, for counting its instructions under valgrind
(CPU times on a shared machine swing by a third between runs).

    .venv/bin/python benchmarks/template_work.py --dump /tmp/ctx.pkl \\
        --workbook /tmp/scale/p1000.xlsx --rules RULES-COPY       # once
    PYTHONHASHSEED=0 PYTHONPATH=TREE valgrind --tool=callgrind \\
        --callgrind-out-file=cg.MODE .venv/bin/python benchmarks/template_work.py \\
        /tmp/ctx.pkl MODE                                         # MODE: A, then C

The brief contexts are built once and pickled, so that every tree renders the same
ones (and the count holds no evaluation). Mode A renders the first ``--warm`` briefs
in HTML and Markdown inside ``Renderer.many``, as a worker does; mode C then renders
every other one, each once. C minus A, over the briefs after the warm ones, is the
templates' count a person. ``--digest`` prints the SHA-256 of what C renders.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
from pathlib import Path

from talentrules.report.builder import ContextBuilder
from talentrules.report.render import Renderer
from talentrules.run import evaluate_workbook

TEMPLATES = ("brief.html.j2", "brief.md.j2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("contexts", type=Path, help="pickled brief contexts")
    parser.add_argument("mode", nargs="?", choices=("A", "C"), default="C")
    parser.add_argument("--dump", action="store_true", help="build and pickle the contexts")
    parser.add_argument("--workbook", type=Path, default=Path("/tmp/scale/p1000.xlsx"))
    parser.add_argument("--rules", type=Path, help="rules folder (default: the packaged)")
    parser.add_argument("--people", type=int, default=600, help="contexts dumped")
    parser.add_argument("--warm", type=int, default=100, help="briefs rendered first")
    parser.add_argument("--digest", action="store_true")
    args = parser.parse_args()
    if args.dump:
        view = ContextBuilder(evaluate_workbook(args.workbook, args.rules, jobs=1))
        with view.reading(0, args.people):
            contexts = [view.brief(index) for index in range(args.people)]
        args.contexts.write_bytes(pickle.dumps(contexts, protocol=5))
        return
    contexts = pickle.loads(args.contexts.read_bytes())  # noqa: S301 (our own file)
    renderer = Renderer()
    digest = hashlib.sha256()
    with renderer.many():
        for context in contexts[: args.warm]:
            for name in TEMPLATES:
                renderer.render(name, context)
        if args.mode == "C":
            for context in contexts[args.warm :]:
                for name in TEMPLATES:
                    text = renderer.render(name, context)
                    if args.digest:
                        digest.update(text.encode("utf-8"))
    if args.digest:
        print(digest.hexdigest())


if __name__ == "__main__":
    main()
