"""Topic ``neural_networks`` (CS224n lectures 3-4, notes part III): the activations, layers,
losses, optimizers, initializer and schedules of the course library, the window classifier
built from them, the student's own gradient checker and data preprocessing, and two tasks
trained on real text.

The topic's plugin: its questions (one declaration each, by lecture section:
:mod:`.activations`, :mod:`.layers` (Xavier, affine, dropout, embedding), :mod:`.losses`
(with L2), :mod:`.optimizers` (with the schedules), :mod:`.preprocessing`, :mod:`.gradcheck`,
:mod:`.window`, :mod:`.training` (the tagger and the window scorer)), ``dojo train tagger``
(:mod:`.trainer`), the tagging data (:mod:`.data`), and the fixtures of its public checks
(``fixtures/``).

Most questions take a builder's shape (``layer_checks``, ``loss_checks``,
``optimizer_checks``); the gradient checker is graded on wrong gradients the grader plants,
the initializer and dropout on statistics no reference is needed for, whitening up to the sign
of each principal direction.
"""

from __future__ import annotations

from pathlib import Path

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring import Topic
from nlpdojo_course.neural_networks import (
    activations,
    gradcheck,
    layers,
    losses,
    optimizers,
    preprocessing,
    training,
    window,
)
from nlpdojo_course.neural_networks.trainer import TRAINER

TOPIC = Topic(
    name="neural_networks", title="Neural networks: backpropagation and the training toolbox",
    order=2,
    questions=[*activations.QUESTIONS, *layers.QUESTIONS, *losses.QUESTIONS,
               *optimizers.QUESTIONS, *preprocessing.QUESTIONS, *gradcheck.QUESTIONS,
               *window.QUESTIONS, *training.QUESTIONS],
    fixtures=Path(__file__).parent / "fixtures",
    withheld=f"{__name__}.withheld",
    # given code the checks run from the reference, never from a submission: the gradient
    # checker's toy functions, the tagger's and the scorer's training loops
    given_modules=("toy_functions", "tagger", "scorer"))


@hookimpl
def register_exercises(register):
    register(TOPIC.name, TOPIC.exercise())


@hookimpl
def register_trainers(register):
    register(TRAINER.name, TRAINER)
