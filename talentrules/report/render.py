"""Rendering: the compiled templates and the escaping each output language needs.

The only module of the package that imports jinja2's template machinery for
documents. Workbook values reach the templates as plain data and are escaped on the
way out: HTML by Jinja's autoescape, Markdown by ``md_escape`` (applied to every
``{{ }}``), terminal text by stripping control characters.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import operator
import re
import signal as os_signal  # 'signal' is a domain word here (Evidence signals)
import stat
import textwrap
import threading
import time
import traceback
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from types import BuiltinMethodType, FrameType, MethodType
from typing import Any, NoReturn

import jinja2
import markupsafe
from jinja2.filters import sync_do_join
from jinja2.loaders import split_template_path
from jinja2.nodes import EvalContext
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from talentrules.errors import OutputError
from talentrules.paths import default_templates_dir
from talentrules.report import contexts
from talentrules.report.codegen import LOOP_COUNTERS, FastCodeGenerator, LoopCounters
from talentrules.report.contexts import BriefContext, SummaryContext

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&$])")
_MD_PLAIN = re.compile(r"(?![-+=>\s]|\d+[.)](\s|$))[^\\`*_{}\[\]<>#|~&$\x00-\x1f\x7f-\x9f]*")
_MD_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)](\s|$)))")


def md_escape(value: object) -> str:
    """Make ``value`` show literally in Markdown (and the HTML Markdown becomes).

    Line breaks become spaces (values sit inline and in table cells); Markdown and
    HTML specials get a backslash; a leading list or heading marker is neutralised.
    """
    text = str(value)
    if _MD_PLAIN.fullmatch(text):  # the common case: nothing to escape
        return text
    text = re.sub(r"\s+", " ", _CONTROL.sub(" ", text))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    match = _MD_LINE_START.match(text)
    if match:
        text = f"{match.group(1)}\\{text[match.end(1) :]}"
        if match.group(2)[:1].isdigit():  # "1. item": escape the dot, not the digit
            digits = match.group(2)
            text = f"{match.group(1)}{digits}\\{text[len(match.group(1)) + 1 + len(digits) :]}"
    return text


# The UTF-8 bytes of the characters md_escape changes: _MD_PLAIN's specials and
# controls (C1 controls are two bytes, 0xC2 then one of 0x80-0x9F), marked 0 here.
_MD_UNSAFE_BYTES = bytes(range(0x20)) + b"\\`*_{}[]<>#|~&$\x7f" + bytes(range(0x80, 0xA0))
_MD_BYTE_SAFE = bytes(0 if byte in _MD_UNSAFE_BYTES else 1 for byte in range(256))


def _md_plain(text: str) -> bool:
    """Whether md_escape leaves ``text`` as it is (``_MD_PLAIN.fullmatch``). Most texts
    a Markdown brief meets for the first time (some forty) are told by their UTF-8
    bytes, at a third of the regular expression's cost: no byte of a special or
    control character (another character's byte from 0x80 to 0x9F only sends the
    text to the expression), and a first character that starts no list, quote or
    heading."""
    first = text[:1]
    if (
        first
        and first not in "-+=>"
        and not first.isspace()
        and not first.isdigit()
        and 0 not in text.encode("utf-8", "surrogatepass").translate(_MD_BYTE_SAFE)
    ):
        return True
    return _MD_PLAIN.fullmatch(text) is not None


# Texts kept escaped for Markdown: only short ones (a long text, an observation or a
# statement, seldom repeats), so the cache holds at most about 64 MB (65,536 texts of
# up to 256 characters), however long the cells. Once full it keeps what it has.
_MD_KEPT_LENGTH = 256
_MD_KEPT = 1 << 16


class _MarkdownTexts(dict[str, str]):
    """Texts escaped for Markdown, by the text: a text seen before is found by the
    dict's own lookup, with no Python call (Markdown templates print some 180 a brief)."""

    def __missing__(self, text: str) -> str:
        # Most texts met once (a person's own cells, dates, observations) need nothing.
        escaped = text if _md_plain(text) else md_escape(text)
        if len(text) <= _MD_KEPT_LENGTH and len(self) < _MD_KEPT:
            self[text] = escaped
        return escaped


_md_texts = _MarkdownTexts()
_md_text: Callable[[str], str] = _md_texts.__getitem__  # a plain str escaped for Markdown


def _md_finalize(value: object) -> object:
    # Runs on every {{ }} of a Markdown template: workbook text comes out escaped.
    # Text marked safe (|safe, Markup) passes unchanged; workbook values repeat a lot
    # (contexts, sources, outcomes), hence the cache.
    if type(value) is not str:
        if type(value) is int:
            return value
        if hasattr(value, "__html__"):
            return value.__html__()
        value = str(value)
    return _md_text(value)


def strip_controls(text: str) -> str:
    """Terminal text without control characters (a workbook cell must not drive it)."""
    return _CONTROL.sub("?", text)


def _text_finalize(value: object) -> object:
    # Terminal output: a control character in a workbook cell must not drive the terminal.
    return _CONTROL.sub("?", str(value))


_CSS_UNSAFE = re.compile(r"[^A-Za-z0-9 .,:;()/_\-\u00a0-\uffff]")


# Texts kept as CSS strings: an HTML document's margins print two or three, the same
# for every brief of a run (the confidentiality line, the cycle). At most 1,024 texts
# of up to 256 characters; once full it keeps what it has.
_CSS_KEPT: dict[str, Markup] = {}


def css_string(value: object) -> Markup:
    """A value as a quoted CSS string, safe inside a <style> element: every character
    that could end the string, the declaration or the element is a CSS escape."""
    kept = _CSS_KEPT.get(value) if type(value) is str else None
    if kept is not None:
        return kept
    text = _CONTROL.sub(" ", str(value))
    escaped = _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group(0)):x} ", text)
    made = Markup(f'"{escaped}"')
    if type(value) is str and len(value) <= 256 and len(_CSS_KEPT) < 1024:
        _CSS_KEPT[value] = made
    return made


def _wrap(text: str, width: int = 80, indent: str = "", first: str | None = None) -> str:
    """Jinja filter for the terminal template: wrap to ``width`` columns."""
    return textwrap.fill(
        " ".join(str(text).split()),
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )


TEMPLATE_NAMES = ("brief.html.j2", "brief.md.j2", "summary.html.j2", "summary.md.j2")
# CPU seconds one rendering of one template may take (docs/outputs.md): the packaged
# ones take milliseconds for a brief and about a second for a 10,000-person summary.
TEMPLATE_SECONDS = 20.0
MAX_TEMPLATE_BYTES = 1024 * 1024


class _TemplateTimeout(Exception):
    """A template rendering ran past TEMPLATE_SECONDS."""


class _Deadline(threading.local):
    """This thread's deadline (thread CPU clock) while rendering, and whether it checks
    the clock at every call a template makes (``poll``: no CPU timer in this thread)."""

    at: float | None = None
    poll = False
    kept = False  # inside _handler_kept


_DEADLINE = _Deadline()
_MISSING = object()


def _time_up() -> NoReturn:
    """Raise the timeout once. In the main thread both the timer and the clock checks
    run, and Jinja spends a while rewriting the first one's traceback: the other must
    not fire inside that rewrite, where no template line is left to name."""
    _DEADLINE.at = None
    if threading.current_thread() is threading.main_thread():
        os_signal.setitimer(os_signal.ITIMER_PROF, 0)
    raise _TemplateTimeout


def _past_deadline() -> None:
    deadline = _DEADLINE.at
    if deadline is not None and time.thread_time() > deadline:
        _time_up()


def _on_timer(signum: int, frame: FrameType | None) -> None:
    # The timer counts the whole process's CPU; other threads (a pool, a test runner's)
    # may have spent part of it. Stop only once this thread has spent its own seconds,
    # else wait for the rest: a rendering is never stopped early, nor before it began.
    deadline = getattr(_DEADLINE, "at", None)
    if deadline is None:
        return
    left = deadline - time.thread_time()
    if left > 0:
        os_signal.setitimer(os_signal.ITIMER_PROF, max(left, 0.001))
        return
    _time_up()


class _TimeLimit:
    """Stop a rendering after ``seconds`` of CPU. In the main thread (the CLI, each
    worker process) a CPU-time timer interrupts anything, even a loop that calls
    nothing; in other threads the sandbox checks the clock at every call a template
    makes (loops, macros, filters' methods). A class, not a generator's context
    manager: entered twice a brief, where that would cost a quarter as much again."""

    __slots__ = ("seconds", "timer", "handle", "previous")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        _DEADLINE.at = time.thread_time() + self.seconds
        self.timer = timer = threading.current_thread() is threading.main_thread()
        _DEADLINE.poll = not timer  # reading the clock costs a system call: only without a timer
        # Inside _handler_kept the handler is already in place (and stays).
        self.handle = timer and not _DEADLINE.kept
        if self.handle:
            self.previous = os_signal.signal(os_signal.SIGPROF, _on_timer)
        if timer:
            os_signal.setitimer(os_signal.ITIMER_PROF, self.seconds)

    def __exit__(self, *exc: object) -> None:
        if self.timer:
            os_signal.setitimer(os_signal.ITIMER_PROF, 0)
        if self.handle:
            os_signal.signal(os_signal.SIGPROF, self.previous)
        _DEADLINE.at = None
        _DEADLINE.poll = False


@contextlib.contextmanager
def _handler_kept() -> Iterator[None]:
    """Within, in the main thread, the timer's signal handler is set once for every
    rendering rather than set and put back around each: the two ``signal.signal``
    calls cost more than the rest of the time limit (4 to 13 microseconds a
    rendering). The timer itself is armed only while a template renders."""
    if threading.current_thread() is not threading.main_thread() or getattr(
        _DEADLINE, "kept", False
    ):
        yield
        return
    previous = os_signal.signal(os_signal.SIGPROF, _on_timer)
    _DEADLINE.kept = True
    try:
        yield
    finally:
        _DEADLINE.kept = False
        os_signal.signal(os_signal.SIGPROF, previous)


def _escaped_text(text: str) -> str:
    return str(markupsafe.escape(text))


# HTML-escaping a plain str, as markupsafe.escape does it, without making a Markup of it.
_escape_str: Callable[[str], str] = getattr(markupsafe, "_escape_inner", _escaped_text)

# A loop's counters: numbers and booleans (loop.cycle and loop.changed are methods).
_LOOP_COUNTERS = ("index", "index0", "revindex", "revindex0", "first", "last", "length")


def _data_attributes() -> frozenset[tuple[type, str]]:
    """What a template reads most, known to be plain data: the fields of every context
    dataclass (built by our code from the workbook: strings, numbers, tuples and other
    contexts, never a function) and a loop's counters."""
    pairs: set[tuple[type, str]] = {(LoopContext, name) for name in _LOOP_COUNTERS}
    pairs.update((LoopCounters, name) for name in LOOP_COUNTERS)
    for kind in vars(contexts).values():
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            pairs.update((kind, f.name) for f in dataclasses.fields(kind))
    return frozenset(pairs)


_DATA_ATTRIBUTES = _data_attributes()


_ONLY_STR = frozenset({str})


@jinja2.pass_eval_context
def _join(eval_ctx: EvalContext, value: Any, d: str = "", attribute: Any = None) -> str:
    """Jinja's ``join`` filter; a tuple or list of plain strings joined by a plain
    string at once, which is what Jinja's filter gives for them, escaped or not (a
    brief joins some thirty: a rule's values read, the habitual signals)."""
    if (
        attribute is None
        and type(d) is str
        and type(value) in (tuple, list)
        and _ONLY_STR.issuperset(map(type, value))
    ):
        return d.join(value)
    return sync_do_join(eval_ctx, value, d, attribute)


class _NoType:
    """A type of which no object is ever made."""


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox (no access to Python internals, no changing the data
    handed in), with the deadline checked at every call a template makes.

    Its templates are compiled by ``codegen.FastCodeGenerator``: a read of a field of
    the context's data (``fast_attributes``) skips the sandbox's call, whose verdict
    for it is known (every pair is checked with Jinja's own test here), and a plain
    string is escaped (``escape_text``) or finalized (``finalize_text``) directly."""

    code_generator_class = FastCodeGenerator

    def __init__(
        self,
        finalize_text: Callable[[str], str] | None = None,
        int_kept: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.filters["join"] = _join
        self._safe: dict[tuple[type, str], bool] = {}
        judge = ImmutableSandboxedEnvironment.is_safe_attribute
        self.fast_attributes = frozenset(
            (kind, name)
            for kind, name in _DATA_ATTRIBUTES
            if judge(self, object.__new__(kind), name, None)
        )
        # Used where output is autoescaped; finalize_text where output is finalized
        # (it must give what str(finalize(text)) gives).
        self.escape_text: Callable[[str], str] | None = _escape_str
        self.finalize_text = finalize_text
        self.int_kept = int_kept  # finalize returns an exact int as it is

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        # Jinja chains a template's globals to the environment's (a ChainMap), and each
        # rendering copies and lists them through the ChainMap's Python methods (about
        # 15 microseconds a brief's rendering). Nothing changes the globals of these
        # environments once made: a template's own overlaid on a copy give the same.
        return {**self.globals, **(d or {})}

    def fast_types(self, name: str) -> frozenset[type]:
        """The types whose attribute ``name`` a compiled template reads directly."""
        return frozenset(kind for kind, attr in self.fast_attributes if attr == name)

    # The join filter the compiled templates may take for granted (codegen.visit_Filter).
    plain_join = staticmethod(_join)

    # For a macro called directly (codegen.visit_Call): its text made Markup (what
    # Markup() gives for a str, without its Python), and the thread's deadline, whose
    # ``poll`` sends every call through ``call`` (which checks the clock).
    markup = staticmethod(functools.partial(str.__new__, Markup))
    deadline = _DEADLINE

    def fast_type(self, name: str) -> type:
        """The type whose attribute ``name`` a compiled template reads directly, where
        there is only one (else a type no object has: every read goes the long way)."""
        kinds = self.fast_types(name)
        return next(iter(kinds)) if len(kinds) == 1 else _NoType

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Every attribute a template reads goes through here; Jinja's verdict depends
        # only on the object's type and the name (underscores, internals of functions,
        # frames and the like, methods that change lists and dicts), so it is kept.
        key = (type(obj), attr)
        safe = self._safe.get(key)
        if safe is None:
            safe = self._safe[key] = super().is_safe_attribute(obj, attr, value)
        return safe

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Jinja's own check, with its verdict kept (above): a template reads some 900
        # attributes a brief. Only a method may need wrapping (str.format), and a name
        # seen for the first time is judged by Jinja; both go the long way.
        value = getattr(obj, attribute, _MISSING)
        kind = type(value)
        if (
            value is not _MISSING
            and kind is not MethodType
            and kind is not BuiltinMethodType
            and self._safe.get((type(obj), attribute))
        ):
            return value
        return super().getattr(obj, attribute)

    def call(
        __self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if getattr(_DEADLINE, "poll", False):
            _past_deadline()
        if type(__obj) is Macro:
            # A template's own macro (an HTML brief calls some fifteen): what Jinja's
            # sandbox and Context.call do for one, without their checks, whose verdict
            # is known (a macro is safely callable and takes the caller's eval context).
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            autoescape = __context.eval_ctx.autoescape
            try:
                if (
                    not kwargs
                    and len(args) == __obj._argument_count
                    and not (__obj.caller or __obj.catch_kwargs or __obj.catch_varargs)
                    and not __obj._environment.is_async
                ):
                    # Every argument given in order: what Macro.__call__ ends in.
                    result = __obj._func(*args)
                    return Markup(result) if autoescape else result
                return __obj(__context.eval_ctx, *args, **kwargs)
            except StopIteration:
                return __context.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception"
                )
        return super().call(__context, __obj, *args, **kwargs)


class _FolderLoader(jinja2.BaseLoader):
    """Templates from one folder: regular files inside it only (a link out of it is
    refused unread), at most MAX_TEMPLATE_BYTES, UTF-8 (a bad byte named by line)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.real = folder.resolve()

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self.folder.joinpath(*split_template_path(template))
        try:
            info = path.stat()
            real = path.resolve()
        except FileNotFoundError:
            raise jinja2.TemplateNotFound(template) from None
        except (OSError, RuntimeError) as error:
            raise OutputError(f"{path}: cannot be read ({error})") from error
        if self.real not in real.parents:
            raise OutputError(f"{path}: is a link to a file outside the templates folder: not read")
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{path}: is not a regular file: not read as a template")
        if info.st_size > MAX_TEMPLATE_BYTES:
            raise OutputError(
                f"{path}: is {info.st_size:,} bytes, over the limit of {MAX_TEMPLATE_BYTES:,} "
                "for a template"
            )
        data = path.read_bytes()[: MAX_TEMPLATE_BYTES + 1]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise OutputError(f"{path}, line {line}: not UTF-8 text ({error.reason})") from error
        return text, str(path), lambda: True


def _template_line(error: BaseException, folder: Path) -> tuple[str, int] | None:
    """The innermost line of a template in ``folder`` on the error's traceback (Jinja
    rewrites tracebacks so that template lines show as frames of the template file)."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.endswith(".j2") and Path(frame.filename).parent.is_relative_to(folder):
            found = (frame.filename, frame.lineno or 0)
    return found


class Renderer:
    """Compiled templates: the user's --templates folder first, then the packaged ones.

    The packaged templates are also reachable as ``default/NAME`` so that a user's
    template can ``{% extends "default/brief.html.j2" %}`` and override one block.
    One Environment per output language: HTML (autoescaped), Markdown (escaped by
    ``md_escape``) and terminal text (control characters stripped). All three are
    Jinja's immutable sandbox: a template from --templates cannot reach Python
    (``cycler.__init__.__globals__``), change the data, read outside its folder or run
    longer than TEMPLATE_SECONDS; when it fails, the error names its file and line.
    """

    def __init__(self, templates_dir: Path | None = None) -> None:
        packaged = default_templates_dir()
        loaders: list[jinja2.BaseLoader] = []
        self.user: Path | None = None
        if templates_dir is not None:
            if not templates_dir.is_dir():
                raise OutputError(f"{templates_dir}: templates folder not found")
            self.user = templates_dir.resolve()
            loaders.append(_FolderLoader(templates_dir))
        loaders.append(_FolderLoader(packaged))
        loader = jinja2.ChoiceLoader(
            [*loaders, jinja2.PrefixLoader({"default": _FolderLoader(packaged)})]
        )
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
            "auto_reload": False,
        }
        self.html = _Sandbox(autoescape=True, **common)
        # Markdown: no HTML autoescape; finalize escapes each value once, for Markdown.
        self.markdown = _Sandbox(
            autoescape=False, finalize=_md_finalize, finalize_text=_md_text, int_kept=True, **common
        )
        self.text = _Sandbox(autoescape=False, finalize=_text_finalize, **common)
        for env in (self.html, self.markdown, self.text):
            env.filters["wrap"] = _wrap
        self.html.filters["css_string"] = css_string
        self._cache: dict[str, jinja2.Template] = {}
        self.templates_dir = templates_dir

    def __reduce__(self) -> tuple[type[Renderer], tuple[Path | None]]:
        # Compiled templates do not pickle: a spawned --jobs worker compiles its own.
        return (Renderer, (self.templates_dir,))

    def template(self, name: str) -> jinja2.Template:
        """The compiled template ``name``; the language follows its extension."""
        if name not in self._cache:
            env = self.html if ".html" in name else self.markdown if ".md" in name else self.text
            try:
                self._cache[name] = env.get_template(name)
            except jinja2.TemplateSyntaxError as error:
                raise OutputError(
                    f"{error.filename or name}, line {error.lineno}: {error.message}"
                ) from error
            except jinja2.TemplateNotFound as error:
                raise OutputError(f"template {error.name} not found") from error
            except OutputError:
                raise
            except Exception as error:
                # Jinja folds constants while compiling and lets some errors through
                # ({{ (10 ** 10000) | string }}): a user template's, named by its file.
                source = self._source(env, name)
                if self.user is None or source is None or not source.is_relative_to(self.user):
                    raise
                raise OutputError(
                    f"{source}: cannot be compiled ({type(error).__name__}: {_first_line(error)})"
                ) from error
        return self._cache[name]

    @staticmethod
    def _source(env: jinja2.Environment, name: str) -> Path | None:
        try:
            filename = env.loader.get_source(env, name)[1] if env.loader else None
        except (jinja2.TemplateNotFound, OutputError):
            return None
        return Path(filename).resolve() if filename else None

    def render(self, name: str, context: BriefContext | SummaryContext, **extra: Any) -> str:
        """Render ``name`` with the context's fields as top-level variables (and
        ``extra``, e.g. the terminal's ``width`` for ``explain``)."""
        template, variables = self._prepared(name, context, extra)
        try:  # what _rendering does, without a generator's context manager around it
            with _TimeLimit(TEMPLATE_SECONDS):
                return template.render(variables)
        except Exception as error:
            failure = self._failure(error, name)
            if failure is None:
                raise
            raise failure from error

    def many(self) -> contextlib.AbstractContextManager[None]:
        """Render many documents within (a span of briefs): each is held to the time
        limit as ever, with the limit's signal handler set once for all of them."""
        return _handler_kept()

    def write(self, name: str, context: SummaryContext | BriefContext, path: Path) -> None:
        """Render ``name`` into the file ``path`` piece by piece, as Jinja produces it
        (``Template.generate``): the same bytes as ``render`` gives, without the whole
        document in memory at once (a 100,000-person summary is tens of MB of text).
        A failure leaves a partial file: write into a run's workspace (``outdir``)."""
        template, variables = self._prepared(name, context, {})
        with self._rendering(name), path.open("w", encoding="utf-8") as handle:
            handle.writelines(template.generate(variables))

    def _prepared(
        self, name: str, context: BriefContext | SummaryContext, extra: dict[str, Any]
    ) -> tuple[jinja2.Template, dict[str, Any]]:
        names, values = _fields(type(context))
        variables = dict(zip(names, values(context), strict=True))
        variables.update(extra)
        return self.template(name), variables

    @contextlib.contextmanager
    def _rendering(self, name: str) -> Iterator[None]:
        """Render inside: within TEMPLATE_SECONDS of CPU, and a template's error an
        OutputError naming its file and line."""
        try:
            with _TimeLimit(TEMPLATE_SECONDS):
                yield
        except Exception as error:
            failure = self._failure(error, name)
            if failure is None:
                raise
            raise failure from error

    def _failure(self, error: Exception, name: str) -> OutputError | None:
        """The error a rendering's ``error`` is reported as (None: itself)."""
        if isinstance(error, OutputError):  # a template file that cannot be read (an include)
            return None
        if isinstance(error, _TemplateTimeout):
            return OutputError(
                f"{self._where(error, name)}: still rendering after {TEMPLATE_SECONDS:g} s of "
                "CPU, the limit per template (a loop that does not end?)"
            )
        if isinstance(error, jinja2.TemplateNotFound):  # an include or import
            return OutputError(f"{self._where(error, name)}: template {error.name} not found")
        if isinstance(error, jinja2.TemplateError):  # undefined names, unsafe access...
            return OutputError(f"{self._where(error, name)}: {error.message}")
        # A template from --templates is code the panel wrote; whatever it raises
        # ({{ 1 // 0 }}, a macro calling itself) is its error, named by its line.
        # A packaged template failing is a bug of ours: it keeps its traceback.
        line = _template_line(error, self.user) if self.user else None
        if line is None:
            return None
        return OutputError(
            f"{line[0]}, line {line[1]}: {type(error).__name__}: {_first_line(error)}"
        )

    def _where(self, error: BaseException, name: str) -> str:
        for folder in (self.user, default_templates_dir().resolve()):
            line = _template_line(error, folder) if folder else None
            if line is not None:
                return f"{line[0]}, line {line[1]}"
        return name


_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _fields(kind: type[BriefContext | SummaryContext]) -> tuple[tuple[str, ...], Any]:
    """A context's field names, the template's top-level variables (two renders a
    brief), and a function reading all their values at once."""
    found = _FIELDS.get(kind)
    if found is None:
        names = tuple(f.name for f in dataclasses.fields(kind))
        read = operator.attrgetter(*names) if len(names) > 1 else lambda c: (getattr(c, names[0]),)
        found = _FIELDS[kind] = (names, read)
    return found


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "(no message)"
