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
    raise NotImplementedError("ngram_counts: not implemented yet — replace this line with your code")


def ngram_keys(windows: np.ndarray, vocab_size: int) -> np.ndarray:
    """Each row of ``windows`` (M, k) as one int64: the row's ids as digits in base
    ``vocab_size``, the first id most significant. ``(M, 0)`` gives zeros (the empty context)."""
    raise NotImplementedError("ngram_counts: not implemented yet — replace this line with your code")


def count_ngrams(stream: np.ndarray, n: int, vocab_size: int,
                 bos: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The counts of an order-n model: ``(ngram_keys, ngram_counts, context_keys,
    context_counts)``, each pair sorted by key with no repeats. Context counts are C(c) =
    Σ_w C(c, w) (how often c occurs as the context of a predicted token)."""
    raise NotImplementedError("ngram_counts: not implemented yet — replace this line with your code")


def add_delta_log_probs(model: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                        windows: np.ndarray, vocab_size: int, delta: float) -> np.ndarray:
    """log P_δ(w | c) (natural log) of every n-gram row ``(c…, w)`` of ``windows`` (M, n)
    under the counts ``model`` (:func:`count_ngrams`): (M,) float64."""
    ngram_k, ngram_c, ctx_k, ctx_c = model
    raise NotImplementedError("add_delta: not implemented yet — replace this line with your code")


def perplexity(log_probs: np.ndarray) -> float:
    """exp of the mean negative log-probability (natural logs) per predicted token: inf where
    a token has probability 0 (log P = −inf), as the model deserves."""
    raise NotImplementedError("perplexity: not implemented yet — replace this line with your code")
