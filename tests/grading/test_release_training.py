"""A student release judges a training run by the rule its submission is judged by (issue 62,
item 8).

In a release the trained-model checks had no expected values and were judged against the
chance floor only (the add-one unigram model, the majority class), so a training loop that
never clipped scored 2/2 locally and 0/2 when submitted (the audit of every step's loss). The
release's fixture now holds the reference's metric and every step's loss at seed 0; the
judge audits the losses and applies the threshold and the too-good bound there too, and says
the reference's figure. Graded here as a release grades: no reference anywhere (the
runner's reference masked), the fixtures as expected values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading import runner
from nlpdojo_autograder.grading.grade import GradeOptions, grade_exercise
from nlpdojo_autograder.grading.runner import read_outcome
from nlpdojo_autograder.training import trained
from tests.grading.courses import edited_course

FOLDERS = ("library", "neural_networks", "language_models", "rnn_variants")
NEVER_CLIPS = {"rnn_variants/lstm_lm.py": (
    "                clip_gradients(model.parameters(), clip)  # one norm over every parameter",
    "                pass  # never clipped")}


def test_a_loop_that_never_clips_loses_the_perplexity_points_in_the_release(tmp_path,
                                                                             monkeypatch):
    folder = edited_course(tmp_path, FOLDERS, NEVER_CLIPS) / "rnn_variants"
    monkeypatch.setattr(runner, "_reference", lambda exercise, trusted_folder: None)
    exercise = get_registry().get("exercise", "rnn_variants")
    exercise = dataclasses.replace(exercise, checks=[
        c for c in exercise.checks if c.question == "lstm_lm_perplexity"])
    (check,) = grade_exercise(exercise, folder, GradeOptions(use_reference=False)).checks
    assert check.score == 0, check.message
    assert check.message.startswith("training audit: the loss of training step "), \
        check.message
    assert "a student release: judged as a submission is" in check.message


def _fixture(topic: str, check_id: str) -> dict:
    exercise = get_registry().get("exercise", topic)
    return read_outcome(exercise.fixtures / f"{check_id}.json").payload


@pytest.mark.parametrize("topic,check_id,floor", [
    ("rnn_variants", "bilstm_polarity.accuracy", {"majority": 0.5}),
    ("cnn_text", "kim_polarity.accuracy", {"majority": 0.5})])
def test_a_classifiers_training_is_audited_in_the_release_too(topic, check_id, floor):
    """The sibling: a sentence classifier's run, judged on its release fixture: a run whose
    losses leave the reference's at a step (a loop that never clips, or any other change of
    the steps) fails there, naming the step; the reference's own run passes; a run that
    follows it but lands short of the threshold is told the reference's figure."""
    check = get_registry().get("exercise", topic).check(check_id)
    fixture = _fixture(topic, check_id)
    losses = np.asarray(fixture[trained.LOSSES], float)
    ran = {**floor, trained.LOSSES: losses, trained.FLOAT64: 1.0}
    right = check.judge({**ran, "value": fixture["value"]}, fixture)
    assert right.passed, right.message
    unclipped = losses.copy()
    unclipped[7:] *= 1.01  # the steps after the first the clip would have changed
    off = check.judge({**ran, trained.LOSSES: unclipped, "value": fixture["value"]}, fixture)
    assert not off.passed and "the loss of training step 8 (every step before it agrees)" \
        in off.message, off.message
    short = check.judge({**ran, "value": fixture["value"] - 0.1}, fixture)
    assert not short.passed
    assert f"the reference reaches about {fixture['value']:.3g} under this budget" \
        in short.message, short.message
