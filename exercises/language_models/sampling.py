"""Generating text: sample the next word from a language model's distribution (CS224n lecture 6,
"generating text with an n-gram language model"; temperature as in Hinton, Vinyals & Dean 2015,
§2; top-k as in Fan, Lewis & Dauphin 2018, §5.4).

A model gives scores s (log-probabilities, or any logits) over the vocabulary for each context.
Sampling with temperature T draws from softmax(s / T): T < 1 sharpens the distribution (T → 0
is the argmax, greedy decoding), T > 1 flattens it (T → ∞ is uniform). Top-k keeps only the k
highest-scoring words and renormalises over them, so a rare word can never be drawn however
long the text. Everything is vectorized over a batch of B contexts (rows); the randomness comes
from a ``numpy.random.Generator`` passed in, so a seed reproduces the text.
"""

from __future__ import annotations

import numpy as np


def tempered_probs(scores: np.ndarray, temperature: float = 1.0,
                   top_k: int | None = None) -> np.ndarray:
    """The distribution sampling draws from, for every row of ``scores`` (B, V): softmax of
    ``scores / temperature`` over the words kept by top-k (every word with a score at least the
    k-th largest of its row: ties at the border are all kept), 0 elsewhere; ``top_k=None``
    keeps every word. ``temperature == 0`` is greedy: probability 1 on the row's argmax (the
    first, on ties). Returns (B, V) float64, rows summing to 1. Compute it stably (subtract
    the row's maximum before ``exp``), so that a temperature of 1e-3 works too."""
    scores = np.asarray(scores, dtype=np.float64)  # (B, V)
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, not {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be ≥ 1 (or None for every word), not {top_k}")
    raise NotImplementedError("sampling: not implemented yet — replace this line with your code")


def sample_next(scores: np.ndarray, rng: np.random.Generator | int, temperature: float = 1.0,
                top_k: int | None = None) -> np.ndarray:
    """One word id per row of ``scores`` (B, V), drawn from :func:`tempered_probs` with the
    generator ``rng`` (or a new one seeded with it; the same seed gives the same ids): (B,)
    int64. Vectorized over the batch: no loop over rows (hint: one uniform number per row and
    the rows' cumulative sums, ``np.cumsum``; draw ``1 - rng.random(B)`` so that a number is
    never 0). Every random number comes from ``rng``, never from ``np.random.*``."""
    rng = np.random.default_rng(rng)  # a Generator is used as it is
    raise NotImplementedError("sampling: not implemented yet — replace this line with your code")
