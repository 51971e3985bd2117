"""Places in a rulebook: a line of a file, or a cell of a workbook that stands for one
(``Cell``: an int that prints as ``Heart!D7``), so every message names either alike."""

from __future__ import annotations

import yaml


class Cell(int):
    """The place of a value read from a rulebook workbook: ``Heart!D7``.

    It stands where a line number stands (``Rule.line``, ``Diagnostic.line``): an int
    (the cell's order in the workbook: sheet, row, column) so that sorting by line
    and every ``file``/``line`` pair work unchanged, printed as the cell.
    """

    ref: str

    def __new__(cls, order: int, ref: str) -> Cell:
        cell = super().__new__(cls, order)
        cell.ref = ref
        return cell

    def __str__(self) -> str:
        return self.ref

    def __repr__(self) -> str:
        return f"Cell({int(self)}, {self.ref!r})"

    def __reduce__(self) -> tuple[type[Cell], tuple[int, str]]:
        return (Cell, (int(self), self.ref))


class CellMark(yaml.Mark):
    """A YAML node's mark for a value read from a workbook cell."""

    def __init__(self, cell: Cell) -> None:
        super().__init__(cell.ref, 0, int(cell), 0, None, 0)
        self.cell = cell


def where(file: str, line: int) -> str:
    """A place as messages name it: ``rules/20-heart.yaml:14``, ``rulebook.xlsx: Heart!D7``."""
    return f"{file}: {line}" if isinstance(line, Cell) else f"{file}:{line}"


def line_and_cell(line: int | None) -> tuple[int | None, str | None]:
    """A place as JSON gives it: (the line, None) in a file, (None, "Heart!D7") in a
    workbook, whose Cell would otherwise print as its order number."""
    if isinstance(line, Cell):
        return None, line.ref
    return line, None
