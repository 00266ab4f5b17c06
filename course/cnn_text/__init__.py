"""Topic ``cnn_text`` (CS224n lecture 11): CNNs for text, convolutions, pooling over time,
Kim's sentence CNN. Its questions, one declaration each by lecture section:
:mod:`.convolution` (the course library's ``Conv1d``), :mod:`.pooling` (max and k-max pooling
over time), :mod:`.max_norm` (the max-norm constraint), :mod:`.classifier` (Kim's sentence
CNN), :mod:`.multichannel` (its static and fine-tuned channels), :mod:`.normalization` (batch
normalisation), :mod:`.residual` (a residual block), :mod:`.qrnn` (a quasi-recurrent layer),
:mod:`.char_cnn` (character-level word vectors), :mod:`.char_tagging` (a tagger
on them, trained), :mod:`.vdcnn` (a very deep CNN for text).
The reference is ``solutions/cnn_text/``
and the library files ``solutions/library/{conv,pooling,constraints,normalization}.py``."""

from __future__ import annotations

from pathlib import Path

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring import Topic
from nlpdojo_course.cnn_text.models import KINDS

from . import (
    char_cnn,
    char_tagging,
    classifier,
    convolution,
    max_norm,
    multichannel,
    normalization,
    pooling,
    qrnn,
    residual,
    vdcnn,
)

TOPIC = Topic(name="cnn_text",
              title="CNNs for text: convolutions, pooling over time, Kim's sentence CNN",
              order=5, questions=[*convolution.QUESTIONS, *pooling.QUESTIONS,
                                  *max_norm.QUESTIONS, *classifier.QUESTIONS,
                                  *multichannel.QUESTIONS,
                                  *normalization.QUESTIONS, *residual.QUESTIONS,
                                  *qrnn.QUESTIONS, *char_cnn.QUESTIONS,
                                  *char_tagging.QUESTIONS,
                                  *vdcnn.QUESTIONS],
              fixtures=Path(__file__).parent / "fixtures",
              withheld=f"{__name__}.withheld",
              given_modules=("polarity_training", "char_tagger"))


@hookimpl
def register_exercises(register):
    register(TOPIC.name, TOPIC.exercise())


@hookimpl
def register_model_kinds(register):
    """No command of its own: its sentence CNN joins ``dojo train polarity`` (``--model
    cnn``), its character-aware tagger ``dojo train tagger`` (``--model char``)."""
    for (trainer, name), kind in KINDS.items():
        register(name, kind, trainer=trainer)
