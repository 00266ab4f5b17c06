"""Exports on synthetic attempts: text that a spreadsheet would run is neutralised (OWASP),
the points cells are left as numbers, missing cells zero or blank, Canvas's title rule."""

from __future__ import annotations

import csv
import stat
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.course.attempts import record_attempt
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.exports import export
from nlpdojo_autograder.course.overrides import add_override
from nlpdojo_autograder.course.policy import points_text
from nlpdojo_autograder.course.roster import import_roster
from nlpdojo_reports.gradebook import render_gradebook
from tests.course.helpers import synthetic_result

ON_TIME = datetime(2027, 1, 20, tzinfo=UTC)


@pytest.fixture
def graded(course, tmp_path):
    (tmp_path / "r.csv").write_text(
        "id,name,email,section\n"
        "s1,=cmd|' /C calc'!A0,+s1@uni.edu,@sec\n"
        "s2,-Minus,s2@uni.edu,=1+2\n"
        "s3,Plain,s3@uni.edu,A\n")
    import_roster(course, tmp_path / "r.csv")
    for sid, q1 in (("s1", 4), ("s2", 1)):
        record_attempt(course, sid, "a1", synthetic_result({"q1": (q1, 4), "q2": (6, 6)},
                                                           sha=sid),
                       submitted_at=ON_TIME, submitted_from="given")
    add_override(course, "s2", "a1", "q1", points=2, reason="@SUM(1+1)", by="=ta")
    return course


def read(path):
    return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))


def test_canvas_cells_that_would_run_are_neutralised_and_points_are_numbers(graded, tmp_path):
    done = export(graded, "canvas", tmp_path / "c.csv")
    rows = read(done.path)
    assert rows[0][5:] == ["First (101)", "Second"]  # a2's id is not known: its title
    # a plain roster's id goes in SIS User ID, Canvas's own ID left empty (the TA's trial:
    # a university number in ID could match another Canvas user), and that is said
    assert rows[2][:5] == ["'=cmd|' /C calc'!A0", "", "s1", "", "'@sec"]
    assert any("not a Canvas export" in w and "SIS User ID" in w for w in done.warnings)
    assert rows[3][0] == "'-Minus" and rows[3][4] == "'=1+2"
    assert [r[5:] for r in rows[2:]] == [["20", "0"], ["16", "0"], ["0", "0"]]
    notes = read(done.adjustments)
    s2 = next(r for r in notes if r[0] == "s2" and "override" in r[-1])
    assert s2[-1] == "override of t.q1: 2 of 4 (was 1) by =ta: @SUM(1+1)"  # inside: text
    assert stat.S_IMODE(done.path.stat().st_mode) == 0o600


def test_a_formula_after_a_separator_inside_a_cell_stays_text(course, tmp_path):
    """A name or section like ``Eve;=cmd|...`` starts no formula, but a spreadsheet that splits
    the file on ``;`` (Excel in many locales) would read ``=cmd|...`` as a cell of its own
    (a cell starts there where the separators' quoting does not line up): each formula start
    after a separator inside a cell is made text too, in every export and in grades.csv."""
    (tmp_path / "r.csv").write_text("id,name,email,section\n"
                                    "s1,Eve;=cmd|' /C calc'!A0;,e@x.edu,B;@SUM(1+1);\n")
    import_roster(course, tmp_path / "r.csv")
    record_attempt(course, "s1", "a1", synthetic_result({"q1": (4, 4), "q2": (6, 6)}),
                   submitted_at=ON_TIME, submitted_from="given")
    texts = [export(course, kind, tmp_path / f"{kind}.csv").path.read_text(encoding="utf-8")
             for kind in ("canvas", "moodle", "csv")]
    texts.append(render_gradebook({"questions": [], "submissions": [{
        "name": "Eve;=cmd|' /C calc'!A0;", "score": 1.0, "max_score": 2.0,
        "errors": ["x;-1+1"]}]}))
    for text in texts:
        for delimiter in (",", ";"):
            cells = [c for row in csv.reader(text.splitlines(), delimiter=delimiter)
                     for c in row]
            assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))], (delimiter,
                                                                                 text)
        assert "Eve;'=cmd|' /C calc'!A0;" in text or text.startswith('"email"')  # (moodle:
        # no name)


def test_missing_left_blank_on_request(graded, tmp_path):
    rows = read(export(graded, "canvas", tmp_path / "c.csv", missing="blank").path)
    assert [r[5:] for r in rows[2:]] == [["20", ""], ["16", ""], ["", ""]]


def test_an_assignment_not_yet_due_is_open_and_no_zero(graded, tmp_path, monkeypatch):
    """The TA's trial: a week-3 export gave every student 0 on assignments not yet due (the
    default ``--missing zero``). Before a student's due date (grace and extension included)
    no attempt is ``open``: blank in every export, a missing one only after it."""
    from nlpdojo_autograder.course import policy
    from nlpdojo_autograder.course.browse import course_view

    # a1 due 2027-01-20T23:59-08:00, a2 2027-02-03T23:59-08:00, grace 15 minutes
    monkeypatch.setattr(policy, "current_time", lambda: datetime(2027, 2, 4, 8, 10, tzinfo=UTC))
    rows = read(export(graded, "canvas", tmp_path / "c.csv").path)
    assert [r[5:] for r in rows[2:]] == [["20", ""], ["16", ""], ["0", ""]]  # s3 missed a1
    book = policy.gradebook(graded)
    st = book.standing("s1", "a2")
    assert st.status == "open" and "not due yet" in st.notes[0]
    assert [a["open"] for a in course_view(graded, book)["assignments"]] == [0, 3]
    csv_rows = read(export(graded, "csv", tmp_path / "p.csv").path)
    assert csv_rows[1][csv_rows[0].index("a2 status")] == "open"
    # (the TA's trial, round 2) the points possible are not of work not due yet, and the
    # course pages and history show no 0 for it, as the exports write none
    assert csv_rows[1][csv_rows[0].index("points possible")] == points_text(
        graded.assignment("a1").points)
    from nlpdojo_autograder.course.browse import student_view
    from nlpdojo_reports.course_pages import render_course_page, render_student_page

    page = render_course_page(course_view(graded, book))
    assert 'data-field="score">-</span> (not due yet)' in page
    assert 'data-field="open">3</b>open (not due yet)' in page
    mine = render_student_page(student_view(graded, "s1", book), "c")
    assert 'data-field="score">-</b> of' in mine
    shown = CliRunner().invoke(build_app(), ["course", "history", "s1", "--course",
                                             str(graded.path)])
    assert "a2" in shown.stdout and "-/" in shown.stdout and "open (not due yet)" in shown.stdout
    # past the due date and its grace: missing, a 0
    monkeypatch.setattr(policy, "current_time", lambda: datetime(2027, 2, 4, 8, 15, tzinfo=UTC))
    rows = read(export(graded, "canvas", tmp_path / "c.csv").path)
    assert [r[5:] for r in rows[2:]] == [["20", "0"], ["16", "0"], ["0", "0"]]


def test_moodle_identifiers_that_would_run_are_said(graded, tmp_path):
    done = export(graded, "moodle", tmp_path / "m.csv")
    rows = read(done.path)
    assert rows[0] == ["email", "First", "First feedback", "Second", "Second feedback"]
    assert rows[1][:2] == ["'+s1@uni.edu", "20"]
    assert any("+s1@uni.edu" in w and "by hand" in w for w in done.warnings)
    assert rows[2][2].startswith("override of t.q1")
    # none has a login: the way out names the other identifiers (it named login itself)
    with pytest.raises(CourseError, match="have no login in the roster .*choose --moodle-id "
                                          "email or id$"):
        export(graded, "moodle", tmp_path / "m2.csv", moodle_id="login")


def test_canvas_identifiers_written_with_a_quote_are_said(course, tmp_path):
    """An instructor's trial: a SIS login ``-eve`` became ``'-eve`` in the Canvas export,
    an identifier Canvas may match on, without a word (Moodle's export said so)."""
    (tmp_path / "r.csv").write_text("id,name,email,login\ns1,Eve,eve@uni.edu,-eve\n")
    import_roster(course, tmp_path / "r.csv")
    done = export(course, "canvas", tmp_path / "c.csv")
    assert read(done.path)[2][3] == "'-eve"
    assert any("1 identifier(s) start like a spreadsheet formula" in w and "Eve ('-eve')" in w
               for w in done.warnings)


def test_unknown_format_and_no_roster(course, tmp_path):
    with pytest.raises(CourseError, match="use one of canvas, moodle, csv"):
        export(course, "xlsx", tmp_path / "x")
    with pytest.raises(CourseError, match="has no roster"):
        export(course, "canvas", tmp_path / "x.csv")


def test_an_output_that_is_a_folder_is_refused_and_leaves_nothing(graded, tmp_path):
    """`-o exports` naming a folder: "error: .exports.26383.tmp -> exports: Is a directory",
    and the gradebook left in a temporary file beside it."""
    (tmp_path / "exports").mkdir()
    with pytest.raises(CourseError, match=r"--output .*exports is a folder: give the file"):
        export(graded, "canvas", tmp_path / "exports")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert list((tmp_path / "exports").iterdir()) == []
