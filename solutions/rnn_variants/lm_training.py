"""Given code: training and scoring the gated language models (CS224n lecture 6, "Evaluating
language models": perplexity = exp of the mean cross-entropy on held-out text).

Nothing here is a question. The model trains with your loop,
:func:`~.lstm_lm.train_gated_lm`, and is scored on a held-out stream as the RNN LM of
``language_models`` is (:func:`rnn_log_probs`: 10 streams,
the state carried along each, the log-probability of every next token). The grader trains under
a small fixed budget and seeds; ``dojo train lm --model lstm`` under yours.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlpdojo.backend import Backend

from .lstm_lm import GatedLM, stream_windows, train_gated_lm

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


def rnn_log_probs(backend: Backend, model: Any, ids: np.ndarray, *, batch_size: int = 10,
                  bptt: int = 50) -> np.ndarray:
    """log P(next token) of every target of :func:`stream_windows` over ``ids``, the state
    carried along each stream, in eval mode; (K·B·T,) float64 on the host."""
    xp = backend.xp
    inputs, targets = stream_windows(ids, batch_size, bptt)  # (K, B, T) x2
    model.eval()
    state, out = model.initial_state(batch_size), []
    for k in range(len(inputs)):  # a loop over windows: window k starts where k − 1 ended
        scores, cache = model(backend.asarray(inputs[k]), state)  # (B, T, V)
        state = model.final_state(cache)
        flat = xp.reshape(scores, (-1, scores.shape[-1]))  # (B·T, V)
        # log softmax of the target, shifted by the maximum (no overflow), by a one-hot
        # product (no gather)
        shifted = flat - xp.max(flat, axis=-1, keepdims=True)  # (B·T, V)
        classes = xp.reshape(xp.arange(flat.shape[1], device=backend.device), (1, -1))  # (1, V)
        wanted = xp.reshape(backend.asarray(targets[k]), (-1, 1)) == classes  # (B·T, V)
        chosen = (xp.sum(shifted * xp.astype(wanted, flat.dtype), axis=1)
                  - xp.log(xp.sum(xp.exp(shifted), axis=1)))  # (B·T,)
        out.append(np.asarray(backend.to_numpy(chosen), dtype=np.float64))
    model.train()
    return np.concatenate(out) if out else np.zeros(0)
