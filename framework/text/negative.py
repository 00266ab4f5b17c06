"""Negative sampling's noise distribution: unigram counts raised to 3/4 (Mikolov et al. 2013,
section 2.2; CS224n lecture 2 / assignment 2).

``P_n(w) ∝ count(w) ** 0.75``. The word2vec C code fills a 100M-entry table with word ids in
proportion to ``P_n`` and indexes it uniformly; here the same distribution is sampled exactly by
``np.searchsorted`` on its cumulative distribution - one vectorized call for any shape.
"""

from __future__ import annotations

import numpy as np


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """(V,) counts -> (V,) float64 probabilities ``∝ counts ** power`` (zero counts stay 0)."""
    counts = np.asarray(counts, dtype=np.float64)
    if np.any(counts < 0):
        raise ValueError("counts must be non-negative")
    weights = np.where(counts > 0, counts**power, 0.0)
    total = weights.sum()
    if total <= 0:
        raise ValueError("at least one word needs a positive count")
    return weights / total  # type: ignore[no-any-return]


class NegativeSampler:
    """Draws negative word ids from ``noise_distribution(counts, power)`` with a seeded RNG."""

    def __init__(self, counts: np.ndarray, power: float = 0.75,
                 rng: np.random.Generator | int | None = 0) -> None:
        self.probs = noise_distribution(counts, power)  # (V,)
        self.cdf = np.cumsum(self.probs)  # (V,), non-decreasing
        self.cdf[-1] = 1.0  # guard against rounding: every uniform draw < 1 lands in range
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    def sample(self, shape: int | tuple[int, ...]) -> np.ndarray:
        """Ids of the given shape, int64, i.i.d. from the noise distribution."""
        u = self.rng.random(shape)
        return np.searchsorted(self.cdf, u, side="right").astype(np.int64)

    def sample_excluding(self, targets: np.ndarray, k: int) -> np.ndarray:
        """(B,) targets -> (B, k) negatives, redrawing any that equal their row's target
        (assignment 2's ``getNegativeSamples`` rule), vectorized."""
        targets = np.asarray(targets, dtype=np.int64)
        if np.count_nonzero(self.probs) < 2:
            raise ValueError("need at least two words with a positive count to exclude one")
        out = self.sample((len(targets), k))  # (B, k)
        bad = out == targets[:, None]
        while bad.any():
            out[bad] = self.sample(int(bad.sum()))
            bad = out == targets[:, None]
        return out
