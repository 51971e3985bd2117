"""What the renderer keeps between renderings to be quick (issue 13) changes nothing it
lets through, refuses or escapes: the sandbox's verdicts are kept per type and
attribute, and Markdown keeps the escaped form of short texts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError
from markupsafe import Markup

from talentrules.report import render
from talentrules.report.render import Renderer


@dataclass(frozen=True)
class Holder:
    append: str = "a plain value"
    format: str = "another"


def folder_with(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("safe_first", [True, False], ids=["safe first", "unsafe first"])
def test_a_verdict_is_kept_per_type_not_per_name(tmp_path: Path, safe_first: bool) -> None:
    """``append`` is a plain value on Holder and the list-changing method on a list:
    each keeps its own verdict, in whichever order they are read, and again."""
    folder = folder_with(tmp_path, "safe.md.j2", "{{ holder.append }}")
    folder_with(tmp_path, "unsafe.md.j2", "{{ things.append }}")
    renderer = Renderer(folder)
    env = renderer.markdown

    def unsafe() -> None:
        with pytest.raises(SecurityError, match="'append' of 'list' object is unsafe"):
            renderer.template("unsafe.md.j2").render(things=[])

    for _ in range(2):
        if not safe_first:
            unsafe()
        assert renderer.template("safe.md.j2").render(holder=Holder()) == "a plain value"
        if safe_first:
            unsafe()
    assert env._safe[(Holder, "append")] is True
    assert env._safe[(list, "append")] is False


def test_a_method_is_wrapped_or_refused_though_its_name_was_judged(tmp_path: Path) -> None:
    """``format`` judged safe on Holder (a value) and on str (the sandbox wraps
    str.format so that it cannot reach attributes): the cached verdict does not let
    str.format through unwrapped."""
    folder = folder_with(
        tmp_path, "x.md.j2", "{{ holder.format }} {{ '{0.__class__}'.format(holder) }}"
    )
    with pytest.raises(SecurityError, match="__class__"):
        Renderer(folder).template("x.md.j2").render(holder=Holder())


def test_html_escapes_a_text_the_same_every_time_and_leaves_markup_alone(
    tmp_path: Path,
) -> None:
    folder = folder_with(tmp_path, "x.html.j2", "{{ a }}|{{ b }}|{{ a }}|{{ n }}")
    template = Renderer(folder).template("x.html.j2")
    text = "<b>Tom & 'Jerry'</b>"
    escaped = "&lt;b&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;"
    # A Markup passes unchanged, a text equal to it is escaped, in either order.
    assert template.render(a=text, b=Markup(text), n=3) == f"{escaped}|{text}|{escaped}|3"
    assert template.render(a=Markup(text), b=text, n=None) == f"{text}|{escaped}|{text}|None"


def test_markdown_escapes_a_long_text_without_keeping_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Markdown cache holds short texts only (about 64 MB at most, whatever the
    cells), and a long one is escaped all the same."""
    folder = folder_with(tmp_path, "x.md.j2", "{{ short }}|{{ long }}|{{ short }}")
    template = Renderer(folder).template("x.md.j2")
    short, long = "a <b> & c #1", "a <b> & c " * 100
    render._md_texts.pop(short, None)
    made = []
    escape = render.md_escape
    monkeypatch.setattr(render, "md_escape", lambda text: made.append(text) or escape(text))
    text = template.render(short=short, long=long)
    assert text == f"{escape(short)}|{escape(long)}|{escape(short)}"
    assert r"a \<b\> \& c" in text
    # The short text escaped once, then found; the long one escaped each time, never kept.
    assert made == [short, long]
    assert render._md_texts[short] == escape(short) and long not in render._md_texts
    template.render(short=short, long=long)
    assert made == [short, long, long]


def test_markdown_cache_stops_keeping_when_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = folder_with(tmp_path, "x.md.j2", "{{ a }}")
    template = Renderer(folder).template("x.md.j2")
    text = "not kept *yet*"
    render._md_texts.pop(text, None)
    monkeypatch.setattr(render, "_MD_KEPT", len(render._md_texts))
    assert template.render(a=text) == render.md_escape(text)
    assert text not in render._md_texts


def test_markdown_leaves_markup_alone_though_an_equal_text_is_kept(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "x.md.j2", "{{ a }}|{{ b }}|{{ a }}|{{ n }}")
    template = Renderer(folder).template("x.md.j2")
    text = "<b>Tom & *Jerry*</b>"
    escaped = render.md_escape(text)
    assert escaped != text
    assert template.render(a=text, b=Markup(text), n=3) == f"{escaped}|{text}|{escaped}|3"
    assert template.render(a=Markup(text), b=text, n=None) == f"{text}|{escaped}|{text}|None"
