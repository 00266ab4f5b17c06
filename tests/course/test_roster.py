"""The roster: a Canvas gradebook export as it comes or a plain CSV; bad files refused with
the line and the fix, nothing imported; folders matched to students by the declared key."""

from __future__ import annotations

import re

import pytest

from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.roster import (
    change_id,
    check_unambiguous,
    import_roster,
    match_folders,
    read_roster,
    withdraw,
)

CANVAS = ("Student;ID;SIS User ID;SIS Login ID;Section;A1 (5001);Current Score\n"
          "    Points Possible;;;;;15,00;(read only)\n"
          "\"Doe, Jane\";101;S101;jdoe@uni.edu;Sec A;12,5;\n"
          "Student, Test;999;;;;;\n"
          "\"Roe, Rick\";102;S102;rroe@uni.edu;Sec B;;\n")


def write(tmp_path, text, name="roster.csv", bom=False):
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def test_a_canvas_export_with_a_bom_and_semicolons(tmp_path):
    roster = read_roster(write(tmp_path, CANVAS, bom=True))
    assert roster.kind == "canvas"
    assert [(s.id, s.name, s.sis_user_id, s.login, s.email, s.section)
            for s in roster.students] == [
        ("101", "Doe, Jane", "S101", "jdoe@uni.edu", "jdoe@uni.edu", "Sec A"),
        ("102", "Roe, Rick", "S102", "rroe@uni.edu", "rroe@uni.edu", "Sec B")]
    assert roster.skipped == ("line 2: the Points Possible row", "line 4: Canvas's test student")


def test_a_student_named_points_possible_is_a_student(tmp_path):
    """Only Canvas's own row (its name "Points Possible", no id) is skipped: a student whose
    name holds the words was dropped."""
    text = CANVAS + "\"Points Possible Fan, Pat\";103;S103;ppf@uni.edu;Sec B;;\n"
    roster = read_roster(write(tmp_path, text))
    assert [s.id for s in roster.students] == ["101", "102", "103"]
    assert roster.skipped == ("line 2: the Points Possible row", "line 4: Canvas's test student")


def test_a_plain_roster(tmp_path):
    roster = read_roster(write(tmp_path, "id,name,email,section\n"
                                         "s1,\"Lee, Ann\",ann@uni.edu,1\ns2,Bo,bo@uni.edu,2\n"))
    assert roster.kind == "csv"
    assert [(s.id, s.name, s.email) for s in roster.students] == [
        ("s1", "Lee, Ann", "ann@uni.edu"), ("s2", "Bo", "bo@uni.edu")]


@pytest.mark.parametrize(("text", "said"), [
    ("name,mail\nAnn,a@x\n", "neither a Canvas gradebook export"),
    ("Student,ID,SIS User ID\n\"Doe, J\",1,S1\n", "has the column 'Section'"),
    ("id,name,email,section\ns1,Ann,a@x,1\ns1,Bo,b@x,2\n", "two students have the id 's1'"),
    ("Student,ID,SIS User ID,SIS Login ID,Section\nA,7,,a,1\nB,7,,b,1\n",
     "two students have the id '7' (A, line 2, and B, line 3)"),
    ("id,name,email,section\n,Ann,a@x,1\n", "line 2 (Ann): the student has no id"),
    ("id,name,email,section\ns1,Lee, Ann,a@x,1\n", "line 2: 5 cells for 4 columns"),
    ("id,name,phone\ns1,Ann,555\n", "unknown column(s) phone"),
    ("id,name\n", "lists no student"),
    # a login names one student, whatever its case (bob and BOB were two, and `history bob`
    # found neither)
    ("id,name,email,login\ns1,Bo,b@x,bob\ns2,Al,a@x,BOB\n",
     "Bo (s1) and Al (s2) have the same login ('bob', 'BOB') but for case"),
    ("id,name,email\ns1,Bo,B@x.edu\ns2,Al,b@x.edu\n", "have the same email"),
    ("id,name,login\ns1,Bo,grace\ns2,Al,grace\n",
     "Bo (s1) and Al (s2) have the same login ('grace'), and a login names one student"),
])
def test_a_bad_roster_is_refused_and_imports_nothing(course, tmp_path, text, said):
    with pytest.raises(CourseError, match="roster .*" + re.escape(said)):
        import_roster(course, write(tmp_path, text))
    assert course.students() == []


def test_a_roster_that_is_not_utf8(course, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("id,name\ns1,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(CourseError, match="not UTF-8 text"):
        import_roster(course, path)


def test_importing_again_updates_and_keeps(course, tmp_path):
    import_roster(course, write(tmp_path, "id,name,email\ns1,Ann,a@x\ns2,Bo,b@x\n"))
    done = import_roster(course, write(tmp_path, "id,name,email\ns1,Ann Lee,a@x\ns3,Cy,c@x\n"))
    assert (done.added, done.updated, done.not_listed) == (("s3",), ("s1",), ("s2",))
    assert {s.id: s.name for s in course.students()} == {"s1": "Ann Lee", "s2": "Bo",
                                                         "s3": "Cy"}
    # (the TA's trial, round 2) a student keeps their place and a new one follows the last:
    # the second file's places restarted at 1, and a late enrolment came second everywhere
    import_roster(course, write(tmp_path, "id,name,email\ns4,Di,d@x\ns5,Ed,e@x\n"))
    assert [s.id for s in course.students()] == ["s1", "s2", "s3", "s4", "s5"]


def test_a_roster_of_another_kind_blanks_no_identifier(course, tmp_path):
    """An instructor's trial: a plain roster (no SIS user id, no login column) imported after
    Canvas's export blanked each updated student's login and SIS user id, and made them plain
    students: no folder matched by login, and the Canvas export wrote Canvas's id as a SIS
    user id. The identifiers a file leaves empty are kept and said; a Canvas student stays
    one; what the file does give (a new name, section) is taken."""
    import_roster(course, write(tmp_path, CANVAS))
    done = import_roster(course, write(tmp_path, "id,name,email,section\n"
                                                 "101,Jane Doe,,Sec C\n"))
    assert done.updated == ("101",)
    assert done.kept == (("101", ("login", "email", "sis_user_id")),)
    jane = course.student("101")
    assert (jane.name, jane.section, jane.login, jane.email, jane.sis_user_id, jane.source) == (
        "Jane Doe", "Sec C", "jdoe@uni.edu", "jdoe@uni.edu", "S101", "canvas")
    assert match_folders(course, ["jdoe@uni.edu"]).matched["jdoe@uni.edu"].id == "101"


PLAIN_OF_CANVAS = "id,name,email,login\nS101,\"Doe, Jane\",,jdoe@uni.edu\nS102,Rick,,rroe@uni.edu\n"


@pytest.mark.parametrize(("first", "second", "said"), [
    # a plain roster of SIS ids, then Canvas's export (its ids are Canvas's, its SIS ids ours)
    (PLAIN_OF_CANVAS, CANVAS, "Doe, Jane (101) is Doe, Jane (S101): login "
                              "'jdoe@uni.edu', SIS user id 'S101'"),
    # the same the other way round: Canvas first, then a plain roster of the SIS ids
    (CANVAS, PLAIN_OF_CANVAS, "Doe, Jane (S101) is Doe, Jane (101): login "
                              "'jdoe@uni.edu', SIS user id 'S101' as id"),
    # a typo'd id fixed in the file and imported again
    ("id,name,email,login\ns0O5,Bo,bo@x.edu,bo\n", "id,name,email,login\ns005,Bo,bo@x.edu,bo\n",
     "Bo (s005) is Bo (s0O5): login 'bo', email 'bo@x.edu'"),
])
def test_a_roster_naming_enrolled_students_by_other_ids_is_refused(course, tmp_path, first,
                                                                    second, said):
    """A second import whose ids are another source's: each of its students was added a
    second time (two rows of one Canvas user in the export, one with a 0); refused, nothing
    imported."""
    import_roster(course, write(tmp_path, first, name="first.csv"))
    before = course.students()
    with pytest.raises(CourseError,
                       match=re.escape(said) + ".*nothing was imported.*roster change-id OLD NEW"):
        import_roster(course, write(tmp_path, second, name="second.csv"))
    assert course.students() == before


def test_an_id_is_changed_by_withdrawing_the_old_one(course, tmp_path):
    """The typo'd id withdrawn, the right one imports; the login then names the one enrolled
    (a withdrawn id beside it made every command that names the student by login refuse)."""
    import_roster(course, write(tmp_path, "id,name,email,login\ns0O5,Bo,bo@x.edu,bo\n"))
    withdraw(course, "s0O5", "typo in the id")
    done = import_roster(course, write(tmp_path, "id,name,email,login\ns005,Bo,bo@x.edu,bo\n"))
    assert done.added == ("s005",)
    assert course.student("bo").id == course.student("BO@x.edu").id == "s005"
    withdraw(course, "s005", "left", restore=False)
    with pytest.raises(CourseError, match="login or email of 2 students"):
        course.student("bo")  # both withdrawn: which one is meant is not known


def test_folders_matched_by_login_email_or_id(course, tmp_path):
    import_roster(course, write(tmp_path, CANVAS))
    found = match_folders(course, ["JDOE@uni.edu", "nobody", "rroe@uni.edu"], "login")
    assert {f: s.id for f, s in found.matched.items()} == {"JDOE@uni.edu": "101",
                                                           "rroe@uni.edu": "102"}
    assert found.unmatched == ["nobody"] and found.missing == []
    by_email = match_folders(course, ["jdoe"], "email")  # the address's local part
    assert by_email.matched["jdoe"].id == "101"
    assert [s.id for s in by_email.missing] == ["102"]
    assert match_folders(course, ["101"], "id").matched["101"].name == "Doe, Jane"


def test_a_folder_that_matches_two_students_is_refused(course, tmp_path):
    import_roster(course, write(tmp_path, "id,name,email\ns1,Ann,kim@a.edu\ns2,Bo,kim@b.edu\n"))
    found = match_folders(course, ["kim"], "email")
    with pytest.raises(CourseError, match=r"kim: Ann \(s1\), Bo \(s2\).*rename the folder"):
        check_unambiguous(found)


def test_a_folder_that_is_the_full_login_of_two_students_says_to_withdraw_one(course,
                                                                             tmp_path):
    """Two enrolled students of one login (a course file from before such imports were
    refused): renaming the folder to the full login, as the error said, was no way out."""
    import_roster(course, write(tmp_path, "id,name,email,login\ns1,Ann,,kim\n", name="a.csv"))
    course.conn.execute("INSERT INTO students (id, name, login, position, source) VALUES "
                        "('1001', 'Ann', 'kim', 2, 'canvas')")
    found = match_folders(course, ["kim"], "login")
    with pytest.raises(CourseError, match=r"roster holds students of one login \(kim\): "
                                          r"withdraw the one who is not in the course"):
        check_unambiguous(found)


def test_two_folders_of_one_student_are_refused(course, tmp_path):
    import_roster(course, write(tmp_path, "id,name,email\ns1,Ann,ann@a.edu\n"))
    with pytest.raises(CourseError, match="several folders match one student"):
        match_folders(course, ["ann", "ann@a.edu"], "email")


def test_an_id_changes_with_the_students_record(course, tmp_path):
    """The TA's trial, round 2: a student's id changed as the refusal said (withdraw the old
    id, import the new) left their attempts, late days, extensions and overrides with the
    withdrawn id, and the Canvas export gave them 0. ``change_id`` moves the whole record; the
    id then matches the new roster, which imports as an update."""
    from datetime import UTC, datetime

    from nlpdojo_autograder.course.attempts import attempts, record_attempt
    from nlpdojo_autograder.course.overrides import add_override, overrides
    from nlpdojo_autograder.course.policy import add_extension, gradebook
    from nlpdojo_autograder.course.roster import record_of
    from tests.course.helpers import synthetic_result

    import_roster(course, write(tmp_path, PLAIN_OF_CANVAS, name="plain.csv"))
    record_attempt(course, "S101", "a1", synthetic_result({"q1": (4, 4), "q2": (5, 6)}),
                   submitted_at=datetime(2027, 1, 20, tzinfo=UTC), submitted_from="given")
    add_extension(course, "S101", "a2", datetime(2027, 2, 10, tzinfo=UTC), "ill", by="prof")
    add_override(course, "S101", "a1", points=18, reason="regrade request", by="ta")
    points = gradebook(course).standing("S101", "a1").score

    moved, rows = change_id(course, "jdoe@uni.edu", "101")
    assert moved.id == "101" and moved.name == "Doe, Jane"
    assert rows == {"attempts": 1, "extensions": 1, "overrides": 1}
    assert record_of(course, "S101") == {"attempts": 0, "extensions": 0, "overrides": 0}
    assert len(attempts(course, "101", "a1")) == 1 and len(overrides(course, "101")) == 1
    assert gradebook(course).standing("101", "a1").score == points == 18
    change_id(course, "S102", "102")
    done = import_roster(course, write(tmp_path, CANVAS, name="canvas.csv"))  # now an update
    assert done.added == () and [s.id for s in course.students()] == ["101", "102"]

    with pytest.raises(CourseError, match="a student of id '102' already"):
        change_id(course, "101", "102")
    with pytest.raises(CourseError, match="id is '101' already"):
        change_id(course, "101", "101")
    with pytest.raises(CourseError, match="no student 'nobody'"):
        change_id(course, "nobody", "x")
    for bad in ("a b/c", "x\\y", "tab\there"):  # (a slash was taken: no folder is named so)
        with pytest.raises(CourseError, match="an id holds no slash and no control"):
            change_id(course, "101", bad)

    # (a TA's trial, round 3) Jane came from Canvas's export: 101 is Canvas's own id for her,
    # which the Canvas export writes as ID; a university number is not, and was written there
    assert course.student("101").source == "canvas"
    jane, _ = change_id(course, "101", "20261004")
    assert jane.source == "csv" and jane.sis_user_id == "S101"
    from nlpdojo_autograder.course.exports import canvas_rows
    from nlpdojo_autograder.course.policy import gradebook as book_of
    row = next(r for r in canvas_rows(book_of(course)) if r[0] == "Doe, Jane")
    assert row[1:3] == ["", "S101"]  # no Canvas ID; her SIS User ID, which Canvas matches


def test_a_folder_of_a_student_who_withdrew_is_said(course, tmp_path):
    """The TA's trial, round 2: a folder matching a withdrawn student was matched and recorded
    without a word (the attempt then counts in no export)."""
    import_roster(course, write(tmp_path, "id,name,email,login\ns1,Ann,a@x,ann\n"
                                          "s2,Cy,c@x,cy\n"))
    withdraw(course, "s2", "dropped")
    found = match_folders(course, ["ann", "cy"])
    assert found.matched["cy"].id == "s2"
    (line,) = [x for x in found.report() if "withdrew" in x]
    assert line.startswith("1 folder(s) match a student who withdrew (recorded with them, in "
                           "no export;") and "cy: Cy (s2, dropped, " in line

