"""dojo course's commands that the end-to-end test does not go through: init --update, roster
show, match, ledger; and the course never found but given."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.course.attempts import record_attempt
from nlpdojo_autograder.course.overrides import who
from nlpdojo_autograder.course.store import COURSE_ENV, Course
from tests.course.helpers import synthetic_result

TABLE = """\
name = "C"
[late]
bank_days = 2
[[assignments]]
id = "a1"
questions = ["t.q1"]
points = 10
due = 2027-01-20T23:59:00Z
[[assignments]]
id = "a2"
questions = ["t.q2"]
points = 10
due = 2027-02-20T23:59:00Z
"""


def dojo(*args):
    result = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())


def _course(tmp_path, monkeypatch, roster: str) -> None:
    """A course of :data:`TABLE` in ``tmp_path`` (the working folder, ``$NLPDOJO_COURSE``
    naming it) with the roster ``roster`` (CSV rows after the header id,name,email,login)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(COURSE_ENV, str(tmp_path / "c.course"))
    (tmp_path / "course.toml").write_text(TABLE)
    assert dojo("course", "init")[0] == 0
    (tmp_path / "r.csv").write_text("id,name,email,login\n" + roster)
    assert dojo("course", "roster", "import", "r.csv")[0] == 0


def test_match_exits_2_where_grade_would_refuse_the_matching(tmp_path, monkeypatch):
    """A folder matching two students: `match` listed it and exited 0, and `grade --course`
    then refused the cohort for it."""
    _course(tmp_path, monkeypatch, "s1,Kim A,kim@a.edu,ka\ns2,Kim B,kim@b.edu,kb\n")
    (tmp_path / "subs" / "kim").mkdir(parents=True)
    code, said = dojo("course", "match", "subs", "--key", "email")
    assert code == 2, said
    assert "kim matches 2 students: Kim A (s1), Kim B (s2)" in said
    assert "error: submission folder(s) match more than one student by email" in said
    assert "rename the folder to the student's full email" in said


def test_a_relative_course_variable_read_elsewhere_says_to_make_it_absolute(tmp_path,
                                                                            monkeypatch):
    """`export NLPDOJO_COURSE=c.course`, then `cd subs`: the error suggested making a new,
    empty course file inside the submissions folder."""
    _course(tmp_path, monkeypatch, "s1,Ann,ann@x.edu,ann\n")
    monkeypatch.setenv(COURSE_ENV, "c.course")
    assert dojo("course", "ledger")[0] == 0  # where it is
    (tmp_path / "subs").mkdir()
    monkeypatch.chdir(tmp_path / "subs")
    code, said = dojo("course", "ledger")
    assert code == 2, said
    assert f"{COURSE_ENV}=c.course is a relative path, read from the working folder" in said
    assert "dojo course init" not in said and not (tmp_path / "subs" / "c.course").exists()


def test_a_roster_without_the_courses_key_is_said_at_import(tmp_path, monkeypatch):
    """A course matched by login and a roster with no login column: found out only when no
    folder matched."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(COURSE_ENV, str(tmp_path / "c.course"))
    (tmp_path / "course.toml").write_text(TABLE)
    assert dojo("course", "init")[0] == 0
    (tmp_path / "r.csv").write_text("id,name,email\ns1,Ann,ann@x.edu\n")
    code, said = dojo("course", "roster", "import", "r.csv")
    assert code == 0 and ("1 student(s) have no login, and this course matches submission "
                          "folders by login") in said, said
    (tmp_path / "r.csv").write_text("id,name,email,login\ns1,Ann,ann@x.edu,ann\n")
    assert "have no login" not in dojo("course", "roster", "import", "r.csv")[1]


def test_init_update_roster_match_and_ledger(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(COURSE_ENV, str(tmp_path / "c.course"))
    (tmp_path / "course.toml").write_text(TABLE)
    assert dojo("course", "init")[0] == 0
    code, said = dojo("course", "init")
    assert code == 2 and "is a course already" in said and "--update" in said
    (tmp_path / "r.csv").write_text("id,name,email,login\ns1,Ann,ann@x.edu,ann\n"
                                    "s2,Bo,bo@x.edu,bo\n")
    assert dojo("course", "roster", "import", "r.csv")[0] == 0
    shown = dojo("course", "roster", "show")[1]
    assert shown.startswith("id name login email sis_user_id section withdrawn")
    assert "s1 Ann ann ann@x.edu" in shown
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "zed").mkdir()
    code, said = dojo("course", "match", "subs")
    assert code == 0 and "ann s1 Ann" in said
    assert "match no student by login (graded, not recorded): zed" in said
    assert "1 student(s) have no folder here: Bo (s2)" in said  # (no assignment: no standing)

    with Course.open(tmp_path / "c.course") as course:
        record_attempt(course, "s1", "a2", synthetic_result({"q2": (1, 1)}),
                       submitted_at=datetime(2027, 2, 21, 12, tzinfo=UTC),
                       submitted_from="given")
    assert "s1 Ann 0 1 1 1" in dojo("course", "ledger")[1]  # a2: 1 day of 2

    # the table edited: a1 gone (no attempt), a3 added; a2 (attempted) cannot go
    (tmp_path / "course.toml").write_text(TABLE.replace('id = "a1"', 'id = "a3"'))
    code, said = dojo("course", "init", "--update")
    assert code == 0 and "removed assignment a1" in said and "added assignment a3" in said
    (tmp_path / "course.toml").write_text(TABLE.replace('id = "a2"', 'id = "a4"'))
    code, said = dojo("course", "init", "--update")
    assert code == 2 and "assignment a2 has 1 recorded attempts" in said
    with Course.open(tmp_path / "c.course") as course:
        assert [a.id for a in course.assignments()] == ["a3", "a2"]  # as it was
    # what changed is said, before and after (the TA's trial: "changed assignment a2" alone)
    (tmp_path / "course.toml").write_text(TABLE.replace('id = "a1"', 'id = "a3"').replace(
        "due = 2027-02-20T23:59:00Z", "due = 2027-02-22T23:59:00Z"))
    code, said = dojo("course", "init", "--update")
    assert code == 0 and ("changed assignment a2: due 2027-02-20T23:59:00+00:00 -> "
                          "2027-02-22T23:59:00+00:00") in said, said
    assert "graded on its earlier questions" not in said  # its questions are as they were
    # its questions changed under a recorded attempt: said, with the way to grade it again
    (tmp_path / "course.toml").write_text(TABLE.replace('id = "a1"', 'id = "a3"').replace(
        'questions = ["t.q2"]', 'questions = ["t.q2", "t.q3"]'))
    code, said = dojo("course", "init", "--update")
    assert code == 0 and "changed assignment a2: targets" in said, said
    assert ("1 attempt(s) at a2 were graded on its earlier questions and keep those points: "
            "`dojo course regrade a2`") in said, said
    assert "(1 assignment change(s);" in said, said  # (the line under it is not another)
    # and back: the attempt was graded on these questions (a TA's trial: said "earlier")
    (tmp_path / "course.toml").write_text(TABLE.replace('id = "a1"', 'id = "a3"'))
    code, said = dojo("course", "init", "--update")
    assert code == 0 and "changed assignment a2: targets" in said, said
    assert "graded on its earlier questions" not in said and "(1 assignment change(s);" in said


def test_init_without_a_course_table_names_both_it_looked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, said = dojo("course", "init", "--course", str(tmp_path / "c.course"))
    assert code == 2 and "neither course.toml nor pyproject.toml is there" in said, said
    assert not (tmp_path / "c.course").exists()


def test_no_course_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(COURSE_ENV, raising=False)
    code, said = dojo("course", "ledger")
    assert code == 2 and "which course? pass --course PATH" in said


def test_record_takes_only_a_grading_of_the_folder_it_names_that_counts(tmp_path, monkeypatch):
    """A trial's findings (round 4, F4; and the TA's: a file that is no result was an
    internal error): ``dojo course record`` recorded a grading of the reference solutions, an
    as-student grading and one without the code rules as ordinary attempts, and a result
    beside a folder it was not graded from. Each is refused, nothing recorded; the right one
    is recorded with its sources."""
    import json

    from nlpdojo_autograder.grading.grade import graded_content_sha256

    _course(tmp_path, monkeypatch, "s1,Ann,ann@x.edu,ann\n")
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "q.py").write_text("x = 1\n")
    good = synthetic_result({"q1": (1, 1)}, sha=graded_content_sha256(folder, ["t"]))

    def record(result, *extra):
        path = tmp_path / "result.json"
        path.write_text(result if isinstance(result, str) else json.dumps(result.to_dict()))
        return dojo("course", "record", str(path), "--student", "s1", "--assignment", "a1",
                    "--submitted-at", "2027-01-20T10:00:00Z", *extra)

    def changed(**what):
        data = good.to_dict()
        for key, value in what.items():
            data[key] = {**data[key], **value} if isinstance(value, dict) else value
        return json.dumps(data)

    for result, said in (
            (changed(options={"solutions": True}), "a grading of the reference solutions"),
            (changed(isolation="trusted"), "a grading of the reference solutions"),
            (changed(options={"use_reference": False}), "graded as a student release"),
            (changed(options={"input_seed": 0}), "graded at input seed 0"),
            (json.dumps({**good.to_dict(), "exercises": [
                {**e, "checks": [{**c, "cached": True} for c in e["checks"]]}
                for e in good.to_dict()["exercises"]]}), "reused verdicts from grade's"),
            (changed(warnings=["graded without the code rules (NLPDOJO_CODE_RULES=off: ...)"]),
             "graded without the code rules"),
            ("{\"score\": 4}", "is not a grading's JSON result"),
            ("not json", "is not a grading's JSON result")):
        code, output = record(result, "--submission", str(folder))
        assert code == 2 and said in output, output
        assert "internal error" not in output
    ann = tmp_path / "ann"  # named as s1's (login): not s2's
    ann.mkdir()
    (ann / "q.py").write_text("x = 1\n")
    assert dojo("course", "roster", "import", "r.csv")[0] == 0
    (tmp_path / "r2.csv").write_text("id,name,email,login\ns2,Bo,bo@x.edu,bo\n")
    assert dojo("course", "roster", "import", "r2.csv")[0] == 0
    path = tmp_path / "result.json"
    path.write_text(json.dumps(synthetic_result({"q1": (1, 1)}, sha=graded_content_sha256(
        ann, ["t"])).to_dict()))
    code, output = dojo("course", "record", str(path), "--student", "s2", "--assignment", "a1",
                        "--submitted-at", "2027-01-20T10:00:00Z", "--submission", str(ann))
    assert code == 2 and "is named as Ann (s1)'s submission" in output, output
    (folder / "q.py").write_text("x = 2\n")  # not what was graded
    code, output = record(good, "--submission", str(folder))
    assert code == 2 and "holds other files than the result was graded from" in output
    assert "attempt 1" not in dojo("course", "history", "s1")[1]  # nothing was recorded
    (folder / "q.py").write_text("x = 1\n")
    code, output = record(good, "--submission", str(folder))
    assert code == 0 and "recorded s1 a1 attempt 1: 1/1" in output, output
    assert "without --submission" not in output
    # (the TA's trial, round 2) the result alone: recorded, with what it lacks said
    code, output = dojo("course", "record", str(tmp_path / "result.json"), "--student", "s2",
                        "--assignment", "a1", "--submitted-at", "2027-01-20T11:00:00Z")
    assert code == 0 and "recorded s2 a1 attempt 1" in output, output
    assert "recorded without --submission: the result file alone, so no source is kept" \
        in output and "nothing checked that the work graded is s2's" in output


def test_small_messages_say_what_is_so(tmp_path, monkeypatch):
    """The TA's trial: a roster imported again in another order said "1 updated"; the kept
    students were named by id alone; a folder given as the course was "no course file at
    DIR: make one with `dojo course init --course DIR`"."""
    _course(tmp_path, monkeypatch, "s1,Ann,ann@x.edu,ann\ns2,Bo,bo@x.edu,bo\ns3,Cy,cy@x.edu,cy\n")
    (tmp_path / "r2.csv").write_text("id,name,email,login\ns2,Bo,bo@x.edu,bo\n"
                                     "s1,Ann,ann@x.edu,ann\n")
    code, said = dojo("course", "roster", "import", "r2.csv")
    assert code == 0 and "0 added, 0 updated" in said, said
    assert "are kept: Cy (s3)" in said
    code, said = dojo("course", "history", "s1", "--course", str(tmp_path))
    assert code == 2 and "is a folder, not a course file" in said and "c.course" in said


def test_an_attempt_recorded_by_mistake_is_voided_kept_and_restored(tmp_path, monkeypatch):
    """The TA's trial: an attempt recorded by mistake (a cohort graded again without its
    manifest) could only be removed with the sqlite3 shell. ``dojo course void`` keeps it and
    says why, and it no longer counts; ``--restore`` counts it again; both stay on record."""
    _course(tmp_path, monkeypatch, "s1,Ann,ann@x.edu,ann\n")
    with Course.open(tmp_path / "c.course") as course:
        for hour, points in ((10, 0), (11, 1)):  # on time both; the last counts
            record_attempt(course, "s1", "a1", synthetic_result({"q1": (points, 1)},
                                                                sha=str(hour)),
                           submitted_at=datetime(2027, 1, 20, hour, tzinfo=UTC),
                           submitted_from="given")
    assert "a1 a1: 10/10 graded" in dojo("course", "history", "s1")[1]
    code, said = dojo("course", "void", "ann", "a1", "2", "--reason", "graded twice",
                      "--by", "ta1")
    assert code == 0 and "attempt 2 of s1 at a1" in said and "void (graded twice (ta1))" in said
    history = dojo("course", "history", "s1")[1]
    assert "a1 a1: 0/10 graded" in history and "(void: graded twice (ta1))" in history
    assert "attempt 2 void: graded twice (ta1)" in history
    code, said = dojo("course", "void", "s1", "a1", "2", "--reason", "again", "--by", "ta1")
    assert code == 2 and "is void already" in said
    code, said = dojo("course", "void", "s1", "a1", "7", "--reason", "x")
    assert code == 2 and "has no attempt 7 at a1 (attempts: 1, 2" in said
    code, said = dojo("course", "void", "s1", "a1", "2", "--restore", "--reason", "it was his")
    assert code == 0 and "counted again" in said
    assert "a1 a1: 10/10 graded" in dojo("course", "history", "s1")[1]
    with Course.open(tmp_path / "c.course") as course:
        kept = course.conn.execute("SELECT reason, created_by, restored_by FROM voids")
        assert [tuple(r) for r in kept] == [("graded twice", "ta1", f"{who(None)}: it was his")]


def test_a_withdrawn_student_is_kept_with_their_history_and_out_of_the_exports(tmp_path,
                                                                             monkeypatch):
    """The TA's trial: a student who dropped stayed in every export (Canvas then showed an
    unknown student or wrote over an inactive enrolment), in the course view's means and in
    every "submitted nothing" list, with no way to say they left."""
    _course(tmp_path, monkeypatch, "s1,Ann,ann@x.edu,ann\ns2,Dana,dana@x.edu,dana\n")
    with Course.open(tmp_path / "c.course") as course:
        record_attempt(course, "s2", "a1", synthetic_result({"q1": (1, 1)}),
                       submitted_at=datetime(2027, 1, 20, 10, tzinfo=UTC),
                       submitted_from="given")
    code, said = dojo("course", "roster", "withdraw", "dana", "--reason", "dropped the course")
    assert code == 0 and "Dana (s2): withdrawn (dropped the course, 20" in said
    assert dojo("course", "roster", "withdraw", "s2", "--reason", "x")[0] == 2  # already
    assert "withdrawn: dropped the course" in dojo("course", "roster", "show")[1]
    assert dojo("course", "export", "-f", "canvas", "-o", "c.csv")[0] == 0
    assert "Dana" not in (tmp_path / "c.csv").read_text()
    history = dojo("course", "history", "s2")[1]
    assert "a1 a1: 10/10 graded" in history  # her history stays, saying she left
    assert "withdrawn (dropped the course, 20" in history and "--restore" in history
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    assert "missing" not in dojo("course", "match", "subs")[1]  # Dana is not missing
    (tmp_path / "r.csv").write_text("id,name,email,login\ns1,Ann,ann@x.edu,ann\n"
                                    "s2,Dana,dana@x.edu,dana\n")
    code, said = dojo("course", "roster", "import", "r.csv")
    assert "0 updated" in said  # the roster again changes no one, nor her withdrawal
    said = " ".join(said.split())  # and says that she stays withdrawn (a TA's trial: silent)
    assert "1 student(s) of r.csv withdrew from the course and stay withdrawn" in said
    assert ": s2; `dojo course roster withdraw ID --restore` enrols one again" in said
    code, said = dojo("course", "roster", "withdraw", "s2", "--restore", "--reason", "back")
    assert code == 0 and "enrolled again" in said
    assert dojo("course", "export", "-f", "canvas", "-o", "c.csv")[0] == 0
    assert "Dana" in (tmp_path / "c.csv").read_text()


def test_a_withdrawn_student_re_enrolled_under_a_new_id_is_the_enrolled_one(tmp_path,
                                                                          monkeypatch):
    """Round 5: a student withdrawn and enrolled again under a new id with the same login made
    their folder "match 2 students", and the whole cohort was refused."""
    _course(tmp_path, monkeypatch, "s3,Carol,carol@x.edu,carol\n")
    assert dojo("course", "roster", "withdraw", "s3", "--reason", "left")[0] == 0
    (tmp_path / "r2.csv").write_text("id,name,email,login\ns3b,Carol,carol@x.edu,carol\n")
    assert dojo("course", "roster", "import", "r2.csv")[0] == 0
    (tmp_path / "subs" / "carol").mkdir(parents=True)
    code, said = dojo("course", "match", "subs")
    assert code == 0 and "carol s3b Carol" in said, said
    assert "missing" not in said


def test_an_export_over_the_course_file_is_refused_and_the_record_kept(tmp_path, monkeypatch):
    """An instructor's `-o` mistyped as the course's own name: the export replaced the course
    file with a CSV (exit 0), the record lost; its adjustments file's name too."""
    _course(tmp_path, monkeypatch, "s1,Ann,ann@x.edu,ann\n")
    record = (tmp_path / "c.course").read_bytes()
    for output in ("c.course", "c.course-wal", "c-adjustments.csv"):
        if output == "c-adjustments.csv":  # the export's adjustments file is c.course
            (tmp_path / "c-adjustments.csv").unlink(missing_ok=True)
            monkeypatch.setenv(COURSE_ENV, str(tmp_path / "c-adjustments.csv"))
            (tmp_path / "c.course").rename(tmp_path / "c-adjustments.csv")
            output = "c.csv"
        code, said = dojo("course", "export", "-f", "csv", "-o", output)
        assert code == 2, said
        assert "is part of course" in said and "nothing was written" in said, said
    assert (tmp_path / "c-adjustments.csv").read_bytes()[:16] == b"SQLite format 3\x00"
    assert not (tmp_path / "c.csv").exists()
    assert len(record) > 0


def test_an_override_given_by_mistake_is_removed_and_the_earlier_applies_again(
        tmp_path, monkeypatch):
    """An instructor's trial: an ``--excuse`` by mistake could only be covered by another
    override, which fixed the points for good. ``--remove`` takes back the one in force
    (kept and shown), and the one before it applies again, or the attempts' own points."""
    _course(tmp_path, monkeypatch, "s1,Ann,ann@x.edu,ann\n")
    with Course.open(tmp_path / "c.course") as course:
        record_attempt(course, "s1", "a1", synthetic_result({"q1": (2, 4), "q2": (6, 6)}),
                       submitted_at=datetime(2027, 1, 20, 10, tzinfo=UTC),
                       submitted_from="given")
    own = dojo("course", "history", "s1")[1].split(" attempt 1")[0]  # "... a1 a1: P/10 ..."
    assert dojo("course", "override", "s1", "a1", "--points", "9", "--reason", "regrade")[0] == 0
    assert dojo("course", "override", "s1", "a1", "--excuse", "--reason", "oops")[0] == 0
    assert "a1 a1: EX/10 excused (overridden)" in dojo("course", "history", "s1")[1]
    from nlpdojo_autograder.course.browse import student_view
    with Course.open(tmp_path / "c.course") as course:  # (a TA's trial: both "in force")
        assert [o["standing"] for o in student_view(course, "s1")["overrides"]] == [
            "superseded by a later one", "applies"]
    code, said = dojo("course", "override", "s1", "a1", "t.q1", "--remove", "--reason", "x")
    assert code == 2 and "(those that apply: the whole assignment: excused)" in said
    code, said = dojo("course", "override", "s1", "a1", "--remove", "--reason", "wrong one")
    assert code == 0, said
    assert "override removed: s1 a1 excused (by " in said and "(wrong one)" in said
    assert "now: the earlier override applies, 9 points (by " in said
    history = dojo("course", "history", "s1")[1]
    assert "a1 a1: 9/10 graded (overridden)" in history
    assert "override removed: the whole assignment excused" in history
    code, said = dojo("course", "override", "s1", "a1", "--remove", "--reason", "both wrong")
    assert code == 0 and "now: no override applies" in said
    assert dojo("course", "history", "s1")[1].split(" attempt 1")[0] == own
    code, said = dojo("course", "override", "s1", "a1", "--remove", "--reason", "again")
    assert code == 2 and "s1 has no override in force on a1 as a whole (those that apply: " \
        "none)" in said
    code, said = dojo("course", "override", "s1", "a1", "--remove")
    assert code == 2 and "--remove --reason TEXT" in said


def test_a_question_an_installed_topic_does_not_have_is_refused(tmp_path, monkeypatch):
    """An instructor's trial: ``questions = ["toy.quadratc"]`` in an --update was a warning
    only, recorded, and found when a regrade failed. A question an installed topic lacks is
    refused, with the one meant; a topic not installed here is still a warning (the course
    may be graded elsewhere)."""
    _course(tmp_path, monkeypatch, "s1,Ann,ann@x.edu,ann\n")
    (tmp_path / "course.toml").write_text(TABLE.replace('"t.q2"', '"neural_networks.adamm"'))
    code, said = dojo("course", "init", "--update")
    assert code == 2, said
    assert ("assignment a2: neural_networks.adamm is no question of neural_networks (did you "
            "mean neural_networks.adam?)") in said and "nothing was written" in said
    with Course.open(tmp_path / "c.course") as course:
        assert course.assignment("a2").targets == ("t.q2",)  # as it was
    for typo, meant in (("adamm", "adam"), ("nural_networks", "neural_networks")):  # bare
        (tmp_path / "course.toml").write_text(TABLE.replace('"t.q2"', f'"{typo}"'))
        code, said = dojo("course", "init", "--update")
        assert code == 2 and f"{typo} is no topic or question installed here (did you mean " \
            f"{meant}?)" in said, said
    (tmp_path / "course.toml").write_text(TABLE.replace('"t.q2"', '"neural_networks.adam"'))
    assert dojo("course", "init", "--update")[0] == 0


def test_an_extension_that_lowers_a_grade_says_so(tmp_path, monkeypatch):
    """An instructor's trial: under last-before-deadline, an extension made a later, worse
    attempt on time, and it counted: 10 points to 0, with nothing said (an override that
    lowers points warns)."""
    _course(tmp_path, monkeypatch, "s1,Ann,ann@x.edu,ann\n")
    with Course.open(tmp_path / "c.course") as course:
        for q1, day, sha in ((1, 20, "1"), (0, 22, "2")):  # on time, full; 2 days late, 0
            record_attempt(course, "s1", "a1", synthetic_result({"q1": (q1, 1)}, sha=sha * 64),
                           submitted_at=datetime(2027, 1, day, 10, tzinfo=UTC),
                           submitted_from="given")
    assert "a1 a1: 10/10 graded" in dojo("course", "history", "s1")[1]
    code, said = dojo("course", "extend", "s1", "a1", "--due", "2027-01-25T23:59:00Z",
                      "--reason", "illness")
    assert code == 0, said
    assert ("s1 a1: the extension lowers their points from 10 to 0 (attempt 2 counts now, by "
            "its rule last-before-deadline)") in said
    code, said = dojo("course", "extend", "s1", "a1", "--due", "2027-01-26T23:59:00Z",
                      "--reason", "more")
    assert code == 0 and "lowers" not in said  # 0 to 0: nothing lowered by this one


def test_a_gradescope_runs_hash_is_shown_past_its_prefix():
    """``gradescope:<32 hex>`` was cut to ``gradescope:b`` in the history."""
    from nlpdojo_autograder.course.cli import _short_hash

    assert _short_hash("gradescope:" + "ab" * 16) == "gradescope:abababababab"
    assert _short_hash("0123456789abcdef" * 4) == "0123456789ab"


def test_what_a_ta_does_wrong_says_what_to_do(tmp_path, monkeypatch):
    """A TA's trial: a roster of one empty cell at a row's end was "5 cells for 4 columns
    ... a name with a comma goes in double quotes" (the name was quoted); an empty roster, one
    of no row and an empty cohort said what was wrong, not what to do; an override of a
    student who withdrew said nothing of it."""
    _course(tmp_path, monkeypatch, "s1,Ann,ann@x.edu,ann\n")
    (tmp_path / "r2.csv").write_text('id,name,email,login\ns2,"B, Bo",bo@x.edu,bo,\n')
    code, said = dojo("course", "roster", "import", "r2.csv")
    assert code == 0 and "1 added" in said
    for text, hint in (("", "give Canvas's gradebook export"), ("id,name\n", "a row per")):
        (tmp_path / "r3.csv").write_text(text)
        code, said = dojo("course", "roster", "import", "r3.csv")
        assert code == 2 and hint in said, said
    assert dojo("course", "roster", "withdraw", "s2", "--reason", "left")[0] == 0
    code, said = dojo("course", "override", "s2", "a1", "--excuse", "--reason", "ill")
    assert code == 0 and "s2 withdrew (left, " in said and "counts in no export" in said
    (tmp_path / "empty").mkdir()
    monkeypatch.delenv(COURSE_ENV)  # (a cohort of no course)
    from nlpdojo_autograder.cli.grade import app as grade_app
    result = CliRunner().invoke(grade_app, ["--submissions", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "put one folder per submission in it" in " ".join(
        result.output.split())
