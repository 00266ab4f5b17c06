"""``dojo course regrade ASSIGNMENT`` (issue 63, item 6): the counted attempts graded again from
the sources the record keeps, on the seed each was graded on; per student the points before
and after, the checks whose verdict changed and the new message; nothing written until
``--apply``, which keeps the result before. The grader is a stand-in here (its cohort grading
has tests of its own); tests/course/test_end_to_end.py regrades a course for real after
a check is fixed."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.course import attempts as attempts_module
from nlpdojo_autograder.course import regrade as regrade_module
from nlpdojo_autograder.course.attempts import attempts, record_attempt
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.policy import gradebook
from nlpdojo_autograder.course.regrade import apply, regrade
from nlpdojo_autograder.course.roster import import_roster
from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult, GradingResult
from tests.course.helpers import TABLE, make_course, synthetic_result

ROSTER = ("id,name,email,section\ns1,Ada Lovelace,ada@x.edu,A\ns2,Bob Ross,bob@x.edu,A\n"
          "s3,Cy Young,cy@x.edu,B\ns4,Dee Dee,dee@x.edu,B\n")
ON_TIME = datetime(2027, 1, 20, 12, tzinfo=UTC)


def _submission(root: Path, name: str, body: str) -> Path:
    folder = root / name / "t"
    folder.mkdir(parents=True)
    (folder / "q.py").write_text(body)
    return root / name


@pytest.fixture
def recorded(tmp_path):
    course = make_course(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER)
    import_roster(course, tmp_path / "roster.csv")
    subs = tmp_path / "subs"
    # Ada: two attempts, the later (on time) counts; Bob: one; Cy: no sources kept; Dee: none
    record_attempt(course, "s1", "a1", synthetic_result({"q1": (4, 4), "q2": (0, 6)}, seed=11),
                   submitted_at=datetime(2027, 1, 19, tzinfo=UTC), submitted_from="given",
                   folder=_submission(subs, "ada-1", "first = 1\n"))
    record_attempt(course, "s1", "a1", synthetic_result({"q1": (4, 4), "q2": (3, 6)}, seed=11),
                   submitted_at=ON_TIME, submitted_from="given",
                   folder=_submission(subs, "ada-2", "second = 2\n"))
    record_attempt(course, "s2", "a1", synthetic_result({"q1": (4, 4), "q2": (6, 6)}, seed=22),
                   submitted_at=ON_TIME, submitted_from="given",
                   folder=_submission(subs, "bob", "bob = 3\n"))
    record_attempt(course, "s3", "a1", synthetic_result({"q1": (2, 4), "q2": (6, 6)},
                                                         sha="c" * 64),
                   submitted_at=ON_TIME, submitted_from="gradescope")
    shutil.rmtree(subs)  # graded again from the record's sources alone
    yield course
    course.close()


class FakeGrader:
    """Grades a cohort as the fixed grader would: q2 of Ada's second attempt now earns 6 with
    a new message; everything else as recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], int | None, int, dict[str, str]]] = []

    def __call__(self, cohort, targets, output, jobs, seed, backend):
        sources = {p.name: (p / "t" / "q.py").read_text() for p in cohort.iterdir()}
        self.calls.append((targets, seed, jobs, sources))
        found = {}
        for name, text in sources.items():
            if text == "second = 2\n":
                found[name] = _result({"q1": (4, 4, ""), "q2": (6, 6, "")}, seed)
            elif text == "bob = 3\n":
                found[name] = _result({"q1": (4, 4, ""), "q2": (2, 6, "now off by 2")}, seed)
        return found


def _result(points, seed):
    checks = [CheckResult(id=f"{q}.values", question=q, kind="value", score=s, max_score=m,
                          status="passed" if s == m else "failed", message=msg)
              for q, (s, m, msg) in points.items()]
    return GradingResult(exercises=[ExerciseResult("t", "T", checks)], backend="numpy",
                         device="cpu", submission="x", seeds={}, versions={"nlpdojo": "new"},
                         options={"input_seed": seed}, submission_sha256="f" * 64)


def test_regrade_compares_the_counted_attempts_and_writes_nothing(recorded):
    grader = FakeGrader()
    found = regrade(recorded, "a1", jobs=3, grade=grader)
    # one cohort per input seed, on the assignment's questions, from the kept sources
    assert sorted((c[1], sorted(c[3].values())) for c in grader.calls) == [
        (11, ["second = 2\n"]), (22, ["bob = 3\n"])]
    assert all(c[0] == ["t.q1", "t.q2"] and c[2] == 3 for c in grader.calls)
    data = found.comparison
    assert (data["count"], data["changed"], data["gained"], data["lost"]) == (2, 2, 1, 1)
    rows = {r["name"]: r for r in data["submissions"]}
    ada = rows["Ada Lovelace (s1)"]
    assert (ada["before"]["score"], ada["after"]["score"], ada["delta"]) == (7, 10, 3)
    (bob_check,) = rows["Bob Ross (s2)"]["checks"]
    assert bob_check["message"] == "now off by 2" and bob_check["status_after"] == "failed"
    assert data["not_regraded"] == [{"name": "Cy Young (s3)", "attempt": 1,
                                     "why": data["not_regraded"][0]["why"]}]
    assert "no sources kept" in data["not_regraded"][0]["why"]
    assert [a.score for a in attempts(recorded, "s1", "a1")] == [4, 7]  # nothing written
    assert recorded.conn.execute("SELECT COUNT(*) FROM regrades").fetchone()[0] == 0


def test_apply_replaces_the_changed_attempts_and_keeps_the_old_results(recorded):
    found = regrade(recorded, "a1", grade=FakeGrader())
    done = apply(recorded, found)
    assert sorted(r.student.id for r in done) == ["s1", "s2"]
    assert [a.score for a in attempts(recorded, "s1", "a1")] == [4, 10]
    assert attempts(recorded, "s2", "a1")[0].questions["t.q2"] == (2, 6)
    kept = recorded.conn.execute("SELECT score FROM regrades ORDER BY id").fetchall()
    assert sorted(r[0] for r in kept) == [7, 10]
    again = regrade(recorded, "a1", grade=FakeGrader())
    assert again.comparison["changed"] == 0 and apply(recorded, again) == []


def test_under_best_every_attempt_is_regraded_and_every_standing_it_moves_is_said(tmp_path):
    """a1 counts the best attempt. Ada's exploit (attempt 1, on time, full marks) is regraded
    to 0: her other attempts are regraded too (regrading the counted one alone left an
    unregraded copy of the exploit to count), the choice moves to her honest late attempt,
    which spends 2 bank days, and her a2, which had them, loses 10 %: the regrade says both,
    a2 included, before anything is written."""
    table = {**TABLE, "assignments": [{**TABLE["assignments"][0], "counts": "best"},
                                      TABLE["assignments"][1]]}
    course = make_course(tmp_path, table)
    (tmp_path / "roster.csv").write_text(ROSTER)
    import_roster(course, tmp_path / "roster.csv")
    subs = tmp_path / "subs"
    late = datetime(2027, 1, 22, 12, tzinfo=UTC)  # a1 due 2027-01-20 23:59 -08:00: 2 days
    for n, (when, body, points) in enumerate([
            (ON_TIME, "exploit\n", {"q1": (4, 4), "q2": (6, 6)}),
            (ON_TIME.replace(hour=13), "exploit\n", {"q1": (4, 4), "q2": (6, 6)}),
            (late, "honest\n", {"q1": (4, 4), "q2": (4, 6)})]):
        record_attempt(course, "s1", "a1", synthetic_result(points, sha=str(n) * 64, seed=5),
                       submitted_at=when, submitted_from="given",
                       folder=_submission(subs, f"ada-{n}", body))
    record_attempt(course, "s1", "a2", synthetic_result({"q3": (5, 5)}, topic="t", sha="9" * 64),
                   submitted_at=datetime(2027, 2, 5, 12, tzinfo=UTC), submitted_from="given")

    def grader(cohort, targets, output, jobs, seed, backend):
        scored = {"exploit\n": {"q1": (0, 4, "caught"), "q2": (0, 6, "caught")},
                  "honest\n": {"q1": (4, 4, ""), "q2": (4, 6, "")}}
        return {p.name: _result(scored[(p / "t" / "q.py").read_text()], seed)
                for p in cohort.iterdir()}

    before = {a: gradebook(course).standing("s1", a).score for a in ("a1", "a2")}
    assert before == {"a1": 20.0, "a2": 10.0}
    found = regrade(course, "a1", grade=grader)
    assert sorted(r.attempt.number for r in found.rows) == [1, 2, 3]
    changes = {c["assignment"]: c for c in found.comparison["standings"]}
    assert (changes["a1"]["before"], changes["a1"]["after"]) == (20.0, 16.0)
    assert (changes["a1"]["attempt_before"], changes["a1"]["attempt_after"]) == (1, 3)
    assert (changes["a2"]["before"], changes["a2"]["after"]) == (10.0, 9.0)
    assert {a: gradebook(course).standing("s1", a).score for a in ("a1", "a2")} == before
    apply(course, found)
    assert {a: gradebook(course).standing("s1", a).score for a in ("a1", "a2")} == {
        "a1": 16.0, "a2": 9.0}
    course.close()


def test_a_failed_grading_is_listed_and_never_applied(recorded):
    found = regrade(recorded, "a1", grade=lambda *a: {})
    assert found.comparison["changed"] == 0
    assert {r["name"] for r in found.comparison["not_regraded"]} == {
        "Ada Lovelace (s1)", "Bob Ross (s2)", "Cy Young (s3)"}
    assert apply(recorded, found) == []


def test_nothing_to_regrade_says_what_to_do(tmp_path):
    with make_course(tmp_path) as course:
        with pytest.raises(CourseError, match="no counted attempt"):
            regrade(course, "a2", grade=FakeGrader())
        with pytest.raises(CourseError, match="no assignment 'a9'"):
            regrade(course, "a9", grade=FakeGrader())


def test_the_command_prints_and_applies_only_when_asked(recorded, monkeypatch):
    monkeypatch.setattr(regrade_module, "grade_cohort", FakeGrader())
    path = str(recorded.path)
    runner = CliRunner()
    result = runner.invoke(build_app(), ["course", "regrade", "a1", "--course", path])
    assert result.exit_code == 0, result.output
    assert "2 of 2 changed: 1 gained, 1 lost" in result.stdout
    # the message column wraps (rich folds it at the width the table gets: 100 columns on an
    # 80-column terminal), so read the cells' words with the borders and line breaks taken out
    words = " ".join(result.stdout.replace("│", " ").split())
    assert "now off by 2" in words and "+3" in words
    assert "run again with --apply" in result.stderr
    assert "would change: Ada Lovelace (s1) a1: 14 -> 20" in result.stdout
    assert "Cy Young (s3), attempt 1: not regraded" in result.stderr
    assert [a.score for a in attempts(recorded, "s1", "a1")] == [4, 7]
    result = runner.invoke(build_app(), ["course", "regrade", "a1", "--course", path,
                                         "--format", "json", "--apply"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changed"] == 2
    assert "applied: 2 attempt(s)" in result.stderr
    assert [a.score for a in attempts(recorded, "s1", "a1")] == [4, 10]


def test_the_regrades_grading_runs_without_the_course_and_quietly(tmp_path, monkeypatch):
    """The TA's trial: with ``export NLPDOJO_COURSE=nlp101.course`` (as docs/course.md
    suggests) every regrade stopped ("no course file at nlp101.course": the cohort's grading
    read the relative path in its own folder, and with an absolute one took the regrade's
    attempt-1... folders for students); its tables filled the output. The variable is read
    as an absolute path, and the regrade's grading gets no course and is quiet."""
    from nlpdojo_autograder.course.store import COURSE_ENV, course_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(COURSE_ENV, "nlp101.course")
    assert course_path(None) == tmp_path / "nlp101.course"
    seen = {}

    def run(command, **kwargs):
        seen.update(command=command, env=kwargs["env"])
        raise SystemExit  # enough: what it was given is what is checked

    monkeypatch.setattr(regrade_module.subprocess, "run", run)
    with pytest.raises(SystemExit):
        regrade_module.grade_cohort(tmp_path / "cohort", ["t"], tmp_path / "out", 1, 7, None)
    assert COURSE_ENV not in seen["env"] and "--quiet" in seen["command"]


def test_one_students_regrade_grades_and_applies_theirs_alone(recorded, monkeypatch):
    """A regrade request: `--student` (an id, login or email, repeatable) grades and applies
    the named students' attempts only; Ada's change is neither graded nor written when Bob
    asks. A named student without an attempt at the assignment (Dee) is refused before any
    grading, as is one the course does not know."""
    grader = FakeGrader()
    found = regrade(recorded, "a1", grade=grader, students=["bob@x.edu"])
    assert [sorted(c[3].values()) for c in grader.calls] == [["bob = 3\n"]]
    assert [r.student.id for r in found.rows] == ["s2"]
    assert [r["student"] for r in found.comparison["standings"]] == ["s2"]
    assert [r.student.id for r in apply(recorded, found)] == ["s2"]
    assert [a.score for a in attempts(recorded, "s1", "a1")] == [4, 7]  # Ada's: untouched
    assert attempts(recorded, "s2", "a1")[0].questions["t.q2"] == (2, 6)

    with pytest.raises(CourseError, match=r"no attempt at a1 to regrade for 's4'"):
        regrade(recorded, "a1", grade=grader, students=["s1", "s4"])
    with pytest.raises(CourseError, match="no student 'nobody'"):
        regrade(recorded, "a1", grade=grader, students=["nobody"])
    assert len(grader.calls) == 1  # neither refusal graded anything

    monkeypatch.setattr(regrade_module, "grade_cohort", FakeGrader())
    result = CliRunner().invoke(build_app(), ["course", "regrade", "a1", "--student", "s1",
                                              "-s", "s3", "--course", str(recorded.path)])
    assert result.exit_code == 0, result.output
    assert "1 of 1 changed: 1 gained" in result.stdout
    assert "Cy Young (s3), attempt 1: not regraded" in result.stderr
    assert "Bob" not in result.stdout


def test_an_attempt_whose_sources_cannot_be_written_back_stops_no_other(tmp_path, monkeypatch):
    """A submission with a folder name longer than a file system allows once written back (an
    adversarial trial: a relative path of 4,096 characters) stopped the regrade of the whole
    assignment, and next year's similarity report: now that attempt alone is not regraded,
    saying why, and the others are."""
    course = make_course(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER)
    import_roster(course, tmp_path / "roster.csv")
    subs = tmp_path / "subs"
    for student, name, body in (("s1", "ada", "second = 2\n"), ("s2", "bob", "bob = 3\n")):
        record_attempt(course, student, "a1",
                       synthetic_result({"q1": (4, 4), "q2": (3, 6)}, seed=22),
                       submitted_at=ON_TIME, submitted_from="given",
                       folder=_submission(subs, name, body))
    (ada,) = attempts(course, "s1", "a1")
    written_back = attempts_module.restore_sources

    def restore(course, tree, dest):  # Ada's holds a name this system refuses
        if dest.name == f"attempt-{ada.id}":
            (dest / "t").mkdir(parents=True)  # (half written: removed again)
            raise OSError(36, "File name too long")
        return written_back(course, tree, dest)

    monkeypatch.setattr(attempts_module, "restore_sources", restore)
    found = regrade(course, "a1", grade=FakeGrader())
    assert {r["name"] for r in found.comparison["submissions"]} == {"Bob Ross (s2)"}
    (skipped,) = found.comparison["not_regraded"]
    assert skipped["name"] == "Ada Lovelace (s1)"
    assert "could not be written back here (File name too long" in skipped["why"]
    course.close()
