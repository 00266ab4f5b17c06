"""Where the reference is installed, a submission's grading runs the reference for the expected
outcomes only of checks that can use them: a question still holding its released stub line
(or a training question whose pipeline runs one) stops at ``NotImplementedError`` and is
compared with nothing, so its reference run waits, and happens only should the check
complete after all (``grade.deferred_expected``). The verdicts are those of a grading that
ran the reference first."""

from __future__ import annotations

from pathlib import Path

from nlpdojo_autograder.grading import grade as grading
from nlpdojo_autograder.grading.grade import (
    GradeOptions,
    deferred_expected,
    get_exercise,
    grade,
    select_checks,
)
from tests.grading.courses import edited_course

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"
#: a layer question of the course library, and the training question whose pipeline runs it
QUESTIONS = frozenset({"neural_networks.relu", "neural_networks.pos_tagging"})


def _grade(submission: Path, questions: frozenset[str]) -> dict:
    result = grade(["neural_networks"], submission=submission,
                   options=GradeOptions(questions=questions), replay_options={})
    return {c.id: c for _, c in result.checks()}


def test_released_stubs_run_no_reference_and_say_not_implemented():
    exercise = get_exercise("neural_networks")
    checks = [c for c in select_checks(exercise, GradeOptions(questions=QUESTIONS), True)]
    assert {c.id for c in checks if c.needs_expected} <= deferred_expected(
        exercise, checks, EXERCISES / "neural_networks")
    results = _grade(EXERCISES, QUESTIONS)
    assert {c.question for c in results.values()} == {"relu", "pos_tagging"}
    assert {c.status for c in results.values()} == {"not_implemented"}
    assert grading.EXPECTED.computed == 0  # the reference never ran: nothing to compare


def test_a_stub_line_left_in_a_comment_costs_nothing(tmp_path):
    """The stub line kept in a comment under a written ReLU: the checks are deferred, complete,
    and are judged against the reference's outcomes computed then: full marks."""
    stub = '# raise NotImplementedError("neural_networks.relu: not implemented yet")\n'
    course = edited_course(tmp_path, ("library", "neural_networks"),
                           appended={"library/activations.py": stub})
    exercise = get_exercise("neural_networks")
    checks = select_checks(exercise, GradeOptions(questions=frozenset({"neural_networks.relu"})),
                           True)
    assert deferred_expected(exercise, checks, course / "neural_networks")
    results = _grade(course, frozenset({"neural_networks.relu"}))
    assert results and all(c.passed for c in results.values()), [
        f"{k}: {c.message}" for k, c in results.items() if not c.passed]
    assert grading.EXPECTED.computed > 0


def test_a_written_question_is_not_deferred(tmp_path):
    course = edited_course(tmp_path, ("library", "neural_networks"))
    exercise = get_exercise("neural_networks")
    checks = select_checks(exercise, GradeOptions(questions=QUESTIONS), True)
    assert deferred_expected(exercise, checks, course / "neural_networks") == set()
