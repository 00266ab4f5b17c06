"""``dojo similarity``: a cohort's similarity report, question by question, on what the students
wrote (:mod:`nlpdojo_autograder.release.similarity`)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from nlpdojo.cli.common import console, err_console, print_warning, report_errors
from nlpdojo.cli.formats import DataFormat, format_option
from nlpdojo.settings import CourseConfig, pick
from nlpdojo_autograder.cli.grade_options import OUTPUT_ENV
from nlpdojo_autograder.course.references import restore_cohort
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise
from nlpdojo_autograder.grading.snapshot import cohort_output
from nlpdojo_autograder.release.similarity import (
    MIN_SIZE,
    THRESHOLD,
    SimilarityError,
    compare_cohort,
)
from nlpdojo_autograder.runtime.loader import (
    SubmissionImportError,
    load_reference_dir,
    reference_available,
)
from nlpdojo_reports.dashboard import relink_dashboard
from nlpdojo_reports.similarity import (
    SIMILARITY_HTML,
    SIMILARITY_JSON,
    render_similarity,
    report_data,
)
from nlpdojo_reports.writer import atomic_write_text, check_writable


@report_errors
def similarity_command(
    submissions: Annotated[Path, typer.Argument(
        help="A folder of submission folders (as grade --submissions takes).")],
    topic: Annotated[list[str] | None, typer.Option(
        "--topic", "-t", help="The topic to compare (repeat for several; default: every topic "
        "folder the submissions hold).")] = None,
    reference: Annotated[list[Path] | None, typer.Option(
        "--reference", "-r", metavar="DIR", help="A past cohort's folder of submission folders "
        "(or one known solution's folder) to compare every submission with; repeatable.")]
        = None,
    reference_course: Annotated[list[Path] | None, typer.Option(
        "--reference-course", metavar="FILE", help="A past course's record (dojo course): "
        "every student's counted attempt, from the sources it keeps, as a reference; "
        "repeatable.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="DIR", help="Where similarity.html and similarity.json go "
        "(default: where grade --submissions writes the cohort's dashboard).")]
        = None,
    fmt: format_option("the ranked pairs") = DataFormat.table,
    threshold: Annotated[float, typer.Option(
        "--threshold", min=0.0, max=1.0, help="A question scoring this or more flags its pair.")]
        = THRESHOLD,
    min_size: Annotated[int, typer.Option(
        "--min-size", min=0, help="Questions with fewer normalised characters of the student's "
        "own code (names as V, no comments or blanks) are not compared.")] = MIN_SIZE,
    top: Annotated[int, typer.Option(
        "--top", min=0, help="Pairs listed besides the flagged ones.")] = 50,
    solutions: Annotated[Path | None, typer.Option(
        "--solutions", help="The reference solutions' folder, whose markers tell the student's "
        "code from the stubs (default: the installed nlpdojo_solutions).")] = None,
) -> None:
    """Rank pairs of submissions by how much of each question's own code they share: the
    released stubs and given code left out, past cohorts as references, matched regions side by
    side in similarity.html. Nothing is sent anywhere."""
    out_dir = output if output is not None else _cohort_folder(submissions)
    if out_dir.exists() and not out_dir.is_dir():
        raise SimilarityError(f"--output {out_dir} is a file: give a folder")
    check_writable(out_dir, folder=True)  # (it leaves no folder it made behind)
    with tempfile.TemporaryDirectory(prefix="nlpdojo-past-cohorts-") as tmp:
        past = [_past_cohort(path, Path(tmp)) for path in reference_course or ()]
        report = compare_cohort(submissions, solutions or _solutions(submissions, topic),
                                topic or None,
                                references=[*(reference or ()), *past],
                                threshold=threshold, min_size=min_size, exclude=[out_dir])
        data = report_data(report, top)
        page = render_similarity(report, top)  # both made before either is written
    atomic_write_text(out_dir / SIMILARITY_JSON, json.dumps(data, indent=2) + "\n")
    atomic_write_text(out_dir / SIMILARITY_HTML, page)
    linked = relink_dashboard(out_dir)
    for warning in report.warnings:
        print_warning(warning)
    if fmt is DataFormat.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        console.print(_table(data))
    err_console.print(f"similarity report written to {out_dir / SIMILARITY_HTML} (and "
                      f"{SIMILARITY_JSON})" + ("; linked from the cohort dashboard there"
                                               if linked else ""), highlight=False)


def _past_cohort(course_file: Path, tmp: Path) -> Path:
    """A past course record's counted attempts written under ``tmp`` as a cohort folder."""
    if (tmp / course_file.stem).exists():
        raise SimilarityError(f"two --reference-course files are named {course_file.stem}: "
                              "rename one (a reference is shown by its file's name)")
    cohort = restore_cohort(course_file, tmp)
    if cohort.without_sources:
        print_warning(f"{course_file}: {cohort.without_sources} counted attempt(s) were recorded "
                      "without their sources and are not compared")
    for failed in cohort.not_restored:
        print_warning(f"{course_file}: not compared: {failed}")
    if not cohort.restored:
        raise SimilarityError(f"{course_file} keeps the sources of no counted attempt: nothing "
                              "of that course to compare with")
    return cohort.folder


def _table(data: dict) -> Table:
    table = Table(title=f"Pairs ({data['pairs_flagged']} flagged at {data['threshold']:g}; "
                        f"{data['pairs_compared']} share any code)", title_justify="left")
    for col in ("#", "submission", "submission", "best", "flagged questions"):
        table.add_column(col, overflow="fold")
    for pair in data["pairs"]:
        table.add_row(str(pair["rank"]), Text(pair["a"]), Text(pair["b"]),
                      f"{pair['score']:.2f}", Text(", ".join(pair["flagged"]) or "-"))
    return table


def _cohort_folder(submissions: Path) -> Path:
    """Where ``grade --submissions`` writes this cohort's reports by default (the course's
    output folder: ``NLPDOJO_GRADE_OUTPUT``, else the course configuration's ``output``; else
    beside the submissions), so that the dashboard and the report sit side by side."""
    folder = pick("output", None, OUTPUT_ENV, None, CourseConfig())
    if folder.value is not None:
        return Path(folder.value) / f"{submissions.resolve().name}-results"
    return cohort_output(submissions)


def _solutions(submissions: Path, topics: list[str] | None) -> Path:
    """The folder of the installed reference solutions of the topics compared (``topics``,
    else the installed topics whose folders the submissions hold): where each topic's
    registered reference lies, as ``grade`` finds it (a pack's own solutions were looked for in
    nlpdojo_solutions: a TA's trial); else nlpdojo_solutions'."""
    names = set(exercise_names())
    wanted = set(topics or ()) or {
        p.name for f in (submissions.iterdir() if submissions.is_dir() else ())
        if f.is_dir() for p in (f.iterdir() if f.is_dir() else ())
        if p.is_dir() and p.name in names}
    roots = set()
    for name in sorted(wanted & names):
        try:
            roots.add(load_reference_dir(get_exercise(name).reference_package).parent)
        except SubmissionImportError:
            continue  # its reference is not installed: said below, or by the comparison
    if len(roots) > 1:
        raise SimilarityError(f"the topics' reference solutions lie in different folders "
                              f"({', '.join(sorted(map(str, roots)))}): compare one topic at a "
                              "time (--topic), or give the solutions' folder with --solutions "
                              "DIR")
    if roots:
        return roots.pop()
    if not reference_available("nlpdojo_solutions"):
        raise SimilarityError("the reference solutions (nlpdojo_solutions) are not installed "
                              "here: their markers tell a student's code from the stubs; pass "
                              "their folder with --solutions DIR")
    import nlpdojo_solutions

    return Path(nlpdojo_solutions.__file__).parent


def add_similarity_command(cli: typer.Typer) -> None:
    cli.command("similarity")(similarity_command)
