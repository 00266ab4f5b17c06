"""The course record's tests' helpers: a course table, a course file, synthetic results."""

from __future__ import annotations

from pathlib import Path

from nlpdojo_autograder.course.config import parse_course_table
from nlpdojo_autograder.course.store import Course
from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult, GradingResult

#: two assignments of a synthetic topic "t": a1 (questions q1, q2: 4 + 6 grader points) is
#: worth 20 course points, a2 (q3) 10; the late policy of docs/course.md's example
TABLE = {
    "name": "Test course",
    "submissions_key": "login",
    "late": {"bank_days": 3, "max_per_assignment": 2, "grace_minutes": 15,
             "past_bank": "percent", "percent_per_day": 10},
    "assignments": [
        {"id": "a1", "title": "First", "questions": ["t.q1", "t.q2"], "points": 20,
         "due": "2027-01-20T23:59:00-08:00", "lms_id": "101"},
        {"id": "a2", "title": "Second", "questions": ["t.q3"], "points": 10,
         "due": "2027-02-03T23:59:00-08:00", "counts": "best"},
    ],
}


def synthetic_result(points: dict[str, tuple[float, float]], sha: str = "0" * 64,
                     seed: int = 7, topic: str = "t") -> GradingResult:
    """A result of ``topic`` holding one check per question: ``{question: (score, max)}``
    (bare question names, as checks carry them)."""
    checks = [CheckResult(id=f"{q}.values", question=q, kind="value", score=s, max_score=m,
                          status="passed" if s == m else "failed", message="")
              for q, (s, m) in points.items()]
    return GradingResult(
        exercises=[ExerciseResult(name=topic, title=topic.upper(), checks=checks)],
        backend="numpy", device="cpu", submission="/subs/x", seeds={"base": 0},
        versions={"nlpdojo": "0.test"}, options={"input_seed": seed},
        started_at="2027-02-10T12:00:00+00:00", submission_sha256=sha)


def make_course(folder: Path, table: dict | None = None) -> Course:
    return Course.create(folder / "course.db", parse_course_table(table or TABLE))
