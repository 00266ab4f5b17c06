"""Topic ``rnn_variants`` (CS224n lecture 7): vanishing gradients, gradient clipping, the LSTM
and GRU cells, bidirectional and stacked RNNs, the LSTM language model. Its questions, one
declaration each by lecture section: :mod:`.clipping` (gradient clipping), :mod:`.cells` (the
gated cells of the course library), :mod:`.vanishing` (vanishing gradients, measured),
:mod:`.sequences` (cells over sequences), :mod:`.language_model` (the LSTM LM),
:mod:`.classifier` (the BiLSTM sentence classifier); :mod:`.models` adds its LSTM and GRU LMs
to ``dojo train lm`` and its classifier to ``dojo train polarity``. The reference
is ``solutions/rnn_variants/`` and the library files
``solutions/library/{clipping,gated,recurrent,deep_rnn}.py``."""

from __future__ import annotations

from pathlib import Path

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring import Topic
from nlpdojo_course.rnn_variants.models import KINDS

from . import cells, classifier, clipping, language_model, sequences, vanishing

TOPIC = Topic(name="rnn_variants",
              title="RNN variants: vanishing gradients, clipping, LSTM, GRU, bidirectional and "
                    "stacked RNNs",
              order=4, questions=[*clipping.QUESTIONS, *cells.QUESTIONS, *vanishing.QUESTIONS,
                                  *sequences.QUESTIONS, *language_model.QUESTIONS,
                                  *classifier.QUESTIONS],
              fixtures=Path(__file__).parent / "fixtures",
              withheld=f"{__name__}.withheld",
              given_modules=("gradient_flow", "lm_training", "classifier_training"))


@hookimpl
def register_exercises(register):
    register(TOPIC.name, TOPIC.exercise())


@hookimpl
def register_model_kinds(register):
    """No command of its own: its gated LMs join ``dojo train lm`` (``--model lstm|gru``), its
    classifier ``dojo train polarity`` (``--model bilstm``)."""
    for (trainer, name), kind in KINDS.items():
        register(name, kind, trainer=trainer)
