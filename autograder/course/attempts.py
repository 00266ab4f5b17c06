"""Attempts: every grading of a student's submission, recorded once and kept.

:func:`record_attempt` writes an attempt (its points per question, the full result JSON, the
submission's content hash, the grader's version and input seed, when it was submitted and
graded) in one transaction. An attempt is the pair (content hash, submitted-at) of a student's
assignment: recording the same pair again (a cohort run with ``--resume``, the same command
run twice) returns the attempt already there and records nothing, so a grading killed at any
moment and resumed never loses an attempt and never records one twice. A grading that failed
(the grader's fault, not the submission's) is not an attempt: it is graded again.

The graded sources (the submission's ``.py`` and ``.ipynb`` files, see :func:`store_sources`)
are kept content-addressed beside the course file (``<course>-sources/ab/abcdef...``, a tree
object listing path -> blob), so any attempt can be graded again without its folder
(:func:`restore_sources`).

Submitted-at comes from a manifest (``folder,submitted_at``, :func:`read_manifest`), from
Gradescope's metadata, or else from the newest modification time of the submission's files
(:func:`modified_at`), which the caller warns about.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nlpdojo_autograder.authoring.questions import selected
from nlpdojo_autograder.course.config import CourseError, aware
from nlpdojo_autograder.course.csv_input import read_rows
from nlpdojo_autograder.course.schema import (
    pack_result,
    read_time,
    stored_submission_time,
    stored_time,
    unpack_result,
    utc_now,
)
from nlpdojo_autograder.course.store import Assignment, Course, nlpdojo_version
from nlpdojo_autograder.grading.grade import REPLAYED_FROM, WITHOUT_CODE_RULES
from nlpdojo_autograder.grading.results import GradingResult, json_default, total_points
from nlpdojo_autograder.grading.snapshot import (
    MAX_FILE_BYTES,
    submission_files,
    submission_folders,
)
from nlpdojo_autograder.release.notebook_submission import LIBRARY_PLACES
from nlpdojo_autograder.runtime.loader import CODE_SUFFIXES, LIBRARY

#: where a submission time comes from
SUBMITTED_FROM = ("manifest", "mtime", "gradescope", "given")
#: what of a submission is kept: the graded sources
#: the files a course keeps of an attempt: every file a grading reads (its worker's, and
#: notebooks): kept .py and .ipynb alone, a regrade of a module that reads a .txt beside it
#: failed where its grading passed (an adversarial trial)
SOURCE_SUFFIXES = (*CODE_SUFFIXES, ".ipynb")
#: a file larger than this is not kept: a grading does not read it either (the snapshot's
#: cap); a stray data file of 6 MB made the course refuse the whole attempt (an adversarial
#: trial), which a student could use to keep an upload out of the record
MAX_SOURCE_BYTES = MAX_FILE_BYTES
#: sources larger than this in all are not kept: the attempt is recorded without them (a
#: regrade then cannot grade it again, and says so)
MAX_SOURCES_BYTES = 20 * 2**20


@dataclass(frozen=True)
class Attempt:
    """One recorded attempt (a row of ``attempts`` with its points per question)."""

    id: int
    student: str
    assignment: str
    number: int
    submitted_at: datetime
    submitted_from: str
    graded_at: datetime
    score: float
    max_score: float
    content_sha256: str
    grader_version: str
    grader_fingerprint: str
    input_seed: int | None
    sources_tree: str
    folder: str
    #: ``{topic.question: (points, max_points)}`` in grading order
    questions: dict[str, tuple[float, float]]
    #: why it is void, by whom (``dojo course void``); "" where it counts as recorded
    voided: str = ""

    def result(self, course: Course) -> GradingResult:
        """The full result this attempt recorded."""
        row = course.conn.execute("SELECT result_zlib, result_bytes FROM attempts WHERE "
                                  "id = ?", (self.id,)).fetchone()
        return GradingResult.from_dict(json.loads(unpack_result(row[0], row[1])))


def question_points(result: GradingResult) -> dict[str, tuple[float, float]]:
    """``{topic.question: (points, max_points)}`` of a result, in grading order."""
    found: dict[str, tuple[float, float]] = {}
    for ex, check in result.checks():
        key = f"{ex.name}.{check.question}"
        points, most = found.get(key, (0.0, 0.0))
        found[key] = (total_points((points, check.score)), total_points((most, check.max_score)))
    return found


def uncovered(targets: tuple[str, ...] | list[str], topics: list[str],
              questions: list[str]) -> list[str]:
    """The assignment's ``targets`` (topics and ``topic.question`` ids) that a grading of
    ``topics`` restricted to ``questions`` (``grade``'s selection: a topic with a question
    of it selected is graded for its selected questions only) does not grade whole."""
    restricted = {q.split(".", 1)[0] for q in questions}
    missing = []
    for target in targets:
        topic = target.split(".", 1)[0]
        whole = topic in topics and topic not in restricted
        # (a bare question id selects it in every topic graded: `grade softmax ...`)
        asked = "." in target and (target in questions or target.split(".", 1)[1] in questions
                                   and topic in topics)
        if not (whole or asked):
            missing.append(target)
    return missing


#: a result's option, set by the Gradescope import only: another autograder's run, whose
#: checks are no questions of nlpdojo's (its score is taken as the assignment's)
OTHER_AUTOGRADER = "other_autograder"


def graded_selection(result: GradingResult) -> tuple[list[str], list[str]]:
    """``(topics, questions)`` a result graded, as ``grade`` selected them (its options; a
    result without them, of an older grader: its exercises, taken as whole)."""
    topics = result.options.get("topics")
    questions = result.options.get("questions")
    if not isinstance(topics, list) or not isinstance(questions, list):
        return [e.name for e in result.exercises], []
    return ([t for t in topics if isinstance(t, str)],
            [q for q in questions if isinstance(q, str)])


def require_covered(assignment: Assignment, topics: list[str], questions: list[str],
                    what: str) -> None:
    """Refuse (:class:`CourseError`) ``what`` (a grading) that does not grade every target of
    ``assignment``: its points would be taken for the whole assignment's."""
    missing = uncovered(assignment.targets, topics, questions)
    if missing:
        graded = ", ".join(sorted({*questions, *(t for t in topics if t not in {
            q.split(".", 1)[0] for q in questions})})) or "nothing"
        raise CourseError(
            f"{what} grades {graded}, not all that assignment {assignment.id} asks "
            f"({', '.join(assignment.targets)}): {', '.join(missing)} would be missing from "
            "its score; grade the whole assignment (leave out the topics and questions: "
            "--course grades the assignment's) to record an attempt")


def require_countable(result: GradingResult, what: str) -> None:
    """Refuse a result that says it is no grading of a submission that counts: a grading of
    the reference solutions (``--solutions``: the reference's own marks), one as a student
    release (``--as-student``: the shipped fixtures, public checks only, the input seed whose
    answers ship) or at that input seed (``--seed 0``), one without the code rules (the
    grader's own tests), or one whose verdicts came from the incremental cache. Trials
    recorded each as an ordinary attempt (``dojo course record ref.json``: 4 of 4); nor a
    replay (``grade --replay``: on an input seed the student was given)."""
    options = result.options or {}
    if options.get("solutions") or result.isolation == "trusted":
        raise CourseError(f"{what} is a grading of the reference solutions (grade --solutions, "
                          "isolation trusted), not of a submission: record the grading of "
                          "the student's folder")
    if options.get("use_reference") is False:
        raise CourseError(f"{what} was graded as a student release (--as-student: the "
                          "shipped fixtures, without the hidden checks): grade it with the "
                          "reference installed, as a course grades")
    if any(WITHOUT_CODE_RULES in w for w in result.warnings):
        raise CourseError(f"{what} was graded without the code rules (NLPDOJO_CODE_RULES=off, "
                          "for testing the grader): grade it again with them")
    if options.get("input_seed") == 0 and options.get("use_reference", True):
        raise CourseError(f"{what} was graded at input seed 0, the student release's, whose "
                          "shipped fixtures answer the checks (a memorised answer earned 3 of "
                          "4 there, 0 of 4 at a fresh draw): grade it without --seed")
    if options.get(REPLAYED_FROM):
        raise CourseError(f"{what} is a replay (grade --replay {options[REPLAYED_FROM]}): on "
                          "an input seed its student was given, so it counts for nothing new; "
                          "record the grading that was replayed, or grade the submission anew")
    if any(c.cached for _, c in result.checks()):
        raise CourseError(f"{what} reused verdicts from grade's incremental cache (a student's "
                          "own runs; checks marked cached): grade it again with --no-cache")


def record_attempt(course: Course, student: str, assignment: str, result: GradingResult, *,
                   submitted_at: datetime, submitted_from: str, folder: Path | None = None,
                   folder_name: str = "", grader_fingerprint: str = "",
                   graded_at: datetime | None = None) -> tuple[Attempt, bool]:
    """Record ``result`` as ``student``'s attempt at ``assignment`` (both must be known);
    ``folder``: the submission, whose graded sources are kept. Returns the attempt and
    whether it is new (False: this submission, with this submitted-at, was recorded already,
    and nothing was written)."""
    return record_attempts(course, [NewAttempt(
        student, assignment, result, submitted_at, submitted_from, folder, folder_name,
        grader_fingerprint, graded_at)])[0]


@dataclass(frozen=True)
class NewAttempt:
    """One attempt to record (:func:`record_attempts`); the arguments of
    :func:`record_attempt`."""

    student: str
    assignment: str
    result: GradingResult
    submitted_at: datetime
    submitted_from: str
    folder: Path | None = None
    folder_name: str = ""
    grader_fingerprint: str = ""
    graded_at: datetime | None = None


def record_attempts(course: Course, batch: list[NewAttempt]) -> list[tuple[Attempt, bool]]:
    """Several attempts in one transaction, all or none (an import of many, where one
    transaction each would cost a disk sync each); each as :func:`record_attempt` says."""
    rows = [_row(course, item) for item in batch]  # checked, sources kept: before writing
    with course.transaction() as conn:
        done = [_insert(conn, row, questions) for row, questions in rows]
    return [(attempt_by_id(course, attempt_id), new) for attempt_id, new in done]


def _row(course: Course, item: NewAttempt) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    if item.submitted_from not in SUBMITTED_FROM:
        raise ValueError(f"submitted_from {item.submitted_from!r} is not one of "
                         f"{SUBMITTED_FROM}")
    sid = course.student(item.student).id
    result = item.result
    require_countable(result, f"the grading of {sid}")
    assignment = course.assignment(item.assignment)
    if not (item.submitted_from == "gradescope" and result.options.get(OTHER_AUTOGRADER)):
        # (another autograder's run, imported: its points are the assignment's, below)
        require_covered(assignment, *graded_selection(result), f"the grading of {sid}")
    # its points: the assignment's questions' only (a whole topic graded for a one-question
    # assignment counted 4 of 40, softmax's 4 of 4 among the topic's: 1 of 10 course points)
    asked = {q: pm for q, pm in question_points(result).items()
             if selected(q, assignment.targets)}
    if asked:
        score = sum(p for p, _ in asked.values())
        most = sum(m for _, m in asked.values())
    else:  # a result without nlpdojo's questions (another autograder's, on Gradescope)
        asked, score, most = question_points(result), result.score, result.max_score
    tree = (store_sources(course, item.folder, graded_library(item.folder, result))
            if item.folder is not None else "")
    content = result.submission_sha256 or tree
    if not content:
        raise CourseError(f"the result for {sid} records no content hash and no folder was "
                          "given: an attempt needs one or the other")
    graded = (stored_time(item.graded_at) if item.graded_at is not None
              else _graded_at(result))
    seed = result.options.get("input_seed")
    row = (sid, item.assignment, stored_submission_time(item.submitted_at),
           item.submitted_from, graded, score, most, content,
           result.versions.get("nlpdojo") or nlpdojo_version(), item.grader_fingerprint,
           seed if isinstance(seed, int) else None, tree, item.folder_name,
           *pack_result(json.dumps(result.to_dict(), allow_nan=False, default=json_default)))
    return row, [(q, p, m) for q, (p, m) in asked.items()]


def _insert(conn, row: tuple[Any, ...], questions: list[tuple[Any, ...]]) -> tuple[int, bool]:
    sid, assignment, when, source, content = row[0], row[1], row[2], row[3], row[7]
    found = conn.execute("SELECT id FROM attempts WHERE student = ? AND assignment = ? AND "
                         "content_sha256 = ? AND submitted_at = ?",
                         (sid, assignment, content, when)).fetchone()
    if found is None and source == "mtime":
        # the files' own time says nothing the files recorded before did not: the same files
        # again are that attempt (a cohort graded again without its --manifest recorded a
        # second copy of each at the files' time, an on-time one that then counted)
        found = conn.execute("SELECT id FROM attempts WHERE student = ? AND assignment = ? "
                             "AND content_sha256 = ? ORDER BY id LIMIT 1",
                             (sid, assignment, content)).fetchone()
    if found is not None:
        return found[0], False
    number = conn.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM attempts WHERE "
                          "student = ? AND assignment = ?", (sid, assignment)).fetchone()[0]
    attempt_id = conn.execute(
        "INSERT INTO attempts (student, assignment, submitted_at, submitted_from, graded_at, "
        "score, max_score, content_sha256, grader_version, grader_fingerprint, input_seed, "
        "sources_tree, folder, result_zlib, result_bytes, points_sum, number) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*row, points_sum(questions), number)).lastrowid
    conn.executemany("INSERT INTO attempt_questions VALUES (?, ?, ?, ?)",
                     [(attempt_id, *q) for q in questions])
    return attempt_id, True


def points_sum(questions: list[tuple[Any, ...]]) -> float | None:
    """``attempts.points_sum`` of rows ``(question, points, max_points)``, in the order they
    are recorded (the sum :mod:`.policy` makes of an attempt's ``questions``)."""
    return sum(q[1] for q in questions) if questions else None


def attempt_by_id(course: Course, attempt_id: int) -> Attempt:
    found = _attempts(course, "a.id = ?", (attempt_id,))
    if not found:
        raise CourseError(f"no attempt {attempt_id} in course {course.path}")
    return found[0]


def attempts(course: Course, student: str | None = None,
             assignment: str | None = None) -> list[Attempt]:
    """The recorded attempts (of one student, of one assignment), by assignment, student,
    then submission time."""
    where, args = [], []
    if student is not None:
        where.append("a.student = ?")
        args.append(course.student(student).id)
    if assignment is not None:
        course.assignment(assignment)
        where.append("a.assignment = ?")
        args.append(assignment)
    return _attempts(course, " AND ".join(where) or "1", tuple(args))


def same_content(course: Course, assignment: str, content: str,
                 besides: str) -> list[Attempt]:
    """The attempts at ``assignment`` of students other than ``besides`` whose submission has
    the content hash ``content`` (void ones too: the caller tells), without their points."""
    return _attempts(course, "a.assignment = ? AND a.content_sha256 = ? AND a.student != ?",
                     (assignment, content, besides), questions=False)


def attempts_without_questions(course: Course) -> tuple[list[Attempt], dict[int, float]]:
    """Every attempt as :func:`attempts` orders them but with ``questions`` left empty, and
    ``{attempt id: its question points summed in grading order}`` (the sum a full attempt's
    ``sum(questions's points)`` makes, to the bit: ``points_sum``): what the late policy
    needs of an attempt that does not count, without reading ``attempt_questions`` (216,000
    rows at 300 students x 5 assignments x 10 attempts). The counted ones are read in full
    with :func:`attempts_by_ids`."""
    sums = dict(course.conn.execute("SELECT id, points_sum FROM attempts WHERE points_sum IS "
                                    "NOT NULL").fetchall())
    return _attempts(course, "1", (), questions=False), sums


def attempts_by_ids(course: Course, ids: list[int]) -> dict[int, Attempt]:
    """``{id: attempt}`` of the attempts ``ids`` (those not recorded are left out)."""
    found: dict[int, Attempt] = {}
    for start in range(0, len(ids), 500):  # within SQLite's limit on parameters
        chunk = tuple(ids[start:start + 500])
        marks = ", ".join("?" * len(chunk))
        found.update((a.id, a) for a in _attempts(course, f"a.id IN ({marks})", chunk))
    return found


def _attempts(course: Course, where: str, args: tuple[Any, ...],
              questions: bool = True) -> list[Attempt]:
    # plain tuples, not sqlite3.Row: an export reads every attempt (15,000 rows at a course's
    # size, bench/course_record.py)
    cursor = course.conn.cursor()
    cursor.row_factory = None
    rows = cursor.execute(
        "SELECT a.id, a.student, a.assignment, a.number, a.submitted_at, a.submitted_from, "
        "a.graded_at, a.score, a.max_score, a.content_sha256, a.grader_version, "
        "a.grader_fingerprint, a.input_seed, a.sources_tree, a.folder, "
        "COALESCE(v.reason || ' (' || v.created_by || ')', '') FROM attempts a "
        "JOIN assignments s ON s.id = a.assignment "
        "LEFT JOIN voids v ON v.attempt = a.id AND v.restored_at IS NULL "
        f"WHERE {where} ORDER BY s.position, a.student, a.submitted_at, a.number",
        args).fetchall()
    among = "" if where == "1" else f"WHERE attempt IN (SELECT a.id FROM attempts a WHERE {where}) "
    points: dict[int, dict[str, tuple[float, float]]] = {}
    for attempt, question, got, most in cursor.execute(
            "SELECT attempt, question, points, max_points FROM attempt_questions "
            f"{among}ORDER BY rowid", args if among else ()) if questions else ():
        mine = points.get(attempt)
        if mine is None:
            mine = points[attempt] = {}
        mine[question] = (got, most)
    cursor.close()
    times: dict[str, datetime] = {}  # graded-at repeats across a cohort's attempts

    def when(text: str) -> datetime:
        moment = times.get(text)
        if moment is None:
            moment = times[text] = read_time(text)
        return moment

    return [Attempt(r[0], r[1], r[2], r[3], when(r[4]), r[5], when(r[6]), *r[7:15],
                    questions=points.get(r[0], {}), voided=r[15]) for r in rows]


def void_attempt(course: Course, student: str, assignment: str, number: int, *, reason: str,
                 by: str, restore: bool = False) -> Attempt:
    """Void a student's attempt ``number`` at ``assignment`` (kept in the record and shown,
    never counted), or ``restore`` a voided one; ``reason`` and ``by`` are kept with it. One
    transaction; the attempt as it is now."""
    sid = course.student(student).id
    course.assignment(assignment)
    if not reason.strip():
        raise CourseError("give the --reason: a void is kept with why")
    found = [a for a in attempts(course, sid, assignment) if a.number == number]
    if not found:
        numbers = [a.number for a in attempts(course, sid, assignment)]
        raise CourseError(f"{sid} has no attempt {number} at {assignment} (attempts: "
                          f"{', '.join(map(str, numbers)) or 'none'}; `dojo course history "
                          f"{sid}` lists them)")
    attempt = found[0]
    with course.transaction() as conn:
        if not restore:
            if attempt.voided:
                raise CourseError(f"{sid}'s attempt {number} at {assignment} is void already "
                                  f"({attempt.voided})")
            conn.execute("INSERT INTO voids (attempt, reason, created_by, created_at) VALUES "
                         "(?, ?, ?, ?)", (attempt.id, reason, by, utc_now()))
        else:
            if not attempt.voided:
                raise CourseError(f"{sid}'s attempt {number} at {assignment} is not void")
            conn.execute("UPDATE voids SET restored_by = ?, restored_at = ? WHERE attempt = ? "
                         "AND restored_at IS NULL", (f"{by}: {reason}", utc_now(),
                                                     attempt.id))
    return attempt_by_id(course, attempt.id)


def replace_result(course: Course, attempt_id: int, result: GradingResult, *,
                   grader_fingerprint: str = "") -> Attempt:
    """A regrade accepted: the attempt's result, score and points become ``result``'s; the
    result it had is kept in ``regrades``. One transaction."""
    old = attempt_by_id(course, attempt_id)
    packed, size = pack_result(json.dumps(result.to_dict(), allow_nan=False,
                                          default=json_default))
    with course.transaction() as conn:
        conn.execute("INSERT INTO regrades (attempt, replaced_at, score, grader_version, "
                     "grader_fingerprint, result_zlib, result_bytes) SELECT id, ?, score, "
                     "grader_version, grader_fingerprint, result_zlib, result_bytes FROM "
                     "attempts WHERE id = ?", (utc_now(), attempt_id))
        questions = [(q, p, m) for q, (p, m) in question_points(result).items()]
        conn.execute("UPDATE attempts SET score = ?, max_score = ?, graded_at = ?, "
                     "grader_version = ?, grader_fingerprint = ?, result_zlib = ?, "
                     "result_bytes = ?, points_sum = ? WHERE id = ?",
                     (result.score, result.max_score, _graded_at(result),
                      result.versions.get("nlpdojo") or nlpdojo_version(),
                      grader_fingerprint or old.grader_fingerprint, packed, size,
                      points_sum(questions), attempt_id))
        conn.execute("DELETE FROM attempt_questions WHERE attempt = ?", (attempt_id,))
        conn.executemany("INSERT INTO attempt_questions VALUES (?, ?, ?, ?)",
                         [(attempt_id, *q) for q in questions])
    return attempt_by_id(course, attempt_id)


def _graded_at(result: GradingResult) -> str:
    if result.started_at:
        try:
            return stored_time(datetime.fromisoformat(result.started_at))
        except ValueError:
            pass
    return utc_now()


# -- submission times ------------------------------------------------------------------------
#: the header of a manifest
MANIFEST_COLUMNS = ("folder", "submitted_at")


def read_manifest(path: Path, zone: str = "") -> dict[str, datetime]:
    """``{folder: submitted_at}`` from a manifest CSV with the header ``folder,submitted_at``
    (times in ISO 8601 with their offset; without one only where ``zone`` names the course's
    time zone)."""
    found: dict[str, datetime] = {}
    wrong: list[str] = []  # every bad row at once: a TA fixing 300 rows ran it once per row
    for line, row in read_rows(path, "manifest", MANIFEST_COLUMNS):
        if len(row) < 2:
            wrong.append(f"line {line}: give folder,submitted_at")
            continue
        name = row[0].strip()
        if name in found:
            wrong.append(f"line {line}: folder {name!r} is listed twice")
            continue
        try:
            found[name] = aware(row[1], zone, f"line {line} ({name})")
        except CourseError as exc:
            wrong.append(str(exc))
    if wrong:
        shown = "; ".join(wrong[:20]) + (f"; and {len(wrong) - 20} more" if len(wrong) > 20
                                         else "")
        raise CourseError(f"manifest {path}: {len(wrong)} row(s) to fix (nothing was read): "
                          f"{shown}")
    return found


def modified_at(folder: Path) -> datetime:
    """The newest modification time of the submission's graded sources (else of any file;
    else of the folder): the submission time when nothing better is known."""
    newest = None
    for path in _source_files(folder, any_file=True):
        mtime = path.lstat().st_mtime
        newest = mtime if newest is None else max(newest, mtime)
    if newest is None:
        newest = folder.stat().st_mtime
    try:
        return datetime.fromtimestamp(newest, UTC)  # its fraction of a second: stored rounded up
    except (ValueError, OverflowError, OSError):  # past the year 9999, or before the year 1:
        # an archive's entry can carry any time (a cohort's grading stopped at it)
        raise CourseError(f"{folder.name}: its files' modification time ({newest:.0f} s from "
                          "1970) is no date: give the submission times with a --manifest") \
            from None


# -- content-addressed sources --------------------------------------------------------------
def store_sources(course: Course, folder: Path, library: Path | None = None) -> str:
    """Keep ``folder``'s graded sources (``.py``/``.ipynb`` files below it as the grader reads
    them: a link to a file inside the submission kept as that file, no other link, no
    caches) content-addressed in the course's sources, and ``library``'s as ``library/``
    (the course library beside a topic's folder, graded with it); return the sha256 of their
    tree (``{relative path: blob sha256}``, itself a blob). Blobs are written atomically, and
    an existing blob is never written again. A file over :data:`MAX_SOURCE_BYTES` is left
    out (no grading reads it); sources over :data:`MAX_SOURCES_BYTES` in all are not kept:
    ``""`` (the attempt is recorded without them)."""
    files: list[tuple[str, Path]] = []
    tree: dict[str, str] = {}
    total = 0
    for root, prefix in ((folder, ""), *(((library, f"{LIBRARY}/"),) if library else ())):
        for sub in submission_folders(root):  # each folder, empty or not: "<path>/": ""
            tree[f"{prefix}{sub.relative_to(root).as_posix()}/"] = ""
        for path in _source_files(root):
            size = path.stat().st_size
            if size > MAX_SOURCE_BYTES:
                continue  # the grading did not read it either
            total += size
            if total > MAX_SOURCES_BYTES:
                return ""
            rel = path.name if path == root else path.relative_to(root).as_posix()
            files.append((prefix + rel, path))
    for rel, path in files:
        tree[rel] = _put_blob(course, path.read_bytes())
    return _put_blob(course, json.dumps(tree, sort_keys=True).encode())


def graded_library(folder: Path, result: GradingResult) -> Path | None:
    """The course library graded with ``folder``: the one beside a topic's own folder graded
    alone (``grade --submission exercises/<topic>``, as ``grade`` takes it), or beside a
    notebook graded alone (where :data:`~.notebook_submission.LIBRARY_PLACES` looks), which
    the attempt keeps with it (a regrade of the topic's files or the notebook alone lost
    every library answer: 10 -> 0); None where the folder holds its own or none was there."""
    if folder.suffix == ".ipynb" and folder.is_file():
        beside = Path(os.path.abspath(folder)).parent
        return next((place for place in (Path(os.path.normpath(beside / where))
                                         for where in LIBRARY_PLACES)
                     if place.is_dir() and not place.is_symlink()), None)
    library = folder.parent / LIBRARY
    own = [e.name for e in result.exercises] == [Path(folder).absolute().name]
    if own and folder.is_dir() and library.is_dir() and not (folder / LIBRARY).exists():
        return library
    return None


def restore_sources(course: Course, tree: str, dest: Path) -> list[str]:
    """Write the sources of ``tree`` into the new folder ``dest``, with its folders (those
    that held no kept file too: where the grader found the code depends on them); return
    the files' paths."""
    listing = json.loads(_get_blob(course, tree))
    dest.mkdir(parents=True)
    for rel, sha in sorted(listing.items()):
        target = (dest / rel).resolve()
        if dest.resolve() not in target.parents:
            raise CourseError(f"source tree {tree} names {rel!r}, outside its folder")
        if rel.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_get_blob(course, sha))
    return sorted(rel for rel in listing if not rel.endswith("/"))


def restored_or_why(course: Course, tree: str, dest: Path) -> str | None:
    """:func:`restore_sources`, or why it could not (a message naming no temporary path: a
    name or path too long for this system, a tree the record holds wrongly); nothing of a
    half-written ``dest`` is left. None: restored."""
    try:
        restore_sources(course, tree, dest)
    except (OSError, CourseError, ValueError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        if isinstance(exc, OSError):
            return (f"its sources could not be written back here ({exc.strerror or exc}: a "
                    "file or folder name in them is longer than this system allows?)")
        return f"its sources could not be written back ({exc})"
    return None


def holds_sources(submission: Path) -> bool:
    """Whether the submission (a folder, or a notebook) holds a module (``.py``) or a
    notebook (``.ipynb``): one that holds neither submitted nothing."""
    return any(path.suffix in (".py", ".ipynb") for path in _source_files(submission))


def _source_files(folder: Path, any_file: bool = False) -> list[Path]:
    """The submission's graded sources (``.py``/``.ipynb``; with ``any_file``, every file), of
    the files a snapshot of it holds (:func:`.snapshot.submission_files`)."""
    return [path for path in submission_files(folder)
            if any_file or path.suffix in SOURCE_SUFFIXES]


def _blob_path(course: Course, sha: str) -> Path:
    return course.sources / sha[:2] / sha


def _put_blob(course: Course, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    path = _blob_path(course, sha)
    if path.exists():
        return sha
    path.parent.mkdir(mode=0o700, exist_ok=True)
    temp = path.with_name(f".{sha}.{os.getpid()}.tmp")
    with open(os.open(temp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return sha


def _get_blob(course: Course, sha: str) -> bytes:
    try:
        data = _blob_path(course, sha).read_bytes()
    except FileNotFoundError:
        raise CourseError(f"the course's sources lack {sha} ({course.sources}): restore that "
                          "folder from a backup") from None
    if hashlib.sha256(data).hexdigest() != sha:
        raise CourseError(f"{_blob_path(course, sha)} does not hold what was stored (its "
                          "hash differs): restore the course's sources from a backup")
    return data
