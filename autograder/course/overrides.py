"""Overrides: a TA's decision on a student's points (a regrade request, a mistake in a check),
recorded with who made it, when and why.

An override gives a question's points (``topic.question``, the grader's points, at most that
question's), or the whole assignment's final points (course points), or excuses the
assignment (``EX`` in Canvas). Every override is kept; the latest in force for a (student,
assignment, question) applies, and one taken back (:func:`remove_override`) is kept, shown and
no longer applied. A question the assignment's attempts never graded is refused, as is an
unknown student or assignment, and a question's override for a student none of whose attempts
(void ones aside) graded it: it would apply to nothing (the whole assignment's points do).
:mod:`.policy` applies them and marks every standing they touch as overridden, which every
export and ``dojo course history`` shows.
"""

from __future__ import annotations

import getpass
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nlpdojo_autograder.course.attempts import attempts
from nlpdojo_autograder.course.config import CourseError, points_text
from nlpdojo_autograder.course.csv_input import read_rows
from nlpdojo_autograder.course.schema import read_time, utc_now
from nlpdojo_autograder.course.store import Course

#: the points cell of an overrides CSV that excuses the assignment
EXCUSED = "EX"


@dataclass(frozen=True)
class Override:
    id: int
    student: str
    assignment: str
    question: str  # '' : the whole assignment
    points: float | None
    excused: bool
    reason: str
    created_by: str
    created_at: datetime
    #: taken back (``dojo course override ... --remove``): kept and shown, never applied
    removed_by: str = ""
    removed_at: datetime | None = None
    removed_reason: str = ""

    @property
    def in_force(self) -> bool:
        return self.removed_at is None

    def describe(self) -> str:
        """What it gives: ``excused`` or ``N points``."""
        return "excused" if self.excused else f"{points_text(self.points)} points"


def who(by: str | None) -> str:
    """Who made a change: ``by``, else the account running the command."""
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name (a container without one)
        return "unknown"


def add_override(course: Course, student: str, assignment: str, question: str | None = None,
                 *, points: float | None = None, excused: bool = False, reason: str,
                 by: str | None = None) -> Override:
    """Record one override (see the module)."""
    return _write(course, [(student, assignment, question or "", points, excused, reason)],
                  by)[0]


def lowered(course: Course, override: Override) -> list[str]:
    """The attempts (void ones aside) whose points on ``override``'s question it lowers: a
    question's override applies to every attempt of the student at the assignment, later and
    better ones too (an instructor's finding: a regrade meant for attempt 1 capped attempt 2's
    full marks), so ``dojo course override`` says which."""
    if not override.question or override.points is None:
        return []
    said = []
    for attempt in attempts(course, override.student, override.assignment):
        got, most = attempt.questions.get(override.question, (None, None))
        if not attempt.voided and got is not None and got > override.points:
            said.append(f"attempt {attempt.number}: {points_text(got)} of {points_text(most)}")
    return said


#: the header of an overrides file
OVERRIDE_COLUMNS = ("student", "assignment", "question", "points", "reason")


def import_overrides(course: Course, path: Path, by: str | None = None) -> list[Override]:
    """Every override of a CSV with the header ``student,assignment,question,points,reason``
    (``question`` empty: the whole assignment; ``points`` ``EX``: excused), all or none."""
    given = []
    for line, row in read_rows(path, "overrides file", OVERRIDE_COLUMNS):
        if len(row) < 5:
            raise CourseError(f"overrides file {path}, line {line}: give student, assignment, "
                              "question (or nothing), points (or EX) and a reason")
        cell = row[3].strip()
        excused = cell.upper() == EXCUSED
        try:
            points = None if excused else float(cell.replace(",", "."))
        except ValueError:
            raise CourseError(f"overrides file {path}, line {line}: points {cell!r} is not a "
                              "number (or EX)") from None
        given.append((row[0].strip(), row[1].strip(), row[2].strip(), points, excused,
                      row[4].strip(), f"overrides file {path}, line {line}"))
    return _write(course, given, by)


def _write(course: Course, given, by: str | None) -> list[Override]:
    rows = []
    said: dict[tuple[str, str, str], str] = {}  # (student, assignment, question): where
    for student, assignment, question, points, excused, reason, *where in given:
        prefix = f"{where[0]}: " if where else ""
        try:
            rows.append(_checked(course, student, assignment, question, points, excused,
                                 reason))
        except CourseError as exc:
            raise CourseError(f"{prefix}{exc}" + ("; nothing was recorded" if where else "")
                              ) from None
        key = tuple(rows[-1][:3])
        if key in said:  # a file's two rows of one: both were recorded, the last counting
            raise CourseError(f"{prefix}{key[0]}'s {key[2] or key[1]} is overridden by "
                              f"{said[key].rpartition(', ')[2]} too: keep one; nothing was "
                              "recorded")
        said[key] = where[0] if where else ""
    author, now = who(by), utc_now()
    ids = []
    with course.transaction() as conn:
        for row in rows:
            ids.append(conn.execute(
                "INSERT INTO overrides (student, assignment, question, points, excused, reason, "
                "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, author, now)).lastrowid)
    return [o for o in overrides(course) if o.id in ids]


def _checked(course: Course, student: str, assignment: str, question: str,
             points: float | None, excused: bool, reason: str):
    sid = course.student(student).id
    a = course.assignment(assignment)
    if not reason or not reason.strip():
        raise CourseError("an override needs a reason (--reason ...): it is shown to whoever "
                          "reads the gradebook")
    if excused:
        if question:
            raise CourseError("only a whole assignment is excused; leave out the question")
        return sid, a.id, "", None, 1, reason.strip()
    if points is None or not math.isfinite(points) or points < 0:
        raise CourseError(f"override points {points!r}: give a number >= 0 (--points P), or "
                          "--excuse")
    if not question:
        if points > a.points:
            raise CourseError(f"{points_text(points)} points is more than assignment {a.id}'s "
                              f"{points_text(a.points)}")
        return sid, a.id, "", points, 0, reason.strip()
    known = questions_of(course, a.id)
    full = _resolve(question, known)
    if full is None:
        listing = ", ".join(sorted(known)) or "none graded yet: grade it first"
        raise CourseError(f"assignment {a.id} has no question {question!r} (its questions: "
                          f"{listing})")
    most = known[full]
    if points > most + 1e-9:
        raise CourseError(f"{points_text(points)} points is more than question {full}'s "
                          f"{points_text(most)}")
    if not _graded_for(course, sid, a.id, full):
        raise CourseError(
            f"{sid} has no attempt at {a.id} that graded {full} (none, or only void ones): a "
            "question's override changes the points of the attempt that counts, so it would "
            "change nothing; give the whole assignment's points instead (leave out the "
            "question: course points, at most the assignment's), or record their attempt "
            "first")
    return sid, a.id, full, points, 0, reason.strip()


def _graded_for(course: Course, student: str, assignment: str, question: str) -> bool:
    """Whether an attempt of ``student`` at ``assignment`` that is not void graded
    ``question`` (an override of it has something to apply to)."""
    return course.conn.execute(
        "SELECT 1 FROM attempts a JOIN attempt_questions q ON q.attempt = a.id "
        "WHERE a.student = ? AND a.assignment = ? AND q.question = ? AND NOT EXISTS "
        "(SELECT 1 FROM voids v WHERE v.attempt = a.id AND v.restored_at IS NULL) LIMIT 1",
        (student, assignment, question)).fetchone() is not None


def questions_of(course: Course, assignment: str) -> dict[str, float]:
    """``{topic.question: max points}`` of what the assignment's attempts graded."""
    return {r[0]: r[1] for r in course.conn.execute(
        "SELECT q.question, MAX(q.max_points) FROM attempt_questions q JOIN attempts a ON "
        "a.id = q.attempt WHERE a.assignment = ? GROUP BY q.question", (assignment,))}


def _resolve(question: str, known: dict[str, float]) -> str | None:
    if question in known:
        return question
    bare = [q for q in known if q.split(".", 1)[-1] == question]
    return bare[0] if len(bare) == 1 else None


def overrides(course: Course, student: str | None = None) -> list[Override]:
    """Every override recorded (of one student), oldest first."""
    sql, args = "SELECT * FROM overrides", ()
    if student is not None:
        sql, args = sql + " WHERE student = ?", (course.student(student).id,)
    return [Override(id=r["id"], student=r["student"], assignment=r["assignment"],
                     question=r["question"], points=r["points"], excused=bool(r["excused"]),
                     reason=r["reason"], created_by=r["created_by"],
                     created_at=read_time(r["created_at"]), removed_by=r["removed_by"] or "",
                     removed_at=read_time(r["removed_at"]) if r["removed_at"] else None,
                     removed_reason=r["removed_reason"])
            for r in course.conn.execute(sql + " ORDER BY id", args)]


def current_overrides(course: Course) -> dict[tuple[str, str, str], Override]:
    """The override that applies per (student, assignment, question): the latest in force."""
    found: dict[tuple[str, str, str], Override] = {}
    for o in overrides(course):
        if o.in_force:
            found[(o.student, o.assignment, o.question)] = o
    return found


def remove_override(course: Course, student: str, assignment: str, question: str | None = None,
                    *, reason: str, by: str | None = None) -> tuple[Override, Override | None]:
    """Take back the override in force on ``student``'s ``assignment`` (``question``: one of
    its questions; none: the whole assignment): kept and shown, no longer applied (a TA's
    ``--excuse`` by mistake could only be covered by another override, which then fixed the
    points for good). Returns it, and the override that applies now (an earlier one in force),
    if any."""
    if not reason.strip():
        raise CourseError("removing an override needs a reason (--reason ...)")
    sid = course.student(student).id
    aid = course.assignment(assignment).id
    key = question or ""
    mine = [o for o in overrides(course, sid) if o.assignment == aid and o.in_force]
    if key and key not in {o.question for o in mine}:  # a bare question id, as given
        key = _resolve(key, {o.question: 0.0 for o in mine if o.question}) or key
    matching = [o for o in mine if o.question == key]
    if not matching:
        applying = {o.question: o for o in mine}  # the latest of each: the one that applies
        listing = "; ".join(f"{q or 'the whole assignment'}: {o.describe()}"
                            for q, o in applying.items()) or "none"
        raise CourseError(f"{sid} has no override in force on {aid}"
                          f"{' ' + key if key else ' as a whole'} (those that apply: "
                          f"{listing})")
    gone = matching[-1]
    with course.transaction() as conn:
        conn.execute("UPDATE overrides SET removed_by = ?, removed_at = ?, removed_reason = ? "
                     "WHERE id = ?", (who(by), utc_now(), reason.strip(), gone.id))
    removed = next(o for o in overrides(course, sid) if o.id == gone.id)
    return removed, (matching[-2] if len(matching) > 1 else None)
