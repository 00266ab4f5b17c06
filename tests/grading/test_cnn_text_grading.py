"""The topic ``cnn_text`` through the real grader: full marks for the solutions on NumPy
and torch, zero for the released stubs, and every planted bug caught on its own question
(``dojo verify --strict``), in the sandboxed worker where bubblewrap is present."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading.grade import GradeOptions, grade
from nlpdojo_autograder.release.verify import verify

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"


def _grade(submission, **options):
    result = grade(["cnn_text"], submission=submission, options=GradeOptions(**options),
                   replay_options={})
    return {c.id: c for _, c in result.checks()}, result


def test_solutions_full_marks_numpy():
    checks, result = _grade(None)
    assert result.score == result.max_score > 0, [
        f"{k}: {c.message}" for k, c in checks.items() if not c.passed]


@pytest.mark.torch
def test_solutions_full_marks_torch():
    pytest.importorskip("torch")
    checks, result = _grade(None, backend="torch")
    assert result.score == result.max_score > 0, [
        f"{k}: {c.message}" for k, c in checks.items() if not c.passed]


def test_released_stubs_score_zero_and_say_not_implemented():
    checks, result = _grade(EXERCISES)
    assert result.score == 0
    assert {c.status for c in checks.values()} == {"not_implemented"}


@pytest.mark.long
@pytest.mark.seeded
@pytest.mark.timeout(2700)  # the four tests: 114 s beside two training runs (2 cores)
def test_every_planted_bug_is_caught_on_its_question_alone():
    exercise = get_registry().get("exercise", "cnn_text")
    steps = verify([exercise], backends=[("numpy", "cpu")], strict=True)
    failed = [f"{s.name}: {s.detail}" for s in steps if not s.ok]
    assert not failed
    assert len([s for s in steps if s.name.startswith("planted bug")]) == len(exercise.planted_bugs)
