"""What the course pages show, as plain data: the course view (per assignment: submitted,
missing, late, excused, mean and the distribution of the final points) and a student's page
(their attempts, late days used and left, overrides), computed from the record by the late
policy (:func:`~.policy.gradebook`), exactly as the exports are.

``dojo course dashboard`` renders them (:mod:`nlpdojo_reports.course_pages`); the data is
plain JSON so that a test, or a notebook, reads the same numbers the pages show. The pages
hold personal data: they are written for the instructor only (docs/course.md, "Browsing").
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import datetime
from typing import Any

from nlpdojo_autograder.course.attempts import attempts
from nlpdojo_autograder.course.config import local_time
from nlpdojo_autograder.course.overrides import current_overrides, overrides
from nlpdojo_autograder.course.policy import Gradebook, gradebook, late_days
from nlpdojo_autograder.course.store import Course, Student

BINS = 10


def histogram(scores: list[float], most: float, bins: int = BINS) -> list[int]:
    """How many of ``scores`` fall in each of ``bins`` equal bins over ``[0, most]`` (full
    points in the last)."""
    counts = [0] * bins
    for score in scores:
        i = int(bins * max(0.0, score) / most) if most > 0 else bins - 1
        counts[min(i, bins - 1)] += 1
    return counts


def _clock(course: Course) -> Callable[[datetime], str]:
    """Times as the course's clock reads them (its ``timezone``), not UTC's: what a TA
    compares with the due date they wrote."""
    zone = course.meta("timezone") or ""
    return lambda moment: local_time(moment, zone)


def course_view(course: Course, book: Gradebook | None = None) -> dict[str, Any]:
    """The course at a glance: per assignment its counts, mean and distribution; per student
    their final points on each assignment."""
    book = book or gradebook(course)
    shown = _clock(course)

    rows = []
    for a in book.assignments:
        standings = [book.standing(s.id, a.id) for s in book.enrolled]
        graded = [st for st in standings if st.status == "graded"]
        scores = [st.score for st in graded]
        rows.append({
            "id": a.id, "title": a.title, "points": a.points, "due": shown(a.due),
            "students": len(standings),
            "submitted": sum(1 for st in standings if st.attempt is not None),
            "missing": sum(1 for st in standings if st.status == "missing"),
            "open": sum(1 for st in standings if st.status == "open"),
            "excused": sum(1 for st in standings if st.status == "excused"),
            "late": sum(1 for st in standings if st.late_days > 0),
            "extended": sum(1 for st in standings if st.extension is not None),
            "overridden": sum(1 for st in standings if st.overridden),
            # the mean and median are of the graded standings (an attempt, or points given):
            # missing work, which the exports count as 0, and work not due yet are left out
            "graded": len(graded),
            "mean": round(statistics.fmean(scores), 6) if scores else None,
            "median": round(statistics.median(scores), 6) if scores else None,
            "histogram": histogram(scores, a.points),
        })
    students = []
    for s in book.enrolled:
        ledger = book.ledgers[s.id]
        students.append({
            "id": s.id, "name": s.name, "section": s.section,
            "late_days_used": sum(ledger.used.values()), "late_days_left": ledger.left,
            "assignments": {a.id: _cell(book, s, a.id) for a in book.assignments},
        })
    return {"name": course.name, "assignments": rows, "students": students,
            "bank_days": course.policy().bank_days}


def _cell(book: Gradebook, s: Student, aid: str) -> dict[str, Any]:
    st = book.standing(s.id, aid)
    return {"status": st.status, "score": st.score if st.status != "excused" else None,
            "late_days": st.late_days, "overridden": st.overridden}


def student_view(course: Course, student: str, book: Gradebook | None = None
                 ) -> dict[str, Any]:
    """One student's page: each assignment's standing with every attempt (counted or not, late
    by how much), the late-day ledger, and every override recorded (the superseded and the
    removed too, each with its standing: applies, superseded, removed)."""
    s = course.student(student)
    book = book or gradebook(course)
    policy = course.policy()
    shown = _clock(course)

    mine = attempts(course, s.id)
    ledger = book.ledgers[s.id]
    applying = {o.id for o in current_overrides(course).values() if o.student == s.id}
    rows = []
    for a in book.assignments:
        st = book.standing(s.id, a.id)
        counted = st.attempt.id if st.attempt is not None else None
        rows.append({
            "id": a.id, "title": a.title, "points": a.points, "due": shown(st.due),
            "extension": None if st.extension is None else {
                "due": shown(st.extension.due), "reason": st.extension.reason},
            "status": st.status, "score": st.score if st.status != "excused" else None,
            "late_days": st.late_days, "bank_days": st.bank_days,
            "penalty_percent": st.penalty_percent, "notes": list(st.notes),
            "attempts": [{
                "number": t.number, "submitted_at": shown(t.submitted_at),
                "submitted_from": t.submitted_from, "score": t.score,
                "max_score": t.max_score,
                "late_days": late_days(t.submitted_at, st.due, policy.grace_minutes,
                                       a.timezone),
                "counted": t.id == counted, "void": t.voided or None}
                for t in mine if t.assignment == a.id],
        })
    return {
        "id": s.id, "name": s.name, "email": s.email, "login": s.login,
        "section": s.section,
        "ledger": {"bank": ledger.bank, "used": dict(ledger.used), "left": ledger.left},
        "assignments": rows,
        "overrides": [{"assignment": o.assignment, "question": o.question or None,
                       "points": o.points, "excused": o.excused, "reason": o.reason,
                       "by": o.created_by, "at": shown(o.created_at),
                       "standing": ("applies" if o.id in applying else
                                    "superseded by a later one" if o.in_force else
                                    f"removed by {o.removed_by} {shown(o.removed_at)}: "
                                    f"{o.removed_reason}")}
                      for o in overrides(course, s.id)],
    }
