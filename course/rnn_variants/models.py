"""What rnn_variants adds to earlier topics' training commands: the gated language models of
``dojo train lm --model lstm|gru`` (and of ``dojo sample`` for their checkpoints), and the
BiLSTM sentence classifier of ``dojo train polarity --model bilstm``.

The gated LMs: the LSTM LM of lecture 7 ("LSTM language models"; a small Merity et al.
2018 AWD-LSTM without its regularisers) and its GRU twin, built by this topic's given
``lm_training.build_lm`` and trained by the student's ``train_gated_lm`` (``lstm_lm.py``:
truncated BPTT, the whole state carried, the gradient clipped to global norm ``clip``).

The classifier: this topic's given ``classifier_training`` (the graded ``bilstm_polarity``
check's budget as defaults: a BiLSTM, max-pooled, Adam, the gradient clipped).

They join language_models' commands through the ``register_model_kinds`` hook (this topic's
plugin), importing nothing of that topic: the training kit's
:func:`~nlpdojo_autograder.training.neural_lm_kind` and
:func:`~nlpdojo_autograder.training.polarity_kind` do the data, options, report, checkpoints
and sampling; only building, training and scoring are this topic's. Their code is this topic's
folder (``--code exercises/rnn_variants``); ``dojo sample`` draws with the ``sampling.py`` of
the language_models folder beside it.
"""

from __future__ import annotations

from typing import Any

from nlpdojo_autograder.training import (
    CheckpointFiles,
    CodeChoice,
    Run,
    TokenStreams,
    neural_lm_kind,
    polarity_kind,
    start_bptt,
    stream_scores,
)
from nlpdojo_course.rnn_variants.classifier import BUDGET as CLASSIFIER_BUDGET
from nlpdojo_course.rnn_variants.classifier import SIZES as CLASSIFIER_SIZES
from nlpdojo_course.rnn_variants.language_model import EVAL_BPTT, EVAL_STREAMS

TOPIC = "rnn_variants"
#: the commands they join (their trainers' names, for the hook) and their checkpoints
LM, POLARITY = "lm", "polarity"
FILES = CheckpointFiles("dojo train lm", "dojo train lm --model lstm")
POLARITY_FILES = CheckpointFiles("dojo train polarity", "dojo train polarity --model bilstm")
#: what a gated kind reads beside the neural LMs' shared options: the optimizer, rate and
#: clipping of the grader's budget (language_model.BUDGET), the RNN LM's windows
OWN = {"bptt": 35, "batch_size": 20, "optimizer": "adam", "lr": 0.01, "clip": 5.0,
       "dropout": 0.0}


def _build(cell: str):
    def build(code: CodeChoice, backend, vocab_size: int, meta: dict[str, Any]):
        return code.load("lm_training").build_lm(
            backend, vocab_size, dim=int(meta["dim"]), hidden=int(meta["hidden"]), cell=cell,
            dropout=float(meta.get("dropout", 0.0)), seed=int(meta.get("seed", 0)))
    return build


def _fit(run: Run, be, model, data: TokenStreams) -> list[float]:
    o = run.options
    start_bptt(run, data)
    return run.code.load("lstm_lm").train_gated_lm(
        be, model, data.train_ids, batch_size=o["batch_size"], bptt=o["bptt"],
        optimizer=o["optimizer"], lr=o["lr"], clip=o["clip"], epochs=o["epochs"],
        max_windows=o["max_steps"], on_step=run.on_step)


def _kind(cell: str) -> Any:
    return neural_lm_kind(
        cell, f"{cell.upper()} LM, truncated BPTT, the gradient clipped",
        ("lstm_lm.py", "lm_training.py"), OWN, build=_build(cell), fit=_fit,
        score=stream_scores(EVAL_STREAMS, EVAL_BPTT),
        files=FILES, topic=TOPIC)


LSTM = _kind("lstm")
GRU = _kind("gru")
BILSTM = polarity_kind(
    "bilstm", "a bidirectional LSTM, max-pooled, the gradient clipped",
    "classifier_training", CLASSIFIER_BUDGET, CLASSIFIER_SIZES, files=POLARITY_FILES,
    topic=TOPIC)
#: (trainer, model) → the kind's "module:attribute", for the hook
KINDS = {(LM, "lstm"): f"{__name__}:LSTM", (LM, "gru"): f"{__name__}:GRU",
         (POLARITY, "bilstm"): f"{__name__}:BILSTM"}
