"""Subsampling of frequent words (Mikolov et al. 2013, "Distributed Representations of Words
and Phrases and their Compositionality", section 2.3; CS224n lecture 2 notes).

The paper discards each occurrence of word ``w`` with probability ``1 - sqrt(t / f(w))``, where
``f(w)`` is the word's relative frequency and ``t`` a threshold (~1e-5). The released word2vec
C code - and gensim, which copies it - *keeps* an occurrence with probability

    p_keep(w) = (sqrt(f(w) / t) + 1) * t / f(w)      (capped at 1)

which is what :func:`keep_probability` computes by default (``formula="word2vec"``); pass
``formula="paper"`` for ``min(1, sqrt(t / f(w)))``. Drawing is one vectorized comparison with a
seeded NumPy generator.
"""

from __future__ import annotations

from typing import Literal

import numpy as np


def keep_probability(counts: np.ndarray, t: float = 1e-3, *,
                     formula: Literal["word2vec", "paper"] = "word2vec") -> np.ndarray:
    """Per-word probability of keeping an occurrence: (V,) counts -> (V,) float64 in [0, 1].

    Words never seen (count 0) get probability 1 (they never occur anyway). ``t <= 0``
    disables subsampling.
    """
    counts = np.asarray(counts, dtype=np.float64)  # (V,)
    if t <= 0:
        return np.ones_like(counts)
    total = counts.sum()
    if total == 0:
        return np.ones_like(counts)
    freq = counts / total  # (V,)
    with np.errstate(divide="ignore", invalid="ignore"):
        if formula == "word2vec":
            p = (np.sqrt(freq / t) + 1.0) * t / freq
        elif formula == "paper":
            p = np.sqrt(t / freq)
        else:
            raise ValueError(f"formula must be 'word2vec' or 'paper', got {formula!r}")
    return np.where(counts > 0, np.minimum(p, 1.0), 1.0)


def subsample(ids: np.ndarray, counts: np.ndarray, t: float = 1e-3, *,
              rng: np.random.Generator | int | None = 0,
              formula: Literal["word2vec", "paper"] = "word2vec") -> np.ndarray:
    """Drop frequent-word occurrences: (N,) ids -> (M,) kept ids, order preserved."""
    ids = np.asarray(ids, dtype=np.int64)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    p = keep_probability(counts, t, formula=formula)  # (V,)
    return ids[gen.random(len(ids)) < p[ids]]
