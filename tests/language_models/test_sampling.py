"""Sampling with temperature and top-k (topic ``language_models``): the reference's tempered
distribution against scipy's softmax and the grader's independent oracle, its draws against
that distribution (chi-square with a fixed seed), top-k support, greedy T = 0, seeds, and
bad arguments refused."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from scipy.stats import chisquare

from nlpdojo_course.language_models.sampling import exact_tempered
from nlpdojo_solutions.language_models.sampling import sample_next, tempered_probs

SCORES = np.random.default_rng(0).normal(0, 2, (6, 11))


@pytest.mark.parametrize(("temperature", "top_k"),
                         [(1.0, None), (0.3, None), (3.0, 4), (0.8, 1), (1e-3, None), (0.0, 3)])
def test_tempered_probs_equal_the_oracle(temperature, top_k):
    got = tempered_probs(SCORES, temperature, top_k)
    np.testing.assert_allclose(got, exact_tempered(SCORES, temperature, top_k), atol=1e-15)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)
    if top_k is None and temperature > 0:
        np.testing.assert_allclose(got, softmax(SCORES / temperature, axis=1), rtol=1e-12)


def test_top_k_keeps_ties_at_the_border_and_large_k_keeps_all():
    scores = np.array([[3.0, 1.0, 1.0, 0.0]])
    assert np.count_nonzero(tempered_probs(scores, 1.0, 2)) == 3  # both 1.0 kept
    np.testing.assert_allclose(tempered_probs(scores, 1.0, 99), softmax(scores, axis=1))


def test_draws_follow_the_tempered_distribution():
    scores = SCORES[0]
    for temperature, top_k in ((1.0, None), (0.5, 5)):
        draws = sample_next(np.tile(scores, (40000, 1)), 123, temperature, top_k)
        p = exact_tempered(scores[None], temperature, top_k)[0]
        observed = np.bincount(draws, minlength=len(p))
        assert observed[p == 0].sum() == 0
        keep = p > 0
        assert chisquare(observed[keep], p[keep] * len(draws)).pvalue > 1e-4


def test_greedy_top_k_and_seeds():
    assert np.array_equal(sample_next(SCORES, 0, 0.0), np.argmax(SCORES, axis=1))
    assert np.array_equal(sample_next(SCORES, 0, 1e-6), np.argmax(SCORES, axis=1))
    many = np.tile(SCORES, (500, 1))
    draws = sample_next(many, 1, 2.0, 2)
    top2 = np.argsort(-many, axis=1)[:, :2]
    assert np.all((draws[:, None] == top2).any(axis=1))
    assert np.array_equal(sample_next(many, 5), sample_next(many, np.random.default_rng(5)))
    assert not np.array_equal(sample_next(many, 5), sample_next(many, 6))
    assert sample_next(many, 5).dtype == np.int64


def test_zero_probability_words_are_never_drawn():
    with np.errstate(divide="ignore"):
        scores = np.log(np.array([[0.0, 0.5, 0.0, 0.5]] * 2000))  # log 0 = -inf
    draws = sample_next(scores, 3)
    assert set(draws.tolist()) <= {1, 3}


@pytest.mark.parametrize(("temperature", "top_k", "match"),
                         [(-1.0, None, "temperature"), (1.0, 0, "top_k")])
def test_bad_arguments_are_refused(temperature, top_k, match):
    with pytest.raises(ValueError, match=match):
        tempered_probs(SCORES, temperature, top_k)
