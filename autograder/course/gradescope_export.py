"""A course graded on Gradescope joins the course record: its "Export Submissions" archive read
as Gradescope writes it, and each graded run recorded as an attempt.

Gradescope's assignment page, "Review Grades" then "Export Submissions", gives a zip that holds
one folder per student's active submission (``submission_<id>/``, the files the student
uploaded) and ``submission_metadata.yml`` beside them (docs/course.md, "Importing from
Gradescope", says where this format is described). The metadata is YAML written by Ruby: keys
are symbols (``:submitters:``), and per folder it holds

```yaml
submission_123456:
  :submitters:
  - :name: Ada Lovelace
    :sid: '4242'
    :email: ada@example.edu
  :created_at: 2027-01-21 09:00:00.000000000 -08:00
  :score: 17.5
  :results: { ... }            # that run's results.json
  :history:                    # the student's earlier submissions, oldest first
  - :id: 123400
    :created_at: 2027-01-20 22:10:00.000000000 -08:00
    :score: 12.0
    :results: { ... }
```

Every run becomes an attempt of each submitter (a group submission is one attempt per
student), matched to the roster by email, then by ``:sid`` (the roster's SIS user id, id or
login). The active submission's sources are kept content-addressed, so it can be regraded
(``dojo course regrade``); an earlier submission's files are not in the export, so its
attempt holds its recorded result only (its content hash is ``gradescope:<id>``). A run the
autograder marked as not counted (past the daily limit, or one it could not grade:
``extra_data.nlpdojo.counted`` false) is not an attempt. Importing the same export again, or
a later one, records nothing twice.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nlpdojo_autograder.course.attempts import OTHER_AUTOGRADER, record_attempt
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.policy import in_the_future
from nlpdojo_autograder.course.roster import without_work
from nlpdojo_autograder.course.schema import stored_submission_time
from nlpdojo_autograder.course.store import Course, Student
from nlpdojo_autograder.grading.results import (
    STATUSES,
    CheckResult,
    ExerciseResult,
    GradingResult,
)

METADATA_NAME = "submission_metadata.yml"
#: an export's folders and files are read from a zip up to this size, uncompressed
MAX_EXPORT_BYTES = 2 * 2**30


@dataclass(frozen=True)
class Submitter:
    name: str
    sid: str
    email: str


@dataclass(frozen=True)
class Run:
    """One graded run of a submission (the active one, or one of its history)."""

    key: str  # the folder's name (submission_<id>) or, for history, gradescope:<id>
    created_at: datetime
    score: float | None
    results: dict[str, Any] | None
    folder: Path | None  # the files, for the active submission only


@dataclass(frozen=True)
class ExportedSubmission:
    key: str
    submitters: tuple[Submitter, ...]
    runs: tuple[Run, ...]  # oldest first; the last is the active submission


@dataclass
class GradescopeImport:
    """What an import did."""

    recorded: int = 0
    already: int = 0
    not_counted: int = 0
    unmatched: list[Submitter] = field(default_factory=list)
    missing: list[Student] = field(default_factory=list)
    #: what the missing students' standings are (:func:`.roster.without_work`)
    missing_line: str = ""
    students: int = 0
    #: runs that could not be recorded, and why, a line each (the others are recorded)
    refused: list[str] = field(default_factory=list)
    #: runs recorded whose time is later than now: ``(student, time)``
    ahead: list[tuple[str, datetime]] = field(default_factory=list)

    def report(self) -> list[str]:
        lines = [f"{self.recorded} attempt(s) recorded for {self.students} student(s)"
                 + (f"; {self.already} already in the record" if self.already else "")]
        if self.not_counted:
            lines.append(f"{self.not_counted} run(s) the autograder did not count (past the "
                         "daily limit, or not graded) were left out")
        if self.unmatched:
            lines.append(f"{len(self.unmatched)} submitter(s) match no student of the roster "
                         "by email or SID (not recorded): " + ", ".join(
                             f"{s.name or '?'} <{s.email or '-'}> sid {s.sid or '-'}"
                             for s in self.unmatched))
        if self.missing:
            lines.append(self.missing_line)
        if self.refused:
            lines.append(f"{len(self.refused)} run(s) could not be recorded (the others are): "
                         + "; ".join(self.refused))
        if self.ahead:  # as a manifest's are said (an instructor's trial: taken in silence)
            sid, when = self.ahead[0]
            lines.append(f"{len(self.ahead)} run(s) are dated later than now ({sid}: "
                         f"{when.isoformat()}): recorded as the export says; a wrong clock or "
                         "time zone? `dojo course void` takes an attempt back")
        return lines


# -- reading the export ------------------------------------------------------------------------
def read_export(root: Path) -> list[ExportedSubmission]:
    """The submissions of an extracted export folder (the one holding
    ``submission_metadata.yml``, or its only subfolder that does)."""
    meta_path = _metadata_path(root)
    data = _load_yaml(meta_path)
    if not isinstance(data, dict):
        raise CourseError(f"{meta_path} holds no submissions (a mapping of submission_<id> "
                          "to its metadata): give the folder of Gradescope's Export "
                          "Submissions")
    base = meta_path.parent
    found = []
    for key, entry in data.items():
        where = f"{meta_path}, {key}"
        if not isinstance(entry, dict):
            raise CourseError(f"{where} is not a mapping of :submitters:, :created_at:, ...")
        submitters = tuple(_submitter(s, where) for s in entry.get(":submitters") or [])
        if not submitters:
            raise CourseError(f"{where} names no :submitters:")
        runs = []
        for n, old in enumerate(entry.get(":history") or [], 1):
            if not isinstance(old, dict):
                raise CourseError(f"{where}, :history: entry {n} is not a mapping")
            when = _time(old.get(":created_at"), f"{where}, :history: entry {n}")
            ident = old.get(":id")
            runs.append(Run(key=f"gradescope:{ident}" if ident is not None
                            else f"gradescope:{key}@{when.isoformat()}",
                            created_at=when, score=_number(old.get(":score")),
                            results=_mapping(old.get(":results")), folder=None))
        folder = base / str(key)
        safe = re.fullmatch(r"[A-Za-z0-9_.-]+", str(key)) and folder.is_dir()
        runs.append(Run(key=str(key), created_at=_time(entry.get(":created_at"), where),
                        score=_number(entry.get(":score")),
                        results=_mapping(entry.get(":results")),
                        folder=folder if safe else None))
        runs.sort(key=lambda r: r.created_at)
        found.append(ExportedSubmission(str(key), submitters, tuple(runs)))
    return found


def _metadata_path(root: Path) -> Path:
    if (root / METADATA_NAME).is_file():
        return root / METADATA_NAME
    inner = [p for p in root.iterdir() if p.is_dir() and (p / METADATA_NAME).is_file()] \
        if root.is_dir() else []
    if len(inner) == 1:
        return inner[0] / METADATA_NAME
    raise CourseError(f"{root} holds no {METADATA_NAME}: give the zip Gradescope's "
                      "'Export Submissions' made (or the folder it unpacks to)")


class _Loader:
    """PyYAML's safe loader, plus Ruby's tags (``!ruby/object:BigDecimal 18:0.175e2``,
    ``!ruby/hash:...``) read as plain values: nothing in the file makes an object."""

    @staticmethod
    def make():
        try:
            import yaml
        except ImportError:
            raise CourseError("reading a Gradescope export needs PyYAML: pip install "
                              "'nlpdojo[gradescope]'") from None

        class Loader(yaml.SafeLoader):
            pass

        def ruby(loader, suffix, node):
            if isinstance(node, yaml.MappingNode):
                return loader.construct_mapping(node, deep=True)
            if isinstance(node, yaml.SequenceNode):
                return loader.construct_sequence(node, deep=True)
            value = loader.construct_scalar(node)
            if "BigDecimal" in suffix and ":" in value:
                value = value.split(":", 1)[1]  # Ruby's "precision:value"
            return value

        Loader.add_multi_constructor("!ruby/", ruby)
        return Loader, yaml


def _load_yaml(path: Path) -> Any:
    loader, yaml = _Loader.make()
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe
    except UnicodeDecodeError:
        raise CourseError(f"{path} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise CourseError(f"{path} is not readable YAML ({exc}): give the file Gradescope "
                          "wrote") from None


def _submitter(value: Any, where: str) -> Submitter:
    if not isinstance(value, dict):
        raise CourseError(f"{where}: a :submitters: entry is not a mapping")
    return Submitter(name=str(value.get(":name") or ""), sid=str(value.get(":sid") or ""),
                     email=str(value.get(":email") or ""))


def _time(value: Any, where: str) -> datetime:
    """Ruby's ``2027-01-21 09:00:00.000000000 -08:00`` (read by YAML as a datetime, or left
    as text), as an aware datetime; a time without an offset is refused."""
    if isinstance(value, str):
        text = value.strip()
        text = re.sub(r"^(\d{4}-\d\d-\d\d)[ T]", r"\1T", text)
        text = re.sub(r"\.(\d{6})\d+", r".\1", text)  # nanoseconds: to microseconds
        text = re.sub(r"\s*([+-]\d\d):?(\d\d)$", r"\1:\2", text).replace(" UTC", "+00:00")
        text = text.removesuffix("Z") + ("+00:00" if text.endswith("Z") else "")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise CourseError(f"{where}: :created_at: {value!r} is not a time") from None
    if not isinstance(value, datetime):
        raise CourseError(f"{where}: no :created_at: time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise CourseError(f"{where}: :created_at: {value.isoformat()} has no time zone")
    return value


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _mapping(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


# -- a run's result --------------------------------------------------------------------------
def counted(run: Run) -> bool:
    """Whether the autograder counted the run (nlpdojo's mark; other autograders': yes)."""
    mark = ((run.results or {}).get("extra_data") or {}).get("nlpdojo") or {}
    return not (isinstance(mark, dict) and mark.get("counted") is False)


def result_of(run: Run, default_max: tuple[float | None, str]) -> GradingResult:
    """The run's ``results.json`` as a result: a check per Gradescope test (nlpdojo's own
    tests carry their check's id, question and status in ``extra_data``). Without tests, one
    check of the run's score out of ``default_max`` (the total, and where it comes from)."""
    most_possible, from_where = default_max
    tests = [t for t in (run.results or {}).get("tests") or [] if isinstance(t, dict)]
    by_exercise: dict[str, list[CheckResult]] = {}
    for n, test in enumerate(tests, 1):
        extra = test.get("extra_data") if isinstance(test.get("extra_data"), dict) else {}
        cid = str(extra.get("id") or test.get("name") or f"test{n}")
        score = _number(test.get("score")) or 0.0
        most = _number(test.get("max_score"))
        most = score if most is None else most
        status = str(extra.get("status") or test.get("status")
                     or ("passed" if score >= most else "failed"))
        if status not in STATUSES:
            status = "failed"
        by_exercise.setdefault(str(extra.get("exercise") or "gradescope"), []).append(
            CheckResult(id=cid, question=str(extra.get("question") or cid.split(".")[0]),
                        kind=str(extra.get("kind") or "custom"), score=score, max_score=most,
                        status=status, message=str(test.get("output") or ""),
                        title=str(test.get("name") or ""),
                        hidden=bool(extra.get("hidden", False))))
    warnings = []
    if not by_exercise:
        if run.score is None:
            raise CourseError(f"Gradescope run {run.key} ({run.created_at.isoformat()}) has no "
                              "tests and no score: its points cannot be told")
        if most_possible is None:
            raise CourseError(f"Gradescope run {run.key} ({run.created_at.isoformat()}) has a "
                              f"score ({run.score:g}) but no tests, and no run of the export "
                              "lists tests to take the autograder's total from: give it with "
                              "--points-possible N")
        by_exercise["gradescope"] = [CheckResult(
            id="score", question="score", kind="custom", score=run.score,
            max_score=most_possible,
            status="passed" if run.score >= most_possible else "failed",
            message="the score Gradescope recorded (its results list no tests)")]
        warnings.append(f"no tests in Gradescope's results: out of {most_possible:g}, "
                        f"{from_where}")
    ours = any(isinstance(t.get("extra_data"), dict) and t["extra_data"].get("exercise")
               for t in tests)
    result = GradingResult(
        exercises=[ExerciseResult(name, name, checks) for name, checks in by_exercise.items()],
        backend="gradescope", device="", submission=run.key, seeds={}, versions={},
        options={"imported_from": "gradescope", "gradescope_submission": run.key,
                 # another autograder's run grades the assignment as that autograder was
                 # set up to: its checks name no question of nlpdojo's to hold it to
                 OTHER_AUTOGRADER: not ours},
        started_at=run.created_at.isoformat())
    if run.score is not None and abs(run.score - result.score) > 1e-6 and tests:
        warnings.append(f"Gradescope recorded a score of {run.score:g}; its tests sum to "
                        f"{result.score:g}, which the record keeps")
    result.warnings = warnings
    if run.folder is None:  # no files exported: the run itself is the content
        result.submission_sha256 = "gradescope:" + hashlib.sha256(
            run.key.encode()).hexdigest()[:32]
    return result


def _largest_total(submissions: list[ExportedSubmission]) -> float | None:
    totals = Counter()
    for sub in submissions:
        for run in sub.runs:
            tests = (run.results or {}).get("tests") or []
            most = sum(_number(t.get("max_score")) or 0.0 for t in tests if isinstance(t, dict))
            if most:
                totals[most] += 1
    return max(totals) if totals else None


# -- into the record ---------------------------------------------------------------------------
def match_submitter(students: list[Student], who: Submitter) -> Student | None:
    """The roster's student for a Gradescope submitter: by email, else by SID (the roster's
    SIS user id, id or login), case-insensitively, where the names agree too (every word of
    one in the other: an SID that happens to be another student's id or login is no match);
    None where none or several match. Which accounts of one student count is
    :func:`_accounts`' business."""
    def one(hits: list[Student]) -> Student | None:
        return hits[0] if len(hits) == 1 else None

    if who.email:
        hit = one([s for s in students if s.email and s.email.casefold() == who.email.casefold()])
        if hit is not None:
            return hit
    if who.sid:
        key = who.sid.casefold()
        for attr in ("sis_user_id", "id", "login"):
            hit = one([s for s in students if getattr(s, attr)
                       and getattr(s, attr).casefold() == key])
            if hit is not None:
                return hit if _same_person(hit.name, who.name) else None
    return None


def _other_accounts(students: list[Student], submissions: list[ExportedSubmission]
                   ) -> dict[tuple[str, str], str]:
    """The accounts matched to a student by SID alone that are not taken, and why, by
    ``(student id, email)``: where the student's own email submitted too, or where several
    emails matched them by SID. An account enrolled with an entry code types its own name
    and SID: another email with a student's SID and name replaced that student's 4 of 4 by
    its 0 of 4 under ``counts = "last"``. One other email alone (a student's personal
    address, the roster's their school's) is taken."""
    by_email: dict[str, set[str]] = {}
    by_sid: dict[str, set[str]] = {}
    for sub in submissions:
        for who in sub.submitters:
            student = match_submitter(students, who)
            if student is None:
                continue
            email = (who.email or "").casefold()
            own = bool(email) and email == (student.email or "").casefold()
            (by_email if own else by_sid).setdefault(student.id, set()).add(email)
    refused = {}
    for sid, emails in by_sid.items():
        if by_email.get(sid) or len(emails) > 1:
            why = ("whose own email submitted too" if by_email.get(sid) else
                   f"as {len(emails)} accounts are")
            for email in emails:
                refused[sid, email] = (
                    f"the runs of <{email or '-'}> match {sid} by SID only, {why}: one "
                    "student with several Gradescope accounts, or someone who enrolled with "
                    "another's SID and name? Not recorded; check the accounts on Gradescope "
                    "and give the roster the right email")
    return refused


def _same_person(roster_name: str, submitter_name: str) -> bool:
    """Whether two spellings of a name can be one person's ("Lovelace, Ada" and "Ada
    Lovelace"): the words of one are all in the other; a submitter without a name agrees."""
    mine, theirs = (set(re.findall(r"\w+", n.casefold())) for n in (roster_name,
                                                                       submitter_name))
    return not theirs or mine <= theirs or theirs <= mine


def import_export(course: Course, assignment: str, export: Path, *,
                  points_possible: float | None = None) -> GradescopeImport:
    """Record every counted run of the export (a zip, or its folder) as attempts at
    ``assignment``. Each attempt is one transaction (:func:`record_attempt`); a run already
    recorded (by its time, from Gradescope) is left as it is. ``points_possible``: the
    autograder's total, for runs that list no tests (default: the largest total of the
    export's runs that do)."""
    if points_possible is not None and not (math.isfinite(points_possible)
                                            and points_possible > 0):
        raise CourseError(f"--points-possible {points_possible:g}: give the autograder's "
                          "total, a number above 0")
    course.assignment(assignment)
    students = course.students()
    if not students:
        raise CourseError(f"course {course.path} has no roster yet: import one with `dojo "
                          "course roster import FILE` before the Gradescope export")
    if export.is_file() and zipfile.is_zipfile(export):
        with tempfile.TemporaryDirectory(prefix="nlpdojo-gradescope-export-") as tmp:
            return _import(course, assignment, read_export(_unzip(export, Path(tmp))),
                           students, points_possible)
    if not export.exists():
        raise CourseError(f"{export} does not exist: give the zip of Gradescope's Export "
                          "Submissions, or the folder it unpacks to")
    if export.is_file():
        raise CourseError(f"{export} is not a zip archive: give the zip of Gradescope's Export "
                          "Submissions, or the folder it unpacks to")
    return _import(course, assignment, read_export(export), students, points_possible)


def _import(course: Course, assignment: str, submissions: list[ExportedSubmission],
            students: list[Student], points_possible: float | None) -> GradescopeImport:
    done = GradescopeImport()
    default_max = (points_possible, "--points-possible") if points_possible is not None else (
        _largest_total(submissions), "the largest total of the export's runs")
    seen: set[str] = set()
    refused = _other_accounts(students, submissions)
    for sub in submissions:
        for who in sub.submitters:
            student = match_submitter(students, who)
            if student is None:
                done.unmatched.append(who)
                continue
            if (student.id, (who.email or "").casefold()) in refused:
                done.refused.append(refused[student.id, (who.email or "").casefold()])
                continue
            seen.add(student.id)
            for run in sub.runs:
                if not counted(run):
                    done.not_counted += 1
                    continue
                if _recorded(course, student.id, assignment, run.created_at):
                    done.already += 1
                    continue
                try:  # one student's run (its sources too large to keep...) stops no other's
                    _, new = record_attempt(
                        course, student.id, assignment, result_of(run, default_max),
                        submitted_at=run.created_at, submitted_from="gradescope",
                        folder=run.folder, folder_name=sub.key)
                except (CourseError, OSError) as exc:
                    done.refused.append(f"{student.id}'s run of {run.created_at.isoformat()}: "
                                        f"{exc}")
                    continue
                done.recorded += new
                done.already += not new
                if new and in_the_future(run.created_at):
                    done.ahead.append((student.id, run.created_at))
    done.students = len(seen)
    done.missing = [s for s in students if s.id not in seen and not s.withdrawn]
    if done.missing:
        done.missing_line = without_work(done.missing, course, assignment, "run in the export")
    return done


def _recorded(course: Course, student: str, assignment: str, when: datetime) -> bool:
    """A run of this time from Gradescope is recorded already (it was the active submission
    of an earlier export, and is history in this one)."""
    return course.conn.execute(
        "SELECT 1 FROM attempts WHERE student = ? AND assignment = ? AND submitted_at = ? AND "
        "submitted_from = 'gradescope'", (student, assignment, stored_submission_time(when))
    ).fetchone() is not None


def _unzip(archive: Path, dest: Path) -> Path:
    """Extract ``archive`` into ``dest``: every entry inside it, regular files only, within
    :data:`MAX_EXPORT_BYTES`."""
    total = 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = (dest / info.filename).resolve()
            if not target.is_relative_to(dest.resolve()):
                raise CourseError(f"{archive}: entry {info.filename!r} leaves the archive's "
                                  "folder; this is not an export Gradescope made")
            if info.filename.startswith("__MACOSX/"):
                continue
            total += info.file_size
            if total > MAX_EXPORT_BYTES:
                raise CourseError(f"{archive} unpacks to more than {MAX_EXPORT_BYTES:,} bytes")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    return dest
