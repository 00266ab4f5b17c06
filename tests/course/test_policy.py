"""The late policy, extensions and which attempt counts, on synthetic results, against
numbers computed by hand (tests/course/helpers.py's TABLE: a1 is 20 course points for 10
grader points, due 2027-01-21 07:59 UTC; a2 10 points for 5, due 2027-02-04 07:59 UTC, best
attempt counts; a bank of 3 days, at most 2 per assignment, 15 minutes' grace, 10% a day
past the bank)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nlpdojo_autograder.course.attempts import record_attempt, void_attempt
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.overrides import Override, add_override, lowered
from nlpdojo_autograder.course.policy import (
    add_extension,
    gradebook,
    import_extensions,
    late_days,
    points_text,
)
from nlpdojo_autograder.course.roster import import_roster
from tests.course.helpers import TABLE, make_course, synthetic_result

A1_DUE = datetime(2027, 1, 21, 7, 59, tzinfo=UTC)
A2_DUE = datetime(2027, 2, 4, 7, 59, tzinfo=UTC)


def roster(course, tmp_path, ids=("s1",)):
    path = tmp_path / "roster.csv"
    path.write_text("id,name,email,section\n" + "".join(
        f"{i},Student {i},{i}@uni.edu,A\n" for i in ids))
    import_roster(course, path)


def a1(course, student, q1, q2, at, sha=None):
    result = synthetic_result({"q1": (q1, 4), "q2": (q2, 6)},
                              sha=sha or f"{student}-{q1}-{q2}-{at.isoformat()}")
    return record_attempt(course, student, "a1", result, submitted_at=at,
                          submitted_from="given")[0]


def a2(course, student, q3, at):
    result = synthetic_result({"q3": (q3, 5)}, sha=f"{student}-{q3}-{at.isoformat()}")
    return record_attempt(course, student, "a2", result, submitted_at=at,
                          submitted_from="given")[0]


def test_late_days_round_up_after_the_grace():
    assert late_days(A1_DUE, A1_DUE, 15) == 0
    assert late_days(A1_DUE + timedelta(minutes=15), A1_DUE, 15) == 0
    assert late_days(A1_DUE + timedelta(minutes=16), A1_DUE, 15) == 1
    assert late_days(A1_DUE + timedelta(days=1), A1_DUE, 0) == 1
    assert late_days(A1_DUE + timedelta(days=1, seconds=1), A1_DUE, 0) == 2


def test_late_days_are_the_calendars_across_daylight_saving_time():
    """The TA's trial, round 2: due Fri 2026-10-30 23:59 in Los Angeles (PDT), handed in Sun
    2026-11-01 23:00 (PST): 1 day 23 hours by the clock, but 48 hours, which counted 3 days
    where the same gap on another weekend counts 2. On the assignment's clock it is 2; in
    spring, 2 hours by the clock that are 1 hour apart are 1 day, as anything past the grace."""
    from zoneinfo import ZoneInfo

    la = ZoneInfo("America/Los_Angeles")
    # (as stored: UTC; a subtraction of two times of one tzinfo would read the clocks)
    due = datetime(2026, 10, 30, 23, 59, tzinfo=la).astimezone(UTC)
    handed_in = datetime(2026, 11, 1, 23, 0, tzinfo=la).astimezone(UTC)
    assert handed_in - due == timedelta(days=2, minutes=1)  # the fall's extra hour
    assert late_days(handed_in, due, 15) == 3  # by the hours alone
    assert late_days(handed_in, due, 15, "America/Los_Angeles") == 2
    assert late_days(handed_in, due, 15, "UTC-07:00") == 3  # not a place: the hours count
    spring_due = datetime(2027, 3, 14, 1, 30, tzinfo=la).astimezone(UTC)
    spring_in = datetime(2027, 3, 14, 3, 40, tzinfo=la).astimezone(UTC)  # 1 h 10 min later
    assert late_days(spring_in, spring_due, 15, "America/Los_Angeles") == 1
    assert late_days(due, due, 15, "America/Los_Angeles") == 0


@pytest.mark.parametrize(("after", "days", "from_bank", "score"), [
    (timedelta(hours=-1), 0, 0, 20.0),
    (timedelta(minutes=10), 0, 0, 20.0),                # within the grace
    (timedelta(hours=3), 1, 1, 20.0),                   # the bank covers it
    (timedelta(days=2, hours=1), 3, 2, 18.0),           # 2 a most per assignment: 10% off
    (timedelta(days=12), 12, 2, 0.0),                   # 10 days past the bank: nothing
])
def test_the_bank_then_a_percentage_a_day(tmp_path, after, days, from_bank, score):
    with make_course(tmp_path) as course:
        roster(course, tmp_path)
        a1(course, "s1", 4, 6, A1_DUE + after)
        st = gradebook(course).standing("s1", "a1")
    assert (st.late_days, st.bank_days, st.score) == (days, from_bank, score)


def test_the_bank_is_spent_in_due_date_order_and_past_it_costs(tmp_path):
    with make_course(tmp_path) as course:
        roster(course, tmp_path)
        a1(course, "s1", 4, 6, A1_DUE + timedelta(days=1, hours=5))   # 2 days: bank 3 -> 1
        a2(course, "s1", 5, A2_DUE + timedelta(days=1, hours=2))      # 2 days: 1 covered
        book = gradebook(course)
    first, second = book.standing("s1", "a1"), book.standing("s1", "a2")
    assert (first.bank_days, first.score) == (2, 20.0)
    assert (second.late_days, second.bank_days, second.penalty_percent) == (2, 1, 10.0)
    assert second.score == 9.0
    assert book.ledgers["s1"].used == {"a1": 2, "a2": 1} and book.ledgers["s1"].left == 0
    assert any("10% off for 1 day(s) past the bank" in n for n in second.notes)


def test_notes_say_times_on_the_courses_clock(tmp_path):
    """An extension's note read "extension to 2027-01-24T07:59:00+00:00" in a course on
    Pacific time, as did "not due yet"; docs/course.md says times are on the course's clock."""
    table = {**TABLE, "timezone": "America/Los_Angeles"}
    with make_course(tmp_path, table) as course:
        roster(course, tmp_path, ("s1", "s2"))
        add_extension(course, "s1", "a1", A1_DUE + timedelta(days=3), "illness", by="prof")
        book = gradebook(course, now=A1_DUE - timedelta(days=1))
    assert "extension to 2027-01-23T23:59:00-08:00: illness" in book.standing("s1", "a1").notes
    assert ("not due yet (due 2027-01-20T23:59:00-08:00): no attempt recorded yet"
            in book.standing("s2", "a1").notes)


def test_past_the_bank_zero(tmp_path):
    table = {**TABLE, "late": {"bank_days": 1, "past_bank": "zero"}}
    with make_course(tmp_path, table) as course:
        roster(course, tmp_path)
        a1(course, "s1", 4, 6, A1_DUE + timedelta(days=1, hours=1))
        assert gradebook(course).standing("s1", "a1").score == 0.0


def test_an_extension_moves_the_due_date(tmp_path):
    with make_course(tmp_path) as course:
        roster(course, tmp_path, ("s1", "s2"))
        add_extension(course, "s1", "a1", A1_DUE + timedelta(days=3), "illness", by="prof")
        for s in ("s1", "s2"):
            a1(course, s, 4, 6, A1_DUE + timedelta(days=2, hours=1))
        book = gradebook(course)
    assert (book.standing("s1", "a1").late_days, book.standing("s1", "a1").score) == (0, 20.0)
    assert book.standing("s1", "a1").notes[0].startswith("extension to 2027-01-24T07:59")
    assert book.standing("s2", "a1").late_days == 3


def test_extensions_file_refuses_an_unknown_student_and_a_naive_date(tmp_path):
    with make_course(tmp_path) as course:
        roster(course, tmp_path)
        bad = tmp_path / "ext.csv"
        bad.write_text("student,assignment,due,reason\n"
                       "s1,a1,2027-01-25T23:59:00-08:00,illness\n"
                       "s9,a1,2027-01-25T23:59:00-08:00,travel\n")
        with pytest.raises(CourseError, match=r"line 3: no student 's9'.*nothing was imported"):
            import_extensions(course, bad)
        bad.write_text("student,assignment,due,reason\ns1,a9,2027-01-25T23:59:00-08:00,x\n")
        with pytest.raises(CourseError, match=r"ext.csv, line 2: no assignment 'a9'.*nothing "
                           "was imported"):
            import_extensions(course, bad)
        bad.write_text("student,assignment,due,reason\ns1,a1,2027-01-25T23:59:00,illness\n")
        with pytest.raises(CourseError, match="has no time zone"):
            import_extensions(course, bad)
        assert course.conn.execute("SELECT COUNT(*) FROM extensions").fetchone()[0] == 0


def _written(path, text: str | bytes):
    """``path`` holding ``text`` (bytes as they are)."""
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "said"), [
    (b"\xff\xfestudent", "is not UTF-8 text; save it as CSV"),  # (an internal error)
    ("student,assignment,due,reason\n", "holds its header and no row"),  # (silent)
    ("student,assignment,due,reason\ns1,a1,2027-01-25T23:59:00-08:00,flu,extra\n",
     "line 2: 5 cells for 4 columns"),  # (the cell past the header was dropped)
    ("student,assignment,due,reason\ns1,a1,2027-01-25T23:59:00-08:00,flu\n"
     "s1,a1,2027-01-26T23:59:00-08:00,more flu\n",
     "line 3: s1's extension of a1 is on line 2 too"),  # (the last one stood)
])
def test_an_extensions_file_a_spreadsheet_got_wrong_is_refused(tmp_path, text, said):
    """An instructor's trial: each of these was taken (or crashed) without a word."""
    with make_course(tmp_path) as course:
        roster(course, tmp_path)
        with pytest.raises(CourseError, match=said):
            import_extensions(course, _written(tmp_path / "ext.csv", text))
        assert course.conn.execute("SELECT COUNT(*) FROM extensions").fetchone()[0] == 0


@pytest.mark.parametrize(("text", "said"), [
    (b"student,assignment\xff", "is not UTF-8 text"),
    ("student,assignment,question,points,reason\ns1,a1,,3,regrade,extra\n",
     "line 2: 6 cells for 5 columns"),
    ("student,assignment,question,points,reason\ns1,a1,,3,regrade\ns1@uni.edu,a1,,4,again\n",
     "line 3: s1's a1 is overridden by line 2 too"),
])
def test_an_overrides_file_a_spreadsheet_got_wrong_is_refused(tmp_path, text, said):
    from nlpdojo_autograder.course.overrides import import_overrides, overrides

    with make_course(tmp_path) as course:
        roster(course, tmp_path)
        with pytest.raises(CourseError, match=said):
            import_overrides(course, _written(tmp_path / "ov.csv", text))
        assert overrides(course) == []


@pytest.mark.parametrize(("counts", "number", "score"), [
    ("last-before-deadline", 1, 10.0),  # on time, half right
    ("last", 2, 18.0),                  # 3 days late: 2 from the bank, 10% off
    ("best", 2, 18.0),
])
def test_which_attempt_counts(tmp_path, counts, number, score):
    table = {**TABLE, "assignments": [{**TABLE["assignments"][0], "counts": counts},
                                      TABLE["assignments"][1]]}
    with make_course(tmp_path, table) as course:
        roster(course, tmp_path)
        a1(course, "s1", 2, 3, A1_DUE - timedelta(hours=2))
        a1(course, "s1", 4, 6, A1_DUE + timedelta(days=2, hours=1))
        st = gradebook(course).standing("s1", "a1")
    assert (st.attempt.number, st.score) == (number, score)
    assert f"attempt {number} of 2 counts ({counts})" in st.notes


def test_best_weighs_the_penalty_and_ties_go_to_the_earliest(tmp_path):
    table = {**TABLE, "late": {"bank_days": 0, "past_bank": "percent",
                               "percent_per_day": 50}}
    with make_course(tmp_path, table) as course:
        roster(course, tmp_path)
        a2(course, "s1", 4, A2_DUE - timedelta(days=1))               # 8 points
        a2(course, "s1", 5, A2_DUE + timedelta(hours=5))              # 10, 50% off: 5
        a2(course, "s1", 4, A2_DUE - timedelta(hours=1))              # 8 again, later
        st = gradebook(course).standing("s1", "a2")
    assert (st.attempt.number, st.score, st.bank_days) == (1, 8.0, 0)


def test_the_attempt_that_counts_is_said_with_the_void_ones_apart(tmp_path):
    """Attempt numbers count void attempts too: with one of three voided, the note read
    "attempt 3 of 2 counts"."""
    table = {**TABLE, "assignments": [{**TABLE["assignments"][0], "counts": "last"},
                                      TABLE["assignments"][1]]}
    with make_course(tmp_path, table) as course:
        roster(course, tmp_path)
        for hours, q1 in ((3, 1), (2, 2), (1, 3)):
            a1(course, "s1", q1, 6, A1_DUE - timedelta(hours=hours))
        void_attempt(course, "s1", "a1", 2, reason="graded twice", by="ta")
        st = gradebook(course).standing("s1", "a1")
    assert st.attempt.number == 3
    assert "attempt 3 counts (last, of the 2 not void; 1 void)" in st.notes
    assert not any(" of 2 counts" in note for note in st.notes)


def test_last_before_deadline_with_every_attempt_late_takes_the_first(tmp_path):
    with make_course(tmp_path) as course:
        roster(course, tmp_path)
        a1(course, "s1", 2, 3, A1_DUE + timedelta(hours=2))
        a1(course, "s1", 4, 6, A1_DUE + timedelta(days=1, hours=2))
        st = gradebook(course).standing("s1", "a1")
    assert (st.attempt.number, st.late_days, st.score) == (1, 1, 10.0)


def test_overrides_of_a_question_of_an_assignment_and_excused(tmp_path):
    with make_course(tmp_path) as course:
        roster(course, tmp_path, ("s1", "s2", "s3"))
        for s in ("s1", "s2", "s3"):
            a1(course, s, 2, 6, A1_DUE - timedelta(hours=1))          # 8/10: 16 points
        add_override(course, "s1", "a1", "q1", points=4, reason="regrade request", by="ta")
        add_override(course, "s2", "a1", points=19.5, reason="academic decision", by="prof")
        add_override(course, "s3", "a2", excused=True, reason="medical", by="prof")
        book = gradebook(course)
    s1, s2 = book.standing("s1", "a1"), book.standing("s2", "a1")
    assert (s1.score, s1.overridden) == (20.0, True)
    assert "override of t.q1: 4 of 4 (was 2) by ta: regrade request" in s1.notes
    assert (s2.score, s2.overridden) == (19.5, True)
    assert book.standing("s3", "a2").status == "excused"
    assert book.standing("s3", "a1").overridden is False
    assert book.standing("s1", "a2").status == "missing"
    assert book.standing("s1", "a2").score == 0.0


def test_an_override_says_which_attempts_it_lowers(tmp_path):
    """A question's override applies to every attempt: one meant for attempt 1 (2 of 4,
    raised to 3) caps attempt 2's full marks, which it says (an instructor's finding)."""
    with make_course(tmp_path) as course:
        roster(course, tmp_path, ("s1",))
        a1(course, "s1", 2, 6, A1_DUE - timedelta(hours=2))
        a1(course, "s1", 4, 6, A1_DUE - timedelta(hours=1))
        raised = add_override(course, "s1", "a1", "q1", points=3, reason="regrade", by="ta")
        assert lowered(course, raised) == ["attempt 2: 4 of 4"]
        kept = add_override(course, "s1", "a1", "q1", points=4, reason="again", by="ta")
        assert lowered(course, kept) == []
        whole = add_override(course, "s1", "a1", points=1, reason="decision", by="prof")
        assert lowered(course, whole) == []  # the assignment's points: no question's


def test_a_question_override_with_no_attempt_to_apply_to_is_refused(tmp_path):
    """s2 submitted nothing for a1 (s1 did, so the question is known): the override was
    accepted and printed, and every export still showed a1 missing, 0. Refused, with the way
    that works (the whole assignment's points); likewise where the one attempt is void. One
    recorded before its attempt was voided says, in the standing, that it applies to nothing."""
    with make_course(tmp_path) as course:
        roster(course, tmp_path, ("s1", "s2", "s3"))
        a1(course, "s1", 2, 6, A1_DUE)
        a1(course, "s3", 2, 6, A1_DUE)
        with pytest.raises(CourseError, match=r"s2 has no attempt at a1 that graded t\.q1 .*"
                                              r"leave out the question"):
            add_override(course, "s2", "a1", "q1", points=4, reason="emailed it late")
        add_override(course, "s3", "a1", "q1", points=4, reason="regrade request", by="ta")
        void_attempt(course, "s3", "a1", 1, reason="graded without its manifest", by="ta")
        with pytest.raises(CourseError, match="s3 has no attempt at a1 that graded t.q1"):
            add_override(course, "s3", "a1", "q1", points=3, reason="again")
        assert course.conn.execute("SELECT COUNT(*) FROM overrides").fetchone()[0] == 1
        whole = add_override(course, "s2", "a1", points=12, reason="emailed it late")
        book = gradebook(course)
    assert (book.standing("s2", "a1").score, whole.question) == (12.0, "")
    s3 = book.standing("s3", "a1")
    assert (s3.status, s3.score) == ("missing", 0.0)
    assert ("override of t.q1 by ta not applied: no counted attempt graded it (a void "
            "attempt, or none)") in s3.notes


def test_a_bad_override_is_refused_and_records_nothing(tmp_path):
    with make_course(tmp_path) as course:
        roster(course, tmp_path)
        a1(course, "s1", 2, 6, A1_DUE)
        with pytest.raises(CourseError, match=r"no question 'q7' \(its questions: t.q1, t.q2\)"):
            add_override(course, "s1", "a1", "q7", points=1, reason="x")
        with pytest.raises(CourseError, match="more than question t.q1's 4"):
            add_override(course, "s1", "a1", "t.q1", points=5, reason="x")
        with pytest.raises(CourseError, match="needs a reason"):
            add_override(course, "s1", "a1", "q1", points=1, reason=" ")
        with pytest.raises(CourseError, match="no student 'zz'"):
            add_override(course, "zz", "a1", points=1, reason="x")
        assert course.conn.execute("SELECT COUNT(*) FROM overrides").fetchone()[0] == 0


def test_an_override_says_its_points_as_the_gradebook_does():
    """Two thirds of a point read 0.67 in the override's line as in the gradebook's."""
    given = Override(id=1, student="olga", assignment="a1", question="", points=2 / 3,
                     excused=False, reason="regrade", created_by="ta",
                     created_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert given.describe() == f"{points_text(2 / 3)} points" == "0.67 points"
    assert Override(**{**given.__dict__, "points": 2.0}).describe() == "2 points"
