"""A past cohort kept in a course record, laid out as ``dojo similarity --reference`` reads one.

A course record keeps the sources of every attempt it graded (:mod:`.attempts`, content
addressed), so last year's course file is last year's cohort: :func:`restore_cohort` writes
each student's *counted* attempt (the one the late policy picks, :mod:`.policy`) at every
assignment into a folder of submission folders named ``STUDENT-ASSIGNMENT``. Attempts that
did not count are left out (a student's earlier tries are not another student), and so are
attempts recorded without their sources (from a result file, or an earlier Gradescope
submission), which are counted and said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from nlpdojo_autograder.course.attempts import restored_or_why
from nlpdojo_autograder.course.policy import gradebook
from nlpdojo_autograder.course.store import Course


@dataclass
class RestoredCohort:
    """Where a course record's counted attempts were written, and how many."""

    folder: Path
    restored: int
    without_sources: int
    #: ``student-assignment`` and why, for each attempt whose sources could not be written
    not_restored: list[str] = field(default_factory=list)


def restore_cohort(course_file: Path, dest: Path) -> RestoredCohort:
    """Write the counted attempts of the course at ``course_file`` into ``dest/<its stem>``
    (created; ``dest`` must exist): one submission folder per student and assignment."""
    with Course.open(course_file) as course:
        folder = dest / Path(course_file).stem
        folder.mkdir()
        book = gradebook(course)
        restored = missing = 0
        failed: list[str] = []
        for assignment in course.assignments():
            for student in book.students:
                attempt = book.standing(student.id, assignment.id).attempt
                if attempt is None:
                    continue
                if not attempt.sources_tree:
                    missing += 1
                    continue
                name = _folder_name(f"{student.id}-{assignment.id}")
                why = restored_or_why(course, attempt.sources_tree, folder / name)
                if why:  # one that cannot be written stops no other
                    failed.append(f"{student.id} on {assignment.id} (attempt "
                                  f"{attempt.number}): {why}")
                else:
                    restored += 1
    return RestoredCohort(folder, restored, missing, failed)


def _folder_name(text: str) -> str:
    """``text`` as one folder's name: a student id may be an email or hold a slash."""
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", text).lstrip(".") or "_"
