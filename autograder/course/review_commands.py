"""``dojo course regrade``, ``import-gradescope`` and ``dashboard``: a course's attempts graded
again, a course graded on Gradescope brought into the record, and the course's pages
(docs/course.md)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from nlpdojo.cli.common import console, err_console, print_warning, report_errors
from nlpdojo_autograder.course.browse import course_view, student_view
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.gradescope_export import import_export
from nlpdojo_autograder.course.policy import gradebook, points_text
from nlpdojo_autograder.course.regrade import apply, regrade
from nlpdojo_autograder.course.store import COURSE_ENV, Course, course_path
from nlpdojo_reports.comparison import render_comparison
from nlpdojo_reports.course_pages import (
    render_course_page,
    render_student_page,
    student_file,
)

CourseOption = Annotated[Path | None, typer.Option(
    "--course", metavar="PATH", help=f"The course file (default: ${COURSE_ENV}).")]


class RegradeFormat(StrEnum):
    table = "table"
    json = "json"


@report_errors
def regrade_command(
    assignment: Annotated[str, typer.Argument(help="The assignment's id.")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Submissions graded in "
                                      "parallel (as grade --jobs).")] = 1,
    apply_it: Annotated[bool, typer.Option(
        "--apply", help="Accept: replace each changed attempt's result by its regrade (the "
        "old result is kept in the record). Without it nothing is written.")] = False,
    fmt: Annotated[RegradeFormat, typer.Option("--format", "-f", help="table | json")]
        = RegradeFormat.table,
    show_all: Annotated[bool, typer.Option("--all", help="List the students whose points did "
                                           "not change too.")] = False,
    students: Annotated[list[str] | None, typer.Option(
        "--student", "-s", metavar="STUDENT", help="Regrade this student's attempts only (id, "
        "login or email; repeat for several): a regrade request. The others' stay as "
        "recorded.")] = None,
    course: CourseOption = None,
) -> None:
    """Grade the counted attempts again with the current grader; --apply to accept."""
    with Course.open(course_path(course)) as opened:
        found = regrade(opened, assignment, jobs=jobs, students=students)
        if fmt is RegradeFormat.json:
            sys.stdout.write(json.dumps(found.comparison, indent=2, allow_nan=False) + "\n")
        else:
            typer.echo(render_comparison(found.comparison, width=max(console.width, 100),
                                         show_all=show_all), nl=False)
        for row in found.failed:
            print_warning(f"{row.student.name} ({row.student.id}), attempt "
                          f"{row.attempt.number}: not regraded: {row.why}")
        if fmt is RegradeFormat.table:
            for change in found.comparison["standings"]:
                moved = ("" if change["attempt_before"] == change["attempt_after"] else
                         f" (attempt {change['attempt_after']} counts, not "
                         f"{change['attempt_before']})")
                typer.echo(f"{'applied' if apply_it else 'would change'}: {change['name']} "
                           f"{change['assignment']}: {points_text(change['before'])} -> "
                           f"{points_text(change['after'])}{moved}")
        if not apply_it:
            if found.changed:
                err_console.print(f"nothing written: {len(found.changed)} attempt(s) would "
                              f"change; run again with --apply to accept")
            return
        done = apply(opened, found)
    err_console.print(f"applied: {len(done)} attempt(s) of {assignment} now hold their regrade "
                  "(the results before are kept in the record's regrades)")


@report_errors
def import_gradescope_command(
    assignment: Annotated[str, typer.Argument(help="The assignment's id in the course.")],
    export: Annotated[Path, typer.Argument(
        help="The zip of Gradescope's Review Grades > Export Submissions (or its folder).")],
    points_possible: Annotated[float | None, typer.Option(
        "--points-possible", metavar="N",
        help="The autograder's total, for runs whose results list no tests (default: the "
             "largest total of the export's runs that list them).")] = None,
    course: CourseOption = None,
) -> None:
    """Record Gradescope's Export Submissions as attempts at ASSIGNMENT."""
    with Course.open(course_path(course)) as opened:
        done = import_export(opened, assignment, export, points_possible=points_possible)
    first, *rest = done.report()
    typer.echo(f"{assignment}: {first}")
    for line in rest:
        print_warning(line)
    if done.refused:  # the others are recorded: a script still hears that some were not
        raise typer.Exit(1)


@report_errors
def dashboard_command(
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="The folder to write index.html and students/ into (new, or "
        "one this command wrote).")],
    course: CourseOption = None,
) -> None:
    """The course pages: per assignment submitted, missing, late, mean and distribution; a page
    per student (attempts, late days, overrides). For the instructor: they hold grades."""
    if output.exists() and not output.is_dir():
        raise CourseError(f"--output {output} is a file: give a folder")
    if output.is_dir() and any(output.iterdir()) and not (output / "index.html").is_file():
        raise CourseError(f"--output {output} holds other files: give a new folder (the pages "
                          "hold names and grades, and are written for the instructor only)")
    with Course.open(course_path(course)) as opened:
        book = gradebook(opened)
        view = course_view(opened, book)
        pages = {"index.html": render_course_page(view)}
        # numbered as the index lists them (the enrolled, in roster order): numbered over
        # every student, a withdrawn one shifted each link after it to the next one's page
        for n, s in enumerate(book.enrolled):
            pages[student_file(n)] = render_student_page(student_view(opened, s.id, book),
                                                         opened.name)
    for folder in (output, output / "students"):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, text in pages.items():
        _write_private(output / name, text)
    for old in (output / "students").glob("*.html"):  # an earlier run's, of more students
        if f"students/{old.name}" not in pages:
            old.unlink()
    err_console.print(f"course pages written to {output / 'index.html'} ({len(pages) - 1} "
                      "student pages; readable by you only)")


def _write_private(path: Path, text: str) -> None:
    """``text`` to ``path``, readable by its owner only, replaced atomically."""
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def add_review_commands(app: typer.Typer) -> None:
    """Attach ``regrade``, ``import-gradescope`` and ``dashboard`` to ``dojo course``."""
    app.command("regrade")(regrade_command)
    app.command("import-gradescope")(import_gradescope_command)
    app.command("dashboard")(dashboard_command)
