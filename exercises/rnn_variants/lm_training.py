"""Given code: training and scoring the gated language models (CS224n lecture 6, "Evaluating
language models": perplexity = exp of the mean cross-entropy on held-out text).

Nothing here is a question. The model trains with your loop,
:func:`~.lstm_lm.train_gated_lm`, and is scored on a held-out stream as the RNN LM of
``language_models`` is (the library's :func:`~..library.scoring.rnn_log_probs`: 10 streams,
the state carried along each, the log-probability of every next token). The grader trains under
a small fixed budget and seeds; ``dojo train lm --model lstm`` under yours.
"""

from __future__ import annotations

import numpy as np

from nlpdojo.backend import Backend

from ..library import rnn_log_probs
from .lstm_lm import GatedLM, train_gated_lm

#: the model's sizes among the settings
SIZES = ("dim", "hidden", "cell", "dropout")


def build_lm(backend: Backend, vocab_size: int, *, dim: int, hidden: int, cell: str = "lstm",
             dropout: float = 0.0, seed: int = 0) -> GatedLM:
    """A fresh gated LM of the given sizes."""
    return GatedLM(backend, vocab_size, dim, hidden, cell=cell, dropout=dropout, seed=seed)


def train_lm(backend: Backend, train_ids: np.ndarray, *, vocab_size: int, seed: int = 0,
             init: dict | None = None, **settings) -> dict:
    """Train a gated LM on ``train_ids``: ``{"parameters": {name: host array}, "losses":
    (S,)}``. ``settings``: the sizes (``dim``, ``hidden``, ``cell``, ``dropout``) and
    :func:`~.lstm_lm.train_gated_lm`'s options; ``eval_bptt`` is the scorer's and ignored
    here. ``init``: starting parameters by name (host arrays) instead of the seeded
    initialisation, which differs between backends."""
    settings.pop("eval_bptt", None)
    sizes = {k: settings.pop(k) for k in SIZES if k in settings}
    lm = build_lm(backend, vocab_size, seed=seed, **sizes)
    if init is not None:
        lm.load_state_dict(init)
    losses = train_gated_lm(backend, lm, train_ids, **settings)
    return {"parameters": lm.state_dict(), "losses": np.asarray(losses, dtype=np.float64)}


def score_lm(backend: Backend, parameters: dict, ids: np.ndarray, *, vocab_size: int,
             eval_bptt: int = 50, **sizes) -> np.ndarray:
    """log P(next token) of the tokens of ``ids`` under the gated LM with ``parameters``, (M,):
    10 streams in windows of ``eval_bptt``, in eval mode (no dropout)."""
    lm = build_lm(backend, vocab_size, **{k: sizes[k] for k in SIZES if k in sizes})
    lm.load_state_dict(parameters)
    return rnn_log_probs(backend, lm, ids, bptt=eval_bptt)
