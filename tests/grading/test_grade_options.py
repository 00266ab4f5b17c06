"""``grade``'s options reconciled one concern at a time (nlpdojo_autograder.cli.grade_options);
the command's behaviour with them is tests/grading/test_grade_cli.py's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlpdojo_autograder.cli.grade_options import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_SCALE,
    GradeRequest,
    UsageError,
)


@pytest.mark.parametrize(("given", "message"), [
    (dict(solutions=True, as_student=True), "choose one"),
    (dict(solutions=True, submission=Path("s")), "leave out --submission/--submissions"),
    (dict(submission=Path("s"), submissions=Path("c")), "not both"),
    (dict(as_student=True, seed=3), "leave out --seed"),
    (dict(as_student=True, full=True), "leave out --full"),
    (dict(jobs=2), "--jobs grades several submissions in parallel"),
    (dict(cluster="local"), "--cluster grades a cohort"),
    (dict(cluster="tcp://h:8786", jobs=2, submissions=Path("c")),
     "the cluster at tcp://h:8786 has its own workers"),
])
def test_options_that_cannot_work_together_are_refused(given, message):
    with pytest.raises(UsageError, match=message):
        GradeRequest(**given).check_combinations()


def test_options_that_work_together_pass():
    GradeRequest(submissions=Path("c"), jobs=2, cluster="local").check_combinations()
    GradeRequest(as_student=True, seed=0).check_combinations()


def test_limits_not_given_take_their_defaults():
    request = GradeRequest().with_defaults()
    assert (request.timeout_scale, request.memory_mb) == (DEFAULT_TIMEOUT_SCALE,
                                                          DEFAULT_MEMORY_MB)
    request = GradeRequest(timeout_scale=2.0, memory_mb=0).with_defaults()
    assert (request.timeout_scale, request.memory_mb) == (2.0, 0)


def test_a_given_seed_is_the_input_seed_and_a_student_release_uses_the_base_seed():
    assert GradeRequest(seed=5, input_seed=5).with_input_seed().input_seed == 5
    request = GradeRequest(as_student=True).with_input_seed()
    assert (request.input_seed, request.seed) == (None, 0)


def test_replay_refuses_the_options_that_would_change_it(tmp_path):
    with pytest.raises(UsageError, match="leave out TOPIC, --seed, --full"):
        GradeRequest(replay=tmp_path / "r.json", topics=["toy"], seed=1,
                     full=True).replayed()


def test_replay_says_what_a_file_is_not(tmp_path):
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"submissions": [], "count": 0}))
    with pytest.raises(UsageError, match="it is a cohort summary"):
        GradeRequest(replay=summary).replayed()
    with pytest.raises(UsageError, match="no such file"):
        GradeRequest(replay=tmp_path / "absent.json").replayed()


def test_an_html_report_is_a_cohorts_and_an_unknown_format_is_refused_before_grading():
    with pytest.raises(UsageError, match="--format html is the cohort dashboard"):
        GradeRequest(fmt="html").checked_format()
    assert GradeRequest(fmt="html", submissions=Path("c")).checked_format().fmt == "html"
    with pytest.raises(Exception, match="nope"):
        GradeRequest(fmt="nope").checked_format()


@pytest.mark.parametrize(("given", "cached"), [
    (dict(), True), (dict(no_cache=True), False), (dict(replay=Path("r.json")), False),
    (dict(require_sandbox=True), False), (dict(solutions=True), False),
])
def test_the_cache_serves_only_gradings_that_do_not_count(given, cached):
    assert GradeRequest(**given).use_cache is cached


def test_the_grader_and_the_replay_record_get_the_reconciled_options():
    request = GradeRequest(topics=["toy"], seed=3, input_seed=9, full=True,
                           require_sandbox=True).with_defaults()
    options = request.grade_options("numpy", None, frozenset({"toy.scale"}))
    assert (options.seed, options.inputs, options.full, options.use_reference) == (3, 9, True,
                                                                                   True)
    assert options.limits.isolation == "sandbox"
    assert options.limits.memory_mb == DEFAULT_MEMORY_MB
    recorded = request.replay_options(["toy"], frozenset({"toy.scale"}), options)
    assert recorded == {
        "topics": ["toy"], "questions": ["toy.scale"], "solutions": False, "seed": 3,
        "full": True, "backend": "numpy", "device": None, "use_reference": True,
        "timeout_scale": DEFAULT_TIMEOUT_SCALE, "memory_mb": DEFAULT_MEMORY_MB,
        "time_limit": None, "input_seed": 9, "require_sandbox": True}
    assert options.limits.time_limit_s is None and options.limits.stop_at is None
