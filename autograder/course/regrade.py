"""``dojo course regrade ASSIGNMENT``: the counted attempts graded again by the current grader,
and what changed for whom, before anything in the record changes.

Each student's counted attempt (:func:`~.policy.gradebook`, by the assignment's "which
attempt counts") is restored from the course's content-addressed sources into a cohort
folder and graded as a cohort (``grade TARGETS --submissions DIR --jobs N``) on the input
seed and backend it was graded on, so that a verdict that changes is the grader's doing, not
new inputs'. The comparison (:func:`~nlpdojo_reports.comparison.compare_results`, keyed by
student) gives per student the points before and after, the checks whose verdict changed and
the new message. :func:`apply` then replaces each changed attempt's result
(:func:`~.attempts.replace_result`, the old one kept in ``regrades``), one transaction per
attempt; an attempt whose grading failed, or one without kept sources (an earlier Gradescope
submission, whose files no export holds), is listed and left as it is. ``students`` narrows it
to some students (a student's regrade request): theirs are the only attempts graded, compared
and applied; the others' stay as recorded.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlpdojo_autograder.course.attempts import (
    Attempt,
    attempts,
    replace_result,
    restored_or_why,
)
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.policy import gradebook
from nlpdojo_autograder.course.store import COURSE_ENV, Course, Student
from nlpdojo_autograder.grading.grade import INPUT_SEED_ENV
from nlpdojo_autograder.grading.results import GradingResult
from nlpdojo_reports.comparison import compare_results

#: grades a cohort folder: ``(cohort, targets, output, jobs, input_seed, backend)`` ->
#: ``{folder name: result}`` (a folder left out: its grading failed)
GradeCohort = Callable[[Path, list[str], Path, int, "int | None", "str | None"],
                       dict[str, GradingResult]]


@dataclass
class Regraded:
    """One counted attempt, its recorded result and its result now (``None``: see ``why``)."""

    student: Student
    attempt: Attempt
    before: GradingResult
    after: GradingResult | None = None
    why: str = ""

    @property
    def changed(self) -> bool:
        if self.after is None:
            return False
        return (self.after.score != self.before.score
                or self.after.max_score != self.before.max_score
                or _verdicts(self.after) != _verdicts(self.before))


@dataclass
class Regrade:
    """What a regrade found: per attempt, and the comparison document."""

    assignment: str
    rows: list[Regraded] = field(default_factory=list)
    comparison: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> list[Regraded]:
        return [r for r in self.rows if r.changed]

    @property
    def failed(self) -> list[Regraded]:
        return [r for r in self.rows if r.after is None]


def _verdicts(result: GradingResult) -> dict[tuple[str, str], tuple[str, float]]:
    return {(ex.name, c.id): (c.status, c.score) for ex, c in result.checks()}


def counted_attempts(course: Course, assignment: str) -> list[tuple[Student, Attempt]]:
    """Each student's counted attempt at ``assignment`` (students with none left out)."""
    course.assignment(assignment)
    book = gradebook(course)
    return [(s, st.attempt) for s in book.students
            if (st := book.standing(s.id, assignment)).attempt is not None]


def regraded_attempts(course: Course, assignment: str) -> list[tuple[Student, Attempt]]:
    """The attempts a regrade grades again: each student's counted one; under ``counts =
    "best"`` every one, since the attempt that counts is chosen by its points: regrading the
    counted one alone left the others as the old grader scored them, and the choice then
    fell on one of those (a regrade to 0 undone by an unregraded copy)."""
    if course.assignment(assignment).counts != "best":
        return counted_attempts(course, assignment)
    students = {s.id: s for s in course.students()}
    return [(students[a.student], a) for a in attempts(course, assignment=assignment)
            if a.student in students]


def regrade(course: Course, assignment: str, *, jobs: int = 1,
            grade: GradeCohort | None = None,
            students: Sequence[str] | None = None) -> Regrade:
    """Grade the attempts that can count again (:func:`regraded_attempts`), of ``students``
    only where they are named (an id, login or email each); what the record would then say
    of every student's standings (:func:`standings_after`, another assignment's too: bank
    days follow the attempt that counts). Nothing is written."""
    spec = course.assignment(assignment)
    grade = grade or grade_cohort
    found = Regrade(assignment)
    pairs = regraded_attempts(course, assignment)
    if not pairs:
        raise CourseError(f"assignment {assignment} has no counted attempt to regrade: "
                          "record attempts first (grade --submissions ... with the course, "
                          "or dojo course import-gradescope)")
    if students:
        pairs = _of_students(course, assignment, pairs, students)
    several = len({s.id for s, _ in pairs}) < len(pairs)
    with tempfile.TemporaryDirectory(prefix="nlpdojo-regrade-") as tmp:
        groups: dict[tuple[int | None, str | None], list[Regraded]] = {}
        for student, attempt in pairs:
            row = Regraded(student, attempt, attempt.result(course))
            found.rows.append(row)
            if not attempt.sources_tree:
                row.why = _no_sources(attempt)
                continue
            backend = row.before.backend if row.before.backend in ("numpy", "torch") else None
            groups.setdefault((attempt.input_seed, backend), []).append(row)
        for n, ((seed, backend), rows) in enumerate(sorted(
                groups.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1] or ""))):
            cohort = Path(tmp) / f"cohort-{n}"
            cohort.mkdir()
            restored = []
            for row in rows:  # each on its own: one that cannot be written stops no other
                row.why = restored_or_why(course, row.attempt.sources_tree,
                                          cohort / _folder(row.attempt)) or ""
                if not row.why:
                    restored.append(row)
            if not restored:
                continue
            results = grade(cohort, list(spec.targets), Path(tmp) / f"out-{n}", jobs, seed,
                            backend)
            for row in restored:
                row.after = results.get(_folder(row.attempt))
                if row.after is None:
                    row.why = "its grading failed (see grade's output above)"
    done = [r for r in found.rows if r.after is not None]
    found.comparison = compare_results({_key(r, several): r.before for r in done},
                                       {_key(r, several): r.after for r in done},
                                       old="recorded", new="regraded", assignment=assignment)
    found.comparison["not_regraded"] = [
        {"name": _key(r), "attempt": r.attempt.number, "why": r.why}
        for r in found.rows if r.after is None]
    found.comparison["standings"] = standings_after(course, found)
    return found


def _of_students(course: Course, assignment: str, pairs: list[tuple[Student, Attempt]],
                 named: Sequence[str]) -> list[tuple[Student, Attempt]]:
    """The attempts of ``pairs`` that are the ``named`` students' (each found as
    :meth:`Course.student` finds one); a named student with no attempt to regrade is an error
    that says so, before anything is graded."""
    wanted = {course.student(name).id: name for name in named}
    kept = [(s, a) for s, a in pairs if s.id in wanted]
    missing = [f"{name!r}" if name == sid else f"{name!r} ({sid})"
               for sid, name in wanted.items() if sid not in {s.id for s, _ in kept}]
    if missing:
        raise CourseError(f"no attempt at {assignment} to regrade for {', '.join(missing)}: "
                          f"`dojo course history STUDENT` lists a student's attempts")
    return kept


def standings_after(course: Course, found: Regrade) -> list[dict[str, Any]]:
    """Each standing (a student on an assignment, any assignment) whose course points
    :func:`apply` would change: ``{"name", "student", "assignment", "before", "after",
    "attempt_before", "attempt_after"}``, computed on a copy of the record with the regrade
    applied (the record itself untouched)."""
    before = gradebook(course)
    with tempfile.TemporaryDirectory(prefix="nlpdojo-regrade-preview-") as tmp:
        copy = Path(tmp) / "preview.course"
        target = sqlite3.connect(copy)
        try:
            course.conn.backup(target)
        finally:
            target.close()
        with Course.open(copy) as preview:
            apply(preview, found)
            after = gradebook(preview)
    changes = []
    for key, was in before.standings.items():
        now = after.standings[key]
        if now.score != was.score or _number(now) != _number(was):
            changes.append({"name": f"{was.student.name} ({was.student.id})",
                            "student": was.student.id, "assignment": key[1],
                            "before": was.score, "after": now.score,
                            "attempt_before": _number(was), "attempt_after": _number(now)})
    return changes


def _number(standing) -> int | None:
    return standing.attempt.number if standing.attempt is not None else None


def _no_sources(attempt: Attempt) -> str:
    """Why ``attempt`` cannot be graded again: the record kept none of its files."""
    if attempt.submitted_from == "gradescope":
        return ("no sources kept for this attempt (an earlier Gradescope submission, whose "
                "files no export holds)")
    return ("no sources kept for this attempt (recorded from a result file without "
            "--submission: `dojo course record RESULT --submission FOLDER` keeps them)")


def _key(row: Regraded, attempt: bool = False) -> str:
    name = f"{row.student.name} ({row.student.id})"
    return f"{name}, attempt {row.attempt.number}" if attempt else name


def _folder(attempt: Attempt) -> str:
    return f"attempt-{attempt.id}"


def apply(course: Course, found: Regrade) -> list[Regraded]:
    """Replace each changed attempt's result by its regrade (the old one kept); return them."""
    done = []
    for row in found.changed:
        assert row.after is not None
        replace_result(course, row.attempt.id, row.after)
        done.append(row)
    return done


# -- grading a cohort with the current grader ---------------------------------------------------
def grade_cohort(cohort: Path, targets: list[str], output: Path, jobs: int,
                 input_seed: int | None, backend: str | None) -> dict[str, GradingResult]:
    """``grade TARGETS --submissions COHORT --jobs N --output OUTPUT --format json`` in a
    process of its own (its working folder the cohort's parent, so no submission folder is on
    its import path); each folder's ``result.json`` read back, but for a submission whose
    grading failed or that the grading refused (``grading failed: ...``, ``refused: ...`` in
    the summary's errors: kept sources that a later grader's snapshot refuses keep their
    attempt's score, as a failed grading does)."""
    command = [*_grade_command(), *targets, "--submissions", str(cohort), "--jobs", str(jobs),
               "--output", str(output), "--format", "json", "--quiet"]
    if backend:
        command += ["--backend", backend]
    # no course: the regrade's cohort (attempt-1, attempt-2...) is graded, never recorded
    # (a relative NLPDOJO_COURSE, read in the cohort's folder, stopped every regrade)
    env = {k: v for k, v in os.environ.items() if k not in (INPUT_SEED_ENV, COURSE_ENV)}
    if input_seed is not None:
        env[INPUT_SEED_ENV] = str(input_seed)
    # grade's own report of the cohort goes to stderr: stdout is the regrade's (its JSON)
    try:
        proc = subprocess.run(command, cwd=cohort.parent, env=env, check=False,
                              stdout=sys.stderr.fileno())
    except (AttributeError, ValueError, io.UnsupportedOperation):  # a stderr without a file
        proc = subprocess.run(command, cwd=cohort.parent, env=env, check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sys.stderr.write(proc.stdout)
    if proc.returncode not in (0, 1):
        raise CourseError(f"grade could not grade the regrade's cohort (exit {proc.returncode}; "
                          "its error is above): nothing was changed")
    try:
        summary = json.loads((output / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CourseError(f"grade wrote no readable summary of the regrade ({exc}): nothing "
                          "was changed") from None
    failed = {row["name"] for row in summary.get("submissions", [])
              if any(str(e).startswith(("grading failed", "refused"))
                     for e in row.get("errors", []))}
    results = {}
    for folder in sorted(p for p in cohort.iterdir() if p.is_dir()):
        path = output / folder.name / "result.json"
        if folder.name not in failed and path.is_file():
            results[folder.name] = GradingResult.load(path)
    return results


def _grade_command() -> list[str]:
    script = Path(sys.executable).with_name("grade")
    if script.is_file():
        return [str(script)]
    found = shutil.which("grade")
    if found:
        return [found]
    return [sys.executable, "-I", "-m", "nlpdojo_autograder.cli.launch"]
