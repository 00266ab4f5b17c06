"""``dojo`` commands contributed by the autograder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nlpdojo.cli.common import report_errors


def _default_solutions() -> Path:
    """The installed ``nlpdojo_solutions`` package folder."""
    import nlpdojo_solutions

    return Path(nlpdojo_solutions.__file__).parent


@report_errors
def release_command(
    solutions: Annotated[
        Path | None,
        typer.Option("--solutions", help="Solutions folder (default: the nlpdojo_solutions package)."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", help="Where the student version goes.")
    ] = Path("exercises"),
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 listing every file that differs."),
    ] = False,
) -> None:
    """Generate exercises/ (stubs, instructions, notebooks) from solutions/."""
    from nlpdojo_autograder.release import release

    solutions_dir = solutions if solutions is not None else _default_solutions()
    report = release(solutions_dir, output, check=check)
    if check:
        if report.in_sync:
            typer.echo(
                f"{output} is in sync with {solutions_dir} "
                f"({len(report.unchanged)} files, {len(report.topics)} topics)."
            )
            return
        for difference in report.differences:
            typer.echo(f"{difference.kind}: {output / difference.path}")
            if difference.diff:
                typer.echo(difference.diff.rstrip("\n"))
        typer.echo(
            f"{len(report.differences)} files in {output} are out of sync with {solutions_dir}; "
            "run `dojo release` to regenerate them (never edit exercises/ by hand)."
        )
        raise typer.Exit(1)
    for rel in report.written:
        typer.echo(f"wrote   {output / rel}")
    for rel in report.removed:
        typer.echo(f"removed {output / rel}")
    typer.echo(
        f"released {len(report.topics)} topics into {output}: {len(report.written)} written, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged."
    )


def add_commands(cli: typer.Typer) -> None:
    """Attach the autograder's commands to the ``dojo`` app."""
    cli.command("release")(release_command)
