"""Topic ``language_models`` (CS224n lecture 6): n-gram models with add-δ, backoff and
Kneser-Ney smoothing, sampling, the RNN and fixed-window neural LMs, RNN sentence encoders.

The topic's plugin: its questions (one declaration each, by lecture section: :mod:`.ngrams`,
:mod:`.smoothing`, :mod:`.sampling`, :mod:`.rnn`, :mod:`.window_lm`, :mod:`.encoder`), the
grader's training budgets of the neural LMs (:mod:`.measure`), ``dojo train lm``
(:mod:`.trainer`, with the models of :mod:`.ngram_models` and :mod:`.neural_models`), the
deprecated ``dojo train neural-lm`` (:mod:`.trainer_neural_lm`), ``dojo train polarity``
(:mod:`.polarity`, the sentence classifiers on MR), the corpora as sentences
(:mod:`.data`), and the fixtures of its public checks (``fixtures/``). The data preparation,
the run driver, the checkpoints, ``dojo sample`` and the metric plans are the training kit's
(:mod:`nlpdojo_autograder.training`).
"""

from __future__ import annotations

from pathlib import Path

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring import Topic
from nlpdojo_autograder.training import add_sample_command
from nlpdojo_course.language_models import (
    encoder,
    ngrams,
    polarity,
    rnn,
    sampling,
    smoothing,
    trainer,
    trainer_neural_lm,
    window_lm,
)
from nlpdojo_course.language_models.trainer import MODELS

TOPIC = Topic(
    name="language_models",
    title="Language models: n-grams, smoothing, sampling, RNN and window LMs, RNN encoders",
    order=3,
    questions=[*ngrams.QUESTIONS, *smoothing.QUESTIONS, *sampling.QUESTIONS, *rnn.QUESTIONS,
               *window_lm.QUESTIONS, *encoder.QUESTIONS],
    fixtures=Path(__file__).parent / "fixtures",
    withheld=f"{__name__}.withheld",
    given_modules=("lm_training", "sentence_training"))


@hookimpl
def register_exercises(register):
    register(TOPIC.name, TOPIC.exercise())


@hookimpl
def register_trainers(register):
    register(trainer.TRAINER.name, trainer.TRAINER)
    register(trainer_neural_lm.TRAINER.name, trainer_neural_lm.TRAINER)
    register(polarity.TRAINER.name, polarity.TRAINER)


@hookimpl
def register_commands(cli):
    # dojo sample: text from a checkpoint of dojo train lm (or of any trainer's LM kind)
    add_sample_command(cli, MODELS, code_help=(
        "Your folder of the model's topic (language_models; a model another topic adds: that "
        "topic's, with language_models' sampling.py beside it), or the folder holding them "
        "(default: ./exercises/<topic> if present)."))
