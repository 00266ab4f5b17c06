"""The course file: created private, its schema migrated forward, a newer one refused, a lock
said as one, anything that is not a course file refused."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from nlpdojo_autograder.course import schema, store
from nlpdojo_autograder.course.config import CourseError, parse_course_table
from nlpdojo_autograder.course.store import Course
from tests.course.helpers import TABLE, make_course


def test_a_new_course_file_is_its_owners_only_and_holds_the_table(tmp_path):
    with make_course(tmp_path) as course:
        assert [a.id for a in course.assignments()] == ["a1", "a2"]
        a1 = course.assignment("a1")
        assert a1.due.isoformat() == "2027-01-21T07:59:00+00:00"  # -08:00 kept as UTC
        assert a1.points == 20 and a1.lms_id == "101" and a1.counts == "last-before-deadline"
        assert course.assignment("a2").counts == "best"
        assert course.policy().bank_days == 3
    assert stat.S_IMODE((tmp_path / "course.db").stat().st_mode) == 0o600
    with Course.open(tmp_path / "course.db") as course:
        assert course.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert schema.schema_version(course.conn) == schema.SCHEMA_VERSION


def test_a_second_init_is_refused(tmp_path):
    make_course(tmp_path).close()
    with pytest.raises(CourseError, match="exists: it is a course already"):
        make_course(tmp_path)


def test_unknown_assignment_and_student_name_what_there_is(course):
    with pytest.raises(CourseError, match=r"no assignment 'a9'.*a1, a2"):
        course.assignment("a9")
    with pytest.raises(CourseError, match="roster is empty"):
        course.student("s1")


def test_a_later_schema_opens_an_earlier_course(tmp_path, monkeypatch):
    make_course(tmp_path).close()
    later = schema.SCHEMA_VERSION + 1
    added = schema.Migration(later, "a test column", "ALTER TABLE students ADD COLUMN "
                             "pronouns TEXT NOT NULL DEFAULT '';")
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, added))
    monkeypatch.setattr(store, "migrate", lambda conn, v: schema.migrate(
        conn, v, schema.MIGRATIONS))
    with Course.open(tmp_path / "course.db") as course:
        assert schema.schema_version(course.conn) == later
        columns = [r[1] for r in course.conn.execute("PRAGMA table_info(students)")]
        assert "pronouns" in columns
        applied = course.conn.execute("SELECT version FROM schema_migrations").fetchall()
        assert [r[0] for r in applied] == [*range(1, later + 1)]
        assert [a.id for a in course.assignments()] == ["a1", "a2"]  # nothing lost


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    make_course(tmp_path).close()
    broken = schema.Migration(schema.SCHEMA_VERSION + 1, "broken",
                              "ALTER TABLE students ADD COLUMN x TEXT;\n"
                              "ALTER TABLE nowhere ADD COLUMN y TEXT;")
    with sqlite3.connect(tmp_path / "course.db", isolation_level=None) as conn:
        with pytest.raises(sqlite3.OperationalError):
            schema.migrate(conn, "test", (*schema.MIGRATIONS, broken))
        assert schema.schema_version(conn) == schema.SCHEMA_VERSION
        assert "x" not in [r[1] for r in conn.execute("PRAGMA table_info(students)")]


def test_a_course_file_from_a_newer_nlpdojo_is_refused(tmp_path):
    make_course(tmp_path).close()
    with sqlite3.connect(tmp_path / "course.db") as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 'now', '9.0')")
    with pytest.raises(CourseError, match=r"schema 99, written by a newer nlpdojo.*upgrade"):
        Course.open(tmp_path / "course.db")


def test_what_is_not_a_course_file_is_refused(tmp_path):
    (tmp_path / "notes.db").write_text("hello")
    with pytest.raises(CourseError, match="not a course file"):
        Course.open(tmp_path / "notes.db")
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(CourseError, match="not a course file"):
        Course.open(tmp_path / "other.db")
    with pytest.raises(CourseError, match="dojo course init"):
        Course.open(tmp_path / "absent.db")


def test_a_file_that_is_not_a_course_is_refused_unchanged(tmp_path):
    """Another application's database and an empty file, given as a course, are refused
    without a byte of them written: a connection that may write would set WAL mode and add
    the course's tables before finding it is no course (an instructor's finding)."""
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x)")
        conn.execute("INSERT INTO notes VALUES ('kept')")
    conn.close()
    empty = tmp_path / "e.course"
    empty.touch(mode=0o644)
    before = {p: (p.read_bytes(), p.stat().st_mode) for p in (other, empty)}
    for path, said in ((other, "an SQLite file but not a course file"),
                       (empty, "is empty, not a course file")):
        with pytest.raises(CourseError, match=said) as refused:
            Course.open(path)
        assert "nothing was changed" in str(refused.value)
    assert {p: (p.read_bytes(), p.stat().st_mode) for p in (other, empty)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.course", "other.db"]  # no -wal
    # making a course there says what the file is, not that it is a course already
    with pytest.raises(CourseError, match=r"e.course is empty, not a course file.*nothing is"):
        Course.create(empty, parse_course_table(TABLE))
    assert empty.read_bytes() == b""


def test_nothing_is_written_over_a_course_record(tmp_path):
    """An export's or a report's path that is the course file, its SQLite journal or its
    sources' folder is refused (an ``-o`` mistyped as the course's name replaced the record)."""
    course = make_course(tmp_path)
    path = tmp_path / "course.db"
    (tmp_path / "link.db").symlink_to(path)
    for target in (path, tmp_path / "link.db", Path(f"{path}-wal"), Path(f"{path}-shm"),
                   tmp_path / "course.db-sources", tmp_path / "course.db-sources" / "x.csv"):
        with pytest.raises(CourseError, match="part of course .* record.*nothing was written"):
            course.refuse_as_output(target)
    course.refuse_as_output(tmp_path / "grades.csv")  # anything else is the caller's to judge
    course.close()


def test_a_course_locked_by_a_running_grading_says_so(tmp_path, monkeypatch):
    make_course(tmp_path).close()
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.05)
    holder = sqlite3.connect(tmp_path / "course.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a grading's transaction in flight
    try:
        with Course.open(tmp_path / "course.db") as course:
            with pytest.raises(CourseError, match=r"locked by another process.*nothing was "
                                                  r"changed"):
                with course.transaction():
                    pass
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_the_course_path_is_given_never_looked_for(monkeypatch, tmp_path):
    monkeypatch.delenv(store.COURSE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "course.db").touch()  # a file in the folder is not taken
    with pytest.raises(CourseError, match="pass --course PATH"):
        store.course_path(None)
    monkeypatch.setenv(store.COURSE_ENV, "/x/c.db")
    assert str(store.course_path(None)) == "/x/c.db"
