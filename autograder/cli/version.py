"""``grade --version``: the version, and the grader's fingerprint (what a result's
``grader`` records and ``grade --resume`` and the grade cache compare: its source files and the
versions it runs on), so that two gradings can be told apart by a TA before they differ."""

from __future__ import annotations

from typing import Annotated

import typer

from nlpdojo.cli.app import version_text
from nlpdojo_autograder.grading.gradecache import grader_fingerprint

#: the backend whose fingerprint ``--version`` prints (the grader's default)
VERSION_BACKEND = "numpy"


def grade_version() -> str:
    """``grade (nlpdojo) 0.1.0`` and the grader's fingerprint on the default backend."""
    return (f"{version_text('grade')}\ngrader fingerprint {grader_fingerprint(VERSION_BACKEND)} "
            f"({VERSION_BACKEND} backend)")


def _print(value: bool) -> None:
    if value:
        typer.echo(grade_version())
        raise typer.Exit(0)


#: ``--version``, eager: printed before any other option is read
VersionOption = Annotated[bool | None, typer.Option(
    "--version", callback=_print, is_eager=True,
    help="Print the version and the grader's fingerprint, and exit.")]
