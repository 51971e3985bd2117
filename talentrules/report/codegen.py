"""Jinja's code generator with cheaper paths for what a brief does most: read an
attribute of the context's data and print a plain string.

A brief prints some 800 values and reads some 900 attributes; Jinja compiles each
read to ``environment.getattr(obj, name)`` (the sandbox's check, a Python call) and
each printed value to ``escape(value)`` (HTML) or ``str(environment.finalize(value))``
(Markdown), another Python call or two. Here the compiled template takes a shortcut
only where the result is known to be the same:

- ``obj.name`` is read directly when ``type(obj)`` is in the environment's
  ``fast_types(name)`` (or is ``fast_type(name)``, where only one type has it): types
  registered beforehand as data the sandbox allows (the fields of the context
  dataclasses, a loop's counters). Any other read, including
  every one a template could use to reach Python, goes through the sandbox as before.
- A value that is exactly ``str`` is printed with the environment's ``escape_text``
  (autoescaped output) or ``finalize_text`` (finalized output): functions of a string
  giving the same text as the long way; one that is exactly ``int`` as ``str()`` gives
  it (autoescaped, or where the finalize keeps an int), and exactly ``Markup`` as it is
  where output is autoescaped. Anything else goes the long way.
- The pieces of one output node are yielded as one string (``''.join`` of a tuple),
  not each through the generators of every block and layout around it.
- A block gathers its output in a list and yields it joined: at its end, before a
  block or template it calls (yielded as they yield it), and every 256 pieces inside
  a loop, so that a long document is still streamed.
- An included template of text only is printed as its text, without a new context.
- A template's own macro given every argument in order is called as the sandbox's
  ``call`` would call it (``_Sandbox.call``), without that call.
- A loop whose body reads only the counters of ``loop`` (``loop.first``, ``loop.index``...)
  over a tuple or list pairs each item with the counters made once for that length
  (``LoopCounters``), not with Jinja's ``LoopContext``, whose every step and counter
  is a Python call; any other loop, or iterable, gets the ``LoopContext``.

Each shortcut names the value once (``tr_v := value``); the code is otherwise Jinja's,
and ``tests/test_template_codegen.py`` holds its output to the bytes Jinja's own gives.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from collections.abc import Iterable, Iterator
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.runtime import LoopContext

# The list a block gathers its output in, and how many pieces a loop lets it hold.
_BLOCK_BUFFER = "tr_b"
_BLOCK_PIECES = 256

# The buffer name an output node is compiled with here: no name, a mark for writeline.
_YIELD_JOINED = "\x00tr_yield_joined"


# How Jinja reads a name from the context: "l_0_name = resolve('name')".
_RESOLVE = re.compile(r"(l_\d+_\w+) = resolve\(('\w+')\)")


def _plain_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


@dataclasses.dataclass(frozen=True, slots=True)
class LoopCounters:
    """What ``loop`` gives at one step of a loop that is not recursive, over a sequence
    of known length: the numbers ``LoopContext`` works out at each step."""

    index0: int
    index: int
    revindex0: int
    revindex: int
    first: bool
    last: bool
    length: int
    depth0: int = 0
    depth: int = 1


# The counters a loop's body may read for it to be compiled with LoopCounters.
LOOP_COUNTERS = tuple(f.name for f in dataclasses.fields(LoopCounters))

# Loops of up to this many items keep their counters, made once (about 2,000 objects).
_KEPT_LENGTH = 64
_kept: dict[int, tuple[LoopCounters, ...]] = {}


def _counters(length: int) -> tuple[LoopCounters, ...]:
    steps = tuple(
        LoopCounters(i, i + 1, length - i - 1, length - i, i == 0, i == length - 1, length)
        for i in range(length)
    )
    if length <= _KEPT_LENGTH:
        _kept[length] = steps
    return steps


def loop_steps(iterable: Iterable[Any], undefined: Any) -> Iterator[tuple[Any, Any]]:
    """Each item with its ``loop``: a tuple or list (whose length is known and which a
    template cannot change) with LoopCounters, anything else with Jinja's LoopContext."""
    kind = type(iterable)
    if kind is tuple or kind is list:
        length = len(iterable)  # type: ignore[arg-type]
        return zip(iterable, _kept.get(length) or _counters(length), strict=False)
    return iter(LoopContext(iterable, undefined))


# Whether the types of a sequence's items are all str (a joined sequence's).
only_strings = frozenset({str}).issuperset


def _counters_only(node: nodes.For) -> bool:
    """Whether ``loop`` in the body of ``node`` is only read for its counters (never
    handed on as a value, called, or asked for ``cycle``, ``changed`` or the items; nor
    handed to a template the body includes or imports with its variables)."""
    if node.recursive or any(block.scoped for block in node.find_all(nodes.Block)):
        return False
    if any(True for _ in node.find_all((nodes.Include, nodes.Import, nodes.FromImport))):
        return False
    uses = reads = 0
    for statement in node.body:
        for name in statement.find_all(nodes.Name):
            uses += name.name == "loop" and name.ctx == "load"
        for read in statement.find_all(nodes.Getattr):
            reads += (
                isinstance(read.node, nodes.Name)
                and read.node.name == "loop"
                and read.attr in LOOP_COUNTERS
            )
    return uses == reads


class FastCodeGenerator(CodeGenerator):
    """Used by ``render._Sandbox`` (its ``code_generator_class``)."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # The shortcuts' tables, module globals of the compiled template: for each
        # attribute name the template reads, the types whose field it is (tr_f_NAME),
        # or the type, where only one has it (a test of identity is cheaper).
        self.writeline("tr_escape = environment.escape_text")
        self.writeline("tr_finalize = environment.finalize_text")
        self.writeline("from talentrules.report.codegen import loop_steps as tr_loop")
        self.writeline("from talentrules.report.codegen import only_strings as tr_only_str")
        self.writeline("tr_markup = environment.markup")
        self.writeline("tr_deadline = environment.deadline")
        self._fast_names = sorted(
            {n.attr for n in node.find_all(nodes.Getattr) if _plain_name(n.attr)}
        )
        env: Any = self.environment
        self._one_type = {name for name in self._fast_names if len(env.fast_types(name)) == 1}
        for name in self._fast_names:
            table = "fast_type" if name in self._one_type else "fast_types"
            self.writeline(f"tr_f_{name} = environment.{table}({name!r})")
        # A template of text only (no tag, no value: the brief's style sheet) renders
        # the same whatever the context: its text, for an include (visit_Include).
        outputs = [child for child in node.body if isinstance(child, nodes.Output)]
        pieces = [piece for output in outputs for piece in output.nodes]
        if len(outputs) == len(node.body) and all(
            isinstance(piece, nodes.TemplateData) for piece in pieces
        ):
            text = "".join(piece.data for piece in pieces if isinstance(piece, nodes.TemplateData))
            self.writeline(f"tr_static = {text!r}")
        super().visit_Template(node, frame)

    def visit_Include(self, node: nodes.Include, frame: Frame) -> None:
        unbuffered = self._unbuffered(frame)
        try:
            self._include(node, frame)
        finally:
            if unbuffered:
                frame.buffer = _BLOCK_BUFFER

    def _include(self, node: nodes.Include, frame: Frame) -> None:
        # Jinja renders an included template in a new context made from every variable
        # of the including one; a template of text only needs none.
        simple = (
            node.with_context
            and not node.ignore_missing
            and not self.environment.is_async
            and isinstance(node.template, nodes.Const)
            and isinstance(node.template.value, str)
        )
        if not simple:
            super().visit_Include(node, frame)
            return
        self.writeline("template = environment.get_template(", node)
        self.visit(node.template, frame)
        self.write(f", {self.name!r})")
        self.writeline("tr_s = template.root_render_func.__globals__.get('tr_static')")
        self.writeline("if tr_s is not None:")
        self.indent()
        self.simple_write("tr_s", frame)
        self.outdent()
        self.writeline("else:")
        self.indent()
        super().visit_Include(node, frame)  # gets the template again: from the cache
        self.outdent()

    def enter_frame(self, frame: Frame) -> None:
        super().enter_frame(frame)
        # A block's output is gathered in a list and yielded joined (at its end, before
        # a block or template it calls, and every _BLOCK_PIECES pieces in a loop), not
        # piece by piece through the generators of the blocks and layout around it.
        if (
            frame.block_frame
            and frame.parent is None
            and frame.buffer is None
            and not self.environment.is_async
        ):
            frame.buffer = _BLOCK_BUFFER
            self.writeline(f"{_BLOCK_BUFFER} = []")

    def leave_frame(self, frame: Frame, with_python_scope: bool = False) -> None:
        super().leave_frame(frame, with_python_scope)
        if frame.block_frame and frame.parent is None and frame.buffer == _BLOCK_BUFFER:
            self.writeline(f"if {_BLOCK_BUFFER}: yield concat({_BLOCK_BUFFER})")

    def _unbuffered(self, frame: Frame) -> bool:
        """Yield what a block gathered so far, if ``frame`` gathers it: before it calls a
        block or includes a template, whose output is yielded as they yield it."""
        if frame.buffer != _BLOCK_BUFFER:
            return False
        self.writeline(f"if {_BLOCK_BUFFER}:")
        self.indent()
        self.writeline(f"yield concat({_BLOCK_BUFFER})")
        self.writeline(f"{_BLOCK_BUFFER}.clear()")
        self.outdent()
        frame.buffer = None
        return True

    def visit_Block(self, node: nodes.Block, frame: Frame) -> None:
        unbuffered = self._unbuffered(frame)
        super().visit_Block(node, frame)
        if unbuffered:
            frame.buffer = _BLOCK_BUFFER

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        # Jinja writes "LOOP in LoopContext(" before the iterable (write, below), and
        # "_loop_vars = {}" first in the loop's body (writeline: a gathering block's
        # pieces are yielded there once there are enough).
        self._loop_steps = not self.environment.is_async and _counters_only(node)
        self._loop_yields = frame.buffer == _BLOCK_BUFFER and not node.recursive
        super().visit_For(node, frame)

    def write(self, x: str) -> None:
        if getattr(self, "_loop_steps", False) and x.endswith(" in LoopContext("):
            self._loop_steps = False
            x = x[: -len("LoopContext(")] + "tr_loop("
        super().write(x)

    @optimizeconst
    def visit_Filter(self, node: nodes.Filter, frame: Frame) -> None:
        # The sandbox's join filter, by a constant string: a tuple or list of plain
        # strings is joined here, as that filter joins it, without calling it (a brief
        # joins some twenty: a rule's values read, the habitual signals).
        env: Any = self.environment
        if not (
            node.name == "join"
            and node.node is not None
            and not env.is_async
            and env.filters.get("join") is getattr(env, "plain_join", None)
            and not (node.kwargs or node.dyn_args or node.dyn_kwargs)
            and len(node.args) <= 1
            and all(isinstance(a, nodes.Const) and type(a.value) is str for a in node.args)
        ):
            super().visit_Filter(node, frame)
            return
        separator = node.args[0].value if node.args else ""  # type: ignore[attr-defined]
        value = f"tr_j{self.temporary_identifier()}"
        self.write(f"({separator!r}.join({value}) if (type({value} := ")
        self.visit(node.node, frame)
        self.write(f") is tuple or type({value}) is list) and tr_only_str(map(type, {value}))")
        self.write(f" else {self.filters['join']}(context.eval_ctx, {value}, {separator!r}))")

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        # Jinja compiles every call to environment.call (the sandbox's check); a
        # template's own macro given every argument in order (an HTML brief calls some
        # fifteen) is called here as _Sandbox.call would call it, without that call or
        # Markup's constructor in Python. Each call site names its callee and arguments
        # (tr_mN, tr_aN): an argument may itself be a call.
        if (
            forward_caller
            or self.environment.is_async
            or node.kwargs
            or node.dyn_args
            or node.dyn_kwargs
            or frame.eval_ctx.volatile
            or not hasattr(self.environment, "deadline")
        ):
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        site = self.temporary_identifier()
        callee, args = f"tr_m{site}", f"tr_a{site}"
        made = "tr_markup" if frame.eval_ctx.autoescape else ""
        self.write(f"({made}({callee}._func(*{args})) if (({callee} := ")
        self.visit(node.node, frame)
        self.write(f"), ({args} := (")
        for arg in node.args:
            self.visit(arg, frame)
            self.write(", ")
        self.write(f"))) and type({callee}) is Macro and {callee}._argument_count == ")
        self.write(f"{len(node.args)} and not ({callee}.caller or {callee}.catch_kwargs")
        self.write(f" or {callee}.catch_varargs or tr_deadline.poll) else ")
        self.write(f"environment.call(context, {callee}, *{args}")
        extra = {"_loop_vars": "_loop_vars"} if frame.loop_frame else {}
        if frame.block_frame:
            extra["_block_vars"] = "_block_vars"
        for key, value in extra.items():
            self.write(f", {key}={value}")
        self.write("))")

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        name = node.attr
        if self.environment.is_async or name not in getattr(self, "_fast_names", ()):
            super().visit_Getattr(node, frame)
            return
        self.write(f"(tr_o.{name} if type(tr_o := ")
        self.visit(node.node, frame)
        test = "is" if name in self._one_type else "in"
        self.write(f") {test} tr_f_{name} else environment.getattr(tr_o, {name!r}))")

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
        # Jinja writes the pieces into a buffer (``BUFFER.extend((...))``, or
        # ``BUFFER.append(...)`` for one); writeline turns that into a yield of their join.
        frame.buffer = _YIELD_JOINED
        try:
            super().visit_Output(node, frame)
        finally:
            frame.buffer = None

    def writeline(self, x: str, node: nodes.Node | None = None, extra: int = 0) -> None:
        resolved = _RESOLVE.fullmatch(x)
        if resolved:
            # A name read from the context where a function starts (a brief's blocks
            # read some fifty): Context.resolve_or_missing's two lookups, written out.
            target, key = resolved.groups()
            x = (
                f"{target} = context.vars[{key}] if {key} in context.vars"
                f" else context.parent.get({key}, missing)"
            )
        if x == "_loop_vars = {}" and getattr(self, "_loop_yields", False):
            self._loop_yields = False
            super().writeline(x, node, extra)
            x = (
                f"if len({_BLOCK_BUFFER}) >= {_BLOCK_PIECES}:"
                f" yield concat({_BLOCK_BUFFER}); {_BLOCK_BUFFER}.clear()"
            )
        if x.startswith(_YIELD_JOINED):
            call = x[len(_YIELD_JOINED) :]
            x = {".extend((": "yield ''.join((", ".append(": "yield str("}[call]
        super().writeline(x, node, extra)

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
        shortcut = self._shortcut(frame, finalize)
        if shortcut is None:
            super()._output_child_post(node, frame, finalize)
            return
        self.write(") is str else ")
        # An exact int prints as its digits: escape() gives them as they are, and a
        # finalize that keeps an int (``int_kept``) leaves them to str(). Markup (a
        # macro's result) is escaped as itself.
        if shortcut == "tr_escape" or getattr(self.environment, "int_kept", False):
            self.write("str(tr_v) if type(tr_v) is int else ")
        if shortcut == "tr_escape":
            self.write("tr_v if type(tr_v) is Markup else ")
        super()._output_child_pre(node, frame, finalize)
        self.write("tr_v")
        super()._output_child_post(node, frame, finalize)
        self.write(")")
