"""Node trees -> YAML text, laid out as the rule files in rules/ are written.

``rules import`` writes these texts, and a rulebook workbook is hashed over them, so
the same workbook always gives the same bytes: the hash of a workbook is the hash of
the folder it imports to.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

WIDTH = 80  # PyYAML folds past this column: lines stay under about 90
STR = "tag:yaml.org,2002:str"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"
NULL = "tag:yaml.org,2002:null"
FLOW_UNDER = 70  # a list of short scalars under this is written on one line
BLOCK_LISTS = frozenset({"when", "all", "any", "not"})  # conditions: one a line, as rules/
# What a flow list would have to quote: such lists are written one item a line.
_QUOTED_IN_FLOW = re.compile(r"[,\[\]{}#&*!|>'\"%@`]|: ")


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key (``  - id: x``), as rules/ writes them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def emit(node: yaml.Node, header: str = "") -> str:
    """The YAML text of a node tree, with ``header`` as comment lines above it."""
    text = yaml.serialize(node, Dumper=_Dumper, width=WIDTH, allow_unicode=True)
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    return "\n".join([*lines, text]) if lines else text


def style(node: yaml.Node, indent: int = 0, lead: int = 0, block: bool = False) -> yaml.Node:
    """Give a node tree the layout of rules/: prose that does not fit its line folded,
    short lists of names on one line (conditions one a line), mappings as blocks.
    ``indent`` is the node's block indentation, ``lead`` the columns its line holds
    before it, ``block`` asks for a list one item a line."""
    if isinstance(node, yaml.ScalarNode):
        too_long = lead + len(node.value) > WIDTH
        if node.tag == STR and too_long and "\n" not in node.value and node.value.strip():
            node.style = ">"
        return node
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            style(item, indent + 2, indent + 2)
        plain = all(
            isinstance(item, yaml.ScalarNode) and not _QUOTED_IN_FLOW.search(item.value)
            for item in node.value
        )
        length = sum(len(item.value) + 2 for item in node.value)
        node.flow_style = not node.value or (plain and block is False and length < FLOW_UNDER)
        if node.flow_style:
            for item in node.value:
                item.style = None  # a flow list cannot hold a folded scalar
        return node
    assert isinstance(node, yaml.MappingNode)
    node.flow_style = not node.value
    for key, value in node.value:
        style(key, indent, indent)
        key.style = None
        style(value, indent + 2, indent + len(str(key.value)) + 2, key.value in BLOCK_LISTS)
    return node
