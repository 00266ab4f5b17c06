"""The course pages (issue 63, item 8): the course view (per assignment submitted, missing,
late, excused, mean, distribution) and a page per student (attempts, late days, overrides),
computed by the late policy as the exports are; written for the instructor only; rendered by
a real browser with the view's numbers."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.course.attempts import record_attempt
from nlpdojo_autograder.course.browse import course_view, student_view
from nlpdojo_autograder.course.overrides import add_override
from nlpdojo_autograder.course.policy import add_extension
from nlpdojo_autograder.course.roster import import_roster
from tests._html import Fields, chromium, find_chromium
from tests.course.helpers import make_course, synthetic_result

HOSTILE = "<script>alert(1)</script> Eve"
ROSTER = ("id,name,email,section\ns1,Ada Lovelace,ada@x.edu,A\ns2,Bob Ross,bob@x.edu,A\n"
          f"s3,Cy Young,cy@x.edu,B\ns4,Dee Dee,dee@x.edu,B\ns5,{HOSTILE},eve@x.edu,B\n")
BROWSER = find_chromium()


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2027, 1, day, hour, tzinfo=UTC)


@pytest.fixture
def course(tmp_path):
    c = make_course(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER)
    import_roster(c, tmp_path / "roster.csv")

    def attempt(sid, aid, points, when, sha):
        record_attempt(c, sid, aid, synthetic_result(points, sha=sha * 64),
                       submitted_at=when, submitted_from="given")

    full, half = {"q1": (4, 4), "q2": (6, 6)}, {"q1": (4, 4), "q2": (1, 6)}
    attempt("s1", "a1", full, _at(20), "1")                                  # on time: 20
    attempt("s1", "a2", {"q3": (5, 10)}, datetime(2027, 2, 6, 1, tzinfo=UTC), "2")  # 2 late
    attempt("s2", "a1", half, _at(22), "3")                                  # 1 day late: 10
    attempt("s3", "a1", {"q1": (0, 4), "q2": (0, 6)}, _at(19), "4")          # overridden: 15
    add_override(c, "s3", "a1", points=15, reason="regrade request: =SUM(A1)", by="ta1")
    add_override(c, "s3", "a2", excused=True, reason="medical", by="prof")
    add_extension(c, "s5", "a1", datetime(2027, 1, 26, tzinfo=UTC), "travel", by="prof")
    attempt("s5", "a1", full, _at(25), "5")                                  # extended: 20
    yield c
    c.close()


def test_the_course_view_counts_each_assignment(course):
    view = course_view(course)
    a1, a2 = view["assignments"]
    assert (a1["submitted"], a1["missing"], a1["late"], a1["excused"]) == (4, 1, 1, 0)
    assert a1["mean"] == pytest.approx((20 + 10 + 15 + 20) / 4)
    assert a1["histogram"] == [0, 0, 0, 0, 0, 1, 0, 1, 0, 2]
    assert (a2["submitted"], a2["missing"], a2["late"], a2["excused"]) == (1, 3, 1, 1)
    assert a2["mean"] == 5 and a2["extended"] == 0 and a1["extended"] == 1
    rows = {s["id"]: s for s in view["students"]}
    assert rows["s3"]["assignments"]["a1"] == {"status": "graded", "score": 15,
                                               "late_days": 0, "overridden": True}
    assert rows["s3"]["assignments"]["a2"]["status"] == "excused"
    assert rows["s4"]["assignments"]["a1"]["status"] == "missing"
    assert (rows["s1"]["late_days_used"], rows["s1"]["late_days_left"]) == (2, 1)


def test_a_students_page_lists_attempts_late_days_and_overrides(course):
    ada = student_view(course, "s1")
    assert ada["ledger"] == {"bank": 3, "used": {"a2": 2}, "left": 1}
    (a2_try,) = ada["assignments"][1]["attempts"]
    assert a2_try["late_days"] == 2 and a2_try["counted"]
    cy = student_view(course, "cy@x.edu")  # found by email too
    assert [o["reason"] for o in cy["overrides"]] == ["regrade request: =SUM(A1)", "medical"]
    assert [o["standing"] for o in cy["overrides"]] == ["applies", "applies"]
    assert cy["assignments"][1]["status"] == "excused" and cy["assignments"][1]["score"] is None
    eve = student_view(course, "s5")
    assert eve["assignments"][0]["extension"]["reason"] == "travel"
    assert eve["assignments"][0]["late_days"] == 0


def test_the_views_tell_times_on_the_courses_clock(tmp_path):
    """The TA's trial: pages said "due 2027-01-21T04:59:00+00:00" for a course declared in
    America/New_York; its times are shown as its clock reads them."""
    from tests.course.helpers import TABLE

    with make_course(tmp_path, {**TABLE, "timezone": "America/New_York"}) as c:
        (tmp_path / "roster.csv").write_text(ROSTER)
        import_roster(c, tmp_path / "roster.csv")
        record_attempt(c, "s1", "a1", synthetic_result({"q1": (4, 4)}),
                       submitted_at=_at(20), submitted_from="given")
        assert course_view(c)["assignments"][0]["due"] == "2027-01-21T02:59:00-05:00"
        (attempt,) = student_view(c, "s1")["assignments"][0]["attempts"]
        assert attempt["submitted_at"] == "2027-01-20T07:00:00-05:00"


def test_the_command_writes_private_escaped_pages(course, tmp_path):
    out = tmp_path / "pages"
    result = CliRunner().invoke(build_app(), ["course", "dashboard", "-o", str(out),
                                              "--course", str(course.path)])
    assert result.exit_code == 0, result.output
    index = (out / "index.html").read_text()
    assert HOSTILE not in index and "&lt;script&gt;alert(1)&lt;/script&gt; Eve" in index
    pages = sorted(p.name for p in (out / "students").iterdir())
    assert pages == [f"{n:04d}.html" for n in range(5)]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.rglob("*.html"))
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert "students/0002.html" in index
    cy = (out / "students" / "0002.html").read_text()
    assert "regrade request: =SUM(A1)" in cy and "medical" in cy
    assert cy.count("<td>applies</td>") == 2
    from nlpdojo_autograder.course.overrides import remove_override
    remove_override(course, "s3", "a2", reason="<b>sent twice</b>", by="ta")
    again = CliRunner().invoke(build_app(), ["course", "dashboard", "-o", str(out),
                                             "--course", str(course.path)])
    cy = (out / "students" / "0002.html").read_text()  # kept and shown, as removed, escaped
    assert cy.count("<td>applies</td>") == 1 and "removed by ta " in cy
    assert "&lt;b&gt;sent twice&lt;/b&gt;" in cy
    again = CliRunner().invoke(build_app(), ["course", "dashboard", "-o", str(out),
                                             "--course", str(course.path)])
    assert again.exit_code == 0, again.output  # its own folder: written again
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    refused = CliRunner().invoke(build_app(), ["course", "dashboard", "-o",
                                               str(tmp_path / "other"), "--course",
                                               str(course.path)])
    assert refused.exit_code != 0 and "holds other files" in refused.output


@pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed (make test installs "
                    "it with apt where it runs as root)")
def test_the_pages_render_with_the_views_numbers(course, tmp_path):
    out = tmp_path / "pages"
    result = CliRunner().invoke(build_app(), ["course", "dashboard", "-o", str(out),
                                              "--course", str(course.path)])
    assert result.exit_code == 0, result.output
    view = course_view(course)
    proc = chromium(BROWSER, out / "index.html", tmp_path / "profile", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Fields()
    dom.feed(proc.stdout)
    for a in view["assignments"]:
        for key in ("submitted", "missing", "late", "excused"):
            assert int(dom.fields[(key, a["id"])]) == a[key]
        assert float(dom.fields[("mean", a["id"])]) == pytest.approx(a["mean"])
    for s in view["students"]:
        for aid, cell in s["assignments"].items():
            shown = dom.fields[("score", f"{s['id']}/{aid}")]
            expected = "EX" if cell["status"] == "excused" else cell["score"]
            assert shown == expected or float(shown) == pytest.approx(expected)
        assert int(dom.fields[("late_days_left", s["id"])]) == s["late_days_left"]
    page = out / "students" / "0000.html"
    proc = chromium(BROWSER, page, tmp_path / "profile2", "--dump-dom")
    dom = Fields()
    dom.feed(proc.stdout)
    assert int(dom.fields[("left", "s1")]) == 1 and int(dom.fields[("used", "s1")]) == 2
    assert float(dom.fields[("score", "a2")]) == pytest.approx(
        student_view(course, "s1")["assignments"][1]["score"])


def test_the_pages_show_points_as_the_exports_do_and_say_what_the_mean_is_of(course, tmp_path):
    """The TA's trial: a page showed 3 decimals where the gradebook export shows 2 (one
    standing, two numbers), and its mean left out the missing work the export counts as 0
    without saying so. Points are the exports' text now (``points_text``), and the mean and
    median say how many graded standings they are of."""
    from nlpdojo_autograder.course.exports import csv_rows
    from nlpdojo_autograder.course.overrides import add_override
    from nlpdojo_autograder.course.policy import gradebook

    add_override(course, "s2", "a1", points=20 / 3, reason="partial credit", by="ta1")
    out = tmp_path / "pages"
    result = CliRunner().invoke(build_app(), ["course", "dashboard", "-o", str(out),
                                              "--course", str(course.path)])
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    assert 'data-field="score">6.67</span>' in page and "6.667" not in page
    header, *rows = csv_rows(gradebook(course))
    bob = next(r for r in rows if r[0] == "s2")
    assert bob[header.index("a1")] == "6.67"
    view = course_view(course)
    a1 = view["assignments"][0]
    assert (a1["graded"], a1["missing"]) == (4, 1)
    assert a1["mean"] == pytest.approx((20 + 20 / 3 + 15 + 20) / 4)
    assert f'data-field="mean">{a1["mean"]:.2f}</b>mean of 4 graded' in page
    assert 'data-field="median">' in page and "median of 4 graded" in page


def test_each_name_opens_its_own_page_when_a_student_has_withdrawn(course, tmp_path):
    """The TA's trial: with a student withdrawn, every link of the index after them opened the
    next student's page (the index numbered the enrolled, the pages every student). A page an
    earlier run wrote for a number no longer used is removed, not left holding someone's
    grades."""
    import re

    from nlpdojo_autograder.course.roster import withdraw

    def links(out):
        index = (out / "index.html").read_text()
        return {name: (out / href).read_text() for href, name in
                re.findall(r'<a href="(students/\d+\.html)">([^<]+)</a>', index)}

    out = tmp_path / "pages"
    args = ["course", "dashboard", "-o", str(out), "--course", str(course.path)]
    assert CliRunner().invoke(build_app(), args).exit_code == 0
    assert len(list((out / "students").iterdir())) == 5
    withdraw(course, "s2", "dropped")
    assert CliRunner().invoke(build_app(), args).exit_code == 0
    pages = links(out)
    assert len(pages) == 4
    for name, page in pages.items():
        assert f"<title>{name}" in page or name in page.split("</h1>")[0], name
    assert "Bob Ross" not in "".join(pages.values())
    assert len(list((out / "students").iterdir())) == 4
