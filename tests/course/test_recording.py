"""grade --course: every option checked before any grading, the course never looked for
(NLPDOJO_COURSE only with --submissions or --student), one submission recorded as a student's
attempt with its time given or its files' modification time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app as grade_app
from nlpdojo_autograder.course.attempts import attempts, record_attempt
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.recording import course_recording, manifest_by_folder
from nlpdojo_autograder.course.roster import import_roster
from nlpdojo_autograder.course.schema import stored_submission_time
from nlpdojo_autograder.course.store import COURSE_ENV, Course
from tests.course.helpers import TABLE, make_course, synthetic_result


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv(COURSE_ENV, raising=False)
    with make_course(tmp_path) as course:
        (tmp_path / "r.csv").write_text("id,name,email,login\ns1,Ann,ann@x.edu,ann\n")
        import_roster(course, tmp_path / "r.csv")
    return tmp_path / "course.db"


WHEN = datetime(2027, 1, 20, 10, tzinfo=UTC)


def options(**given):
    base = dict(student=None, assignment=None, manifest=None, submitted_at=None,
                submission=None, submissions=None, topics=None)
    return base | given


@pytest.mark.parametrize(("course", "given", "said"), [
    (None, {"student": "s1"}, "--student record\\(s\\) the grading in a course: give --course"),
    (None, {"manifest": "m.csv"}, "--manifest record"),
    ("db", {"submission": "x"}, "name the student with --student ID"),
    ("db", {"submissions": "x", "student": "s1"}, "leave out --student"),
    ("db", {"student": "s1", "manifest": "m.csv"}, "for one submission give --submitted-at"),
    ("db", {"student": "s1"}, "which assignment does this grading belong to"),
    ("db", {"student": "zz", "assignment": "a1"}, "no student 'zz'"),
    ("db", {"student": "s1", "assignment": "a1", "submitted_at": "2027-01-20 10:00"},
     "--submitted-at: 2027-01-20T10:00:00 has no time zone"),
])
def test_what_cannot_be_recorded_is_refused_before_grading(db, course, given, said):
    with pytest.raises(CourseError, match=said):
        course_recording(db if course else None, **options(**given))


def test_a_grading_of_part_of_an_assignment_is_not_recorded_as_all_of_it(db, tmp_path):
    """a1 asks t.q1 and t.q2: a grading of t.q1 alone (a TA grading one question, a result of
    another selection) would be recorded at the whole assignment's points, its score the
    share of q1's points earned. Refused before grading, and by the record itself for a
    result that says it graded t.q1 only."""
    for topics in (["t.q1"], ["t.q1", "t.q3"]):
        with pytest.raises(CourseError, match="grade t.q1.* not all that assignment a1 asks "
                           r"\(t.q1, t.q2\): t.q2 would be missing from its score"):
            course_recording(db, **options(student="s1", assignment="a1", topics=topics))
    for topics in (["t"], ["t.q1", "t.q2"]):
        course_recording(db, **options(student="s1", assignment="a1", topics=topics)).close()
    part = synthetic_result({"q1": (4.0, 4.0)})
    part.options |= {"topics": ["t"], "questions": ["t.q1"]}
    whole = synthetic_result({"q1": (4.0, 4.0), "q2": (0.0, 6.0)})
    whole.options |= {"topics": ["t"], "questions": []}
    with Course.open(db) as course:
        with pytest.raises(CourseError, match="the grading of s1 grades t.q1, not all"):
            record_attempt(course, "s1", "a1", part, submitted_at=WHEN, submitted_from="given")
        assert attempts(course, "s1", "a1") == []
        attempt, _ = record_attempt(course, "s1", "a1", whole, submitted_at=WHEN,
                                    submitted_from="given")
        assert (attempt.score, attempt.max_score) == (4.0, 10.0)


def test_the_environment_names_the_course_only_for_a_student_or_a_cohort(db, monkeypatch):
    monkeypatch.setenv(COURSE_ENV, str(db))
    assert course_recording(None, **options(submission="x")) is None  # a student's own grade
    found = course_recording(None, **options(student="ann", assignment="a2"))
    assert (found.student, found.assignment.id, found.targets) == ("s1", "a2", ["t.q3"])
    found.close()
    by_topics = course_recording(None, **options(student="s1", topics=["t.q3"]))
    assert by_topics.assignment.id == "a2"  # the assignment whose questions are named
    by_topics.close()


def test_one_submission_recorded_with_its_time(db, tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "q.py").write_text("x = 1\n")
    found = course_recording(db, **options(student="s1", assignment="a1",
                                           submitted_at="2027-01-20T10:00:00+01:00"))
    found.record_single(folder, synthetic_result({"q1": (4, 4), "q2": (6, 6)}))
    again = course_recording(db, **options(student="s1", assignment="a1", submission=folder))
    assert any("modification time" in w for w in again.warnings)
    again.record_single(folder, synthetic_result({"q1": (4, 4), "q2": (6, 6)}, sha="1" * 64))
    found.close()
    again.close()
    with Course.open(db) as course:
        recorded = attempts(course)
    # by submission time: the files were written now, before the time given for the first
    assert [(a.number, a.submitted_from) for a in recorded] == [(2, "mtime"), (1, "given")]
    given = next(a for a in recorded if a.submitted_from == "given")
    assert given.submitted_at.isoformat() == "2027-01-20T09:00:00+00:00"
    assert given.folder == "sub" and given.sources_tree


def test_grade_refuses_course_options_without_a_course(tmp_path, monkeypatch):
    monkeypatch.delenv(COURSE_ENV, raising=False)
    result = CliRunner().invoke(grade_app, ["--submission", str(tmp_path), "--student", "s1"])
    assert result.exit_code == 2
    assert "give --course PATH" in " ".join(result.output.split())


def test_grade_says_a_relative_course_variable_is_read_from_its_working_folder(db, tmp_path,
                                                                             monkeypatch):
    """A TA's trial: with ``NLPDOJO_COURSE=nlp.course`` and ``cd`` elsewhere, ``dojo course``
    said the variable is relative and how to set it, while ``grade --student`` said "no course
    file at nlp.course: make one with `dojo course init`": in a folder holding a course.toml,
    a second, empty course. Both say the same now, and nothing is made."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv(COURSE_ENV, db.name)  # relative: the course file's folder is tmp_path
    result = CliRunner().invoke(grade_app, ["--submission", str(tmp_path), "--student", "s1"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2, said
    assert f"{COURSE_ENV}={db.name} is a relative path" in said and "absolute path" in said
    assert not (elsewhere / db.name).exists() and list(elsewhere.iterdir()) == []


def test_the_same_files_again_at_their_own_time_are_the_attempt_recorded_before(db, tmp_path):
    """The TA's trial: a cohort graded again without its ``--manifest`` recorded a second copy
    of each attempt at the files' modification time, an on-time one that then counted (a late
    penalty gone, 19.8 -> 22). Files already recorded are that attempt whatever their time;
    other files are a new one."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "q.py").write_text("x = 1\n")
    late = course_recording(db, **options(student="s1", assignment="a1",
                                          submitted_at="2027-01-23T10:00:00+00:00"))
    late.record_single(folder, synthetic_result({"q1": (4, 4), "q2": (6, 6)}, sha="a" * 64))
    late.close()
    again = course_recording(db, **options(student="s1", assignment="a1", submission=folder))
    again.record_single(folder, synthetic_result({"q1": (4, 4), "q2": (6, 6)}, sha="a" * 64))
    again.record_single(folder, synthetic_result({"q1": (4, 4), "q2": (6, 6)}, sha="b" * 64))
    again.close()
    with Course.open(db) as course:
        recorded = attempts(course)
    assert [(a.content_sha256[0], a.submitted_from) for a in recorded] == [("b", "mtime"),
                                                                          ("a", "given")]


def test_an_attempt_counts_the_assignments_questions_only(db):
    """An adversarial trial (round 5): a whole topic graded for a one-question assignment was
    recorded at the topic's total (softmax's 4 of 4 among the topic's 40: 1 of 10 course
    points). The attempt's points are its assignment's questions'."""
    result = synthetic_result({"q1": (4, 4), "q2": (6, 6), "q3": (5, 10)})
    with Course.open(db) as course:
        attempt, _ = record_attempt(course, "s1", "a2", result, submitted_at=WHEN,
                                    submitted_from="given")
        assert (attempt.score, attempt.max_score) == (5.0, 10.0)
        assert attempt.questions == {"t.q3": (5.0, 10.0)}


def test_a_bare_question_id_is_that_question_for_the_assignment(tmp_path, monkeypatch):
    """``grade softmax --student S --course C`` for an assignment of word_vectors.softmax was
    refused: "softmax would be missing" (the bare id was taken for a topic)."""
    monkeypatch.delenv(COURSE_ENV, raising=False)
    table = {**TABLE, "assignments": [{**TABLE["assignments"][0],
                                       "questions": ["word_vectors.softmax"]},
                                      TABLE["assignments"][1]]}
    with make_course(tmp_path, table) as course:
        (tmp_path / "r.csv").write_text("id,name,email,login\ns1,Ann,ann@x.edu,ann\n")
        import_roster(course, tmp_path / "r.csv")
    found = course_recording(tmp_path / "course.db", **options(
        student="s1", assignment="a1", topics=["softmax"],
        submitted_at="2027-01-20T10:00:00Z"))
    found.close()
    # without --assignment: the one of exactly that question (the TA's trial, round 2: "which
    # assignment does this grading belong to?" though a1 is word_vectors.softmax alone)
    found = course_recording(tmp_path / "course.db", **options(
        student="s1", topics=["softmax"], submitted_at="2027-01-20T10:00:00Z"))
    assert found.assignment.id == "a1"
    found.close()
    with pytest.raises(CourseError, match="word_vectors.softmax would be missing"):
        course_recording(tmp_path / "course.db", **options(
            student="s1", assignment="a1", topics=["naive_softmax"],
            submitted_at="2027-01-20T10:00:00Z"))


def test_the_same_files_at_a_corrected_time_are_said_with_the_attempt_to_void(db, tmp_path):
    """Round 5: a cohort graded again with a corrected manifest (bob's time, a typo, had him on
    time) added an attempt at the right time, and the one at the wrong time still counted,
    without a word. What to do is said."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "q.py").write_text("x = 1\n")
    result = synthetic_result({"q1": (4, 4), "q2": (6, 6)}, sha="c" * 64)
    for when in ("2027-01-20T10:00:00+00:00", "2027-01-23T10:00:00+00:00"):
        recording = course_recording(db, **options(student="s1", assignment="a1",
                                                   submitted_at=when))
        recording.record_single(folder, result)
        said = recording.said
        recording.close()
    assert len(said) == 1 and "recorded before as attempt 1" in said[0]
    assert "dojo course void s1 a1 1 --reason" in said[0]


def test_a_manifest_row_names_its_folder_in_any_case_and_rows_of_no_folder_are_said(db, tmp_path):
    """A TA's trial: the manifest's ``ANN@X.EDU`` for the folder ``ann@x.edu`` (an LMS export's
    case) was refused as "no submitted_at" though the row was there, and a row naming no folder
    (an upload lost on the way) went unmentioned. A row names its folder in any case where
    nothing else is the same but for case; rows of no folder are said before grading and at
    its end."""
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("folder,submitted_at\nANN@X.EDU,2027-01-20T10:00:00+00:00\n"
                        "ghost,2027-01-20T11:00:00+00:00\n")
    folders = [tmp_path / "subs" / "ann@x.edu"]
    recording = course_recording(db, **options(submissions=tmp_path / "subs",
                                               assignment="a1", manifest=manifest))
    lines = recording.prepare(folders)
    recording.close()
    assert recording.manifest == {"ann@x.edu": WHEN}
    (said,) = [line for line in lines if "name no folder" in line]
    assert said.startswith("1 row(s) of the manifest name no folder here: ghost"), said
    assert said in recording.said

    # two rows the same but for case, or two such folders: exact names only
    later = datetime(2027, 1, 21, tzinfo=UTC)
    assert manifest_by_folder({"ann": WHEN, "ANN": later}, ["Ann"]) == ({}, ["ann", "ANN"])
    assert manifest_by_folder({"ann": WHEN}, ["ann", "Ann"]) == ({"ann": WHEN}, [])
    assert manifest_by_folder({"ANN": WHEN}, ["ann", "Ann"]) == ({}, ["ANN"])


def test_a_cohort_every_submission_of_which_is_weeks_late_is_said_before_grading(db, tmp_path):
    """A TA's trial: a2's cohort graded with --assignment a1 by mistake was recorded as a1's
    attempts, three weeks late each, without a word. Where every submission of a manifest
    (two or more) is more than a week past the due date, it is said before the grading and at
    its end; a cohort with one on-time submission is not."""
    from datetime import timedelta

    with Course.open(db) as course:
        (tmp_path / "r2.csv").write_text("id,name,email,login\ns1,Ann,ann@x.edu,ann\n"
                                         "s2,Bo,bo@x.edu,bo\n")
        import_roster(course, tmp_path / "r2.csv")
        due = course.assignment("a1").due
    manifest = tmp_path / "manifest.csv"
    folders = [tmp_path / "subs" / "ann", tmp_path / "subs" / "bo"]
    for days, said in (((21, 22), True), ((21, 0), False)):
        manifest.write_text("folder,submitted_at\n"
                            f"ann,{(due + timedelta(days=days[0])).isoformat()}\n"
                            f"bo,{(due + timedelta(days=days[1])).isoformat()}\n")
        recording = course_recording(db, **options(submissions=tmp_path / "subs",
                                                   assignment="a1", manifest=manifest))
        lines = recording.prepare(folders)
        recording.close()
        found = [line for line in lines if "the right --assignment?" in line]
        assert bool(found) is said, lines
        if said:
            assert found[0].startswith("every submission of the manifest was handed in at "
                                       "least 21 days after a1's due date"), found
            assert "`dojo course void`" in found[0]
            assert any("the right --assignment?" in line for line in recording.said)


def test_a_submission_time_later_than_now_is_said_before_grading(db, tmp_path):
    """The TA's trial: a manifest with a wrong year (every time a year ahead) was recorded
    without a word, and each attempt then stood at a time no one handed anything in. It is
    said before the grading (and again at its end), with the way out; a time within minutes
    of now (the clocks differ) is not. One submission's --submitted-at likewise."""
    from datetime import timedelta

    from nlpdojo_autograder.course.policy import current_time

    now = current_time()  # (the tests' course clock: tests/conftest.py)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("folder,submitted_at\n"
                        f"ann,{(now + timedelta(days=365)).isoformat()}\n"
                        f"zed,{(now + timedelta(days=400)).isoformat()}\n")
    folders = [tmp_path / "subs" / "ann", tmp_path / "subs" / "zed"]  # zed: no student
    recording = course_recording(db, **options(submissions=tmp_path / "subs",
                                               assignment="a1", manifest=manifest))
    lines = recording.prepare(folders)
    recording.close()
    (ahead,) = [line for line in lines if "later than now" in line]
    assert ahead.startswith("1 submission time(s) of the manifest are later than now (ann: ")
    assert "wrong year, date or time zone" in ahead and "stop now (Ctrl-C)" in ahead
    (again,) = recording.said[-1:]  # at the end, when every attempt is recorded
    assert "were recorded as written: `dojo course void`" in again and "Ctrl-C" not in again

    manifest.write_text(f"folder,submitted_at\nann,{(now + timedelta(minutes=1)).isoformat()}\n")
    recording = course_recording(db, **options(submissions=tmp_path / "subs",
                                               assignment="a1", manifest=manifest))
    assert not [line for line in recording.prepare(folders[:1]) if "later than now" in line]
    recording.close()

    later = (now + timedelta(days=365)).isoformat()
    recording = course_recording(db, **options(student="s1", assignment="a1",
                                               submitted_at=later))
    recording.close()
    assert [w for w in recording.warnings if w.startswith(f"--submitted-at {later} is later "
                                                         "than now")]


def test_students_without_a_folder_are_told_apart_by_their_standing(db, tmp_path, monkeypatch):
    """The TA's trial, round 2: a cohort's grading called "missing" every student without a
    folder in it: one excused, those graded in an earlier batch, and the whole class months
    before the due date. Each is said as what they are on the assignment."""
    from datetime import timedelta

    from nlpdojo_autograder.course.overrides import add_override
    from nlpdojo_autograder.course.policy import current_time

    with Course.open(db) as course:
        (tmp_path / "more.csv").write_text("id,name,email,login\ns2,Bo,bo@x.edu,bo\n"
                                           "s3,Cy,cy@x.edu,cy\ns4,Di,di@x.edu,di\n")
        import_roster(course, tmp_path / "more.csv")
        record_attempt(course, "s2", "a1", synthetic_result({"q1": (4, 4), "q2": (6, 6)}),
                       submitted_at=WHEN, submitted_from="given")
        add_override(course, "s3", "a1", excused=True, reason="medical", by="prof")
    folders = [tmp_path / "subs" / "ann"]
    recording = course_recording(db, **options(submissions=tmp_path / "subs", assignment="a1"))
    (line,) = [x for x in recording.prepare(folders) if "have no folder" in x]
    recording.close()
    assert line == ("3 student(s) have no folder here: 1 missing a1 (no attempt, past the due "
                    "date): Di (s4); 1 with an attempt recorded before (kept); 1 excused")
    from nlpdojo_autograder.course import policy

    early = current_time() - timedelta(days=3650)  # years before a1's due date
    monkeypatch.setattr(policy, "current_time", lambda: early)
    recording = course_recording(db, **options(submissions=tmp_path / "subs", assignment="a1"))
    (line,) = [x for x in recording.prepare(folders) if "have no folder" in x]
    recording.close()
    assert line == ("3 student(s) have no folder here: 1 with an attempt recorded before "
                    "(kept); 1 not due yet; 1 excused")


def test_a_fraction_of_a_second_past_the_due_date_is_late(db, tmp_path):
    """A TA's trial: times were stored truncated to the second, so a submission 0.6 s past
    the due date (a manifest's 23:59:59.6 against 23:59:59) was on time. A submission's time
    is stored rounded up, never earlier than it was; a whole second is kept as it is."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "q.py").write_text("x = 1\n")
    result = synthetic_result({"q1": (4, 4), "q2": (6, 6)})
    with Course.open(db) as course:
        for when, sha in ((datetime(2027, 1, 20, 23, 59, 58, 400_000, tzinfo=UTC), "1"),
                          (datetime(2027, 1, 20, 23, 59, 59, tzinfo=UTC), "2")):
            result.submission_sha256 = sha * 64
            record_attempt(course, "s1", "a1", result, submitted_at=when,
                           submitted_from="given")
        stored = [a.submitted_at.isoformat() for a in attempts(course, "s1", "a1")]
    assert stored == ["2027-01-20T23:59:59+00:00", "2027-01-20T23:59:59+00:00"]
    assert stored_submission_time(datetime(2027, 1, 20, 23, 59, 59, 600_000, tzinfo=UTC)) \
        == "2027-01-21T00:00:00+00:00"


def test_an_empty_folder_is_no_attempt(db, tmp_path):
    """A TA's trial: a cohort's empty folder (a student who submitted nothing) was recorded
    as a graded attempt of 0 points, dated by the folder, which under last-before-deadline
    outranked the student's later, late submission. It records nothing and is said."""
    empty = tmp_path / "ann"
    empty.mkdir()
    (empty / "notes.txt").write_text("later\n")
    found = course_recording(db, **options(assignment="a1", submissions=tmp_path))
    found.prepare([empty])
    assert found.record(empty, synthetic_result({"q1": (0, 4), "q2": (0, 6)})) is None
    assert (found.recorded, found.empty) == (0, 1)
    assert "ann holds no .py or .ipynb file: nothing submitted" in found.summary()
    assert "1 folder(s) with nothing submitted" in found.summary()
    found.close()
    with Course.open(db) as course:
        assert attempts(course, "s1", "a1") == []


def test_a_file_too_large_to_grade_does_not_keep_an_attempt_out_of_the_record(db, tmp_path,
                                                                              monkeypatch):
    """An adversarial trial: a 6 MB data file beside honest code (the grader skipped it) made
    the course refuse the attempt, and a 3 MB notes.md one that graded 4 of 4; a student
    could keep any upload out of the record so. A file larger than a grading reads is left
    out; sources larger than a course keeps in all are recorded without them, said; an
    attempt that could not be recorded is said again in the closing lines."""
    from nlpdojo_autograder.course import attempts as attempts_module

    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / "q.py").write_text("x = 1\n")
    (ann / "vocab.txt").write_bytes(b"w\n" * (attempts_module.MAX_SOURCE_BYTES // 2 + 1))
    found = course_recording(db, **options(assignment="a1", submissions=tmp_path,
                                           manifest=None))
    found.prepare([ann])
    assert found.record(ann, synthetic_result({"q1": (4, 4), "q2": (6, 6)})) is None
    assert found.recorded == 1
    with Course.open(db) as course:
        (kept,) = attempts(course, "s1", "a1")
        restored = attempts_module.restore_sources(course, kept.sources_tree, tmp_path / "back")
    assert restored == ["q.py"]  # the data file no grading read is not kept
    monkeypatch.setattr(attempts_module, "MAX_SOURCES_BYTES", 3)
    (ann / "q.py").write_text("x = 2\n")
    assert found.record(ann, synthetic_result({"q1": (4, 4), "q2": (6, 6)}, sha="c" * 64)) \
        is None
    assert "ann's sources are larger than a course keeps" in found.summary()
    monkeypatch.setattr(attempts_module, "store_sources", _refusing)
    (ann / "q.py").write_text("x = 3\n")
    problem = found.record(ann, synthetic_result({"q1": (4, 4), "q2": (6, 6)}, sha="d" * 64))
    assert problem.startswith("not recorded in the course")
    assert "s1: ann not recorded in the course: [Errno 28] no room" in found.summary()
    found.close()


def _refusing(*_args, **_kwargs):
    raise OSError(28, "no room")


def test_file_times_that_cannot_be_right_are_said(db, tmp_path):
    """Without a manifest, files dated years ahead or before the assignment are recorded at
    that time, as documented, and now said at the end (a manifest's times were already)."""
    import os

    found = course_recording(db, **options(assignment="a1", submissions=tmp_path))
    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / "q.py").write_text("x = 1\n")
    found.prepare([ann])
    ahead = datetime(2090, 1, 1, tzinfo=UTC).timestamp()
    os.utime(ann / "q.py", (ahead, ahead))
    found.record(ann, synthetic_result({"q1": (4, 4), "q2": (6, 6)}))
    assert "ann's files are dated 2090-01-01" in found.summary()
    assert "later than now" in found.summary()
    before = datetime(1990, 1, 1, tzinfo=UTC).timestamp()
    (ann / "q.py").write_text("x = 2\n")
    os.utime(ann / "q.py", (before, before))
    found.record(ann, synthetic_result({"q1": (4, 4), "q2": (6, 6)}, sha="e" * 64))
    assert "more than a year before the due date" in found.summary()
    found.close()


def test_two_students_with_the_same_files_are_said(db, tmp_path):
    """An adversarial trial: identical copies were recorded for two students without a word
    (the same content hash in the record); said now, for files that earned anything."""
    with Course.open(db) as course:
        (tmp_path / "r2.csv").write_text("id,name,email,login\ns2,Bo,bo@x.edu,bo\n")
        import_roster(course, tmp_path / "r2.csv")
    found = course_recording(db, **options(assignment="a1", submissions=tmp_path))
    folders = []
    for name in ("ann", "bo"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "q.py").write_text("x = 1\n")
        folders.append(tmp_path / name)
    found.prepare(folders)
    for folder in folders:
        assert found.record(folder, synthetic_result({"q1": (4, 4), "q2": (6, 6)},
                                                     sha="f" * 64)) is None
    assert "s2: these files are byte for byte s1's attempt 1" in found.summary()
    found.close()
