"""The neural half of ``language_models`` through the real grader: a bug in the course library
costs the RNN LM at most its training run (the value and gradient checks run the reference's
Linear), a training loop that does not carry the hidden state across windows fails the loop's
check alone, and every planted bug of the neural half is caught on its own question."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading import GradeOptions, grade_exercise
from nlpdojo_autograder.topics import language_models_neural as neural
from nlpdojo_autograder.verify import verify

REPO = Path(__file__).resolve().parents[2]


def _course(root: Path, edits: dict[str, tuple[str, str]]) -> Path:
    for name in ("library", "language_models"):
        shutil.copytree(REPO / "solutions" / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for rel, (old, new) in edits.items():
        path = root / rel
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} not once in {rel}"
        path.write_text(text.replace(old, new))
    return root / "language_models"


def _grade(folder: Path, *questions: str):
    """The value and gradient checks of ``questions`` (the training runs are graded by the
    full-marks test of test_language_models_grading.py; here they would only add minutes)."""
    exercise = get_registry().get("exercise", "language_models")
    exercise = dataclasses.replace(exercise, checks=[
        c for c in exercise.checks if c.question in questions and c.kind != "metric"])
    result = grade_exercise(exercise, folder, GradeOptions())
    return {c.id: c for c in result.checks}


def test_a_broken_library_linear_costs_the_rnn_lm_checks_nothing(tmp_path):
    """The value and gradient checks run the reference's Linear (the training run keeps the
    student's own: own_code, below)."""
    folder = _course(tmp_path, {"library/layers.py": (
        "self.bias.grad += xp.sum(grad_output, axis=0)  # (D_out,)",
        "self.bias.grad += xp.mean(grad_output, axis=0)")})
    checks = _grade(folder, "rnn_lm")
    assert len(checks) == 7
    lost = sorted(k for k, c in checks.items() if c.score < c.max_score)
    assert not lost, [checks[k].message for k in lost]


def test_a_hidden_state_reset_every_window_fails_the_training_loop_check(tmp_path):
    """Not carrying the state changes every loss after the first window: the loop's check
    sees it exactly (the perplexity under the quick budget moves less than 5%)."""
    folder = _course(tmp_path, {"language_models/rnn_lm.py": (
        "h = model.final_state(cache)  # (B, H) carried",
        "h = model.initial_state(b)  # (B, H) reset: the bug")})
    checks = _grade(folder, "rnn_lm", "rnn_cell", "rnn")
    failed = sorted(k for k, c in checks.items() if not c.passed)
    assert failed == ["rnn_lm.truncated_bptt"], failed
    assert "training losses: 11 of 12 entries differ" in checks["rnn_lm.truncated_bptt"].message


def test_training_checks_run_the_students_own_library_and_swap_the_rest():
    """own_code: a training run keeps the student's library layers (a swapped layer would
    cross processes with its parameters at every step); the value checks swap them in."""
    from nlpdojo.plugins import get_registry
    from nlpdojo_autograder.questions import swap_in

    exercise = get_registry().get("exercise", "language_models")
    values = swap_in(exercise, exercise.check("rnn_lm.values"))
    trained = swap_in(exercise, exercise.check("rnn_lm.perplexity"))
    assert "neural_networks.affine" in values and "language_models.rnn" in values
    assert trained == ("language_models.rnn", "language_models.rnn_cell")


def _neural(with_metrics: bool):
    exercise = get_registry().get("exercise", "language_models")
    return dataclasses.replace(
        exercise, checks=[c for c in exercise.checks if c.question in neural.QUESTIONS
                          and (with_metrics or c.kind != "metric")],
        planted_bugs=list(neural.PLANTED_BUGS))


def test_every_neural_planted_bug_is_caught_on_its_question_alone():
    """Strict, on the value and gradient checks (the training runs add a minute: below)."""
    steps = verify([_neural(False)], backends=[("numpy", "cpu")], strict=True)
    failed = [f"{s.name}: {s.detail}" for s in steps if not s.ok
              and not s.name.startswith("declarations")]  # half the topic: see the n-gram test
    assert not failed
    assert len([s for s in steps if s.name.startswith("planted bug")]) == len(
        neural.PLANTED_BUGS)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("NLPDOJO_SLOW_TESTS"),
                    reason="3 minutes: set NLPDOJO_SLOW_TESTS=1 (dojo verify --strict does it too)")
def test_every_neural_planted_bug_is_caught_with_the_training_runs_too():
    steps = verify([_neural(True)], backends=[("numpy", "cpu")], strict=True)
    assert not [f"{s.name}: {s.detail}" for s in steps if not s.ok
                and not s.name.startswith("declarations")]
