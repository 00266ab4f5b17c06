"""Schema 2: a course's results stored zlib-compressed. A schema-1 file (made by the schema-1
code path, its results written as schema 1 wrote them) opens, is migrated in place in one
transaction, and every result reads back equal; what is stored is sqlar's layout, so the
``sqlite3`` shell reads it; a damaged result and a newer schema are refused."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime

import pytest

from nlpdojo_autograder.course import schema, store
from nlpdojo_autograder.course.attempts import (
    attempts,
    attempts_by_ids,
    attempts_without_questions,
    record_attempt,
    replace_result,
)
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.policy import gradebook
from nlpdojo_autograder.course.roster import import_roster
from nlpdojo_autograder.course.store import Course
from nlpdojo_autograder.grading.results import json_default
from tests.course.helpers import make_course, synthetic_result

SCHEMA_1 = schema.MIGRATIONS[:1]


def schema_1_course(tmp_path, monkeypatch) -> tuple[dict[int, dict], dict]:
    """A course file as schema 1 made it, two attempts and a regrade written with schema 1's
    columns; returns ``({attempt id: result dict}, the regrade's result dict)``."""
    with monkeypatch.context() as patch:
        patch.setattr(store, "migrate", lambda conn, v: schema.migrate(conn, v, SCHEMA_1))
        course = make_course(tmp_path)
    results = {1: synthetic_result({"q1": (4.0, 4.0), "q2": (1.5, 6.0)}, sha="a" * 64),
               2: synthetic_result({"q1": (4.0, 4.0), "q2": (6.0, 6.0)}, sha="b" * 64, seed=8)}
    before = synthetic_result({"q1": (0.0, 4.0), "q2": (6.0, 6.0)}, sha="a" * 64).to_dict()
    with course.transaction() as conn:
        assert schema.schema_version(conn) == 1
        conn.execute("INSERT INTO students (id, name, position, source) VALUES "
                     "('s1', 'Ada', 1, 'csv')")
        for number, result in results.items():
            conn.execute(
                "INSERT INTO attempts (id, student, assignment, number, submitted_at, "
                "submitted_from, graded_at, score, max_score, content_sha256, grader_version, "
                "input_seed, result_json) VALUES (?, 's1', 'a1', ?, ?, 'manifest', ?, ?, ?, ?, "
                "'0.test', 7, ?)",
                (number, number, f"2027-01-2{number}T07:00:00+00:00",
                 "2027-02-10T12:00:00+00:00", result.score, result.max_score,
                 result.submission_sha256,
                 json.dumps(result.to_dict(), allow_nan=False, default=json_default)))
            conn.executemany("INSERT INTO attempt_questions VALUES (?, ?, ?, ?)",
                             [(number, f"t.{c.question}", c.score, c.max_score)
                              for _, c in result.checks()])
        conn.execute("INSERT INTO regrades (attempt, replaced_at, score, grader_version, "
                     "result_json) VALUES (1, '2027-02-11T00:00:00+00:00', 7.5, '0.old', ?)",
                     (json.dumps(before),))
    course.close()
    return {n: r.to_dict() for n, r in results.items()}, before


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def test_a_schema_1_course_is_migrated_in_place_and_reads_back_equal(tmp_path, monkeypatch):
    results, before = schema_1_course(tmp_path, monkeypatch)
    with Course.open(tmp_path / "course.db") as course:
        conn = course.conn
        assert schema.schema_version(conn) == schema.SCHEMA_VERSION == 4
        for table in ("attempts", "regrades"):
            assert "result_json" not in columns(conn, table)
            assert {"result_zlib", "result_bytes"} <= set(columns(conn, table))
        recorded = attempts(course)
        assert [a.id for a in recorded] == [1, 2]
        assert {a.id: a.result(course).to_dict() for a in recorded} == results
        assert [a.questions for a in recorded] == [{"t.q1": (4.0, 4.0), "t.q2": (1.5, 6.0)},
                                                   {"t.q1": (4.0, 4.0), "t.q2": (6.0, 6.0)}]
        sums = conn.execute("SELECT points_sum FROM attempts ORDER BY id").fetchall()
        assert [r[0] for r in sums] == [5.5, 10.0]  # what an export reads of the questions
        blob, size = conn.execute("SELECT result_zlib, result_bytes FROM regrades").fetchone()
        assert json.loads(schema.unpack_result(blob, size)) == before
        stored = conn.execute("SELECT SUM(LENGTH(result_zlib)), SUM(result_bytes) FROM "
                              "attempts").fetchone()
        assert stored[0] < stored[1]  # compressed
        applied = conn.execute("SELECT version FROM schema_migrations").fetchall()
        assert [r[0] for r in applied] == [1, 2, 3, 4]
        assert "voids" in {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"removed_by", "removed_at", "removed_reason"} <= set(columns(conn,
                                                                           "overrides"))
    with Course.open(tmp_path / "course.db") as course:  # opened again: nothing to do
        assert {a.id: a.result(course).to_dict() for a in attempts(course)} == results


def test_a_failed_migration_to_schema_2_leaves_schema_1_as_it_was(tmp_path, monkeypatch):
    results, _ = schema_1_course(tmp_path, monkeypatch)

    def fail(conn):
        schema._compress_results(conn)
        raise RuntimeError("killed midway")

    broken = (*SCHEMA_1, schema.Migration(2, "compress, then fail", schema.MIGRATIONS[1].sql,
                                          python=fail))
    with sqlite3.connect(tmp_path / "course.db", isolation_level=None) as conn:
        with pytest.raises(RuntimeError, match="killed midway"):
            schema.migrate(conn, "test", broken)
        assert schema.schema_version(conn) == 1
        assert "result_zlib" not in columns(conn, "attempts")
        texts = dict(conn.execute("SELECT id, result_json FROM attempts"))
        assert {n: json.loads(t) for n, t in texts.items()} == results


def test_a_migrated_course_of_a_newer_schema_is_still_refused(tmp_path, monkeypatch):
    schema_1_course(tmp_path, monkeypatch)
    Course.open(tmp_path / "course.db").close()
    with sqlite3.connect(tmp_path / "course.db") as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'future', 'now', '9.0')",
                     (schema.SCHEMA_VERSION + 1,))
    with pytest.raises(CourseError, match=rf"schema {schema.SCHEMA_VERSION + 1}, written by "
                       r"a newer nlpdojo.*upgrade"):
        Course.open(tmp_path / "course.db")


def test_results_are_stored_as_sqlar_stores_a_file(tmp_path):
    text = json.dumps({"checks": ["matches the reference"] * 50})
    packed, size = schema.pack_result(text)
    assert size == len(text.encode()) and len(packed) < size
    assert schema.unpack_result(packed, size) == text
    tiny, size = schema.pack_result("{}")  # zlib would make it larger: kept as it is
    assert (tiny, size) == (b"{}", 2) and schema.unpack_result(tiny, size) == "{}"
    with pytest.raises(schema.SchemaError, match="damaged; restore it from a backup"):
        schema.unpack_result(packed, size + 1)
    if shutil.which("sqlite3") is None:
        return
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (result_zlib BLOB, result_bytes INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [schema.pack_result(text),
                                                         schema.pack_result("{}")])
    conn.close()
    shell = subprocess.run(["sqlite3", str(db), "SELECT CAST(sqlar_uncompress(result_zlib, "
                            "result_bytes) AS TEXT) FROM t"], capture_output=True, text=True,
                           check=False)
    if "no such function" in shell.stderr:  # a shell built without zlib
        return
    assert shell.stdout.splitlines() == [text, "{}"]


def test_points_sum_is_written_with_the_questions_and_follows_a_regrade(course, tmp_path):
    """The sum the gradebook reads instead of the questions (attempts_without_questions) is
    the one it made of them, bit for bit, after recording and after a regrade; an attempt
    without questions has none, and counts its score."""
    tmp_path.joinpath("r.csv").write_text("id,name,email,section\ns1,Ada,a@x.edu,A\n")
    import_roster(course, tmp_path / "r.csv")
    when = datetime(2027, 1, 20, 12, tzinfo=UTC)
    thirds = synthetic_result({"q1": (0.1, 4.0), "q2": (0.2, 6.0)}, sha="a" * 64)
    first, _ = record_attempt(course, "s1", "a1", thirds, submitted_at=when,
                              submitted_from="manifest")
    bare_attempt, _ = record_attempt(course, "s1", "a2", synthetic_result({}, sha="b" * 64),
                                     submitted_at=when, submitted_from="given")
    light, sums = attempts_without_questions(course)
    assert [a.questions for a in light] == [{}, {}]
    assert sums == {first.id: sum(p for p, _ in first.questions.values())}
    assert sums[first.id] == 0.1 + 0.2 != 0.3  # the same bits as the sum of the questions
    replace_result(course, first.id, synthetic_result({"q1": (0.3, 4.0), "q2": (0.6, 6.0)}))
    regraded = attempts_by_ids(course, [first.id, bare_attempt.id])
    assert attempts_without_questions(course)[1] == {
        first.id: sum(p for p, _ in regraded[first.id].questions.values())}
    assert regraded[bare_attempt.id].questions == {}
    book = gradebook(course)
    assert book.standing("s1", "a1").attempt == regraded[first.id]  # counted: in full
    assert book.standing("s1", "a1").raw == round(20 * (0.3 + 0.6) / 10, 6)
