"""The judges' statistics (``authoring/statistics.py``) against ``scipy.stats``, the oracle they
replace in the grading process, on the same inputs; and the Xavier judge that uses one."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import stats

from nlpdojo_autograder.authoring.statistics import (
    _KS_SMIRNOV_TAIL,
    average_ranks,
    chi2_upper_quantile,
    ks_uniform_pvalue,
    spearman_rho,
)


@pytest.mark.parametrize("shape", [(1,), (7,), (5, 40), (3, 2, 9)])
def test_average_ranks_are_scipys_rankdata_ties_included(shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.integers(0, 6, size=shape).astype(float)  # many ties
    np.testing.assert_array_equal(average_ranks(x), stats.rankdata(x, axis=-1))
    y = rng.standard_normal(shape)  # none
    np.testing.assert_array_equal(average_ranks(y), stats.rankdata(y, axis=-1))
    assert average_ranks(np.empty((2, 0))).shape == (2, 0)


def test_spearman_rho_is_scipys_bit_for_bit():
    rng = np.random.default_rng(3)
    for n in (2, 3, 50, 353):
        x, y = rng.standard_normal(n), rng.integers(0, 10, n).astype(float)
        for a, b in ((x, y), (x, x), (x, -x), (y, x)):
            with warnings.catch_warnings():  # SciPy warns where a sample is constant
                warnings.simplefilter("ignore")
                expected = stats.spearmanr(a, b).statistic
            np.testing.assert_equal(spearman_rho(a, b), expected)  # NaN equals NaN here


@pytest.mark.parametrize("x, y", [([1.0], [2.0]), ([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]),
                                  ([1.0, 2.0, 3.0], [4.0, 4.0, 4.0]),
                                  ([1.0, np.nan, 3.0], [1.0, 2.0, 3.0])])
def test_spearman_rho_is_nan_where_scipy_says_it_is_undefined(x, y):
    with warnings.catch_warnings():  # SciPy warns of a constant input
        warnings.simplefilter("ignore")
        expected = stats.spearmanr(x, y).statistic
    assert math.isnan(expected) and math.isnan(spearman_rho(x, y))


def test_spearman_rho_refuses_samples_of_two_sizes():
    with pytest.raises(ValueError, match="samples of 3 and 2 values"):
        spearman_rho([1.0, 2.0, 3.0], [1.0, 2.0])


@pytest.mark.parametrize("dof", [1, 2, 9, 49, 999])
@pytest.mark.parametrize("alpha", [1e-9, 1e-3, 0.05, 0.5])
def test_the_chi_square_quantile_is_scipys_bit_for_bit(dof, alpha):
    assert chi2_upper_quantile(alpha, dof) == stats.chi2.isf(alpha, dof)


def _samples():
    """Matrices of the Xavier check's sizes (10,000 to 225,000 entries), scaled to ±1: right
    draws, an attacker's three-point distribution with the uniform's bound and variance, a
    normal, a uniform a little too narrow or shifted."""
    rng = np.random.default_rng(11)
    right = [rng.uniform(-1.0, 1.0, size) for size in (10_000, 23_456, 150_000)]
    three = rng.choice([-1.0, 0.0, 1.0], p=[1 / 6, 2 / 3, 1 / 6], size=20_000)  # variance 1/3
    normal = np.clip(rng.standard_normal(20_000) / math.sqrt(3), -1.0, 1.0)
    narrow = rng.uniform(-0.97, 0.97, 40_000)
    shifted = rng.uniform(-0.99, 1.0, 200_000)
    u = rng.uniform(-1.0, 1.0, 30_000)
    barely = np.sign(u) * np.abs(u) ** 1.02  # a little too much mass near 0
    return {"right": right, "three-point": [three], "normal": [normal], "narrow": [narrow],
            "shifted": [shifted], "barely": [barely]}


def test_the_ks_p_value_is_scipys_where_it_can_fail_and_never_below_it():
    """Where n·D² reaches the switch (p below about 0.025: every p a verdict turns on, the
    Xavier check failing below 1e-9) equal to SciPy's exact two-sided p-value; below the
    switch, at least SciPy's (an upper bound, reported only)."""
    seen_low = seen_high = 0
    for name, samples in _samples().items():
        for x in samples:
            ours = ks_uniform_pvalue(x, -1.0, 1.0)
            theirs = stats.kstest(x, "uniform", args=(-1.0, 2.0))
            if x.size * theirs.statistic ** 2 >= _KS_SMIRNOV_TAIL:
                seen_low += 1
                assert theirs.pvalue < 0.025, name
                assert ours == pytest.approx(theirs.pvalue, rel=1e-12, abs=0.0), name
            else:
                seen_high += 1
                assert ours >= theirs.pvalue > 0.02, name
            assert (ours < 1e-9) == (theirs.pvalue < 1e-9), name
    assert seen_low >= 3 and seen_high >= 3  # both sides of the switch were exercised


def test_the_ks_p_value_of_degenerate_samples():
    assert ks_uniform_pvalue(np.full(500, 5.0), -1.0, 1.0) == 0.0  # all past the bound: D = 1
    assert ks_uniform_pvalue(np.zeros(10_000), -1.0, 1.0) == 0.0  # n D^2 = 2,500
    assert math.isnan(ks_uniform_pvalue(np.array([0.1, np.nan]), -1.0, 1.0))
    assert math.isnan(ks_uniform_pvalue(np.array([]), -1.0, 1.0))


def test_the_grading_process_does_not_import_scipy_stats_for_them():
    """The reason for the module: ``scipy.stats`` (most of a second to import) stays out."""
    code = ("import sys, numpy as np\n"
            "from nlpdojo_autograder.authoring import statistics as s\n"
            "s.spearman_rho([1., 2., 3.], [3., 1., 2.]); s.chi2_upper_quantile(1e-9, 9)\n"
            "s.ks_uniform_pvalue(np.linspace(-1, 1, 200), -1., 1.)\n"
            "import nlpdojo_course.word_vectors.metrics, nlpdojo_course.neural_networks.layers\n"
            "import nlpdojo_course.language_models.sampling\n"
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


# -- the Xavier judge ---------------------------------------------------------------------------

def _xavier_actual(second: np.ndarray) -> dict:
    rng = np.random.default_rng(0)
    fans = [(150, 160), (400, 350)]
    w = [rng.uniform(-1, 1, f) * math.sqrt(6 / sum(f)) for f in fans]
    return {"small": np.zeros((3, 7)), "w0": w[0], "fans0": np.array(fans[0]),
            "same_seed": w[0].copy(), "other_seed": w[0] + 1.0,
            "w1": second(w[1], math.sqrt(6 / sum(fans[1]))), "fans1": np.array(fans[1])}


def test_the_xavier_judge_passes_a_right_draw_and_refuses_nan_and_the_three_point_attack():
    from nlpdojo_course.neural_networks.layers import _xavier_judge

    assert _xavier_judge(_xavier_actual(lambda w, b: w), None).passed
    with_nan = _xavier_actual(lambda w, b: np.where(np.arange(w.size).reshape(w.shape) == 7,
                                                   np.nan, w))
    verdict = _xavier_judge(with_nan, None)
    assert not verdict.passed and "1 entries that are NaN or infinite" in verdict.message
    rng = np.random.default_rng(5)
    # the uniform's bound, mean and variance b^2/3, but three points: only the KS test sees it
    three = _xavier_actual(lambda w, b: b * rng.choice([-1.0, 0.0, 1.0], p=[1 / 6, 2 / 3, 1 / 6],
                                                        size=w.shape))
    verdict = _xavier_judge(three, None)
    assert not verdict.passed and "not uniform on [-b, b]" in verdict.message



def test_the_xavier_judge_refuses_a_bound_a_little_below_b_and_passes_right_draws():
    """A bound from fan_in + fan_out + 1 (0.08 % below b at 400 x 350) kept the point while the
    largest |w| was held to 0.98 b (a student trial); the floor is b·(1 - 20/N), which a right
    draw of N entries falls below with probability e^-20."""
    from nlpdojo_course.neural_networks.layers import _xavier_judge

    rng = np.random.default_rng(11)
    plus_one = _xavier_actual(lambda w, b: w * math.sqrt(sum((400, 350)) / (400 + 350 + 1)))
    verdict = _xavier_judge(plus_one, None)
    assert not verdict.passed, verdict.message
    assert "below b = sqrt(6 / (fan_in + fan_out))" in verdict.message
    assert "exactly fan_in + fan_out" in verdict.message
    for _ in range(5):  # right draws of the larger size, each with its own largest entry
        right = _xavier_actual(lambda w, b: b * rng.uniform(-1, 1, w.shape))
        assert _xavier_judge(right, None).passed
    # the floor itself on many right draws, by their largest |w| alone (the maximum of N
    # uniforms on [0, 1] is Beta(N, 1)): 100,000 gradings at each size, none below it
    from nlpdojo_course.neural_networks.layers import TOP_GAP, XAVIER_SIZES

    for (fan_in, _), (fan_out, _) in XAVIER_SIZES:  # the smallest matrix of each range
        n = fan_in * fan_out
        assert np.all(rng.beta(n, 1, 100_000) >= 1 - TOP_GAP / n)
