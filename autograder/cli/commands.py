"""``dojo`` commands contributed by the autograder."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from nlpdojo.cli.common import report_errors
from nlpdojo_autograder.authoring.scaffold import new_topic
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise
from nlpdojo_autograder.release import fixtures as fx
from nlpdojo_autograder.release.bundle import check_destination, make_bundle
from nlpdojo_autograder.release.consistency import ensure_release_consistent
from nlpdojo_autograder.release.gradescope_zip import make_gradescope_zip
from nlpdojo_autograder.release.release import (
    ReleaseError,
    build_release,
    release,
    release_topics,
    topics_in,
)


def _targets(solutions_dir: Path, targets: list[str] | None) -> list[str]:
    """The topics of ``solutions_dir`` a release of ``targets`` (None: all) makes."""
    topics = release_topics(solutions_dir)
    return [t for t in topics if not targets or t in targets]


def _default_solutions() -> Path:
    """The installed ``nlpdojo_solutions`` package folder. Refused when the current folder has
    a ``solutions/`` folder that is another copy (a second checkout, a pack's course folder):
    releasing the installed one into ``./exercises`` would be a silent mix-up."""
    try:
        import nlpdojo_solutions
    except ImportError as exc:  # a student installation (a student bundle's wheel)
        raise ReleaseError(
            "the reference solutions (nlpdojo_solutions) are not installed here; pass the "
            "solutions to release: --solutions DIR") from exc
    installed = Path(nlpdojo_solutions.__file__).parent
    local = Path("solutions")
    if local.is_dir() and local.resolve() != installed.resolve() and topics_in(local):
        raise ReleaseError(
            f"./solutions is not the installed nlpdojo_solutions ({installed}); pass the "
            "solutions to release explicitly: --solutions solutions (its fixtures need the "
            "package that registers its exercises installed from this folder, e.g. "
            "pip install -e .), or --solutions " + str(installed))
    return installed


@report_errors
def release_command(
    targets: Annotated[
        list[str] | None,
        typer.Argument(metavar="[TOPIC|QUESTION]...",
                       help="The topics to release (default: every topic; the course "
                            "library is released with any). With --gradescope: what the "
                            "autograder grades, topics or questions (default: every topic with "
                            "installed solutions)."),
    ] = None,
    solutions: Annotated[
        Path | None,
        typer.Option(
            "--solutions",
            help="The folder that holds the topic folders (as solutions/ holds one folder per "
                 "topic); default: the installed nlpdojo_solutions package."
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
                     help="Also (re)generate, from the same solutions, the expected values "
                          "shipped for student releases (each released exercise's fixtures "
                          "folder; every file written is listed)."),
    ] = True,
    student_bundle: Annotated[
        Path | None,
        typer.Option("--student-bundle", metavar="DIR",
                     help="Write nothing in the course: check that the exercises (--output) "
                          "and the fixtures are in sync with the solutions, then make DIR (new "
                          "or empty) to hand to students: a wheel of nlpdojo without the "
                          "solutions, exercises/, constraints.txt and a README.md."),
    ] = None,
    gradescope: Annotated[
        Path | None,
        typer.Option("--gradescope", metavar="ZIP",
                     help="Write nothing in the course: make ZIP, the autograder Gradescope "
                          "takes (setup.sh, run_autograder, the student-free wheel and the "
                          "reference of the TOPICs, grading with --require-sandbox)."),
    ] = None,
    runs_per_day: Annotated[
        int | None,
        typer.Option("--runs-per-day", min=1, metavar="N",
                     help="With --gradescope: at most N graded runs per student per day; past "
                          "it a run grades the public checks only and says when the next "
                          "graded run is available (runs the autograder failed on do not "
                          "count). Default: no limit."),
    ] = None,
    day_timezone: Annotated[
        str, typer.Option("--day-timezone", metavar="ZONE",
                          help="With --gradescope: the time zone whose days --runs-per-day "
                               "counts and in which times are shown (default UTC).")
    ] = "UTC",
    grace_minutes: Annotated[
        int, typer.Option("--grace-minutes", min=0,
                          help="With --gradescope: lateness forgiven before late days are "
                               "counted (default 0).")
    ] = 0,
) -> None:
    """Generate exercises/ (stubs, instructions, notebooks) from solutions/, and the fixtures
    of the released exercises from the same solutions; or, with --student-bundle, package
    the released course for students; or, with --gradescope, make Gradescope's autograder."""

    if gradescope is not None:
        for flag, given in (("--check", check), ("--no-fixtures", not fixtures),
                            ("--student-bundle", student_bundle is not None)):
            if given:
                raise ReleaseError(f"--gradescope makes the autograder zip only; leave out "
                                   f"{flag}")
        _write_gradescope(gradescope, targets or [],
                          solutions if solutions is not None else _default_solutions(),
                          runs_per_day=runs_per_day, timezone=day_timezone,
                          grace_minutes=grace_minutes)
        return
    if runs_per_day is not None or day_timezone != "UTC" or grace_minutes:
        raise ReleaseError("--runs-per-day, --day-timezone and --grace-minutes are the "
                           "Gradescope autograder's: use them with --gradescope ZIP")
    if student_bundle is not None:
        if targets:
            raise ReleaseError(f"--student-bundle ships the whole course; leave out "
                               f"{' '.join(targets)}")
        for flag, given in (("--check", check), ("--no-fixtures", not fixtures)):
            if given:
                raise ReleaseError(f"--student-bundle checks the release and ships its "
                                   f"fixtures itself; leave out {flag}")

        check_destination(student_bundle)  # before anything slow
        _write_bundle(student_bundle,
                      solutions if solutions is not None else _default_solutions(), output)
        return
    solutions_dir = solutions if solutions is not None else _default_solutions()
    # Validate everything (markers, notebooks, the exercises' declarations against the
    # solutions, where fixtures go) and run the solutions for the
    # fixtures before the first write: any failure leaves the output and the fixtures as they are.
    try:
        built = build_release(solutions_dir, targets)
    except ReleaseError:  # (a malformed marker, a MarkerError, is said as it is)
        # what the declarations say of the markers is more precise than what building a
        # notebook from them could (a typo in one library marker's topic read as a module
        # holding two topics): said first, where there is anything to say
        ensure_release_consistent(_targets(solutions_dir, targets), solutions_dir)
        raise
    topics = built[0]
    ensure_release_consistent(topics, solutions_dir)
    plans = fx.plan(topics, solutions_dir) if fixtures else []
    # fixtures computed from the same sources are kept as they are (fixtures.FINGERPRINT);
    # from sources that differ only where no value can (a comment, a docstring), they are
    # kept and recorded again
    states = {plan.exercise.name: fx.state(plan) for plan in plans}
    reused = [plan for plan in plans if states[plan.exercise.name] == fx.CURRENT]
    renewed = [plan for plan in plans if states[plan.exercise.name] == fx.RECORD_AGAIN]
    plans = [plan for plan in plans if states[plan.exercise.name] == fx.STALE]
    with tempfile.TemporaryDirectory(prefix="nlpdojo-release-") as tmp:
        fresh = {plan.exercise.name: Path(tmp) / plan.exercise.name for plan in plans}
        for plan in plans:
            fx.compute(plan.exercise, plan.source, fresh[plan.exercise.name])
        report = release(solutions_dir, output, check=check, only=targets, built=built)
        if check:
            stale = []
            for plan in plans:
                problems = fx.compare(plan.exercise, fresh[plan.exercise.name], plan.dest)
                # equal values computed from other sources (the solutions, the grader's
                # code, the versions): a release rewrites the FINGERPRINT alone, and until
                # it does every release computes them again
                stale += [f"{plan.dest}/{problem}" for problem in problems] or [
                    f"{plan.dest / fx.FINGERPRINT}: the fixtures computed again are equal, "
                    "but it records other sources (the solutions, the grader's code or the "
                    "versions changed since)"]
            stale += [f"{plan.dest / fx.FINGERPRINT}: the fixtures stand (their sources "
                      "changed only in comments, docstrings or layout), but "
                      + ("the given modules changed, so the digests a student's copy is "
                         "compared with are out of date" if fx.given_stale(plan) else
                         "it records the sources as they were")
                      + "; a release records them again (no fixture is computed)"
                      for plan in renewed]
            _report_check(report, stale, solutions_dir, output,
                          len(plans) + len(reused) + len(renewed))
            return
        stored = [fx.store(plan.exercise, fresh[plan.exercise.name], plan.dest)
                  for plan in plans]
        for plan in [*plans, *renewed]:
            fx.record(plan)
    for rel in report.written:
        typer.echo(f"wrote   {output / rel}")
    for rel in report.removed:
        typer.echo(f"removed {output / rel}")
    for fixture in stored:
        for name in fixture.written:
            typer.echo(f"wrote   {fixture.dest / name}")
        for name in fixture.removed:
            typer.echo(f"removed {fixture.dest / name}")
    typer.echo(
        f"released {len(report.topics)} topic{'' if len(report.topics) == 1 else 's'} from "
        f"{solutions_dir} into {output}: "
        f"{len(report.written)} written, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged."
    )
    for fixture in stored:
        typer.echo(
            f"fixtures {fixture.dest}: {len(fixture.written)} written, "
            f"{len(fixture.removed)} removed, {len(fixture.unchanged)} unchanged."
        )
    for plan in reused:
        typer.echo(f"fixtures {plan.dest}: reused (computed from the same solutions, grader "
                   "and versions).")
    for plan in renewed:
        typer.echo(f"fixtures {plan.dest}: reused and recorded again (their sources changed "
                   "only in comments, docstrings or layout).")


def _write_bundle(dest: Path, solutions_dir: Path, exercises: Path) -> None:
    """Make the student bundle and say what is in it."""
    bundle = make_bundle(dest, solutions_dir, exercises)
    size_kb = bundle.wheel.stat().st_size / 1024
    typer.echo(f"wrote   {bundle.wheel} ({size_kb:.0f} kB: nlpdojo without the solutions, "
               f"{bundle.fixture_files} fixture files)")
    typer.echo(f"wrote   {dest / 'exercises'} ({len(bundle.exercise_files)} files, "
               f"in sync with {solutions_dir}; topics: {', '.join(bundle.topics)})")
    typer.echo(f"wrote   {dest / 'constraints.txt'}")
    typer.echo(f"wrote   {dest / 'README.md'}")
    typer.echo(f"student bundle {dest}: students run `pip install -c constraints.txt "
               f"{bundle.wheel.name}` in it, then `grade` (see its README.md).")


def _write_gradescope(dest: Path, targets: list[str], solutions_dir: Path,
                      **policy: Any) -> None:
    """Make the Gradescope autograder zip and say what is in it."""
    made = make_gradescope_zip(dest, targets, solutions_dir, **policy)
    size_kb = dest.stat().st_size / 1024
    typer.echo(f"wrote   {dest} ({size_kb:.0f} kB): {', '.join(made.entries)}")
    typer.echo(f"gradescope autograder {dest}: grades {' '.join(made.targets)} (topics "
               f"{', '.join(made.topics)}) with --require-sandbox; upload it as the "
               "assignment's autograder (docs/grading.md, 'On Gradescope').")


def _report_check(report, stale_fixtures: list[str], solutions_dir: Path, output: Path,
                  fixture_folders: int) -> None:
    """Print what ``--check`` found; exit 1 when anything is out of date."""
    for line in stale_fixtures:
        typer.echo(f"fixture out of date: {line}")
    for difference in report.differences:
        typer.echo(f"{difference.kind}: {output / difference.path}")
        if difference.diff:
            typer.echo(difference.diff.rstrip("\n"))
    if report.in_sync and not stale_fixtures:
        fixtures_note = f", fixtures of {fixture_folders} exercises" if fixture_folders else ""
        typer.echo(
            f"{output} is in sync with {solutions_dir} "
            f"({len(report.unchanged)} files, {len(report.topics)} topics{fixtures_note})."
        )
        return
    if not report.in_sync:
        typer.echo(
            f"{len(report.differences)} files in {output} are out of sync with {solutions_dir}; "
            "run `dojo release` to regenerate them (never edit exercises/ by hand)."
        )
    if stale_fixtures:
        typer.echo("fixtures are out of sync with the solutions; run `dojo release`.")
    raise typer.Exit(1)


def new_topic_command(
    name: Annotated[str, typer.Argument(help="The topic's name (e.g. attention): its "
                                             "folder in solutions/, course/ and exercises/.")],
    title: Annotated[str | None, typer.Option(help="Its title (default: from the name).")] = None,
    order: Annotated[int | None, typer.Option(
        min=1, help="Where it comes in the course (default: after the last topic).")] = None,
    solutions: Annotated[Path | None, typer.Option(
        help="The solutions folder (default: the installed nlpdojo_solutions).")] = None,
    course: Annotated[Path | None, typer.Option(
        help="The course folder (default: the installed nlpdojo_course).")] = None,
) -> None:
    """A new topic that releases and grades at once: solutions/NAME/ (instructions and one
    question's reference) and course/NAME/ (its declaration and checks)."""
    if order is None:
        orders = [get_exercise(n).order for n in exercise_names()]
        order = max([o for o in orders if o < 100], default=0) + 1
    made = new_topic(name, solutions or _package_folder("nlpdojo_solutions"),
                     course or _package_folder("nlpdojo_course"), title=title, order=order)
    for path in made.files:
        typer.echo(f"wrote   {path}")
    typer.echo(f"topic {name}: next, `dojo release {name}` (exercises/{name}/ and its fixtures), "
               f"`dojo verify {name} --strict`, `grade {name} --solutions`; docs/authoring.md, "
               "\"A topic: two folders, no central file\", goes on from there")


def _package_folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise typer.BadParameter(f"{package} is not installed; give the folder")
    return Path(next(iter(spec.submodule_search_locations)))


def add_commands(cli: typer.Typer) -> None:
    """Attach the autograder's commands to the ``dojo`` app."""
    cli.command("release")(release_command)
    new = typer.Typer(rich_markup_mode=None, name="new", help="Scaffold course content.",
                      no_args_is_help=True,
                      pretty_exceptions_enable=False)
    new.command("topic")(report_errors(new_topic_command))
    cli.add_typer(new, name="new")
