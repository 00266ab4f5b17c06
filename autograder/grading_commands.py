"""``dojo verify``: the instructor's one command that proves a course's grading."""

from __future__ import annotations

from typing import Annotated

import typer

from nlpdojo.cli.common import console, report_errors


@report_errors
def verify_command(
    topics: Annotated[
        list[str] | None, typer.Argument(help="Topics (default: all with solutions).")
    ] = None,
    backend: Annotated[list[str] | None, typer.Option(
        "--backend", help="Only these backends (default: every available one).")] = None,
) -> None:
    """Stubs score 0; solutions score full marks on every backend; planted bugs are caught."""
    from rich.markup import escape

    from nlpdojo_autograder.grading import exercise_names, get_exercise
    from nlpdojo_autograder.loader import reference_available
    from nlpdojo_autograder.verify import available_backends, verify

    names = topics or [n for n in exercise_names()
                       if reference_available(get_exercise(n).reference_package)]
    if not names:
        console.print("nothing to verify: no exercise has its solutions installed")
        raise typer.Exit(1)
    pairs = [p for p in available_backends() if not backend or p[0] in backend]

    def show(step):
        mark = "[green]ok  [/]" if step.ok else "[red]FAIL[/]"
        console.print(f"{mark} {step.exercise}: {escape(step.name)} — {escape(step.detail)}",
                      soft_wrap=True)

    steps = verify([get_exercise(n) for n in names], backends=pairs, on_step=show)
    failed = [s for s in steps if not s.ok]
    console.print(f"{len(steps) - len(failed)}/{len(steps)} verification steps passed")
    raise typer.Exit(1 if failed else 0)


def add_grading_commands(cli: typer.Typer) -> None:
    cli.command("verify")(verify_command)
