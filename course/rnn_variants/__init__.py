"""Topic ``rnn_variants`` (CS224n lecture 7): vanishing gradients, gradient clipping, the LSTM
and GRU cells, bidirectional and stacked RNNs. Its questions, one declaration each by lecture
section: :mod:`.clipping` (gradient clipping), :mod:`.cells` (the gated cells of the course
library), :mod:`.sequences` (cells over sequences). The reference is
``solutions/rnn_variants/`` and ``solutions/library/gated.py``."""

from __future__ import annotations

from pathlib import Path

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring import Topic

from . import cells, clipping, sequences

TOPIC = Topic(name="rnn_variants",
              title="RNN variants: vanishing gradients, clipping, LSTM, GRU, bidirectional and "
                    "stacked RNNs",
              order=4, questions=[*clipping.QUESTIONS, *cells.QUESTIONS, *sequences.QUESTIONS],
              fixtures=Path(__file__).parent / "fixtures")


@hookimpl
def register_exercises(register):
    register(TOPIC.name, TOPIC.exercise())
