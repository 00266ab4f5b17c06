"""Gradebook exports: a Canvas gradebook import file, a Moodle grade import file and a plain
CSV, each with the late policy, extensions and overrides applied (:mod:`.policy`), and a
second file explaining each student's adjustments (docs/course.md, "Exports").

- **canvas**: Canvas's ``GradebookImporter`` reads the header ``Student, ID, SIS User ID,
  SIS Login ID, Section`` then one column per assignment titled ``Title (lms_id)`` (matched by
  id; ``Title`` alone where the id is unknown, matched by title), a second row whose first
  cell is ``Points Possible``, and ``EX`` for excused.
- **moodle**: Moodle's CSV grade import maps one identifying column (here ``email``, or
  ``--moodle-id login|id``) to the user and each grade column to a grade item, with an
  optional feedback column per item: ``email, Title, Title feedback, ...``.
- **csv**: everything: the student's columns, per assignment the final points, the status,
  the attempt counted, late days and whether it was overridden, then the late-day ledger.

The adjustments file (``<output stem>-adjustments.csv``): one row per adjustment (attempt
chosen, extension, late days, penalty, override, excused, missing) with the points before and
after. Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, a tab,
a carriage return first) are prefixed with ``'`` (OWASP, "CSV injection"); the points cells
are numbers we write and are never changed. Files are written 0600 (they hold grades and
names) and atomically.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.policy import Gradebook, Standing, gradebook, points_text
from nlpdojo_autograder.course.store import Course, Student
from nlpdojo_reports.gradebook import QUOTING, inert

FORMATS = ("canvas", "moodle", "csv")
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"
EXCUSED = "EX"
MISSING = ("zero", "blank")
MOODLE_IDS = ("email", "login", "id")


@dataclass(frozen=True)
class Export:
    """What :func:`export` wrote."""

    path: Path
    adjustments: Path
    students: int
    warnings: tuple[str, ...] = ()


def export(course: Course, fmt: str, output: Path, *, missing: str = "zero",
           moodle_id: str = "email") -> Export:
    """Write the ``fmt`` export to ``output`` and its adjustments file beside it."""
    if fmt not in FORMATS:
        raise CourseError(f"export format {fmt!r}: use one of {', '.join(FORMATS)}")
    if missing not in MISSING:
        raise CourseError(f"--missing {missing!r}: use one of {', '.join(MISSING)}")
    adjustments = output.with_name(f"{output.stem}-adjustments.csv")
    course.refuse_as_output(output)
    course.refuse_as_output(adjustments, "the adjustments file of --output,")
    book = gradebook(course)
    if not book.enrolled:
        raise CourseError(f"course {course.path} has no roster: import one with `dojo course "
                          "roster import FILE` before exporting")
    warnings: list[str] = []
    if fmt == "canvas":
        rows = canvas_rows(book, missing)
        formulas = [f"{s.name} ({value!r})" for s in book.enrolled
                    for value in (s.id, s.sis_user_id, s.login) if value and inert(value) != value]
        if formulas:  # (an identifier changed in silence: an instructor's trial)
            warnings.append(f"{len(formulas)} identifier(s) start like a spreadsheet formula "
                            "and are written with a leading ' (OWASP): "
                            + ", ".join(formulas[:5]) + ("..." if len(formulas) > 5 else "")
                            + "; check in Canvas's import preview that each student matches")
        plain = [s for s in book.enrolled if s.source != "canvas"]
        if plain:
            warnings.append(f"{len(plain)} student(s) come from a roster that is not a Canvas "
                            "export: their ids are written as SIS User ID, Canvas's ID left "
                            "empty; check in Canvas's import preview that it matches each "
                            "(a Canvas gradebook export as the roster carries Canvas's ids)")
    elif fmt == "moodle":
        rows = moodle_rows(book, missing, moodle_id, warnings)
    else:
        rows = csv_rows(book)
    _write(output, rows)
    _write(adjustments, adjustment_rows(book))
    return Export(output, adjustments, len(book.enrolled), tuple(warnings))


def canvas_rows(book: Gradebook, missing: str = "zero") -> list[list[str]]:
    """The Canvas gradebook import file's rows."""
    header = [*CANVAS_STUDENT_COLUMNS, *(canvas_title(a.title, a.lms_id)
                                         for a in book.assignments)]
    rows = [[inert(c) for c in header],
            [POINTS_POSSIBLE, "", "", "", "", *(points_text(a.points)
                                                for a in book.assignments)]]
    for s in book.enrolled:
        # Canvas matches a row by its ID first, its own user id: a plain roster's ids are
        # the course's (a university number could be another Canvas user's id), so they go
        # in SIS User ID, which Canvas matches next, and ID stays empty
        canvas = s.source == "canvas"
        cells = [inert(s.name), inert(s.id) if canvas else "",
                 inert(s.sis_user_id or ("" if canvas else s.id)), inert(s.login),
                 inert(s.section)]
        rows.append(cells + [_points(book.standing(s.id, a.id), missing)
                             for a in book.assignments])
    return rows


def canvas_title(title: str, lms_id: str) -> str:
    """An assignment's column title: ``Title (id)``, matched by Canvas on the id."""
    return f"{title} ({lms_id})" if lms_id else title


def moodle_rows(book: Gradebook, missing: str, id_column: str,
                warnings: list[str]) -> list[list[str]]:
    """The Moodle grade import file's rows: the identifier, then per item its grade and
    feedback columns."""
    if id_column not in MOODLE_IDS:
        raise CourseError(f"--moodle-id {id_column!r}: use one of {', '.join(MOODLE_IDS)}")
    lacking = [s for s in book.enrolled if not _identifier(s, id_column)]
    if lacking:
        names = ", ".join(f"{s.name} ({s.id})" for s in lacking[:5]) + (
            f" and {len(lacking) - 5} more" if len(lacking) > 5 else "")
        others = " or ".join(i for i in MOODLE_IDS if i != id_column)
        raise CourseError(f"{len(lacking)} student(s) have no {id_column} in the roster "
                          f"({names}); Moodle matches users by it: import a roster with it, or "
                          f"choose --moodle-id {others}")
    header = [id_column]
    for a in book.assignments:
        header += [inert(a.title), inert(f"{a.title} feedback")]
    rows = [header]
    for s in book.enrolled:
        ident = _identifier(s, id_column)
        if inert(ident) != ident:
            warnings.append(f"{s.name}'s {id_column} {ident!r} starts like a spreadsheet "
                            "formula: written with a leading ' (OWASP); match that student "
                            "by hand in Moodle's import")
        row = [inert(ident)]
        for a in book.assignments:
            standing = book.standing(s.id, a.id)
            grade = _points(standing, missing)
            row += ["" if grade == EXCUSED else grade, inert(feedback(standing))]
        rows.append(row)
    return rows


def csv_rows(book: Gradebook) -> list[list[str]]:
    """The plain CSV: student, per assignment its standing, the ledger, the total."""
    header = ["id", "name", "email", "login", "sis_user_id", "section"]
    for a in book.assignments:
        header += [a.id, f"{a.id} status", f"{a.id} attempt", f"{a.id} late days",
                   f"{a.id} overridden"]
    header += ["late days used", "late days left", "total", "points possible"]
    rows = [header]
    for s in book.enrolled:
        row = [inert(v) for v in (s.id, s.name, s.email, s.login, s.sis_user_id, s.section)]
        total = 0.0
        for a in book.assignments:
            st = book.standing(s.id, a.id)
            total += st.score if st.status != "excused" else 0.0
            row += [_points(st, "zero"), st.status,
                    str(st.attempt.number) if st.attempt else "", str(st.late_days),
                    "yes" if st.overridden else "no"]
        ledger = book.ledgers[s.id]
        # out of the points of the work graded or missed: not of work excused or not due yet
        possible = sum(a.points for a in book.assignments
                       if book.standing(s.id, a.id).status not in ("excused", "open"))
        row += [str(ledger.bank - ledger.left), str(ledger.left), points_text(total),
                points_text(possible)]
        rows.append(row)
    return rows


def adjustment_rows(book: Gradebook) -> list[list[str]]:
    """One row per adjustment of a standing: what, and the points it leaves."""
    rows = [["student", "name", "assignment", "status", "points", "overridden",
             "late days used", "late days left", "adjustment"]]
    for s in book.enrolled:
        ledger = book.ledgers[s.id]
        left = ledger.bank
        for a in sorted(book.assignments, key=lambda a: (a.due, a.position)):
            st = book.standing(s.id, a.id)
            left -= st.bank_days
            for note in st.notes:
                rows.append([inert(s.id), inert(s.name), inert(a.id), st.status,
                             _points(st, "zero"), "yes" if st.overridden else "no",
                             str(st.bank_days), str(left), inert(note)])
    return rows


def feedback(st: Standing) -> str:
    """What the student is told beside the grade: the adjustments, in words."""
    return "; ".join(st.notes)


def _points(st: Standing, missing: str) -> str:
    if st.status == "excused":
        return EXCUSED
    if st.status == "open" or st.status == "missing" and missing == "blank":
        return ""  # not due yet: no grade, never a 0
    return points_text(st.score)


def _identifier(s: Student, column: str) -> str:
    return {"email": s.email, "login": s.login, "id": s.id}[column]


def _write(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n", quoting=QUOTING).writerows(rows)
    if not path.parent.is_dir():
        raise CourseError(f"folder {path.parent} does not exist: create it, or give another "
                          "--output")
    if path.is_dir():
        raise CourseError(f"--output {path} is a folder: give the file to write (e.g. "
                          f"{path / 'canvas.csv'})")
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(out.getvalue())
        os.replace(temp, path)
    except BaseException:  # nothing of it left behind (the gradebook, readable by no one else)
        temp.unlink(missing_ok=True)
        raise
