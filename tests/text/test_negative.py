"""Negative sampling's unigram^0.75 distribution and its vectorized sampler."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.text.negative import NegativeSampler, noise_distribution


def test_distribution() -> None:
    p = noise_distribution(np.array([16, 1, 0]))
    np.testing.assert_allclose(p, np.array([8, 1, 0]) / 9)
    with pytest.raises(ValueError, match="positive count"):
        noise_distribution(np.zeros(3))
    with pytest.raises(ValueError, match="non-negative"):
        noise_distribution(np.array([1, -1]))


def test_sampler_frequencies_match() -> None:
    counts = np.array([1000, 100, 10, 1, 0])
    s = NegativeSampler(counts, rng=0)
    draws = s.sample((200, 1000))
    assert draws.shape == (200, 1000) and draws.dtype == np.int64
    freq = np.bincount(draws.ravel(), minlength=5) / draws.size
    np.testing.assert_allclose(freq, s.probs, atol=3e-3)
    assert freq[4] == 0  # a zero-count word is never drawn


def test_seeded() -> None:
    a = NegativeSampler(np.array([3, 2, 1]), rng=7).sample(50)
    b = NegativeSampler(np.array([3, 2, 1]), rng=7).sample(50)
    assert np.array_equal(a, b)


def test_sample_excluding_targets() -> None:
    s = NegativeSampler(np.array([1000, 1, 1]), rng=0)
    targets = np.zeros(100, dtype=np.int64)
    negs = s.sample_excluding(targets, 5)
    assert negs.shape == (100, 5) and not np.any(negs == 0)
    with pytest.raises(ValueError, match="at least two"):
        NegativeSampler(np.array([5, 0])).sample_excluding(np.array([0]), 1)
