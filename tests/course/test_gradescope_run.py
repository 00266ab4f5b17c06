"""The Gradescope autograder reads ``submission_metadata.json`` (issue 63, item 4): late days
from ``created_at`` against ``assignment.due_date``, and an optional limit of graded runs per
day over ``previous_submissions`` (runs the autograder failed on do not count; past the limit
hidden and training checks are withheld and the result says when the next graded run is).

The run itself is tried on a folder laid out like ``/autograder`` with the zip's real
``run_autograder`` and a stand-in for ``grade`` that records what it was asked (cheap: no
wheels, no sandbox); tests/grading/test_gradescope_zip.py grades for real in the sandbox."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nlpdojo_autograder.release.gradescope_run import (
    POLICY_NAME,
    RunPolicy,
    late_days,
    parse_time,
    plan_run,
)
from nlpdojo_autograder.release.gradescope_zip import (
    RUN_AUTOGRADER,
    GradescopeError,
    public_targets,
    run_policy,
)

DUE = "2027-01-20T23:59:00.000000-08:00"
POLICY = RunPolicy(runs_per_day=2, timezone="America/Los_Angeles", grace_minutes=15,
                   public_targets=("word_vectors.softmax",))


def _meta(created: str, previous: list[dict] | None = None, late_due: str | None = None) -> dict:
    return {"id": 7, "created_at": created,
            "assignment": {"due_date": DUE, "late_due_date": late_due, "title": "A1",
                           "id": 25828, "total_points": "20.0"},
            "users": [{"email": "ada@example.edu", "id": 1234, "name": "Ada L"}],
            "previous_submissions": previous or []}


def _previous(when: str, score: float, *, error: bool = False, counted: bool | None = None):
    results: dict = {"score": score, "tests": []}
    if counted is not None:
        results["extra_data"] = {"nlpdojo": {"counted": counted}}
    return {"submission_time": when, "score": score, "results": results,
            "autograder_error": error}


def test_late_days_round_up_after_the_grace():
    due = parse_time(DUE)
    assert late_days(parse_time("2027-01-21T00:10:00-08:00"), due, 15) == 0
    assert late_days(parse_time("2027-01-21T00:20:00-08:00"), due, 15) == 1
    assert late_days(parse_time("2027-01-22T23:59:00-08:00"), due, 0) == 2
    assert late_days(parse_time("2027-01-22T23:59:01-08:00"), due, 0) == 3
    # the grace forgives, it does not move the due date (the course record's rule)
    assert late_days(parse_time("2027-01-22T00:09:00-08:00"), due, 15) == 2
    assert parse_time("2027-01-20T23:59:00") is None  # no offset: not guessed


def test_the_output_says_the_late_days_used():
    plan = plan_run(_meta("2027-01-22T10:00:00-08:00"), POLICY)
    assert plan.graded
    assert plan.data["late"]["late_days"] == 2
    assert "1 day 10 h 1 min after the due date" in plan.lines[0]
    assert "2 late days used on this assignment" in plan.lines[0]
    assert "(days rounded up; 15 min of grace)" in plan.lines[0]
    on_time = plan_run(_meta("2027-01-20T09:00:00-08:00"), POLICY)
    assert "on time" in on_time.lines[0] and on_time.data["late"]["late_days"] == 0
    past = plan_run(_meta("2027-01-24T10:00:00-08:00", late_due="2027-01-23T23:59:00-08:00"),
                    POLICY)
    assert any("after the late due date" in line for line in past.lines)


def test_the_daily_limit_counts_graded_runs_of_the_day_only():
    previous = [
        _previous("2027-01-18T23:30:00-08:00", 5.0),                  # the day before
        _previous("2027-01-19T08:00:00-08:00", 9.0, error=True),      # autograder failed
        _previous("2027-01-19T09:00:00-08:00", 11.0),
        _previous("2027-01-19T10:00:00-08:00", 0.0, counted=False),   # could not grade
    ]
    plan = plan_run(_meta("2027-01-19T12:00:00-08:00", previous), POLICY)
    assert plan.graded and plan.data["counted"] is True
    assert plan.data["limit"]["used_today"] == 1
    assert "Graded run 2 of 2 today" in plan.lines[-1]


def test_past_the_limit_hidden_and_training_checks_are_withheld():
    previous = [_previous("2027-01-19T09:00:00-08:00", 11.0),
                _previous("2027-01-19T10:00:00-08:00", 13.5)]
    plan = plan_run(_meta("2027-01-19T22:30:00-08:00", previous), POLICY)
    assert not plan.graded and plan.data["counted"] is False
    assert plan.kept_score == 13.5
    assert plan.data["next_graded_run"] == "2027-01-20T08:00:00+00:00"  # midnight in LA
    line = plan.lines[-1]
    assert "hidden and training checks were withheld" in line
    assert "next graded run is available from 2027-01-20 00:00 PST (in 1 h 30 min)" in line
    assert "score stays 13.5" in line


def test_without_metadata_or_a_limit_the_run_is_graded():
    assert plan_run(None, POLICY).graded
    previous = [_previous("2027-01-19T09:00:00-08:00", 11.0)] * 5
    assert plan_run(_meta("2027-01-19T10:00:00-08:00", previous), RunPolicy()).graded


def test_the_zip_policy_is_checked_and_lists_the_public_questions():
    policy = run_policy(["word_vectors"], 3, "Europe/Paris", 10)
    assert "word_vectors.softmax" in policy.public_targets
    from nlpdojo_autograder.grading.grade import get_exercise

    trains = {c.question for c in get_exercise("word_vectors").checks if c.kind == "metric"}
    assert trains and not {f"word_vectors.{q}" for q in trains} & set(policy.public_targets)
    assert public_targets(["softmax"]) == ["word_vectors.softmax"]
    with pytest.raises(GradescopeError, match="not a time zone"):
        run_policy(["word_vectors"], 3, "Mars/Olympus", 0)
    with pytest.raises(GradescopeError, match="give 1 or more"):
        run_policy(["word_vectors"], 0, "UTC", 0)


# -- run_autograder itself, on a folder laid out like /autograder ---------------------------

FAKE_GRADE = """#!{python}
import json, sys
args = sys.argv[1:]
out = args[args.index("--output") + 1]
with open(out.rsplit("/", 1)[0] + "/args.json", "w") as f:
    json.dump(args, f)
withheld = "--as-student" in args
tests = [{{"score": 2.0, "max_score": 2.0, "name": "softmax.values", "output": "passed",
          "visibility": "visible"}}]
if not withheld:
    tests.append({{"score": 1.0, "max_score": 3.0, "name": "softmax.hidden", "output": "failed",
                  "visibility": "after_published"}})
json.dump({{"score": sum(t["score"] for t in tests), "execution_time": 1.0,
           "output": "nlpdojo: graded", "output_format": "text", "visibility": "visible",
           "stdout_visibility": "hidden", "tests": tests}}, open(out, "w"))
sys.exit({code})
"""


def _autograder(tmp_path: Path, policy: RunPolicy, code: int = 1) -> Path:
    root = tmp_path / "autograder"
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    script = root / "run_autograder"
    script.write_text(RUN_AUTOGRADER.format(targets="word_vectors", policy=POLICY_NAME))
    grade = root / "fake-grade"
    grade.write_text(FAKE_GRADE.format(python=sys.executable, code=code))
    for exe in (script, grade):
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    (root / "source" / POLICY_NAME).write_text(json.dumps(policy.to_dict()))
    return root


def _run(root: Path, meta: dict | None) -> tuple[dict, list[str]]:
    if meta is not None:
        (root / "submission_metadata.json").write_text(json.dumps(meta))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NLPDOJO_")}
    env |= {"NLPDOJO_AUTOGRADER_ROOT": str(root), "NLPDOJO_GRADE": str(root / "fake-grade"),
            "NLPDOJO_GRADER_PYTHON": sys.executable}
    proc = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    args_file = root / "results" / "args.json"
    args = json.loads(args_file.read_text()) if args_file.exists() else []
    return results, args


def test_run_autograder_reads_the_metadata(tmp_path):
    root = _autograder(tmp_path, POLICY)
    results, args = _run(root, _meta("2027-01-21T09:00:00-08:00",
                                     [_previous("2027-01-21T08:00:00-08:00", 4.0)]))
    assert args[0] == "word_vectors" and "--as-student" not in args
    assert "--require-sandbox" in args
    assert results["score"] == 3.0 and len(results["tests"]) == 2
    assert results["output"].startswith("Submitted 2027-01-21 09:00 PST, 9 h 1 min after")
    assert "1 late day used" in results["output"] and "nlpdojo: graded" in results["output"]
    assert results["extra_data"]["nlpdojo"]["counted"] is True
    assert results["extra_data"]["nlpdojo"]["late"]["late_days"] == 1
    assert "ada@example.edu" not in json.dumps(results)  # users[] is not copied
    assert "Ada L" not in json.dumps(results)

    # the third run of the day: the previous run's own result says it counted
    previous = [_previous("2027-01-21T08:00:00-08:00", 4.0),
                {"submission_time": "2027-01-21T09:00:00-08:00", "score": 3.0,
                 "results": results, "autograder_error": False}]
    results, args = _run(root, _meta("2027-01-21T11:00:00-08:00", previous))
    assert args[:2] == ["word_vectors.softmax", "--as-student"]
    assert [t["name"] for t in results["tests"]] == ["softmax.values"]
    assert results["score"] == 3.0  # the last graded run's, not this run's 2
    assert results["extra_data"]["nlpdojo"]["counted"] is False
    assert "next graded run is available from 2027-01-22 00:00 PST" in results["output"]

    # the limit's run did not count: the next day starts afresh
    previous.append({"submission_time": "2027-01-21T11:00:00-08:00", "score": 3.0,
                     "results": results, "autograder_error": False})
    results, args = _run(root, _meta("2027-01-22T00:05:00-08:00", previous))
    assert "--as-student" not in args and results["extra_data"]["nlpdojo"]["counted"]


def test_a_run_grade_could_not_grade_does_not_count(tmp_path):
    root = _autograder(tmp_path, POLICY, code=2)
    results, _ = _run(root, _meta("2027-01-19T09:00:00-08:00"))
    assert results["extra_data"]["nlpdojo"]["counted"] is False


def test_without_metadata_the_run_is_graded_in_full(tmp_path):
    root = _autograder(tmp_path, POLICY)
    results, args = _run(root, None)
    assert "--as-student" not in args and results["score"] == 3.0
    assert results["extra_data"]["nlpdojo"] == {"counted": True}
    (root / "submission_metadata.json").write_text("{not json")
    results, _ = _run(root, None)
    assert "could not be read" in results["output"] and results["score"] == 3.0


def test_where_nothing_runs_the_fallback_result_does_not_count(tmp_path):
    root = _autograder(tmp_path, POLICY)
    (root / "fake-grade").write_text("#!/bin/sh\necho 'error: no sandbox here' >&2\nexit 2\n")
    results, _ = _run(root, _meta("2027-01-19T09:00:00-08:00"))
    assert "could not grade this submission" in results["output"]
    assert results["extra_data"]["nlpdojo"]["counted"] is False
