"""Jinja's code generator with cheaper paths for what a brief does most: read an
attribute of the context's data and print a plain string.

A brief prints some 800 values and reads some 900 attributes; Jinja compiles each
read to ``environment.getattr(obj, name)`` (the sandbox's check, a Python call) and
each printed value to ``escape(value)`` (HTML) or ``str(environment.finalize(value))``
(Markdown), another Python call or two. Here the compiled template takes a shortcut
only where the result is known to be the same:

- ``obj.name`` is read directly when ``type(obj)`` is in the environment's
  ``fast_types(name)``: types registered beforehand as data the sandbox allows (the
  fields of the context dataclasses, a loop's counters). Any other read, including
  every one a template could use to reach Python, goes through the sandbox as before.
- A value that is exactly ``str`` is printed with the environment's ``escape_text``
  (autoescaped output) or ``finalize_text`` (finalized output): functions of a string
  giving the same text as the long way. Anything else goes the long way.
- The pieces of one output node are yielded as one string, not each through the
  generators of every block and layout around it.

Each shortcut names the value once (``tr_v := value``); the code is otherwise Jinja's,
and ``tests/test_template_codegen.py`` holds its output to the bytes Jinja's own gives.
"""

from __future__ import annotations

import keyword
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst


def _plain_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


class FastCodeGenerator(CodeGenerator):
    """Used by ``render._Sandbox`` (its ``code_generator_class``)."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # The shortcuts' tables, module globals of the compiled template: for each
        # attribute name the template reads, the types whose field it is (tr_f_NAME).
        self.writeline("tr_escape = environment.escape_text")
        self.writeline("tr_finalize = environment.finalize_text")
        self._fast_names = sorted(
            {n.attr for n in node.find_all(nodes.Getattr) if _plain_name(n.attr)}
        )
        for name in self._fast_names:
            self.writeline(f"tr_f_{name} = environment.fast_types({name!r})")
        super().visit_Template(node, frame)

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        name = node.attr
        if self.environment.is_async or name not in getattr(self, "_fast_names", ()):
            super().visit_Getattr(node, frame)
            return
        self.write(f"(tr_o.{name} if type(tr_o := ")
        self.visit(node.node, frame)
        self.write(f") in tr_f_{name} else environment.getattr(tr_o, {name!r}))")

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        # Jinja yields each piece of an output node ("<td>", a value, "</td>"...) on its
        # own, and every piece climbs through the generators of the blocks and layouts
        # around it; here the node's pieces are gathered and yielded as one string.
        if (
            frame.buffer is not None
            or frame.require_output_check
            or self.environment.is_async
            or len(node.nodes) < 2
        ):
            super().visit_Output(node, frame)
            return
        self.writeline("tr_pieces = []")
        frame.buffer = "tr_pieces"
        try:
            super().visit_Output(node, frame)
        finally:
            frame.buffer = None
        self.writeline("yield ''.join(tr_pieces)")

    def _shortcut(self, frame: Frame, finalize: Any) -> str | None:
        """The function printing an exact str in this frame, if there is one."""
        env: Any = self.environment
        if frame.eval_ctx.volatile:
            return None
        if frame.eval_ctx.autoescape:
            return "tr_escape" if finalize.src is None and env.escape_text else None
        if finalize.src == "environment.finalize(" and env.finalize_text:
            return "tr_finalize"
        return None

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        shortcut = self._shortcut(frame, finalize)
        if shortcut is None:
            super()._output_child_pre(node, frame, finalize)
        else:
            self.write(f"({shortcut}(tr_v) if type(tr_v := ")

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if self._shortcut(frame, finalize) is None:
            super()._output_child_post(node, frame, finalize)
            return
        self.write(") is str else ")
        super()._output_child_pre(node, frame, finalize)
        self.write("tr_v")
        super()._output_child_post(node, frame, finalize)
        self.write(")")
