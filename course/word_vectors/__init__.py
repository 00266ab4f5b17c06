"""Topic ``word_vectors`` (CS224n lectures 1-2): word2vec from scratch, a count-based
baseline, evaluation, and skip-gram trained on real text.

The topic's plugin: its questions (one declaration each, by lecture section:
:mod:`.word2vec`, :mod:`.sgd`, :mod:`.count_based`, :mod:`.evaluation`, :mod:`.training`),
``dojo train word2vec`` (:mod:`.trainer`), the data plumbing (:mod:`.data`), the grader's own
vector metrics (:mod:`.metrics`), and the fixtures of its public checks (``fixtures/``).
"""

from __future__ import annotations

from pathlib import Path

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring import Topic
from nlpdojo_course.word_vectors import count_based, evaluation, sgd, training, word2vec
from nlpdojo_course.word_vectors.trainer import TRAINER

TOPIC = Topic(
    name="word_vectors", title="Word vectors: word2vec from scratch", order=1,
    questions=[*word2vec.QUESTIONS, *sgd.QUESTIONS, *count_based.QUESTIONS,
               *evaluation.QUESTIONS, *training.QUESTIONS],
    fixtures=Path(__file__).parent / "fixtures",
    withheld=f"{__name__}.withheld",
    given_modules=("train",))


@hookimpl
def register_exercises(register):
    register(TOPIC.name, TOPIC.exercise())


@hookimpl
def register_trainers(register):
    register(TRAINER.name, TRAINER)
