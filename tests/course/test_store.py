"""The course file: created private, its schema migrated forward, a newer one refused, a lock
said as one, anything that is not a course file refused."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from nlpdojo_autograder.course import schema, store
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.store import Course
from tests.course.helpers import make_course


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
