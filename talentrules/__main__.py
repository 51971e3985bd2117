"""``python -m talentrules`` runs the CLI."""

from talentrules.cli import cli

# Guarded: a spawned --jobs worker imports this module as __mp_main__ and must not
# run the command again.
if __name__ == "__main__":
    cli(prog_name="talentrules")
