"""The statistics the course's judges use, on NumPy and ``scipy.special`` only.

``scipy.stats`` costs about 0.9 CPU-s to import (it loads most of SciPy; Intel Xeon,
2026-12-06), and every grading process of ``neural_networks``, ``language_models`` and
``word_vectors`` imported it for one function each; a cohort paid it again in every child.
``scipy.special``, which holds the kernels ``scipy.stats`` calls for these distributions,
costs a third of that: a ``neural_networks`` grading (7.4-7.9 CPU-s) saves about 0.5. Each
function here computes what its ``scipy.stats`` counterpart computes, by the same kernel
where there is one (``tests/grading/test_statistics.py`` compares them on the same inputs):

* :func:`average_ranks`: ``scipy.stats.rankdata(x, method="average", axis=-1)``;
* :func:`spearman_rho`: ``scipy.stats.spearmanr(x, y).statistic`` (Spearman 1904);
* :func:`chi2_upper_quantile`: ``scipy.stats.chi2.isf(alpha, dof)`` (``scipy.special.chdtri``);
* :func:`ks_uniform_pvalue`: ``scipy.stats.kstest(x, "uniform", args=(low, high - low))``'s
  two-sided p-value (Kolmogorov 1933, Smirnov 1948) wherever it is below 0.02 on more than
  140 values, where SciPy's exact method itself computes twice the one-sided Smirnov tail
  (``scipy.special.smirnov``; Simard and L'Ecuyer 2011); elsewhere twice the one-sided tail
  is an upper bound of it, there only to be reported (no verdict turns on a p-value above
  0.02).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["average_ranks", "chi2_upper_quantile", "ks_uniform_pvalue", "spearman_rho"]

#: at n·D² at least this, SciPy's two-sided Kolmogorov-Smirnov tail is 0 (below double
#: precision's smallest normal number), and at least 2.2 it is 2·smirnov(n, D) exactly
#: (``scipy.stats._ksstats._kolmogn``)
_KS_ZERO_TAIL, _KS_SMIRNOV_TAIL = 370.0, 2.2


def average_ranks(values: np.ndarray) -> np.ndarray:
    """The ranks 1..n of ``values`` along the last axis, ties given the mean of the ranks
    they share (float64, same shape): ``scipy.stats.rankdata(values, axis=-1)``."""
    x = np.asarray(values, dtype=np.float64)  # (..., n)
    n = x.shape[-1]
    if n == 0:
        return np.empty(x.shape)
    order = np.argsort(x, axis=-1, kind="stable")  # (..., n)
    ordered = np.take_along_axis(x, order, axis=-1)
    position = np.broadcast_to(np.arange(n), x.shape)
    starts_tie = np.ones(x.shape, dtype=bool)
    starts_tie[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    ends_tie = np.ones(x.shape, dtype=bool)
    ends_tie[..., :-1] = starts_tie[..., 1:]
    # each sorted position's tie: from the last start at or before it to the first end after
    first = np.maximum.accumulate(np.where(starts_tie, position, 0), axis=-1)
    last = np.flip(np.minimum.accumulate(
        np.flip(np.where(ends_tie, position, n - 1), axis=-1), axis=-1), axis=-1)
    ranks = np.empty(x.shape)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=-1)
    return ranks


def spearman_rho(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of two samples (n,): Pearson's r of their average ranks;
    NaN where it is not defined (fewer than two pairs, a constant sample, a NaN), as
    ``scipy.stats.spearmanr(x, y).statistic`` gives."""
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"spearman_rho: samples of {x.size} and {y.size} values")
    if x.size <= 1 or (x == x[0]).all() or (y == y[0]).all() \
            or np.isnan(x).any() or np.isnan(y).any():
        return float("nan")
    ranked = np.column_stack((average_ranks(x), average_ranks(y)))  # (n, 2)
    return float(np.corrcoef(ranked, rowvar=False)[1, 0])


def chi2_upper_quantile(alpha: float, dof: int) -> float:
    """The x with P(X > x) = ``alpha`` for X chi-square with ``dof`` degrees of freedom:
    ``scipy.stats.chi2.isf(alpha, dof)``, which is this kernel."""
    from scipy.special import chdtri  # imported on use: few checks need it

    return float(chdtri(dof, alpha))


def ks_uniform_pvalue(sample: np.ndarray, low: float, high: float) -> float:
    """The two-sided Kolmogorov-Smirnov p-value of ``sample`` against U[low, high]: SciPy's
    where it is below 0.02 on more than 140 values (n·D² ≥ 2.2, the module's docstring), an
    upper bound of it elsewhere; NaN for an empty sample or one that holds NaN."""
    from scipy.special import smirnov  # imported on use: few checks need it

    x = np.sort(np.asarray(sample, dtype=np.float64).ravel())  # (n,)
    n = x.size
    if n == 0:
        return float("nan")
    cdf = np.clip((x - low) / (high - low), 0.0, 1.0)  # (n,) the uniform's CDF at each point
    above = np.max(np.arange(1, n + 1) / n - cdf)  # D+: the empirical CDF above
    below = np.max(cdf - np.arange(n) / n)  # D-: below
    d = float(max(above, below))  # NaN where the sample holds one
    if math.isnan(d):
        return d
    if d >= 1.0 or n * d * d >= _KS_ZERO_TAIL:
        return 0.0
    return float(min(1.0, 2.0 * smirnov(n, d)))
