"""The neural models of ``dojo train lm --model window|rnn`` (and of ``dojo sample`` for their
checkpoints): the fixed-window LM (CS224n lecture 6, "A fixed-window neural language model") and
the RNN LM trained with truncated BPTT ("Training an RNN language model"), built, trained and
scored by the chosen code (the student's ``exercises/language_models`` or the reference).

Each is three functions of this topic's code given to the training kit's
:func:`~nlpdojo_autograder.training.neural_lm_kind`, which does the rest (the grader's id
streams, the report beside the add-one unigram model, checkpoints, sampling): the RNN LM is
scored as the graded checks score it (:mod:`.measure`: 10 streams in windows of 50, the state
carried), the window LM on every held-out token.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlpdojo_autograder.training import (
    CodeChoice,
    Run,
    TokenStreams,
    neural_lm_kind,
    start_bptt,
    stream_scores,
)
from nlpdojo_course.language_models.measure import EVAL_BPTT, EVAL_STREAMS
from nlpdojo_course.language_models.trainer import MODELS

MODULES = ("lm_training.py",)


def _build_window(code: CodeChoice, backend, vocab_size: int, meta: dict[str, Any]):
    return code.load("window_lm").WindowLM(backend, vocab_size, int(meta["context"]),
                                           int(meta["dim"]), int(meta["hidden"]),
                                           seed=int(meta.get("seed", 0)))


def _fit_window(run: Run, be, model, data: TokenStreams) -> list[float]:
    o = run.options
    total = -(-len(data.train_ids) // o["batch_size"]) * o["epochs"]
    run.start(total if o["max_steps"] is None else min(total, o["max_steps"]))
    return run.code.load("lm_training").train_window_lm(
        be, model, data.train_ids, pad=data.eos, optimizer=o["optimizer"], lr=o["lr"],
        epochs=o["epochs"], batch_size=o["batch_size"], seed=o["seed"],
        max_steps=o["max_steps"], on_step=run.on_step)


def _score_window(code: CodeChoice, be, model, data: TokenStreams
                  ) -> tuple[np.ndarray, np.ndarray]:
    return (code.load("lm_training").window_log_probs(be, model, data.test_ids, pad=data.eos),
            data.test_ids)


def _build_rnn(code: CodeChoice, backend, vocab_size: int, meta: dict[str, Any]):
    return code.load("rnn_lm").RNNLM(backend, vocab_size, int(meta["dim"]), int(meta["hidden"]),
                                     seed=int(meta.get("seed", 0)))


def _fit_rnn(run: Run, be, model, data: TokenStreams) -> list[float]:
    o = run.options
    start_bptt(run, data)
    return run.code.load("rnn_lm").train_rnn_lm(
        be, model, data.train_ids, batch_size=o["batch_size"], bptt=o["bptt"],
        optimizer=o["optimizer"], lr=o["lr"], epochs=o["epochs"], max_windows=o["max_steps"],
        on_step=run.on_step)


# SGD for the RNN: Adam made its state dynamics chaotic (measure.RNN_RUN)
RNN = neural_lm_kind(
    "rnn", "RNN LM, truncated BPTT over --batch-size streams of --bptt steps",
    ("rnn_lm.py", *MODULES), {"bptt": 35, "batch_size": 20, "optimizer": "sgd", "lr": 0.7},
    build=_build_rnn, fit=_fit_rnn, score=stream_scores(EVAL_STREAMS, EVAL_BPTT),
    files=MODELS.files)
WINDOW = neural_lm_kind(
    "window", "fixed-window neural LM over the previous --context words",
    ("window_lm.py", *MODULES),
    {"context": 4, "batch_size": 20, "optimizer": "adam", "lr": 0.003},
    build=_build_window, fit=_fit_window, score=_score_window, files=MODELS.files, window=True)
