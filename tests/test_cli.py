"""The CLI as a whole: every command has help ending with an example, the version,
``python -m talentrules``, and the clear refusal of an unsupported Python."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from talentrules import __version__
from talentrules.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


COMMANDS = _commands(cli)


def test_the_commands_issues_promise_exist() -> None:
    for path in [("validate",), ("template",), ("evaluate",), ("explain",), ("rules", "check")]:
        assert path in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_has_help_ending_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    description = result.output.split("\nOptions:")[0].strip()
    last_paragraph = description.split("\n\n")[-1].strip()
    assert last_paragraph.startswith("Example: talentrules "), (path, last_paragraph)


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "talentrules", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "talent review panels" in done.stdout


def test_an_unsupported_python_is_refused_in_plain_words() -> None:
    # durable-rules 2.0.28 does not import on 3.13: the package says so itself.
    code = "import sys; sys.version_info = (3, 13, 0, 'final', 0); import talentrules"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert "talentrules needs Python 3.11 or 3.12" in done.stderr


def test_usage_errors_exit_2() -> None:
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 2
