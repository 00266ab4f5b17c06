"""The late policy, extensions and which attempt counts: each student's standing on each
assignment, computed from the record alone and deterministically (docs/course.md,
"Policies").

For one student, assignments are taken in due-date order (then the course table's), so the
bank is spent in the order the deadlines came. On each:

- the due date is the assignment's, or the student's extension (:func:`import_extensions`);
- an attempt is late by ``ceil((submitted - due) / 1 day)`` days, or 0 when it came within
  ``grace_minutes`` of the due date;
- its course points are ``points * score / max_score``, with the question overrides applied
  to its per-question points first (:mod:`.overrides`);
- of its late days, ``min(late, bank left, max_per_assignment)`` come from the bank; the days
  the bank does not cover cost ``percent_per_day`` percent each (``past_bank = "percent"``;
  never below 0) or everything (``past_bank = "zero"``);
- the counted attempt: ``last`` the last submitted; ``last-before-deadline`` the last on time,
  else the first late one; ``best`` the most points after the penalty (the bank as it stands
  then), ties to the fewest late days, then the earliest;
- no attempt: missing, 0 points; an override of the whole assignment sets its final points
  (the penalty is not applied on top; the late days the counted attempt used stay used), and
  an excused assignment is ``EX``, its late days not spent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nlpdojo_autograder.course.attempts import (
    Attempt,
    attempts,
    attempts_by_ids,
    attempts_without_questions,
)
from nlpdojo_autograder.course.config import CourseError, aware, local_time, points_text
from nlpdojo_autograder.course.csv_input import read_rows
from nlpdojo_autograder.course.overrides import Override, current_overrides, who
from nlpdojo_autograder.course.schema import read_time, stored_time, utc_now
from nlpdojo_autograder.course.store import Assignment, Course, Student

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Extension:
    """A student's own due date for an assignment."""

    student: str
    assignment: str
    due: datetime
    reason: str
    created_by: str
    created_at: datetime


@dataclass
class Standing:
    """One student's result on one assignment, with every adjustment that made it."""

    student: Student
    assignment: Assignment
    #: ``graded``, ``missing``, ``excused``, or ``open``: no attempt yet, and the student's due
    #: date (grace included) still ahead: not missing, and no zero in an export (a week-3
    #: upload gave everyone 0 on work not yet due)
    status: str
    due: datetime
    extension: Extension | None = None
    attempt: Attempt | None = None  # the counted one
    attempts: int = 0
    late_days: int = 0  # of the counted attempt
    bank_days: int = 0  # of which from the bank
    penalty_percent: float = 0.0  # off its points, for the days the bank did not cover
    raw: float = 0.0  # course points before the penalty (question overrides applied)
    score: float = 0.0  # final course points
    overrides: list[Override] = field(default_factory=list)  # those applied
    notes: list[str] = field(default_factory=list)  # each adjustment, in words

    @property
    def overridden(self) -> bool:
        return bool(self.overrides)


@dataclass(frozen=True)
class Ledger:
    """A student's late days: the bank, used per assignment, left."""

    student: Student
    bank: int
    used: dict[str, int]

    @property
    def left(self) -> int:
        return self.bank - sum(self.used.values())


@dataclass(frozen=True)
class Gradebook:
    """Every student's standings and ledger."""

    assignments: list[Assignment]
    students: list[Student]
    standings: dict[tuple[str, str], Standing]
    ledgers: dict[str, Ledger]

    def standing(self, student: str, assignment: str) -> Standing:
        return self.standings[(student, assignment)]

    @property
    def enrolled(self) -> list[Student]:
        """The students still in the course (a withdrawn one's standings are kept for their
        history, out of exports and the course view)."""
        return [s for s in self.students if not s.withdrawn]


# -- extensions ------------------------------------------------------------------------------
def add_extension(course: Course, student: str, assignment: str, due: datetime, reason: str,
                  by: str | None = None) -> Extension:
    """Give ``student`` the due date ``due`` (aware) for ``assignment``; one replaces the one
    before."""
    return _write_extensions(course, [(student, assignment, due, reason)], by)[0]


#: the header of an extensions file
EXTENSION_COLUMNS = ("student", "assignment", "due", "reason")


def import_extensions(course: Course, path) -> list[Extension]:
    """Every extension of a CSV with the header ``student,assignment,due,reason``, all or
    none (an unknown student or assignment, a due date without a time zone refuse the file)."""
    zone = course.meta("timezone") or ""
    given = []
    lines: dict[tuple[str, str], int] = {}
    for line, row in read_rows(path, "extensions file", EXTENSION_COLUMNS):
        if len(row) < 4 or not row[3].strip():
            raise CourseError(f"extensions file {path}, line {line}: give student, assignment, "
                              "due and a reason")
        where = f"extensions file {path}, line {line}"
        key = (_known_student(course, row[0].strip(), where),
               _known_assignment(course, row[1].strip(), where))
        if key in lines:  # (both were written, the last one standing, without a word)
            raise CourseError(f"{where}: {key[0]}'s extension of {key[1]} is on line "
                              f"{lines[key]} too: keep one; nothing was imported")
        lines[key] = line
        given.append((*key, aware(row[2], zone, f"{where}, due"), row[3].strip()))
    return _write_extensions(course, given, None)


def _known_student(course: Course, sid: str, where: str) -> str:
    try:
        return course.student(sid).id
    except CourseError as exc:
        raise CourseError(f"{where}: {exc}; nothing was imported") from None


def _known_assignment(course: Course, aid: str, where: str) -> str:
    try:
        return course.assignment(aid).id
    except CourseError as exc:
        raise CourseError(f"{where}: {exc}; nothing was imported") from None


def _write_extensions(course: Course, given, by: str | None) -> list[Extension]:
    made = []
    for student, assignment, due, reason in given:
        sid = course.student(student).id
        due_date = course.assignment(assignment).due
        if not reason.strip():
            raise CourseError("an extension needs a reason (--reason ...)")
        if due <= due_date:  # (a year typo gave a sick student 0 while the rest were open)
            zone = course.meta("timezone") or ""
            raise CourseError(f"an extension of {sid} to {local_time(due, zone)} is not after "
                              f"{assignment}'s due date, {local_time(due_date, zone)}: an "
                              "extension gives more time; check the date (its year)")
        made.append((sid, assignment, stored_time(due), reason.strip()))
    author, now = who(by), utc_now()
    with course.transaction() as conn:
        conn.executemany("INSERT INTO extensions VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(student, "
                         "assignment) DO UPDATE SET due_at = excluded.due_at, reason = "
                         "excluded.reason, created_by = excluded.created_by, created_at = "
                         "excluded.created_at", [(*m, author, now) for m in made])
    return [Extension(s, a, read_time(d), r, author, read_time(now)) for s, a, d, r in made]


def extensions(course: Course) -> dict[tuple[str, str], Extension]:
    """``{(student, assignment): extension}``."""
    return {(r[0], r[1]): Extension(r[0], r[1], read_time(r[2]), r[3], r[4], read_time(r[5]))
            for r in course.conn.execute("SELECT * FROM extensions")}


# -- the policy ------------------------------------------------------------------------------
def late_days(submitted: datetime, due: datetime, grace_minutes: int, zone: str = "") -> int:
    """Days late, rounded up; 0 on time or within the grace. Counted on the clock of ``zone``
    (the assignment's, an IANA name) where it names one: across a change to or from daylight
    saving time a day is the calendar's, as the student and the TA read it (1 day 23 hours by
    the clock was 48 hours, 3 days late, across the fall's extra hour)."""
    if submitted <= due + timedelta(minutes=grace_minutes):
        return 0
    span = submitted - due
    try:
        clock = ZoneInfo(zone) if "/" in zone or zone.upper() == "UTC" else None
    except (ZoneInfoNotFoundError, ValueError):
        clock = None
    if clock is not None:  # wall-clock times in that zone, subtracted as the calendar does
        span = (submitted.astimezone(clock).replace(tzinfo=None)
                - due.astimezone(clock).replace(tzinfo=None))
    return max(1, math.ceil(span / DAY))  # past the grace is a day late at least


def current_time() -> datetime:
    """The present, as the gradebook reads it (the course's tests pin it)."""
    return datetime.now(UTC)


#: how far after this machine's clock a submission time may be before it is said to be in the
#: future (the clocks of the machine the work was handed in on and of this one may differ)
CLOCK_SKEW = timedelta(minutes=5)


def in_the_future(moment: datetime) -> bool:
    """Whether ``moment`` lies after now, by more than the clocks may differ: no submission
    was handed in then, so the time was written wrong."""
    return moment > current_time() + CLOCK_SKEW


def gradebook(course: Course, now: datetime | None = None) -> Gradebook:
    """Every student's standing on every assignment, and their late-day ledger, as of ``now``
    (default: the present), before which an assignment not yet due is ``open``."""
    now = now or current_time()
    policy = course.policy()
    assignments = course.assignments()
    ordered = sorted(assignments, key=lambda a: (a.due, a.position))
    students = course.students()
    # every attempt without its questions (an export's cost was reading them all), the sums
    # of their points instead; in full where a question override needs them, and the counted
    # ones (what a standing holds)
    light, sums = attempts_without_questions(course)
    by_key: dict[tuple[str, str], list[Attempt]] = {}
    void: dict[tuple[str, str], list[Attempt]] = {}  # kept and shown, never counted
    for attempt in light:
        (void if attempt.voided else by_key).setdefault(
            (attempt.student, attempt.assignment), []).append(attempt)
    extended = extensions(course)
    overrides: dict[tuple[str, str], dict[str, Override]] = {}
    for (sid, aid, question), o in current_overrides(course).items():
        overrides.setdefault((sid, aid), {})[question] = o
    standings: dict[tuple[str, str], Standing] = {}
    ledgers: dict[str, Ledger] = {}
    zone = course.meta("timezone") or ""  # the course's clock, on which notes say times
    for student in students:
        left = policy.bank_days
        used: dict[str, int] = {}
        for a in ordered:
            mine = overrides.get((student.id, a.id), {})
            tries = by_key.get((student.id, a.id), [])
            if tries and any(mine):  # a question's override: its points per question
                tries = [t for t in attempts(course, student.id, a.id) if not t.voided]
            standing = _standing(student, a, tries, extended.get((student.id, a.id)), mine,
                                 left, policy, sums, now,
                                 voided=len(void.get((student.id, a.id), [])),
                                 zone=a.timezone or zone)
            standing.notes += [f"attempt {t.number} void: {t.voided}"
                               for t in void.get((student.id, a.id), [])]
            left -= standing.bank_days
            if standing.bank_days:
                used[a.id] = standing.bank_days
            standings[(student.id, a.id)] = standing
        ledgers[student.id] = Ledger(student, policy.bank_days, used)
    counted = [st for st in standings.values() if st.attempt is not None]
    full = attempts_by_ids(course, [st.attempt.id for st in counted if not st.attempt.questions])
    for st in counted:
        st.attempt = full.get(st.attempt.id, st.attempt)
    return Gradebook(assignments, students, standings, ledgers)


def _standing(student: Student, a: Assignment, tries: list[Attempt], ext: Extension | None,
              overrides: dict[str, Override], left: int, policy,
              sums: dict[int, float], now: datetime, voided: int = 0,
              zone: str = "") -> Standing:
    due = ext.due if ext is not None else a.due
    standing = Standing(student, a, "graded", due, extension=ext, attempts=len(tries))
    if ext is not None:
        standing.notes.append(f"extension to {local_time(ext.due, zone)}: {ext.reason}")
    whole = overrides.get("")
    if whole is not None and whole.excused:
        standing.status = "excused"
        standing.overrides.append(whole)
        standing.notes.append(f"excused by {whole.created_by}: {whole.reason}")
        return standing
    if tries:
        cap = left if policy.max_per_assignment is None else min(left,
                                                                 policy.max_per_assignment)
        options = [_evaluate(t, a, due, overrides, cap, policy, sums) for t in tries]
        chosen = _choose(a.counts, options)
        (standing.attempt, standing.late_days, standing.bank_days, standing.penalty_percent,
         standing.raw, standing.score, applied) = chosen
        standing.overrides.extend(applied)
        _explain(standing, len(tries), policy, voided)
    elif now <= due + timedelta(minutes=policy.grace_minutes):
        standing.status = "open"
        standing.notes.append(f"not due yet (due {local_time(due, zone)}): no attempt recorded "
                              "yet")
    else:
        standing.status = "missing"
        standing.notes.append("missing: no attempt recorded")
    for question, o in overrides.items():  # recorded, but the counted attempt lacks it
        if question and o not in standing.overrides and standing.status != "excused":
            standing.notes.append(
                f"override of {question} by {o.created_by} not applied: no counted attempt "
                "graded it (a void attempt, or none)")
    if whole is not None:
        standing.overrides.append(whole)
        standing.notes.append(
            f"override: {points_text(whole.points)} of {points_text(a.points)} points (was "
            f"{points_text(standing.score)}) by {whole.created_by}: {whole.reason}")
        standing.score = float(whole.points)
        if standing.status in ("missing", "open"):
            standing.status = "graded"
    return standing


def _evaluate(t: Attempt, a: Assignment, due: datetime, overrides: dict[str, Override],
              cap: int, policy, sums: dict[int, float]):
    applied = [o for q, o in overrides.items() if q and q in t.questions]
    if applied:
        points = {q: p for q, (p, _) in t.questions.items()}
        for o in applied:
            points[o.question] = float(o.points)
        score = sum(points.values())
    else:  # its question points summed in grading order, else (none recorded) its score
        score = sums.get(t.id, t.score)
    raw = a.points * score / t.max_score if t.max_score else 0.0
    late = late_days(t.submitted_at, due, policy.grace_minutes, a.timezone)
    from_bank = min(late, cap)
    uncovered = late - from_bank
    if not uncovered:
        percent = 0.0
    elif policy.past_bank == "zero":
        percent = 100.0
    else:
        percent = min(100.0, policy.percent_per_day * uncovered)
    final = round(raw * (1 - percent / 100), 6)
    return t, late, from_bank, percent, round(raw, 6), final, applied


def _choose(counts: str, options):
    if counts == "last":
        return options[-1]
    if counts == "best":
        return max(options, key=lambda o: (o[5], -o[1], -o[0].submitted_at.timestamp(),
                                           -o[0].number))
    on_time = [o for o in options if o[1] == 0]
    return on_time[-1] if on_time else options[0]


def _explain(standing: Standing, tries: int, policy, voided: int = 0) -> None:
    a, t = standing.assignment, standing.attempt
    assert t is not None
    if voided:  # numbers count void attempts too: "attempt 4 of 3" was read where one was
        standing.notes.append(f"attempt {t.number} counts ({a.counts}, of the {tries} not "
                              f"void; {voided} void)")
    elif tries > 1:
        standing.notes.append(f"attempt {t.number} of {tries} counts ({a.counts})")
    for o in standing.overrides:
        before, most = t.questions[o.question]
        standing.notes.append(
            f"override of {o.question}: {points_text(o.points)} of {points_text(most)} (was "
            f"{points_text(before)}) by {o.created_by}: {o.reason}")
    if standing.late_days:
        standing.notes.append(f"{standing.late_days} day(s) late, {standing.bank_days} from "
                              "the bank")
    if standing.penalty_percent:
        uncovered = standing.late_days - standing.bank_days
        standing.notes.append(
            f"{points_text(standing.penalty_percent)}% off for {uncovered} day(s) past the "
            f"bank ({policy.past_bank}): {points_text(standing.raw)} -> "
            f"{points_text(standing.score)}")


def standing_points(status: str, score: float | None) -> str:
    """A standing's points as the course's pages and history show them: ``EX`` where excused,
    ``-`` where the work is not due yet (no grade, never a 0: the exports leave it blank),
    else :func:`points_text`."""
    if status == "excused":
        return "EX"
    return "-" if status == "open" else points_text(score)


