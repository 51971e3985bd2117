"""The CLI as a whole: every command has help ending with an example, the version,
``python -m talentrules``, and the clear refusal of an unverified Python."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import talentrules
from talentrules import UNVERIFIED_PYTHON_VARIABLE, __version__
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


def test_version_has_one_source() -> None:
    # pyproject.toml reads __version__ (hatch's dynamic version); --version prints it.
    assert importlib.metadata.version("talentrules") == __version__
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith(f"talentrules {__version__} (durable-rules 2.0.28+talentrules.1")
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert "\nversion =" not in pyproject


def test_the_package_says_it_is_typed() -> None:
    # PEP 561: mypy users of the library get its hints (.ci/run checks the wheel has it).
    assert (Path(talentrules.__file__).parent / "py.typed").is_file()


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "talentrules", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "talent review panels" in done.stdout


def _import_as_python(version: tuple[int, int], **env: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.version_info = ({version[0]}, {version[1]}, 0, 'final', 0); " + (
        "import talentrules"
    )
    environ = {k: v for k, v in os.environ.items() if k != UNVERIFIED_PYTHON_VARIABLE}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ | env
    )


def test_an_unverified_python_is_refused_in_plain_words_with_a_way_on() -> None:
    done = _import_as_python((3, 14))
    assert done.returncode != 0
    assert "talentrules is verified on Python 3.11, 3.12 and 3.13, not 3.14" in done.stderr
    assert f"{UNVERIFIED_PYTHON_VARIABLE}=1" in done.stderr
    # The way on: the variable lets a newer Python import it, to be tested.
    assert _import_as_python((3, 14), **{UNVERIFIED_PYTHON_VARIABLE: "1"}).returncode == 0
    # ...but never an older one, which lacks what the code uses.
    older = _import_as_python((3, 10), **{UNVERIFIED_PYTHON_VARIABLE: "1"})
    assert "not 3.10" in older.stderr


@pytest.mark.parametrize("version", [(3, 11), (3, 12), (3, 13)], ids=str)
def test_the_verified_pythons_import(version: tuple[int, int]) -> None:
    done = _import_as_python(version)
    assert done.returncode == 0, done.stderr


def test_the_engine_is_the_vendored_patched_build() -> None:
    # Built from vendor/durable_rules on every Python, 3.13 included: the C extension
    # imports, and the installed metadata is the patched copy, not PyPI's release.
    import durable_rules_engine

    assert importlib.metadata.version("durable-rules") == "2.0.28+talentrules.1"
    assert durable_rules_engine.create_ruleset


def test_usage_errors_exit_2() -> None:
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 2
