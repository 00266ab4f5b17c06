"""``grade --course``: what a grading records in the course file.

``grade --submissions DIR --course PATH [--assignment ID] [--manifest CSV]`` records every
submission's grading as an attempt of the student its folder is (matched by the course's
key); ``grade --submission DIR --student ID --course PATH`` records one. Everything that could
refuse is checked before any grading (:func:`course_recording`, :meth:`CourseRecording.prepare`):
the course file, the assignment, folders matching two students, a manifest without a row for a
folder. Each attempt is written in its own transaction right after the submission's reports,
before ``--resume``'s mark, so a cohort killed at any moment and resumed records every attempt
once (:func:`~.attempts.record_attempt` is idempotent).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from nlpdojo.cli.common import err_console, print_error, print_warning
from nlpdojo_autograder.course import policy
from nlpdojo_autograder.course.attempts import (
    MAX_SOURCES_BYTES,
    attempts,
    holds_sources,
    modified_at,
    read_manifest,
    record_attempt,
    require_covered,
    same_content,
)
from nlpdojo_autograder.course.config import CourseError, aware, local_time
from nlpdojo_autograder.course.roster import FolderMatch, check_unambiguous, match_folders
from nlpdojo_autograder.course.store import COURSE_ENV, Assignment, Course
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise


@dataclass
class CourseRecording:
    """An open course and the assignment a grading records attempts of."""

    course: Course
    assignment: Assignment
    student: str | None = None  # a single submission's
    submitted_at: datetime | None = None  # a single submission's, given
    manifest: dict[str, datetime] | None = None
    match: FolderMatch | None = None
    recorded: int = 0
    already: int = 0
    empty: int = 0  # folders with no source file: nothing submitted, nothing recorded
    warnings: list[str] = field(default_factory=list)
    #: what :meth:`prepare` said before a cohort's grading, in short, said again at its end
    said: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def targets(self) -> list[str]:
        return list(self.assignment.targets)

    def prepare(self, folders: list[Path]) -> list[str]:
        """Match a cohort's folders to students (refusing a folder that matches two) and find
        each one's submission time (refusing a manifest without a row for one); return the
        lines to tell the instructor before grading."""
        names = [f.name for f in folders]
        self.match = match_folders(self.course, names)
        check_unambiguous(self.match)
        lines = self.match.report(self.course, self.assignment.id)
        zone = self.course.meta("timezone") or ""
        self.said = list(lines)  # said again at the end, below the cohort's tables
        if self.manifest is not None:
            self.manifest, unused = manifest_by_folder(self.manifest, names)
            if unused:
                line = (f"{len(unused)} row(s) of the manifest name no folder here: "
                        f"{', '.join(unused[:10])}{' ...' if len(unused) > 10 else ''} (a "
                        "submission lost or renamed on its way here?)")
                lines.append(line)
                self.said.append(line)
            absent = [n for n in names if n in self.match.matched and n not in self.manifest]
            if absent:
                raise CourseError(f"the manifest has no submitted_at for {len(absent)} "
                                  f"folder(s): {', '.join(absent[:10])}; add a row for each "
                                  "(folder,submitted_at)")
            late = [self.manifest[n] - self.assignment.due for n in names
                    if n in self.match.matched]
            if len(late) >= 2 and min(late) > ALL_LATE:
                line = (f"every submission of the manifest was handed in at least "
                        f"{min(late).days} days after {self.assignment.id}'s due date "
                        f"({local_time(self.assignment.due, zone)}): the right --assignment?")
                lines.append(f"{line} Stop now (Ctrl-C) if not; recorded attempts can be "
                             "voided (`dojo course void`)")
                self.said.append(line)
            ahead = {n: self.manifest[n] for n in names
                     if n in self.match.matched and policy.in_the_future(self.manifest[n])}
            if ahead:
                first = next(iter(ahead))
                line = (f"{len(ahead)} submission time(s) of the manifest are later than now "
                        f"({first}: {local_time(ahead[first], zone)}): a wrong year, date or "
                        "time zone?")
                lines.append(f"{line} They are recorded as written; stop now (Ctrl-C) to fix "
                             "the manifest, or void the attempts later (`dojo course void`)")
                self.said.append(f"{line} They were recorded as written: `dojo course void` "
                                 "each wrong attempt, then grade again with the manifest fixed")
        else:
            lines.append("no --manifest: each submission's time is its files' newest "
                         "modification time, which is the student's to set (an archive's "
                         "entries carry the times they were given, and unzip and tar restore "
                         "them) and a copy's to change; give a manifest folder,submitted_at "
                         "from where the work was handed in")
            self.said.append("no --manifest: the submission times are the files' "
                             "modification times")
        return lines

    def record(self, folder: Path, result: Any, grader_fingerprint: str = "") -> str | None:
        """Record ``result``, the grading of ``folder``; return a problem in words (the
        attempt is then not recorded) or None. Folders matching no student are left out."""
        if self.student is not None:
            sid = self.student
        elif self.match is not None and folder.name in self.match.matched:
            sid = self.match.matched[folder.name].id
        else:
            return None
        if not holds_sources(folder):  # nothing submitted: no attempt (dated by the folder
            # alone, a 0 before the deadline outranked a later late submission)
            with self._lock:  # (a cohort's submissions are recorded from several threads)
                self.empty += 1
                self.said.append(f"{sid}: {folder.name} holds no .py or .ipynb file: nothing "
                                 "submitted, no attempt recorded")
            return None
        try:
            if self.submitted_at is not None:
                when, source = self.submitted_at, "given"
            elif self.manifest is not None and folder.name in self.manifest:
                when, source = self.manifest[folder.name], "manifest"
            else:
                when, source = modified_at(folder), "mtime"
            with self._lock:
                attempt, new = record_attempt(
                    self.course, sid, self.assignment.id, result, submitted_at=when,
                    submitted_from=source, folder=folder, folder_name=folder.name,
                    grader_fingerprint=grader_fingerprint)
                self._note_twins(attempt, new)
                self._note_recorded(sid, folder, attempt, source, when)
        except (CourseError, OSError) as exc:
            with self._lock:  # said again at the end: a TA reads the closing lines
                self.said.append(f"{sid}: {folder.name} not recorded in the course: {exc}")
            return f"not recorded in the course: {exc}"
        if new:
            self.recorded += 1
        else:
            self.already += 1
        return None

    def _note_recorded(self, sid: str, folder: Path, attempt: Any, source: str,
                       when: datetime) -> None:
        """Say (at the end) an attempt recorded without its sources (larger than a course
        keeps), or dated by files' times that cannot be right (later than now, or more than
        a year before the due date)."""
        if not attempt.sources_tree:
            self.said.append(f"{sid}: {folder.name}'s sources are larger than a course keeps "
                             f"({MAX_SOURCES_BYTES:,} bytes in all): recorded without them, "
                             "so a regrade cannot grade it again")
        if source != "mtime":
            return
        zone = self.course.meta("timezone") or ""
        if policy.in_the_future(when):
            self.said.append(f"{sid}: {folder.name}'s files are dated {local_time(when, zone)}, "
                             "later than now: the time recorded is the student's to set; give "
                             "a --manifest")
        elif when < self.assignment.due - timedelta(days=365):
            self.said.append(f"{sid}: {folder.name}'s files are dated {local_time(when, zone)}, "
                             "more than a year before the due date: the time recorded is the "
                             "student's to set; give a --manifest")

    def _note_twins(self, attempt: Any, new: bool) -> None:
        """Say (at the end) what a TA must decide: the same files recorded before at another
        time (a corrected manifest added an attempt, and the one at the wrong time still
        counted), or an attempt recorded before that is void."""
        if not new:
            if attempt.voided:
                self.said.append(f"{attempt.student}: recorded before as attempt "
                                 f"{attempt.number}, which is void ({attempt.voided})")
            return
        if attempt.score > 0:  # (untouched stubs are alike by nature)
            others = [a for a in same_content(self.course, attempt.assignment,
                                              attempt.content_sha256, attempt.student)
                      if not a.voided]
            if others:
                named = ", ".join(f"{a.student}'s attempt {a.number}" for a in others[:5])
                self.said.append(
                    f"{attempt.student}: these files are byte for byte {named} (the same "
                    f"content hash {attempt.content_sha256[:12]}): a shared submission? "
                    "`dojo similarity` compares what differs")
        for twin in attempts(self.course, attempt.student, attempt.assignment):
            if (twin.id != attempt.id and twin.content_sha256 == attempt.content_sha256
                    and not twin.voided):
                self.said.append(
                    f"{attempt.student}: these files were recorded before as attempt "
                    f"{twin.number}, submitted "
                    f"{local_time(twin.submitted_at, self.course.meta('timezone') or '')}; if that "
                    f"time was wrong, `dojo course void {attempt.student} "
                    f"{attempt.assignment} {twin.number} --reason ...`")

    def record_single(self, submission: Path, result: Any) -> None:
        """Record a single submission's grading and say so on stderr (a problem: an error
        line, the attempt not recorded)."""
        for line in self.warnings:
            print_warning(line)
        problem = self.record(submission, result)
        if problem:
            print_error(problem)
            return
        if self.empty:
            print_error(f"{submission} holds no .py or .ipynb file: nothing submitted, no "
                        "attempt recorded")
            return
        state = "recorded" if self.recorded else "already recorded (kept as it was)"
        err_console.print(f"attempt of {self.student} at {self.assignment.id} {state} in "
                          f"{self.course.path}", markup=False)
        for line in self.said:
            print_warning(line)

    def summary(self) -> str:
        """The closing lines: what was recorded, and what :meth:`prepare` said before the
        grading (a TA read it above a hundred lines of tables, if at all)."""
        again = "".join(f"\n  - {line}" for line in self.said)
        return (f"course {self.course.path}, assignment {self.assignment.id}: {self.recorded} "
                f"attempt(s) recorded, {self.already} recorded before (kept as they were)"
                + (f", {self.empty} folder(s) with nothing submitted" if self.empty else "")
                + (f"; to note:{again}" if again else ""))

    def close(self) -> None:
        self.course.close()


def course_recording(course: Path | None, *, student: str | None, assignment: str | None,
                     manifest: Path | None, submitted_at: str | None,
                     submission: Path | None, submissions: Path | None,
                     topics: list[str] | None) -> CourseRecording | None:
    """The recording a ``grade`` command asks for, or None. ``--course`` (or
    ``NLPDOJO_COURSE`` with ``--submissions`` or ``--student``) turns it on; the options
    that only make sense with it are refused without it."""
    explicit = course is not None
    if course is None and (submissions is not None or student is not None):
        env = os.environ.get(COURSE_ENV)
        course = Path(env).absolute() if env else None  # (relative: from this folder)
    if course is None:
        given = [flag for flag, value in (("--student", student), ("--assignment", assignment),
                                          ("--manifest", manifest),
                                          ("--submitted-at", submitted_at)) if value]
        if given:
            raise CourseError(f"{', '.join(given)} record(s) the grading in a course: give "
                              f"--course PATH (or set {COURSE_ENV})")
        return None
    if submissions is not None:
        if student is not None or submitted_at is not None:
            raise CourseError("--submissions grades a folder per student: their folders name "
                              "them and --manifest gives their times; leave out --student and "
                              "--submitted-at")
    elif student is None:
        if not explicit:
            return None
        raise CourseError("--course records this grading as a student's attempt: name the "
                          "student with --student ID (or grade a cohort with --submissions)")
    elif manifest is not None:
        raise CourseError("--manifest gives a cohort's times (with --submissions); for one "
                          "submission give --submitted-at TIME")
    opened = Course.open(course)
    try:
        chosen = _assignment(opened, assignment, topics or [])
        if topics:  # (none: the assignment's are graded)
            require_covered(chosen, *_selection(topics), f"grade {' '.join(topics)}")
        zone = opened.meta("timezone") or ""
        recording = CourseRecording(opened, chosen)
        if student is not None:
            recording.student = opened.student(student).id
            if submitted_at is not None:
                recording.submitted_at = aware(submitted_at, zone, "--submitted-at")
                if policy.in_the_future(recording.submitted_at):
                    recording.warnings.append(
                        f"--submitted-at {submitted_at} is later than now: a wrong year, date "
                        "or time zone? The attempt is recorded at that time (`dojo course "
                        "void` it if it is wrong)")
            elif submission is not None:
                recording.warnings.append(
                    f"submitted-at taken from the files' modification time of {submission} "
                    "(give --submitted-at TIME to be exact)")
        if manifest is not None:
            recording.manifest = read_manifest(manifest, zone)
    except BaseException:
        opened.close()
        raise
    return recording


def manifest_by_folder(manifest: dict[str, datetime], names: list[str]
                       ) -> tuple[dict[str, datetime], list[str]]:
    """The manifest's times keyed by the cohort's folder names, and its rows that name no
    folder. A row names its folder exactly, or else in other letter case where neither another
    row nor another folder is the same but for case (an LMS's ``ANN@UNI.EDU`` for the folder
    ``ann@uni.edu``: folders are matched to students so too); a TA's trial was refused "no
    submitted_at" for a row that was there."""
    by_folder = {name: manifest[name] for name in names if name in manifest}
    rows_by_fold: dict[str, list[str]] = {}
    for row in manifest:
        if row not in by_folder:
            rows_by_fold.setdefault(row.casefold(), []).append(row)
    folders_by_fold = Counter(name.casefold() for name in names)
    used = set(by_folder)
    for name in names:
        rows = rows_by_fold.get(name.casefold(), [])
        if name not in by_folder and len(rows) == 1 and folders_by_fold[name.casefold()] == 1:
            by_folder[name] = manifest[rows[0]]
            used.add(rows[0])
    return by_folder, [row for row in manifest if row not in used]


#: a cohort whose every submission is this much past the assignment's due date is said to be,
#: before grading: another assignment's cohort graded under this one's id? (a TA's trial
#: recorded a2's folders as a1's attempts, three weeks late each, without a word)
ALL_LATE = timedelta(days=7)

def _assignment(course: Course, given: str | None, topics: list[str]) -> Assignment:
    if given is not None:
        return course.assignment(given)
    every = course.assignments()
    if topics:
        # as written, or a bare question id as the question it is (`grade softmax` is
        # word_vectors.softmax: the assignment of exactly that question)
        _, questions = _selection(topics)
        named = {t for t in topics if "." not in t and t in exercise_names()}
        same = [a for a in every if sorted(a.targets) in (
            sorted(topics), sorted(set(questions) | named))]
        if len(same) == 1:
            return same[0]
    if len(every) == 1:
        return every[0]
    raise CourseError(f"which assignment does this grading belong to? give --assignment ID "
                      f"(assignments: {', '.join(a.id for a in every)})")


def _selection(targets: list[str]) -> tuple[list[str], list[str]]:
    """``(topics, questions)`` ``grade TARGETS`` grades, as a result records them: a bare
    question id (``softmax``) is that question of every topic that has it (it was taken for
    a topic, and ``grade softmax --course`` refused as leaving softmax out)."""
    names = exercise_names()
    topics = [t for t in targets if "." not in t and t in names]
    questions = [t for t in targets if "." in t]
    for bare in (t for t in targets if "." not in t and t not in names):
        found = [n for n in names if bare in get_exercise(n).questions]
        topics += [n for n in found if n not in topics] or [bare]  # (unknown: grade says so)
        questions += [f"{n}.{bare}" for n in found]
    topics += [q.split(".", 1)[0] for q in questions if q.split(".", 1)[0] not in topics]
    return topics, questions

