"""The course record at a course's size: 300 students x 5 assignments x 10 attempts (issue 63).

A course table of five assignments, one per topic; a roster of ``--students`` students; then
``--attempts`` attempts per student and assignment, each a synthetic result shaped as the
topic's real ones are (every check of the topic, its id, question, kind, points and title; a
failed check's message of about 300 characters; a seed in its details), more checks passing
with each attempt, submitted a few hours apart around the due date (some late). Recorded with
``record_attempts``, ``--batch`` attempts a transaction (300: as an import of a cohort's
attempts records them; ``--batch 1`` is ``record_attempt``'s one transaction each, as ``grade
--course`` records each submission as it is graded), then exported in each
format (``export``: the gradebook computed from the record, the late policy applied, the file
and its adjustments written), ``--rounds`` times each. Prints the recording time, each
export's time (median [min-max]), the course file's size (and its WAL's), and what the
results weigh (as JSON text, zlib-compressed, and as the file stores them).

    python bench/course_record.py [--students 300] [--assignments 5] [--attempts 10]
        [--batch 300] [--rounds 3] [--keep DIR]

Goals (issue 63): export under 2 s, course file under 100 MB.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _machine import machine, spread  # bench/ is on sys.path when a bench runs

from nlpdojo_autograder.course.attempts import NewAttempt, record_attempts
from nlpdojo_autograder.course.config import parse_course_table
from nlpdojo_autograder.course.exports import FORMATS, export
from nlpdojo_autograder.course.roster import import_roster
from nlpdojo_autograder.course.store import Course
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise
from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult, GradingResult

DUE = datetime(2027, 1, 20, 23, 59, tzinfo=UTC)
FAILED = ("max error 0.31 at index (17, 3): yours 0.123456, expected 0.654321 (ratio 5.3); an "
          "error this size at one column usually means the softmax was not shifted by its row "
          "maximum before exponentiating; print the row and compare it with the reference's "
          "on the inputs above (seed {seed})")


def course_table(topics: list[str]) -> dict:
    return {
        "name": "Benchmark course", "submissions_key": "login",
        "late": {"bank_days": 5, "max_per_assignment": 2, "grace_minutes": 15,
                 "past_bank": "percent", "percent_per_day": 10},
        "assignments": [
            {"id": f"a{n}", "title": f"Assignment {n}: {topic}", "topics": [topic],
             "points": 20, "due": (DUE + timedelta(days=14 * n)).isoformat(),
             "lms_id": str(1000 + n), "counts": "best" if n % 2 else "last-before-deadline"}
            for n, topic in enumerate(topics, 1)],
    }


def roster(path: Path, students: int) -> None:
    lines = ["id,name,email,section"]
    lines += [f"{100000 + i},Student {i:03d},s{i:03d}@example.edu,S{i % 6}"
              for i in range(students)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def synthetic(topic: str, rng: random.Random, skill: float, seed: int) -> GradingResult:
    """A result of ``topic`` with every check of it, each passed with probability ``skill``."""
    checks = []
    for check in get_exercise(topic).checks:
        passed = rng.random() < skill
        checks.append(CheckResult(
            id=check.id, question=check.question, kind=check.kind,
            score=check.points if passed else 0.0, max_score=check.points,
            status="passed" if passed else "failed",
            message="matches the reference" if passed else FAILED.format(seed=seed),
            title=check.title, hidden=check.hidden, duration_s=round(rng.random(), 3),
            details={"seed": rng.randrange(2**31)}))
    return GradingResult(
        exercises=[ExerciseResult(name=topic, title=topic, checks=checks)], backend="numpy",
        device="cpu", submission=f"/cohort/{seed}", seeds={"base": 0, "inputs": seed},
        versions={"nlpdojo": "0.1.0", "numpy": "2.0.1", "python": "3.11.9"},
        options={"input_seed": seed, "topics": [topic]},
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        submission_sha256=f"{rng.getrandbits(256):064x}")


def record(course: Course, topics: list[str], students: int, attempts: int, batch: int,
           rng: random.Random) -> tuple[float, int, int]:
    """Record every attempt, ``batch`` a transaction; return (seconds, raw bytes of the
    results, zlib bytes)."""
    ids = [s.id for s in course.students()][:students]
    raw = packed = 0
    pending: list[NewAttempt] = []
    started = time.perf_counter()
    for n, topic in enumerate(topics, 1):
        due = DUE + timedelta(days=14 * n)
        for sid in ids:
            base = rng.uniform(0.2, 0.7)
            for k in range(attempts):
                result = synthetic(topic, rng, min(1.0, base + 0.06 * k),
                                   rng.randrange(1, 2**52))
                when = due - timedelta(hours=6 * (attempts - k)) \
                    + timedelta(hours=rng.choice([0, 0, 0, 30, 60]))
                pending.append(NewAttempt(sid, f"a{n}", result, submitted_at=when,
                                          submitted_from="manifest"))
                if len(pending) >= batch:
                    record_attempts(course, pending)
                    pending = []
                text = result.to_json(indent=None).encode()
                raw += len(text)
                packed += len(zlib.compress(text, 6))
    if pending:
        record_attempts(course, pending)
    return time.perf_counter() - started, raw, packed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--assignments", type=int, default=5)
    parser.add_argument("--attempts", type=int, default=10)
    parser.add_argument("--batch", type=int, default=300, help="Attempts recorded per "
                        "transaction (1: one each, as grade --course records them).")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Make the course here (kept), not in a "
                        "temporary folder.")
    args = parser.parse_args()
    topics = exercise_names()[:args.assignments]
    if len(topics) < args.assignments:
        raise SystemExit(f"only {len(topics)} topics are installed")
    rng = random.Random(63)
    with tempfile.TemporaryDirectory(prefix="nlpdojo-course-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "course.db"
        course = Course.create(path, parse_course_table(course_table(topics)))
        roster(folder / "roster.csv", args.students)
        import_roster(course, folder / "roster.csv")
        seconds, raw, packed = record(course, topics, args.students, args.attempts,
                                      max(1, args.batch), rng)
        count, stored = course.conn.execute(
            "SELECT COUNT(*), SUM(LENGTH(result_zlib)) FROM attempts").fetchone()
        course.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        wal = Path(f"{path}-wal")
        times: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
        for _ in range(args.rounds):
            for fmt in FORMATS:  # interleaved
                started = time.perf_counter()
                export(course, fmt, folder / f"export-{fmt}.csv")
                times[fmt].append(time.perf_counter() - started)
        out_sizes = {fmt: (folder / f"export-{fmt}.csv").stat().st_size for fmt in FORMATS}
        course.close()
        print(f"machine: {machine()}")
        print(f"course: {args.students} students x {len(topics)} assignments "
              f"({', '.join(topics)}) x {args.attempts} attempts = {count} attempts")
        print(f"recording: {seconds:.1f} s ({1000 * seconds / count:.2f} ms per attempt, "
              f"{max(1, args.batch)} a transaction)")
        print(f"course file: {size / 2**20:.1f} MB (WAL {wal.stat().st_size if wal.exists() else 0}"
              f" bytes after a checkpoint); results as JSON {raw / 2**20:.1f} MB, "
              f"{raw / count / 1024:.1f} kB each; zlib-compressed {packed / 2**20:.1f} MB "
              f"(stored: {stored / 2**20:.1f} MB)")
        for fmt in FORMATS:
            print(f"export {fmt}: {spread(times[fmt])} s over {args.rounds} rounds, "
                  f"{out_sizes[fmt] / 1024:.0f} kB")


if __name__ == "__main__":
    main()
