"""Count-based n-gram language models (CS224n lecture 6, "n-gram language models").

An n-gram model assumes P(x_t | x_1 … x_{t−1}) = P(x_t | x_{t−n+1} … x_{t−1}) and estimates it
from counts: P(w | c) = C(c, w) / C(c), where C(c) = Σ_w C(c, w) counts the context c as a
context. Unseen n-grams get probability 0 (sparsity), which add-δ smoothing (Lidstone; Laplace
for δ = 1) fixes by pretending every word followed every context δ more times:

    P_δ(w | c) = (C(c, w) + δ) / (C(c) + δ |V|)

Perplexity is the exponential of the average negative log-likelihood per predicted token,
exp(−(1/M) Σ log P(x_t | context)) with natural logarithms (2^(cross-entropy in bits) is the
same number). Everything here is vectorized: an n-gram of ids is one integer in base |V|,
so counting is ``np.unique`` over those integers and a look-up is ``np.searchsorted``.
"""

from __future__ import annotations

import numpy as np

from nlpdojo.text.ngram_corpus import lookup as lookup  # given; here for add_delta_log_probs


def ngram_windows(stream: np.ndarray, n: int, bos: int) -> np.ndarray:
    """Every n-gram of the padded id stream, ``(M, n)`` int64, in stream order, without those
    whose last token is ``<s>`` (they span two sentences)."""
    ### BEGIN SOLUTION ngram_counts
    windows = np.lib.stride_tricks.sliding_window_view(stream, n)  # (T − n + 1, n)
    return np.ascontiguousarray(windows[windows[:, -1] != bos], dtype=np.int64)  # (M, n)
    ### END SOLUTION


def ngram_keys(windows: np.ndarray, vocab_size: int) -> np.ndarray:
    """Each row of ``windows`` (M, k) as one int64: the row's ids as digits in base
    ``vocab_size``, the first id most significant. ``(M, 0)`` gives zeros (the empty context)."""
    ### BEGIN SOLUTION ngram_counts
    k = windows.shape[1]
    powers = vocab_size ** np.arange(k - 1, -1, -1, dtype=np.int64)  # (k,)  V^(k−1) … V^0
    return windows.astype(np.int64) @ powers  # (M,)
    ### END SOLUTION


def count_ngrams(stream: np.ndarray, n: int, vocab_size: int,
                 bos: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The counts of an order-n model: ``(ngram_keys, ngram_counts, context_keys,
    context_counts)``, each pair sorted by key with no repeats. Context counts are C(c) =
    Σ_w C(c, w) (how often c occurs as the context of a predicted token)."""
    ### BEGIN SOLUTION ngram_counts
    windows = ngram_windows(stream, n, bos)  # (M, n)
    keys, counts = np.unique(ngram_keys(windows, vocab_size), return_counts=True)
    ctx_keys, ctx_counts = np.unique(ngram_keys(windows[:, :-1], vocab_size),
                                     return_counts=True)
    return keys, counts.astype(np.int64), ctx_keys, ctx_counts.astype(np.int64)
    ### END SOLUTION


def add_delta_log_probs(model: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                        windows: np.ndarray, vocab_size: int, delta: float) -> np.ndarray:
    """log P_δ(w | c) (natural log) of every n-gram row ``(c…, w)`` of ``windows`` (M, n)
    under the counts ``model`` (:func:`count_ngrams`): (M,) float64."""
    ngram_k, ngram_c, ctx_k, ctx_c = model
    ### BEGIN SOLUTION add_delta
    joint = lookup(ngram_k, ngram_c, ngram_keys(windows, vocab_size))  # (M,)  C(c, w)
    context = lookup(ctx_k, ctx_c, ngram_keys(windows[:, :-1], vocab_size))  # (M,)  C(c)
    return np.log(joint + delta) - np.log(context + delta * vocab_size)  # (M,)
    ### END SOLUTION


def perplexity(log_probs: np.ndarray) -> float:
    """exp of the mean negative log-probability (natural logs) per predicted token: inf where
    a token has probability 0 (log P = −inf), as the model deserves."""
    ### BEGIN SOLUTION perplexity
    return float(np.exp(-np.mean(log_probs)))
    ### END SOLUTION
