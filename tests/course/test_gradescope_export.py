"""Gradescope's "Export Submissions" archive into the course record (issue 63, item 3): a folder
per active submission and ``submission_metadata.yml`` as Gradescope's Ruby writes it (symbol
keys, Ruby times, a BigDecimal), every counted run an attempt of each submitter, matched by
email then SID; nothing recorded twice; bad input says what to give."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from nlpdojo_autograder.course.attempts import attempts, restore_sources
from nlpdojo_autograder.course.config import CourseError
from nlpdojo_autograder.course.gradescope_export import (
    Submitter,
    import_export,
    match_submitter,
    read_export,
)
from nlpdojo_autograder.course.roster import import_roster

pytest.importorskip("yaml")

ROSTER = "id,name,email,section\ns1,Ada Lovelace,ada@example.edu,A\ns2,Bob Ross,bob@x.edu,A\n" \
         "s3,Cy Young,cy@x.edu,B\ns4,Dee Dee,dee@x.edu,B\n"


def _results(q1: float, q2: float, *, counted: bool | None = None) -> str:
    tests = [{"score": q1, "max_score": 4.0, "name": "q1.values: q1", "output": "passed",
              "visibility": "visible",
              "extra_data": {"id": "q1.values", "exercise": "t", "question": "q1",
                             "kind": "value", "status": "passed" if q1 == 4 else "failed"}},
             {"score": q2, "max_score": 6.0, "name": "q2.values", "output": "failed: off by 2",
              "visibility": "visible",
              "extra_data": {"id": "q2.values", "exercise": "t", "question": "q2",
                             "kind": "value", "status": "passed" if q2 == 6 else "failed"}}]
    doc = {"score": q1 + q2, "tests": tests}
    if counted is not None:
        doc["extra_data"] = {"nlpdojo": {"counted": counted}}
    return json.dumps(doc)


METADATA = f"""---
submission_900001:
  :submitters:
  - :name: Ada Lovelace
    :sid: '111'
    :email: ADA@example.edu
  :created_at: 2027-01-20 22:00:00.123456789 -08:00
  :score: !ruby/object:BigDecimal 18:0.1e2
  :results: {_results(4.0, 6.0)}
  :history:
  - :id: 800001
    :created_at: 2027-01-19 10:00:00.000000000 -08:00
    :score: 4.0
    :results: {_results(4.0, 0.0)}
  - :id: 800002
    :created_at: 2027-01-19 11:00:00.000000000 -08:00
    :score: 4.0
    :results: {_results(2.0, 0.0, counted=False)}
submission_900002:
  :submitters:
  - :name: Bob Ross
    :sid: s2
    :email: bob.other@elsewhere.edu
  - :name: Stranger
    :sid: '999'
    :email: who@nowhere.edu
  :created_at: '2027-01-22 09:00:00 -0800'
  :score: 7.0
  :results: {_results(4.0, 3.0)}
  :history: []
"""


def _export(root: Path) -> Path:
    root.mkdir()
    (root / "submission_metadata.yml").write_text(METADATA)
    ada = root / "submission_900001" / "t"
    ada.mkdir(parents=True)
    (ada / "q1.py").write_text("def q1():\n    return 1\n")
    (root / "submission_900001" / "notes.txt").write_text("not a source")
    bob = root / "submission_900002"
    bob.mkdir()
    (bob / "q2.py").write_text("def q2():\n    return 2\n")
    return root


@pytest.fixture
def roster_course(course, tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER)
    import_roster(course, tmp_path / "roster.csv")
    return course


def test_every_counted_run_becomes_an_attempt(roster_course, tmp_path):
    course = roster_course
    done = import_export(course, "a1", _export(tmp_path / "export"))
    assert (done.recorded, done.already, done.not_counted, done.students) == (3, 0, 1, 2)
    assert [(s.name, s.sid) for s in done.unmatched] == [("Stranger", "999")]
    assert [s.id for s in done.missing] == ["s3", "s4"]
    ada = attempts(course, "s1", "a1")
    assert [a.number for a in ada] == [1, 2]
    assert [a.score for a in ada] == [4.0, 10.0] and ada[1].max_score == 10.0
    # 22:00:00.123456789 -08:00, its fraction of a second counted as a whole one
    assert ada[1].submitted_at.isoformat() == "2027-01-21T06:00:01+00:00"
    assert {a.submitted_from for a in ada} == {"gradescope"}
    assert ada[0].content_sha256.startswith("gradescope:") and not ada[0].sources_tree
    assert ada[1].questions == {"t.q1": (4.0, 4.0), "t.q2": (6.0, 6.0)}
    # the active submission's sources are kept: it can be graded again
    files = restore_sources(course, ada[1].sources_tree, tmp_path / "restored")
    assert files == ["notes.txt", "t/q1.py"]  # a text file, which a grading may read
    (bob,) = attempts(course, "s2", "a1")  # matched by SID where the email differs
    assert bob.score == 7.0 and bob.submitted_at.isoformat() == "2027-01-22T17:00:00+00:00"
    result = bob.result(course)
    assert [c.id for _, c in result.checks()] == ["q1.values", "q2.values"]
    assert result.checks()[1][1].message == "failed: off by 2"
    assert any("Stranger" in line for line in done.report())


def _refuse_sources_of(monkeypatch, folder: str) -> None:
    """The course's store refuses the sources of the submission ``folder`` (a disk error)."""
    from nlpdojo_autograder.course import attempts as attempts_module

    kept = attempts_module.store_sources

    def store(course, where, library=None):
        if where.name == folder:
            raise CourseError(f"the store refused {folder}'s sources")
        return kept(course, where, library)

    monkeypatch.setattr(attempts_module, "store_sources", store)


def test_one_students_run_that_cannot_be_kept_stops_no_other(roster_course, tmp_path,
                                                              monkeypatch):
    """Bob's active submission's sources cannot be kept (here: the course's store refuses
    them): his run is not recorded and said, Ada's are (it stopped the import for everyone, on
    every run of it)."""
    _refuse_sources_of(monkeypatch, "submission_900002")
    export = _export(tmp_path / "export")
    done = import_export(roster_course, "a1", export)
    assert done.recorded == 2 and [a.number for a in attempts(roster_course, "s1", "a1")] == [
        1, 2]
    assert attempts(roster_course, "s2", "a1") == []
    (refused,) = done.refused
    assert refused.startswith("s2's run of 2027-01-22T09:00:00-08:00: ")
    assert "the store refused submission_900002's sources" in refused
    assert any(line.startswith("1 run(s) could not be recorded (the others are): s2's run")
               for line in done.report())


def test_an_sid_is_a_match_only_where_the_names_agree(roster_course):
    """Matched by SID alone (the email differs), a submitter is the roster's student only if
    the names are one person's: an SID that happens to be another student's id was recorded
    as that student."""
    students = roster_course.students()
    bob = Submitter(name="Ross, Bob", sid="s2", email="bob@elsewhere.edu")
    assert match_submitter(students, bob).id == "s2"
    assert match_submitter(students, Submitter(name="", sid="S2", email="")).id == "s2"
    assert match_submitter(students, Submitter(name="Mallory Doe", sid="s2",
                                               email="m@x.edu")) is None


def test_importing_again_or_a_later_export_records_nothing_twice(roster_course, tmp_path):
    course = roster_course
    export = _export(tmp_path / "export")
    import_export(course, "a1", export)
    again = import_export(course, "a1", export)
    assert (again.recorded, again.already) == (0, 3)
    # a later export: Ada's active submission became history, and she submitted once more
    text = (export / "submission_metadata.yml").read_text()
    text = text.replace("  :history:\n  - :id: 800001", "  :history:\n"
                        "  - :id: 900001\n    :created_at: 2027-01-20 22:00:00.123456 -08:00\n"
                        "    :score: 10.0\n  - :id: 800001", 1)
    text = text.replace("2027-01-20 22:00:00.123456789 -08:00",
                        "2027-01-23 08:00:00.000000000 -08:00", 1)
    (export / "submission_metadata.yml").write_text(text)
    later = import_export(course, "a1", export)
    assert later.recorded == 1
    assert [a.number for a in attempts(course, "s1", "a1")] == [1, 2, 3]


def test_a_zip_as_gradescope_gives_it(roster_course, tmp_path):
    export = _export(tmp_path / "assignment_25828_export")
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(export.rglob("*")):
            zf.write(path, path.relative_to(tmp_path).as_posix())
    done = import_export(roster_course, "a1", archive)
    assert done.recorded == 3


def test_bad_exports_say_what_to_give(roster_course, tmp_path):
    with pytest.raises(CourseError, match="holds no submission_metadata.yml"):
        import_export(roster_course, "a1", tmp_path)
    with pytest.raises(CourseError, match="does not exist"):
        import_export(roster_course, "a1", tmp_path / "nope")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "submission_metadata.yml").write_text("submission_1:\n  :submitters: []\n")
    with pytest.raises(CourseError, match="names no :submitters:"):
        read_export(bad)
    (bad / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: A\n  :created_at: 2027-01-20 10:00:00\n")
    with pytest.raises(CourseError, match="has no time zone"):
        read_export(bad)
    (bad / "submission_metadata.yml").write_text("a: [unclosed\n")
    with pytest.raises(CourseError, match="not readable YAML"):
        read_export(bad)
    (bad / "submission_metadata.yml").write_text("!!python/object:os.system {}\n")
    with pytest.raises(CourseError, match="not readable YAML"):
        read_export(bad)  # the safe loader makes no object
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../outside.yml", "x")
    with pytest.raises(CourseError, match="leaves the archive's folder"):
        import_export(roster_course, "a1", evil)
    assert not (tmp_path.parent / "outside.yml").exists()
    with pytest.raises(CourseError, match="no assignment 'a9'"):
        import_export(roster_course, "a9", tmp_path)
    (tmp_path / "bad.zip").write_text("not a zip")  # (it said: holds no ...metadata.yml)
    with pytest.raises(CourseError, match="bad.zip is not a zip archive: give the zip"):
        import_export(roster_course, "a1", tmp_path / "bad.zip")
    with pytest.raises(CourseError, match="--points-possible 0: give the autograder's total"):
        import_export(roster_course, "a1", tmp_path, points_possible=0)


def _adas_run(root: Path, more: str = "") -> Path:
    """An export of one run of Ada's, scored 5, with ``more`` of its metadata's lines."""
    root.mkdir()
    (root / "submission_metadata.yml").write_text(f"""---
submission_1:
  :submitters:
  - :name: Ada Lovelace
    :sid: '111'
    :email: ada@example.edu
  :created_at: 2027-01-20 22:00:00.000000000 -08:00
  :score: 5.0
{more}  :history: []
""")
    (root / "submission_1").mkdir()
    return root


def test_a_run_with_a_score_and_no_tests_takes_the_total_given(roster_course, tmp_path):
    """An instructor's trial: where no run of the export lists tests, a run with a score was
    refused as having "no tests and no score". Said as it is, with the way out: the
    autograder's total given (--points-possible)."""
    export = _adas_run(tmp_path / "scores")
    done = import_export(roster_course, "a1", export)
    assert done.recorded == 0
    assert "has a score (5) but no tests, and no run of the export lists tests" in (
        done.refused[0]) and "--points-possible N" in done.refused[0]
    done = import_export(roster_course, "a1", export, points_possible=8)
    (ada,) = attempts(roster_course, "s1", "a1")
    assert (done.recorded, ada.score, ada.max_score) == (1, 5.0, 8.0)


def test_the_command_reports_what_it_recorded(roster_course, tmp_path):
    from typer.testing import CliRunner

    from nlpdojo.cli.app import build_app

    export = _export(tmp_path / "export")
    result = CliRunner().invoke(build_app(), ["course", "import-gradescope", "a1", str(export),
                                              "--course", str(roster_course.path)])
    assert result.exit_code == 0, result.output
    assert "a1: 3 attempt(s) recorded for 2 student(s)" in result.stdout
    assert "1 run(s) the autograder did not count" in result.stderr
    assert "Stranger <who@nowhere.edu> sid 999" in result.stderr
    assert ("2 student(s) have no run in the export: 2 missing a1 (no attempt, past the due "
            "date): Cy Young (s3), Dee Dee (s4)") in result.stderr


def _another_account_as_bob(export: Path, email: str) -> None:
    """A later submission of the account ``email``, enrolled with Bob's SID and name, 0 of 10."""
    metadata = export / "submission_metadata.yml"
    metadata.write_text(metadata.read_text() + f"""submission_900003:
  :submitters:
  - :name: Bob Ross
    :sid: s2
    :email: {email}
  :created_at: '2027-01-23 09:00:00 -0800'
  :score: 0.0
  :results: {_results(0.0, 0.0)}
  :history: []
""")
    (export / "submission_900003").mkdir()


def test_another_account_with_a_students_sid_and_name_is_not_that_student(roster_course,
                                                                           tmp_path):
    """A trial's finding (round 4, F5): an account of another email, enrolled with Bob's SID
    and name, was recorded as Bob, and under ``counts = "last"`` its 0 replaced his score.
    Where Bob's own email submitted, or several emails match him by SID, those runs are not
    recorded and said; his own are."""
    export = _export(tmp_path / "export")
    metadata = export / "submission_metadata.yml"
    metadata.write_text(metadata.read_text().replace(":email: bob.other@elsewhere.edu",
                                                     ":email: bob@x.edu"))  # his own
    _another_account_as_bob(export, "mallory.personal@gmail.com")
    done = import_export(roster_course, "a1", export)
    assert [a.score for a in attempts(roster_course, "s2", "a1")] == [7.0]
    (refused,) = done.refused
    assert "<mallory.personal@gmail.com> match s2 by SID only" in refused
    assert "whose own email submitted too" in refused


def test_two_other_accounts_with_one_sid_are_both_left_out(roster_course, tmp_path):
    export = _export(tmp_path / "export")
    _another_account_as_bob(export, "somebody@gmail.com")
    done = import_export(roster_course, "a1", export)
    assert attempts(roster_course, "s2", "a1") == []
    assert len(done.refused) == 2 and all("as 2 accounts are" in r for r in done.refused)


def test_another_autograders_runs_are_recorded_as_the_assignments_points(roster_course,
                                                                         tmp_path):
    """An instructor's trial: an export of another autograder (tests with no nlpdojo check
    in them) recorded nothing, each run refused as grading "gradescope, not all that
    assignment a1 asks", with advice about `grade`. Its run's points are the assignment's; a
    result file claiming to be another autograder's is still held to the assignment's
    questions by every other way in."""
    from datetime import UTC, datetime

    from nlpdojo_autograder.course.attempts import record_attempt
    from nlpdojo_autograder.course.gradescope_export import Run, result_of

    other = json.dumps({"tests": [{"name": "t1", "score": 2, "max_score": 4},
                                  {"name": "t2", "score": 3, "max_score": 3}]})
    export = _adas_run(tmp_path / "other", f"  :results: {other}\n")
    done = import_export(roster_course, "a1", export)
    assert (done.recorded, done.refused) == (1, [])
    (ada,) = attempts(roster_course, "s1", "a1")
    assert (ada.score, ada.max_score) == (5.0, 7.0)
    result = result_of(Run("x", datetime(2027, 1, 20, tzinfo=UTC), 5.0, json.loads(other),
                           None), (None, ""))
    with pytest.raises(CourseError, match="not all that assignment a1 asks"):
        record_attempt(roster_course, "s2", "a1", result, submitted_from="given",
                       submitted_at=datetime(2027, 1, 20, tzinfo=UTC))


def test_the_command_exits_1_when_a_run_was_not_recorded(roster_course, tmp_path,
                                                        monkeypatch):
    """The others are recorded, and a script hears that one was not."""
    from typer.testing import CliRunner

    from nlpdojo.cli.app import build_app

    _refuse_sources_of(monkeypatch, "submission_900002")
    export = _export(tmp_path / "export")
    result = CliRunner().invoke(build_app(), ["course", "import-gradescope", "a1", str(export),
                                              "--course", str(roster_course.path)])
    assert result.exit_code == 1, result.output
    assert "a1: 2 attempt(s) recorded" in result.stdout
    assert "1 run(s) could not be recorded (the others are)" in result.stderr


def test_runs_dated_later_than_now_are_said(roster_course, tmp_path, monkeypatch):
    """An instructor's trial: runs a month ahead were recorded in silence (a manifest's are
    said); they are recorded as the export says, and said."""
    from datetime import UTC, datetime

    from nlpdojo_autograder.course import policy

    monkeypatch.setattr(policy, "current_time", lambda: datetime(2027, 1, 20, tzinfo=UTC))
    done = import_export(roster_course, "a1", _export(tmp_path / "export"))
    assert done.recorded == 3 and [sid for sid, _ in done.ahead] == ["s1", "s2"]
    assert any(line.startswith("2 run(s) are dated later than now (s1: 2027-01-20T22:00")
               for line in done.report())
    monkeypatch.setattr(policy, "current_time", lambda: datetime(2027, 3, 1, tzinfo=UTC))
    later = import_export(roster_course, "a1", _export(tmp_path / "export2"))
    assert later.ahead == [] and later.recorded == 0  # all recorded before; none ahead now
