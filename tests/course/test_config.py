"""The course table: due dates with a time zone or refused, unknown keys refused, read from a
course.toml or an instructor's pyproject.toml."""

from __future__ import annotations

import copy
import re

import pytest

from nlpdojo_autograder.course.config import CourseError, load_course_table, parse_course_table
from tests.course.helpers import TABLE


def table(**changes):
    data = copy.deepcopy(TABLE)
    data["assignments"][0].update(changes)
    return data


def test_a_due_date_without_a_time_zone_is_refused():
    with pytest.raises(CourseError, match=r"assignment a1, due: 2027-01-20T23:59:00 has no time "
                                          r"zone.*timezone = \"America/Los_Angeles\""):
        parse_course_table(table(due="2027-01-20T23:59:00"))


def test_the_courses_zone_places_a_date_written_without_offset_daylight_saving_included():
    data = table(due="2027-01-20T23:59:00")
    data["assignments"][1]["due"] = "2027-07-20T23:59:00"
    config = parse_course_table({**data, "timezone": "America/New_York"})
    winter, summer = config.assignments
    assert winter.due.utcoffset().total_seconds() == -5 * 3600
    assert summer.due.utcoffset().total_seconds() == -4 * 3600


def test_a_missing_due_date_is_suggested_on_the_courses_clock():
    """The hint gave `-08:00` in a course on New York's clock: a TA copying it set the due
    date three hours late."""
    data = table()
    del data["assignments"][0]["due"]
    with pytest.raises(CourseError, match="add due = 2027-01-20T23:59:00-08:00"):
        parse_course_table(data)
    with pytest.raises(CourseError) as said:
        parse_course_table({**data, "timezone": "America/New_York"})
    assert 'add due = "2027-01-20T23:59:00" (on America/New_York\'s clock)' in str(said.value)
    data["assignments"][0]["due"] = "2027-01-20T23:59:00"  # the hint, as written
    first = parse_course_table({**data, "timezone": "America/New_York"}).assignments[0]
    assert first.due.utcoffset().total_seconds() == -5 * 3600


def test_a_date_without_a_time_is_refused_wherever_a_time_is_read(tmp_path, monkeypatch):
    """The TA's trial: ``due = "2027-01-20"``, ``extend --due 2027-01-23`` and a manifest's
    date alone were taken as that day's 00:00, a day before the TA meant, and the extension
    was echoed in UTC (``05:00:00+00:00``), which did not look wrong. A date alone is refused
    as a TOML date is; times are shown on the course's clock."""
    from typer.testing import CliRunner

    from nlpdojo.cli.app import build_app
    from nlpdojo_autograder.course.config import aware
    from nlpdojo_autograder.course.roster import import_roster
    from nlpdojo_autograder.course.store import COURSE_ENV
    from tests.course.helpers import make_course

    with pytest.raises(CourseError, match="is a date without a time, which would mean its "
                                          "first minute"):
        parse_course_table({**table(due="2027-01-20"), "timezone": "America/New_York"})
    with pytest.raises(CourseError, match="manifest m.csv, line 2"):
        aware("2027-01-23", "America/New_York", "manifest m.csv, line 2")
    monkeypatch.delenv(COURSE_ENV, raising=False)
    with make_course(tmp_path, {**TABLE, "timezone": "America/New_York"}) as course:
        (tmp_path / "r.csv").write_text("id,name,email,login\ns1,Ann,ann@x.edu,ann\n")
        import_roster(course, tmp_path / "r.csv")

    def extend(due):
        result = CliRunner().invoke(build_app(), [
            "course", "extend", "s1", "a1", "--due", due, "--reason", "ill", "--course",
            str(tmp_path / "course.db")])
        return result.exit_code, " ".join(result.output.split())

    code, said = extend("2027-01-23")
    assert code == 2 and "is a date without a time" in said
    code, said = extend("2026-01-23T23:59:00")  # a year typo: before a1's due date
    assert code == 2 and "is not after a1's due date" in said, said
    # both times on the course's clock, as written (the TA's trial, round 2: in UTC)
    assert "of s1 to 2026-01-23T23:59:00-05:00 is not after" in said and "+00:00" not in said
    code, said = extend("2027-01-23T23:59:00")
    assert code == 0 and "due 2027-01-23T23:59:00-05:00" in said, said


@pytest.mark.parametrize(("change", "said"), [
    ({"due": "tomorrow"}, "is not a date and time"),
    ({"points": 0}, "points = 0"),
    ({"counts": "first"}, "counts = 'first'"),
    ({"topics": ["t"]}, "topics = \\[...\\] or questions = \\[...\\] \\(one of them\\)"),
    ({"id": "a 1"}, "id 'a 1' must be a short name"),
    ({"bonus": 2}, "unknown key bonus"),
    # what a gradebook would read otherwise (the TA's trial)
    ({"lms_id": "quiz-7"}, "Canvas's assignment id is a number"),
    ({"title": "Homework (2)", "lms_id": ""}, "ends in a number in parentheses"),
    ({"title": "Second"}, "are both titled 'Second'"),
    ({"timezone": "EST", "due": "2027-07-20T23:59:00"}, "'EST' is an abbreviation, not a place"),
])
def test_a_bad_assignment_is_refused(change, said):
    with pytest.raises(CourseError, match=said):
        parse_course_table(table(**change))


def test_bad_policies_are_refused():
    with pytest.raises(CourseError, match="unknown key bank_day "):
        parse_course_table({**TABLE, "late": {"bank_day": 3}})
    with pytest.raises(CourseError, match="past_bank = \"percent\" needs percent_per_day"):
        parse_course_table({**TABLE, "late": {"past_bank": "percent"}})
    with pytest.raises(CourseError, match="timezone 'Mars/Base'"):
        parse_course_table({**TABLE, "timezone": "Mars/Base"})
    with pytest.raises(CourseError, match="two assignments have the id 'a1'"):
        parse_course_table({**TABLE, "assignments": [TABLE["assignments"][0]] * 2})


def test_read_from_pyproject_or_course_toml(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = \"x\"\n[tool.nlpdojo.course]\nname = \"C\"\n"
        "[[tool.nlpdojo.course.assignments]]\nid = \"a1\"\nquestions = [\"t.q\"]\n"
        "points = 5\ndue = 2027-01-20T23:59:00Z\n")
    config = load_course_table(tmp_path / "pyproject.toml")
    assert config.name == "C" and config.assignments[0].due.isoformat() == (
        "2027-01-20T23:59:00+00:00")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "pyproject.toml").write_text("[project]\nname = \"x\"\n")
    with pytest.raises(CourseError, match=r"no \[tool.nlpdojo.course\] table"):
        load_course_table(tmp_path / "other" / "pyproject.toml")
    (tmp_path / "course.toml").write_text("name = \n")
    with pytest.raises(CourseError, match="not valid TOML"):
        load_course_table(tmp_path / "course.toml")


def test_a_time_the_courses_clock_shows_twice_or_never_is_refused():
    """The TA's trial, round 2: a time without an offset in the hour repeated in the fall was
    taken as the first of the two, and one in the hour skipped in spring moved an hour, both
    without a word. Each is refused with what to write; the hours around them are read."""
    from nlpdojo_autograder.course.config import aware

    with pytest.raises(CourseError, match=re.escape(
            "2026-11-01T01:30:00 happens twice on America/Los_Angeles's clock (the hour "
            "repeats when daylight saving time ends); write which with its offset: "
            "2026-11-01T01:30:00-07:00 or 2026-11-01T01:30:00-08:00")):
        aware("2026-11-01T01:30:00", "America/Los_Angeles", "due")
    with pytest.raises(CourseError, match="2027-03-14T02:30:00 does not exist on America/New_"
                                          "York's clock"):
        aware("2027-03-14T02:30:00", "America/New_York", "manifest line 2")
    assert aware("2026-11-01T00:59:00", "America/Los_Angeles", "due").utcoffset().total_seconds() \
        == -7 * 3600
    assert aware("2026-11-01T01:30:00-08:00", "America/Los_Angeles", "due").utcoffset() \
        .total_seconds() == -8 * 3600
