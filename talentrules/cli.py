"""The command line: parse arguments, call one library function, print the result.

The only module that imports click. Every ``TalentRulesError`` becomes a message
on stderr and exit status 1 (``user_errors``); usage errors exit 2 (click).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from talentrules import __version__
from talentrules.errors import TalentRulesError

P = ParamSpec("P")
R = TypeVar("R")


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the library's errors into click's: a message and exit 1, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except TalentRulesError as error:
            raise click.ClickException(str(error)) from error

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="talentrules")
def cli() -> None:
    """A rule-based expert system for talent review panels.

    It reads the panel's workbook, decides who has a heart for leadership and which
    development investment fits whom, and justifies every recommendation.

    Example: talentrules validate sample_inputs/panel_review.xlsx
    """


@cli.group()
def rules() -> None:
    """Check and test the rulebook.

    Example: talentrules rules check rules/
    """
