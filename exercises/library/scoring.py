"""Given code: scoring a language model on held-out text (CS224n lecture 6, "Evaluating
language models": perplexity = exp of the mean cross-entropy of every next token).

Nothing here is a question. A recurrent LM is scored by cutting the held-out stream into
``batch_size`` parallel streams and windows of ``bptt`` steps (:func:`stream_windows`),
carrying the state along each stream from window to window, and gathering the
log-probability of every next token (:func:`rnn_log_probs`). Any model with
``initial_state(B)``, ``forward(ids, state) -> (scores (B, T, V), cache)`` and
``final_state(cache)`` can be scored: the LSTM and GRU LMs of ``rnn_variants`` are. (The RNN
LM of ``language_models`` is scored the same way by that topic's own given ``lm_training``,
which student folders released before this file was added hold.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlpdojo.backend import Backend

__all__ = ["rnn_log_probs", "stream_windows"]


def stream_windows(ids: np.ndarray, batch_size: int, bptt: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The held-out windows, cut by the grader's own code so that a model is always scored on
    predicting the *next* token: B = ``batch_size`` streams of contiguous text, K windows of
    T = ``bptt`` steps, targets the inputs shifted by one; (K, B, T) inputs and targets."""
    ids = np.asarray(ids, dtype=np.int64)
    length = len(ids) // batch_size
    streams = ids[:length * batch_size].reshape(batch_size, length)  # (B, L)
    k = (length - 1) // bptt
    inputs = streams[:, :k * bptt].reshape(batch_size, k, bptt)  # (B, K, T)
    targets = streams[:, 1:k * bptt + 1].reshape(batch_size, k, bptt)  # (B, K, T)
    return inputs.transpose(1, 0, 2), targets.transpose(1, 0, 2)  # (K, B, T) x2


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
        # product (no gather): written here, not as a helper that would hand graded code a
        # softmax (word_vectors.softmax is a question)
        shifted = flat - xp.max(flat, axis=-1, keepdims=True)  # (B·T, V)
        classes = xp.reshape(xp.arange(flat.shape[1], device=backend.device), (1, -1))  # (1, V)
        wanted = xp.reshape(backend.asarray(targets[k]), (-1, 1)) == classes  # (B·T, V)
        chosen = (xp.sum(shifted * xp.astype(wanted, flat.dtype), axis=1)
                  - xp.log(xp.sum(xp.exp(shifted), axis=1)))  # (B·T,)
        out.append(np.asarray(backend.to_numpy(chosen), dtype=np.float64))
    model.train()
    return np.concatenate(out) if out else np.zeros(0)
