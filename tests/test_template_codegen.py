"""The templates' compiled shortcuts (report/codegen.py): the same bytes as Jinja's own
code, and the sandbox refusing what it refused (issue 13: templates' CPU)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import markupsafe
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import DictLoader, StrictUndefined
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from test_report import nasty_run  # noqa: F401 (a fixture)

from talentrules import report
from talentrules.paths import sample_workbook
from talentrules.report import contexts
from talentrules.report.codegen import LoopCounters
from talentrules.report.render import (
    _MD_PLAIN,
    Renderer,
    _escape_str,
    _MarkdownTexts,
    _md_finalize,
    _md_plain,
    _Sandbox,
    md_escape,
)
from talentrules.run import RunResult, evaluate_workbook

TEMPLATES = ("brief.html.j2", "brief.md.j2", "brief.txt.j2")


@pytest.fixture(scope="module")
def sample_run() -> RunResult:
    return evaluate_workbook(sample_workbook())


def jinjas_own(templates: Path | None = None) -> Renderer:
    """A renderer whose templates Jinja compiles with its own code generator."""
    renderer = Renderer(templates)
    for env in (renderer.html, renderer.markdown, renderer.text):
        env.code_generator_class = CodeGenerator
    return renderer


def test_the_shortcuts_give_the_bytes_jinjas_code_gives(
    sample_run: RunResult,
    nasty_run: RunResult,  # noqa: F811
) -> None:
    fast, plain = Renderer(), jinjas_own()
    for run in (sample_run, nasty_run):
        builder = report.ContextBuilder(run)
        for index in range(len(run.results)):
            context = builder.brief(index)
            for name in TEMPLATES:
                assert fast.render(name, context) == plain.render(name, context), name
        summary = builder.summary()
        for name in ("summary.html.j2", "summary.md.j2"):
            assert fast.render(name, summary) == plain.render(name, summary), name


ODD_HTML = """{% extends "default/brief.html.j2" %}
{% block body %}{% for s in evidence.signals %}
{{ loop.index }}{{ loop.cycle("a", "b") }}{{ s.code }}{% endfor %}
{{ person.full_name }}|{{ person.full_name|safe }}|{{ "<b>"|safe }}|{{ 5 }}|{{ 2.5 }}|{{ none }}
{% autoescape false %}{{ "<i>" ~ person.full_name }}{% endautoescape %}|{{ evidence.signals }}
{{ person.class is defined }}|{{ person.for is defined }}|{{ {"a": "<x>"}.a }}|{{ doc.panel }}
{% set note %}<{{ person.full_name }}>{% endset %}{{ note }}{{ super() }}
{{ evidence.signals|length }}|{{ evidence.signals|length > 0 }}|{{ "a" }}b|{% include "text.j2" %}
{{ doc.panel|join("<br>") }}|{{ [person.full_name, "<b>"|safe]|join(", ") }}|{% include "none.j2" %}
{% set held %}{% include "text.j2" %}{% include "value.j2" %}{% endset %}{{ held }}{% endblock %}
"""

ODD_MD = """{% extends "default/brief.md.j2" %}{% set heart = "set at the top <h>" %}
{% block header %}{{ heart }}
{{ person.full_name }}|{{ "*x*"|safe }}|{{ 5 }}|{{ person.in_role.upper() }}
{% autoescape true %}{{ "<i>" }}{% endautoescape %}|{{ {"a": "# x"}.a }}|{{ loop is defined }}
{{ evidence.signals|length }}|{{ evidence.signals|length > 0 }}|{{ -3 + evidence.signals|length }}
{{ "a" }}b|{{ doc.panel|join(" *and* ") }}|{{ [person.full_name, 2]|join("<br>") }}
{% endblock %}
"""


def test_a_panels_template_gives_the_same_bytes_with_the_shortcuts(
    tmp_path: Path,
    nasty_run: RunResult,  # noqa: F811
) -> None:
    # Values that are not plain strings (Markup, numbers, None, tuples), an escape mode
    # changed inside the template, attribute names that are Python keywords, a loop's
    # counters and methods, dicts read with a dot, a variable set at the top over a
    # context's: each takes the long way or the shortcut, and gives what Jinja's own
    # code gives.
    (tmp_path / "brief.html.j2").write_text(ODD_HTML, encoding="utf-8")
    (tmp_path / "brief.md.j2").write_text(ODD_MD, encoding="utf-8")
    # Included: text only (printed as it is), nothing, and text with a value.
    (tmp_path / "text.j2").write_text("<p>{# a note #}text & more</p>\n", encoding="utf-8")
    (tmp_path / "none.j2").write_text("", encoding="utf-8")
    (tmp_path / "value.j2").write_text("<{{ person.full_name }}>", encoding="utf-8")
    builder = report.ContextBuilder(nasty_run)
    index = next(i for i, r in enumerate(nasty_run.results) if r.employee_id == "E1")
    context = builder.brief(index)  # named NASTY: markup, Markdown and Jinja in a name
    for name in ("brief.html.j2", "brief.md.j2"):
        fast = Renderer(tmp_path).render(name, context)
        assert fast == jinjas_own(tmp_path).render(name, context)
    html = Renderer(tmp_path).render("brief.html.j2", context)
    body = html.split("</style>")[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # escaped, but
    assert "<i><script>alert(1)</script>" in body  # not where the template said so


@dataclasses.dataclass(frozen=True)
class Holder:
    pop: str


class Plain:
    pop = "a plain attribute"


def test_a_shortcut_is_per_type_an_unsafe_attribute_of_the_same_name_is_refused() -> None:
    env = _Sandbox(autoescape=True, undefined=StrictUndefined)
    env.fast_attributes = env.fast_attributes | {(Holder, "pop")}
    template = env.from_string("{{ h.pop }}|{{ p.pop }}|{{ d.pop }}")
    assert "tr_o.pop if type(tr_o := " in env.compile("{{ h.pop }}", raw=True), (
        "the shortcut is compiled in"
    )
    # Holder.pop (registered) and Plain.pop (judged safe, then remembered) are read;
    # dict.pop, of the same name, changes the data: refused all the same.
    with pytest.raises(SecurityError, match="'pop' of 'dict' object is unsafe"):
        template.render(h=Holder("held"), p=Plain(), d={"pop": 1})
    assert env.from_string("{{ h.pop }}|{{ p.pop }}").render(h=Holder("held"), p=Plain()) == (
        "held|a plain attribute"
    )
    with pytest.raises(SecurityError):
        env.from_string("{{ p.pop }}{{ d.pop }}").render(p=Plain(), d={})


def test_only_the_contexts_fields_and_a_loops_counters_take_the_shortcut() -> None:
    env = Renderer().html
    assert isinstance(env, _Sandbox)
    for kind, name in env.fast_attributes:
        assert not name.startswith("_")
        if kind is LoopContext:
            assert name in ("index", "index0", "revindex", "revindex0", "first", "last", "length")
        elif kind is LoopCounters:
            assert name in {f.name for f in dataclasses.fields(LoopCounters)}
        else:
            assert vars(contexts).get(kind.__name__) is kind
            assert name in {f.name for f in dataclasses.fields(kind)}
    assert (contexts.FiredRule, "title") in env.fast_attributes
    assert not any(kind in (dict, list, str, tuple) for kind, _ in env.fast_attributes)


@pytest.mark.parametrize(
    "text", ["", "plain", "<a href='x'>&amp;\"</a>", "é ü 中 \x00\x7f", "{{ 7*7 }} *b* | #"]
)
def test_a_plain_string_is_escaped_and_finalized_as_the_long_way_does(text: str) -> None:
    assert _escape_str(text) == str(markupsafe.escape(text))
    env = Renderer().markdown
    assert isinstance(env, _Sandbox) and env.finalize_text is not None
    assert env.finalize_text(text) == str(_md_finalize(text))


# Texts near the edges of Markdown's plain test: specials, controls (C0, DEL, C1),
# characters whose UTF-8 holds a byte from 0x80 to 0x9F, list and heading starts,
# Unicode spaces and digits, surrogates.
MARKDOWN_EDGES = "-+=>#*_`|~&$\\{}[]<>.)1٣² \t\n\x00\x1f\x7f\x85\x9f\xa0·“”中\u2003\ud800aZ"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(MARKDOWN_EDGES), max_size=8) | st.text(max_size=8))
def test_a_markdown_text_is_plain_exactly_when_md_escape_leaves_it(text: str) -> None:
    # _md_plain tells most texts by their UTF-8 bytes, the rest by _MD_PLAIN.
    assert _md_plain(text) == (_MD_PLAIN.fullmatch(text) is not None)
    assert _MarkdownTexts()[text] == md_escape(text)


MACROS = (
    '{% macro row(a, b="<b>", c=none) %}<{{ a }}|{{ b }}|{{ varargs|join(",") }}|{{ c }}|'
    '{{ kwargs }}|{{ caller() if caller is defined else "" }}>{% endmacro %}'
    """{% macro empty() %}{% endmacro %}
{% for s in items %}{{ row(s) }}{{ row(s, "x", loop.index, 1, 2, d="<d>") }}{% endfor %}
{% call row("called") %}<{{ items|length }}>{% endcall %}{{ empty() }}{{ row(a="by name") }}
{% set m = row %}{{ m("again") }}|{{ row is callable }}|{{ row.name }}|{{ row.arguments }}
{% autoescape true %}{{ row("<a>", "<b>", "<c>") }}{{ empty() }}{% endautoescape %}
{% autoescape false %}{{ row("<a>", "<b>", "<c>") }}{{ empty() }}{% endautoescape %}
"""
)


@pytest.mark.parametrize("autoescape", [True, False])
def test_macros_are_called_as_jinjas_sandbox_calls_them(autoescape: bool) -> None:
    # _Sandbox.call calls a template's own macro directly: positional, keyword, default,
    # extra and caller arguments give what Jinja's own sandbox gives, and a wrong call
    # fails the same way.
    ours = _Sandbox(autoescape=autoescape, undefined=StrictUndefined)
    theirs = ImmutableSandboxedEnvironment(autoescape=autoescape, undefined=StrictUndefined)
    items = ["<i>", "plain", 3]
    assert ours.from_string(MACROS).render(items=items) == (
        theirs.from_string(MACROS).render(items=items)
    )
    for call in ("{{ empty(1) }}", "{{ row() }}", "{{ row(1, a=2) }}", "{{ row(1, 2, x=3) }}"):
        source = "{% macro empty() %}{% endmacro %}{% macro row(a) %}{{ a }}{% endmacro %}" + call
        assert _outcome(ours, source) == _outcome(theirs, source), call


def _outcome(env: ImmutableSandboxedEnvironment, source: str) -> tuple[str, str]:
    try:
        return "rendered", env.from_string(source).render()
    except Exception as error:  # the same error, with the same words, either way
        return type(error).__name__, str(error)


JOINS = [
    (["a", "<b>", ""], ", "),
    (("a", "b"), "<br>"),
    ([], "-"),
    (["a", 1, None], "; "),
    ([markupsafe.Markup("<i>x</i>"), "<b>"], ", "),
    (["a", "<b>"], markupsafe.Markup("<br>")),
    ("a generator", "|"),
    ("abc", "-"),
]


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize(("value", "separator"), JOINS)
def test_the_join_filter_gives_what_jinjas_gives(
    autoescape: bool, value: object, separator: str
) -> None:
    # The sandbox's join takes a tuple or list of plain strings at once (and the compiled
    # template, by a constant separator, without calling it); anything else (Markup,
    # numbers, a generator, a string, attribute=) is Jinja's own join.
    source = (
        "{{ value|join(separator) }}|{{ value|join }}|{{ rows|join(', ', attribute='x') }}"
        "|{{ value|join('<br>') }}|{% set held = value|join(' & ') %}{{ held }}"
    )
    rows = [{"x": "<1>"}, {"x": 2}]
    results = []
    for env in (
        _Sandbox(autoescape=autoescape, undefined=StrictUndefined),
        ImmutableSandboxedEnvironment(autoescape=autoescape, undefined=StrictUndefined),
    ):
        given = ("x" for _ in range(2)) if value == "a generator" else value
        results.append(env.from_string(source).render(value=given, separator=separator, rows=rows))
    assert results[0] == results[1]


LOOPS = """{% for s in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/
{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.depth }}/
{{ loop.depth0 }} {{ s }}:{% for c in s|string %}{{ loop.index }}{{ loop.last }}{% endfor %}
{% endfor %}
{% for x in [3, 1, 2] %}{{ loop.first }}{{ x }}{% else %}none{% endfor %}
{% for x in () %}{{ loop.index }}{% else %}empty{% endfor %}
{% for x in range(70) %}{{ loop.last }}{% endfor %}
{% for x in many %}{{ loop.revindex }}{% endfor %}
{% for x in items if x is string %}{{ loop.index }}/{{ loop.length }}{{ x }}{% endfor %}
{% for x in pairs %}{{ loop.last }}{{ x }}{% endfor %}
{% for a, b in pairs %}{{ loop.last }}{{ a }}{{ b }}{% endfor %}
{% for s in items %}{% set outer = loop %}{% for t in [1, 2] %}{{ outer.index }}
{{ loop.index }}{% endfor %}{% endfor %}
{% for s in items %}{{ loop.cycle("a", "b") }}{{ loop.previtem is defined }}
{{ loop.changed(s) }}{% endfor %}
{% for s in items %}{{ loop }}{% endfor %}
{% for s in items %}{{ loop["index"] }}{% endfor %}
{% for k, v in {"a": 1, "b": 2}.items() %}{{ loop.index }}{{ k }}{{ v }}{% endfor %}
{% for x in [[1, 2], [3]] recursive %}{{ loop.depth }}
{% if x is iterable %}{{ loop(x) }}{% endif %}{% endfor %}
{% for x in items %}{% macro f() %}{{ loop.index }}{% endmacro %}{{ f() }}{% endfor %}
{% for x in items %}{% for y in items %}{{ loop.index }}{% endfor %}{{ loop.last }}{% endfor %}
{% for x in items %}{{ loop.index }}{% include "inc.j2" %}{% endfor %}
{% for x in items %}{{ loop.first }}{% import "inc.j2" as inc with context %}{% endfor %}
"""


@pytest.mark.parametrize("autoescape", [True, False])
def test_loops_reading_counters_give_what_jinjas_loops_give(autoescape: bool) -> None:
    # A loop whose body only reads loop's counters pairs a tuple's or list's items with
    # LoopCounters, and anything else (a string, a range, a filtered loop, a dict's
    # items) with Jinja's LoopContext; a recursive loop, and loop handed on, printed or
    # asked for cycle/changed/previtem, get LoopContext always. Every counter, nesting
    # and else branch gives what Jinja's gives.
    # An included template sees the including loop's loop: it may ask for anything.
    loader = DictLoader({"inc.j2": "{{ loop.cycle('x', 'y') }}{{ loop.previtem is defined }}"})
    ours = _Sandbox(autoescape=autoescape, undefined=StrictUndefined, loader=loader)
    theirs = ImmutableSandboxedEnvironment(
        autoescape=autoescape, undefined=StrictUndefined, loader=loader
    )
    values = {
        "items": ("<a>", "b", 3, "d"),
        "many": list(range(70)),  # longer than the counters kept
        "pairs": [("x", 1), ("y", 2)],
    }
    for _ in range(2):  # the second time with the counters kept
        assert ours.from_string(LOOPS).render(values) == theirs.from_string(LOOPS).render(values)
    code = ours.compile(LOOPS, raw=True)
    assert code.count("tr_loop(") == 14, "the loops reading counters only"
    assert code.count("LoopContext(") == 7, "the others"


def test_a_block_yields_what_it_gathers_in_bounded_pieces() -> None:
    # A block gathers its output and yields it joined; inside a loop it yields every
    # 256 pieces, so a 100,000-person summary is still streamed, not held whole.
    source = (
        "{% block rows %}<table>{% for i in items %}<{{ i }}>{% endfor %}"
        "{% block inner %}[{{ items|length }}]{% endblock %}</table>{% endblock %}"
    )
    ours = _Sandbox(autoescape=True, undefined=StrictUndefined)
    theirs = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    items = list(range(10_000))
    pieces = list(ours.from_string(source).generate(items=items))
    assert "".join(pieces) == theirs.from_string(source).render(items=items)
    assert len(pieces) > 100
    assert max(map(len, pieces)) < 2_000
