"""Frequent-word subsampling: word2vec's keep probability, seeded draws."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.text.subsample import keep_probability, subsample


def test_word2vec_formula() -> None:
    counts = np.array([900, 90, 10, 0])
    t = 1e-2
    f = counts[:3] / 1000
    expected = np.minimum((np.sqrt(f / t) + 1) * t / f, 1)
    p = keep_probability(counts, t)
    np.testing.assert_allclose(p[:3], expected)
    assert p[3] == 1.0 and p[0] < p[1] <= p[2] == 1.0


def test_paper_formula_and_disabled() -> None:
    counts = np.array([900, 100])
    np.testing.assert_allclose(keep_probability(counts, 1e-2, formula="paper"),
                               [np.sqrt(1e-2 / 0.9), np.sqrt(1e-2 / 0.1)])
    assert np.all(keep_probability(counts, 0) == 1)
    with pytest.raises(ValueError, match="formula"):
        keep_probability(counts, 1e-3, formula="other")  # type: ignore[arg-type]


def test_matches_gensim_sample_int() -> None:
    """gensim stores round(p_keep * 2**32) per word (word2vec.py, ``sample_int``)."""
    counts = np.array([5000, 2000, 300, 20, 1])
    t = 1e-3
    total = counts.sum()
    threshold = t * total
    gensim = [min((np.sqrt(c / threshold) + 1) * (threshold / c), 1.0) for c in counts]
    np.testing.assert_allclose(keep_probability(counts, t), gensim)


def test_subsample_is_seeded_and_unbiased() -> None:
    counts = np.array([90_000, 10_000])
    ids = np.repeat([0, 1], counts)
    kept = subsample(ids, counts, 1e-2, rng=1)
    assert np.array_equal(kept, subsample(ids, counts, 1e-2, rng=1))
    p = keep_probability(counts, 1e-2)
    assert abs((kept == 0).sum() / 90_000 - p[0]) < 0.01
    assert (kept == 1).sum() / 10_000 == pytest.approx(p[1], abs=0.02)
