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
        typer.Option(
            "--solutions", help="Solutions folder (default: the nlpdojo_solutions package)."
        ),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", help="Where the student version goes.")
    ] = Path("exercises"),
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 listing every file that differs."),
    ] = False,
    fixtures: Annotated[
        bool,
        typer.Option("--fixtures/--no-fixtures",
                     help="Also (re)generate the expected values shipped for student releases."),
    ] = True,
) -> None:
    """Generate exercises/ (stubs, instructions, notebooks) from solutions/."""
    from nlpdojo_autograder.release import release

    solutions_dir = solutions if solutions is not None else _default_solutions()
    report = release(solutions_dir, output, check=check)
    stale_fixtures = _release_fixtures(report.topics, check=check, fixtures=fixtures)
    if check:
        for line in stale_fixtures:
            typer.echo(f"fixture out of date: {line}")
        if stale_fixtures and report.in_sync:
            typer.echo("fixtures are out of sync with the solutions; run `dojo release`.")
            raise typer.Exit(1)
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


def _release_fixtures(topics: list[str], *, check: bool, fixtures: bool) -> list[str]:
    """Regenerate (or, with ``check``, compare) the fixtures of each released topic that is a
    registered exercise with its reference installed. Returns what is out of date."""
    if not fixtures:
        return []
    from nlpdojo_autograder import fixtures as fx
    from nlpdojo_autograder.grading import exercise_names, get_exercise
    from nlpdojo_autograder.loader import reference_available

    stale: list[str] = []
    for name in topics:
        if name not in exercise_names():
            continue
        exercise = get_exercise(name)
        if exercise.fixtures is None or not reference_available(exercise.reference_package):
            continue
        if check:
            stale += [f"{name}: {p}" for p in fx.differences(exercise, exercise.fixtures)]
        else:
            written = fx.generate(exercise, exercise.fixtures)
            typer.echo(f"fixtures {exercise.fixtures}: {len(written)} checks")
    return stale


def add_commands(cli: typer.Typer) -> None:
    """Attach the autograder's commands to the ``dojo`` app."""
    cli.command("release")(release_command)
