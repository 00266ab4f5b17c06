"""The course file's tables and how an older course file is brought up to date.

A course file is one SQLite database (stdlib :mod:`sqlite3`, WAL journal, foreign keys on).
Its schema is :data:`MIGRATIONS`, applied in order: migration *n* takes a file of schema
*n - 1* to schema *n*, and the table ``schema_migrations`` records each one applied (version,
what it did, when, by which nlpdojo). Opening a course applies the migrations it lacks, all in
one transaction, so a later nlpdojo opens an earlier course; a file whose schema is newer than
:data:`SCHEMA_VERSION` is refused (an older nlpdojo would misread it). A migration is only ever
appended, never edited: a released schema is what files in the wild hold.

Times are ISO 8601 text in UTC with their offset (``2027-01-20T07:59:00+00:00``), so they sort
as text and read back as aware datetimes. The tables (docs/course.md, "Schema"):

- ``meta``: the course's own settings (``name``, ``policy``: the late policy and defaults as
  JSON, ``table``: the course table it was made from, ``created_at``).
- ``assignments``: id, title, position, targets (JSON list of topics or question ids),
  points, due_at, timezone (the zone the due date was written in), counts (which attempt
  counts), lms_id (Canvas's assignment id, where known).
- ``students``: id (the roster's: Canvas's ``ID``, or the plain CSV's ``id``), name,
  sortable_name, email, login (``SIS Login ID``), sis_user_id, section, position (roster
  order), source (``canvas`` or ``csv``).
- ``attempts``: one row per grading of a student's submission; unique per (student,
  assignment, number) and per (student, assignment, content_sha256, submitted_at), which
  is what makes recording idempotent. ``attempt_questions`` holds its points per question.
- ``extensions``: a student's own due date for an assignment, with the reason.
- ``overrides``: a TA's decision (points for a question, or for the whole assignment when
  ``question`` is ``''``, or excused), who made it and when; every one is kept, the latest
  per (student, assignment, question) applies.
- ``regrades``: an attempt's earlier result, kept when a regrade replaced it.
- ``voids`` (schema 3): an attempt voided (recorded by mistake: a cohort graded again
  without its manifest), with the reason, who and when; a void is never deleted, a restored
  one gets ``restored_by``/``restored_at``. A void attempt is kept and shown, never counted.
  ``students.withdrawn`` (schema 3): why and when a student left the course ('' while
  enrolled): kept with their attempts, left out of the exports, the course view and "missing".
- ``overrides.removed_by``/``removed_at``/``removed_reason`` (schema 4): an override taken
  back (a TA's mistake): kept and shown, no longer applied; the latest override in force per
  (student, assignment, question) applies.

Schema 2 stores each result (``attempts`` and ``regrades``) compressed: ``result_zlib`` holds
the result's JSON (UTF-8) as the SQLite archive format (sqlar) stores a file, zlib's
``compress`` output, or the bytes themselves where that is not smaller, and ``result_bytes``
its length uncompressed (:func:`pack_result`, :func:`unpack_result`). A course's results are
~93% of its file and compress ~9 to 1; what a query wants without them (score, max_score,
times, the points per question in ``attempt_questions``) stays in plain columns, and the
``sqlite3`` shell reads a result with ``sqlar_uncompress(result_zlib, result_bytes)``.
``attempts.points_sum`` is its ``attempt_questions`` points summed in the order recorded
(NULL where it has none), written with them: an export reads it instead of every question's
row.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: zlib's level for stored results (6, its default: 9 saves ~2% more at twice the time)
ZLIB_LEVEL = 6


@dataclass(frozen=True)
class Migration:
    """One step of the schema: ``version`` is the schema it produces."""

    version: int
    description: str
    sql: str
    #: run after ``sql``, in the same transaction: what SQL alone cannot do
    python: Callable[[sqlite3.Connection], None] | None = None


def pack_result(text: str) -> tuple[bytes, int]:
    """A result's JSON as stored: ``(result_zlib, result_bytes)``, sqlar's layout (the zlib
    stream, or the UTF-8 bytes themselves where compressing does not make them smaller)."""
    data = text.encode("utf-8")
    packed = zlib.compress(data, ZLIB_LEVEL)
    return (packed if len(packed) < len(data) else data), len(data)


def unpack_result(blob: bytes, size: int) -> str:
    """The JSON text of a stored result (:func:`pack_result`)."""
    data = bytes(blob) if len(blob) == size else zlib.decompress(blob)
    if len(data) != size:
        raise SchemaError(f"a stored result reads back as {len(data)} bytes, not the "
                          f"{size} recorded: the course file is damaged; restore it from a "
                          "backup")
    return data.decode("utf-8")


def _compress_results(conn: sqlite3.Connection) -> None:
    """Schema 2: every ``result_json`` (attempts, regrades) into ``result_zlib`` and
    ``result_bytes``, in chunks (a course's results are hundreds of MB as text); then the
    text column dropped (SQLite 3.35+; an older SQLite keeps it, emptied)."""
    for table in ("attempts", "regrades"):
        ids = [r[0] for r in conn.execute(f"SELECT id FROM {table} ORDER BY id")]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = conn.execute(f"SELECT id, result_json FROM {table} WHERE id IN ({marks})",
                                chunk).fetchall()
            conn.executemany(f"UPDATE {table} SET result_zlib = ?, result_bytes = ? "
                             "WHERE id = ?", [(*pack_result(r[1]), r[0]) for r in rows])
        if sqlite3.sqlite_version_info >= (3, 35):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN result_json")
        else:
            conn.execute(f"UPDATE {table} SET result_json = ''")
    conn.executemany("UPDATE attempts SET points_sum = ? WHERE id = ?",
                     [(total, attempt) for attempt, total in question_sums(conn).items()])


def question_sums(conn: sqlite3.Connection) -> dict[int, float]:
    """``{attempt: its question points summed in grading order}`` (``attempt_questions`` in
    rowid order: the order they were recorded in, the sum the late policy makes of them)."""
    sums: dict[int, float] = {}
    for attempt, points in conn.execute("SELECT attempt, points FROM attempt_questions "
                                        "ORDER BY rowid"):
        sums[attempt] = sums.get(attempt, 0) + points
    return sums


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the course record: assignments, roster, attempts, extensions, overrides",
              """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE assignments (
    id        TEXT PRIMARY KEY,
    title     TEXT NOT NULL,
    position  INTEGER NOT NULL,
    targets   TEXT NOT NULL,            -- JSON list: topics or topic.question ids
    points    REAL NOT NULL CHECK (points > 0),
    due_at    TEXT NOT NULL,            -- UTC, ISO 8601 with offset
    timezone  TEXT NOT NULL,            -- the zone or offset the due date was written in
    counts    TEXT NOT NULL CHECK (counts IN ('last-before-deadline', 'best', 'last')),
    lms_id    TEXT NOT NULL DEFAULT ''  -- Canvas's assignment id ('' unknown)
);
CREATE TABLE students (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    sortable_name TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    login         TEXT NOT NULL DEFAULT '',
    sis_user_id   TEXT NOT NULL DEFAULT '',
    section       TEXT NOT NULL DEFAULT '',
    position      INTEGER NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('canvas', 'csv'))
);
CREATE TABLE attempts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    student            TEXT NOT NULL REFERENCES students(id),
    assignment         TEXT NOT NULL REFERENCES assignments(id),
    number             INTEGER NOT NULL CHECK (number >= 1),
    submitted_at       TEXT NOT NULL,
    submitted_from     TEXT NOT NULL,   -- manifest | mtime | gradescope | given
    graded_at          TEXT NOT NULL,
    score              REAL NOT NULL,
    max_score          REAL NOT NULL,
    content_sha256     TEXT NOT NULL,
    grader_version     TEXT NOT NULL,
    grader_fingerprint TEXT NOT NULL DEFAULT '',
    input_seed         INTEGER,
    sources_tree       TEXT NOT NULL DEFAULT '',  -- sha256 of the stored sources' tree ('' none)
    folder             TEXT NOT NULL DEFAULT '',  -- the submission folder's name
    result_json        TEXT NOT NULL,
    UNIQUE (student, assignment, number),
    UNIQUE (student, assignment, content_sha256, submitted_at)
);
CREATE INDEX attempts_by_assignment ON attempts (assignment, student);
CREATE TABLE attempt_questions (
    attempt    INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
    question   TEXT NOT NULL,            -- topic.question
    points     REAL NOT NULL,
    max_points REAL NOT NULL,
    PRIMARY KEY (attempt, question)
);
CREATE TABLE extensions (
    student    TEXT NOT NULL REFERENCES students(id),
    assignment TEXT NOT NULL REFERENCES assignments(id),
    due_at     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (student, assignment)
);
CREATE TABLE overrides (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    student    TEXT NOT NULL REFERENCES students(id),
    assignment TEXT NOT NULL REFERENCES assignments(id),
    question   TEXT NOT NULL DEFAULT '',  -- '' : the whole assignment
    points     REAL,                      -- NULL where excused
    excused    INTEGER NOT NULL DEFAULT 0 CHECK (excused IN (0, 1)),
    reason     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (excused = 1 OR points IS NOT NULL)
);
CREATE TABLE regrades (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt            INTEGER NOT NULL REFERENCES attempts(id),
    replaced_at        TEXT NOT NULL,
    score              REAL NOT NULL,     -- the score before
    grader_version     TEXT NOT NULL,
    grader_fingerprint TEXT NOT NULL DEFAULT '',
    result_json        TEXT NOT NULL      -- the result before
);
"""),
    Migration(2, "results stored zlib-compressed (result_zlib, result_bytes: sqlar's layout)",
              """
ALTER TABLE attempts ADD COLUMN result_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN result_zlib BLOB NOT NULL DEFAULT x'';
ALTER TABLE attempts ADD COLUMN points_sum REAL;  -- its attempt_questions' points summed
ALTER TABLE regrades ADD COLUMN result_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE regrades ADD COLUMN result_zlib BLOB NOT NULL DEFAULT x'';
""", python=_compress_results),
    Migration(3, "attempts voided (and restored); students withdrawn, with the reason",
              """
ALTER TABLE students ADD COLUMN withdrawn TEXT NOT NULL DEFAULT '';  -- '' : enrolled
CREATE TABLE voids (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt     INTEGER NOT NULL REFERENCES attempts(id),
    reason      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    restored_by TEXT,                   -- NULL: the attempt is void now
    restored_at TEXT
);
CREATE INDEX voids_by_attempt ON voids (attempt);
"""),
    Migration(4, "overrides removed (kept, no longer applied), with the reason",
              """
ALTER TABLE overrides ADD COLUMN removed_by TEXT;  -- NULL: in force
ALTER TABLE overrides ADD COLUMN removed_at TEXT;
ALTER TABLE overrides ADD COLUMN removed_reason TEXT NOT NULL DEFAULT '';
"""),
)

#: the schema this nlpdojo writes (the last migration's)
SCHEMA_VERSION = MIGRATIONS[-1].version


class SchemaError(Exception):
    """The file's schema cannot be read by this nlpdojo (see :func:`migrate`)."""


def utc_now() -> str:
    """Now, as the course file stores times."""
    return stored_time(datetime.now(UTC))


def stored_time(moment: datetime) -> str:
    """An aware ``moment`` as the course file stores it: UTC, seconds, with its offset."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def stored_submission_time(moment: datetime) -> str:
    """A submission's aware ``moment`` as the course file stores it (:func:`stored_time`), a
    fraction of a second counted as a whole one: never stored earlier than it was, so a
    submission 0.6 s past a due date (or its grace) is late, as it was (truncated, it was on
    time: a TA's trial)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone")
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return stored_time(moment)


def read_time(text: str) -> datetime:
    """A time the course file stored (aware, UTC)."""
    return datetime.fromisoformat(text)


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema of the open file: 0 for an empty file (a new course)."""
    known = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                         "name = 'schema_migrations'").fetchone()
    if known is None:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, nlpdojo_version: str,
            migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Bring the file's schema up to the last of ``migrations``, in one transaction (a failure
    leaves it as it was); return the versions applied. Raises :class:`SchemaError` for a file
    of a newer schema."""
    latest = migrations[-1].version
    current = schema_version(conn)
    if current > latest:
        raise SchemaError(
            f"schema {current}, written by a newer nlpdojo (this one reads schemas up to "
            f"{latest}): upgrade nlpdojo (pip install -U nlpdojo) to open it; nothing was "
            "changed")
    todo = [m for m in migrations if m.version > current]
    if not todo:
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        if current == 0:
            conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                         "description TEXT NOT NULL, applied_at TEXT NOT NULL, "
                         "nlpdojo_version TEXT NOT NULL)")
        for migration in todo:
            for statement in _statements(migration.sql):
                conn.execute(statement)
            if migration.python is not None:
                migration.python(conn)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                         (migration.version, migration.description, utc_now(),
                          nlpdojo_version))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return [m.version for m in todo]


def _statements(sql: str) -> list[str]:
    """The statements of a migration's script (``executescript`` would commit on its own)."""
    found, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            found.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        found.append(buffer.strip())
    return [s for s in found if s]
