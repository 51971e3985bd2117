"""Print docs/outputs.md's "Template context reference" from the context dataclasses.

Usage: python scripts/context_docs.py > /tmp/reference.md (then paste it under the
heading). tests/test_report.py checks that every field's help text is in the docs.
"""

from __future__ import annotations

import dataclasses
import typing

from talentrules.report import CONTEXT_TYPES


def classes() -> list[type]:
    """Every context dataclass, each after the one that first names it."""
    found: list[type] = []

    def visit(kind: object) -> None:
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            if kind in found:
                return
            found.append(kind)
            for hint in typing.get_type_hints(kind).values():
                visit(hint)
            return
        for arg in typing.get_args(kind):
            visit(arg)

    for kind in CONTEXT_TYPES:
        visit(kind)
    return found


def main() -> None:
    for kind in classes():
        print(f"### `{kind.__name__}`\n")
        print(" ".join((kind.__doc__ or "").split()) + "\n")
        print("| field | meaning |\n|---|---|")
        for f in dataclasses.fields(kind):
            print(f"| `{f.name}` | {f.metadata['help']} |")
        print()


if __name__ == "__main__":
    main()
