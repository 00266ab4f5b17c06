"""``dojo`` commands contributed by the autograder."""

from __future__ import annotations

import typer


def add_commands(cli: typer.Typer) -> None:
    """Attach the autograder's commands to the ``dojo`` app."""
