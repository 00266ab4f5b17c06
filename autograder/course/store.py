"""The course file's handle: :class:`Course` opens (or creates) one course's SQLite file and is
what every other module of the course record reads and writes through.

Public API (stable; docs/course.md, "Schema"):

- :meth:`Course.create` / :meth:`Course.open`, :func:`course_path` (``--course`` or
  ``NLPDOJO_COURSE``), :meth:`Course.transaction` (``BEGIN IMMEDIATE`` ... ``COMMIT``);
- :meth:`Course.assignments`, :meth:`Course.assignment`, :meth:`Course.students`,
  :meth:`Course.student`, :meth:`Course.policy`, :meth:`Course.meta`;
- :attr:`Course.sources` (the content-addressed store of graded sources, :mod:`.attempts`).

The file is created readable and writable by its owner only (0600; its folder of sources
0700), in WAL mode, with foreign keys on. Every write is a transaction, so a process killed at
any moment leaves the file as it was before or after a write, never between. A write that
finds the file locked by another process (a running grading) waits :data:`BUSY_TIMEOUT_S`
and then says so.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from nlpdojo_autograder.authoring.questions import selected
from nlpdojo_autograder.course import COURSE_ENV  # noqa: F401 - the course modules read it here
from nlpdojo_autograder.course.config import (
    AssignmentSpec,
    CourseConfig,
    CourseError,
    LatePolicy,
    local_time,
)
from nlpdojo_autograder.course.schema import (
    SchemaError,
    migrate,
    read_time,
    schema_version,
    stored_time,
    utc_now,
)

#: how long a write waits for another process's transaction (a running grading) to end
BUSY_TIMEOUT_S = 10.0
#: the folder, beside the course file, holding the graded sources (``<stem>-sources``)
SOURCES_SUFFIX = "-sources"

__all__ = ["BUSY_TIMEOUT_S", "COURSE_ENV", "Assignment", "Course", "CourseError", "Student",
           "course_path", "nlpdojo_version"]


@dataclass(frozen=True)
class Assignment:
    """An assignment as the course file holds it."""

    id: str
    title: str
    position: int
    targets: tuple[str, ...]
    points: float
    due: datetime  # aware, UTC
    timezone: str
    counts: str
    lms_id: str = ""


@dataclass(frozen=True)
class Student:
    """A student of the roster."""

    id: str
    name: str
    sortable_name: str = ""
    email: str = ""
    login: str = ""
    sis_user_id: str = ""
    section: str = ""
    position: int = 0
    source: str = "csv"
    #: why and when they left the course ("" while enrolled: ``dojo course roster withdraw``)
    withdrawn: str = ""


def nlpdojo_version() -> str:
    try:
        return version("nlpdojo")
    except PackageNotFoundError:
        return "unknown"


def course_path(given: Path | None) -> Path:
    """The course file: ``given`` (``--course``), else ``$NLPDOJO_COURSE``. Never looked for
    anywhere else (never in a submission's folder)."""
    if given is not None:
        return given
    env = os.environ.get(COURSE_ENV)
    if env:
        return Path(env).absolute()  # a relative one: from this command's working folder
    raise CourseError(f"which course? pass --course PATH (the course file `dojo course init` "
                      f"made) or set {COURSE_ENV}")


class Course:
    """One open course file. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, config: CourseConfig, table_text: str = "") -> Course:
        """A new course file at ``path`` (refused where one exists), from ``config``."""
        path = Path(path)
        if path.exists():
            problem = _not_a_course(path) if path.is_file() else (
                f"{path} is a folder, not a course file")
            if problem is not None:
                raise CourseError(f"{problem}: `dojo course init` makes a new file; give "
                                  "--course a path where nothing is yet")
            raise CourseError(f"{path} exists: it is a course already (open it with --course "
                              f"{path}); to change its assignments or policy, edit the course "
                              "table and run `dojo course init --update`")
        if not path.parent.is_dir():
            raise CourseError(f"folder {path.parent} does not exist: create it first")
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)  # whatever the umask
        try:
            course = cls._connect(path)
            migrate(course.conn, nlpdojo_version())
            with course.transaction():
                course._set_meta("created_at", utc_now())
                course._write_config(config, table_text)
        except BaseException:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            raise
        return course

    @classmethod
    def open(cls, path: Path) -> Course:
        """The course file at ``path``, its schema brought up to date (refused where it is
        newer than this nlpdojo's)."""
        path = Path(path)
        if path.is_dir():
            found = sorted(p.name for p in path.glob("*.course")) or sorted(
                p.name for p in path.glob("*.db"))
            raise CourseError(f"{path} is a folder, not a course file: give the file `dojo "
                              "course init` made"
                              + (f" ({', '.join(found[:3])} here)" if found else ""))
        if not path.is_file():
            env = os.environ.get(COURSE_ENV, "")
            if env and not Path(env).is_absolute() and path == Path(env).absolute():
                raise CourseError(  # cd'ed away from it: not a course to make here
                    f"no course file at {path}: {COURSE_ENV}={env} is a relative path, read "
                    "from the working folder of each command; set it to the course file's "
                    f"absolute path (`export {COURSE_ENV}=$PWD/{env}` in its folder) or pass "
                    "--course")
            raise CourseError(f"no course file at {path}: make one with `dojo course init "
                              f"--course {path}` (from a course.toml or pyproject.toml)")
        problem = _not_a_course(path)  # read without writing: nothing of it is changed
        if problem is not None:
            raise CourseError(f"{problem}; give the file `dojo course init` made (nothing was "
                              "changed)")
        course = cls._connect(path)
        try:
            migrate(course.conn, nlpdojo_version())
        except SchemaError as exc:
            course.close()
            raise CourseError(f"course file {path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            course.close()
            raise CourseError(_database_message(path, exc)) from None
        if course.meta("created_at") is None:
            course.close()
            raise CourseError(f"{path} is an SQLite file but not a course file; give the file "
                              "`dojo course init` made")
        return course

    @classmethod
    def _connect(cls, path: Path) -> Course:
        # a cohort's writer threads share the connection, one at a time (recording.py's lock)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise CourseError(_database_message(path, exc)) from None
        for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            if side.exists():
                os.chmod(side, 0o600)
        return cls(path, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Course:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is recorded, or none (a kill -9 included)."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise CourseError(_database_message(self.path, exc)) from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self.conn.execute("ROLLBACK")
            raise CourseError(_database_message(self.path, exc)) from None

    # -- the course table -----------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                          "value = excluded.value", (key, value))

    @property
    def name(self) -> str:
        return self.meta("name") or self.path.stem

    def policy(self) -> LatePolicy:
        """The course's late policy."""
        return LatePolicy(**json.loads(self.meta("late_policy") or "{}"))

    @property
    def submissions_key(self) -> str:
        """What submission folders are named by: ``login``, ``email`` or ``id``."""
        return self.meta("submissions_key") or "login"

    def update_config(self, config: CourseConfig, table_text: str = "") -> list[str]:
        """Write an edited course table over the course's: assignments added or changed, the
        policy replaced. An assignment that has attempts cannot be removed. Returns what
        changed, one line each."""
        with self.transaction():
            return self._write_config(config, table_text)

    def _write_config(self, config: CourseConfig, table_text: str) -> list[str]:
        changes = []
        self._set_meta("name", config.name)
        self._set_meta("late_policy", json.dumps(config.late.to_dict(), sort_keys=True))
        self._set_meta("submissions_key", config.submissions_key)
        self._set_meta("timezone", config.timezone)
        if table_text:
            self._set_meta("course_table", table_text)
        before = {a.id: a for a in self.assignments()}
        kept = {a.id for a in config.assignments}
        for gone in sorted(set(before) - kept):
            used = self.conn.execute("SELECT COUNT(*) FROM attempts WHERE assignment = ?",
                                     (gone,)).fetchone()[0]
            if used:
                raise CourseError(f"assignment {gone} has {used} recorded attempts and is not "
                                  "in the course table any more: put it back (a course "
                                  "record never loses an attempt)")
            for table in ("extensions", "overrides"):
                self.conn.execute(f"DELETE FROM {table} WHERE assignment = ?", (gone,))
            self.conn.execute("DELETE FROM assignments WHERE id = ?", (gone,))
            changes.append(f"removed assignment {gone}")
        for position, spec in enumerate(config.assignments, 1):
            row = _assignment_row(spec, position)
            self.conn.execute(
                "INSERT INTO assignments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO "
                "UPDATE SET title = excluded.title, position = excluded.position, targets = "
                "excluded.targets, points = excluded.points, due_at = excluded.due_at, "
                "timezone = excluded.timezone, counts = excluded.counts, lms_id = "
                "excluded.lms_id", row)
            old = before.get(spec.id)
            if old is None:
                changes.append(f"added assignment {spec.id}")
            elif _assignment_row(_spec(old), position) != row:
                fields = ("id", "title", "position", "targets", "points", "due", "timezone",
                          "counts", "lms_id")
                what = [f"{name} {_shown(name, a, config.timezone)} -> "
                        f"{_shown(name, b, config.timezone)}" for name, a, b in zip(
                            fields, _assignment_row(_spec(old), position), row, strict=True)
                        if a != b]
                changes.append(f"changed assignment {spec.id}: {'; '.join(what)}")
                graded = (self._graded_on_other_questions(spec.id, spec.targets)
                          if old.targets != spec.targets else 0)
                if graded:  # their points are of other questions' than these
                    changes.append(
                        f"  {graded} attempt(s) at {spec.id} were graded on its earlier "
                        f"questions and keep those points: `dojo course regrade {spec.id}` "
                        "shows what grading them on these would change (--apply records it)")
        return changes

    def _graded_on_other_questions(self, aid: str, targets: Sequence[str]) -> int:
        """The attempts at ``aid`` graded on other questions than ``targets`` (question ids
        ``topic.question``, or topics: every question of it): not those graded on exactly
        these (a TA's trial: a change and its undoing said that attempts graded on the
        questions of now kept "earlier" points)."""
        wanted = set(targets)
        graded: dict[int, set[str]] = {}
        for attempt, question in self.conn.execute(
                "SELECT a.id, q.question FROM attempts a LEFT JOIN attempt_questions q "
                "ON q.attempt = a.id WHERE a.assignment = ?", (aid,)):
            graded.setdefault(attempt, set()).update([question] if question else [])

        def on_these(questions: set[str]) -> bool:
            topics = {q.split(".", 1)[0] for q in questions}
            return (bool(questions)
                    and all(selected(q, wanted) for q in questions)
                    and all(t in questions if "." in t else t in topics for t in wanted))

        return sum(1 for questions in graded.values() if not on_these(questions))

    def assignments(self) -> list[Assignment]:
        """Every assignment, in the course table's order."""
        return [_assignment(r) for r in self.conn.execute(
            "SELECT * FROM assignments ORDER BY position, id")]

    def assignment(self, aid: str) -> Assignment:
        """The assignment ``aid``; an unknown id is an error naming the known ones."""
        row = self.conn.execute("SELECT * FROM assignments WHERE id = ?", (aid,)).fetchone()
        if row is None:
            known = ", ".join(a.id for a in self.assignments()) or "none"
            raise CourseError(f"no assignment {aid!r} in course {self.path} (assignments: "
                              f"{known})")
        return _assignment(row)

    # -- the roster --------------------------------------------------------------------
    def students(self) -> list[Student]:
        """Every student, in the roster's order."""
        return [Student(**dict(r)) for r in self.conn.execute(
            "SELECT * FROM students ORDER BY position, id")]

    def student(self, sid: str) -> Student:
        """The student ``sid`` (their id, or else their login or email: of the students who
        have it, the one enrolled where the others withdrew); an unknown one is an error that
        says how to find them."""
        row = self.conn.execute("SELECT * FROM students WHERE id = ?", (sid,)).fetchone()
        if row is None:
            rows = self.conn.execute(
                "SELECT * FROM students WHERE (login != '' AND lower(login) = lower(?)) OR "
                "(email != '' AND lower(email) = lower(?))", (sid, sid)).fetchall()
            enrolled = [r for r in rows if not r["withdrawn"]]
            if len(rows) > 1 and len(enrolled) == 1:  # a withdrawn id beside the one enrolled
                rows = enrolled
            if len(rows) > 1:
                raise CourseError(f"{sid!r} is the login or email of {len(rows)} students of "
                                  f"course {self.path} ({', '.join(r['id'] for r in rows)}): "
                                  "name the student by id")
            row = rows[0] if rows else None
        if row is None:
            count = self.conn.execute("SELECT COUNT(*) FROM students").fetchone()[0]
            hint = ("the roster is empty: import it with `dojo course roster import FILE`"
                    if not count else "`dojo course roster show` lists the students")
            raise CourseError(f"no student {sid!r} in course {self.path} ({hint})")
        return Student(**dict(row))

    # -- graded sources -----------------------------------------------------------------
    @property
    def sources(self) -> Path:
        """The folder of content-addressed graded sources (created 0700 on first use)."""
        folder = self.path.with_name(self.path.name + SOURCES_SUFFIX)
        if not folder.is_dir():
            folder.mkdir(mode=0o700)
        return folder

    def refuse_as_output(self, target: Path, option: str = "--output") -> None:
        """Refuse (:class:`CourseError`) a file or folder a command would write that is part
        of this course's record: the course file, SQLite's ``-wal`` and ``-shm`` beside it, or
        the graded sources' folder and what it holds. An export or a report written there
        would replace the record (an instructor's ``-o`` mistyped as the course's name)."""
        record = [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")]
        sources = self.path.with_name(self.path.name + SOURCES_SUFFIX)
        where = _real(target)
        if any(where == _real(p) for p in record) or where == _real(sources) or \
                _real(sources) in where.parents:
            raise CourseError(f"{option} {target} is part of course {self.path}'s record (the "
                              "course file, its SQLite journal or its graded sources): writing "
                              "there would replace it; give another path (nothing was written)")


def _assignment_row(spec: AssignmentSpec, position: int) -> tuple[Any, ...]:
    return (spec.id, spec.title, position, json.dumps(list(spec.targets)), spec.points,
            stored_time(spec.due), spec.timezone, spec.counts, spec.lms_id)


def _spec(a: Assignment) -> AssignmentSpec:
    return AssignmentSpec(id=a.id, title=a.title, targets=a.targets, points=a.points, due=a.due,
                          timezone=a.timezone, counts=a.counts, lms_id=a.lms_id)


def _assignment(row: sqlite3.Row) -> Assignment:
    return Assignment(id=row["id"], title=row["title"], position=row["position"],
                      targets=tuple(json.loads(row["targets"])), points=row["points"],
                      due=read_time(row["due_at"]), timezone=row["timezone"],
                      counts=row["counts"], lms_id=row["lms_id"])


def _real(path: Path) -> Path:
    """``path`` with its links resolved (a name that does not exist yet as written)."""
    return Path(os.path.realpath(path))


#: the first bytes of every SQLite database file
SQLITE_HEADER = b"SQLite format 3\x00"


def _not_a_course(path: Path) -> str | None:
    """Why the file at ``path`` is not a course file, read without writing to it (an SQLite
    connection that may write would set its journal mode and add the course's tables to
    another application's database); None where it is one (it holds the course schema's
    table of migrations, which every course file has from its making)."""
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
    if not head:
        return f"{path} is empty, not a course file"
    if head != SQLITE_HEADER:
        return f"{path} is not a course file (not SQLite)"
    try:
        conn = sqlite3.connect(f"{_real(path).as_uri()}?mode=ro", uri=True,
                               timeout=BUSY_TIMEOUT_S)
        try:
            version = schema_version(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return _database_message(path, exc)
    if version == 0:
        return f"{path} is an SQLite file but not a course file"
    return None


def _database_message(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (f"course file {path} is locked by another process (a grading recording "
                f"attempts?) and stayed locked {BUSY_TIMEOUT_S:g} s; wait for it to finish and "
                "run this again (nothing was changed)")
    if "not a database" in text or "malformed" in text:
        return (f"{path} is not a readable course file ({text}); restore it from a backup, or "
                "give the file `dojo course init` made")
    return f"course file {path}: {text}"


def _shown(field: str, value: Any, zone: str) -> Any:
    """A field of an assignment's row as a change to it is told: a due date on the course's
    clock (``zone``), as the TA wrote it, not as stored (UTC)."""
    if field == "due" and isinstance(value, str):
        try:
            return local_time(datetime.fromisoformat(value), zone)
        except ValueError:
            return value
    return value
