"""Attempts: recorded once per (content, submitted-at), numbered per student and assignment,
their sources kept content-addressed; a recording process killed with SIGKILL and run again
loses nothing and records nothing twice; manifests read strictly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nlpdojo_autograder.course.attempts import (
    NewAttempt,
    attempts,
    modified_at,
    read_manifest,
    record_attempt,
    record_attempts,
    restore_sources,
    store_sources,
)
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.roster import import_roster
from nlpdojo_autograder.course.store import Course
from tests._nested import nested
from tests.course.helpers import make_course, synthetic_result

WHEN = datetime(2027, 1, 20, 12, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def roster(course, tmp_path, n=1):
    path = tmp_path / "roster.csv"
    path.write_text("id,name\n" + "".join(f"s{i},S {i}\n" for i in range(n)))
    import_roster(course, path)


def test_recording_is_idempotent_and_numbers_attempts(course, tmp_path):
    roster(course, tmp_path)
    result = synthetic_result({"q1": (3, 4), "q2": (6, 6)}, sha="a" * 64)
    first, new = record_attempt(course, "s0", "a1", result, submitted_at=WHEN,
                                submitted_from="manifest")
    again, new_again = record_attempt(course, "s0", "a1", result, submitted_at=WHEN,
                                      submitted_from="manifest")
    assert (new, new_again, again.id) == (True, False, first.id)
    later, _ = record_attempt(course, "s0", "a1", result, submitted_at=WHEN.replace(hour=13),
                              submitted_from="manifest")
    assert (first.number, later.number) == (1, 2)
    assert first.questions == {"t.q1": (3.0, 4.0), "t.q2": (6.0, 6.0)}
    assert (first.score, first.max_score, first.input_seed, first.grader_version) == (
        9.0, 10.0, 7, "0.test")
    assert first.result(course).submission_sha256 == "a" * 64
    assert [a.number for a in attempts(course, student="s0", assignment="a1")] == [1, 2]


def test_many_attempts_in_one_transaction_all_or_none(course, tmp_path):
    roster(course, tmp_path, 3)
    item = NewAttempt("s0", "a1", synthetic_result({"q1": (1, 4)}, sha="b" * 64), WHEN,
                      "gradescope")
    bad = NewAttempt("s9", "a1", synthetic_result({"q1": (1, 4)}), WHEN, "gradescope")
    with pytest.raises(CourseError, match="no student 's9'"):
        record_attempts(course, [item, bad])
    assert attempts(course) == []
    done = record_attempts(course, [item, item, NewAttempt(
        "s1", "a1", synthetic_result({"q1": (2, 4)}), WHEN, "gradescope")])
    assert [(a.student, a.number, new) for a, new in done] == [
        ("s0", 1, True), ("s0", 1, False), ("s1", 1, True)]


def test_an_attempt_of_an_unknown_student_or_assignment_is_refused(course, tmp_path):
    roster(course, tmp_path)
    result = synthetic_result({"q1": (1, 4)})
    with pytest.raises(CourseError, match="no student 'zz'"):
        record_attempt(course, "zz", "a1", result, submitted_at=WHEN, submitted_from="given")
    with pytest.raises(CourseError, match="no assignment 'a9'"):
        record_attempt(course, "s0", "a9", result, submitted_at=WHEN, submitted_from="given")
    assert attempts(course) == []


def test_sources_are_kept_content_addressed_and_restored(course, tmp_path):
    folder = tmp_path / "sub"
    (folder / "t" / "__pycache__").mkdir(parents=True)
    (folder / "t" / "q.py").write_text("def f():\n    return 1\n")
    (folder / "t" / "__pycache__" / "q.pyc").write_bytes(b"\0")
    (folder / "t" / "data.bin").write_bytes(b"\1" * 100)
    (folder / "t" / "notes.ipynb").write_text("{}")
    tree = store_sources(course, folder)
    assert store_sources(course, folder) == tree  # the same files, the same tree
    restored = restore_sources(course, tree, tmp_path / "back")
    assert restored == ["t/notes.ipynb", "t/q.py"]  # the graded sources only
    assert (tmp_path / "back" / "t" / "q.py").read_text() == "def f():\n    return 1\n"
    assert oct(course.sources.stat().st_mode & 0o777) == "0o700"
    blob = next(p for p in course.sources.rglob("*") if p.is_file() and p.name != tree)
    blob.write_bytes(b"tampered")
    with pytest.raises(CourseError, match="does not hold what was stored"):
        restore_sources(course, tree, tmp_path / "again")


def test_a_module_linked_to_a_file_inside_the_submission_is_kept_as_graded(course, tmp_path):
    """The adversarial student's trial: ``softmax.py`` a link to ``../answers/softmax.txt``
    inside the submission is graded (the snapshot copies the target under the link's name),
    but the course kept no linked file, so a regrade of the kept sources found the module
    missing and took the points away. It is kept under the link's name now; a link out of the
    submission or to nowhere is kept as nothing (the grading refuses it)."""
    import os

    folder = tmp_path / "sub"
    (folder / "t").mkdir(parents=True)
    (folder / "answers").mkdir()
    (folder / "answers" / "q.txt").write_text("def f():\n    return 2\n")
    os.symlink("../answers/q.txt", folder / "t" / "q.py")
    (tmp_path / "elsewhere.py").write_text("SECRET = 1\n")
    os.symlink(tmp_path / "elsewhere.py", folder / "t" / "out.py")
    os.symlink("../answers/gone.py", folder / "t" / "dangling.py")
    tree = store_sources(course, folder)
    assert restore_sources(course, tree, tmp_path / "back") == ["answers/q.txt", "t/q.py"]
    assert (tmp_path / "back" / "t" / "q.py").read_text() == "def f():\n    return 2\n"


def test_every_file_a_grading_reads_is_kept_and_every_folder(course, tmp_path):
    """An adversarial trial: ``scale.py`` read ``factor.txt`` beside it, which the worker
    receives (a topic folder's .py, .txt, .json and .md), but the course kept .py and .ipynb
    alone: its regrade failed where its grading passed (10 -> 8, taken in a regrade
    --apply). And a folder of no kept file was not restored, so the regrade could find the
    code in another folder than the grading did. Both are kept."""
    folder = tmp_path / "sub"
    (folder / "hw" / "t").mkdir(parents=True)
    (folder / "data").mkdir()
    (folder / "data" / "big.csv").write_text("1,2\n")  # no file of it kept, the folder is
    (folder / "hw" / "t" / "scale.py").write_text("FACTOR = open('factor.txt').read()\n")
    for name in ("factor.txt", "table.json", "NOTES.md"):
        (folder / "hw" / "t" / name).write_text("3\n")
    back = tmp_path / "back"
    files = restore_sources(course, store_sources(course, folder), back)
    assert files == ["hw/t/NOTES.md", "hw/t/factor.txt", "hw/t/scale.py", "hw/t/table.json"]
    assert sorted(p.relative_to(back).as_posix() for p in back.rglob("*") if p.is_dir()) == [
        "data", "hw", "hw/t"]


def test_a_notebook_alone_is_kept(course, tmp_path):
    notebook = tmp_path / "t.ipynb"
    notebook.write_text('{"cells": []}')
    tree = store_sources(course, notebook)
    assert restore_sources(course, tree, tmp_path / "nb") == ["t.ipynb"]


def test_a_manifest_is_read_strictly(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("\ufefffolder;submitted_at\nann;2027-01-20T10:00:00-05:00\n")
    assert read_manifest(path)["ann"].isoformat() == "2027-01-20T10:00:00-05:00"
    path.write_text("folder,submitted_at\nann,2027-01-20T10:00:00\n")
    with pytest.raises(CourseError, match=r"line 2 \(ann\).*has no time zone"):
        read_manifest(path)
    assert read_manifest(path, "UTC")["ann"].utcoffset().total_seconds() == 0
    path.write_text("folder,submitted_at\nann,2027-01-20T10:00Z\nann,2027-01-21T10:00Z\n")
    with pytest.raises(CourseError, match="line 3: folder 'ann' is listed twice"):
        read_manifest(path)
    path.write_text("folder,submitted_at\nann,2027-01-20T10:00Z,extra\n")  # (dropped)
    with pytest.raises(CourseError, match="line 2: 3 cells for 2 columns"):
        read_manifest(path)
    path.write_text("name,time\nann,2027-01-20T10:00Z\n")
    with pytest.raises(CourseError, match="header folder,submitted_at"):
        read_manifest(path)
    # every row to fix at once (the TA's trial: one run per bad row)
    path.write_text("folder,submitted_at\nann,2027-01-20\nbo\ncy,tomorrow\n"
                    "dee,2027-01-20T10:00Z\n")
    with pytest.raises(CourseError, match=r"3 row\(s\) to fix \(nothing was read\): line 2 "
                                          r"\(ann\).*line 3: give folder.*line 4 \(cy\)"):
        read_manifest(path)


def test_modified_at_is_the_newest_source(tmp_path):
    (tmp_path / "a.py").write_text("x")
    (tmp_path / "b.py").write_text("y")
    os.utime(tmp_path / "a.py", (1_800_000_000, 1_800_000_000))
    os.utime(tmp_path / "b.py", (1_800_000_500, 1_800_000_500))
    assert modified_at(tmp_path) == datetime.fromtimestamp(1_800_000_500, UTC)


def test_a_files_time_that_is_no_date_is_said(tmp_path, monkeypatch):
    """An archive's entry dated past the year 9999 (or before the year 1): the time cannot
    be a submission's; said, with the way out, for that submission alone."""
    from pathlib import Path
    from types import SimpleNamespace

    (tmp_path / "a.py").write_text("x")
    real = Path.lstat

    def lstat(path):
        got = real(path)
        return (SimpleNamespace(st_mtime=1e12, st_mode=got.st_mode, st_size=got.st_size)
                if path.name == "a.py" else got)

    monkeypatch.setattr(Path, "lstat", lstat)
    with pytest.raises(CourseError, match=r"its files' modification time \(1000000000000 s "
                                          r"from 1970\) is no date: give .* --manifest"):
        modified_at(tmp_path)


def test_the_record_reads_the_files_a_snapshot_holds(course, tmp_path):
    """A folder whose name is not UTF-8 holding a thousand nested ones (os.walk recursed:
    RecursionError, the whole cohort's grading stopped at that student), and a deep nest under
    an ordinary name: neither is kept nor dates the attempt, as the grader's snapshot leaves
    them out."""
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "q.py").write_text("def f():\n    return 1\n")
    os.utime(tmp_path / "t" / "q.py", (1_800_000_000, 1_800_000_000))
    with nested(Path(os.fsdecode(bytes(tmp_path) + b"/\xff")), tmp_path / "t" / "deep"):
        assert modified_at(tmp_path) == datetime.fromtimestamp(1_800_000_000, UTC)
        tree = store_sources(course, tmp_path)
    assert restore_sources(course, tree, tmp_path.parent / "back") == ["t/q.py"]


RECORDER = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime
    from pathlib import Path
    from nlpdojo_autograder.course.attempts import record_attempt
    from nlpdojo_autograder.course.store import Course
    from tests.course.helpers import synthetic_result

    course = Course.open(Path(sys.argv[1]))
    folder = Path(sys.argv[2])
    for i in range(int(sys.argv[3])):
        result = synthetic_result({"q1": (i % 5, 4), "q2": (1, 6)}, sha=f"{i:064d}")
        _, new = record_attempt(course, f"s{i}", "a1", result, folder=folder,
                                submitted_at=datetime(2027, 1, 20, tzinfo=UTC),
                                submitted_from="manifest")
        print("recorded" if new else "kept", i, flush=True)
""")


def test_a_recording_killed_with_sigkill_and_run_again_loses_and_repeats_nothing(tmp_path):
    """The kill comes at whatever point the recording process has reached (between two
    transactions or inside one): run again, every attempt is there exactly once."""
    n = 40
    with make_course(tmp_path) as course:
        roster(course, tmp_path, n)
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "q.py").write_text("x = 1\n")
    argv = [sys.executable, "-c", RECORDER, str(tmp_path / "course.db"), str(folder), str(n)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env, cwd=REPO)
    seen = 0
    for line in child.stdout:
        seen += line.startswith("recorded")
        if seen == 5:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait()
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL, child.stderr.read()
    with sqlite3.connect(tmp_path / "course.db") as conn:
        done = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    assert 5 <= done < n  # killed half-way
    again = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO,
                           check=True).stdout.split("\n")
    assert sum(line.startswith("kept") for line in again) == done
    with Course.open(tmp_path / "course.db") as course:
        recorded = attempts(course)
        assert course.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        questions = course.conn.execute("SELECT COUNT(*) FROM attempt_questions").fetchone()[0]
    assert sorted(a.student for a in recorded) == sorted(f"s{i}" for i in range(n))
    assert {a.number for a in recorded} == {1} and questions == 2 * n



def test_a_source_tree_never_writes_outside_its_folder(course, tmp_path):
    """A tree naming ../x (a course folder edited by hand, or a future bug) is refused before
    anything is written outside the folder restored into."""
    import hashlib
    import json

    def put(data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        (course.sources / sha[:2]).mkdir(exist_ok=True)
        (course.sources / sha[:2] / sha).write_bytes(data)
        return sha

    tree = put(json.dumps({"../escaped.py": put(b"x = 1\n")}).encode())
    with pytest.raises(CourseError, match="outside its folder"):
        restore_sources(course, tree, tmp_path / "in")
    assert not (tmp_path / "escaped.py").exists()


def test_a_topics_folder_graded_with_the_library_beside_it_keeps_that_library(course, tmp_path):
    """An adversarial trial (round 5): ``grade --submission subs/alice/neural_networks
    --student ...`` graded the topic's files with ``subs/alice/library`` beside them, but the
    attempt kept the topic's files alone: a regrade found "no library/ in your submission"
    (10 -> 0). The library graded is kept with it, as ``library/`` inside."""
    from nlpdojo_autograder.course.attempts import graded_library

    topic = tmp_path / "alice" / "t"
    topic.mkdir(parents=True)
    (topic / "q.py").write_text("x = 1\n")
    (tmp_path / "alice" / "library").mkdir()
    (tmp_path / "alice" / "library" / "layers.py").write_text("y = 2\n")
    result = synthetic_result({"q1": (4, 4)})  # of topic "t"
    assert graded_library(topic, result) == tmp_path / "alice" / "library"
    assert graded_library(tmp_path / "alice", result) is None  # a whole submission: its own
    tree = store_sources(course, topic, graded_library(topic, result))
    assert restore_sources(course, tree, tmp_path / "back") == ["library/layers.py", "q.py"]


def test_a_notebook_graded_with_the_library_beside_it_keeps_that_library(course, tmp_path):
    """The adversarial student's trial, round 3 (from reading): ``grade --submission
    alice/word_vectors.ipynb --student ...`` grades the notebook with the ``library/`` beside
    it (or beside its topic folder), but the attempt kept the notebook alone, so a regrade of
    a topic built on the library graded the released stubs in its place. The library is kept
    beside the notebook, where the regrade's grading looks for it."""
    from nlpdojo_autograder.course.attempts import graded_library

    result = synthetic_result({"q1": (4, 4)})
    beside = tmp_path / "alice"
    beside.mkdir()
    notebook = beside / "t.ipynb"
    notebook.write_text('{"cells": []}')
    assert graded_library(notebook, result) is None  # none there
    (beside / "library").mkdir()
    (beside / "library" / "layers.py").write_text("y = 2\n")
    assert graded_library(notebook, result) == beside / "library"
    tree = store_sources(course, notebook, graded_library(notebook, result))
    assert restore_sources(course, tree, tmp_path / "back") == ["library/layers.py", "t.ipynb"]
    # exercises/<topic>/<topic>.ipynb with exercises/library: the one beside the topic folder
    topic = tmp_path / "exercises" / "t"
    topic.mkdir(parents=True)
    (topic / "t.ipynb").write_text('{"cells": []}')
    (tmp_path / "exercises" / "library").mkdir()
    assert graded_library(topic / "t.ipynb", result) == tmp_path / "exercises" / "library"
