"""User templates (--templates) run in Jinja's immutable sandbox (issue 12): no way to
Python, no file outside the templates folder, a time limit per template, and a template
that fails is named with its line: exit 5 (outputs not written), one sentence, no
traceback."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from jinja2.sandbox import ImmutableSandboxedEnvironment

from talentrules import report
from talentrules.cli import EXIT_OUTPUT, cli
from talentrules.errors import OutputError
from talentrules.paths import sample_workbook
from talentrules.run import RunResult, evaluate_workbook


@pytest.fixture(scope="module")
def sample_run() -> RunResult:
    return evaluate_workbook(sample_workbook())


def evaluate(tmp_path: Path, templates: Path) -> Result:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["evaluate", str(sample_workbook()), "-o", str(out), "--templates", str(templates)],
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert not out.exists() and not list(tmp_path.glob(".out.*")), "a partial output was left"
    return result


def brief(tmp_path: Path, body: str, name: str = "brief.md.j2") -> Path:
    """A templates folder whose brief extends the packaged one, with ``body`` in its
    header block on line 3."""
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(
        '{% extends "default/'
        + name
        + '" %}\n{% block header %}{{ super() }}\n'
        + body
        + "\n{% endblock %}\n",
        encoding="utf-8",
    )
    return folder


def one_sentence(result: Result) -> str:
    assert result.exit_code == EXIT_OUTPUT, result.output
    assert "Traceback" not in result.output
    message = result.stderr.rstrip("\n")
    assert "\n" not in message, message
    return message


def test_a_template_cannot_reach_python(tmp_path: Path) -> None:
    victim = tmp_path / "pwned"
    folder = brief(
        tmp_path, "{{ cycler.__init__.__globals__.os.system('touch " + str(victim) + "') }}"
    )
    message = one_sentence(evaluate(tmp_path, folder))
    assert message.startswith(f"Error: {folder / 'brief.md.j2'}, line 3: access to attribute")
    assert "is unsafe" in message
    assert not victim.exists()


def test_a_template_cannot_change_the_data_it_is_given(tmp_path: Path) -> None:
    folder = brief(tmp_path, "{% set seen = [] %}{{ seen.append(1) }}")
    message = one_sentence(evaluate(tmp_path, folder))
    assert "line 3: access to attribute 'append' of 'list' object is unsafe" in message


def test_a_template_linked_outside_its_folder_is_refused_unread(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the secret", encoding="utf-8")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "brief.md.j2").symlink_to(secret)
    result = evaluate(tmp_path, folder)
    assert one_sentence(result) == (
        f"Error: {folder / 'brief.md.j2'}: is a link to a file outside the templates folder: "
        "not read"
    )
    assert "secret" not in result.output


def test_an_include_cannot_climb_out_of_the_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("the secret", encoding="utf-8")
    folder = brief(tmp_path, '{% include "../secret.txt" %}')
    message = one_sentence(evaluate(tmp_path, folder))
    assert message == f"Error: {folder / 'brief.md.j2'}, line 3: template ../secret.txt not found"


def test_a_link_inside_the_folder_is_read(tmp_path: Path, sample_run: RunResult) -> None:
    folder = brief(tmp_path, "Custom header")
    (folder / "brief.md.j2").rename(folder / "mine.md.j2")
    (folder / "brief.md.j2").symlink_to(folder / "mine.md.j2")
    text = report.Renderer(folder).render("brief.md.j2", report.ContextBuilder(sample_run).brief(0))
    assert "Custom header" in text


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("{{ 1 // 0 }}", "line 3: ZeroDivisionError: integer division or modulo by zero"),
        (
            "{% macro again(n) %}{{ again(n) }}{% endmacro %}{{ again(1) }}",
            "line 3: RecursionError: maximum recursion depth exceeded",
        ),
        (
            "{{ person.employee_id | int }}{{ 1 / 0 }}",
            "line 3: ZeroDivisionError: division by zero",
        ),
    ],
    ids=["integer division by zero", "recursive macro", "division by zero"],
)
def test_a_failing_template_is_named_with_its_line(tmp_path: Path, body: str, words: str) -> None:
    folder = brief(tmp_path, body)
    message = one_sentence(evaluate(tmp_path, folder))
    assert message.startswith(f"Error: {folder / 'brief.md.j2'}, line 3: "), message
    assert words in message, message


def test_a_template_jinja_cannot_compile_is_named(tmp_path: Path) -> None:
    # Jinja folds constants while compiling, and lets this ValueError through.
    folder = brief(tmp_path, "{{ (10 ** 10000) | string }}")
    message = one_sentence(evaluate(tmp_path, folder))
    assert message.startswith(f"Error: {folder / 'brief.md.j2'}: cannot be compiled (ValueError:")


def test_a_template_not_in_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "summary.md.j2").write_bytes(b"{# summary #}\nCaf\xe9\n")
    message = one_sentence(evaluate(tmp_path, folder))
    assert message == (
        f"Error: {folder / 'summary.md.j2'}, line 2: not UTF-8 text (invalid continuation byte)"
    )


ENDLESS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
QUIET = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
# Macros calling macros, 2 ** 40 calls and no other: each a call the sandbox checks.
MACROS = "{% macro m0() %}x{% endmacro %}" + "".join(
    f"{{% macro m{n}() %}}{{{{ m{n - 1}() }}}}{{{{ m{n - 1}() }}}}{{% endmacro %}}"
    for n in range(1, 41)
)


def test_a_template_that_runs_too_long_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report.render, "TEMPLATE_SECONDS", 0.5)
    folder = brief(tmp_path, ENDLESS)
    message = one_sentence(evaluate(tmp_path, folder))
    assert message == (
        f"Error: {folder / 'brief.md.j2'}, line 3: still rendering after 0.5 s of CPU, the "
        "limit per template (a loop that does not end?)"
    )


def test_the_time_limit_names_the_line_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_run: RunResult
) -> None:
    """In the main thread both the CPU timer and the sandbox's clock check run; the
    second must not fire again while Jinja rewrites the first's traceback (it did, now
    and then, and the error lost its line)."""
    monkeypatch.setattr(report.render, "TEMPLATE_SECONDS", 0.2)
    renderer = report.Renderer(brief(tmp_path, ENDLESS))
    context = report.ContextBuilder(sample_run).brief(0)
    for _ in range(10):
        with pytest.raises(OutputError, match=r"brief\.md\.j2, line 3: still rendering"):
            renderer.render("brief.md.j2", context)


@pytest.mark.parametrize("source", [QUIET, MACROS + "{{ m40() }}"], ids=["range", "macros"])
def test_the_time_limit_holds_outside_the_main_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_run: RunResult, source: str
) -> None:
    """No timer signal there: the sandbox checks the clock at each call (range, or a
    macro: no macro is called around the sandbox's check there)."""
    monkeypatch.setattr(report.render, "TEMPLATE_SECONDS", 0.5)
    folder = brief(tmp_path, source)
    renderer = report.Renderer(folder)
    context = report.ContextBuilder(sample_run).brief(0)
    caught: list[BaseException] = []

    def render() -> None:
        try:
            renderer.render("brief.md.j2", context)
        except OutputError as error:
            caught.append(error)

    worker = threading.Thread(target=render)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    (error,) = caught
    assert "still rendering after 0.5 s of CPU" in str(error)


def test_the_packaged_templates_render_in_the_sandbox(sample_run: RunResult) -> None:
    renderer = report.Renderer()
    assert isinstance(renderer.html, ImmutableSandboxedEnvironment)
    builder = report.ContextBuilder(sample_run)
    for name in ("brief.html.j2", "brief.md.j2", "brief.txt.j2"):
        assert renderer.render(name, builder.brief(0))
    summary = builder.summary()
    for name in ("summary.html.j2", "summary.md.j2"):
        assert renderer.render(name, summary)


def test_the_limit_is_this_threads_cpu_and_stops_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The timer counts the whole process's CPU: a busy thread beside the rendering (a
    # pool, a test runner) must neither stop it early, before its line is known, nor
    # land a second stop in Jinja's handling of the first.
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    busy = threading.Thread(target=spin, daemon=True)
    busy.start()
    try:
        test_a_template_that_runs_too_long_is_stopped(tmp_path, monkeypatch)
    finally:
        stop.set()
        busy.join()


def test_a_stop_found_by_the_clock_disarms_the_timer() -> None:
    # The sandbox's clock check may see the deadline before the timer fires; the timer
    # is then disarmed, or it would stop Jinja while it reports the first stop.
    import signal

    render = report.render
    with render._TimeLimit(100):
        render._DEADLINE.at = 0.0
        with pytest.raises(render._TemplateTimeout):
            render._past_deadline()
        assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_many_renderings_keep_the_time_limit_and_the_signal_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_run: RunResult
) -> None:
    """Renderer.many sets the timer's handler once for a span of briefs: each
    rendering inside is still stopped at its limit, renders the same text, leaves no
    timer armed between renderings, and the handler before it is back after it."""
    import signal

    monkeypatch.setattr(report.render, "TEMPLATE_SECONDS", 0.3)
    renderer = report.Renderer(brief(tmp_path, "{{ person.employee_id }}"))
    (tmp_path / "endless").mkdir()
    endless = report.Renderer(brief(tmp_path / "endless", ENDLESS))
    context = report.ContextBuilder(sample_run).brief(0)
    alone = renderer.render("brief.md.j2", context)
    before = signal.getsignal(signal.SIGPROF)
    with renderer.many():
        assert signal.getsignal(signal.SIGPROF) is report.render._on_timer
        with renderer.many():  # nested: the outer one keeps it
            assert renderer.render("brief.md.j2", context) == alone
        assert signal.getsignal(signal.SIGPROF) is report.render._on_timer
        for _ in range(2):
            with pytest.raises(OutputError, match=r"line 3: still rendering after 0\.3 s"):
                endless.render("brief.md.j2", context)
            assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
        assert renderer.render("brief.md.j2", context) == alone
        assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGPROF) is before
