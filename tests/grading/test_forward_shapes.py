"""A forward of the wrong length is the student's mistake, told as such (issue 62, item 10).

A ``Recurrent`` whose loop over time stops a step early returns 4 steps for 5 inputs. The
upstream gradient of the values check is drawn at the student's output's shape; the reference
then ran its backward on it (the yardstick of the backward's lines) and failed, and the check
read "internal: the reference failed in probe forward_backward_lines: IndexError"; without
the reference (a student release) the backward, which followed the forward, was blamed for
its gradient's shape. Both now say the forward returned 4 steps for 5 inputs: with the
reference, its output shape is asked of the reference before anything runs on the student's;
without it, a gradient as short as the student's own output names the forward."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading import runner
from nlpdojo_autograder.grading.grade import GradeOptions, grade_exercise, seed_from_environment
from tests.grading.courses import edited_course

#: with the reference, graded on drawn inputs: `make test-seeds` runs it for 20 input seeds
pytestmark = pytest.mark.seeded

FOLDERS = ("library", "neural_networks", "language_models", "rnn_variants")


def _graded(root: Path, topic: str, question: str, *, release: bool, monkeypatch):
    folder = edited_course(root, FOLDERS, EDITS[question])
    if release:  # a student release: no reference for any check, the fixtures judge
        monkeypatch.setattr(runner, "_reference", lambda exercise, trusted_folder: None)
    exercise = get_registry().get("exercise", topic)
    exercise = dataclasses.replace(exercise, checks=[
        c for c in exercise.checks if c.id == f"{question}.values"])
    # a release's fixtures hold seed 0's inputs; with the reference, the run's drawn seed
    options = GradeOptions(use_reference=not release, input_seed=None if release else (
        seed_from_environment() or 12345))
    return {c.id: c for c in grade_exercise(exercise, folder / topic, options).checks}


EDITS = {
    # the instance: rnn_variants' Recurrent, its loop over time a step short
    "recurrent": {"library/recurrent.py": (
        "for t in range(xs.shape[1]):  # the loop over time",
        "for t in range(xs.shape[1] - 1):  # the loop over time")},
    # a sibling: language_models' RNN, the same mistake in another layer and topic
    "rnn": {"library/rnn.py": (
        "for t in range(xs.shape[1]):  # the loop over time",
        "for t in range(xs.shape[1] - 1):  # the loop over time")},
}


@pytest.mark.parametrize("topic,question", [("rnn_variants", "recurrent"),
                                            ("language_models", "rnn")])
@pytest.mark.parametrize("release", [False, True], ids=["reference", "release"])
def test_a_forward_that_drops_its_last_step_is_told_so(tmp_path, monkeypatch, topic, question,
                                                         release):
    (check,) = _graded(tmp_path, topic, question, release=release,
                       monkeypatch=monkeypatch).values()
    assert check.score == 0
    message = check.message
    assert "internal" not in message and "reference failed" not in message, message
    assert "your forward returned" in message and " steps for " in message, message
    steps, _, rest = message.partition("your forward returned ")[2].partition(" steps for ")
    assert int(rest.split()[0]) == int(steps) + 1, message
