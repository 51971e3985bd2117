"""``python -m talentrules`` runs the CLI."""

from talentrules.cli import cli

cli(prog_name="talentrules")
