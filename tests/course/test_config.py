"""The course table: due dates with a time zone or refused, unknown keys refused, read from a
course.toml or an instructor's pyproject.toml."""

from __future__ import annotations

import copy

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


@pytest.mark.parametrize(("change", "said"), [
    ({"due": "tomorrow"}, "is not a date and time"),
    ({"points": 0}, "points = 0"),
    ({"counts": "first"}, "counts = 'first'"),
    ({"topics": ["t"]}, "topics = \\[...\\] or questions = \\[...\\] \\(one of them\\)"),
    ({"id": "a 1"}, "id 'a 1' must be a short name"),
    ({"bonus": 2}, "unknown key bonus"),
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
